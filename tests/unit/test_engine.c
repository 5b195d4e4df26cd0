/*
 * test_engine.c: the GLA engine (src/engine) against an in-memory state,
 * with a fixed clock and deterministic random bytes: a table of requests
 * covering the branches of RFC 5275 section 4, then the flows that need
 * more than one look (glKey contents, forwarding and resubmission,
 * nonces, replay, encryption, outcome DER).
 */
#include "unit/test_engine_rows.h"

#include "cms/skd_layers.h"
#include "cms/skd_recip.h"

static void
setup(void)
{
	(void)skd_test_pki_get();
}

static void
fx_done(struct te_fx *f)
{
	te_fx_free(f);
	skd_test_assert_no_ossl_errors();
}

static SKD_ENG_OUTCOME *
run_v(void *f, unsigned char *der, size_t len)
{
	return te_fx_run(f, der, len);
}

/*
 * The prior states' outcomes, made once for the table (an unchecked
 * fixture, before check forks its tests) and applied to each row's fresh
 * state: a row tests its own request in that state, and applying the same
 * outcome makes the same state without signing it again (the flows below
 * test the prior requests themselves).  Under valgrind the signatures
 * were half of this suite.
 */
#define TE_PRIORS	(P_DELETED + 1)
static unsigned char *prior_der[TE_PRIORS][2];
static long prior_len[TE_PRIORS][2];
static int rec_prior, rec_n;

static SKD_ENG_OUTCOME *
record_v(void *f, unsigned char *der, size_t len)
{
	SKD_ENG_OUTCOME *o = te_fx_run(f, der, len);

	ck_assert_int_lt(rec_n, 2);
	prior_len[rec_prior][rec_n] = i2d_SKD_ENG_OUTCOME(o,
	    &prior_der[rec_prior][rec_n]);
	ck_assert_int_gt(prior_len[rec_prior][rec_n], 0);
	rec_n++;
	return o;
}

static void
priors_setup(void)
{
	struct te_fx f;

	setup();
	for (rec_prior = P_UNMANAGED; rec_prior < TE_PRIORS; rec_prior++) {
		te_fx_init(&f);
		rec_n = 0;
		te_make_prior(&f, record_v, rec_prior);
		fx_done(&f);
	}
}

static void
priors_teardown(void)
{
	int p, i;

	for (p = 0; p < TE_PRIORS; p++)
		for (i = 0; i < 2; i++) {
			OPENSSL_free(prior_der[p][i]);
			prior_der[p][i] = NULL;
		}
}

/* A GL with owner glo1 and members alice and dave (RSA). */
static void
make_prior(struct te_fx *f, int prior)
{
	int i;

	for (i = 0; i < 2 && prior_der[prior][i] != NULL; i++) {
		const unsigned char *p = prior_der[prior][i];
		SKD_ENG_OUTCOME *o = d2i_SKD_ENG_OUTCOME(NULL, &p,
		    prior_len[prior][i]);

		ck_assert_ptr_nonnull(o);
		ck_assert(skd_engine_mem_apply(f->mem, o));
		SKD_ENG_OUTCOME_free(o);
	}
	if (i == 0)
		te_make_prior(f, run_v, prior);
	if (prior != P_NONE)
		ck_assert_int_eq(skd_engine_mem_count(f->mem, TE_GL,
		    SKD_STORE_MEMBER), 2);
}

START_TEST(test_table)
{
	const struct row *r = &rows[_i];
	struct te_fx f;
	SKD_ENG_OUTCOME *o;
	unsigned char *der;
	size_t len;

	te_fx_init(&f);
	make_prior(&f, r->prior);
	if (r->kind == K_USE_KEK_NOISSUER)
		f.cfg.issuer_cert = NULL;
	der = te_seal(row_body(r), r->signer, TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	row_check(r, o, (long)skd_engine_mem_count(f.mem, TE_GL,
	    SKD_STORE_MEMBER));
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

/* ---- flows ---- */

DECLARE_ASN1_ITEM(TE_RI_SET)
ASN1_ITEM_TEMPLATE(TE_RI_SET) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_OF, 0, RecipientInfos, ASN1_ANY)
ASN1_ITEM_TEMPLATE_END(TE_RI_SET)

/*
 * Opens the EnvelopedData der as who and returns the SignedData inside as
 * a ContentInfo (*out_len), asserting the RFC 5652 form (6.1): content
 * type id-signedData and the bare SignedData as the content.
 */
static unsigned char *
te_open_signed(const unsigned char *der, size_t len,
    enum skd_test_who who, size_t *out_len)
{
	struct skd_cms_opener op;
	unsigned char *content = NULL, *ci = NULL;
	ASN1_OBJECT *t = NULL;
	size_t cl = 0;

	memset(&op, 0, sizeof(op));
	op.cert = skd_test_pki_id(who)->cert;
	op.key = skd_test_pki_id(who)->key;
	ck_assert(skd_cms_open(&content, &cl, &t, der, len, &op));
	ck_assert_int_eq(OBJ_obj2nid(t), NID_pkcs7_signed);
	/* bare: not a ContentInfo */
	ck_assert_ptr_null(skd_cms_d2i_content_info(content, cl));
	ERR_clear_error();
	ck_assert(skd_cms_nested_content_info(&ci, out_len, NULL, t, content,
	    cl, 0));
	ASN1_OBJECT_free(t);
	OPENSSL_clear_free(content, cl);
	return ci;
}

/* Verifies a GLA message with the test trust store; returns the body. */
static struct skd_cms_verified *
te_verify(const unsigned char *der, size_t len, const char *gl)
{
	struct skd_cms_verified *v = NULL;
	X509_STORE *st = skd_test_pki_store(1);

	ck_assert_msg(skd_cms_verify(&v, der, len, st, TE_NOW), "verify");
	X509_STORE_free(st);
	ck_assert_int_eq(v->path, SKD_CMS_PATH_OK);
	ck_assert_int_eq((long)v->signing_time, (long)TE_NOW);
	if (gl != NULL) {
		/* 3.2.6 / 4.1 3.b: the signer certificate names the GL. */
		GENERAL_NAME *gn = te_gn(gl);

		ck_assert(skd_gname_match_cert(gn, v->signer));
		GENERAL_NAME_free(gn);
	}
	return v;
}

/* The glKey of glKey message der (verified as signed by the GL's
 * certificate) and its glkWrapped as a DER SET OF RecipientInfo (*out_ri,
 * *out_ri_len; OPENSSL_free).  Caller frees the glKey. */
static SKD_GL_KEY *
glkey_decode(const unsigned char *der, size_t len, unsigned char **out_ri,
    size_t *out_ri_len)
{
	struct skd_cms_verified *v = te_verify(der, len, TE_GL);
	SKD_PKI_DATA *pd;
	const SKD_TAGGED_ATTRIBUTE *ta;
	SKD_GL_KEY *gk;
	int ri_len;

	pd = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_DATA), v->content,
	    v->content_len);
	ck_assert_ptr_nonnull(pd);
	ta = skd_cmc_find_control(pd->controlSequence, SKD_OID_GL_KEY, 0);
	ck_assert_ptr_nonnull(ta);
	gk = skd_tagged_attribute_decode1(ta, 0, ASN1_ITEM_rptr(SKD_GL_KEY));
	ck_assert_ptr_nonnull(gk);
	*out_ri = NULL;
	ri_len = ASN1_item_i2d((ASN1_VALUE *)gk->glkWrapped, out_ri,
	    ASN1_ITEM_rptr(TE_RI_SET));
	ck_assert_int_gt(ri_len, 0);
	*out_ri_len = (size_t)ri_len;
	SKD_PKI_DATA_free(pd);
	skd_cms_verified_free(v);
	return gk;
}

/* Opens the glKey in message der as who: returns the KEK (and the glKey). */
static unsigned char *
open_glkey(const unsigned char *der, size_t len, enum skd_test_who who,
    size_t *out_len, SKD_GL_KEY **out_gk)
{
	SKD_GL_KEY *gk;
	unsigned char *ri = NULL, *kek = NULL;
	size_t ri_len = 0;

	gk = glkey_decode(der, len, &ri, &ri_len);
	if (!skd_ri_open_cert(&kek, out_len, ri, ri_len,
	    skd_test_pki_id(who)->cert, skd_test_pki_id(who)->key))
		kek = NULL;
	ERR_clear_error();
	OPENSSL_free(ri);
	if (out_gk != NULL)
		*out_gk = gk;
	else
		SKD_GL_KEY_free(gk);
	return kek;
}

static int
names(const SKD_ENG_GLKEY *k, enum skd_test_who who)
{
	char buf[128];
	int i;

	te_who_text(buf, sizeof(buf), who);
	for (i = 0; i < sk_ASN1_UTF8STRING_num(k->recipients); i++) {
		ASN1_UTF8STRING *u = sk_ASN1_UTF8STRING_value(k->recipients, i);

		if ((size_t)u->length == strlen(buf) &&
		    memcmp(u->data, buf, strlen(buf)) == 0)
			return 1;
	}
	return 0;
}

START_TEST(test_glkey_opens)
{
	struct te_fx f;
	struct skd_cmc_body *b = te_body();
	SKD_ENG_OUTCOME *o;
	unsigned char *der, *kek, *arch;
	size_t len, i, kl, al;
	int who_ok[2] = { 0, 0 };

	te_fx_init(&f);
	te_use_kek(b, TE_GL, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1, 1, 0);
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(ALICE), W(ALICE));
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(BOB), W(BOB));
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	/* one GLA-only shard, then one per member (not mutually aware) */
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT),
	    3);
	for (i = 1; i < 3; i++) {
		const SKD_ENG_OP *op = skd_engine_outcome_find(o,
		    SKD_OP_GLKEY_PUT, i);
		const SKD_ENG_GLKEY *k = op->glKey;
		enum skd_test_who who = names(k, W(ALICE)) ? W(ALICE) : W(BOB);
		enum skd_test_who other = who == W(ALICE) ? W(BOB) : W(ALICE);
		SKD_GL_KEY *gk = NULL;

		ck_assert_int_eq(sk_ASN1_UTF8STRING_num(k->recipients), 1);
		kek = open_glkey(k->message->data, (size_t)k->message->length,
		    who, &kl, &gk);
		ck_assert_ptr_nonnull(kek);
		ck_assert_int_eq((int)kl, 16);
		ck_assert_int_eq(OBJ_obj2nid(gk->glkAlgorithm->algorithm),
		    NID_id_aes128_wrap);
		/* GeneralizedTime with seconds, no fractions (3.1.13) */
		ck_assert_int_eq(gk->glkNotBefore->length, 15);
		SKD_GL_KEY_free(gk);
		/* the archive holds the same KEK, for the GLA alone */
		ck_assert(skd_ri_open_cert(&arch, &al, k->archivedKEK->data,
		    (size_t)k->archivedKEK->length,
		    skd_test_pki_id(W(GLA))->cert,
		    skd_test_pki_id(W(GLA))->key));
		ck_assert(al == kl && memcmp(arch, kek, kl) == 0);
		skd_ri_free_key(arch, al);
		skd_ri_free_key(kek, kl);
		/* the other member cannot open this one */
		kek = open_glkey(k->message->data, (size_t)k->message->length,
		    other, &kl, NULL);
		ck_assert_ptr_null(kek);
		who_ok[who == W(ALICE) ? 0 : 1] = 1;
	}
	ck_assert(who_ok[0] && who_ok[1]);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_removed_member_not_recipient)
{
	struct te_fx f;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o;
	unsigned char *der, *kek;
	size_t len, kl, i;

	te_fx_init(&f);
	make_prior(&f, P_MANAGED);
	b = te_body();
	te_del_member(b, TE_GL, W(ALICE));
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, OK, -1, -1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT),
	    2);
	for (i = 0; i < 2; i++) {
		const SKD_ENG_GLKEY *k = skd_engine_outcome_find(o,
		    SKD_OP_GLKEY_PUT, i)->glKey;

		ck_assert(!names(k, W(ALICE)));
		ck_assert(names(k, W(DAVE)));
		ck_assert_ptr_null(open_glkey(k->message->data,
		    (size_t)k->message->length, W(ALICE), &kl, NULL));
		kek = open_glkey(k->message->data, (size_t)k->message->length,
		    W(DAVE), &kl, NULL);
		ck_assert_ptr_nonnull(kek);
		skd_ri_free_key(kek, kl);
	}
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_outcome_der)
{
	struct te_fx f;
	struct skd_cmc_body *b = te_body();
	SKD_ENG_OUTCOME *o, *o2;
	unsigned char *der, *enc = NULL, *enc2 = NULL;
	size_t len, el = 0, el2 = 0;

	te_fx_init(&f);
	te_use_kek(b, TE_GL, W(GLO1), SKD_GL_MANAGED, NID_undef, -1, -1, 0);
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(BOB), W(BOB));
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	ck_assert(skd_engine_outcome_encode(&enc, &el, o));
	o2 = skd_engine_outcome_decode(enc, el);
	ck_assert_ptr_nonnull(o2);
	ck_assert_int_eq((int)skd_engine_outcome_count(o2, 0),
	    (int)skd_engine_outcome_count(o, 0));
	ck_assert(skd_engine_outcome_encode(&enc2, &el2, o2));
	ck_assert(el == el2 && memcmp(enc, enc2, el) == 0);
	/* applying the decoded journal again changes nothing */
	ck_assert(skd_engine_mem_apply(f.mem, o2));
	ck_assert_int_eq((int)skd_engine_mem_count(f.mem, TE_GL,
	    SKD_STORE_MEMBER), 1);
	ck_assert_int_eq((int)skd_engine_mem_count_keys(f.mem, TE_GL), 2);
	/* strict: trailing bytes and truncation refused */
	enc = OPENSSL_realloc(enc, el + 1);
	enc[el] = 0;
	ck_assert_ptr_null(skd_engine_outcome_decode(enc, el + 1));
	ck_assert_ptr_null(skd_engine_outcome_decode(enc, el - 1));
	ERR_clear_error();
	OPENSSL_free(enc);
	OPENSSL_free(enc2);
	SKD_ENG_OUTCOME_free(o);
	SKD_ENG_OUTCOME_free(o2);
	fx_done(&f);
}
END_TEST

