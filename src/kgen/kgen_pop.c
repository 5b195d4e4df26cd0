/*
 * kgen_pop.c: proof of possession of a server-generated key (draft
 * section 8): for encryption-only certificates the CA answers popRequired
 * with an Encrypted POP control and the client returns a Decrypted POP
 * (RFC 5272 6.7).  Stateless, as 6.7 allows: y is derived from a secret
 * of the CA's and the request, which names the issued certificate.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "kgen/skd_kgen.h"

#define POP_Y_LEN	32

static int
hmac256(unsigned char out[32], const unsigned char *key, size_t key_len,
    const unsigned char *data, size_t len)
{
	size_t n = 0;

	return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len,
	    data, len, out, 32, &n) != NULL && n == 32;
}

/* DER of the TaggedRequest orm naming cert. */
static SKD_TAGGED_REQUEST *
pop_request(X509 *cert, long bpid)
{
	SKD_TAGGED_REQUEST *req = NULL;
	SKD_OTHER_REQUEST *orm;
	unsigned char *der = NULL;
	const unsigned char *p;
	int n;

	if ((req = SKD_TAGGED_REQUEST_new()) == NULL ||
	    (orm = SKD_OTHER_REQUEST_new()) == NULL)
		goto err;
	req->type = SKD_TAGGED_REQUEST_ORM;
	req->d.orm = orm;
	ASN1_OBJECT_free(orm->requestMessageType);
	ASN1_TYPE_free(orm->requestMessageValue);
	orm->requestMessageValue = NULL;
	if (!ASN1_INTEGER_set(orm->bodyPartID, bpid) ||
	    (orm->requestMessageType = OBJ_nid2obj(skd_asn1_nid(
	    SKD_OID_POP_CERTIFICATE))) == NULL ||
	    (n = i2d_X509(cert, &der)) <= 0)
		goto err;
	p = der;
	if ((orm->requestMessageValue = d2i_ASN1_TYPE(NULL, &p, n)) == NULL)
		goto err;
	OPENSSL_free(der);
	return req;
 err:
	OPENSSL_free(der);
	SKD_TAGGED_REQUEST_free(req);
	return NULL;
}

/* y for req: HMAC-SHA256(pop_secret, DER(req)); *der_out the DER. */
static int
pop_y(unsigned char y[POP_Y_LEN], unsigned char **der_out, int *der_len,
    const struct skd_kgen_ca *ca, const SKD_TAGGED_REQUEST *req)
{
	*der_out = NULL;
	if (ca->pop_secret == NULL || ca->pop_secret_len < 16 ||
	    (*der_len = i2d_SKD_TAGGED_REQUEST((SKD_TAGGED_REQUEST *)req,
	    der_out)) <= 0)
		return 0;
	return hmac256(y, ca->pop_secret, ca->pop_secret_len, *der_out,
	    (size_t)*der_len);
}

X509 *
skd_kgen_pop_cert(const SKD_TAGGED_REQUEST *req)
{
	const SKD_OTHER_REQUEST *orm;
	unsigned char *der = NULL;
	X509 *x;
	int n;

	if (req == NULL || req->type != SKD_TAGGED_REQUEST_ORM ||
	    (orm = req->d.orm) == NULL ||
	    OBJ_obj2nid(orm->requestMessageType) !=
	    skd_asn1_nid(SKD_OID_POP_CERTIFICATE) ||
	    (n = i2d_ASN1_TYPE(orm->requestMessageValue, &der)) <= 0)
		return NULL;
	/* Strict DER, as every input. */
	x = skd_der_decode(ASN1_ITEM_rptr(X509), der, (size_t)n);
	OPENSSL_free(der);
	return x;
}

