/*
 * keygen.c: CMC server-side key generation in the engine
 * (draft-turner-cmc-serverkeygeneration-00): a PKIData whose control is
 * serverKeyGenRequest (6.1), checked as sections 4.1, 4.2 and 6.1 say,
 * answered as sections 5 and 6.2 lay it out:
 *
 *   SignedData by the keygen CA, certificates: the issued one and chain
 *     PKIResponse { serverKeyGenResponse { cmsBodyPartId,
 *                   requestBodyPartId, issuerAndSerialNumber },
 *                   transactionId, senderNonce, recipientNonce;
 *                   cmsSequence { EnvelopedData (the shroud) of
 *                     SignedData by the CA of AsymmetricKeyPackage } }
 *
 * The key is generated here and leaves this file only encrypted: in the
 * shroud (for the requester) and in the archive (for the recovery
 * certificate), so that the journaled outcome never holds it in the clear
 * and a journal replayed after a crash publishes the same key.  Issuing,
 * key generation and the formats are src/kgen's.
 *
 * Scenarios done: 2.1 and 2.2 (shared secret: AuthenticatedData, pwri;
 * eng_keygen_authdata), 2.3 (certificate authentication, bareKey) and
 * 2.4 (certificate authentication, certificate or certIdentifier).
 * Beside them (keygen_route.c picks the path): the proof of possession
 * round (pop.c), RA forwarding (ra.c) and key recovery (recover.c); what
 * the answers share is keygen_answer.c's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "engine/process_local.h"
#include "cms/skd_authdata.h"
#include "kgen/skd_kgen.h"

/* Why a request is refused: a CMCFailInfo or one of section 7's. */
struct kg_verdict {
	int		 cmc_fail;	/* CMCFailInfo, or -1 */
	int		 skg_err;	/* enum skd_skg_error, or 0 */
	char		 text[160];
};

/* Who asks: the signer of the SignedData (2.3, 2.4) or the identity a
 * shared secret belongs to (2.1, 2.2). */
struct kg_who {
	X509		*cert;		/* the signer, or NULL */
	STACK_OF(X509)	*certs;		/* the SignedData's, or NULL */
	const X509_NAME	*name;		/* the authenticated subject */
	const char	*identity;	/* secret: GeneralName text */
	const char	*secret_id;	/* secret: its identification */
	const unsigned char *secret;	/* secret: its value */
	size_t		 secret_len;
	/* An RA-forwarded request (ra.c, draft 2.5.2): the signed answer
	 * is handed back here (OPENSSL_free) instead of published. */
	unsigned char	**capture;
	size_t		*capture_len;
};

/* Failures after which a secret is refused outright (issue 17: repeated
 * failures for one identification string are rate-limited). */
#define KG_MAX_FAILURES	5

/* id-cmc-identification (RFC 5272 6.2.3), UTF8String */
#define OID_CMC_IDENTIFICATION	"1.3.6.1.5.5.7.7.2"

static int
refuse(struct kg_verdict *v, int cmc_fail, int skg_err, const char *text)
{
	v->cmc_fail = cmc_fail;
	v->skg_err = skg_err;
	if (skg_err != 0)
		snprintf(v->text, sizeof(v->text), "%s: %s",
		    skd_skg_error_name(skg_err), text);
	else
		snprintf(v->text, sizeof(v->text), "%s", text);
	return 0;
}

/* The algorithms skd can use for the answer (4: algCapabilities). */
static int
usable_capability(const X509_ALGOR *a)
{
	switch (OBJ_obj2nid(a->algorithm)) {
	case NID_aes_128_cbc:
	case NID_aes_192_cbc:
	case NID_aes_256_cbc:
	case NID_id_aes128_wrap:
	case NID_id_aes192_wrap:
	case NID_id_aes256_wrap:
	case NID_rsaEncryption:
	case NID_rsaesOaep:
	case NID_dhSinglePass_stdDH_sha256kdf_scheme:
	case NID_dhSinglePass_stdDH_sha384kdf_scheme:
	case NID_sha256WithRSAEncryption:
	case NID_ecdsa_with_SHA256:
	case NID_ecdsa_with_SHA384:
	case NID_sha256:
	case NID_sha384:
	case NID_id_pbkdf2:
	case NID_id_alg_PWRI_KEK:
		return 1;
	}
	return 0;
}

static const EVP_CIPHER *
content_cipher(const STACK_OF(X509_ALGOR) *caps)
{
	int i, has256 = 0, has128 = 0;

	for (i = 0; i < sk_X509_ALGOR_num(caps); i++) {
		int nid = OBJ_obj2nid(sk_X509_ALGOR_value(caps, i)->algorithm);

		has256 |= nid == NID_aes_256_cbc;
		has128 |= nid == NID_aes_128_cbc;
	}
	return has128 && !has256 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
}

/* ShroudWithPublicKey from the shroudMethod's parameters, strictly. */
static SKD_SHROUD_WITH_PUBLIC_KEY *
shroud_params(const X509_ALGOR *m)
{
	SKD_SHROUD_WITH_PUBLIC_KEY *sp;
	unsigned char *der = NULL;
	int n;

	if (m->parameter == NULL ||
	    (n = i2d_ASN1_TYPE(m->parameter, &der)) <= 0)
		return NULL;
	sp = skd_der_decode(ASN1_ITEM_rptr(SKD_SHROUD_WITH_PUBLIC_KEY), der,
	    (size_t)n);
	OPENSSL_free(der);
	return sp;
}

