/*
 * test_kgen.c: the server-side key generation module (src/kgen) and the
 * AsymmetricKeyPackage templates (src/asn1/akp.c): key types, issuing
 * with the draft's extension rules, the returned key through each shroud
 * (certificate ktri/kari, bare key by SKI, password), the archive.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "asn1/skd_akp.h"
#include "asn1/skd_asn1.h"
#include "kgen/skd_kgen.h"
#include "skd_test.h"
#include "support/pki.h"

static const unsigned char serial[] = { 0x11, 0x22, 0x33, 0x44 };
static const time_t now = 1767225600;	/* 2026-01-01 */

static void
setup_pki(void)
{
	(void)skd_test_pki_get();
}

static void
ca_of(struct skd_kgen_ca *ca)
{
	memset(ca, 0, sizeof(*ca));
	ca->cert = skd_test_pki_id(SKD_TP_CA)->cert;
	ca->key = skd_test_pki_id(SKD_TP_CA)->key;
	ca->validity_days = 30;
	ca->recovery_cert = skd_test_pki_id(SKD_TP_GLA)->cert;
}

static X509_NAME *
subject(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	return n;
}

static X509 *
issue_ok(const struct skd_kgen_ca *ca, EVP_PKEY *pk,
    STACK_OF(X509_EXTENSION) *exts)
{
	X509_NAME *n = subject("new person");
	X509 *x = NULL;
	const char *why = NULL;

	ck_assert_int_eq(skd_kgen_issue(&x, &why, ca, n, exts, pk, serial,
	    sizeof(serial), now), SKD_KGEN_ISSUED);
	ck_assert_ptr_nonnull(x);
	X509_NAME_free(n);
	return x;
}