/* Decodes the response of o (not encrypted) as a PKIResponse. */
static SKD_PKI_RESPONSE *
response_body(const SKD_ENG_OUTCOME *o, const char *gl)
{
	const ASN1_OCTET_STRING *r = te_response(o);
	struct skd_cms_verified *v;
	SKD_PKI_RESPONSE *pr;

	ck_assert_ptr_nonnull(r);
	v = te_verify(r->data, (size_t)r->length, gl);
	pr = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_RESPONSE), v->content,
	    v->content_len);
	ck_assert_ptr_nonnull(pr);
	skd_cms_verified_free(v);
	return pr;
}

START_TEST(test_response_echo)
{
	struct te_fx f;
	struct skd_cmc_body *b = te_body();
	SKD_ENG_OUTCOME *o;
	SKD_PKI_RESPONSE *pr;
	const SKD_TAGGED_ATTRIBUTE *ta;
	ASN1_INTEGER *tid;
	unsigned char *n = NULL, *der;
	size_t nl = 0, len;

	te_fx_init(&f);
	te_use_kek(b, TE_GL, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1, -1, 0);
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	pr = response_body(o, TE_GL);
	/* 3.2.4.3: senderNonce echoed as recipientNonce, a new senderNonce */
	ck_assert_int_eq(skd_cmc_get_nonce(pr->controlSequence,
	    SKD_OID_CMC_RECIPIENT_NONCE, &n, &nl), 1);
	ck_assert(nl == sizeof(te_nonce) && memcmp(n, te_nonce, nl) == 0);
	OPENSSL_free(n);
	ck_assert_int_eq(skd_cmc_get_nonce(pr->controlSequence,
	    SKD_OID_CMC_SENDER_NONCE, &n, &nl), 1);
	ck_assert(nl != sizeof(te_nonce) || memcmp(n, te_nonce, nl) != 0);
	OPENSSL_free(n);
	/* 3.2.4.2: transactionId echoed */
	ta = skd_cmc_find_control(pr->controlSequence,
	    SKD_OID_CMC_TRANSACTION_ID, 0);
	ck_assert_ptr_nonnull(ta);
	tid = skd_tagged_attribute_decode1(ta, 0, ASN1_ITEM_rptr(ASN1_INTEGER));
	ck_assert_int_eq(ASN1_INTEGER_get(tid), 42);
	ASN1_INTEGER_free(tid);
	/* one cMCStatusInfoExt, success */
	ck_assert_ptr_nonnull(skd_cmc_find_control(pr->controlSequence,
	    SKD_OID_CMC_STATUS_INFO_V2, 0));
	ck_assert_ptr_null(skd_cmc_find_control(pr->controlSequence,
	    SKD_OID_CMC_STATUS_INFO_V2, 1));
	SKD_PKI_RESPONSE_free(pr);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_encrypted_answer)
{
	struct te_fx f;
	struct skd_cmc_body *b = te_body();
	SKD_ENG_OUTCOME *o;
	const ASN1_OCTET_STRING *r;
	unsigned char *der, *content = NULL;
	size_t len, cl = 0;

	te_fx_init(&f);
	te_use_kek(b, TE_GL, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1, -1, 0);
	der = te_seal(b, W(GLO1), TE_NOW, 1, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, OK, -1, -1);
	r = te_response(o);
	ck_assert_ptr_nonnull(r);
	/* 4.1 2.d.2.e.1: EnvelopedData for the requester */
	content = te_open_signed(r->data, (size_t)r->length, W(GLO1), &cl);
	skd_cms_verified_free(te_verify(content, cl, TE_GL));
	OPENSSL_free(content);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

/* 3.2.1.2, 4.1 2.d.2.e.2: with outer_sign the encrypted answer is
 * SignedData(EnvelopedData(SignedData(PKIResponse))), signed by the GLA. */
START_TEST(test_encrypted_answer_outer_signed)
{
	struct te_fx f;
	struct skd_cmc_body *b = te_body();
	SKD_ENG_OUTCOME *o;
	const ASN1_OCTET_STRING *r;
	struct skd_cms_verified *outer = NULL;
	unsigned char *der, *content = NULL, *env = NULL;
	size_t len, cl = 0, env_len = 0;

	te_fx_init(&f);
	f.cfg.outer_sign = 1;
	te_use_kek(b, TE_GL, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1, -1, 0);
	der = te_seal(b, W(GLO1), TE_NOW, 1, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, OK, -1, -1);
	r = te_response(o);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(skd_cms_verify(&outer, r->data, (size_t)r->length,
	    f.cfg.trust, TE_NOW), 1);
	ck_assert_int_eq(OBJ_obj2nid(outer->econtent_type),
	    NID_pkcs7_enveloped);
	ck_assert_ptr_nonnull(outer->hint_type);
	ck_assert_int_eq(OBJ_obj2nid(outer->hint_type), NID_pkcs7_signed);
	/* RFC 5652 5.2: eContent is the bare EnvelopedData */
	ck_assert_ptr_null(skd_cms_d2i_content_info(outer->content,
	    outer->content_len));
	ERR_clear_error();
	ck_assert(skd_cms_nested_content_info(&env, &env_len, NULL,
	    outer->econtent_type, outer->content, outer->content_len, 0));
	content = te_open_signed(env, env_len, W(GLO1), &cl);
	skd_cms_verified_free(te_verify(content, cl, TE_GL));
	OPENSSL_free(content);
	OPENSSL_free(env);
	skd_cms_verified_free(outer);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_forward_and_resubmit)
{
	struct te_fx f;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o, *o2;
	const SKD_ENG_OP *fw;
	const ASN1_OCTET_STRING *m;
	char glo1[128];
	unsigned char *der;
	size_t len;

	te_fx_init(&f);
	make_prior(&f, P_MANAGED);
	b = te_body();
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(BOB), W(BOB));
	der = te_seal(b, W(BOB), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	fw = skd_engine_outcome_find(o, SKD_OP_MESSAGE, 0);
	ck_assert_ptr_nonnull(fw);
	ck_assert_int_eq(ASN1_INTEGER_get(fw->publish->kind), SKD_MSG_FORWARD);
	te_who_text(glo1, sizeof(glo1), W(GLO1));
	ck_assert_int_eq(sk_ASN1_UTF8STRING_num(fw->publish->recipients), 1);
	ck_assert_str_eq((char *)sk_ASN1_UTF8STRING_value(
	    fw->publish->recipients, 0)->data, glo1);
	m = sk_ASN1_OCTET_STRING_value(fw->publish->messages, 0);
	skd_cms_verified_free(te_verify(m->data, (size_t)m->length, TE_GL));
	ck_assert_int_eq((int)skd_engine_mem_count(f.mem, TE_GL,
	    SKD_STORE_MEMBER), 2);
	/* The forwarded message sent back as it is: refused. */
	o2 = te_fx_run(&f, OPENSSL_memdup(m->data, (size_t)m->length),
	    (size_t)m->length);
	expect(o2, 0, FAILED, SKD_CMC_BAD_REQUEST, -1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o2, SKD_OP_MESSAGE),
	    0);
	SKD_ENG_OUTCOME_free(o2);
	/* 3.2.5: the GLO approves by wrapping the forwarded request. */
	b = te_body();
	ck_assert_int_gt(skd_cmc_body_add_cms(b, m->data, (size_t)m->length),
	    0);
	der = te_seal(b, W(GLO1), TE_NOW + 10, 0, &len);
	o2 = te_fx_run(&f, der, len);
	expect(o2, 0, OK, -1, -1);
	ck_assert_int_eq((int)skd_engine_mem_count(f.mem, TE_GL,
	    SKD_STORE_MEMBER), 3);
	ck_assert_int_eq((int)skd_engine_outcome_count(o2, SKD_OP_GLKEY_PUT),
	    2);
	ck_assert_int_eq((int)skd_engine_outcome_count(o2, SKD_OP_RESPONSE),
	    1);
	SKD_ENG_OUTCOME_free(o);
	SKD_ENG_OUTCOME_free(o2);
	fx_done(&f);
}
END_TEST

START_TEST(test_bad_time)
{
	struct te_fx f;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o;
	unsigned char *der;
	size_t len;
	int k;

	te_fx_init(&f);
	for (k = 0; k < 2; k++) {
		b = te_body();
		te_use_kek(b, TE_GL, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1,
		    -1, 0);
		/* 4.1 2.a; section 8: future-dated messages too */
		der = te_seal(b, W(GLO1), k ? TE_NOW + 3600 : TE_NOW - 3600, 0,
		    &len);
		o = te_fx_run(&f, der, len);
		expect(o, 0, FAILED, SKD_CMC_BAD_TIME, -1);
		ck_assert_int_eq((int)skd_engine_outcome_count(o,
		    SKD_OP_RESPONSE), 1);
		ck_assert_int_eq((int)skd_engine_outcome_count(o,
		    SKD_OP_GL_CREATE), 0);
		SKD_ENG_OUTCOME_free(o);
	}
	fx_done(&f);
}
END_TEST

START_TEST(test_bad_signer)
{
	static const enum skd_test_who who[] = { W(REVOKED), W(EXPIRED),
	    W(STRANGER) };
	struct te_fx f;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o;
	unsigned char *der;
	size_t len, k;

	te_fx_init(&f);
	for (k = 0; k < 3; k++) {
		b = te_body();
		te_use_kek(b, TE_GL, who[k], SKD_GL_UNMANAGED, NID_undef, -1,
		    -1, 0);
		der = te_seal(b, who[k], TE_NOW, 0, &len);
		o = te_fx_run(&f, der, len);
		/* 4.1 2.b: the path is part of the signature check */
		expect(o, 0, FAILED, SKD_CMC_BAD_MESSAGE_CHECK, -1);
		ck_assert_int_eq((int)skd_engine_outcome_count(o,
		    SKD_OP_GL_CREATE), 0);
		SKD_ENG_OUTCOME_free(o);
	}
	fx_done(&f);
}
END_TEST

START_TEST(test_replay)
{
	struct te_fx f;
	struct skd_cmc_body *b = te_body();
	SKD_ENG_OUTCOME *o;
	unsigned char *der, *copy;
	size_t len;

	te_fx_init(&f);
	te_use_kek(b, TE_GL, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1, -1, 0);
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	copy = OPENSSL_memdup(der, len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, OK, -1, -1);
	SKD_ENG_OUTCOME_free(o);
	o = te_fx_run(&f, copy, len);
	expect(o, 0, FAILED, SKD_CMC_BAD_REQUEST, -1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT),
	    0);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

/*
 * b (freed) encoded, then one body part given the id of its first
 * control (the transactionId), then signed by GLO1: where 0, the last
 * control; 1, the first cmsSequence item; 2, a new otherMsgSequence item
 * (an OtherMsg the GLA would otherwise pass over).
 */
