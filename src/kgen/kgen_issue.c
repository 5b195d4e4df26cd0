/*
 * kgen_issue.c: the certificate of a server-generated key, issued by the
 * keygen CA (skd_kgen.h for the profile and the extension rules of RFC
 * 5272 6.x that draft 6.1 quotes: honoured, or unsupportedExt).
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "kgen/skd_kgen.h"

/* The keyUsage bits (RFC 5280 4.2.1.3) the profile gives the key. */
#define BIT_KEY_ENCIPHERMENT	2
#define BIT_DATA_ENCIPHERMENT	3
#define BIT_KEY_AGREEMENT	4

/* Whether the requested keyUsage asks for nothing beyond what the key
 * type gets: keyEncipherment (and dataEncipherment) for RSA,
 * keyAgreement for EC. */
static int
ku_acceptable(const ASN1_BIT_STRING *ku, int is_rsa)
{
	int i, any = 0;

	for (i = 0; i < ku->length * 8; i++) {
		if (!ASN1_BIT_STRING_get_bit(ku, i))
			continue;
		any = 1;
		if (is_rsa && (i == BIT_KEY_ENCIPHERMENT ||
		    i == BIT_DATA_ENCIPHERMENT))
			continue;
		if (!is_rsa && i == BIT_KEY_AGREEMENT)
			continue;
		return 0;
	}
	return any;
}

/* Copies the acceptable requested extensions to x; 0 with *why set when
 * one is refused, -1 on error. */
static int
requested(X509 *x, const char **why, const STACK_OF(X509_EXTENSION) *exts,
    int is_rsa)
{
	int i, j, nid;

	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
		void *v;

		nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
		/* One of each (RFC 5280 4.2). */
		for (j = 0; j < i; j++) {
			if (OBJ_cmp(X509_EXTENSION_get_object(ext),
			    X509_EXTENSION_get_object(
			    sk_X509_EXTENSION_value(exts, j))) == 0) {
				*why = "extension requested twice";
				return 0;
			}
		}
		ERR_set_mark();
		v = X509V3_EXT_d2i(ext);
		ERR_pop_to_mark();
		switch (nid) {
		case NID_subject_alt_name:
			if (v == NULL) {
				*why = "malformed subjectAltName";
				return 0;
			}
			GENERAL_NAMES_free(v);
			if (!X509_add_ext(x, ext, -1))
				return -1;
			break;
		case NID_key_usage:
			if (v == NULL || !ku_acceptable(v, is_rsa)) {
				ASN1_BIT_STRING_free(v);
				*why = is_rsa ? "keyUsage other than "
				    "keyEncipherment for an RSA key" :
				    "keyUsage other than keyAgreement for an "
				    "EC key";
				return 0;
			}
			/* The profile's keyUsage is added by the caller. */
			ASN1_BIT_STRING_free(v);
			break;
		case NID_ext_key_usage: {
			EXTENDED_KEY_USAGE *eku = v;
			int k, bad = eku == NULL;

			for (k = 0; !bad &&
			    k < sk_ASN1_OBJECT_num(eku); k++) {
				if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, k)) !=
				    NID_email_protect)
					bad = 1;
			}
			EXTENDED_KEY_USAGE_free(eku);
			if (bad) {
				*why = "extendedKeyUsage other than "
				    "emailProtection";
				return 0;
			}
			if (!X509_add_ext(x, ext, -1))
				return -1;
			break;
		}
		case NID_subject_key_identifier:
			/* Replaced by the CA's own computation. */
			ASN1_OCTET_STRING_free(v);
			break;
		case NID_basic_constraints: {
			BASIC_CONSTRAINTS *bc = v;
			int ca = bc == NULL || bc->ca;

			BASIC_CONSTRAINTS_free(bc);
			if (ca) {
				*why = "basicConstraints cA requested";
				return 0;
			}
			break;
		}
		default:
			if (v != NULL) {
				const X509V3_EXT_METHOD *m =
				    X509V3_EXT_get_nid(nid);

				if (m != NULL && m->it != NULL)
					ASN1_item_free(v, ASN1_ITEM_ptr(m->it));
			}
			*why = "extension not supported";
			return 0;
		}
	}
	return 1;
}

enum skd_kgen_issue_rc
skd_kgen_issue(X509 **out, const char **out_why, const struct skd_kgen_ca *ca,
    const X509_NAME *subject, const STACK_OF(X509_EXTENSION) *req_exts,
    EVP_PKEY *pkey, const unsigned char *serial, size_t serial_len,
    time_t now)
{
	X509 *x = NULL;
	ASN1_BIT_STRING *ku = NULL;
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn = NULL;
	X509V3_CTX v3;
	X509_EXTENSION *ext = NULL;
	enum skd_kgen_issue_rc rc = SKD_KGEN_ERROR;
	long days = ca->validity_days > 0 ? ca->validity_days :
	    SKD_KGEN_DEFAULT_DAYS;
	int is_rsa = EVP_PKEY_is_a(pkey, "RSA"), r;

	*out = NULL;
	*out_why = NULL;
	if (serial == NULL || serial_len == 0 || serial_len > 20)
		goto err;
	if ((x = X509_new()) == NULL || !X509_set_version(x, 2) ||
	    (bn = BN_bin2bn(serial, (int)serial_len, NULL)) == NULL ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(x, sn) ||
	    !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, &now) ==
	    NULL || !X509_set_pubkey(x, pkey))
		goto err;
	if ((r = requested(x, out_why, req_exts, is_rsa)) <= 0) {
		rc = r == 0 ? SKD_KGEN_REFUSED : SKD_KGEN_ERROR;
		goto err;
	}
	/* Profile: keyUsage for encryption keys, critical. */
	if ((ku = ASN1_BIT_STRING_new()) == NULL ||
	    !ASN1_BIT_STRING_set_bit(ku, is_rsa ? BIT_KEY_ENCIPHERMENT :
	    BIT_KEY_AGREEMENT, 1) ||
	    !X509_add1_ext_i2d(x, NID_key_usage, ku, 1, 0))
		goto err;
	X509V3_set_ctx(&v3, ca->cert, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier,
	    "hash")) == NULL || !X509_add_ext(x, ext, -1))
		goto err;
	X509_EXTENSION_free(ext);
	ext = NULL;
	if (X509_get0_subject_key_id(ca->cert) != NULL &&
	    ((ext = X509V3_EXT_conf_nid(NULL, &v3,
	    NID_authority_key_identifier, "keyid:always")) == NULL ||
	    !X509_add_ext(x, ext, -1)))
		goto err;
	if (!X509_sign(x, ca->key, EVP_PKEY_is_a(ca->key, "EC") &&
	    EVP_PKEY_get_bits(ca->key) > 256 ? EVP_sha384() : EVP_sha256()))
		goto err;
	*out = x;
	x = NULL;
	rc = SKD_KGEN_ISSUED;
 err:
	X509_EXTENSION_free(ext);
	X509_free(x);
	ASN1_BIT_STRING_free(ku);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	return rc;
}
