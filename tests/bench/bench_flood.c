/*
 * bench_flood.c: one person's flood against another's request (fair
 * scheduling, docs/architecture.md).
 *
 *   skd-bench-flood N
 *
 * The directory is a private stack (tools/skd-stack); its DIR/env must be
 * in the environment (SKD_LDAPI_URI, SKD_BASE_DN, SKD_GLA_DN, SKD_GLA_PW,
 * SKD_GLO1_DN, SKD_GLO1_PW, SKD_MALLORY_DN, SKD_MALLORY_PW, SKD_PKI_DIR).
 *
 * One worker (the library's skd_worker_run in a forked process, default
 * max_pending_per_submitter) watches ou=requests.  The peer figure: a
 * glaQueryRequest signed by glo1 submitted to an idle worker, submission
 * to response, the median of five.  Then mallory adds N requests of 64
 * random bytes, and glo1 submits one more glaQueryRequest at once: its
 * submission-to-response time, and how long the flood took to drain.
 *
 * Prints one line of key=value pairs.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "client/skd_client.h"
#include "engine/skd_engine.h"
#include "store/skd_store.h"
#include "worker/skd_worker.h"

#define BENCH_NAME "skd-bench-flood"
#define BENCH_WITH_WORKER
#define BENCH_WITH_QUERY
#include "bench_common.h"

/* Submits a fresh query as glo1 and waits for its response (polling every
 * millisecond, at most 120 s); seconds, or -1. */
static double
round_trip(struct skd_store *glo, const struct skd_client_ident *id)
{
	struct skd_store_blob *m = NULL;
	char rid[SKD_STORE_ID_LEN];
	unsigned char *der;
	size_t len, n = 0;
	double t0;
	int i;

	if ((der = bench_query(&len, id)) == NULL)
		return -1;
	t0 = bench_now_s();
	if (!skd_store_add_request(glo, rid, der, len,
	    bench_need_env("SKD_GLO1_DN"))) {
		OPENSSL_free(der);
		return -1;
	}
	OPENSSL_free(der);
	for (i = 0; i < 120000; i++) {
		if (skd_store_read_response(glo, &m, &n, rid)) {
			skd_store_blobs_free(m, n);
			return bench_now_s() - t0;
		}
		if (skd_store_error(glo) != SKD_STORE_ERR_NOT_FOUND)
			return -1;
		bench_nap_ms(1);
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct skd_store *gla = NULL, *glo = NULL, *mal = NULL;
	struct skd_store_request *r = NULL;
	struct skd_client_ident glo_id;
	X509 *glo_cert = NULL;
	EVP_PKEY *glo_key = NULL;
	struct bench_workers wk;
	char (*ids)[SKD_STORE_ID_LEN] = NULL;
	unsigned char junk[64];
	double idle[5], flood_s = -1, t0, drain_s;
	size_t n, i, left, excess = 0;
	const char *pki;
	int rc = 1, k;

	memset(&wk, 0, sizeof(wk));
	if (argc != 2 || (n = strtoul(argv[1], NULL, 10)) == 0) {
		fprintf(stderr, "usage: skd-bench-flood N\n");
		return 2;
	}
	pki = bench_need_env("SKD_PKI_DIR");
	if (!bench_load_pair(&glo_cert, &glo_key, pki, "glo1"))
		goto err;
	memset(&glo_id, 0, sizeof(glo_id));
	glo_id.cert = glo_cert;
	glo_id.key = glo_key;
	if ((gla = bench_open_as("SKD_GLA_DN", "SKD_GLA_PW")) == NULL ||
	    (glo = bench_open_as("SKD_GLO1_DN", "SKD_GLO1_PW")) == NULL ||
	    (mal = bench_open_as("SKD_MALLORY_DN", "SKD_MALLORY_PW")) == NULL ||
	    (ids = calloc(n, sizeof(*ids))) == NULL)
		goto err;

	if (!bench_worker_spawn(&wk, 1, "log_level = error\n"))
		goto err;

	/* The peer: the same request to an idle worker. */
	for (i = 0; i < 5; i++) {
		if ((idle[i] = round_trip(glo, &glo_id)) < 0)
			goto err;
	}
	qsort(idle, 5, sizeof(idle[0]), bench_cmp_double);

	/* The flood, then glo1's request. */
	t0 = bench_now_s();
	for (i = 0; i < n; i++) {
		if (RAND_bytes(junk, sizeof(junk)) != 1 ||
		    !skd_store_add_request(mal, ids[i], junk, sizeof(junk),
		    bench_need_env("SKD_MALLORY_DN")))
			goto err;
	}
	if ((flood_s = round_trip(glo, &glo_id)) < 0)
		goto err;
	for (k = 0; k < 600000; k++) {
		for (i = 0, left = 0; i < n; i++) {
			if (!skd_store_read_request(gla, &r, ids[i]))
				goto err;
			if (strcmp(r->state, "done") != 0 &&
			    strcmp(r->state, "failed") != 0)
				left++;
			skd_store_request_free(r);
			r = NULL;
			if (left > 0)
				break;
		}
		if (left == 0)
			break;
		bench_nap_ms(10);
	}
	drain_s = bench_now_s() - t0;
	for (i = 0; i < n; i++) {
		if (!skd_store_read_request(gla, &r, ids[i]))
			goto err;
		if (r->error != NULL && strstr(r->error,
		    "max_pending_per_submitter") != NULL)
			excess++;
		skd_store_request_free(r);
		r = NULL;
	}
	printf("flood n=%zu valid_ms=%.3f idle_ms=%.3f drain_s=%.3f "
	    "excess_failed=%zu\n", n, flood_s * 1e3, idle[2] * 1e3, drain_s,
	    excess);
	rc = 0;
 err:
	if (!bench_worker_end(&wk))
		rc = 1;
	if (rc != 0) {
		fprintf(stderr, BENCH_NAME ": failed: %s\n",
		    gla != NULL ? skd_store_errmsg(gla) : "");
		ERR_print_errors_fp(stderr);
	}
	free(ids);
	skd_store_request_free(r);
	skd_store_close(gla);
	skd_store_close(glo);
	skd_store_close(mal);
	X509_free(glo_cert);
	EVP_PKEY_free(glo_key);
	return rc;
}
