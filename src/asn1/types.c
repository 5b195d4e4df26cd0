/*
 * types.c: templates for the types of RFC 5275 Appendix A
 * (asn1/SMIMESymmetricKeyDistribution.asn), IMPLICIT TAGS.
 *
 * DEFAULTs: BOOLEAN DEFAULTs use ASN1_FBOOLEAN/ASN1_TBOOLEAN, so the encoder
 * omits them; INTEGER and AlgorithmIdentifier DEFAULTs are OPTIONAL pointers
 * that are NULL for the default.  The D2I_POST callbacks normalise a decoded
 * value that equals its DEFAULT to that absent form, so a sender that
 * encoded a DEFAULT re-encodes shorter and skd_der_decode refuses it (X.690
 * 11.5), while the lenient d2i_* still yield the right meaning.
 */
#include <limits.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "asn1/skd_asn1.h"

/* DER BOOLEAN TRUE is 0xff (X.690 11.1); OpenSSL stores the octet as read. */
static void
bool_normalise(int *b)
{
	if (*b != -1 && *b != 0)
		*b = 0xff;
}

static int
int_is(const ASN1_INTEGER *ai, int64_t want)
{
	int64_t v;

	return ai != NULL && ASN1_INTEGER_get_int64(&v, ai) && v == want;
}

/* id-aes128-wrap with absent parameters: GLKeyAttributes' DEFAULT. */
static int
alg_is_default(const X509_ALGOR *alg)
{
	const ASN1_OBJECT *obj;
	int ptype;

	if (alg == NULL)
		return 0;
	X509_ALGOR_get0(&obj, &ptype, NULL, alg);
	return OBJ_obj2nid(obj) == NID_id_aes128_wrap && ptype == V_ASN1_UNDEF;
}

ASN1_SEQUENCE(SKD_OTHER_KEY_ATTRIBUTE) = {
	ASN1_SIMPLE(SKD_OTHER_KEY_ATTRIBUTE, keyAttrId, ASN1_OBJECT),
	ASN1_OPT(SKD_OTHER_KEY_ATTRIBUTE, keyAttr, ASN1_ANY)
} ASN1_SEQUENCE_END(SKD_OTHER_KEY_ATTRIBUTE)
IMPLEMENT_ASN1_FUNCTIONS(SKD_OTHER_KEY_ATTRIBUTE)

ASN1_SEQUENCE(SKD_KEK_IDENTIFIER) = {
	ASN1_SIMPLE(SKD_KEK_IDENTIFIER, keyIdentifier, ASN1_OCTET_STRING),
	ASN1_OPT(SKD_KEK_IDENTIFIER, date, ASN1_GENERALIZEDTIME),
	ASN1_OPT(SKD_KEK_IDENTIFIER, other, SKD_OTHER_KEY_ATTRIBUTE)
} ASN1_SEQUENCE_END(SKD_KEK_IDENTIFIER)
IMPLEMENT_ASN1_FUNCTIONS(SKD_KEK_IDENTIFIER)

/* aC is SEQUENCE SIZE (1..MAX): an empty one is refused. */
static int
certificates_cb(int op, ASN1_VALUE **pval, const ASN1_ITEM *it, void *exarg)
{
	SKD_CERTIFICATES *c;

	(void)it;
	(void)exarg;
	if (op != ASN1_OP_D2I_POST)
		return 1;
	c = (SKD_CERTIFICATES *)*pval;
	if (c->aC != NULL && sk_ASN1_TYPE_num(c->aC) == 0)
		return 0;
	return 1;
}

ASN1_SEQUENCE_cb(SKD_CERTIFICATES, certificates_cb) = {
	ASN1_IMP_OPT(SKD_CERTIFICATES, pKC, X509, 0),
	ASN1_IMP_SEQUENCE_OF_OPT(SKD_CERTIFICATES, aC, ASN1_ANY, 1),
	ASN1_IMP_SET_OF_OPT(SKD_CERTIFICATES, certPath, ASN1_ANY, 2)
} ASN1_SEQUENCE_END_cb(SKD_CERTIFICATES, SKD_CERTIFICATES)
IMPLEMENT_ASN1_FUNCTIONS(SKD_CERTIFICATES)

ASN1_SEQUENCE(SKD_GL_INFO) = {
	ASN1_SIMPLE(SKD_GL_INFO, glName, GENERAL_NAME),
	ASN1_SIMPLE(SKD_GL_INFO, glAddress, GENERAL_NAME)
} ASN1_SEQUENCE_END(SKD_GL_INFO)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GL_INFO)

