/*
 * test_engine_rows.h: the table of RFC 5275 section 4 branches, shared by
 * the in-memory engine suite (tests/unit/test_engine.c) and the same table
 * against the real directory (tests/dir/test_engine_dir.c).  Each row: a
 * prior state, a request and its signer -> the CMC status and failure
 * code, the members after, the glKey puts and the GLA messages.
 */
#ifndef SKD_TEST_ENGINE_ROWS_H
#define SKD_TEST_ENGINE_ROWS_H

#include "unit/test_engine_common.h"

/* Prior states. */
enum { P_NONE, P_UNMANAGED, P_MANAGED, P_CLOSED, P_DELETED };

/* Requests. */
enum {
	K_USE_KEK, K_USE_KEK_ADD, K_USE_KEK_NOISSUER, K_ADD, K_ADD_NOCERT,
	K_DEL_MEMBER, K_REKEY, K_REKEY_ALL, K_DELETE, K_ADD_OWNER,
	K_REMOVE_OWNER, K_COMPROMISE, K_REFRESH, K_QUERY, K_QUERY_BAD,
	K_MANAGE_CERT, K_PROVIDE_CERT, K_BAD_COMBO, K_UNKNOWN_CTL,
	K_ADD_OTHER_GL, K_REKEY_GEN
};

#define W(x)	SKD_TP_##x
#define NONE	(-1)

struct row {
	const char	*name;
	int		 prior;
	enum skd_test_who signer;
	int		 kind;
	enum skd_test_who subject;	/* member/owner concerned */
	enum skd_test_who cert;		/* certificate given for subject */
	int		 arg;		/* admin, alg, ... */
	long		 status;	/* of the first result */
	long		 cmc_fail;
	long		 skd_fail;
	int		 members;	/* after; NONE: unchecked */
	int		 glkeys;	/* glKey puts; NONE: unchecked */
	int		 messages;	/* GLA messages */
};

#define OK	SKD_CMC_SUCCESS
#define FAILED	SKD_CMC_FAILED
#define F(x)	SKD_FAIL_##x

