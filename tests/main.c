/*
 * The one test runner: every suite, one summary line at the end.
 *
 * SKD_TEST_SCOPE=unit|dir|interop restricts the run to one scope, and
 * SKD_TEST_SUITES="a b" to the suites of those file names (test_a.c ...);
 * make memcheck runs each unit suite under valgrind this way.  check's own
 * CK_RUN_CASE selects further.
 *
 * The directories the suites start (tools/skd-stack) commit without fsync
 * (SKD_STACK_NOSYNC=1, olcDbNoSync) unless the environment says
 * otherwise: the suites check what the GLA writes and in what order,
 * through slapd, which they never kill; the worker they do kill loses
 * nothing slapd acknowledged either way.  The benchmarks run durable.
 */
#include <stdlib.h>
#include <string.h>

#include "skd_test.h"

/* Is name one of the space-separated words of list (NULL: all)? */
static int
selected(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (list == NULL)
		return 1;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

int
main(void)
{
	const char *scope = getenv("SKD_TEST_SCOPE");
	const char *suites = getenv("SKD_TEST_SUITES");
	SRunner *sr = NULL;
	int failed;

	if (setenv("SKD_STACK_NOSYNC", "1", 0) != 0)
		return EXIT_FAILURE;

#define SKD_SUITE(name, sc)                                              \
	if ((scope == NULL || strcmp(scope, #sc) == 0) &&                \
	    selected(suites, #name)) {                                   \
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
