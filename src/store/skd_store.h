/*
 * skd_store.h: the directory (RFC 5275 section 1.3 "repository") behind a
 * small opaque API.  Only the .c files of src/store include <ldap.h>.
 *
 * The store knows records and opaque byte blobs; it knows nothing of RFC
 * 5275 procedures or DER.  Layout and names: docs/directory.md and
 * DESIGN.md "Directory contract".
 *
 * Lifetimes (nss-pam-ldapd myldap.h style):
 *  - a struct skd_store is one LDAP connection; use it from one thread at a
 *    time (one session per thread).  skd_store_close frees it.
 *  - records returned through out_* pointers are owned by the caller and
 *    freed with the matching *_free function (all accept NULL).
 *  - records passed in are borrowed for the duration of the call.
 *  - when slapd goes away (LDAP_SERVER_DOWN, LDAP_CONNECT_ERROR) an
 *    operation reconnects and re-binds with bounded exponential backoff and
 *    is retried once per reconnect; if the server stays away the call fails
 *    with SKD_STORE_ERR_UNAVAILABLE.  A write that reached the server just
 *    before the connection dropped may be seen as _EXISTS or _CONFLICT on
 *    retry; every write below is idempotent or compare-and-swap, so callers
 *    treat that like any other lost race.
 *
 *  - libldap writes without MSG_NOSIGNAL, so skd_store_open sets SIGPIPE to
 *    SIG_IGN when it is still at SIG_DFL (a program that handles SIGPIPE
 *    itself keeps its handler).
 *
 * Every function returns 1 on success and 0 on error unless said otherwise;
 * on error skd_store_error() and skd_store_errmsg() tell what happened.
 */
#ifndef SKD_STORE_H
#define SKD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct skd_store;

enum skd_store_err {
	SKD_STORE_OK = 0,
	SKD_STORE_ERR_NOT_FOUND,	/* no such entry */
	SKD_STORE_ERR_EXISTS,		/* entry exists (with other content) */
	SKD_STORE_ERR_CONFLICT,		/* revision, claim or lease lost */
	SKD_STORE_ERR_UNAVAILABLE,	/* server down, reconnect failed */
	SKD_STORE_ERR_ACCESS,		/* bind refused or ACL denied */
	SKD_STORE_ERR_INVALID,		/* bad argument or malformed entry */
	SKD_STORE_ERR_OTHER
};

/* Length of a textual UUID with its NUL ("xxxxxxxx-xxxx-...-xxxxxxxxxxxx"). */
#define SKD_STORE_ID_LEN 37

/* A borrowed or owned run of bytes; owned ones are freed by the record's
 * *_free function. */
struct skd_store_blob {
	unsigned char	*data;
	size_t		 len;
};

/* ---- session.c ---------------------------------------------------------- */

enum skd_store_bind {
	SKD_STORE_BIND_SIMPLE,		/* bind_dn + password */
	SKD_STORE_BIND_EXTERNAL		/* SASL EXTERNAL (ldapi:// or TLS) */
};

/*
 * skd_store_open connects to uri (ldap:// or ldapi://), binds and returns a
 * new session whose entries live under base_dn (e.g.
 * "ou=skd,dc=example,dc=com").  bind_dn and password are used for
 * SKD_STORE_BIND_SIMPLE and ignored for EXTERNAL; the session keeps copies
 * (the password is wiped on close).  Returns NULL on error; when out_err is
 * not NULL it receives the error kind.  Free with skd_store_close.
 * It is skd_store_open_conf with tls SKD_STORE_TLS_NONE.
 */
struct skd_store *skd_store_open(enum skd_store_err *out_err, const char *uri,
    const char *base_dn, enum skd_store_bind bind, const char *bind_dn,
    const char *password);

/* How a session protects its connection (RFC 4513 section 3). */
enum skd_store_tls {
	SKD_STORE_TLS_NONE = 0,		/* as the URI says (ldapi://, ldap://) */
	SKD_STORE_TLS_STARTTLS,		/* ldap:// then StartTLS, required */
	SKD_STORE_TLS_LDAPS		/* ldaps:// */
};

/* Everything skd_store_open_conf needs; strings borrowed for the call. */
struct skd_store_conf {
	const char		*uri;
	const char		*base_dn;
	enum skd_store_bind	 bind;
	const char		*bind_dn;	/* SIMPLE only */
	const char		*password;	/* SIMPLE only */
	enum skd_store_tls	 tls;
	const char		*tls_ca_file;	/* PEM; NULL: system default */
	int			 fail_fast;	/* the first connection is
						   tried once, not retried
						   (interactive tools) */
	int			 lazy;		/* no connection at open:
						   the first operation makes
						   one (a session that serves
						   watches, which connect on
						   their own) */
};

/*
 * skd_store_open_conf is skd_store_open with TLS: for STARTTLS and LDAPS
 * the server's certificate must verify against tls_ca_file
 * (LDAP_OPT_X_TLS_REQUIRE_CERT demand, set on the session's own handles
 * with a fresh TLS context, never through the environment) and name the
 * host of the URI; StartTLS is redone on every reconnection, and the bind
 * happens only over the protected connection.  STARTTLS wants an ldap://
 * URI and LDAPS an ldaps:// one (else _INVALID).  A TLS failure is not
 * retried (it is not the server being away).  On error returns NULL, sets
 * *out_err (if not NULL) and writes one line into err (if not NULL,
 * err_len bytes).  Free with skd_store_close.
 */
struct skd_store *skd_store_open_conf(enum skd_store_err *out_err, char *err,
    size_t err_len, const struct skd_store_conf *conf);

/*
 * skd_store_ldap_defaults returns what libldap's own tools would use from
 * ldap.conf, ~/.ldaprc and the LDAP* environment (LDAPURI, LDAPBASE,
 * LDAPTLS_CACERT): the first URI, the default search base and the TLS CA
 * file, each NULL when not configured.  Strings are the caller's (free).
 */
