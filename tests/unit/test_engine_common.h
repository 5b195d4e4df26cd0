/*
 * test_engine_common.h: request builders and a fixed environment shared
 * by the engine's unit tests (test_engine.c) and directory tests
 * (tests/dir/test_engine_dir.c).  Static inline so that each suite takes
 * what it uses.
 */
#ifndef TEST_ENGINE_COMMON_H
#define TEST_ENGINE_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cms/skd_cmc.h"
#include "engine/skd_engine.h"
#include "skd_test.h"
#include "support/pki.h"

/* 2030-01-15T00:00:00Z: inside every test certificate's validity. */
#define TE_NOW		((time_t)1894665600)
#define TE_GL		"URI:https://lists.example.com/team"
#define TE_GL_ADDR	"email:team@example.com"
#define TE_GL2		"URI:https://lists.example.com/other"

/* Deterministic random bytes and ids (the engine takes them from env). */
static inline int
te_rand(void *arg, unsigned char *buf, size_t len)
{
	static unsigned long long s = 0x9e3779b97f4a7c15ULL;
	size_t i;

	(void)arg;
	for (i = 0; i < len; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		buf[i] = (unsigned char)(s >> 24);
	}
	return 1;
}

static inline int
te_new_id(void *arg, char out[SKD_STORE_ID_LEN])
{
	static unsigned n;

	(void)arg;
	snprintf(out, SKD_STORE_ID_LEN, "00000000-0000-4000-8000-%012u",
	    ++n);
	return 1;
}

static inline void
te_env(struct skd_engine_env *env, time_t now)
{
	memset(env, 0, sizeof(*env));
	env->now = now;
	env->rand_bytes = te_rand;
	env->new_id = te_new_id;
}

/* The GLA of the test PKI, issuing per-GL certificates with the test CA;
 * trust is the caller's (X509_STORE_free). */
static inline void
te_config(struct skd_engine_config *c)
{
	memset(c, 0, sizeof(*c));
	c->gla_cert = skd_test_pki_id(SKD_TP_GLA)->cert;
	c->gla_key = skd_test_pki_id(SKD_TP_GLA)->key;
	c->issuer_cert = skd_test_pki_id(SKD_TP_CA)->cert;
	c->issuer_key = skd_test_pki_id(SKD_TP_CA)->key;
	c->trust = skd_test_pki_store(1);
	c->time_past = 600;
	c->time_future = 600;
	c->max_duration_days = 366;
	c->max_generation_counter = 12;
	c->shard_size = 2;
}

static inline GENERAL_NAME *
te_gn(const char *text)
{
	GENERAL_NAME *gn = skd_gname_from_text(text);

	ck_assert_msg(gn != NULL, "name %s", text);
	return gn;
}

/* "email:<name>@example.com": the rfc822Name of the identity. */
static inline GENERAL_NAME *
te_who_gn(enum skd_test_who who)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "email:%s@example.com",
	    skd_test_pki_id(who)->name);
	return te_gn(buf);
}

static inline void
te_who_text(char *buf, size_t len, enum skd_test_who who)
{
	snprintf(buf, len, "email:%s@example.com", skd_test_pki_id(who)->name);
}

static inline SKD_CERTIFICATES *
te_certs(enum skd_test_who who)
{
	SKD_CERTIFICATES *c = SKD_CERTIFICATES_new();

	ck_assert_ptr_nonnull(c);
	c->pKC = X509_dup(skd_test_pki_id(who)->cert);
	ck_assert_ptr_nonnull(c->pKC);
	return c;
}

static inline void
te_add(struct skd_cmc_body *b, enum skd_oid oid, const void *val)
{
	ck_assert_int_gt(skd_cmc_body_add_control(b, oid, val), 0);
}

/* glUseKEK for gl owned by owner; alg NID_undef / dur, gen < 0: defaults;
 * aware: recipientsNotMutuallyAware FALSE. */
