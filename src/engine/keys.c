/*
 * keys.c: drawing shared KEKs and distributing them in glKey messages
 * (RFC 5275 3.1.13 and 5); signing the engine's messages.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "engine/engine_local.h"

/* RecipientInfos ::= SET SIZE (1..MAX) OF RecipientInfo, kept as ANY: the
 * form SKD_GL_KEY.glkWrapped holds. */
DECLARE_ASN1_ITEM(ENG_RI_SET)
ASN1_ITEM_TEMPLATE(ENG_RI_SET) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_OF, 0, RecipientInfos, ASN1_ANY)
ASN1_ITEM_TEMPLATE_END(ENG_RI_SET)

ASN1_GENERALIZEDTIME *
eng_gtime(time_t t)
{
	/* GeneralizedTime with seconds, no fractions (RFC 5275 3.1.13). */
	return ASN1_GENERALIZEDTIME_set(NULL, t);
}

/* The last second of t's UTC calendar month (RFC 5275 3.1.1, duration 0). */
time_t
eng_month_end(time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return t;
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mon++;
	if (tm.tm_mon == 12) {
		tm.tm_mon = 0;
		tm.tm_year++;
	}
	return timegm(&tm) - 1;
}

static int
wrap_nid_for_len(size_t len)
{
	switch (len) {
	case 16:
		return NID_id_aes128_wrap;
	case 24:
		return NID_id_aes192_wrap;
	case 32:
		return NID_id_aes256_wrap;
	}
	return NID_undef;
}

