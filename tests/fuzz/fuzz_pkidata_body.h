/*
 * fuzz_pkidata_body.h: PKIData (RFC 5272 3.2.1)
 * decoded strictly, re-encoded (must equal the input) and printed.
 */
#ifndef SKD_FUZZ_PKIDATA_BODY_H
#define SKD_FUZZ_PKIDATA_BODY_H

#include "fuzz/fuzz_common.h"

static inline int
skd_fuzz_pkidata(const uint8_t *data, size_t size)
{
	return skd_fuzz_roundtrip(
	    ASN1_ITEM_rptr(SKD_PKI_DATA), data, size);
}

#endif
