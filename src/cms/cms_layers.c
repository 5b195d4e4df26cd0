/*
 * cms_layers.c: the layer walker (RFC 5275 3.2.1, 3.2.2); see skd_layers.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "cms/skd_layers.h"

struct walk {
	struct skd_layers		*out;
	size_t				 cap;
	const struct skd_layers_opts	*opts;
	int				 failed;
};

static int walk_content_info(struct walk *, const unsigned char *, size_t,
    int, int, long);

const char *
skd_layer_type_name(enum skd_layer_type t)
{
	switch (t) {
	case SKD_LAYER_SIGNED:
		return "SignedData";
	case SKD_LAYER_ENVELOPED:
		return "EnvelopedData";
	case SKD_LAYER_PKI_DATA:
		return "PKIData";
	case SKD_LAYER_PKI_RESPONSE:
		return "PKIResponse";
	case SKD_LAYER_OTHER:
		break;
	}
	return "other content";
}

static void
layer_clear(struct skd_layer *l)
{
	size_t i;

	skd_cms_verified_free(l->verified);
	for (i = 0; i < l->nrecipients; i++)
		free(l->recipients[i]);
	free(l->recipients);
	ASN1_OBJECT_free(l->inner_type);
	SKD_PKI_DATA_free(l->pki_data);
	SKD_PKI_RESPONSE_free(l->pki_response);
}

void
skd_layers_free(struct skd_layers *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		layer_clear(&l->v[i]);
	free(l->v);
	free(l);
}

/* Appends a zeroed layer; returns its index or -1 when out of memory. */
static int
layer_add(struct walk *w, enum skd_layer_type type, int depth, int parent,
    long bpid)
{
	struct skd_layer *nv, *l;

	if (w->out->n == w->cap) {
		size_t ncap = w->cap == 0 ? 8 : w->cap * 2;

		if ((nv = realloc(w->out->v, ncap * sizeof(*nv))) == NULL)
			return -1;
		w->out->v = nv;
		w->cap = ncap;
	}
	l = &w->out->v[w->out->n];
	memset(l, 0, sizeof(*l));
	l->type = type;
	l->depth = depth;
	l->parent = parent;
	l->body_part_id = bpid;
	return (int)w->out->n++;
}

static void
layer_fail(struct walk *w, int idx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
layer_fail(struct walk *w, int idx, const char *fmt, ...)
{
	struct skd_layer *l = &w->out->v[idx];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->error, sizeof(l->error), fmt, ap);
	va_end(ap);
	w->failed = 1;
}

/* The text of the last skd_cms reason (or OpenSSL error), for a layer's
 * error; clears the error queue. */
