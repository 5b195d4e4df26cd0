/*
 * test_layers.c: the CMC body builder and protection (cms/skd_cmc.h) and
 * the layer walker (cms/skd_layers.h): RFC 5275 3.2.1 and 3.2.2 stacks.
 */
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "cms/skd_cmc.h"
#include "cms/skd_layers.h"
#include "skd_test.h"
#include "support/pki.h"

/* 2030-01-01T00:00:00Z: inside every test certificate's validity. */
#define T_NOW	((time_t)1893456000)

static void
pki_setup(void)
{
	(void)skd_test_pki_get();
	ck_assert_int_eq(skd_asn1_init(), 1);
}

/* A PKIData with one glDelete control and the CMC nonce/transaction ids. */
static void
make_body(unsigned char **out, size_t *out_len, int is_response)
{
	struct skd_cmc_body *b = skd_cmc_body_new(is_response);
	GENERAL_NAME *gn = skd_gname_from_text("URI:https://lists.example/a");
	ASN1_INTEGER *tid = ASN1_INTEGER_new();
	static const unsigned char nonce[SKD_CMC_NONCE_LEN] = { 1, 2, 3 };
	long st_list[] = { 1 };

	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(gn);
	ck_assert_int_eq(ASN1_INTEGER_set(tid, 4711), 1);
	if (is_response) {
		ck_assert_int_eq(skd_cmc_body_add_status(b, SKD_CMC_FAILED,
		    st_list, 1, "no such list", -1, SKD_FAIL_INVALID_GL_NAME),
		    1);
	} else {
		ck_assert_int_eq(skd_cmc_body_add_control(b,
		    SKD_OID_GL_DELETE, gn), 1);
	}
	ck_assert_int_eq(skd_cmc_body_add_transaction_id(b, tid), 2);
	ck_assert_int_eq(skd_cmc_body_add_sender_nonce(b, nonce,
	    sizeof(nonce)), 3);
	ck_assert_int_eq(skd_cmc_body_encode(b, out, out_len), 1);
	GENERAL_NAME_free(gn);
	ASN1_INTEGER_free(tid);
	skd_cmc_body_free(b);
}

static void
protect_as(unsigned char **out, size_t *out_len, enum skd_test_who who,
    const unsigned char *body, size_t len, int is_response,
    enum skd_test_who enc_to, int outer)
{
	const struct skd_test_ident *id = skd_test_pki_id(who);
	struct skd_cmc_protect p;

	memset(&p, 0, sizeof(p));
	p.signer = id->cert;
	p.key = id->key;
	p.signing_time = T_NOW - 60;
	if (enc_to != SKD_TP_CA) {
		p.encrypt_to = skd_test_pki_id(enc_to)->cert;
		p.outer_sign = outer;
	}
	ck_assert_int_eq(skd_cmc_protect(out, out_len, is_response, body, len,
	    &p), 1);
}

static struct skd_layers *
walk_as(const unsigned char *der, size_t len, enum skd_test_who opener,
    int expect_ok)
{
	struct skd_layers *l = NULL;
	struct skd_layers_opts o;
	struct skd_cms_opener op;
	X509_STORE *st = skd_test_pki_store(1);

	memset(&o, 0, sizeof(o));
	memset(&op, 0, sizeof(op));
	o.trust = st;
	o.now = T_NOW;
	if (opener != SKD_TP_CA) {
		op.cert = skd_test_pki_id(opener)->cert;
		op.key = skd_test_pki_id(opener)->key;
		o.opener = &op;
	}
	ck_assert_int_eq(skd_layers_walk(&l, der, len, &o), expect_ok);
	ck_assert_ptr_nonnull(l);
	X509_STORE_free(st);
	ERR_clear_error();
	return l;
}

