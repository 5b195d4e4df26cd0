/*
 * test_asn1.c: the asn1 module: round trips and DEFAULT omission for every
 * type, strict DER refusals, the pyasn1 glUseKEK vector, OIDs, the control
 * table and printing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pem.h first: cms.h declares PEM_read_bio_CMS only if it is included */
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "asn1/skd_asn1.h"
#include "skd_test.h"

/* --- helpers --- */

static size_t
unhex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = 0;
	unsigned int b;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		ck_assert_msg(sscanf(hex, "%2x", &b) == 1, "bad hex");
		ck_assert(n < cap);
		out[n++] = (unsigned char)b;
		hex += 2;
	}
	return n;
}

static void
assert_der(const ASN1_ITEM *it, const void *val, const char *hex)
{
	unsigned char want[512], *der = NULL;
	size_t wlen, len;

	wlen = unhex(hex, want, sizeof(want));
	ck_assert(skd_der_encode(it, val, &der, &len));
	ck_assert_msg(len == wlen && memcmp(der, want, len) == 0,
	    "%s: DER differs from %s", it->sname, hex);
	OPENSSL_free(der);
}

static GENERAL_NAME *
gn(const char *text)
{
	GENERAL_NAME *g = skd_gname_from_text(text);

	ck_assert_msg(g != NULL, "gname %s", text);
	return g;
}

static EVP_PKEY *
test_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	ck_assert(k != NULL);
	return k;
}

/* A small self-signed certificate made here (tests/support/pki is not
 * used so that this suite stands alone). */
static X509 *
test_cert(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *name;

	ck_assert(x != NULL);
	ck_assert(X509_set_version(x, X509_VERSION_3));
	ck_assert(ASN1_INTEGER_set(X509_get_serialNumber(x), 42));
	name = X509_get_subject_name(x);
	ck_assert(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0));
	ck_assert(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)"skd test", -1, -1, 0));
	ck_assert(X509_set_issuer_name(x, name));
	ck_assert(X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL);
	ck_assert(X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL);
	ck_assert(X509_set_pubkey(x, key));
	ck_assert(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static ASN1_TYPE *
any_from_hex(const char *hex)
{
	unsigned char buf[256];
	const unsigned char *p = buf;
	size_t n = unhex(hex, buf, sizeof(buf));
	ASN1_TYPE *t = d2i_ASN1_TYPE(NULL, &p, (long)n);

	ck_assert(t != NULL);
	return t;
}

static ASN1_GENERALIZEDTIME *
gtime(const char *s)
{
	ASN1_GENERALIZEDTIME *t = ASN1_GENERALIZEDTIME_new();

	ck_assert(t != NULL && ASN1_GENERALIZEDTIME_set_string(t, s));
	return t;
}

static ASN1_INTEGER *
aint(long v)
{
	ASN1_INTEGER *i = ASN1_INTEGER_new();

	ck_assert(i != NULL && ASN1_INTEGER_set(i, v));
	return i;
}

static ASN1_OCTET_STRING *
aoct(const char *s)
{
	ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();

	ck_assert(o != NULL && ASN1_OCTET_STRING_set(o,
	    (const unsigned char *)s, (int)strlen(s)));
	return o;
}

static X509_ALGOR *
algor(int nid)
{
	X509_ALGOR *a = X509_ALGOR_new();

	ck_assert(a != NULL &&
	    X509_ALGOR_set0(a, OBJ_nid2obj(nid), V_ASN1_UNDEF, NULL));
	return a;
}

static SKD_CERTIFICATES *
mk_certs(void)
{
	SKD_CERTIFICATES *c = SKD_CERTIFICATES_new();
	EVP_PKEY *k = test_key();

	ck_assert(c != NULL);
	c->pKC = test_cert(k, "owner");
	/* opaque elements: an "attribute certificate" and two CertificateSet
	 * members, given out of DER order so the encoder must sort them */
	ck_assert((c->aC = sk_ASN1_TYPE_new_null()) != NULL);
	ck_assert(sk_ASN1_TYPE_push(c->aC, any_from_hex("3003020105")));
	ck_assert((c->certPath = sk_ASN1_TYPE_new_null()) != NULL);
	ck_assert(sk_ASN1_TYPE_push(c->certPath, any_from_hex("3003020109")));
	ck_assert(sk_ASN1_TYPE_push(c->certPath,
	    any_from_hex("a1050303000102")));
	EVP_PKEY_free(k);
	return c;
}

static SKD_GL_OWNER_INFO *
mk_owner(int with_certs)
{
	SKD_GL_OWNER_INFO *o = SKD_GL_OWNER_INFO_new();

	ck_assert(o != NULL);
	GENERAL_NAME_free(o->glOwnerName);
	GENERAL_NAME_free(o->glOwnerAddress);
	o->glOwnerName = gn("dirName:CN=glo1,O=skd test,C=US");
	o->glOwnerAddress = gn("email:glo1@example.com");
	if (with_certs)
		o->certificates = mk_certs();
	return o;
}

static SKD_GL_MEMBER *
mk_member(void)
{
	SKD_GL_MEMBER *m = SKD_GL_MEMBER_new();

	ck_assert(m != NULL);
	GENERAL_NAME_free(m->glMemberName);
	m->glMemberName = gn("email:alice@example.com");
	m->glMemberAddress = gn("email:alice@mail.example.com");
	m->certificates = mk_certs();
	return m;
}

static SKD_GL_KEY_ATTRIBUTES *
mk_keyattrs(void)
{
	SKD_GL_KEY_ATTRIBUTES *a = SKD_GL_KEY_ATTRIBUTES_new();

	ck_assert(a != NULL);
	skd_glkeyattrs_set_rekey_by_glo(a, 1);
	skd_glkeyattrs_set_not_mutually_aware(a, 0);
	ck_assert(skd_glkeyattrs_set_duration(a, 31));
	ck_assert(skd_glkeyattrs_set_generation_counter(a, 3));
	ck_assert(skd_glkeyattrs_set_alg_nid(a, NID_id_aes256_wrap));
	return a;
}

static SKD_PEND_INFO *
mk_pend(void)
{
	SKD_PEND_INFO *p = SKD_PEND_INFO_new();

	ck_assert(p != NULL);
	ck_assert(ASN1_OCTET_STRING_set(p->pendToken,
	    (const unsigned char *)"tok", 3));
	ASN1_GENERALIZEDTIME_free(p->pendTime);
	p->pendTime = gtime("20260101120000Z");
	return p;
}

static SKD_EXTENDED_FAIL_INFO *
mk_extfail(void)
{
	SKD_EXTENDED_FAIL_INFO *e = SKD_EXTENDED_FAIL_INFO_new();

	ck_assert(e != NULL);
	ASN1_OBJECT_free(e->failInfoOID);
	e->failInfoOID = OBJ_nid2obj(skd_asn1_nid(SKD_OID_CET_SKD_FAIL_INFO));
	ASN1_TYPE_free(e->failInfoValue);
	e->failInfoValue = any_from_hex("020101");	/* closedGL */
	return e;
}

static SKD_OTHER_STATUS_INFO *
mk_osi(int type)
{
	SKD_OTHER_STATUS_INFO *o = SKD_OTHER_STATUS_INFO_new();

	ck_assert(o != NULL);
	o->type = type;
	if (type == SKD_OTHER_STATUS_FAIL_INFO)
		o->d.failInfo = aint(SKD_CMC_BAD_REQUEST);
	else if (type == SKD_OTHER_STATUS_PEND_INFO)
		o->d.pendInfo = mk_pend();
	else
		o->d.extendedFailInfo = mk_extfail();
	return o;
}

static SKD_CMC_STATUS_INFO_V2 *
mk_status(int osi_type)
{
	SKD_CMC_STATUS_INFO_V2 *s = SKD_CMC_STATUS_INFO_V2_new();
	SKD_BODY_PART_REFERENCE *r1, *r2;

	ck_assert(s != NULL);
	ck_assert(ASN1_INTEGER_set(s->cMCStatus, SKD_CMC_FAILED));
	r1 = SKD_BODY_PART_REFERENCE_new();
	r2 = SKD_BODY_PART_REFERENCE_new();
	ck_assert(r1 != NULL && r2 != NULL);
	r1->type = SKD_BODY_PART_REF_ID;
	r1->d.bodyPartID = aint(1);
	r2->type = SKD_BODY_PART_REF_PATH;
	r2->d.bodyPartPath = sk_ASN1_INTEGER_new_null();
	ck_assert(sk_ASN1_INTEGER_push(r2->d.bodyPartPath, aint(2)));
	ck_assert(sk_ASN1_INTEGER_push(r2->d.bodyPartPath, aint(3)));
	ck_assert(sk_SKD_BODY_PART_REFERENCE_push(s->bodyList, r1));
	ck_assert(sk_SKD_BODY_PART_REFERENCE_push(s->bodyList, r2));
	if (osi_type >= 0) {
		s->statusString = ASN1_UTF8STRING_new();
		ck_assert(ASN1_STRING_set(s->statusString, "no", 2));
		s->otherStatusInfo = mk_osi(osi_type);
	}
	return s;
}

static X509_REQ *
mk_req(void)
{
	X509_REQ *r = X509_REQ_new();
	EVP_PKEY *k = test_key();

	ck_assert(r != NULL);
	ck_assert(X509_REQ_set_pubkey(r, k));
	ck_assert(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(r),
	    "CN", MBSTRING_UTF8, (const unsigned char *)"req", -1, -1, 0));
	ck_assert(X509_REQ_sign(r, k, EVP_sha256()) > 0);
	EVP_PKEY_free(k);
	return r;
}

