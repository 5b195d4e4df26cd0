/*
 * recover.c: key recovery (beyond the CMC server key generation draft;
 * what users of a KRA expect, issue 17; docs/keygen.md).  A configured
 * recovery officer signs a PKIData whose control keyRecoveryRequest
 * (asn1/ServerKeyGeneration.asn) carries the certificate whose key is
 * wanted; the GLA finds the certificate's archive (skd_kgen_archive_id),
 * opens it with the recovery key, and answers as draft 6.2 lays out a
 * keygen answer:
 *
 *   SignedData by the keygen CA, certificates: the named one and chain
 *     PKIResponse { keyRecoveryResponse { cmsBodyPartId,
 *                   requestBodyPartId, issuerAndSerialNumber },
 *                   transactionId, senderNonce, recipientNonce;
 *                   cmsSequence { EnvelopedData for the officer's
 *                     certificate of SignedData by the CA of
 *                     AsymmetricKeyPackage } }
 *
 * The officer is the signer of the SignedData around the PKIData, whose
 * path the layer walk validated (cfg->trust); only the certificates of
 * ca->recovery_officers may recover (badIdentity otherwise).  Like the
 * key of a keygen answer, the recovered key leaves this file only
 * encrypted: the journal holds the officer's EnvelopedData.  The result's
 * text says who recovered which key and when: the worker logs it.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "engine/process_local.h"
#include "kgen/skd_kgen.h"

/* The audit text: "<what>: officer <subject> (serial <hex>) at <time>,
 * certificate <issuer> serial <hex>". */
static void
audit_text(char *out, size_t size, const char *what, X509 *officer,
    X509 *cert, time_t now)
{
	char who[256] = "?", iss[256] = "", ts[32] = "?";
	char *os = NULL, *cs = NULL;
	BIGNUM *bn;
	struct tm tm;

	X509_NAME_oneline(X509_get_subject_name(officer), who, sizeof(who));
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(officer),
	    NULL)) != NULL)
		os = BN_bn2hex(bn);
	BN_free(bn);
	if (cert != NULL) {
		X509_NAME_oneline(X509_get_issuer_name(cert), iss,
		    sizeof(iss));
		if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert),
		    NULL)) != NULL)
			cs = BN_bn2hex(bn);
		BN_free(bn);
	}
	if (gmtime_r(&now, &tm) != NULL)
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(out, size, "%s: officer %s (serial %s) at %s%s%s%s%s", what,
	    who, os != NULL ? os : "?", ts, cert != NULL ?
	    ", certificate " : "", iss, cert != NULL ? " serial " : "",
	    cs != NULL ? cs : "");
	OPENSSL_free(os);
	OPENSSL_free(cs);
}

/* The failure answer and result; text is the audit text. */
static int
refuse(struct eng *e, const char *request_id, const SKD_PKI_DATA *pd,
    long bpid, int cmc_fail, const char *text, X509 *officer,
    X509 *encrypt_to)
{
	struct skd_cmc_body *b = NULL;
	int ok;

	ok = (b = skd_cmc_body_new(1)) != NULL &&
	    skd_cmc_body_add_status(b, SKD_CMC_FAILED, &bpid, 1, text,
	    cmc_fail, -1) != 0 &&
	    eng_keygen_respond(e, request_id, b, pd, NULL, encrypt_to, officer,
	    NULL) &&
	    eng_result_add(e->out, 0, bpid,
	    skd_asn1_nid(SKD_OID_KEY_RECOVERY_REQUEST), SKD_CMC_FAILED,
	    cmc_fail, -1, text);
	skd_cmc_body_free(b);
	return ok;
}

/* Only transactionId, senderNonce and one keyRecoveryRequest, no other
 * body part (as draft 3.1 asks of a serverKeyGenRequest). */
static int
well_formed(const SKD_PKI_DATA *pd)
{
	static const enum skd_oid allowed[] = { SKD_OID_CMC_TRANSACTION_ID,
	    SKD_OID_CMC_SENDER_NONCE, SKD_OID_KEY_RECOVERY_REQUEST };

	return eng_keygen_body_only(pd, allowed,
	    sizeof(allowed) / sizeof(allowed[0]), 0, 0);
}

