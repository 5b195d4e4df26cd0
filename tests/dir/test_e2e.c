/*
 * test_e2e.c: GLO and member scenarios end to end through the real worker
 * ($SKD_BIN gla run, a child of each test) and the real directory
 * (tests/support/stack.h), driving the skd command line as people would:
 *
 *   - a managed list's self-join forwarded to its GLO (RFC 5275 3.2.3),
 *     readable by that GLO alone, approved by resubmission (3.2.5): the
 *     member then fetches its keys;
 *   - a self-join denied by the GLO: the member checks the GLO's signed
 *     failure and reads the reason (3.2.4.1);
 *   - compromise: a member's glkCompromise is forwarded to the GLO, the
 *     GLO's own one rekeys the list and members fetch the new key (4.7);
 *   - refresh: a member who lost its key store gets its keys back (4.8);
 *   - the LDIF path: a request printed with --ldif, added with ldapadd,
 *     processed by the worker, its response entry read with ldapsearch and
 *     checked with skd response;
 *   - watch mode: skd member fetch --watch picks up keys as they appear;
 *   - a GLO's view: skd glo list and show (members, acknowledgements, key
 *     validity), provide-cert (4.10.1), add-member's progress on a TTY.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "client/skd_client.h"
#include "skd_test.h"
#include "support/stack.h"

struct e2e {
	char	*tmp;
	pid_t	 worker;
	char	 gl[160];
};

/* The stack's value of k; the test fails without it. */
static const char *
env(const char *k)
{
	return skd_test_stack_need(k);
}

static void
setup_stack(void)
{
	(void)skd_test_stack_get();
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Starts a worker for the stack (t->tmp made first), its configuration
 * with extra lines (may be NULL); it dies with the test process. */
static void
worker_start(struct e2e *t, const char *extra)
{
	char pw[4096], conf[4096], log[4096], *text;
	const char *pki = env("SKD_PKI_DIR");
	pid_t parent = getpid();
	FILE *f;

	snprintf(pw, sizeof(pw), "%s/gla.pw", t->tmp);
	ck_assert(skd_test_write_file(pw, env("SKD_GLA_PW"),
	    strlen(env("SKD_GLA_PW"))));
	ck_assert_int_gt(asprintf(&text,
	    "ldap_uri = %s\nbind = simple\nbind_dn = %s\n"
	    "bind_password_file = %s\nbase_dn = %s\n"
	    "gla_cert = %s/gla.crt\ngla_key = %s/gla.key\n"
	    "issuer_cert = %s/ca.crt\nissuer_key = %s/ca.key\n"
	    "ca_file = %s/ca.crt\ncrl_file = %s/crl.pem\n"
	    "poll_interval_ms = 100\nlog_level = notice\n%s",
	    env("SKD_LDAP_URI"), env("SKD_GLA_DN"), pw, env("SKD_BASE_DN"),
	    pki, pki, pki, pki, pki, pki, extra != NULL ? extra : ""), 0);
	snprintf(conf, sizeof(conf), "%s/gla.conf", t->tmp);
	ck_assert(skd_test_write_file(conf, text, strlen(text)));
	free(text);
	snprintf(log, sizeof(log), "%s/gla.log", t->tmp);
	t->worker = fork();
	ck_assert_int_ge(t->worker, 0);
	if (t->worker == 0) {
		/* A failed assertion ends the test process: the worker
		 * follows it rather than living on. */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		if ((f = freopen(log, "a", stderr)) == NULL)
			_exit(126);
		execl(skd_test_bin(), "skd", "gla", "run", "--config", conf,
		    (char *)NULL);
		_exit(127);
	}
}

static void
worker_stop(struct e2e *t)
{
	int st = 0;

	if (t->worker > 0) {
		kill(t->worker, SIGTERM);
		while (waitpid(t->worker, &st, 0) < 0 && errno == EINTR)
			;
	}
	t->worker = 0;
}

/* Starts a worker for the stack and names t's GL. */
static void
e2e_start(struct e2e *t, const char *gl_tag)
{
	ck_assert_ptr_nonnull(skd_test_stack_get());
	t->tmp = skd_test_tmpdir();
	ck_assert_ptr_nonnull(t->tmp);
	snprintf(t->gl, sizeof(t->gl), "URI:https://e2e.example.com/%s-%ld",
	    gl_tag, (long)getpid());
	worker_start(t, NULL);
}

static int
count_pending(void *arg, const char *id, const char *state)
{
	(void)id;
	(void)state;
	(*(int *)arg)++;
	return 0;
}

/* Lets the worker finish what the test left (e.g. acknowledgements), so
 * that the suites after this one find no stray pending request. */
static void
e2e_stop(struct e2e *t)
{
	struct skd_store *s;
	int i, n = 1;

	s = skd_store_open(NULL, env("SKD_LDAP_URI"), env("SKD_BASE_DN"),
	    SKD_STORE_BIND_SIMPLE, env("SKD_GLA_DN"), env("SKD_GLA_PW"));
	for (i = 0; s != NULL && n > 0 && i < 100; i++) {
		n = 0;
		if (!skd_store_list_pending(s, count_pending, &n, time(NULL),
		    0))
			break;
		if (n > 0)
			nap_ms(100);
	}
	skd_store_close(s);
	worker_stop(t);
	skd_test_rmdir(t->tmp);
}

/* Runs "skd ARGS <identity options for who> REDIR"; returns the exit
 * status and *out the output. */
static int
skd_as_redir(char **out, const char *who, const char *args,
    const char *redir)
{
	const char *pki = env("SKD_PKI_DIR");
	char up[32];
	size_t i;

	for (i = 0; who[i] != '\0' && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)who[i]);
	up[i] = '\0';
	return skd_test_run(out, NULL, "'%s' %s --env '%s/env' --as %s "
	    "--cert '%s/%s.crt' --key '%s/%s.key' --CAfile '%s/ca.crt' %s",
	    skd_test_bin(), args, skd_test_stack_dir(), up, pki, who, pki,
	    who, pki, redir);
}

/* skd_as_redir with stderr merged into stdout. */
static int
skd_as(char **out, const char *who, const char *args)
{
	return skd_as_redir(out, who, args, "2>&1");
}

static void
assert_has(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) != NULL, "no '%s' in:\n%s", needle,
	    hay);
}

static int
count_of(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* glo1 creates t->gl with the given administration. */
static void
create_gl(struct e2e *t, const char *admin)
{
	char *out = NULL, args[1024];
	int rc;

	snprintf(args, sizeof(args), "glo create --gl %s --owner "
	    "email:glo1@example.com --admin %s --timeout 20", t->gl, admin);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 0, "create exited %d:\n%s", rc, out);
	assert_has(out, "status: success");
	free(out);
}

