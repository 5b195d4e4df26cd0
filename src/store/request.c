/*
 * request.c: requests, skdRequestId=<uuid>,ou=requests,<base>, and their
 * processing state: pending -> claimed -> journaled -> done | failed.
 *
 * Exactly once (DESIGN.md): a claim is one modify that deletes
 * skdState=pending (noSuchAttribute if another worker won); a take-over of
 * an expired lease deletes the exact old owner and lease values; journal,
 * renew and finish assert (RFC 4528) that the caller still holds the claim.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store/store_local.h"

static char *req_attrs[] = {
	A_REQID, A_MESSAGE, A_SUBMITTER, A_STATE, A_OWNER, A_LEASE,
	A_JOURNAL, A_ATTEMPTS, A_ERROR, "creatorsName", A_REPLYTO, A_REPLYFROM,
	A_MAILSIGNER, NULL
};

void
skd_store_request_free(struct skd_store_request *r)
{
	if (r == NULL)
		return;
	free(r->message);
	free(r->submitter_dn);
	free(r->state);
	free(r->claim_owner);
	free(r->journal);
	free(r->error);
	free(r->creator_dn);
	free(r->mail_sender);
	free(r->mail_from);
	free(r->mail_signer);
	free(r);
}

static char *
req_dn(struct skd_store *s, const char *id)
{
	if (id == NULL)
		return NULL;
	return skd_store_i_dn(A_REQID, id, NULL, NULL, s->requests_dn);
}

/*
 * What a write should have left on the request, for req_landed: NULL or 0
 * fields are not checked.
 */
struct req_expect {
	const char		*state;
	const char		*owner;
	time_t			 lease;
	const unsigned char	*message;	/* skdMessage */
	size_t			 message_len;
	const unsigned char	*journal;	/* skdJournal */
	size_t			 journal_len;
};

/*
 * req_landed is called when a write failed as _EXISTS or _CONFLICT after
 * the session reconnected during the call: the first attempt may have
 * reached slapd just before the connection dropped, and the retry then ran
 * into its own work.  Returns one (and clears the error) if the request
 * holds what the write would have left; otherwise keeps the error.
 */
static int
req_landed(struct skd_store *s, unsigned reconnects, const char *id,
    const struct req_expect *x)
{
	struct skd_store_request *r = NULL;
	enum skd_store_err e = s->err;
	char msg[sizeof(s->errmsg)];
	int same;

	if (s->reconnects == reconnects || (e != SKD_STORE_ERR_EXISTS &&
	    e != SKD_STORE_ERR_CONFLICT))
		return 0;
	memcpy(msg, s->errmsg, sizeof(msg));
	if (!skd_store_read_request(s, &r, id)) {
		s->err = e;
		memcpy(s->errmsg, msg, sizeof(msg));
		return 0;
	}
	same = (x->state == NULL || strcmp(r->state, x->state) == 0) &&
	    (x->owner == NULL || (r->claim_owner != NULL &&
	    strcmp(r->claim_owner, x->owner) == 0)) &&
	    (x->lease == 0 || r->lease_until == x->lease) &&
	    (x->message == NULL || skd_store_i_same_bytes(r->message,
	    r->message_len, x->message, x->message_len)) &&
	    (x->journal == NULL || skd_store_i_same_bytes(r->journal,
	    r->journal_len, x->journal, x->journal_len));
	skd_store_request_free(r);
	if (!same) {
		s->err = e;
		memcpy(s->errmsg, msg, sizeof(msg));
		return 0;
	}
	skd_store_i_ok(s);
	return 1;
}

