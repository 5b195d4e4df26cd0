/*
 * keygen.c: the requester's side of CMC server-side key generation
 * (skd_keygen.h).
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "asn1/skd_asn1.h"
#include "cms/skd_authdata.h"
#include "cms/skd_cmc.h"
#include "cms/skd_cms.h"
#include "client/skd_keygen.h"

/* id-alg-noSignature (RFC 5272 3.2.1.2.2... RFC 2797 5.x): the template's
 * key does not exist yet, so nothing can sign the PKCS#10; the signature
 * value is the SHA-1 of certificationRequestInfo. */
#define OID_NO_SIGNATURE	"1.3.6.1.5.5.7.6.2"

/* body (a PKIData) in a SignedData by signer/key at now (RFC 5272
 * 3.2.1.1); *out: OPENSSL_free. */
static int
sign_request(unsigned char **out, size_t *out_len, const unsigned char *body,
    size_t body_len, X509 *signer, EVP_PKEY *key, STACK_OF(X509) *chain,
    time_t now)
{
	struct skd_cmc_protect p;

	memset(&p, 0, sizeof(p));
	p.signer = signer;
	p.key = key;
	p.chain = chain;
	p.signing_time = now;
	return skd_cmc_protect(out, out_len, 0, body, body_len, &p);
}

/* transactionId tid and senderNonce nonce (RFC 5272 6.6, 6.8). */
static int
add_tid_nonce(struct skd_cmc_body *b, long tid,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN])
{
	ASN1_INTEGER *t = ASN1_INTEGER_new();
	int ok;

	ok = t != NULL && ASN1_INTEGER_set(t, tid) &&
	    skd_cmc_body_add_transaction_id(b, t) != 0 &&
	    skd_cmc_body_add_sender_nonce(b, nonce, SKD_KEYGEN_NONCE_LEN) != 0;
	ASN1_INTEGER_free(t);
	return ok;
}

static X509_REQ *
template_p10(const struct skd_keygen_req *r, X509 *signer)
{
	X509_REQ *req = NULL;
	X509_PUBKEY *tmpl = NULL, *in;
	ASN1_OBJECT *alg = NULL;
	const unsigned char *pk;
	unsigned char *pkc = NULL, *tbs = NULL, md[20];
	const ASN1_BIT_STRING *csig;
	const X509_ALGOR *calg;
	const X509_ALGOR *pa;
	int pklen, ptype, n;
	const void *pval;
	ASN1_OBJECT *palg_obj = NULL;
	void *pval_dup = NULL;

	if ((req = X509_REQ_new()) == NULL || !X509_REQ_set_version(req, 0) ||
	    ((r->subject != NULL || signer != NULL) &&
	    !X509_REQ_set_subject_name(req, r->subject != NULL ?
	    r->subject : X509_get_subject_name(signer))))
		goto err;
	if ((tmpl = r->template_spki != NULL ?
	    X509_PUBKEY_dup(r->template_spki) :
	    skd_kgen_template_spki(r->type)) == NULL ||
	    !X509_PUBKEY_get0_param(&alg, &pk, &pklen, (X509_ALGOR **)&pa,
	    tmpl))
		goto err;
	/* Copy the template into the request's own SubjectPublicKeyInfo. */
	X509_ALGOR_get0(NULL, &ptype, &pval, pa);
	if (ptype == V_ASN1_OBJECT) {
		if ((pval_dup = OBJ_dup(pval)) == NULL)
			goto err;
	} else {
		ptype = V_ASN1_NULL;
	}
	if ((palg_obj = OBJ_dup(alg)) == NULL ||
	    (pklen > 0 && (pkc = OPENSSL_memdup(pk, (size_t)pklen)) == NULL) ||
	    (in = X509_REQ_get_X509_PUBKEY(req)) == NULL ||
	    !X509_PUBKEY_set0_param(in, palg_obj, ptype, pval_dup, pkc, pklen))
		goto err;
	palg_obj = NULL;
	pval_dup = NULL;
	pkc = NULL;
	if (r->exts != NULL && !X509_REQ_add_extensions(req, r->exts))
		goto err;
	/* id-alg-noSignature. */
	X509_REQ_get0_signature(req, &csig, &calg);
	if ((n = i2d_re_X509_REQ_tbs(req, &tbs)) <= 0 ||
	    !EVP_Digest(tbs, (size_t)n, md, NULL, EVP_sha1(), NULL) ||
	    !X509_ALGOR_set0((X509_ALGOR *)calg,
	    OBJ_txt2obj(OID_NO_SIGNATURE, 1), V_ASN1_NULL, NULL) ||
	    !ASN1_BIT_STRING_set((ASN1_BIT_STRING *)csig, md, sizeof(md)))
		goto err;
	((ASN1_BIT_STRING *)csig)->flags &= ~0x07;
	((ASN1_BIT_STRING *)csig)->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	OPENSSL_free(tbs);
	X509_PUBKEY_free(tmpl);
	return req;
 err:
	ASN1_OBJECT_free(palg_obj);
	ASN1_OBJECT_free(pval_dup);
	OPENSSL_free(pkc);
	OPENSSL_free(tbs);
	X509_PUBKEY_free(tmpl);
	X509_REQ_free(req);
	return NULL;
}

