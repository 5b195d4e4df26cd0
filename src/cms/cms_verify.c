/*
 * cms_verify.c: verifying a SignedData (RFC 5652 5.6) as RFC 5275 3.2 and
 * 4.1 step 2 need it: the signature first, then signingTime, then the
 * signer's certification path, reported apart so that callers choose
 * between badMessageCheck and a path failure.
 */
#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "asn1/skd_asn1.h"
#include "cms/skd_cms.h"

void
skd_cms_verified_free(struct skd_cms_verified *v)
{
	if (v == NULL) {
		return;
	}
	OPENSSL_clear_free(v->content, v->content_len);
	ASN1_OBJECT_free(v->econtent_type);
	X509_free(v->signer);
	sk_X509_pop_free(v->certs, X509_free);
	ASN1_OBJECT_free(v->hint_type);
	OPENSSL_free(v->hint_description);
	OPENSSL_free(v->signature);
	OPENSSL_free(v);
}

/* The one value of the signed attribute nid, or NULL (absent, repeated or
 * multi-valued: RFC 5652 5.3 allows one of each). */
static ASN1_TYPE *
verify_attr1(CMS_SignerInfo *si, int nid)
{
	X509_ATTRIBUTE *attr;
	int idx;

	if ((idx = CMS_signed_get_attr_by_NID(si, nid, -1)) < 0 ||
	    CMS_signed_get_attr_by_NID(si, nid, idx) >= 0 ||
	    (attr = CMS_signed_get_attr(si, idx)) == NULL ||
	    X509_ATTRIBUTE_count(attr) != 1) {
		return NULL;
	}
	return X509_ATTRIBUTE_get0_type(attr, 0);
}

/*
 * verify_signing_time reads signingTime (RFC 5652 11.3): UTCTime through
 * 2049 and GeneralizedTime from 2050, both with seconds and "Z" (DER).
 */
static int
verify_signing_time(time_t *out, CMS_SignerInfo *si)
{
	ASN1_TYPE *t;
	const ASN1_TIME *tm;
	ASN1_TIME *epoch = NULL;
	struct tm parts;
	int days, secs, ok = 0;

	if ((t = verify_attr1(si, NID_pkcs9_signingTime)) == NULL) {
		goto err;
	}
	if (t->type == V_ASN1_UTCTIME) {
		tm = t->value.utctime;
		if (ASN1_STRING_length(tm) != 13) {
			goto err;
		}
	} else if (t->type == V_ASN1_GENERALIZEDTIME) {
		tm = t->value.generalizedtime;
		if (ASN1_STRING_length(tm) != 15) {
			goto err;
		}
	} else {
		goto err;
	}
	if (ASN1_STRING_get0_data(tm)[ASN1_STRING_length(tm) - 1] != 'Z' ||
	    !ASN1_TIME_check(tm) || !ASN1_TIME_to_tm(tm, &parts)) {
		goto err;
	}
	if (t->type == V_ASN1_GENERALIZEDTIME && parts.tm_year >= 50 &&
	    parts.tm_year < 150) {
		goto err;
	}
	if ((epoch = ASN1_TIME_set(NULL, 0)) == NULL ||
	    !ASN1_TIME_diff(&days, &secs, epoch, tm)) {
		goto err;
	}
	*out = (time_t)days * 86400 + secs;
	ok = 1;
 err:
	ASN1_TIME_free(epoch);
	if (!ok) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_NO_SIGNING_TIME,
		    "skd_cms_verify: signingTime absent or malformed "
		    "(RFC 5275 3.2.4.3)");
	}
	return ok;
}

/* The contentType attribute must name eContentType (RFC 5652 11.1). */
static int
verify_content_type(CMS_SignerInfo *si, const ASN1_OBJECT *econtent_type)
{
	ASN1_TYPE *t;

	if ((t = verify_attr1(si, NID_pkcs9_contentType)) == NULL ||
	    t->type != V_ASN1_OBJECT ||
	    OBJ_cmp(t->value.object, econtent_type) != 0) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_BAD_ATTRIBUTE,
		    "skd_cms_verify: contentType attribute absent or not "
		    "eContentType");
		return 0;
	}
	return 1;
}

