/*
 * ks.h: key store unlocking for the tests (src/client/keystore.c): a
 * passphrase given in memory, and scrypt at N = 2^10 so that the suites
 * stay quick (under valgrind too); the CLI's default (2^15) is exercised
 * by the interop suites.
 */
#ifndef SKD_TEST_KS_H
#define SKD_TEST_KS_H

#include "client/skd_client.h"

#define SKD_TEST_KS_PASS	"correct horse battery staple"

/*
 * skd_test_ks_pass fills *a for passphrase protection with pass (borrowed;
 * NULL: SKD_TEST_KS_PASS) and returns a.  skd_test_ks_cert fills *a for
 * protection by id's certificate (borrowed) and returns a.
 */
const struct skd_client_ks_auth *skd_test_ks_pass(
    struct skd_client_ks_auth *a, const char *pass);
const struct skd_client_ks_auth *skd_test_ks_cert(
    struct skd_client_ks_auth *a, const struct skd_client_ident *id);

/* The passphrase store of path with the default test passphrase. */
struct skd_client_keystore *skd_test_ks_open(const char *path,
    unsigned flags, struct skd_client_error *err);

#endif
