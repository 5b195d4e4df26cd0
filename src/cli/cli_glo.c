/*
 * cli_glo.c: "skd glo ...": the GL owner's requests to the GLA (RFC 5275
 * 4.1-4.9) and the subcommand table; the member lists from a file
 * (cli_glo_members.c), the review of forwarded requests
 * (cli_glo_review.c) and what the directory shows a GLO
 * (cli_glo_view.c) have their own files.  See skd-glo(1).
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

/* ---- GLO subcommands ---- */

#define KEYATTR_OPTS "admin alg duration generations mutually-aware " \
	"rekey-by-glo"

static const char glo_usage[] =
    "usage: skd glo SUBCOMMAND --gl NAME [options]\n"
    "subcommands:\n"
    "  create        glUseKEK: --owner NAME... [--address NAME]\n"
    "                [--admin unmanaged|managed|closed] [--alg aes128|aes192|aes256]\n"
    "                [--duration DAYS] [--generations N] [--mutually-aware]\n"
    "                [--rekey-by-glo]\n"
    "  delete        glDelete\n"
    "  add-member    glAddMember: --member NAME [--member-cert FILE]\n"
    "                [--member-address NAME] | --member NAME... |\n"
    "                --members-file FILE (lines NAME [CERTFILE])\n"
    "  remove-member glDeleteMember: --member NAME... | --members-file FILE\n"
    "                (many members: requests of at most 500 each, every\n"
    "                member's outcome reported; skd-glo(1), LIMITS)\n"
    "  provide-cert  glProvideCert: ask member --member NAME for a new\n"
    "                certificate, through the GLA (RFC 5275 4.10.1)\n"
    "  add-owner     glAddOwner: --owner NAME [--owner-cert FILE] [--owner-address NAME]\n"
    "  remove-owner  glRemoveOwner: --owner NAME [--owner-address NAME]\n"
    "  rekey         glRekey [--all-keys] [key attribute options as for create]\n"
    "  compromise    glkCompromise\n"
    "  query-algs    glaQueryRequest (no --gl)\n"
    "  list          the GLs we own, as the directory shows them to us [--json]\n"
    "  show          --gl NAME: attributes, owners, members with acknowledged\n"
    "                key ids, outstanding keys with validity [--json]\n"
    "  pending       list the member requests the GLA forwarded to us for\n"
    "                review (managed lists, RFC 5275 3.2.3) [--gl NAME] [--name NAME]\n"
    "  approve       --message ID: resubmit that request signed by us (3.2.5)\n"
    "  deny          --message ID --reason TEXT: the signed denial (cMCStatus\n"
    "                failed, 3.2.4.1), sent through the GLA to the member;\n"
    "                [--out FILE]: written to FILE instead, to deliver yourself\n"
    "common: --cert FILE --key FILE --CAfile FILE [--CRLfile FILE]\n"
    "        (--uri URI --base DN [--bind-dn DN --password-file FILE] | --env FILE [--as NAME])\n"
    "        [--encrypt --gla-cert FILE [--outer-sign]] [--out FILE | --ldif [--submitter-dn DN]]\n"
    "        [--json] [--timeout SECONDS]\n"
    "See skd-glo(1).\n";

/* Parses the key attribute options into p; returns an exit code. */
static int
parse_keyattrs(const struct skd_cli_ctx *c, struct skd_client_gl_params *p)
{
	const char *v;
	char *end;

	p->admin = -1;
	p->alg_nid = 0;
	p->duration = p->generations = -1;
	p->rekey_by_glo = skd_cli_ctx_flag(c, "rekey-by-glo") ? 1 : -1;
	p->not_mutually_aware = skd_cli_ctx_flag(c, "mutually-aware") ? 0 :
	    -1;
	if ((v = skd_cli_ctx_opt(c, "admin")) != NULL) {
		if (strcmp(v, "unmanaged") == 0)
			p->admin = SKD_GL_UNMANAGED;
		else if (strcmp(v, "managed") == 0)
			p->admin = SKD_GL_MANAGED;
		else if (strcmp(v, "closed") == 0)
			p->admin = SKD_GL_CLOSED;
		else
			goto bad;
	}
	if ((v = skd_cli_ctx_opt(c, "alg")) != NULL) {
		if (strcmp(v, "aes128") == 0)
			p->alg_nid = NID_id_aes128_wrap;
		else if (strcmp(v, "aes192") == 0)
			p->alg_nid = NID_id_aes192_wrap;
		else if (strcmp(v, "aes256") == 0)
			p->alg_nid = NID_id_aes256_wrap;
		else
			goto bad;
	}
	if ((v = skd_cli_ctx_opt(c, "duration")) != NULL) {
		p->duration = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || p->duration < 0 ||
		    p->duration > 36500)
			goto bad;
	}
	if ((v = skd_cli_ctx_opt(c, "generations")) != NULL) {
		p->generations = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || p->generations < 2 ||
		    p->generations > 1000)
			goto bad;
	}
	return SKD_EXIT_OK;
 bad:
	skd_cli_err(skd_cli_ctx_cmd(c), "bad key attribute option (--admin "
	    "unmanaged|managed|closed, --alg aes128|aes192|aes256, "
	    "--duration DAYS >= 0, --generations N >= 2)");
	return SKD_EXIT_USAGE;
}

