/*
 * test_interop_keystore.c: the protected key store through the skd command
 * line (skd-member(1), KEY STORE) and the openssl CLI: a plaintext store
 * migrated on first use (or refused with --no-migrate), no KEK hex left;
 * the passphrase from --passphrase-fd, $SKD_PASSPHRASE_FILE, never without
 * one; the certificate mode refusing another member; content encrypted
 * with a key of the protected store opening with `openssl cms -decrypt
 * -secretkey`, and the other way round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "client/skd_client.h"
#include "skd_test.h"
#include "support/pki.h"

#define GL	"URI:https://gla.example.com/"
#define KID	"4b01"
#define KEK	"8d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9001122334455f"

static void
setup_pki(void)
{
	(void)skd_test_pki_get();
}

/* A version 1 store at dir/keys holding KEK under KID, and the
 * passphrase file dir/pw (mode 0600). */
static void
write_v1(const char *dir)
{
	char path[512], buf[1024], fp[65];

	memset(fp, 'a', 64);
	fp[64] = '\0';
	snprintf(path, sizeof(path), "%s/keys", dir);
	snprintf(buf, sizeof(buf), "skd-keystore 1\n%s\tCN=gla,O=skd test,"
	    "C=US\t%s\t%s\t2.16.840.1.101.3.4.1.45\t20200101000000Z\t"
	    "20990101000000Z\t%s\n", GL, fp, KID, KEK);
	ck_assert_int_eq(skd_test_write_file(path, buf, strlen(buf)), 1);
	ck_assert_int_eq(chmod(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/pw", dir);
	ck_assert_int_eq(skd_test_write_file(path, "s3cret words\n", 13), 1);
	ck_assert_int_eq(chmod(path, 0600), 0);
}

static void
assert_has(const char *hay, const char *needle)
{
	ck_assert_msg(hay != NULL && strstr(hay, needle) != NULL,
	    "no '%s' in:\n%s", needle, hay != NULL ? hay : "(null)");
}

/* The command's exit status; its stdout and stderr in *out (free). The
 * command runs without a controlling terminal (no prompt can block). */
static int
run(char **out, const char *dir, const char *cmd)
{
	free(*out);
	*out = NULL;
	return skd_test_run(out, NULL, "cd '%s' && setsid -w sh -c \"%s\" "
	    "</dev/null 2>&1", dir, cmd);
}

START_TEST(test_cli_passphrase)
{
	char *dir = skd_test_tmpdir(), *out = NULL, *s;
	const char *bin = skd_test_bin();
	char cmd[2048];
	size_t len = 0;

	write_v1(dir);
	/* --no-migrate: refused (3), the file as it was */
	snprintf(cmd, sizeof(cmd), "cp keys keys.v1 && SKD_PASSPHRASE_FILE=pw "
	    "'%s' member keys --keystore keys --no-migrate; echo rc=\\$?; "
	    "cmp keys keys.v1 && echo same", bin);
	(void)run(&out, dir, cmd);
	assert_has(out, "in the clear (version 1); not migrating");
	assert_has(out, "rc=3");
	assert_has(out, "same");
	/* without any passphrase source: refused (3), unchanged */
	snprintf(cmd, sizeof(cmd), "'%s' member keys --keystore keys "
	    "--protect passphrase; echo rc=\\$?; cmp keys keys.v1 && echo same",
	    bin);
	(void)run(&out, dir, cmd);
	assert_has(out, "no terminal to ask on");
	assert_has(out, "rc=3");
	assert_has(out, "same");
	/* a passphrase file others can read: refused */
	snprintf(cmd, sizeof(cmd), "cp pw pw644 && chmod 644 pw644 && "
	    "SKD_PASSPHRASE_FILE=pw644 '%s' member keys --keystore keys "
	    "--protect passphrase; echo rc=\\$?", bin);
	(void)run(&out, dir, cmd);
	assert_has(out, "no group or other permissions");
	assert_has(out, "rc=3");
	/* migrated on first use, with a message; listed */
	snprintf(cmd, sizeof(cmd), "SKD_PASSPHRASE_FILE=pw '%s' member keys "
	    "--keystore keys --protect passphrase", bin);
	ck_assert_int_eq(run(&out, dir, cmd), 0);
	assert_has(out, "held its keys in the clear (version 1); it is now "
	    "version 2, protected by a passphrase");
	assert_has(out, "key " KID " for " GL);
	assert_has(out, "1 key(s), protected by a passphrase");
	/* no KEK hex anywhere in the file; the CLI's scrypt cost */
	snprintf(cmd, sizeof(cmd), "%s/keys", dir);
	ck_assert_ptr_nonnull(s = (char *)skd_test_read_file(cmd, &len));
	ck_assert_ptr_null(memmem(s, len, KEK, strlen(KEK)));
	ck_assert_ptr_null(memmem(s, len, "skd-keystore 1", 14));
	ck_assert_ptr_nonnull(memmem(s, len, "\npassphrase scrypt 32768 8 1 ",
	    29));
	free(s);
	/* the passphrase by file descriptor; no migration message again */
	snprintf(cmd, sizeof(cmd), "'%s' member keys --keystore keys "
	    "--passphrase-fd 3 3<pw", bin);
	ck_assert_int_eq(run(&out, dir, cmd), 0);
	ck_assert_ptr_null(strstr(out, "in the clear"));
	assert_has(out, "1 key(s)");
	/* a wrong passphrase: 4, a clear error, the file unchanged */
	snprintf(cmd, sizeof(cmd), "cp keys keys.v2 && echo wrong > bad && "
	    "'%s' member keys --keystore keys --passphrase-fd 3 3<bad; "
	    "echo rc=\\$?; cmp keys keys.v2 && echo same", bin);
	(void)run(&out, dir, cmd);
	assert_has(out, "wrong passphrase");
	assert_has(out, "rc=4");
	assert_has(out, "same");
	/* --export: the KEK, unchanged by the protection */
	snprintf(cmd, sizeof(cmd), "SKD_PASSPHRASE_FILE=pw '%s' member keys "
	    "--keystore keys --export " KID, bin);
	ck_assert_int_eq(run(&out, dir, cmd), 0);
	ck_assert_str_eq(out, KEK "\n");
	/* skd encrypts with the protected store, openssl decrypts with the
	 * KEK; openssl encrypts, skd decrypts */
	snprintf(cmd, sizeof(cmd), "echo 'for the whole list' > plain && "
	    "SKD_PASSPHRASE_FILE=pw '%s' member encrypt --keystore keys --gl "
	    "%s --in plain --out enc.der && openssl cms -decrypt -inform DER "
	    "-in enc.der -secretkeyid " KID " -secretkey " KEK " -out dec && "
	    "cmp dec plain && openssl cms -encrypt -binary -aes256 -in plain "
	    "-outform DER -out enc2.der -secretkeyid " KID " -secretkey " KEK
	    " && '%s' member decrypt --keystore keys --passphrase-fd 3 "
	    "--in enc2.der 3<pw", bin, GL, bin);
	ck_assert_int_eq(run(&out, dir, cmd), 0);
	assert_has(out, "for the whole list");
	free(out);
	skd_test_rmdir(dir);
}
END_TEST

START_TEST(test_cli_certificate)
{
	const struct skd_test_ident *a = skd_test_pki_id(SKD_TP_ALICE);
	const struct skd_test_ident *b = skd_test_pki_id(SKD_TP_BOB);
	char *dir = skd_test_tmpdir(), *out = NULL, *s;
	const char *bin = skd_test_bin();
	char cmd[4096];
	size_t len = 0;

	write_v1(dir);
	/* migrated for alice's certificate (the default with --cert) */
	snprintf(cmd, sizeof(cmd), "'%s' member keys --keystore keys --cert "
	    "'%s' --key '%s'", bin, a->cert_path, a->key_path);
	ck_assert_int_eq(run(&out, dir, cmd), 0);
	assert_has(out, "protected by the member's certificate");
	snprintf(cmd, sizeof(cmd), "%s/keys", dir);
	ck_assert_ptr_nonnull(s = (char *)skd_test_read_file(cmd, &len));
	ck_assert_ptr_null(memmem(s, len, KEK, strlen(KEK)));
	ck_assert_ptr_nonnull(memmem(s, len, "\ncertificate ", 13));
	free(s);
	/* bob cannot open it; nor can anyone without a private key */
	snprintf(cmd, sizeof(cmd), "cp keys keys.v2 && '%s' member keys "
	    "--keystore keys --cert '%s' --key '%s'; echo rc=\\$?; "
	    "SKD_PASSPHRASE_FILE=pw '%s' member keys --keystore keys; "
	    "echo rc=\\$?; cmp keys keys.v2 && echo same", bin, b->cert_path,
	    b->key_path, bin);
	(void)run(&out, dir, cmd);
	assert_has(out, "protected for another certificate");
	assert_has(out, "rc=4");
	assert_has(out, "give that certificate and its private key");
	assert_has(out, "rc=3");
	assert_has(out, "same");
	/* alice encrypts and decrypts; openssl opens it with the KEK */
	snprintf(cmd, sizeof(cmd), "echo 'under the group KEK' > plain && "
	    "'%s' member encrypt --keystore keys --cert '%s' --key '%s' --gl "
	    "%s --in plain --out enc.der && openssl cms -decrypt -inform DER "
	    "-in enc.der -secretkeyid " KID " -secretkey " KEK " -out dec && "
	    "cmp dec plain && '%s' member decrypt --keystore keys --cert '%s' "
	    "--key '%s' --in enc.der", bin, a->cert_path, a->key_path, GL, bin,
	    a->cert_path, a->key_path);
	ck_assert_int_eq(run(&out, dir, cmd), 0);
	assert_has(out, "under the group KEK");
	/* --protect certificate without --cert: a usage error */
	snprintf(cmd, sizeof(cmd), "'%s' member keys --keystore keys "
	    "--protect certificate", bin);
	ck_assert_int_eq(run(&out, dir, cmd), 2);
	free(out);
	skd_test_rmdir(dir);
}
END_TEST

Suite *
skd_suite_interop_keystore(void)
{
	Suite *s = suite_create("interop_keystore");
	TCase *tc = tcase_create("cli");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, setup_pki, NULL);
	tcase_add_test(tc, test_cli_passphrase);
	tcase_add_test(tc, test_cli_certificate);
	suite_add_tcase(s, tc);
	return s;
}
