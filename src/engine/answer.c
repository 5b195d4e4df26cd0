/*
 * answer.c: building what the engine sends: the echo of a request's
 * transactionId and nonces (RFC 5275 3.2.4.2, 3.2.4.3), signing a body
 * for the GLA or a GL (3.2.6), a status answer, a publish op of the
 * outcome, the glProvideCert message (4.10.1) and the transactionId of a
 * glKey message.  The bottom of the engine's files: the message, unit,
 * control and key files call it, it calls none of them.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "engine/engine_local.h"

/* Echo transactionId (3.2.4.2) and senderNonce as recipientNonce with a
 * fresh senderNonce (3.2.4.3). */
int
eng_add_echo(struct eng *e, struct skd_cmc_body *b,
    const STACK_OF(SKD_TAGGED_ATTRIBUTE) *req)
{
	const SKD_TAGGED_ATTRIBUTE *ta;
	ASN1_INTEGER *tid = NULL;
	unsigned char *nonce = NULL, fresh[ENG_NONCE_LEN];
	size_t nlen = 0;
	int ok = 0, rc;

	if (req != NULL &&
	    (ta = skd_cmc_find_control(req, SKD_OID_CMC_TRANSACTION_ID, 0)) !=
	    NULL &&
	    (tid = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(ASN1_INTEGER))) != NULL) {
		if (skd_cmc_body_add_transaction_id(b, tid) == 0)
			goto err;
	}
	if (req != NULL && (rc = skd_cmc_get_nonce(req,
	    SKD_OID_CMC_SENDER_NONCE, &nonce, &nlen)) == 1) {
		if (skd_cmc_body_add_recipient_nonce(b, nonce, nlen) == 0)
			goto err;
	}
	if (!eng_rand(e, fresh, sizeof(fresh)) ||
	    skd_cmc_body_add_sender_nonce(b, fresh, sizeof(fresh)) == 0)
		goto err;
	ok = 1;
 err:
	ERR_clear_error();
	ASN1_INTEGER_free(tid);
	OPENSSL_free(nonce);
	return ok;
}

int
eng_status_answer(struct eng *e, struct eng_gl *g,
    enum skd_cmc_status status, const long *bpids, size_t n,
    const char *text, int cmc_fail,
    const STACK_OF(SKD_TAGGED_ATTRIBUTE) *req, X509 *encrypt_to,
    unsigned char **out, size_t *out_len)
{
	struct skd_cmc_body *b;
	int ok;

	*out = NULL;
	if ((b = skd_cmc_body_new(1)) == NULL)
		return 0;
	ok = skd_cmc_body_add_status(b, status, bpids, n, text, cmc_fail,
	    -1) != 0 && eng_add_echo(e, b, req) &&
	    eng_sign_body(e, g, 1, b, encrypt_to, out, out_len);
	skd_cmc_body_free(b);
	return ok;
}

int
eng_publish(struct eng *e, enum skd_engine_op_type t, int kind,
    const char *id, const char *gl, const unsigned char *msg, size_t len,
    X509 *to_cert, const char *const *to_names, size_t n_names)
{
	SKD_ENG_OP *op;
	SKD_ENG_PUBLISH *p;
	size_t i;

	if ((op = eng_op_add(e->out, t, gl)) == NULL ||
	    (op->publish = p = SKD_ENG_PUBLISH_new()) == NULL)
		return 0;
	if (!ASN1_STRING_set(p->id, id, -1) || !ASN1_INTEGER_set(p->kind, kind)
	    || !eng_push_octets(p->messages, msg, len))
		return 0;
	if (to_cert != NULL && !eng_cert_names(p->recipients, to_cert))
		return 0;
	for (i = 0; i < n_names; i++) {
		if (!eng_push_utf8(p->recipients, to_names[i]))
			return 0;
	}
	return 1;
}

int
eng_cert_names(STACK_OF(ASN1_UTF8STRING) *sk, X509 *cert)
{
	GENERAL_NAMES *names;
	char *t;
	int i, ok = 0;

	if ((names = skd_gname_from_cert(cert)) == NULL)
		return 0;
	for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		if ((t = skd_gname_to_text(sk_GENERAL_NAME_value(names, i))) ==
		    NULL)
			goto err;
		if (!eng_push_utf8(sk, t)) {
			OPENSSL_free(t);
			goto err;
		}
		OPENSSL_free(t);
	}
	ok = 1;
 err:
	GENERAL_NAMES_free(names);
	return ok;
}

