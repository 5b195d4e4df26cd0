/*
 * cli_glo_review.c: "skd glo pending|approve|deny": the member requests a
 * GLA forwarded to us for a managed list (RFC 5275 3.2.3-3.2.5), verified,
 * listed, resubmitted or denied.  See skd-glo(1).
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

/* A forwarded request as JSON: message, gl, signer, signingTime, gla,
 * forwardedAt, controls. */
static json_t *
forward_json(const char *mid, const struct skd_client_forward *f)
{
	char fa[16], st[16];
	json_t *o, *ctl;
	size_t i;

	skd_store_time_str(fa, f->forwarded_at);
	skd_store_time_str(st, f->signing_time);
	if ((o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "message", mid, "gl",
	    f->gl_name, "signer", f->signer, "signingTime", st, "gla",
	    f->gla_subject, "forwardedAt", fa)) == NULL)
		return NULL;
	if ((ctl = json_array()) != NULL) {
		for (i = 0; i < f->n_controls; i++)
			json_array_append_new(ctl,
			    json_string(f->controls[i]));
		json_object_set_new(o, "controls", ctl);
	}
	return o;
}

static void
print_forward(BIO *out, const char *mid, const struct skd_client_forward *f)
{
	char fa[16], st[16];
	size_t i;

	skd_store_time_str(fa, f->forwarded_at);
	skd_store_time_str(st, f->signing_time);
	BIO_printf(out, "message %s: %s asks", mid, f->gl_name);
	for (i = 0; i < f->n_controls; i++)
		BIO_printf(out, "%s %s", i > 0 ? "," : "", f->controls[i]);
	BIO_printf(out, "; signed by \"%s\" at %s; forwarded by GLA \"%s\" "
	    "at %s\n", f->signer, st, f->gla_subject, fa);
}

/*
 * skd glo pending / approve / deny: the forwarded requests addressed to
 * us (GLA messages of type "forward" naming our name, readable by our DN:
 * docs/directory.md), each verified before it is shown or acted on.
 */
