/*
 * skd_client.h: the GLO and GL member roles of RFC 5275 (sections 3.2, 4
 * and 5.1): build and protect requests, check the GLA's responses, verify
 * and unwrap glKey messages into a local key store bound to the GLA's
 * name (section 8), acknowledge them (5.1 2.c), and encrypt or decrypt
 * content with a group KEK (KEKRecipientInfo).
 *
 *   request.c   control values from simple arguments; one request object
 *               collecting controls, transactionId and senderNonce
 *   response.c  response checks (signature, path, GL name, nonce, tid) and
 *               the status report
 *   keys.c      glKey verification and unwrapping, acks
 *   keystore.c  the key store: KEKs at rest, protected and bound (section 8)
 *   content.c   EnvelopedData with kekri under the newest valid KEK
 *   dir.c       submit / wait / fetch through src/store
 *
 * Errors: functions return one (or a pointer) on success and zero (or
 * NULL) on failure; when err is not NULL it receives a kind and one line
 * of text for the user.  The OpenSSL error queue is cleared on failure
 * after its first reason has been copied into err->msg.
 */
#ifndef SKD_CLIENT_H
#define SKD_CLIENT_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "asn1/skd_asn1.h"
#include "cms/skd_cms.h"
#include "store/skd_store.h"

enum skd_client_err {
	SKD_CLIENT_OK = 0,
	SKD_CLIENT_ERR_INPUT,		/* unreadable or malformed input */
	SKD_CLIENT_ERR_KEY_MISMATCH,	/* private key is not the cert's */
	SKD_CLIENT_ERR_CRYPTO,		/* signature, path or decryption */
	SKD_CLIENT_ERR_NAME,		/* GLA certificate does not name GL */
	SKD_CLIENT_ERR_NONCE,		/* recipientNonce / transactionId */
	SKD_CLIENT_ERR_TIME,		/* signingTime outside the window */
	SKD_CLIENT_ERR_GLA_BINDING,	/* key from another GLA (section 8) */
	SKD_CLIENT_ERR_KEYSTORE,	/* key store unsafe or unusable */
	SKD_CLIENT_ERR_NO_KEY,		/* no suitable key in the store */
	SKD_CLIENT_ERR_DIRECTORY,	/* the store failed */
	SKD_CLIENT_ERR_TIMEOUT,		/* no response in time */
	SKD_CLIENT_ERR_REFUSED,		/* the GLA failed it unanswered */
	SKD_CLIENT_ERR_INTERNAL
};

struct skd_client_error {
	enum skd_client_err	code;
	char			msg[256];
};

/* skd_client_err_name returns a short static name for e. */
const char *skd_client_err_name(enum skd_client_err e);

/* ------------------------------------------------------------------ */
/* request.c                                                           */
/* ------------------------------------------------------------------ */

/* A signer: certificate, matching private key, optional chain. */
struct skd_client_ident {
	X509		*cert;
	EVP_PKEY	*key;
	STACK_OF(X509)	*chain;		/* may be NULL */
};

/*
 * skd_client_ident_load reads cert_path (PEM certificate, further PEM
 * certificates become the chain) and key_path (PEM private key,
 * unencrypted) and refuses a key that does not match the certificate
 * (SKD_CLIENT_ERR_KEY_MISMATCH).  Caller frees with skd_client_ident_free.
 */
struct skd_client_ident *skd_client_ident_load(const char *cert_path,
    const char *key_path, struct skd_client_error *err);
void skd_client_ident_free(struct skd_client_ident *id);

/* skd_client_cert_load reads one PEM (or DER) certificate; caller frees
 * with X509_free. */
X509 *skd_client_cert_load(const char *path, struct skd_client_error *err);

/* A GL owner, member or certificate holder as RFC 5275 3.1 describes it:
 * GeneralName texts ("email:a@b", "URI:...", "dirName:CN=...").  address
 * NULL means "same as name" where the ASN.1 needs one; cert may be NULL. */
struct skd_client_party {
	const char	*name;
	const char	*address;
	X509		*cert;		/* borrowed */
};

