/*
 * skd_worker.h: the GLA worker: claim -> process -> journal -> apply ->
 * finish, for every request in the directory's request container, exactly
 * once (DESIGN.md "Exactly once"), and the GLA-initiated rekey schedule
 * (RFC 5275 4.5.2).
 *
 * The worker knows the store and the engine by their public headers only;
 * it does no DER and no LDAP of its own.  One worker is one store session
 * (plus one watch connection) used from one thread.
 *
 * Per request (its id as listed by skd_store_list_pending or reported by
 * the watch):
 *   1. pending: skd_store_claim_request with a lease of lease_seconds; a
 *      claimed or journaled request whose lease ran out (its worker died):
 *      skd_store_reclaim_request.  Losing either race means another worker
 *      has it: skip.
 *   2. journaled: decode the journal and go to 4 (never re-process: new
 *      KEKs would be drawn).
 *   3. claimed: skd_engine_process, then skd_store_journal_request (fails
 *      if the claim was lost meanwhile: the outcome is dropped).
 *   4. skd_engine_apply (idempotent), then skd_store_finish_request: done,
 *      or failed with a text when the message as a whole was refused
 *      (unparsable, unverifiable, replayed).
 * The lease is renewed between steps once half of it has gone.  A
 * transient failure (engine could not decide, directory unavailable)
 * leaves the claim to expire; the next attempt comes after the lease.
 * Every claim or take-over counts one attempt on the request itself
 * (skd_store_bump_attempts, skdAttempts, under the claim); a request
 * claimed more than max_attempts times is finished as failed ("gave up
 * after N attempts"), whichever workers tried it.
 *
 * Member acknowledgements (RFC 5275 5.1 2.c) find their GL with
 * skd_store_find_key_gl; the rekey schedule walks every active GL of the
 * directory (skd_store_list_gls); retention (retention = N days) deletes
 * finished requests and their responses N days after they finished.
 */
#ifndef SKD_WORKER_H
#define SKD_WORKER_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <openssl/evp.h>

#include "engine/skd_engine.h"
#include "store/skd_store.h"

/* ---- config.c ----------------------------------------------------------- */

enum skd_worker_log {
	SKD_WORKER_LOG_STDERR = 0,
	SKD_WORKER_LOG_SYSLOG
};

/* Log levels, in the order of syslog's. */
enum skd_worker_level {
	SKD_WLOG_ERR = 3,
	SKD_WLOG_WARNING = 4,
	SKD_WLOG_NOTICE = 5,
	SKD_WLOG_INFO = 6,
	SKD_WLOG_DEBUG = 7
};

/* Defaults for keys the file leaves out. */
#define SKD_WORKER_DEFAULT_LEASE	60	/* seconds */
#define SKD_WORKER_DEFAULT_POLL_MS	1000
#define SKD_WORKER_DEFAULT_ATTEMPTS	5
#define SKD_WORKER_DEFAULT_REKEY_BEFORE	86400	/* one day */
#define SKD_WORKER_DEFAULT_MAX_MESSAGE	(2L * 1024 * 1024) /* bytes */
#define SKD_WORKER_DEFAULT_MAX_PENDING	100	/* per submitter */

/*
 * The configuration file: one "key = value" per line, '#' starts a
 * comment line, blank lines are ignored.  Keys: see docs/man/skd-gla.8.
 * Strings are owned by the struct and freed by skd_worker_config_free.
 */
