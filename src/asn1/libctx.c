/*
 * libctx.c: a library context of its own for each thread that decodes in
 * bulk.
 *
 * OpenSSL 3.0 builds a decoder context for every public key it decodes
 * (a certificate's, in d2i_X509 and in every ContentInfo that carries
 * certificates), fetching and caching through the library context under
 * locks that every thread in that context takes.  Two threads decoding
 * certificates in the default context went no faster than one (3,900
 * against 4,000 to 6,300 a second on this project's 2-core machine); in
 * a context each, 7,100 to 8,500 (docs/perf/history.md, round 10).  The
 * rekey's checking threads, its stream and the worker's loops therefore
 * decode in a context of their own.
 *
 * A context is taken from a process-wide pool on entering and given back
 * on leaving, never freed: what was decoded in it (a member's X509 in a
 * GL's working copy, the worker's certificate cache) may outlive the
 * thread and keeps pointing at it.  A pooled context loads the providers
 * the default context has activated, by name, and the FIPS default
 * property when the default context has it; when it cannot, the thread
 * stays in the default context (slower, never different).
 */
#include <pthread.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "asn1/skd_asn1.h"

/* More contexts than this are not worth their memory (about 0.5 MB each
 * with the default provider); further threads share the default. */
#define LIBCTX_MAX	32
#define LIBCTX_PROVIDERS 8

static pthread_mutex_t libctx_mu = PTHREAD_MUTEX_INITIALIZER;
static OSSL_LIB_CTX *libctx_pool[LIBCTX_MAX];
static unsigned char libctx_busy[LIBCTX_MAX];
static size_t libctx_n;
static _Thread_local OSSL_LIB_CTX *libctx_mine;
static _Thread_local int libctx_slot = -1;

struct names {
	const char	*v[LIBCTX_PROVIDERS];
	size_t		 n;
	int		 overflow;
};

static int
name_cb(OSSL_PROVIDER *p, void *arg)
{
	struct names *nm = arg;

	if (nm->n == LIBCTX_PROVIDERS) {
		nm->overflow = 1;
		return 0;
	}
	nm->v[nm->n++] = OSSL_PROVIDER_get0_name(p);
	return 1;
}

/* A context with the default context's providers, or NULL. */
static OSSL_LIB_CTX *
libctx_make(void)
{
	struct names nm;
	OSSL_LIB_CTX *c;
	size_t i;

	memset(&nm, 0, sizeof(nm));
	/* Activates the fallback (default) provider when nothing else is,
	 * as the default context's first fetch would. */
	if (!OSSL_PROVIDER_do_all(NULL, name_cb, &nm) || nm.overflow ||
	    nm.n == 0)
		return NULL;
	if ((c = OSSL_LIB_CTX_new()) == NULL)
		return NULL;
	for (i = 0; i < nm.n; i++) {
		if (OSSL_PROVIDER_load(c, nm.v[i]) == NULL)
			goto err;
	}
	if (EVP_default_properties_is_fips_enabled(NULL) &&
	    !EVP_default_properties_enable_fips(c, 1))
		goto err;
	return c;
 err:
	OSSL_LIB_CTX_free(c);
	return NULL;
}

OSSL_LIB_CTX *
skd_thread_libctx(void)
{
	return libctx_mine;
}

void
skd_thread_libctx_enter(void)
{
	OSSL_LIB_CTX *c = NULL;
	size_t i;

	if (libctx_slot >= 0)
		return;
	ERR_set_mark();
	(void)pthread_mutex_lock(&libctx_mu);
	for (i = 0; i < libctx_n && libctx_busy[i]; i++)
		;
	if (i == libctx_n && libctx_n < LIBCTX_MAX &&
	    (c = libctx_make()) != NULL)
		libctx_pool[libctx_n++] = c;
	if (i < libctx_n) {
		libctx_busy[i] = 1;
		libctx_slot = (int)i;
		libctx_mine = libctx_pool[i];
	}
	(void)pthread_mutex_unlock(&libctx_mu);
	ERR_pop_to_mark();
}

void
skd_thread_libctx_leave(void)
{
	if (libctx_slot < 0)
		return;
	(void)pthread_mutex_lock(&libctx_mu);
	libctx_busy[libctx_slot] = 0;
	(void)pthread_mutex_unlock(&libctx_mu);
	libctx_slot = -1;
	libctx_mine = NULL;
}

X509 *
skd_d2i_x509(const unsigned char **pp, long len)
{
	OSSL_LIB_CTX *c = libctx_mine;
	X509 *x;

	if (c == NULL)
		return d2i_X509(NULL, pp, len);
	if ((x = X509_new_ex(c, NULL)) == NULL)
		return NULL;
	/* On failure d2i_X509 frees x and returns NULL. */
	return d2i_X509(&x, pp, len);
}
