/*
 * certcache.c: certificates the GLA decodes again and again (its GLs'
 * own certificates, RFC 5275 3.2.6), decoded once (issue 14).
 *
 * Every request that names a GL reads the GL's certificate (skdCertificate
 * on the GL entry) to check its validity and to sign the answer with it;
 * OpenSSL 3.0 spends 160 to 200 us decoding one, most of it building a
 * decoder for the public key, a tenth of the worker's CPU for a
 * glAddMember (perf, issue 14 round 4).  The cache keeps the decoded X509
 * keyed by the SHA-256 of its DER: the same bytes always decode to the
 * same certificate, so nothing needs invalidating.  Unlike keycache.c it
 * says nothing about validity: callers check what they checked before.
 * Set-associative like kekcache.c (sets of four, least recently used
 * replaced); thread-safe (an X509 is reference-counted and shared read
 * only, as the key cache shares them).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "engine/engine_local.h"

#define CC_WAYS		4

struct cc_slot {
	unsigned char	 md[32];
	X509		*x;			/* NULL: empty */
	unsigned long	 used;
};

struct skd_engine_certcache {
	pthread_mutex_t	 mu;
	struct cc_slot	*slot;
	size_t		 n;
	unsigned long	 clock;
	size_t		 hits, misses;
};

struct skd_engine_certcache *
skd_engine_certcache_new(size_t slots)
{
	struct skd_engine_certcache *c;

	if (slots == 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	slots = (slots + CC_WAYS - 1) / CC_WAYS * CC_WAYS;
	if ((c->slot = calloc(slots, sizeof(*c->slot))) == NULL ||
	    pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c->slot);
		free(c);
		return NULL;
	}
	c->n = slots;
	return c;
}

void
skd_engine_certcache_free(struct skd_engine_certcache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		X509_free(c->slot[i].x);
	free(c->slot);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void
skd_engine_certcache_stats(const struct skd_engine_certcache *c,
    size_t *out_hits, size_t *out_misses)
{
	*out_hits = c != NULL ? c->hits : 0;
	*out_misses = c != NULL ? c->misses : 0;
}

/* md's slot (found) or the one to fill (an empty one, else the least
 * recently used of its set); called locked. */
static struct cc_slot *
cc_slot_for(struct skd_engine_certcache *c, const unsigned char md[32],
    int *out_found)
{
	size_t i = ((size_t)md[0] << 24 | (size_t)md[1] << 16 |
	    (size_t)md[2] << 8 | md[3]) % (c->n / CC_WAYS), w;
	struct cc_slot *set = &c->slot[i * CC_WAYS], *v;

	*out_found = 0;
	for (w = 0; w < CC_WAYS; w++) {
		if (set[w].x != NULL && memcmp(set[w].md, md, 32) == 0) {
			*out_found = 1;
			return &set[w];
		}
	}
	v = &set[0];
	for (w = 0; w < CC_WAYS; w++) {
		if (set[w].x == NULL)
			return &set[w];
		if (set[w].used < v->used)
			v = &set[w];
	}
	return v;
}

X509 *
eng_cert_decode(const struct skd_engine_config *cfg, const unsigned char *der,
    size_t len)
{
	struct skd_engine_certcache *c = cfg->certcache;
	struct cc_slot *s;
	const unsigned char *p = der;
	unsigned char md[32];
	unsigned int mdlen = 0;
	X509 *x = NULL;
	int found;

	if (c == NULL || EVP_Digest(der, len, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != sizeof(md)) {
		ERR_clear_error();
		return skd_d2i_x509(&p, (long)len);
	}
	pthread_mutex_lock(&c->mu);
	s = cc_slot_for(c, md, &found);
	if (found && X509_up_ref(s->x)) {
		x = s->x;
		s->used = ++c->clock;
		c->hits++;
	}
	pthread_mutex_unlock(&c->mu);
	if (x != NULL)
		return x;
	/* Only what decodes to exactly these bytes is kept. */
	if ((x = skd_d2i_x509(&p, (long)len)) == NULL || p != der + len)
		return x;
	pthread_mutex_lock(&c->mu);
	s = cc_slot_for(c, md, &found);
	if (!found && X509_up_ref(x)) {
		X509_free(s->x);
		memcpy(s->md, md, sizeof(md));
		s->x = x;
	}
	s->used = ++c->clock;
	c->misses++;
	pthread_mutex_unlock(&c->mu);
	return x;
}
