/*
 * review.c: a GLO's review of the member requests the GLA forwards for
 * managed lists (RFC 5275 3.2.3 "GLA Forwarded Requests"), and the signed
 * denial a GLO returns to the member (3.2.4.1, 4.3.1 2.d.2.b.2.c).  The
 * approval itself is a resubmission (3.2.5): a new request whose
 * cmsSequence holds the forwarded message (skd_client_request_add_cms).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "client/client_local.h"
#include "cms/skd_cmc.h"
#include "cms/skd_layers.h"

void
skd_client_forward_free(struct skd_client_forward *f)
{
	size_t i;

	if (f == NULL)
		return;
	OPENSSL_free(f->gl_name);
	OPENSSL_free(f->gla_subject);
	OPENSSL_free(f->signer);
	for (i = 0; i < f->n_controls; i++)
		OPENSSL_free(f->controls[i]);
	OPENSSL_free(f->controls);
	OPENSSL_free(f->body_ids);
	OPENSSL_free(f->nonce);
	ASN1_INTEGER_free(f->tid);
	OPENSSL_free(f->resubmit);
	OPENSSL_free(f);
}

/* Whether layer i lies inside layer anc. */
static int
inside(const struct skd_layers *l, int i, int anc)
{
	while (i >= 0) {
		if (i == anc)
			return 1;
		i = l->v[i].parent;
	}
	return 0;
}

/* The SignedData layer directly around layer i (through an EnvelopedData
 * if any), verified with a valid path, or -1. */
static int
signed_parent(const struct skd_layers *l, int i)
{
	for (i = l->v[i].parent; i >= 0; i = l->v[i].parent) {
		if (l->v[i].type == SKD_LAYER_SIGNED)
			break;
	}
	if (i < 0 || l->v[i].verified == NULL ||
	    l->v[i].verified->path != SKD_CMS_PATH_OK)
		return -1;
	return i;
}

static char *
subject_text(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *t = NULL;
	long n;

	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) >= 0 && (n = BIO_get_mem_data(b, &p)) >= 0)
		t = OPENSSL_strndup(p, (size_t)n);
	BIO_free(b);
	return t;
}

/* Appends "what name" for one control; *gl gets the first GL seen, and
 * a control naming another GL is refused. */
static int
add_control(struct skd_client_forward *f, GENERAL_NAME **gl,
    const SKD_TAGGED_ATTRIBUTE *ta, struct skd_client_error *err)
{
	const struct skd_control *ctl;
	const GENERAL_NAME *g = NULL, *who = NULL;
	void *v = NULL;
	char *t = NULL, *line = NULL, **nv;
	long *nb;
	size_t n;
	int ok = 0;

	ctl = skd_control_by_nid(OBJ_obj2nid(ta->attrType));
	if (ctl == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "forwarded request: unknown control");
	if (ctl->oid == SKD_OID_CMC_TRANSACTION_ID ||
	    ctl->oid == SKD_OID_CMC_SENDER_NONCE)
		return 1;
	if (sk_ASN1_TYPE_num(ta->attrValues) != 1 ||
	    (v = skd_tagged_attribute_decode1(ta, 0, ASN1_ITEM_ptr(
	    ctl->item))) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "forwarded request: malformed %s", ctl->name);
		goto err;
	}
	/* RFC 5275 3.2.3: the requests a GLA forwards to a GLO. */
	switch (ctl->oid) {
	case SKD_OID_GL_ADD_MEMBER:
	case SKD_OID_GL_MANAGE_CERT:
		g = ((SKD_GL_ADD_MEMBER *)v)->glName;
		who = ((SKD_GL_ADD_MEMBER *)v)->glMember->glMemberName;
		break;
	case SKD_OID_GL_DELETE_MEMBER:
		g = ((SKD_GL_DELETE_MEMBER *)v)->glName;
		who = ((SKD_GL_DELETE_MEMBER *)v)->glMemberToDelete;
		break;
	case SKD_OID_GL_KEY_COMPROMISE:
		g = v;
		break;
	case SKD_OID_GL_KEY_REFRESH:
		g = ((SKD_GL_KREFRESH *)v)->glName;
		break;
	default:
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "forwarded request holds %s, not a member request",
		    ctl->name);
		goto err;
	}
	if (*gl == NULL) {
		if ((*gl = GENERAL_NAME_dup(g)) == NULL)
			goto err;
	} else if (GENERAL_NAME_cmp(*gl, (GENERAL_NAME *)g) != 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "forwarded request names more than one GL");
		goto err;
	}
	if (who != NULL && (t = skd_gname_to_text(who)) == NULL)
		goto err;
	n = strlen(ctl->name) + (t != NULL ? strlen(t) : 0) + 2;
	if ((line = OPENSSL_malloc(n)) == NULL)
		goto err;
	snprintf(line, n, "%s%s%s", ctl->name, t != NULL ? " " : "",
	    t != NULL ? t : "");
	if ((nv = OPENSSL_realloc(f->controls, (f->n_controls + 1) *
	    sizeof(*nv))) == NULL)
		goto err;
	f->controls = nv;
	if ((nb = OPENSSL_realloc(f->body_ids, (f->n_controls + 1) *
	    sizeof(*nb))) == NULL)
		goto err;
	f->body_ids = nb;
	f->body_ids[f->n_controls] = ASN1_INTEGER_get(ta->bodyPartID);
	f->controls[f->n_controls++] = line;
	line = NULL;
	ok = 1;
 err:
	if (!ok && err != NULL && err->code == SKD_CLIENT_OK)
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
	OPENSSL_free(line);
	OPENSSL_free(t);
	ASN1_item_free(v, ASN1_ITEM_ptr(ctl->item));
	return ok;
}