static SKD_TAGGED_REQUEST *
mk_treq(int type)
{
	SKD_TAGGED_REQUEST *t = SKD_TAGGED_REQUEST_new();

	ck_assert(t != NULL);
	t->type = type;
	if (type == SKD_TAGGED_REQUEST_TCR) {
		t->d.tcr = SKD_TAGGED_CERT_REQUEST_new();
		ck_assert(ASN1_INTEGER_set(t->d.tcr->bodyPartID, 4));
		X509_REQ_free(t->d.tcr->certificationRequest);
		t->d.tcr->certificationRequest = mk_req();
	} else if (type == SKD_TAGGED_REQUEST_CRM) {
		OSSL_CRMF_MSG *m = OSSL_CRMF_MSG_new();

		/* Built with OpenSSL's API, read as skd's type. */
		ck_assert(m != NULL && OSSL_CRMF_MSG_set_certReqId(m, 5));
		ck_assert((t->d.crm = skd_crmf_from_ossl(m)) != NULL);
		OSSL_CRMF_MSG_free(m);
	} else {
		t->d.orm = SKD_OTHER_REQUEST_new();
		ck_assert(ASN1_INTEGER_set(t->d.orm->bodyPartID, 6));
		ASN1_OBJECT_free(t->d.orm->requestMessageType);
		t->d.orm->requestMessageType = OBJ_txt2obj("1.2.3.4", 1);
		ASN1_TYPE_free(t->d.orm->requestMessageValue);
		t->d.orm->requestMessageValue = any_from_hex("0500");
	}
	return t;
}

static CMS_ContentInfo *
vector_cms(void)
{
	char path[4096];
	CMS_ContentInfo *cms;
	BIO *b;

	snprintf(path, sizeof(path), "%s/../shared/vectors/glusekek-pyasn1.pem",
	    skd_test_top());
	if ((b = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		b = BIO_new_file("/work/shared/vectors/glusekek-pyasn1.pem",
		    "r");
	}
	ck_assert_msg(b != NULL, "cannot open %s", path);
	cms = PEM_read_bio_CMS(b, NULL, NULL, NULL);
	BIO_free(b);
	ck_assert(cms != NULL);
	return cms;
}

/* --- one builder per type: every type of the three modules --- */

struct sample {
	const char	*name;
	const ASN1_ITEM	*(*it)(void);
	void		*(*make)(void);
};

#define MK(fn) static void *fn(void)

MK(s_okattr)
{
	SKD_OTHER_KEY_ATTRIBUTE *a = SKD_OTHER_KEY_ATTRIBUTE_new();

	ASN1_OBJECT_free(a->keyAttrId);
	a->keyAttrId = OBJ_txt2obj("1.2.3.4.5", 1);
	a->keyAttr = any_from_hex("0500");
	return a;
}

MK(s_kekid)
{
	SKD_KEK_IDENTIFIER *k = SKD_KEK_IDENTIFIER_new();

	ck_assert(ASN1_OCTET_STRING_set(k->keyIdentifier,
	    (const unsigned char *)"0123456789abcdef", 16));
	k->date = gtime("20261122120000Z");
	k->other = s_okattr();
	return k;
}

MK(s_certs) { return mk_certs(); }

MK(s_glinfo)
{
	SKD_GL_INFO *g = SKD_GL_INFO_new();

	GENERAL_NAME_free(g->glName);
	GENERAL_NAME_free(g->glAddress);
	g->glName = gn("URI:https://lists.example.com/gl1");
	g->glAddress = gn("email:gl1@example.com");
	return g;
}

MK(s_owner) { return mk_owner(1); }

MK(s_keyattrs) { return mk_keyattrs(); }

MK(s_usekek)
{
	SKD_GL_USE_KEK *u = SKD_GL_USE_KEK_new();

	SKD_GL_INFO_free(u->glInfo);
	u->glInfo = s_glinfo();
	ck_assert(sk_SKD_GL_OWNER_INFO_push(u->glOwnerInfo, mk_owner(1)));
	ck_assert(sk_SKD_GL_OWNER_INFO_push(u->glOwnerInfo, mk_owner(0)));
	ck_assert(skd_glusekek_set_admin(u, SKD_GL_CLOSED));
	u->glKeyAttributes = mk_keyattrs();
	return u;
}

MK(s_member) { return mk_member(); }

MK(s_addmember)
{
	SKD_GL_ADD_MEMBER *a = SKD_GL_ADD_MEMBER_new();

	GENERAL_NAME_free(a->glName);
	a->glName = gn("URI:https://lists.example.com/gl1");
	SKD_GL_MEMBER_free(a->glMember);
	a->glMember = mk_member();
	return a;
}

MK(s_managecert)
{
	SKD_GL_MANAGE_CERT *a = SKD_GL_MANAGE_CERT_new();

	GENERAL_NAME_free(a->glName);
	a->glName = gn("URI:https://lists.example.com/gl1");
	SKD_GL_MEMBER_free(a->glMember);
	a->glMember = mk_member();
	return a;
}

MK(s_delmember)
{
	SKD_GL_DELETE_MEMBER *d = SKD_GL_DELETE_MEMBER_new();

	GENERAL_NAME_free(d->glName);
	GENERAL_NAME_free(d->glMemberToDelete);
	d->glName = gn("URI:https://lists.example.com/gl1");
	d->glMemberToDelete = gn("dirName:CN=bob,O=skd test,C=US");
	return d;
}

MK(s_newkeyattrs)
{
	SKD_GL_NEW_KEY_ATTRIBUTES *a = SKD_GL_NEW_KEY_ATTRIBUTES_new();

	/* OPTIONAL BOOLEANs: FALSE is encoded, unlike a DEFAULT */
	skd_asn1_opt_bool_set(&a->rekeyControlledByGLO, 0);
	skd_asn1_opt_bool_set(&a->recipientsNotMutuallyAware, 1);
	a->duration = aint(0);
	a->generationCounter = aint(2);
	a->requestedAlgorithm = algor(NID_id_aes128_wrap);
	return a;
}

MK(s_rekey)
{
	SKD_GL_REKEY *r = SKD_GL_REKEY_new();

	GENERAL_NAME_free(r->glName);
	r->glName = gn("URI:https://lists.example.com/gl1");
	r->glAdministration = aint(SKD_GL_UNMANAGED);
	r->glNewKeyAttributes = s_newkeyattrs();
	skd_asn1_opt_bool_set(&r->glRekeyAllGLKeys, 1);
	return r;
}

MK(s_owneradmin)
{
	SKD_GL_OWNER_ADMINISTRATION *o = SKD_GL_OWNER_ADMINISTRATION_new();

	GENERAL_NAME_free(o->glName);
	o->glName = gn("URI:https://lists.example.com/gl1");
	SKD_GL_OWNER_INFO_free(o->glOwnerInfo);
	o->glOwnerInfo = mk_owner(1);
	return o;
}

MK(s_date)
{
	SKD_DATE *d = SKD_DATE_new();

	ASN1_GENERALIZEDTIME_free(d->start);
	d->start = gtime("20260101000000Z");
	d->end = gtime("20260201000000Z");
	return d;
}

MK(s_krefresh)
{
	SKD_GL_KREFRESH *k = SKD_GL_KREFRESH_new();
	SKD_DATE *open_ended = SKD_DATE_new();

	GENERAL_NAME_free(k->glName);
	k->glName = gn("URI:https://lists.example.com/gl1");
	ck_assert(sk_SKD_DATE_push(k->dates, s_date()));
	ASN1_GENERALIZEDTIME_free(open_ended->start);
	open_ended->start = gtime("20260301000000Z");
	ck_assert(sk_SKD_DATE_push(k->dates, open_ended));
	return k;
}

MK(s_queryreq)
{
	SKD_GLA_QUERY_REQUEST *q = SKD_GLA_QUERY_REQUEST_new();

	ASN1_OBJECT_free(q->type);
	q->type = OBJ_nid2obj(skd_asn1_nid(SKD_OID_GLA_SKD_ALG_REQUEST));
	ASN1_TYPE_free(q->value);
	q->value = any_from_hex("0500");	/* SKDAlgRequest ::= NULL */
	return q;
}

MK(s_queryresp)
{
	SKD_GLA_QUERY_RESPONSE *q = SKD_GLA_QUERY_RESPONSE_new();

	ASN1_OBJECT_free(q->type);
	q->type = OBJ_nid2obj(skd_asn1_nid(SKD_OID_GLA_SKD_ALG_RESPONSE));
	ASN1_TYPE_free(q->value);
	/* SMIMECapabilities { id-aes128-wrap, id-aes256-wrap } */
	q->value = any_from_hex("301a300b060960864801650304010530"
	    "0b060960864801650304012d");
	return q;
}

MK(s_glkey)
{
	SKD_GL_KEY *k = SKD_GL_KEY_new();

	GENERAL_NAME_free(k->glName);
	k->glName = gn("URI:https://lists.example.com/gl1");
	SKD_KEK_IDENTIFIER_free(k->glIdentifier);
	k->glIdentifier = s_kekid();
	/* two opaque RecipientInfos (a ktri-like SEQUENCE, a [2] kekri) */
	ck_assert(sk_ASN1_TYPE_push(k->glkWrapped, any_from_hex(
	    "a20d020104300804060102030405060a")));
	ck_assert(sk_ASN1_TYPE_push(k->glkWrapped, any_from_hex(
	    "3006020100040100")));
	X509_ALGOR_free(k->glkAlgorithm);
	k->glkAlgorithm = algor(NID_id_aes128_wrap);
	ASN1_GENERALIZEDTIME_free(k->glkNotBefore);
	ASN1_GENERALIZEDTIME_free(k->glkNotAfter);
	k->glkNotBefore = gtime("20261101000000Z");
	k->glkNotAfter = gtime("20261130235959Z");
	return k;
}

MK(s_gname) { return gn("dirName:CN=gl1,O=skd test,C=US"); }

MK(s_null) { return ASN1_NULL_new(); }

MK(s_failinfo) { return aint(SKD_FAIL_NOT_AN_OWNER); }

MK(s_tattr)
{
	SKD_GL_DELETE_MEMBER *d = s_delmember();
	SKD_TAGGED_ATTRIBUTE *t;

	t = skd_tagged_attribute_new1(7, skd_asn1_nid(
	    SKD_OID_GL_DELETE_MEMBER), ASN1_ITEM_rptr(SKD_GL_DELETE_MEMBER), d);
	ck_assert(t != NULL);
	SKD_GL_DELETE_MEMBER_free(d);
	return t;
}

MK(s_tcr) { void *r = mk_treq(0); SKD_TAGGED_CERT_REQUEST *t;
	t = ((SKD_TAGGED_REQUEST *)r)->d.tcr;
	((SKD_TAGGED_REQUEST *)r)->d.tcr = NULL;
	((SKD_TAGGED_REQUEST *)r)->type = -1;
	SKD_TAGGED_REQUEST_free(r);
	return t; }

MK(s_orm) { void *r = mk_treq(2); SKD_OTHER_REQUEST *t;
	t = ((SKD_TAGGED_REQUEST *)r)->d.orm;
	((SKD_TAGGED_REQUEST *)r)->d.orm = NULL;
	((SKD_TAGGED_REQUEST *)r)->type = -1;
	SKD_TAGGED_REQUEST_free(r);
	return t; }

MK(s_treq_tcr) { return mk_treq(SKD_TAGGED_REQUEST_TCR); }
MK(s_treq_crm) { return mk_treq(SKD_TAGGED_REQUEST_CRM); }
MK(s_treq_orm) { return mk_treq(SKD_TAGGED_REQUEST_ORM); }

/* RFC 4211 5: every CertTemplate field, controls, regInfo, raVerified;
 * the publicKey as the draft's 6.1 has it (algorithm, empty key). */
MK(s_crmf_full)
{
	SKD_CRMF_MSG *m = SKD_CRMF_MSG_new();
	SKD_CRMF_TEMPLATE *t = m->certReq->certTemplate;
	SKD_CRMF_ATAV *av = SKD_CRMF_ATAV_new();
	X509_EXTENSION *ext;
	X509_ALGOR *a = X509_ALGOR_new();

	ck_assert(ASN1_INTEGER_set(m->certReq->certReqId, 7));
	t->version = aint(2);
	t->serialNumber = aint(99);
	t->signingAlg = algor(NID_sha256WithRSAEncryption);
	t->issuer = X509_NAME_new();
	ck_assert(X509_NAME_add_entry_by_txt(t->issuer, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"CA", -1, -1, 0));
	t->subject = X509_NAME_dup(t->issuer);
	ck_assert((t->validity = SKD_CRMF_VALIDITY_new()) != NULL);
	t->validity->notAfter = gtime("20300101000000Z");
	ck_assert(X509_ALGOR_set0(a, OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
	    V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1)));
	ck_assert(skd_crmf_set_template_key(m, a));
	X509_ALGOR_free(a);
	t->subjectUID = ASN1_BIT_STRING_new();
	ck_assert(ASN1_BIT_STRING_set_bit(t->subjectUID, 3, 1));
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage,
	    "critical,keyAgreement");
	ck_assert(ext != NULL && (t->extensions = sk_X509_EXTENSION_new_null())
	    != NULL && sk_X509_EXTENSION_push(t->extensions, ext));
	ck_assert(av != NULL);
	ck_assert((av->type = OBJ_txt2obj("1.3.6.1.5.5.7.5.2.1", 1)) != NULL);
	ASN1_TYPE_free(av->value);
	av->value = any_from_hex("0c0161");
	ck_assert((m->regInfo = sk_SKD_CRMF_ATAV_new_null()) != NULL &&
	    sk_SKD_CRMF_ATAV_push(m->regInfo, av));
	ck_assert((m->popo = SKD_CRMF_POPO_new()) != NULL);
	m->popo->type = SKD_CRMF_POPO_RA_VERIFIED;
	ck_assert((m->popo->d.raVerified = ASN1_NULL_new()) != NULL);
	return m;
}

