/*
 * cms_util.c: what the cms layers share: the ContentHints template (RFC
 * 2634 2.9), strict DER on input, and moving a nested layer between its
 * bare form (RFC 5652 5.2) and its ContentInfo.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "asn1/skd_asn1.h"
#include "cms/skd_cms.h"

ASN1_SEQUENCE(SKD_CONTENT_HINTS) = {
	ASN1_OPT(SKD_CONTENT_HINTS, contentDescription, ASN1_UTF8STRING),
	ASN1_SIMPLE(SKD_CONTENT_HINTS, contentType, ASN1_OBJECT),
} ASN1_SEQUENCE_END(SKD_CONTENT_HINTS)

IMPLEMENT_ASN1_FUNCTIONS(SKD_CONTENT_HINTS)

int
skd_cms_der_check(const unsigned char *der, size_t len)
{
	enum skd_der_err e = SKD_DER_OK;

	/* The asn1 module's structural walk: definite minimal lengths and
	 * tags, primitive strings, bounded depth, no trailing bytes. */
	if (skd_der_check_structure_ex(der, len, &e))
		return 1;
	ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_NOT_DER,
	    "not DER: %s", skd_der_strerror(e));
	return 0;
}

CMS_ContentInfo *
skd_cms_d2i_content_info(const unsigned char *der, size_t len)
{
	CMS_ContentInfo *cms = NULL;
	const unsigned char *p = der;
	unsigned char *enc = NULL;
	int enc_len;

	if (!skd_cms_der_check(der, len)) {
		return NULL;
	}
	/* In the calling thread's library context (skd_thread_libctx;
	 * NULL is the default): the certificates inside are decoded there.
	 * On failure d2i frees what it was given. */
	if ((cms = CMS_ContentInfo_new_ex(skd_thread_libctx(), NULL)) ==
	    NULL)
		return NULL;
	if (d2i_CMS_ContentInfo(&cms, &p, (long)len) == NULL) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_NOT_DER,
		    "skd_cms: not a CMS ContentInfo");
		return NULL;
	}
	/* Strict DER: the value must re-encode to the same octets (SET OF
	 * order, DEFAULT values omitted, ...). */
	if ((enc_len = i2d_CMS_ContentInfo(cms, &enc)) <= 0) {
		goto err;
	}
	if ((size_t)enc_len != len || memcmp(enc, der, len) != 0) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_NOT_DER,
		    "skd_cms: ContentInfo is not in DER form");
		goto err;
	}
	OPENSSL_free(enc);
	return cms;
 err:
	OPENSSL_free(enc);
	CMS_ContentInfo_free(cms);
	return NULL;
}

/*
 * ContentInfo (RFC 5652 3) with its content kept as encoded:
 *   ContentInfo ::= SEQUENCE {
 *     contentType ContentType,
 *     content [0] EXPLICIT ANY DEFINED BY contentType }
 * Used only to move a layer between its bare form and its ContentInfo.
 */
typedef struct skd_any_content_info_st {
	ASN1_OBJECT	*contentType;
	ASN1_TYPE	*content;
} SKD_ANY_CONTENT_INFO;

ASN1_SEQUENCE(SKD_ANY_CONTENT_INFO) = {
	ASN1_SIMPLE(SKD_ANY_CONTENT_INFO, contentType, ASN1_OBJECT),
	ASN1_EXP(SKD_ANY_CONTENT_INFO, content, ASN1_ANY, 0),
} static_ASN1_SEQUENCE_END(SKD_ANY_CONTENT_INFO)

#define ACI_IT	ASN1_ITEM_rptr(SKD_ANY_CONTENT_INFO)

/* Strictly decodes der as a ContentInfo whose content is constructed;
 * NULL (no error pushed) when it is not one. */
static SKD_ANY_CONTENT_INFO *
any_content_info_d2i(const unsigned char *der, size_t len)
{
	SKD_ANY_CONTENT_INFO *ci;
	const unsigned char *p = der;
	unsigned char *enc = NULL;
	int enc_len;

	if (len > LONG_MAX ||
	    (ci = (SKD_ANY_CONTENT_INFO *)ASN1_item_d2i(NULL, &p, (long)len,
	    ACI_IT)) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	if (p != der + len || ci->content->type != V_ASN1_SEQUENCE ||
	    (enc_len = ASN1_item_i2d((ASN1_VALUE *)ci, &enc, ACI_IT)) <= 0 ||
	    (size_t)enc_len != len || memcmp(enc, der, len) != 0) {
		ERR_clear_error();
		OPENSSL_free(enc);
		ASN1_item_free((ASN1_VALUE *)ci, ACI_IT);
		return NULL;
	}
	OPENSSL_free(enc);
	return ci;
}

int
skd_cms_content_info_unwrap(unsigned char **out, size_t *out_len,
    ASN1_OBJECT **out_type, const unsigned char *ci_der, size_t ci_len)
{
	SKD_ANY_CONTENT_INFO *ci = NULL;
	const ASN1_STRING *s;
	ASN1_OBJECT *t = NULL;
	int ok = 0;

	*out = NULL;
	*out_len = 0;
	if (out_type != NULL)
		*out_type = NULL;
	if (!skd_cms_der_check(ci_der, ci_len))
		return 0;
	if ((ci = any_content_info_d2i(ci_der, ci_len)) == NULL) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_NOT_DER,
		    "skd_cms: not a ContentInfo of a constructed content");
		return 0;
	}
	s = ci->content->value.sequence;
	if (out_type != NULL && (t = OBJ_dup(ci->contentType)) == NULL)
		goto err;
	if ((*out = OPENSSL_memdup(ASN1_STRING_get0_data(s),
	    (size_t)ASN1_STRING_length(s))) == NULL)
		goto err;
	*out_len = (size_t)ASN1_STRING_length(s);
	if (out_type != NULL) {
		*out_type = t;
		t = NULL;
	}
	ok = 1;
 err:
	ASN1_OBJECT_free(t);
	ASN1_item_free((ASN1_VALUE *)ci, ACI_IT);
	return ok;
}

