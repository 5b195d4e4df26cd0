/*
 * mail.c: what the mail transport keeps in the directory ("Mail is a
 * transport, not a state store"; docs/directory.md "Mail").
 *
 *  - requests that came by mail: an skdRequest with the auxiliary class
 *    skdMailIn (skdReplyTo, skdReplyFrom, skdMailInId), under an id the
 *    caller derives from the mail, so that a redelivered mail finds its
 *    request instead of adding a second one; the worker adds the
 *    verified signer's address (skdMailSigner, request.c), to any
 *    request;
 *  - send state beside the entry a mail carries (a response, a GLA
 *    message or a glKey): the auxiliary class skdMailOut with skdMailState
 *    (new, queued, sent, failed, none), skdMailTo, skdMailMessageId,
 *    skdMailAttempts, skdMailNextTry and skdMailError.  The class and
 *    state "new" are written with the entry itself when the session
 *    marks for mail (skd_store_set_mail_mark), so what is to be looked at
 *    is one indexed search; queueing moves "new" to queued or none by
 *    compare-and-swap (of two workers one wins); an attempt is
 *    claimed by replacing the exact old skdMailAttempts value (delete old,
 *    add new: of two senders one wins) and moving skdMailNextTry past the
 *    attempt, so a sender that dies is retried after that time, with the
 *    same Message-ID;
 *  - a GL's mail policy, skdGLMailPolicy (auxiliary class skdGLMail).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/store_local.h"

#define A_MAILTO	"skdMailTo"
#define A_MAILMID	"skdMailMessageId"
#define A_MAILATT	"skdMailAttempts"
#define A_MAILNEXT	"skdMailNextTry"
#define A_MAILERR	"skdMailError"
#define OC_GLMAIL	"skdGLMail"

/* ---- requests by mail --------------------------------------------------- */

