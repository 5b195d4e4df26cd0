/*
 * worker.c: the GLA worker loop (see skd_worker.h for the steps).
 *
 * Replay check bound to the request (RFC 5275 3.2.4.3).  The engine
 * records a message's replay key while deciding, before the worker journals
 * the outcome.  With the store's plain replay cache a worker killed between
 * the two would leave the key recorded and no journal, and whoever took the
 * request over would refuse it as a replay of itself.  So the worker gives
 * the engine a replay check that names the request as the owner of the
 * replay cache entry, in the same add (skdRequestId on the skdReplay
 * entry; one write): the same request finds its own entry (fresh),
 * another request carrying the same message finds someone else's (a
 * replay).  The entry is purged when it expires, when the message would be
 * refused as too old anyway.  Workers before this one wrote the owner as a
 * GLA message (type skdReplayOwner, "rp-" + 128 bits of the key); such a
 * record is still read for a request they left unfinished.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "engine/skd_engine.h"
#include "kgen/skd_kgen.h"
#include "worker/skd_worker.h"

#define WORKER_VERSION		"skd-gla 0.1.0"
#define WORKER_BATCH		256	/* entries per listing page */
#define WORKER_QUEUE_MAX	20000	/* requests per listing */
#define WORKER_RELIST_MS	250	/* list again after a round this long */
#define WORKER_RELIST_COST	20	/* ... and this many listings' time */
#define WORKER_RETENTION_BATCH	256	/* finished requests per round */

static volatile sig_atomic_t worker_stop_flag;
/* Counted, not a flag: each loop (a worker and its siblings, in_flight)
 * reloads once for every SIGHUP it has not yet seen. */
static volatile sig_atomic_t worker_hup_count;

void
skd_worker_stop(void)
{
	worker_stop_flag = 1;
}

void
skd_worker_hup(void)
{
	worker_hup_count = worker_hup_count + 1;
}

int
skd_worker_stopping(void)
{
	return worker_stop_flag != 0;
}

/* The keys and trust the engine borrows; replaced whole on reload. */
struct worker_crypto {
	X509		*gla_cert;
	EVP_PKEY	*gla_key;
	STACK_OF(X509)	*gla_chain;
	X509		*issuer_cert;
	EVP_PKEY	*issuer_key;
	X509_STORE	*trust;
	/* Server-side key generation (kgen): the keygen CA, or none. */
	X509		*kg_cert;
	EVP_PKEY	*kg_key;
	STACK_OF(X509)	*kg_chain;
	X509		*kg_recovery;
	EVP_PKEY	*kg_recovery_key;	/* key recovery, or NULL */
	STACK_OF(X509)	*kg_officers;
	STACK_OF(X509)	*kg_ras;		/* draft 2.5.2, or NULL */
	/* The secret of the stateless proof of possession (kgen_pop.c),
	 * derived from the journal key: every worker derives the same. */
	unsigned char	 kg_pop[32];
	struct skd_kgen_ca kgen;
	/* The journal's MAC key (journal.c); the previous one is kept
	 * across a reload so that journals written before it still open. */
	unsigned char	 jkey[SKD_WORKER_JOURNAL_KEY_LEN];
	unsigned char	 jkey_prev[SKD_WORKER_JOURNAL_KEY_LEN];
	int		 have_prev;
};

struct skd_worker {
	char			*id;
	struct skd_store	*s;
	struct timespec		 taken;		/* when the request in hand
						   was read (the log's "in
						   N ms") */
	/* The watch of the queue, one for the loops of a process (the
	 * first worker's, polled by one idle loop at a time, busy.c), on
	 * watch_s: the first worker's own session s with one loop, else a
	 * lazy session of its own (the watch connects on its own). */
	struct skd_worker	*first;
	struct skd_store_watch	*watch;
	struct skd_store	*watch_s;
	int			 watch_hit;	/* the poll saw something */
	time_t			 watch_tried;
	unsigned long		 watch_seen;	/* busy.c's reports seen */
	int			 dirty;		/* something to look at */
	int			 replay_legacy;	/* the skd schema loaded has
						   no skdRequestId on
						   skdReplay (ws_seen) */
	struct worker_crypto	 c;
	struct skd_engine_config ecfg;
	struct skd_engine_state	 est;
	/* Members' certificates decoded and validated once (cleared on
	 * reload: the trust anchors and CRLs change with it). */
	struct skd_engine_keycache *keycache;
	/* KEKs opened from the GLA's archives (kekcache.c); GL certificates
	 * decoded once (certcache.c). */
	struct skd_engine_kekcache *kekcache;
	struct skd_engine_certcache *certcache;
	long			 lease;
	long			 poll_ms;
	long			 max_attempts;
	long			 rekey_before;
	long			 retention_days;
	long			 max_message;
	long			 max_pending;
	int			 use_watch;
	struct skd_worker_stats	 stats;
	time_t			 started;
	long			 clock_offset;
	time_t			 last_status;
	int			 status_due;	/* counters moved since */
	time_t			 last_purge;
	time_t			 last_full_schedule;
	sig_atomic_t		 hup_seen;	/* worker_hup_count handled */
	/* in_flight: the siblings running beside this worker, which
	 * borrow its key and KEK caches (owns_cache zero). */
	struct skd_worker	**sib;
	size_t			 n_sib;
	int			 owns_cache;
	/* in_flight: the requests the loops of this process are on, one
	 * slot each (the first worker's; NULL with one loop). */
	struct skd_worker_busy	*busy;
	size_t			 slot;		/* this loop's: 0, 1, ... */
	struct skd_worker_mailout *mailout;	/* mailout.c; NULL: no mail */
	/* Counters of earlier runs, read from the status entry once. */
	struct skd_worker_stats	 base;
	int			 base_read;
	/* Tests only (skd_worker_set_schedule_hook): called before each
	 * GL's rekey in a schedule pass. */
	void			(*schedule_hook)(void *, const char *);
	void			*schedule_hook_arg;
};

/* ---- keys and certificates ---------------------------------------------- */

static void
crypto_clear(struct worker_crypto *c)
{
	X509_free(c->gla_cert);
	EVP_PKEY_free(c->gla_key);
	sk_X509_pop_free(c->gla_chain, X509_free);
	X509_free(c->issuer_cert);
	EVP_PKEY_free(c->issuer_key);
	X509_free(c->kg_cert);
	EVP_PKEY_free(c->kg_key);
	sk_X509_pop_free(c->kg_chain, X509_free);
	X509_free(c->kg_recovery);
	EVP_PKEY_free(c->kg_recovery_key);
	sk_X509_pop_free(c->kg_officers, X509_free);
	sk_X509_pop_free(c->kg_ras, X509_free);
	X509_STORE_free(c->trust);
	OPENSSL_cleanse(c, sizeof(*c));
}

static void
set_err(char *err, size_t err_len, const char *fmt, const char *a,
    const char *b)
{
	unsigned long e = ERR_peek_last_error();
	char ebuf[200];
	int n;

	if (err == NULL || err_len == 0)
		return;
	n = snprintf(err, err_len, fmt, a, b);
	if (e != 0 && n >= 0 && (size_t)n < err_len) {
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
		(void)snprintf(err + n, err_len - (size_t)n, " (%s)", ebuf);
	}
	ERR_clear_error();
}

static X509 *
load_cert(char *err, size_t err_len, const char *path)
{
	BIO *b;
	X509 *x = NULL;

	if ((b = BIO_new_file(path, "r")) != NULL)
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL)
		set_err(err, err_len, "%s: cannot read a PEM certificate%s",
		    path, "");
	return x;
}

static EVP_PKEY *
load_key(char *err, size_t err_len, const char *path)
{
	BIO *b;
	EVP_PKEY *k = NULL;

	if ((b = BIO_new_file(path, "r")) != NULL)
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL)
		set_err(err, err_len, "%s: cannot read a PEM private key%s",
		    path, "");
	return k;
}

static STACK_OF(X509) *
load_chain(char *err, size_t err_len, const char *path)
{
	STACK_OF(X509) *sk = NULL;
	BIO *b = NULL;
	X509 *x;

	if ((sk = sk_X509_new_null()) == NULL ||
	    (b = BIO_new_file(path, "r")) == NULL)
		goto err;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			goto err;
		}
	}
	/* The loop ends on "no start line": that is the end of file. */
	ERR_clear_error();
	if (sk_X509_num(sk) == 0)
		goto err;
	BIO_free(b);
	return sk;
 err:
	set_err(err, err_len, "%s: cannot read PEM certificates%s", path, "");
	BIO_free(b);
	sk_X509_pop_free(sk, X509_free);
	return NULL;
}

static int
crypto_load(char *err, size_t err_len, struct worker_crypto *c,
    const struct skd_worker_config *cfg)
{
	memset(c, 0, sizeof(*c));
	if ((c->gla_cert = load_cert(err, err_len, cfg->gla_cert)) == NULL ||
	    (c->gla_key = load_key(err, err_len, cfg->gla_key)) == NULL)
		goto err;
	if (X509_check_private_key(c->gla_cert, c->gla_key) != 1) {
		set_err(err, err_len, "%s does not match %s", cfg->gla_key,
		    cfg->gla_cert);
		goto err;
	}
	if (cfg->gla_chain != NULL &&
	    (c->gla_chain = load_chain(err, err_len, cfg->gla_chain)) == NULL)
		goto err;
	if (cfg->issuer_cert != NULL) {
		if ((c->issuer_cert = load_cert(err, err_len,
		    cfg->issuer_cert)) == NULL ||
		    (c->issuer_key = load_key(err, err_len,
		    cfg->issuer_key)) == NULL)
			goto err;
		if (X509_check_private_key(c->issuer_cert,
		    c->issuer_key) != 1) {
			set_err(err, err_len, "%s does not match %s",
			    cfg->issuer_key, cfg->issuer_cert);
			goto err;
		}
	}
	if (cfg->keygen_ca_cert != NULL) {
		if ((c->kg_cert = load_cert(err, err_len,
		    cfg->keygen_ca_cert)) == NULL ||
		    (c->kg_key = load_key(err, err_len,
		    cfg->keygen_ca_key)) == NULL ||
		    (cfg->keygen_chain != NULL && (c->kg_chain = load_chain(
		    err, err_len, cfg->keygen_chain)) == NULL) ||
		    (cfg->keygen_recovery_cert != NULL &&
		    (c->kg_recovery = load_cert(err, err_len,
		    cfg->keygen_recovery_cert)) == NULL))
			goto err;
		if (X509_check_private_key(c->kg_cert, c->kg_key) != 1) {
			set_err(err, err_len, "%s does not match %s",
			    cfg->keygen_ca_key, cfg->keygen_ca_cert);
			goto err;
		}
		/* Key recovery (docs/keygen.md): the recovery key opens the
		 * archives; only the officers listed may ask. */
		if (cfg->keygen_recovery_key != NULL &&
		    ((c->kg_recovery_key = load_key(err, err_len,
		    cfg->keygen_recovery_key)) == NULL ||
		    (c->kg_officers = load_chain(err, err_len,
		    cfg->keygen_recovery_officers)) == NULL))
			goto err;
		if (cfg->keygen_ras != NULL && (c->kg_ras = load_chain(err,
		    err_len, cfg->keygen_ras)) == NULL)
			goto err;
		if (c->kg_recovery_key != NULL &&
		    X509_check_private_key(c->kg_recovery,
		    c->kg_recovery_key) != 1) {
			set_err(err, err_len, "%s does not match %s",
			    cfg->keygen_recovery_key,
			    cfg->keygen_recovery_cert);
			goto err;
		}
	}
	if (!skd_worker_journal_key(c->jkey, err, err_len,
	    cfg->journal_key_file, c->gla_key))
		goto err;
	{
		static const char label[] = "skd keygen proof of possession";
		size_t n = 0;

		if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, c->jkey,
		    sizeof(c->jkey), (const unsigned char *)label,
		    sizeof(label) - 1, c->kg_pop, sizeof(c->kg_pop), &n) ==
		    NULL || n != sizeof(c->kg_pop))
			goto oom;
	}
	if ((c->trust = X509_STORE_new()) == NULL)
		goto oom;
	if (X509_STORE_load_file(c->trust, cfg->ca_file) != 1) {
		set_err(err, err_len, "%s: cannot load trust anchors%s",
		    cfg->ca_file, "");
		goto err;
	}
	if (cfg->crl_file != NULL) {
		/* RFC 5275 3.2.1: requests and member certificates are
		 * validated with revocation checking. */
		if (X509_STORE_load_file(c->trust, cfg->crl_file) != 1) {
			set_err(err, err_len, "%s: cannot load CRLs%s",
			    cfg->crl_file, "");
			goto err;
		}
		if (!X509_STORE_set_flags(c->trust, X509_V_FLAG_CRL_CHECK |
		    X509_V_FLAG_CRL_CHECK_ALL))
			goto oom;
	}
	return 1;
 oom:
	set_err(err, err_len, "out of memory%s%s", "", "");
 err:
	crypto_clear(c);
	return 0;
}