SKD_ENCRYPTED_POP *
skd_kgen_pop_challenge(const struct skd_kgen_ca *ca, X509 *cert, long bpid)
{
	SKD_ENCRYPTED_POP *ep = NULL;
	struct skd_shroud sh;
	unsigned char y[POP_Y_LEN], w[32], *rder = NULL, *env = NULL;
	const unsigned char *p;
	size_t env_len = 0;
	unsigned int wl = 0;
	int rlen = 0, ok = 0;

	if ((ep = SKD_ENCRYPTED_POP_new()) == NULL)
		goto err;
	SKD_TAGGED_REQUEST_free(ep->request);
	if ((ep->request = pop_request(cert, bpid)) == NULL ||
	    !pop_y(y, &rder, &rlen, ca, ep->request) ||
	    !EVP_Digest(y, sizeof(y), w, &wl, EVP_sha256(), NULL) ||
	    !ASN1_OCTET_STRING_set(ep->witness, w, (int)wl) ||
	    !X509_ALGOR_set0(ep->thePOPAlgID, OBJ_nid2obj(NID_hmacWithSHA256),
	    V_ASN1_NULL, NULL) ||
	    !X509_ALGOR_set0(ep->witnessAlgID, OBJ_nid2obj(NID_sha256),
	    V_ASN1_UNDEF, NULL))
		goto err;
	/* 6.7: y encrypted for the key being proved (the issued one). */
	memset(&sh, 0, sizeof(sh));
	sh.type = SKD_SHROUD_BY_CERT;
	sh.cert = cert;
	if (!skd_shroud_envelope(&env, &env_len, OBJ_nid2obj(NID_pkcs7_data),
	    y, sizeof(y), &sh))
		goto err;
	p = env;
	CMS_ContentInfo_free(ep->cms);
	if ((ep->cms = d2i_CMS_ContentInfo(NULL, &p, (long)env_len)) == NULL)
		goto err;
	ok = 1;
 err:
	OPENSSL_cleanse(y, sizeof(y));
	OPENSSL_free(rder);
	OPENSSL_free(env);
	if (!ok) {
		SKD_ENCRYPTED_POP_free(ep);
		ep = NULL;
	}
	return ep;
}

int
skd_kgen_pop_check(const struct skd_kgen_ca *ca,
    const SKD_TAGGED_REQUEST *req, const SKD_DECRYPTED_POP *dp)
{
	unsigned char y[POP_Y_LEN], want[32], *rder = NULL;
	int rlen = 0, ok = 0;

	if (OBJ_obj2nid(dp->thePOPAlgID->algorithm) != NID_hmacWithSHA256 ||
	    ASN1_STRING_length(dp->thePOP) != (int)sizeof(want))
		goto err;
	if (!pop_y(y, &rder, &rlen, ca, req) ||
	    !hmac256(want, y, sizeof(y), rder, (size_t)rlen))
		goto err;
	ok = CRYPTO_memcmp(want, ASN1_STRING_get0_data(dp->thePOP),
	    sizeof(want)) == 0;
 err:
	OPENSSL_cleanse(y, sizeof(y));
	OPENSSL_free(rder);
	ERR_clear_error();
	return ok;
}

SKD_DECRYPTED_POP *
skd_kgen_pop_answer(const SKD_ENCRYPTED_POP *ep, EVP_PKEY *key, X509 *cert)
{
	SKD_DECRYPTED_POP *dp = NULL;
	struct skd_shroud_opener who;
	unsigned char *env = NULL, *y = NULL, *rder = NULL, w[32], pop[32];
	size_t y_len = 0;
	unsigned int wl = 0;
	int n, rlen, ok = 0;

	memset(&who, 0, sizeof(who));
	who.cert = cert;
	who.key = key;
	if (ep->request->type != SKD_TAGGED_REQUEST_ORM ||
	    OBJ_obj2nid(ep->witnessAlgID->algorithm) != NID_sha256 ||
	    OBJ_obj2nid(ep->thePOPAlgID->algorithm) != NID_hmacWithSHA256 ||
	    (n = i2d_CMS_ContentInfo(ep->cms, &env)) <= 0 ||
	    !skd_shroud_open(&y, &y_len, NULL, env, (size_t)n, &who) ||
	    !EVP_Digest(y, y_len, w, &wl, EVP_sha256(), NULL))
		goto err;
	/* 6.7: a witness that does not match: popFailed, no answer. */
	if (ASN1_STRING_length(ep->witness) != (int)wl ||
	    CRYPTO_memcmp(w, ASN1_STRING_get0_data(ep->witness), wl) != 0)
		goto err;
	if ((rlen = i2d_SKD_TAGGED_REQUEST(ep->request, &rder)) <= 0 ||
	    !hmac256(pop, y, y_len, rder, (size_t)rlen) ||
	    (dp = SKD_DECRYPTED_POP_new()) == NULL ||
	    !ASN1_INTEGER_set(dp->bodyPartID,
	    ASN1_INTEGER_get(ep->request->d.orm->bodyPartID)) ||
	    !X509_ALGOR_set0(dp->thePOPAlgID, OBJ_nid2obj(NID_hmacWithSHA256),
	    V_ASN1_NULL, NULL) ||
	    !ASN1_OCTET_STRING_set(dp->thePOP, pop, sizeof(pop)))
		goto err;
	ok = 1;
 err:
	if (y != NULL)
		OPENSSL_clear_free(y, y_len);
	OPENSSL_free(env);
	OPENSSL_free(rder);
	ERR_clear_error();
	if (!ok) {
		SKD_DECRYPTED_POP_free(dp);
		dp = NULL;
	}
	return dp;
}
