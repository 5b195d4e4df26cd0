/*
 * bench_worker.c: signed glAddMember requests (RFC 5275 3.1.3, 4.3)
 * through the GLA worker end to end, beside the directory's write floor
 * measured in the same run.
 *
 *   skd-bench-worker L T [W [G]]
 *
 * The directory is a private stack (tools/skd-stack); its DIR/env must be
 * in the environment (SKD_LDAPI_URI, SKD_BASE_DN, SKD_GLA_DN, SKD_GLA_PW,
 * SKD_GLO1_DN, SKD_GLO1_PW, SKD_PKI_DIR); a scratch directory is
 * $TMPDIR (default /tmp).
 *
 * Set-up (not timed): a managed, not mutually aware GL (id-aes256-wrap)
 * created with the store, owned by glo1 of the stack's PKI, with one key
 * (skd_engine_rekey + skd_engine_apply: one shard only the GLA opens);
 * G members more (default none) added with the store after that key,
 * one certificate for all (SKD_BENCH_FILL_DISTINCT=1: each its own,
 * issued by the CA, so that a rekey decodes and checks every one), with slapd's writes unsynced (olcDbNoSync)
 * while they go in, so that latency can be read against the GL's size
 * (a request reads what it names: an add to a GL of 100,000 costs what
 * it costs at 100); L + T members with RSA-2048 certificates (one shared
 * key) issued by the
 * PKI's CA; one glAddMember request per member, built and signed by glo1
 * with src/client (skd_client_request_protect).  Then W workers (default
 * one; each the library's skd_worker_run in a forked process, configured
 * as skd-gla.conf would be, watching ou=requests) are started and left
 * idle for half a second.
 *
 * Latency: L requests one at a time, each submitted as glo1 (one add to
 * ou=requests) and waited for through one persistent search on
 * ou=responses (see struct seen): p50 and p99 of submission to response.
 * Throughput: T requests submitted back to back by the load generator,
 * then waited for; requests per second = T / (first submit to last
 * response).  Every request adds one member and re-wraps the GL's key for
 * it; at the end the GL must have L + T members and L + T + 1 key shards.
 *
 * Removals (SKD_BENCH_REMOVE=R, at most L): after the run, R signed
 * glDeleteMember requests (RFC 5275 3.1.4), removing w0 .. w<R-1> one at
 * a time: p50 and p99 of submission to response, and the median and
 * largest time from submission to the request's finish.  On a managed
 * GL (the default; SKD_BENCH_GL_ADMIN=unmanaged for one where a removal
 * rekeys nothing) every removal rekeys the GL (section 8), streamed to
 * every remaining member before the finish, mutually aware or not as
 * SKD_BENCH_GL_MA says (1: shards); the peak resident set then covers
 * that rekey, and the CPU per request includes it.
 *
 * Floor: the writes one request needs, as the directory counted them
 * over the back-to-back run (back-monitor's completed adds, modifies and
 * deletes, divided by T: writes_per_req; the monitor database is added
 * to the stack's cn=config for it), beside the count by hand
 * (WRITES_PER_REQUEST: writes_counted, from
 * the stack's log of one run (SKD_STACK_LOGLEVEL=stats) and from
 * src/worker and src/engine/apply.c: submit, claim with the attempt
 * counted (one modify since issue 14), replay cache entry naming the
 * request (one add since this round, the owner record in ou=messages
 * gone), journal, member add, glKey add, response, finish), each at the
 * cost of a plain write (an add of an entry as large as the request, a
 * modify claiming it), measured on the same directory just before the
 * run and again just after it, 500 writes each time: the mean of the
 * 1,000 is the floor (floor_write_s).
 *
 * The directory's completed searches over the same run, divided by T
 * (searches_per_req), show what the workers read besides: the listings,
 * each request's read, and the reads of loops that lose the claim.
 *
 * SKD_BENCH_WORKER_CONF: lines appended to the workers' configuration
 * (for comparisons by hand, e.g. "watch = no").
 *
 * Prints one line of key=value pairs, including the largest worker's
 * peak resident set (getrusage of the reaped children).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "client/skd_client.h"
#include "engine/skd_engine.h"
#include "store/skd_store.h"
#include "worker/skd_worker.h"

#define BENCH_NAME "skd-bench-worker"
#define BENCH_WITH_WORKER
#include "bench_common.h"
#include "support/monitor.h"

/* The writes one request should need, counted by hand (see above);
 * printed beside the count the directory itself reports. */
