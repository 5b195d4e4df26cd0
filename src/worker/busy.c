/*
 * busy.c: what the loops of one worker process are on (in_flight).
 *
 * The loops list the same queue.  A loop passes over a request a sibling
 * is processing, instead of reading it and losing its claim, and over one
 * a sibling let go after this loop's listing was made: the listing is
 * stale for it (the request is finished, or claimed under a lease), and
 * a listing made later shows what the directory holds.  Only a shortcut:
 * the directory's atomic claim still decides who processes a request
 * (other processes do not see this set), so exactly once does not rest on
 * it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/skd_store.h"
#include "worker/skd_worker.h"

struct skd_worker_busy {
	pthread_mutex_t	  mu;
	size_t		  n;
	char		(*id)[SKD_STORE_ID_LEN];	/* "" : free */
	char		  done[SKD_WORKER_BUSY_RING][SKD_STORE_ID_LEN];
	long		  done_ms[SKD_WORKER_BUSY_RING];	/* let go at */
	size_t		  done_next;
};

struct skd_worker_busy *
skd_worker_busy_new(size_t n)
{
	struct skd_worker_busy *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->id = calloc(n, sizeof(*b->id))) == NULL ||
	    pthread_mutex_init(&b->mu, NULL) != 0) {
		free(b->id);
		free(b);
		return NULL;
	}
	b->n = n;
	return b;
}

void
skd_worker_busy_free(struct skd_worker_busy *b)
{
	if (b == NULL)
		return;
	(void)pthread_mutex_destroy(&b->mu);
	free(b->id);
	free(b);
}

int
skd_worker_busy_take(struct skd_worker_busy *b, size_t slot, const char *id,
    long listed_ms)
{
	size_t i, len;
	int ok = 1;

	if (b == NULL || slot >= b->n ||
	    (len = strlen(id)) >= SKD_STORE_ID_LEN)
		return 1;
	(void)pthread_mutex_lock(&b->mu);
	for (i = 0; i < b->n && ok; i++) {
		if (i != slot && strcmp(b->id[i], id) == 0)
			ok = 0;
	}
	for (i = 0; i < SKD_WORKER_BUSY_RING && ok; i++) {
		if (b->done[i][0] != '\0' && b->done_ms[i] >= listed_ms &&
		    strcmp(b->done[i], id) == 0)
			ok = 0;
	}
	if (ok)
		memcpy(b->id[slot], id, len + 1);
	(void)pthread_mutex_unlock(&b->mu);
	return ok;
}

void
skd_worker_busy_drop(struct skd_worker_busy *b, size_t slot, long now_ms)
{
	if (b == NULL || slot >= b->n)
		return;
	(void)pthread_mutex_lock(&b->mu);
	if (b->id[slot][0] != '\0') {
		memcpy(b->done[b->done_next], b->id[slot], SKD_STORE_ID_LEN);
		b->done_ms[b->done_next] = now_ms;
		b->done_next = (b->done_next + 1) % SKD_WORKER_BUSY_RING;
	}
	b->id[slot][0] = '\0';
	(void)pthread_mutex_unlock(&b->mu);
}
