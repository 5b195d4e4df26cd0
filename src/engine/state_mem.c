/*
 * state_mem.c: an in-memory struct skd_engine_state with the store's
 * semantics (revisions, idempotent puts), for unit tests and tools.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "engine/apply_local.h"

struct mem_person {
	char		*gl;
	int		 role;
	char		*name;
	char		*address;
	unsigned char	*cert;
	size_t		 cert_len;
};

struct mem_key {
	struct skd_store_glkey	 k;	/* owned (malloc, as the store) */
};

struct mem_replay {
	char	*key;
	time_t	 expires;
};

struct mem_ack {
	char	*gl;
	char	*member;
	char	*key_id;
};

struct skd_engine_mem {
	struct mem_ack		*acks;
	size_t			 n_acks;
	struct skd_store_gl	**gls;
	size_t			 n_gls;
	struct mem_person	*people;
	size_t			 n_people;
	struct mem_key		*keys;
	size_t			 n_keys;
	struct mem_replay	*seen;
	size_t			 n_seen;
};

static void *
grow(void *v, size_t n, size_t size)
{
	return realloc(v, (n + 1) * size);
}

static char *
dupstr(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void *
dupmem(const void *p, size_t n)
{
	void *q;

	if (p == NULL || n == 0 || (q = malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, n);
	return q;
}

struct skd_engine_mem *
skd_engine_mem_new(void)
{
	return calloc(1, sizeof(struct skd_engine_mem));
}

static void
glkey_clear(struct skd_store_glkey *k)
{
	size_t i;

	free(k->key_id);
	free(k->gl_name);
	free(k->message);
	for (i = 0; i < k->n_recipients; i++)
		free(k->recipients[i]);
	free(k->recipients);
	for (i = 0; i < k->n_recipient_dns; i++)
		free(k->recipient_dns[i]);
	free(k->recipient_dns);
	OPENSSL_clear_free(k->archived_kek, k->archived_kek_len);
	memset(k, 0, sizeof(*k));
}

void
skd_engine_mem_free(struct skd_engine_mem *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n_gls; i++)
		skd_store_gl_free(m->gls[i]);
	free(m->gls);
	for (i = 0; i < m->n_people; i++) {
		free(m->people[i].gl);
		free(m->people[i].name);
		free(m->people[i].address);
		free(m->people[i].cert);
	}
	free(m->people);
	for (i = 0; i < m->n_keys; i++)
		glkey_clear(&m->keys[i].k);
	free(m->keys);
	for (i = 0; i < m->n_seen; i++)
		free(m->seen[i].key);
	free(m->seen);
	for (i = 0; i < m->n_acks; i++) {
		OPENSSL_free(m->acks[i].gl);
		OPENSSL_free(m->acks[i].member);
		OPENSSL_free(m->acks[i].key_id);
	}
	free(m->acks);
	free(m);
}

static struct skd_store_gl *
gl_dup(const struct skd_store_gl *g)
{
	struct skd_store_gl *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	*r = *g;
	r->name = dupstr(g->name);
	r->address = dupstr(g->address);
	r->key_alg = dupstr(g->key_alg);
	r->state = dupstr(g->state);
	r->cert = dupmem(g->cert, g->cert_len);
	r->mail_policy = dupstr(g->mail_policy);
	if (r->name == NULL || (g->address && !r->address) ||
	    (g->key_alg && !r->key_alg) || (g->state && !r->state) ||
	    (g->mail_policy && !r->mail_policy) ||
	    (g->cert_len && !r->cert)) {
		skd_store_gl_free(r);
		return NULL;
	}
	return r;
}

static long
find_gl(struct skd_engine_mem *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_gls; i++) {
		if (strcmp(m->gls[i]->name, name) == 0)
			return (long)i;
	}
	return -1;
}

static int
mem_read_gl(void *ctx, struct skd_store_gl **out, const char *name)
{
	long i = find_gl(ctx, name);

	*out = NULL;
	if (i < 0)
		return 0;
	return (*out = gl_dup(((struct skd_engine_mem *)ctx)->gls[i])) !=
	    NULL ? 1 : -1;
}

