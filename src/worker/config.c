/*
 * config.c: the worker's configuration file, "key = value" lines.
 *
 * Every bad line is reported as "file:line: message"; unknown keys are
 * errors (a misspelt key silently ignored would run the GLA with a default
 * the administrator did not choose).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "worker/skd_worker.h"

#define CFG_LINE_MAX 4096

enum cfg_kind { K_STR, K_LONG, K_BIND, K_LEVEL, K_LOG, K_RETENTION, K_BOOL,
    K_TLS };

struct cfg_key {
	const char	*name;
	enum cfg_kind	 kind;
	size_t		 off;
	long		 min, max;	/* K_LONG bounds */
};

#define S(f) K_STR, offsetof(struct skd_worker_config, f), 0, 0
#define L(f, lo, hi) K_LONG, offsetof(struct skd_worker_config, f), lo, hi

static const struct cfg_key cfg_keys[] = {
	{ "ldap_uri", S(ldap_uri) },
	{ "bind", K_BIND, offsetof(struct skd_worker_config, bind), 0, 0 },
	{ "bind_dn", S(bind_dn) },
	{ "bind_password_file", S(bind_password_file) },
	{ "tls", K_TLS, offsetof(struct skd_worker_config, tls), 0, 0 },
	{ "tls_ca_file", S(tls_ca_file) },
	{ "base_dn", S(base_dn) },
	{ "gla_cert", S(gla_cert) },
	{ "gla_key", S(gla_key) },
	{ "gla_chain", S(gla_chain) },
	{ "issuer_cert", S(issuer_cert) },
	{ "issuer_key", S(issuer_key) },
	{ "ca_file", S(ca_file) },
	{ "crl_file", S(crl_file) },
	{ "time_window", L(time_window, 1, 86400 * 7) },
	{ "worker_id", S(worker_id) },
	{ "shard_size", L(shard_size, 1, 100000) },
	{ "threads", L(threads, 1, 16) },
	{ "in_flight", L(in_flight, 1, SKD_WORKER_MAX_IN_FLIGHT) },
	{ "key_cache_entries", L(key_cache_entries, 1, 10000000) },
	{ "lease_seconds", L(lease_seconds, 2, 86400) },
	{ "poll_interval_ms", L(poll_interval_ms, 10, 3600000) },
	{ "log_level", K_LEVEL, offsetof(struct skd_worker_config, log_level),
	    0, 0 },
	{ "log", K_LOG, offsetof(struct skd_worker_config, log), 0, 0 },
	{ "retention", K_RETENTION,
	    offsetof(struct skd_worker_config, retention_days), 0, 0 },
	{ "rekey_before", L(rekey_before, 0, 86400L * 366) },
	{ "max_attempts", L(max_attempts, 1, 1000) },
	{ "watch", K_BOOL, offsetof(struct skd_worker_config, watch), 0, 0 },
	{ "kekri_rollover", K_BOOL,
	    offsetof(struct skd_worker_config, kekri_rollover), 0, 0 },
	{ "journal_key_file", S(journal_key_file) },
	{ "max_message_size", L(max_message_size, 1024, 1L << 30) },
	{ "max_pending_per_submitter", L(max_pending_per_submitter, 1,
	    1000000) },
	/* mail transport (mailout.c, skd gla mail-in) */
	{ "mail_from", S(mail_from) },
	{ "mail_relay", S(mail_relay) },
	{ "mail_starttls", K_BOOL,
	    offsetof(struct skd_worker_config, mail_starttls), 0, 0 },
	{ "mail_ca_file", S(mail_ca_file) },
	{ "mail_user", S(mail_user) },
	{ "mail_password_file", S(mail_password_file) },
	{ "mail_sendmail", S(mail_sendmail) },
	{ "mail_max_size", L(mail_max_size, 4096, 1L << 30) },
	{ "mail_retry_seconds", L(mail_retry_seconds, 1, 86400) },
	{ "mail_max_attempts", L(mail_max_attempts, 1, 1000) },
	{ "mail_timeout", L(mail_timeout, 1, 600) },
	{ "mail_answers", S(mail_answers) },
	{ "mail_catch_up", S(mail_catch_up) },
	{ "keygen_ca_cert", S(keygen_ca_cert) },
	{ "keygen_ca_key", S(keygen_ca_key) },
	{ "keygen_chain", S(keygen_chain) },
	{ "keygen_days", L(keygen_days, 1, 3660) },
	{ "keygen_recovery_cert", S(keygen_recovery_cert) },
	{ "keygen_recovery_key", S(keygen_recovery_key) },
	{ "keygen_recovery_officers", S(keygen_recovery_officers) },
	{ "keygen_pop", S(keygen_pop) },
	{ "keygen_ras", S(keygen_ras) },
	{ "keygen_publish", S(keygen_publish) },
};