START_TEST(test_minimum_protection)
{
	unsigned char *body, *msg;
	size_t blen, mlen;
	struct skd_layers *l;
	const SKD_TAGGED_ATTRIBUTE *ta;
	unsigned char *n = NULL;
	size_t nlen = 0;

	make_body(&body, &blen, 0);
	protect_as(&msg, &mlen, SKD_TP_GLO1, body, blen, 0, SKD_TP_CA, 0);
	l = walk_as(msg, mlen, SKD_TP_CA, 1);
	/* 3.2.1.1: SignedData(PKIData) */
	ck_assert_uint_eq(l->n, 2);
	ck_assert_int_eq(l->v[0].type, SKD_LAYER_SIGNED);
	ck_assert_int_eq(l->v[0].verified->path, SKD_CMS_PATH_OK);
	ck_assert_int_eq(l->v[0].verified->signing_time, T_NOW - 60);
	ck_assert_int_eq(l->v[1].type, SKD_LAYER_PKI_DATA);
	ck_assert_int_eq(l->v[1].parent, 0);
	ck_assert_int_eq(l->v[1].depth, 1);
	ta = skd_cmc_find_control(l->v[1].pki_data->controlSequence,
	    SKD_OID_GL_DELETE, 0);
	ck_assert_ptr_nonnull(ta);
	ck_assert_int_eq(ASN1_INTEGER_get(ta->bodyPartID), 1);
	ck_assert_ptr_null(skd_cmc_find_control(
	    l->v[1].pki_data->controlSequence, SKD_OID_GL_DELETE, 1));
	ck_assert_int_eq(skd_cmc_get_nonce(l->v[1].pki_data->controlSequence,
	    SKD_OID_CMC_SENDER_NONCE, &n, &nlen), 1);
	ck_assert_uint_eq(nlen, SKD_CMC_NONCE_LEN);
	ck_assert_int_eq(n[2], 3);
	OPENSSL_free(n);
	ck_assert_int_eq(skd_cmc_get_nonce(l->v[1].pki_data->controlSequence,
	    SKD_OID_CMC_RECIPIENT_NONCE, &n, &nlen), 0);
	skd_layers_free(l);
	OPENSSL_free(msg);
	OPENSSL_free(body);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_response_status)
{
	unsigned char *body, *msg;
	size_t blen, mlen;
	struct skd_layers *l;
	const SKD_TAGGED_ATTRIBUTE *ta;
	SKD_CMC_STATUS_INFO_V2 *si;
	SKD_EXTENDED_FAIL_INFO *efi;

	make_body(&body, &blen, 1);
	protect_as(&msg, &mlen, SKD_TP_GLA, body, blen, 1, SKD_TP_CA, 0);
	l = walk_as(msg, mlen, SKD_TP_CA, 1);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_int_eq(l->v[1].type, SKD_LAYER_PKI_RESPONSE);
	ta = skd_cmc_find_control(l->v[1].pki_response->controlSequence,
	    SKD_OID_CMC_STATUS_INFO_V2, 0);
	ck_assert_ptr_nonnull(ta);
	si = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2));
	ck_assert_ptr_nonnull(si);
	ck_assert_int_eq(ASN1_INTEGER_get(si->cMCStatus), SKD_CMC_FAILED);
	ck_assert_int_eq(sk_SKD_BODY_PART_REFERENCE_num(si->bodyList), 1);
	ck_assert_ptr_nonnull(si->otherStatusInfo);
	/* RFC 5275 3.2.4.1: SKDFailInfo in extendedFailInfo. */
	ck_assert_int_eq(si->otherStatusInfo->type,
	    SKD_OTHER_STATUS_EXT_FAIL_INFO);
	efi = si->otherStatusInfo->d.extendedFailInfo;
	ck_assert_int_eq(OBJ_obj2nid(efi->failInfoOID),
	    skd_asn1_nid(SKD_OID_CET_SKD_FAIL_INFO));
	ck_assert_int_eq(efi->failInfoValue->type, V_ASN1_INTEGER);
	ck_assert_int_eq(ASN1_INTEGER_get(efi->failInfoValue->value.integer),
	    SKD_FAIL_INVALID_GL_NAME);
	ck_assert_str_eq((const char *)ASN1_STRING_get0_data(si->statusString),
	    "no such list");
	SKD_CMC_STATUS_INFO_V2_free(si);
	skd_layers_free(l);
	OPENSSL_free(msg);
	OPENSSL_free(body);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_status_refuses_both_fail_kinds)
{
	struct skd_cmc_body *b = skd_cmc_body_new(1);
	long one = 1;

	ck_assert_int_eq(skd_cmc_body_add_status(b, SKD_CMC_FAILED, &one, 1,
	    NULL, SKD_CMC_BAD_REQUEST, SKD_FAIL_NO_SPAM), 0);
	ck_assert_int_eq(skd_cmc_body_add_status(b, SKD_CMC_FAILED, &one, 0,
	    NULL, -1, -1), 0);
	skd_cmc_body_free(b);
	ERR_clear_error();
}
END_TEST

