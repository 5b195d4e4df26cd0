/*
 * fuzz_der_structure_body.h: skd_der_check_structure_ex on raw bytes.
 * Invariants: the result agrees with skd_der_check_structure, *out_err is
 * SKD_DER_OK exactly on success, and every reason has a description.
 */
#ifndef SKD_FUZZ_DER_STRUCTURE_BODY_H
#define SKD_FUZZ_DER_STRUCTURE_BODY_H

#include "fuzz/fuzz_common.h"

static inline int
skd_fuzz_der_structure(const uint8_t *data, size_t size)
{
	enum skd_der_err e = SKD_DER_INTERNAL;
	int r;

	r = skd_der_check_structure_ex(data, size, &e);
	if (r != skd_der_check_structure(data, size)) {
		return 0;
	}
	if ((r == 1) != (e == SKD_DER_OK)) {
		return 0;
	}
	if (skd_der_strerror(e) == NULL) {
		return 0;
	}
	ERR_clear_error();
	return 1;
}

#endif
