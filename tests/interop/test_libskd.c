/*
 * test_libskd.c: libskd as an application sees it.  `make install
 * DESTDIR=<tmp>` puts the shared library, <skd/skd.h>, skd.pc and skd(3)
 * in a private tree; tests/libskd/skd-crypt.c is built from that tree
 * with `pkg-config --cflags --libs skd` alone, its ciphertext opens with
 * `openssl cms -decrypt -secretkey`, and what openssl encrypts it opens.
 * The library exports exactly the functions of <skd/skd.h>, under the
 * soname libskd.so.0.  The facade itself (errors, lists, get0 views) is
 * checked in-process against the same key store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/objects.h>
#include <openssl/rand.h>

#include "client/skd_client.h"
#include "skd/skd.h"
#include "skd_test.h"
#include "support/ks.h"

#define GL	"email:staff@example.com"

static char *dir;
static unsigned char kek[32], kid[8];

/* Writes a key store at <dir>/ks holding one AES-256 KEK of GL, valid
 * from a minute ago for an hour. */
static void
make_keystore(void)
{
	struct skd_client_error e = { 0 };
	struct skd_client_keystore *ks;
	struct skd_client_key k;
	char path[4096];
	int added = 0;

	ck_assert_int_eq(RAND_bytes(kek, sizeof(kek)), 1);
	ck_assert_int_eq(RAND_bytes(kid, sizeof(kid)), 1);
	snprintf(path, sizeof(path), "%s/ks", dir);
	ks = skd_test_ks_open(path, SKD_CLIENT_KS_CREATE, &e);
	ck_assert_msg(ks != NULL, "%s", e.msg);
	memset(&k, 0, sizeof(k));
	k.gl_name = (char *)GL;
	k.gla_subject = (char *)"CN=GLA,O=Example";
	k.key_id = kid;
	k.key_id_len = sizeof(kid);
	k.alg_nid = NID_id_aes256_wrap;
	k.not_before = time(NULL) - 60;
	k.not_after = time(NULL) + 3600;
	k.kek = kek;
	k.kek_len = sizeof(kek);
	ck_assert_msg(skd_client_keystore_add(ks, &k, &added, &e), "%s",
	    e.msg);
	ck_assert_msg(skd_client_keystore_save(ks, &e), "%s", e.msg);
	skd_client_keystore_free(ks);
}

static void
setup(void)
{
	dir = skd_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
	make_keystore();
}

static void
teardown(void)
{
	skd_test_rmdir(dir);
	dir = NULL;
}

/* The test passphrase, as an application's callback gives it. */
static int
test_pass(char *buf, size_t size, size_t *out_len, int confirm, void *arg)
{
	(void)confirm;
	(void)arg;
	*out_len = strlen(SKD_TEST_KS_PASS);
	if (*out_len >= size)
		return 0;
	memcpy(buf, SKD_TEST_KS_PASS, *out_len + 1);
	return 1;
}

static char *
hex(const unsigned char *p, size_t n)
{
	char *s = skd_client_hex(p, n);

	ck_assert_ptr_nonnull(s);
	return s;
}

static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v != NULL ? v : dflt;
}