/*
 * The CRMF template (RFC 4211 5): certReqId, subject and extensions set
 * with OpenSSL's OSSL_CRMF_* API, then read as skd's type to set the
 * publicKey, for which OpenSSL 3.0 has no setter: the algorithm of the
 * type with a zero length key (draft 6.1).  No POP: the key does not exist
 * yet (RFC 4211 4; draft 8 proves it afterwards).
 */
static SKD_CRMF_MSG *
template_crmf(const struct skd_keygen_req *r, X509 *signer)
{
	OSSL_CRMF_MSG *m = NULL;
	SKD_CRMF_MSG *out = NULL;
	X509_EXTENSIONS *exts = NULL;
	X509_PUBKEY *tmpl = NULL;
	X509_ALGOR *pa = NULL;
	const X509_NAME *subject = r->subject != NULL ? r->subject :
	    signer != NULL ? X509_get_subject_name(signer) : NULL;

	if ((m = OSSL_CRMF_MSG_new()) == NULL ||
	    !OSSL_CRMF_MSG_set_certReqId(m, SKD_KEYGEN_CERT_REQ_ID) ||
	    !OSSL_CRMF_CERTTEMPLATE_fill(OSSL_CRMF_MSG_get0_tmpl(m), NULL,
	    subject, NULL, NULL))
		goto err;
	if (r->exts != NULL && sk_X509_EXTENSION_num(r->exts) > 0) {
		if ((exts = sk_X509_EXTENSION_deep_copy(r->exts,
		    X509_EXTENSION_dup, X509_EXTENSION_free)) == NULL ||
		    !OSSL_CRMF_MSG_set0_extensions(m, exts))
			goto err;
		exts = NULL;
	}
	if ((out = skd_crmf_from_ossl(m)) == NULL)
		goto err;
	if (r->template_spki != NULL) {
		if ((tmpl = X509_PUBKEY_dup(r->template_spki)) == NULL)
			goto err;
		X509_PUBKEY_free(out->certReq->certTemplate->publicKey);
		out->certReq->certTemplate->publicKey = tmpl;
		tmpl = NULL;
	} else if ((tmpl = skd_kgen_template_spki(r->type)) == NULL ||
	    !X509_PUBKEY_get0_param(NULL, NULL, NULL, &pa, tmpl) ||
	    !skd_crmf_set_template_key(out, pa)) {
		goto err;
	}
	X509_PUBKEY_free(tmpl);
	OSSL_CRMF_MSG_free(m);
	return out;
 err:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_PUBKEY_free(tmpl);
	OSSL_CRMF_MSG_free(m);
	SKD_CRMF_MSG_free(out);
	return NULL;
}