/* contentHints (RFC 2634 2.9), optional; one value if present. */
static int
verify_hints(struct skd_cms_verified *v, CMS_SignerInfo *si)
{
	SKD_CONTENT_HINTS *ch = NULL;
	ASN1_TYPE *t;
	const unsigned char *p;
	int len, ok = 0;

	if (CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_contentHint,
	    -1) < 0) {
		return 1;
	}
	if ((t = verify_attr1(si, NID_id_smime_aa_contentHint)) == NULL ||
	    t->type != V_ASN1_SEQUENCE) {
		goto err;
	}
	p = ASN1_STRING_get0_data(t->value.sequence);
	len = ASN1_STRING_length(t->value.sequence);
	if ((ch = d2i_SKD_CONTENT_HINTS(NULL, &p, len)) == NULL ||
	    p != ASN1_STRING_get0_data(t->value.sequence) + len) {
		goto err;
	}
	v->hint_type = ch->contentType;
	ch->contentType = NULL;
	if (ch->contentDescription != NULL) {
		if ((v->hint_description = OPENSSL_strndup((const char *)
		    ASN1_STRING_get0_data(ch->contentDescription),
		    (size_t)ASN1_STRING_length(ch->contentDescription))) ==
		    NULL) {
			goto err;
		}
	}
	ok = 1;
 err:
	SKD_CONTENT_HINTS_free(ch);
	if (!ok) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_BAD_ATTRIBUTE,
		    "skd_cms_verify: malformed contentHints");
	}
	return ok;
}

/*
 * verify_path validates the signer's path at now.  An invalid path is a
 * result, not an error: the verifier's errors are taken off the queue and
 * reported in v.  Returns zero only when validation could not be run.
 */
static int
verify_path(struct skd_cms_verified *v, X509_STORE *trust, time_t now)
{
	X509_STORE_CTX *ctx;
	int ok = 0;

	if ((ctx = X509_STORE_CTX_new_ex(skd_thread_libctx(), NULL)) ==
	    NULL ||
	    !X509_STORE_CTX_init(ctx, trust, v->signer, v->certs) ||
	    !X509_STORE_CTX_set_default(ctx, "smime_sign")) {
		goto err;
	}
	X509_STORE_CTX_set_time(ctx, 0, now);
	ERR_set_mark();
	if (X509_verify_cert(ctx) > 0) {
		v->path = SKD_CMS_PATH_OK;
		v->path_error = X509_V_OK;
	} else {
		v->path = SKD_CMS_PATH_INVALID;
		v->path_error = X509_STORE_CTX_get_error(ctx);
		if (v->path_error == X509_V_OK) {
			v->path_error = X509_V_ERR_UNSPECIFIED;
		}
		v->path_error_depth = X509_STORE_CTX_get_error_depth(ctx);
	}
	ERR_pop_to_mark();
	v->path_error_string = X509_verify_cert_error_string(v->path_error);
	ok = 1;
 err:
	X509_STORE_CTX_free(ctx);
	return ok;
}

int
skd_cms_verify(struct skd_cms_verified **out, const unsigned char *der,
    size_t len, X509_STORE *trust, time_t now)
{
	CMS_ContentInfo *cms;
	int ok;

	*out = NULL;
	if ((cms = skd_cms_d2i_content_info(der, len)) == NULL) {
		return 0;
	}
	ok = skd_cms_verify_parsed(out, cms, trust, now);
	CMS_ContentInfo_free(cms);
	return ok;
}