static unsigned char *
seal_dup_bpid(struct skd_cmc_body *b, int where, size_t *out_len)
{
	struct skd_cmc_protect pr;
	STACK_OF(SKD_TAGGED_ATTRIBUTE) *cs;
	SKD_PKI_DATA *pd;
	unsigned char *body = NULL, *dup = NULL, *der = NULL;
	const unsigned char *p;
	ASN1_INTEGER *taken;
	size_t blen = 0;
	int n;

	ck_assert(skd_cmc_body_encode(b, &body, &blen));
	skd_cmc_body_free(b);
	p = body;
	ck_assert_ptr_nonnull(pd = d2i_SKD_PKI_DATA(NULL, &p, (long)blen));
	cs = pd->controlSequence;
	n = sk_SKD_TAGGED_ATTRIBUTE_num(cs);
	ck_assert_int_ge(n, 2);
	if (where == 2) {
		SKD_OTHER_MSG *om;

		ck_assert_ptr_nonnull(om = SKD_OTHER_MSG_new());
		ck_assert_ptr_nonnull(om->otherMsgType =
		    OBJ_nid2obj(NID_pkcs7_data));
		ASN1_TYPE_set(om->otherMsgValue, V_ASN1_NULL, NULL);
		ck_assert_int_gt(sk_SKD_OTHER_MSG_push(pd->otherMsgSequence,
		    om), 0);
		taken = om->bodyPartID;
	} else {
		taken = where == 0 ?
		    sk_SKD_TAGGED_ATTRIBUTE_value(cs, n - 1)->bodyPartID :
		    sk_SKD_TAGGED_CONTENT_INFO_value(pd->cmsSequence, 0)->
		    bodyPartID;
	}
	ck_assert(ASN1_STRING_copy(taken,
	    sk_SKD_TAGGED_ATTRIBUTE_value(cs, 0)->bodyPartID));
	ck_assert_int_gt(n = i2d_SKD_PKI_DATA(pd, &dup), 0);
	memset(&pr, 0, sizeof(pr));
	pr.signer = skd_test_pki_id(W(GLO1))->cert;
	pr.key = skd_test_pki_id(W(GLO1))->key;
	pr.signing_time = TE_NOW;
	ck_assert(skd_cmc_protect(&der, out_len, 0, dup, (size_t)n, &pr));
	SKD_PKI_DATA_free(pd);
	OPENSSL_free(body);
	OPENSSL_free(dup);
	return der;
}

/* RFC 5272 3.2: two body parts of one PKIData with one bodyPartID:
 * badRequest, and nothing of the request done.  _i 0: two controls;
 * 1: a control and a cmsSequence item (a nested useKEK of another GL);
 * 2: a control and an otherMsgSequence item beside a glAddMember; 3: two
 * controls of a PKIData nested in the cmsSequence (its glUseKEK), the
 * outer one sound. */
START_TEST(test_body_part_ids_unique)
{
	struct te_fx f;
	struct skd_cmc_body *b, *inner;
	SKD_ENG_OUTCOME *o;
	unsigned char *der, *d1;
	size_t len = 0, l1;

	te_fx_init(&f);
	make_prior(&f, P_UNMANAGED);
	b = te_body();
	if (_i == 0 || _i == 2) {
		te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(BOB), W(BOB));
		der = seal_dup_bpid(b, _i, &len);
	} else {
		inner = te_body();
		te_use_kek(inner, TE_GL2, W(GLO1), SKD_GL_UNMANAGED, NID_undef,
		    -1, -1, 0);
		d1 = _i == 1 ? te_seal(inner, W(GLO1), TE_NOW, 0, &l1) :
		    seal_dup_bpid(inner, 0, &l1);
		ck_assert_int_gt(skd_cmc_body_add_cms(b, d1, l1), 0);
		OPENSSL_free(d1);
		der = _i == 1 ? seal_dup_bpid(b, 1, &len) :
		    te_seal(b, W(GLO1), TE_NOW, 0, &len);
	}
	o = te_fx_run(&f, der, len);
	expect(o, 0, FAILED, SKD_CMC_BAD_REQUEST, -1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT),
	    0);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GL_CREATE),
	    0);
	ck_assert_int_eq((int)skd_engine_mem_count(f.mem, TE_GL,
	    SKD_STORE_MEMBER), 2);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_tampered_and_garbage)
{
	struct te_fx f;
	struct skd_cmc_body *b = te_body();
	SKD_ENG_OUTCOME *o;
	unsigned char *der, junk[64];
	size_t len;

	te_fx_init(&f);
	te_use_kek(b, TE_GL, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1, -1, 0);
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	der[len - 10] ^= 0x01;		/* inside the signature value */
	o = te_fx_run(&f, der, len);
	expect(o, 0, FAILED, SKD_CMC_BAD_MESSAGE_CHECK, -1);
	/* answered to the claimed signer under the request id */
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_RESPONSE), 1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GL_CREATE), 0);
	SKD_ENG_OUTCOME_free(o);
	memset(junk, 0x5a, sizeof(junk));
	o = te_fx_run(&f, OPENSSL_memdup(junk, sizeof(junk)), sizeof(junk));
	ck_assert_int_eq((int)skd_engine_outcome_count(o, 0), 0);
	ck_assert_ptr_nonnull(o->note);
	expect(o, 0, FAILED, SKD_CMC_BAD_MESSAGE_CHECK, -1);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

/*
 * skd_engine_give_up: a glAddMember the worker gave up on is answered
 * failed, CMCFailInfo internalCAError, with the reason as statusString,
 * naming its body part, signed with the GL's certificate (3.2.6) and
 * echoing the nonce (3.2.4.3); nothing else is decided.  A message with
 * no signer to answer gets no response, only the failed result and a
 * note.
 */
START_TEST(test_give_up)
{
	struct te_fx f;
	struct skd_cmc_body *b = te_body();
	SKD_ENG_OUTCOME *o = NULL;
	SKD_PKI_RESPONSE *pr;
	SKD_CMC_STATUS_INFO_V2 *si;
	const SKD_TAGGED_ATTRIBUTE *ta;
	unsigned char *der, *n = NULL, junk[64];
	size_t len, nl = 0;

	te_fx_init(&f);
	te_use_kek(b, TE_GL, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1, -1, 0);
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	SKD_ENG_OUTCOME_free(te_fx_run(&f, der, len));
	b = te_body();
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(ALICE), W(ALICE));
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	ck_assert(skd_engine_give_up(&o, &f.cfg, &f.env, &f.st,
	    "11111111-2222-4333-8444-555555555555", der, len,
	    "gave up after 5 attempts"));
	OPENSSL_free(der);
	expect(o, 0, FAILED, SKD_CMC_INTERNAL_CA_ERROR, -1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, 0), 1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_RESPONSE), 1);
	pr = response_body(o, TE_GL);
	ck_assert_int_eq(skd_cmc_get_nonce(pr->controlSequence,
	    SKD_OID_CMC_RECIPIENT_NONCE, &n, &nl), 1);
	ck_assert(nl == sizeof(te_nonce) && memcmp(n, te_nonce, nl) == 0);
	OPENSSL_free(n);
	ck_assert_ptr_nonnull(ta = skd_cmc_find_control(pr->controlSequence,
	    SKD_OID_CMC_STATUS_INFO_V2, 0));
	ck_assert_ptr_null(skd_cmc_find_control(pr->controlSequence,
	    SKD_OID_CMC_STATUS_INFO_V2, 1));
	si = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2));
	ck_assert_ptr_nonnull(si);
	ck_assert_int_eq(ASN1_INTEGER_get(si->cMCStatus), SKD_CMC_FAILED);
	ck_assert_int_eq(sk_SKD_BODY_PART_REFERENCE_num(si->bodyList), 1);
	ck_assert_ptr_nonnull(si->otherStatusInfo);
	ck_assert_int_eq(si->otherStatusInfo->type,
	    SKD_OTHER_STATUS_FAIL_INFO);
	ck_assert_int_eq(ASN1_INTEGER_get(si->otherStatusInfo->d.failInfo),
	    SKD_CMC_INTERNAL_CA_ERROR);
	ck_assert_ptr_nonnull(si->statusString);
	ck_assert(ASN1_STRING_length(si->statusString) == 24 &&
	    memcmp(ASN1_STRING_get0_data(si->statusString),
	    "gave up after 5 attempts", 24) == 0);
	SKD_CMC_STATUS_INFO_V2_free(si);
	SKD_PKI_RESPONSE_free(pr);
	SKD_ENG_OUTCOME_free(o);
	o = NULL;

	memset(junk, 0x5a, sizeof(junk));
	ck_assert(skd_engine_give_up(&o, &f.cfg, &f.env, &f.st,
	    "11111111-2222-4333-8444-555555555555", junk, sizeof(junk),
	    "gave up after 5 attempts"));
	ck_assert_int_eq((int)skd_engine_outcome_count(o, 0), 0);
	ck_assert_ptr_nonnull(o->note);
	expect(o, 0, FAILED, SKD_CMC_INTERNAL_CA_ERROR, -1);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_gla_rekey)
{
	struct te_fx f;
	SKD_ENG_OUTCOME *o;
	const SKD_ENG_OP *op;

	te_fx_init(&f);
	make_prior(&f, P_UNMANAGED);
	ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT),
	    4);
	op = skd_engine_outcome_find(o, SKD_OP_MESSAGE, 0);
	ck_assert_ptr_nonnull(op);
	ck_assert_int_eq(ASN1_INTEGER_get(op->publish->kind),
	    SKD_MSG_REKEY_NOTICE);
	skd_cms_verified_free(te_verify(sk_ASN1_OCTET_STRING_value(
	    op->publish->messages, 0)->data, (size_t)sk_ASN1_OCTET_STRING_value(
	    op->publish->messages, 0)->length, TE_GL));
	ck_assert(skd_engine_mem_apply(f.mem, o));
	ck_assert_int_eq((int)skd_engine_mem_count_keys(f.mem, TE_GL), 4);
	SKD_ENG_OUTCOME_free(o);
	/* an unknown GL is an error */
	ck_assert(!skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL2));
	fx_done(&f);
}
END_TEST

static time_t
gt(const ASN1_GENERALIZEDTIME *t)
{
	struct tm tm;

	ck_assert(ASN1_TIME_to_tm(t, &tm));
	return timegm(&tm);
}

