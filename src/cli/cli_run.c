/*
 * cli_run.c: a request's way out, shared by "skd glo" and "skd member":
 * protect it, then write it (--out), print it as LDIF for ldapadd
 * (--ldif) or submit it, wait for the answer (saying where the request
 * is when Ctrl-C ends the wait), check and print it; and the one-call
 * form that builds the request first (skd_cli_submit).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "client/skd_client.h"
#include "cli/cli.h"

/* ---- writing a request instead of submitting it ---- */

int
skd_cli_write_file(const struct skd_cli_ctx *c, const char *path,
    const unsigned char *p, size_t len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
	int ok;

	if (f == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "%s: %s", path, strerror(errno));
		return SKD_EXIT_INPUT;
	}
	ok = fwrite(p, 1, len, f) == len;
	if (f != stdout)
		ok = fclose(f) == 0 && ok;
	else
		ok = fflush(f) == 0 && ok;
	if (!ok) {
		skd_cli_err(skd_cli_ctx_cmd(c), "%s: write failed", path);
		return SKD_EXIT_INPUT;
	}
	return SKD_EXIT_OK;
}

/*
 * An LDIF add of the request for ldapadd (docs/man/skd-glo.1), exactly
 * the entry docs/directory.md "Submitting without skd" describes: the
 * shipped ACLs let a submitter add a request only with these attributes
 * and skdSubmitterDN equal to the DN it binds as, which is therefore
 * required (--submitter-dn, else the bind DN).
 */
static int
print_ldif(const struct skd_cli_ctx *c, const unsigned char *der, size_t len)
{
	char id[SKD_STORE_ID_LEN];
	const char *who;
	unsigned char *b64;
	size_t n, i, w;
	int bl;

	if ((who = skd_cli_ctx_opt(c, "submitter-dn")) == NULL &&
	    (who = skd_cli_ctx_bind_dn(c)) == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--ldif needs the DN ldapadd will bind as "
		    "(skdSubmitterDN): give --submitter-dn DN, --bind-dn DN "
		    "or --env FILE --as NAME");
		return SKD_EXIT_USAGE;
	}
	if ((b64 = malloc(4 * ((len + 2) / 3) + 1)) == NULL)
		return SKD_EXIT_INTERNAL;
	bl = EVP_EncodeBlock(b64, der, (int)len);
	skd_store_new_id(id);
	printf("dn: skdRequestId=%s,ou=requests,%s\n", id,
	    skd_cli_ctx_base(c));
	printf("objectClass: skdRequest\nskdRequestId: %s\n", id);
	/* RFC 2849: lines folded at 76 columns, continuations start with
	 * one space. */
	fputs("skdMessage:: ", stdout);
	n = (size_t)bl;
	for (i = 0, w = 76 - 13; i < n; i += w, w = 75) {
		if (i > 0)
			fputs("\n ", stdout);
		fwrite(b64 + i, 1, n - i < w ? n - i : w, stdout);
	}
	printf("\nskdSubmitterDN: %s\nskdState: pending\n\n", who);
	free(b64);
	return SKD_EXIT_OK;
}

/* ---- the request flow ---- */

/* Which of several requests one command makes is being written (--out
 * FILE.k); 0: the only one. */
int skd_cli_out_index;

const struct skd_client_batch_item *skd_cli_members;
size_t skd_cli_n_members;

/* The status of resps naming bodyPartID bpid (a status for body part 0
 * covers the whole message: RFC 5272 3.2.1.1), or NULL. */
static const struct skd_client_status *
status_of(struct skd_client_response *const *resps, size_t n, long bpid)
{
	const struct skd_client_status *whole = NULL;
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		for (j = 0; j < resps[i]->n_statuses; j++) {
			const struct skd_client_status *s =
			    &resps[i]->statuses[j];

			for (k = 0; k < s->n_body; k++) {
				if (s->body_list[k] == bpid)
					return s;
				if (s->body_list[k] == 0)
					whole = s;
			}
		}
	}
	return whole;
}

/*
 * Each member's outcome (skd glo add-member/remove-member): one line
 * "member NAME: success" or "member NAME: failed: REASON", or in JSON a
 * "members" array of {"member","bodyPartID","status"[,"statusString",
 * "CMCFailInfo"|"SKDFailInfo"]} on jdoc.  *out_failed counts the members
 * that did not succeed.
 */
