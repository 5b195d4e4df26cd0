/*
 * pki.h: a test PKI built in memory with OpenSSL, once per test process.
 *
 * Call skd_test_pki_get() from an unchecked fixture (it then runs in the
 * parent and every forked test inherits it) or from a test.  It builds:
 *
 *   ca          root CA "CN=skd test CA,O=skd test", with a CRL that revokes
 *               "revoked"; ca.crt, ca.key, crl.pem
 *   rogue-ca    a second root nobody trusts; rogue-ca.crt
 *   gla         RSA-2048, SAN URI:https://gla.example.com/ and
 *               email:gla@example.com
 *   glo1, glo2  RSA-2048 and EC P-256 GL owners
 *   alice       RSA-2048 member
 *   bob         EC P-256 member
 *   carol       EC P-384 member
 *   dave        RSA-2048 member
 *   revoked     RSA-2048, revoked in the CRL
 *   expired     RSA-2048, valid 2020-01-01 .. 2020-12-31
 *   stranger    RSA-2048 issued by rogue-ca
 *
 * Every end entity has subject "CN=<name>,O=skd test,C=US", SAN
 * email:<name>@example.com (rfc822Name), keyUsage digitalSignature +
 * keyEncipherment (RSA) or digitalSignature + keyAgreement (EC).  Files
 * <dir>/<name>.crt and <dir>/<name>.key (PEM, key unencrypted) are written
 * for the openssl CLI.  Everything is freed at process exit.
 */
#ifndef SKD_TEST_PKI_H
#define SKD_TEST_PKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>

enum skd_test_who {
	SKD_TP_CA = 0,
	SKD_TP_ROGUE_CA,
	SKD_TP_GLA,
	SKD_TP_GLO1,
	SKD_TP_GLO2,
	SKD_TP_ALICE,
	SKD_TP_BOB,
	SKD_TP_CAROL,
	SKD_TP_DAVE,
	SKD_TP_REVOKED,
	SKD_TP_EXPIRED,
	SKD_TP_STRANGER,
	SKD_TP_COUNT
};

struct skd_test_ident {
	const char	*name;		/* "alice" */
	X509		*cert;		/* borrowed */
	EVP_PKEY	*key;		/* borrowed */
	const char	*cert_path;	/* <dir>/<name>.crt */
	const char	*key_path;	/* <dir>/<name>.key */
};

struct skd_test_pki {
	const char		*dir;
	const char		*crl_path;	/* <dir>/crl.pem */
	X509_CRL		*crl;		/* borrowed */
	struct skd_test_ident	 id[SKD_TP_COUNT];
};

/* skd_test_pki_get returns the process's test PKI, building it on first use;
 * aborts the test on failure.  Borrowed: never free it. */
const struct skd_test_pki *skd_test_pki_get(void);

/* Convenience: the identity for who (borrowed). */
const struct skd_test_ident *skd_test_pki_id(enum skd_test_who who);

/* skd_test_pki_store returns a new X509_STORE trusting "ca" (not rogue-ca),
 * with the CRL loaded and CRL checking on when with_crl is nonzero.  Caller
 * frees with X509_STORE_free. */
X509_STORE *skd_test_pki_store(int with_crl);

/* Keeps key k in the test key cache dir as path (PEM), written then
 * renamed so that concurrent test processes see whole files. */
void skd_test_key_keep(const char *dir, const char *path, EVP_PKEY *k);

#endif
