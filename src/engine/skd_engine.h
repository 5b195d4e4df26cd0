/*
 * skd_engine.h: the GLA engine, RFC 5275 sections 3 to 5.
 *
 * Given one received request message (a DER ContentInfo), the state of the
 * GL(s) it names and the clock, the engine decides every response, state
 * change and glKey message.  It does no I/O:
 *
 *   - the clock, the random bytes (KEKs, key ids, nonces, serials) and the
 *     message ids come from struct skd_engine_env;
 *   - state is read through struct skd_engine_state (a small struct of
 *     function pointers; skd_engine_state_store() and the in-memory
 *     skd_engine_mem are two implementations);
 *   - writes are not done: they are returned as an outcome (SKD_ENG_OUTCOME,
 *     a list of operations), which the caller journals as DER on the request
 *     entry (skd_engine_outcome_encode) and then applies idempotently
 *     (skd_engine_apply).  All crypto (signing, wrapping, drawing KEKs,
 *     issuing the per-GL certificate) happens before the outcome is
 *     returned, so that applying is pure data writing and replaying an
 *     outcome after a crash converges to the same state.
 *
 * Decisions (see also docs/conformance.md):
 *   - GL records use the store's struct skd_store_gl; its administration
 *     field, the directory's skdGLAdministration and the outcome all hold
 *     the ASN.1 GLAdministration value (0 unmanaged, 1 managed, 2 closed).
 *   - glKeyAttributes.recipientsNotMutuallyAware follows the ASN.1 DEFAULT
 *     TRUE: one glKey message per member.  When FALSE, members are put into
 *     shards of cfg->shard_size recipients per glKey message.
 *   - The replay key is the SHA-256 of the signature value of the SignedData
 *     directly around the outermost PKIData (not of a forwarded member
 *     request nested inside it, which the GLA already saw when the member
 *     sent it: RFC 5275 3.2.5).  It is kept until signingTime + the past
 *     window, after which badTime refuses the message anyway.
 *   - Every key has an archive: the KEK wrapped for the GLA certificate
 *     alone (skd_ri_build_set), stored on every shard of the key.  New
 *     members get the outstanding keys re-wrapped from the archive.
 *     A key generated while the GL has no member is still stored, as one
 *     shard whose glKey message is wrapped for the GLA alone and names no
 *     recipient.
 *   - A GL that was deleted keeps its record (state "deleted"); its name
 *     stays in use (nameAlreadyInUse) and every later request for it gets
 *     invalidGLName (RFC 5275 4.2 2.c.2.c).
 *   - The replay check is made last, after everything else was decided,
 *     so that an engine error (the caller retries) does not leave the
 *     message recorded as seen.  A crash between seen() and the journal
 *     write still makes the retry look like a replay (the caller can
 *     avoid that by journaling before committing seen(), or by recording
 *     the request id with the replay key).
 *   - A GLO's approval (3.2.5) is recognised by its signature on any layer
 *     around the member's request.  Layers inside one the GLA signed (its
 *     own forwarding wrapper) are not checked against the signingTime
 *     window again; a member request the GLO re-wraps without the GLA's
 *     wrapper still is.
 *   - Member acknowledgements (5.1 2.c) are SignedData(PKIResponse(
 *     cMCStatusInfoExt success)) identified by structure: the glKey
 *     message's transactionId (0x01 || key id, 3.2.4.2) echoed and a
 *     bodyList naming its glKey control (bodyPartID 1); the statusString
 *     is free text, except that skd's older acknowledgements ("glKey
 *     received: <key id hex>", no transactionId) are still accepted.
 *     They are recorded (SKD_OP_ACK) when env->find_key_gl finds the
 *     key's GL, never answered.
 *   - Responses, glKey and GLA messages are signed with the GL's own GLA
 *     certificate (RFC 5275 3.2.6: subject CN=<GL name>, subjectAltName
 *     glName and glAddress, the GLA's key, one year), issued with
 *     cfg->issuer_cert/issuer_key when the GL is created and again when it
 *     has expired; the chain sent is the issuer's certificate.  When no GL
 *     applies (unknown GL, query, unparsable request) cfg->gla_cert signs.
 *   - A message signed by the GLA itself (its forwarded request sent back
 *     unwrapped) is refused with badRequest.
 *
 * Outcome DER (private module SkdOutcome, implicit tags):
 *
 *   SkdOutcome ::= SEQUENCE {
 *     version     INTEGER (0),
 *     requestId   UTF8String,
 *     results     SEQUENCE OF SkdResult,
 *     ops         SEQUENCE OF SkdOp,
 *     note        [0] UTF8String OPTIONAL,   -- why nothing was answered
 *     signer      [1] SEQUENCE OF UTF8String OPTIONAL }
 *                 -- the names of the signer whose signature verified and
 *                 -- whom the answers are for (absent: none verified)
 *   SkdResult ::= SEQUENCE {
 *     unit        INTEGER,   -- 0 outermost PKIData, else cmsSequence bpid
 *     bodyPart    INTEGER,   -- the control's bodyPartID (0: the message)
 *     control     OBJECT IDENTIFIER OPTIONAL,
 *     status      INTEGER,   -- CMCStatus
 *     cmcFail     [0] INTEGER OPTIONAL,
 *     skdFail     [1] INTEGER OPTIONAL,
 *     text        [2] UTF8String OPTIONAL }
 *   SkdOp ::= SEQUENCE {
 *     type        INTEGER,   -- enum skd_engine_op_type
 *     glName      UTF8String,
 *     gl          [0] SkdGL OPTIONAL,        -- glCreate, glUpdate
 *     member      [1] SkdMember OPTIONAL,    -- member/owner add
 *     name        [2] UTF8String OPTIONAL,   -- member/owner remove, ack
 *     glKey       [3] SkdGLKey OPTIONAL,     -- glKeyPut
 *     publish     [4] SkdPublish OPTIONAL,   -- response, message
 *     keyId       [5] UTF8String OPTIONAL }  -- ack
 *   SkdGL ::= SEQUENCE {
 *     address UTF8String, administration INTEGER,
 *     rekeyByGLO [0] BOOLEAN DEFAULT FALSE,
 *     notMutuallyAware [1] BOOLEAN DEFAULT FALSE,
 *     duration INTEGER, generationCounter INTEGER,
 *     keyAlg OBJECT IDENTIFIER, revision INTEGER,  -- expected old, 0 new
 *     cert [2] OCTET STRING OPTIONAL }
 *   SkdMember ::= SEQUENCE { name UTF8String, address [0] UTF8String OPT,
 *     cert [1] OCTET STRING OPT, dn [2] UTF8String OPT,
 *     since [3] GeneralizedTime OPT }
 *   SkdGLKey ::= SEQUENCE { keyId UTF8String, shard INTEGER,
 *     message OCTET STRING, recipients SEQUENCE OF UTF8String,
 *     recipientDNs SEQUENCE OF UTF8String, notBefore GeneralizedTime,
 *     notAfter GeneralizedTime, archivedKEK OCTET STRING,
 *     mailDNs [0] SEQUENCE OF UTF8String OPTIONAL }
 *   (mailDNs: the recipients' DNs withheld from recipientDNs by the GL's
 *   mail policy "mail", skdMailRecipientDN)
 *   SkdPublish ::= SEQUENCE { id UTF8String, kind INTEGER,
 *     messages SEQUENCE OF OCTET STRING, recipients SEQUENCE OF UTF8String }
 *
 * Names (GL, member, owner, recipient) are GeneralName text
 * (skd_gname_to_text).  SkdMember.since is the time a member was added
 * (skdMemberSince); struct skd_store_member has no field for it yet, so
 * skd_engine_apply does not write it.
 */
