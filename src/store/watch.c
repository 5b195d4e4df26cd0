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
	ldap_sync_t		 ls;
	int			 started;	/* ls holds a running search */
	char			*base;
	char			*filter;
	skd_store_watch_cb	 cb;
	void			*arg;
	size_t			 seen;		/* entries reported this poll */
};

static char *watch_attrs[] = { LDAP_NO_ATTRS, NULL };

static int
watch_entry(ldap_sync_t *ls, LDAPMessage *msg, struct berval *uuid,
    ldap_sync_refresh_t phase)
{
	struct skd_store_watch *w = ls->ls_private;
	char *dn;

	(void)uuid;
	/* Added or changed (or, in the refresh phase, present): the caller
	 * looks.  Deletions need no work. */
	if (phase == LDAP_SYNC_CAPI_DELETE)
		return LDAP_SUCCESS;
	if ((dn = ldap_get_dn(ls->ls_ld, msg)) == NULL)
		return LDAP_SUCCESS;
	w->seen++;
	if (w->cb != NULL)
		w->cb(w->arg, dn);
	ldap_memfree(dn);
	return LDAP_SUCCESS;
}

static int
watch_intermediate(ldap_sync_t *ls, LDAPMessage *msg, BerVarray uuids,
    ldap_sync_refresh_t phase)
{
	(void)ls;
	(void)msg;
	(void)uuids;
	(void)phase;
	return LDAP_SUCCESS;
}

static int
watch_result(ldap_sync_t *ls, LDAPMessage *msg, int refresh_deletes)
{
	(void)ls;
	(void)msg;
	(void)refresh_deletes;
	/* The server ended the persistent search: start over. */
	return LDAP_SERVER_DOWN;
}

static void
watch_stop(struct skd_store_watch *w)
{
	if (w->ls.ls_ld != NULL)
		ldap_unbind_ext(w->ls.ls_ld, NULL, NULL);
	w->ls.ls_ld = NULL;
	/* ldap_sync_destroy frees the cookie; the search parameters are
	 * ours and stay. */
	if (w->started) {
		ber_memfree(w->ls.ls_cookie.bv_val);
		w->ls.ls_cookie.bv_val = NULL;
		w->ls.ls_cookie.bv_len = 0;
	}
	w->started = 0;
}

/* watch_start connects and runs the refresh phase (every entry already
 * there is reported once). */
static int
watch_start(struct skd_store_watch *w)
{
	struct skd_store *s = w->s;
	LDAP *ld = NULL;
	int rc;

	watch_stop(w);
	if ((rc = skd_store_i_connect(s, &ld)) != LDAP_SUCCESS)
		return skd_store_i_ldap_fail(s, rc, "watch connect", w->base);
	memset(&w->ls, 0, sizeof(w->ls));
	if (ldap_sync_initialize(&w->ls) == NULL) {
		ldap_unbind_ext(ld, NULL, NULL);
		return skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
		    "ldap_sync_initialize");
	}
	w->ls.ls_ld = ld;
	w->ls.ls_base = w->base;
	w->ls.ls_scope = LDAP_SCOPE_ONELEVEL;
	w->ls.ls_filter = w->filter;
	w->ls.ls_attrs = watch_attrs;
	w->ls.ls_timeout = 0;
	w->ls.ls_search_entry = watch_entry;
	w->ls.ls_intermediate = watch_intermediate;
	w->ls.ls_search_result = watch_result;
	w->ls.ls_private = w;
	w->started = 1;
	if ((rc = ldap_sync_init_refresh_and_persist(&w->ls)) !=
	    LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, "sync refreshAndPersist", w->base);
		watch_stop(w);
		return 0;
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
	int rc;

	if (out_n != NULL)
		*out_n = 0;
	skd_store_i_ok(w->s);
	w->seen = 0;
	if (!w->started) {
		/* Lost earlier: a fresh refresh reports everything again,
		 * which is what a caller that missed changes needs. */
		if (!watch_start(w))
			return 0;
		if (out_n != NULL)
			*out_n = w->seen;
		return 1;
	}
	w->ls.ls_timeout = timeout_s < 0 ? 0 : timeout_s;
	rc = ldap_sync_poll(&w->ls);
	if (rc < 0 || (rc != LDAP_SUCCESS && rc != LDAP_RES_SEARCH_ENTRY &&
	    rc != LDAP_RES_INTERMEDIATE)) {
		/* The connection or the search is gone: the next poll
		 * starts over. */
		watch_stop(w);
		return skd_store_i_ldap_fail(w->s, rc < 0 ? LDAP_SERVER_DOWN :
		    rc, "watch", w->base);
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
