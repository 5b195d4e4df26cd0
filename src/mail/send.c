/*
 * send.c: submission of one message, by SMTP (libcurl: RFC 5321 with
 * STARTTLS, RFC 3207, and AUTH, RFC 4954) or through the sendmail(8)
 * interface.  The outcome is sent, a temporary failure (4xx, the relay
 * unreachable, EX_TEMPFAIL) or a permanent one (5xx, the sysexits codes
 * meaning the message or address is bad).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mail/skd_mail.h"

#define SEND_DEFAULT_TIMEOUT	60L

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void
curl_init_once(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* A message read out to libcurl. */
struct upload {
	const char	*p;
	size_t		 left;
};

static size_t
upload_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nitems;

	if (n > u->left)
		n = u->left;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

static enum skd_mail_sent
send_smtp(char *err, size_t err_len, const struct skd_mail_transport *t,
    const char *env_from, const char *const *rcpt, size_t n_rcpt,
    const char *msg, size_t len)
{
	CURL *c = NULL;
	struct curl_slist *rl = NULL, *nl;
	struct upload u = { msg, len };
	char from[300], to[300], ebuf[CURL_ERROR_SIZE];
	enum skd_mail_sent r = SKD_MAIL_TEMPFAIL;
	CURLcode cr;
	long code = 0;
	size_t i;

	ebuf[0] = '\0';
	if (pthread_once(&curl_once, curl_init_once) != 0 || !curl_ok) {
		(void)snprintf(err, err_len, "cannot initialise libcurl");
		return SKD_MAIL_TEMPFAIL;
	}
	if (t->url == NULL || (strncmp(t->url, "smtp://", 7) != 0 &&
	    strncmp(t->url, "smtps://", 8) != 0)) {
		(void)snprintf(err, err_len, "the relay URL must be smtp:// "
		    "or smtps://");
		return SKD_MAIL_TEMPFAIL;
	}
	(void)snprintf(from, sizeof(from), "<%s>", env_from);
	for (i = 0; i < n_rcpt; i++) {
		(void)snprintf(to, sizeof(to), "<%s>", rcpt[i]);
		if ((nl = curl_slist_append(rl, to)) == NULL)
			goto oom;
		rl = nl;
	}
	if ((c = curl_easy_init()) == NULL)
		goto oom;
	(void)curl_easy_setopt(c, CURLOPT_URL, t->url);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT, t->timeout > 0 ?
	    t->timeout : SEND_DEFAULT_TIMEOUT);
	if (t->starttls)
		(void)curl_easy_setopt(c, CURLOPT_USE_SSL,
		    (long)CURLUSESSL_ALL);
	if (t->ca_file != NULL)
		(void)curl_easy_setopt(c, CURLOPT_CAINFO, t->ca_file);
	if (t->user != NULL) {
		(void)curl_easy_setopt(c, CURLOPT_USERNAME, t->user);
		(void)curl_easy_setopt(c, CURLOPT_PASSWORD,
		    t->password != NULL ? t->password : "");
	}
	(void)curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	(void)curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rl);
	(void)curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
	(void)curl_easy_setopt(c, CURLOPT_READDATA, &u);
	(void)curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	cr = curl_easy_perform(c);
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (cr == CURLE_OK) {
		r = SKD_MAIL_SENT;
	} else {
		/* A 5xx to MAIL, RCPT or DATA is final (RFC 5321 4.2.1); a
		 * refused login is the configuration's fault: retried. */
		r = code >= 500 && code < 600 && cr != CURLE_LOGIN_DENIED ?
		    SKD_MAIL_PERMFAIL : SKD_MAIL_TEMPFAIL;
		(void)snprintf(err, err_len, "SMTP %s: %s%s%.200s",
		    t->url, curl_easy_strerror(cr), ebuf[0] != '\0' ? ": " :
		    "", ebuf);
		if (code > 0)
			(void)snprintf(err + strlen(err), err_len -
			    strlen(err), " (reply %ld)", code);
	}
	goto done;
 oom:
	(void)snprintf(err, err_len, "out of memory");
 done:
	curl_easy_cleanup(c);
	curl_slist_free_all(rl);
	return r;
}

/* The sysexits codes that mean "this message or address will never go". */
static int
exit_permanent(int code)
{
	return code == EX_USAGE || code == EX_DATAERR || code == EX_NOINPUT ||
	    code == EX_NOUSER || code == EX_NOHOST || code == EX_PROTOCOL ||
	    code == EX_NOPERM;
}

