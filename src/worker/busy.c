/*
 * busy.c: what the loops of one worker process are on (in_flight), and
 * the listing of the queue they share.
 *
 * One loop lists the queue; every loop of the process takes its next
 * request from that listing, in the order the fair scheduler gave it,
 * until the listing runs out or is old (docs/architecture.md, "Fair
 * scheduling").  Each loop used to list for itself: with four loops a
 * deep queue was listed four times as often, a fifth of the worker's
 * time at 2,500 waiting (issue 14).
 *
 * A loop passes over a request a sibling is processing, instead of
 * reading it and losing its claim, and over one a sibling let go after
 * the listing was made: the listing is stale for it (the request is
 * finished, or claimed under a lease), and a listing made later shows
 * what the directory holds.  Only a shortcut: the directory's atomic
 * claim still decides who processes a request (other processes do not
 * see this set), so exactly once does not rest on it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/skd_store.h"
#include "worker/skd_worker.h"

struct skd_worker_busy {
	pthread_mutex_t	  mu;
	pthread_cond_t	  cv;		/* a listing was installed */
	size_t		  n;
	char		(*id)[SKD_STORE_ID_LEN];	/* "" : free */
	char		  done[SKD_WORKER_BUSY_RING][SKD_STORE_ID_LEN];
	long		  done_ms[SKD_WORKER_BUSY_RING];	/* let go at */
	size_t		  done_next;
	/* The shared listing: items in turn order, the next to hand out,
	 * when it was made and how long it is good for. */
	struct skd_worker_item	*item;
	size_t		  nitem, next;
	long		  listed_ms, relist_ms;
	int		  listing;	/* a loop is making one */
	unsigned long	  gen;		/* listings installed (0: none yet) */
	size_t		  finished;	/* of this listing's, finished */
	size_t		  on;		/* of this listing's, being processed */
	unsigned long	 *took_gen;	/* per slot: the listing of its request */
	long		 *took_ms;	/* per slot: when it last took one */
	/* The one watch of the process: whether a loop is polling it, and
	 * how many of its polls found something. */
	int		  watch_held;
	unsigned long	  reports;
};

struct skd_worker_busy *
skd_worker_busy_new(size_t n)
{
	struct skd_worker_busy *b;
	pthread_condattr_t ca;

	if (n == 0 || (b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->id = calloc(n, sizeof(*b->id))) == NULL ||
	    (b->took_gen = calloc(n, sizeof(*b->took_gen))) == NULL ||
	    (b->took_ms = calloc(n, sizeof(*b->took_ms))) == NULL)
		goto err;
	if (pthread_mutex_init(&b->mu, NULL) != 0)
		goto err;
	/* Timed waits (the watch) count on the monotonic clock. */
	if (pthread_condattr_init(&ca) != 0)
		goto err_mu;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&b->cv, &ca) != 0) {
		(void)pthread_condattr_destroy(&ca);
		goto err_mu;
	}
	(void)pthread_condattr_destroy(&ca);
	b->n = n;
	return b;
 err_mu:
	(void)pthread_mutex_destroy(&b->mu);
 err:
	free(b->id);
	free(b->took_gen);
	free(b->took_ms);
	free(b);
	return NULL;
}

void
skd_worker_busy_free(struct skd_worker_busy *b)
{
	if (b == NULL)
		return;
	(void)pthread_cond_destroy(&b->cv);
	(void)pthread_mutex_destroy(&b->mu);
	free(b->item);
	free(b->id);
	free(b->took_gen);
	free(b->took_ms);
	free(b);
}

/* take with b->mu held; id is shorter than SKD_STORE_ID_LEN. */
static int
take_locked(struct skd_worker_busy *b, size_t slot, const char *id,
    long listed_ms)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (i != slot && strcmp(b->id[i], id) == 0)
			return 0;
	}
	for (i = 0; i < SKD_WORKER_BUSY_RING; i++) {
		if (b->done[i][0] != '\0' && b->done_ms[i] >= listed_ms &&
		    strcmp(b->done[i], id) == 0)
			return 0;
	}
	memcpy(b->id[slot], id, strlen(id) + 1);
	return 1;
}

/* drop with b->mu held. */
static void
drop_locked(struct skd_worker_busy *b, size_t slot, long now_ms)
{
	if (b->id[slot][0] != '\0') {
		memcpy(b->done[b->done_next], b->id[slot], SKD_STORE_ID_LEN);
		b->done_ms[b->done_next] = now_ms;
		b->done_next = (b->done_next + 1) % SKD_WORKER_BUSY_RING;
	}
	b->id[slot][0] = '\0';
}

int
skd_worker_busy_take(struct skd_worker_busy *b, size_t slot, const char *id,
    long listed_ms)
{
	int ok;

	if (b == NULL || slot >= b->n || strlen(id) >= SKD_STORE_ID_LEN)
		return 1;
	(void)pthread_mutex_lock(&b->mu);
	ok = take_locked(b, slot, id, listed_ms);
	(void)pthread_mutex_unlock(&b->mu);
	return ok;
}

void
skd_worker_busy_drop(struct skd_worker_busy *b, size_t slot, long now_ms)
{
	if (b == NULL || slot >= b->n)
		return;
	(void)pthread_mutex_lock(&b->mu);
	drop_locked(b, slot, now_ms);
	(void)pthread_mutex_unlock(&b->mu);
}