/* The certificate a certIdentifier names among the SignedData's. */
static X509 *
find_cert(STACK_OF(X509) *certs, const SKD_SIGNER_IDENTIFIER *sid)
{
	int i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		const ASN1_OCTET_STRING *ski;

		if (sid->type == SKD_SID_ISSUER_AND_SERIAL) {
			if (X509_NAME_cmp(X509_get_issuer_name(x),
			    sid->d.issuerAndSerialNumber->issuer) == 0 &&
			    ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
			    sid->d.issuerAndSerialNumber->serial) == 0)
				return x;
		} else if ((ski = X509_get0_subject_key_id(x)) != NULL &&
		    ASN1_OCTET_STRING_cmp(ski,
		    sid->d.subjectKeyIdentifier) == 0) {
			return x;
		}
	}
	return NULL;
}

/* Section 4.1: a shroud certificate validates to a trust anchor, belongs
 * to the requester (same subject) and can encrypt. */
static int
check_shroud_cert(struct eng *e, struct kg_verdict *v, X509 *c,
    const struct kg_who *who)
{
	const char *why;
	uint32_t ku;

	if (!eng_check_cert(e, c, who->certs, &why)) {
		char t[140];

		snprintf(t, sizeof(t), "shroud certificate: %s", why);
		return refuse(v, -1, SKD_SKG_BAD_CERTIFICATE, t);
	}
	if (X509_NAME_cmp(X509_get_subject_name(c), who->name) != 0)
		return refuse(v, -1, SKD_SKG_BAD_CERTIFICATE,
		    "shroud certificate belongs to someone else");
	ku = X509_get_key_usage(c);
	if (ku != UINT32_MAX &&
	    (ku & (KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT)) == 0)
		return refuse(v, -1, SKD_SKG_BAD_CERTIFICATE,
		    "shroud certificate is not encryption-capable");
	if (!skd_shroud_key_ok(X509_get0_pubkey(c)))
		return refuse(v, SKD_CMC_BAD_ALG, 0,
		    "shroud certificate key: RSA >= 2048 or EC P-256/384/521");
	return 1;
}

/* Section 6.1 with RFC 5272's identity rules: the certificate is for the
 * requester (subject and subjectAltName names its own). */
static int
check_identity(struct kg_verdict *v, const struct kg_who *who,
    const X509_NAME *subj, const STACK_OF(X509_EXTENSION) *exts)
{
	int i, j;

	if (X509_NAME_entry_count(subj) > 0 &&
	    X509_NAME_cmp(subj, who->name) != 0)
		return refuse(v, SKD_CMC_BAD_IDENTITY, 0,
		    "requested subject is not the requester's");
	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *x = sk_X509_EXTENSION_value(exts, i);
		GENERAL_NAMES *san;
		int bad = 0;

		if (OBJ_obj2nid(X509_EXTENSION_get_object(x)) !=
		    NID_subject_alt_name)
			continue;
		if ((san = X509V3_EXT_d2i(x)) == NULL) {
			ERR_clear_error();
			return refuse(v, SKD_CMC_BAD_REQUEST, 0,
			    "malformed subjectAltName");
		}
		/* A shared secret names one identity, a dirName: nothing
		 * else can be vouched for. */
		for (j = 0; j < sk_GENERAL_NAME_num(san); j++)
			bad |= who->cert == NULL || !skd_gname_match_cert(
			    sk_GENERAL_NAME_value(san, j), who->cert);
		GENERAL_NAMES_free(san);
		if (bad)
			return refuse(v, SKD_CMC_BAD_IDENTITY, 0,
			    "requested subjectAltName is not the requester's");
	}
	return 1;
}

/* The failure answer: one CMCStatusInfoV2, failed, with a CMCFailInfo
 * or section 7's ExtendedFailInfo (failInfoValue NULL:
 * asn1/ServerKeyGeneration.asn). */
static int
add_failure(struct skd_cmc_body *b, const long *bpids, size_t n_bpids,
    const struct kg_verdict *v)
{
	SKD_CMC_STATUS_INFO_V2 *st = NULL;
	SKD_BODY_PART_REFERENCE *ref = NULL;
	SKD_EXTENDED_FAIL_INFO *ext;
	enum skd_oid oid;
	int ok = 0;

	size_t i;

	if (v->skg_err == 0)
		return skd_cmc_body_add_status(b, SKD_CMC_FAILED, bpids,
		    n_bpids, v->text, v->cmc_fail, -1) != 0;
	oid = v->skg_err == SKD_SKG_ARCHIVE_NOT_SUPPORTED ?
	    SKD_OID_ERR_ARCHIVE_NOT_SUPPORTED :
	    v->skg_err == SKD_SKG_BAD_CERTIFICATE ?
	    SKD_OID_ERR_BAD_CERTIFICATE : SKD_OID_ERR_BAD_SHARED_SECRET;
	if ((st = SKD_CMC_STATUS_INFO_V2_new()) == NULL ||
	    !ASN1_INTEGER_set(st->cMCStatus, SKD_CMC_FAILED))
		goto err;
	for (i = 0; i < n_bpids; i++) {
		if ((ref = SKD_BODY_PART_REFERENCE_new()) == NULL ||
		    (ref->d.bodyPartID = ASN1_INTEGER_new()) == NULL ||
		    !ASN1_INTEGER_set(ref->d.bodyPartID, bpids[i]))
			goto err;
		ref->type = SKD_BODY_PART_REF_ID;
		if (!sk_SKD_BODY_PART_REFERENCE_push(st->bodyList, ref))
			goto err;
		ref = NULL;
	}
	if ((st->statusString = ASN1_UTF8STRING_new()) == NULL ||
	    !ASN1_STRING_set(st->statusString, v->text, -1) ||
	    (st->otherStatusInfo = SKD_OTHER_STATUS_INFO_new()) == NULL ||
	    (ext = SKD_EXTENDED_FAIL_INFO_new()) == NULL)
		goto err;
	st->otherStatusInfo->type = SKD_OTHER_STATUS_EXT_FAIL_INFO;
	st->otherStatusInfo->d.extendedFailInfo = ext;
	ASN1_OBJECT_free(ext->failInfoOID);
	if ((ext->failInfoOID = OBJ_nid2obj(skd_asn1_nid(oid))) == NULL ||
	    (ext->failInfoValue == NULL &&
	    (ext->failInfoValue = ASN1_TYPE_new()) == NULL))
		goto err;
	ASN1_TYPE_set(ext->failInfoValue, V_ASN1_NULL, NULL);
	ok = skd_cmc_body_add_control(b, SKD_OID_CMC_STATUS_INFO_V2, st) != 0;
 err:
	SKD_BODY_PART_REFERENCE_free(ref);
	SKD_CMC_STATUS_INFO_V2_free(st);
	return ok;
}

