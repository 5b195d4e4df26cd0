/*
 * keycache.c: members' public keys validated once, kept between requests
 * in a compact form (issue 14, "decode once").
 *
 * OpenSSL 3.0 spends about 160 to 270 us decoding one certificate (most
 * of it building a decoder for the public key) and one public-key
 * operation of the issuer's kind validating its path; a rekey pays both
 * for every member, and the next rekey of the same GL pays them again.
 * The cache keeps, for each certificate that validated, what a
 * RecipientInfo needs of it (skd_ri_pub): the public key as its raw
 * numbers (RSA: n and e; EC: the curve and the point), the serialNumber,
 * and the issuer Name, one copy for every certificate of the same issuer.
 * 384 bytes for an RSA-2048 member and 192 for EC P-256, against 4 to
 * 4.5 KB for a decoded X509, so that the cache can hold a GL of
 * 100,000 within the rekey's 64 MB.  A hit makes the key again from its
 * numbers through the provider (EVP_PKEY_fromdata: 4 us for RSA-2048 and
 * 21 us for EC P-256 on the issue's machine, against 270 and 175 us for
 * the certificate's decode), no decoder involved.  Keys of other kinds
 * (and negative serials) are not kept.
 *
 * Up to max_warm entries (SKD_ENGINE_KEYCACHE_WARM) also keep their key
 * made ("warm"): the certificate's own key, kept when the entry is made
 * while fewer are warm (an entry made cold stays so until it goes and a
 * validation makes it again; warming it at a hit would take the lock a
 * second time on every cold hit of a large GL's rekey).  A warm key is
 * handed out with a reference of its own (OpenSSL keys are safe to use
 * from several threads at once), so a rekey of a GL that small neither
 * makes its keys again nor sets up their RSA Montgomery contexts again
 * (a RecipientInfo's public-key operation 17 against 25 us, RSA-2048 on
 * the issue's machine; an EC P-256 key 14 us to make), for about 1.8 KB a
 * key (RSA-2048; 2.1 KB EC P-256) that the numbers alone would not cost.
 * A warm RSA key also keeps an encryption context made ready for a ktri
 * (PKCS #1 v1.5), of which each hit hands out a copy (skd_recip.h's
 * ktri_ctx): a RecipientInfo then neither looks up OpenSSL's methods nor
 * sets its padding again (about 2 us of CPU a recipient).  The entry
 * frees its reference and its context when it goes (dropped, cleared).
 *
 * Entries are keyed by the SHA-256 of the certificate's DER, with the
 * window in which its validation holds: from the latest notBefore to the
 * earliest notAfter of the verified path, and no longer than the cache's
 * ttl after it was made (a CRL that changes without a reload is then
 * seen within ttl).  When the cache is full, a new certificate takes the
 * least recently used entry's place only one time in KC_ADMIT; the
 * others are not kept.  A GL larger than the cache streams through it in
 * the same order at every rekey, and plain least recently used eviction
 * would then keep none of what the next rekey asks for first (no hits at
 * all); this way the certificates already in stay, the next rekey finds
 * about max of them, and a new working set still replaces an old one
 * (and every entry leaves within ttl).  The owner clears the cache
 * whenever the trust anchors or CRLs change (the worker on reload), and
 * an entry made under another trust store is never returned.  The issuer
 * Names outlive a clear (a key made from an entry borrows its issuer
 * while another thread may clear): they are few, one per issuing CA, at
 * most KC_ISSUERS, and go with the cache.
 *
 * The outcome does not depend on the cache: a hit is a key of a
 * certificate that the same store validated at a time inside the window,
 * which is what a miss would find again.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "engine/engine_local.h"

#define KC_MD_LEN	32
/* When full, one new certificate in KC_ADMIT replaces the LRU entry. */
#define KC_ADMIT	32
/* Issuer Names kept (one per CA that issues members' certificates). */
#define KC_ISSUERS	256
/* Largest parts kept: RSA-8192's n, a public exponent below 2^32, a
 * 20-octet serial (RFC 5280 4.1.2.2: no conforming CA uses a longer one;
 * a certificate with one is decoded at each rekey instead). */
#define KC_MAX_A	1024
#define KC_MAX_B	4
#define KC_MAX_SERIAL	20