/* POPOPrivKey thisMessage [0] BIT STRING in keyEncipherment [2]. */
MK(s_crmf_popo_kenc)
{
	SKD_CRMF_POPO *p = SKD_CRMF_POPO_new();

	p->type = SKD_CRMF_POPO_KEY_ENCIPHERMENT;
	p->d.keyEncipherment = any_from_hex("80020000");
	return p;
}

MK(s_tci)
{
	SKD_TAGGED_CONTENT_INFO *t = SKD_TAGGED_CONTENT_INFO_new();

	ck_assert(ASN1_INTEGER_set(t->bodyPartID, 9));
	CMS_ContentInfo_free(t->contentInfo);
	t->contentInfo = vector_cms();
	return t;
}

/* RFC 5272 6.7 */
MK(s_encpop)
{
	SKD_ENCRYPTED_POP *p = SKD_ENCRYPTED_POP_new();

	SKD_TAGGED_REQUEST_free(p->request);
	p->request = mk_treq(SKD_TAGGED_REQUEST_ORM);
	CMS_ContentInfo_free(p->cms);
	p->cms = vector_cms();
	ck_assert(X509_ALGOR_set0(p->thePOPAlgID,
	    OBJ_nid2obj(NID_hmacWithSHA256), V_ASN1_NULL, NULL));
	ck_assert(X509_ALGOR_set0(p->witnessAlgID, OBJ_nid2obj(NID_sha256),
	    V_ASN1_UNDEF, NULL));
	ck_assert(ASN1_OCTET_STRING_set(p->witness,
	    (const unsigned char *)"witness", 7));
	return p;
}

MK(s_decpop)
{
	SKD_DECRYPTED_POP *p = SKD_DECRYPTED_POP_new();

	ck_assert(ASN1_INTEGER_set(p->bodyPartID, 4));
	ck_assert(X509_ALGOR_set0(p->thePOPAlgID,
	    OBJ_nid2obj(NID_hmacWithSHA256), V_ASN1_NULL, NULL));
	ck_assert(ASN1_OCTET_STRING_set(p->thePOP,
	    (const unsigned char *)"proof", 5));
	return p;
}

MK(s_othermsg)
{
	SKD_OTHER_MSG *m = SKD_OTHER_MSG_new();

	ck_assert(ASN1_INTEGER_set(m->bodyPartID, 10));
	ASN1_OBJECT_free(m->otherMsgType);
	m->otherMsgType = OBJ_txt2obj("1.2.3.5", 1);
	ASN1_TYPE_free(m->otherMsgValue);
	m->otherMsgValue = any_from_hex("0c026869");
	return m;
}

