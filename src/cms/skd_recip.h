/*
 * skd_recip.h: bare CMS RecipientInfos around a key the caller chose.
 *
 * RFC 5275 3.1.13 and 5: glKey.glkWrapped is a RecipientInfos (RFC 5652
 * 6.2) carrying the group KEK.  OpenSSL's CMS API draws its own random
 * content-encryption key, so these are built and opened with the project's
 * own ASN.1 templates (cms_ri.c) over OpenSSL primitives:
 *
 *   ktri   RSA, PKCS#1 v1.5 (rsaEncryption) or RSAES-OAEP with SHA-256 and
 *          MGF1-SHA-256 (RFC 3560); rid issuerAndSerialNumber (version 0)
 *          or subjectKeyIdentifier (version 2)
 *   kari   ephemeral-static ECDH, X9.63 KDF over ECC-CMS-SharedInfo and
 *          AES key wrap (RFC 5753): P-256 -> SHA-256 KDF, P-384 -> SHA-384,
 *          P-521 -> SHA-512; one KeyAgreeRecipientInfo (and one ephemeral
 *          key) per curve for the recipients without a ukm, with one
 *          recipientEncryptedKey each (RFC 5652 6.2.2), and one of its
 *          own for a recipient with a ukm
 *   kekri  AES key wrap (RFC 3394, RFC 3565) under a previously
 *          distributed KEK named by a key identifier (RFC 5275 5)
 *
 * The distributed key is 16, 24 or 32 bytes (AES-128/192/256).  Input is
 * parsed strictly: DER only (re-encoded and compared byte for byte), no
 * trailing bytes, at most SKD_RI_MAX_RECIPIENTS RecipientInfos.
 *
 * Failures leave reasons on the OpenSSL error queue (ERR_LIB_CMS); the
 * caller drains it.
 */
#ifndef SKD_RECIP_H
#define SKD_RECIP_H

#include <stddef.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* Bounds on what is built or accepted. */
#define SKD_RI_MAX_RECIPIENTS	1000000
#define SKD_RI_MAX_DER		(1024UL * 1024UL * 1024UL)
#define SKD_RI_MAX_ID		1024	/* key identifier, SKI, ukm bytes */

/* RecipientInfo CHOICE alternatives (RFC 5652 6.2). */
enum skd_ri_type {
	SKD_RI_KTRI = 0,
	SKD_RI_KARI = 1,
	SKD_RI_KEKRI = 2,
	SKD_RI_PWRI = 3,	/* parsed and listed, never built or opened */
	SKD_RI_ORI = 4		/* parsed and listed, never built or opened */
};

/* How a recipient is named in the RecipientInfo. */
enum skd_ri_rid_type {
	SKD_RI_RID_ISSUER_SERIAL = 0,	/* issuerAndSerialNumber */
	SKD_RI_RID_SKI = 1,		/* subjectKeyIdentifier / rKeyId */
	SKD_RI_RID_KEKID = 2,		/* KEKIdentifier.keyIdentifier */
	SKD_RI_RID_NONE = 3		/* pwri, ori */
};

/* Options of struct skd_ri_recipient.flags. */
#define SKD_RI_OPT_OAEP	0x1	/* ktri: RSAES-OAEP SHA-256 instead of v1.5 */
#define SKD_RI_OPT_SKI	0x2	/* ktri/kari: name by subjectKeyIdentifier */

/*
 * A recipient's public key and names without its certificate, for a
 * caller that keeps keys in a compact form (the engine's cache of
 * validated members' keys) and would otherwise decode the certificate
 * again: pkey (RSA for ktri, EC P-256/384/521 for kari), the
 * certificate's issuer and serialNumber (issuerAndSerialNumber), and its
 * subjectKeyIdentifier (NULL: none; needed only with SKD_RI_OPT_SKI).
 * checked: an EC pkey already passed SP 800-56A 5.6.2.3.4 partial
 * validation (EVP_PKEY_public_check_quick), which kari then does not
 * repeat.  ktri_ctx (NULL: none): a context on pkey made ready for
 * rsaEncryption (EVP_PKEY_encrypt_init, RSA_PKCS1_PADDING), which a ktri
 * without SKD_RI_OPT_OAEP encrypts with instead of making one (in OpenSSL
 * 3.0 a context made and set up for each RecipientInfo costs about 2 us,
 * an eighth of the RSA-2048 operation); it is used, not duplicated, so by
 * one thread at a time.  Everything is borrowed.
 */
struct skd_ri_pub {
	EVP_PKEY		*pkey;
	const X509_NAME		*issuer;
	const ASN1_INTEGER	*serial;
	const ASN1_OCTET_STRING	*ski;
	int			 checked;
	EVP_PKEY_CTX		*ktri_ctx;
};

