/*
 * test_client.c: the GLO and member client library (src/client): every
 * request type round-trips through the layer walker and the asn1
 * decoders; responses are refused when the GLA's certificate does not name
 * the GL or the nonce is wrong; glKey messages unwrap for RSA and EC
 * members; the key store keeps its mode and the GLA binding of RFC 5275
 * section 8; acknowledgements and KEK content encryption.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "client/skd_client.h"
#include "cms/skd_cmc.h"
#include "cms/skd_layers.h"
#include "cms/skd_recip.h"
#include "skd_test.h"
#include "support/ks.h"
#include "support/pki.h"

/* 2030-01-01T00:00:00Z: inside every test certificate's validity. */
#define T_NOW	((time_t)1893456000)
#define GL	"URI:https://gla.example.com/"

typedef STACK_OF(ASN1_TYPE) TEST_RI_SET;
ASN1_ITEM_TEMPLATE(TEST_RI_SET) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_OF, 0, RecipientInfos, ASN1_ANY)
static_ASN1_ITEM_TEMPLATE_END(TEST_RI_SET)

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

static const struct skd_layer *
find_layer(const struct skd_layers *l, enum skd_layer_type t)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (l->v[i].type == t)
			return &l->v[i];
	}
	return NULL;
}

/* Decodes the first value of control oid in seq as its table type. */
static void *
decode_control(const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq, enum skd_oid oid)
{
	const SKD_TAGGED_ATTRIBUTE *ta = skd_cmc_find_control(seq, oid, 0);
	const struct skd_control *c = skd_control_by_nid(skd_asn1_nid(oid));

	ck_assert_ptr_nonnull(ta);
	ck_assert_ptr_nonnull(c);
	return skd_tagged_attribute_decode1(ta, 0, ASN1_ITEM_ptr(c->item));
}

static void
assert_gname(const GENERAL_NAME *gn, const char *text)
{
	char *t = skd_gname_to_text(gn);

	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t, text);
	OPENSSL_free(t);
}

/* ---- requests ---- */

enum req_kind {
	RK_USE_KEK, RK_DELETE, RK_ADD_MEMBER, RK_DELETE_MEMBER, RK_REKEY,
	RK_ADD_OWNER, RK_REMOVE_OWNER, RK_COMPROMISE, RK_REFRESH, RK_QUERY,
	RK_MANAGE_CERT, RK_COUNT
};

static const enum skd_oid req_oid[RK_COUNT] = {
	SKD_OID_GL_USE_KEK, SKD_OID_GL_DELETE, SKD_OID_GL_ADD_MEMBER,
	SKD_OID_GL_DELETE_MEMBER, SKD_OID_GL_REKEY, SKD_OID_GL_ADD_OWNER,
	SKD_OID_GL_REMOVE_OWNER, SKD_OID_GL_KEY_COMPROMISE,
	SKD_OID_GL_KEY_REFRESH, SKD_OID_GLA_QUERY_REQUEST,
	SKD_OID_GL_MANAGE_CERT
};

static void *
build_value(enum req_kind k, const ASN1_ITEM **out_it)
{
	struct skd_client_error e = { 0 };
	struct skd_client_gl_params p = { GL, "email:list@example.com",
	    SKD_GL_CLOSED, NID_id_aes256_wrap, 30, 3, 1, 0 };
	struct skd_client_party owner = { "email:glo1@example.com", NULL,
	    skd_test_pki_id(SKD_TP_GLO1)->cert };
	struct skd_client_party alice = { "email:alice@example.com",
	    "email:alice@example.com", skd_test_pki_id(SKD_TP_ALICE)->cert };
	void *v = NULL;

	switch (k) {
	case RK_USE_KEK:
		v = skd_client_new_use_kek(&p, &owner, 1, &e);
		*out_it = ASN1_ITEM_rptr(SKD_GL_USE_KEK);
		break;
	case RK_DELETE:
	case RK_COMPROMISE:
		v = skd_client_new_gname(GL, &e);
		*out_it = ASN1_ITEM_rptr(GENERAL_NAME);
		break;
	case RK_ADD_MEMBER:
		v = skd_client_new_add_member(GL, &alice, &e);
		*out_it = ASN1_ITEM_rptr(SKD_GL_ADD_MEMBER);
		break;
	case RK_DELETE_MEMBER:
		v = skd_client_new_delete_member(GL, "email:alice@example.com",
		    &e);
		*out_it = ASN1_ITEM_rptr(SKD_GL_DELETE_MEMBER);
		break;
	case RK_REKEY:
		p.generations = -1;
		p.rekey_by_glo = -1;
		p.not_mutually_aware = -1;
		v = skd_client_new_rekey(GL, &p, 1, &e);
		*out_it = ASN1_ITEM_rptr(SKD_GL_REKEY);
		break;
	case RK_ADD_OWNER:
	case RK_REMOVE_OWNER:
		v = skd_client_new_owner_admin(GL, &owner, &e);
		*out_it = ASN1_ITEM_rptr(SKD_GL_OWNER_ADMINISTRATION);
		break;
	case RK_REFRESH:
		v = skd_client_new_refresh(GL, T_NOW - 86400, T_NOW, &e);
		*out_it = ASN1_ITEM_rptr(SKD_GL_KREFRESH);
		break;
	case RK_QUERY:
		v = skd_client_new_alg_query(&e);
		*out_it = ASN1_ITEM_rptr(SKD_GLA_QUERY_REQUEST);
		break;
	case RK_MANAGE_CERT:
		v = skd_client_new_manage_cert(GL, &alice, &e);
		*out_it = ASN1_ITEM_rptr(SKD_GL_MANAGE_CERT);
		break;
	default:
		break;
	}
	ck_assert_msg(v != NULL, "build %d: %s", k, e.msg);
	return v;
}