static void
add_member(struct e2e *t, const char *m)
{
	char *out = NULL, args[2048];
	int rc;

	snprintf(args, sizeof(args), "glo add-member --gl %s --member "
	    "email:%s@example.com --member-cert '%s/%s.crt' --timeout 20",
	    t->gl, m, env("SKD_PKI_DIR"), m);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 0, "add-member %s exited %d:\n%s", m, rc, out);
	free(out);
}

/* who fetches into its key store; returns the number of keys stored. */
static int
fetch(struct e2e *t, const char *who, int want_rc)
{
	char *out = NULL, args[2048];
	int rc, n;

	snprintf(args, sizeof(args), "member fetch --gl %s --keystore "
	    "'%s/%s.keys' --timeout 20", t->gl, t->tmp, who);
	rc = skd_as(&out, who, args);
	ck_assert_msg(rc == want_rc, "%s fetch exited %d:\n%s", who, rc, out);
	n = count_of(out, "stored key ");
	free(out);
	return n;
}

/*
 * who's fetch after a rekey, again every 200 ms (at most 20 s) until it
 * stores a key: the worker answers a rekeying request once it has decided
 * and journaled it, and streams the new key to the members after the
 * answer (docs/architecture.md, "Rekeys stream"), so the key may not be
 * there yet when the answer is.  Returns the keys stored.
 */
static int
fetch_rekeyed(struct e2e *t, const char *who)
{
	int i, n = 0;

	for (i = 0; i < 100 && (n = fetch(t, who, 0)) == 0; i++)
		nap_ms(200);
	return n;
}

/*
 * Waits until glo1's "glo pending" lists a request with needle; returns
 * the message id (static buffer).  Fails after 20 s.
 */
static const char *
wait_pending(struct e2e *t, const char *needle)
{
	static char id[SKD_STORE_ID_LEN];
	char *out = NULL, args[1024];
	const char *p, *q;
	int i, rc;

	snprintf(args, sizeof(args), "glo pending --gl %s", t->gl);
	for (i = 0; i < 200; i++) {
		rc = skd_as(&out, "glo1", args);
		ck_assert_msg(rc == 0, "pending exited %d:\n%s", rc, out);
		if ((q = strstr(out, needle)) != NULL) {
			/* "message <id>: ..." on the same line */
			for (p = q; p > out && p[-1] != '\n'; p--)
				;
			ck_assert_int_eq(strncmp(p, "message ", 8), 0);
			memcpy(id, p + 8, SKD_STORE_ID_LEN - 1);
			id[SKD_STORE_ID_LEN - 1] = '\0';
			free(out);
			return id;
		}
		free(out);
		out = NULL;
		nap_ms(100);
	}
	ck_abort_msg("no pending request with '%s' for glo1", needle);
	return NULL;
}

static struct skd_store *
open_as(const char *who)
{
	char k1[64], k2[64], up[32];
	struct skd_store *s;
	size_t i;

	for (i = 0; who[i] != '\0' && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)who[i]);
	up[i] = '\0';
	snprintf(k1, sizeof(k1), "SKD_%s_DN", up);
	snprintf(k2, sizeof(k2), "SKD_%s_PW", up);
	s = skd_store_open(NULL, env("SKD_LDAP_URI"), env("SKD_BASE_DN"),
	    SKD_STORE_BIND_SIMPLE, env(k1), env(k2));
	ck_assert_ptr_nonnull(s);
	return s;
}

/* Whether who, bound as itself, reads message mid addressed to glo1. */
static int
reads_message(const char *who, const char *mid)
{
	struct skd_store *s = open_as(who);
	struct skd_store_message *list = NULL;
	size_t n = 0, i;
	int found = 0;

	ck_assert_int_eq(skd_store_find_messages(s, &list, &n,
	    "email:glo1@example.com"), 1);
	for (i = 0; i < n; i++)
		found |= strcmp(list[i].id, mid) == 0;
	skd_store_message_list_free(list, n);
	skd_store_close(s);
	return found;
}

