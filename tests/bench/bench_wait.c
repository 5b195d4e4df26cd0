/*
 * bench_wait.c: how long after the worker has answered a request its
 * client knows it (issue 19: the client waits through a watch of its own
 * response entry, docs/architecture.md "The client's wait").
 *
 *   skd-bench-wait N
 *
 * The directory is a private stack (tools/skd-stack); its DIR/env must be
 * in the environment (SKD_LDAPI_URI, SKD_BASE_DN, SKD_GLA_DN, SKD_GLA_PW,
 * SKD_GLO1_DN, SKD_GLO1_PW, SKD_PKI_DIR).
 *
 * One worker (the library's skd_worker_run in a forked process, log level
 * info, its log in a scratch file) watches ou=requests and is left idle
 * for half a second.  Then N glaQueryRequests signed by glo1, one at a
 * time: each submitted as glo1 and waited for with the client's own wait
 * (skd_client_wait_response_ex, bound as glo1 as skd is): submit -> answer
 * seen by the client.  Beside it, for the same request, the worker's own
 * time from its log ("done in X ms": from reading the request to
 * finishing it).  The difference is what submitting, waking the worker
 * and letting the client learn of the answer cost (target < 10 ms on an
 * idle stack); via_watch counts the answers the watch delivered.
 *
 * Prints one line of key=value pairs: p50 and max of the client's time,
 * of the worker's and of their difference per request.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "client/skd_client.h"
#include "engine/skd_engine.h"
#include "store/skd_store.h"
#include "worker/skd_worker.h"

#define BENCH_NAME "skd-bench-wait"
#define BENCH_WITH_WORKER
#define BENCH_WITH_QUERY
#include "bench_common.h"

/* The worker's "req=<id> done in X ms" from its log, or -1. */
static double
worker_ms(const char *log, const char *id)
{
	char line[2048], want[128];
	const char *p;
	double ms = -1;
	FILE *f;

	if ((f = fopen(log, "r")) == NULL)
		return -1;
	snprintf(want, sizeof(want), "req=%s done in ", id);
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((p = strstr(line, want)) != NULL)
			ms = strtod(p + strlen(want), NULL);
	}
	fclose(f);
	return ms;
}

static double
p50(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return v[n / 2];
}

static double
max_of(const double *v, size_t n)
{
	double m = v[0];
	size_t i;

	for (i = 1; i < n; i++) {
		if (v[i] > m)
			m = v[i];
	}
	return m;
}

int
main(int argc, char **argv)
{
	struct skd_store *glo = NULL;
	struct skd_client_ident glo_id;
	struct skd_client_wait_info info;
	struct skd_client_error e;
	struct skd_store_blob *m = NULL;
	X509 *glo_cert = NULL;
	EVP_PKEY *glo_key = NULL;
	char tmpl[2048], conf[4096], pwf[4096], log[4096], *text = NULL;
	char (*ids)[SKD_STORE_ID_LEN] = NULL;
	double *client = NULL, *worker = NULL, *diff = NULL, t0;
	unsigned char *der;
	size_t n, i, len, k = 0, via_watch = 0;
	const char *pki;
	pid_t pid = -1;
	int status, rc = 1;

	if (argc != 2 || (n = strtoul(argv[1], NULL, 10)) == 0) {
		fprintf(stderr, "usage: skd-bench-wait N\n");
		return 2;
	}
	pki = bench_need_env("SKD_PKI_DIR");
	if (!bench_load_pair(&glo_cert, &glo_key, pki, "glo1"))
		goto err;
	memset(&glo_id, 0, sizeof(glo_id));
	glo_id.cert = glo_cert;
	glo_id.key = glo_key;
	if ((glo = bench_open_as("SKD_GLO1_DN", "SKD_GLO1_PW")) == NULL ||
	    (ids = calloc(n, sizeof(*ids))) == NULL ||
	    (client = calloc(n, sizeof(*client))) == NULL ||
	    (worker = calloc(n, sizeof(*worker))) == NULL ||
	    (diff = calloc(n, sizeof(*diff))) == NULL)
		goto err;

	snprintf(tmpl, sizeof(tmpl), "%s/skd-bench-wait.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpl) == NULL)
		goto err;
	snprintf(conf, sizeof(conf), "%s/gla.conf", tmpl);
	snprintf(pwf, sizeof(pwf), "%s/gla.pw", tmpl);
	snprintf(log, sizeof(log), "%s/gla.log", tmpl);
	if (!bench_write_text(pwf, bench_need_env("SKD_GLA_PW")) ||
	    asprintf(&text, "ldap_uri = %s\nbind = simple\nbind_dn = %s\n"
	    "bind_password_file = %s\nbase_dn = %s\n"
	    "gla_cert = %s/gla.crt\ngla_key = %s/gla.key\n"
	    "ca_file = %s/ca.crt\nlog_level = info\n",
	    bench_need_env("SKD_LDAPI_URI"), bench_need_env("SKD_GLA_DN"), pwf,
	    bench_need_env("SKD_BASE_DN"), pki, pki, pki) < 0 ||
	    !bench_write_text(conf, text))
		goto err;
	fflush(NULL);
	if ((pid = fork()) < 0)
		goto err;
	if (pid == 0) {
		if (freopen(log, "a", stderr) == NULL)
			_exit(126);
		setvbuf(stderr, NULL, _IOLBF, 0);
		_exit(bench_worker_main(conf));
	}
	bench_nap_ms(500);

	for (i = 0; i < n; i++) {
		if ((der = bench_query(&len, &glo_id)) == NULL)
			goto err;
		t0 = bench_now_s();
		if (!skd_store_add_request(glo, ids[i], der, len,
		    bench_need_env("SKD_GLO1_DN"))) {
			OPENSSL_free(der);
			goto err;
		}
		OPENSSL_free(der);
		if (!skd_client_wait_response_ex(glo, &m, &k, ids[i], 60000,
		    &info, &e)) {
			fprintf(stderr, "skd-bench-wait: %s\n", e.msg);
			goto err;
		}
		client[i] = (bench_now_s() - t0) * 1e3;
		skd_store_blobs_free(m, k);
		m = NULL;
		via_watch += info.via_watch != 0;
		bench_nap_ms(50);
	}
	/* The worker writes "done" before the client can see the answer's
	 * request finished; its log is complete once it stopped. */
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	pid = -1;
	for (i = 0; i < n; i++) {
		if ((worker[i] = worker_ms(log, ids[i])) < 0) {
			fprintf(stderr, "skd-bench-wait: no \"done in\" for %s "
			    "in %s\n", ids[i], log);
			goto err;
		}
		diff[i] = client[i] - worker[i];
	}
	printf("wait n=%zu via_watch=%zu client_p50_ms=%.3f "
	    "client_max_ms=%.3f worker_p50_ms=%.3f worker_max_ms=%.3f "
	    "diff_p50_ms=%.3f diff_max_ms=%.3f\n", n, via_watch,
	    p50(client, n), max_of(client, n), p50(worker, n),
	    max_of(worker, n), p50(diff, n), max_of(diff, n));
	rc = 0;
 err:
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
	if (text != NULL) {
		unlink(conf);
		unlink(pwf);
		unlink(log);
		rmdir(tmpl);
	}
	free(text);
	free(ids);
	free(client);
	free(worker);
	free(diff);
	skd_store_close(glo);
	X509_free(glo_cert);
	EVP_PKEY_free(glo_key);
	return rc;
}