static void
cms_reason(char *buf, size_t len)
{
	const char *data = NULL;
	int flags = 0;
	unsigned long e = ERR_peek_last_error_data(&data, &flags);

	if (e == 0)
		snprintf(buf, len, "unknown error");
	else if (data != NULL && (flags & ERR_TXT_STRING) && *data != '\0')
		snprintf(buf, len, "%s", data);
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

static char *
hex_of(const unsigned char *p, size_t n)
{
	char *s = malloc(n * 2 + 1);
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02X", p[i]);
	s[2 * n] = '\0';
	return s;
}

/* "issuer=<DN>, serial=<hex>" or "subjectKeyIdentifier=<hex>". */
static char *
rid_text(const char *kind, const ASN1_OCTET_STRING *keyid,
    const X509_NAME *issuer, const ASN1_INTEGER *serial)
{
	char *out = NULL, *hex = NULL, *dn = NULL;
	BIGNUM *bn = NULL;

	if (keyid != NULL) {
		if ((hex = hex_of(ASN1_STRING_get0_data(keyid),
		    (size_t)ASN1_STRING_length(keyid))) == NULL)
			goto err;
		if (asprintf(&out, "%s subjectKeyIdentifier=%s", kind,
		    hex) < 0)
			out = NULL;
	} else if (issuer != NULL && serial != NULL) {
		if ((dn = X509_NAME_oneline(issuer, NULL, 0)) == NULL ||
		    (bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL ||
		    (hex = BN_bn2hex(bn)) == NULL)
			goto err;
		if (asprintf(&out, "%s issuer=%s, serial=%s", kind, dn,
		    hex) < 0)
			out = NULL;
	} else if (asprintf(&out, "%s (unidentified)", kind) < 0)
		out = NULL;
 err:
	if (bn != NULL) {
		OPENSSL_free(hex);
		hex = NULL;
	}
	free(hex);
	OPENSSL_free(dn);
	BN_free(bn);
	return out;
}

static int
push_recipient(struct skd_layer *l, char *text)
{
	char **nv;

	if (text == NULL)
		return 0;
	if ((nv = realloc(l->recipients, (l->nrecipients + 1) *
	    sizeof(*nv))) == NULL) {
		free(text);
		return 0;
	}
	l->recipients = nv;
	l->recipients[l->nrecipients++] = text;
	return 1;
}

/* One line per recipient of an EnvelopedData (for the printer and for
 * "encrypted to whom" decisions). */
static int
list_recipients(struct skd_layer *l, CMS_ContentInfo *ci)
{
	STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(ci);
	int i, j;

	for (i = 0; i < sk_CMS_RecipientInfo_num(ris); i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);
		ASN1_OCTET_STRING *keyid = NULL;
		X509_NAME *issuer = NULL;
		ASN1_INTEGER *serial = NULL;
		char *t = NULL;

		switch (CMS_RecipientInfo_type(ri)) {
		case CMS_RECIPINFO_TRANS:
			if (!CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid,
			    &issuer, &serial))
				return 0;
			t = rid_text("ktri", keyid, issuer, serial);
			break;
		case CMS_RECIPINFO_AGREE: {
			STACK_OF(CMS_RecipientEncryptedKey) *reks =
			    CMS_RecipientInfo_kari_get0_reks(ri);

			for (j = 0; j < sk_CMS_RecipientEncryptedKey_num(reks);
			    j++) {
				CMS_RecipientEncryptedKey *rek =
				    sk_CMS_RecipientEncryptedKey_value(reks, j);
				ASN1_GENERALIZEDTIME *tm;
				CMS_OtherKeyAttribute *other;

				if (!CMS_RecipientEncryptedKey_get0_id(rek,
				    &keyid, &tm, &other, &issuer, &serial))
					return 0;
				if (!push_recipient(l, rid_text("kari", keyid,
				    issuer, serial)))
					return 0;
			}
			continue;
		}
		case CMS_RECIPINFO_KEK: {
			ASN1_OCTET_STRING *id = NULL;
			char *hex;

			if (!CMS_RecipientInfo_kekri_get0_id(ri, NULL, &id,
			    NULL, NULL, NULL))
				return 0;
			if ((hex = hex_of(ASN1_STRING_get0_data(id),
			    (size_t)ASN1_STRING_length(id))) == NULL)
				return 0;
			if (asprintf(&t, "kekri keyIdentifier=%s", hex) < 0)
				t = NULL;
			free(hex);
			break;
		}
		case CMS_RECIPINFO_PASS:
			t = strdup("pwri (password; not supported)");
			break;
		default:
			t = strdup("other recipient type (not supported)");
			break;
		}
		if (!push_recipient(l, t))
			return 0;
	}
	return 1;
}

/* Dispatches content by its type: a PKIData/PKIResponse body, or another
 * layer (flags: SKD_CMS_NEST_IN_ENVELOPED when an EnvelopedData holds
 * it). */
