/*
 * response.c: checking a GLA's response as a GLO or member (RFC 5275 4.x
 * steps 3.a-3.c: the signature and path, the GL's name in the GLA's
 * certificate, the echoed nonce and transactionId) and reporting its
 * cMCStatusInfoExt controls and glaQueryResponse.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "cms/skd_cmc.h"
#include "cms/skd_layers.h"
#include "client/client_local.h"

/* ---- helpers ---- */

static const struct skd_layer *
find_body(const struct skd_layers *l, enum skd_layer_type t)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (l->v[i].type == t)
			return &l->v[i];
	}
	return NULL;
}

/* The SignedData that directly holds body (its parent), or NULL. */
static const struct skd_layer *
signer_of(const struct skd_layers *l, const struct skd_layer *body)
{
	const struct skd_layer *p;

	if (body->parent < 0 || (size_t)body->parent >= l->n)
		return NULL;
	p = &l->v[body->parent];
	if (p->type != SKD_LAYER_SIGNED || p->verified == NULL)
		return NULL;
	return p;
}

/* Fails unless every layer walked cleanly and every signer's path held. */
static int
layers_ok(const struct skd_layers *l, int need_path,
    struct skd_client_error *err)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct skd_layer *y = &l->v[i];

		if (y->error[0] != '\0')
			return skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
			    "%s layer %zu: %s", skd_layer_type_name(y->type),
			    i, y->error);
		if (y->type == SKD_LAYER_ENVELOPED && !y->opened)
			return skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
			    "encrypted layer could not be opened with our key");
		if (need_path && y->type == SKD_LAYER_SIGNED &&
		    y->verified->path != SKD_CMS_PATH_OK)
			return skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
			    "signer's certificate path does not validate: %s",
			    y->verified->path_error_string);
	}
	return 1;
}

static int
walk(struct skd_layers **out, const unsigned char *der, size_t len,
    X509_STORE *trust, time_t now, const struct skd_client_ident *id,
    struct skd_client_error *err)
{
	struct skd_layers_opts o;
	struct skd_cms_opener op;

	memset(&o, 0, sizeof(o));
	memset(&op, 0, sizeof(op));
	o.trust = trust;
	o.now = now;
	if (id != NULL) {
		op.cert = id->cert;
		op.key = id->key;
		o.opener = &op;
	}
	*out = NULL;
	if (!skd_layers_walk(out, der, len, &o) && *out == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
	ERR_clear_error();
	return layers_ok(*out, trust != NULL, err);
}

static int
get_tid(ASN1_INTEGER **out, const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq)
{
	const SKD_TAGGED_ATTRIBUTE *ta;

	*out = NULL;
	if ((ta = skd_cmc_find_control(seq, SKD_OID_CMC_TRANSACTION_ID, 0)) ==
	    NULL)
		return 0;
	if (skd_cmc_find_control(seq, SKD_OID_CMC_TRANSACTION_ID, 1) != NULL ||
	    sk_ASN1_TYPE_num(ta->attrValues) != 1)
		return -1;
	*out = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(ASN1_INTEGER));
	return *out != NULL ? 1 : -1;
}

/* ---- statuses ---- */

static void
status_clear(struct skd_client_status *s)
{
	OPENSSL_free(s->body_list);
	OPENSSL_free(s->status_string);
}

void
skd_client_response_free(struct skd_client_response *r)
{
	size_t i;

	if (r == NULL)
		return;
	X509_free(r->gla_cert);
	for (i = 0; i < r->n_statuses; i++)
		status_clear(&r->statuses[i]);
	OPENSSL_free(r->statuses);
	for (i = 0; i < r->n_algs; i++)
		OPENSSL_free(r->algs[i]);
	OPENSSL_free(r->algs);
	OPENSSL_free(r->not_believed);
	OPENSSL_free(r);
}