static int
mem_list_members(void *ctx, struct skd_store_member **out, size_t *n,
    const char *gl, enum skd_store_role role)
{
	struct skd_engine_mem *m = ctx;
	struct skd_store_member *v;
	size_t i;

	*out = NULL;
	*n = 0;
	if ((v = calloc(m->n_people + 1, sizeof(*v))) == NULL)
		return 0;
	for (i = 0; i < m->n_people; i++) {
		struct mem_person *p = &m->people[i];
		struct skd_store_member *r = &v[*n];

		if (p->role != (int)role || strcmp(p->gl, gl) != 0)
			continue;
		(*n)++;
		r->name = dupstr(p->name);
		r->address = dupstr(p->address);
		r->cert = dupmem(p->cert, p->cert_len);
		r->cert_len = p->cert_len;
		if (r->name == NULL) {
			skd_store_member_list_free(v, *n);
			*n = 0;
			return 0;
		}
	}
	*out = v;
	return 1;
}

static int
glkey_copy(struct skd_store_glkey *d, const struct skd_store_glkey *s)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	d->key_id = dupstr(s->key_id);
	d->gl_name = dupstr(s->gl_name);
	d->shard = s->shard;
	d->message = dupmem(s->message, s->message_len);
	d->message_len = s->message_len;
	d->not_before = s->not_before;
	d->not_after = s->not_after;
	if (s->archived_kek_len > 0 &&
	    (d->archived_kek = OPENSSL_memdup(s->archived_kek,
	    s->archived_kek_len)) != NULL)
		d->archived_kek_len = s->archived_kek_len;
	d->recipients = calloc(s->n_recipients + 1, sizeof(char *));
	d->recipient_dns = calloc(s->n_recipient_dns + 1, sizeof(char *));
	if (d->recipients == NULL || d->recipient_dns == NULL)
		return 0;
	for (i = 0; i < s->n_recipients; i++) {
		if ((d->recipients[i] = dupstr(s->recipients[i])) == NULL)
			return 0;
		d->n_recipients++;
	}
	for (i = 0; i < s->n_recipient_dns; i++) {
		if ((d->recipient_dns[i] = dupstr(s->recipient_dns[i])) == NULL)
			return 0;
		d->n_recipient_dns++;
	}
	return d->key_id != NULL && d->gl_name != NULL &&
	    (s->message_len == 0 || d->message != NULL);
}

static int
mem_list_keys(void *ctx, struct skd_store_glkey **out, size_t *n,
    const char *gl)
{
	struct skd_engine_mem *m = ctx;
	struct skd_store_glkey *v;
	size_t i;

	*out = NULL;
	*n = 0;
	if ((v = calloc(m->n_keys + 1, sizeof(*v))) == NULL)
		return 0;
	for (i = 0; i < m->n_keys; i++) {
		if (strcmp(m->keys[i].k.gl_name, gl) != 0)
			continue;
		if (!glkey_copy(&v[*n], &m->keys[i].k)) {
			skd_store_glkey_list_free(v, *n + 1);
			*n = 0;
			return 0;
		}
		(*n)++;
	}
	*out = v;
	return 1;
}

static int
mem_seen(void *ctx, const char *key, time_t expires)
{
	struct skd_engine_mem *m = ctx;
	struct mem_replay *nv;
	size_t i;

	for (i = 0; i < m->n_seen; i++) {
		if (strcmp(m->seen[i].key, key) == 0)
			return 0;
	}
	if ((nv = grow(m->seen, m->n_seen, sizeof(*nv))) == NULL)
		return -1;
	m->seen = nv;
	if ((nv[m->n_seen].key = strdup(key)) == NULL)
		return -1;
	nv[m->n_seen++].expires = expires;
	return 1;
}

int
skd_engine_mem_find_key_gl(void *ctx, char **out_gl, const char *key)
{
	struct skd_engine_mem *m = ctx;
	size_t i;

	*out_gl = NULL;
	for (i = 0; i < m->n_keys; i++) {
		if (strcmp(m->keys[i].k.key_id, key) == 0)
			return (*out_gl = strdup(m->keys[i].k.gl_name)) !=
			    NULL ? 1 : -1;
	}
	return 0;
}

