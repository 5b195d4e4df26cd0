/*
 * test_acl.c: the least-disclosure ACLs of ldif/acl.ldif, enforced by a real
 * slapd started with tools/skd-stack (DESIGN.md "Least disclosure"; RFC 5275
 * 3.1.1 recipientsNotMutuallyAware).  The GLA populates the directory, then
 * members, owners and anonymous clients try to read and write with the
 * OpenLDAP command line tools.
 *
 * One stack per test process, started in an unchecked fixture.  A failure
 * to start it is not a skip: every test then fails on stack_ok.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skd_test.h"

#define SUFFIX	"dc=example,dc=com"
#define BASE	"ou=skd," SUFFIX
#define GROUPS	"ou=groups," BASE
#define GL_A	"skdGLName=email:gl-a@example.com," GROUPS
#define GL_B	"skdGLName=email:gl-b@example.com," GROUPS
#define GL_C	"skdGLName=email:gl-c@example.com," GROUPS
#define KEY_A0	"skdKeyId=aa01+skdShard=0," GL_A
#define KEY_A1	"skdKeyId=aa01+skdShard=1," GL_A
#define KEY_B0	"skdKeyId=bb01+skdShard=0," GL_B
#define REQS	"ou=requests," BASE

static char *stack_dir;
static int stack_ok;
static char stack_err[256];

/*
 * The GLA's writes: two GLs, a not-mutually-aware list A (owner glo1,
 * members alice and bob, one glKey entry each, an archived KEK) and a list
 * B with carol's key; a response for alice, a message for glo1, a request
 * from bob, a replay cache entry.  $SKD_*_DN come from the stack's env file (the shell expands
 * them: the LDIF is piped through a here-document).
 */
static const char populate_ldif[] =
    "dn: " GL_A "\n"
    "objectClass: skdGroupList\n"
    "skdGLName: email:gl-a@example.com\n"
    "skdGLAddress: email:gl-a@example.com\n"
    "skdRevision: 1\n"
    "skdGLAdministration: 1\n"
    "skdRecipientsNotMutuallyAware: TRUE\n"
    "\n"
    "dn: skdOwnerName=email:glo1@example.com," GL_A "\n"
    "objectClass: skdGLOwner\n"
    "skdOwnerName: email:glo1@example.com\n"
    "skdOwnerDN: $SKD_GLO1_DN\n"
    "\n"
    "dn: skdMemberName=dirName:CN=alice\\,O=skd demo\\,C=US," GL_A "\n"
    "objectClass: skdGLMember\n"
    "skdMemberName: dirName:CN=alice,O=skd demo,C=US\n"
    "skdMemberDN: $SKD_ALICE_DN\n"
    "\n"
    "dn: skdMemberName=email:bob@example.com," GL_A "\n"
    "objectClass: skdGLMember\n"
    "skdMemberName: email:bob@example.com\n"
    "skdMemberDN: $SKD_BOB_DN\n"
    "\n"
    "dn: " KEY_A0 "\n"
    "objectClass: skdGLKey\n"
    "skdKeyId: aa01\n"
    "skdShard: 0\n"
    "skdGLName: email:gl-a@example.com\n"
    "skdRecipientName: email:alice@example.com\n"
    "skdRecipientDN: $SKD_ALICE_DN\n"
    "skdNotBefore: 20260101000000Z\n"
    "skdNotAfter: 20260201000000Z\n"
    "skdMessage:: YWxpY2Uta2V5\n"
    "skdArchivedKEK:: a2VrLWZvci1nbGEtb25seQ==\n"
    "\n"
    "dn: " KEY_A1 "\n"
    "objectClass: skdGLKey\n"
    "skdKeyId: aa01\n"
    "skdShard: 1\n"
    "skdGLName: email:gl-a@example.com\n"
    "skdRecipientName: email:bob@example.com\n"
    "skdRecipientDN: $SKD_BOB_DN\n"
    "skdMessage:: Ym9iLWtleQ==\n"
    "\n"
    "dn: " GL_B "\n"
    "objectClass: skdGroupList\n"
    "skdGLName: email:gl-b@example.com\n"
    "skdGLAddress: email:gl-b@example.com\n"
    "skdRevision: 1\n"
    "skdOwnerDN: $SKD_GLO2_DN\n"
    "\n"
    "dn: " KEY_B0 "\n"
    "objectClass: skdGLKey\n"
    "skdKeyId: bb01\n"
    "skdShard: 0\n"
    "skdGLName: email:gl-b@example.com\n"
    "skdRecipientName: email:carol@example.com\n"
    "skdRecipientDN: $SKD_CAROL_DN\n"
    "skdMessage:: Y2Fyb2wta2V5\n"
    "\n"
    "dn: skdRequestId=resp-alice,ou=responses," BASE "\n"
    "objectClass: skdResponse\n"
    "skdRequestId: resp-alice\n"
    "skdRecipientName: email:alice@example.com\n"
    "skdRecipientDN: $SKD_ALICE_DN\n"
    "skdMessage:: cmVzcG9uc2U=\n"
    "\n"
    "dn: skdMessageId=msg-glo1,ou=messages," BASE "\n"
    "objectClass: skdGLAMessage\n"
    "skdMessageId: msg-glo1\n"
    "skdMessageType: forwardedRequest\n"
    "skdRecipientName: email:glo1@example.com\n"
    "skdRecipientDN: $SKD_GLO1_DN\n"
    "skdMessage:: Zm9yd2FyZGVk\n"
    "\n"
    "dn: skdRequestId=req-bob," REQS "\n"
    "objectClass: skdRequest\n"
    "skdRequestId: req-bob\n"
    "skdState: pending\n"
    "skdSubmitterDN: $SKD_BOB_DN\n"
    "skdMessage:: Ym9iLXJlcXVlc3Q=\n"
    "\n"
    "dn: skdReplayKey=0badc0de,ou=replay," BASE "\n"
    "objectClass: skdReplay\n"
    "skdReplayKey: 0badc0de\n"
    "skdExpires: 20990101000000Z\n";

/*
 * Bind options for who: "ANON" for an anonymous simple bind, else the name
 * used in the env file (GLA, GLO1, ALICE, ...).  Static storage.
 */