static void
ecfg_set(struct skd_worker *w, const struct skd_worker_config *cfg)
{
	memset(&w->ecfg, 0, sizeof(w->ecfg));
	w->ecfg.gla_cert = w->c.gla_cert;
	w->ecfg.gla_key = w->c.gla_key;
	w->ecfg.gla_chain = w->c.gla_chain;
	w->ecfg.issuer_cert = w->c.issuer_cert;
	w->ecfg.issuer_key = w->c.issuer_key;
	w->ecfg.trust = w->c.trust;
	w->ecfg.time_past = cfg->time_window;
	w->ecfg.time_future = cfg->time_window;
	w->ecfg.shard_size = cfg->shard_size > 0 ? (size_t)cfg->shard_size : 0;
	w->ecfg.threads = (int)cfg->threads;
	/* RFC 5275 5: kekri only in the scheduled GLA-controlled rekey. */
	w->ecfg.kekri_rollover = cfg->kekri_rollover;
	/* Rekeys stream: members page by page, shards applied as made; the
	 * journal holds the KEK wrapped for the GLA, not the shards. */
	w->ecfg.stream_rekeys = 1;
	if (w->c.kg_cert != NULL) {
		w->c.kgen.cert = w->c.kg_cert;
		w->c.kgen.key = w->c.kg_key;
		w->c.kgen.chain = w->c.kg_chain;
		w->c.kgen.validity_days = cfg->keygen_days;
		w->c.kgen.recovery_cert = w->c.kg_recovery;
		w->c.kgen.recovery_key = w->c.kg_recovery_key;
		w->c.kgen.recovery_officers = w->c.kg_officers;
		w->c.kgen.require_pop = cfg->keygen_pop != NULL &&
		    strcmp(cfg->keygen_pop, "required") == 0;
		w->c.kgen.pop_secret = w->c.kg_pop;
		w->c.kgen.pop_secret_len = sizeof(w->c.kg_pop);
		w->c.kgen.ras = w->c.kg_ras;
		w->ecfg.keygen = &w->c.kgen;
		/* Issued certificates on the person's entry (docs/keygen.md). */
		w->ecfg.keygen_publish_attr = cfg->keygen_publish == NULL ||
		    strcasecmp(cfg->keygen_publish,
		    "userCertificate;binary") == 0 ? "userCertificate;binary" :
		    strcasecmp(cfg->keygen_publish,
		    "userSMIMECertificate") == 0 ? "userSMIMECertificate" :
		    NULL;
	}
	w->ecfg.keycache = w->keycache;
	w->ecfg.kekcache = w->kekcache;
	w->ecfg.certcache = w->certcache;
	w->lease = cfg->lease_seconds > 0 ? cfg->lease_seconds :
	    SKD_WORKER_DEFAULT_LEASE;
	w->poll_ms = cfg->poll_interval_ms > 0 ? cfg->poll_interval_ms :
	    SKD_WORKER_DEFAULT_POLL_MS;
	w->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts :
	    SKD_WORKER_DEFAULT_ATTEMPTS;
	w->rekey_before = cfg->rekey_before;
	w->retention_days = cfg->retention_days;
	w->max_message = cfg->max_message_size > 0 ? cfg->max_message_size :
	    SKD_WORKER_DEFAULT_MAX_MESSAGE;
	w->max_pending = cfg->max_pending_per_submitter > 0 ?
	    cfg->max_pending_per_submitter : SKD_WORKER_DEFAULT_MAX_PENDING;
	w->use_watch = cfg->watch;
}

/* ---- creation ----------------------------------------------------------- */

/* Reads the first line of path (the bind password); caller frees with
 * OPENSSL_clear_free(p, strlen(p)). */
static char *
read_secret(char *err, size_t err_len, const char *path)
{
	FILE *f;
	char buf[512], *p = NULL;
	size_t n;

	if ((f = fopen(path, "r")) == NULL) {
		set_err(err, err_len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fgets(buf, sizeof(buf), f) != NULL) {
		n = strcspn(buf, "\r\n");
		buf[n] = '\0';
		if ((p = OPENSSL_malloc(n + 1)) != NULL)
			memcpy(p, buf, n + 1);
	}
	fclose(f);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (p == NULL)
		set_err(err, err_len, "%s: empty or unreadable%s", path, "");
	return p;
}

static char *
make_id(void)
{
	char host[256], uuid[SKD_STORE_ID_LEN], *id;
	size_t len;

	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	skd_store_new_id(uuid);
	/* Unique per process (skd_store.h): host, pid and a UUID. */
	len = strlen(host) + 64;
	if ((id = malloc(len)) == NULL)
		return NULL;
	(void)snprintf(id, len, "%s:%ld:%.8s", host, (long)getpid(), uuid);
	return id;
}

/* skd_worker_store_open, lazy nonzero for a session that connects at its
 * first operation (skd_store_conf). */
static struct skd_store *
worker_store_open(char *err, size_t err_len,
    const struct skd_worker_config *cfg, int lazy)
{
	struct skd_store_conf sc;
	struct skd_store *s;
	char *pw = NULL, why[512];

	if (cfg->bind == SKD_STORE_BIND_SIMPLE &&
	    (pw = read_secret(err, err_len, cfg->bind_password_file)) == NULL)
		return NULL;
	memset(&sc, 0, sizeof(sc));
	sc.uri = cfg->ldap_uri;
	sc.base_dn = cfg->base_dn;
	sc.bind = cfg->bind;
	sc.bind_dn = cfg->bind_dn;
	sc.password = pw;
	sc.tls = cfg->tls;
	sc.tls_ca_file = cfg->tls_ca_file;
	sc.lazy = lazy;
	/* TLS options go on the store's own handles (skd_store_open_conf),
	 * so StartTLS is redone on every reconnection. */
	if ((s = skd_store_open_conf(NULL, why, sizeof(why), &sc)) == NULL)
		set_err(err, err_len, "cannot open the directory: %s%s", why,
		    "");
	if (pw != NULL)
		OPENSSL_clear_free(pw, strlen(pw));
	return s;
}

struct skd_store *
skd_worker_store_open(char *err, size_t err_len,
    const struct skd_worker_config *cfg)
{
	return worker_store_open(err, err_len, cfg, 0);
}

/* One worker: its keys, its connection, its claim owner name (the
 * configured or made id, and "+k" for sibling k); the key and KEK caches
 * are made here when owner is NULL, else borrowed from owner. */
static struct skd_worker *
worker_new_one(char *err, size_t err_len, const struct skd_worker_config *cfg,
    const char *base_id, size_t k, const struct skd_worker *owner)
{
	struct skd_worker *w = NULL;
	size_t len;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		set_err(err, err_len, "out of memory%s%s", "", "");
		return NULL;
	}
	w->started = time(NULL);
	w->hup_seen = worker_hup_count;
	if (!crypto_load(err, err_len, &w->c, cfg))
		goto err;
	w->slot = k;
	if (owner != NULL) {
		w->keycache = owner->keycache;
		w->kekcache = owner->kekcache;
		w->certcache = owner->certcache;
		w->busy = owner->busy;
	} else {
		w->owns_cache = 1;
		if ((w->busy = skd_worker_busy_new(cfg->in_flight > 1 ?
		    (size_t)cfg->in_flight : 1)) == NULL) {
			set_err(err, err_len, "out of memory%s%s", "", "");
			goto err;
		}
		if ((w->keycache = skd_engine_keycache_new(
		    cfg->key_cache_entries > 0 ?
		    (size_t)cfg->key_cache_entries :
		    SKD_ENGINE_KEYCACHE_DEFAULT, 0)) == NULL ||
		    (w->kekcache = skd_engine_kekcache_new(
		    SKD_ENGINE_KEKCACHE_DEFAULT)) == NULL ||
		    (w->certcache = skd_engine_certcache_new(
		    SKD_ENGINE_CERTCACHE_DEFAULT)) == NULL) {
			set_err(err, err_len, "out of memory%s%s", "", "");
			goto err;
		}
	}
	ecfg_set(w, cfg);
	if (!skd_worker_mailout_setup(&w->mailout, err, err_len, cfg))
		goto err;
	len = strlen(base_id) + 24;
	if ((w->id = malloc(len)) == NULL) {
		set_err(err, err_len, "out of memory%s%s", "", "");
		goto err;
	}
	if (k == 0)
		memcpy(w->id, base_id, strlen(base_id) + 1);
	else
		(void)snprintf(w->id, len, "%s+%zu", base_id, k);
	if ((w->s = skd_worker_store_open(err, err_len, cfg)) == NULL)
		goto err;
	/* What may go by mail is marked as it is written (mailout.c). */
	skd_store_set_mail_mark(w->s, w->mailout != NULL);
	skd_engine_state_store(&w->est, w->s);
	return w;
 err:
	skd_worker_free(w);
	return NULL;
}

