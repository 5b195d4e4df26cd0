/*
 * test_cms.c: the cms module (sign, verify, envelope, open) and the test PKI.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "skd_test.h"
#include "support/pki.h"

/* 2030-01-01T00:00:00Z: inside every test certificate's validity. */
#define T_NOW	((time_t)1893456000)

static void
pki_setup(void)
{
	(void)skd_test_pki_get();
}

static int
pki_verify_at(enum skd_test_who who, X509_STORE *st, time_t now)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int err;

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(X509_STORE_CTX_init(ctx, st,
	    skd_test_pki_id(who)->cert, NULL), 1);
	X509_STORE_CTX_set_time(ctx, 0, now);
	err = X509_verify_cert(ctx) == 1 ? X509_V_OK :
	    X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return err;
}

START_TEST(test_pki_paths)
{
	X509_STORE *st = skd_test_pki_store(1);
	int who;

	for (who = SKD_TP_GLA; who < SKD_TP_REVOKED; who++) {
		ck_assert_msg(pki_verify_at((enum skd_test_who)who, st,
		    T_NOW) == X509_V_OK, "%s",
		    skd_test_pki_id((enum skd_test_who)who)->name);
	}
	ck_assert_int_eq(pki_verify_at(SKD_TP_REVOKED, st, T_NOW),
	    X509_V_ERR_CERT_REVOKED);
	ck_assert_int_eq(pki_verify_at(SKD_TP_EXPIRED, st, T_NOW),
	    X509_V_ERR_CERT_HAS_EXPIRED);
	ck_assert_int_eq(pki_verify_at(SKD_TP_STRANGER, st, T_NOW),
	    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	X509_STORE_free(st);
	/* Without the CRL, "revoked" is a good certificate. */
	st = skd_test_pki_store(0);
	ck_assert_int_eq(pki_verify_at(SKD_TP_REVOKED, st, T_NOW), X509_V_OK);
	X509_STORE_free(st);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_pki_names_and_files)
{
	const struct skd_test_ident *id = skd_test_pki_id(SKD_TP_CAROL);
	GENERAL_NAMES *gens;
	const GENERAL_NAME *gn;
	char *out = NULL;

	ck_assert_str_eq(id->name, "carol");
	ck_assert_int_eq(EVP_PKEY_get_bits(id->key), 384);
	ck_assert_int_eq(EVP_PKEY_get_bits(skd_test_pki_id(SKD_TP_BOB)->key),
	    256);
	ck_assert_int_eq(EVP_PKEY_get_bits(skd_test_pki_id(SKD_TP_ALICE)->key),
	    2048);
	gens = X509_get_ext_d2i(id->cert, NID_subject_alt_name, NULL, NULL);
	ck_assert_ptr_nonnull(gens);
	ck_assert_int_eq(sk_GENERAL_NAME_num(gens), 1);
	gn = sk_GENERAL_NAME_value(gens, 0);
	ck_assert_int_eq(gn->type, GEN_EMAIL);
	ck_assert_str_eq((const char *)ASN1_STRING_get0_data(gn->d.rfc822Name),
	    "carol@example.com");
	GENERAL_NAMES_free(gens);
	ck_assert_int_eq(X509_get_key_usage(id->cert),
	    KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT);
	ck_assert_int_eq(X509_get_key_usage(skd_test_pki_id(SKD_TP_DAVE)->cert),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    "openssl x509 -in '%s' -noout -subject -nameopt RFC2253 && "
	    "openssl verify -crl_check -CAfile '%s/ca.crt' -CRLfile '%s' "
	    "'%s' >/dev/null", id->cert_path, skd_test_pki_get()->dir,
	    skd_test_pki_get()->crl_path, id->cert_path), 0);
	ck_assert_str_eq(out, "subject=CN=carol,O=skd test,C=US\n");
	free(out);
	ck_assert_int_eq(skd_test_run(NULL, NULL,
	    "openssl pkey -in '%s' -noout 2>/dev/null", id->key_path), 0);
	skd_test_assert_no_ossl_errors();
}
END_TEST

Suite *
skd_suite_cms(void)
{
	Suite *s = suite_create("cms");
	TCase *tc;

	tc = tcase_create("pki");
	tcase_add_unchecked_fixture(tc, pki_setup, NULL);
	tcase_add_test(tc, test_pki_paths);
	tcase_add_test(tc, test_pki_names_and_files);
	suite_add_tcase(s, tc);
	return s;
}
