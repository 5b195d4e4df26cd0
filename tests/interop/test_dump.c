/*
 * test_dump.c: `skd dump` as a user runs it: the third-party vector, the
 * layers of messages skd makes, and one clear line plus a distinct exit
 * code for bad input.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/objects.h>

#include "cms/skd_cmc.h"
#include "cms/skd_recip.h"
#include "skd_test.h"
#include "support/pki.h"

#define VECTOR	"/../shared/vectors/glusekek-pyasn1.pem"

static char *tmp;

static void
setup(void)
{
	(void)skd_test_pki_get();
	ck_assert_int_eq(skd_asn1_init(), 1);
	tmp = skd_test_tmpdir();
	ck_assert_ptr_nonnull(tmp);
}

static void
teardown(void)
{
	skd_test_rmdir(tmp);
	tmp = NULL;
}

/* Runs skd dump with args; returns the exit code, output in *out. */
static int
dump(char **out, const char *args)
{
	return skd_test_run(out, NULL, "'%s' dump %s 2>&1", skd_test_bin(),
	    args);
}

START_TEST(test_vector)
{
	char *out = NULL, *args;
	int rc;

	ck_assert_int_ne(asprintf(&args, "'%s" VECTOR "'", skd_test_top()),
	    -1);
	rc = dump(&out, args);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "SignedData"));
	ck_assert_ptr_nonnull(strstr(out, "signature: verified"));
	ck_assert_ptr_nonnull(strstr(out, "PKIData"));
	ck_assert_ptr_nonnull(strstr(out, "glUseKEK"));
	ck_assert_ptr_nonnull(strstr(out,
	    "https://www.example.com/list-info/group-list"));
	ck_assert_ptr_nonnull(strstr(out, "group-list@example.com"));
	ck_assert_ptr_nonnull(strstr(out, "duration: 31"));
	ck_assert_ptr_nonnull(strstr(out, "id-aes256-wrap"));
	ck_assert_ptr_nonnull(strstr(out, "2019-12-22"));
	free(out);
	free(args);
}
END_TEST

/* With its own certificate as the only anchor, the vector's path is
 * reported as expired and dump says so with exit code 4. */
START_TEST(test_vector_path_expired)
{
	char *out = NULL;
	int rc;

	rc = skd_test_run(NULL, NULL, "openssl cms -verify -noverify -inform PEM "
	    "-in '%s" VECTOR "' -out /dev/null -certsout '%s/signer.pem' "
	    ">/dev/null 2>&1", skd_test_top(), tmp);
	ck_assert_int_eq(rc, 0);
	rc = skd_test_run(&out, NULL, "'%s' dump --CAfile '%s/signer.pem' "
	    "'%s" VECTOR "' 2>&1", skd_test_bin(), tmp, skd_test_top());
	ck_assert_msg(rc == 4, "rc %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "signature: verified"));
	ck_assert_ptr_nonnull(strstr(out, "INVALID: certificate has expired"));
	free(out);
}
END_TEST

START_TEST(test_bad_input)
{
	static const struct {
		const char	*bytes;	/* printf octal escapes */
		const char	*expect;
	} cases[] = {
		{ "\\060\\200\\002\\001\\001\\000\\000", "indefinite length" },
		{ "\\060\\201\\003\\002\\001\\001", "non-minimal length" },
		{ "\\060\\003\\002\\001\\001\\000", "trailing bytes" },
		{ "\\060\\005\\002\\001", "truncated" },
		{ "\\004\\003abc", "not an SKD/CMC message" },
	};
	char *out = NULL;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(skd_test_run(NULL, NULL,
		    "printf '%s' > '%s/in.der'", cases[i].bytes, tmp), 0);
		rc = skd_test_run(&out, NULL, "'%s' dump '%s/in.der' 2>&1",
		    skd_test_bin(), tmp);
		ck_assert_msg(rc == 3, "case %zu: rc %d: %s", i, rc, out);
		ck_assert_msg(strstr(out, cases[i].expect) != NULL,
		    "case %zu: %s", i, out);
		/* One clear line. */
		ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
		free(out);
	}
	rc = dump(&out, "/nonexistent/file");
	ck_assert_int_eq(rc, 3);
	ck_assert_ptr_nonnull(strstr(out, "No such file"));
	free(out);
	rc = dump(&out, "--bogus");
	ck_assert_int_eq(rc, 2);
	free(out);
	rc = skd_test_run(&out, NULL, "'%s' dump < /dev/null 2>&1",
	    skd_test_bin());
	ck_assert_int_eq(rc, 3);
	ck_assert_ptr_nonnull(strstr(out, "empty input"));
	free(out);
}
END_TEST

/* A triple-wrapped request made by skd: every layer printed, the envelope
 * opened with --cert/--key, the bare PKIData readable too. */
