/*
 * kgen_package.c: the returned key format (draft section 5) and the
 * archive: AsymmetricKeyPackage → SignedData by the CA → EnvelopedData.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "asn1/skd_akp.h"
#include "asn1/skd_asn1.h"
#include "cms/skd_cms.h"
#include "kgen/skd_kgen.h"

/* The AsymmetricKeyPackage of pkey signed by the CA: *out wiped by the
 * caller (OPENSSL_clear_free), as it holds the key in the clear. */
static int
signed_akp(unsigned char **out, size_t *out_len, const struct skd_kgen_ca *ca,
    EVP_PKEY *pkey, time_t now)
{
	unsigned char *akp = NULL;
	size_t akp_len = 0;
	int ok;

	*out = NULL;
	if (!skd_akp_encode_key(&akp, &akp_len, pkey))
		return 0;
	ok = skd_akp_content_type() != NULL &&
	    skd_cms_sign(out, out_len, skd_akp_content_type(), akp, akp_len,
	    ca->cert, ca->key, ca->chain, now, 0);
	OPENSSL_clear_free(akp, akp_len);
	return ok;
}

int
skd_kgen_package(unsigned char **out, size_t *out_len,
    const struct skd_kgen_ca *ca, EVP_PKEY *pkey, time_t now,
    const struct skd_shroud *sh)
{
	unsigned char *sd = NULL;
	size_t sd_len = 0;
	int ok;

	*out = NULL;
	*out_len = 0;
	if (!signed_akp(&sd, &sd_len, ca, pkey, now))
		return 0;
	ok = skd_shroud_envelope(out, out_len, OBJ_nid2obj(NID_pkcs7_signed),
	    sd, sd_len, sh);
	OPENSSL_clear_free(sd, sd_len);
	return ok;
}

int
skd_kgen_archive(unsigned char **out, size_t *out_len,
    const struct skd_kgen_ca *ca, EVP_PKEY *pkey, time_t now)
{
	struct skd_shroud sh;

	*out = NULL;
	*out_len = 0;
	if (ca->recovery_cert == NULL)
		return 0;
	memset(&sh, 0, sizeof(sh));
	sh.type = SKD_SHROUD_BY_CERT;
	sh.cert = ca->recovery_cert;
	return skd_kgen_package(out, out_len, ca, pkey, now, &sh);
}

int
skd_kgen_check_signer(X509 *signer, STACK_OF(X509) *untrusted,
    X509_STORE *trust, time_t now)
{
	X509_STORE_CTX *ctx;
	int ok = 0;

	/* A CA signs here, not an S/MIME end entity: any purpose. */
	if ((ctx = X509_STORE_CTX_new()) != NULL &&
	    X509_STORE_CTX_init(ctx, trust, signer, untrusted)) {
		X509_STORE_CTX_set_time(ctx, 0, now);
		X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
		ok = X509_verify_cert(ctx) == 1;
	}
	X509_STORE_CTX_free(ctx);
	return ok;
}

EVP_PKEY *
skd_kgen_open(const unsigned char *der, size_t len,
    const struct skd_shroud_opener *who, X509_STORE *trust, time_t now,
    X509 **out_signer)
{
	struct skd_cms_verified *v = NULL;
	unsigned char *sd = NULL;
	size_t sd_len = 0;
	ASN1_OBJECT *type = NULL;
	EVP_PKEY *pkey = NULL;

	if (out_signer != NULL)
		*out_signer = NULL;
	if (!skd_shroud_open(&sd, &sd_len, &type, der, len, who))
		goto err;
	if (OBJ_obj2nid(type) != NID_pkcs7_signed ||
	    !skd_cms_verify(&v, sd, sd_len, NULL, now))
		goto err;
	if (trust != NULL && !skd_kgen_check_signer(v->signer, v->certs,
	    trust, now))
		goto err;
	if (OBJ_cmp(v->econtent_type, skd_akp_content_type()) != 0)
		goto err;
	if ((pkey = skd_akp_decode_key(v->content, v->content_len)) == NULL)
		goto err;
	if (out_signer != NULL && X509_up_ref(v->signer))
		*out_signer = v->signer;
 err:
	if (v != NULL && v->content != NULL)
		OPENSSL_cleanse(v->content, v->content_len);
	skd_cms_verified_free(v);
	OPENSSL_clear_free(sd, sd_len);
	ASN1_OBJECT_free(type);
	return pkey;
}