START_TEST(test_types)
{
	static const enum skd_kgen_type t[] = { SKD_KGEN_RSA2048,
	    SKD_KGEN_RSA3072, SKD_KGEN_P256, SKD_KGEN_P384 };
	X509_PUBKEY *spki;
	EVP_PKEY *ed;

	spki = skd_kgen_template_spki(t[_i]);
	ck_assert_ptr_nonnull(spki);
	ck_assert_int_eq(skd_kgen_type_from_spki(spki), t[_i]);
	X509_PUBKEY_free(spki);
	ck_assert_int_eq(skd_kgen_type_from_name(skd_kgen_type_name(t[_i])),
	    t[_i]);
	/* Anything else: badAlg. */
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	spki = NULL;
	ck_assert_int_eq(X509_PUBKEY_set(&spki, ed), 1);
	ck_assert_int_eq(skd_kgen_type_from_spki(spki), SKD_KGEN_NONE);
	X509_PUBKEY_free(spki);
	EVP_PKEY_free(ed);
	ck_assert_int_eq(skd_kgen_type_from_name("dsa"), SKD_KGEN_NONE);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* Every key type through every shroud, opened again. */
START_TEST(test_package_roundtrip)
{
	static const enum skd_kgen_type t[] = { SKD_KGEN_RSA2048,
	    SKD_KGEN_P256, SKD_KGEN_P384 };
	struct skd_kgen_ca ca;
	struct skd_shroud sh;
	struct skd_shroud_opener who;
	EVP_PKEY *pk, *eph, *got;
	X509 *cert, *signer = NULL;
	X509_STORE *trust = skd_test_pki_store(0);
	unsigned char *der = NULL, ski[20] = { 1, 2, 3, 4 };
	size_t len = 0;
	int s;

	ca_of(&ca);
	pk = skd_kgen_generate(t[_i]);
	ck_assert_ptr_nonnull(pk);
	cert = issue_ok(&ca, pk, NULL);
	ck_assert_int_eq(X509_check_private_key(cert, pk), 1);
	ck_assert_int_eq(X509_get_key_usage(cert), t[_i] == SKD_KGEN_RSA2048 ?
	    KU_KEY_ENCIPHERMENT : KU_KEY_AGREEMENT);
	for (s = 0; s < 5; s++) {
		memset(&sh, 0, sizeof(sh));
		memset(&who, 0, sizeof(who));
		eph = NULL;
		switch (s) {
		case 0:	/* certificate, RSA: ktri */
		case 1:	/* certificate, EC: kari */
			sh.type = SKD_SHROUD_BY_CERT;
			sh.cert = skd_test_pki_id(s == 0 ? SKD_TP_ALICE :
			    SKD_TP_BOB)->cert;
			who.key = skd_test_pki_id(s == 0 ? SKD_TP_ALICE :
			    SKD_TP_BOB)->key;
			who.cert = sh.cert;
			break;
		case 2:	/* bare key, RSA */
		case 3:	/* bare key, EC */
			eph = s == 2 ? skd_kgen_generate(SKD_KGEN_RSA2048) :
			    skd_kgen_generate(SKD_KGEN_P256);
			sh.type = SKD_SHROUD_BY_BARE_KEY;
			sh.pubkey = eph;
			sh.ski = ski;
			sh.ski_len = sizeof(ski);
			who.key = eph;
			break;
		default: /* password */
			sh.type = SKD_SHROUD_BY_PASSWORD;
			sh.password = (const unsigned char *)"s3cret";
			sh.password_len = 6;
			who.password = sh.password;
			who.password_len = 6;
			break;
		}
		ck_assert_int_eq(skd_kgen_package(&der, &len, &ca, pk, now,
		    &sh), 1);
		got = skd_kgen_open(der, len, &who, trust, now, &signer);
		ck_assert_ptr_nonnull(got);
		ck_assert_int_eq(EVP_PKEY_eq(got, pk), 1);
		ck_assert_int_eq(X509_cmp(signer, ca.cert), 0);
		EVP_PKEY_free(got);
		X509_free(signer);
		signer = NULL;
		/* The wrong opener gets nothing. */
		if (s == 4) {
			who.password = (const unsigned char *)"s3creT";
		} else {
			who.key = skd_test_pki_id(SKD_TP_DAVE)->key;
			who.cert = NULL;
		}
		ck_assert_ptr_null(skd_kgen_open(der, len, &who, trust, now,
		    NULL));
		ERR_clear_error();
		OPENSSL_free(der);
		der = NULL;
		EVP_PKEY_free(eph);
	}
	/* The archive opens with the recovery key. */
	ck_assert_int_eq(skd_kgen_archive(&der, &len, &ca, pk, now), 1);
	memset(&who, 0, sizeof(who));
	who.key = skd_test_pki_id(SKD_TP_GLA)->key;
	who.cert = ca.recovery_cert;
	got = skd_kgen_open(der, len, &who, trust, now, NULL);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(EVP_PKEY_eq(got, pk), 1);
	EVP_PKEY_free(got);
	OPENSSL_free(der);
	X509_free(cert);
	EVP_PKEY_free(pk);
	X509_STORE_free(trust);
	skd_test_assert_no_ossl_errors();
}
END_TEST

static STACK_OF(X509_EXTENSION) *
ext1(int nid, const char *value)
{
	STACK_OF(X509_EXTENSION) *sk = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, nid, value);

	ck_assert_ptr_nonnull(e);
	ck_assert_int_gt(sk_X509_EXTENSION_push(sk, e), 0);
	return sk;
}

