/*
 * cli_sub.c: the subcommand dispatcher "skd glo" and "skd member" share:
 * look the subcommand up in a table, parse its options, check the common
 * operands and, for the request subcommands, build, submit and check.
 */
#include <stdio.h>
#include <string.h>

#include "client/skd_client.h"
#include "cli/cli.h"

int
skd_cli_dispatch(const char *cmd, const struct skd_cli_sub *subs,
    size_t n_subs, const char *usage, int argc, char **argv)
{
	struct skd_cli_ctx *c;
	const struct skd_cli_sub *sub = NULL;
	char name[64];
	size_t i;
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? SKD_EXIT_USAGE : SKD_EXIT_OK;
	}
	for (i = 0; i < n_subs; i++) {
		if (strcmp(argv[1], subs[i].name) == 0)
			sub = &subs[i];
	}
	if (sub == NULL) {
		skd_cli_err(cmd, "unknown subcommand '%s' (try skd %s --help)",
		    argv[1], cmd);
		return SKD_EXIT_USAGE;
	}
	snprintf(name, sizeof(name), "%s %s", cmd, sub->name);
	if ((c = skd_cli_ctx_parse(name, argc - 1, argv + 1, sub->allowed,
	    usage, &rc)) == NULL)
		return rc;
	rc = sub->run(c, sub);
	skd_cli_ctx_free(c);
	return rc;
}

int
skd_cli_ctx_no_args(const struct skd_cli_ctx *c)
{
	char **args;

	if (skd_cli_ctx_args(c, &args) != 0) {
		skd_cli_err(skd_cli_ctx_cmd(c), "unexpected argument '%s'",
		    args[0]);
		return SKD_EXIT_USAGE;
	}
	return SKD_EXIT_OK;
}

int
skd_cli_ctx_need(const struct skd_cli_ctx *c, const char *opt,
    const char *meta, const char *hint, const char **out)
{
	if ((*out = skd_cli_ctx_opt(c, opt)) == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--%s %s is required%s", opt,
		    meta, hint);
		return SKD_EXIT_USAGE;
	}
	return SKD_EXIT_OK;
}

int
skd_cli_submit(const struct skd_cli_ctx *c, const char *sub, const char *gl,
    skd_cli_build_fn build)
{
	struct skd_client_ident *id = NULL;
	struct skd_client_request *r = NULL;
	struct skd_client_error e = { 0 };
	int rc;

	if ((rc = skd_cli_ctx_ident(c, &id)) != SKD_EXIT_OK)
		goto done;
	if ((r = skd_client_request_new(&e)) == NULL) {
		rc = skd_cli_client_fail(c, &e);
		goto done;
	}
	if ((rc = build(c, sub, r, id, gl)) != SKD_EXIT_OK)
		goto done;
	rc = skd_cli_run_request(c, r, id, gl);
 done:
	skd_client_request_free(r);
	skd_client_ident_free(id);
	return rc;
}