static const struct row rows[] = {
	/* 4.1 glUseKEK */
	{ "usekek ok", P_NONE, W(GLO1), K_USE_KEK, W(GLO1), W(GLO1), 0,
	    OK, -1, -1, 0, 2, 0 },
	{ "usekek gen 3 duration 30", P_NONE, W(GLO1), K_USE_KEK, W(GLO1),
	    W(GLO1), 3, OK, -1, -1, 0, 3, 0 },
	{ "usekek noGLONameMatch", P_NONE, W(GLO2), K_USE_KEK, W(GLO1),
	    W(GLO1), 0, FAILED, -1, F(NO_GLO_NAME_MATCH), 0, 0, 0 },
	{ "usekek nameAlreadyInUse", P_UNMANAGED, W(GLO1), K_USE_KEK,
	    W(GLO1), W(GLO1), 0, FAILED, -1, F(NAME_ALREADY_IN_USE), 2, 0,
	    0 },
	{ "usekek name of a deleted GL", P_DELETED, W(GLO1), K_USE_KEK,
	    W(GLO1), W(GLO1), 0, FAILED, -1, F(NAME_ALREADY_IN_USE), NONE, 0,
	    0 },
	{ "usekek unsupportedAlgorithm", P_NONE, W(GLO1), K_USE_KEK, W(GLO1),
	    W(GLO1), 1, FAILED, -1, F(UNSUPPORTED_ALGORITHM), 0, 0, 0 },
	{ "usekek unsupportedDuration", P_NONE, W(GLO1), K_USE_KEK, W(GLO1),
	    W(GLO1), 2, FAILED, -1, F(UNSUPPORTED_DURATION), 0, 0, 0 },
	{ "usekek noGLACertificate", P_NONE, W(GLO1), K_USE_KEK_NOISSUER,
	    W(GLO1), W(GLO1), 0, FAILED, -1, F(NO_GLA_CERTIFICATE), 0, 0, 0 },
	{ "usekek + 2 glAddMember", P_NONE, W(GLO1), K_USE_KEK_ADD, W(BOB),
	    W(BOB), 0, OK, -1, -1, 2, 6, 0 },
	/* 4.3 glAddMember */
	{ "add by GLO", P_UNMANAGED, W(GLO1), K_ADD, W(BOB), W(BOB), 0,
	    OK, -1, -1, 3, 2, 0 },
	{ "add EC P-384", P_CLOSED, W(GLO1), K_ADD, W(CAROL), W(CAROL), 0,
	    OK, -1, -1, 3, 2, 0 },
	{ "add alreadyAMember", P_UNMANAGED, W(GLO1), K_ADD, W(ALICE),
	    W(ALICE), 0, FAILED, -1, F(ALREADY_A_MEMBER), 2, 0, 0 },
	{ "add invalidGLName", P_UNMANAGED, W(GLO1), K_ADD_OTHER_GL, W(BOB),
	    W(BOB), 0, FAILED, -1, F(INVALID_GL_NAME), 2, 0, 0 },
	{ "add to deleted GL", P_DELETED, W(GLO1), K_ADD, W(BOB), W(BOB), 0,
	    FAILED, -1, F(INVALID_GL_NAME), NONE, 0, 0 },
	{ "self-add unmanaged", P_UNMANAGED, W(BOB), K_ADD, W(BOB), W(BOB),
	    0, OK, -1, -1, 3, 2, 0 },
	{ "add noSpam unmanaged", P_UNMANAGED, W(CAROL), K_ADD, W(BOB),
	    W(BOB), 0, FAILED, -1, F(NO_SPAM), 2, 0, 0 },
	{ "self-add managed: forwarded", P_MANAGED, W(BOB), K_ADD, W(BOB),
	    W(BOB), 0, SKD_CMC_PENDING, -1, -1, 2, 0, 1 },
	{ "add noSpam managed", P_MANAGED, W(CAROL), K_ADD, W(BOB), W(BOB),
	    0, FAILED, -1, F(NO_SPAM), 2, 0, 0 },
	{ "self-add closed: closedGL", P_CLOSED, W(BOB), K_ADD, W(BOB),
	    W(BOB), 0, FAILED, -1, F(CLOSED_GL), 2, 0, 0 },
	/* 4.3.1 2.d.2.b.1.a: noGLONameMatch to a signer who is neither a
	 * GLO nor a member; not returned to members (3.2.3). */
	{ "add closed by non-member: noGLONameMatch", P_CLOSED, W(CAROL),
	    K_ADD, W(BOB), W(BOB), 0, FAILED, -1, F(NO_GLO_NAME_MATCH), 2, 0,
	    0 },
	{ "add closed by member masked", P_CLOSED, W(ALICE), K_ADD, W(BOB),
	    W(BOB), 0, FAILED, -1, F(UNSPECIFIED), 2, 0, 0 },
	{ "add invalidCert revoked", P_UNMANAGED, W(GLO1), K_ADD, W(REVOKED),
	    W(REVOKED), 0, FAILED, -1, F(INVALID_CERT), 2, 0, 0 },
	{ "add invalidCert expired", P_UNMANAGED, W(GLO1), K_ADD, W(EXPIRED),
	    W(EXPIRED), 0, FAILED, -1, F(INVALID_CERT), 2, 0, 0 },
	{ "add invalidCert untrusted", P_UNMANAGED, W(GLO1), K_ADD,
	    W(STRANGER), W(STRANGER), 0, FAILED, -1, F(INVALID_CERT), 2, 0,
	    0 },
	{ "add without certificate", P_UNMANAGED, W(GLO1), K_ADD_NOCERT,
	    W(BOB), W(BOB), 0, FAILED, -1, F(INVALID_CERT), 2, 0, 0 },
	/* 4.4 glDeleteMember */
	{ "delete member unmanaged", P_UNMANAGED, W(GLO1), K_DEL_MEMBER,
	    W(ALICE), W(ALICE), 0, OK, -1, -1, 1, 0, 0 },
	{ "delete member managed: rekey", P_MANAGED, W(GLO1), K_DEL_MEMBER,
	    W(ALICE), W(ALICE), 0, OK, -1, -1, 1, 2, 0 },
	{ "delete member closed: rekey", P_CLOSED, W(GLO1), K_DEL_MEMBER,
	    W(ALICE), W(ALICE), 0, OK, -1, -1, 1, 2, 0 },
	{ "delete notAMember", P_UNMANAGED, W(GLO1), K_DEL_MEMBER, W(BOB),
	    W(BOB), 0, FAILED, -1, F(NOT_A_MEMBER), 2, 0, 0 },
	{ "self-delete unmanaged", P_UNMANAGED, W(ALICE), K_DEL_MEMBER,
	    W(ALICE), W(ALICE), 0, OK, -1, -1, 1, 0, 0 },
	{ "self-delete managed: forwarded", P_MANAGED, W(ALICE),
	    K_DEL_MEMBER, W(ALICE), W(ALICE), 0, SKD_CMC_PENDING, -1, -1, 2,
	    0, 1 },
	{ "self-delete closed", P_CLOSED, W(ALICE), K_DEL_MEMBER, W(ALICE),
	    W(ALICE), 0, FAILED, -1, F(CLOSED_GL), 2, 0, 0 },
	{ "delete other noSpam", P_UNMANAGED, W(ALICE), K_DEL_MEMBER,
	    W(DAVE), W(DAVE), 0, FAILED, -1, F(NO_SPAM), 2, 0, 0 },
	/* 4.5.1 glRekey */
	{ "rekey current", P_UNMANAGED, W(GLO1), K_REKEY, W(GLO1), W(GLO1),
	    0, OK, -1, -1, 2, 2, 0 },
	{ "rekey all", P_UNMANAGED, W(GLO1), K_REKEY_ALL, W(GLO1), W(GLO1),
	    0, OK, -1, -1, 2, 4, 0 },
	{ "rekey generationCounter 3", P_UNMANAGED, W(GLO1), K_REKEY_GEN,
	    W(GLO1), W(GLO1), 3, OK, -1, -1, 2, 6, 0 },
	{ "rekey generationCounter 0", P_UNMANAGED, W(GLO1), K_REKEY_GEN,
	    W(GLO1), W(GLO1), 0, OK, -1, -1, 2, 2, 0 },
	{ "rekey generationCounter 13", P_UNMANAGED, W(GLO1), K_REKEY_GEN,
	    W(GLO1), W(GLO1), 13, FAILED, -1, F(UNSPECIFIED), 2, 0, 0 },
	{ "rekey by member masked", P_UNMANAGED, W(ALICE), K_REKEY, W(GLO1),
	    W(GLO1), 0, FAILED, -1, F(UNSPECIFIED), 2, 0, 0 },
	{ "rekey unsupportedAlgorithm", P_UNMANAGED, W(GLO1), K_REKEY,
	    W(GLO1), W(GLO1), 1, FAILED, -1, F(UNSUPPORTED_ALGORITHM), 2, 0,
	    0 },
	{ "rekey to AES-256", P_UNMANAGED, W(GLO1), K_REKEY, W(GLO1), W(GLO1),
	    2, OK, -1, -1, 2, 2, 0 },
	{ "rekey deleted GL", P_DELETED, W(GLO1), K_REKEY, W(GLO1), W(GLO1),
	    0, FAILED, -1, F(INVALID_GL_NAME), NONE, 0, 0 },
	/* 4.2 glDelete */
	{ "delete GL", P_UNMANAGED, W(GLO1), K_DELETE, W(GLO1), W(GLO1), 0,
	    OK, -1, -1, NONE, 0, 0 },
	{ "delete GL by member masked", P_UNMANAGED, W(ALICE), K_DELETE,
	    W(GLO1), W(GLO1), 0, FAILED, -1, F(UNSPECIFIED), 2, 0, 0 },
	{ "delete GL twice", P_DELETED, W(GLO1), K_DELETE, W(GLO1), W(GLO1),
	    0, FAILED, -1, F(INVALID_GL_NAME), NONE, 0, 0 },
	/* 4.6 glAddOwner / glRemoveOwner */
	{ "add owner", P_UNMANAGED, W(GLO1), K_ADD_OWNER, W(GLO2), W(GLO2),
	    0, OK, -1, -1, 2, 0, 0 },
	{ "add owner alreadyAnOwner", P_UNMANAGED, W(GLO1), K_ADD_OWNER,
	    W(GLO1), W(GLO1), 0, FAILED, -1, F(ALREADY_AN_OWNER), 2, 0, 0 },
	{ "add owner by non-member: noGLONameMatch", P_UNMANAGED, W(GLO2),
	    K_ADD_OWNER, W(GLO2), W(GLO2), 0, FAILED, -1,
	    F(NO_GLO_NAME_MATCH), 2, 0, 0 },
	{ "add owner by member masked", P_UNMANAGED, W(ALICE), K_ADD_OWNER,
	    W(GLO2), W(GLO2), 0, FAILED, -1, F(UNSPECIFIED), 2, 0, 0 },
	{ "delete GL by non-member: noGLONameMatch", P_UNMANAGED, W(CAROL),
	    K_DELETE, W(GLO1), W(GLO1), 0, FAILED, -1, F(NO_GLO_NAME_MATCH),
	    2, 0, 0 },
	{ "remove owner notAnOwner", P_UNMANAGED, W(GLO1), K_REMOVE_OWNER,
	    W(GLO2), W(GLO2), 0, FAILED, -1, F(NOT_AN_OWNER), 2, 0, 0 },
	{ "remove last owner", P_UNMANAGED, W(GLO1), K_REMOVE_OWNER,
	    W(GLO1), W(GLO1), 0, FAILED, -1, F(UNSPECIFIED), 2, 0, 0 },
	/* 4.7 glkCompromise */
	{ "compromise by GLO: rekey", P_UNMANAGED, W(GLO1), K_COMPROMISE,
	    W(GLO1), W(GLO1), 0, OK, -1, -1, 2, 4, 0 },
	{ "compromise by member: forwarded", P_UNMANAGED, W(ALICE),
	    K_COMPROMISE, W(GLO1), W(GLO1), 0, SKD_CMC_PENDING, -1, -1, 2, 0,
	    1 },
	{ "compromise by outsider", P_UNMANAGED, W(BOB), K_COMPROMISE,
	    W(GLO1), W(GLO1), 0, FAILED, -1, F(NOT_A_MEMBER), 2, 0, 0 },
	/* 4.8 glkRefresh */
	{ "refresh by member", P_UNMANAGED, W(ALICE), K_REFRESH, W(ALICE),
	    W(ALICE), 0, OK, -1, -1, 2, 0, 0 },
	{ "refresh by outsider", P_UNMANAGED, W(BOB), K_REFRESH, W(BOB),
	    W(BOB), 0, FAILED, -1, F(NOT_A_MEMBER), 2, 0, 0 },
	/* 4.9 glaQueryRequest */
	{ "query algorithms", P_NONE, W(BOB), K_QUERY, W(BOB), W(BOB), 0,
	    OK, -1, -1, NONE, 0, 0 },
	{ "query unknown type", P_NONE, W(BOB), K_QUERY_BAD, W(BOB), W(BOB),
	    0, SKD_CMC_NO_SUPPORT, -1, -1, NONE, 0, 0 },
	/* 4.10 */
	/* 4.10.2 2.c.2: replaced, and a copy forwarded to the GLO */
	{ "manage cert valid", P_UNMANAGED, W(ALICE), K_MANAGE_CERT,
	    W(ALICE), W(ALICE), 0, OK, -1, -1, 2, 0, 1 },
	{ "manage cert revoked", P_UNMANAGED, W(ALICE), K_MANAGE_CERT,
	    W(ALICE), W(REVOKED), 0, FAILED, -1, F(INVALID_CERT), 2, 0, 1 },
	{ "provide cert by GLO", P_UNMANAGED, W(GLO1), K_PROVIDE_CERT,
	    W(ALICE), W(ALICE), 0, OK, -1, -1, 2, 0, 1 },
	/* 3.2.2 */
	{ "invalid combination", P_UNMANAGED, W(GLO1), K_BAD_COMBO, W(GLO1),
	    W(GLO1), 0, FAILED, SKD_CMC_BAD_REQUEST, -1, 2, 0, 0 },
	{ "unknown control", P_UNMANAGED, W(GLO1), K_UNKNOWN_CTL, W(GLO1),
	    W(GLO1), 0, FAILED, SKD_CMC_BAD_REQUEST, -1, 2, 0, 0 },
};


