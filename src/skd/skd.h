/*
 * <skd/skd.h>: libskd, the public C interface of skd for applications
 * that are members of RFC 5275 group lists: open a key store, fetch,
 * verify, unwrap and store the member's glKeys from the directory,
 * encrypt and decrypt content with a GL's current KEK (CMS EnvelopedData
 * with one KEKRecipientInfo, which `openssl cms -decrypt -secretkey`
 * opens), list GLs and keys.  See skd(3).
 *
 * Conventions (as OpenSSL's):
 *  - every type is opaque; TYPE_free accepts NULL;
 *  - functions returning int return 1 on success and 0 on error, those
 *    returning a pointer return NULL on error; the reason is then in
 *    skd_error_code() and skd_error_message() (per thread);
 *  - "get0" returns a pointer the object keeps (valid until it changes or
 *    is freed), "get1" a copy the caller frees, "set1" copies its
 *    argument;
 *  - buffers handed out (ciphertext, plaintext) are freed with skd_free.
 *
 * Link with `pkg-config --cflags --libs skd`.  Only the names in this
 * header are exported; the version script (libskd.map) fixes them under
 * the version node SKD_0, and the soname is libskd.so.SKD_VERSION_MAJOR.
 */
#ifndef SKD_SKD_H
#define SKD_SKD_H

#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SKD_EXPORT __attribute__((visibility("default")))
#else
#define SKD_EXPORT
#endif

/* ---- version --------------------------------------------------------- */

#define SKD_VERSION_MAJOR	0
#define SKD_VERSION_MINOR	1
#define SKD_VERSION_PATCH	0
#define SKD_VERSION_TEXT	"0.1.0"
/* 0xMMNNPP00, comparable as a number. */
#define SKD_VERSION_NUMBER	((SKD_VERSION_MAJOR << 24) | \
				 (SKD_VERSION_MINOR << 16) | \
				 (SKD_VERSION_PATCH << 8))

/* The version of the library actually loaded (SKD_VERSION_NUMBER form,
 * and text). */
SKD_EXPORT unsigned long skd_version(void);
SKD_EXPORT const char *skd_version_text(void);

/* ---- errors ------------------------------------------------------------ */

/* The kind of the last failure on this thread; the values are stable. */
enum skd_error {
	SKD_OK = 0,
	SKD_ERR_INPUT = 1,		/* unreadable or malformed input */
	SKD_ERR_KEY_MISMATCH = 2,	/* private key is not the cert's */
	SKD_ERR_CRYPTO = 3,		/* signature, path or decryption */
	SKD_ERR_NAME = 4,		/* GLA certificate does not name GL */
	SKD_ERR_TIME = 5,		/* signingTime outside the window */
	SKD_ERR_GLA_BINDING = 6,	/* key from another GLA (RFC 5275 8) */
	SKD_ERR_KEYSTORE = 7,		/* key store unsafe or unusable */
	SKD_ERR_NO_KEY = 8,		/* no suitable key, or no glKey */
	SKD_ERR_DIRECTORY = 9,		/* the directory failed or refused */
	SKD_ERR_ARGUMENT = 10,		/* a NULL or invalid argument */
	SKD_ERR_INTERNAL = 11		/* out of memory, or a bug */
};

/* skd_error_code returns the kind of this thread's last failure (SKD_OK
 * after skd_error_clear or before any failure). */
SKD_EXPORT int skd_error_code(void);
/* skd_error_message returns one line describing it (never NULL; valid
 * until the next libskd call on this thread). */
SKD_EXPORT const char *skd_error_message(void);
/* skd_error_name returns a short static name for code ("crypto"). */
SKD_EXPORT const char *skd_error_name(int code);
SKD_EXPORT void skd_error_clear(void);

/* skd_free wipes and frees a buffer libskd handed out; NULL is fine. */
SKD_EXPORT void skd_free(void *p, size_t len);

/* ---- the member's identity ------------------------------------------- */

/* A member: certificate and private key (PEM), the trust anchors and
 * CRLs its glKeys are checked against, and its name in the GLs. */
typedef struct skd_member_st SKD_MEMBER;

