/*
 * cli_json.c: --json output, built with jansson (never escaped by hand):
 * response reports, and the error object a failing command prints on
 * standard output (with a non-zero exit) when --json was given.
 */
#include <stdio.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "client/skd_client.h"
#include "cli/cli.h"

int skd_cli_json;

void
skd_cli_json_put(json_t *j)
{
	if (j == NULL) {
		fputs("{\"error\":{\"message\":\"out of memory\"}}\n", stdout);
		return;
	}
	json_dumpf(j, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(j);
}

void
skd_cli_json_error(const char *cmd, const char *msg)
{
	skd_cli_json_put(json_pack("{s:{s:s,s:s}}", "error", "command", cmd,
	    "message", msg));
}

static const char *
fail_name(const struct skd_client_status *s)
{
	const char *n = NULL;

	if (s->fail_kind == SKD_CLIENT_FAIL_CMC)
		n = skd_cmc_failinfo_name(s->fail);
	else if (s->fail_kind == SKD_CLIENT_FAIL_SKD)
		n = skd_failinfo_name(s->fail);
	return n != NULL ? n : "unknown";
}

json_t *
skd_cli_json_response(const struct skd_client_response *r)
{
	json_t *o, *sts, *st, *body, *algs;
	const char *name;
	char sub[512];
	size_t i, j;

	if ((o = json_object()) == NULL)
		return NULL;
	sts = json_array();
	algs = json_array();
	json_object_set_new(o, "ok", json_boolean(skd_client_response_ok(r)));
	json_object_set_new(o, "statuses", sts);
	json_object_set_new(o, "algorithms", algs);
	json_object_set_new(o, "nonceChecked",
	    json_boolean(r->nonce_checked));
	if (r->gla_cert != NULL) {
		X509_NAME_oneline(X509_get_subject_name(r->gla_cert), sub,
		    sizeof(sub));
		json_object_set_new(o, "signer", json_string(sub));
	}
	for (i = 0; i < r->n_statuses; i++) {
		const struct skd_client_status *s = &r->statuses[i];

		name = skd_cmc_status_name(s->status);
		st = json_object();
		body = json_array();
		json_object_set_new(st, "status", json_string(name != NULL ?
		    name : "unknown"));
		for (j = 0; j < s->n_body; j++)
			json_array_append_new(body,
			    json_integer(s->body_list[j]));
		json_object_set_new(st, "bodyList", body);
		if (s->status_string != NULL)
			json_object_set_new(st, "statusString",
			    json_string(s->status_string));
		if (s->fail_kind == SKD_CLIENT_FAIL_CMC)
			json_object_set_new(st, "CMCFailInfo",
			    json_string(fail_name(s)));
		else if (s->fail_kind == SKD_CLIENT_FAIL_SKD)
			json_object_set_new(st, "SKDFailInfo",
			    json_string(fail_name(s)));
		else if (s->fail_kind == SKD_CLIENT_FAIL_OTHER)
			json_object_set_new(st, "otherStatusInfo",
			    json_true());
		json_array_append_new(sts, st);
	}
	for (i = 0; i < r->n_algs; i++)
		json_array_append_new(algs, json_string(r->algs[i]));
	if (r->not_believed != NULL)
		json_object_set_new(o, "notBelieved",
		    json_string(r->not_believed));
	return o;
}
