/*
 * cmc.c: templates for the CMC subset (asn1/CMC-subset.asn; RFC 5272 as
 * updated by RFC 6402), IMPLICIT TAGS.
 */
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>

#include "asn1/asn1_local.h"

/* Printing a control shows its values decoded, not as hex. */
static int
tagged_attr_cb(int op, ASN1_VALUE **pval, const ASN1_ITEM *it, void *exarg)
{
	ASN1_PRINT_ARG *parg = exarg;

	(void)it;
	if (op != ASN1_OP_PRINT_PRE)
		return 1;
	return skd_asn1_print_tagged_attribute(parg->out,
	    (const SKD_TAGGED_ATTRIBUTE *)*pval, parg->indent + 2);
}

ASN1_SEQUENCE_cb(SKD_TAGGED_ATTRIBUTE, tagged_attr_cb) = {
	ASN1_SIMPLE(SKD_TAGGED_ATTRIBUTE, bodyPartID, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_TAGGED_ATTRIBUTE, attrType, ASN1_OBJECT),
	ASN1_SET_OF(SKD_TAGGED_ATTRIBUTE, attrValues, ASN1_ANY)
} ASN1_SEQUENCE_END_cb(SKD_TAGGED_ATTRIBUTE, SKD_TAGGED_ATTRIBUTE)
IMPLEMENT_ASN1_FUNCTIONS(SKD_TAGGED_ATTRIBUTE)

ASN1_SEQUENCE(SKD_TAGGED_CERT_REQUEST) = {
	ASN1_SIMPLE(SKD_TAGGED_CERT_REQUEST, bodyPartID, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_TAGGED_CERT_REQUEST, certificationRequest, X509_REQ)
} ASN1_SEQUENCE_END(SKD_TAGGED_CERT_REQUEST)
IMPLEMENT_ASN1_FUNCTIONS(SKD_TAGGED_CERT_REQUEST)

ASN1_SEQUENCE(SKD_OTHER_REQUEST) = {
	ASN1_SIMPLE(SKD_OTHER_REQUEST, bodyPartID, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_OTHER_REQUEST, requestMessageType, ASN1_OBJECT),
	ASN1_SIMPLE(SKD_OTHER_REQUEST, requestMessageValue, ASN1_ANY)
} ASN1_SEQUENCE_END(SKD_OTHER_REQUEST)
IMPLEMENT_ASN1_FUNCTIONS(SKD_OTHER_REQUEST)

ASN1_CHOICE(SKD_TAGGED_REQUEST) = {
	ASN1_IMP(SKD_TAGGED_REQUEST, d.tcr, SKD_TAGGED_CERT_REQUEST, 0),
	ASN1_IMP(SKD_TAGGED_REQUEST, d.crm, SKD_CRMF_MSG, 1),
	ASN1_IMP(SKD_TAGGED_REQUEST, d.orm, SKD_OTHER_REQUEST, 2)
} ASN1_CHOICE_END(SKD_TAGGED_REQUEST)
IMPLEMENT_ASN1_FUNCTIONS(SKD_TAGGED_REQUEST)

/* RFC 5272 6.7 */
ASN1_SEQUENCE(SKD_ENCRYPTED_POP) = {
	ASN1_SIMPLE(SKD_ENCRYPTED_POP, request, SKD_TAGGED_REQUEST),
	ASN1_SIMPLE(SKD_ENCRYPTED_POP, cms, CMS_ContentInfo),
	ASN1_SIMPLE(SKD_ENCRYPTED_POP, thePOPAlgID, X509_ALGOR),
	ASN1_SIMPLE(SKD_ENCRYPTED_POP, witnessAlgID, X509_ALGOR),
	ASN1_SIMPLE(SKD_ENCRYPTED_POP, witness, ASN1_OCTET_STRING)
} ASN1_SEQUENCE_END(SKD_ENCRYPTED_POP)
IMPLEMENT_ASN1_FUNCTIONS(SKD_ENCRYPTED_POP)

ASN1_SEQUENCE(SKD_DECRYPTED_POP) = {
	ASN1_SIMPLE(SKD_DECRYPTED_POP, bodyPartID, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_DECRYPTED_POP, thePOPAlgID, X509_ALGOR),
	ASN1_SIMPLE(SKD_DECRYPTED_POP, thePOP, ASN1_OCTET_STRING)
} ASN1_SEQUENCE_END(SKD_DECRYPTED_POP)
IMPLEMENT_ASN1_FUNCTIONS(SKD_DECRYPTED_POP)

