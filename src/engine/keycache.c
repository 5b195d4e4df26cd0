/*
 * keycache.c: members' certificates decoded and validated once, kept
 * between requests (issue 14, "decode once").
 *
 * OpenSSL 3.0 spends about 160 to 200 us decoding one certificate (most
 * of it building a decoder for the public key) and one public-key
 * operation of the issuer's kind validating its path; a rekey pays both
 * for every member, and the next rekey of the same GL pays them again.
 * The cache keeps the decoded X509 (its public key decoded with it) of
 * each certificate that validated, keyed by the SHA-256 of its DER, with
 * the window in which that validation holds: from the latest notBefore
 * to the earliest notAfter of the verified path, and no longer than the
 * cache's ttl after it was made (a CRL that changes without a reload is
 * then seen within ttl).  When the cache is full, a new certificate
 * takes the least recently used entry's place only one time in
 * KC_ADMIT; the others are not kept.  A GL larger than the cache streams
 * through it in the same order at every rekey, and plain least recently
 * used eviction would then keep none of what the next rekey asks for
 * first (no hits at all); this way the certificates already in stay,
 * the next rekey finds about max of them, and a new working set still
 * replaces an old one (and every entry leaves within ttl).  The owner
 * clears the cache whenever the trust anchors or
 * CRLs change (the worker on reload), and an entry made under another
 * trust store is never returned.
 *
 * The outcome does not depend on the cache: a hit is a certificate that
 * the same store validated at a time inside the window, which is what a
 * miss would find again.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "engine/engine_local.h"

#define KC_MD_LEN	32
/* When full, one new certificate in KC_ADMIT replaces the LRU entry. */
#define KC_ADMIT	32

struct kc_entry {
	unsigned char	 md[KC_MD_LEN];
	X509		*x;
	time_t		 from, until;
	struct kc_entry	*hnext;			/* hash chain */
	struct kc_entry	*prev, *next;		/* LRU: head most recent */
};

struct skd_engine_keycache {
	pthread_mutex_t	  mu;
	struct kc_entry	**tab;
	size_t		  nbuckets, n, max;
	time_t		  ttl;
	const X509_STORE *trust;		/* the store entries are from */
	struct kc_entry	 *head, *tail;
	size_t		  hits, misses, turned_away;
};

struct skd_engine_keycache *
skd_engine_keycache_new(size_t max_entries, time_t ttl)
{
	struct skd_engine_keycache *c;

	if (max_entries == 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->max = max_entries;
	c->ttl = ttl > 0 ? ttl : SKD_ENGINE_KEYCACHE_TTL;
	for (c->nbuckets = 64; c->nbuckets < max_entries; c->nbuckets *= 2)
		;
	if ((c->tab = calloc(c->nbuckets, sizeof(*c->tab))) == NULL ||
	    pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c->tab);
		free(c);
		return NULL;
	}
	return c;
}

static size_t
kc_bucket(const struct skd_engine_keycache *c, const unsigned char *md)
{
	uint64_t h;

	memcpy(&h, md, sizeof(h));
	return (size_t)(h & (c->nbuckets - 1));
}

static void
kc_unlink_lru(struct skd_engine_keycache *c, struct kc_entry *x)
{
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		c->head = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	else
		c->tail = x->prev;
	x->prev = x->next = NULL;
}

static void
kc_push_front(struct skd_engine_keycache *c, struct kc_entry *x)
{
	x->prev = NULL;
	x->next = c->head;
	if (c->head != NULL)
		c->head->prev = x;
	c->head = x;
	if (c->tail == NULL)
		c->tail = x;
}

static void
kc_drop(struct skd_engine_keycache *c, struct kc_entry *x)
{
	struct kc_entry **pp = &c->tab[kc_bucket(c, x->md)];

	while (*pp != x)
		pp = &(*pp)->hnext;
	*pp = x->hnext;
	kc_unlink_lru(c, x);
	X509_free(x->x);
	free(x);
	c->n--;
}

