/*
 * keystore.c: the member's key store (skd-member(1), KEY STORE): the KEKs
 * of RFC 5275 5 at rest.  Each KEK is sealed with AES-256-GCM under a
 * random store key, with the entry's RFC 5275 section 8 binding (GL name,
 * GLA subject and certificate hash, key id, algorithm, validity) as the
 * AAD, so that an entry altered or moved to another GL, GLA or store is
 * refused.  The store key is protected by a passphrase (scrypt, then
 * AES-256-GCM) or for the member's certificate (CMS EnvelopedData, opened
 * by the member's private key).  Writes are atomic (temporary file, fsync,
 * rename, fsync of the directory) and serialized by flock(2) on
 * "<path>.lock", held across each read-modify-write.
 *
 *   skd-keystore 2
 *   passphrase scrypt <N> <r> <p> <salt b64> <b64(iv | GCM(store key) | tag)>
 *     or  certificate <member cert SHA-256 hex> <b64(DER EnvelopedData)>
 *   check <b64(iv | GCM("skd-keystore 2 check") | tag)>
 *   <gl> TAB <gla subject> TAB <gla sha256 hex> TAB <key id hex> TAB
 *       <alg OID> TAB <notBefore> TAB <notAfter> TAB <b64(iv | GCM(kek) | tag)>
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "client/client_local.h"

#define KS_MAGIC_V1	"skd-keystore 1"
#define KS_MAGIC	"skd-keystore 2"
#define KS_CHECK_TEXT	"skd-keystore 2 check"
#define KS_MAX		(16L * 1024 * 1024)
#define KS_KEY_LEN	32		/* the store key: AES-256 */
#define KS_IV_LEN	12		/* GCM nonce, random per seal */
#define KS_TAG_LEN	16
#define KS_SALT_LEN	16
#define KS_PASS_MAX	1024
#define KS_SCRYPT_LOG2N	15		/* N = 32768, r = 8: 32 MiB */
#define KS_SCRYPT_R	8
#define KS_SCRYPT_P	1
#define KS_SCRYPT_MEM	(1024UL * 1024 * 1024 + 1024 * 1024)

struct skd_client_keystore {
	char				*path;
	struct skd_client_key		*v;
	size_t				 n;
	enum skd_client_ks_protect	 protect;
	char				*header;	/* line 2, as written */
	unsigned char			 skey[KS_KEY_LEN];
	int				 migrated;
};

/* ---- small helpers ---- */

static char *
b64_encode(const unsigned char *p, size_t len)
{
	char *s;

	if (len > INT_MAX / 2 ||
	    (s = OPENSSL_malloc(4 * ((len + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, p, (int)len);
	return s;
}

/* Strict: canonical base64 without whitespace, re-encoded and compared. */
static unsigned char *
b64_decode(const char *s, size_t *out_len)
{
	size_t n = strlen(s), pad;
	unsigned char *p;
	char *again;
	int r;

	if (n == 0 || n % 4 != 0 || n > INT_MAX / 2)
		return NULL;
	if ((p = OPENSSL_malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	if ((r = EVP_DecodeBlock(p, (const unsigned char *)s, (int)n)) < 0)
		goto err;
	pad = (s[n - 1] == '=') + (s[n - 2] == '=');
	if ((size_t)r < pad)
		goto err;
	*out_len = (size_t)r - pad;
	if ((again = b64_encode(p, *out_len)) == NULL)
		goto err;
	r = strcmp(again, s);
	OPENSSL_free(again);
	if (r != 0)
		goto err;
	return p;
 err:
	OPENSSL_clear_free(p, n / 4 * 3 + 1);
	return NULL;
}

/* base64(iv | AES-256-GCM(key, aad, pt) | tag); caller frees. */
static char *
seal_b64(const unsigned char key[KS_KEY_LEN], const char *aad,
    size_t aad_len, const unsigned char *pt, size_t pt_len)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	size_t len = KS_IV_LEN + pt_len + KS_TAG_LEN;
	char *out = NULL;
	int l = 0, l2 = 0;

	if (pt_len > INT_MAX / 2 || aad_len > INT_MAX ||
	    (buf = OPENSSL_malloc(len)) == NULL ||
	    RAND_bytes(buf, KS_IV_LEN) != 1 ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), key, buf, NULL) ||
	    !EVP_EncryptUpdate(ctx, NULL, &l, (const unsigned char *)aad,
	    (int)aad_len) ||
	    !EVP_EncryptUpdate(ctx, buf + KS_IV_LEN, &l, pt, (int)pt_len) ||
	    !EVP_EncryptFinal_ex(ctx, buf + KS_IV_LEN + l, &l2) ||
	    (size_t)(l + l2) != pt_len ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, KS_TAG_LEN,
	    buf + KS_IV_LEN + pt_len) <= 0)
		goto err;
	out = b64_encode(buf, len);
 err:
	EVP_CIPHER_CTX_free(ctx);
	if (buf != NULL)
		OPENSSL_clear_free(buf, len);
	return out;
}

/* The inverse of seal_b64: *out (out_len bytes, OPENSSL_clear_free) is
 * the plaintext if the tag verifies.  Returns one or zero. */
static int
open_b64(unsigned char **out, size_t *out_len,
    const unsigned char key[KS_KEY_LEN], const char *aad, size_t aad_len,
    const char *b64)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *buf = NULL, *pt = NULL;
	size_t len = 0, pt_len = 0;
	int l = 0, l2 = 0, ok = 0;

	*out = NULL;
	if ((buf = b64_decode(b64, &len)) == NULL ||
	    len < KS_IV_LEN + KS_TAG_LEN || aad_len > INT_MAX)
		goto err;
	pt_len = len - KS_IV_LEN - KS_TAG_LEN;
	if ((pt = OPENSSL_malloc(pt_len + 1)) == NULL ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key, buf, NULL) ||
	    !EVP_DecryptUpdate(ctx, NULL, &l, (const unsigned char *)aad,
	    (int)aad_len) ||
	    !EVP_DecryptUpdate(ctx, pt, &l, buf + KS_IV_LEN, (int)pt_len) ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, KS_TAG_LEN,
	    buf + KS_IV_LEN + pt_len) <= 0 ||
	    EVP_DecryptFinal_ex(ctx, pt + l, &l2) <= 0 ||
	    (size_t)(l + l2) != pt_len)
		goto err;
	*out = pt;
	*out_len = pt_len;
	pt = NULL;
	ok = 1;
 err:
	EVP_CIPHER_CTX_free(ctx);
	if (pt != NULL)
		OPENSSL_clear_free(pt, pt_len + 1);
	if (buf != NULL)
		OPENSSL_clear_free(buf, len);
	ERR_clear_error();
	return ok;
}

