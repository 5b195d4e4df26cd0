/*
 * bench_rekey.c: a GLA-initiated rekey (RFC 5275 4.5.2) of a GL with N
 * members, end to end into a real directory, beside the directory's own
 * write floor measured in the same run.
 *
 *   skd-bench-rekey N rsa|ec nma|ma [K [F]]
 *
 * The directory is a private stack (tools/skd-stack); its DIR/env must be
 * in the environment (SKD_LDAPI_URI, SKD_BASE_DN, SKD_GLA_DN, SKD_GLA_PW,
 * SKD_PKI_DIR).  The GLA signs with $SKD_PKI_DIR/gla.key.
 *
 * Set-up (not timed): a throwaway CA of the same kind as the members (RSA-2048
 * for rsa, EC P-256 for ec: path validation then costs one public-key
 * operation of that kind per member), one member key of the given kind
 * and N member certificates on it, each with its own serial, subject
 * CN=m<i> and rfc822Name m<i>@bench.example.com (the per-recipient cost is
 * one public-key operation whatever the key, so one key keeps set-up
 * cheap); a new GL (generationCounter 1, id-aes256-wrap) created with the
 * store, recipientsNotMutuallyAware TRUE (nma: one signed glKey message
 * and one entry per member) or FALSE (ma: shards of K recipients,
 * default SKD_ENGINE_DEFAULT_SHARD); the N members added with the store.
 *
 * Timed: skd_engine_rekey over skd_engine_state_store (reads the GL, lists
 * the members, checks every certificate path, draws the KEK, wraps and
 * signs) and skd_engine_apply (writes every glKey entry; mdb syncs).
 *
 * Floor (nma only): the same number of plain adds of entries of the same
 * size, through the same store session: each glKey entry the rekey wrote
 * is added again under another key id and recipient name of the same
 * length (skd_store_put_glkey, one LDAP add each).  Prints one line of key=value pairs; rss_kb is the process's
 * peak resident set (getrusage) after the rekey.
 *
 * Fetch (F > 0): two client processes (fork, a store session each, bound
 * as the GLA: the ACL check of a member's own bind is not measured) then
 * each fetch, verify and unwrap the keys of F members (member i of
 * process c: i = c, c + 2, ...): skd_client_fetch_glkeys (one indexed
 * search on skdRecipientName) and skd_client_glkey_open of every entry
 * found (signature, path to the bench CA, GL name in the signer's
 * certificate, unwrap with the member's key).  Prints a second line with
 * the p50 and p99 latency of one member's fetch and the members per second
 * of both processes together.
 *
 * The GL has its own GLA certificate (RFC 5275 3.2.6: SAN URI:<GL name>,
 * the GLA's public key), issued by the bench CA, so that members can check
 * the GL's name in the signer's certificate as they do for real.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "client/skd_client.h"
#include "engine/skd_engine.h"
#include "store/skd_store.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *
need_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr, "skd-bench-rekey: %s not set (source the "
		    "stack's env)\n", name);
		exit(2);
	}
	return v;
}

/* A certificate for key issued by ca (ca NULL: self-signed CA); gl_name
 * not NULL: the GL's own certificate, naming it (RFC 5275 3.2.6). */