struct skd_worker *
skd_worker_new(char *err, size_t err_len, const struct skd_worker_config *cfg)
{
	struct skd_worker *w = NULL;
	char *id;
	size_t n, k;

	if (err != NULL && err_len > 0)
		err[0] = '\0';
	id = cfg->worker_id != NULL ? strdup(cfg->worker_id) : make_id();
	if (id == NULL) {
		set_err(err, err_len, "out of memory%s%s", "", "");
		return NULL;
	}
	if ((w = worker_new_one(err, err_len, cfg, id, 0, NULL)) == NULL)
		goto err;
	n = cfg->in_flight > 1 ? (size_t)cfg->in_flight : 1;
	if (n > 1 && (w->sib = calloc(n - 1, sizeof(*w->sib))) == NULL) {
		set_err(err, err_len, "out of memory%s%s", "", "");
		goto err;
	}
	w->first = w;
	for (k = 1; k < n; k++) {
		if ((w->sib[k - 1] = worker_new_one(err, err_len, cfg, id, k,
		    w)) == NULL)
			goto err;
		w->sib[k - 1]->first = w;
		w->n_sib = k;
	}
	/* One loop: the watch on its own session.  Several: on a session
	 * no loop works on, since whichever loop is idle polls it; none
	 * without a watch at start (a reload that turns it on then leaves
	 * the loops polling).  Lazy: the watch makes a connection of its
	 * own (watch.c), so the session's would sit idle (in_flight + 1
	 * connections, not + 2); w->s has proved the configuration
	 * already. */
	if (n == 1)
		w->watch_s = w->s;
	else if (cfg->watch && (w->watch_s = worker_store_open(err, err_len,
	    cfg, 1)) == NULL)
		goto err;
	free(id);
	return w;
 err:
	free(id);
	skd_worker_free(w);
	return NULL;
}

void
skd_worker_free(struct skd_worker *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n_sib; i++)
		skd_worker_free(w->sib[i]);
	free(w->sib);
	skd_store_watch_close(w->watch);
	if (w->watch_s != NULL && w->watch_s != w->s)
		skd_store_close(w->watch_s);
	skd_store_close(w->s);
	skd_worker_mailout_free(w->mailout);
	crypto_clear(&w->c);
	if (w->owns_cache) {
		skd_engine_keycache_free(w->keycache);
		skd_engine_kekcache_free(w->kekcache);
		skd_engine_certcache_free(w->certcache);
		skd_worker_busy_free(w->busy);
	}
	free(w->id);
	free(w);
}

const char *
skd_worker_id(const struct skd_worker *w)
{
	return w->id;
}

void
skd_worker_get_stats(struct skd_worker_stats *out,
    const struct skd_worker *w)
{
	*out = w->stats;
}

struct skd_store *
skd_worker_store(struct skd_worker *w)
{
	return w->s;
}

void
skd_worker_set_clock_offset(struct skd_worker *w, long seconds)
{
	size_t i;

	w->clock_offset = seconds;
	for (i = 0; i < w->n_sib; i++)
		w->sib[i]->clock_offset = seconds;
}

void
skd_worker_set_schedule_hook(struct skd_worker *w,
    void (*fn)(void *arg, const char *gl_name), void *arg)
{
	w->schedule_hook = fn;
	w->schedule_hook_arg = arg;
}

/* The clock the engine and the schedule see. */
static time_t
worker_now(const struct skd_worker *w)
{
	return time(NULL) + w->clock_offset;
}

int
skd_worker_reload(struct skd_worker *w, char *err, size_t err_len,
    const struct skd_worker_config *cfg)
{
	struct worker_crypto c;
	struct skd_worker_mailout *mo = NULL;

	if (!skd_worker_mailout_setup(&mo, err, err_len, cfg))
		return 0;
	if (!crypto_load(err, err_len, &c, cfg)) {
		skd_worker_mailout_free(mo);
		return 0;
	}
	skd_worker_mailout_free(w->mailout);
	w->mailout = mo;
	skd_store_set_mail_mark(w->s, mo != NULL);
	w->replay_legacy = 0;	/* the schema may have been updated */
	if (CRYPTO_memcmp(c.jkey, w->c.jkey, sizeof(c.jkey)) != 0) {
		memcpy(c.jkey_prev, w->c.jkey, sizeof(c.jkey_prev));
		c.have_prev = 1;
	} else if (w->c.have_prev) {
		memcpy(c.jkey_prev, w->c.jkey_prev, sizeof(c.jkey_prev));
		c.have_prev = 1;
	}
	crypto_clear(&w->c);
	w->c = c;
	OPENSSL_cleanse(&c, sizeof(c));
	/* New trust anchors and CRLs: nothing validated before holds.  The
	 * KEKs would still hold (an archive opens to the same KEK); they are
	 * dropped with the key that opened them, so that none outlives a
	 * change of the GLA's key in memory. */
	skd_engine_keycache_clear(w->keycache);
	skd_engine_kekcache_clear(w->kekcache);
	ecfg_set(w, cfg);
	return 1;
}

/* Copies an ASN.1 string into buf as text (NULs cut it short). */
static const char *
str_copy(char *buf, size_t len, const ASN1_STRING *s)
{
	int n;

	if (s == NULL || (n = ASN1_STRING_length(s)) <= 0)
		return NULL;
	if ((size_t)n >= len)
		n = (int)len - 1;
	memcpy(buf, ASN1_STRING_get0_data(s), (size_t)n);
	buf[n] = '\0';
	return buf;
}

/*
 * outcome_failure says whether the message as a whole was refused, so that
 * the request is finished as failed (with that text) rather than done:
 * nothing could be answered (the outcome's note), or the one result is a
 * message-level failure (RFC 5275 4.x 2.a/2.b: badMessageCheck,
 * badRequest on the outermost unit) and nothing but the response is
 * written.
 */
static const char *
outcome_failure(char *buf, size_t len, const SKD_ENG_OUTCOME *o)
{
	const SKD_ENG_RESULT *r;
	long st, cf, sf;
	size_t n_ops, n_resp;

	n_ops = skd_engine_outcome_count(o, 0);
	n_resp = skd_engine_outcome_count(o, SKD_OP_RESPONSE);
	if (o->note != NULL && n_resp == 0)
		return str_copy(buf, len, o->note) != NULL ? buf :
		    "not answered";
	if (n_ops != n_resp || sk_SKD_ENG_RESULT_num(o->results) != 1 ||
	    !skd_engine_outcome_result(o, 0, &st, &cf, &sf))
		return NULL;
	r = sk_SKD_ENG_RESULT_value(o->results, 0);
	if (st != SKD_CMC_FAILED || sf != -1 || ASN1_INTEGER_get(r->unit) != 0
	    || (cf != SKD_CMC_BAD_MESSAGE_CHECK && cf != SKD_CMC_BAD_REQUEST))
		return NULL;
	return str_copy(buf, len, r->text) != NULL ? buf : "message refused";
}

/* ---- one request -------------------------------------------------------- */

/* The engine's state for one request: the store's, with the replay
 * check bound to the request (see the top of this file). */
struct worker_state {
	struct skd_worker	*w;
	const char		*request_id;
};

static int
ws_read_gl(void *ctx, struct skd_store_gl **out, const char *name)
{
	const struct worker_state *ws = ctx;

	return ws->w->est.read_gl(ws->w->est.ctx, out, name);
}

static int
ws_read_member(void *ctx, struct skd_store_member **out, const char *gl_name,
    enum skd_store_role role, const char *name)
{
	const struct worker_state *ws = ctx;

	return ws->w->est.read_member(ws->w->est.ctx, out, gl_name, role,
	    name);
}

static int
ws_list_members(void *ctx, struct skd_store_member **out, size_t *n,
    const char *gl_name, enum skd_store_role role)
{
	const struct worker_state *ws = ctx;

	return ws->w->est.list_members(ws->w->est.ctx, out, n, gl_name, role);
}

static int
ws_walk_members(void *ctx, const char *gl_name, enum skd_store_role role,
    size_t page, skd_store_page_cb cb, void *arg)
{
	const struct worker_state *ws = ctx;

	return ws->w->est.walk_members(ws->w->est.ctx, gl_name, role, page,
	    cb, arg);
}

static int
ws_current_keys(void *ctx, struct skd_store_glkey **out, size_t *n,
    const char *gl_name, time_t now)
{
	const struct worker_state *ws = ctx;

	return ws->w->est.current_keys(ws->w->est.ctx, out, n, gl_name, now);
}

static int
ws_read_key_head(void *ctx, struct skd_store_glkey **out,
    const char *gl_name, const char *key_id, int shard)
{
	const struct worker_state *ws = ctx;

	return ws->w->est.read_key_head(ws->w->est.ctx, out, gl_name, key_id,
	    shard);
}

static int
ws_shard_exists(void *ctx, const char *gl_name, const char *key_id,
    int shard)
{
	const struct worker_state *ws = ctx;

	return ws->w->est.shard_exists(ws->w->est.ctx, gl_name, key_id,
	    shard);
}

static int
ws_keys_for(void *ctx, struct skd_store_glkey **out, size_t *n,
    const char *gl_name, const char *recipient)
{
	const struct worker_state *ws = ctx;

	return ws->w->est.keys_for(ws->w->est.ctx, out, n, gl_name,
	    recipient);
}

static int
ws_each_key_shard(void *ctx, const char *gl_name, const char *key_id,
    skd_store_glkey_cb cb, void *arg)
{
	const struct worker_state *ws = ctx;

	return ws->w->est.each_key_shard(ws->w->est.ctx, gl_name, key_id, cb,
	    arg);
}

static int
ws_list_keys(void *ctx, struct skd_store_glkey **out, size_t *n,
    const char *gl_name)
{
	const struct worker_state *ws = ctx;

	return ws->w->est.list_keys(ws->w->est.ctx, out, n, gl_name);
}

/* The replay check of a worker before this one, kept for a directory
 * whose loaded skd schema predates skdReplay's skdRequestId, and read for
 * requests it left unfinished: an owner record in ou=messages ("rp-" +
 * 128 bits of the key) whose value is the request id, then the plain
 * replay cache entry.  1 fresh (ours), 0 a replay, -1 error. */
static int
seen_legacy(const struct worker_state *ws, const char *key_hex,
    time_t expires)
{
	struct skd_store_message m;
	int rc;

	memset(&m, 0, sizeof(m));
	(void)snprintf(m.id, sizeof(m.id), "rp-%.32s", key_hex);
	m.type = (char *)"skdReplayOwner";
	m.message = (unsigned char *)ws->request_id;
	m.message_len = strlen(ws->request_id);
	if (!skd_store_publish_message(ws->w->s, &m)) {
		if (skd_store_error(ws->w->s) != SKD_STORE_ERR_EXISTS)
			return -1;
		return 0;	/* another request carried this message */
	}
	rc = ws->w->est.seen(ws->w->est.ctx, key_hex, expires);
	return rc < 0 ? -1 : 1;
}