/* ASN1_INTEGER into a long; zero if it does not fit. */
static int
int_get(long *out, const ASN1_INTEGER *ai)
{
	int64_t v;

	if (ai == NULL || !ASN1_INTEGER_get_int64(&v, ai) || v < LONG_MIN ||
	    v > LONG_MAX)
		return 0;
	*out = (long)v;
	return 1;
}

static int
status_fill(struct skd_client_status *s, const SKD_CMC_STATUS_INFO_V2 *si)
{
	int i, n = sk_SKD_BODY_PART_REFERENCE_num(si->bodyList);
	const SKD_OTHER_STATUS_INFO *o = si->otherStatusInfo;

	memset(s, 0, sizeof(*s));
	if (!int_get(&s->status, si->cMCStatus))
		return 0;
	if (n > 0 && (s->body_list = OPENSSL_zalloc(n * sizeof(long))) ==
	    NULL)
		return 0;
	for (i = 0; i < n; i++) {
		const SKD_BODY_PART_REFERENCE *ref =
		    sk_SKD_BODY_PART_REFERENCE_value(si->bodyList, i);
		const ASN1_INTEGER *id = ref->type == SKD_BODY_PART_REF_ID ?
		    ref->d.bodyPartID :
		    sk_ASN1_INTEGER_value(ref->d.bodyPartPath, 0);

		if (!int_get(&s->body_list[i], id))
			return 0;
	}
	s->n_body = (size_t)n;
	if (si->statusString != NULL && (s->status_string = OPENSSL_strndup(
	    (const char *)ASN1_STRING_get0_data(si->statusString),
	    (size_t)ASN1_STRING_length(si->statusString))) == NULL)
		return 0;
	if (o == NULL)
		return 1;
	s->fail_kind = SKD_CLIENT_FAIL_OTHER;
	if (o->type == SKD_OTHER_STATUS_FAIL_INFO) {
		s->fail_kind = SKD_CLIENT_FAIL_CMC;
		return int_get(&s->fail, o->d.failInfo);
	}
	if (o->type == SKD_OTHER_STATUS_EXT_FAIL_INFO &&
	    OBJ_obj2nid(o->d.extendedFailInfo->failInfoOID) ==
	    skd_asn1_nid(SKD_OID_CET_SKD_FAIL_INFO) &&
	    o->d.extendedFailInfo->failInfoValue != NULL &&
	    o->d.extendedFailInfo->failInfoValue->type == V_ASN1_INTEGER) {
		s->fail_kind = SKD_CLIENT_FAIL_SKD;
		return int_get(&s->fail,
		    o->d.extendedFailInfo->failInfoValue->value.integer);
	}
	return 1;
}

static int
collect_statuses(struct skd_client_response *r,
    const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq)
{
	const SKD_TAGGED_ATTRIBUTE *ta;
	SKD_CMC_STATUS_INFO_V2 *si;
	struct skd_client_status *nv;
	int i, j;

	for (i = 0; (ta = skd_cmc_find_control(seq,
	    SKD_OID_CMC_STATUS_INFO_V2, i)) != NULL; i++) {
		for (j = 0; j < sk_ASN1_TYPE_num(ta->attrValues); j++) {
			if ((si = skd_tagged_attribute_decode1(ta, j,
			    ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2))) == NULL)
				return 0;
			nv = OPENSSL_realloc(r->statuses,
			    (r->n_statuses + 1) * sizeof(*nv));
			if (nv == NULL) {
				SKD_CMC_STATUS_INFO_V2_free(si);
				return 0;
			}
			r->statuses = nv;
			if (!status_fill(&nv[r->n_statuses], si)) {
				status_clear(&nv[r->n_statuses]);
				SKD_CMC_STATUS_INFO_V2_free(si);
				return 0;
			}
			r->n_statuses++;
			SKD_CMC_STATUS_INFO_V2_free(si);
		}
	}
	return 1;
}