static void
rec_clear(struct skd_store_member *r)
{
	free(r->name);
	free(r->address);
	free(r->cert);
	memset(r, 0, sizeof(*r));
}

static int
member_copy(struct skd_store_member *r, const struct mem_person *p)
{
	memset(r, 0, sizeof(*r));
	r->name = dupstr(p->name);
	r->address = dupstr(p->address);
	r->cert = dupmem(p->cert, p->cert_len);
	r->cert_len = p->cert_len;
	return r->name != NULL && (p->address == NULL || r->address != NULL) &&
	    (p->cert_len == 0 || r->cert != NULL);
}

/* Names match as the directory's caseIgnoreMatch on the RDN does. */
static int
mem_read_member(void *ctx, struct skd_store_member **out, const char *gl,
    enum skd_store_role role, const char *name)
{
	struct skd_engine_mem *m = ctx;
	size_t i;

	*out = NULL;
	for (i = 0; i < m->n_people; i++) {
		struct mem_person *p = &m->people[i];

		if (p->role != (int)role || strcmp(p->gl, gl) != 0 ||
		    strcasecmp(p->name, name) != 0)
			continue;
		if ((*out = calloc(1, sizeof(**out))) == NULL)
			return -1;
		if (!member_copy(*out, p)) {
			skd_store_member_free(*out);
			*out = NULL;
			return -1;
		}
		return 1;
	}
	return 0;
}

/* Pages of one record less than asked for when page is above one, so
 * that page boundaries are exercised by small tests too. */
static int
mem_walk_members(void *ctx, const char *gl, enum skd_store_role role,
    size_t page, skd_store_page_cb cb, void *arg)
{
	struct skd_engine_mem *m = ctx;
	struct skd_store_member *v;
	size_t i, n = 0, k;
	int ok = 0;

	if (page == 0)
		page = 200;
	if ((v = calloc(page, sizeof(*v))) == NULL)
		return 0;
	for (i = 0; i < m->n_people; i++) {
		struct mem_person *p = &m->people[i];

		if (p->role != (int)role || strcmp(p->gl, gl) != 0)
			continue;
		if (!member_copy(&v[n++], p))
			goto err;
		if (n == page) {
			if (!cb(arg, v, n))
				goto err;
			for (k = 0; k < n; k++)
				rec_clear(&v[k]);
			n = 0;
		}
	}
	if (n > 0 && !cb(arg, v, n))
		goto err;
	ok = 1;
 err:
	for (k = 0; k < n; k++)
		rec_clear(&v[k]);
	free(v);
	return ok;
}

/* The shard 0 of each key of gl still valid at now, without archive. */
static int
mem_current_keys(void *ctx, struct skd_store_glkey **out, size_t *n,
    const char *gl, time_t now)
{
	struct skd_engine_mem *m = ctx;
	struct skd_store_glkey *v;
	size_t i;

	*out = NULL;
	*n = 0;
	if ((v = calloc(m->n_keys + 1, sizeof(*v))) == NULL)
		return 0;
	for (i = 0; i < m->n_keys; i++) {
		const struct skd_store_glkey *k = &m->keys[i].k;

		if (strcmp(k->gl_name, gl) != 0 || k->shard != 0 ||
		    k->not_after < now)
			continue;
		v[*n].key_id = dupstr(k->key_id);
		v[*n].gl_name = dupstr(k->gl_name);
		v[*n].not_before = k->not_before;
		v[*n].not_after = k->not_after;
		(*n)++;
		if (v[*n - 1].key_id == NULL || v[*n - 1].gl_name == NULL) {
			skd_store_glkey_list_free(v, *n);
			*n = 0;
			return 0;
		}
	}
	*out = v;
	return 1;
}

static long
find_key(struct skd_engine_mem *m, const char *gl, const char *key_id,
    int shard)
{
	size_t i;

	for (i = 0; i < m->n_keys; i++) {
		const struct skd_store_glkey *k = &m->keys[i].k;

		if (strcmp(k->gl_name, gl) == 0 && k->shard == shard &&
		    strcasecmp(k->key_id, key_id) == 0)
			return (long)i;
	}
	return -1;
}

