/*
 * fuzz_glkey_body.h: glKey (RFC 5275 3.1.13) and its glkWrapped
 * RecipientInfos (RFC 5652 6.2, RFC 5275 5).
 *
 * The input is tried twice: as a bare RecipientInfos (skd_ri_list_recipients,
 * and skd_ri_open_kek with the fixed KEK of fuzz_pki.h), and as a GLKey,
 * strictly decoded, re-encoded (must equal the input), printed, and its
 * glkWrapped re-encoded as a SET and put through the same RecipientInfos
 * calls.
 */
#ifndef SKD_FUZZ_GLKEY_BODY_H
#define SKD_FUZZ_GLKEY_BODY_H

#include "cms/skd_recip.h"
#include "fuzz/fuzz_common.h"
#include "fuzz/fuzz_pki.h"

/* glkWrapped is kept as SET OF ANY by the asn1 module; this re-encodes it
 * as the RecipientInfos that cms_ri.c parses. */
typedef STACK_OF(ASN1_TYPE) SKD_FUZZ_RI_SET;
ASN1_ITEM_TEMPLATE(SKD_FUZZ_RI_SET) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_OF, 0, RecipientInfos, ASN1_ANY)
static_ASN1_ITEM_TEMPLATE_END(SKD_FUZZ_RI_SET)

/*
 * skd_fuzz_ri runs der through the RecipientInfos parser and the kekri
 * opener.  Invariants: a successful list has at least one entry of a known
 * type; a key opened is 16, 24 or 32 bytes and comes from input that also
 * lists.
 */
static inline int
skd_fuzz_ri(const uint8_t *der, size_t len)
{
	struct skd_ri_entry *list = NULL;
	unsigned char *key = NULL;
	size_t n = 0, i, key_len = 0;
	int listed, opened, ok = 1;

	listed = skd_ri_list_recipients(&list, &n, der, len);
	if (listed) {
		if (n < 1) {
			ok = 0;
		}
		for (i = 0; i < n; i++) {
			if (list[i].type > SKD_RI_ORI ||
			    list[i].rid_type > SKD_RI_RID_NONE) {
				ok = 0;
			}
		}
	}
	skd_ri_free_list(list, n);
	opened = skd_ri_open_kek(&key, &key_len, der, len, skd_fuzz_kek,
	    sizeof(skd_fuzz_kek), skd_fuzz_kek_id, sizeof(skd_fuzz_kek_id));
	if (opened && ((key_len != 16 && key_len != 24 && key_len != 32) ||
	    !listed)) {
		ok = 0;
	}
	skd_ri_free_key(key, key_len);
	ERR_clear_error();
	return ok;
}

static inline int
skd_fuzz_glkey(const uint8_t *data, size_t size)
{
	SKD_GL_KEY *gk;
	unsigned char *der = NULL, *set = NULL;
	size_t der_len = 0;
	int set_len, ok;

	ok = skd_fuzz_ri(data, size);
	gk = skd_der_decode(ASN1_ITEM_rptr(SKD_GL_KEY), data, size);
	if (gk == NULL) {
		ERR_clear_error();
		return ok;
	}
	if (!skd_der_encode(ASN1_ITEM_rptr(SKD_GL_KEY), gk, &der, &der_len) ||
	    der_len != size || memcmp(der, data, size) != 0) {
		ok = 0;
	}
	skd_fuzz_print_null(ASN1_ITEM_rptr(SKD_GL_KEY), gk);
	set_len = ASN1_item_i2d((const ASN1_VALUE *)gk->glkWrapped, &set,
	    ASN1_ITEM_rptr(SKD_FUZZ_RI_SET));
	if (set_len <= 0) {
		ok = 0;
	} else if (!skd_fuzz_ri(set, (size_t)set_len)) {
		ok = 0;
	}
	OPENSSL_free(set);
	OPENSSL_free(der);
	SKD_GL_KEY_free(gk);
	ERR_clear_error();
	return ok;
}

#endif
