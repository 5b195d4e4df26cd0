/*
 * test_worker_busy.c: what the loops of one worker are on (src/worker/
 * busy.c): a request held by one loop is passed over by the others, and
 * one let go after a loop's listing was made is passed over by that
 * listing only.
 */
#include <stdio.h>

#include "worker/skd_worker.h"
#include "skd_test.h"

START_TEST(test_busy_held)
{
	struct skd_worker_busy *b = skd_worker_busy_new(3);

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(skd_worker_busy_take(b, 0, "r1", 100), 1);
	/* A sibling passes over it while slot 0 holds it. */
	ck_assert_int_eq(skd_worker_busy_take(b, 1, "r1", 100), 0);
	ck_assert_int_eq(skd_worker_busy_take(b, 1, "r2", 100), 1);
	/* Taking it again on its own slot is no conflict. */
	ck_assert_int_eq(skd_worker_busy_take(b, 0, "r1", 100), 1);
	skd_worker_busy_free(b);
	/* One loop: no set, everything taken. */
	ck_assert_int_eq(skd_worker_busy_take(NULL, 0, "r1", 0), 1);
	skd_worker_busy_drop(NULL, 0, 0);
}
END_TEST

START_TEST(test_busy_let_go)
{
	struct skd_worker_busy *b = skd_worker_busy_new(2);
	char id[32];
	int i;

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(skd_worker_busy_take(b, 0, "r1", 100), 1);
	skd_worker_busy_drop(b, 0, 150);
	/* A listing made before it was let go is stale for it... */
	ck_assert_int_eq(skd_worker_busy_take(b, 1, "r1", 120), 0);
	ck_assert_int_eq(skd_worker_busy_take(b, 1, "r1", 150), 0);
	/* ...one made after shows what the directory holds. */
	ck_assert_int_eq(skd_worker_busy_take(b, 1, "r1", 151), 1);
	skd_worker_busy_drop(b, 1, 160);
	/* The ring keeps the last SKD_WORKER_BUSY_RING let go. */
	for (i = 0; i < SKD_WORKER_BUSY_RING; i++) {
		(void)snprintf(id, sizeof(id), "x%d", i);
		ck_assert_int_eq(skd_worker_busy_take(b, 0, id, 200), 1);
		skd_worker_busy_drop(b, 0, 300);
	}
	ck_assert_int_eq(skd_worker_busy_take(b, 1, "x0", 250), 0);
	ck_assert_int_eq(skd_worker_busy_take(b, 1,
	    "r1", 100), 1);	/* pushed out of the ring */
	skd_worker_busy_free(b);
}
END_TEST

Suite *
skd_suite_worker_busy(void)
{
	Suite *s = suite_create("worker_busy");
	TCase *tc = tcase_create("busy");

	tcase_add_test(tc, test_busy_held);
	tcase_add_test(tc, test_busy_let_go);
	suite_add_tcase(s, tc);
	return s;
}