#undef S
#undef L

static const struct {
	const char		*name;
	enum skd_worker_level	 level;
} cfg_levels[] = {
	{ "error", SKD_WLOG_ERR },
	{ "warning", SKD_WLOG_WARNING },
	{ "notice", SKD_WLOG_NOTICE },
	{ "info", SKD_WLOG_INFO },
	{ "debug", SKD_WLOG_DEBUG },
};

void
skd_worker_config_free(struct skd_worker_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++) {
		if (cfg_keys[i].kind == K_STR)
			free(*(char **)((char *)c + cfg_keys[i].off));
	}
	free(c->path);
	free(c);
}

static void
cfg_err(char *err, size_t err_len, const char *path, unsigned line,
    const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || err_len == 0)
		return;
	if (line > 0)
		n = snprintf(err, err_len, "%s:%u: ", path, line);
	else
		n = snprintf(err, err_len, "%s: ", path);
	if (n < 0 || (size_t)n >= err_len)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
	va_end(ap);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
parse_long(long *out, const char *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		return 0;
	*out = n;
	return 1;
}

/* Sets one key; returns NULL on success or the message for the line. */
static const char *
cfg_set(struct skd_worker_config *c, const struct cfg_key *k, const char *v)
{
	void *field = (char *)c + k->off;
	size_t i;
	long n;
	char *d;

	switch (k->kind) {
	case K_STR:
		if ((d = strdup(v)) == NULL)
			return "out of memory";
		free(*(char **)field);
		*(char **)field = d;
		return NULL;
	case K_LONG:
		if (!parse_long(&n, v))
			return "not a number";
		if (n < k->min || n > k->max)
			return "out of range";
		*(long *)field = n;
		return NULL;
	case K_BIND:
		if (strcmp(v, "simple") == 0)
			c->bind = SKD_STORE_BIND_SIMPLE;
		else if (strcmp(v, "external") == 0)
			c->bind = SKD_STORE_BIND_EXTERNAL;
		else
			return "bind must be simple or external";
		return NULL;
	case K_LEVEL:
		for (i = 0; i < sizeof(cfg_levels) / sizeof(cfg_levels[0]);
		    i++) {
			if (strcmp(v, cfg_levels[i].name) == 0) {
				c->log_level = cfg_levels[i].level;
				return NULL;
			}
		}
		return "log_level must be error, warning, notice, info or "
		    "debug";
	case K_LOG:
		if (strcmp(v, "stderr") == 0)
			c->log = SKD_WORKER_LOG_STDERR;
		else if (strcmp(v, "syslog") == 0)
			c->log = SKD_WORKER_LOG_SYSLOG;
		else
			return "log must be stderr or syslog";
		return NULL;
	case K_RETENTION:
		if (strcmp(v, "keep") == 0) {
			c->retention_days = -1;
			return NULL;
		}
		if (!parse_long(&n, v) || n < 0 || n > 36500)
			return "retention must be keep or a number of days";
		c->retention_days = n;
		return NULL;
	case K_TLS:
		if (strcmp(v, "none") == 0)
			c->tls = SKD_STORE_TLS_NONE;
		else if (strcmp(v, "starttls") == 0)
			c->tls = SKD_STORE_TLS_STARTTLS;
		else if (strcmp(v, "ldaps") == 0)
			c->tls = SKD_STORE_TLS_LDAPS;
		else
			return "tls must be none, starttls or ldaps";
		c->tls_set = 1;
		return NULL;
	case K_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
		    strcmp(v, "1") == 0)
			*(int *)field = 1;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
		    strcmp(v, "0") == 0)
			*(int *)field = 0;
		else
			return "expected yes or no";
		return NULL;
	}
	return "internal error";
}