static inline void
expect(const SKD_ENG_OUTCOME *o, size_t idx, long st, long cmc, long skd)
{
	long s, c, k;

	ck_assert_msg(skd_engine_outcome_result(o, idx, &s, &c, &k),
	    "no result %zu", idx);
	ck_assert_msg(s == st && c == cmc && k == skd,
	    "result %zu: status %ld cmc %ld skd %ld, want %ld %ld %ld", idx,
	    s, c, k, st, cmc, skd);
}


/* Processes a request (der, freed) and applies the outcome; returns it. */
typedef SKD_ENG_OUTCOME *(*te_run_fn)(void *fx, unsigned char *der,
    size_t len);

/* A GL with owner glo1 and members alice and dave (RSA). */
static inline void
te_make_prior(void *f, te_run_fn run, int prior)
{
	struct skd_cmc_body *b;
	unsigned char *der;
	size_t len;

	if (prior == P_NONE)
		return;
	b = te_body();
	te_use_kek(b, TE_GL, W(GLO1), prior == P_MANAGED ? SKD_GL_MANAGED :
	    prior == P_CLOSED ? SKD_GL_CLOSED : SKD_GL_UNMANAGED, NID_undef,
	    -1, -1, 0);
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(ALICE), W(ALICE));
	te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(DAVE), W(DAVE));
	der = te_seal(b, W(GLO1), TE_NOW - 100, 0, &len);
	SKD_ENG_OUTCOME_free(run(f, der, len));
	if (prior == P_DELETED) {
		b = te_body();
		te_gname_ctl(b, SKD_OID_GL_DELETE, TE_GL);
		der = te_seal(b, W(GLO1), TE_NOW - 90, 0, &len);
		SKD_ENG_OUTCOME_free(run(f, der, len));
	}
}