START_TEST(test_managed_join_approved_and_denied)
{
	struct e2e t;
	struct skd_store *s;
	struct skd_client_error e = { 0 };
	unsigned char *der;
	size_t len;
	char *out = NULL, args[8192], path[4096], rid[SKD_STORE_ID_LEN];
	const char *mid;
	int rc;

	e2e_start(&t, "managed");
	create_gl(&t, "managed");
	/* RFC 5275 4.3.1 2.d.2.b.2.c: alice's self-join is forwarded to the
	 * GLO; no "pending" answer comes back to her (3.2.4.1). */
	snprintf(args, sizeof(args), "member join --gl %s --timeout 1", t.gl);
	rc = skd_as(&out, "alice", args);
	ck_assert_msg(rc == 5, "join exited %d:\n%s", rc, out);
	free(out);
	mid = wait_pending(&t, "glAddMember email:alice@example.com");
	snprintf(rid, sizeof(rid), "%s", mid);
	/* The forwarded message is readable by its addressee alone. */
	ck_assert(reads_message("glo1", rid));
	ck_assert(!reads_message("glo2", rid));
	ck_assert(!reads_message("alice", rid));
	/* pending shows what is asked and who signed it. */
	snprintf(args, sizeof(args), "glo pending --gl %s", t.gl);
	ck_assert_int_eq(skd_as(&out, "glo1", args), 0);
	assert_has(out, "CN=alice");
	assert_has(out, t.gl + 4);
	free(out);
	snprintf(args, sizeof(args), "glo pending --gl %s --json", t.gl);
	ck_assert_int_eq(skd_as(&out, "glo1", args), 0);
	assert_has(out, "\"controls\":[\"glAddMember email:alice@example.com\"]");
	ck_assert_int_eq(out[0], '[');
	free(out);
	/* Nothing is forwarded to glo2, who owns no part of this list. */
	ck_assert_int_eq(skd_as(&out, "glo2", args), 0);
	ck_assert_msg(strstr(out, "alice") == NULL, "%s", out);
	free(out);
	/* Before approval alice has no key. */
	ck_assert_int_eq(fetch(&t, "alice", 1), 0);
	/* 3.2.5: glo1 approves by resubmitting. */
	snprintf(args, sizeof(args), "glo approve --message %s --timeout 20",
	    rid);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 0, "approve exited %d:\n%s", rc, out);
	assert_has(out, "status: success");
	free(out);
	ck_assert_int_ge(fetch(&t, "alice", 0), 1);

	/* erin's self-join is denied: the request is built to a file and
	 * submitted as erin so that she can check the answer against it. */
	snprintf(path, sizeof(path), "%s/erin-join.der", t.tmp);
	snprintf(args, sizeof(args), "member join --gl %s --out '%s'", t.gl,
	    path);
	ck_assert_int_eq(skd_as(&out, "erin", args), 0);
	free(out);
	der = skd_test_read_file(path, &len);
	ck_assert_ptr_nonnull(der);
	s = open_as("erin");
	ck_assert_int_eq(skd_client_submit(s, rid, der, len,
	    env("SKD_ERIN_DN"), &e), 1);
	skd_store_close(s);
	free(der);
	mid = wait_pending(&t, "glAddMember email:erin@example.com");
	/* Nothing is addressed to erin yet. */
	snprintf(args, sizeof(args), "member messages --gl %s", t.gl);
	ck_assert_int_eq(skd_as(&out, "erin", args), 0);
	assert_has(out, "no messages");
	free(out);
	/* 3.2.4.1: glo1 denies through the GLA, which checks the forward
	 * is its own and the denial glo1's, then passes it on to erin. */
	snprintf(args, sizeof(args), "glo deny --message %s --reason "
	    "'not on the team' --timeout 20", mid);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 0, "deny exited %d:\n%s", rc, out);
	assert_has(out, "status: success");
	assert_has(out, "denial sent to the member");
	free(out);
	/* erin finds it among her GLA messages and checks it against her
	 * request: failed, with the reason, signed by glo1. */
	snprintf(args, sizeof(args), "member messages --gl %s --request '%s'",
	    t.gl, path);
	rc = skd_as(&out, "erin", args);
	ck_assert_msg(rc == 1, "messages exited %d:\n%s", rc, out);
	assert_has(out, "status: failed");
	assert_has(out, "not on the team");
	assert_has(out, "CN=glo1");
	free(out);
	/* It answers erin's request, not alice's (nonce), and is not
	 * addressed to alice at all. */
	rc = skd_test_run(&out, NULL, "'%s' member join --gl %s --out "
	    "'%s/a0.der' --cert '%s/alice.crt' --key '%s/alice.key' 2>&1",
	    skd_test_bin(), t.gl, t.tmp, env("SKD_PKI_DIR"),
	    env("SKD_PKI_DIR"));
	ck_assert_msg(rc == 0, "join --out exited %d:\n%s", rc, out);
	free(out);
	snprintf(args, sizeof(args), "member messages --gl %s --request "
	    "'%s/a0.der'", t.gl, t.tmp);
	rc = skd_as(&out, "erin", args);
	ck_assert_msg(rc == 4, "messages exited %d:\n%s", rc, out);
	assert_has(out, "recipientNonce");
	free(out);
	snprintf(args, sizeof(args), "member messages --gl %s", t.gl);
	ck_assert_int_eq(skd_as(&out, "alice", args), 0);
	assert_has(out, "no messages");
	free(out);
	/* The denial can still be written to a file to deliver by hand. */
	snprintf(args, sizeof(args), "glo deny --message %s --reason "
	    "'not on the team' --out '%s/denial.der'", mid, t.tmp);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 0, "deny exited %d:\n%s", rc, out);
	free(out);
	/* erin checks the denial against her request: a failure (exit 1)
	 * with the reason, signed by glo1, his nonce echoed. */
	rc = skd_test_run(&out, NULL, "'%s' response --from-glo --CAfile "
	    "'%s/ca.crt' --request '%s' '%s/denial.der' 2>&1",
	    skd_test_bin(), env("SKD_PKI_DIR"), path, t.tmp);
	ck_assert_msg(rc == 1, "response exited %d:\n%s", rc, out);
	assert_has(out, "status: failed");
	assert_has(out, "not on the team");
	assert_has(out, "CN=glo1");
	free(out);
	/* The denial answers erin's request, not alice's: her join request
	 * does not match its nonce. */
	rc = skd_test_run(&out, NULL, "'%s' member join --gl %s --out "
	    "'%s/a.der' --cert '%s/alice.crt' --key '%s/alice.key' && '%s' "
	    "response --from-glo --CAfile '%s/ca.crt' --request '%s/a.der' "
	    "'%s/denial.der' 2>&1", skd_test_bin(), t.gl, t.tmp,
	    env("SKD_PKI_DIR"), env("SKD_PKI_DIR"), skd_test_bin(),
	    env("SKD_PKI_DIR"), t.tmp, t.tmp);
	ck_assert_msg(rc == 4, "response exited %d:\n%s", rc, out);
	assert_has(out, "recipientNonce");
	free(out);
	/* erin never got a key. */
	ck_assert_int_eq(fetch(&t, "erin", 1), 0);
	e2e_stop(&t);
}
END_TEST

START_TEST(test_compromise)
{
	struct e2e t;
	char *out = NULL, args[1024];
	int rc;

	e2e_start(&t, "compromise");
	create_gl(&t, "closed");
	add_member(&t, "alice");
	add_member(&t, "erin");
	ck_assert_int_ge(fetch(&t, "alice", 0), 1);
	ck_assert_int_ge(fetch(&t, "erin", 0), 1);
	/* 4.7.1: a member's glkCompromise goes to the GLO. */
	snprintf(args, sizeof(args), "member compromise --gl %s --timeout 1",
	    t.gl);
	rc = skd_as(&out, "alice", args);
	ck_assert_msg(rc == 5, "compromise exited %d:\n%s", rc, out);
	free(out);
	(void)wait_pending(&t, "glkCompromise");
	/* 4.7.2: the GLO's own glkCompromise rekeys the list. */
	snprintf(args, sizeof(args), "glo compromise --gl %s --timeout 20",
	    t.gl);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 0, "glo compromise exited %d:\n%s", rc, out);
	assert_has(out, "status: success");
	free(out);
	ck_assert_int_ge(fetch_rekeyed(&t, "alice"), 1);
	ck_assert_int_ge(fetch_rekeyed(&t, "erin"), 1);
	e2e_stop(&t);
}
END_TEST

START_TEST(test_refresh)
{
	struct e2e t;
	char *out = NULL, args[1024], ks[4096];
	int rc, first;

	e2e_start(&t, "refresh");
	create_gl(&t, "closed");
	add_member(&t, "carol");
	first = fetch(&t, "carol", 0);
	ck_assert_int_ge(first, 1);
	/* carol loses her key store ... */
	snprintf(ks, sizeof(ks), "%s/carol.keys", t.tmp);
	ck_assert_int_eq(unlink(ks), 0);
	/* ... asks for her keys again (4.8) and fetches them. */
	snprintf(args, sizeof(args), "member refresh --gl %s --timeout 20",
	    t.gl);
	rc = skd_as(&out, "carol", args);
	ck_assert_msg(rc == 0, "refresh exited %d:\n%s", rc, out);
	assert_has(out, "status: success");
	free(out);
	ck_assert_int_ge(fetch(&t, "carol", 0), first);
	e2e_stop(&t);
}
END_TEST

