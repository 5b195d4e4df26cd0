/*
 * bench_common.h: what the benchmarks share (the clock, the stack's
 * environment, throwaway certificates, the PKI's files, a store session,
 * a GL and an engine configuration).
 *
 * The Makefile builds each bench_<x>.c alone into skd-bench-<x>, so the
 * helpers are static inline here (unused ones cost nothing).  Define
 * BENCH_NAME (the program's name, for messages) before including.
 */
#ifndef SKD_BENCH_COMMON_H
#define SKD_BENCH_COMMON_H

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench_common.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "engine/skd_engine.h"
#include "store/skd_store.h"

/* bench_make_cert's flags. */
#define BENCH_CERT_CA		0x1	/* CA:TRUE, keyCertSign and cRLSign */
#define BENCH_CERT_LEAF		0x2	/* keyUsage fitting the key's kind */
#define BENCH_CERT_BACKDATE	0x4	/* valid from an hour ago, not now */

/* Seconds on the monotonic clock. */
static inline double
bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps ms milliseconds. */
static inline void
bench_nap_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* The value of the stack's variable name; exits 2 when it is unset. */
static inline const char *
bench_need_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr, BENCH_NAME ": %s not set (source the "
		    "stack's env)\n", name);
		exit(2);
	}
	return v;
}

/* The environment variable name as a count, def when unset or empty. */
static inline size_t
bench_env_size(const char *name, size_t def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? strtoul(v, NULL, 10) : def;
}

/* qsort's comparison of doubles, ascending. */
static inline int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A new RSA-2048 key, or EC P-256 if ec; the caller frees it. */
static inline EVP_PKEY *
bench_keygen(int ec)
{
	return ec ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

/*
 * The PKI's dir/<name>.crt and dir/<name>.key (PEM) into *out_cert and
 * *out_key; returns one on success and zero on error (both NULL then).
 * The caller frees them.
 */
static inline int
bench_load_pair(X509 **out_cert, EVP_PKEY **out_key, const char *dir,
    const char *name)
{
	char path[4096];
	FILE *f;

	*out_cert = NULL;
	*out_key = NULL;
	snprintf(path, sizeof(path), "%s/%s.crt", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	*out_cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	if (*out_cert == NULL || (f = fopen(path, "r")) == NULL)
		goto err;
	*out_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (*out_key == NULL)
		goto err;
	return 1;
 err:
	X509_free(*out_cert);
	*out_cert = NULL;
	return 0;
}

/*
 * A certificate for key, subject CN=cn, valid 30 days, signed with ca_key
 * and issued by ca (ca NULL: self-issued); san not NULL: its
 * subjectAltName (X509V3 conf syntax, e.g. "email:x@y" or "URI:..."),
 * first among the extensions; flags: BENCH_CERT_*.  Returns NULL on
 * error; the caller frees the certificate.
 */
static inline X509 *
bench_make_cert(EVP_PKEY *key, EVP_PKEY *ca_key, X509 *ca, long serial,
    const char *cn, const char *san, int flags)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_EXTENSION *ext = NULL;
	X509V3_CTX v3;

	if (x == NULL || n == NULL)
		goto err;
	if (!X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, n) ||
	    !X509_set_issuer_name(x, ca != NULL ? X509_get_subject_name(ca) : n) ||
	    X509_gmtime_adj(X509_getm_notBefore(x),
	    (flags & BENCH_CERT_BACKDATE) ? -3600 : 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30) == NULL ||
	    !X509_set_pubkey(x, key))
		goto err;
	X509V3_set_ctx(&v3, ca != NULL ? ca : x, x, NULL, NULL, 0);
	if (san != NULL) {
		if ((ext = X509V3_EXT_conf_nid(NULL, &v3,
		    NID_subject_alt_name, san)) == NULL ||
		    !X509_add_ext(x, ext, -1))
			goto err;
		X509_EXTENSION_free(ext);
		ext = NULL;
	}
	if (flags & BENCH_CERT_CA) {
		if ((ext = X509V3_EXT_conf_nid(NULL, &v3,
		    NID_basic_constraints, "critical,CA:TRUE")) == NULL ||
		    !X509_add_ext(x, ext, -1))
			goto err;
		X509_EXTENSION_free(ext);
		if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage,
		    "critical,keyCertSign,cRLSign")) == NULL ||
		    !X509_add_ext(x, ext, -1))
			goto err;
		X509_EXTENSION_free(ext);
		ext = NULL;
	}
	if (flags & BENCH_CERT_LEAF) {
		if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage,
		    EVP_PKEY_is_a(key, "EC") ?
		    "digitalSignature,keyAgreement" :
		    "digitalSignature,keyEncipherment")) == NULL ||
		    !X509_add_ext(x, ext, -1))
			goto err;
		X509_EXTENSION_free(ext);
		ext = NULL;
	}
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