int
skd_store_add_mail_request(struct skd_store *s, int *out_existed,
    const char *id, const struct skd_store_mail_origin *o)
{
	struct skd_store_i_mods m;
	struct skd_store_request *r = NULL;
	const char *ocs[] = { OC_REQUEST, OC_MAILIN };
	LDAPMod **mv;
	char *dn = NULL;
	int rc, ok = 0;

	*out_existed = 0;
	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (o->message == NULL || o->message_len == 0 || id == NULL ||
	    strlen(id) >= SKD_STORE_ID_LEN) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "empty request");
		goto err;
	}
	if ((dn = skd_store_i_dn(A_REQID, id, NULL, NULL, s->requests_dn)) ==
	    NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	skd_store_i_mods_strs(&m, LDAP_MOD_ADD, A_OC, ocs, 2);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_REQID, id);
	skd_store_i_mods_one(&m, LDAP_MOD_ADD, A_MESSAGE, o->message,
	    o->message_len);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_STATE, "pending");
	if (o->reply_to != NULL && *o->reply_to != '\0')
		skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_REPLYTO, o->reply_to);
	if (o->reply_from != NULL && *o->reply_from != '\0')
		skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_REPLYFROM,
		    o->reply_from);
	if (o->mail_id != NULL && *o->mail_id != '\0')
		skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_MAILINID, o->mail_id);
	if ((mv = skd_store_i_mods_get(&m)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	rc = skd_store_i_add(s, dn, mv);
	if (rc == LDAP_SUCCESS) {
		ok = 1;
		goto err;
	}
	if (rc != LDAP_ALREADY_EXISTS) {
		skd_store_i_ldap_fail(s, rc, "add mail request", dn);
		goto err;
	}
	/* Delivered before (or our add landed before a reconnection): the
	 * same id with the same message is the same request. */
	if (!skd_store_read_request(s, &r, id))
		goto err;
	if (!skd_store_i_same_bytes(r->message, r->message_len, o->message,
	    o->message_len)) {
		skd_store_i_fail(s, SKD_STORE_ERR_EXISTS, "request %s exists "
		    "with another message", id);
		goto err;
	}
	*out_existed = 1;
	ok = 1;
 err:
	skd_store_request_free(r);
	skd_store_i_mods_cleanup(&m);
	free(dn);
	return ok;
}

/* ---- send state ---------------------------------------------------------- */

static const char *mail_which_filter[] = {
	/* SKD_STORE_MAIL_UNQUEUED: marked when written (skdMailState is
	 * indexed eq: one indexed search, never a scan of the base) */
	"(" A_MAILSTATE "=new)",
	/* SKD_STORE_MAIL_DUE: filled in with the time */
	NULL,
	/* SKD_STORE_MAIL_QUEUED */
	"(" A_MAILSTATE "=queued)",
	/* SKD_STORE_MAIL_FAILED */
	"(" A_MAILSTATE "=failed)",
	/* SKD_STORE_MAIL_HELD */
	"(" A_MAILSTATE "=held)",
	/* SKD_STORE_MAIL_UNMARKED: filled in with the time */
	NULL,
};

void
skd_store_set_mail_mark(struct skd_store *s, int on)
{
	s->mail_mark = on != 0;
}

void
skd_store_i_mods_class(struct skd_store *s, struct skd_store_i_mods *m,
    const char *oc, int mail)
{
	const char *ocs[2];

	ocs[0] = oc;
	ocs[1] = OC_MAILOUT;
	if (!mail || !s->mail_mark) {
		skd_store_i_mods_str(m, LDAP_MOD_ADD, A_OC, oc);
		return;
	}
	/* One objectClass modification: an add names each attribute
	 * once. */
	skd_store_i_mods_strs(m, LDAP_MOD_ADD, A_OC, ocs, 2);
	skd_store_i_mods_str(m, LDAP_MOD_ADD, A_MAILSTATE, "new");
}

struct mail_list_ctx {
	skd_store_mail_cb	 cb;
	void			*arg;
};

static int
mail_list_entry(struct skd_store *s, LDAPMessage *e, void *arg)
{
	struct mail_list_ctx *c = arg;
	char *dn;
	int stop;

	if ((dn = ldap_get_dn(s->ld, e)) == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
		    "out of memory");
	stop = c->cb(c->arg, dn);
	ldap_memfree(dn);
	return stop ? 2 : 1;
}

int
skd_store_mail_list(struct skd_store *s, enum skd_store_mail_which which,
    time_t now, skd_store_mail_cb cb, void *arg, int page_size)
{
	struct mail_list_ctx c = { cb, arg };
	char filter[512], t[16], *attrs[] = { "1.1", NULL };

	skd_store_i_ok(s);
	if ((size_t)which >= sizeof(mail_which_filter) /
	    sizeof(mail_which_filter[0]))
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "which");
	if (which == SKD_STORE_MAIL_DUE) {
		skd_store_time_str(t, now);
		(void)snprintf(filter, sizeof(filter), "(&(" A_MAILSTATE
		    "=queued)(" A_MAILNEXT "<=%s))", t);
	} else if (which == SKD_STORE_MAIL_UNMARKED) {
		/* What skd_store_i_mods_class would have marked, had a
		 * worker mailed when it was written; a glKey only while it
		 * is valid (an expired key opens nothing new). */
		skd_store_time_str(t, now);
		(void)snprintf(filter, sizeof(filter), "(&(|(" A_OC "="
		    OC_RESPONSE ")(&(" A_OC "=" OC_GLAMSG ")(!(" A_MSGTYPE
		    "=skdReplayOwner)))(&(" A_OC "=" OC_GLKEY ")(" A_NOTAFTER
		    ">=%s)))(!(" A_OC "=" OC_MAILOUT ")))", t);
	} else {
		(void)snprintf(filter, sizeof(filter), "%s",
		    mail_which_filter[which]);
	}
	return skd_store_i_search_each(s, s->base, LDAP_SCOPE_SUBTREE,
	    filter, attrs, page_size > 0 ? page_size : 200, mail_list_entry,
	    &c);
}