/* ShroudMethod: AlgorithmIdentifier { shroudWithPublicKey, the CHOICE }. */
static X509_ALGOR *
shroud_method(const struct skd_keygen_req *r)
{
	SKD_SHROUD_WITH_PUBLIC_KEY *sp = NULL;
	X509_ALGOR *m = NULL;
	ASN1_TYPE *param = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	X509_PUBKEY *xpk = NULL;

	if (r->shroud == SKD_KEYGEN_SHARED_SECRET) {
		/* 4.2: the identification string of the protecting secret. */
		ASN1_UTF8STRING *id = ASN1_UTF8STRING_new();
		const char *sid = r->shroud_secret_id != NULL ?
		    r->shroud_secret_id : r->secret_id;

		if (id == NULL || sid == NULL ||
		    !ASN1_STRING_set(id, sid, -1) ||
		    (m = X509_ALGOR_new()) == NULL ||
		    !X509_ALGOR_set0(m, OBJ_nid2obj(skd_asn1_nid(
		    SKD_OID_SHROUD_WITH_SHARED_SECRET)), V_ASN1_UTF8STRING,
		    id)) {
			ASN1_UTF8STRING_free(id);
			X509_ALGOR_free(m);
			return NULL;
		}
		return m;
	}
	if ((sp = SKD_SHROUD_WITH_PUBLIC_KEY_new()) == NULL)
		goto err;
	switch (r->shroud) {
	case SKD_KEYGEN_BARE_KEY:
		sp->type = SKD_SHROUD_PK_BARE_KEY;
		if ((sp->d.bareKey = SKD_SHROUD_BARE_KEY_new()) == NULL ||
		    !X509_PUBKEY_set(&xpk, r->bare_key) ||
		    !ASN1_OCTET_STRING_set(sp->d.bareKey->ski, r->ski,
		    (int)r->ski_len))
			goto err;
		X509_PUBKEY_free(sp->d.bareKey->publicKey);
		sp->d.bareKey->publicKey = xpk;
		xpk = NULL;
		break;
	case SKD_KEYGEN_CERT:
		sp->type = SKD_SHROUD_PK_CERTIFICATE;
		if ((sp->d.certificate = X509_dup(r->shroud_cert)) == NULL)
			goto err;
		break;
	case SKD_KEYGEN_CERT_ID: {
		PKCS7_ISSUER_AND_SERIAL *ias;

		sp->type = SKD_SHROUD_PK_CERT_IDENTIFIER;
		if ((sp->d.certIdentifier = SKD_SIGNER_IDENTIFIER_new()) ==
		    NULL || (ias = PKCS7_ISSUER_AND_SERIAL_new()) == NULL)
			goto err;
		sp->d.certIdentifier->type = SKD_SID_ISSUER_AND_SERIAL;
		sp->d.certIdentifier->d.issuerAndSerialNumber = ias;
		if (!X509_NAME_set(&ias->issuer,
		    X509_get_issuer_name(r->shroud_cert)))
			goto err;
		ASN1_INTEGER_free(ias->serial);
		if ((ias->serial = ASN1_INTEGER_dup(X509_get0_serialNumber(
		    r->shroud_cert))) == NULL)
			goto err;
		break;
	}
	default:
		goto err;
	}
	if (!skd_der_encode(ASN1_ITEM_rptr(SKD_SHROUD_WITH_PUBLIC_KEY), sp,
	    &der, &len))
		goto err;
	p = der;
	if ((param = d2i_ASN1_TYPE(NULL, &p, (long)len)) == NULL ||
	    (m = X509_ALGOR_new()) == NULL)
		goto err;
	ASN1_OBJECT_free(m->algorithm);
	m->algorithm = OBJ_nid2obj(skd_asn1_nid(
	    SKD_OID_SHROUD_WITH_PUBLIC_KEY));
	m->parameter = param;
	param = NULL;
	if (m->algorithm == NULL) {
		X509_ALGOR_free(m);
		m = NULL;
	}
 err:
	OPENSSL_free(der);
	ASN1_TYPE_free(param);
	X509_PUBKEY_free(xpk);
	SKD_SHROUD_WITH_PUBLIC_KEY_free(sp);
	return m;
}