static inline struct skd_cmc_body *
row_body(const struct row *r)
{
	struct skd_cmc_body *b = te_body();
	static const int algs[] = { NID_undef, NID_id_smime_alg_CMS3DESwrap,
	    NID_id_aes256_wrap };

	switch (r->kind) {
	case K_USE_KEK:
	case K_USE_KEK_NOISSUER:
		te_use_kek(b, TE_GL, r->subject, SKD_GL_UNMANAGED,
		    r->arg == 1 ? NID_id_smime_alg_CMS3DESwrap : NID_undef,
		    r->arg == 2 ? 1000 : r->arg == 3 ? 30 : -1,
		    r->arg == 3 ? 3 : -1, 0);
		break;
	case K_USE_KEK_ADD:
		te_use_kek(b, TE_GL, W(GLO1), SKD_GL_MANAGED, NID_undef, -1,
		    -1, 0);
		te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(BOB), W(BOB));
		te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, W(ALICE),
		    W(ALICE));
		break;
	case K_ADD:
		te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, r->subject,
		    r->cert);
		break;
	case K_ADD_NOCERT:
		te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL, r->subject,
		    SKD_TP_COUNT);
		break;
	case K_ADD_OTHER_GL:
		te_member_ctl(b, SKD_OID_GL_ADD_MEMBER, TE_GL2, r->subject,
		    r->cert);
		break;
	case K_DEL_MEMBER:
		te_del_member(b, TE_GL, r->subject);
		break;
	case K_REKEY:
		te_rekey(b, TE_GL, 0, algs[r->arg]);
		break;
	case K_REKEY_ALL:
		te_rekey(b, TE_GL, 1, NID_undef);
		break;
	case K_REKEY_GEN:
		te_rekey_gen(b, TE_GL, r->arg);
		break;
	case K_DELETE:
		te_gname_ctl(b, SKD_OID_GL_DELETE, TE_GL);
		break;
	case K_ADD_OWNER:
		te_owner(b, SKD_OID_GL_ADD_OWNER, TE_GL, r->subject);
		break;
	case K_REMOVE_OWNER:
		te_owner(b, SKD_OID_GL_REMOVE_OWNER, TE_GL, r->subject);
		break;
	case K_COMPROMISE:
		te_gname_ctl(b, SKD_OID_GL_KEY_COMPROMISE, TE_GL);
		break;
	case K_REFRESH:
		te_refresh(b, TE_GL, TE_NOW - 86400);
		break;
	case K_QUERY:
		te_query(b, SKD_OID_GLA_SKD_ALG_REQUEST);
		break;
	case K_QUERY_BAD:
		te_query(b, SKD_OID_GLA_SKD_ALG_RESPONSE);
		break;
	case K_MANAGE_CERT:
		te_member_ctl(b, SKD_OID_GL_MANAGE_CERT, TE_GL, r->subject,
		    r->cert);
		break;
	case K_PROVIDE_CERT:
		te_member_ctl(b, SKD_OID_GL_PROVIDE_CERT, TE_GL, r->subject,
		    SKD_TP_COUNT);
		break;
	case K_BAD_COMBO:
		te_use_kek(b, TE_GL2, W(GLO1), SKD_GL_UNMANAGED, NID_undef, -1,
		    -1, 0);
		te_gname_ctl(b, SKD_OID_GL_DELETE, TE_GL);
		break;
	case K_UNKNOWN_CTL:
		/* glKey is the GLA's to send, never a request. */
		{
			SKD_GL_KEY *k = SKD_GL_KEY_new();

			GENERAL_NAME_free(k->glName);
			k->glName = te_gn(TE_GL);
			ck_assert(ASN1_OCTET_STRING_set(
			    k->glIdentifier->keyIdentifier,
			    (const unsigned char *)"x", 1));
			sk_ASN1_TYPE_push(k->glkWrapped, ASN1_TYPE_new());
			ASN1_TYPE_set(sk_ASN1_TYPE_value(k->glkWrapped, 0),
			    V_ASN1_NULL, NULL);
			ck_assert(X509_ALGOR_set0(k->glkAlgorithm,
			    OBJ_nid2obj(NID_id_aes128_wrap), V_ASN1_UNDEF,
			    NULL));
			ASN1_GENERALIZEDTIME_set(k->glkNotBefore, TE_NOW);
			ASN1_GENERALIZEDTIME_set(k->glkNotAfter, TE_NOW);
			te_add(b, SKD_OID_GL_KEY, k);
			SKD_GL_KEY_free(k);
		}
		break;
	}
	return b;
}