/* scrypt (RFC 7914) through EVP_KDF "SCRYPT" into out (KS_KEY_LEN). */
static int
scrypt_key(unsigned char *out, const char *pass, size_t pass_len,
    const unsigned char *salt, size_t salt_len, uint64_t n, uint32_t r,
    uint32_t p)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	uint64_t maxmem = KS_SCRYPT_MEM;
	OSSL_PARAM params[7];
	int ok = 0;

	params[0] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_PASSWORD, (void *)pass, pass_len);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)salt, salt_len);
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	params[5] = OSSL_PARAM_construct_uint64(
	    OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	params[6] = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL ||
	    EVP_KDF_derive(kctx, out, KS_KEY_LEN, params) <= 0)
		goto err;
	ok = 1;
 err:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ok;
}

/* "magic\n" followed by len bytes of s: the AAD of lines after line 1. */
static char *
aad_of(const char *s, size_t len, size_t *out_len)
{
	size_t m = sizeof(KS_MAGIC);	/* with room for the newline */
	char *a;

	if ((a = OPENSSL_malloc(m + len + 1)) == NULL)
		return NULL;
	memcpy(a, KS_MAGIC "\n", m);
	memcpy(a + m, s, len);
	a[m + len] = '\0';
	*out_len = m + len;
	return a;
}

static char *
next_line(char **pp)
{
	char *s = *pp, *nl;

	if (*s == '\0')
		return NULL;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		*pp = nl + 1;
	} else {
		*pp = s + strlen(s);
	}
	return s;
}

static unsigned char *
unhex(const char *s, size_t *out_len)
{
	long n = 0;
	unsigned char *p;

	if (*s == '\0' || strchr(s, ':') != NULL)
		return NULL;
	if ((p = OPENSSL_hexstr2buf(s, &n)) == NULL || n <= 0) {
		OPENSSL_free(p);
		ERR_clear_error();
		return NULL;
	}
	*out_len = (size_t)n;
	return p;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t r;

	while (len > 0) {
		if ((r = write(fd, p, len)) <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return 0;
		}
		p += r;
		len -= (size_t)r;
	}
	return 1;
}

static char *
path_with(const char *path, const char *suffix)
{
	size_t n = strlen(path) + strlen(suffix) + 1;
	char *s;

	if ((s = OPENSSL_malloc(n)) != NULL)
		snprintf(s, n, "%s%s", path, suffix);
	return s;
}

/* ---- the file ---- */

/*
 * Reads the store at path into *out (NUL-terminated, *out_len bytes; free
 * with OPENSSL_clear_free(*out, *out_len + 1)); *out_exists is zero (and
 * *out NULL) when there is no file.  Refuses what is not a regular file of
 * ours alone.
 */
static int
read_store(char **out, size_t *out_len, int *out_exists, const char *path,
    struct skd_client_error *err)
{
	struct stat sb;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd, ok = 0;

	*out = NULL;
	*out_len = 0;
	*out_exists = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 1;
		return skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: %s", path, strerror(errno));
	}
	*out_exists = 1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: not a regular file", path);
		goto err;
	}
	/* Its names say which lists we are on: nobody else may read it. */
	if ((sb.st_mode & 077) != 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: refusing a file with group or other "
		    "permissions (chmod 600)", path);
		goto err;
	}
	if (sb.st_size > KS_MAX) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: too large", path);
		goto err;
	}
	if ((buf = OPENSSL_malloc((size_t)sb.st_size + 1)) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
		goto err;
	}
	while (len < (size_t)sb.st_size && (r = read(fd, buf + len,
	    (size_t)sb.st_size - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
			    "key store %s: %s", path, strerror(errno));
			goto err;
		}
		len += (size_t)r;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: malformed (NUL byte)", path);
		goto err;
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
	ok = 1;
 err:
	if (buf != NULL)
		OPENSSL_clear_free(buf, (size_t)sb.st_size + 1);
	close(fd);
	return ok;
}

static void
free_buf(char **buf, size_t len)
{
	if (*buf != NULL)
		OPENSSL_clear_free(*buf, len + 1);
	*buf = NULL;
}

