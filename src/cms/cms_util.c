/*
 * cms_util.c: what the cms layers share: the ContentHints template (RFC
 * 2634 2.9) and strict DER on input.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/err.h>

#include "cms/skd_cms.h"

ASN1_SEQUENCE(SKD_CONTENT_HINTS) = {
	ASN1_OPT(SKD_CONTENT_HINTS, contentDescription, ASN1_UTF8STRING),
	ASN1_SIMPLE(SKD_CONTENT_HINTS, contentType, ASN1_OBJECT),
} ASN1_SEQUENCE_END(SKD_CONTENT_HINTS)

IMPLEMENT_ASN1_FUNCTIONS(SKD_CONTENT_HINTS)

/* Deeper nesting than any CMS structure needs is refused. */
#define DER_MAX_DEPTH	32

/* Octets a minimal DER header takes for this tag and length (X.690 8.1.2,
 * 8.1.3, 10.1). */
static long
der_header_len(int tag, long len)
{
	long n = 1;

	if (tag >= 31) {
		for (; tag > 0; tag >>= 7) {
			n++;
		}
	}
	if (len < 128) {
		return n + 1;
	}
	for (n++; len > 0; len >>= 8) {
		n++;
	}
	return n;
}

static int
der_walk(const unsigned char *p, long len, int depth)
{
	const unsigned char *q;
	long body;
	int tag, xclass, ret;

	if (depth > DER_MAX_DEPTH) {
		return 0;
	}
	while (len > 0) {
		q = p;
		ret = ASN1_get_object(&q, &body, &tag, &xclass, len);
		/* 0x80: malformed or overlong; bit 0: indefinite length
		 * (0x21 for a constructed one), which DER forbids (X.690
		 * 10.1). */
		if ((ret & 0x80) != 0 || (ret & 0x01) != 0) {
			return 0;
		}
		/* Long-form lengths below 128, leading zero octets, padded
		 * tag numbers: X.690 10.1 and 8.1.2.4.2. */
		if (q - p != der_header_len(tag, body)) {
			return 0;
		}
		/* Constructed OCTET STRING / BIT STRING are BER only (X.690
		 * 10.2). */
		if ((ret & V_ASN1_CONSTRUCTED) && xclass == V_ASN1_UNIVERSAL &&
		    (tag == V_ASN1_OCTET_STRING || tag == V_ASN1_BIT_STRING)) {
			return 0;
		}
		if ((ret & V_ASN1_CONSTRUCTED) && !der_walk(q, body,
		    depth + 1)) {
			return 0;
		}
		len -= (q - p) + body;
		p = q + body;
	}
	return len == 0;
}

int
skd_cms_der_check(const unsigned char *der, size_t len)
{
	const unsigned char *q = der;
	long body;
	int tag, xclass, ret;

	if (der == NULL || len == 0 || len > LONG_MAX) {
		goto err;
	}
	/* Exactly one TLV: no trailing bytes. */
	ret = ASN1_get_object(&q, &body, &tag, &xclass, (long)len);
	if ((ret & 0x80) != 0 || (ret & 0x01) != 0 ||
	    (size_t)(q - der) + (size_t)body != len) {
		goto err;
	}
	if (!der_walk(der, (long)len, 0)) {
		goto err;
	}
	return 1;
 err:
	ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_NOT_DER,
	    "skd_cms: input is not one DER value (BER, bad length or "
	    "trailing bytes)");
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