void
skd_store_mailitem_free(struct skd_store_mailitem *it)
{
	if (it == NULL)
		return;
	free(it->ref);
	free(it->id);
	free(it->gl_name);
	free(it->type);
	skd_store_blobs_free(it->messages, it->n_messages);
	skd_store_i_strs_free(it->recipients, it->n_recipients);
	free(it->state);
	skd_store_i_strs_free(it->to, it->n_to);
	free(it->message_id);
	free(it->error);
	free(it->reply_to);
	free(it->reply_from);
	free(it->mail_in_id);
	free(it->mail_signer);
	free(it);
}

/* A ref must be an entry of ours: under the base, not some other DN. */
static int
ref_ok(struct skd_store *s, const char *ref)
{
	size_t n = strlen(ref), b = strlen(s->base);

	return n > b + 1 && ref[n - b - 1] == ',' &&
	    strcasecmp(ref + n - b, s->base) == 0;
}

/* The request's reply addresses, for a response (absent: none). */
static int
mail_reply_of(struct skd_store *s, struct skd_store_mailitem *it)
{
	LDAPMessage *res = NULL, *e;
	char *dn = NULL, *attrs[] = { A_REPLYTO, A_REPLYFROM, A_MAILINID,
	    A_MAILSIGNER, NULL };
	int ok = 0;

	if ((dn = skd_store_i_dn(A_REQID, it->id, NULL, NULL,
	    s->requests_dn)) == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
		    "out of memory");
	if (!skd_store_i_read(s, &res, &e, dn, attrs)) {
		if (skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND) {
			skd_store_i_ok(s);
			ok = 1;
		}
		goto err;
	}
	if (!skd_store_i_get_str(s->ld, e, A_REPLYTO, &it->reply_to) ||
	    !skd_store_i_get_str(s->ld, e, A_REPLYFROM, &it->reply_from) ||
	    !skd_store_i_get_str(s->ld, e, A_MAILINID, &it->mail_in_id) ||
	    !skd_store_i_get_str(s->ld, e, A_MAILSIGNER, &it->mail_signer)) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "malformed %s", dn);
		goto err;
	}
	ok = 1;
 err:
	ldap_msgfree(res);
	free(dn);
	return ok;
}