static int
is_v1(const char *buf)
{
	size_t n = strlen(KS_MAGIC_V1);

	return strncmp(buf, KS_MAGIC_V1, n) == 0 &&
	    (buf[n] == '\n' || buf[n] == '\0');
}

/* An exclusive lock on "<path>.lock" (created 0600, never removed: a
 * waiter must lock the file that the next writer locks); returns the fd
 * to close, or -1. */
static int
lock_store(const char *path, struct skd_client_error *err)
{
	char *lp;
	int fd;

	if ((lp = path_with(path, ".lock")) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
		return -1;
	}
	if ((fd = open(lp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store lock %s: %s", lp, strerror(errno));
		OPENSSL_free(lp);
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store lock %s: %s", lp, strerror(errno));
		close(fd);
		fd = -1;
		break;
	}
	OPENSSL_free(lp);
	return fd;
}

static int
fsync_dir(const char *path)
{
	char *dir = OPENSSL_strdup(path), *slash;
	int fd, ok;

	if (dir == NULL)
		return 0;
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	OPENSSL_free(dir);
	if (fd < 0)
		return 0;
	ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

/*
 * Replaces path by data atomically: "<path>.tmp" created 0600, written,
 * fsynced, renamed over path, then the directory fsynced.  A crash at any
 * point leaves either the old file or the new one.  wipe_old: the old
 * file (a plaintext store being migrated) is overwritten with zeros once
 * the new one is in place (best effort: copy-on-write file systems and
 * backups may keep the old blocks).  Called under the lock.
 */
static int
replace_file(const char *path, const char *data, size_t len, int wipe_old,
    struct skd_client_error *err)
{
	static const char zeros[4096];
	struct stat sb;
	char *tmp;
	off_t left;
	int fd = -1, old = -1, ok = 0;

	if ((tmp = path_with(path, ".tmp")) == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0 || fchmod(fd, 0600) != 0 ||
	    !write_all(fd, data, len) || fsync(fd) != 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: cannot write: %s", tmp, strerror(errno));
		goto err;
	}
	if (close(fd) != 0) {
		fd = -1;
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: cannot write: %s", tmp, strerror(errno));
		goto err;
	}
	fd = -1;
	if (wipe_old)
		old = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (rename(tmp, path) != 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: %s", path, strerror(errno));
		goto err;
	}
	(void)fsync_dir(path);
	if (old >= 0 && fstat(old, &sb) == 0) {
		for (left = sb.st_size; left > 0; left -= (off_t)sizeof(zeros))
			if (!write_all(old, zeros, left < (off_t)sizeof(zeros) ?
			    (size_t)left : sizeof(zeros)))
				break;
		(void)fsync(old);
	}
	ok = 1;
 err:
	if (!ok)
		(void)unlink(tmp);
	if (fd >= 0)
		close(fd);
	if (old >= 0)
		close(old);
	OPENSSL_free(tmp);
	return ok;
}

/* ---- entries ---- */

/*
 * Parses the first seven TAB-separated fields of an entry line (modified
 * in place) into k, leaving the eighth (the KEK, hex in version 1, sealed
 * in version 2) in *out_last and the length of the line up to it in
 * *out_prefix.  Returns one or zero.
 */
static int
parse_fields(struct skd_client_key *k, char *line, char **out_last,
    size_t *out_prefix)
{
	char *f[8], *p = line, *t;
	unsigned char *fp = NULL;
	size_t fp_len = 0, i;
	ASN1_OBJECT *o;

	memset(k, 0, sizeof(*k));
	for (i = 0; i < 7; i++) {
		if ((t = strchr(p, '\t')) == NULL)
			return 0;
		f[i] = p;
		*t = '\0';
		p = t + 1;
	}
	if (strchr(p, '\t') != NULL || *p == '\0')
		return 0;
	f[7] = p;
	*out_last = p;
	*out_prefix = (size_t)(p - line);
	if (*f[0] == '\0' || *f[1] == '\0' ||
	    (k->gl_name = OPENSSL_strdup(f[0])) == NULL ||
	    (k->gla_subject = OPENSSL_strdup(f[1])) == NULL)
		goto err;
	if ((fp = unhex(f[2], &fp_len)) == NULL || fp_len != 32)
		goto err;
	memcpy(k->gla_fp, fp, 32);
	if ((k->key_id = unhex(f[3], &k->key_id_len)) == NULL)
		goto err;
	if ((o = OBJ_txt2obj(f[4], 1)) == NULL)
		goto err;
	k->alg_nid = OBJ_obj2nid(o);
	ASN1_OBJECT_free(o);
	if (skd_client_kek_len(k->alg_nid) < 0 ||
	    !skd_store_time_parse(&k->not_before, f[5]) ||
	    !skd_store_time_parse(&k->not_after, f[6]))
		goto err;
	OPENSSL_free(fp);
	return 1;
 err:
	OPENSSL_free(fp);
	skd_client_key_clear(k);
	ERR_clear_error();
	return 0;
}

static int
push_key(struct skd_client_key **v, size_t *n, struct skd_client_key *k)
{
	struct skd_client_key *nv;

	if ((nv = OPENSSL_realloc(*v, (*n + 1) * sizeof(*nv))) == NULL)
		return 0;
	*v = nv;
	nv[*n] = *k;
	memset(k, 0, sizeof(*k));
	(*n)++;
	return 1;
}

/* Version 1: "skd-keystore 1" then entries whose last field is the KEK in
 * hex.  buf is modified. */
static int
parse_v1(struct skd_client_key **out_v, size_t *out_n, char *buf,
    const char *path, struct skd_client_error *err)
{
	struct skd_client_key k;
	char *p = buf, *line, *last;
	size_t lineno = 1, prefix;

	*out_v = NULL;
	*out_n = 0;
	(void)next_line(&p);	/* the magic, checked by is_v1 */
	while ((line = next_line(&p)) != NULL) {
		lineno++;
		if (!parse_fields(&k, line, &last, &prefix))
			goto bad;
		if ((k.kek = unhex(last, &k.kek_len)) == NULL ||
		    (int)k.kek_len != skd_client_kek_len(k.alg_nid)) {
			skd_client_key_clear(&k);
			goto bad;
		}
		OPENSSL_cleanse(last, strlen(last));
		if (!push_key(out_v, out_n, &k)) {
			skd_client_key_clear(&k);
			return skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
			    "out of memory");
		}
	}
	return 1;
 bad:
	return skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
	    "key store %s: malformed at line %zu", path, lineno);
}

/* ---- protection of the store key ---- */

static int
get_passphrase(char *pass, size_t *pass_len, int confirm,
    const struct skd_client_ks_auth *auth, const char *path,
    struct skd_client_error *err)
{
	const char *why = NULL;

	if (auth->passphrase == NULL || !auth->passphrase(pass, KS_PASS_MAX,
	    pass_len, confirm, &why, auth->arg)) {
		OPENSSL_cleanse(pass, KS_PASS_MAX);
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "key store %s: a passphrase is needed%s%s", path,
		    why != NULL ? ": " : "", why != NULL ? why : "");
	}
	if (*pass_len == 0 || *pass_len >= KS_PASS_MAX) {
		OPENSSL_cleanse(pass, KS_PASS_MAX);
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "key store %s: empty or overlong passphrase", path);
	}
	return 1;
}

