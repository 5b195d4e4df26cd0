/*
 * test_interop_gla_dir.c: the GLA worker against a real slapd, driven the
 * way a third party would (docs/directory.md "Submitting without skd"):
 * messages signed and encrypted by the openssl CLI, nested as RFC 5652 5.2
 * does, submitted with ldapadd, answers read with ldapsearch and opened
 * layer by layer with the openssl CLI, and a member acknowledgement built
 * as RFC 5275 5.1 2.c describes it, without skd's statusString.
 *
 * skd's own code only builds the PKIData/PKIResponse bodies (no CLI
 * builds CMC), decodes them, and frames a bare layer back into a
 * ContentInfo (skd_cms_nested_content_info) where the openssl CLI wants
 * one: it reads only whole ContentInfos.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "client/skd_client.h"
#include "cms/skd_cmc.h"
#include "skd_test.h"
#include "store/skd_store.h"
#include "support/stack.h"
#include "worker/skd_worker.h"

/* RFC 5272: id-cct-PKIData, id-cct-PKIResponse; RFC 5652:
 * id-envelopedData. */
#define OID_PKI_DATA		"1.3.6.1.5.5.7.12.2"
#define OID_PKI_RESPONSE	"1.3.6.1.5.5.7.12.3"
#define OID_ENVELOPED		"1.2.840.113549.1.7.3"

static void
setup_stack(void)
{
	(void)skd_test_stack_get();
}

static const char *
env(const char *k)
{
	return skd_test_stack_need(k);
}

/* "<tmp>/<name>" in a static buffer (one at a time per call site). */
static const char *
tmp(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", skd_test_tmp, name);
	return buf;
}

static struct skd_worker *
worker_new(void)
{
	struct skd_worker_config *c;
	struct skd_worker *w;
	char pw[4096], conf[4096], err[512], *text;
	const char *pki = env("SKD_PKI_DIR");

	tmp(pw, sizeof(pw), "gla.pw");
	ck_assert(skd_test_write_file(pw, env("SKD_GLA_PW"),
	    strlen(env("SKD_GLA_PW"))));
	ck_assert_int_gt(asprintf(&text,
	    "ldap_uri = %s\nbind = simple\nbind_dn = %s\n"
	    "bind_password_file = %s\nbase_dn = %s\n"
	    "gla_cert = %s/gla.crt\ngla_key = %s/gla.key\n"
	    "issuer_cert = %s/ca.crt\nissuer_key = %s/ca.key\n"
	    "ca_file = %s/ca.crt\ncrl_file = %s/crl.pem\n"
	    "poll_interval_ms = 100\nlog_level = warning\n",
	    env("SKD_LDAP_URI"), env("SKD_GLA_DN"), pw, env("SKD_BASE_DN"),
	    pki, pki, pki, pki, pki, pki), 0);
	tmp(conf, sizeof(conf), "worker.conf");
	ck_assert(skd_test_write_file(conf, text, strlen(text)));
	free(text);
	c = skd_worker_config_load(err, sizeof(err), conf);
	ck_assert_msg(c != NULL, "config: %s", err);
	skd_worker_log_setup(SKD_WORKER_LOG_STDERR, c->log_level);
	w = skd_worker_new(err, sizeof(err), c);
	ck_assert_msg(w != NULL, "worker: %s", err);
	skd_worker_config_free(c);
	return w;
}

static void
write_file(const char *path, const unsigned char *p, size_t n)
{
	ck_assert_msg(skd_test_write_file(path, p, n), "write %s", path);
}

static unsigned char *
read_file(const char *path, size_t *len)
{
	unsigned char *p = skd_test_read_file(path, len);

	ck_assert_msg(p != NULL, "read %s", path);
	return p;
}

/*
 * `openssl cms -sign` of the file in as who (<pki>/<who>.crt/.key) with
 * eContentType oid, then the bare SignedData taken out of the ContentInfo
 * with `openssl asn1parse -strparse` when bare is set (RFC 5652 5.2: the
 * form a layer has inside the next one).
 */
