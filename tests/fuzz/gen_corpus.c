/*
 * gen_corpus.c: writes the seed corpora of the fuzz targets from messages
 * the project's own builders produce (src/cms/skd_cmc.h, skd_recip.h,
 * skd_cms.h), protected with the fixed PKI of fuzz_pki.h so that the
 * layer walker can verify and open them.  Not part of any build; run
 * tests/fuzz/gen_corpus.sh, which builds it by hand and also adds the
 * third-party vector.  Usage: gen_corpus <corpus-dir> [pkidata.der ...]
 * (each extra file, a DER PKIData from elsewhere, is added to the pkidata
 * corpus and its controls to the controls corpus).
 *
 * Encryption draws fresh randomness, so the bytes differ from run to run;
 * the committed seeds are one such run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "asn1/skd_asn1.h"
#include "cms/skd_cmc.h"
#include "cms/skd_cms.h"
#include "cms/skd_recip.h"
#include "fuzz/fuzz_pki.h"

static const char *top;
static struct skd_fuzz_pki pki;

/* The generator stops at the first failure: seeds must all be real. */
#define NEED(x)	do {							\
	if (!(x)) {							\
		fprintf(stderr, "gen_corpus: %s:%d: %s failed\n",	\
		    __FILE__, __LINE__, #x);				\
		ERR_print_errors_fp(stderr);				\
		exit(1);						\
	}								\
} while (0)

static void
put(const char *target, const char *name, const unsigned char *p,
    size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, target);
	NEED(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/%s/%s", top, target, name);
	NEED((f = fopen(path, "wb")) != NULL);
	NEED(fwrite(p, 1, len, f) == len);
	NEED(fclose(f) == 0);
}

static GENERAL_NAME *
gn(const char *text)
{
	GENERAL_NAME *g = skd_gname_from_text(text);

	NEED(g != NULL);
	return g;
}

/* Control seeds: each control value of a body, behind its table index. */
static void
put_controls(const char *prefix, const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq)
{
	const SKD_TAGGED_ATTRIBUTE *ta;
	const struct skd_control *c;
	unsigned char *der = NULL, *buf;
	char name[256];
	size_t i, k;
	int j, len;

	for (j = 0; j < sk_SKD_TAGGED_ATTRIBUTE_num(seq); j++) {
		ta = sk_SKD_TAGGED_ATTRIBUTE_value(seq, j);
		NEED((c = skd_control_by_nid(OBJ_obj2nid(ta->attrType)))
		    != NULL);
		for (k = 0, i = 0; i < skd_control_count(); i++) {
			if (skd_control_at(i) == c) {
				k = i;
			}
		}
		der = NULL;
		NEED((len = i2d_ASN1_TYPE(sk_ASN1_TYPE_value(ta->attrValues,
		    0), &der)) > 0);
		NEED((buf = malloc((size_t)len + 1)) != NULL);
		buf[0] = (unsigned char)k;
		memcpy(buf + 1, der, (size_t)len);
		snprintf(name, sizeof(name), "%s-%s", prefix, c->name);
		put("fuzz_controls", name, buf, (size_t)len + 1);
		if (c->oid == SKD_OID_CMC_STATUS_INFO_V2) {
			put("fuzz_status", name, der, (size_t)len);
		}
		if (c->oid == SKD_OID_GL_KEY) {
			put("fuzz_glkey", name, der, (size_t)len);
		}
		free(buf);
		OPENSSL_free(der);
	}
}

/* Writes a finished body to the pkidata/pkiresponse corpora and its
 * controls to the controls corpus; returns its DER (caller frees). */
static unsigned char *
finish(struct skd_cmc_body *b, int is_response, const char *name,
    size_t *out_len)
{
	unsigned char *der = NULL;
	SKD_PKI_DATA *pd;
	SKD_PKI_RESPONSE *pr;

	NEED(skd_cmc_body_encode(b, &der, out_len));
	skd_cmc_body_free(b);
	if (is_response) {
		NEED((pr = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_RESPONSE),
		    der, *out_len)) != NULL);
		put("fuzz_pkiresponse", name, der, *out_len);
		put_controls(name, pr->controlSequence);
		SKD_PKI_RESPONSE_free(pr);
	} else {
		NEED((pd = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_DATA), der,
		    *out_len)) != NULL);
		put("fuzz_pkidata", name, der, *out_len);
		put_controls(name, pd->controlSequence);
		SKD_PKI_DATA_free(pd);
	}
	return der;
}