void skd_store_ldap_defaults(char **out_uri, char **out_base,
    char **out_ca_file);

/*
 * skd_store_ldif_value (ldif.c) finds the first value of attr (with or
 * without options such as ";binary") in LDIF text with libldap's parser
 * (folded lines, base64 "attr:: ") and copies it into *out (caller frees
 * with OPENSSL_free).  Values by URL ("attr:< ...") are skipped.  Returns
 * zero when there is none.
 */
int skd_store_ldif_value(unsigned char **out, size_t *out_len,
    const char *ldif, size_t ldif_len, const char *attr);

/* skd_store_close unbinds and frees s; NULL is fine. */
void skd_store_close(struct skd_store *s);

/* skd_store_set_retry bounds reconnection: at most max_wait_ms in total,
 * the first pause first_ms, doubling after each failed attempt (defaults:
 * 10000 and 50).  max_wait_ms 0 disables reconnection. */
void skd_store_set_retry(struct skd_store *s, unsigned max_wait_ms,
    unsigned first_ms);

/* The kind and text of the last error on s (text borrowed, valid until the
 * next call on s). */
enum skd_store_err skd_store_error(const struct skd_store *s);
const char *skd_store_errmsg(const struct skd_store *s);
const char *skd_store_err_str(enum skd_store_err e);

/* Number of reconnections s has made (for tests and status). */
unsigned skd_store_reconnects(const struct skd_store *s);

/* skd_store_base_dn returns the session's base DN (borrowed). */
const char *skd_store_base_dn(const struct skd_store *s);

/* skd_store_drop_connection closes s's socket under libldap as a server
 * crash would (for tests of the reconnect path); the next operation
 * reconnects.  Returns one if there was a socket to close. */
int skd_store_drop_connection(struct skd_store *s);

/* skd_store_new_id writes a fresh random UUID (libuuid) in text form. */
void skd_store_new_id(char out_id[SKD_STORE_ID_LEN]);

/* skd_store_time_str formats t as GeneralizedTime "YYYYMMDDHHMMSSZ" into
 * out (16 bytes); skd_store_time_parse is its inverse (returns one on
 * success). */
void skd_store_time_str(char out[16], time_t t);

/* skd_store_mono_ms is milliseconds on the monotonic clock: the deadlines
 * of waits on the directory (a watch's poll, a client's wait, a worker's
 * listing), which a change of the wall clock must not move. */
long skd_store_mono_ms(void);
int skd_store_time_parse(time_t *out_t, const char *s);

/*
 * No RFC 5805 transactions: slapd 2.5.13 (Debian 12) back-mdb accepts them,
 * but crashes (SIGSEGV) when two connections run transactions at once,
 * even if every one commits (issue 14 rounds 13 and 19, in
 * docs/performance.md; make bench's skd-bench-txn probes it on each run).
 * Round 4 also saw it crash after a fan-out's transaction failed, which a
 * plain client did not reproduce in round 19.  Two workers, or one with
 * several loops, cannot promise that their transactions never overlap,
 * and an overlap takes the directory down.  Every write here is
 * idempotent or compare-and-swap instead, and the journal makes a batch
 * restartable.
 */

/* ---- gl.c: GL records (skdGroupList, ou=groups) ------------------------- */

struct skd_store_gl {
	char		*name;		/* GeneralName text, e.g. "URI:https://..." */
	char		*address;	/* GeneralName text */
	int		 administration; /* RFC 5275 GLAdministration: 0
					   unmanaged, 1 managed, 2 closed */
	int		 rekey_by_glo;
	int		 not_mutually_aware;
	int		 duration;
	int		 generation_counter;
	char		*key_alg;	/* OID text, or NULL */
	char		*state;		/* "active" or "deleted"; NULL = active */
	uint64_t	 revision;	/* set by the store */
	unsigned char	*cert;		/* DER, optional */
	size_t		 cert_len;
	/* skdGLMailPolicy ("directory", "mail", "both"; NULL: unset, both):
	 * read only here, written by skd_store_set_mail_policy alone (an
	 * update of the GL leaves it as it is). */
	char		*mail_policy;
};

/* skd_store_gl_free frees a record returned by the store (all fields). */
void skd_store_gl_free(struct skd_store_gl *gl);

/* skd_store_read_gl reads the GL named name; *out_gl is the caller's to
 * free with skd_store_gl_free.  _NOT_FOUND if there is none. */
int skd_store_read_gl(struct skd_store *s, struct skd_store_gl **out_gl,
    const char *name);

/* skd_store_create_gl adds gl (borrowed) with revision 1 (gl->revision is
 * ignored); _EXISTS if the name is taken. */
int skd_store_create_gl(struct skd_store *s, const struct skd_store_gl *gl);

/* skd_store_update_gl replaces every attribute of the GL gl->name in one
 * modify conditional on its revision still being gl->revision (delete
 * skdRevision=<old>, add <old+1>); _CONFLICT if another writer got there
 * first.  On success *out_revision (if not NULL) is the new revision. */
int skd_store_update_gl(struct skd_store *s, uint64_t *out_revision,
    const struct skd_store_gl *gl);

/*
 * skd_store_list_gls calls cb(arg, name, state) for every GL under
 * ou=groups, active and deleted alike (state "active" or "deleted"; the
 * strings are borrowed for the call), fetching page_size entries per
 * round trip (RFC 2696; 0: 200).  A nonzero return from cb stops the
 * listing early (success).  As with skd_store_list_pending, cb may use s,
 * but a reconnection meanwhile ends the listing with _UNAVAILABLE.
 */
typedef int (*skd_store_gl_cb)(void *arg, const char *name,
    const char *state);