static void
ossl_sign(const char *in, const char *out, const char *who, const char *oid,
    int bare)
{
	const char *pki = env("SKD_PKI_DIR");

	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -sign -binary "
	    "-nodetach -md sha256 -econtent_type %s -signer %s/%s.crt "
	    "-inkey %s/%s.key -in '%s' -outform DER -out '%s.ci'",
	    oid, pki, who, pki, who, in, out), 0);
	if (!bare) {
		ck_assert_int_eq(skd_test_run(NULL, NULL, "mv '%s.ci' '%s'",
		    out, out), 0);
		return;
	}
	/* The first value at depth 2 is the content inside [0]. */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "off=$(openssl asn1parse "
	    "-inform DER -in '%s.ci' | awk '/d=2 / {print $1+0; exit}') && "
	    "openssl asn1parse -inform DER -in '%s.ci' -strparse $off "
	    "-noout -out '%s'", out, out, out), 0);
}

/* `openssl cms -encrypt` of in for <pki>/<to>.crt, bare EnvelopedData. */
static void
ossl_encrypt_bare(const char *in, const char *out, const char *to)
{
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -encrypt "
	    "-binary -aes256 -in '%s' -outform DER -out '%s.ci' %s/%s.crt && "
	    "off=$(openssl asn1parse -inform DER -in '%s.ci' | "
	    "awk '/d=2 / {print $1+0; exit}') && openssl asn1parse "
	    "-inform DER -in '%s.ci' -strparse $off -noout -out '%s'",
	    in, out, env("SKD_PKI_DIR"), to, out, out, out), 0);
}

/*
 * Adds the request entry of docs/directory.md ("Submitting without skd")
 * for the DER message in file msg with ldapadd, bound as who (SKD_<WHO>);
 * returns the request id in id.
 */
static void
ldapadd_request(char id[SKD_STORE_ID_LEN], const char *msg, const char *who)
{
	char kdn[64], kpw[64], ldif[4096];
	const char *dn;

	snprintf(kdn, sizeof(kdn), "SKD_%s_DN", who);
	snprintf(kpw, sizeof(kpw), "SKD_%s_PW", who);
	dn = env(kdn);
	skd_store_new_id(id);
	tmp(ldif, sizeof(ldif), "request.ldif");
	ck_assert_int_eq(skd_test_run(NULL, NULL, "{ echo 'dn: skdRequestId=%s,"
	    "ou=requests,%s'; echo 'objectClass: skdRequest'; "
	    "echo 'skdRequestId: %s'; printf 'skdMessage:: '; "
	    "openssl base64 -A -in '%s'; echo; echo 'skdSubmitterDN: %s'; "
	    "echo 'skdState: pending'; } > '%s' && ldapadd -x -H '%s' "
	    "-D '%s' -w '%s' -f '%s' >/dev/null", id, env("SKD_BASE_DN"), id,
	    msg, dn, ldif, env("SKD_LDAP_URI"), dn, env(kpw), ldif), 0);
}

/* ldapsearch as who of the first skdMessage value of the entries under
 * base matching filter, decoded into the file out; returns one when there
 * was one. */
static int
ldapsearch_message(const char *out, const char *who, const char *base,
    const char *scope, const char *filter)
{
	char kdn[64], kpw[64];

	snprintf(kdn, sizeof(kdn), "SKD_%s_DN", who);
	snprintf(kpw, sizeof(kpw), "SKD_%s_PW", who);
	return skd_test_run(NULL, NULL, "ldapsearch -LLL -o ldif-wrap=no -x "
	    "-H '%s' -D '%s' -w '%s' -b '%s' -s %s '%s' skdMessage | "
	    "sed -n '/^skdMessage:: /{s///p;q;}' | openssl base64 -d -A "
	    "> '%s' && test -s '%s'", env("SKD_LDAP_URI"), env(kdn), env(kpw),
	    base, scope, filter, out, out) == 0;
}