static inline void
te_use_kek(struct skd_cmc_body *b, const char *gl, enum skd_test_who owner,
    long admin, int alg, long dur, long gen, int aware)
{
	SKD_GL_USE_KEK *u = SKD_GL_USE_KEK_new();
	SKD_GL_OWNER_INFO *oi = SKD_GL_OWNER_INFO_new();

	ck_assert_ptr_nonnull(u);
	ck_assert_ptr_nonnull(oi);
	GENERAL_NAME_free(u->glInfo->glName);
	GENERAL_NAME_free(u->glInfo->glAddress);
	u->glInfo->glName = te_gn(gl);
	u->glInfo->glAddress = te_gn(TE_GL_ADDR);
	GENERAL_NAME_free(oi->glOwnerName);
	GENERAL_NAME_free(oi->glOwnerAddress);
	oi->glOwnerName = te_who_gn(owner);
	oi->glOwnerAddress = te_who_gn(owner);
	oi->certificates = te_certs(owner);
	ck_assert(sk_SKD_GL_OWNER_INFO_push(u->glOwnerInfo, oi));
	ck_assert(skd_glusekek_set_admin(u, admin));
	if (alg != NID_undef || dur >= 0 || gen >= 0 || aware) {
		u->glKeyAttributes = SKD_GL_KEY_ATTRIBUTES_new();
		ck_assert_ptr_nonnull(u->glKeyAttributes);
		if (alg != NID_undef)
			ck_assert(skd_glkeyattrs_set_alg_nid(
			    u->glKeyAttributes, alg));
		if (dur >= 0)
			ck_assert(skd_glkeyattrs_set_duration(
			    u->glKeyAttributes, dur));
		if (gen >= 0)
			ck_assert(skd_glkeyattrs_set_generation_counter(
			    u->glKeyAttributes, gen));
		if (aware)
			skd_glkeyattrs_set_not_mutually_aware(
			    u->glKeyAttributes, 0);
	}
	te_add(b, SKD_OID_GL_USE_KEK, u);
	SKD_GL_USE_KEK_free(u);
}

/* glAddMember of who with cert_who's certificate (SKD_TP_COUNT: none);
 * also used for glManageCert / glProvideCert (same shape) via oid. */
static inline void
te_member_ctl(struct skd_cmc_body *b, enum skd_oid oid, const char *gl,
    enum skd_test_who who, enum skd_test_who cert_who)
{
	SKD_GL_ADD_MEMBER *a = SKD_GL_ADD_MEMBER_new();

	ck_assert_ptr_nonnull(a);
	GENERAL_NAME_free(a->glName);
	a->glName = te_gn(gl);
	GENERAL_NAME_free(a->glMember->glMemberName);
	a->glMember->glMemberName = te_who_gn(who);
	if (cert_who != SKD_TP_COUNT)
		a->glMember->certificates = te_certs(cert_who);
	te_add(b, oid, a);
	SKD_GL_ADD_MEMBER_free(a);
}

static inline void
te_del_member(struct skd_cmc_body *b, const char *gl, enum skd_test_who who)
{
	SKD_GL_DELETE_MEMBER *d = SKD_GL_DELETE_MEMBER_new();

	ck_assert_ptr_nonnull(d);
	GENERAL_NAME_free(d->glName);
	GENERAL_NAME_free(d->glMemberToDelete);
	d->glName = te_gn(gl);
	d->glMemberToDelete = te_who_gn(who);
	te_add(b, SKD_OID_GL_DELETE_MEMBER, d);
	SKD_GL_DELETE_MEMBER_free(d);
}

/* glRekey; all: glRekeyAllGLKeys TRUE; alg: NID_undef for none. */
static inline void
te_rekey(struct skd_cmc_body *b, const char *gl, int all, int alg)
{
	SKD_GL_REKEY *r = SKD_GL_REKEY_new();

	ck_assert_ptr_nonnull(r);
	GENERAL_NAME_free(r->glName);
	r->glName = te_gn(gl);
	if (all)
		skd_asn1_opt_bool_set(&r->glRekeyAllGLKeys, 1);
	if (alg != NID_undef) {
		r->glNewKeyAttributes = SKD_GL_NEW_KEY_ATTRIBUTES_new();
		ck_assert_ptr_nonnull(r->glNewKeyAttributes);
		r->glNewKeyAttributes->requestedAlgorithm = X509_ALGOR_new();
		ck_assert(X509_ALGOR_set0(
		    r->glNewKeyAttributes->requestedAlgorithm,
		    OBJ_nid2obj(alg), V_ASN1_UNDEF, NULL));
	}
	te_add(b, SKD_OID_GL_REKEY, r);
	SKD_GL_REKEY_free(r);
}