int
skd_keygen_request(unsigned char **out, size_t *out_len,
    const struct skd_keygen_req *r, long tid,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN], X509 *signer,
    EVP_PKEY *key, STACK_OF(X509) *chain, time_t now)
{
	SKD_SERVER_KEY_GEN_REQUEST *skg = NULL;
	SKD_TAGGED_CERT_REQUEST *tcr;
	struct skd_cmc_body *b = NULL;
	STACK_OF(X509) *certs = NULL;
	unsigned char *body = NULL;
	size_t body_len = 0;
	int i, ok = 0;

	*out = NULL;
	*out_len = 0;
	if (!skd_asn1_init() ||
	    (skg = SKD_SERVER_KEY_GEN_REQUEST_new()) == NULL)
		goto err;
	/* The CHOICE _new made has no type yet: replaced. */
	SKD_TAGGED_REQUEST_free(skg->certificateRequest);
	if ((skg->certificateRequest = SKD_TAGGED_REQUEST_new()) == NULL)
		goto err;
	if (r->crmf) {
		/* 6.1: TaggedRequest crm [1] (RFC 5272 3.2.1.2.2). */
		skg->certificateRequest->type = SKD_TAGGED_REQUEST_CRM;
		if ((skg->certificateRequest->d.crm = template_crmf(r,
		    signer)) == NULL)
			goto err;
	} else {
		/* TaggedRequest tcr [0] (RFC 5272 3.2.1.2.1): its
		 * bodyPartID is not the control's, 3.2 wants them unique. */
		if ((tcr = SKD_TAGGED_CERT_REQUEST_new()) == NULL)
			goto err;
		skg->certificateRequest->type = SKD_TAGGED_REQUEST_TCR;
		skg->certificateRequest->d.tcr = tcr;
		X509_REQ_free(tcr->certificationRequest);
		if ((tcr->certificationRequest = template_p10(r, signer)) ==
		    NULL || !ASN1_INTEGER_set(tcr->bodyPartID,
		    SKD_KEYGEN_CERT_REQ_ID))
			goto err;
	}
	X509_ALGOR_free(skg->shroudMethod);
	if ((skg->shroudMethod = shroud_method(r)) == NULL)
		goto err;
	if (r->caps != NULL) {
		if ((skg->algCapabilities = sk_X509_ALGOR_deep_copy(r->caps,
		    X509_ALGOR_dup, X509_ALGOR_free)) == NULL)
			goto err;
	}
	skd_skgreq_set_archive_key(skg, !r->no_archive);
	if ((b = skd_cmc_body_new(0)) == NULL ||
	    skd_cmc_body_add_control(b, SKD_OID_SERVER_KEY_GEN_REQUEST,
	    skg) == 0 || !add_tid_nonce(b, tid, nonce))
		goto err;
	if (r->secret != NULL) {
		/* 2.1 / 2.2: Identification, then AuthenticatedData (pwri). */
		ASN1_UTF8STRING *id = ASN1_UTF8STRING_new();
		long ok_id = id != NULL && r->secret_id != NULL &&
		    ASN1_STRING_set(id, r->secret_id, -1) ?
		    skd_cmc_body_add_control(b, SKD_OID_CMC_IDENTIFICATION,
		    id) : 0;

		ASN1_UTF8STRING_free(id);
		if (ok_id == 0 || !skd_cmc_body_encode(b, &body, &body_len) ||
		    !skd_authdata_build(out, out_len, OBJ_nid2obj(skd_asn1_nid(
		    SKD_OID_CCT_PKI_DATA)), body, body_len, r->secret,
		    r->secret_len, 0))
			goto err;
		ok = 1;
		goto err;
	}
	if (!skd_cmc_body_encode(b, &body, &body_len))
		goto err;
	if ((certs = sk_X509_new_null()) == NULL)
		goto err;
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		if (!sk_X509_push(certs, sk_X509_value(chain, i)))
			goto err;
	}
	/* 4.1: certIdentifier points into this SignedData's certificates. */
	if (r->shroud == SKD_KEYGEN_CERT_ID &&
	    X509_cmp(r->shroud_cert, signer) != 0 &&
	    !sk_X509_push(certs, r->shroud_cert))
		goto err;
	if (!sign_request(out, out_len, body, body_len, signer, key, certs,
	    now))
		goto err;
	ok = 1;
 err:
	OPENSSL_free(body);
	sk_X509_free(certs);
	skd_cmc_body_free(b);
	SKD_SERVER_KEY_GEN_REQUEST_free(skg);
	return ok;
}

void
skd_keygen_result_clear(struct skd_keygen_result *r)
{
	EVP_PKEY_free(r->key);
	X509_free(r->cert);
	sk_X509_pop_free(r->certs, X509_free);
	SKD_ENCRYPTED_POP_free(r->pop);
	memset(r, 0, sizeof(*r));
}

static int
why(struct skd_keygen_result *r, const char *text)
{
	snprintf(r->text, sizeof(r->text), "%s", text);
	return 0;
}

