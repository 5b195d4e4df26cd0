/*
 * skd_cms.h: the CMS protection layers (RFC 5652) used by RFC 5275 3.2:
 * SignedData with signingTime (and contentHints over an EnvelopedData),
 * EnvelopedData with ktri, kari and kekri recipients.  Bytes in, objects
 * out; this module knows nothing of GL policy.  Built on OpenSSL's CMS API.
 *
 * Errors: functions return one on success and zero on error, leaving
 * OpenSSL's error queue for the caller; the module pushes its own reason
 * (ERR_LIB_USER, enum skd_cms_reason) last, so that
 *   ERR_GET_LIB(ERR_peek_last_error()) == ERR_LIB_USER
 * and ERR_GET_REASON(...) tell callers what failed (e.g. bad signature →
 * CMC badMessageCheck, RFC 5275 4.1 2.b).
 *
 * Nesting (RFC 5275 3.2.1.2, RFC 5652 5.2 and 6.1): a layer's eContent
 * (or encryptedContent) is the inner layer itself, a bare SignedData or
 * EnvelopedData, and the eContentType (or the EnvelopedData's content
 * type) names it: id-signedData, id-envelopedData.  skd_cms_sign and
 * skd_cms_envelope return whole ContentInfos; skd_cms_content_info_unwrap
 * takes the bare layer out to nest it.  On input both that form and the
 * ContentInfo form skd emitted before (the layer's complete ContentInfo,
 * as RFC 3855 does without MIME) are accepted, each strictly:
 * skd_cms_nested_content_info turns either into the inner ContentInfo.
 */
#ifndef SKD_CMS_H
#define SKD_CMS_H

#include <stddef.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* Reasons pushed with ERR_raise_data(ERR_LIB_USER, reason, ...). */
enum skd_cms_reason {
	SKD_CMS_R_NOT_DER = 100,	/* BER, trailing bytes, bad TLVs */
	SKD_CMS_R_WRONG_TYPE,		/* not the ContentInfo type expected */
	SKD_CMS_R_SIGNER_COUNT,		/* not exactly one SignerInfo */
	SKD_CMS_R_BAD_SIGNATURE,	/* signature or digest does not verify */
	SKD_CMS_R_NO_SIGNING_TIME,	/* absent or malformed (RFC 5275 3.2.4.3) */
	SKD_CMS_R_BAD_ATTRIBUTE,	/* contentType/contentHints malformed */
	SKD_CMS_R_NO_CONTENT,		/* detached or empty eContent */
	SKD_CMS_R_BAD_RECIPIENT,	/* unusable recipient description */
	SKD_CMS_R_DECRYPT_FAILED,	/* no matching recipient or wrong key */
	SKD_CMS_R_ENCODE_FAILED		/* could not build or encode */
};

/* ---- cms_util.c ---- */

/*
 * ContentHints (RFC 2634 2.9, id-aa-contentHint 1.2.840.113549.1.9.16.2.4):
 *   ContentHints ::= SEQUENCE {
 *     contentDescription UTF8String (SIZE (1..MAX)) OPTIONAL,
 *     contentType ContentType }
 */
typedef struct skd_content_hints_st {
	ASN1_UTF8STRING	*contentDescription;
	ASN1_OBJECT	*contentType;
} SKD_CONTENT_HINTS;
DECLARE_ASN1_FUNCTIONS(SKD_CONTENT_HINTS)

/*
 * skd_cms_der_check returns one when der[0..len) is exactly one TLV in
 * DER's definite, minimal length form, recursively through constructed
 * values, with no trailing bytes; otherwise zero with SKD_CMS_R_NOT_DER
 * pushed.  Primitive values (e.g. eContent) are not looked into.  It is
 * skd_der_check_structure (asn1) with the cms module's error reason.
 */
int skd_cms_der_check(const unsigned char *der, size_t len);

/*
 * skd_cms_d2i_content_info checks der with skd_cms_der_check and decodes it;
 * returns a new CMS_ContentInfo (caller frees with CMS_ContentInfo_free)
 * whose re-encoding is byte for byte der, or NULL.
 */
CMS_ContentInfo *skd_cms_d2i_content_info(const unsigned char *der,
    size_t len);

/*
 * skd_cms_content_info_unwrap writes to *out (caller frees with
 * OPENSSL_free) the content of the DER ContentInfo ci (RFC 5652 3: the
 * value inside content [0] EXPLICIT, e.g. a bare SignedData), which must
 * be a constructed value (SignedData, EnvelopedData, ...).  This is how a
 * layer is nested in the next one (RFC 5652 5.2).  If out_type is not
 * NULL it receives the contentType (caller frees with ASN1_OBJECT_free).
 * Returns one on success and zero on error (SKD_CMS_R_NOT_DER).
 */
