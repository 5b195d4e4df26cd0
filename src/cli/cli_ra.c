/*
 * cli_ra.c: "skd ra forward" (skd-keygen(1)), the RA of the RA-involved
 * flow of CMC server-side key generation (draft 2.5.2, 3.2, 3.4): checks
 * a client's request (its signature, its path to --CAfile, its
 * signingTime, a serverKeyGenRequest; with --expect-subject the
 * requester's name), forwards it unchanged under the RA's own SignedData
 * (RFC 5272 3.2.3) through the directory, waits, checks the CA's answer
 * and writes the client's answer, unchanged, to --out for the client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "cli/cli.h"
#include "client/skd_client.h"
#include "client/skd_keygen.h"
#include "store/skd_store.h"

static const char ra_usage[] =
    "usage: skd ra forward --cert FILE --key FILE --CAfile FILE\n"
    "        --in REQUEST.der --out ANSWER.der [--expect-subject DN]\n"
    "        [--timeout SECONDS]\n"
    "        directory: --uri URI --base DN [--bind-dn DN --password-file F]\n"
    "                   | --env FILE --as WHO\n"
    "  As an RA of the GLA's configuration (keygen_ras), checks a client's\n"
    "  serverKeyGenRequest, forwards it under the RA's signature and\n"
    "  writes the CA's answer for the client to --out.\n";

#define RA_OPTS "cert key CAfile CRLfile uri base bind-dn password-file " \
	"env as timeout in out expect-subject"

/* The RA's check of the requester (draft 3.2): a name it expects. */
static int
check_subject(const struct skd_cli_ctx *c, X509 *client)
{
	const char *t = skd_cli_ctx_opt(c, "expect-subject");
	GENERAL_NAME *gn;
	char buf[1024];
	int ok;

	if (t == NULL)
		return SKD_EXIT_OK;
	snprintf(buf, sizeof(buf), "dirName:%s", t);
	if ((gn = skd_gname_from_text(buf)) == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--expect-subject: not an RFC "
		    "4514 name");
		return SKD_EXIT_USAGE;
	}
	ok = X509_NAME_cmp(gn->d.directoryName,
	    X509_get_subject_name(client)) == 0;
	GENERAL_NAME_free(gn);
	if (!ok) {
		skd_cli_err(skd_cli_ctx_cmd(c), "the request is not from %s: "
		    "not forwarded", t);
		return SKD_EXIT_FAIL;
	}
	return SKD_EXIT_OK;
}

static int
run(const struct skd_cli_ctx *c)
{
	const char *cmd = skd_cli_ctx_cmd(c), *in, *outp;
	struct skd_client_ident *id = NULL;
	struct skd_keygen_result res;
	struct skd_store *s = NULL;
	struct skd_store_blob *msgs = NULL;
	X509_STORE *trust = NULL;
	X509 *client = NULL;
	unsigned char nonce[SKD_KEYGEN_NONCE_LEN], *req = NULL, *der = NULL;
	unsigned char *inner = NULL;
	char rid[SKD_STORE_ID_LEN], why[200];
	size_t req_len = 0, len = 0, n = 0, inner_len = 0;
	long timeout = 30;
	int rc;

	memset(&res, 0, sizeof(res));
	if ((rc = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_need(c, "in", "REQUEST.der", "", &in)) !=
	    SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_need(c, "out", "ANSWER.der", "", &outp)) !=
	    SKD_EXIT_OK)
		return rc;
	if ((rc = skd_cli_keygen_timeout(c, &timeout)) != SKD_EXIT_OK)
		return rc;
	if ((rc = skd_cli_ctx_ident(c, &id)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_trust(c, &trust)) != SKD_EXIT_OK)
		goto done;
	if ((req = skd_cli_read_input(in, 1 << 20, &req_len)) == NULL) {
		rc = SKD_EXIT_INPUT;
		goto done;
	}
	/* Draft 3.2: the RA authenticates the request and checks who. */
	if (!skd_keygen_ra_check(&client, why, sizeof(why), req, req_len,
	    trust, time(NULL), 300)) {
		skd_cli_err(cmd, "%s: %s: not forwarded", in, why);
		rc = SKD_EXIT_CRYPTO;
		goto done;
	}
	if ((rc = check_subject(c, client)) != SKD_EXIT_OK)
		goto done;
	if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    !skd_keygen_ra_forward(&der, &len, req, req_len,
	    (long)(time(NULL) & 0x7fffffff), nonce, id->cert, id->key,
	    id->chain, time(NULL))) {
		skd_cli_err(cmd, "cannot build the request");
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	if ((rc = skd_cli_keygen_submit(c, &s, der, len, timeout,
	    "forwarded as request", &msgs, &n, rid)) != SKD_EXIT_OK)
		goto done;
	if (!skd_keygen_ra_open(&res, &inner, &inner_len, msgs[0].data,
	    msgs[0].len, nonce, trust, time(NULL))) {
		skd_cli_err(cmd, "answer to %s: %s", rid, res.text);
		rc = SKD_EXIT_CRYPTO;
		goto done;
	}
	if (res.status != 0) {
		rc = skd_cli_keygen_refused(c, &res);
		goto done;
	}
	/* 3.4: the client's answer, unchanged. */
	if ((rc = skd_cli_write_file(c, outp, inner, inner_len)) !=
	    SKD_EXIT_OK)
		goto done;
	{
		char *sub = X509_NAME_oneline(X509_get_subject_name(client),
		    NULL, 0);

		printf("forwarded the request of %s; its answer is in %s\n",
		    sub != NULL ? sub : "?", outp);
		OPENSSL_free(sub);
	}
	rc = SKD_EXIT_OK;
 done:
	skd_keygen_result_clear(&res);
	skd_store_blobs_free(msgs, n);
	skd_store_close(s);
	free(req);
	OPENSSL_free(der);
	OPENSSL_free(inner);
	X509_free(client);
	X509_STORE_free(trust);
	skd_client_ident_free(id);
	ERR_clear_error();
	return rc;
}

int
skd_cli_ra(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "forward") != 0) {
		int help = argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0);

		fputs(ra_usage, help ? stdout : stderr);
		return help ? SKD_EXIT_OK : SKD_EXIT_USAGE;
	}
	return skd_cli_keygen_main("ra forward", argc - 1, argv + 1, RA_OPTS,
	    ra_usage, run);
}
