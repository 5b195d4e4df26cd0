/*
 * test_interop_cms.c: the cms module against the openssl CLI, both ways:
 * SignedData (RFC 5652 5), and EnvelopedData with ktri (PKCS#1 v1.5 and
 * OAEP), kari (P-256, P-384) and kekri (AES-128/192/256 key wrap).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "cms/skd_cms.h"
#include "skd_test.h"
#include "support/pki.h"

/* Content with every byte value, as a DER-ish binary PKIData would be. */
static unsigned char content[300];
static char *dir;

static void
interop_setup(void)
{
	size_t i;

	(void)skd_test_pki_get();
	for (i = 0; i < sizeof(content); i++) {
		content[i] = (unsigned char)(i * 7 + 3);
	}
}

static void
interop_tmp(void)
{
	dir = skd_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
}

static void
interop_tmp_free(void)
{
	skd_test_rmdir(dir);
	dir = NULL;
}

/* <dir>/<name>; static buffer per call site is enough for these tests. */
static const char *
tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

static void
write_tmp(const char *name, const void *data, size_t len)
{
	char p[4096];

	ck_assert(skd_test_write_file(tmp_path(p, sizeof(p), name), data,
	    len));
}

static unsigned char *
read_tmp(const char *name, size_t *len)
{
	char p[4096];
	unsigned char *b;

	b = skd_test_read_file(tmp_path(p, sizeof(p), name), len);
	ck_assert_ptr_nonnull(b);
	return b;
}

/* ---- (a) skd signs, openssl verifies ---- */

static const enum skd_test_who sign_who[] = {
	SKD_TP_GLA, SKD_TP_GLO2, SKD_TP_CAROL
};

START_TEST(test_skd_sign_cli_verify)
{
	const struct skd_test_pki *pki = skd_test_pki_get();
	const struct skd_test_ident *id = &pki->id[sign_who[_i]];
	unsigned char *der = NULL, *out;
	size_t len, out_len;
	char p[4096];

	ck_assert_int_eq(skd_cms_sign(&der, &len,
	    OBJ_nid2obj(NID_id_cct_PKIData), content, sizeof(content),
	    id->cert, id->key, NULL, time(NULL), 0), 1);
	write_tmp("signed.der", der, len);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "cat '%s' '%s' > "
	    "'%s/cacrl.pem' && openssl cms -verify -inform DER "
	    "-in '%s/signed.der' -CAfile '%s/cacrl.pem' -crl_check -binary "
	    "-out '%s/out.bin' 2>/dev/null", pki->id[SKD_TP_CA].cert_path,
	    pki->crl_path, dir, dir, dir, dir), 0);
	out = read_tmp("out.bin", &out_len);
	ck_assert_uint_eq(out_len, sizeof(content));
	ck_assert_mem_eq(out, content, sizeof(content));
	free(out);
	/* The CLI sees the eContentType we set. */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -cmsout "
	    "-print -inform DER -in '%s' | grep -q 'eContentType: "
	    "id-cct-PKIData'", tmp_path(p, sizeof(p), "signed.der")), 0);
	OPENSSL_free(der);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* The CLI is a real checker: a revoked signer fails with the CRL. */
START_TEST(test_skd_sign_cli_refuses_revoked)
{
	const struct skd_test_pki *pki = skd_test_pki_get();
	const struct skd_test_ident *id = &pki->id[SKD_TP_REVOKED];
	unsigned char *der = NULL;
	size_t len;

	ck_assert_int_eq(skd_cms_sign(&der, &len,
	    OBJ_nid2obj(NID_id_cct_PKIData), content, sizeof(content),
	    id->cert, id->key, NULL, time(NULL), 0), 1);
	write_tmp("signed.der", der, len);
	/* openssl cms has no -CRLfile: the CRL goes into the CAfile. */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "cat '%s' '%s' > "
	    "'%s/cacrl.pem' && openssl cms -verify -inform DER "
	    "-in '%s/signed.der' -CAfile '%s/cacrl.pem' -crl_check -binary "
	    "-out /dev/null 2>&1 | grep -q 'certificate revoked'",
	    pki->id[SKD_TP_CA].cert_path, pki->crl_path, dir, dir, dir), 0);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -verify "
	    "-inform DER -in '%s/signed.der' -CAfile '%s' "
	    "-binary -out /dev/null 2>/dev/null", dir,
	    pki->id[SKD_TP_CA].cert_path), 0);
	OPENSSL_free(der);
}
END_TEST

