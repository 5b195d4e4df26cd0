/*
 * batch.c: many controls of one kind (members to add or remove) sent as
 * as many requests as the GLA's per-request limit needs
 * (SKD_CLIENT_MAX_CONTROLS; the GLA refuses a longer PKIData whole,
 * skd-gla(8), LIMITS), each request handed to the caller as soon as it is
 * full, so that a batch of any size is held one request at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "client/client_local.h"

struct skd_client_batch {
	size_t				 max;
	skd_client_batch_cb		 cb;
	void				*arg;
	struct skd_client_request	*r;	/* being filled */
	struct skd_client_batch_item	*items;
	size_t				 n;
	size_t				 sent;	/* requests handed over */
};

static void
items_clear(struct skd_client_batch *b)
{
	while (b->n > 0)
		free(b->items[--b->n].label);
}

void
skd_client_batch_free(struct skd_client_batch *b)
{
	if (b == NULL)
		return;
	items_clear(b);
	free(b->items);
	skd_client_request_free(b->r);
	free(b);
}

struct skd_client_batch *
skd_client_batch_new(size_t max, skd_client_batch_cb cb, void *arg,
    struct skd_client_error *err)
{
	struct skd_client_batch *b;

	if (max == 0 || max > SKD_CLIENT_MAX_CONTROLS)
		max = SKD_CLIENT_MAX_CONTROLS;
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->items = calloc(max, sizeof(*b->items))) == NULL) {
		free(b);
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
		return NULL;
	}
	b->max = max;
	b->cb = cb;
	b->arg = arg;
	return b;
}

/* Hands the request being filled to the caller's callback. */
static int
flush(struct skd_client_batch *b, struct skd_client_error *err)
{
	struct skd_client_request *r = b->r;
	int ok;

	if (r == NULL)
		return 1;
	b->r = NULL;
	b->sent++;
	ok = b->cb(b->arg, r, b->sent, b->items, b->n, err);
	skd_client_request_free(r);
	items_clear(b);
	return ok;
}

int
skd_client_batch_add(struct skd_client_batch *b, enum skd_oid oid,
    const void *val, const char *label, struct skd_client_error *err)
{
	long bpid;

	if (b->n == b->max && !flush(b, err))
		return 0;
	if (b->r == NULL && (b->r = skd_client_request_new(err)) == NULL)
		return 0;
	if ((bpid = skd_client_request_add(b->r, oid, val)) <= 0)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "cannot add a control");
	if ((b->items[b->n].label = strdup(label != NULL ? label : "")) ==
	    NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
	b->items[b->n].bpid = bpid;
	b->n++;
	return 1;
}

int
skd_client_batch_finish(struct skd_client_batch *b,
    struct skd_client_error *err)
{
	return flush(b, err);
}

size_t
skd_client_batch_requests(size_t n, size_t max)
{
	if (max == 0 || max > SKD_CLIENT_MAX_CONTROLS)
		max = SKD_CLIENT_MAX_CONTROLS;
	return (n + max - 1) / max;
}