/*
 * A GL name the GLA does not know: the client shows the GLA's answer
 * (invalidGLName) and why it is not the GL's answer (signed with the
 * GLA's general certificate), exit 4.  And libskd (tests/libskd/
 * skd-crypt.c, linked with build/libskd.so) fetches alice's key from the
 * directory; what it encrypts, skd member decrypt opens.
 */
START_TEST(test_typo_gl_and_libskd)
{
	struct e2e t;
	const char *pki = env("SKD_PKI_DIR");
	const char *build = getenv("SKD_BUILD") != NULL ?
	    getenv("SKD_BUILD") : "build";
	char *out = NULL, args[2048], pw[4096];
	int rc;

	e2e_start(&t, "typo");
	create_gl(&t, "closed");
	snprintf(args, sizeof(args), "glo add-member --gl %s-typo --member "
	    "email:alice@example.com --member-cert '%s/alice.crt' "
	    "--timeout 20", t.gl, pki);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 4, "exited %d:\n%s", rc, out);
	assert_has(out, "SKDFailInfo=invalidGLName");
	assert_has(out, "not believed as the GL's answer");
	free(out);

	add_member(&t, "alice");
	snprintf(pw, sizeof(pw), "%s/alice.pw", t.tmp);
	ck_assert(skd_test_write_file(pw, env("SKD_ALICE_PW"),
	    strlen(env("SKD_ALICE_PW"))));
	rc = skd_test_run(&out, NULL, "cc %s -Isrc -o '%s/skd-crypt' "
	    "tests/libskd/skd-crypt.c -L'%s' -lskd 2>&1 && "
	    "SKD_CRYPT_PASSPHRASE=pw LD_LIBRARY_PATH='%s' '%s/skd-crypt' "
	    "fetch '%s/lib.keys' %s "
	    "'%s' '%s' '%s' '%s' '%s/alice.crt' '%s/alice.key' '%s/ca.crt' "
	    "2>&1", getenv("SKD_SANFLAGS") != NULL ? getenv("SKD_SANFLAGS") :
	    "", t.tmp, build, build, t.tmp, t.tmp, t.gl, env("SKD_LDAP_URI"),
	    env("SKD_BASE_DN"), env("SKD_ALICE_DN"), pw, pki, pki, pki);
	ck_assert_msg(rc == 0, "libskd fetch exited %d:\n%s", rc, out);
	assert_has(out, " new key(s) for email:alice@example.com");
	ck_assert_ptr_null(strstr(out, ": 0 new key(s)"));
	free(out);
	ck_assert_int_ge(fetch(&t, "alice", 0), 1);
	rc = skd_test_run(&out, NULL, "echo secret > '%s/plain' && "
	    "SKD_CRYPT_PASSPHRASE=pw LD_LIBRARY_PATH='%s' '%s/skd-crypt' "
	    "encrypt '%s/lib.keys' %s "
	    "'%s/plain' '%s/ct' && '%s' member decrypt --keystore "
	    "'%s/alice.keys' --cert '%s/alice.crt' --key '%s/alice.key' "
	    "--in '%s/ct' 2>&1", t.tmp, build, t.tmp, t.tmp, t.gl, t.tmp,
	    t.tmp, skd_test_bin(), t.tmp, pki, pki, t.tmp);
	ck_assert_msg(rc == 0, "exited %d:\n%s", rc, out);
	assert_has(out, "secret");
	free(out);
	e2e_stop(&t);
}
END_TEST

START_TEST(test_ldif_path)
{
	struct e2e t;
	char *out = NULL, *ldif = NULL, id[SKD_STORE_ID_LEN], path[4096];
	const char *pki, *p;
	int rc, i;

	e2e_start(&t, "ldif");
	pki = env("SKD_PKI_DIR");
	snprintf(path, sizeof(path), "%s/create.ldif", t.tmp);
	ck_assert_int_eq(skd_test_run(&ldif, NULL, "'%s' glo create --gl %s "
	    "--owner email:glo1@example.com --env '%s/env' --as GLO1 "
	    "--cert '%s/glo1.crt' --key '%s/glo1.key' --ldif | tee '%s'",
	    skd_test_bin(), t.gl, skd_test_stack_dir(), pki, pki, path), 0);
	ck_assert_int_eq(strncmp(ldif, "dn: skdRequestId=", 17), 0);
	memcpy(id, ldif + 17, SKD_STORE_ID_LEN - 1);
	id[SKD_STORE_ID_LEN - 1] = '\0';
	free(ldif);
	rc = skd_test_run(&out, NULL, "PATH=$PATH:/usr/sbin ldapadd -x -H "
	    "'%s' -D '%s' -w '%s' -f '%s' 2>&1", env("SKD_LDAP_URI"),
	    env("SKD_GLO1_DN"), env("SKD_GLO1_PW"), path);
	ck_assert_msg(rc == 0, "ldapadd exited %d:\n%s", rc, out);
	free(out);
	/* The worker answers; glo1 reads the response entry with
	 * ldapsearch and checks it with skd response. */
	snprintf(path, sizeof(path), "%s/response.ldif", t.tmp);
	for (i = 0; i < 200; i++) {
		rc = skd_test_run(NULL, NULL, "ldapsearch -x -LLL -H '%s' "
		    "-D '%s' -w '%s' -b 'skdRequestId=%s,ou=responses,%s' "
		    "-s base > '%s' 2>/dev/null && grep -q skdMessage '%s'",
		    env("SKD_LDAP_URI"), env("SKD_GLO1_DN"),
		    env("SKD_GLO1_PW"), id, env("SKD_BASE_DN"), path, path);
		if (rc == 0)
			break;
		nap_ms(100);
	}
	ck_assert_msg(rc == 0, "no response entry for %s", id);
	rc = skd_test_run(&out, NULL, "'%s' response --CAfile '%s/ca.crt' "
	    "--gl %s '%s' 2>&1", skd_test_bin(), pki, t.gl, path);
	ck_assert_msg(rc == 0, "response exited %d:\n%s", rc, out);
	p = strstr(out, "status: success");
	ck_assert_msg(p != NULL, "%s", out);
	free(out);
	e2e_stop(&t);
}
END_TEST