/* glUseKEK parameters (RFC 5275 3.1.1).  Fields -1 (or 0 for alg_nid)
 * take the ASN.1 DEFAULT. */
struct skd_client_gl_params {
	const char	*name;
	const char	*address;	/* NULL: name */
	long		 admin;		/* enum skd_gl_admin, -1: managed */
	int		 alg_nid;	/* NID_id_aes{128,192,256}_wrap, 0 */
	long		 duration;	/* days, 0: end of month; -1 default */
	long		 generations;	/* >= 2; -1 default */
	int		 rekey_by_glo;	/* -1 default (FALSE) */
	int		 not_mutually_aware; /* -1 default (TRUE) */
};

/*
 * Control value builders: each returns a new value of the type the control
 * table gives for its control (caller frees with the type's _free), or
 * NULL with err set (SKD_CLIENT_ERR_INPUT for a bad name text).
 */
SKD_GL_USE_KEK *skd_client_new_use_kek(const struct skd_client_gl_params *p,
    const struct skd_client_party *owners, size_t n_owners,
    struct skd_client_error *err);
/* glDelete and glkCompromise values: the GL's GeneralName. */
GENERAL_NAME *skd_client_new_gname(const char *text,
    struct skd_client_error *err);
SKD_GL_ADD_MEMBER *skd_client_new_add_member(const char *gl,
    const struct skd_client_party *member, struct skd_client_error *err);
SKD_GL_DELETE_MEMBER *skd_client_new_delete_member(const char *gl,
    const char *member, struct skd_client_error *err);
/* glRekey: all_keys -1 absent, 0 or 1; p NULL or p->name ignored: new key
 * attributes from p's non-default fields, admin from p->admin. */
SKD_GL_REKEY *skd_client_new_rekey(const char *gl,
    const struct skd_client_gl_params *p, int all_keys,
    struct skd_client_error *err);
/* glAddOwner / glRemoveOwner value. */
SKD_GL_OWNER_ADMINISTRATION *skd_client_new_owner_admin(const char *gl,
    const struct skd_client_party *owner, struct skd_client_error *err);
/* glkRefresh: one Date {start, end (0: absent)}. */
SKD_GL_KREFRESH *skd_client_new_refresh(const char *gl, time_t start,
    time_t end, struct skd_client_error *err);
/* glaQueryRequest { id-cmc-gla-skdAlgRequest, NULL }. */
SKD_GLA_QUERY_REQUEST *skd_client_new_alg_query(struct skd_client_error *err);
/* glManageCert (RFC 5275 3.1.12 Update Cert, 4.10.2). */
SKD_GL_MANAGE_CERT *skd_client_new_manage_cert(const char *gl,
    const struct skd_client_party *member, struct skd_client_error *err);

/* The most requests (controls) the GLA takes in one PKIData: it refuses
 * a PKIData with more, whole (skd-gla(8), LIMITS).  A client with more to
 * ask sends several requests. */
#define SKD_CLIENT_MAX_CONTROLS	500

/* A request under construction (opaque). */
struct skd_client_request;

/* ---- batch.c: many controls, as many requests as the limit needs ---- */

/* One control of a batch's request: its bodyPartID and the caller's label
 * (e.g. the member's name), which the response's statuses name it by. */
struct skd_client_batch_item {
	long	 bpid;
	char	*label;
};

/*
 * Called with each full request r (borrowed: the batch frees it after
 * the call), its number k (1, 2, ...) and its controls' items; returns
 * one to go on, zero to stop the batch (err set).
 */
typedef int (*skd_client_batch_cb)(void *arg, struct skd_client_request *r,
    size_t k, const struct skd_client_batch_item *items, size_t n,
    struct skd_client_error *err);
struct skd_client_batch;

/* skd_client_batch_new starts a batch of requests of at most max controls
 * each (0, or more than SKD_CLIENT_MAX_CONTROLS: that limit).  Free with
 * skd_client_batch_free. */
struct skd_client_batch *skd_client_batch_new(size_t max,
    skd_client_batch_cb cb, void *arg, struct skd_client_error *err);
