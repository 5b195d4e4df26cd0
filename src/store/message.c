/*
 * message.c: what the GLA publishes (responses, ou=responses; messages it
 * originates, ou=messages), the replay cache (ou=replay) and the agent's
 * status on cn=gla.  Publishing is idempotent so that replaying a journal
 * converges (DESIGN.md "Exactly once").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/store_local.h"

/* ---- responses -------------------------------------------------------------- */

static char *resp_attrs[] = { A_REQID, A_MESSAGE, A_RCPTNAME, A_RCPTDN,
    NULL };

/* resp_same reads the response at dn and compares it with what publish
 * was given; records _EXISTS when it differs. */
static int
resp_same(struct skd_store *s, const char *dn,
    const struct skd_store_blob *msgs, size_t n_msgs,
    const char *const *names, size_t n_names, const char *const *dns,
    size_t n_dns)
{
	LDAPMessage *res = NULL, *e;
	struct skd_store_blob *om = NULL;
	char **on = NULL, **od = NULL;
	size_t nom = 0, non = 0, nod = 0;
	int ok = 0;

	if (!skd_store_i_read(s, &res, &e, dn, resp_attrs))
		goto err;
	if (!skd_store_i_get_blobs(s->ld, e, A_MESSAGE, &om, &nom) ||
	    !skd_store_i_get_strs(s->ld, e, A_RCPTNAME, &on, &non) ||
	    !skd_store_i_get_strs(s->ld, e, A_RCPTDN, &od, &nod)) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "malformed response %s", dn);
		goto err;
	}
	if (!skd_store_i_same_blobs(om, nom, msgs, n_msgs) ||
	    !skd_store_i_same_strs(on, non, (char *const *)names, n_names) ||
	    !skd_store_i_same_strs(od, nod, (char *const *)dns, n_dns)) {
		skd_store_i_fail(s, SKD_STORE_ERR_EXISTS,
		    "%s exists with other content", dn);
		goto err;
	}
	ok = 1;
 err:
	skd_store_blobs_free(om, nom);
	skd_store_i_strs_free(on, non);
	skd_store_i_strs_free(od, nod);
	ldap_msgfree(res);
	return ok;
}

/*
 * resp_submitter reads the skdSubmitterDN of the request request_id into
 * *out (NULL when the request has none or is gone).  Returns 0 on any
 * other error: a response published without its submitter's DN would
 * stay unreadable to the submitter.
 */
static int
resp_submitter(struct skd_store *s, char **out, const char *request_id)
{
	*out = NULL;
	/* Read with the request a moment ago (the worker reads a request,
	 * then answers it): skdSubmitterDN never changes once added. */
	if (s->last_req_id != NULL && strcmp(s->last_req_id, request_id) ==
	    0) {
		if (s->last_req_submitter != NULL &&
		    (*out = strdup(s->last_req_submitter)) == NULL) {
			skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
			    "out of memory");
			return 0;
		}
		return 1;
	}
	if (skd_store_i_read_str(s, skd_store_i_dn(A_REQID, request_id, NULL,
	    NULL, s->requests_dn), A_SUBMITTER, out))
		return 1;
	if (skd_store_error(s) != SKD_STORE_ERR_NOT_FOUND)
		return 0;
	skd_store_i_ok(s);	/* the request is gone: nobody to add */
	return 1;
}

/* resp_add_dn adds the value dn to skdRecipientDN of the response at rdn
 * (a value already there is success). */
static int
resp_add_dn(struct skd_store *s, const char *rdn, const char *dn)
{
	if (!skd_store_i_add_value(s, rdn, A_RCPTDN, dn,
	    "add submitter to response"))
		return 0;
	skd_store_i_ok(s);
	return 1;
}

