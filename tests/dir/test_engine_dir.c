/*
 * test_engine_dir.c: the engine's core flows against the real directory
 * (a private slapd, tests/support/stack.h): requests stored with the
 * store, processed through skd_engine_state_store, journaled as DER,
 * applied with skd_engine_apply (twice: the second changes nothing) and
 * read back with the store.
 */
#include "unit/test_engine_rows.h"

#include "cms/skd_recip.h"
#include "dir/test_store_common.h"

struct dfx {
	struct skd_store		*s;
	struct skd_engine_config	 cfg;
	struct skd_engine_env		 env;
	struct skd_engine_state		 st;
	char				*gl;
};

static void
dfx_init(struct dfx *f)
{
	char *u = store_unique("URI:https://lists.example.com/");

	f->s = store_open_gla();
	te_config(&f->cfg);
	te_env(&f->env, TE_NOW);
	/* The replay cache is shared by every test run against this
	 * directory: use the real clock's randomness for nonces. */
	f->env.rand_bytes = NULL;
	f->env.new_id = NULL;
	skd_engine_state_store(&f->st, f->s);
	f->gl = u;
}

static void
dfx_done(struct dfx *f)
{
	X509_STORE_free(f->cfg.trust);
	skd_store_close(f->s);
	free(f->gl);
	skd_test_assert_no_ossl_errors();
}

/*
 * Stores der as a request, processes it, journals the outcome (DER round
 * trip through the request entry) and applies the journal twice.
 */
static SKD_ENG_OUTCOME *
drun(struct dfx *f, unsigned char *der, size_t len, char id[SKD_STORE_ID_LEN])
{
	struct skd_store_request *r = NULL;
	SKD_ENG_OUTCOME *o = NULL, *j;
	unsigned char *enc = NULL;
	size_t el = 0;

	ck_store_ok(f->s, skd_store_add_request(f->s, id, der, len, NULL));
	OPENSSL_free(der);
	ck_store_ok(f->s, skd_store_claim_request(f->s, id, "test",
	    time(NULL) + 600));
	ck_store_ok(f->s, skd_store_read_request(f->s, &r, id));
	ck_assert(skd_engine_process(&o, &f->cfg, &f->env, &f->st, id,
	    r->message, r->message_len));
	skd_store_request_free(r);
	ck_assert(skd_engine_outcome_encode(&enc, &el, o));
	ck_store_ok(f->s, skd_store_journal_request(f->s, id, "test", enc,
	    el));
	OPENSSL_free(enc);
	ck_store_ok(f->s, skd_store_read_request(f->s, &r, id));
	j = skd_engine_outcome_decode(r->journal, r->journal_len);
	skd_store_request_free(r);
	ck_assert_ptr_nonnull(j);
	ck_assert_msg(skd_engine_apply(f->s, j), "apply: %s",
	    skd_store_errmsg(f->s));
	/* exactly once: a replay of the journal converges */
	ck_assert_msg(skd_engine_apply(f->s, j), "re-apply: %s",
	    skd_store_errmsg(f->s));
	ck_store_ok(f->s, skd_store_finish_request(f->s, id, "test", NULL));
	SKD_ENG_OUTCOME_free(o);
	return j;
}

static size_t
count(struct dfx *f, enum skd_store_role role)
{
	struct skd_store_member *m = NULL;
	size_t n = 0;

	ck_store_ok(f->s, skd_store_list_members(f->s, &m, &n, f->gl, role));
	skd_store_member_list_free(m, n);
	return n;
}

static size_t
keys_for(struct dfx *f, enum skd_test_who who, int check_open)
{
	struct skd_store_glkey *k = NULL;
	char name[128];
	size_t n = 0, i;

	te_who_text(name, sizeof(name), who);
	ck_store_ok(f->s, skd_store_find_glkeys(f->s, &k, &n, f->gl, name));
	for (i = 0; check_open && i < n; i++) {
		struct skd_cms_verified *v = NULL;
		unsigned char *kek = NULL, *arch = NULL;
		size_t kl = 0, al = 0;

		/* the stored message verifies; the archive opens */
		ck_assert(skd_cms_verify(&v, k[i].message, k[i].message_len,
		    f->cfg.trust, TE_NOW));
		ck_assert_int_eq(v->path, SKD_CMS_PATH_OK);
		skd_cms_verified_free(v);
		ck_assert(skd_ri_open_cert(&arch, &al, k[i].archived_kek,
		    k[i].archived_kek_len, f->cfg.gla_cert, f->cfg.gla_key));
		skd_ri_free_key(arch, al);
		(void)kek;
		(void)kl;
	}
	skd_store_glkey_list_free(k, n);
	return n;
}

