/*
 * request.c: GLO and member requests (RFC 5275 3.2 and 4): control values
 * from simple arguments, one PKIData per request with transactionId and
 * senderNonce, protected with skd_cmc_protect.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "cms/skd_cmc.h"
#include "client/client_local.h"

/* transactionId: 64 random bits, positive (RFC 5272 6.6). */
#define TID_LEN	8

int
skd_client_seterr(struct skd_client_error *err, enum skd_client_err code,
    const char *fmt, ...)
{
	va_list ap;
	unsigned long e;
	size_t n;

	if (err != NULL) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		n = strlen(err->msg);
		if ((e = ERR_peek_last_error()) != 0 && n + 4 < sizeof(err->msg)) {
			snprintf(err->msg + n, sizeof(err->msg) - n, " (%s)",
			    ERR_reason_error_string(e) != NULL ?
			    ERR_reason_error_string(e) : "OpenSSL error");
		}
	}
	ERR_clear_error();
	return 0;
}

const char *
skd_client_err_name(enum skd_client_err e)
{
	static const char *const names[] = {
		"ok", "input", "key mismatch", "crypto", "name", "nonce",
		"time", "GLA binding", "key store", "no key", "directory",
		"timeout", "refused", "internal"
	};

	if ((size_t)e >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[e];
}

GENERAL_NAME *
skd_client_gname(const char *text, const char *what,
    struct skd_client_error *err)
{
	GENERAL_NAME *gn;

	if (text == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT, "%s: missing",
		    what);
		return NULL;
	}
	if ((gn = skd_gname_from_text(text)) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "%s: '%s' is not a name (use email:, URI:, DNS:, "
		    "dirName: or IP:)", what, text);
		return NULL;
	}
	return gn;
}

/* Replaces *slot (possibly an empty CHOICE from _new) by text's name. */
static int
set_gname(GENERAL_NAME **slot, const char *text, const char *what,
    struct skd_client_error *err)
{
	GENERAL_NAME *gn = skd_client_gname(text, what, err);

	if (gn == NULL)
		return 0;
	GENERAL_NAME_free(*slot);
	*slot = gn;
	return 1;
}

/* ---- identities ---- */

void
skd_client_ident_free(struct skd_client_ident *id)
{
	if (id == NULL)
		return;
	X509_free(id->cert);
	EVP_PKEY_free(id->key);
	sk_X509_pop_free(id->chain, X509_free);
	OPENSSL_free(id);
}

X509 *
skd_client_cert_load(const char *path, struct skd_client_error *err)
{
	BIO *b;
	X509 *x = NULL;

	if ((b = BIO_new_file(path, "rb")) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "%s: cannot open", path);
		return NULL;
	}
	if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		(void)BIO_reset(b);
		ERR_clear_error();
		x = d2i_X509_bio(b, NULL);
	}
	BIO_free(b);
	if (x == NULL)
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "%s: not a certificate", path);
	return x;
}

struct skd_client_ident *
skd_client_ident_load(const char *cert_path, const char *key_path,
    struct skd_client_error *err)
{
	struct skd_client_ident *id = NULL;
	BIO *b = NULL;
	X509 *x;

	if (cert_path == NULL || key_path == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "a certificate and its private key are needed "
		    "(--cert FILE --key FILE)");
		return NULL;
	}
	if ((id = OPENSSL_zalloc(sizeof(*id))) == NULL)
		goto nomem;
	if ((id->cert = skd_client_cert_load(cert_path, err)) == NULL)
		goto err;
	/* Further certificates in the file are the chain. */
	if ((b = BIO_new_file(cert_path, "rb")) != NULL &&
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		X509_free(x);
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
			if (id->chain == NULL &&
			    (id->chain = sk_X509_new_null()) == NULL) {
				X509_free(x);
				goto nomem;
			}
			if (!sk_X509_push(id->chain, x)) {
				X509_free(x);
				goto nomem;
			}
		}
	}
	BIO_free(b);
	ERR_clear_error();
	if ((b = BIO_new_file(key_path, "rb")) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "%s: cannot open", key_path);
		goto err;
	}
	if ((id->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "%s: not an unencrypted PEM private key", key_path);
		goto err;
	}
	if (X509_check_private_key(id->cert, id->key) != 1) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEY_MISMATCH,
		    "%s: private key does not match certificate %s",
		    key_path, cert_path);
		goto err;
	}
	BIO_free(b);
	return id;
 nomem:
	skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL, "out of memory");
 err:
	BIO_free(b);
	skd_client_ident_free(id);
	return NULL;
}