ASN1_SEQUENCE(SKD_GL_OWNER_INFO) = {
	ASN1_SIMPLE(SKD_GL_OWNER_INFO, glOwnerName, GENERAL_NAME),
	ASN1_SIMPLE(SKD_GL_OWNER_INFO, glOwnerAddress, GENERAL_NAME),
	ASN1_OPT(SKD_GL_OWNER_INFO, certificates, SKD_CERTIFICATES)
} ASN1_SEQUENCE_END(SKD_GL_OWNER_INFO)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GL_OWNER_INFO)

static int
glkeyattrs_cb(int op, ASN1_VALUE **pval, const ASN1_ITEM *it, void *exarg)
{
	SKD_GL_KEY_ATTRIBUTES *a;

	(void)it;
	(void)exarg;
	if (op != ASN1_OP_D2I_POST)
		return 1;
	a = (SKD_GL_KEY_ATTRIBUTES *)*pval;
	bool_normalise(&a->rekeyControlledByGLO);
	bool_normalise(&a->recipientsNotMutuallyAware);
	if (int_is(a->duration, 0)) {
		ASN1_INTEGER_free(a->duration);
		a->duration = NULL;
	}
	if (int_is(a->generationCounter, 2)) {
		ASN1_INTEGER_free(a->generationCounter);
		a->generationCounter = NULL;
	}
	if (alg_is_default(a->requestedAlgorithm)) {
		X509_ALGOR_free(a->requestedAlgorithm);
		a->requestedAlgorithm = NULL;
	}
	return 1;
}

ASN1_SEQUENCE_cb(SKD_GL_KEY_ATTRIBUTES, glkeyattrs_cb) = {
	ASN1_IMP_OPT(SKD_GL_KEY_ATTRIBUTES, rekeyControlledByGLO,
	    ASN1_FBOOLEAN, 0),
	ASN1_IMP_OPT(SKD_GL_KEY_ATTRIBUTES, recipientsNotMutuallyAware,
	    ASN1_TBOOLEAN, 1),
	ASN1_IMP_OPT(SKD_GL_KEY_ATTRIBUTES, duration, ASN1_INTEGER, 2),
	ASN1_IMP_OPT(SKD_GL_KEY_ATTRIBUTES, generationCounter, ASN1_INTEGER, 3),
	ASN1_IMP_OPT(SKD_GL_KEY_ATTRIBUTES, requestedAlgorithm, X509_ALGOR, 4)
} ASN1_SEQUENCE_END_cb(SKD_GL_KEY_ATTRIBUTES, SKD_GL_KEY_ATTRIBUTES)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GL_KEY_ATTRIBUTES)

static int
glusekek_cb(int op, ASN1_VALUE **pval, const ASN1_ITEM *it, void *exarg)
{
	SKD_GL_USE_KEK *u;

	(void)it;
	(void)exarg;
	if (op != ASN1_OP_D2I_POST)
		return 1;
	u = (SKD_GL_USE_KEK *)*pval;
	/* glOwnerInfo is SIZE (1..MAX). */
	if (sk_SKD_GL_OWNER_INFO_num(u->glOwnerInfo) < 1)
		return 0;
	if (int_is(u->glAdministration, SKD_GL_MANAGED)) {
		ASN1_INTEGER_free(u->glAdministration);
		u->glAdministration = NULL;
	}
	return 1;
}

ASN1_SEQUENCE_cb(SKD_GL_USE_KEK, glusekek_cb) = {
	ASN1_SIMPLE(SKD_GL_USE_KEK, glInfo, SKD_GL_INFO),
	ASN1_SEQUENCE_OF(SKD_GL_USE_KEK, glOwnerInfo, SKD_GL_OWNER_INFO),
	ASN1_OPT(SKD_GL_USE_KEK, glAdministration, ASN1_INTEGER),
	ASN1_OPT(SKD_GL_USE_KEK, glKeyAttributes, SKD_GL_KEY_ATTRIBUTES)
} ASN1_SEQUENCE_END_cb(SKD_GL_USE_KEK, SKD_GL_USE_KEK)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GL_USE_KEK)

ASN1_SEQUENCE(SKD_GL_MEMBER) = {
	ASN1_SIMPLE(SKD_GL_MEMBER, glMemberName, GENERAL_NAME),
	ASN1_OPT(SKD_GL_MEMBER, glMemberAddress, GENERAL_NAME),
	ASN1_OPT(SKD_GL_MEMBER, certificates, SKD_CERTIFICATES)
} ASN1_SEQUENCE_END(SKD_GL_MEMBER)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GL_MEMBER)