/*
 * skd_member_load reads cert_file (PEM; further certificates are the
 * chain), key_file (unencrypted PEM private key matching the certificate:
 * else SKD_ERR_KEY_MISMATCH), ca_file (PEM trust anchors, required) and
 * crl_file (PEM CRLs, may be NULL).  The member's name defaults to the
 * certificate's first email subjectAltName ("email:a@example.com"), else
 * its first name.  Free with skd_member_free.
 */
SKD_EXPORT SKD_MEMBER *skd_member_load(const char *cert_file,
    const char *key_file, const char *ca_file, const char *crl_file);
SKD_EXPORT void skd_member_free(SKD_MEMBER *m);
/* skd_member_set1_name sets the member's GeneralName text ("email:..."). */
SKD_EXPORT int skd_member_set1_name(SKD_MEMBER *m, const char *name);
SKD_EXPORT const char *skd_member_get0_name(const SKD_MEMBER *m);

/* ---- the key store ----------------------------------------------------- */

typedef struct skd_keystore_st SKD_KEYSTORE;
/* One key of a store, borrowed from it (valid until the store changes). */
typedef struct skd_key_st SKD_KEY;
/* How a key store is unlocked (and protected when created). */
typedef struct skd_unlock_st SKD_UNLOCK;

/*
 * A passphrase source: writes at most size - 1 bytes and a NUL into buf
 * and the length into *out_len; confirm is nonzero when a new store is
 * being protected (an interactive prompt asks twice).  Returns 1, or 0
 * when no passphrase can be had.
 */
typedef int skd_passphrase_cb(char *buf, size_t size, size_t *out_len,
    int confirm, void *arg);

SKD_EXPORT SKD_UNLOCK *skd_unlock_new(void);
SKD_EXPORT void skd_unlock_free(SKD_UNLOCK *u);
/* The store is unlocked with a passphrase from cb (arg passed through). */
SKD_EXPORT int skd_unlock_set_passphrase_cb(SKD_UNLOCK *u,
    skd_passphrase_cb *cb, void *arg);
/* The store is unlocked with the member's private key (m is borrowed:
 * keep it until the store is freed). */
SKD_EXPORT int skd_unlock_set0_member(SKD_UNLOCK *u, const SKD_MEMBER *m);

/* How a new store (or an old plaintext one, migrated) is protected. */
#define SKD_PROTECT_AUTO	0	/* the member's certificate when a
					   member is set, else a passphrase */
#define SKD_PROTECT_PASSPHRASE	1	/* scrypt + AES-256-GCM */
#define SKD_PROTECT_CERTIFICATE	2	/* CMS EnvelopedData for the member */
SKD_EXPORT int skd_unlock_set_protection(SKD_UNLOCK *u, int how);

/* skd_keystore_open flags */
#define SKD_KEYSTORE_CREATE	0x1	/* a missing file: an empty store */
#define SKD_KEYSTORE_NO_MIGRATE	0x2	/* refuse a plaintext (version 1)
					   store rather than rewrite it */

/*
 * skd_keystore_open reads and unlocks the member's key store at path: the
 * file skd member fetch --keystore writes, its KEKs encrypted at rest
 * under a passphrase or for the member's certificate (skd-member(1), KEY
 * STORE), which unlock supplies.  A file readable or writable by others,
 * or malformed, is SKD_ERR_KEYSTORE; a wrong secret or another member's
 * store SKD_ERR_CRYPTO; a missing file without SKD_KEYSTORE_CREATE
 * SKD_ERR_NO_KEY.  Free with skd_keystore_free (wipes the keys).
 */
SKD_EXPORT SKD_KEYSTORE *skd_keystore_open(const char *path,
    unsigned int flags, const SKD_UNLOCK *unlock);
SKD_EXPORT void skd_keystore_free(SKD_KEYSTORE *ks);

SKD_EXPORT size_t skd_keystore_get_count(const SKD_KEYSTORE *ks);
/* The i-th key, oldest first, or NULL past the end. */
SKD_EXPORT const SKD_KEY *skd_keystore_get0_key(const SKD_KEYSTORE *ks,
    size_t i);
/* The newest key of gl valid now, or NULL (SKD_ERR_NO_KEY). */
SKD_EXPORT const SKD_KEY *skd_keystore_get0_current(const SKD_KEYSTORE *ks,
    const char *gl);
/*
 * skd_keystore_get1_gls lists the GLs the store holds keys for (each
 * once): *out_names (*out_n strings) is the caller's, freed with
 * skd_names_free.
 */
