/*
 * fuzz_keygen_body.h: the decoders of CMC server-side key generation
 * (draft-turner-cmc-serverkeygeneration-00): ServerKeyGenRequest,
 * ShroudWithPublicKey, ServerKeyGenResponse and the AsymmetricKeyPackage
 * (RFC 5958) each decoded strictly and re-encoded (must equal the input);
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
	    data, size);
	k = skd_akp_decode_key(data, size);
	EVP_PKEY_free(k);
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
