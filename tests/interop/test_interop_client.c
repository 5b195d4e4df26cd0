/*
 * test_interop_client.c: the client against the openssl CLI and the skd
 * command line.  Content encrypted under a group KEK (kekri) opens with
 * `openssl cms -decrypt -secretkey` and the other way round; requests
 * verify with `openssl cms -verify`; the skd glo/member/response commands
 * exit with the codes documented in skd-member(1) on bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "client/skd_client.h"
#include "cms/skd_cmc.h"
#include "cms/skd_layers.h"
#include "skd_test.h"
#include "support/ks.h"
#include "support/pki.h"

#define GL	"URI:https://gla.example.com/"

static const unsigned char plain[] =
    "RFC 5275: content for the whole list, under the shared KEK.\n";

static void
setup_pki(void)
{
	(void)skd_test_pki_get();
}

static char *
hex(const unsigned char *p, size_t len)
{
	char *s = skd_client_hex(p, len);

	ck_assert_ptr_nonnull(s);
	return s;
}

/* A key store at dir/keys holding one key of GL (kek_len bytes). */
static void
make_store(const char *path, unsigned char *kek, size_t kek_len,
    unsigned char *kid, size_t kid_len)
{
	struct skd_client_error e = { 0 };
	struct skd_client_keystore *ks;
	struct skd_client_key k;
	time_t now = time(NULL);
	char pw[600];

	ck_assert_int_eq(RAND_bytes(kek, (int)kek_len), 1);
	ck_assert_int_eq(RAND_bytes(kid, (int)kid_len), 1);
	memset(&k, 0, sizeof(k));
	k.gl_name = (char *)GL;
	k.gla_subject = (char *)"CN=gla,O=skd test,C=US";
	k.key_id = kid;
	k.key_id_len = kid_len;
	k.alg_nid = kek_len == 16 ? NID_id_aes128_wrap : kek_len == 24 ?
	    NID_id_aes192_wrap : NID_id_aes256_wrap;
	k.not_before = now - 3600;
	k.not_after = now + 86400;
	k.kek = kek;
	k.kek_len = kek_len;
	ck_assert_ptr_nonnull(ks = skd_test_ks_open(path, SKD_CLIENT_KS_CREATE, &e));
	ck_assert_int_eq(skd_client_keystore_add(ks, &k, NULL, &e), 1);
	ck_assert_msg(skd_client_keystore_save(ks, &e), "%s", e.msg);
	skd_client_keystore_free(ks);
	/* the passphrase for the CLI: SKD_PASSPHRASE_FILE=<path>.pw */
	snprintf(pw, sizeof(pw), "%s.pw", path);
	ck_assert_int_eq(skd_test_write_file(pw, SKD_TEST_KS_PASS "\n",
	    strlen(SKD_TEST_KS_PASS) + 1), 1);
	ck_assert_int_eq(chmod(pw, 0600), 0);
}

static const size_t kek_sizes[] = { 16, 24, 32 };

/* client encrypts (library and CLI) -> openssl cms -decrypt */
START_TEST(test_encrypt_to_openssl)
{
	char *dir = skd_test_tmpdir(), path[512], *khex, *ihex;
	struct skd_client_error e = { 0 };
	struct skd_client_keystore *ks;
	unsigned char kek[32], kid[8], *der = NULL, *got;
	size_t len = 0, glen = 0;

	snprintf(path, sizeof(path), "%s/keys", dir);
	make_store(path, kek, kek_sizes[_i], kid, sizeof(kid));
	khex = hex(kek, kek_sizes[_i]);
	ihex = hex(kid, sizeof(kid));
	ck_assert_ptr_nonnull(ks = skd_test_ks_open(path, 0, &e));
	ck_assert_msg(skd_client_encrypt(&der, &len, ks, GL, time(NULL), plain,
	    sizeof(plain) - 1, &e), "%s", e.msg);
	skd_client_keystore_free(ks);
	snprintf(path, sizeof(path), "%s/lib.der", dir);
	ck_assert_int_eq(skd_test_write_file(path, der, len), 1);
	OPENSSL_free(der);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -decrypt "
	    "-inform DER -in %s/lib.der -secretkey %s -secretkeyid %s "
	    "-out %s/lib.out", dir, khex, ihex, dir), 0);
	snprintf(path, sizeof(path), "%s/lib.out", dir);
	ck_assert_ptr_nonnull(got = skd_test_read_file(path, &glen));
	ck_assert_uint_eq(glen, sizeof(plain) - 1);
	ck_assert_mem_eq(got, plain, glen);
	free(got);

	/* the same through skd member encrypt */
	snprintf(path, sizeof(path), "%s/plain", dir);
	ck_assert_int_eq(skd_test_write_file(path, plain, sizeof(plain) - 1),
	    1);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "SKD_PASSPHRASE_FILE="
	    "%s/keys.pw '%s' member encrypt --keystore %s/keys --gl %s --in "
	    "%s/plain --out %s/cli.der", dir, skd_test_bin(), dir, GL, dir,
	    dir), 0);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -decrypt "
	    "-inform DER -in %s/cli.der -secretkey %s -secretkeyid %s "
	    "-out %s/cli.out && cmp -s %s/cli.out %s/plain", dir, khex, ihex,
	    dir, dir, dir), 0);
	/* a wrong key id makes openssl fail: the test can fail */
	ck_assert_int_ne(skd_test_run(NULL, NULL, "openssl cms -decrypt "
	    "-inform DER -in %s/cli.der -secretkey %s -secretkeyid 00 "
	    "-out /dev/null 2>/dev/null", dir, khex), 0);
	OPENSSL_free(khex);
	OPENSSL_free(ihex);
	skd_test_rmdir(dir);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* openssl cms -encrypt -secretkey -> client decrypts (library and CLI) */
