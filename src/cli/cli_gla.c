/*
 * cli_gla.c: "skd gla run" (the GLA worker daemon) and "skd status".
 *
 *   skd gla run --config FILE [--once] [--worker-id ID]
 *   skd status (--config FILE | --env FILE)
 *
 * The daemon runs in the foreground (systemd's Type=simple; see
 * tools/skd-gla.service): SIGTERM or SIGINT finish the request in hand and
 * stop, SIGHUP reloads the configuration file (keys, certificates, trust
 * anchors, CRLs, tunables).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include <jansson.h>

#include "store/skd_store.h"
#include "cli/cli.h"
#include "worker/skd_worker.h"

static void
on_term(int sig)
{
	(void)sig;
	skd_worker_stop();
}

static void
on_hup(int sig)
{
	(void)sig;
	skd_worker_hup();
}

static int
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a wait in progress ends at once. */
	sa.sa_handler = on_term;
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0)
		return 0;
	sa.sa_handler = on_hup;
	if (sigaction(SIGHUP, &sa, NULL) != 0)
		return 0;
	return 1;
}

struct gla_run {
	const char	*config;
	const char	*worker_id;
};

static struct skd_worker_config *
load_config(const struct gla_run *g, char *err, size_t err_len)
{
	struct skd_worker_config *c;
	char *id;

	if ((c = skd_worker_config_load(err, err_len, g->config)) == NULL)
		return NULL;
	if (g->worker_id != NULL) {
		if ((id = strdup(g->worker_id)) == NULL) {
			skd_worker_config_free(c);
			(void)snprintf(err, err_len, "out of memory");
			return NULL;
		}
		free(c->worker_id);
		c->worker_id = id;
	}
	return c;
}

/* SIGHUP: read the file again; the directory connection stays. */
static int
reload(void *arg, struct skd_worker *w)
{
	const struct gla_run *g = arg;
	struct skd_worker_config *c;
	char err[512];
	int ok;

	if ((c = load_config(g, err, sizeof(err))) == NULL) {
		skd_worker_logf(SKD_WLOG_ERR, NULL, "%s", err);
		return 0;
	}
	skd_worker_log_setup(c->log, c->log_level);
	if (!(ok = skd_worker_reload(w, err, sizeof(err), c)))
		skd_worker_logf(SKD_WLOG_ERR, NULL, "%s", err);
	else
		skd_worker_logf(SKD_WLOG_NOTICE, NULL, "configuration %s "
		    "reloaded", g->config);
	skd_worker_config_free(c);
	return ok;
}

static void
gla_usage(FILE *f)
{
	fprintf(f, "usage: skd gla run --config FILE [--once] "
	    "[--worker-id ID]\n"
	    "       skd gla mail-in --config FILE [--sender ADDRESS]\n"
	    "       skd gla mail-policy --config FILE --gl NAME "
	    "directory|mail|both\n");
}

static int
gla_run(int argc, char **argv)
{
	struct gla_run g = { NULL, NULL };
	struct skd_worker_config *c = NULL;
	struct skd_worker *w = NULL;
	struct skd_worker_stats st;
	char err[512];
	size_t n = 0;
	int i, once = 0, rc = SKD_EXIT_INTERNAL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			g.config = argv[++i];
		} else if (strcmp(argv[i], "--worker-id") == 0 &&
		    i + 1 < argc) {
			g.worker_id = argv[++i];
		} else if (strcmp(argv[i], "--once") == 0) {
			once = 1;
		} else if (strcmp(argv[i], "--help") == 0) {
			gla_usage(stdout);
			return SKD_EXIT_OK;
		} else {
			gla_usage(stderr);
			return SKD_EXIT_USAGE;
		}
	}
	if (g.config == NULL) {
		gla_usage(stderr);
		return SKD_EXIT_USAGE;
	}
	if ((c = load_config(&g, err, sizeof(err))) == NULL) {
		fprintf(stderr, "skd: gla: %s\n", err);
		return SKD_EXIT_INPUT;
	}
	skd_worker_log_setup(c->log, c->log_level);
	if (!install_signals()) {
		skd_cli_err("gla", "cannot install signal handlers");
		goto done;
	}
	if ((w = skd_worker_new(err, sizeof(err), c)) == NULL) {
		skd_worker_logf(SKD_WLOG_ERR, NULL, "%s", err);
		rc = strstr(err, "directory") != NULL ? SKD_EXIT_DIRECTORY :
		    SKD_EXIT_INPUT;
		goto done;
	}
	if (once) {
		rc = skd_worker_run_once(w, &n) ? SKD_EXIT_OK :
		    SKD_EXIT_DIRECTORY;
		skd_worker_get_stats(&st, w);
		printf("finished %zu (done %lu, failed %lu)\n", n,
		    st.processed, st.failed);
	} else {
		rc = skd_worker_run(w, reload, &g) ? SKD_EXIT_OK :
		    SKD_EXIT_FAIL;
	}
 done:
	skd_worker_free(w);
	skd_worker_config_free(c);
	return rc;
}