#ifndef SKD_ENGINE_H
#define SKD_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/asn1t.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "asn1/skd_asn1.h"
#include "store/skd_store.h"

/* ------------------------------------------------------------------ */
/* Configuration, environment, state                                   */
/* ------------------------------------------------------------------ */

/* Defaults used when the corresponding config field is zero. */
#define SKD_ENGINE_DEFAULT_WINDOW	300	/* seconds, past and future */
#define SKD_ENGINE_DEFAULT_MAX_DAYS	366
#define SKD_ENGINE_DEFAULT_MAX_GEN	12
#define SKD_ENGINE_DEFAULT_SHARD	100
/* Members per page of a streamed rekey (skd_engine_config.stream_page). */
#define SKD_ENGINE_DEFAULT_STREAM_PAGE	200

struct skd_kgen_ca;	/* kgen/skd_kgen.h */

/* The GLA's configuration; every pointer is borrowed. */
struct skd_engine_config {
	X509		*gla_cert;	/* opens EnvelopedData, archives KEKs */
	EVP_PKEY	*gla_key;
	STACK_OF(X509)	*gla_chain;	/* may be NULL */
	/* Issues the per-GL GLA certificate (RFC 5275 3.2.6); NULL: glUseKEK
	 * fails with noGLACertificate (4.1 2.c). */
	X509		*issuer_cert;
	EVP_PKEY	*issuer_key;
	X509_STORE	*trust;		/* request signers, member certs, CRLs */
	long		 time_past;	/* signingTime window, seconds */
	long		 time_future;
	const int	*wrap_nids;	/* NULL: id-aes128/192/256-wrap */
	size_t		 n_wrap_nids;
	long		 max_duration_days;	/* above: unsupportedDuration */
	long		 max_generation_counter;
	size_t		 shard_size;	/* K for mutually aware lists */
	int		 oaep;		/* ktri with RSAES-OAEP */
	/* Encrypted answers (to an encrypted request, 4.x 2.*.a) also get
	 * an outer SignedData over the EnvelopedData (3.2.1.2, 4.x 2.*.b). */
	int		 outer_sign;
	/*
	 * RFC 5275 5: in a GLA-controlled rollover (skd_engine_rekey only,
	 * never after a removal or a compromise) the new KEK goes to the
	 * members who were sent the previous one in a kekri under that
	 * previous KEK (keyIdentifier: its key id bytes), when it is at
	 * least as long (6.2) and no member it went to has left since.
	 * Others get ktri/kari.  Zero (default): always ktri/kari.
	 */
	int		 kekri_rollover;
	/*
	 * Threads that decode, validate and wrap for the members of a
	 * rekey (and sign its shards).  Zero (default): one per online
	 * CPU; one: the calling thread alone (a streamed rekey,
	 * skd_engine_stream, starts that many of its own, and the calling
	 * thread makes slots too while it waits for them).  The outcome
	 * does not depend on it.
	 */
	int		 threads;
	/*
	 * Nonzero: a rekey (section 8 removal, glRekey, glkCompromise, the
	 * GLA-initiated rekey without kekri) is not distributed in the
	 * outcome but recorded as one SKD_OP_KEY_STREAM op, and
	 * skd_engine_stream sends it after the outcome is applied, members
	 * page by page, so that neither memory nor the journal grows with
	 * the GL.  Zero (default): the shards are in the outcome.
	 */
	int		 stream_rekeys;
	/* Members per page of a streamed rekey (0:
	 * SKD_ENGINE_DEFAULT_STREAM_PAGE; rounded up to a whole number of
	 * shards). */
	size_t		 stream_page;
	/* CMC server-side key generation (src/engine/keygen.c): the keygen
	 * CA; NULL: serverKeyGenRequest is refused. */
	const struct skd_kgen_ca *keygen;
	/* The person-entry attribute an issued certificate is published on
	 * ("userCertificate;binary" or "userSMIMECertificate"; NULL: not
	 * published).  The entry is env->resolve_dn's for the requester. */
	const char	*keygen_publish_attr;
	/*
	 * Optional (NULL: every certificate is decoded and validated each
	 * time): members' certificates decoded and validated by earlier
	 * requests (skd_engine_keycache_new), used by rekeys and key
	 * distribution.  Borrowed; may be shared by concurrent calls.  Its
	 * owner clears it when trust changes.
	 */
	struct skd_engine_keycache	*keycache;
	/*
	 * Optional (NULL: the GLA's archive of a KEK is opened each time):
	 * KEKs opened from the GLA's archives by earlier requests
	 * (skd_engine_kekcache_new).  Borrowed; may be shared by concurrent
	 * calls.
	 */
	struct skd_engine_kekcache	*kekcache;
	/*
	 * Optional (NULL: decoded each time): certificates the engine decodes
	 * again and again, the GLs' own (skd_engine_certcache_new).
	 * Borrowed; may be shared by concurrent calls.
	 */
	struct skd_engine_certcache	*certcache;
};

