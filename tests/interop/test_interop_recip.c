/*
 * test_interop_recip.c: the RecipientInfos of cms_ri.c against the openssl
 * CLI.  Each set is put into a full EnvelopedData whose content is
 * encrypted under the distributed key itself (skd_ri_envelope_with_key);
 * `openssl cms -decrypt` recovering the content proves that the
 * RecipientInfos carry exactly that key (RFC 5275 3.1.13: glkWrapped).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/x509v3.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "cms/skd_recip.h"
#include "skd_test.h"
#include "support/pki.h"

static const unsigned char content[] =
    "RFC 5275 glKey interop: the content-encryption key is the GL KEK.\n";

static const unsigned char kek_id[] = { 0x01, 0x23, 0x45, 0x67, 0x89 };

static void
setup_pki(void)
{
	(void)skd_test_pki_get();
}

static char *
hex(const unsigned char *p, size_t len)
{
	static const char digits[] = "0123456789ABCDEF";
	char *s = malloc(2 * len + 1);
	size_t i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < len; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * len] = '\0';
	return s;
}

/* write_envelope writes the EnvelopedData around der to <dir>/env.der. */
static void
write_envelope(const char *dir, const unsigned char *der, size_t der_len,
    const unsigned char *key, size_t key_len)
{
	unsigned char *env = NULL;
	size_t env_len = 0;
	char path[4096];

	ck_assert_int_eq(skd_ri_envelope_with_key(&env, &env_len, der, der_len,
	    key, key_len, content, sizeof(content) - 1), 1);
	snprintf(path, sizeof(path), "%s/env.der", dir);
	ck_assert_int_eq(skd_test_write_file(path, env, env_len), 1);
	OPENSSL_free(env);
	skd_test_assert_no_ossl_errors();
}

/* check_output checks that <dir>/out.bin holds the content. */
static void
check_output(const char *dir)
{
	unsigned char *got;
	size_t got_len = 0;
	char path[4096];

	snprintf(path, sizeof(path), "%s/out.bin", dir);
	got = skd_test_read_file(path, &got_len);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(got_len, sizeof(content) - 1);
	ck_assert_mem_eq(got, content, got_len);
	free(got);
	(void)remove(path);
}

static int
cli_decrypt_cert(const char *dir, enum skd_test_who who)
{
	const struct skd_test_ident *id = skd_test_pki_id(who);

	return skd_test_run(NULL, NULL, "openssl cms -decrypt -inform DER "
	    "-in '%s/env.der' -recip '%s' -inkey '%s' -out '%s/out.bin' "
	    "2>/dev/null", dir, id->cert_path, id->key_path, dir);
}

static int
cli_decrypt_kek(const char *dir, const unsigned char *kek, size_t kek_len)
{
	char *k = hex(kek, kek_len), *i = hex(kek_id, sizeof(kek_id));
	int rc;

	rc = skd_test_run(NULL, NULL, "openssl cms -decrypt -inform DER "
	    "-in '%s/env.der' -secretkey %s -secretkeyid %s "
	    "-out '%s/out.bin' 2>/dev/null", dir, k, i, dir);
	free(k);
	free(i);
	return rc;
}

/* check_print parses env.der with `openssl cms -cmsout -print` and checks
 * the EnvelopedData version (RFC 5652 6.1). */
static void
check_print(const char *dir, int version)
{
	char *out = NULL, *p;
	int rc;

	rc = skd_test_run(&out, NULL, "openssl cms -cmsout -print -inform DER "
	    "-in '%s/env.der'", dir);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(out);
	p = strstr(out, "d.envelopedData:");
	ck_assert_ptr_nonnull(p);
	p = strstr(p, "version: ");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(atoi(p + strlen("version: ")), version);
	free(out);
}