static int
cert_fp_hex(char out[65], X509 *cert)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *h;

	if (!X509_digest(cert, EVP_sha256(), md, &mdlen) || mdlen != 32 ||
	    (h = skd_client_hex(md, 32)) == NULL)
		return 0;
	memcpy(out, h, 65);
	OPENSSL_free(h);
	return 1;
}

/* A new store key protected as auth says: sets ks->skey, ks->header and
 * ks->protect. */
static int
protect_new(struct skd_client_keystore *ks,
    const struct skd_client_ks_auth *auth, struct skd_client_error *err)
{
	enum skd_client_ks_protect mode = auth->protect;
	unsigned char salt[KS_SALT_LEN], kdf[KS_KEY_LEN], *env = NULL;
	char pass[KS_PASS_MAX], fp[65], *s_salt = NULL, *wrapped = NULL;
	char *aad = NULL, prefix[160];
	size_t pass_len = 0, env_len = 0, aad_len = 0, hlen;
	struct skd_cms_recip r;
	int log2n = auth->scrypt_log2n != 0 ? auth->scrypt_log2n :
	    KS_SCRYPT_LOG2N, ok = 0;

	if (mode == SKD_CLIENT_KS_AUTO)
		mode = auth->ident != NULL ? SKD_CLIENT_KS_CERT :
		    SKD_CLIENT_KS_PASSPHRASE;
	if (RAND_bytes(ks->skey, KS_KEY_LEN) != 1)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "no random bytes");
	OPENSSL_free(ks->header);
	ks->header = NULL;
	if (mode == SKD_CLIENT_KS_CERT) {
		if (auth->ident == NULL || auth->ident->cert == NULL)
			return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
			    "key store %s: certificate protection needs the "
			    "member's certificate and key", ks->path);
		memset(&r, 0, sizeof(r));
		r.type = SKD_CMS_RECIP_CERT;
		r.cert = auth->ident->cert;
		if (EVP_PKEY_is_a(X509_get0_pubkey(r.cert), "RSA"))
			r.flags = SKD_CMS_RECIP_OAEP;
		if (!cert_fp_hex(fp, r.cert) ||
		    !skd_cms_envelope(&env, &env_len,
		    OBJ_nid2obj(NID_pkcs7_data), ks->skey, KS_KEY_LEN, &r, 1,
		    NULL) || (wrapped = b64_encode(env, env_len)) == NULL) {
			skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
			    "key store %s: cannot protect the store key for "
			    "the certificate", ks->path);
			goto err;
		}
		hlen = strlen(fp) + strlen(wrapped) + 16;
		if ((ks->header = OPENSSL_malloc(hlen)) == NULL)
			goto nomem;
		snprintf(ks->header, hlen, "certificate %s %s", fp, wrapped);
	} else {
		if (log2n < 10 || log2n > 20)
			return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
			    "scrypt: log2 N out of range");
		if (!get_passphrase(pass, &pass_len, 1, auth, ks->path, err))
			return 0;
		if (RAND_bytes(salt, sizeof(salt)) != 1 ||
		    (s_salt = b64_encode(salt, sizeof(salt))) == NULL)
			goto nomem;
		snprintf(prefix, sizeof(prefix), "passphrase scrypt %lu %d %d "
		    "%s", 1UL << log2n, KS_SCRYPT_R, KS_SCRYPT_P, s_salt);
		if (!scrypt_key(kdf, pass, pass_len, salt, sizeof(salt),
		    (uint64_t)1 << log2n, KS_SCRYPT_R, KS_SCRYPT_P)) {
			skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
			    "scrypt failed");
			goto err;
		}
		if ((aad = aad_of(prefix, strlen(prefix), &aad_len)) == NULL ||
		    (wrapped = seal_b64(kdf, aad, aad_len, ks->skey,
		    KS_KEY_LEN)) == NULL)
			goto nomem;
		hlen = strlen(prefix) + strlen(wrapped) + 2;
		if ((ks->header = OPENSSL_malloc(hlen)) == NULL)
			goto nomem;
		snprintf(ks->header, hlen, "%s %s", prefix, wrapped);
	}
	ks->protect = mode;
	ok = 1;
	goto err;
 nomem:
	skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL, "out of memory");
 err:
	OPENSSL_cleanse(pass, sizeof(pass));
	OPENSSL_cleanse(kdf, sizeof(kdf));
	OPENSSL_free(s_salt);
	OPENSSL_free(wrapped);
	OPENSSL_free(aad);
	OPENSSL_free(env);
	if (!ok)
		OPENSSL_cleanse(ks->skey, sizeof(ks->skey));
	return ok;
}

