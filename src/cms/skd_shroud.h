/*
 * skd_shroud.h: the EnvelopedData of a server-generated key's shroud
 * (draft-turner-cmc-serverkeygeneration-00 section 4), on OpenSSL's CMS:
 *
 *   shroudWithPublicKey, certificate / certIdentifier: ktri (RSA) or
 *     kari (EC, X9.63 KDF with the curve's hash), rid issuerAndSerial;
 *   shroudWithPublicKey, bareKey: the same with rid subjectKeyIdentifier
 *     = bareKey.ski (4.1), the key carried by a throwaway certificate
 *     that never leaves this process;
 *   shroudWithSharedSecret: pwri (RFC 3211: PBKDF2 and id-alg-PWRI-KEK).
 *
 * Like skd_cms_envelope, the encrypted content is a complete DER
 * ContentInfo named by content_type (skd_cms.h, nesting).
 */
#ifndef SKD_SHROUD_H
#define SKD_SHROUD_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

enum skd_shroud_type {
	SKD_SHROUD_BY_CERT = 1,
	SKD_SHROUD_BY_BARE_KEY,
	SKD_SHROUD_BY_PASSWORD
};

/* PBKDF2 iterations for pwri. */
#define SKD_SHROUD_PBKDF2_ITER	20000

/* How to shroud; everything borrowed. */
struct skd_shroud {
	enum skd_shroud_type	 type;
	unsigned		 flags;		/* SKD_CMS_RECIP_OAEP (RSA) */
	X509			*cert;		/* CERT */
	EVP_PKEY		*pubkey;	/* BARE_KEY */
	const unsigned char	*ski;		/* BARE_KEY: rid */
	size_t			 ski_len;
	const unsigned char	*password;	/* PASSWORD */
	size_t			 password_len;
	const EVP_CIPHER	*cipher;	/* NULL: AES-256-CBC */
};

/*
 * skd_shroud_envelope builds the EnvelopedData ContentInfo (DER, *out,
 * caller frees with OPENSSL_free) of content for sh.  Returns one on
 * success and zero on error (an RSA key under 2048 bits or a curve other
 * than P-256/P-384/P-521 is refused).
 */
int skd_shroud_envelope(unsigned char **out, size_t *out_len,
    const ASN1_OBJECT *content_type, const unsigned char *content,
    size_t content_len, const struct skd_shroud *sh);

/* Who opens a shroud: a private key (cert may be NULL: every ktri/kari
 * recipient is tried) or a password.  All borrowed. */
struct skd_shroud_opener {
	X509			*cert;
	EVP_PKEY		*key;
	const unsigned char	*password;
	size_t			 password_len;
};

/*
 * skd_shroud_open decodes der (strict DER EnvelopedData) and decrypts it;
 * *out (caller frees with OPENSSL_clear_free(*out, *out_len)) and
 * *out_type (may be NULL; caller frees with ASN1_OBJECT_free).  Returns
 * one on success, zero on error.
 */
int skd_shroud_open(unsigned char **out, size_t *out_len,
    ASN1_OBJECT **out_type, const unsigned char *der, size_t len,
    const struct skd_shroud_opener *who);

/*
 * skd_shroud_key_cert returns a throwaway certificate (signed by a
 * throwaway key) holding pubkey and a
 * subjectKeyIdentifier of ski, so that OpenSSL's CMS can address a bare
 * key by its key identifier.  Caller frees with X509_free; NULL on error.
 */
X509 *skd_shroud_key_cert(EVP_PKEY *pubkey, const unsigned char *ski,
    size_t ski_len);

/* skd_shroud_key_ok says whether pubkey is a key skd shrouds to: RSA of
 * 2048 bits or more, EC on P-256, P-384 or P-521. */
int skd_shroud_key_ok(EVP_PKEY *pubkey);

#endif
