/*
 * engine_local.h: what the engine's files share (not installed).
 */
#ifndef SKD_ENGINE_LOCAL_H
#define SKD_ENGINE_LOCAL_H

#include <stddef.h>
#include <time.h>

#include "asn1/skd_asn1.h"
#include "cms/skd_cmc.h"
#include "cms/skd_cms.h"
#include "cms/skd_layers.h"
#include "cms/skd_recip.h"
#include "engine/skd_engine.h"

/* Key id bytes (KEKIdentifier.keyIdentifier) and nonce length. */
#define ENG_KEY_ID_LEN	16
#define ENG_NONCE_LEN	16

/* A member or owner in the working copy of a GL. */
struct eng_person {
	char		*name;		/* GeneralName text */
	GENERAL_NAME	*gn;
	char		*address;
	char		*dn;
	unsigned char	*cert;		/* DER or NULL */
	size_t		 cert_len;
	X509		*x509;		/* cert parsed, see eng_person_x509 */
	struct eng_pubkey *pk;		/* cert's key from the key cache,
					   see eng_valid_key */
	int		 cert_bad;	/* cert does not decode */
};

/* One distributed key (all shards). */
struct eng_key {
	char		*key_id;	/* hex */
	int		 next_shard;
	int		 fresh;		/* drawn by this request */
	int		 shard_drawn;	/* next_shard is this request's */
	time_t		 not_before;
	time_t		 not_after;
	unsigned char	*archive;	/* RecipientInfos for the GLA alone;
					   read on first use (eng_key_archive) */
	size_t		 archive_len;
	int		 archive_read;	/* looked for in the directory */
};

/*
 * The working copy of one GL during one request.  It holds what the
 * request reads, not the whole GL: the owners (few), the members the
 * request names (members[] is a cache of them and of those it adds;
 * gone[] the names it removed), and the current keys once a key is to be
 * sent.  all_members says members[] holds every member (only a rekey
 * that is not streamed reads them all).
 */
struct eng_gl {
	char		*name;		/* canonical GeneralName text */
	GENERAL_NAME	*gn;
	int		 exists;	/* a record exists (or was created) */
	int		 created;	/* created by this request */
	int		 born;		/* created by this request: nothing of
					   it is in the directory */
	int		 changed;	/* record fields changed */
	int		 deleted;	/* state "deleted" */
	char		*address;
	int		 admin;		/* GLAdministration 0..2 */
	int		 rekey_by_glo;
	int		 not_aware;
	long		 duration;
	long		 gen;
	int		 alg_nid;
	uint64_t	 revision;
	unsigned char	*cert_der;
	size_t		 cert_len;
	X509		*cert;		/* the GL's GLA certificate */
	int		 loaded_owners;
	int		 all_members;
	struct eng_person *members;
	size_t		 n_members;
	GENERAL_NAME	**gone;
	size_t		 n_gone;
	struct eng_person *owners;
	size_t		 n_owners;
	int		 loaded_keys;
	struct eng_key	*keys;
	size_t		 n_keys;
	int		 need_rekey;	/* a member left a managed/closed GL */
	int		 mail_only;	/* skdGLMailPolicy "mail" */
	size_t		 stream_per;	/* a stream's shard size (else 0) */
};

struct eng {
	const struct skd_engine_config	*cfg;
	const struct skd_engine_env	*env;
	const struct skd_engine_state	*st;
	SKD_ENG_OUTCOME			*out;
	struct eng_gl			**gls;
	size_t				 n_gls;
	time_t				 now;
	/* Messages published with the response (glkRefresh, 4.8). */
	STACK_OF(ASN1_OCTET_STRING)	*extra;
};

/* outcome.c */
ASN1_UTF8STRING *eng_utf8(const char *s);
int eng_set_utf8(ASN1_UTF8STRING **field, const char *s);
int eng_set_octets(ASN1_OCTET_STRING **field, const unsigned char *p,
    size_t n);
int eng_push_utf8(STACK_OF(ASN1_UTF8STRING) *sk, const char *s);
int eng_push_octets(STACK_OF(ASN1_OCTET_STRING) *sk, const unsigned char *p,
    size_t n);
