/*
 * test_client_review.c: a GLO's review of forwarded requests (src/client/
 * review.c, RFC 5275 3.2.3-3.2.5): a forwarded request is verified and
 * described, forgeries are refused, the denial is a signed failure that
 * answers the member's request (3.2.4.1), and a response entry is taken
 * apart (nested answers, glKey messages beside the answer); and a denial
 * sent through the GLA (RFC 5275 3.2.4.1) is checked by the engine and
 * passed on to the member unchanged, forgeries refused.
 */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "client/skd_client.h"
#include "cms/skd_cmc.h"
#include "skd_test.h"
#include "support/pki.h"
#include "test_engine_common.h"

#define GL	"URI:https://gla.example.com/"	/* named by the gla cert */

static void
pki_setup(void)
{
	(void)skd_test_pki_get();
}

static struct skd_client_ident
ident(enum skd_test_who who)
{
	struct skd_client_ident id;

	id.cert = skd_test_pki_id(who)->cert;
	id.key = skd_test_pki_id(who)->key;
	id.chain = NULL;
	return id;
}

/* alice's self-join (or, with use_kek, a glUseKEK she has no business
 * sending); *out_r keeps the nonce and transactionId. */
static unsigned char *
member_request(size_t *out_len, struct skd_client_request **out_r,
    int use_kek)
{
	struct skd_client_ident a = ident(SKD_TP_ALICE);
	struct skd_client_party me = { "email:alice@example.com", NULL,
	    NULL };
	struct skd_client_gl_params p = { GL, NULL, -1, 0, -1, -1, -1, -1 };
	struct skd_client_error e = { 0 };
	struct skd_client_request *r;
	unsigned char *der = NULL;
	void *v;

	me.cert = a.cert;
	r = skd_client_request_new(&e);
	ck_assert_ptr_nonnull(r);
	if (use_kek) {
		v = skd_client_new_use_kek(&p, &me, 1, &e);
		ck_assert_ptr_nonnull(v);
		ck_assert_int_gt(skd_client_request_add(r, SKD_OID_GL_USE_KEK,
		    v), 0);
		SKD_GL_USE_KEK_free(v);
	} else {
		v = skd_client_new_add_member(GL, &me, &e);
		ck_assert_ptr_nonnull(v);
		ck_assert_int_eq(skd_client_request_add(r,
		    SKD_OID_GL_ADD_MEMBER, v), 1);
		SKD_GL_ADD_MEMBER_free(v);
	}
	ck_assert_int_eq(skd_client_request_protect(&der, out_len, r, &a, NULL,
	    0, time(NULL), &e), 1);
	*out_r = r;
	return der;
}

/* The GLA's forwarding wrapper (3.2.3), signed by who; is_response makes
 * it a PKIResponse container instead. */
static unsigned char *
wrap_to(size_t *out_len, const unsigned char *inner, size_t inner_len,
    enum skd_test_who who, int is_response, X509 *encrypt_to);

static unsigned char *
wrap(size_t *out_len, const unsigned char *inner, size_t inner_len,
    enum skd_test_who who, int is_response)
{
	return wrap_to(out_len, inner, inner_len, who, is_response, NULL);
}

/* The same, encrypted for encrypt_to when not NULL (3.2.1.2). */
static unsigned char *
wrap_to(size_t *out_len, const unsigned char *inner, size_t inner_len,
    enum skd_test_who who, int is_response, X509 *encrypt_to)
{
	struct skd_cmc_body *b = skd_cmc_body_new(is_response);
	struct skd_cmc_protect p;
	unsigned char *body = NULL, *der = NULL, nonce[16] = { 1, 2, 3 };
	size_t body_len = 0;

	ck_assert_ptr_nonnull(b);
	if (!is_response)
		ck_assert_int_gt(skd_cmc_body_add_sender_nonce(b, nonce,
		    sizeof(nonce)), 0);
	ck_assert_int_gt(skd_cmc_body_add_cms(b, inner, inner_len), 0);
	ck_assert_int_eq(skd_cmc_body_encode(b, &body, &body_len), 1);
	memset(&p, 0, sizeof(p));
	p.signer = skd_test_pki_id(who)->cert;
	p.key = skd_test_pki_id(who)->key;
	p.signing_time = time(NULL);
	p.encrypt_to = encrypt_to;
	ck_assert_int_eq(skd_cmc_protect(&der, out_len, is_response, body,
	    body_len, &p), 1);
	OPENSSL_free(body);
	skd_cmc_body_free(b);
	return der;
}