START_TEST(test_dir_lifecycle)
{
	struct dfx f;
	struct skd_cmc_body *b;
	struct skd_store_gl *gl = NULL;
	struct skd_store_blob *msgs = NULL;
	struct skd_store_message *ml = NULL;
	SKD_ENG_OUTCOME *o;
	unsigned char *der, *copy;
	char id[SKD_STORE_ID_LEN], glo1[128];
	size_t len, n = 0, i;
	long st;
	uint64_t rev;
	int found;

	dfx_init(&f);
	/* 4.1 + 4.3: a managed GL with two members */
	b = te_body();
	te_use_kek(b, f.gl, SKD_TP_GLO1, SKD_GL_MANAGED, NID_undef, -1, -1, 0);
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, f.gl, SKD_TP_ALICE,
	    SKD_TP_ALICE);
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, f.gl, SKD_TP_BOB, SKD_TP_BOB);
	der = te_seal(b, SKD_TP_GLO1, TE_NOW, 0, &len);
	copy = OPENSSL_memdup(der, len);
	o = drun(&f, der, len, id);
	ck_assert(skd_engine_outcome_result(o, 0, &st, NULL, NULL));
	ck_assert_int_eq(st, SKD_CMC_SUCCESS);
	SKD_ENG_OUTCOME_free(o);
	ck_store_ok(f.s, skd_store_read_gl(f.s, &gl, f.gl));
	ck_assert_int_eq(gl->administration, SKD_GL_MANAGED);
	ck_assert_ptr_nonnull(gl->cert);
	rev = gl->revision;
	skd_store_gl_free(gl);
	ck_assert_int_eq((int)count(&f, SKD_STORE_MEMBER), 2);
	ck_assert_int_eq((int)count(&f, SKD_STORE_OWNER), 1);
	ck_assert_int_eq((int)keys_for(&f, SKD_TP_ALICE, 1), 2);
	ck_assert_int_eq((int)keys_for(&f, SKD_TP_BOB, 1), 2);
	/* the response is in the directory and verifies */
	ck_store_ok(f.s, skd_store_read_response(f.s, &msgs, &n, id));
	ck_assert_int_eq((int)n, 1);
	{
		struct skd_cms_verified *v = NULL;
		GENERAL_NAME *gn = te_gn(f.gl);

		ck_assert(skd_cms_verify(&v, msgs[0].data, msgs[0].len,
		    f.cfg.trust, TE_NOW));
		ck_assert(skd_gname_match_cert(gn, v->signer));
		GENERAL_NAME_free(gn);
		skd_cms_verified_free(v);
	}
	skd_store_blobs_free(msgs, n);

	/* the same message again: the store's replay cache refuses it */
	o = drun(&f, copy, len, id);
	ck_assert(skd_engine_outcome_result(o, 0, &st, NULL, NULL));
	ck_assert_int_eq(st, SKD_CMC_FAILED);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT),
	    0);
	SKD_ENG_OUTCOME_free(o);

	/* 4.4 + section 8: removing alice from a managed GL rekeys it */
	b = te_body();
	te_del_member(b, f.gl, SKD_TP_ALICE);
	der = te_seal(b, SKD_TP_GLO1, TE_NOW + 1, 0, &len);
	SKD_ENG_OUTCOME_free(drun(&f, der, len, id));
	ck_assert_int_eq((int)count(&f, SKD_STORE_MEMBER), 1);
	ck_assert_int_eq((int)keys_for(&f, SKD_TP_ALICE, 0), 2);
	ck_assert_int_eq((int)keys_for(&f, SKD_TP_BOB, 1), 4);

	/* 4.5.1: a rekey that changes the administration updates the GL
	 * record with compare-and-swap on its revision */
	b = te_body();
	te_rekey(b, f.gl, 0, NID_id_aes256_wrap);
	der = te_seal(b, SKD_TP_GLO1, TE_NOW + 2, 0, &len);
	o = drun(&f, der, len, id);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GL_UPDATE),
	    1);
	SKD_ENG_OUTCOME_free(o);
	ck_store_ok(f.s, skd_store_read_gl(f.s, &gl, f.gl));
	ck_assert(gl->revision == rev + 1);
	ck_assert_str_eq(gl->key_alg, "2.16.840.1.101.3.4.1.45");
	skd_store_gl_free(gl);
	ck_assert_int_eq((int)keys_for(&f, SKD_TP_BOB, 1), 5);

	/* 4.3.2: carol asks to join the managed GL: forwarded to glo1 */
	b = te_body();
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, f.gl, SKD_TP_CAROL,
	    SKD_TP_CAROL);
	der = te_seal(b, SKD_TP_CAROL, TE_NOW + 3, 0, &len);
	o = drun(&f, der, len, id);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_MESSAGE), 1);
	te_who_text(glo1, sizeof(glo1), SKD_TP_GLO1);
	ck_store_ok(f.s, skd_store_find_messages(f.s, &ml, &n, glo1));
	found = 0;
	for (i = 0; i < n; i++) {
		if (strcmp(ml[i].id, (char *)skd_engine_outcome_find(o,
		    SKD_OP_MESSAGE, 0)->publish->id->data) == 0) {
			ck_assert_str_eq(ml[i].type, "forward");
			found = 1;
		}
	}
	ck_assert(found);
	skd_store_message_list_free(ml, n);
	SKD_ENG_OUTCOME_free(o);

	/* 4.2: delete; afterwards additions fail with invalidGLName */
	b = te_body();
	te_gname_ctl(b, SKD_OID_GL_DELETE, f.gl);
	der = te_seal(b, SKD_TP_GLO1, TE_NOW + 4, 0, &len);
	SKD_ENG_OUTCOME_free(drun(&f, der, len, id));
	ck_store_ok(f.s, skd_store_read_gl(f.s, &gl, f.gl));
	ck_assert_ptr_nonnull(gl->state);
	ck_assert_str_eq(gl->state, "deleted");
	skd_store_gl_free(gl);
	b = te_body();
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, f.gl, SKD_TP_DAVE,
	    SKD_TP_DAVE);
	der = te_seal(b, SKD_TP_GLO1, TE_NOW + 5, 0, &len);
	o = drun(&f, der, len, id);
	{
		long c, k;

		ck_assert(skd_engine_outcome_result(o, 0, &st, &c, &k));
		ck_assert_int_eq(st, SKD_CMC_FAILED);
		ck_assert_int_eq(k, SKD_FAIL_INVALID_GL_NAME);
	}
	SKD_ENG_OUTCOME_free(o);
	dfx_done(&f);
}
END_TEST

