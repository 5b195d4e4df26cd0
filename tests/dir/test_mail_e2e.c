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
 *     answer and glKey delivered, each Message-ID once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "mail/skd_mail.h"
#include "skd_test.h"
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

/* A GLA configuration for the test stack in skd_test_tmp; ldap_uri
 * overrides the stack's.  Returns its path (static). */
static const char *
write_conf(const char *ldap_uri)
{
	static char conf[4096];
	char pw[4096], *text = NULL;
	const char *pki = skd_test_stack_need("SKD_PKI_DIR");

	(void)snprintf(pw, sizeof(pw), "%s/gla.pw", skd_test_tmp);
	ck_assert(skd_test_write_file(pw, skd_test_stack_need("SKD_GLA_PW"),
	    strlen(skd_test_stack_need("SKD_GLA_PW"))));
	ck_assert_int_gt(asprintf(&text, "ldap_uri = %s\nbind = simple\n"
	    "bind_dn = %s\nbind_password_file = %s\nbase_dn = %s\n"
	    "gla_cert = %s/gla.crt\ngla_key = %s/gla.key\n"
	    "ca_file = %s/ca.crt\n", ldap_uri != NULL ? ldap_uri :
	    skd_test_stack_need("SKD_LDAP_URI"),
	    skd_test_stack_need("SKD_GLA_DN"), pw,
	    skd_test_stack_need("SKD_BASE_DN"), pki, pki, pki), 0);
	(void)snprintf(conf, sizeof(conf), "%s/gla.conf", skd_test_tmp);
	ck_assert(skd_test_write_file(conf, text, strlen(text)));
	free(text);
	return conf;
}

/* A mail carrying a request signed by glo1, with Message-ID mid. */
static void
write_mail(const char *path, const char *mid)
{
	const char *pki = skd_test_stack_need("SKD_PKI_DIR");
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

/* Runs tools/demo-mail with env settings; returns its output. */
static char *
demo_mail(const char *env)
{
	char *out = NULL;
	int rc;

	rc = skd_test_run(&out, NULL, "cd '%s' && %s SKD_BIN='%s' "
	    "tools/demo-mail 2>&1", skd_test_top(), env, skd_test_bin());
	ck_assert_msg(rc == 0, "demo-mail exited %d:\n...%s", rc,
	    out != NULL && strlen(out) > 3000 ? out + strlen(out) - 3000 :
	    out);
	return out;
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

Suite *
skd_suite_mail_e2e(void)
{
	Suite *s = suite_create("mail_e2e");
	TCase *tc = tcase_create("mail-in");
	TCase *te = tcase_create("over mail");

	tcase_add_unchecked_fixture(tc, setup_stack, NULL);
	tcase_add_checked_fixture(tc, skd_test_tmp_setup,
	    skd_test_tmp_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_mail_in_redelivery);
	suite_add_tcase(s, tc);
	tcase_set_timeout(te, 300);
	tcase_add_test(te, test_mail_main_job_and_hostile);
	tcase_add_test(te, test_mail_worker_killed);
	suite_add_tcase(s, te);
	return s;
}
