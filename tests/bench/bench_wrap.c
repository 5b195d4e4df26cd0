/*
 * bench_wrap.c: the cost of wrapping one group KEK for N members
 * (glKey.glkWrapped, RFC 5275 5), the heart of a rekey.
 *
 *   skd-bench-wrap DIR N rsa|ec
 *
 * Makes a throwaway CA, one member key of the given kind and N member
 * certificates on it (the per-recipient cost is one public-key operation
 * whatever the key, so one key keeps set-up cheap), writes the certificates
 * to DIR/m<i>.pem for the openssl CLI, then times skd_ri_build_set for all
 * N recipients and prints one line:
 *
 *   wrap kind=rsa n=1000 seconds=0.123456 per_recipient_us=123.5 bytes=...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "cms/skd_recip.h"

#define BENCH_NAME "skd-bench-wrap"
#include "bench_common.h"

/* A certificate without extensions, CN "bench member <serial>", valid
 * from now (ca NULL: the self-issued CA). */
static X509 *
make_cert(EVP_PKEY *key, EVP_PKEY *ca_key, X509 *ca, long serial)
{
	char cn[64];

	snprintf(cn, sizeof(cn), "bench member %ld", serial);
	return bench_make_cert(key, ca_key, ca, serial, cn, NULL, 0);
}

int
main(int argc, char **argv)
{
	struct skd_ri_recipient *r = NULL;
	X509 **certs = NULL, *ca = NULL;
	EVP_PKEY *key = NULL, *ca_key = NULL;
	unsigned char kek[32], *der = NULL;
	size_t n, i, len = 0;
	int ec, rc = 1;
	double t0, t1;
	char path[4096];
	FILE *f;

	if (argc != 4 || (n = strtoul(argv[2], NULL, 10)) == 0 ||
	    (strcmp(argv[3], "rsa") != 0 && strcmp(argv[3], "ec") != 0)) {
		fprintf(stderr, "usage: skd-bench-wrap DIR N rsa|ec\n");
		return 2;
	}
	ec = strcmp(argv[3], "ec") == 0;
	ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	key = bench_keygen(ec);
	if (ca_key == NULL || key == NULL ||
	    (ca = make_cert(ca_key, ca_key, NULL, 1)) == NULL)
		goto err;
	certs = calloc(n, sizeof(*certs));
	r = calloc(n, sizeof(*r));
	if (certs == NULL || r == NULL)
		goto err;
	for (i = 0; i < n; i++) {
		if ((certs[i] = make_cert(key, ca_key, ca, (long)i + 2)) == NULL)
			goto err;
		r[i].type = ec ? SKD_RI_KARI : SKD_RI_KTRI;
		r[i].cert = certs[i];
		snprintf(path, sizeof(path), "%s/m%zu.pem", argv[1], i);
		if ((f = fopen(path, "w")) == NULL ||
		    !PEM_write_X509(f, certs[i])) {
			if (f != NULL)
				fclose(f);
			goto err;
		}
		fclose(f);
	}
	if (RAND_priv_bytes(kek, sizeof(kek)) != 1)
		goto err;
	t0 = bench_now_s();
	if (!skd_ri_build_set(&der, &len, kek, sizeof(kek), r, n))
		goto err;
	t1 = bench_now_s();
	printf("wrap kind=%s n=%zu seconds=%.6f per_recipient_us=%.1f "
	    "bytes=%zu\n", argv[3], n, t1 - t0, (t1 - t0) * 1e6 / (double)n,
	    len);
	rc = 0;
 err:
	if (rc != 0)
		fprintf(stderr, "skd-bench-wrap: failed\n");
	OPENSSL_cleanse(kek, sizeof(kek));
	OPENSSL_free(der);
	for (i = 0; certs != NULL && i < n; i++)
		X509_free(certs[i]);
	free(certs);
	free(r);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return rc;
}