static char *
request_state(const char *id)
{
	struct skd_store *s;
	struct skd_store_request *r = NULL;
	char *st;

	s = skd_store_open(NULL, env("SKD_LDAP_URI"), env("SKD_BASE_DN"),
	    SKD_STORE_BIND_SIMPLE, env("SKD_GLA_DN"), env("SKD_GLA_PW"));
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(skd_store_read_request(s, &r, id), "read %s: %s", id,
	    skd_store_errmsg(s));
	ck_assert_ptr_nonnull(st = strdup(r->state));
	skd_store_request_free(r);
	skd_store_close(s);
	return st;
}

static char *
unique_gl(void)
{
	char id[SKD_STORE_ID_LEN], *p;

	skd_store_new_id(id);
	ck_assert_int_gt(asprintf(&p, "email:gl-%.8s@example.com", id), 0);
	return p;
}

/* glUseKEK for gl owned by glo1 with member alice, transactionId and
 * senderNonce: the DER PKIData in file path. */
static void
write_create_body(const char *path, const char *gl)
{
	struct skd_client_gl_params p = { gl, NULL, SKD_GL_CLOSED, 0, 1, -1,
	    0, -1 };
	struct skd_client_error e;
	struct skd_client_ident *glo, *alice;
	struct skd_client_party owner, member;
	struct skd_cmc_body *b = skd_cmc_body_new(0);
	SKD_GL_USE_KEK *u;
	SKD_GL_ADD_MEMBER *am;
	ASN1_INTEGER *tid = ASN1_INTEGER_new();
	static const unsigned char nonce[16] = { 0x13, 0x13 };
	char c[4096], k[4096];
	unsigned char *der = NULL;
	size_t len = 0;

	snprintf(c, sizeof(c), "%s/glo1.crt", env("SKD_PKI_DIR"));
	snprintf(k, sizeof(k), "%s/glo1.key", env("SKD_PKI_DIR"));
	ck_assert_ptr_nonnull(glo = skd_client_ident_load(c, k, &e));
	snprintf(c, sizeof(c), "%s/alice.crt", env("SKD_PKI_DIR"));
	snprintf(k, sizeof(k), "%s/alice.key", env("SKD_PKI_DIR"));
	ck_assert_ptr_nonnull(alice = skd_client_ident_load(c, k, &e));
	owner.name = "email:glo1@example.com";
	owner.address = NULL;
	owner.cert = glo->cert;
	member.name = "email:alice@example.com";
	member.address = "email:alice@example.com";
	member.cert = alice->cert;
	ck_assert_ptr_nonnull(b);
	ck_assert_msg((u = skd_client_new_use_kek(&p, &owner, 1, &e)) != NULL,
	    "%s", e.msg);
	ck_assert_msg((am = skd_client_new_add_member(gl, &member, &e)) !=
	    NULL, "%s", e.msg);
	ck_assert_int_gt(skd_cmc_body_add_control(b, SKD_OID_GL_USE_KEK, u),
	    0);
	ck_assert_int_gt(skd_cmc_body_add_control(b, SKD_OID_GL_ADD_MEMBER,
	    am), 0);
	ck_assert_int_eq(ASN1_INTEGER_set(tid, 1313), 1);
	ck_assert_int_gt(skd_cmc_body_add_transaction_id(b, tid), 0);
	ck_assert_int_gt(skd_cmc_body_add_sender_nonce(b, nonce,
	    sizeof(nonce)), 0);
	ck_assert(skd_cmc_body_encode(b, &der, &len));
	write_file(path, der, len);
	OPENSSL_free(der);
	ASN1_INTEGER_free(tid);
	SKD_GL_ADD_MEMBER_free(am);
	SKD_GL_USE_KEK_free(u);
	skd_cmc_body_free(b);
	skd_client_ident_free(glo);
	skd_client_ident_free(alice);
}

/* Every cMCStatusInfoExt of the DER PKIResponse in file path is success
 * (and there is at least one). */
