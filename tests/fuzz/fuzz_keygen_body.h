/*
 * fuzz_keygen_body.h: the decoders of CMC server-side key generation
 * (draft-turner-cmc-serverkeygeneration-00): ServerKeyGenRequest,
 * ShroudWithPublicKey, ServerKeyGenResponse, the AsymmetricKeyPackage
 * (RFC 5958), the Encrypted and Decrypted POP controls (RFC 5272 6.7) and
 * the CRMF CertReqMsg (RFC 4211) each decoded strictly and re-encoded (must
 * equal the input); a TaggedRequest through skd_kgen_pop_cert; a
 * CertReqMsg through skd_kgen_crmf_read (the engine's template check);
 * the package also through skd_akp_decode_key (one key, public key
 * consistent), and an AuthenticatedData (skd_authdata_peek, then
 * skd_authdata_verify with a fixed password), which must never crash or
 * leak.
 */
#ifndef SKD_FUZZ_KEYGEN_BODY_H
#define SKD_FUZZ_KEYGEN_BODY_H

#include <openssl/evp.h>

#include "asn1/skd_akp.h"
#include "cms/skd_authdata.h"
#include "kgen/skd_kgen.h"
#include "fuzz/fuzz_common.h"

static inline int
skd_fuzz_keygen(const uint8_t *data, size_t size)
{
	EVP_PKEY *k;
	int ok;

	ok = skd_fuzz_roundtrip(ASN1_ITEM_rptr(SKD_SERVER_KEY_GEN_REQUEST),
	    data, size) &&
	    skd_fuzz_roundtrip(ASN1_ITEM_rptr(SKD_SHROUD_WITH_PUBLIC_KEY),
	    data, size) &&
	    skd_fuzz_roundtrip(ASN1_ITEM_rptr(SKD_SERVER_KEY_GEN_RESPONSE),
	    data, size) &&
	    skd_fuzz_roundtrip(ASN1_ITEM_rptr(SKD_ASYMMETRIC_KEY_PACKAGE),
	    data, size) &&
	    skd_fuzz_roundtrip(ASN1_ITEM_rptr(SKD_ENCRYPTED_POP), data,
	    size) &&
	    skd_fuzz_roundtrip(ASN1_ITEM_rptr(SKD_DECRYPTED_POP), data,
	    size) &&
	    skd_fuzz_roundtrip(ASN1_ITEM_rptr(SKD_CRMF_MSG), data, size);
	k = skd_akp_decode_key(data, size);
	EVP_PKEY_free(k);
	{
		/* The POP round's request: skd's popCertificate (strict). */
		SKD_TAGGED_REQUEST *req = skd_der_decode(
		    ASN1_ITEM_rptr(SKD_TAGGED_REQUEST), data, size);

		X509_free(skd_kgen_pop_cert(req));
		SKD_TAGGED_REQUEST_free(req);
	}
	{
		/* A CRMF template as the engine reads it (kgen_crmf.c). */
		SKD_CRMF_MSG *m = skd_der_decode(ASN1_ITEM_rptr(SKD_CRMF_MSG),
		    data, size);
		const STACK_OF(X509_EXTENSION) *exts;
		const X509_NAME *subject;
		enum skd_kgen_type type;
		const char *why;
		X509 *ca = X509_new();

		if (m != NULL && ca != NULL)
			(void)skd_kgen_crmf_read(m, ca, &subject, &exts,
			    &type, &why);
		X509_free(ca);
		SKD_CRMF_MSG_free(m);
	}
	{
		unsigned char *c = NULL;
		size_t cl = 0;

		if (skd_authdata_peek(&c, &cl, NULL, data, size)) {
			OPENSSL_free(c);
			/* Verifying checks more (pwri, attributes): any
			 * answer, but no crash or leak. */
			(void)skd_authdata_verify(data, size,
			    (const unsigned char *)"fuzz", 4);
		}
	}
	ERR_clear_error();
	return ok;
}

#endif