MK(s_pkidata)
{
	SKD_PKI_DATA *p = SKD_PKI_DATA_new();

	ck_assert(sk_SKD_TAGGED_ATTRIBUTE_push(p->controlSequence, s_tattr()));
	ck_assert(sk_SKD_TAGGED_REQUEST_push(p->reqSequence,
	    mk_treq(SKD_TAGGED_REQUEST_TCR)));
	ck_assert(sk_SKD_TAGGED_REQUEST_push(p->reqSequence,
	    mk_treq(SKD_TAGGED_REQUEST_CRM)));
	ck_assert(sk_SKD_TAGGED_CONTENT_INFO_push(p->cmsSequence, s_tci()));
	ck_assert(sk_SKD_OTHER_MSG_push(p->otherMsgSequence, s_othermsg()));
	return p;
}

MK(s_pkiresp)
{
	SKD_PKI_RESPONSE *p = SKD_PKI_RESPONSE_new();
	SKD_CMC_STATUS_INFO_V2 *s = mk_status(SKD_OTHER_STATUS_EXT_FAIL_INFO);
	SKD_TAGGED_ATTRIBUTE *t;

	t = skd_tagged_attribute_new1(1, skd_asn1_nid(
	    SKD_OID_CMC_STATUS_INFO_V2), ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2),
	    s);
	ck_assert(t != NULL);
	SKD_CMC_STATUS_INFO_V2_free(s);
	ck_assert(sk_SKD_TAGGED_ATTRIBUTE_push(p->controlSequence, t));
	ck_assert(sk_SKD_OTHER_MSG_push(p->otherMsgSequence, s_othermsg()));
	return p;
}

MK(s_bpp)
{
	SKD_BODY_PART_PATH *p = SKD_BODY_PART_PATH_new();

	ck_assert(sk_ASN1_INTEGER_push(p, aint(1)));
	ck_assert(sk_ASN1_INTEGER_push(p, aint(4294967295L)));
	return p;
}

MK(s_bpref_id)
{
	SKD_BODY_PART_REFERENCE *r = SKD_BODY_PART_REFERENCE_new();

	r->type = SKD_BODY_PART_REF_ID;
	r->d.bodyPartID = aint(3);
	return r;
}

MK(s_bpref_path)
{
	SKD_BODY_PART_REFERENCE *r = SKD_BODY_PART_REFERENCE_new();

	r->type = SKD_BODY_PART_REF_PATH;
	r->d.bodyPartPath = s_bpp();
	return r;
}

MK(s_pend) { return mk_pend(); }
MK(s_extfail) { return mk_extfail(); }
MK(s_osi_fail) { return mk_osi(SKD_OTHER_STATUS_FAIL_INFO); }
MK(s_osi_pend) { return mk_osi(SKD_OTHER_STATUS_PEND_INFO); }
MK(s_osi_ext) { return mk_osi(SKD_OTHER_STATUS_EXT_FAIL_INFO); }
MK(s_status_min) { return mk_status(-1); }
MK(s_status_fail) { return mk_status(SKD_OTHER_STATUS_FAIL_INFO); }
MK(s_status_pend) { return mk_status(SKD_OTHER_STATUS_PEND_INFO); }
MK(s_status_ext) { return mk_status(SKD_OTHER_STATUS_EXT_FAIL_INFO); }
MK(s_txid) { return aint(123456789); }
MK(s_nonce) { return aoct("nonce-0123456789"); }

MK(s_barekey)
{
	SKD_SHROUD_BARE_KEY *b = SKD_SHROUD_BARE_KEY_new();
	EVP_PKEY *k = test_key();

	ck_assert(X509_PUBKEY_set(&b->publicKey, k));
	ck_assert(ASN1_OCTET_STRING_set(b->ski, (const unsigned char *)
	    "ski-ski-ski-ski-ski-", 20));
	EVP_PKEY_free(k);
	return b;
}

static SKD_SIGNER_IDENTIFIER *
mk_sid(int type)
{
	SKD_SIGNER_IDENTIFIER *s = SKD_SIGNER_IDENTIFIER_new();

	s->type = type;
	if (type == SKD_SID_SKI) {
		s->d.subjectKeyIdentifier = aoct("keyid");
	} else {
		X509_NAME *n = X509_NAME_new();

		s->d.issuerAndSerialNumber = PKCS7_ISSUER_AND_SERIAL_new();
		ck_assert(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		    (const unsigned char *)"ca", -1, -1, 0));
		ck_assert(X509_NAME_set(
		    &s->d.issuerAndSerialNumber->issuer, n));
		X509_NAME_free(n);
		ck_assert(ASN1_INTEGER_set(
		    s->d.issuerAndSerialNumber->serial, 77));
	}
	return s;
}

MK(s_sid_ias) { return mk_sid(SKD_SID_ISSUER_AND_SERIAL); }
MK(s_sid_ski) { return mk_sid(SKD_SID_SKI); }

static SKD_SHROUD_WITH_PUBLIC_KEY *
mk_swpk(int type)
{
	SKD_SHROUD_WITH_PUBLIC_KEY *s = SKD_SHROUD_WITH_PUBLIC_KEY_new();
	EVP_PKEY *k;

	s->type = type;
	if (type == SKD_SHROUD_PK_CERTIFICATE) {
		k = test_key();
		s->d.certificate = test_cert(k, "shroud");
		EVP_PKEY_free(k);
	} else if (type == SKD_SHROUD_PK_CERT_IDENTIFIER) {
		s->d.certIdentifier = mk_sid(SKD_SID_SKI);
	} else {
		s->d.bareKey = s_barekey();
	}
	return s;
}

MK(s_swpk_cert) { return mk_swpk(SKD_SHROUD_PK_CERTIFICATE); }
MK(s_swpk_sid) { return mk_swpk(SKD_SHROUD_PK_CERT_IDENTIFIER); }
MK(s_swpk_bare) { return mk_swpk(SKD_SHROUD_PK_BARE_KEY); }

MK(s_shared)
{
	ASN1_UTF8STRING *u = ASN1_UTF8STRING_new();

	ck_assert(ASN1_STRING_set(u, "secret-id-42", -1));
	return u;
}

MK(s_skgreq)
{
	SKD_SERVER_KEY_GEN_REQUEST *r = SKD_SERVER_KEY_GEN_REQUEST_new();
	unsigned char *der = NULL;
	size_t len;
	ASN1_STRING *params;
	SKD_SHROUD_WITH_PUBLIC_KEY *sw = mk_swpk(SKD_SHROUD_PK_BARE_KEY);

	SKD_TAGGED_REQUEST_free(r->certificateRequest);
	r->certificateRequest = mk_treq(SKD_TAGGED_REQUEST_CRM);
	/* ShroudMethod: id-cmc-shroudWithPublicKey, params the bare key */
	ck_assert(skd_der_encode(ASN1_ITEM_rptr(SKD_SHROUD_WITH_PUBLIC_KEY),
	    sw, &der, &len));
	params = ASN1_STRING_new();
	ck_assert(ASN1_STRING_set(params, der, (int)len));
	OPENSSL_free(der);
	SKD_SHROUD_WITH_PUBLIC_KEY_free(sw);
	/* the bare key alternative is [2] constructed: ANY of type OTHER */
	ck_assert(X509_ALGOR_set0(r->shroudMethod, OBJ_nid2obj(skd_asn1_nid(
	    SKD_OID_SHROUD_WITH_PUBLIC_KEY)), V_ASN1_OTHER, params));
	r->algCapabilities = sk_X509_ALGOR_new_null();
	ck_assert(sk_X509_ALGOR_push(r->algCapabilities,
	    algor(NID_id_aes256_wrap)));
	skd_skgreq_set_archive_key(r, 0);
	return r;
}

MK(s_skgresp)
{
	SKD_SERVER_KEY_GEN_RESPONSE *r = SKD_SERVER_KEY_GEN_RESPONSE_new();
	SKD_SIGNER_IDENTIFIER *sid = mk_sid(SKD_SID_ISSUER_AND_SERIAL);

	ck_assert(ASN1_INTEGER_set(r->cmsBodyPartId, 2));
	ck_assert(ASN1_INTEGER_set(r->requestBodyPartId, 1));
	r->issuerAndSerialNumber = sid->d.issuerAndSerialNumber;
	sid->d.issuerAndSerialNumber = NULL;
	sid->type = -1;
	SKD_SIGNER_IDENTIFIER_free(sid);
	return r;
}

#define S(name, type, fn) { name, ASN1_ITEM_ref(type), fn }

