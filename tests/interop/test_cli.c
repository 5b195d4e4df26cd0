/*
 * test_cli.c: the skd command line without a directory: a --members-file
 * longer than the GLA's per-message limit becomes several requests of at
 * most SKD_CLIENT_MAX_CONTROLS glAddMember controls each (--out FILE.k);
 * --json on errors prints an error object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/skd_client.h"
#include "cms/skd_cmc.h"
#include "cms/skd_layers.h"
#include "skd_test.h"
#include "support/pki.h"

#define GL	"URI:https://lists.example.com/all"

static char *dir;

static void
setup(void)
{
	(void)skd_test_pki_get();
	dir = skd_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
}

static void
teardown(void)
{
	skd_test_rmdir(dir);
	dir = NULL;
}

/* The number of glAddMember controls in the PKIData of file path. */
static int
count_add_member(const char *path)
{
	struct skd_layers *l = NULL;
	const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq;
	unsigned char *der;
	size_t len = 0;
	int i, n = 0;

	der = skd_test_read_file(path, &len);
	ck_assert_ptr_nonnull(der);
	ck_assert_int_eq(skd_layers_walk(&l, der, len, NULL), 1);
	ck_assert_int_eq(l->v[l->n - 1].type, SKD_LAYER_PKI_DATA);
	seq = l->v[l->n - 1].pki_data->controlSequence;
	for (i = 0; i < sk_SKD_TAGGED_ATTRIBUTE_num(seq); i++) {
		if (OBJ_obj2nid(sk_SKD_TAGGED_ATTRIBUTE_value(seq, i)->attrType)
		    == skd_asn1_nid(SKD_OID_GL_ADD_MEMBER))
			n++;
	}
	skd_layers_free(l);
	free(der);
	return n;
}

START_TEST(test_members_file_split)
{
	const struct skd_test_ident *glo = skd_test_pki_id(SKD_TP_GLO1);
	char path[4096], *out = NULL;
	FILE *f;
	int i, total = 2 * SKD_CLIENT_MAX_CONTROLS + 1;

	snprintf(path, sizeof(path), "%s/members", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "# %d members\n\n", total);
	for (i = 0; i < total; i++)
		fprintf(f, "email:m%04d@example.com\n", i);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' glo add-member "
	    "--cert '%s' --key '%s' --gl %s --members-file '%s' "
	    "--out '%s/req.der' 2>&1", skd_test_bin(), glo->cert_path,
	    glo->key_path, GL, path, dir), 0);
	ck_assert_msg(strstr(out, "request 3 of 3: members 1001 to 1001") !=
	    NULL, "%s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/req.der.1", dir);
	ck_assert_int_eq(count_add_member(path), SKD_CLIENT_MAX_CONTROLS);
	snprintf(path, sizeof(path), "%s/req.der.2", dir);
	ck_assert_int_eq(count_add_member(path), SKD_CLIENT_MAX_CONTROLS);
	snprintf(path, sizeof(path), "%s/req.der.3", dir);
	ck_assert_int_eq(count_add_member(path), 1);
	ck_assert_int_ne(skd_test_run(NULL, NULL, "test -e '%s/req.der'",
	    dir), 0);

	/* Within the limit: one request, the file as named. */
	snprintf(path, sizeof(path), "%s/few", dir);
	ck_assert_int_eq(skd_test_write_file(path, "email:a@example.com\n"
	    "email:b@example.com\n", 40), 1);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' glo add-member "
	    "--cert '%s' --key '%s' --gl %s --members-file '%s' "
	    "--out '%s/one.der'", skd_test_bin(), glo->cert_path,
	    glo->key_path, GL, path, dir), 0);
	snprintf(path, sizeof(path), "%s/one.der", dir);
	ck_assert_int_eq(count_add_member(path), 2);
}
END_TEST

START_TEST(test_dump_ldif)
{
	const struct skd_test_ident *glo = skd_test_pki_id(SKD_TP_GLO1);
	char *out = NULL;

	/* The LDIF skd prints for ldapadd (folded base64) is read back by
	 * libldap's parser. */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' glo add-member "
	    "--cert '%s' --key '%s' --gl %s --member email:x@example.com "
	    "-D uid=glo1,dc=example,dc=com --ldif > '%s/req.ldif'", skd_test_bin(), glo->cert_path,
	    glo->key_path, GL, dir), 0);
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' dump '%s/req.ldif' "
	    "2>&1", skd_test_bin(), dir), 0);
	ck_assert_msg(strstr(out, "glAddMember") != NULL, "%s", out);
	free(out);
	/* As ldapsearch prints it, with a version line and comments. */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "{ echo 'version: 1'; "
	    "echo; echo '# a comment'; cat '%s/req.ldif'; } > '%s/v.ldif'",
	    dir, dir), 0);
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' dump '%s/v.ldif' "
	    "2>&1", skd_test_bin(), dir), 0);
	ck_assert_msg(strstr(out, "glAddMember") != NULL, "%s", out);
	free(out);
	/* A value by URL is not fetched. */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "printf 'dn: cn=x\\n"
	    "skdMessage:< file://%s/req.ldif\\n' > '%s/url.ldif'", dir,
	    dir), 0);
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' dump '%s/url.ldif' "
	    "2>&1", skd_test_bin(), dir), 3);
	ck_assert_msg(strstr(out, "no skdMessage value") != NULL, "%s", out);
	free(out);
}
END_TEST

START_TEST(test_json_errors)
{
	char *out = NULL;

	/* an unreadable input: an error object on stdout, exit 3 */
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' response --json "
	    "--CAfile '%s/ca.crt' '%s/nonexistent' 2>/dev/null",
	    skd_test_bin(), skd_test_pki_get()->dir, dir), 3);
	ck_assert_msg(strncmp(out, "{\"error\":{", 10) == 0, "%s", out);
	free(out);
}
END_TEST

Suite *
skd_suite_cli(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_members_file_split);
	tcase_add_test(tc, test_dump_ldif);
	tcase_add_test(tc, test_json_errors);
	suite_add_tcase(s, tc);
	return s;
}