static int
walk_content(struct walk *w, const ASN1_OBJECT *type,
    const unsigned char *p, size_t len, int depth, int parent,
    unsigned flags)
{
	int nid = OBJ_obj2nid(type), idx, i, ok;
	unsigned char *ci = NULL;
	size_t ci_len = 0;
	char txt[80];

	if (nid == skd_asn1_nid(SKD_OID_CCT_PKI_DATA)) {
		SKD_PKI_DATA *pd;
		enum skd_der_err de = SKD_DER_OK;

		if ((idx = layer_add(w, SKD_LAYER_PKI_DATA, depth, parent,
		    -1)) < 0)
			return 0;
		pd = skd_der_decode_ex(ASN1_ITEM_rptr(SKD_PKI_DATA), p, len,
		    &de);
		if (pd == NULL) {
			layer_fail(w, idx, "PKIData is not valid DER: %s",
			    skd_der_strerror(de));
			return 1;
		}
		w->out->v[idx].pki_data = pd;
		/* RFC 5275 3.2.2: each cmsSequence item is one GL's layers. */
		for (i = 0; i < sk_SKD_TAGGED_CONTENT_INFO_num(pd->cmsSequence);
		    i++) {
			SKD_TAGGED_CONTENT_INFO *tci =
			    sk_SKD_TAGGED_CONTENT_INFO_value(pd->cmsSequence, i);
			unsigned char *der = NULL;
			int dl;
			long bpid;

			bpid = ASN1_INTEGER_get(tci->bodyPartID);
			if ((dl = i2d_CMS_ContentInfo(tci->contentInfo,
			    &der)) <= 0)
				return 0;
			if (!walk_content_info(w, der, (size_t)dl, depth + 1,
			    idx, bpid)) {
				OPENSSL_free(der);
				return 0;
			}
			OPENSSL_free(der);
			pd = w->out->v[idx].pki_data;	/* v may have moved */
		}
		return 1;
	}
	if (nid == skd_asn1_nid(SKD_OID_CCT_PKI_RESPONSE)) {
		SKD_PKI_RESPONSE *pr;
		enum skd_der_err de = SKD_DER_OK;

		if ((idx = layer_add(w, SKD_LAYER_PKI_RESPONSE, depth, parent,
		    -1)) < 0)
			return 0;
		pr = skd_der_decode_ex(ASN1_ITEM_rptr(SKD_PKI_RESPONSE), p,
		    len, &de);
		if (pr == NULL) {
			layer_fail(w, idx, "PKIResponse is not valid DER: %s",
			    skd_der_strerror(de));
			return 1;
		}
		w->out->v[idx].pki_response = pr;
		for (i = 0; i < sk_SKD_TAGGED_CONTENT_INFO_num(pr->cmsSequence);
		    i++) {
			SKD_TAGGED_CONTENT_INFO *tci =
			    sk_SKD_TAGGED_CONTENT_INFO_value(pr->cmsSequence, i);
			unsigned char *der = NULL;
			int dl;

			if ((dl = i2d_CMS_ContentInfo(tci->contentInfo,
			    &der)) <= 0)
				return 0;
			if (!walk_content_info(w, der, (size_t)dl, depth + 1,
			    idx, ASN1_INTEGER_get(tci->bodyPartID))) {
				OPENSSL_free(der);
				return 0;
			}
			OPENSSL_free(der);
			pr = w->out->v[idx].pki_response;
		}
		return 1;
	}
	if (nid == NID_pkcs7_signed || nid == NID_pkcs7_enveloped ||
	    (nid == NID_pkcs7_data && (flags & SKD_CMS_NEST_IN_ENVELOPED))) {
		/* RFC 5652 5.2 / 6.1: the bare inner layer of the announced
		 * type, or (skd's older form) its ContentInfo; nothing else. */
		if (!skd_cms_nested_content_info(&ci, &ci_len, NULL, type, p,
		    len, flags)) {
			char why[160];

			cms_reason(why, sizeof(why));
			if ((idx = layer_add(w, SKD_LAYER_OTHER, depth, parent,
			    -1)) < 0)
				return 0;
			layer_fail(w, idx, "not a nested layer: %s", why);
			return 1;
		}
		ok = walk_content_info(w, ci, ci_len, depth, parent, -1);
		OPENSSL_free(ci);
		return ok;
	}

	if ((idx = layer_add(w, SKD_LAYER_OTHER, depth, parent, -1)) < 0)
		return 0;
	OBJ_obj2txt(txt, sizeof(txt), type, 0);
	layer_fail(w, idx, "unexpected content type %s", txt);
	return 1;
}

