/*
 * watch.c: learn of new and changed entries at once, with an RFC 4533
 * refreshAndPersist search (slapd's syncprov overlay) on a connection of
 * its own, instead of polling the directory.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_local.h"

struct skd_store_watch {
	struct skd_store	*s;		/* borrowed */
	LDAP			*ld;		/* the watch's own connection */
	int			 msgid;		/* its running search */
	int			 end_rc;	/* why it ended (LDAP code) */
	char			*base;
	char			*filter;
	skd_store_watch_cb	 cb;
	void			*arg;
	size_t			 seen;		/* entries reported this poll */
};

static char *watch_attrs[] = { LDAP_NO_ATTRS, NULL };

/*
 * The refresh phase is slapd's to end (RFC 4533 3.4: a Sync Info Message
 * with refreshDone); a watch that has not seen it by then is given up.
 */
#define WATCH_REFRESH_S		60

/*
 * The watch reads its search's messages one at a time (LDAP_MSG_ONE)
 * rather than through libldap's ldap_sync_init and ldap_sync_poll: in
 * OpenLDAP 2.5 those take every message received so far as one chain
 * (LDAP_MSG_RECEIVED) and hand the chain's first message to the handler
 * once for each message in it, so that a report arriving just behind
 * another was lost (store_req:test_watch_burst), and an entry arriving
 * together with the end of the refresh made the refresh fail.
 */

/* The Sync State of an entry message (RFC 4533 2.3), LDAP_SYNC_PRESENT
 * when it carries none. */
static ber_int_t
entry_state(LDAP *ld, LDAPMessage *msg)
{
	LDAPControl **ctrls = NULL, *c;
	BerElement *ber;
	ber_int_t state = LDAP_SYNC_PRESENT;

	if (ldap_get_entry_controls(ld, msg, &ctrls) != LDAP_SUCCESS)
		return state;
	if ((c = ldap_control_find(LDAP_CONTROL_SYNC_STATE, ctrls, NULL)) !=
	    NULL && (ber = ber_init(&c->ldctl_value)) != NULL) {
		if (ber_scanf(ber, "{e", &state) == LBER_ERROR)
			state = LDAP_SYNC_PRESENT;
		ber_free(ber, 1);
	}
	ldap_controls_free(ctrls);
	return state;
}

/* 1 when msg is the Sync Info Message that ends the refresh phase
 * (RFC 4533 2.5: refreshDelete or refreshPresent, refreshDone DEFAULT
 * TRUE). */
static int
refresh_done(LDAP *ld, LDAPMessage *msg)
{
	struct berval *data = NULL;
	BerElement *ber = NULL;
	ber_tag_t tag;
	ber_len_t len;
	ber_int_t done = 1;
	char *oid = NULL;
	int ok = 0;

	if (ldap_parse_intermediate(ld, msg, &oid, &data, NULL, 0) !=
	    LDAP_SUCCESS || oid == NULL || strcmp(oid, LDAP_SYNC_INFO) != 0 ||
	    data == NULL || (ber = ber_init(data)) == NULL)
		goto out;
	tag = ber_peek_tag(ber, &len);
	if (tag != LDAP_TAG_SYNC_REFRESH_DELETE &&
	    tag != LDAP_TAG_SYNC_REFRESH_PRESENT)
		goto out;
	if (ber_scanf(ber, "{") == LBER_ERROR)
		goto out;
	if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE &&
	    ber_scanf(ber, "x") == LBER_ERROR)
		goto out;
	if (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDONE &&
	    ber_scanf(ber, "b", &done) == LBER_ERROR)
		goto out;
	ok = done != 0;
 out:
	if (ber != NULL)
		ber_free(ber, 1);
	ber_bvfree(data);
	ldap_memfree(oid);
	return ok;
}

/*
 * watch_one takes one message of the search, waiting up to *tv for it:
 * an entry added or changed (or, in the refresh phase, present) is
 * reported (a deletion needs no work); *out_done is set at the end of the
 * refresh phase.  Returns 1 when it took a message, 0 when none came in
 * time, -1 when the connection or the search is gone.
 */