int
skd_client_forward_open(struct skd_client_forward **out,
    const unsigned char *der, size_t len, X509_STORE *trust, time_t now,
    const struct skd_client_ident *id, struct skd_client_error *err)
{
	struct skd_layers_opts o;
	struct skd_cms_opener op;
	struct skd_layers *l = NULL;
	struct skd_client_forward *f = NULL;
	const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq;
	const SKD_TAGGED_ATTRIBUTE *ta;
	GENERAL_NAME *gl = NULL;
	int outer = -1, inner = -1, so, si, i, ok = 0;

	*out = NULL;
	if (trust == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "trust anchors are needed (--CAfile)");
	memset(&o, 0, sizeof(o));
	memset(&op, 0, sizeof(op));
	o.trust = trust;
	o.now = now;
	if (id != NULL) {
		op.cert = id->cert;
		op.key = id->key;
		o.opener = &op;
	}
	if (!skd_layers_walk(&l, der, len, &o)) {
		skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
		    "forwarded request: %s", l != NULL && l->n > 0 ?
		    l->v[l->n - 1].error : "out of memory");
		goto err;
	}
	ERR_clear_error();
	for (i = 0; i < (int)l->n; i++) {
		if (l->v[i].type != SKD_LAYER_PKI_DATA)
			continue;
		if (outer < 0)
			outer = i;
		else if (inside(l, i, outer)) {
			inner = i;
			break;
		}
	}
	if (outer < 0 || inner < 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT, "not a forwarded "
		    "request (SignedData(PKIData(cmsSequence {request})))");
		goto err;
	}
	if ((so = signed_parent(l, outer)) < 0 ||
	    (si = signed_parent(l, inner)) < 0 || !inside(l, si, outer)) {
		skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO, "forwarded "
		    "request: a signature or its path does not verify");
		goto err;
	}
	if ((f = OPENSSL_zalloc(sizeof(*f))) == NULL)
		goto err;
	seq = l->v[inner].pki_data->controlSequence;
	for (i = 0; i < sk_SKD_TAGGED_ATTRIBUTE_num(seq); i++) {
		if (!add_control(f, &gl, sk_SKD_TAGGED_ATTRIBUTE_value(seq, i),
		    err))
			goto err;
	}
	if (gl == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "forwarded request holds no member control");
		goto err;
	}
	/* RFC 5275 3.2.6: the GLA signs with a certificate naming the GL. */
	if (!skd_gname_match_cert(gl, l->v[so].verified->signer)) {
		skd_client_seterr(err, SKD_CLIENT_ERR_NAME, "forwarded request "
		    "not believed: the GLA's certificate does not name the GL");
		goto err;
	}
	if (skd_cmc_get_nonce(seq, SKD_OID_CMC_SENDER_NONCE, &f->nonce,
	    &f->nonce_len) < 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "forwarded request: malformed senderNonce");
		goto err;
	}
	if ((ta = skd_cmc_find_control(seq, SKD_OID_CMC_TRANSACTION_ID, 0)) !=
	    NULL && (f->tid = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(ASN1_INTEGER))) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "forwarded request: malformed transactionId");
		goto err;
	}
	for (i = 0; i < outer; i++)
		f->was_encrypted |= l->v[i].type == SKD_LAYER_ENVELOPED;
	if (!f->was_encrypted) {
		f->resubmit = OPENSSL_memdup(der, len);
		f->resubmit_len = len;
	} else {
		const STACK_OF(SKD_TAGGED_CONTENT_INFO) *cs =
		    l->v[outer].pki_data->cmsSequence;
		int dl;

		if (sk_SKD_TAGGED_CONTENT_INFO_num(cs) != 1 ||
		    (dl = i2d_CMS_ContentInfo(sk_SKD_TAGGED_CONTENT_INFO_value(
		    cs, 0)->contentInfo, &f->resubmit)) <= 0) {
			skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
			    "forwarded request: one request expected inside");
			goto err;
		}
		f->resubmit_len = (size_t)dl;
	}
	f->gla_subject = subject_text(l->v[so].verified->signer);
	f->signer = subject_text(l->v[si].verified->signer);
	f->gl_name = skd_gname_to_text(gl);
	f->forwarded_at = l->v[so].verified->signing_time;
	f->signing_time = l->v[si].verified->signing_time;
	if (f->gla_subject == NULL || f->signer == NULL || f->gl_name == NULL ||
	    f->resubmit == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
		goto err;
	}
	*out = f;
	f = NULL;
	ok = 1;
 err:
	if (!ok && err != NULL && err->code == SKD_CLIENT_OK)
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
	GENERAL_NAME_free(gl);
	skd_client_forward_free(f);
	skd_layers_free(l);
	return ok;
}

