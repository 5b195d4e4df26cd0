/*
 * state_store.c: struct skd_engine_state over a directory session.
 */
#include "engine/skd_engine.h"

static int
st_read_gl(void *ctx, struct skd_store_gl **out, const char *name)
{
	struct skd_store *s = ctx;

	if (skd_store_read_gl(s, out, name))
		return 1;
	return skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND ? 0 : -1;
}

static int
st_list_members(void *ctx, struct skd_store_member **out, size_t *n,
    const char *gl_name, enum skd_store_role role)
{
	return skd_store_list_members(ctx, out, n, gl_name, role);
}

static int
st_list_keys(void *ctx, struct skd_store_glkey **out, size_t *n,
    const char *gl_name)
{
	return skd_store_find_glkeys(ctx, out, n, gl_name, NULL);
}

static int
st_list_key_heads(void *ctx, struct skd_store_glkey **out, size_t *n,
    const char *gl_name)
{
	return skd_store_find_glkey_heads(ctx, out, n, gl_name);
}

static int
st_seen(void *ctx, const char *key_hex, time_t expires)
{
	struct skd_store *s = ctx;

	/* The add fails when the key is there: two workers agree. */
	if (skd_store_add_replay(s, key_hex, expires))
		return 1;
	return skd_store_error(s) == SKD_STORE_ERR_EXISTS ? 0 : -1;
}

void
skd_engine_state_store(struct skd_engine_state *out, struct skd_store *s)
{
	out->ctx = s;
	out->read_gl = st_read_gl;
	out->list_members = st_list_members;
	out->list_keys = st_list_keys;
	out->list_key_heads = st_list_key_heads;
	out->seen = st_seen;
}
