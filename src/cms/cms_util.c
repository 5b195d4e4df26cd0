/*
 * cms_util.c: what the cms layers share: the ContentHints template (RFC
 * 2634 2.9) and strict DER on input.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/err.h>

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
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL) {
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
