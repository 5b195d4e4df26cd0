/*
 * skd_kgen.h: the CA of CMC server-side key generation
 * (draft-turner-cmc-serverkeygeneration-00): key generation, certificate
 * issuing under a keygen CA (separate from the per-GL issuer of RFC 5275
 * 3.2.6), the returned key format (section 5: AsymmetricKeyPackage in a
 * SignedData by the CA in the EnvelopedData of the shroud) and the
 * archive of a generated key.  Uses asn1 and cms; knows nothing of the
 * engine, the store or LDAP.  The engine decides (src/engine/keygen.c).
 *
 * Functions return one on success and zero on error unless said.
 */
#ifndef SKD_KGEN_H
#define SKD_KGEN_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "asn1/skd_asn1.h"
#include "cms/skd_shroud.h"

/* The key types offered (issue 17: RSA 2048/3072, EC P-256/P-384). */
enum skd_kgen_type {
	SKD_KGEN_NONE = 0,
	SKD_KGEN_RSA2048,
	SKD_KGEN_RSA3072,
	SKD_KGEN_P256,
	SKD_KGEN_P384
};

/* "rsa2048", "rsa3072", "p256", "p384" (static), NULL for NONE. */
const char *skd_kgen_type_name(enum skd_kgen_type t);
/* The inverse (also "ec-p256", "ec-p384", "rsa"= rsa2048); NONE if
 * unknown. */
enum skd_kgen_type skd_kgen_type_from_name(const char *name);

/*
 * skd_kgen_type_from_spki reads the key type a request asks for from its
 * template's SubjectPublicKeyInfo (draft 6.1): rsaEncryption with an empty
 * or unparsable key is RSA 2048, else the modulus size of the key given;
 * id-ecPublicKey with namedCurve P-256 or P-384.  Anything else: NONE
 * (badAlg).
 */
enum skd_kgen_type skd_kgen_type_from_spki(const X509_PUBKEY *spki);

/* skd_kgen_crmf_id returns the certReqId of m, its BodyPartID (RFC 5272
 * 3.2.1.3.2), or -1 if it is not one (negative, too large). */
long skd_kgen_crmf_id(const SKD_CRMF_MSG *m);

/*
 * skd_kgen_crmf_read checks a CRMF request (RFC 4211) used as the template
 * of a server key generation request and reads what it asks for:
 * *out_subject (NULL: the requester's) and *out_exts (NULL: none), both
 * borrowed from m, and
 * *out_type (draft 6.1: the publicKey's algorithm with a zero length key;
 * RSA 2048 with no publicKey).  Returns -1 if it can be honoured, else the
 * CMCFailInfo of the refusal (badAlg, badRequest) with *out_why (static).
 */
int skd_kgen_crmf_read(const SKD_CRMF_MSG *m, const X509 *ca_cert,
    const X509_NAME **out_subject,
    const STACK_OF(X509_EXTENSION) **out_exts, enum skd_kgen_type *out_type,
    const char **out_why);

/*
 * skd_kgen_template_spki builds the SubjectPublicKeyInfo a client puts in
 * its request template for type t: RSA, an RSAPublicKey whose modulus has
 * the size asked for (2^(bits-1)+1, no private key exists); EC, the curve
 * with an empty key.  Caller frees with X509_PUBKEY_free; NULL on error.
 */
X509_PUBKEY *skd_kgen_template_spki(enum skd_kgen_type t);

/* skd_kgen_generate draws a new key pair of type t (caller frees with
 * EVP_PKEY_free); NULL on error. */
EVP_PKEY *skd_kgen_generate(enum skd_kgen_type t);

