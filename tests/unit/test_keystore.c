/*
 * test_keystore.c: the member's key store at rest (src/client/keystore.c,
 * skd-member(1) KEY STORE): round trips for passphrase and certificate
 * (RSA, EC) protection; a wrong passphrase or private key refused with
 * the file unchanged; a tampered entry (a byte flipped, an entry moved to
 * another GL or GLA, copied from another store) refused; version 1 stores
 * migrated with no KEK hex left, or refused on request; concurrent
 * writers keep every key; a writer killed with SIGKILL leaves a store that
 * opens.
 */
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "client/skd_client.h"
#include "skd_test.h"
#include "support/ks.h"
#include "support/pki.h"

#define GL	"URI:https://gla.example.com/"
#define GL2	"URI:https://other.example.com/"
#define T_NOW	((time_t)1893456000)

static void
pki_setup(void)
{
	(void)skd_test_pki_get();
}

static struct skd_client_ident
ident(enum skd_test_who who)
{
	struct skd_client_ident id;

	id.cert = skd_test_pki_id(who)->cert;
	id.key = skd_test_pki_id(who)->key;
	id.chain = NULL;
	return id;
}

/* A key of gl from the GLA whose fingerprint is fpbyte repeated; its KEK
 * (32 bytes) is derived from idbyte so that tests can look for it. */
struct tkey {
	struct skd_client_key	k;
	unsigned char		id[2];
	unsigned char		kek[32];
};

static void
tkey_make(struct tkey *t, const char *gl, int fpbyte, int idbyte)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->id[0] = 0x4b;
	t->id[1] = (unsigned char)idbyte;
	for (i = 0; i < sizeof(t->kek); i++)
		t->kek[i] = (unsigned char)(0x91 * (idbyte + 1) + 7 * i);
	t->k.gl_name = (char *)gl;
	t->k.gla_subject = (char *)"CN=gla,O=skd test,C=US";
	memset(t->k.gla_fp, fpbyte, sizeof(t->k.gla_fp));
	t->k.key_id = t->id;
	t->k.key_id_len = sizeof(t->id);
	t->k.alg_nid = NID_id_aes256_wrap;
	t->k.not_before = T_NOW - 100 + idbyte;
	t->k.not_after = T_NOW + 86400;
	t->k.kek = t->kek;
	t->k.kek_len = sizeof(t->kek);
}

static char *
file_text(const char *path)
{
	size_t len = 0;
	unsigned char *p = skd_test_read_file(path, &len);
	char *s;

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(s = malloc(len + 1));
	memcpy(s, p, len);
	s[len] = '\0';
	free(p);
	return s;
}

static void
write_text(const char *path, const char *s)
{
	ck_assert_int_eq(skd_test_write_file(path, s, strlen(s)), 1);
	ck_assert_int_eq(chmod(path, 0600), 0);
}

