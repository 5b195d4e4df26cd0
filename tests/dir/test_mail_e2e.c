/*
 * test_mail_e2e.c: the mail transport (RFC 5275 section 7) against a real
 * slapd and a real OpenSMTPD (tools/skd-mta, started by the scripts; the
 * test fails when OpenSMTPD is missing: tools/setup installs it).
 *
 *   - skd gla mail-in as a delivery agent: a mail delivered twice adds one
 *     request; garbage is EX_DATAERR with one line; an unreachable
 *     directory is EX_TEMPFAIL (the MTA keeps the mail);
 *   - tools/demo-mail: the main job over mail only (a closed list, three
 *     members added by mail, glKeys opened from maildirs and acknowledged
 *     by mail, a removal and its rekey by mail, content opened by skd and
 *     by openssl cms -secretkey), every answer and glKey once by
 *     Message-ID, then hostile mail through the MTA, each refused with its
 *     reason and no request added;
 *   - the same with the worker killed by SIGKILL at random points: every
 *     answer and glKey delivered, each Message-ID once;
 *   - answers by mail to the verified signer, through the sendmail(8)
 *     interface of the real OpenSMTPD (its smtpctl, run in the private
 *     instance's mount namespace: tools/skd-mta exec): an answer to a
 *     request added in the directory (mail_answers = all), none under
 *     mail-origin; an encrypted request whose From is not its signer's
 *     failed with nothing applied, the same with the right From applied
 *     and answered; nothing left marked new (one indexed listing);
 *   - mail_starttls against a relay that offers no STARTTLS: nothing
 *     goes in the clear, the mail stays queued with the reason;
 *   - submission through a real relay that requires STARTTLS and AUTH
 *     (Debian's Postfix, tools/skd-relay): a wrong password leaves the
 *     answer queued with the relay's reason, the right one delivers it;
 *   - a member named by a dirName, without glMemberAddress, gets its
 *     glKeys at its certificate's rfc822Name;
 *   - skd keygen by mail: a signed request (draft 2.4) mailed, the
 *     answer read from the maildir, key and certificate written.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "mail/skd_mail.h"
#include "skd_test.h"
#include "store/skd_store.h"
#include "support/stack.h"

static void
assert_has(const char *hay, const char *needle)
{
	size_t n = strlen(hay);

	/* check's messages are bounded: the end of the output says most. */
	ck_assert_msg(strstr(hay, needle) != NULL, "no '%s' in:\n...%s",
	    needle, n > 3000 ? hay + n - 3000 : hay);
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

static void
setup_stack(void)
{
	(void)skd_test_stack_get();
}

/* ---- the fixture: a directory, an MTA, a relay, a worker ---------------- */

/*
 * The directory a test runs against: the suites' shared stack, or a
 * private one in skd_test_tmp/stack (fx_private_stack) for a test that
 * must see every entry of its directory (the catch-up mails whatever
 * was written without mail, the other suites' entries included).
 */
static struct {
	int	 private;
	int	 started;	/* an MTA or a private stack is up */
	char	 dir[4096];
	char	*keys[64], *vals[64];
	size_t	 n;
} fx;

static const char *
fx_need(const char *key)
{
	size_t i;

	if (!fx.private)
		return skd_test_stack_need(key);
	for (i = 0; i < fx.n; i++) {
		if (strcmp(fx.keys[i], key) == 0)
			return fx.vals[i];
	}
	ck_assert_msg(0, "private stack env lacks %s", key);
	return NULL;
}

static const char *
fx_stack_dir(void)
{
	return fx.private ? fx.dir : skd_test_stack_dir();
}

static void worker_stop(void);

/* Stops what the test started in skd_test_tmp (a no-op for what it did
 * not). */
static void
fx_stop(void)
{
	if (!fx.started)
		return;
	fx.started = 0;
	worker_stop();
	(void)skd_test_run(NULL, NULL, "cd '%s'; [ -d '%s/relay' ] && "
	    "tools/skd-relay stop '%s/relay'; [ -d '%s/mta' ] && "
	    "tools/skd-mta stop '%s/mta'; [ -d '%s/stack' ] && "
	    "tools/skd-stack stop '%s/stack'; true", skd_test_top(),
	    skd_test_tmp, skd_test_tmp, skd_test_tmp, skd_test_tmp,
	    skd_test_tmp, skd_test_tmp);
}

/* The test started something in skd_test_tmp. */
static void
fx_started(void)
{
	fx.started = 1;
}

/*
 * A failed check ends the test's process at once (_exit, no teardown)
 * and kills its process group, where the MTA and the worker run; a
 * private slapd runs in a session of its own and would outlive it.  Each
 * private stack is listed in the file SKD_MAIL_STACKS names (set by the
 * test case's unchecked setup, in the runner's process), and the case's
 * unchecked teardown stops every one still running.
 */
static void
fx_reap_setup(void)
{
	char path[4096];
	const char *base = getenv("TMPDIR");

	setup_stack();
	(void)snprintf(path, sizeof(path), "%s/skd-mail-stacks.%ld",
	    base != NULL ? base : "/tmp", (long)getpid());
	(void)setenv("SKD_MAIL_STACKS", path, 1);
}

static void
fx_reap(void)
{
	const char *list = getenv("SKD_MAIL_STACKS");

	if (list == NULL)
		return;
	(void)skd_test_run(NULL, NULL, "[ -f '%s' ] && while read -r d; do "
	    "[ -f \"$d/env\" ] && '%s/tools/skd-stack' stop \"$d\" "
	    ">/dev/null 2>&1; done < '%s'; rm -f '%s'", list, skd_test_top(),
	    list, list);
}

/* Starts a private stack (slapd from schema/ and ldif/, the test PKI)
 * and reads its env file (KEY=VALUE lines). */
static void
fx_private_stack(void)
{
	char path[4200], line[4096], *eq;
	FILE *f;
	int rc;

	(void)snprintf(fx.dir, sizeof(fx.dir), "%s/stack", skd_test_tmp);
	rc = skd_test_run(NULL, NULL, "'%s/tools/skd-stack' start '%s' --pki "
	    "'%s/build/test-pki' >'%s/stack.log' 2>&1", skd_test_top(),
	    fx.dir, skd_test_top(), skd_test_tmp);
	fx_started();
	if (getenv("SKD_MAIL_STACKS") != NULL)
		(void)skd_test_run(NULL, NULL, "echo '%s' >> '%s'", fx.dir,
		    getenv("SKD_MAIL_STACKS"));
	ck_assert_msg(rc == 0, "skd-stack start exited %d", rc);
	fx.private = 1;
	(void)snprintf(path, sizeof(path), "%s/env", fx.dir);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	while (fx.n < sizeof(fx.keys) / sizeof(fx.keys[0]) &&
	    fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		ck_assert_ptr_nonnull(fx.keys[fx.n] = strdup(line));
		ck_assert_ptr_nonnull(fx.vals[fx.n] = strdup(eq + 1));
		fx.n++;
	}
	fclose(f);
}

/* Starts the private OpenSMTPD of tools/skd-mta in skd_test_tmp/mta:
 * gla@example.com to skd gla mail-in with conf, the rest to maildirs. */
static void
fx_mta_start(const char *conf)
{
	char *out = NULL;
	int rc;

	/* Maildir deliveries run as nobody. */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "chmod 0711 '%s'",
	    skd_test_tmp), 0);
	fx_started();
	rc = skd_test_run(&out, NULL, "cd '%s' && tools/skd-mta start "
	    "'%s/mta' --gla-config '%s' --skd '%s' 2>&1", skd_test_top(),
	    skd_test_tmp, conf, skd_test_bin());
	ck_assert_msg(rc == 0, "OpenSMTPD did not start: %s", out);
	free(out);
}