/* The keygen CA; everything borrowed. */
struct skd_kgen_ca {
	X509		*cert;
	EVP_PKEY	*key;
	STACK_OF(X509)	*chain;		/* intermediates; may be NULL */
	long		 validity_days;	/* 0: SKD_KGEN_DEFAULT_DAYS */
	X509		*recovery_cert;	/* archive recipient; NULL: none */
	/* Key recovery (kgen_recover.c): the recovery certificate's key
	 * (NULL: recovery is not offered) and the certificates of the
	 * officers who may ask for it (NULL or empty: nobody). */
	EVP_PKEY	*recovery_key;
	STACK_OF(X509)	*recovery_officers;
	/* Proof of possession (draft 8; kgen_pop.c): nonzero, an issued
	 * certificate is published only after the requester proved it
	 * holds the key (RFC 5272 6.7 encrypted/decrypted POP); the POP
	 * values are derived statelessly from pop_secret (6.7's y = F(x,R)). */
	int		 require_pop;
	const unsigned char *pop_secret;
	size_t		 pop_secret_len;
	/* RA-involved requests (draft 2.5.2): the certificates of the RAs
	 * whose forwarding is accepted (NULL or empty: none). */
	STACK_OF(X509)	*ras;
};

#define SKD_KGEN_DEFAULT_DAYS	365

/* skd_kgen_issue results */
enum skd_kgen_issue_rc {
	SKD_KGEN_ISSUED = 1,
	SKD_KGEN_REFUSED = 0,		/* *out_why says which extension */
	SKD_KGEN_ERROR = -1
};

/*
 * skd_kgen_issue issues the certificate for pkey under ca: subject,
 * validity now .. now + validity_days, serial (1..20 bytes, the top bit
 * cleared by the caller), keyUsage keyEncipherment (RSA) or keyAgreement
 * (EC), critical, subjectKeyIdentifier, authorityKeyIdentifier, and the
 * requested extensions req_exts (may be NULL) under RFC 5272's rule that
 * the draft quotes: subjectAltName and extendedKeyUsage emailProtection are
 * honoured; a keyUsage is honoured when it asks only for what the profile
 * gives the key type (anything else would change its intent); a
 * subjectKeyIdentifier is replaced by the CA's own; basicConstraints
 * without cA is dropped; any other extension, or one the rules above
 * refuse, is REFUSED (unsupportedExt) with a static reason in *out_why.
 * On ISSUED *out is the caller's (X509_free).
 */
enum skd_kgen_issue_rc skd_kgen_issue(X509 **out, const char **out_why,
    const struct skd_kgen_ca *ca, const X509_NAME *subject,
    const STACK_OF(X509_EXTENSION) *req_exts, EVP_PKEY *pkey,
    const unsigned char *serial, size_t serial_len, time_t now);

/*
 * skd_kgen_package builds the returned key (draft section 5): the
 * AsymmetricKeyPackage of pkey (one OneAsymmetricKey, with the public
 * key) in a SignedData by the CA (eContentType id-ct-KP-aKeyPackage,
 * signingTime now, the CA's chain included), in the EnvelopedData of sh.
 * *out is a DER ContentInfo (caller frees with OPENSSL_free); the
 * plaintext key never leaves this function but encrypted.
 */
int skd_kgen_package(unsigned char **out, size_t *out_len,
    const struct skd_kgen_ca *ca, EVP_PKEY *pkey, time_t now,
    const struct skd_shroud *sh);

/*
 * skd_kgen_archive builds the archive of pkey: the same signed
 * AsymmetricKeyPackage enveloped for ca->recovery_cert (which must be
 * set).  *out as above.
 */
int skd_kgen_archive(unsigned char **out, size_t *out_len,
    const struct skd_kgen_ca *ca, EVP_PKEY *pkey, time_t now);

/*
 * skd_kgen_open is the client's side: opens the shroud der as who,
 * verifies the inner SignedData (its signer must validate against trust
 * at now, skd_kgen_check_signer; trust NULL: signature only) and returns the
 * private key of its AsymmetricKeyPackage (exactly one key; caller frees
 * with EVP_PKEY_free), or NULL.  *out_signer, when not NULL, gets the
 * inner signer's certificate (caller frees).
 */