/*
 * certcache.c: certificates decoded once (the GLs' own, read by every
 * request that names a GL, RFC 5275 3.2.6), keyed by the SHA-256 of the
 * DER (the same bytes always decode alike: nothing to invalidate); it
 * says nothing about validity.  About slots entries in sets of four, the
 * least recently used of a set replaced.  Thread-safe.  _new returns NULL
 * when slots is zero or on allocation failure; _free accepts NULL.
 */
#define SKD_ENGINE_CERTCACHE_DEFAULT	256
struct skd_engine_certcache;
struct skd_engine_certcache *skd_engine_certcache_new(size_t slots);
void skd_engine_certcache_free(struct skd_engine_certcache *c);
void skd_engine_certcache_stats(const struct skd_engine_certcache *c,
    size_t *out_hits, size_t *out_misses);

/*
 * kekcache.c: KEKs the GLA opened from its own archives (skdArchivedKEK,
 * RFC 5275 5), kept between requests so that a glAddMember does not pay
 * a private-key operation to reopen its GL's current KEK.  About slots
 * entries, in sets of four chosen by the SHA-256 of the archive (the same
 * bytes always open to the same KEK: nothing to invalidate), the least
 * recently used of a set replaced; each KEK is wiped when its slot is
 * reused, on _clear and on _free.  Thread-safe.  _new returns NULL when
 * slots is zero or on allocation failure; _free accepts NULL.
 */
