/*
 * session.c: the LDAP session, error state, reconnection and the retried
 * primitive operations every other file of the store goes through.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/crypto.h>
#include <uuid/uuid.h>

#include "store/store_local.h"

#define STORE_DEFAULT_MAX_WAIT_MS	10000
#define STORE_DEFAULT_FIRST_MS		50
#define STORE_MAX_PAUSE_MS		1000
#define STORE_NET_TIMEOUT_S		5

static const char *const store_err_names[] = {
	[SKD_STORE_OK] = "ok",
	[SKD_STORE_ERR_NOT_FOUND] = "not found",
	[SKD_STORE_ERR_EXISTS] = "exists",
	[SKD_STORE_ERR_CONFLICT] = "conflict",
	[SKD_STORE_ERR_UNAVAILABLE] = "directory unavailable",
	[SKD_STORE_ERR_ACCESS] = "access denied",
	[SKD_STORE_ERR_INVALID] = "invalid",
	[SKD_STORE_ERR_OTHER] = "directory error",
};

const char *
skd_store_err_str(enum skd_store_err e)
{
	if ((unsigned)e >= sizeof(store_err_names) / sizeof(store_err_names[0]))
		return "unknown";
	return store_err_names[e];
}

enum skd_store_err
skd_store_error(const struct skd_store *s)
{
	return s->err;
}

const char *
skd_store_errmsg(const struct skd_store *s)
{
	return s->errmsg;
}

unsigned
skd_store_reconnects(const struct skd_store *s)
{
	return s->reconnects;
}

const char *
skd_store_base_dn(const struct skd_store *s)
{
	return s->base;
}

void
skd_store_i_ok(struct skd_store *s)
{
	s->err = SKD_STORE_OK;
	s->errmsg[0] = '\0';
}

int
skd_store_i_fail(struct skd_store *s, enum skd_store_err e, const char *fmt,
    ...)
{
	va_list ap;

	s->err = e;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return 0;
}

static enum skd_store_err
store_map_rc(int rc)
{
	switch (rc) {
	case LDAP_SUCCESS:
		return SKD_STORE_OK;
	case LDAP_NO_SUCH_OBJECT:
		return SKD_STORE_ERR_NOT_FOUND;
	case LDAP_ALREADY_EXISTS:
		return SKD_STORE_ERR_EXISTS;
	case LDAP_NO_SUCH_ATTRIBUTE:
	case LDAP_ASSERTION_FAILED:
		/* A delete-old-value or an assertion failed: somebody else
		 * changed the entry first (compare-and-swap lost). */
		return SKD_STORE_ERR_CONFLICT;
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_TIMEOUT:
	case LDAP_BUSY:
	case LDAP_UNAVAILABLE:
		return SKD_STORE_ERR_UNAVAILABLE;
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
		return SKD_STORE_ERR_ACCESS;
	case LDAP_INVALID_DN_SYNTAX:
	case LDAP_INVALID_SYNTAX:
	case LDAP_FILTER_ERROR:
	case LDAP_PARAM_ERROR:
		return SKD_STORE_ERR_INVALID;
	default:
		return SKD_STORE_ERR_OTHER;
	}
}

int
skd_store_i_ldap_fail(struct skd_store *s, int rc, const char *what,
    const char *dn)
{
	char *diag = NULL;

	if (s->tls_failed && (s->ld == NULL || rc == LDAP_SERVER_DOWN ||
	    rc == LDAP_CONNECT_ERROR)) {
		/* The last connection attempt failed in TLS: say so rather
		 * than "Can't contact LDAP server". */
		return skd_store_i_fail(s, SKD_STORE_ERR_UNAVAILABLE,
		    "%s %s: %s", what, dn != NULL ? dn : "", s->tls_err);
	}
	if (s->ld != NULL) {
		(void)ldap_get_option(s->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE,
		    &diag);
	}
	skd_store_i_fail(s, store_map_rc(rc), "%s %s: %s%s%s", what,
	    dn != NULL ? dn : "", ldap_err2string(rc),
	    diag != NULL && diag[0] != '\0' ? ": " : "",
	    diag != NULL ? diag : "");
	ldap_memfree(diag);
	return 0;
}

static int
store_retryable(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR;
}

/*
 * store_tls_start protects the new connection ld as s->tls asks, before
 * any bind (RFC 4513 3: StartTLS; or ldaps://).  The options go on the
 * handle, not into the environment or libldap's global defaults, and
 * LDAP_OPT_X_TLS_NEWCTX makes the handle's own TLS context from them.  A
 * failure the server being away does not explain (handshake, certificate
 * verification, StartTLS refused) sets s->tls_failed and s->tls_err.
 * Returns the LDAP code.
 */