EVP_PKEY *skd_kgen_open(const unsigned char *der, size_t len,
    const struct skd_shroud_opener *who, X509_STORE *trust, time_t now,
    X509 **out_signer);

/*
 * skd_kgen_check_signer validates the path of a CA's signing certificate
 * (the keygen CA signs the returned key and the response) against trust at
 * now, untrusted (may be NULL) helping to build it, with purpose any: one
 * when it validates.
 */
int skd_kgen_check_signer(X509 *signer, STACK_OF(X509) *untrusted,
    X509_STORE *trust, time_t now);

/* ---- kgen_recover.c: key recovery (docs/keygen.md) ---- */

/* Text length of an archive id (a UUID's), with its NUL. */
#define SKD_KGEN_ARCHIVE_ID_LEN	37

/*
 * skd_kgen_archive_id writes the id of the archive of cert's key: a
 * UUID (RFC 9562 version 8) made of the first 16 bytes of the SHA-256 of
 * the DER IssuerAndSerialNumber of cert, so that the archive of a
 * certificate is found by the certificate alone and one certificate has
 * one archive.  Returns one on success and zero on error.
 */
int skd_kgen_archive_id(char out[SKD_KGEN_ARCHIVE_ID_LEN], X509 *cert);

/* skd_kgen_is_officer: one when cert is one of ca->recovery_officers
 * (the same certificate, byte for byte); skd_kgen_is_ra the same for
 * ca->ras. */
int skd_kgen_is_officer(const struct skd_kgen_ca *ca, X509 *cert);
int skd_kgen_is_ra(const struct skd_kgen_ca *ca, X509 *cert);

/*
 * skd_kgen_recover opens the archive der (skd_kgen_archive) with
 * ca->recovery_cert / ca->recovery_key, checks that the package inside
 * was signed by ca->cert and that its key is cert's.  Returns the key
 * (caller frees with EVP_PKEY_free) or NULL.
 */
EVP_PKEY *skd_kgen_recover(const unsigned char *der, size_t len,
    const struct skd_kgen_ca *ca, X509 *cert, time_t now);

/* ---- kgen_pop.c: proof of possession (draft 8, RFC 5272 6.7) ---- */

/*
 * The request a POP is about: skd names the issued certificate with a
 * TaggedRequest orm { bpid, id-skd-popCertificate, the Certificate }
 * (RFC 5272 3.2.1.2.3 OtherReqMsg), so that the server keeps no state
 * between the rounds: y = HMAC-SHA256(pop_secret, DER(request)), the
 * witness SHA-256(y), thePOP = HMAC-SHA256(y, DER(request)).
 *
 * skd_kgen_pop_challenge builds the EncryptedPOP for cert (y enveloped
 * for cert's key; caller frees with SKD_ENCRYPTED_POP_free); NULL on
 * error.  skd_kgen_pop_check: one when dp proves possession for req
 * (thePOPAlgID hmacWithSHA256, the value right), zero otherwise.
 * skd_kgen_pop_cert returns the certificate req names (caller frees), or
 * NULL when req is not skd's popCertificate request.
 */
SKD_ENCRYPTED_POP *skd_kgen_pop_challenge(const struct skd_kgen_ca *ca,
    X509 *cert, long bpid);
int skd_kgen_pop_check(const struct skd_kgen_ca *ca,
    const SKD_TAGGED_REQUEST *req, const SKD_DECRYPTED_POP *dp);
X509 *skd_kgen_pop_cert(const SKD_TAGGED_REQUEST *req);

/*
 * skd_kgen_pop_answer is the client's side: decrypts ep's y with key (the
 * generated key; cert its certificate), checks the witness (RFC 5272
 * 6.7: popFailed when it does not match) and returns the DecryptedPOP
 * (caller frees with SKD_DECRYPTED_POP_free), or NULL.
 */
SKD_DECRYPTED_POP *skd_kgen_pop_answer(const SKD_ENCRYPTED_POP *ep,
    EVP_PKEY *key, X509 *cert);

#endif
