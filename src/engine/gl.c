/*
 * gl.c: the engine's working copy of a GL during one request, loaded
 * through struct skd_engine_state and written back as outcome operations;
 * the per-GL GLA certificate (RFC 5275 3.2.6); certificate checks.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "engine/engine_local.h"
#include "mail/skd_mail.h"

int
eng_rand(struct eng *e, unsigned char *buf, size_t len)
{
	if (e->env->rand_bytes != NULL)
		return e->env->rand_bytes(e->env->arg, buf, len);
	return RAND_priv_bytes(buf, (int)len) == 1;
}

int
eng_new_id(struct eng *e, char out[SKD_STORE_ID_LEN])
{
	if (e->env->new_id != NULL)
		return e->env->new_id(e->env->arg, out);
	skd_store_new_id(out);
	return 1;
}

void
eng_person_clear(struct eng_person *p)
{
	free(p->name);
	GENERAL_NAME_free(p->gn);
	free(p->address);
	free(p->dn);
	free(p->cert);
	X509_free(p->x509);
	eng_pubkey_free(p->pk);
	memset(p, 0, sizeof(*p));
}

static void
people_free(struct eng_person *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		eng_person_clear(&v[i]);
	free(v);
}

void
eng_gl_free(struct eng_gl *g)
{
	size_t i;

	if (g == NULL)
		return;
	free(g->name);
	GENERAL_NAME_free(g->gn);
	free(g->address);
	free(g->cert_der);
	X509_free(g->cert);
	people_free(g->members, g->n_members);
	people_free(g->owners, g->n_owners);
	for (i = 0; i < g->n_gone; i++)
		GENERAL_NAME_free(g->gone[i]);
	free(g->gone);
	for (i = 0; i < g->n_keys; i++) {
		free(g->keys[i].key_id);
		free(g->keys[i].archive);
	}
	free(g->keys);
	free(g);
}

static void *
xmemdup(const void *p, size_t n)
{
	void *q;

	if (p == NULL || n == 0 || (q = malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, n);
	return q;
}

int
eng_person_add(struct eng_person **v, size_t *n, const char *name,
    const char *address, const unsigned char *cert, size_t cert_len)
{
	struct eng_person *nv, *p;

	if ((nv = realloc(*v, (*n + 1) * sizeof(**v))) == NULL)
		return 0;
	*v = nv;
	p = &nv[*n];
	memset(p, 0, sizeof(*p));
	if ((p->name = strdup(name)) == NULL ||
	    (p->gn = skd_gname_from_text(name)) == NULL ||
	    (address != NULL && (p->address = strdup(address)) == NULL))
		goto err;
	if (cert != NULL && cert_len > 0) {
		if ((p->cert = xmemdup(cert, cert_len)) == NULL)
			goto err;
		p->cert_len = cert_len;
	}
	(*n)++;
	return 1;
 err:
	eng_person_clear(p);
	return 0;
}

/*
 * The certificate is decoded on first use, not when the GL is loaded: a
 * request that names one member should not decode every member's
 * certificate (OpenSSL 3.0 builds a decoder context per public key, the
 * worker's largest cost in docs/perf/history.md, issue 7).  x509 is a cache of
 * cert, so a const person may fill it.
 */
X509 *
eng_person_x509(const struct eng_person *cp)
{
	struct eng_person *p = (struct eng_person *)cp;
	const unsigned char *q;

	if (p->x509 != NULL || p->cert == NULL || p->cert_bad)
		return p->x509;
	q = p->cert;
	if ((p->x509 = skd_d2i_x509(&q, (long)p->cert_len)) == NULL)
		p->cert_bad = 1;
	ERR_clear_error();
	return p->x509;
}

void
eng_person_remove(struct eng_person *v, size_t *n, size_t idx)
{
	eng_person_clear(&v[idx]);
	memmove(&v[idx], &v[idx + 1], (*n - idx - 1) * sizeof(*v));
	(*n)--;
}

long
eng_find_person(const struct eng_person *v, size_t n, const GENERAL_NAME *gn)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i].gn != NULL && skd_gname_match(v[i].gn, gn))
			return (long)i;
	}
	return -1;
}

