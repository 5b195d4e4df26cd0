/*
 * apply.c: writing an outcome to the directory, idempotently (DESIGN.md
 * "Exactly once": an outcome journaled on the request entry may be
 * applied again after a crash and must converge).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/apply_local.h"

int
eng_op_gl_record(struct skd_store_gl *out, const SKD_ENG_OP *op)
{
	const SKD_ENG_GL *g = op->gl;
	char alg[80];

	memset(out, 0, sizeof(*out));
	if (g == NULL)
		return 0;
	if (OBJ_obj2txt(alg, sizeof(alg), g->keyAlg, 1) <= 0)
		return 0;
	out->name = eng_str(op->glName);
	out->address = eng_str(g->address);
	out->key_alg = OPENSSL_strdup(alg);
	out->administration = (int)ASN1_INTEGER_get(g->administration);
	out->rekey_by_glo = g->rekeyByGLO != 0;
	out->not_mutually_aware = g->notMutuallyAware != 0;
	out->duration = (int)ASN1_INTEGER_get(g->duration);
	out->generation_counter = (int)ASN1_INTEGER_get(g->generationCounter);
	if (!ASN1_INTEGER_get_uint64(&out->revision, g->revision))
		out->revision = 0;
	if (g->cert != NULL) {
		out->cert = (unsigned char *)ASN1_STRING_get0_data(g->cert);
		out->cert_len = (size_t)ASN1_STRING_length(g->cert);
	}
	if (out->name == NULL || out->address == NULL || out->key_alg == NULL) {
		eng_op_gl_record_clear(out);
		return 0;
	}
	return 1;
}

void
eng_op_gl_record_clear(struct skd_store_gl *r)
{
	OPENSSL_free(r->name);
	OPENSSL_free(r->address);
	OPENSSL_free(r->key_alg);
	memset(r, 0, sizeof(*r));
}

int
eng_same_gl(const struct skd_store_gl *a, const struct skd_store_gl *b)
{
	return a->administration == b->administration &&
	    !a->rekey_by_glo == !b->rekey_by_glo &&
	    !a->not_mutually_aware == !b->not_mutually_aware &&
	    a->duration == b->duration &&
	    a->generation_counter == b->generation_counter &&
	    a->key_alg != NULL && b->key_alg != NULL &&
	    strcmp(a->key_alg, b->key_alg) == 0 &&
	    a->cert_len == b->cert_len &&
	    (a->cert_len == 0 || memcmp(a->cert, b->cert, a->cert_len) == 0);
}

int
eng_op_member_record(struct skd_store_member *out, const SKD_ENG_OP *op)
{
	const SKD_ENG_MEMBER *m = op->member;

	memset(out, 0, sizeof(*out));
	if (m == NULL)
		return 0;
	out->name = eng_str(m->name);
	out->address = eng_str(m->address);
	out->dn = eng_str(m->dn);
	/* skdMemberSince: the time the engine decided, so a replayed journal
	 * writes the same value (4.8: keys from when it was a member). */
	if (m->since != NULL) {
		struct tm tm;

		if (ASN1_TIME_to_tm(m->since, &tm))
			out->since = timegm(&tm);
	}
	if (m->cert != NULL) {
		out->cert = (unsigned char *)ASN1_STRING_get0_data(m->cert);
		out->cert_len = (size_t)ASN1_STRING_length(m->cert);
	}
	return out->name != NULL;
}

void
eng_op_member_record_clear(struct skd_store_member *m)
{
	OPENSSL_free(m->name);
	OPENSSL_free(m->address);
	OPENSSL_free(m->dn);
	memset(m, 0, sizeof(*m));
}

static char **
strs(const STACK_OF(ASN1_UTF8STRING) *sk, size_t *out_n)
{
	char **v;
	int i, n = sk_ASN1_UTF8STRING_num(sk);

	*out_n = 0;
	if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((v[i] = eng_str(sk_ASN1_UTF8STRING_value(sk, i))) == NULL) {
			eng_strs_free(v, (size_t)i);
			return NULL;
		}
	}
	*out_n = (size_t)n;
	return v;
}

void
eng_strs_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		OPENSSL_free(v[i]);
	free(v);
}

static int
gtime(time_t *out, const ASN1_GENERALIZEDTIME *t)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm))
		return 0;
	*out = timegm(&tm);
	return 1;
}

