/*
 * cms_sign.c: SignedData (RFC 5652 5) with the signed attributes RFC 5275
 * 3.2 asks for: signingTime always (3.2.4.3), contentHints when the
 * content is an EnvelopedData (3.2.1.2).
 */
#include <limits.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "cms/skd_cms.h"

/* Digest for the signer's key: SHA-256 with RSA (PKCS#1 v1.5), and the
 * digest matching the curve for ECDSA (RFC 5753 7.1.2, RFC 5008). */
static const EVP_MD *
sign_md(EVP_PKEY *key)
{
	int bits;

	if (EVP_PKEY_is_a(key, "RSA")) {
		return EVP_sha256();
	}
	if (EVP_PKEY_is_a(key, "EC")) {
		bits = EVP_PKEY_get_bits(key);
		if (bits <= 256) {
			return EVP_sha256();
		}
		return bits <= 384 ? EVP_sha384() : EVP_sha512();
	}
	return NULL;
}

/*
 * sign_add_hints adds contentHints (RFC 2634 2.9) naming the content type
 * inside the EnvelopedData ContentInfo being signed (RFC 5275 3.2.1.2).
 */
static int
sign_add_hints(CMS_SignerInfo *si, const unsigned char *content,
    size_t content_len)
{
	CMS_ContentInfo *inner = NULL;
	SKD_CONTENT_HINTS *ch = NULL;
	unsigned char *der = NULL, *ci = NULL;
	size_t ci_len = 0;
	int der_len, ok = 0;

	/* The EnvelopedData bare (RFC 5652 5.2) or as a ContentInfo. */
	if (!skd_cms_nested_content_info(&ci, &ci_len, NULL,
	    OBJ_nid2obj(NID_pkcs7_enveloped), content, content_len, 0) ||
	    (inner = skd_cms_d2i_content_info(ci, ci_len)) == NULL) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_WRONG_TYPE,
		    "skd_cms: contentHints need an EnvelopedData content");
		goto err;
	}
	if ((ch = SKD_CONTENT_HINTS_new()) == NULL) {
		goto err;
	}
	ASN1_OBJECT_free(ch->contentType);
	if ((ch->contentType = OBJ_dup(CMS_get0_eContentType(inner))) ==
	    NULL) {
		goto err;
	}
	if ((der_len = i2d_SKD_CONTENT_HINTS(ch, &der)) <= 0 ||
	    !CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_contentHint,
	    V_ASN1_SEQUENCE, der, der_len)) {
		goto err;
	}
	ok = 1;
 err:
	OPENSSL_free(der);
	OPENSSL_free(ci);
	SKD_CONTENT_HINTS_free(ch);
	CMS_ContentInfo_free(inner);
	return ok;
}

int
skd_cms_sign(unsigned char **out_der, size_t *out_len,
    const ASN1_OBJECT *econtent_type, const unsigned char *content,
    size_t content_len, X509 *signer, EVP_PKEY *key, STACK_OF(X509) *chain,
    time_t signing_time, unsigned flags)
{
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	ASN1_TIME *st = NULL;
	BIO *in = NULL;
	const EVP_MD *md;
	unsigned char *der = NULL;
	int der_len;

	*out_der = NULL;
	*out_len = 0;
	if (econtent_type == NULL || (content == NULL && content_len > 0) ||
	    content_len > INT_MAX || signer == NULL || key == NULL) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_ENCODE_FAILED,
		    "skd_cms_sign: missing argument");
		return 0;
	}
	if ((md = sign_md(key)) == NULL) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_ENCODE_FAILED,
		    "skd_cms_sign: unsupported signer key type");
		return 0;
	}
	if ((cms = CMS_sign(NULL, NULL, chain, NULL,
	    CMS_PARTIAL | CMS_BINARY)) == NULL ||
	    !CMS_set1_eContentType(cms, econtent_type)) {
		goto err;
	}
	if ((si = CMS_add1_signer(cms, signer, key, md,
	    CMS_BINARY | CMS_NOSMIMECAP)) == NULL) {
		goto err;
	}
	/* RFC 5275 3.2.4.3: signingTime on every message; UTCTime through
	 * 2049, GeneralizedTime otherwise (RFC 5652 11.3), which is what
	 * ASN1_TIME_adj chooses. */
	if ((st = ASN1_TIME_adj(NULL, signing_time, 0, 0)) == NULL ||
	    !CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, st->type,
	    st, -1)) {
		goto err;
	}
	if (((flags & SKD_CMS_CONTENT_HINTS) != 0 ||
	    OBJ_obj2nid(econtent_type) == NID_pkcs7_enveloped) &&
	    !sign_add_hints(si, content, content_len)) {
		goto err;
	}
	if ((in = BIO_new_mem_buf(content != NULL ? content :
	    (const unsigned char *)"", (int)content_len)) == NULL ||
	    !CMS_final(cms, in, NULL, CMS_BINARY)) {
		goto err;
	}
	if ((der_len = i2d_CMS_ContentInfo(cms, &der)) <= 0) {
		goto err;
	}
	*out_der = der;
	*out_len = (size_t)der_len;
	BIO_free(in);
	ASN1_TIME_free(st);
	CMS_ContentInfo_free(cms);
	return 1;
 err:
	ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_ENCODE_FAILED,
	    "skd_cms_sign: could not build the SignedData");
	BIO_free(in);
	ASN1_TIME_free(st);
	CMS_ContentInfo_free(cms);
	return 0;
}