void skd_client_batch_free(struct skd_client_batch *b);
/* skd_client_batch_add adds control val (borrowed) labelled label
 * (copied); a full request is handed to the callback first.  Returns one
 * on success, zero (err set) when the callback stopped or on error. */
int skd_client_batch_add(struct skd_client_batch *b, enum skd_oid oid,
    const void *val, const char *label, struct skd_client_error *err);
/* skd_client_batch_finish hands the last request (if any) over. */
int skd_client_batch_finish(struct skd_client_batch *b,
    struct skd_client_error *err);
/* How many requests a batch of n controls makes (max as for _new). */
size_t skd_client_batch_requests(size_t n, size_t max);

/*
 * skd_client_request_new starts a PKIData with a fresh random
 * transactionId and senderNonce (RAND_bytes; RFC 5275 3.2.4.2) which the
 * object remembers for the response check.  Free with
 * skd_client_request_free.
 */
struct skd_client_request *skd_client_request_new(
    struct skd_client_error *err);
void skd_client_request_free(struct skd_client_request *r);

/* skd_client_request_add adds a control (val borrowed); returns its
 * bodyPartID or 0. */
long skd_client_request_add(struct skd_client_request *r, enum skd_oid oid,
    const void *val);

/* skd_client_request_add_cms adds a cmsSequence item (der, a DER
 * ContentInfo, copied), e.g. the GLA's forwarded request a GLO approves
 * (RFC 5275 3.2.5); returns its bodyPartID or 0. */
long skd_client_request_add_cms(struct skd_client_request *r,
    const unsigned char *der, size_t len);

/* Borrowed views of what the response must echo. */
const unsigned char *skd_client_request_nonce(
    const struct skd_client_request *r, size_t *out_len);
const ASN1_INTEGER *skd_client_request_tid(
    const struct skd_client_request *r);

/*
 * skd_client_request_protect encodes the PKIData (controls, then
 * transactionId and senderNonce) and protects it (RFC 5275 3.2.1):
 * SignedData by id with signingTime now, and if encrypt_to is not NULL an
 * EnvelopedData for it, signed again if outer_sign.  *out (DER
 * ContentInfo) is the caller's (OPENSSL_free).
 */
int skd_client_request_protect(unsigned char **out, size_t *out_len,
    struct skd_client_request *r, const struct skd_client_ident *id,
    X509 *encrypt_to, int outer_sign, time_t now,
    struct skd_client_error *err);

/* ------------------------------------------------------------------ */
/* response.c                                                          */
/* ------------------------------------------------------------------ */

/* What a response must satisfy; everything borrowed. */
struct skd_client_expect {
	X509_STORE		*trust;		/* required */
	time_t			 now;
	const char		*gl_name;	/* NULL: no GL (glaQueryRequest) */
	const unsigned char	*nonce;		/* NULL: not checked */
	size_t			 nonce_len;
	const ASN1_INTEGER	*tid;		/* NULL: not checked */
	const struct skd_client_ident *ident;	/* opens encrypted responses */
	/* Nonzero: a response whose signature, path, nonce and
	 * transactionId hold but whose signer does not name gl_name is
	 * returned all the same with not_believed set (e.g. the GLA's
	 * answer invalidGLName to a GL name it does not know, signed with
	 * its general certificate since no GL certificate applies). */
	int			 keep_unbound;
};

/* One cMCStatusInfoExt (CMCStatusInfoV2). */
enum skd_client_fail_kind {
	SKD_CLIENT_FAIL_NONE = 0,
	SKD_CLIENT_FAIL_CMC,		/* otherStatusInfo.failInfo */
	SKD_CLIENT_FAIL_SKD,		/* extendedFailInfo skdFailInfo */
	SKD_CLIENT_FAIL_OTHER		/* pendInfo or another extension */
};

struct skd_client_status {
	long			 status;	/* enum skd_cmc_status */
	long			*body_list;	/* bodyPartIDs (paths: first) */
	size_t			 n_body;
	char			*status_string;	/* UTF-8 or NULL */
	enum skd_client_fail_kind fail_kind;
	long			 fail;		/* CMCFailInfo or SKDFailInfo */
};

