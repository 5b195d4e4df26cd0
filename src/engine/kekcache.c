/*
 * kekcache.c: KEKs the GLA opened from its own archive, kept between
 * requests (issue 14, "a request costs what it names").
 *
 * Every glAddMember (RFC 5275 4.3: the new member gets the GL's current
 * KEK) and every resumed rekey opens the GL's key archive, the KEK
 * enveloped to the GLA's own certificate (skdArchivedKEK; RFC 5275 5): one
 * RSA private operation or ECDH and a CMS parse, a sixth of what such a
 * request costs the worker.  The cache keeps the KEK opened from an
 * archive, keyed by the SHA-256 of the archive's DER: the same bytes open
 * to the same KEK under any GLA key that can open them, so an entry never
 * needs invalidating; another archive (a new key, or bytes someone
 * changed) is another digest and is opened for real.
 *
 * Key material: the cache holds KEKs the GLA process can open at will
 * with the private key it holds anyway; each is wiped when its slot is
 * taken by another, on _clear and on _free, and never leaves the process.
 * Set-associative: an archive's set of KEK_WAYS slots is fixed by its
 * digest, and a new entry takes the least recently used slot of its set
 * (bounded memory, O(1), no list to keep; a GL's few valid keys never
 * push each other out).
 * Thread-safe (the worker's in-flight loops share one).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "cms/skd_recip.h"
#include "engine/engine_local.h"

#define KEK_MAX_LEN	64
#define KEK_WAYS	4

struct kek_slot {
	unsigned char	 md[32];
	unsigned char	 kek[KEK_MAX_LEN];
	size_t		 kek_len;		/* 0: empty */
	unsigned long	 used;			/* clock of the last use */
};

struct skd_engine_kekcache {
	pthread_mutex_t	 mu;
	struct kek_slot	*slot;
	size_t		 n;			/* slots: nsets * KEK_WAYS */
	unsigned long	 clock;
	size_t		 hits, misses;
};

struct skd_engine_kekcache *
skd_engine_kekcache_new(size_t slots)
{
	struct skd_engine_kekcache *c;

	if (slots == 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	slots = (slots + KEK_WAYS - 1) / KEK_WAYS * KEK_WAYS;
	if ((c->slot = OPENSSL_zalloc(slots * sizeof(*c->slot))) == NULL ||
	    pthread_mutex_init(&c->mu, NULL) != 0) {
		OPENSSL_free(c->slot);
		free(c);
		return NULL;
	}
	c->n = slots;
	return c;
}

void
skd_engine_kekcache_clear(struct skd_engine_kekcache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	OPENSSL_cleanse(c->slot, c->n * sizeof(*c->slot));
	pthread_mutex_unlock(&c->mu);
}

void
skd_engine_kekcache_free(struct skd_engine_kekcache *c)
{
	if (c == NULL)
		return;
	OPENSSL_clear_free(c->slot, c->n * sizeof(*c->slot));
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void
skd_engine_kekcache_stats(const struct skd_engine_kekcache *c,
    size_t *out_hits, size_t *out_misses)
{
	*out_hits = c != NULL ? c->hits : 0;
	*out_misses = c != NULL ? c->misses : 0;
}

/* The first slot of md's set. */
static struct kek_slot *
kek_set_of(struct skd_engine_kekcache *c, const unsigned char md[32])
{
	size_t i = ((size_t)md[0] << 24 | (size_t)md[1] << 16 |
	    (size_t)md[2] << 8 | md[3]) % (c->n / KEK_WAYS);

	return &c->slot[i * KEK_WAYS];
}

/* md's slot in its set, or NULL; called locked. */
static struct kek_slot *
kek_find(struct skd_engine_kekcache *c, const unsigned char md[32])
{
	struct kek_slot *set = kek_set_of(c, md);
	size_t w;

	for (w = 0; w < KEK_WAYS; w++) {
		if (set[w].kek_len > 0 &&
		    CRYPTO_memcmp(set[w].md, md, 32) == 0)
			return &set[w];
	}
	return NULL;
}

/* The slot a new entry for md takes: an empty one, else the least
 * recently used of its set; called locked. */
static struct kek_slot *
kek_victim(struct skd_engine_kekcache *c, const unsigned char md[32])
{
	struct kek_slot *set = kek_set_of(c, md), *v = &set[0];
	size_t w;

	for (w = 0; w < KEK_WAYS; w++) {
		if (set[w].kek_len == 0)
			return &set[w];
		if (set[w].used < v->used)
			v = &set[w];
	}
	return v;
}

int
eng_open_archive(const struct skd_engine_config *cfg, unsigned char **out_kek,
    size_t *out_len, const unsigned char *archive, size_t archive_len)
{
	struct skd_engine_kekcache *c = cfg->kekcache;
	struct kek_slot *s;
	unsigned char md[32];
	unsigned int mdlen = 0;

	*out_kek = NULL;
	*out_len = 0;
	if (c == NULL || EVP_Digest(archive, archive_len, md, &mdlen,
	    EVP_sha256(), NULL) != 1 || mdlen != sizeof(md)) {
		ERR_clear_error();
		return skd_ri_open_cert(out_kek, out_len, archive,
		    archive_len, cfg->gla_cert, cfg->gla_key);
	}
	pthread_mutex_lock(&c->mu);
	if ((s = kek_find(c, md)) != NULL &&
	    (*out_kek = OPENSSL_malloc(s->kek_len)) != NULL) {
		memcpy(*out_kek, s->kek, s->kek_len);
		*out_len = s->kek_len;
		s->used = ++c->clock;
		c->hits++;
	}
	pthread_mutex_unlock(&c->mu);
	if (*out_kek != NULL)
		return 1;
	if (!skd_ri_open_cert(out_kek, out_len, archive, archive_len,
	    cfg->gla_cert, cfg->gla_key))
		return 0;
	if (*out_len <= KEK_MAX_LEN) {
		pthread_mutex_lock(&c->mu);
		if ((s = kek_find(c, md)) == NULL) {
			/* (Another thread may have opened it meanwhile.) */
			s = kek_victim(c, md);
			OPENSSL_cleanse(s, sizeof(*s));
			memcpy(s->md, md, sizeof(md));
			memcpy(s->kek, *out_kek, *out_len);
			s->kek_len = *out_len;
		}
		s->used = ++c->clock;
		c->misses++;
		pthread_mutex_unlock(&c->mu);
	}
	return 1;
}