/* The private MTA's value of key (SKD_SMTP_URL, ...), freed by the
 * caller. */
static char *
fx_mta_env(const char *key)
{
	char *out = NULL;

	ck_assert_int_eq(skd_test_run(&out, NULL, ". '%s/mta/env' && "
	    "printf %%s \"$%s\"", skd_test_tmp, key), 0);
	return out;
}

/* The checked teardown of every MTA test: stops what the test started,
 * then removes skd_test_tmp. */
static void
fx_teardown(void)
{
	size_t i;

	fx_stop();
	for (i = 0; i < fx.n; i++) {
		free(fx.keys[i]);
		free(fx.vals[i]);
	}
	memset(&fx, 0, sizeof(fx));
	skd_test_tmp_teardown();
}

/* A GLA configuration for the test stack in skd_test_tmp; ldap_uri
 * overrides the stack's.  Returns its path (static). */
static const char *
write_conf(const char *ldap_uri)
{
	static char conf[4096];
	char pw[4096], *text = NULL;
	const char *pki = fx_need("SKD_PKI_DIR");

	(void)snprintf(pw, sizeof(pw), "%s/gla.pw", skd_test_tmp);
	ck_assert(skd_test_write_file(pw, fx_need("SKD_GLA_PW"),
	    strlen(fx_need("SKD_GLA_PW"))));
	ck_assert_int_gt(asprintf(&text, "ldap_uri = %s\nbind = simple\n"
	    "bind_dn = %s\nbind_password_file = %s\nbase_dn = %s\n"
	    "gla_cert = %s/gla.crt\ngla_key = %s/gla.key\n"
	    "ca_file = %s/ca.crt\n", ldap_uri != NULL ? ldap_uri :
	    fx_need("SKD_LDAP_URI"),
	    fx_need("SKD_GLA_DN"), pw,
	    fx_need("SKD_BASE_DN"), pki, pki, pki), 0);
	(void)snprintf(conf, sizeof(conf), "%s/gla.conf", skd_test_tmp);
	ck_assert(skd_test_write_file(conf, text, strlen(text)));
	free(text);
	return conf;
}

/* A mail carrying a request signed by glo1, with Message-ID mid. */
static void
write_mail(const char *path, const char *mid)
{
	const char *pki = fx_need("SKD_PKI_DIR");
	const char *to[] = { "gla@example.com" };
	struct skd_mail_out o;
	unsigned char *der;
	char req[4096], err[256], *msg = NULL;
	size_t len = 0, mlen = 0;

	(void)snprintf(req, sizeof(req), "%s/req.der", skd_test_tmp);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' glo delete --gl "
	    "URI:https://mail.example.com/redelivery --cert '%s/glo1.crt' "
	    "--key '%s/glo1.key' --out '%s' >/dev/null 2>&1",
	    skd_test_bin(), pki, pki, req), 0);
	der = skd_test_read_file(req, &len);
	ck_assert_ptr_nonnull(der);
	memset(&o, 0, sizeof(o));
	o.from = "glo1@example.com";
	o.to = to;
	o.n_to = 1;
	o.message_id = mid;
	o.smime_type = "CMC-request";
	o.date = 1700000000;
	ck_assert_msg(skd_mail_build(&msg, &mlen, err, sizeof(err), &o, der,
	    len), "%s", err);
	ck_assert(skd_test_write_file(path, msg, mlen));
	free(msg);
	free(der);
}

START_TEST(test_mail_in_redelivery)
{
	const char *conf;
	char mail[4096], *out = NULL, *out2 = NULL;
	int rc;

	ck_assert_ptr_nonnull(skd_test_stack_get());
	conf = write_conf(NULL);
	(void)snprintf(mail, sizeof(mail), "%s/req.eml", skd_test_tmp);
	write_mail(mail, "redelivery-1@example.com");
	rc = skd_test_run(&out, NULL, "'%s' gla mail-in --config '%s' "
	    "--sender glo1@example.com < '%s' 2>&1", skd_test_bin(), conf,
	    mail);
	ck_assert_msg(rc == 0, "mail-in exited %d: %s", rc, out);
	assert_has(out, " added (from glo1@example.com)");
	/* The MTA lost our acknowledgement and delivers it again. */
	rc = skd_test_run(&out2, NULL, "'%s' gla mail-in --config '%s' "
	    "--sender glo1@example.com < '%s' 2>&1", skd_test_bin(), conf,
	    mail);
	ck_assert_msg(rc == 0, "mail-in exited %d: %s", rc, out2);
	assert_has(out2, " was there already");
	/* The same request id both times. */
	ck_assert_int_eq(strncmp(out, out2, strlen("skd gla mail-in: "
	    "request ") + 36), 0);
	free(out);
	free(out2);
	out = NULL;
	/* Garbage: EX_DATAERR, one line. */
	rc = skd_test_run(&out, NULL, "printf 'Subject: x\\n\\nhello\\n' | "
	    "'%s' gla mail-in --config '%s' 2>&1", skd_test_bin(), conf);
	ck_assert_int_eq(rc, EX_DATAERR);
	assert_has(out, "no application/pkcs7-mime");
	ck_assert_int_eq(count_of(out, "\n"), 1);
	free(out);
	out = NULL;
	/* The directory away: EX_TEMPFAIL, the MTA keeps the mail. */
	conf = write_conf("ldap://127.0.0.1:1");
	rc = skd_test_run(&out, NULL, "'%s' gla mail-in --config '%s' "
	    "< '%s' 2>&1", skd_test_bin(), conf, mail);
	ck_assert_msg(rc == EX_TEMPFAIL, "exited %d: %s", rc, out);
	free(out);
}
END_TEST

/* Runs the shell command (printf format) from the top of the tree, which
 * must exit 0; returns its output and errors. */
static char * __attribute__((format(printf, 1, 2)))
run_ok(const char *fmt, ...)
{
	char cmd[8192], *out = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	(void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = skd_test_run(&out, NULL, "cd '%s' && %s 2>&1", skd_test_top(),
	    cmd);
	ck_assert_msg(rc == 0, "%.200s exited %d:\n...%s", cmd, rc,
	    out != NULL && strlen(out) > 3000 ? out + strlen(out) - 3000 :
	    out);
	return out;
}

/* Runs tools/demo-mail with env settings; returns its output. */
static char *
demo_mail(const char *env)
{
	return run_ok("%s SKD_BIN='%s' tools/demo-mail", env, skd_test_bin());
}

/* Every answer and glKey arrived; each Message-ID once (kill: a retry
 * after a kill may repeat a mail, under the same Message-ID). */
static void
assert_mail_counts(const char *out, int exact)
{
	static const struct { const char *who; int n; } want[] = {
		/* glUseKEK, three glAddMember, glDeleteMember */
		{ "glo1", 5 },
		/* two keys (generationCounter 2), two after the rekey */
		{ "alice", 4 }, { "bob", 4 },
		/* two keys, then removed */
		{ "carol", 2 },
	};
	char line[128];
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (exact)
			(void)snprintf(line, sizeof(line), "maildir %s: %d "
			    "mails, %d distinct Message-IDs", want[i].who,
			    want[i].n, want[i].n);
		else
			(void)snprintf(line, sizeof(line), " mails, %d "
			    "distinct Message-IDs", want[i].n);
		assert_has(out, line);
	}
	assert_has(out, "mail failed: 0");
}

