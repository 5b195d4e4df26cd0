/*
 * store_local.h: what the files of src/store share; the only header that
 * includes <ldap.h>.  Not for use outside src/store.
 */
#ifndef SKD_STORE_LOCAL_H
#define SKD_STORE_LOCAL_H

#include <stddef.h>

#include <ldap.h>

#include "store/skd_store.h"

/* Attribute and class names: docs/directory.md. */
#define A_OC		"objectClass"
#define A_GLNAME	"skdGLName"
#define A_GLADDR	"skdGLAddress"
#define A_GLADMIN	"skdGLAdministration"
#define A_REKEYGLO	"skdRekeyControlledByGLO"
#define A_NOTAWARE	"skdRecipientsNotMutuallyAware"
#define A_DURATION	"skdDuration"
#define A_GENCOUNT	"skdGenerationCounter"
#define A_KEYALG	"skdKeyAlgorithm"
#define A_REVISION	"skdRevision"
#define A_GLSTATE	"skdGLState"
#define A_CERT		"skdCertificate"
#define A_MEMBERNAME	"skdMemberName"
#define A_MEMBERADDR	"skdMemberAddress"
#define A_MEMBERDN	"skdMemberDN"
#define A_MEMBERSINCE	"skdMemberSince"
#define A_ACK		"skdAckKeyId"
#define A_OWNERNAME	"skdOwnerName"
#define A_OWNERADDR	"skdOwnerAddress"
#define A_OWNERDN	"skdOwnerDN"
#define A_KEYID		"skdKeyId"
#define A_MESSAGE	"skdMessage"
#define A_RCPTNAME	"skdRecipientName"
#define A_RCPTDN	"skdRecipientDN"
#define A_MAILRCPTDN	"skdMailRecipientDN"
#define A_NOTBEFORE	"skdNotBefore"
#define A_NOTAFTER	"skdNotAfter"
#define A_ARCHKEK	"skdArchivedKEK"
#define A_SHARD		"skdShard"
#define A_REQID		"skdRequestId"
#define A_STATE		"skdState"
#define A_OWNER		"skdClaimOwner"
#define A_LEASE		"skdLeaseUntil"
#define A_JOURNAL	"skdJournal"
#define A_ATTEMPTS	"skdAttempts"
#define A_ERROR		"skdError"
#define A_SUBMITTER	"skdSubmitterDN"
#define A_MSGID		"skdMessageId"
#define A_MSGTYPE	"skdMessageType"
#define A_REPLAYKEY	"skdReplayKey"
#define A_EXPIRES	"skdExpires"
#define A_WORKERID	"skdWorkerId"
#define A_HEARTBEAT	"skdHeartbeat"
#define A_VERSION	"skdVersion"
#define A_STATUSTEXT	"skdStatusText"
/* the mail transport (mail.c) */
#define A_MAILSTATE	"skdMailState"
#define A_MAILPOLICY	"skdGLMailPolicy"
#define A_REPLYTO	"skdReplyTo"
#define A_REPLYFROM	"skdReplyFrom"
#define A_MAILINID	"skdMailInId"
#define A_MAILSIGNER	"skdMailSigner"

#define OC_GL		"skdGroupList"
#define OC_MEMBER	"skdGLMember"
#define OC_OWNER	"skdGLOwner"
#define OC_GLKEY	"skdGLKey"
#define OC_REQUEST	"skdRequest"
#define OC_RESPONSE	"skdResponse"
#define OC_GLAMSG	"skdGLAMessage"
#define OC_REPLAY	"skdReplay"
#define OC_MAILOUT	"skdMailOut"
#define OC_MAILIN	"skdMailIn"

struct skd_store {
	LDAP			*ld;
	/* The last request read (skd_store_read_request): its id and its
	 * skdSubmitterDN (NULL: none), so that publishing its response does
	 * not read the request again (message.c resp_submitter). */
	char			*last_req_id;
	char			*last_req_submitter;
	char			*uri;
	char			*base;
	char			*groups_dn;	/* ou=groups,<base> */
	char			*requests_dn;
	char			*responses_dn;
	char			*messages_dn;
	char			*replay_dn;
	char			*agent_dn;	/* cn=gla,<base> */
	enum skd_store_bind	 bind;
	char			*bind_dn;
	char			*password;	/* wiped on close */
	enum skd_store_tls	 tls;
	char			*tls_ca_file;	/* NULL: libldap's default */
	int			 tls_failed;	/* last connect: TLS refused */
	char			 tls_err[512];	/* why, when tls_failed */
	unsigned		 max_wait_ms;
	unsigned		 first_ms;
	unsigned		 reconnects;
	int			 mail_mark;	/* mail.c: mark what is written */
	enum skd_store_err	 err;
	char			 errmsg[512];
};