static int
store_tls_start(struct skd_store *s, LDAP *ld)
{
	int demand = LDAP_OPT_X_TLS_DEMAND, client = 0, rc;
	char *diag = NULL;

	if (s->tls == SKD_STORE_TLS_NONE)
		return LDAP_SUCCESS;
	if ((s->tls_ca_file != NULL &&
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, s->tls_ca_file) !=
	    LDAP_OPT_SUCCESS) ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &client) !=
	    LDAP_OPT_SUCCESS) {
		s->tls_failed = 1;
		(void)snprintf(s->tls_err, sizeof(s->tls_err),
		    "cannot set up TLS with CA file %s",
		    s->tls_ca_file != NULL ? s->tls_ca_file : "(default)");
		return LDAP_LOCAL_ERROR;
	}
	/* ldaps:// does its handshake on connecting; connect now so that
	 * a TLS failure is told apart from a bind failure. */
	if (s->tls == SKD_STORE_TLS_STARTTLS)
		rc = ldap_start_tls_s(ld, NULL, NULL);
	else
		rc = ldap_connect(ld);
	if (rc == LDAP_SUCCESS)
		return rc;
	(void)ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	if (rc == LDAP_CONNECT_ERROR ||
	    (rc == LDAP_SERVER_DOWN && diag != NULL && diag[0] != '\0')) {
		/* The TCP connection was made (libldap leaves no diagnostic
		 * when it was not): the handshake failed. */
		s->tls_failed = 1;
		(void)snprintf(s->tls_err, sizeof(s->tls_err),
		    "TLS handshake failed: the server's certificate does not "
		    "verify against the CA file %s or does not name the host "
		    "of the URI (libldap: %s)",
		    s->tls_ca_file != NULL ? s->tls_ca_file : "(default)",
		    diag != NULL ? diag : "?");
	} else if (rc != LDAP_SERVER_DOWN && rc != LDAP_TIMEOUT) {
		s->tls_failed = 1;
		(void)snprintf(s->tls_err, sizeof(s->tls_err),
		    "StartTLS refused: %s%s%s", ldap_err2string(rc),
		    diag != NULL && diag[0] != '\0' ? ": " : "",
		    diag != NULL ? diag : "");
	}
	ldap_memfree(diag);
	return rc;
}

/*
 * store_readahead gives a connection without TLS a read buffer
 * (liblber's readahead layer, above the socket's): libldap reads each
 * message with two read(2) calls, its header and then its body, after a
 * poll(2), and a search's entries are one message each, so that reading a
 * page of 1,000 members took some 3,000 system calls, about a tenth of
 * the CPU of a mutually aware rekey's making (docs/perf/history.md, round
 * 15).  With the buffer, one read takes what the socket holds, up to
 * STORE_READAHEAD bytes, and libldap asks the buffer before it polls.
 * TLS reads whole records already (a connection under TLS, asked for or
 * by an ldaps:// URI, is left as it is).  Without the
 * layer the connection works as before, only dearer.  The session's own
 * connection only: a watch's (watch.c) stays without, since with messages
 * waiting in the buffer libldap hands ldap_sync_poll several at once and
 * 2.5's ldap_sync_poll passes the first of them to its callback for each
 * (the others were lost: store:requests:test_watch_requests).  The
 * session reads with ldap_search_ext_s, which returns the whole chain,
 * takes one add's answer at a time (skd_store_i_add_many), or one entry
 * of a plain search at a time (store_search_plain), each by its own
 * message id.
 */
#define STORE_READAHEAD	65536
static void
store_readahead(const struct skd_store *s, LDAP *ld)
{
	Sockbuf *sb = NULL;
	int size = STORE_READAHEAD;

	if (s->tls != SKD_STORE_TLS_NONE || ldap_tls_inplace(ld) ||
	    ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) != LDAP_OPT_SUCCESS ||
	    sb == NULL ||
	    ber_sockbuf_ctrl(sb, LBER_SB_OPT_HAS_IO,
	    &ber_sockbuf_io_readahead) == 1)
		return;
	(void)ber_sockbuf_add_io(sb, &ber_sockbuf_io_readahead,
	    LBER_SBIOD_LEVEL_PROVIDER, &size);
}

/* skd_store_i_connect makes a new connection for s's server and identity,
 * protected as s->tls says, and binds; returns the LDAP code, *out_ld
 * being set on success only. */