START_TEST(test_durations)
{
	struct te_fx f;
	struct skd_cmc_body *b = te_body();
	SKD_ENG_OUTCOME *o;
	const SKD_ENG_GLKEY *k0, *k1;
	unsigned char *der;
	size_t len;

	te_fx_init(&f);
	te_use_kek(b, TE_GL, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1, -1, 0);
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	k0 = skd_engine_outcome_find(o, SKD_OP_GLKEY_PUT, 0)->glKey;
	k1 = skd_engine_outcome_find(o, SKD_OP_GLKEY_PUT, 1)->glKey;
	/* 3.1.1 duration 0: to the end of January 2030, then February */
	ck_assert_int_eq((long)gt(k0->notBefore), (long)TE_NOW);
	ck_assert_int_eq((long)gt(k0->notAfter), 1896134399L);
	ck_assert_int_eq((long)gt(k1->notBefore), 1896134400L);
	ck_assert_int_eq((long)gt(k1->notAfter), 1898553599L);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_cms_sequence)
{
	struct te_fx f;
	struct skd_cmc_body *b, *i1, *i2;
	SKD_ENG_OUTCOME *o;
	SKD_PKI_RESPONSE *pr;
	unsigned char *der, *d1, *d2;
	size_t len, l1, l2;

	te_fx_init(&f);
	i1 = te_body();
	te_use_kek(i1, TE_GL, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1, -1, 0);
	d1 = te_seal(i1, W(GLO1), TE_NOW, 0, &l1);
	i2 = te_body();
	te_use_kek(i2, TE_GL2, W(GLO1), SKD_GL_CLOSED, NID_undef, -1, -1, 0);
	d2 = te_seal(i2, W(GLO1), TE_NOW, 0, &l2);
	b = te_body();
	ck_assert_int_gt(skd_cmc_body_add_cms(b, d1, l1), 0);
	ck_assert_int_gt(skd_cmc_body_add_cms(b, d2, l2), 0);
	OPENSSL_free(d1);
	OPENSSL_free(d2);
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	/* 3.2.2: one GL per cmsSequence item, each answered in its own
	 * SignedData(PKIResponse) inside the outer PKIResponse */
	expect(o, 0, OK, -1, -1);
	expect(o, 1, OK, -1, -1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GL_CREATE),
	    2);
	pr = response_body(o, NULL);
	ck_assert_int_eq(sk_SKD_TAGGED_CONTENT_INFO_num(pr->cmsSequence), 2);
	SKD_PKI_RESPONSE_free(pr);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_query_answer)
{
	struct te_fx f;
	struct skd_cmc_body *b = te_body();
	SKD_ENG_OUTCOME *o;
	SKD_PKI_RESPONSE *pr;
	const SKD_TAGGED_ATTRIBUTE *ta;
	SKD_GLA_QUERY_RESPONSE *q;
	STACK_OF(X509_ALGOR) *caps;
	const unsigned char *p;
	unsigned char *der;
	size_t len;

	te_fx_init(&f);
	te_query(b, SKD_OID_GLA_SKD_ALG_REQUEST);
	der = te_seal(b, W(BOB), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	pr = response_body(o, NULL);
	ta = skd_cmc_find_control(pr->controlSequence,
	    SKD_OID_GLA_QUERY_RESPONSE, 0);
	ck_assert_ptr_nonnull(ta);
	q = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(SKD_GLA_QUERY_RESPONSE));
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(OBJ_obj2nid(q->type),
	    skd_asn1_nid(SKD_OID_GLA_SKD_ALG_RESPONSE));
	ck_assert_int_eq(q->value->type, V_ASN1_SEQUENCE);
	p = q->value->value.sequence->data;
	caps = d2i_X509_ALGORS(NULL, &p, q->value->value.sequence->length);
	ck_assert_ptr_nonnull(caps);
	ck_assert_int_eq(sk_X509_ALGOR_num(caps), 3);
	ck_assert_int_eq(OBJ_obj2nid(sk_X509_ALGOR_value(caps, 2)->algorithm),
	    NID_id_aes256_wrap);
	sk_X509_ALGOR_pop_free(caps, X509_ALGOR_free);
	SKD_GLA_QUERY_RESPONSE_free(q);
	SKD_PKI_RESPONSE_free(pr);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_refresh_resends)
{
	struct te_fx f;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o;
	const SKD_ENG_OP *op;
	unsigned char *der, *kek;
	size_t len, kl;
	int i;

	te_fx_init(&f);
	make_prior(&f, P_UNMANAGED);
	b = te_body();
	te_refresh(b, TE_GL, TE_NOW - 86400);
	der = te_seal(b, W(ALICE), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	op = skd_engine_outcome_find(o, SKD_OP_RESPONSE, 0);
	ck_assert_ptr_nonnull(op);
	/* the response, then alice's two glKey messages (4.8) */
	ck_assert_int_eq(sk_ASN1_OCTET_STRING_num(op->publish->messages), 3);
	for (i = 1; i < 3; i++) {
		const ASN1_OCTET_STRING *m = sk_ASN1_OCTET_STRING_value(
		    op->publish->messages, i);

		kek = open_glkey(m->data, (size_t)m->length, W(ALICE), &kl,
		    NULL);
		ck_assert_ptr_nonnull(kek);
		skd_ri_free_key(kek, kl);
	}
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_shards)
{
	struct te_fx f;
	struct skd_cmc_body *b = te_body();
	SKD_ENG_OUTCOME *o;
	unsigned char *der;
	size_t len;

	te_fx_init(&f);
	/* mutually aware: K = 2 recipients per glKey message */
	te_use_kek(b, TE_GL, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1, 1, 1);
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	SKD_ENG_OUTCOME_free(te_fx_run(&f, der, len));
	b = te_body();
	te_rekey(b, TE_GL, 0, NID_undef);
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(ALICE), W(ALICE));
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(BOB), W(BOB));
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(CAROL), W(CAROL));
	der = te_seal(b, W(GLO1), TE_NOW + 1, 0, &len);
	o = te_fx_run(&f, der, len);
	/* 3.2.2 priority: glRekey before glAddMember, so the new key went
	 * to nobody yet; then each new member gets the 2 outstanding keys */
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT),
	    1 + 3 * 2);
	SKD_ENG_OUTCOME_free(o);
	/* a rekey now: 3 members in shards of 2 */
	b = te_body();
	te_rekey(b, TE_GL, 0, NID_undef);
	der = te_seal(b, W(GLO1), TE_NOW + 2, 0, &len);
	o = te_fx_run(&f, der, len);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT),
	    2);
	ck_assert_int_eq(sk_ASN1_UTF8STRING_num(skd_engine_outcome_find(o,
	    SKD_OP_GLKEY_PUT, 0)->glKey->recipients), 2);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

/* Adds who to TE_GL's members directly in the state (no request). */
static void
seed_member(struct te_fx *f, enum skd_test_who who)
{
	SKD_ENG_OUTCOME *seed;
	SKD_ENG_OP *op;
	unsigned char *der = NULL;
	char rv[128];
	int n;

	seed = SKD_ENG_OUTCOME_new();
	ck_assert_ptr_nonnull(seed);
	op = SKD_ENG_OP_new();
	ck_assert(ASN1_INTEGER_set(op->type, SKD_OP_MEMBER_ADD));
	ck_assert(ASN1_STRING_set(op->glName, TE_GL, -1));
	op->member = SKD_ENG_MEMBER_new();
	te_who_text(rv, sizeof(rv), who);
	ck_assert(ASN1_STRING_set(op->member->name, rv, -1));
	n = i2d_X509(skd_test_pki_id(who)->cert, &der);
	op->member->cert = ASN1_OCTET_STRING_new();
	ck_assert(ASN1_OCTET_STRING_set(op->member->cert, der, n));
	OPENSSL_free(der);
	ck_assert(sk_SKD_ENG_OP_push(seed->ops, op));
	ck_assert(skd_engine_mem_apply(f->mem, seed));
	SKD_ENG_OUTCOME_free(seed);
}

/*
 * A GL with four members (shards of two) and one whose certificate was
 * revoked after it joined, rekeyed by one thread and by four
 * (src/engine/parallel.c): the same shards to the same recipients in the
 * same order, the same key, the same glProvideCert.
 */
/* A mutually aware GL of alice, bob, carol and dave, with a member whose
 * certificate was revoked after it joined seeded before the one at
 * revoked_at (4: after dave), on a fixture of threads threads. */
static void
four_and_revoked(struct te_fx *f, int threads, size_t revoked_at)
{
	static const enum skd_test_who add[] = {
		SKD_TP_ALICE, SKD_TP_BOB, SKD_TP_CAROL, SKD_TP_DAVE,
	};
	struct skd_cmc_body *b;
	unsigned char *der;
	size_t len, i;

	te_fx_init(f);
	f->cfg.threads = threads;
	b = te_body();
	te_use_kek(b, TE_GL, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1, 1, 1);
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	SKD_ENG_OUTCOME_free(te_fx_run(f, der, len));
	for (i = 0; i <= sizeof(add) / sizeof(add[0]); i++) {
		if (i == revoked_at)
			seed_member(f, SKD_TP_REVOKED);
		if (i == sizeof(add) / sizeof(add[0]))
			break;
		b = te_body();
		te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, add[i], add[i]);
		der = te_seal(b, W(GLO1), TE_NOW + 1, 0, &len);
		SKD_ENG_OUTCOME_free(te_fx_run(f, der, len));
	}
}

static SKD_ENG_OUTCOME *
threads_rekey(int threads)
{
	struct te_fx f;
	SKD_ENG_OUTCOME *o;

	four_and_revoked(&f, threads, 4);
	ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
	fx_done(&f);
	return o;
}

/* The KEK shard i of o opens to for who (caller frees). */
static unsigned char *
shard_kek(const SKD_ENG_OUTCOME *o, size_t i, enum skd_test_who who,
    size_t *out_len)
{
	const SKD_ENG_OP *op = skd_engine_outcome_find(o, SKD_OP_GLKEY_PUT, i);
	unsigned char *k;

	ck_assert_ptr_nonnull(op);
	k = open_glkey(op->glKey->message->data,
	    (size_t)op->glKey->message->length, who, out_len, NULL);
	ck_assert_ptr_nonnull(k);
	return k;
}

START_TEST(test_threads_same_outcome)
{
	SKD_ENG_OUTCOME *o1, *o4;
	unsigned char *k1, *k2;
	size_t l1, l2, i, n;
	int j;

	o1 = threads_rekey(1);
	o4 = threads_rekey(4);
	/* one KEK in both shards, opened by a recipient of each */
	for (i = 0; i < 2; i++) {
		SKD_ENG_OUTCOME *o = i == 0 ? o1 : o4;

		k1 = shard_kek(o, 0, SKD_TP_ALICE, &l1);
		k2 = shard_kek(o, 1, SKD_TP_DAVE, &l2);
		ck_assert_uint_eq(l1, l2);
		ck_assert_mem_eq(k1, k2, l1);
		skd_ri_free_key(k1, l1);
		skd_ri_free_key(k2, l2);
	}
	n = skd_engine_outcome_count(o1, SKD_OP_GLKEY_PUT);
	/* alice, bob, carol, dave in shards of two; revoked gets none */
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(skd_engine_outcome_count(o4, SKD_OP_GLKEY_PUT), n);
	for (i = 0; i < n; i++) {
		const SKD_ENG_GLKEY *a = skd_engine_outcome_find(o1,
		    SKD_OP_GLKEY_PUT, i)->glKey;
		const SKD_ENG_GLKEY *b = skd_engine_outcome_find(o4,
		    SKD_OP_GLKEY_PUT, i)->glKey;

		ck_assert_int_eq(ASN1_INTEGER_get(a->shard),
		    ASN1_INTEGER_get(b->shard));
		ck_assert_int_eq(sk_ASN1_UTF8STRING_num(a->recipients), 2);
		ck_assert_int_eq(sk_ASN1_UTF8STRING_num(b->recipients), 2);
		for (j = 0; j < 2; j++)
			ck_assert_int_eq(ASN1_STRING_cmp(
			    sk_ASN1_UTF8STRING_value(a->recipients, j),
			    sk_ASN1_UTF8STRING_value(b->recipients, j)), 0);
		ck_assert(!names(a, SKD_TP_REVOKED));
	}
	ck_assert(names(skd_engine_outcome_find(o4, SKD_OP_GLKEY_PUT,
	    1)->glKey, SKD_TP_DAVE));
	for (i = 0; i < 2; i++) {
		SKD_ENG_OUTCOME *o = i == 0 ? o1 : o4;

		ck_assert_int_eq(ASN1_INTEGER_get(skd_engine_outcome_find(o,
		    SKD_OP_MESSAGE, 0)->publish->kind), SKD_MSG_PROVIDE_CERT);
	}
	SKD_ENG_OUTCOME_free(o1);
	SKD_ENG_OUTCOME_free(o4);
}
END_TEST

/*
 * The same GL rekeyed as the worker rekeys it (stream_rekeys: one
 * SKD_OP_KEY_STREAM op, then skd_engine_stream page by page), pages of
 * three members in shards of two, by one thread and by four: every member
 * whose certificate verifies gets the one KEK in exactly one shard, the
 * revoked one none and one glProvideCert (RFC 5275 5.1 1), and both
 * thread counts lay out the same shards to the same recipients.  A member
 * found invalid makes its own slot's shard shorter (src/engine/keys.c,
 * stream_slot).
 */
#define TS_MAX	16
struct stream_seen {
	struct te_fx	*f;
	unsigned char	 kek[64];
	size_t		 kek_len;
	int		 got[SKD_TP_COUNT];
	int		 provide;
	size_t		 nshards;
	char		 shard[TS_MAX][256];	/* recipients, joined */
};

static int
stream_seen_page(void *arg, const SKD_ENG_OUTCOME *page)
{
	static const enum skd_test_who all[] = {
		SKD_TP_ALICE, SKD_TP_BOB, SKD_TP_CAROL, SKD_TP_DAVE,
		SKD_TP_REVOKED,
	};
	struct stream_seen *sn = arg;
	size_t i, w, l;
	int j;

	for (i = 0; i < skd_engine_outcome_count(page, SKD_OP_GLKEY_PUT);
	    i++) {
		const SKD_ENG_GLKEY *k = skd_engine_outcome_find(page,
		    SKD_OP_GLKEY_PUT, i)->glKey;
		char *out = sn->shard[sn->nshards];

		ck_assert_uint_lt(sn->nshards, TS_MAX);
		for (j = 0; j < sk_ASN1_UTF8STRING_num(k->recipients); j++) {
			l = strlen(out);
			snprintf(out + l, 256 - l, "%s;", (const char *)
			    sk_ASN1_UTF8STRING_value(k->recipients, j)->data);
		}
		sn->nshards++;
		for (w = 0; w < sizeof(all) / sizeof(all[0]); w++) {
			unsigned char *kek;
			size_t kek_len;

			if (!names(k, all[w]))
				continue;
			sn->got[all[w]]++;
			kek = open_glkey(k->message->data,
			    (size_t)k->message->length, all[w], &kek_len,
			    NULL);
			ck_assert_ptr_nonnull(kek);
			if (sn->kek_len == 0) {
				ck_assert_uint_le(kek_len, sizeof(sn->kek));
				memcpy(sn->kek, kek, kek_len);
				sn->kek_len = kek_len;
			}
			ck_assert_uint_eq(kek_len, sn->kek_len);
			ck_assert_mem_eq(kek, sn->kek, kek_len);
			skd_ri_free_key(kek, kek_len);
		}
	}
	for (i = 0; i < skd_engine_outcome_count(page, SKD_OP_MESSAGE); i++) {
		if (ASN1_INTEGER_get(skd_engine_outcome_find(page,
		    SKD_OP_MESSAGE, i)->publish->kind) == SKD_MSG_PROVIDE_CERT)
			sn->provide++;
	}
	return skd_engine_mem_apply(sn->f->mem, page);
}

