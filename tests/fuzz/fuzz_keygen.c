/*
 * fuzz_keygen.c: libFuzzer target; the logic is in fuzz_keygen_body.h (shared
 * with the regression suite, tests/unit/test_fuzz_regress.c).
 * Build: make build-fuzz/fuzz_keygen
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz/fuzz_keygen_body.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!skd_asn1_init()) {
		abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!skd_fuzz_keygen(data, size)) {
		abort();
	}
	return 0;
}