/* The success answer: the key enveloped for the officer (6.2 layout). */
static int
answer(struct eng *e, const char *request_id, const SKD_PKI_DATA *pd,
    long bpid, X509 *officer, X509 *cert, EVP_PKEY *pkey, X509 *encrypt_to,
    const char *text)
{
	const struct skd_kgen_ca *ca = e->cfg->keygen;
	struct skd_cmc_body *b = NULL;
	struct skd_shroud sh;
	unsigned char *pkg = NULL;
	size_t pkg_len = 0;
	int ok = 0;

	memset(&sh, 0, sizeof(sh));
	sh.type = SKD_SHROUD_BY_CERT;
	sh.cert = officer;
	sh.cipher = EVP_aes_256_cbc();
	sh.flags = e->cfg->oaep && !EVP_PKEY_is_a(X509_get0_pubkey(officer),
	    "EC") ? SKD_CMS_RECIP_OAEP : 0;
	ok = skd_kgen_package(&pkg, &pkg_len, ca, pkey, e->now, &sh) &&
	    (b = skd_cmc_body_new(1)) != NULL &&
	    eng_keygen_add_package(b, SKD_OID_KEY_RECOVERY_RESPONSE, pkg,
	    pkg_len, bpid, cert) &&
	    eng_keygen_respond(e, request_id, b, pd, cert, encrypt_to, officer,
	    NULL) &&
	    eng_result_add(e->out, 0, bpid,
	    skd_asn1_nid(SKD_OID_KEY_RECOVERY_REQUEST), SKD_CMC_SUCCESS, -1,
	    -1, text);
	skd_cmc_body_free(b);
	OPENSSL_free(pkg);
	return ok;
}

int
eng_recover_process(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id)
{
	const struct skd_kgen_ca *ca = e->cfg->keygen;
	const SKD_PKI_DATA *pd = l->v[top].pki_data;
	const SKD_TAGGED_ATTRIBUTE *ta;
	X509 *officer, *cert = NULL, *enc;
	EVP_PKEY *pkey = NULL;
	unsigned char *arch = NULL;
	size_t arch_len = 0;
	char id[SKD_KGEN_ARCHIVE_ID_LEN], text[768];
	const char *why = NULL;
	uint32_t ku;
	long bpid;
	int fail = SKD_CMC_BAD_REQUEST, rc, ok = 0;

	officer = l->v[eng_layer_signed_parent(l, top)].verified->signer;
	enc = eng_layer_encrypted(l, top) ? officer : NULL;
	ta = skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_KEY_RECOVERY_REQUEST, 0);
	bpid = ASN1_INTEGER_get(ta->bodyPartID);
	if (ca == NULL || ca->recovery_key == NULL) {
		why = "key recovery is not offered";
	} else if (!well_formed(pd)) {
		why = "one keyRecoveryRequest and no other body part";
	} else if (!skd_kgen_is_officer(ca, officer)) {
		/* Only configured officers recover (the path was validated
		 * by the layer walk; the certificate must be one of them). */
		fail = SKD_CMC_BAD_IDENTITY;
		why = "the signer is not a configured recovery officer";
	} else if ((ku = X509_get_key_usage(officer)) != UINT32_MAX &&
	    (ku & (KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT)) == 0) {
		why = "the officer's certificate cannot encrypt";
	} else if (!skd_shroud_key_ok(X509_get0_pubkey(officer))) {
		fail = SKD_CMC_BAD_ALG;
		why = "the officer's key: RSA >= 2048 or EC P-256/384/521";
	} else if (sk_ASN1_TYPE_num(ta->attrValues) != 1 ||
	    (cert = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(X509))) == NULL) {
		ERR_clear_error();
		why = "malformed keyRecoveryRequest";
	} else if (X509_NAME_cmp(X509_get_issuer_name(cert),
	    X509_get_subject_name(ca->cert)) != 0 ||
	    X509_verify(cert, X509_get0_pubkey(ca->cert)) != 1) {
		/* RFC 5272 badCertId: not a certificate the CA issued. */
		ERR_clear_error();
		fail = SKD_CMC_BAD_CERT_ID;
		why = "not a certificate of the keygen CA";
	} else if (!skd_kgen_archive_id(id, cert)) {
		goto err;
	} else if ((rc = e->env->keygen_archive == NULL ? 0 :
	    e->env->keygen_archive(e->st->ctx, &arch, &arch_len, id)) < 0) {
		goto err;
	} else if (rc == 0) {
		fail = SKD_CMC_BAD_CERT_ID;
		why = "no archived key for this certificate";
	} else if ((pkey = skd_kgen_recover(arch, arch_len, ca, cert,
	    e->now)) == NULL) {
		fail = SKD_CMC_INTERNAL_CA_ERROR;
		why = "the archive does not open with the recovery key";
	}
	if (why != NULL) {
		char t[128];

		snprintf(t, sizeof(t), "key recovery refused (%s)", why);
		audit_text(text, sizeof(text), t, officer, cert, e->now);
		ok = refuse(e, request_id, pd, bpid, fail, text, officer, enc);
		goto err;
	}
	audit_text(text, sizeof(text), "key recovered", officer, cert, e->now);
	ok = answer(e, request_id, pd, bpid, officer, cert, pkey, enc, text);
 err:
	EVP_PKEY_free(pkey);
	X509_free(cert);
	OPENSSL_free(arch);
	ERR_clear_error();
	return ok;
}