#define WRITES_PER_REQUEST	8

/*
 * The directory's completed operations so far, from back-monitor under
 * cn=Operations,cn=Monitor (monitorOpCompleted), read in one session as
 * the stack's root (SKD_ROOT_DN, SKD_ROOT_PW; support/monitor.h adds the
 * monitor database the stack lacks): *writes the adds, modifies and
 * deletes summed, *searches the searches.  Zero when they cannot be read.
 */
static int
dir_ops(long *writes, long *searches)
{
	LDAP *ld;

	if ((ld = skd_monitor_open(bench_need_env("SKD_LDAPI_URI"),
	    getenv("SKD_ROOT_DN"), getenv("SKD_ROOT_PW"))) == NULL)
		return 0;
	*writes = skd_monitor_sum(ld, "cn=Operations,cn=Monitor",
	    LDAP_SCOPE_ONELEVEL, "(|(cn=Add)(cn=Modify)(cn=Delete))",
	    "monitorOpCompleted");
	*searches = skd_monitor_sum(ld, "cn=Operations,cn=Monitor",
	    LDAP_SCOPE_ONELEVEL, "(cn=Search)", "monitorOpCompleted");
	ldap_unbind_ext_s(ld, NULL, NULL);
	return *writes >= 0 && *searches >= 0;
}

/* One part of a fill: members f<i>, i = first, first + step, ... < g, of
 * gl on its own session, each with cert, or (cert NULL) with its own
 * certificate on key mkey issued by ca. */
struct fill_part {
	const char	*gl;
	size_t		 first, step, g;
	X509		*cert, *ca;
	EVP_PKEY	*mkey, *ca_key;
	int		 ok;
};

static void *
fill_part(void *arg)
{
	struct fill_part *p = arg;
	struct skd_store_member m;
	struct skd_store *s;
	unsigned char *der = NULL;
	X509 *x = NULL;
	char name[96];
	size_t i;
	int len = 0;

	p->ok = 0;
	if ((s = bench_open_as("SKD_GLA_DN", "SKD_GLA_PW")) == NULL)
		return NULL;
	if (p->cert != NULL && (len = i2d_X509(p->cert, &der)) <= 0)
		goto err;
	for (i = p->first; i < p->g; i += p->step) {
		if (p->cert == NULL) {
			if (x == NULL ? (x = bench_member_cert(p->mkey,
			    p->ca_key, p->ca, 0x30000000L + (long)i, "f",
			    (long)i)) == NULL : !bench_member_again(x,
			    p->ca_key, 0x30000000L + (long)i, "f", (long)i))
				goto err;
			OPENSSL_free(der);
			der = NULL;
			if ((len = i2d_X509(x, &der)) <= 0)
				goto err;
		}
		bench_member_name(name, sizeof(name), "f", (long)i);
		memset(&m, 0, sizeof(m));
		m.name = name;
		m.address = name;
		m.cert = der;
		m.cert_len = (size_t)len;
		if (!skd_store_add_member(s, p->gl, SKD_STORE_MEMBER, &m)) {
			fprintf(stderr, "skd-bench-worker: fill: %s\n",
			    skd_store_errmsg(s));
			goto err;
		}
	}
	p->ok = 1;
 err:
	X509_free(x);
	OPENSSL_free(der);
	skd_store_close(s);
	return NULL;
}

/* Threads filling side by side when each member has its own
 * certificate (its signature costs more than its add). */
#define FILL_THREADS	2

/* g members f<i> of gl, straight into the directory, slapd's writes
 * unsynced meanwhile: all with one certificate (cert), or (distinct)
 * each with its own on key mkey, issued by ca, as a rekey of real
 * members must decode and check them. */