static const char *
bind_opts(const char *who)
{
	static char buf[128];

	if (strcmp(who, "ANON") == 0) {
		return "-x";
	}
	snprintf(buf, sizeof(buf), "-x -D \"$SKD_%s_DN\" -w \"$SKD_%s_PW\"",
	    who, who);
	return buf;
}

/*
 * run_as runs an OpenLDAP tool command (tool and its arguments in fmt) as
 * who against the stack's ldap:// listener, with the env file sourced;
 * stdin from the here-document body "in" when not NULL (globbing is off,
 * so that an attribute list "*" reaches ldapsearch).  Returns the exit
 * status; *out (when out is not NULL) is stdout and stderr, caller frees.
 */
static int
run_as(char **out, const char *who, const char *in, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
run_as(char **out, const char *who, const char *in, const char *fmt, ...)
{
	va_list ap;
	char *args = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&args, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(r, 0);
	if (in != NULL) {
		r = skd_test_run(out, NULL,
		    "set -f; . '%s/env' && %s -H \"$SKD_LDAP_URI\" %s 2>&1 "
		    "<<SKD_EOF\n"
		    "%s\nSKD_EOF\n", stack_dir, args, bind_opts(who), in);
	} else {
		r = skd_test_run(out, NULL,
		    "set -f; . '%s/env' && %s -H \"$SKD_LDAP_URI\" %s 2>&1 "
		    "</dev/null",
		    stack_dir, args, bind_opts(who));
	}
	free(args);
	return r;
}

/* search runs ldapsearch as who; *out is the LDIF (and any error text). */
static int
search(char **out, const char *who, const char *base, const char *scope,
    const char *filter, const char *attrs)
{
	return run_as(out, who, NULL,
	    "ldapsearch -LLL -o ldif-wrap=no -b '%s' -s %s '%s' %s", base,
	    scope, filter, attrs);
}

static void
stack_setup(void)
{
	char *out = NULL;
	int r;

	stack_ok = 0;
	if ((stack_dir = skd_test_tmpdir()) == NULL) {
		snprintf(stack_err, sizeof(stack_err), "no tmpdir");
		return;
	}
	r = skd_test_run(&out, NULL,
	    "'%s/tools/skd-stack' start '%s/stack' --pki '%s/build/test-pki' "
	    "2>&1", skd_test_top(), stack_dir, skd_test_top());
	if (r != 0) {
		snprintf(stack_err, sizeof(stack_err),
		    "skd-stack start failed (%d): %.180s", r,
		    out != NULL ? out : "");
		free(out);
		return;
	}
	free(out);
	out = NULL;
	/* From here on the stack directory is <tmp>/stack. */
	{
		char *d = NULL;

		if (asprintf(&d, "%s/stack", stack_dir) < 0) {
			return;
		}
		free(stack_dir);
		stack_dir = d;
	}
	r = run_as(&out, "GLA", populate_ldif, "ldapadd");
	if (r != 0) {
		snprintf(stack_err, sizeof(stack_err),
		    "populating as the GLA failed (%d): %.180s", r,
		    out != NULL ? out : "");
		free(out);
		return;
	}
	free(out);
	stack_ok = 1;
}

static void
stack_teardown(void)
{
	char *top;

	if (stack_dir == NULL) {
		return;
	}
	(void)skd_test_run(NULL, NULL, "'%s/tools/skd-stack' stop '%s'",
	    skd_test_top(), stack_dir);
	/* stack_dir is <tmp>/stack: remove <tmp>. */
	top = strdup(stack_dir);
	if (top != NULL && strrchr(top, '/') != NULL) {
		*strrchr(top, '/') = '\0';
		skd_test_rmdir(top);
	} else {
		free(top);
	}
	free(stack_dir);
	stack_dir = NULL;
}

#define REQUIRE_STACK() ck_assert_msg(stack_ok, "stack: %s", stack_err)

/* An entry count in LDIF output: lines starting "dn: ". */
static int
count_entries(const char *ldif)
{
	int n = 0;
	const char *p = ldif;

	if (strncmp(p, "dn: ", 4) == 0) {
		n++;
	}
	while ((p = strstr(p, "\ndn: ")) != NULL) {
		n++;
		p++;
	}
	return n;
}

START_TEST(test_gla_wrote_everything)
{
	char *out = NULL;

	REQUIRE_STACK();
	/* The GLA sees all it wrote, including the archived KEK. */
	ck_assert_int_eq(search(&out, "GLA", GROUPS, "sub",
	    "(objectClass=skdGLKey)", "skdArchivedKEK"), 0);
	ck_assert_int_eq(count_entries(out), 3);
	ck_assert_ptr_nonnull(strstr(out, "skdArchivedKEK: kek-for-gla-only"));
	free(out);
	/* ... and may update GL state with a compare-and-swap modify. */
	ck_assert_int_eq(run_as(&out, "GLA", "dn: " GL_C "\n"
	    "objectClass: skdGroupList\nskdGLName: email:gl-c@example.com\n"
	    "skdGLAddress: email:gl-c@example.com\nskdRevision: 1\n",
	    "ldapadd"), 0);
	free(out);
	ck_assert_int_eq(run_as(&out, "GLA", "dn: " GL_C "\n"
	    "changetype: modify\ndelete: skdRevision\nskdRevision: 1\n-\n"
	    "add: skdRevision\nskdRevision: 2\n-\n"
	    "replace: skdGLState\nskdGLState: deleted\n", "ldapmodify"), 0);
	free(out);
	/* A stale revision loses (RFC 4511 noSuchAttribute, 16). */
	ck_assert_int_eq(run_as(&out, "GLA", "dn: " GL_C "\n"
	    "changetype: modify\ndelete: skdRevision\nskdRevision: 1\n-\n"
	    "add: skdRevision\nskdRevision: 2\n", "ldapmodify"), 16);
	free(out);
}
END_TEST

START_TEST(test_member_reads_own_glkey_only)
{
	char *out = NULL;

	REQUIRE_STACK();
	ck_assert_int_eq(search(&out, "ALICE", GROUPS, "sub",
	    "(&(objectClass=skdGLKey)(skdGLName=email:gl-a@example.com)"
	    "(skdRecipientName=email:alice@example.com))", "skdMessage"), 0);
	ck_assert_int_eq(count_entries(out), 1);
	ck_assert_ptr_nonnull(strstr(out, "dn: " KEY_A0));
	ck_assert_ptr_nonnull(strstr(out, "skdMessage: alice-key"));
	free(out);
	/* Not bob's entry in the same list, even by its exact DN. */
	ck_assert_int_eq(search(&out, "ALICE", GROUPS, "sub",
	    "(objectClass=skdGLKey)", "*"), 0);
	ck_assert_int_eq(count_entries(out), 1);
	ck_assert_ptr_null(strstr(out, "bob-key"));
	free(out);
	ck_assert_int_eq(search(&out, "ALICE", KEY_A1, "base",
	    "(objectClass=*)", "*"), 32);
	free(out);
	/* Bob reads his and only his. */
	ck_assert_int_eq(search(&out, "BOB", GROUPS, "sub",
	    "(objectClass=skdGLKey)", "skdMessage"), 0);
	ck_assert_int_eq(count_entries(out), 1);
	ck_assert_ptr_nonnull(strstr(out, "skdMessage: bob-key"));
	free(out);
}
END_TEST

START_TEST(test_no_other_lists_keys)
{
	char *out = NULL;

	REQUIRE_STACK();
	ck_assert_int_eq(search(&out, "ALICE", GROUPS, "sub",
	    "(skdGLName=email:gl-b@example.com)", "*"), 0);
	ck_assert_int_eq(count_entries(out), 0);
	free(out);
	ck_assert_int_eq(search(&out, "ALICE", KEY_B0, "base",
	    "(objectClass=*)", "*"), 32);
	free(out);
	ck_assert_int_eq(search(&out, "CAROL", GROUPS, "sub",
	    "(objectClass=skdGLKey)", "skdMessage"), 0);
	ck_assert_int_eq(count_entries(out), 1);
	ck_assert_ptr_nonnull(strstr(out, "carol-key"));
	free(out);
	/* A member of no list sees no keys at all. */
	ck_assert_int_eq(search(&out, "DAVE", GROUPS, "sub",
	    "(objectClass=skdGLKey)", "*"), 0);
	ck_assert_int_eq(count_entries(out), 0);
	free(out);
}
END_TEST

START_TEST(test_archived_kek_gla_only)
{
	static const char *const who[] = {
		"ALICE", "BOB", "CAROL", "GLO1", "GLO2", "ANON"
	};
	char *out = NULL;
	size_t i;

	REQUIRE_STACK();
	for (i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		(void)search(&out, who[i], GROUPS, "sub", "(objectClass=*)",
		    "skdArchivedKEK");
		ck_assert_msg(strstr(out, "skdArchivedKEK") == NULL,
		    "%s reads skdArchivedKEK", who[i]);
		free(out);
		/* Nor can it test for the value with a filter. */
		(void)search(&out, who[i], GROUPS, "sub",
		    "(skdArchivedKEK=*)", "1.1");
		ck_assert_msg(count_entries(out) == 0,
		    "%s finds entries by skdArchivedKEK", who[i]);
		free(out);
	}
	/* Alice, who reads the entry, gets everything but the KEK. */
	ck_assert_int_eq(search(&out, "ALICE", KEY_A0, "base",
	    "(objectClass=*)", "*"), 0);
	ck_assert_msg(strstr(out, "skdMessage: alice-key") != NULL, "%s", out);
	ck_assert_ptr_null(strstr(out, "skdArchivedKEK"));
	free(out);
}
END_TEST

START_TEST(test_member_entries_private)
{
	char *out = NULL;

	REQUIRE_STACK();
	/* RFC 5275 3.1.1: recipientsNotMutuallyAware: alice reads her own
	 * member entry, not bob's, nor the GL entry. */
	ck_assert_int_eq(search(&out, "ALICE", GROUPS, "sub",
	    "(objectClass=skdGLMember)", "skdMemberName"), 0);
	ck_assert_int_eq(count_entries(out), 1);
	ck_assert_ptr_nonnull(strstr(out, "dirName:CN=alice"));
	ck_assert_ptr_null(strstr(out, "bob"));
	free(out);
	ck_assert_int_eq(search(&out, "ALICE", GL_A, "base",
	    "(objectClass=*)", "*"), 32);
	free(out);
}
END_TEST

START_TEST(test_glo_reads_own_lists)
{
	char *out = NULL;

	REQUIRE_STACK();
	/* glo1 owns A through its skdGLOwner entry: the GL, both members,
	 * the owner entry and the two glKey entries (their validity only:
	 * test_glo_reads_key_validity). */
	ck_assert_int_eq(search(&out, "GLO1", GL_A, "sub", "(objectClass=*)",
	    "1.1"), 0);
	ck_assert_int_eq(count_entries(out), 6);
	ck_assert_ptr_nonnull(strstr(out, "dn: " GL_A));
	ck_assert_ptr_nonnull(strstr(out, "skdMemberName=email:bob"));
	ck_assert_ptr_nonnull(strstr(out, "dn: " KEY_A0));
	ck_assert_ptr_nonnull(strstr(out, "dn: " KEY_A1));
	free(out);
	ck_assert_int_eq(search(&out, "GLO1", GL_B, "base", "(objectClass=*)",
	    "1.1"), 32);
	free(out);
	/* glo2 owns B through skdOwnerDN on the GL entry; not A. */
	ck_assert_int_eq(search(&out, "GLO2", GROUPS, "sub",
	    "(objectClass=skdGroupList)", "skdGLName"), 0);
	ck_assert_int_eq(count_entries(out), 1);
	ck_assert_ptr_nonnull(strstr(out, "email:gl-b@example.com"));
	free(out);
}
END_TEST

/*
 * A GL's owners read its keys' validity (skd glo show), never the wrapped
 * keys, their recipients or the archived KEK (docs/directory.md rule 10).
 */
START_TEST(test_glo_reads_key_validity)
{
	static const char *const hidden[] = {
		"skdMessage", "skdRecipientName", "skdRecipientDN",
		"skdArchivedKEK"
	};
	char *out = NULL, filter[64];
	size_t i;

	REQUIRE_STACK();
	/* glo1 (a skdGLOwner entry of A): both of A's keys, by the search
	 * skd_store_find_glkeys makes, with their validity. */
	ck_assert_int_eq(search(&out, "GLO1", GROUPS, "sub",
	    "(&(objectClass=skdGLKey)(skdGLName=email:gl-a@example.com))",
	    "*"), 0);
	ck_assert_int_eq(count_entries(out), 2);
	ck_assert_ptr_nonnull(strstr(out, "skdKeyId: aa01"));
	ck_assert_ptr_nonnull(strstr(out, "skdShard: 1"));
	ck_assert_ptr_nonnull(strstr(out, "skdNotBefore: 20260101000000Z"));
	ck_assert_ptr_nonnull(strstr(out, "skdNotAfter: 20260201000000Z"));
	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		ck_assert_msg(strstr(out, hidden[i]) == NULL,
		    "glo1 reads %s:\n%s", hidden[i], out);
	}
	free(out);
	/* Not even asked for by name, nor tested for by a filter. */
	ck_assert_int_eq(search(&out, "GLO1", KEY_A0, "base",
	    "(objectClass=*)", "skdMessage skdRecipientName skdRecipientDN "
	    "skdArchivedKEK"), 0);
	ck_assert_int_eq(count_entries(out), 1);
	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		ck_assert_msg(strstr(out, hidden[i]) == NULL,
		    "glo1 reads %s:\n%s", hidden[i], out);
	}
	free(out);
	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		snprintf(filter, sizeof(filter), "(%s=*)", hidden[i]);
		ck_assert_int_eq(search(&out, "GLO1", GROUPS, "sub", filter,
		    "1.1"), 0);
		ck_assert_msg(count_entries(out) == 0,
		    "glo1 finds entries by %s", hidden[i]);
		free(out);
	}
	/* Not B's key: glo1 does not own B. */
	ck_assert_int_eq(search(&out, "GLO1", KEY_B0, "base",
	    "(objectClass=*)", "*"), 32);
	free(out);
	/* glo2 (not an owner of A) reads nothing of A's keys ... */
	ck_assert_int_eq(search(&out, "GLO2", GROUPS, "sub",
	    "(skdGLName=email:gl-a@example.com)", "*"), 0);
	ck_assert_int_eq(count_entries(out), 0);
	free(out);
	ck_assert_int_eq(search(&out, "GLO2", KEY_A0, "base",
	    "(objectClass=*)", "*"), 32);
	free(out);
	/* ... but B's (skdOwnerDN on the GL entry), validity only. */
	ck_assert_int_eq(search(&out, "GLO2", GROUPS, "sub",
	    "(objectClass=skdGLKey)", "*"), 0);
	ck_assert_int_eq(count_entries(out), 1);
	ck_assert_ptr_nonnull(strstr(out, "skdKeyId: bb01"));
	ck_assert_ptr_null(strstr(out, "carol"));
	ck_assert_ptr_null(strstr(out, "skdMessage"));
	free(out);
	/* A member's access is unchanged: alice still reads her message. */
	ck_assert_int_eq(search(&out, "ALICE", KEY_A0, "base",
	    "(objectClass=*)", "skdMessage skdNotAfter"), 0);
	ck_assert_ptr_nonnull(strstr(out, "skdMessage: alice-key"));
	ck_assert_ptr_nonnull(strstr(out, "skdNotAfter: 20260201000000Z"));
	free(out);
}
END_TEST