long
eng_find_owner_by_cert(const struct eng_gl *g, X509 *cert)
{
	size_t i;

	if (cert == NULL)
		return -1;
	for (i = 0; i < g->n_owners; i++) {
		if (g->owners[i].gn != NULL &&
		    skd_gname_match_cert(g->owners[i].gn, cert))
			return (long)i;
	}
	return -1;
}

/* text is an rfc822Name ("email:..."). */
static int
is_email(const char *text)
{
	GENERAL_NAME *gn;
	int yes;

	if (text == NULL || strncasecmp(text, "email:", 6) != 0)
		return 0;
	gn = skd_gname_from_text(text);
	yes = gn != NULL && gn->type == GEN_EMAIL;
	GENERAL_NAME_free(gn);
	ERR_clear_error();
	return yes;
}

/* p's certificate carries an rfc822Name subjectAltName that is one plain
 * mailbox: the last address mail out (src/worker/mailout.c) falls back
 * to, decided by the same function (skd_mail_cert_address) on the same
 * bytes, the DER the store holds for p, so that a member this counts as
 * reached by mail is one mail out can reach.  p->cert is that DER as read
 * (or as glUpdateCert wrote it): nothing is re-encoded per member. */
static int
cert_has_email(const struct eng_person *p)
{
	char *addr;
	int yes;

	if (p->cert == NULL || p->cert_len == 0)
		return 0;
	addr = skd_mail_cert_address(p->cert, p->cert_len);
	ERR_clear_error();
	yes = addr != NULL;
	free(addr);
	return yes;
}

int
eng_glkey_add_dn(const struct eng_gl *g, SKD_ENG_GLKEY *gk,
    const struct eng_person *p)
{
	/* RFC 5275 7 makes mail a transport of glKey messages; the GL's
	 * policy "mail" makes it the only one for whoever mail reaches. */
	if (!g->mail_only || (!is_email(p->name) && !is_email(p->address) &&
	    !cert_has_email(p)))
		return eng_push_utf8(gk->recipientDNs, p->dn);
	if (gk->mailDNs == NULL &&
	    (gk->mailDNs = sk_ASN1_UTF8STRING_new_null()) == NULL)
		return 0;
	return eng_push_utf8(gk->mailDNs, p->dn);
}

static int
load_record(const struct skd_engine_config *cfg, struct eng_gl *g,
    const struct skd_store_gl *r)
{
	g->exists = 1;
	g->deleted = r->state != NULL && strcmp(r->state, "deleted") == 0;
	if (r->address != NULL && (g->address = strdup(r->address)) == NULL)
		return 0;
	g->admin = r->administration;
	g->rekey_by_glo = r->rekey_by_glo;
	g->not_aware = r->not_mutually_aware;
	g->duration = r->duration;
	g->gen = r->generation_counter;
	g->alg_nid = r->key_alg != NULL ? OBJ_txt2nid(r->key_alg) :
	    NID_id_aes128_wrap;
	g->revision = r->revision;
	/* The policy the GLA wrote (skd gla mail-policy), read when the key
	 * is sent: a change takes effect for the keys sent after it. */
	g->mail_only = r->mail_policy != NULL &&
	    strcasecmp(r->mail_policy, "mail") == 0;
	if (r->cert != NULL && r->cert_len > 0) {
		if ((g->cert_der = xmemdup(r->cert, r->cert_len)) == NULL)
			return 0;
		g->cert_len = r->cert_len;
		g->cert = eng_cert_decode(cfg, g->cert_der, g->cert_len);
		ERR_clear_error();
	}
	return 1;
}

int
eng_gl_get(struct eng *e, struct eng_gl **out, const GENERAL_NAME *gn)
{
	struct eng_gl *g = NULL, **nv;
	struct skd_store_gl *rec = NULL;
	size_t i;
	int rc;

	*out = NULL;
	for (i = 0; i < e->n_gls; i++) {
		if (skd_gname_match(e->gls[i]->gn, gn)) {
			*out = e->gls[i];
			return 1;
		}
	}
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->gn = GENERAL_NAME_dup(gn)) == NULL)
		goto err;
	{
		char *t = skd_gname_to_text(gn);

		if (t == NULL)
			goto err;
		g->name = strdup(t);
		OPENSSL_free(t);
		if (g->name == NULL)
			goto err;
	}
	if ((rc = e->st->read_gl(e->st->ctx, &rec, g->name)) < 0)
		goto err;
	if (rc == 1 && !load_record(e->cfg, g, rec))
		goto err;
	skd_store_gl_free(rec);
	rec = NULL;
	if ((nv = realloc(e->gls, (e->n_gls + 1) * sizeof(*nv))) == NULL)
		goto err;
	e->gls = nv;
	e->gls[e->n_gls++] = g;
	*out = g;
	return 1;
 err:
	skd_store_gl_free(rec);
	eng_gl_free(g);
	return 0;
}

