/*
 * kgen_recover.c: key recovery (beyond the draft; docs/keygen.md): the
 * archive of a certificate's key found by the certificate, opened with
 * the recovery key, checked against the CA and the certificate.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "kgen/skd_kgen.h"

int
skd_kgen_archive_id(char out[SKD_KGEN_ARCHIVE_ID_LEN], X509 *cert)
{
	PKCS7_ISSUER_AND_SERIAL *ias = NULL;
	unsigned char *der = NULL, md[32];
	int n, ok = 0;

	out[0] = '\0';
	if ((ias = PKCS7_ISSUER_AND_SERIAL_new()) == NULL ||
	    !X509_NAME_set(&ias->issuer, X509_get_issuer_name(cert)))
		goto err;
	ASN1_INTEGER_free(ias->serial);
	if ((ias->serial = ASN1_INTEGER_dup(X509_get0_serialNumber(cert))) ==
	    NULL || (n = i2d_PKCS7_ISSUER_AND_SERIAL(ias, &der)) <= 0 ||
	    !EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL))
		goto err;
	/* RFC 9562 5.8: version 8 (custom), variant 10. */
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x80);
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	snprintf(out, SKD_KGEN_ARCHIVE_ID_LEN,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3], md[4],
	    md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12], md[13],
	    md[14], md[15]);
	ok = 1;
 err:
	OPENSSL_free(der);
	PKCS7_ISSUER_AND_SERIAL_free(ias);
	return ok;
}

static int
in_list(STACK_OF(X509) *list, X509 *cert)
{
	int i;

	for (i = 0; list != NULL && i < sk_X509_num(list); i++) {
		if (X509_cmp(sk_X509_value(list, i), cert) == 0)
			return 1;
	}
	return 0;
}

int
skd_kgen_is_officer(const struct skd_kgen_ca *ca, X509 *cert)
{
	return in_list(ca->recovery_officers, cert);
}

int
skd_kgen_is_ra(const struct skd_kgen_ca *ca, X509 *cert)
{
	return in_list(ca->ras, cert);
}

EVP_PKEY *
skd_kgen_recover(const unsigned char *der, size_t len,
    const struct skd_kgen_ca *ca, X509 *cert, time_t now)
{
	struct skd_shroud_opener who;
	X509 *signer = NULL;
	EVP_PKEY *pkey;

	if (ca->recovery_cert == NULL || ca->recovery_key == NULL)
		return NULL;
	memset(&who, 0, sizeof(who));
	who.cert = ca->recovery_cert;
	who.key = ca->recovery_key;
	pkey = skd_kgen_open(der, len, &who, NULL, now, &signer);
	/* The package is the keygen CA's, and the key the certificate's. */
	if (pkey != NULL && (signer == NULL || X509_cmp(signer, ca->cert) != 0 ||
	    X509_check_private_key(cert, pkey) != 1)) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	X509_free(signer);
	ERR_clear_error();
	return pkey;
}