/* glaQueryResponse { id-cmc-gla-skdAlgResponse, SMIMECapabilities }
 * (RFC 5275 3.1.10); SMIMECapability has AlgorithmIdentifier's shape. */
static int
collect_algs(struct skd_client_response *r,
    const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq)
{
	const SKD_TAGGED_ATTRIBUTE *ta;
	SKD_GLA_QUERY_RESPONSE *q = NULL;
	X509_ALGORS *algs = NULL;
	char name[128];
	int i, ok = 0;

	if ((ta = skd_cmc_find_control(seq, SKD_OID_GLA_QUERY_RESPONSE, 0)) ==
	    NULL)
		return 1;
	if ((q = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(SKD_GLA_QUERY_RESPONSE))) == NULL)
		goto err;
	if (OBJ_obj2nid(q->type) != skd_asn1_nid(
	    SKD_OID_GLA_SKD_ALG_RESPONSE) || q->value == NULL ||
	    q->value->type != V_ASN1_SEQUENCE)
		goto err;
	if ((algs = skd_der_decode(ASN1_ITEM_rptr(X509_ALGORS),
	    ASN1_STRING_get0_data(q->value->value.sequence),
	    (size_t)ASN1_STRING_length(q->value->value.sequence))) == NULL)
		goto err;
	if ((r->algs = OPENSSL_zalloc((sk_X509_ALGOR_num(algs) + 1) *
	    sizeof(char *))) == NULL)
		goto err;
	for (i = 0; i < sk_X509_ALGOR_num(algs); i++) {
		const ASN1_OBJECT *o;

		X509_ALGOR_get0(&o, NULL, NULL, sk_X509_ALGOR_value(algs, i));
		OBJ_obj2txt(name, sizeof(name), o, 0);
		if ((r->algs[i] = OPENSSL_strdup(name)) == NULL)
			goto err;
		r->n_algs++;
	}
	ok = 1;
 err:
	sk_X509_ALGOR_pop_free(algs, X509_ALGOR_free);
	SKD_GLA_QUERY_RESPONSE_free(q);
	return ok;
}

int
skd_client_response_check(struct skd_client_response **out,
    const unsigned char *der, size_t len, const struct skd_client_expect *exp,
    struct skd_client_error *err)
{
	struct skd_layers *l = NULL;
	struct skd_client_response *r = NULL;
	const struct skd_layer *body, *sig;
	const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq;
	GENERAL_NAME *gl = NULL;
	unsigned char *nonce = NULL;
	size_t nonce_len = 0;
	ASN1_INTEGER *tid = NULL;
	char unbound[256] = "";
	int ok = 0, rc;

