/*
 * test_store_ops.c: the store operations the worker and the ACLs need,
 * against the real slapd: responses readable by their submitter (and by
 * nobody else), person resolution for dnattr ACLs, the GL listing, the
 * agent status reader, attempts counted under the claim, retention
 * deletes, and the key id -> GL lookup for member acknowledgements.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "test_store_common.h"

static const unsigned char ops_msg[] = { 0x30, 0x03, 0x02, 0x01, 0x09 };

/* ---- responses readable by their requester ---- */

START_TEST(test_response_for_submitter)
{
	struct skd_store *gla = store_open_gla(), *alice, *bob;
	struct skd_store_blob b = { (unsigned char *)ops_msg, sizeof(ops_msg) };
	struct skd_store_blob *out = NULL;
	const char *names[] = { "email:alice@example.com" };
	const char *alice_dn = skd_test_stack_env("SKD_ALICE_DN");
	char id[SKD_STORE_ID_LEN], *txt = NULL;
	size_t n = 0;
	int rc;

	/* RFC 5275 1.3: alice submits through the directory, bound as
	 * herself (the ACL makes her the submitter of what she adds). */
	alice = store_open_as("SKD_ALICE");
	bob = store_open_as("SKD_BOB");
	ck_store_ok(alice, skd_store_add_request(alice, id, ops_msg,
	    sizeof(ops_msg), alice_dn));

	/* The GLA answers without naming her DN: the store adds it. */
	ck_store_ok(gla, skd_store_publish_response(gla, id, &b, 1, names, 1,
	    NULL, 0));
	/* Idempotent: the same publish again (a journal replayed). */
	ck_store_ok(gla, skd_store_publish_response(gla, id, &b, 1, names, 1,
	    NULL, 0));
	/* Naming her DN explicitly is the same content. */
	ck_store_ok(gla, skd_store_publish_response(gla, id, &b, 1, names, 1,
	    &alice_dn, 1));

	ck_store_ok(alice, skd_store_read_response(alice, &out, &n, id));
	ck_assert_uint_eq(n, 1);
	ck_assert_mem_eq(out[0].data, ops_msg, sizeof(ops_msg));
	skd_store_blobs_free(out, n);
	out = NULL;

	/* bob is neither submitter nor recipient: the entry is not there
	 * for him. */
	ck_store_err(bob, skd_store_read_response(bob, &out, &n, id),
	    SKD_STORE_ERR_NOT_FOUND);
	ck_assert_ptr_null(out);

	rc = skd_test_run(&txt, NULL, "ldapsearch -LLL -x -H '%s' -D '%s' "
	    "-w '%s' -b 'skdRequestId=%s,ou=responses,%s' -s base "
	    "skdRecipientDN", skd_test_stack_env("SKD_LDAP_URI"),
	    skd_test_stack_env("SKD_GLA_DN"), skd_test_stack_env("SKD_GLA_PW"),
	    id, skd_test_stack_env("SKD_BASE_DN"));
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(txt, alice_dn) != NULL, "%s", txt);
	free(txt);

	skd_store_close(bob);
	skd_store_close(alice);
	skd_store_close(gla);
}
END_TEST