/* "passphrase scrypt N r p SALT WRAPPED": the store key from the
 * passphrase.  hdr is not modified. */
static int
unlock_passphrase(struct skd_client_keystore *ks, const char *hdr,
    const struct skd_client_ks_auth *auth, struct skd_client_error *err)
{
	char pass[KS_PASS_MAX], salt_b64[64], *wrapped;
	unsigned char kdf[KS_KEY_LEN], *salt = NULL, *sk = NULL;
	unsigned long n = 0;
	unsigned r = 0, p = 0;
	size_t pass_len = 0, salt_len = 0, sk_len = 0, aad_len = 0;
	char *aad = NULL;
	int used = 0, ok = 0;

	if (sscanf(hdr, "passphrase scrypt %lu %u %u %63s %n", &n, &r, &p,
	    salt_b64, &used) != 4 || used == 0 ||
	    (wrapped = strrchr(hdr, ' ')) == NULL ||
	    wrapped != hdr + used - 1 || strchr(wrapped + 1, ' ') != NULL ||
	    n < 1024 || n > (1UL << 20) || (n & (n - 1)) != 0 || r < 1 ||
	    r > 32 || p < 1 || p > 16 || 128ULL * n * r > (1ULL << 30) ||
	    (salt = b64_decode(salt_b64, &salt_len)) == NULL ||
	    salt_len < 8)
		return skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: malformed passphrase line", ks->path);
	wrapped++;
	if (!get_passphrase(pass, &pass_len, 0, auth, ks->path, err))
		goto err;
	if (!scrypt_key(kdf, pass, pass_len, salt, salt_len, n, r, p)) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "scrypt failed");
		goto err;
	}
	if ((aad = aad_of(hdr, (size_t)(wrapped - 1 - hdr), &aad_len)) ==
	    NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
		goto err;
	}
	if (!open_b64(&sk, &sk_len, kdf, aad, aad_len, wrapped) ||
	    sk_len != KS_KEY_LEN) {
		skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
		    "key store %s: wrong passphrase (or its protection line "
		    "was altered); nothing was changed", ks->path);
		goto err;
	}
	memcpy(ks->skey, sk, KS_KEY_LEN);
	ok = 1;
 err:
	OPENSSL_cleanse(pass, sizeof(pass));
	OPENSSL_cleanse(kdf, sizeof(kdf));
	if (sk != NULL)
		OPENSSL_clear_free(sk, sk_len);
	OPENSSL_free(aad);
	OPENSSL_free(salt);
	return ok;
}

/* "certificate FP ENVELOPED": the store key with the member's key. */
static int
unlock_cert(struct skd_client_keystore *ks, const char *hdr,
    const struct skd_client_ks_auth *auth, struct skd_client_error *err)
{
	struct skd_cms_opener op;
	char fp[65], have[65];
	const char *b64;
	unsigned char *der = NULL, *sk = NULL;
	size_t der_len = 0, sk_len = 0;
	int ok = 0;

	if (strncmp(hdr, "certificate ", 12) != 0 || strlen(hdr) < 12 + 66 ||
	    hdr[12 + 64] != ' ' || (b64 = hdr + 12 + 65,
	    strchr(b64, ' ') != NULL))
		return skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: malformed certificate line", ks->path);
	memcpy(fp, hdr + 12, 64);
	fp[64] = '\0';
	if (auth->ident == NULL || auth->ident->cert == NULL ||
	    auth->ident->key == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "key store %s is protected for the member's certificate: "
		    "give that certificate and its private key", ks->path);
	if (!cert_fp_hex(have, auth->ident->cert))
		return skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "cannot hash the certificate");
	if (strcmp(fp, have) != 0)
		return skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
		    "key store %s is protected for another certificate "
		    "(SHA-256 %.16s...); give that certificate and its private "
		    "key; nothing was changed", ks->path, fp);
	if ((der = b64_decode(b64, &der_len)) == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: malformed certificate line", ks->path);
	memset(&op, 0, sizeof(op));
	op.cert = auth->ident->cert;
	op.key = auth->ident->key;
	if (!skd_cms_open(&sk, &sk_len, NULL, der, der_len, &op) ||
	    sk_len != KS_KEY_LEN) {
		ERR_clear_error();
		skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
		    "key store %s: the private key does not open the store "
		    "key (wrong private key, or the line was altered); nothing "
		    "was changed", ks->path);
		goto err;
	}
	memcpy(ks->skey, sk, KS_KEY_LEN);
	ok = 1;
 err:
	if (sk != NULL)
		OPENSSL_clear_free(sk, sk_len);
	OPENSSL_free(der);
	return ok;
}