START_TEST(test_requests)
{
	char *out = NULL;

	REQUIRE_STACK();
	/* Alice submits with her own DN as submitter. */
	ck_assert_int_eq(run_as(&out, "ALICE",
	    "dn: skdRequestId=req-alice," REQS "\nobjectClass: skdRequest\n"
	    "skdRequestId: req-alice\nskdState: pending\n"
	    "skdSubmitterDN: $SKD_ALICE_DN\nskdMessage:: AAEC\n", "ldapadd"),
	    0);
	free(out);
	/* Not as bob, nor without a submitter. */
	ck_assert_int_eq(run_as(&out, "ALICE",
	    "dn: skdRequestId=req-fake," REQS "\nobjectClass: skdRequest\n"
	    "skdRequestId: req-fake\nskdState: pending\n"
	    "skdSubmitterDN: $SKD_BOB_DN\nskdMessage:: AAEC\n", "ldapadd"),
	    50);
	free(out);
	ck_assert_int_eq(run_as(&out, "ALICE",
	    "dn: skdRequestId=req-anon," REQS "\nobjectClass: skdRequest\n"
	    "skdRequestId: req-anon\nskdState: pending\n"
	    "skdMessage:: AAEC\n", "ldapadd"), 50);
	free(out);
	/* Only requests go there: no other object under ou=requests... */
	ck_assert_int_eq(run_as(&out, "ALICE",
	    "dn: cn=x," REQS "\nobjectClass: skdAgent\ncn: x\n", "ldapadd"),
	    50);
	free(out);
	/* ... and anonymous submits nothing. */
	ck_assert_int_ne(run_as(&out, "ANON",
	    "dn: skdRequestId=req-x," REQS "\nobjectClass: skdRequest\n"
	    "skdRequestId: req-x\nskdState: pending\n"
	    "skdSubmitterDN: $SKD_ALICE_DN\nskdMessage:: AAEC\n", "ldapadd"),
	    0);
	free(out);
	/* She reads her request, not bob's. */
	ck_assert_int_eq(search(&out, "ALICE", REQS, "one", "(objectClass=*)",
	    "skdState"), 0);
	ck_assert_int_eq(count_entries(out), 1);
	ck_assert_ptr_nonnull(strstr(out, "req-alice"));
	free(out);
	ck_assert_int_eq(search(&out, "ALICE", "skdRequestId=req-bob," REQS,
	    "base", "(objectClass=*)", "*"), 32);
	free(out);
	/* She cannot alter even her own, nor bob's; she may withdraw her
	 * own (skd request cancel), never bob's. */
	ck_assert_int_eq(run_as(&out, "ALICE",
	    "dn: skdRequestId=req-alice," REQS "\nchangetype: modify\n"
	    "replace: skdState\nskdState: done\n", "ldapmodify"), 50);
	free(out);
	ck_assert_int_ne(run_as(&out, "ALICE",
	    "dn: skdRequestId=req-bob," REQS "\nchangetype: modify\n"
	    "replace: skdState\nskdState: failed\n", "ldapmodify"), 0);
	free(out);
	ck_assert_int_eq(run_as(&out, "ALICE", NULL,
	    "ldapdelete 'skdRequestId=req-bob," REQS "'"), 50);
	free(out);
	/* The GLA claims it: delete pending, add claimed (DESIGN.md). */
	ck_assert_int_eq(run_as(&out, "GLA",
	    "dn: skdRequestId=req-alice," REQS "\nchangetype: modify\n"
	    "delete: skdState\nskdState: pending\n-\n"
	    "add: skdState\nskdState: claimed\n", "ldapmodify"), 0);
	free(out);
	/* Withdrawing asserts (RFC 4528) that it is still pending: once
	 * claimed, assertionFailed (122). */
	ck_assert_int_eq(run_as(&out, "ALICE", NULL,
	    "ldapdelete -e 'assert=(skdState=pending)' "
	    "'skdRequestId=req-alice," REQS "'"), 122);
	free(out);
	/* Nor without the assertion: rule 6 grants the delete only while
	 * the entry is pending (filter=(skdState=pending)), so a request
	 * the GLA holds stays for it to finish. */
	ck_assert_int_eq(run_as(&out, "ALICE", NULL,
	    "ldapdelete 'skdRequestId=req-alice," REQS "'"), 50);
	free(out);
	/* She still reads its state. */
	ck_assert_int_eq(search(&out, "ALICE", "skdRequestId=req-alice," REQS,
	    "base", "(objectClass=*)", "skdState"), 0);
	ck_assert_ptr_nonnull(strstr(out, "skdState: claimed"));
	free(out);
}
END_TEST