static int
mem_read_key_head(void *ctx, struct skd_store_glkey **out, const char *gl,
    const char *key_id, int shard)
{
	struct skd_engine_mem *m = ctx;
	long i = find_key(m, gl, key_id, shard);
	size_t j;

	*out = NULL;
	if (i < 0)
		return 0;
	if ((*out = calloc(1, sizeof(**out))) == NULL ||
	    !glkey_copy(*out, &m->keys[i].k)) {
		skd_store_glkey_free(*out);
		*out = NULL;
		return -1;
	}
	/* A head: no message, no recipients. */
	free((*out)->message);
	(*out)->message = NULL;
	(*out)->message_len = 0;
	for (j = 0; j < (*out)->n_recipients; j++)
		free((*out)->recipients[j]);
	(*out)->n_recipients = 0;
	for (j = 0; j < (*out)->n_recipient_dns; j++)
		free((*out)->recipient_dns[j]);
	(*out)->n_recipient_dns = 0;
	return 1;
}

static int
mem_shard_exists(void *ctx, const char *gl, const char *key_id, int shard)
{
	return find_key(ctx, gl, key_id, shard) >= 0;
}

static int
mem_keys_for(void *ctx, struct skd_store_glkey **out, size_t *n,
    const char *gl, const char *recipient)
{
	struct skd_engine_mem *m = ctx;
	struct skd_store_glkey *v;
	size_t i, j;

	*out = NULL;
	*n = 0;
	if ((v = calloc(m->n_keys + 1, sizeof(*v))) == NULL)
		return 0;
	for (i = 0; i < m->n_keys; i++) {
		const struct skd_store_glkey *k = &m->keys[i].k;
		int named = 0;

		if (strcmp(k->gl_name, gl) != 0)
			continue;
		for (j = 0; j < k->n_recipients; j++)
			named |= strcasecmp(k->recipients[j], recipient) == 0;
		if (!named)
			continue;
		if (!glkey_copy(&v[*n], k)) {
			skd_store_glkey_list_free(v, *n + 1);
			*n = 0;
			return 0;
		}
		(*n)++;
	}
	*out = v;
	return 1;
}

static int
mem_each_key_shard(void *ctx, const char *gl, const char *key_id,
    skd_store_glkey_cb cb, void *arg)
{
	struct skd_engine_mem *m = ctx;
	size_t i;

	for (i = 0; i < m->n_keys; i++) {
		const struct skd_store_glkey *k = &m->keys[i].k;

		if (strcmp(k->gl_name, gl) == 0 &&
		    strcasecmp(k->key_id, key_id) == 0 && !cb(arg, k))
			return 0;
	}
	return 1;
}

void
skd_engine_mem_state(struct skd_engine_state *out, struct skd_engine_mem *m)
{
	out->ctx = m;
	out->read_gl = mem_read_gl;
	out->read_member = mem_read_member;
	out->list_members = mem_list_members;
	out->walk_members = mem_walk_members;
	out->current_keys = mem_current_keys;
	out->read_key_head = mem_read_key_head;
	out->shard_exists = mem_shard_exists;
	out->keys_for = mem_keys_for;
	out->each_key_shard = mem_each_key_shard;
	out->list_keys = mem_list_keys;
	out->seen = mem_seen;
}

/* ---- applying ---- */

static long
find_person(struct skd_engine_mem *m, const char *gl, int role,
    const char *name)
{
	size_t i;

	for (i = 0; i < m->n_people; i++) {
		if (m->people[i].role == role &&
		    strcmp(m->people[i].gl, gl) == 0 &&
		    strcmp(m->people[i].name, name) == 0)
			return (long)i;
	}
	return -1;
}