/*
 * Parses a version 2 file (buf, modified in place) into *out_v, *out_n.
 * With auth: unlocks the store key named by its protection line into ks
 * (header, protect, skey).  Without: the protection line must be the one
 * ks was opened with, whose key ks holds (a re-read before a save).  The
 * check line and every entry must authenticate.
 */
static int
load_v2(struct skd_client_keystore *ks, char *buf,
    const struct skd_client_ks_auth *auth, struct skd_client_key **out_v,
    size_t *out_n, struct skd_client_error *err)
{
	struct skd_client_key k;
	char *p = buf, *line, *hdr, *chk, *last, *aad = NULL, *hex;
	unsigned char *pt = NULL;
	size_t lineno = 3, prefix, aad_len = 0, pt_len = 0;
	int ok = 0;

	*out_v = NULL;
	*out_n = 0;
	memset(&k, 0, sizeof(k));
	if ((line = next_line(&p)) == NULL || strcmp(line, KS_MAGIC) != 0) {
		return skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: not a key store (version 1 or 2)",
		    ks->path);
	}
	if ((hdr = next_line(&p)) == NULL || (chk = next_line(&p)) == NULL ||
	    strncmp(chk, "check ", 6) != 0)
		return skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: malformed header", ks->path);
	if (auth == NULL) {
		if (ks->header == NULL || strcmp(hdr, ks->header) != 0)
			return skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
			    "key store %s: its protection changed since it "
			    "was opened; nothing was written (run again)",
			    ks->path);
	} else {
		if (strncmp(hdr, "passphrase ", 11) == 0) {
			if (!unlock_passphrase(ks, hdr, auth, err))
				return 0;
			ks->protect = SKD_CLIENT_KS_PASSPHRASE;
		} else if (strncmp(hdr, "certificate ", 12) == 0) {
			if (!unlock_cert(ks, hdr, auth, err))
				return 0;
			ks->protect = SKD_CLIENT_KS_CERT;
		} else {
			return skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
			    "key store %s: unknown protection", ks->path);
		}
		OPENSSL_free(ks->header);
		if ((ks->header = OPENSSL_strdup(hdr)) == NULL)
			return skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
			    "out of memory");
	}
	/* The check line authenticates the header under the store key. */
	if ((aad = aad_of(hdr, strlen(hdr), &aad_len)) == NULL)
		goto nomem;
	if (!open_b64(&pt, &pt_len, ks->skey, aad, aad_len, chk + 6) ||
	    pt_len != strlen(KS_CHECK_TEXT) ||
	    memcmp(pt, KS_CHECK_TEXT, pt_len) != 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
		    "key store %s: its header does not authenticate (altered, "
		    "or a wrong key); nothing was changed", ks->path);
		goto err;
	}
	OPENSSL_clear_free(pt, pt_len);
	pt = NULL;
	OPENSSL_free(aad);
	aad = NULL;
	while ((line = next_line(&p)) != NULL) {
		lineno++;
		if (!parse_fields(&k, line, &last, &prefix)) {
			skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
			    "key store %s: malformed at line %zu", ks->path,
			    lineno);
			goto err;
		}
		/* The AAD is the line as written up to the KEK: the fields
		 * were split in place, so put the TABs back. */
		{
			size_t i;

			for (i = 0; i < prefix; i++)
				if (line[i] == '\0')
					line[i] = '\t';
		}
		if ((aad = aad_of(line, prefix, &aad_len)) == NULL)
			goto nomem;
		if (!open_b64(&k.kek, &k.kek_len, ks->skey, aad, aad_len,
		    last) || (int)k.kek_len !=
		    skd_client_kek_len(k.alg_nid)) {
			hex = skd_client_hex(k.key_id, k.key_id_len);
			skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
			    "key store %s: the entry at line %zu (key %s of "
			    "%s) does not authenticate: altered, or moved "
			    "from another GL, GLA or key store (RFC 5275 "
			    "section 8); nothing was changed", ks->path,
			    lineno, hex != NULL ? hex : "?", k.gl_name);
			OPENSSL_free(hex);
			goto err;
		}
		OPENSSL_free(aad);
		aad = NULL;
		if (!push_key(out_v, out_n, &k))
			goto nomem;
	}
	ok = 1;
	goto err;
 nomem:
	skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL, "out of memory");
 err:
	skd_client_key_clear(&k);
	if (pt != NULL)
		OPENSSL_clear_free(pt, pt_len);
	OPENSSL_free(aad);
	if (!ok) {
		skd_client_keys_free(*out_v, *out_n);
		*out_v = NULL;
		*out_n = 0;
	}
	return ok;
}