#define SKD_ENGINE_KEKCACHE_DEFAULT	1024
struct skd_engine_kekcache;
struct skd_engine_kekcache *skd_engine_kekcache_new(size_t slots);
void skd_engine_kekcache_free(struct skd_engine_kekcache *c);
void skd_engine_kekcache_clear(struct skd_engine_kekcache *c);
void skd_engine_kekcache_stats(const struct skd_engine_kekcache *c,
    size_t *out_hits, size_t *out_misses);

/*
 * keycache.c: members' public keys validated once (docs/architecture.md,
 * "Decode once").  A bounded cache of each validated certificate's key,
 * serial and issuer in a compact form (384 bytes for RSA-2048, 192 for
 * EC P-256; full, it keeps what it holds and lets one new certificate
 * in 32 replace the least recently used one) keyed by the SHA-256 of the
 * DER, each valid for the window in which its path validated (and at most
 * ttl seconds after it was validated); an entry made under another trust
 * store is never used.  Thread-safe.
 * skd_engine_keycache_new returns NULL when max_entries is zero or on
 * allocation failure; ttl 0: SKD_ENGINE_KEYCACHE_TTL.  _free accepts NULL;
 * _clear drops every entry (call it when trust anchors or CRLs change).
 * Up to SKD_ENGINE_KEYCACHE_WARM of the keys are also kept made (warm: a
 * certificate's own key from the validation that made its entry on),
 * about 1.8 KB each for RSA-2048 and 2.1 KB for
 * EC P-256, so that a GL of that many members is rekeyed without making
 * its keys again; _set_warm changes the bound (0: none; keys already warm
 * stay until their entries go), _warm counts them.
 */
#define SKD_ENGINE_KEYCACHE_TTL		3600
#define SKD_ENGINE_KEYCACHE_DEFAULT	100000
#define SKD_ENGINE_KEYCACHE_WARM	1024
struct skd_engine_keycache;
struct skd_engine_keycache *skd_engine_keycache_new(size_t max_entries,
    time_t ttl);
void skd_engine_keycache_free(struct skd_engine_keycache *c);
void skd_engine_keycache_clear(struct skd_engine_keycache *c);
void skd_engine_keycache_stats(const struct skd_engine_keycache *c,
    size_t *out_hits, size_t *out_misses, size_t *out_n);
void skd_engine_keycache_set_warm(struct skd_engine_keycache *c, size_t max);
size_t skd_engine_keycache_warm(const struct skd_engine_keycache *c);
/* The issuer Names the cache keeps: one for all the entries of one CA
 * (interned by their DER), kept across a clear. */
size_t skd_engine_keycache_issuers(const struct skd_engine_keycache *c);

/* Per call environment. */
struct skd_engine_env {
	time_t	 now;
	/* Fills len random bytes; NULL: RAND_priv_bytes.  Returns one. */
	int	(*rand_bytes)(void *arg, unsigned char *buf, size_t len);
	/* Writes a fresh id (UUID text); NULL: skd_store_new_id.  Returns
	 * one. */
	int	(*new_id)(void *arg, char out[SKD_STORE_ID_LEN]);
	void	*arg;
	/*
	 * Optional (NULL: acknowledgements are noted, not recorded): the GL
	 * a key id belongs to, for member acknowledgements (5.1 2.c), which
	 * name the key but not the GL.  Called with the state's ctx; 1 found
	 * (*out_gl malloc'd, caller frees with free), 0 none, -1 error.  It
	 * lives here rather than in struct skd_engine_state so that callers
	 * that fill the state field by field stay safe; the store has no such
	 * lookup yet, skd_engine_mem_find_key_gl serves the in-memory state.
	 */
	int	(*find_key_gl)(void *state_ctx, char **out_gl,
		    const char *key_hex);
	/*
	 * Optional (NULL: no directory identities): the DN of the directory
	 * entry of a member or owner, for the ACLs that let a member read its
	 * own glKey entries (skdRecipientDN) and a GLO its GL (skdOwnerDN).
	 * Called with the state's ctx for the name (GeneralName text) and,
	 * when that finds nothing, for each rfc822Name of the person's
	 * certificate; 1 found (*out_dn malloc'd, caller frees with free),
	 * 0 none, -1 error.
	 */
	int	(*resolve_dn)(void *state_ctx, char **out_dn,
		    const char *name_text);
	/*
	 * Optional (NULL: a glAddMember without a certificate is refused,
	 * invalidCert): the candidate encryption certificates of the person
	 * a member name (GeneralName text) names, from its directory entry
	 * (the store: userSMIMECertificate, then userCertificate;binary).
	 * Used only when a glAddMember carries no certificate; the engine
	 * takes the first candidate that names the member and validates.
	 * Called with the state's ctx; 1 ok (*out malloc'd, caller frees
	 * with sk_X509_pop_free; may be NULL or empty), 0 no such person,
	 * -1 error.
	 */
	int	(*person_certs)(void *state_ctx, STACK_OF(X509) **out,
		    const char *name_text);
	/*
	 * Optional (NULL: shared-secret key generation is refused with
	 * badSharedSecret): the shared secret named id (src/engine/keygen.c),
	 * called with the state's ctx; 1 found (*out freed with
	 * skd_store_secret_free), 0 none, -1 error.
	 */
	int	(*keygen_secret)(void *state_ctx,
		    struct skd_store_secret **out, const char *id);
	/*
	 * Optional (NULL: key recovery finds no archive, badCertId): the
	 * archive of a generated key by its id (skd_kgen_archive_id: a GLA
	 * message of kind keyArchive), called with the state's ctx; 1 found
	 * (*out, *out_len: OPENSSL_free), 0 none, -1 error.
	 */
	int	(*keygen_archive)(void *state_ctx, unsigned char **out,
		    size_t *out_len, const char *id);
};