static int
fill(const char *gl, size_t g, X509 *cert, int distinct, EVP_PKEY *mkey,
    EVP_PKEY *ca_key, X509 *ca)
{
	struct fill_part p[FILL_THREADS];
	pthread_t th[FILL_THREADS];
	size_t c, nt = distinct ? FILL_THREADS : 1, started = 0;
	int ok = 0;

	if (g == 0)
		return 1;
	if (!bench_nosync(1))
		goto err;
	for (c = 0; c < nt; c++) {
		memset(&p[c], 0, sizeof(p[c]));
		p[c].gl = gl;
		p[c].first = c;
		p[c].step = nt;
		p[c].g = g;
		p[c].cert = distinct ? NULL : cert;
		p[c].ca = ca;
		p[c].mkey = mkey;
		p[c].ca_key = ca_key;
		if (pthread_create(&th[c], NULL, fill_part, &p[c]) != 0)
			break;
		started++;
	}
	ok = started == nt;
	for (c = 0; c < started; c++) {
		(void)pthread_join(th[c], NULL);
		ok = ok && p[c].ok;
	}
 err:
	if (!bench_nosync(0))
		ok = 0;
	return ok;
}

/* One control (val borrowed) in a request signed by glo; *out freed
 * with OPENSSL_free. */
static int
signed_request(unsigned char **out, size_t *out_len, enum skd_oid oid,
    void *val, const struct skd_client_ident *glo)
{
	struct skd_client_request *r;
	struct skd_client_error e;
	int ok;

	e.msg[0] = '\0';
	ok = (r = skd_client_request_new(&e)) != NULL &&
	    skd_client_request_add(r, oid, val) != 0 &&
	    skd_client_request_protect(out, out_len, r, glo, NULL, 0,
	    time(NULL), &e);
	if (!ok)
		fprintf(stderr, "skd-bench-worker: request: %s\n", e.msg);
	skd_client_request_free(r);
	return ok;
}

/* The signed glAddMember request for member w<i> (cert) to gl. */
static int
add_member_request(unsigned char **out, size_t *out_len, const char *gl,
    X509 *cert, long i, const struct skd_client_ident *glo)
{
	struct skd_client_error e;
	struct skd_client_party p;
	SKD_GL_ADD_MEMBER *am;
	char name[96];
	int ok;

	bench_member_name(name, sizeof(name), "w", i);
	p.name = name;
	p.address = name;
	p.cert = cert;
	if ((am = skd_client_new_add_member(gl, &p, &e)) == NULL) {
		fprintf(stderr, "skd-bench-worker: request: %s\n", e.msg);
		return 0;
	}
	ok = signed_request(out, out_len, SKD_OID_GL_ADD_MEMBER, am, glo);
	SKD_GL_ADD_MEMBER_free(am);
	return ok;
}

/* The signed glDeleteMember request (RFC 5275 3.1.4) removing member
 * w<i> from gl. */
static int
delete_member_request(unsigned char **out, size_t *out_len, const char *gl,
    long i, const struct skd_client_ident *glo)
{
	struct skd_client_error e;
	SKD_GL_DELETE_MEMBER *dm;
	char name[96];
	int ok;

	bench_member_name(name, sizeof(name), "w", i);
	if ((dm = skd_client_new_delete_member(gl, name, &e)) == NULL) {
		fprintf(stderr, "skd-bench-worker: request: %s\n", e.msg);
		return 0;
	}
	ok = signed_request(out, out_len, SKD_OID_GL_DELETE_MEMBER, dm, glo);
	SKD_GL_DELETE_MEMBER_free(dm);
	return ok;
}

/*
 * The responses seen so far, through one persistent search on
 * ou=responses (skd_store_watch_open, as the GLA: it sees every
 * response) as a waiting client sees its own (skd_store_watch_response):
 * the load generator then costs slapd one search for the run, not one a
 * millisecond per request waited for.  Ids are compared as the response
 * DN's first value.
 */
struct seen {
	char	(*ids)[SKD_STORE_ID_LEN];
	char	 *got;
	size_t	  n;
};

static void
seen_cb(void *arg, const char *dn)
{
	struct seen *sn = arg;
	const char *v, *e;
	size_t i, l;

	if ((v = strchr(dn, '=')) == NULL || (e = strchr(++v, ',')) == NULL)
		return;
	l = (size_t)(e - v);
	for (i = 0; i < sn->n; i++) {
		if (strlen(sn->ids[i]) == l && strncasecmp(sn->ids[i], v, l) == 0)
			sn->got[i] = 1;
	}
}