static const char *
ext_fail_name(const ASN1_OBJECT *o)
{
	static const struct {
		enum skd_oid	 oid;
		const char	*name;
	} t[] = {
		{ SKD_OID_ERR_ARCHIVE_NOT_SUPPORTED, "archiveNotSupported" },
		{ SKD_OID_ERR_BAD_CERTIFICATE, "badCertificate" },
		{ SKD_OID_ERR_BAD_SHARED_SECRET, "badSharedSecret" },
		{ SKD_OID_ERR_KEY_GENERATION, "keyGeneration" },
		{ SKD_OID_CET_SKD_FAIL_INFO, "skdFailInfo" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (OBJ_obj2nid(o) == skd_asn1_nid(t[i].oid))
			return t[i].name;
	}
	return "unknown";
}

/* The status of the answer, if it carries one. */
static int
read_status(struct skd_keygen_result *out, const SKD_PKI_RESPONSE *pr)
{
	const SKD_TAGGED_ATTRIBUTE *ta;
	SKD_CMC_STATUS_INFO_V2 *st;

	if ((ta = skd_cmc_find_control(pr->controlSequence,
	    SKD_OID_CMC_STATUS_INFO_V2, 0)) == NULL)
		return 1;
	if ((st = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2))) == NULL)
		return why(out, "malformed cMCStatusInfoV2");
	out->status = ASN1_INTEGER_get(st->cMCStatus);
	if (st->statusString != NULL)
		snprintf(out->text, sizeof(out->text), "%.*s",
		    st->statusString->length, st->statusString->data);
	if (st->otherStatusInfo != NULL) {
		if (st->otherStatusInfo->type == SKD_OTHER_STATUS_FAIL_INFO)
			out->fail = ASN1_INTEGER_get(
			    st->otherStatusInfo->d.failInfo);
		else if (st->otherStatusInfo->type ==
		    SKD_OTHER_STATUS_EXT_FAIL_INFO)
			snprintf(out->ext_fail, sizeof(out->ext_fail), "%s",
			    ext_fail_name(st->otherStatusInfo->d.
			    extendedFailInfo->failInfoOID));
	}
	SKD_CMC_STATUS_INFO_V2_free(st);
	return 1;
}

/* The checks every answer gets: the CA's signature and path, a
 * PKIResponse, the nonce echoed; then its status.  *out_v, *out_pr the
 * caller's even on failure. */
static int
open_head(struct skd_keygen_result *out, struct skd_cms_verified **out_v,
    SKD_PKI_RESPONSE **out_pr, const unsigned char *der, size_t len,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN], X509_STORE *trust,
    time_t now)
{
	unsigned char *rn = NULL;
	size_t rn_len = 0;
	int ok = 0;

	*out_v = NULL;
	*out_pr = NULL;
	if (!skd_asn1_init())
		return why(out, "out of memory");
	if (!skd_cms_verify(out_v, der, len, NULL, now)) {
		why(out, "the answer's signature does not verify");
		goto err;
	}
	if (!skd_kgen_check_signer((*out_v)->signer, (*out_v)->certs, trust,
	    now)) {
		why(out, "the answer's signer does not chain to the trust "
		    "anchor");
		goto err;
	}
	if (OBJ_obj2nid((*out_v)->econtent_type) !=
	    skd_asn1_nid(SKD_OID_CCT_PKI_RESPONSE) ||
	    (*out_pr = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_RESPONSE),
	    (*out_v)->content, (*out_v)->content_len)) == NULL) {
		why(out, "the answer is not a PKIResponse");
		goto err;
	}
	if (skd_cmc_get_nonce((*out_pr)->controlSequence,
	    SKD_OID_CMC_RECIPIENT_NONCE, &rn, &rn_len) != 1 ||
	    rn_len != SKD_KEYGEN_NONCE_LEN || memcmp(rn, nonce, rn_len) != 0) {
		why(out, "recipientNonce does not echo our senderNonce");
		goto err;
	}
	ok = read_status(out, *out_pr);
 err:
	OPENSSL_free(rn);
	return ok;
}

/* Opens an answer whose key package control is resp (draft 6.2's
 * serverKeyGenResponse, or keyRecoveryResponse of the same type). */
static int
open_answer(struct skd_keygen_result *out, const unsigned char *der,
    size_t len, const unsigned char nonce[SKD_KEYGEN_NONCE_LEN],
    const struct skd_shroud_opener *who, X509_STORE *trust, time_t now,
    enum skd_oid resp)
{
	struct skd_cms_verified *v = NULL;
	SKD_PKI_RESPONSE *pr = NULL;
	SKD_SERVER_KEY_GEN_RESPONSE *sr = NULL;
	const SKD_TAGGED_ATTRIBUTE *ta;
	unsigned char *item = NULL;
	int i, n = 0, ok = 0;

