/*
 * pki.c: the test PKI described in pki.h, built in memory with OpenSSL's
 * X509 APIs (no CLI), once per process, and written out as PEM files for
 * the openssl CLI.
 *
 * Validity periods are fixed so that tests may pass any "now" from 2021 on:
 *   CAs            2019-01-01 .. 2049-12-31
 *   end entities   2021-01-01 .. 2049-12-31 (UTCTime's last year)
 *   expired        2020-01-01 .. 2020-12-31
 *   CRL            thisUpdate 2021-01-01, nextUpdate 2049-12-31
 * Serial numbers are 0x1000 + the identity's index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "skd_test.h"
#include "support/pki.h"

#define PKI_CA_NOT_BEFORE	"20190101000000Z"
#define PKI_NOT_BEFORE		"20210101000000Z"
#define PKI_NOT_AFTER		"20491231235959Z"
#define PKI_EXP_NOT_BEFORE	"20200101000000Z"
#define PKI_EXP_NOT_AFTER	"20201231235959Z"

enum pki_alg { PKI_RSA2048, PKI_P256, PKI_P384 };

static const struct {
	const char	*name;
	enum pki_alg	 alg;
} pki_table[SKD_TP_COUNT] = {
	[SKD_TP_CA] =		{ "ca",		PKI_RSA2048 },
	[SKD_TP_ROGUE_CA] =	{ "rogue-ca",	PKI_RSA2048 },
	[SKD_TP_GLA] =		{ "gla",	PKI_RSA2048 },
	[SKD_TP_GLO1] =		{ "glo1",	PKI_RSA2048 },
	[SKD_TP_GLO2] =		{ "glo2",	PKI_P256 },
	[SKD_TP_ALICE] =	{ "alice",	PKI_RSA2048 },
	[SKD_TP_BOB] =		{ "bob",	PKI_P256 },
	[SKD_TP_CAROL] =	{ "carol",	PKI_P384 },
	[SKD_TP_DAVE] =		{ "dave",	PKI_RSA2048 },
	[SKD_TP_REVOKED] =	{ "revoked",	PKI_RSA2048 },
	[SKD_TP_EXPIRED] =	{ "expired",	PKI_RSA2048 },
	[SKD_TP_STRANGER] =	{ "stranger",	PKI_RSA2048 },
};

static struct skd_test_pki pki;
static int pki_built;
static pid_t pki_owner;		/* the process that made pki.dir */

static void
pki_free(void)
{
	int i;

	for (i = 0; i < SKD_TP_COUNT; i++) {
		X509_free(pki.id[i].cert);
		EVP_PKEY_free(pki.id[i].key);
		free((char *)pki.id[i].cert_path);
		free((char *)pki.id[i].key_path);
	}
	X509_CRL_free(pki.crl);
	free((char *)pki.crl_path);
	/* Forked test children run atexit handlers too: only the builder
	 * removes the files. */
	if (pki.dir != NULL && getpid() == pki_owner) {
		skd_test_rmdir((char *)pki.dir);
	} else {
		free((char *)pki.dir);
	}
	memset(&pki, 0, sizeof(pki));
	pki_built = 0;
}

static EVP_PKEY *
pki_keygen_new(enum pki_alg alg)
{
	switch (alg) {
	case PKI_RSA2048:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	case PKI_P256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case PKI_P384:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	}
	return NULL;
}

/*
 * pki_keygen returns a key for name.  With $SKD_TEST_KEY_CACHE set (the
 * Makefile sets it under build/), keys are kept there between runs: RSA
 * key generation dominates a test process's start, above all under
 * valgrind.  These are throwaway test keys; certificates and the CRL are
 * made afresh every run.  A cached key of the wrong kind is replaced.
 */
static EVP_PKEY *
pki_keygen(const char *name, enum pki_alg alg)
{
	const char *dir = getenv("SKD_TEST_KEY_CACHE");
	char *path = NULL;
	EVP_PKEY *k = NULL;
	BIO *b;
	int want;

	if (dir == NULL || *dir == '\0')
		return pki_keygen_new(alg);
	want = alg == PKI_RSA2048 ? EVP_PKEY_RSA : EVP_PKEY_EC;
	if (asprintf(&path, "%s/%s.key", dir, name) < 0)
		return NULL;
	if ((b = BIO_new_file(path, "r")) != NULL) {
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
		if (k != NULL && (EVP_PKEY_get_base_id(k) != want ||
		    EVP_PKEY_get_bits(k) != (alg == PKI_P384 ? 384 :
		    alg == PKI_P256 ? 256 : 2048))) {
			EVP_PKEY_free(k);
			k = NULL;
		}
	}
	ERR_clear_error();
	if (k != NULL)
		goto done;
	if ((k = pki_keygen_new(alg)) != NULL)
		skd_test_key_keep(dir, path, k);
 done:
	free(path);
	return k;
}