int skd_cms_content_info_unwrap(unsigned char **out, size_t *out_len,
    ASN1_OBJECT **out_type, const unsigned char *ci, size_t ci_len);

/* skd_cms_nested_content_info: the content comes from an EnvelopedData
 * (see below). */
#define SKD_CMS_NEST_IN_ENVELOPED	0x01

/*
 * skd_cms_nested_content_info returns in *out (caller frees with
 * OPENSSL_free) the DER ContentInfo of the inner layer carried as content
 * announced as type (an eContentType or an EnvelopedData's content type,
 * id-signedData or id-envelopedData), accepting exactly:
 *   - the bare layer of that type (RFC 5652 5.2 / 6.1), wrapped here in a
 *     ContentInfo of type; or
 *   - a ContentInfo whose contentType is type (the ContentInfo form).
 * With SKD_CMS_NEST_IN_ENVELOPED, id-data announced by an EnvelopedData
 * stands for id-signedData: `openssl cms -encrypt` and other S/MIME tools
 * label every EnvelopedData content id-data, and the label is protected by
 * nothing, so refusing it would buy no security.  The result is strict DER
 * and decodes as a ContentInfo of the announced type (checked here).
 * Anything else returns zero with SKD_CMS_R_WRONG_TYPE or SKD_CMS_R_NOT_DER.
 * If out_type is not NULL it receives the type of the result (borrowed
 * static object from OBJ_nid2obj; never free it).
 */
int skd_cms_nested_content_info(unsigned char **out, size_t *out_len,
    const ASN1_OBJECT **out_type, const ASN1_OBJECT *type,
    const unsigned char *content, size_t len, unsigned flags);

/* ---- cms_sign.c ---- */

/* Add a contentHints signed attribute naming the inner content type of the
 * EnvelopedData being signed (RFC 5275 3.2.1.2, RFC 2634 2.9).  Implied
 * when econtent_type is id-envelopedData. */
#define SKD_CMS_CONTENT_HINTS	0x01

/*
 * skd_cms_sign builds a DER ContentInfo holding a SignedData (RFC 5652 5)
 * over content with eContentType econtent_type (e.g. id-cct-PKIData,
 * id-cct-PKIResponse, id-signedData, id-envelopedData), one SignerInfo by
 * signer/key (RSA PKCS#1 v1.5 with SHA-256; ECDSA with SHA-256 on P-256,
 * SHA-384 on P-384, SHA-512 on P-521), signed attributes contentType,
 * messageDigest and signingTime = signing_time (UTCTime for 1950..2049,
 * else GeneralizedTime: RFC 5652 11.3), and contentHints if flags or the
 * content type ask for it (content must then be an EnvelopedData, bare
 * or as a ContentInfo).  The signer's certificate and chain (may be NULL) are
 * included.  Nothing is consumed.  On success *out_der is the caller's
 * (OPENSSL_free) and *out_len its length.
 */
int skd_cms_sign(unsigned char **out_der, size_t *out_len,
    const ASN1_OBJECT *econtent_type, const unsigned char *content,
    size_t content_len, X509 *signer, EVP_PKEY *key, STACK_OF(X509) *chain,
    time_t signing_time, unsigned flags);

/* ---- cms_verify.c ---- */

enum skd_cms_path {
	SKD_CMS_PATH_UNCHECKED = 0,	/* no trust store given */
	SKD_CMS_PATH_OK,
	SKD_CMS_PATH_INVALID		/* see path_error */
};

/* What a verified SignedData holds; owned by the struct (see _free). */
struct skd_cms_verified {
	unsigned char	*content;	/* eContent octets */
	size_t		 content_len;
	ASN1_OBJECT	*econtent_type;
	X509		*signer;	/* the SignerInfo's certificate */
	STACK_OF(X509)	*certs;		/* every certificate in the message */
	time_t		 signing_time;	/* RFC 5275 3.2.4.3, always present */
	ASN1_OBJECT	*hint_type;	/* contentHints contentType or NULL */
	char		*hint_description; /* its description (UTF-8) or NULL */
	unsigned char	*signature;	/* SignerInfo signature value, for */
	size_t		 signature_len;	/* replay detection */
	enum skd_cms_path path;
	int		 path_error;	/* X509_V_OK or the first X509_V_ERR_* */
	int		 path_error_depth;
	const char	*path_error_string; /* static; never NULL */
};