int
skd_store_publish_response(struct skd_store *s, const char *request_id,
    const struct skd_store_blob *msgs, size_t n_msgs,
    const char *const *names, size_t n_names, const char *const *dns,
    size_t n_dns)
{
	struct skd_store_i_mods m;
	LDAPMod **mv;
	const char **all = NULL;
	char *dn = NULL, *sub = NULL;
	size_t i, n_all = n_dns;
	int rc, ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (request_id == NULL || (dn = skd_store_i_dn(A_REQID, request_id,
	    NULL, NULL, s->responses_dn)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "request id");
		goto err;
	}
	if (!resp_submitter(s, &sub, request_id))
		goto err;
	if ((all = calloc(n_dns + 1, sizeof(*all))) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	for (i = 0; i < n_dns; i++) {
		all[i] = dns[i];
		/* DN attribute values compare case-insensitively here (the
		 * stack's people are uid=...,ou=people,dc=...). */
		if (sub != NULL && strcasecmp(dns[i], sub) == 0) {
			free(sub);
			sub = NULL;
		}
	}
	if (sub != NULL)
		all[n_all++] = sub;
	skd_store_i_mods_class(s, &m, OC_RESPONSE, 1);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_REQID, request_id);
	if (n_msgs > 0)
		skd_store_i_mods_bin(&m, LDAP_MOD_ADD, A_MESSAGE, msgs, n_msgs);
	if (n_names > 0) {
		skd_store_i_mods_strs(&m, LDAP_MOD_ADD, A_RCPTNAME, names,
		    n_names);
	}
	if (n_all > 0)
		skd_store_i_mods_strs(&m, LDAP_MOD_ADD, A_RCPTDN, all, n_all);
	if ((mv = skd_store_i_mods_get(&m)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	rc = skd_store_i_add(s, dn, mv);
	if (rc == LDAP_ALREADY_EXISTS) {
		if (resp_same(s, dn, msgs, n_msgs, names, n_names, all,
		    n_all)) {
			ok = 1;
			goto err;
		}
		/* Written before responses named their submitter: the same
		 * content but for that one DN, which is added now. */
		if (sub == NULL || skd_store_error(s) != SKD_STORE_ERR_EXISTS ||
		    !resp_same(s, dn, msgs, n_msgs, names, n_names, dns,
		    n_dns) || !resp_add_dn(s, dn, sub))
			goto err;
	} else if (rc != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, "publish response", dn);
		goto err;
	}
	ok = 1;
 err:
	skd_store_i_mods_cleanup(&m);
	free(all);
	free(sub);
	free(dn);
	return ok;
}

int
skd_store_read_response(struct skd_store *s, struct skd_store_blob **out_msgs,
    size_t *out_n, const char *request_id)
{
	LDAPMessage *res = NULL, *e;
	char *dn = NULL;
	int ok = 0;

	*out_msgs = NULL;
	*out_n = 0;
	skd_store_i_ok(s);
	if (request_id == NULL || (dn = skd_store_i_dn(A_REQID, request_id,
	    NULL, NULL, s->responses_dn)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "request id");
		goto err;
	}
	if (!skd_store_i_read(s, &res, &e, dn, resp_attrs))
		goto err;
	if (!skd_store_i_get_blobs(s->ld, e, A_MESSAGE, out_msgs, out_n)) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	ok = 1;
 err:
	ldap_msgfree(res);
	free(dn);
	return ok;
}

int
skd_store_delete_response(struct skd_store *s, const char *request_id)
{
	skd_store_i_ok(s);
	return skd_store_i_delete_dn(s, request_id == NULL ? NULL :
	    skd_store_i_dn(A_REQID, request_id, NULL, NULL, s->responses_dn),
	    "request id", "delete response");
}

/* ---- GLA messages ------------------------------------------------------------ */

static char *msg_attrs[] = { A_MSGID, A_MSGTYPE, A_GLNAME, A_MESSAGE,
    A_RCPTNAME, A_RCPTDN, NULL };

static void
message_cleanup(void *elem)
{
	struct skd_store_message *m = elem;

	free(m->type);
	free(m->gl_name);
	free(m->message);
	skd_store_i_strs_free(m->recipients, m->n_recipients);
	skd_store_i_strs_free(m->recipient_dns, m->n_recipient_dns);
	memset(m, 0, sizeof(*m));
}

void
skd_store_message_list_free(struct skd_store_message *list, size_t n)
{
	skd_store_i_list_free(list, n, sizeof(*list), message_cleanup);
}

#define T struct skd_store_message
static const struct skd_store_i_field message_fields[] = {
	SKD_STORE_I_F(T, ID, id, A_MSGID),
	SKD_STORE_I_F(T, STR, type, A_MSGTYPE),
	SKD_STORE_I_F(T, STR, gl_name, A_GLNAME),
	SKD_STORE_I_F_N(T, BLOB, message, message_len, A_MESSAGE),
	SKD_STORE_I_F_N(T, STRS, recipients, n_recipients, A_RCPTNAME),
	SKD_STORE_I_F_N(T, STRS, recipient_dns, n_recipient_dns, A_RCPTDN),
};
#undef T

/* message_parse fills the skd_store_message at out (zeroed) from e. */
static int
message_parse(struct skd_store *s, void *out, LDAPMessage *e,
    const void *ctx)
{
	(void)ctx;
	if (!skd_store_i_get_fields(s->ld, e, out, message_fields,
	    SKD_STORE_I_NITEMS(message_fields)))
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "malformed message entry");
	return 1;
}