static int
apply_gl(struct skd_engine_mem *m, const SKD_ENG_OP *op, int create)
{
	struct skd_store_gl want, *g, **nv;
	long i;
	int ok = 0;

	if (!eng_op_gl_record(&want, op))
		return 0;
	i = find_gl(m, want.name);
	if (create) {
		if (i >= 0) {
			ok = eng_same_gl(m->gls[i], &want);
			goto done;
		}
		want.revision = 1;
		if ((g = gl_dup(&want)) == NULL ||
		    (nv = grow(m->gls, m->n_gls, sizeof(*nv))) == NULL) {
			skd_store_gl_free(g);
			goto done;
		}
		m->gls = nv;
		m->gls[m->n_gls++] = g;
		ok = 1;
		goto done;
	}
	if (i < 0)
		goto done;
	if (m->gls[i]->revision != want.revision) {
		ok = eng_same_gl(m->gls[i], &want) &&
		    m->gls[i]->revision > want.revision;
		goto done;
	}
	want.revision++;
	want.state = m->gls[i]->state;
	/* As in the directory: an update leaves the mail policy alone. */
	want.mail_policy = m->gls[i]->mail_policy;
	if ((g = gl_dup(&want)) == NULL)
		goto done;
	skd_store_gl_free(m->gls[i]);
	m->gls[i] = g;
	ok = 1;
 done:
	want.state = NULL;
	want.mail_policy = NULL;
	eng_op_gl_record_clear(&want);
	return ok;
}

static int
apply_person(struct skd_engine_mem *m, const SKD_ENG_OP *op, int role,
    int add)
{
	struct skd_store_member r;
	struct mem_person *nv, *p;
	char *gl = eng_str(op->glName), *name = NULL;
	long i;
	int ok = 0;

	if (gl == NULL)
		return 0;
	if (!add) {
		if ((name = eng_str(op->name)) == NULL)
			goto done;
		if ((i = find_person(m, gl, role, name)) >= 0) {
			p = &m->people[i];
			free(p->gl);
			free(p->name);
			free(p->address);
			free(p->cert);
			memmove(p, p + 1, (m->n_people - (size_t)i - 1) *
			    sizeof(*p));
			m->n_people--;
		}
		ok = 1;
		goto done;
	}
	if (!eng_op_member_record(&r, op))
		goto done;
	if (find_person(m, gl, role, r.name) >= 0) {
		eng_op_member_record_clear(&r);
		ok = 1;
		goto done;
	}
	if ((nv = grow(m->people, m->n_people, sizeof(*nv))) != NULL) {
		m->people = nv;
		p = &nv[m->n_people];
		memset(p, 0, sizeof(*p));
		p->gl = strdup(gl);
		p->role = role;
		p->name = strdup(r.name);
		p->address = dupstr(r.address);
		p->cert = dupmem(r.cert, r.cert_len);
		p->cert_len = r.cert_len;
		m->n_people++;
		ok = p->gl != NULL && p->name != NULL;
	}
	eng_op_member_record_clear(&r);
 done:
	OPENSSL_free(gl);
	OPENSSL_free(name);
	return ok;
}

static int
apply_glkey(struct skd_engine_mem *m, const SKD_ENG_OP *op)
{
	struct skd_store_glkey k;
	struct mem_key *nv;
	size_t i;
	int ok = 0;

	if (!eng_op_glkey_record(&k, op))
		return 0;
	for (i = 0; i < m->n_keys; i++) {
		const struct skd_store_glkey *h = &m->keys[i].k;

		if (strcmp(h->gl_name, k.gl_name) == 0 &&
		    strcmp(h->key_id, k.key_id) == 0 && h->shard == k.shard) {
			/* Idempotent: same content is success. */
			ok = h->message_len == k.message_len &&
			    memcmp(h->message, k.message, k.message_len) == 0;
			goto done;
		}
	}
	if ((nv = grow(m->keys, m->n_keys, sizeof(*nv))) == NULL)
		goto done;
	m->keys = nv;
	if (!glkey_copy(&nv[m->n_keys].k, &k)) {
		glkey_clear(&nv[m->n_keys].k);
		goto done;
	}
	m->n_keys++;
	ok = 1;
 done:
	eng_op_glkey_record_clear(&k);
	return ok;
}