ASN1_SEQUENCE(SKD_TAGGED_CONTENT_INFO) = {
	ASN1_SIMPLE(SKD_TAGGED_CONTENT_INFO, bodyPartID, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_TAGGED_CONTENT_INFO, contentInfo, CMS_ContentInfo)
} ASN1_SEQUENCE_END(SKD_TAGGED_CONTENT_INFO)
IMPLEMENT_ASN1_FUNCTIONS(SKD_TAGGED_CONTENT_INFO)

ASN1_SEQUENCE(SKD_OTHER_MSG) = {
	ASN1_SIMPLE(SKD_OTHER_MSG, bodyPartID, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_OTHER_MSG, otherMsgType, ASN1_OBJECT),
	ASN1_SIMPLE(SKD_OTHER_MSG, otherMsgValue, ASN1_ANY)
} ASN1_SEQUENCE_END(SKD_OTHER_MSG)
IMPLEMENT_ASN1_FUNCTIONS(SKD_OTHER_MSG)

ASN1_SEQUENCE(SKD_PKI_DATA) = {
	ASN1_SEQUENCE_OF(SKD_PKI_DATA, controlSequence, SKD_TAGGED_ATTRIBUTE),
	ASN1_SEQUENCE_OF(SKD_PKI_DATA, reqSequence, SKD_TAGGED_REQUEST),
	ASN1_SEQUENCE_OF(SKD_PKI_DATA, cmsSequence, SKD_TAGGED_CONTENT_INFO),
	ASN1_SEQUENCE_OF(SKD_PKI_DATA, otherMsgSequence, SKD_OTHER_MSG)
} ASN1_SEQUENCE_END(SKD_PKI_DATA)
IMPLEMENT_ASN1_FUNCTIONS(SKD_PKI_DATA)

ASN1_SEQUENCE(SKD_PKI_RESPONSE) = {
	ASN1_SEQUENCE_OF(SKD_PKI_RESPONSE, controlSequence,
	    SKD_TAGGED_ATTRIBUTE),
	ASN1_SEQUENCE_OF(SKD_PKI_RESPONSE, cmsSequence,
	    SKD_TAGGED_CONTENT_INFO),
	ASN1_SEQUENCE_OF(SKD_PKI_RESPONSE, otherMsgSequence, SKD_OTHER_MSG)
} ASN1_SEQUENCE_END(SKD_PKI_RESPONSE)
IMPLEMENT_ASN1_FUNCTIONS(SKD_PKI_RESPONSE)

ASN1_ITEM_TEMPLATE(SKD_BODY_PART_PATH) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, BodyPartPath,
	    ASN1_INTEGER)
ASN1_ITEM_TEMPLATE_END(SKD_BODY_PART_PATH)
IMPLEMENT_ASN1_FUNCTIONS(SKD_BODY_PART_PATH)

ASN1_CHOICE(SKD_BODY_PART_REFERENCE) = {
	ASN1_SIMPLE(SKD_BODY_PART_REFERENCE, d.bodyPartID, ASN1_INTEGER),
	ASN1_SEQUENCE_OF(SKD_BODY_PART_REFERENCE, d.bodyPartPath, ASN1_INTEGER)
} ASN1_CHOICE_END(SKD_BODY_PART_REFERENCE)
IMPLEMENT_ASN1_FUNCTIONS(SKD_BODY_PART_REFERENCE)

ASN1_SEQUENCE(SKD_PEND_INFO) = {
	ASN1_SIMPLE(SKD_PEND_INFO, pendToken, ASN1_OCTET_STRING),
	ASN1_SIMPLE(SKD_PEND_INFO, pendTime, ASN1_GENERALIZEDTIME)
} ASN1_SEQUENCE_END(SKD_PEND_INFO)
IMPLEMENT_ASN1_FUNCTIONS(SKD_PEND_INFO)

ASN1_SEQUENCE(SKD_EXTENDED_FAIL_INFO) = {
	ASN1_SIMPLE(SKD_EXTENDED_FAIL_INFO, failInfoOID, ASN1_OBJECT),
	ASN1_SIMPLE(SKD_EXTENDED_FAIL_INFO, failInfoValue, ASN1_ANY)
} ASN1_SEQUENCE_END(SKD_EXTENDED_FAIL_INFO)
IMPLEMENT_ASN1_FUNCTIONS(SKD_EXTENDED_FAIL_INFO)