/* What the checks found, for generating. */
struct kg_req {
	SKD_SERVER_KEY_GEN_REQUEST	*skg;
	SKD_SHROUD_WITH_PUBLIC_KEY	*sp;
	long				 req_id;	/* the TaggedRequest's
							   BodyPartID; -1 */
	STACK_OF(X509_EXTENSION)	*exts;
	X509_NAME			*subject;	/* borrowed */
	enum skd_kgen_type		 type;
	struct skd_shroud		 shroud;
	EVP_PKEY			*bare;		/* borrowed */
	int				 archive;
	/* 4.2: the shroud's shared secret, and the secrets to mark used */
	unsigned char			*pwri;
	size_t				 pwri_len;
	char				*used[2];
};

static void
kg_req_clear(struct kg_req *r)
{
	SKD_SERVER_KEY_GEN_REQUEST_free(r->skg);
	SKD_SHROUD_WITH_PUBLIC_KEY_free(r->sp);
	sk_X509_EXTENSION_pop_free(r->exts, X509_EXTENSION_free);
	if (r->pwri != NULL)
		OPENSSL_clear_free(r->pwri, r->pwri_len);
	OPENSSL_free(r->used[0]);
	OPENSSL_free(r->used[1]);
	memset(r, 0, sizeof(*r));
}

/*
 * The certification request of 6.1, a TaggedRequest (RFC 5272 3.2.1.2):
 * PKCS#10 (tcr) or CRMF (crm); its subject, requested extensions and key
 * type into r.  1 read, 0 refused (*v), -1 error.
 */
static int
read_template(struct kg_verdict *v, struct kg_req *r,
    const struct skd_kgen_ca *ca)
{
	const SKD_TAGGED_REQUEST *tr = r->skg->certificateRequest;
	const STACK_OF(X509_EXTENSION) *exts = NULL;
	const X509_NAME *subject = NULL;
	const char *why = NULL;
	X509_REQ *p10;
	int fail;

	switch (tr->type) {
	case SKD_TAGGED_REQUEST_TCR:
		p10 = tr->d.tcr->certificationRequest;
		r->subject = X509_REQ_get_subject_name(p10);
		ERR_set_mark();
		r->exts = X509_REQ_get_extensions(p10);
		ERR_pop_to_mark();
		/* 6.1: the key type from the template's algorithm, else
		 * badAlg. */
		if ((r->type = skd_kgen_type_from_spki(
		    X509_REQ_get_X509_PUBKEY(p10))) == SKD_KGEN_NONE)
			return refuse(v, SKD_CMC_BAD_ALG, 0, "key type not "
			    "offered (RSA 2048/3072, EC P-256/P-384)");
		return 1;
	case SKD_TAGGED_REQUEST_CRM:
		/* 6.1 and RFC 4211 (kgen_crmf.c): the same profile, its
		 * refusals badAlg or badRequest. */
		fail = skd_kgen_crmf_read(tr->d.crm, ca->cert, &subject,
		    &exts, &r->type, &why);
		if (fail >= 0)
			return refuse(v, fail, 0, why);
		r->subject = (X509_NAME *)subject;
		if (exts != NULL && (r->exts = sk_X509_EXTENSION_deep_copy(
		    exts, X509_EXTENSION_dup, X509_EXTENSION_free)) == NULL)
			return -1;
		return 1;
	}
	return refuse(v, SKD_CMC_BAD_REQUEST, 0,
	    "certificateRequest is neither PKCS#10 nor CRMF");
}

/*
 * A shared secret usable now: found, unused, not expired, not locked by
 * failures; its value unwrapped with the GLA's key.  1 usable (*out,
 * *out_len: OPENSSL_clear_free; *out_sec: skd_store_secret_free), 0
 * refused (*v), -1 error.
 */