static void
report_members(BIO *out, json_t *jdoc, struct skd_client_response *const *
    resps, size_t n, size_t *out_failed)
{
	const struct skd_client_status *s;
	json_t *arr = NULL, *o;
	const char *name, *fail;
	size_t i;

	*out_failed = 0;
	if (jdoc != NULL && (arr = json_array()) != NULL)
		json_object_set_new(jdoc, "members", arr);
	for (i = 0; i < skd_cli_n_members; i++) {
		const struct skd_client_batch_item *m = &skd_cli_members[i];

		s = status_of(resps, n, m->bpid);
		name = s != NULL ? skd_cmc_status_name(s->status) : "none";
		if (name == NULL)
			name = "unknown";
		fail = s == NULL ? NULL : s->fail_kind == SKD_CLIENT_FAIL_CMC ?
		    skd_cmc_failinfo_name(s->fail) :
		    s->fail_kind == SKD_CLIENT_FAIL_SKD ?
		    skd_failinfo_name(s->fail) : NULL;
		if (s == NULL || s->status != SKD_CMC_SUCCESS)
			(*out_failed)++;
		if (arr != NULL) {
			o = json_pack("{s:s,s:I,s:s}", "member", m->label,
			    "bodyPartID", (json_int_t)m->bpid, "status", name);
			if (o != NULL && s != NULL && s->status_string != NULL)
				json_object_set_new(o, "statusString",
				    json_string(s->status_string));
			if (o != NULL && fail != NULL)
				json_object_set_new(o, s->fail_kind ==
				    SKD_CLIENT_FAIL_CMC ? "CMCFailInfo" :
				    "SKDFailInfo", json_string(fail));
			json_array_append_new(arr, o);
			continue;
		}
		if (s == NULL) {
			BIO_printf(out, "member %s: no status in the answer\n",
			    m->label);
			continue;
		}
		BIO_printf(out, "member %s: %s", m->label, name);
		if (s->status != SKD_CMC_SUCCESS && (s->status_string != NULL ||
		    fail != NULL))
			BIO_printf(out, ": %s%s%s%s", s->status_string != NULL ?
			    s->status_string : "", s->status_string != NULL &&
			    fail != NULL ? " (" : "", fail != NULL ? fail : "",
			    s->status_string != NULL && fail != NULL ? ")" : "");
		BIO_puts(out, "\n");
	}
}

/* What to tell the user when Ctrl-C ends the wait for an answer: the
 * request stays in the directory, pending, until the GLA takes it. */
static char interrupted_msg[512];
static size_t interrupted_len;

static void
on_interrupt(int sig)
{
	ssize_t r = write(STDERR_FILENO, interrupted_msg, interrupted_len);

	(void)r;
	_exit(128 + sig);
}

int
skd_cli_run_request(const struct skd_cli_ctx *c,
    struct skd_client_request *r, const struct skd_client_ident *id,
    const char *gl)
{
	return skd_cli_run_request_ex(c, r, id, gl, NULL);
}

/* Checks and prints the answers nested in a response to a resubmission
 * (RFC 5275 3.2.5): each signed by the GL's certificate, echoing the
 * member's nonce and transactionId.  *all_ok is cleared on a failure. */
static int
check_nested(const struct skd_cli_ctx *c, BIO *out,
    const unsigned char *der, size_t len, const struct skd_client_expect *x,
    json_t *jarr, int *all_ok)
{
	struct skd_client_error e = { 0 };
	struct skd_client_response *resp = NULL;
	struct skd_store_blob *items = NULL;
	size_t n = 0, i;
	int rc = SKD_EXIT_OK;

	if (!skd_client_response_items(&items, &n, der, len, x->ident, &e))
		return skd_cli_client_fail(c, &e);
	if (n == 0) {
		skd_cli_err(skd_cli_ctx_cmd(c), "the response holds no answer to the "
		    "resubmitted request");
		rc = SKD_EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		if (!skd_client_response_check(&resp, items[i].data,
		    items[i].len, x, &e)) {
			rc = skd_cli_client_fail(c, &e);
			break;
		}
		if (jarr != NULL)
			json_array_append_new(jarr,
			    skd_cli_json_response(resp));
		else
			skd_client_response_print(out, resp, 0);
		*all_ok = *all_ok && skd_client_response_ok(resp);
		skd_client_response_free(resp);
		resp = NULL;
	}
	skd_client_items_free(items, n);
	return rc;
}