struct skd_worker_config {
	char			*path;		/* the file it came from */
	char			*ldap_uri;
	enum skd_store_bind	 bind;
	char			*bind_dn;
	char			*bind_password_file;
	enum skd_store_tls	 tls;		/* default: ldaps for ldaps:// */
	int			 tls_set;	/* tls given in the file */
	char			*tls_ca_file;	/* required with tls */
	char			*base_dn;
	char			*gla_cert;
	char			*gla_key;
	char			*gla_chain;	/* optional */
	char			*issuer_cert;	/* optional, with issuer_key */
	char			*issuer_key;
	char			*ca_file;
	char			*crl_file;	/* optional */
	long			 time_window;	/* seconds; 0: engine default */
	char			*worker_id;	/* NULL: host:pid:uuid */
	long			 shard_size;	/* 0: engine default */
	long			 threads;	/* rekey threads; 0: one per CPU */
	long			 in_flight;	/* requests at once, each on
					   its own connection; 0: 1 */
	long			 key_cache_entries; /* decoded member
					   certificates kept; 0: default */
	long			 lease_seconds;
	long			 poll_interval_ms;
	enum skd_worker_level	 log_level;
	enum skd_worker_log	 log;
	long			 retention_days; /* -1: keep done requests */
	long			 rekey_before;	/* seconds; 0: no schedule */
	long			 max_attempts;
	int			 watch;		/* 0: poll only */
	int			 kekri_rollover; /* RFC 5275 5; default 0 */
	char			*journal_key_file; /* NULL: derived, journal.c */
	long			 max_message_size; /* 0: default */
	long			 max_pending_per_submitter; /* 0: default */
	/* Mail transport (mailout.c; skd-gla(8) "MAIL"): mail goes out
	 * only when mail_from is set, through mail_relay (smtp:// or
	 * smtps://) or else the sendmail(8) interface. */
	char			*mail_from;
	char			*mail_relay;
	int			 mail_starttls;
	char			*mail_ca_file;
	char			*mail_user;
	char			*mail_password_file;
	char			*mail_sendmail;	/* NULL: /usr/sbin/sendmail */
	long			 mail_max_size;	/* mail-in; 0: 10 MiB */
	long			 mail_retry_seconds; /* first backoff; 0: 60 */
	long			 mail_max_attempts; /* 0: 10 */
	long			 mail_timeout;	/* one submission, s; 0: 60 */
	char			*mail_answers;	/* all (NULL) or mail-origin */
	char			*mail_catch_up;	/* yes (NULL) or no */
	/* CMC server-side key generation (docs/keygen.md): the keygen CA,
	 * separate from the per-GL issuer; unset: not offered. */
	char			*keygen_ca_cert;	/* with keygen_ca_key */
	char			*keygen_ca_key;
	char			*keygen_chain;		/* optional */
	long			 keygen_days;		/* 0: 365 */
	char			*keygen_recovery_cert;	/* archive; optional */
	/* Key recovery: the recovery certificate's key (with
	 * keygen_recovery_cert) and the PEM file of the officers'
	 * certificates; both or neither. */
	char			*keygen_recovery_key;
	char			*keygen_recovery_officers;
	/* Proof of possession (draft 8) before an issued certificate is
	 * published: "required" or "none" (default). */
	char			*keygen_pop;
	/* RA-involved requests (draft 2.5.2): a PEM file of the RAs'
	 * certificates; without it no forwarded request is accepted. */
	char			*keygen_ras;
	/* The person-entry attribute issued certificates go to:
	 * userCertificate;binary (default), userSMIMECertificate, none. */
	char			*keygen_publish;
};

/*
 * skd_worker_config_load reads the file at path into a new config (caller
 * frees with skd_worker_config_free).  On error returns NULL and writes one
 * line "file:line: message" (or "file: message") into err (err_len bytes).
 * Required keys: ldap_uri, base_dn, gla_cert, gla_key, ca_file, and
 * bind_dn + bind_password_file when bind is simple.
 */
struct skd_worker_config *skd_worker_config_load(char *err, size_t err_len,
    const char *path);
void skd_worker_config_free(struct skd_worker_config *c);

/* ---- journal.c: the authenticated journal ------------------------------- */

#define SKD_WORKER_JOURNAL_KEY_LEN	32

/* At most this many requests in flight in one worker (in_flight). */
#define SKD_WORKER_MAX_IN_FLIGHT	16