/* Member i's name, "email:<prefix><i>@bench.example.com", into out. */
static inline void
bench_member_name(char *out, size_t out_len, const char *prefix, long i)
{
	snprintf(out, out_len, "email:%s%ld@bench.example.com", prefix, i);
}

/* Member i's certificate (serial given): CN=<prefix><i>, rfc822Name
 * <prefix><i>@bench.example.com, an hour old, keyUsage of its kind;
 * NULL on error; the caller frees it. */
static inline X509 *
bench_member_cert(EVP_PKEY *key, EVP_PKEY *ca_key, X509 *ca, long serial,
    const char *prefix, long i)
{
	char cn[64], san[96];

	snprintf(cn, sizeof(cn), "%s%ld", prefix, i);
	bench_member_name(san, sizeof(san), prefix, i);
	return bench_make_cert(key, ca_key, ca, serial, cn, san,
	    BENCH_CERT_LEAF | BENCH_CERT_BACKDATE);
}

/*
 * x, a certificate bench_member_cert made, made member i's again (serial,
 * CN=<prefix><i>, rfc822Name first among the extensions) and signed by
 * ca_key; one on success.  Its public key, already encoded, is kept:
 * OpenSSL 3.0 encodes a key through a new encoder each time one is set,
 * most of a new certificate's cost, so that filling a directory with
 * 100,000 members takes a fraction of the time.
 */
static inline int
bench_member_again(X509 *x, EVP_PKEY *ca_key, long serial,
    const char *prefix, long i)
{
	X509_EXTENSION *ext;
	X509_NAME *n;
	char cn[64], san[96];
	int idx, ok;

	snprintf(cn, sizeof(cn), "%s%ld", prefix, i);
	bench_member_name(san, sizeof(san), prefix, i);
	if (!ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
	    (n = X509_NAME_new()) == NULL)
		return 0;
	ok = X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) &&
	    X509_set_subject_name(x, n);
	X509_NAME_free(n);
	if (!ok || (idx = X509_get_ext_by_NID(x, NID_subject_alt_name,
	    -1)) < 0)
		return 0;
	X509_EXTENSION_free(X509_delete_ext(x, idx));
	if ((ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
	    san)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, 0) &&
	    X509_sign(x, ca_key, EVP_sha256()) > 0;
	X509_EXTENSION_free(ext);
	return ok;
}

/* A store session on the stack bound as $dn_var with password $pw_var;
 * NULL (said on stderr) on error; the caller closes it. */
static inline struct skd_store *
bench_open_as(const char *dn_var, const char *pw_var)
{
	enum skd_store_err se;
	struct skd_store *s;

	if ((s = skd_store_open(&se, bench_need_env("SKD_LDAPI_URI"),
	    bench_need_env("SKD_BASE_DN"), SKD_STORE_BIND_SIMPLE,
	    bench_need_env(dn_var), bench_need_env(pw_var))) == NULL)
		fprintf(stderr, BENCH_NAME ": open as %s: %s\n",
		    bench_need_env(dn_var), skd_store_err_str(se));
	return s;
}

/* A new GL of 30-day id-aes256-wrap keys, generation 1, named
 * "URI:https://bench.example.com/<path><uuid>" into name (out->name and
 * out->address point at it; the caller keeps it). */
static inline void
bench_gl_init(struct skd_store_gl *out, char *name, size_t name_len,
    const char *path, int managed, int nma)
{
	char uuid[SKD_STORE_ID_LEN];

	skd_store_new_id(uuid);
	snprintf(name, name_len, "URI:https://bench.example.com/%s%s", path,
	    uuid);
	memset(out, 0, sizeof(*out));
	out->name = name;
	out->address = name;
	out->administration = managed;
	out->not_mutually_aware = nma;
	out->duration = 30;
	out->generation_counter = 1;
	out->key_alg = "2.16.840.1.101.3.4.1.45";	/* id-aes256-wrap */
}