START_TEST(test_installed_tree)
{
	char *out = NULL, *k = hex(kek, sizeof(kek)), *i = hex(kid,
	    sizeof(kid));
	const char *top = skd_test_top();
	const char *build = env_or("SKD_BUILD", "build");
	const char *san = env_or("SKD_SANFLAGS", "");
	char pc[4096], lib[4096];
	size_t len = 0;
	int rc;

	/* make install into a private tree, as a package build would. */
	rc = skd_test_run(&out, &len, "make -s -C '%s' install "
	    "DESTDIR='%s/root' PREFIX=/usr BUILD='%s' 2>&1", top, dir, build);
	ck_assert_msg(rc == 0, "make install: %s", out);
	free(out);
	snprintf(pc, sizeof(pc), "PKG_CONFIG_PATH='%s/root/usr/lib/pkgconfig'"
	    " PKG_CONFIG_SYSROOT_DIR='%s/root'", dir, dir);
	snprintf(lib, sizeof(lib), "%s/root/usr/lib", dir);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "test -f '%s/root/usr/"
	    "include/skd/skd.h' && test -f '%s/root/usr/share/man/man3/"
	    "skd.3' && test -L '%s/libskd.so.0' && test -L '%s/libskd.so'",
	    dir, dir, lib, lib), 0);
	ck_assert_int_eq(skd_test_run(&out, &len, "%s pkg-config --modversion "
	    "skd", pc), 0);
	ck_assert_str_eq(out, SKD_VERSION_TEXT "\n");
	free(out);

	/* The soname carries the major version; the exports are exactly
	 * the header's SKD_EXPORT functions. */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "objdump -p '%s/libskd.so' "
	    "| grep -q 'SONAME *libskd.so.0$'", lib), 0);
	rc = skd_test_run(&out, &len, "sed -n "
	    "'s/^SKD_EXPORT.*[ *]\\(skd_[a-z0-9_]*\\)(.*/\\1/p' "
	    "'%s/root/usr/include/skd/skd.h' | sort > '%s/want' && "
	    "nm -D --defined-only '%s/libskd.so' | awk '$2 == \"T\" "
	    "{ sub(/@.*/, \"\", $3); print $3 }' | sort > '%s/have' && "
	    "test -s '%s/want' && diff '%s/want' '%s/have' 2>&1", dir, dir,
	    lib, dir, dir, dir, dir);
	ck_assert_msg(rc == 0, "exports differ from <skd/skd.h>:\n%s", out);
	free(out);

	/* An application built with pkg-config alone. */
	rc = skd_test_run(&out, &len, "cc %s -std=c99 -Wall -Werror "
	    "-o '%s/skd-crypt' '%s/tests/libskd/skd-crypt.c' "
	    "$(%s pkg-config --cflags --libs skd) 2>&1", san, dir, top, pc);
	ck_assert_msg(rc == 0, "building skd-crypt: %s", out);
	free(out);
	ck_assert_int_eq(skd_test_run(&out, &len, "objdump -p '%s/skd-crypt' "
	    "| grep NEEDED | grep -c libskd.so.0", dir), 0);
	free(out);

	ck_assert_int_eq(skd_test_run(NULL, NULL, "head -c 5000 /dev/urandom "
	    "> '%s/plain'", dir), 0);
	rc = skd_test_run(&out, &len, "SKD_CRYPT_PASSPHRASE='" SKD_TEST_KS_PASS "' "
	    "LD_LIBRARY_PATH='%s' '%s/skd-crypt' "
	    "encrypt '%s/ks' '%s' '%s/plain' '%s/ct' 2>&1", lib, dir, dir,
	    GL, dir, dir);
	ck_assert_msg(rc == 0, "skd-crypt encrypt: %s", out);
	free(out);
	rc = skd_test_run(&out, &len, "openssl cms -decrypt -inform DER "
	    "-in '%s/ct' -secretkey %s -secretkeyid %s -out '%s/back' 2>&1 "
	    "&& cmp '%s/plain' '%s/back'", dir, k, i, dir, dir, dir);
	ck_assert_msg(rc == 0, "openssl cms -decrypt: %s", out);
	free(out);

	/* And the other way: what openssl encrypts under the KEK. */
	rc = skd_test_run(&out, &len, "openssl cms -encrypt -outform DER "
	    "-binary -in '%s/plain' -aes256 -secretkey %s -secretkeyid %s "
	    "-out '%s/ct2' 2>&1 && SKD_CRYPT_PASSPHRASE='" SKD_TEST_KS_PASS "' "
	    "LD_LIBRARY_PATH='%s' '%s/skd-crypt' "
	    "decrypt '%s/ks' '%s/ct2' '%s/back2' 2>&1 && "
	    "cmp '%s/plain' '%s/back2'", dir, k, i, dir, lib, dir, dir, dir,
	    dir, dir, dir);
	ck_assert_msg(rc == 0, "openssl -> skd-crypt: %s", out);
	free(out);

	/* A GL without keys: the error's name and message reach the
	 * application. */
	rc = skd_test_run(&out, &len, "SKD_CRYPT_PASSPHRASE='" SKD_TEST_KS_PASS "' "
	    "LD_LIBRARY_PATH='%s' '%s/skd-crypt' "
	    "encrypt '%s/ks' email:other@example.com '%s/plain' '%s/ct3' "
	    "2>&1", lib, dir, dir, dir, dir);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(out, "no key: ") != NULL &&
	    strstr(out, "other@example.com") != NULL, "%s", out);
	free(out);
	OPENSSL_free(k);
	OPENSSL_free(i);
}
END_TEST