	*out = NULL;
	if (exp->trust == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "trust anchors are needed to check a response (--CAfile)");
	if (!walk(&l, der, len, exp->trust, exp->now, exp->ident, err))
		goto err;
	if ((body = find_body(l, SKD_LAYER_PKI_RESPONSE)) == NULL ||
	    (sig = signer_of(l, body)) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "not a signed PKIResponse");
		goto err;
	}
	seq = body->pki_response->controlSequence;
	/* RFC 5275 4.x 3.b: one of the names in the certificate that signed
	 * the response must match the GL's name; if not, do not believe it. */
	if (exp->gl_name != NULL) {
		if ((gl = skd_client_gname(exp->gl_name, "GL name", err)) ==
		    NULL)
			goto err;
		if (!skd_gname_match_cert(gl, sig->verified->signer)) {
			skd_client_seterr(err, SKD_CLIENT_ERR_NAME,
			    "response not believed: the GLA's certificate does "
			    "not name the GL %s (RFC 5275 4, step 3.b)",
			    exp->gl_name);
			if (!exp->keep_unbound)
				goto err;
			(void)snprintf(unbound, sizeof(unbound), "the signer's "
			    "certificate does not name the GL %s, so this "
			    "cannot be the GL's answer (RFC 5275 4, step 3.b)",
			    exp->gl_name);
		}
	}
	/* RFC 5275 3.2.4.2: our senderNonce comes back as recipientNonce,
	 * with our transactionId. */
	if (exp->nonce != NULL) {
		rc = skd_cmc_get_nonce(seq, SKD_OID_CMC_RECIPIENT_NONCE, &nonce,
		    &nonce_len);
		if (rc != 1 || nonce_len != exp->nonce_len ||
		    CRYPTO_memcmp(nonce, exp->nonce, nonce_len) != 0) {
			skd_client_seterr(err, SKD_CLIENT_ERR_NONCE,
			    "response not believed: recipientNonce %s",
			    rc == 1 ? "does not match our senderNonce" :
			    rc == 0 ? "is missing" : "is malformed");
			goto err;
		}
	}
	if (exp->tid != NULL) {
		rc = get_tid(&tid, seq);
		if (rc != 1 || ASN1_INTEGER_cmp(tid, exp->tid) != 0) {
			skd_client_seterr(err, SKD_CLIENT_ERR_NONCE,
			    "response not believed: transactionId %s",
			    rc == 1 ? "differs from ours" : rc == 0 ?
			    "is missing" : "is malformed");
			goto err;
		}
	}
	if ((r = OPENSSL_zalloc(sizeof(*r))) == NULL ||
	    !X509_up_ref(sig->verified->signer))
		goto nomem;
	r->gla_cert = sig->verified->signer;
	r->signing_time = sig->verified->signing_time;
	if (unbound[0] != '\0' &&
	    (r->not_believed = OPENSSL_strdup(unbound)) == NULL)
		goto nomem;
	r->nonce_checked = exp->nonce != NULL && exp->tid != NULL;
	if (!collect_statuses(r, seq) || !collect_algs(r, seq)) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "malformed cMCStatusInfoExt or glaQueryResponse");
		goto err;
	}
	/* A PKIResponse that only carries the answers to nested requests
	 * (RFC 5275 3.2.2, e.g. to a GLO's resubmission, 3.2.5) has no
	 * status of its own: skd_client_response_items takes them out. */
	if (r->n_statuses == 0 &&
	    sk_SKD_TAGGED_CONTENT_INFO_num(body->pki_response->cmsSequence) <=
	    0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "response carries no cMCStatusInfoExt");
		goto err;
	}
	*out = r;
	r = NULL;
	ok = 1;
	goto err;
 nomem:
	skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL, "out of memory");
 err:
	skd_client_response_free(r);
	ASN1_INTEGER_free(tid);
	OPENSSL_free(nonce);
	GENERAL_NAME_free(gl);
	skd_layers_free(l);
	ERR_clear_error();
	return ok;
}

int
skd_client_response_ok(const struct skd_client_response *r)
{
	size_t i;

	if (r->not_believed != NULL)
		return 0;
	for (i = 0; i < r->n_statuses; i++) {
		if (r->statuses[i].status != SKD_CMC_SUCCESS)
			return 0;
	}
	return r->n_statuses > 0;
}

/* ---- printing ---- */

void
skd_client_json_str(BIO *out, const char *s)
{
	BIO_puts(out, "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			BIO_printf(out, "\\%c", c);
		else if (c < 0x20)
			BIO_printf(out, "\\u%04x", c);
		else
			BIO_printf(out, "%c", c);
	}
	BIO_puts(out, "\"");
}

static const char *
fail_name(const struct skd_client_status *s)
{
	const char *n = NULL;

	if (s->fail_kind == SKD_CLIENT_FAIL_CMC)
		n = skd_cmc_failinfo_name(s->fail);
	else if (s->fail_kind == SKD_CLIENT_FAIL_SKD)
		n = skd_failinfo_name(s->fail);
	return n != NULL ? n : "unknown";
}