int
eng_op_glkey_record(struct skd_store_glkey *out, const SKD_ENG_OP *op)
{
	const SKD_ENG_GLKEY *k = op->glKey;

	memset(out, 0, sizeof(*out));
	if (k == NULL)
		return 0;
	out->key_id = eng_str(k->keyId);
	out->gl_name = eng_str(op->glName);
	out->shard = (int)ASN1_INTEGER_get(k->shard);
	out->message = (unsigned char *)ASN1_STRING_get0_data(k->message);
	out->message_len = (size_t)ASN1_STRING_length(k->message);
	out->archived_kek = (unsigned char *)ASN1_STRING_get0_data(
	    k->archivedKEK);
	out->archived_kek_len = (size_t)ASN1_STRING_length(k->archivedKEK);
	out->recipients = strs(k->recipients, &out->n_recipients);
	out->recipient_dns = strs(k->recipientDNs, &out->n_recipient_dns);
	if (k->mailDNs != NULL)
		out->mail_dns = strs(k->mailDNs, &out->n_mail_dns);
	if (out->key_id == NULL || out->gl_name == NULL ||
	    out->recipients == NULL || out->recipient_dns == NULL ||
	    (k->mailDNs != NULL && out->mail_dns == NULL) ||
	    !gtime(&out->not_before, k->notBefore) ||
	    !gtime(&out->not_after, k->notAfter)) {
		eng_op_glkey_record_clear(out);
		return 0;
	}
	return 1;
}

void
eng_op_glkey_record_clear(struct skd_store_glkey *k)
{
	OPENSSL_free(k->key_id);
	OPENSSL_free(k->gl_name);
	eng_strs_free(k->recipients, k->n_recipients);
	eng_strs_free(k->recipient_dns, k->n_recipient_dns);
	eng_strs_free(k->mail_dns, k->n_mail_dns);
	memset(k, 0, sizeof(*k));
}

const char *
eng_msg_kind_name(long kind)
{
	switch (kind) {
	case SKD_MSG_FORWARD:
		return "forward";
	case SKD_MSG_PROVIDE_CERT:
		return "glProvideCert";
	case SKD_MSG_REKEY_NOTICE:
		return "rekeyNotice";
	case SKD_MSG_KEY_ARCHIVE:
		return "keyArchive";
	}
	return "response";
}

static int
apply_gl(struct skd_store *s, const SKD_ENG_OP *op, int create)
{
	struct skd_store_gl want, *have = NULL;
	int ok = 0;

	if (!eng_op_gl_record(&want, op))
		return 0;
	if (create ? skd_store_create_gl(s, &want) :
	    skd_store_update_gl(s, NULL, &want)) {
		ok = 1;
		goto done;
	}
	if (skd_store_error(s) != (create ? SKD_STORE_ERR_EXISTS :
	    SKD_STORE_ERR_CONFLICT))
		goto done;
	/* Applied before if the GL already holds what we meant to write
	 * (the per-GL certificate makes a create unique). */
	if (!skd_store_read_gl(s, &have, want.name))
		goto done;
	ok = eng_same_gl(have, &want) && (create || have->revision >
	    want.revision);
 done:
	skd_store_gl_free(have);
	eng_op_gl_record_clear(&want);
	return ok;
}

static int
apply_person(struct skd_store *s, const SKD_ENG_OP *op,
    enum skd_store_role role, int add)
{
	struct skd_store_member m;
	char *gl = eng_str(op->glName), *name = NULL;
	int ok = 0;

	if (gl == NULL)
		return 0;
	if (add) {
		if (!eng_op_member_record(&m, op))
			goto done;
		ok = skd_store_add_member(s, gl, role, &m) ||
		    skd_store_error(s) == SKD_STORE_ERR_EXISTS;
		eng_op_member_record_clear(&m);
	} else {
		if ((name = eng_str(op->name)) == NULL)
			goto done;
		ok = skd_store_remove_member(s, gl, role, name) ||
		    skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND;
	}
 done:
	OPENSSL_free(gl);
	OPENSSL_free(name);
	return ok;
}

static void
eng_dns_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Resolves each recipient name to a directory DN (skd_store_resolve_person;
 * a name with no entry, or with more than one, gets none).  Duplicates are
 * dropped: the store wants none within one list.  *out_dns (*out_n, maybe
 * zero) is freed with eng_dns_free.  Fails only when the directory does.
 */