/*
 * Reading state.  A request reads what it names (docs/architecture.md,
 * "A request costs what it names"): the GL record, the owners (few: every
 * forward and notice goes to all of them), the members it names one by
 * one, and the GL's current keys only when a key is to be sent, their
 * archives only when used.  Only a rekey reads every member, page by page.
 * Records returned are the caller's (the engine frees them with the
 * store's *_free functions).
 *   read_gl:        1 found (*out set), 0 no such GL, -1 error
 *   read_member:    one member or owner by name (GeneralName text, as the
 *                   store matches names): 1 found, 0 none, -1 error
 *   list_members:   every owner (or member); 1 ok (*out may be NULL when
 *                   *n is 0), 0 error
 *   walk_members:   every member (or owner), cb called page by page with
 *                   at most page records (borrowed); 1 ok, 0 error (also
 *                   when cb returned zero)
 *   current_keys:   one record per key of the GL whose notAfter is at or
 *                   after now (key id, dates, no message; the GLA's
 *                   archive when the state has it at hand, else
 *                   read_key_head reads it when the key is used);
 *                   1 ok, 0 error
 *   read_key_head:  one shard without message and recipients (with the
 *                   GLA's archive): 1 found, 0 none, -1 error
 *   shard_exists:   1 the shard is there, 0 not, -1 error
 *   keys_for:       the shards of the GL naming recipient, with messages;
 *                   1 ok, 0 error
 *   each_key_shard: cb for every shard of key_id (key id, shard, dates,
 *                   recipient names; borrowed); 1 ok, 0 error
 *   list_keys:      every glKey shard of the GL with everything (tests
 *                   and tools; the engine does not call it); 1 ok, 0 error
 *   seen:           records key_hex until expires atomically; 1 fresh,
 *                   0 already recorded (a replay), -1 error
 */
struct skd_engine_state {
	void	*ctx;
	int	(*read_gl)(void *ctx, struct skd_store_gl **out,
		    const char *name);
	int	(*read_member)(void *ctx, struct skd_store_member **out,
		    const char *gl_name, enum skd_store_role role,
		    const char *name);
	int	(*list_members)(void *ctx, struct skd_store_member **out,
		    size_t *n, const char *gl_name, enum skd_store_role role);
	int	(*walk_members)(void *ctx, const char *gl_name,
		    enum skd_store_role role, size_t page,
		    skd_store_page_cb cb, void *arg);
	int	(*current_keys)(void *ctx, struct skd_store_glkey **out,
		    size_t *n, const char *gl_name, time_t now);
	int	(*read_key_head)(void *ctx, struct skd_store_glkey **out,
		    const char *gl_name, const char *key_id, int shard);
	int	(*shard_exists)(void *ctx, const char *gl_name,
		    const char *key_id, int shard);
	int	(*keys_for)(void *ctx, struct skd_store_glkey **out,
		    size_t *n, const char *gl_name, const char *recipient);
	int	(*each_key_shard)(void *ctx, const char *gl_name,
		    const char *key_id, skd_store_glkey_cb cb, void *arg);
	int	(*list_keys)(void *ctx, struct skd_store_glkey **out,
		    size_t *n, const char *gl_name);
	int	(*seen)(void *ctx, const char *key_hex, time_t expires);
};