/* NUL-terminated copy (OPENSSL_free) of s, or NULL. */
char *eng_str(const ASN1_STRING *s);
SKD_ENG_OP *eng_op_add(SKD_ENG_OUTCOME *o, enum skd_engine_op_type t,
    const char *gl);
int eng_result_add(SKD_ENG_OUTCOME *o, long unit, long body_part, int nid,
    long status, long cmc_fail, long skd_fail, const char *text);
SKD_ENG_OUTCOME *eng_outcome_new(const char *request_id);

/* gl.c: the working copies */
int eng_rand(struct eng *e, unsigned char *buf, size_t len);
int eng_new_id(struct eng *e, char out[SKD_STORE_ID_LEN]);
/* eng_gl_get finds or loads GL gn; *out NULL-free: returns 1 with *out set
 * (exists tells whether there is a record), 0 on error. */
int eng_gl_get(struct eng *e, struct eng_gl **out, const GENERAL_NAME *gn);
/* eng_gl_load_owners reads g's owners (once).  One on success. */
int eng_gl_load_owners(struct eng *e, struct eng_gl *g);
/* eng_gl_load_members reads every member of g into members[] (once),
 * keeping this request's changes.  One on success. */
int eng_gl_load_members(struct eng *e, struct eng_gl *g);
/* eng_gl_load_keys reads g's current keys (notAfter at or after now,
 * once), without their archives.  One on success. */
int eng_gl_load_keys(struct eng *e, struct eng_gl *g);
/* eng_key_archive reads k's archive on first use; one on success (the
 * archive may still be NULL: none in the directory). */
int eng_key_archive(struct eng *e, struct eng_gl *g, struct eng_key *k);
/* eng_member_find sets *out_idx to the index in g->members of the member
 * named gn (read from the state if this request has not yet), or -1.
 * Returns one, or zero on error. */
int eng_member_find(struct eng *e, struct eng_gl *g, const GENERAL_NAME *gn,
    long *out_idx);
/* eng_member_by_cert: the same for the member one of whose names is in
 * cert (RFC 5280 matching, skd_gname_match_cert). */
int eng_member_by_cert(struct eng *e, struct eng_gl *g, X509 *cert,
    long *out_idx);
/* eng_member_remove drops member idx from the working copy and records
 * its removal.  One on success. */
int eng_member_remove(struct eng_gl *g, size_t idx);
void eng_gl_free(struct eng_gl *g);
void eng_person_clear(struct eng_person *p);
/* eng_glkey_add_dn adds p's DN (not NULL) to gk: to recipientDNs, by
 * which the ACLs let p read the entry; or, when g's mail policy is
 * "mail" and p has an rfc822 address (its name, glMemberAddress or an
 * rfc822Name of its certificate) for
 * the GLA to mail the key to, to mailDNs, by which p sees only that the
 * entry is there (and comes by mail).  Without an address the directory
 * is the only way the key reaches p.  One on success. */
int eng_glkey_add_dn(const struct eng_gl *g, SKD_ENG_GLKEY *gk,
    const struct eng_person *p);
/* Index of the member/owner named gn among v[0..n), or -1. */
long eng_find_person(const struct eng_person *v, size_t n,
    const GENERAL_NAME *gn);
/* Index of the owner whose name is in cert, or -1. */
long eng_find_owner_by_cert(const struct eng_gl *g, X509 *cert);
int eng_person_add(struct eng_person **v, size_t *n, const char *name,
    const char *address, const unsigned char *cert, size_t cert_len);
void eng_person_remove(struct eng_person *v, size_t *n, size_t idx);
/* The person's certificate, decoded on first use; NULL: none or bad. */
X509 *eng_person_x509(const struct eng_person *p);
/* More threads than this gain nothing on a worker host (eng_parallel's,
 * a stream's). */
#define ENG_MAX_THREADS	16
/* eng_parallel runs fn(arg, i) for every i in [0, n) on up to
 * eng_threads(e) threads, the caller's included; one when every call
 * returned one.  fn must not touch e->out or the working copies. */
int eng_parallel(struct eng *e, size_t n, int (*fn)(void *, size_t),
    void *arg);
/* eng_nthreads: the threads eng_parallel would use for plenty of work
 * (and a stream starts, keys.c). */