/* Loads an optional certificate option; returns an exit code. */
int
skd_cli_ctx_cert(const struct skd_cli_ctx *c, const char *opt, X509 **out)
{
	struct skd_client_error e = { 0 };
	const char *p = skd_cli_ctx_opt(c, opt);

	*out = NULL;
	if (p == NULL)
		return SKD_EXIT_OK;
	if ((*out = skd_client_cert_load(p, &e)) == NULL)
		return skd_cli_client_fail(c, &e);
	return SKD_EXIT_OK;
}

/* Builds the sub's controls into r; returns an exit code. */
static int
glo_build(const struct skd_cli_ctx *c, const char *sub,
    struct skd_client_request *r, const struct skd_client_ident *id,
    const char *gl)
{
	struct skd_client_error e = { 0 };
	struct skd_client_gl_params p;
	struct skd_client_party party, *owners = NULL;
	const char *const *names;
	size_t n, i;
	X509 *cert = NULL;
	void *v = NULL;
	enum skd_oid oid;
	int rc;

	memset(&party, 0, sizeof(party));
	if (strcmp(sub, "create") == 0) {
		if ((rc = parse_keyattrs(c, &p)) != SKD_EXIT_OK)
			return rc;
		p.name = gl;
		p.address = skd_cli_ctx_opt(c, "address");
		if ((n = skd_cli_ctx_multi(c, "owner", &names)) == 0) {
			skd_cli_err(skd_cli_ctx_cmd(c), "--owner NAME is required "
			    "(RFC 5275 3.1.1: at least one GL owner)");
			return SKD_EXIT_USAGE;
		}
		if ((rc = skd_cli_ctx_cert(c, "owner-cert", &cert)) !=
		    SKD_EXIT_OK)
			return rc;
		if ((owners = calloc(n, sizeof(*owners))) == NULL) {
			X509_free(cert);
			return SKD_EXIT_INTERNAL;
		}
		for (i = 0; i < n; i++)
			owners[i].name = names[i];
		/* The first owner's certificate: --owner-cert, else ours. */
		owners[0].cert = cert != NULL ? cert : id->cert;
		owners[0].address = skd_cli_ctx_opt(c, "owner-address");
		v = skd_client_new_use_kek(&p, owners, n, &e);
		free(owners);
		oid = SKD_OID_GL_USE_KEK;
	} else if (strcmp(sub, "delete") == 0) {
		v = skd_client_new_gname(gl, &e);
		oid = SKD_OID_GL_DELETE;
	} else if (strcmp(sub, "compromise") == 0) {
		v = skd_client_new_gname(gl, &e);
		oid = SKD_OID_GL_KEY_COMPROMISE;
	} else if (strcmp(sub, "provide-cert") == 0) {
		/* RFC 5275 4.10.1: glProvideCert (a GLManageCert without a
		 * certificate) to the GLA, which asks the member. */
		if ((rc = skd_cli_ctx_need(c, "member", "NAME", "",
		    &party.name)) != SKD_EXIT_OK)
			return rc;
		v = skd_client_new_add_member(gl, &party, &e);
		oid = SKD_OID_GL_PROVIDE_CERT;
	} else if (strcmp(sub, "add-owner") == 0 ||
	    strcmp(sub, "remove-owner") == 0) {
		if ((rc = skd_cli_ctx_need(c, "owner", "NAME", "",
		    &party.name)) != SKD_EXIT_OK)
			return rc;
		if ((rc = skd_cli_ctx_cert(c, "owner-cert", &cert)) !=
		    SKD_EXIT_OK)
			return rc;
		party.cert = cert;
		party.address = skd_cli_ctx_opt(c, "owner-address");
		v = skd_client_new_owner_admin(gl, &party, &e);
		oid = sub[0] == 'a' ? SKD_OID_GL_ADD_OWNER :
		    SKD_OID_GL_REMOVE_OWNER;
	} else if (strcmp(sub, "rekey") == 0) {
		if ((rc = parse_keyattrs(c, &p)) != SKD_EXIT_OK)
			return rc;
		v = skd_client_new_rekey(gl, &p, skd_cli_ctx_flag(c,
		    "all-keys") ? 1 : -1, &e);
		oid = SKD_OID_GL_REKEY;
	} else {
		v = skd_client_new_alg_query(&e);
		oid = SKD_OID_GLA_QUERY_REQUEST;
	}
	X509_free(cert);
	if (v == NULL)
		return skd_cli_client_fail(c, &e);
	rc = skd_client_request_add(r, oid, v) > 0 ? SKD_EXIT_OK :
	    SKD_EXIT_INTERNAL;
	ASN1_item_free(v, ASN1_ITEM_ptr(skd_control_by_nid(
	    skd_asn1_nid(oid))->item));
	return rc;
}