int skd_store_list_gls(struct skd_store *s, skd_store_gl_cb cb, void *arg,
    int page_size);

/* skd_store_mark_gl_deleted sets skdGLState=deleted (RFC 5275 4.2: the
 * list's history stays for audit); skd_store_purge_gl removes the GL entry
 * and its whole subtree (members, owners, keys). */
int skd_store_mark_gl_deleted(struct skd_store *s, const char *name);
int skd_store_purge_gl(struct skd_store *s, const char *name);

/* ---- member.c: members and owners under a GL ---------------------------- */

enum skd_store_role {
	SKD_STORE_MEMBER,	/* skdGLMember, skdMemberName=... */
	SKD_STORE_OWNER		/* skdGLOwner, skdOwnerName=... */
};

struct skd_store_member {
	char		*name;		/* GeneralName text */
	char		*address;	/* GeneralName text, optional */
	unsigned char	*cert;		/* DER, optional */
	size_t		 cert_len;
	char		*dn;		/* directory DN, optional */
	char		**acks;		/* members: acknowledged key ids (hex) */
	size_t		 n_acks;
	time_t		 since;		/* members: skdMemberSince; 0 on add:
					   the time of the add */
};

/* Frees a record returned by the store; skd_store_member_list_free frees an
 * array of n records returned by skd_store_list_members. */
void skd_store_member_free(struct skd_store_member *m);
void skd_store_member_list_free(struct skd_store_member *list, size_t n);

/* skd_store_add_member adds m (borrowed; acks ignored) to GL gl_name;
 * _EXISTS if the name is there already, _NOT_FOUND if the GL is not. */
int skd_store_add_member(struct skd_store *s, const char *gl_name,
    enum skd_store_role role, const struct skd_store_member *m);

/* skd_store_remove_member deletes one member or owner; _NOT_FOUND if
 * absent. */
int skd_store_remove_member(struct skd_store *s, const char *gl_name,
    enum skd_store_role role, const char *name);

/* skd_store_read_member reads one; *out_m freed with skd_store_member_free. */
int skd_store_read_member(struct skd_store *s, struct skd_store_member **out_m,
    const char *gl_name, enum skd_store_role role, const char *name);

/* skd_store_list_members returns every member (or owner) of gl_name as a
 * new array *out_list of *out_n records (possibly none, then *out_list may be
 * NULL), freed with skd_store_member_list_free.  Order is unspecified. */
int skd_store_list_members(struct skd_store *s,
    struct skd_store_member **out_list, size_t *out_n, const char *gl_name,
    enum skd_store_role role);

/*
 * skd_store_walk_members reads the members (or owners) of gl_name and
 * calls cb(arg, page, n) with each page of page_size (0: 200; records
 * borrowed for the call): a GL of up to 1,000 in one plain search, a
 * larger one page by page (RFC 2696, page_size entries per round trip),
 * so that a GL of any size is read in bounded memory and a small one at
 * a cost that does not grow with the directory (store_local.h,
 * skd_store_i_search_children).  cb returns one
 * to go on, zero to stop with an error; it may use s.  Order is
 * unspecified; a reconnection meanwhile ends the walk with _UNAVAILABLE.
 */
typedef int (*skd_store_page_cb)(void *arg,
    const struct skd_store_member *page, size_t n);
int skd_store_walk_members(struct skd_store *s, const char *gl_name,
    enum skd_store_role role, size_t page_size, skd_store_page_cb cb,
    void *arg);
/* skd_store_count_members counts the members (or owners) of gl_name that
 * s may see, with a paged search returning no attributes. */
int skd_store_count_members(struct skd_store *s, size_t *out_n,
    const char *gl_name, enum skd_store_role role);
/* skd_store_ack_member records that member name acknowledged key key_id
 * (RFC 5275 5.1 2.c); acknowledging twice is success. */
int skd_store_ack_member(struct skd_store *s, const char *gl_name,
    const char *name, const char *key_id);

/* ---- glkey.c: glKey entries under a GL ---------------------------------- */

struct skd_store_glkey {
	char		*key_id;	/* hex */
	char		*gl_name;
	int		 shard;		/* 0.. ; part of the RDN */
	unsigned char	*message;	/* the signed glKey message, DER */
	size_t		 message_len;
	char		**recipients;	/* GeneralName text */
	size_t		 n_recipients;
	char		**recipient_dns; /* directory DNs for dnattr ACLs */
	size_t		 n_recipient_dns;
	char		**mail_dns;	/* recipients' DNs who receive it by
					   mail only (skdMailRecipientDN) */
	size_t		 n_mail_dns;
	time_t		 not_before;
	time_t		 not_after;
	unsigned char	*archived_kek;	/* wrapped for the GLA alone; opaque */
	size_t		 archived_kek_len;
};

void skd_store_glkey_free(struct skd_store_glkey *k);
void skd_store_glkey_list_free(struct skd_store_glkey *list, size_t n);

/* skd_store_put_glkey adds k (borrowed) as
 * skdKeyId=<hex>+skdShard=<n>,skdGLName=<gl>,ou=groups,<base>.  Idempotent:
 * if an entry with the same content is there, success; if one with other
 * content is there, _EXISTS. */
int skd_store_put_glkey(struct skd_store *s, const struct skd_store_glkey *k);
/* skd_store_put_glkeys puts the n keys of k as skd_store_put_glkey would,
 * with several adds in flight on the connection (the order in which they
 * land is not theirs); stops at the first that fails. */
int skd_store_put_glkeys(struct skd_store *s, const struct skd_store_glkey *k,
    size_t n);

/* skd_store_read_glkey reads one; freed with skd_store_glkey_free. */
int skd_store_read_glkey(struct skd_store *s, struct skd_store_glkey **out_k,
    const char *gl_name, const char *key_id, int shard);