START_TEST(test_mail_main_job_and_hostile)
{
	char *out, *p;
	int before = -1, after = -2;

	out = demo_mail("SKD_MAIL_HOSTILE=1");
	assert_mail_counts(out, 1);
	/* skd member fetch --mail: read mail moved to cur/, seen. */
	assert_has(out, "alice: 0 in new/, 2 seen in cur/");
	assert_has(out, "bob: 0 in new/, 2 seen in cur/");
	ck_assert_int_eq(count_of(out, "Minutes of the team meeting: ship "
	    "it."), 2);
	assert_has(out, "After carol left: the new plan.");
	assert_has(out, "carol: no key for this message");
	/* Hostile mail: each refused with its reason. */
	assert_has(out, "refused: 50MB: by the MTA at SMTP time");
	assert_has(out, "refused: nocms: by skd gla mail-in: message refused: "
	    "no application/pkcs7-mime");
	assert_has(out, "refused: twocms: by skd gla mail-in: message "
	    "refused: 2 application/pkcs7-mime parts");
	assert_has(out, "refused: trunc: by skd gla mail-in: message refused: "
	    "the CMS part is not valid base64");
	assert_has(out, "refused: parts: by skd gla mail-in: message refused: "
	    "more than");
	assert_has(out, "refused: deep: by skd gla mail-in: message refused: "
	    "more than");
	assert_has(out, "refused: 8bit: by skd gla mail-in: message refused: "
	    "8-bit byte in the header");
	assert_has(out, "refused: forged: by skd gla mail-in: message "
	    "refused: From <mallory@example.com> is not an email address of "
	    "the signer");
	/* No state change. */
	ck_assert_ptr_nonnull(p = strstr(out, "requests before: "));
	ck_assert_int_eq(sscanf(p, "requests before: %d, after: %d", &before,
	    &after), 2);
	ck_assert_int_eq(before, after);
	free(out);
}
END_TEST

START_TEST(test_mail_worker_killed)
{
	char *out, *p;
	int kills = 0;

	out = demo_mail("SKD_MAIL_KILL=1");
	assert_mail_counts(out, 0);
	assert_has(out, "After carol left: the new plan.");
	ck_assert_ptr_nonnull(p = strstr(out, "(the worker was killed "));
	ck_assert_int_eq(sscanf(p, "(the worker was killed %d", &kills), 1);
	ck_assert_int_ge(kills, 1);
	free(out);
}
END_TEST

/* ---- answers to the verified signer, sendmail(8) ------------------------ */

/* An ldapsearch as the GLA under the base; returns its output. */
static char *
gla_search(const char *filter, const char *attrs)
{
	char *out = NULL;

	(void)skd_test_run(&out, NULL, "PATH=$PATH:/usr/sbin ldapsearch -LLL "
	    "-o ldif-wrap=no -x -H '%s' -D '%s' -w '%s' -b '%s' '%s' %s "
	    "2>&1", fx_need("SKD_LDAP_URI"),
	    fx_need("SKD_GLA_DN"),
	    fx_need("SKD_GLA_PW"),
	    fx_need("SKD_BASE_DN"), filter, attrs);
	ck_assert_ptr_nonnull(out);
	return out;
}

/* skd ARGS (printf format) as who (glo1, alice, ...) on the fixture's
 * directory, output and errors in *out; returns the exit code. */
static int __attribute__((format(printf, 3, 4)))
skd_as(char **out, const char *who, const char *fmt, ...)
{
	const char *pki = fx_need("SKD_PKI_DIR");
	char up[32], args[4096];
	va_list ap;
	size_t i;

	for (i = 0; who[i] != '\0' && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)who[i]);
	up[i] = '\0';
	va_start(ap, fmt);
	(void)vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return skd_test_run(out, NULL, "'%s' %s --env '%s/env' --as %s "
	    "--cert '%s/%s.crt' --key '%s/%s.key' --CAfile '%s/ca.crt' 2>&1",
	    skd_test_bin(), args, fx_stack_dir(), up, pki, who, pki, who, pki);
}

/* Waits up to 30 s for a shell condition; returns whether it held. */
static int
wait_cond(const char *cond)
{
	return skd_test_run(NULL, NULL, "i=0; while [ $i -lt 150 ]; do "
	    "if %s; then exit 0; fi; i=$((i + 1)); sleep 0.2; done; exit 1",
	    cond) == 0;
}

/* Distinct Message-IDs in the maildir of who (new/ and cur/): a mail
 * whose submission was retried after a lost acknowledgement comes twice
 * under one Message-ID. */
static int
maildir_count(const char *who)
{
	char *out = NULL;
	int n = -1;

	(void)skd_test_run(&out, NULL, "cat '%s/mta/maildir/%s'/new/* "
	    "'%s/mta/maildir/%s'/cur/* 2>/dev/null | grep -i '^Message-ID:' | "
	    "sort -u | wc -l", skd_test_tmp, who, skd_test_tmp, who);
	ck_assert_ptr_nonnull(out);
	n = atoi(out);
	free(out);
	return n;
}

/* who's maildir holds n mails; else shows their headers. */
static void
assert_maildir(const char *who, int n)
{
	char *out = NULL;

	if (n >= 0 && maildir_count(who) == n)
		return;
	(void)skd_test_run(&out, NULL, "cd '%s/mta/maildir/%s' && grep -H "
	    "-i -E '^(message-id|in-reply-to|subject):' new/* cur/* 2>&1; "
	    "grep -i mail '%s/gla.log' | tail -20", skd_test_tmp, who,
	    skd_test_tmp);
	ck_assert_msg(0, "%s has %d mails (%d wanted, -1: each once):\n%s",
	    who, maildir_count(who), n, out);
}

/*
 * The answer to request id was mailed to who exactly once: its response
 * entry is sent, and who's maildir holds its Message-ID once.  (Other
 * suites' requests share the stack and may be answered by mail too, so
 * mails are told apart by the Message-ID the worker recorded.)
 */
static void
assert_answer_mailed(const char *id, const char *who)
{
	char f[128], *out, *p, mid[256], cond[4096];
	int n;

	(void)snprintf(f, sizeof(f), "(&(objectClass=skdResponse)"
	    "(skdRequestId=%s))", id);
	(void)snprintf(cond, sizeof(cond), "PATH=$PATH:/usr/sbin ldapsearch "
	    "-LLL -x -H '%s' -D '%s' -w '%s' -b 'ou=responses,%s' '%s' "
	    "skdMailState | grep -q 'skdMailState: sent'",
	    fx_need("SKD_LDAP_URI"),
	    fx_need("SKD_GLA_DN"),
	    fx_need("SKD_GLA_PW"),
	    fx_need("SKD_BASE_DN"), f);
	ck_assert_msg(wait_cond(cond), "the answer to %s was not sent", id);
	out = gla_search(f, "skdMailMessageId skdMailTo");
	ck_assert_ptr_nonnull(p = strstr(out, "skdMailMessageId: "));
	ck_assert_int_eq(sscanf(p, "skdMailMessageId: %255s", mid), 1);
	free(out);
	(void)snprintf(cond, sizeof(cond), "grep -lqi '^Message-ID: <%s>' "
	    "'%s'/mta/maildir/%s/new/* 2>/dev/null", mid, skd_test_tmp, who);
	ck_assert_msg(wait_cond(cond), "no mail <%s> for %s", mid, who);
	out = NULL;
	(void)skd_test_run(&out, NULL, "grep -li '^Message-ID: <%s>' "
	    "'%s'/mta/maildir/%s/new/* '%s'/mta/maildir/%s/cur/* 2>/dev/null "
	    "| wc -l", mid, skd_test_tmp, who, skd_test_tmp, who);
	n = atoi(out);
	free(out);
	if (n != 1)
		assert_maildir(who, -1);
}

/* The request id "skd gla mail-in" printed. */
static void
mail_in_id(char id[SKD_STORE_ID_LEN], const char *out)
{
	const char *p = strstr(out, "request ");

	ck_assert_msg(p != NULL, "%s", out);
	memcpy(id, p + 8, SKD_STORE_ID_LEN - 1);
	id[SKD_STORE_ID_LEN - 1] = '\0';
}