/* 3.2.1.2: SignedData(EnvelopedData(SignedData(PKIData))), ContentHints. */
START_TEST(test_triple_wrapping)
{
	unsigned char *body, *msg;
	size_t blen, mlen;
	struct skd_layers *l;

	make_body(&body, &blen, 0);
	protect_as(&msg, &mlen, SKD_TP_ALICE, body, blen, 0, SKD_TP_GLA, 1);
	l = walk_as(msg, mlen, SKD_TP_GLA, 1);
	ck_assert_uint_eq(l->n, 4);
	ck_assert_int_eq(l->v[0].type, SKD_LAYER_SIGNED);
	ck_assert_int_eq(OBJ_obj2nid(l->v[0].verified->econtent_type),
	    NID_pkcs7_enveloped);
	ck_assert_ptr_nonnull(l->v[0].verified->hint_type);
	ck_assert_int_eq(OBJ_obj2nid(l->v[0].verified->hint_type),
	    NID_pkcs7_signed);
	ck_assert_int_eq(l->v[1].type, SKD_LAYER_ENVELOPED);
	ck_assert_int_eq(l->v[1].opened, 1);
	ck_assert_uint_eq(l->v[1].nrecipients, 1);
	ck_assert_ptr_nonnull(strstr(l->v[1].recipients[0], "ktri"));
	ck_assert_int_eq(l->v[2].type, SKD_LAYER_SIGNED);
	ck_assert_int_eq(l->v[2].parent, 1);
	ck_assert_int_eq(l->v[3].type, SKD_LAYER_PKI_DATA);
	ck_assert_int_eq(l->v[3].depth, 3);
	skd_layers_free(l);

	/* Without the GLA's key the envelope is reported, not opened. */
	l = walk_as(msg, mlen, SKD_TP_CA, 0);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_int_eq(l->v[1].type, SKD_LAYER_ENVELOPED);
	ck_assert_int_eq(l->v[1].opened, 0);
	ck_assert_str_ne(l->v[1].error, "");
	skd_layers_free(l);

	/* Nor with a key it was not encrypted to. */
	l = walk_as(msg, mlen, SKD_TP_BOB, 0);
	ck_assert_int_eq(l->v[1].opened, 0);
	ck_assert_ptr_nonnull(strstr(l->v[1].error, "cannot open"));
	skd_layers_free(l);
	OPENSSL_free(msg);
	OPENSSL_free(body);
}
END_TEST

/* The bare content of the ContentInfo ci (asserting it is one). */
static unsigned char *
bare_of(const unsigned char *ci, size_t len, size_t *out_len)
{
	unsigned char *b = NULL;
	ASN1_OBJECT *t = NULL;

	ck_assert_int_eq(skd_cms_content_info_unwrap(&b, out_len, &t, ci,
	    len), 1);
	ASN1_OBJECT_free(t);
	return b;
}

/* RFC 5652 5.2 / 6.1: skd_cmc_protect nests the bare layers: the outer
 * eContent is the EnvelopedData itself, the EnvelopedData's content the
 * SignedData itself, each of the announced type. */