/* One recipient per case; _i selects it. */
START_TEST(test_cli_single)
{
	static const struct {
		enum skd_test_who	who;
		enum skd_ri_type	type;
		unsigned int		flags;
		size_t			key_len;
		int			version;
	} cases[] = {
		{ SKD_TP_ALICE, SKD_RI_KTRI, 0, 16, 0 },
		{ SKD_TP_DAVE, SKD_RI_KTRI, SKD_RI_OPT_OAEP, 32, 0 },
		{ SKD_TP_ALICE, SKD_RI_KTRI, SKD_RI_OPT_SKI, 24, 2 },
		{ SKD_TP_BOB, SKD_RI_KARI, 0, 32, 2 },
		{ SKD_TP_CAROL, SKD_RI_KARI, SKD_RI_OPT_SKI, 16, 2 },
		{ SKD_TP_COUNT, SKD_RI_KEKRI, 0, 16, 2 },
		{ SKD_TP_COUNT, SKD_RI_KEKRI, 0, 24, 2 },
		{ SKD_TP_COUNT, SKD_RI_KEKRI, 0, 32, 2 },
	};
	static const unsigned char ukm[] = { 0xde, 0xad, 0xbe, 0xef };
	unsigned char key[32], kek[32], *der = NULL;
	struct skd_ri_recipient r;
	size_t len = 0;
	char *dir = skd_test_tmpdir();

	ck_assert_ptr_nonnull(dir);
	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	ck_assert_int_eq(RAND_bytes(kek, sizeof(kek)), 1);
	memset(&r, 0, sizeof(r));
	r.type = cases[_i].type;
	r.flags = cases[_i].flags;
	if (r.type == SKD_RI_KEKRI) {
		/* The previous KEK has the same strength as the new one. */
		r.kek = kek;
		r.kek_len = cases[_i].key_len;
		r.kek_id = kek_id;
		r.kek_id_len = sizeof(kek_id);
	} else {
		r.cert = skd_test_pki_id(cases[_i].who)->cert;
		if (r.type == SKD_RI_KARI && r.flags == 0) {
			r.ukm = ukm;
			r.ukm_len = sizeof(ukm);
		}
	}
	ck_assert_int_eq(skd_ri_build_set(&der, &len, key, cases[_i].key_len,
	    &r, 1), 1);
	write_envelope(dir, der, len, key, cases[_i].key_len);
	check_print(dir, cases[_i].version);
	if (r.type == SKD_RI_KEKRI) {
		ck_assert_int_eq(cli_decrypt_kek(dir, kek, r.kek_len), 0);
		check_output(dir);
		/* A wrong KEK must not decrypt. */
		kek[0] ^= 0x80;
		ck_assert_int_ne(cli_decrypt_kek(dir, kek, r.kek_len), 0);
	} else {
		ck_assert_int_eq(cli_decrypt_cert(dir, cases[_i].who), 0);
		check_output(dir);
		/* Someone else must not. */
		ck_assert_int_ne(cli_decrypt_cert(dir, SKD_TP_GLO1), 0);
	}
	OPENSSL_free(der);
	skd_test_rmdir(dir);
}
END_TEST

/* decrypt_each checks that each of who[0..n) decrypts <dir>/env.der with
 * the CLI, to the content. */
static void
decrypt_each(const char *dir, const enum skd_test_who *who, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ck_assert_msg(cli_decrypt_cert(dir, who[i]) == 0,
		    "openssl cms cannot decrypt for %s",
		    skd_test_pki_id(who[i])->name);
		check_output(dir);
	}
}

/* Five recipients of every kind in one set: each decrypts with the CLI. */
START_TEST(test_cli_mixed)
{
	static const enum skd_test_who members[] = {
		SKD_TP_ALICE, SKD_TP_DAVE, SKD_TP_BOB, SKD_TP_CAROL
	};
	unsigned char key[32], kek[16], *der = NULL;
	struct skd_ri_recipient r[5];
	size_t len = 0, i;
	char *dir = skd_test_tmpdir();

	ck_assert_ptr_nonnull(dir);
	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	ck_assert_int_eq(RAND_bytes(kek, sizeof(kek)), 1);
	memset(r, 0, sizeof(r));
	for (i = 0; i < 4; i++) {
		r[i].cert = skd_test_pki_id(members[i])->cert;
		r[i].type = i < 2 ? SKD_RI_KTRI : SKD_RI_KARI;
	}
	r[1].flags = SKD_RI_OPT_OAEP | SKD_RI_OPT_SKI;
	r[3].flags = SKD_RI_OPT_SKI;
	r[4].type = SKD_RI_KEKRI;
	r[4].kek = kek;
	r[4].kek_len = sizeof(kek);
	r[4].kek_id = kek_id;
	r[4].kek_id_len = sizeof(kek_id);
	ck_assert_int_eq(skd_ri_build_set(&der, &len, key, sizeof(key), r, 5),
	    1);
	write_envelope(dir, der, len, key, sizeof(key));
	check_print(dir, 2);
	decrypt_each(dir, members, 4);
	ck_assert_int_eq(cli_decrypt_kek(dir, kek, sizeof(kek)), 0);
	check_output(dir);
	ck_assert_int_ne(cli_decrypt_cert(dir, SKD_TP_STRANGER), 0);
	OPENSSL_free(der);
	skd_test_rmdir(dir);
}
END_TEST

