/*
 * pop.c: the proof of possession round of CMC server-side key generation
 * (draft section 8).  With the keygen CA's require_pop the first answer
 * is popRequired with an Encrypted POP control (keygen.c) and the issued
 * certificate is not published; the requester returns
 *
 *   SignedData by the requester (the same signer as the first round),
 *   or AuthenticatedData under the same shared secret (draft 8: the
 *   mechanism of the first round; keygen.c eng_keygen_authdata)
 *     PKIData { decryptedPOP { bodyPartID, hmacWithSHA256, thePOP },
 *               transactionId, senderNonce;
 *               reqSequence { the TaggedRequest of the Encrypted POP:
 *                 orm { bodyPartID, id-skd-popCertificate, Certificate } } }
 *
 * and the GLA checks it (RFC 5272 6.7; stateless: kgen_pop.c), publishes
 * the certificate on the requester's entry and answers success.  Failures
 * (CMCFailInfo): popRequired when the Decrypted POP is missing, popFailed
 * when it is wrong, badCertId for a certificate not of the keygen CA,
 * badIdentity for a requester who is not the certificate's subject,
 * badRequest otherwise; none changes anything.
 *
 * Certificates the profile issues are encryption-only (keyEncipherment or
 * keyAgreement), so the confirmCertAcceptance round of signing-capable
 * certificates (RFC 5272 6.14) never applies (docs/conformance.md).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "engine/process_local.h"
#include "kgen/skd_kgen.h"

int
eng_pop_wanted(const SKD_PKI_DATA *pd)
{
	int i;

	if (skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_CMC_DECRYPTED_POP, 0) != NULL)
		return 1;
	for (i = 0; i < sk_SKD_TAGGED_REQUEST_num(pd->reqSequence); i++) {
		const SKD_TAGGED_REQUEST *r = sk_SKD_TAGGED_REQUEST_value(
		    pd->reqSequence, i);

		if (r->type == SKD_TAGGED_REQUEST_ORM &&
		    OBJ_obj2nid(r->d.orm->requestMessageType) ==
		    skd_asn1_nid(SKD_OID_POP_CERTIFICATE)) {
			return 1;
		}
	}
	return 0;
}

/* Only transactionId, senderNonce, identification (a shared secret's
 * round) and at most one decryptedPOP; one request; nothing else. */
static int
well_formed(const SKD_PKI_DATA *pd)
{
	static const enum skd_oid allowed[] = { SKD_OID_CMC_TRANSACTION_ID,
	    SKD_OID_CMC_SENDER_NONCE, SKD_OID_CMC_IDENTIFICATION,
	    SKD_OID_CMC_DECRYPTED_POP };

	return eng_keygen_body_only(pd, allowed,
	    sizeof(allowed) / sizeof(allowed[0]), 1, 0);
}

int
eng_pop_process(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id)
{
	X509 *signer = l->v[eng_layer_signed_parent(l, top)].verified->signer;

	return eng_pop_answer(e, request_id, l->v[top].pki_data,
	    X509_get_subject_name(signer), signer, NULL,
	    eng_layer_encrypted(l, top) ? signer : NULL);
}

int
eng_pop_answer(struct eng *e, const char *request_id, const SKD_PKI_DATA *pd,
    const X509_NAME *who, X509 *signer, const char *identity,
    X509 *encrypt_to)
{
	const struct skd_kgen_ca *ca = e->cfg->keygen;
	const SKD_TAGGED_ATTRIBUTE *ta;
	const SKD_TAGGED_REQUEST *req = NULL;
	SKD_DECRYPTED_POP *dp = NULL;
	struct skd_cmc_body *b = NULL;
	X509 *cert = NULL;
	const char *why = NULL;
	char text[200];
	long bpid = 0;
	int fail = SKD_CMC_BAD_REQUEST, ok = 0;

	ta = skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_CMC_DECRYPTED_POP, 0);
	if (sk_SKD_TAGGED_REQUEST_num(pd->reqSequence) > 0)
		req = sk_SKD_TAGGED_REQUEST_value(pd->reqSequence, 0);
	if (req != NULL && req->type == SKD_TAGGED_REQUEST_ORM)
		bpid = ASN1_INTEGER_get(req->d.orm->bodyPartID);
	if (ca == NULL || !ca->require_pop) {
		why = "no proof of possession is asked for";
	} else if (!well_formed(pd)) {
		why = "one decryptedPOP and its request, nothing else";
	} else if ((cert = skd_kgen_pop_cert(req)) == NULL) {
		ERR_clear_error();
		why = "the request is not a certificate of skd's Encrypted POP";
	} else if (ta == NULL) {
		/* RFC 5272 6.7 / draft 8: the proof is required. */
		fail = SKD_CMC_POP_REQUIRED_FAIL;
		why = "no Decrypted POP";
	} else if (sk_ASN1_TYPE_num(ta->attrValues) != 1 ||
	    (dp = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(SKD_DECRYPTED_POP))) == NULL) {
		ERR_clear_error();
		why = "malformed decryptedPOP";
	} else if (ASN1_INTEGER_get(dp->bodyPartID) != bpid) {
		why = "decryptedPOP names another body part";
	} else if (X509_NAME_cmp(X509_get_issuer_name(cert),
	    X509_get_subject_name(ca->cert)) != 0 ||
	    X509_verify(cert, X509_get0_pubkey(ca->cert)) != 1) {
		ERR_clear_error();
		fail = SKD_CMC_BAD_CERT_ID;
		why = "not a certificate of the keygen CA";
	} else if (X509_NAME_cmp(X509_get_subject_name(cert), who) != 0) {
		fail = SKD_CMC_BAD_IDENTITY;
		why = "the certificate is not the requester's";
	} else if (!skd_kgen_pop_check(ca, req, dp)) {
		/* RFC 5272 6.7: the proof does not verify. */
		fail = SKD_CMC_POP_FAILED;
		why = "the proof of possession does not verify";
	}
	if (why != NULL)
		snprintf(text, sizeof(text), "%s", why);
	else
		snprintf(text, sizeof(text), "proof of possession verified");
	if ((b = skd_cmc_body_new(1)) == NULL ||
	    skd_cmc_body_add_status(b, why != NULL ? SKD_CMC_FAILED :
	    SKD_CMC_SUCCESS, &bpid, 1, text, why != NULL ? fail : -1,
	    -1) == 0 ||
	    !eng_keygen_respond(e, request_id, b, pd, why == NULL ? cert : NULL,
	    encrypt_to, signer, identity))
		goto err;
	/* Draft 8: proven, the certificate is published now. */
	if (why == NULL && !eng_keygen_publish(e, signer, identity, cert))
		goto err;
	if (!eng_result_add(e->out, 0, bpid,
	    skd_asn1_nid(SKD_OID_CMC_DECRYPTED_POP), why != NULL ?
	    SKD_CMC_FAILED : SKD_CMC_SUCCESS, why != NULL ? fail : -1, -1,
	    text))
		goto err;
	ok = 1;
 err:
	SKD_DECRYPTED_POP_free(dp);
	skd_cmc_body_free(b);
	X509_free(cert);
	ERR_clear_error();
	return ok;
}