/* Entries live in blocks of KC_BLOCK bytes mapped for the cache, apart
 * from the heap: made one at a time on the rekey's threads amid their
 * certificates' decodes, they would otherwise pin the heap's pages (a
 * 30,000-member rekey's heap grew 2 MB more than its entries).  An entry's
 * slot has room for any serial and exponent, so that every key of one
 * size has one slot size, and a dropped entry's slot goes to the next key
 * of its size (KC_SIZES slot sizes at most; keys of another are not
 * kept). */
#define KC_BLOCK	(256 * 1024)
#define KC_SIZES	8

enum kc_kind { KC_RSA = 1, KC_EC = 2 };

/* A warm entry's key and, for RSA, a context on it made ready to encrypt
 * (see above); apart from the entry, whose slot would otherwise grow for
 * every key, warm or not. */
struct kc_warm {
	EVP_PKEY	*key;
	EVP_PKEY_CTX	*ctx;
};

struct kc_entry {
	unsigned char	 md[KC_MD_LEN];
	time_t		 from, until;
	struct kc_entry	*hnext;			/* hash chain */
	struct kc_entry	*prev, *next;		/* LRU: head most recent */
	const X509_NAME	*issuer;		/* interned, see above */
	struct kc_warm	*warm;			/* the key made, or NULL */
	int		 nid;			/* EC: the curve */
	unsigned char	 kind;
	unsigned short	 a_len, b_len, serial_len;
	/* RSA: n, e (native byte order, OSSL_PARAM's); EC: the point.
	 * Then the serial's content octets. */
	unsigned char	 data[];
};

struct skd_engine_keycache {
	pthread_mutex_t	  mu;
	struct kc_entry	**tab;
	size_t		  nbuckets, n, max;
	time_t		  ttl;
	const X509_STORE *trust;		/* the store entries are from */
	struct kc_entry	 *head, *tail;
	size_t		  hits, misses, turned_away;
	size_t		  n_warm, max_warm;	/* keys kept made */
	X509_NAME	 *issuers[KC_ISSUERS];
	size_t		  n_issuers;
	struct kc_block	 *blocks;		/* newest first */
	struct {
		size_t		 size;
		struct kc_entry	*head;		/* linked by hnext */
	}		  spare[KC_SIZES];
};

struct kc_block {
	struct kc_block	*next;
	size_t		 used;			/* bytes, header included */
};
#define KC_BLOCK_HDR	((sizeof(struct kc_block) + 15) & ~(size_t)15)

struct skd_engine_keycache *
skd_engine_keycache_new(size_t max_entries, time_t ttl)
{
	struct skd_engine_keycache *c;

	if (max_entries == 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->max = max_entries;
	c->max_warm = SKD_ENGINE_KEYCACHE_WARM;
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

/* The slot size of an entry whose key part is a_len bytes, room for any
 * exponent and serial included; KC_SLOT_MAX the largest. */
#define KC_SLOT(a_len)	((sizeof(struct kc_entry) + (a_len) + KC_MAX_B + \
			    KC_MAX_SERIAL + 15) & ~(size_t)15)
#define KC_SLOT_MAX	KC_SLOT(KC_MAX_A)

/* An entry's exponent (RSA) and serial, after its key part in data. */
static unsigned char *
kc_b(const struct kc_entry *x)
{
	return (unsigned char *)x->data + x->a_len;
}

static unsigned char *
kc_serial(const struct kc_entry *x)
{
	return kc_b(x) + x->b_len;
}

/* The spare list of slots of size, made when there is room; NULL when
 * KC_SIZES sizes are in use (locked). */
static struct kc_entry **
kc_spare(struct skd_engine_keycache *c, size_t size)
{
	size_t i;

	for (i = 0; i < KC_SIZES; i++) {
		if (c->spare[i].size == size)
			return &c->spare[i].head;
		if (c->spare[i].size == 0) {
			c->spare[i].size = size;
			return &c->spare[i].head;
		}
	}
	return NULL;
}

/* A slot for an entry whose key part is a_len bytes: a spare one of its
 * size, else one cut from the newest block or a new block, for the
 * caller to fill; NULL when none (locked). */