struct skd_client_response {
	X509			*gla_cert;	/* the PKIResponse's signer */
	time_t			 signing_time;
	int			 nonce_checked;	/* 1 when nonce and tid held */
	struct skd_client_status *statuses;
	size_t			 n_statuses;
	char			**algs;		/* glaQueryResponse: OID names */
	size_t			 n_algs;
	/* Set (with keep_unbound) when the signer's certificate does not
	 * name the GL: why the response is not the GL's answer (RFC 5275
	 * 4, step 3.b); skd_client_response_ok is then zero. */
	char			*not_believed;
};

/*
 * skd_client_response_check opens der (SignedData(PKIResponse), possibly
 * encrypted and signed again: RFC 5275 3.2.1), requires every signature
 * to verify and the PKIResponse signer's path to validate against
 * exp->trust, requires one of that certificate's names to match
 * exp->gl_name (RFC 5275 4.x step 3.b: otherwise the response is not
 * believed: SKD_CLIENT_ERR_NAME), the recipientNonce to equal exp->nonce
 * and the transactionId to equal exp->tid (SKD_CLIENT_ERR_NONCE), then
 * decodes every cMCStatusInfoExt and glaQueryResponse.  *out is the
 * caller's (skd_client_response_free).
 */
int skd_client_response_check(struct skd_client_response **out,
    const unsigned char *der, size_t len, const struct skd_client_expect *exp,
    struct skd_client_error *err);
void skd_client_response_free(struct skd_client_response *r);

/* skd_client_response_ok returns one when every status is success and
 * the response is believed (not_believed unset). */
int skd_client_response_ok(const struct skd_client_response *r);

/*
 * skd_client_response_print writes the report, one status a line:
 * "status: failed (bodyList 1) skdFailInfo=invalidGLName \"...\"", or as
 * a JSON object when json is nonzero.
 */
void skd_client_response_print(BIO *out, const struct skd_client_response *r,
    int json);

/* skd_client_json_str writes s as a JSON string (quotes, backslashes
 * and control characters escaped). */
void skd_client_json_str(BIO *out, const char *s);

/*
 * skd_client_request_expect fills exp's gl_name, nonce and tid from a
 * request we built (der as from skd_client_request_protect; opened with
 * id when encrypted; signatures checked, path not); the strings and
 * buffers go to *out_hold (caller frees with skd_client_hold_free).
 */
struct skd_client_hold;
int skd_client_request_expect(struct skd_client_expect *exp,
    struct skd_client_hold **out_hold, const unsigned char *der, size_t len,
    const struct skd_client_ident *id, struct skd_client_error *err);
void skd_client_hold_free(struct skd_client_hold *h);

/*
 * skd_client_ldif_binary finds the first value of attribute attr (with or
 * without ";binary") given base64 ("attr:: ...", folded lines allowed) in
 * the LDIF text and decodes it into *out (caller frees with OPENSSL_free).
 */
int skd_client_ldif_binary(unsigned char **out, size_t *out_len,
    const char *ldif, size_t ldif_len, const char *attr);

/* ------------------------------------------------------------------ */
/* keys.c                                                              */
/* ------------------------------------------------------------------ */

/* One distributed KEK (RFC 5275 3.1.13) and the GLA it came from. */
struct skd_client_key {
	char		*gl_name;	/* canonical GeneralName text */
	char		*gla_subject;	/* RFC 2253 subject of the signer */
	unsigned char	 gla_fp[32];	/* SHA-256 of the signer cert */
	unsigned char	*key_id;	/* KEKIdentifier.keyIdentifier */
	size_t		 key_id_len;
	int		 alg_nid;	/* glkAlgorithm */
	time_t		 not_before;
	time_t		 not_after;
	unsigned char	*kek;		/* wiped on free */
	size_t		 kek_len;
	long		 body_part_id;	/* of the glKey control; not stored */
	unsigned char	 tid_der[64];	/* the glKey message's transactionId
					   (DER INTEGER), echoed by the ack
					   (RFC 5275 5.1 2.c, 3.2.4.2); not
					   stored */
	size_t		 tid_len;	/* 0: the message had none */
	int		 via_kekri;	/* came in a kekri under an earlier
					   key (RFC 5275 5); not stored */
};