void
skd_client_response_print(BIO *out, const struct skd_client_response *r,
    int json)
{
	const char *st, *kind;
	size_t i, j;

	if (json)
		BIO_printf(out, "{\"ok\":%s,\"statuses\":[",
		    skd_client_response_ok(r) ? "true" : "false");
	for (i = 0; i < r->n_statuses; i++) {
		const struct skd_client_status *s = &r->statuses[i];

		st = skd_cmc_status_name(s->status);
		if (st == NULL)
			st = "unknown";
		kind = s->fail_kind == SKD_CLIENT_FAIL_CMC ? "CMCFailInfo" :
		    s->fail_kind == SKD_CLIENT_FAIL_SKD ? "SKDFailInfo" :
		    s->fail_kind == SKD_CLIENT_FAIL_OTHER ? "otherStatusInfo" :
		    NULL;
		if (json) {
			BIO_printf(out, "%s{\"status\":\"%s\",\"bodyList\":[",
			    i ? "," : "", st);
			for (j = 0; j < s->n_body; j++)
				BIO_printf(out, "%s%ld", j ? "," : "",
				    s->body_list[j]);
			BIO_puts(out, "]");
			if (s->status_string != NULL) {
				BIO_puts(out, ",\"statusString\":");
				skd_client_json_str(out, s->status_string);
			}
			if (kind != NULL && s->fail_kind !=
			    SKD_CLIENT_FAIL_OTHER)
				BIO_printf(out, ",\"%s\":\"%s\"", kind,
				    fail_name(s));
			BIO_puts(out, "}");
			continue;
		}
		BIO_printf(out, "status: %s (bodyList", st);
		for (j = 0; j < s->n_body; j++)
			BIO_printf(out, " %ld", s->body_list[j]);
		BIO_puts(out, ")");
		if (kind != NULL && s->fail_kind != SKD_CLIENT_FAIL_OTHER)
			BIO_printf(out, " %s=%s", kind, fail_name(s));
		else if (kind != NULL)
			BIO_printf(out, " %s", kind);
		if (s->status_string != NULL)
			BIO_printf(out, " \"%s\"", s->status_string);
		BIO_puts(out, "\n");
	}
	if (json) {
		BIO_puts(out, "],\"algorithms\":[");
		for (i = 0; i < r->n_algs; i++) {
			BIO_puts(out, i ? "," : "");
			skd_client_json_str(out, r->algs[i]);
		}
		BIO_printf(out, "],\"nonceChecked\":%s}\n",
		    r->nonce_checked ? "true" : "false");
		return;
	}
	for (i = 0; i < r->n_algs; i++)
		BIO_printf(out, "algorithm: %s\n", r->algs[i]);
	if (r->not_believed != NULL)
		BIO_printf(out, "note: what the GLA answered, not believed as "
		    "the GL's answer: %s\n", r->not_believed);
	if (!r->nonce_checked)
		BIO_puts(out, "note: recipientNonce and transactionId not "
		    "checked (no request given)\n");
}

/* ---- what a request expects back ---- */

struct skd_client_hold {
	char		*gl_name;
	unsigned char	*nonce;
	ASN1_INTEGER	*tid;
};

void
skd_client_hold_free(struct skd_client_hold *h)
{
	if (h == NULL)
		return;
	OPENSSL_free(h->gl_name);
	OPENSSL_free(h->nonce);
	ASN1_INTEGER_free(h->tid);
	OPENSSL_free(h);
}