START_TEST(test_nesting_rfc5652_form)
{
	unsigned char *body, *msg, *ci = NULL, *content = NULL;
	size_t blen, mlen, ci_len = 0, cl = 0;
	struct skd_cms_verified *v = NULL;
	struct skd_cms_opener op;
	ASN1_OBJECT *t = NULL;

	make_body(&body, &blen, 0);
	protect_as(&msg, &mlen, SKD_TP_ALICE, body, blen, 0, SKD_TP_GLA, 1);
	ck_assert_int_eq(skd_cms_verify(&v, msg, mlen, NULL, T_NOW), 1);
	ck_assert_int_eq(OBJ_obj2nid(v->econtent_type), NID_pkcs7_enveloped);
	ck_assert_ptr_null(skd_cms_d2i_content_info(v->content,
	    v->content_len));
	ERR_clear_error();
	ck_assert_int_eq(skd_cms_nested_content_info(&ci, &ci_len, NULL,
	    v->econtent_type, v->content, v->content_len, 0), 1);
	memset(&op, 0, sizeof(op));
	op.cert = skd_test_pki_id(SKD_TP_GLA)->cert;
	op.key = skd_test_pki_id(SKD_TP_GLA)->key;
	ck_assert_int_eq(skd_cms_open(&content, &cl, &t, ci, ci_len, &op), 1);
	ck_assert_int_eq(OBJ_obj2nid(t), NID_pkcs7_signed);
	ck_assert_ptr_null(skd_cms_d2i_content_info(content, cl));
	ERR_clear_error();
	/* the bare SignedData starts with its version, not an OID */
	ck_assert_int_eq(content[0], 0x30);
	ASN1_OBJECT_free(t);
	OPENSSL_clear_free(content, cl);
	OPENSSL_free(ci);
	skd_cms_verified_free(v);
	OPENSSL_free(msg);
	OPENSSL_free(body);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/*
 * Both forms on input, layer by layer: the ContentInfo form (each layer's
 * content a whole ContentInfo of the announced type) walks like the RFC
 * 5652 form; a ContentInfo whose type disagrees with the announced one,
 * and a bare layer of another type, are refused.
 */
START_TEST(test_nesting_both_forms)
{
	const struct skd_test_ident *alice = skd_test_pki_id(SKD_TP_ALICE);
	struct skd_cms_recip r;
	unsigned char *body, *inner, *env, *msg, *bare;
	size_t blen, ilen, elen, mlen, bare_len;
	struct skd_layers *l;

	make_body(&body, &blen, 0);
	protect_as(&inner, &ilen, SKD_TP_ALICE, body, blen, 0, SKD_TP_CA, 0);
	memset(&r, 0, sizeof(r));
	r.type = SKD_CMS_RECIP_CERT;
	r.cert = skd_test_pki_id(SKD_TP_GLA)->cert;

	/* ContentInfo form throughout */
	ck_assert_int_eq(skd_cms_envelope(&env, &elen,
	    OBJ_nid2obj(NID_pkcs7_signed), inner, ilen, &r, 1, NULL), 1);
	ck_assert_int_eq(skd_cms_sign(&msg, &mlen,
	    OBJ_nid2obj(NID_pkcs7_enveloped), env, elen, alice->cert,
	    alice->key, NULL, T_NOW, 0), 1);
	l = walk_as(msg, mlen, SKD_TP_GLA, 1);
	ck_assert_uint_eq(l->n, 4);
	ck_assert_int_eq(l->v[3].type, SKD_LAYER_PKI_DATA);
	skd_layers_free(l);
	OPENSSL_free(msg);

	/* mixed: bare EnvelopedData holding a ContentInfo SignedData */
	bare = bare_of(env, elen, &bare_len);
	ck_assert_int_eq(skd_cms_sign(&msg, &mlen,
	    OBJ_nid2obj(NID_pkcs7_enveloped), bare, bare_len, alice->cert,
	    alice->key, NULL, T_NOW, 0), 1);
	l = walk_as(msg, mlen, SKD_TP_GLA, 1);
	ck_assert_uint_eq(l->n, 4);
	skd_layers_free(l);
	OPENSSL_free(msg);

	/* a bare EnvelopedData announced as id-signedData: refused */
	ck_assert_int_eq(skd_cms_sign(&msg, &mlen,
	    OBJ_nid2obj(NID_pkcs7_signed), bare, bare_len, alice->cert,
	    alice->key, NULL, T_NOW, 0), 1);
	l = walk_as(msg, mlen, SKD_TP_GLA, 0);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_int_eq(l->v[1].type, SKD_LAYER_OTHER);
	ck_assert_ptr_nonnull(strstr(l->v[1].error, "not a nested layer"));
	skd_layers_free(l);
	OPENSSL_free(msg);
	OPENSSL_free(bare);

	/* a ContentInfo of EnvelopedData announced as id-signedData */
	ck_assert_int_eq(skd_cms_sign(&msg, &mlen,
	    OBJ_nid2obj(NID_pkcs7_signed), env, elen, alice->cert,
	    alice->key, NULL, T_NOW, 0), 1);
	l = walk_as(msg, mlen, SKD_TP_GLA, 0);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_ptr_nonnull(strstr(l->v[1].error, "announced"));
	skd_layers_free(l);
	OPENSSL_free(msg);
	OPENSSL_free(env);

	/* an EnvelopedData whose content type (id-envelopedData) lies about
	 * the SignedData inside */
	ck_assert_int_eq(skd_cms_envelope(&env, &elen,
	    OBJ_nid2obj(NID_pkcs7_enveloped), inner, ilen, &r, 1, NULL), 1);
	l = walk_as(env, elen, SKD_TP_GLA, 0);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_int_eq(l->v[1].type, SKD_LAYER_OTHER);
	skd_layers_free(l);
	OPENSSL_free(env);

	/* id-data (what `openssl cms -encrypt` writes) holding the bare
	 * SignedData: accepted; holding PKIData directly: refused */
	bare = bare_of(inner, ilen, &bare_len);
	ck_assert_int_eq(skd_cms_envelope(&env, &elen,
	    OBJ_nid2obj(NID_pkcs7_data), bare, bare_len, &r, 1, NULL), 1);
	l = walk_as(env, elen, SKD_TP_GLA, 1);
	ck_assert_uint_eq(l->n, 3);
	ck_assert_int_eq(l->v[2].type, SKD_LAYER_PKI_DATA);
	skd_layers_free(l);
	OPENSSL_free(env);
	ck_assert_int_eq(skd_cms_envelope(&env, &elen,
	    OBJ_nid2obj(NID_pkcs7_data), body, blen, &r, 1, NULL), 1);
	l = walk_as(env, elen, SKD_TP_GLA, 0);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_int_eq(l->v[1].type, SKD_LAYER_OTHER);
	skd_layers_free(l);
	OPENSSL_free(env);
	OPENSSL_free(bare);

	/* a SignedData's eContentType id-data is never a nested layer */
	ck_assert_int_eq(skd_cms_sign(&msg, &mlen, OBJ_nid2obj(NID_pkcs7_data),
	    inner, ilen, alice->cert, alice->key, NULL, T_NOW, 0), 1);
	l = walk_as(msg, mlen, SKD_TP_GLA, 0);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_ptr_nonnull(strstr(l->v[1].error, "unexpected content"));
	skd_layers_free(l);
	OPENSSL_free(msg);
	OPENSSL_free(inner);
	OPENSSL_free(body);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* 3.2.2 and 3.2.3: cmsSequence items, each with its own layers, and a bad
 * inner signature reported at its own layer. */
START_TEST(test_cms_sequence)
{
	unsigned char *body, *inner1, *inner2, *outer_body, *msg;
	size_t blen, l1, l2, oblen, mlen;
	struct skd_cmc_body *b;
	struct skd_layers *l;
	long id1, id2;

	make_body(&body, &blen, 0);
	protect_as(&inner1, &l1, SKD_TP_ALICE, body, blen, 0, SKD_TP_CA, 0);
	protect_as(&inner2, &l2, SKD_TP_BOB, body, blen, 0, SKD_TP_CA, 0);
	/* Flip a byte inside inner2's signature value (its last bytes). */
	inner2[l2 - 5] ^= 0x01;

	b = skd_cmc_body_new(0);
	id1 = skd_cmc_body_add_cms(b, inner1, l1);
	id2 = skd_cmc_body_add_cms(b, inner2, l2);
	ck_assert_int_eq(id1, 1);
	ck_assert_int_eq(id2, 2);
	ck_assert_int_eq(skd_cmc_body_encode(b, &outer_body, &oblen), 1);
	protect_as(&msg, &mlen, SKD_TP_GLA, outer_body, oblen, 0, SKD_TP_CA,
	    0);
	l = walk_as(msg, mlen, SKD_TP_CA, 0);
	/* Signed, PKIData, [Signed, PKIData], [Signed (bad)] */
	ck_assert_uint_eq(l->n, 5);
	ck_assert_int_eq(l->v[1].type, SKD_LAYER_PKI_DATA);
	ck_assert_int_eq(l->v[2].type, SKD_LAYER_SIGNED);
	ck_assert_int_eq(l->v[2].body_part_id, 1);
	ck_assert_int_eq(l->v[2].parent, 1);
	ck_assert_int_eq(l->v[3].type, SKD_LAYER_PKI_DATA);
	ck_assert_int_eq(l->v[4].type, SKD_LAYER_SIGNED);
	ck_assert_int_eq(l->v[4].body_part_id, 2);
	ck_assert_ptr_null(l->v[4].verified);
	ck_assert_ptr_nonnull(strstr(l->v[4].error, "does not verify"));
	skd_layers_free(l);
	skd_cmc_body_free(b);
	OPENSSL_free(msg);
	OPENSSL_free(outer_body);
	OPENSSL_free(inner1);
	OPENSSL_free(inner2);
	OPENSSL_free(body);
}
END_TEST

/* Layers nested past the bound are refused, not followed. */
START_TEST(test_depth_bound)
{
	unsigned char *body, *msg, *next;
	size_t blen, mlen, nlen;
	struct skd_layers *l;
	const struct skd_test_ident *id = skd_test_pki_id(SKD_TP_GLO1);
	int i;

	make_body(&body, &blen, 0);
	protect_as(&msg, &mlen, SKD_TP_GLO1, body, blen, 0, SKD_TP_CA, 0);
	for (i = 0; i < SKD_LAYERS_MAX_DEPTH + 2; i++) {
		ck_assert_int_eq(skd_cms_sign(&next, &nlen,
		    OBJ_nid2obj(NID_pkcs7_signed), msg, mlen, id->cert,
		    id->key, NULL, T_NOW, 0), 1);
		OPENSSL_free(msg);
		msg = next;
		mlen = nlen;
	}
	l = walk_as(msg, mlen, SKD_TP_CA, 0);
	ck_assert_uint_eq(l->n, SKD_LAYERS_MAX_DEPTH + 1);
	ck_assert_int_eq(l->v[l->n - 1].type, SKD_LAYER_OTHER);
	ck_assert_ptr_nonnull(strstr(l->v[l->n - 1].error, "deeper"));
	skd_layers_free(l);
	OPENSSL_free(msg);
	OPENSSL_free(body);
}
END_TEST

/* Revoked and untrusted signers: the signature verifies, the path does
 * not, and the walker reports it at the layer for the caller to decide. */
START_TEST(test_path_reported)
{
	unsigned char *body, *msg;
	size_t blen, mlen;
	struct skd_layers *l;

	make_body(&body, &blen, 0);
	protect_as(&msg, &mlen, SKD_TP_REVOKED, body, blen, 0, SKD_TP_CA, 0);
	l = walk_as(msg, mlen, SKD_TP_CA, 1);
	ck_assert_int_eq(l->v[0].verified->path, SKD_CMS_PATH_INVALID);
	ck_assert_int_eq(l->v[0].verified->path_error,
	    X509_V_ERR_CERT_REVOKED);
	skd_layers_free(l);
	OPENSSL_free(msg);

	protect_as(&msg, &mlen, SKD_TP_STRANGER, body, blen, 0, SKD_TP_CA, 0);
	l = walk_as(msg, mlen, SKD_TP_CA, 1);
	ck_assert_int_eq(l->v[0].verified->path, SKD_CMS_PATH_INVALID);
	skd_layers_free(l);
	OPENSSL_free(msg);
	OPENSSL_free(body);
}
END_TEST

/* Garbage and BER at the top: one OTHER layer with the reason. */
START_TEST(test_not_der)
{
	static const unsigned char ber[] = { 0x30, 0x80, 0x02, 0x01, 0x01,
	    0x00, 0x00 };
	static const unsigned char junk[] = { 0x04, 0x03, 'a', 'b', 'c' };
	struct skd_layers *l;

	l = walk_as(ber, sizeof(ber), SKD_TP_CA, 0);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_int_eq(l->v[0].type, SKD_LAYER_OTHER);
	ck_assert_ptr_nonnull(strstr(l->v[0].error, "not a DER ContentInfo"));
	skd_layers_free(l);
	l = walk_as(junk, sizeof(junk), SKD_TP_CA, 0);
	ck_assert_uint_eq(l->n, 1);
	skd_layers_free(l);
}
END_TEST

Suite *
skd_suite_layers(void)
{
	Suite *s = suite_create("layers");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, pki_setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_minimum_protection);
	tcase_add_test(tc, test_response_status);
	tcase_add_test(tc, test_status_refuses_both_fail_kinds);
	tcase_add_test(tc, test_triple_wrapping);
	tcase_add_test(tc, test_nesting_rfc5652_form);
	tcase_add_test(tc, test_nesting_both_forms);
	tcase_add_test(tc, test_cms_sequence);
	tcase_add_test(tc, test_depth_bound);
	tcase_add_test(tc, test_path_reported);
	tcase_add_test(tc, test_not_der);
	suite_add_tcase(s, tc);
	return s;
}