/* state_store.c: the interface over a store session (borrowed; must
 * outlive *out). */
void skd_engine_state_store(struct skd_engine_state *out,
    struct skd_store *s);

/* ------------------------------------------------------------------ */
/* The outcome                                                         */
/* ------------------------------------------------------------------ */

enum skd_engine_op_type {
	SKD_OP_GL_CREATE = 1,	/* glName, gl */
	SKD_OP_GL_UPDATE,	/* glName, gl (gl->revision: expected old) */
	SKD_OP_GL_DELETE,	/* glName: mark deleted */
	SKD_OP_MEMBER_ADD,	/* glName, member */
	SKD_OP_MEMBER_REMOVE,	/* glName, name */
	SKD_OP_OWNER_ADD,	/* glName, member */
	SKD_OP_OWNER_REMOVE,	/* glName, name */
	SKD_OP_GLKEY_PUT,	/* glName, glKey */
	SKD_OP_RESPONSE,	/* glName (may be ""), publish (id = request) */
	SKD_OP_MESSAGE,		/* glName, publish (kind below) */
	SKD_OP_ACK,		/* glName, name (member), keyId */
	/* glName, glKey: a key to send to every member, streamed
	 * (skd_engine_stream): keyId, notBefore, notAfter, archivedKEK
	 * (the KEK wrapped for the GLA: drawn once, journaled here),
	 * shard = recipients per glKey message; no message, no
	 * recipients.  skd_engine_apply leaves it to skd_engine_stream. */
	SKD_OP_KEY_STREAM,
	SKD_OP_CERT_PUBLISH,	/* name (attribute), member (dn, cert) */
	SKD_OP_SECRET_USE,	/* name (secret id): spent */
	SKD_OP_SECRET_FAIL	/* name (secret id), keyId (failures, text) */
};

/* SkdPublish.kind */
enum skd_engine_msg_kind {
	SKD_MSG_RESPONSE = 0,
	SKD_MSG_FORWARD,	/* member request forwarded to a GLO (3.2.3) */
	SKD_MSG_PROVIDE_CERT,	/* glProvideCert to a member (4.10) */
	SKD_MSG_REKEY_NOTICE,	/* GLA-initiated rekey notice (4.5.2) */
	SKD_MSG_KEY_ARCHIVE	/* a generated key for recovery (keygen.c) */
};

/* Not defined by OpenSSL for OCTET STRING. */
DEFINE_STACK_OF(ASN1_OCTET_STRING)

typedef struct SKD_ENG_GL_st {
	ASN1_UTF8STRING		*address;
	ASN1_INTEGER		*administration;
	int			 rekeyByGLO;
	int			 notMutuallyAware;
	ASN1_INTEGER		*duration;
	ASN1_INTEGER		*generationCounter;
	ASN1_OBJECT		*keyAlg;
	ASN1_INTEGER		*revision;
	ASN1_OCTET_STRING	*cert;
} SKD_ENG_GL;

typedef struct SKD_ENG_MEMBER_st {
	ASN1_UTF8STRING		*name;
	ASN1_UTF8STRING		*address;
	ASN1_OCTET_STRING	*cert;
	ASN1_UTF8STRING		*dn;
	ASN1_GENERALIZEDTIME	*since;
} SKD_ENG_MEMBER;

typedef struct SKD_ENG_GLKEY_st {
	ASN1_UTF8STRING			*keyId;
	ASN1_INTEGER			*shard;
	ASN1_OCTET_STRING		*message;
	STACK_OF(ASN1_UTF8STRING)	*recipients;
	STACK_OF(ASN1_UTF8STRING)	*recipientDNs;
	ASN1_GENERALIZEDTIME		*notBefore;
	ASN1_GENERALIZEDTIME		*notAfter;
	ASN1_OCTET_STRING		*archivedKEK;
	STACK_OF(ASN1_UTF8STRING)	*mailDNs;	/* OPTIONAL */
} SKD_ENG_GLKEY;

typedef struct SKD_ENG_PUBLISH_st {
	ASN1_UTF8STRING			*id;
	ASN1_INTEGER			*kind;
	STACK_OF(ASN1_OCTET_STRING)	*messages;
	STACK_OF(ASN1_UTF8STRING)	*recipients;
} SKD_ENG_PUBLISH;

typedef struct SKD_ENG_OP_st {
	ASN1_INTEGER		*type;
	ASN1_UTF8STRING		*glName;
	SKD_ENG_GL		*gl;
	SKD_ENG_MEMBER		*member;
	ASN1_UTF8STRING		*name;
	SKD_ENG_GLKEY		*glKey;
	SKD_ENG_PUBLISH		*publish;
	ASN1_UTF8STRING		*keyId;
} SKD_ENG_OP;
DEFINE_STACK_OF(SKD_ENG_OP)

