/*
 * skd_authdata.h: CMS AuthenticatedData (RFC 5652 section 9) with one
 * password RecipientInfo (RFC 3211), the protection of a shared-secret
 * CMC request (draft-turner-cmc-serverkeygeneration-00 2.1, 2.2).
 * OpenSSL 3.0 has no AuthenticatedData API, so this is built with the
 * project's templates (mirroring RFC 5652) over OpenSSL primitives:
 *
 *   MAC          hmacWithSHA256 over authAttrs (contentType and
 *                messageDigest SHA-256 of the eContent: RFC 5652 9.1
 *                requires them when the content is not id-data)
 *   pwri         keyDerivationAlgorithm PBKDF2 (HMAC-SHA256, 16-byte
 *                salt), keyEncryptionAlgorithm id-alg-PWRI-KEK with
 *                aes256-CBC (RFC 3211 2.3: the double CBC wrap)
 *
 * On input: strict DER, exactly one RecipientInfo and it a pwri, no
 * originatorInfo nor unauthAttrs, authAttrs exactly contentType and
 * messageDigest (SHA-256/384/512), HMAC-SHA256/384/512 and PBKDF2
 * with HMAC-SHA1/256/384/512, AES-128/192/256 for the KEK.
 */
#ifndef SKD_AUTHDATA_H
#define SKD_AUTHDATA_H

#include <stddef.h>

#include <openssl/asn1.h>

/* id-ct-authData */
#define SKD_AUTHDATA_OID	"1.2.840.113549.1.9.16.1.2"

/* skd_authdata_is returns one when der is a ContentInfo whose contentType
 * is id-ct-authData (looked at, not decoded). */
int skd_authdata_is(const unsigned char *der, size_t len);

/*
 * skd_authdata_build writes the ContentInfo (DER, *out, caller frees with
 * OPENSSL_free) of an AuthenticatedData over content (eContentType
 * content_type) for password (pbkdf2_iter iterations, 0: 20000).
 */
int skd_authdata_build(unsigned char **out, size_t *out_len,
    const ASN1_OBJECT *content_type, const unsigned char *content,
    size_t content_len, const unsigned char *password, size_t password_len,
    int pbkdf2_iter);

/*
 * skd_authdata_peek decodes der strictly and returns its encapsulated
 * content, NOT authenticated (to find the identification that names the
 * password): *out (OPENSSL_free) and *out_type (ASN1_OBJECT_free; may be
 * NULL).  Returns one on success, zero when der is not an AuthenticatedData
 * skd accepts.
 */
int skd_authdata_peek(unsigned char **out, size_t *out_len,
    ASN1_OBJECT **out_type, const unsigned char *der, size_t len);

/*
 * skd_authdata_verify checks der's MAC with password.  Returns 1 when it
 * verifies, 0 when it does not (wrong password, altered content), -1 when
 * der is malformed or unsupported.
 */
int skd_authdata_verify(const unsigned char *der, size_t len,
    const unsigned char *password, size_t password_len);

/*
 * The RFC 3211 key wrap, exposed for the interop test that proves it
 * against OpenSSL's pwri (an EnvelopedData whose pwri wraps the content
 * key with these, opened by `openssl cms -decrypt -pwri_password`).
 * kek is 16, 24 or 32 bytes (AES-128/192/256-CBC), iv 16 bytes.
 */
int skd_pwri_kek_wrap(unsigned char *out, size_t *out_len,
    const unsigned char *kek, size_t kek_len, const unsigned char iv[16],
    const unsigned char *key, size_t key_len);
int skd_pwri_kek_unwrap(unsigned char *out, size_t *out_len,
    const unsigned char *kek, size_t kek_len, const unsigned char iv[16],
    const unsigned char *in, size_t in_len);

#endif