static void
assert_all_success(const char *path)
{
	SKD_PKI_RESPONSE *pr;
	unsigned char *der;
	size_t len;
	int i, n = 0;

	der = read_file(path, &len);
	pr = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_RESPONSE), der, len);
	ck_assert_ptr_nonnull(pr);
	for (i = 0; i < sk_SKD_TAGGED_ATTRIBUTE_num(pr->controlSequence);
	    i++) {
		const SKD_TAGGED_ATTRIBUTE *ta =
		    sk_SKD_TAGGED_ATTRIBUTE_value(pr->controlSequence, i);
		SKD_CMC_STATUS_INFO_V2 *si;

		if (OBJ_obj2nid(ta->attrType) !=
		    skd_asn1_nid(SKD_OID_CMC_STATUS_INFO_V2))
			continue;
		si = skd_tagged_attribute_decode1(ta, 0,
		    ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2));
		ck_assert_ptr_nonnull(si);
		ck_assert_int_eq(ASN1_INTEGER_get(si->cMCStatus),
		    SKD_CMC_SUCCESS);
		SKD_CMC_STATUS_INFO_V2_free(si);
		n++;
	}
	ck_assert_int_gt(n, 0);
	SKD_PKI_RESPONSE_free(pr);
	OPENSSL_free(der);
}

/* Frames the bare layer in file in (content announced as oid) into a
 * ContentInfo in file out, for the openssl CLI; asserts it was bare. */
static void
frame(const char *in, const char *out, const char *oid)
{
	unsigned char *b, *ci = NULL;
	size_t blen, clen = 0;
	ASN1_OBJECT *t = OBJ_txt2obj(oid, 1);

	b = read_file(in, &blen);
	ck_assert_ptr_null(skd_cms_d2i_content_info(b, blen));
	ERR_clear_error();
	ck_assert(skd_cms_nested_content_info(&ci, &clen, NULL, t, b, blen,
	    0));
	write_file(out, ci, clen);
	OPENSSL_free(ci);
	OPENSSL_free(b);
	ASN1_OBJECT_free(t);
}

/*
 * Creates gl (closed, owner glo1, member alice) with a request built as
 * RFC 5652 5.2 nests layers, by the openssl CLI only:
 *   SignedData(eContentType id-envelopedData, eContent EnvelopedData(
 *     SignedData(PKIData)))
 * submitted with ldapadd as glo1 and processed by w; returns the request
 * id in id.
 */
static void
create_via_openssl(struct skd_worker *w, const char *gl,
    char id[SKD_STORE_ID_LEN])
{
	char body[4096], inner[4096], env_[4096], msg[4096];
	char *st;

	tmp(body, sizeof(body), "pkidata.der");
	tmp(inner, sizeof(inner), "inner.der");
	tmp(env_, sizeof(env_), "env.der");
	tmp(msg, sizeof(msg), "msg.der");
	write_create_body(body, gl);
	ossl_sign(body, inner, "glo1", OID_PKI_DATA, 1);
	ossl_encrypt_bare(inner, env_, "gla");
	ossl_sign(env_, msg, "glo1", OID_ENVELOPED, 0);
	/* the outer eContent is the bare EnvelopedData (version 0 or 2),
	 * not a ContentInfo (which would start with an OID) */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl asn1parse "
	    "-inform DER -in '%s' | awk '/OCTET STRING/ {print; exit}' | "
	    "grep -q 'HEX DUMP\\]:3082....0201'", msg), 0);
	ldapadd_request(id, msg, "GLO1");
	ck_assert(skd_worker_run_once(w, NULL));
	st = request_state(id);
	ck_assert_str_eq(st, "done");
	free(st);
}

/* RFC 5652 form in (built by openssl), RFC 5652 form out (opened by
 * openssl): the triple-wrapped glUseKEK succeeds, and the encrypted
 * answer is EnvelopedData(bare SignedData(PKIResponse)). */