/* pub_again makes id's public key again from its numbers, as the
 * engine's key cache does (EVP_PKEY_todata, EVP_PKEY_fromdata), and
 * names it by its certificate's issuer, serial and SKI. */
static void
pub_again(struct skd_ri_pub *out, enum skd_test_who who)
{
	X509 *cert = skd_test_pki_id(who)->cert;
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	EVP_PKEY_CTX *ctx;
	OSSL_PARAM *params = NULL;

	memset(out, 0, sizeof(*out));
	ck_assert_int_eq(EVP_PKEY_todata(pk, EVP_PKEY_PUBLIC_KEY, &params), 1);
	ck_assert_ptr_nonnull(ctx = EVP_PKEY_CTX_new_from_name(NULL,
	    EVP_PKEY_get0_type_name(pk), NULL));
	ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &out->pkey, EVP_PKEY_PUBLIC_KEY,
	    params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	out->issuer = X509_get_issuer_name(cert);
	out->serial = X509_get0_serialNumber(cert);
	out->ski = X509_get0_subject_key_id(cert);
	out->checked = 0;
}

/* The same members given by their keys and names alone (skd_ri_pub, the
 * engine's cached form), not their certificates: each decrypts with the
 * CLI, by issuerAndSerialNumber and by subjectKeyIdentifier.  Loop 1
 * also gives both RSA keys a context made ready for rsaEncryption
 * (skd_ri_pub.ktri_ctx, as the engine's warm keys carry): the PKCS #1
 * v1.5 ktri encrypts with it, the OAEP one makes its own (a v1.5
 * encryption under an OAEP keyEncryptionAlgorithm would not open). */
START_TEST(test_cli_pub)
{
	static const enum skd_test_who members[] = {
		SKD_TP_ALICE, SKD_TP_DAVE, SKD_TP_BOB, SKD_TP_CAROL
	};
	unsigned char key[32], *der = NULL;
	struct skd_ri_pub pub[4];
	struct skd_ri_recipient r[4];
	size_t len = 0, i;
	char *dir = skd_test_tmpdir();

	ck_assert_ptr_nonnull(dir);
	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	memset(r, 0, sizeof(r));
	for (i = 0; i < 4; i++) {
		pub_again(&pub[i], members[i]);
		r[i].pub = &pub[i];
		r[i].type = i < 2 ? SKD_RI_KTRI : SKD_RI_KARI;
		if (_i == 1 && i < 2) {
			ck_assert_ptr_nonnull(pub[i].ktri_ctx =
			    EVP_PKEY_CTX_new_from_pkey(NULL, pub[i].pkey,
			    NULL));
			ck_assert_int_eq(EVP_PKEY_encrypt_init(
			    pub[i].ktri_ctx), 1);
			ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(
			    pub[i].ktri_ctx, RSA_PKCS1_PADDING), 1);
		}
	}
	r[1].flags = SKD_RI_OPT_OAEP | SKD_RI_OPT_SKI;
	r[3].flags = SKD_RI_OPT_SKI;
	pub[2].checked = 1;
	ck_assert_int_eq(skd_ri_build_set(&der, &len, key, sizeof(key), r, 4),
	    1);
	write_envelope(dir, der, len, key, sizeof(key));
	check_print(dir, 2);
	decrypt_each(dir, members, 4);
	ck_assert_int_ne(cli_decrypt_cert(dir, SKD_TP_STRANGER), 0);
	for (i = 0; i < 4; i++) {
		EVP_PKEY_CTX_free(pub[i].ktri_ctx);
		EVP_PKEY_free(pub[i].pkey);
	}
	OPENSSL_free(der);
	skd_test_rmdir(dir);
}
END_TEST