static int
secret_get(struct eng *e, struct kg_verdict *v, const char *id,
    struct skd_store_secret **out_sec, unsigned char **out, size_t *out_len,
    int pop_round)
{
	struct skd_store_secret *sec = NULL;
	struct skd_cms_opener who;
	int rc;

	*out = NULL;
	*out_sec = NULL;
	if (e->env->keygen_secret == NULL)
		return refuse(v, -1, SKD_SKG_BAD_SHARED_SECRET,
		    "shared secrets are not offered");
	if ((rc = e->env->keygen_secret(e->st->ctx, &sec, id)) < 0)
		return -1;
	if (rc == 0)
		return refuse(v, -1, SKD_SKG_BAD_SHARED_SECRET,
		    "unknown shared secret");
	*out_sec = sec;
	/* Spent by the key it made; draft 8's POP round for that key still
	 * authenticates with it (pop.c checks the certificate is the
	 * secret's identity's). */
	if (sec->used && !pop_round)
		return refuse(v, -1, SKD_SKG_BAD_SHARED_SECRET,
		    "shared secret already used");
	if (sec->not_after > 0 && e->now > sec->not_after)
		return refuse(v, -1, SKD_SKG_BAD_SHARED_SECRET,
		    "shared secret expired");
	if (sec->failures >= KG_MAX_FAILURES)
		return refuse(v, -1, SKD_SKG_BAD_SHARED_SECRET,
		    "shared secret locked after repeated failures");
	memset(&who, 0, sizeof(who));
	who.cert = e->cfg->gla_cert;
	who.key = e->cfg->gla_key;
	if (!skd_cms_open(out, out_len, NULL, sec->wrapped, sec->wrapped_len,
	    &who)) {
		ERR_clear_error();
		return -1;
	}
	return 1;
}

/* Whether the secret's identity is the requester's (4.2). */
static int
secret_belongs(const struct skd_store_secret *sec, const struct kg_who *who)
{
	GENERAL_NAME *gn = skd_gname_from_text(sec->identity);
	int ok;

	ok = gn != NULL && gn->type == GEN_DIRNAME &&
	    X509_NAME_cmp(gn->d.directoryName, who->name) == 0;
	GENERAL_NAME_free(gn);
	return ok;
}

/* Section 4.2: shroudWithSharedSecret. */
static int
check_shared_shroud(struct eng *e, struct kg_verdict *v, struct kg_req *r,
    const struct kg_who *who)
{
	ASN1_UTF8STRING *idv = NULL;
	struct skd_store_secret *sec = NULL;
	unsigned char *der = NULL;
	char *id = NULL;
	int n, rc = -1;

	if (r->skg->shroudMethod->parameter == NULL ||
	    (n = i2d_ASN1_TYPE(r->skg->shroudMethod->parameter, &der)) <= 0 ||
	    (idv = skd_der_decode(ASN1_ITEM_rptr(ASN1_UTF8STRING), der,
	    (size_t)n)) == NULL || (id = eng_str(idv)) == NULL) {
		ERR_clear_error();
		rc = refuse(v, SKD_CMC_BAD_REQUEST, 0,
		    "malformed ShroudWithSharedSecret");
		goto done;
	}
	if (who->secret_id != NULL && strcmp(id, who->secret_id) == 0) {
		/* 2.1: the authenticating secret protects the key too. */
		if ((r->pwri = OPENSSL_memdup(who->secret,
		    who->secret_len)) == NULL)
			goto done;
		r->pwri_len = who->secret_len;
	} else {
		if ((rc = secret_get(e, v, id, &sec, &r->pwri,
		    &r->pwri_len, 0)) <= 0)
			goto done;
		/* 4.2: another identity's secret is badSharedSecret. */
		if (!secret_belongs(sec, who)) {
			rc = refuse(v, -1, SKD_SKG_BAD_SHARED_SECRET,
			    "shared secret of another identity");
			goto done;
		}
		r->used[1] = id;
		id = NULL;
	}
	r->shroud.type = SKD_SHROUD_BY_PASSWORD;
	r->shroud.password = r->pwri;
	r->shroud.password_len = r->pwri_len;
	rc = 1;
 done:
	skd_store_secret_free(sec);
	ASN1_UTF8STRING_free(idv);
	OPENSSL_free(der);
	OPENSSL_free(id);
	return rc;
}

/* The BodyPartID of a TaggedRequest (RFC 5272 3.2.1.2): a PKCS#10's
 * bodyPartID, a CRMF request's certReqId (3.2.1.3.2); -1 when it is no
 * BodyPartID (INTEGER (0..4294967295)) or the request is neither. */
static long
tagged_request_id(const SKD_TAGGED_REQUEST *t)
{
	uint64_t id;

	switch (t->type) {
	case SKD_TAGGED_REQUEST_TCR:
		if (!ASN1_INTEGER_get_uint64(&id, t->d.tcr->bodyPartID) ||
		    id > 4294967295ULL) {
			ERR_clear_error();
			return -1;
		}
		return (long)id;
	case SKD_TAGGED_REQUEST_CRM:
		return skd_kgen_crmf_id(t->d.crm);
	default:
		return -1;
	}
}