START_TEST(test_openssl_triple_wrapped)
{
	struct skd_worker *w = worker_new();
	char id[SKD_STORE_ID_LEN], base[512], resp[4096], sd[4096],
	    sdci[4096], body[4096];
	char *gl = unique_gl();
	const char *pki = env("SKD_PKI_DIR");

	create_via_openssl(w, gl, id);
	/* the answer, read as docs/directory.md says */
	snprintf(base, sizeof(base), "skdRequestId=%s,ou=responses,%s", id,
	    env("SKD_BASE_DN"));
	tmp(resp, sizeof(resp), "resp.der");
	ck_assert(ldapsearch_message(resp, "GLO1", base, "base",
	    "(objectClass=*)"));
	/* 4.1 2.d.2.e.1: encrypted for the requester; the content type is
	 * id-signedData and the content the bare SignedData */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl asn1parse "
	    "-inform DER -in '%s' | grep -q ':pkcs7-signedData'", resp), 0);
	tmp(sd, sizeof(sd), "resp-sd.der");
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -decrypt "
	    "-binary -inform DER -in '%s' -recip %s/glo1.crt -inkey "
	    "%s/glo1.key -out '%s'", resp, pki, pki, sd), 0);
	tmp(sdci, sizeof(sdci), "resp-sd-ci.der");
	frame(sd, sdci, "1.2.840.113549.1.7.2");
	tmp(body, sizeof(body), "resp-body.der");
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -verify "
	    "-binary -inform DER -in '%s' -CAfile %s/ca.crt -purpose any "
	    "-out '%s' 2>/dev/null", sdci, pki, body), 0);
	assert_all_success(body);
	/* the GL exists with alice: her glKey entry verifies with openssl */
	tmp(resp, sizeof(resp), "glkey.der");
	snprintf(base, sizeof(base), "ou=groups,%s", env("SKD_BASE_DN"));
	{
		char filter[512];

		snprintf(filter, sizeof(filter), "(&(objectClass=skdGLKey)"
		    "(skdGLName=%s)(skdRecipientName=email:alice@example.com))",
		    gl);
		ck_assert(ldapsearch_message(resp, "ALICE", base, "sub",
		    filter));
	}
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -verify "
	    "-binary -inform DER -in '%s' -CAfile %s/ca.crt -purpose any "
	    "-out /dev/null 2>/dev/null", resp, pki), 0);
	skd_worker_free(w);
	free(gl);
}
END_TEST

/*
 * RFC 5275 5.1 2.c: alice acknowledges her glKey with a PKIResponse built
 * without skd's statusString (cMCStatusInfoExt success, bodyList the
 * glKey control, the message's transactionId echoed), signed by openssl
 * and added with ldapadd; the GLA records the key as acknowledged.
 */
