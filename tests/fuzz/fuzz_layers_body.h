/*
 * fuzz_layers_body.h: skd_layers_walk (RFC 5275 3.2.1, 3.2.2) over a DER
 * ContentInfo, with the fixed trust store, time and openers of fuzz_pki.h,
 * so that well-formed seeds signed and encrypted with that PKI reach the
 * inner layers.  An opener holds either a certificate and key or a KEK
 * (skd_cms.h), so a walk that meets an EnvelopedData it cannot open as the
 * GLA is repeated with the KEK opener.  Invariants on the walk's output: a success leaves every
 * layer without an error; layers are in order (parent before child, depth
 * one more than the parent's, at most SKD_LAYERS_MAX_DEPTH); a body layer
 * holds its decoded body.  Every decoded body is printed.
 */
#ifndef SKD_FUZZ_LAYERS_BODY_H
#define SKD_FUZZ_LAYERS_BODY_H

#include <stdlib.h>

#include "cms/skd_layers.h"
#include "fuzz/fuzz_common.h"
#include "fuzz/fuzz_pki.h"

struct skd_fuzz_layers_ctx {
	struct skd_fuzz_pki	 pki;
	X509_STORE		*trust;
	struct skd_cms_opener	 opener;	/* the GLA: ktri, kari */
	struct skd_cms_opener	 kek_opener;	/* the fixed KEK: kekri */
	struct skd_layers_opts	 opts;
	struct skd_layers_opts	 kek_opts;
};

/* skd_fuzz_layers_ctx_free frees ctx and all it holds; NULL is fine. */
static inline void
skd_fuzz_layers_ctx_free(struct skd_fuzz_layers_ctx *ctx)
{
	if (ctx == NULL) {
		return;
	}
	X509_STORE_free(ctx->trust);
	skd_fuzz_pki_free(&ctx->pki);
	free(ctx);
}

/* skd_fuzz_layers_ctx_new loads the fixed PKI: trust the CA, open as the
 * GLA (ktri, kari) or with the fixed KEK (kekri).  Caller frees with
 * skd_fuzz_layers_ctx_free; NULL on error. */
static inline struct skd_fuzz_layers_ctx *
skd_fuzz_layers_ctx_new(void)
{
	struct skd_fuzz_layers_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		return NULL;
	}
	if (!skd_fuzz_pki_load(&ctx->pki)) {
		goto err;
	}
	if ((ctx->trust = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(ctx->trust, ctx->pki.ca)) {
		goto err;
	}
	ctx->opener.cert = ctx->pki.gla;
	ctx->opener.key = ctx->pki.gla_key;
	ctx->kek_opener.kek = skd_fuzz_kek;
	ctx->kek_opener.kek_len = sizeof(skd_fuzz_kek);
	ctx->kek_opener.kek_id = skd_fuzz_kek_id;
	ctx->kek_opener.kek_id_len = sizeof(skd_fuzz_kek_id);
	ctx->opts.trust = ctx->trust;
	ctx->opts.now = SKD_FUZZ_NOW;
	ctx->opts.opener = &ctx->opener;
	ctx->kek_opts = ctx->opts;
	ctx->kek_opts.opener = &ctx->kek_opener;
	return ctx;

 err:
	skd_fuzz_layers_ctx_free(ctx);
	return NULL;
}

/*
 * skd_fuzz_layers_walk walks data with opts and checks the invariants; sets
 * *out_sealed when an EnvelopedData stayed closed.  Returns zero when an
 * invariant broke.
 */
static inline int
skd_fuzz_layers_walk(const struct skd_layers_opts *opts, const uint8_t *data,
    size_t size, int *out_sealed)
{
	struct skd_layers *l = NULL;
	const struct skd_layer *y;
	size_t i;
	int r, ok = 1;

	*out_sealed = 0;
	r = skd_layers_walk(&l, data, size, opts);
	if (l == NULL) {
		/* Only running out of memory may leave nothing. */
		ERR_clear_error();
		return r == 0;
	}
	for (i = 0; i < l->n; i++) {
		y = &l->v[i];
		if (r == 1 && y->error[0] != '\0') {
			ok = 0;
		}
		if (memchr(y->error, '\0', sizeof(y->error)) == NULL) {
			ok = 0;
		}
		if (y->depth < 0 || y->depth > SKD_LAYERS_MAX_DEPTH) {
			ok = 0;
		}
		if (i == 0 && (y->parent != -1 || y->depth != 0)) {
			ok = 0;
		}
		if (i > 0 && (y->parent < 0 || (size_t)y->parent >= i ||
		    y->depth != l->v[y->parent].depth + 1)) {
			ok = 0;
		}
		if (y->type == SKD_LAYER_PKI_DATA && y->error[0] == '\0' &&
		    y->pki_data == NULL) {
			ok = 0;
		}
		if (y->type == SKD_LAYER_PKI_RESPONSE && y->error[0] == '\0' &&
		    y->pki_response == NULL) {
			ok = 0;
		}
		if (y->type == SKD_LAYER_ENVELOPED && !y->opened) {
			*out_sealed = 1;
		}
		if (y->pki_data != NULL) {
			skd_fuzz_print_null(ASN1_ITEM_rptr(SKD_PKI_DATA),
			    y->pki_data);
		}
		if (y->pki_response != NULL) {
			skd_fuzz_print_null(ASN1_ITEM_rptr(SKD_PKI_RESPONSE),
			    y->pki_response);
		}
	}
	skd_layers_free(l);
	ERR_clear_error();
	return ok;
}

static inline int
skd_fuzz_layers(const struct skd_fuzz_layers_ctx *ctx, const uint8_t *data,
    size_t size)
{
	int sealed = 0, ok;

	ok = skd_fuzz_layers_walk(&ctx->opts, data, size, &sealed);
	if (ok && sealed) {
		ok = skd_fuzz_layers_walk(&ctx->kek_opts, data, size, &sealed);
	}
	return ok;
}

#endif