ASN1_SEQUENCE(SKD_GL_ADD_MEMBER) = {
	ASN1_SIMPLE(SKD_GL_ADD_MEMBER, glName, GENERAL_NAME),
	ASN1_SIMPLE(SKD_GL_ADD_MEMBER, glMember, SKD_GL_MEMBER)
} ASN1_SEQUENCE_END(SKD_GL_ADD_MEMBER)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GL_ADD_MEMBER)

ASN1_SEQUENCE(SKD_GL_MANAGE_CERT) = {
	ASN1_SIMPLE(SKD_GL_MANAGE_CERT, glName, GENERAL_NAME),
	ASN1_SIMPLE(SKD_GL_MANAGE_CERT, glMember, SKD_GL_MEMBER)
} ASN1_SEQUENCE_END(SKD_GL_MANAGE_CERT)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GL_MANAGE_CERT)

ASN1_SEQUENCE(SKD_GL_DELETE_MEMBER) = {
	ASN1_SIMPLE(SKD_GL_DELETE_MEMBER, glName, GENERAL_NAME),
	ASN1_SIMPLE(SKD_GL_DELETE_MEMBER, glMemberToDelete, GENERAL_NAME)
} ASN1_SEQUENCE_END(SKD_GL_DELETE_MEMBER)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GL_DELETE_MEMBER)

static int
glnewkeyattrs_cb(int op, ASN1_VALUE **pval, const ASN1_ITEM *it,
    void *exarg)
{
	SKD_GL_NEW_KEY_ATTRIBUTES *a;

	(void)it;
	(void)exarg;
	if (op != ASN1_OP_D2I_POST)
		return 1;
	a = (SKD_GL_NEW_KEY_ATTRIBUTES *)*pval;
	bool_normalise(&a->rekeyControlledByGLO);
	bool_normalise(&a->recipientsNotMutuallyAware);
	return 1;
}

ASN1_SEQUENCE_cb(SKD_GL_NEW_KEY_ATTRIBUTES, glnewkeyattrs_cb) = {
	ASN1_IMP_OPT(SKD_GL_NEW_KEY_ATTRIBUTES, rekeyControlledByGLO,
	    ASN1_BOOLEAN, 0),
	ASN1_IMP_OPT(SKD_GL_NEW_KEY_ATTRIBUTES, recipientsNotMutuallyAware,
	    ASN1_BOOLEAN, 1),
	ASN1_IMP_OPT(SKD_GL_NEW_KEY_ATTRIBUTES, duration, ASN1_INTEGER, 2),
	ASN1_IMP_OPT(SKD_GL_NEW_KEY_ATTRIBUTES, generationCounter,
	    ASN1_INTEGER, 3),
	ASN1_IMP_OPT(SKD_GL_NEW_KEY_ATTRIBUTES, requestedAlgorithm,
	    X509_ALGOR, 4)
} ASN1_SEQUENCE_END_cb(SKD_GL_NEW_KEY_ATTRIBUTES, SKD_GL_NEW_KEY_ATTRIBUTES)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GL_NEW_KEY_ATTRIBUTES)

static int
glrekey_cb(int op, ASN1_VALUE **pval, const ASN1_ITEM *it, void *exarg)
{
	(void)it;
	(void)exarg;
	if (op == ASN1_OP_D2I_POST)
		bool_normalise(&((SKD_GL_REKEY *)*pval)->glRekeyAllGLKeys);
	return 1;
}

ASN1_SEQUENCE_cb(SKD_GL_REKEY, glrekey_cb) = {
	ASN1_SIMPLE(SKD_GL_REKEY, glName, GENERAL_NAME),
	ASN1_OPT(SKD_GL_REKEY, glAdministration, ASN1_INTEGER),
	ASN1_OPT(SKD_GL_REKEY, glNewKeyAttributes, SKD_GL_NEW_KEY_ATTRIBUTES),
	ASN1_OPT(SKD_GL_REKEY, glRekeyAllGLKeys, ASN1_BOOLEAN)
} ASN1_SEQUENCE_END_cb(SKD_GL_REKEY, SKD_GL_REKEY)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GL_REKEY)