START_TEST(test_facade)
{
	char path[4096], **names = NULL;
	const SKD_KEY *key;
	const unsigned char *id;
	unsigned char *ct = NULL, *pt = NULL;
	size_t n = 0, id_len = 0, ct_len = 0, pt_len = 0;
	SKD_KEYSTORE *ks;
	SKD_UNLOCK *u;

	snprintf(path, sizeof(path), "%s/ks", dir);
	/* No secret: a protected store does not open. */
	ck_assert_ptr_null(skd_keystore_open(path, 0, NULL));
	ck_assert_int_ne(skd_error_code(), SKD_OK);
	ck_assert_ptr_nonnull(u = skd_unlock_new());
	ck_assert_int_eq(skd_unlock_set_passphrase_cb(u, test_pass, NULL), 1);
	ks = skd_keystore_open(path, 0, u);
	skd_unlock_free(u);
	ck_assert_msg(ks != NULL, "%s", skd_error_message());
	ck_assert_uint_eq(skd_keystore_get_count(ks), 1);
	ck_assert_ptr_null(skd_keystore_get0_key(ks, 1));
	key = skd_keystore_get0_current(ks, GL);
	ck_assert_ptr_nonnull(key);
	ck_assert_ptr_eq(key, skd_keystore_get0_key(ks, 0));
	ck_assert_str_eq(skd_key_get0_gl(key), GL);
	ck_assert_str_eq(skd_key_get0_gla(key), "CN=GLA,O=Example");
	ck_assert_str_eq(skd_key_get0_algorithm(key), "id-aes256-wrap");
	id = skd_key_get0_id(key, &id_len);
	ck_assert_mem_eq(id, kid, sizeof(kid));
	ck_assert_uint_eq(id_len, sizeof(kid));
	ck_assert(skd_key_get_not_before(key) < time(NULL));
	ck_assert(skd_key_get_not_after(key) > time(NULL));
	ck_assert_int_eq(skd_keystore_get1_gls(ks, &names, &n), 1);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], GL);
	skd_names_free(names, n);

	ck_assert_int_eq(skd_encrypt(&ct, &ct_len, ks, GL,
	    (const unsigned char *)"hello", 5), 1);
	ck_assert_int_eq(skd_decrypt(&pt, &pt_len, ks, ct, ct_len), 1);
	ck_assert_mem_eq(pt, "hello", 5);
	ck_assert_uint_eq(pt_len, 5);
	skd_free(pt, pt_len);

	/* Errors: a code, a name and a message, per thread. */
	skd_error_clear();
	ck_assert_int_eq(skd_error_code(), SKD_OK);
	ck_assert_ptr_null(skd_keystore_get0_current(ks,
	    "email:none@example.com"));
	ck_assert_int_eq(skd_error_code(), SKD_ERR_NO_KEY);
	ck_assert_str_eq(skd_error_name(skd_error_code()), "no key");
	ck_assert_ptr_nonnull(strstr(skd_error_message(), "none@example"));
	ct[ct_len / 2] ^= 0x55;
	ck_assert_int_eq(skd_decrypt(&pt, &pt_len, ks, ct, ct_len), 0);
	ck_assert_int_ne(skd_error_code(), SKD_OK);
	ck_assert_int_eq(skd_encrypt(&pt, &pt_len, NULL, GL, ct, 1), 0);
	ck_assert_int_eq(skd_error_code(), SKD_ERR_ARGUMENT);
	ck_assert_ptr_null(skd_member_load("/nonexistent.crt",
	    "/nonexistent.key", "/nonexistent.ca", NULL));
	ck_assert_int_eq(skd_error_code(), SKD_ERR_INPUT);
	ck_assert_ptr_null(skd_dir_open("ldap://127.0.0.1:1",
	    "ou=skd,dc=example,dc=com", "cn=x", "pw", 0, NULL));
	ck_assert_int_eq(skd_error_code(), SKD_ERR_DIRECTORY);
	ck_assert_ptr_nonnull(strstr(skd_error_message(),
	    "ldap://127.0.0.1:1"));
	skd_free(ct, ct_len);
	skd_keystore_free(ks);
	skd_keystore_free(NULL);
	skd_member_free(NULL);
	skd_dir_close(NULL);
	ck_assert_uint_eq(skd_version(), SKD_VERSION_NUMBER);
	skd_test_assert_no_ossl_errors();
}
END_TEST

Suite *
skd_suite_libskd(void)
{
	Suite *s = suite_create("libskd");
	TCase *tc = tcase_create("libskd");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_facade);
	tcase_add_test(tc, test_installed_tree);
	suite_add_tcase(s, tc);
	return s;
}