/*
 * OtherStatusInfo.  pendInfo and extendedFailInfo are both untagged
 * SEQUENCEs, so OpenSSL's CHOICE decoder (which tries the alternatives by
 * tag, in order) cannot pick between them: it would commit to the first
 * SEQUENCE alternative and fail on the other.  The type is therefore an
 * EXTERN item: new/free/i2d/print go through the plain CHOICE template
 * below, and d2i looks one element inside a SEQUENCE (an OBJECT IDENTIFIER
 * starts ExtendedFailInfo, an OCTET STRING starts PendInfo) before handing
 * the bytes to that alternative's template.
 */
DECLARE_ASN1_ITEM(SKD_OTHER_STATUS_INFO_CHOICE)

ASN1_CHOICE(SKD_OTHER_STATUS_INFO_CHOICE) = {
	ASN1_SIMPLE(SKD_OTHER_STATUS_INFO, d.failInfo, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_OTHER_STATUS_INFO, d.pendInfo, SKD_PEND_INFO),
	ASN1_SIMPLE(SKD_OTHER_STATUS_INFO, d.extendedFailInfo,
	    SKD_EXTENDED_FAIL_INFO)
} ASN1_CHOICE_END_name(SKD_OTHER_STATUS_INFO, SKD_OTHER_STATUS_INFO_CHOICE)

static int
osi_new(ASN1_VALUE **pval, const ASN1_ITEM *it)
{
	(void)it;
	*pval = ASN1_item_new(ASN1_ITEM_rptr(SKD_OTHER_STATUS_INFO_CHOICE));
	return *pval != NULL;
}

static void
osi_free(ASN1_VALUE **pval, const ASN1_ITEM *it)
{
	(void)it;
	ASN1_item_free(*pval, ASN1_ITEM_rptr(SKD_OTHER_STATUS_INFO_CHOICE));
	*pval = NULL;
}

static int
osi_d2i(ASN1_VALUE **pval, const unsigned char **in, long len,
    const ASN1_ITEM *it, int tag, int aclass, char opt, ASN1_TLC *ctx)
{
	SKD_OTHER_STATUS_INFO *osi = NULL;
	const unsigned char *p = *in, *q;
	const ASN1_ITEM *alt;
	ASN1_VALUE **field;
	long plen, ilen;
	int r, ptag, pclass, itag, iclass, type, ret;

	(void)it;
	(void)aclass;
	if (tag != -1) {
		/* A CHOICE cannot be IMPLICITly tagged. */
		ERR_raise(ERR_LIB_ASN1, ASN1_R_BAD_TEMPLATE);
		return 0;
	}
	r = ASN1_get_object(&p, &plen, &ptag, &pclass, len);
	if (r & 0x80)
		return 0;
	if (pclass == V_ASN1_UNIVERSAL && ptag == V_ASN1_INTEGER &&
	    !(r & V_ASN1_CONSTRUCTED)) {
		type = SKD_OTHER_STATUS_FAIL_INFO;
	} else if (pclass == V_ASN1_UNIVERSAL && ptag == V_ASN1_SEQUENCE &&
	    (r & V_ASN1_CONSTRUCTED)) {
		q = p;
		r = ASN1_get_object(&q, &ilen, &itag, &iclass, plen);
		if (!(r & 0x80) && iclass == V_ASN1_UNIVERSAL &&
		    itag == V_ASN1_OBJECT)
			type = SKD_OTHER_STATUS_EXT_FAIL_INFO;
		else
			type = SKD_OTHER_STATUS_PEND_INFO;
	} else {
		if (opt)
			return -1;
		ERR_raise(ERR_LIB_ASN1, ASN1_R_WRONG_TAG);
		return 0;
	}
	osi_free(pval, it);
	if ((osi = SKD_OTHER_STATUS_INFO_new()) == NULL)
		return 0;
	switch (type) {
	case SKD_OTHER_STATUS_FAIL_INFO:
		alt = ASN1_ITEM_rptr(ASN1_INTEGER);
		field = (ASN1_VALUE **)&osi->d.failInfo;
		break;
	case SKD_OTHER_STATUS_PEND_INFO:
		alt = ASN1_ITEM_rptr(SKD_PEND_INFO);
		field = (ASN1_VALUE **)&osi->d.pendInfo;
		break;
	default:
		alt = ASN1_ITEM_rptr(SKD_EXTENDED_FAIL_INFO);
		field = (ASN1_VALUE **)&osi->d.extendedFailInfo;
		break;
	}
	/* Pass ctx through: the caller may have cached this header in it. */
	p = *in;
	ret = ASN1_item_ex_d2i(field, &p, len, alt, -1, 0, 0, ctx);
	if (ret <= 0) {
		SKD_OTHER_STATUS_INFO_free(osi);
		return 0;
	}
	osi->type = type;
	*pval = (ASN1_VALUE *)osi;
	*in = p;
	return 1;
}