static const struct cfg_key *
cfg_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++) {
		if (strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	}
	return NULL;
}

/* Keys the worker cannot run without. */
static int
cfg_check(char *err, size_t err_len, struct skd_worker_config *c)
{
	static const char *need[] = {
		"ldap_uri", "base_dn", "gla_cert", "gla_key", "ca_file"
	};
	size_t i;
	int ldaps;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		const struct cfg_key *k = cfg_find(need[i]);

		if (*(char **)((const char *)c + k->off) == NULL) {
			cfg_err(err, err_len, c->path, 0,
			    "missing required key %s", need[i]);
			return 0;
		}
	}
	if (c->bind == SKD_STORE_BIND_SIMPLE &&
	    (c->bind_dn == NULL || c->bind_password_file == NULL)) {
		cfg_err(err, err_len, c->path, 0,
		    "bind = simple needs bind_dn and bind_password_file");
		return 0;
	}
	/* RFC 4513 3: TLS protects the bind and everything after it; the
	 * server is verified against tls_ca_file (no fallback on the
	 * system's CAs, which would trust any public certificate). */
	ldaps = strncasecmp(c->ldap_uri, "ldaps://", 8) == 0;
	if (!c->tls_set && ldaps)
		c->tls = SKD_STORE_TLS_LDAPS;
	if (ldaps != (c->tls == SKD_STORE_TLS_LDAPS)) {
		cfg_err(err, err_len, c->path, 0, "%s",
		    ldaps ? "an ldaps:// ldap_uri needs tls = ldaps" :
		    "tls = ldaps needs an ldaps:// ldap_uri");
		return 0;
	}
	if (c->tls == SKD_STORE_TLS_STARTTLS &&
	    strncasecmp(c->ldap_uri, "ldap://", 7) != 0) {
		cfg_err(err, err_len, c->path, 0,
		    "tls = starttls needs an ldap:// ldap_uri");
		return 0;
	}
	if ((c->tls != SKD_STORE_TLS_NONE) != (c->tls_ca_file != NULL)) {
		cfg_err(err, err_len, c->path, 0, "%s",
		    c->tls_ca_file == NULL ?
		    "tls = starttls or ldaps needs tls_ca_file" :
		    "tls_ca_file needs tls = starttls or ldaps");
		return 0;
	}
	if ((c->issuer_cert == NULL) != (c->issuer_key == NULL)) {
		cfg_err(err, err_len, c->path, 0,
		    "issuer_cert and issuer_key go together");
		return 0;
	}
	if ((c->keygen_ca_cert == NULL) != (c->keygen_ca_key == NULL) ||
	    (c->keygen_ca_cert == NULL && (c->keygen_chain != NULL ||
	    c->keygen_recovery_cert != NULL || c->keygen_ras != NULL))) {
		cfg_err(err, err_len, c->path, 0,
		    "keygen_ca_cert and keygen_ca_key go together, and the "
		    "other keygen_* keys need them");
		return 0;
	}
	/* Key recovery: the key opens what keygen_recovery_cert archived;
	 * the officers are who may ask (docs/keygen.md). */
	if ((c->keygen_recovery_key == NULL) !=
	    (c->keygen_recovery_officers == NULL) ||
	    (c->keygen_recovery_key != NULL &&
	    c->keygen_recovery_cert == NULL)) {
		cfg_err(err, err_len, c->path, 0,
		    "keygen_recovery_key and keygen_recovery_officers go "
		    "together and need keygen_recovery_cert");
		return 0;
	}
	if (c->keygen_pop != NULL && ((strcmp(c->keygen_pop, "required") != 0
	    && strcmp(c->keygen_pop, "none") != 0) ||
	    c->keygen_ca_cert == NULL)) {
		cfg_err(err, err_len, c->path, 0, "keygen_pop: required or "
		    "none, with keygen_ca_cert");
		return 0;
	}
	if (c->keygen_publish != NULL &&
	    strcasecmp(c->keygen_publish, "userCertificate;binary") != 0 &&
	    strcasecmp(c->keygen_publish, "userSMIMECertificate") != 0 &&
	    strcmp(c->keygen_publish, "none") != 0) {
		cfg_err(err, err_len, c->path, 0, "keygen_publish: "
		    "userCertificate;binary, userSMIMECertificate or none");
		return 0;
	}
	return 1;
}