int
skd_store_mail_read(struct skd_store *s, struct skd_store_mailitem **out,
    const char *ref)
{
	struct skd_store_mailitem *it = NULL;
	LDAPMessage *res = NULL, *e;
	char **oc = NULL, *attrs[] = { A_OC, A_REQID, A_MSGID, A_KEYID,
	    A_GLNAME, A_SHARD, A_MSGTYPE, A_MESSAGE, A_RCPTNAME, A_MAILSTATE,
	    A_MAILTO, A_MAILMID, A_MAILATT, A_MAILNEXT, A_MAILERR, NULL };
	const char *idattr = NULL;
	long long v;
	size_t n_oc = 0, i;
	int ok = 0;

	*out = NULL;
	skd_store_i_ok(s);
	if (ref == NULL || !ref_ok(s, ref))
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "mail ref");
	if (!skd_store_i_read(s, &res, &e, ref, attrs))
		goto err;
	if ((it = calloc(1, sizeof(*it))) == NULL ||
	    (it->ref = strdup(ref)) == NULL)
		goto oom;
	if (!skd_store_i_get_strs(s->ld, e, A_OC, &oc, &n_oc))
		goto bad;
	it->kind = -1;
	for (i = 0; i < n_oc; i++) {
		if (strcasecmp(oc[i], OC_RESPONSE) == 0) {
			it->kind = SKD_STORE_MAIL_RESPONSE;
			idattr = A_REQID;
		} else if (strcasecmp(oc[i], OC_GLAMSG) == 0) {
			it->kind = SKD_STORE_MAIL_MESSAGE;
			idattr = A_MSGID;
		} else if (strcasecmp(oc[i], OC_GLKEY) == 0) {
			it->kind = SKD_STORE_MAIL_GLKEY;
			idattr = A_KEYID;
		}
	}
	if (idattr == NULL)
		goto bad;
	if (!skd_store_i_get_str(s->ld, e, idattr, &it->id) || it->id == NULL ||
	    !skd_store_i_get_str(s->ld, e, A_GLNAME, &it->gl_name) ||
	    !skd_store_i_get_str(s->ld, e, A_MSGTYPE, &it->type) ||
	    !skd_store_i_get_int(s->ld, e, A_SHARD, &v, 0) ||
	    !skd_store_i_get_blobs(s->ld, e, A_MESSAGE, &it->messages,
	    &it->n_messages) ||
	    !skd_store_i_get_strs(s->ld, e, A_RCPTNAME, &it->recipients,
	    &it->n_recipients) ||
	    !skd_store_i_get_str(s->ld, e, A_MAILSTATE, &it->state) ||
	    !skd_store_i_get_strs(s->ld, e, A_MAILTO, &it->to, &it->n_to) ||
	    !skd_store_i_get_str(s->ld, e, A_MAILMID, &it->message_id) ||
	    !skd_store_i_get_time(s->ld, e, A_MAILNEXT, &it->next_try) ||
	    !skd_store_i_get_str(s->ld, e, A_MAILERR, &it->error))
		goto bad;
	it->shard = (int)v;
	if (!skd_store_i_get_int(s->ld, e, A_MAILATT, &v, 0) || v < 0 ||
	    v > 1000000)
		goto bad;
	it->attempts = (int)v;
	if (it->kind == SKD_STORE_MAIL_RESPONSE && !mail_reply_of(s, it))
		goto err;
	*out = it;
	it = NULL;
	ok = 1;
	goto err;
 bad:
	skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "malformed entry %s", ref);
	goto err;
 oom:
	skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
 err:
	skd_store_i_strs_free(oc, n_oc);
	skd_store_mailitem_free(it);
	ldap_msgfree(res);
	return ok;
}

/*
 * mail_swap applies m to ref as one modify that is a compare-and-swap:
 * it deletes a value that must be there or adds one that must not be, so
 * noSuchAttribute or typeOrValueExists means another worker got there
 * first (_CONFLICT: "<ref> <lost>").  One on success.
 */
static int
mail_swap(struct skd_store *s, const char *ref, struct skd_store_i_mods *m,
    const char *what, const char *lost)
{
	LDAPMod **mv;
	int rc;

	if ((mv = skd_store_i_mods_get(m)) == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
		    "out of memory");
	rc = skd_store_i_modify(s, ref, mv, NULL);
	if (rc == LDAP_NO_SUCH_ATTRIBUTE || rc == LDAP_TYPE_OR_VALUE_EXISTS)
		return skd_store_i_fail(s, SKD_STORE_ERR_CONFLICT, "%s %s",
		    ref, lost);
	if (rc != LDAP_SUCCESS)
		return skd_store_i_ldap_fail(s, rc, what, ref);
	return 1;
}

int
skd_store_mail_queue(struct skd_store *s, const char *ref,
    const char *const *to, size_t n_to, const char *message_id,
    time_t next_try)
{
	struct skd_store_i_mods m;
	char t[16];
	int ok;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (ref == NULL || !ref_ok(s, ref))
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "mail ref");
	/* Moving the state from "new" is the test-and-set: a second
	 * queueing finds no such value (noSuchAttribute) and loses. */
	skd_store_i_mods_str(&m, LDAP_MOD_DELETE, A_MAILSTATE, "new");
	if (n_to == 0) {
		skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_MAILSTATE, "none");
	} else {
		skd_store_time_str(t, next_try);
		skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_MAILSTATE, "queued");
		skd_store_i_mods_strs(&m, LDAP_MOD_ADD, A_MAILTO, to, n_to);
		skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_MAILMID, message_id);
		skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_MAILATT, "0");
		skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_MAILNEXT, t);
	}
	ok = mail_swap(s, ref, &m, "queue mail", "is queued already");
	skd_store_i_mods_cleanup(&m);
	return ok;
}