/* skd_client_key_free wipes and frees k's contents and k; NULL ok.
 * skd_client_keys_free does it for an array of n from glkey_open. */
void skd_client_key_free(struct skd_client_key *k);
void skd_client_keys_free(struct skd_client_key *v, size_t n);

/* How glKey messages are checked; everything borrowed. */
struct skd_client_glkey_opts {
	X509_STORE		*trust;		/* required */
	time_t			 now;
	long			 max_future;	/* signingTime <= now + this */
	long			 max_age;	/* signingTime >= now - this;
						   0: no bound */
	const char		*gl_name;	/* NULL: any GL */
	const struct skd_client_ident *ident;	/* the member */
	/* NULL: ktri/kari only.  Else a glKey no ktri/kari of which opens
	 * with ident may be opened by a kekri (RFC 5275 5: GLA-controlled
	 * rollover) whose keyIdentifier is a key of this store for the same
	 * GL from the same GLA (section 8), at least as long (6.2). */
	const struct skd_client_keystore *keystore;
};

/*
 * skd_client_glkey_open verifies a glKey message (SignedData(PKIData) with
 * glKey controls, RFC 5275 5): signature, path against o->trust,
 * signingTime within the window, and that the signer's certificate names
 * each glKey's GL (skd_gname_match_cert); then unwraps every glkWrapped
 * with o->ident (skd_ri_open_cert) or, failing that and with o->keystore,
 * a kekri under a stored key (skd_ri_open_kek; the key's via_kekri is then
 * set; a stored key of another GL or GLA is SKD_CLIENT_ERR_GLA_BINDING).
 * *out_keys (*out_n entries) is the caller's (skd_client_keys_free).
 */
int skd_client_glkey_open(struct skd_client_key **out_keys, size_t *out_n,
    const unsigned char *der, size_t len,
    const struct skd_client_glkey_opts *o, struct skd_client_error *err);

/*
 * skd_client_ack_build builds the member's acknowledgement (RFC 5275 5.1
 * 2.c): SignedData(PKIResponse(cMCStatusInfoExt success, bodyList = the
 * glKey's bodyPartID, statusString "glKey received: <key id hex>")).
 * *out is the caller's (OPENSSL_free).
 */
int skd_client_ack_build(unsigned char **out, size_t *out_len,
    const struct skd_client_key *k, const struct skd_client_ident *id,
    time_t now, struct skd_client_error *err);

/*
 * The key store (keystore.c; the format is in skd-member(1), KEY STORE):
 * a text file, mode 0600, "skd-keystore 2", whose KEKs rest encrypted
 * (AES-256-GCM) under a random store key; the store key is protected
 * either by a passphrase (scrypt, then AES-256-GCM) or for the member's
 * certificate (a CMS EnvelopedData that the member's private key opens).
 * Each entry's RFC 5275 section 8 binding (GL name, GLA subject and
 * certificate SHA-256, key id, algorithm, validity) is in the clear and
 * authenticated as the entry's AAD.  Version 1 files (KEKs in hex) are
 * migrated when opened.  Writes go to a temporary file, are fsynced and
 * renamed over the store under an exclusive lock on "<path>.lock".
 */
struct skd_client_keystore;

/* How a new or migrated store is protected. */
enum skd_client_ks_protect {
	SKD_CLIENT_KS_AUTO = 0,		/* certificate when ident is given,
					   else passphrase */
	SKD_CLIENT_KS_PASSPHRASE,	/* scrypt + AES-256-GCM */
	SKD_CLIENT_KS_CERT		/* EnvelopedData for ident->cert */
};

/*
 * A passphrase source: writes at most size - 1 bytes of passphrase and a
 * NUL into buf and its length into *out_len; confirm is nonzero when a new
 * store is being protected with it (a prompt asks twice).  Returns one, or
 * zero when no passphrase can be had (*why, static text, says why).
 */
