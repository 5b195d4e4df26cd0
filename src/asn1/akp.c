/*
 * akp.c: AsymmetricKeyPackage (RFC 5958) templates and the conversion
 * to and from OpenSSL's keys through PKCS#8 (the v1 OneAsymmetricKey).
 */
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "asn1/skd_akp.h"
#include "asn1/skd_asn1.h"

static int
oak_cb(int op, ASN1_VALUE **pval, const ASN1_ITEM *it, void *exarg)
{
	SKD_ONE_ASYMMETRIC_KEY *k;

	(void)it;
	(void)exarg;
	if (op == ASN1_OP_FREE_PRE) {
		k = (SKD_ONE_ASYMMETRIC_KEY *)*pval;
		if (k != NULL && k->privateKey != NULL &&
		    k->privateKey->data != NULL)
			OPENSSL_cleanse(k->privateKey->data,
			    (size_t)k->privateKey->length);
	}
	return 1;
}

ASN1_SEQUENCE_cb(SKD_ONE_ASYMMETRIC_KEY, oak_cb) = {
	ASN1_SIMPLE(SKD_ONE_ASYMMETRIC_KEY, version, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_ONE_ASYMMETRIC_KEY, privateKeyAlgorithm, X509_ALGOR),
	ASN1_SIMPLE(SKD_ONE_ASYMMETRIC_KEY, privateKey, ASN1_OCTET_STRING),
	ASN1_IMP_SET_OF_OPT(SKD_ONE_ASYMMETRIC_KEY, attributes,
	    X509_ATTRIBUTE, 0),
	ASN1_IMP_OPT(SKD_ONE_ASYMMETRIC_KEY, publicKey, ASN1_BIT_STRING, 1)
} ASN1_SEQUENCE_END_cb(SKD_ONE_ASYMMETRIC_KEY, SKD_ONE_ASYMMETRIC_KEY)
IMPLEMENT_ASN1_FUNCTIONS(SKD_ONE_ASYMMETRIC_KEY)

ASN1_ITEM_TEMPLATE(SKD_ASYMMETRIC_KEY_PACKAGE) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, AsymmetricKeyPackage,
	    SKD_ONE_ASYMMETRIC_KEY)
ASN1_ITEM_TEMPLATE_END(SKD_ASYMMETRIC_KEY_PACKAGE)
IMPLEMENT_ASN1_FUNCTIONS(SKD_ASYMMETRIC_KEY_PACKAGE)

static ASN1_OBJECT *akp_obj;
static CRYPTO_ONCE akp_once = CRYPTO_ONCE_STATIC_INIT;

/* Not registered as a NID (skd_asn1_init owns OBJ_create); the object
 * alone is enough for eContentType. */
static void
akp_init(void)
{
	akp_obj = OBJ_txt2obj(SKD_AKP_OID, 1);
}

const ASN1_OBJECT *
skd_akp_content_type(void)
{
	if (!CRYPTO_THREAD_run_once(&akp_once, akp_init))
		return NULL;
	return akp_obj;
}