START_TEST(test_response_submitter_added_later)
{
	struct skd_store *gla = store_open_gla(), *alice;
	struct skd_store_blob b = { (unsigned char *)ops_msg, sizeof(ops_msg) };
	struct skd_store_blob c = { (unsigned char *)"\x30\x00", 2 };
	struct skd_store_blob *out = NULL;
	const char *alice_dn = skd_test_stack_env("SKD_ALICE_DN");
	char id[SKD_STORE_ID_LEN], *rid = store_unique("");
	size_t n = 0;

	/* A response published with no request entry (none to read): no
	 * submitter, content as given. */
	ck_store_ok(gla, skd_store_publish_response(gla, rid, &b, 1, NULL, 0,
	    NULL, 0));
	ck_store_ok(gla, skd_store_publish_response(gla, rid, &b, 1, NULL, 0,
	    NULL, 0));
	ck_store_err(gla, skd_store_publish_response(gla, rid, &c, 1, NULL, 0,
	    NULL, 0), SKD_STORE_ERR_EXISTS);
	ck_store_ok(gla, skd_store_delete_response(gla, rid));
	ck_store_err(gla, skd_store_delete_response(gla, rid),
	    SKD_STORE_ERR_NOT_FOUND);

	/* A response written before responses named their submitter gets
	 * the DN added on the next (replayed) publish; other content is
	 * still refused. */
	alice = store_open_as("SKD_ALICE");
	ck_store_ok(alice, skd_store_add_request(alice, id, ops_msg,
	    sizeof(ops_msg), alice_dn));
	ck_store_ok(gla, skd_store_publish_response(gla, id, &b, 1, NULL, 0,
	    NULL, 0));
	ck_store_ok(gla, skd_store_delete_response(gla, id));
	ck_store_ok(gla, skd_store_delete_request(gla, id));
	ck_store_ok(gla, skd_store_publish_response(gla, id, &b, 1, NULL, 0,
	    NULL, 0));
	ck_store_err(alice, skd_store_read_response(alice, &out, &n, id),
	    SKD_STORE_ERR_NOT_FOUND);
	/* The request is back (same id, as an old entry would be). */
	{
		char *t = NULL;
		int rc = skd_test_run(&t, NULL, "printf 'dn: skdRequestId=%s,"
		    "ou=requests,%s\\nobjectClass: skdRequest\\nskdRequestId: "
		    "%s\\nskdState: done\\nskdSubmitterDN: %s\\nskdMessage: x"
		    "\\n' | ldapadd -x -H '%s' -D '%s' -w '%s' 2>&1", id,
		    skd_test_stack_env("SKD_BASE_DN"), id, alice_dn,
		    skd_test_stack_env("SKD_LDAP_URI"),
		    skd_test_stack_env("SKD_GLA_DN"),
		    skd_test_stack_env("SKD_GLA_PW"));
		ck_assert_msg(rc == 0, "ldapadd: %s", t);
		free(t);
	}
	ck_store_err(gla, skd_store_publish_response(gla, id, &c, 1, NULL, 0,
	    NULL, 0), SKD_STORE_ERR_EXISTS);
	ck_store_ok(gla, skd_store_publish_response(gla, id, &b, 1, NULL, 0,
	    NULL, 0));
	ck_store_ok(alice, skd_store_read_response(alice, &out, &n, id));
	ck_assert_uint_eq(n, 1);
	skd_store_blobs_free(out, n);

	ck_store_ok(gla, skd_store_delete_request(gla, id));
	ck_store_err(gla, skd_store_delete_request(gla, id),
	    SKD_STORE_ERR_NOT_FOUND);
	free(rid);
	skd_store_close(alice);
	skd_store_close(gla);
}
END_TEST

/* ---- person resolution ---- */

/* Adds uid=<uid>,ou=people with mail as the root DN. */
static void
add_person(const char *uid, const char *mail)
{
	char *t = NULL;
	int rc;

	rc = skd_test_run(&t, NULL, "printf 'dn: uid=%s,%s\\nobjectClass: "
	    "inetOrgPerson\\nuid: %s\\ncn: %s\\nsn: %s\\nmail: %s\\n' | "
	    "ldapadd -x -H '%s' -D '%s' -w '%s' 2>&1", uid,
	    skd_test_stack_env("SKD_PEOPLE_DN"), uid, uid, uid, mail,
	    skd_test_stack_env("SKD_LDAP_URI"),
	    skd_test_stack_env("SKD_ROOT_DN"),
	    skd_test_stack_env("SKD_ROOT_PW"));
	ck_assert_msg(rc == 0, "ldapadd %s: %s", uid, t);
	free(t);
}

static void
assert_person(struct skd_store *s, const char *name, const char *want_dn)
{
	char *dn = NULL;

	ck_assert_msg(skd_store_resolve_person(s, &dn, name), "%s: %s", name,
	    skd_store_errmsg(s));
	ck_assert_msg(strcasecmp(dn, want_dn) == 0, "%s -> %s, not %s", name,
	    dn, want_dn);
	free(dn);
}

static void
assert_no_person(struct skd_store *s, const char *name,
    enum skd_store_err want)
{
	char *dn = NULL;