/* Appends record r to v (a person of the working copy). */
static int
person_from_record(struct eng_person **v, size_t *n,
    const struct skd_store_member *r)
{
	if (!eng_person_add(v, n, r->name, r->address, r->cert, r->cert_len))
		return 0;
	if (r->dn != NULL && ((*v)[*n - 1].dn = strdup(r->dn)) == NULL)
		return 0;
	return 1;
}

/* Owners are few (every forward and notice goes to all of them): read
 * them all, once. */
int
eng_gl_load_owners(struct eng *e, struct eng_gl *g)
{
	struct skd_store_member *list = NULL;
	size_t cnt = 0, i;
	int ok = 0;

	if (g->loaded_owners || !g->exists || g->born) {
		g->loaded_owners = 1;
		return 1;
	}
	if (!e->st->list_members(e->st->ctx, &list, &cnt, g->name,
	    SKD_STORE_OWNER))
		return 0;
	for (i = 0; i < cnt; i++) {
		if (!person_from_record(&g->owners, &g->n_owners, &list[i]))
			goto err;
	}
	g->loaded_owners = 1;
	ok = 1;
 err:
	skd_store_member_list_free(list, cnt);
	return ok;
}

/* Whether this request removed the member named gn. */
static int
is_gone(const struct eng_gl *g, const GENERAL_NAME *gn)
{
	size_t i;

	for (i = 0; i < g->n_gone; i++) {
		if (skd_gname_match(g->gone[i], gn))
			return 1;
	}
	return 0;
}

int
eng_member_remove(struct eng_gl *g, size_t idx)
{
	GENERAL_NAME **nv;

	if ((nv = realloc(g->gone, (g->n_gone + 1) * sizeof(*nv))) == NULL)
		return 0;
	g->gone = nv;
	if ((nv[g->n_gone] = GENERAL_NAME_dup(g->members[idx].gn)) == NULL)
		return 0;
	g->n_gone++;
	eng_person_remove(g->members, &g->n_members, idx);
	return 1;
}

/*
 * Reads the member named text into the working copy when it is one and
 * match(person, arg) holds; *out_idx its index or -1.
 */
static int
member_read(struct eng *e, struct eng_gl *g, const char *text,
    int (*match)(const struct eng_person *, const void *), const void *arg,
    long *out_idx)
{
	struct skd_store_member *r = NULL;
	int rc, ok = 0;

	*out_idx = -1;
	if ((rc = e->st->read_member(e->st->ctx, &r, g->name,
	    SKD_STORE_MEMBER, text)) < 0)
		return 0;
	if (rc == 0)
		return 1;
	if (!person_from_record(&g->members, &g->n_members, r))
		goto err;
	/* The directory matches names without regard to case; the RFC
	 * 5280 rules of skd_gname_match decide. */
	if (g->members[g->n_members - 1].gn == NULL ||
	    is_gone(g, g->members[g->n_members - 1].gn) ||
	    !match(&g->members[g->n_members - 1], arg))
		eng_person_remove(g->members, &g->n_members, g->n_members - 1);
	else
		*out_idx = (long)g->n_members - 1;
	ok = 1;
 err:
	skd_store_member_free(r);
	return ok;
}

static int
match_name(const struct eng_person *p, const void *gn)
{
	return skd_gname_match(p->gn, gn);
}

static int
match_cert(const struct eng_person *p, const void *cert)
{
	return skd_gname_match_cert(p->gn, (X509 *)cert);
}

/* Whether the working copy can answer alone: every member is there, or
 * the GL has none in the directory. */
static int
members_known(const struct eng_gl *g)
{
	return g->all_members || !g->exists || g->born;
}