/*
 * busy.c: what the loops of one worker (in_flight) are on.  take gives
 * slot the request id unless another slot holds it, or a slot let it go
 * at or after listed_ms (when the caller's listing was made: the listing
 * is stale for it); zero then.  drop lets slot's request go at now_ms.
 * The last SKD_WORKER_BUSY_RING let go are remembered.  A NULL set
 * takes everything.  A shortcut only: the directory's atomic claim
 * decides who processes a request.  The worker takes and lets go through
 * the shared listing below (next, done), which builds on these; take and
 * drop stand alone for their tests.
 */
#define SKD_WORKER_BUSY_RING	256
struct skd_worker_busy;
struct skd_worker_busy *skd_worker_busy_new(size_t slots);
void skd_worker_busy_free(struct skd_worker_busy *b);
int skd_worker_busy_take(struct skd_worker_busy *b, size_t slot,
    const char *id, long listed_ms);
void skd_worker_busy_drop(struct skd_worker_busy *b, size_t slot,
    long now_ms);

/*
 * The listing the loops of one worker share (busy.c).  next gives slot
 * its next request from the listing (_ITEM: *out, taken as take would
 * take it), or tells it to list (_LIST: it is the one loop listing; it
 * then calls listed with what it found, in turn order, or unlisted when
 * the directory could not be listed), or that its pass, begun at
 * since_ms, is over (_IDLE).  A listing is handed out until it runs out
 * or relist_ms have passed since it was made (listed_ms); a loop asking
 * meanwhile waits for the one listing.  done lets slot's request go at
 * now_ms, finished nonzero when it was processed or failed for good.
 * listed takes items over (free).
 */
struct skd_worker_item {
	char	id[SKD_STORE_ID_LEN];
	int	excess;		/* fail unread: over max_pending_per_submitter */
};
enum {
	SKD_WORKER_NEXT_ITEM,
	SKD_WORKER_NEXT_LIST,
	SKD_WORKER_NEXT_IDLE
};
int skd_worker_busy_next(struct skd_worker_busy *b, size_t slot,
    long since_ms, long now_ms, struct skd_worker_item *out);
void skd_worker_busy_listed(struct skd_worker_busy *b,
    struct skd_worker_item *items, size_t n, long listed_ms,
    long relist_ms);
void skd_worker_busy_unlisted(struct skd_worker_busy *b);
void skd_worker_busy_done(struct skd_worker_busy *b, size_t slot,
    int finished, long now_ms);

/*
 * The one watch of the queue the loops of a worker share (busy.c): watch
 * gives a loop with nothing to do the watch to poll (_POLL; it then calls
 * watch_done, reported nonzero when the poll found something) unless
 * another loop holds it; that loop's finds since *seen are then
 * _REPORTED, else after wait_ms _TIMEOUT.  A NULL set: always _POLL.
 */
enum {
	SKD_WORKER_WATCH_POLL,
	SKD_WORKER_WATCH_REPORTED,
	SKD_WORKER_WATCH_TIMEOUT
};
int skd_worker_busy_watch(struct skd_worker_busy *b, unsigned long *seen,
    long wait_ms);
void skd_worker_busy_watch_done(struct skd_worker_busy *b,
    unsigned long *seen, int reported);

/*
 * skd_worker_journal_key derives the journal's MAC key into out: HKDF-
 * SHA256 over the contents of the file at path (at least 32 bytes), or,
 * with path NULL, over the DER of gla_key (borrowed).  Returns one on
 * success, else zero with one line in err.  The caller wipes out.
 */
int skd_worker_journal_key(unsigned char out[SKD_WORKER_JOURNAL_KEY_LEN],
    char *err, size_t err_len, const char *path, EVP_PKEY *gla_key);

/*
 * skd_worker_journal_seal writes into *out (caller frees with
 * OPENSSL_free) the skdJournal value carrying der, bound by an HMAC under
 * key to the request id and to the submitted message msg (journal.c has
 * the format).  Returns one on success.
 */