int
skd_store_i_connect(struct skd_store *s, LDAP **out_ld)
{
	struct timeval tv = { STORE_NET_TIMEOUT_S, 0 };
	struct berval cred;
	LDAP *ld = NULL;
	int version = LDAP_VERSION3;
	int rc;

	*out_ld = NULL;
	s->tls_failed = 0;
	s->tls_err[0] = '\0';
	if ((rc = ldap_initialize(&ld, s->uri)) != LDAP_SUCCESS)
		return rc;
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON) !=
	    LDAP_OPT_SUCCESS) {
		rc = LDAP_LOCAL_ERROR;
		goto err;
	}
	if ((rc = store_tls_start(s, ld)) != LDAP_SUCCESS)
		goto err;
	if (s->bind == SKD_STORE_BIND_EXTERNAL) {
		/* SASL EXTERNAL: the identity comes from the ldapi peer
		 * credentials or the TLS client certificate.  Send an
		 * empty initial response (RFC 4422 appendix A), not an
		 * absent one (bv_val NULL), which slapd answers with
		 * saslBindInProgress. */
		cred.bv_val = (char *)"";
		cred.bv_len = 0;
		rc = ldap_sasl_bind_s(ld, NULL, "EXTERNAL", &cred, NULL, NULL,
		    NULL);
	} else {
		cred.bv_val = s->password;
		cred.bv_len = s->password != NULL ? strlen(s->password) : 0;
		rc = ldap_sasl_bind_s(ld, s->bind_dn, LDAP_SASL_SIMPLE, &cred,
		    NULL, NULL, NULL);
	}
	if (rc == LDAP_SUCCESS) {
		*out_ld = ld;
		return rc;
	}
 err:
	/* Never leave an unbound (anonymous) connection behind. */
	ldap_unbind_ext(ld, NULL, NULL);
	return rc;
}

/* store_connect replaces s's connection; returns the LDAP code. */
static int
store_connect(struct skd_store *s)
{
	int rc;

	if (s->ld != NULL) {
		ldap_unbind_ext(s->ld, NULL, NULL);
		s->ld = NULL;
	}
	rc = skd_store_i_connect(s, &s->ld);
	if (rc == LDAP_SUCCESS)
		store_readahead(s, s->ld);
	return rc;
}