/* Waits (at most 60 s) until the watch has seen the response to ids[i]. */
static int
wait_response(struct skd_store_watch *w, const struct seen *sn, size_t i)
{
	double until = bench_now_s() + 60;

	while (!sn->got[i]) {
		if (bench_now_s() > until) {
			fprintf(stderr, "skd-bench-worker: no response to "
			    "%s\n", sn->ids[i]);
			return 0;
		}
		(void)skd_store_watch_poll(w, NULL, 1);
	}
	return 1;
}

/*
 * Waits (at most 60 min) until request id is finished (skdRequestState
 * done: the worker's last write, after a removal's rekey has been
 * streamed; RFC 5275 section 8).  Polled every millisecond for the
 * first 100 ms, then every 20 ms, so that a long rekey is not slowed by
 * the polling.  Zero (said) when it failed or never finished.
 */
static int
wait_finished(struct skd_store *s, const char *id)
{
	struct skd_store_request *r = NULL;
	double t0 = bench_now_s(), now;
	int done = 0;

	for (;;) {
		if (!skd_store_read_request(s, &r, id)) {
			fprintf(stderr, "skd-bench-worker: read %s: %s\n", id,
			    skd_store_errmsg(s));
			return 0;
		}
		if (strcmp(r->state, "done") == 0)
			done = 1;
		else if (strcmp(r->state, "failed") == 0) {
			fprintf(stderr, "skd-bench-worker: %s failed: %s\n",
			    id, r->error != NULL ? r->error : "");
			skd_store_request_free(r);
			return 0;
		}
		skd_store_request_free(r);
		r = NULL;
		if (done)
			return 1;
		if ((now = bench_now_s()) - t0 > 3600) {
			fprintf(stderr, "skd-bench-worker: %s not finished\n",
			    id);
			return 0;
		}
		usleep(now - t0 < 0.1 ? 1000 : 20000);
	}
}

/* Submits request der as glo1 (one add to ou=requests); its id into id. */
static int
submit(struct skd_store *glo, char id[SKD_STORE_ID_LEN],
    const unsigned char *der, size_t len)
{
	if (skd_store_add_request(glo, id, der, len,
	    bench_need_env("SKD_GLO1_DN")))
		return 1;
	fprintf(stderr, "skd-bench-worker: submit: %s\n",
	    skd_store_errmsg(glo));
	return 0;
}

/* GLs the requests go to in turn, at most. */
#define BENCH_MAX_GLS	16

/*
 * The cost of one durable write, FLOOR_BATCHES batches of FLOOR_BATCH
 * plain adds of request-sized entries (as glo1 submits) and as many
 * modifies claiming them, so that the workers leave them alone (their
 * leases outlive the run), each batch deleted again untimed.  Adds the
 * batches' seconds a write to *sum, their count to *n, and keeps the
 * fastest and slowest batch in *lo and *hi.  Returns 0 on a failed write.
 *
 * Run before the workers start and again after they stop: the floor is
 * the mean over both, 1,000 writes in all.  (Until round 12 it was the
 * faster of two batches of 200: one stack's disk gave 0.36 to 0.59 ms a
 * write from one batch to the next, and the ratio moved with it by more
 * than the target's margin; the mean of a longer measurement is the
 * cost of a write in this run, the batches' spread is printed beside
 * it.)
 */
#define FLOOR_BATCH	50
#define FLOOR_BATCHES	5

static int
floor_write_s(struct skd_store *gla, const unsigned char *req, size_t req_len,
    double *sum, size_t *n, double *lo, double *hi)
{
	char id[FLOOR_BATCH][SKD_STORE_ID_LEN];
	double t0, t;
	int b, i;

	for (b = 0; b < FLOOR_BATCHES; b++) {
		t0 = bench_now_s();
		for (i = 0; i < FLOOR_BATCH; i++) {
			if (!skd_store_add_request(gla, id[i], req, req_len,
			    NULL) || !skd_store_claim_request(gla, id[i],
			    "bench-floor", time(NULL) + 3600))
				return 0;
		}
		t = (bench_now_s() - t0) / (2.0 * FLOOR_BATCH);
		*sum += t;
		*n += 1;
		if (*lo == 0 || t < *lo)
			*lo = t;
		if (t > *hi)
			*hi = t;
		/* Gone again, untimed: claimed entries left in the queue
		 * would be listed by the workers of every later run on this
		 * directory. */
		for (i = 0; i < FLOOR_BATCH; i++) {
			if (!skd_store_delete_request(gla, id[i]))
				return 0;
		}
	}
	return 1;
}

