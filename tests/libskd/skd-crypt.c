/*
 * skd-crypt: a small program built against the installed libskd alone
 * (cc skd-crypt.c $(pkg-config --cflags --libs skd)), as an application
 * would be.  tests/interop/test_libskd.c builds and runs it.
 *
 *   skd-crypt encrypt KEYSTORE GL IN OUT    EnvelopedData (kekri) of IN
 *   skd-crypt decrypt KEYSTORE IN OUT
 *   skd-crypt list KEYSTORE                 "GL<TAB>key id<TAB>algorithm"
 *   skd-crypt fetch KEYSTORE GL URI BASE BINDDN PWFILE CERT KEY CAFILE
 *                                           fetch, verify, store, acknowledge
 *
 * The key store is unlocked (and a new one protected) with the passphrase
 * in $SKD_CRYPT_PASSPHRASE.  Exit 0 on success; else the libskd error
 * name and message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skd/skd.h>

static unsigned char *
slurp(const char *path, size_t *out_len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n)
		*out_len = (size_t)n;
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int
spill(const char *path, const unsigned char *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return 0;
	ok = fwrite(p, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

static int
list(const SKD_KEYSTORE *ks)
{
	const SKD_KEY *k;
	const unsigned char *id;
	size_t i, j, id_len;

	for (i = 0; (k = skd_keystore_get0_key(ks, i)) != NULL; i++) {
		printf("%s\t", skd_key_get0_gl(k));
		id = skd_key_get0_id(k, &id_len);
		for (j = 0; j < id_len; j++)
			printf("%02x", id[j]);
		printf("\t%s\n", skd_key_get0_algorithm(k));
	}
	return i == skd_keystore_get_count(ks);
}

static int
passphrase(char *buf, size_t size, size_t *out_len, int confirm, void *arg)
{
	const char *p = getenv("SKD_CRYPT_PASSPHRASE");

	(void)confirm;
	(void)arg;
	if (p == NULL || strlen(p) >= size)
		return 0;
	memcpy(buf, p, strlen(p) + 1);
	*out_len = strlen(p);
	return 1;
}

/* RFC 5275 5.1 through libskd: the member's glKeys from the directory. */
static int
fetch(SKD_KEYSTORE *ks, char **a)
{
	SKD_MEMBER *m = NULL;
	SKD_DIR *d = NULL;
	char pw[256] = "";
	size_t added = 0;
	FILE *f;
	int ok = 0;

	if ((f = fopen(a[4], "r")) == NULL || fgets(pw, sizeof(pw), f) ==
	    NULL) {
		perror(a[4]);
		if (f != NULL)
			fclose(f);
		return 0;
	}
	fclose(f);
	pw[strcspn(pw, "\r\n")] = '\0';
	if ((m = skd_member_load(a[5], a[6], a[7], NULL)) != NULL &&
	    (d = skd_dir_open(a[1], a[2], a[3], pw, 0, NULL)) != NULL &&
	    skd_fetch(ks, d, m, a[0], 0, &added)) {
		printf("%s: %zu new key(s) for %s\n", a[0], added,
		    skd_member_get0_name(m));
		ok = 1;
	}
	skd_dir_close(d);
	skd_member_free(m);
	return ok;
}

int
main(int argc, char **argv)
{
	SKD_KEYSTORE *ks = NULL;
	SKD_UNLOCK *u = NULL;
	unsigned char *in = NULL, *out = NULL;
	size_t in_len = 0, out_len = 0;
	int ok = 0, enc;

	if (skd_version() != SKD_VERSION_NUMBER) {
		fprintf(stderr, "built for %s, running %s\n", SKD_VERSION_TEXT,
		    skd_version_text());
		return 1;
	}
	if (argc < 3 || ((enc = strcmp(argv[1], "encrypt") == 0) ? argc != 6 :
	    strcmp(argv[1], "decrypt") == 0 ? argc != 5 :
	    strcmp(argv[1], "fetch") == 0 ? argc != 11 :
	    strcmp(argv[1], "list") != 0 || argc != 3)) {
		fprintf(stderr, "usage: skd-crypt encrypt KEYSTORE GL IN OUT"
		    " | decrypt KEYSTORE IN OUT | list KEYSTORE | fetch "
		    "KEYSTORE GL URI BASE BINDDN PWFILE CERT KEY CAFILE\n");
		return 2;
	}
	if ((u = skd_unlock_new()) == NULL ||
	    !skd_unlock_set_passphrase_cb(u, passphrase, NULL) ||
	    (ks = skd_keystore_open(argv[2], strcmp(argv[1], "fetch") == 0 ?
	    SKD_KEYSTORE_CREATE : 0, u)) == NULL)
		goto done;
	if (strcmp(argv[1], "fetch") == 0) {
		ok = fetch(ks, argv + 3);
		goto done;
	}
	if (strcmp(argv[1], "list") == 0) {
		ok = list(ks);
		goto done;
	}
	if ((in = slurp(argv[enc ? 4 : 3], &in_len)) == NULL) {
		perror(argv[enc ? 4 : 3]);
		goto done;
	}
	if (enc ? !skd_encrypt(&out, &out_len, ks, argv[3], in, in_len) :
	    !skd_decrypt(&out, &out_len, ks, in, in_len))
		goto done;
	if (!spill(argv[enc ? 5 : 4], out, out_len)) {
		perror(argv[enc ? 5 : 4]);
		goto done;
	}
	ok = 1;
 done:
	if (!ok && skd_error_code() != SKD_OK)
		fprintf(stderr, "skd-crypt: %s: %s\n",
		    skd_error_name(skd_error_code()), skd_error_message());
	skd_free(out, out_len);
	free(in);
	skd_keystore_free(ks);
	skd_unlock_free(u);
	return ok ? 0 : 1;
}