/* skd gla mail-in takes a mail from glo1 with Message-ID mid (write_mail);
 * writes the request id. */
static void
mail_in_glo1(char id[SKD_STORE_ID_LEN], const char *conf, const char *mid)
{
	char mail[4096], *out = NULL;
	int rc;

	(void)snprintf(mail, sizeof(mail), "%s/%s.eml", skd_test_tmp, mid);
	write_mail(mail, mid);
	rc = skd_test_run(&out, NULL, "'%s' gla mail-in --config '%s' "
	    "--sender glo1@example.com < '%s' 2>&1", skd_test_bin(), conf,
	    mail);
	ck_assert_msg(rc == 0, "mail-in exited %d: %s", rc, out);
	mail_in_id(id, out);
	free(out);
}

/* The request id "skd glo ..." printed ("submitted request <id>"). */
static void
submitted_id(char id[SKD_STORE_ID_LEN], const char *out)
{
	const char *p = strstr(out, "submitted request ");

	ck_assert_msg(p != NULL, "%s", out);
	memcpy(id, p + 18, SKD_STORE_ID_LEN - 1);
	id[SKD_STORE_ID_LEN - 1] = '\0';
}

/* An encrypted (EnvelopedData outer) glDelete by glo1 for gl, as a mail
 * From from; mail-in takes it.  Writes the request id. */
static void
mail_in_encrypted(char id[SKD_STORE_ID_LEN], const char *conf,
    const char *gl, const char *from, const char *mid)
{
	const char *pki = fx_need("SKD_PKI_DIR");
	const char *to[] = { "gla@example.com" };
	struct skd_mail_out o;
	unsigned char *der;
	char req[4096], mail[4096], err[256], *msg = NULL, *out = NULL;
	size_t len = 0, mlen = 0;
	int rc;

	(void)snprintf(req, sizeof(req), "%s/%s.der", skd_test_tmp, mid);
	(void)snprintf(mail, sizeof(mail), "%s/%s.eml", skd_test_tmp, mid);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' glo delete --gl '%s' "
	    "--cert '%s/glo1.crt' --key '%s/glo1.key' --encrypt --gla-cert "
	    "'%s/gla.crt' --out '%s' >/dev/null 2>&1", skd_test_bin(), gl,
	    pki, pki, pki, req), 0);
	der = skd_test_read_file(req, &len);
	ck_assert_ptr_nonnull(der);
	ck_assert_int_eq(der[0], 0x30);
	memset(&o, 0, sizeof(o));
	o.from = from;
	o.to = to;
	o.n_to = 1;
	o.message_id = mid;
	o.smime_type = "CMC-request";
	o.date = time(NULL);
	ck_assert_msg(skd_mail_build(&msg, &mlen, err, sizeof(err), &o, der,
	    len), "%s", err);
	ck_assert(skd_test_write_file(mail, msg, mlen));
	free(msg);
	free(der);
	/* The outer layer hides the signer: mail-in cannot compare From. */
	rc = skd_test_run(&out, NULL, "'%s' gla mail-in --config '%s' "
	    "--sender '%s' < '%s' 2>&1", skd_test_bin(), conf, from, mail);
	ck_assert_msg(rc == 0, "mail-in exited %d: %s", rc, out);
	mail_in_id(id, out);
	free(out);
}

/* Starts the worker with conf in the MTA's mount namespace, where
 * /usr/sbin/sendmail is that OpenSMTPD's. */
static void
worker_start(const char *conf)
{
	ck_assert_int_eq(skd_test_run(NULL, NULL, "cd '%s' && "
	    "tools/skd-mta exec '%s/mta' '%s' gla run --config '%s' "
	    ">>'%s/gla.log' 2>&1 & echo $! > '%s/worker.pid'", skd_test_top(),
	    skd_test_tmp, skd_test_bin(), conf, skd_test_tmp, skd_test_tmp),
	    0);
}

/*
 * Stops the worker worker_start started, if it still runs.  Its shell
 * has gone, so once the worker ends init reaps it and its pid is free
 * for any process, a test running beside this one included: the pid
 * file goes with the first stop, and only this test's worker is
 * signalled or waited for (tools/pid-is).
 */
static void
worker_stop(void)
{
	(void)skd_test_run(NULL, NULL, "cd '%s' && "
	    "w() { tools/pid-is \"$1\" ' gla run --config %s/gla.conf '; }; "
	    "p=$(cat '%s/worker.pid' 2>/dev/null) && rm -f '%s/worker.pid' "
	    "&& w \"$p\" && kill \"$p\" && while w \"$p\"; do sleep 0.1; "
	    "done; true", skd_test_top(), skd_test_tmp, skd_test_tmp,
	    skd_test_tmp);
}

/* The GLA configuration for the worker, with mail out by sendmail(8)
 * when mail is set, and extra lines. */
static const char *
write_gla_conf(int mail, const char *extra)
{
	const char *conf = write_conf(NULL);
	FILE *f;

	ck_assert_ptr_nonnull(f = fopen(conf, "a"));
	/* On the shared stack the catch-up would mail what the other
	 * suites wrote: only a private stack's worker catches up. */
	fprintf(f, "issuer_cert = %s/ca.crt\nissuer_key = %s/ca.key\n"
	    "poll_interval_ms = 200\n%s%s%s", fx_need("SKD_PKI_DIR"),
	    fx_need("SKD_PKI_DIR"), mail ? "mail_from = gla@example.com\n"
	    "mail_retry_seconds = 1\nmail_timeout = 10\n" : "",
	    fx.private ? "" : "mail_catch_up = no\n", extra);
	fclose(f);
	return conf;
}

static const char *
write_mail_conf(const char *extra)
{
	return write_gla_conf(1, extra);
}

