/*
 * test_engine_keygen.c: CMC server-side key generation through the engine
 * (src/engine/keygen.c) with the in-memory state: scenarios 2.3 (bareKey)
 * and 2.4 (certificate, certIdentifier), the answer opened by the client
 * (src/client/keygen.c), the archive, the journal free of the key, and
 * the refusals of sections 4.1, 6.1 and 7.
 */
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "client/skd_keygen.h"
#include "cms/skd_authdata.h"
#include "cms/skd_cmc.h"
#include "kgen/skd_kgen.h"
#include "test_engine_common.h"

static const unsigned char nonce[SKD_KEYGEN_NONCE_LEN] = "0123456789abcdef";
static const unsigned char ski[] = { 0xe1, 0xe2, 0xe3, 0xe4 };

struct kt {
	struct skd_engine_config	 cfg;
	struct skd_engine_env		 env;
	struct skd_engine_state		 st;
	struct skd_engine_mem		*mem;
	struct skd_kgen_ca		 ca;
	SKD_ENG_OUTCOME			*out;
	struct skd_keygen_result	 res;
};

static void
setup_pki(void)
{
	(void)skd_test_pki_get();
}

static void
kt_init(struct kt *k)
{
	memset(k, 0, sizeof(*k));
	te_config(&k->cfg);
	te_env(&k->env, TE_NOW);
	k->mem = skd_engine_mem_new();
	skd_engine_mem_state(&k->st, k->mem);
	k->ca.cert = skd_test_pki_id(SKD_TP_CA)->cert;
	k->ca.key = skd_test_pki_id(SKD_TP_CA)->key;
	k->ca.validity_days = 90;
	k->ca.recovery_cert = skd_test_pki_id(SKD_TP_GLA)->cert;
	k->cfg.keygen = &k->ca;
}

static void
kt_free(struct kt *k)
{
	SKD_ENG_OUTCOME_free(k->out);
	skd_keygen_result_clear(&k->res);
	skd_engine_mem_free(k->mem);
	X509_STORE_free(k->cfg.trust);
}

/* Sends r from who; returns the answer's DER (borrowed from k->out). */
static const ASN1_OCTET_STRING *
kt_send(struct kt *k, const struct skd_keygen_req *r, enum skd_test_who who)
{
	unsigned char *msg = NULL;
	size_t len = 0;
	const SKD_ENG_OP *op;

	ck_assert_int_eq(skd_keygen_request(&msg, &len, r, 7, nonce,
	    skd_test_pki_id(who)->cert, skd_test_pki_id(who)->key, NULL,
	    TE_NOW), 1);
	SKD_ENG_OUTCOME_free(k->out);
	k->out = NULL;
	ck_assert_int_eq(skd_engine_process(&k->out, &k->cfg, &k->env, &k->st,
	    "req-1", msg, len), 1);
	OPENSSL_free(msg);
	ck_assert_int_eq(skd_engine_mem_apply(k->mem, k->out), 1);
	op = skd_engine_outcome_find(k->out, SKD_OP_RESPONSE, 0);
	ck_assert_ptr_nonnull(op);
	return sk_ASN1_OCTET_STRING_value(op->publish->messages, 0);
}

/* The answer, opened by the client as who_open. */
static void
kt_open(struct kt *k, const ASN1_OCTET_STRING *ans,
    const struct skd_shroud_opener *who)
{
	X509_STORE *trust = skd_test_pki_store(0);

	skd_keygen_result_clear(&k->res);
	ck_assert_msg(skd_keygen_open_response(&k->res, ans->data,
	    (size_t)ans->length, nonce, who, trust, TE_NOW) == 1, "%s",
	    k->res.text);
	X509_STORE_free(trust);
}

static void
req_bare(struct skd_keygen_req *r, enum skd_kgen_type t, EVP_PKEY *eph)
{
	memset(r, 0, sizeof(*r));
	r->type = t;
	r->shroud = SKD_KEYGEN_BARE_KEY;
	r->bare_key = eph;
	r->ski = ski;
	r->ski_len = sizeof(ski);
}

/* 2.3: certificate for authentication, ephemeral key for protection. */
START_TEST(test_bare_key)
{
	static const enum skd_kgen_type t[] = { SKD_KGEN_RSA2048,
	    SKD_KGEN_P256, SKD_KGEN_P384, SKD_KGEN_RSA3072 };
	struct kt k;
	struct skd_keygen_req r;
	struct skd_shroud_opener who;
	EVP_PKEY *eph = skd_kgen_generate(_i % 2 ? SKD_KGEN_RSA2048 :
	    SKD_KGEN_P256), *arch;
	const ASN1_OCTET_STRING *ans;
	const SKD_ENG_OP *op;
	unsigned char *jr = NULL, *priv = NULL;
	size_t jr_len = 0, i;
	int priv_len;
	long st, cf, sf;

	kt_init(&k);
	req_bare(&r, t[_i], eph);
	ans = kt_send(&k, &r, SKD_TP_ALICE);
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_SUCCESS);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	kt_open(&k, ans, &who);
	ck_assert_int_eq(k.res.status, 0);
	ck_assert_int_eq(X509_check_private_key(k.res.cert, k.res.key), 1);
	ck_assert_int_eq(skd_kgen_type_from_spki(X509_get_X509_PUBKEY(
	    k.res.cert)), t[_i]);
	ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(k.res.cert),
	    X509_get_subject_name(skd_test_pki_id(SKD_TP_ALICE)->cert)), 0);
	/* The archive: one, for the recovery certificate. */
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_MESSAGE), 1);
	op = skd_engine_outcome_find(k.out, SKD_OP_MESSAGE, 0);
	ck_assert_int_eq(ASN1_INTEGER_get(op->publish->kind),
	    SKD_MSG_KEY_ARCHIVE);
	ck_assert_int_eq(sk_ASN1_UTF8STRING_num(op->publish->recipients), 0);
	memset(&who, 0, sizeof(who));
	who.key = skd_test_pki_id(SKD_TP_GLA)->key;
	who.cert = skd_test_pki_id(SKD_TP_GLA)->cert;
	{
		ASN1_OCTET_STRING *a = sk_ASN1_OCTET_STRING_value(
		    op->publish->messages, 0);
		X509_STORE *trust = skd_test_pki_store(0);

		arch = skd_kgen_open(a->data, (size_t)a->length, &who, trust,
		    TE_NOW, NULL);
		X509_STORE_free(trust);
	}
	ck_assert_ptr_nonnull(arch);
	ck_assert_int_eq(EVP_PKEY_eq(arch, k.res.key), 1);
	EVP_PKEY_free(arch);
	/* The journal never holds the key in the clear. */
	ck_assert_int_eq(skd_engine_outcome_encode(&jr, &jr_len, k.out), 1);
	{
		BIGNUM *d = NULL;

		ck_assert_int_eq(EVP_PKEY_get_bn_param(k.res.key,
		    EVP_PKEY_is_a(k.res.key, "RSA") ? "d" : "priv", &d), 1);
		priv_len = BN_num_bytes(d);
		priv = OPENSSL_malloc((size_t)priv_len);
		ck_assert_int_eq(BN_bn2bin(d, priv), priv_len);
		BN_clear_free(d);
	}
	ck_assert_int_gt(priv_len, 24);
	for (i = 0; i + 24 <= jr_len; i++)
		ck_assert(memcmp(jr + i, priv, 24) != 0);
	OPENSSL_free(jr);
	OPENSSL_clear_free(priv, (size_t)priv_len);
	EVP_PKEY_free(eph);
	kt_free(&k);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* 2.4.1 / 2.4.2: a certificate, carried or named. */
START_TEST(test_cert_shroud)
{
	struct kt k;
	struct skd_keygen_req r;
	struct skd_shroud_opener who;
	enum skd_test_who me = _i == 0 ? SKD_TP_ALICE : SKD_TP_BOB;
	const ASN1_OCTET_STRING *ans;

	kt_init(&k);
	memset(&r, 0, sizeof(r));
	r.type = SKD_KGEN_P256;
	r.shroud = _i == 0 ? SKD_KEYGEN_CERT : SKD_KEYGEN_CERT_ID;
	r.shroud_cert = skd_test_pki_id(me)->cert;
	r.no_archive = 1;
	ans = kt_send(&k, &r, me);
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_MESSAGE), 0);
	memset(&who, 0, sizeof(who));
	who.key = skd_test_pki_id(me)->key;
	who.cert = skd_test_pki_id(me)->cert;
	kt_open(&k, ans, &who);
	ck_assert_int_eq(k.res.status, 0);
	ck_assert_int_eq(X509_check_private_key(k.res.cert, k.res.key), 1);
	kt_free(&k);
}
END_TEST

/* The bodyList of the first CMCStatusInfoV2 of a signed answer. */
static size_t
kt_status_ids(const ASN1_OCTET_STRING *ans, long *ids, size_t max)
{
	const unsigned char *p = ans->data;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, ans->length);
	ASN1_OCTET_STRING **pos;
	SKD_PKI_RESPONSE *pr;
	const SKD_TAGGED_ATTRIBUTE *ta;
	SKD_CMC_STATUS_INFO_V2 *st;
	size_t n = 0;
	int i;

	ck_assert_ptr_nonnull(cms);
	ck_assert((pos = CMS_get0_content(cms)) != NULL && *pos != NULL);
	pr = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_RESPONSE), (*pos)->data,
	    (size_t)(*pos)->length);
	ck_assert_ptr_nonnull(pr);
	ta = skd_cmc_find_control(pr->controlSequence,
	    SKD_OID_CMC_STATUS_INFO_V2, 0);
	ck_assert_ptr_nonnull(ta);
	st = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2));
	ck_assert_ptr_nonnull(st);
	for (i = 0; i < sk_SKD_BODY_PART_REFERENCE_num(st->bodyList) &&
	    n < max; i++) {
		const SKD_BODY_PART_REFERENCE *ref =
		    sk_SKD_BODY_PART_REFERENCE_value(st->bodyList, i);

		ck_assert_int_eq(ref->type, SKD_BODY_PART_REF_ID);
		ids[n++] = ASN1_INTEGER_get(ref->d.bodyPartID);
	}
	SKD_CMC_STATUS_INFO_V2_free(st);
	SKD_PKI_RESPONSE_free(pr);
	CMS_ContentInfo_free(cms);
	return n;
}

/* A template key of algorithm nid (curve: its namedCurve, or NID_undef)
 * with a zero length key, as draft 6.1 has a CRMF publicKey. */
