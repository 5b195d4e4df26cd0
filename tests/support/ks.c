/*
 * ks.c: key store unlocking for the tests; see ks.h.
 */
#include <string.h>

#include "support/ks.h"

static int
test_passphrase(char *buf, size_t size, size_t *out_len, int confirm,
    const char **why, void *arg)
{
	const char *pass = arg;
	size_t n = strlen(pass);

	(void)confirm;
	if (n >= size) {
		*why = "test passphrase too long";
		return 0;
	}
	memcpy(buf, pass, n + 1);
	*out_len = n;
	return 1;
}

const struct skd_client_ks_auth *
skd_test_ks_pass(struct skd_client_ks_auth *a, const char *pass)
{
	memset(a, 0, sizeof(*a));
	a->passphrase = test_passphrase;
	a->arg = (void *)(pass != NULL ? pass : SKD_TEST_KS_PASS);
	a->protect = SKD_CLIENT_KS_PASSPHRASE;
	a->scrypt_log2n = 10;
	return a;
}

const struct skd_client_ks_auth *
skd_test_ks_cert(struct skd_client_ks_auth *a,
    const struct skd_client_ident *id)
{
	memset(a, 0, sizeof(*a));
	a->ident = id;
	a->protect = SKD_CLIENT_KS_CERT;
	return a;
}

struct skd_client_keystore *
skd_test_ks_open(const char *path, unsigned flags,
    struct skd_client_error *err)
{
	struct skd_client_ks_auth a;

	return skd_client_keystore_open(path, flags, skd_test_ks_pass(&a,
	    NULL), err);
}