static int
str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
message_same(const struct skd_store_message *a,
    const struct skd_store_message *b)
{
	return str_same(a->type, b->type) && str_same(a->gl_name, b->gl_name) &&
	    skd_store_i_same_bytes(a->message, a->message_len, b->message,
	    b->message_len) &&
	    skd_store_i_same_strs(a->recipients, a->n_recipients,
	    b->recipients, b->n_recipients) &&
	    skd_store_i_same_strs(a->recipient_dns, a->n_recipient_dns,
	    b->recipient_dns, b->n_recipient_dns);
}

int
skd_store_publish_message(struct skd_store *s,
    const struct skd_store_message *msg)
{
	struct skd_store_i_mods m;
	struct skd_store_message old;
	LDAPMessage *res = NULL, *e;
	LDAPMod **mv;
	char *dn = NULL;
	int rc, ok = 0;

	memset(&old, 0, sizeof(old));
	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (msg == NULL || msg->message == NULL || msg->message_len == 0 ||
	    (dn = skd_store_i_dn(A_MSGID, msg->id, NULL, NULL,
	    s->messages_dn)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "message");
		goto err;
	}
	/* Replay owner records are bookkeeping, never mail. */
	skd_store_i_mods_class(s, &m, OC_GLAMSG, msg->type == NULL ||
	    strcmp(msg->type, "skdReplayOwner") != 0);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_MSGID, msg->id);
	skd_store_i_mods_one(&m, LDAP_MOD_ADD, A_MESSAGE, msg->message,
	    msg->message_len);
	if (msg->type != NULL)
		skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_MSGTYPE, msg->type);
	if (msg->gl_name != NULL)
		skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_GLNAME, msg->gl_name);
	if (msg->n_recipients > 0) {
		skd_store_i_mods_strs(&m, LDAP_MOD_ADD, A_RCPTNAME,
		    (const char *const *)msg->recipients, msg->n_recipients);
	}
	if (msg->n_recipient_dns > 0) {
		skd_store_i_mods_strs(&m, LDAP_MOD_ADD, A_RCPTDN,
		    (const char *const *)msg->recipient_dns,
		    msg->n_recipient_dns);
	}
	if ((mv = skd_store_i_mods_get(&m)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	rc = skd_store_i_add(s, dn, mv);
	if (rc == LDAP_ALREADY_EXISTS) {
		if (!skd_store_i_read(s, &res, &e, dn, msg_attrs) ||
		    !message_parse(s, &old, e, NULL))
			goto err;
		if (!message_same(&old, msg)) {
			skd_store_i_fail(s, SKD_STORE_ERR_EXISTS,
			    "%s exists with other content", dn);
			goto err;
		}
	} else if (rc != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, "publish message", dn);
		goto err;
	}
	ok = 1;
 err:
	message_cleanup(&old);
	ldap_msgfree(res);
	skd_store_i_mods_cleanup(&m);
	free(dn);
	return ok;
}