/*
 * A request carries only what its submitter sent (docs/security.md, "A
 * directory user writes worker state"): with olcAddContentAcl, slapd
 * refuses an add that carries any attribute the worker owns, or a state
 * other than pending, and the submitter cannot read the worker's state
 * back (journal, claim, lease, attempts), only state and error.
 */
static const char *const worker_attrs[] = {
	"skdState: claimed", "skdState: journaled", "skdState: done",
	"skdState: failed", "skdJournal:: AAEC", "skdClaimOwner: mallory",
	"skdLeaseUntil: 20000101000000Z", "skdAttempts: 0",
	"skdError: none", "objectClass: extensibleObject",
};

START_TEST(test_request_worker_state_refused)
{
	char *out = NULL, ldif[1024];
	const char *state;
	size_t i;

	REQUIRE_STACK();
	for (i = 0; i < sizeof(worker_attrs) / sizeof(worker_attrs[0]); i++) {
		/* The state line itself when it is one, else pending. */
		state = strncmp(worker_attrs[i], "skdState:", 9) == 0 ? "" :
		    "skdState: pending\n";
		snprintf(ldif, sizeof(ldif), "dn: skdRequestId=req-w%zu," REQS
		    "\nobjectClass: skdRequest\nskdRequestId: req-w%zu\n%s"
		    "skdSubmitterDN: $SKD_MALLORY_DN\nskdMessage:: AAEC\n%s\n",
		    i, i, state, worker_attrs[i]);
		ck_assert_msg(run_as(&out, "MALLORY", ldif, "ldapadd") == 50,
		    "a submitter added a request with \"%s\": %s",
		    worker_attrs[i], out);
		free(out);
	}
	/* What a submitter may send is accepted. */
	ck_assert_int_eq(run_as(&out, "MALLORY",
	    "dn: skdRequestId=req-m," REQS "\nobjectClass: skdRequest\n"
	    "skdRequestId: req-m\nskdState: pending\n"
	    "skdSubmitterDN: $SKD_MALLORY_DN\nskdMessage:: AAEC\n", "ldapadd"),
	    0);
	free(out);
	/* Nor can she add state to it afterwards, or a second message
	 * (slapo-constraint, ldif/limits.ldif). */
	ck_assert_int_eq(run_as(&out, "MALLORY",
	    "dn: skdRequestId=req-m," REQS "\nchangetype: modify\n"
	    "add: skdJournal\nskdJournal:: AAEC\n", "ldapmodify"), 50);
	free(out);
	ck_assert_int_eq(run_as(&out, "MALLORY",
	    "dn: skdRequestId=req-m," REQS "\nchangetype: modify\n"
	    "add: skdMessage\nskdMessage:: AAED\n", "ldapmodify"), 19);
	free(out);
	/* The worker claims and journals it; she reads state and error
	 * only. */
	ck_assert_int_eq(run_as(&out, "GLA",
	    "dn: skdRequestId=req-m," REQS "\nchangetype: modify\n"
	    "delete: skdState\nskdState: pending\n-\n"
	    "add: skdState\nskdState: journaled\n-\n"
	    "add: skdJournal\nskdJournal:: c2VjcmV0\n-\n"
	    "add: skdClaimOwner\nskdClaimOwner: w1\n-\n"
	    "add: skdLeaseUntil\nskdLeaseUntil: 20990101000000Z\n-\n"
	    "add: skdAttempts\nskdAttempts: 1\n-\n"
	    "add: skdError\nskdError: why\n", "ldapmodify"), 0);
	free(out);
	ck_assert_int_eq(search(&out, "MALLORY", "skdRequestId=req-m," REQS,
	    "base", "(objectClass=*)", "*"), 0);
	ck_assert_ptr_nonnull(strstr(out, "skdState: journaled"));
	ck_assert_ptr_nonnull(strstr(out, "skdError: why"));
	ck_assert_ptr_null(strstr(out, "skdJournal"));
	ck_assert_ptr_null(strstr(out, "skdClaimOwner"));
	ck_assert_ptr_null(strstr(out, "skdLeaseUntil"));
	ck_assert_ptr_null(strstr(out, "skdAttempts"));
	free(out);
}
END_TEST