typedef int skd_client_passphrase_fn(char *buf, size_t size, size_t *out_len,
    int confirm, const char **why, void *arg);

/* How a store is unlocked, and protected when created or migrated;
 * everything borrowed for the duration of the call. */
struct skd_client_ks_auth {
	skd_client_passphrase_fn	*passphrase;	/* may be NULL */
	void				*arg;
	const struct skd_client_ident	*ident;		/* may be NULL */
	enum skd_client_ks_protect	 protect;	/* new or migrated */
	int				 no_migrate;	/* refuse version 1 */
	int				 scrypt_log2n;	/* new stores: log2 N
							   (10..20); 0: 15 */
};

#define SKD_CLIENT_KS_CREATE	0x1	/* a missing file: create the store */

/*
 * skd_client_keystore_open reads and unlocks the store at path.  A missing
 * file is SKD_CLIENT_ERR_NO_KEY unless flags has SKD_CLIENT_KS_CREATE:
 * then an empty store is written at once (under the lock), protected as
 * auth says.  A version 1 (plaintext) file is rewritten protected before
 * open returns (skd_client_keystore_migrated then says so), or refused
 * with auth->no_migrate.  A file readable or writable by group or others,
 * not a regular file, or malformed is SKD_CLIENT_ERR_KEYSTORE; a wrong
 * passphrase, another certificate's store, or an entry that fails its
 * authentication (tampered, or moved to another GL or GLA) is
 * SKD_CLIENT_ERR_CRYPTO; the file is then left as it was.  Free with
 * skd_client_keystore_free (wipes every KEK and the store key).
 */
struct skd_client_keystore *skd_client_keystore_open(const char *path,
    unsigned flags, const struct skd_client_ks_auth *auth,
    struct skd_client_error *err);
void skd_client_keystore_free(struct skd_client_keystore *ks);

/* One when open migrated a version 1 store (the caller tells the user). */
int skd_client_keystore_migrated(const struct skd_client_keystore *ks);

/* SKD_CLIENT_KS_PASSPHRASE or SKD_CLIENT_KS_CERT. */
enum skd_client_ks_protect skd_client_keystore_protection(
    const struct skd_client_keystore *ks);

/*
 * skd_client_keystore_save writes the keys added since open into the file:
 * under the lock it re-reads the store (another process may have added
 * keys meanwhile), merges ours in (skd_client_keystore_add's rules), and
 * replaces the file atomically (temporary file, fsync, rename, fsync of
 * the directory); ks then holds the merged keys.  A store whose protection
 * changed since open is refused; on any failure the file is unchanged.
 */
int skd_client_keystore_save(struct skd_client_keystore *ks,
    struct skd_client_error *err);

/*
 * skd_client_keystore_add copies k in.  RFC 5275 section 8: a key for a
 * GL whose earlier keys came from a GLA with another certificate
 * fingerprint is refused (SKD_CLIENT_ERR_GLA_BINDING).  A key already
 * there (same GL and key id, same KEK) is success with *out_added 0.
 */
int skd_client_keystore_add(struct skd_client_keystore *ks,
    const struct skd_client_key *k, int *out_added,
    struct skd_client_error *err);

size_t skd_client_keystore_count(const struct skd_client_keystore *ks);
const struct skd_client_key *skd_client_keystore_at(
    const struct skd_client_keystore *ks, size_t i);

/* The key whose identifier is id, or NULL (borrowed). */
const struct skd_client_key *skd_client_keystore_find(
    const struct skd_client_keystore *ks, const unsigned char *id,
    size_t id_len);

/* The newest key of gl valid at now (notBefore <= now < notAfter), or
 * NULL (borrowed). */
const struct skd_client_key *skd_client_keystore_current(
    const struct skd_client_keystore *ks, const char *gl, time_t now);

/* ------------------------------------------------------------------ */
/* review.c: a GLO's review of forwarded requests (RFC 5275 3.2.3-3.2.5) */
/* ------------------------------------------------------------------ */