/* ---- (b) openssl signs a PKIData, skd verifies ---- */

START_TEST(test_cli_sign_skd_verify)
{
	const struct skd_test_pki *pki = skd_test_pki_get();
	const struct skd_test_ident *id = &pki->id[sign_who[_i]];
	struct skd_cms_verified *v = NULL;
	X509_STORE *st = skd_test_pki_store(1);
	unsigned char *der;
	size_t len;
	time_t now = time(NULL);

	write_tmp("pkidata.der", content, sizeof(content));
	/* Without -stream the CLI writes definite lengths (DER), which skd
	 * takes as it is; no re-encoding is needed. */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -sign -binary "
	    "-nodetach -outform DER -econtent_type 1.3.6.1.5.5.7.12.2 "
	    "-signer '%s' -inkey '%s' -in '%s/pkidata.der' "
	    "-out '%s/signed.der' 2>/dev/null", id->cert_path, id->key_path,
	    dir, dir), 0);
	der = read_tmp("signed.der", &len);
	ck_assert_int_eq(skd_cms_der_check(der, len), 1);
	ck_assert_int_eq(skd_cms_verify(&v, der, len, st, now), 1);
	skd_test_assert_no_ossl_errors();
	ck_assert_int_eq(OBJ_obj2nid(v->econtent_type), NID_id_cct_PKIData);
	ck_assert_uint_eq(v->content_len, sizeof(content));
	ck_assert_mem_eq(v->content, content, sizeof(content));
	ck_assert_int_eq(X509_cmp(v->signer, id->cert), 0);
	ck_assert_int_eq(v->path, SKD_CMS_PATH_OK);
	/* The CLI stamps its own clock as signingTime. */
	ck_assert_int_le((long long)(now - v->signing_time), 120);
	ck_assert_int_le((long long)(v->signing_time - now), 120);
	skd_cms_verified_free(v);
	free(der);
	X509_STORE_free(st);
}
END_TEST

/* ---- (c) kekri both ways ---- */

static const struct {
	const char	*hex;
	unsigned char	 key[32];
	size_t		 len;
	const char	*cli_cipher;
} kek_vec[] = {
	{ "000102030405060708090a0b0c0d0e0f",
	  { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	    0x0b, 0x0c, 0x0d, 0x0e, 0x0f }, 16, "-aes128" },
	{ "000102030405060708090a0b0c0d0e0f1011121314151617",
	  { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	    0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
	    0x16, 0x17 }, 24, "-aes192" },
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	    0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
	    0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f },
	  32, "-aes256" },
};

static const unsigned char kek_id[] = { 0x5a, 0x4b, 0x01, 0x02 };
#define KEK_ID_HEX "5a4b0102"