/* skd_store_find_glkeys returns the keys of gl_name naming recipient
 * (one indexed search, DESIGN.md), or every key of the GL when recipient is
 * NULL; *out_list (*out_n records) freed with skd_store_glkey_list_free. */
int skd_store_find_glkeys(struct skd_store *s,
    struct skd_store_glkey **out_list, size_t *out_n, const char *gl_name,
    const char *recipient);

/* skd_store_find_glkey_heads is skd_store_find_glkeys of every key of
 * gl_name without the messages and recipient lists (message NULL,
 * n_recipients 0): what the GLA needs to know which keys and shards a GL
 * has, at a fraction of the transfer. */
int skd_store_find_glkey_heads(struct skd_store *s,
    struct skd_store_glkey **out_list, size_t *out_n, const char *gl_name);

/*
 * skd_store_find_current_glkeys returns one record per key of gl_name
 * whose notAfter is at or after now: its shard 0 (every key has one),
 * with key id, shard, dates and the GLA's archive (one or two small
 * values: a request that sends the key needs no second read; no message
 * or recipients).  One search on the equality indexes of skdGLName and
 * skdShard.
 */
int skd_store_find_current_glkeys(struct skd_store *s,
    struct skd_store_glkey **out_list, size_t *out_n, const char *gl_name,
    time_t now);
/* skd_store_read_glkey_head reads one shard without its message and
 * recipient lists (the archive included); freed with
 * skd_store_glkey_free. */
int skd_store_read_glkey_head(struct skd_store *s,
    struct skd_store_glkey **out_k, const char *gl_name, const char *key_id,
    int shard);
/* skd_store_glkey_exists: 1 when shard of key_id is in the directory, 0
 * when not, -1 on error (one base read of no attribute). */
int skd_store_glkey_exists(struct skd_store *s, const char *gl_name,
    const char *key_id, int shard);
/*
 * skd_store_each_glkey_shard calls cb(arg, k) for every shard of key
 * key_id of gl_name (paged), k holding key id, shard, dates and the
 * recipient names (no message, no DNs, no archive), borrowed for the
 * call.  cb returns one to go on, zero to stop with an error.
 */
typedef int (*skd_store_glkey_cb)(void *arg, const struct skd_store_glkey *k);
int skd_store_each_glkey_shard(struct skd_store *s, const char *gl_name,
    const char *key_id, skd_store_glkey_cb cb, void *arg);

/*
 * skd_store_walk_glkeys calls cb(arg, k) for each glKey entry of gl_name s
 * may see (k borrowed for the call, with key id, shard and validity only:
 * no message, recipients or archive), from a paged search, so that a GL
 * with one entry per member is read in bounded memory.  cb returns one to
 * go on, zero to stop with an error.
 */
int skd_store_walk_glkeys(struct skd_store *s, const char *gl_name,
    skd_store_glkey_cb cb, void *arg);
/*
 * skd_store_find_due_glkeys calls cb(arg, gl_name, key_id, not_before,
 * not_after) for the shard 0 of every key in the directory whose notAfter
 * lies in [from, until] (the GLA-initiated rekey schedule, RFC 5275
 * 4.5.2): one paged search, no message read.  A nonzero return from cb
 * stops early (success).
 */
typedef int (*skd_store_due_cb)(void *arg, const char *gl_name,
    const char *key_id, time_t not_before, time_t not_after);
int skd_store_find_due_glkeys(struct skd_store *s, time_t from, time_t until,
    skd_store_due_cb cb, void *arg);
/* skd_store_delete_glkey removes one shard; _NOT_FOUND if absent. */
int skd_store_delete_glkey(struct skd_store *s, const char *gl_name,
    const char *key_id, int shard);

/*
 * skd_store_find_key_gl finds the GL that key key_hex belongs to (one
 * search of ou=groups for skdGLKey entries with that skdKeyId; a member's
 * acknowledgement, RFC 5275 5.1 2.c, names the key but not the GL).
 * *out_gl_name is malloc'd, the caller frees it with free.  _NOT_FOUND
 * when no GL has the key, _INVALID when the shards of that key id name
 * more than one GL.
 */
int skd_store_find_key_gl(struct skd_store *s, char **out_gl_name,
    const char *key_hex);

/* ---- request.c: requests, claims, leases, journal (ou=requests) --------- */

struct skd_store_request {
	char		 id[SKD_STORE_ID_LEN];
	unsigned char	*message;
	size_t		 message_len;
	char		*submitter_dn;	/* or NULL */
	char		*state;		/* pending claimed journaled done failed */
	char		*claim_owner;	/* or NULL */
	time_t		 lease_until;	/* 0 when none */
	unsigned char	*journal;	/* or NULL */
	size_t		 journal_len;
	int		 attempts;
	char		*error;		/* or NULL */
	char		*creator_dn;	/* creatorsName, slapd's; or NULL */
	size_t		 n_messages;	/* skdMessage values (one is valid) */
	/* The mail transport's (skdMailIn; the GLA's own writes): the
	 * envelope sender and From of a request that came by mail, and the
	 * verified signer's address the worker recorded; or NULL. */
	char		*mail_sender;
	char		*mail_from;
	char		*mail_signer;
};

void skd_store_request_free(struct skd_store_request *r);

/* skd_store_add_request stores a submitted message (borrowed) as a new
 * pending request and writes its fresh UUID to out_id. */
int skd_store_add_request(struct skd_store *s, char out_id[SKD_STORE_ID_LEN],
    const unsigned char *msg, size_t msg_len, const char *submitter_dn);

/* skd_store_read_request reads one; freed with skd_store_request_free. */
int skd_store_read_request(struct skd_store *s,
    struct skd_store_request **out_r, const char *id);