int
eng_member_find(struct eng *e, struct eng_gl *g, const GENERAL_NAME *gn,
    long *out_idx)
{
	char *t;
	int ok;

	if ((*out_idx = eng_find_person(g->members, g->n_members, gn)) >= 0 ||
	    members_known(g) || is_gone(g, gn))
		return 1;
	if ((t = skd_gname_to_text(gn)) == NULL)
		return 0;
	ok = member_read(e, g, t, match_name, gn, out_idx);
	OPENSSL_free(t);
	return ok;
}

/* The names a certificate can be a member under: its subject, its
 * subjectAltNames and legacy emailAddress attributes (RFC 5280 4.1.2.6),
 * as skd_gname_match_cert matches them. */
static GENERAL_NAMES *
cert_member_names(X509 *cert)
{
	GENERAL_NAMES *names;
	const X509_NAME *subj = X509_get_subject_name(cert);
	GENERAL_NAME *gn;
	ASN1_IA5STRING *v;
	const ASN1_STRING *d;
	int i = -1;

	if ((names = skd_gname_from_cert(cert)) == NULL)
		return NULL;
	while ((i = X509_NAME_get_index_by_NID(subj, NID_pkcs9_emailAddress,
	    i)) >= 0) {
		d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
		if ((v = ASN1_IA5STRING_new()) == NULL ||
		    !ASN1_STRING_set(v, ASN1_STRING_get0_data(d),
		    ASN1_STRING_length(d))) {
			ASN1_IA5STRING_free(v);
			goto err;
		}
		if ((gn = GENERAL_NAME_new()) == NULL) {
			ASN1_IA5STRING_free(v);
			goto err;
		}
		GENERAL_NAME_set0_value(gn, GEN_EMAIL, v);
		if (!sk_GENERAL_NAME_push(names, gn)) {
			GENERAL_NAME_free(gn);
			goto err;
		}
	}
	return names;
 err:
	GENERAL_NAMES_free(names);
	return NULL;
}

int
eng_member_by_cert(struct eng *e, struct eng_gl *g, X509 *cert,
    long *out_idx)
{
	GENERAL_NAMES *names;
	size_t i;
	int k, ok = 0;

	*out_idx = -1;
	if (cert == NULL)
		return 1;
	for (i = 0; i < g->n_members; i++) {
		if (g->members[i].gn != NULL &&
		    skd_gname_match_cert(g->members[i].gn, cert)) {
			*out_idx = (long)i;
			return 1;
		}
	}
	if (members_known(g))
		return 1;
	if ((names = cert_member_names(cert)) == NULL)
		return 0;
	for (k = 0; *out_idx < 0 && k < sk_GENERAL_NAME_num(names); k++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, k);
		char *t;

		if (is_gone(g, gn))
			continue;
		if ((t = skd_gname_to_text(gn)) == NULL)
			goto err;
		ok = member_read(e, g, t, match_cert, cert, out_idx);
		OPENSSL_free(t);
		if (!ok)
			goto err;
	}
	ok = 1;
 err:
	ERR_clear_error();
	GENERAL_NAMES_free(names);
	return ok;
}

/* eng_gl_load_members: one page of the directory's members, merged. */
struct merge {
	struct eng_gl	*g;
	size_t		 named;	/* members[0..named): read or added by the
				   request before the walk */
};

static int
merge_page(void *arg, const struct skd_store_member *v, size_t n)
{
	struct merge *m = arg;
	struct eng_gl *g = m->g;
	size_t i, j, have = m->named;

	for (i = 0; i < n; i++) {
		int dup = 0;

		for (j = 0; j < have && !dup; j++)
			dup = strcmp(g->members[j].name, v[i].name) == 0;
		if (dup)
			continue;	/* named by this request: ours stands */
		if (!person_from_record(&g->members, &g->n_members, &v[i]))
			return 0;
		if (g->members[g->n_members - 1].gn == NULL ||
		    is_gone(g, g->members[g->n_members - 1].gn))
			eng_person_remove(g->members, &g->n_members,
			    g->n_members - 1);
	}
	return 1;
}

int
eng_gl_load_members(struct eng *e, struct eng_gl *g)
{
	struct merge m = { g, g->n_members };

	if (members_known(g)) {
		g->all_members = 1;
		return 1;
	}
	/* The names the request read or added come first, and only they
	 * are compared with the directory's. */
	if (!e->st->walk_members(e->st->ctx, g->name, SKD_STORE_MEMBER, 500,
	    merge_page, &m))
		return 0;
	g->all_members = 1;
	return 1;
}