/* An skdMessage over the size limit is refused by slapd
 * (slapo-constraint, ldif/limits.ldif: 2 MiB in the stack). */
START_TEST(test_request_size_limit)
{
	char *out = NULL;
	int r;

	REQUIRE_STACK();
	r = skd_test_run(&out, NULL, "set -f; . '%s/env' && "
	    "big=$(head -c 2200000 /dev/zero | base64 -w0) && "
	    "printf 'dn: skdRequestId=req-big," REQS "\\nobjectClass: "
	    "skdRequest\\nskdRequestId: req-big\\nskdState: pending\\n"
	    "skdSubmitterDN: %%s\\nskdMessage:: %%s\\n' \"$SKD_MALLORY_DN\" "
	    "\"$big\" | ldapadd -H \"$SKD_LDAP_URI\" %s 2>&1", stack_dir,
	    bind_opts("MALLORY"));
	ck_assert_msg(r == 19, "a 2.2 MB message was not refused (%d): %.300s",
	    r, out);
	ck_assert_ptr_nonnull(strstr(out, "constraint"));
	free(out);
}
END_TEST

START_TEST(test_responses_and_messages)
{
	char *out = NULL;

	REQUIRE_STACK();
	ck_assert_int_eq(search(&out, "ALICE",
	    "skdRequestId=resp-alice,ou=responses," BASE, "base",
	    "(objectClass=*)", "skdMessage"), 0);
	ck_assert_ptr_nonnull(strstr(out, "skdMessage: response"));
	free(out);
	ck_assert_int_eq(search(&out, "BOB",
	    "skdRequestId=resp-alice,ou=responses," BASE, "base",
	    "(objectClass=*)", "*"), 32);
	free(out);
	ck_assert_int_eq(search(&out, "GLO1", "ou=messages," BASE, "one",
	    "(skdRecipientName=email:glo1@example.com)", "skdMessage"), 0);
	ck_assert_int_eq(count_entries(out), 1);
	ck_assert_ptr_nonnull(strstr(out, "skdMessage: forwarded"));
	free(out);
	ck_assert_int_eq(search(&out, "ALICE", "ou=messages," BASE, "one",
	    "(objectClass=*)", "*"), 0);
	ck_assert_int_eq(count_entries(out), 0);
	free(out);
	/* Nobody but the GLA writes responses. */
	ck_assert_int_eq(run_as(&out, "ALICE",
	    "dn: skdRequestId=resp-x,ou=responses," BASE "\n"
	    "objectClass: skdResponse\nskdRequestId: resp-x\n"
	    "skdRecipientDN: $SKD_ALICE_DN\n", "ldapadd"), 50);
	free(out);
}
END_TEST