static int
resolve_dns(struct skd_store *s, char ***out_dns, size_t *out_n,
    char *const *names, size_t n_names)
{
	char **v, *dn;
	size_t i, j, n = 0;

	*out_dns = NULL;
	*out_n = 0;
	if ((v = calloc(n_names + 1, sizeof(*v))) == NULL)
		return 0;
	for (i = 0; i < n_names; i++) {
		dn = NULL;
		if (!skd_store_resolve_person(s, &dn, names[i])) {
			if (skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND ||
			    skd_store_error(s) == SKD_STORE_ERR_INVALID)
				continue;
			eng_dns_free(v, n);
			return 0;
		}
		for (j = 0; j < n; j++) {
			if (strcasecmp(v[j], dn) == 0)
				break;
		}
		if (j < n) {
			free(dn);
			continue;
		}
		v[n++] = dn;
	}
	*out_dns = v;
	*out_n = n;
	return 1;
}

static int
apply_publish(struct skd_store *s, const SKD_ENG_OP *op)
{
	const SKD_ENG_PUBLISH *p = op->publish;
	struct skd_store_blob *msgs = NULL;
	struct skd_store_message m;
	char **names = NULL, **dns = NULL, *id = NULL, *gl = NULL;
	size_t n_names = 0, n_dns = 0;
	int i, n, ok = 0;

	if (p == NULL || (id = eng_str(p->id)) == NULL ||
	    (gl = eng_str(op->glName)) == NULL ||
	    (names = strs(p->recipients, &n_names)) == NULL)
		goto done;
	n = sk_ASN1_OCTET_STRING_num(p->messages);
	if (n < 1 || (msgs = calloc((size_t)n, sizeof(*msgs))) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		ASN1_OCTET_STRING *os = sk_ASN1_OCTET_STRING_value(p->messages,
		    i);

		msgs[i].data = os->data;
		msgs[i].len = (size_t)os->length;
	}
	if (skd_engine_op_type(op) == SKD_OP_RESPONSE) {
		ok = skd_store_publish_response(s, id, msgs, (size_t)n,
		    (const char *const *)names, n_names, NULL, 0);
		goto done;
	}
	memset(&m, 0, sizeof(m));
	if (strlen(id) >= sizeof(m.id))
		goto done;
	/* docs/directory.md: a GLA message is readable only by the DNs in
	 * its skdRecipientDN (e.g. the GLO a member's request is forwarded
	 * to, RFC 5275 3.2.3); resolved now, as the entry is written. */
	if (!resolve_dns(s, &dns, &n_dns, names, n_names))
		goto done;
	memcpy(m.id, id, strlen(id) + 1);
	m.type = (char *)eng_msg_kind_name(ASN1_INTEGER_get(p->kind));
	m.gl_name = gl[0] != '\0' ? gl : NULL;
	m.message = msgs[0].data;
	m.message_len = msgs[0].len;
	m.recipients = names;
	m.n_recipients = n_names;
	m.recipient_dns = dns;
	m.n_recipient_dns = n_dns;
	ok = skd_store_publish_message(s, &m);
 done:
	eng_dns_free(dns, n_dns);
	free(msgs);
	eng_strs_free(names, n_names);
	OPENSSL_free(id);
	OPENSSL_free(gl);
	return ok;
}