/* ---- control values (RFC 5275 3.1) ---- */

static SKD_CERTIFICATES *
certificates_of(X509 *cert)
{
	SKD_CERTIFICATES *c;

	if ((c = SKD_CERTIFICATES_new()) == NULL)
		return NULL;
	if (!X509_up_ref(cert)) {
		SKD_CERTIFICATES_free(c);
		return NULL;
	}
	X509_free(c->pKC);
	c->pKC = cert;
	return c;
}

static SKD_GL_OWNER_INFO *
owner_info(const struct skd_client_party *o, struct skd_client_error *err)
{
	SKD_GL_OWNER_INFO *oi;

	if ((oi = SKD_GL_OWNER_INFO_new()) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
		return NULL;
	}
	if (!set_gname(&oi->glOwnerName, o->name, "owner name", err) ||
	    !set_gname(&oi->glOwnerAddress, o->address != NULL ? o->address :
	    o->name, "owner address", err))
		goto err;
	if (o->cert != NULL && (oi->certificates = certificates_of(o->cert)) ==
	    NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
		goto err;
	}
	return oi;
 err:
	SKD_GL_OWNER_INFO_free(oi);
	return NULL;
}

static int
alg_ok(int nid)
{
	return nid == 0 || nid == NID_id_aes128_wrap ||
	    nid == NID_id_aes192_wrap || nid == NID_id_aes256_wrap;
}

SKD_GL_USE_KEK *
skd_client_new_use_kek(const struct skd_client_gl_params *p,
    const struct skd_client_party *owners, size_t n_owners,
    struct skd_client_error *err)
{
	SKD_GL_USE_KEK *u = NULL;
	SKD_GL_KEY_ATTRIBUTES *a = NULL;
	SKD_GL_OWNER_INFO *oi = NULL;
	size_t i;

	if (n_owners == 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "glUseKEK needs at least one owner (RFC 5275 3.1.1)");
		return NULL;
	}
	if (!alg_ok(p->alg_nid) || (p->generations >= 0 &&
	    p->generations < 2) || p->duration < -1 || p->admin < -1 ||
	    p->admin > SKD_GL_CLOSED) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "glUseKEK: bad algorithm, duration, generation count "
		    "(at least 2) or administration");
		return NULL;
	}
	if ((u = SKD_GL_USE_KEK_new()) == NULL ||
	    (a = SKD_GL_KEY_ATTRIBUTES_new()) == NULL)
		goto nomem;
	if (!set_gname(&u->glInfo->glName, p->name, "GL name", err) ||
	    !set_gname(&u->glInfo->glAddress, p->address != NULL ?
	    p->address : p->name, "GL address", err))
		goto err;
	for (i = 0; i < n_owners; i++) {
		if ((oi = owner_info(&owners[i], err)) == NULL)
			goto err;
		if (!sk_SKD_GL_OWNER_INFO_push(u->glOwnerInfo, oi))
			goto nomem;
		oi = NULL;
	}
	if (p->admin >= 0 && !skd_glusekek_set_admin(u, p->admin))
		goto nomem;
	if (p->rekey_by_glo >= 0)
		skd_glkeyattrs_set_rekey_by_glo(a, p->rekey_by_glo);
	if (p->not_mutually_aware >= 0)
		skd_glkeyattrs_set_not_mutually_aware(a,
		    p->not_mutually_aware);
	if ((p->duration >= 0 && !skd_glkeyattrs_set_duration(a,
	    p->duration)) || (p->generations >= 0 &&
	    !skd_glkeyattrs_set_generation_counter(a, p->generations)) ||
	    (p->alg_nid != 0 && !skd_glkeyattrs_set_alg_nid(a, p->alg_nid)))
		goto nomem;
	u->glKeyAttributes = a;
	return u;
 nomem:
	skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL, "out of memory");
 err:
	SKD_GL_OWNER_INFO_free(oi);
	SKD_GL_KEY_ATTRIBUTES_free(a);
	SKD_GL_USE_KEK_free(u);
	return NULL;
}