START_TEST(test_mail_answers_to_signer)
{
	const char *conf;
	char gl[256], gl2[300], id[SKD_STORE_ID_LEN], cond[8192];
	char *out = NULL;
	int rc;

	ck_assert_ptr_nonnull(skd_test_stack_get());
	conf = write_mail_conf("");
	fx_mta_start(conf);
	worker_start(conf);
	(void)snprintf(gl, sizeof(gl), "URI:https://mail.example.com/signer-"
	    "%ld", (long)getpid());

	/* A request added in the directory: the answer goes by mail too,
	 * to the signer's verified address (mail_answers = all). */
	rc = skd_as(&out, "glo1", "glo create --gl '%s' --owner "
	    "email:glo1@example.com --timeout 30", gl);
	ck_assert_msg(rc == 0, "create exited %d: %s", rc, out);
	submitted_id(id, out);
	free(out);
	out = NULL;
	assert_answer_mailed(id, "glo1");
	(void)snprintf(cond, sizeof(cond), "(skdRequestId=%s)", id);
	out = gla_search(cond, "skdMailSigner");
	assert_has(out, "skdMailSigner: glo1@example.com");
	free(out);

	/* Encrypted, From not the signer's: failed, nothing applied. */
	mail_in_encrypted(id, conf, gl, "mallory@example.com",
	    "forged-enc@example.com");
	(void)snprintf(cond, sizeof(cond), "PATH=$PATH:/usr/sbin ldapsearch "
	    "-LLL -x -H '%s' -D '%s' -w '%s' -b 'skdRequestId=%s,ou=requests,"
	    "%s' skdState | grep -q 'skdState: failed'",
	    fx_need("SKD_LDAP_URI"),
	    fx_need("SKD_GLA_DN"),
	    fx_need("SKD_GLA_PW"), id,
	    fx_need("SKD_BASE_DN"));
	ck_assert_msg(wait_cond(cond), "the forged request was not failed");
	(void)snprintf(cond, sizeof(cond), "(skdRequestId=%s)", id);
	out = gla_search(cond, "skdError");
	assert_has(out, "From <mallory@example.com> is not an email address "
	    "of the request's signer; nothing applied");
	free(out);
	(void)snprintf(cond, sizeof(cond), "(&(objectClass=skdGroupList)"
	    "(skdGLName=%s))", gl);
	out = gla_search(cond, "skdGLState");
	ck_assert_msg(strstr(out, "deleted") == NULL, "%s", out);
	free(out);
	ck_assert_int_eq(maildir_count("mallory"), 0);

	(void)snprintf(cond, sizeof(cond), "(skdRequestId=%s)", id);
	out = gla_search(cond, "dn");
	ck_assert_msg(strstr(out, "ou=responses") == NULL, "%s", out);
	free(out);

	/* The same with the signer's From: applied, answered by mail. */
	mail_in_encrypted(id, conf, gl, "glo1@example.com",
	    "right-enc@example.com");
	assert_answer_mailed(id, "glo1");
	(void)snprintf(cond, sizeof(cond), "grep -lq "
	    "'In-Reply-To: <right-enc@example.com>' "
	    "'%s'/mta/maildir/glo1/new/* 2>/dev/null", skd_test_tmp);
	ck_assert_msg(wait_cond(cond), "no In-Reply-To in the answer");
	(void)snprintf(cond, sizeof(cond), "(&(objectClass=skdGroupList)"
	    "(skdGLName=%s))", gl);
	out = gla_search(cond, "skdGLState");
	assert_has(out, "deleted");
	free(out);
	/* Everything written was marked and queued: nothing left new. */
	out = gla_search("(skdMailState=new)", "1.1");
	ck_assert_msg(strstr(out, "dn:") == NULL, "%s", out);
	free(out);

	/* mail_answers = mail-origin: an answer to a directory request
	 * stays in the directory, held for a worker under "all" (the
	 * catch-up, test_mail_catch_up). */
	worker_stop();
	conf = write_mail_conf("mail_answers = mail-origin\n");
	worker_start(conf);
	(void)snprintf(gl2, sizeof(gl2), "%s-2", gl);
	rc = skd_as(&out, "glo1", "glo create --gl '%s' --owner "
	    "email:glo1@example.com --timeout 30", gl2);
	ck_assert_msg(rc == 0, "create exited %d: %s", rc, out);
	submitted_id(id, out);
	free(out);
	(void)snprintf(cond, sizeof(cond), "PATH=$PATH:/usr/sbin ldapsearch "
	    "-LLL -x -H '%s' -D '%s' -w '%s' -b 'skdRequestId=%s,ou=responses,"
	    "%s' '(skdMailState=held)' 1.1 | grep -q '^dn:'",
	    fx_need("SKD_LDAP_URI"),
	    fx_need("SKD_GLA_DN"),
	    fx_need("SKD_GLA_PW"), id,
	    fx_need("SKD_BASE_DN"));
	ck_assert_msg(wait_cond(cond), "the answer was not left unmailed");
}
END_TEST

/* mail_starttls = yes against a relay that offers no STARTTLS (the
 * private OpenSMTPD's plain listener): nothing goes in the clear. */
START_TEST(test_mail_starttls_required)
{
	const char *conf;
	char extra[512], *out = NULL, *env = NULL, *url;
	char id[SKD_STORE_ID_LEN];

	ck_assert_ptr_nonnull(skd_test_stack_get());
	conf = write_mail_conf("");
	fx_mta_start(conf);
	url = env = fx_mta_env("SKD_SMTP_URL");
	(void)snprintf(extra, sizeof(extra), "mail_relay = %s\n"
	    "mail_starttls = yes\n", url);
	conf = write_mail_conf(extra);
	mail_in_glo1(id, conf, "starttls-1@example.com");
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' gla run --once "
	    "--config '%s' 2>&1", skd_test_bin(), conf), 0);
	free(out);
	(void)snprintf(extra, sizeof(extra), "(skdRequestId=%s)", id);
	out = gla_search(extra, "skdMailState skdMailError");
	assert_has(out, "skdMailState: queued");
	assert_has(out, "skdMailError: SMTP smtp://127.0.0.1");
	free(out);
	ck_assert_int_eq(maildir_count("glo1"), 0);
	free(env);
}
END_TEST

/*
 * Submission through a relay that requires STARTTLS and AUTH: Debian's
 * Postfix (tools/skd-relay, unpacked from its package beside the
 * OpenSMTPD of tools/skd-mta, to which it relays).  The answer arrives
 * in the signer's maildir having crossed TLS (the relay's certificate
 * checked against mail_ca_file) and AUTH; with a wrong password nothing
 * is sent and the mail stays queued with the relay's reason.
 */
START_TEST(test_mail_relay_starttls_auth)
{
	const char *conf;
	char extra[8192], *out = NULL, *menv = NULL, *renv = NULL;
	char id[SKD_STORE_ID_LEN], hop[64], bad[4096];
	char url[256], user[128], pwf[1024], ca[1024], cond[4096];
	int rc;

	ck_assert_ptr_nonnull(skd_test_stack_get());
	conf = write_mail_conf("");
	fx_mta_start(conf);
	menv = fx_mta_env("SKD_SMTP_PORT");
	(void)snprintf(hop, sizeof(hop), "127.0.0.1:%s", menv);
	rc = skd_test_run(&out, NULL, "cd '%s' && tools/skd-relay start "
	    "'%s/relay' --next-hop %s 2>&1", skd_test_top(), skd_test_tmp,
	    hop);
	ck_assert_msg(rc == 0, "the Postfix relay did not start: %s", out);
	free(out);
	out = NULL;
	ck_assert_int_eq(skd_test_run(&renv, NULL, ". '%s/relay/env' && "
	    "printf '%%s %%s %%s %%s' \"$SKD_RELAY_URL\" \"$SKD_RELAY_USER\" "
	    "\"$SKD_RELAY_PASSWORD_FILE\" \"$SKD_RELAY_CA_FILE\"",
	    skd_test_tmp), 0);
	ck_assert_int_eq(sscanf(renv, "%255s %127s %1023s %1023s", url, user,
	    pwf, ca), 4);

	/* A wrong password: refused by the relay, nothing sent. */
	(void)snprintf(bad, sizeof(bad), "%s/bad.pw", skd_test_tmp);
	ck_assert(skd_test_write_file(bad, "wrong", 5));
	(void)snprintf(extra, sizeof(extra), "mail_relay = %s\n"
	    "mail_starttls = yes\nmail_ca_file = %s\nmail_user = %s\n"
	    "mail_password_file = %s\n", url, ca, user, bad);
	conf = write_mail_conf(extra);
	mail_in_glo1(id, conf, "relay-1@example.com");
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' gla run --once "
	    "--config '%s' 2>&1", skd_test_bin(), conf), 0);
	free(out);
	(void)snprintf(cond, sizeof(cond), "(skdRequestId=%s)", id);
	out = gla_search(cond, "skdMailState skdMailError");
	assert_has(out, "skdMailState: queued");
	assert_has(out, "skdMailError:");
	free(out);
	ck_assert_int_eq(maildir_count("glo1"), 0);

	/* The right password: through STARTTLS and AUTH to the maildir. */
	(void)snprintf(extra, sizeof(extra), "mail_relay = %s\n"
	    "mail_starttls = yes\nmail_ca_file = %s\nmail_user = %s\n"
	    "mail_password_file = %s\n", url, ca, user, pwf);
	conf = write_mail_conf(extra);
	/* Other tests' answers to glo1 may be due on the shared stack too:
	 * this one is told apart by its In-Reply-To. */
	(void)snprintf(cond, sizeof(cond), "'%s' gla run --once --config '%s' "
	    ">>'%s/once.log' 2>&1 && sleep 0.3 && grep -lq "
	    "'In-Reply-To: <relay-1@example.com>' '%s'/mta/maildir/glo1/new/* "
	    "2>/dev/null", skd_test_bin(), conf, skd_test_tmp, skd_test_tmp);
	if (!wait_cond(cond)) {
		char *log = NULL;

		(void)skd_test_run(&log, NULL, "cat '%s/once.log'",
		    skd_test_tmp);
		ck_assert_msg(0, "no answer through the relay; worker: %s",
		    log);
	}
	(void)snprintf(cond, sizeof(cond), "(skdRequestId=%s)", id);
	out = gla_search(cond, "skdMailState");
	assert_has(out, "skdMailState: sent");
	free(out);
	/* Postfix saw TLS and the SASL login. */
	out = NULL;
	ck_assert_int_eq(skd_test_run(&out, NULL, "cat '%s/relay/maillog'",
	    skd_test_tmp), 0);
	assert_has(out, "sasl_username=gla@relay.test");
	assert_has(out, "starttls=1");
	free(out);
	free(menv);
	free(renv);
}
END_TEST