int
skd_store_add_request(struct skd_store *s, char out_id[SKD_STORE_ID_LEN],
    const unsigned char *msg, size_t msg_len, const char *submitter_dn)
{
	struct skd_store_i_mods m;
	LDAPMod **mv;
	struct req_expect x = { NULL, NULL, 0, NULL, 0, NULL, 0 };
	char id[SKD_STORE_ID_LEN], *dn = NULL;
	unsigned reconnects;
	int rc, ok = 0;

	out_id[0] = '\0';
	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (msg == NULL || msg_len == 0) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "empty request");
		goto err;
	}
	skd_store_new_id(id);
	if ((dn = req_dn(s, id)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_OC, OC_REQUEST);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_REQID, id);
	skd_store_i_mods_one(&m, LDAP_MOD_ADD, A_MESSAGE, msg, msg_len);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_STATE, "pending");
	if (submitter_dn != NULL) {
		skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_SUBMITTER,
		    submitter_dn);
	}
	if ((mv = skd_store_i_mods_get(&m)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	reconnects = s->reconnects;
	if ((rc = skd_store_i_add(s, dn, mv)) != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, "add request", dn);
		x.message = msg;
		x.message_len = msg_len;
		if (!req_landed(s, reconnects, id, &x))
			goto err;
	}
	memcpy(out_id, id, SKD_STORE_ID_LEN);
	ok = 1;
 err:
	skd_store_i_mods_cleanup(&m);
	free(dn);
	return ok;
}

#define T struct skd_store_request
static const struct skd_store_i_field req_fields[] = {
	SKD_STORE_I_F(T, ID, id, A_REQID),
	SKD_STORE_I_F_N(T, BLOB, message, message_len, A_MESSAGE),
	SKD_STORE_I_F(T, STR, submitter_dn, A_SUBMITTER),
	SKD_STORE_I_F_REQ(T, state, A_STATE),
	SKD_STORE_I_F(T, STR, claim_owner, A_OWNER),
	SKD_STORE_I_F(T, TIME, lease_until, A_LEASE),
	SKD_STORE_I_F_N(T, BLOB, journal, journal_len, A_JOURNAL),
	SKD_STORE_I_F_INT(T, attempts, 0, 1000000000, A_ATTEMPTS),
	SKD_STORE_I_F(T, STR, error, A_ERROR),
	SKD_STORE_I_F(T, STR, creator_dn, "creatorsName"),
	SKD_STORE_I_F(T, STR, mail_sender, A_REPLYTO),
	SKD_STORE_I_F(T, STR, mail_from, A_REPLYFROM),
	SKD_STORE_I_F(T, STR, mail_signer, A_MAILSIGNER),
};
#undef T

int
skd_store_read_request(struct skd_store *s, struct skd_store_request **out_r,
    const char *id)
{
	struct skd_store_request *r = NULL;
	LDAPMessage *res = NULL, *e;
	char *dn = NULL;
	int ok = 0;

	*out_r = NULL;
	skd_store_i_ok(s);
	if ((dn = req_dn(s, id)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "request id");
		goto err;
	}
	if (!skd_store_i_read(s, &res, &e, dn, req_attrs))
		goto err;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	if (!skd_store_i_get_fields(s->ld, e, r, req_fields,
	    SKD_STORE_I_NITEMS(req_fields))) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "malformed request entry %s", dn);
		goto err;
	}
	/* A request carries one message; the caller refuses any other
	 * count (a value added after the request was made). */
	r->n_messages = skd_store_i_count_values(s->ld, e, A_MESSAGE);
	free(s->last_req_id);
	free(s->last_req_submitter);
	s->last_req_id = strdup(id);
	s->last_req_submitter = r->submitter_dn != NULL ?
	    strdup(r->submitter_dn) : NULL;
	if (s->last_req_id == NULL || (r->submitter_dn != NULL &&
	    s->last_req_submitter == NULL)) {
		free(s->last_req_id);
		s->last_req_id = NULL;
	}
	*out_r = r;
	r = NULL;
	ok = 1;
 err:
	skd_store_request_free(r);
	ldap_msgfree(res);
	free(dn);
	return ok;
}

/* req_list calls cb for each request matching filter (id and state). */
static int
req_list(struct skd_store *s, skd_store_pending_cb cb, void *arg,
    const char *filter, int page_size)
{
	struct skd_store_i_pairs p = { A_REQID, A_STATE, NULL,
	    "malformed request entry", cb, arg };

	return skd_store_i_search_pairs(s, &p, s->requests_dn, filter,
	    page_size);
}

/* Pending, or held by a worker whose lease ran out (it died or hangs): a
 * journaled one is replayed by whoever takes it over. */
