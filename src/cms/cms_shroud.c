/*
 * cms_shroud.c: EnvelopedData for the shroud of a server-generated key
 * (skd_shroud.h; draft-turner-cmc-serverkeygeneration-00 section 4).
 */
#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "cms/skd_cms.h"
#include "cms/skd_shroud.h"

int
skd_shroud_key_ok(EVP_PKEY *pk)
{
	char curve[64];
	size_t n = 0;

	if (pk == NULL)
		return 0;
	if (EVP_PKEY_is_a(pk, "RSA"))
		return EVP_PKEY_get_bits(pk) >= 2048;
	if (EVP_PKEY_is_a(pk, "EC")) {
		if (!EVP_PKEY_get_utf8_string_param(pk, "group", curve,
		    sizeof(curve), &n))
			return 0;
		return strcmp(curve, "prime256v1") == 0 ||
		    strcmp(curve, "secp384r1") == 0 ||
		    strcmp(curve, "secp521r1") == 0 ||
		    strcmp(curve, "P-256") == 0 || strcmp(curve, "P-384") == 0 ||
		    strcmp(curve, "P-521") == 0;
	}
	return 0;
}

X509 *
skd_shroud_key_cert(EVP_PKEY *pubkey, const unsigned char *ski,
    size_t ski_len)
{
	X509 *x = NULL;
	ASN1_OCTET_STRING *os = NULL;
	EVP_PKEY *signer = NULL;

	if (ski == NULL || ski_len == 0 || ski_len > INT_MAX)
		return NULL;
	if ((x = X509_new()) == NULL || !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    !X509_set_pubkey(x, pubkey) ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, ski, (int)ski_len) ||
	    !X509_add1_ext_i2d(x, NID_subject_key_identifier, os, 0, 0))
		goto err;
	/* Signed by a throwaway key only so that it encodes and OpenSSL
	 * caches its extensions (the SKI); nobody verifies it. */
	if ((signer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    !X509_sign(x, signer, EVP_sha256()))
		goto err;
	ASN1_OCTET_STRING_free(os);
	EVP_PKEY_free(signer);
	return x;
 err:
	ASN1_OCTET_STRING_free(os);
	EVP_PKEY_free(signer);
	X509_free(x);
	return NULL;
}

/* ktri for RSA, kari for EC, rid by key identifier when keyid. */
static int
add_key_recipient(CMS_ContentInfo *cms, X509 *cert, unsigned flags, int keyid)
{
	CMS_RecipientInfo *ri;
	EVP_PKEY_CTX *pctx;
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	unsigned cf = keyid ? CMS_USE_KEYID : 0;

	if (!skd_shroud_key_ok(pk)) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_BAD_RECIPIENT,
		    "shroud: key is not RSA >= 2048 or EC P-256/384/521");
		return 0;
	}
	if (EVP_PKEY_is_a(pk, "RSA")) {
		if ((flags & SKD_CMS_RECIP_OAEP) == 0)
			return CMS_add1_recipient_cert(cms, cert, cf) != NULL;
		return (ri = CMS_add1_recipient_cert(cms, cert,
		    cf | CMS_KEY_PARAM)) != NULL &&
		    (pctx = CMS_RecipientInfo_get0_pkey_ctx(ri)) != NULL &&
		    EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_OAEP_PADDING) > 0 &&
		    EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) > 0 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0;
	}
	/* RFC 5753: X9.63 KDF with the curve's hash (as cms_env.c). */
	return (ri = CMS_add1_recipient_cert(cms, cert, cf)) != NULL &&
	    (pctx = CMS_RecipientInfo_get0_pkey_ctx(ri)) != NULL &&
	    EVP_PKEY_CTX_set_ecdh_kdf_md(pctx,
	    EVP_PKEY_get_bits(pk) <= 256 ? EVP_sha256() :
	    EVP_PKEY_get_bits(pk) <= 384 ? EVP_sha384() : EVP_sha512()) > 0;
}