START_TEST(test_decrypt_from_openssl)
{
	static const char *ciphers[] = { "-aes128", "-aes192", "-aes256" };
	char *dir = skd_test_tmpdir(), path[512], *khex, *ihex;
	struct skd_client_error e = { 0 };
	struct skd_client_keystore *ks;
	unsigned char kek[32], kid[5], *der, *pt = NULL;
	size_t len = 0, ptlen = 0;

	snprintf(path, sizeof(path), "%s/keys", dir);
	make_store(path, kek, kek_sizes[_i], kid, sizeof(kid));
	khex = hex(kek, kek_sizes[_i]);
	ihex = hex(kid, sizeof(kid));
	snprintf(path, sizeof(path), "%s/plain", dir);
	ck_assert_int_eq(skd_test_write_file(path, plain, sizeof(plain) - 1),
	    1);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -encrypt "
	    "-binary -in %s/plain -outform DER -out %s/enc.der %s "
	    "-secretkey %s -secretkeyid %s", dir, dir, ciphers[_i], khex,
	    ihex), 0);
	snprintf(path, sizeof(path), "%s/enc.der", dir);
	ck_assert_ptr_nonnull(der = skd_test_read_file(path, &len));
	snprintf(path, sizeof(path), "%s/keys", dir);
	ck_assert_ptr_nonnull(ks = skd_test_ks_open(path, 0, &e));
	ck_assert_msg(skd_client_decrypt(&pt, &ptlen, ks, der, len, &e),
	    "%s", e.msg);
	ck_assert_uint_eq(ptlen, sizeof(plain) - 1);
	ck_assert_mem_eq(pt, plain, ptlen);
	OPENSSL_clear_free(pt, ptlen);
	skd_client_keystore_free(ks);
	free(der);
	/* PEM through the CLI */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -encrypt "
	    "-binary -in %s/plain -outform PEM -out %s/enc.pem -aes256 "
	    "-secretkey %s -secretkeyid %s && SKD_PASSPHRASE_FILE=%s/keys.pw "
	    "'%s' member decrypt --keystore %s/keys --in %s/enc.pem --out "
	    "%s/dec && cmp -s %s/dec %s/plain", dir, dir, khex, ihex, dir,
	    skd_test_bin(), dir, dir, dir, dir, dir), 0);
	OPENSSL_free(khex);
	OPENSSL_free(ihex);
	skd_test_rmdir(dir);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* A request written with --out verifies with openssl cms -verify; --ldif
 * carries the same kind of message. */