static int
glo_review(const struct skd_cli_ctx *c, const char *sub)
{
	struct skd_client_error e = { 0 };
	struct skd_client_ident *id = NULL;
	struct skd_client_forward *f = NULL;
	struct skd_client_request *r = NULL;
	struct skd_client_expect nx;
	struct skd_store *s = NULL;
	struct skd_store_message *list = NULL;
	X509_STORE *trust = NULL;
	const char *gl = skd_cli_ctx_opt(c, "gl"), *mid;
	const char *reason = skd_cli_ctx_opt(c, "reason");
	unsigned char *der = NULL;
	size_t n = 0, i, der_len = 0, shown = 0;
	char *me = NULL;
	int rc, json = skd_cli_ctx_flag(c, "json"), found = 0;
	json_t *jarr = NULL;
	BIO *out = NULL;

	mid = skd_cli_ctx_opt(c, "message");
	if (strcmp(sub, "pending") != 0 && mid == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--message ID is required (see skd glo "
		    "pending)");
		return SKD_EXIT_USAGE;
	}
	if (strcmp(sub, "deny") == 0 && reason == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--reason TEXT is required");
		return SKD_EXIT_USAGE;
	}
	if ((rc = skd_cli_ctx_ident(c, &id)) != SKD_EXIT_OK)
		return rc;
	if ((me = skd_cli_my_name(c, id->cert)) == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "cannot tell our name from the "
		    "certificate: give --name NAME");
		rc = SKD_EXIT_USAGE;
		goto done;
	}
	if ((rc = skd_cli_ctx_trust(c, &trust)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK)
		goto done;
	if (!skd_store_find_messages(s, &list, &n, me)) {
		skd_cli_err(skd_cli_ctx_cmd(c), "reading the GLA's messages: %s",
		    skd_store_errmsg(s));
		rc = SKD_EXIT_DIRECTORY;
		goto done;
	}
	out = BIO_new_fp(stdout, BIO_NOCLOSE);
	if (json && strcmp(sub, "pending") == 0 &&
	    (jarr = json_array()) == NULL) {
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (list[i].type == NULL || strcmp(list[i].type, "forward") != 0)
			continue;
		if (mid != NULL && strcmp(list[i].id, mid) != 0)
			continue;
		found = 1;
		skd_client_forward_free(f);
		f = NULL;
		if (!skd_client_forward_open(&f, list[i].message,
		    list[i].message_len, trust, time(NULL), id, &e)) {
			skd_cli_err(skd_cli_ctx_cmd(c), "message %s: %s", list[i].id, e.msg);
			rc = skd_cli_exit_of(&e);
			if (mid != NULL)
				goto done;
			continue;
		}
		if (gl != NULL) {
			GENERAL_NAME *a = skd_gname_from_text(gl);
			GENERAL_NAME *b = skd_gname_from_text(f->gl_name);
			int same = a != NULL && b != NULL &&
			    GENERAL_NAME_cmp(a, b) == 0;

			GENERAL_NAME_free(a);
			GENERAL_NAME_free(b);
			if (!same)
				continue;
		}
		if (strcmp(sub, "pending") == 0) {
			if (jarr != NULL)
				json_array_append_new(jarr,
				    forward_json(list[i].id, f));
			else
				print_forward(out, list[i].id, f);
			shown++;
			continue;
		}
		if (strcmp(sub, "deny") == 0 &&
		    skd_cli_ctx_opt(c, "out") == NULL) {
			/* RFC 5275 3.2.4.1: through the GLA, which checks
			 * the forward is its own and publishes the denial
			 * for the member. */
			if (!skd_client_denial_request(&r, f, reason, id,
			    time(NULL), &e)) {
				rc = skd_cli_client_fail(c, &e);
				goto done;
			}
			BIO_flush(out);
			rc = skd_cli_run_request_ex(c, r, id, f->gl_name,
			    NULL);
			if (rc == SKD_EXIT_OK)
				fprintf(stderr, "skd: %s: denial of message %s "
				    "sent to the member through the GLA\n",
				    skd_cli_ctx_cmd(c), list[i].id);
			goto done;
		}
		if (strcmp(sub, "deny") == 0) {
			if (!skd_client_denial_build(&der, &der_len, f, reason,
			    id, time(NULL), &e)) {
				rc = skd_cli_client_fail(c, &e);
				goto done;
			}
			rc = skd_cli_write_file(c, skd_cli_ctx_opt(c, "out"),
			    der, der_len);
			if (rc == SKD_EXIT_OK)
				fprintf(stderr, "skd: %s: denial of message %s "
				    "written to %s; deliver it to the member "
				    "(skd-glo(1))\n", skd_cli_ctx_cmd(c), list[i].id,
				    skd_cli_ctx_opt(c, "out"));
			goto done;
		}
		/* RFC 5275 3.2.5: approve by resubmitting the forwarded
		 * message inside a PKIData we sign. */
		if (f->was_encrypted && !skd_cli_ctx_flag(c, "encrypt"))
			fprintf(stderr, "skd: %s: the member's request came "
			    "encrypted; consider --encrypt --gla-cert FILE "
			    "(RFC 5275 3.2.1.2)\n", skd_cli_ctx_cmd(c));
		if ((r = skd_client_request_new(&e)) == NULL ||
		    skd_client_request_add_cms(r, f->resubmit,
		    f->resubmit_len) == 0) {
			rc = e.code != SKD_CLIENT_OK ?
			    skd_cli_client_fail(c, &e) : SKD_EXIT_INTERNAL;
			goto done;
		}
		BIO_flush(out);
		memset(&nx, 0, sizeof(nx));
		nx.trust = trust;
		nx.now = time(NULL);
		nx.gl_name = f->gl_name;
		nx.nonce = f->nonce;
		nx.nonce_len = f->nonce_len;
		nx.tid = f->tid;
		nx.ident = id;
		rc = skd_cli_run_request_ex(c, r, id, f->gl_name, &nx);
		goto done;
	}
	if (jarr != NULL && rc == SKD_EXIT_OK && mid == NULL) {
		skd_cli_json_put(jarr);
		jarr = NULL;
	}
	if (mid != NULL && rc == SKD_EXIT_OK) {
		skd_cli_err(skd_cli_ctx_cmd(c), "no forwarded request %s addressed to %s",
		    mid, me);
		rc = found ? SKD_EXIT_FAIL : SKD_EXIT_INPUT;
	} else if (!json && shown == 0 && rc == SKD_EXIT_OK) {
		BIO_puts(out, "no forwarded requests\n");
	}
 done:
	json_decref(jarr);
	BIO_free(out);
	OPENSSL_free(der);
	skd_client_request_free(r);
	skd_client_forward_free(f);
	skd_store_message_list_free(list, n);
	skd_store_close(s);
	X509_STORE_free(trust);
	OPENSSL_free(me);
	skd_client_ident_free(id);
	return rc;
}

/* pending, approve, deny: the requests forwarded to us (3.2.3-3.2.5). */
int
skd_cli_glo_run_review(const struct skd_cli_ctx *c, const struct skd_cli_sub *sub)
{
	int rc;

	if ((rc = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK)
		return rc;
	return glo_review(c, sub->name);
}