static X509_PUBKEY *
empty_spki(int nid, int curve)
{
	X509_PUBKEY *x = X509_PUBKEY_new();

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(X509_PUBKEY_set0_param(x, OBJ_nid2obj(nid),
	    curve != NID_undef ? V_ASN1_OBJECT : V_ASN1_UNDEF,
	    curve != NID_undef ? OBJ_nid2obj(curve) : NULL, NULL, 0), 1);
	return x;
}

/* Sends r from alice and checks the refusal: want_fail / want_ext,
 * nothing generated or published; the template request's BodyPartID (a
 * PKCS#10's bodyPartID, a CRMF certReqId, RFC 5272 3.2.1.2) named beside
 * the control when req_named. */
static void
kt_refused(struct kt *k, const struct skd_keygen_req *r, EVP_PKEY *eph,
    long want_fail, const char *want_ext, int req_named)
{
	struct skd_shroud_opener who;
	const ASN1_OCTET_STRING *ans;
	long st, cf, sf, ids[4];

	ans = kt_send(k, r, SKD_TP_ALICE);
	ck_assert_int_eq(skd_engine_outcome_result(k->out, 0, &st, &cf, &sf),
	    1);
	ck_assert_int_eq(st, SKD_CMC_FAILED);
	ck_assert_uint_eq(skd_engine_outcome_count(k->out, SKD_OP_MESSAGE), 0);
	ck_assert_uint_eq(skd_engine_outcome_count(k->out,
	    SKD_OP_CERT_PUBLISH), 0);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	kt_open(k, ans, &who);
	ck_assert_int_eq(k->res.status, SKD_CMC_FAILED);
	ck_assert_ptr_null(k->res.key);
	ck_assert_str_eq(k->res.ext_fail, want_ext);
	ck_assert_int_eq(k->res.fail, want_fail);
	ck_assert_uint_eq(kt_status_ids(ans, ids, 4), req_named ? 2 : 1);
	ck_assert_int_eq(ids[0], 1);
	if (req_named)
		ck_assert_int_eq(ids[1], SKD_KEYGEN_CERT_REQ_ID);
}

/* Refusals: which field, which answer (status failed always); loop
 * R_COUNT and up: the same with a CRMF template. */
enum refusal {
	R_OTHER_PERSON_CERT,	/* 4.1: badCertificate */
	R_UNTRUSTED_CERT,	/* 4.1: badCertificate */
	R_KEY_TYPE,		/* 6.1: badAlg */
	R_EXTENSION,		/* 6.1: unsupportedExt */
	R_NO_ARCHIVE,		/* 7: archiveNotSupported */
	R_NOT_OFFERED,		/* badRequest */
	R_OTHER_SUBJECT,	/* badIdentity */
	R_BAD_CAPS,		/* 6.1: badAlg */
	R_SMALL_BARE_KEY,	/* 4.1: badAlg */
	R_COUNT
};

START_TEST(test_refusals)
{
	struct kt k;
	struct skd_keygen_req r;
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256), *ed = NULL,
	    *small = NULL;
	X509_PUBKEY *edspki = NULL;
	X509_NAME *other = NULL;
	X509_EXTENSION *ext = NULL;
	X509_ALGOR *alg = NULL;
	const char *want_ext = "";
	long want_fail = -1;
	int crmf = _i >= R_COUNT;

	kt_init(&k);
	req_bare(&r, SKD_KGEN_P256, eph);
	r.crmf = crmf;
	switch ((enum refusal)(_i % R_COUNT)) {
	case R_OTHER_PERSON_CERT:
		r.shroud = SKD_KEYGEN_CERT;
		r.shroud_cert = skd_test_pki_id(SKD_TP_BOB)->cert;
		want_ext = "badCertificate";
		break;
	case R_UNTRUSTED_CERT:
		r.shroud = SKD_KEYGEN_CERT;
		r.shroud_cert = skd_test_pki_id(SKD_TP_STRANGER)->cert;
		want_ext = "badCertificate";
		break;
	case R_KEY_TYPE:
		/* CRMF: the algorithm alone (a key is badRequest there). */
		ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		if (crmf)
			edspki = empty_spki(NID_ED25519, NID_undef);
		else
			ck_assert_int_eq(X509_PUBKEY_set(&edspki, ed), 1);
		r.template_spki = edspki;
		want_fail = SKD_CMC_BAD_ALG;
		break;
	case R_EXTENSION:
		r.exts = sk_X509_EXTENSION_new_null();
		ext = X509V3_EXT_conf_nid(NULL, NULL,
		    NID_crl_distribution_points, "URI:http://x.example/");
		ck_assert(sk_X509_EXTENSION_push(r.exts, ext));
		want_fail = SKD_CMC_UNSUPPORTED_EXT;
		break;
	case R_NO_ARCHIVE:
		k.ca.recovery_cert = NULL;
		want_ext = "archiveNotSupported";
		break;
	case R_NOT_OFFERED:
		k.cfg.keygen = NULL;
		want_fail = SKD_CMC_BAD_REQUEST;
		break;
	case R_OTHER_SUBJECT:
		other = X509_NAME_dup(X509_get_subject_name(
		    skd_test_pki_id(SKD_TP_BOB)->cert));
		r.subject = other;
		want_fail = SKD_CMC_BAD_IDENTITY;
		break;
	case R_BAD_CAPS:
		r.caps = sk_X509_ALGOR_new_null();
		alg = X509_ALGOR_new();
		ck_assert_int_eq(X509_ALGOR_set0(alg, OBJ_nid2obj(NID_des_cbc),
		    V_ASN1_UNDEF, NULL), 1);
		ck_assert(sk_X509_ALGOR_push(r.caps, alg));
		want_fail = SKD_CMC_BAD_ALG;
		break;
	case R_SMALL_BARE_KEY:
		small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
		r.bare_key = small;
		want_fail = SKD_CMC_BAD_ALG;
		break;
	case R_COUNT:
		break;
	}
	/* Not offered: refused before the request is read. */
	kt_refused(&k, &r, eph, want_fail, want_ext,
	    _i % R_COUNT != R_NOT_OFFERED);
	sk_X509_EXTENSION_pop_free(r.exts, X509_EXTENSION_free);
	sk_X509_ALGOR_pop_free(r.caps, X509_ALGOR_free);
	X509_NAME_free(other);
	X509_PUBKEY_free(edspki);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(small);
	EVP_PKEY_free(eph);
	kt_free(&k);
}
END_TEST

/* A replayed request: no second key (3.2.4.3 / draft 2: nonces). */
START_TEST(test_replay)
{
	struct kt k;
	struct skd_keygen_req r;
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	unsigned char *msg = NULL;
	size_t len = 0;
	long st, cf, sf;
	int pass;

	kt_init(&k);
	req_bare(&r, SKD_KGEN_P256, eph);
	ck_assert_int_eq(skd_keygen_request(&msg, &len, &r, 9, nonce,
	    skd_test_pki_id(SKD_TP_ALICE)->cert,
	    skd_test_pki_id(SKD_TP_ALICE)->key, NULL, TE_NOW), 1);
	for (pass = 0; pass < 2; pass++) {
		SKD_ENG_OUTCOME_free(k.out);
		ck_assert_int_eq(skd_engine_process(&k.out, &k.cfg, &k.env,
		    &k.st, "req-r", msg, len), 1);
		ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf,
		    &sf), 1);
		ck_assert_int_eq(st, pass == 0 ? SKD_CMC_SUCCESS :
		    SKD_CMC_FAILED);
		ck_assert_uint_eq(skd_engine_outcome_count(k.out,
		    SKD_OP_MESSAGE), pass == 0 ? 1 : 0);
	}
	OPENSSL_free(msg);
	EVP_PKEY_free(eph);
	kt_free(&k);
}
END_TEST

/* ---- shared secrets (2.1, 2.2) ---- */

#define CAROL_DN	"dirName:CN=carol,O=skd test,C=US"
#define DAVE_DN		"dirName:CN=dave,O=skd test,C=US"

static struct {
	const char	*id;
	const char	*identity;
	const char	*secret;
	int		 used;
	time_t		 not_after;
	long		 failures;
} secrets[] = {
	{ "carol-1", CAROL_DN, "carol's first secret", 0, 0, 0 },
	{ "carol-used", CAROL_DN, "spent", 1, 0, 0 },
	{ "carol-old", CAROL_DN, "too late", 0, TE_NOW - 1, 0 },
	{ "carol-locked", CAROL_DN, "locked", 0, 0, 5 },
	{ "carol-2", CAROL_DN, "carol's second secret", 0, 0, 0 },
	{ "dave-1", DAVE_DN, "dave's secret", 0, 0, 0 },
};

static int
kt_secret(void *ctx, struct skd_store_secret **out, const char *id)
{
	struct skd_cms_recip rc;
	struct skd_store_secret *x;
	unsigned char *w = NULL;
	size_t i, wl = 0;

	(void)ctx;
	*out = NULL;
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (strcmp(secrets[i].id, id) != 0)
			continue;
		memset(&rc, 0, sizeof(rc));
		rc.type = SKD_CMS_RECIP_CERT;
		rc.cert = skd_test_pki_id(SKD_TP_GLA)->cert;
		ck_assert_int_eq(skd_cms_envelope(&w, &wl,
		    OBJ_nid2obj(NID_pkcs7_data),
		    (const unsigned char *)secrets[i].secret,
		    strlen(secrets[i].secret), &rc, 1, NULL), 1);
		x = calloc(1, sizeof(*x));
		x->id = strdup(id);
		x->identity = strdup(secrets[i].identity);
		x->wrapped = malloc(wl);
		memcpy(x->wrapped, w, wl);
		x->wrapped_len = wl;
		x->used = secrets[i].used;
		x->not_after = secrets[i].not_after;
		x->failures = secrets[i].failures;
		OPENSSL_free(w);
		*out = x;
		return 1;
	}
	return 0;
}

/* Sends r authenticated by secret id/value; returns the answer. */
static const ASN1_OCTET_STRING *
kt_send_secret(struct kt *k, struct skd_keygen_req *r, const char *id,
    const char *secret)
{
	unsigned char *msg = NULL;
	size_t len = 0;
	const SKD_ENG_OP *op;

	r->secret_id = id;
	r->secret = (const unsigned char *)secret;
	r->secret_len = strlen(secret);
	k->env.keygen_secret = kt_secret;
	ck_assert_int_eq(skd_keygen_request(&msg, &len, r, 8, nonce, NULL,
	    NULL, NULL, TE_NOW), 1);
	SKD_ENG_OUTCOME_free(k->out);
	k->out = NULL;
	ck_assert_int_eq(skd_engine_process(&k->out, &k->cfg, &k->env, &k->st,
	    "req-s", msg, len), 1);
	OPENSSL_free(msg);
	op = skd_engine_outcome_find(k->out, SKD_OP_RESPONSE, 0);
	ck_assert_ptr_nonnull(op);
	return sk_ASN1_OCTET_STRING_value(op->publish->messages, 0);
}

