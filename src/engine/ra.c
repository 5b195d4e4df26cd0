/*
 * ra.c: the RA-involved flow of CMC server-side key generation (draft
 * 2.5.2, 3.2, 3.3): an RA checked the client and forwards its request
 * under its own SignedData (RFC 5272 3.2.3 nesting):
 *
 *   SignedData by the RA
 *     PKIData { transactionId, senderNonce;
 *               cmsSequence { SignedData by the client
 *                               PKIData { serverKeyGenRequest, ... } } }
 *
 * Both signatures were verified and both paths validated by the layer
 * walk and check_layers (process.c).  The GLA accepts the forwarding only
 * from the RAs of its configuration (badIdentity otherwise, nothing
 * done), answers the client's request as if it came alone (keygen.c:
 * the same checks, the same answer, signed by the CA), and wraps that
 * answer for the RA (3.3, "multi-layered encapsulation requests for
 * CA-generated keys"):
 *
 *   SignedData by the keygen CA
 *     PKIResponse { statusInfoV2 success (the forwarded item),
 *                   transactionId, senderNonce, recipientNonce;
 *                   cmsSequence { the client's answer } }
 *
 * which the RA strips and passes on unchanged (3.4).  Not done: the
 * client's request in an AuthenticatedData (shared secret) forwarded by
 * an RA (the layer walk does not open AuthenticatedData), RA-generated
 * keys (2.5.1), and the RA Identity Witness control (its absence is what
 * the draft allows for an RA that vouches by signing alone).
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "engine/process_local.h"
#include "kgen/skd_kgen.h"

int
eng_ra_inner(const struct skd_layers *l, int top)
{
	const SKD_PKI_DATA *pd = l->v[top].pki_data;
	size_t i;

	if (pd == NULL || skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_SERVER_KEY_GEN_REQUEST, 0) != NULL ||
	    sk_SKD_TAGGED_CONTENT_INFO_num(pd->cmsSequence) != 1)
		return -1;
	for (i = (size_t)top + 1; i < l->n; i++) {
		if (l->v[i].type != SKD_LAYER_PKI_DATA)
			continue;
		if (eng_layer_body_parent(l, (int)i) != top ||
		    l->v[i].pki_data == NULL ||
		    skd_cmc_find_control(l->v[i].pki_data->controlSequence,
		    SKD_OID_SERVER_KEY_GEN_REQUEST, 0) == NULL ||
		    eng_layer_signed_parent(l, (int)i) <= top ||
		    l->v[eng_layer_signed_parent(l, (int)i)].verified == NULL)
			return -1;
		return (int)i;
	}
	return -1;
}

/* 3.2: the RA's PKIData holds transactionId, senderNonce and the one
 * client request in cmsSequence; reqSequence, otherMsgSequence empty. */
static int
well_formed(const SKD_PKI_DATA *pd)
{
	static const enum skd_oid allowed[] = { SKD_OID_CMC_TRANSACTION_ID,
	    SKD_OID_CMC_SENDER_NONCE };

	return eng_keygen_body_only(pd, allowed,
	    sizeof(allowed) / sizeof(allowed[0]), 0, 1);
}

/* The RA's answer: status for the forwarded item, the echo, the client's
 * answer (may be NULL) in cmsSequence; signed by the CA, published for
 * the RA. */
static int
answer_ra(struct eng *e, const char *request_id, const SKD_PKI_DATA *pd,
    X509 *ra, X509 *encrypt_to, long item, int fail, const char *text,
    const unsigned char *inner, size_t inner_len)
{
	struct skd_cmc_body *b = NULL;
	int ok;

	ok = (b = skd_cmc_body_new(1)) != NULL &&
	    skd_cmc_body_add_status(b, fail < 0 ? SKD_CMC_SUCCESS :
	    SKD_CMC_FAILED, &item, 1, text, fail, -1) != 0 &&
	    (inner == NULL || skd_cmc_body_add_cms(b, inner, inner_len) != 0) &&
	    eng_keygen_respond(e, request_id, b, pd, NULL, encrypt_to, ra, NULL);
	skd_cmc_body_free(b);
	return ok;
}

int
eng_ra_process(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id)
{
	const struct skd_kgen_ca *ca = e->cfg->keygen;
	const SKD_PKI_DATA *pd = l->v[top].pki_data;
	const struct skd_cms_verified *cv;
	X509 *ra, *enc;
	unsigned char *inner = NULL;
	size_t inner_len = 0;
	const char *why = NULL;
	int in, fail = SKD_CMC_BAD_REQUEST, fresh = 0, ok = 0;
	long item;

	ra = l->v[eng_layer_signed_parent(l, top)].verified->signer;
	enc = eng_layer_encrypted(l, top) ? ra : NULL;
	in = eng_ra_inner(l, top);
	item = eng_layer_item_bpid(l, in);
	cv = l->v[eng_layer_signed_parent(l, in)].verified;
	if (ca == NULL) {
		why = "server key generation is not offered";
	} else if (!skd_kgen_is_ra(ca, ra)) {
		/* Draft 2.5.2 / issue 17: only configured RAs vouch. */
		fail = SKD_CMC_BAD_IDENTITY;
		why = "the signer is not a configured RA";
	} else if (!well_formed(pd)) {
		why = "an RA's PKIData: transactionId, senderNonce and one "
		    "client request";
	}
	if (why != NULL) {
		if (!answer_ra(e, request_id, pd, ra, enc, item, fail, why,
		    NULL, 0) ||
		    !eng_result_add(e->out, 0, item, NID_undef, SKD_CMC_FAILED,
		    fail, -1, why))
			goto err;
		ok = 1;
		goto err;
	}
	/* 3.3: the inner request as if it came alone. */
	if (!eng_keygen_inner(e, l, in, request_id, &inner, &inner_len))
		goto err;
	/* The client's request seen before (an RA forwarding it twice, or
	 * it came alone first): a replay, nothing of it kept (RFC 5275
	 * 3.2.4.3, draft 2: nonces). */
	if (!eng_replay_check(e, cv, &fresh))
		goto err;
	if (!fresh) {
		SKD_ENG_OUTCOME_free(e->out);
		if ((e->out = eng_outcome_new(request_id)) == NULL)
			goto err;
		why = "the client's request was seen before";
		if (!answer_ra(e, request_id, pd, ra, enc, item,
		    SKD_CMC_BAD_REQUEST, why, NULL, 0) ||
		    !eng_result_add(e->out, 0, item, NID_undef, SKD_CMC_FAILED,
		    SKD_CMC_BAD_REQUEST, -1, why))
			goto err;
		ok = 1;
		goto err;
	}
	ok = answer_ra(e, request_id, pd, ra, enc, item, -1,
	    "forwarded request answered", inner, inner_len);
 err:
	OPENSSL_free(inner);
	ERR_clear_error();
	return ok;
}