ASN1_SEQUENCE(SKD_GL_OWNER_ADMINISTRATION) = {
	ASN1_SIMPLE(SKD_GL_OWNER_ADMINISTRATION, glName, GENERAL_NAME),
	ASN1_SIMPLE(SKD_GL_OWNER_ADMINISTRATION, glOwnerInfo, SKD_GL_OWNER_INFO)
} ASN1_SEQUENCE_END(SKD_GL_OWNER_ADMINISTRATION)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GL_OWNER_ADMINISTRATION)

ASN1_SEQUENCE(SKD_DATE) = {
	ASN1_SIMPLE(SKD_DATE, start, ASN1_GENERALIZEDTIME),
	ASN1_OPT(SKD_DATE, end, ASN1_GENERALIZEDTIME)
} ASN1_SEQUENCE_END(SKD_DATE)
IMPLEMENT_ASN1_FUNCTIONS(SKD_DATE)

static int
glkrefresh_cb(int op, ASN1_VALUE **pval, const ASN1_ITEM *it, void *exarg)
{
	(void)it;
	(void)exarg;
	/* dates is SIZE (1..MAX). */
	if (op == ASN1_OP_D2I_POST &&
	    sk_SKD_DATE_num(((SKD_GL_KREFRESH *)*pval)->dates) < 1)
		return 0;
	return 1;
}

ASN1_SEQUENCE_cb(SKD_GL_KREFRESH, glkrefresh_cb) = {
	ASN1_SIMPLE(SKD_GL_KREFRESH, glName, GENERAL_NAME),
	ASN1_SEQUENCE_OF(SKD_GL_KREFRESH, dates, SKD_DATE)
} ASN1_SEQUENCE_END_cb(SKD_GL_KREFRESH, SKD_GL_KREFRESH)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GL_KREFRESH)

ASN1_SEQUENCE(SKD_GLA_QUERY_REQUEST) = {
	ASN1_SIMPLE(SKD_GLA_QUERY_REQUEST, type, ASN1_OBJECT),
	ASN1_SIMPLE(SKD_GLA_QUERY_REQUEST, value, ASN1_ANY)
} ASN1_SEQUENCE_END(SKD_GLA_QUERY_REQUEST)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GLA_QUERY_REQUEST)

ASN1_SEQUENCE(SKD_GLA_QUERY_RESPONSE) = {
	ASN1_SIMPLE(SKD_GLA_QUERY_RESPONSE, type, ASN1_OBJECT),
	ASN1_SIMPLE(SKD_GLA_QUERY_RESPONSE, value, ASN1_ANY)
} ASN1_SEQUENCE_END(SKD_GLA_QUERY_RESPONSE)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GLA_QUERY_RESPONSE)

static int
glkey_cb(int op, ASN1_VALUE **pval, const ASN1_ITEM *it, void *exarg)
{
	(void)it;
	(void)exarg;
	/* RecipientInfos is SET SIZE (1..MAX) (RFC 5652 6.1). */
	if (op == ASN1_OP_D2I_POST &&
	    sk_ASN1_TYPE_num(((SKD_GL_KEY *)*pval)->glkWrapped) < 1)
		return 0;
	return 1;
}

ASN1_SEQUENCE_cb(SKD_GL_KEY, glkey_cb) = {
	ASN1_SIMPLE(SKD_GL_KEY, glName, GENERAL_NAME),
	ASN1_SIMPLE(SKD_GL_KEY, glIdentifier, SKD_KEK_IDENTIFIER),
	ASN1_SET_OF(SKD_GL_KEY, glkWrapped, ASN1_ANY),
	ASN1_SIMPLE(SKD_GL_KEY, glkAlgorithm, X509_ALGOR),
	ASN1_SIMPLE(SKD_GL_KEY, glkNotBefore, ASN1_GENERALIZEDTIME),
	ASN1_SIMPLE(SKD_GL_KEY, glkNotAfter, ASN1_GENERALIZEDTIME)
} ASN1_SEQUENCE_END_cb(SKD_GL_KEY, SKD_GL_KEY)
IMPLEMENT_ASN1_FUNCTIONS(SKD_GL_KEY)

/* --- accessors that apply DEFAULTs (RFC 5275 3.1.1) --- */

static long
int_get(const ASN1_INTEGER *ai, long dflt)
{
	int64_t v;

	if (ai == NULL)
		return dflt;
	if (!ASN1_INTEGER_get_int64(&v, ai) || v < LONG_MIN || v > LONG_MAX) {
		ERR_clear_error();
		return -1;
	}
	return (long)v;
}