int
eng_gl_load_keys(struct eng *e, struct eng_gl *g)
{
	struct skd_store_glkey *keys = NULL;
	struct eng_key *k, *nv;
	size_t nk = 0, i;
	int ok = 0;

	if (g->loaded_keys || !g->exists || g->born) {
		g->loaded_keys = 1;
		return 1;
	}
	if (!e->st->current_keys(e->st->ctx, &keys, &nk, g->name, e->now))
		return 0;
	if ((nv = realloc(g->keys, (g->n_keys + nk + 1) * sizeof(*nv))) ==
	    NULL)
		goto err;
	g->keys = nv;
	for (i = 0; i < nk; i++) {
		k = &g->keys[g->n_keys];
		memset(k, 0, sizeof(*k));
		if ((k->key_id = strdup(keys[i].key_id)) == NULL)
			goto err;
		k->not_before = keys[i].not_before;
		k->not_after = keys[i].not_after;
		g->n_keys++;
		/* The state may hand the archive with the head (the store
		 * does): eng_key_archive then reads nothing. */
		if (keys[i].archived_kek_len > 0) {
			if ((k->archive = xmemdup(keys[i].archived_kek,
			    keys[i].archived_kek_len)) == NULL)
				goto err;
			k->archive_len = keys[i].archived_kek_len;
			k->archive_read = 1;
		}
	}
	g->loaded_keys = 1;
	ok = 1;
 err:
	skd_store_glkey_list_free(keys, nk);
	return ok;
}

int
eng_key_archive(struct eng *e, struct eng_gl *g, struct eng_key *k)
{
	struct skd_store_glkey *h = NULL;
	int rc;

	if (k->archive != NULL || k->archive_read || k->fresh)
		return 1;
	if ((rc = e->st->read_key_head(e->st->ctx, &h, g->name, k->key_id,
	    0)) < 0)
		return 0;
	k->archive_read = 1;
	if (rc == 1 && h->archived_kek_len > 0) {
		if ((k->archive = xmemdup(h->archived_kek,
		    h->archived_kek_len)) == NULL) {
			skd_store_glkey_free(h);
			return 0;
		}
		k->archive_len = h->archived_kek_len;
	}
	skd_store_glkey_free(h);
	return 1;
}

/* Fills an SkdGL from the working copy. */
static SKD_ENG_GL *
gl_record(const struct eng_gl *g, uint64_t revision)
{
	SKD_ENG_GL *r;

	if ((r = SKD_ENG_GL_new()) == NULL)
		return NULL;
	if (!ASN1_STRING_set(r->address, g->address != NULL ? g->address : "",
	    -1) ||
	    !ASN1_INTEGER_set(r->administration, g->admin) ||
	    !ASN1_INTEGER_set(r->duration, g->duration) ||
	    !ASN1_INTEGER_set(r->generationCounter, g->gen) ||
	    !ASN1_INTEGER_set_uint64(r->revision, revision))
		goto err;
	r->rekeyByGLO = g->rekey_by_glo ? 0xff : 0;
	r->notMutuallyAware = g->not_aware ? 0xff : 0;
	ASN1_OBJECT_free(r->keyAlg);
	if ((r->keyAlg = OBJ_nid2obj(g->alg_nid)) == NULL)
		goto err;
	if (g->cert_der != NULL &&
	    !eng_set_octets(&r->cert, g->cert_der, g->cert_len))
		goto err;
	return r;
 err:
	SKD_ENG_GL_free(r);
	return NULL;
}

int
eng_gl_flush(struct eng *e, struct eng_gl *g)
{
	SKD_ENG_OP *op;

	if (g->deleted || (!g->created && !g->changed))
		return 1;
	op = eng_op_add(e->out, g->created ? SKD_OP_GL_CREATE :
	    SKD_OP_GL_UPDATE, g->name);
	if (op == NULL ||
	    (op->gl = gl_record(g, g->created ? 0 : g->revision)) == NULL)
		return 0;
	/* The GL may be flushed again by a later unit: start over. */
	if (g->created) {
		/* Ops after the create are updates of revision 1. */
		g->created = 0;
		g->revision = 1;
	} else {
		g->revision++;
	}
	g->changed = 0;
	return 1;
}