/* Wraps the bare layer in a ContentInfo of type (RFC 5652 3). */
static int
content_info_wrap(unsigned char **out, size_t *out_len,
    const ASN1_OBJECT *type, const unsigned char *bare, size_t len)
{
	SKD_ANY_CONTENT_INFO *ci = NULL;
	ASN1_STRING *s = NULL;
	unsigned char *der = NULL;
	int der_len, ok = 0;

	if (len > INT_MAX || (ci = (SKD_ANY_CONTENT_INFO *)ASN1_item_new(
	    ACI_IT)) == NULL ||
	    (s = ASN1_STRING_type_new(V_ASN1_SEQUENCE)) == NULL ||
	    !ASN1_STRING_set(s, bare, (int)len))
		goto err;
	ASN1_OBJECT_free(ci->contentType);
	if ((ci->contentType = OBJ_dup(type)) == NULL)
		goto err;
	ASN1_TYPE_set(ci->content, V_ASN1_SEQUENCE, s);
	s = NULL;
	if ((der_len = ASN1_item_i2d((ASN1_VALUE *)ci, &der, ACI_IT)) <= 0)
		goto err;
	*out = der;
	*out_len = (size_t)der_len;
	ok = 1;
 err:
	ASN1_STRING_free(s);
	ASN1_item_free((ASN1_VALUE *)ci, ACI_IT);
	return ok;
}

int
skd_cms_nested_content_info(unsigned char **out, size_t *out_len,
    const ASN1_OBJECT **out_type, const ASN1_OBJECT *type,
    const unsigned char *content, size_t len, unsigned flags)
{
	SKD_ANY_CONTENT_INFO *ci = NULL;
	CMS_ContentInfo *cms = NULL;
	const ASN1_OBJECT *want;
	unsigned char *der = NULL;
	size_t der_len = 0;
	int nid = OBJ_obj2nid(type), ok = 0;
	char txt[80];

	*out = NULL;
	*out_len = 0;
	if (out_type != NULL)
		*out_type = NULL;
	if (nid == NID_pkcs7_data && (flags & SKD_CMS_NEST_IN_ENVELOPED))
		nid = NID_pkcs7_signed;
	if (nid != NID_pkcs7_signed && nid != NID_pkcs7_enveloped) {
		OBJ_obj2txt(txt, sizeof(txt), type, 0);
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_WRONG_TYPE,
		    "skd_cms: %s is not a nested CMS layer", txt);
		return 0;
	}
	want = OBJ_nid2obj(nid);
	if (!skd_cms_der_check(content, len))
		return 0;
	if ((ci = any_content_info_d2i(content, len)) != NULL) {
		/* The ContentInfo form: its type must be the announced one. */
		if (OBJ_cmp(ci->contentType, want) != 0) {
			OBJ_obj2txt(txt, sizeof(txt), ci->contentType, 0);
			ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_WRONG_TYPE,
			    "skd_cms: a ContentInfo of type %s where %s is "
			    "announced", txt, OBJ_nid2sn(nid));
			goto err;
		}
		if ((der = OPENSSL_memdup(content, len)) == NULL)
			goto err;
		der_len = len;
	} else if (!content_info_wrap(&der, &der_len, want, content, len)) {
		/* RFC 5652 5.2: the bare layer of the announced type. */
		goto err;
	}
	/* Either way it must decode, strictly, as that layer (a bare
	 * content of another type fails here). */
	if ((cms = skd_cms_d2i_content_info(der, der_len)) == NULL) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_WRONG_TYPE,
		    "skd_cms: content announced as %s is not one",
		    OBJ_nid2sn(nid));
		goto err;
	}
	*out = der;
	*out_len = der_len;
	der = NULL;
	if (out_type != NULL)
		*out_type = want;
	ok = 1;
 err:
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	ASN1_item_free((ASN1_VALUE *)ci, ACI_IT);
	return ok;
}
