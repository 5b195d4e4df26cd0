/*
 * test_interop_client_dir.c: the skd member/glo commands against a real
 * slapd (tests/support/stack.h) and ldapadd.  Only what needs no GLA: a
 * submitted request lands as a pending skdRequest entry owned by its
 * submitter (the shipped ACLs), a request printed with --ldif is accepted
 * by ldapadd, and the directory failures map to the documented exit codes.
 * End-to-end flows (response wait, glKey fetch and acknowledgement) need
 * the GLA worker and are not faked here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "client/skd_client.h"
#include "cms/skd_cmc.h"
#include "cms/skd_layers.h"
#include "skd_test.h"
#include "support/stack.h"

#define GL	"URI:https://gla.example.com/"

static void
setup_stack(void)
{
	(void)skd_test_stack_get();
}

/* The request id from the "submitted request <id>" line. */
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

static struct skd_store *
open_as_gla(void)
{
	struct skd_store *s;

	s = skd_store_open(NULL, skd_test_stack_env("SKD_LDAP_URI"),
	    skd_test_stack_env("SKD_BASE_DN"), SKD_STORE_BIND_SIMPLE,
	    skd_test_stack_env("SKD_GLA_DN"), skd_test_stack_env("SKD_GLA_PW"));
	ck_assert_ptr_nonnull(s);
	return s;
}

/* The request holds control oid in a PKIData signed by who. */
static void
assert_request(const struct skd_store_request *r, enum skd_oid oid,
    const char *who)
{
	struct skd_layers *l = NULL;
	const struct skd_layer *body;
	struct skd_client_error e = { 0 };
	char path[512];
	X509 *x;

	snprintf(path, sizeof(path), "%s/%s.crt",
	    skd_test_stack_env("SKD_PKI_DIR"), who);
	x = skd_client_cert_load(path, &e);

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(skd_layers_walk(&l, r->message, r->message_len,
	    NULL), 1);
	body = &l->v[l->n - 1];
	ck_assert_int_eq(body->type, SKD_LAYER_PKI_DATA);
	ck_assert_ptr_nonnull(skd_cmc_find_control(
	    body->pki_data->controlSequence, oid, 0));
	ck_assert_int_eq(X509_cmp(l->v[body->parent].verified->signer, x), 0);
	X509_free(x);
	skd_layers_free(l);
}

START_TEST(test_submit_pending)
{
	const char *dir = skd_test_stack_dir();
	struct skd_store *s;
	struct skd_store_request *r = NULL;
	char *out = NULL, id[SKD_STORE_ID_LEN];

	ck_assert_ptr_nonnull(skd_test_stack_get());
	/* No GLA runs: the request is submitted, nobody answers within the
	 * timeout (exit 5) and the request stays pending. */
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' member join --env "
	    "'%s/env' --as alice --cert '%s/alice.crt' --key "
	    "'%s/alice.key' --gl %s --timeout 1 2>&1", skd_test_bin(), dir,
	    skd_test_stack_env("SKD_PKI_DIR"), skd_test_stack_env("SKD_PKI_DIR"), GL), 5);
	ck_assert_msg(request_id(id, out), "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "stays pending"));
	free(out);
	s = open_as_gla();
	ck_assert_int_eq(skd_store_read_request(s, &r, id), 1);
	ck_assert_str_eq(r->state, "pending");
	ck_assert_str_eq(r->submitter_dn, skd_test_stack_env("SKD_ALICE_DN"));
	assert_request(r, SKD_OID_GL_ADD_MEMBER, "alice");
	skd_store_request_free(r);
	skd_store_close(s);
}
END_TEST

