/*
 * test_cli_dir.c: the skd command line against a real slapd as the users
 * of OpenLDAP's tools expect it (no GLA runs): -H/-D/-y/-ZZ/-Y, ldap.conf's
 * environment (LDAPURI, LDAPBASE, LDAPTLS_CACERT), a password on standard
 * input; errors that keep the directory's reason (invalid credentials
 * with its result code, a missing password, an unreachable server named
 * and failing fast, TLS); requests looked up, read and withdrawn by id;
 * Ctrl-C while waiting; --json error objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/skd_store.h"
#include "skd_test.h"
#include "support/stack.h"

#define GL	"URI:https://gla.example.com/"

static void
setup_stack(void)
{
	(void)skd_test_stack_get();
}

static const char *
env(const char *k)
{
	return skd_test_stack_need(k);
}

/* alice's password in <dir>/alice.pw */
static const char *
alice_pw_file(void)
{
	static char p[512];
	char line[256];

	snprintf(p, sizeof(p), "%s/alice.pw", skd_test_stack_dir());
	snprintf(line, sizeof(line), "%s\n", env("SKD_ALICE_PW"));
	ck_assert_int_eq(skd_test_write_file(p, line, strlen(line)), 1);
	return p;
}

/* "skd member join" as alice with the identity options; the directory
 * options are in diropts; no GLA answers, so it times out after 1 s. */
static int
join(char **out, const char *prefix, const char *diropts)
{
	const char *pki = env("SKD_PKI_DIR");

	return skd_test_run(out, NULL, "%s '%s' member join %s --cert "
	    "'%s/alice.crt' --key '%s/alice.key' --CAfile '%s/ca.crt' --gl %s "
	    "--timeout 1 2>&1", prefix, skd_test_bin(), diropts, pki, pki, pki,
	    GL);
}

static int
request_id(char out[SKD_STORE_ID_LEN], const char *text)
{
	const char *p = strstr(text, "submitted request ");

	if (p == NULL || strlen(p + 18) < SKD_STORE_ID_LEN - 1)
		return 0;
	memcpy(out, p + 18, SKD_STORE_ID_LEN - 1);
	out[SKD_STORE_ID_LEN - 1] = '\0';
	return 1;
}

START_TEST(test_openldap_options)
{
	char *out = NULL, opts[2048], id[SKD_STORE_ID_LEN];
	const char *pw = alice_pw_file();

	ck_assert_ptr_nonnull(skd_test_stack_get());
	/* -H -b -D -y, as ldapsearch takes them */
	snprintf(opts, sizeof(opts), "-H '%s' -b '%s' -D '%s' -y '%s'",
	    env("SKD_LDAP_URI"), env("SKD_BASE_DN"), env("SKD_ALICE_DN"), pw);
	ck_assert_int_eq(join(&out, "", opts), 5);
	ck_assert_msg(request_id(id, out) && strstr(out, "stays pending"),
	    "%s", out);
	free(out);
	/* the password on standard input (-y -) */
	snprintf(opts, sizeof(opts), "--uri '%s' --base '%s' --bind-dn '%s' "
	    "--password-file - < '%s'", env("SKD_LDAP_URI"),
	    env("SKD_BASE_DN"), env("SKD_ALICE_DN"), pw);
	ck_assert_int_eq(join(&out, "", opts), 5);
	ck_assert_msg(request_id(id, out), "%s", out);
	free(out);
	/* LDAPURI and LDAPBASE (the suffix; skd's base is ou=skd under
	 * it), as ldap.conf's URI and BASE would say; -ZZ with
	 * LDAPTLS_CACERT: StartTLS verified against the test CA. */
	snprintf(opts, sizeof(opts), "-ZZ -D '%s' -y '%s'",
	    env("SKD_ALICE_DN"), pw);
	{
		char prefix[2048];
		const char *base = strchr(env("SKD_BASE_DN"), ',');

		ck_assert_ptr_nonnull(base);
		snprintf(prefix, sizeof(prefix), "LDAPURI='%s' LDAPBASE='%s' "
		    "LDAPTLS_CACERT='%s'", env("SKD_LDAP_URI"), base + 1,
		    env("SKD_TLS_CA_FILE"));
		ck_assert_int_eq(join(&out, prefix, opts), 5);
		ck_assert_msg(request_id(id, out), "%s", out);
		free(out);
		/* a CA that does not verify the server: TLS is named */
		snprintf(prefix, sizeof(prefix), "LDAPURI='%s' LDAPBASE='%s' "
		    "LDAPTLS_CACERT='%s/bob.crt'", env("SKD_LDAP_URI"),
		    base + 1, env("SKD_PKI_DIR"));
		ck_assert_int_eq(join(&out, prefix, opts), 5);
		ck_assert_msg(strstr(out, "TLS") != NULL &&
		    strstr(out, "submitted") == NULL, "%s", out);
		free(out);
	}
	/* -Y: only EXTERNAL */
	snprintf(opts, sizeof(opts), "-H '%s' -Y DIGEST-MD5",
	    env("SKD_LDAP_URI"));
	ck_assert_int_eq(join(&out, "", opts), 2);
	ck_assert_msg(strstr(out, "only SASL EXTERNAL") != NULL, "%s", out);
	free(out);
}
END_TEST