static X509 *
make_cert(EVP_PKEY *key, EVP_PKEY *ca_key, X509 *ca, long serial,
    const char *gl_name)
{
	int is_ca = ca == NULL;

	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_EXTENSION *ext = NULL;
	X509V3_CTX v3;
	char cn[64], san[96];

	if (x == NULL || n == NULL)
		goto err;
	if (is_ca)
		snprintf(cn, sizeof(cn), "skd bench CA");
	else if (gl_name != NULL)
		snprintf(cn, sizeof(cn), "skd bench GL");
	else
		snprintf(cn, sizeof(cn), "m%ld", serial);
	if (!X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, n) ||
	    !X509_set_issuer_name(x, ca != NULL ? X509_get_subject_name(ca) : n) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30) == NULL ||
	    !X509_set_pubkey(x, key))
		goto err;
	X509V3_set_ctx(&v3, ca != NULL ? ca : x, x, NULL, NULL, 0);
	if (is_ca) {
		if ((ext = X509V3_EXT_conf_nid(NULL, &v3,
		    NID_basic_constraints, "critical,CA:TRUE")) == NULL ||
		    !X509_add_ext(x, ext, -1))
			goto err;
		X509_EXTENSION_free(ext);
		if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage,
		    "critical,keyCertSign,cRLSign")) == NULL ||
		    !X509_add_ext(x, ext, -1))
			goto err;
	} else {
		if (gl_name != NULL)
			snprintf(san, sizeof(san), "%s", gl_name);
		else
			snprintf(san, sizeof(san),
			    "email:m%ld@bench.example.com", serial);
		if ((ext = X509V3_EXT_conf_nid(NULL, &v3,
		    NID_subject_alt_name, san)) == NULL ||
		    !X509_add_ext(x, ext, -1))
			goto err;
		X509_EXTENSION_free(ext);
		if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage,
		    EVP_PKEY_is_a(key, "EC") ?
		    "digitalSignature,keyAgreement" :
		    "digitalSignature,keyEncipherment")) == NULL ||
		    !X509_add_ext(x, ext, -1))
			goto err;
	}
	X509_EXTENSION_free(ext);
	ext = NULL;
	if (!X509_sign(x, ca_key, EVP_sha256()))
		goto err;
	X509_NAME_free(n);
	return x;
 err:
	X509_EXTENSION_free(ext);
	X509_NAME_free(n);
	X509_free(x);
	return NULL;
}