static struct kc_entry *
kc_alloc(struct skd_engine_keycache *c, size_t a_len)
{
	size_t size = KC_SLOT(a_len);
	struct kc_entry **sp, *x;
	struct kc_block *b;
	void *m;

	if (size > KC_BLOCK - KC_BLOCK_HDR || (sp = kc_spare(c, size)) == NULL)
		return NULL;
	if ((x = *sp) != NULL) {
		*sp = x->hnext;
	} else {
		if ((b = c->blocks) == NULL || KC_BLOCK - b->used < size) {
			m = mmap(NULL, KC_BLOCK, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m == MAP_FAILED)
				return NULL;
			b = m;
			b->next = c->blocks;
			b->used = KC_BLOCK_HDR;
			c->blocks = b;
		}
		x = (struct kc_entry *)((unsigned char *)b + b->used);
		b->used += size;
	}
	return x;
}

static void
kc_warm_free(struct kc_warm *w)
{
	if (w == NULL)
		return;
	EVP_PKEY_CTX_free(w->ctx);
	EVP_PKEY_free(w->key);
	free(w);
}

static void
kc_drop(struct skd_engine_keycache *c, struct kc_entry *x)
{
	struct kc_entry **pp = &c->tab[kc_bucket(c, x->md)];
	struct kc_entry **sp;

	while (*pp != x)
		pp = &(*pp)->hnext;
	*pp = x->hnext;
	kc_unlink_lru(c, x);
	c->n--;
	if (x->warm != NULL) {
		/* A key handed out holds a reference of its own, and a
		 * context of its own. */
		kc_warm_free(x->warm);
		x->warm = NULL;
		c->n_warm--;
	}
	/* Its size has a spare list: x came from kc_alloc. */
	sp = kc_spare(c, KC_SLOT(x->a_len));
	x->hnext = *sp;
	*sp = x;
}

static void
kc_clear_locked(struct skd_engine_keycache *c)
{
	struct kc_block *b;
	struct kc_entry *x;

	for (x = c->head; x != NULL; x = x->next)
		kc_warm_free(x->warm);
	c->n_warm = 0;
	while ((b = c->blocks) != NULL) {
		c->blocks = b->next;
		munmap(b, KC_BLOCK);
	}
	memset(c->tab, 0, c->nbuckets * sizeof(*c->tab));
	memset(c->spare, 0, sizeof(c->spare));
	c->head = c->tail = NULL;
	c->n = 0;
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
	size_t i;

	if (c == NULL)
		return;
	kc_clear_locked(c);
	for (i = 0; i < c->n_issuers; i++)
		X509_NAME_free(c->issuers[i]);
	pthread_mutex_destroy(&c->mu);
	free(c->tab);
	free(c);
}

void
skd_engine_keycache_set_warm(struct skd_engine_keycache *c, size_t max)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->max_warm = max;
	pthread_mutex_unlock(&c->mu);
}

size_t
skd_engine_keycache_warm(const struct skd_engine_keycache *c)
{
	struct skd_engine_keycache *m = (struct skd_engine_keycache *)c;
	size_t n;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&m->mu);
	n = c->n_warm;
	pthread_mutex_unlock(&m->mu);
	return n;
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

size_t
skd_engine_keycache_issuers(const struct skd_engine_keycache *c)
{
	struct skd_engine_keycache *m = (struct skd_engine_keycache *)c;
	size_t n;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&m->mu);
	n = c->n_issuers;
	pthread_mutex_unlock(&m->mu);
	return n;
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

void
eng_pubkey_free(struct eng_pubkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_CTX_free(k->pub.ktri_ctx);
	EVP_PKEY_free(k->pub.pkey);
	ASN1_INTEGER_free(k->serial);
	free(k);
}

/* The key of entry x (a copy, read without the lock): warm (a reference
 * the caller took for it, with warm_ctx, a copy of the entry's context
 * made ready to encrypt, or NULL) or made again from its numbers (see
 * above); NULL on error (warm and warm_ctx are freed). */