/*
 * skd_store_list_pending calls cb(arg, id, state) for every request that is
 * pending, or claimed or journaled with a lease that ended at or before now
 * (its worker presumably died), fetching page_size entries per round trip
 * (Simple Paged Results, RFC 2696).  A nonzero return from cb stops the
 * listing early (success).  cb may use s (e.g. to claim what it is given);
 * if s has to reconnect meanwhile, the paging cookie is lost and the
 * listing ends with _UNAVAILABLE: list again.  Returns 1 on success.
 */
typedef int (*skd_store_pending_cb)(void *arg, const char *id,
    const char *state);
int skd_store_list_pending(struct skd_store *s, skd_store_pending_cb cb,
    void *arg, time_t now, int page_size);

/*
 * skd_store_list_queue lists what skd_store_list_pending lists, with what
 * a fair scheduler needs: cb(arg, q) for each, q borrowed for the call.
 * q->creator is the entry's creatorsName (set by slapd, not by the
 * submitter; NULL when the directory does not keep it) and q->created its
 * createTimestamp.  Paged and stoppable like skd_store_list_pending.
 */
struct skd_store_queued {
	const char	*id;
	const char	*state;
	/* The fairness identity: creatorsName (slapd writes it, the
	 * submitter cannot), except for a request that came by mail, which
	 * the GLA itself added: "mail:" and its envelope sender (else its
	 * From), from skdMailIn, which only the GLA writes. */
	const char	*creator;
	time_t		 created;
};
typedef int (*skd_store_queue_cb)(void *arg,
    const struct skd_store_queued *q);
int skd_store_list_queue(struct skd_store *s, skd_store_queue_cb cb,
    void *arg, time_t now, int page_size);

/*
 * Claim owners are worker ids, unique per worker process (e.g. host, pid
 * and a UUID): a claim, take-over, renewal or journal whose retry after a
 * reconnection finds the request already in the state it was to leave,
 * under the same owner, counts as having succeeded.
 *
 * skd_store_claim_request claims a pending request for owner until
 * lease_until in one modify (delete skdState=pending, add skdState=claimed,
 * skdClaimOwner, skdLeaseUntil): _CONFLICT if
 * another worker won, _NOT_FOUND if the request is gone.
 */
int skd_store_claim_request(struct skd_store *s, const char *id,
    const char *owner, time_t lease_until);

/*
 * skd_store_reclaim_request takes over a claimed or journaled request whose
 * lease (old_lease, held by old_owner, both as read) ended at or before
 * now: one modify deleting the exact old skdClaimOwner and skdLeaseUntil
 * values and adding the new ones, so of two re-claimers exactly one wins;
 * the other gets _CONFLICT, as does a call on a lease still running.
 */
int skd_store_reclaim_request(struct skd_store *s, const char *id,
    const char *old_owner, time_t old_lease, const char *owner,
    time_t lease_until, time_t now);

/* skd_store_renew_lease moves owner's lease from old_lease to lease_until;
 * _CONFLICT if owner no longer holds the claim. */
int skd_store_renew_lease(struct skd_store *s, const char *id,
    const char *owner, time_t old_lease, time_t lease_until);

/*
 * skd_store_journal_request stores the outcome blob (borrowed, opaque) in
 * skdJournal and moves the state claimed -> journaled, in one modify
 * asserting (RFC 4528) that owner still holds the claim: _CONFLICT if the
 * lease was taken over.  A second journal by the same owner on a journaled
 * request is _CONFLICT too (the first one stands).
 */
int skd_store_journal_request(struct skd_store *s, const char *id,
    const char *owner, const unsigned char *journal, size_t journal_len);

/* skd_store_finish_request ends owner's claim: state done (error NULL) or
 * failed (with the error text in skdError); _CONFLICT if owner no longer
 * holds the claim. */
int skd_store_finish_request(struct skd_store *s, const char *id,
    const char *owner, const char *error);

/*
 * skd_store_claim_request_counted and skd_store_reclaim_request_counted
 * are the claim and the take-over that also count the attempt, in the
 * same modify (one write less per request): skdAttempts goes from
 * old_attempts (as read with the request; 0 when absent) to one more, a
 * compare-and-swap of its value when old_attempts > 0 (_CONFLICT when it
 * changed meanwhile).  The new count is then old_attempts + 1.
 */
int skd_store_claim_request_counted(struct skd_store *s, const char *id,
    const char *owner, time_t lease_until, int old_attempts);
int skd_store_reclaim_request_counted(struct skd_store *s, const char *id,
    const char *old_owner, time_t old_lease, const char *owner,
    time_t lease_until, time_t now, int old_attempts);

/*
 * skd_store_bump_attempts counts one more attempt at request id by the
 * worker holding its claim: reads skdAttempts (absent: 0) and replaces it
 * with one more in one modify asserting (RFC 4528) that owner is the
 * skdClaimOwner; _CONFLICT if owner no longer holds the claim.  Only the
 * claim holder writes the counter, so read and replace need no further
 * compare-and-swap; a retry after a reconnection writes the same value
 * again.  *out_attempts (if not NULL) is the new count.
 */
int skd_store_bump_attempts(struct skd_store *s, int *out_attempts,
    const char *id, const char *owner);

/*
 * skd_store_list_finished calls cb(arg, id, state) for every request whose
 * state is done or failed and whose last change (the operational attribute
 * modifyTimestamp, set by skd_store_finish_request, the last write a
 * request receives) is at or before before; paged and stoppable like
 * skd_store_list_pending.  For retention.
 */
int skd_store_list_finished(struct skd_store *s, skd_store_pending_cb cb,
    void *arg, time_t before, int page_size);

/* skd_store_delete_request removes request id; _NOT_FOUND if absent.  It
 * does not look at the state: callers delete finished requests only. */
int skd_store_delete_request(struct skd_store *s, const char *id);

