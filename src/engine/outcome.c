/*
 * outcome.c: the SkdOutcome templates (see skd_engine.h), its strict
 * encoding and decoding, and the helpers that build operations.
 */
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>

#include "engine/engine_local.h"

ASN1_SEQUENCE(SKD_ENG_GL) = {
	ASN1_SIMPLE(SKD_ENG_GL, address, ASN1_UTF8STRING),
	ASN1_SIMPLE(SKD_ENG_GL, administration, ASN1_INTEGER),
	ASN1_IMP_EX(SKD_ENG_GL, rekeyByGLO, ASN1_FBOOLEAN, 0,
	    ASN1_TFLG_OPTIONAL),
	ASN1_IMP_EX(SKD_ENG_GL, notMutuallyAware, ASN1_FBOOLEAN, 1,
	    ASN1_TFLG_OPTIONAL),
	ASN1_SIMPLE(SKD_ENG_GL, duration, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_ENG_GL, generationCounter, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_ENG_GL, keyAlg, ASN1_OBJECT),
	ASN1_SIMPLE(SKD_ENG_GL, revision, ASN1_INTEGER),
	ASN1_IMP_OPT(SKD_ENG_GL, cert, ASN1_OCTET_STRING, 2)
} ASN1_SEQUENCE_END(SKD_ENG_GL)
IMPLEMENT_ASN1_FUNCTIONS(SKD_ENG_GL)

ASN1_SEQUENCE(SKD_ENG_MEMBER) = {
	ASN1_SIMPLE(SKD_ENG_MEMBER, name, ASN1_UTF8STRING),
	ASN1_IMP_OPT(SKD_ENG_MEMBER, address, ASN1_UTF8STRING, 0),
	ASN1_IMP_OPT(SKD_ENG_MEMBER, cert, ASN1_OCTET_STRING, 1),
	ASN1_IMP_OPT(SKD_ENG_MEMBER, dn, ASN1_UTF8STRING, 2),
	ASN1_IMP_OPT(SKD_ENG_MEMBER, since, ASN1_GENERALIZEDTIME, 3)
} ASN1_SEQUENCE_END(SKD_ENG_MEMBER)
IMPLEMENT_ASN1_FUNCTIONS(SKD_ENG_MEMBER)

/* The archived KEK is key material (wrapped, but the GLA's alone): wipe. */
static int
glkey_cb(int op, ASN1_VALUE **pval, const ASN1_ITEM *it, void *exarg)
{
	SKD_ENG_GLKEY *k;

	(void)it;
	(void)exarg;
	if (op == ASN1_OP_FREE_PRE && *pval != NULL) {
		k = (SKD_ENG_GLKEY *)*pval;
		if (k->archivedKEK != NULL && k->archivedKEK->data != NULL)
			OPENSSL_cleanse(k->archivedKEK->data,
			    (size_t)k->archivedKEK->length);
	}
	return 1;
}

ASN1_SEQUENCE_cb(SKD_ENG_GLKEY, glkey_cb) = {
	ASN1_SIMPLE(SKD_ENG_GLKEY, keyId, ASN1_UTF8STRING),
	ASN1_SIMPLE(SKD_ENG_GLKEY, shard, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_ENG_GLKEY, message, ASN1_OCTET_STRING),
	ASN1_SEQUENCE_OF(SKD_ENG_GLKEY, recipients, ASN1_UTF8STRING),
	ASN1_SEQUENCE_OF(SKD_ENG_GLKEY, recipientDNs, ASN1_UTF8STRING),
	ASN1_SIMPLE(SKD_ENG_GLKEY, notBefore, ASN1_GENERALIZEDTIME),
	ASN1_SIMPLE(SKD_ENG_GLKEY, notAfter, ASN1_GENERALIZEDTIME),
	ASN1_SIMPLE(SKD_ENG_GLKEY, archivedKEK, ASN1_OCTET_STRING),
	ASN1_IMP_SEQUENCE_OF_OPT(SKD_ENG_GLKEY, mailDNs, ASN1_UTF8STRING, 0)
} ASN1_SEQUENCE_END_cb(SKD_ENG_GLKEY, SKD_ENG_GLKEY)
IMPLEMENT_ASN1_FUNCTIONS(SKD_ENG_GLKEY)

ASN1_SEQUENCE(SKD_ENG_PUBLISH) = {
	ASN1_SIMPLE(SKD_ENG_PUBLISH, id, ASN1_UTF8STRING),
	ASN1_SIMPLE(SKD_ENG_PUBLISH, kind, ASN1_INTEGER),
	ASN1_SEQUENCE_OF(SKD_ENG_PUBLISH, messages, ASN1_OCTET_STRING),
	ASN1_SEQUENCE_OF(SKD_ENG_PUBLISH, recipients, ASN1_UTF8STRING)
} ASN1_SEQUENCE_END(SKD_ENG_PUBLISH)
IMPLEMENT_ASN1_FUNCTIONS(SKD_ENG_PUBLISH)

