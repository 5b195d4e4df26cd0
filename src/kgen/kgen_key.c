/*
 * kgen_key.c: the key types offered and key generation
 * (draft-turner-cmc-serverkeygeneration-00 6.1: the requested type comes
 * from the template's public key algorithm; anything else is badAlg).
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <openssl/x509.h>

#include "kgen/skd_kgen.h"

static const struct {
	enum skd_kgen_type	 t;
	const char		*name;
} type_names[] = {
	{ SKD_KGEN_RSA2048, "rsa2048" },
	{ SKD_KGEN_RSA3072, "rsa3072" },
	{ SKD_KGEN_P256, "p256" },
	{ SKD_KGEN_P384, "p384" },
	{ SKD_KGEN_RSA2048, "rsa" },
	{ SKD_KGEN_P256, "ec-p256" },
	{ SKD_KGEN_P384, "ec-p384" },
	{ SKD_KGEN_P256, "ec" },
};

const char *
skd_kgen_type_name(enum skd_kgen_type t)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (type_names[i].t == t)
			return type_names[i].name;
	}
	return NULL;
}

enum skd_kgen_type
skd_kgen_type_from_name(const char *name)
{
	size_t i;

	for (i = 0; name != NULL &&
	    i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strcmp(type_names[i].name, name) == 0)
			return type_names[i].t;
	}
	return SKD_KGEN_NONE;
}

static int
rsa_bits(enum skd_kgen_type t)
{
	return t == SKD_KGEN_RSA2048 ? 2048 : t == SKD_KGEN_RSA3072 ? 3072 : 0;
}

static int
ec_nid(enum skd_kgen_type t)
{
	return t == SKD_KGEN_P256 ? NID_X9_62_prime256v1 :
	    t == SKD_KGEN_P384 ? NID_secp384r1 : NID_undef;
}

enum skd_kgen_type
skd_kgen_type_from_spki(const X509_PUBKEY *spki)
{
	ASN1_OBJECT *alg = NULL;
	const unsigned char *pk = NULL;
	const X509_ALGOR *pa = NULL;
	const ASN1_OBJECT *curve;
	EVP_PKEY *key;
	int pklen = 0, ptype = V_ASN1_UNDEF, bits;
	const void *pval = NULL;

	if (spki == NULL ||
	    !X509_PUBKEY_get0_param(&alg, &pk, &pklen, (X509_ALGOR **)&pa,
	    (X509_PUBKEY *)spki))
		return SKD_KGEN_NONE;
	switch (OBJ_obj2nid(alg)) {
	case NID_rsaEncryption:
		if (pklen == 0)
			return SKD_KGEN_RSA2048;
		ERR_set_mark();
		key = X509_PUBKEY_get0(spki);
		ERR_pop_to_mark();
		if (key == NULL)
			return SKD_KGEN_NONE;
		bits = EVP_PKEY_get_bits(key);
		return bits == 2048 ? SKD_KGEN_RSA2048 :
		    bits == 3072 ? SKD_KGEN_RSA3072 : SKD_KGEN_NONE;
	case NID_X9_62_id_ecPublicKey:
		if (pa == NULL)
			return SKD_KGEN_NONE;
		X509_ALGOR_get0(NULL, &ptype, &pval, pa);
		if (ptype != V_ASN1_OBJECT || (curve = pval) == NULL)
			return SKD_KGEN_NONE;
		switch (OBJ_obj2nid(curve)) {
		case NID_X9_62_prime256v1:
			return SKD_KGEN_P256;
		case NID_secp384r1:
			return SKD_KGEN_P384;
		}
		return SKD_KGEN_NONE;
	}
	return SKD_KGEN_NONE;
}

X509_PUBKEY *
skd_kgen_template_spki(enum skd_kgen_type t)
{
	X509_PUBKEY *xpk = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int bits = rsa_bits(t);

	if (bits > 0) {
		/* 2^(bits-1) + 1: the size asked for; no key pair exists. */
		if ((n = BN_new()) == NULL || (e = BN_new()) == NULL ||
		    !BN_set_bit(n, bits - 1) || !BN_add_word(n, 1) ||
		    !BN_set_word(e, 65537) ||
		    (bld = OSSL_PARAM_BLD_new()) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
		    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
		    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) ==
		    NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
		    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY,
		    params) <= 0 || !X509_PUBKEY_set(&xpk, pkey))
			xpk = NULL;
	} else if (ec_nid(t) != NID_undef) {
		if ((xpk = X509_PUBKEY_new()) == NULL ||
		    !X509_PUBKEY_set0_param(xpk,
		    OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
		    OBJ_nid2obj(ec_nid(t)), NULL, 0)) {
			X509_PUBKEY_free(xpk);
			xpk = NULL;
		}
	}
	BN_free(n);
	BN_free(e);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return xpk;
}

EVP_PKEY *
skd_kgen_generate(enum skd_kgen_type t)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;

	if (rsa_bits(t) > 0) {
		if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) ==
		    NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, rsa_bits(t)) <= 0 ||
		    EVP_PKEY_keygen(ctx, &pkey) <= 0)
			pkey = NULL;
	} else if (ec_nid(t) != NID_undef) {
		if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ==
		    NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
		    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, ec_nid(t)) <= 0 ||
		    EVP_PKEY_CTX_set_ec_param_enc(ctx,
		    OPENSSL_EC_NAMED_CURVE) <= 0 ||
		    EVP_PKEY_keygen(ctx, &pkey) <= 0)
			pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}