	ck_assert_msg(!skd_store_resolve_person(s, &dn, name),
	    "%s resolved to %s", name, dn);
	ck_assert_ptr_null(dn);
	ck_assert_msg(skd_store_error(s) == want, "%s: %s, not %s (%s)", name,
	    skd_store_err_str(skd_store_error(s)), skd_store_err_str(want),
	    skd_store_errmsg(s));
}

START_TEST(test_resolve_person)
{
	struct skd_store *s = store_open_gla();
	const char *alice = skd_test_stack_env("SKD_ALICE_DN");
	const char *bob = skd_test_stack_env("SKD_BOB_DN");
	char *u1 = store_unique("dup1-"), *u2 = store_unique("dup2-");
	char *mail = store_unique("dup-"), name[256], dnt[512];

	assert_person(s, "email:alice@example.com", alice);
	assert_person(s, "email:BOB@Example.COM", bob);
	snprintf(dnt, sizeof(dnt), "dirName:%s", alice);
	assert_person(s, dnt, alice);
	/* Spacing and case of the DN text do not matter to slapd. */
	snprintf(dnt, sizeof(dnt), "dirName:UID=bob, %s",
	    skd_test_stack_env("SKD_PEOPLE_DN"));
	assert_person(s, dnt, bob);

	assert_no_person(s, "email:nobody@example.com",
	    SKD_STORE_ERR_NOT_FOUND);
	/* Escaped by libldap: a wildcard is a literal '*', not everyone. */
	assert_no_person(s, "email:*", SKD_STORE_ERR_NOT_FOUND);
	assert_no_person(s, "email:*)(uid=alice", SKD_STORE_ERR_NOT_FOUND);
	assert_no_person(s, "URI:https://example.com/alice",
	    SKD_STORE_ERR_NOT_FOUND);
	assert_no_person(s, "DNS:alice.example.com", SKD_STORE_ERR_NOT_FOUND);
	snprintf(dnt, sizeof(dnt), "dirName:uid=nobody,%s",
	    skd_test_stack_env("SKD_PEOPLE_DN"));
	assert_no_person(s, dnt, SKD_STORE_ERR_NOT_FOUND);
	/* Outside the suffix (the config database is not a person). */
	assert_no_person(s, "dirName:cn=config", SKD_STORE_ERR_NOT_FOUND);
	assert_no_person(s, "dirName:uid=alice,dc=example,dc=org",
	    SKD_STORE_ERR_NOT_FOUND);
	assert_no_person(s, "dirName:not a DN", SKD_STORE_ERR_INVALID);
	assert_no_person(s, "email:", SKD_STORE_ERR_INVALID);

	/* Two people with one address: no unique reader, refused. */
	snprintf(name, sizeof(name), "%s@example.com", mail);
	add_person(u1, name);
	snprintf(dnt, sizeof(dnt), "email:%s", name);
	snprintf(name, sizeof(name), "uid=%s,%s", u1,
	    skd_test_stack_env("SKD_PEOPLE_DN"));
	assert_person(s, dnt, name);
	snprintf(name, sizeof(name), "%s@example.com", mail);
	add_person(u2, name);
	assert_no_person(s, dnt, SKD_STORE_ERR_INVALID);

	free(mail);
	free(u2);
	free(u1);
	skd_store_close(s);
}
END_TEST

/* ---- GL listing ---- */

struct gl_seen {
	const char	*names[3];
	char		 states[3][16];
	int		 count;		/* entries reported */
	int		 stop_after;	/* 0: never */
};

static int
gl_seen_cb(void *arg, const char *name, const char *state)
{
	struct gl_seen *g = arg;
	int i;

	g->count++;
	for (i = 0; i < 3; i++) {
		if (strcmp(g->names[i], name) == 0)
			snprintf(g->states[i], sizeof(g->states[i]), "%s",
			    state);
	}
	return g->stop_after != 0 && g->count >= g->stop_after;
}

static void
gl_basic(struct skd_store_gl *gl, char *name)
{
	memset(gl, 0, sizeof(*gl));
	gl->name = name;
	gl->address = (char *)"email:list@example.com";
	gl->administration = 1;
	gl->duration = 1;
	gl->generation_counter = 1;
}

