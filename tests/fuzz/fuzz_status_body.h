/*
 * fuzz_status_body.h: CMCStatusInfoV2 (RFC 5272 6.1.1)
 * decoded strictly, re-encoded (must equal the input) and printed.
 */
#ifndef SKD_FUZZ_STATUS_BODY_H
#define SKD_FUZZ_STATUS_BODY_H

#include "fuzz/fuzz_common.h"

static inline int
skd_fuzz_status(const uint8_t *data, size_t size)
{
	return skd_fuzz_roundtrip(
	    ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2), data, size);
}

#endif