START_TEST(test_kekri_skd_to_cli)
{
	struct skd_cms_recip r;
	unsigned char *der = NULL, *out;
	size_t len, out_len;
	char *txt = NULL;

	memset(&r, 0, sizeof(r));
	r.type = SKD_CMS_RECIP_KEK;
	r.kek = kek_vec[_i].key;
	r.kek_len = kek_vec[_i].len;
	r.kek_id = kek_id;
	r.kek_id_len = sizeof(kek_id);
	ck_assert_int_eq(skd_cms_envelope(&der, &len,
	    OBJ_nid2obj(NID_pkcs7_data), content, sizeof(content), &r, 1,
	    NULL), 1);
	write_tmp("env.der", der, len);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -decrypt "
	    "-binary -inform DER -in '%s/env.der' -secretkey %s "
	    "-secretkeyid " KEK_ID_HEX " -out '%s/out.bin' 2>/dev/null", dir,
	    kek_vec[_i].hex, dir), 0);
	out = read_tmp("out.bin", &out_len);
	ck_assert_uint_eq(out_len, sizeof(content));
	ck_assert_mem_eq(out, content, sizeof(content));
	free(out);
	/* The wrap algorithm follows the key length (RFC 3565 2.3.2). */
	ck_assert_int_eq(skd_test_run(&txt, NULL, "openssl cms -cmsout -print "
	    "-inform DER -in '%s/env.der' | grep -o 'id-aes[0-9]*-wrap' | "
	    "head -1", dir), 0);
	ck_assert_int_eq(atoi(txt + 6), (int)kek_vec[_i].len * 8);
	free(txt);
	OPENSSL_free(der);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_kekri_cli_to_skd)
{
	struct skd_cms_opener o;
	unsigned char *der, *pt = NULL;
	size_t len, pt_len;
	ASN1_OBJECT *ct = NULL;

	write_tmp("pt.bin", content, sizeof(content));
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -encrypt "
	    "-binary %s -secretkey %s -secretkeyid " KEK_ID_HEX " -outform "
	    "DER -in '%s/pt.bin' -out '%s/env.der' 2>/dev/null",
	    kek_vec[_i].cli_cipher, kek_vec[_i].hex, dir, dir), 0);
	der = read_tmp("env.der", &len);
	memset(&o, 0, sizeof(o));
	o.kek = kek_vec[_i].key;
	o.kek_len = kek_vec[_i].len;
	o.kek_id = kek_id;
	o.kek_id_len = sizeof(kek_id);
	ck_assert_int_eq(skd_cms_open(&pt, &pt_len, &ct, der, len, &o), 1);
	skd_test_assert_no_ossl_errors();
	ck_assert_uint_eq(pt_len, sizeof(content));
	ck_assert_mem_eq(pt, content, sizeof(content));
	ck_assert_int_eq(OBJ_obj2nid(ct), NID_pkcs7_data);
	OPENSSL_clear_free(pt, pt_len);
	ASN1_OBJECT_free(ct);
	/* A wrong key fails cleanly. */
	o.kek = kek_vec[(_i + 1) % 3].key;
	o.kek_len = kek_vec[(_i + 1) % 3].len;
	ck_assert_int_eq(skd_cms_open(&pt, &pt_len, &ct, der, len, &o), 0);
	ck_assert_ptr_null(pt);
	ERR_clear_error();
	free(der);
}
END_TEST

/* ---- (d) ktri and kari both ways ---- */

static const struct {
	enum skd_test_who	 who;
	unsigned		 flags;
	const char		*cli_opts;
	const char		*print;	/* what -print shows for the RI */
} cert_vec[] = {
	{ SKD_TP_ALICE, 0, "", "rsaEncryption" },
	{ SKD_TP_DAVE, SKD_CMS_RECIP_OAEP,
	  "-keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 "
	  "-keyopt rsa_mgf1_md:sha256", "rsaesOaep" },
	{ SKD_TP_BOB, 0, "", "dhSinglePass-stdDH-sha" },
	{ SKD_TP_CAROL, 0, "", "dhSinglePass-stdDH-sha" },
};