int
skd_client_denial_build(unsigned char **out, size_t *out_len,
    const struct skd_client_forward *f, const char *reason,
    const struct skd_client_ident *id, time_t now,
    struct skd_client_error *err)
{
	struct skd_cmc_body *b = NULL;
	int ok = 0;

	*out = NULL;
	if (reason == NULL || reason[0] == '\0')
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "a denial needs a reason (RFC 5275 3.2.4.1 statusString)");
	/* RFC 5275 3.2.4.1: "If the request is denied, CMCStatus.failed is
	 * returned and statusString ..."; 3.2.4.2: the member's
	 * transactionId and nonce come back. */
	if ((b = skd_cmc_body_new(1)) == NULL ||
	    skd_cmc_body_add_status(b, SKD_CMC_FAILED, f->body_ids,
	    f->n_controls, reason, -1, -1) == 0 ||
	    (f->tid != NULL && skd_cmc_body_add_transaction_id(b, f->tid) ==
	    0) || (f->nonce != NULL && skd_cmc_body_add_recipient_nonce(b,
	    f->nonce, f->nonce_len) == 0) ||
	    !skd_client_protect_response(out, out_len, b, id, now))
		goto err;
	ok = 1;
 err:
	if (!ok)
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "cannot build the denial");
	skd_cmc_body_free(b);
	return ok;
}

int
skd_client_denial_request(struct skd_client_request **out,
    const struct skd_client_forward *f, const char *reason,
    const struct skd_client_ident *id, time_t now,
    struct skd_client_error *err)
{
	struct skd_client_request *r = NULL;
	unsigned char *den = NULL;
	size_t den_len = 0;
	int ok = 0;