/*
 * The next request for slot, or what it must do instead.  A listing is
 * handed out until it runs out or relist_ms have passed since it was
 * made; then one loop lists again (_LIST) while the others wait for it.
 * A loop whose pass began at since_ms stops (_IDLE) at the end of a
 * listing made after its pass began (in a later millisecond: one made
 * in the same may have missed what the pass was begun for) when listing
 * again would find nothing for it: nothing of that listing was finished
 * and nothing is still being processed (everything failed for now, or
 * was another worker's: the next listing would show the same), or the
 * listing was made after this loop's last take (what it did not hand
 * out, siblings are on).
 */
int
skd_worker_busy_next(struct skd_worker_busy *b, size_t slot, long since_ms,
    long now_ms, struct skd_worker_item *out)
{
	struct skd_worker_item *it;
	int r;

	if (b == NULL || slot >= b->n)
		return SKD_WORKER_NEXT_IDLE;
	(void)pthread_mutex_lock(&b->mu);
	for (;;) {
		if (b->gen > 0 && now_ms - b->listed_ms < b->relist_ms) {
			while (b->next < b->nitem) {
				it = &b->item[b->next++];
				if (!take_locked(b, slot, it->id,
				    b->listed_ms))
					continue;
				*out = *it;
				b->took_gen[slot] = b->gen;
				b->took_ms[slot] = now_ms;
				b->on++;
				r = SKD_WORKER_NEXT_ITEM;
				goto done;
			}
		}
		if (b->listing) {
			/* Another loop is listing: its listing, when it
			 * comes, is newer than anything this loop saw. */
			(void)pthread_cond_wait(&b->cv, &b->mu);
			continue;
		}
		if (b->gen > 0 && b->next >= b->nitem &&
		    b->listed_ms > since_ms &&
		    ((b->finished == 0 && b->on == 0) ||
		    b->listed_ms > b->took_ms[slot])) {
			r = SKD_WORKER_NEXT_IDLE;
			goto done;
		}
		b->listing = 1;
		r = SKD_WORKER_NEXT_LIST;
		goto done;
	}
 done:
	(void)pthread_mutex_unlock(&b->mu);
	return r;
}

void
skd_worker_busy_listed(struct skd_worker_busy *b,
    struct skd_worker_item *items, size_t n, long listed_ms, long relist_ms)
{
	if (b == NULL) {
		free(items);
		return;
	}
	(void)pthread_mutex_lock(&b->mu);
	free(b->item);
	b->item = items;
	b->nitem = n;
	b->next = 0;
	b->listed_ms = listed_ms;
	b->relist_ms = relist_ms;
	b->listing = 0;
	b->gen++;
	b->finished = 0;
	b->on = 0;
	(void)pthread_cond_broadcast(&b->cv);
	(void)pthread_mutex_unlock(&b->mu);
}

void
skd_worker_busy_unlisted(struct skd_worker_busy *b)
{
	if (b == NULL)
		return;
	(void)pthread_mutex_lock(&b->mu);
	b->listing = 0;
	(void)pthread_cond_broadcast(&b->cv);
	(void)pthread_mutex_unlock(&b->mu);
}

void
skd_worker_busy_done(struct skd_worker_busy *b, size_t slot, int finished,
    long now_ms)
{
	if (b == NULL || slot >= b->n)
		return;
	(void)pthread_mutex_lock(&b->mu);
	/* Counted for the listing it came from only: a request of an
	 * older listing says nothing of the current one. */
	if (b->took_gen[slot] == b->gen) {
		if (b->on > 0)
			b->on--;
		if (finished)
			b->finished++;
	}
	b->took_gen[slot] = 0;
	drop_locked(b, slot, now_ms);
	(void)pthread_mutex_unlock(&b->mu);
}

/*
 * The process's one watch of the queue: a loop with nothing to do polls
 * it (_POLL, the watch is then its until skd_worker_busy_watch_done)
 * unless another loop is, and waits instead, at most wait_ms, for that
 * loop's polls to find something (_REPORTED: *seen is brought up to
 * date) or for the watch to be free.  _TIMEOUT: neither came.
 */
int
skd_worker_busy_watch(struct skd_worker_busy *b, unsigned long *seen,
    long wait_ms)
{
	struct timespec until;
	int r, rc = 0;

	if (b == NULL)
		return SKD_WORKER_WATCH_POLL;
	(void)clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	(void)pthread_mutex_lock(&b->mu);
	for (;;) {
		if (b->reports != *seen) {
			*seen = b->reports;
			r = SKD_WORKER_WATCH_REPORTED;
			break;
		}
		if (!b->watch_held) {
			b->watch_held = 1;
			r = SKD_WORKER_WATCH_POLL;
			break;
		}
		if (rc == ETIMEDOUT) {
			r = SKD_WORKER_WATCH_TIMEOUT;
			break;
		}
		rc = pthread_cond_timedwait(&b->cv, &b->mu, &until);
	}
	(void)pthread_mutex_unlock(&b->mu);
	return r;
}

/* The watch is free again; reported nonzero when the poll found
 * something (every loop then looks: skd_worker_busy_watch). */
void
skd_worker_busy_watch_done(struct skd_worker_busy *b, unsigned long *seen,
    int reported)
{
	if (b == NULL)
		return;
	(void)pthread_mutex_lock(&b->mu);
	b->watch_held = 0;
	if (reported)
		b->reports++;
	/* The poller has looked already. */
	*seen = b->reports;
	(void)pthread_cond_broadcast(&b->cv);
	(void)pthread_mutex_unlock(&b->mu);
}
