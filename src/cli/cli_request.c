/*
 * cli_request.c: "skd request ...": a submitted request by its id.
 *
 *   skd request show --id UUID     its state (and the GLA's reason when it
 *                                  failed it unanswered)
 *   skd request cancel --id UUID   withdraw it while still pending
 *
 * The shipped ACLs let a submitter read its request's state and error and
 * delete its own request entry; cancel deletes only while the request is
 * pending (an assertion on the delete), so the GLA never loses one it has
 * begun.  skd-member(1), REQUESTS.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "client/skd_client.h"
#include "cli/cli.h"

#define REQUEST_OPTS "id uri base bind-dn password-file env as json"

static const char request_usage[] =
    "usage: skd request SUBCOMMAND --id UUID [directory options] [--json]\n"
    "subcommands:\n"
    "  show        the request's state (pending, claimed, journaled, done,\n"
    "              failed) and the GLA's reason when it failed it unanswered\n"
    "  cancel      withdraw the request while it is still pending\n"
    "directory: -H URI (--uri) -b BASE (--base) -D DN (--bind-dn)\n"
    "           -y FILE|- (--password-file) [-Z|-ZZ] [-Y EXTERNAL]\n"
    "           | --env FILE [--as NAME]; ldap.conf and LDAPURI, LDAPBASE,\n"
    "           LDAPTLS_CACERT apply as for ldapsearch\n"
    "Read the answer with skd response --id UUID.  See skd-member(1).\n";

static int
request_run(const struct skd_cli_ctx *c, const struct skd_cli_sub *sub)
{
	struct skd_client_error e = { 0 };
	struct skd_store_request *r = NULL;
	struct skd_store *s = NULL;
	const char *id;
	int rc;

	if ((rc = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_need(c, "id", "UUID", "", &id)) != SKD_EXIT_OK)
		return rc;
	if ((rc = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK)
		return rc;
	if (strcmp(sub->name, "cancel") == 0) {
		if (!skd_client_withdraw(s, id, &e)) {
			rc = skd_cli_client_fail(c, &e);
			goto done;
		}
		if (skd_cli_json)
			skd_cli_json_put(json_pack("{s:s,s:b}", "request", id,
			    "withdrawn", 1));
		else
			printf("request %s withdrawn\n", id);
		rc = SKD_EXIT_OK;
		goto done;
	}
	if (!skd_store_read_request(s, &r, id)) {
		skd_cli_err(skd_cli_ctx_cmd(c), "request %s: %s", id,
		    skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND ?
		    "no such request (withdrawn, or finished and removed)" :
		    skd_store_errmsg(s));
		rc = skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND ?
		    SKD_EXIT_INPUT : SKD_EXIT_DIRECTORY;
		goto done;
	}
	if (skd_cli_json) {
		json_t *o = json_pack("{s:s,s:s}", "request", id, "state",
		    r->state != NULL ? r->state : "unknown");

		if (o != NULL && r->error != NULL)
			json_object_set_new(o, "error", json_string(r->error));
		skd_cli_json_put(o);
	} else {
		printf("request %s: %s%s%s\n", id, r->state != NULL ?
		    r->state : "unknown", r->error != NULL ? ": " : "",
		    r->error != NULL ? r->error : "");
	}
	rc = SKD_EXIT_OK;
 done:
	skd_store_request_free(r);
	skd_store_close(s);
	return rc;
}

static const struct skd_cli_sub request_subs[] = {
	{ "show", REQUEST_OPTS, request_run },
	{ "cancel", REQUEST_OPTS, request_run },
};

int
skd_cli_request(int argc, char **argv)
{
	return skd_cli_dispatch("request", request_subs,
	    sizeof(request_subs) / sizeof(request_subs[0]), request_usage,
	    argc, argv);
}