int
skd_cli_gla(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return gla_run(argc - 1, argv + 1);
	/* The mail transport (cli_mail.c). */
	if (argc >= 2 && strcmp(argv[1], "mail-in") == 0)
		return skd_cli_gla_mail_in(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "mail-policy") == 0)
		return skd_cli_gla_mail_policy(argc - 1, argv + 1);
	gla_usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout :
	    stderr);
	return argc >= 2 && strcmp(argv[1], "--help") == 0 ? SKD_EXIT_OK :
	    SKD_EXIT_USAGE;
}

/* ---- skd status --------------------------------------------------------- */

/* Reads KEY=VALUE from a tools/skd-stack env file. */
static char *
env_get(const char *path, const char *key)
{
	FILE *f;
	char line[4096], *v = NULL;
	size_t kl = strlen(key);

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, kl) == 0 && line[kl] == '=') {
			line[strcspn(line, "\r\n")] = '\0';
			v = strdup(line + kl + 1);
			break;
		}
	}
	fclose(f);
	return v;
}

/* skd status --json: one object; the counters text "name=N ..." becomes
 * an object of numbers. */
/* The mail queue (skd_worker_mail_status_get) as o's "mail" object:
 * counts (with "...More": true when there may be more) and the
 * undelivered mails.  One on success. */
static int
status_mail_json(json_t *o, struct skd_store *s)
{
	struct skd_worker_mail_status st;
	const struct skd_worker_mail_failed *u;
	json_t *m, *list, *e;
	size_t i;
	int ok = 0;

	if (!skd_worker_mail_status_get(&st, s))
		goto err;
	m = json_pack("{s:I,s:b,s:I,s:b,s:I,s:b}", "queued",
	    (json_int_t)st.queued, "queuedMore", st.queued_more, "held",
	    (json_int_t)st.held, "heldMore", st.held_more, "failed",
	    (json_int_t)st.failed, "failedMore", st.failed_more);
	/* json_object_set_new takes the value, on failure too. */
	if (m == NULL || json_object_set_new(o, "mail", m) != 0 ||
	    (list = json_array()) == NULL ||
	    json_object_set_new(m, "undelivered", list) != 0)
		goto err;
	for (i = 0; i < st.n_undelivered; i++) {
		u = &st.undelivered[i];
		e = json_pack("{s:s?,s:s?,s:s?}", "messageId", u->message_id,
		    "to", u->to, "error", u->error);
		if (e == NULL || json_array_append_new(list, e) != 0)
			goto err;
	}
	ok = 1;
 err:
	skd_worker_mail_status_clear(&st);
	return ok;
}

static int
status_json(struct skd_store *s, const char *uri, const char *base)
{
	struct skd_worker_status ws;
	const struct skd_store_status *st;
	json_t *o, *cnt = NULL;
	unsigned long v;
	char t[16], *copy, *tok, *save = NULL, *eq, *end;
	time_t now = time(NULL);

	if (!skd_worker_status_get(&ws, s, now)) {
		skd_store_status_free(ws.st);
		skd_cli_err("status", "%s", skd_store_errmsg(s));
		return SKD_EXIT_DIRECTORY;
	}
	st = ws.st;
	o = json_pack("{s:s,s:s,s:I,s:I,s:s}", "directory", uri, "base",
	    base, "pending", (json_int_t)ws.pending, "expiredClaims",
	    (json_int_t)ws.expired, "state", ws.state);
	if (o != NULL && st->heartbeat != 0) {
		skd_store_time_str(t, st->heartbeat);
		json_object_set_new(o, "heartbeat", json_string(t));
		json_object_set_new(o, "heartbeatAge",
		    json_integer((json_int_t)(now - st->heartbeat)));
	}
	if (o != NULL && st->worker_id != NULL)
		json_object_set_new(o, "worker", json_string(st->worker_id));
	if (o != NULL && st->version != NULL)
		json_object_set_new(o, "version", json_string(st->version));
	if (o != NULL && (cnt = json_object()) != NULL &&
	    (copy = strdup(st->text != NULL ? st->text : "")) != NULL) {
		for (tok = strtok_r(copy, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save)) {
			if ((eq = strchr(tok, '=')) == NULL)
				continue;
			*eq++ = '\0';
			v = strtoul(eq, &end, 10);
			if (*eq != '\0' && *end == '\0')
				json_object_set_new(cnt, tok,
				    json_integer((json_int_t)v));
		}
		free(copy);
	}
	if (o != NULL && cnt != NULL)
		json_object_set_new(o, "counters", cnt);
	skd_store_status_free(ws.st);
	if (o != NULL && !status_mail_json(o, s)) {
		json_decref(o);
		skd_cli_err("status", "%s", skd_store_errmsg(s));
		return SKD_EXIT_DIRECTORY;
	}
	skd_cli_json_put(o);
	return SKD_EXIT_OK;
}

