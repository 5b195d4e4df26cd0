/*
 * skd_keygen.h: the client of CMC server-side key generation
 * (draft-turner-cmc-serverkeygeneration-00): build a serverKeyGenRequest
 * (6.1) signed by the requester (scenarios 2.3 and 2.4), and open the
 * answer (sections 5 and 6.2): check the CA's signature and path, the
 * nonces, find the key package by cmsBodyPartId, open the shroud, check
 * that the key is the certificate's and that the certificate chains.
 */
#ifndef SKD_KEYGEN_H
#define SKD_KEYGEN_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cms/skd_shroud.h"
#include "kgen/skd_kgen.h"

#define SKD_KEYGEN_NONCE_LEN	16

enum skd_keygen_shroud {
	SKD_KEYGEN_BARE_KEY = 1,	/* 2.3: an ephemeral key */
	SKD_KEYGEN_CERT,		/* 2.4: a certificate, carried */
	SKD_KEYGEN_CERT_ID,		/* 2.4: one of the SignedData's */
	SKD_KEYGEN_SHARED_SECRET	/* 2.1: shroudWithSharedSecret */
};

/* What to ask for; everything borrowed. */
/* The BodyPartID of the template request: a PKCS#10's bodyPartID, a CRMF
 * template's certReqId (RFC 5272 3.2.1.3.2: its BodyPartID); clear of the
 * controls' ids, which count from 1, since RFC 5272 3.2 wants every
 * bodyPartID of a PKIData unique. */
#define SKD_KEYGEN_CERT_REQ_ID	1000

struct skd_keygen_req {
	enum skd_kgen_type		 type;
	const X509_NAME			*subject;	/* NULL: the signer's */
	STACK_OF(X509_EXTENSION)	*exts;		/* NULL: none */
	enum skd_keygen_shroud		 shroud;
	EVP_PKEY			*bare_key;	/* BARE_KEY (public) */
	const unsigned char		*ski;		/* BARE_KEY */
	size_t				 ski_len;
	X509				*shroud_cert;	/* CERT, CERT_ID */
	int				 no_archive;	/* archiveKey FALSE */
	STACK_OF(X509_ALGOR)		*caps;		/* NULL: none */
	/* NULL: skd_kgen_template_spki(type) (CRMF: its algorithm with a
	 * zero length key, draft 6.1); else this template key as is. */
	X509_PUBKEY			*template_spki;
	/* Nonzero: the template is a CRMF CertReqMsg (RFC 4211; certReqId
	 * SKD_KEYGEN_CERT_REQ_ID, no POP) instead of a PKCS#10; RSA is then
	 * the CA's size (2048), the empty key carrying none. */
	int				 crmf;
	/* 2.1 / 2.2: authenticate with a shared secret (an AuthenticatedData
	 * with pwri and the identification control) instead of signing. */
	const char			*secret_id;
	const unsigned char		*secret;
	size_t				 secret_len;
	/* SHARED_SECRET: the secret protecting the key (NULL: secret_id). */
	const char			*shroud_secret_id;
	/* CERT_ID: shroud_cert goes into the SignedData's certificates. */
};

/*
 * skd_keygen_request builds the PKIData (serverKeyGenRequest,
 * transactionId tid, senderNonce = nonce) signed by signer/key (chain may
 * be NULL) at now, or, with r->secret, with the identification control
 * in an AuthenticatedData under the secret (signer, key NULL); *out is a
 * DER ContentInfo (caller frees with OPENSSL_free).  Returns one on
 * success and zero on error.
 */
int skd_keygen_request(unsigned char **out, size_t *out_len,
    const struct skd_keygen_req *r, long tid,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN], X509 *signer,
    EVP_PKEY *key, STACK_OF(X509) *chain, time_t now);

/* What an answer said. */
struct skd_keygen_result {
	long		 status;	/* CMCStatus; 0 success */
	long		 fail;		/* CMCFailInfo or -1 */
	char		 ext_fail[64];	/* section 7 name, or "" */
	char		 text[200];	/* statusString or why it failed */
	EVP_PKEY	*key;		/* success: the generated key */
	X509		*cert;		/* success: its certificate */
	STACK_OF(X509)	*certs;		/* every certificate of the answer */
	/* status popRequired (draft 8): key and cert are set as for
	 * success, and the CA's Encrypted POP control (RFC 5272 6.7) waits
	 * for skd_keygen_pop_request; the certificate is not published
	 * until the POP round succeeds. */
	SKD_ENCRYPTED_POP *pop;
};

void skd_keygen_result_clear(struct skd_keygen_result *r);