/*
 * The mail transport's attributes (ldif/acl.ldif rule 1): reply
 * addresses and the verified signer of requests (skdMailIn), send state
 * (skdMailOut) and a GL's mail policy (skdGLMail) are the GLA's alone:
 * no submitter, member or owner reads them, finds entries by them or
 * writes them, not even on entries it may read or add.
 */
static const char *const mail_attrs[] = {
	"skdMailState", "skdMailTo", "skdMailMessageId", "skdMailAttempts",
	"skdMailNextTry", "skdMailError", "skdReplyTo", "skdReplyFrom",
	"skdMailInId", "skdMailSigner", "skdGLMailPolicy",
};

START_TEST(test_mail_attributes_gla_only)
{
	static const char *const who[] = {
		"ALICE", "BOB", "CAROL", "GLO1", "GLO2", "MALLORY", "ANON"
	};
	static const char *const bases[] = {
		"skdRequestId=resp-alice,ou=responses," BASE, KEY_A0,
		"skdRequestId=req-bob," REQS, GL_A,
		"skdMessageId=msg-glo1,ou=messages," BASE,
	};
	char *out = NULL, filter[128], ldif[1024];
	size_t i, j, k;

	REQUIRE_STACK();
	/* The GLA marks entries for mail, as the worker and mail-in do. */
	ck_assert_int_eq(run_as(&out, "GLA",
	    "dn: skdRequestId=resp-alice,ou=responses," BASE "\n"
	    "changetype: modify\nadd: objectClass\nobjectClass: skdMailOut\n-\n"
	    "add: skdMailState\nskdMailState: queued\n-\n"
	    "add: skdMailTo\nskdMailTo: alice@example.com\n-\n"
	    "add: skdMailMessageId\nskdMailMessageId: m1@example.com\n-\n"
	    "add: skdMailAttempts\nskdMailAttempts: 1\n-\n"
	    "add: skdMailNextTry\nskdMailNextTry: 20990101000000Z\n-\n"
	    "add: skdMailError\nskdMailError: relay away\n\n"
	    "dn: " KEY_A0 "\nchangetype: modify\n"
	    "add: objectClass\nobjectClass: skdMailOut\n-\n"
	    "add: skdMailState\nskdMailState: sent\n-\n"
	    "add: skdMailTo\nskdMailTo: alice@example.com\n\n"
	    "dn: skdMessageId=msg-glo1,ou=messages," BASE "\n"
	    "changetype: modify\nadd: objectClass\nobjectClass: skdMailOut\n-\n"
	    "add: skdMailState\nskdMailState: none\n\n"
	    "dn: skdRequestId=req-bob," REQS "\nchangetype: modify\n"
	    "add: objectClass\nobjectClass: skdMailIn\n-\n"
	    "add: skdReplyTo\nskdReplyTo: bob@example.com\n-\n"
	    "add: skdReplyFrom\nskdReplyFrom: bob@example.com\n-\n"
	    "add: skdMailInId\nskdMailInId: in1@example.com\n-\n"
	    "add: skdMailSigner\nskdMailSigner: bob@example.com\n\n"
	    "dn: " GL_A "\nchangetype: modify\n"
	    "add: objectClass\nobjectClass: skdGLMail\n-\n"
	    "add: skdGLMailPolicy\nskdGLMailPolicy: both\n",
	    "ldapmodify"), 0);
	free(out);
	ck_assert_int_eq(search(&out, "GLA", "skdRequestId=req-bob," REQS,
	    "base", "(objectClass=*)", "skdMailSigner skdReplyTo"), 0);
	ck_assert_ptr_nonnull(strstr(out, "skdMailSigner: bob@example.com"));
	free(out);
	for (i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		/* Not read, with "*" nor by name, on entries it may read. */
		for (j = 0; j < sizeof(bases) / sizeof(bases[0]); j++) {
			(void)search(&out, who[i], bases[j], "base",
			    "(objectClass=*)", "* skdMailState skdMailTo "
			    "skdMailMessageId skdMailAttempts skdMailNextTry "
			    "skdMailError skdReplyTo skdReplyFrom skdMailInId "
			    "skdMailSigner skdGLMailPolicy");
			for (k = 0; k < sizeof(mail_attrs) /
			    sizeof(mail_attrs[0]); k++)
				ck_assert_msg(strstr(out, mail_attrs[k]) ==
				    NULL, "%s reads %s of %s", who[i],
				    mail_attrs[k], bases[j]);
			free(out);
		}
		/* Nor found by them. */
		for (k = 0; k < sizeof(mail_attrs) / sizeof(mail_attrs[0]);
		    k++) {
			snprintf(filter, sizeof(filter), "(%s=*)",
			    mail_attrs[k]);
			(void)search(&out, who[i], BASE, "sub", filter, "1.1");
			ck_assert_msg(count_entries(out) == 0, "%s finds "
			    "entries by %s", who[i], mail_attrs[k]);
			free(out);
		}
	}
	/* Not written: bob on his own request, alice on the response and
	 * glKey she reads, glo1 on the GL it owns. */
	ck_assert_int_eq(run_as(&out, "BOB", "dn: skdRequestId=req-bob," REQS
	    "\nchangetype: modify\nreplace: skdReplyTo\n"
	    "skdReplyTo: mallory@example.com\n", "ldapmodify"), 50);
	free(out);
	ck_assert_int_eq(run_as(&out, "BOB", "dn: skdRequestId=req-bob," REQS
	    "\nchangetype: modify\nreplace: skdMailSigner\n"
	    "skdMailSigner: mallory@example.com\n", "ldapmodify"), 50);
	free(out);
	ck_assert_int_eq(run_as(&out, "ALICE",
	    "dn: skdRequestId=resp-alice,ou=responses," BASE "\n"
	    "changetype: modify\nreplace: skdMailState\nskdMailState: new\n",
	    "ldapmodify"), 50);
	free(out);
	ck_assert_int_eq(run_as(&out, "ALICE", "dn: " KEY_A0 "\n"
	    "changetype: modify\nreplace: skdMailTo\n"
	    "skdMailTo: mallory@example.com\n", "ldapmodify"), 50);
	free(out);
	ck_assert_int_eq(run_as(&out, "GLO1", "dn: " GL_A "\n"
	    "changetype: modify\nreplace: skdGLMailPolicy\n"
	    "skdGLMailPolicy: directory\n", "ldapmodify"), 50);
	free(out);
	/* A submitter cannot add a request that claims to have come by
	 * mail, or to be marked for mail (add content ACL). */
	for (k = 0; k < 4; k++) {
		static const char *const extra[] = {
			"objectClass: skdMailIn\nskdReplyTo: x@example.com\n",
			"objectClass: skdMailIn\nskdMailSigner: "
			    "x@example.com\n",
			"objectClass: skdMailIn\nskdReplyFrom: "
			    "x@example.com\n",
			"objectClass: skdMailOut\nskdMailState: new\n",
		};

		snprintf(ldif, sizeof(ldif), "dn: skdRequestId=req-mail%zu,"
		    REQS "\nobjectClass: skdRequest\nskdRequestId: "
		    "req-mail%zu\nskdState: pending\nskdSubmitterDN: "
		    "$SKD_MALLORY_DN\nskdMessage:: AAEC\n%s\n", k, k,
		    extra[k]);
		ck_assert_msg(run_as(&out, "MALLORY", ldif, "ldapadd") == 50,
		    "a submitter added a request with %s: %s", extra[k], out);
		free(out);
	}
}
END_TEST