/*
 * One recipient for skd_ri_build_set.  Everything is borrowed.
 *   ktri/kari: cert (RSA key for ktri, EC P-256/384/521 for kari), or,
 *              with cert NULL, pub (the same taken apart); flags, and for
 *              kari an optional ukm (ukm_len 0: none).
 *   kekri:     kek/kek_len (16, 24 or 32 bytes: the previous KEK) and
 *              kek_id/kek_id_len (1..SKD_RI_MAX_ID bytes).
 */
struct skd_ri_recipient {
	enum skd_ri_type	 type;
	X509			*cert;
	const struct skd_ri_pub	*pub;
	unsigned int		 flags;
	const unsigned char	*ukm;
	size_t			 ukm_len;
	const unsigned char	*kek;
	size_t			 kek_len;
	const unsigned char	*kek_id;
	size_t			 kek_id_len;
};

/*
 * One recipient as found in a RecipientInfos (skd_ri_list_recipients); a
 * kari with several recipientEncryptedKeys yields one entry per key.  The
 * pointers are owned by the list and freed by skd_ri_free_list.
 */
struct skd_ri_entry {
	enum skd_ri_type	 type;
	int			 version;	/* of the RI; ori: -1 */
	enum skd_ri_rid_type	 rid_type;
	X509_NAME		*issuer;	/* ISSUER_SERIAL, else NULL */
	ASN1_INTEGER		*serial;	/* ISSUER_SERIAL, else NULL */
	unsigned char		*id;		/* SKI or KEK id, else NULL */
	size_t			 id_len;
	int			 key_enc_nid;	/* keyEncryptionAlgorithm */
	int			 wrap_nid;	/* kari: key wrap, else 0 */
};

/*
 * skd_ri_build_set wraps key (16, 24 or 32 bytes) for each of the n
 * recipients (1..SKD_RI_MAX_RECIPIENTS) and writes the DER of the SET OF
 * RecipientInfo to *out_der (caller frees with OPENSSL_free) and its length
 * to *out_len.  Returns one on success and zero on error.  Linear in n apart
 * from the DER SET OF sort.
 */
int skd_ri_build_set(unsigned char **out_der, size_t *out_len,
    const unsigned char *key, size_t key_len,
    const struct skd_ri_recipient *recips, size_t n);

/*
 * skd_ri_open_cert finds the ktri or kari RecipientInfo in der whose rid
 * names cert (issuerAndSerialNumber or subjectKeyIdentifier), decrypts it
 * with pkey (the private key of cert) and writes the key to *out_key (caller
 * frees with skd_ri_free_key) and *out_key_len.  Returns one on success and
 * zero if der is malformed, no RecipientInfo names cert, or decryption
 * fails.
 */
int skd_ri_open_cert(unsigned char **out_key, size_t *out_key_len,
    const unsigned char *der, size_t der_len, X509 *cert, EVP_PKEY *pkey);

/*
 * skd_ri_open_kek finds the kekri whose keyIdentifier equals kek_id, unwraps
 * it with kek (16, 24 or 32 bytes) and writes the key to *out_key (caller
 * frees with skd_ri_free_key) and *out_key_len.  Returns one on success and
 * zero otherwise.
 */
int skd_ri_open_kek(unsigned char **out_key, size_t *out_key_len,
    const unsigned char *der, size_t der_len, const unsigned char *kek,
    size_t kek_len, const unsigned char *kek_id, size_t kek_id_len);

/* skd_ri_free_key wipes and frees a key from skd_ri_open_*; NULL is ok. */
void skd_ri_free_key(unsigned char *key, size_t key_len);

/*
 * skd_ri_list_recipients parses der strictly and writes one entry per
 * recipient to *out_list (caller frees with skd_ri_free_list) and their
 * number to *out_n.  Returns one on success and zero on error.
 */
int skd_ri_list_recipients(struct skd_ri_entry **out_list, size_t *out_n,
    const unsigned char *der, size_t der_len);

/* skd_ri_free_list frees a list from skd_ri_list_recipients; NULL is ok. */
void skd_ri_free_list(struct skd_ri_entry *list, size_t n);

/*
 * skd_ri_envelope_with_key builds a ContentInfo (id-envelopedData) whose
 * recipientInfos are ri_der (as from skd_ri_build_set) and whose id-data
 * content is encrypted with AES-CBC (128/192/256 by key_len) under key
 * itself as the content-encryption key.  Opening it with `openssl cms
 * -decrypt` proves that ri_der carries exactly key.  The version follows
 * RFC 5652 6.1 (no originatorInfo or unprotectedAttrs are emitted).  Writes
 * the DER to *out_der (caller frees with OPENSSL_free) and *out_len.
 * Returns one on success and zero on error.
 */
int skd_ri_envelope_with_key(unsigned char **out_der, size_t *out_len,
    const unsigned char *ri_der, size_t ri_der_len, const unsigned char *key,
    size_t key_len, const unsigned char *content, size_t content_len);

#endif