/* skd_store_withdraw_request deletes request id only while it is still
 * pending (an RFC 4528 assertion on the delete): _CONFLICT once a worker
 * has claimed it, _NOT_FOUND if absent, _ACCESS if it is not ours. */
int skd_store_withdraw_request(struct skd_store *s, const char *id);

/* ---- person.c: directory entries of people (for dnattr ACLs) ------------ */

/* skd_store_dn_equal says whether DNs a and b (RFC 4514 text) name the
 * same entry: both normalized, compared without regard to case; zero
 * when either does not parse. */
int skd_store_dn_equal(const char *a, const char *b);

/*
 * skd_store_resolve_person maps a GeneralName text to the DN of one entry
 * under the suffix (the parent of the base DN, e.g. dc=example,dc=com), so
 * that glKey, message and response entries can name their readers for the
 * shipped ACLs' dnattr=skdRecipientDN:
 *   "email:x@y"  the one inetOrgPerson with mail=x@y (filter escaped by
 *                libldap; mail matches without regard to case);
 *   "dirName:DN" the entry with that DN (RFC 4514 text), if it exists and
 *                lies under the suffix;
 *   other forms  _NOT_FOUND.
 * Exactly one match is required: none is _NOT_FOUND, more than one is
 * _INVALID.  *out_dn is malloc'd (as the server returned it), the caller
 * frees it with free.
 */
int skd_store_resolve_person(struct skd_store *s, char **out_dn,
    const char *name_text);

/*
 * skd_store_person_certs reads the certificates (DER) of the person
 * name_text names (as skd_store_resolve_person finds it): the values of
 * userSMIMECertificate first, then of userCertificate;binary, in the
 * server's order; they are candidates, the caller validates them.  One
 * on success (*out_n may be 0), zero on error (_NOT_FOUND when no entry
 * is named); *out is freed with skd_store_blobs_free.
 */
int skd_store_person_certs(struct skd_store *s, struct skd_store_blob **out,
    size_t *out_n, const char *name_text);

/*
 * skd_store_publish_person_cert (person_cert.c) adds der as a value of
 * attr ("userCertificate;binary" or "userSMIMECertificate") on the entry
 * dn (from skd_store_resolve_person): a certificate the GLA issued
 * (server-side key generation).  A value already there is success.
 */
int skd_store_publish_person_cert(struct skd_store *s, const char *dn,
    const char *attr, const unsigned char *der, size_t len);

/* ---- secret.c: shared secrets (CMC server-side key generation) ---------- */

/* One secret: skdSecretId=<id>,ou=secrets,<base> (docs/keygen.md). */
struct skd_store_secret {
	char		*id;		/* the identification string */
	char		*identity;	/* GeneralName text it belongs to */
	unsigned char	*wrapped;	/* EnvelopedData for the GLA */
	size_t		 wrapped_len;
	time_t		 not_after;	/* 0: no expiry */
	int		 used;		/* single use */
	long		 failures;	/* MAC failures counted */
};
void skd_store_secret_free(struct skd_store_secret *x);
/* skd_store_put_secret adds a new secret entry; _EXISTS if the id is
 * taken. */
int skd_store_put_secret(struct skd_store *s,
    const struct skd_store_secret *x);
/* skd_store_read_secret reads one (*out freed with
 * skd_store_secret_free); _NOT_FOUND if there is none. */
int skd_store_read_secret(struct skd_store *s, struct skd_store_secret **out,
    const char *id);
/* Marks it used; setting it again is success. */
int skd_store_use_secret(struct skd_store *s, const char *id);
/* Sets its failure count to n (absolute, so a replayed journal writes the
 * same value). */
int skd_store_set_secret_failures(struct skd_store *s, const char *id,
    long n);

/* ---- message.c: responses, GLA messages, replay cache, agent status ----- */

/*
 * skd_store_publish_response writes skdRequestId=<request_id>,ou=responses
 * with n_msgs message values, n_names recipient names and n_dns recipient
 * directory DNs (all borrowed; no duplicates within one list).  The
 * request entry's skdSubmitterDN, when there is one, is added to the
 * recipient DNs (unless dns holds it already), so that the shipped ACL
 * (dnattr=skdRecipientDN) lets the submitter read the answer; a request
 * entry that is gone or unreadable adds nothing.
 * Idempotent: if the entry is there with the same values, success; one
 * written before the submitter's DN was added (only that DN missing) gets
 * it added; otherwise _EXISTS.
 */
int skd_store_publish_response(struct skd_store *s, const char *request_id,
    const struct skd_store_blob *msgs, size_t n_msgs,
    const char *const *names, size_t n_names, const char *const *dns,
    size_t n_dns);

/* skd_store_read_response reads the response to request_id: *out_msgs
 * (*out_n blobs) freed with skd_store_blobs_free. */
int skd_store_read_response(struct skd_store *s,
    struct skd_store_blob **out_msgs, size_t *out_n, const char *request_id);
void skd_store_blobs_free(struct skd_store_blob *b, size_t n);

struct skd_store_message {
	char		 id[SKD_STORE_ID_LEN];
	char		*type;		/* free text, e.g. "glProvideCert" */
	char		*gl_name;	/* or NULL */
	unsigned char	*message;
	size_t		 message_len;
	char		**recipients;
	size_t		 n_recipients;
	char		**recipient_dns;
	size_t		 n_recipient_dns;
};

void skd_store_message_list_free(struct skd_store_message *list, size_t n);

/* skd_store_publish_message writes skdMessageId=<m->id>,ou=messages (the
 * caller picks the id, e.g. with skd_store_new_id, and journals it so that
 * a replay writes the same entry).  Idempotent like publish_response. */
int skd_store_publish_message(struct skd_store *s,
    const struct skd_store_message *m);