/*
 * skd_keygen_open_response checks and opens an answer: the outer
 * SignedData verifies and its signer's path validates against trust at
 * now (skd_kgen_check_signer), recipientNonce echoes nonce; a
 * failure status fills status, fail, ext_fail and text and returns one;
 * a success must carry serverKeyGenResponse whose cmsBodyPartId names the
 * EnvelopedData, opened as who, whose key is the certificate's named by
 * issuerAndSerialNumber, which chains to trust (any purpose).  Returns
 * zero (text says why) when the answer cannot be trusted or opened.
 */
int skd_keygen_open_response(struct skd_keygen_result *out,
    const unsigned char *der, size_t len,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN],
    const struct skd_shroud_opener *who, X509_STORE *trust, time_t now);

/*
 * The proof of possession round (draft 8, RFC 5272 6.7):
 * skd_keygen_pop_request answers res->pop (an answer with status
 * popRequired) with the Decrypted POP made with res->key, the Encrypted
 * POP's request echoed in reqSequence, transactionId tid, senderNonce
 * nonce, signed like the first round by signer/key; *out as
 * skd_keygen_request's.  Returns zero when the POP cannot be made (the
 * witness does not match y: 6.7's popFailed on the client's side).
 * skd_keygen_open_pop checks the answer to it (signature, path, nonce)
 * and fills out's status, fail and text; one when it could be read.
 */
int skd_keygen_pop_request(unsigned char **out, size_t *out_len,
    const struct skd_keygen_result *res, long tid,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN], X509 *signer,
    EVP_PKEY *key, STACK_OF(X509) *chain, time_t now);
/* The same for a request authenticated by a shared secret (2.1, 2.2):
 * an AuthenticatedData under secret with the identification control. */
int skd_keygen_pop_request_secret(unsigned char **out, size_t *out_len,
    const struct skd_keygen_result *res, long tid,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN], const char *secret_id,
    const unsigned char *secret, size_t secret_len);
int skd_keygen_open_pop(struct skd_keygen_result *out,
    const unsigned char *der, size_t len,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN], X509_STORE *trust,
    time_t now);

/*
 * The RA-involved flow (draft 2.5.2, 3.2, 3.4), the RA's side.
 * skd_keygen_ra_check verifies a client's request req (a SignedData whose
 * signer's path validates against trust at now, S/MIME signing purpose,
 * signingTime within window seconds of now, a PKIData carrying
 * serverKeyGenRequest); one with *out_signer (caller frees) when it may
 * be forwarded, zero with why filled otherwise.  skd_keygen_ra_forward
 * wraps req unchanged in the RA's PKIData (cmsSequence item 1,
 * transactionId tid, senderNonce nonce; RFC 5272 3.2.3) signed by
 * signer/key at now; *out as skd_keygen_request's.  skd_keygen_ra_open
 * checks the CA's answer to it (signature, path, nonce) and fills out's
 * status, fail and text; on success *out_inner (OPENSSL_free) is the
 * client's answer, unchanged.  Both return one on success.
 */
int skd_keygen_ra_check(X509 **out_signer, char *why, size_t why_len,
    const unsigned char *req, size_t len, X509_STORE *trust, time_t now,
    long window);
int skd_keygen_ra_forward(unsigned char **out, size_t *out_len,
    const unsigned char *req, size_t req_len, long tid,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN], X509 *signer,
    EVP_PKEY *key, STACK_OF(X509) *chain, time_t now);
int skd_keygen_ra_open(struct skd_keygen_result *out, unsigned char **out_inner,
    size_t *out_inner_len, const unsigned char *der, size_t len,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN], X509_STORE *trust,
    time_t now);

/*
 * Key recovery (docs/keygen.md): skd_keygen_recovery_request builds the
 * PKIData (keyRecoveryRequest carrying cert, the certificate whose key is
 * wanted; transactionId tid, senderNonce nonce) signed by the recovery
 * officer signer/key at now; *out as skd_keygen_request's.
 * skd_keygen_open_recovery opens the answer as skd_keygen_open_response
 * does, its key package named by keyRecoveryResponse; who is the officer.
 */
int skd_keygen_recovery_request(unsigned char **out, size_t *out_len,
    X509 *cert, long tid, const unsigned char nonce[SKD_KEYGEN_NONCE_LEN],
    X509 *signer, EVP_PKEY *key, STACK_OF(X509) *chain, time_t now);
int skd_keygen_open_recovery(struct skd_keygen_result *out,
    const unsigned char *der, size_t len,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN],
    const struct skd_shroud_opener *who, X509_STORE *trust, time_t now);

#endif