START_TEST(test_openssl_ack)
{
	struct skd_worker *w = worker_new();
	struct skd_store *s;
	struct skd_store_member *m = NULL;
	struct skd_cmc_body *b;
	SKD_PKI_DATA *pd;
	const SKD_TAGGED_ATTRIBUTE *gk, *ta;
	SKD_GL_KEY *key;
	ASN1_INTEGER *tid;
	char id[SKD_STORE_ID_LEN], base[512], filter[512], glkey[4096],
	    pdf[4096], ackb[4096], ack[4096], kid[80], *st;
	char *gl = unique_gl();
	const char *pki = env("SKD_PKI_DIR");
	unsigned char *der, *out = NULL, *nonce = NULL;
	static const unsigned char fresh[16] = { 0xac, 0x0c };
	size_t len, olen = 0, nlen = 0;
	long bpid;
	int i;

	create_via_openssl(w, gl, id);
	tmp(glkey, sizeof(glkey), "glkey.der");
	snprintf(base, sizeof(base), "ou=groups,%s", env("SKD_BASE_DN"));
	snprintf(filter, sizeof(filter), "(&(objectClass=skdGLKey)"
	    "(skdGLName=%s)(skdRecipientName=email:alice@example.com))", gl);
	ck_assert(ldapsearch_message(glkey, "ALICE", base, "sub", filter));
	tmp(pdf, sizeof(pdf), "glkey-pkidata.der");
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -verify "
	    "-binary -inform DER -in '%s' -CAfile %s/ca.crt -purpose any "
	    "-out '%s' 2>/dev/null", glkey, pki, pdf), 0);
	der = read_file(pdf, &len);
	ck_assert_ptr_nonnull(pd = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_DATA),
	    der, len));
	OPENSSL_free(der);
	ck_assert_ptr_nonnull(gk = skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_GL_KEY, 0));
	bpid = ASN1_INTEGER_get(gk->bodyPartID);
	ck_assert_ptr_nonnull(key = skd_tagged_attribute_decode1(gk, 0,
	    ASN1_ITEM_rptr(SKD_GL_KEY)));
	for (i = 0; i < ASN1_STRING_length(key->glIdentifier->keyIdentifier) &&
	    i < 39; i++)
		snprintf(kid + 2 * i, 3, "%02x", ASN1_STRING_get0_data(
		    key->glIdentifier->keyIdentifier)[i]);
	SKD_GL_KEY_free(key);

	/* the acknowledgement: no statusString */
	ck_assert_ptr_nonnull(b = skd_cmc_body_new(1));
	ck_assert_int_gt(skd_cmc_body_add_status(b, SKD_CMC_SUCCESS, &bpid, 1,
	    NULL, -1, -1), 0);
	ck_assert_ptr_nonnull(ta = skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_CMC_TRANSACTION_ID, 0));
	ck_assert_ptr_nonnull(tid = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(ASN1_INTEGER)));
	ck_assert_int_gt(skd_cmc_body_add_transaction_id(b, tid), 0);
	ASN1_INTEGER_free(tid);
	if (skd_cmc_get_nonce(pd->controlSequence, SKD_OID_CMC_SENDER_NONCE,
	    &nonce, &nlen) == 1)
		ck_assert_int_gt(skd_cmc_body_add_recipient_nonce(b, nonce,
		    nlen), 0);
	OPENSSL_free(nonce);
	ck_assert_int_gt(skd_cmc_body_add_sender_nonce(b, fresh,
	    sizeof(fresh)), 0);
	ck_assert(skd_cmc_body_encode(b, &out, &olen));
	tmp(ackb, sizeof(ackb), "ack-body.der");
	write_file(ackb, out, olen);
	OPENSSL_free(out);
	skd_cmc_body_free(b);
	SKD_PKI_DATA_free(pd);
	tmp(ack, sizeof(ack), "ack.der");
	ossl_sign(ackb, ack, "alice", OID_PKI_RESPONSE, 0);
	ldapadd_request(id, ack, "ALICE");
	ck_assert(skd_worker_run_once(w, NULL));
	st = request_state(id);
	ck_assert_str_eq(st, "done");
	free(st);

	s = skd_store_open(NULL, env("SKD_LDAP_URI"), env("SKD_BASE_DN"),
	    SKD_STORE_BIND_SIMPLE, env("SKD_GLA_DN"), env("SKD_GLA_PW"));
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(skd_store_read_member(s, &m, gl, SKD_STORE_MEMBER,
	    "email:alice@example.com"), "%s", skd_store_errmsg(s));
	ck_assert_uint_eq(m->n_acks, 1);
	ck_assert_int_eq(strcasecmp(m->acks[0], kid), 0);
	skd_store_member_free(m);
	skd_store_close(s);
	skd_worker_free(w);
	free(gl);
}
END_TEST

Suite *
skd_suite_interop_gla_dir(void)
{
	Suite *s = suite_create("interop_gla_dir");
	TCase *tc;

	tc = tcase_create("openssl");
	tcase_add_unchecked_fixture(tc, setup_stack, NULL);
	tcase_add_checked_fixture(tc, skd_test_tmp_setup,
	    skd_test_tmp_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_openssl_triple_wrapped);
	tcase_add_test(tc, test_openssl_ack);
	suite_add_tcase(s, tc);
	return s;
}
