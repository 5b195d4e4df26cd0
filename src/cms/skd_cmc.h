/*
 * skd_cmc.h: building and protecting CMC bodies (PKIData, PKIResponse) as
 * RFC 5275 3.2 uses them: controls with bodyPartIDs, the CMC controls of
 * 3.2.4 (cMCStatusInfoExt, transactionId, senderNonce, recipientNonce), the
 * protection layers of 3.2.1 and the cmsSequence of 3.2.2 / 3.2.3.
 */
#ifndef SKD_CMC_H
#define SKD_CMC_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "asn1/skd_asn1.h"
#include "cms/skd_cms.h"

/* Bounds on what we build and accept in one body. */
#define SKD_CMC_MAX_CONTROLS	1024
#define SKD_CMC_NONCE_LEN	16

/* A PKIData or PKIResponse under construction (opaque). */
struct skd_cmc_body;

/*
 * skd_cmc_body_new starts an empty PKIData (is_response 0) or PKIResponse
 * (is_response 1).  bodyPartIDs are assigned from 1 upwards, unique within
 * the body across controls and cmsSequence items (RFC 5272 3.2.2).
 * Caller frees with skd_cmc_body_free (NULL is fine).
 */
struct skd_cmc_body *skd_cmc_body_new(int is_response);
void skd_cmc_body_free(struct skd_cmc_body *b);

/*
 * skd_cmc_body_add_control adds a control whose value val has the type the
 * control table gives for oid (val is not consumed).  Returns the new
 * bodyPartID (> 0), or 0 on error.
 */
long skd_cmc_body_add_control(struct skd_cmc_body *b, enum skd_oid oid,
    const void *val);

/* The CMC controls of RFC 5275 3.2.4; each returns the bodyPartID or 0. */
/*
 * skd_cmc_body_add_request adds a copy of req (tcr or orm, as given, its
 * bodyPartID kept: a request echoed by a later round) to a PKIData's
 * reqSequence; bodyPartIDs given later follow it.  Returns its bodyPartID,
 * or 0 on error.
 */
long skd_cmc_body_add_request(struct skd_cmc_body *b,
    const SKD_TAGGED_REQUEST *req);
long skd_cmc_body_add_transaction_id(struct skd_cmc_body *b,
    const ASN1_INTEGER *tid);
long skd_cmc_body_add_sender_nonce(struct skd_cmc_body *b,
    const unsigned char *nonce, size_t len);
long skd_cmc_body_add_recipient_nonce(struct skd_cmc_body *b,
    const unsigned char *nonce, size_t len);

/*
 * skd_cmc_body_add_status adds a cMCStatusInfoExt (CMCStatusInfoV2, RFC
 * 5272 6.1.1) with status, the bodyList (n bodyPartIDs; RFC 5275 3.2.4.1: 0
 * names the outermost PKIData), an optional statusString, and one of:
 * cmc_fail >= 0 (otherStatusInfo.failInfo, CMCFailInfo) or skd_fail >= 0
 * (otherStatusInfo.extendedFailInfo with id-cet-skdFailInfo and the
 * SKDFailInfo value); both -1 for none.  Returns the bodyPartID or 0.
 */
long skd_cmc_body_add_status(struct skd_cmc_body *b, enum skd_cmc_status st,
    const long *body_list, size_t n, const char *status_string,
    int cmc_fail, int skd_fail);

/*
 * skd_cmc_body_add_cms adds a cmsSequence item (a TaggedContentInfo holding
 * the DER ContentInfo ci_der).  Returns the bodyPartID or 0.
 */
long skd_cmc_body_add_cms(struct skd_cmc_body *b, const unsigned char *ci_der,
    size_t ci_len);

/* skd_cmc_body_encode writes the DER of the body to *out (caller frees with
 * OPENSSL_free).  Returns one on success and zero on error. */
int skd_cmc_body_encode(const struct skd_cmc_body *b, unsigned char **out,
    size_t *out_len);

/* How to protect a body (RFC 5275 3.2.1); everything is borrowed. */
struct skd_cmc_protect {
	X509		*signer;	/* the inner (and outer) signer */
	EVP_PKEY	*key;
	STACK_OF(X509)	*chain;		/* may be NULL */
	time_t		 signing_time;	/* mandatory (3.2.4.3) */
	X509		*encrypt_to;	/* non-NULL: EnvelopedData (3.2.1.2) */
	unsigned	 encrypt_flags;	/* SKD_CMS_RECIP_OAEP */
	int		 outer_sign;	/* with encrypt_to: SignedData over it */
};

/*
 * skd_cmc_protect wraps body (DER PKIData or PKIResponse, as is_response
 * says) in SignedData, then optionally EnvelopedData for encrypt_to, then
 * optionally another SignedData (with contentHints): the layer stacks of
 * RFC 5275 3.2.1.1 and 3.2.1.2, nested as RFC 5652 5.2 does (each layer's
 * content is the bare inner SignedData or EnvelopedData).  *out is a DER
 * ContentInfo (caller frees with OPENSSL_free).  Returns one on success
 * and zero on error.
 */
int skd_cmc_protect(unsigned char **out, size_t *out_len, int is_response,
    const unsigned char *body, size_t body_len,
    const struct skd_cmc_protect *p);

/*
 * skd_cmc_find_control returns the idx-th TaggedAttribute (from 0) in seq
 * whose attrType is oid's, or NULL.  Borrowed.
 */
const SKD_TAGGED_ATTRIBUTE *skd_cmc_find_control(
    const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq, enum skd_oid oid, int idx);

/*
 * skd_cmc_get_nonce copies the value of the first senderNonce or
 * recipientNonce (oid) in seq into *out (caller frees with OPENSSL_free).
 * Returns 1 when found, 0 when absent, -1 when malformed (more than one
 * value, not an OCTET STRING, or longer than 64 bytes).
 */
int skd_cmc_get_nonce(const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq,
    enum skd_oid oid, unsigned char **out, size_t *out_len);

#endif