	memset(out, 0, sizeof(*out));
	out->fail = -1;
	if (!open_head(out, &v, &pr, der, len, nonce, trust, now))
		goto err;
	/* Draft 8: popRequired carries the key like a success. */
	if (out->status != 0 && (resp != SKD_OID_SERVER_KEY_GEN_RESPONSE ||
	    out->status != SKD_CMC_POP_REQUIRED)) {
		ok = 1;
		goto err;
	}
	if (out->status == SKD_CMC_POP_REQUIRED &&
	    ((ta = skd_cmc_find_control(pr->controlSequence,
	    SKD_OID_CMC_ENCRYPTED_POP, 0)) == NULL ||
	    (out->pop = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(SKD_ENCRYPTED_POP))) == NULL)) {
		why(out, "popRequired without an Encrypted POP");
		goto err;
	}
	if ((ta = skd_cmc_find_control(pr->controlSequence, resp, 0)) ==
	    NULL || (sr = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(SKD_SERVER_KEY_GEN_RESPONSE))) == NULL) {
		why(out, resp == SKD_OID_SERVER_KEY_GEN_RESPONSE ?
		    "no serverKeyGenResponse" : "no keyRecoveryResponse");
		goto err;
	}
	for (i = 0; i < sk_SKD_TAGGED_CONTENT_INFO_num(pr->cmsSequence); i++) {
		SKD_TAGGED_CONTENT_INFO *t = sk_SKD_TAGGED_CONTENT_INFO_value(
		    pr->cmsSequence, i);

		if (ASN1_INTEGER_cmp(t->bodyPartID, sr->cmsBodyPartId) == 0) {
			n = i2d_CMS_ContentInfo(t->contentInfo, &item);
			break;
		}
	}
	if (n <= 0) {
		why(out, "cmsBodyPartId names no key package");
		goto err;
	}
	if ((out->key = skd_kgen_open(item, (size_t)n, who, trust, now,
	    NULL)) == NULL) {
		why(out, "cannot open the key package");
		goto err;
	}
	for (i = 0; sr->issuerAndSerialNumber != NULL &&
	    i < sk_X509_num(v->certs); i++) {
		X509 *x = sk_X509_value(v->certs, i);

		if (X509_NAME_cmp(X509_get_issuer_name(x),
		    sr->issuerAndSerialNumber->issuer) == 0 &&
		    ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
		    sr->issuerAndSerialNumber->serial) == 0 &&
		    X509_up_ref(x)) {
			out->cert = x;
			break;
		}
	}
	if (out->cert == NULL) {
		why(out, "the issued certificate is not in the answer");
		goto err;
	}
	if (X509_check_private_key(out->cert, out->key) != 1) {
		why(out, "the key is not the certificate's");
		goto err;
	}
	if (!skd_kgen_check_signer(out->cert, v->certs, trust, now)) {
		why(out, "the certificate does not chain to the trust anchor");
		goto err;
	}
	if ((out->certs = X509_chain_up_ref(v->certs)) == NULL)
		goto err;
	ok = 1;
 err:
	if (!ok) {
		EVP_PKEY_free(out->key);
		X509_free(out->cert);
		SKD_ENCRYPTED_POP_free(out->pop);
		out->key = NULL;
		out->cert = NULL;
		out->pop = NULL;
	}
	ERR_clear_error();
	OPENSSL_free(item);
	SKD_SERVER_KEY_GEN_RESPONSE_free(sr);
	SKD_PKI_RESPONSE_free(pr);
	skd_cms_verified_free(v);
	return ok;
}

int
skd_keygen_open_response(struct skd_keygen_result *out,
    const unsigned char *der, size_t len,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN],
    const struct skd_shroud_opener *who, X509_STORE *trust, time_t now)
{
	return open_answer(out, der, len, nonce, who, trust, now,
	    SKD_OID_SERVER_KEY_GEN_RESPONSE);
}

int
skd_keygen_open_recovery(struct skd_keygen_result *out,
    const unsigned char *der, size_t len,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN],
    const struct skd_shroud_opener *who, X509_STORE *trust, time_t now)
{
	return open_answer(out, der, len, nonce, who, trust, now,
	    SKD_OID_KEY_RECOVERY_RESPONSE);
}