static int
walk_signed(struct walk *w, CMS_ContentInfo *ci, int depth, int parent,
    long bpid)
{
	struct skd_cms_verified *v = NULL;
	int idx;

	if ((idx = layer_add(w, SKD_LAYER_SIGNED, depth, parent, bpid)) < 0)
		return 0;
	/* RFC 5275 3.2.1.1: SignedData processed per CMS before any action. */
	if (!skd_cms_verify_parsed(&v, ci, w->opts->trust, w->opts->now)) {
		char why[160];

		cms_reason(why, sizeof(why));
		layer_fail(w, idx, "SignedData does not verify: %s", why);
		return 1;
	}
	w->out->v[idx].verified = v;
	return walk_content(w, v->econtent_type, v->content, v->content_len,
	    depth + 1, idx, 0);
}

static int
walk_enveloped(struct walk *w, CMS_ContentInfo *ci, const unsigned char *der,
    size_t len, int depth, int parent, long bpid)
{
	unsigned char *content = NULL;
	size_t clen = 0;
	ASN1_OBJECT *type = NULL;
	int idx, ok = 0;
	char why[160];

	if ((idx = layer_add(w, SKD_LAYER_ENVELOPED, depth, parent, bpid)) < 0)
		return 0;
	if (!list_recipients(&w->out->v[idx], ci)) {
		ERR_clear_error();
		layer_fail(w, idx, "malformed RecipientInfos");
		return 1;
	}
	if (w->opts->opener == NULL) {
		layer_fail(w, idx, "encrypted; no key given to open it");
		return 1;
	}
	if (!skd_cms_open(&content, &clen, &type, der, len, w->opts->opener)) {
		cms_reason(why, sizeof(why));
		layer_fail(w, idx, "cannot open: %s", why);
		return 1;
	}
	w->out->v[idx].opened = 1;
	w->out->v[idx].inner_type = type;
	ok = walk_content(w, type, content, clen, depth + 1, idx,
	    SKD_CMS_NEST_IN_ENVELOPED);
	OPENSSL_clear_free(content, clen);
	return ok;
}

static int
walk_content_info(struct walk *w, const unsigned char *der, size_t len,
    int depth, int parent, long bpid)
{
	CMS_ContentInfo *ci;
	int idx, nid, ok;
	char txt[80];

	if (depth >= SKD_LAYERS_MAX_DEPTH) {
		if ((idx = layer_add(w, SKD_LAYER_OTHER, depth, parent,
		    bpid)) < 0)
			return 0;
		layer_fail(w, idx, "layers nested deeper than %d",
		    SKD_LAYERS_MAX_DEPTH);
		return 1;
	}
	if ((ci = skd_cms_d2i_content_info(der, len)) == NULL) {
		char why[160];

		cms_reason(why, sizeof(why));
		if ((idx = layer_add(w, SKD_LAYER_OTHER, depth, parent,
		    bpid)) < 0)
			return 0;
		layer_fail(w, idx, "not a DER ContentInfo: %s", why);
		return 1;
	}
	nid = OBJ_obj2nid(CMS_get0_type(ci));
	if (nid == NID_pkcs7_signed) {
		ok = walk_signed(w, ci, depth, parent, bpid);
	} else if (nid == NID_pkcs7_enveloped) {
		ok = walk_enveloped(w, ci, der, len, depth, parent, bpid);
	} else {
		ok = 1;
		if ((idx = layer_add(w, SKD_LAYER_OTHER, depth, parent,
		    bpid)) < 0)
			ok = 0;
		else {
			OBJ_obj2txt(txt, sizeof(txt), CMS_get0_type(ci), 0);
			layer_fail(w, idx, "unexpected ContentInfo type %s",
			    txt);
		}
	}
	CMS_ContentInfo_free(ci);
	return ok;
}

int
skd_layers_walk(struct skd_layers **out, const unsigned char *der,
    size_t len, const struct skd_layers_opts *opts)
{
	static const struct skd_layers_opts none;
	struct walk w;

	*out = NULL;
	memset(&w, 0, sizeof(w));
	if (!skd_asn1_init())
		return 0;
	if ((w.out = calloc(1, sizeof(*w.out))) == NULL)
		return 0;
	w.opts = opts != NULL ? opts : &none;
	if (!walk_content_info(&w, der, len, 0, -1, -1)) {
		skd_layers_free(w.out);
		return 0;
	}
	*out = w.out;
	return !w.failed;
}