/* Whether the legacy owner record of key_hex names this request. */
static int
seen_legacy_owner(const struct worker_state *ws, const char *key_hex)
{
	struct skd_store_message *m = NULL;
	char id[64];
	int rc;

	(void)snprintf(id, sizeof(id), "rp-%.32s", key_hex);
	if (!skd_store_read_message(ws->w->s, &m, id))
		return skd_store_error(ws->w->s) == SKD_STORE_ERR_NOT_FOUND ?
		    0 : -1;
	rc = m->message_len == strlen(ws->request_id) &&
	    memcmp(m->message, ws->request_id, m->message_len) == 0;
	skd_store_message_list_free(m, 1);
	return rc;
}

/*
 * The engine's replay check (RFC 5275 3.2.4.3) bound to the request (see
 * the top of this file): one add of the replay cache entry naming this
 * request as its owner.  Found there already: ours (an attempt that died
 * before its journal; fresh) or another request's (a replay).
 */
static int
ws_seen(void *ctx, const char *key_hex, time_t expires)
{
	const struct worker_state *ws = ctx;
	struct skd_store *s = ws->w->s;
	char *owner = NULL;
	int rc;

	if (strlen(key_hex) < 32)
		return -1;
	if (ws->w->replay_legacy)
		return seen_legacy(ws, key_hex, expires);
	if (skd_store_add_replay_owned(s, key_hex, expires, ws->request_id))
		return 1;
	switch (skd_store_error(s)) {
	case SKD_STORE_ERR_EXISTS:
		break;
	case SKD_STORE_ERR_INVALID:
		/* objectClassViolation: the directory's skd schema is older
		 * than skdReplay's skdRequestId (update it: skd-setup-
		 * directory warns); the two writes of before, until the
		 * next reload. */
		skd_worker_logf(SKD_WLOG_WARNING, ws->request_id, "replay "
		    "cache: %s; the skd schema loaded is older than this "
		    "worker: replay owners kept in ou=messages until the "
		    "schema is updated and the worker reloaded",
		    skd_store_errmsg(s));
		ws->w->replay_legacy = 1;
		return seen_legacy(ws, key_hex, expires);
	default:
		return -1;
	}
	if (!skd_store_read_replay_owner(s, &owner, key_hex))
		return -1;	/* purged meanwhile: decide again later */
	if (owner == NULL)
		rc = seen_legacy_owner(ws, key_hex);
	else
		rc = strcmp(owner, ws->request_id) == 0;
	free(owner);
	return rc;
}

/* The member-acknowledgement lookup (RFC 5275 5.1 2.c: the ack names the
 * key, not the GL).  A key id under two GLs (a forged entry) counts as
 * unknown: the ack is refused rather than retried. */
static int
ws_find_key_gl(void *ctx, char **out_gl, const char *key_hex)
{
	const struct worker_state *ws = ctx;
	enum skd_store_err e;

	if (skd_store_find_key_gl(ws->w->s, out_gl, key_hex))
		return 1;
	e = skd_store_error(ws->w->s);
	if (e == SKD_STORE_ERR_NOT_FOUND || e == SKD_STORE_ERR_INVALID)
		return 0;
	return -1;
}

/* Person resolution for the ACLs (skd_store_resolve_person): a name with
 * no single directory entry has no DN, which is not an error. */
static int
ws_resolve_dn(void *ctx, char **out_dn, const char *name)
{
	const struct worker_state *ws = ctx;
	enum skd_store_err e;

	if (skd_store_resolve_person(ws->w->s, out_dn, name))
		return 1;
	e = skd_store_error(ws->w->s);
	if (e == SKD_STORE_ERR_NOT_FOUND || e == SKD_STORE_ERR_INVALID)
		return 0;
	return -1;
}

/* The certificates in the directory entry of the person name names
 * (glAddMember without a certificate); skd_engine_env.person_certs. */
static int
ws_person_certs(void *ctx, STACK_OF(X509) **out, const char *name)
{
	const struct worker_state *ws = ctx;
	struct skd_store_blob *b = NULL;
	const unsigned char *p;
	enum skd_store_err e;
	size_t n = 0, i;
	X509 *x;
	int rc = -1;

	*out = NULL;
	if (!skd_store_person_certs(ws->w->s, &b, &n, name)) {
		e = skd_store_error(ws->w->s);
		return e == SKD_STORE_ERR_NOT_FOUND ||
		    e == SKD_STORE_ERR_INVALID ? 0 : -1;
	}
	if ((*out = sk_X509_new_null()) == NULL)
		goto err;
	for (i = 0; i < n; i++) {
		/* A value that is not a certificate is no candidate. */
		p = b[i].data;
		if ((x = d2i_X509(NULL, &p, (long)b[i].len)) == NULL)
			continue;
		if (!sk_X509_push(*out, x)) {
			X509_free(x);
			goto err;
		}
	}
	rc = 1;
 err:
	if (rc < 0) {
		sk_X509_pop_free(*out, X509_free);
		*out = NULL;
	}
	ERR_clear_error();
	skd_store_blobs_free(b, n);
	return rc;
}

/* struct skd_engine_env.keygen_secret over the store (ou=secrets). */
static int
ws_keygen_secret(void *ctx, struct skd_store_secret **out, const char *id)
{
	const struct worker_state *ws = ctx;
	enum skd_store_err e;

	if (skd_store_read_secret(ws->w->s, out, id))
		return 1;
	e = skd_store_error(ws->w->s);
	if (e == SKD_STORE_ERR_NOT_FOUND || e == SKD_STORE_ERR_INVALID)
		return 0;
	return -1;
}

/* struct skd_engine_env.keygen_archive over the store: the keyArchive
 * GLA message of that id (key recovery, src/engine/recover.c). */
static int
ws_keygen_archive(void *ctx, unsigned char **out, size_t *out_len,
    const char *id)
{
	const struct worker_state *ws = ctx;
	struct skd_store_message *m = NULL;
	enum skd_store_err e;
	int rc = 0;

	*out = NULL;
	*out_len = 0;
	if (!skd_store_read_message(ws->w->s, &m, id)) {
		e = skd_store_error(ws->w->s);
		return e == SKD_STORE_ERR_NOT_FOUND ||
		    e == SKD_STORE_ERR_INVALID ? 0 : -1;
	}
	/* Only an archive the GLA wrote (ou=messages is the GLA's alone). */
	if (m->type != NULL && strcmp(m->type, "keyArchive") == 0 &&
	    m->message_len > 0) {
		if ((*out = OPENSSL_memdup(m->message, m->message_len)) ==
		    NULL) {
			rc = -1;
		} else {
			*out_len = m->message_len;
			rc = 1;
		}
	}
	skd_store_message_list_free(m, 1);
	return rc;
}

/* Key recovery is audited: who recovered which key and when (the
 * result's text, src/engine/recover.c), refusals too. */
static void
log_recovery(const char *id, const SKD_ENG_OUTCOME *o)
{
	int i, nid = skd_asn1_nid(SKD_OID_KEY_RECOVERY_REQUEST);

	for (i = 0; i < sk_SKD_ENG_RESULT_num(o->results); i++) {
		const SKD_ENG_RESULT *r = sk_SKD_ENG_RESULT_value(o->results,
		    i);

		if (r->control == NULL || OBJ_obj2nid(r->control) != nid)
			continue;
		skd_worker_logf(SKD_WLOG_NOTICE, id, "audit: %.*s",
		    r->text != NULL ? r->text->length : 0,
		    r->text != NULL ? (const char *)r->text->data : "");
	}
}

/* The engine's outcome for r: its decision, or (why not NULL) the
 * failure answer of a request given up (skd_engine_give_up); NULL when it
 * could not decide. */
static SKD_ENG_OUTCOME *
run_engine(struct skd_worker *w, const struct skd_store_request *r,
    const char *why)
{
	struct worker_state ws = { w, r->id };
	struct skd_engine_state st;
	struct skd_engine_env env;
	SKD_ENG_OUTCOME *o = NULL;

	memset(&st, 0, sizeof(st));
	st.ctx = &ws;
	st.read_gl = ws_read_gl;
	st.read_member = ws_read_member;
	st.list_members = ws_list_members;
	st.walk_members = ws_walk_members;
	st.current_keys = ws_current_keys;
	st.read_key_head = ws_read_key_head;
	st.shard_exists = ws_shard_exists;
	st.keys_for = ws_keys_for;
	st.each_key_shard = ws_each_key_shard;
	st.list_keys = ws_list_keys;
	st.seen = ws_seen;
	memset(&env, 0, sizeof(env));
	env.now = worker_now(w);
	env.find_key_gl = ws_find_key_gl;
	env.resolve_dn = ws_resolve_dn;
	env.person_certs = ws_person_certs;
	env.keygen_secret = ws_keygen_secret;
	env.keygen_archive = ws_keygen_archive;
	if (why != NULL ? !skd_engine_give_up(&o, &w->ecfg, &env, &st, r->id,
	    r->message, r->message_len, why) : !skd_engine_process(&o,
	    &w->ecfg, &env, &st, r->id, r->message, r->message_len))
		o = NULL;
	ERR_clear_error();
	return o;
}

/* Moves the lease on once half of it has gone; returns zero when the
 * claim is lost or the directory failed. */
static int
lease_keep(struct skd_worker *w, const char *id, time_t *lease)
{
	time_t now = time(NULL), nl;

	if (now < *lease - w->lease / 2)
		return 1;
	nl = now + w->lease;
	if (!skd_store_renew_lease(w->s, id, w->id, *lease, nl)) {
		skd_worker_logf(SKD_WLOG_WARNING, id, "lease renewal: %s",
		    skd_store_errmsg(w->s));
		return 0;
	}
	*lease = nl;
	return 1;
}

/* journal writes o's DER, sealed for r (journal.c), on the request
 * (RFC 4528-asserted: only while this worker holds the claim).  Returns
 * one on success. */
static int
journal(struct skd_worker *w, const struct skd_store_request *r,
    const SKD_ENG_OUTCOME *o)
{
	unsigned char *der = NULL, *j = NULL;
	size_t der_len = 0, j_len = 0;
	int ok;

	if (!skd_engine_outcome_encode(&der, &der_len, o) ||
	    !skd_worker_journal_seal(&j, &j_len, w->c.jkey, r->id, r->message,
	    r->message_len, der, der_len)) {
		skd_worker_logf(SKD_WLOG_ERR, r->id,
		    "cannot encode the outcome");
		ERR_clear_error();
		OPENSSL_free(der);
		return 0;
	}
	ok = skd_store_journal_request(w->s, r->id, w->id, j, j_len);
	OPENSSL_free(der);
	OPENSSL_free(j);
	return ok;
}

/*
 * journal_open returns the outcome the journal of r carries, or NULL when
 * the journal is not one this GLA sealed for this request and message
 * (docs/security.md, "A directory user writes worker state").
 */
