/*
 * bench_schedule.c: the cost of the GLA's rekey schedule (RFC 5275 4.5.2:
 * keys replaced before their notAfter) against the directory's size,
 * beside a floor measured in the same run.
 *
 *   skd-bench-schedule D...
 *
 * The directory is a private stack (tools/skd-stack); its DIR/env must be
 * in the environment (SKD_LDAPI_URI, SKD_LDAP_URI, SKD_BASE_DN, SKD_GLA_DN,
 * SKD_GLA_PW, SKD_ROOT_DN, SKD_ROOT_PW).
 *
 * Set-up (not timed): one GL, then, for each size D in increasing order,
 * keys added until the directory holds D of them: one head entry each
 * (shard 0: a 1,500-byte message, a 348-byte archived KEK, the GLA as
 * recipient, as the worker writes it), valid for 30 days, so that none is
 * due; slapd's writes unsynced while they go in (olcDbNoSync).
 *
 * Timed at each size, the median of 7 runs through one store session:
 *   pass_ms   the schedule's search of a pass between full ones
 *             (skd_store_find_due_glkeys from now - 2 x rekey_before to
 *             now + rekey_before, rekey_before 7 days: what run_schedule
 *             in src/worker/worker.c asks every half lease);
 *   full_ms   the same from the epoch (the pass at start-up and hourly);
 *   floor_ms  one indexed equality search that finds nothing
 *             (skd_store_find_glkeys for a recipient no key names): a
 *             round trip through slapd's index, what a search costs when
 *             nothing but the index is read.
 * Each prints one line of key=value pairs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "store/skd_store.h"

#define BENCH_NAME "skd-bench-schedule"
#include "bench_common.h"

#define RUNS		7
#define REKEY_BEFORE	(7 * 86400L)

static int
count_due(void *arg, const char *gl_name, const char *key_id,
    time_t not_before, time_t not_after)
{
	(void)gl_name;
	(void)key_id;
	(void)not_before;
	(void)not_after;
	(*(size_t *)arg)++;
	return 1;
}

/* Milliseconds of one schedule search from `from`; *due: keys found. */
static double
time_pass(struct skd_store *s, time_t from, time_t until, size_t *due)
{
	double t0 = bench_now_s();

	*due = 0;
	if (!skd_store_find_due_glkeys(s, from, until, count_due, due))
		return -1;
	return (bench_now_s() - t0) * 1e3;
}

static double
time_floor(struct skd_store *s, const char *gl)
{
	struct skd_store_glkey *k = NULL;
	size_t n = 0;
	double t0 = bench_now_s();

	if (!skd_store_find_glkeys(s, &k, &n, gl,
	    "email:nobody@bench.example.com"))
		return -1;
	skd_store_glkey_list_free(k, n);
	return (bench_now_s() - t0) * 1e3;
}

static double
median(double *v)
{
	qsort(v, RUNS, sizeof(*v), bench_cmp_double);
	return v[RUNS / 2];
}

int
main(int argc, char **argv)
{
	struct skd_store *s = NULL;
	struct skd_store_gl gl;
	struct skd_store_glkey k;
	unsigned char msg[1500], kek[348], rnd[16];
	char gl_name[128], kid[2 * sizeof(rnd) + 1];
	char *recips[1] = { "email:gla@bench.example.com" };
	size_t have = 0, d, due = 0, i, j;
	double pass[RUNS], full[RUNS], fl[RUNS], t0;
	time_t now = time(NULL);
	int a, synced = 1, rc = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: skd-bench-schedule D...\n");
		return 2;
	}
	if ((s = bench_open_as("SKD_GLA_DN", "SKD_GLA_PW")) == NULL)
		goto err;
	bench_gl_init(&gl, gl_name, sizeof(gl_name), "sched/", 0, 0);
	if (!skd_store_create_gl(s, &gl) ||
	    RAND_bytes(msg, sizeof(msg)) != 1 ||
	    RAND_bytes(kek, sizeof(kek)) != 1)
		goto err;
	memset(&k, 0, sizeof(k));
	k.gl_name = gl_name;
	k.shard = 0;
	k.message = msg;
	k.message_len = sizeof(msg);
	k.recipients = recips;
	k.n_recipients = 1;
	k.not_before = now - 3600;
	k.not_after = now + 30 * 86400L;
	k.archived_kek = kek;
	k.archived_kek_len = sizeof(kek);
	k.key_id = kid;
	for (a = 1; a < argc; a++) {
		if ((d = strtoul(argv[a], NULL, 10)) == 0)
			goto err;
		t0 = bench_now_s();
		if (have < d) {
			if (!bench_nosync(1))
				goto err;
			synced = 0;
		}
		for (; have < d; have++) {
			if (RAND_bytes(rnd, sizeof(rnd)) != 1)
				goto err;
			for (j = 0; j < sizeof(rnd); j++)
				snprintf(kid + 2 * j, 3, "%02x", rnd[j]);
			if (!skd_store_put_glkey(s, &k)) {
				fprintf(stderr, BENCH_NAME ": put: %s\n",
				    skd_store_errmsg(s));
				goto err;
			}
		}
		if (!synced) {
			if (!bench_nosync(0))
				goto err;
			synced = 1;
		}
		fprintf(stderr, BENCH_NAME ": %zu keys filled in %.1f s\n", d,
		    bench_now_s() - t0);
		for (i = 0; i < RUNS; i++) {
			now = time(NULL);
			if ((pass[i] = time_pass(s, now - 2 * REKEY_BEFORE,
			    now + REKEY_BEFORE, &due)) < 0 || due != 0 ||
			    (full[i] = time_pass(s, 0, now + REKEY_BEFORE,
			    &due)) < 0 || due != 0 ||
			    (fl[i] = time_floor(s, gl_name)) < 0) {
				fprintf(stderr, BENCH_NAME ": search: %s "
				    "(%zu due)\n", skd_store_errmsg(s), due);
				goto err;
			}
		}
		printf("schedule keys=%zu pass_ms=%.3f full_ms=%.3f "
		    "floor_ms=%.3f\n", d, median(pass), median(full),
		    median(fl));
		fflush(stdout);
	}
	rc = 0;
 err:
	if (!synced)
		(void)bench_nosync(0);
	if (rc != 0) {
		fprintf(stderr, BENCH_NAME ": failed: %s\n",
		    s != NULL ? skd_store_errmsg(s) : "");
		ERR_print_errors_fp(stderr);
	}
	skd_store_close(s);
	return rc;
}
