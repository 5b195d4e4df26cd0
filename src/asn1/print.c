/*
 * print.c: human-readable dumps of the module's types (skd dump).
 *
 * ASN1_item_print does the walking and prints field names; OIDs print by
 * name once skd_asn1_init has registered them.  On top of that: a
 * GeneralName prints in the directory's text form, a TaggedAttribute's
 * values are decoded through the control table and printed as their type,
 * and CMCStatus / CMCFailInfo / SKDFailInfo values get their names.
 */
#include <openssl/asn1t.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "asn1/asn1_local.h"

static CRYPTO_ONCE pctx_once = CRYPTO_ONCE_STATIC_INIT;
static ASN1_PCTX *pctx;

static void
pctx_make(void)
{
	if ((pctx = ASN1_PCTX_new()) == NULL)
		return;
	ASN1_PCTX_set_nm_flags(pctx, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	ASN1_PCTX_set_str_flags(pctx, ASN1_STRFLGS_UTF8_CONVERT |
	    ASN1_STRFLGS_ESC_CTRL);
}

const ASN1_PCTX *
skd_asn1_pctx(void)
{
	if (!CRYPTO_THREAD_run_once(&pctx_once, pctx_make))
		return NULL;
	return pctx;
}

int
skd_asn1_print_tagged_attribute(BIO *out, const SKD_TAGGED_ATTRIBUTE *ta,
    int indent)
{
	const struct skd_control *c;
	char oid[128];
	void *val;
	int i, ok;

	c = skd_control_by_nid(OBJ_obj2nid(ta->attrType));
	if (c == NULL)
		return 1;
	if (OBJ_obj2txt(oid, sizeof(oid), ta->attrType, 1) <= 0)
		return 0;
	if (BIO_printf(out, "%*sbodyPartID: %ld\n%*sattrType: %s (%s)\n",
	    indent, "", ASN1_INTEGER_get(ta->bodyPartID), indent, "", c->name,
	    oid) <= 0)
		return 0;
	for (i = 0; i < sk_ASN1_TYPE_num(ta->attrValues); i++) {
		val = skd_tagged_attribute_decode1(ta, i, c->item());
		if (val == NULL) {
			if (BIO_printf(out, "%*sattrValues[%d]: not a valid %s\n",
			    indent, "", i, c->item()->sname) <= 0)
				return 0;
			continue;
		}
		ok = BIO_printf(out, "%*sattrValues[%d]:\n", indent, "", i) > 0 &&
		    skd_asn1_print(out, c->item(), val, indent + 2);
		ASN1_item_free(val, c->item());
		if (!ok)
			return 0;
	}
	return 2;
}

int
skd_asn1_print(BIO *out, const ASN1_ITEM *it, const void *val, int indent)
{
	const ASN1_PCTX *ctx;
	char *text;
	int ok;

	if (!skd_asn1_init() || (ctx = skd_asn1_pctx()) == NULL)
		return 0;
	if (it == ASN1_ITEM_rptr(GENERAL_NAME)) {
		if ((text = skd_gname_to_text(val)) == NULL)
			return ASN1_item_print(out, val, indent, it, ctx);
		ok = BIO_printf(out, "%*s%s\n", indent, "", text) > 0;
		OPENSSL_free(text);
		return ok;
	}
	return ASN1_item_print(out, val, indent, it, ctx);
}