int
skd_keygen_recovery_request(unsigned char **out, size_t *out_len,
    X509 *cert, long tid, const unsigned char nonce[SKD_KEYGEN_NONCE_LEN],
    X509 *signer, EVP_PKEY *key, STACK_OF(X509) *chain, time_t now)
{
	struct skd_cmc_body *b = NULL;
	unsigned char *body = NULL;
	size_t body_len = 0;
	int ok;

	*out = NULL;
	*out_len = 0;
	ok = skd_asn1_init() && (b = skd_cmc_body_new(0)) != NULL &&
	    skd_cmc_body_add_control(b, SKD_OID_KEY_RECOVERY_REQUEST,
	    cert) != 0 && add_tid_nonce(b, tid, nonce) &&
	    skd_cmc_body_encode(b, &body, &body_len) &&
	    sign_request(out, out_len, body, body_len, signer, key, chain, now);
	OPENSSL_free(body);
	skd_cmc_body_free(b);
	return ok;
}

/* The POP round's PKIData (RFC 5272 6.7: the request again, the
 * Decrypted POP naming it), with the identification control when
 * secret_id is not NULL.  *out: OPENSSL_free. */
static int
pop_body(unsigned char **out, size_t *out_len,
    const struct skd_keygen_result *res, long tid,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN], const char *secret_id)
{
	SKD_DECRYPTED_POP *dp = NULL;
	ASN1_UTF8STRING *idv = NULL;
	struct skd_cmc_body *b = NULL;
	int ok = 0;

	*out = NULL;
	if (res->pop == NULL || res->key == NULL || res->cert == NULL ||
	    (dp = skd_kgen_pop_answer(res->pop, res->key, res->cert)) == NULL)
		goto err;
	if ((b = skd_cmc_body_new(0)) == NULL ||
	    skd_cmc_body_add_request(b, res->pop->request) == 0 ||
	    skd_cmc_body_add_control(b, SKD_OID_CMC_DECRYPTED_POP, dp) == 0 ||
	    !add_tid_nonce(b, tid, nonce))
		goto err;
	if (secret_id != NULL && ((idv = ASN1_UTF8STRING_new()) == NULL ||
	    !ASN1_STRING_set(idv, secret_id, -1) ||
	    skd_cmc_body_add_control(b, SKD_OID_CMC_IDENTIFICATION,
	    idv) == 0))
		goto err;
	ok = skd_cmc_body_encode(b, out, out_len);
 err:
	ASN1_UTF8STRING_free(idv);
	skd_cmc_body_free(b);
	SKD_DECRYPTED_POP_free(dp);
	ERR_clear_error();
	return ok;
}

int
skd_keygen_pop_request(unsigned char **out, size_t *out_len,
    const struct skd_keygen_result *res, long tid,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN], X509 *signer,
    EVP_PKEY *key, STACK_OF(X509) *chain, time_t now)
{
	unsigned char *body = NULL;
	size_t body_len = 0;
	int ok;

	*out = NULL;
	*out_len = 0;
	if (!pop_body(&body, &body_len, res, tid, nonce, NULL))
		return 0;
	ok = sign_request(out, out_len, body, body_len, signer, key, chain,
	    now);
	OPENSSL_free(body);
	return ok;
}

int
skd_keygen_pop_request_secret(unsigned char **out, size_t *out_len,
    const struct skd_keygen_result *res, long tid,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN], const char *secret_id,
    const unsigned char *secret, size_t secret_len)
{
	unsigned char *body = NULL;
	size_t body_len = 0;
	int ok;

	*out = NULL;
	*out_len = 0;
	/* Draft 8: the round goes as the request went, here an
	 * AuthenticatedData under the secret (3.3). */
	if (!pop_body(&body, &body_len, res, tid, nonce, secret_id))
		return 0;
	ok = skd_authdata_build(out, out_len, OBJ_nid2obj(skd_asn1_nid(
	    SKD_OID_CCT_PKI_DATA)), body, body_len, secret, secret_len, 0);
	OPENSSL_free(body);
	return ok;
}