/* Writes ks (version 2) to its path; see replace_file.  Under the lock. */
static int
write_store(const struct skd_client_keystore *ks, int wipe_old,
    struct skd_client_error *err)
{
	BIO *b = NULL;
	BUF_MEM *bm;
	char *fp = NULL, *id = NULL, *sealed = NULL, *aad = NULL, *line = NULL;
	char nb[16], na[16], oid[80];
	size_t i, aad_len = 0, llen;
	int ok = 0;

	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    (aad = aad_of(ks->header, strlen(ks->header), &aad_len)) == NULL ||
	    (sealed = seal_b64(ks->skey, aad, aad_len,
	    (const unsigned char *)KS_CHECK_TEXT, strlen(KS_CHECK_TEXT))) ==
	    NULL || BIO_printf(b, "%s\n%s\ncheck %s\n", KS_MAGIC, ks->header,
	    sealed) <= 0)
		goto nomem;
	for (i = 0; i < ks->n; i++) {
		const struct skd_client_key *k = &ks->v[i];

		OPENSSL_free(sealed);
		OPENSSL_free(aad);
		OPENSSL_free(line);
		OPENSSL_free(fp);
		OPENSSL_free(id);
		sealed = aad = line = fp = id = NULL;
		if ((fp = skd_client_hex(k->gla_fp, 32)) == NULL ||
		    (id = skd_client_hex(k->key_id, k->key_id_len)) == NULL ||
		    OBJ_obj2txt(oid, sizeof(oid), OBJ_nid2obj(k->alg_nid),
		    1) <= 0)
			goto nomem;
		skd_store_time_str(nb, k->not_before);
		skd_store_time_str(na, k->not_after);
		llen = strlen(k->gl_name) + strlen(k->gla_subject) +
		    strlen(fp) + strlen(id) + strlen(oid) + 2 * 16 + 8;
		if ((line = OPENSSL_malloc(llen)) == NULL)
			goto nomem;
		snprintf(line, llen, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t",
		    k->gl_name, k->gla_subject, fp, id, oid, nb, na);
		if ((aad = aad_of(line, strlen(line), &aad_len)) == NULL ||
		    (sealed = seal_b64(ks->skey, aad, aad_len, k->kek,
		    k->kek_len)) == NULL ||
		    BIO_printf(b, "%s%s\n", line, sealed) <= 0)
			goto nomem;
	}
	BIO_get_mem_ptr(b, &bm);
	ok = replace_file(ks->path, bm->data, bm->length, wipe_old, err);
	goto err;
 nomem:
	skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL, "out of memory");
 err:
	OPENSSL_free(sealed);
	OPENSSL_free(aad);
	OPENSSL_free(line);
	OPENSSL_free(fp);
	OPENSSL_free(id);
	BIO_free(b);
	return ok;
}

/* ---- the API ---- */

void
skd_client_keystore_free(struct skd_client_keystore *ks)
{
	if (ks == NULL)
		return;
	skd_client_keys_free(ks->v, ks->n);
	OPENSSL_free(ks->path);
	OPENSSL_free(ks->header);
	OPENSSL_clear_free(ks, sizeof(*ks));
}

struct skd_client_keystore *
skd_client_keystore_open(const char *path, unsigned flags,
    const struct skd_client_ks_auth *auth, struct skd_client_error *err)
{
	static const struct skd_client_ks_auth none;
	struct skd_client_keystore *ks = NULL;
	char *buf = NULL;
	size_t len = 0;
	int exists = 0, lk = -1;

	if (auth == NULL)
		auth = &none;
	if ((ks = OPENSSL_zalloc(sizeof(*ks))) == NULL ||
	    (ks->path = OPENSSL_strdup(path)) == NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
		goto err;
	}
	if (!read_store(&buf, &len, &exists, path, err))
		goto err;
	if (!exists && (flags & SKD_CLIENT_KS_CREATE) == 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_NO_KEY,
		    "key store %s: %s", path, strerror(ENOENT));
		goto err;
	}
	if (exists && is_v1(buf) && auth->no_migrate) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s holds its keys in the clear (version 1); "
		    "not migrating it as asked", path);
		goto err;
	}
	if (!exists || is_v1(buf)) {
		/* Creating or migrating writes: under the lock, and from
		 * what the file holds once we have it. */
		free_buf(&buf, len);
		if ((lk = lock_store(path, err)) < 0 ||
		    !read_store(&buf, &len, &exists, path, err))
			goto err;
		if (!exists) {
			if (!protect_new(ks, auth, err) ||
			    !write_store(ks, 0, err))
				goto err;
			goto done;
		}
		if (is_v1(buf)) {
			/* Migration: the keys are re-written protected, and
			 * the plaintext file overwritten. */
			if (!parse_v1(&ks->v, &ks->n, buf, path, err) ||
			    !protect_new(ks, auth, err) ||
			    !write_store(ks, 1, err))
				goto err;
			ks->migrated = 1;
			goto done;
		}
		/* Migrated or created meanwhile by another process. */
	}
	if (!load_v2(ks, buf, auth, &ks->v, &ks->n, err))
		goto err;
 done:
	if (lk >= 0)
		close(lk);
	free_buf(&buf, len);
	return ks;
 err:
	if (lk >= 0)
		close(lk);
	free_buf(&buf, len);
	skd_client_keystore_free(ks);
	return NULL;
}

int
skd_client_keystore_migrated(const struct skd_client_keystore *ks)
{
	return ks->migrated;
}

enum skd_client_ks_protect
skd_client_keystore_protection(const struct skd_client_keystore *ks)
{
	return ks->protect;
}