/* Sets *field to v, or to NULL when v is the DEFAULT dflt. */
static int
int_set(ASN1_INTEGER **field, long v, long dflt)
{
	ASN1_INTEGER *ai = NULL;

	if (v != dflt) {
		if ((ai = ASN1_INTEGER_new()) == NULL)
			return 0;
		if (!ASN1_INTEGER_set_int64(ai, v)) {
			ASN1_INTEGER_free(ai);
			return 0;
		}
	}
	ASN1_INTEGER_free(*field);
	*field = ai;
	return 1;
}

int
skd_glkeyattrs_get_rekey_by_glo(const SKD_GL_KEY_ATTRIBUTES *a)
{
	return a != NULL && a->rekeyControlledByGLO != 0;
}

int
skd_glkeyattrs_get_not_mutually_aware(const SKD_GL_KEY_ATTRIBUTES *a)
{
	return a == NULL || a->recipientsNotMutuallyAware != 0;
}

long
skd_glkeyattrs_get_duration(const SKD_GL_KEY_ATTRIBUTES *a)
{
	return int_get(a != NULL ? a->duration : NULL, 0);
}

long
skd_glkeyattrs_get_generation_counter(const SKD_GL_KEY_ATTRIBUTES *a)
{
	return int_get(a != NULL ? a->generationCounter : NULL, 2);
}

int
skd_glkeyattrs_get_alg_nid(const SKD_GL_KEY_ATTRIBUTES *a)
{
	const ASN1_OBJECT *obj;

	if (a == NULL || a->requestedAlgorithm == NULL)
		return NID_id_aes128_wrap;
	X509_ALGOR_get0(&obj, NULL, NULL, a->requestedAlgorithm);
	return OBJ_obj2nid(obj);
}

const X509_ALGOR *
skd_glkeyattrs_get0_alg(const SKD_GL_KEY_ATTRIBUTES *a)
{
	return a != NULL ? a->requestedAlgorithm : NULL;
}

void
skd_glkeyattrs_set_rekey_by_glo(SKD_GL_KEY_ATTRIBUTES *a, int on)
{
	a->rekeyControlledByGLO = on ? 0xff : 0;
}

void
skd_glkeyattrs_set_not_mutually_aware(SKD_GL_KEY_ATTRIBUTES *a, int on)
{
	a->recipientsNotMutuallyAware = on ? 0xff : 0;
}

int
skd_glkeyattrs_set_duration(SKD_GL_KEY_ATTRIBUTES *a, long days)
{
	return int_set(&a->duration, days, 0);
}

int
skd_glkeyattrs_set_generation_counter(SKD_GL_KEY_ATTRIBUTES *a, long n)
{
	return int_set(&a->generationCounter, n, 2);
}

int
skd_glkeyattrs_set_alg_nid(SKD_GL_KEY_ATTRIBUTES *a, int nid)
{
	X509_ALGOR *alg = NULL;
	ASN1_OBJECT *obj;

	if ((obj = OBJ_nid2obj(nid)) == NULL || OBJ_length(obj) == 0)
		return 0;
	if (nid != NID_id_aes128_wrap) {
		if ((alg = X509_ALGOR_new()) == NULL)
			return 0;
		if (!X509_ALGOR_set0(alg, obj, V_ASN1_UNDEF, NULL)) {
			X509_ALGOR_free(alg);
			return 0;
		}
	}
	X509_ALGOR_free(a->requestedAlgorithm);
	a->requestedAlgorithm = alg;
	return 1;
}

int
skd_glkeyattrs_set1_alg(SKD_GL_KEY_ATTRIBUTES *a, const X509_ALGOR *alg)
{
	X509_ALGOR *dup = NULL;

	if (alg != NULL && !alg_is_default(alg)) {
		if ((dup = X509_ALGOR_dup(alg)) == NULL)
			return 0;
	}
	X509_ALGOR_free(a->requestedAlgorithm);
	a->requestedAlgorithm = dup;
	return 1;
}

long
skd_glusekek_get_admin(const SKD_GL_USE_KEK *u)
{
	return int_get(u->glAdministration, SKD_GL_MANAGED);
}

int
skd_glusekek_set_admin(SKD_GL_USE_KEK *u, long admin)
{
	return int_set(&u->glAdministration, admin, SKD_GL_MANAGED);
}

int
skd_asn1_opt_bool_get(int field)
{
	if (field == -1)
		return -1;
	return field != 0;
}

void
skd_asn1_opt_bool_set(int *field, int value)
{
	if (value < 0)
		*field = -1;
	else
		*field = value ? 0xff : 0;
}