static SKD_ENG_OUTCOME *
journal_open(struct skd_worker *w, const struct skd_store_request *r)
{
	const unsigned char *der = NULL;
	size_t der_len = 0;
	SKD_ENG_OUTCOME *o;

	if (!skd_worker_journal_open(&der, &der_len, w->c.jkey, r->id,
	    r->message, r->message_len, r->journal, r->journal_len) &&
	    (!w->c.have_prev || !skd_worker_journal_open(&der, &der_len,
	    w->c.jkey_prev, r->id, r->message, r->message_len, r->journal,
	    r->journal_len))) {
		ERR_clear_error();
		return NULL;
	}
	o = skd_engine_outcome_decode(der, der_len);
	ERR_clear_error();
	return o;
}

/*
 * refusal says why r is not processed at all, before anything is decoded,
 * or NULL when it may be: only the GLA's own writes and the submitter's
 * message are trusted (docs/architecture.md, "What the worker trusts").
 */
static const char *
refusal(char *buf, size_t len, const struct skd_worker *w,
    const struct skd_store_request *r)
{
	if (r->n_messages != 1) {
		(void)snprintf(buf, len, "the request carries %zu skdMessage "
		    "values; exactly one is accepted", r->n_messages);
		return buf;
	}
	if (r->message_len > (size_t)w->max_message) {
		(void)snprintf(buf, len, "the message is %zu bytes, over the "
		    "GLA's maximum of %ld (max_message_size); not decoded",
		    r->message_len, w->max_message);
		return buf;
	}
	if (r->submitter_dn != NULL && r->creator_dn != NULL &&
	    !skd_store_dn_equal(r->submitter_dn, r->creator_dn)) {
		(void)snprintf(buf, len, "skdSubmitterDN is not the identity "
		    "that added the request");
		return buf;
	}
	return NULL;
}

/* A page of a streamed rekey, applied as it is made; the lease is kept
 * between pages (a request's only, id NULL for the schedule's). */
struct stream_emit {
	struct skd_worker	*w;
	const char		*id;
	time_t			*lease;
	size_t			 pages;
};

static int
emit_page(void *arg, const SKD_ENG_OUTCOME *page)
{
	struct stream_emit *se = arg;

	if (se->id != NULL && !lease_keep(se->w, se->id, se->lease))
		return 0;
	if (!skd_engine_apply(se->w->s, page))
		return 0;
	se->pages++;
	return 1;
}

/*
 * apply_outcome applies o, then streams each key it holds for every
 * member (skd_engine_stream): the journal holds the KEK wrapped for the
 * GLA, and the glKey entries themselves record the progress, so a run
 * that dies midway is resumed by whoever applies the journal again, with
 * the same KEK and nobody sent the key twice.  Returns one on success.
 */
static int
apply_outcome(struct skd_worker *w, const char *id, time_t *lease,
    const SKD_ENG_OUTCOME *o)
{
	struct stream_emit se = { w, id, lease, 0 };
	struct skd_engine_env env;
	int i;

	if (!skd_engine_apply(w->s, o))
		return 0;
	memset(&env, 0, sizeof(env));
	env.now = worker_now(w);
	for (i = 0; i < sk_SKD_ENG_OP_num(o->ops); i++) {
		const SKD_ENG_OP *op = sk_SKD_ENG_OP_value(o->ops, i);

		if (skd_engine_op_type(op) != SKD_OP_KEY_STREAM)
			continue;
		if (!skd_engine_stream(&w->ecfg, &env, &w->est, op, emit_page,
		    &se))
			return 0;
	}
	return 1;
}

static int
finish(struct skd_worker *w, const char *id, const char *why,
    enum skd_worker_fail kind)
{
	if (!skd_store_finish_request(w->s, id, w->id, why)) {
		if (skd_store_error(w->s) == SKD_STORE_ERR_CONFLICT) {
			w->stats.lost++;
			skd_worker_logf(SKD_WLOG_NOTICE, id,
			    "claim lost before finishing; the new owner "
			    "finishes it");
			return 1;
		}
		skd_worker_logf(SKD_WLOG_WARNING, id, "finish: %s",
		    skd_store_errmsg(w->s));
		return 0;
	}
	if (why == NULL) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		w->stats.processed++;
		skd_worker_logf(SKD_WLOG_INFO, id, "done in %.3f ms",
		    (double)(now.tv_sec - w->taken.tv_sec) * 1e3 +
		    (double)(now.tv_nsec - w->taken.tv_nsec) / 1e6);
	} else {
		w->stats.failed++;
		w->stats.failed_by[kind]++;
		skd_worker_logf(SKD_WLOG_NOTICE, id, "failed: %s", why);
	}
	return 1;
}

/* Takes the request: claim or take-over.  Returns 1 taken, 0 not ours
 * (*transient says whether to try again later). */
static int
take(struct skd_worker *w, const struct skd_store_request *r, time_t *lease,
    int *transient)
{
	time_t now = time(NULL);
	enum skd_store_err e;
	int ok;

	*transient = 0;
	*lease = now + w->lease;
	if (strcmp(r->state, "pending") == 0) {
		ok = skd_store_claim_request_counted(w->s, r->id, w->id,
		    *lease, r->attempts);
	} else if (strcmp(r->state, "claimed") == 0 ||
	    strcmp(r->state, "journaled") == 0) {
		if (r->claim_owner == NULL || r->lease_until > now)
			return 0;	/* someone holds it */
		ok = skd_store_reclaim_request_counted(w->s, r->id,
		    r->claim_owner, r->lease_until, w->id, *lease, now,
		    r->attempts);
		if (ok) {
			skd_worker_logf(SKD_WLOG_NOTICE, r->id,
			    "took over from %s (lease ended)", r->claim_owner);
		}
	} else {
		return 0;	/* done or failed */
	}
	if (ok)
		return 1;
	e = skd_store_error(w->s);
	if (e == SKD_STORE_ERR_CONFLICT || e == SKD_STORE_ERR_NOT_FOUND) {
		w->stats.lost++;
		skd_worker_logf(SKD_WLOG_DEBUG, r->id, "another worker has it");
		return 0;
	}
	*transient = 1;
	skd_worker_logf(SKD_WLOG_WARNING, r->id, "claim: %s",
	    skd_store_errmsg(w->s));
	return 0;
}

/*
 * give_up ends request r, which has had its last attempt, with an answer
 * (docs/architecture.md, "Every request ends with an answer"): the signed
 * failure of skd_engine_give_up, published under the request id before
 * the request is finished.  Exactly once: an answer already there (this
 * path run by a worker killed before finishing, or another writer) is
 * kept as it is, never a second one; the store's publish refuses to
 * overwrite one (_EXISTS).  With no_answer (two give-ups already died
 * without publishing) no answer is built: the request ends with its state
 * and error.  Returns what finish returns, zero to retry after the lease.
 */
static int
give_up(struct skd_worker *w, const struct skd_store_request *r,
    const char *why, int no_answer)
{
	struct skd_store_blob *m = NULL;
	SKD_ENG_OUTCOME *o = NULL;
	size_t n = 0;
	int have;

	have = skd_store_read_response(w->s, &m, &n, r->id) && n > 0;
	skd_store_blobs_free(m, n);
	if (!have && skd_store_error(w->s) != SKD_STORE_ERR_NOT_FOUND &&
	    skd_store_error(w->s) != SKD_STORE_OK) {
		skd_worker_logf(SKD_WLOG_WARNING, r->id, "reading the answer: "
		    "%s", skd_store_errmsg(w->s));
		return 0;
	}
	if (!have && no_answer) {
		/* Two give-ups died before publishing: building the answer
		 * (which walks the message) may be what kills workers.  The
		 * state and error say why (docs/directory.md rule 11). */
		skd_worker_logf(SKD_WLOG_WARNING, r->id, "no answer: earlier "
		    "attempts to build it did not finish");
	} else if (!have) {
		if ((o = run_engine(w, r, why)) == NULL) {
			skd_worker_logf(SKD_WLOG_WARNING, r->id, "cannot build "
			    "the failure answer; retry after the lease");
			return 0;
		}
		if (!skd_engine_apply(w->s, o) &&
		    skd_store_error(w->s) != SKD_STORE_ERR_EXISTS) {
			skd_worker_logf(SKD_WLOG_WARNING, r->id, "publishing "
			    "the failure answer: %s; retry after the lease",
			    skd_store_errmsg(w->s));
			SKD_ENG_OUTCOME_free(o);
			ERR_clear_error();
			return 0;
		}
		SKD_ENG_OUTCOME_free(o);
	}
	return finish(w, r->id, why, SKD_WFAIL_ATTEMPTS);
}

int
skd_worker_process_one(struct skd_worker *w, const char *id)
{
	struct skd_store_request *r = NULL;
	SKD_ENG_OUTCOME *o = NULL;
	const char *why;
	char buf[256];
	time_t lease;
	int transient, was_journaled, n, ok = 0;

	clock_gettime(CLOCK_MONOTONIC, &w->taken);
	if (!skd_store_read_request(w->s, &r, id)) {
		if (skd_store_error(w->s) == SKD_STORE_ERR_NOT_FOUND)
			return 1;
		skd_worker_logf(SKD_WLOG_WARNING, id, "read: %s",
		    skd_store_errmsg(w->s));
		return 0;
	}
	if (!take(w, r, &lease, &transient)) {
		ok = !transient;
		goto out;
	}
	was_journaled = strcmp(r->state, "journaled") == 0;
	if ((why = refusal(buf, sizeof(buf), w, r)) != NULL) {
		ok = finish(w, id, why, SKD_WFAIL_REFUSED);
		goto out;
	}
	/* Attempts are counted on the request (skdAttempts), so that a
	 * request that kills or stalls every worker is given up whoever
	 * tries it and however often workers restart; the claim counted
	 * this one in the same write. */
	n = (r->attempts > 0 ? r->attempts : 0) + 1;
	if (n > w->max_attempts) {
		(void)snprintf(buf, sizeof(buf), "gave up after %d attempts",
		    n - 1);
		ok = give_up(w, r, buf, n > w->max_attempts + 2);
		goto out;
	}
	if (was_journaled) {
		/* A worker died after journaling: apply what it decided,
		 * never decide again (new KEKs would be drawn). */
		if ((o = journal_open(w, r)) == NULL) {
			/* Not the GLA's own: nothing of it is applied. */
			skd_worker_logf(SKD_WLOG_WARNING, id, "journal refused: "
			    "not sealed by this GLA for this request and "
			    "message; nothing applied");
			ok = finish(w, id, "journal not written by the GLA for "
			    "this request; nothing applied", SKD_WFAIL_JOURNAL);
			goto out;
		}
		w->stats.replayed++;
		skd_worker_logf(SKD_WLOG_NOTICE, id,
		    "applying the journal of a previous attempt");
	} else {
		if ((o = run_engine(w, r, NULL)) == NULL) {
			skd_worker_logf(SKD_WLOG_WARNING, id,
			    "the engine could not decide; retry after the "
			    "lease");
			goto transient;
		}
		/* The mail transport: a From the signer must match, where
		 * the answers go (mailout.c). */
		n = skd_worker_mail_check(w->s, w->mailout, w->id, r, o, buf,
		    sizeof(buf));
		if (n == 0) {
			ok = finish(w, id, buf, SKD_WFAIL_REFUSED);
			goto out;
		}
		if (n < 0)
			goto lost_or_transient;
		if (!lease_keep(w, id, &lease) || !journal(w, r, o))
			goto lost_or_transient;
	}
	if (!lease_keep(w, id, &lease))
		goto lost_or_transient;
	if (!apply_outcome(w, id, &lease, o)) {
		skd_worker_logf(SKD_WLOG_WARNING, id,
		    "apply: %s; retry after the lease",
		    skd_store_errmsg(w->s));
		ERR_clear_error();
		goto transient;
	}
	log_recovery(id, o);
	why = outcome_failure(buf, sizeof(buf), o);
	ok = finish(w, id, why, SKD_WFAIL_ANSWERED);
	goto out;
 lost_or_transient:
	/* A submitter may delete its own request (skd request cancel):
	 * nothing is left to do for it. */
	if (skd_store_error(w->s) == SKD_STORE_ERR_NOT_FOUND) {
		skd_worker_logf(SKD_WLOG_NOTICE, id, "request withdrawn "
		    "meanwhile: %s", skd_store_errmsg(w->s));
		ok = 1;
		goto out;
	}
	if (skd_store_error(w->s) == SKD_STORE_ERR_CONFLICT) {
		w->stats.lost++;
		skd_worker_logf(SKD_WLOG_NOTICE, id, "claim lost: %s",
		    skd_store_errmsg(w->s));
		ok = 1;
		goto out;
	}
	skd_worker_logf(SKD_WLOG_WARNING, id, "%s; retry after the lease",
	    skd_store_errmsg(w->s));
 transient:
	w->stats.retried++;
	ok = 0;
 out:
	SKD_ENG_OUTCOME_free(o);
	skd_store_request_free(r);
	return ok;
}

