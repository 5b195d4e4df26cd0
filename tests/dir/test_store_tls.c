/*
 * test_store_tls.c: the store over TLS against the stack's slapd (RFC 4513
 * section 3): StartTLS on ldap:// and ldaps://, the server verified
 * against a CA file set on the session's own handles; a wrong CA file is
 * refused at once with a message that says so; StartTLS is redone (and the
 * server verified again) on every reconnection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_store_common.h"
#include "support/monitor.h"

/* Copies file from to to (both paths); fails the test if it cannot. */
/* The stack's value of k; the test fails without it. */
static const char *
env(const char *k)
{
	return skd_test_stack_need(k);
}

static void
copy_file(const char *to, const char *from)
{
	unsigned char *buf;
	size_t len;

	ck_assert_ptr_nonnull(buf = skd_test_read_file(from, &len));
	ck_assert(skd_test_write_file(to, buf, len));
	free(buf);
}

/* A CA file that does not hold the stack's CA: an end-entity certificate
 * of the same PKI (self-issued by nobody the server chains to). */
static void
wrong_ca_path(char *out, size_t len)
{
	snprintf(out, len, "%s/alice.crt", env("SKD_PKI_DIR"));
}

static struct skd_store *
open_tls(enum skd_store_err *out_e, char *err, size_t err_len,
    const char *uri, enum skd_store_tls tls, const char *ca)
{
	struct skd_store_conf c;

	memset(&c, 0, sizeof(c));
	c.uri = uri;
	c.base_dn = env("SKD_BASE_DN");
	c.bind = SKD_STORE_BIND_SIMPLE;
	c.bind_dn = env("SKD_GLA_DN");
	c.password = env("SKD_GLA_PW");
	c.tls = tls;
	c.tls_ca_file = ca;
	return skd_store_open_conf(out_e, err, err_len, &c);
}

/* A write and a read back through s. */
static void
assert_usable(struct skd_store *s, const char *wid)
{
	struct skd_store_status *st = NULL;

	ck_store_ok(s, skd_store_write_status(s, wid, "tls", time(NULL),
	    NULL));
	ck_store_ok(s, skd_store_read_status(s, &st));
	ck_assert_str_eq(st->worker_id, wid);
	skd_store_status_free(st);
}

START_TEST(test_starttls_and_ldaps)
{
	enum skd_store_err e = SKD_STORE_ERR_OTHER;
	struct skd_store *s;
	char err[512];

	s = open_tls(&e, err, sizeof(err), env("SKD_LDAP_URI"),
	    SKD_STORE_TLS_STARTTLS, env("SKD_TLS_CA_FILE"));
	ck_assert_msg(s != NULL, "StartTLS: %s", err);
	ck_assert_int_eq(e, SKD_STORE_OK);
	assert_usable(s, "tls-starttls");
	skd_store_close(s);

	s = open_tls(&e, err, sizeof(err), env("SKD_LDAPS_URI"),
	    SKD_STORE_TLS_LDAPS, env("SKD_TLS_CA_FILE"));
	ck_assert_msg(s != NULL, "ldaps: %s", err);
	assert_usable(s, "tls-ldaps");
	skd_store_close(s);
}
END_TEST

/* The connections the stack's slapd has accepted so far (cn=Monitor). */
static long
conns(LDAP *mon)
{
	long n = skd_monitor_read(mon, "cn=Total,cn=Connections,cn=Monitor",
	    "monitorCounter");

	ck_assert_int_ge(n, 0);
	return n;
}