/* 2.1 (pwri) and 2.2 (bare key): carol has no certificate yet. */
START_TEST(test_secret_ok)
{
	struct kt k;
	struct skd_keygen_req r;
	struct skd_shroud_opener who;
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	const ASN1_OCTET_STRING *ans;
	const SKD_ENG_OP *op;
	GENERAL_NAME *gn = te_gn(CAROL_DN);

	kt_init(&k);
	memset(&r, 0, sizeof(r));
	r.type = SKD_KGEN_P256;
	memset(&who, 0, sizeof(who));
	if (_i == 0) {
		r.shroud = SKD_KEYGEN_SHARED_SECRET;
		who.password = (const unsigned char *)secrets[0].secret;
		who.password_len = strlen(secrets[0].secret);
	} else if (_i == 1) {
		req_bare(&r, SKD_KGEN_P256, eph);
		who.key = eph;
	} else {
		/* 4.2: another secret of the same identity protects it. */
		r.shroud = SKD_KEYGEN_SHARED_SECRET;
		r.shroud_secret_id = "carol-2";
		who.password = (const unsigned char *)secrets[4].secret;
		who.password_len = strlen(secrets[4].secret);
	}
	ans = kt_send_secret(&k, &r, "carol-1", secrets[0].secret);
	kt_open(&k, ans, &who);
	ck_assert_int_eq(k.res.status, 0);
	ck_assert_int_eq(X509_check_private_key(k.res.cert, k.res.key), 1);
	ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(k.res.cert),
	    gn->d.directoryName), 0);
	/* Single use: spent (both secrets when two were used). */
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_SECRET_USE),
	    _i == 2 ? 2 : 1);
	op = skd_engine_outcome_find(k.out, SKD_OP_SECRET_USE, 0);
	ck_assert_int_eq(ASN1_STRING_length(op->name), 7);
	GENERAL_NAME_free(gn);
	EVP_PKEY_free(eph);
	kt_free(&k);
}
END_TEST

/* Wrong, reused, expired, unknown, locked secrets; another identity's
 * secret for the shroud: badSharedSecret, nothing generated. */
START_TEST(test_secret_refusals)
{
	static const struct {
		const char	*id;
		const char	*secret;
		const char	*shroud_id;
		int		 counts_failure;
	} c[] = {
		{ "carol-1", "wrong secret", NULL, 1 },
		{ "carol-used", "spent", NULL, 0 },
		{ "carol-old", "too late", NULL, 0 },
		{ "nobody", "whatever", NULL, 0 },
		{ "carol-locked", "locked", NULL, 0 },
		{ "carol-1", "carol's first secret", "dave-1", 0 },
	};
	struct kt k;
	struct skd_keygen_req r;
	struct skd_shroud_opener who;
	const ASN1_OCTET_STRING *ans;
	long st, cf, sf;

	kt_init(&k);
	memset(&r, 0, sizeof(r));
	r.type = SKD_KGEN_P256;
	r.shroud = SKD_KEYGEN_SHARED_SECRET;
	r.shroud_secret_id = c[_i].shroud_id;
	ans = kt_send_secret(&k, &r, c[_i].id, c[_i].secret);
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_FAILED);
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_MESSAGE), 0);
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_SECRET_USE),
	    0);
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_SECRET_FAIL),
	    (size_t)c[_i].counts_failure);
	memset(&who, 0, sizeof(who));
	who.password = (const unsigned char *)"x";
	who.password_len = 1;
	kt_open(&k, ans, &who);
	ck_assert_int_eq(k.res.status, SKD_CMC_FAILED);
	ck_assert_str_eq(k.res.ext_fail, "badSharedSecret");
	kt_free(&k);
}
END_TEST

/* AuthenticatedData: our own builder and verifier agree; tampering,
 * wrong passwords and BER are refused. */
START_TEST(test_authdata)
{
	static const unsigned char pw[] = "correct horse";
	unsigned char *der = NULL, *content = NULL;
	size_t len = 0, clen = 0, i;
	ASN1_OBJECT *type = NULL;

	ck_assert_int_eq(skd_authdata_build(&der, &len,
	    OBJ_nid2obj(NID_pkcs7_data), (const unsigned char *)"hello", 5, pw,
	    sizeof(pw) - 1, 1000), 1);
	ck_assert_int_eq(skd_authdata_is(der, len), 1);
	ck_assert_int_eq(skd_authdata_verify(der, len, pw, sizeof(pw) - 1), 1);
	ck_assert_int_eq(skd_authdata_verify(der, len, pw, sizeof(pw) - 2), 0);
	ck_assert_int_eq(skd_authdata_peek(&content, &clen, &type, der, len),
	    1);
	ck_assert_uint_eq(clen, 5);
	ck_assert_int_eq(memcmp(content, "hello", 5), 0);
	ck_assert_int_eq(OBJ_obj2nid(type), NID_pkcs7_data);
	OPENSSL_free(content);
	ASN1_OBJECT_free(type);
	/* Any bit flipped: refused (MAC, wrap check or DER). */
	for (i = 0; i < len; i += 7) {
		der[i] ^= 0x01;
		ck_assert_int_ne(skd_authdata_verify(der, len, pw,
		    sizeof(pw) - 1), 1);
		der[i] ^= 0x01;
	}
	ck_assert_int_eq(skd_authdata_verify(der, len - 1, pw, sizeof(pw) - 1),
	    -1);
	OPENSSL_free(der);
	/* The RFC 3211 wrap round trip, all three AES sizes. */
	{
		unsigned char kek[32] = { 1 }, iv[16] = { 2 }, key[32] = { 3 };
		unsigned char w[64], u[64];
		size_t wl, ul, kl;

		for (kl = 16; kl <= 32; kl += 8) {
			wl = sizeof(w);
			ul = sizeof(u);
			ck_assert_int_eq(skd_pwri_kek_wrap(w, &wl, kek, kl, iv,
			    key, 16), 1);
			ck_assert_int_eq(skd_pwri_kek_unwrap(u, &ul, kek, kl,
			    iv, w, wl), 1);
			ck_assert_uint_eq(ul, 16);
			ck_assert_int_eq(memcmp(u, key, 16), 0);
			kek[0] ^= 1;
			ul = sizeof(u);
			ck_assert_int_eq(skd_pwri_kek_unwrap(u, &ul, kek, kl,
			    iv, w, wl), 0);
			kek[0] ^= 1;
		}
	}
	ERR_clear_error();
}
END_TEST

/* ---- CRMF templates (RFC 4211 CertReqMsg in TaggedRequest crm [1]) ---- */

/* The serverKeyGenRequest of a request the client signed. */
static SKD_SERVER_KEY_GEN_REQUEST *
kt_request_skg(const unsigned char *msg, size_t len)
{
	const unsigned char *p = msg;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	ASN1_OCTET_STRING **pos;
	SKD_PKI_DATA *pd;
	SKD_SERVER_KEY_GEN_REQUEST *skg;

	ck_assert_ptr_nonnull(cms);
	ck_assert((pos = CMS_get0_content(cms)) != NULL && *pos != NULL);
	pd = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_DATA), (*pos)->data,
	    (size_t)(*pos)->length);
	ck_assert_ptr_nonnull(pd);
	skg = skd_tagged_attribute_decode1(skd_cmc_find_control(
	    pd->controlSequence, SKD_OID_SERVER_KEY_GEN_REQUEST, 0), 0,
	    ASN1_ITEM_rptr(SKD_SERVER_KEY_GEN_REQUEST));
	ck_assert_ptr_nonnull(skg);
	SKD_PKI_DATA_free(pd);
	CMS_ContentInfo_free(cms);
	return skg;
}

/* What skd keygen --template crmf sends: crm [1], the certReqId, the
 * subject, the extensions, the algorithm with a zero length key (draft
 * 6.1), no POP. */
START_TEST(test_crmf_request)
{
	struct skd_keygen_req r;
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	SKD_SERVER_KEY_GEN_REQUEST *skg;
	const SKD_CRMF_MSG *m;
	const unsigned char *pk;
	unsigned char *msg = NULL;
	size_t len = 0;
	int pklen;

	req_bare(&r, SKD_KGEN_P384, eph);
	r.crmf = 1;
	r.exts = sk_X509_EXTENSION_new_null();
	ck_assert(sk_X509_EXTENSION_push(r.exts, X509V3_EXT_conf_nid(NULL,
	    NULL, NID_ext_key_usage, "emailProtection")));
	ck_assert_int_eq(skd_keygen_request(&msg, &len, &r, 7, nonce,
	    skd_test_pki_id(SKD_TP_ALICE)->cert,
	    skd_test_pki_id(SKD_TP_ALICE)->key, NULL, TE_NOW), 1);
	skg = kt_request_skg(msg, len);
	ck_assert_int_eq(skg->certificateRequest->type,
	    SKD_TAGGED_REQUEST_CRM);
	m = skg->certificateRequest->d.crm;
	ck_assert_int_eq(ASN1_INTEGER_get(m->certReq->certReqId),
	    SKD_KEYGEN_CERT_REQ_ID);
	ck_assert_ptr_null(m->popo);
	ck_assert_int_eq(X509_NAME_cmp(m->certReq->certTemplate->subject,
	    X509_get_subject_name(skd_test_pki_id(SKD_TP_ALICE)->cert)), 0);
	ck_assert_int_eq(sk_X509_EXTENSION_num(
	    m->certReq->certTemplate->extensions), 1);
	ck_assert_int_eq(X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL,
	    m->certReq->certTemplate->publicKey), 1);
	ck_assert_int_eq(pklen, 0);
	ck_assert_int_eq(skd_kgen_type_from_spki(
	    m->certReq->certTemplate->publicKey), SKD_KGEN_P384);
	/* OpenSSL's own CRMF decoder reads the same message. */
	{
		unsigned char *der = NULL;
		const unsigned char *p;
		size_t dl = 0;
		OSSL_CRMF_MSG *om;

		ck_assert(skd_der_encode(ASN1_ITEM_rptr(SKD_CRMF_MSG), m, &der,
		    &dl));
		p = der;
		ck_assert_ptr_nonnull(om = d2i_OSSL_CRMF_MSG(NULL, &p,
		    (long)dl));
		ck_assert_int_eq(OSSL_CRMF_MSG_get_certReqId(om),
		    SKD_KEYGEN_CERT_REQ_ID);
		ck_assert_int_eq(X509_NAME_cmp(
		    OSSL_CRMF_CERTTEMPLATE_get0_subject(
		    OSSL_CRMF_MSG_get0_tmpl(om)),
		    X509_get_subject_name(skd_test_pki_id(SKD_TP_ALICE)->cert)),
		    0);
		OSSL_CRMF_MSG_free(om);
		OPENSSL_free(der);
	}
	SKD_SERVER_KEY_GEN_REQUEST_free(skg);
	OPENSSL_free(msg);
	sk_X509_EXTENSION_pop_free(r.exts, X509_EXTENSION_free);
	EVP_PKEY_free(eph);
}
END_TEST

