/*
 * cms_env.c: EnvelopedData (RFC 5652 6) for RFC 5275 3.2.1.2
 * confidentiality layers and for member use of the shared KEK: ktri (RSA,
 * PKCS#1 v1.5 or RSAES-OAEP, RFC 3560), kari (ECDH, RFC 5753) and kekri
 * (AES key wrap, RFC 3565).
 */
#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include "cms/skd_cms.h"

static int
env_bad_recipient(const char *why)
{
	ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_BAD_RECIPIENT,
	    "skd_cms_envelope: %s", why);
	return 0;
}

/* A certificate recipient: ktri for RSA, kari for EC (RFC 5652 6.2.1,
 * 6.2.2). */
static int
env_add_cert(CMS_ContentInfo *cms, const struct skd_cms_recip *r)
{
	CMS_RecipientInfo *ri;
	EVP_PKEY_CTX *pctx;
	EVP_PKEY *pk;
	int oaep = (r->flags & SKD_CMS_RECIP_OAEP) != 0;

	if (r->cert == NULL || (pk = X509_get0_pubkey(r->cert)) == NULL) {
		return env_bad_recipient("no certificate or public key");
	}
	if (EVP_PKEY_is_a(pk, "RSA")) {
		if (!oaep) {
			return CMS_add1_recipient_cert(cms, r->cert, 0) != NULL;
		}
		/* RFC 3560 3.1 / RFC 8017: OAEP with SHA-256 and
		 * MGF1-SHA-256; the parameters go into
		 * keyEncryptionAlgorithm. */
		if ((ri = CMS_add1_recipient_cert(cms, r->cert,
		    CMS_KEY_PARAM)) == NULL ||
		    (pctx = CMS_RecipientInfo_get0_pkey_ctx(ri)) == NULL ||
		    EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_OAEP_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0) {
			return 0;
		}
		return 1;
	}
	if (oaep) {
		return env_bad_recipient("OAEP asked for a non-RSA key");
	}
	if (EVP_PKEY_is_a(pk, "EC")) {
		/* RFC 5753 / RFC 5008: X9.63 KDF with the hash matching the
		 * curve (OpenSSL's default would be SHA-1).  Only the digest
		 * is set: OpenSSL refuses a KDF type set in advance and sets
		 * X9.63 itself. */
		if ((ri = CMS_add1_recipient_cert(cms, r->cert, 0)) == NULL ||
		    (pctx = CMS_RecipientInfo_get0_pkey_ctx(ri)) == NULL ||
		    EVP_PKEY_CTX_set_ecdh_kdf_md(pctx,
		    EVP_PKEY_get_bits(pk) <= 256 ? EVP_sha256() :
		    EVP_PKEY_get_bits(pk) <= 384 ? EVP_sha384() :
		    EVP_sha512()) <= 0) {
			return 0;
		}
		return 1;
	}
	return env_bad_recipient("certificate key is neither RSA nor EC");
}

/* A KEK recipient (RFC 5652 6.2.3): AES key wrap by key length (RFC
 * 3565 2.3.2). */
static int
env_add_kek(CMS_ContentInfo *cms, const struct skd_cms_recip *r)
{
	unsigned char *key = NULL, *id = NULL;

	if (r->kek == NULL || (r->kek_len != 16 && r->kek_len != 24 &&
	    r->kek_len != 32)) {
		return env_bad_recipient("KEK must be 16, 24 or 32 bytes");
	}
	if (r->kek_id == NULL || r->kek_id_len == 0 ||
	    r->kek_id_len > INT_MAX) {
		return env_bad_recipient("KEK needs a key identifier");
	}
	if ((key = OPENSSL_memdup(r->kek, r->kek_len)) == NULL ||
	    (id = OPENSSL_memdup(r->kek_id, r->kek_id_len)) == NULL) {
		OPENSSL_clear_free(key, r->kek_len);
		return 0;
	}
	/* add0 consumes key and id (the KEKRecipientInfo wipes the key
	 * when freed).  On failure OpenSSL may or may not have taken them
	 * (only on allocation failure), so they are not freed here. */
	return CMS_add0_recipient_key(cms, NID_undef, key, r->kek_len, id,
	    r->kek_id_len, NULL, NULL, NULL) != NULL;
}