START_TEST(test_fetch_watch)
{
	struct e2e t;
	char *out = NULL, args[2048], res[4096];
	const char *pki;
	int rc;

	e2e_start(&t, "watch");
	pki = env("SKD_PKI_DIR");
	create_gl(&t, "closed");
	snprintf(res, sizeof(res), "%s/watch.out", t.tmp);
	/* dave watches before he is a member; two keys come when he is
	 * added (generationCounter 2), and the watch ends with --count. */
	rc = skd_test_run(NULL, NULL, "( timeout 40 '%s' member fetch "
	    "--watch --count 2 --gl %s --keystore '%s/dave.keys' --env "
	    "'%s/env' --as DAVE --cert '%s/dave.crt' --key '%s/dave.key' "
	    "--CAfile '%s/ca.crt' > '%s' 2>&1; echo \"exit $?\" >> '%s' ) "
	    "</dev/null >/dev/null 2>&1 &", skd_test_bin(), t.gl, t.tmp,
	    skd_test_stack_dir(), pki, pki, pki, res, res);
	ck_assert_int_eq(rc, 0);
	nap_ms(700);
	add_member(&t, "dave");
	rc = skd_test_run(&out, NULL, "for i in $(seq 200); do grep -q "
	    "'^exit' '%s' && break; sleep 0.1; done; cat '%s'", res, res);
	ck_assert_int_eq(rc, 0);
	assert_has(out, "watching");
	assert_has(out, "2 new key(s)");
	assert_has(out, "exit 0");
	ck_assert_int_eq(count_of(out, "stored key "), 2);
	free(out);
	/* SIGTERM ends a watch cleanly (exit 0), once it is watching. */
	snprintf(res, sizeof(res), "%s/term.out", t.tmp);
	snprintf(args, sizeof(args), "'%s' member fetch --watch --gl %s "
	    "--keystore '%s/dave.keys' --env '%s/env' --as DAVE --cert "
	    "'%s/dave.crt' --key '%s/dave.key' --CAfile '%s/ca.crt'",
	    skd_test_bin(), t.gl, t.tmp, skd_test_stack_dir(), pki, pki, pki);
	rc = skd_test_run(&out, NULL, "%s > '%s' 2>&1 & pid=$!; for i in "
	    "$(seq 300); do grep -q watching '%s' && break; sleep 0.1; done; "
	    "sleep 0.3; kill -TERM $pid; wait $pid; echo \"exit $?\" >> '%s'; "
	    "cat '%s'", args, res, res, res, res);
	ck_assert_int_eq(rc, 0);
	assert_has(out, "exit 0");
	assert_has(out, "0 new key(s)");
	free(out);
	e2e_stop(&t);
}
END_TEST

/*
 * The member's key store shared by two processes (skd-member(1), KEY
 * STORE): two fetches at once, for two GLs, into one store keep every
 * key (the lock is held across re-read, merge and write); a fetch killed
 * with SIGKILL at any moment leaves a store that opens.
 */
START_TEST(test_fetch_shared_store)
{
	struct e2e t;
	char *out = NULL, gl1[160], me[2048], ks[4096];
	const char *pki;
	int rc, n1, n2, i;

	e2e_start(&t, "shared");
	pki = env("SKD_PKI_DIR");
	create_gl(&t, "closed");
	add_member(&t, "alice");
	snprintf(gl1, sizeof(gl1), "%s", t.gl);
	snprintf(t.gl, sizeof(t.gl), "%.150s-b", gl1);
	create_gl(&t, "closed");
	add_member(&t, "alice");
	snprintf(me, sizeof(me), "--env '%s/env' --as ALICE --cert "
	    "'%s/alice.crt' --key '%s/alice.key' --CAfile '%s/ca.crt' "
	    "--timeout 20", skd_test_stack_dir(), pki, pki, pki);
	snprintf(ks, sizeof(ks), "%s/shared.keys", t.tmp);
	rc = skd_test_run(&out, NULL, "'%s' member fetch --gl %s --keystore "
	    "'%s' %s > '%s/f1' 2>&1 & p1=$!; '%s' member fetch --gl %s "
	    "--keystore '%s' %s > '%s/f2' 2>&1 & p2=$!; wait $p1; r1=$?; "
	    "wait $p2; r2=$?; cat '%s/f1' '%s/f2'; echo \"rc $r1 $r2\"",
	    skd_test_bin(), gl1, ks, me, t.tmp, skd_test_bin(), t.gl, ks, me,
	    t.tmp, t.tmp, t.tmp);
	ck_assert_int_eq(rc, 0);
	assert_has(out, "rc 0 0");
	n1 = count_of(out, "stored key ");
	ck_assert_int_ge(n1, 2);
	free(out);
	out = NULL;
	rc = skd_test_run(&out, NULL, "'%s' member keys --keystore '%s' "
	    "--cert '%s/alice.crt' --key '%s/alice.key' 2>&1", skd_test_bin(),
	    ks, pki, pki);
	ck_assert_msg(rc == 0, "keys exited %d:\n%s", rc, out);
	n2 = count_of(out, "\nkey ") + (strncmp(out, "key ", 4) == 0);
	ck_assert_msg(n2 == n1, "%d keys stored, %d in the store:\n%s", n1,
	    n2, out);
	assert_has(out, gl1);
	assert_has(out, t.gl);
	free(out);
	/* SIGKILL at several points of a fetch into a fresh store */
	for (i = 0; i < 4; i++) {
		out = NULL;
		rc = skd_test_run(&out, NULL, "rm -f '%s'; '%s' member fetch "
		    "--no-ack --gl %s --keystore '%s' %s >/dev/null 2>&1 & "
		    "pid=$!; sleep 0.%d; kill -9 $pid 2>/dev/null; wait $pid; "
		    "if [ -e '%s' ]; then '%s' member keys --keystore '%s' "
		    "--cert '%s/alice.crt' --key '%s/alice.key' 2>&1; "
		    "else echo 'no store yet'; fi", ks, skd_test_bin(), gl1,
		    ks, me, 1 + 2 * i, ks, skd_test_bin(), ks, pki, pki);
		ck_assert_msg(rc == 0, "after SIGKILL at 0.%ds: exit %d:\n%s",
		    1 + 2 * i, rc, out);
		free(out);
	}
	e2e_stop(&t);
}
END_TEST