static int
osi_i2d(const ASN1_VALUE **pval, unsigned char **out, const ASN1_ITEM *it,
    int tag, int aclass)
{
	(void)it;
	return ASN1_item_ex_i2d(pval, out,
	    ASN1_ITEM_rptr(SKD_OTHER_STATUS_INFO_CHOICE), tag, aclass);
}

static int
osi_print(BIO *out, const ASN1_VALUE **pval, int indent, const char *fname,
    const ASN1_PCTX *pctx)
{
	const SKD_OTHER_STATUS_INFO *osi = (const SKD_OTHER_STATUS_INFO *)*pval;
	const char *name = NULL;
	long v;

	(void)fname;
	if (BIO_puts(out, "\n") <= 0)
		return 0;
	if (!ASN1_item_print(out, *pval, indent,
	    ASN1_ITEM_rptr(SKD_OTHER_STATUS_INFO_CHOICE), pctx))
		return 0;
	if (osi->type == SKD_OTHER_STATUS_FAIL_INFO) {
		v = ASN1_INTEGER_get(osi->d.failInfo);
		name = skd_cmc_failinfo_name(v);
	} else if (osi->type == SKD_OTHER_STATUS_EXT_FAIL_INFO &&
	    OBJ_obj2nid(osi->d.extendedFailInfo->failInfoOID) ==
	    skd_asn1_nid(SKD_OID_CET_SKD_FAIL_INFO) &&
	    osi->d.extendedFailInfo->failInfoValue->type == V_ASN1_INTEGER) {
		v = ASN1_INTEGER_get(
		    osi->d.extendedFailInfo->failInfoValue->value.integer);
		name = skd_failinfo_name(v);
	}
	if (name != NULL &&
	    BIO_printf(out, "%*s(%s)\n", indent + 2, "", name) <= 0)
		return 0;
	return 1;
}

static const ASN1_EXTERN_FUNCS osi_funcs = {
	NULL, osi_new, osi_free, NULL, osi_d2i, osi_i2d, osi_print, NULL, NULL
};

IMPLEMENT_EXTERN_ASN1(SKD_OTHER_STATUS_INFO, V_ASN1_SEQUENCE, osi_funcs)

SKD_OTHER_STATUS_INFO *
SKD_OTHER_STATUS_INFO_new(void)
{
	return (SKD_OTHER_STATUS_INFO *)ASN1_item_new(
	    ASN1_ITEM_rptr(SKD_OTHER_STATUS_INFO_CHOICE));
}

void
SKD_OTHER_STATUS_INFO_free(SKD_OTHER_STATUS_INFO *a)
{
	ASN1_item_free((ASN1_VALUE *)a,
	    ASN1_ITEM_rptr(SKD_OTHER_STATUS_INFO_CHOICE));
}

SKD_OTHER_STATUS_INFO *
d2i_SKD_OTHER_STATUS_INFO(SKD_OTHER_STATUS_INFO **a, const unsigned char **in,
    long len)
{
	return (SKD_OTHER_STATUS_INFO *)ASN1_item_d2i((ASN1_VALUE **)a, in,
	    len, ASN1_ITEM_rptr(SKD_OTHER_STATUS_INFO));
}

int
i2d_SKD_OTHER_STATUS_INFO(const SKD_OTHER_STATUS_INFO *a, unsigned char **out)
{
	return ASN1_item_i2d((const ASN1_VALUE *)a, out,
	    ASN1_ITEM_rptr(SKD_OTHER_STATUS_INFO));
}

