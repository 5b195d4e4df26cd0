/*
 * journal.c: the authenticated journal (docs/architecture.md, "The
 * journal is the GLA's own").
 *
 * A request entry can be written by its submitter, and the directory's
 * administrators (or a compromised replica) can write anything.  The
 * worker therefore applies a journal only when it can prove that a worker
 * of this GLA wrote it for this very request: the skdJournal value is
 *
 *	"SKDJ" 0x01 || tag (32 bytes) || outcome DER
 *
 * with tag = HMAC-SHA256(K, "skd-journal-v1" 0x00 || len(id) (4 bytes,
 * big-endian) || id || SHA-256(skdMessage) || outcome DER).  The request
 * id and the digest of the submitted message are not stored: they are
 * taken from the request entry at verification time, so a journal copied
 * to another request, or a message changed under a journal, fails.
 *
 * K is 32 bytes from HKDF-SHA256 (RFC 5869) over the contents of the
 * configured journal_key_file or, when none is configured, over the DER
 * of the GLA's private key (every worker of one GLA has it; nobody else
 * does).  Key material is wiped after use and never logged.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "worker/skd_worker.h"

#define J_MAGIC		"SKDJ\x01"
#define J_MAGIC_LEN	5
#define J_TAG_LEN	32
#define J_LABEL		"skd-journal-v1"
#define J_KEYFILE_MAX	4096

static int
hkdf(unsigned char out[SKD_WORKER_JOURNAL_KEY_LEN], const unsigned char *ikm,
    size_t ikm_len)
{
	static const char salt[] = "skd journal MAC key";
	static const char info[] = "v1";
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM p[5];
	int ok = 0;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto err;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, ikm_len);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)salt, sizeof(salt) - 1);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, sizeof(info) - 1);
	p[4] = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(ctx, out, SKD_WORKER_JOURNAL_KEY_LEN, p) == 1;
 err:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok;
}

int
skd_worker_journal_key(unsigned char out[SKD_WORKER_JOURNAL_KEY_LEN],
    char *err, size_t err_len, const char *path, EVP_PKEY *gla_key)
{
	unsigned char *ikm = NULL;
	size_t ikm_len = 0;
	FILE *f = NULL;
	int n, ok = 0;

	if (path != NULL) {
		if ((f = fopen(path, "rb")) == NULL) {
			(void)snprintf(err, err_len, "journal_key_file %s: %s",
			    path, strerror(errno));
			goto err;
		}
		if ((ikm = OPENSSL_malloc(J_KEYFILE_MAX)) == NULL)
			goto oom;
		ikm_len = fread(ikm, 1, J_KEYFILE_MAX, f);
		if (ikm_len < SKD_WORKER_JOURNAL_KEY_LEN) {
			(void)snprintf(err, err_len, "journal_key_file %s: "
			    "holds %zu bytes; at least %d are needed (e.g. "
			    "openssl rand -hex 32)", path, ikm_len,
			    SKD_WORKER_JOURNAL_KEY_LEN);
			goto err;
		}
	} else {
		if (gla_key == NULL ||
		    (n = i2d_PrivateKey(gla_key, &ikm)) <= 0) {
			(void)snprintf(err, err_len, "cannot derive the journal "
			    "key from the GLA key (set journal_key_file)");
			goto err;
		}
		ikm_len = (size_t)n;
	}
	if (!hkdf(out, ikm, ikm_len)) {
		(void)snprintf(err, err_len, "journal key derivation failed");
		goto err;
	}
	ok = 1;
	goto err;
 oom:
	(void)snprintf(err, err_len, "out of memory");
 err:
	if (f != NULL)
		fclose(f);
	OPENSSL_clear_free(ikm, path != NULL ? J_KEYFILE_MAX : ikm_len);
	ERR_clear_error();
	return ok;
}

/* tag computes the HMAC of the header comment into out. */
static int
tag(unsigned char out[J_TAG_LEN],
    const unsigned char key[SKD_WORKER_JOURNAL_KEY_LEN], const char *id,
    const unsigned char *msg, size_t msg_len, const unsigned char *der,
    size_t der_len)
{
	unsigned char md[32], len4[4];
	size_t id_len = strlen(id), out_len = 0;
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM p[2];
	int ok = 0;

	if (EVP_Digest(msg, msg_len, md, NULL, EVP_sha256(), NULL) != 1)
		return 0;
	len4[0] = (unsigned char)(id_len >> 24);
	len4[1] = (unsigned char)(id_len >> 16);
	len4[2] = (unsigned char)(id_len >> 8);
	len4[3] = (unsigned char)id_len;
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto err;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, SKD_WORKER_JOURNAL_KEY_LEN, p) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)J_LABEL,
	    sizeof(J_LABEL)) != 1 ||
	    EVP_MAC_update(ctx, len4, sizeof(len4)) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)id, id_len) != 1 ||
	    EVP_MAC_update(ctx, md, sizeof(md)) != 1 ||
	    EVP_MAC_update(ctx, der, der_len) != 1 ||
	    EVP_MAC_final(ctx, out, &out_len, J_TAG_LEN) != 1 ||
	    out_len != J_TAG_LEN)
		goto err;
	ok = 1;
 err:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok;
}

int
skd_worker_journal_seal(unsigned char **out, size_t *out_len,
    const unsigned char key[SKD_WORKER_JOURNAL_KEY_LEN], const char *id,
    const unsigned char *msg, size_t msg_len, const unsigned char *der,
    size_t der_len)
{
	unsigned char *b;

	*out = NULL;
	*out_len = 0;
	if (der_len > SIZE_MAX - J_MAGIC_LEN - J_TAG_LEN ||
	    (b = OPENSSL_malloc(J_MAGIC_LEN + J_TAG_LEN + der_len)) == NULL)
		return 0;
	memcpy(b, J_MAGIC, J_MAGIC_LEN);
	if (!tag(b + J_MAGIC_LEN, key, id, msg, msg_len, der, der_len)) {
		OPENSSL_free(b);
		return 0;
	}
	memcpy(b + J_MAGIC_LEN + J_TAG_LEN, der, der_len);
	*out = b;
	*out_len = J_MAGIC_LEN + J_TAG_LEN + der_len;
	return 1;
}

int
skd_worker_journal_open(const unsigned char **out_der, size_t *out_der_len,
    const unsigned char key[SKD_WORKER_JOURNAL_KEY_LEN], const char *id,
    const unsigned char *msg, size_t msg_len, const unsigned char *blob,
    size_t blob_len)
{
	unsigned char t[J_TAG_LEN];
	const unsigned char *der;
	size_t der_len;
	int ok;

	*out_der = NULL;
	*out_der_len = 0;
	if (blob == NULL || blob_len <= J_MAGIC_LEN + J_TAG_LEN ||
	    memcmp(blob, J_MAGIC, J_MAGIC_LEN) != 0)
		return 0;
	der = blob + J_MAGIC_LEN + J_TAG_LEN;
	der_len = blob_len - J_MAGIC_LEN - J_TAG_LEN;
	if (!tag(t, key, id, msg, msg_len, der, der_len))
		return 0;
	ok = CRYPTO_memcmp(t, blob + J_MAGIC_LEN, J_TAG_LEN) == 0;
	if (ok) {
		*out_der = der;
		*out_der_len = der_len;
	}
	return ok;
}