GENERAL_NAME *
skd_client_new_gname(const char *text, struct skd_client_error *err)
{
	return skd_client_gname(text, "GL name", err);
}

/* glAddMember and glManageCert share GLAddMember's shape (3.1.12). */
static SKD_GL_ADD_MEMBER *
member_value(const char *gl, const struct skd_client_party *m,
    struct skd_client_error *err)
{
	SKD_GL_ADD_MEMBER *am;

	if ((am = SKD_GL_ADD_MEMBER_new()) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
		return NULL;
	}
	if (!set_gname(&am->glName, gl, "GL name", err) ||
	    !set_gname(&am->glMember->glMemberName, m->name, "member name",
	    err))
		goto err;
	if (m->address != NULL && (am->glMember->glMemberAddress =
	    skd_client_gname(m->address, "member address", err)) == NULL)
		goto err;
	if (m->cert != NULL && (am->glMember->certificates =
	    certificates_of(m->cert)) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
		goto err;
	}
	return am;
 err:
	SKD_GL_ADD_MEMBER_free(am);
	return NULL;
}

SKD_GL_ADD_MEMBER *
skd_client_new_add_member(const char *gl,
    const struct skd_client_party *member, struct skd_client_error *err)
{
	return member_value(gl, member, err);
}

SKD_GL_MANAGE_CERT *
skd_client_new_manage_cert(const char *gl,
    const struct skd_client_party *member, struct skd_client_error *err)
{
	if (member->cert == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "glManageCert needs the new certificate");
		return NULL;
	}
	return member_value(gl, member, err);
}

SKD_GL_DELETE_MEMBER *
skd_client_new_delete_member(const char *gl, const char *member,
    struct skd_client_error *err)
{
	SKD_GL_DELETE_MEMBER *dm;

	if ((dm = SKD_GL_DELETE_MEMBER_new()) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
		return NULL;
	}
	if (!set_gname(&dm->glName, gl, "GL name", err) ||
	    !set_gname(&dm->glMemberToDelete, member, "member name", err)) {
		SKD_GL_DELETE_MEMBER_free(dm);
		return NULL;
	}
	return dm;
}

SKD_GL_REKEY *
skd_client_new_rekey(const char *gl, const struct skd_client_gl_params *p,
    int all_keys, struct skd_client_error *err)
{
	SKD_GL_REKEY *rk = NULL;
	SKD_GL_NEW_KEY_ATTRIBUTES *na = NULL;

	if (p != NULL && (!alg_ok(p->alg_nid) || (p->generations >= 0 &&
	    p->generations < 2) || p->duration < -1 || p->admin < -1 ||
	    p->admin > SKD_GL_CLOSED)) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "glRekey: bad algorithm, duration, generation count "
		    "or administration");
		return NULL;
	}
	if ((rk = SKD_GL_REKEY_new()) == NULL)
		goto nomem;
	if (!set_gname(&rk->glName, gl, "GL name", err))
		goto err;
	if (p != NULL && p->admin >= 0) {
		if ((rk->glAdministration = ASN1_INTEGER_new()) == NULL ||
		    !ASN1_INTEGER_set(rk->glAdministration, p->admin))
			goto nomem;
	}
	if (p != NULL && (p->rekey_by_glo >= 0 ||
	    p->not_mutually_aware >= 0 || p->duration >= 0 ||
	    p->generations >= 0 || p->alg_nid != 0)) {
		if ((na = SKD_GL_NEW_KEY_ATTRIBUTES_new()) == NULL)
			goto nomem;
		skd_asn1_opt_bool_set(&na->rekeyControlledByGLO,
		    p->rekey_by_glo);
		skd_asn1_opt_bool_set(&na->recipientsNotMutuallyAware,
		    p->not_mutually_aware);
		if (p->duration >= 0 && ((na->duration = ASN1_INTEGER_new()) ==
		    NULL || !ASN1_INTEGER_set(na->duration, p->duration)))
			goto nomem;
		if (p->generations >= 0 && ((na->generationCounter =
		    ASN1_INTEGER_new()) == NULL ||
		    !ASN1_INTEGER_set(na->generationCounter, p->generations)))
			goto nomem;
		if (p->alg_nid != 0) {
			if ((na->requestedAlgorithm = X509_ALGOR_new()) == NULL ||
			    !X509_ALGOR_set0(na->requestedAlgorithm,
			    OBJ_nid2obj(p->alg_nid), V_ASN1_UNDEF, NULL))
				goto nomem;
		}
		rk->glNewKeyAttributes = na;
		na = NULL;
	}
	skd_asn1_opt_bool_set(&rk->glRekeyAllGLKeys, all_keys);
	return rk;
 nomem:
	skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL, "out of memory");
 err:
	SKD_GL_NEW_KEY_ATTRIBUTES_free(na);
	SKD_GL_REKEY_free(rk);
	return NULL;
}

