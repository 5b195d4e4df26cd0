/*
 * dir.c: the client's directory operations, through src/store only
 * (RFC 5275 1.3: the repository): submit a request, wait for its
 * response (persistent search, else polling), fetch this member's glKey
 * entries.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client/client_local.h"

#define POLL_MS	100

int
skd_client_submit(struct skd_store *s, char out_id[SKD_STORE_ID_LEN],
    const unsigned char *der, size_t len, const char *submitter_dn,
    struct skd_client_error *err)
{
	if (!skd_store_add_request(s, out_id, der, len, submitter_dn))
		return skd_client_seterr(err, SKD_CLIENT_ERR_DIRECTORY,
		    "cannot submit the request: %s", skd_store_errmsg(s));
	return 1;
}

/* The watch reported our response entry (its filter names our request
 * id, so any report is ours). */
static void
on_seen(void *arg, const char *dn)
{
	(void)dn;
	*(int *)arg = 1;
}

/* What the request entry says of the wait (docs/directory.md rule 11:
 * its submitter reads its state and error). */
enum req_end {
	REQ_OPEN,	/* pending or held by the GLA, or unreadable now */
	REQ_ENDED,	/* done or failed: its answer is written first */
	REQ_REFUSED	/* failed without an answer (err says why) */
};

static enum req_end
request_end(struct skd_store *s, const char *id, struct skd_client_error *err)
{
	struct skd_store_request *r = NULL;
	struct skd_store_blob *m = NULL;
	size_t n = 0;
	enum req_end end = REQ_OPEN;

	if (!skd_store_read_request(s, &r, id)) {
		/* Finished and removed (retention): look for the answer. */
		return skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND ?
		    REQ_ENDED : REQ_OPEN;
	}
	if (strcmp(r->state, "done") == 0)
		end = REQ_ENDED;
	else if (strcmp(r->state, "failed") == 0) {
		end = REQ_ENDED;
		if ((!skd_store_read_response(s, &m, &n, id) || n == 0) &&
		    skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND) {
			skd_client_seterr(err, SKD_CLIENT_ERR_REFUSED,
			    "the GLA failed request %s without an answer: %s",
			    id, r->error != NULL ? r->error : "no reason given");
			end = REQ_REFUSED;
		}
	}
	skd_store_blobs_free(m, n);
	skd_store_request_free(r);
	return end;
}

/* The timeout's message: where the request is, as far as we may read it
 * (state and error, docs/directory.md rule 11). */
static void
timed_out(struct skd_store *s, const char *id, struct skd_client_error *err)
{
	struct skd_store_request *r = NULL;

	if (!skd_store_read_request(s, &r, id) || r->state == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_TIMEOUT, "no response "
		    "to request %s yet; read it later with skd response --id "
		    "%s", id, id);
	} else if (strcmp(r->state, "done") == 0) {
		/* RFC 5275 3.2.3, 3.2.4.1: forwarded to the GL's owners,
		 * with no "pending" answer. */
		skd_client_seterr(err, SKD_CLIENT_ERR_TIMEOUT, "no response "
		    "to request %s yet: the GLA has passed it on (a member's "
		    "request to a managed list goes to the GL's owners, and "
		    "is answered when one decides); read it later with skd "
		    "response --id %s", id, id);
	} else if (strcmp(r->state, "pending") == 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_TIMEOUT, "no response "
		    "to request %s yet: no GLA worker has taken it (it stays "
		    "pending; read it later with skd response --id %s)", id,
		    id);
	} else {
		skd_client_seterr(err, SKD_CLIENT_ERR_TIMEOUT, "no response "
		    "to request %s yet: the GLA holds it (state %s%s%s); read "
		    "it later with skd response --id %s", id, r->state,
		    r->error != NULL ? ": " : "", r->error != NULL ? r->error :
		    "", id);
	}
	skd_store_request_free(r);
}

int
skd_client_wait_response(struct skd_store *s,
    struct skd_store_blob **out_msgs, size_t *out_n, const char *id,
    long timeout_ms, struct skd_client_error *err)
{
	return skd_client_wait_response_ex(s, out_msgs, out_n, id,
	    timeout_ms, NULL, err);
}