/* What the GLA would decode matches what we built. */
static void
check_value(enum req_kind k, void *v)
{
	SKD_GL_USE_KEK *u;
	SKD_GL_ADD_MEMBER *am;
	SKD_GL_DELETE_MEMBER *dm;
	SKD_GL_REKEY *rk;
	SKD_GL_OWNER_ADMINISTRATION *oa;
	SKD_GL_KREFRESH *rf;
	SKD_GLA_QUERY_REQUEST *q;

	switch (k) {
	case RK_USE_KEK:
		u = v;
		assert_gname(u->glInfo->glName, GL);
		assert_gname(u->glInfo->glAddress, "email:list@example.com");
		ck_assert_int_eq(sk_SKD_GL_OWNER_INFO_num(u->glOwnerInfo), 1);
		assert_gname(sk_SKD_GL_OWNER_INFO_value(u->glOwnerInfo,
		    0)->glOwnerName, "email:glo1@example.com");
		ck_assert_int_eq(X509_cmp(sk_SKD_GL_OWNER_INFO_value(
		    u->glOwnerInfo, 0)->certificates->pKC,
		    skd_test_pki_id(SKD_TP_GLO1)->cert), 0);
		ck_assert_int_eq(skd_glusekek_get_admin(u), SKD_GL_CLOSED);
		ck_assert_int_eq(skd_glkeyattrs_get_alg_nid(
		    u->glKeyAttributes), NID_id_aes256_wrap);
		ck_assert_int_eq(skd_glkeyattrs_get_duration(
		    u->glKeyAttributes), 30);
		ck_assert_int_eq(skd_glkeyattrs_get_generation_counter(
		    u->glKeyAttributes), 3);
		ck_assert_int_eq(skd_glkeyattrs_get_rekey_by_glo(
		    u->glKeyAttributes), 1);
		ck_assert_int_eq(skd_glkeyattrs_get_not_mutually_aware(
		    u->glKeyAttributes), 0);
		break;
	case RK_DELETE:
	case RK_COMPROMISE:
		assert_gname(v, GL);
		break;
	case RK_ADD_MEMBER:
	case RK_MANAGE_CERT:
		am = v;
		assert_gname(am->glName, GL);
		assert_gname(am->glMember->glMemberName,
		    "email:alice@example.com");
		ck_assert_int_eq(X509_cmp(am->glMember->certificates->pKC,
		    skd_test_pki_id(SKD_TP_ALICE)->cert), 0);
		break;
	case RK_DELETE_MEMBER:
		dm = v;
		assert_gname(dm->glName, GL);
		assert_gname(dm->glMemberToDelete, "email:alice@example.com");
		break;
	case RK_REKEY:
		rk = v;
		assert_gname(rk->glName, GL);
		ck_assert_int_eq(ASN1_INTEGER_get(rk->glAdministration),
		    SKD_GL_CLOSED);
		ck_assert_int_eq(skd_asn1_opt_bool_get(rk->glRekeyAllGLKeys),
		    1);
		ck_assert_ptr_nonnull(rk->glNewKeyAttributes);
		ck_assert_int_eq(ASN1_INTEGER_get(
		    rk->glNewKeyAttributes->duration), 30);
		ck_assert_ptr_null(rk->glNewKeyAttributes->generationCounter);
		ck_assert_int_eq(skd_asn1_opt_bool_get(
		    rk->glNewKeyAttributes->rekeyControlledByGLO), -1);
		break;
	case RK_ADD_OWNER:
	case RK_REMOVE_OWNER:
		oa = v;
		assert_gname(oa->glName, GL);
		assert_gname(oa->glOwnerInfo->glOwnerName,
		    "email:glo1@example.com");
		assert_gname(oa->glOwnerInfo->glOwnerAddress,
		    "email:glo1@example.com");
		break;
	case RK_REFRESH:
		rf = v;
		assert_gname(rf->glName, GL);
		ck_assert_int_eq(sk_SKD_DATE_num(rf->dates), 1);
		ck_assert_ptr_nonnull(sk_SKD_DATE_value(rf->dates, 0)->end);
		break;
	case RK_QUERY:
		q = v;
		ck_assert_int_eq(OBJ_obj2nid(q->type),
		    skd_asn1_nid(SKD_OID_GLA_SKD_ALG_REQUEST));
		ck_assert_int_eq(q->value->type, V_ASN1_NULL);
		break;
	default:
		ck_abort();
	}
}

/* _i: request kind; odd runs also encrypt to the GLA and sign again. */
START_TEST(test_request_roundtrip)
{
	enum req_kind k = (enum req_kind)(_i / 2);
	int encrypt = _i % 2;
	struct skd_client_ident glo = ident(SKD_TP_GLO1);
	struct skd_client_ident gla = ident(SKD_TP_GLA);
	struct skd_client_error e = { 0 };
	struct skd_client_request *r;
	struct skd_layers *l = NULL;
	struct skd_layers_opts o = { 0 };
	struct skd_cms_opener op = { 0 };
	const struct skd_layer *body, *sig;
	const ASN1_ITEM *it = NULL;
	unsigned char *der = NULL, *nonce = NULL;
	const unsigned char *mine;
	size_t len = 0, nlen = 0, mlen = 0;
	void *v, *back;
	long bpid;

	v = build_value(k, &it);
	ck_assert_ptr_nonnull(r = skd_client_request_new(&e));
	ck_assert_int_gt(bpid = skd_client_request_add(r, req_oid[k], v), 0);
	ASN1_item_free(v, it);
	ck_assert_msg(skd_client_request_protect(&der, &len, r, &glo,
	    encrypt ? gla.cert : NULL, 1, T_NOW, &e), "%s", e.msg);

	o.trust = skd_test_pki_store(0);
	o.now = T_NOW;
	op.cert = gla.cert;
	op.key = gla.key;
	o.opener = &op;
	ck_assert_int_eq(skd_layers_walk(&l, der, len, &o), 1);
	ck_assert_int_eq(l->v[0].type, encrypt ? SKD_LAYER_SIGNED :
	    SKD_LAYER_SIGNED);
	if (encrypt)
		ck_assert_ptr_nonnull(find_layer(l, SKD_LAYER_ENVELOPED));
	ck_assert_ptr_nonnull(body = find_layer(l, SKD_LAYER_PKI_DATA));
	sig = &l->v[body->parent];
	ck_assert_int_eq(sig->type, SKD_LAYER_SIGNED);
	ck_assert_int_eq(sig->verified->path, SKD_CMS_PATH_OK);
	ck_assert_int_eq(X509_cmp(sig->verified->signer, glo.cert), 0);
	ck_assert_int_eq(sig->verified->signing_time, T_NOW);
	back = decode_control(body->pki_data->controlSequence, req_oid[k]);
	ck_assert_ptr_nonnull(back);
	check_value(k, back);
	ASN1_item_free(back, it);
	ck_assert_int_eq(ASN1_INTEGER_get(sk_SKD_TAGGED_ATTRIBUTE_value(
	    body->pki_data->controlSequence, 0)->bodyPartID), bpid);
	/* transactionId and the remembered senderNonce */
	ck_assert_int_eq(skd_cmc_get_nonce(body->pki_data->controlSequence,
	    SKD_OID_CMC_SENDER_NONCE, &nonce, &nlen), 1);
	mine = skd_client_request_nonce(r, &mlen);
	ck_assert_uint_eq(nlen, mlen);
	ck_assert_mem_eq(nonce, mine, nlen);
	back = decode_control(body->pki_data->controlSequence,
	    SKD_OID_CMC_TRANSACTION_ID);
	ck_assert_int_eq(ASN1_INTEGER_cmp(back, skd_client_request_tid(r)), 0);
	ASN1_INTEGER_free(back);

	OPENSSL_free(nonce);
	skd_layers_free(l);
	X509_STORE_free(o.trust);
	OPENSSL_free(der);
	skd_client_request_free(r);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_request_bad_input)
{
	struct skd_client_error e = { 0 };
	struct skd_client_gl_params p = { GL, NULL, -1, 0, -1, 1, -1, -1 };
	struct skd_client_party owner = { "email:glo1@example.com", NULL,
	    NULL };

	ck_assert_ptr_null(skd_client_new_gname("mail:x@y", &e));
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "mail:x@y"));
	/* generationCounter must be at least 2 (RFC 5275 3.1.1) */
	ck_assert_ptr_null(skd_client_new_use_kek(&p, &owner, 1, &e));
	p.generations = -1;
	ck_assert_ptr_null(skd_client_new_use_kek(&p, &owner, 0, &e));
	ck_assert_ptr_null(skd_client_new_delete_member(GL, "bogus", &e));
	ck_assert_ptr_null(skd_client_new_refresh(GL, T_NOW, T_NOW - 1, &e));
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_ident_load)
{
	const struct skd_test_ident *alice = skd_test_pki_id(SKD_TP_ALICE);
	const struct skd_test_ident *bob = skd_test_pki_id(SKD_TP_BOB);
	struct skd_client_error e = { 0 };
	struct skd_client_ident *id;

	id = skd_client_ident_load(alice->cert_path, alice->key_path, &e);
	ck_assert_msg(id != NULL, "%s", e.msg);
	ck_assert_int_eq(X509_cmp(id->cert, alice->cert), 0);
	skd_client_ident_free(id);
	ck_assert_ptr_null(skd_client_ident_load(alice->cert_path,
	    bob->key_path, &e));
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_KEY_MISMATCH);
	ck_assert_ptr_null(skd_client_ident_load("/nonexistent/x.crt",
	    alice->key_path, &e));
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_INPUT);
	ck_assert_ptr_null(skd_client_ident_load(alice->cert_path,
	    alice->cert_path, &e));
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_INPUT);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* ---- responses ---- */