/* The line of out that starts (after spaces) with name; static copy. */
static const char *
line_of(const char *out, const char *name)
{
	static char line[1024];
	const char *p = out, *q;
	size_t n;

	while ((p = strstr(p, name)) != NULL) {
		for (q = p; q > out && q[-1] == ' '; q--)
			;
		if (q == out || q[-1] == '\n') {
			n = strcspn(p, "\n");
			if (n >= sizeof(line))
				n = sizeof(line) - 1;
			memcpy(line, p, n);
			line[n] = '\0';
			return line;
		}
		p += strlen(name);
	}
	ck_abort_msg("no line starting '%s' in:\n%s", name, out);
	return NULL;
}

/*
 * skd glo list, show, provide-cert as glo1 through the real worker; and
 * add-member --members-file's progress line, on a TTY (script(1)) only.
 */
START_TEST(test_glo_list_show_provide_cert)
{
	struct e2e t;
	struct skd_store *s;
	struct skd_store_message *list = NULL;
	char *out = NULL, args[8192], kid[128], path[4096], want[256];
	const char *l, *pki = env("SKD_PKI_DIR");
	size_t n = 0, i;
	int rc, found = 0;

	e2e_start(&t, "show");
	create_gl(&t, "closed");
	add_member(&t, "alice");
	add_member(&t, "erin");
	/* list: our GL with its address, administration and state. */
	rc = skd_as(&out, "glo1", "glo list");
	ck_assert_msg(rc == 0, "list exited %d:\n%s", rc, out);
	l = line_of(out, t.gl);
	ck_assert_msg(strstr(l, "administration closed") != NULL &&
	    strstr(l, "state active") != NULL, "%s", l);
	free(out);
	rc = skd_as(&out, "glo1", "glo list --json");
	ck_assert_msg(rc == 0, "list --json exited %d:\n%s", rc, out);
	snprintf(want, sizeof(want), "{\"gl\":\"%s\"", t.gl);
	assert_has(out, want);
	free(out);
	/* glo2 owns none of it. */
	rc = skd_as(&out, "glo2", "glo list");
	ck_assert_msg(rc == 0, "glo2 list exited %d:\n%s", rc, out);
	ck_assert_msg(strstr(out, t.gl) == NULL, "glo2 lists:\n%s", out);
	free(out);
	snprintf(args, sizeof(args), "glo show --gl %s", t.gl);
	rc = skd_as(&out, "glo2", args);
	ck_assert_msg(rc == 3, "glo2 show exited %d:\n%s", rc, out);
	free(out);
	/* show before any fetch: two members, nothing acknowledged, the
	 * current key and the next generation (generationCounter 2), each
	 * with its validity and shards. */
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 0, "show exited %d:\n%s", rc, out);
	assert_has(out, "administration:      closed");
	assert_has(out, "owners (1):\n  email:glo1@example.com");
	assert_has(out, "members (2):");
	ck_assert_ptr_nonnull(strstr(line_of(out, "email:erin@example.com"),
	    "acknowledged: none"));
	ck_assert_ptr_nonnull(strstr(line_of(out, "email:alice@example.com"),
	    "acknowledged: none"));
	assert_has(out, "generationCounter:   2");
	l = strstr(out, "keys (2):\n  ");
	ck_assert_msg(l != NULL, "%s", out);
	l += strlen("keys (2):\n  ");
	ck_assert_uint_lt(strcspn(l, " "), sizeof(kid));
	snprintf(kid, sizeof(kid), "%.*s", (int)strcspn(l, " "), l);
	ck_assert_uint_gt(strlen(kid), 8);
	l = line_of(out, kid);
	ck_assert_msg(strstr(l, "notBefore 20") != NULL &&
	    strstr(l, "notAfter 20") != NULL && strstr(l, "shards ") !=
	    NULL && strstr(l, "  valid") != NULL, "%s", l);
	ck_assert_int_eq(count_of(out, "  future\n"), 1);
	/* Never the wrapped keys. */
	ck_assert_ptr_null(strstr(out, "skdMessage"));
	free(out);
	/* alice fetches and acknowledges (RFC 5275 5.1 2.c); the worker
	 * records it and show says so. */
	ck_assert_int_ge(fetch(&t, "alice", 0), 1);
	for (i = 0; i < 200; i++) {
		rc = skd_as(&out, "glo1", args);
		ck_assert_msg(rc == 0, "show exited %d:\n%s", rc, out);
		if (strstr(line_of(out, "email:alice@example.com"), kid) !=
		    NULL)
			break;
		free(out);
		out = NULL;
		nap_ms(100);
	}
	ck_assert_msg(out != NULL, "alice's ack of %s never shown", kid);
	ck_assert_ptr_nonnull(strstr(line_of(out, "email:erin@example.com"),
	    "acknowledged: none"));
	free(out);
	snprintf(args, sizeof(args), "glo show --json --gl %s", t.gl);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 0, "show --json exited %d:\n%s", rc, out);
	assert_has(out, "{\"name\":\"email:alice@example.com\","
	    "\"address\":null,\"acknowledged\":[\"");
	assert_has(out, "{\"name\":\"email:erin@example.com\","
	    "\"address\":null,\"acknowledged\":[]}");
	snprintf(want, sizeof(want), "{\"keyId\":\"%s\",", kid);
	assert_has(out, want);
	assert_has(out, "\"status\":\"valid\"}");
	free(out);
	/* provide-cert (RFC 5275 4.10.1): success, and alice finds the
	 * GLA's glProvideCert message. */
	snprintf(args, sizeof(args), "glo provide-cert --gl %s --member "
	    "email:alice@example.com --timeout 20", t.gl);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 0, "provide-cert exited %d:\n%s", rc, out);
	assert_has(out, "status: success");
	free(out);
	s = open_as("alice");
	ck_assert_int_eq(skd_store_find_messages(s, &list, &n,
	    "email:alice@example.com"), 1);
	for (i = 0; i < n; i++)
		found |= list[i].type != NULL &&
		    strcmp(list[i].type, "glProvideCert") == 0;
	skd_store_message_list_free(list, n);
	skd_store_close(s);
	ck_assert_msg(found, "alice has no glProvideCert message");
	/* Not for someone who is not a member. */
	snprintf(args, sizeof(args), "glo provide-cert --gl %s --member "
	    "email:dave@example.com --timeout 20", t.gl);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 1, "provide-cert for dave exited %d:\n%s", rc,
	    out);
	assert_has(out, "status: failed");
	free(out);
	/* --members-file: no progress line when stderr is not a TTY ... */
	snprintf(path, sizeof(path), "%s/members", t.tmp);
	snprintf(want, sizeof(want), "email:bob@example.com %s/bob.crt\n",
	    pki);
	ck_assert(skd_test_write_file(path, want, strlen(want)));
	snprintf(args, sizeof(args), "glo add-member --gl %s --members-file "
	    "'%s' --out '%s/req.der'", t.gl, path, t.tmp);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 0, "add-member exited %d:\n%s", rc, out);
	ck_assert_msg(strstr(out, "added") == NULL, "progress off a TTY:\n%s",
	    out);
	free(out);
	/* ... and "n/N added" on one (script(1) gives it a pty); bob is
	 * then added for real. */
	snprintf(args, sizeof(args), "glo add-member --gl %s --members-file "
	    "'%s' --timeout 20", t.gl, path);
	rc = skd_test_run(&out, NULL, "script -qec \"'%s' %s --env '%s/env' "
	    "--as GLO1 --cert '%s/glo1.crt' --key '%s/glo1.key' "
	    "--CAfile '%s/ca.crt'\" /dev/null 2>&1 </dev/null",
	    skd_test_bin(), args, skd_test_stack_dir(), pki, pki, pki);
	ck_assert_msg(rc == 0, "add-member on a TTY exited %d:\n%s", rc,
	    out);
	assert_has(out, "\r1/1 added");
	assert_has(out, "status: success");
	free(out);
	snprintf(args, sizeof(args), "glo show --gl %s", t.gl);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 0, "show exited %d:\n%s", rc, out);
	assert_has(out, "members (3):");
	free(out);
	e2e_stop(&t);
}
END_TEST