static void
store_sleep_ms(unsigned ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/*
 * store_reconnect drops the connection and makes a new one, pausing
 * first_ms, then twice as long each time (at most STORE_MAX_PAUSE_MS), for
 * at most max_wait_ms in total.  Returns the last LDAP code.
 */
static int
store_reconnect(struct skd_store *s)
{
	unsigned waited = 0, pause = s->first_ms;
	int rc;

	for (;;) {
		rc = store_connect(s);
		if (rc == LDAP_SUCCESS) {
			s->reconnects++;
			return rc;
		}
		/* A TLS failure is not the server being away. */
		if (!store_retryable(rc) || s->tls_failed ||
		    waited >= s->max_wait_ms)
			return rc;
		if (pause > s->max_wait_ms - waited)
			pause = s->max_wait_ms - waited;
		store_sleep_ms(pause);
		waited += pause;
		pause *= 2;
		if (pause > STORE_MAX_PAUSE_MS)
			pause = STORE_MAX_PAUSE_MS;
		if (pause == 0)
			pause = 1;
	}
}

int
skd_store_i_ensure(struct skd_store *s)
{
	int rc;

	if (s->ld != NULL)
		return 1;
	if ((rc = store_reconnect(s)) != LDAP_SUCCESS)
		return skd_store_i_ldap_fail(s, rc, "reconnect", s->uri);
	return 1;
}

enum store_optype { OP_ADD, OP_MODIFY, OP_DELETE, OP_SEARCH };

struct store_op {
	enum store_optype	 type;
	const char		*dn;
	LDAPMod			**mods;
	LDAPControl		**sctrls;
	int			 scope;
	const char		*filter;
	char			**attrs;
	int			 sizelimit;	/* 0: none */
	LDAPMessage		**out_res;
};

static int
store_exec1(struct skd_store *s, const struct store_op *op)
{
	if (s->ld == NULL)
		return LDAP_SERVER_DOWN;
	switch (op->type) {
	case OP_ADD:
		return ldap_add_ext_s(s->ld, op->dn, op->mods, op->sctrls,
		    NULL);
	case OP_MODIFY:
		return ldap_modify_ext_s(s->ld, op->dn, op->mods, op->sctrls,
		    NULL);
	case OP_DELETE:
		return ldap_delete_ext_s(s->ld, op->dn, op->sctrls, NULL);
	case OP_SEARCH:
		ldap_msgfree(*op->out_res);
		*op->out_res = NULL;
		return ldap_search_ext_s(s->ld, op->dn, op->scope, op->filter,
		    op->attrs, 0, op->sctrls, NULL, NULL, op->sizelimit > 0 ?
		    op->sizelimit : LDAP_NO_LIMIT, op->out_res);
	}
	return LDAP_PARAM_ERROR;
}


/* store_exec runs op, reconnecting and retrying while the server is away
 * (bounded by the session's retry budget). */
static int
store_exec(struct skd_store *s, const struct store_op *op)
{
	int rc, tries;

	for (tries = 0;; tries++) {
		rc = store_exec1(s, op);
		if (!store_retryable(rc) || s->max_wait_ms == 0 || tries >= 3)
			return rc;
		if ((rc = store_reconnect(s)) != LDAP_SUCCESS) {
			/* A refused re-bind is not "server down". */
			return store_retryable(rc) ? LDAP_SERVER_DOWN : rc;
		}
	}
}

int
skd_store_i_add(struct skd_store *s, const char *dn, LDAPMod **mods)
{
	struct store_op op = { .type = OP_ADD, .dn = dn, .mods = mods };

	return store_exec(s, &op);
}

/*
 * skd_store_i_add_many adds n entries with up to window adds in flight on
 * the session's connection, rc[i] the LDAP code of entry i.  slapd then
 * reads and checks one add while another commits, and the round trips
 * overlap (issue 14: the not-mutually-aware rekey writes one entry a
 * member).  Whatever has no answer when the connection fails is abandoned
 * and added again one at a time through store_exec (reconnecting): an
 * entry the server added before the failure then answers alreadyExists,
 * which the callers, create-if-absent writes, accept.  Returns zero only
 * when out of memory.
 */
int
skd_store_i_add_many(struct skd_store *s, size_t n, char *const *dns,
    LDAPMod ***mods, int *rc, size_t window)
{
	LDAPMessage *res = NULL;
	size_t sent = 0, done = 0, inflight = 0, i;
	int *msgid, err, broken = 0;

	if (n == 0)
		return 1;
	if ((msgid = calloc(n, sizeof(*msgid))) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		rc[i] = -1;
	if (window == 0)
		window = 1;
	if (s->ld == NULL)
		broken = 1;
	while (!broken && done < n) {
		while (sent < n && inflight < window) {
			if (ldap_add_ext(s->ld, dns[sent], mods[sent], NULL,
			    NULL, &msgid[sent]) != LDAP_SUCCESS) {
				broken = 1;
				break;
			}
			sent++;
			inflight++;
		}
		/* The oldest add's answer (the others wait in libldap's
		 * queue, as do the entries of a search the caller is
		 * handing on: store_search_plain). */
		if (broken || ldap_result(s->ld, msgid[done], LDAP_MSG_ALL,
		    NULL, &res) <= 0) {
			broken = 1;
			break;
		}
		err = LDAP_OTHER;
		if (ldap_parse_result(s->ld, res, &err, NULL, NULL, NULL,
		    NULL, 1) != LDAP_SUCCESS)
			err = LDAP_OTHER;
		res = NULL;
		rc[done++] = err;
		inflight--;
	}
	ldap_msgfree(res);
	if (broken) {
		for (i = 0; i < sent; i++) {
			if (rc[i] == -1 && s->ld != NULL)
				(void)ldap_abandon_ext(s->ld, msgid[i], NULL,
				    NULL);
		}
		for (i = 0; i < n; i++) {
			if (rc[i] == -1)
				rc[i] = skd_store_i_add(s, dns[i], mods[i]);
		}
	}
	free(msgid);
	return 1;
}

int
skd_store_i_modify(struct skd_store *s, const char *dn, LDAPMod **mods,
    LDAPControl **sctrls)
{
	struct store_op op = { .type = OP_MODIFY, .dn = dn, .mods = mods,
	    .sctrls = sctrls };

	return store_exec(s, &op);
}

int
skd_store_i_delete(struct skd_store *s, const char *dn)
{
	return skd_store_i_delete_ctrl(s, dn, NULL);
}

int
skd_store_i_delete_ctrl(struct skd_store *s, const char *dn,
    LDAPControl **sctrls)
{
	struct store_op op = { .type = OP_DELETE, .dn = dn,
	    .sctrls = sctrls };

	return store_exec(s, &op);
}

int
skd_store_i_search(struct skd_store *s, LDAPMessage **out_res,
    const char *base, int scope, const char *filter, char **attrs,
    LDAPControl **sctrls)
{
	struct store_op op = { .type = OP_SEARCH, .dn = base, .scope = scope,
	    .filter = filter, .attrs = attrs, .sctrls = sctrls,
	    .out_res = out_res };

	*out_res = NULL;
	return store_exec(s, &op);
}

int
skd_store_i_read(struct skd_store *s, LDAPMessage **out_res,
    LDAPMessage **out_e, const char *dn, char **attrs)
{
	LDAPMessage *res = NULL, *e;
	int rc;

	*out_res = NULL;
	*out_e = NULL;
	rc = skd_store_i_search(s, &res, dn, LDAP_SCOPE_BASE,
	    "(objectClass=*)", attrs, NULL);
	if (rc != LDAP_SUCCESS) {
		ldap_msgfree(res);
		return skd_store_i_ldap_fail(s, rc, "read", dn);
	}
	if ((e = ldap_first_entry(s->ld, res)) == NULL) {
		ldap_msgfree(res);
		return skd_store_i_fail(s, SKD_STORE_ERR_NOT_FOUND,
		    "read %s: no entry", dn);
	}
	*out_res = res;
	*out_e = e;
	return 1;
}

/* Hands each entry of res to cb (skd_store_i_search_each's contract),
 * adding one to *seen for each: 0 when cb failed, 2 when it stopped
 * early, 1 when every entry went. */
static int
store_hand_on(struct skd_store *s, LDAPMessage *res, skd_store_i_entry_cb cb,
    void *arg, unsigned long *seen)
{
	LDAPMessage *e;
	int r;

	for (e = ldap_first_entry(s->ld, res); e != NULL;
	    e = ldap_next_entry(s->ld, e)) {
		if ((r = cb(s, e, arg)) == 0)
			return 0;
		(*seen)++;
		if (r == 2)
			return 2;
	}
	return 1;
}

int
skd_store_i_search_each(struct skd_store *s, const char *base, int scope,
    const char *filter, char **attrs, int page_size, skd_store_i_entry_cb cb,
    void *arg)
{
	struct berval cookie = { 0, NULL };
	LDAPControl *page = NULL, *sctrls[2] = { NULL, NULL };
	LDAPControl **rctrls = NULL, *pr;
	LDAPMessage *res = NULL;
	unsigned reconnects;
	unsigned long seen = 0;
	ber_int_t count;
	int rc, err, r, ret = 0, more, capped;

	if (page_size <= 0)
		page_size = 200;
	do {
		reconnects = s->reconnects;
		if (s->ld == NULL && store_reconnect(s) != LDAP_SUCCESS) {
			skd_store_i_fail(s, SKD_STORE_ERR_UNAVAILABLE,
			    "search %s: not connected", base);
			goto err;
		}
		ldap_control_free(page);
		page = NULL;
		rc = ldap_create_page_control(s->ld, page_size, &cookie, 0,
		    &page);
		if (rc != LDAP_SUCCESS) {
			skd_store_i_ldap_fail(s, rc, "page control", base);
			goto err;
		}
		sctrls[0] = page;
		rc = skd_store_i_search(s, &res, base, scope, filter, attrs,
		    sctrls);
		if (cookie.bv_len != 0 && s->reconnects != reconnects) {
			/* The cookie belonged to the old connection. */
			skd_store_i_fail(s, SKD_STORE_ERR_UNAVAILABLE,
			    "search %s: connection lost while paging", base);
			goto err;
		}
		if (rc != LDAP_SUCCESS && (rc != LDAP_SIZELIMIT_EXCEEDED ||
		    res == NULL)) {
			skd_store_i_ldap_fail(s, rc, "search", base);
			goto err;
		}
		rc = ldap_parse_result(s->ld, res, &err, NULL, NULL, NULL,
		    &rctrls, 0);
		/* sizeLimitExceeded: slapd stops a paged search at the hard
		 * size limit unless olcLimits size.prtotal lifts it; the
		 * entries up to the limit are handed on, then the listing
		 * fails saying why. */
		capped = rc == LDAP_SUCCESS && err == LDAP_SIZELIMIT_EXCEEDED;
		if (rc != LDAP_SUCCESS || (err != LDAP_SUCCESS && !capped)) {
			skd_store_i_ldap_fail(s, rc != LDAP_SUCCESS ? rc : err,
			    "search", base);
			goto err;
		}
		ber_memfree(cookie.bv_val);
		cookie.bv_val = NULL;
		cookie.bv_len = 0;
		more = 0;
		pr = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls,
		    NULL);
		if (pr != NULL && !capped) {
			rc = ldap_parse_pageresponse_control(s->ld, pr, &count,
			    &cookie);
			if (rc != LDAP_SUCCESS) {
				skd_store_i_ldap_fail(s, rc, "page response",
				    base);
				goto err;
			}
			more = cookie.bv_len != 0;
		}
		ldap_controls_free(rctrls);
		rctrls = NULL;
		if ((r = store_hand_on(s, res, cb, arg, &seen)) == 0)
			goto err;
		if (r == 2) {
			/* Stopping early: a real client would abandon the
			 * paged search with size 0; dropping the cookie is
			 * enough for slapd. */
			more = 0;
			capped = 0;
		}
		ldap_msgfree(res);
		res = NULL;
		if (capped) {
			skd_store_i_fail(s, store_map_rc(err), "search %s: the "
			    "directory's size limit ended this paged listing "
			    "after %lu entries: it is incomplete (olcLimits "
			    "size.prtotal lifts the limit for paged searches; "
			    "skd-setup-directory(8) sets it unless "
			    "--no-prtotal)", base, seen);
			goto err;
		}
	} while (more);
	ret = 1;
 err:
	ldap_msgfree(res);
	ldap_controls_free(rctrls);
	ldap_control_free(page);
	ber_memfree(cookie.bv_val);
	return ret;
}

/* A callback that passes on, to cb, only the entries whose DN is not in
 * the sorted list skip (those a plain search handed on before it stopped
 * at a size limit); once as many as it holds were passed over, the rest
 * go on unchecked. */
struct store_skip {
	const struct skd_store_i_dns	*skip;
	size_t				 left;
	skd_store_i_entry_cb		 cb;
	void				*arg;
};

static int
store_dn_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
store_skip_entry(struct skd_store *s, LDAPMessage *e, void *arg)
{
	struct store_skip *k = arg;
	char *dn;
	int found;

	if (k->left == 0)
		return k->cb(s, e, k->arg);
	if ((dn = ldap_get_dn(s->ld, e)) == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "entry DN");
	found = bsearch(&dn, k->skip->v, k->skip->n, sizeof(*k->skip->v),
	    store_dn_cmp) != NULL;
	ldap_memfree(dn);
	if (!found)
		return k->cb(s, e, k->arg);
	k->left--;
	return 1;
}

/*
 * store_search_plain runs a plain one-level search for at most sizelimit
 * entries and hands each entry to cb as it arrives, recording its DN in
 * *seen first, so that the caller's making starts with the first entries
 * instead of after the last (docs/perf/history.md, round 16).  cb may use
 * the session meanwhile: libldap keeps the search's entries that arrive
 * while another operation waits for its answer (every wait of the
 * session is for its own message id, skd_store_i_add_many's included).
 * A connection lost before any entry was handed on is made again and the
 * search asked again; after one, the walk fails, since a new connection
 * has no such search.  Returns the search's LDAP result code; *out_r is
 * one then, zero when cb failed or the connection was lost while handing
 * on (recorded, by cb or here) and two when cb stopped early.
 */
static int
store_search_plain(struct skd_store *s, const char *base, const char *filter,
    char **attrs, int sizelimit, skd_store_i_entry_cb cb, void *arg,
    struct skd_store_i_dns *seen, int *out_r)
{
	LDAPMessage *msg = NULL;
	LDAP *ld;
	unsigned reconnects;
	int rc, err, msgid, tries, r;

	*out_r = 1;
	for (tries = 0;; tries++) {
		ld = s->ld;
		reconnects = s->reconnects;
		rc = ld == NULL ? LDAP_SERVER_DOWN : ldap_search_ext(ld, base,
		    LDAP_SCOPE_ONELEVEL, filter, attrs, 0, NULL, NULL, NULL,
		    sizelimit, &msgid);
		while (rc == LDAP_SUCCESS) {
			if (s->ld != ld || s->reconnects != reconnects) {
				/* cb's own operation made a new one */
				skd_store_i_fail(s, SKD_STORE_ERR_UNAVAILABLE,
				    "search %s: connection lost while handing "
				    "on its entries", base);
				*out_r = 0;
				return LDAP_SERVER_DOWN;
			}
			if (ldap_result(ld, msgid, LDAP_MSG_ONE, NULL,
			    &msg) <= 0) {
				(void)ldap_get_option(ld, LDAP_OPT_RESULT_CODE,
				    &rc);
				if (rc == LDAP_SUCCESS)
					rc = LDAP_SERVER_DOWN;
				break;
			}
			switch (ldap_msgtype(msg)) {
			case LDAP_RES_SEARCH_ENTRY:
				r = skd_store_i_collect_dn(s, msg, seen) ?
				    cb(s, msg, arg) : 0;
				ldap_msgfree(msg);
				msg = NULL;
				if (r == 1)
					continue;
				if (s->ld == ld)
					(void)ldap_abandon_ext(ld, msgid, NULL,
					    NULL);
				*out_r = r == 2 ? 2 : 0;
				return r == 2 ? LDAP_SUCCESS : LDAP_OTHER;
			case LDAP_RES_SEARCH_RESULT:
				if (ldap_parse_result(ld, msg, &err, NULL,
				    NULL, NULL, NULL, 1) != LDAP_SUCCESS)
					err = LDAP_OTHER;
				return err;
			default:	/* a reference: none under a GL */
				ldap_msgfree(msg);
				msg = NULL;
				continue;
			}
		}
		if (seen->n > 0 || !store_retryable(rc) ||
		    s->max_wait_ms == 0 || tries >= 3)
			return rc;
		if ((rc = store_reconnect(s)) != LDAP_SUCCESS)
			return store_retryable(rc) ? LDAP_SERVER_DOWN : rc;
	}
}

int
skd_store_i_search_children(struct skd_store *s, const char *base,
    const char *filter, char **attrs, int direct_max, int page_size,
    skd_store_i_entry_cb cb, void *arg)
{
	struct skd_store_i_dns seen = { NULL, 0, 0 };
	struct store_skip skip = { &seen, 0, cb, arg };
	int rc, r = 1, ret = 0;

	rc = direct_max > 0 ? store_search_plain(s, base, filter, attrs,
	    direct_max, cb, arg, &seen, &r) : LDAP_SIZELIMIT_EXCEEDED;
	if (r == 0)
		goto out;	/* recorded */
	if (rc == LDAP_SIZELIMIT_EXCEEDED || rc == LDAP_ADMINLIMIT_EXCEEDED) {
		/* More than direct_max, or the directory's own limit: page
		 * through them all, passing over those handed on. */
		if (seen.n > 0)
			qsort(seen.v, seen.n, sizeof(*seen.v), store_dn_cmp);
		skip.left = seen.n;
		ret = skd_store_i_search_each(s, base, LDAP_SCOPE_ONELEVEL,
		    filter, attrs, page_size, seen.n > 0 ? store_skip_entry :
		    cb, seen.n > 0 ? (void *)&skip : arg);
		goto out;
	}
	if (rc != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, "search", base);
		goto out;
	}
	ret = 1;
 out:
	skd_store_i_strs_free(seen.v, seen.n);
	return ret;
}