static int
apply_op(struct skd_store *s, const SKD_ENG_OP *op)
{
	struct skd_store_glkey k;
	char *gl = NULL, *name = NULL, *kid = NULL;
	int ok = 0;

	switch (skd_engine_op_type(op)) {
	case SKD_OP_GL_CREATE:
		return apply_gl(s, op, 1);
	case SKD_OP_GL_UPDATE:
		return apply_gl(s, op, 0);
	case SKD_OP_GL_DELETE:
		if ((gl = eng_str(op->glName)) == NULL)
			return 0;
		ok = skd_store_mark_gl_deleted(s, gl);
		OPENSSL_free(gl);
		return ok;
	case SKD_OP_MEMBER_ADD:
		return apply_person(s, op, SKD_STORE_MEMBER, 1);
	case SKD_OP_MEMBER_REMOVE:
		return apply_person(s, op, SKD_STORE_MEMBER, 0);
	case SKD_OP_OWNER_ADD:
		return apply_person(s, op, SKD_STORE_OWNER, 1);
	case SKD_OP_OWNER_REMOVE:
		return apply_person(s, op, SKD_STORE_OWNER, 0);
	case SKD_OP_GLKEY_PUT:
		if (!eng_op_glkey_record(&k, op))
			return 0;
		ok = skd_store_put_glkey(s, &k);
		eng_op_glkey_record_clear(&k);
		return ok;
	case SKD_OP_RESPONSE:
	case SKD_OP_MESSAGE:
		return apply_publish(s, op);
	case SKD_OP_KEY_STREAM:
		return 1;	/* skd_engine_stream, after the rest */
	case SKD_OP_CERT_PUBLISH:
		name = eng_str(op->name);
		kid = op->member != NULL ? eng_str(op->member->dn) : NULL;
		ok = name != NULL && kid != NULL && op->member->cert != NULL &&
		    skd_store_publish_person_cert(s, kid, name,
		    ASN1_STRING_get0_data(op->member->cert),
		    (size_t)ASN1_STRING_length(op->member->cert));
		OPENSSL_free(name);
		OPENSSL_free(kid);
		return ok;
	case SKD_OP_SECRET_USE:
	case SKD_OP_SECRET_FAIL:
		name = eng_str(op->name);
		kid = op->keyId != NULL ? eng_str(op->keyId) : NULL;
		ok = name != NULL && (skd_engine_op_type(op) ==
		    SKD_OP_SECRET_USE ? skd_store_use_secret(s, name) :
		    kid != NULL && skd_store_set_secret_failures(s, name,
		    strtol(kid, NULL, 10)));
		OPENSSL_free(name);
		OPENSSL_free(kid);
		return ok;
	case SKD_OP_ACK:
		gl = eng_str(op->glName);
		name = eng_str(op->name);
		kid = eng_str(op->keyId);
		ok = gl != NULL && name != NULL && kid != NULL &&
		    skd_store_ack_member(s, gl, name, kid);
		OPENSSL_free(gl);
		OPENSSL_free(name);
		OPENSSL_free(kid);
		return ok;
	}
	return 0;
}

/* Shards put at once (skd_store_put_glkeys): a page of a streamed rekey
 * is a run of them. */
#define APPLY_SHARD_RUN	64

/* The run of shard puts (shard > 0) of o's ops from i on, at most
 * APPLY_SHARD_RUN: how many. */
static int
shard_run(const SKD_ENG_OUTCOME *o, int i)
{
	const SKD_ENG_OP *op;
	int n = 0;

	for (; i < sk_SKD_ENG_OP_num(o->ops) && n < APPLY_SHARD_RUN; i++, n++) {
		op = sk_SKD_ENG_OP_value(o->ops, i);
		if (skd_engine_op_type(op) != SKD_OP_GLKEY_PUT ||
		    op->glKey == NULL || ASN1_INTEGER_get(op->glKey->shard) <= 0)
			break;
	}
	return n;
}

/* Puts the n shards from op i with several adds in flight.  Each is
 * create-if-absent and no shard names another, so the order in which
 * they land does not matter; a key's shard 0 (its head, with the GLA's
 * archive) is never in a run and lands before them, in order. */
static int
apply_shards(struct skd_store *s, const SKD_ENG_OUTCOME *o, int i, int n)
{
	struct skd_store_glkey *k;
	int j, made = 0, ok = 0;

	if ((k = calloc((size_t)n, sizeof(*k))) == NULL)
		return 0;
	for (; made < n; made++) {
		if (!eng_op_glkey_record(&k[made],
		    sk_SKD_ENG_OP_value(o->ops, i + made)))
			goto err;
	}
	ok = skd_store_put_glkeys(s, k, (size_t)n);
 err:
	for (j = 0; j < made; j++)
		eng_op_glkey_record_clear(&k[j]);
	free(k);
	return ok;
}

int
skd_engine_apply(struct skd_store *s, const SKD_ENG_OUTCOME *o)
{
	int i, n;

	for (i = 0; i < sk_SKD_ENG_OP_num(o->ops); i += n) {
		if ((n = shard_run(o, i)) > 1) {
			if (!apply_shards(s, o, i, n))
				return 0;
			continue;
		}
		n = 1;
		if (!apply_op(s, sk_SKD_ENG_OP_value(o->ops, i)))
			return 0;
	}
	return 1;
}