	*out = NULL;
	if (f->was_encrypted)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT, "the "
		    "forwarded request came encrypted for us: the GLA could "
		    "not open it again, so the denial cannot go through the "
		    "GLA (deliver it yourself: skd glo deny --out FILE)");
	if (!skd_client_denial_build(&den, &den_len, f, reason, id, now, err))
		goto err;
	if ((r = skd_client_request_new(err)) == NULL)
		goto err;
	/* RFC 5275 3.2.2: each cmsSequence item gets its own bodyPartID. */
	if (skd_client_request_add_cms(r, f->resubmit, f->resubmit_len) == 0 ||
	    skd_client_request_add_cms(r, den, den_len) == 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
		goto err;
	}
	*out = r;
	r = NULL;
	ok = 1;
 err:
	OPENSSL_free(den);
	skd_client_request_free(r);
	return ok;
}

/* ---- what a response entry holds ---- */

/* Walks der with signatures checked but no path (we only classify or
 * take apart; skd_client_response_check does the checking). */
static struct skd_layers *
walk_loose(const unsigned char *der, size_t len,
    const struct skd_client_ident *id)
{
	struct skd_layers_opts o;
	struct skd_cms_opener op;
	struct skd_layers *l = NULL;

	memset(&o, 0, sizeof(o));
	memset(&op, 0, sizeof(op));
	o.now = time(NULL);
	if (id != NULL) {
		op.cert = id->cert;
		op.key = id->key;
		o.opener = &op;
	}
	if (!skd_layers_walk(&l, der, len, &o)) {
		skd_layers_free(l);
		l = NULL;
	}
	ERR_clear_error();
	return l;
}

int
skd_client_message_is_request(const unsigned char *der, size_t len,
    const struct skd_client_ident *id)
{
	struct skd_layers *l = walk_loose(der, len, id);
	size_t i;
	int rc = 0;

	if (l == NULL)
		return 0;
	for (i = 0; i < l->n; i++) {
		if (l->v[i].type == SKD_LAYER_PKI_RESPONSE)
			break;
		if (l->v[i].type == SKD_LAYER_PKI_DATA) {
			rc = 1;
			break;
		}
	}
	skd_layers_free(l);
	return rc;
}

int
skd_client_response_items(struct skd_store_blob **out, size_t *out_n,
    const unsigned char *der, size_t len, const struct skd_client_ident *id,
    struct skd_client_error *err)
{
	struct skd_layers *l = walk_loose(der, len, id);
	const STACK_OF(SKD_TAGGED_CONTENT_INFO) *seq = NULL;
	struct skd_store_blob *v = NULL;
	unsigned char *p;
	size_t i;
	int k, n, ok = 0;

	*out = NULL;
	*out_n = 0;
	if (l == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "response cannot be taken apart");
	for (i = 0; i < l->n; i++) {
		if (l->v[i].type == SKD_LAYER_PKI_RESPONSE) {
			seq = l->v[i].pki_response->cmsSequence;
			break;
		}
	}
	n = sk_SKD_TAGGED_CONTENT_INFO_num(seq);
	if (n <= 0) {
		ok = 1;
		goto err;
	}
	if ((v = OPENSSL_zalloc((size_t)n * sizeof(*v))) == NULL)
		goto err;
	for (k = 0; k < n; k++) {
		int dl;

		p = NULL;
		if ((dl = i2d_CMS_ContentInfo(sk_SKD_TAGGED_CONTENT_INFO_value(
		    seq, k)->contentInfo, &p)) <= 0)
			goto err;
		v[k].data = p;
		v[k].len = (size_t)dl;
	}
	*out = v;
	*out_n = (size_t)n;
	v = NULL;
	ok = 1;
 err:
	if (v != NULL) {
		for (k = 0; k < n; k++)
			OPENSSL_free(v[k].data);
		OPENSSL_free(v);
	}
	if (!ok)
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
	skd_layers_free(l);
	return ok;
}

void
skd_client_items_free(struct skd_store_blob *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		OPENSSL_free(v[i].data);
	OPENSSL_free(v);
}