/* Takes a big GL out of the stack the later suites share (a replica
 * started there copies all of it). */
static void
purge_gl(struct e2e *t)
{
	struct skd_store *gla = open_as("gla");

	ck_assert_msg(skd_store_purge_gl(gla, t->gl), "purge %s: %s", t->gl,
	    skd_store_errmsg(gla));
	skd_store_close(gla);
}

/*
 * A batch of 1,200 members (issue 19): skd glo add-member --members-file
 * splits it into requests of at most 500 (the GLA's limit), and --json
 * names every member's outcome, with the request id of each request; two
 * members without a certificate anywhere fail (invalidCert) and the batch
 * exits 1 with the others added.  remove-member of several --member
 * reports each one in the normal output, after the request id.
 */
START_TEST(test_batch_split)
{
	struct e2e t;
	json_t *j, *ms, *m;
	json_error_t je;
	char *out = NULL, *line, *save = NULL, args[8192], path[4096], *text;
	char want[256];
	const char *pki = env("SKD_PKI_DIR"), *st, *who;
	size_t i, k, n_req = 0, n_members = 0, n_failed = 0, len = 0;
	int rc;

	e2e_start(&t, "batch");
	create_gl(&t, "unmanaged --mutually-aware");
	snprintf(path, sizeof(path), "%s/members", t.tmp);
	ck_assert_ptr_nonnull(text = malloc(1200 * 160));
	for (i = 0; i < 1200; i++) {
		if (i == 17 || i == 1111)
			len += (size_t)sprintf(text + len,
			    "email:nocert-%zu@example.com\n", i);
		else
			len += (size_t)sprintf(text + len,
			    "email:b%04zu@example.com %s/alice.crt\n", i, pki);
	}
	ck_assert(skd_test_write_file(path, text, len));
	free(text);
	snprintf(args, sizeof(args), "glo add-member --gl %s --members-file "
	    "'%s' --json --timeout 240", t.gl, path);
	rc = skd_as_redir(&out, "glo1", args, "2>/dev/null");
	ck_assert_msg(rc == 1, "add-member exited %d:\n%.2000s", rc, out);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		j = json_loads(line, 0, &je);
		ck_assert_msg(j != NULL, "not JSON: %.200s", line);
		ck_assert_ptr_nonnull(json_string_value(json_object_get(j,
		    "request")));
		ck_assert_uint_eq(strlen(json_string_value(json_object_get(j,
		    "request"))), SKD_STORE_ID_LEN - 1);
		ms = json_object_get(j, "members");
		ck_assert(json_is_array(ms));
		ck_assert_uint_le(json_array_size(ms), 500);
		n_req++;
		json_array_foreach(ms, k, m) {
			who = json_string_value(json_object_get(m, "member"));
			st = json_string_value(json_object_get(m, "status"));
			ck_assert(who != NULL && st != NULL);
			ck_assert(json_integer_value(json_object_get(m,
			    "bodyPartID")) > 0);
			n_members++;
			if (strncmp(who, "email:nocert-", 13) == 0) {
				ck_assert_str_eq(st, "failed");
				ck_assert_str_eq(json_string_value(
				    json_object_get(m, "SKDFailInfo")),
				    "invalidCert");
				n_failed++;
			} else {
				ck_assert_msg(strcmp(st, "success") == 0,
				    "%s: %s", who, st);
			}
		}
		json_decref(j);
	}
	ck_assert_uint_eq(n_req, 3);
	ck_assert_uint_eq(n_members, 1200);
	ck_assert_uint_eq(n_failed, 2);
	free(out);
	snprintf(args, sizeof(args), "glo show --gl %s", t.gl);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 0, "show exited %d:\n%.2000s", rc, out);
	assert_has(out, "members (1198):");
	free(out);
	/* Several --member, text: the request id, then each member. */
	snprintf(args, sizeof(args), "glo remove-member --gl %s --member "
	    "email:b0001@example.com --member email:b0002@example.com "
	    "--member email:nobody@example.com --timeout 60", t.gl);
	rc = skd_as_redir(&out, "glo1", args, "2>/dev/null");
	ck_assert_msg(rc == 1, "remove-member exited %d:\n%s", rc, out);
	ck_assert_msg(strncmp(out, "request: ", 9) == 0 &&
	    strcspn(out + 9, "\n") == SKD_STORE_ID_LEN - 1, "%s", out);
	assert_has(out, "\nmember email:b0001@example.com: success\n");
	assert_has(out, "\nmember email:b0002@example.com: success\n");
	snprintf(want, sizeof(want), "\nmember email:nobody@example.com: "
	    "failed");
	assert_has(out, want);
	free(out);
	purge_gl(&t);
	e2e_stop(&t);
}
END_TEST

/*
 * skd glo show of a GL of 6,000 members, more than the stack's size limit
 * (5,000, tools/skd-stack): a plain search as the owner stops at the
 * limit, skd's paged listing (RFC 2696, size.prtotal of ldif/limits.ldif)
 * shows every member, as text and as JSON.
 */