int
skd_client_wait_response_ex(struct skd_store *s,
    struct skd_store_blob **out_msgs, size_t *out_n, const char *id,
    long timeout_ms, struct skd_client_wait_info *info,
    struct skd_client_error *err)
{
	struct skd_client_wait_info dummy;
	struct timespec pause;
	struct skd_store_watch *w;
	long deadline = skd_store_mono_ms() + timeout_ms, left;
	enum req_end end = REQ_OPEN;
	int ok = 0, seen = 0;

	*out_msgs = NULL;
	*out_n = 0;
	if (info == NULL)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	/* A persistent search (RFC 4533, slapd's syncprov) on our own
	 * response entry wakes us as soon as the GLA writes it (its refresh
	 * phase reports one written already); without one we poll. */
	w = skd_store_watch_response(s, id, on_seen, &seen);
	info->watched = w != NULL;
	for (;;) {
		/* With a watch, the answer is read when the watch reports it
		 * (or once the request has ended: then it is there). */
		if (w == NULL || seen || end == REQ_ENDED) {
			info->reads++;
			if (skd_store_read_response(s, out_msgs, out_n, id) &&
			    *out_n > 0) {
				info->via_watch = w != NULL && seen;
				ok = 1;
				break;
			}
			skd_store_blobs_free(*out_msgs, *out_n);
			*out_msgs = NULL;
			*out_n = 0;
			if (skd_store_error(s) != SKD_STORE_ERR_NOT_FOUND &&
			    skd_store_error(s) != SKD_STORE_OK) {
				skd_client_seterr(err, SKD_CLIENT_ERR_DIRECTORY,
				    "cannot read the response: %s",
				    skd_store_errmsg(s));
				break;
			}
		}
		/* Failed before any answer could be made (no signer to
		 * answer): the request says why. */
		info->checks++;
		if ((end = request_end(s, id, err)) == REQ_REFUSED)
			break;
		if ((left = deadline - skd_store_mono_ms()) <= 0) {
			timed_out(s, id, err);
			break;
		}
		seen = 0;
		/* The watch answers at once; a second without a report looks
		 * at the request again.  One that has ended gets one more
		 * poll, in which the watch's report of its answer (written
		 * before the request ended) comes. */
		if (w != NULL && skd_store_watch_poll(w, NULL, 1) != 1) {
			skd_store_watch_close(w);
			w = NULL;
		}
		if (w == NULL) {
			info->polls++;
			if (left > POLL_MS)
				left = POLL_MS;
			pause.tv_sec = 0;
			pause.tv_nsec = left * 1000000L;
			while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
				;
		}
	}
	skd_store_watch_close(w);
	return ok;
}

int
skd_client_fetch_glkeys(struct skd_store *s,
    struct skd_store_glkey **out_list, size_t *out_n, const char *gl,
    const char *me, struct skd_client_error *err)
{
	if (!skd_store_find_glkeys(s, out_list, out_n, gl, me))
		return skd_client_seterr(err, SKD_CLIENT_ERR_DIRECTORY,
		    "cannot fetch glKey entries: %s", skd_store_errmsg(s));
	return 1;
}

int
skd_client_withdraw(struct skd_store *s, const char *id,
    struct skd_client_error *err)
{
	struct skd_store_request *r = NULL;
	char state[32] = "";
	int ok = 0;

	/* What we may read of it (state) makes the refusal precise. */
	if (skd_store_read_request(s, &r, id) && r->state != NULL)
		(void)snprintf(state, sizeof(state), "%s", r->state);
	skd_store_request_free(r);
	if (skd_store_withdraw_request(s, id))
		return 1;
	switch (skd_store_error(s)) {
	case SKD_STORE_ERR_CONFLICT:
		skd_client_seterr(err, SKD_CLIENT_ERR_REFUSED, "request %s is "
		    "%s: the GLA has taken it, it can no longer be withdrawn "
		    "(its answer: skd response --id %s)", id, state[0] != '\0' ?
		    state : "no longer pending", id);
		break;
	case SKD_STORE_ERR_NOT_FOUND:
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT, "no request %s "
		    "(withdrawn already, or finished and removed)", id);
		break;
	default:
		skd_client_seterr(err, SKD_CLIENT_ERR_DIRECTORY, "cannot "
		    "withdraw request %s: %s", id, skd_store_errmsg(s));
		break;
	}
	return ok;
}