/* One member request the GLA forwarded to us, verified. */
struct skd_client_forward {
	char		*gl_name;	/* from the request's control */
	char		*gla_subject;	/* RFC 2253, the forwarding GLA */
	time_t		 forwarded_at;	/* the GLA's signingTime */
	char		*signer;	/* RFC 2253, the member who signed */
	time_t		 signing_time;	/* the member's signingTime */
	char		**controls;	/* "glAddMember email:bob@..." */
	size_t		 n_controls;
	long		*body_ids;	/* their bodyPartIDs */
	unsigned char	*nonce;		/* the member's senderNonce */
	size_t		 nonce_len;
	ASN1_INTEGER	*tid;		/* the member's transactionId */
	/* What an approval puts in its cmsSequence (3.2.5): the GLA's
	 * message as it came, or, when it was encrypted for us (3.2.1.2),
	 * the member's request inside it (the GLA could not open ours). */
	unsigned char	*resubmit;
	size_t		 resubmit_len;
	int		 was_encrypted;
};

/*
 * skd_client_forward_open verifies a forwarded request (RFC 5275 3.2.3:
 * SignedData(PKIData(cmsSequence {the member's SignedData(PKIData)})),
 * possibly encrypted for us): every signature, both signers' paths
 * against trust at now, and that the GLA's certificate names the GL the
 * member's controls name (3.2.6); the inner request must hold only member
 * controls for one GL (glAddMember, glDeleteMember, glkCompromise,
 * glkRefresh, glManageCert).  id (may be NULL) opens an EnvelopedData.
 * *out is the caller's (skd_client_forward_free).
 */
int skd_client_forward_open(struct skd_client_forward **out,
    const unsigned char *der, size_t len, X509_STORE *trust, time_t now,
    const struct skd_client_ident *id, struct skd_client_error *err);
void skd_client_forward_free(struct skd_client_forward *f);

/*
 * skd_client_denial_build builds a GLO's denial of a forwarded request
 * (RFC 5275 3.2.4.1, 4.3.1 2.d.2.b.2.c): SignedData(PKIResponse) with
 * one cMCStatusInfoExt failed whose bodyList names the member's controls
 * and whose statusString is reason, echoing the member's transactionId
 * and senderNonce (as recipientNonce), signed by id with signingTime now.
 * *out is the caller's (OPENSSL_free).
 */
int skd_client_denial_build(unsigned char **out, size_t *out_len,
    const struct skd_client_forward *f, const char *reason,
    const struct skd_client_ident *id, time_t now,
    struct skd_client_error *err);

/*
 * skd_client_denial_request builds the request that takes a GLO's denial
 * to the member through the GLA (RFC 5275 3.2.4.1, 3.2.2): a PKIData with
 * no control of its own whose cmsSequence holds the GLA's forwarded
 * message as it came (so the GLA can tell it is its own forward) and the
 * denial (as from skd_client_denial_build, signed by id at now).  A
 * forward that came encrypted for us cannot be returned (the GLA could
 * not open it) and is refused.  Protect and submit *out as any request;
 * it is the caller's (skd_client_request_free).
 */
int skd_client_denial_request(struct skd_client_request **out,
    const struct skd_client_forward *f, const char *reason,
    const struct skd_client_ident *id, time_t now,
    struct skd_client_error *err);

/*
 * skd_client_message_is_request returns one when der (opened with id if
 * encrypted) carries a PKIData before any PKIResponse: a glKey message
 * the GLA put beside its answer in a response entry (e.g. after
 * glkRefresh, RFC 5275 4.8), not an answer.
 */
int skd_client_message_is_request(const unsigned char *der, size_t len,
    const struct skd_client_ident *id);

/*
 * skd_client_response_items copies the cmsSequence items of der's first
 * PKIResponse (DER ContentInfos): the GLA's answers to the requests
 * nested in ours, e.g. to the member's request a GLO resubmitted (RFC
 * 5275 3.2.5).  Nothing is verified here: check each item with
 * skd_client_response_check.  *out (*out_n, maybe 0) is the caller's
 * (skd_client_items_free).
 */
