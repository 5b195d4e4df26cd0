/*
 * parallel.c: spreading a rekey's independent per-member and per-shard
 * work (certificate decoding and path validation, wrapping, signing) over
 * the machine's cores.  Nothing here touches the outcome or the working
 * copies: callers gather results in arrays and append operations in order
 * afterwards, so the outcome is the same whatever the thread count.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/engine_local.h"


struct par {
	pthread_mutex_t	  mu;
	size_t		  n;
	size_t		  next;
	int		  ok;
	int		(*fn)(void *, size_t);
	void		 *arg;
};

static int
eng_threads(const struct eng *e, size_t n)
{
	long t = e->cfg->threads;

	if (t <= 0)
		t = sysconf(_SC_NPROCESSORS_ONLN);
	if (t < 1)
		t = 1;
	if (t > ENG_MAX_THREADS)
		t = ENG_MAX_THREADS;
	if ((size_t)t > n)
		t = (long)n;
	return (int)t;
}

int
eng_nthreads(const struct eng *e)
{
	return eng_threads(e, ENG_MAX_THREADS);
}

static void *
par_run(void *v)
{
	struct par *p = v;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		if (!p->ok || p->next >= p->n) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (!p->fn(p->arg, i)) {
			pthread_mutex_lock(&p->mu);
			p->ok = 0;
			pthread_mutex_unlock(&p->mu);
		}
	}
}

/* A started thread decodes in a library context of its own (OpenSSL 3.0
 * serialises decoding threads that share one: skd_thread_libctx). */
static void *
par_thread(void *v)
{
	skd_thread_libctx_enter();
	(void)par_run(v);
	skd_thread_libctx_leave();
	return NULL;
}

int
eng_parallel(struct eng *e, size_t n, int (*fn)(void *, size_t), void *arg)
{
	pthread_t tid[ENG_MAX_THREADS];
	struct par p;
	int t, started = 0, i;

	if (n == 0)
		return 1;
	p.n = n;
	p.next = 0;
	p.ok = 1;
	p.fn = fn;
	p.arg = arg;
	if (pthread_mutex_init(&p.mu, NULL) != 0)
		return 0;
	/* The caller is one of the t threads; a thread that cannot be
	 * started only means fewer of them. */
	t = eng_threads(e, n);
	for (i = 1; i < t; i++) {
		if (pthread_create(&tid[started], NULL, par_thread, &p) != 0)
			break;
		started++;
	}
	par_run(&p);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&p.mu);
	return p.ok;
}