int
main(int argc, char **argv)
{
	struct skd_engine_config cfg;
	struct skd_engine_env env;
	struct skd_engine_state st;
	struct skd_store_gl gl;
	struct skd_store_member owner;
	struct skd_store *gla = NULL, *glo = NULL;
	struct skd_store_member *ml = NULL;
	struct skd_store_glkey *kl = NULL;
	struct skd_client_ident glo_id;
	SKD_ENG_OUTCOME *o = NULL;
	X509 *gla_cert = NULL, *ca = NULL, *glo_cert = NULL, *x;
	EVP_PKEY *gla_key = NULL, *ca_key = NULL, *glo_key = NULL;
	EVP_PKEY *mkey = NULL;
	X509_STORE *trust = NULL;
	unsigned char **req = NULL, *glo_der = NULL;
	size_t *req_len = NULL, nl, nt, total, i, nm = 0, nk = 0;
	char gl_names[BENCH_MAX_GLS][128], *gl_name = gl_names[0];
	struct bench_workers wk;
	char extra[4096];
	char (*ids)[SKD_STORE_ID_LEN] = NULL;
	const char *pki;
	double *lat = NULL, t0, t1, tput, floor_add, fl0;
	double floor_before = 0, floor_after = 0, floor_lo = 0, floor_hi = 0;
	size_t floor_nb = 0, floor_na = 0;
	struct rusage ru;
	struct skd_store_watch *watch = NULL;
	struct seen sn = { NULL, NULL, 0 };
	double slapd0, slapd_ms, wpr;
	long writes0, writes1, reads0, reads1;
	size_t nw = 1, ng = 0, nfl = 1, ngl = 1, g, sum_m = 0, sum_k = 0;
	size_t nr = 0, nkid = 0;
	double *rlat = NULL, *rdone = NULL;
	int admin = 1, nma = 1;
	const char *v;
	int len, filled, rc = 1;

	memset(&wk, 0, sizeof(wk));
	if (argc < 3 || argc > 5 ||
	    (nl = strtoul(argv[1], NULL, 10)) == 0 ||
	    (nt = strtoul(argv[2], NULL, 10)) == 0 ||
	    (argc >= 4 && ((nw = strtoul(argv[3], NULL, 10)) == 0 ||
	    nw > BENCH_MAX_WORKERS))) {
		fprintf(stderr, "usage: skd-bench-worker L T [W [G]]\n");
		return 2;
	}
	total = nl + nt;
	pki = bench_need_env("SKD_PKI_DIR");
	if (!bench_load_pair(&gla_cert, &gla_key, pki, "gla") ||
	    !bench_load_pair(&ca, &ca_key, pki, "ca") ||
	    !bench_load_pair(&glo_cert, &glo_key, pki, "glo1")) {
		fprintf(stderr, "skd-bench-worker: PKI in %s incomplete\n",
		    pki);
		goto err;
	}
	if ((trust = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(trust, ca) ||
	    (mkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)) ==
	    NULL)
		goto err;
	if ((gla = bench_open_as("SKD_GLA_DN", "SKD_GLA_PW")) == NULL ||
	    (glo = bench_open_as("SKD_GLO1_DN", "SKD_GLO1_PW")) == NULL)
		goto err;

	/* In flight (SKD_BENCH_IN_FLIGHT, the workers' in_flight) and the
	 * GLs the requests go to in turn (SKD_BENCH_GLS): requests in
	 * flight at once touch different GLs. */
	if ((v = getenv("SKD_BENCH_IN_FLIGHT")) != NULL &&
	    ((nfl = strtoul(v, NULL, 10)) == 0 || nfl > 16))
		nfl = 1;
	if ((v = getenv("SKD_BENCH_GLS")) != NULL &&
	    ((ngl = strtoul(v, NULL, 10)) == 0 || ngl > BENCH_MAX_GLS))
		ngl = 1;
	/* The GLs' administration (SKD_BENCH_GL_ADMIN: managed, the
	 * default, or unmanaged: a removal then rekeys nothing, RFC 5275
	 * 4.3), mutually aware or not (SKD_BENCH_GL_MA=1) and the removals
	 * after the run (SKD_BENCH_REMOVE=R, at most L: members w0 ..
	 * w<R-1>, one at a time, each waited for to its finish). */
	if ((v = getenv("SKD_BENCH_GL_ADMIN")) != NULL &&
	    strcmp(v, "unmanaged") == 0)
		admin = 0;
	if ((v = getenv("SKD_BENCH_GL_MA")) != NULL && strcmp(v, "1") == 0)
		nma = 0;
	if ((v = getenv("SKD_BENCH_REMOVE")) != NULL &&
	    (nr = strtoul(v, NULL, 10)) > nl)
		nr = nl;
	/* The GLs, their owner and their first key. */
	if ((len = i2d_X509(glo_cert, &glo_der)) <= 0)
		goto err;
	memset(&owner, 0, sizeof(owner));
	owner.name = "email:glo1@example.com";
	owner.address = owner.name;
	owner.cert = glo_der;
	owner.cert_len = (size_t)len;
	owner.dn = (char *)bench_need_env("SKD_GLO1_DN");
	bench_engine_init(&cfg, &env, &st, gla, gla_cert, gla_key, trust, ca,
	    ca_key);
	for (g = 0; g < ngl; g++) {
		bench_gl_init(&gl, gl_names[g], sizeof(gl_names[g]), "w/",
		    admin, nma);
		if (!skd_store_create_gl(gla, &gl) ||
		    !skd_store_add_member(gla, gl_names[g], SKD_STORE_OWNER,
		    &owner)) {
			fprintf(stderr, "skd-bench-worker: GL: %s\n",
			    skd_store_errmsg(gla));
			goto err;
		}
		if (!skd_engine_rekey(&o, &cfg, &env, &st, gl_names[g]) ||
		    !skd_engine_apply(gla, o)) {
			fprintf(stderr, "skd-bench-worker: first key: %s\n",
			    skd_store_errmsg(gla));
			goto err;
		}
		SKD_ENG_OUTCOME_free(o);
		o = NULL;
	}

	if (argc == 5)
		ng = strtoul(argv[4], NULL, 10);
	if ((x = bench_member_cert(mkey, ca_key, ca, 0x30000000L, "f", 0)) ==
	    NULL)
		goto err;
	fl0 = bench_now_s();
	/* SKD_BENCH_FILL_DISTINCT=1: each its own certificate (a rekey
	 * then decodes and checks every one, as it would for real). */
	filled = fill(gl_name, ng, x,
	    (v = getenv("SKD_BENCH_FILL_DISTINCT")) != NULL &&
	    strcmp(v, "1") == 0, mkey, ca_key, ca);
	X509_free(x);
	if (!filled)
		goto err;
	if (ng > 0)
		fprintf(stderr, "skd-bench-worker: %zu members filled in "
		    "%.1f s\n", ng, bench_now_s() - fl0);

	/* Every request, built and signed before anything is timed. */
	memset(&glo_id, 0, sizeof(glo_id));
	glo_id.cert = glo_cert;
	glo_id.key = glo_key;
	if ((req = calloc(total, sizeof(*req))) == NULL ||
	    (req_len = calloc(total, sizeof(*req_len))) == NULL ||
	    (ids = calloc(total + nr, sizeof(*ids))) == NULL ||
	    (lat = calloc(nl, sizeof(*lat))) == NULL ||
	    (rlat = calloc(nr + 1, sizeof(*rlat))) == NULL ||
	    (rdone = calloc(nr + 1, sizeof(*rdone))) == NULL)
		goto err;
	for (i = 0; i < total; i++) {
		int ok;

		if ((x = bench_member_cert(mkey, ca_key, ca,
		    0x40000000L + (long)i, "w", (long)i)) == NULL)
			goto err;
		ok = add_member_request(&req[i], &req_len[i],
		    gl_names[i % ngl], x, (long)i, &glo_id);
		X509_free(x);
		if (!ok)
			goto err;
	}

	/* Floor: plain writes, measured before the run and again after it
	 * (the disk's synchronous writes vary within a run); the mean of
	 * both is the floor. */
	if (!floor_write_s(gla, req[0], req_len[0], &floor_before, &floor_nb,
	    &floor_lo, &floor_hi))
		goto err;

	/* W workers side by side (each its own process and session, as two
	 * skd gla run would be; RFC 5275 processing exactly once).  One
	 * submitter sends every request back to back (and the floor's 100
	 * stay claimed): above the fairness limit. */
	snprintf(extra, sizeof(extra), "issuer_cert = %s/ca.crt\n"
	    "issuer_key = %s/ca.key\nlog_level = warning\n"
	    "max_pending_per_submitter = 1000000\nin_flight = %zu\n%s", pki,
	    pki, nfl, getenv("SKD_BENCH_WORKER_CONF") != NULL ?
	    getenv("SKD_BENCH_WORKER_CONF") : "");
	if (!bench_worker_spawn(&wk, nw, extra))
		goto err;
	sn.ids = ids;
	sn.n = total + nr;
	if ((sn.got = calloc(total + nr, 1)) == NULL ||
	    (watch = skd_store_watch_open(gla, SKD_STORE_WATCH_RESPONSES,
	    seen_cb, &sn)) == NULL) {
		fprintf(stderr, "skd-bench-worker: watch: %s\n",
		    skd_store_errmsg(gla));
		goto err;
	}

	/* Latency: one at a time. */
	for (i = 0; i < nl; i++) {
		t0 = bench_now_s();
		if (!submit(glo, ids[i], req[i], req_len[i]))
			goto err;
		if (!wait_response(watch, &sn, i))
			goto err;
		lat[i] = bench_now_s() - t0;
	}
	/* Throughput: back to back, then wait for every response.  The
	 * directory counts the writes meanwhile: the submits, and
	 * whatever the workers wrote for them. */
	if (!dir_ops(&writes0, &reads0)) {
		fprintf(stderr, "skd-bench-worker: cannot read the "
		    "directory's operation counts (cn=Monitor)\n");
		goto err;
	}
	slapd0 = bench_slapd_cpu_s();
	t0 = bench_now_s();
	for (i = nl; i < total; i++) {
		if (!submit(glo, ids[i], req[i], req_len[i]))
			goto err;
	}
	for (i = nl; i < total; i++) {
		if (!wait_response(watch, &sn, i))
			goto err;
	}
	t1 = bench_now_s();
	tput = (double)nt / (t1 - t0);
	slapd_ms = (bench_slapd_cpu_s() - slapd0) * 1e3 / (double)nt;
	/* At least each request's own submit. */
	if (!dir_ops(&writes1, &reads1) || writes1 < writes0 + (long)nt ||
	    reads1 < reads0) {
		fprintf(stderr, "skd-bench-worker: cannot read the "
		    "directory's operation counts (cn=Monitor)\n");
		goto err;
	}
	wpr = (double)(writes1 - writes0) / (double)nt;

	/* Removals, one at a time: submission to response (what the GLO
	 * waits for), and to the request's finish (a managed GL's rekey
	 * streamed to every remaining member before it; RFC 5275 section
	 * 8).  Built and signed here, untimed, so that their signing
	 * times are fresh. */
	for (i = 0; i < nr; i++) {
		unsigned char *der = NULL;
		size_t der_len = 0;
		int ok;

		if (!delete_member_request(&der, &der_len, gl_names[i % ngl],
		    (long)i, &glo_id))
			goto err;
		t0 = bench_now_s();
		ok = submit(glo, ids[total + i], der, der_len);
		OPENSSL_free(der);
		if (!ok || !wait_response(watch, &sn, total + i))
			goto err;
		rlat[i] = bench_now_s() - t0;
		if (!wait_finished(gla, ids[total + i]))
			goto err;
		rdone[i] = bench_now_s() - t0;
	}

	if (!bench_worker_end(&wk))
		goto err;
	/* The floor again, the workers stopped (they would claim its
	 * entries). */
	if (!floor_write_s(gla, req[0], req_len[0], &floor_after, &floor_na,
	    &floor_lo, &floor_hi))
		goto err;
	floor_add = (floor_before + floor_after) / (double)(floor_nb +
	    floor_na);
	floor_before /= (double)floor_nb;
	floor_after /= (double)floor_na;
	/* ru_maxrss of the children: the largest worker's peak. */
	getrusage(RUSAGE_CHILDREN, &ru);

	/* Every request did what it asked. */
	for (g = 0; g < ngl; g++) {
		if (!skd_store_list_members(gla, &ml, &nm, gl_names[g],
		    SKD_STORE_MEMBER) || !skd_store_find_glkeys(gla, &kl, &nk,
		    gl_names[g], NULL))
			goto err;
		sum_m += nm;
		sum_k += nk;
		/* distinct key ids: the first key and one per rekey */
		for (i = 0; i < nk; i++) {
			size_t j;

			for (j = 0; j < i; j++) {
				if (strcmp(kl[i].key_id, kl[j].key_id) == 0)
					break;
			}
			nkid += j == i;
		}
		skd_store_member_list_free(ml, nm);
		skd_store_glkey_list_free(kl, nk);
		ml = NULL;
		kl = NULL;
		nm = nk = 0;
	}
	/* Each add one glKey entry of the GL's key; a removal from a
	 * managed GL one new key, every remaining member wrapped. */
	if (sum_m != total + ng - nr ||
	    (admin == 0 || nr == 0 ? sum_k != total + ngl || nkid != ngl :
	    nkid != ngl + nr)) {
		fprintf(stderr, "skd-bench-worker: %zu members, %zu key shards "
		    "of %zu keys after %zu adds and %zu removals\n", sum_m,
		    sum_k, nkid, total, nr);
		goto err;
	}
	qsort(lat, nl, sizeof(*lat), bench_cmp_double);
	qsort(rlat, nr, sizeof(*rlat), bench_cmp_double);
	qsort(rdone, nr, sizeof(*rdone), bench_cmp_double);
	printf("worker workers=%zu in_flight=%zu gls=%zu gl_size=%zu "
	    "latency_n=%zu p50_ms=%.3f p99_ms=%.3f tput_n=%zu "
	    "req_per_s=%.1f write_ms=%.3f writes_per_req=%.2f "
	    "writes_counted=%d "
	    "floor_req_per_s=%.1f worker_rss_kb=%ld worker_cpu_ms=%.3f "
	    "slapd_cpu_ms=%.3f write_ms_before=%.3f write_ms_after=%.3f "
	    "write_ms_batch_min=%.3f write_ms_batch_max=%.3f "
	    "gl_admin=%s gl_ma=%d rm_n=%zu rm_p50_ms=%.3f rm_p99_ms=%.3f "
	    "rm_done_p50_ms=%.3f rm_done_max_ms=%.3f searches_per_req=%.2f\n",
	    nw, nfl, ngl, ng, nl,
	    lat[nl / 2] * 1e3, lat[(nl * 99) / 100] * 1e3, nt, tput,
	    floor_add * 1e3, wpr, WRITES_PER_REQUEST,
	    1.0 / (floor_add * wpr), ru.ru_maxrss,
	    ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	    ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) /
	    1e6) * 1e3 / (double)total, slapd_ms, floor_before * 1e3,
	    floor_after * 1e3, floor_lo * 1e3, floor_hi * 1e3,
	    admin ? "managed" : "unmanaged", !nma, nr,
	    rlat[nr / 2] * 1e3, rlat[nr > 0 ? (nr * 99) / 100 : 0] * 1e3,
	    rdone[nr / 2] * 1e3, rdone[nr > 0 ? nr - 1 : 0] * 1e3,
	    (double)(reads1 - reads0) / (double)nt);
	rc = 0;
 err:
	if (!bench_worker_end(&wk))
		rc = 1;
	if (rc != 0) {
		fprintf(stderr, "skd-bench-worker: failed\n");
		ERR_print_errors_fp(stderr);
	}
	for (i = 0; req != NULL && i < total; i++)
		OPENSSL_free(req[i]);
	free(req);
	free(req_len);
	skd_store_watch_close(watch);
	free(sn.got);
	free(ids);
	free(lat);
	free(rlat);
	free(rdone);
	skd_store_member_list_free(ml, nm);
	skd_store_glkey_list_free(kl, nk);
	SKD_ENG_OUTCOME_free(o);
	OPENSSL_free(glo_der);
	skd_store_close(gla);
	skd_store_close(glo);
	X509_STORE_free(trust);
	X509_free(gla_cert);
	X509_free(ca);
	X509_free(glo_cert);
	EVP_PKEY_free(gla_key);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(glo_key);
	EVP_PKEY_free(mkey);
	return rc;
}