struct resp_spec {
	enum skd_test_who	 signer;
	const unsigned char	*nonce;
	size_t			 nonce_len;
	const ASN1_INTEGER	*tid;
	enum skd_cmc_status	 status;
	int			 cmc_fail;
	int			 skd_fail;
	int			 algs;		/* add a glaQueryResponse */
	X509			*encrypt_to;
};

/* A response as the GLA builds it (RFC 5275 3.2.4, 4.x). */
static unsigned char *
make_response(size_t *out_len, const struct resp_spec *s)
{
	struct skd_cmc_body *b = skd_cmc_body_new(1);
	struct skd_cmc_protect p = { 0 };
	unsigned char *body = NULL, *der = NULL;
	size_t body_len = 0;
	long one = 1;

	ck_assert_ptr_nonnull(b);
	ck_assert_int_gt(skd_cmc_body_add_status(b, s->status, &one, 1,
	    "from the GLA", s->cmc_fail, s->skd_fail), 0);
	if (s->nonce != NULL)
		ck_assert_int_gt(skd_cmc_body_add_recipient_nonce(b, s->nonce,
		    s->nonce_len), 0);
	if (s->tid != NULL)
		ck_assert_int_gt(skd_cmc_body_add_transaction_id(b, s->tid),
		    0);
	if (s->algs) {
		SKD_GLA_QUERY_RESPONSE *q = SKD_GLA_QUERY_RESPONSE_new();
		X509_ALGORS *algs = sk_X509_ALGOR_new_null();
		X509_ALGOR *a = X509_ALGOR_new(), *c = X509_ALGOR_new();
		unsigned char *adr = NULL;
		int alen;
		ASN1_STRING *seq = ASN1_STRING_new();

		X509_ALGOR_set0(a, OBJ_nid2obj(NID_id_aes128_wrap),
		    V_ASN1_UNDEF, NULL);
		X509_ALGOR_set0(c, OBJ_nid2obj(NID_id_aes256_wrap),
		    V_ASN1_UNDEF, NULL);
		sk_X509_ALGOR_push(algs, a);
		sk_X509_ALGOR_push(algs, c);
		alen = i2d_X509_ALGORS(algs, &adr);
		ck_assert_int_gt(alen, 0);
		ASN1_STRING_set(seq, adr, alen);
		ASN1_OBJECT_free(q->type);
		q->type = OBJ_nid2obj(skd_asn1_nid(
		    SKD_OID_GLA_SKD_ALG_RESPONSE));
		ASN1_TYPE_free(q->value);
		q->value = ASN1_TYPE_new();
		ASN1_TYPE_set(q->value, V_ASN1_SEQUENCE, seq);
		ck_assert_int_gt(skd_cmc_body_add_control(b,
		    SKD_OID_GLA_QUERY_RESPONSE, q), 0);
		SKD_GLA_QUERY_RESPONSE_free(q);
		sk_X509_ALGOR_pop_free(algs, X509_ALGOR_free);
		OPENSSL_free(adr);
	}
	ck_assert_int_eq(skd_cmc_body_encode(b, &body, &body_len), 1);
	p.signer = skd_test_pki_id(s->signer)->cert;
	p.key = skd_test_pki_id(s->signer)->key;
	p.signing_time = T_NOW;
	p.encrypt_to = s->encrypt_to;
	ck_assert_int_eq(skd_cmc_protect(&der, out_len, 1, body, body_len,
	    &p), 1);
	OPENSSL_free(body);
	skd_cmc_body_free(b);
	return der;
}

static int
check_response(struct skd_client_response **out, const unsigned char *der,
    size_t len, const char *gl, const struct skd_client_request *r,
    const struct skd_client_ident *me, struct skd_client_error *e)
{
	struct skd_client_expect x = { 0 };
	int ok;

	x.trust = skd_test_pki_store(0);
	x.now = T_NOW;
	x.gl_name = gl;
	x.nonce = skd_client_request_nonce(r, &x.nonce_len);
	x.tid = skd_client_request_tid(r);
	x.ident = me;
	ok = skd_client_response_check(out, der, len, &x, e);
	X509_STORE_free(x.trust);
	return ok;
}

static char *
print_response(const struct skd_client_response *resp, int json)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *s;
	long n;

	skd_client_response_print(b, resp, json);
	n = BIO_get_mem_data(b, &p);
	s = strndup(p, (size_t)n);
	BIO_free(b);
	return s;
}