int
skd_shroud_envelope(unsigned char **out, size_t *out_len,
    const ASN1_OBJECT *content_type, const unsigned char *content,
    size_t content_len, const struct skd_shroud *sh)
{
	CMS_ContentInfo *cms = NULL;
	X509 *tmp = NULL;
	BIO *in = NULL;
	unsigned char *der = NULL, *pass = NULL;
	int n, ok = 0;

	*out = NULL;
	*out_len = 0;
	if (content_type == NULL || content == NULL || content_len > INT_MAX)
		goto err;
	if ((cms = CMS_encrypt_ex(NULL, NULL, sh->cipher != NULL ?
	    sh->cipher : EVP_aes_256_cbc(), CMS_PARTIAL | CMS_BINARY, NULL,
	    NULL)) == NULL)
		goto err;
	switch (sh->type) {
	case SKD_SHROUD_BY_CERT:
		if (sh->cert == NULL ||
		    !add_key_recipient(cms, sh->cert, sh->flags, 0))
			goto err;
		break;
	case SKD_SHROUD_BY_BARE_KEY:
		if ((tmp = skd_shroud_key_cert(sh->pubkey, sh->ski,
		    sh->ski_len)) == NULL ||
		    !add_key_recipient(cms, tmp, sh->flags, 1))
			goto err;
		break;
	case SKD_SHROUD_BY_PASSWORD:
		if (sh->password == NULL || sh->password_len == 0 ||
		    sh->password_len > INT_MAX ||
		    (pass = OPENSSL_memdup(sh->password,
		    sh->password_len)) == NULL)
			goto err;
		/* add0 takes pass (wiped when the RecipientInfo is freed). */
		if (CMS_add0_recipient_password(cms, SKD_SHROUD_PBKDF2_ITER,
		    NID_undef, NID_undef, pass, (ossl_ssize_t)sh->password_len,
		    NULL) == NULL) {
			OPENSSL_clear_free(pass, sh->password_len);
			goto err;
		}
		break;
	default:
		goto err;
	}
	if (!CMS_set1_eContentType(cms, content_type) ||
	    (in = BIO_new_mem_buf(content, (int)content_len)) == NULL ||
	    !CMS_final(cms, in, NULL, CMS_BINARY) ||
	    (n = i2d_CMS_ContentInfo(cms, &der)) <= 0)
		goto err;
	*out = der;
	*out_len = (size_t)n;
	ok = 1;
 err:
	if (!ok)
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_ENCODE_FAILED,
		    "skd_shroud_envelope: could not build the EnvelopedData");
	BIO_free(in);
	X509_free(tmp);
	CMS_ContentInfo_free(cms);
	return ok;
}

int
skd_shroud_open(unsigned char **out, size_t *out_len,
    ASN1_OBJECT **out_type, const unsigned char *der, size_t len,
    const struct skd_shroud_opener *who)
{
	CMS_ContentInfo *cms = NULL;
	BIO *bio = NULL;
	BUF_MEM *bm;
	unsigned char *buf = NULL, *pass = NULL;
	size_t buf_len = 0;
	int ok = 0;

	*out = NULL;
	*out_len = 0;
	if (out_type != NULL)
		*out_type = NULL;
	if ((cms = skd_cms_d2i_content_info(der, len)) == NULL)
		return 0;
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_enveloped)
		goto err;
	if (who->key != NULL) {
		if (!CMS_decrypt_set1_pkey_and_peer(cms, who->key, who->cert,
		    NULL))
			goto err;
	} else if (who->password != NULL && who->password_len > 0) {
		if ((pass = OPENSSL_memdup(who->password,
		    who->password_len)) == NULL ||
		    !CMS_decrypt_set1_password(cms, pass,
		    (ossl_ssize_t)who->password_len))
			goto err;
	} else {
		goto err;
	}
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    !CMS_decrypt(cms, NULL, NULL, NULL, bio, CMS_BINARY))
		goto err;
	BIO_get_mem_ptr(bio, &bm);
	buf_len = bm->length;
	if ((buf = OPENSSL_malloc(buf_len > 0 ? buf_len : 1)) == NULL)
		goto err;
	if (buf_len > 0)
		memcpy(buf, bm->data, buf_len);
	if (out_type != NULL &&
	    (*out_type = OBJ_dup(CMS_get0_eContentType(cms))) == NULL)
		goto err;
	*out = buf;
	*out_len = buf_len;
	buf = NULL;
	ok = 1;
 err:
	if (!ok)
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_DECRYPT_FAILED,
		    "skd_shroud_open: cannot open the shroud");
	OPENSSL_clear_free(buf, buf_len);
	if (pass != NULL)
		OPENSSL_clear_free(pass, who->password_len);
	BIO_free(bio);
	CMS_ContentInfo_free(cms);
	return ok;
}