int
skd_client_keystore_save(struct skd_client_keystore *ks,
    struct skd_client_error *err)
{
	struct skd_client_keystore disk;
	char *buf = NULL;
	size_t len = 0, i;
	int exists = 0, lk, ok = 0;

	memset(&disk, 0, sizeof(disk));
	if ((lk = lock_store(ks->path, err)) < 0)
		return 0;
	if (!read_store(&buf, &len, &exists, ks->path, err))
		goto err;
	if (exists) {
		/* Another process may have stored keys since we read the
		 * file: ours are merged into what is there now. */
		if (is_v1(buf)) {
			skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
			    "key store %s was replaced by a plaintext store "
			    "since it was opened; nothing was written",
			    ks->path);
			goto err;
		}
		disk.path = ks->path;
		if (!load_v2(ks, buf, NULL, &disk.v, &disk.n, err))
			goto err;
		for (i = 0; i < ks->n; i++)
			if (!skd_client_keystore_add(&disk, &ks->v[i], NULL,
			    err))
				goto err;
		skd_client_keys_free(ks->v, ks->n);
		ks->v = disk.v;
		ks->n = disk.n;
		disk.v = NULL;
		disk.n = 0;
	}
	ok = write_store(ks, 0, err);
 err:
	skd_client_keys_free(disk.v, disk.n);
	free_buf(&buf, len);
	close(lk);
	return ok;
}

size_t
skd_client_keystore_count(const struct skd_client_keystore *ks)
{
	return ks->n;
}

const struct skd_client_key *
skd_client_keystore_at(const struct skd_client_keystore *ks, size_t i)
{
	return i < ks->n ? &ks->v[i] : NULL;
}

int
skd_client_same_gl(const char *a, const char *b)
{
	GENERAL_NAME *ga = skd_gname_from_text(a), *gb = skd_gname_from_text(b);
	int r = ga != NULL && gb != NULL && skd_gname_match(ga, gb);

	if (ga == NULL || gb == NULL)
		r = strcmp(a, b) == 0;
	GENERAL_NAME_free(ga);
	GENERAL_NAME_free(gb);
	ERR_clear_error();
	return r;
}

int
skd_client_keystore_add(struct skd_client_keystore *ks,
    const struct skd_client_key *k, int *out_added,
    struct skd_client_error *err)
{
	struct skd_client_key *nv;
	size_t i;

	if (out_added != NULL)
		*out_added = 0;
	if (strpbrk(k->gl_name, "\t\n") != NULL ||
	    strpbrk(k->gla_subject, "\t\n") != NULL || *k->gl_name == '\0' ||
	    *k->gla_subject == '\0' || k->key_id_len == 0 ||
	    (int)k->kek_len != skd_client_kek_len(k->alg_nid))
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "key cannot be stored: empty names, names with tabs or "
		    "newlines, or a KEK that does not fit its algorithm");
	for (i = 0; i < ks->n; i++) {
		const struct skd_client_key *o = &ks->v[i];

		if (!skd_client_same_gl(o->gl_name, k->gl_name))
			continue;
		/* RFC 5275 section 8: the member associates the GLA's name
		 * with the GL and refuses keys from any other GLA. */
		if (memcmp(o->gla_fp, k->gla_fp, sizeof(k->gla_fp)) != 0)
			return skd_client_seterr(err,
			    SKD_CLIENT_ERR_GLA_BINDING, "key for %s refused: "
			    "it comes from GLA \"%s\", the list's keys came "
			    "from \"%s\" (RFC 5275 section 8)", k->gl_name,
			    k->gla_subject, o->gla_subject);
		if (o->key_id_len == k->key_id_len &&
		    memcmp(o->key_id, k->key_id, k->key_id_len) == 0) {
			if (o->kek_len == k->kek_len && CRYPTO_memcmp(o->kek,
			    k->kek, k->kek_len) == 0)
				return 1;
			return skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
			    "key for %s refused: another KEK with the same "
			    "identifier is stored", k->gl_name);
		}
	}
	if ((nv = OPENSSL_realloc(ks->v, (ks->n + 1) * sizeof(*nv))) == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
	ks->v = nv;
	if (!skd_client_key_copy(&ks->v[ks->n], k))
		return skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
	ks->n++;
	if (out_added != NULL)
		*out_added = 1;
	return 1;
}

const struct skd_client_key *
skd_client_keystore_find(const struct skd_client_keystore *ks,
    const unsigned char *id, size_t id_len)
{
	size_t i;

	for (i = 0; i < ks->n; i++) {
		if (ks->v[i].key_id_len == id_len &&
		    memcmp(ks->v[i].key_id, id, id_len) == 0)
			return &ks->v[i];
	}
	return NULL;
}

const struct skd_client_key *
skd_client_keystore_current(const struct skd_client_keystore *ks,
    const char *gl, time_t now)
{
	const struct skd_client_key *best = NULL;
	size_t i;

	/*
	 * The newest key valid now; of keys with the same notBefore, the one
	 * received last (keys are kept in the order they were fetched): a
	 * rekey within the same second as the key it replaces (after a member
	 * was removed, RFC 5275 section 8) must win over the old key.
	 */
	for (i = 0; i < ks->n; i++) {
		const struct skd_client_key *k = &ks->v[i];

		if (k->not_before <= now && now < k->not_after &&
		    skd_client_same_gl(k->gl_name, gl) &&
		    (best == NULL || k->not_before >= best->not_before))
			best = k;
	}
	return best;
}
