/*
 * test_worker_busy.c: what the loops of one worker are on (src/worker/
 * busy.c): a request held by one loop is passed over by the others, and
 * one let go after a loop's listing was made is passed over by that
 * listing only; the listing the loops share is handed out once, in
 * order, until it runs out or is old, and a loop's pass ends when a new
 * listing would find nothing for it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A listing of the given ids (excess for ids starting with 'x'). */
static void
install(struct skd_worker_busy *b, const char *const *ids, size_t n,
    long listed_ms, long relist_ms)
{
	struct skd_worker_item *v = calloc(n > 0 ? n : 1, sizeof(*v));
	size_t i;

	ck_assert_ptr_nonnull(v);
	for (i = 0; i < n; i++) {
		(void)snprintf(v[i].id, sizeof(v[i].id), "%s", ids[i]);
		v[i].excess = ids[i][0] == 'x';
	}
	skd_worker_busy_listed(b, v, n, listed_ms, relist_ms);
}

static void
ck_next(struct skd_worker_busy *b, size_t slot, long since, long now,
    const char *want)
{
	struct skd_worker_item it;

	ck_assert_int_eq(skd_worker_busy_next(b, slot, since, now, &it),
	    SKD_WORKER_NEXT_ITEM);
	ck_assert_str_eq(it.id, want);
	ck_assert_int_eq(it.excess, want[0] == 'x');
}

static int
next_r(struct skd_worker_busy *b, size_t slot, long since, long now)
{
	struct skd_worker_item it;

	return skd_worker_busy_next(b, slot, since, now, &it);
}

START_TEST(test_listing_shared)
{
	struct skd_worker_busy *b = skd_worker_busy_new(2);
	const char *ids[] = { "a", "xb", "c" };

	ck_assert_ptr_nonnull(b);
	/* Nothing listed yet: the first loop to ask lists. */
	ck_assert_int_eq(next_r(b, 0, 10, 11), SKD_WORKER_NEXT_LIST);
	install(b, ids, 3, 12, 100);
	/* Handed out once each, in order, whichever loop asks. */
	ck_next(b, 0, 10, 13, "a");
	ck_next(b, 1, 10, 13, "xb");
	skd_worker_busy_done(b, 0, 1, 14);
	ck_next(b, 0, 10, 15, "c");
	skd_worker_busy_done(b, 1, 1, 16);
	/* Run out, something finished, and slot 1 took after it was
	 * made: it lists again (what was added meanwhile). */
	ck_assert_int_eq(next_r(b, 1, 10, 17), SKD_WORKER_NEXT_LIST);
	install(b, NULL, 0, 18, 100);
	/* That one is empty: both passes end, c's end counting for the
	 * listing it came from only. */
	ck_assert_int_eq(next_r(b, 1, 10, 19), SKD_WORKER_NEXT_IDLE);
	skd_worker_busy_done(b, 0, 1, 20);
	ck_assert_int_eq(next_r(b, 0, 10, 21), SKD_WORKER_NEXT_IDLE);
	/* A pass begun in or after the listing's millisecond lists again:
	 * the listing may have missed what the pass was begun for. */
	ck_assert_int_eq(next_r(b, 0, 18, 22), SKD_WORKER_NEXT_LIST);
	skd_worker_busy_unlisted(b);
	skd_worker_busy_free(b);
	/* No set: nothing to do. */
	ck_assert_int_eq(next_r(NULL, 0, 0, 0), SKD_WORKER_NEXT_IDLE);
}
END_TEST

START_TEST(test_listing_ends)
{
	struct skd_worker_busy *b = skd_worker_busy_new(2);
	const char *ids[] = { "a", "b" }, *one[] = { "c" };

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(next_r(b, 0, 10, 11), SKD_WORKER_NEXT_LIST);
	install(b, ids, 2, 12, 100);
	ck_next(b, 0, 10, 13, "a");
	skd_worker_busy_done(b, 0, 1, 14);
	/* Old (relist_ms passed) with b still in it: listed again. */
	ck_assert_int_eq(next_r(b, 0, 10, 112), SKD_WORKER_NEXT_LIST);
	install(b, one, 1, 113, 100);
	ck_next(b, 0, 10, 114, "c");
	/* Slot 1 never took from it while slot 0 is on c: the listing
	 * was made after slot 1's last take, so a new one would show
	 * only what siblings are on. */
	ck_assert_int_eq(next_r(b, 1, 10, 115), SKD_WORKER_NEXT_IDLE);
	/* c fails for now (not finished): nothing of the listing was
	 * finished, nothing is on: the next would show the same. */
	skd_worker_busy_done(b, 0, 0, 116);
	ck_assert_int_eq(next_r(b, 0, 10, 117), SKD_WORKER_NEXT_IDLE);
	skd_worker_busy_free(b);
}
END_TEST