/* ---- a GL's mail policy; the catch-up ---------------------------------- */

/* How many entries the GLA's search for filter finds. */
static int
gla_count(const char *filter)
{
	char *out = gla_search(filter, "1.1");
	int n = count_of(out, "dn: ");

	free(out);
	return n;
}

/* A shell condition: the GLA's search for filter finds cmp n entries
 * (cmp: -eq, -ge). */
static void
count_cond(char *cond, size_t len, const char *filter, const char *cmp,
    int n)
{
	(void)snprintf(cond, len, "[ \"$(PATH=$PATH:/usr/sbin ldapsearch -LLL "
	    "-x -H '%s' -D '%s' -w '%s' -b '%s' '%s' 1.1 | grep -c '^dn: ')\" "
	    "%s %d ]", fx_need("SKD_LDAP_URI"), fx_need("SKD_GLA_DN"),
	    fx_need("SKD_GLA_PW"), fx_need("SKD_BASE_DN"), filter, cmp, n);
}

/* Waits until the GLA's search for filter finds cmp n entries. */
static void
wait_count(const char *filter, const char *cmp, int n)
{
	char cond[8192];

	count_cond(cond, sizeof(cond), filter, cmp, n);
	ck_assert_msg(wait_cond(cond), "not %s %d entries: %s (%d)", cmp, n,
	    filter, gla_count(filter));
}

/* Waits until who's maildir holds at least n distinct mails. */
static void
wait_maildir(const char *who, int n)
{
	char cond[4096];

	(void)snprintf(cond, sizeof(cond), "[ \"$(cat '%s/mta/maildir/%s'/new/* "
	    "'%s/mta/maildir/%s'/cur/* 2>/dev/null | grep -i '^Message-ID:' | "
	    "sort -u | wc -l)\" -ge %d ]", skd_test_tmp, who, skd_test_tmp, who,
	    n);
	if (!wait_cond(cond))
		assert_maildir(who, n);
}

/* An ldapsearch bound as person who (ALICE, ...) under ou=groups. */
static char *
as_search(const char *who, const char *filter, const char *attrs)
{
	char dn[64], pw[64], *out = NULL;

	(void)snprintf(dn, sizeof(dn), "SKD_%s_DN", who);
	(void)snprintf(pw, sizeof(pw), "SKD_%s_PW", who);
	(void)skd_test_run(&out, NULL, "PATH=$PATH:/usr/sbin ldapsearch -LLL "
	    "-o ldif-wrap=no -x -H '%s' -D '%s' -w '%s' -b 'ou=groups,%s' "
	    "'%s' %s 2>&1", fx_need("SKD_LDAP_URI"), fx_need(dn), fx_need(pw),
	    fx_need("SKD_BASE_DN"), filter, attrs);
	ck_assert_ptr_nonnull(out);
	return out;
}

/* skd gla mail-policy for gl. */
static void
set_policy(const char *conf, const char *gl, const char *policy)
{
	char *out = NULL;
	int rc;

	rc = skd_test_run(&out, NULL, "'%s' gla mail-policy --config '%s' "
	    "--gl '%s' %s 2>&1", skd_test_bin(), conf, gl, policy);
	ck_assert_msg(rc == 0, "mail-policy exited %d: %s", rc, out);
	free(out);
}

/* glo1 adds (or removes) email:who@example.com to gl, by the directory. */
static void
glo_member(const char *gl, const char *who, int add)
{
	char *out = NULL;
	int rc;

	if (add)
		rc = skd_as(&out, "glo1", "glo add-member --gl '%s' --member "
		    "email:%s@example.com --member-cert '%s/%s.crt' --timeout "
		    "30", gl, who, fx_need("SKD_PKI_DIR"), who);
	else
		rc = skd_as(&out, "glo1", "glo remove-member --gl '%s' "
		    "--member email:%s@example.com --timeout 30", gl, who);
	ck_assert_msg(rc == 0, "%s-member %s exited %d: %s", add ? "add" :
	    "remove", who, rc, out);
	free(out);
}

/* glo1 creates the closed list gl, by the directory. */
static void
glo_create(const char *gl)
{
	char *out = NULL;
	int rc;

	rc = skd_as(&out, "glo1", "glo create --gl '%s' --owner "
	    "email:glo1@example.com --admin closed --timeout 30", gl);
	ck_assert_msg(rc == 0, "create exited %d: %s", rc, out);
	free(out);
}

/* A private stack with its MTA and a worker that mails (with keygen: and
 * acts as the keygen CA, docs/keygen.md); returns its configuration. */
static const char *
mail_stack(int keygen)
{
	const char *conf, *pki;
	char extra[2048];

	fx_private_stack();
	pki = fx_need("SKD_PKI_DIR");
	(void)snprintf(extra, sizeof(extra), "keygen_ca_cert = %s/ca.crt\n"
	    "keygen_ca_key = %s/ca.key\nkeygen_days = 30\n"
	    "keygen_recovery_cert = %s/gla.crt\n"
	    "keygen_recovery_key = %s/gla.key\n"
	    "keygen_recovery_officers = %s/bob.crt\n", pki, pki, pki, pki,
	    pki);
	conf = write_mail_conf(keygen ? extra : "");
	fx_mta_start(conf);
	worker_start(conf);
	return conf;
}

/* mail_stack(0), and glo1's closed list gl under mail policy. */
static const char *
mail_gl(const char *gl, const char *policy)
{
	const char *conf = mail_stack(0);

	glo_create(gl);
	set_policy(conf, gl, policy);
	return conf;
}

/* The glKey entries of gl for recipient name (their filter in f): each
 * mailed, and who's maildir holds each once; returns how many. */
static int
glkeys_mailed(char *f, size_t f_len, const char *gl, const char *name,
    const char *who)
{
	char f2[1200];
	int n;

	(void)snprintf(f, f_len, "(&(objectClass=skdGLKey)(skdGLName=%s)"
	    "(skdRecipientName=%s))", gl, name);
	(void)snprintf(f2, sizeof(f2), "(&%s(!(skdMailState=sent)))", f);
	wait_count(f, "-ge", 1);
	wait_count(f2, "-eq", 0);
	n = gla_count(f);
	wait_maildir(who, n);
	assert_maildir(who, n);
	return n;
}

/*
 * A GL whose mail policy is "mail": its members receive their glKeys by
 * mail only.  Their glKey entries name them in skdMailRecipientDN, not
 * skdRecipientDN: read as the member, the directory shows the entries'
 * names and dates but no message, and skd member fetch says the key
 * comes by mail; from the maildir the key opens and is acknowledged by
 * mail.  A change of policy holds for the next key: "both" (after a
 * removal's rekey) lets the member read the new key in the directory,
 * "directory" sends no mail for the one after.
 */
