/*
 * cli_recover.c: "skd admin recover" (docs/man/skd-keygen.1): a
 * configured recovery officer asks the GLA for the archived key of a
 * certificate its keygen CA issued (docs/keygen.md, "Archive and
 * recovery"): builds the keyRecoveryRequest signed with the officer's
 * --cert/--key, submits it through the directory, waits, checks the CA's
 * answer, opens the key package with the officer's key, checks that the
 * key is the certificate's and that the certificate chains to --CAfile,
 * and writes the key (PKCS#8 PEM, encrypted under a passphrase with
 * --passphrase-fd).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "cli/cli.h"
#include "client/skd_client.h"
#include "client/skd_keygen.h"
#include "store/skd_store.h"

static const char recover_usage[] =
    "usage: skd admin recover --cert FILE --key FILE --CAfile FILE\n"
    "        --target-cert CERT.pem --out KEY.pem [--out-cert FILE]\n"
    "        [--passphrase-fd N] [--timeout SECONDS]\n"
    "        directory: --uri URI --base DN [--bind-dn DN --password-file F]\n"
    "                   | --env FILE --as WHO\n"
    "  As a recovery officer of the GLA's configuration\n"
    "  (keygen_recovery_officers, --cert/--key), asks for the archived\n"
    "  private key of --target-cert; the GLA answers with the key\n"
    "  enveloped for --cert, and logs who asked and when.\n";

#define RECOVER_OPTS "cert key CAfile CRLfile uri base bind-dn " \
	"password-file env as timeout target-cert out out-cert passphrase-fd"

static int
run(const struct skd_cli_ctx *c)
{
	const char *cmd = skd_cli_ctx_cmd(c), *t, *key_path;
	struct skd_client_ident *id = NULL;
	struct skd_keygen_result res;
	struct skd_shroud_opener who;
	struct skd_store *s = NULL;
	struct skd_store_blob *msgs = NULL;
	X509_STORE *trust = NULL;
	X509 *target = NULL;
	unsigned char nonce[SKD_KEYGEN_NONCE_LEN], *der = NULL;
	char rid[SKD_STORE_ID_LEN], pass[1024];
	size_t len = 0, n = 0;
	long timeout = 30;
	int rc, have_pass = 0;

	memset(&res, 0, sizeof(res));
	memset(&who, 0, sizeof(who));
	memset(pass, 0, sizeof(pass));
	if ((rc = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_need(c, "target-cert", "CERT.pem", "", &t)) !=
	    SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_need(c, "out", "KEY.pem", "", &key_path)) !=
	    SKD_EXIT_OK)
		return rc;
	if ((rc = skd_cli_keygen_timeout(c, &timeout)) != SKD_EXIT_OK)
		return rc;
	if ((rc = skd_cli_keygen_passphrase(c, pass, sizeof(pass),
	    &have_pass)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_ident(c, &id)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_trust(c, &trust)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_cert(c, "target-cert", &target)) != SKD_EXIT_OK)
		goto done;
	if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    !skd_keygen_recovery_request(&der, &len, target,
	    (long)(time(NULL) & 0x7fffffff), nonce, id->cert, id->key,
	    id->chain, time(NULL))) {
		skd_cli_err(cmd, "cannot build the request");
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	if ((rc = skd_cli_keygen_submit(c, &s, der, len, timeout,
	    "submitted request", &msgs, &n, rid)) != SKD_EXIT_OK)
		goto done;
	who.cert = id->cert;
	who.key = id->key;
	if (!skd_keygen_open_recovery(&res, msgs[0].data, msgs[0].len, nonce,
	    &who, trust, time(NULL))) {
		skd_cli_err(cmd, "answer to %s: %s", rid, res.text);
		rc = SKD_EXIT_CRYPTO;
		goto done;
	}
	if (res.status != 0) {
		rc = skd_cli_keygen_refused(c, &res);
		goto done;
	}
	/* The answer names the certificate asked for, and its key is it. */
	if (X509_cmp(res.cert, target) != 0) {
		skd_cli_err(cmd, "the answer is for another certificate");
		rc = SKD_EXIT_CRYPTO;
		goto done;
	}
	if ((rc = skd_cli_keygen_write(c, key_path, skd_cli_ctx_opt(c,
	    "out-cert"), res.key, res.cert, have_pass ? pass : NULL)) !=
	    SKD_EXIT_OK)
		goto done;
	printf("recovered the key of %s, written to %s\n", skd_cli_ctx_opt(c,
	    "target-cert"), key_path);
	rc = SKD_EXIT_OK;
 done:
	OPENSSL_cleanse(pass, sizeof(pass));
	skd_keygen_result_clear(&res);
	skd_store_blobs_free(msgs, n);
	skd_store_close(s);
	OPENSSL_free(der);
	X509_free(target);
	X509_STORE_free(trust);
	skd_client_ident_free(id);
	ERR_clear_error();
	return rc;
}

int
skd_cli_admin_recover(int argc, char **argv)
{
	return skd_cli_keygen_main("admin recover", argc, argv, RECOVER_OPTS,
	    recover_usage, run);
}