int skd_worker_journal_seal(unsigned char **out, size_t *out_len,
    const unsigned char key[SKD_WORKER_JOURNAL_KEY_LEN], const char *id,
    const unsigned char *msg, size_t msg_len, const unsigned char *der,
    size_t der_len);

/*
 * skd_worker_journal_open checks that blob is a journal sealed under key
 * for request id and message msg; returns one and points *out_der into
 * blob (borrowed) when it is, zero for anything else (not a journal,
 * another request's, another message's, altered, another key's).
 */
int skd_worker_journal_open(const unsigned char **out_der,
    size_t *out_der_len, const unsigned char key[SKD_WORKER_JOURNAL_KEY_LEN],
    const char *id, const unsigned char *msg, size_t msg_len,
    const unsigned char *blob, size_t blob_len);

/* ---- log.c -------------------------------------------------------------- */

/* skd_worker_log_setup directs skd_worker_logf to stderr or syslog (ident
 * "skd-gla") at level and above.  Borrowed ident, static lifetime. */
void skd_worker_log_setup(enum skd_worker_log where,
    enum skd_worker_level level);

/* skd_worker_logf logs one line "req=<id> <message>" (request_id NULL:
 * "-").  Never pass key material. */
void skd_worker_logf(enum skd_worker_level level, const char *request_id,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- worker.c ----------------------------------------------------------- */

struct skd_worker;

/* Why a request was finished failed (skd status, "failed.<name>"). */
enum skd_worker_fail {
	SKD_WFAIL_ANSWERED = 0,	/* decided: the GLA answered with a failure */
	SKD_WFAIL_REFUSED,	/* unread: size, submitter, not a message */
	SKD_WFAIL_EXCESS,	/* over max_pending_per_submitter */
	SKD_WFAIL_ATTEMPTS,	/* gave up after max_attempts */
	SKD_WFAIL_JOURNAL,	/* a journal not sealed by the GLA */
	SKD_WFAIL_KINDS
};

/* Counters since the worker was created (the status entry adds those
 * of earlier runs: docs/operations.md, "Status"). */
struct skd_worker_stats {
	unsigned long	processed;	/* finished done */
	unsigned long	failed;		/* finished failed */
	unsigned long	failed_by[SKD_WFAIL_KINDS];
	unsigned long	replayed;	/* of those, applied from a journal */
	unsigned long	lost;		/* claims lost to another worker */
	unsigned long	retried;	/* transient failures (left to expire) */
	unsigned long	rekeys;		/* GLA-initiated rekeys applied */
};

/*
 * skd_worker_new loads the keys, certificates, trust anchors and CRLs
 * named by cfg and connects to the directory.  cfg is copied where needed
 * (the caller may free it afterwards).  Returns NULL on error with one line
 * in err.  Free with skd_worker_free (NULL is fine).
 *
 * With in_flight = n > 1 it makes n - 1 siblings as well, each with its
 * own directory connection and claim owner name (the worker's id and
 * "+k"), sharing the key cache: skd_worker_run runs them on threads of
 * their own beside w, so that n requests are in hand at once, claimed and
 * journaled as n workers' would be.
 */
struct skd_worker *skd_worker_new(char *err, size_t err_len,
    const struct skd_worker_config *cfg);
void skd_worker_free(struct skd_worker *w);

/*
 * skd_worker_store_open opens the directory session cfg describes
 * (ldap_uri, bind, bind_dn and the password read from bind_password_file,
 * tls and tls_ca_file, base_dn), as skd_worker_new does; for programs
 * that read the directory with the worker's settings (skd status).
 * Returns NULL on error with one line in err.  The caller frees the
 * session with skd_store_close.
 */
struct skd_store *skd_worker_store_open(char *err, size_t err_len,
    const struct skd_worker_config *cfg);

/* skd_worker_id returns the claim owner name of w (borrowed). */
const char *skd_worker_id(const struct skd_worker *w);

/* skd_worker_stats copies w's counters into *out. */
void skd_worker_get_stats(struct skd_worker_stats *out,
    const struct skd_worker *w);

/* skd_worker_store returns w's store session (borrowed; for tests). */
struct skd_store *skd_worker_store(struct skd_worker *w);

/*
 * skd_worker_reload re-reads cfg's keys, certificates, trust anchors and
 * CRLs and takes cfg's tunables; on error the old ones stay and err says
 * why.  Returns one on success.
 */
int skd_worker_reload(struct skd_worker *w, char *err, size_t err_len,
    const struct skd_worker_config *cfg);

/*
 * skd_worker_process_one takes request id through the steps above.
 * Returns 1 when the request is finished or was someone else's to take
 * (lost race, live lease, already finished), 0 on a transient failure (it
 * is left to its lease).
 */
int skd_worker_process_one(struct skd_worker *w, const char *id);

/*
 * skd_worker_run_once processes everything pending (including expired
 * claims) until a listing finds nothing it could take, runs the rekey
 * schedule once and writes the status entry.  *out_n (if not NULL) is how
 * many requests it finished.  Returns zero when the directory could not be
 * listed.
 */
int skd_worker_run_once(struct skd_worker *w, size_t *out_n);

/*
 * skd_worker_rekey_due runs the GLA-initiated rekey of RFC 5275 4.5.2 for
 * gl_name if it is due (rekeyControlledByGLO FALSE, active, and its last
 * key ends within rekey_before of now), under a schedule slot that one
 * worker alone can win (see worker.c).  *out_done (if not NULL) is one when
 * this call rekeyed.  Returns zero on error.
 */
int skd_worker_rekey_due(struct skd_worker *w, int *out_done,
    const char *gl_name);

/* skd_worker_set_clock_offset moves the clock the engine and the rekey
 * schedule see by seconds (leases keep the real clock): for tests and
 * drills only. */
void skd_worker_set_clock_offset(struct skd_worker *w, long seconds);

/* skd_worker_set_schedule_hook has fn(arg, gl_name) called in w's rekey
 * schedule pass before each due GL's rekey (fn NULL: none), so that a
 * test can submit a request in the middle of a pass: for tests only. */
void skd_worker_set_schedule_hook(struct skd_worker *w,
    void (*fn)(void *arg, const char *gl_name), void *arg);

/*
 * skd_worker_retention_run deletes, when retention is a number of days N,
 * every request finished (done or failed) at least N days ago by the
 * worker's clock (skd_worker_set_clock_offset moves it) and its response:
 * the response first, then the request.  "Finished" is the request
 * entry's modifyTimestamp, which skd_store_finish_request sets and nothing
 * changes afterwards.  With retention = keep it does nothing.  The service
 * loop calls it every five minutes at most.  *out_n (if not NULL) is how
 * many requests went.  Returns zero on a directory error.
 */
int skd_worker_retention_run(struct skd_worker *w, size_t *out_n);

/* The directory's view of the GLA (skd status). */
struct skd_worker_status {
	size_t			 pending;	/* requests waiting */
	size_t			 expired;	/* claims whose lease ended */
	char			 state[16];	/* running, stopped, none */
	struct skd_store_status	*st;		/* cn=gla: heartbeat, worker,
						   version, counters text */
};

/* skd_worker_status_get fills *out (out->st freed by the caller with
 * skd_store_status_free, also on failure); zero on a directory error. */
int skd_worker_status_get(struct skd_worker_status *out,
    struct skd_store *s, time_t now);

/*
 * skd_worker_status_print writes the directory's view of the GLA to out,
 * one "key: value" per line: the backlog (pending: requests waiting;
 * expired claims: claims whose lease ran out at now) and what the last
 * worker wrote on cn=gla (heartbeat with its age, worker id, version,
 * counters).  s is borrowed.  Returns zero on a directory error (see
 * skd_store_errmsg(s)); lines already written stay written.
 */
int skd_worker_status_print(FILE *out, struct skd_store *s, time_t now);

/*
 * skd_worker_run processes what is pending, then waits for new requests
 * on the watch (RFC 4533 refreshAndPersist; polling every poll_interval_ms
 * when the watch is unavailable or disabled), until skd_worker_stop() is
 * called; on skd_worker_hup() it calls reload(arg) (which may call
 * skd_worker_reload).  Returns one after a clean stop.  With siblings
 * (in_flight) each runs the same loop on a thread of its own, calling
 * reload with itself, and this returns once they have all stopped.
 */
int skd_worker_run(struct skd_worker *w, int (*reload)(void *arg,
    struct skd_worker *w), void *arg);

/* Async-signal-safe: ask every running loop to stop after the request in
 * hand (SIGTERM), or to reload (SIGHUP). */
void skd_worker_stop(void);
void skd_worker_hup(void);
int skd_worker_stopping(void);

/* ---- mailout.c: mail out (RFC 5275 section 7) ---------------------------- */

struct skd_worker_mailout;

/* skd_worker_mailout_setup makes *out from cfg's mail_* keys; *out is NULL
 * (and the call succeeds) when mail_from is not set.  Returns zero with
 * one line in err on a bad setting.  Freed with skd_worker_mailout_free
 * (NULL is fine). */
int skd_worker_mailout_setup(struct skd_worker_mailout **out, char *err,
    size_t err_len, const struct skd_worker_config *cfg);
void skd_worker_mailout_free(struct skd_worker_mailout *mo);

/*
 * skd_worker_mail_check looks at request r just decided as o, before its
 * journal is written.  When r came by mail and its outer layer hid the
 * signer from skd gla mail-in (an EnvelopedData), its From must be an
 * rfc822Name of the signer the engine verified: returns 0 with why (one
 * line) when it is not, and the request is failed with nothing applied.
 * When mail goes out (mo not NULL), the verified signer's address (the
 * From when it is one of them) is recorded on the request, while owner
 * holds the claim, for the answers.  Returns 1 to go on, -1 when the
 * directory failed (see skd_store_error).
 */
int skd_worker_mail_check(struct skd_store *s,
    const struct skd_worker_mailout *mo, const char *owner,
    const struct skd_store_request *r, const SKD_ENG_OUTCOME *o, char *why,
    size_t why_len);

/* skd_worker_mailout_run queues what is new and sends what is due
 * (mailout.c); mo NULL does nothing.  *out_sent (if not NULL) is how many
 * entries went out.  Returns zero when the directory could not be
 * listed. */
int skd_worker_mailout_run(struct skd_store *s, struct skd_worker_mailout *mo,
    size_t *out_sent);

/* The mail queue as skd status shows it: counts (at most one batch of
 * each; *_more: there are more) and the failed mails. */
struct skd_worker_mail_failed {
	char	*message_id;	/* or NULL */
	char	*to;		/* the first recipient, or NULL */
	char	*error;		/* or NULL */
};

struct skd_worker_mail_status {
	size_t				 queued, held, failed;
	int				 queued_more, held_more, failed_more;
	struct skd_worker_mail_failed	*undelivered;	/* failed of them */
	size_t				 n_undelivered;
};

/* skd_worker_mail_status_get fills *out (freed with
 * skd_worker_mail_status_clear, also after a failure); one on success. */
int skd_worker_mail_status_get(struct skd_worker_mail_status *out,
    struct skd_store *s);
void skd_worker_mail_status_clear(struct skd_worker_mail_status *st);

/* skd_worker_mail_status_print prints the queued, held and failed counts
 * and every undelivered mail with its last error (skd status). */
int skd_worker_mail_status_print(FILE *out, struct skd_store *s);

#endif