static const struct sample samples[] = {
	/* RFC 5275 Appendix A */
	S("OtherKeyAttribute", SKD_OTHER_KEY_ATTRIBUTE, s_okattr),
	S("KEKIdentifier", SKD_KEK_IDENTIFIER, s_kekid),
	S("Certificates", SKD_CERTIFICATES, s_certs),
	S("GLInfo", SKD_GL_INFO, s_glinfo),
	S("GLOwnerInfo", SKD_GL_OWNER_INFO, s_owner),
	S("GLKeyAttributes", SKD_GL_KEY_ATTRIBUTES, s_keyattrs),
	S("GLUseKEK", SKD_GL_USE_KEK, s_usekek),
	S("GLMember", SKD_GL_MEMBER, s_member),
	S("GLAddMember", SKD_GL_ADD_MEMBER, s_addmember),
	S("GLManageCert", SKD_GL_MANAGE_CERT, s_managecert),
	S("GLDeleteMember", SKD_GL_DELETE_MEMBER, s_delmember),
	S("GLNewKeyAttributes", SKD_GL_NEW_KEY_ATTRIBUTES, s_newkeyattrs),
	S("GLRekey", SKD_GL_REKEY, s_rekey),
	S("GLOwnerAdministration", SKD_GL_OWNER_ADMINISTRATION, s_owneradmin),
	S("Date", SKD_DATE, s_date),
	S("GLKRefresh", SKD_GL_KREFRESH, s_krefresh),
	S("GLAQueryRequest", SKD_GLA_QUERY_REQUEST, s_queryreq),
	S("GLAQueryResponse", SKD_GLA_QUERY_RESPONSE, s_queryresp),
	S("GLKey", SKD_GL_KEY, s_glkey),
	S("DeleteGL/GLKCompromise (GeneralName)", GENERAL_NAME, s_gname),
	S("SKDAlgRequest (NULL)", ASN1_NULL, s_null),
	S("SKDFailInfo/GLAdministration (INTEGER)", ASN1_INTEGER, s_failinfo),
	/* CMC */
	S("TaggedAttribute", SKD_TAGGED_ATTRIBUTE, s_tattr),
	S("TaggedCertificationRequest", SKD_TAGGED_CERT_REQUEST, s_tcr),
	S("TaggedRequest.orm", SKD_OTHER_REQUEST, s_orm),
	S("TaggedRequest tcr", SKD_TAGGED_REQUEST, s_treq_tcr),
	S("TaggedRequest crm", SKD_TAGGED_REQUEST, s_treq_crm),
	S("TaggedRequest orm", SKD_TAGGED_REQUEST, s_treq_orm),
	S("CertReqMsg (RFC 4211), every field", SKD_CRMF_MSG, s_crmf_full),
	S("ProofOfPossession keyEncipherment", SKD_CRMF_POPO,
	    s_crmf_popo_kenc),
	S("TaggedContentInfo", SKD_TAGGED_CONTENT_INFO, s_tci),
	S("OtherMsg", SKD_OTHER_MSG, s_othermsg),
	S("EncryptedPOP", SKD_ENCRYPTED_POP, s_encpop),
	S("DecryptedPOP", SKD_DECRYPTED_POP, s_decpop),
	S("PKIData", SKD_PKI_DATA, s_pkidata),
	S("PKIResponse", SKD_PKI_RESPONSE, s_pkiresp),
	S("BodyPartPath", SKD_BODY_PART_PATH, s_bpp),
	S("BodyPartReference id", SKD_BODY_PART_REFERENCE, s_bpref_id),
	S("BodyPartReference path", SKD_BODY_PART_REFERENCE, s_bpref_path),
	S("PendInfo", SKD_PEND_INFO, s_pend),
	S("ExtendedFailInfo", SKD_EXTENDED_FAIL_INFO, s_extfail),
	S("OtherStatusInfo failInfo", SKD_OTHER_STATUS_INFO, s_osi_fail),
	S("OtherStatusInfo pendInfo", SKD_OTHER_STATUS_INFO, s_osi_pend),
	S("OtherStatusInfo extendedFailInfo", SKD_OTHER_STATUS_INFO,
	    s_osi_ext),
	S("CMCStatusInfoV2 minimal", SKD_CMC_STATUS_INFO_V2, s_status_min),
	S("CMCStatusInfoV2 failInfo", SKD_CMC_STATUS_INFO_V2, s_status_fail),
	S("CMCStatusInfoV2 pendInfo", SKD_CMC_STATUS_INFO_V2, s_status_pend),
	S("CMCStatusInfoV2 extendedFailInfo", SKD_CMC_STATUS_INFO_V2,
	    s_status_ext),
	S("TransactionId/CMCStatus/CMCFailInfo (INTEGER)", ASN1_INTEGER,
	    s_txid),
	S("SenderNonce/RecipientNonce (OCTET STRING)", ASN1_OCTET_STRING,
	    s_nonce),
	/* server-side key generation */
	S("ShroudWithPublicKey.bareKey", SKD_SHROUD_BARE_KEY, s_barekey),
	S("SignerIdentifier issuerAndSerialNumber", SKD_SIGNER_IDENTIFIER,
	    s_sid_ias),
	S("SignerIdentifier subjectKeyIdentifier", SKD_SIGNER_IDENTIFIER,
	    s_sid_ski),
	S("ShroudWithPublicKey certificate", SKD_SHROUD_WITH_PUBLIC_KEY,
	    s_swpk_cert),
	S("ShroudWithPublicKey certIdentifier", SKD_SHROUD_WITH_PUBLIC_KEY,
	    s_swpk_sid),
	S("ShroudWithPublicKey bareKey", SKD_SHROUD_WITH_PUBLIC_KEY,
	    s_swpk_bare),
	S("ShroudWithSharedSecret", ASN1_UTF8STRING, s_shared),
	S("ServerKeyGenRequest", SKD_SERVER_KEY_GEN_REQUEST, s_skgreq),
	S("ServerKeyGenResponse", SKD_SERVER_KEY_GEN_RESPONSE, s_skgresp),
};

#define NSAMPLES ((int)(sizeof(samples) / sizeof(samples[0])))

static void
setup(void)
{
	ck_assert(skd_asn1_init());
}