SKD_GL_OWNER_ADMINISTRATION *
skd_client_new_owner_admin(const char *gl,
    const struct skd_client_party *owner, struct skd_client_error *err)
{
	SKD_GL_OWNER_ADMINISTRATION *oa;
	SKD_GL_OWNER_INFO *oi;

	if ((oa = SKD_GL_OWNER_ADMINISTRATION_new()) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
		return NULL;
	}
	if (!set_gname(&oa->glName, gl, "GL name", err) ||
	    (oi = owner_info(owner, err)) == NULL) {
		SKD_GL_OWNER_ADMINISTRATION_free(oa);
		return NULL;
	}
	SKD_GL_OWNER_INFO_free(oa->glOwnerInfo);
	oa->glOwnerInfo = oi;
	return oa;
}

SKD_GL_KREFRESH *
skd_client_new_refresh(const char *gl, time_t start, time_t end,
    struct skd_client_error *err)
{
	SKD_GL_KREFRESH *r = NULL;
	SKD_DATE *d = NULL;

	if (end != 0 && end < start) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "glkRefresh: end before start");
		return NULL;
	}
	if ((r = SKD_GL_KREFRESH_new()) == NULL ||
	    (d = SKD_DATE_new()) == NULL)
		goto nomem;
	if (!set_gname(&r->glName, gl, "GL name", err))
		goto err;
	if (ASN1_GENERALIZEDTIME_set(d->start, start) == NULL)
		goto nomem;
	if (end != 0 && ((d->end = ASN1_GENERALIZEDTIME_new()) == NULL ||
	    ASN1_GENERALIZEDTIME_set(d->end, end) == NULL))
		goto nomem;
	if (!sk_SKD_DATE_push(r->dates, d))
		goto nomem;
	return r;
 nomem:
	skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL, "out of memory");
 err:
	SKD_DATE_free(d);
	SKD_GL_KREFRESH_free(r);
	return NULL;
}

SKD_GLA_QUERY_REQUEST *
skd_client_new_alg_query(struct skd_client_error *err)
{
	SKD_GLA_QUERY_REQUEST *q;

	if ((q = SKD_GLA_QUERY_REQUEST_new()) == NULL)
		goto err;
	ASN1_OBJECT_free(q->type);
	if ((q->type = OBJ_nid2obj(skd_asn1_nid(
	    SKD_OID_GLA_SKD_ALG_REQUEST))) == NULL)
		goto err;
	ASN1_TYPE_free(q->value);
	if ((q->value = ASN1_TYPE_new()) == NULL)
		goto err;
	/* SKDAlgRequest ::= NULL (RFC 5275 3.1.10) */
	ASN1_TYPE_set(q->value, V_ASN1_NULL, NULL);
	return q;
 err:
	SKD_GLA_QUERY_REQUEST_free(q);
	skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL, "out of memory");
	return NULL;
}

/* ---- the request object ---- */

struct skd_client_request {
	struct skd_cmc_body	*body;
	ASN1_INTEGER		*tid;
	unsigned char		 nonce[SKD_CMC_NONCE_LEN];
	int			 finished;
};