static void
queue_filter(char *filter, size_t len, time_t now)
{
	char t[16];

	skd_store_time_str(t, now);
	(void)snprintf(filter, len,
	    "(&(objectClass=" OC_REQUEST ")(|(" A_STATE "=pending)"
	    "(&(|(" A_STATE "=claimed)(" A_STATE "=journaled))"
	    "(" A_LEASE "<=%s))))", t);
}

int
skd_store_list_pending(struct skd_store *s, skd_store_pending_cb cb,
    void *arg, time_t now, int page_size)
{
	char filter[256];

	skd_store_i_ok(s);
	queue_filter(filter, sizeof(filter), now);
	return req_list(s, cb, arg, filter, page_size);
}

struct queue_arg {
	skd_store_queue_cb	 cb;
	void			*arg;
};

static int
queue_entry(struct skd_store *s, LDAPMessage *e, void *arg)
{
	struct queue_arg *qa = arg;
	struct skd_store_queued q;
	char *id = NULL, *state = NULL, *creator = NULL, *sender = NULL;
	char *from = NULL, *fair = NULL;
	time_t created = 0;
	size_t i;
	int r = 0;

	if (!skd_store_i_get_str(s->ld, e, A_REQID, &id) ||
	    !skd_store_i_get_str(s->ld, e, A_STATE, &state) ||
	    !skd_store_i_get_str(s->ld, e, "creatorsName", &creator) ||
	    !skd_store_i_get_time(s->ld, e, "createTimestamp", &created) ||
	    !skd_store_i_get_str(s->ld, e, A_REPLYTO, &sender) ||
	    !skd_store_i_get_str(s->ld, e, A_REPLYFROM, &from) ||
	    id == NULL || state == NULL) {
		r = skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "malformed request entry");
		goto err;
	}
	/* Requests by mail are all added by the GLA (skd gla mail-in):
	 * each sender is an identity of its own for fairness.  skdReplyTo
	 * and skdReplyFrom are the GLA's writes alone (ACL rule 1). */
	if ((sender != NULL && *sender != '\0') || from != NULL) {
		if ((fair = skd_store_i_printf("mail:%s", sender != NULL &&
		    *sender != '\0' ? sender : from)) == NULL) {
			r = skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
			    "out of memory");
			goto err;
		}
		for (i = 5; fair[i] != '\0'; i++)
			fair[i] = (char)tolower((unsigned char)fair[i]);
	}
	q.id = id;
	q.state = state;
	q.creator = fair != NULL ? fair : creator;
	q.created = created;
	r = qa->cb(qa->arg, &q) != 0 ? 2 : 1;
 err:
	free(id);
	free(state);
	free(creator);
	free(sender);
	free(from);
	free(fair);
	return r;
}

int
skd_store_list_queue(struct skd_store *s, skd_store_queue_cb cb, void *arg,
    time_t now, int page_size)
{
	char *attrs[] = { A_REQID, A_STATE, "creatorsName", "createTimestamp",
	    A_REPLYTO, A_REPLYFROM, NULL };
	struct queue_arg qa = { cb, arg };
	char filter[256];

	skd_store_i_ok(s);
	queue_filter(filter, sizeof(filter), now);
	return skd_store_i_search_each(s, s->requests_dn, LDAP_SCOPE_ONELEVEL,
	    filter, attrs, page_size, queue_entry, &qa);
}

/* req_modify applies mods to request id, asserting (RFC 4528) that owner
 * holds the claim when owner is not NULL. */
static int
req_modify(struct skd_store *s, const char *id, const char *owner,
    struct skd_store_i_mods *m, const char *what)
{
	LDAPControl *assert = NULL, *sctrls[2] = { NULL, NULL };
	LDAPMod **mv;
	char *dn = NULL, *eo = NULL, *filter = NULL;
	int rc, ok = 0;