/* The four scenarios of draft 2 with a CRMF template: 2.3 (three key
 * types, an extension honoured), 2.4, 2.1, 2.2. */
START_TEST(test_crmf_scenarios)
{
	static const enum skd_kgen_type t[] = { SKD_KGEN_P256,
	    SKD_KGEN_RSA2048, SKD_KGEN_P384, SKD_KGEN_P256, SKD_KGEN_P384,
	    SKD_KGEN_RSA2048 };
	struct kt k;
	struct skd_keygen_req r;
	struct skd_shroud_opener who;
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	const ASN1_OCTET_STRING *ans;
	const X509_NAME *want;
	GENERAL_NAME *carol = te_gn(CAROL_DN);
	EXTENDED_KEY_USAGE *eku;
	long st, cf, sf;

	kt_init(&k);
	req_bare(&r, t[_i], eph);
	r.crmf = 1;
	memset(&who, 0, sizeof(who));
	who.key = eph;
	want = X509_get_subject_name(skd_test_pki_id(SKD_TP_ALICE)->cert);
	if (_i == 0) {
		r.exts = sk_X509_EXTENSION_new_null();
		ck_assert(sk_X509_EXTENSION_push(r.exts, X509V3_EXT_conf_nid(
		    NULL, NULL, NID_ext_key_usage, "emailProtection")));
	}
	if (_i == 3) {
		r.shroud = SKD_KEYGEN_CERT;
		r.shroud_cert = skd_test_pki_id(SKD_TP_ALICE)->cert;
		who.key = skd_test_pki_id(SKD_TP_ALICE)->key;
		who.cert = skd_test_pki_id(SKD_TP_ALICE)->cert;
	}
	if (_i >= 4) {
		want = carol->d.directoryName;
		if (_i == 4) {
			r.shroud = SKD_KEYGEN_SHARED_SECRET;
			who.key = NULL;
			who.password = (const unsigned char *)
			    secrets[0].secret;
			who.password_len = strlen(secrets[0].secret);
		}
		ans = kt_send_secret(&k, &r, "carol-1", secrets[0].secret);
	} else {
		ans = kt_send(&k, &r, SKD_TP_ALICE);
	}
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_SUCCESS);
	kt_open(&k, ans, &who);
	ck_assert_int_eq(k.res.status, 0);
	ck_assert_int_eq(X509_check_private_key(k.res.cert, k.res.key), 1);
	ck_assert_int_eq(skd_kgen_type_from_spki(X509_get_X509_PUBKEY(
	    k.res.cert)), t[_i]);
	ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(k.res.cert),
	    want), 0);
	eku = X509_get_ext_d2i(k.res.cert, NID_ext_key_usage, NULL, NULL);
	ck_assert_int_eq(eku != NULL, _i == 0);
	EXTENDED_KEY_USAGE_free(eku);
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_MESSAGE), 1);
	sk_X509_EXTENSION_pop_free(r.exts, X509_EXTENSION_free);
	GENERAL_NAME_free(carol);
	EVP_PKEY_free(eph);
	kt_free(&k);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* Hostile CRMF templates the client library can build beside those of
 * test_refusals: a curve not offered (badAlg), a key in the publicKey
 * (draft 6.1 wants a zero length one: badRequest). */
START_TEST(test_crmf_refusals)
{
	struct kt k;
	struct skd_keygen_req r;
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	X509_PUBKEY *spki = NULL;

	kt_init(&k);
	req_bare(&r, SKD_KGEN_P256, eph);
	r.crmf = 1;
	if (_i == 0)
		spki = empty_spki(NID_X9_62_id_ecPublicKey, NID_secp521r1);
	else
		ck_assert_int_eq(X509_PUBKEY_set(&spki, eph), 1);
	r.template_spki = spki;
	kt_refused(&k, &r, eph, _i == 0 ? SKD_CMC_BAD_ALG :
	    SKD_CMC_BAD_REQUEST, "", 1);
	X509_PUBKEY_free(spki);
	EVP_PKEY_free(eph);
	kt_free(&k);
}
END_TEST

/* Hostile CertReqMsgs built by hand (what skd's client never sends):
 * RFC 4211 fields the CA cannot honour, proofs of possession for a key
 * the client cannot hold, BER for DER.  Refused, nothing generated. */
enum crmf_hand {
	H_DER,			/* the control: accepted */
	H_POPO_SIGNATURE,	/* badRequest */
	H_POPO_KEY_ENC,		/* badRequest */
	H_RA_VERIFIED,		/* accepted (RFC 4211 4) */
	H_CONTROLS,		/* RFC 4211 6: badRequest */
	H_SERIAL,		/* RFC 4211 5 MUST be omitted: badRequest */
	H_VALIDITY,		/* the profile's: badRequest */
	H_OTHER_ISSUER,		/* badRequest */
	H_NEGATIVE_ID,		/* not a BodyPartID: badRequest */
	H_BER,			/* critical 0x01, not 0xff: badRequest */
	H_COUNT
};

/* shroudWithPublicKey { certificate alice } (4.1). */
static X509_ALGOR *
cert_shroud_method(void)
{
	SKD_SHROUD_WITH_PUBLIC_KEY *sp = SKD_SHROUD_WITH_PUBLIC_KEY_new();
	X509_ALGOR *m = X509_ALGOR_new();
	ASN1_STRING *seq = NULL;

	sp->type = SKD_SHROUD_PK_CERTIFICATE;
	sp->d.certificate = X509_dup(skd_test_pki_id(SKD_TP_ALICE)->cert);
	ck_assert_ptr_nonnull(ASN1_item_pack(sp,
	    ASN1_ITEM_rptr(SKD_SHROUD_WITH_PUBLIC_KEY), &seq));
	ck_assert_int_eq(X509_ALGOR_set0(m, OBJ_nid2obj(skd_asn1_nid(
	    SKD_OID_SHROUD_WITH_PUBLIC_KEY)), V_ASN1_SEQUENCE, seq), 1);
	SKD_SHROUD_WITH_PUBLIC_KEY_free(sp);
	return m;
}

START_TEST(test_crmf_hostile)
{
	struct kt k;
	SKD_SERVER_KEY_GEN_REQUEST *skg = SKD_SERVER_KEY_GEN_REQUEST_new();
	SKD_CRMF_MSG *m = SKD_CRMF_MSG_new();
	SKD_CRMF_TEMPLATE *t = m->certReq->certTemplate;
	SKD_CRMF_ATAV *av;
	X509_ALGOR *alg = X509_ALGOR_new();
	struct skd_cmc_body *b;
	struct skd_cmc_protect pr;
	struct skd_keygen_result res;
	struct skd_shroud_opener who;
	X509_STORE *trust;
	const SKD_ENG_OP *op;
	unsigned char *body = NULL, *msg = NULL;
	size_t blen = 0, len = 0, i, patched = 0;
	long st, cf, sf;
	int ok = _i == H_DER || _i == H_RA_VERIFIED;

	kt_init(&k);
	ck_assert(ASN1_INTEGER_set(m->certReq->certReqId, 5));
	t->subject = X509_NAME_dup(X509_get_subject_name(
	    skd_test_pki_id(SKD_TP_ALICE)->cert));
	ck_assert(X509_ALGOR_set0(alg, OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
	    V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1)));
	ck_assert(skd_crmf_set_template_key(m, alg));
	/* A keyUsage the profile gives (honoured), critical. */
	t->extensions = sk_X509_EXTENSION_new_null();
	ck_assert(sk_X509_EXTENSION_push(t->extensions, X509V3_EXT_conf_nid(
	    NULL, NULL, NID_key_usage, "critical,keyAgreement")));
	switch ((enum crmf_hand)_i) {
	case H_POPO_SIGNATURE:
	case H_POPO_KEY_ENC:
	case H_RA_VERIFIED:
		m->popo = SKD_CRMF_POPO_new();
		if (_i == H_RA_VERIFIED) {
			m->popo->type = SKD_CRMF_POPO_RA_VERIFIED;
			m->popo->d.raVerified = ASN1_NULL_new();
		} else if (_i == H_POPO_KEY_ENC) {
			m->popo->type = SKD_CRMF_POPO_KEY_ENCIPHERMENT;
			m->popo->d.keyEncipherment = ASN1_TYPE_new();
			ck_assert(ASN1_TYPE_set1(m->popo->d.keyEncipherment,
			    V_ASN1_NULL, NULL));
		} else {
			m->popo->type = SKD_CRMF_POPO_SIGNATURE;
			m->popo->d.signature = sk_ASN1_TYPE_new_null();
		}
		break;
	case H_CONTROLS:
		av = SKD_CRMF_ATAV_new();
		ck_assert_ptr_nonnull(av->type = OBJ_txt2obj(
		    "1.3.6.1.5.5.7.5.1.1", 1));	/* id-regCtrl-regToken */
		ASN1_TYPE_set(av->value, V_ASN1_NULL, NULL);
		m->certReq->controls = sk_SKD_CRMF_ATAV_new_null();
		ck_assert(sk_SKD_CRMF_ATAV_push(m->certReq->controls, av));
		break;
	case H_SERIAL:
		t->serialNumber = ASN1_INTEGER_new();
		ck_assert(ASN1_INTEGER_set(t->serialNumber, 3));
		break;
	case H_VALIDITY:
		t->validity = SKD_CRMF_VALIDITY_new();
		t->validity->notAfter = ASN1_TIME_set(NULL, TE_NOW + 86400);
		break;
	case H_OTHER_ISSUER:
		t->issuer = X509_NAME_dup(X509_get_subject_name(
		    skd_test_pki_id(SKD_TP_BOB)->cert));
		break;
	case H_NEGATIVE_ID:
		ck_assert(ASN1_INTEGER_set(m->certReq->certReqId, -2));
		break;
	default:
		break;
	}
	skg->certificateRequest->type = SKD_TAGGED_REQUEST_CRM;
	skg->certificateRequest->d.crm = m;
	X509_ALGOR_free(skg->shroudMethod);
	skg->shroudMethod = cert_shroud_method();
	skd_skgreq_set_archive_key(skg, 0);
	b = te_body();
	te_add(b, SKD_OID_SERVER_KEY_GEN_REQUEST, skg);
	ck_assert(skd_cmc_body_encode(b, &body, &blen));
	skd_cmc_body_free(b);
	if (_i == H_BER) {
		/* X.690 11.1: TRUE is 0xff in DER; 0x01 is BER.  In the
		 * template's keyUsage (alice's certificate has its own). */
		unsigned char *ext = NULL;
		int n = i2d_X509_EXTENSION(sk_X509_EXTENSION_value(
		    t->extensions, 0), &ext);

		ck_assert_int_gt(n, 3);
		for (i = 0; i + (size_t)n <= blen; i++) {
			if (memcmp(body + i, ext, (size_t)n) == 0) {
				ck_assert(memcmp(body + i + 7, "\x01\x01\xff",
				    3) == 0);
				body[i + 9] = 0x01;
				patched++;
			}
		}
		OPENSSL_free(ext);
		ck_assert_uint_eq(patched, 1);
	}
	memset(&pr, 0, sizeof(pr));
	pr.signer = skd_test_pki_id(SKD_TP_ALICE)->cert;
	pr.key = skd_test_pki_id(SKD_TP_ALICE)->key;
	pr.signing_time = TE_NOW;
	ck_assert(skd_cmc_protect(&msg, &len, 0, body, blen, &pr));
	ck_assert_int_eq(skd_engine_process(&k.out, &k.cfg, &k.env, &k.st,
	    "req-h", msg, len), 1);
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, ok ? SKD_CMC_SUCCESS : SKD_CMC_FAILED);
	if (!ok) {
		ck_assert_uint_eq(skd_engine_outcome_count(k.out,
		    SKD_OP_CERT_PUBLISH), 0);
		ck_assert_uint_eq(skd_engine_outcome_count(k.out,
		    SKD_OP_MESSAGE), 0);
		ck_assert_int_eq(cf, SKD_CMC_BAD_REQUEST);
	}
	op = skd_engine_outcome_find(k.out, SKD_OP_RESPONSE, 0);
	if (op != NULL && _i != H_BER) {
		const ASN1_OCTET_STRING *ans = sk_ASN1_OCTET_STRING_value(
		    op->publish->messages, 0);

		memset(&who, 0, sizeof(who));
		who.key = skd_test_pki_id(SKD_TP_ALICE)->key;
		who.cert = skd_test_pki_id(SKD_TP_ALICE)->cert;
		memset(&res, 0, sizeof(res));
		trust = skd_test_pki_store(0);
		ck_assert_int_eq(skd_keygen_open_response(&res, ans->data,
		    (size_t)ans->length, te_nonce, &who, trust, TE_NOW), 1);
		X509_STORE_free(trust);
		ck_assert_int_eq(res.status, ok ? 0 : SKD_CMC_FAILED);
		ck_assert_int_eq(res.key != NULL, ok);
		if (ok) {
			ck_assert_int_eq(X509_check_private_key(res.cert,
			    res.key), 1);
		} else if (_i != H_BER && _i != H_NEGATIVE_ID) {
			long ids[4];

			ck_assert_uint_eq(kt_status_ids(ans, ids, 4), 2);
			ck_assert_int_eq(ids[1], 5);
		}
		skd_keygen_result_clear(&res);
	}
	OPENSSL_free(body);
	OPENSSL_free(msg);
	SKD_SERVER_KEY_GEN_REQUEST_free(skg);
	X509_ALGOR_free(alg);
	kt_free(&k);
}
END_TEST