/* ---- session.c ---- */

/* Records an error of kind e on s; returns 0 so that callers can
 * "return skd_store_i_fail(...)". */
int skd_store_i_fail(struct skd_store *s, enum skd_store_err e,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records the LDAP result rc of operation what on dn; returns 0.
 * LDAP_NO_SUCH_ATTRIBUTE and LDAP_ASSERTION_FAILED (a compare-and-swap
 * lost) map to _CONFLICT. */
int skd_store_i_ldap_fail(struct skd_store *s, int rc, const char *what,
    const char *dn);
/* A new bound connection with s's URI and identity (see session.c). */
int skd_store_i_connect(struct skd_store *s, LDAP **out_ld);
/* Makes sure s has a connection (reconnecting if a previous attempt left
 * it without one); records _UNAVAILABLE and returns 0 if it cannot. */
int skd_store_i_ensure(struct skd_store *s);
/* Clears the error state at the start of a public call. */
void skd_store_i_ok(struct skd_store *s);

/* The operations, each retried across reconnects; they return the LDAP
 * result code (LDAP_SUCCESS or another) and record nothing: callers decide
 * which codes are errors.  *out_res (search) is freed with ldap_msgfree
 * by the caller, whatever the result. */
int skd_store_i_add(struct skd_store *s, const char *dn, LDAPMod **mods);
/* Adds in flight at once in skd_store_i_add_many: measured on the project's
 * 2-core machine, 2 to 8 took 10 to 30 % less time an add than one at a
 * time, with little between them. */
#define STORE_ADD_WINDOW	4
int skd_store_i_add_many(struct skd_store *s, size_t n, char *const *dns,
    LDAPMod ***mods, int *rc, size_t window);
int skd_store_i_modify(struct skd_store *s, const char *dn, LDAPMod **mods,
    LDAPControl **sctrls);
int skd_store_i_delete(struct skd_store *s, const char *dn);
/* skd_store_i_delete with server controls (e.g. an assertion). */
int skd_store_i_delete_ctrl(struct skd_store *s, const char *dn,
    LDAPControl **sctrls);
int skd_store_i_search(struct skd_store *s, LDAPMessage **out_res,
    const char *base, int scope, const char *filter, char **attrs,
    LDAPControl **sctrls);

/*
 * skd_store_i_search_each runs a paged search (RFC 2696, page_size entries
 * per page) and calls cb(s, entry, arg) for each entry; cb returns 1 to go
 * on, 0 on error (having recorded it), 2 to stop early.  A missing base is
 * _NOT_FOUND.  Returns 1 on success.
 */
typedef int (*skd_store_i_entry_cb)(struct skd_store *s, LDAPMessage *e,
    void *arg);
int skd_store_i_search_each(struct skd_store *s, const char *base, int scope,
    const char *filter, char **attrs, int page_size, skd_store_i_entry_cb cb,
    void *arg);

/*
 * skd_store_i_search_children is skd_store_i_search_each for a one-level
 * search under base: it asks first without paging for at most direct_max
 * entries (zero: it does not), and pages (page_size a page) only when
 * there are more, or when
 * the directory's size limit stops the plain search.  The plain search's
 * entries reach cb as they arrive (cb may use the session meanwhile); the
 * paging after one that stopped at a limit passes over those already
 * handed on, so that none reaches cb twice.  Why not page: back-mdb (OpenLDAP
 * 2.5) serves every page of a paged search from the filter's index
 * candidates alone ("always bypass scope'd search", back-mdb search.c),
 * and an index key of more than 65,535 IDs is kept as a range, so a paged
 * search for (objectClass=skdGLMember) under a GL checks every member
 * entry of the directory between the range's ends, whatever the GL's
 * size; a plain one-level search walks the base's children instead when
 * they are fewer than the candidates (docs/perf/history.md, round 15).
 */
int skd_store_i_search_children(struct skd_store *s, const char *base,
    const char *filter, char **attrs, int direct_max, int page_size,
    skd_store_i_entry_cb cb, void *arg);

/* A list of DNs; skd_store_i_collect_dn is a search_each callback that
 * appends each entry's DN to one (freed with skd_store_i_strs_free). */
struct skd_store_i_dns {
	char	**v;
	size_t	  n, cap;
};
int skd_store_i_collect_dn(struct skd_store *s, LDAPMessage *e, void *arg);

/* skd_store_i_read reads the entry at dn (attrs as for a search): on
 * success *out_res holds it (free with ldap_msgfree) and *out_e points
 * into it.  _NOT_FOUND if there is none. */
int skd_store_i_read(struct skd_store *s, LDAPMessage **out_res,
    LDAPMessage **out_e, const char *dn, char **attrs);

/* ---- util.c ---- */

/* A malloc'd formatted string, NULL on error. */
char *skd_store_i_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* A growing modification list; values are borrowed, not copied. */
struct skd_store_i_mods {
	LDAPMod		**v;
	size_t		  n, cap;
	int		  failed;	/* an allocation failed */
};

void skd_store_i_mods_init(struct skd_store_i_mods *m);
/* mail.c: adds to m, for an entry being created, objectClass oc and,
 * when mail is nonzero and s marks entries for the mail transport
 * (skd_store_set_mail_mark), the skdMailOut class with skdMailState
 * "new", so that the worker finds what to mail with one indexed search. */
void skd_store_i_mods_class(struct skd_store *s, struct skd_store_i_mods *m,
    const char *oc, int mail);
void skd_store_i_mods_cleanup(struct skd_store_i_mods *m);
/* Adds one modification of op (LDAP_MOD_ADD, _DELETE, _REPLACE,
 * _INCREMENT) of attr with n values (possibly none). */
void skd_store_i_mods_bin(struct skd_store_i_mods *m, int op,
    const char *attr, const struct skd_store_blob *vals, size_t n);
void skd_store_i_mods_strs(struct skd_store_i_mods *m, int op,
    const char *attr, const char *const *vals, size_t n);
/* One string value; val NULL means no value (replace: remove). */
void skd_store_i_mods_str(struct skd_store_i_mods *m, int op,
    const char *attr, const char *val);
void skd_store_i_mods_one(struct skd_store_i_mods *m, int op,
    const char *attr, const void *data, size_t len);
/* The NULL-terminated array for libldap, or NULL if an allocation failed. */
LDAPMod **skd_store_i_mods_get(struct skd_store_i_mods *m);

/* skd_store_i_rdn_dn builds "<a1>=<v1>[+<a2>=<v2>],<parent>" with the
 * values escaped by libldap (RFC 4514); malloc'd, NULL on error. */
char *skd_store_i_dn(const char *a1, const char *v1, const char *a2,
    const char *v2, const char *parent);
/* skd_store_i_filter_escape escapes v for a filter (RFC 4515) with
 * libldap; malloc'd, NULL on error. */
char *skd_store_i_filter_escape(const char *v);

/* Entry getters: absent attributes give NULL/0 values and success; they
 * return 0 only on allocation failure or a malformed value. */
/* skd_store_i_count_values counts attr's values on e (0 when absent). */
size_t skd_store_i_count_values(LDAP *ld, LDAPMessage *e, const char *attr);
int skd_store_i_get_str(LDAP *ld, LDAPMessage *e, const char *attr,
    char **out);
/* Reads entry dn (freed here) and its one string value of attr into *out
 * (NULL: none); 0 on error (_NOT_FOUND, _INVALID, the directory's). */
int skd_store_i_read_str(struct skd_store *s, char *dn, const char *attr,
    char **out);
int skd_store_i_get_strs(LDAP *ld, LDAPMessage *e, const char *attr,
    char ***out, size_t *out_n);
int skd_store_i_get_blob(LDAP *ld, LDAPMessage *e, const char *attr,
    unsigned char **out, size_t *out_len);
int skd_store_i_get_blobs(LDAP *ld, LDAPMessage *e, const char *attr,
    struct skd_store_blob **out, size_t *out_n);
int skd_store_i_get_int(LDAP *ld, LDAPMessage *e, const char *attr,
    long long *out, long long dflt);
int skd_store_i_get_time(LDAP *ld, LDAPMessage *e, const char *attr,
    time_t *out);

/*
 * A table-driven entry reader: each row names an attribute and where in
 * the struct its value goes.  Absent values are NULL/0 as above, save that
 * a required string and an _ID are malformed when absent.
 */
enum skd_store_i_kind {
	SKD_STORE_I_STR,	/* char * */
	SKD_STORE_I_STRS,	/* char **, count (size_t) at n_off */
	SKD_STORE_I_BLOB,	/* unsigned char *, length (size_t) at n_off */
	SKD_STORE_I_TIME,	/* time_t */
	SKD_STORE_I_BOOL,	/* int, FALSE when absent */
	SKD_STORE_I_INT,	/* int in [lo, hi], 0 when absent */
	SKD_STORE_I_ID		/* char[SKD_STORE_ID_LEN], required */
};

struct skd_store_i_field {
	const char		*attr;
	enum skd_store_i_kind	 kind;
	int			 required;	/* _STR: absent is malformed */
	size_t			 off;		/* of the value */
	size_t			 n_off;		/* of its count or length */
	long long		 lo, hi;	/* _INT: the range allowed */
};

/* Rows for a table reading into a struct of type T. */
#define SKD_STORE_I_F(T, kind, field, attr)				\
	{ (attr), SKD_STORE_I_##kind, 0, offsetof(T, field), 0, 0, 0 }
#define SKD_STORE_I_F_REQ(T, field, attr)				\
	{ (attr), SKD_STORE_I_STR, 1, offsetof(T, field), 0, 0, 0 }
#define SKD_STORE_I_F_N(T, kind, field, n_field, attr)			\
	{ (attr), SKD_STORE_I_##kind, 0, offsetof(T, field),		\
	    offsetof(T, n_field), 0, 0 }
#define SKD_STORE_I_F_INT(T, field, lo, hi, attr)			\
	{ (attr), SKD_STORE_I_INT, 0, offsetof(T, field), 0, (lo), (hi) }

#define SKD_STORE_I_NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* skd_store_i_get_fields reads the n rows of f from e into the struct at
 * out (values the caller frees, also those read before a failure); returns
 * 0 on allocation failure or a malformed or missing value. */
int skd_store_i_get_fields(LDAP *ld, LDAPMessage *e, void *out,
    const struct skd_store_i_field *f, size_t n);

/*
 * A growing array of structs for skd_store_i_search_list: parse fills a
 * zeroed slot from an entry (recording its error) and cleanup frees what
 * a slot holds (also after a failed parse).  ctx is passed to parse.
 */
struct skd_store_i_list {
	void		*v;
	size_t		 n, cap;
	size_t		 size;		/* of one element */
	int		(*parse)(struct skd_store *s, void *out, LDAPMessage *e,
			    const void *ctx);
	void		(*cleanup)(void *elem);
	const void	*ctx;
};

/* skd_store_i_list_free cleans up the n elements of size bytes at v and
 * frees v (NULL is fine). */
void skd_store_i_list_free(void *v, size_t n, size_t size,
    void (*cleanup)(void *elem));
/* skd_store_i_grow returns v with room for element n (of size bytes; *cap
 * allocated), or NULL with "out of memory" recorded (v is left intact). */
void *skd_store_i_grow(struct skd_store *s, void *v, size_t n, size_t *cap,
    size_t size);
/* skd_store_i_search_list appends each entry of a search (as for
 * skd_store_i_search_each; a one-level search with direct_max > 0 as
 * for skd_store_i_search_children) to l; on failure it frees what l
 * collected (l->v NULL, l->n 0).  On success the caller owns l->v. */
int skd_store_i_search_list(struct skd_store *s, struct skd_store_i_list *l,
    const char *base, int scope, const char *filter, char **attrs,
    int direct_max, int page_size);

/*
 * skd_store_i_search_pairs lists the entries below base (one level) that
 * match filter, calling cb(arg, v1, v2) with the values of a1 and a2
 * (borrowed for the call) for each; a2 absent is dflt2, or malformed when
 * dflt2 is NULL, and malformed entries fail as bad.  A nonzero return from
 * cb stops early (success).
 */
struct skd_store_i_pairs {
	const char	*a1, *a2;
	const char	*dflt2;
	const char	*bad;
	int		(*cb)(void *arg, const char *v1, const char *v2);
	void		*arg;
};
int skd_store_i_search_pairs(struct skd_store *s,
    const struct skd_store_i_pairs *p, const char *base, const char *filter,
    int page_size);

/* skd_store_i_write adds the entry dn (add nonzero) or modifies it with
 * m's modifications; records "out of memory" if building m failed and an
 * LDAP failure as what.  Returns one on LDAP_SUCCESS. */
int skd_store_i_write(struct skd_store *s, int add, const char *dn,
    struct skd_store_i_mods *m, const char *what);

/* skd_store_i_add_value adds the string value to attr of the entry at dn;
 * a value already there is success.  Failures are recorded as what. */
int skd_store_i_add_value(struct skd_store *s, const char *dn,
    const char *attr, const char *value, const char *what);

/* skd_store_i_delete_dn deletes the entry at dn (freed here): dn NULL
 * records _INVALID as bad, an LDAP failure is recorded as what. */
int skd_store_i_delete_dn(struct skd_store *s, char *dn, const char *bad,
    const char *what);

void skd_store_i_strs_free(char **v, size_t n);
/* Duplicates a vector of n strings; NULL on error (n == 0 gives NULL and
 * success is told by the return value). */
int skd_store_i_strs_dup(char ***out, const char *const *v, size_t n);

/* Set equality, each side without duplicates. */
int skd_store_i_same_strs(char *const *a, size_t na, char *const *b,
    size_t nb);
int skd_store_i_same_blobs(const struct skd_store_blob *a, size_t na,
    const struct skd_store_blob *b, size_t nb);
int skd_store_i_same_bytes(const unsigned char *a, size_t na,
    const unsigned char *b, size_t nb);

#endif