/* ---- passes ------------------------------------------------------------- */


static const char *const fail_names[SKD_WFAIL_KINDS] = {
	"answered", "refused", "excess", "attempts", "journal",
};

/* The counters of earlier runs from the status text ("name=N ...");
 * unknown names are ignored. */
static void
status_base(struct skd_worker *w)
{
	struct skd_store_status *st = NULL;
	struct skd_worker_stats *b = &w->base;
	unsigned long v;
	char name[32], *p;
	int k, used;

	w->base_read = 1;
	if (!skd_store_read_status(w->s, &st) || st->text == NULL)
		goto done;
	for (p = st->text; sscanf(p, " %31[a-z.]=%lu%n", name, &v, &used) ==
	    2; p += used) {
		if (strcmp(name, "processed") == 0)
			b->processed = v;
		else if (strcmp(name, "failed") == 0)
			b->failed = v;
		else if (strcmp(name, "replayed") == 0)
			b->replayed = v;
		else if (strcmp(name, "retried") == 0)
			b->retried = v;
		else if (strcmp(name, "rekeys") == 0)
			b->rekeys = v;
		for (k = 0; k < SKD_WFAIL_KINDS; k++) {
			if (strncmp(name, "failed.", 7) == 0 &&
			    strcmp(name + 7, fail_names[k]) == 0)
				b->failed_by[k] = v;
		}
	}
 done:
	skd_store_status_free(st);
}

/* The status entry: state, and the counters of this run added to those
 * of earlier runs, so that they survive restarts. */
static void
write_status_state(struct skd_worker *w, const char *state)
{
	const struct skd_worker_stats *b = &w->base, *c = &w->stats;
	char text[512];
	time_t now = time(NULL);
	size_t n;
	int k;

	if (!w->base_read)
		status_base(w);
	n = (size_t)snprintf(text, sizeof(text), "processed=%lu failed=%lu "
	    "replayed=%lu retried=%lu rekeys=%lu",
	    b->processed + c->processed, b->failed + c->failed,
	    b->replayed + c->replayed, b->retried + c->retried,
	    b->rekeys + c->rekeys);
	for (k = 0; k < SKD_WFAIL_KINDS && n < sizeof(text); k++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    " failed.%s=%lu", fail_names[k],
		    b->failed_by[k] + c->failed_by[k]);
	if (n < sizeof(text))
		(void)snprintf(text + n, sizeof(text) - n, " state=%s", state);
	if (!skd_store_write_status(w->s, w->id, WORKER_VERSION, now, text))
		skd_worker_logf(SKD_WLOG_WARNING, NULL, "status: %s",
		    skd_store_errmsg(w->s));
	w->last_status = now;
	w->status_due = 0;
}

static void
write_status(struct skd_worker *w)
{
	write_status_state(w, "running");
}

/* Expired replay-cache entries (and spent rekey slots) go, every five
 * minutes at most: RFC 5275 3.2.4.3 refuses messages that old anyway. */
static void
purge(struct skd_worker *w)
{
	time_t now = time(NULL);
	size_t n = 0;

	if (now - w->last_purge < 300)
		return;
	w->last_purge = now;
	(void)skd_worker_retention_run(w, NULL);
	if (!skd_store_purge_replay(w->s, &n, now))
		skd_worker_logf(SKD_WLOG_WARNING, NULL, "replay purge: %s",
		    skd_store_errmsg(w->s));
	else if (n > 0)
		skd_worker_logf(SKD_WLOG_DEBUG, NULL, "purged %zu replay "
		    "entries", n);
}

/* The GLs with a key near its notAfter, gathered before any is rekeyed:
 * the rekey's own searches would end the paged search on the same
 * connection. */
struct gl_names {
	char	**v;
	size_t	  n, cap;
	int	  failed;
};

static int
gl_names_cb(void *arg, const char *name, const char *key_id, time_t nb,
    time_t na)
{
	struct gl_names *g = arg;
	char **nv;
	size_t i;

	(void)key_id;
	(void)nb;
	(void)na;
	for (i = 0; i < g->n; i++) {
		if (strcmp(g->v[i], name) == 0)
			return 0;
	}
	if (g->n == g->cap) {
		size_t cap = g->cap == 0 ? 64 : g->cap * 2;

		if ((nv = reallocarray(g->v, cap, sizeof(*nv))) == NULL) {
			g->failed = 1;
			return 1;
		}
		g->v = nv;
		g->cap = cap;
	}
	if ((g->v[g->n] = strdup(name)) == NULL) {
		g->failed = 1;
		return 1;
	}
	g->n++;
	return 0;
}

static int drain(struct skd_worker *w, size_t *out_n);

/*
 * RFC 5275 4.5.2 for every GL in the directory with a key near its
 * notAfter (whoever created it, whichever worker processed its requests):
 * one search of the keys' shard 0 by skdNotAfter, no message read, so
 * that a pass costs what is due rather than the directory's size.  Keys
 * that ended long ago (a GL no rekey could help, or one rekeyed since)
 * are looked at in a full pass at start-up and once an hour; the passes
 * between look back twice rekey_before.  Between two GLs' rekeys the
 * pending requests are processed, so that a pass delays a request by one
 * rekey at most.
 */
static void
run_schedule(struct skd_worker *w)
{
	struct gl_names g = { NULL, 0, 0, 0 };
	time_t now = worker_now(w), real = time(NULL), from;
	size_t i;

	if (w->rekey_before <= 0)
		return;
	from = now - 2 * w->rekey_before;
	if (w->last_full_schedule == 0 ||
	    real - w->last_full_schedule >= 3600) {
		from = 0;
		w->last_full_schedule = real;
	}
	if (!skd_store_find_due_glkeys(w->s, from, now + w->rekey_before,
	    gl_names_cb, &g) || g.failed) {
		skd_worker_logf(SKD_WLOG_WARNING, NULL, "rekey schedule: %s",
		    g.failed ? "out of memory" : skd_store_errmsg(w->s));
		goto out;
	}
	for (i = 0; i < g.n && !worker_stop_flag; i++) {
		int done = 0;

		if (w->schedule_hook != NULL)
			w->schedule_hook(w->schedule_hook_arg, g.v[i]);
		(void)skd_worker_rekey_due(w, &done, g.v[i]);
		/* Requests that came meanwhile wait for one GL's rekey at
		 * most, not for the whole pass. */
		if (done && i + 1 < g.n)
			(void)drain(w, NULL);
	}
 out:
	for (i = 0; i < g.n; i++)
		free(g.v[i]);
	free(g.v);
}

/* ---- retention ---------------------------------------------------------- */

struct finished_batch {
	char	ids[WORKER_RETENTION_BATCH][SKD_STORE_ID_LEN];
	size_t	n;
};

static int
finished_cb(void *arg, const char *id, const char *state)
{
	struct finished_batch *b = arg;

	(void)state;
	if (strlen(id) >= SKD_STORE_ID_LEN)
		return 0;
	memcpy(b->ids[b->n++], id, strlen(id) + 1);
	return b->n == WORKER_RETENTION_BATCH;
}

int
skd_worker_retention_run(struct skd_worker *w, size_t *out_n)
{
	struct finished_batch *b = NULL;
	time_t before;
	size_t i, gone = 0;
	int ok = 0;

	if (out_n != NULL)
		*out_n = 0;
	if (w->retention_days < 0)
		return 1;
	if ((b = malloc(sizeof(*b))) == NULL)
		return 0;
	before = worker_now(w) - (time_t)w->retention_days * 86400;
	for (;;) {
		b->n = 0;
		if (!skd_store_list_finished(w->s, finished_cb, b, before,
		    WORKER_RETENTION_BATCH) && b->n == 0) {
			skd_worker_logf(SKD_WLOG_WARNING, NULL,
			    "retention: %s", skd_store_errmsg(w->s));
			goto err;
		}
		if (b->n == 0)
			break;
		for (i = 0; i < b->n; i++) {
			/* The response first: a request left behind by a
			 * crash is found again next time, a response
			 * alone would not be. */
			if ((!skd_store_delete_response(w->s, b->ids[i]) &&
			    skd_store_error(w->s) != SKD_STORE_ERR_NOT_FOUND) ||
			    (!skd_store_delete_request(w->s, b->ids[i]) &&
			    skd_store_error(w->s) != SKD_STORE_ERR_NOT_FOUND)) {
				skd_worker_logf(SKD_WLOG_WARNING, b->ids[i],
				    "retention: %s", skd_store_errmsg(w->s));
				goto err;
			}
			gone++;
		}
		if (b->n < WORKER_RETENTION_BATCH)
			break;
	}
	if (gone > 0)
		skd_worker_logf(SKD_WLOG_INFO, NULL, "retention: deleted %zu "
		    "finished requests older than %ld days", gone,
		    w->retention_days);
	ok = 1;
 err:
	free(b);
	if (out_n != NULL)
		*out_n = gone;
	return ok;
}

/* ---- status ------------------------------------------------------------- */

struct backlog {
	size_t	pending;
	size_t	expired;
};

static int
backlog_cb(void *arg, const char *id, const char *state)
{
	struct backlog *b = arg;

	(void)id;
	if (strcmp(state, "pending") == 0)
		b->pending++;
	else
		b->expired++;
	return 0;
}

