/*
 * crmf.c: templates for the CRMF CertReqMsg (RFC 4211 section 3, module
 * PKIXCRMF-2005, IMPLICIT TAGS) carried as TaggedRequest crm [1]
 * (RFC 5272 3.2.1.2.2).
 *
 * OpenSSL 3.0 has OSSL_CRMF_MSG but no getter or setter for the template's
 * publicKey, which the server key generation draft (6.1) uses to name the
 * key type; skd therefore decodes CertReqMsg with these templates.  Name
 * and Time are CHOICEs, so their tags are EXPLICIT (X.680 31.2.7), as
 * OpenSSL's own crmf_asn.c has them.  The proofs of possession skd never
 * accepts for a server-generated key (signature, keyEncipherment,
 * keyAgreement) are kept opaque.
 */
#include <openssl/asn1t.h>
#include <openssl/err.h>

#include "asn1/skd_asn1.h"

/* AttributeTypeAndValue (RFC 4211 6, 7) */
ASN1_SEQUENCE(SKD_CRMF_ATAV) = {
	ASN1_SIMPLE(SKD_CRMF_ATAV, type, ASN1_OBJECT),
	ASN1_SIMPLE(SKD_CRMF_ATAV, value, ASN1_ANY)
} ASN1_SEQUENCE_END(SKD_CRMF_ATAV)
IMPLEMENT_ASN1_FUNCTIONS(SKD_CRMF_ATAV)

/* OptionalValidity (RFC 4211 5) */
ASN1_SEQUENCE(SKD_CRMF_VALIDITY) = {
	ASN1_EXP_OPT(SKD_CRMF_VALIDITY, notBefore, ASN1_TIME, 0),
	ASN1_EXP_OPT(SKD_CRMF_VALIDITY, notAfter, ASN1_TIME, 1)
} ASN1_SEQUENCE_END(SKD_CRMF_VALIDITY)
IMPLEMENT_ASN1_FUNCTIONS(SKD_CRMF_VALIDITY)

/* CertTemplate (RFC 4211 5) */
ASN1_SEQUENCE(SKD_CRMF_TEMPLATE) = {
	ASN1_IMP_OPT(SKD_CRMF_TEMPLATE, version, ASN1_INTEGER, 0),
	ASN1_IMP_OPT(SKD_CRMF_TEMPLATE, serialNumber, ASN1_INTEGER, 1),
	ASN1_IMP_OPT(SKD_CRMF_TEMPLATE, signingAlg, X509_ALGOR, 2),
	ASN1_EXP_OPT(SKD_CRMF_TEMPLATE, issuer, X509_NAME, 3),
	ASN1_IMP_OPT(SKD_CRMF_TEMPLATE, validity, SKD_CRMF_VALIDITY, 4),
	ASN1_EXP_OPT(SKD_CRMF_TEMPLATE, subject, X509_NAME, 5),
	ASN1_IMP_OPT(SKD_CRMF_TEMPLATE, publicKey, X509_PUBKEY, 6),
	ASN1_IMP_OPT(SKD_CRMF_TEMPLATE, issuerUID, ASN1_BIT_STRING, 7),
	ASN1_IMP_OPT(SKD_CRMF_TEMPLATE, subjectUID, ASN1_BIT_STRING, 8),
	ASN1_IMP_SEQUENCE_OF_OPT(SKD_CRMF_TEMPLATE, extensions,
	    X509_EXTENSION, 9)
} ASN1_SEQUENCE_END(SKD_CRMF_TEMPLATE)
IMPLEMENT_ASN1_FUNCTIONS(SKD_CRMF_TEMPLATE)