START_TEST(test_extensions)
{
	struct skd_kgen_ca ca;
	EVP_PKEY *rsa = skd_kgen_generate(SKD_KGEN_RSA2048);
	EVP_PKEY *ec = skd_kgen_generate(SKD_KGEN_P256);
	STACK_OF(X509_EXTENSION) *exts;
	X509_NAME *n = subject("x");
	X509 *x = NULL;
	const char *why;
	GENERAL_NAMES *san;

	ca_of(&ca);
	/* Honoured: subjectAltName, emailProtection, a fitting keyUsage. */
	exts = ext1(NID_subject_alt_name, "email:new@example.com");
	x = issue_ok(&ca, rsa, exts);
	san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	ck_assert_int_eq(sk_GENERAL_NAME_num(san), 1);
	GENERAL_NAMES_free(san);
	X509_free(x);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	exts = ext1(NID_ext_key_usage, "emailProtection");
	X509_free(issue_ok(&ca, ec, exts));
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	exts = ext1(NID_key_usage, "keyAgreement");
	X509_free(issue_ok(&ca, ec, exts));
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	/* Refused (unsupportedExt). */
	exts = ext1(NID_key_usage, "digitalSignature");
	ck_assert_int_eq(skd_kgen_issue(&x, &why, &ca, n, exts, rsa, serial,
	    sizeof(serial), now), SKD_KGEN_REFUSED);
	ck_assert_ptr_nonnull(why);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	exts = ext1(NID_key_usage, "keyEncipherment");
	ck_assert_int_eq(skd_kgen_issue(&x, &why, &ca, n, exts, ec, serial,
	    sizeof(serial), now), SKD_KGEN_REFUSED);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	exts = ext1(NID_ext_key_usage, "serverAuth");
	ck_assert_int_eq(skd_kgen_issue(&x, &why, &ca, n, exts, rsa, serial,
	    sizeof(serial), now), SKD_KGEN_REFUSED);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	exts = ext1(NID_basic_constraints, "CA:TRUE");
	ck_assert_int_eq(skd_kgen_issue(&x, &why, &ca, n, exts, rsa, serial,
	    sizeof(serial), now), SKD_KGEN_REFUSED);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	exts = ext1(NID_crl_distribution_points, "URI:http://x.example/");
	ck_assert_int_eq(skd_kgen_issue(&x, &why, &ca, n, exts, rsa, serial,
	    sizeof(serial), now), SKD_KGEN_REFUSED);
	ck_assert_str_eq(why, "extension not supported");
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ck_assert_ptr_null(x);
	X509_NAME_free(n);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* RFC 5958 package: one key exactly, public key consistent, DER only. */
START_TEST(test_akp)
{
	EVP_PKEY *pk = skd_kgen_generate(SKD_KGEN_P256);
	EVP_PKEY *other = skd_kgen_generate(SKD_KGEN_P256), *got;
	SKD_ASYMMETRIC_KEY_PACKAGE *akp, *akp2;
	SKD_ONE_ASYMMETRIC_KEY *k;
	unsigned char *der = NULL, *der2 = NULL, *ber;
	const unsigned char *p;
	size_t len = 0, len2 = 0;

	ck_assert_int_eq(skd_akp_encode_key(&der, &len, pk), 1);
	got = skd_akp_decode_key(der, len);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(EVP_PKEY_eq(got, pk), 1);
	EVP_PKEY_free(got);
	akp = skd_der_decode(ASN1_ITEM_rptr(SKD_ASYMMETRIC_KEY_PACKAGE), der,
	    len);
	ck_assert_ptr_nonnull(akp);
	k = sk_SKD_ONE_ASYMMETRIC_KEY_value(akp, 0);
	ck_assert_int_eq(ASN1_INTEGER_get(k->version), 1);
	ck_assert_ptr_nonnull(k->publicKey);
	/* Two keys: refused (draft section 5). */
	p = der;
	akp2 = d2i_SKD_ASYMMETRIC_KEY_PACKAGE(NULL, &p, (long)len);
	ck_assert_int_gt(sk_SKD_ONE_ASYMMETRIC_KEY_push(akp,
	    sk_SKD_ONE_ASYMMETRIC_KEY_shift(akp2)), 0);
	ck_assert_int_eq(skd_der_encode(ASN1_ITEM_rptr(
	    SKD_ASYMMETRIC_KEY_PACKAGE), akp, &der2, &len2), 1);
	ck_assert_ptr_null(skd_akp_decode_key(der2, len2));
	OPENSSL_free(der2);
	SKD_ASYMMETRIC_KEY_PACKAGE_free(akp2);
	/* A public key that is not the private key's: refused. */
	sk_SKD_ONE_ASYMMETRIC_KEY_pop_free(akp, SKD_ONE_ASYMMETRIC_KEY_free);
	akp = skd_der_decode(ASN1_ITEM_rptr(SKD_ASYMMETRIC_KEY_PACKAGE), der,
	    len);
	k = sk_SKD_ONE_ASYMMETRIC_KEY_value(akp, 0);
	{
		X509_PUBKEY *xpk = NULL;
		const unsigned char *pub;
		int publen;

		ck_assert_int_eq(X509_PUBKEY_set(&xpk, other), 1);
		ck_assert_int_eq(X509_PUBKEY_get0_param(NULL, &pub, &publen,
		    NULL, xpk), 1);
		ck_assert_int_eq(ASN1_BIT_STRING_set(k->publicKey,
		    (unsigned char *)pub, publen), 1);
		X509_PUBKEY_free(xpk);
	}
	ck_assert_int_eq(skd_der_encode(ASN1_ITEM_rptr(
	    SKD_ASYMMETRIC_KEY_PACKAGE), akp, &der2, &len2), 1);
	ck_assert_ptr_null(skd_akp_decode_key(der2, len2));
	OPENSSL_free(der2);
	SKD_ASYMMETRIC_KEY_PACKAGE_free(akp);
	/* BER (a non-minimal length) is refused. */
	ber = OPENSSL_malloc(len + 1);
	ck_assert_int_eq(der[1] & 0x80, 0x80);
	ck_assert_int_eq(der[1], 0x81);
	ber[0] = der[0];
	ber[1] = 0x82;
	ber[2] = 0x00;
	memcpy(ber + 3, der + 2, len - 2);
	ck_assert_ptr_null(skd_akp_decode_key(ber, len + 1));
	OPENSSL_free(ber);
	/* An empty package. */
	{
		static const unsigned char empty[] = { 0x30, 0x00 };

		ck_assert_ptr_null(skd_akp_decode_key(empty, sizeof(empty)));
	}
	ERR_clear_error();
	OPENSSL_clear_free(der, len);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(other);
}
END_TEST

/* Only acceptable shroud keys. */
START_TEST(test_shroud_refusals)
{
	struct skd_shroud sh;
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	unsigned char *der = NULL, ski[4] = { 9, 9, 9, 9 };
	size_t len = 0;

	ck_assert_int_eq(skd_shroud_key_ok(ed), 0);
	ck_assert_int_eq(skd_shroud_key_ok(small), 0);
	memset(&sh, 0, sizeof(sh));
	sh.type = SKD_SHROUD_BY_BARE_KEY;
	sh.pubkey = small;
	sh.ski = ski;
	sh.ski_len = sizeof(ski);
	ck_assert_int_eq(skd_shroud_envelope(&der, &len,
	    OBJ_nid2obj(NID_pkcs7_data), ski, sizeof(ski), &sh), 0);
	sh.type = SKD_SHROUD_BY_PASSWORD;
	ck_assert_int_eq(skd_shroud_envelope(&der, &len,
	    OBJ_nid2obj(NID_pkcs7_data), ski, sizeof(ski), &sh), 0);
	ERR_clear_error();
	EVP_PKEY_free(ed);
	EVP_PKEY_free(small);
}
END_TEST

Suite *
skd_suite_kgen(void)
{
	Suite *s = suite_create("kgen");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup_pki, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_types, 0, 4);
	tcase_add_loop_test(tc, test_package_roundtrip, 0, 3);
	tcase_add_test(tc, test_extensions);
	tcase_add_test(tc, test_akp);
	tcase_add_test(tc, test_shroud_refusals);
	suite_add_tcase(s, tc);
	return s;
}