static void
kc_clear_locked(struct skd_engine_keycache *c)
{
	while (c->head != NULL)
		kc_drop(c, c->head);
	c->trust = NULL;
}

void
skd_engine_keycache_clear(struct skd_engine_keycache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	kc_clear_locked(c);
	pthread_mutex_unlock(&c->mu);
}

void
skd_engine_keycache_free(struct skd_engine_keycache *c)
{
	if (c == NULL)
		return;
	kc_clear_locked(c);
	pthread_mutex_destroy(&c->mu);
	free(c->tab);
	free(c);
}

void
skd_engine_keycache_stats(const struct skd_engine_keycache *c,
    size_t *out_hits, size_t *out_misses, size_t *out_n)
{
	struct skd_engine_keycache *m = (struct skd_engine_keycache *)c;

	*out_hits = *out_misses = *out_n = 0;
	if (c == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	*out_hits = c->hits;
	*out_misses = c->misses;
	*out_n = c->n;
	pthread_mutex_unlock(&m->mu);
}

int
eng_keycache_digest(unsigned char out[32], const unsigned char *der,
    size_t len)
{
	unsigned int n = 0;

	if (EVP_Digest(der, len, out, &n, EVP_sha256(), NULL) != 1 ||
	    n != KC_MD_LEN) {
		ERR_clear_error();
		return 0;
	}
	return 1;
}

static struct kc_entry *
kc_find(struct skd_engine_keycache *c, const unsigned char *md)
{
	struct kc_entry *x;

	for (x = c->tab[kc_bucket(c, md)]; x != NULL; x = x->hnext) {
		if (memcmp(x->md, md, KC_MD_LEN) == 0)
			return x;
	}
	return NULL;
}

X509 *
eng_keycache_get(struct skd_engine_keycache *c, const unsigned char md[32],
    const X509_STORE *trust, time_t now)
{
	struct kc_entry *x;
	X509 *r = NULL;

	pthread_mutex_lock(&c->mu);
	if (c->trust == trust && (x = kc_find(c, md)) != NULL) {
		if (now < x->from || now > x->until) {
			kc_drop(c, x);
		} else if (X509_up_ref(x->x)) {
			r = x->x;
			kc_unlink_lru(c, x);
			kc_push_front(c, x);
		}
	}
	if (r != NULL)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	return r;
}

void
eng_keycache_put(struct skd_engine_keycache *c, const unsigned char md[32],
    const X509_STORE *trust, X509 *cert, time_t from, time_t until,
    time_t now)
{
	struct kc_entry *x;

	if (until > now + c->ttl)
		until = now + c->ttl;
	if (from > until || (x = calloc(1, sizeof(*x))) == NULL)
		return;
	memcpy(x->md, md, KC_MD_LEN);
	x->from = from;
	x->until = until;
	if (!X509_up_ref(cert)) {
		free(x);
		return;
	}
	x->x = cert;
	pthread_mutex_lock(&c->mu);
	if (c->trust != trust) {
		/* Made under another store: none of the old ones hold. */
		kc_clear_locked(c);
		c->trust = trust;
	}
	if (kc_find(c, md) != NULL) {
		/* Another thread validated it meanwhile. */
		pthread_mutex_unlock(&c->mu);
		X509_free(x->x);
		free(x);
		return;
	}
	if (c->n >= c->max && ++c->turned_away % KC_ADMIT != 0) {
		/* Full: kept out, so that the entries in stay (above). */
		pthread_mutex_unlock(&c->mu);
		X509_free(x->x);
		free(x);
		return;
	}
	while (c->n >= c->max && c->tail != NULL)
		kc_drop(c, c->tail);
	x->hnext = c->tab[kc_bucket(c, md)];
	c->tab[kc_bucket(c, md)] = x;
	kc_push_front(c, x);
	c->n++;
	pthread_mutex_unlock(&c->mu);
}
