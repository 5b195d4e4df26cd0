/*
 * The one test runner: every suite, one summary line at the end.
 *
 * SKD_TEST_SCOPE=unit|dir|interop restricts the run to one scope (make
 * memcheck runs the unit scope under valgrind).  check's own CK_RUN_SUITE
 * and CK_RUN_CASE select further.
 */
#include <stdlib.h>
#include <string.h>

#include "skd_test.h"

int
main(void)
{
	const char *scope = getenv("SKD_TEST_SCOPE");
	SRunner *sr = NULL;
	int failed;

#define SKD_SUITE(name, sc)                                              \
	if (scope == NULL || strcmp(scope, #sc) == 0) {                  \
		if (sr == NULL)                                          \
			sr = srunner_create(skd_suite_##name());         \
		else                                                     \
			srunner_add_suite(sr, skd_suite_##name());       \
	}
#include "skd_suites.inc"
#undef SKD_SUITE

	if (sr == NULL)
		return EXIT_FAILURE;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