START_TEST(test_ldif_ldapadd)
{
	const char *dir = skd_test_stack_dir();
	struct skd_store *s;
	struct skd_store_request *r = NULL;
	char *out = NULL, id[SKD_STORE_ID_LEN];
	const char *p;

	ck_assert_ptr_nonnull(skd_test_stack_get());
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' glo create --env "
	    "'%s/env' --as glo1 --cert '%s/glo1.crt' --key "
	    "'%s/glo1.key' --gl %s --owner email:glo1@example.com "
	    "--ldif > '%s/create.ldif' && ldapadd -x -H '%s' -D '%s' -w '%s' "
	    "-f '%s/create.ldif'", skd_test_bin(), dir, skd_test_stack_env("SKD_PKI_DIR"),
	    skd_test_stack_env("SKD_PKI_DIR"), GL, dir, skd_test_stack_env("SKD_LDAP_URI"),
	    skd_test_stack_env("SKD_GLO1_DN"),
	    skd_test_stack_env("SKD_GLO1_PW"), dir), 0);
	ck_assert_ptr_nonnull(p = strstr(out, "skdRequestId="));
	memcpy(id, p + 13, SKD_STORE_ID_LEN - 1);
	id[SKD_STORE_ID_LEN - 1] = '\0';
	free(out);
	s = open_as_gla();
	ck_assert_int_eq(skd_store_read_request(s, &r, id), 1);
	ck_assert_str_eq(r->state, "pending");
	/* the --ldif entry names its submitter (the bind DN) */
	ck_assert_str_eq(r->submitter_dn, skd_test_stack_env("SKD_GLO1_DN"));
	assert_request(r, SKD_OID_GL_USE_KEK, "glo1");
	skd_store_request_free(r);
	skd_store_close(s);
}
END_TEST

START_TEST(test_directory_exit_codes)
{
	const char *dir = skd_test_stack_dir();
	char pw[512];

	ck_assert_ptr_nonnull(skd_test_stack_get());
	/* no glKey for us: 1 */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' member fetch --env "
	    "'%s/env' --as carol --cert '%s/carol.crt' --key "
	    "'%s/carol.key' --gl URI:https://none.example.com/ "
	    "--keystore '%s/carol.keys' 2>/dev/null", skd_test_bin(), dir,
	    skd_test_stack_env("SKD_PKI_DIR"), skd_test_stack_env("SKD_PKI_DIR"), dir), 1);
	/* a wrong password: 5, and nothing written */
	snprintf(pw, sizeof(pw), "%s/wrong.pw", dir);
	ck_assert_int_eq(skd_test_write_file(pw, "wrong\n", 6), 1);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' member leave --uri "
	    "'%s' --bind-dn '%s' --password-file '%s' --CAfile "
	    "'%s/ca.crt' --cert '%s/bob.crt' --key '%s/bob.key' "
	    "--gl %s 2>/dev/null", skd_test_bin(),
	    skd_test_stack_env("SKD_LDAP_URI"),
	    skd_test_stack_env("SKD_BOB_DN"), pw, skd_test_stack_env("SKD_PKI_DIR"),
	    skd_test_stack_env("SKD_PKI_DIR"), skd_test_stack_env("SKD_PKI_DIR"), GL), 5);
	ck_assert_int_ne(skd_test_run(NULL, NULL, "ldapsearch -LLL -x -H '%s' "
	    "-D '%s' -w '%s' -b 'ou=requests,%s' "
	    "'(skdSubmitterDN=%s)' dn | grep -q '^dn:'",
	    skd_test_stack_env("SKD_LDAP_URI"),
	    skd_test_stack_env("SKD_ROOT_DN"),
	    skd_test_stack_env("SKD_ROOT_PW"),
	    skd_test_stack_env("SKD_BASE_DN"),
	    skd_test_stack_env("SKD_BOB_DN")), 0);
}
END_TEST

Suite *
skd_suite_interop_client_dir(void)
{
	Suite *s = suite_create("interop_client_dir");
	TCase *tc;

	tc = tcase_create("directory");
	tcase_add_unchecked_fixture(tc, setup_stack, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_submit_pending);
	tcase_add_test(tc, test_ldif_ldapadd);
	tcase_add_test(tc, test_directory_exit_codes);
	suite_add_tcase(s, tc);
	return s;
}