int
skd_store_find_messages(struct skd_store *s,
    struct skd_store_message **out_list, size_t *out_n, const char *recipient)
{
	struct skd_store_i_list l = { .size = sizeof(struct skd_store_message),
	    .parse = message_parse, .cleanup = message_cleanup };
	char *er = NULL, *filter = NULL;
	int ok = 0;

	*out_list = NULL;
	*out_n = 0;
	skd_store_i_ok(s);
	if (recipient == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "no recipient");
		goto err;
	}
	if ((er = skd_store_i_filter_escape(recipient)) == NULL ||
	    (filter = skd_store_i_printf("(&(objectClass=" OC_GLAMSG ")("
	    A_RCPTNAME "=%s))", er)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	if (!skd_store_i_search_list(s, &l, s->messages_dn,
	    LDAP_SCOPE_ONELEVEL, filter, msg_attrs, 0, 200))
		goto err;
	*out_list = l.v;
	*out_n = l.n;
	ok = 1;
 err:
	free(filter);
	free(er);
	return ok;
}

int
skd_store_read_message(struct skd_store *s, struct skd_store_message **out,
    const char *id)
{
	LDAPMessage *res = NULL, *e;
	struct skd_store_message *m = NULL;
	char *dn = NULL;
	int ok = 0;

	*out = NULL;
	skd_store_i_ok(s);
	if (id == NULL || (dn = skd_store_i_dn(A_MSGID, id, NULL, NULL,
	    s->messages_dn)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "message id");
		goto err;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	if (!skd_store_i_read(s, &res, &e, dn, msg_attrs) ||
	    !message_parse(s, m, e, NULL))
		goto err;
	*out = m;
	m = NULL;
	ok = 1;
 err:
	if (m != NULL)
		skd_store_message_list_free(m, 1);
	ldap_msgfree(res);
	free(dn);
	return ok;
}

int
skd_store_delete_message(struct skd_store *s, const char *id)
{
	skd_store_i_ok(s);
	return skd_store_i_delete_dn(s, id == NULL ? NULL :
	    skd_store_i_dn(A_MSGID, id, NULL, NULL, s->messages_dn),
	    "message id", "delete message");
}

/* ---- replay cache --------------------------------------------------------- */

int
skd_store_add_replay(struct skd_store *s, const char *key, time_t expires)
{
	return skd_store_add_replay_owned(s, key, expires, NULL);
}

int
skd_store_add_replay_owned(struct skd_store *s, const char *key,
    time_t expires, const char *owner)
{
	struct skd_store_i_mods m;
	LDAPMod **mv;
	char *dn = NULL, t[16];
	int rc, ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (key == NULL || (owner != NULL && *owner == '\0') ||
	    (dn = skd_store_i_dn(A_REPLAYKEY, key, NULL, NULL,
	    s->replay_dn)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "replay key");
		goto err;
	}
	skd_store_time_str(t, expires);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_OC, OC_REPLAY);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_REPLAYKEY, key);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_EXPIRES, t);
	if (owner != NULL)
		skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_REQID, owner);
	if ((mv = skd_store_i_mods_get(&m)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	/* The add is the atomic test-and-set: of two workers seeing the
	 * same message, the second gets entryAlreadyExists (_EXISTS). */
	if ((rc = skd_store_i_add(s, dn, mv)) == LDAP_SUCCESS) {
		ok = 1;
	} else if (owner != NULL && (rc == LDAP_OBJECT_CLASS_VIOLATION ||
	    rc == LDAP_UNDEFINED_TYPE)) {
		/* A loaded skd schema older than skdReplay's skdRequestId. */
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "add replay key %s: "
		    "%s: the loaded skd schema has no skdRequestId on "
		    "skdReplay", dn, ldap_err2string(rc));
	} else {
		skd_store_i_ldap_fail(s, rc, "add replay key", dn);
	}
 err:
	skd_store_i_mods_cleanup(&m);
	free(dn);
	return ok;
}