int
skd_cli_run_request_ex(const struct skd_cli_ctx *c,
    struct skd_client_request *r, const struct skd_client_ident *id,
    const char *gl, const struct skd_client_expect *nested)
{
	struct skd_client_error e = { 0 };
	struct skd_client_expect x;
	struct skd_client_response *resp = NULL;
	struct skd_store *s = NULL;
	struct skd_store_blob *msgs = NULL;
	X509_STORE *trust = NULL;
	X509 *gla = NULL;
	unsigned char *der = NULL;
	size_t len = 0, n = 0, i;
	char rid[SKD_STORE_ID_LEN];
	const char *t;
	long timeout = 30;
	int rc, json = skd_cli_ctx_flag(c, "json"), all_ok = 1, ok;
	int handlers = 0, not_believed = 0;
	struct skd_client_response **kept = NULL;
	size_t n_kept = 0, failed = 0;
	struct sigaction sa, old_int, old_term;
	json_t *jdoc = NULL, *jarr = NULL;
	BIO *out = NULL;

	if (skd_cli_ctx_flag(c, "outer-sign") &&
	    !skd_cli_ctx_flag(c, "encrypt")) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--outer-sign needs --encrypt");
		return SKD_EXIT_USAGE;
	}
	if ((t = skd_cli_ctx_opt(c, "timeout")) != NULL) {
		char *end;

		timeout = strtol(t, &end, 10);
		if (*end != '\0' || timeout < 0 || timeout > 86400) {
			skd_cli_err(skd_cli_ctx_cmd(c), "--timeout: seconds, 0..86400");
			return SKD_EXIT_USAGE;
		}
	}
	if (skd_cli_ctx_flag(c, "encrypt")) {
		if (skd_cli_ctx_opt(c, "gla-cert") == NULL) {
			skd_cli_err(skd_cli_ctx_cmd(c), "--encrypt needs --gla-cert FILE");
			return SKD_EXIT_USAGE;
		}
		if ((gla = skd_client_cert_load(skd_cli_ctx_opt(c,
		    "gla-cert"), &e)) == NULL)
			return skd_cli_client_fail(c, &e);
	}
	if (!skd_client_request_protect(&der, &len, r, id, gla,
	    skd_cli_ctx_flag(c, "outer-sign"), time(NULL), &e)) {
		rc = skd_cli_client_fail(c, &e);
		goto done;
	}
	if (skd_cli_ctx_opt(c, "out") != NULL) {
		char outp[4096];

		/* One of several requests (--members-file): FILE.k */
		if (skd_cli_out_index > 0)
			snprintf(outp, sizeof(outp), "%s.%d",
			    skd_cli_ctx_opt(c, "out"), skd_cli_out_index);
		else
			snprintf(outp, sizeof(outp), "%s",
			    skd_cli_ctx_opt(c, "out"));
		rc = skd_cli_write_file(c, outp, der, len);
		goto done;
	}
	if (skd_cli_ctx_flag(c, "ldif")) {
		rc = print_ldif(c, der, len);
		goto done;
	}
	if (skd_cli_ctx_opt(c, "mail-to") != NULL) {
		/* RFC 5275 7: by mail; the answer comes by mail too. */
		rc = skd_cli_mail_submit(c, id->cert, der, len, "CMC-request");
		goto done;
	}
	/* Everything that can fail locally fails before anything is
	 * written to the directory. */
	if ((rc = skd_cli_ctx_trust(c, &trust)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK)
		goto done;
	if (!skd_client_submit(s, rid, der, len, skd_cli_ctx_bind_dn(c),
	    &e)) {
		rc = skd_cli_client_fail(c, &e);
		goto done;
	}
	fprintf(stderr, "skd: %s: submitted request %s\n", skd_cli_ctx_cmd(c), rid);
	interrupted_len = (size_t)snprintf(interrupted_msg,
	    sizeof(interrupted_msg), "\nskd: %s: interrupted: request %s "
	    "stays in the directory; read its answer with skd response --id "
	    "%s, or withdraw it while pending with skd request cancel --id "
	    "%s\n", skd_cli_ctx_cmd(c), rid, rid, rid);
	if (interrupted_len >= sizeof(interrupted_msg))
		interrupted_len = sizeof(interrupted_msg) - 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	handlers = sigaction(SIGINT, &sa, &old_int) == 0 &&
	    sigaction(SIGTERM, &sa, &old_term) == 0;
	ok = skd_client_wait_response(s, &msgs, &n, rid, timeout * 1000, &e);
	if (handlers) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	if (!ok) {
		rc = skd_cli_client_fail(c, &e);
		goto done;
	}
	memset(&x, 0, sizeof(x));
	x.trust = trust;
	x.now = time(NULL);
	/* A resubmission's own answer is a container signed with the GLA's
	 * general certificate (no GL applies to it); the GL's answers are
	 * inside (check_nested). */
	x.gl_name = nested != NULL ? NULL : gl;
	x.nonce = skd_client_request_nonce(r, &x.nonce_len);
	x.tid = skd_client_request_tid(r);
	x.ident = id;
	/* A GL name the GLA does not know is answered invalidGLName under
	 * its general certificate: show that, saying why it is not the
	 * GL's answer, rather than only "not believed". */
	x.keep_unbound = 1;
	out = BIO_new_fp(stdout, BIO_NOCLOSE);
	if (json) {
		jdoc = json_pack("{s:s,s:[]}", "request", rid, "responses");
		jarr = json_object_get(jdoc, "responses");
	} else {
		BIO_printf(out, "request: %s\n", rid);
	}
	if (skd_cli_members != NULL && n > 0 &&
	    (kept = calloc(n, sizeof(*kept))) == NULL) {
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	rc = SKD_EXIT_OK;
	for (i = 0; i < n; i++) {
		/* glKey messages the GLA sent along (e.g. glkRefresh, RFC
		 * 5275 4.8) are fetched with skd member fetch. */
		if (skd_client_message_is_request(msgs[i].data, msgs[i].len,
		    id)) {
			if (!json)
				BIO_puts(out, "(with a glKey message: skd "
				    "member fetch stores it)\n");
			continue;
		}
		if (!skd_client_response_check(&resp, msgs[i].data,
		    msgs[i].len, &x, &e)) {
			rc = skd_cli_client_fail(c, &e);
			break;
		}
		if (nested == NULL || resp->n_statuses > 0) {
			if (jarr != NULL)
				json_array_append_new(jarr,
				    skd_cli_json_response(resp));
			else
				skd_client_response_print(out, resp, 0);
			all_ok = all_ok && skd_client_response_ok(resp);
		}
		/* Shown with why, but not believed: exit 4. */
		if (resp->not_believed != NULL)
			not_believed = 1;
		if (kept != NULL && resp->not_believed == NULL)
			kept[n_kept++] = resp;
		else
			skd_client_response_free(resp);
		resp = NULL;
		if (nested != NULL && (rc = check_nested(c, out, msgs[i].data,
		    msgs[i].len, nested, jarr, &all_ok)) != SKD_EXIT_OK)
			break;
	}
	if (kept != NULL && rc == SKD_EXIT_OK) {
		report_members(out, jdoc, kept, n_kept, &failed);
		if (failed > 0)
			all_ok = 0;
	}
	if (jdoc != NULL && rc == SKD_EXIT_OK) {
		json_object_set_new(jdoc, "ok", json_boolean(all_ok));
		skd_cli_json_put(jdoc);
		jdoc = NULL;
	}
	if (rc == SKD_EXIT_OK && !all_ok)
		rc = not_believed ? SKD_EXIT_CRYPTO : SKD_EXIT_FAIL;
 done:
	while (n_kept > 0)
		skd_client_response_free(kept[--n_kept]);
	free(kept);
	json_decref(jdoc);
	BIO_free(out);
	skd_store_blobs_free(msgs, n);
	skd_store_close(s);
	X509_STORE_free(trust);
	X509_free(gla);
	OPENSSL_free(der);
	return rc;
}