/* The engine as the GLA on store s, the clock at now; everything is
 * borrowed (the caller keeps and frees it). */
static inline void
bench_engine_init(struct skd_engine_config *out_cfg,
    struct skd_engine_env *out_env, struct skd_engine_state *out_st,
    struct skd_store *s, X509 *gla_cert, EVP_PKEY *gla_key,
    X509_STORE *trust, X509 *ca, EVP_PKEY *ca_key)
{
	memset(out_cfg, 0, sizeof(*out_cfg));
	out_cfg->gla_cert = gla_cert;
	out_cfg->gla_key = gla_key;
	out_cfg->trust = trust;
	out_cfg->issuer_cert = ca;
	out_cfg->issuer_key = ca_key;
	memset(out_env, 0, sizeof(*out_env));
	out_env->now = time(NULL);
	skd_engine_state_store(out_st, s);
}

/* Writes text to path; one on success. */
static inline int
bench_write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		return 0;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* slapd's writes synced (on 0) or not (on 1), through cn=config as the
 * stack's root: for filling a directory before what is timed.  Synced
 * again, whatever the fill left in the page cache is written out first
 * (sync(2) waits for it on Linux): otherwise the kernel's writeback of
 * it would compete with the timed writes' own syncs for a while. */
static inline int
bench_nosync(int on)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "printf 'dn: olcDatabase={1}mdb,cn=config\n"
	    "changetype: modify\nreplace: olcDbNoSync\nolcDbNoSync: %s\n' | "
	    "ldapmodify -x -H '%s' -D '%s' -w '%s' >/dev/null",
	    on ? "TRUE" : "FALSE", bench_need_env("SKD_LDAP_URI"),
	    bench_need_env("SKD_ROOT_DN"), bench_need_env("SKD_ROOT_PW"));
	if (system(cmd) != 0)
		return 0;
	if (!on)
		sync();
	return 1;
}

/* /proc/<pid>/name of the stack's slapd (its pid from
 * SKD_STACK_DIR/slapd.pid), open for reading; NULL when it cannot be. */
static inline FILE *
bench_slapd_proc(const char *name)
{
	char path[4096];
	FILE *f;
	long pid = 0;
	int ok;

	snprintf(path, sizeof(path), "%s/slapd.pid",
	    bench_need_env("SKD_STACK_DIR"));
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	ok = fscanf(f, "%ld", &pid) == 1;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/%s", pid, name);
	return ok ? fopen(path, "r") : NULL;
}

/* The stack's slapd's CPU time so far (utime + stime), in seconds; -1
 * when it cannot be read. */
static inline double
bench_slapd_cpu_s(void)
{
	FILE *f;
	long hz = sysconf(_SC_CLK_TCK);
	unsigned long ut = 0, st = 0;
	int ok;

	if (hz <= 0 || (f = bench_slapd_proc("stat")) == NULL)
		return -1;
	/* Fields 14 and 15; the command (field 2) has no space here. */
	ok = fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu", &ut, &st) == 2;
	fclose(f);
	return ok ? (double)(ut + st) / (double)hz : -1;
}

#ifdef BENCH_WITH_WORKER
#include <signal.h>
#include <sys/wait.h>

#include "worker/skd_worker.h"

static inline void
bench_on_term(int sig)
{
	(void)sig;
	skd_worker_stop();
}

/* A worker process: configured from conf, runs until SIGTERM; the exit
 * status. */
static inline int
bench_worker_main(const char *conf)
{
	struct skd_worker_config *c;
	struct skd_worker *w;
	char err[512];
	int ok;

	signal(SIGTERM, bench_on_term);
	if ((c = skd_worker_config_load(err, sizeof(err), conf)) == NULL) {
		fprintf(stderr, BENCH_NAME ": config: %s\n", err);
		return 1;
	}
	skd_worker_log_setup(SKD_WORKER_LOG_STDERR, c->log_level);
	w = skd_worker_new(err, sizeof(err), c);
	skd_worker_config_free(c);
	if (w == NULL) {
		fprintf(stderr, BENCH_NAME ": worker: %s\n", err);
		return 1;
	}
	ok = skd_worker_run(w, NULL, NULL);
	skd_worker_free(w);
	return ok ? 0 : 1;
}

/* Workers side by side, at most. */
#define BENCH_MAX_WORKERS	8

/* Workers started by bench_worker_spawn: the configuration they share
 * (in a scratch directory of their own) and their processes. */