int eng_nthreads(const struct eng *e);
/* eng_gl_flush appends a glCreate/glUpdate op for g if needed. */
int eng_gl_flush(struct eng *e, struct eng_gl *g);
int eng_is_gla_cert(struct eng *e, X509 *cert);
int eng_supported_alg(struct eng *e, int nid);
int eng_alg_key_len(int nid);
/* eng_check_cert validates cert for encryption at now against cfg->trust
 * (chain: extra untrusted certs, may be NULL).  1 valid, 0 not. */
int eng_check_cert(struct eng *e, X509 *cert, STACK_OF(X509) *chain,
    const char **out_why);
/* eng_check_cert_window is eng_check_cert that also gives the window in
 * which the validation holds (latest notBefore, earliest notAfter of the
 * verified path). */
int eng_check_cert_window(struct eng *e, X509 *cert, STACK_OF(X509) *chain,
    const char **out_why, time_t *out_from, time_t *out_until);
/* eng_valid_key checks that p's certificate validates at e->now, through
 * cfg->keycache when there is one: one when it does, with p->pk set from
 * the cache or p->x509 decoded and validated now; zero when p has none,
 * or a bad one, or one not valid.  eng_person_recipient then names p's
 * key for skd_ri_build_set (from p->pk, else p->x509; borrowed from p),
 * with the ktri options of cfg; zero when p has no key. */
int eng_valid_key(struct eng *e, struct eng_person *p);
int eng_person_recipient(const struct eng *e, const struct eng_person *p,
    struct skd_ri_recipient *out);
/* eng_recipient_for fills out for cert, or with cert NULL for pub
 * (borrowed), as eng_person_recipient does. */
void eng_recipient_for(const struct eng *e, X509 *cert,
    const struct skd_ri_pub *pub, struct skd_ri_recipient *out);
/* eng_issue_gl_cert issues the GL's GLA certificate (RFC 5275 3.2.6). */
int eng_issue_gl_cert(struct eng *e, struct eng_gl *g);

/*
 * kekcache.c: eng_open_archive opens the GLA's archive of a KEK (the KEK
 * enveloped to cfg->gla_cert; skd_ri_open_cert) through cfg->kekcache when
 * there is one: *out_kek (caller frees with skd_ri_free_key) and
 * *out_len.  Returns one on success and zero as skd_ri_open_cert.
 */
int eng_open_archive(const struct skd_engine_config *cfg,
    unsigned char **out_kek, size_t *out_len, const unsigned char *archive,
    size_t archive_len);

/*
 * certcache.c: eng_cert_decode decodes the certificate der (len bytes)
 * through cfg->certcache when there is one: a new reference (caller frees
 * with X509_free), or NULL when der does not decode.  It checks nothing
 * else.
 */
X509 *eng_cert_decode(const struct skd_engine_config *cfg,
    const unsigned char *der, size_t len);

/* keycache.c: a member's key made again from the cache: pub names it
 * (pkey and serial owned here, issuer borrowed from the cache, which
 * outlives it); eng_pubkey_free frees it and accepts NULL. */
struct eng_pubkey {
	struct skd_ri_pub	 pub;
	ASN1_INTEGER		*serial;
};
void eng_pubkey_free(struct eng_pubkey *k);
/* keycache.c: the SHA-256 of der into out (one, or zero on error); the
 * key of the cached certificate with digest md made under trust and valid
 * at now (caller frees with eng_pubkey_free) or NULL; put keeps cert's
 * key (copied, the caller keeps cert) valid over [from, until]. */
int eng_keycache_digest(unsigned char out[32], const unsigned char *der,
    size_t len);
struct eng_pubkey *eng_keycache_get(struct skd_engine_keycache *c,
    const unsigned char md[32], const X509_STORE *trust, time_t now);
void eng_keycache_put(struct skd_engine_keycache *c,
    const unsigned char md[32], const X509_STORE *trust, X509 *cert,
    time_t from, time_t until, time_t now);

/* keys.c: key generation and distribution (RFC 5275 5) */
/* Draws count new keys for every member of g that has a certificate. */
int eng_keys_new(struct eng *e, struct eng_gl *g, long count);
/* eng_keys_new for the GLA-controlled rollover (4.5.2): with
 * cfg->kekri_rollover, members holding the previous KEK get the new one
 * by kekri under it (RFC 5275 5). */