/* skd_store_find_messages returns the GLA messages naming recipient. */
int skd_store_find_messages(struct skd_store *s,
    struct skd_store_message **out_list, size_t *out_n, const char *recipient);

/* skd_store_read_message reads skdMessageId=<id>,ou=messages into *out
 * (one record, freed with skd_store_message_list_free(*out, 1));
 * _NOT_FOUND if there is none. */
int skd_store_read_message(struct skd_store *s,
    struct skd_store_message **out, const char *id);

/* skd_store_delete_response removes the response to request_id;
 * _NOT_FOUND if absent. */
int skd_store_delete_response(struct skd_store *s, const char *request_id);

/* skd_store_delete_message removes one; _NOT_FOUND if absent. */
int skd_store_delete_message(struct skd_store *s, const char *id);

/* skd_store_add_replay records key (hex digest of a message) until
 * expires; _EXISTS if it is recorded already: that is how two workers agree
 * a message is a replay (RFC 5275 3.2.1 replay protection). */
int skd_store_add_replay(struct skd_store *s, const char *key, time_t expires);

/*
 * skd_store_add_replay_owned is skd_store_add_replay recording as well
 * the request that carried the message first (owner, its id; NULL:
 * none), in the same add: the worker's replay check bound to its request
 * (worker.c) costs one write.  A directory whose loaded skd schema has no
 * skdRequestId on skdReplay refuses the owner: _INVALID.  skd_store_read_replay_owner reads it back
 * into *out_owner (caller frees; NULL when the entry has none, as those
 * of skd_store_add_replay); _NOT_FOUND if the key is not recorded.
 */
int skd_store_add_replay_owned(struct skd_store *s, const char *key,
    time_t expires, const char *owner);
int skd_store_read_replay_owner(struct skd_store *s, char **out_owner,
    const char *key);

/* skd_store_purge_replay deletes entries that expired at or before now;
 * *out_n (if not NULL) is how many. */
int skd_store_purge_replay(struct skd_store *s, size_t *out_n, time_t now);

/* skd_store_write_status replaces the heartbeat, version, worker id and
 * status text (free form, e.g. counters) on cn=gla,<base>. */
int skd_store_write_status(struct skd_store *s, const char *worker_id,
    const char *version, time_t heartbeat, const char *status_text);

/* What skd_store_write_status left on cn=gla (any field NULL or 0 when
 * absent).  Freed with skd_store_status_free (NULL is fine). */
struct skd_store_status {
	char		*worker_id;
	char		*version;
	time_t		 heartbeat;
	char		*text;
};

void skd_store_status_free(struct skd_store_status *st);

/* skd_store_read_status reads cn=gla,<base>; *out_status is the caller's
 * to free with skd_store_status_free.  _NOT_FOUND without the entry. */
int skd_store_read_status(struct skd_store *s,
    struct skd_store_status **out_status);

/* ---- watch.c: change notification (RFC 4533 refreshAndPersist) --------- */

enum skd_store_watch_what {
	SKD_STORE_WATCH_REQUESTS,	/* ou=requests, pending only: the
					 * worker */
	SKD_STORE_WATCH_MESSAGES,	/* ou=messages */
	SKD_STORE_WATCH_RESPONSES	/* ou=responses: a waiting client */
};

struct skd_store_watch;

/* Called with the DN of each entry added or changed (borrowed for the
 * call). */
typedef void (*skd_store_watch_cb)(void *arg, const char *dn);

/*
 * skd_store_watch_open starts a persistent sync search (slapd's syncprov)
 * over one container on a new connection of its own, with s's server and
 * identity; the refresh phase reports every entry already there through
 * cb.  s is borrowed (errors are recorded on it) and must outlive the
 * watch.  Returns NULL on error.  Free with skd_store_watch_close.
 */
struct skd_store_watch *skd_store_watch_open(struct skd_store *s,
    enum skd_store_watch_what what, skd_store_watch_cb cb, void *arg);

/*
 * skd_store_watch_response watches the one response entry of request_id
 * (filter on skdRequestId under ou=responses), which its submitter may
 * watch under the shipped ACLs: cb is called when the GLA writes it (or,
 * in the refresh phase, when it is there already).  As
 * skd_store_watch_open otherwise.
 */
struct skd_store_watch *skd_store_watch_response(struct skd_store *s,
    const char *request_id, skd_store_watch_cb cb, void *arg);

/*
 * skd_store_watch_poll waits up to timeout_s seconds (0: do not wait) for
 * changes and reports them through cb; *out_n (if not NULL) is how many.
 * If the connection was lost it returns 0 (_UNAVAILABLE); the next poll
 * reconnects and refreshes, reporting every entry again, so a caller that
 * treats a report as "look again" misses nothing.
 */
int skd_store_watch_poll(struct skd_store_watch *w, size_t *out_n,
    int timeout_s);

/* skd_store_watch_close ends the search and frees w; NULL is fine. */
void skd_store_watch_close(struct skd_store_watch *w);

/* ---- mail.c: the mail transport's state (docs/directory.md "Mail") ------ */

/* Where a request that came by mail came from; strings borrowed. */
struct skd_store_mail_origin {
	const unsigned char	*message;	/* the DER, as for add_request */
	size_t			 message_len;
	const char		*reply_to;	/* envelope sender, or NULL */
	const char		*reply_from;	/* From address, or NULL */
	const char		*mail_id;	/* the mail's Message-ID, or NULL */
};

/*
 * skd_store_add_mail_request adds a pending request with the given id
 * (derived from the mail by the caller) and its origin (auxiliary class
 * skdMailIn; readable and writable by the GLA alone, ldif/acl.ldif rule
 * 1).  A request with that id and the same message is the same mail
 * delivered again: success with *out_existed set; with another message,
 * _EXISTS.
 */