int
skd_worker_status_get(struct skd_worker_status *out, struct skd_store *s,
    time_t now)
{
	struct backlog b = { 0, 0 };
	const char *p;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!skd_store_list_pending(s, backlog_cb, &b, now, 500))
		return 0;
	out->pending = b.pending;
	out->expired = b.expired;
	if (!skd_store_read_status(s, &out->st))
		return 0;
	/* "state=<word>" ends the text a worker writes. */
	(void)snprintf(out->state, sizeof(out->state), "%s",
	    out->st->heartbeat == 0 ? "none" : "unknown");
	if (out->st->text != NULL &&
	    (p = strstr(out->st->text, " state=")) != NULL) {
		p += 7;
		n = strcspn(p, " ");
		if (n < sizeof(out->state)) {
			memcpy(out->state, p, n);
			out->state[n] = '\0';
		}
	}
	return 1;
}

int
skd_worker_status_print(FILE *out, struct skd_store *s, time_t now)
{
	struct skd_worker_status ws;
	const struct skd_store_status *st;
	char t[16];
	int ok = 0;

	if (!skd_worker_status_get(&ws, s, now))
		goto err;
	st = ws.st;
	fprintf(out, "pending: %zu\n", ws.pending);
	fprintf(out, "expired claims: %zu\n", ws.expired);
	if (st->heartbeat == 0) {
		fprintf(out, "heartbeat: none (no worker has run)\n");
	} else {
		skd_store_time_str(t, st->heartbeat);
		fprintf(out, "heartbeat: %s (%lld s ago)\n", t,
		    (long long)(now - st->heartbeat));
	}
	fprintf(out, "state: %s%s\n", ws.state, strcmp(ws.state,
	    "stopped") == 0 ? " (stopped cleanly)" : "");
	fprintf(out, "worker: %s\n", st->worker_id != NULL ? st->worker_id :
	    "-");
	fprintf(out, "version: %s\n", st->version != NULL ? st->version :
	    "-");
	fprintf(out, "counters: %s\n", st->text != NULL ? st->text : "-");
	ok = 1;
 err:
	skd_store_status_free(ws.st);
	return ok;
}

/*
 * Fair scheduling (docs/architecture.md, "Fair scheduling").  A listing
 * takes up to WORKER_QUEUE_MAX requests that could be taken, each with the
 * identity that added it (creatorsName: slapd writes it, the submitter
 * cannot) and when.  Requests are then served round-robin across those
 * identities, so one person's flood delays another's request by at most
 * one request per flooding identity per round.  Of one identity's pending
 * requests the oldest max_pending_per_submitter are processed; the others
 * are failed without being decoded, one per turn of that identity (the
 * excess is always the newest, so relisting does not change it).  The
 * queue is listed again when the listing runs out, or once
 * WORKER_RELIST_MS have passed, or WORKER_RELIST_COST times what the
 * listing took when that is longer, so that a request added meanwhile
 * waits at most that long and a deep queue's listing stays a bounded
 * share of the work (issue 14).  The loops of one process (in_flight)
 * share one listing, handed out in turn order (busy.c).
 */
struct qitem {
	char	 id[SKD_STORE_ID_LEN];
	char	*creator;	/* "" when the directory gave none */
	time_t	 created;
	int	 pending;
	int	 excess;	/* pending beyond max_pending_per_submitter */
};

struct queue {
	struct qitem	*v;
	size_t		 n, cap;
};

static void
queue_clear(struct queue *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		free(q->v[i].creator);
	free(q->v);
	memset(q, 0, sizeof(*q));
}

static int
queue_cb(void *arg, const struct skd_store_queued *e)
{
	struct queue *q = arg;
	struct qitem *it, *nv;
	size_t cap;

	if (strlen(e->id) >= SKD_STORE_ID_LEN)
		return 0;
	if (q->n == q->cap) {
		cap = q->cap == 0 ? 64 : q->cap * 2;
		if ((nv = realloc(q->v, cap * sizeof(*nv))) == NULL)
			return 1;	/* serve what was listed */
		q->v = nv;
		q->cap = cap;
	}
	it = &q->v[q->n];
	memcpy(it->id, e->id, strlen(e->id) + 1);
	if ((it->creator = strdup(e->creator != NULL ? e->creator : "")) ==
	    NULL)
		return 1;
	it->created = e->created;
	it->pending = strcmp(e->state, "pending") == 0;
	q->n++;
	return q->n == WORKER_QUEUE_MAX;
}

