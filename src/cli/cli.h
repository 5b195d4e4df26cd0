/*
 * cli.h: the skd command line.  Thin: parse arguments, call the library,
 * print.  Exit codes are documented in docs/man/skd.1.
 */
#ifndef SKD_CLI_H
#define SKD_CLI_H

#include <stddef.h>

/* Exit codes shared by every subcommand. */
enum skd_exit {
	SKD_EXIT_OK = 0,
	SKD_EXIT_FAIL = 1,	/* the operation ran and failed (e.g. a CMC failure) */
	SKD_EXIT_USAGE = 2,	/* bad arguments */
	SKD_EXIT_INPUT = 3,	/* unreadable or malformed input */
	SKD_EXIT_CRYPTO = 4,	/* a signature, path or decryption failed */
	SKD_EXIT_DIRECTORY = 5,	/* the directory could not be reached or refused */
	SKD_EXIT_INTERNAL = 70
};

struct skd_cmd {
	const char	*name;
	const char	*summary;
	int		(*run)(int argc, char **argv);
};

/* cli_dump.c */
int skd_cli_dump(int argc, char **argv);

/* cli_util.c */

/*
 * skd_cli_read_input reads FILE ("-" or NULL for stdin), at most max_len
 * bytes.  PEM input (any "-----BEGIN x-----" label) is decoded to DER.
 * Returns a malloc'd buffer (caller frees) or NULL after printing one
 * clear line to stderr.
 */
unsigned char *skd_cli_read_input(const char *path, size_t max_len,
    size_t *out_len);

/* skd_cli_err prints "skd: <cmd>: <message>" and, if any, the first
 * OpenSSL error, then clears the OpenSSL error queue. */
void skd_cli_err(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