START_TEST(test_listing_let_go)
{
	struct skd_worker_busy *b = skd_worker_busy_new(2);
	const char *ids[] = { "a", "b" };

	ck_assert_ptr_nonnull(b);
	/* a is let go at 25; a listing made at 20 still shows it. */
	ck_assert_int_eq(skd_worker_busy_take(b, 1, "a", 5), 1);
	skd_worker_busy_drop(b, 1, 25);
	ck_assert_int_eq(next_r(b, 0, 10, 19), SKD_WORKER_NEXT_LIST);
	install(b, ids, 2, 20, 100);
	ck_next(b, 0, 10, 26, "b");
	skd_worker_busy_free(b);
}
END_TEST

struct waiter {
	struct skd_worker_busy	*b;
	struct skd_worker_item	 it;
	int			 r;
};

static void *
wait_main(void *p)
{
	struct waiter *w = p;

	w->r = skd_worker_busy_next(w->b, 1, 10, 12, &w->it);
	return NULL;
}

START_TEST(test_listing_wait)
{
	struct skd_worker_busy *b = skd_worker_busy_new(2);
	const char *ids[] = { "a" };
	struct waiter w;
	pthread_t t;

	ck_assert_ptr_nonnull(b);
	memset(&w, 0, sizeof(w));
	w.b = b;
	w.r = -1;
	ck_assert_int_eq(next_r(b, 0, 10, 11), SKD_WORKER_NEXT_LIST);
	/* Slot 1 asks while slot 0 lists: it waits for that listing
	 * rather than making one of its own. */
	ck_assert_int_eq(pthread_create(&t, NULL, wait_main, &w), 0);
	usleep(100000);
	install(b, ids, 1, 12, 100);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(w.r, SKD_WORKER_NEXT_ITEM);
	ck_assert_str_eq(w.it.id, "a");
	skd_worker_busy_free(b);
}
END_TEST

/* The one watch of a process: one loop polls it, the others wait for
 * what it finds; nothing found, they time out; free again, the next
 * loop to ask polls. */
START_TEST(test_watch_shared)
{
	struct skd_worker_busy *b = skd_worker_busy_new(2);
	unsigned long s0 = 0, s1 = 0;

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(skd_worker_busy_watch(b, &s0, 10),
	    SKD_WORKER_WATCH_POLL);
	/* Held by slot 0: slot 1 waits, and nothing comes. */
	ck_assert_int_eq(skd_worker_busy_watch(b, &s1, 20),
	    SKD_WORKER_WATCH_TIMEOUT);
	/* Slot 0's poll found something: slot 1 is told once. */
	skd_worker_busy_watch_done(b, &s0, 1);
	ck_assert_int_eq(skd_worker_busy_watch(b, &s1, 20),
	    SKD_WORKER_WATCH_REPORTED);
	/* The poller itself has looked; the watch is free: it polls. */
	ck_assert_int_eq(skd_worker_busy_watch(b, &s0, 20),
	    SKD_WORKER_WATCH_POLL);
	/* Nothing found: nobody is told; slot 1 polls next. */
	skd_worker_busy_watch_done(b, &s0, 0);
	ck_assert_int_eq(skd_worker_busy_watch(b, &s1, 20),
	    SKD_WORKER_WATCH_POLL);
	skd_worker_busy_watch_done(b, &s1, 0);
	skd_worker_busy_free(b);
	/* One loop (no set): it always polls. */
	ck_assert_int_eq(skd_worker_busy_watch(NULL, &s0, 0),
	    SKD_WORKER_WATCH_POLL);
	skd_worker_busy_watch_done(NULL, &s0, 1);
}
END_TEST

struct watcher {
	struct skd_worker_busy	*b;
	unsigned long		 seen;
	int			 r;
};

static void *
watcher_main(void *p)
{
	struct watcher *w = p;

	w->r = skd_worker_busy_watch(w->b, &w->seen, 30000);
	return NULL;
}

START_TEST(test_watch_wakes)
{
	struct skd_worker_busy *b = skd_worker_busy_new(2);
	struct watcher w;
	unsigned long s0 = 0;
	pthread_t t;

	ck_assert_ptr_nonnull(b);
	memset(&w, 0, sizeof(w));
	w.b = b;
	w.r = -1;
	ck_assert_int_eq(skd_worker_busy_watch(b, &s0, 10),
	    SKD_WORKER_WATCH_POLL);
	/* A loop waiting (up to 30 s) is woken by what the poll found,
	 * not by its time running out. */
	ck_assert_int_eq(pthread_create(&t, NULL, watcher_main, &w), 0);
	usleep(100000);
	skd_worker_busy_watch_done(b, &s0, 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(w.r, SKD_WORKER_WATCH_REPORTED);
	ck_assert_uint_eq(w.seen, s0);
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
	tcase_add_test(tc, test_listing_shared);
	tcase_add_test(tc, test_listing_ends);
	tcase_add_test(tc, test_listing_let_go);
	tcase_add_test(tc, test_listing_wait);
	tcase_add_test(tc, test_watch_shared);
	tcase_add_test(tc, test_watch_wakes);
	suite_add_tcase(s, tc);
	return s;
}
