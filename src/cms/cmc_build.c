/*
 * cmc_build.c: building and protecting CMC bodies; see skd_cmc.h.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "cms/skd_cmc.h"

struct skd_cmc_body {
	int			 is_response;
	long			 next_id;
	SKD_PKI_DATA		*pd;	/* is_response == 0 */
	SKD_PKI_RESPONSE	*pr;	/* is_response == 1 */
};

struct skd_cmc_body *
skd_cmc_body_new(int is_response)
{
	struct skd_cmc_body *b;

	if (!skd_asn1_init())
		return NULL;
	if ((b = OPENSSL_zalloc(sizeof(*b))) == NULL)
		return NULL;
	b->is_response = is_response;
	b->next_id = 1;
	if (is_response)
		b->pr = SKD_PKI_RESPONSE_new();
	else
		b->pd = SKD_PKI_DATA_new();
	if (b->pd == NULL && b->pr == NULL) {
		OPENSSL_free(b);
		return NULL;
	}
	return b;
}

void
skd_cmc_body_free(struct skd_cmc_body *b)
{
	if (b == NULL)
		return;
	SKD_PKI_DATA_free(b->pd);
	SKD_PKI_RESPONSE_free(b->pr);
	OPENSSL_free(b);
}

static STACK_OF(SKD_TAGGED_ATTRIBUTE) *
controls(struct skd_cmc_body *b)
{
	return b->is_response ? b->pr->controlSequence : b->pd->controlSequence;
}

/* Adds a control with one value of type it. */
static long
add_value(struct skd_cmc_body *b, enum skd_oid oid, const ASN1_ITEM *it,
    const void *val)
{
	SKD_TAGGED_ATTRIBUTE *ta;
	int nid = skd_asn1_nid(oid);

	if (nid == NID_undef ||
	    sk_SKD_TAGGED_ATTRIBUTE_num(controls(b)) >= SKD_CMC_MAX_CONTROLS)
		return 0;
	if ((ta = skd_tagged_attribute_new1(b->next_id, nid, it, val)) == NULL)
		return 0;
	if (!sk_SKD_TAGGED_ATTRIBUTE_push(controls(b), ta)) {
		SKD_TAGGED_ATTRIBUTE_free(ta);
		return 0;
	}
	return b->next_id++;
}

long
skd_cmc_body_add_control(struct skd_cmc_body *b, enum skd_oid oid,
    const void *val)
{
	const struct skd_control *c = skd_control_by_nid(skd_asn1_nid(oid));

	if (c == NULL)
		return 0;
	return add_value(b, oid, ASN1_ITEM_ptr(c->item), val);
}

long
skd_cmc_body_add_request(struct skd_cmc_body *b, const SKD_TAGGED_REQUEST *req)
{
	SKD_TAGGED_REQUEST *r;
	const ASN1_INTEGER *id = NULL;
	long v;

	if (b->is_response)
		return 0;
	switch (req->type) {
	case SKD_TAGGED_REQUEST_TCR:
		id = req->d.tcr->bodyPartID;
		break;
	case SKD_TAGGED_REQUEST_ORM:
		id = req->d.orm->bodyPartID;
		break;
	default:
		return 0;
	}
	/* The request keeps its own bodyPartID; later ones come after. */
	if ((v = ASN1_INTEGER_get(id)) < 1 || v >= 0x7fffffffL ||
	    (r = ASN1_item_dup(ASN1_ITEM_rptr(SKD_TAGGED_REQUEST),
	    req)) == NULL)
		return 0;
	if (!sk_SKD_TAGGED_REQUEST_push(b->pd->reqSequence, r)) {
		SKD_TAGGED_REQUEST_free(r);
		return 0;
	}
	if (b->next_id <= v)
		b->next_id = v + 1;
	return v;
}

long
skd_cmc_body_add_transaction_id(struct skd_cmc_body *b,
    const ASN1_INTEGER *tid)
{
	return add_value(b, SKD_OID_CMC_TRANSACTION_ID,
	    ASN1_ITEM_rptr(ASN1_INTEGER), tid);
}

static long
add_nonce(struct skd_cmc_body *b, enum skd_oid oid, const unsigned char *n,
    size_t len)
{
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	long id = 0;

	if (os != NULL && ASN1_OCTET_STRING_set(os, n, (int)len))
		id = add_value(b, oid, ASN1_ITEM_rptr(ASN1_OCTET_STRING), os);
	ASN1_OCTET_STRING_free(os);
	return id;
}

long
skd_cmc_body_add_sender_nonce(struct skd_cmc_body *b,
    const unsigned char *nonce, size_t len)
{
	return add_nonce(b, SKD_OID_CMC_SENDER_NONCE, nonce, len);
}

long
skd_cmc_body_add_recipient_nonce(struct skd_cmc_body *b,
    const unsigned char *nonce, size_t len)
{
	return add_nonce(b, SKD_OID_CMC_RECIPIENT_NONCE, nonce, len);
}