START_TEST(test_list_gls)
{
	struct skd_store *s = store_open_gla(), *alice;
	struct skd_store_gl gl;
	struct gl_seen g;
	char *a = store_unique("URI:https://example.com/la/");
	char *b = store_unique("URI:https://example.com/lb/");
	char *c = store_unique("URI:https://example.com/lc/");

	gl_basic(&gl, a);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	gl_basic(&gl, b);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	gl_basic(&gl, c);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	ck_store_ok(s, skd_store_mark_gl_deleted(s, b));

	memset(&g, 0, sizeof(g));
	g.names[0] = a;
	g.names[1] = b;
	g.names[2] = c;
	/* Page size 2: several round trips for the whole container. */
	ck_store_ok(s, skd_store_list_gls(s, gl_seen_cb, &g, 2));
	ck_assert_str_eq(g.states[0], "active");
	ck_assert_str_eq(g.states[1], "deleted");
	ck_assert_str_eq(g.states[2], "active");
	ck_assert_int_ge(g.count, 3);

	memset(&g, 0, sizeof(g));
	g.names[0] = a;
	g.names[1] = b;
	g.names[2] = c;
	g.stop_after = 1;
	ck_store_ok(s, skd_store_list_gls(s, gl_seen_cb, &g, 2));
	ck_assert_int_eq(g.count, 1);

	/* A member may not list the groups (least disclosure): alice sees
	 * none of these GLs. */
	alice = store_open_as("SKD_ALICE");
	memset(&g, 0, sizeof(g));
	g.names[0] = a;
	g.names[1] = b;
	g.names[2] = c;
	(void)skd_store_list_gls(alice, gl_seen_cb, &g, 10);
	ck_assert_str_eq(g.states[0], "");
	ck_assert_str_eq(g.states[1], "");
	ck_assert_str_eq(g.states[2], "");
	skd_store_close(alice);

	ck_store_ok(s, skd_store_purge_gl(s, a));
	ck_store_ok(s, skd_store_purge_gl(s, b));
	ck_store_ok(s, skd_store_purge_gl(s, c));
	free(a);
	free(b);
	free(c);
	skd_store_close(s);
}
END_TEST

/* ---- agent status ---- */

START_TEST(test_read_status)
{
	struct skd_store *s = store_open_gla(), *bob;
	struct skd_store_status *st = NULL;
	char *tag = store_unique("w-");

	ck_store_ok(s, skd_store_write_status(s, tag, "skd 0.2", 1767225600,
	    "processed=7 failed=1"));
	ck_store_ok(s, skd_store_read_status(s, &st));
	ck_assert_str_eq(st->worker_id, tag);
	ck_assert_str_eq(st->version, "skd 0.2");
	ck_assert_int_eq(st->heartbeat, 1767225600);
	ck_assert_str_eq(st->text, "processed=7 failed=1");
	skd_store_status_free(st);
	st = NULL;

	/* Empty text removes the value. */
	ck_store_ok(s, skd_store_write_status(s, tag, "skd 0.2", 1767225601,
	    ""));
	ck_store_ok(s, skd_store_read_status(s, &st));
	ck_assert_ptr_null(st->text);
	ck_assert_int_eq(st->heartbeat, 1767225601);
	skd_store_status_free(st);
	st = NULL;

	/* Every user reads the heartbeat (ldif/acl.ldif {3}); the worker id
	 * is not among the attributes shown to them. */
	bob = store_open_as("SKD_BOB");
	ck_store_ok(bob, skd_store_read_status(bob, &st));
	ck_assert_int_eq(st->heartbeat, 1767225601);
	ck_assert_str_eq(st->version, "skd 0.2");
	ck_assert_ptr_null(st->worker_id);
	skd_store_status_free(st);
	skd_store_status_free(NULL);
	skd_store_close(bob);
	free(tag);
	skd_store_close(s);
}
END_TEST

/* ---- attempts, retention ---- */

static int
find_id_cb(void *arg, const char *id, const char *state)
{
	const char *want = ((const char **)arg)[0];

	if (strcmp(id, want) == 0)
		((const char **)arg)[1] = strcmp(state, "done") == 0 ?
		    "done" : strcmp(state, "failed") == 0 ? "failed" : "other";
	return 0;
}

