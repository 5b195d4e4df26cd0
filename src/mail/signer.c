/*
 * signer.c: is the From address the outer signer's address?
 *
 * RFC 8551 3.1.4 / RFC 8550 3: a receiving agent checks that the From
 * address matches an email address in the signer's certificate.  Only the
 * outermost SignedData is visible before the GLA opens anything; the
 * signature is verified (a From copied with somebody else's certificate
 * but a broken signature proves nothing), the path is the worker's job.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cms/skd_cms.h"
#include "mail/skd_mail.h"

/* Does cert carry from as an rfc822Name (or, for old certificates, as the
 * subject's emailAddress)? */
static int
cert_has_email(X509 *cert, const char *from)
{
	GENERAL_NAMES *gens;
	GENERAL_NAME *g;
	X509_NAME *subj;
	const ASN1_STRING *s;
	int i, found = 0, idx;

	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_EMAIL)
			continue;
		s = g->d.rfc822Name;
		if ((size_t)ASN1_STRING_length(s) == strlen(from) &&
		    strncasecmp((const char *)ASN1_STRING_get0_data(s), from,
		    strlen(from)) == 0)
			found = 1;
	}
	GENERAL_NAMES_free(gens);
	if (found)
		return 1;
	subj = X509_get_subject_name(cert);
	idx = -1;
	while ((idx = X509_NAME_get_index_by_NID(subj, NID_pkcs9_emailAddress,
	    idx)) >= 0) {
		s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
		if ((size_t)ASN1_STRING_length(s) == strlen(from) &&
		    strncasecmp((const char *)ASN1_STRING_get0_data(s), from,
		    strlen(from)) == 0)
			return 1;
	}
	return 0;
}

int
skd_mail_outer_signed(const unsigned char *der, size_t len)
{
	CMS_ContentInfo *cms;
	int r;

	if ((cms = skd_cms_d2i_content_info(der, len)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	r = OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_signed;
	CMS_ContentInfo_free(cms);
	return r;
}

char *
skd_mail_name_address(const char *name)
{
	if (name == NULL || strncasecmp(name, "email:", 6) != 0)
		return NULL;
	return skd_mail_addr_spec(name + 6);
}

char *
skd_mail_cert_address(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	GENERAL_NAMES *gens = NULL;
	const GENERAL_NAME *g;
	X509 *cert;
	char *a = NULL, *text;
	int i, n;

	if (der == NULL || len == 0 || len > LONG_MAX ||
	    (cert = d2i_X509(NULL, &p, (long)len)) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	if (p == der + len)
		gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && a == NULL;
	    i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_EMAIL ||
		    (n = ASN1_STRING_length(g->d.rfc822Name)) <= 0 ||
		    memchr(ASN1_STRING_get0_data(g->d.rfc822Name), '\0',
		    (size_t)n) != NULL)
			continue;
		if ((text = malloc((size_t)n + 1)) == NULL)
			break;
		memcpy(text, ASN1_STRING_get0_data(g->d.rfc822Name),
		    (size_t)n);
		text[n] = '\0';
		/* skd_mail_addr_spec refuses anything but one plain
		 * mailbox: nothing of the certificate reaches a header
		 * unchecked. */
		a = skd_mail_addr_spec(text);
		free(text);
	}
	GENERAL_NAMES_free(gens);
	X509_free(cert);
	ERR_clear_error();
	return a;
}

int
skd_mail_check_signer(char *err, size_t err_len, const char *from,
    const unsigned char *der, size_t len)
{
	CMS_ContentInfo *cms = NULL;
	struct skd_cms_verified *v = NULL;
	int rc = 0;

	if ((cms = skd_cms_d2i_content_info(der, len)) == NULL) {
		(void)snprintf(err, err_len, "the CMS part is not a CMS "
		    "ContentInfo");
		goto done;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		rc = -1;
		goto done;
	}
	if (!skd_cms_verify_parsed(&v, cms, NULL, time(NULL))) {
		(void)snprintf(err, err_len, "the outer SignedData does not "
		    "verify");
		goto done;
	}
	if (from == NULL) {
		(void)snprintf(err, err_len, "the mail has no From address");
		goto done;
	}
	if (!cert_has_email(v->signer, from)) {
		(void)snprintf(err, err_len, "From <%.100s> is not an email "
		    "address of the signer's certificate", from);
		goto done;
	}
	rc = 1;
 done:
	ERR_clear_error();
	skd_cms_verified_free(v);
	CMS_ContentInfo_free(cms);
	return rc;
}