/* ---- bodyPartIDs (RFC 5272 3.2: unique within a PKIData) ---- */

/* The PKIData of a request the client signed. */
static SKD_PKI_DATA *
kt_request_pd(const unsigned char *msg, size_t len)
{
	const unsigned char *p = msg;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	ASN1_OCTET_STRING **pos;
	SKD_PKI_DATA *pd;

	ck_assert_ptr_nonnull(cms);
	ck_assert((pos = CMS_get0_content(cms)) != NULL && *pos != NULL);
	pd = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_DATA), (*pos)->data,
	    (size_t)(*pos)->length);
	ck_assert_ptr_nonnull(pd);
	CMS_ContentInfo_free(cms);
	return pd;
}

/* What a PKCS#10 request's bodyPartID is changed to, and what the GLA
 * says (the client's controls: serverKeyGenRequest 1, transactionId 2,
 * senderNonce 3). */
enum p10_id {
	P_CLIENT,		/* as sent: SKD_KEYGEN_CERT_REQ_ID, accepted */
	P_ANY,			/* 77: accepted, any id will do */
	P_ANY_REFUSED,		/* 77, no archive offered: named beside 1 */
	P_SAME_AS_CONTROL,	/* 1: badRequest */
	P_SAME_AS_NONCE,	/* 3: badRequest */
	P_CONTROLS_SAME,	/* transactionId's id 3 too: badRequest */
	P_NOT_BODY_PART_ID,	/* 2^32: badRequest */
	P_COUNT
};

START_TEST(test_p10_body_part_ids)
{
	struct kt k;
	struct skd_keygen_req r;
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	SKD_SERVER_KEY_GEN_REQUEST *skg;
	SKD_TAGGED_ATTRIBUTE *ta;
	SKD_PKI_DATA *pd;
	ASN1_TYPE *val = NULL;
	struct skd_cmc_protect pr;
	struct skd_shroud_opener who;
	const SKD_ENG_OP *op;
	const ASN1_OCTET_STRING *ans;
	unsigned char *msg = NULL, *body = NULL;
	size_t len = 0, blen = 0;
	long st, cf, sf, ids[4], want_id = -1;
	int i, j, ok = _i == P_CLIENT || _i == P_ANY;

	kt_init(&k);
	req_bare(&r, SKD_KGEN_P256, eph);
	if (_i == P_ANY_REFUSED)
		k.ca.recovery_cert = NULL;
	ck_assert_int_eq(skd_keygen_request(&msg, &len, &r, 7, nonce,
	    skd_test_pki_id(SKD_TP_ALICE)->cert,
	    skd_test_pki_id(SKD_TP_ALICE)->key, NULL, TE_NOW), 1);
	pd = kt_request_pd(msg, len);
	OPENSSL_free(msg);
	msg = NULL;
	ta = (SKD_TAGGED_ATTRIBUTE *)skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_SERVER_KEY_GEN_REQUEST, 0);
	ck_assert_ptr_nonnull(ta);
	ck_assert_int_eq(ASN1_INTEGER_get(ta->bodyPartID), 1);
	skg = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(SKD_SERVER_KEY_GEN_REQUEST));
	ck_assert_ptr_nonnull(skg);
	ck_assert_int_eq(skg->certificateRequest->type,
	    SKD_TAGGED_REQUEST_TCR);
	/* What the client sends: the request's id, unlike every control's. */
	ck_assert_int_eq(ASN1_INTEGER_get(
	    skg->certificateRequest->d.tcr->bodyPartID),
	    SKD_KEYGEN_CERT_REQ_ID);
	for (i = 0; i < sk_SKD_TAGGED_ATTRIBUTE_num(pd->controlSequence);
	    i++) {
		ck_assert_int_ne(ASN1_INTEGER_get(sk_SKD_TAGGED_ATTRIBUTE_value(
		    pd->controlSequence, i)->bodyPartID),
		    SKD_KEYGEN_CERT_REQ_ID);
		for (j = 0; j < i; j++)
			ck_assert_int_ne(ASN1_INTEGER_cmp(
			    sk_SKD_TAGGED_ATTRIBUTE_value(pd->controlSequence,
			    i)->bodyPartID, sk_SKD_TAGGED_ATTRIBUTE_value(
			    pd->controlSequence, j)->bodyPartID), 0);
	}
	switch ((enum p10_id)_i) {
	case P_ANY:
	case P_ANY_REFUSED:
		want_id = 77;
		break;
	case P_SAME_AS_CONTROL:
		want_id = 1;
		break;
	case P_SAME_AS_NONCE:
		want_id = 3;
		break;
	case P_CONTROLS_SAME:
		ck_assert(ASN1_INTEGER_set(skd_cmc_find_control(
		    pd->controlSequence, SKD_OID_CMC_TRANSACTION_ID,
		    0)->bodyPartID, 3));
		break;
	case P_NOT_BODY_PART_ID:
		ck_assert(ASN1_INTEGER_set_int64(
		    skg->certificateRequest->d.tcr->bodyPartID,
		    4294967296LL));
		break;
	default:
		break;
	}
	if (want_id >= 0)
		ck_assert(ASN1_INTEGER_set(
		    skg->certificateRequest->d.tcr->bodyPartID, want_id));
	ck_assert_ptr_nonnull(ASN1_TYPE_pack_sequence(
	    ASN1_ITEM_rptr(SKD_SERVER_KEY_GEN_REQUEST), skg, &val));
	ASN1_TYPE_free(sk_ASN1_TYPE_value(ta->attrValues, 0));
	ck_assert_ptr_nonnull(sk_ASN1_TYPE_set(ta->attrValues, 0, val));
	ck_assert(skd_der_encode(ASN1_ITEM_rptr(SKD_PKI_DATA), pd, &body,
	    &blen));
	memset(&pr, 0, sizeof(pr));
	pr.signer = skd_test_pki_id(SKD_TP_ALICE)->cert;
	pr.key = skd_test_pki_id(SKD_TP_ALICE)->key;
	pr.signing_time = TE_NOW;
	ck_assert(skd_cmc_protect(&msg, &len, 0, body, blen, &pr));
	ck_assert_int_eq(skd_engine_process(&k.out, &k.cfg, &k.env, &k.st,
	    "req-p10", msg, len), 1);
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, ok ? SKD_CMC_SUCCESS : SKD_CMC_FAILED);
	if (!ok) {
		ck_assert_uint_eq(skd_engine_outcome_count(k.out,
		    SKD_OP_CERT_PUBLISH), 0);
		ck_assert_uint_eq(skd_engine_outcome_count(k.out,
		    SKD_OP_MESSAGE), 0);
	}
	if (!ok && _i != P_ANY_REFUSED)
		ck_assert_int_eq(cf, SKD_CMC_BAD_REQUEST);
	op = skd_engine_outcome_find(k.out, SKD_OP_RESPONSE, 0);
	ck_assert_ptr_nonnull(op);
	ans = sk_ASN1_OCTET_STRING_value(op->publish->messages, 0);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	kt_open(&k, ans, &who);
	ck_assert_int_eq(k.res.status, ok ? 0 : SKD_CMC_FAILED);
	ck_assert_int_eq(k.res.key != NULL, ok);
	if (ok)
		ck_assert_int_eq(X509_check_private_key(k.res.cert,
		    k.res.key), 1);
	if (!ok) {
		/* The statuses name the control, and beside it the request
		 * when its id is a BodyPartID of its own. */
		ck_assert_uint_eq(kt_status_ids(ans, ids, 4),
		    _i == P_ANY_REFUSED ? 2 : 1);
		ck_assert_int_eq(ids[0], 1);
		if (_i == P_ANY_REFUSED)
			ck_assert_int_eq(ids[1], 77);
		else
			ck_assert_str_eq(k.res.ext_fail, "");
	}
	OPENSSL_free(body);
	OPENSSL_free(msg);
	SKD_SERVER_KEY_GEN_REQUEST_free(skg);
	SKD_PKI_DATA_free(pd);
	EVP_PKEY_free(eph);
	kt_free(&k);
}
END_TEST