START_TEST(test_directory_errors)
{
	char *out = NULL, opts[2048], pw[512];
	struct timespec t0, t1;

	ck_assert_ptr_nonnull(skd_test_stack_get());
	snprintf(pw, sizeof(pw), "%s/wrong.pw", skd_test_stack_dir());
	ck_assert_int_eq(skd_test_write_file(pw, "wrong\n", 6), 1);
	/* invalid credentials: libldap's text and the result code */
	snprintf(opts, sizeof(opts), "-H '%s' -D '%s' -y '%s'",
	    env("SKD_LDAP_URI"), env("SKD_ALICE_DN"), pw);
	ck_assert_int_eq(join(&out, "", opts), 5);
	ck_assert_msg(strstr(out, "Invalid credentials") != NULL &&
	    strstr(out, "LDAP result 49") != NULL, "%s", out);
	free(out);
	/* a bind DN without a password says so */
	snprintf(opts, sizeof(opts), "-H '%s' -D '%s'", env("SKD_LDAP_URI"),
	    env("SKD_ALICE_DN"));
	ck_assert_int_eq(join(&out, "", opts), 2);
	ck_assert_msg(strstr(out, "no password") != NULL, "%s", out);
	free(out);
	/* an unreachable server: named, and at once */
	snprintf(opts, sizeof(opts), "-H ldap://127.0.0.1:1 -D '%s' -y '%s'",
	    env("SKD_ALICE_DN"), alice_pw_file());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(join(&out, "", opts), 5);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_msg(strstr(out, "ldap://127.0.0.1:1") != NULL &&
	    strstr(out, "Can't contact LDAP server") != NULL, "%s", out);
	ck_assert_msg(t1.tv_sec - t0.tv_sec < 4, "took %lds",
	    (long)(t1.tv_sec - t0.tv_sec));
	free(out);
	/* --json: an error object on standard output, non-zero exit */
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' request show --id x "
	    "-H ldap://127.0.0.1:1 -D cn=x -y '%s' --json 2>/dev/null",
	    skd_test_bin(), pw), 5);
	ck_assert_msg(strncmp(out, "{\"error\": {", 11) == 0 ||
	    strncmp(out, "{\"error\":{", 10) == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "127.0.0.1:1"));
	free(out);
}
END_TEST