/* Sections 3.1, 4, 6.1: 1 acceptable, 0 refused (*v says why), -1 error. */
static int
check_request(struct eng *e, struct kg_verdict *v, struct kg_req *r,
    const SKD_PKI_DATA *pd, const SKD_TAGGED_ATTRIBUTE *ta,
    const struct kg_who *who)
{
	const struct skd_kgen_ca *ca = e->cfg->keygen;
	ASN1_OBJECT *ident;
	int i, nid, any, other = 0, rc;

	if (ca == NULL)
		return refuse(v, SKD_CMC_BAD_REQUEST, 0,
		    "server key generation is not offered");
	if ((ident = OBJ_txt2obj(OID_CMC_IDENTIFICATION, 1)) == NULL)
		return -1;
	/* 3.1: the request sits in controlSequence, nothing else. */
	for (i = 0; i < sk_SKD_TAGGED_ATTRIBUTE_num(pd->controlSequence); i++) {
		const ASN1_OBJECT *t = sk_SKD_TAGGED_ATTRIBUTE_value(
		    pd->controlSequence, i)->attrType;

		nid = OBJ_obj2nid(t);
		if (nid != skd_asn1_nid(SKD_OID_CMC_TRANSACTION_ID) &&
		    nid != skd_asn1_nid(SKD_OID_CMC_SENDER_NONCE) &&
		    nid != skd_asn1_nid(SKD_OID_SERVER_KEY_GEN_REQUEST) &&
		    OBJ_cmp(t, ident) != 0)
			other = 1;
	}
	ASN1_OBJECT_free(ident);
	if (other)
		return refuse(v, SKD_CMC_BAD_REQUEST, 0,
		    "other controls beside serverKeyGenRequest");
	if (skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_SERVER_KEY_GEN_REQUEST, 1) != NULL ||
	    sk_SKD_TAGGED_REQUEST_num(pd->reqSequence) > 0 ||
	    sk_SKD_TAGGED_CONTENT_INFO_num(pd->cmsSequence) > 0 ||
	    sk_SKD_OTHER_MSG_num(pd->otherMsgSequence) > 0)
		return refuse(v, SKD_CMC_BAD_REQUEST, 0,
		    "one serverKeyGenRequest and no other body part");
	if (sk_ASN1_TYPE_num(ta->attrValues) != 1 ||
	    (r->skg = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(SKD_SERVER_KEY_GEN_REQUEST))) == NULL) {
		ERR_clear_error();
		return refuse(v, SKD_CMC_BAD_REQUEST, 0,
		    "malformed serverKeyGenRequest");
	}
	/* RFC 5272 3.2.1.2: the request's own BodyPartID (a CRMF request's
	 * certReqId, 3.2.1.3.2), named beside the control in the statuses
	 * (kg_answer); 3.2: unique within the PKIData, so that a status
	 * names one body part. */
	r->req_id = tagged_request_id(r->skg->certificateRequest);
	if (r->req_id < 0 &&
	    r->skg->certificateRequest->type == SKD_TAGGED_REQUEST_TCR)
		return refuse(v, SKD_CMC_BAD_REQUEST, 0,
		    "bodyPartID of the PKCS#10 request is not a BodyPartID");
	if (r->req_id >= 0 &&
	    (rc = eng_body_part_ids_unique(pd, r->req_id)) <= 0) {
		if (rc < 0)
			return -1;
		/* Named by no status: the id that is not unique says
		 * nothing. */
		r->req_id = -1;
		return refuse(v, SKD_CMC_BAD_REQUEST, 0,
		    "bodyPartIDs not unique in the PKIData (RFC 5272 3.2)");
	}
	/* 6.1: a shroud method we know, else badAlg. */
	nid = OBJ_obj2nid(r->skg->shroudMethod->algorithm);
	if (nid != skd_asn1_nid(SKD_OID_SHROUD_WITH_PUBLIC_KEY) &&
	    nid != skd_asn1_nid(SKD_OID_SHROUD_WITH_SHARED_SECRET))
		return refuse(v, SKD_CMC_BAD_ALG, 0, "unknown shroud method");
	if (nid == skd_asn1_nid(SKD_OID_SHROUD_WITH_PUBLIC_KEY) &&
	    (r->sp = shroud_params(r->skg->shroudMethod)) == NULL) {
		ERR_clear_error();
		return refuse(v, SKD_CMC_BAD_REQUEST, 0,
		    "malformed ShroudWithPublicKey");
	}
	/* 6.1: at least one of algCapabilities, else badAlg. */
	if (r->skg->algCapabilities != NULL) {
		for (i = any = 0;
		    i < sk_X509_ALGOR_num(r->skg->algCapabilities); i++)
			any |= usable_capability(sk_X509_ALGOR_value(
			    r->skg->algCapabilities, i));
		if (!any)
			return refuse(v, SKD_CMC_BAD_ALG, 0,
			    "no usable algorithm in algCapabilities");
	}
	/* 6.1, section 7: archiving asked for and not configured. */
	r->archive = skd_skgreq_get_archive_key(r->skg);
	if (r->archive && ca->recovery_cert == NULL)
		return refuse(v, -1, SKD_SKG_ARCHIVE_NOT_SUPPORTED,
		    "key archiving is not offered");
	if ((rc = read_template(v, r, ca)) <= 0)
		return rc;
	if (!check_identity(v, who, r->subject, r->exts))
		return 0;
	/* An empty subject is the requester's. */
	if (X509_NAME_entry_count(r->subject) == 0)
		r->subject = (X509_NAME *)who->name;
	/* Section 4.1. */
	memset(&r->shroud, 0, sizeof(r->shroud));
	r->shroud.flags = e->cfg->oaep ? SKD_CMS_RECIP_OAEP : 0;
	r->shroud.cipher = content_cipher(r->skg->algCapabilities);
	if (r->sp == NULL) {
		if ((rc = check_shared_shroud(e, v, r, who)) <= 0)
			return rc;
		return 1;
	}
	switch (r->sp->type) {
	case SKD_SHROUD_PK_CERTIFICATE:
	case SKD_SHROUD_PK_CERT_IDENTIFIER: {
		X509 *c = r->sp->type == SKD_SHROUD_PK_CERTIFICATE ?
		    r->sp->d.certificate :
		    find_cert(who->certs, r->sp->d.certIdentifier);

		if (c == NULL)
			return refuse(v, -1, SKD_SKG_BAD_CERTIFICATE,
			    "certIdentifier names no certificate of the "
			    "SignedData");
		if (!check_shroud_cert(e, v, c, who))
			return 0;
		r->shroud.type = SKD_SHROUD_BY_CERT;
		r->shroud.cert = c;
		if (EVP_PKEY_is_a(X509_get0_pubkey(c), "EC"))
			r->shroud.flags = 0;
		break;
	}
	case SKD_SHROUD_PK_BARE_KEY:
		ERR_set_mark();
		r->bare = X509_PUBKEY_get0(r->sp->d.bareKey->publicKey);
		ERR_pop_to_mark();
		if (!skd_shroud_key_ok(r->bare))
			return refuse(v, SKD_CMC_BAD_ALG, 0,
			    "bareKey: RSA >= 2048 or EC P-256/384/521");
		if (ASN1_STRING_length(r->sp->d.bareKey->ski) < 1)
			return refuse(v, SKD_CMC_BAD_REQUEST, 0,
			    "bareKey without ski");
		r->shroud.type = SKD_SHROUD_BY_BARE_KEY;
		r->shroud.pubkey = r->bare;
		r->shroud.ski = ASN1_STRING_get0_data(r->sp->d.bareKey->ski);
		r->shroud.ski_len = (size_t)ASN1_STRING_length(
		    r->sp->d.bareKey->ski);
		if (EVP_PKEY_is_a(r->bare, "EC"))
			r->shroud.flags = 0;
		break;
	default:
		return refuse(v, SKD_CMC_BAD_REQUEST, 0,
		    "unknown ShroudWithPublicKey");
	}
	return 1;
}