/* ---- key recovery (src/engine/recover.c) ---- */

/* The archive the recovery callback serves: one id, one blob. */
static unsigned char *rec_der;
static size_t rec_len;
static char rec_id[SKD_KGEN_ARCHIVE_ID_LEN];

static int
kt_archive(void *ctx, unsigned char **out, size_t *out_len, const char *id)
{
	(void)ctx;
	*out = NULL;
	*out_len = 0;
	if (rec_der == NULL || strcmp(id, rec_id) != 0)
		return 0;
	if ((*out = OPENSSL_memdup(rec_der, rec_len)) == NULL)
		return -1;
	*out_len = rec_len;
	return 1;
}

/* Recovery offered: the GLA's certificate is the recovery certificate
 * (kt_init), its key opens the archives, bob is the only officer. */
static void
kt_recovery_init(struct kt *k, STACK_OF(X509) **officers)
{
	kt_init(k);
	*officers = sk_X509_new_null();
	ck_assert_int_eq(sk_X509_push(*officers,
	    skd_test_pki_id(SKD_TP_BOB)->cert), 1);
	k->ca.recovery_key = skd_test_pki_id(SKD_TP_GLA)->key;
	k->ca.recovery_officers = *officers;
	k->env.keygen_archive = kt_archive;
}

/* Alice gets a key (2.3); the archive is kept for kt_archive under the
 * id of the issued certificate.  *out_key, *out_cert: the caller's. */
static void
kt_alice_key(struct kt *k, EVP_PKEY **out_key, X509 **out_cert)
{
	struct skd_keygen_req r;
	struct skd_shroud_opener who;
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	const ASN1_OCTET_STRING *ans, *a;
	const SKD_ENG_OP *op;
	char want[SKD_KGEN_ARCHIVE_ID_LEN];

	req_bare(&r, SKD_KGEN_RSA2048, eph);
	ans = kt_send(k, &r, SKD_TP_ALICE);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	kt_open(k, ans, &who);
	ck_assert_int_eq(k->res.status, 0);
	op = skd_engine_outcome_find(k->out, SKD_OP_MESSAGE, 0);
	ck_assert_ptr_nonnull(op);
	/* The archive's id is the certificate's: found by it alone. */
	ck_assert_int_eq(skd_kgen_archive_id(want, k->res.cert), 1);
	ck_assert_str_eq((const char *)op->publish->id->data, want);
	a = sk_ASN1_OCTET_STRING_value(op->publish->messages, 0);
	OPENSSL_free(rec_der);
	rec_der = OPENSSL_memdup(a->data, (size_t)a->length);
	rec_len = (size_t)a->length;
	snprintf(rec_id, sizeof(rec_id), "%s", want);
	*out_key = k->res.key;
	*out_cert = k->res.cert;
	k->res.key = NULL;
	k->res.cert = NULL;
	skd_keygen_result_clear(&k->res);
	EVP_PKEY_free(eph);
}

/* Processes msg as request rid; the outcome in k->out, the answer
 * (borrowed from it) returned. */
static const ASN1_OCTET_STRING *
kt_process(struct kt *k, const unsigned char *msg, size_t len,
    const char *rid)
{
	SKD_ENG_OUTCOME_free(k->out);
	k->out = NULL;
	ck_assert_int_eq(skd_engine_process(&k->out, &k->cfg, &k->env, &k->st,
	    rid, msg, len), 1);
	ck_assert_int_eq(skd_engine_mem_apply(k->mem, k->out), 1);
	return sk_ASN1_OCTET_STRING_value(skd_engine_outcome_find(k->out,
	    SKD_OP_RESPONSE, 0)->publish->messages, 0);
}

/* Sends a keyRecoveryRequest for cert signed by who; the answer. */
static const ASN1_OCTET_STRING *
kt_recover(struct kt *k, X509 *cert, enum skd_test_who who, const char *rid,
    unsigned char **io_msg, size_t *io_len)
{
	const ASN1_OCTET_STRING *ans;
	unsigned char *msg = NULL;
	size_t len = 0;

	if (io_msg != NULL && *io_msg != NULL) {
		msg = *io_msg;
		len = *io_len;
	} else {
		ck_assert_int_eq(skd_keygen_recovery_request(&msg, &len, cert,
		    11, nonce, skd_test_pki_id(who)->cert,
		    skd_test_pki_id(who)->key, NULL, TE_NOW), 1);
	}
	ans = kt_process(k, msg, len, rid);
	if (io_msg != NULL) {
		*io_msg = msg;
		*io_len = len;
	} else {
		OPENSSL_free(msg);
	}
	return ans;
}

/* An officer gets the archived key, enveloped for its certificate; the
 * key is the certificate's; the result says who and when. */
START_TEST(test_recover)
{
	struct kt k;
	struct skd_shroud_opener who;
	STACK_OF(X509) *officers;
	EVP_PKEY *key;
	X509 *cert;
	const ASN1_OCTET_STRING *ans;
	const SKD_ENG_RESULT *r;
	X509_STORE *trust = skd_test_pki_store(0);
	long st, cf, sf;

	kt_recovery_init(&k, &officers);
	kt_alice_key(&k, &key, &cert);
	ans = kt_recover(&k, cert, SKD_TP_BOB, "req-rec", NULL, NULL);
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_SUCCESS);
	/* Nothing but the answer: no state changes. */
	ck_assert_int_eq(sk_SKD_ENG_OP_num(k.out->ops), 1);
	/* The audit text: who (bob) and when. */
	r = sk_SKD_ENG_RESULT_value(k.out->results, 0);
	ck_assert_ptr_nonnull(strstr((const char *)r->text->data,
	    "key recovered: officer "));
	ck_assert_ptr_nonnull(strstr((const char *)r->text->data, "CN=bob"));
	ck_assert_ptr_nonnull(strstr((const char *)r->text->data, " at 20"));
	/* Alice's key does not open it; bob's does. */
	memset(&who, 0, sizeof(who));
	who.key = skd_test_pki_id(SKD_TP_ALICE)->key;
	ck_assert_int_eq(skd_keygen_open_recovery(&k.res, ans->data,
	    (size_t)ans->length, nonce, &who, trust, TE_NOW), 0);
	skd_keygen_result_clear(&k.res);
	who.key = skd_test_pki_id(SKD_TP_BOB)->key;
	who.cert = skd_test_pki_id(SKD_TP_BOB)->cert;
	ck_assert_msg(skd_keygen_open_recovery(&k.res, ans->data,
	    (size_t)ans->length, nonce, &who, trust, TE_NOW) == 1, "%s",
	    k.res.text);
	ck_assert_int_eq(k.res.status, 0);
	ck_assert_int_eq(EVP_PKEY_eq(k.res.key, key), 1);
	ck_assert_int_eq(X509_cmp(k.res.cert, cert), 0);
	ck_assert_int_eq(X509_check_private_key(cert, k.res.key), 1);
	/* A keygen answer's opener does not take it for one. */
	skd_keygen_result_clear(&k.res);
	ck_assert_int_eq(skd_keygen_open_response(&k.res, ans->data,
	    (size_t)ans->length, nonce, &who, trust, TE_NOW), 0);
	X509_STORE_free(trust);
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_free(officers);
	kt_free(&k);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* Refusals: a failure answer, the one op the response, nothing else. */
enum rec_refusal {
	RR_NOT_OFFICER,		/* badIdentity */
	RR_NO_ARCHIVE,		/* badCertId */
	RR_OTHER_CA,		/* badCertId */
	RR_NOT_OFFERED,		/* badRequest */
	RR_WRONG_ARCHIVE,	/* internalCAError */
	RR_COUNT
};

START_TEST(test_recover_refusals)
{
	static const long want[RR_COUNT] = { SKD_CMC_BAD_IDENTITY,
	    SKD_CMC_BAD_CERT_ID, SKD_CMC_BAD_CERT_ID, SKD_CMC_BAD_REQUEST,
	    SKD_CMC_INTERNAL_CA_ERROR };
	struct kt k;
	struct skd_shroud_opener who;
	STACK_OF(X509) *officers;
	EVP_PKEY *key;
	X509 *cert, *ask;
	enum skd_test_who signer = SKD_TP_BOB;
	const ASN1_OCTET_STRING *ans;
	X509_STORE *trust = skd_test_pki_store(0);
	long st, cf, sf;

	kt_recovery_init(&k, &officers);
	kt_alice_key(&k, &key, &cert);
	ask = cert;
	switch ((enum rec_refusal)_i) {
	case RR_NOT_OFFICER:
		/* Alice herself is not an officer. */
		signer = SKD_TP_ALICE;
		break;
	case RR_NO_ARCHIVE:
		/* Carol's certificate is the CA's, but no key was made. */
		ask = skd_test_pki_id(SKD_TP_CAROL)->cert;
		break;
	case RR_OTHER_CA:
		ask = skd_test_pki_id(SKD_TP_STRANGER)->cert;
		break;
	case RR_NOT_OFFERED:
		k.ca.recovery_key = NULL;
		break;
	case RR_WRONG_ARCHIVE:
		/* Carol's id served with alice's archive: the key is not
		 * the certificate's. */
		ask = skd_test_pki_id(SKD_TP_CAROL)->cert;
		ck_assert_int_eq(skd_kgen_archive_id(rec_id, ask), 1);
		break;
	default:
		break;
	}
	ans = kt_recover(&k, ask, signer, "req-rr", NULL, NULL);
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_FAILED);
	ck_assert_int_eq(cf, want[_i]);
	ck_assert_int_eq(sk_SKD_ENG_OP_num(k.out->ops), 1);
	memset(&who, 0, sizeof(who));
	who.key = skd_test_pki_id(signer)->key;
	ck_assert_msg(skd_keygen_open_recovery(&k.res, ans->data,
	    (size_t)ans->length, nonce, &who, trust, TE_NOW) == 1, "%s",
	    k.res.text);
	ck_assert_int_eq(k.res.status, SKD_CMC_FAILED);
	ck_assert_int_eq(k.res.fail, want[_i]);
	ck_assert_ptr_null(k.res.key);
	X509_STORE_free(trust);
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_free(officers);
	kt_free(&k);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* The same recovery request twice: the second is a replay, refused, no
 * key sent (RFC 5275 3.2.4.3's replay check covers it). */
START_TEST(test_recover_replay)
{
	struct kt k;
	STACK_OF(X509) *officers;
	EVP_PKEY *key;
	X509 *cert;
	unsigned char *msg = NULL;
	size_t len = 0;
	long st, cf, sf;

	kt_recovery_init(&k, &officers);
	kt_alice_key(&k, &key, &cert);
	(void)kt_recover(&k, cert, SKD_TP_BOB, "req-1", &msg, &len);
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_SUCCESS);
	(void)kt_recover(&k, cert, SKD_TP_BOB, "req-2", &msg, &len);
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_FAILED);
	ck_assert_int_eq(sk_SKD_ENG_OP_num(k.out->ops), 1);
	ck_assert_ptr_null(skd_engine_outcome_find(k.out, SKD_OP_RESPONSE,
	    0)->publish == NULL ? NULL : strstr((const char *)
	    sk_SKD_ENG_RESULT_value(k.out->results, 0)->text->data,
	    "key recovered"));
	OPENSSL_free(msg);
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_free(officers);
	kt_free(&k);
}
END_TEST