START_TEST(test_forward_open_and_deny)
{
	struct skd_client_ident glo = ident(SKD_TP_GLO1);
	struct skd_client_error e = { 0 };
	struct skd_client_request *r = NULL;
	struct skd_client_forward *f = NULL;
	struct skd_client_response *resp = NULL;
	struct skd_client_expect x;
	X509_STORE *trust = skd_test_pki_store(1);
	unsigned char *req, *fw, *den = NULL;
	const unsigned char *nonce;
	size_t req_len, fw_len, den_len = 0, nonce_len;

	req = member_request(&req_len, &r, 0);
	fw = wrap(&fw_len, req, req_len, SKD_TP_GLA, 0);
	ck_assert_msg(skd_client_forward_open(&f, fw, fw_len, trust,
	    time(NULL), &glo, &e) == 1, "%s", e.msg);
	ck_assert_str_eq(f->gl_name, GL);
	ck_assert_int_eq((int)f->n_controls, 1);
	ck_assert_str_eq(f->controls[0], "glAddMember email:alice@example.com");
	ck_assert_int_eq((int)f->body_ids[0], 1);
	ck_assert_ptr_nonnull(strstr(f->signer, "CN=alice"));
	ck_assert_ptr_nonnull(strstr(f->gla_subject, "CN=gla"));
	nonce = skd_client_request_nonce(r, &nonce_len);
	ck_assert_int_eq((int)f->nonce_len, (int)nonce_len);
	ck_assert_int_eq(memcmp(f->nonce, nonce, nonce_len), 0);
	ck_assert_int_eq(ASN1_INTEGER_cmp(f->tid, skd_client_request_tid(r)),
	    0);
	/* Not encrypted: the approval resubmits the GLA's message. */
	ck_assert_int_eq(f->was_encrypted, 0);
	ck_assert_int_eq((int)f->resubmit_len, (int)fw_len);
	ck_assert_int_eq(memcmp(f->resubmit, fw, fw_len), 0);
	/* No reason, no denial. */
	ck_assert_int_eq(skd_client_denial_build(&den, &den_len, f, "", &glo,
	    time(NULL), &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_INPUT);
	/* 3.2.4.1: failed, the reason as statusString, the member's nonce
	 * and transactionId echoed, signed by the GLO. */
	ck_assert_int_eq(skd_client_denial_build(&den, &den_len, f,
	    "not on the team", &glo, time(NULL), &e), 1);
	memset(&x, 0, sizeof(x));
	x.trust = trust;
	x.now = time(NULL);
	x.nonce = nonce;
	x.nonce_len = nonce_len;
	x.tid = skd_client_request_tid(r);
	ck_assert_msg(skd_client_response_check(&resp, den, den_len, &x,
	    &e) == 1, "%s", e.msg);
	ck_assert_int_eq(X509_cmp(resp->gla_cert, glo.cert), 0);
	ck_assert_int_eq((int)resp->n_statuses, 1);
	ck_assert_int_eq((int)resp->statuses[0].status, SKD_CMC_FAILED);
	ck_assert_str_eq(resp->statuses[0].status_string, "not on the team");
	ck_assert_int_eq((int)resp->statuses[0].n_body, 1);
	ck_assert_int_eq((int)resp->statuses[0].body_list[0], 1);
	ck_assert_int_eq(skd_client_response_ok(resp), 0);
	skd_client_response_free(resp);
	resp = NULL;
	/* It answers alice's request only: another nonce is refused, and
	 * so is the GL-name check a GLA answer would get. */
	x.nonce = (const unsigned char *)"0123456789abcdef";
	ck_assert_int_eq(skd_client_response_check(&resp, den, den_len, &x,
	    &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_NONCE);
	x.nonce = nonce;
	x.gl_name = GL;
	ck_assert_int_eq(skd_client_response_check(&resp, den, den_len, &x,
	    &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_NAME);
	OPENSSL_free(den);
	skd_client_forward_free(f);
	OPENSSL_free(fw);
	OPENSSL_free(req);
	skd_client_request_free(r);
	X509_STORE_free(trust);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_forward_encrypted)
{
	struct skd_client_ident glo = ident(SKD_TP_GLO1);
	struct skd_client_error e = { 0 };
	struct skd_client_request *r = NULL;
	struct skd_client_forward *f = NULL;
	X509_STORE *trust = skd_test_pki_store(1);
	unsigned char *req, *fw;
	size_t req_len, fw_len;

	req = member_request(&req_len, &r, 0);
	fw = wrap_to(&fw_len, req, req_len, SKD_TP_GLA, 0, glo.cert);
	/* Only the GLO it was encrypted for opens it ... */
	ck_assert_int_eq(skd_client_forward_open(&f, fw, fw_len, trust,
	    time(NULL), NULL, &e), 0);
	ck_assert_int_eq(skd_client_forward_open(&f, fw, fw_len, trust,
	    time(NULL), &glo, &e), 1);
	/* ... and the approval carries the member's request itself, which
	 * the GLA can read (it cannot open what was encrypted for us). */
	ck_assert_int_eq(f->was_encrypted, 1);
	ck_assert_int_eq((int)f->resubmit_len, (int)req_len);
	ck_assert_int_eq(memcmp(f->resubmit, req, req_len), 0);
	ck_assert_str_eq(f->controls[0], "glAddMember email:alice@example.com");
	skd_client_forward_free(f);
	OPENSSL_free(fw);
	OPENSSL_free(req);
	skd_client_request_free(r);
	X509_STORE_free(trust);
	ERR_clear_error();
}
END_TEST

START_TEST(test_forward_refused)
{
	struct skd_client_ident glo = ident(SKD_TP_GLO1);
	struct skd_client_error e = { 0 };
	struct skd_client_request *r = NULL, *r2 = NULL;
	struct skd_client_forward *f = NULL;
	X509_STORE *trust = skd_test_pki_store(1);
	unsigned char *req, *kek, *fw;
	size_t req_len, kek_len, fw_len;

	req = member_request(&req_len, &r, 0);
	/* The member's request itself is not a forwarded request. */
	ck_assert_int_eq(skd_client_forward_open(&f, req, req_len, trust,
	    time(NULL), &glo, &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_INPUT);
	/* 3.2.6: wrapped by someone whose certificate does not name the GL
	 * (glo2 posing as the GLA). */
	fw = wrap(&fw_len, req, req_len, SKD_TP_GLO2, 0);
	ck_assert_int_eq(skd_client_forward_open(&f, fw, fw_len, trust,
	    time(NULL), &glo, &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_NAME);
	OPENSSL_free(fw);
	/* Wrapped by a certificate that does not validate. */
	fw = wrap(&fw_len, req, req_len, SKD_TP_STRANGER, 0);
	ck_assert_int_eq(skd_client_forward_open(&f, fw, fw_len, trust,
	    time(NULL), &glo, &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_CRYPTO);
	OPENSSL_free(fw);
	/* A GLO-only control is not something the GLA forwards. */
	kek = member_request(&kek_len, &r2, 1);
	fw = wrap(&fw_len, kek, kek_len, SKD_TP_GLA, 0);
	ck_assert_int_eq(skd_client_forward_open(&f, fw, fw_len, trust,
	    time(NULL), &glo, &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_INPUT);
	ck_assert_ptr_null(f);
	OPENSSL_free(fw);
	OPENSSL_free(kek);
	OPENSSL_free(req);
	skd_client_request_free(r);
	skd_client_request_free(r2);
	X509_STORE_free(trust);
	ERR_clear_error();
}
END_TEST

START_TEST(test_response_items)
{
	struct skd_client_error e = { 0 };
	struct skd_client_request *r = NULL;
	struct skd_store_blob *items = NULL;
	unsigned char *req, *inner, *outer, nonce[4] = { 9, 9, 9, 9 };
	size_t req_len, inner_len, outer_len, n = 0;
	struct skd_cmc_body *b;
	struct skd_cmc_protect p;
	unsigned char *body = NULL;
	size_t body_len = 0;
	long one = 1;

	/* A request (e.g. a glKey message) is told apart from an answer. */
	req = member_request(&req_len, &r, 0);
	ck_assert_int_eq(skd_client_message_is_request(req, req_len, NULL), 1);
	/* An answer nested in a container answer (3.2.2, 3.2.5). */
	b = skd_cmc_body_new(1);
	ck_assert_int_gt(skd_cmc_body_add_status(b, SKD_CMC_SUCCESS, &one, 1,
	    NULL, -1, -1), 0);
	ck_assert_int_gt(skd_cmc_body_add_recipient_nonce(b, nonce,
	    sizeof(nonce)), 0);
	ck_assert_int_eq(skd_cmc_body_encode(b, &body, &body_len), 1);
	memset(&p, 0, sizeof(p));
	p.signer = skd_test_pki_id(SKD_TP_GLA)->cert;
	p.key = skd_test_pki_id(SKD_TP_GLA)->key;
	p.signing_time = time(NULL);
	ck_assert_int_eq(skd_cmc_protect(&inner, &inner_len, 1, body, body_len,
	    &p), 1);
	outer = wrap(&outer_len, inner, inner_len, SKD_TP_GLA, 1);
	ck_assert_int_eq(skd_client_message_is_request(outer, outer_len,
	    NULL), 0);
	ck_assert_int_eq(skd_client_response_items(&items, &n, outer,
	    outer_len, NULL, &e), 1);
	ck_assert_int_eq((int)n, 1);
	ck_assert_int_eq((int)items[0].len, (int)inner_len);
	ck_assert_int_eq(memcmp(items[0].data, inner, inner_len), 0);
	skd_client_items_free(items, n);
	/* A plain answer has no items. */
	ck_assert_int_eq(skd_client_response_items(&items, &n, inner,
	    inner_len, NULL, &e), 1);
	ck_assert_int_eq((int)n, 0);
	/* Garbage is not taken apart. */
	ck_assert_int_eq(skd_client_response_items(&items, &n, nonce,
	    sizeof(nonce), NULL, &e), 0);
	ck_assert_int_eq(skd_client_message_is_request(nonce, sizeof(nonce),
	    NULL), 0);
	OPENSSL_free(outer);
	OPENSSL_free(inner);
	OPENSSL_free(body);
	skd_cmc_body_free(b);
	OPENSSL_free(req);
	skd_client_request_free(r);
	ERR_clear_error();
}
END_TEST

/* ---- a denial through the GLA (engine and client together) ---- */

static void
dexpect(const SKD_ENG_OUTCOME *o, long st, long cmc)
{
	long s, c, k;

	const SKD_ENG_RESULT *r = sk_SKD_ENG_RESULT_value(o->results, 0);

	ck_assert(skd_engine_outcome_result(o, 0, &s, &c, &k));
	ck_assert_msg(s == st && c == cmc, "status %ld cmc %ld, want %ld %ld: "
	    "%s", s, c, st, cmc, r != NULL && r->text != NULL ?
	    (const char *)r->text->data : "");
}

/* The GLO's PKIData holding fw and den, signed by who at t. */
static unsigned char *
denial_msg(size_t *out_len, const unsigned char *fw, size_t fw_len,
    const unsigned char *den, size_t den_len, enum skd_test_who who,
    time_t t)
{
	struct skd_cmc_body *b = te_body();

	ck_assert_int_gt(skd_cmc_body_add_cms(b, fw, fw_len), 0);
	ck_assert_int_gt(skd_cmc_body_add_cms(b, den, den_len), 0);
	return te_seal(b, who, t, 0, out_len);
}

/* A refused denial: failed badRequest to the GLO, nothing to the member,
 * no change to the GL. */
static void
refused(struct te_fx *f, unsigned char *der, size_t len, const char *why)
{
	SKD_ENG_OUTCOME *o = te_fx_run(f, der, len);
	const SKD_ENG_RESULT *r = sk_SKD_ENG_RESULT_value(o->results, 0);

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(r->text);
	ck_assert_msg(strstr((const char *)r->text->data, why) != NULL,
	    "refused for \"%s\", not \"%s\"", r->text->data, why);
	dexpect(o, SKD_CMC_FAILED, SKD_CMC_BAD_REQUEST);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_MESSAGE), 0);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_RESPONSE), 1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GL_UPDATE), 0);
	SKD_ENG_OUTCOME_free(o);
}

START_TEST(test_denial_through_gla)
{
	struct skd_client_ident glo1 = ident(SKD_TP_GLO1);
	struct skd_client_ident glo2 = ident(SKD_TP_GLO2);
	struct skd_client_error e = { 0 };
	struct skd_client_request *r = NULL;
	struct skd_client_forward *f = NULL;
	struct skd_client_response *resp = NULL;
	struct skd_client_expect x;
	struct skd_cmc_body *b;
	struct te_fx fx;
	SKD_ENG_OUTCOME *o;
	const SKD_ENG_OP *op;
	const ASN1_OCTET_STRING *m;
	unsigned char *der, *fw, *bobreq, *den = NULL, *fake, *again;
	size_t len, fw_len, bobreq_len, den_len = 0, fake_len, i;
	char bob[128];
	int named = 0;

	te_fx_init(&fx);
	/* A managed GL owned by glo1 with alice. */
	b = te_body();
	te_use_kek(b, TE_GL, SKD_TP_GLO1, SKD_GL_MANAGED, NID_undef, -1, -1,
	    0);
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, SKD_TP_ALICE,
	    SKD_TP_ALICE);
	der = te_seal(b, SKD_TP_GLO1, TE_NOW - 100, 0, &len);
	SKD_ENG_OUTCOME_free(te_fx_run(&fx, der, len));
	/* bob asks to join: forwarded to glo1 (3.2.3). */
	b = te_body();
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, SKD_TP_BOB, SKD_TP_BOB);
	bobreq = te_seal(b, SKD_TP_BOB, TE_NOW - 50, 0, &bobreq_len);
	o = te_fx_run(&fx, OPENSSL_memdup(bobreq, bobreq_len), bobreq_len);
	ck_assert_ptr_nonnull(op = skd_engine_outcome_find(o, SKD_OP_MESSAGE,
	    0));
	m = sk_ASN1_OCTET_STRING_value(op->publish->messages, 0);
	fw_len = (size_t)m->length;
	fw = OPENSSL_memdup(m->data, fw_len);
	SKD_ENG_OUTCOME_free(o);
	ck_assert_msg(skd_client_forward_open(&f, fw, fw_len, fx.cfg.trust,
	    TE_NOW, &glo1, &e) == 1, "%s", e.msg);

	/* glo2 owns nothing here: refused. */
	ck_assert_msg(skd_client_denial_request(&r, f, "no", &glo2, TE_NOW,
	    &e) == 1, "%s", e.msg);
	ck_assert_int_eq(skd_client_request_protect(&der, &len, r, &glo2, NULL,
	    0, TE_NOW, &e), 1);
	skd_client_request_free(r);
	r = NULL;
	refused(&fx, der, len, "not a GLO of the GL");
	/* glo1 sends a denial signed by glo2: refused. */
	ck_assert_int_eq(skd_client_denial_build(&den, &den_len, f, "no",
	    &glo2, TE_NOW + 1, &e), 1);
	der = denial_msg(&len, fw, fw_len, den, den_len, SKD_TP_GLO1,
	    TE_NOW + 1);
	refused(&fx, der, len, "not signed by the GLO who sends it");
	OPENSSL_free(den);
	den = NULL;
	/* A "forward" glo1 made himself: refused. */
	ck_assert_int_eq(skd_client_denial_build(&den, &den_len, f, "no",
	    &glo1, TE_NOW + 2, &e), 1);
	b = skd_cmc_body_new(0);
	ck_assert_int_gt(skd_cmc_body_add_cms(b, bobreq, bobreq_len), 0);
	fake = te_seal(b, SKD_TP_GLO1, TE_NOW + 2, 0, &fake_len);
	der = denial_msg(&len, fake, fake_len, den, den_len,
	    SKD_TP_GLO1, TE_NOW + 2);
	refused(&fx, der, len, "not a request the GLA");
	OPENSSL_free(fake);
	/* A denial that does not echo bob's nonce: refused. */
	OPENSSL_free(den);
	den = NULL;
	f->nonce[0] ^= 1;
	ck_assert_int_eq(skd_client_denial_build(&den, &den_len, f, "no",
	    &glo1, TE_NOW + 3, &e), 1);
	f->nonce[0] ^= 1;
	der = denial_msg(&len, fw, fw_len, den, den_len, SKD_TP_GLO1,
	    TE_NOW + 3);
	refused(&fx, der, len, "does not echo");
	OPENSSL_free(den);
	den = NULL;

	/* glo1's denial: passed on to bob unchanged; the GL is untouched. */
	ck_assert_int_eq(skd_client_denial_request(&r, f, "not on the team",
	    &glo1, TE_NOW + 4, &e), 1);
	ck_assert_int_eq(skd_client_request_protect(&der, &len, r, &glo1, NULL,
	    0, TE_NOW + 4, &e), 1);
	again = OPENSSL_memdup(der, len);
	o = te_fx_run(&fx, der, len);
	dexpect(o, SKD_CMC_SUCCESS, -1);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GL_UPDATE), 0);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_MEMBER_ADD),
	    0);
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT), 0);
	ck_assert_int_eq((int)skd_engine_mem_count(fx.mem, TE_GL,
	    SKD_STORE_MEMBER), 1);
	ck_assert_ptr_nonnull(op = skd_engine_outcome_find(o, SKD_OP_MESSAGE,
	    0));
	ck_assert_int_eq((int)ASN1_INTEGER_get(op->publish->kind),
	    SKD_MSG_RESPONSE);
	te_who_text(bob, sizeof(bob), SKD_TP_BOB);
	for (i = 0; i < (size_t)sk_ASN1_UTF8STRING_num(op->publish->recipients);
	    i++)
		named |= strcmp((char *)sk_ASN1_UTF8STRING_value(
		    op->publish->recipients, (int)i)->data, bob) == 0;
	ck_assert_msg(named, "the denial is not addressed to %s", bob);
	/* bob checks it: glo1's signature, failed, his nonce echoed. */
	m = sk_ASN1_OCTET_STRING_value(op->publish->messages, 0);
	memset(&x, 0, sizeof(x));
	x.trust = fx.cfg.trust;
	x.now = TE_NOW + 5;
	x.nonce = te_nonce;
	x.nonce_len = sizeof(te_nonce);
	ck_assert_msg(skd_client_response_check(&resp, m->data,
	    (size_t)m->length, &x, &e) == 1, "%s", e.msg);
	ck_assert_int_eq(X509_cmp(resp->gla_cert, glo1.cert), 0);
	ck_assert_int_eq((int)resp->statuses[0].status, SKD_CMC_FAILED);
	ck_assert_str_eq(resp->statuses[0].status_string, "not on the team");
	skd_client_response_free(resp);
	SKD_ENG_OUTCOME_free(o);
	/* The same denial again is a replay (3.2.4.3). */
	refused(&fx, again, len, "replayed");

	skd_client_request_free(r);
	skd_client_forward_free(f);
	OPENSSL_free(fw);
	OPENSSL_free(bobreq);
	te_fx_free(&fx);
	ERR_clear_error();
}
END_TEST

Suite *
skd_suite_client_review(void)
{
	Suite *s = suite_create("client_review");
	TCase *tc = tcase_create("review");

	tcase_add_unchecked_fixture(tc, pki_setup, NULL);
	tcase_add_test(tc, test_forward_open_and_deny);
	tcase_add_test(tc, test_forward_encrypted);
	tcase_add_test(tc, test_forward_refused);
	tcase_add_test(tc, test_response_items);
	tcase_add_test(tc, test_denial_through_gla);
	suite_add_tcase(s, tc);
	return s;
}