/* A certPublish op for the requester's entry, when it has one. */
static int
publish_cert(struct eng *e, const struct kg_who *who, X509 *issued)
{
	return eng_keygen_publish(e, who->cert, who->identity, issued);
}

/* Decides and answers one serverKeyGenRequest of pd from who. */
static int
kg_answer(struct eng *e, const char *request_id, const SKD_PKI_DATA *pd,
    const struct kg_who *who, X509 *encrypt_to)
{
	const struct skd_kgen_ca *ca = e->cfg->keygen;
	const SKD_TAGGED_ATTRIBUTE *ta;
	struct kg_verdict v;
	struct kg_req r;
	struct skd_cmc_body *b = NULL;
	SKD_ENCRYPTED_POP *ep = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *issued = NULL;
	SKD_ENG_OP *op;
	unsigned char *shroud = NULL, *archive = NULL, *der = NULL;
	unsigned char serial[16];
	size_t shroud_len = 0, archive_len = 0, der_len = 0;
	char archive_id[SKD_KGEN_ARCHIVE_ID_LEN];
	const char *why = NULL, *rcpt[1];
	long bpid, bpids[2];
	size_t n_bpids;
	int ok = 0, accepted, k;

	memset(&v, 0, sizeof(v));
	memset(&r, 0, sizeof(r));
	r.req_id = -1;
	ta = skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_SERVER_KEY_GEN_REQUEST, 0);
	bpid = ta != NULL ? ASN1_INTEGER_get(ta->bodyPartID) : 0;
	if ((b = skd_cmc_body_new(1)) == NULL)
		goto err;
	if (who->secret_id != NULL &&
	    (r.used[0] = OPENSSL_strdup(who->secret_id)) == NULL)
		goto err;
	if (ta == NULL)
		accepted = refuse(&v, SKD_CMC_BAD_REQUEST, 0,
		    "no serverKeyGenRequest");
	else if ((accepted = check_request(e, &v, &r, pd, ta, who)) < 0)
		goto err;
	/* RFC 5272 3.2.1.2: the request's BodyPartID (a CRMF request's
	 * certReqId, 3.2.1.3.2), whatever its value; the statuses about it
	 * name it beside the control (6.1.1). */
	bpids[0] = bpid;
	n_bpids = 1;
	if (r.req_id >= 0 && r.req_id != bpid)
		bpids[n_bpids++] = r.req_id;
	if (accepted) {
		enum skd_kgen_issue_rc rc;

		if ((pkey = skd_kgen_generate(r.type)) == NULL ||
		    !eng_rand(e, serial, sizeof(serial)))
			goto err;
		serial[0] &= 0x7f;
		serial[0] |= 0x01;
		rc = skd_kgen_issue(&issued, &why, ca, r.subject,
		    r.exts, pkey, serial, sizeof(serial), e->now);
		if (rc == SKD_KGEN_ERROR)
			goto err;
		if (rc == SKD_KGEN_REFUSED) {
			char t[140];

			snprintf(t, sizeof(t), "requested extension: %s", why);
			accepted = refuse(&v, SKD_CMC_UNSUPPORTED_EXT, 0, t);
		}
	}
	if (accepted) {
		if (!skd_kgen_package(&shroud, &shroud_len, ca, pkey, e->now,
		    &r.shroud) ||
		    (r.archive && !skd_kgen_archive(&archive, &archive_len,
		    ca, pkey, e->now)) ||
		    !eng_keygen_add_package(b, SKD_OID_SERVER_KEY_GEN_RESPONSE,
		    shroud, shroud_len, bpid, issued))
			goto err;
		snprintf(v.text, sizeof(v.text), "key generated (%s)",
		    skd_kgen_type_name(r.type));
		/* Draft 8: the certificate (encryption-only, as the profile
		 * issues them) waits for the proof of possession: popRequired
		 * with an Encrypted POP control (RFC 5272 6.7); it is
		 * published when the Decrypted POP comes back (pop.c). */
		if (ca->require_pop) {
			if ((ep = skd_kgen_pop_challenge(ca, issued,
			    bpid)) == NULL ||
			    skd_cmc_body_add_control(b,
			    SKD_OID_CMC_ENCRYPTED_POP, ep) == 0 ||
			    skd_cmc_body_add_status(b, SKD_CMC_POP_REQUIRED,
			    bpids, n_bpids, "proof of possession required",
			    -1, -1) == 0)
				goto err;
			snprintf(v.text, sizeof(v.text), "key generated (%s), "
			    "proof of possession required",
			    skd_kgen_type_name(r.type));
		}
	} else if (!add_failure(b, bpids, n_bpids, &v)) {
		goto err;
	}
	rcpt[0] = who->identity;
	if (!eng_add_echo(e, b, pd->controlSequence) ||
	    !eng_keygen_sign_answer(e, b, issued, encrypt_to, &der, &der_len))
		goto err;
	if (who->capture != NULL) {
		*who->capture = der;
		*who->capture_len = der_len;
		der = NULL;
	} else if (!eng_publish(e, SKD_OP_RESPONSE, SKD_MSG_RESPONSE,
	    request_id, "", der, der_len, who->cert, who->cert == NULL ? rcpt :
	    NULL, who->cert == NULL ? 1 : 0)) {
		goto err;
	}
	/* Published on the requester's directory entry (issue 17: a GLO
	 * then adds the person by name). */
	if (accepted && !ca->require_pop && !publish_cert(e, who, issued))
		goto err;
	/* The archive: for the recovery certificate only, readable by the
	 * GLA alone (a GLA message with no recipient), its id the
	 * certificate's (key recovery finds it by the certificate). */
	if (archive != NULL && (!skd_kgen_archive_id(archive_id, issued) ||
	    !eng_publish(e, SKD_OP_MESSAGE, SKD_MSG_KEY_ARCHIVE, archive_id,
	    "", archive, archive_len, NULL, NULL, 0)))
		goto err;
	/* Shared secrets are single use: spent once a key was made. */
	for (k = 0; accepted && k < 2; k++) {
		if (r.used[k] == NULL)
			continue;
		if ((op = eng_op_add(e->out, SKD_OP_SECRET_USE, "")) == NULL ||
		    !eng_set_utf8(&op->name, r.used[k]))
			goto err;
	}
	if (!eng_result_add(e->out, 0, bpid,
	    skd_asn1_nid(SKD_OID_SERVER_KEY_GEN_REQUEST),
	    !accepted ? SKD_CMC_FAILED : ca->require_pop ?
	    SKD_CMC_POP_REQUIRED : SKD_CMC_SUCCESS,
	    accepted ? -1 : v.cmc_fail, -1, v.text))
		goto err;
	ok = 1;
 err:
	kg_req_clear(&r);
	SKD_ENCRYPTED_POP_free(ep);
	skd_cmc_body_free(b);
	EVP_PKEY_free(pkey);
	X509_free(issued);
	OPENSSL_free(shroud);
	OPENSSL_free(archive);
	OPENSSL_free(der);
	ERR_clear_error();
	return ok;
}

