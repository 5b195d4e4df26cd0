/*
 * cli_response.c: "skd response": check and print a GLA response read
 * from a file (DER, PEM, the LDIF of its entry) or, by the request's id,
 * from the directory.  See skd-member(1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "client/skd_client.h"
#include "cli/cli.h"

#define DIR_OPTS "uri base bind-dn password-file env as"

static const char response_usage[] =
    "usage: skd response [--CAfile FILE [--CRLfile FILE]] [--cert FILE --key FILE]\n"
    "                    [--request FILE] [--gl NAME] [--from-glo] [--json]\n"
    "                    (FILE|- | --id UUID [--timeout SECONDS] directory options)\n"
    "directory: -H URI (--uri) -b BASE -D DN -y FILE|- [-Z|-ZZ] [-Y EXTERNAL]\n"
    "           | --env FILE [--as NAME]; ldap.conf, LDAPURI, LDAPBASE apply\n"
    "Checks a GLA response (DER, PEM, the LDIF of its entry, or read from the\n"
    "directory by the request's id, waiting --timeout seconds, default 0) and prints\n"
    "every cMCStatusInfoExt.  --from-glo: a GLO's denial of a forwarded\n"
    "request (RFC 5275 3.2.4.1), whose signer is a GLO, not the GLA, so the\n"
    "GL name is not required of its certificate.  See skd-member(1).\n";


/* Checks and prints one response; returns an exit code (*all_ok cleared
 * when it is not a believed success). */
static int
response_one(struct skd_cli_ctx *c, const unsigned char *der, size_t len,
    const struct skd_client_expect *x, json_t *jarr, int *all_ok)
{
	struct skd_client_error e = { 0 };
	struct skd_client_response *resp = NULL;
	BIO *out;
	int rc;

	if (!skd_client_response_check(&resp, der, len, x, &e))
		return skd_cli_client_fail(c, &e);
	if (jarr != NULL) {
		json_array_append_new(jarr, skd_cli_json_response(resp));
	} else if ((out = BIO_new_fp(stdout, BIO_NOCLOSE)) != NULL) {
		if (skd_cli_ctx_flag(c, "from-glo")) {
			BIO_puts(out, "signed by GLO \"");
			X509_NAME_print_ex(out, X509_get_subject_name(
			    resp->gla_cert), 0, XN_FLAG_RFC2253);
			BIO_puts(out, "\"\n");
		} else if (x->gl_name == NULL)
			BIO_puts(out, "note: no GL name given (--gl or "
			    "--request): the GLA's certificate names were not "
			    "checked\n");
		skd_client_response_print(out, resp, 0);
		BIO_free(out);
	}
	*all_ok = *all_ok && skd_client_response_ok(resp);
	/* Shown, but not believed: exit 4 as a failed check. */
	rc = resp->not_believed != NULL ? SKD_EXIT_CRYPTO : SKD_EXIT_OK;
	skd_client_response_free(resp);
	return rc;
}

/* The answers to request id in the directory (--id); an exit code. */
static int
response_by_id(struct skd_cli_ctx *c, const char *id,
    const struct skd_client_expect *x, json_t *jarr, int *all_ok)
{
	struct skd_client_error e = { 0 };
	struct skd_store *s = NULL;
	struct skd_store_blob *msgs = NULL;
	size_t n = 0, i, shown = 0;
	const char *t = skd_cli_ctx_opt(c, "timeout");
	long timeout = 0;
	char *end;
	int rc;

	if (t != NULL && ((timeout = strtol(t, &end, 10)) < 0 ||
	    *end != '\0' || timeout > 86400)) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--timeout: seconds, "
		    "0..86400");
		return SKD_EXIT_USAGE;
	}
	if ((rc = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK)
		return rc;
	if (!skd_client_wait_response(s, &msgs, &n, id, timeout * 1000, &e)) {
		rc = skd_cli_client_fail(c, &e);
		goto done;
	}
	for (i = 0; i < n && rc == SKD_EXIT_OK; i++) {
		/* A glKey message beside the answer: skd member fetch. */
		if (skd_client_message_is_request(msgs[i].data, msgs[i].len,
		    x->ident))
			continue;
		rc = response_one(c, msgs[i].data, msgs[i].len, x, jarr,
		    all_ok);
		shown++;
	}
	if (rc == SKD_EXIT_OK && shown == 0) {
		skd_cli_err(skd_cli_ctx_cmd(c), "the response to %s holds "
		    "only glKey messages (skd member fetch stores them)", id);
		rc = SKD_EXIT_INPUT;
	}
 done:
	skd_store_blobs_free(msgs, n);
	skd_store_close(s);
	return rc;
}

