/*
 * skd_akp.h: the Asymmetric Key Package of RFC 5958, the returned key
 * format of draft-turner-cmc-serverkeygeneration-00 section 5.
 *
 *   AsymmetricKeyPackage ::= SEQUENCE SIZE (1..MAX) OF OneAsymmetricKey
 *   OneAsymmetricKey ::= SEQUENCE {
 *     version                   Version,        -- v1(0), v2(1)
 *     privateKeyAlgorithm       PrivateKeyAlgorithmIdentifier,
 *     privateKey                PrivateKey,     -- OCTET STRING
 *     attributes            [0] Attributes OPTIONAL,
 *     ...,
 *     [[2: publicKey        [1] PublicKey OPTIONAL ]],  -- BIT STRING
 *     ... }
 *
 * The content type is id-ct-KP-aKeyPackage (2.16.840.1.101.2.1.2.78.5),
 * which OpenSSL does not know; skd_akp_content_type returns it.
 * privateKey is wiped (OPENSSL_cleanse) when a OneAsymmetricKey is freed.
 */
#ifndef SKD_AKP_H
#define SKD_AKP_H

#include <openssl/asn1t.h>
#include <openssl/x509.h>

#define SKD_AKP_OID	"2.16.840.1.101.2.1.2.78.5"

typedef struct SKD_ONE_ASYMMETRIC_KEY_st {
	ASN1_INTEGER			*version;
	X509_ALGOR			*privateKeyAlgorithm;
	ASN1_OCTET_STRING		*privateKey;
	STACK_OF(X509_ATTRIBUTE)	*attributes;	/* OPTIONAL */
	ASN1_BIT_STRING			*publicKey;	/* OPTIONAL (v2) */
} SKD_ONE_ASYMMETRIC_KEY;
DEFINE_STACK_OF(SKD_ONE_ASYMMETRIC_KEY)

typedef STACK_OF(SKD_ONE_ASYMMETRIC_KEY) SKD_ASYMMETRIC_KEY_PACKAGE;

DECLARE_ASN1_FUNCTIONS(SKD_ONE_ASYMMETRIC_KEY)
DECLARE_ASN1_FUNCTIONS(SKD_ASYMMETRIC_KEY_PACKAGE)

/* skd_akp_content_type returns id-ct-KP-aKeyPackage (static, never
 * freed), or NULL on error. */
const ASN1_OBJECT *skd_akp_content_type(void);

/*
 * skd_akp_encode_key writes the DER AsymmetricKeyPackage holding exactly
 * one OneAsymmetricKey (v2, with the public key) for pkey into *out
 * (caller frees with OPENSSL_clear_free(*out, *out_len)).  Returns one on
 * success and zero on error.
 */
int skd_akp_encode_key(unsigned char **out, size_t *out_len, EVP_PKEY *pkey);

/*
 * skd_akp_decode_key strictly decodes der (skd_der_decode) as an
 * AsymmetricKeyPackage, requires exactly one OneAsymmetricKey (draft
 * section 5) and returns its private key (caller frees with
 * EVP_PKEY_free); when the package carries the public key it must be the
 * private key's.  NULL on error.
 */
EVP_PKEY *skd_akp_decode_key(const unsigned char *der, size_t len);

#endif