struct bench_workers {
	char	dir[2048], conf[4096], pwf[4096];
	pid_t	pid[BENCH_MAX_WORKERS];
	size_t	n;
};

/*
 * Writes a worker configuration as skd-gla.conf would be (the stack's
 * GLA over ldapi, its certificate and key, the PKI's CA as trust anchor)
 * followed by the lines extra (log_level and whatever the benchmark
 * needs), in a new directory under $TMPDIR (default /tmp); forks n
 * workers (1..BENCH_MAX_WORKERS) on it, each the library's
 * skd_worker_run (bench_worker_main), and leaves them half a second to
 * start.  One on success; whatever it made or started, bench_worker_end
 * stops and removes (w must be bench_worker_spawn's before either).
 */
static inline int
bench_worker_spawn(struct bench_workers *w, size_t n, const char *extra)
{
	const char *pki = bench_need_env("SKD_PKI_DIR");
	char *text = NULL;
	int ok;

	memset(w, 0, sizeof(*w));
	if (n == 0 || n > BENCH_MAX_WORKERS)
		return 0;
	snprintf(w->dir, sizeof(w->dir), "%s/" BENCH_NAME ".XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(w->dir) == NULL) {
		w->dir[0] = '\0';
		return 0;
	}
	snprintf(w->conf, sizeof(w->conf), "%s/gla.conf", w->dir);
	snprintf(w->pwf, sizeof(w->pwf), "%s/gla.pw", w->dir);
	ok = bench_write_text(w->pwf, bench_need_env("SKD_GLA_PW")) &&
	    asprintf(&text, "ldap_uri = %s\nbind = simple\nbind_dn = %s\n"
	    "bind_password_file = %s\nbase_dn = %s\n"
	    "gla_cert = %s/gla.crt\ngla_key = %s/gla.key\n"
	    "ca_file = %s/ca.crt\n%s", bench_need_env("SKD_LDAPI_URI"),
	    bench_need_env("SKD_GLA_DN"), w->pwf,
	    bench_need_env("SKD_BASE_DN"), pki, pki, pki,
	    extra != NULL ? extra : "") >= 0 &&
	    bench_write_text(w->conf, text);
	free(text);
	for (; ok && w->n < n; w->n++) {
		fflush(NULL);
		if ((w->pid[w->n] = fork()) < 0)
			return 0;
		if (w->pid[w->n] == 0)
			_exit(bench_worker_main(w->conf));
	}
	if (ok)
		bench_nap_ms(500);
	return ok;
}

/* Stops bench_worker_spawn's workers (SIGTERM, each waited for) and
 * removes their configuration; one when every worker exited with 0. */
static inline int
bench_worker_end(struct bench_workers *w)
{
	size_t i;
	int status, ok = 1;

	for (i = 0; i < w->n; i++) {
		if (w->pid[i] <= 0)
			continue;
		kill(w->pid[i], SIGTERM);
		if (waitpid(w->pid[i], &status, 0) != w->pid[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, BENCH_NAME ": worker failed\n");
			ok = 0;
		}
		w->pid[i] = -1;
	}
	w->n = 0;
	if (w->dir[0] != '\0') {
		unlink(w->conf);
		unlink(w->pwf);
		rmdir(w->dir);
		w->dir[0] = '\0';
	}
	return ok;
}
#endif /* BENCH_WITH_WORKER */

#ifdef BENCH_WITH_QUERY
/* BENCH_WITH_QUERY (client/skd_client.h included first): a
 * glaQueryRequest signed by id; caller frees with OPENSSL_free. */
static inline unsigned char *
bench_query(size_t *out_len, const struct skd_client_ident *id)
{
	struct skd_client_request *r;
	struct skd_client_error e;
	SKD_GLA_QUERY_REQUEST *q = NULL;
	unsigned char *der = NULL;

	if ((r = skd_client_request_new(&e)) == NULL ||
	    (q = skd_client_new_alg_query(&e)) == NULL ||
	    skd_client_request_add(r, SKD_OID_GLA_QUERY_REQUEST, q) <= 0 ||
	    !skd_client_request_protect(&der, out_len, r, id, NULL, 0,
	    time(NULL), &e))
		der = NULL;
	SKD_GLA_QUERY_REQUEST_free(q);
	skd_client_request_free(r);
	return der;
}
#endif

#endif /* SKD_BENCH_COMMON_H */