static X509 *
load_cert(const char *dir, const char *file)
{
	char path[4096];
	X509 *x = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static EVP_PKEY *
load_key(const char *dir, const char *file)
{
	char path[4096];
	EVP_PKEY *k = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static int
store_fail(struct skd_store *s, const char *what)
{
	fprintf(stderr, "skd-bench-rekey: %s: %s\n", what,
	    skd_store_errmsg(s));
	return 0;
}

/* Adds every glKey entry of gl_name again under key id fake_id: the
 * floor.  *out_n is how many. */
static int
floor_adds(struct skd_store *s, const char *gl_name, const char *fake_id,
    size_t *out_n)
{
	struct skd_store_glkey *k = NULL;
	size_t n = 0, i;
	int ok = 0;

	*out_n = 0;
	if (!skd_store_find_glkeys(s, &k, &n, gl_name, NULL))
		return store_fail(s, "find_glkeys");
	for (i = 0; i < n; i++) {
		size_t j;

		free(k[i].key_id);
		if ((k[i].key_id = strdup(fake_id)) == NULL)
			goto err;
		/* same size, but naming nobody the fetch looks for */
		for (j = 0; j < k[i].n_recipients; j++) {
			if (strncmp(k[i].recipients[j], "email:m", 7) == 0)
				k[i].recipients[j][6] = 'f';
		}
	}
	for (i = 0; i < n; i++) {
		if (!skd_store_put_glkey(s, &k[i])) {
			store_fail(s, "put_glkey");
			goto err;
		}
	}
	*out_n = n;
	ok = 1;
 err:
	skd_store_glkey_list_free(k, n);
	return ok;
}

#define FETCH_PROCS	2

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * One client process: fetch, verify and unwrap the keys of members
 * c, c + FETCH_PROCS, ... below f; writes one latency (seconds, as a
 * double) per member to fd.  Exits 0 when every member got exactly one
 * key of 32 bytes.
 */
static int
fetch_child(int c, size_t f, EVP_PKEY *key, EVP_PKEY *ca_key, X509 *ca,
    X509_STORE *trust, const char *gl_name, int fd)
{
	struct skd_client_glkey_opts opts;
	struct skd_client_ident id;
	struct skd_client_error cerr;
	struct skd_store *s;
	enum skd_store_err se;
	char me[96];
	size_t i;

	if ((s = skd_store_open(&se, need_env("SKD_LDAPI_URI"),
	    need_env("SKD_BASE_DN"), SKD_STORE_BIND_SIMPLE,
	    need_env("SKD_GLA_DN"), need_env("SKD_GLA_PW"))) == NULL)
		return 1;
	memset(&opts, 0, sizeof(opts));
	opts.trust = trust;
	opts.now = time(NULL);
	opts.max_future = 300;
	opts.gl_name = gl_name;
	opts.ident = &id;
	for (i = (size_t)c; i < f; i += FETCH_PROCS) {
		struct skd_store_glkey *gk = NULL;
		struct skd_client_key *keys = NULL;
		size_t ngk = 0, nk = 0;
		double t0, t[3];
		int ok;

		memset(&id, 0, sizeof(id));
		id.key = key;
		/* the member's own certificate: same issuer and serial as
		 * the one the GLA wrapped for */
		if ((id.cert = make_cert(key, ca_key, ca, (long)i + 2,
		    NULL)) == NULL)
			return 1;
		snprintf(me, sizeof(me), "email:m%zu@bench.example.com",
		    i + 2);
		t0 = now_s();
		ok = skd_client_fetch_glkeys(s, &gk, &ngk, gl_name, me,
		    &cerr) && ngk == 1;
		t[1] = now_s() - t0;
		ok = ok && skd_client_glkey_open(&keys, &nk, gk[0].message,
		    gk[0].message_len, &opts, &cerr) && nk == 1 &&
		    keys[0].kek_len == 32;
		t[0] = now_s() - t0;
		t[2] = t[0] - t[1];
		if (!ok)
			fprintf(stderr, "skd-bench-rekey: fetch %s: %zu "
			    "entries: %s\n", me, ngk, cerr.msg);
		skd_client_keys_free(keys, nk);
		skd_store_glkey_list_free(gk, ngk);
		X509_free(id.cert);
		if (!ok || write(fd, t, sizeof(t)) != (ssize_t)sizeof(t))
			return 1;
	}
	skd_store_close(s);
	return 0;
}

/* The fetch phase: FETCH_PROCS processes, f members in all. */
static int
fetch_bench(size_t f, EVP_PKEY *key, EVP_PKEY *ca_key, X509 *ca,
    X509_STORE *trust, const char *gl_name)
{
	pid_t pid[FETCH_PROCS];
	int fd[2], c, j, status, ok = 1;
	double *lat[3] = { NULL, NULL, NULL }, t0, wall, v[3];
	size_t got = 0;

	for (j = 0; j < 3; j++) {
		if ((lat[j] = calloc(f, sizeof(double))) == NULL)
			goto err;
	}
	if (pipe(fd) != 0)
		goto err;
	fflush(NULL);
	t0 = now_s();
	for (c = 0; c < FETCH_PROCS; c++) {
		if ((pid[c] = fork()) < 0)
			goto err;
		if (pid[c] == 0) {
			close(fd[0]);
			_exit(fetch_child(c, f, key, ca_key, ca, trust,
			    gl_name, fd[1]));
		}
	}
	close(fd[1]);
	while (read(fd[0], v, sizeof(v)) == (ssize_t)sizeof(v)) {
		for (j = 0; got < f && j < 3; j++)
			lat[j][got] = v[j];
		got++;
	}
	close(fd[0]);
	for (c = 0; c < FETCH_PROCS; c++) {
		if (waitpid(pid[c], &status, 0) != pid[c] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ok = 0;
	}
	wall = now_s() - t0;
	if (!ok || got != f) {
		fprintf(stderr, "skd-bench-rekey: fetch: %zu of %zu\n", got, f);
		goto err;
	}
	for (j = 0; j < 3; j++)
		qsort(lat[j], got, sizeof(double), cmp_double);
	printf("fetch procs=%d members=%zu p50_ms=%.3f p99_ms=%.3f "
	    "search_p50_ms=%.3f open_p50_ms=%.3f per_s=%.1f wall_s=%.3f\n",
	    FETCH_PROCS, got, lat[0][got / 2] * 1e3,
	    lat[0][(got * 99) / 100] * 1e3, lat[1][got / 2] * 1e3,
	    lat[2][got / 2] * 1e3, (double)got / wall, wall);
	for (j = 0; j < 3; j++)
		free(lat[j]);
	return 1;
 err:
	for (j = 0; j < 3; j++)
		free(lat[j]);
	return 0;
}

int
main(int argc, char **argv)
{
	struct skd_engine_config cfg;
	struct skd_engine_env env;
	struct skd_engine_state st;
	struct skd_store_gl gl;
	struct skd_store_member m;
	struct skd_store *s = NULL;
	SKD_ENG_OUTCOME *o = NULL;
	X509 *ca = NULL, *gla = NULL, *x;
	EVP_PKEY *ca_key = NULL, *key = NULL, *gla_key = NULL;
	X509_STORE *trust = NULL;
	enum skd_store_err se;
	unsigned char *der = NULL, *gl_der = NULL, rnd[8];
	char gl_name[128], name[96], uuid[SKD_STORE_ID_LEN], fake[40];
	const char *pki;
	size_t n, k = 0, f = 0, i, puts, nfloor = 0;
	double t0, t1, t2, t3, t4 = 0, t5 = 0, tadd;
	struct rusage ru;
	int ec, nma, len, rc = 1;

	if (argc < 4 || argc > 6 ||
	    (n = strtoul(argv[1], NULL, 10)) == 0 ||
	    (strcmp(argv[2], "rsa") != 0 && strcmp(argv[2], "ec") != 0) ||
	    (strcmp(argv[3], "nma") != 0 && strcmp(argv[3], "ma") != 0) ||
	    (argc >= 5 && (k = strtoul(argv[4], NULL, 10)) == 0) ||
	    (argc == 6 && (f = strtoul(argv[5], NULL, 10)) == 0)) {
		fprintf(stderr,
		    "usage: skd-bench-rekey N rsa|ec nma|ma [K [F]]\n");
		return 2;
	}
	ec = strcmp(argv[2], "ec") == 0;
	nma = strcmp(argv[3], "nma") == 0;
	pki = need_env("SKD_PKI_DIR");
	if ((gla = load_cert(pki, "gla.crt")) == NULL ||
	    (gla_key = load_key(pki, "gla.key")) == NULL) {
		fprintf(stderr, "skd-bench-rekey: no GLA in %s\n", pki);
		goto err;
	}
	ca_key = ec ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	key = ec ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (ca_key == NULL || key == NULL ||
	    (ca = make_cert(ca_key, ca_key, NULL, 1, NULL)) == NULL ||
	    (trust = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(trust, ca))
		goto err;

	if ((s = skd_store_open(&se, need_env("SKD_LDAPI_URI"),
	    need_env("SKD_BASE_DN"), SKD_STORE_BIND_SIMPLE,
	    need_env("SKD_GLA_DN"), need_env("SKD_GLA_PW"))) == NULL) {
		fprintf(stderr, "skd-bench-rekey: open: %s\n",
		    skd_store_err_str(se));
		goto err;
	}
	skd_store_new_id(uuid);
	snprintf(gl_name, sizeof(gl_name), "URI:https://bench.example.com/%s",
	    uuid);
	memset(&gl, 0, sizeof(gl));
	gl.name = gl_name;
	gl.address = gl_name;
	gl.administration = 0;
	gl.not_mutually_aware = nma;
	gl.duration = 30;
	gl.generation_counter = 1;
	gl.key_alg = "2.16.840.1.101.3.4.1.45";	/* id-aes256-wrap */
	if ((x = make_cert(gla_key, ca_key, ca, 1L << 30, gl_name)) == NULL ||
	    (len = i2d_X509(x, &gl_der)) <= 0) {
		X509_free(x);
		goto err;
	}
	X509_free(x);
	gl.cert = gl_der;
	gl.cert_len = (size_t)len;
	if (!skd_store_create_gl(s, &gl)) {
		store_fail(s, "create_gl");
		goto err;
	}
	/* The members, added through the store (timed for information). */
	tadd = 0;
	for (i = 0; i < n; i++) {
		if ((x = make_cert(key, ca_key, ca, (long)i + 2, NULL)) == NULL ||
		    (len = i2d_X509(x, &der)) <= 0) {
			X509_free(x);
			goto err;
		}
		X509_free(x);
		snprintf(name, sizeof(name), "email:m%zu@bench.example.com",
		    i + 2);
		memset(&m, 0, sizeof(m));
		m.name = name;
		m.address = name;
		m.cert = der;
		m.cert_len = (size_t)len;
		t0 = now_s();
		if (!skd_store_add_member(s, gl_name, SKD_STORE_MEMBER, &m)) {
			store_fail(s, "add_member");
			goto err;
		}
		tadd += now_s() - t0;
		OPENSSL_free(der);
		der = NULL;
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.gla_cert = gla;
	cfg.gla_key = gla_key;
	cfg.trust = trust;
	cfg.issuer_cert = ca;
	cfg.issuer_key = ca_key;
	cfg.shard_size = k;
	memset(&env, 0, sizeof(env));
	env.now = time(NULL);
	skd_engine_state_store(&st, s);

	t1 = now_s();
	if (!skd_engine_rekey(&o, &cfg, &env, &st, gl_name)) {
		fprintf(stderr, "skd-bench-rekey: rekey failed: %s\n",
		    skd_store_errmsg(s));
		goto err;
	}
	t2 = now_s();
	if (!skd_engine_apply(s, o)) {
		store_fail(s, "apply");
		goto err;
	}
	t3 = now_s();
	puts = skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT);
	getrusage(RUSAGE_SELF, &ru);

	if (nma) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			goto err;
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(fake + 2 * i, 3, "%02x", rnd[i]);
		t4 = now_s();
		if (!floor_adds(s, gl_name, fake, &nfloor))
			goto err;
		t5 = now_s();
	}
	printf("rekey kind=%s mode=%s n=%zu shards=%zu engine_s=%.6f "
	    "apply_s=%.6f total_s=%.6f floor_adds=%zu floor_s=%.6f "
	    "member_add_s=%.6f rss_kb=%ld\n", argv[2], argv[3], n, puts,
	    t2 - t1, t3 - t2, t3 - t1, nfloor, t5 - t4, tadd, ru.ru_maxrss);
	if (puts != (nma ? n : (n + (k ? k : SKD_ENGINE_DEFAULT_SHARD) - 1) /
	    (k ? k : SKD_ENGINE_DEFAULT_SHARD)) || (nma && nfloor != n)) {
		fprintf(stderr, "skd-bench-rekey: %zu shards, %zu floor adds "
		    "for %zu members\n", puts, nfloor, n);
		goto err;
	}
	if (f > 0 && !fetch_bench(f < n ? f : n, key, ca_key, ca, trust,
	    gl_name))
		goto err;
	rc = 0;
 err:
	if (rc != 0) {
		fprintf(stderr, "skd-bench-rekey: failed\n");
		ERR_print_errors_fp(stderr);
	}
	OPENSSL_free(der);
	OPENSSL_free(gl_der);
	SKD_ENG_OUTCOME_free(o);
	skd_store_close(s);
	X509_STORE_free(trust);
	X509_free(ca);
	X509_free(gla);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(gla_key);
	return rc;
}