START_TEST(test_wrong_ca_refused)
{
	enum skd_store_err e = SKD_STORE_OK;
	struct skd_store *s;
	LDAP *mon;
	long c0;
	char err[512], bad[4096];

	/* Not retried as if the server were away (that would connect again
	 * and again for 10 s): slapd counts one connection per refusal.
	 * The count is read on one session opened before. */
	ck_assert_ptr_nonnull(mon = skd_monitor_open(env("SKD_LDAPI_URI"),
	    env("SKD_ROOT_DN"), env("SKD_ROOT_PW")));
	wrong_ca_path(bad, sizeof(bad));
	c0 = conns(mon);
	s = open_tls(&e, err, sizeof(err), env("SKD_LDAP_URI"),
	    SKD_STORE_TLS_STARTTLS, bad);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(e, SKD_STORE_ERR_UNAVAILABLE);
	ck_assert_msg(strstr(err, "TLS handshake failed") != NULL &&
	    strstr(err, bad) != NULL, "unclear error: %s", err);
	ck_assert_int_eq(conns(mon) - c0, 1);

	c0 = conns(mon);
	s = open_tls(&e, err, sizeof(err), env("SKD_LDAPS_URI"),
	    SKD_STORE_TLS_LDAPS, bad);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(e, SKD_STORE_ERR_UNAVAILABLE);
	ck_assert_msg(strstr(err, "TLS handshake failed") != NULL &&
	    strstr(err, bad) != NULL, "unclear error: %s", err);
	ck_assert_int_eq(conns(mon) - c0, 1);
	ldap_unbind_ext_s(mon, NULL, NULL);

	/* A CA file that is not there. */
	snprintf(bad, sizeof(bad), "%s/none.crt", skd_test_tmp);
	s = open_tls(&e, err, sizeof(err), env("SKD_LDAPS_URI"),
	    SKD_STORE_TLS_LDAPS, bad);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, bad) != NULL, "unclear error: %s", err);

	/* The URI must match the mode. */
	s = open_tls(&e, err, sizeof(err), env("SKD_LDAPS_URI"),
	    SKD_STORE_TLS_STARTTLS, env("SKD_TLS_CA_FILE"));
	ck_assert_ptr_null(s);
	ck_assert_int_eq(e, SKD_STORE_ERR_INVALID);
	ck_assert_msg(strstr(err, "ldap://") != NULL, "%s", err);
	s = open_tls(&e, err, sizeof(err), env("SKD_LDAP_URI"),
	    SKD_STORE_TLS_LDAPS, env("SKD_TLS_CA_FILE"));
	ck_assert_ptr_null(s);
	ck_assert_int_eq(e, SKD_STORE_ERR_INVALID);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* The CA file is read again on each connection: swapping it for a wrong
 * one under a live session makes the next reconnection fail in TLS,
 * which shows that StartTLS (with verification) is redone; putting it
 * back lets the session go on. */
START_TEST(test_starttls_after_reconnect)
{
	enum skd_store_err e = SKD_STORE_ERR_OTHER;
	struct skd_store_status *st = NULL;
	struct skd_store *s;
	char err[512], ca[4096], bad[4096];

	snprintf(ca, sizeof(ca), "%s/ca.crt", skd_test_tmp);
	copy_file(ca, env("SKD_TLS_CA_FILE"));
	s = open_tls(&e, err, sizeof(err), env("SKD_LDAP_URI"),
	    SKD_STORE_TLS_STARTTLS, ca);
	ck_assert_msg(s != NULL, "StartTLS: %s", err);
	skd_store_set_retry(s, 2000, 20);
	assert_usable(s, "tls-reconnect");

	ck_assert(skd_store_drop_connection(s));
	assert_usable(s, "tls-reconnect-1");
	ck_assert_uint_eq(skd_store_reconnects(s), 1);

	wrong_ca_path(bad, sizeof(bad));
	copy_file(ca, bad);
	ck_assert(skd_store_drop_connection(s));
	ck_assert(!skd_store_read_status(s, &st));
	ck_assert_int_eq(skd_store_error(s), SKD_STORE_ERR_UNAVAILABLE);
	ck_assert_msg(strstr(skd_store_errmsg(s), "TLS handshake failed") !=
	    NULL, "unclear error: %s", skd_store_errmsg(s));
	skd_store_status_free(st);

	copy_file(ca, env("SKD_TLS_CA_FILE"));
	assert_usable(s, "tls-reconnect-2");
	ck_assert_uint_eq(skd_store_reconnects(s), 2);
	skd_store_close(s);
	skd_test_assert_no_ossl_errors();
}
END_TEST

Suite *
skd_suite_store_tls(void)
{
	Suite *su = suite_create("store_tls");
	TCase *tc = tcase_create("tls");

	tcase_add_unchecked_fixture(tc, store_fixture, NULL);
	tcase_add_checked_fixture(tc, skd_test_tmp_setup, skd_test_tmp_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_starttls_and_ldaps);
	tcase_add_test(tc, test_wrong_ca_refused);
	tcase_add_test(tc, test_starttls_after_reconnect);
	suite_add_tcase(su, tc);
	return su;
}