/* The GL named by a request control (RFC 5275 3.1), borrowed from val. */
static const GENERAL_NAME *
control_gl(enum skd_oid oid, const void *val)
{
	switch (oid) {
	case SKD_OID_GL_USE_KEK:
		return ((const SKD_GL_USE_KEK *)val)->glInfo->glName;
	case SKD_OID_GL_DELETE:
	case SKD_OID_GL_KEY_COMPROMISE:
		return val;
	case SKD_OID_GL_ADD_MEMBER:
	case SKD_OID_GL_MANAGE_CERT:
		return ((const SKD_GL_ADD_MEMBER *)val)->glName;
	case SKD_OID_GL_DELETE_MEMBER:
		return ((const SKD_GL_DELETE_MEMBER *)val)->glName;
	case SKD_OID_GL_REKEY:
		return ((const SKD_GL_REKEY *)val)->glName;
	case SKD_OID_GL_ADD_OWNER:
	case SKD_OID_GL_REMOVE_OWNER:
		return ((const SKD_GL_OWNER_ADMINISTRATION *)val)->glName;
	case SKD_OID_GL_KEY_REFRESH:
		return ((const SKD_GL_KREFRESH *)val)->glName;
	default:
		return NULL;
	}
}

static const enum skd_oid gl_controls[] = {
	SKD_OID_GL_USE_KEK, SKD_OID_GL_DELETE, SKD_OID_GL_ADD_MEMBER,
	SKD_OID_GL_DELETE_MEMBER, SKD_OID_GL_REKEY, SKD_OID_GL_ADD_OWNER,
	SKD_OID_GL_REMOVE_OWNER, SKD_OID_GL_KEY_COMPROMISE,
	SKD_OID_GL_KEY_REFRESH, SKD_OID_GL_MANAGE_CERT
};

int
skd_client_request_expect(struct skd_client_expect *exp,
    struct skd_client_hold **out_hold, const unsigned char *der, size_t len,
    const struct skd_client_ident *id, struct skd_client_error *err)
{
	struct skd_layers *l = NULL;
	struct skd_client_hold *h = NULL;
	const struct skd_layer *body;
	const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq;
	const struct skd_control *c;
	const SKD_TAGGED_ATTRIBUTE *ta;
	size_t i, nlen = 0;
	void *val;
	int ok = 0;

	*out_hold = NULL;
	if (!walk(&l, der, len, NULL, 0, id, err))
		goto err;
	if ((body = find_body(l, SKD_LAYER_PKI_DATA)) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "the request holds no PKIData");
		goto err;
	}
	seq = body->pki_data->controlSequence;
	if ((h = OPENSSL_zalloc(sizeof(*h))) == NULL)
		goto err;
	if (skd_cmc_get_nonce(seq, SKD_OID_CMC_SENDER_NONCE, &h->nonce,
	    &nlen) != 1 || get_tid(&h->tid, seq) != 1) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "the request has no senderNonce or transactionId");
		goto err;
	}
	for (i = 0; h->gl_name == NULL && i < sizeof(gl_controls) /
	    sizeof(gl_controls[0]); i++) {
		if ((ta = skd_cmc_find_control(seq, gl_controls[i], 0)) == NULL)
			continue;
		c = skd_control_by_nid(skd_asn1_nid(gl_controls[i]));
		if (c == NULL || (val = skd_tagged_attribute_decode1(ta, 0,
		    ASN1_ITEM_ptr(c->item))) == NULL) {
			skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
			    "malformed control in the request");
			goto err;
		}
		h->gl_name = skd_gname_to_text(control_gl(gl_controls[i], val));
		ASN1_item_free(val, ASN1_ITEM_ptr(c->item));
		if (h->gl_name == NULL)
			goto err;
	}
	exp->gl_name = h->gl_name;
	exp->nonce = h->nonce;
	exp->nonce_len = nlen;
	exp->tid = h->tid;
	*out_hold = h;
	h = NULL;
	ok = 1;
 err:
	if (!ok && err != NULL && err->code == SKD_CLIENT_OK)
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
	skd_client_hold_free(h);
	skd_layers_free(l);
	return ok;
}

/* ---- LDIF ---- */

int
skd_client_ldif_binary(unsigned char **out, size_t *out_len,
    const char *ldif, size_t ldif_len, const char *attr)
{
	/* libldap's LDIF parser (src/store/ldif.c), not one of our own. */
	return skd_store_ldif_value(out, out_len, ldif, ldif_len, attr);
}