START_TEST(test_bump_attempts)
{
	struct skd_store *s = store_open_gla();
	struct skd_store_request *r = NULL;
	char id[SKD_STORE_ID_LEN];
	int n = -1;

	ck_store_ok(s, skd_store_add_request(s, id, ops_msg, sizeof(ops_msg),
	    NULL));
	/* Not claimed: no owner to assert. */
	ck_store_err(s, skd_store_bump_attempts(s, &n, id, "w1"),
	    SKD_STORE_ERR_CONFLICT);
	ck_store_ok(s, skd_store_claim_request(s, id, "w1", time(NULL) + 60));
	ck_store_ok(s, skd_store_bump_attempts(s, &n, id, "w1"));
	ck_assert_int_eq(n, 1);
	ck_store_ok(s, skd_store_bump_attempts(s, &n, id, "w1"));
	ck_assert_int_eq(n, 2);
	ck_store_ok(s, skd_store_bump_attempts(s, NULL, id, "w1"));
	ck_store_err(s, skd_store_bump_attempts(s, &n, id, "w2"),
	    SKD_STORE_ERR_CONFLICT);
	ck_store_err(s, skd_store_bump_attempts(s, &n, id, ""),
	    SKD_STORE_ERR_INVALID);
	ck_store_err(s, skd_store_bump_attempts(s, &n,
	    "00000000-0000-0000-0000-000000000000", "w1"),
	    SKD_STORE_ERR_NOT_FOUND);
	ck_store_ok(s, skd_store_read_request(s, &r, id));
	ck_assert_int_eq(r->attempts, 3);
	skd_store_request_free(r);
	r = NULL;

	/* After a take-over the counter goes on under the new owner. */
	ck_store_ok(s, skd_store_finish_request(s, id, "w1", NULL));
	ck_store_err(s, skd_store_bump_attempts(s, &n, id, "w2"),
	    SKD_STORE_ERR_CONFLICT);
	ck_store_ok(s, skd_store_delete_request(s, id));
	skd_store_close(s);
}
END_TEST

START_TEST(test_list_finished)
{
	struct skd_store *s = store_open_gla();
	char done[SKD_STORE_ID_LEN], failed[SKD_STORE_ID_LEN];
	char pending[SKD_STORE_ID_LEN];
	const char *arg[2];
	time_t now;

	ck_store_ok(s, skd_store_add_request(s, done, ops_msg,
	    sizeof(ops_msg), NULL));
	ck_store_ok(s, skd_store_add_request(s, failed, ops_msg,
	    sizeof(ops_msg), NULL));
	ck_store_ok(s, skd_store_add_request(s, pending, ops_msg,
	    sizeof(ops_msg), NULL));
	ck_store_ok(s, skd_store_claim_request(s, done, "w", time(NULL) + 60));
	ck_store_ok(s, skd_store_claim_request(s, failed, "w",
	    time(NULL) + 60));
	ck_store_ok(s, skd_store_finish_request(s, done, "w", NULL));
	ck_store_ok(s, skd_store_finish_request(s, failed, "w", "refused"));
	now = time(NULL);

	/* Finished before an hour ago: not these. */
	arg[0] = done;
	arg[1] = NULL;
	ck_store_ok(s, skd_store_list_finished(s, find_id_cb, arg, now - 3600,
	    50));
	ck_assert_ptr_null(arg[1]);
	/* Finished up to a second from now: both finished ones, never the
	 * pending one. */
	ck_store_ok(s, skd_store_list_finished(s, find_id_cb, arg, now + 1,
	    50));
	ck_assert_str_eq(arg[1], "done");
	arg[0] = failed;
	arg[1] = NULL;
	ck_store_ok(s, skd_store_list_finished(s, find_id_cb, arg, now + 1,
	    50));
	ck_assert_str_eq(arg[1], "failed");
	arg[0] = pending;
	arg[1] = NULL;
	ck_store_ok(s, skd_store_list_finished(s, find_id_cb, arg, now + 1,
	    50));
	ck_assert_ptr_null(arg[1]);

	ck_store_ok(s, skd_store_delete_request(s, done));
	ck_store_ok(s, skd_store_delete_request(s, failed));
	ck_store_ok(s, skd_store_delete_request(s, pending));
	skd_store_close(s);
}
END_TEST