/* encode -> strict decode -> encode: byte-identical; and it prints. */
START_TEST(test_round_trip)
{
	const struct sample *s = &samples[_i];
	const ASN1_ITEM *it = s->it();
	unsigned char *d1 = NULL, *d2 = NULL;
	size_t l1, l2;
	enum skd_der_err e;
	void *v, *back;
	BIO *out;
	char *txt;
	long n;

	v = s->make();
	ck_assert_msg(v != NULL, "%s: make", s->name);
	ck_assert_msg(skd_der_encode(it, v, &d1, &l1), "%s: encode", s->name);
	ck_assert(skd_der_check_structure(d1, l1));
	back = skd_der_decode_ex(it, d1, l1, &e);
	ck_assert_msg(back != NULL, "%s: strict decode: %s", s->name,
	    skd_der_strerror(e));
	ck_assert(skd_der_encode(it, back, &d2, &l2));
	ck_assert_msg(l1 == l2 && memcmp(d1, d2, l1) == 0,
	    "%s: re-encoding differs", s->name);
	/* the printer walks it */
	ck_assert((out = BIO_new(BIO_s_mem())) != NULL);
	ck_assert_msg(skd_asn1_print(out, it, back, 0), "%s: print", s->name);
	n = BIO_get_mem_data(out, &txt);
	ck_assert(n > 0);
	BIO_free(out);
	ASN1_item_free(back, it);
	ASN1_item_free(v, it);
	OPENSSL_free(d1);
	OPENSSL_free(d2);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* --- DEFAULTs --- */

START_TEST(test_keyattrs_defaults)
{
	SKD_GL_KEY_ATTRIBUTES *a = SKD_GL_KEY_ATTRIBUTES_new();
	X509_ALGOR *dflt = algor(NID_id_aes128_wrap);

	/* every field at its DEFAULT: nothing is encoded (X.690 11.5) */
	assert_der(ASN1_ITEM_rptr(SKD_GL_KEY_ATTRIBUTES), a, "3000");
	ck_assert(!skd_glkeyattrs_get_rekey_by_glo(a));
	ck_assert(skd_glkeyattrs_get_not_mutually_aware(a));
	ck_assert_int_eq(skd_glkeyattrs_get_duration(a), 0);
	ck_assert_int_eq(skd_glkeyattrs_get_generation_counter(a), 2);
	ck_assert_int_eq(skd_glkeyattrs_get_alg_nid(a), NID_id_aes128_wrap);
	/* an absent glKeyAttributes means the same */
	ck_assert(!skd_glkeyattrs_get_rekey_by_glo(NULL));
	ck_assert(skd_glkeyattrs_get_not_mutually_aware(NULL));
	ck_assert_int_eq(skd_glkeyattrs_get_generation_counter(NULL), 2);

	SKD_GL_KEY_ATTRIBUTES_free(a);
	a = mk_keyattrs();
	assert_der(ASN1_ITEM_rptr(SKD_GL_KEY_ATTRIBUTES), a,
	    "3019 8001ff 810100 82011f 830103 a40b060960864801650304012d");
	ck_assert(skd_glkeyattrs_get_rekey_by_glo(a));
	ck_assert(!skd_glkeyattrs_get_not_mutually_aware(a));
	ck_assert_int_eq(skd_glkeyattrs_get_duration(a), 31);
	ck_assert_int_eq(skd_glkeyattrs_get_generation_counter(a), 3);
	ck_assert_int_eq(skd_glkeyattrs_get_alg_nid(a), NID_id_aes256_wrap);

	/* setting each back to its DEFAULT removes it from the encoding */
	skd_glkeyattrs_set_rekey_by_glo(a, 0);
	skd_glkeyattrs_set_not_mutually_aware(a, 1);
	ck_assert(skd_glkeyattrs_set_duration(a, 0));
	ck_assert(skd_glkeyattrs_set_generation_counter(a, 2));
	ck_assert(skd_glkeyattrs_set_alg_nid(a, NID_id_aes128_wrap));
	assert_der(ASN1_ITEM_rptr(SKD_GL_KEY_ATTRIBUTES), a, "3000");
	ck_assert(skd_glkeyattrs_set1_alg(a, dflt));
	ck_assert(a->requestedAlgorithm == NULL);
	X509_ALGOR_free(dflt);
	SKD_GL_KEY_ATTRIBUTES_free(a);
}
END_TEST

START_TEST(test_usekek_admin_default)
{
	SKD_GL_USE_KEK *u = s_usekek();
	unsigned char *d = NULL;
	size_t l, closed_len;

	SKD_GL_KEY_ATTRIBUTES_free(u->glKeyAttributes);
	u->glKeyAttributes = NULL;
	ck_assert_int_eq(skd_glusekek_get_admin(u), SKD_GL_CLOSED);
	ck_assert(skd_der_encode(ASN1_ITEM_rptr(SKD_GL_USE_KEK), u, &d, &l));
	/* closed(2) is encoded as the last element */
	ck_assert(l > 3 && memcmp(d + l - 3, "\x02\x01\x02", 3) == 0);
	closed_len = l;
	OPENSSL_free(d);
	/* managed(1) is the DEFAULT: stored absent, encoded nowhere */
	ck_assert(skd_glusekek_set_admin(u, SKD_GL_MANAGED));
	ck_assert(u->glAdministration == NULL);
	ck_assert_int_eq(skd_glusekek_get_admin(u), SKD_GL_MANAGED);
	ck_assert(skd_der_encode(ASN1_ITEM_rptr(SKD_GL_USE_KEK), u, &d, &l));
	ck_assert_int_eq(l, closed_len - 3);
	OPENSSL_free(d);
	SKD_GL_USE_KEK_free(u);
}
END_TEST

START_TEST(test_skgreq_archive_default)
{
	SKD_SERVER_KEY_GEN_REQUEST *r = s_skgreq();
	unsigned char *d1 = NULL, *d2 = NULL;
	size_t l1, l2;

	ck_assert(!skd_skgreq_get_archive_key(r));
	ck_assert(skd_der_encode(ASN1_ITEM_rptr(SKD_SERVER_KEY_GEN_REQUEST), r,
	    &d1, &l1));
	ck_assert(memcmp(d1 + l1 - 3, "\x01\x01\x00", 3) == 0);
	skd_skgreq_set_archive_key(r, 1);	/* DEFAULT TRUE */
	ck_assert(skd_der_encode(ASN1_ITEM_rptr(SKD_SERVER_KEY_GEN_REQUEST), r,
	    &d2, &l2));
	ck_assert_int_eq(l2, l1 - 3);
	ck_assert(skd_skgreq_get_archive_key(r));
	OPENSSL_free(d1);
	OPENSSL_free(d2);
	SKD_SERVER_KEY_GEN_REQUEST_free(r);
}
END_TEST

/* --- strict DER: each malformed encoding refused for the right reason --- */

struct bad {
	const char		*what;
	const ASN1_ITEM		*(*it)(void);
	const char		*hex;
	enum skd_der_err	 want;
};

#define GLINFO_OK "3008 860161 8103614062"

static const struct bad bads[] = {
	{ "valid GLInfo (control)", ASN1_ITEM_ref(SKD_GL_INFO), GLINFO_OK,
	    SKD_DER_OK },
	{ "indefinite length", ASN1_ITEM_ref(SKD_GL_INFO),
	    "3080 860161 8103614062 0000", SKD_DER_INDEFINITE },
	{ "non-minimal length 81 08", ASN1_ITEM_ref(SKD_GL_INFO),
	    "308108 860161 8103614062", SKD_DER_LENGTH },
	{ "non-minimal length 82 00 08", ASN1_ITEM_ref(SKD_GL_INFO),
	    "30820008 860161 8103614062", SKD_DER_LENGTH },
	{ "non-minimal inner length", ASN1_ITEM_ref(SKD_GL_INFO),
	    "3009 86810161 8103614062", SKD_DER_LENGTH },
	{ "non-minimal tag", ASN1_ITEM_ref(SKD_GL_INFO),
	    "3009 9f0601 61 8103614062", SKD_DER_TAG_FORM },
	{ "trailing bytes", ASN1_ITEM_ref(SKD_GL_INFO), GLINFO_OK "00",
	    SKD_DER_TRAILING },
	{ "wrong outer tag (SET)", ASN1_ITEM_ref(SKD_GL_INFO),
	    "3108 860161 8103614062", SKD_DER_WRONG_TAG },
	{ "wrong inner tag (UTCTime for GeneralizedTime)",
	    ASN1_ITEM_ref(SKD_DATE), "300f 170d3236303130313030303030305a",
	    SKD_DER_WRONG_TAG },
	{ "truncated", ASN1_ITEM_ref(SKD_GL_INFO), "3008 860161 81036140",
	    SKD_DER_TRUNCATED },
	{ "truncated header", ASN1_ITEM_ref(SKD_GL_INFO), "30",
	    SKD_DER_TRUNCATED },
	{ "empty", ASN1_ITEM_ref(SKD_GL_INFO), "", SKD_DER_EMPTY },
	{ "explicit DEFAULT rekeyControlledByGLO FALSE",
	    ASN1_ITEM_ref(SKD_GL_KEY_ATTRIBUTES), "3003 800100",
	    SKD_DER_DEFAULT },
	{ "explicit DEFAULT recipientsNotMutuallyAware TRUE",
	    ASN1_ITEM_ref(SKD_GL_KEY_ATTRIBUTES), "3003 8101ff",
	    SKD_DER_DEFAULT },
	{ "explicit DEFAULT duration 0", ASN1_ITEM_ref(SKD_GL_KEY_ATTRIBUTES),
	    "3003 820100", SKD_DER_DEFAULT },
	{ "explicit DEFAULT generationCounter 2",
	    ASN1_ITEM_ref(SKD_GL_KEY_ATTRIBUTES), "3003 830102",
	    SKD_DER_DEFAULT },
	{ "explicit DEFAULT requestedAlgorithm id-aes128-wrap",
	    ASN1_ITEM_ref(SKD_GL_KEY_ATTRIBUTES),
	    "300d a40b 0609608648016503040105", SKD_DER_DEFAULT },
	{ "explicit DEFAULT glAdministration managed",
	    ASN1_ITEM_ref(SKD_GL_USE_KEK),
	    "3019 " GLINFO_OK " 300a 3008 860162 8103624063 020101",
	    SKD_DER_DEFAULT },
	{ "valid GLUseKEK closed (control)", ASN1_ITEM_ref(SKD_GL_USE_KEK),
	    "3019 " GLINFO_OK " 300a 3008 860162 8103624063 020102",
	    SKD_DER_OK },
	{ "empty glOwnerInfo (SIZE 1..MAX)", ASN1_ITEM_ref(SKD_GL_USE_KEK),
	    "300c " GLINFO_OK " 3000", SKD_DER_BAD_VALUE },
	{ "BOOLEAN 01 (universal)", ASN1_ITEM_ref(SKD_GL_REKEY),
	    "3006 860161 010101", SKD_DER_BOOLEAN },
	{ "BOOLEAN 01 ([0] IMPLICIT)", ASN1_ITEM_ref(SKD_GL_KEY_ATTRIBUTES),
	    "3003 800101", SKD_DER_NOT_CANONICAL },
	{ "INTEGER with a leading zero", ASN1_ITEM_ref(ASN1_INTEGER),
	    "02020001", SKD_DER_INTEGER },
	{ "constructed OCTET STRING", ASN1_ITEM_ref(ASN1_OCTET_STRING),
	    "2403 040100", SKD_DER_CONSTRUCTED },
	{ "GeneralizedTime without Z", ASN1_ITEM_ref(SKD_DATE),
	    "3010 180e3230323630313031303030303030", SKD_DER_TIME },
	{ "unsorted SET OF", ASN1_ITEM_ref(SKD_TAGGED_ATTRIBUTE),
	    "3010 020101 06032a0304 3106 040102 040101",
	    SKD_DER_NOT_CANONICAL },
	{ "empty dates (SIZE 1..MAX)", ASN1_ITEM_ref(SKD_GL_KREFRESH),
	    "3005 860161 3000", SKD_DER_BAD_VALUE },
	{ "unknown trailing field", ASN1_ITEM_ref(SKD_GL_KEY_ATTRIBUTES),
	    "3003 850100", SKD_DER_WRONG_TAG },
	{ "end-of-contents inside", ASN1_ITEM_ref(SKD_GL_INFO),
	    "300a 0000 860161 8103614062", SKD_DER_EOC },
};

START_TEST(test_malformed)
{
	const struct bad *b = &bads[_i];
	unsigned char buf[256];
	size_t n = unhex(b->hex, buf, sizeof(buf));
	enum skd_der_err e = SKD_DER_INTERNAL;
	void *v;

	v = skd_der_decode_ex(b->it(), n ? buf : (const unsigned char *)"", n,
	    &e);
	ck_assert_msg(e == b->want, "%s: got \"%s\", want \"%s\"", b->what,
	    skd_der_strerror(e), skd_der_strerror(b->want));
	ck_assert((v != NULL) == (b->want == SKD_DER_OK));
	ASN1_item_free(v, b->it());
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_nesting_and_strings)
{
	unsigned char buf[128];
	enum skd_der_err e;
	size_t i, depth = 40;

	/* 40 nested SEQUENCEs: refused before any template sees them */
	for (i = 0; i < depth; i++) {
		buf[2 * i] = 0x30;
		buf[2 * i + 1] = (unsigned char)(2 * (depth - i - 1));
	}
	ck_assert(!skd_der_check_structure_ex(buf, 2 * depth, &e));
	ck_assert_int_eq(e, SKD_DER_DEPTH);
	ck_assert(skd_der_decode_ex(ASN1_ITEM_rptr(SKD_GL_INFO), buf,
	    2 * depth, &e) == NULL);
	ck_assert_int_eq(e, SKD_DER_DEPTH);
	/* at the limit it is accepted structurally */
	depth = SKD_DER_MAX_DEPTH;
	for (i = 0; i < depth; i++) {
		buf[2 * i] = 0x30;
		buf[2 * i + 1] = (unsigned char)(2 * (depth - i - 1));
	}
	ck_assert(skd_der_check_structure_ex(buf, 2 * depth, &e));
	for (i = SKD_DER_OK; i <= SKD_DER_INTERNAL; i++)
		ck_assert(strlen(skd_der_strerror((enum skd_der_err)i)) > 0);
	ck_assert_str_eq(skd_der_strerror(SKD_DER_INDEFINITE),
	    "indefinite length");
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* --- the third-party vector (pyasn1-modules, Vigil Security) --- */

START_TEST(test_pyasn1_vector)
{
	CMS_ContentInfo *cms = vector_cms();
	ASN1_OCTET_STRING **pos;
	SKD_PKI_DATA *pd;
	SKD_TAGGED_ATTRIBUTE *ta;
	SKD_GL_USE_KEK *u;
	SKD_GL_OWNER_INFO *o;
	SKD_GL_KEY_ATTRIBUTES *ka;
	GENERAL_NAME *want;
	unsigned char *der = NULL, *cder = NULL;
	char *t;
	enum skd_der_err e;
	int n;

	/* the outer CMS is DER too */
	ck_assert((n = i2d_CMS_ContentInfo(cms, &cder)) > 0);
	ck_assert(skd_der_check_structure(cder, (size_t)n));
	OPENSSL_free(cder);

	ck_assert(OBJ_obj2nid(CMS_get0_eContentType(cms)) ==
	    skd_asn1_nid(SKD_OID_CCT_PKI_DATA));
	ck_assert((pos = CMS_get0_content(cms)) != NULL && *pos != NULL);
	pd = skd_der_decode_ex(ASN1_ITEM_rptr(SKD_PKI_DATA), (*pos)->data,
	    (size_t)(*pos)->length, &e);
	ck_assert_msg(pd != NULL, "PKIData: %s", skd_der_strerror(e));
	ck_assert_int_eq(sk_SKD_TAGGED_ATTRIBUTE_num(pd->controlSequence), 1);
	ck_assert_int_eq(sk_SKD_TAGGED_REQUEST_num(pd->reqSequence), 0);
	ck_assert_int_eq(sk_SKD_TAGGED_CONTENT_INFO_num(pd->cmsSequence), 0);
	ck_assert_int_eq(sk_SKD_OTHER_MSG_num(pd->otherMsgSequence), 0);
	ta = sk_SKD_TAGGED_ATTRIBUTE_value(pd->controlSequence, 0);
	ck_assert_int_eq(ASN1_INTEGER_get(ta->bodyPartID), 1);
	ck_assert_int_eq(OBJ_obj2nid(ta->attrType),
	    skd_asn1_nid(SKD_OID_GL_USE_KEK));
	ck_assert_ptr_eq(skd_control_by_nid(OBJ_obj2nid(ta->attrType))->item(),
	    ASN1_ITEM_rptr(SKD_GL_USE_KEK));
	ck_assert_int_eq(sk_ASN1_TYPE_num(ta->attrValues), 1);
	u = skd_tagged_attribute_decode1(ta, 0, ASN1_ITEM_rptr(SKD_GL_USE_KEK));
	ck_assert(u != NULL);

	ck_assert_int_eq(u->glInfo->glName->type, GEN_URI);
	t = skd_gname_to_text(u->glInfo->glName);
	ck_assert_str_eq(t, "URI:https://www.example.com/list-info/group-list");
	OPENSSL_free(t);
	t = skd_gname_to_text(u->glInfo->glAddress);
	ck_assert_str_eq(t, "email:group-list@example.com");
	OPENSSL_free(t);

	ck_assert_int_eq(sk_SKD_GL_OWNER_INFO_num(u->glOwnerInfo), 1);
	o = sk_SKD_GL_OWNER_INFO_value(u->glOwnerInfo, 0);
	ck_assert_int_eq(o->glOwnerName->type, GEN_DIRNAME);
	want = gn("dirName:O=Bogus CA,L=Herndon,ST=VA,C=US");
	ck_assert(skd_gname_match(o->glOwnerName, want));
	GENERAL_NAME_free(want);
	t = skd_gname_to_text(o->glOwnerName);
	ck_assert_str_eq(t, "dirName:O=Bogus CA,L=Herndon,ST=VA,C=US");
	OPENSSL_free(t);
	t = skd_gname_to_text(o->glOwnerAddress);
	ck_assert_str_eq(t, "email:group-list-owner@example.com");
	OPENSSL_free(t);
	ck_assert(o->certificates != NULL && o->certificates->pKC != NULL);
	ck_assert(o->certificates->aC == NULL);
	ck_assert(o->certificates->certPath == NULL);
	ck_assert(skd_gname_match_cert(o->glOwnerName, o->certificates->pKC));
	/* the certificate taken from [0] IMPLICIT re-encodes as a plain
	 * Certificate (SEQUENCE), usable on its own */
	ck_assert((n = i2d_X509(o->certificates->pKC, &der)) > 0);
	ck_assert_int_eq(der[0], 0x30);
	OPENSSL_free(der);

	/* glAdministration is encoded in the vector: closed(2) */
	ck_assert(u->glAdministration != NULL);
	ck_assert_int_eq(skd_glusekek_get_admin(u), SKD_GL_CLOSED);
	ka = u->glKeyAttributes;
	ck_assert(ka != NULL);
	ck_assert(skd_glkeyattrs_get_rekey_by_glo(ka));
	ck_assert(skd_glkeyattrs_get_not_mutually_aware(ka));	/* default */
	ck_assert(ka->duration != NULL);
	ck_assert_int_eq(skd_glkeyattrs_get_duration(ka), 31);
	ck_assert(ka->generationCounter == NULL);		/* default */
	ck_assert_int_eq(skd_glkeyattrs_get_generation_counter(ka), 2);
	ck_assert_int_eq(skd_glkeyattrs_get_alg_nid(ka), NID_id_aes256_wrap);

	SKD_GL_USE_KEK_free(u);
	SKD_PKI_DATA_free(pd);
	CMS_ContentInfo_free(cms);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_vector_print)
{
	CMS_ContentInfo *cms = vector_cms();
	ASN1_OCTET_STRING **pos = CMS_get0_content(cms);
	SKD_PKI_DATA *pd;
	BIO *out = BIO_new(BIO_s_mem());
	char *txt, *z;
	long n;

	pd = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_DATA), (*pos)->data,
	    (size_t)(*pos)->length);
	ck_assert(pd != NULL);
	ck_assert(skd_asn1_print(out, ASN1_ITEM_rptr(SKD_PKI_DATA), pd, 0));
	ck_assert(BIO_write(out, "", 1) == 1);
	n = BIO_get_mem_data(out, &txt);
	ck_assert(n > 0);
	z = txt;
	/* the control is decoded and printed by name, not as hex */
	ck_assert_ptr_nonnull(strstr(z, "attrType: glUseKEK"));
	ck_assert_ptr_nonnull(strstr(z, "rekeyControlledByGLO: TRUE"));
	ck_assert_ptr_nonnull(strstr(z, "id-aes256-wrap"));
	ck_assert_ptr_nonnull(strstr(z, "group-list-owner@example.com"));
	BIO_free(out);
	SKD_PKI_DATA_free(pd);
	CMS_ContentInfo_free(cms);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* --- OIDs, control table, names --- */

START_TEST(test_oids)
{
	char buf[128];
	int i, nid, j;

	ck_assert(skd_asn1_init());
	ck_assert(skd_asn1_init());		/* idempotent */
	for (i = 0; i < SKD_OID_COUNT; i++) {
		nid = skd_asn1_nid((enum skd_oid)i);
		ck_assert_msg(nid != NID_undef, "oid %d", i);
		ck_assert(OBJ_obj2txt(buf, sizeof(buf), OBJ_nid2obj(nid), 1) > 0);
		ck_assert_str_eq(buf, skd_asn1_oid_text((enum skd_oid)i));
		for (j = 0; j < i; j++)
			ck_assert(skd_asn1_nid((enum skd_oid)j) != nid);
	}
	ck_assert_int_eq(skd_asn1_nid(SKD_OID_COUNT), NID_undef);
	/* OpenSSL's own NIDs are reused */
	ck_assert_int_eq(skd_asn1_nid(SKD_OID_CMC_SENDER_NONCE),
	    NID_id_cmc_senderNonce);
	ck_assert_int_eq(skd_asn1_nid(SKD_OID_CCT_PKI_DATA), NID_id_cct_PKIData);
	ck_assert_str_eq(OBJ_nid2sn(skd_asn1_nid(SKD_OID_GL_USE_KEK)),
	    "id-skd-glUseKEK");
	ck_assert_str_eq(OBJ_nid2ln(skd_asn1_nid(SKD_OID_GL_USE_KEK)),
	    "GL Use KEK");
	ck_assert_str_eq(skd_asn1_oid_text(SKD_OID_GL_KEY),
	    "1.2.840.113549.1.9.16.8.15");
	ck_assert_int_eq(OBJ_txt2nid("1.3.6.1.5.5.7.7.99.1"),
	    skd_asn1_nid(SKD_OID_GLA_SKD_ALG_REQUEST));
}
END_TEST

START_TEST(test_control_table)
{
	const struct skd_control *c;
	size_t i;

	ck_assert_int_eq(skd_control_count(), 25);
	for (i = 0; i < skd_control_count(); i++) {
		c = skd_control_at(i);
		ck_assert(c != NULL && c->name != NULL && c->item() != NULL);
		ck_assert_ptr_eq(skd_control_by_nid(skd_asn1_nid(c->oid)), c);
		ck_assert(c->senders != 0 && c->carried != 0);
	}
	ck_assert(skd_control_at(i) == NULL);
	c = skd_control_by_nid(skd_asn1_nid(SKD_OID_GL_DELETE));
	ck_assert_str_eq(c->name, "glDelete");
	ck_assert_ptr_eq(c->item(), ASN1_ITEM_rptr(GENERAL_NAME));
	ck_assert_int_eq(c->senders, SKD_FROM_GLO);
	c = skd_control_by_nid(skd_asn1_nid(SKD_OID_GL_KEY));
	ck_assert_int_eq(c->senders, SKD_FROM_GLA);
	c = skd_control_by_nid(skd_asn1_nid(SKD_OID_GL_ADD_MEMBER));
	ck_assert_int_eq(c->senders, SKD_FROM_GLO | SKD_FROM_MEMBER);
	c = skd_control_by_nid(NID_id_cmc_recipientNonce);
	ck_assert_ptr_eq(c->item(), ASN1_ITEM_rptr(ASN1_OCTET_STRING));
	ck_assert(skd_control_by_nid(NID_commonName) == NULL);
	ck_assert(skd_control_by_nid(NID_undef) == NULL);
	ck_assert(skd_control_by_nid(skd_asn1_nid(SKD_OID_SKD_10)) == NULL);
	/* Key recovery (docs/keygen.md): a Certificate, answered with the
	 * ServerKeyGenResponse type. */
	c = skd_control_by_nid(skd_asn1_nid(SKD_OID_KEY_RECOVERY_REQUEST));
	ck_assert_ptr_eq(c->item(), ASN1_ITEM_rptr(X509));
	ck_assert_str_eq(skd_asn1_oid_text(SKD_OID_KEY_RECOVERY_REQUEST),
	    "2.25.88603606528775871844496178518562820826.3.9");
	c = skd_control_by_nid(skd_asn1_nid(SKD_OID_KEY_RECOVERY_RESPONSE));
	ck_assert_ptr_eq(c->item(),
	    ASN1_ITEM_rptr(SKD_SERVER_KEY_GEN_RESPONSE));
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(skd_failinfo_name(SKD_FAIL_CLOSED_GL), "closedGL");
	ck_assert_str_eq(skd_failinfo_name(SKD_FAIL_NOT_AN_OWNER),
	    "notAnOwner");
	ck_assert(skd_failinfo_name(10) == NULL);	/* obsolete */
	ck_assert(skd_failinfo_name(15) == NULL);
	ck_assert(skd_failinfo_string(SKD_FAIL_NO_SPAM) != NULL);
	ck_assert_str_eq(skd_cmc_status_name(SKD_CMC_PENDING), "pending");
	ck_assert(skd_cmc_status_name(1) == NULL);
	ck_assert(skd_cmc_status_string(SKD_CMC_SUCCESS) != NULL);
	ck_assert_str_eq(skd_cmc_failinfo_name(SKD_CMC_AUTH_DATA_FAIL),
	    "authDataFail");
	ck_assert(skd_cmc_failinfo_name(14) == NULL);
	ck_assert(skd_cmc_failinfo_string(SKD_CMC_BAD_TIME) != NULL);
	ck_assert_str_eq(skd_skg_error_name(SKD_SKG_BAD_SHARED_SECRET),
	    "badSharedSecret");
}
END_TEST

START_TEST(test_status_print_names)
{
	SKD_CMC_STATUS_INFO_V2 *s = mk_status(SKD_OTHER_STATUS_EXT_FAIL_INFO);
	BIO *out = BIO_new(BIO_s_mem());
	char *txt;

	ck_assert(skd_asn1_print(out, ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2), s,
	    0));
	ck_assert(BIO_write(out, "", 1) == 1);
	ck_assert(BIO_get_mem_data(out, &txt) > 0);
	ck_assert_ptr_nonnull(strstr(txt, "(cMCStatus failed)"));
	ck_assert_ptr_nonnull(strstr(txt, "(closedGL)"));
	BIO_free(out);
	SKD_CMC_STATUS_INFO_V2_free(s);
}
END_TEST