static void
stream_rekey(int threads, struct stream_seen *sn)
{
	struct te_fx f;
	SKD_ENG_OUTCOME *o;
	size_t i, streams = 0;

	memset(sn, 0, sizeof(*sn));
	/* revoked in the first page's first slot, after alice */
	four_and_revoked(&f, threads, 1);
	ck_assert_uint_eq(f.cfg.shard_size, 2);
	f.cfg.stream_rekeys = 1;
	f.cfg.stream_page = 3;		/* rounded up to 4: two slots */
	sn->f = &f;
	ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
	ck_assert(skd_engine_mem_apply(f.mem, o));
	for (i = 0; i < (size_t)sk_SKD_ENG_OP_num(o->ops); i++) {
		const SKD_ENG_OP *op = sk_SKD_ENG_OP_value(o->ops, (int)i);

		if (skd_engine_op_type(op) != SKD_OP_KEY_STREAM)
			continue;
		ck_assert(skd_engine_stream(&f.cfg, &f.env, &f.st, op,
		    stream_seen_page, sn));
		streams++;
	}
	ck_assert_uint_eq(streams, 1);
	SKD_ENG_OUTCOME_free(o);
	sn->f = NULL;
	fx_done(&f);
}

START_TEST(test_stream_threads_revoked)
{
	struct stream_seen *s1, *s4;
	size_t i;

	s1 = calloc(1, sizeof(*s1));
	s4 = calloc(1, sizeof(*s4));
	ck_assert(s1 != NULL && s4 != NULL);
	stream_rekey(1, s1);
	stream_rekey(4, s4);
	for (i = 0; i < 2; i++) {
		struct stream_seen *sn = i == 0 ? s1 : s4;

		ck_assert_int_eq(sn->got[SKD_TP_ALICE], 1);
		ck_assert_int_eq(sn->got[SKD_TP_BOB], 1);
		ck_assert_int_eq(sn->got[SKD_TP_CAROL], 1);
		ck_assert_int_eq(sn->got[SKD_TP_DAVE], 1);
		ck_assert_int_eq(sn->got[SKD_TP_REVOKED], 0);
		ck_assert_int_eq(sn->provide, 1);
		/* five members in pages of four, slots of two: three
		 * shards, the revoked one's slot's with one recipient */
		ck_assert_uint_eq(sn->nshards, 3);
	}
	/* The members in the order they joined: alice, revoked, bob,
	 * carol, then dave on the second page. */
	ck_assert_str_eq(s1->shard[0], "email:alice@example.com;");
	ck_assert_str_eq(s1->shard[1],
	    "email:bob@example.com;email:carol@example.com;");
	ck_assert_str_eq(s1->shard[2], "email:dave@example.com;");
	for (i = 0; i < s1->nshards; i++)
		ck_assert_str_eq(s1->shard[i], s4->shard[i]);
	free(s1);
	free(s4);
}
END_TEST

/*
 * Two workers adding members to one GL at once: both engines see the same
 * state, and the glKey entries each adds to the GL's existing key must
 * not share a name (key id + shard), or the one applied second conflicts
 * on every replay of its journal.  Then both outcomes apply.
 */
START_TEST(test_concurrent_adds_distinct_shards)
{
	struct te_fx f;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o[2];
	unsigned char *der;
	size_t len, i, j;
	const enum skd_test_who who[2] = { SKD_TP_BOB, SKD_TP_CAROL };

	te_fx_init(&f);
	make_prior(&f, P_UNMANAGED);
	for (i = 0; i < 2; i++) {
		b = te_body();
		te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, who[i], who[i]);
		der = te_seal(b, W(GLO1), TE_NOW + 1, 0, &len);
		o[i] = NULL;
		ck_assert(skd_engine_process(&o[i], &f.cfg, &f.env, &f.st,
		    i == 0 ? "11111111-2222-4333-8444-555555555551" :
		    "11111111-2222-4333-8444-555555555552", der, len));
		OPENSSL_free(der);
	}
	ck_assert_uint_gt(skd_engine_outcome_count(o[0], SKD_OP_GLKEY_PUT), 0);
	for (i = 0; i < skd_engine_outcome_count(o[0], SKD_OP_GLKEY_PUT); i++) {
		const SKD_ENG_GLKEY *a = skd_engine_outcome_find(o[0],
		    SKD_OP_GLKEY_PUT, i)->glKey;

		for (j = 0; j < skd_engine_outcome_count(o[1],
		    SKD_OP_GLKEY_PUT); j++) {
			const SKD_ENG_GLKEY *c = skd_engine_outcome_find(o[1],
			    SKD_OP_GLKEY_PUT, j)->glKey;

			ck_assert(ASN1_STRING_cmp(a->keyId, c->keyId) != 0 ||
			    ASN1_INTEGER_cmp(a->shard, c->shard) != 0);
		}
	}
	ck_assert(skd_engine_mem_apply(f.mem, o[0]));
	ck_assert(skd_engine_mem_apply(f.mem, o[1]));
	ck_assert_int_eq(skd_engine_mem_count(f.mem, TE_GL, SKD_STORE_MEMBER),
	    4);
	SKD_ENG_OUTCOME_free(o[0]);
	SKD_ENG_OUTCOME_free(o[1]);
	fx_done(&f);
}
END_TEST

/* Builds and seals alice's (or who's) acknowledgement of key_hex. */
static unsigned char *
ack_message(enum skd_test_who who, const char *key_hex, time_t t,
    size_t *out_len)
{
	struct skd_cmc_body *b = skd_cmc_body_new(1);
	struct skd_cmc_protect p;
	unsigned char *body = NULL, *der = NULL;
	char text[128];
	size_t blen = 0;
	long one = 1;

	ck_assert_ptr_nonnull(b);
	snprintf(text, sizeof(text), "glKey received: %s", key_hex);
	ck_assert_int_gt(skd_cmc_body_add_status(b, SKD_CMC_SUCCESS, &one, 1,
	    text, -1, -1), 0);
	memset(&p, 0, sizeof(p));
	p.signer = skd_test_pki_id(who)->cert;
	p.key = skd_test_pki_id(who)->key;
	p.signing_time = t;
	ck_assert(skd_cmc_body_encode(b, &body, &blen));
	ck_assert(skd_cmc_protect(&der, out_len, 1, body, blen, &p));
	OPENSSL_free(body);
	skd_cmc_body_free(b);
	return der;
}

START_TEST(test_member_ack)
{
	struct te_fx f;
	SKD_ENG_OUTCOME *o;
	const SKD_ENG_OP *op;
	unsigned char *der;
	char kid[64], alice[128];
	size_t len;

	te_fx_init(&f);
	make_prior(&f, P_UNMANAGED);
	ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
	ck_assert(skd_engine_mem_apply(f.mem, o));
	op = skd_engine_outcome_find(o, SKD_OP_GLKEY_PUT, 0);
	snprintf(kid, sizeof(kid), "%s", (char *)op->glKey->keyId->data);
	SKD_ENG_OUTCOME_free(o);
	te_who_text(alice, sizeof(alice), W(ALICE));
	/* 5.1 2.c: alice acknowledges; recorded, not answered */
	der = ack_message(W(ALICE), kid, TE_NOW, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, OK, -1, -1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_ACK), 1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_RESPONSE), 0);
	SKD_ENG_OUTCOME_free(o);
	ck_assert_int_eq((int)skd_engine_mem_count_acks(f.mem, TE_GL, alice),
	    1);
	/* bob is no member; an unknown key id is refused */
	der = ack_message(W(BOB), kid, TE_NOW, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, FAILED, -1, SKD_FAIL_NOT_A_MEMBER);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, 0), 0);
	SKD_ENG_OUTCOME_free(o);
	der = ack_message(W(ALICE), "00ff", TE_NOW, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, FAILED, SKD_CMC_BAD_REQUEST, -1);
	SKD_ENG_OUTCOME_free(o);
	/* without a key lookup the acknowledgement is noted, not recorded */
	f.env.find_key_gl = NULL;
	der = ack_message(W(ALICE), kid, TE_NOW + 1, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, SKD_CMC_NO_SUPPORT, -1, -1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, 0), 0);
	SKD_ENG_OUTCOME_free(o);
	/* an acknowledgement outside the time window is only noted */
	der = ack_message(W(ALICE), kid, TE_NOW - 3600, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, FAILED, SKD_CMC_BAD_TIME, -1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, 0), 0);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

/*
 * A member's acknowledgement built as RFC 5275 5.1 2.c and 3.2.4 describe
 * it, without skd's statusString: cMCStatusInfoExt success whose bodyList
 * names the glKey control (bpid, or the real one when bpid is 0), the
 * glKey message's transactionId echoed (and its senderNonce, if any, as
 * recipientNonce), a fresh senderNonce.  Signed by who.
 */
static unsigned char *
struct_ack(enum skd_test_who who, const ASN1_OCTET_STRING *glkey_msg,
    long bpid, const char *text, time_t t, size_t *out_len)
{
	struct skd_cmc_body *b = skd_cmc_body_new(1);
	struct skd_layers *l = NULL;
	const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq;
	const SKD_TAGGED_ATTRIBUTE *ta;
	struct skd_cmc_protect p;
	ASN1_INTEGER *tid;
	unsigned char *body = NULL, *der = NULL, *nonce = NULL;
	static const unsigned char fresh[16] = { 0x5a, 0x5a };
	size_t blen = 0, nlen = 0;

	ck_assert_ptr_nonnull(b);
	skd_layers_walk(&l, glkey_msg->data, (size_t)glkey_msg->length, NULL);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(l->v[l->n - 1].type, SKD_LAYER_PKI_DATA);
	seq = l->v[l->n - 1].pki_data->controlSequence;
	ck_assert_ptr_nonnull(ta = skd_cmc_find_control(seq, SKD_OID_GL_KEY,
	    0));
	if (bpid == 0)
		bpid = ASN1_INTEGER_get(ta->bodyPartID);
	ck_assert_int_gt(skd_cmc_body_add_status(b, SKD_CMC_SUCCESS, &bpid, 1,
	    text, -1, -1), 0);
	ck_assert_ptr_nonnull(ta = skd_cmc_find_control(seq,
	    SKD_OID_CMC_TRANSACTION_ID, 0));
	ck_assert_ptr_nonnull(tid = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(ASN1_INTEGER)));
	ck_assert_int_gt(skd_cmc_body_add_transaction_id(b, tid), 0);
	ASN1_INTEGER_free(tid);
	if (skd_cmc_get_nonce(seq, SKD_OID_CMC_SENDER_NONCE, &nonce,
	    &nlen) == 1)
		ck_assert_int_gt(skd_cmc_body_add_recipient_nonce(b, nonce,
		    nlen), 0);
	OPENSSL_free(nonce);
	ck_assert_int_gt(skd_cmc_body_add_sender_nonce(b, fresh,
	    sizeof(fresh)), 0);
	memset(&p, 0, sizeof(p));
	p.signer = skd_test_pki_id(who)->cert;
	p.key = skd_test_pki_id(who)->key;
	p.signing_time = t;
	ck_assert(skd_cmc_body_encode(b, &body, &blen));
	ck_assert(skd_cmc_protect(&der, out_len, 1, body, blen, &p));
	OPENSSL_free(body);
	skd_cmc_body_free(b);
	skd_layers_free(l);
	ERR_clear_error();
	return der;
}

/* 5.1 2.c: the acknowledged key is identified by structure (the echoed
 * transactionId and the bodyList), not by skd's statusString. */