ASN1_SEQUENCE(SKD_ENG_OP) = {
	ASN1_SIMPLE(SKD_ENG_OP, type, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_ENG_OP, glName, ASN1_UTF8STRING),
	ASN1_IMP_OPT(SKD_ENG_OP, gl, SKD_ENG_GL, 0),
	ASN1_IMP_OPT(SKD_ENG_OP, member, SKD_ENG_MEMBER, 1),
	ASN1_IMP_OPT(SKD_ENG_OP, name, ASN1_UTF8STRING, 2),
	ASN1_IMP_OPT(SKD_ENG_OP, glKey, SKD_ENG_GLKEY, 3),
	ASN1_IMP_OPT(SKD_ENG_OP, publish, SKD_ENG_PUBLISH, 4),
	ASN1_IMP_OPT(SKD_ENG_OP, keyId, ASN1_UTF8STRING, 5)
} ASN1_SEQUENCE_END(SKD_ENG_OP)
IMPLEMENT_ASN1_FUNCTIONS(SKD_ENG_OP)

ASN1_SEQUENCE(SKD_ENG_RESULT) = {
	ASN1_SIMPLE(SKD_ENG_RESULT, unit, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_ENG_RESULT, bodyPart, ASN1_INTEGER),
	ASN1_OPT(SKD_ENG_RESULT, control, ASN1_OBJECT),
	ASN1_SIMPLE(SKD_ENG_RESULT, status, ASN1_INTEGER),
	ASN1_IMP_OPT(SKD_ENG_RESULT, cmcFail, ASN1_INTEGER, 0),
	ASN1_IMP_OPT(SKD_ENG_RESULT, skdFail, ASN1_INTEGER, 1),
	ASN1_IMP_OPT(SKD_ENG_RESULT, text, ASN1_UTF8STRING, 2)
} ASN1_SEQUENCE_END(SKD_ENG_RESULT)
IMPLEMENT_ASN1_FUNCTIONS(SKD_ENG_RESULT)

ASN1_SEQUENCE(SKD_ENG_OUTCOME) = {
	ASN1_SIMPLE(SKD_ENG_OUTCOME, version, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_ENG_OUTCOME, requestId, ASN1_UTF8STRING),
	ASN1_SEQUENCE_OF(SKD_ENG_OUTCOME, results, SKD_ENG_RESULT),
	ASN1_SEQUENCE_OF(SKD_ENG_OUTCOME, ops, SKD_ENG_OP),
	ASN1_IMP_OPT(SKD_ENG_OUTCOME, note, ASN1_UTF8STRING, 0),
	ASN1_IMP_SEQUENCE_OF_OPT(SKD_ENG_OUTCOME, signer, ASN1_UTF8STRING, 1)
} ASN1_SEQUENCE_END(SKD_ENG_OUTCOME)
IMPLEMENT_ASN1_FUNCTIONS(SKD_ENG_OUTCOME)

int
skd_engine_outcome_encode(unsigned char **out, size_t *out_len,
    const SKD_ENG_OUTCOME *o)
{
	return skd_der_encode(ASN1_ITEM_rptr(SKD_ENG_OUTCOME), o, out,
	    out_len);
}

SKD_ENG_OUTCOME *
skd_engine_outcome_decode(const unsigned char *der, size_t len)
{
	SKD_ENG_OUTCOME *o;

	o = skd_der_decode(ASN1_ITEM_rptr(SKD_ENG_OUTCOME), der, len);
	if (o != NULL && ASN1_INTEGER_get(o->version) != 0) {
		SKD_ENG_OUTCOME_free(o);
		return NULL;
	}
	return o;
}

int
skd_engine_op_type(const SKD_ENG_OP *op)
{
	return (int)ASN1_INTEGER_get(op->type);
}

const STACK_OF(ASN1_UTF8STRING) *
skd_engine_outcome_signer(const SKD_ENG_OUTCOME *o)
{
	return o != NULL ? o->signer : NULL;
}

size_t
skd_engine_outcome_count(const SKD_ENG_OUTCOME *o, int t)
{
	size_t n = 0;
	int i;

	for (i = 0; i < sk_SKD_ENG_OP_num(o->ops); i++) {
		if (t == 0 ||
		    skd_engine_op_type(sk_SKD_ENG_OP_value(o->ops, i)) == t)
			n++;
	}
	return n;
}

const SKD_ENG_OP *
skd_engine_outcome_find(const SKD_ENG_OUTCOME *o, int t, size_t idx)
{
	int i;

	for (i = 0; i < sk_SKD_ENG_OP_num(o->ops); i++) {
		const SKD_ENG_OP *op = sk_SKD_ENG_OP_value(o->ops, i);

		if ((t == 0 || skd_engine_op_type(op) == t) && idx-- == 0)
			return op;
	}
	return NULL;
}