static void
status_usage(FILE *f)
{
	fprintf(f, "usage: skd status (--config FILE | --env FILE) [--json]\n"
	    "The GLA's backlog, heartbeat, state (running, or stopped when\n"
	    "its worker stopped cleanly) and counters over every run\n"
	    "(processed, failed and failed per kind).  See skd(1).\n");
}

int
skd_cli_status(int argc, char **argv)
{
	struct skd_worker_config *c = NULL;
	struct skd_store *s = NULL;
	const char *config = NULL, *envf = NULL;
	char *uri = NULL, *base = NULL, *dn = NULL, *pw = NULL, err[512];
	enum skd_store_bind bind = SKD_STORE_BIND_SIMPLE;
	enum skd_store_err se;
	int i, rc = SKD_EXIT_INTERNAL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			skd_cli_json = 1;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			continue;
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--env") == 0 && i + 1 < argc)
			envf = argv[++i];
		else if (strcmp(argv[i], "--help") == 0) {
			status_usage(stdout);
			return SKD_EXIT_OK;
		} else {
			status_usage(stderr);
			skd_cli_err("status", "unexpected argument '%s'",
			    argv[i]);
			return SKD_EXIT_USAGE;
		}
	}
	if ((config == NULL) == (envf == NULL)) {
		status_usage(stderr);
		skd_cli_err("status", "one of --config FILE or --env FILE");
		return SKD_EXIT_USAGE;
	}
	if (config != NULL) {
		if ((c = skd_worker_config_load(err, sizeof(err), config)) ==
		    NULL) {
			skd_cli_err("status", "%s", err);
			return SKD_EXIT_INPUT;
		}
		/* Exactly as the worker connects: bind, password file, TLS. */
		if ((s = skd_worker_store_open(err, sizeof(err), c)) == NULL) {
			skd_cli_err("status", "%s", err);
			rc = SKD_EXIT_DIRECTORY;
			goto done;
		}
		uri = strdup(c->ldap_uri);
		base = strdup(c->base_dn);
	} else {
		uri = env_get(envf, "SKD_LDAP_URI");
		base = env_get(envf, "SKD_BASE_DN");
		dn = env_get(envf, "SKD_GLA_DN");
		pw = env_get(envf, "SKD_GLA_PW");
	}
	if (uri == NULL || base == NULL || (s == NULL &&
	    bind == SKD_STORE_BIND_SIMPLE && (dn == NULL || pw == NULL))) {
		skd_cli_err("status", "%s lacks the directory settings or the "
		    "password", config != NULL ? config : envf);
		rc = SKD_EXIT_INPUT;
		goto done;
	}
	if (s == NULL &&
	    (s = skd_store_open(&se, uri, base, bind, dn, pw)) == NULL) {
		skd_cli_err("status", "%s: %s", uri, skd_store_err_str(se));
		rc = SKD_EXIT_DIRECTORY;
		goto done;
	}
	skd_store_set_retry(s, 0, 0);
	if (skd_cli_json) {
		rc = status_json(s, uri, base);
		goto done;
	}
	printf("directory: %s (%s)\n", uri, base);
	if (!skd_worker_status_print(stdout, s, time(NULL)) ||
	    !skd_worker_mail_status_print(stdout, s)) {
		skd_cli_err("status", "%s", skd_store_errmsg(s));
		rc = SKD_EXIT_DIRECTORY;
		goto done;
	}
	rc = SKD_EXIT_OK;
 done:
	skd_store_close(s);
	skd_worker_config_free(c);
	free(uri);
	free(base);
	free(dn);
	if (pw != NULL) {
		OPENSSL_cleanse(pw, strlen(pw));
		free(pw);
	}
	return rc;
}