START_TEST(test_member_ack_by_structure)
{
	struct te_fx f;
	SKD_ENG_OUTCOME *o, *rk;
	const SKD_ENG_OP *op, *a;
	unsigned char *der;
	char alice[128];
	size_t len;

	te_fx_init(&f);
	make_prior(&f, P_UNMANAGED);
	ck_assert(skd_engine_rekey(&rk, &f.cfg, &f.env, &f.st, TE_GL));
	ck_assert(skd_engine_mem_apply(f.mem, rk));
	op = skd_engine_outcome_find(rk, SKD_OP_GLKEY_PUT, 0);
	te_who_text(alice, sizeof(alice), W(ALICE));
	/* no statusString at all: recorded under the message's key */
	der = struct_ack(W(ALICE), op->glKey->message, 0, NULL, TE_NOW, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, OK, -1, -1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_ACK), 1);
	a = skd_engine_outcome_find(o, SKD_OP_ACK, 0);
	ck_assert_str_eq((char *)a->keyId->data,
	    (char *)op->glKey->keyId->data);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_RESPONSE), 0);
	SKD_ENG_OUTCOME_free(o);
	ck_assert_int_eq((int)skd_engine_mem_count_acks(f.mem, TE_GL, alice),
	    1);
	/* free text that is not skd's: the structure still decides */
	der = struct_ack(W(ALICE), op->glKey->message, 0, "thanks, got it",
	    TE_NOW + 1, &len);
	o = te_fx_run(&f, der, len);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_ACK), 1);
	SKD_ENG_OUTCOME_free(o);
	/* a bodyList that names no glKey control: no acknowledgement */
	der = struct_ack(W(ALICE), op->glKey->message, 7, NULL, TE_NOW + 2,
	    &len);
	o = te_fx_run(&f, der, len);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_ACK), 0);
	ck_assert_ptr_nonnull(o->note);
	SKD_ENG_OUTCOME_free(o);
	/* bob is no member */
	der = struct_ack(W(BOB), op->glKey->message, 0, NULL, TE_NOW, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, FAILED, -1, SKD_FAIL_NOT_A_MEMBER);
	SKD_ENG_OUTCOME_free(o);
	SKD_ENG_OUTCOME_free(rk);
	fx_done(&f);
}
END_TEST

START_TEST(test_revoked_member_at_rekey)
{
	struct te_fx f;
	SKD_ENG_OUTCOME *o;
	char rv[128];
	size_t i;

	te_fx_init(&f);
	make_prior(&f, P_UNMANAGED);
	/* A member whose certificate was revoked after it joined. */
	seed_member(&f, W(REVOKED));
	te_who_text(rv, sizeof(rv), W(REVOKED));
	ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
	/* 2 keys for alice and dave only; one glProvideCert to the other,
	 * then the rekey notice to glo1 */
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT),
	    4);
	for (i = 0; i < 4; i++) {
		const SKD_ENG_GLKEY *k = skd_engine_outcome_find(o,
		    SKD_OP_GLKEY_PUT, i)->glKey;

		ck_assert(!names(k, W(REVOKED)));
	}
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_MESSAGE),
	    1 + 1);
	{
		const SKD_ENG_OP *m = skd_engine_outcome_find(o,
		    SKD_OP_MESSAGE, 0);

		ck_assert_int_eq(ASN1_INTEGER_get(m->publish->kind),
		    SKD_MSG_PROVIDE_CERT);
		ck_assert_str_eq((char *)sk_ASN1_UTF8STRING_value(
		    m->publish->recipients, 0)->data, rv);
	}
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_gl_cert_renewed)
{
	struct te_fx f;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o;
	const SKD_ENG_OP *up;
	unsigned char *der;
	size_t len;

	te_fx_init(&f);
	make_prior(&f, P_UNMANAGED);
	/* 400 days later the GL's one-year certificate has expired */
	f.env.now = TE_NOW + 400 * 86400;
	b = te_body();
	te_owner(b, SKD_OID_GL_ADD_OWNER, TE_GL, W(GLO2));
	der = te_seal(b, W(GLO1), f.env.now, 0, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, OK, -1, -1);
	up = skd_engine_outcome_find(o, SKD_OP_GL_UPDATE, 0);
	ck_assert_ptr_nonnull(up);
	ck_assert_ptr_nonnull(up->gl->cert);
	{
		const unsigned char *p = up->gl->cert->data;
		X509 *x = d2i_X509(NULL, &p, up->gl->cert->length);
		GENERAL_NAME *gn = te_gn(TE_GL);

		ck_assert_ptr_nonnull(x);
		ck_assert(skd_gname_match_cert(gn, x));
		ck_assert_int_gt(X509_cmp_time(X509_get0_notAfter(x),
		    &f.env.now), 0);
		GENERAL_NAME_free(gn);
		X509_free(x);
	}
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_bad_inner_signature)
{
	struct te_fx f;
	struct skd_cmc_body *b, *in;
	SKD_ENG_OUTCOME *o;
	const SKD_ENG_RESULT *r;
	unsigned char *der, *d1;
	size_t len, l1;
	long bpid;

	te_fx_init(&f);
	in = te_body();
	te_use_kek(in, TE_GL, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1, -1, 0);
	d1 = te_seal(in, W(GLO1), TE_NOW, 0, &l1);
	d1[l1 - 10] ^= 0x01;	/* the inner signature */
	b = te_body();
	bpid = skd_cmc_body_add_cms(b, d1, l1);
	ck_assert_int_gt(bpid, 0);
	OPENSSL_free(d1);
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	/* 3.2.4.1: bodyList names the cmsSequence item, not 0 */
	expect(o, 0, FAILED, SKD_CMC_BAD_MESSAGE_CHECK, -1);
	r = sk_SKD_ENG_RESULT_value(o->results, 0);
	ck_assert_int_eq(ASN1_INTEGER_get(r->bodyPart), bpid);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_RESPONSE), 1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GL_CREATE), 0);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_forward_encrypted)
{
	struct te_fx f;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o;
	const ASN1_OCTET_STRING *m;
	struct skd_cms_opener who;
	unsigned char *der, *content = NULL;
	size_t len, cl = 0;

	te_fx_init(&f);
	make_prior(&f, P_MANAGED);
	b = te_body();
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(BOB), W(BOB));
	der = te_seal(b, W(BOB), TE_NOW, 1, &len);
	o = te_fx_run(&f, der, len);
	m = sk_ASN1_OCTET_STRING_value(skd_engine_outcome_find(o,
	    SKD_OP_MESSAGE, 0)->publish->messages, 0);
	/* 3.2.1.2: the GLA strips its layer and encrypts for the GLO */
	content = te_open_signed(m->data, (size_t)m->length, W(GLO1), &cl);
	skd_cms_verified_free(te_verify(content, cl, TE_GL));
	OPENSSL_free(content);
	/* and the GLA itself cannot open it */
	memset(&who, 0, sizeof(who));
	who.cert = skd_test_pki_id(W(GLA))->cert;
	who.key = skd_test_pki_id(W(GLA))->key;
	ck_assert(!skd_cms_open(&content, &cl, NULL, m->data,
	    (size_t)m->length, &who));
	ERR_clear_error();
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_unknown_oid)
{
	struct te_fx f;
	SKD_PKI_DATA *pd = SKD_PKI_DATA_new();
	SKD_TAGGED_ATTRIBUTE *ta = SKD_TAGGED_ATTRIBUTE_new();
	ASN1_TYPE *v = ASN1_TYPE_new();
	struct skd_cmc_protect p;
	SKD_ENG_OUTCOME *o;
	unsigned char *body = NULL, *der = NULL;
	size_t blen = 0, len = 0;

	te_fx_init(&f);
	ck_assert(pd != NULL && ta != NULL && v != NULL);
	ck_assert(ASN1_INTEGER_set(ta->bodyPartID, 7));
	ASN1_OBJECT_free(ta->attrType);
	ta->attrType = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
	ASN1_TYPE_set(v, V_ASN1_NULL, NULL);
	ck_assert(sk_ASN1_TYPE_push(ta->attrValues, v));
	ck_assert(sk_SKD_TAGGED_ATTRIBUTE_push(pd->controlSequence, ta));
	ck_assert(skd_der_encode(ASN1_ITEM_rptr(SKD_PKI_DATA), pd, &body,
	    &blen));
	SKD_PKI_DATA_free(pd);
	memset(&p, 0, sizeof(p));
	p.signer = skd_test_pki_id(W(GLO1))->cert;
	p.key = skd_test_pki_id(W(GLO1))->key;
	p.signing_time = TE_NOW;
	ck_assert(skd_cmc_protect(&der, &len, 0, body, blen, &p));
	OPENSSL_free(body);
	o = te_fx_run(&f, der, len);
	/* an unknown control: failed, badRequest, bodyList its bodyPartID */
	expect(o, 0, FAILED, SKD_CMC_BAD_REQUEST, -1);
	ck_assert_int_eq(ASN1_INTEGER_get(sk_SKD_ENG_RESULT_value(o->results,
	    0)->bodyPart), 7);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_RESPONSE), 1);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

/* The glkWrapped of the glKey in message der (DER SET OF RecipientInfo;
 * caller frees with OPENSSL_free). */
static unsigned char *
glkey_ri(const unsigned char *der, size_t len, size_t *out_len)
{
	unsigned char *ri = NULL;

	SKD_GL_KEY_free(glkey_decode(der, len, &ri, out_len));
	return ri;
}

/* Number of RecipientInfos of type t in the glKey message of k. */
static size_t
count_ri(const SKD_ENG_GLKEY *k, enum skd_ri_type t, size_t *out_total)
{
	struct skd_ri_entry *list = NULL;
	unsigned char *ri;
	size_t ri_len, n = 0, i, c = 0;

	ri = glkey_ri(k->message->data, (size_t)k->message->length, &ri_len);
	ck_assert(skd_ri_list_recipients(&list, &n, ri, ri_len));
	for (i = 0; i < n; i++) {
		if (list[i].type == t)
			c++;
	}
	if (out_total != NULL)
		*out_total = n;
	skd_ri_free_list(list, n);
	OPENSSL_free(ri);
	return c;
}

/* The GL's newest outstanding key at TE_NOW: its id (hex, caller frees)
 * and KEK recovered from the archive (skd_ri_free_key). */
static char *
newest_key(struct te_fx *f, unsigned char **out_kek, size_t *out_len)
{
	struct skd_store_glkey *keys = NULL;
	size_t n = 0, i, best = SIZE_MAX;
	char *id;

	ck_assert(f->st.list_keys(f->st.ctx, &keys, &n, TE_GL));
	for (i = 0; i < n; i++) {
		if (keys[i].not_after < TE_NOW)
			continue;
		if (best == SIZE_MAX ||
		    keys[i].not_before >= keys[best].not_before)
			best = i;
	}
	ck_assert(best != SIZE_MAX);
	ck_assert(skd_ri_open_cert(out_kek, out_len, keys[best].archived_kek,
	    keys[best].archived_kek_len, skd_test_pki_id(W(GLA))->cert,
	    skd_test_pki_id(W(GLA))->key));
	id = strdup(keys[best].key_id);
	ck_assert_ptr_nonnull(id);
	skd_store_glkey_list_free(keys, n);
	return id;
}

static void
unhex_id(unsigned char *out, size_t *out_len, const char *hexs)
{
	size_t i;

	*out_len = strlen(hexs) / 2;
	for (i = 0; i < *out_len; i++) {
		unsigned v;

		ck_assert(sscanf(hexs + 2 * i, "%2x", &v) == 1);
		out[i] = (unsigned char)v;
	}
}

/* RFC 5275 5: a GLA-controlled rollover with kekri_rollover: every glKey
 * holds one kekri under the previous KEK, which opens to the archived
 * KEK; the members' certificates open nothing. */
/* Section 5: a GLO's glRekey with generationCounter above 0 may go by
 * kekri too; with generationCounter 0 it may not. */
START_TEST(test_kekri_glo_rekey)
{
	struct te_fx f;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o;
	unsigned char *der;
	size_t len, i, n;

	te_fx_init(&f);
	f.cfg.kekri_rollover = 1;
	make_prior(&f, P_UNMANAGED);
	b = te_body();
	te_rekey_gen(b, TE_GL, 2);
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, OK, -1, -1);
	n = skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT);
	ck_assert_int_ge((int)n, 2);
	for (i = 0; i < n; i++)
		ck_assert_int_eq((int)count_ri(skd_engine_outcome_find(o,
		    SKD_OP_GLKEY_PUT, i)->glKey, SKD_RI_KEKRI, NULL), 1);
	SKD_ENG_OUTCOME_free(o);
	b = te_body();
	te_rekey_gen(b, TE_GL, 0);
	der = te_seal(b, W(GLO1), TE_NOW + 1, 0, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, OK, -1, -1);
	for (i = 0; i < skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT); i++)
		ck_assert_int_eq((int)count_ri(skd_engine_outcome_find(o,
		    SKD_OP_GLKEY_PUT, i)->glKey, SKD_RI_KEKRI, NULL), 0);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