static enum skd_mail_sent
send_sendmail(char *err, size_t err_len, const struct skd_mail_transport *t,
    const char *env_from, const char *const *rcpt, size_t n_rcpt,
    const char *msg, size_t len)
{
	const char *path = t->sendmail != NULL ? t->sendmail :
	    "/usr/sbin/sendmail";
	const char **argv = NULL;
	struct sigaction ign, old;
	int in[2] = { -1, -1 }, status, handlers = 0;
	FILE *errf = NULL;
	char ebuf[200];
	ssize_t w;
	size_t i, off = 0, n;
	pid_t pid = -1;
	enum skd_mail_sent r = SKD_MAIL_TEMPFAIL;

	/* sendmail -i -f FROM -- RCPT...: -i so that a lone "." is data,
	 * "--" so that no address is taken for an option. */
	if ((argv = calloc(n_rcpt + 6, sizeof(*argv))) == NULL) {
		(void)snprintf(err, err_len, "out of memory");
		return SKD_MAIL_TEMPFAIL;
	}
	argv[0] = "sendmail";
	argv[1] = "-i";
	argv[2] = "-f";
	argv[3] = env_from;
	argv[4] = "--";
	for (i = 0; i < n_rcpt; i++)
		argv[5 + i] = rcpt[i];
	if ((errf = tmpfile()) == NULL || pipe(in) != 0) {
		(void)snprintf(err, err_len, "sendmail: %s", strerror(errno));
		goto done;
	}
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	if (sigaction(SIGPIPE, &ign, &old) == 0)
		handlers = 1;
	if ((pid = fork()) < 0) {
		(void)snprintf(err, err_len, "sendmail: fork: %s",
		    strerror(errno));
		goto done;
	}
	if (pid == 0) {
		(void)dup2(in[0], 0);
		(void)dup2(fileno(errf), 2);
		(void)close(in[0]);
		(void)close(in[1]);
		(void)signal(SIGPIPE, SIG_DFL);
		execv(path, (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
		_exit(EX_TEMPFAIL);
	}
	(void)close(in[0]);
	in[0] = -1;
	while (off < len) {
		n = len - off;
		if ((w = write(in[1], msg + off, n)) < 0) {
			if (errno == EINTR)
				continue;
			break;	/* the exit status says why */
		}
		off += (size_t)w;
	}
	(void)close(in[1]);
	in[1] = -1;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			(void)snprintf(err, err_len, "sendmail: waitpid: %s",
			    strerror(errno));
			goto done;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && off == len) {
		r = SKD_MAIL_SENT;
		goto done;
	}
	ebuf[0] = '\0';
	rewind(errf);
	if (fgets(ebuf, sizeof(ebuf), errf) != NULL)
		ebuf[strcspn(ebuf, "\r\n")] = '\0';
	if (WIFEXITED(status)) {
		r = exit_permanent(WEXITSTATUS(status)) ? SKD_MAIL_PERMFAIL :
		    SKD_MAIL_TEMPFAIL;
		(void)snprintf(err, err_len, "%s exited %d%s%s", path,
		    WEXITSTATUS(status), ebuf[0] != '\0' ? ": " : "", ebuf);
	} else {
		(void)snprintf(err, err_len, "%s killed by signal %d", path,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
 done:
	if (handlers)
		(void)sigaction(SIGPIPE, &old, NULL);
	if (in[0] >= 0)
		(void)close(in[0]);
	if (in[1] >= 0)
		(void)close(in[1]);
	if (errf != NULL)
		fclose(errf);
	free(argv);
	return r;
}

enum skd_mail_sent
skd_mail_send(char *err, size_t err_len, const struct skd_mail_transport *t,
    const char *env_from, const char *const *rcpt, size_t n_rcpt,
    const char *msg, size_t len)
{
	char tmp[8];

	if (err == NULL || err_len == 0) {
		err = tmp;
		err_len = sizeof(tmp);
	}
	err[0] = '\0';
	if (n_rcpt == 0 || env_from == NULL) {
		(void)snprintf(err, err_len, "no recipient or sender");
		return SKD_MAIL_PERMFAIL;
	}
	if (t->via == SKD_MAIL_VIA_SENDMAIL)
		return send_sendmail(err, err_len, t, env_from, rcpt, n_rcpt,
		    msg, len);
	return send_smtp(err, err_len, t, env_from, rcpt, n_rcpt, msg, len);
}