void
skd_client_request_free(struct skd_client_request *r)
{
	if (r == NULL)
		return;
	skd_cmc_body_free(r->body);
	ASN1_INTEGER_free(r->tid);
	OPENSSL_free(r);
}

struct skd_client_request *
skd_client_request_new(struct skd_client_error *err)
{
	struct skd_client_request *r;
	unsigned char t[TID_LEN];
	BIGNUM *bn = NULL;

	if ((r = OPENSSL_zalloc(sizeof(*r))) == NULL)
		goto err;
	if ((r->body = skd_cmc_body_new(0)) == NULL)
		goto err;
	if (RAND_bytes(r->nonce, sizeof(r->nonce)) != 1 ||
	    RAND_bytes(t, sizeof(t)) != 1)
		goto err;
	t[0] &= 0x7f;
	t[0] |= 0x01;	/* positive, and a full TID_LEN bytes */
	if ((bn = BN_bin2bn(t, sizeof(t), NULL)) == NULL ||
	    (r->tid = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		goto err;
	BN_free(bn);
	return r;
 err:
	BN_free(bn);
	skd_client_request_free(r);
	skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
	    "cannot start a request");
	return NULL;
}

long
skd_client_request_add(struct skd_client_request *r, enum skd_oid oid,
    const void *val)
{
	if (r->finished)
		return 0;
	return skd_cmc_body_add_control(r->body, oid, val);
}

long
skd_client_request_add_cms(struct skd_client_request *r,
    const unsigned char *der, size_t len)
{
	if (r->finished)
		return 0;
	return skd_cmc_body_add_cms(r->body, der, len);
}

const unsigned char *
skd_client_request_nonce(const struct skd_client_request *r,
    size_t *out_len)
{
	*out_len = sizeof(r->nonce);
	return r->nonce;
}

const ASN1_INTEGER *
skd_client_request_tid(const struct skd_client_request *r)
{
	return r->tid;
}

int
skd_client_protect_response(unsigned char **out, size_t *out_len,
    struct skd_cmc_body *b, const struct skd_client_ident *id, time_t now)
{
	struct skd_cmc_protect p;
	unsigned char *body = NULL;
	size_t body_len = 0;
	int ok;

	if (!skd_cmc_body_encode(b, &body, &body_len))
		return 0;
	memset(&p, 0, sizeof(p));
	p.signer = id->cert;
	p.key = id->key;
	p.chain = id->chain;
	p.signing_time = now;
	ok = skd_cmc_protect(out, out_len, 1, body, body_len, &p);
	OPENSSL_free(body);
	return ok;
}

int
skd_client_request_protect(unsigned char **out, size_t *out_len,
    struct skd_client_request *r, const struct skd_client_ident *id,
    X509 *encrypt_to, int outer_sign, time_t now,
    struct skd_client_error *err)
{
	struct skd_cmc_protect p;
	unsigned char *body = NULL;
	size_t body_len = 0;
	int ok = 0;

	*out = NULL;
	if (!r->finished) {
		/* RFC 5275 3.2.4.2: transactionId and senderNonce. */
		if (skd_cmc_body_add_transaction_id(r->body, r->tid) == 0 ||
		    skd_cmc_body_add_sender_nonce(r->body, r->nonce,
		    sizeof(r->nonce)) == 0) {
			skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
			    "cannot add transactionId/senderNonce");
			return 0;
		}
		r->finished = 1;
	}
	if (!skd_cmc_body_encode(r->body, &body, &body_len)) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "cannot encode PKIData");
		goto err;
	}
	memset(&p, 0, sizeof(p));
	p.signer = id->cert;
	p.key = id->key;
	p.chain = id->chain;
	p.signing_time = now;		/* RFC 5275 3.2.4.3 */
	p.encrypt_to = encrypt_to;
	p.outer_sign = encrypt_to != NULL && outer_sign;
	if (!skd_cmc_protect(out, out_len, 0, body, body_len, &p)) {
		skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
		    "cannot sign or encrypt the request");
		goto err;
	}
	ok = 1;
 err:
	OPENSSL_free(body);
	return ok;
}