static struct eng_pubkey *
kc_make(const struct kc_entry *x, EVP_PKEY *warm, EVP_PKEY_CTX *warm_ctx)
{
	struct eng_pubkey *k;
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[3];
	const char *grp;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_CTX_free(warm_ctx);
		EVP_PKEY_free(warm);
		return NULL;
	}
	if (warm != NULL) {
		k->pub.pkey = warm;
		k->pub.ktri_ctx = warm_ctx;
	} else if (x->kind == KC_RSA) {
		params[0] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_N,
		    (unsigned char *)x->data, x->a_len);
		params[1] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_E,
		    kc_b(x), x->b_len);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		if ((grp = OBJ_nid2sn(x->nid)) == NULL)
			goto err;
		params[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_PKEY_PARAM_GROUP_NAME, (char *)grp, 0);
		params[1] = OSSL_PARAM_construct_octet_string(
		    OSSL_PKEY_PARAM_PUB_KEY, (unsigned char *)x->data,
		    x->a_len);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	}
	if (warm == NULL) {
		params[2] = OSSL_PARAM_construct_end();
		if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
		    EVP_PKEY_fromdata(ctx, &k->pub.pkey, EVP_PKEY_PUBLIC_KEY,
		    params) != 1)
			goto err;
	}
	if ((k->serial = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_STRING_set(k->serial, kc_serial(x), (int)x->serial_len))
		goto err;
	k->pub.serial = k->serial;
	k->pub.issuer = x->issuer;
	/* An EC point is kept only once checked (kc_fill). */
	k->pub.checked = x->kind == KC_EC;
	EVP_PKEY_CTX_free(ctx);
	return k;
 err:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	eng_pubkey_free(k);
	return NULL;
}

struct eng_pubkey *
eng_keycache_get(struct skd_engine_keycache *c, const unsigned char md[32],
    const X509_STORE *trust, time_t now)
{
	_Alignas(struct kc_entry) unsigned char buf[KC_SLOT_MAX];
	struct kc_entry *x, *t = (struct kc_entry *)buf;
	EVP_PKEY *warm = NULL;
	EVP_PKEY_CTX *warm_ctx = NULL;
	int found = 0;

	pthread_mutex_lock(&c->mu);
	if (c->trust == trust && (x = kc_find(c, md)) != NULL) {
		if (now < x->from || now > x->until) {
			kc_drop(c, x);
		} else {
			/* Copied out: the key is made without the lock. */
			memcpy(t, x, KC_SLOT(x->a_len));
			if (x->warm != NULL &&
			    EVP_PKEY_up_ref(x->warm->key) == 1) {
				warm = x->warm->key;
				/* A copy of its own (skd_ri_pub.ktri_ctx is
				 * used by one thread at a time): a few
				 * references taken, no lookup of OpenSSL's
				 * methods, under the lock since the entry's
				 * context goes with the entry. */
				if (x->warm->ctx != NULL && (warm_ctx =
				    EVP_PKEY_CTX_dup(x->warm->ctx)) == NULL)
					ERR_clear_error();
			}
			kc_unlink_lru(c, x);
			kc_push_front(c, x);
			found = 1;
		}
	}
	if (found)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	return found ? kc_make(t, warm, warm_ctx) : NULL;
}

/* The interned copy of name (locked), or NULL when there is no room.
 * Equal by their DER, not X509_NAME_cmp's canonical form: the
 * issuerAndSerialNumber built from it carries the certificate's own
 * encoding of its issuer, as a peer comparing octets expects. */
static const X509_NAME *
kc_issuer(struct skd_engine_keycache *c, const X509_NAME *name)
{
	const unsigned char *der, *d;
	size_t len, l, i;

	if (!X509_NAME_get0_der(name, &der, &len))
		return NULL;
	for (i = 0; i < c->n_issuers; i++) {
		if (X509_NAME_get0_der(c->issuers[i], &d, &l) && l == len &&
		    memcmp(d, der, len) == 0)
			return c->issuers[i];
	}
	if (c->n_issuers == KC_ISSUERS ||
	    (c->issuers[c->n_issuers] = X509_NAME_dup(name)) == NULL)
		return NULL;
	return c->issuers[c->n_issuers++];
}

/* Fills t (KC_SLOT_MAX bytes) with what is kept of cert's key (see
 * above), all but md, the window, the issuer and the links; zero for a
 * key not kept. */
