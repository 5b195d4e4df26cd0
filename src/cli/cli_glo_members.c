/*
 * cli_glo_members.c: "skd glo add-member" and "skd glo remove-member" of
 * any number of members (--member, repeated, or --members-file FILE): one
 * glAddMember or glDeleteMember per member, in as many requests as the
 * GLA's per-request limit needs (skd_client_batch), each answer checked
 * and every member's outcome reported.  See skd-glo(1), LIMITS.
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
static size_t
count_members(FILE *f)
{
	char line[4096], *name, *save = NULL;
	size_t total = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if ((name = strtok_r(line, " \t", &save)) != NULL &&
		    name[0] != '#')
			total++;
	}
	rewind(f);
	return total;
}

/* One batch being sent: the command, who signs, the GL, and the worst
 * exit of its requests. */
struct members_run {
	const struct skd_cli_ctx	*c;
	const struct skd_client_ident	*id;
	const char			*gl;
	int				 add;
	size_t				 total, done, n_req;
	int				 tty;
	int				 worst;
};

/* skd_client_batch callback: request k of the batch, submitted (or
 * written, --out FILE.k), its answer checked and each member's outcome
 * reported (skd_cli_run_request with skd_cli_members).  The GLA answered
 * (maybe failed some): go on; the directory or our input failing stops
 * the batch. */
static int
send_request(void *arg, struct skd_client_request *r, size_t k,
    const struct skd_client_batch_item *items, size_t n,
    struct skd_client_error *err)
{
	struct members_run *mr = arg;
	int rc;

	if (mr->tty && mr->done > 0)
		fputc('\n', stderr);
	if (mr->n_req > 1)
		fprintf(stderr, "skd: %s: request %zu of %zu: members %zu to "
		    "%zu\n", skd_cli_ctx_cmd(mr->c), k, mr->n_req,
		    mr->done - n + 1, mr->done);
	skd_cli_out_index = mr->n_req > 1 ? (int)k : 0;
	skd_cli_members = items;
	skd_cli_n_members = n;
	rc = skd_cli_run_request(mr->c, r, mr->id, mr->gl);
	skd_cli_out_index = 0;
	skd_cli_members = NULL;
	skd_cli_n_members = 0;
	if (rc != SKD_EXIT_OK && rc != SKD_EXIT_FAIL) {
		mr->worst = rc;
		err->code = SKD_CLIENT_ERR_REFUSED;
		snprintf(err->msg, sizeof(err->msg), "stopped after request "
		    "%zu of %zu", k, mr->n_req);
		return 0;
	}
	if (mr->worst == SKD_EXIT_OK)
		mr->worst = rc;
	return 1;
}

/* Adds one member's control to the batch; an exit code. */
static int
add_one(struct members_run *mr, struct skd_client_batch *b,
    const char *name, const char *cert_file, const char *address,
    const char *where)
{
	struct skd_client_error e = { 0 };
	struct skd_client_party m;
	void *v = NULL;
	X509 *x = NULL;
	int ok;

	if (cert_file != NULL && (x = skd_client_cert_load(cert_file, &e)) ==
	    NULL)
		goto err;
	memset(&m, 0, sizeof(m));
	m.name = name;
	m.cert = x;
	m.address = address;
	if (mr->add)
		v = skd_client_new_add_member(mr->gl, &m, &e);
	else
		v = skd_client_new_delete_member(mr->gl, name, &e);
	X509_free(x);
	if (v == NULL)
		goto err;
	ok = skd_client_batch_add(b, mr->add ? SKD_OID_GL_ADD_MEMBER :
	    SKD_OID_GL_DELETE_MEMBER, v, name, &e);
	if (mr->add)
		SKD_GL_ADD_MEMBER_free(v);
	else
		SKD_GL_DELETE_MEMBER_free(v);
	if (!ok) {
		/* A request of the batch stopped it: said already. */
		if (mr->worst != SKD_EXIT_OK && mr->worst != SKD_EXIT_FAIL)
			return mr->worst;
		goto err;
	}
	mr->done++;
	/* On a TTY, "n/N added" is updated in place. */
	if (mr->tty) {
		fprintf(stderr, "\r%zu/%zu %s", mr->done, mr->total, mr->add ?
		    "added" : "removed");
		fflush(stderr);
	}
	return SKD_EXIT_OK;
 err:
	skd_cli_err(skd_cli_ctx_cmd(mr->c), "%s: %s", where, e.msg);
	return skd_cli_exit_of(&e);
}