/* bodyList and each BodyPartPath are SIZE (1..MAX). */
static int
statusv2_cb(int op, ASN1_VALUE **pval, const ASN1_ITEM *it, void *exarg)
{
	SKD_CMC_STATUS_INFO_V2 *s = (SKD_CMC_STATUS_INFO_V2 *)*pval;
	SKD_BODY_PART_REFERENCE *ref;
	ASN1_PRINT_ARG *parg;
	const char *name;
	int i;

	(void)it;
	if (op == ASN1_OP_D2I_POST) {
		if (sk_SKD_BODY_PART_REFERENCE_num(s->bodyList) < 1)
			return 0;
		for (i = 0; i < sk_SKD_BODY_PART_REFERENCE_num(s->bodyList);
		    i++) {
			ref = sk_SKD_BODY_PART_REFERENCE_value(s->bodyList, i);
			if (ref->type == SKD_BODY_PART_REF_PATH &&
			    sk_ASN1_INTEGER_num(ref->d.bodyPartPath) < 1)
				return 0;
		}
	} else if (op == ASN1_OP_PRINT_POST) {
		parg = exarg;
		name = skd_cmc_status_name(ASN1_INTEGER_get(s->cMCStatus));
		if (name != NULL && BIO_printf(parg->out, "%*s(cMCStatus %s)\n",
		    parg->indent + 2, "", name) <= 0)
			return 0;
	}
	return 1;
}

ASN1_SEQUENCE_cb(SKD_CMC_STATUS_INFO_V2, statusv2_cb) = {
	ASN1_SIMPLE(SKD_CMC_STATUS_INFO_V2, cMCStatus, ASN1_INTEGER),
	ASN1_SEQUENCE_OF(SKD_CMC_STATUS_INFO_V2, bodyList,
	    SKD_BODY_PART_REFERENCE),
	ASN1_OPT(SKD_CMC_STATUS_INFO_V2, statusString, ASN1_UTF8STRING),
	ASN1_OPT(SKD_CMC_STATUS_INFO_V2, otherStatusInfo, SKD_OTHER_STATUS_INFO)
} ASN1_SEQUENCE_END_cb(SKD_CMC_STATUS_INFO_V2, SKD_CMC_STATUS_INFO_V2)
IMPLEMENT_ASN1_FUNCTIONS(SKD_CMC_STATUS_INFO_V2)

SKD_TAGGED_ATTRIBUTE *
skd_tagged_attribute_new1(long body_part_id, int nid, const ASN1_ITEM *it,
    const void *val)
{
	SKD_TAGGED_ATTRIBUTE *ta = NULL;
	ASN1_TYPE *any = NULL;
	ASN1_OBJECT *obj;
	unsigned char *der = NULL;
	const unsigned char *p;
	int n;

	if ((obj = OBJ_nid2obj(nid)) == NULL)
		goto err;
	if ((ta = SKD_TAGGED_ATTRIBUTE_new()) == NULL)
		goto err;
	if (!ASN1_INTEGER_set_int64(ta->bodyPartID, body_part_id))
		goto err;
	ASN1_OBJECT_free(ta->attrType);
	ta->attrType = obj;	/* OBJ_nid2obj: static, free is a no-op */
	/* Encode, then parse back as ANY, so the value keeps its own tag. */
	if ((n = ASN1_item_i2d((const ASN1_VALUE *)val, &der, it)) <= 0)
		goto err;
	p = der;
	if ((any = d2i_ASN1_TYPE(NULL, &p, n)) == NULL)
		goto err;
	if (!sk_ASN1_TYPE_push(ta->attrValues, any))
		goto err;
	OPENSSL_free(der);
	return ta;

 err:
	OPENSSL_free(der);
	ASN1_TYPE_free(any);
	SKD_TAGGED_ATTRIBUTE_free(ta);
	return NULL;
}

void *
skd_tagged_attribute_decode1(const SKD_TAGGED_ATTRIBUTE *ta, int idx,
    const ASN1_ITEM *it)
{
	const ASN1_TYPE *any;
	unsigned char *der = NULL;
	void *val;
	int n;

	if ((any = sk_ASN1_TYPE_value(ta->attrValues, idx)) == NULL)
		return NULL;
	if ((n = i2d_ASN1_TYPE(any, &der)) <= 0)
		return NULL;
	val = skd_der_decode(it, der, (size_t)n);
	OPENSSL_free(der);
	return val;
}