/* By identity, then oldest first (the id breaks ties). */
static int
qitem_cmp(const void *pa, const void *pb)
{
	const struct qitem *a = pa, *b = pb;
	int c;

	if ((c = strcmp(a->creator, b->creator)) != 0)
		return c;
	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* Excess first (they cost one write each), then the rest oldest first. */
static int
qitem_turn_cmp(const void *pa, const void *pb)
{
	const struct qitem *a = pa, *b = pb;
	int c;

	if ((c = strcmp(a->creator, b->creator)) != 0)
		return c;
	if (a->excess != b->excess)
		return a->excess ? -1 : 1;
	return qitem_cmp(pa, pb);
}

/*
 * fail_excess claims the request and fails it unread: its submitter has
 * more pending requests than max_pending_per_submitter.
 */
static void
fail_excess(struct skd_worker *w, const struct skd_worker_item *it)
{
	char why[256];

	if (!skd_store_claim_request(w->s, it->id, w->id,
	    time(NULL) + w->lease))
		return;		/* another worker has it, or it is gone */
	(void)snprintf(why, sizeof(why), "over the limit of %ld pending "
	    "requests per submitter (max_pending_per_submitter); not "
	    "processed: submit it again later", w->max_pending);
	(void)finish(w, it->id, why, SKD_WFAIL_EXCESS);
}

/* A listing in turn order; *out_ngroups identities, their first items at
 * out_starts (caller frees).  Returns zero when out of memory. */
static int
queue_order(struct queue *q, long max_pending, size_t **out_starts,
    size_t *out_ngroups)
{
	size_t i, j, ng = 0, *st;
	long pending;

	*out_starts = NULL;
	*out_ngroups = 0;
	qsort(q->v, q->n, sizeof(*q->v), qitem_cmp);
	if ((st = calloc(q->n + 1, sizeof(*st))) == NULL)
		return 0;
	for (i = 0; i < q->n; i = j) {
		st[ng++] = i;
		pending = 0;
		for (j = i; j < q->n && strcmp(q->v[j].creator,
		    q->v[i].creator) == 0; j++)
			q->v[j].excess = q->v[j].pending &&
			    ++pending > max_pending;
	}
	st[ng] = q->n;
	qsort(q->v, q->n, sizeof(*q->v), qitem_turn_cmp);
	*out_starts = st;
	*out_ngroups = ng;
	return 1;
}

/* The listing in turn order, as the loops hand it out (busy.c): the
 * first request of each identity, then the second of each, and so on.
 * NULL when out of memory. */
static struct skd_worker_item *
queue_items(struct queue *q, const size_t *starts, size_t ng)
{
	struct skd_worker_item *v;
	size_t g, round, k, n = 0;
	int more;

	if ((v = calloc(q->n > 0 ? q->n : 1, sizeof(*v))) == NULL)
		return NULL;
	for (round = 0, more = 1; more; round++) {
		more = 0;
		for (g = 0; g < ng; g++) {
			k = starts[g] + round;
			if (k >= starts[g + 1])
				continue;
			more = 1;
			memcpy(v[n].id, q->v[k].id, sizeof(v[n].id));
			v[n++].excess = q->v[k].excess;
		}
	}
	return v;
}

/* Lists the queue for every loop of this worker; zero when the directory
 * could not be listed (or out of memory). */
static int
list_for_all(struct skd_worker *w)
{
	struct queue q = { NULL, 0, 0 };
	struct skd_worker_item *items = NULL;
	size_t *starts = NULL, ng = 0;
	long listed, relist;
	int ok = 0;

	listed = skd_store_mono_ms();
	if (!skd_store_list_queue(w->s, queue_cb, &q, time(NULL),
	    WORKER_BATCH) && q.n == 0) {
		skd_worker_logf(SKD_WLOG_WARNING, NULL, "listing: %s",
		    skd_store_errmsg(w->s));
		goto err;
	}
	/* An empty listing is installed too: it tells the loops that
	 * nothing waits (qsort may not be given NULL). */
	if ((q.n > 0 && !queue_order(&q, w->max_pending, &starts, &ng)) ||
	    (items = queue_items(&q, starts, ng)) == NULL)
		goto err;
	/* A deep queue is listed less often: listing costs at most a
	 * WORKER_RELIST_COST-th of the loops' time, however many requests
	 * wait (a request costs what it names). */
	relist = WORKER_RELIST_COST * (skd_store_mono_ms() - listed);
	if (relist < WORKER_RELIST_MS)
		relist = WORKER_RELIST_MS;
	skd_worker_busy_listed(w->busy, items, q.n, listed, relist);
	items = NULL;
	ok = 1;
 err:
	if (!ok)
		skd_worker_busy_unlisted(w->busy);
	free(items);
	free(starts);
	queue_clear(&q);
	return ok;
}

/*
 * Requests from the listing the loops share until nothing is left that
 * this loop could finish (skd_worker_busy_next); returns zero when the
 * directory could not be listed.
 */
static int
drain(struct skd_worker *w, size_t *out_n)
{
	struct skd_worker_item it;
	size_t total = 0;
	unsigned long before;
	long since = skd_store_mono_ms();
	int r, finished, ok = 0;

	while (!worker_stop_flag) {
		r = skd_worker_busy_next(w->busy, w->slot, since, skd_store_mono_ms(),
		    &it);
		if (r == SKD_WORKER_NEXT_IDLE)
			break;
		if (r == SKD_WORKER_NEXT_LIST) {
			if (!list_for_all(w))
				goto err;
			continue;
		}
		before = w->stats.processed + w->stats.failed;
		if (it.excess)
			fail_excess(w, &it);
		else
			(void)skd_worker_process_one(w, it.id);
		finished = w->stats.processed + w->stats.failed != before;
		total += (size_t)finished;
		skd_worker_busy_done(w->busy, w->slot, finished, skd_store_mono_ms());
	}
	ok = 1;
 err:
	if (out_n != NULL)
		*out_n = total;
	return ok;
}

int
skd_worker_run_once(struct skd_worker *w, size_t *out_n)
{
	size_t n = 0;
	int ok;

	ok = drain(w, &n);
	(void)skd_worker_mailout_run(w->s, w->mailout, NULL);
	run_schedule(w);
	purge(w);
	write_status(w);
	ERR_clear_error();
	if (out_n != NULL)
		*out_n = n;
	return ok;
}

/* ---- the GLA-initiated rekey schedule ----------------------------------- */

/*
 * RFC 5275 4.5.2: for a GL whose keys the GLA controls, the GLA sends new
 * keys before the outstanding ones run out.  Of several workers exactly one
 * runs a given GL's rekey in a given slot (lease_seconds long): the slot is
 * won by adding a replay-cache entry named after the GL and the slot (the
 * store's atomic add, the same test-and-set the replay check uses).  A
 * worker that dies holding a slot leaves the GL due, and the next slot's
 * winner rekeys it.  The GL is due when its newest key ends within
 * rekey_before and has lived at least half its life: a short key (a
 * duration-0 key near the end of a month) is then not replaced again and
 * again.
 */
int
skd_worker_rekey_due(struct skd_worker *w, int *out_done,
    const char *gl_name)
{
	struct skd_store_gl *gl = NULL;
	struct skd_store_glkey *keys = NULL;
	SKD_ENG_OUTCOME *o = NULL;
	struct skd_engine_env env;
	unsigned char md[32];
	unsigned int md_len = 0;
	char slot_key[128];
	time_t now = worker_now(w), last_na = 0, last_nb = 0, slot;
	size_t n = 0, i;
	int ok = 0;

	if (out_done != NULL)
		*out_done = 0;
	if (!skd_store_read_gl(w->s, &gl, gl_name)) {
		ok = skd_store_error(w->s) == SKD_STORE_ERR_NOT_FOUND;
		goto err;
	}
	if (gl->rekey_by_glo || (gl->state != NULL &&
	    strcmp(gl->state, "deleted") == 0)) {
		ok = 1;
		goto err;
	}
	/* The GL's keys still valid (one record each, no message); when
	 * none is, every key it ever had (one each). */
	if (!skd_store_find_current_glkeys(w->s, &keys, &n, gl_name, now))
		goto err;
	if (n == 0 && !skd_store_find_current_glkeys(w->s, &keys, &n,
	    gl_name, 0))
		goto err;
	/* The newest key (latest notBefore) is the one that must not run
	 * out. */
	for (i = 0; i < n; i++) {
		if (keys[i].not_before > last_nb ||
		    (keys[i].not_before == last_nb &&
		    keys[i].not_after > last_na)) {
			last_nb = keys[i].not_before;
			last_na = keys[i].not_after;
		}
	}
	if (n == 0 || last_na > now + w->rekey_before ||
	    (now - last_nb) * 2 < last_na - last_nb) {
		ok = 1;
		goto err;
	}
	slot = now / w->lease;
	if (!EVP_Digest(gl_name, strlen(gl_name), md, &md_len, EVP_sha256(),
	    NULL))
		goto err;
	(void)snprintf(slot_key, sizeof(slot_key), "rekey-%lld-", (long long)slot);
	for (i = 0; i < 16; i++) {
		(void)snprintf(slot_key + strlen(slot_key), 3, "%02x", md[i]);
	}
	if (!skd_store_add_replay(w->s, slot_key, (slot + 2) * w->lease)) {
		/* Another worker has this slot. */
		ok = skd_store_error(w->s) == SKD_STORE_ERR_EXISTS;
		goto err;
	}
	memset(&env, 0, sizeof(env));
	env.now = now;
	if (!skd_engine_rekey(&o, &w->ecfg, &env, &w->est, gl_name)) {
		skd_worker_logf(SKD_WLOG_ERR, NULL, "rekey of %s failed",
		    gl_name);
		goto err;
	}
	if (!apply_outcome(w, NULL, NULL, o)) {
		skd_worker_logf(SKD_WLOG_ERR, NULL, "rekey of %s: apply: %s",
		    gl_name, skd_store_errmsg(w->s));
		goto err;
	}
	w->stats.rekeys++;
	skd_worker_logf(SKD_WLOG_INFO, NULL, "GLA-initiated rekey of %s "
	    "(RFC 5275 4.5.2)", gl_name);
	if (out_done != NULL)
		*out_done = 1;
	ok = 1;
 err:
	ERR_clear_error();
	SKD_ENG_OUTCOME_free(o);
	skd_store_glkey_list_free(keys, n);
	skd_store_gl_free(gl);
	return ok;
}

/* ---- the service loop --------------------------------------------------- */

static void
watch_cb(void *arg, const char *dn)
{
	struct skd_worker *first = arg;

	(void)dn;
	/* A report means "look again": the listing decides what is to be
	 * done, so nothing is missed when reports are coalesced. */
	first->watch_hit = 1;
}

static void
nap(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	/* A signal ends the nap early: SIGTERM is then seen at once. */
	(void)nanosleep(&ts, NULL);
}

/*
 * Waits for something to do, setting w->dirty when there is something to
 * look at.  Of the loops of a process one polls the watch of the queue
 * (without one: naps poll_interval) and the others wait for what it
 * finds (busy.c), each at most a second, so that the stop and reload
 * flags are read between waits (libldap goes on waiting after EINTR).
 * One persistent search a process, not one a loop: slapd reports each
 * new request once.
 */
static void
wait_work(struct skd_worker *w)
{
	struct skd_worker *f = w->first;
	time_t now;
	int found = 0;

	if (!w->use_watch || f->watch_s == NULL) {
		nap(w->poll_ms);
		w->dirty = 1;
		return;
	}
	switch (skd_worker_busy_watch(w->busy, &w->watch_seen, 1000)) {
	case SKD_WORKER_WATCH_REPORTED:
		w->dirty = 1;
		return;
	case SKD_WORKER_WATCH_TIMEOUT:
		return;
	default:
		break;		/* this loop polls, until watch_done */
	}
	now = time(NULL);
	if (f->watch == NULL && now - f->watch_tried >= 1) {
		f->watch_tried = now;
		f->watch = skd_store_watch_open(f->watch_s,
		    SKD_STORE_WATCH_REQUESTS, watch_cb, f);
		if (f->watch == NULL)
			skd_worker_logf(SKD_WLOG_WARNING, NULL,
			    "persistent search unavailable (%s); polling",
			    skd_store_errmsg(f->watch_s));
		else
			found = 1;
	}
	if (f->watch != NULL) {
		f->watch_hit = 0;
		if (!skd_store_watch_poll(f->watch, NULL, 1)) {
			skd_worker_logf(SKD_WLOG_WARNING, NULL,
			    "persistent search lost: %s",
			    skd_store_errmsg(f->watch_s));
			skd_store_watch_close(f->watch);
			f->watch = NULL;
			nap(w->poll_ms < 1000 ? w->poll_ms : 1000);
			found = 1;
		} else if (f->watch_hit) {
			found = 1;
		}
	} else {
		nap(w->poll_ms);
		found = 1;
	}
	skd_worker_busy_watch_done(w->busy, &w->watch_seen, found);
	if (found)
		w->dirty = 1;
}

static int
worker_loop1(struct skd_worker *w, int (*reload)(void *arg,
    struct skd_worker *w), void *arg)
{
	time_t now, last_pass = 0;

	skd_worker_logf(SKD_WLOG_NOTICE, NULL, "worker %s starting", w->id);
	/* Requests pending at start-up first. */
	(void)skd_worker_run_once(w, NULL);
	last_pass = time(NULL);
	while (!worker_stop_flag) {
		if (w->hup_seen != worker_hup_count) {
			w->hup_seen = worker_hup_count;
			skd_worker_logf(SKD_WLOG_NOTICE, NULL, "reloading");
			if (reload != NULL && !reload(arg, w))
				skd_worker_logf(SKD_WLOG_ERR, NULL,
				    "reload failed; keeping the old "
				    "configuration");
		}
		wait_work(w);
		if (worker_stop_flag)
			break;
		now = time(NULL);
		/* Expired leases are not reported by the watch: list every
		 * half lease anyway. */
		if (w->dirty || now - last_pass >= w->lease / 2) {
			size_t done = 0;

			w->dirty = 0;
			(void)drain(w, &done);
			last_pass = now;
			if (done > 0)
				w->status_due = 1;
		}
		/* Fresh counters after work (skd status), about a second
		 * late at most: one write of cn=gla's entry a second, not one
		 * after every pass (a write more for each request that came
		 * alone).  The loop comes round within a second with the
		 * watch; polling passes a second or more apart write at
		 * once, closer ones come round as often. */
		if (w->status_due && time(NULL) - w->last_status >= 1)
			write_status(w);
		(void)skd_worker_mailout_run(w->s, w->mailout, NULL);
		if (now - w->last_status >= (w->lease / 2 > 0 ? w->lease / 2 :
		    1)) {
			run_schedule(w);
			purge(w);
			write_status(w);
		}
		ERR_clear_error();
	}
	write_status_state(w, "stopped");
	skd_worker_logf(SKD_WLOG_NOTICE, NULL, "worker %s stopped "
	    "(processed %lu, failed %lu)", w->id, w->stats.processed,
	    w->stats.failed);
	return 1;
}

/* Each loop (a worker and its siblings, in_flight) decodes requests in a
 * library context of its own: OpenSSL 3.0 serialises threads that decode
 * certificates in one (skd_thread_libctx). */
static int
worker_loop(struct skd_worker *w, int (*reload)(void *arg,
    struct skd_worker *w), void *arg)
{
	int ok;

	skd_thread_libctx_enter();
	ok = worker_loop1(w, reload, arg);
	skd_thread_libctx_leave();
	return ok;
}

/* in_flight: a sibling's loop on a thread of its own. */
struct sib_run {
	struct skd_worker	*w;
	int			(*reload)(void *arg, struct skd_worker *w);
	void			*arg;
	pthread_t		 t;
	int			 started;
	int			 ok;
};

static void *
sib_main(void *p)
{
	struct sib_run *r = p;

	r->ok = worker_loop(r->w, r->reload, r->arg);
	ERR_clear_error();
	return NULL;
}

int
skd_worker_run(struct skd_worker *w, int (*reload)(void *arg,
    struct skd_worker *w), void *arg)
{
	struct sib_run *runs = NULL;
	sigset_t all, old;
	size_t i;
	int ok;

	if (w->n_sib == 0)
		return worker_loop(w, reload, arg);
	if ((runs = calloc(w->n_sib, sizeof(*runs))) == NULL) {
		skd_worker_logf(SKD_WLOG_ERR, NULL, "out of memory");
		return 0;
	}
	/* The siblings take no signal: SIGTERM and SIGHUP interrupt this
	 * thread's wait, and every loop sees the flags within a second. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < w->n_sib; i++) {
		runs[i].w = w->sib[i];
		runs[i].reload = reload;
		runs[i].arg = arg;
		runs[i].started = pthread_create(&runs[i].t, NULL, sib_main,
		    &runs[i]) == 0;
		if (!runs[i].started)
			skd_worker_logf(SKD_WLOG_ERR, NULL, "worker %s: "
			    "cannot start its thread", w->sib[i]->id);
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	ok = worker_loop(w, reload, arg);
	for (i = 0; i < w->n_sib; i++) {
		if (!runs[i].started) {
			ok = 0;
			continue;
		}
		(void)pthread_join(runs[i].t, NULL);
		ok = ok && runs[i].ok;
	}
	free(runs);
	return ok;
}