int skd_store_add_mail_request(struct skd_store *s, int *out_existed,
    const char *id, const struct skd_store_mail_origin *o);

/*
 * skd_store_set_mail_signer records on request id, while owner holds its
 * claim (RFC 4528 assertion), the rfc822 address of its verified signer
 * (skdMailSigner, class skdMailIn added when missing), where the answers
 * are mailed.  _CONFLICT when the claim is lost.
 */
int skd_store_set_mail_signer(struct skd_store *s, const char *id,
    const char *owner, const char *address);

/*
 * skd_store_set_mail_mark makes s mark every response, GLA message and
 * glKey entry it creates from now on (on nonzero) with the class
 * skdMailOut and skdMailState "new": the mail transport then lists what
 * it has to look at with one indexed search (SKD_STORE_MAIL_UNQUEUED)
 * instead of scanning the base.
 */
void skd_store_set_mail_mark(struct skd_store *s, int on);

enum skd_store_mail_kind {
	SKD_STORE_MAIL_RESPONSE = 0,	/* skdResponse: id is the request id */
	SKD_STORE_MAIL_MESSAGE,		/* skdGLAMessage: id is its id */
	SKD_STORE_MAIL_GLKEY		/* skdGLKey: id is the key id */
};

/* An entry a mail carries, with its send state.  Freed with
 * skd_store_mailitem_free. */
struct skd_store_mailitem {
	char			*ref;		/* opaque: names the entry */
	int			 kind;		/* enum skd_store_mail_kind */
	char			*id;
	char			*gl_name;	/* messages, glKeys; or NULL */
	int			 shard;		/* glKeys */
	char			*type;		/* messages: skdMessageType */
	struct skd_store_blob	*messages;	/* skdMessage values */
	size_t			 n_messages;
	char			**recipients;	/* skdRecipientName */
	size_t			 n_recipients;
	char			*state;		/* "new": not queued yet; NULL:
						 * not marked for mail */
	char			**to;		/* rfc822 addresses */
	size_t			 n_to;
	char			*message_id;
	int			 attempts;
	time_t			 next_try;
	char			*error;
	/* Responses: the request's origin when it came by mail, and its
	 * verified signer's address. */
	char			*reply_to;
	char			*reply_from;
	char			*mail_in_id;
	char			*mail_signer;
};

void skd_store_mailitem_free(struct skd_store_mailitem *it);

enum skd_store_mail_which {
	SKD_STORE_MAIL_UNQUEUED = 0,	/* marked, not queued yet ("new") */
	SKD_STORE_MAIL_DUE,		/* queued, next try at or before now */
	SKD_STORE_MAIL_QUEUED,		/* queued, whenever */
	SKD_STORE_MAIL_FAILED,		/* given up */
	SKD_STORE_MAIL_HELD,		/* left out by mail_answers ("held") */
	/* Never marked (written while no worker mailed): responses, GLA
	 * messages other than replay records, and glKeys valid at now.  Not
	 * an indexed search (a NOT filter over the three classes): for the
	 * catch-up of a worker that starts with mail, not for every pass. */
	SKD_STORE_MAIL_UNMARKED
};

/* skd_store_mail_list calls cb(arg, ref) for each entry in that state
 * (ref borrowed for the call; a nonzero return stops the listing), paged
 * like skd_store_list_pending. */
typedef int (*skd_store_mail_cb)(void *arg, const char *ref);
int skd_store_mail_list(struct skd_store *s, enum skd_store_mail_which which,
    time_t now, skd_store_mail_cb cb, void *arg, int page_size);

/* skd_store_mail_read reads the entry ref names (*out freed with
 * skd_store_mailitem_free); _NOT_FOUND when it is gone. */
int skd_store_mail_read(struct skd_store *s, struct skd_store_mailitem **out,
    const char *ref);

/*
 * skd_store_mail_queue gives ref, marked "new", its send state: queued
 * to the n_to addresses with message_id, attempts 0, first try at
 * next_try; or, with n_to 0, state none (nothing to send).  The state
 * moves from "new" by compare-and-swap: _CONFLICT when it is not "new"
 * any more (another worker queued it).
 */
int skd_store_mail_queue(struct skd_store *s, const char *ref,
    const char *const *to, size_t n_to, const char *message_id,
    time_t next_try);

/* skd_store_mail_mark gives ref, an entry written without a mark, the
 * class skdMailOut and skdMailState "new" (the catch-up); _CONFLICT when
 * it has the class already (another worker marked it). */
int skd_store_mail_mark(struct skd_store *s, const char *ref);

/* skd_store_mail_move moves ref's skdMailState from to to by
 * compare-and-swap (delete the old value, add the new one); _CONFLICT
 * when the state is not from any more. */
int skd_store_mail_move(struct skd_store *s, const char *ref,
    const char *from, const char *to);

/* skd_store_mail_claim takes one attempt: skdMailAttempts old_attempts ->
 * old_attempts + 1 (delete the old value, add the new one) and the next
 * try moved to next_try, in one modify; _CONFLICT when another sender
 * took it. */
int skd_store_mail_claim(struct skd_store *s, const char *ref,
    int old_attempts, time_t next_try);

/* skd_store_mail_result records state ("sent", "failed" or "queued"),
 * error (NULL: none) and, when not 0, the next try. */
int skd_store_mail_result(struct skd_store *s, const char *ref,
    const char *state, const char *error, time_t next_try);

/* skd_store_read_mail_policy reads the GL's skdGLMailPolicy ("directory",
 * "mail" or "both"; *out_policy NULL when unset, else freed with free);
 * skd_store_set_mail_policy writes it. */
int skd_store_read_mail_policy(struct skd_store *s, char **out_policy,
    const char *gl_name);
int skd_store_set_mail_policy(struct skd_store *s, const char *gl_name,
    const char *policy);

#endif