int skd_client_response_items(struct skd_store_blob **out, size_t *out_n,
    const unsigned char *der, size_t len, const struct skd_client_ident *id,
    struct skd_client_error *err);
void skd_client_items_free(struct skd_store_blob *v, size_t n);

/* ------------------------------------------------------------------ */
/* content.c                                                           */
/* ------------------------------------------------------------------ */

/*
 * skd_client_encrypt builds a DER EnvelopedData of in (id-data) for one
 * KEKRecipientInfo under the newest key of gl valid at now (AES-256-CBC
 * content encryption).  *out is the caller's (OPENSSL_free).
 */
int skd_client_encrypt(unsigned char **out, size_t *out_len,
    const struct skd_client_keystore *ks, const char *gl, time_t now,
    const unsigned char *in, size_t in_len, struct skd_client_error *err);

/*
 * skd_client_decrypt opens a DER EnvelopedData with the stored key whose
 * identifier matches a kekri keyIdentifier.  *out is the caller's
 * (OPENSSL_clear_free(*out, *out_len)).
 */
int skd_client_decrypt(unsigned char **out, size_t *out_len,
    const struct skd_client_keystore *ks, const unsigned char *der,
    size_t len, struct skd_client_error *err);

/* ------------------------------------------------------------------ */
/* dir.c                                                               */
/* ------------------------------------------------------------------ */

/* skd_client_submit stores der as a pending request; out_id its UUID.
 * submitter_dn (may be NULL) is our bind DN: the shipped ACLs let only the
 * skdSubmitterDN of a request entry write and read it. */
int skd_client_submit(struct skd_store *s, char out_id[SKD_STORE_ID_LEN],
    const unsigned char *der, size_t len, const char *submitter_dn,
    struct skd_client_error *err);

/*
 * skd_client_wait_response waits at most timeout_ms for the response to
 * id: woken by a persistent search on that one response entry
 * (skd_store_watch_response, which the shipped ACLs allow its submitter),
 * reading the request's state every second without a report, or polling
 * every 100 ms when the server offers no sync search.  *out_msgs (*out_n) freed with
 * skd_store_blobs_free.  SKD_CLIENT_ERR_REFUSED when the GLA failed the
 * request without an answer (its reason in err), SKD_CLIENT_ERR_TIMEOUT
 * when none came (err says where the request is).
 */
int skd_client_wait_response(struct skd_store *s,
    struct skd_store_blob **out_msgs, size_t *out_n, const char *id,
    long timeout_ms, struct skd_client_error *err);

/* How a wait went. */
struct skd_client_wait_info {
	int		watched;	/* the watch was opened */
	int		via_watch;	/* the watch reported the answer */
	unsigned	reads;		/* reads of the response entry */
	unsigned	checks;		/* reads of the request's state */
	unsigned	polls;		/* 100 ms sleeps without a watch */
};

/* skd_client_wait_response_ex is skd_client_wait_response, saying in
 * *info (may be NULL) how the answer came. */
int skd_client_wait_response_ex(struct skd_store *s,
    struct skd_store_blob **out_msgs, size_t *out_n, const char *id,
    long timeout_ms, struct skd_client_wait_info *info,
    struct skd_client_error *err);

/*
 * skd_client_withdraw deletes our request id while it is still pending
 * (skd_store_withdraw_request): SKD_CLIENT_ERR_REFUSED once the GLA has
 * claimed it, SKD_CLIENT_ERR_INPUT when there is no such request.
 */
int skd_client_withdraw(struct skd_store *s, const char *id,
    struct skd_client_error *err);

/* skd_client_fetch_glkeys returns the glKey entries of gl naming me
 * (freed with skd_store_glkey_list_free). */
int skd_client_fetch_glkeys(struct skd_store *s,
    struct skd_store_glkey **out_list, size_t *out_n, const char *gl,
    const char *me, struct skd_client_error *err);

/* skd_client_hex returns lowercase hex of p (caller frees with
 * OPENSSL_free), or NULL. */
char *skd_client_hex(const unsigned char *p, size_t len);

#endif