START_TEST(test_dir_gla_rekey)
{
	struct dfx f;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o;
	unsigned char *der;
	char id[SKD_STORE_ID_LEN];
	size_t len;

	dfx_init(&f);
	b = te_body();
	te_use_kek(b, f.gl, SKD_TP_GLO1, SKD_GL_UNMANAGED, NID_undef, -1, 1, 0);
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, f.gl, SKD_TP_DAVE,
	    SKD_TP_DAVE);
	der = te_seal(b, SKD_TP_GLO1, TE_NOW, 0, &len);
	SKD_ENG_OUTCOME_free(drun(&f, der, len, id));
	ck_assert_int_eq((int)keys_for(&f, SKD_TP_DAVE, 1), 1);
	/* 4.5.2 */
	ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, f.gl));
	ck_assert_msg(skd_engine_apply(f.s, o), "%s", skd_store_errmsg(f.s));
	ck_assert_msg(skd_engine_apply(f.s, o), "%s", skd_store_errmsg(f.s));
	SKD_ENG_OUTCOME_free(o);
	ck_assert_int_eq((int)keys_for(&f, SKD_TP_DAVE, 1), 2);
	dfx_done(&f);
}
END_TEST

/* ---- the section 4 table against the directory ---- */

struct tfx {
	struct skd_store		*s;
	struct skd_engine_config	 cfg;
	struct skd_engine_env		 env;
	struct skd_engine_state		 st;
};

