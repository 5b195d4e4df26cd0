/*
 * fuzz_pkiresponse_body.h: PKIResponse (RFC 5272 3.2.2)
 * decoded strictly, re-encoded (must equal the input) and printed.
 */
#ifndef SKD_FUZZ_PKIRESPONSE_BODY_H
#define SKD_FUZZ_PKIRESPONSE_BODY_H

#include "fuzz/fuzz_common.h"

static inline int
skd_fuzz_pkiresponse(const uint8_t *data, size_t size)
{
	return skd_fuzz_roundtrip(
	    ASN1_ITEM_rptr(SKD_PKI_RESPONSE), data, size);
}

#endif