	if ((dn = req_dn(s, id)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "request id");
		goto err;
	}
	if ((mv = skd_store_i_mods_get(m)) == NULL)
		goto oom;
	if (owner != NULL) {
		if ((eo = skd_store_i_filter_escape(owner)) == NULL ||
		    (filter = skd_store_i_printf("(" A_OWNER "=%s)", eo)) ==
		    NULL)
			goto oom;
		if (!skd_store_i_ensure(s))
			goto err;
		rc = ldap_create_assertion_control(s->ld, filter, 1, &assert);
		if (rc != LDAP_SUCCESS) {
			skd_store_i_ldap_fail(s, rc, "assertion control", dn);
			goto err;
		}
		sctrls[0] = assert;
	}
	if ((rc = skd_store_i_modify(s, dn, mv, sctrls)) != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, what, dn);
		goto err;
	}
	ok = 1;
	goto err;
 oom:
	skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
 err:
	ldap_control_free(assert);
	free(filter);
	free(eo);
	free(dn);
	return ok;
}

int
skd_store_set_mail_signer(struct skd_store *s, const char *id,
    const char *owner, const char *address)
{
	struct skd_store_i_mods m;
	char *dn = NULL;
	int ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (address == NULL || *address == '\0' || owner == NULL ||
	    (dn = req_dn(s, id)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "mail signer");
		goto err;
	}
	/* A request added in the directory has no skdMailIn yet. */
	if (!skd_store_i_add_value(s, dn, A_OC, OC_MAILIN, "mail signer"))
		goto err;
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_MAILSIGNER, address);
	ok = req_modify(s, id, owner, &m, "mail signer");
 err:
	skd_store_i_mods_cleanup(&m);
	free(dn);
	return ok;
}

static int
req_check_owner(struct skd_store *s, const char *owner)
{
	if (owner == NULL || owner[0] == '\0')
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "no claim owner");
	return 1;
}

/* The attempt counter's mods for a claim counting one more attempt over
 * old (absent: 0): a compare-and-swap of the value when there is one.
 * The values are written in o and n, which must outlive m. */
static void
attempt_mods(struct skd_store_i_mods *m, int old, char o[24], char n[24])
{
	if (old < 0)
		return;
	(void)snprintf(o, 24, "%d", old);
	(void)snprintf(n, 24, "%d", old + 1);
	if (old > 0) {
		skd_store_i_mods_str(m, LDAP_MOD_DELETE, A_ATTEMPTS, o);
		skd_store_i_mods_str(m, LDAP_MOD_ADD, A_ATTEMPTS, n);
	} else {
		skd_store_i_mods_str(m, LDAP_MOD_REPLACE, A_ATTEMPTS, n);
	}
}

static int
claim(struct skd_store *s, const char *id, const char *owner,
    time_t lease_until, int old_attempts);
static int
reclaim(struct skd_store *s, const char *id, const char *old_owner,
    time_t old_lease, const char *owner, time_t lease_until, time_t now,
    int old_attempts);

int
skd_store_claim_request(struct skd_store *s, const char *id,
    const char *owner, time_t lease_until)
{
	return claim(s, id, owner, lease_until, -1);
}

int
skd_store_claim_request_counted(struct skd_store *s, const char *id,
    const char *owner, time_t lease_until, int old_attempts)
{
	return claim(s, id, owner, lease_until, old_attempts < 0 ? 0 :
	    old_attempts);
}

int
skd_store_reclaim_request(struct skd_store *s, const char *id,
    const char *old_owner, time_t old_lease, const char *owner,
    time_t lease_until, time_t now)
{
	return reclaim(s, id, old_owner, old_lease, owner, lease_until, now,
	    -1);
}

int
skd_store_reclaim_request_counted(struct skd_store *s, const char *id,
    const char *old_owner, time_t old_lease, const char *owner,
    time_t lease_until, time_t now, int old_attempts)
{
	return reclaim(s, id, old_owner, old_lease, owner, lease_until, now,
	    old_attempts < 0 ? 0 : old_attempts);
}

static int
claim(struct skd_store *s, const char *id, const char *owner,
    time_t lease_until, int old_attempts)
{
	struct req_expect x = { NULL, NULL, 0, NULL, 0, NULL, 0 };
	struct skd_store_i_mods m;
	unsigned reconnects;
	char t[16], ao[24], an[24];
	int ok = 0;

	skd_store_i_ok(s);
	reconnects = s->reconnects;
	skd_store_i_mods_init(&m);
	if (!req_check_owner(s, owner))
		goto err;
	skd_store_time_str(t, lease_until);
	/* One modify, atomic (RFC 4511 4.6): if another worker claimed
	 * first, skdState=pending is gone and the delete fails. */
	skd_store_i_mods_str(&m, LDAP_MOD_DELETE, A_STATE, "pending");
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_STATE, "claimed");
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_OWNER, owner);
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_LEASE, t);
	attempt_mods(&m, old_attempts, ao, an);
	x.state = "claimed";
	x.owner = owner;
	x.lease = lease_until;
	ok = req_modify(s, id, NULL, &m, "claim") ||
	    req_landed(s, reconnects, id, &x);
 err:
	skd_store_i_mods_cleanup(&m);
	return ok;
}