int
eng_keygen_inner(struct eng *e, const struct skd_layers *l, int inner,
    const char *request_id, unsigned char **out, size_t *out_len)
{
	const struct skd_cms_verified *sv;
	struct kg_who who;

	sv = l->v[eng_layer_signed_parent(l, inner)].verified;
	memset(&who, 0, sizeof(who));
	who.cert = sv->signer;
	who.certs = sv->certs;
	who.name = X509_get_subject_name(sv->signer);
	who.capture = out;
	who.capture_len = out_len;
	return kg_answer(e, request_id, l->v[inner].pki_data, &who, NULL);
}

int
eng_keygen_process(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id)
{
	const struct skd_cms_verified *sv;
	struct kg_who who;

	sv = l->v[eng_layer_signed_parent(l, top)].verified;
	memset(&who, 0, sizeof(who));
	who.cert = sv->signer;
	who.certs = sv->certs;
	who.name = X509_get_subject_name(sv->signer);
	return kg_answer(e, request_id, l->v[top].pki_data, &who,
	    eng_layer_encrypted(l, top) ? sv->signer : NULL);
}

/* A refusal before anyone is authenticated: noted, and answered (the
 * submitter reads it through skdSubmitterDN) when a PKIData was read. */
static int
authdata_refuse(struct eng *e, const char *request_id,
    const SKD_PKI_DATA *pd, int cmc_fail, int skg_err, const char *text)
{
	struct kg_verdict v;
	struct skd_cmc_body *b = NULL;
	const long zero = 0;
	int ok;

	memset(&v, 0, sizeof(v));
	refuse(&v, cmc_fail, skg_err, text);
	if (!eng_result_add(e->out, 0, 0, NID_undef, SKD_CMC_FAILED,
	    cmc_fail, -1, v.text))
		return 0;
	if (pd == NULL)
		return eng_set_utf8(&e->out->note, v.text);
	ok = (b = skd_cmc_body_new(1)) != NULL &&
	    add_failure(b, &zero, 1, &v) &&
	    eng_keygen_respond(e, request_id, b, pd, NULL, NULL, NULL, NULL);
	skd_cmc_body_free(b);
	return ok;
}