int
skd_cli_response(int argc, char **argv)
{
	struct skd_cli_ctx *c = NULL;
	struct skd_client_ident *id = NULL;
	struct skd_client_expect x;
	struct skd_client_hold *hold = NULL;
	X509_STORE *trust = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	const char *rid;
	char **args;
	json_t *jdoc = NULL, *jarr = NULL;
	int rc, n, all_ok = 1;

	if ((c = skd_cli_ctx_parse("response", argc, argv,
	    "CAfile CRLfile cert key request gl json from-glo mail id timeout "
	    DIR_OPTS, response_usage, &rc)) == NULL)
		return rc;
	rid = skd_cli_ctx_opt(c, "id");
	if ((n = skd_cli_ctx_args(c, &args)) > (rid != NULL ? 0 : 1)) {
		skd_cli_err("response", rid != NULL ? "--id UUID or FILE, not "
		    "both" : "one FILE at most");
		rc = SKD_EXIT_USAGE;
		goto done;
	}
	if (skd_cli_ctx_opt(c, "cert") != NULL &&
	    (rc = skd_cli_ctx_ident(c, &id)) != SKD_EXIT_OK)
		goto done;
	if ((rc = skd_cli_ctx_trust(c, &trust)) != SKD_EXIT_OK)
		goto done;
	if ((rc = skd_cli_expect_request(c, id, &x, &hold)) != SKD_EXIT_OK)
		goto done;
	if (skd_cli_ctx_opt(c, "gl") != NULL)
		x.gl_name = skd_cli_ctx_opt(c, "gl");
	/* A GLO's denial (3.2.4.1) is signed by the GLO, whose certificate
	 * does not name the GL; path, nonce and transactionId still hold. */
	if (skd_cli_ctx_flag(c, "from-glo"))
		x.gl_name = NULL;
	x.trust = trust;
	x.now = time(NULL);
	x.ident = id;
	x.keep_unbound = 1;
	if (skd_cli_json) {
		jdoc = json_pack("{s:[]}", "responses");
		jarr = json_object_get(jdoc, "responses");
		if (rid != NULL)
			json_object_set_new(jdoc, "request", json_string(rid));
	}
	if (rid != NULL) {
		rc = response_by_id(c, rid, &x, jarr, &all_ok);
	} else if ((der = skd_cli_ctx_opt(c, "mail") != NULL ?
	    skd_cli_mail_read_cms("response", skd_cli_ctx_opt(c, "mail"),
	    &len) : skd_cli_read_message("response", n == 1 ? args[0] : NULL,
	    &len)) == NULL) {
		rc = SKD_EXIT_INPUT;
	} else {
		rc = response_one(c, der, len, &x, jarr, &all_ok);
	}
	/* Not believed (exit 4) is still shown, with why. */
	if (jdoc != NULL && (rc == SKD_EXIT_OK ||
	    json_array_size(jarr) > 0)) {
		json_object_set_new(jdoc, "ok", json_boolean(all_ok));
		skd_cli_json_put(jdoc);
		jdoc = NULL;
	}
	if (rc == SKD_EXIT_OK && !all_ok)
		rc = SKD_EXIT_FAIL;
 done:
	json_decref(jdoc);
	OPENSSL_free(der);
	skd_client_hold_free(hold);
	X509_STORE_free(trust);
	skd_client_ident_free(id);
	skd_cli_ctx_free(c);
	return rc;
}