static int
reclaim(struct skd_store *s, const char *id, const char *old_owner,
    time_t old_lease, const char *owner, time_t lease_until, time_t now,
    int old_attempts)
{
	struct req_expect x = { NULL, NULL, 0, NULL, 0, NULL, 0 };
	struct skd_store_i_mods m;
	unsigned reconnects;
	char told[16], tnew[16], ao[24], an[24];
	int ok = 0;

	skd_store_i_ok(s);
	reconnects = s->reconnects;
	skd_store_i_mods_init(&m);
	if (!req_check_owner(s, owner) || !req_check_owner(s, old_owner))
		goto err;
	if (old_lease > now) {
		skd_store_i_fail(s, SKD_STORE_ERR_CONFLICT,
		    "lease of %s held by %s runs until later", id, old_owner);
		goto err;
	}
	skd_store_time_str(told, old_lease);
	skd_store_time_str(tnew, lease_until);
	/* Both old values must still be there: of two workers taking over
	 * the same dead claim, the second finds them gone. */
	skd_store_i_mods_str(&m, LDAP_MOD_DELETE, A_OWNER, old_owner);
	skd_store_i_mods_str(&m, LDAP_MOD_DELETE, A_LEASE, told);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_OWNER, owner);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_LEASE, tnew);
	attempt_mods(&m, old_attempts, ao, an);
	x.owner = owner;
	x.lease = lease_until;
	ok = req_modify(s, id, NULL, &m, "reclaim") ||
	    req_landed(s, reconnects, id, &x);
 err:
	skd_store_i_mods_cleanup(&m);
	return ok;
}

int
skd_store_renew_lease(struct skd_store *s, const char *id, const char *owner,
    time_t old_lease, time_t lease_until)
{
	struct req_expect x = { NULL, NULL, 0, NULL, 0, NULL, 0 };
	struct skd_store_i_mods m;
	unsigned reconnects;
	char told[16], tnew[16];
	int ok = 0;

	skd_store_i_ok(s);
	reconnects = s->reconnects;
	skd_store_i_mods_init(&m);
	if (!req_check_owner(s, owner))
		goto err;
	skd_store_time_str(told, old_lease);
	skd_store_time_str(tnew, lease_until);
	skd_store_i_mods_str(&m, LDAP_MOD_DELETE, A_LEASE, told);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_LEASE, tnew);
	x.owner = owner;
	x.lease = lease_until;
	ok = req_modify(s, id, owner, &m, "renew lease") ||
	    req_landed(s, reconnects, id, &x);
 err:
	skd_store_i_mods_cleanup(&m);
	return ok;
}

int
skd_store_journal_request(struct skd_store *s, const char *id,
    const char *owner, const unsigned char *journal, size_t journal_len)
{
	struct req_expect x = { NULL, NULL, 0, NULL, 0, NULL, 0 };
	struct skd_store_i_mods m;
	unsigned reconnects;
	int ok = 0;

	skd_store_i_ok(s);
	reconnects = s->reconnects;
	skd_store_i_mods_init(&m);
	if (!req_check_owner(s, owner))
		goto err;
	if (journal == NULL || journal_len == 0) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "empty journal");
		goto err;
	}
	/* The outcome is durable before any of it is applied; the state
	 * move and the owner assertion make it ours alone. */
	skd_store_i_mods_str(&m, LDAP_MOD_DELETE, A_STATE, "claimed");
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_STATE, "journaled");
	skd_store_i_mods_one(&m, LDAP_MOD_REPLACE, A_JOURNAL, journal,
	    journal_len);
	x.state = "journaled";
	x.owner = owner;
	x.journal = journal;
	x.journal_len = journal_len;
	ok = req_modify(s, id, owner, &m, "journal") ||
	    req_landed(s, reconnects, id, &x);
 err:
	skd_store_i_mods_cleanup(&m);
	return ok;
}