/*
 * libldap writes to its socket without MSG_NOSIGNAL: a server that went
 * away would kill the process with SIGPIPE before the store could
 * reconnect.  Ignore it unless the program chose a disposition itself.
 */
static void
store_ignore_sigpipe(void)
{
	struct sigaction sa, old;

	if (sigaction(SIGPIPE, NULL, &old) != 0 || old.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGPIPE, &sa, NULL);
}

struct skd_store *
skd_store_open(enum skd_store_err *out_err, const char *uri,
    const char *base_dn, enum skd_store_bind bind, const char *bind_dn,
    const char *password)
{
	struct skd_store_conf conf = { .uri = uri, .base_dn = base_dn,
	    .bind = bind, .bind_dn = bind_dn, .password = password,
	    .tls = SKD_STORE_TLS_NONE };

	return skd_store_open_conf(out_err, NULL, 0, &conf);
}

static void
store_open_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_len == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* Whether uri starts with scheme (e.g. "ldaps://"), in any case. */
static int
store_uri_is(const char *uri, const char *scheme)
{
	return strncasecmp(uri, scheme, strlen(scheme)) == 0;
}

struct skd_store *
skd_store_open_conf(enum skd_store_err *out_err, char *err, size_t err_len,
    const struct skd_store_conf *conf)
{
	struct skd_store *s = NULL;
	enum skd_store_err e = SKD_STORE_ERR_OTHER;
	const char *uri = conf->uri, *base_dn = conf->base_dn;
	const char *bind_dn = conf->bind_dn, *password = conf->password;
	enum skd_store_bind bind = conf->bind;
	int rc;

	store_open_err(err, err_len, "%s", "");
	if (uri == NULL || base_dn == NULL ||
	    (bind == SKD_STORE_BIND_SIMPLE && bind_dn == NULL)) {
		e = SKD_STORE_ERR_INVALID;
		store_open_err(err, err_len, "%s",
		    "no URI, base DN or bind DN");
		goto err;
	}
	if ((conf->tls == SKD_STORE_TLS_STARTTLS &&
	    !store_uri_is(uri, "ldap://")) ||
	    (conf->tls == SKD_STORE_TLS_LDAPS &&
	    !store_uri_is(uri, "ldaps://"))) {
		e = SKD_STORE_ERR_INVALID;
		store_open_err(err, err_len, "%s: %s wants an %s URI", uri,
		    conf->tls == SKD_STORE_TLS_LDAPS ? "tls = ldaps" :
		    "tls = starttls",
		    conf->tls == SKD_STORE_TLS_LDAPS ? "ldaps://" : "ldap://");
		goto err;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		store_open_err(err, err_len, "%s", "out of memory");
		goto err;
	}
	store_ignore_sigpipe();
	s->bind = bind;
	s->tls = conf->tls;
	if (conf->tls_ca_file != NULL &&
	    (s->tls_ca_file = strdup(conf->tls_ca_file)) == NULL) {
		store_open_err(err, err_len, "%s", "out of memory");
		goto err;
	}
	s->max_wait_ms = STORE_DEFAULT_MAX_WAIT_MS;
	s->first_ms = STORE_DEFAULT_FIRST_MS;
	if ((s->uri = strdup(uri)) == NULL ||
	    (s->base = strdup(base_dn)) == NULL ||
	    (s->groups_dn = skd_store_i_printf("ou=groups,%s",
	    base_dn)) == NULL ||
	    (s->requests_dn = skd_store_i_printf("ou=requests,%s",
	    base_dn)) == NULL ||
	    (s->responses_dn = skd_store_i_printf("ou=responses,%s",
	    base_dn)) == NULL ||
	    (s->messages_dn = skd_store_i_printf("ou=messages,%s",
	    base_dn)) == NULL ||
	    (s->replay_dn = skd_store_i_printf("ou=replay,%s",
	    base_dn)) == NULL ||
	    (s->agent_dn = skd_store_i_printf("cn=gla,%s", base_dn)) == NULL) {
		store_open_err(err, err_len, "%s", "out of memory");
		goto err;
	}
	if (bind == SKD_STORE_BIND_SIMPLE) {
		if ((s->bind_dn = strdup(bind_dn)) == NULL ||
		    (password != NULL &&
		    (s->password = strdup(password)) == NULL)) {
			store_open_err(err, err_len, "%s", "out of memory");
			goto err;
		}
	}
	/* The first connection gets the same bounded patience as a
	 * reconnection: a worker may start before slapd does.  A lazy
	 * session has none until its first operation (skd_store_i_ensure)
	 * or watch. */
	rc = LDAP_SUCCESS;
	if (!conf->lazy)
		rc = store_connect(s);
	if (store_retryable(rc) && !s->tls_failed && s->max_wait_ms > 0 &&
	    !conf->fail_fast)
		rc = store_reconnect(s);
	if (rc != LDAP_SUCCESS) {
		e = store_map_rc(rc);
		(void)skd_store_i_ldap_fail(s, rc, "connect", uri);
		/* The LDAP result code too, as libldap's tools print it. */
		if (rc > 0 && !s->tls_failed)
			store_open_err(err, err_len, "%s (LDAP result %d)",
			    s->errmsg, rc);
		else
			store_open_err(err, err_len, "%s", s->errmsg);
		goto err;
	}
	s->reconnects = 0;
	if (out_err != NULL)
		*out_err = SKD_STORE_OK;
	return s;
 err:
	if (out_err != NULL)
		*out_err = e;
	skd_store_close(s);
	return NULL;
}