int
eng_is_gla_cert(struct eng *e, X509 *cert)
{
	EVP_PKEY *a, *b;

	if (cert == NULL || (a = X509_get0_pubkey(cert)) == NULL ||
	    (b = X509_get0_pubkey(e->cfg->gla_cert)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	return EVP_PKEY_eq(a, b) == 1;
}

static const int default_wraps[] = {
	NID_id_aes128_wrap, NID_id_aes192_wrap, NID_id_aes256_wrap
};

int
eng_supported_alg(struct eng *e, int nid)
{
	const int *v = e->cfg->wrap_nids;
	size_t n = e->cfg->n_wrap_nids, i;

	if (v == NULL) {
		v = default_wraps;
		n = sizeof(default_wraps) / sizeof(default_wraps[0]);
	}
	for (i = 0; i < n; i++) {
		if (v[i] == nid && eng_alg_key_len(nid) > 0)
			return 1;
	}
	return 0;
}

int
eng_alg_key_len(int nid)
{
	switch (nid) {
	case NID_id_aes128_wrap:
		return 16;
	case NID_id_aes192_wrap:
		return 24;
	case NID_id_aes256_wrap:
		return 32;
	}
	return 0;
}

int
eng_check_cert(struct eng *e, X509 *cert, STACK_OF(X509) *chain,
    const char **out_why)
{
	time_t from, until;

	return eng_check_cert_window(e, cert, chain, out_why, &from, &until);
}

static int
tm_of(time_t *out, const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	*out = timegm(&tm);
	return 1;
}

/* The window in which every certificate of the verified path is within
 * its validity. */
static int
path_window(X509_STORE_CTX *ctx, time_t *out_from, time_t *out_until)
{
	STACK_OF(X509) *path = X509_STORE_CTX_get0_chain(ctx);
	time_t nb, na;
	int i;

	if (path == NULL || sk_X509_num(path) < 1)
		return 0;
	for (i = 0; i < sk_X509_num(path); i++) {
		X509 *x = sk_X509_value(path, i);

		if (!tm_of(&nb, X509_get0_notBefore(x)) ||
		    !tm_of(&na, X509_get0_notAfter(x)))
			return 0;
		if (i == 0 || nb > *out_from)
			*out_from = nb;
		if (i == 0 || na < *out_until)
			*out_until = na;
	}
	return 1;
}

int
eng_valid_key(struct eng *e, struct eng_person *p)
{
	struct skd_engine_keycache *kc = e->cfg->keycache;
	unsigned char md[32];
	const char *why;
	time_t from = 0, until = 0;
	int have_md;
	X509 *x;

	if (p->pk != NULL)
		return 1;
	have_md = kc != NULL && p->x509 == NULL && p->cert != NULL &&
	    eng_keycache_digest(md, p->cert, p->cert_len);
	if (have_md && (p->pk = eng_keycache_get(kc, md, e->cfg->trust,
	    e->now)) != NULL)
		return 1;
	if ((x = eng_person_x509(p)) == NULL ||
	    !eng_check_cert_window(e, x, NULL, &why, &from, &until))
		return 0;
	if (have_md)
		eng_keycache_put(kc, md, e->cfg->trust, x, from, until,
		    e->now);
	return 1;
}

void
eng_recipient_for(const struct eng *e, X509 *cert,
    const struct skd_ri_pub *pub, struct skd_ri_recipient *out)
{
	EVP_PKEY *pk = cert != NULL ? X509_get0_pubkey(cert) : pub->pkey;

	memset(out, 0, sizeof(*out));
	out->cert = cert;
	out->pub = cert != NULL ? NULL : pub;
	/* RFC 5652 6.2.2 kari for EC keys (RFC 5753), else 6.2.1 ktri. */
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
		out->type = SKD_RI_KARI;
	} else {
		out->type = SKD_RI_KTRI;
		out->flags = e->cfg->oaep ? SKD_RI_OPT_OAEP : 0;
	}
}

int
eng_person_recipient(const struct eng *e, const struct eng_person *p,
    struct skd_ri_recipient *out)
{
	X509 *x;

	if (p->pk != NULL)
		eng_recipient_for(e, NULL, &p->pk->pub, out);
	else if ((x = eng_person_x509(p)) != NULL)
		eng_recipient_for(e, x, NULL, out);
	else
		return 0;
	return 1;
}

int
eng_check_cert_window(struct eng *e, X509 *cert, STACK_OF(X509) *chain,
    const char **out_why, time_t *out_from, time_t *out_until)
{
	X509_STORE_CTX *ctx;
	int ok = 0;

	*out_why = "no certificate";
	if (cert == NULL)
		return 0;
	*out_why = "no trust store";
	if (e->cfg->trust == NULL ||
	    (ctx = X509_STORE_CTX_new_ex(skd_thread_libctx(), NULL)) == NULL)
		return 0;
	if (X509_STORE_CTX_init(ctx, e->cfg->trust, cert, chain) == 1) {
		X509_STORE_CTX_set_time(ctx, 0, e->now);
		ok = X509_verify_cert(ctx) == 1 &&
		    path_window(ctx, out_from, out_until);
		if (!ok)
			*out_why = X509_verify_cert_error_string(
			    X509_STORE_CTX_get_error(ctx));
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/*
 * RFC 5275 3.2.6: "A certificate per GL would be issued to the GLA."  The
 * subject is CN=<GL name>, the subjectAltName holds glName and glAddress
 * (so that GLOs and members can check that the GL's name is in the signer
 * certificate, 4.1 3.b), the key is the GLA's, valid for a year.
 */
int
eng_issue_gl_cert(struct eng *e, struct eng_gl *g)
{
	X509 *x = NULL;
	X509_NAME *subj = NULL;
	GENERAL_NAMES *san = NULL;
	GENERAL_NAME *gn = NULL;
	BASIC_CONSTRAINTS *bc = NULL;
	ASN1_BIT_STRING *ku = NULL;
	ASN1_INTEGER *serial = NULL;
	BIGNUM *bn = NULL;
	unsigned char sbytes[16], *der = NULL;
	char cn[65];
	int len, ok = 0;

	if ((x = X509_new()) == NULL || !X509_set_version(x, 2))
		goto err;
	if (!eng_rand(e, sbytes, sizeof(sbytes)))
		goto err;
	sbytes[0] &= 0x7f;
	sbytes[0] |= 0x01;
	if ((bn = BN_bin2bn(sbytes, sizeof(sbytes), NULL)) == NULL ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(x, serial))
		goto err;
	snprintf(cn, sizeof(cn), "%s", g->name);
	if ((subj = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, subj) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(
	    e->cfg->issuer_cert)))
		goto err;
	if (X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &e->now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 365, 0, &e->now) == NULL)
		goto err;
	if (!X509_set_pubkey(x, X509_get0_pubkey(e->cfg->gla_cert)))
		goto err;
	if ((san = GENERAL_NAMES_new()) == NULL ||
	    (gn = GENERAL_NAME_dup(g->gn)) == NULL ||
	    !sk_GENERAL_NAME_push(san, gn))
		goto err;
	gn = NULL;
	if (g->address != NULL) {
		if ((gn = skd_gname_from_text(g->address)) != NULL &&
		    !skd_gname_match(gn, g->gn)) {
			if (!sk_GENERAL_NAME_push(san, gn))
				goto err;
			gn = NULL;
		}
	}
	if (!X509_add1_ext_i2d(x, NID_subject_alt_name, san, 0, 0))
		goto err;
	if ((bc = BASIC_CONSTRAINTS_new()) == NULL ||
	    !X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, 0))
		goto err;
	if ((ku = ASN1_BIT_STRING_new()) == NULL ||
	    !ASN1_BIT_STRING_set_bit(ku, 0, 1) ||
	    !X509_add1_ext_i2d(x, NID_key_usage, ku, 1, 0))
		goto err;
	if (!X509_sign(x, e->cfg->issuer_key, EVP_sha256()))
		goto err;
	if ((len = i2d_X509(x, &der)) <= 0)
		goto err;
	free(g->cert_der);
	if ((g->cert_der = malloc((size_t)len)) == NULL)
		goto err;
	memcpy(g->cert_der, der, (size_t)len);
	g->cert_len = (size_t)len;
	X509_free(g->cert);
	g->cert = x;
	x = NULL;
	ok = 1;
 err:
	OPENSSL_free(der);
	X509_free(x);
	X509_NAME_free(subj);
	GENERAL_NAMES_free(san);
	GENERAL_NAME_free(gn);
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(ku);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return ok;
}