START_TEST(test_layers_printed)
{
	const struct skd_test_ident *alice = skd_test_pki_id(SKD_TP_ALICE);
	const struct skd_test_ident *gla = skd_test_pki_id(SKD_TP_GLA);
	struct skd_cmc_body *b = skd_cmc_body_new(0);
	GENERAL_NAME *gn = skd_gname_from_text("URI:https://lists.example/x");
	struct skd_cmc_protect p;
	unsigned char *body, *msg;
	size_t blen, mlen;
	char *path, *out = NULL;
	int rc;

	ck_assert_int_eq(skd_cmc_body_add_control(b, SKD_OID_GL_KEY_COMPROMISE,
	    gn), 1);
	ck_assert_int_eq(skd_cmc_body_encode(b, &body, &blen), 1);
	memset(&p, 0, sizeof(p));
	p.signer = alice->cert;
	p.key = alice->key;
	p.signing_time = time(NULL);
	p.encrypt_to = gla->cert;
	p.outer_sign = 1;
	ck_assert_int_eq(skd_cmc_protect(&msg, &mlen, 0, body, blen, &p), 1);
	ck_assert_int_ne(asprintf(&path, "%s/req.der", tmp), -1);
	ck_assert_int_eq(skd_test_write_file(path, msg, mlen), 1);

	rc = skd_test_run(&out, NULL, "'%s' dump --CAfile '%s/ca.crt' "
	    "--cert '%s' --key '%s' '%s' 2>&1", skd_test_bin(),
	    skd_test_pki_get()->dir, gla->cert_path, gla->key_path, path);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "EnvelopedData"));
	ck_assert_ptr_nonnull(strstr(out, "recipient: ktri"));
	ck_assert_ptr_nonnull(strstr(out, "contentHints"));
	ck_assert_ptr_nonnull(strstr(out, "certificate path: valid"));
	ck_assert_ptr_nonnull(strstr(out, "https://lists.example/x"));
	free(out);

	/* Without the key: the envelope is shown and the exit code says the
	 * message could not be fully opened. */
	rc = skd_test_run(&out, NULL, "'%s' dump '%s' 2>&1", skd_test_bin(),
	    path);
	ck_assert_int_eq(rc, 4);
	ck_assert_ptr_nonnull(strstr(out, "no key given"));
	free(out);

	ck_assert_int_eq(skd_test_write_file(path, body, blen), 1);
	rc = skd_test_run(&out, NULL, "'%s' dump '%s' 2>&1", skd_test_bin(),
	    path);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "PKIData"));
	ck_assert_ptr_nonnull(strstr(out, "https://lists.example/x"));
	free(out);

	free(path);
	OPENSSL_free(msg);
	OPENSSL_free(body);
	GENERAL_NAME_free(gn);
	skd_cmc_body_free(b);
}
END_TEST

/* A glKey's glkWrapped is listed recipient by recipient. */
START_TEST(test_glkey_recipients)
{
	const struct skd_test_ident *alice = skd_test_pki_id(SKD_TP_ALICE);
	const struct skd_test_ident *bob = skd_test_pki_id(SKD_TP_BOB);
	struct skd_ri_recipient r[2];
	static const unsigned char kek[16] = { 1, 2, 3, 4 };
	unsigned char *ri = NULL, *body = NULL;
	const unsigned char *p;
	size_t rilen, blen;
	SKD_GL_KEY *k = SKD_GL_KEY_new();
	struct skd_cmc_body *b = skd_cmc_body_new(0);
	char *path, *out = NULL;
	int rc;

	memset(r, 0, sizeof(r));
	r[0].type = SKD_RI_KTRI;
	r[0].cert = alice->cert;
	r[1].type = SKD_RI_KARI;
	r[1].cert = bob->cert;
	ck_assert_int_eq(skd_ri_build_set(&ri, &rilen, kek, sizeof(kek), r, 2),
	    1);
	GENERAL_NAME_free(k->glName);
	k->glName = skd_gname_from_text("URI:https://lists.example/k");
	ck_assert_int_eq(ASN1_OCTET_STRING_set(k->glIdentifier->keyIdentifier,
	    kek, 4), 1);
	sk_ASN1_TYPE_pop_free(k->glkWrapped, ASN1_TYPE_free);
	p = ri;
	k->glkWrapped = d2i_ASN1_SET_ANY(NULL, &p, (long)rilen);
	ck_assert_ptr_nonnull(k->glkWrapped);
	ck_assert_int_eq(X509_ALGOR_set0(k->glkAlgorithm,
	    OBJ_nid2obj(NID_id_aes128_wrap), V_ASN1_UNDEF, NULL), 1);
	ck_assert_ptr_nonnull(ASN1_GENERALIZEDTIME_set(k->glkNotBefore, 0));
	ck_assert_ptr_nonnull(ASN1_GENERALIZEDTIME_set(k->glkNotAfter, 86400));
	ck_assert_int_eq(skd_cmc_body_add_control(b, SKD_OID_GL_KEY, k), 1);
	ck_assert_int_eq(skd_cmc_body_encode(b, &body, &blen), 1);
	ck_assert_int_ne(asprintf(&path, "%s/glkey.der", tmp), -1);
	ck_assert_int_eq(skd_test_write_file(path, body, blen), 1);
	rc = skd_test_run(&out, NULL, "'%s' dump '%s' 2>&1", skd_test_bin(),
	    path);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "wrapped for 2 recipient(s)"));
	ck_assert_ptr_nonnull(strstr(out, "ktri CN=skd test CA"));
	ck_assert_ptr_nonnull(strstr(out, "kari CN=skd test CA"));
	free(out);
	free(path);
	OPENSSL_free(body);
	OPENSSL_free(ri);
	skd_cmc_body_free(b);
	SKD_GL_KEY_free(k);
}
END_TEST

Suite *
skd_suite_dump(void)
{
	Suite *s = suite_create("dump");
	TCase *tc = tcase_create("cli");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_vector);
	tcase_add_test(tc, test_vector_path_expired);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_layers_printed);
	tcase_add_test(tc, test_glkey_recipients);
	suite_add_tcase(s, tc);
	return s;
}