START_TEST(test_members_cannot_write_gl)
{
	char *out = NULL;

	REQUIRE_STACK();
	ck_assert_int_eq(run_as(&out, "ALICE", "dn: " GL_A "\n"
	    "changetype: modify\nreplace: skdGLState\nskdGLState: deleted\n",
	    "ldapmodify"), 50);
	free(out);
	ck_assert_int_eq(run_as(&out, "GLO1", "dn: " GL_A "\n"
	    "changetype: modify\nreplace: skdRevision\nskdRevision: 9\n",
	    "ldapmodify"), 50);
	free(out);
	ck_assert_int_eq(run_as(&out, "ALICE", "dn: " KEY_A0 "\n"
	    "changetype: modify\nreplace: skdMessage\nskdMessage: x\n",
	    "ldapmodify"), 50);
	free(out);
	ck_assert_int_eq(run_as(&out, "ALICE",
	    "dn: skdGLName=email:evil@example.com," GROUPS "\n"
	    "objectClass: skdGroupList\nskdGLName: email:evil@example.com\n"
	    "skdGLAddress: email:evil@example.com\nskdRevision: 1\n",
	    "ldapadd"), 50);
	free(out);
	ck_assert_int_eq(run_as(&out, "BOB",
	    "dn: skdMemberName=email:bob2@example.com," GL_A "\n"
	    "objectClass: skdGLMember\nskdMemberName: email:bob2@example.com\n"
	    "skdMemberDN: $SKD_BOB_DN\n", "ldapadd"), 50);
	free(out);
	ck_assert_int_eq(run_as(&out, "ALICE", NULL,
	    "ldapdelete '" KEY_A0 "'"), 50);
	free(out);
}
END_TEST

START_TEST(test_anonymous)
{
	char *out = NULL;
	int r;

	REQUIRE_STACK();
	/* Reads nothing under ou=skd, however it asks. */
	r = search(&out, "ANON", BASE, "sub", "(objectClass=*)", "*");
	ck_assert_msg(r == 32 || (r == 0 && count_entries(out) == 0),
	    "anonymous read under ou=skd: %d %s", r, out);
	free(out);
	r = search(&out, "ANON", "cn=gla," BASE, "base", "(objectClass=*)",
	    "*");
	ck_assert_int_eq(r, 32);
	free(out);
	ck_assert_int_eq(search(&out, "ANON", "ou=people," SUFFIX, "sub",
	    "(objectClass=*)", "*"), 32);
	free(out);
	/* ... but may bind: simple binds of members and the GLA work, a
	 * wrong password does not. */
	ck_assert_int_eq(run_as(&out, "ALICE", NULL, "ldapwhoami"), 0);
	ck_assert_ptr_nonnull(strstr(out, "uid=alice,ou=people"));
	free(out);
	ck_assert_int_eq(run_as(&out, "GLA", NULL, "ldapwhoami"), 0);
	free(out);
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    ". '%s/env' && ldapwhoami -x -H \"$SKD_LDAP_URI\" "
	    "-D \"$SKD_ALICE_DN\" -w wrong 2>&1", stack_dir), 49);
	free(out);
	/* Authenticated users read the GLA's public entry, not its
	 * password. */
	ck_assert_int_eq(search(&out, "BOB", "cn=gla," BASE, "base",
	    "(objectClass=*)", "cn skdCertificate userPassword"), 0);
	ck_assert_ptr_nonnull(strstr(out, "skdCertificate:: "));
	ck_assert_ptr_null(strstr(out, "userPassword"));
	free(out);
}
END_TEST