int
skd_cms_envelope(unsigned char **out_der, size_t *out_len,
    const ASN1_OBJECT *content_type, const unsigned char *content,
    size_t content_len, const struct skd_cms_recip *recips, size_t nrecips,
    const EVP_CIPHER *cipher)
{
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL;
	unsigned char *der = NULL;
	int der_len, ok;
	size_t i;

	*out_der = NULL;
	*out_len = 0;
	if (content_type == NULL || (content == NULL && content_len > 0) ||
	    content_len > INT_MAX || recips == NULL || nrecips == 0) {
		env_bad_recipient("missing argument or no recipient");
		goto err;
	}
	if (cipher == NULL) {
		cipher = EVP_aes_256_cbc();
	}
	if ((cms = CMS_encrypt_ex(NULL, NULL, cipher,
	    CMS_PARTIAL | CMS_BINARY, NULL, NULL)) == NULL) {
		goto err;
	}
	for (i = 0; i < nrecips; i++) {
		switch (recips[i].type) {
		case SKD_CMS_RECIP_CERT:
			ok = env_add_cert(cms, &recips[i]);
			break;
		case SKD_CMS_RECIP_KEK:
			ok = env_add_kek(cms, &recips[i]);
			break;
		default:
			ok = env_bad_recipient("unknown recipient type");
			break;
		}
		if (!ok) {
			goto err;
		}
	}
	if (!CMS_set1_eContentType(cms, content_type)) {
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
	CMS_ContentInfo_free(cms);
	return 1;
 err:
	ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_ENCODE_FAILED,
	    "skd_cms_envelope: could not build the EnvelopedData");
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return 0;
}

int
skd_cms_open(unsigned char **out_content, size_t *out_len,
    ASN1_OBJECT **out_content_type, const unsigned char *der, size_t len,
    const struct skd_cms_opener *who)
{
	CMS_ContentInfo *cms = NULL;
	ASN1_OBJECT *ct = NULL;
	BIO *out = NULL;
	BUF_MEM *bm;
	unsigned char *buf = NULL;
	size_t buf_len = 0;

	*out_content = NULL;
	*out_len = 0;
	if (out_content_type != NULL) {
		*out_content_type = NULL;
	}
	if (who == NULL || (who->key == NULL && who->kek == NULL)) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_BAD_RECIPIENT,
		    "skd_cms_open: need a private key or a KEK");
		return 0;
	}
	if ((cms = skd_cms_d2i_content_info(der, len)) == NULL) {
		return 0;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_enveloped) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_WRONG_TYPE,
		    "skd_cms_open: not an EnvelopedData");
		goto err;
	}
	/* OpenSSL's defaults (no CMS_DEBUG_DECRYPT) stay: a wrong RSA key
	 * decrypts with a random key rather than telling an attacker which
	 * step failed (MMA); the failure then shows at content decryption. */
	if (who->key != NULL) {
		if (!CMS_decrypt_set1_pkey_and_peer(cms, who->key, who->cert,
		    NULL)) {
			goto decrypt_err;
		}
	} else if (!CMS_decrypt_set1_key(cms, (unsigned char *)who->kek,
	    who->kek_len, who->kek_id, who->kek_id_len)) {
		goto decrypt_err;
	}
	if ((out = BIO_new(BIO_s_secmem())) == NULL) {
		goto err;
	}
	if (!CMS_decrypt(cms, NULL, NULL, NULL, out, CMS_BINARY)) {
		goto decrypt_err;
	}
	BIO_get_mem_ptr(out, &bm);
	if ((buf = OPENSSL_malloc(bm->length > 0 ? bm->length : 1)) == NULL) {
		goto err;
	}
	buf_len = bm->length;
	if (buf_len > 0) {
		memcpy(buf, bm->data, buf_len);
	}
	if (out_content_type != NULL &&
	    (ct = OBJ_dup(CMS_get0_eContentType(cms))) == NULL) {
		goto err;
	}
	*out_content = buf;
	*out_len = buf_len;
	if (out_content_type != NULL) {
		*out_content_type = ct;
	}
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	return 1;
 decrypt_err:
	ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_DECRYPT_FAILED,
	    "skd_cms_open: no matching recipient or wrong key");
 err:
	OPENSSL_clear_free(buf, buf_len);
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	return 0;
}