START_TEST(test_request_files)
{
	const struct skd_test_pki *pki = skd_test_pki_get();
	const struct skd_test_ident *glo = skd_test_pki_id(SKD_TP_GLO1);
	char *dir = skd_test_tmpdir(), *out = NULL;
	struct skd_layers *l = NULL;
	unsigned char *der = NULL;
	size_t len = 0, olen = 0;

	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' glo create --gl %s "
	    "--owner email:glo1@example.com --cert %s --key %s --admin closed "
	    "--alg aes256 --duration 0 --generations 4 --out %s/req.der",
	    skd_test_bin(), GL, glo->cert_path, glo->key_path, dir), 0);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -verify "
	    "-inform DER -in %s/req.der -CAfile %s/ca.crt -purpose any "
	    "-out %s/body.der 2>/dev/null && openssl asn1parse -inform DER "
	    "-in %s/body.der | grep -q ':1.2.840.113549.1.9.16.8.1'", dir,
	    pki->dir, dir, dir), 0);
	/* --ldif needs the DN ldapadd binds as (skdSubmitterDN) */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' member join --gl %s "
	    "--cert %s --key %s --ldif 2>/dev/null", skd_test_bin(), GL,
	    skd_test_pki_id(SKD_TP_ALICE)->cert_path,
	    skd_test_pki_id(SKD_TP_ALICE)->key_path), 2);
	ck_assert_int_eq(skd_test_run(&out, &olen, "'%s' member join --gl %s "
	    "--cert %s --key %s --ldif --submitter-dn "
	    "'uid=alice,ou=people,dc=example,dc=com'", skd_test_bin(), GL,
	    skd_test_pki_id(SKD_TP_ALICE)->cert_path,
	    skd_test_pki_id(SKD_TP_ALICE)->key_path), 0);
	ck_assert_ptr_nonnull(strstr(out, "dn: skdRequestId="));
	ck_assert_ptr_nonnull(strstr(out, ",ou=requests,ou=skd,dc=example,"
	    "dc=com\nobjectClass: skdRequest\nskdRequestId: "));
	ck_assert_ptr_nonnull(strstr(out, "\nskdSubmitterDN: uid=alice,"
	    "ou=people,dc=example,dc=com\nskdState: pending\n\n"));
	ck_assert_int_eq(skd_client_ldif_binary(&der, &len, out, olen,
	    "skdMessage"), 1);
	ck_assert_int_eq(skd_layers_walk(&l, der, len, NULL), 1);
	ck_assert_int_eq(l->v[l->n - 1].type, SKD_LAYER_PKI_DATA);
	ck_assert_ptr_nonnull(skd_cmc_find_control(
	    l->v[l->n - 1].pki_data->controlSequence, SKD_OID_GL_ADD_MEMBER,
	    0));
	skd_layers_free(l);
	OPENSSL_free(der);
	free(out);
	out = NULL;

	/* --members-file: one glAddMember per line, certificates attached */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "printf '# staff\\n"
	    "email:alice@example.com %s\\n\\nemail:bob@example.com\\n' "
	    "> %s/members && '%s' glo add-member --gl %s --members-file "
	    "%s/members --cert %s --key %s --out %s/add.der", skd_test_pki_id(
	    SKD_TP_ALICE)->cert_path, dir, skd_test_bin(), GL, dir,
	    glo->cert_path, glo->key_path, dir), 0);
	ck_assert_int_eq(skd_test_run(&out, NULL, "openssl cms -verify "
	    "-inform DER -in %s/add.der -CAfile %s/ca.crt -purpose any "
	    "-out %s/add.body 2>/dev/null && openssl asn1parse -inform DER "
	    "-in %s/add.body | grep -c ':1.2.840.113549.1.9.16.8.3'", dir,
	    pki->dir, dir, dir), 0);
	ck_assert_int_eq(atoi(out), 2);
	free(out);
	out = NULL;
	/* a bad line is named, nothing is written */
	ck_assert_int_eq(skd_test_run(&out, NULL, "printf 'email:a@b\\n"
	    "nobody\\n' > %s/bad && '%s' glo add-member --gl %s "
	    "--members-file %s/bad --cert %s --key %s --out %s/bad.der 2>&1; "
	    "test ! -e %s/bad.der", dir, skd_test_bin(), GL, dir,
	    glo->cert_path, glo->key_path, dir, dir), 0);
	ck_assert_msg(strstr(out, "line 2") != NULL, "%s", out);
	free(out);
	skd_test_rmdir(dir);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* A response as the GLA signs it, written to dir/name. */
static void
write_response(const char *dir, const char *name, enum skd_test_who signer,
    enum skd_cmc_status st, int skd_fail)
{
	struct skd_cmc_body *b = skd_cmc_body_new(1);
	struct skd_cmc_protect p = { 0 };
	unsigned char *body = NULL, *der = NULL;
	size_t body_len = 0, len = 0;
	char path[512];
	long one = 1;

	ck_assert_int_gt(skd_cmc_body_add_status(b, st, &one, 1, NULL, -1,
	    skd_fail), 0);
	ck_assert_int_eq(skd_cmc_body_encode(b, &body, &body_len), 1);
	p.signer = skd_test_pki_id(signer)->cert;
	p.key = skd_test_pki_id(signer)->key;
	p.signing_time = time(NULL);
	ck_assert_int_eq(skd_cmc_protect(&der, &len, 1, body, body_len, &p),
	    1);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(skd_test_write_file(path, der, len), 1);
	OPENSSL_free(der);
	OPENSSL_free(body);
	skd_cmc_body_free(b);
}