int
eng_sign_body(struct eng *e, struct eng_gl *g, int is_response,
    struct skd_cmc_body *b, X509 *encrypt_to, unsigned char **out,
    size_t *out_len)
{
	struct skd_cmc_protect p;
	STACK_OF(X509) *chain = NULL;
	unsigned char *body = NULL;
	size_t body_len = 0;
	int ok = 0;

	memset(&p, 0, sizeof(p));
	p.key = e->cfg->gla_key;
	p.signing_time = e->now;
	p.encrypt_to = encrypt_to;
	p.encrypt_flags = e->cfg->oaep ? SKD_CMS_RECIP_OAEP : 0;
	p.outer_sign = encrypt_to != NULL && e->cfg->outer_sign;
	if (g != NULL && g->cert != NULL &&
	    X509_cmp_time(X509_get0_notAfter(g->cert), &e->now) >= 0) {
		/*
		 * RFC 5275 3.2.6: the GL's own certificate, with its issuer
		 * unless that is a self-signed root: a relying party has the
		 * root as its trust anchor already, and every certificate in
		 * the message costs each member a decode (RFC 5652 5.1 asks
		 * for certificates enough to reach a recognised root).
		 */
		p.signer = g->cert;
		if ((chain = sk_X509_new_null()) == NULL ||
		    (e->cfg->issuer_cert != NULL &&
		    (X509_get_extension_flags(e->cfg->issuer_cert) &
		    EXFLAG_SS) == 0 &&
		    !sk_X509_push(chain, e->cfg->issuer_cert)))
			goto err;
		p.chain = chain;
	} else {
		p.signer = e->cfg->gla_cert;
		p.chain = e->cfg->gla_chain;
	}
	if (!skd_cmc_body_encode(b, &body, &body_len) ||
	    !skd_cmc_protect(out, out_len, is_response, body, body_len, &p))
		goto err;
	ok = 1;
 err:
	OPENSSL_free(body);
	sk_X509_free(chain);
	return ok;
}

/* glProvideCert to a member (4.10.1): a signed PKIData with a
 * glProvideCert control naming the GL and the member. */
int
eng_provide_cert(struct eng *e, struct eng_gl *g, const struct eng_person *m)
{
	struct skd_cmc_body *b = NULL;
	SKD_GL_MANAGE_CERT *pc = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	char id[SKD_STORE_ID_LEN];
	const char *to[1];
	int rc = 0;

	to[0] = m->name;
	if ((pc = SKD_GL_MANAGE_CERT_new()) == NULL)
		goto err;
	GENERAL_NAME_free(pc->glName);
	GENERAL_NAME_free(pc->glMember->glMemberName);
	pc->glMember->glMemberName = NULL;
	if ((pc->glName = GENERAL_NAME_dup(g->gn)) == NULL ||
	    (pc->glMember->glMemberName = GENERAL_NAME_dup(m->gn)) == NULL)
		goto err;
	if ((b = skd_cmc_body_new(0)) == NULL ||
	    skd_cmc_body_add_control(b, SKD_OID_GL_PROVIDE_CERT, pc) == 0 ||
	    !eng_add_echo(e, b, NULL) ||
	    !eng_sign_body(e, g, 0, b, NULL, &der, &der_len) ||
	    !eng_new_id(e, id) ||
	    !eng_publish(e, SKD_OP_MESSAGE, SKD_MSG_PROVIDE_CERT, id, g->name,
	    der, der_len, NULL, to, 1))
		goto err;
	rc = 1;
 err:
	SKD_GL_MANAGE_CERT_free(pc);
	OPENSSL_free(der);
	skd_cmc_body_free(b);
	return rc;
}

/* engine_local.h: 0x01 || kid as an INTEGER. */
ASN1_INTEGER *
eng_glkey_tid(const unsigned char *kid, size_t kid_len)
{
	unsigned char buf[1 + ENG_KEY_ID_LEN * 4];
	ASN1_INTEGER *tid = NULL;
	BIGNUM *bn;

	if (kid_len == 0 || kid_len > sizeof(buf) - 1)
		return NULL;
	/* The leading 0x01 keeps leading zero bytes of kid and the sign. */
	buf[0] = 0x01;
	memcpy(buf + 1, kid, kid_len);
	if ((bn = BN_bin2bn(buf, (int)(kid_len + 1), NULL)) != NULL)
		tid = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return tid;
}