/*
 * The other direction: RecipientInfos that `openssl cms -encrypt` built
 * (ktri v1.5, OAEP SHA-1 and SHA-256, kari with OpenSSL's default KDF,
 * kekri) open with skd, every member recovering the same content key.
 */

/* ri_span finds the RecipientInfos SET inside a DER ContentInfo
 * (EnvelopedData without originatorInfo) using OpenSSL's header parser. */
static void
ri_span(const unsigned char *der, long len, const unsigned char **out,
    size_t *out_len)
{
	const unsigned char *p = der, *end = der + len, *set;
	long l;
	int tag, xclass, i;

	/* ContentInfo SEQUENCE, contentType OID, [0], EnvelopedData
	 * SEQUENCE, version INTEGER, then the SET. */
	static const int want[] = { V_ASN1_SEQUENCE, V_ASN1_OBJECT, 0,
	    V_ASN1_SEQUENCE, V_ASN1_INTEGER, V_ASN1_SET };

	for (i = 0; i < 6; i++) {
		set = p;
		ck_assert_int_eq(ASN1_get_object(&p, &l, &tag, &xclass,
		    end - p) & 0x80, 0);
		ck_assert_int_eq(tag, want[i]);
		ck_assert_int_eq(xclass, i == 2 ? V_ASN1_CONTEXT_SPECIFIC :
		    V_ASN1_UNIVERSAL);
		if (i == 1 || i == 4) {
			p += l;		/* skip primitive values */
		}
	}
	*out = set;
	*out_len = (size_t)(p + l - set);
}

START_TEST(test_openssl_built)
{
	static const enum skd_test_who members[] = {
		SKD_TP_ALICE, SKD_TP_DAVE, SKD_TP_BOB, SKD_TP_CAROL, SKD_TP_GLA
	};
	const struct skd_test_ident *id[5];
	unsigned char kek[32], *env, *got = NULL, first[32];
	const unsigned char *ri;
	struct skd_ri_entry *list = NULL;
	size_t env_len = 0, ri_len = 0, got_len = 0, n = 0, i;
	char *dir = skd_test_tmpdir(), *k, *kid, path[4096];
	int seen[5] = { 0 };

	ck_assert_ptr_nonnull(dir);
	for (i = 0; i < 5; i++) {
		id[i] = skd_test_pki_id(members[i]);
	}
	ck_assert_int_eq(RAND_bytes(kek, sizeof(kek)), 1);
	k = hex(kek, sizeof(kek));
	kid = hex(kek_id, sizeof(kek_id));
	snprintf(path, sizeof(path), "%s/content", dir);
	ck_assert_int_eq(skd_test_write_file(path, content,
	    sizeof(content) - 1), 1);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -encrypt "
	    "-binary -aes256 -in '%s/content' -outform DER -out '%s/env.der' "
	    "-recip '%s' -keyopt rsa_padding_mode:oaep "
	    "-recip '%s' -keyopt rsa_padding_mode:oaep "
	    "-keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha256 "
	    "-recip '%s' -recip '%s' -recip '%s' "
	    "-secretkey %s -secretkeyid %s", dir, dir, id[0]->cert_path,
	    id[1]->cert_path, id[2]->cert_path, id[3]->cert_path,
	    id[4]->cert_path, k, kid), 0);
	snprintf(path, sizeof(path), "%s/env.der", dir);
	env = skd_test_read_file(path, &env_len);
	ck_assert_ptr_nonnull(env);
	ri_span(env, (long)env_len, &ri, &ri_len);

	ck_assert_int_eq(skd_ri_list_recipients(&list, &n, ri, ri_len), 1);
	ck_assert_uint_eq(n, 6);
	for (i = 0; i < n; i++) {
		ck_assert_int_le(list[i].type, SKD_RI_KEKRI);
		seen[list[i].type]++;
	}
	ck_assert_int_eq(seen[SKD_RI_KTRI], 3);
	ck_assert_int_eq(seen[SKD_RI_KARI], 2);
	ck_assert_int_eq(seen[SKD_RI_KEKRI], 1);
	skd_ri_free_list(list, n);

	/* aes256: a 32-byte content key, the same for every recipient. */
	for (i = 0; i < 5; i++) {
		ck_assert_msg(skd_ri_open_cert(&got, &got_len, ri, ri_len,
		    id[i]->cert, id[i]->key) == 1, "%s cannot open",
		    id[i]->name);
		ck_assert_uint_eq(got_len, 32);
		if (i == 0) {
			memcpy(first, got, 32);
		} else {
			ck_assert_mem_eq(got, first, 32);
		}
		skd_ri_free_key(got, got_len);
	}
	ck_assert_int_eq(skd_ri_open_kek(&got, &got_len, ri, ri_len, kek,
	    sizeof(kek), kek_id, sizeof(kek_id)), 1);
	ck_assert_uint_eq(got_len, 32);
	ck_assert_mem_eq(got, first, 32);
	skd_ri_free_key(got, got_len);
	skd_test_assert_no_ossl_errors();

	/* Re-enveloping OpenSSL's RecipientInfos under that key decrypts. */
	write_envelope(dir, ri, ri_len, first, sizeof(first));
	ck_assert_int_eq(cli_decrypt_cert(dir, SKD_TP_CAROL), 0);
	check_output(dir);
	OPENSSL_cleanse(first, sizeof(first));
	free(env);
	free(k);
	free(kid);
	skd_test_rmdir(dir);
}
END_TEST