/* Processes der (freed) through the store's state, journals the outcome
 * as DER, applies the decoded journal to the directory. */
static SKD_ENG_OUTCOME *
trun(void *fx, unsigned char *der, size_t len)
{
	struct tfx *f = fx;
	SKD_ENG_OUTCOME *o = NULL, *j;
	unsigned char *enc = NULL;
	size_t el = 0;
	char id[SKD_STORE_ID_LEN];

	/* Each request its own id: responses are published under it. */
	skd_store_new_id(id);
	ck_assert_msg(skd_engine_process(&o, &f->cfg, &f->env, &f->st, id,
	    der, len), "engine failed");
	OPENSSL_free(der);
	ck_assert(skd_engine_outcome_encode(&enc, &el, o));
	ck_assert_ptr_nonnull(j = skd_engine_outcome_decode(enc, el));
	ck_assert_msg(skd_engine_apply(f->s, j), "%s", skd_store_errmsg(f->s));
	SKD_ENG_OUTCOME_free(j);
	OPENSSL_free(enc);
	return o;
}

static long
tmembers(struct tfx *f)
{
	struct skd_store_member *list = NULL;
	size_t n = 0;

	if (!skd_store_list_members(f->s, &list, &n, TE_GL,
	    SKD_STORE_MEMBER)) {
		ck_assert_int_eq(skd_store_error(f->s), SKD_STORE_ERR_NOT_FOUND);
		return 0;
	}
	skd_store_member_list_free(list, n);
	return (long)n;
}

/*
 * Every row of the table (tests/unit/test_engine_rows.h) run against the
 * real directory: the prior state and the request go through
 * skd_engine_state_store and skd_engine_apply, and the members after are
 * read back from slapd.  The rows share the GL names, so each starts from
 * a directory without them and with an empty replay cache (the rows'
 * requests are alike byte for byte).
 */
START_TEST(test_table_dir)
{
	const struct row *r = &rows[_i];
	struct tfx f;
	SKD_ENG_OUTCOME *o;
	unsigned char *der;
	size_t len, n = 0;

	memset(&f, 0, sizeof(f));
	f.s = store_open_gla();
	(void)skd_store_purge_gl(f.s, TE_GL);
	(void)skd_store_purge_gl(f.s, TE_GL2);
	ck_store_ok(f.s, skd_store_purge_replay(f.s, &n, (time_t)4102444800));
	te_config(&f.cfg);
	te_env(&f.env, TE_NOW);
	/* Message ids and nonces from the real generators: the directory
	 * keeps what earlier rows published. */
	f.env.rand_bytes = NULL;
	f.env.new_id = NULL;
	skd_engine_state_store(&f.st, f.s);
	te_make_prior(&f, trun, r->prior);
	if (r->prior != P_NONE)
		ck_assert_int_eq(tmembers(&f), 2);
	if (r->kind == K_USE_KEK_NOISSUER)
		f.cfg.issuer_cert = NULL;
	der = te_seal(row_body(r), r->signer, TE_NOW, 0, &len);
	o = trun(&f, der, len);
	row_check(r, o, tmembers(&f));
	SKD_ENG_OUTCOME_free(o);
	X509_STORE_free(f.cfg.trust);
	skd_store_close(f.s);
	ERR_clear_error();
}
END_TEST

static void
table_fixture(void)
{
	(void)skd_test_stack_get();
	(void)skd_test_pki_get();
}

Suite *
skd_suite_engine_dir(void)
{
	Suite *s = suite_create("engine_dir");
	TCase *tc = tcase_create("flows");

	tcase_add_unchecked_fixture(tc, store_fixture, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dir_lifecycle);
	tcase_add_test(tc, test_dir_gla_rekey);
	suite_add_tcase(s, tc);

	tc = tcase_create("table");
	tcase_add_unchecked_fixture(tc, table_fixture, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_table_dir, 0,
	    (int)(sizeof(rows) / sizeof(rows[0])));
	suite_add_tcase(s, tc);
	return s;
}