typedef struct SKD_ENG_RESULT_st {
	ASN1_INTEGER		*unit;
	ASN1_INTEGER		*bodyPart;
	ASN1_OBJECT		*control;
	ASN1_INTEGER		*status;
	ASN1_INTEGER		*cmcFail;
	ASN1_INTEGER		*skdFail;
	ASN1_UTF8STRING		*text;
} SKD_ENG_RESULT;
DEFINE_STACK_OF(SKD_ENG_RESULT)

typedef struct SKD_ENG_OUTCOME_st {
	ASN1_INTEGER			*version;
	ASN1_UTF8STRING			*requestId;
	STACK_OF(SKD_ENG_RESULT)	*results;
	STACK_OF(SKD_ENG_OP)		*ops;
	ASN1_UTF8STRING			*note;
	STACK_OF(ASN1_UTF8STRING)	*signer;
} SKD_ENG_OUTCOME;

DECLARE_ASN1_FUNCTIONS(SKD_ENG_GL)
DECLARE_ASN1_FUNCTIONS(SKD_ENG_MEMBER)
DECLARE_ASN1_FUNCTIONS(SKD_ENG_GLKEY)
DECLARE_ASN1_FUNCTIONS(SKD_ENG_PUBLISH)
DECLARE_ASN1_FUNCTIONS(SKD_ENG_OP)
DECLARE_ASN1_FUNCTIONS(SKD_ENG_RESULT)
DECLARE_ASN1_FUNCTIONS(SKD_ENG_OUTCOME)

/* skd_engine_outcome_encode writes o's DER to *out (caller frees with
 * OPENSSL_free).  Returns one on success and zero on error. */
int skd_engine_outcome_encode(unsigned char **out, size_t *out_len,
    const SKD_ENG_OUTCOME *o);

/* skd_engine_outcome_decode strictly decodes (skd_der_decode) a journaled
 * outcome; returns a new object (caller frees with SKD_ENG_OUTCOME_free) or
 * NULL. */
SKD_ENG_OUTCOME *skd_engine_outcome_decode(const unsigned char *der,
    size_t len);

/* Small readers for callers and tests (all borrowed, never NULL unless
 * said). */
int skd_engine_op_type(const SKD_ENG_OP *op);
/* Number of ops of type t (any type when t is 0). */
size_t skd_engine_outcome_count(const SKD_ENG_OUTCOME *o, int t);
/* The idx-th op of type t, or NULL. */
const SKD_ENG_OP *skd_engine_outcome_find(const SKD_ENG_OUTCOME *o, int t,
    size_t idx);
/* The names (GeneralName text) of the request's signer, whose signature
 * verified (the SignedData directly around the PKIData, or the innermost
 * verified one before a failure): what the answers are addressed to.
 * NULL when no signature verified (a claimed signer is not recorded).
 * Recorded, never decided on: the mail transport addresses answers with
 * it and compares a From it could not check at mail-in. */
const STACK_OF(ASN1_UTF8STRING) *skd_engine_outcome_signer(
    const SKD_ENG_OUTCOME *o);
/* The idx-th result's CMCStatus, and its failure codes (-1 when absent);
 * returns zero when there is no such result. */
int skd_engine_outcome_result(const SKD_ENG_OUTCOME *o, size_t idx,
    long *out_status, long *out_cmc_fail, long *out_skd_fail);

/* ------------------------------------------------------------------ */
/* Processing                                                          */
/* ------------------------------------------------------------------ */

/*
 * skd_engine_process decides what to do with one received message (msg,
 * len bytes of DER ContentInfo) stored as request request_id.  On success
 * *out (caller frees with SKD_ENG_OUTCOME_free) holds the results and the
 * operations to apply; a request that is refused still succeeds here (its
 * outcome holds the failure response).  Returns zero only when the engine
 * could not decide (out of memory, state read error, crypto failure): the
 * caller retries later.
 */
int skd_engine_process(SKD_ENG_OUTCOME **out,
    const struct skd_engine_config *cfg, const struct skd_engine_env *env,
    const struct skd_engine_state *state, const char *request_id,
    const unsigned char *msg, size_t len);

/*
 * skd_engine_give_up is the answer to request request_id (msg, len bytes)
 * that the worker gives up on after its last attempt (why says so): one
 * cMCStatusInfoExt failed with CMCFailInfo internalCAError and statusString
 * why for every request of the PKIData, signed with the certificate of the
 * GL it names when there is a valid one (else the GLA's own), echoing the
 * transactionId and nonce, published under the request id to the signer
 * (the verified one, else the claimed one, as for a malformed message).
 * When no signer can be identified the outcome holds only the failed
 * result and a note.  Decides nothing else and changes no state.
 * Returns one with *out set (caller frees), zero on error.
 */
