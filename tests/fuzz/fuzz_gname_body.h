/*
 * fuzz_gname_body.h: GeneralName text (the directory's form, see
 * docs/directory.md).  The input, NUL-terminated, goes through
 * skd_gname_from_text; when it parses, its canonical text must parse again
 * to a name whose text is the same (printing is stable) and which
 * skd_gname_match finds equal to the first.
 */
#ifndef SKD_FUZZ_GNAME_BODY_H
#define SKD_FUZZ_GNAME_BODY_H

#include <stdlib.h>

#include "fuzz/fuzz_common.h"

static inline int
skd_fuzz_gname(const uint8_t *data, size_t size)
{
	char *in, *t1 = NULL, *t2 = NULL;
	GENERAL_NAME *g1 = NULL, *g2 = NULL;
	int ok = 1;

	if ((in = malloc(size + 1)) == NULL) {
		return 1;
	}
	memcpy(in, data, size);
	in[size] = '\0';
	if ((g1 = skd_gname_from_text(in)) == NULL) {
		goto done;
	}
	if ((t1 = skd_gname_to_text(g1)) == NULL) {
		/* Parsed but cannot be printed: not stable. */
		ok = 0;
		goto done;
	}
	if ((g2 = skd_gname_from_text(t1)) == NULL ||
	    (t2 = skd_gname_to_text(g2)) == NULL || strcmp(t1, t2) != 0 ||
	    !skd_gname_match(g1, g2)) {
		ok = 0;
	}
 done:
	OPENSSL_free(t2);
	OPENSSL_free(t1);
	GENERAL_NAME_free(g2);
	GENERAL_NAME_free(g1);
	free(in);
	ERR_clear_error();
	return ok;
}

#endif
