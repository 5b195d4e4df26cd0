/*
 * fuzz_controls_body.h: the first byte picks a control from the control
 * table (RFC 5275 3.1 and the CMC controls of 3.2.4); the rest is decoded
 * strictly as that control's value type, re-encoded (must equal the input)
 * and printed.
 */
#ifndef SKD_FUZZ_CONTROLS_BODY_H
#define SKD_FUZZ_CONTROLS_BODY_H

#include "fuzz/fuzz_common.h"

static inline int
skd_fuzz_controls(const uint8_t *data, size_t size)
{
	const struct skd_control *c;
	size_t n = skd_control_count();

	if (size < 1 || n == 0) {
		return 1;
	}
	if ((c = skd_control_at(data[0] % n)) == NULL) {
		return 0;
	}
	return skd_fuzz_roundtrip(ASN1_ITEM_ptr(c->item), data + 1, size - 1);
}

#endif