/* A copy of libldap's global string option opt, or NULL. */
static char *
store_default_str(int opt)
{
	char *v = NULL, *copy = NULL;

	if (ldap_get_option(NULL, opt, &v) == LDAP_OPT_SUCCESS && v != NULL &&
	    v[0] != '\0')
		copy = strdup(v);
	ldap_memfree(v);
	return copy;
}

void
skd_store_ldap_defaults(char **out_uri, char **out_base, char **out_ca_file)
{
	char *uris, *sp;

	/* libldap reads ldap.conf and the environment on first use. */
	if ((uris = store_default_str(LDAP_OPT_URI)) != NULL) {
		/* A list of URIs: the first one. */
		if ((sp = strpbrk(uris, " ,\t")) != NULL)
			*sp = '\0';
	}
	*out_uri = uris;
	*out_base = store_default_str(LDAP_OPT_DEFBASE);
	*out_ca_file = store_default_str(LDAP_OPT_X_TLS_CACERTFILE);
}

void
skd_store_close(struct skd_store *s)
{
	if (s == NULL)
		return;
	if (s->ld != NULL)
		ldap_unbind_ext(s->ld, NULL, NULL);
	free(s->uri);
	free(s->base);
	free(s->groups_dn);
	free(s->requests_dn);
	free(s->responses_dn);
	free(s->last_req_id);
	free(s->last_req_submitter);
	free(s->messages_dn);
	free(s->replay_dn);
	free(s->agent_dn);
	free(s->bind_dn);
	free(s->tls_ca_file);
	if (s->password != NULL)
		OPENSSL_clear_free(s->password, strlen(s->password));
	free(s);
}

