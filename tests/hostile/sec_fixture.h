/*
 * sec_fixture.h: the fixture shared by the authorization matrix
 * (tests/unit/test_authz.c) and the hostile-input corpus
 * (tests/unit/test_hostile.c): an engine over an in-memory state, a
 * prior GL, and a snapshot of everything the state holds so that a test
 * can assert that nothing changed.  Static inline, like
 * tests/unit/test_engine_common.h, whose builders it reuses.
 */
#ifndef SEC_FIXTURE_H
#define SEC_FIXTURE_H

#include "../unit/test_engine_common.h"

/* A second owner with no certificate, so that glRemoveOwner can succeed
 * without removing the last owner. */
#define SF_DEPUTY	"email:deputy@example.com"

static inline void
sf_done(struct te_fx *f)
{
	te_fx_free(f);
	ERR_clear_error();
}

static inline void
sf_add_owner_name(struct skd_cmc_body *b, const char *gl, const char *name)
{
	te_owner_gn(b, SKD_OID_GL_ADD_OWNER, gl, te_gn(name), te_gn(name));
}

/*
 * The prior state: TE_GL administered as admin, owners glo1 and deputy,
 * members alice (RSA) and dave (RSA), two keys.  The outcome that builds
 * it is computed once per administration mode (sf_prior_setup, from an
 * unchecked fixture so that forked tests inherit it) and applied to each
 * fresh state: the state is the same, the crypto is done once.
 */
static SKD_ENG_OUTCOME *sf_prior_cache[3];

static inline SKD_ENG_OUTCOME *
sf_prior_build(long admin)
{
	struct skd_cmc_body *b = te_body();
	SKD_ENG_OUTCOME *o;
	unsigned char *der;
	size_t len;
	struct te_fx f;

	te_fx_init(&f);
	te_use_kek(b, TE_GL, SKD_TP_GLO1, admin, NID_undef, -1, -1, 0);
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, SKD_TP_ALICE,
	    SKD_TP_ALICE);
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, SKD_TP_DAVE,
	    SKD_TP_DAVE);
	sf_add_owner_name(b, TE_GL, SF_DEPUTY);
	der = te_seal(b, SKD_TP_GLO1, TE_NOW - 100, 0, &len);
	o = te_fx_run(&f, der, len);
	sf_done(&f);
	return o;
}

/* For tcase_add_unchecked_fixture: builds the PKI and the prior states. */
static inline void
sf_prior_setup(void)
{
	long a;

	(void)skd_test_pki_get();
	for (a = 0; a < 3; a++) {
		if (sf_prior_cache[a] == NULL)
			sf_prior_cache[a] = sf_prior_build(a);
	}
}

static inline void
sf_prior_teardown(void)
{
	int a;

	for (a = 0; a < 3; a++) {
		SKD_ENG_OUTCOME_free(sf_prior_cache[a]);
		sf_prior_cache[a] = NULL;
	}
}

static inline void
sf_prior(struct te_fx *f, long admin)
{
	ck_assert(admin >= 0 && admin < 3);
	if (sf_prior_cache[admin] == NULL)
		sf_prior_cache[admin] = sf_prior_build(admin);
	ck_assert(skd_engine_mem_apply(f->mem, sf_prior_cache[admin]));
	ck_assert_int_eq((int)skd_engine_mem_count(f->mem, TE_GL,
	    SKD_STORE_MEMBER), 2);
	ck_assert_int_eq((int)skd_engine_mem_count(f->mem, TE_GL,
	    SKD_STORE_OWNER), 2);
	ck_assert_int_eq((int)skd_engine_mem_count_keys(f->mem, TE_GL), 2);
}

/* ---- snapshots ---- */

struct sf_gl_snap {
	int		 exists;
	int		 deleted;
	int		 admin;
	uint64_t	 revision;
	size_t		 members, owners, shards;
	unsigned long	 hash;	/* order-independent, of every record */
};

struct sf_snap {
	struct sf_gl_snap gl[2];	/* TE_GL, TE_GL2 */
};

static inline unsigned long
sf_fnv(const void *p, size_t n)
{
	const unsigned char *c = p;
	unsigned long h = 2166136261UL;
	size_t i;

	for (i = 0; c != NULL && i < n; i++) {
		h ^= c[i];
		h *= 16777619UL;
	}
	return h;
}