/* otherStatusInfo.extendedFailInfo { id-cet-skdFailInfo, SKDFailInfo }
 * (RFC 5275 3.2.4.1). */
static SKD_OTHER_STATUS_INFO *
ext_fail_info(int skd_fail)
{
	SKD_OTHER_STATUS_INFO *osi = NULL;
	SKD_EXTENDED_FAIL_INFO *efi = NULL;
	ASN1_INTEGER *v = NULL;

	if ((osi = SKD_OTHER_STATUS_INFO_new()) == NULL ||
	    (efi = SKD_EXTENDED_FAIL_INFO_new()) == NULL ||
	    (v = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set(v, skd_fail))
		goto err;
	ASN1_OBJECT_free(efi->failInfoOID);
	efi->failInfoOID = OBJ_nid2obj(skd_asn1_nid(SKD_OID_CET_SKD_FAIL_INFO));
	if (efi->failInfoOID == NULL)
		goto err;
	ASN1_TYPE_free(efi->failInfoValue);
	if ((efi->failInfoValue = ASN1_TYPE_new()) == NULL)
		goto err;
	ASN1_TYPE_set(efi->failInfoValue, V_ASN1_INTEGER, v);
	v = NULL;
	osi->type = SKD_OTHER_STATUS_EXT_FAIL_INFO;
	osi->d.extendedFailInfo = efi;
	return osi;
 err:
	ASN1_INTEGER_free(v);
	SKD_EXTENDED_FAIL_INFO_free(efi);
	SKD_OTHER_STATUS_INFO_free(osi);
	return NULL;
}

long
skd_cmc_body_add_status(struct skd_cmc_body *b, enum skd_cmc_status st,
    const long *body_list, size_t n, const char *status_string,
    int cmc_fail, int skd_fail)
{
	SKD_CMC_STATUS_INFO_V2 *si = NULL;
	SKD_BODY_PART_REFERENCE *ref = NULL;
	size_t i;
	long id = 0;

	if (n == 0 || (cmc_fail >= 0 && skd_fail >= 0))
		return 0;
	if ((si = SKD_CMC_STATUS_INFO_V2_new()) == NULL ||
	    !ASN1_INTEGER_set(si->cMCStatus, st))
		goto err;
	for (i = 0; i < n; i++) {
		if ((ref = SKD_BODY_PART_REFERENCE_new()) == NULL)
			goto err;
		ref->type = SKD_BODY_PART_REF_ID;
		if ((ref->d.bodyPartID = ASN1_INTEGER_new()) == NULL ||
		    !ASN1_INTEGER_set(ref->d.bodyPartID, body_list[i]) ||
		    !sk_SKD_BODY_PART_REFERENCE_push(si->bodyList, ref))
			goto err;
		ref = NULL;
	}
	if (status_string != NULL) {
		if ((si->statusString = ASN1_UTF8STRING_new()) == NULL ||
		    !ASN1_STRING_set(si->statusString, status_string, -1))
			goto err;
	}
	if (cmc_fail >= 0) {
		if ((si->otherStatusInfo = SKD_OTHER_STATUS_INFO_new()) == NULL)
			goto err;
		si->otherStatusInfo->type = SKD_OTHER_STATUS_FAIL_INFO;
		if ((si->otherStatusInfo->d.failInfo = ASN1_INTEGER_new()) ==
		    NULL || !ASN1_INTEGER_set(si->otherStatusInfo->d.failInfo,
		    cmc_fail))
			goto err;
	} else if (skd_fail >= 0) {
		if ((si->otherStatusInfo = ext_fail_info(skd_fail)) == NULL)
			goto err;
	}
	id = add_value(b, SKD_OID_CMC_STATUS_INFO_V2,
	    ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2), si);
 err:
	SKD_BODY_PART_REFERENCE_free(ref);
	SKD_CMC_STATUS_INFO_V2_free(si);
	return id;
}

long
skd_cmc_body_add_cms(struct skd_cmc_body *b, const unsigned char *ci_der,
    size_t ci_len)
{
	STACK_OF(SKD_TAGGED_CONTENT_INFO) *seq = b->is_response ?
	    b->pr->cmsSequence : b->pd->cmsSequence;
	SKD_TAGGED_CONTENT_INFO *tci;
	const unsigned char *p = ci_der;

	if ((tci = SKD_TAGGED_CONTENT_INFO_new()) == NULL)
		return 0;
	CMS_ContentInfo_free(tci->contentInfo);
	tci->contentInfo = d2i_CMS_ContentInfo(NULL, &p, (long)ci_len);
	if (tci->contentInfo == NULL || p != ci_der + ci_len ||
	    !ASN1_INTEGER_set(tci->bodyPartID, b->next_id) ||
	    !sk_SKD_TAGGED_CONTENT_INFO_push(seq, tci)) {
		SKD_TAGGED_CONTENT_INFO_free(tci);
		return 0;
	}
	return b->next_id++;
}