/* ---- key id -> GL ---- */

static void
key_put(struct skd_store *s, char *gl, const char *id, int shard)
{
	static unsigned char msg[] = { 0x30, 0x02, 0x05, 0x00 };
	struct skd_store_glkey k;

	memset(&k, 0, sizeof(k));
	k.key_id = (char *)id;
	k.gl_name = gl;
	k.shard = shard;
	k.message = msg;
	k.message_len = sizeof(msg);
	k.not_before = 1767225600;
	k.not_after = 1769904000;
	ck_store_ok(s, skd_store_put_glkey(s, &k));
}

START_TEST(test_find_key_gl)
{
	struct skd_store *s = store_open_gla(), *alice;
	struct skd_store_gl gl;
	char *a = store_unique("URI:https://example.com/ka/");
	char *b = store_unique("URI:https://example.com/kb/");
	char *k1 = store_unique("a1"), *k2 = store_unique("b2"), *out = NULL;
	size_t i;

	/* Key ids are hex; make these so (UUID minus dashes). */
	for (i = 0; k1[i] != '\0'; i++)
		if (k1[i] == '-')
			k1[i] = '0';
	for (i = 0; k2[i] != '\0'; i++)
		if (k2[i] == '-')
			k2[i] = '0';
	gl_basic(&gl, a);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	gl_basic(&gl, b);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	key_put(s, a, k1, 0);
	key_put(s, a, k1, 1);
	key_put(s, b, k2, 0);

	ck_store_ok(s, skd_store_find_key_gl(s, &out, k1));
	ck_assert_str_eq(out, a);
	free(out);
	out = NULL;
	/* skdKeyId matches without regard to case (caseIgnoreMatch). */
	for (i = 0; k2[i] != '\0'; i++)
		if (k2[i] >= 'a' && k2[i] <= 'f')
			k2[i] = (char)(k2[i] - 'a' + 'A');
	ck_store_ok(s, skd_store_find_key_gl(s, &out, k2));
	ck_assert_str_eq(out, b);
	free(out);
	out = NULL;
	ck_store_err(s, skd_store_find_key_gl(s, &out, "00ff"),
	    SKD_STORE_ERR_NOT_FOUND);
	ck_store_err(s, skd_store_find_key_gl(s, &out, "*"),
	    SKD_STORE_ERR_NOT_FOUND);
	ck_store_err(s, skd_store_find_key_gl(s, &out, ""),
	    SKD_STORE_ERR_INVALID);
	ck_assert_ptr_null(out);

	/* The same key id under two GLs (a forged entry): no answer. */
	key_put(s, b, k1, 0);
	ck_store_err(s, skd_store_find_key_gl(s, &out, k1),
	    SKD_STORE_ERR_INVALID);
	ck_assert_ptr_null(out);

	/* Not for members: alice reads no key entry she is not named in. */
	alice = store_open_as("SKD_ALICE");
	ck_store_err(alice, skd_store_find_key_gl(alice, &out, k2),
	    SKD_STORE_ERR_NOT_FOUND);
	skd_store_close(alice);

	ck_store_ok(s, skd_store_purge_gl(s, a));
	ck_store_ok(s, skd_store_purge_gl(s, b));
	free(k1);
	free(k2);
	free(a);
	free(b);
	skd_store_close(s);
}
END_TEST

Suite *skd_suite_store_ops(void);

Suite *
skd_suite_store_ops(void)
{
	Suite *su = suite_create("store_ops");
	TCase *tc = tcase_create("ops");

	tcase_add_unchecked_fixture(tc, store_fixture, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_response_for_submitter);
	tcase_add_test(tc, test_response_submitter_added_later);
	tcase_add_test(tc, test_resolve_person);
	tcase_add_test(tc, test_list_gls);
	tcase_add_test(tc, test_read_status);
	tcase_add_test(tc, test_bump_attempts);
	tcase_add_test(tc, test_list_finished);
	tcase_add_test(tc, test_find_key_gl);
	suite_add_tcase(su, tc);
	return su;
}