int
skd_cms_verify_parsed(struct skd_cms_verified **out, CMS_ContentInfo *cms,
    X509_STORE *trust, time_t now)
{
	struct skd_cms_verified *v = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	CMS_SignerInfo *si;
	ASN1_OCTET_STRING **pos, *sig;
	X509 *signer = NULL;
	BIO *content = NULL;
	BUF_MEM *bm;

	*out = NULL;
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_WRONG_TYPE,
		    "skd_cms_verify: not a SignedData");
		goto err;
	}
	if ((sis = CMS_get0_SignerInfos(cms)) == NULL ||
	    sk_CMS_SignerInfo_num(sis) != 1) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_SIGNER_COUNT,
		    "skd_cms_verify: need exactly one SignerInfo");
		goto err;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	if ((pos = CMS_get0_content(cms)) == NULL || *pos == NULL) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_NO_CONTENT,
		    "skd_cms_verify: no encapsulated content");
		goto err;
	}
	/* The signature first (RFC 5275 4.1 2.b); the path comes later. */
	if ((content = BIO_new(BIO_s_secmem())) == NULL) {
		goto err;
	}
	if (!CMS_verify(cms, NULL, NULL, NULL, content,
	    CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY)) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_BAD_SIGNATURE,
		    "skd_cms_verify: signature does not verify");
		goto err;
	}
	CMS_SignerInfo_get0_algs(si, NULL, &signer, NULL, NULL);
	if (signer == NULL) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_BAD_SIGNATURE,
		    "skd_cms_verify: signer certificate not in the message");
		goto err;
	}
	if ((v = OPENSSL_zalloc(sizeof(*v))) == NULL) {
		goto err;
	}
	v->path_error_string = X509_verify_cert_error_string(X509_V_OK);
	if (!X509_up_ref(signer)) {
		goto err;
	}
	v->signer = signer;
	if ((v->econtent_type = OBJ_dup(CMS_get0_eContentType(cms))) == NULL ||
	    (v->certs = CMS_get1_certs(cms)) == NULL) {
		goto err;
	}
	if (!verify_signing_time(&v->signing_time, si) ||
	    !verify_content_type(si, v->econtent_type) ||
	    !verify_hints(v, si)) {
		goto err;
	}
	BIO_get_mem_ptr(content, &bm);
	if ((v->content = OPENSSL_memdup(bm->length > 0 ? bm->data : "",
	    bm->length > 0 ? bm->length : 1)) == NULL) {
		goto err;
	}
	v->content_len = bm->length;
	sig = CMS_SignerInfo_get0_signature(si);
	if ((v->signature = OPENSSL_memdup(ASN1_STRING_get0_data(sig),
	    (size_t)ASN1_STRING_length(sig))) == NULL) {
		goto err;
	}
	v->signature_len = (size_t)ASN1_STRING_length(sig);
	if (trust != NULL && !verify_path(v, trust, now)) {
		goto err;
	}
	BIO_free(content);
	*out = v;
	return 1;
 err:
	skd_cms_verified_free(v);
	BIO_free(content);
	return 0;
}

X509_STORE *
skd_cms_store_new(const char *ca_file, const char *crl_file)
{
	X509_STORE *st = NULL;
	STACK_OF(X509_INFO) *infos = NULL;
	X509_INFO *xi;
	BIO *b = NULL;
	int i, ncerts = 0, ncrls = 0;

	if ((st = X509_STORE_new()) == NULL) {
		goto err;
	}
	if ((b = BIO_new_file(ca_file, "r")) == NULL ||
	    (infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL)) == NULL) {
		goto err;
	}
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		xi = sk_X509_INFO_value(infos, i);
		if (xi->x509 != NULL) {
			if (!X509_STORE_add_cert(st, xi->x509)) {
				goto err;
			}
			ncerts++;
		}
	}
	if (ncerts == 0) {
		ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_BAD_ATTRIBUTE,
		    "skd_cms_store_new: no certificate in %s", ca_file);
		goto err;
	}
	if (crl_file != NULL) {
		sk_X509_INFO_pop_free(infos, X509_INFO_free);
		infos = NULL;
		BIO_free(b);
		b = NULL;
		if ((b = BIO_new_file(crl_file, "r")) == NULL ||
		    (infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL)) ==
		    NULL) {
			goto err;
		}
		for (i = 0; i < sk_X509_INFO_num(infos); i++) {
			xi = sk_X509_INFO_value(infos, i);
			if (xi->crl != NULL) {
				if (!X509_STORE_add_crl(st, xi->crl)) {
					goto err;
				}
				ncrls++;
			}
		}
		if (ncrls == 0) {
			ERR_raise_data(ERR_LIB_USER, SKD_CMS_R_BAD_ATTRIBUTE,
			    "skd_cms_store_new: no CRL in %s", crl_file);
			goto err;
		}
		/* RFC 5280 6.3: revocation of every certificate in the
		 * path. */
		if (!X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK |
		    X509_V_FLAG_CRL_CHECK_ALL)) {
			goto err;
		}
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(b);
	return st;
 err:
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(b);
	X509_STORE_free(st);
	return NULL;
}
