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
 * default SKD_ENGINE_DEFAULT_SHARD); the N members added with the store
 * (slapd's writes unsynced meanwhile, olcDbNoSync; synced again before
 * the rekey).
 *
 * Timed: skd_engine_rekey over skd_engine_state_store, streamed as the
 * worker streams it (engine_s: reads the GL, draws the KEK, writes its
 * head; apply_s: skd_engine_apply and skd_engine_stream, reading the
 * members page by page, checking every certificate path, wrapping and
 * signing one page while the previous one is written; mdb syncs).
 * Then, both modes, a second rekey of the same GL, with the members'
 * certificates from the worker's cache of decoded and validated
 * certificates at its default size (engine2_s, apply2_s, cache_hits).
 * Mutually aware (ma): then a third rekey (its head written) whose messages are made
 * SKD_BENCH_REKEY_MAKE times (default 3) and never written: the fastest
 * is make_min_s (members read, certificates from the cache, wrap and
 * sign on every core: the rekey less the directory's writes), with this
 * process's CPU seconds and slapd's over that making (make_cpu_s,
 * make_slapd_cpu_s).  SKD_BENCH_REKEY_AGAIN=R: then R more rekeys of
 * the GL, written: the fastest (again_min_s), the mean (again_mean_s)
 * and the CPU a rekey took, this process's and slapd's (again_cpu_s,
 * again_slapd_cpu_s: their sum spread on every core is the least a
 * rekey can take on this machine).  SKD_BENCH_STREAM_PAGE=P: members a
 * page of the stream (skd_engine_config.stream_page; default the
 * engine's).
 *
 * Floor (floor_s): the same number of plain adds of entries of the same
 * size, through the same store session: each glKey entry one rekey wrote
 * (mutually aware: the shards of one of the two keys) is added again
 * under another key id, recipient name of the same length and another
 * GL, with the same members and a name as long that shares no index key
 * with the rekey's GL (skd_store_put_glkey, one LDAP add each): what the
 * directory alone costs for that rekey's writes, in the state the rekey
 * met.  (back-mdb keeps up to 65,535 IDs an index key as a list, dearer
 * to grow, then as a range: on the rekey's own GL the floor's adds went
 * into the ranges the rekey had made, 2.3 times fewer bytes written an
 * add at 50,000 members.)  slapd_wchar and slapd_syscw are slapd's bytes
 * passed to write(2) and its write calls over the first rekey,
 * floor_slapd_* over the floor: figures the machine's load does not
 * move.  Mutually aware, a second floor (floor_page_s): the same shards
 * again under a third key id, written as skd_engine_apply writes a
 * streamed rekey's pages: the head alone, then floor_page_group shards
 * (a page's) at a time with their adds in flight.  Prints one line of
 * key=value pairs; rss_kb is the process's peak resident set (getrusage)
 * after the rekey; decode_us is OpenSSL's time to decode one member
 * certificate (d2i_X509, mean over the first 1,000, one thread), a floor
 * term for anything that reads the members' certificates; cpu_s and
 * slapd_cpu_s the CPU time of the first rekey in this process and in the
 * stack's slapd, floor_slapd_cpu_s slapd's for the floor's adds (where
 * the rekey's time goes when it is not the directory's writes).
 *
 * Fetch (F > 0), after the first rekey and before the second (each member
 * then has one key): two client processes (fork, a store session each, bound
 * as the GLA: the ACL check of a member's own bind is not measured) then
 * each fetch, verify and unwrap the keys of F members (member i of
 * process c: i = c, c + 2, ...; their certificates made before the
 * processes start, untimed): skd_client_fetch_glkeys (one indexed
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

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "client/skd_client.h"
#include "engine/skd_engine.h"
#include "store/skd_store.h"

#define BENCH_NAME "skd-bench-rekey"
#include "bench_common.h"

/* This process's CPU time so far (user + system), in seconds. */
static double
self_cpu_s(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
	    ((double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_usec) / 1e6;
}

/*
 * The public-key floor as the rekey can reach it: the mean time (us, one
 * thread, r operations) of one RSA PKCS #1 v1.5 encryption of a 32-byte
 * key to pub with a context made for it, as a RecipientInfo is made.
 * fresh: the key made again from its numbers (n, e) each time, as the
 * key cache makes it (EVP_PKEY_fromdata), so that each operation also
 * sets up its Montgomery context; otherwise one such key made once and
 * used again (its Montgomery context kept, as in `openssl speed`).  0 on
 * failure.
 */
static double
rsa_op_us(EVP_PKEY *pub, int fresh, size_t r)
{
	unsigned char in[32] = { 1 }, out[512];
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *par = NULL;
	EVP_PKEY_CTX *fc = NULL, *c;
	EVP_PKEY *k, *once = NULL;
	double t0, us = 0;
	size_t i, ol;

	if (!EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &bn_n) ||
	    !EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &bn_e) ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
	    (par = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (fc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(fc) <= 0 ||
	    (!fresh && EVP_PKEY_fromdata(fc, &once, EVP_PKEY_PUBLIC_KEY,
	    par) <= 0))
		goto err;
	t0 = bench_now_s();
	for (i = 0; i < r; i++) {
		k = NULL;
		if (fresh && EVP_PKEY_fromdata(fc, &k, EVP_PKEY_PUBLIC_KEY,
		    par) <= 0)
			goto err;
		ol = sizeof(out);
		c = EVP_PKEY_CTX_new_from_pkey(NULL, fresh ? k : once, NULL);
		if (c == NULL || EVP_PKEY_encrypt_init(c) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0 ||
		    EVP_PKEY_encrypt(c, out, &ol, in, sizeof(in)) <= 0) {
			EVP_PKEY_CTX_free(c);
			EVP_PKEY_free(k);
			goto err;
		}
		EVP_PKEY_CTX_free(c);
		EVP_PKEY_free(k);
	}
	us = (bench_now_s() - t0) * 1e6 / (double)r;
 err:
	EVP_PKEY_free(once);
	EVP_PKEY_CTX_free(fc);
	OSSL_PARAM_free(par);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return us;
}

/* Member i's certificate, serial i, on the shared member key. */
static X509 *
make_member(EVP_PKEY *key, EVP_PKEY *ca_key, X509 *ca, long i)
{
	return bench_member_cert(key, ca_key, ca, i, "m", i);
}

static int
store_fail(struct skd_store *s, const char *what)
{
	fprintf(stderr, "skd-bench-rekey: %s: %s\n", what,
	    skd_store_errmsg(s));
	return 0;
}

/* slapd's wchar (bytes it passed to write(2): back-mdb's page writes,
 * and its LDAP responses) and syscw (write calls) so far, from
 * slapd's /proc/<pid>/io; zero when unreadable. */
static void
slapd_writes(unsigned long long *wc, unsigned long long *sc)
{
	char line[128];
	FILE *f;

	*wc = 0;
	*sc = 0;
	if ((f = bench_slapd_proc("io")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		(void)sscanf(line, "wchar: %llu", wc);
		(void)sscanf(line, "syscw: %llu", sc);
	}
	fclose(f);
}

/* Adds every glKey entry of one key of gl_name (every key has as many
 * entries of the same sizes) again under key id fake_id, GL floor_gl
 * and a notAfter one second later: the floor.  floor_gl has the same
 * members and a name of the same length that shares no index key with
 * gl_name, so that every index list the floor's adds grow starts as
 * empty as the rekey's did (back-mdb keeps up to 65,535 IDs a key as a
 * list, dearer to grow, then a range).  group 0: one add at a time
 * (skd_store_put_glkey).  group g: the head (shard 0) alone, then the
 * shards g at a time with their adds in flight (skd_store_put_glkeys),
 * as skd_engine_apply writes a streamed rekey's pages of g shards.  The
 * recipients' names get mark in place of their 'm' (each floor its own
 * index keys, naming nobody the fetch looks for).  *out_n is how many. */
static int
floor_adds(struct skd_store *s, const char *gl_name, const char *floor_gl,
    const char *fake_id, char mark, size_t group, size_t *out_n)
{
	struct skd_store_glkey *k = NULL;
	size_t n = 0, i, m = 0, g;
	int ok = 0, pass;

	*out_n = 0;
	if (!skd_store_find_glkeys(s, &k, &n, gl_name, NULL))
		return store_fail(s, "find_glkeys");
	for (i = n; i-- > 0;) {
		size_t j;

		/* another key's entries: left out (k[0]'s id renamed last) */
		if (strcmp(k[i].key_id, k[0].key_id) != 0)
			continue;
		free(k[i].key_id);
		free(k[i].gl_name);
		k[i].gl_name = NULL;
		if ((k[i].key_id = strdup(fake_id)) == NULL ||
		    (k[i].gl_name = strdup(floor_gl)) == NULL)
			goto err;
		if (k[i].not_after != 0)
			k[i].not_after++;
		/* same size, but naming nobody the fetch looks for */
		for (j = 0; j < k[i].n_recipients; j++) {
			if (strncmp(k[i].recipients[j], "email:m", 7) == 0)
				k[i].recipients[j][6] = mark;
		}
	}
	/* The floor's entries to the front: its head (pass 0), then its
	 * shards (pass 1). */
	for (pass = 0; pass < 2; pass++) {
		for (i = m; i < n; i++) {
			struct skd_store_glkey t;

			if (strcmp(k[i].key_id, fake_id) != 0 ||
			    (k[i].shard == 0) != (pass == 0))
				continue;
			t = k[m];
			k[m++] = k[i];
			k[i] = t;
		}
	}
	for (i = 0; i < m; i += g) {
		g = group == 0 || k[i].shard == 0 ? 1 : group;
		if (g > m - i)
			g = m - i;
		if (g == 1 ? !skd_store_put_glkey(s, &k[i]) :
		    !skd_store_put_glkeys(s, &k[i], g)) {
			store_fail(s, "put_glkey");
			goto err;
		}
		*out_n += g;
	}
	ok = 1;
 err:
	skd_store_glkey_list_free(k, n);
	return ok;
}

/* A random key id no rekey has drawn, for a floor's entries: 16 hex
 * digits into out (at least 17 bytes). */
static int
fake_key_id(char *out)
{
	unsigned char rnd[8];
	size_t i;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return 0;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(out + 2 * i, 3, "%02x", rnd[i]);
	return 1;
}

/* A streamed rekey's page, applied as the worker applies it; counts
 * the glKey entries. */
struct emit_arg {
	struct skd_store	*s;
	size_t			 puts;
};

static int
emit_page(void *arg, const SKD_ENG_OUTCOME *page)
{
	struct emit_arg *a = arg;

	a->puts += skd_engine_outcome_count(page, SKD_OP_GLKEY_PUT);
	/* a->s NULL: messages made, nothing written (make_s). */
	return a->s == NULL || skd_engine_apply(a->s, page);
}

/*
 * One more rekey of gl (its head written), then the fastest of r streams
 * of its key, each making every shard's signed glKey message and writing
 * none: the members read page by page, their certificates from the
 * cache, the KEK wrapped and each shard signed on every core.  What a
 * warm rekey costs without the directory's writes, against the
 * public-key floor and the peer (which writes a file).  Nothing is
 * written, so every pass finds the same shards missing.
 */
static int
make_only(struct skd_store *s, const struct skd_engine_config *cfg,
    const struct skd_engine_env *env, const struct skd_engine_state *st,
    const char *gl, size_t r, double *out_min, double *out_cpu,
    double *out_slapd, size_t *out_puts)
{
	struct emit_arg a = { NULL, 0 };
	SKD_ENG_OUTCOME *o = NULL;
	size_t pass;
	double t0, c0, s0;
	int i, ok = 0;

	*out_min = *out_cpu = *out_slapd = 0;
	if (!skd_engine_rekey(&o, cfg, env, st, gl) || !skd_engine_apply(s, o))
		goto err;
	for (pass = 0; pass < r; pass++) {
		a.puts = 0;
		c0 = self_cpu_s();
		s0 = bench_slapd_cpu_s();
		t0 = bench_now_s();
		for (i = 0; i < sk_SKD_ENG_OP_num(o->ops); i++) {
			const SKD_ENG_OP *op = sk_SKD_ENG_OP_value(o->ops, i);

			if (skd_engine_op_type(op) == SKD_OP_KEY_STREAM &&
			    !skd_engine_stream(cfg, env, st, op, emit_page,
			    &a))
				goto err;
		}
		t0 = bench_now_s() - t0;
		if (pass == 0 || t0 < *out_min) {
			*out_min = t0;
			*out_cpu = self_cpu_s() - c0;
			*out_slapd = bench_slapd_cpu_s() - s0;
		}
	}
	*out_puts = a.puts;
	ok = 1;
 err:
	SKD_ENG_OUTCOME_free(o);
	return ok;
}

/* Applies o, then streams its keys (skd_engine_stream) as the worker
 * does; *out_puts: the glKey entries written. */
static int
apply_streamed(struct skd_store *s, const struct skd_engine_config *cfg,
    const struct skd_engine_env *env, const struct skd_engine_state *st,
    const SKD_ENG_OUTCOME *o, size_t *out_puts)
{
	struct emit_arg a = { s, 0 };
	int i;

	*out_puts = 0;
	if (!skd_engine_apply(s, o))
		return store_fail(s, "apply");
	for (i = 0; i < sk_SKD_ENG_OP_num(o->ops); i++) {
		const SKD_ENG_OP *op = sk_SKD_ENG_OP_value(o->ops, i);

		if (skd_engine_op_type(op) == SKD_OP_KEY_STREAM &&
		    !skd_engine_stream(cfg, env, st, op, emit_page, &a))
			return store_fail(s, "stream");
	}
	*out_puts = skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT) + a.puts;
	return 1;
}

#define FETCH_PROCS	2

/*
 * One client process: fetch, verify and unwrap the keys of members
 * c, c + FETCH_PROCS, ... below f, each with its certificate certs[i]
 * (made before the clients start, so that the wall time and the rate
 * count the fetches only); writes one latency (seconds, as a double) per
 * member to fd.  Exits 0 when every member got exactly one key of 32
 * bytes.
 */
static int
fetch_child(int c, size_t f, EVP_PKEY *key, X509 **certs,
    X509_STORE *trust, const char *gl_name, int fd)
{
	struct skd_client_glkey_opts opts;
	struct skd_client_ident id;
	struct skd_client_error cerr;
	struct skd_store *s;
	char me[96];
	size_t i;

	if ((s = bench_open_as("SKD_GLA_DN", "SKD_GLA_PW")) == NULL)
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
		id.cert = certs[i];
		bench_member_name(me, sizeof(me), "m", (long)i + 2);
		t0 = bench_now_s();
		ok = skd_client_fetch_glkeys(s, &gk, &ngk, gl_name, me,
		    &cerr) && ngk == 1;
		t[1] = bench_now_s() - t0;
		ok = ok && skd_client_glkey_open(&keys, &nk, gk[0].message,
		    gk[0].message_len, &opts, &cerr) && nk == 1 &&
		    keys[0].kek_len == 32;
		t[0] = bench_now_s() - t0;
		t[2] = t[0] - t[1];
		if (!ok)
			fprintf(stderr, "skd-bench-rekey: fetch %s: %zu "
			    "entries: %s\n", me, ngk, cerr.msg);
		skd_client_keys_free(keys, nk);
		skd_store_glkey_list_free(gk, ngk);
		if (!ok || write(fd, t, sizeof(t)) != (ssize_t)sizeof(t))
			return 1;
	}
	skd_store_close(s);
	return 0;
}

/* The fetch phase: FETCH_PROCS processes, f members in all. */
static int
fetch_bench(size_t f, EVP_PKEY *key, EVP_PKEY *ca_key, X509 *ca,
    X509_STORE *trust, const char *gl_name, char *line, size_t line_len)
{
	pid_t pid[FETCH_PROCS];
	X509 **certs = NULL;
	int fd[2], c, j, status, ok = 1;
	double *lat[3] = { NULL, NULL, NULL }, t0, wall, v[3];
	size_t got = 0, i;

	for (j = 0; j < 3; j++) {
		if ((lat[j] = calloc(f, sizeof(double))) == NULL)
			goto err;
	}
	/* Each member's own certificate: same issuer and serial as the
	 * one the GLA wrapped for (untimed). */
	if ((certs = calloc(f, sizeof(*certs))) == NULL)
		goto err;
	for (i = 0; i < f; i++) {
		if ((certs[i] = make_member(key, ca_key, ca,
		    (long)i + 2)) == NULL)
			goto err;
	}
	if (pipe(fd) != 0)
		goto err;
	fflush(NULL);
	t0 = bench_now_s();
	for (c = 0; c < FETCH_PROCS; c++) {
		if ((pid[c] = fork()) < 0)
			goto err;
		if (pid[c] == 0) {
			close(fd[0]);
			_exit(fetch_child(c, f, key, certs, trust, gl_name,
			    fd[1]));
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
	wall = bench_now_s() - t0;
	if (!ok || got != f) {
		fprintf(stderr, "skd-bench-rekey: fetch: %zu of %zu\n", got, f);
		goto err;
	}
	for (j = 0; j < 3; j++)
		qsort(lat[j], got, sizeof(double), bench_cmp_double);
	(void)snprintf(line, line_len, "fetch procs=%d members=%zu "
	    "p50_ms=%.3f p99_ms=%.3f "
	    "search_p50_ms=%.3f open_p50_ms=%.3f per_s=%.1f wall_s=%.3f\n",
	    FETCH_PROCS, got, lat[0][got / 2] * 1e3,
	    lat[0][(got * 99) / 100] * 1e3, lat[1][got / 2] * 1e3,
	    lat[2][got / 2] * 1e3, (double)got / wall, wall);
	ok = 1;
	goto out;
 err:
	ok = 0;
 out:
	for (j = 0; j < 3; j++)
		free(lat[j]);
	for (i = 0; certs != NULL && i < f; i++)
		X509_free(certs[i]);
	free(certs);
	return ok;
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
	X509 *ca = NULL, *gla = NULL, *x, *tmpl = NULL;
	EVP_PKEY *ca_key = NULL, *key = NULL, *gla_key = NULL;
	X509_STORE *trust = NULL;
	unsigned char *der = NULL, *gl_der = NULL;
	char gl_name[128], name[96], fake[40], floor_gl[128];
	char u1[SKD_STORE_ID_LEN], u2[SKD_STORE_ID_LEN];
	unsigned long long wc0, wc1, wc2, wc3, sc0, sc1, sc2, sc3;
	const char *pki;
	size_t n, k = 0, f = 0, i, puts, nfloor = 0, ndec = 0;
	double cpu0, cpu1, sl0, sl1, sl2 = 0, sl3 = 0;
	char fetch_line[512] = "";
	double t0, t1, t2, t3, t4 = 0, t5 = 0, t6 = 0, t7 = 0, t8 = 0, tadd,
	    tdec;
	struct skd_engine_keycache *kc = NULL;
	size_t hits = 0, misses = 0, kn = 0, puts2 = 0, again, nagain = 0;
	size_t nmake = 0, make_puts = 0;
	double again_min = 0, make_min = 0, make_cpu = 0, make_slapd = 0;
	double again_sum = 0, again_cpu = 0, again_slapd = 0;
	size_t nfloor_page = 0, fgroup = 0;
	double floor_page_s = 0;
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
	pki = bench_need_env("SKD_PKI_DIR");
	if (!bench_load_pair(&gla, &gla_key, pki, "gla")) {
		fprintf(stderr, "skd-bench-rekey: no GLA in %s\n", pki);
		goto err;
	}
	/* the CA of the members' kind: one path check costs one
	 * public-key operation of that kind */
	ca_key = bench_keygen(ec);
	key = bench_keygen(ec);
	if (ca_key == NULL || key == NULL ||
	    (ca = bench_make_cert(ca_key, ca_key, NULL, 1, "skd bench CA",
	    NULL, BENCH_CERT_CA | BENCH_CERT_BACKDATE)) == NULL ||
	    (trust = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(trust, ca))
		goto err;

	if ((s = bench_open_as("SKD_GLA_DN", "SKD_GLA_PW")) == NULL)
		goto err;
	bench_gl_init(&gl, gl_name, sizeof(gl_name), "", 0, nma);
	/* the GL's own certificate names it (RFC 5275 3.2.6) */
	if ((x = bench_make_cert(gla_key, ca_key, ca, 1L << 30,
	    "skd bench GL", gl_name, BENCH_CERT_LEAF |
	    BENCH_CERT_BACKDATE)) == NULL ||
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
	/* The floor's GL: the same members, a name as long as gl_name
	 * ("DNS:" and two UUIDs' characters) sharing none of its
	 * substring keys. */
	skd_store_new_id(u1);
	skd_store_new_id(u2);
	snprintf(floor_gl, sizeof(floor_gl), "DNS:%s%.*s", u1,
	    (int)(strlen(gl_name) - 4 - strlen(u1)), u2);
	{
		struct skd_store_gl g2 = gl;

		g2.name = floor_gl;
		g2.address = floor_gl;
		if (!skd_store_create_gl(s, &g2)) {
			store_fail(s, "create floor GL");
			goto err;
		}
	}
	/* The members, added through the store with slapd's writes
	 * unsynced (set-up; timed for information), synced again before
	 * anything is timed. */
	tadd = 0;
	tdec = 0;
	if (!bench_nosync(1))
		goto err;
	/* One certificate made, then made each member's again (its key
	 * kept encoded: bench_member_again). */
	for (i = 0; i < n; i++) {
		if (i == 0 ? (tmpl = make_member(key, ca_key, ca, 2)) == NULL :
		    !bench_member_again(tmpl, ca_key, (long)i + 2, "m",
		    (long)i + 2))
			goto err;
		if ((len = i2d_X509(tmpl, &der)) <= 0)
			goto err;
		if (i < 1000) {
			/* OpenSSL's own cost of reading a member certificate
			 * (d2i_X509), on the first 1,000: a floor term. */
			const unsigned char *q = der;

			t0 = bench_now_s();
			x = d2i_X509(NULL, &q, len);
			tdec += bench_now_s() - t0;
			ndec++;
			if (x == NULL)
				goto err;
			X509_free(x);
		}
		bench_member_name(name, sizeof(name), "m", (long)i + 2);
		memset(&m, 0, sizeof(m));
		m.name = name;
		m.address = name;
		m.cert = der;
		m.cert_len = (size_t)len;
		t0 = bench_now_s();
		if (!skd_store_add_member(s, gl_name, SKD_STORE_MEMBER, &m)) {
			store_fail(s, "add_member");
			goto err;
		}
		tadd += bench_now_s() - t0;
		if (!skd_store_add_member(s, floor_gl, SKD_STORE_MEMBER, &m)) {
			store_fail(s, "add floor member");
			goto err;
		}
		OPENSSL_free(der);
		der = NULL;
	}
	if (!bench_nosync(0))
		goto err;

	bench_engine_init(&cfg, &env, &st, s, gla, gla_key, trust, ca, ca_key);
	cfg.shard_size = k;
	/* SKD_BENCH_THREADS=T: the engine's threads (skd-gla.conf's
	 * threads; default 0, one a core). */
	cfg.threads = (int)bench_env_size("SKD_BENCH_THREADS", 0);
	/* The worker's cache of validated members' keys, at its default
	 * size (SKD_BENCH_KEYCACHE=E: E entries): cold for this rekey, warm
	 * for the second. */
	if ((kc = skd_engine_keycache_new(bench_env_size("SKD_BENCH_KEYCACHE",
	    SKD_ENGINE_KEYCACHE_DEFAULT), 0)) == NULL)
		goto err;
	cfg.keycache = kc;
	/* As the worker: the rekey streams (members page by page, each
	 * page's shards written before the next is read; memory bounded by
	 * a page), its head shard 0 wrapped for the GLA alone. */
	cfg.stream_rekeys = 1;
	cfg.stream_page = bench_env_size("SKD_BENCH_STREAM_PAGE", 0);

	slapd_writes(&wc0, &sc0);
	cpu0 = self_cpu_s();
	sl0 = bench_slapd_cpu_s();
	t1 = bench_now_s();
	if (!skd_engine_rekey(&o, &cfg, &env, &st, gl_name)) {
		fprintf(stderr, "skd-bench-rekey: rekey failed: %s\n",
		    skd_store_errmsg(s));
		goto err;
	}
	t2 = bench_now_s();
	if (!apply_streamed(s, &cfg, &env, &st, o, &puts))
		goto err;
	t3 = bench_now_s();
	getrusage(RUSAGE_SELF, &ru);
	cpu1 = self_cpu_s();
	sl1 = bench_slapd_cpu_s();
	slapd_writes(&wc1, &sc1);
	/* The fetch while each member has one key (its line printed after
	 * the rekey's). */
	if (f > 0 && !fetch_bench(f < n ? f : n, key, ca_key, ca, trust,
	    gl_name, fetch_line, sizeof(fetch_line)))
		goto err;
	{
		/* The second rekey of the GL (RFC 5275 4.5.2 again), both
		 * modes: the certificates come from the cache as far as it
		 * holds them. */
		SKD_ENG_OUTCOME_free(o);
		o = NULL;
		t6 = bench_now_s();
		if (!skd_engine_rekey(&o, &cfg, &env, &st, gl_name)) {
			fprintf(stderr, "skd-bench-rekey: second rekey "
			    "failed: %s\n", skd_store_errmsg(s));
			goto err;
		}
		t7 = bench_now_s();
		if (!apply_streamed(s, &cfg, &env, &st, o, &puts2))
			goto err;
		t8 = bench_now_s();
		skd_engine_keycache_stats(kc, &hits, &misses, &kn);
	}
	if (!nma) {
		/* SKD_BENCH_REKEY_MAKE=R (default 3): a third rekey's
		 * messages made R times, written never (make_min_s). */
		nmake = bench_env_size("SKD_BENCH_REKEY_MAKE", 3);
		if (nmake > 0 && !make_only(s, &cfg, &env, &st, gl_name,
		    nmake, &make_min, &make_cpu, &make_slapd, &make_puts)) {
			fprintf(stderr, "skd-bench-rekey: make failed\n");
			goto err;
		}
		/* SKD_BENCH_REKEY_AGAIN=R: R more rekeys after the timed
		 * ones, for a profiler (perf record) to see the warm rekey
		 * and little of the set-up, and the fastest of them
		 * (again_min_s) on a machine others share; their mean
		 * (again_mean_s) and the CPU a rekey took in this process and
		 * in slapd over them (again_cpu_s, again_slapd_cpu_s; slapd's
		 * in clock ticks, 10 ms, so meant for R of 20 or more). */
		nagain = bench_env_size("SKD_BENCH_REKEY_AGAIN", 0);
		again_cpu = self_cpu_s();
		again_slapd = bench_slapd_cpu_s();
		for (again = 0; again < nagain; again++) {
			double a0 = bench_now_s();

			SKD_ENG_OUTCOME_free(o);
			o = NULL;
			if (!skd_engine_rekey(&o, &cfg, &env, &st, gl_name) ||
			    !apply_streamed(s, &cfg, &env, &st, o, &puts2))
				goto err;
			a0 = bench_now_s() - a0;
			again_sum += a0;
			if (again == 0 || a0 < again_min)
				again_min = a0;
		}
		again_cpu = self_cpu_s() - again_cpu;
		{
			double sl = bench_slapd_cpu_s();

			/* -1: slapd's CPU could not be read (the line
			 * built on it is then left out) */
			again_slapd = again_slapd < 0 || sl < 0 ? -1 :
			    sl - again_slapd;
		}
	}

	{
		/* Both modes: the directory's floor for the same entries
		 * (mutually aware: one key's shards). */
		if (!fake_key_id(fake))
			goto err;
		slapd_writes(&wc2, &sc2);
		sl2 = bench_slapd_cpu_s();
		t4 = bench_now_s();
		if (!floor_adds(s, gl_name, floor_gl, fake, 'f', 0, &nfloor))
			goto err;
		t5 = bench_now_s();
		sl3 = bench_slapd_cpu_s();
		slapd_writes(&wc3, &sc3);
	}
	if (!nma) {
		/* Mutually aware: the same shards again (under another key
		 * id), written as the rekey writes them: the head, then
		 * pages of shards with their adds in flight. */
		size_t page = cfg.stream_page > 0 ? cfg.stream_page :
		    SKD_ENGINE_DEFAULT_STREAM_PAGE;

		fgroup = (page + k - 1) / k;
		if (!fake_key_id(fake))
			goto err;
		floor_page_s = bench_now_s();
		if (!floor_adds(s, gl_name, floor_gl, fake, 'g', fgroup,
		    &nfloor_page))
			goto err;
		floor_page_s = bench_now_s() - floor_page_s;
	}
	printf("rekey kind=%s mode=%s n=%zu shards=%zu engine_s=%.6f "
	    "apply_s=%.6f total_s=%.6f floor_adds=%zu floor_s=%.6f "
	    "member_add_s=%.6f rss_kb=%ld decode_us=%.2f", argv[2], argv[3],
	    n, puts, t2 - t1, t3 - t2, t3 - t1, nfloor, t5 - t4, tadd,
	    ru.ru_maxrss, tdec * 1e6 / (double)ndec);
	/* CPU seconds of the first rekey (this process; slapd) and of the
	 * floor (slapd; this process does little there). */
	printf(" cpu_s=%.3f slapd_cpu_s=%.3f floor_slapd_cpu_s=%.3f",
	    cpu1 - cpu0, sl1 - sl0, sl3 - sl2);
	/* slapd's writes, load-independent: bytes passed to write(2) and
	 * write calls, over the first rekey and over the floor */
	printf(" slapd_wchar=%llu slapd_syscw=%llu floor_slapd_wchar=%llu "
	    "floor_slapd_syscw=%llu", wc1 - wc0, sc1 - sc0, wc3 - wc2,
	    sc3 - sc2);
	printf(" engine2_s=%.6f apply2_s=%.6f total2_s=%.6f cache_hits=%zu",
	    t7 - t6, t8 - t7, t8 - t6, hits);
	if (nmake > 0)
		printf(" make=%zu make_min_s=%.6f make_shards=%zu "
		    "make_cpu_s=%.3f make_slapd_cpu_s=%.3f", nmake, make_min,
		    make_puts, make_cpu, make_slapd);
	if (nfloor_page > 0)
		printf(" floor_page_adds=%zu floor_page_group=%zu "
		    "floor_page_s=%.6f", nfloor_page, fgroup, floor_page_s);
	if (nagain > 0)
		printf(" again=%zu again_min_s=%.6f again_mean_s=%.6f "
		    "again_cpu_s=%.6f again_slapd_cpu_s=%.6f", nagain,
		    again_min, again_sum / (double)nagain,
		    again_cpu / (double)nagain, again_slapd / (double)nagain);
	if (!ec && !nma) {
		/* The public-key floor with keys made from their numbers
		 * (the key cache's form) and with one key used again
		 * (openssl speed's), interleaved: 1,000 each in two runs of
		 * 500, one thread. */
		double fr = 0, ru_us = 0;

		for (i = 0; i < 4; i++) {
			double u = rsa_op_us(key, (int)(i % 2 == 0), 500);

			if (u == 0)
				goto err;
			if (i % 2 == 0)
				fr += u / 2;
			else
				ru_us += u / 2;
		}
		printf(" rsa_fresh_us=%.2f rsa_reused_us=%.2f", fr, ru_us);
	}
	printf("\n");
	/* The members' shards and the head shard 0 (the GLA's alone). */
	if (puts != 1 + (nma ? n : (n + (k ? k : SKD_ENGINE_DEFAULT_SHARD) -
	    1) / (k ? k : SKD_ENGINE_DEFAULT_SHARD)) ||
	    nfloor != puts) {
		fprintf(stderr, "skd-bench-rekey: %zu shards, %zu floor adds "
		    "for %zu members\n", puts, nfloor, n);
		goto err;
	}
	fputs(fetch_line, stdout);
	rc = 0;
 err:
	if (rc != 0) {
		fprintf(stderr, "skd-bench-rekey: failed\n");
		ERR_print_errors_fp(stderr);
	}
	OPENSSL_free(der);
	OPENSSL_free(gl_der);
	SKD_ENG_OUTCOME_free(o);
	skd_engine_keycache_free(kc);
	skd_store_close(s);
	X509_STORE_free(trust);
	X509_free(ca);
	X509_free(gla);
	X509_free(tmpl);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(gla_key);
	return rc;
}
