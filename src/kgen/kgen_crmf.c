/*
 * kgen_crmf.c: a CRMF certification request (RFC 4211) as the template of
 * a server key generation request (draft-turner-cmc-serverkeygeneration-00
 * 6.1: certificateRequest is a TaggedRequest; crm [1] is a CertReqMsg).
 */
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "kgen/skd_kgen.h"

/* RFC 5272 3.1: BodyPartID ::= INTEGER(0..4294967295). */
#define BODY_ID_MAX	4294967295ULL

static int
refuse(const char **out_why, int fail, const char *why)
{
	*out_why = why;
	return fail;
}

/* RFC 4211 4: which proofs of possession a request for a key the CA
 * generates can carry. */
static int
popo_ok(const SKD_CRMF_POPO *p)
{
	/* Absent: nothing to prove, the key does not exist yet;
	 * raVerified: an RA vouched (RFC 4211 4, draft 2.5.2).  The others
	 * prove a private key the client cannot hold; draft 8 has its own
	 * round after the key is made (popRequired, Encrypted POP). */
	return p == NULL || p->type == SKD_CRMF_POPO_RA_VERIFIED;
}

long
skd_kgen_crmf_id(const SKD_CRMF_MSG *m)
{
	uint64_t id;

	/* RFC 5272 3.2.1.3.2: certReqId is the request's BodyPartID. */
	if (!ASN1_INTEGER_get_uint64(&id, m->certReq->certReqId) ||
	    id > BODY_ID_MAX) {
		ERR_clear_error();
		return -1;
	}
	return (long)id;
}

int
skd_kgen_crmf_read(const SKD_CRMF_MSG *m, const X509 *ca_cert,
    const X509_NAME **out_subject,
    const STACK_OF(X509_EXTENSION) **out_exts, enum skd_kgen_type *out_type,
    const char **out_why)
{
	const SKD_CRMF_TEMPLATE *t = m->certReq->certTemplate;
	const unsigned char *pk;
	int pklen;

	*out_subject = NULL;
	*out_exts = NULL;
	*out_type = SKD_KGEN_NONE;
	if (skd_kgen_crmf_id(m) < 0)
		return refuse(out_why, SKD_CMC_BAD_REQUEST,
		    "certReqId is not a BodyPartID");
	/* RFC 4211 6: controls are instructions to the CA (regToken,
	 * authenticator, publication, archive options, oldCertID,
	 * protocolEncrKey): none is honoured, so none is accepted.
	 * regInfo (7) is supplementary information: ignored. */
	if (m->certReq->controls != NULL &&
	    sk_SKD_CRMF_ATAV_num(m->certReq->controls) > 0)
		return refuse(out_why, SKD_CMC_BAD_REQUEST,
		    "CRMF controls are not supported");
	if (!popo_ok(m->popo))
		return refuse(out_why, SKD_CMC_BAD_REQUEST,
		    "proof of possession of a key the CA is to generate");
	/* RFC 4211 5: version 2 if present; serialNumber, signingAlg,
	 * issuerUID and subjectUID MUST be omitted; the issuer, if named,
	 * is this CA; the validity is the profile's, not the client's. */
	if (t->version != NULL && ASN1_INTEGER_get(t->version) != 2)
		return refuse(out_why, SKD_CMC_BAD_REQUEST,
		    "CertTemplate version is not v3");
	if (t->serialNumber != NULL || t->signingAlg != NULL ||
	    t->issuerUID != NULL || t->subjectUID != NULL)
		return refuse(out_why, SKD_CMC_BAD_REQUEST, "CertTemplate "
		    "serialNumber, signingAlg, issuerUID or subjectUID");
	if (t->issuer != NULL &&
	    X509_NAME_cmp(t->issuer, X509_get_subject_name(ca_cert)) != 0)
		return refuse(out_why, SKD_CMC_BAD_REQUEST,
		    "CertTemplate issuer is another CA");
	if (t->validity != NULL)
		return refuse(out_why, SKD_CMC_BAD_REQUEST,
		    "CertTemplate validity (the profile sets it)");
	/* Draft 6.1: the algorithm asks for a key type, the key itself is
	 * a zero length BIT STRING; no publicKey, the CA chooses. */
	if (t->publicKey == NULL) {
		*out_type = SKD_KGEN_RSA2048;
	} else {
		if (!X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL,
		    t->publicKey))
			return refuse(out_why, SKD_CMC_BAD_REQUEST,
			    "malformed CertTemplate publicKey");
		if (pklen != 0)
			return refuse(out_why, SKD_CMC_BAD_REQUEST,
			    "CertTemplate publicKey is not a zero length "
			    "BIT STRING");
		if ((*out_type = skd_kgen_type_from_spki(t->publicKey)) ==
		    SKD_KGEN_NONE)
			return refuse(out_why, SKD_CMC_BAD_ALG,
			    "key type not offered (RSA 2048/3072, "
			    "EC P-256/P-384)");
	}
	*out_subject = t->subject;
	*out_exts = t->extensions;
	return -1;
}