static struct skd_cmc_body *
body_start(int is_response)
{
	static const unsigned char nonce[SKD_CMC_NONCE_LEN] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
	};
	struct skd_cmc_body *b;
	ASN1_INTEGER *tid;

	NEED((b = skd_cmc_body_new(is_response)) != NULL);
	NEED((tid = ASN1_INTEGER_new()) != NULL);
	NEED(ASN1_INTEGER_set(tid, 4711));
	NEED(skd_cmc_body_add_transaction_id(b, tid) > 0);
	NEED(skd_cmc_body_add_sender_nonce(b, nonce, sizeof(nonce)) > 0);
	if (is_response) {
		NEED(skd_cmc_body_add_recipient_nonce(b, nonce,
		    sizeof(nonce)) > 0);
	}
	ASN1_INTEGER_free(tid);
	return b;
}

/* RFC 5275 3.1.13: a RecipientInfos with ktri (v1.5, and OAEP named by
 * SKI), kari and kekri recipients; *out_der is the caller's. */
static void
make_ri_set(unsigned char **out_der, size_t *out_len)
{
	static const unsigned char key[16] = "0123456789abcdef";
	struct skd_ri_recipient r[4];

	memset(r, 0, sizeof(r));
	r[0].type = SKD_RI_KTRI;
	r[0].cert = pki.gla;
	r[1].type = SKD_RI_KTRI;
	r[1].cert = pki.gla;
	r[1].flags = SKD_RI_OPT_OAEP | SKD_RI_OPT_SKI;
	r[2].type = SKD_RI_KARI;
	r[2].cert = pki.member;
	r[3].type = SKD_RI_KEKRI;
	r[3].kek = skd_fuzz_kek;
	r[3].kek_len = sizeof(skd_fuzz_kek);
	r[3].kek_id = skd_fuzz_kek_id;
	r[3].kek_id_len = sizeof(skd_fuzz_kek_id);
	NEED(skd_ri_build_set(out_der, out_len, key, sizeof(key), r, 4));
}

typedef STACK_OF(ASN1_TYPE) GEN_RI_SET;
ASN1_ITEM_TEMPLATE(GEN_RI_SET) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_OF, 0, RecipientInfos, ASN1_ANY)
static_ASN1_ITEM_TEMPLATE_END(GEN_RI_SET)

static SKD_GL_KEY *
make_glkey(void)
{
	unsigned char *ri = NULL;
	size_t ri_len = 0;
	SKD_GL_KEY *gk;
	STACK_OF(ASN1_TYPE) *set;

	make_ri_set(&ri, &ri_len);
	put("fuzz_glkey", "ri-ktri-kari-kekri", ri, ri_len);
	NEED((set = skd_der_decode(ASN1_ITEM_rptr(GEN_RI_SET), ri, ri_len))
	    != NULL);
	NEED((gk = SKD_GL_KEY_new()) != NULL);
	GENERAL_NAME_free(gk->glName);
	gk->glName = gn("URI:https://lists.example/a");
	NEED(ASN1_OCTET_STRING_set(gk->glIdentifier->keyIdentifier,
	    (const unsigned char *)"key-2", 5));
	sk_ASN1_TYPE_pop_free(gk->glkWrapped, ASN1_TYPE_free);
	gk->glkWrapped = set;
	NEED(X509_ALGOR_set0(gk->glkAlgorithm, OBJ_nid2obj(
	    NID_id_aes128_wrap), V_ASN1_UNDEF, NULL));
	NEED(ASN1_GENERALIZEDTIME_set(gk->glkNotBefore, SKD_FUZZ_NOW));
	NEED(ASN1_GENERALIZEDTIME_set(gk->glkNotAfter,
	    SKD_FUZZ_NOW + 86400 * 30));
	OPENSSL_free(ri);
	return gk;
}