int
skd_akp_encode_key(unsigned char **out, size_t *out_len, EVP_PKEY *pkey)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	SKD_ONE_ASYMMETRIC_KEY *k = NULL;
	SKD_ASYMMETRIC_KEY_PACKAGE *akp = NULL;
	X509_PUBKEY *xpk = NULL;
	unsigned char *p8der = NULL;
	const unsigned char *pp, *pub;
	int n, publen, ok = 0;

	*out = NULL;
	*out_len = 0;
	/* The v1 body is PKCS#8's, field for field. */
	if ((p8 = EVP_PKEY2PKCS8(pkey)) == NULL ||
	    (n = i2d_PKCS8_PRIV_KEY_INFO(p8, &p8der)) <= 0)
		goto err;
	pp = p8der;
	if ((k = d2i_SKD_ONE_ASYMMETRIC_KEY(NULL, &pp, n)) == NULL)
		goto err;
	/* v2 with the public key (draft section 5: SHOULD be included). */
	if (!X509_PUBKEY_set(&xpk, pkey) ||
	    !X509_PUBKEY_get0_param(NULL, &pub, &publen, NULL, xpk) ||
	    (k->publicKey = ASN1_BIT_STRING_new()) == NULL ||
	    !ASN1_BIT_STRING_set(k->publicKey, (unsigned char *)pub, publen) ||
	    !ASN1_INTEGER_set(k->version, 1))
		goto err;
	k->publicKey->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	k->publicKey->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	if ((akp = sk_SKD_ONE_ASYMMETRIC_KEY_new_null()) == NULL ||
	    !sk_SKD_ONE_ASYMMETRIC_KEY_push(akp, k))
		goto err;
	k = NULL;
	if (!skd_der_encode(ASN1_ITEM_rptr(SKD_ASYMMETRIC_KEY_PACKAGE), akp,
	    out, out_len))
		goto err;
	ok = 1;
 err:
	if (p8der != NULL)
		OPENSSL_clear_free(p8der, (size_t)n);
	PKCS8_PRIV_KEY_INFO_free(p8);
	SKD_ONE_ASYMMETRIC_KEY_free(k);
	SKD_ASYMMETRIC_KEY_PACKAGE_free(akp);
	X509_PUBKEY_free(xpk);
	return ok;
}

EVP_PKEY *
skd_akp_decode_key(const unsigned char *der, size_t len)
{
	SKD_ASYMMETRIC_KEY_PACKAGE *akp;
	SKD_ONE_ASYMMETRIC_KEY *k, *v1 = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	X509_PUBKEY *xpk = NULL;
	EVP_PKEY *pkey = NULL, *ret = NULL;
	unsigned char *v1der = NULL;
	const unsigned char *pp, *pub;
	int n = 0, publen;
	long ver;

	if ((akp = skd_der_decode(ASN1_ITEM_rptr(SKD_ASYMMETRIC_KEY_PACKAGE),
	    der, len)) == NULL)
		return NULL;
	if (sk_SKD_ONE_ASYMMETRIC_KEY_num(akp) != 1)
		goto err;
	k = sk_SKD_ONE_ASYMMETRIC_KEY_value(akp, 0);
	ver = ASN1_INTEGER_get(k->version);
	if (ver != 0 && ver != 1)
		goto err;
	if (k->publicKey != NULL && ver != 1)
		goto err;
	/* PKCS#8 is the v1 form: the same fields without the public key. */
	if ((v1 = SKD_ONE_ASYMMETRIC_KEY_new()) == NULL ||
	    !ASN1_INTEGER_set(v1->version, 0))
		goto err;
	X509_ALGOR_free(v1->privateKeyAlgorithm);
	ASN1_OCTET_STRING_free(v1->privateKey);
	v1->privateKeyAlgorithm = k->privateKeyAlgorithm;
	v1->privateKey = k->privateKey;
	v1->attributes = k->attributes;
	n = i2d_SKD_ONE_ASYMMETRIC_KEY(v1, &v1der);
	v1->privateKeyAlgorithm = NULL;
	v1->privateKey = NULL;
	v1->attributes = NULL;
	if (n <= 0)
		goto err;
	pp = v1der;
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &pp, n)) == NULL ||
	    (pkey = EVP_PKCS82PKEY(p8)) == NULL)
		goto err;
	if (k->publicKey != NULL) {
		if (!X509_PUBKEY_set(&xpk, pkey) ||
		    !X509_PUBKEY_get0_param(NULL, &pub, &publen, NULL, xpk) ||
		    publen != k->publicKey->length ||
		    memcmp(pub, k->publicKey->data, (size_t)publen) != 0)
			goto err;
	}
	ret = pkey;
	pkey = NULL;
 err:
	if (v1der != NULL)
		OPENSSL_clear_free(v1der, (size_t)n);
	SKD_ONE_ASYMMETRIC_KEY_free(v1);
	PKCS8_PRIV_KEY_INFO_free(p8);
	X509_PUBKEY_free(xpk);
	EVP_PKEY_free(pkey);
	SKD_ASYMMETRIC_KEY_PACKAGE_free(akp);
	return ret;
}