/* The members of --members-file path into the batch; an exit code. */
static int
members_from_file(struct members_run *mr, struct skd_client_batch *b,
    FILE *f, const char *path)
{
	char line[4096], where[4200], *name, *cert, *save = NULL;
	int lineno = 0, rc;

	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if ((name = strtok_r(line, " \t", &save)) == NULL ||
		    name[0] == '#')
			continue;
		cert = strtok_r(NULL, " \t", &save);
		if (cert != NULL && !mr->add) {
			skd_cli_err(skd_cli_ctx_cmd(mr->c), "%s line %d: "
			    "remove-member takes names only", path, lineno);
			return SKD_EXIT_INPUT;
		}
		snprintf(where, sizeof(where), "%s line %d", path, lineno);
		if ((rc = add_one(mr, b, name, cert, NULL, where)) !=
		    SKD_EXIT_OK)
			return rc;
	}
	return SKD_EXIT_OK;
}

/*
 * skd glo add-member|remove-member: one control per member, in requests
 * of at most SKD_CLIENT_MAX_CONTROLS members each (the GLA refuses a
 * PKIData with more, RFC 5275 3.2.2 leaves the bound to it: skd-gla(8),
 * LIMITS), submitted one after the other, each answer checked and printed
 * with every member's outcome.  With --out FILE and more than one request
 * they are written to FILE.1, FILE.2, ...  Exit: 0 when every member
 * succeeded, 1 when the GLA failed some (all requests are still sent),
 * else what stopped the batch.
 */
int
skd_cli_glo_members(const struct skd_cli_ctx *c, const char *gl, int add)
{
	struct skd_client_ident *id = NULL;
	struct skd_client_batch *b = NULL;
	struct skd_client_error e = { 0 };
	struct members_run mr;
	const char *path = skd_cli_ctx_opt(c, "members-file");
	const char *const *names;
	size_t n_names, i;
	FILE *f = NULL;
	int rc;

	memset(&mr, 0, sizeof(mr));
	mr.c = c;
	mr.gl = gl;
	mr.add = add;
	n_names = skd_cli_ctx_multi(c, "member", &names);
	if (path != NULL && n_names > 0) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--member or --members-file, "
		    "not both");
		return SKD_EXIT_USAGE;
	}
	if (path == NULL && n_names == 0) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--member NAME (repeatable) or "
		    "--members-file FILE is required");
		return SKD_EXIT_USAGE;
	}
	if ((skd_cli_ctx_opt(c, "member-cert") != NULL ||
	    skd_cli_ctx_opt(c, "member-address") != NULL) && n_names != 1) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--member-cert and "
		    "--member-address go with one --member (a --members-file "
		    "line is \"NAME [CERTFILE]\")");
		return SKD_EXIT_USAGE;
	}
	if (path != NULL) {
		if ((f = fopen(path, "r")) == NULL) {
			skd_cli_err(skd_cli_ctx_cmd(c), "%s: %s", path,
			    strerror(errno));
			return SKD_EXIT_INPUT;
		}
		if ((mr.total = count_members(f)) == 0) {
			skd_cli_err(skd_cli_ctx_cmd(c), "%s: no members", path);
			fclose(f);
			return SKD_EXIT_INPUT;
		}
		/* Progress only for a file on a TTY (a few --member need
		 * none). */
		mr.tty = isatty(STDERR_FILENO);
	} else {
		mr.total = n_names;
	}
	mr.n_req = skd_client_batch_requests(mr.total, 0);
	if ((rc = skd_cli_ctx_ident(c, &id)) != SKD_EXIT_OK)
		goto done;
	mr.id = id;
	if ((b = skd_client_batch_new(0, send_request, &mr, &e)) == NULL) {
		rc = skd_cli_client_fail(c, &e);
		goto done;
	}
	if (f != NULL) {
		rc = members_from_file(&mr, b, f, path);
	} else {
		rc = SKD_EXIT_OK;
		for (i = 0; i < n_names && rc == SKD_EXIT_OK; i++)
			rc = add_one(&mr, b, names[i], i == 0 ?
			    skd_cli_ctx_opt(c, "member-cert") : NULL, i == 0 ?
			    skd_cli_ctx_opt(c, "member-address") : NULL,
			    "--member");
	}
	if (rc != SKD_EXIT_OK)
		goto done;
	if (!skd_client_batch_finish(b, &e)) {
		rc = mr.worst != SKD_EXIT_OK && mr.worst != SKD_EXIT_FAIL ?
		    mr.worst : skd_cli_client_fail(c, &e);
		goto done;
	}
	rc = mr.worst;
 done:
	if (f != NULL)
		fclose(f);
	skd_client_batch_free(b);
	skd_client_ident_free(id);
	return rc;
}
