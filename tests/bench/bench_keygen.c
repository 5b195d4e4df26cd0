/*
 * bench_keygen.c: CMC server-side key generation through the GLA worker
 * end to end (docs/keygen.md): keys per second.
 *
 *   skd-bench-keygen TYPE N
 *
 * TYPE is rsa2048 or p256 (anything skd_kgen_type_from_name takes).  The
 * directory is a private stack (tools/skd-stack) whose DIR/env is in the
 * environment.  Set-up (not timed): one worker (a forked process, the
 * library's skd_worker_run, watching ou=requests) configured with the
 * stack's CA as keygen CA, the GLA's certificate as recovery certificate
 * (every key archived) and the certificates published on alice's entry;
 * N requests built and signed by alice, each shrouded to one ephemeral
 * P-256 key (scenario 2.3).  Timed: the N requests submitted back to back
 * as alice, then every response waited for (polling each response entry);
 * keys/s = N / (first submit to last response).  One answer is opened and
 * checked (the key is the certificate's).  tools/bench prints it beside
 * `openssl genpkey` run in the same shell.
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
#include "client/skd_keygen.h"
#include "engine/skd_engine.h"
#include "store/skd_store.h"
#include "worker/skd_worker.h"

#define BENCH_NAME "skd-bench-keygen"
#define BENCH_WITH_WORKER
#include "bench_common.h"

int
main(int argc, char **argv)
{
	struct skd_store *alice = NULL;
	struct skd_store_blob *m = NULL;
	struct skd_keygen_req r;
	struct skd_keygen_result res;
	struct skd_shroud_opener who;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL, *eph = NULL;
	X509_STORE *trust = NULL;
	struct bench_workers wk;
	char ca[4096], extra[4096];
	char (*ids)[SKD_STORE_ID_LEN] = NULL;
	unsigned char (*nonces)[SKD_KEYGEN_NONCE_LEN] = NULL, ski[8];
	unsigned char **reqs = NULL;
	size_t *lens = NULL, n, i, nm = 0;
	double t0, t1;
	const char *pki;
	int rc = 1, got;

	memset(&res, 0, sizeof(res));
	memset(&wk, 0, sizeof(wk));
	if (argc != 3 || (n = strtoul(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: skd-bench-keygen TYPE N\n");
		return 2;
	}
	memset(&r, 0, sizeof(r));
	if ((r.type = skd_kgen_type_from_name(argv[1])) == SKD_KGEN_NONE) {
		fprintf(stderr, BENCH_NAME ": unknown type %s\n", argv[1]);
		return 2;
	}
	pki = bench_need_env("SKD_PKI_DIR");
	if (!bench_load_pair(&cert, &key, pki, "alice") ||
	    (eph = skd_kgen_generate(SKD_KGEN_P256)) == NULL ||
	    RAND_bytes(ski, sizeof(ski)) != 1 ||
	    (alice = bench_open_as("SKD_ALICE_DN", "SKD_ALICE_PW")) == NULL ||
	    (ids = calloc(n, sizeof(*ids))) == NULL ||
	    (nonces = calloc(n, sizeof(*nonces))) == NULL ||
	    (reqs = calloc(n, sizeof(*reqs))) == NULL ||
	    (lens = calloc(n, sizeof(*lens))) == NULL)
		goto err;
	r.shroud = SKD_KEYGEN_BARE_KEY;
	r.bare_key = eph;
	r.ski = ski;
	r.ski_len = sizeof(ski);
	for (i = 0; i < n; i++) {
		if (RAND_bytes(nonces[i], SKD_KEYGEN_NONCE_LEN) != 1 ||
		    !skd_keygen_request(&reqs[i], &lens[i], &r, (long)i + 1,
		    nonces[i], cert, key, NULL, time(NULL)))
			goto err;
	}
	snprintf(extra, sizeof(extra), "log_level = error\n"
	    "keygen_ca_cert = %s/ca.crt\nkeygen_ca_key = %s/ca.key\n"
	    "keygen_recovery_cert = %s/gla.crt\n", pki, pki, pki);
	if (!bench_worker_spawn(&wk, 1, extra))
		goto err;

	t0 = bench_now_s();
	for (i = 0; i < n; i++) {
		if (!skd_store_add_request(alice, ids[i], reqs[i], lens[i],
		    bench_need_env("SKD_ALICE_DN")))
			goto err;
	}
	for (i = 0; i < n; i++) {
		for (got = 0; !got;) {
			if (skd_store_read_response(alice, &m, &nm, ids[i])) {
				got = 1;
				if (i + 1 < n) {
					skd_store_blobs_free(m, nm);
					m = NULL;
				}
			} else if (skd_store_error(alice) ==
			    SKD_STORE_ERR_NOT_FOUND) {
				bench_nap_ms(1);
			} else {
				goto err;
			}
			if (bench_now_s() - t0 > 600)
				goto err;
		}
	}
	t1 = bench_now_s();
	/* The last answer, checked. */
	snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	if ((trust = X509_STORE_new()) == NULL ||
	    X509_STORE_load_file(trust, ca) != 1 ||
	    !skd_keygen_open_response(&res, m[0].data, m[0].len,
	    nonces[n - 1], &who, trust, time(NULL)) || res.status != 0 ||
	    X509_check_private_key(res.cert, res.key) != 1) {
		fprintf(stderr, BENCH_NAME ": answer: %s\n", res.text);
		goto err;
	}
	printf("keygen type=%s n=%zu total_s=%.3f keys_per_s=%.2f\n", argv[1],
	    n, t1 - t0, (double)n / (t1 - t0));
	rc = 0;
 err:
	if (!bench_worker_end(&wk))
		rc = 1;
	if (rc != 0) {
		fprintf(stderr, BENCH_NAME ": failed: %s\n",
		    alice != NULL ? skd_store_errmsg(alice) : "");
		ERR_print_errors_fp(stderr);
	}
	for (i = 0; reqs != NULL && i < n; i++)
		OPENSSL_free(reqs[i]);
	free(reqs);
	free(lens);
	free(ids);
	free(nonces);
	skd_keygen_result_clear(&res);
	skd_store_blobs_free(m, nm);
	X509_STORE_free(trust);
	X509_free(cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(eph);
	skd_store_close(alice);
	return rc;
}