void
skd_test_key_keep(const char *dir, const char *path, EVP_PKEY *k)
{
	char *tmp = NULL;
	BIO *b;

	/* Write then rename: concurrent test processes see whole files. */
	(void)mkdir(dir, 0700);
	if (asprintf(&tmp, "%s.%ld.tmp", path, (long)getpid()) >= 0 &&
	    (b = BIO_new_file(tmp, "w")) != NULL) {
		int ok = PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
		    NULL);

		BIO_free(b);
		if (!ok || rename(tmp, path) != 0)
			(void)unlink(tmp);
	}
	free(tmp);
	ERR_clear_error();
}

static int
pki_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	if ((ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL) {
		return 0;
	}
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/*
 * pki_name builds "CN=<cn>,O=skd test[,C=US]" (RFC 4514 order; the DER
 * sequence is C, O, CN).  Caller frees.
 */
static X509_NAME *
pki_name(const char *cn, int with_c)
{
	X509_NAME *n;

	if ((n = X509_NAME_new()) == NULL) {
		return NULL;
	}
	if (with_c && !X509_NAME_add_entry_by_txt(n, "C", MBSTRING_UTF8,
	    (const unsigned char *)"US", -1, -1, 0)) {
		goto err;
	}
	if (!X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	    (const unsigned char *)"skd test", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0)) {
		goto err;
	}
	return n;
 err:
	X509_NAME_free(n);
	return NULL;
}

/*
 * pki_cert issues a certificate for key; issuer == NULL means self-signed
 * (a CA).  Caller frees.
 */
static X509 *
pki_cert(enum skd_test_who who, EVP_PKEY *key, X509 *issuer,
    EVP_PKEY *issuer_key)
{
	const char *name = pki_table[who].name;
	X509 *x = NULL;
	X509_NAME *subj = NULL;
	X509V3_CTX ctx;
	char san[256];
	const char *nb = PKI_NOT_BEFORE, *na = PKI_NOT_AFTER;
	int is_ca = issuer == NULL;

	if ((x = X509_new()) == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1000 + (long)who)) {
		goto err;
	}
	if (is_ca) {
		subj = pki_name(who == SKD_TP_CA ? "skd test CA" :
		    "skd rogue CA", 0);
		nb = PKI_CA_NOT_BEFORE;
	} else {
		subj = pki_name(name, 1);
	}
	if (who == SKD_TP_EXPIRED) {
		nb = PKI_EXP_NOT_BEFORE;
		na = PKI_EXP_NOT_AFTER;
	}
	if (subj == NULL || !X509_set_subject_name(x, subj) ||
	    !X509_set_issuer_name(x, is_ca ? subj :
	    X509_get_subject_name(issuer)) ||
	    !ASN1_TIME_set_string_X509(X509_getm_notBefore(x), nb) ||
	    !ASN1_TIME_set_string_X509(X509_getm_notAfter(x), na) ||
	    !X509_set_pubkey(x, key)) {
		goto err;
	}
	X509V3_set_ctx(&ctx, is_ca ? x : issuer, x, NULL, NULL, 0);
	if (!pki_add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !pki_add_ext(x, &ctx, NID_authority_key_identifier,
	    "keyid:always")) {
		goto err;
	}
	if (is_ca) {
		if (!pki_add_ext(x, &ctx, NID_basic_constraints,
		    "critical,CA:TRUE") ||
		    !pki_add_ext(x, &ctx, NID_key_usage,
		    "critical,keyCertSign,cRLSign")) {
			goto err;
		}
	} else {
		if (who == SKD_TP_GLA) {
			snprintf(san, sizeof(san),
			    "URI:https://gla.example.com/,email:%s@example.com",
			    name);
		} else {
			snprintf(san, sizeof(san), "email:%s@example.com",
			    name);
		}
		if (!pki_add_ext(x, &ctx, NID_basic_constraints,
		    "critical,CA:FALSE") ||
		    !pki_add_ext(x, &ctx, NID_key_usage,
		    EVP_PKEY_is_a(key, "RSA") ?
		    "critical,digitalSignature,keyEncipherment" :
		    "critical,digitalSignature,keyAgreement") ||
		    !pki_add_ext(x, &ctx, NID_subject_alt_name, san)) {
			goto err;
		}
	}
	if (!X509_sign(x, is_ca ? key : issuer_key, EVP_sha256())) {
		goto err;
	}
	X509_NAME_free(subj);
	return x;
 err:
	X509_NAME_free(subj);
	X509_free(x);
	return NULL;
}