/* OtherStatusInfo's two SEQUENCE alternatives are told apart on decode. */
START_TEST(test_other_status_info_choice)
{
	static const int types[] = { SKD_OTHER_STATUS_FAIL_INFO,
	    SKD_OTHER_STATUS_PEND_INFO, SKD_OTHER_STATUS_EXT_FAIL_INFO };
	SKD_CMC_STATUS_INFO_V2 *s, *back;
	unsigned char *d = NULL;
	size_t l, i;

	for (i = 0; i < 3; i++) {
		s = mk_status(types[i]);
		ck_assert(skd_der_encode(ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2),
		    s, &d, &l));
		back = skd_der_decode(ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2), d,
		    l);
		ck_assert(back != NULL && back->otherStatusInfo != NULL);
		ck_assert_int_eq(back->otherStatusInfo->type, types[i]);
		OPENSSL_free(d);
		SKD_CMC_STATUS_INFO_V2_free(s);
		SKD_CMC_STATUS_INFO_V2_free(back);
	}
	skd_test_assert_no_ossl_errors();
}
END_TEST

Suite *
skd_suite_asn1(void)
{
	Suite *s = suite_create("asn1");
	TCase *tc;

	tc = tcase_create("types");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_round_trip, 0, NSAMPLES);
	tcase_add_test(tc, test_keyattrs_defaults);
	tcase_add_test(tc, test_usekek_admin_default);
	tcase_add_test(tc, test_skgreq_archive_default);
	tcase_add_test(tc, test_other_status_info_choice);
	suite_add_tcase(s, tc);

	tc = tcase_create("der");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_malformed, 0,
	    (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, test_nesting_and_strings);
	suite_add_tcase(s, tc);

	tc = tcase_create("vector");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_pyasn1_vector);
	tcase_add_test(tc, test_vector_print);
	suite_add_tcase(s, tc);

	tc = tcase_create("tables");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_oids);
	tcase_add_test(tc, test_control_table);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_status_print_names);
	suite_add_tcase(s, tc);
	return s;
}