START_TEST(test_kekri_rollover)
{
	struct te_fx f;
	SKD_ENG_OUTCOME *o;
	unsigned char *prev, *kek, *arch, id[64], *ri;
	size_t prev_len, kl, al, id_len, i, n, total, ri_len;
	char *prev_id;

	te_fx_init(&f);
	f.cfg.kekri_rollover = 1;
	make_prior(&f, P_UNMANAGED);
	prev_id = newest_key(&f, &prev, &prev_len);
	unhex_id(id, &id_len, prev_id);
	ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
	n = skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT);
	ck_assert_int_ge((int)n, 2);
	for (i = 0; i < n; i++) {
		const SKD_ENG_GLKEY *k = skd_engine_outcome_find(o,
		    SKD_OP_GLKEY_PUT, i)->glKey;
		struct skd_ri_entry *list = NULL;
		size_t ln = 0;

		/* one message and entry per member (not mutually aware) */
		ck_assert_int_eq(sk_ASN1_UTF8STRING_num(k->recipients), 1);
		ck_assert(names(k, W(ALICE)) || names(k, W(DAVE)));
		ck_assert_int_eq((int)count_ri(k, SKD_RI_KEKRI, &total), 1);
		ck_assert_int_eq((int)total, 1);
		ri = glkey_ri(k->message->data, (size_t)k->message->length,
		    &ri_len);
		ck_assert(skd_ri_list_recipients(&list, &ln, ri, ri_len));
		ck_assert_int_eq(list[0].rid_type, SKD_RI_RID_KEKID);
		ck_assert(list[0].id_len == id_len &&
		    memcmp(list[0].id, id, id_len) == 0);
		skd_ri_free_list(list, ln);
		/* the member opens it with the previous KEK ... */
		ck_assert(skd_ri_open_kek(&kek, &kl, ri, ri_len, prev,
		    prev_len, id, id_len));
		/* ... and gets the KEK of the archive */
		ck_assert(skd_ri_open_cert(&arch, &al, k->archivedKEK->data,
		    (size_t)k->archivedKEK->length,
		    skd_test_pki_id(W(GLA))->cert,
		    skd_test_pki_id(W(GLA))->key));
		ck_assert(al == kl && memcmp(arch, kek, kl) == 0);
		ck_assert(kl != prev_len || memcmp(kek, prev, kl) != 0);
		skd_ri_free_key(arch, al);
		skd_ri_free_key(kek, kl);
		OPENSSL_free(ri);
		/* no ktri/kari: the certificate opens nothing */
		ck_assert_ptr_null(open_glkey(k->message->data,
		    (size_t)k->message->length, W(ALICE), &kl, NULL));
	}
	ck_assert(skd_engine_mem_apply(f.mem, o));
	SKD_ENG_OUTCOME_free(o);
	skd_ri_free_key(prev, prev_len);
	free(prev_id);
	/* off (the default): ktri/kari as before */
	f.cfg.kekri_rollover = 0;
	ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
	for (i = 0; i < skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT); i++)
		ck_assert_int_eq((int)count_ri(skd_engine_outcome_find(o,
		    SKD_OP_GLKEY_PUT, i)->glKey, SKD_RI_KEKRI, NULL), 0);
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

/* RFC 5275 5 and 8: after a member removal the new keys go by ktri/kari
 * even with kekri_rollover; a later rollover uses kekri only under a key
 * the removed member never had. */
START_TEST(test_kekri_not_after_removal)
{
	struct te_fx f;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o;
	unsigned char *der;
	size_t len, i, n;

	/* managed: the removal rekeys at once, by ktri/kari */
	te_fx_init(&f);
	f.cfg.kekri_rollover = 1;
	make_prior(&f, P_MANAGED);
	b = te_body();
	te_del_member(b, TE_GL, W(ALICE));
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	n = skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT);
	ck_assert_int_ge((int)n, 1);
	for (i = 0; i < n; i++)
		ck_assert_int_eq((int)count_ri(skd_engine_outcome_find(o,
		    SKD_OP_GLKEY_PUT, i)->glKey, SKD_RI_KEKRI, NULL), 0);
	SKD_ENG_OUTCOME_free(o);
	/* the next rollover: the newest key went to dave alone: kekri */
	ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
	n = skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT);
	ck_assert_int_ge((int)n, 1);
	for (i = 0; i < n; i++) {
		const SKD_ENG_GLKEY *k = skd_engine_outcome_find(o,
		    SKD_OP_GLKEY_PUT, i)->glKey;

		ck_assert(!names(k, W(ALICE)));
		ck_assert_int_eq((int)count_ri(k, SKD_RI_KEKRI, NULL), 1);
	}
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);

	/* unmanaged: no rekey at removal; the rollover must not use the
	 * key alice still holds */
	te_fx_init(&f);
	f.cfg.kekri_rollover = 1;
	make_prior(&f, P_UNMANAGED);
	b = te_body();
	te_del_member(b, TE_GL, W(ALICE));
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	SKD_ENG_OUTCOME_free(te_fx_run(&f, der, len));
	ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
	n = skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT);
	ck_assert_int_ge((int)n, 1);
	for (i = 0; i < n; i++) {
		const SKD_ENG_GLKEY *k = skd_engine_outcome_find(o,
		    SKD_OP_GLKEY_PUT, i)->glKey;

		ck_assert(names(k, W(DAVE)));
		ck_assert_int_eq((int)count_ri(k, SKD_RI_KEKRI, NULL), 0);
		ck_assert_int_eq((int)count_ri(k, SKD_RI_KTRI, NULL) +
		    (int)count_ri(k, SKD_RI_KARI, NULL), 1);
	}
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}
END_TEST

/* ---- a request reads what it names (issue 14) ---- */

/* Calls of each state function, and member records delivered. */
enum { SC_GL, SC_MEMBER, SC_LIST, SC_WALK, SC_CURRENT, SC_HEAD, SC_SHARD,
	SC_KEYS_FOR, SC_EACH, SC_LIST_KEYS, SC_SEEN, SC_RECORDS, SC_N };
static const char *const sc_names[SC_N] = { "read_gl", "read_member",
	"list_members", "walk_members", "current_keys", "read_key_head",
	"shard_exists", "keys_for", "each_key_shard", "list_keys", "seen",
	"member records" };
static size_t sc[SC_N];
static struct skd_engine_state sc_real;

static int
sc_read_gl(void *c, struct skd_store_gl **o, const char *n)
{
	sc[SC_GL]++;
	return sc_real.read_gl(c, o, n);
}

static int
sc_read_member(void *c, struct skd_store_member **o, const char *gl,
    enum skd_store_role r, const char *n)
{
	int rc = sc_real.read_member(c, o, gl, r, n);

	sc[SC_MEMBER]++;
	sc[SC_RECORDS] += rc == 1;
	return rc;
}

static int
sc_list_members(void *c, struct skd_store_member **o, size_t *n,
    const char *gl, enum skd_store_role r)
{
	int rc = sc_real.list_members(c, o, n, gl, r);

	sc[SC_LIST]++;
	sc[SC_RECORDS] += rc ? *n : 0;
	return rc;
}

struct sc_walk {
	skd_store_page_cb	 cb;
	void			*arg;
};

static int
sc_page(void *arg, const struct skd_store_member *v, size_t n)
{
	struct sc_walk *w = arg;

	sc[SC_RECORDS] += n;
	return w->cb(w->arg, v, n);
}

static int
sc_walk_members(void *c, const char *gl, enum skd_store_role r, size_t page,
    skd_store_page_cb cb, void *arg)
{
	struct sc_walk w = { cb, arg };

	sc[SC_WALK]++;
	return sc_real.walk_members(c, gl, r, page, sc_page, &w);
}

static int
sc_current_keys(void *c, struct skd_store_glkey **o, size_t *n,
    const char *gl, time_t now)
{
	sc[SC_CURRENT]++;
	return sc_real.current_keys(c, o, n, gl, now);
}

static int
sc_read_key_head(void *c, struct skd_store_glkey **o, const char *gl,
    const char *k, int shard)
{
	sc[SC_HEAD]++;
	return sc_real.read_key_head(c, o, gl, k, shard);
}

static int
sc_shard_exists(void *c, const char *gl, const char *k, int shard)
{
	sc[SC_SHARD]++;
	return sc_real.shard_exists(c, gl, k, shard);
}

static int
sc_keys_for(void *c, struct skd_store_glkey **o, size_t *n, const char *gl,
    const char *r)
{
	sc[SC_KEYS_FOR]++;
	return sc_real.keys_for(c, o, n, gl, r);
}

static int
sc_each_key_shard(void *c, const char *gl, const char *k,
    skd_store_glkey_cb cb, void *arg)
{
	sc[SC_EACH]++;
	return sc_real.each_key_shard(c, gl, k, cb, arg);
}

static int
sc_list_keys(void *c, struct skd_store_glkey **o, size_t *n, const char *gl)
{
	sc[SC_LIST_KEYS]++;
	return sc_real.list_keys(c, o, n, gl);
}

static int
sc_seen(void *c, const char *k, time_t exp)
{
	sc[SC_SEEN]++;
	return sc_real.seen(c, k, exp);
}

/* Wraps f's state so that every call is counted in sc[]. */
static void
sc_wrap(struct te_fx *f)
{
	sc_real = f->st;
	f->st.read_gl = sc_read_gl;
	f->st.read_member = sc_read_member;
	f->st.list_members = sc_list_members;
	f->st.walk_members = sc_walk_members;
	f->st.current_keys = sc_current_keys;
	f->st.read_key_head = sc_read_key_head;
	f->st.shard_exists = sc_shard_exists;
	f->st.keys_for = sc_keys_for;
	f->st.each_key_shard = sc_each_key_shard;
	f->st.list_keys = sc_list_keys;
	f->st.seen = sc_seen;
}

/* n more members of TE_GL (m<i>, alice's certificate), straight into the
 * in-memory state. */
static void
add_filler(struct te_fx *f, size_t n)
{
	const struct skd_test_pki *pki = skd_test_pki_get();
	SKD_ENG_OUTCOME *o = SKD_ENG_OUTCOME_new();
	unsigned char *cert = NULL;
	char name[64];
	size_t i;
	int clen;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_gt(clen = i2d_X509(pki->id[W(ALICE)].cert, &cert), 0);
	for (i = 0; i < n; i++) {
		SKD_ENG_OP *op = SKD_ENG_OP_new();

		ck_assert_ptr_nonnull(op);
		snprintf(name, sizeof(name), "email:m%06zu@example.com", i);
		ck_assert(ASN1_INTEGER_set(op->type, SKD_OP_MEMBER_ADD));
		ck_assert(ASN1_STRING_set(op->glName, TE_GL, -1));
		ck_assert_ptr_nonnull(op->member = SKD_ENG_MEMBER_new());
		ck_assert(ASN1_STRING_set(op->member->name, name, -1));
		ck_assert_ptr_nonnull(op->member->cert =
		    ASN1_OCTET_STRING_new());
		ck_assert(ASN1_OCTET_STRING_set(op->member->cert, cert, clen));
		ck_assert(sk_SKD_ENG_OP_push(o->ops, op));
	}
	ck_assert(skd_engine_mem_apply(f->mem, o));
	ck_assert_uint_eq(skd_engine_mem_count(f->mem, TE_GL,
	    SKD_STORE_MEMBER), n + 2);
	SKD_ENG_OUTCOME_free(o);
	OPENSSL_free(cert);
}

/* The state calls of one glAddMember (bob, by glo1, a managed GL: bob
 * is added and sent the current key) on a GL of 2 + filler members. */
static void
count_add(size_t filler, size_t out[SC_N])
{
	struct te_fx f;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o;
	unsigned char *der;
	size_t len;

	te_fx_init(&f);
	make_prior(&f, P_MANAGED);
	add_filler(&f, filler);
	sc_wrap(&f);
	memset(sc, 0, sizeof(sc));
	b = te_body();
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(BOB), W(BOB));
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, OK, -1, -1);
	ck_assert_int_ge((int)skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT),
	    1);
	memcpy(out, sc, sizeof(sc));
	SKD_ENG_OUTCOME_free(o);
	fx_done(&f);
}

/*
 * A request reads what it names (docs/architecture.md): a glAddMember
 * makes the same state calls, and reads the same member records, on a GL
 * of 10 members as on one of 1,000.
 */
START_TEST(test_add_reads_what_it_names)
{
	size_t small[SC_N], large[SC_N];
	int i;

	count_add(8, small);
	count_add(998, large);
	for (i = 0; i < SC_N; i++)
		ck_assert_msg(small[i] == large[i], "%s: %zu calls at 10 "
		    "members, %zu at 1,000", sc_names[i], small[i], large[i]);
	/* The wrapper saw the request: the GL, bob, the current key. */
	ck_assert_uint_ge(large[SC_GL], 1);
	ck_assert_uint_ge(large[SC_MEMBER], 1);
	ck_assert_uint_ge(large[SC_CURRENT], 1);
	ck_assert_uint_eq(large[SC_WALK], 0);
	ck_assert_uint_eq(large[SC_LIST_KEYS], 0);
	ck_assert_uint_lt(large[SC_RECORDS], 10);
}
END_TEST

/* Decode once: a second rekey takes the members' certificates from the
 * cache, with the same recipients; cleared, or outside the window its
 * validation holds, it decodes and validates again. */