int
skd_cmc_body_encode(const struct skd_cmc_body *b, unsigned char **out,
    size_t *out_len)
{
	if (b->is_response)
		return skd_der_encode(ASN1_ITEM_rptr(SKD_PKI_RESPONSE), b->pr,
		    out, out_len);
	return skd_der_encode(ASN1_ITEM_rptr(SKD_PKI_DATA), b->pd, out,
	    out_len);
}

int
skd_cmc_protect(unsigned char **out, size_t *out_len, int is_response,
    const unsigned char *body, size_t body_len,
    const struct skd_cmc_protect *p)
{
	unsigned char *signed_der = NULL, *env_der = NULL, *bare = NULL;
	size_t signed_len = 0, env_len = 0, bare_len = 0;
	struct skd_cms_recip r;
	int ok = 0;

	*out = NULL;
	if (!skd_asn1_init())
		return 0;
	/* 3.2.1.1: SignedData(PKIData or PKIResponse), signingTime always. */
	if (!skd_cms_sign(&signed_der, &signed_len, OBJ_nid2obj(skd_asn1_nid(
	    is_response ? SKD_OID_CCT_PKI_RESPONSE : SKD_OID_CCT_PKI_DATA)),
	    body, body_len, p->signer, p->key, p->chain, p->signing_time, 0))
		goto err;
	if (p->encrypt_to == NULL) {
		*out = signed_der;
		*out_len = signed_len;
		return 1;
	}
	/* 3.2.1.2: EnvelopedData(SignedData(...)) for the recipient; the
	 * encrypted content is the bare SignedData, of content type
	 * id-signedData (RFC 5652 6.1). */
	memset(&r, 0, sizeof(r));
	r.type = SKD_CMS_RECIP_CERT;
	r.flags = p->encrypt_flags;
	r.cert = p->encrypt_to;
	if (!skd_cms_content_info_unwrap(&bare, &bare_len, NULL, signed_der,
	    signed_len) ||
	    !skd_cms_envelope(&env_der, &env_len,
	    OBJ_nid2obj(NID_pkcs7_signed), bare, bare_len, &r, 1, NULL))
		goto err;
	if (!p->outer_sign) {
		*out = env_der;
		*out_len = env_len;
		env_der = NULL;
		ok = 1;
		goto err;
	}
	/* 3.2.1.2: SignedData over the EnvelopedData, with ContentHints;
	 * eContent is the bare EnvelopedData (RFC 5652 5.2). */
	OPENSSL_free(bare);
	bare = NULL;
	if (!skd_cms_content_info_unwrap(&bare, &bare_len, NULL, env_der,
	    env_len) ||
	    !skd_cms_sign(out, out_len, OBJ_nid2obj(NID_pkcs7_enveloped),
	    bare, bare_len, p->signer, p->key, p->chain, p->signing_time,
	    SKD_CMS_CONTENT_HINTS))
		goto err;
	ok = 1;
 err:
	OPENSSL_free(bare);
	OPENSSL_free(signed_der);
	OPENSSL_free(env_der);
	return ok;
}

const SKD_TAGGED_ATTRIBUTE *
skd_cmc_find_control(const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq,
    enum skd_oid oid, int idx)
{
	int nid = skd_asn1_nid(oid), i;

	for (i = 0; i < sk_SKD_TAGGED_ATTRIBUTE_num(seq); i++) {
		const SKD_TAGGED_ATTRIBUTE *ta =
		    sk_SKD_TAGGED_ATTRIBUTE_value(seq, i);

		if (OBJ_obj2nid(ta->attrType) == nid && idx-- == 0)
			return ta;
	}
	return NULL;
}

int
skd_cmc_get_nonce(const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq,
    enum skd_oid oid, unsigned char **out, size_t *out_len)
{
	const SKD_TAGGED_ATTRIBUTE *ta = skd_cmc_find_control(seq, oid, 0);
	ASN1_OCTET_STRING *os;
	int len;

	*out = NULL;
	*out_len = 0;
	if (ta == NULL)
		return 0;
	if (sk_ASN1_TYPE_num(ta->attrValues) != 1 ||
	    skd_cmc_find_control(seq, oid, 1) != NULL)
		return -1;
	os = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(ASN1_OCTET_STRING));
	if (os == NULL)
		return -1;
	len = ASN1_STRING_length(os);
	if (len > 64 || (*out = OPENSSL_memdup(ASN1_STRING_get0_data(os),
	    len > 0 ? (size_t)len : 1)) == NULL) {
		ASN1_OCTET_STRING_free(os);
		return -1;
	}
	*out_len = (size_t)len;
	ASN1_OCTET_STRING_free(os);
	return 1;
}