/* CertRequest (RFC 4211 5) */
ASN1_SEQUENCE(SKD_CRMF_CERT_REQUEST) = {
	ASN1_SIMPLE(SKD_CRMF_CERT_REQUEST, certReqId, ASN1_INTEGER),
	ASN1_SIMPLE(SKD_CRMF_CERT_REQUEST, certTemplate, SKD_CRMF_TEMPLATE),
	ASN1_SEQUENCE_OF_OPT(SKD_CRMF_CERT_REQUEST, controls, SKD_CRMF_ATAV)
} ASN1_SEQUENCE_END(SKD_CRMF_CERT_REQUEST)
IMPLEMENT_ASN1_FUNCTIONS(SKD_CRMF_CERT_REQUEST)

/* ProofOfPossession (RFC 4211 4): POPOSigningKey is a SEQUENCE
 * ([1] IMPLICIT), POPOPrivKey a CHOICE ([2], [3] EXPLICIT). */
ASN1_CHOICE(SKD_CRMF_POPO) = {
	ASN1_IMP(SKD_CRMF_POPO, d.raVerified, ASN1_NULL, 0),
	ASN1_IMP_SEQUENCE_OF(SKD_CRMF_POPO, d.signature, ASN1_ANY, 1),
	ASN1_EXP(SKD_CRMF_POPO, d.keyEncipherment, ASN1_ANY, 2),
	ASN1_EXP(SKD_CRMF_POPO, d.keyAgreement, ASN1_ANY, 3)
} ASN1_CHOICE_END(SKD_CRMF_POPO)
IMPLEMENT_ASN1_FUNCTIONS(SKD_CRMF_POPO)

/* CertReqMsg (RFC 4211 3) */
ASN1_SEQUENCE(SKD_CRMF_MSG) = {
	ASN1_SIMPLE(SKD_CRMF_MSG, certReq, SKD_CRMF_CERT_REQUEST),
	ASN1_OPT(SKD_CRMF_MSG, popo, SKD_CRMF_POPO),
	ASN1_SEQUENCE_OF_OPT(SKD_CRMF_MSG, regInfo, SKD_CRMF_ATAV)
} ASN1_SEQUENCE_END(SKD_CRMF_MSG)
IMPLEMENT_ASN1_FUNCTIONS(SKD_CRMF_MSG)

SKD_CRMF_MSG *
skd_crmf_from_ossl(const OSSL_CRMF_MSG *m)
{
	unsigned char *der = NULL;
	SKD_CRMF_MSG *out = NULL;
	int n;

	if ((n = i2d_OSSL_CRMF_MSG((OSSL_CRMF_MSG *)m, &der)) > 0)
		out = skd_der_decode(ASN1_ITEM_rptr(SKD_CRMF_MSG), der,
		    (size_t)n);
	OPENSSL_free(der);
	return out;
}

int
skd_crmf_set_template_key(SKD_CRMF_MSG *m, const X509_ALGOR *alg)
{
	X509_PUBKEY *xpk = NULL;
	ASN1_OBJECT *obj = NULL;
	const ASN1_OBJECT *o;
	const void *pval;
	int ptype;

	X509_ALGOR_get0(&o, &ptype, &pval, alg);
	if ((xpk = X509_PUBKEY_new()) == NULL ||
	    (obj = OBJ_dup(o)) == NULL)
		goto err;
	if (ptype == V_ASN1_OBJECT) {
		ASN1_OBJECT *p = OBJ_dup(pval);

		if (p == NULL || !X509_PUBKEY_set0_param(xpk, obj, ptype, p,
		    NULL, 0)) {
			ASN1_OBJECT_free(p);
			goto err;
		}
	} else if (ptype == V_ASN1_NULL || ptype == V_ASN1_UNDEF) {
		if (!X509_PUBKEY_set0_param(xpk, obj, ptype, NULL, NULL, 0))
			goto err;
	} else {
		goto err;
	}
	obj = NULL;
	X509_PUBKEY_free(m->certReq->certTemplate->publicKey);
	m->certReq->certTemplate->publicKey = xpk;
	return 1;
 err:
	ASN1_OBJECT_free(obj);
	X509_PUBKEY_free(xpk);
	return 0;
}