/*
 * skd_cms_verify decodes der (strict DER, ContentInfo of SignedData with
 * exactly one SignerInfo and encapsulated content), verifies the signature
 * first (the signer certificate must be in the message), requires one
 * well-formed signingTime and a contentType attribute equal to
 * eContentType, then, when trust is not NULL, validates the signer's path
 * at time now against trust (the message's certificates untrusted,
 * purpose smimesign, CRLs per trust's flags).
 *
 * Returns one with *out set (caller frees with skd_cms_verified_free) when
 * the signature verifies, whatever the path result (out->path, ->path_error;
 * callers decide); returns zero (and *out NULL) when the message is
 * malformed or the signature does not verify (see enum skd_cms_reason).
 */
int skd_cms_verify(struct skd_cms_verified **out, const unsigned char *der,
    size_t len, X509_STORE *trust, time_t now);

/* skd_cms_verify_parsed is skd_cms_verify of a ContentInfo already decoded
 * by skd_cms_d2i_content_info (so strict DER is checked); cms stays the
 * caller's.  It spares a second decode (every certificate in the message
 * costs a public-key decode, slow in OpenSSL 3.0). */
int skd_cms_verify_parsed(struct skd_cms_verified **out, CMS_ContentInfo *cms,
    X509_STORE *trust, time_t now);

/* skd_cms_verified_free frees v and all it holds; NULL is fine. */
void skd_cms_verified_free(struct skd_cms_verified *v);

/*
 * skd_cms_store_new returns a new store trusting the PEM certificates in
 * ca_file and, when crl_file is not NULL, holding its PEM CRLs with
 * X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL set.  Caller frees with
 * X509_STORE_free; NULL on error.
 */
X509_STORE *skd_cms_store_new(const char *ca_file, const char *crl_file);

/* ---- cms_env.c ---- */

enum skd_cms_recip_type {
	SKD_CMS_RECIP_CERT = 1,		/* RSA → ktri, EC → kari (RFC 5753) */
	SKD_CMS_RECIP_KEK		/* kekri (RFC 5652 6.2.3, RFC 3565) */
};

/* RSA certificate recipients: RSAES-OAEP with SHA-256 and MGF1-SHA-256
 * (RFC 3560) instead of PKCS#1 v1.5. */
#define SKD_CMS_RECIP_OAEP	0x01

/* One recipient; everything is borrowed. */
struct skd_cms_recip {
	enum skd_cms_recip_type	 type;
	unsigned		 flags;		/* SKD_CMS_RECIP_OAEP */
	X509			*cert;		/* CERT */
	const unsigned char	*kek;		/* KEK: 16, 24 or 32 bytes → */
	size_t			 kek_len;	/* AES-128/192/256 key wrap */
	const unsigned char	*kek_id;	/* KEK: KEKIdentifier.keyIdentifier */
	size_t			 kek_id_len;
};

/*
 * skd_cms_envelope builds a DER ContentInfo holding an EnvelopedData (RFC
 * 5652 6) of content whose inner content type is content_type, for the
 * nrecips recipients, content encrypted with cipher (NULL: AES-256-CBC).
 * Nothing is consumed.  On success *out_der is the caller's (OPENSSL_free).
 */
int skd_cms_envelope(unsigned char **out_der, size_t *out_len,
    const ASN1_OBJECT *content_type, const unsigned char *content,
    size_t content_len, const struct skd_cms_recip *recips, size_t nrecips,
    const EVP_CIPHER *cipher);

/* Who opens an EnvelopedData: cert + key (ktri, kari) or kek + kek_id. */
struct skd_cms_opener {
	X509			*cert;		/* borrowed */
	EVP_PKEY		*key;		/* borrowed */
	const unsigned char	*kek;		/* borrowed */
	size_t			 kek_len;
	const unsigned char	*kek_id;	/* borrowed */
	size_t			 kek_id_len;
};

/*
 * skd_cms_open decodes der (strict DER ContentInfo of EnvelopedData) and
 * decrypts it as who.  On success *out_content (caller frees with
 * OPENSSL_clear_free(*out_content, *out_len)) holds the content and
 * *out_content_type (caller frees with ASN1_OBJECT_free; may be NULL to
 * ignore) its type.  No matching recipient, or a wrong KEK (the key
 * unwrap's integrity check, RFC 3394 2.2.3), returns zero with
 * SKD_CMS_R_DECRYPT_FAILED.  A wrong RSA key for a ktri whose
 * certificate matches is, as OpenSSL does against the million message
 * attack (RFC 3218 2.3.2), taken for a random content key: the content's
 * CBC padding check then fails the same way, except about one time in
 * 256, when noise comes out instead of the content.  What needs to know
 * checks the content (a glKey's KEK is key-wrapped, RFC 3394).
 */
int skd_cms_open(unsigned char **out_content, size_t *out_len,
    ASN1_OBJECT **out_content_type, const unsigned char *der, size_t len,
    const struct skd_cms_opener *who);

#endif