SKD_EXPORT int skd_keystore_get1_gls(const SKD_KEYSTORE *ks,
    char ***out_names, size_t *out_n);
SKD_EXPORT void skd_names_free(char **names, size_t n);

/* A key's GL name, its distributing GLA (RFC 2253 subject), its key
 * identifier (*out_len bytes), its key-wrap algorithm ("id-aes256-wrap")
 * and its validity. */
SKD_EXPORT const char *skd_key_get0_gl(const SKD_KEY *k);
SKD_EXPORT const char *skd_key_get0_gla(const SKD_KEY *k);
SKD_EXPORT const unsigned char *skd_key_get0_id(const SKD_KEY *k,
    size_t *out_len);
SKD_EXPORT const char *skd_key_get0_algorithm(const SKD_KEY *k);
SKD_EXPORT time_t skd_key_get_not_before(const SKD_KEY *k);
SKD_EXPORT time_t skd_key_get_not_after(const SKD_KEY *k);

/* ---- the directory ----------------------------------------------------- */

typedef struct skd_dir_st SKD_DIR;

/* skd_dir_open flags */
#define SKD_DIR_SASL_EXTERNAL	0x1	/* bind with SASL EXTERNAL */
#define SKD_DIR_STARTTLS	0x2	/* ldap:// then StartTLS, required */

/*
 * skd_dir_open connects to uri (ldap://, ldaps:// or ldapi://) and binds:
 * simple with bind_dn and password, or SASL EXTERNAL.  base_dn is skd's
 * base ("ou=skd,dc=example,dc=com"); tls_ca_file (may be NULL: the system
 * default) verifies the server for ldaps:// and StartTLS.  A refused bind
 * or an unreachable server is SKD_ERR_DIRECTORY with the server's reason.
 * Free with skd_dir_close.
 */
SKD_EXPORT SKD_DIR *skd_dir_open(const char *uri, const char *base_dn,
    const char *bind_dn, const char *password, unsigned int flags,
    const char *tls_ca_file);
SKD_EXPORT void skd_dir_close(SKD_DIR *d);

/* skd_dir_get1_gls lists the GLs in the directory (active ones); freed
 * with skd_names_free. */
SKD_EXPORT int skd_dir_get1_gls(SKD_DIR *d, char ***out_names,
    size_t *out_n);

/* skd_fetch flags */
#define SKD_FETCH_NO_ACK	0x1	/* do not acknowledge (5.1 2.c) */

/*
 * skd_fetch reads m's glKey entries of gl from d, verifies each message
 * (signature, PKIX path against m's trust anchors, signingTime, that the
 * GLA's certificate names gl), unwraps the KEKs with m's key, adds the new
 * ones to ks (a key from another GLA than the GL's earlier keys is
 * refused: RFC 5275 section 8), saves ks and acknowledges each new key to
 * the GLA (RFC 5275 5.1 2.c) unless SKD_FETCH_NO_ACK.  *out_added (may be
 * NULL) is the number of new keys.  No glKey entry at all is
 * SKD_ERR_NO_KEY.  Returns 0 when any entry failed (the keys that did open
 * are stored all the same).
 */
SKD_EXPORT int skd_fetch(SKD_KEYSTORE *ks, SKD_DIR *d, const SKD_MEMBER *m,
    const char *gl, unsigned int flags, size_t *out_added);

/* ---- content ------------------------------------------------------------ */

/*
 * skd_encrypt encrypts in (in_len bytes) for gl: a DER CMS EnvelopedData
 * (ContentInfo) with one KEKRecipientInfo under the newest key of gl valid
 * now and AES-256-CBC content encryption.  *out (*out_len bytes) is freed
 * with skd_free.  No such key is SKD_ERR_NO_KEY.
 */
SKD_EXPORT int skd_encrypt(unsigned char **out, size_t *out_len,
    const SKD_KEYSTORE *ks, const char *gl, const unsigned char *in,
    size_t in_len);
/*
 * skd_decrypt opens a DER EnvelopedData with the key of ks whose identifier
 * a KEKRecipientInfo names.  *out is freed with skd_free.
 */
SKD_EXPORT int skd_decrypt(unsigned char **out, size_t *out_len,
    const SKD_KEYSTORE *ks, const unsigned char *in, size_t in_len);

#ifdef __cplusplus
}
#endif

#endif
