/*
 * state_store.c: struct skd_engine_state over a directory session.
 */
#include "engine/skd_engine.h"

/* 1 done, 0 the entry is not there, -1 error. */
static int
found(struct skd_store *s, int ok)
{
	if (ok)
		return 1;
	return skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND ? 0 : -1;
}

static int
st_read_gl(void *ctx, struct skd_store_gl **out, const char *name)
{
	return found(ctx, skd_store_read_gl(ctx, out, name));
}

static int
st_read_member(void *ctx, struct skd_store_member **out, const char *gl_name,
    enum skd_store_role role, const char *name)
{
	return found(ctx, skd_store_read_member(ctx, out, gl_name, role,
	    name));
}

static int
st_list_members(void *ctx, struct skd_store_member **out, size_t *n,
    const char *gl_name, enum skd_store_role role)
{
	return skd_store_list_members(ctx, out, n, gl_name, role);
}

static int
st_walk_members(void *ctx, const char *gl_name, enum skd_store_role role,
    size_t page, skd_store_page_cb cb, void *arg)
{
	return skd_store_walk_members(ctx, gl_name, role, page, cb, arg);
}

static int
st_current_keys(void *ctx, struct skd_store_glkey **out, size_t *n,
    const char *gl_name, time_t now)
{
	return skd_store_find_current_glkeys(ctx, out, n, gl_name, now);
}

static int
st_read_key_head(void *ctx, struct skd_store_glkey **out,
    const char *gl_name, const char *key_id, int shard)
{
	return found(ctx, skd_store_read_glkey_head(ctx, out, gl_name, key_id,
	    shard));
}

static int
st_shard_exists(void *ctx, const char *gl_name, const char *key_id,
    int shard)
{
	return skd_store_glkey_exists(ctx, gl_name, key_id, shard);
}

static int
st_keys_for(void *ctx, struct skd_store_glkey **out, size_t *n,
    const char *gl_name, const char *recipient)
{
	return skd_store_find_glkeys(ctx, out, n, gl_name, recipient);
}

static int
st_each_key_shard(void *ctx, const char *gl_name, const char *key_id,
    skd_store_glkey_cb cb, void *arg)
{
	return skd_store_each_glkey_shard(ctx, gl_name, key_id, cb, arg);
}

static int
st_list_keys(void *ctx, struct skd_store_glkey **out, size_t *n,
    const char *gl_name)
{
	return skd_store_find_glkeys(ctx, out, n, gl_name, NULL);
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
	out->read_member = st_read_member;
	out->list_members = st_list_members;
	out->walk_members = st_walk_members;
	out->current_keys = st_current_keys;
	out->read_key_head = st_read_key_head;
	out->shard_exists = st_shard_exists;
	out->keys_for = st_keys_for;
	out->each_key_shard = st_each_key_shard;
	out->list_keys = st_list_keys;
	out->seen = st_seen;
}