struct skd_worker_config *
skd_worker_config_load(char *err, size_t err_len, const char *path)
{
	struct skd_worker_config *c = NULL;
	FILE *f = NULL;
	char buf[CFG_LINE_MAX + 2], *line, *eq, *key, *val;
	const struct cfg_key *k;
	const char *why;
	unsigned lineno = 0;
	unsigned char seen[sizeof(cfg_keys) / sizeof(cfg_keys[0])];

	if (err != NULL && err_len > 0)
		err[0] = '\0';
	memset(seen, 0, sizeof(seen));
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		cfg_err(err, err_len, path, 0, "out of memory");
		goto err;
	}
	c->bind = SKD_STORE_BIND_SIMPLE;
	c->lease_seconds = SKD_WORKER_DEFAULT_LEASE;
	c->poll_interval_ms = SKD_WORKER_DEFAULT_POLL_MS;
	c->log_level = SKD_WLOG_INFO;
	c->log = SKD_WORKER_LOG_STDERR;
	c->retention_days = -1;
	c->rekey_before = SKD_WORKER_DEFAULT_REKEY_BEFORE;
	c->max_attempts = SKD_WORKER_DEFAULT_ATTEMPTS;
	c->watch = 1;
	if ((f = fopen(path, "r")) == NULL) {
		cfg_err(err, err_len, path, 0, "%s", strerror(errno));
		goto err;
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		lineno++;
		if (strchr(buf, '\n') == NULL && !feof(f)) {
			cfg_err(err, err_len, path, lineno, "line too long");
			goto err;
		}
		line = trim(buf);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			cfg_err(err, err_len, path, lineno,
			    "expected key = value");
			goto err;
		}
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		if ((k = cfg_find(key)) == NULL) {
			cfg_err(err, err_len, path, lineno, "unknown key '%s'",
			    key);
			goto err;
		}
		if (seen[k - cfg_keys]) {
			cfg_err(err, err_len, path, lineno,
			    "%s given twice", key);
			goto err;
		}
		seen[k - cfg_keys] = 1;
		if (val[0] == '\0') {
			cfg_err(err, err_len, path, lineno,
			    "%s has no value", key);
			goto err;
		}
		if ((why = cfg_set(c, k, val)) != NULL) {
			cfg_err(err, err_len, path, lineno, "%s: %s", key,
			    why);
			goto err;
		}
	}
	if (ferror(f)) {
		cfg_err(err, err_len, path, 0, "read error");
		goto err;
	}
	fclose(f);
	f = NULL;
	if (!cfg_check(err, err_len, c))
		goto err;
	return c;
 err:
	if (f != NULL)
		fclose(f);
	skd_worker_config_free(c);
	return NULL;
}