/* The row's expectations on o; members: the GL's members after (read by
 * the caller from its state). */
static inline void
row_check(const struct row *r, const SKD_ENG_OUTCOME *o, long members)
{
	long s;

	expect(o, 0, r->status, r->cmc_fail, r->skd_fail);
	if (r->kind == K_USE_KEK_ADD) {
		expect(o, 1, OK, -1, -1);
		expect(o, 2, OK, -1, -1);
	}
	if (r->members != NONE)
		ck_assert_msg(members == r->members, "%s: members %ld",
		    r->name, members);
	if (r->glkeys != NONE)
		ck_assert_msg((int)skd_engine_outcome_count(o,
		    SKD_OP_GLKEY_PUT) == r->glkeys, "%s: glkeys %zu", r->name,
		    skd_engine_outcome_count(o, SKD_OP_GLKEY_PUT));
	ck_assert_msg((int)skd_engine_outcome_count(o, SKD_OP_MESSAGE) ==
	    r->messages, "%s: messages %zu", r->name,
	    skd_engine_outcome_count(o, SKD_OP_MESSAGE));
	/* One response unless everything was forwarded (3.2.4.1). */
	ck_assert(skd_engine_outcome_result(o, 0, &s, NULL, NULL));
	ck_assert_int_eq((int)skd_engine_outcome_count(o, SKD_OP_RESPONSE),
	    s == SKD_CMC_PENDING ? 0 : 1);
}

#endif