/* ---- proof of possession (draft 8, src/engine/pop.c) ---- */

static const unsigned char pop_secret[32] = "0123456789abcdef0123456789abcde";

/* Every requester has a directory entry: a published certificate shows
 * as a certPublish op. */
static int
kt_resolve_dn(void *ctx, char **out, const char *name)
{
	(void)ctx;
	(void)name;
	*out = strdup("uid=someone,ou=people,dc=example,dc=com");
	return *out != NULL ? 1 : -1;
}

/* The POP round's message from who for res, as mode says. */
enum pop_mode {
	PM_GOOD,
	PM_WRONG,	/* thePOP altered: popFailed */
	PM_ABSENT,	/* the request without decryptedPOP: popRequired */
	PM_OTHER_CERT,	/* another certificate in the request: badCertId
			   (stranger's) */
	PM_COUNT
};

static unsigned char *
pop_msg(size_t *out_len, const struct skd_keygen_result *res,
    enum skd_test_who who, enum pop_mode mode)
{
	SKD_DECRYPTED_POP *dp;
	SKD_TAGGED_REQUEST *req;
	struct skd_cmc_body *b;
	struct skd_cmc_protect p;
	unsigned char *body = NULL, *out = NULL;
	size_t body_len = 0;

	if (mode == PM_GOOD) {
		ck_assert_int_eq(skd_keygen_pop_request(&out, out_len, res, 5,
		    nonce, skd_test_pki_id(who)->cert,
		    skd_test_pki_id(who)->key, NULL, TE_NOW), 1);
		return out;
	}
	dp = skd_kgen_pop_answer(res->pop, res->key, res->cert);
	ck_assert_ptr_nonnull(dp);
	req = ASN1_item_dup(ASN1_ITEM_rptr(SKD_TAGGED_REQUEST),
	    res->pop->request);
	ck_assert_ptr_nonnull(req);
	if (mode == PM_WRONG)
		dp->thePOP->data[0] ^= 1;
	if (mode == PM_OTHER_CERT) {
		unsigned char *d = NULL;
		const unsigned char *q;
		int n = i2d_X509(skd_test_pki_id(SKD_TP_STRANGER)->cert, &d);

		q = d;
		ASN1_TYPE_free(req->d.orm->requestMessageValue);
		req->d.orm->requestMessageValue = d2i_ASN1_TYPE(NULL, &q, n);
		OPENSSL_free(d);
	}
	ck_assert_ptr_nonnull(b = skd_cmc_body_new(0));
	ck_assert_int_ne(skd_cmc_body_add_request(b, req), 0);
	if (mode != PM_ABSENT)
		ck_assert_int_ne(skd_cmc_body_add_control(b,
		    SKD_OID_CMC_DECRYPTED_POP, dp), 0);
	ck_assert_int_ne(skd_cmc_body_add_sender_nonce(b, nonce,
	    SKD_KEYGEN_NONCE_LEN), 0);
	ck_assert_int_eq(skd_cmc_body_encode(b, &body, &body_len), 1);
	memset(&p, 0, sizeof(p));
	p.signer = skd_test_pki_id(who)->cert;
	p.key = skd_test_pki_id(who)->key;
	p.signing_time = TE_NOW;
	ck_assert_int_eq(skd_cmc_protect(&out, out_len, 0, body, body_len,
	    &p), 1);
	OPENSSL_free(body);
	skd_cmc_body_free(b);
	SKD_TAGGED_REQUEST_free(req);
	SKD_DECRYPTED_POP_free(dp);
	return out;
}

/* Round 1 with POP required: popRequired, the key and the Encrypted POP
 * in the answer, nothing published.  *res holds the opened answer. */
static void
kt_pop_round1(struct kt *k, EVP_PKEY *eph)
{
	struct skd_keygen_req r;
	struct skd_shroud_opener who;
	const ASN1_OCTET_STRING *ans;
	long st, cf, sf;

	kt_init(k);
	k->ca.require_pop = 1;
	k->ca.pop_secret = pop_secret;
	k->ca.pop_secret_len = sizeof(pop_secret);
	k->env.resolve_dn = kt_resolve_dn;
	k->cfg.keygen_publish_attr = "userCertificate;binary";
	req_bare(&r, SKD_KGEN_P256, eph);
	r.no_archive = 1;
	ans = kt_send(k, &r, SKD_TP_ALICE);
	ck_assert_int_eq(skd_engine_outcome_result(k->out, 0, &st, &cf, &sf),
	    1);
	ck_assert_int_eq(st, SKD_CMC_POP_REQUIRED);
	/* Draft 8: a certificate pending its POP is not published. */
	ck_assert_uint_eq(skd_engine_outcome_count(k->out,
	    SKD_OP_CERT_PUBLISH), 0);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	kt_open(k, ans, &who);
	ck_assert_int_eq(k->res.status, SKD_CMC_POP_REQUIRED);
	ck_assert_ptr_nonnull(k->res.pop);
	ck_assert_ptr_nonnull(k->res.key);
	ck_assert_int_eq(X509_check_private_key(k->res.cert, k->res.key), 1);
}

START_TEST(test_pop)
{
	struct kt k;
	struct skd_keygen_result pr;
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	const ASN1_OCTET_STRING *ans;
	const SKD_ENG_OP *op;
	X509_STORE *trust = skd_test_pki_store(0);
	unsigned char *msg, *der = NULL;
	size_t len = 0;
	long st, cf, sf;
	int n;

	kt_pop_round1(&k, eph);
	/* The POP round: proven, then published. */
	msg = pop_msg(&len, &k.res, SKD_TP_ALICE, PM_GOOD);
	ans = kt_process(&k, msg, len, "req-pop");
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_SUCCESS);
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_CERT_PUBLISH),
	    1);
	op = skd_engine_outcome_find(k.out, SKD_OP_CERT_PUBLISH, 0);
	n = i2d_X509(k.res.cert, &der);
	ck_assert_int_eq(ASN1_STRING_length(op->member->cert), n);
	ck_assert(memcmp(ASN1_STRING_get0_data(op->member->cert), der,
	    (size_t)n) == 0);
	OPENSSL_free(der);
	memset(&pr, 0, sizeof(pr));
	ck_assert_msg(skd_keygen_open_pop(&pr, ans->data, (size_t)ans->length,
	    nonce, trust, TE_NOW) == 1, "%s", pr.text);
	ck_assert_int_eq(pr.status, 0);
	skd_keygen_result_clear(&pr);
	/* The same POP message again: a replay, nothing published. */
	ans = kt_process(&k, msg, len, "req-pop2");
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_FAILED);
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_CERT_PUBLISH),
	    0);
	OPENSSL_free(msg);
	X509_STORE_free(trust);
	EVP_PKEY_free(eph);
	kt_free(&k);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* A POP round that fails changes nothing: wrong, absent, another
 * certificate, another signer, POP not asked for. */
START_TEST(test_pop_refusals)
{
	static const struct {
		enum pop_mode		 mode;
		enum skd_test_who	 who;
		int			 no_pop;
		long			 fail;
	} t[] = {
		{ PM_WRONG, SKD_TP_ALICE, 0, SKD_CMC_POP_FAILED },
		{ PM_ABSENT, SKD_TP_ALICE, 0, SKD_CMC_POP_REQUIRED_FAIL },
		{ PM_OTHER_CERT, SKD_TP_ALICE, 0, SKD_CMC_BAD_CERT_ID },
		{ PM_GOOD, SKD_TP_BOB, 0, SKD_CMC_BAD_IDENTITY },
		{ PM_GOOD, SKD_TP_ALICE, 1, SKD_CMC_BAD_REQUEST },
	};
	struct kt k;
	struct skd_keygen_result pr;
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	const ASN1_OCTET_STRING *ans;
	X509_STORE *trust = skd_test_pki_store(0);
	unsigned char *msg;
	size_t len = 0;
	long st, cf, sf;

	kt_pop_round1(&k, eph);
	msg = pop_msg(&len, &k.res, t[_i].who, t[_i].mode);
	if (t[_i].no_pop)
		k.ca.require_pop = 0;
	ans = kt_process(&k, msg, len, "req-pop");
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_FAILED);
	ck_assert_int_eq(cf, t[_i].fail);
	/* The failure answer alone: nothing published. */
	ck_assert_int_eq(sk_SKD_ENG_OP_num(k.out->ops), 1);
	memset(&pr, 0, sizeof(pr));
	ck_assert_msg(skd_keygen_open_pop(&pr, ans->data, (size_t)ans->length,
	    nonce, trust, TE_NOW) == 1, "%s", pr.text);
	ck_assert_int_eq(pr.status, SKD_CMC_FAILED);
	ck_assert_int_eq(pr.fail, t[_i].fail);
	skd_keygen_result_clear(&pr);
	OPENSSL_free(msg);
	X509_STORE_free(trust);
	EVP_PKEY_free(eph);
	kt_free(&k);
}
END_TEST

/* The client refuses an Encrypted POP whose witness is not H(y) (RFC
 * 5272 6.7). */
START_TEST(test_pop_bad_witness)
{
	struct kt k;
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	unsigned char *msg = NULL;
	size_t len = 0;

	kt_pop_round1(&k, eph);
	k.res.pop->witness->data[3] ^= 0x40;
	ck_assert_int_eq(skd_keygen_pop_request(&msg, &len, &k.res, 5, nonce,
	    skd_test_pki_id(SKD_TP_ALICE)->cert,
	    skd_test_pki_id(SKD_TP_ALICE)->key, NULL, TE_NOW), 0);
	ck_assert_ptr_null(msg);
	EVP_PKEY_free(eph);
	kt_free(&k);
}
END_TEST