static int
watch_one(struct skd_store_watch *w, struct timeval *tv, int *out_done)
{
	LDAPMessage *msg = NULL;
	char *dn;
	int rc, ret = 1;

	rc = ldap_result(w->ld, w->msgid, LDAP_MSG_ONE, tv, &msg);
	if (rc == 0)
		return 0;
	if (rc < 0 || msg == NULL) {
		w->end_rc = LDAP_SERVER_DOWN;
		return -1;
	}
	switch (rc) {
	case LDAP_RES_SEARCH_ENTRY:
		if (entry_state(w->ld, msg) == LDAP_SYNC_DELETE ||
		    (dn = ldap_get_dn(w->ld, msg)) == NULL)
			break;
		w->seen++;
		if (w->cb != NULL)
			w->cb(w->arg, dn);
		ldap_memfree(dn);
		break;
	case LDAP_RES_INTERMEDIATE:
		if (out_done != NULL && refresh_done(w->ld, msg))
			*out_done = 1;
		break;
	case LDAP_RES_SEARCH_RESULT:
		/* The server ended the persistent search: start over.  At
		 * the start, why it refused (no syncprov, no access) is
		 * what the caller is told. */
		if (ldap_parse_result(w->ld, msg, &w->end_rc, NULL, NULL, NULL,
		    NULL, 0) != LDAP_SUCCESS || w->end_rc == LDAP_SUCCESS)
			w->end_rc = LDAP_SERVER_DOWN;
		ret = -1;
		break;
	default:
		break;
	}
	ldap_msgfree(msg);
	return ret;
}

static void
watch_stop(struct skd_store_watch *w)
{
	if (w->ld != NULL)
		ldap_unbind_ext(w->ld, NULL, NULL);
	w->ld = NULL;
	w->msgid = -1;
}

/* watch_start connects, starts the refreshAndPersist search (RFC 4533
 * 2.2) and runs its refresh phase (every entry already there is reported
 * once). */
static int
watch_start(struct skd_store_watch *w)
{
	struct skd_store *s = w->s;
	struct berval value = { 0, NULL };
	struct timeval tv;
	LDAPControl ctrl, *ctrls[2];
	BerElement *ber;
	long until, left;
	int rc, done = 0;

	watch_stop(w);
	if ((rc = skd_store_i_connect(s, &w->ld)) != LDAP_SUCCESS)
		return skd_store_i_ldap_fail(s, rc, "watch connect", w->base);
	/* syncRequestValue: the mode alone, no cookie (every start is a
	 * fresh refresh), reloadHint left at its DEFAULT FALSE. */
	if ((ber = ber_alloc_t(LBER_USE_DER)) == NULL ||
	    ber_printf(ber, "{e}", (ber_int_t)LDAP_SYNC_REFRESH_AND_PERSIST) ==
	    -1 || ber_flatten2(ber, &value, 1) == -1) {
		if (ber != NULL)
			ber_free(ber, 1);
		watch_stop(w);
		return skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
		    "watch: out of memory");
	}
	ber_free(ber, 1);
	ctrl.ldctl_oid = LDAP_CONTROL_SYNC;
	ctrl.ldctl_value = value;
	ctrl.ldctl_iscritical = 1;
	ctrls[0] = &ctrl;
	ctrls[1] = NULL;
	rc = ldap_search_ext(w->ld, w->base, LDAP_SCOPE_ONELEVEL, w->filter,
	    watch_attrs, 0, ctrls, NULL, NULL, 0, &w->msgid);
	ber_memfree(value.bv_val);
	if (rc != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, "sync refreshAndPersist", w->base);
		watch_stop(w);
		return 0;
	}
	until = skd_store_mono_ms() + WATCH_REFRESH_S * 1000L;
	while (!done) {
		left = until - skd_store_mono_ms();
		tv.tv_sec = left / 1000;
		tv.tv_usec = (left % 1000) * 1000;
		if (left <= 0 || (rc = watch_one(w, &tv, &done)) == 0) {
			watch_stop(w);
			return skd_store_i_fail(s, SKD_STORE_ERR_UNAVAILABLE,
			    "watch: the refresh did not end");
		}
		if (rc < 0) {
			watch_stop(w);
			return skd_store_i_ldap_fail(s, w->end_rc,
			    "sync refreshAndPersist", w->base);
		}
	}
	return 1;
}

/* watch_new starts a watch of base's children matching filter (taken
 * over: freed here on failure too). */