static int
apply_ack(struct skd_engine_mem *m, const SKD_ENG_OP *op)
{
	struct mem_ack a, *nv;
	size_t i;

	a.gl = eng_str(op->glName);
	a.member = eng_str(op->name);
	a.key_id = eng_str(op->keyId);
	if (a.gl == NULL || a.member == NULL || a.key_id == NULL)
		goto err;
	for (i = 0; i < m->n_acks; i++) {
		if (strcmp(m->acks[i].gl, a.gl) == 0 &&
		    strcmp(m->acks[i].member, a.member) == 0 &&
		    strcmp(m->acks[i].key_id, a.key_id) == 0)
			goto err_ok;
	}
	if ((nv = grow(m->acks, m->n_acks, sizeof(*nv))) == NULL)
		goto err;
	m->acks = nv;
	nv[m->n_acks++] = a;
	return 1;
 err_ok:
	OPENSSL_free(a.gl);
	OPENSSL_free(a.member);
	OPENSSL_free(a.key_id);
	return 1;
 err:
	OPENSSL_free(a.gl);
	OPENSSL_free(a.member);
	OPENSSL_free(a.key_id);
	return 0;
}

int
skd_engine_mem_apply(struct skd_engine_mem *m, const SKD_ENG_OUTCOME *o)
{
	int i;

	for (i = 0; i < sk_SKD_ENG_OP_num(o->ops); i++) {
		const SKD_ENG_OP *op = sk_SKD_ENG_OP_value(o->ops, i);
		char *gl;
		long g;
		int ok = 1;

		switch (skd_engine_op_type(op)) {
		case SKD_OP_GL_CREATE:
			ok = apply_gl(m, op, 1);
			break;
		case SKD_OP_GL_UPDATE:
			ok = apply_gl(m, op, 0);
			break;
		case SKD_OP_GL_DELETE:
			if ((gl = eng_str(op->glName)) == NULL)
				return 0;
			if ((g = find_gl(m, gl)) >= 0) {
				free(m->gls[g]->state);
				ok = (m->gls[g]->state = strdup("deleted")) !=
				    NULL;
			}
			OPENSSL_free(gl);
			break;
		case SKD_OP_MEMBER_ADD:
			ok = apply_person(m, op, SKD_STORE_MEMBER, 1);
			break;
		case SKD_OP_MEMBER_REMOVE:
			ok = apply_person(m, op, SKD_STORE_MEMBER, 0);
			break;
		case SKD_OP_OWNER_ADD:
			ok = apply_person(m, op, SKD_STORE_OWNER, 1);
			break;
		case SKD_OP_OWNER_REMOVE:
			ok = apply_person(m, op, SKD_STORE_OWNER, 0);
			break;
		case SKD_OP_GLKEY_PUT:
			ok = apply_glkey(m, op);
			break;
		case SKD_OP_ACK:
			ok = apply_ack(m, op);
			break;
		default:
			/* Responses and messages: nothing to keep. */
			break;
		}
		if (!ok)
			return 0;
	}
	return 1;
}

size_t
skd_engine_mem_count(struct skd_engine_mem *m, const char *gl,
    enum skd_store_role role)
{
	size_t i, n = 0;

	for (i = 0; i < m->n_people; i++) {
		if (m->people[i].role == (int)role &&
		    strcmp(m->people[i].gl, gl) == 0)
			n++;
	}
	return n;
}

size_t
skd_engine_mem_count_keys(struct skd_engine_mem *m, const char *gl)
{
	size_t i, j, n = 0;

	for (i = 0; i < m->n_keys; i++) {
		int dup = 0;

		if (strcmp(m->keys[i].k.gl_name, gl) != 0)
			continue;
		for (j = 0; j < i; j++) {
			if (strcmp(m->keys[j].k.gl_name, gl) == 0 &&
			    strcmp(m->keys[j].k.key_id, m->keys[i].k.key_id) ==
			    0)
				dup = 1;
		}
		n += !dup;
	}
	return n;
}

size_t
skd_engine_mem_count_acks(struct skd_engine_mem *m, const char *gl_name,
    const char *member)
{
	size_t i, n = 0;

	for (i = 0; i < m->n_acks; i++) {
		if (strcmp(m->acks[i].gl, gl_name) == 0 &&
		    strcmp(m->acks[i].member, member) == 0)
			n++;
	}
	return n;
}
