/*
 * fuzz_common.h: what the fuzz target bodies share.
 *
 * Each fuzz target's logic lives in fuzz_<name>_body.h as
 *   static inline int skd_fuzz_<name>(const uint8_t *data, size_t size);
 * returning one when every invariant held and zero when one did not.  The
 * libFuzzer main (fuzz_<name>.c) aborts on zero; the regression suite
 * (tests/unit/test_fuzz_regress.c) asserts one for every seed and crash
 * file.  Inputs that are merely malformed are not failures: refusing them
 * is the expected outcome.  A crash, a sanitizer report or a leak is.
 */
#ifndef SKD_FUZZ_COMMON_H
#define SKD_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "asn1/skd_asn1.h"

/*
 * skd_fuzz_print_null prints val (type it) with skd_asn1_print to a null
 * BIO, to run the printer over whatever the decoder accepted.  The printer
 * may refuse a value it cannot show; only crashes and leaks matter here.
 */
static inline void
skd_fuzz_print_null(const ASN1_ITEM *it, const void *val)
{
	BIO *out = BIO_new(BIO_s_null());

	if (out != NULL) {
		(void)skd_asn1_print(out, it, val, 0);
	}
	BIO_free(out);
}

/*
 * skd_fuzz_roundtrip decodes data strictly as type it (skd_der_decode); when
 * it decodes, re-encodes it with skd_der_encode, which must give the input
 * byte for byte (strict DER: one value has one encoding), and prints it.
 * Returns zero only when a decoded value does not re-encode to the input.
 */
static inline int
skd_fuzz_roundtrip(const ASN1_ITEM *it, const uint8_t *data, size_t size)
{
	void *val;
	unsigned char *der = NULL;
	size_t der_len = 0;
	int ok = 1;

	val = skd_der_decode(it, data, size);
	if (val == NULL) {
		ERR_clear_error();
		return 1;
	}
	if (!skd_der_encode(it, val, &der, &der_len) || der_len != size ||
	    memcmp(der, data, size) != 0) {
		ok = 0;
	}
	skd_fuzz_print_null(it, val);
	OPENSSL_free(der);
	ASN1_item_free(val, it);
	ERR_clear_error();
	return ok;
}

#endif