int
skd_store_finish_request(struct skd_store *s, const char *id,
    const char *owner, const char *error)
{
	struct skd_store_i_mods m;
	int ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (!req_check_owner(s, owner))
		goto err;
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_STATE,
	    error == NULL ? "done" : "failed");
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_ERROR,
	    error != NULL && error[0] != '\0' ? error : NULL);
	/* No lease left: nobody can take a finished request over. */
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_LEASE, NULL);
	/* Nor a journal: it was for whoever would apply it again, and a
	 * finished request is applied by nobody.  The entry kept for
	 * retention_days no longer holds the whole outcome a second time
	 * (its messages are in their own entries), and slapd rewrites the
	 * smaller entry. */
	skd_store_i_mods_one(&m, LDAP_MOD_REPLACE, A_JOURNAL, NULL, 0);
	ok = req_modify(s, id, owner, &m, "finish");
 err:
	skd_store_i_mods_cleanup(&m);
	return ok;
}

int
skd_store_bump_attempts(struct skd_store *s, int *out_attempts,
    const char *id, const char *owner)
{
	struct skd_store_request *r = NULL;
	struct skd_store_i_mods m;
	char n[24];
	int ok = 0;

	if (out_attempts != NULL)
		*out_attempts = 0;
	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (!req_check_owner(s, owner))
		goto err;
	if (!skd_store_read_request(s, &r, id))
		goto err;
	if (r->claim_owner == NULL || strcmp(r->claim_owner, owner) != 0) {
		skd_store_i_fail(s, SKD_STORE_ERR_CONFLICT,
		    "%s is not claimed by %s", id, owner);
		goto err;
	}
	(void)snprintf(n, sizeof(n), "%d", r->attempts + 1);
	/* Replace rather than increment: slapd refuses to increment an
	 * attribute that is absent, and only the claim holder writes it. */
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_ATTEMPTS, n);
	if (!req_modify(s, id, owner, &m, "count attempt"))
		goto err;
	if (out_attempts != NULL)
		*out_attempts = r->attempts + 1;
	ok = 1;
 err:
	skd_store_request_free(r);
	skd_store_i_mods_cleanup(&m);
	return ok;
}

int
skd_store_list_finished(struct skd_store *s, skd_store_pending_cb cb,
    void *arg, time_t before, int page_size)
{
	char filter[256], t[16];

	skd_store_i_ok(s);
	skd_store_time_str(t, before);
	/* modifyTimestamp: the finish is the last write a request gets
	 * (docs/operations.md, Retention). */
	(void)snprintf(filter, sizeof(filter),
	    "(&(objectClass=" OC_REQUEST ")(|(" A_STATE "=done)(" A_STATE
	    "=failed))(modifyTimestamp<=%s))", t);
	return req_list(s, cb, arg, filter, page_size);
}

int
skd_store_withdraw_request(struct skd_store *s, const char *id)
{
	LDAPControl *assert = NULL, *sctrls[2] = { NULL, NULL };
	char *dn;
	int rc, ok = 0;

	skd_store_i_ok(s);
	if ((dn = req_dn(s, id)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "request id");
		return 0;
	}
	if (!skd_store_i_ensure(s))
		goto err;
	/* RFC 4528: only while the GLA has not claimed it. */
	rc = ldap_create_assertion_control(s->ld, (char *)"(" A_STATE
	    "=pending)", 1, &assert);
	if (rc != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, "assertion control", dn);
		goto err;
	}
	sctrls[0] = assert;
	if ((rc = skd_store_i_delete_ctrl(s, dn, sctrls)) != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, "withdraw request", dn);
		goto err;
	}
	ok = 1;
 err:
	ldap_control_free(assert);
	free(dn);
	return ok;
}

int
skd_store_delete_request(struct skd_store *s, const char *id)
{
	skd_store_i_ok(s);
	return skd_store_i_delete_dn(s, req_dn(s, id), "request id",
	    "delete request");
}