/* Draft 8 for a shared-secret request: the POP round is an
 * AuthenticatedData under a secret of the same identity, accepted even
 * though the secret is spent; another identity's secret: badIdentity. */
START_TEST(test_pop_secret)
{
	static const char *round2[] = { "carol-used", "dave-1" };
	struct kt k;
	struct skd_keygen_req r;
	struct skd_keygen_result pr;
	struct skd_shroud_opener who;
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	X509_STORE *trust = skd_test_pki_store(0);
	const ASN1_OCTET_STRING *ans;
	unsigned char *msg = NULL;
	size_t len = 0, i;
	long st, cf, sf;
	const char *sec = NULL;

	kt_init(&k);
	k.ca.require_pop = 1;
	k.ca.pop_secret = pop_secret;
	k.ca.pop_secret_len = sizeof(pop_secret);
	k.env.resolve_dn = kt_resolve_dn;
	k.cfg.keygen_publish_attr = "userCertificate;binary";
	req_bare(&r, SKD_KGEN_P256, eph);
	ans = kt_send_secret(&k, &r, "carol-1", secrets[0].secret);
	ck_assert_int_eq(skd_engine_mem_apply(k.mem, k.out), 1);
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_CERT_PUBLISH),
	    0);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	kt_open(&k, ans, &who);
	ck_assert_int_eq(k.res.status, SKD_CMC_POP_REQUIRED);
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (strcmp(secrets[i].id, round2[_i]) == 0)
			sec = secrets[i].secret;
	}
	ck_assert_ptr_nonnull(sec);
	ck_assert_int_eq(skd_keygen_pop_request_secret(&msg, &len, &k.res, 6,
	    nonce, round2[_i], (const unsigned char *)sec, strlen(sec)), 1);
	ans = kt_process(&k, msg, len, "req-pop");
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, _i == 0 ? SKD_CMC_SUCCESS : SKD_CMC_FAILED);
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_CERT_PUBLISH),
	    _i == 0 ? 1 : 0);
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_SECRET_USE),
	    0);
	if (_i == 1)
		ck_assert_int_eq(cf, SKD_CMC_BAD_IDENTITY);
	memset(&pr, 0, sizeof(pr));
	ck_assert_msg(skd_keygen_open_pop(&pr, ans->data, (size_t)ans->length,
	    nonce, trust, TE_NOW) == 1, "%s", pr.text);
	ck_assert_int_eq(pr.status, _i == 0 ? 0 : SKD_CMC_FAILED);
	skd_keygen_result_clear(&pr);
	OPENSSL_free(msg);
	X509_STORE_free(trust);
	EVP_PKEY_free(eph);
	kt_free(&k);
}
END_TEST

/* ---- the RA-involved flow (draft 2.5.2, src/engine/ra.c) ---- */

static const unsigned char ra_nonce[SKD_KEYGEN_NONCE_LEN] = "ra-nonce-0123456";

/* alice's request (2.3) as bytes. */
static unsigned char *
alice_request(size_t *len, EVP_PKEY *eph)
{
	struct skd_keygen_req r;
	unsigned char *msg = NULL;

	req_bare(&r, SKD_KGEN_P256, eph);
	ck_assert_int_eq(skd_keygen_request(&msg, len, &r, 7, nonce,
	    skd_test_pki_id(SKD_TP_ALICE)->cert,
	    skd_test_pki_id(SKD_TP_ALICE)->key, NULL, TE_NOW), 1);
	return msg;
}

/* req forwarded by ra; the RA's answer (borrowed from k->out). */
static const ASN1_OCTET_STRING *
kt_forward(struct kt *k, const unsigned char *req, size_t len,
    enum skd_test_who ra, const char *rid)
{
	unsigned char *fwd = NULL;
	size_t fwd_len = 0;
	const ASN1_OCTET_STRING *ans;

	ck_assert_int_eq(skd_keygen_ra_forward(&fwd, &fwd_len, req, len, 3,
	    ra_nonce, skd_test_pki_id(ra)->cert, skd_test_pki_id(ra)->key,
	    NULL, TE_NOW), 1);
	ans = kt_process(k, fwd, fwd_len, rid);
	OPENSSL_free(fwd);
	return ans;
}

/* Carol, a configured RA, checks alice's request and forwards it; the
 * CA's answer for carol holds alice's answer, which alice opens. */
START_TEST(test_ra)
{
	struct kt k;
	struct skd_keygen_result rr;
	struct skd_shroud_opener who;
	STACK_OF(X509) *ras = sk_X509_new_null();
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	X509_STORE *trust = skd_test_pki_store(0);
	X509 *signer = NULL;
	const ASN1_OCTET_STRING *ans;
	unsigned char *req, *inner = NULL;
	size_t len = 0, inner_len = 0;
	char why[128];
	long st, cf, sf;

	kt_init(&k);
	ck_assert_int_eq(sk_X509_push(ras,
	    skd_test_pki_id(SKD_TP_CAROL)->cert), 1);
	k.ca.ras = ras;
	req = alice_request(&len, eph);
	/* The RA's check: alice's signature and path. */
	ck_assert_int_eq(skd_keygen_ra_check(&signer, why, sizeof(why), req,
	    len, trust, TE_NOW, 300), 1);
	ck_assert_int_eq(X509_cmp(signer, skd_test_pki_id(SKD_TP_ALICE)->cert),
	    0);
	X509_free(signer);
	ans = kt_forward(&k, req, len, SKD_TP_CAROL, "req-ra");
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_SUCCESS);
	/* One answer (for the RA) and the archive. */
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_RESPONSE), 1);
	ck_assert_uint_eq(skd_engine_outcome_count(k.out, SKD_OP_MESSAGE), 1);
	memset(&rr, 0, sizeof(rr));
	ck_assert_msg(skd_keygen_ra_open(&rr, &inner, &inner_len, ans->data,
	    (size_t)ans->length, ra_nonce, trust, TE_NOW) == 1, "%s", rr.text);
	ck_assert_int_eq(rr.status, 0);
	ck_assert_ptr_nonnull(inner);
	skd_keygen_result_clear(&rr);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	ck_assert_msg(skd_keygen_open_response(&k.res, inner, inner_len, nonce,
	    &who, trust, TE_NOW) == 1, "%s", k.res.text);
	ck_assert_int_eq(k.res.status, 0);
	ck_assert_int_eq(X509_check_private_key(k.res.cert, k.res.key), 1);
	ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(k.res.cert),
	    X509_get_subject_name(skd_test_pki_id(SKD_TP_ALICE)->cert)), 0);
	OPENSSL_free(inner);
	/* The same request forwarded again: the client's request is a
	 * replay; nothing generated. */
	ans = kt_forward(&k, req, len, SKD_TP_CAROL, "req-ra2");
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_FAILED);
	ck_assert_int_eq(sk_SKD_ENG_OP_num(k.out->ops), 1);
	OPENSSL_free(req);
	X509_STORE_free(trust);
	EVP_PKEY_free(eph);
	sk_X509_free(ras);
	kt_free(&k);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* Dave is not a configured RA: badIdentity, nothing generated, and
 * alice's request is not spent (sent alone afterwards, it is answered). */
START_TEST(test_ra_not_configured)
{
	struct kt k;
	struct skd_keygen_result rr;
	STACK_OF(X509) *ras = sk_X509_new_null();
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	X509_STORE *trust = skd_test_pki_store(0);
	const ASN1_OCTET_STRING *ans;
	unsigned char *req, *inner = NULL;
	size_t len = 0, inner_len = 0;
	long st, cf, sf;

	kt_init(&k);
	ck_assert_int_eq(sk_X509_push(ras,
	    skd_test_pki_id(SKD_TP_CAROL)->cert), 1);
	k.ca.ras = _i == 0 ? ras : NULL;
	req = alice_request(&len, eph);
	ans = kt_forward(&k, req, len, _i == 0 ? SKD_TP_DAVE : SKD_TP_CAROL,
	    "req-ra");
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_FAILED);
	ck_assert_int_eq(cf, SKD_CMC_BAD_IDENTITY);
	ck_assert_int_eq(sk_SKD_ENG_OP_num(k.out->ops), 1);
	memset(&rr, 0, sizeof(rr));
	ck_assert_msg(skd_keygen_ra_open(&rr, &inner, &inner_len, ans->data,
	    (size_t)ans->length, ra_nonce, trust, TE_NOW) == 1, "%s", rr.text);
	ck_assert_int_eq(rr.status, SKD_CMC_FAILED);
	ck_assert_int_eq(rr.fail, SKD_CMC_BAD_IDENTITY);
	ck_assert_ptr_null(inner);
	skd_keygen_result_clear(&rr);
	(void)kt_process(&k, req, len, "req-alone");
	ck_assert_int_eq(skd_engine_outcome_result(k.out, 0, &st, &cf, &sf), 1);
	ck_assert_int_eq(st, SKD_CMC_SUCCESS);
	OPENSSL_free(req);
	X509_STORE_free(trust);
	EVP_PKEY_free(eph);
	sk_X509_free(ras);
	kt_free(&k);
}
END_TEST

Suite *
skd_suite_engine_keygen(void)
{
	Suite *s = suite_create("engine_keygen");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup_pki, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_bare_key, 0, 4);
	tcase_add_loop_test(tc, test_cert_shroud, 0, 2);
	tcase_add_loop_test(tc, test_refusals, 0, 2 * R_COUNT);
	tcase_add_test(tc, test_replay);
	tcase_add_loop_test(tc, test_secret_ok, 0, 3);
	tcase_add_loop_test(tc, test_secret_refusals, 0, 6);
	tcase_add_test(tc, test_authdata);
	tcase_add_test(tc, test_crmf_request);
	tcase_add_loop_test(tc, test_crmf_scenarios, 0, 6);
	tcase_add_loop_test(tc, test_crmf_refusals, 0, 2);
	tcase_add_loop_test(tc, test_crmf_hostile, 0, H_COUNT);
	tcase_add_loop_test(tc, test_p10_body_part_ids, 0, P_COUNT);
	tcase_add_test(tc, test_recover);
	tcase_add_loop_test(tc, test_recover_refusals, 0, RR_COUNT);
	tcase_add_test(tc, test_recover_replay);
	tcase_add_test(tc, test_pop);
	tcase_add_loop_test(tc, test_pop_refusals, 0, 5);
	tcase_add_test(tc, test_pop_bad_witness);
	tcase_add_loop_test(tc, test_pop_secret, 0, 2);
	tcase_add_test(tc, test_ra);
	tcase_add_loop_test(tc, test_ra_not_configured, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