void
skd_store_set_retry(struct skd_store *s, unsigned max_wait_ms,
    unsigned first_ms)
{
	s->max_wait_ms = max_wait_ms;
	s->first_ms = first_ms > 0 ? first_ms : 1;
}

int
skd_store_drop_connection(struct skd_store *s)
{
	ber_socket_t fd = -1;

	if (s->ld == NULL ||
	    ldap_get_option(s->ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS ||
	    fd < 0)
		return 0;
	/* Like a server that went away: the peer sees EOF and libldap gets
	 * an error on its next read or write. */
	return shutdown(fd, SHUT_RDWR) == 0;
}

void
skd_store_new_id(char out_id[SKD_STORE_ID_LEN])
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, out_id);
}

long
skd_store_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
skd_store_time_str(char out[16], time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 16, "%Y%m%d%H%M%SZ", &tm) != 15)
		memcpy(out, "19700101000000Z", 16);
}

int
skd_store_time_parse(time_t *out_t, const char *str)
{
	struct tm tm;
	int v[6], w[6] = { 4, 2, 2, 2, 2, 2 };
	size_t i, j, k = 0;

	*out_t = 0;
	/* Only the form this store writes: "YYYYMMDDHHMMSSZ". */
	if (str == NULL || strlen(str) != 15 || str[14] != 'Z')
		return 0;
	for (i = 0; i < 6; i++) {
		v[i] = 0;
		for (j = 0; j < (size_t)w[i]; j++, k++) {
			if (str[k] < '0' || str[k] > '9')
				return 0;
			v[i] = v[i] * 10 + (str[k] - '0');
		}
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	*out_t = timegm(&tm);
	return 1;
}