START_TEST(test_mail_policy_mail_only)
{
	const char *conf, *alice_dn;
	char gl[128], f[1024], f2[1200], *out = NULL, *url = NULL;
	int rc, n;

	(void)snprintf(gl, sizeof(gl), "URI:https://mail.example.com/policy");
	conf = mail_gl(gl, "mail");
	alice_dn = fx_need("SKD_ALICE_DN");
	glo_member(gl, "alice", 1);
	glo_member(gl, "bob", 1);
	glo_member(gl, "carol", 1);

	/* alice's glKey entries: mailed, each once; her DN withheld. */
	n = glkeys_mailed(f, sizeof(f), gl, "email:alice@example.com",
	    "alice");
	(void)snprintf(f2, sizeof(f2), "(&%s(skdMailRecipientDN=%s))", f,
	    alice_dn);
	ck_assert_int_eq(gla_count(f2), n);
	(void)snprintf(f2, sizeof(f2), "(&(objectClass=skdGLKey)"
	    "(skdGLName=%s)(skdRecipientDN=%s))", gl, alice_dn);
	ck_assert_int_eq(gla_count(f2), 0);

	/* Read as alice: the entries are there, their messages are not. */
	out = as_search("ALICE", f, "skdKeyId skdMessage skdRecipientName");
	ck_assert_int_eq(count_of(out, "skdKeyId: "), n);
	ck_assert_msg(strstr(out, "skdMessage") == NULL, "%s", out);
	free(out);
	/* Read as dave, no member: nothing at all. */
	out = as_search("DAVE", f, "skdKeyId");
	ck_assert_msg(strstr(out, "dn: ") == NULL, "%s", out);
	free(out);
	out = NULL;
	rc = skd_as(&out, "alice", "member fetch --gl '%s' --keystore "
	    "'%s/alice.keys' --timeout 20", gl, skd_test_tmp);
	ck_assert_msg(rc != 0, "a directory fetch stored a key: %s", out);
	assert_has(out, "by mail only");
	ck_assert_int_eq(count_of(out, "stored key "), 0);
	free(out);
	out = NULL;

	/* From her maildir: stored, acknowledged by mail (RFC 5275 5.1
	 * 2.c), the acknowledgement recorded on her member entry. */
	url = fx_mta_env("SKD_SMTP_URL");
	rc = skd_as(&out, "alice", "member fetch --gl '%s' --keystore "
	    "'%s/alice.keys' --mail '%s/mta/maildir/alice' --mail-to "
	    "gla@example.com --smtp '%s'", gl, skd_test_tmp, skd_test_tmp,
	    url);
	ck_assert_msg(rc == 0, "fetch --mail exited %d: %s", rc, out);
	ck_assert_int_eq(count_of(out, "stored key "), n);
	free(out);
	out = NULL;
	(void)snprintf(f2, sizeof(f2), "(&(objectClass=skdGLMember)"
	    "(skdMemberName=email:alice@example.com)(skdAckKeyId=*))");
	wait_count(f2, "-ge", 1);

	/* "both", then bob's removal rekeys: the next key is alice's to
	 * read in the directory as well; the old entries stay as they
	 * were. */
	set_policy(conf, gl, "both");
	glo_member(gl, "bob", 0);
	(void)snprintf(f2, sizeof(f2), "(&%s(skdRecipientDN=%s))", f,
	    alice_dn);
	wait_count(f2, "-ge", 1);
	(void)snprintf(f2, sizeof(f2), "(&%s(skdMailRecipientDN=%s))", f,
	    alice_dn);
	ck_assert_int_eq(gla_count(f2), n);
	rc = skd_as(&out, "alice", "member fetch --gl '%s' --keystore "
	    "'%s/alice.keys' --no-ack --timeout 20", gl, skd_test_tmp);
	ck_assert_msg(rc == 0, "directory fetch exited %d: %s", rc, out);
	ck_assert_int_ge(count_of(out, "stored key "), 1);
	free(out);
	out = NULL;

	/* "directory", then carol's removal rekeys: no mail for that key
	 * (skdMailState none), alice reads it in the directory. */
	set_policy(conf, gl, "directory");
	glo_member(gl, "carol", 0);
	(void)snprintf(f2, sizeof(f2), "(&%s(skdMailState=none))", f);
	wait_count(f2, "-ge", 1);
	(void)snprintf(f2, sizeof(f2), "(&%s(skdMailState=none)"
	    "(skdRecipientDN=%s))", f, alice_dn);
	ck_assert_int_ge(gla_count(f2), 1);
	rc = skd_as(&out, "alice", "member fetch --gl '%s' --keystore "
	    "'%s/alice.keys' --no-ack --timeout 20", gl, skd_test_tmp);
	ck_assert_msg(rc == 0, "directory fetch exited %d: %s", rc, out);
	ck_assert_int_ge(count_of(out, "stored key "), 1);
	free(out);
	free(url);
}
END_TEST

/*
 * Issue 16: a member named by a dirName with no glMemberAddress is
 * reached at the rfc822Name of its certificate (the one the GLA verified
 * when it added the member): dave's glKey comes to his maildir, opens
 * with skd member fetch --mail, and is stored; under the GL's policy
 * "mail" by mail only (skdMailRecipientDN).  Without the fallback mail
 * out finds no address (skdMailState none) and dave's maildir stays
 * empty.
 */
START_TEST(test_mail_member_cert_address)
{
	char gl[128], f[1024], f2[1200], *out = NULL;
	int rc, n;

	(void)snprintf(gl, sizeof(gl), "URI:https://mail.example.com/cert");
	(void)mail_gl(gl, "mail");
	rc = skd_as(&out, "glo1", "glo add-member --gl '%s' --member "
	    "'dirName:CN=dave,O=skd demo,C=US' --member-cert '%s/dave.crt' "
	    "--timeout 30", gl, fx_need("SKD_PKI_DIR"));
	ck_assert_msg(rc == 0, "add-member exited %d: %s", rc, out);
	free(out);
	out = NULL;

	n = glkeys_mailed(f, sizeof(f), gl, "dirName:CN=dave,O=skd demo,C=US",
	    "dave");
	/* Policy "mail": the engine knows the address too, the key goes
	 * to dave by mail only. */
	(void)snprintf(f2, sizeof(f2), "(&%s(skdMailRecipientDN=%s))", f,
	    fx_need("SKD_DAVE_DN"));
	ck_assert_int_eq(gla_count(f2), n);
	ck_assert_int_eq(gla_count("(&(objectClass=skdGLMember)"
	    "(skdMemberName=dirName:CN=dave,O=skd demo,C=US)"
	    "(skdMemberAddress=*))"), 0);
	rc = skd_as(&out, "dave", "member fetch --gl '%s' --keystore "
	    "'%s/dave.keys' --mail '%s/mta/maildir/dave' --no-ack", gl,
	    skd_test_tmp, skd_test_tmp);
	ck_assert_msg(rc == 0, "fetch --mail exited %d: %s", rc, out);
	ck_assert_int_eq(count_of(out, "stored key "), n);
	free(out);
}
END_TEST

/*
 * Issue 17 by mail (RFC 5275 7, draft 2.4): erin signs a key generation
 * request shrouded for her certificate and mails it to the GLA through
 * the MTA; the GLA answers by mail to the verified signer; skd keygen
 * --mail finds the answer in her maildir, verifies it, opens the shroud
 * and writes the key and certificate, which match (openssl) and chain to
 * the CA (openssl verify).
 */