int
skd_store_read_replay_owner(struct skd_store *s, char **out_owner,
    const char *key)
{
	*out_owner = NULL;
	skd_store_i_ok(s);
	if (key == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "replay key");
	return skd_store_i_read_str(s, skd_store_i_dn(A_REPLAYKEY, key, NULL,
	    NULL, s->replay_dn), A_REQID, out_owner);
}

int
skd_store_purge_replay(struct skd_store *s, size_t *out_n, time_t now)
{
	struct skd_store_i_dns d = { NULL, 0, 0 };
	char filter[96], t[16], *no_attrs[] = { LDAP_NO_ATTRS, NULL };
	size_t i, gone = 0;
	int rc, ok = 0;

	if (out_n != NULL)
		*out_n = 0;
	skd_store_i_ok(s);
	skd_store_time_str(t, now);
	(void)snprintf(filter, sizeof(filter),
	    "(&(objectClass=" OC_REPLAY ")(" A_EXPIRES "<=%s))", t);
	if (!skd_store_i_search_each(s, s->replay_dn, LDAP_SCOPE_ONELEVEL,
	    filter, no_attrs, 500, skd_store_i_collect_dn, &d))
		goto err;
	for (i = 0; i < d.n; i++) {
		rc = skd_store_i_delete(s, d.v[i]);
		if (rc == LDAP_SUCCESS)
			gone++;
		else if (rc != LDAP_NO_SUCH_OBJECT) {
			/* Another worker purging at once is fine. */
			skd_store_i_ldap_fail(s, rc, "purge replay", d.v[i]);
			goto err;
		}
	}
	if (out_n != NULL)
		*out_n = gone;
	ok = 1;
 err:
	skd_store_i_strs_free(d.v, d.n);
	return ok;
}

/* ---- agent status --------------------------------------------------------- */

int
skd_store_write_status(struct skd_store *s, const char *worker_id,
    const char *version, time_t heartbeat, const char *status_text)
{
	struct skd_store_i_mods m;
	char t[16];
	int ok;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	skd_store_time_str(t, heartbeat);
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_HEARTBEAT, t);
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_WORKERID, worker_id);
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_VERSION, version);
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_STATUSTEXT,
	    status_text != NULL && status_text[0] != '\0' ? status_text :
	    NULL);
	ok = skd_store_i_write(s, 0, s->agent_dn, &m, "write status");
	skd_store_i_mods_cleanup(&m);
	return ok;
}

void
skd_store_status_free(struct skd_store_status *st)
{
	if (st == NULL)
		return;
	free(st->worker_id);
	free(st->version);
	free(st->text);
	free(st);
}

#define T struct skd_store_status
static const struct skd_store_i_field status_fields[] = {
	SKD_STORE_I_F(T, STR, worker_id, A_WORKERID),
	SKD_STORE_I_F(T, STR, version, A_VERSION),
	SKD_STORE_I_F(T, TIME, heartbeat, A_HEARTBEAT),
	SKD_STORE_I_F(T, STR, text, A_STATUSTEXT),
};
#undef T

int
skd_store_read_status(struct skd_store *s,
    struct skd_store_status **out_status)
{
	struct skd_store_status *st = NULL;
	LDAPMessage *res = NULL, *e;
	char *attrs[] = { A_WORKERID, A_VERSION, A_HEARTBEAT, A_STATUSTEXT,
	    NULL };
	int ok = 0;

	*out_status = NULL;
	skd_store_i_ok(s);
	if (!skd_store_i_read(s, &res, &e, s->agent_dn, attrs))
		goto err;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	if (!skd_store_i_get_fields(s->ld, e, st, status_fields,
	    SKD_STORE_I_NITEMS(status_fields))) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "malformed agent entry %s", s->agent_dn);
		goto err;
	}
	*out_status = st;
	st = NULL;
	ok = 1;
 err:
	skd_store_status_free(st);
	ldap_msgfree(res);
	return ok;
}