/* The layer stacks of RFC 5275 3.2.1 around body. */
static void
protect(const char *name, const unsigned char *body, size_t len,
    int is_response, X509 *signer, EVP_PKEY *key, X509 *to, int outer)
{
	struct skd_cmc_protect p;
	unsigned char *msg = NULL;
	size_t mlen = 0;

	memset(&p, 0, sizeof(p));
	p.signer = signer;
	p.key = key;
	p.signing_time = SKD_FUZZ_NOW - 60;
	p.encrypt_to = to;
	p.outer_sign = outer;
	NEED(skd_cmc_protect(&msg, &mlen, is_response, body, len, &p));
	put("fuzz_layers", name, msg, mlen);
	OPENSSL_free(msg);
}

/* SignedData(EnvelopedData(kekri)(SignedData(PKIData))): the KEK form of
 * 3.2.1.2, built from the cms primitives. */
static void
protect_kek(const char *name, const unsigned char *body, size_t len)
{
	struct skd_cms_recip r;
	unsigned char *s = NULL, *e = NULL, *o = NULL;
	size_t slen = 0, elen = 0, olen = 0;

	NEED(skd_cms_sign(&s, &slen, OBJ_nid2obj(skd_asn1_nid(
	    SKD_OID_CCT_PKI_DATA)), body, len, pki.member, pki.member_key,
	    NULL, SKD_FUZZ_NOW - 60, 0));
	memset(&r, 0, sizeof(r));
	r.type = SKD_CMS_RECIP_KEK;
	r.kek = skd_fuzz_kek;
	r.kek_len = sizeof(skd_fuzz_kek);
	r.kek_id = skd_fuzz_kek_id;
	r.kek_id_len = sizeof(skd_fuzz_kek_id);
	NEED(skd_cms_envelope(&e, &elen, OBJ_nid2obj(NID_pkcs7_signed), s,
	    slen, &r, 1, NULL));
	NEED(skd_cms_sign(&o, &olen, OBJ_nid2obj(NID_pkcs7_enveloped), e,
	    elen, pki.member, pki.member_key, NULL, SKD_FUZZ_NOW - 60, 0));
	put("fuzz_layers", name, o, olen);
	OPENSSL_free(s);
	OPENSSL_free(e);
	OPENSSL_free(o);
}

static void
gen_gnames(void)
{
	static const char *names[] = {
		"email:alice@example.com",
		"DNS:Lists.Example.COM",
		"URI:HTTPS://Lists.Example/a?b=c#d",
		"URI:mailto:gl@example.com",
		"dirName:CN=skd test CA,O=skd test,C=US",
		"dirName:CN=a\\,b+OU=x,O=y",
		"IP:192.0.2.1",
		"IP:2001:db8:0:0:0:0:0:1",
		"IP:::ffff:192.0.2.1",
	};
	char name[32];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(name, sizeof(name), "gname-%zu", i);
		put("fuzz_gname", name, (const unsigned char *)names[i],
		    strlen(names[i]));
	}
}

/* A PKIData from a file (e.g. the pyasn1 glUseKEK vector's eContent). */
static void
gen_external(const char *path)
{
	unsigned char buf[65536];
	char name[256];
	const char *base = strrchr(path, '/');
	SKD_PKI_DATA *pd;
	FILE *f;
	size_t len;

	base = base != NULL ? base + 1 : path;
	NEED((f = fopen(path, "rb")) != NULL);
	len = fread(buf, 1, sizeof(buf), f);
	NEED(len > 0 && len < sizeof(buf));
	fclose(f);
	NEED((pd = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_DATA), buf, len))
	    != NULL);
	snprintf(name, sizeof(name), "ext-%s", base);
	put("fuzz_pkidata", name, buf, len);
	put_controls(name, pd->controlSequence);
	SKD_PKI_DATA_free(pd);
}