/* pwri (RFC 3211) from `openssl cms -pwri_password` is parsed and listed
 * but never opened; with it the EnvelopedData is version 3 (RFC 5652 6.1). */
START_TEST(test_openssl_pwri)
{
	const struct skd_test_ident *alice = skd_test_pki_id(SKD_TP_ALICE);
	unsigned char *env, *got = NULL;
	const unsigned char *ri;
	struct skd_ri_entry *list = NULL;
	size_t env_len = 0, ri_len = 0, got_len = 0, n = 0, i;
	char *dir = skd_test_tmpdir(), path[4096];
	int pwri = 0;

	ck_assert_ptr_nonnull(dir);
	snprintf(path, sizeof(path), "%s/content", dir);
	ck_assert_int_eq(skd_test_write_file(path, content,
	    sizeof(content) - 1), 1);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -encrypt "
	    "-binary -aes128 -in '%s/content' -outform DER -out '%s/env.der' "
	    "-recip '%s' -pwri_password 'not a KEK'", dir, dir,
	    alice->cert_path), 0);
	snprintf(path, sizeof(path), "%s/env.der", dir);
	env = skd_test_read_file(path, &env_len);
	ck_assert_ptr_nonnull(env);
	ri_span(env, (long)env_len, &ri, &ri_len);

	ck_assert_int_eq(skd_ri_list_recipients(&list, &n, ri, ri_len), 1);
	ck_assert_uint_eq(n, 2);
	for (i = 0; i < n; i++) {
		if (list[i].type == SKD_RI_PWRI) {
			pwri++;
			ck_assert_int_eq(list[i].version, 0);
			ck_assert_int_eq(list[i].rid_type, SKD_RI_RID_NONE);
		} else {
			ck_assert_int_eq(list[i].type, SKD_RI_KTRI);
		}
	}
	ck_assert_int_eq(pwri, 1);
	skd_ri_free_list(list, n);

	ck_assert_int_eq(skd_ri_open_cert(&got, &got_len, ri, ri_len,
	    alice->cert, alice->key), 1);
	ck_assert_uint_eq(got_len, 16);
	skd_test_assert_no_ossl_errors();
	write_envelope(dir, ri, ri_len, got, got_len);
	skd_ri_free_key(got, got_len);
	check_print(dir, 3);
	ck_assert_int_eq(cli_decrypt_cert(dir, SKD_TP_ALICE), 0);
	check_output(dir);
	free(env);
	skd_test_rmdir(dir);
}
END_TEST

Suite *
skd_suite_interop_recip(void)
{
	Suite *s = suite_create("interop_recip");
	TCase *tc = tcase_create("openssl-cli");

	tcase_add_unchecked_fixture(tc, setup_pki, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_cli_single, 0, 8);
	tcase_add_test(tc, test_cli_mixed);
	tcase_add_loop_test(tc, test_cli_pub, 0, 2);
	tcase_add_test(tc, test_openssl_built);
	tcase_add_test(tc, test_openssl_pwri);
	suite_add_tcase(s, tc);
	return s;
}