START_TEST(test_show_big_gl)
{
	struct e2e t;
	struct skd_store *gla;
	struct skd_store_member m;
	json_t *j;
	json_error_t je;
	char *out = NULL, args[4096], name[96];
	size_t i;
	int rc;

	e2e_start(&t, "big");
	create_gl(&t, "unmanaged");
	gla = open_as("gla");
	for (i = 0; i < 6000; i++) {
		snprintf(name, sizeof(name), "email:big%04zu@example.com", i);
		memset(&m, 0, sizeof(m));
		m.name = name;
		ck_assert_msg(skd_store_add_member(gla, t.gl, SKD_STORE_MEMBER,
		    &m), "member %zu: %s", i, skd_store_errmsg(gla));
	}
	skd_store_close(gla);
	/* The limit is there for a plain search (ldapsearch exits 4,
	 * sizeLimitExceeded). */
	rc = skd_test_run(&out, NULL, ". '%s/env' && ldapsearch -x -H "
	    "\"$SKD_LDAP_URI\" -D \"$SKD_GLO1_DN\" -w \"$SKD_GLO1_PW\" -b "
	    "\"ou=groups,$SKD_BASE_DN\" '(objectClass=skdGLMember)' 1.1 "
	    ">/dev/null 2>&1", skd_test_stack_dir());
	ck_assert_int_eq(rc, 4);
	free(out);
	snprintf(args, sizeof(args), "glo show --gl %s", t.gl);
	rc = skd_as(&out, "glo1", args);
	ck_assert_msg(rc == 0, "show exited %d:\n%.2000s", rc, out);
	assert_has(out, "members (6000):");
	ck_assert_int_eq(count_of(out, "\n  email:big"), 6000);
	free(out);
	snprintf(args, sizeof(args), "glo show --json --gl %s", t.gl);
	rc = skd_as_redir(&out, "glo1", args, "2>/dev/null");
	ck_assert_msg(rc == 0, "show --json exited %d", rc);
	j = json_loads(out, 0, &je);
	ck_assert_msg(j != NULL, "not JSON: %s", je.text);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "members")),
	    6000);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "owners")), 1);
	ck_assert(json_is_array(json_object_get(j, "keys")));
	json_decref(j);
	free(out);
	purge_gl(&t);
	e2e_stop(&t);
}
END_TEST

/* skd_store_list_pending callback: the first pending request's id. */
static int
first_pending(void *arg, const char *id, const char *state)
{
	if (strcmp(state, "pending") != 0)
		return 0;
	snprintf(arg, SKD_STORE_ID_LEN, "%s", id);
	return 1;
}

/*
 * A request that fails every attempt ends with an answer the client
 * reports (issue 19): glo1's add-member waits while no worker runs; two
 * workers "die" holding the request (claimed, counted, lease over); the
 * worker started next, with max_attempts = 2, gives up on it and answers,
 * and the waiting client prints the failure and its reason for the member
 * and exits 1, never "stays pending".
 */
START_TEST(test_give_up_reported)
{
	struct e2e t;
	struct skd_store *gla;
	char id[SKD_STORE_ID_LEN] = "", cmd[16384], outp[2048], rcp[2048];
	char *out = NULL, *rcs = NULL;
	const char *pki = env("SKD_PKI_DIR");
	int i, n = 0;

	e2e_start(&t, "giveup");
	create_gl(&t, "unmanaged");
	worker_stop(&t);
	snprintf(outp, sizeof(outp), "%s/add.out", t.tmp);
	snprintf(rcp, sizeof(rcp), "%s/add.rc", t.tmp);
	snprintf(cmd, sizeof(cmd), "('%s' glo add-member --gl %s --member "
	    "email:dave@example.com --timeout 60 --env '%s/env' --as GLO1 "
	    "--cert '%s/glo1.crt' --key '%s/glo1.key' --CAfile '%s/ca.crt' "
	    "> '%s' 2>&1; echo $? > '%s') </dev/null >/dev/null 2>&1 &",
	    skd_test_bin(), t.gl, skd_test_stack_dir(), pki, pki, pki, outp,
	    rcp);
	ck_assert_int_eq(system(cmd), 0);
	gla = open_as("gla");
	for (i = 0; i < 200 && id[0] == '\0'; i++) {
		ck_assert(skd_store_list_pending(gla, first_pending, id,
		    time(NULL), 0));
		if (id[0] == '\0')
			nap_ms(100);
	}
	ck_assert_msg(id[0] != '\0', "the client submitted nothing");
	ck_assert(skd_store_claim_request(gla, id, "dead-1", time(NULL) - 10));
	ck_assert(skd_store_bump_attempts(gla, &n, id, "dead-1"));
	ck_assert(skd_store_reclaim_request(gla, id, "dead-1",
	    time(NULL) - 10, "dead-2", time(NULL) - 5, time(NULL)));
	ck_assert(skd_store_bump_attempts(gla, &n, id, "dead-2"));
	skd_store_close(gla);
	worker_start(&t, "max_attempts = 2\n");
	for (i = 0; i < 600; i++) {
		if ((rcs = (char *)skd_test_read_file(rcp, NULL)) != NULL &&
		    strchr(rcs, '\n') != NULL)
			break;
		free(rcs);
		rcs = NULL;
		nap_ms(100);
	}
	ck_assert_msg(rcs != NULL, "the client is still waiting");
	out = (char *)skd_test_read_file(outp, NULL);
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(atoi(rcs) == 1, "add-member exited %s:\n%s", rcs, out);
	assert_has(out, "status: failed");
	assert_has(out, "gave up after 2 attempts");
	assert_has(out, "\nmember email:dave@example.com: failed: gave up "
	    "after 2 attempts (internalCAError)\n");
	ck_assert_msg(strstr(out, "pending") == NULL, "%s", out);
	free(out);
	free(rcs);
	e2e_stop(&t);
}
END_TEST

Suite *
skd_suite_e2e(void)
{
	Suite *s = suite_create("e2e");
	TCase *tc = tcase_create("glo and member");

	tcase_add_unchecked_fixture(tc, setup_stack, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_managed_join_approved_and_denied);
	tcase_add_test(tc, test_compromise);
	tcase_add_test(tc, test_refresh);
	tcase_add_test(tc, test_ldif_path);
	tcase_add_test(tc, test_typo_gl_and_libskd);
	tcase_add_test(tc, test_fetch_watch);
	tcase_add_test(tc, test_fetch_shared_store);
	tcase_add_test(tc, test_glo_list_show_provide_cert);
	suite_add_tcase(s, tc);

	tc = tcase_create("big lists");
	tcase_add_unchecked_fixture(tc, setup_stack, NULL);
	tcase_set_timeout(tc, 400);
	tcase_add_test(tc, test_batch_split);
	tcase_add_test(tc, test_show_big_gl);
	tcase_add_test(tc, test_give_up_reported);
	suite_add_tcase(s, tc);
	return s;
}