START_TEST(test_keycache)
{
	struct te_fx f;
	struct skd_engine_keycache *kc;
	SKD_ENG_OUTCOME *o;
	size_t hits, misses, n, i, k;

	te_fx_init(&f);
	make_prior(&f, P_UNMANAGED);
	ck_assert_ptr_null(skd_engine_keycache_new(0, 0));
	ck_assert_ptr_nonnull(kc = skd_engine_keycache_new(16, 0));
	f.cfg.keycache = kc;
	for (i = 0; i < 2; i++) {
		int a = 0, d = 0;

		ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
		for (k = 0; k < skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT);
		    k++) {
			const SKD_ENG_GLKEY *g = skd_engine_outcome_find(o,
			    SKD_OP_GLKEY_PUT, k)->glKey;

			a += names(g, W(ALICE));
			d += names(g, W(DAVE));
		}
		ck_assert_int_gt(a, 0);
		ck_assert_int_eq(a, d);
		ck_assert(skd_engine_mem_apply(f.mem, o));
		SKD_ENG_OUTCOME_free(o);
		skd_engine_keycache_stats(kc, &hits, &misses, &n);
		ck_assert_uint_eq(n, 2);
		ck_assert_uint_eq(hits, i == 0 ? 0 : 2);
		ck_assert_uint_eq(misses, 2);
		/* alice and dave, one CA: one issuer Name kept for both. */
		ck_assert_uint_eq(skd_engine_keycache_issuers(kc), 1);
	}
	/* Cleared (a reload): decoded again, the issuer Name kept, not
	 * copied again. */
	skd_engine_keycache_clear(kc);
	ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
	SKD_ENG_OUTCOME_free(o);
	skd_engine_keycache_stats(kc, &hits, &misses, &n);
	ck_assert_uint_eq(hits, 2);
	ck_assert_uint_eq(misses, 4);
	ck_assert_uint_eq(skd_engine_keycache_issuers(kc), 1);
	/* An hour and more later (the ttl): validated again. */
	f.env.now += SKD_ENGINE_KEYCACHE_TTL + 1;
	ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
	SKD_ENG_OUTCOME_free(o);
	skd_engine_keycache_stats(kc, &hits, &misses, &n);
	ck_assert_uint_eq(hits, 2);
	ck_assert_uint_eq(misses, 6);
	skd_engine_keycache_free(kc);
	skd_engine_keycache_free(NULL);
	ck_assert_uint_eq(skd_engine_keycache_issuers(NULL), 0);
	fx_done(&f);
}
END_TEST

/* The KEK o sends to who (the GLKEY_PUT naming who), opened with who's
 * private key, or NULL; freed with skd_ri_free_key. */
static unsigned char *
kek_sent_to(const SKD_ENG_OUTCOME *o, enum skd_test_who who, size_t *out_len)
{
	size_t k;

	for (k = 0; k < skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT); k++) {
		const SKD_ENG_GLKEY *g = skd_engine_outcome_find(o,
		    SKD_OP_GLKEY_PUT, k)->glKey;

		if (names(g, who))
			return open_glkey(g->message->data,
			    (size_t)g->message->length, who, out_len, NULL);
	}
	return NULL;
}

/* The cache keeps a key as its numbers and makes it again (keycache.c),
 * or keeps it made (warm): a rekey of members with RSA (ktri, PKCS #1
 * v1.5 and OAEP) and EC P-256 and P-384 (kari) keys, the second and third
 * from the cache, reaches every member with the KEK the GLA archived,
 * each opening it with its own private key (the RecipientInfo names its
 * certificate).  Loop: no key warm (every hit made from its numbers), two
 * of the four (both ways in one rekey), the default (all four). */
START_TEST(test_keycache_made_again)
{
	static const enum skd_test_who who[] = {
		SKD_TP_ALICE, SKD_TP_DAVE, SKD_TP_BOB, SKD_TP_CAROL
	};
	static const size_t warm[] = { 0, 2, SKD_ENGINE_KEYCACHE_WARM };
	struct te_fx f;
	struct skd_engine_keycache *kc;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o;
	unsigned char *der, *kek[4], *prev = NULL;
	size_t len, hits, misses, n, i, w, kl[4], prev_len = 0;

	te_fx_init(&f);
	make_prior(&f, P_UNMANAGED);
	for (i = 2; i < 4; i++) {
		b = te_body();
		te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, who[i], who[i]);
		der = te_seal(b, W(GLO1), TE_NOW + (time_t)i, 0, &len);
		o = te_fx_run(&f, der, len);
		expect(o, 0, OK, -1, -1);
		ck_assert(skd_engine_mem_apply(f.mem, o));
		SKD_ENG_OUTCOME_free(o);
	}
	ck_assert_ptr_nonnull(kc = skd_engine_keycache_new(16, 0));
	skd_engine_keycache_set_warm(kc, warm[_i]);
	f.cfg.keycache = kc;
	for (i = 0; i < 3; i++) {
		f.cfg.oaep = i == 2;
		ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
		for (w = 0; w < 4; w++) {
			ck_assert_msg((kek[w] = kek_sent_to(o, who[w],
			    &kl[w])) != NULL, "rekey %zu, member %zu", i, w);
			ck_assert(kl[w] == kl[0] &&
			    memcmp(kek[w], kek[0], kl[0]) == 0);
		}
		/* A new KEK each time. */
		ck_assert(prev == NULL || prev_len != kl[0] ||
		    memcmp(prev, kek[0], kl[0]) != 0);
		skd_ri_free_key(prev, prev_len);
		prev = kek[0];
		prev_len = kl[0];
		for (w = 1; w < 4; w++)
			skd_ri_free_key(kek[w], kl[w]);
		ck_assert(skd_engine_mem_apply(f.mem, o));
		SKD_ENG_OUTCOME_free(o);
		skd_engine_keycache_stats(kc, &hits, &misses, &n);
		ck_assert_uint_eq(n, 4);
		ck_assert_uint_eq(misses, 4);
		ck_assert_uint_eq(hits, 4 * i);
		ck_assert_uint_eq(skd_engine_keycache_warm(kc),
		    warm[_i] < 4 ? warm[_i] : 4);
	}
	/* Cleared: the warm keys go with their entries. */
	skd_engine_keycache_clear(kc);
	ck_assert_uint_eq(skd_engine_keycache_warm(kc), 0);
	skd_ri_free_key(prev, prev_len);
	skd_engine_keycache_free(kc);
	fx_done(&f);
}
END_TEST

/* The GL's current KEK, opened once from the GLA's archive: the second
 * glAddMember takes it from the cache, and both new members get the KEK
 * the archive holds.  The GL's certificate, decoded once, signs both
 * answers. */
START_TEST(test_kekcache)
{
	struct te_fx f;
	struct skd_engine_kekcache *kc;
	struct skd_engine_certcache *cc;
	struct skd_cmc_body *b;
	SKD_ENG_OUTCOME *o;
	unsigned char *der, *k1, *k2;
	size_t len, l1, l2, hits, misses, m1, ch, cm;

	te_fx_init(&f);
	make_prior(&f, P_MANAGED);
	ck_assert_ptr_null(skd_engine_kekcache_new(0));
	ck_assert_ptr_nonnull(kc = skd_engine_kekcache_new(4));
	f.cfg.kekcache = kc;
	ck_assert_ptr_null(skd_engine_certcache_new(0));
	ck_assert_ptr_nonnull(cc = skd_engine_certcache_new(4));
	f.cfg.certcache = cc;

	b = te_body();
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(BOB), W(BOB));
	der = te_seal(b, W(GLO1), TE_NOW, 0, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, OK, -1, -1);
	ck_assert_ptr_nonnull(k1 = kek_sent_to(o, W(BOB), &l1));
	ck_assert(skd_engine_mem_apply(f.mem, o));
	SKD_ENG_OUTCOME_free(o);
	/* Each valid key of the GL opened once (the fixture's GL has more
	 * than one). */
	skd_engine_kekcache_stats(kc, &hits, &misses);
	ck_assert_uint_eq(hits, 0);
	ck_assert_uint_ge(misses, 1);
	m1 = misses;
	skd_engine_certcache_stats(cc, &ch, &cm);
	ck_assert_uint_eq(cm, 1);
	ck_assert_uint_eq(ch, 0);

	b = te_body();
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(CAROL), W(CAROL));
	der = te_seal(b, W(GLO1), TE_NOW + 1, 0, &len);
	o = te_fx_run(&f, der, len);
	expect(o, 0, OK, -1, -1);
	ck_assert_ptr_nonnull(k2 = kek_sent_to(o, W(CAROL), &l2));
	SKD_ENG_OUTCOME_free(o);
	skd_engine_kekcache_stats(kc, &hits, &misses);
	ck_assert_uint_eq(hits, m1);
	ck_assert_uint_eq(misses, m1);
	ck_assert(l1 == l2 && memcmp(k1, k2, l1) == 0);
	skd_ri_free_key(k1, l1);
	skd_ri_free_key(k2, l2);
	skd_engine_certcache_stats(cc, &ch, &cm);
	ck_assert_uint_eq(cm, 1);
	ck_assert_uint_ge(ch, 1);

	skd_engine_certcache_free(cc);
	skd_engine_certcache_free(NULL);
	skd_engine_kekcache_clear(kc);
	skd_engine_kekcache_free(kc);
	skd_engine_kekcache_free(NULL);
	fx_done(&f);
}
END_TEST

/* A GL larger than the cache (two members, room for one): the member
 * kept stays, so every later rekey finds it (least recently used
 * eviction would find neither: each rekey asks for them in the order
 * that evicts the next one). */
START_TEST(test_keycache_larger_gl)
{
	struct te_fx f;
	struct skd_engine_keycache *kc;
	SKD_ENG_OUTCOME *o;
	size_t hits, misses, n, i;

	te_fx_init(&f);
	make_prior(&f, P_UNMANAGED);
	ck_assert_ptr_nonnull(kc = skd_engine_keycache_new(1, 0));
	f.cfg.keycache = kc;
	for (i = 0; i < 3; i++) {
		ck_assert(skd_engine_rekey(&o, &f.cfg, &f.env, &f.st, TE_GL));
		ck_assert(skd_engine_mem_apply(f.mem, o));
		SKD_ENG_OUTCOME_free(o);
	}
	skd_engine_keycache_stats(kc, &hits, &misses, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(hits, 2);
	ck_assert_uint_eq(misses, 4);
	skd_engine_keycache_free(kc);
	fx_done(&f);
}
END_TEST

Suite *
skd_suite_engine(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("table");

	tcase_add_unchecked_fixture(tc, priors_setup, priors_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_table, 0,
	    (int)(sizeof(rows) / sizeof(rows[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("flows");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_glkey_opens);
	tcase_add_test(tc, test_removed_member_not_recipient);
	tcase_add_test(tc, test_add_reads_what_it_names);
	tcase_add_test(tc, test_keycache);
	tcase_add_test(tc, test_kekcache);
	tcase_add_test(tc, test_keycache_larger_gl);
	tcase_add_loop_test(tc, test_keycache_made_again, 0, 3);
	tcase_add_test(tc, test_outcome_der);
	tcase_add_test(tc, test_response_echo);
	tcase_add_test(tc, test_encrypted_answer);
	tcase_add_test(tc, test_encrypted_answer_outer_signed);
	tcase_add_test(tc, test_forward_and_resubmit);
	tcase_add_test(tc, test_bad_time);
	tcase_add_test(tc, test_bad_signer);
	tcase_add_test(tc, test_replay);
	tcase_add_loop_test(tc, test_body_part_ids_unique, 0, 4);
	tcase_add_test(tc, test_tampered_and_garbage);
	tcase_add_test(tc, test_give_up);
	tcase_add_test(tc, test_gla_rekey);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_cms_sequence);
	tcase_add_test(tc, test_query_answer);
	tcase_add_test(tc, test_refresh_resends);
	tcase_add_test(tc, test_shards);
	tcase_add_test(tc, test_threads_same_outcome);
	tcase_add_test(tc, test_stream_threads_revoked);
	tcase_add_test(tc, test_concurrent_adds_distinct_shards);
	tcase_add_test(tc, test_member_ack);
	tcase_add_test(tc, test_member_ack_by_structure);
	tcase_add_test(tc, test_revoked_member_at_rekey);
	tcase_add_test(tc, test_gl_cert_renewed);
	tcase_add_test(tc, test_bad_inner_signature);
	tcase_add_test(tc, test_forward_encrypted);
	tcase_add_test(tc, test_unknown_oid);
	tcase_add_test(tc, test_kekri_rollover);
	tcase_add_test(tc, test_kekri_glo_rekey);
	tcase_add_test(tc, test_kekri_not_after_removal);
	suite_add_tcase(s, tc);
	return s;
}