static inline unsigned long
sf_str(const char *s)
{
	return s == NULL ? 0 : sf_fnv(s, strlen(s));
}

static inline void
sf_snap_gl(struct te_fx *f, struct sf_gl_snap *out, const char *name)
{
	struct skd_store_gl *g = NULL;
	struct skd_store_member *m = NULL;
	struct skd_store_glkey *k = NULL;
	size_t n = 0, i, j;
	int role, rc;

	memset(out, 0, sizeof(*out));
	rc = f->st.read_gl(f->st.ctx, &g, name);
	ck_assert_int_ge(rc, 0);
	if (rc == 0)
		return;
	out->exists = 1;
	out->deleted = g->state != NULL && strcmp(g->state, "deleted") == 0;
	out->admin = g->administration;
	out->revision = g->revision;
	out->hash = sf_str(g->address) ^ sf_fnv(g->cert, g->cert_len) ^
	    (unsigned long)g->generation_counter ^
	    ((unsigned long)g->duration << 8) ^ sf_str(g->key_alg);
	skd_store_gl_free(g);
	for (role = 0; role < 2; role++) {
		ck_assert(f->st.list_members(f->st.ctx, &m, &n, name,
		    role ? SKD_STORE_OWNER : SKD_STORE_MEMBER));
		if (role)
			out->owners = n;
		else
			out->members = n;
		for (i = 0; i < n; i++) {
			unsigned long h = sf_str(m[i].name) * 31 +
			    sf_fnv(m[i].cert, m[i].cert_len) + (unsigned)role;

			for (j = 0; j < m[i].n_acks; j++)
				h += sf_str(m[i].acks[j]);
			out->hash += h * 2654435761UL;
		}
		skd_store_member_list_free(m, n);
		m = NULL;
	}
	ck_assert(f->st.list_keys(f->st.ctx, &k, &n, name));
	out->shards = n;
	for (i = 0; i < n; i++)
		out->hash += (sf_str(k[i].key_id) + (unsigned)k[i].shard +
		    sf_fnv(k[i].message, k[i].message_len)) * 40503UL;
	skd_store_glkey_list_free(k, n);
}

static inline void
sf_snap(struct te_fx *f, struct sf_snap *out)
{
	sf_snap_gl(f, &out->gl[0], TE_GL);
	sf_snap_gl(f, &out->gl[1], TE_GL2);
}

static inline int
sf_snap_eq(const struct sf_snap *a, const struct sf_snap *b)
{
	int i;

	for (i = 0; i < 2; i++) {
		const struct sf_gl_snap *x = &a->gl[i], *y = &b->gl[i];

		if (x->exists != y->exists || x->deleted != y->deleted ||
		    x->admin != y->admin || x->revision != y->revision ||
		    x->members != y->members || x->owners != y->owners ||
		    x->shards != y->shards || x->hash != y->hash)
			return 0;
	}
	return 1;
}

/* Operations of o that change the GL state (everything but publishing). */
static inline size_t
sf_state_ops(const SKD_ENG_OUTCOME *o)
{
	static const int t[] = { SKD_OP_GL_CREATE, SKD_OP_GL_UPDATE,
	    SKD_OP_GL_DELETE, SKD_OP_MEMBER_ADD, SKD_OP_MEMBER_REMOVE,
	    SKD_OP_OWNER_ADD, SKD_OP_OWNER_REMOVE, SKD_OP_GLKEY_PUT,
	    SKD_OP_ACK };
	size_t i, n = 0;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		n += skd_engine_outcome_count(o, t[i]);
	return n;
}

/* Forwarded messages (3.2.3) in o. */
static inline size_t
sf_forwards(const SKD_ENG_OUTCOME *o)
{
	size_t i, n = 0;
	const SKD_ENG_OP *op;

	for (i = 0; (op = skd_engine_outcome_find(o, SKD_OP_MESSAGE, i)) !=
	    NULL; i++) {
		if (ASN1_INTEGER_get(op->publish->kind) == SKD_MSG_FORWARD)
			n++;
	}
	return n;
}

#endif