int
skd_engine_outcome_result(const SKD_ENG_OUTCOME *o, size_t idx,
    long *out_status, long *out_cmc_fail, long *out_skd_fail)
{
	const SKD_ENG_RESULT *r;

	if (idx >= (size_t)sk_SKD_ENG_RESULT_num(o->results))
		return 0;
	r = sk_SKD_ENG_RESULT_value(o->results, (int)idx);
	if (out_status != NULL)
		*out_status = ASN1_INTEGER_get(r->status);
	if (out_cmc_fail != NULL)
		*out_cmc_fail = r->cmcFail != NULL ?
		    ASN1_INTEGER_get(r->cmcFail) : -1;
	if (out_skd_fail != NULL)
		*out_skd_fail = r->skdFail != NULL ?
		    ASN1_INTEGER_get(r->skdFail) : -1;
	return 1;
}

/* ---- builders used by the engine ---- */

ASN1_UTF8STRING *
eng_utf8(const char *s)
{
	ASN1_UTF8STRING *u;

	if ((u = ASN1_UTF8STRING_new()) == NULL)
		return NULL;
	if (!ASN1_STRING_set(u, s, -1)) {
		ASN1_UTF8STRING_free(u);
		return NULL;
	}
	return u;
}

int
eng_set_utf8(ASN1_UTF8STRING **field, const char *s)
{
	ASN1_UTF8STRING *u;

	if (s == NULL)
		return 1;
	if ((u = eng_utf8(s)) == NULL)
		return 0;
	ASN1_UTF8STRING_free(*field);
	*field = u;
	return 1;
}

int
eng_set_octets(ASN1_OCTET_STRING **field, const unsigned char *p, size_t n)
{
	if (*field == NULL && (*field = ASN1_OCTET_STRING_new()) == NULL)
		return 0;
	return ASN1_OCTET_STRING_set(*field, p, (int)n);
}

int
eng_push_utf8(STACK_OF(ASN1_UTF8STRING) *sk, const char *s)
{
	ASN1_UTF8STRING *u;

	if ((u = eng_utf8(s)) == NULL)
		return 0;
	if (!sk_ASN1_UTF8STRING_push(sk, u)) {
		ASN1_UTF8STRING_free(u);
		return 0;
	}
	return 1;
}

int
eng_push_octets(STACK_OF(ASN1_OCTET_STRING) *sk, const unsigned char *p,
    size_t n)
{
	ASN1_OCTET_STRING *os = NULL;

	if (!eng_set_octets(&os, p, n) ||
	    !sk_ASN1_OCTET_STRING_push(sk, os)) {
		ASN1_OCTET_STRING_free(os);
		return 0;
	}
	return 1;
}

char *
eng_str(const ASN1_STRING *s)
{
	char *p;
	int n;

	if (s == NULL)
		return NULL;
	n = ASN1_STRING_length(s);
	if ((p = OPENSSL_malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(p, ASN1_STRING_get0_data(s), (size_t)n);
	p[n] = '\0';
	return p;
}

SKD_ENG_OP *
eng_op_add(SKD_ENG_OUTCOME *o, enum skd_engine_op_type t, const char *gl)
{
	SKD_ENG_OP *op;

	if ((op = SKD_ENG_OP_new()) == NULL)
		return NULL;
	if (!ASN1_INTEGER_set(op->type, t) ||
	    !ASN1_STRING_set(op->glName, gl != NULL ? gl : "", -1) ||
	    !sk_SKD_ENG_OP_push(o->ops, op)) {
		SKD_ENG_OP_free(op);
		return NULL;
	}
	return op;
}

int
eng_result_add(SKD_ENG_OUTCOME *o, long unit, long body_part, int nid,
    long status, long cmc_fail, long skd_fail, const char *text)
{
	SKD_ENG_RESULT *r;

	if ((r = SKD_ENG_RESULT_new()) == NULL)
		return 0;
	if (!ASN1_INTEGER_set(r->unit, unit) ||
	    !ASN1_INTEGER_set(r->bodyPart, body_part) ||
	    !ASN1_INTEGER_set(r->status, status))
		goto err;
	if (nid != NID_undef && (r->control = OBJ_nid2obj(nid)) == NULL)
		goto err;
	if (cmc_fail >= 0 && ((r->cmcFail = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set(r->cmcFail, cmc_fail)))
		goto err;
	if (skd_fail >= 0 && ((r->skdFail = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set(r->skdFail, skd_fail)))
		goto err;
	if (text != NULL && !eng_set_utf8(&r->text, text))
		goto err;
	if (!sk_SKD_ENG_RESULT_push(o->results, r))
		goto err;
	return 1;
 err:
	SKD_ENG_RESULT_free(r);
	return 0;
}

SKD_ENG_OUTCOME *
eng_outcome_new(const char *request_id)
{
	SKD_ENG_OUTCOME *o;

	if ((o = SKD_ENG_OUTCOME_new()) == NULL)
		return NULL;
	if (!ASN1_INTEGER_set(o->version, 0) ||
	    !ASN1_STRING_set(o->requestId, request_id != NULL ? request_id :
	    "", -1)) {
		SKD_ENG_OUTCOME_free(o);
		return NULL;
	}
	return o;
}