START_TEST(test_response_ok_and_failures)
{
	struct skd_client_error e = { 0 };
	struct skd_client_request *r = skd_client_request_new(&e);
	struct skd_client_response *resp = NULL;
	struct resp_spec s = { 0 };
	unsigned char *der;
	size_t len = 0;
	char *txt;

	ck_assert_ptr_nonnull(r);
	s.signer = SKD_TP_GLA;
	s.nonce = skd_client_request_nonce(r, &s.nonce_len);
	s.tid = skd_client_request_tid(r);
	s.status = SKD_CMC_SUCCESS;
	s.cmc_fail = s.skd_fail = -1;
	der = make_response(&len, &s);
	ck_assert_msg(check_response(&resp, der, len, GL, r, NULL, &e), "%s",
	    e.msg);
	ck_assert_int_eq(skd_client_response_ok(resp), 1);
	ck_assert_int_eq(resp->n_statuses, 1);
	ck_assert_int_eq(resp->statuses[0].body_list[0], 1);
	ck_assert_str_eq(resp->statuses[0].status_string, "from the GLA");
	ck_assert_int_eq(resp->nonce_checked, 1);
	skd_client_response_free(resp);
	OPENSSL_free(der);

	/* SKDFailInfo by name (RFC 5275 3.2.4.1) */
	s.status = SKD_CMC_FAILED;
	s.skd_fail = SKD_FAIL_INVALID_GL_NAME;
	der = make_response(&len, &s);
	ck_assert_int_eq(check_response(&resp, der, len, GL, r, NULL, &e), 1);
	ck_assert_int_eq(skd_client_response_ok(resp), 0);
	ck_assert_int_eq(resp->statuses[0].fail_kind, SKD_CLIENT_FAIL_SKD);
	txt = print_response(resp, 0);
	ck_assert_msg(strstr(txt, "status: failed") != NULL &&
	    strstr(txt, "SKDFailInfo=invalidGLName") != NULL, "%s", txt);
	free(txt);
	txt = print_response(resp, 1);
	ck_assert_msg(strstr(txt, "\"SKDFailInfo\":\"invalidGLName\"") !=
	    NULL && strstr(txt, "\"ok\":false") != NULL, "%s", txt);
	free(txt);
	skd_client_response_free(resp);
	OPENSSL_free(der);

	/* CMCFailInfo by name */
	s.skd_fail = -1;
	s.cmc_fail = SKD_CMC_BAD_REQUEST;
	der = make_response(&len, &s);
	ck_assert_int_eq(check_response(&resp, der, len, GL, r, NULL, &e), 1);
	txt = print_response(resp, 0);
	ck_assert_msg(strstr(txt, "CMCFailInfo=badRequest") != NULL, "%s",
	    txt);
	free(txt);
	skd_client_response_free(resp);
	OPENSSL_free(der);
	skd_client_request_free(r);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* _i: 0 wrong GL name, 1 wrong nonce, 2 no nonce, 3 wrong tid,
 * 4 signer from an untrusted CA, 5 signer not the GLA */
START_TEST(test_response_refused)
{
	struct skd_client_error e = { 0 };
	struct skd_client_request *r = skd_client_request_new(&e);
	struct skd_client_response *resp = NULL;
	struct resp_spec s = { 0 };
	unsigned char bad[SKD_CMC_NONCE_LEN];
	ASN1_INTEGER *tid = ASN1_INTEGER_new();
	const char *gl = GL;
	unsigned char *der;
	size_t len = 0;
	static const enum skd_client_err want[] = {
		SKD_CLIENT_ERR_NAME, SKD_CLIENT_ERR_NONCE, SKD_CLIENT_ERR_NONCE,
		SKD_CLIENT_ERR_NONCE, SKD_CLIENT_ERR_CRYPTO, SKD_CLIENT_ERR_NAME
	};

	ck_assert_ptr_nonnull(r);
	s.signer = SKD_TP_GLA;
	s.nonce = skd_client_request_nonce(r, &s.nonce_len);
	s.tid = skd_client_request_tid(r);
	s.cmc_fail = s.skd_fail = -1;
	memcpy(bad, s.nonce, sizeof(bad));
	bad[3] ^= 0x40;
	ASN1_INTEGER_set(tid, 42);
	switch (_i) {
	case 0:
		gl = "URI:https://other-gl.example.com/";
		break;
	case 1:
		s.nonce = bad;
		break;
	case 2:
		s.nonce = NULL;
		break;
	case 3:
		s.tid = tid;
		break;
	case 4:
		s.signer = SKD_TP_STRANGER;
		break;
	case 5:
		s.signer = SKD_TP_ALICE;
		break;
	}
	der = make_response(&len, &s);
	ck_assert_int_eq(check_response(&resp, der, len, gl, r, NULL, &e), 0);
	ck_assert_ptr_null(resp);
	ck_assert_msg(e.code == want[_i], "%d: %s", _i, e.msg);
	if (_i == 0)
		ck_assert_ptr_nonnull(strstr(e.msg, "not believed"));
	ASN1_INTEGER_free(tid);
	OPENSSL_free(der);
	skd_client_request_free(r);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_response_encrypted_and_algs)
{
	struct skd_client_ident alice = ident(SKD_TP_ALICE);
	struct skd_client_ident bob = ident(SKD_TP_BOB);
	struct skd_client_error e = { 0 };
	struct skd_client_request *r = skd_client_request_new(&e);
	struct skd_client_response *resp = NULL;
	struct resp_spec s = { 0 };
	unsigned char *der;
	size_t len = 0;
	char *txt;

	s.signer = SKD_TP_GLA;
	s.nonce = skd_client_request_nonce(r, &s.nonce_len);
	s.tid = skd_client_request_tid(r);
	s.cmc_fail = s.skd_fail = -1;
	s.algs = 1;
	s.encrypt_to = alice.cert;
	der = make_response(&len, &s);
	/* glaQueryRequest names no GL: gl NULL */
	ck_assert_msg(check_response(&resp, der, len, NULL, r, &alice, &e),
	    "%s", e.msg);
	ck_assert_int_eq(resp->n_algs, 2);
	ck_assert_str_eq(resp->algs[0], "id-aes128-wrap");
	ck_assert_str_eq(resp->algs[1], "id-aes256-wrap");
	txt = print_response(resp, 0);
	ck_assert_ptr_nonnull(strstr(txt, "algorithm: id-aes256-wrap"));
	free(txt);
	skd_client_response_free(resp);
	/* Bob cannot open what was encrypted to Alice. */
	ck_assert_int_eq(check_response(&resp, der, len, NULL, r, &bob, &e),
	    0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_CRYPTO);
	OPENSSL_free(der);
	skd_client_request_free(r);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* The expectations are recovered from the request file itself. */
START_TEST(test_request_expect)
{
	struct skd_client_ident alice = ident(SKD_TP_ALICE);
	struct skd_client_error e = { 0 };
	struct skd_client_request *r = skd_client_request_new(&e);
	struct skd_client_expect x = { 0 };
	struct skd_client_hold *h = NULL;
	GENERAL_NAME *gn = skd_client_new_gname(GL, &e);
	unsigned char *der = NULL;
	const unsigned char *n;
	size_t len = 0, nlen = 0;

	ck_assert_int_gt(skd_client_request_add(r, SKD_OID_GL_KEY_COMPROMISE,
	    gn), 0);
	ck_assert_int_eq(skd_client_request_protect(&der, &len, r, &alice,
	    NULL, 0, T_NOW, &e), 1);
	ck_assert_msg(skd_client_request_expect(&x, &h, der, len, &alice, &e),
	    "%s", e.msg);
	ck_assert_str_eq(x.gl_name, GL);
	n = skd_client_request_nonce(r, &nlen);
	ck_assert_uint_eq(x.nonce_len, nlen);
	ck_assert_mem_eq(x.nonce, n, nlen);
	ck_assert_int_eq(ASN1_INTEGER_cmp(x.tid, skd_client_request_tid(r)),
	    0);
	skd_client_hold_free(h);
	GENERAL_NAME_free(gn);
	OPENSSL_free(der);
	skd_client_request_free(r);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_ldif_binary)
{
	static const char ldif[] =
	    "dn: skdRequestId=1,ou=responses,ou=skd,dc=example,dc=com\n"
	    "skdRequestId: 1\n"
	    "skdMessage;binary:: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n"
	    " ISIjJCUmJygpKissLS4v\n"
	    "skdRecipientName: email:alice@example.com\n";
	unsigned char *out = NULL;
	size_t len = 0, i;

	ck_assert_int_eq(skd_client_ldif_binary(&out, &len, ldif,
	    strlen(ldif), "skdMessage"), 1);
	ck_assert_uint_eq(len, 48);
	for (i = 0; i < len; i++)
		ck_assert_int_eq(out[i], (int)i);
	OPENSSL_free(out);
	ck_assert_int_eq(skd_client_ldif_binary(&out, &len, ldif,
	    strlen(ldif), "skdCertificate"), 0);
}
END_TEST

/* ---- glKey ---- */

struct glkey_spec {
	enum skd_test_who	 signer;
	const char		*gl;
	time_t			 signing_time;
	const unsigned char	*kek;
	size_t			 kek_len;
	const unsigned char	*kid;
	size_t			 kid_len;
};

/* SignedData(PKIData(glKey)) as RFC 5275 5 has the GLA build it, wrapped
 * for alice (RSA: ktri) and bob (EC: kari). */
static unsigned char *
make_glkey_ri(size_t *out_len, long *out_bpid, const struct glkey_spec *s,
    const struct skd_ri_recipient *rc, size_t nrc)
{
	struct skd_cmc_body *b = skd_cmc_body_new(0);
	struct skd_cmc_protect p = { 0 };
	SKD_GL_KEY *g = SKD_GL_KEY_new();
	unsigned char *ri = NULL, *body = NULL, *der = NULL;
	const unsigned char *q;
	size_t ri_len = 0, body_len = 0;

	ck_assert_int_eq(skd_ri_build_set(&ri, &ri_len, s->kek, s->kek_len,
	    rc, nrc), 1);
	GENERAL_NAME_free(g->glName);
	ck_assert_ptr_nonnull(g->glName = skd_gname_from_text(s->gl));
	ASN1_OCTET_STRING_set(g->glIdentifier->keyIdentifier, s->kid,
	    (int)s->kid_len);
	sk_ASN1_TYPE_pop_free(g->glkWrapped, ASN1_TYPE_free);
	q = ri;
	g->glkWrapped = (STACK_OF(ASN1_TYPE) *)ASN1_item_d2i(NULL, &q,
	    (long)ri_len, ASN1_ITEM_rptr(TEST_RI_SET));
	ck_assert_ptr_nonnull(g->glkWrapped);
	X509_ALGOR_set0(g->glkAlgorithm, OBJ_nid2obj(s->kek_len == 32 ?
	    NID_id_aes256_wrap : NID_id_aes128_wrap), V_ASN1_UNDEF, NULL);
	ASN1_GENERALIZEDTIME_set(g->glkNotBefore, T_NOW - 3600);
	ASN1_GENERALIZEDTIME_set(g->glkNotAfter, T_NOW + 30 * 86400);
	ck_assert_int_gt(*out_bpid = skd_cmc_body_add_control(b,
	    SKD_OID_GL_KEY, g), 0);
	ck_assert_int_eq(skd_cmc_body_encode(b, &body, &body_len), 1);
	p.signer = skd_test_pki_id(s->signer)->cert;
	p.key = skd_test_pki_id(s->signer)->key;
	p.signing_time = s->signing_time;
	ck_assert_int_eq(skd_cmc_protect(&der, out_len, 0, body, body_len,
	    &p), 1);
	OPENSSL_free(body);
	OPENSSL_free(ri);
	SKD_GL_KEY_free(g);
	skd_cmc_body_free(b);
	return der;
}

static unsigned char *
make_glkey(size_t *out_len, long *out_bpid, const struct glkey_spec *s)
{
	struct skd_ri_recipient rc[2];

	memset(rc, 0, sizeof(rc));
	rc[0].type = SKD_RI_KTRI;
	rc[0].cert = skd_test_pki_id(SKD_TP_ALICE)->cert;
	rc[1].type = SKD_RI_KARI;
	rc[1].cert = skd_test_pki_id(SKD_TP_BOB)->cert;
	return make_glkey_ri(out_len, out_bpid, s, rc, 2);
}

static const unsigned char kek32[32] = {
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
	0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
	0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f
};
static const unsigned char kid1[] = { 0xca, 0xfe, 0x00, 0x01 };

static int
open_glkey_ks(struct skd_client_key **keys, size_t *n,
    const unsigned char *der, size_t len, enum skd_test_who me,
    const char *gl, const struct skd_client_keystore *ks,
    struct skd_client_error *e)
{
	struct skd_client_ident id = ident(me);
	struct skd_client_glkey_opts o = { 0 };
	int ok;

	o.keystore = ks;

	o.trust = skd_test_pki_store(0);
	o.now = T_NOW;
	o.max_future = 300;
	o.max_age = 86400;
	o.gl_name = gl;
	o.ident = &id;
	ok = skd_client_glkey_open(keys, n, der, len, &o, e);
	X509_STORE_free(o.trust);
	return ok;
}

static int
open_glkey(struct skd_client_key **keys, size_t *n, const unsigned char *der,
    size_t len, enum skd_test_who me, const char *gl,
    struct skd_client_error *e)
{
	return open_glkey_ks(keys, n, der, len, me, gl, NULL, e);
}

START_TEST(test_glkey_rsa_and_ec)
{
	struct glkey_spec s = { SKD_TP_GLA, GL, T_NOW - 60, kek32, 32, kid1,
	    sizeof(kid1) };
	struct skd_client_error e = { 0 };
	struct skd_client_key *ka = NULL, *kb = NULL;
	size_t na = 0, nb = 0, len = 0;
	unsigned char fp[32];
	unsigned int fplen = 0;
	long bpid = 0;
	unsigned char *der = make_glkey(&len, &bpid, &s);

	ck_assert_msg(open_glkey(&ka, &na, der, len, SKD_TP_ALICE, GL, &e),
	    "alice: %s", e.msg);
	ck_assert_msg(open_glkey(&kb, &nb, der, len, SKD_TP_BOB, NULL, &e),
	    "bob: %s", e.msg);
	ck_assert_uint_eq(na, 1);
	ck_assert_uint_eq(nb, 1);
	ck_assert_uint_eq(ka[0].kek_len, 32);
	ck_assert_mem_eq(ka[0].kek, kek32, 32);
	ck_assert_mem_eq(kb[0].kek, ka[0].kek, 32);
	ck_assert_str_eq(ka[0].gl_name, GL);
	ck_assert_uint_eq(ka[0].key_id_len, sizeof(kid1));
	ck_assert_mem_eq(ka[0].key_id, kid1, sizeof(kid1));
	ck_assert_int_eq(ka[0].alg_nid, NID_id_aes256_wrap);
	ck_assert_int_eq(ka[0].not_before, T_NOW - 3600);
	ck_assert_int_eq(ka[0].not_after, T_NOW + 30 * 86400);
	ck_assert_int_eq(ka[0].body_part_id, bpid);
	ck_assert_ptr_nonnull(strstr(ka[0].gla_subject, "CN=gla"));
	X509_digest(skd_test_pki_id(SKD_TP_GLA)->cert, EVP_sha256(), fp,
	    &fplen);
	ck_assert_mem_eq(ka[0].gla_fp, fp, 32);
	skd_client_keys_free(ka, na);
	skd_client_keys_free(kb, nb);
	/* carol is not a recipient */
	ck_assert_int_eq(open_glkey(&ka, &na, der, len, SKD_TP_CAROL, GL, &e),
	    0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_CRYPTO);
	/* expecting another GL */
	ck_assert_int_eq(open_glkey(&ka, &na, der, len, SKD_TP_ALICE,
	    "URI:https://other.example.com/", &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_NAME);
	OPENSSL_free(der);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* _i: 0 signer's cert does not name the GL, 1 future signingTime,
 * 2 stale signingTime, 3 untrusted signer */
START_TEST(test_glkey_refused)
{
	struct glkey_spec s = { SKD_TP_GLA, GL, T_NOW, kek32, 32, kid1,
	    sizeof(kid1) };
	struct skd_client_error e = { 0 };
	struct skd_client_key *k = NULL;
	size_t n = 0, len = 0;
	long bpid;
	unsigned char *der;
	static const enum skd_client_err want[] = {
		SKD_CLIENT_ERR_NAME, SKD_CLIENT_ERR_TIME, SKD_CLIENT_ERR_TIME,
		SKD_CLIENT_ERR_CRYPTO
	};

	switch (_i) {
	case 0:
		/* glo1 is trusted but not the GL */
		s.signer = SKD_TP_GLO1;
		break;
	case 1:
		s.signing_time = T_NOW + 3600;
		break;
	case 2:
		s.signing_time = T_NOW - 2 * 86400;
		break;
	case 3:
		s.signer = SKD_TP_STRANGER;
		break;
	}
	der = make_glkey(&len, &bpid, &s);
	ck_assert_int_eq(open_glkey(&k, &n, der, len, SKD_TP_ALICE, NULL, &e),
	    0);
	ck_assert_ptr_null(k);
	ck_assert_msg(e.code == want[_i], "%d: %s", _i, e.msg);
	OPENSSL_free(der);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* ---- key store ---- */

static void
fake_key(struct skd_client_key *k, const char *gl, unsigned char fpbyte,
    unsigned char idbyte, time_t nb, time_t na)
{
	static unsigned char id[1], kek[16];

	memset(k, 0, sizeof(*k));
	id[0] = idbyte;
	memset(kek, idbyte, sizeof(kek));
	k->gl_name = (char *)gl;
	k->gla_subject = (char *)"CN=gla,O=skd test,C=US";
	memset(k->gla_fp, fpbyte, sizeof(k->gla_fp));
	k->key_id = id;
	k->key_id_len = 1;
	k->alg_nid = NID_id_aes128_wrap;
	k->not_before = nb;
	k->not_after = na;
	k->kek = kek;
	k->kek_len = sizeof(kek);
}

START_TEST(test_keystore)
{
	char *dir = skd_test_tmpdir(), path[512];
	struct skd_client_error e = { 0 };
	struct skd_client_keystore *ks;
	struct skd_client_key k;
	const struct skd_client_key *got;
	unsigned char id2 = 2;
	struct stat sb;
	int added = -1;

	snprintf(path, sizeof(path), "%s/keys", dir);
	ck_assert_ptr_null(skd_test_ks_open(path, 0, &e));
	ck_assert_ptr_nonnull(ks = skd_test_ks_open(path, SKD_CLIENT_KS_CREATE, &e));
	fake_key(&k, GL, 0xaa, 1, T_NOW - 100, T_NOW + 100);
	ck_assert_int_eq(skd_client_keystore_add(ks, &k, &added, &e), 1);
	ck_assert_int_eq(added, 1);
	fake_key(&k, GL, 0xaa, 2, T_NOW - 50, T_NOW + 100);
	ck_assert_int_eq(skd_client_keystore_add(ks, &k, &added, &e), 1);
	/* the same key again: no change */
	ck_assert_int_eq(skd_client_keystore_add(ks, &k, &added, &e), 1);
	ck_assert_int_eq(added, 0);
	/* RFC 5275 section 8: the same GL from another GLA is refused */
	fake_key(&k, GL, 0xbb, 3, T_NOW - 50, T_NOW + 100);
	ck_assert_int_eq(skd_client_keystore_add(ks, &k, &added, &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_GLA_BINDING);
	/* another GL may have another GLA */
	fake_key(&k, "URI:https://other.example.com/", 0xbb, 4, T_NOW - 50,
	    T_NOW + 100);
	ck_assert_int_eq(skd_client_keystore_add(ks, &k, &added, &e), 1);
	ck_assert_msg(skd_client_keystore_save(ks, &e), "%s", e.msg);
	skd_client_keystore_free(ks);

	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_ptr_nonnull(ks = skd_test_ks_open(path, 0, &e));
	ck_assert_uint_eq(skd_client_keystore_count(ks), 3);
	ck_assert_ptr_nonnull(got = skd_client_keystore_find(ks, &id2, 1));
	ck_assert_str_eq(got->gl_name, GL);
	ck_assert_int_eq(got->not_before, T_NOW - 50);
	ck_assert_int_eq(got->kek[0], 2);
	/* the newest valid key of the GL */
	ck_assert_ptr_eq(skd_client_keystore_current(ks, GL, T_NOW), got);
	ck_assert_ptr_null(skd_client_keystore_current(ks, GL, T_NOW + 100));
	ck_assert_int_eq(skd_client_keystore_current(ks, GL, T_NOW - 60)->
	    key_id[0], 1);
	/* the binding survives a reload */
	fake_key(&k, GL, 0xbb, 5, T_NOW - 50, T_NOW + 100);
	ck_assert_int_eq(skd_client_keystore_add(ks, &k, &added, &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_GLA_BINDING);
	skd_client_keystore_free(ks);

	/* group-readable: refused */
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_ptr_null(skd_test_ks_open(path, 0, &e));
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_KEYSTORE);
	ck_assert_ptr_nonnull(strstr(e.msg, "permissions"));
	ck_assert_int_eq(chmod(path, 0600), 0);
	/* malformed: refused */
	ck_assert_int_eq(skd_test_write_file(path, "skd-keystore 1\nx\ty\n",
	    19), 1);
	ck_assert_ptr_null(skd_test_ks_open(path, 0, &e));
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_KEYSTORE);
	skd_test_rmdir(dir);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* ---- kekri rollover (RFC 5275 5) ---- */

static const unsigned char kek32b[32] = {
	0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a,
	0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65,
	0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f
};
static const unsigned char kid2[] = { 0xca, 0xfe, 0x00, 0x02 };

START_TEST(test_glkey_kekri)
{
	struct glkey_spec s1 = { SKD_TP_GLA, GL, T_NOW - 60, kek32, 32, kid1,
	    sizeof(kid1) };
	struct glkey_spec s2 = { SKD_TP_GLA, GL, T_NOW - 30, kek32b, 32, kid2,
	    sizeof(kid2) };
	char *dir = skd_test_tmpdir(), path[512];
	struct skd_client_error e = { 0 };
	struct skd_client_keystore *ks, *other;
	struct skd_client_key *k1 = NULL, *k2 = NULL, alt;
	struct skd_ri_recipient rc;
	size_t n1 = 0, n2 = 0, len1 = 0, len2 = 0;
	unsigned char *der1, *der2;
	long bpid = 0;
	int added = 0;

	der1 = make_glkey(&len1, &bpid, &s1);
	memset(&rc, 0, sizeof(rc));
	rc.type = SKD_RI_KEKRI;
	rc.kek = kek32;
	rc.kek_len = sizeof(kek32);
	rc.kek_id = kid1;
	rc.kek_id_len = sizeof(kid1);
	der2 = make_glkey_ri(&len2, &bpid, &s2, &rc, 1);

	/* alice holds the first key, by ktri */
	snprintf(path, sizeof(path), "%s/keys", dir);
	ck_assert_ptr_nonnull(ks = skd_test_ks_open(path, SKD_CLIENT_KS_CREATE, &e));
	ck_assert_msg(open_glkey(&k1, &n1, der1, len1, SKD_TP_ALICE, GL, &e),
	    "%s", e.msg);
	ck_assert_int_eq(k1[0].via_kekri, 0);
	ck_assert_int_eq(skd_client_keystore_add(ks, &k1[0], &added, &e), 1);

	/* without the key store the kekri glKey does not open */
	ck_assert_int_eq(open_glkey(&k2, &n2, der2, len2, SKD_TP_ALICE, GL,
	    &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_CRYPTO);
	/* with it: the new KEK, by kekri */
	ck_assert_msg(open_glkey_ks(&k2, &n2, der2, len2, SKD_TP_ALICE, GL,
	    ks, &e), "%s", e.msg);
	ck_assert_uint_eq(n2, 1);
	ck_assert_int_eq(k2[0].via_kekri, 1);
	ck_assert_uint_eq(k2[0].kek_len, 32);
	ck_assert_mem_eq(k2[0].kek, kek32b, 32);
	ck_assert_uint_eq(k2[0].key_id_len, sizeof(kid2));
	ck_assert_mem_eq(k2[0].key_id, kid2, sizeof(kid2));
	ck_assert_mem_eq(k2[0].gla_fp, k1[0].gla_fp, 32);
	ck_assert_int_eq(skd_client_keystore_add(ks, &k2[0], &added, &e), 1);
	ck_assert_int_eq(added, 1);
	skd_client_keys_free(k2, n2);
	k2 = NULL;

	/* RFC 5275 section 8: the stored key came from another GLA */
	ck_assert_ptr_nonnull(other = skd_test_ks_open(path, SKD_CLIENT_KS_CREATE, &e));
	alt = k1[0];
	memset(alt.gla_fp, 0xbb, sizeof(alt.gla_fp));
	ck_assert_int_eq(skd_client_keystore_add(other, &alt, &added, &e), 1);
	ck_assert_int_eq(open_glkey_ks(&k2, &n2, der2, len2, SKD_TP_ALICE, GL,
	    other, &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_GLA_BINDING);
	skd_client_keystore_free(other);
	/* ... or belongs to another GL */
	ck_assert_ptr_nonnull(other = skd_test_ks_open(path, SKD_CLIENT_KS_CREATE, &e));
	alt = k1[0];
	alt.gl_name = (char *)"URI:https://other.example.com/";
	ck_assert_int_eq(skd_client_keystore_add(other, &alt, &added, &e), 1);
	ck_assert_int_eq(open_glkey_ks(&k2, &n2, der2, len2, SKD_TP_ALICE,
	    NULL, other, &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_GLA_BINDING);
	skd_client_keystore_free(other);

	skd_client_keys_free(k1, n1);
	skd_client_keystore_free(ks);
	OPENSSL_free(der1);
	OPENSSL_free(der2);
	skd_test_rmdir(dir);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* ---- acknowledgement (RFC 5275 5.1 2.c) ---- */

START_TEST(test_ack)
{
	struct skd_client_ident bob = ident(SKD_TP_BOB);
	struct skd_client_error e = { 0 };
	struct skd_client_key k;
	struct skd_layers *l = NULL;
	struct skd_layers_opts o = { 0 };
	const struct skd_layer *body;
	SKD_CMC_STATUS_INFO_V2 *si;
	unsigned char *der = NULL;
	size_t len = 0;

	fake_key(&k, GL, 0xaa, 0x7f, T_NOW - 100, T_NOW + 100);
	k.body_part_id = 7;
	ck_assert_msg(skd_client_ack_build(&der, &len, &k, &bob, T_NOW, &e),
	    "%s", e.msg);
	o.trust = skd_test_pki_store(0);
	o.now = T_NOW;
	ck_assert_int_eq(skd_layers_walk(&l, der, len, &o), 1);
	ck_assert_ptr_nonnull(body = find_layer(l, SKD_LAYER_PKI_RESPONSE));
	ck_assert_int_eq(X509_cmp(l->v[body->parent].verified->signer,
	    bob.cert), 0);
	si = decode_control(body->pki_response->controlSequence,
	    SKD_OID_CMC_STATUS_INFO_V2);
	ck_assert_ptr_nonnull(si);
	ck_assert_int_eq(ASN1_INTEGER_get(si->cMCStatus), SKD_CMC_SUCCESS);
	ck_assert_int_eq(ASN1_INTEGER_get(sk_SKD_BODY_PART_REFERENCE_value(
	    si->bodyList, 0)->d.bodyPartID), 7);
	ck_assert_str_eq((const char *)ASN1_STRING_get0_data(si->statusString),
	    "glKey received: 7f");
	SKD_CMC_STATUS_INFO_V2_free(si);
	skd_layers_free(l);
	X509_STORE_free(o.trust);
	OPENSSL_free(der);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* ---- content ---- */

START_TEST(test_content_roundtrip)
{
	static const unsigned char msg[] = "to the whole group";
	char *dir = skd_test_tmpdir(), path[512];
	struct skd_client_error e = { 0 };
	struct skd_client_keystore *ks, *other;
	struct skd_client_key k;
	unsigned char *der = NULL, *pt = NULL;
	size_t len = 0, ptlen = 0;

	snprintf(path, sizeof(path), "%s/keys", dir);
	ck_assert_ptr_nonnull(ks = skd_test_ks_open(path, SKD_CLIENT_KS_CREATE, &e));
	ck_assert_int_eq(skd_client_encrypt(&der, &len, ks, GL, T_NOW, msg,
	    sizeof(msg), &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_NO_KEY);
	fake_key(&k, GL, 0xaa, 9, T_NOW - 100, T_NOW + 100);
	ck_assert_int_eq(skd_client_keystore_add(ks, &k, NULL, &e), 1);
	ck_assert_msg(skd_client_encrypt(&der, &len, ks, GL, T_NOW, msg,
	    sizeof(msg), &e), "%s", e.msg);
	ck_assert_msg(skd_client_decrypt(&pt, &ptlen, ks, der, len, &e), "%s",
	    e.msg);
	ck_assert_uint_eq(ptlen, sizeof(msg));
	ck_assert_mem_eq(pt, msg, ptlen);
	OPENSSL_clear_free(pt, ptlen);
	/* a store without that key id */
	snprintf(path, sizeof(path), "%s/other", dir);
	ck_assert_ptr_nonnull(other = skd_test_ks_open(path, SKD_CLIENT_KS_CREATE, &e));
	fake_key(&k, GL, 0xaa, 10, T_NOW - 100, T_NOW + 100);
	ck_assert_int_eq(skd_client_keystore_add(other, &k, NULL, &e), 1);
	ck_assert_int_eq(skd_client_decrypt(&pt, &ptlen, other, der, len, &e),
	    0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_NO_KEY);
	ck_assert_int_eq(skd_client_decrypt(&pt, &ptlen, ks, der, len - 1,
	    &e), 0);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_INPUT);
	OPENSSL_free(der);
	skd_client_keystore_free(other);
	skd_client_keystore_free(ks);
	skd_test_rmdir(dir);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* What a batch handed over: the sizes of its requests and the labels in
 * order. */
struct batch_seen {
	size_t	sizes[8];
	size_t	n_req;
	size_t	next;		/* the label expected next */
	size_t	stop_at;	/* request number that stops it, 0: none */
};

static int
batch_cb(void *arg, struct skd_client_request *r, size_t k,
    const struct skd_client_batch_item *items, size_t n,
    struct skd_client_error *err)
{
	struct batch_seen *bs = arg;
	char want[32];
	size_t i;

	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(k, bs->n_req + 1);
	ck_assert_uint_lt(bs->n_req, 8);
	bs->sizes[bs->n_req++] = n;
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "email:m%zu@example.com",
		    bs->next++);
		ck_assert_str_eq(items[i].label, want);
		ck_assert_int_gt(items[i].bpid, 0);
		if (i > 0)
			ck_assert_int_ne(items[i].bpid, items[i - 1].bpid);
	}
	if (k == bs->stop_at) {
		err->code = SKD_CLIENT_ERR_REFUSED;
		snprintf(err->msg, sizeof(err->msg), "stopped");
		return 0;
	}
	return 1;
}

/* A batch of 1,200 glDeleteMember controls is handed over as requests of
 * 500, 500 and 200, each member labelled in order; a callback that stops
 * the batch stops it. */
START_TEST(test_batch_split)
{
	struct batch_seen bs;
	struct skd_client_batch *b;
	struct skd_client_error e = { 0 };
	SKD_GL_DELETE_MEMBER *dm;
	char name[64];
	size_t i;
	int ok = 1;

	ck_assert_uint_eq(skd_client_batch_requests(1200, 0), 3);
	ck_assert_uint_eq(skd_client_batch_requests(500, 0), 1);
	ck_assert_uint_eq(skd_client_batch_requests(501, 5000), 2);
	memset(&bs, 0, sizeof(bs));
	ck_assert_ptr_nonnull(b = skd_client_batch_new(0, batch_cb, &bs, &e));
	for (i = 0; i < 1200; i++) {
		snprintf(name, sizeof(name), "email:m%zu@example.com", i);
		ck_assert_ptr_nonnull(dm = skd_client_new_delete_member(
		    "URI:https://gl.example.com/", name, &e));
		ck_assert_msg(skd_client_batch_add(b, SKD_OID_GL_DELETE_MEMBER,
		    dm, name, &e), "%s", e.msg);
		SKD_GL_DELETE_MEMBER_free(dm);
	}
	ck_assert_uint_eq(bs.n_req, 2);
	ck_assert(skd_client_batch_finish(b, &e));
	ck_assert(skd_client_batch_finish(b, &e));	/* nothing left */
	skd_client_batch_free(b);
	ck_assert_uint_eq(bs.n_req, 3);
	ck_assert_uint_eq(bs.sizes[0], 500);
	ck_assert_uint_eq(bs.sizes[1], 500);
	ck_assert_uint_eq(bs.sizes[2], 200);
	ck_assert_uint_eq(bs.next, 1200);

	/* Stopped by the second request: the 1,001st add fails. */
	memset(&bs, 0, sizeof(bs));
	bs.stop_at = 2;
	ck_assert_ptr_nonnull(b = skd_client_batch_new(0, batch_cb, &bs, &e));
	for (i = 0; i < 1200 && ok; i++) {
		snprintf(name, sizeof(name), "email:m%zu@example.com", i);
		ck_assert_ptr_nonnull(dm = skd_client_new_delete_member(
		    "URI:https://gl.example.com/", name, &e));
		ok = skd_client_batch_add(b, SKD_OID_GL_DELETE_MEMBER, dm,
		    name, &e);
		SKD_GL_DELETE_MEMBER_free(dm);
	}
	ck_assert(!ok);
	ck_assert_uint_eq(i, 1001);
	ck_assert_int_eq(e.code, SKD_CLIENT_ERR_REFUSED);
	skd_client_batch_free(b);
	skd_test_assert_no_ossl_errors();
}
END_TEST

Suite *
skd_suite_client(void)
{
	Suite *s = suite_create("client");
	TCase *tc;

	tc = tcase_create("requests");
	tcase_add_unchecked_fixture(tc, pki_setup, NULL);
	tcase_add_loop_test(tc, test_request_roundtrip, 0, 2 * RK_COUNT);
	tcase_add_test(tc, test_request_bad_input);
	tcase_add_test(tc, test_ident_load);
	tcase_add_test(tc, test_request_expect);
	tcase_add_test(tc, test_batch_split);
	suite_add_tcase(s, tc);

	tc = tcase_create("responses");
	tcase_add_unchecked_fixture(tc, pki_setup, NULL);
	tcase_add_test(tc, test_response_ok_and_failures);
	tcase_add_loop_test(tc, test_response_refused, 0, 6);
	tcase_add_test(tc, test_response_encrypted_and_algs);
	tcase_add_test(tc, test_ldif_binary);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_unchecked_fixture(tc, pki_setup, NULL);
	tcase_add_test(tc, test_glkey_rsa_and_ec);
	tcase_add_loop_test(tc, test_glkey_refused, 0, 4);
	tcase_add_test(tc, test_keystore);
	tcase_add_test(tc, test_glkey_kekri);
	tcase_add_test(tc, test_ack);
	tcase_add_test(tc, test_content_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