int
eng_keygen_authdata(struct eng *e, const char *request_id,
    const unsigned char *msg, size_t len)
{
	SKD_PKI_DATA *pd = NULL;
	ASN1_OBJECT *type = NULL, *ident = NULL;
	ASN1_UTF8STRING *idv = NULL;
	const SKD_TAGGED_ATTRIBUTE *ta = NULL;
	struct skd_store_secret *sec = NULL;
	struct kg_verdict v;
	struct kg_who who;
	GENERAL_NAME *gn = NULL;
	SKD_ENG_OP *op;
	unsigned char *content = NULL, *secret = NULL;
	size_t content_len = 0, secret_len = 0;
	char *id = NULL, n[24];
	int i, rc, ok = 0;

	memset(&v, 0, sizeof(v));
	if (!skd_authdata_peek(&content, &content_len, &type, msg, len) ||
	    OBJ_obj2nid(type) != skd_asn1_nid(SKD_OID_CCT_PKI_DATA) ||
	    (pd = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_DATA), content,
	    content_len)) == NULL) {
		ERR_clear_error();
		ok = authdata_refuse(e, request_id, NULL, SKD_CMC_BAD_REQUEST,
		    0, "not an AuthenticatedData of a PKIData skd accepts");
		goto done;
	}
	if (e->cfg->keygen == NULL) {
		ok = authdata_refuse(e, request_id, pd, SKD_CMC_BAD_REQUEST, 0,
		    "server key generation is not offered");
		goto done;
	}
	/* 3.3: the Identification control names the shared secret. */
	if ((ident = OBJ_txt2obj(OID_CMC_IDENTIFICATION, 1)) == NULL)
		goto done;
	for (i = 0; i < sk_SKD_TAGGED_ATTRIBUTE_num(pd->controlSequence); i++) {
		const SKD_TAGGED_ATTRIBUTE *t = sk_SKD_TAGGED_ATTRIBUTE_value(
		    pd->controlSequence, i);

		if (OBJ_cmp(t->attrType, ident) == 0) {
			ta = t;
			break;
		}
	}
	if (ta == NULL || (idv = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(ASN1_UTF8STRING))) == NULL ||
	    (id = eng_str(idv)) == NULL) {
		ERR_clear_error();
		ok = authdata_refuse(e, request_id, pd, SKD_CMC_BAD_REQUEST, 0,
		    "no identification control");
		goto done;
	}
	if ((rc = secret_get(e, &v, id, &sec, &secret, &secret_len,
	    eng_pop_wanted(pd))) < 0)
		goto done;
	if (rc == 0) {
		ok = authdata_refuse(e, request_id, pd, v.cmc_fail, v.skg_err,
		    strchr(v.text, ':') != NULL ? strchr(v.text, ':') + 2 :
		    v.text);
		goto done;
	}
	/* 4.2: the MAC.  A failure is counted against the secret. */
	if ((rc = skd_authdata_verify(msg, len, secret, secret_len)) != 1) {
		if (rc == 0) {
			snprintf(n, sizeof(n), "%ld", sec->failures + 1);
			if ((op = eng_op_add(e->out, SKD_OP_SECRET_FAIL,
			    "")) == NULL || !eng_set_utf8(&op->name, id) ||
			    !eng_set_utf8(&op->keyId, n))
				goto done;
		}
		ok = authdata_refuse(e, request_id, pd, -1,
		    SKD_SKG_BAD_SHARED_SECRET, rc == 0 ?
		    "the MAC does not verify" : "malformed AuthenticatedData");
		goto done;
	}
	if ((gn = skd_gname_from_text(sec->identity)) == NULL ||
	    gn->type != GEN_DIRNAME) {
		ok = authdata_refuse(e, request_id, pd, SKD_CMC_BAD_IDENTITY,
		    0, "the secret's identity is not a directory name");
		goto done;
	}
	/* Draft 8: the POP round under the same secret. */
	if (eng_pop_wanted(pd)) {
		ok = eng_pop_answer(e, request_id, pd, gn->d.directoryName,
		    NULL, sec->identity, NULL);
		goto done;
	}
	memset(&who, 0, sizeof(who));
	who.name = gn->d.directoryName;
	who.identity = sec->identity;
	who.secret_id = id;
	who.secret = secret;
	who.secret_len = secret_len;
	ok = kg_answer(e, request_id, pd, &who, NULL);
 done:
	GENERAL_NAME_free(gn);
	skd_store_secret_free(sec);
	if (secret != NULL)
		OPENSSL_clear_free(secret, secret_len);
	OPENSSL_free(content);
	OPENSSL_free(id);
	ASN1_UTF8STRING_free(idv);
	ASN1_OBJECT_free(type);
	ASN1_OBJECT_free(ident);
	SKD_PKI_DATA_free(pd);
	ERR_clear_error();
	return ok;
}