START_TEST(test_cert_skd_to_cli)
{
	const struct skd_test_ident *id = skd_test_pki_id(cert_vec[_i].who);
	struct skd_cms_recip r;
	unsigned char *der = NULL, *out;
	size_t len, out_len;

	memset(&r, 0, sizeof(r));
	r.type = SKD_CMS_RECIP_CERT;
	r.cert = id->cert;
	r.flags = cert_vec[_i].flags;
	ck_assert_int_eq(skd_cms_envelope(&der, &len,
	    OBJ_nid2obj(NID_pkcs7_data), content, sizeof(content), &r, 1,
	    NULL), 1);
	write_tmp("env.der", der, len);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -cmsout -print "
	    "-inform DER -in '%s/env.der' | grep -q '%s'", dir,
	    cert_vec[_i].print), 0);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -decrypt "
	    "-binary -inform DER -in '%s/env.der' -recip '%s' -inkey '%s' "
	    "-out '%s/out.bin' 2>/dev/null", dir, id->cert_path, id->key_path,
	    dir), 0);
	out = read_tmp("out.bin", &out_len);
	ck_assert_uint_eq(out_len, sizeof(content));
	ck_assert_mem_eq(out, content, sizeof(content));
	free(out);
	OPENSSL_free(der);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_cert_cli_to_skd)
{
	const struct skd_test_ident *id = skd_test_pki_id(cert_vec[_i].who);
	const struct skd_test_ident *other = skd_test_pki_id(SKD_TP_GLA);
	struct skd_cms_opener o;
	unsigned char *der, *pt = NULL;
	size_t len, pt_len;
	ASN1_OBJECT *ct = NULL;

	write_tmp("pt.bin", content, sizeof(content));
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -encrypt "
	    "-binary -aes256 -outform DER -in '%s/pt.bin' -out '%s/env.der' "
	    "-recip '%s' %s 2>/dev/null", dir, dir, id->cert_path,
	    cert_vec[_i].cli_opts), 0);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -cmsout -print "
	    "-inform DER -in '%s/env.der' | grep -q '%s'", dir,
	    cert_vec[_i].print), 0);
	der = read_tmp("env.der", &len);
	memset(&o, 0, sizeof(o));
	o.cert = id->cert;
	o.key = id->key;
	ck_assert_int_eq(skd_cms_open(&pt, &pt_len, &ct, der, len, &o), 1);
	skd_test_assert_no_ossl_errors();
	ck_assert_uint_eq(pt_len, sizeof(content));
	ck_assert_mem_eq(pt, content, sizeof(content));
	ck_assert_int_eq(OBJ_obj2nid(ct), NID_pkcs7_data);
	OPENSSL_clear_free(pt, pt_len);
	ASN1_OBJECT_free(ct);
	/* Someone else's key does not open it. */
	o.cert = other->cert;
	o.key = other->key;
	ck_assert_int_eq(skd_cms_open(&pt, &pt_len, &ct, der, len, &o), 0);
	ERR_clear_error();
	free(der);
}
END_TEST

Suite *
skd_suite_interop_cms(void)
{
	Suite *s = suite_create("interop_cms");
	TCase *tc;

	tc = tcase_create("signed");
	tcase_add_unchecked_fixture(tc, interop_setup, NULL);
	tcase_add_checked_fixture(tc, interop_tmp, interop_tmp_free);
	tcase_add_loop_test(tc, test_skd_sign_cli_verify, 0, 3);
	tcase_add_test(tc, test_skd_sign_cli_refuses_revoked);
	tcase_add_loop_test(tc, test_cli_sign_skd_verify, 0, 3);
	suite_add_tcase(s, tc);

	tc = tcase_create("enveloped");
	tcase_add_unchecked_fixture(tc, interop_setup, NULL);
	tcase_add_checked_fixture(tc, interop_tmp, interop_tmp_free);
	tcase_add_loop_test(tc, test_kekri_skd_to_cli, 0, 3);
	tcase_add_loop_test(tc, test_kekri_cli_to_skd, 0, 3);
	tcase_add_loop_test(tc, test_cert_skd_to_cli, 0, 4);
	tcase_add_loop_test(tc, test_cert_cli_to_skd, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}
