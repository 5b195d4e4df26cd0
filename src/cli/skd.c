/*
 * skd: the command line of the skd Group List Agent (RFC 5275).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "skd/skd.h"

static int cmd_version(int, char **);
static int cmd_help(int, char **);

static const struct skd_cmd cmds[] = {
	{ "dump", "print any SKD/CMC message layer by layer", skd_cli_dump },
	{ "glo", "GL owner requests: create, add-member, rekey, ...",
	    skd_cli_glo },
	{ "member", "GL member: join, fetch keys, encrypt, decrypt, ...",
	    skd_cli_member },
	{ "response", "check and print a GLA response (file or --id UUID)",
	    skd_cli_response },
	{ "request", "a submitted request: show its state, cancel it",
	    skd_cli_request },
	{ "gla", "run the GLA worker daemon (skd gla run --config FILE)",
	    skd_cli_gla },
	{ "status", "show the GLA's status and request backlog",
	    skd_cli_status },
	{ "version", "print the version", cmd_version },
	{ "help", "list the commands", cmd_help },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: skd <command> [options] [args]\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n'skd <command> --help' describes a command; "
	    "man skd lists the exit codes.\n");
}

static int
cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("skd %s\n", SKD_VERSION_TEXT);
	return SKD_EXIT_OK;
}

static int
cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return SKD_EXIT_OK;
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return SKD_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(argc - 1, argv + 1);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "skd: unknown command '%s' (try 'skd help')\n",
	    argv[1]);
	return SKD_EXIT_USAGE;
}
