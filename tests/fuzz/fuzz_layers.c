/*
 * fuzz_layers.c: libFuzzer target; the logic is in fuzz_layers_body.h
 * (shared with the regression suite, tests/unit/test_fuzz_regress.c).
 * Build: make build-fuzz/fuzz_layers
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz/fuzz_layers_body.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The trust store and opener, loaded once and kept for the process. */
static struct skd_fuzz_layers_ctx *fuzz_ctx;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!skd_asn1_init() ||
	    (fuzz_ctx = skd_fuzz_layers_ctx_new()) == NULL) {
		abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!skd_fuzz_layers(fuzz_ctx, data, size)) {
		abort();
	}
	return 0;
}
