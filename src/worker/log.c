/*
 * log.c: one line per event, "req=<id> <message>", to stderr or syslog.
 * Callers never pass key material; messages are cut at 1 KiB.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "worker/skd_worker.h"

static enum skd_worker_log log_where = SKD_WORKER_LOG_STDERR;
static enum skd_worker_level log_level = SKD_WLOG_INFO;
static int log_opened;
/* A worker's siblings (in_flight) log and reload on threads of their
 * own: the settings change under this lock. */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void
skd_worker_log_setup(enum skd_worker_log where, enum skd_worker_level level)
{
	pthread_mutex_lock(&log_mu);
	log_where = where;
	log_level = level;
	if (where == SKD_WORKER_LOG_SYSLOG && !log_opened) {
		openlog("skd-gla", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_opened = 1;
	}
	pthread_mutex_unlock(&log_mu);
}

static const char *
level_name(enum skd_worker_level l)
{
	switch (l) {
	case SKD_WLOG_ERR:
		return "error";
	case SKD_WLOG_WARNING:
		return "warning";
	case SKD_WLOG_NOTICE:
		return "notice";
	case SKD_WLOG_INFO:
		return "info";
	case SKD_WLOG_DEBUG:
		return "debug";
	}
	return "?";
}

void
skd_worker_logf(enum skd_worker_level level, const char *request_id,
    const char *fmt, ...)
{
	char msg[1024], ts[32];
	va_list ap;
	struct tm tm;
	time_t now;
	size_t i;
	enum skd_worker_log where;
	enum skd_worker_level max;

	pthread_mutex_lock(&log_mu);
	where = log_where;
	max = log_level;
	pthread_mutex_unlock(&log_mu);
	if (level > max)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One event, one line: a message text (e.g. an LDAP diagnostic)
	 * may not split it. */
	for (i = 0; msg[i] != '\0'; i++) {
		if (msg[i] == '\n' || msg[i] == '\r')
			msg[i] = ' ';
	}
	if (request_id == NULL || request_id[0] == '\0')
		request_id = "-";
	if (where == SKD_WORKER_LOG_SYSLOG) {
		syslog((int)level, "req=%s %s", request_id, msg);
		return;
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	(void)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s skd-gla[%ld] %s: req=%s %s\n", ts, (long)getpid(),
	    level_name(level), request_id, msg);
}