/* glRekey with glNewKeyAttributes.generationCounter gen. */
static inline void
te_rekey_gen(struct skd_cmc_body *b, const char *gl, long gen)
{
	SKD_GL_REKEY *r = SKD_GL_REKEY_new();

	ck_assert_ptr_nonnull(r);
	GENERAL_NAME_free(r->glName);
	r->glName = te_gn(gl);
	r->glNewKeyAttributes = SKD_GL_NEW_KEY_ATTRIBUTES_new();
	ck_assert_ptr_nonnull(r->glNewKeyAttributes);
	r->glNewKeyAttributes->generationCounter = ASN1_INTEGER_new();
	ck_assert(ASN1_INTEGER_set(r->glNewKeyAttributes->generationCounter,
	    gen));
	te_add(b, SKD_OID_GL_REKEY, r);
	SKD_GL_REKEY_free(r);
}

/* glAddOwner/glRemoveOwner of gl naming an owner (name and address: taken
 * over). */
static inline void
te_owner_gn(struct skd_cmc_body *b, enum skd_oid oid, const char *gl,
    GENERAL_NAME *name, GENERAL_NAME *address)
{
	SKD_GL_OWNER_ADMINISTRATION *o = SKD_GL_OWNER_ADMINISTRATION_new();

	ck_assert_ptr_nonnull(o);
	GENERAL_NAME_free(o->glName);
	o->glName = te_gn(gl);
	GENERAL_NAME_free(o->glOwnerInfo->glOwnerName);
	GENERAL_NAME_free(o->glOwnerInfo->glOwnerAddress);
	o->glOwnerInfo->glOwnerName = name;
	o->glOwnerInfo->glOwnerAddress = address;
	te_add(b, oid, o);
	SKD_GL_OWNER_ADMINISTRATION_free(o);
}

static inline void
te_owner(struct skd_cmc_body *b, enum skd_oid oid, const char *gl,
    enum skd_test_who who)
{
	te_owner_gn(b, oid, gl, te_who_gn(who), te_who_gn(who));
}

/* glDelete, glkCompromise: a GeneralName. */
static inline void
te_gname_ctl(struct skd_cmc_body *b, enum skd_oid oid, const char *gl)
{
	GENERAL_NAME *gn = te_gn(gl);

	te_add(b, oid, gn);
	GENERAL_NAME_free(gn);
}

static inline void
te_refresh(struct skd_cmc_body *b, const char *gl, time_t start)
{
	SKD_GL_KREFRESH *r = SKD_GL_KREFRESH_new();
	SKD_DATE *d = SKD_DATE_new();

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(d);
	GENERAL_NAME_free(r->glName);
	r->glName = te_gn(gl);
	ck_assert_ptr_nonnull(ASN1_GENERALIZEDTIME_set(d->start, start));
	ck_assert(sk_SKD_DATE_push(r->dates, d));
	te_add(b, SKD_OID_GL_KEY_REFRESH, r);
	SKD_GL_KREFRESH_free(r);
}

static inline void
te_query(struct skd_cmc_body *b, enum skd_oid type)
{
	SKD_GLA_QUERY_REQUEST *q = SKD_GLA_QUERY_REQUEST_new();

	ck_assert_ptr_nonnull(q);
	ASN1_OBJECT_free(q->type);
	q->type = OBJ_nid2obj(skd_asn1_nid(type));
	if (q->value == NULL)
		q->value = ASN1_TYPE_new();
	ASN1_TYPE_set(q->value, V_ASN1_NULL, NULL);
	te_add(b, SKD_OID_GLA_QUERY_REQUEST, q);
	SKD_GLA_QUERY_REQUEST_free(q);
}