/* The CLI's exit codes on bad input (skd-member(1), EXIT STATUS). */
START_TEST(test_cli_exit_codes)
{
	const struct skd_test_pki *pki = skd_test_pki_get();
	const struct skd_test_ident *a = skd_test_pki_id(SKD_TP_ALICE);
	const struct skd_test_ident *b = skd_test_pki_id(SKD_TP_BOB);
	const char *bin = skd_test_bin();
	char *dir = skd_test_tmpdir(), path[512], *out = NULL;
	unsigned char kek[16], kid[4];

	/* 2: usage */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' member frobnicate "
	    "2>/dev/null", bin), 2);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' member join --cert "
	    "%s --key %s --out /dev/null 2>/dev/null", bin, a->cert_path,
	    a->key_path), 2);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' glo delete --gl %s "
	    "--member email:x@y 2>/dev/null", bin, GL), 2);
	/* 3: missing file, key not matching the certificate, bad name */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' member join --gl %s "
	    "--cert %s/nonexistent.crt --key %s --out /dev/null 2>/dev/null",
	    bin, GL, dir, a->key_path), 3);
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' member join --gl %s "
	    "--cert %s --key %s --out /dev/null 2>&1", bin, GL, a->cert_path,
	    b->key_path), 3);
	ck_assert_msg(strstr(out, "does not match") != NULL &&
	    strchr(out, '\n') == strrchr(out, '\n'), "%s", out);
	free(out);
	out = NULL;
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' glo add-member --gl "
	    "%s --member nobody --cert %s --key %s --out /dev/null "
	    "2>/dev/null", bin, GL, a->cert_path, a->key_path), 3);
	/* 3: a key store others can read */
	snprintf(path, sizeof(path), "%s/keys", dir);
	make_store(path, kek, sizeof(kek), kid, sizeof(kid));
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "echo hi | '%s' member "
	    "encrypt --keystore %s --gl %s >/dev/null 2>&1", bin, path, GL),
	    3);
	ck_assert_int_eq(chmod(path, 0600), 0);
	/* 1: no key of that GL */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "echo hi | "
	    "SKD_PASSPHRASE_FILE=%s.pw '%s' member encrypt --keystore %s "
	    "--gl URI:https://other.example.com/ >/dev/null 2>&1", path, bin,
	    path), 1);
	/* responses: 0 success, 1 failure status, 4 not believed */
	write_response(dir, "ok.der", SKD_TP_GLA, SKD_CMC_SUCCESS, -1);
	write_response(dir, "fail.der", SKD_TP_GLA, SKD_CMC_FAILED,
	    SKD_FAIL_NOT_A_MEMBER);
	write_response(dir, "alice.der", SKD_TP_ALICE, SKD_CMC_SUCCESS, -1);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' response --CAfile "
	    "%s/ca.crt --gl %s %s/ok.der >/dev/null", bin, pki->dir, GL, dir),
	    0);
	ck_assert_int_eq(skd_test_run(&out, NULL, "'%s' response --CAfile "
	    "%s/ca.crt --gl %s --json %s/fail.der", bin, pki->dir, GL, dir), 1);
	ck_assert_msg(strstr(out, "\"SKDFailInfo\":\"notAMember\"") != NULL,
	    "%s", out);
	free(out);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' response --CAfile "
	    "%s/ca.crt --gl %s %s/alice.der >/dev/null 2>&1", bin, pki->dir,
	    GL, dir), 4);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' response --CAfile "
	    "%s/ca.crt --gl URI:https://elsewhere.example.com/ %s/ok.der "
	    ">/dev/null 2>&1", bin, pki->dir, dir), 4);
	/* 5: the directory cannot be reached (tried once: an interactive
	 * client fails at once); the password on standard input */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "echo pw | '%s' member "
	    "leave --gl %s --cert %s --key %s --CAfile %s/ca.crt --uri "
	    "ldap://127.0.0.1:1 --bind-dn uid=alice,dc=example,dc=com "
	    "--password-file - 2>/dev/null", bin, GL, a->cert_path,
	    a->key_path, pki->dir), 5);
	/* an empty password (an unauthenticated bind) is refused: 3 */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' member leave --gl %s "
	    "--cert %s --key %s --CAfile %s/ca.crt --uri ldap://127.0.0.1:1 "
	    "--bind-dn uid=alice,dc=example,dc=com --password-file /dev/null "
	    "2>/dev/null", bin, GL, a->cert_path, a->key_path, pki->dir), 3);
	skd_test_rmdir(dir);
}
END_TEST

Suite *
skd_suite_interop_client(void)
{
	Suite *s = suite_create("interop_client");
	TCase *tc;

	tc = tcase_create("openssl");
	tcase_add_unchecked_fixture(tc, setup_pki, NULL);
	tcase_add_loop_test(tc, test_encrypt_to_openssl, 0, 3);
	tcase_add_loop_test(tc, test_decrypt_from_openssl, 0, 3);
	tcase_add_test(tc, test_request_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("cli");
	tcase_add_unchecked_fixture(tc, setup_pki, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_cli_exit_codes);
	suite_add_tcase(s, tc);
	return s;
}