int eng_keys_rollover(struct eng *e, struct eng_gl *g, long count);
/* Sends the outstanding keys of g to member m (new member, new cert). */
int eng_keys_for_member(struct eng *e, struct eng_gl *g,
    const struct eng_person *m);
/*
 * layer.c: the protection layers of the received message (below the
 * message, unit and control files).
 * answer.c: what the engine sends, at the bottom of the engine's files:
 * the message, unit, control and key files call it, it calls none of them.
 */
int eng_publish(struct eng *e, enum skd_engine_op_type t, int kind,
    const char *id, const char *gl, const unsigned char *msg, size_t len,
    X509 *to_cert, const char *const *to_names, size_t n_names);

int eng_layer_signed_parent(const struct skd_layers *l, int i);
int eng_layer_body_parent(const struct skd_layers *l, int i);
long eng_layer_item_bpid(const struct skd_layers *l, int i);
int eng_layer_encrypted(const struct skd_layers *l, int i);
/*
 * RFC 5272 3.2: the bodyPartIDs of pd (its controls, cmsSequence and
 * otherMsgSequence, and extra when >= 0: the keygen request's own) are
 * unique.  1 unique, 0 not (or one is no BodyPartID), -1 error.
 */
int eng_body_part_ids_unique(const SKD_PKI_DATA *pd, long extra);
/* Records v's signature as seen until it would be too old anyway (RFC
 * 5275 3.2.4.3); *out_fresh zero when it was seen before.  Zero on
 * error. */
int eng_replay_check(struct eng *e, const struct skd_cms_verified *v,
    int *out_fresh);
unsigned char *eng_layer_der(struct eng *e, const struct skd_layers *l,
    int i, const unsigned char *msg, size_t len, size_t *out_len);
int eng_add_echo(struct eng *e, struct skd_cmc_body *b,
    const STACK_OF(SKD_TAGGED_ATTRIBUTE) *req);
/*
 * eng_status_answer builds and signs a PKIResponse with one
 * cMCStatusInfoExt (status for the n body parts of bpids, statusString
 * text, CMCFailInfo cmc_fail or -1), the request's transactionId and
 * nonces echoed from req (RFC 5275 3.2.4.2), signed for g (NULL: the GLA's
 * own certificate) and encrypted to encrypt_to when not NULL.  *out
 * (*out_len) freed with OPENSSL_free.
 */
int eng_status_answer(struct eng *e, struct eng_gl *g,
    enum skd_cmc_status status, const long *bpids, size_t n,
    const char *text, int cmc_fail,
    const STACK_OF(SKD_TAGGED_ATTRIBUTE) *req, X509 *encrypt_to,
    unsigned char **out, size_t *out_len);
/* Signs a PKIData or PKIResponse body for g (NULL: the GLA's own cert),
 * optionally encrypting to encrypt_to. */
int eng_sign_body(struct eng *e, struct eng_gl *g, int is_response,
    struct skd_cmc_body *b, X509 *encrypt_to, unsigned char **out,
    size_t *out_len);
/*
 * The transactionId of the glKey message for key id kid (RFC 5275
 * 3.2.4.2, 5.1): the INTEGER 0x01 || kid, so that a member's
 * acknowledgement, which echoes it, names the key by structure (5.1 2.c).
 * Caller frees with ASN1_INTEGER_free; NULL on error.  The glKey control
 * is the message's bodyPartID ENG_GLKEY_BPID.
 */
#define ENG_GLKEY_BPID	1
ASN1_INTEGER *eng_glkey_tid(const unsigned char *kid, size_t kid_len);
/* A glProvideCert GLA message to member m (4.10.1). */
int eng_provide_cert(struct eng *e, struct eng_gl *g,
    const struct eng_person *m);
/* Names of cert as GeneralName text, pushed onto sk. */
int eng_cert_names(STACK_OF(ASN1_UTF8STRING) *sk, X509 *cert);

/* time helpers */
ASN1_GENERALIZEDTIME *eng_gtime(time_t t);
time_t eng_month_end(time_t t);

#endif