/* The requests to the GLA (4.1-4.9): --gl where sub takes it. */
static int
glo_run_request(const struct skd_cli_ctx *c, const struct skd_cli_sub *sub)
{
	const char *gl = NULL;
	int rc;

	if (skd_cli_word_in(sub->allowed, "gl") && (rc = skd_cli_ctx_need(c, "gl",
	    "NAME", " (e.g. URI:https://lists.example.com/staff)", &gl)) !=
	    SKD_EXIT_OK)
		return rc;
	if ((rc = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK)
		return rc;
	if (strcmp(sub->name, "add-member") == 0 ||
	    strcmp(sub->name, "remove-member") == 0)
		return skd_cli_glo_members(c, gl, sub->name[0] == 'a');
	return skd_cli_submit(c, sub->name, gl, glo_build);
}

static const struct skd_cli_sub glo_subs[] = {
	{ "create", SKD_CLI_REQ_OPTS " gl address owner owner-cert "
	    "owner-address " KEYATTR_OPTS, glo_run_request },
	{ "delete", SKD_CLI_REQ_OPTS " gl", glo_run_request },
	{ "add-member", SKD_CLI_REQ_OPTS " gl member member-cert "
	    "member-address members-file", glo_run_request },
	{ "remove-member", SKD_CLI_REQ_OPTS " gl member members-file",
	    glo_run_request },
	{ "provide-cert", SKD_CLI_REQ_OPTS " gl member", glo_run_request },
	{ "add-owner", SKD_CLI_REQ_OPTS " gl owner owner-cert owner-address",
	    glo_run_request },
	{ "remove-owner", SKD_CLI_REQ_OPTS " gl owner owner-cert "
	    "owner-address", glo_run_request },
	{ "rekey", SKD_CLI_REQ_OPTS " gl all-keys " KEYATTR_OPTS,
	    glo_run_request },
	{ "compromise", SKD_CLI_REQ_OPTS " gl", glo_run_request },
	{ "query-algs", SKD_CLI_REQ_OPTS, glo_run_request },
	{ "pending", SKD_CLI_REVIEW_OPTS, skd_cli_glo_run_review },
	{ "list", SKD_CLI_VIEW_OPTS, skd_cli_glo_run_list },
	{ "show", SKD_CLI_VIEW_OPTS, skd_cli_glo_run_show },
	{ "approve", SKD_CLI_REQ_OPTS " gl name message",
	    skd_cli_glo_run_review },
	{ "deny", SKD_CLI_REVIEW_OPTS " reason out encrypt gla-cert "
	    "outer-sign", skd_cli_glo_run_review },
};

int
skd_cli_glo(int argc, char **argv)
{
	return skd_cli_dispatch("glo", glo_subs,
	    sizeof(glo_subs) / sizeof(glo_subs[0]), glo_usage, argc, argv);
}