/* No trace of kek in the file: hex in either case, or the raw bytes. */
static void
assert_no_kek(const char *path, const unsigned char *kek, size_t len)
{
	char *s = file_text(path), *hex = skd_client_hex(kek, len), *p;

	ck_assert_ptr_nonnull(hex);
	ck_assert_msg(strstr(s, hex) == NULL, "KEK hex in %s", path);
	for (p = hex; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_msg(strstr(s, hex) == NULL, "KEK HEX in %s", path);
	ck_assert_ptr_null(memmem(s, strlen(s), kek, len));
	OPENSSL_free(hex);
	free(s);
}

static const struct skd_client_ks_auth *
auth_for(struct skd_client_ks_auth *a, struct skd_client_ident *id, int mode)
{
	static const enum skd_test_who who[] = { SKD_TP_ALICE, SKD_TP_ALICE,
	    SKD_TP_BOB };

	if (mode == 0)
		return skd_test_ks_pass(a, NULL);
	*id = ident(who[mode]);
	return skd_test_ks_cert(a, id);
}

/* A store at path with keys 1..n of GL from GLA 0xaa. */
static void
make_store(const char *path, const struct skd_client_ks_auth *a, int n)
{
	struct skd_client_error e = { 0 };
	struct skd_client_keystore *ks;
	struct tkey t;
	int i, added = 0;

	ck_assert_msg((ks = skd_client_keystore_open(path,
	    SKD_CLIENT_KS_CREATE, a, &e)) != NULL, "%s", e.msg);
	for (i = 1; i <= n; i++) {
		tkey_make(&t, GL, 0xaa, i);
		ck_assert_msg(skd_client_keystore_add(ks, &t.k, &added, &e),
		    "%s", e.msg);
		ck_assert_int_eq(added, 1);
	}
	ck_assert_msg(skd_client_keystore_save(ks, &e), "%s", e.msg);
	skd_client_keystore_free(ks);
}

static void
assert_keys(const struct skd_client_keystore *ks, int n)
{
	const struct skd_client_key *got;
	struct tkey t;
	int i;

	ck_assert_uint_eq(skd_client_keystore_count(ks), (size_t)n);
	for (i = 1; i <= n; i++) {
		tkey_make(&t, GL, 0xaa, i);
		ck_assert_ptr_nonnull(got = skd_client_keystore_find(ks, t.id,
		    sizeof(t.id)));
		ck_assert_str_eq(got->gl_name, GL);
		ck_assert_str_eq(got->gla_subject, t.k.gla_subject);
		ck_assert_mem_eq(got->gla_fp, t.k.gla_fp, 32);
		ck_assert_int_eq(got->alg_nid, NID_id_aes256_wrap);
		ck_assert_int_eq(got->not_before, t.k.not_before);
		ck_assert_int_eq(got->not_after, t.k.not_after);
		ck_assert_uint_eq(got->kek_len, 32);
		ck_assert_mem_eq(got->kek, t.kek, 32);
	}
}

/* Each mode: 0 passphrase, 1 certificate (RSA, alice), 2 (EC, bob). */
START_TEST(test_ks_roundtrip)
{
	char *dir = skd_test_tmpdir(), path[512], tmp[600], *s;
	struct skd_client_error e = { 0 };
	struct skd_client_ks_auth a;
	struct skd_client_ident id;
	struct skd_client_keystore *ks;
	struct tkey t;
	struct stat sb;
	int i;

	snprintf(path, sizeof(path), "%s/keys", dir);
	make_store(path, auth_for(&a, &id, _i), 3);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_ne(access(tmp, F_OK), 0);
	s = file_text(path);
	ck_assert_int_eq(strncmp(s, "skd-keystore 2\n", 15), 0);
	ck_assert_ptr_nonnull(strstr(s, _i == 0 ? "\npassphrase scrypt 1024 8 1 "
	    : "\ncertificate "));
	free(s);
	for (i = 1; i <= 3; i++) {
		tkey_make(&t, GL, 0xaa, i);
		assert_no_kek(path, t.kek, sizeof(t.kek));
	}
	ck_assert_msg((ks = skd_client_keystore_open(path, 0,
	    auth_for(&a, &id, _i), &e)) != NULL, "%s", e.msg);
	ck_assert_int_eq(skd_client_keystore_migrated(ks), 0);
	ck_assert_int_eq(skd_client_keystore_protection(ks), _i == 0 ?
	    SKD_CLIENT_KS_PASSPHRASE : SKD_CLIENT_KS_CERT);
	assert_keys(ks, 3);
	/* the newest valid key, as before */
	tkey_make(&t, GL, 0xaa, 3);
	ck_assert_mem_eq(skd_client_keystore_current(ks, GL, T_NOW)->key_id,
	    t.id, 2);
	/* a key added after reopening is kept with the others */
	tkey_make(&t, GL, 0xaa, 4);
	ck_assert_int_eq(skd_client_keystore_add(ks, &t.k, NULL, &e), 1);
	ck_assert_msg(skd_client_keystore_save(ks, &e), "%s", e.msg);
	skd_client_keystore_free(ks);
	ck_assert_ptr_nonnull(ks = skd_client_keystore_open(path, 0,
	    auth_for(&a, &id, _i), &e));
	assert_keys(ks, 4);
	skd_client_keystore_free(ks);
	skd_test_rmdir(dir);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* Refused with a clear error, and the file unchanged. */
static void
assert_refused(const char *path, const char *before,
    const struct skd_client_ks_auth *a, enum skd_client_err code,
    const char *needle)
{
	struct skd_client_error e = { 0 };
	char *after;

	ck_assert_ptr_null(skd_client_keystore_open(path, SKD_CLIENT_KS_CREATE,
	    a, &e));
	ck_assert_msg(e.code == code, "code %d, want %d: %s", e.code, code,
	    e.msg);
	ck_assert_msg(strstr(e.msg, needle) != NULL, "no '%s' in: %s", needle,
	    e.msg);
	after = file_text(path);
	ck_assert_str_eq(after, before);
	free(after);
	ERR_clear_error();
}

START_TEST(test_ks_wrong_secret)
{
	char *dir = skd_test_tmpdir(), path[512], *before;
	struct skd_client_ks_auth a;
	struct skd_client_ident alice = ident(SKD_TP_ALICE);
	struct skd_client_ident bob = ident(SKD_TP_BOB);
	struct skd_client_ident mixed = alice;

	/* passphrase */
	snprintf(path, sizeof(path), "%s/pass", dir);
	make_store(path, skd_test_ks_pass(&a, NULL), 2);
	before = file_text(path);
	assert_refused(path, before, skd_test_ks_pass(&a, "wrong"),
	    SKD_CLIENT_ERR_CRYPTO, "wrong passphrase");
	memset(&a, 0, sizeof(a));
	assert_refused(path, before, &a, SKD_CLIENT_ERR_INPUT,
	    "a passphrase is needed");
	/* a certificate does not open a passphrase store */
	assert_refused(path, before, skd_test_ks_cert(&a, &alice),
	    SKD_CLIENT_ERR_INPUT, "a passphrase is needed");
	free(before);

	/* certificate */
	snprintf(path, sizeof(path), "%s/cert", dir);
	make_store(path, skd_test_ks_cert(&a, &alice), 2);
	before = file_text(path);
	assert_refused(path, before, skd_test_ks_cert(&a, &bob),
	    SKD_CLIENT_ERR_CRYPTO, "protected for another certificate");
	/* the right certificate with another private key */
	mixed.key = skd_test_pki_id(SKD_TP_DAVE)->key;
	assert_refused(path, before, skd_test_ks_cert(&a, &mixed),
	    SKD_CLIENT_ERR_CRYPTO, "private key does not open");
	assert_refused(path, before, skd_test_ks_pass(&a, NULL),
	    SKD_CLIENT_ERR_INPUT, "give that certificate and its private key");
	free(before);
	skd_test_rmdir(dir);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* Replaces the first occurrence of from (after the header) with to. */
static char *
edit(const char *s, const char *from, const char *to)
{
	const char *body = strstr(s, "\ncheck ");
	const char *p;
	char *out;
	size_t n;

	ck_assert_ptr_nonnull(body);
	ck_assert_ptr_nonnull(p = strstr(body, from));
	n = strlen(s) - strlen(from) + strlen(to) + 1;
	ck_assert_ptr_nonnull(out = malloc(n));
	snprintf(out, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return out;
}

/* The n-th line (0-based) of s, without its newline (malloc'd). */
static char *
line_at(const char *s, int n)
{
	const char *p = s, *q;

	while (n-- > 0) {
		ck_assert_ptr_nonnull(p = strchr(p, '\n'));
		p++;
	}
	q = strchrnul(p, '\n');
	return strndup(p, (size_t)(q - p));
}

/*
 * Tampering, each refused (SKD_CLIENT_ERR_CRYPTO, file unchanged):
 * 0 one byte of a sealed KEK flipped; 1 the entry moved to another GL;
 * 2 to another GLA (fingerprint); 3 another GLA subject; 4 the validity
 * extended; 5 an entry copied from another store with the same
 * passphrase; 6 two entries' sealed KEKs swapped; 7 the check line.
 */
START_TEST(test_ks_tamper)
{
	char *dir = skd_test_tmpdir(), path[512], other[512], *s, *t = NULL;
	char *l1, *l2, *sealed1, *sealed2, *o;
	struct skd_client_ks_auth a;
	struct skd_client_ident alice = ident(SKD_TP_ALICE);
	const struct skd_client_ks_auth *au;
	char fp[65];

	au = _i % 2 == 0 ? skd_test_ks_pass(&a, NULL) :
	    skd_test_ks_cert(&a, &alice);
	snprintf(path, sizeof(path), "%s/keys", dir);
	make_store(path, au, 2);
	s = file_text(path);
	l1 = line_at(s, 3);
	l2 = line_at(s, 4);
	sealed1 = strrchr(l1, '\t') + 1;
	sealed2 = strrchr(l2, '\t') + 1;
	memset(fp, 'a', 64);
	fp[64] = '\0';
	switch (_i) {
	case 0: {
		char *f = strdup(sealed1);

		/* a base64 digit in the middle: one ciphertext byte */
		f[20] = f[20] == 'A' ? 'B' : 'A';
		t = edit(s, sealed1, f);
		free(f);
		break;
	}
	case 1:
		t = edit(s, GL "\t", GL2 "\t");
		break;
	case 2: {
		char bb[65];

		memset(bb, 'b', 64);
		bb[64] = '\0';
		t = edit(s, fp, bb);
		break;
	}
	case 3:
		t = edit(s, "CN=gla,", "CN=evil,");
		break;
	case 4:
		t = edit(s, "\t20300102", "\t20400102");
		break;
	case 5:
		/* the same key of another store with the same passphrase (or
		 * certificate): another store key */
		snprintf(other, sizeof(other), "%s/other", dir);
		make_store(other, au, 1);
		o = file_text(other);
		{
			char *ol = line_at(o, 3);

			t = edit(s, l1, ol);
			free(ol);
		}
		free(o);
		break;
	case 6:
		t = edit(s, sealed1, sealed2);
		break;
	default:
		t = edit(s, "\ncheck ", "\ncheck A");
		break;
	}
	ck_assert_str_ne(t, s);
	write_text(path, t);
	assert_refused(path, t, au, SKD_CLIENT_ERR_CRYPTO, _i == 7 ?
	    "header does not authenticate" : "does not authenticate");
	free(l1);
	free(l2);
	free(s);
	free(t);
	skd_test_rmdir(dir);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* A version 1 store: key 1..n, KEKs in hex. */
static void
write_v1(const char *path, int n)
{
	char buf[8192], *fp, *id, *kek;
	struct tkey t;
	size_t off;
	int i;

	off = (size_t)snprintf(buf, sizeof(buf), "skd-keystore 1\n");
	for (i = 1; i <= n; i++) {
		tkey_make(&t, GL, 0xaa, i);
		fp = skd_client_hex(t.k.gla_fp, 32);
		id = skd_client_hex(t.id, 2);
		kek = skd_client_hex(t.kek, 32);
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "%s\t%s\t%s\t%s\t2.16.840.1.101.3.4.1.45\t"
		    "20291231235821Z\t20300102000000Z\t%s\n", GL,
		    t.k.gla_subject, fp, id, kek);
		OPENSSL_free(fp);
		OPENSSL_free(id);
		OPENSSL_free(kek);
	}
	write_text(path, buf);
}

START_TEST(test_ks_migrate)
{
	char *dir = skd_test_tmpdir(), path[512], *before;
	struct skd_client_error e = { 0 };
	struct skd_client_ks_auth a;
	struct skd_client_ident id;
	struct skd_client_keystore *ks;
	struct tkey t;
	int i;

	snprintf(path, sizeof(path), "%s/keys", dir);
	write_v1(path, 3);
	before = file_text(path);
	/* refused on request, the file as it was */
	auth_for(&a, &id, _i);
	a.no_migrate = 1;
	assert_refused(path, before, &a, SKD_CLIENT_ERR_KEYSTORE,
	    "in the clear");
	free(before);
	/* migrated on first use */
	ck_assert_msg((ks = skd_client_keystore_open(path, 0,
	    auth_for(&a, &id, _i), &e)) != NULL, "%s", e.msg);
	ck_assert_int_eq(skd_client_keystore_migrated(ks), 1);
	ck_assert_uint_eq(skd_client_keystore_count(ks), 3);
	for (i = 1; i <= 3; i++) {
		tkey_make(&t, GL, 0xaa, i);
		ck_assert_mem_eq(skd_client_keystore_find(ks, t.id, 2)->kek,
		    t.kek, 32);
		assert_no_kek(path, t.kek, sizeof(t.kek));
	}
	skd_client_keystore_free(ks);
	/* ... once: it opens as version 2 after that */
	ck_assert_ptr_nonnull(ks = skd_client_keystore_open(path, 0,
	    auth_for(&a, &id, _i), &e));
	ck_assert_int_eq(skd_client_keystore_migrated(ks), 0);
	ck_assert_uint_eq(skd_client_keystore_count(ks), 3);
	skd_client_keystore_free(ks);
	/* a malformed version 1 store is not migrated */
	write_text(path, "skd-keystore 1\nx\ty\n");
	ck_assert_ptr_null(skd_client_keystore_open(path, 0,
	    auth_for(&a, &id, _i), &e));
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_KEYSTORE);
	skd_test_rmdir(dir);
	skd_test_assert_no_ossl_errors();
}
END_TEST

#define WRITERS		4
#define PER_WRITER	8

/* Each writer opens the store, adds its keys one at a time and saves
 * after each: without the lock held across re-read and write, keys of
 * the others would be lost. */
static void
writer(char *dir, const char *path, int w)
{
	struct skd_client_error e = { 0 };
	struct skd_client_keystore *ks;
	struct tkey t;
	int i, ok = 1;

	if ((ks = skd_test_ks_open(path, SKD_CLIENT_KS_CREATE, &e)) == NULL)
		ok = 0;
	for (i = 0; i < PER_WRITER && ok; i++) {
		tkey_make(&t, GL, 0xaa, 1 + w * PER_WRITER + i);
		ok = skd_client_keystore_add(ks, &t.k, NULL, &e) &&
		    skd_client_keystore_save(ks, &e);
	}
	skd_client_keystore_free(ks);
	free(dir);	/* the parent's: valgrind checks the child too */
	_exit(ok ? 0 : 3);
}

START_TEST(test_ks_concurrent)
{
	char *dir = skd_test_tmpdir(), path[512];
	struct skd_client_error e = { 0 };
	struct skd_client_keystore *ks;
	pid_t pid[WRITERS];
	int w, st;

	snprintf(path, sizeof(path), "%s/keys", dir);
	fflush(NULL);
	for (w = 0; w < WRITERS; w++) {
		ck_assert_int_ge(pid[w] = fork(), 0);
		if (pid[w] == 0)
			writer(dir, path, w);
	}
	for (w = 0; w < WRITERS; w++) {
		ck_assert_int_eq(waitpid(pid[w], &st, 0), pid[w]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "writer %d: status %d", w, st);
	}
	ck_assert_msg((ks = skd_test_ks_open(path, 0, &e)) != NULL, "%s",
	    e.msg);
	assert_keys(ks, WRITERS * PER_WRITER);
	skd_client_keystore_free(ks);
	skd_test_rmdir(dir);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* A writer killed with SIGKILL at any moment leaves a store that opens
 * with every key it had saved before (the rename is atomic), and the
 * next writer is not hindered by its leftovers. */
START_TEST(test_ks_kill9)
{
	char *dir = skd_test_tmpdir(), path[512], saved[512];
	struct skd_client_error e = { 0 };
	struct skd_client_keystore *ks;
	struct tkey t;
	struct timespec ts;
	size_t last = 0;
	pid_t pid;
	int round, st, i;

	snprintf(path, sizeof(path), "%s/keys", dir);
	snprintf(saved, sizeof(saved), "%s/saved", dir);
	for (round = 0; round < 6; round++) {
		fflush(NULL);
		ck_assert_int_ge(pid = fork(), 0);
		if (pid == 0) {
			int ok = 1;

			if ((ks = skd_test_ks_open(path, SKD_CLIENT_KS_CREATE,
			    &e)) == NULL)
				_exit(2);
			/* Keys without end; each save rewrites them all. */
			for (i = 0; ok; i++) {
				tkey_make(&t, GL, 0xaa, (round * 4000 + i) %
				    256);
				t.id[0] = (unsigned char)(round * 16 + i / 256);
				ok = skd_client_keystore_add(ks, &t.k, NULL,
				    &e) && skd_client_keystore_save(ks, &e);
				/* One key saved: the parent may kill. */
				if (ok && i == 0)
					(void)close(open(saved, O_WRONLY |
					    O_CREAT, 0600));
			}
			_exit(3);
		}
		/* Once a key is saved (slow under valgrind: the store key
		 * is derived with scrypt), a little later each round: in
		 * the middle of some write. */
		ts.tv_sec = 0;
		ts.tv_nsec = 5000000L;
		for (i = 0; i < 6000 && access(saved, F_OK) != 0; i++)
			nanosleep(&ts, NULL);
		ts.tv_nsec = 10000000L + 13000000L * round;
		nanosleep(&ts, NULL);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert_msg(WIFSIGNALED(st), "writer ended by itself: %d",
		    st);
		ck_assert_msg((ks = skd_test_ks_open(path, 0, &e)) != NULL,
		    "round %d: %s", round, e.msg);
		ck_assert_uint_ge(skd_client_keystore_count(ks), last);
		last = skd_client_keystore_count(ks);
		skd_client_keystore_free(ks);
	}
	ck_assert_uint_gt(last, 0);
	skd_test_rmdir(dir);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* A save after the store was re-created with another passphrase is
 * refused, and writes nothing. */
START_TEST(test_ks_save_protection_changed)
{
	char *dir = skd_test_tmpdir(), path[512], *before;
	struct skd_client_error e = { 0 };
	struct skd_client_ks_auth a;
	struct skd_client_keystore *ks;
	struct tkey t;

	snprintf(path, sizeof(path), "%s/keys", dir);
	make_store(path, skd_test_ks_pass(&a, NULL), 1);
	ck_assert_ptr_nonnull(ks = skd_test_ks_open(path, 0, &e));
	ck_assert_int_eq(unlink(path), 0);
	make_store(path, skd_test_ks_pass(&a, "another one"), 1);
	before = file_text(path);
	tkey_make(&t, GL, 0xaa, 9);
	ck_assert_int_eq(skd_client_keystore_add(ks, &t.k, NULL, &e), 1);
	ck_assert_int_eq(skd_client_keystore_save(ks, &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_KEYSTORE);
	ck_assert_ptr_nonnull(strstr(e.msg, "protection changed"));
	{
		char *after = file_text(path);

		ck_assert_str_eq(after, before);
		free(after);
	}
	free(before);
	skd_client_keystore_free(ks);
	/* RFC 5275 section 8 holds on the merge too: another process
	 * stored a key of GL from GLA 0xaa; ours, from 0xbb, is refused at
	 * save and nothing is written. */
	ck_assert_ptr_nonnull(ks = skd_client_keystore_open(path, 0,
	    skd_test_ks_pass(&a, "another one"), &e));
	ck_assert_uint_eq(skd_client_keystore_count(ks), 1);
	tkey_make(&t, GL2, 0xbb, 10);
	ck_assert_int_eq(skd_client_keystore_add(ks, &t.k, NULL, &e), 1);
	t.k.gl_name = (char *)GL;
	ck_assert_int_eq(skd_client_keystore_add(ks, &t.k, NULL, &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_GLA_BINDING);
	skd_client_keystore_free(ks);
	skd_test_rmdir(dir);
	skd_test_assert_no_ossl_errors();
}
END_TEST

Suite *
skd_suite_keystore(void)
{
	Suite *s = suite_create("keystore");
	TCase *tc = tcase_create("keystore");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, pki_setup, NULL);
	tcase_add_loop_test(tc, test_ks_roundtrip, 0, 3);
	tcase_add_test(tc, test_ks_wrong_secret);
	tcase_add_loop_test(tc, test_ks_tamper, 0, 8);
	tcase_add_loop_test(tc, test_ks_migrate, 0, 2);
	tcase_add_test(tc, test_ks_concurrent);
	tcase_add_test(tc, test_ks_kill9);
	tcase_add_test(tc, test_ks_save_protection_changed);
	suite_add_tcase(s, tc);
	return s;
}