START_TEST(test_request_cancel)
{
	char *out = NULL, opts[2048], bobopts[2048], id[SKD_STORE_ID_LEN];
	char id2[SKD_STORE_ID_LEN];
	struct skd_store *s;

	ck_assert_ptr_nonnull(skd_test_stack_get());
	snprintf(opts, sizeof(opts), "-H '%s' -b '%s' -D '%s' -y '%s'",
	    env("SKD_LDAP_URI"), env("SKD_BASE_DN"), env("SKD_ALICE_DN"),
	    alice_pw_file());
	ck_assert_int_eq(join(&out, "", opts), 5);
	ck_assert_msg(request_id(id, out), "%s", out);
	free(out);
	/* looked up: pending, no answer yet */
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' request show --id %s "
	    "%s", skd_test_bin(), id, opts), 0);
	ck_assert_msg(strstr(out, "pending") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' response --id %s "
	    "--CAfile '%s/ca.crt' %s 2>&1", skd_test_bin(), id,
	    env("SKD_PKI_DIR"), opts), 5);
	ck_assert_msg(strstr(out, "no response to request") != NULL, "%s",
	    out);
	free(out);
	/* somebody else cannot withdraw it */
	{
		char bpw[512], line[256];

		snprintf(bpw, sizeof(bpw), "%s/bob.pw", skd_test_stack_dir());
		snprintf(line, sizeof(line), "%s\n", env("SKD_BOB_PW"));
		ck_assert_int_eq(skd_test_write_file(bpw, line,
		    strlen(line)), 1);
		snprintf(bobopts, sizeof(bobopts), "-H '%s' -b '%s' -D '%s' "
		    "-y '%s'", env("SKD_LDAP_URI"), env("SKD_BASE_DN"),
		    env("SKD_BOB_DN"), bpw);
	}
	ck_assert_int_ne(skd_test_run(&out, NULL, "'%s' request cancel --id "
	    "%s %s 2>&1", skd_test_bin(), id, bobopts), 0);
	free(out);
	/* its submitter can, while it is pending */
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' request cancel --id "
	    "%s %s 2>&1", skd_test_bin(), id, opts), 0);
	ck_assert_msg(strstr(out, "withdrawn") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' request cancel --id "
	    "%s %s 2>&1", skd_test_bin(), id, opts), 3);
	ck_assert_msg(strstr(out, "no request") != NULL, "%s", out);
	free(out);
	/* once the GLA has claimed it, no more */
	ck_assert_int_eq(join(&out, "", opts), 5);
	ck_assert_msg(request_id(id2, out), "%s", out);
	free(out);
	s = skd_store_open(NULL, env("SKD_LDAP_URI"), env("SKD_BASE_DN"),
	    SKD_STORE_BIND_SIMPLE, env("SKD_GLA_DN"), env("SKD_GLA_PW"));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(skd_store_claim_request(s, id2, "test-worker",
	    time(NULL) + 600), 1);
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' request cancel --id "
	    "%s %s 2>&1", skd_test_bin(), id2, opts), 1);
	ck_assert_msg(strstr(out, "can no longer be withdrawn") != NULL,
	    "%s", out);
	free(out);
	ck_assert_int_eq(skd_store_delete_request(s, id2), 1);
	skd_store_close(s);
}
END_TEST

START_TEST(test_interrupted)
{
	char *out = NULL, opts[2048];
	const char *pki = env("SKD_PKI_DIR");

	ck_assert_ptr_nonnull(skd_test_stack_get());
	snprintf(opts, sizeof(opts), "-H '%s' -b '%s' -D '%s' -y '%s'",
	    env("SKD_LDAP_URI"), env("SKD_BASE_DN"), env("SKD_ALICE_DN"),
	    alice_pw_file());
	/* Ctrl-C while waiting: the client says what became of it. */
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' member join %s "
	    "--cert '%s/alice.crt' --key '%s/alice.key' --CAfile '%s/ca.crt' "
	    "--gl %s --timeout 30 2>&1 & p=$!; sleep 1; kill -INT $p; "
	    "wait $p; echo rc=$?", skd_test_bin(), opts, pki, pki, pki, GL),
	    0);
	ck_assert_msg(strstr(out, "interrupted: request") != NULL &&
	    strstr(out, "skd request cancel --id") != NULL &&
	    strstr(out, "rc=130") != NULL, "%s", out);
	free(out);
}
END_TEST

Suite *
skd_suite_cli_dir(void)
{
	Suite *s = suite_create("cli_dir");
	TCase *tc;

	tc = tcase_create("directory");
	tcase_add_unchecked_fixture(tc, setup_stack, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_openldap_options);
	tcase_add_test(tc, test_directory_errors);
	tcase_add_test(tc, test_request_cancel);
	tcase_add_test(tc, test_interrupted);
	suite_add_tcase(s, tc);
	return s;
}