static char *
hex(const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s;
	size_t i;

	if ((s = malloc(2 * n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

static int
unhex(unsigned char *out, size_t cap, size_t *out_len, const char *s)
{
	size_t n = strlen(s), i;

	if (n % 2 != 0 || n / 2 > cap)
		return 0;
	for (i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return 0;
		out[i] = (unsigned char)v;
	}
	*out_len = n / 2;
	return 1;
}

/* Recipients per glKey message (RFC 5275 3.2.3: one when
 * recipientsNotMutuallyAware). */
static size_t
shard_size(struct eng *e, const struct eng_gl *g)
{
	return g->not_aware ? 1 : (e->cfg->shard_size > 0 ?
	    e->cfg->shard_size : SKD_ENGINE_DEFAULT_SHARD);
}

/*
 * One glKey message (RFC 5275 5.1 1): SignedData(PKIData(controlSequence
 * glKey, transactionId)) signed with the GL's certificate, the KEK wrapped for the n
 * recipient certificates (for the GLA alone when n is 0).
 */
static int
glkey_message(struct eng *e, struct eng_gl *g, const unsigned char *kek,
    size_t kek_len, const unsigned char *kid, size_t kid_len, time_t nb,
    time_t na, const struct eng_person *const *to, size_t n,
    const struct skd_ri_recipient *kekri, unsigned char **out,
    size_t *out_len)
{
	struct skd_ri_recipient *ri = NULL;
	struct skd_cmc_body *b = NULL;
	SKD_GL_KEY *gk = NULL;
	ASN1_INTEGER *tid = NULL;
	STACK_OF(ASN1_TYPE) *set = NULL;
	unsigned char *ri_der = NULL;
	size_t ri_len = 0, i;
	int ok = 0;

	if ((ri = calloc(n > 0 ? n : 1, sizeof(*ri))) == NULL)
		goto err;
	if (kekri != NULL) {
		/* RFC 5275 5: one kekri under the previous KEK serves every
		 * recipient of this message. */
		ri[0] = *kekri;
		n = 1;
	} else {
		if (n == 0)
			eng_recipient_for(e, e->cfg->gla_cert, NULL, &ri[0]);
		for (i = 0; i < n; i++) {
			if (!eng_person_recipient(e, to[i], &ri[i]))
				goto err;
		}
	}
	if (!skd_ri_build_set(&ri_der, &ri_len, kek, kek_len, ri,
	    n > 0 ? n : 1))
		goto err;
	/* Our own encoder's output, not input: decoded as it is, without
	 * skd_der_decode's strict re-encoding (a second encoding of every
	 * RecipientInfo of the shard). */
	{
		const unsigned char *p = ri_der;

		set = (STACK_OF(ASN1_TYPE) *)ASN1_item_d2i(NULL, &p,
		    (long)ri_len, ASN1_ITEM_rptr(ENG_RI_SET));
	}
	if (set == NULL || (gk = SKD_GL_KEY_new()) == NULL)
		goto err;
	GENERAL_NAME_free(gk->glName);
	if ((gk->glName = GENERAL_NAME_dup(g->gn)) == NULL ||
	    !ASN1_OCTET_STRING_set(gk->glIdentifier->keyIdentifier, kid,
	    (int)kid_len))
		goto err;
	sk_ASN1_TYPE_pop_free(gk->glkWrapped, ASN1_TYPE_free);
	gk->glkWrapped = set;
	set = NULL;
	if (!X509_ALGOR_set0(gk->glkAlgorithm,
	    OBJ_nid2obj(wrap_nid_for_len(kek_len)), V_ASN1_UNDEF, NULL))
		goto err;
	if (ASN1_GENERALIZEDTIME_set(gk->glkNotBefore, nb) == NULL ||
	    ASN1_GENERALIZEDTIME_set(gk->glkNotAfter, na) == NULL)
		goto err;
	/* 3.2.4.2: a transactionId naming the key, for the members'
	 * acknowledgements to echo (5.1 2.c). */
	if ((b = skd_cmc_body_new(0)) == NULL ||
	    skd_cmc_body_add_control(b, SKD_OID_GL_KEY, gk) !=
	    ENG_GLKEY_BPID || (tid = eng_glkey_tid(kid, kid_len)) == NULL ||
	    skd_cmc_body_add_transaction_id(b, tid) == 0)
		goto err;
	if (!eng_sign_body(e, g, 0, b, NULL, out, out_len))
		goto err;
	ok = 1;
 err:
	free(ri);
	OPENSSL_free(ri_der);
	sk_ASN1_TYPE_pop_free(set, ASN1_TYPE_free);
	SKD_GL_KEY_free(gk);
	ASN1_INTEGER_free(tid);
	skd_cmc_body_free(b);
	return ok;
}

/* Appends a glKeyPut op for one shard. */
static int
put_shard(struct eng *e, struct eng_gl *g, const struct eng_key *k,
    int shard, const unsigned char *msg, size_t msg_len,
    const struct eng_person *const *to, size_t n)
{
	SKD_ENG_OP *op;
	SKD_ENG_GLKEY *gk;
	size_t i;

	if ((op = eng_op_add(e->out, SKD_OP_GLKEY_PUT, g->name)) == NULL ||
	    (op->glKey = gk = SKD_ENG_GLKEY_new()) == NULL)
		return 0;
	if (!ASN1_STRING_set(gk->keyId, k->key_id, -1) ||
	    !ASN1_INTEGER_set(gk->shard, shard) ||
	    !ASN1_OCTET_STRING_set(gk->message, msg, (int)msg_len) ||
	    ASN1_GENERALIZEDTIME_set(gk->notBefore, k->not_before) == NULL ||
	    ASN1_GENERALIZEDTIME_set(gk->notAfter, k->not_after) == NULL ||
	    !ASN1_OCTET_STRING_set(gk->archivedKEK, k->archive,
	    (int)k->archive_len))
		return 0;
	for (i = 0; i < n; i++) {
		if (!eng_push_utf8(gk->recipients, to[i]->name))
			return 0;
		if (to[i]->dn != NULL && !eng_glkey_add_dn(g, gk, to[i]))
			return 0;
	}
	return 1;
}

/*
 * The shard number of k's next glKey entry.  A key drawn by this request
 * numbers its shards from zero.  Shards added to a key that exists (a new
 * member, a new certificate) start from a random number instead: two
 * workers adding members to one GL at once would otherwise both take
 * max + 1, and the entry (named by key id and shard) written second would
 * conflict with the first on every replay of its journal.  A number
 * already in the directory is skipped.  Shard numbers only name entries;
 * nothing orders them.
 */
static int
next_shard(struct eng *e, struct eng_gl *g, struct eng_key *k, int *out)
{
	unsigned char r[4];
	unsigned long v;
	int rc;

	if (!k->fresh && !k->shard_drawn) {
		if (!eng_rand(e, r, sizeof(r)))
			return 0;
		v = (unsigned long)r[0] << 24 | (unsigned long)r[1] << 16 |
		    (unsigned long)r[2] << 8 | r[3];
		/* [2^20, 2^31 - 2^20): above a fresh key's own numbers, with
		 * room for this request's */
		k->next_shard = (int)((1UL << 20) +
		    v % ((1UL << 31) - (1UL << 21)));
		k->shard_drawn = 1;
	}
	/* A fresh key's numbers are this request's alone; another key's are
	 * checked one by one (a base read each), not listed. */
	while (!k->fresh && (rc = e->st->shard_exists(e->st->ctx, g->name,
	    k->key_id, k->next_shard)) != 0) {
		if (rc < 0)
			return 0;
		k->next_shard++;
	}
	*out = k->next_shard++;
	return 1;
}

/* One shard's glKey message, built by a worker of eng_parallel. */
struct shard_job {
	struct eng			 *e;
	struct eng_gl			 *g;
	const unsigned char		 *kek, *kid;
	size_t				  kek_len, kid_len, per, n;
	time_t				  nb, na;
	const struct eng_person *const	 *to;
	const struct skd_ri_recipient	 *kekri;
	unsigned char			**msg;
	size_t				 *msg_len;
	/* NULL: shard s is to[s * per ..] up to per of the n; else a
	 * stream's slots, shard s to[s * per ..] of slot_n[s] (none when
	 * 0). */
	size_t				 *slot_n;
};

static int
shard_one(void *arg, size_t s)
{
	struct shard_job *j = arg;
	size_t i = s * j->per, m = j->n - i < j->per ? j->n - i : j->per;

	return glkey_message(j->e, j->g, j->kek, j->kek_len, j->kid,
	    j->kid_len, j->nb, j->na, j->to + i, m, j->kekri, &j->msg[s],
	    &j->msg_len[s]);
}

/* A distribution in three steps: shards_prepare (no work), shards_run
 * (wrap and sign on the threads; touches nothing of e but the
 * configuration; a stream makes its slots instead, stream_slot),
 * shards_put (the ops, in order, on the caller's thread). */
static int
shards_prepare(struct shard_job *j, struct eng *e, struct eng_gl *g,
    struct eng_key *k, const unsigned char *kek, size_t kek_len,
    const struct eng_person *const *to, size_t n,
    const struct skd_ri_recipient *kekri, unsigned char *kid,
    size_t kid_size, size_t *ns)
{
	size_t kid_len = 0;

	memset(j, 0, sizeof(*j));
	*ns = 0;
	if (!unhex(kid, kid_size, &kid_len, k->key_id))
		return 0;
	j->e = e;
	j->g = g;
	j->kek = kek;
	j->kek_len = kek_len;
	j->kid = kid;
	j->kid_len = kid_len;
	j->per = g->stream_per > 0 ? g->stream_per : shard_size(e, g);
	j->n = n;
	j->nb = k->not_before;
	j->na = k->not_after;
	j->to = to;
	j->kekri = kekri;
	if (n == 0)
		return 1;
	*ns = (n + j->per - 1) / j->per;
	return (j->msg = calloc(*ns, sizeof(*j->msg))) != NULL &&
	    (j->msg_len = calloc(*ns, sizeof(*j->msg_len))) != NULL;
}

static int
shards_run(struct shard_job *j, size_t ns)
{
	return eng_parallel(j->e, ns, shard_one, j);
}

/* The shards' ops in order; *out_sent (if not NULL) counts their
 * recipients. */
static int
shards_put(struct shard_job *j, size_t ns, struct eng_key *k,
    size_t *out_sent)
{
	size_t s, m, per = j->per, n = j->n;
	int shard;

	for (s = 0; s < ns; s++) {
		m = j->slot_n != NULL ? j->slot_n[s] :
		    n - s * per < per ? n - s * per : per;
		if (m == 0)
			continue;
		if (!next_shard(j->e, j->g, k, &shard) ||
		    !put_shard(j->e, j->g, k, shard, j->msg[s],
		    j->msg_len[s], j->to + s * per, m))
			return 0;
		/* put_shard copied it: let it go now (peak memory). */
		OPENSSL_free(j->msg[s]);
		j->msg[s] = NULL;
		if (out_sent != NULL)
			*out_sent += m;
	}
	return 1;
}

static void
shards_clear(struct shard_job *j, size_t ns)
{
	size_t s;

	if (j->msg != NULL) {
		for (s = 0; s < ns; s++)
			OPENSSL_free(j->msg[s]);
	}
	free(j->msg);
	free(j->msg_len);
	free(j->slot_n);
	j->msg = NULL;
	j->msg_len = NULL;
	j->slot_n = NULL;
}

/*
 * Wraps kek for the members in to[0..n) in shards (RFC 5275 3.2.3: one
 * per recipient when recipientsNotMutuallyAware) and puts them.  The
 * shards are wrapped and signed in parallel and put in order.
 */
static int
distribute(struct eng *e, struct eng_gl *g, struct eng_key *k,
    const unsigned char *kek, size_t kek_len,
    const struct eng_person *const *to, size_t n,
    const struct skd_ri_recipient *kekri)
{
	struct shard_job j;
	unsigned char kid[64], *msg = NULL;
	size_t ns = 0, msg_len = 0;
	int ok = 0, shard;

	if (!shards_prepare(&j, e, g, k, kek, kek_len, to, n, kekri, kid,
	    sizeof(kid), &ns))
		goto err;
	if (n == 0) {
		/* No member yet: one shard the GLA alone can open. */
		if (!glkey_message(e, g, kek, kek_len, kid, j.kid_len,
		    k->not_before, k->not_after, NULL, 0, NULL, &msg,
		    &msg_len) || !next_shard(e, g, k, &shard) ||
		    !put_shard(e, g, k, shard, msg, msg_len, NULL, 0))
			goto err;
		ok = 1;
		goto err;
	}
	ok = shards_run(&j, ns) && shards_put(&j, ns, k, NULL);
 err:
	OPENSSL_free(msg);
	shards_clear(&j, ns);
	return ok;
}

/* Decoding and path validation of one member (eng_parallel). */
struct check_job {
	struct eng		*e;
	const struct eng_person	*v;
	unsigned char		*valid;
};

static int
check_one(void *arg, size_t i)
{
	struct check_job *j = arg;

	j->valid[i] = (unsigned char)eng_valid_key(j->e,
	    (struct eng_person *)&j->v[i]);
	return 1;
}

/*
 * The members that can receive a key: those whose certificate still
 * verifies.  RFC 5275 5.1 1: for the others (expired, revoked since they
 * joined) the GLA asks for a new certificate with glProvideCert.
 */
static const struct eng_person **
recipients(struct eng *e, struct eng_gl *g, size_t *out_n)
{
	const struct eng_person **v;
	struct check_job j;
	size_t i;

	*out_n = 0;
	/* A rekey that is not streamed reads every member. */
	if (!eng_gl_load_members(e, g))
		return NULL;
	j.e = e;
	j.v = g->members;
	if ((j.valid = calloc(g->n_members + 1, 1)) == NULL)
		return NULL;
	if ((v = calloc(g->n_members + 1, sizeof(*v))) == NULL ||
	    !eng_parallel(e, g->n_members, check_one, &j))
		goto err;
	for (i = 0; i < g->n_members; i++) {
		if (j.valid[i]) {
			v[(*out_n)++] = &g->members[i];
			continue;
		}
		if (!eng_provide_cert(e, g, &g->members[i]))
			goto err;
	}
	free(j.valid);
	return v;
 err:
	free(j.valid);
	free(v);
	return NULL;
}

/*
 * The previous KEK of a GLA-controlled rollover (RFC 5275 5): the newest
 * outstanding key of the GL (latest notBefore, not expired), recovered from the GLA's archive, and
 * the glKey shards it went out in (to tell who holds it).
 */
struct prev_kek {
	unsigned char		*kek;		/* NULL: no kekri */
	size_t			 kek_len;
	char			*key_id;	/* hex, borrowed from g */
	unsigned char		 id[64];
	size_t			 id_len;
	char			**holders;	/* recipients, sorted */
	size_t			 n_holders, cap_holders;
};

static void
prev_clear(struct prev_kek *p)
{
	size_t i;

	skd_ri_free_key(p->kek, p->kek_len);
	for (i = 0; i < p->n_holders; i++)
		free(p->holders[i]);
	free(p->holders);
	memset(p, 0, sizeof(*p));
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* each_key_shard: gathers who the previous key went to. */
static int
prev_shard(void *arg, const struct skd_store_glkey *k)
{
	struct prev_kek *p = arg;
	size_t j;
	char **nv;

	for (j = 0; j < k->n_recipients; j++) {
		if (p->n_holders == p->cap_holders) {
			size_t cap = p->cap_holders ? 2 * p->cap_holders : 64;

			if ((nv = realloc(p->holders, cap * sizeof(*nv))) ==
			    NULL)
				return 0;
			p->holders = nv;
			p->cap_holders = cap;
		}
		if ((p->holders[p->n_holders] = strdup(k->recipients[j])) ==
		    NULL)
			return 0;
		p->n_holders++;
	}
	return 1;
}

/* Whether name was a recipient of a shard of p's key. */
static int
prev_holds(const struct prev_kek *p, const char *name)
{
	return p->n_holders > 0 && bsearch(&name, p->holders, p->n_holders,
	    sizeof(*p->holders), str_cmp) != NULL;
}

/* Whether every holder of the previous key is still a member (g holds
 * every member); -1 on error. */
static int
holders_all_members(const struct eng_gl *g, const struct prev_kek *p)
{
	const char **names;
	size_t i;
	int rc = 1;

	if ((names = calloc(g->n_members + 1, sizeof(*names))) == NULL)
		return -1;
	for (i = 0; i < g->n_members; i++)
		names[i] = g->members[i].name;
	qsort(names, g->n_members, sizeof(*names), str_cmp);
	for (i = 0; rc == 1 && i < p->n_holders; i++) {
		if (bsearch(&p->holders[i], names, g->n_members,
		    sizeof(*names), str_cmp) == NULL)
			rc = 0;
	}
	free(names);
	return rc;
}

/*
 * Fills *p for a rollover of keys kek_len bytes long.  Returns one, with
 * p->kek NULL when kekri must not be used, or zero on error.
 */
static int
prev_find(struct eng *e, struct eng_gl *g, size_t kek_len,
    struct prev_kek *p)
{
	struct eng_key *k = NULL;
	size_t i;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!eng_gl_load_keys(e, g) || !eng_gl_load_members(e, g))
		return 0;
	for (i = 0; i < g->n_keys; i++) {
		struct eng_key *c = &g->keys[i];

		if (c->not_after < e->now)
			continue;
		if (!eng_key_archive(e, g, c))
			return 0;
		if (c->archive == NULL)
			continue;
		if (k == NULL || c->not_before >= k->not_before)
			k = c;
	}
	if (k == NULL)
		return 1;
	p->key_id = k->key_id;
	if (!unhex(p->id, sizeof(p->id), &p->id_len, k->key_id) ||
	    p->id_len == 0)
		return 1;
	if (!e->st->each_key_shard(e->st->ctx, g->name, k->key_id,
	    prev_shard, p))
		goto err;
	qsort(p->holders, p->n_holders, sizeof(*p->holders), str_cmp);
	/*
	 * RFC 5275 5 and 8: a member removed since holds the previous KEK
	 * (and with it every later KEK of the chain), so the new KEK then
	 * goes by ktri/kari alone.
	 */
	if ((rc = holders_all_members(g, p)) < 0)
		goto err;
	if (rc == 0)
		goto none;
	if (!eng_open_archive(e->cfg, &p->kek, &p->kek_len, k->archive,
	    k->archive_len))
		goto err;
	/* RFC 5275 6.2: the wrapping key is at least as long as the KEK. */
	if (p->kek_len < kek_len)
		goto none;
	return 1;
 none:
	prev_clear(p);
	return 1;
 err:
	prev_clear(p);
	return 0;
}

/* The SKD_OP_KEY_STREAM op of a key whose distribution is streamed: the
 * KEK is journaled wrapped for the GLA (its archive), nothing else. */
static int
stream_op(struct eng *e, struct eng_gl *g, const struct eng_key *k)
{
	SKD_ENG_OP *op;
	SKD_ENG_GLKEY *gk;

	if ((op = eng_op_add(e->out, SKD_OP_KEY_STREAM, g->name)) == NULL ||
	    (op->glKey = gk = SKD_ENG_GLKEY_new()) == NULL)
		return 0;
	return ASN1_STRING_set(gk->keyId, k->key_id, -1) &&
	    ASN1_INTEGER_set(gk->shard, (long)shard_size(e, g)) &&
	    ASN1_OCTET_STRING_set(gk->message, (const unsigned char *)"", 0) &&
	    ASN1_GENERALIZEDTIME_set(gk->notBefore, k->not_before) != NULL &&
	    ASN1_GENERALIZEDTIME_set(gk->notAfter, k->not_after) != NULL &&
	    ASN1_OCTET_STRING_set(gk->archivedKEK, k->archive,
	    (int)k->archive_len);
}

static int
keys_new(struct eng *e, struct eng_gl *g, long count, int rollover)
{
	const struct eng_person **to = NULL, **by_kek = NULL, **by_cert;
	unsigned char kek[32], kid[ENG_KEY_ID_LEN];
	struct skd_ri_recipient ri, kekri;
	struct prev_kek prev;
	struct eng_key *k, *nv;
	size_t nto = 0, nkek = 0, ncert = 0, j;
	int kek_len = eng_alg_key_len(g->alg_nid), ok = 0;
	time_t start = e->now;
	long i;
	/* kekri under the previous KEK needs to know every holder of it:
	 * that rollover is not streamed. */
	int stream = e->cfg->stream_rekeys &&
	    !(rollover && e->cfg->kekri_rollover);

	memset(&prev, 0, sizeof(prev));
	if (kek_len == 0 || !eng_gl_load_keys(e, g))
		goto err;
	if (stream)
		to = calloc(1, sizeof(*to));
	else
		to = recipients(e, g, &nto);
	if (to == NULL)
		goto err;
	if ((by_kek = calloc(nto + 1, sizeof(*by_kek))) == NULL)
		goto err;
	by_cert = to;
	ncert = nto;
	/*
	 * RFC 5275 5: when the GLA controls the rekey it MAY use kekri under
	 * the previous KEK, for the members who hold it; the others (added
	 * since) get ktri/kari.  Every new key of this rollover is wrapped
	 * under the same previous key.
	 */
	if (rollover && e->cfg->kekri_rollover && nto > 0) {
		if (!prev_find(e, g, (size_t)kek_len, &prev))
			goto err;
		if (prev.kek != NULL) {
			ncert = 0;
			for (j = 0; j < nto; j++) {
				if (prev_holds(&prev, to[j]->name))
					by_kek[nkek++] = to[j];
				else
					to[ncert++] = to[j];
			}
			memset(&kekri, 0, sizeof(kekri));
			kekri.type = SKD_RI_KEKRI;
			kekri.kek = prev.kek;
			kekri.kek_len = prev.kek_len;
			kekri.kek_id = prev.id;
			kekri.kek_id_len = prev.id_len;
		}
	}
	for (i = 0; i < count; i++) {
		if ((nv = realloc(g->keys, (g->n_keys + 1) * sizeof(*nv))) ==
		    NULL)
			goto err;
		g->keys = nv;
		k = &nv[g->n_keys];
		memset(k, 0, sizeof(*k));
		/* RFC 5275 3.1.1: duration 0 is "until the end of the
		 * current calendar month", then whole months; else days. */
		k->not_before = start;
		if (g->duration == 0)
			k->not_after = eng_month_end(start);
		else
			k->not_after = start + g->duration * 86400 - 1;
		start = k->not_after + 1;
		/* RFC 5275 6.1: KEKs and key ids drawn at random. */
		if (!eng_rand(e, kek, (size_t)kek_len) ||
		    !eng_rand(e, kid, sizeof(kid)) ||
		    (k->key_id = hex(kid, sizeof(kid))) == NULL)
			goto err;
		/* A streamed key's shards are numbered by the stream; one
		 * sent by this request to a member it adds takes a number
		 * apart (next_shard). */
		k->fresh = !stream;
		g->n_keys++;
		/* The archive: the KEK wrapped for the GLA alone. */
		eng_recipient_for(e, e->cfg->gla_cert, NULL, &ri);
		if (!skd_ri_build_set(&k->archive, &k->archive_len, kek,
		    (size_t)kek_len, &ri, 1))
			goto err;
		if (stream) {
			/* Shard 0, the key's head (what the current-key and
			 * schedule searches find), is written with the
			 * outcome, for the GLA alone; the stream numbers
			 * the members' shards from 1. */
			k->fresh = 1;
			if (!distribute(e, g, k, kek, (size_t)kek_len, NULL,
			    0, NULL) || !stream_op(e, g, k))
				goto err;
			k->fresh = 0;
			continue;
		}
		if ((ncert > 0 || nkek == 0) &&
		    !distribute(e, g, k, kek, (size_t)kek_len, by_cert, ncert,
		    NULL))
			goto err;
		if (nkek > 0 && !distribute(e, g, k, kek, (size_t)kek_len,
		    by_kek, nkek, &kekri))
			goto err;
	}
	ok = 1;
 err:
	OPENSSL_cleanse(kek, sizeof(kek));
	prev_clear(&prev);
	free(by_kek);
	free(to);
	return ok;
}

int
eng_keys_new(struct eng *e, struct eng_gl *g, long count)
{
	return keys_new(e, g, count, 0);
}

int
eng_keys_rollover(struct eng *e, struct eng_gl *g, long count)
{
	return keys_new(e, g, count, 1);
}

int
eng_keys_for_member(struct eng *e, struct eng_gl *g,
    const struct eng_person *m)
{
	const struct eng_person *to[1];
	unsigned char *kek = NULL;
	size_t kek_len = 0, i;
	int ok = 0;

	if (eng_person_x509(m) == NULL)
		return 1;
	to[0] = m;
	if (!eng_gl_load_keys(e, g))
		return 0;
	for (i = 0; i < g->n_keys; i++) {
		struct eng_key *k = &g->keys[i];

		if (k->not_after < e->now)
			continue;
		if (!eng_key_archive(e, g, k))
			return 0;
		if (k->archive == NULL)
			continue;
		if (!eng_open_archive(e->cfg, &kek, &kek_len, k->archive,
		    k->archive_len))
			goto err;
		if (!distribute(e, g, k, kek, kek_len, to, 1, NULL))
			goto err;
		skd_ri_free_key(kek, kek_len);
		kek = NULL;
	}
	ok = 1;
 err:
	skd_ri_free_key(kek, kek_len);
	return ok;
}

/* ---- streamed distribution (skd_engine_stream) ---- */

/* Members who hold an entry of the key already, as 64-bit hashes of
 * their names (FNV-1a; a collision, about n^2 / 2^65, would skip one
 * member), and the highest stream shard number in the directory. */
struct covered {
	uint64_t	*v;
	size_t		 n, cap;
	int		 max_shard;
};

static uint64_t
name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
covered_shard(void *arg, const struct skd_store_glkey *k)
{
	struct covered *c = arg;
	uint64_t *nv;
	size_t j;

	/* Numbers from 2^20 up are those next_shard draws for members
	 * added while the key exists; the stream's own are below. */
	if (k->shard < (1 << 20) && k->shard > c->max_shard)
		c->max_shard = k->shard;
	for (j = 0; j < k->n_recipients; j++) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 256;

			if ((nv = realloc(c->v, cap * sizeof(*nv))) == NULL)
				return 0;
			c->v = nv;
			c->cap = cap;
		}
		c->v[c->n++] = name_hash(k->recipients[j]);
	}
	return 1;
}

static int
is_covered(const struct covered *c, const char *name)
{
	uint64_t h = name_hash(name);

	return c->n > 0 && bsearch(&h, c->v, c->n, sizeof(*c->v),
	    u64_cmp) != NULL;
}

/*
 * One page of members on its way: each shard's slot (per members of the
 * page, in order) checked (decoding and path validation, or the cache),
 * then wrapped and signed for those of its members found valid, by the
 * stream's threads, while the caller's thread writes the page before and
 * reads the next (the store is the caller's alone).  A slot is one task,
 * its check and its shard together: no thread waits for the whole page's
 * checks before it wraps, and a member found invalid only makes its own
 * slot's shard shorter.
 */
struct stream_job {
	struct eng		 *e;
	struct eng_person	 *p;		/* the page's members, owned */
	size_t			  np;
	unsigned char		 *valid;	/* check_one's verdicts */
	const struct eng_person	**to;		/* slot s's valid ones from
						   s * per, sj.slot_n[s] */
	size_t			  ns;
	struct shard_job	  sj;
	unsigned char		  kid[64];
	/* Slots handed out and slots made (the stream's lock). */
	size_t			  next, done;
	int			  ok;
};

/* Pages in flight at once when mutually aware: the next page's slots
 * start while the last slots of the one before still run, so that no
 * core waits at a page's end (docs/perf/history.md, round 14).  Not
 * mutually aware, a page is one entry a member, bound by the directory's
 * writes, and a second page in flight would only hold more memory: one.
 * The pages in flight share the stream's threads (as many as the engine's
 * configuration allows, started once for the stream), which take the
 * oldest page's slots first, so that no more threads decode at once than
 * one page would use (each grows a malloc arena of its own) and every one
 * of them works to the stream's last slot. */
#define STREAM_JOBS	2

struct stream {
	struct eng		 *e;
	struct eng_gl		 *g;
	struct eng_key		  k;
	unsigned char		 *kek;
	size_t			  kek_len;
	struct covered		  cov;
	size_t			  sent;
	/* The pages being checked, wrapped and signed, oldest first, and
	 * the threads taking their slots; job, njobs, each job's next,
	 * done and ok, and stop are under mu. */
	struct stream_job	 *job[STREAM_JOBS];
	size_t			  njobs, max_jobs;
	pthread_mutex_t		  mu;
	pthread_cond_t		  work, made;
	pthread_t		  th[ENG_MAX_THREADS];
	int			  nth, stop;
	int			  started;	/* mu, work and made made */
	/* The previous page's ops, handed to emit while the next page
	 * is made. */
	SKD_ENG_OUTCOME		 *pending;
	int			(*emit)(void *, const SKD_ENG_OUTCOME *);
	void			 *arg;
};

/* Hands the pending page to emit. */
static int
stream_emit_pending(struct stream *st)
{
	int ok = 1;

	if (st->pending != NULL && sk_SKD_ENG_OP_num(st->pending->ops) > 0)
		ok = st->emit(st->arg, st->pending);
	SKD_ENG_OUTCOME_free(st->pending);
	st->pending = NULL;
	return ok;
}

/* Makes the page's ops pending and starts the next page's outcome. */
static int
stream_hold(struct stream *st)
{
	if (sk_SKD_ENG_OP_num(st->e->out->ops) == 0)
		return 1;
	if (!stream_emit_pending(st))
		return 0;
	st->pending = st->e->out;
	st->e->out = eng_outcome_new("");
	return st->e->out != NULL;
}

static void
stream_job_free(struct stream_job *j)
{
	size_t i;

	if (j == NULL)
		return;
	shards_clear(&j->sj, j->ns);
	for (i = 0; i < j->np; i++)
		eng_person_clear(&j->p[i]);
	free(j->p);
	free(j->valid);
	free(j->to);
	free(j);
}

/* Slot s of the page (a stream's thread, or the caller's): its members
 * checked, then its shard wrapped and signed for those found valid.
 * Touches its slot only. */
static int
stream_slot(struct stream_job *j, size_t s)
{
	size_t per = j->sj.per, i, end, n = 0;
	const struct eng_person **to = j->to + s * per;

	end = j->np - s * per < per ? j->np : s * per + per;
	for (i = s * per; i < end; i++) {
		j->valid[i] = (unsigned char)eng_valid_key(j->e, &j->p[i]);
		if (j->valid[i])
			to[n++] = &j->p[i];
	}
	j->sj.slot_n[s] = n;
	if (n == 0)
		return 1;
	return glkey_message(j->e, j->sj.g, j->sj.kek, j->sj.kek_len,
	    j->sj.kid, j->sj.kid_len, j->sj.nb, j->sj.na, to, n, j->sj.kekri,
	    &j->sj.msg[s], &j->sj.msg_len[s]);
}

/* The next slot to make of the oldest page that has one (locked):
 * *out_j and *out_s; zero when none. */
static int
stream_take(struct stream *st, struct stream_job **out_j, size_t *out_s)
{
	size_t i;

	for (i = 0; i < st->njobs; i++) {
		if (st->job[i]->next < st->job[i]->ns) {
			*out_j = st->job[i];
			*out_s = st->job[i]->next++;
			return 1;
		}
	}
	return 0;
}

/* Makes slot s of j, unlocked, and counts it (called and returning
 * locked). */
static void
stream_make(struct stream *st, struct stream_job *j, size_t s)
{
	int ok;

	pthread_mutex_unlock(&st->mu);
	ok = stream_slot(j, s);
	ERR_clear_error();
	pthread_mutex_lock(&st->mu);
	if (!ok)
		j->ok = 0;
	if (++j->done == j->ns)
		pthread_cond_broadcast(&st->made);
}

/* One of the stream's threads: slots, oldest page first, until stop. */
static void *
stream_thread(void *arg)
{
	struct stream *st = arg;
	struct stream_job *j;
	size_t s;

	skd_thread_libctx_enter();
	pthread_mutex_lock(&st->mu);
	while (!st->stop) {
		if (stream_take(st, &j, &s))
			stream_make(st, j, s);
		else
			pthread_cond_wait(&st->work, &st->mu);
	}
	pthread_mutex_unlock(&st->mu);
	skd_thread_libctx_leave();
	return NULL;
}

/* The stream's threads, started at its first page; with none started,
 * the caller makes every slot itself (stream_finish_job). */
static int
stream_start(struct stream *st)
{
	int n;

	if (st->started)
		return 1;
	/* Once: sysconf reads /sys at every call. */
	n = eng_nthreads(st->e);
	/* Not mutually aware, one signed message and one directory add a
	 * member: the adds are the bound whenever the directory shares
	 * this machine's cores, and a maker on every core only takes the
	 * directory's writer's core from it while the page before is
	 * written (a 10,000-member first rekey 7.6 to 8.4 s with two
	 * threads, 6.2 to 6.9 s with one, on two cores shared with slapd:
	 * docs/performance.md).  So one thread fewer: the caller's thread
	 * makes the rest of a page when the page is not ready in time
	 * (stream_finish_job), so when making is the bound every core
	 * still makes. */
	if (st->g->stream_per == 1 && n > 1)
		n--;
	if (pthread_mutex_init(&st->mu, NULL) != 0)
		return 0;
	if (pthread_cond_init(&st->work, NULL) != 0) {
		pthread_mutex_destroy(&st->mu);
		return 0;
	}
	if (pthread_cond_init(&st->made, NULL) != 0) {
		pthread_cond_destroy(&st->work);
		pthread_mutex_destroy(&st->mu);
		return 0;
	}
	st->started = 1;
	if (n > ENG_MAX_THREADS)
		n = ENG_MAX_THREADS;
	while (st->nth < n &&
	    pthread_create(&st->th[st->nth], NULL, stream_thread, st) == 0)
		st->nth++;
	return 1;
}

/* Stops and joins the stream's threads (a slot being made is finished
 * first; those not taken stay so). */
static void
stream_stop(struct stream *st)
{
	int i;

	if (!st->started)
		return;
	pthread_mutex_lock(&st->mu);
	st->stop = 1;
	pthread_cond_broadcast(&st->work);
	pthread_mutex_unlock(&st->mu);
	for (i = 0; i < st->nth; i++)
		(void)pthread_join(st->th[i], NULL);
	st->nth = 0;
	pthread_cond_destroy(&st->made);
	pthread_cond_destroy(&st->work);
	pthread_mutex_destroy(&st->mu);
	st->started = 0;
}

/* Waits for the oldest page in flight (making its slots on the caller's
 * thread too while any is left), then on the caller's thread: RFC 5275
 * 5.1 1 for its members whose certificates no longer verify, its shards
 * put in order (slots whose members all failed have none), and its ops
 * made pending. */
static int
stream_finish_job(struct stream *st)
{
	struct stream_job *j;
	size_t i;
	int ok = 0;

	if (st->njobs == 0)
		return 1;
	pthread_mutex_lock(&st->mu);
	j = st->job[0];
	while (j->done < j->ns) {
		if (j->next < j->ns)
			stream_make(st, j, j->next++);
		else
			pthread_cond_wait(&st->made, &st->mu);
	}
	memmove(&st->job[0], &st->job[1], (STREAM_JOBS - 1) *
	    sizeof(st->job[0]));
	st->job[--st->njobs] = NULL;
	pthread_mutex_unlock(&st->mu);
	if (!j->ok)
		goto err;
	for (i = 0; i < j->np; i++) {
		if (!j->valid[i] && !eng_provide_cert(st->e, st->g, &j->p[i]))
			goto err;
	}
	if (!shards_put(&j->sj, j->ns, &st->k, &st->sent))
		goto err;
	ok = stream_hold(st);
 err:
	stream_job_free(j);
	return ok;
}

/* Every page still in flight, in order. */
static int
stream_finish_jobs(struct stream *st)
{
	while (st->njobs > 0) {
		if (!stream_finish_job(st))
			return 0;
	}
	return 1;
}

/* One page of members: those without the key get it (RFC 5275 5).  The
 * page is made by the stream's threads while the pages before are
 * finished and written and the next one read. */
static int
stream_page(void *arg, const struct skd_store_member *v, size_t n)
{
	struct stream *st = arg;
	struct eng *e = st->e;
	struct stream_job *j;
	size_t i;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return 0;
	j->e = e;
	for (i = 0; i < n; i++) {
		if (is_covered(&st->cov, v[i].name))
			continue;
		if (!eng_person_add(&j->p, &j->np, v[i].name, v[i].address,
		    v[i].cert, v[i].cert_len) ||
		    (v[i].dn != NULL && (j->p[j->np - 1].dn =
		    strdup(v[i].dn)) == NULL))
			goto err;
	}
	if (j->np == 0) {
		stream_job_free(j);
		return 1;
	}
	/* One slot, and one shard at most, for every per members of the
	 * page; a member found invalid only makes its slot's shorter. */
	if ((j->valid = calloc(j->np, 1)) == NULL ||
	    (j->to = calloc(j->np, sizeof(*j->to))) == NULL ||
	    !shards_prepare(&j->sj, e, st->g, &st->k, st->kek, st->kek_len,
	    j->to, j->np, NULL, j->kid, sizeof(j->kid), &j->ns) ||
	    (j->sj.slot_n = calloc(j->ns, sizeof(*j->sj.slot_n))) == NULL)
		goto err;
	/* The oldest page when as many are in flight as may be: its ops
	 * pending, then written while this one and the one before are
	 * made. */
	if (st->njobs == st->max_jobs && !stream_finish_job(st))
		goto err;
	if (!stream_start(st))
		goto err;
	j->ok = 1;
	pthread_mutex_lock(&st->mu);
	st->job[st->njobs++] = j;
	pthread_cond_broadcast(&st->work);
	pthread_mutex_unlock(&st->mu);
	return stream_emit_pending(st);
 err:
	stream_job_free(j);
	return 0;
}

int
skd_engine_stream(const struct skd_engine_config *cfg,
    const struct skd_engine_env *env, const struct skd_engine_state *state,
    const SKD_ENG_OP *op, int (*emit)(void *arg,
    const SKD_ENG_OUTCOME *page), void *arg)
{
	struct eng e;
	struct stream st;
	GENERAL_NAME *gn = NULL;
	char *gl = NULL;
	const SKD_ENG_GLKEY *gk = op->glKey;
	struct tm tm;
	size_t page, per;
	int ok = 0;

	memset(&e, 0, sizeof(e));
	memset(&st, 0, sizeof(st));
	st.cov.max_shard = -1;
	e.cfg = cfg;
	e.env = env;
	e.st = state;
	e.now = env->now;
	if (skd_engine_op_type(op) != SKD_OP_KEY_STREAM || gk == NULL ||
	    !skd_asn1_init() || (e.out = eng_outcome_new("")) == NULL ||
	    (gl = eng_str(op->glName)) == NULL ||
	    (gn = skd_gname_from_text(gl)) == NULL ||
	    (st.k.key_id = eng_str(gk->keyId)) == NULL)
		goto err;
	if (!eng_gl_get(&e, &st.g, gn))
		goto err;
	if (!st.g->exists || st.g->deleted) {
		ok = 1;		/* nobody to send it to any more */
		goto err;
	}
	per = (size_t)ASN1_INTEGER_get(gk->shard);
	if (per < 1 || per > 100000)
		goto err;
	st.g->stream_per = per;
	st.max_jobs = per > 1 ? STREAM_JOBS : 1;
	if ((int)st.max_jobs > eng_nthreads(&e))
		st.max_jobs = (size_t)eng_nthreads(&e);
	if (!ASN1_TIME_to_tm(gk->notBefore, &tm))
		goto err;
	st.k.not_before = timegm(&tm);
	if (!ASN1_TIME_to_tm(gk->notAfter, &tm))
		goto err;
	st.k.not_after = timegm(&tm);
	st.k.archive = (unsigned char *)ASN1_STRING_get0_data(
	    gk->archivedKEK);
	st.k.archive_len = (size_t)ASN1_STRING_length(gk->archivedKEK);
	/* The journaled KEK, never a new one. */
	if (!eng_open_archive(cfg, &st.kek, &st.kek_len, st.k.archive,
	    st.k.archive_len))
		goto err;
	/* What earlier attempts (or this request's adds) sent. */
	if (!state->each_key_shard(state->ctx, gl, st.k.key_id,
	    covered_shard, &st.cov))
		goto err;
	if (st.cov.n > 0)	/* qsort's array may not be NULL */
		qsort(st.cov.v, st.cov.n, sizeof(*st.cov.v), u64_cmp);
	st.k.fresh = 1;		/* numbers from max + 1, unchecked */
	st.k.next_shard = st.cov.max_shard + 1;
	st.e = &e;
	st.emit = emit;
	st.arg = arg;
	page = cfg->stream_page > 0 ? cfg->stream_page :
	    SKD_ENGINE_DEFAULT_STREAM_PAGE;
	page = (page + per - 1) / per * per;
	if (!state->walk_members(state->ctx, gl, SKD_STORE_MEMBER, page,
	    stream_page, &st) || !stream_finish_jobs(&st) ||
	    !stream_emit_pending(&st))
		goto err;
	/* Nobody could take it, and no attempt wrote a shard: the key is
	 * still kept, as one shard for the GLA alone. */
	if (st.sent == 0 && st.cov.max_shard < 0 && st.cov.n == 0 &&
	    !distribute(&e, st.g, &st.k, st.kek, st.kek_len, NULL, 0, NULL))
		goto err;
	if (!stream_hold(&st) || !stream_emit_pending(&st))
		goto err;
	ok = 1;
 err:
	{
		size_t i;

		/* The threads stopped; then the pages still in flight after
		 * a failure. */
		stream_stop(&st);
		for (i = 0; i < st.njobs; i++)
			stream_job_free(st.job[i]);
	}
	SKD_ENG_OUTCOME_free(st.pending);
	st.k.archive = NULL;
	skd_ri_free_key(st.kek, st.kek_len);
	free(st.cov.v);
	OPENSSL_free(st.k.key_id);
	OPENSSL_free(gl);
	GENERAL_NAME_free(gn);
	SKD_ENG_OUTCOME_free(e.out);
	{
		size_t i;

		for (i = 0; i < e.n_gls; i++)
			eng_gl_free(e.gls[i]);
		free(e.gls);
	}
	ERR_clear_error();
	return ok;
}