/* Adds transactionId 42 and a fixed senderNonce. */
static const unsigned char te_nonce[16] = "sender-nonce-123";

static inline struct skd_cmc_body *
te_body(void)
{
	struct skd_cmc_body *b = skd_cmc_body_new(0);
	ASN1_INTEGER *tid = ASN1_INTEGER_new();

	ck_assert_ptr_nonnull(b);
	ck_assert(ASN1_INTEGER_set(tid, 42));
	ck_assert_int_gt(skd_cmc_body_add_transaction_id(b, tid), 0);
	ck_assert_int_gt(skd_cmc_body_add_sender_nonce(b, te_nonce,
	    sizeof(te_nonce)), 0);
	ASN1_INTEGER_free(tid);
	return b;
}

/* Signs (and encrypts to the GLA) b as who at t; frees b. */
static inline unsigned char *
te_seal(struct skd_cmc_body *b, enum skd_test_who who, time_t t,
    int encrypt, size_t *out_len)
{
	struct skd_cmc_protect p;
	unsigned char *body = NULL, *der = NULL;
	size_t blen = 0;

	memset(&p, 0, sizeof(p));
	p.signer = skd_test_pki_id(who)->cert;
	p.key = skd_test_pki_id(who)->key;
	p.signing_time = t;
	if (encrypt)
		p.encrypt_to = skd_test_pki_id(SKD_TP_GLA)->cert;
	ck_assert(skd_cmc_body_encode(b, &body, &blen));
	ck_assert(skd_cmc_protect(&der, out_len, 0, body, blen, &p));
	OPENSSL_free(body);
	skd_cmc_body_free(b);
	return der;
}

/* The (single) response message of o, or NULL. */
static inline const ASN1_OCTET_STRING *
te_response(const SKD_ENG_OUTCOME *o)
{
	const SKD_ENG_OP *op = skd_engine_outcome_find(o, SKD_OP_RESPONSE, 0);

	if (op == NULL)
		return NULL;
	return sk_ASN1_OCTET_STRING_value(op->publish->messages, 0);
}

/*
 * An engine over an in-memory state with the test configuration, the
 * fixed clock and deterministic random bytes: the fixture of the engine,
 * authorization, hostile and review suites.
 */
struct te_fx {
	struct skd_engine_config	 cfg;
	struct skd_engine_env		 env;
	struct skd_engine_mem		*mem;
	struct skd_engine_state		 st;
};

static inline void
te_fx_init(struct te_fx *f)
{
	memset(f, 0, sizeof(*f));
	te_config(&f->cfg);
	te_env(&f->env, TE_NOW);
	f->mem = skd_engine_mem_new();
	ck_assert_ptr_nonnull(f->mem);
	skd_engine_mem_state(&f->st, f->mem);
	f->env.find_key_gl = skd_engine_mem_find_key_gl;
}

/* Frees what te_fx_init made; the OpenSSL error queue is the caller's. */
static inline void
te_fx_free(struct te_fx *f)
{
	X509_STORE_free(f->cfg.trust);
	skd_engine_mem_free(f->mem);
}

/* Runs the engine on msg (borrowed); the outcome is not applied. */
static inline SKD_ENG_OUTCOME *
te_fx_process(struct te_fx *f, const unsigned char *msg, size_t len)
{
	SKD_ENG_OUTCOME *o = NULL;

	ck_assert_msg(skd_engine_process(&o, &f->cfg, &f->env, &f->st,
	    "11111111-2222-4333-8444-555555555555", msg, len),
	    "engine could not decide");
	ck_assert_ptr_nonnull(o);
	return o;
}

/* Processes der (freed) and applies the outcome; returns it. */
static inline SKD_ENG_OUTCOME *
te_fx_run(struct te_fx *f, unsigned char *der, size_t len)
{
	SKD_ENG_OUTCOME *o = te_fx_process(f, der, len);

	ck_assert(skd_engine_mem_apply(f->mem, o));
	OPENSSL_free(der);
	return o;
}

#endif