START_TEST(test_member_sees_exactly_hers)
{
	char *out = NULL;

	REQUIRE_STACK();
	/* Everything alice can find under ou=skd (requests aside, which
	 * test_requests adds to): the GLA's public entry, her glKey entry,
	 * her member entry and her response.  Nothing of the replay cache,
	 * the other members, the lists or their owners. */
	ck_assert_int_eq(search(&out, "ALICE", BASE, "sub",
	    "(!(objectClass=skdRequest))", "1.1"), 0);
	ck_assert_msg(count_entries(out) == 4, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "dn: cn=gla," BASE));
	ck_assert_ptr_nonnull(strstr(out, "dn: " KEY_A0));
	ck_assert_ptr_nonnull(strstr(out, "dn: skdMemberName=dirName:"));
	ck_assert_ptr_nonnull(strstr(out, "dn: skdRequestId=resp-alice,"));
	free(out);
	ck_assert_int_eq(search(&out, "ALICE", "ou=replay," BASE, "sub",
	    "(objectClass=*)", "*"), 32);
	free(out);
	ck_assert_int_eq(search(&out, "ALICE", GROUPS, "sub",
	    "(objectClass=skdReplay)", "*"), 0);
	ck_assert_int_eq(count_entries(out), 0);
	free(out);
	/* The GLA reads the replay cache. */
	ck_assert_int_eq(search(&out, "GLA", "ou=replay," BASE, "one",
	    "(skdExpires>=20260101000000Z)", "skdReplayKey"), 0);
	ck_assert_ptr_nonnull(strstr(out, "skdReplayKey: 0badc0de"));
	free(out);
}
END_TEST

#define GL_S	"skdGLName=URI:https://gl.example.com/staff," GROUPS

START_TEST(test_admin_examples)
{
	char *out = NULL;

	REQUIRE_STACK();
	/* ldif/examples/add-person.ldif: the new person binds with the
	 * example's password and, being in no list, sees no keys. */
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    ". '%s/env' && ldapadd -Q -Y EXTERNAL -H \"$SKD_LDAPI_URI\" "
	    "-f '%s/ldif/examples/add-person.ldif' 2>&1", stack_dir,
	    skd_test_top()), 0);
	free(out);
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    "set -f; . '%s/env' && ldapsearch -LLL -x -H \"$SKD_LDAP_URI\" "
	    "-D uid=frank,ou=people," SUFFIX " -w change-me -b " GROUPS
	    " '(objectClass=*)' 1.1 2>&1", stack_dir), 0);
	ck_assert_int_eq(count_entries(out), 0);
	free(out);
	/* A GL named by a URI (slashes in the DN the ACL sets expand):
	 * glo1 owns it by an skdGLOwner entry and reads carol's member
	 * entry; glo2 does not, until ldif/examples/grant-owner.ldif. */
	ck_assert_int_eq(run_as(&out, "GLA", "dn: " GL_S "\n"
	    "objectClass: skdGroupList\n"
	    "skdGLName: URI:https://gl.example.com/staff\n"
	    "skdGLAddress: email:staff@example.com\nskdRevision: 1\n\n"
	    "dn: skdOwnerName=email:glo1@example.com," GL_S "\n"
	    "objectClass: skdGLOwner\nskdOwnerName: email:glo1@example.com\n"
	    "skdOwnerDN: $SKD_GLO1_DN\n\n"
	    "dn: skdMemberName=email:carol@example.com," GL_S "\n"
	    "objectClass: skdGLMember\nskdMemberName: email:carol@example.com\n"
	    "skdMemberDN: $SKD_CAROL_DN\n", "ldapadd"), 0);
	free(out);
	ck_assert_int_eq(search(&out, "GLO1", GROUPS, "sub",
	    "(skdMemberName=email:carol@example.com)", "1.1"), 0);
	ck_assert_int_eq(count_entries(out), 1);
	free(out);
	ck_assert_int_eq(search(&out, "GLO2", GROUPS, "sub",
	    "(skdMemberName=email:carol@example.com)", "1.1"), 0);
	ck_assert_int_eq(count_entries(out), 0);
	free(out);
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    ". '%s/env' && ldapmodify -Q -Y EXTERNAL -H \"$SKD_LDAPI_URI\" "
	    "-f '%s/ldif/examples/grant-owner.ldif' 2>&1", stack_dir,
	    skd_test_top()), 0);
	free(out);
	ck_assert_int_eq(search(&out, "GLO2", GL_S, "sub", "(objectClass=*)",
	    "1.1"), 0);
	ck_assert_int_eq(count_entries(out), 3);
	free(out);
}
END_TEST

START_TEST(test_ldapi_external_is_admin)
{
	char *out = NULL;

	REQUIRE_STACK();
	/* olcAuthzRegexp maps the local user (peercred) to the rootdn. */
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    ". '%s/env' && ldapwhoami -Q -Y EXTERNAL -H \"$SKD_LDAPI_URI\" "
	    "2>&1", stack_dir), 0);
	ck_assert_ptr_nonnull(strstr(out, "cn=admin," SUFFIX));
	free(out);
}
END_TEST

Suite *
skd_suite_acl(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("acl");

	tcase_add_unchecked_fixture(tc, stack_setup, stack_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_gla_wrote_everything);
	tcase_add_test(tc, test_member_reads_own_glkey_only);
	tcase_add_test(tc, test_no_other_lists_keys);
	tcase_add_test(tc, test_archived_kek_gla_only);
	tcase_add_test(tc, test_member_entries_private);
	tcase_add_test(tc, test_glo_reads_own_lists);
	tcase_add_test(tc, test_glo_reads_key_validity);
	tcase_add_test(tc, test_requests);
	tcase_add_test(tc, test_request_worker_state_refused);
	tcase_add_test(tc, test_request_size_limit);
	tcase_add_test(tc, test_responses_and_messages);
	tcase_add_test(tc, test_members_cannot_write_gl);
	tcase_add_test(tc, test_mail_attributes_gla_only);
	tcase_add_test(tc, test_anonymous);
	tcase_add_test(tc, test_member_sees_exactly_hers);
	tcase_add_test(tc, test_admin_examples);
	tcase_add_test(tc, test_ldapi_external_is_admin);
	suite_add_tcase(s, tc);
	return s;
}