static struct skd_store_watch *
watch_new(struct skd_store *s, const char *base, char *filter,
    skd_store_watch_cb cb, void *arg)
{
	struct skd_store_watch *w = NULL;

	if (filter == NULL || (w = calloc(1, sizeof(*w))) == NULL ||
	    (w->base = strdup(base)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		free(filter);
		goto err;
	}
	w->filter = filter;
	w->s = s;
	w->cb = cb;
	w->arg = arg;
	if (!watch_start(w))
		goto err;
	return w;
 err:
	skd_store_watch_close(w);
	return NULL;
}

struct skd_store_watch *
skd_store_watch_open(struct skd_store *s, enum skd_store_watch_what what,
    skd_store_watch_cb cb, void *arg)
{
	const char *base;
	char *filter;

	skd_store_i_ok(s);
	switch (what) {
	case SKD_STORE_WATCH_REQUESTS:
		/* Only those waiting to be taken: a claim, journal or finish
		 * then costs slapd no report to every worker (a request that
		 * leaves the filter is reported as a deletion, which needs
		 * no work); a lease that runs out is found by listing
		 * (issue 14). */
		base = s->requests_dn;
		filter = skd_store_i_printf("(&(objectClass=%s)(%s=pending))",
		    OC_REQUEST, A_STATE);
		break;
	case SKD_STORE_WATCH_MESSAGES:
		base = s->messages_dn;
		filter = skd_store_i_printf("(objectClass=%s)", OC_GLAMSG);
		break;
	case SKD_STORE_WATCH_RESPONSES:
		base = s->responses_dn;
		filter = skd_store_i_printf("(objectClass=%s)", OC_RESPONSE);
		break;
	default:
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "watch what");
		return NULL;
	}
	return watch_new(s, base, filter, cb, arg);
}

struct skd_store_watch *
skd_store_watch_response(struct skd_store *s, const char *request_id,
    skd_store_watch_cb cb, void *arg)
{
	char *esc;
	struct skd_store_watch *w;

	skd_store_i_ok(s);
	if (request_id == NULL || request_id[0] == '\0' ||
	    (esc = skd_store_i_filter_escape(request_id)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "request id");
		return NULL;
	}
	/* The submitter may search the container's entry and objectClass
	 * (docs/directory.md, rule 5) and read its own response (rule 13):
	 * syncprov sends it that one entry, nobody else's. */
	w = watch_new(s, s->responses_dn, skd_store_i_printf(
	    "(&(objectClass=%s)(%s=%s))", OC_RESPONSE, A_REQID, esc), cb, arg);
	free(esc);
	return w;
}

int
skd_store_watch_poll(struct skd_store_watch *w, size_t *out_n, int timeout_s)
{
	struct timeval tv;
	long until, left;
	int rc;

	if (out_n != NULL)
		*out_n = 0;
	skd_store_i_ok(w->s);
	w->seen = 0;
	if (w->ld == NULL) {
		/* Lost earlier: a fresh refresh reports everything again,
		 * which is what a caller that missed changes needs. */
		if (!watch_start(w))
			return 0;
		if (out_n != NULL)
			*out_n = w->seen;
		return 1;
	}
	/*
	 * Up to timeout_s for the first report, then every message already
	 * here.  syncprov sends every persistent search a Sync Info
	 * newcookie for each write anywhere in the database (RFC 4533 2.5),
	 * so a message is no report: the wait goes on past them.
	 */
	until = skd_store_mono_ms() + (timeout_s < 0 ? 0 : timeout_s) * 1000L;
	do {
		left = w->seen > 0 ? 0 : until - skd_store_mono_ms();
		if (left < 0)
			left = 0;
		tv.tv_sec = left / 1000;
		tv.tv_usec = (left % 1000) * 1000;
	} while ((rc = watch_one(w, &tv, NULL)) == 1);
	if (rc < 0) {
		/* The connection or the search is gone: the next poll
		 * starts over. */
		watch_stop(w);
		return skd_store_i_ldap_fail(w->s, LDAP_SERVER_DOWN, "watch",
		    w->base);
	}
	if (out_n != NULL)
		*out_n = w->seen;
	return 1;
}

void
skd_store_watch_close(struct skd_store_watch *w)
{
	if (w == NULL)
		return;
	watch_stop(w);
	free(w->base);
	free(w->filter);
	free(w);
}