int
skd_store_mail_mark(struct skd_store *s, const char *ref)
{
	struct skd_store_i_mods m;
	int ok;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (ref == NULL || !ref_ok(s, ref))
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "mail ref");
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_OC, OC_MAILOUT);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_MAILSTATE, "new");
	/* The class is the test-and-set: a second add of it fails. */
	ok = mail_swap(s, ref, &m, "mark mail", "is marked already");
	skd_store_i_mods_cleanup(&m);
	return ok;
}

int
skd_store_mail_move(struct skd_store *s, const char *ref, const char *from,
    const char *to)
{
	struct skd_store_i_mods m;
	int ok;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (ref == NULL || !ref_ok(s, ref) || from == NULL || to == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "mail ref");
	skd_store_i_mods_str(&m, LDAP_MOD_DELETE, A_MAILSTATE, from);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_MAILSTATE, to);
	ok = mail_swap(s, ref, &m, "mail state", "changed state meanwhile");
	skd_store_i_mods_cleanup(&m);
	return ok;
}

int
skd_store_mail_claim(struct skd_store *s, const char *ref, int old_attempts,
    time_t next_try)
{
	struct skd_store_i_mods m;
	char a_old[24], a_new[24], t[16];
	int ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (ref == NULL || !ref_ok(s, ref))
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "mail ref");
	(void)snprintf(a_old, sizeof(a_old), "%d", old_attempts);
	(void)snprintf(a_new, sizeof(a_new), "%d", old_attempts + 1);
	skd_store_time_str(t, next_try);
	skd_store_i_mods_str(&m, LDAP_MOD_DELETE, A_MAILATT, a_old);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_MAILATT, a_new);
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_MAILNEXT, t);
	/* noSuchAttribute: another sender took this attempt. */
	if (!skd_store_i_write(s, 0, ref, &m, "claim mail"))
		goto err;
	ok = 1;
 err:
	skd_store_i_mods_cleanup(&m);
	return ok;
}

int
skd_store_mail_result(struct skd_store *s, const char *ref,
    const char *state, const char *error, time_t next_try)
{
	struct skd_store_i_mods m;
	char t[16];
	int ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (ref == NULL || !ref_ok(s, ref) || state == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "mail ref");
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_MAILSTATE, state);
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_MAILERR, error);
	if (next_try != 0) {
		skd_store_time_str(t, next_try);
		skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_MAILNEXT, t);
	}
	if (!skd_store_i_write(s, 0, ref, &m, "mail state"))
		goto err;
	ok = 1;
 err:
	skd_store_i_mods_cleanup(&m);
	return ok;
}

/* ---- GL mail policy ----------------------------------------------------- */

int
skd_store_read_mail_policy(struct skd_store *s, char **out_policy,
    const char *gl_name)
{
	*out_policy = NULL;
	skd_store_i_ok(s);
	if (gl_name == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
	return skd_store_i_read_str(s, skd_store_i_dn(A_GLNAME, gl_name, NULL,
	    NULL, s->groups_dn), A_MAILPOLICY, out_policy);
}

int
skd_store_set_mail_policy(struct skd_store *s, const char *gl_name,
    const char *policy)
{
	struct skd_store_i_mods m;
	char *dn = NULL;
	int ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (gl_name == NULL || (dn = skd_store_i_dn(A_GLNAME, gl_name, NULL,
	    NULL, s->groups_dn)) == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
	/* The class first, on its own: it may be there already. */
	if (!skd_store_i_add_value(s, dn, A_OC, OC_GLMAIL, "mail policy"))
		goto err;
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_MAILPOLICY, policy);
	if (!skd_store_i_write(s, 0, dn, &m, "mail policy"))
		goto err;
	ok = 1;
 err:
	skd_store_i_mods_cleanup(&m);
	free(dn);
	return ok;
}