int skd_engine_give_up(SKD_ENG_OUTCOME **out,
    const struct skd_engine_config *cfg, const struct skd_engine_env *env,
    const struct skd_engine_state *state, const char *request_id,
    const unsigned char *msg, size_t len, const char *why);

/*
 * skd_engine_rekey is the GLA-initiated rekey of RFC 5275 4.5.2: new keys
 * (generationCounter of them) for the GL's current members, and a success
 * notice (cMCStatusInfoExt in a signed PKIData) to every GLO as a GLA
 * message.  Returns one with *out set (caller frees) or zero on error; an
 * unknown or deleted GL is an error.
 */
int skd_engine_rekey(SKD_ENG_OUTCOME **out,
    const struct skd_engine_config *cfg, const struct skd_engine_env *env,
    const struct skd_engine_state *state, const char *gl_name);

/*
 * skd_engine_stream sends the key of one SKD_OP_KEY_STREAM op of an
 * applied outcome to every member of its GL: members are read page by
 * page (state->walk_members), each page's shards wrapped and signed (on
 * cfg->threads threads), and emit(arg, page) is called with an outcome
 * holding that page's glKeyPut ops (and glProvideCert messages for
 * members whose certificate no longer verifies); emit applies it (the
 * outcome is freed after emit returns) and returns one, or zero to stop.
 * Exactly once: the KEK is the op's (unwrapped from its archive, never
 * drawn again); members who already hold an entry of the key (a
 * previous attempt's pages, an add in the same request) are skipped, and
 * shards are numbered after the highest already there, so a run killed
 * at any point and started again sends every member the key once.  When
 * the GL has no member with a valid certificate and the key no shard, one
 * shard for the GLA alone is written (the key's archive, shard 0).
 * Returns one when every page was emitted, zero on error.
 */
int skd_engine_stream(const struct skd_engine_config *cfg,
    const struct skd_engine_env *env, const struct skd_engine_state *state,
    const SKD_ENG_OP *op, int (*emit)(void *arg,
    const SKD_ENG_OUTCOME *page), void *arg);

/* ------------------------------------------------------------------ */
/* Applying                                                            */
/* ------------------------------------------------------------------ */

/*
 * skd_engine_apply writes every operation of o to the store, in order,
 * idempotently: a create whose GL is already there with the same content,
 * an update whose target revision (expected + 1) is already there, an add
 * that exists, a remove of something absent, and the store's idempotent
 * puts and publishes all count as done.  Returns one when every op is
 * applied (now or before) and zero on error (see skd_store_error(s)).
 * SKD_OP_KEY_STREAM ops are skipped: the caller streams them
 * (skd_engine_stream) once the rest is applied.
 */
int skd_engine_apply(struct skd_store *s, const SKD_ENG_OUTCOME *o);

/* ------------------------------------------------------------------ */
/* state_mem.c: an in-memory state, for tests and tools                */
/* ------------------------------------------------------------------ */

struct skd_engine_mem;

/* skd_engine_mem_new returns an empty state (free with _free; NULL ok). */
struct skd_engine_mem *skd_engine_mem_new(void);
void skd_engine_mem_free(struct skd_engine_mem *m);

/* skd_engine_mem_state fills *out to read m (borrowed). */
void skd_engine_mem_state(struct skd_engine_state *out,
    struct skd_engine_mem *m);

/* skd_engine_mem_find_key_gl: struct skd_engine_env.find_key_gl for a
 * state from skd_engine_mem_state. */
int skd_engine_mem_find_key_gl(void *state_ctx, char **out_gl,
    const char *key_hex);

/* skd_engine_mem_apply applies o to m with skd_engine_apply's semantics
 * (idempotent).  Returns one on success and zero on error (a GL update
 * whose revision conflicts, out of memory). */
int skd_engine_mem_apply(struct skd_engine_mem *m, const SKD_ENG_OUTCOME *o);

/* Counters for tests: members (or owners) of gl, keys (distinct key ids)
 * of gl, acknowledgements recorded for member of gl. */
size_t skd_engine_mem_count(struct skd_engine_mem *m, const char *gl_name,
    enum skd_store_role role);
size_t skd_engine_mem_count_keys(struct skd_engine_mem *m,
    const char *gl_name);
size_t skd_engine_mem_count_acks(struct skd_engine_mem *m,
    const char *gl_name, const char *member);

#endif