int
main(int argc, char **argv)
{
	struct skd_cmc_body *b;
	SKD_GL_ADD_MEMBER *am;
	SKD_GL_DELETE_MEMBER *dm;
	SKD_GL_REKEY *rk;
	SKD_GL_KREFRESH *kr;
	SKD_DATE *d;
	SKD_GLA_QUERY_REQUEST *q;
	SKD_GL_KEY *gk;
	GENERAL_NAME *g;
	unsigned char *body, *inner = NULL, *signed_inner = NULL;
	size_t len, ilen, slen = 0;
	long bl[] = { 1, 2 };
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: gen_corpus <corpus-dir> [pkidata]\n");
		return 2;
	}
	top = argv[1];
	NEED(skd_asn1_init());
	NEED(skd_fuzz_pki_load(&pki));

	/* glDelete (RFC 5275 3.2.2), signed by a GLO: 3.2.1.1 ... */
	b = body_start(0);
	g = gn("URI:https://lists.example/a");
	NEED(skd_cmc_body_add_control(b, SKD_OID_GL_DELETE, g) > 0);
	body = finish(b, 0, "gldelete", &len);
	protect("signed-gldelete", body, len, 0, pki.gla, pki.gla_key, NULL,
	    0);
	/* ... and triple-wrapped to the GLA: 3.2.1.2 */
	protect("triple-gldelete", body, len, 0, pki.member, pki.member_key,
	    pki.gla, 1);
	protect("enveloped-gldelete", body, len, 0, pki.member,
	    pki.member_key, pki.gla, 0);
	protect_kek("kek-gldelete", body, len);
	inner = body;
	ilen = len;

	/* glAddMember with the member's certificate (3.1.3) */
	b = body_start(0);
	NEED((am = SKD_GL_ADD_MEMBER_new()) != NULL);
	GENERAL_NAME_free(am->glName);
	am->glName = gn("URI:https://lists.example/a");
	GENERAL_NAME_free(am->glMember->glMemberName);
	am->glMember->glMemberName = gn("dirName:CN=member,O=skd fuzz,C=US");
	am->glMember->glMemberAddress = gn("email:member@example.com");
	NEED((am->glMember->certificates = SKD_CERTIFICATES_new()) != NULL);
	NEED(X509_up_ref(pki.member));
	am->glMember->certificates->pKC = pki.member;
	NEED(skd_cmc_body_add_control(b, SKD_OID_GL_ADD_MEMBER, am) > 0);
	SKD_GL_ADD_MEMBER_free(am);
	body = finish(b, 0, "gladdmember", &len);
	protect("signed-gladdmember", body, len, 0, pki.member,
	    pki.member_key, NULL, 0);
	OPENSSL_free(body);

	/* glDeleteMember, glRekey, glkCompromise, glkRefresh, glaQuery */
	b = body_start(0);
	NEED((dm = SKD_GL_DELETE_MEMBER_new()) != NULL);
	GENERAL_NAME_free(dm->glName);
	dm->glName = gn("URI:https://lists.example/a");
	GENERAL_NAME_free(dm->glMemberToDelete);
	dm->glMemberToDelete = gn("email:bob@example.com");
	NEED(skd_cmc_body_add_control(b, SKD_OID_GL_DELETE_MEMBER, dm) > 0);
	SKD_GL_DELETE_MEMBER_free(dm);
	NEED((rk = SKD_GL_REKEY_new()) != NULL);
	GENERAL_NAME_free(rk->glName);
	rk->glName = gn("URI:https://lists.example/a");
	NEED((rk->glNewKeyAttributes = SKD_GL_NEW_KEY_ATTRIBUTES_new())
	    != NULL);
	skd_asn1_opt_bool_set(&rk->glNewKeyAttributes->rekeyControlledByGLO,
	    1);
	NEED((rk->glNewKeyAttributes->duration = ASN1_INTEGER_new()) != NULL);
	NEED(ASN1_INTEGER_set(rk->glNewKeyAttributes->duration, 30));
	skd_asn1_opt_bool_set(&rk->glRekeyAllGLKeys, 1);
	NEED(skd_cmc_body_add_control(b, SKD_OID_GL_REKEY, rk) > 0);
	SKD_GL_REKEY_free(rk);
	NEED(skd_cmc_body_add_control(b, SKD_OID_GL_KEY_COMPROMISE, g) > 0);
	NEED((kr = SKD_GL_KREFRESH_new()) != NULL);
	GENERAL_NAME_free(kr->glName);
	kr->glName = gn("URI:https://lists.example/a");
	NEED((d = SKD_DATE_new()) != NULL);
	NEED(ASN1_GENERALIZEDTIME_set(d->start, SKD_FUZZ_NOW));
	NEED((d->end = ASN1_GENERALIZEDTIME_set(NULL, SKD_FUZZ_NOW + 86400))
	    != NULL);
	NEED(sk_SKD_DATE_push(kr->dates, d) > 0);
	NEED(skd_cmc_body_add_control(b, SKD_OID_GL_KEY_REFRESH, kr) > 0);
	SKD_GL_KREFRESH_free(kr);
	NEED((q = SKD_GLA_QUERY_REQUEST_new()) != NULL);
	ASN1_OBJECT_free(q->type);
	q->type = OBJ_nid2obj(skd_asn1_nid(SKD_OID_GLA_SKD_ALG_REQUEST));
	NEED((q->value = ASN1_TYPE_new()) != NULL);
	ASN1_TYPE_set(q->value, V_ASN1_NULL, NULL);
	NEED(skd_cmc_body_add_control(b, SKD_OID_GLA_QUERY_REQUEST, q) > 0);
	SKD_GLA_QUERY_REQUEST_free(q);
	body = finish(b, 0, "glmisc", &len);
	protect("signed-glmisc", body, len, 0, pki.gla, pki.gla_key, NULL, 0);
	OPENSSL_free(body);

	/* glKey from the GLA (3.1.13) with every recipient kind */
	b = body_start(0);
	gk = make_glkey();
	NEED(skd_cmc_body_add_control(b, SKD_OID_GL_KEY, gk) > 0);
	SKD_GL_KEY_free(gk);
	body = finish(b, 0, "glkey", &len);
	protect("signed-glkey", body, len, 0, pki.gla, pki.gla_key, NULL, 0);
	OPENSSL_free(body);

	/* 3.2.2: a PKIData whose cmsSequence holds a signed PKIData */
	NEED(skd_cms_sign(&signed_inner, &slen, OBJ_nid2obj(skd_asn1_nid(
	    SKD_OID_CCT_PKI_DATA)), inner, ilen, pki.member, pki.member_key,
	    NULL, SKD_FUZZ_NOW - 120, 0));
	b = body_start(0);
	NEED(skd_cmc_body_add_cms(b, signed_inner, slen) > 0);
	body = finish(b, 0, "nested", &len);
	protect("signed-nested", body, len, 0, pki.gla, pki.gla_key, NULL, 0);
	OPENSSL_free(body);
	OPENSSL_free(inner);

	/* PKIResponses: a failure with an SKDFailInfo, a success, a CMC
	 * failure, and one carrying a signed PKIData in its cmsSequence */
	b = body_start(1);
	NEED(skd_cmc_body_add_status(b, SKD_CMC_FAILED, bl, 1,
	    "no such list", -1, SKD_FAIL_INVALID_GL_NAME) > 0);
	NEED(skd_cmc_body_add_status(b, SKD_CMC_SUCCESS, bl, 2, NULL, -1,
	    -1) > 0);
	NEED(skd_cmc_body_add_status(b, SKD_CMC_FAILED, bl, 1, "bad",
	    SKD_CMC_BAD_MESSAGE_CHECK, -1) > 0);
	body = finish(b, 1, "status", &len);
	protect("signed-status", body, len, 1, pki.gla, pki.gla_key, NULL, 0);
	protect("triple-status", body, len, 1, pki.gla, pki.gla_key, pki.gla,
	    1);
	OPENSSL_free(body);
	b = body_start(1);
	NEED(skd_cmc_body_add_status(b, SKD_CMC_SUCCESS, bl, 1, "ok", -1,
	    -1) > 0);
	NEED(skd_cmc_body_add_cms(b, signed_inner, slen) > 0);
	body = finish(b, 1, "response-cms", &len);
	protect("signed-response-cms", body, len, 1, pki.gla, pki.gla_key,
	    NULL, 0);
	OPENSSL_free(body);
	OPENSSL_free(signed_inner);
	GENERAL_NAME_free(g);

	gen_gnames();
	for (i = 2; i < argc; i++) {
		gen_external(argv[i]);
	}
	skd_fuzz_pki_free(&pki);
	return 0;
}