static int
kc_fill(struct kc_entry *t, X509 *cert)
{
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t a_len = 0;
	char grp[64];
	int ok = 0;

	memset(t, 0, KC_SLOT_MAX);
	if (pk == NULL || serial == NULL ||
	    ASN1_STRING_type(serial) != V_ASN1_INTEGER ||
	    ASN1_STRING_length(serial) < 1 ||
	    ASN1_STRING_length(serial) > KC_MAX_SERIAL)
		goto err;
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
		if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) ||
		    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) ||
		    BN_num_bytes(n) > KC_MAX_A || BN_num_bytes(e) > KC_MAX_B)
			goto err;
		t->kind = KC_RSA;
		t->a_len = (unsigned short)BN_num_bytes(n);
		t->b_len = (unsigned short)BN_num_bytes(e);
		if (BN_bn2nativepad(n, t->data, t->a_len) < 0 ||
		    BN_bn2nativepad(e, kc_b(t), t->b_len) < 0)
			goto err;
	} else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
		if (!EVP_PKEY_get_utf8_string_param(pk,
		    OSSL_PKEY_PARAM_GROUP_NAME, grp, sizeof(grp), NULL) ||
		    (t->nid = OBJ_txt2nid(grp)) == NID_undef ||
		    !EVP_PKEY_get_octet_string_param(pk,
		    OSSL_PKEY_PARAM_PUB_KEY, t->data, KC_MAX_A, &a_len))
			goto err;
		/* SP 800-56A 5.6.2.3.4 partial validation, as kari makes it
		 * (cms_ri.c): once here, not at every rekey. */
		if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) ==
		    NULL || EVP_PKEY_public_check_quick(ctx) != 1)
			goto err;
		t->kind = KC_EC;
		t->a_len = (unsigned short)a_len;
	} else {
		goto err;
	}
	t->serial_len = (unsigned short)ASN1_STRING_length(serial);
	memcpy(kc_serial(t), ASN1_STRING_get0_data(serial), t->serial_len);
	ok = 1;
 err:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return ok;
}

/* For an RSA key, a context made ready for a ktri's rsaEncryption (PKCS
 * #1 v1.5 padding, RFC 3370 4.2.1: skd_recip.h's ktri_ctx), or NULL: a
 * RecipientInfo then makes its own. */
static EVP_PKEY_CTX *
kc_ktri_ctx(EVP_PKEY *pk, unsigned char kind)
{
	EVP_PKEY_CTX *ctx;

	if (kind != KC_RSA)
		return NULL;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
		ERR_clear_error();
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

void
eng_keycache_put(struct skd_engine_keycache *c, const unsigned char md[32],
    const X509_STORE *trust, X509 *cert, time_t from, time_t until,
    time_t now)
{
	_Alignas(struct kc_entry) unsigned char buf[KC_SLOT_MAX];
	struct kc_entry *x, *t = (struct kc_entry *)buf;
	const X509_NAME *issuer;

	if (until > now + c->ttl)
		until = now + c->ttl;
	if (from > until || !kc_fill(t, cert))
		return;
	memcpy(t->md, md, KC_MD_LEN);
	t->from = from;
	t->until = until;
	pthread_mutex_lock(&c->mu);
	if (c->trust != trust) {
		/* Made under another store: none of the old ones hold. */
		kc_clear_locked(c);
		c->trust = trust;
	}
	if (kc_find(c, md) != NULL ||
	    (issuer = kc_issuer(c, X509_get_issuer_name(cert))) == NULL ||
	    (c->n >= c->max && ++c->turned_away % KC_ADMIT != 0)) {
		/* Another thread validated it meanwhile, or no room for one
		 * more issuer, or full: kept out, so that the entries in
		 * stay (above). */
		pthread_mutex_unlock(&c->mu);
		return;
	}
	while (c->n >= c->max && c->tail != NULL)
		kc_drop(c, c->tail);
	if ((x = kc_alloc(c, t->a_len)) != NULL) {
		memcpy(x, t, KC_SLOT(t->a_len));
		x->issuer = issuer;
		/* The certificate's own key, kept warm (above) for every
		 * hit. */
		x->warm = NULL;
		if (c->n_warm < c->max_warm &&
		    (x->warm = calloc(1, sizeof(*x->warm))) != NULL) {
			if (EVP_PKEY_up_ref(X509_get0_pubkey(cert)) == 1) {
				x->warm->key = X509_get0_pubkey(cert);
				x->warm->ctx = kc_ktri_ctx(x->warm->key,
				    x->kind);
				c->n_warm++;
			} else {
				free(x->warm);
				x->warm = NULL;
			}
		}
		x->hnext = c->tab[kc_bucket(c, md)];
		c->tab[kc_bucket(c, md)] = x;
		kc_push_front(c, x);
		c->n++;
	}
	pthread_mutex_unlock(&c->mu);
}