/* pki_crl: the CA's CRL revoking "revoked" (RFC 5280 5.1).  Caller frees. */
static X509_CRL *
pki_crl(void)
{
	X509 *ca = pki.id[SKD_TP_CA].cert;
	X509_CRL *crl = NULL;
	X509_REVOKED *rev = NULL;
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *num = NULL;
	X509V3_CTX ctx;
	X509_EXTENSION *ext = NULL;

	if ((crl = X509_CRL_new()) == NULL || (t = ASN1_TIME_new()) == NULL ||
	    !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) ||
	    !ASN1_TIME_set_string_X509(t, PKI_NOT_BEFORE) ||
	    !X509_CRL_set1_lastUpdate(crl, t) ||
	    !ASN1_TIME_set_string_X509(t, PKI_NOT_AFTER) ||
	    !X509_CRL_set1_nextUpdate(crl, t)) {
		goto err;
	}
	if ((rev = X509_REVOKED_new()) == NULL ||
	    !X509_REVOKED_set_serialNumber(rev,
	    X509_get_serialNumber(pki.id[SKD_TP_REVOKED].cert)) ||
	    !ASN1_TIME_set_string_X509(t, "20210601000000Z") ||
	    !X509_REVOKED_set_revocationDate(rev, t) ||
	    !X509_CRL_add0_revoked(crl, rev)) {
		goto err;
	}
	rev = NULL;
	X509V3_set_ctx(&ctx, ca, NULL, NULL, crl, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
	    "keyid:always")) == NULL || !X509_CRL_add_ext(crl, ext, -1)) {
		goto err;
	}
	X509_EXTENSION_free(ext);
	ext = NULL;
	if ((num = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set(num, 1) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0)) {
		goto err;
	}
	if (!X509_CRL_sort(crl) ||
	    !X509_CRL_sign(crl, pki.id[SKD_TP_CA].key, EVP_sha256())) {
		goto err;
	}
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	return crl;
 err:
	ASN1_INTEGER_free(num);
	X509_EXTENSION_free(ext);
	X509_REVOKED_free(rev);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return NULL;
}

static char *
pki_path(const char *name, const char *suffix)
{
	size_t n = strlen(pki.dir) + 1 + strlen(name) + strlen(suffix) + 1;
	char *p;

	if ((p = malloc(n)) == NULL) {
		return NULL;
	}
	snprintf(p, n, "%s/%s%s", pki.dir, name, suffix);
	return p;
}

static int
pki_write(const struct skd_test_ident *id)
{
	BIO *b;
	int ok;

	if ((b = BIO_new_file(id->cert_path, "w")) == NULL) {
		return 0;
	}
	ok = PEM_write_bio_X509(b, id->cert);
	BIO_free(b);
	if (!ok || (b = BIO_new_file(id->key_path, "w")) == NULL) {
		return 0;
	}
	ok = PEM_write_bio_PrivateKey(b, id->key, NULL, NULL, 0, NULL, NULL);
	BIO_free(b);
	return ok;
}

static int
pki_build(void)
{
	BIO *b;
	int i, ok;

	pki_owner = getpid();
	if ((pki.dir = skd_test_tmpdir()) == NULL) {
		return 0;
	}
	for (i = 0; i < SKD_TP_COUNT; i++) {
		struct skd_test_ident *id = &pki.id[i];
		X509 *issuer = NULL;
		EVP_PKEY *issuer_key = NULL;

		if (i == SKD_TP_STRANGER) {
			issuer = pki.id[SKD_TP_ROGUE_CA].cert;
			issuer_key = pki.id[SKD_TP_ROGUE_CA].key;
		} else if (i != SKD_TP_CA && i != SKD_TP_ROGUE_CA) {
			issuer = pki.id[SKD_TP_CA].cert;
			issuer_key = pki.id[SKD_TP_CA].key;
		}
		id->name = pki_table[i].name;
		if ((id->key = pki_keygen(pki_table[i].name,
		    pki_table[i].alg)) == NULL ||
		    (id->cert = pki_cert((enum skd_test_who)i, id->key, issuer,
		    issuer_key)) == NULL ||
		    (id->cert_path = pki_path(id->name, ".crt")) == NULL ||
		    (id->key_path = pki_path(id->name, ".key")) == NULL ||
		    !pki_write(id)) {
			return 0;
		}
	}
	if ((pki.crl = pki_crl()) == NULL ||
	    (pki.crl_path = pki_path("crl", ".pem")) == NULL ||
	    (b = BIO_new_file(pki.crl_path, "w")) == NULL) {
		return 0;
	}
	ok = PEM_write_bio_X509_CRL(b, pki.crl);
	BIO_free(b);
	return ok;
}

const struct skd_test_pki *
skd_test_pki_get(void)
{
	static int registered;

	if (pki_built) {
		return &pki;
	}
	if (!registered) {
		atexit(pki_free);
		registered = 1;
	}
	if (!pki_build()) {
		ERR_print_errors_fp(stderr);
		pki_free();
		ck_abort_msg("test PKI: could not build it");
	}
	pki_built = 1;
	return &pki;
}

const struct skd_test_ident *
skd_test_pki_id(enum skd_test_who who)
{
	ck_assert_int_ge(who, 0);
	ck_assert_int_lt(who, SKD_TP_COUNT);
	return &skd_test_pki_get()->id[who];
}

X509_STORE *
skd_test_pki_store(int with_crl)
{
	const struct skd_test_pki *p = skd_test_pki_get();
	X509_STORE *st;

	if ((st = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(st, p->id[SKD_TP_CA].cert)) {
		goto err;
	}
	if (with_crl) {
		if (!X509_STORE_add_crl(st, p->crl) ||
		    !X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK |
		    X509_V_FLAG_CRL_CHECK_ALL)) {
			goto err;
		}
	}
	return st;
 err:
	X509_STORE_free(st);
	ck_abort_msg("test PKI: could not make a store");
	return NULL;
}
