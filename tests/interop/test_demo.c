/*
 * test_demo.c: the README's main job (tools/demo) end to end, through the
 * real worker and the real directory: a closed GL with three members, each
 * member fetching and unwrapping its keys, content encrypted with the group
 * KEK opened by skd and by `openssl cms -secretkey`, a removal that rekeys
 * the list (RFC 5275 section 8) and locks the removed member out.
 */
#include <stdlib.h>
#include <string.h>

#include "skd_test.h"

/* Asserts that needle occurs in hay at least n times. */
static void
assert_count(const char *hay, const char *needle, int n)
{
	const char *p = hay;
	int c = 0;

	while ((p = strstr(p, needle)) != NULL) {
		c++;
		p += strlen(needle);
	}
	ck_assert_msg(c >= n, "'%s' %d times, want %d:\n%s", needle, c, n,
	    hay);
}

START_TEST(test_demo_runs)
{
	char *out = NULL;
	int rc;

	rc = skd_test_run(&out, NULL, "cd '%s' && SKD_BIN='%s' tools/demo 2>&1",
	    skd_test_top(), skd_test_bin());
	ck_assert_msg(rc == 0, "demo exited %d:\n%s", rc, out);
	/* glUseKEK, three glAddMember, one glDeleteMember: five successes. */
	assert_count(out, "status: success", 5);
	/* Three members, two keys each (generationCounter 2), then two new
	 * keys each for alice and bob after carol's removal. */
	assert_count(out, "stored key ", 10);
	assert_count(out, "Minutes of the team meeting: ship it.", 2);
	assert_count(out, "After carol left: the new plan.", 1);
	assert_count(out, "carol: no key for this message", 1);
	assert_count(out, "carol holds 2 key(s), alice 4", 1);
	free(out);
}
END_TEST

Suite *
skd_suite_demo(void)
{
	Suite *s = suite_create("demo");
	TCase *tc = tcase_create("main job");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_demo_runs);
	suite_add_tcase(s, tc);
	return s;
}