int
skd_keygen_open_pop(struct skd_keygen_result *out, const unsigned char *der,
    size_t len, const unsigned char nonce[SKD_KEYGEN_NONCE_LEN],
    X509_STORE *trust, time_t now)
{
	struct skd_cms_verified *v = NULL;
	SKD_PKI_RESPONSE *pr = NULL;
	int ok;

	memset(out, 0, sizeof(*out));
	out->fail = -1;
	ok = open_head(out, &v, &pr, der, len, nonce, trust, now);
	SKD_PKI_RESPONSE_free(pr);
	skd_cms_verified_free(v);
	ERR_clear_error();
	return ok;
}

int
skd_keygen_ra_check(X509 **out_signer, char *why_buf, size_t why_len,
    const unsigned char *req, size_t len, X509_STORE *trust, time_t now,
    long window)
{
	struct skd_cms_verified *v = NULL;
	SKD_PKI_DATA *pd = NULL;
	const char *why = NULL;
	int ok = 0;

	*out_signer = NULL;
	if (!skd_asn1_init() || !skd_cms_verify(&v, req, len, trust, now))
		why = "not a SignedData whose signature verifies";
	else if (v->path != SKD_CMS_PATH_OK)
		why = v->path_error_string;
	else if (v->signing_time < now - window ||
	    v->signing_time > now + window)
		why = "signingTime out of the window";
	else if (OBJ_obj2nid(v->econtent_type) !=
	    skd_asn1_nid(SKD_OID_CCT_PKI_DATA) ||
	    (pd = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_DATA), v->content,
	    v->content_len)) == NULL)
		why = "not a PKIData";
	else if (skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_SERVER_KEY_GEN_REQUEST, 0) == NULL)
		why = "no serverKeyGenRequest";
	else if (!X509_up_ref(v->signer))
		why = "out of memory";
	else {
		*out_signer = v->signer;
		ok = 1;
	}
	if (why != NULL)
		snprintf(why_buf, why_len, "%s", why);
	SKD_PKI_DATA_free(pd);
	skd_cms_verified_free(v);
	ERR_clear_error();
	return ok;
}

int
skd_keygen_ra_forward(unsigned char **out, size_t *out_len,
    const unsigned char *req, size_t req_len, long tid,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN], X509 *signer,
    EVP_PKEY *key, STACK_OF(X509) *chain, time_t now)
{
	struct skd_cmc_body *b = NULL;
	unsigned char *body = NULL;
	size_t body_len = 0;
	int ok;

	*out = NULL;
	*out_len = 0;
	/* RFC 5272 3.2.3: the client's request unchanged in cmsSequence. */
	ok = skd_asn1_init() && (b = skd_cmc_body_new(0)) != NULL &&
	    skd_cmc_body_add_cms(b, req, req_len) != 0 &&
	    add_tid_nonce(b, tid, nonce) &&
	    skd_cmc_body_encode(b, &body, &body_len) &&
	    sign_request(out, out_len, body, body_len, signer, key, chain, now);
	OPENSSL_free(body);
	skd_cmc_body_free(b);
	return ok;
}

int
skd_keygen_ra_open(struct skd_keygen_result *out, unsigned char **out_inner,
    size_t *out_inner_len, const unsigned char *der, size_t len,
    const unsigned char nonce[SKD_KEYGEN_NONCE_LEN], X509_STORE *trust,
    time_t now)
{
	struct skd_cms_verified *v = NULL;
	SKD_PKI_RESPONSE *pr = NULL;
	int n, ok = 0;

	*out_inner = NULL;
	*out_inner_len = 0;
	memset(out, 0, sizeof(*out));
	out->fail = -1;
	if (!open_head(out, &v, &pr, der, len, nonce, trust, now))
		goto err;
	if (out->status != 0) {
		ok = 1;
		goto err;
	}
	/* 3.4: the client's answer is the one cmsSequence item. */
	if (sk_SKD_TAGGED_CONTENT_INFO_num(pr->cmsSequence) != 1 ||
	    (n = i2d_CMS_ContentInfo(sk_SKD_TAGGED_CONTENT_INFO_value(
	    pr->cmsSequence, 0)->contentInfo, out_inner)) <= 0) {
		why(out, "no forwarded answer in the CA's response");
		goto err;
	}
	*out_inner_len = (size_t)n;
	ok = 1;
 err:
	SKD_PKI_RESPONSE_free(pr);
	skd_cms_verified_free(v);
	ERR_clear_error();
	return ok;
}