START_TEST(test_mail_keygen)
{
	char *out = NULL, *url = NULL;
	int rc;

	(void)mail_stack(1);
	url = fx_mta_env("SKD_SMTP_URL");
	rc = skd_as(&out, "erin", "keygen --type p256 --shroud cert "
	    "--out '%s/new.key' "
	    "--out-cert '%s/new.crt' --request-out '%s/kg.req' --mail-to "
	    "gla@example.com --smtp '%s'", skd_test_tmp, skd_test_tmp,
	    skd_test_tmp, url);
	ck_assert_msg(rc == 0, "keygen --mail-to exited %d: %s", rc, out);
	assert_has(out, "mailed to gla@example.com");
	free(out);
	out = NULL;
	wait_maildir("erin", 1);
	rc = skd_as(&out, "erin", "keygen --type p256 --shroud cert "
	    "--out '%s/new.key' --out-cert '%s/new.crt' --request '%s/kg.req' "
	    "--mail '%s/mta/maildir/erin'", skd_test_tmp, skd_test_tmp,
	    skd_test_tmp, skd_test_tmp);
	ck_assert_msg(rc == 0, "keygen --mail exited %d: %s", rc, out);
	assert_has(out, "issued ");
	free(out);
	out = run_ok("cd '%s' && openssl x509 -in new.crt -pubkey -noout "
	    "> pub.pem && openssl pkey -in new.key -pubout | cmp - pub.pem && "
	    "openssl verify -CAfile '%s/ca.crt' new.crt && openssl x509 -in "
	    "new.crt -noout -subject", skd_test_tmp, fx_need("SKD_PKI_DIR"));
	assert_has(out, "new.crt: OK");
	assert_has(out, "CN = erin");
	free(out);
	free(url);
}
END_TEST

/* One pass of the worker (gla run --once) in the MTA's mount namespace;
 * returns its output. */
static char *
worker_once(const char *conf)
{
	return run_ok("tools/skd-mta exec '%s/mta' '%s' gla run --once "
	    "--config '%s'", skd_test_tmp, skd_test_bin(), conf);
}

/*
 * The catch-up: what was written while no worker mailed (a member's
 * glKeys, the answer to a request that came by mail) and an answer a
 * mail-origin worker held are mailed once a worker starts with mail
 * (mail_answers = all), each once: a second pass sends nothing again.
 * mail_catch_up = no leaves them.
 */
START_TEST(test_mail_catch_up)
{
	const char *conf;
	char gl[128], f[1024], fb[1024], id[SKD_STORE_ID_LEN];
	char cond[4096], *out = NULL;
	int rc, n, nb;

	fx_private_stack();
	(void)snprintf(gl, sizeof(gl), "URI:https://mail.example.com/catch-up");
	(void)snprintf(f, sizeof(f), "(&(objectClass=skdGLKey)(skdGLName=%s)"
	    "(skdRecipientName=email:alice@example.com))", gl);
	(void)snprintf(fb, sizeof(fb), "(&(objectClass=skdGLKey)(skdGLName=%s)"
	    "(skdRecipientName=email:bob@example.com))", gl);

	/* Mail off: alice's glKeys and the answer to a mail request are
	 * written with no send state. */
	conf = write_gla_conf(0, "");
	fx_mta_start(conf);
	worker_start(conf);
	glo_create(gl);
	glo_member(gl, "alice", 1);
	mail_in_glo1(id, conf, "catch-up-1@example.com");
	(void)snprintf(cond, sizeof(cond), "(&(objectClass=skdResponse)"
	    "(skdRequestId=%s))", id);
	wait_count(cond, "-eq", 1);
	worker_stop();
	n = gla_count(f);
	ck_assert_int_ge(n, 1);
	ck_assert_int_eq(gla_count("(objectClass=skdMailOut)"), 0);

	/* Mail on under mail-origin, no catch-up: bob's glKey goes, the
	 * answer to glo1's directory request is held, the rest waits. */
	conf = write_mail_conf("mail_answers = mail-origin\n"
	    "mail_catch_up = no\n");
	worker_start(conf);
	glo_member(gl, "bob", 1);
	wait_count("(skdMailState=held)", "-eq", 1);
	(void)snprintf(cond, sizeof(cond), "(&%s(skdMailState=sent))", fb);
	wait_count(cond, "-ge", 1);
	nb = gla_count(fb);
	wait_maildir("bob", nb);
	worker_stop();
	ck_assert_int_eq(maildir_count("alice"), 0);
	ck_assert_int_eq(maildir_count("glo1"), 0);
	(void)snprintf(cond, sizeof(cond), "(&%s(!(objectClass=skdMailOut)))",
	    f);
	ck_assert_int_eq(gla_count(cond), n);
	rc = skd_test_run(&out, NULL, "'%s' status --config '%s' 2>&1",
	    skd_test_bin(), conf);
	ck_assert_msg(rc == 0, "status exited %d: %s", rc, out);
	assert_has(out, "mail held (mail_answers = mail-origin): 1");
	free(out);
	out = NULL;
	rc = skd_test_run(&out, NULL, "'%s' status --json --config '%s' 2>&1",
	    skd_test_bin(), conf);
	ck_assert_msg(rc == 0, "status --json exited %d: %s", rc, out);
	assert_has(out, "\"mail\":{\"queued\":0,\"queuedMore\":false,"
	    "\"held\":1,\"heldMore\":false,\"failed\":0,");
	free(out);

	/* Mail on, every answer: one pass catches up and sends it all. */
	conf = write_mail_conf("");
	out = worker_once(conf);
	free(out);
	ck_assert_int_eq(gla_count("(|(skdMailState=new)(skdMailState=queued)"
	    "(skdMailState=held)(skdMailState=failed))"), 0);
	(void)snprintf(cond, sizeof(cond), "(&%s(skdMailState=sent))", f);
	ck_assert_int_eq(gla_count(cond), n);
	wait_maildir("alice", n);
	/* The answer to the mail request (to its From, In-Reply-To its
	 * Message-ID) and the held one (to the verified signer). */
	wait_maildir("glo1", 2);
	(void)snprintf(cond, sizeof(cond), "grep -lqi "
	    "'^In-Reply-To: <catch-up-1@example.com>' "
	    "'%s'/mta/maildir/glo1/new/*", skd_test_tmp);
	ck_assert_msg(skd_test_run(NULL, NULL, "%s", cond) == 0,
	    "no answer to the mail request");

	/* Once: a second pass (a restart) sends nothing again. */
	out = worker_once(conf);
	free(out);
	ck_assert_int_eq(gla_count("(&(objectClass=skdMailOut)"
	    "(skdMailState=sent)(!(skdMailAttempts=1)))"), 0);
	assert_maildir("alice", n);
	assert_maildir("glo1", 2);
	assert_maildir("bob", nb);
}
END_TEST

Suite *
skd_suite_mail_e2e(void)
{
	Suite *s = suite_create("mail_e2e");
	TCase *tc = tcase_create("mail-in");
	TCase *te = tcase_create("over mail");
	TCase *tw = tcase_create("answers");

	tcase_add_unchecked_fixture(tc, setup_stack, NULL);
	tcase_add_checked_fixture(tc, skd_test_tmp_setup,
	    skd_test_tmp_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_mail_in_redelivery);
	suite_add_tcase(s, tc);
	tcase_add_unchecked_fixture(tw, fx_reap_setup, fx_reap);
	tcase_add_checked_fixture(tw, skd_test_tmp_setup, fx_teardown);
	tcase_set_timeout(tw, 180);
	tcase_add_test(tw, test_mail_answers_to_signer);
	tcase_add_test(tw, test_mail_starttls_required);
	tcase_add_test(tw, test_mail_relay_starttls_auth);
	tcase_add_test(tw, test_mail_policy_mail_only);
	tcase_add_test(tw, test_mail_member_cert_address);
	tcase_add_test(tw, test_mail_keygen);
	tcase_add_test(tw, test_mail_catch_up);
	suite_add_tcase(s, tw);
	tcase_set_timeout(te, 300);
	tcase_add_test(te, test_mail_main_job_and_hostile);
	tcase_add_test(te, test_mail_worker_killed);
	suite_add_tcase(s, te);
	return s;
}
