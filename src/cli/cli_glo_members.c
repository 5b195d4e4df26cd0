/*
 * cli_glo_members.c: "skd glo add-member --members-file FILE": one
 * glAddMember per line, in as many requests as the GLA's per-message
 * limit needs.  See skd-glo(1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "client/skd_client.h"
#include "cli/cli.h"

/* The members a --members-file names (lines "NAME [CERTFILE]", # and
 * blank lines skipped). */
static int
count_members(FILE *f)
{
	char line[4096], *name, *save = NULL;
	int total = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if ((name = strtok_r(line, " \t", &save)) != NULL &&
		    name[0] != '#')
			total++;
	}
	rewind(f);
	return total;
}

/* glAddMember into r for the next lines of f, at most max members;
 * *lineno and *done advance.  An exit code. */
static int
add_members_chunk(const struct skd_cli_ctx *c, struct skd_client_request *r,
    const char *gl, FILE *f, const char *path, int *lineno, int max,
    int *done, int total)
{
	struct skd_client_error e = { 0 };
	struct skd_client_party m;
	SKD_GL_ADD_MEMBER *am;
	char line[4096], *name, *cert, *save = NULL;
	X509 *x;
	int n = 0, tty = isatty(STDERR_FILENO);

	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		(*lineno)++;
		line[strcspn(line, "\r\n")] = '\0';
		if ((name = strtok_r(line, " \t", &save)) == NULL ||
		    name[0] == '#')
			continue;
		cert = strtok_r(NULL, " \t", &save);
		x = NULL;
		if (cert != NULL && (x = skd_client_cert_load(cert, &e)) ==
		    NULL)
			break;
		memset(&m, 0, sizeof(m));
		m.name = name;
		m.cert = x;
		am = skd_client_new_add_member(gl, &m, &e);
		X509_free(x);
		if (am == NULL)
			break;
		if (skd_client_request_add(r, SKD_OID_GL_ADD_MEMBER, am) == 0) {
			SKD_GL_ADD_MEMBER_free(am);
			e.code = SKD_CLIENT_ERR_INTERNAL;
			snprintf(e.msg, sizeof(e.msg), "cannot add a control");
			break;
		}
		SKD_GL_ADD_MEMBER_free(am);
		n++;
		(*done)++;
		e.code = SKD_CLIENT_OK;
		/* On a TTY, "n/N added" is updated in place. */
		if (tty) {
			fprintf(stderr, "\r%d/%d added", *done, total);
			fflush(stderr);
		}
	}
	if (tty && n > 0)
		fputc('\n', stderr);
	if (e.code != SKD_CLIENT_OK) {
		skd_cli_err(skd_cli_ctx_cmd(c), "%s line %d: %s", path, *lineno, e.msg);
		return skd_cli_exit_of(&e);
	}
	return SKD_EXIT_OK;
}

/*
 * skd glo add-member --members-file FILE: one glAddMember per member, in
 * requests of at most SKD_CLIENT_MAX_CONTROLS members each (the GLA
 * refuses a PKIData with more, RFC 5275 3.2.2 leaves the bound to it:
 * skd-gla(8), LIMITS), submitted one after the other, each answer checked
 * and printed.  With --out FILE and more than one request they are
 * written to FILE.1, FILE.2, ...  Exit: the worst of the requests.
 */
int
skd_cli_glo_members_file(const struct skd_cli_ctx *c, const char *gl)
{
	struct skd_client_ident *id = NULL;
	struct skd_client_request *r = NULL;
	struct skd_client_error e = { 0 };
	const char *path = skd_cli_ctx_opt(c, "members-file");
	FILE *f;
	int rc, worst = SKD_EXIT_OK, total, done = 0, lineno = 0, k = 0;
	int n_req;

	if (skd_cli_ctx_opt(c, "member") != NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--member or --members-file, not both");
		return SKD_EXIT_USAGE;
	}
	if ((f = fopen(path, "r")) == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "%s: %s", path, strerror(errno));
		return SKD_EXIT_INPUT;
	}
	if ((total = count_members(f)) == 0) {
		skd_cli_err(skd_cli_ctx_cmd(c), "%s: no members", path);
		fclose(f);
		return SKD_EXIT_INPUT;
	}
	n_req = (total + SKD_CLIENT_MAX_CONTROLS - 1) /
	    SKD_CLIENT_MAX_CONTROLS;
	if ((rc = skd_cli_ctx_ident(c, &id)) != SKD_EXIT_OK)
		goto done;
	while (done < total) {
		if ((r = skd_client_request_new(&e)) == NULL) {
			rc = skd_cli_client_fail(c, &e);
			goto done;
		}
		if ((rc = add_members_chunk(c, r, gl, f, path, &lineno,
		    SKD_CLIENT_MAX_CONTROLS, &done, total)) != SKD_EXIT_OK)
			goto done;
		k++;
		if (n_req > 1)
			fprintf(stderr, "skd: %s: request %d of %d: members "
			    "%d to %d\n", skd_cli_ctx_cmd(c), k, n_req, done -
			    (done - 1) % SKD_CLIENT_MAX_CONTROLS, done);
		skd_cli_out_index = n_req > 1 ? k : 0;
		rc = skd_cli_run_request(c, r, id, gl);
		skd_cli_out_index = 0;
		skd_client_request_free(r);
		r = NULL;
		/* The GLA answered (maybe failed): go on with the rest; the
		 * directory or our own input failing ends it. */
		if (rc != SKD_EXIT_OK && rc != SKD_EXIT_FAIL) {
			worst = rc;
			goto done;
		}
		if (worst == SKD_EXIT_OK)
			worst = rc;
	}
	rc = worst;
 done:
	fclose(f);
	skd_client_request_free(r);
	skd_client_ident_free(id);
	return rc;
}

