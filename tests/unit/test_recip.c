/*
 * test_recip.c: bare RecipientInfos (src/cms/cms_ri.c): build and open
 * round trips for ktri, kari and kekri, matching, refusals, strict DER.
 * The envelopes are also opened in-process with OpenSSL's own CMS_decrypt,
 * which parses our EnvelopedData independently of our templates.
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cms/skd_recip.h"
#include "skd_test.h"
#include "support/pki.h"

static const unsigned char kek_id_a[] = { 'g', 'l', 'k', '-', '1' };
static const unsigned char kek_id_b[] = { 'g', 'l', 'k', '-', '2' };

static void
setup_pki(void)
{
	(void)skd_test_pki_get();
}

static struct skd_ri_recipient
recip_cert(enum skd_test_who who, enum skd_ri_type type, unsigned int flags)
{
	struct skd_ri_recipient r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.cert = skd_test_pki_id(who)->cert;
	r.flags = flags;
	return r;
}

static struct skd_ri_recipient
recip_kek(const unsigned char *kek, size_t kek_len, const unsigned char *id,
    size_t id_len)
{
	struct skd_ri_recipient r;

	memset(&r, 0, sizeof(r));
	r.type = SKD_RI_KEKRI;
	r.kek = kek;
	r.kek_len = kek_len;
	r.kek_id = id;
	r.kek_id_len = id_len;
	return r;
}

static unsigned char *
build_ok(size_t *out_len, const unsigned char *key, size_t key_len,
    const struct skd_ri_recipient *r, size_t n)
{
	unsigned char *der = NULL;

	ck_assert_int_eq(skd_ri_build_set(&der, out_len, key, key_len, r, n),
	    1);
	ck_assert_ptr_nonnull(der);
	ck_assert_uint_gt(*out_len, 0);
	skd_test_assert_no_ossl_errors();
	return der;
}

/* open_cert_ok opens der as who and checks the key equals key. */
static void
open_cert_ok(const unsigned char *der, size_t der_len, enum skd_test_who who,
    const unsigned char *key, size_t key_len)
{
	const struct skd_test_ident *id = skd_test_pki_id(who);
	unsigned char *got = NULL;
	size_t got_len = 0;

	ck_assert_msg(skd_ri_open_cert(&got, &got_len, der, der_len, id->cert,
	    id->key) == 1, "%s cannot open", id->name);
	ck_assert_uint_eq(got_len, key_len);
	ck_assert_mem_eq(got, key, key_len);
	skd_ri_free_key(got, got_len);
	skd_test_assert_no_ossl_errors();
}

static void
open_cert_fails(const unsigned char *der, size_t der_len, X509 *cert,
    EVP_PKEY *pkey)
{
	unsigned char *got = (unsigned char *)"x";
	size_t got_len = 7;

	ck_assert_int_eq(skd_ri_open_cert(&got, &got_len, der, der_len, cert,
	    pkey), 0);
	ck_assert_ptr_null(got);
	ck_assert_uint_eq(got_len, 0);
	ck_assert_msg(ERR_peek_error() != 0, "failure without a reason");
	ERR_clear_error();
}

static void
open_kek_ok(const unsigned char *der, size_t der_len,
    const unsigned char *kek, size_t kek_len, const unsigned char *id,
    size_t id_len, const unsigned char *key, size_t key_len)
{
	unsigned char *got = NULL;
	size_t got_len = 0;

	ck_assert_int_eq(skd_ri_open_kek(&got, &got_len, der, der_len, kek,
	    kek_len, id, id_len), 1);
	ck_assert_uint_eq(got_len, key_len);
	ck_assert_mem_eq(got, key, key_len);
	skd_ri_free_key(got, got_len);
	skd_test_assert_no_ossl_errors();
}

static void
open_kek_fails(const unsigned char *der, size_t der_len,
    const unsigned char *kek, size_t kek_len, const unsigned char *id,
    size_t id_len)
{
	unsigned char *got = NULL;
	size_t got_len = 0;

	ck_assert_int_eq(skd_ri_open_kek(&got, &got_len, der, der_len, kek,
	    kek_len, id, id_len), 0);
	ck_assert_ptr_null(got);
	ERR_clear_error();
}

/* check_single_entry lists der, which must hold exactly one recipient, and
 * checks its type, version, rid kind and keyEncryptionAlgorithm. */
static void
check_single_entry(const unsigned char *der, size_t der_len,
    enum skd_ri_type type, int version, enum skd_ri_rid_type rid,
    int key_enc_nid)
{
	struct skd_ri_entry *list = NULL;
	size_t n = 0;

	ck_assert_int_eq(skd_ri_list_recipients(&list, &n, der, der_len), 1);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].type, type);
	ck_assert_int_eq(list[0].version, version);
	ck_assert_int_eq(list[0].rid_type, rid);
	ck_assert_int_eq(list[0].key_enc_nid, key_enc_nid);
	skd_ri_free_list(list, n);
	skd_test_assert_no_ossl_errors();
}

/* envelope_cms_ok wraps der and content into an EnvelopedData and opens it
 * with OpenSSL's CMS_decrypt as who. */
static void
envelope_cms_ok(const unsigned char *der, size_t der_len,
    const unsigned char *key, size_t key_len, enum skd_test_who who)
{
	static const char msg[] = "glKey proof content";
	const struct skd_test_ident *id = skd_test_pki_id(who);
	unsigned char *env = NULL;
	const unsigned char *p;
	size_t env_len = 0;
	CMS_ContentInfo *cms;
	BIO *out;
	char *data;
	long n;

	ck_assert_int_eq(skd_ri_envelope_with_key(&env, &env_len, der, der_len,
	    key, key_len, (const unsigned char *)msg, sizeof(msg) - 1), 1);
	p = env;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)env_len);
	ck_assert_ptr_nonnull(cms);
	ck_assert_ptr_eq(p, env + env_len);
	ck_assert_int_eq(OBJ_obj2nid(CMS_get0_type(cms)), NID_pkcs7_enveloped);
	out = BIO_new(BIO_s_mem());
	ck_assert_int_eq(CMS_decrypt(cms, id->key, id->cert, NULL, out, 0), 1);
	n = BIO_get_mem_data(out, &data);
	ck_assert_int_eq(n, (long)sizeof(msg) - 1);
	ck_assert_mem_eq(data, msg, sizeof(msg) - 1);
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(env);
	skd_test_assert_no_ossl_errors();
}

START_TEST(test_ktri_v15)
{
	struct skd_ri_recipient r = recip_cert(SKD_TP_ALICE, SKD_RI_KTRI, 0);
	unsigned char key[32], *der;
	size_t len;

	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	der = build_ok(&len, key, sizeof(key), &r, 1);
	open_cert_ok(der, len, SKD_TP_ALICE, key, sizeof(key));
	check_single_entry(der, len, SKD_RI_KTRI, 0, SKD_RI_RID_ISSUER_SERIAL,
	    NID_rsaEncryption);
	envelope_cms_ok(der, len, key, sizeof(key), SKD_TP_ALICE);
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_ktri_oaep)
{
	struct skd_ri_recipient r = recip_cert(SKD_TP_DAVE, SKD_RI_KTRI,
	    SKD_RI_OPT_OAEP);
	unsigned char key[16], *der;
	size_t len;

	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	der = build_ok(&len, key, sizeof(key), &r, 1);
	open_cert_ok(der, len, SKD_TP_DAVE, key, sizeof(key));
	check_single_entry(der, len, SKD_RI_KTRI, 0, SKD_RI_RID_ISSUER_SERIAL,
	    NID_rsaesOaep);
	envelope_cms_ok(der, len, key, sizeof(key), SKD_TP_DAVE);
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_ktri_ski)
{
	struct skd_ri_recipient r = recip_cert(SKD_TP_ALICE, SKD_RI_KTRI,
	    SKD_RI_OPT_SKI | SKD_RI_OPT_OAEP);
	const ASN1_OCTET_STRING *ski;
	struct skd_ri_entry *list = NULL;
	unsigned char key[24], *der;
	size_t len, n;

	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	der = build_ok(&len, key, sizeof(key), &r, 1);
	open_cert_ok(der, len, SKD_TP_ALICE, key, sizeof(key));
	/* RFC 5652 6.2.1: subjectKeyIdentifier makes the ktri version 2. */
	ck_assert_int_eq(skd_ri_list_recipients(&list, &n, der, len), 1);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].version, 2);
	ck_assert_int_eq(list[0].rid_type, SKD_RI_RID_SKI);
	ski = X509_get0_subject_key_id(skd_test_pki_id(SKD_TP_ALICE)->cert);
	ck_assert_ptr_nonnull(ski);
	ck_assert_uint_eq(list[0].id_len, (size_t)ASN1_STRING_length(ski));
	ck_assert_mem_eq(list[0].id, ASN1_STRING_get0_data(ski),
	    list[0].id_len);
	skd_ri_free_list(list, n);
	envelope_cms_ok(der, len, key, sizeof(key), SKD_TP_ALICE);
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_kari_p256)
{
	static const unsigned char ukm[] = "user keying material";
	struct skd_ri_recipient r[2];
	struct skd_ri_entry *list = NULL;
	unsigned char key[32], *der;
	size_t len, n;

	r[0] = recip_cert(SKD_TP_BOB, SKD_RI_KARI, 0);
	r[0].ukm = ukm;
	r[0].ukm_len = sizeof(ukm) - 1;
	r[1] = recip_cert(SKD_TP_GLO2, SKD_RI_KARI, SKD_RI_OPT_SKI);
	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	der = build_ok(&len, key, sizeof(key), r, 2);
	open_cert_ok(der, len, SKD_TP_BOB, key, sizeof(key));
	open_cert_ok(der, len, SKD_TP_GLO2, key, sizeof(key));
	ck_assert_int_eq(skd_ri_list_recipients(&list, &n, der, len), 1);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(list[0].type, SKD_RI_KARI);
	ck_assert_int_eq(list[0].version, 3);
	ck_assert_int_eq(list[0].key_enc_nid,
	    NID_dhSinglePass_stdDH_sha256kdf_scheme);
	ck_assert_int_eq(list[0].wrap_nid, NID_id_aes256_wrap);
	ck_assert_int_eq(list[0].rid_type + list[1].rid_type,
	    SKD_RI_RID_ISSUER_SERIAL + SKD_RI_RID_SKI);
	skd_ri_free_list(list, n);
	envelope_cms_ok(der, len, key, sizeof(key), SKD_TP_BOB);
	envelope_cms_ok(der, len, key, sizeof(key), SKD_TP_GLO2);
	OPENSSL_free(der);
}
END_TEST

/* RFC 5652 6.2.2: recipients on one curve without a ukm share one kari
 * (one ephemeral key, a recipientEncryptedKey each); another curve gets a
 * kari of its own; every one opens it, here and with OpenSSL's CMS. */
START_TEST(test_kari_shared)
{
	static const enum skd_test_who who[] = {
		SKD_TP_BOB, SKD_TP_ALICE, SKD_TP_GLO2, SKD_TP_CAROL
	};
	struct skd_ri_recipient r[4];
	unsigned char key[32], *der, *env = NULL;
	const unsigned char *p;
	STACK_OF(CMS_RecipientInfo) *ris;
	CMS_ContentInfo *cms;
	size_t len, env_len = 0, i;
	int j, kari = 0, reks = 0;

	r[0] = recip_cert(SKD_TP_BOB, SKD_RI_KARI, 0);
	r[1] = recip_cert(SKD_TP_ALICE, SKD_RI_KTRI, 0);
	r[2] = recip_cert(SKD_TP_GLO2, SKD_RI_KARI, SKD_RI_OPT_SKI);
	r[3] = recip_cert(SKD_TP_CAROL, SKD_RI_KARI, 0);
	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	der = build_ok(&len, key, sizeof(key), r, 4);
	for (i = 0; i < 4; i++) {
		open_cert_ok(der, len, who[i], key, sizeof(key));
		envelope_cms_ok(der, len, key, sizeof(key), who[i]);
	}
	/* OpenSSL's view: a ktri, a kari for P-256 with two keys, one for
	 * P-384 with one. */
	ck_assert_int_eq(skd_ri_envelope_with_key(&env, &env_len, der, len,
	    key, sizeof(key), (const unsigned char *)"x", 1), 1);
	p = env;
	ck_assert_ptr_nonnull(cms = d2i_CMS_ContentInfo(NULL, &p,
	    (long)env_len));
	ris = CMS_get0_RecipientInfos(cms);
	ck_assert_int_eq(sk_CMS_RecipientInfo_num(ris), 3);
	for (j = 0; j < sk_CMS_RecipientInfo_num(ris); j++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, j);
		int n;

		if (CMS_RecipientInfo_type(ri) != CMS_RECIPINFO_AGREE)
			continue;
		kari++;
		n = sk_CMS_RecipientEncryptedKey_num(
		    CMS_RecipientInfo_kari_get0_reks(ri));
		ck_assert(n == 1 || n == 2);
		reks += n;
	}
	ck_assert_int_eq(kari, 2);
	ck_assert_int_eq(reks, 3);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(env);
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_kari_p384)
{
	struct skd_ri_recipient r = recip_cert(SKD_TP_CAROL, SKD_RI_KARI, 0);
	unsigned char key[16], *der;
	size_t len;

	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	der = build_ok(&len, key, sizeof(key), &r, 1);
	open_cert_ok(der, len, SKD_TP_CAROL, key, sizeof(key));
	check_single_entry(der, len, SKD_RI_KARI, 3, SKD_RI_RID_ISSUER_SERIAL,
	    NID_dhSinglePass_stdDH_sha384kdf_scheme);
	envelope_cms_ok(der, len, key, sizeof(key), SKD_TP_CAROL);
	OPENSSL_free(der);
}
END_TEST

/* kekri with a previous KEK of 16, 24 and 32 bytes (_i = 0, 1, 2). */
START_TEST(test_kekri)
{
	size_t kek_len = 16 + 8 * (size_t)_i;
	unsigned char kek[32], other[32], key[32], *der;
	struct skd_ri_recipient r;
	size_t len;
	int nid = _i == 0 ? NID_id_aes128_wrap : _i == 1 ?
	    NID_id_aes192_wrap : NID_id_aes256_wrap;

	ck_assert_int_eq(RAND_bytes(kek, sizeof(kek)), 1);
	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	memcpy(other, kek, sizeof(other));
	other[0] ^= 1;
	r = recip_kek(kek, kek_len, kek_id_a, sizeof(kek_id_a));
	der = build_ok(&len, key, kek_len, &r, 1);
	open_kek_ok(der, len, kek, kek_len, kek_id_a, sizeof(kek_id_a), key,
	    kek_len);
	check_single_entry(der, len, SKD_RI_KEKRI, 4, SKD_RI_RID_KEKID, nid);
	/* Wrong KEK under the right id: the RFC 3394 check fails. */
	open_kek_fails(der, len, other, kek_len, kek_id_a, sizeof(kek_id_a));
	/* Right KEK under another id, and a KEK of another length. */
	open_kek_fails(der, len, kek, kek_len, kek_id_b, sizeof(kek_id_b));
	open_kek_fails(der, len, kek, kek_len == 32 ? 16 : 32, kek_id_a,
	    sizeof(kek_id_a));
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_mixed_five)
{
	unsigned char kek[16], key[32], *der;
	struct skd_ri_recipient r[5];
	struct skd_ri_entry *list = NULL;
	size_t len, n, i;
	int seen[5] = { 0 };

	ck_assert_int_eq(RAND_bytes(kek, sizeof(kek)), 1);
	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	r[0] = recip_cert(SKD_TP_ALICE, SKD_RI_KTRI, 0);
	r[1] = recip_cert(SKD_TP_DAVE, SKD_RI_KTRI,
	    SKD_RI_OPT_OAEP | SKD_RI_OPT_SKI);
	r[2] = recip_cert(SKD_TP_BOB, SKD_RI_KARI, 0);
	r[3] = recip_cert(SKD_TP_CAROL, SKD_RI_KARI, SKD_RI_OPT_SKI);
	r[4] = recip_kek(kek, sizeof(kek), kek_id_a, sizeof(kek_id_a));
	der = build_ok(&len, key, sizeof(key), r, 5);
	open_cert_ok(der, len, SKD_TP_ALICE, key, sizeof(key));
	open_cert_ok(der, len, SKD_TP_DAVE, key, sizeof(key));
	open_cert_ok(der, len, SKD_TP_BOB, key, sizeof(key));
	open_cert_ok(der, len, SKD_TP_CAROL, key, sizeof(key));
	open_kek_ok(der, len, kek, sizeof(kek), kek_id_a, sizeof(kek_id_a),
	    key, sizeof(key));
	ck_assert_int_eq(skd_ri_list_recipients(&list, &n, der, len), 1);
	ck_assert_uint_eq(n, 5);
	for (i = 0; i < n; i++) {
		ck_assert_int_le(list[i].type, SKD_RI_KEKRI);
		seen[list[i].type]++;
	}
	ck_assert_int_eq(seen[SKD_RI_KTRI], 2);
	ck_assert_int_eq(seen[SKD_RI_KARI], 2);
	ck_assert_int_eq(seen[SKD_RI_KEKRI], 1);
	skd_ri_free_list(list, n);
	envelope_cms_ok(der, len, key, sizeof(key), SKD_TP_CAROL);
	envelope_cms_ok(der, len, key, sizeof(key), SKD_TP_DAVE);
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_not_a_recipient)
{
	const struct skd_test_ident *dave = skd_test_pki_id(SKD_TP_DAVE);
	const struct skd_test_ident *carol = skd_test_pki_id(SKD_TP_CAROL);
	const struct skd_test_ident *stranger =
	    skd_test_pki_id(SKD_TP_STRANGER);
	struct skd_ri_recipient r[2];
	unsigned char key[16], *der;
	size_t len;

	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	r[0] = recip_cert(SKD_TP_ALICE, SKD_RI_KTRI, 0);
	r[1] = recip_cert(SKD_TP_BOB, SKD_RI_KARI, 0);
	der = build_ok(&len, key, sizeof(key), r, 2);
	open_cert_fails(der, len, dave->cert, dave->key);
	open_cert_fails(der, len, carol->cert, carol->key);
	open_cert_fails(der, len, stranger->cert, stranger->key);
	open_kek_fails(der, len, key, sizeof(key), kek_id_a, sizeof(kek_id_a));
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_wrong_key)
{
	const struct skd_test_ident *alice = skd_test_pki_id(SKD_TP_ALICE);
	const struct skd_test_ident *bob = skd_test_pki_id(SKD_TP_BOB);
	const struct skd_test_ident *dave = skd_test_pki_id(SKD_TP_DAVE);
	const struct skd_test_ident *glo2 = skd_test_pki_id(SKD_TP_GLO2);
	struct skd_ri_recipient r[2];
	unsigned char key[16], *der;
	size_t len;

	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	r[0] = recip_cert(SKD_TP_ALICE, SKD_RI_KTRI, 0);
	r[1] = recip_cert(SKD_TP_BOB, SKD_RI_KARI, 0);
	der = build_ok(&len, key, sizeof(key), r, 2);
	/* The named certificate with someone else's private key. */
	open_cert_fails(der, len, alice->cert, dave->key);
	open_cert_fails(der, len, bob->cert, glo2->key);
	open_cert_fails(der, len, alice->cert, NULL);
	OPENSSL_free(der);
}
END_TEST

/* The encryptedKey is the last field of the only RecipientInfo, so the last
 * byte of the DER belongs to it: flipping it keeps the DER valid. */
START_TEST(test_tampered_ek)
{
	unsigned char kek[24], key[32], *der;
	struct skd_ri_recipient r;
	const struct skd_test_ident *id = NULL;
	size_t len;

	ck_assert_int_eq(RAND_bytes(kek, sizeof(kek)), 1);
	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	switch (_i) {
	case 0:
		r = recip_cert(SKD_TP_ALICE, SKD_RI_KTRI, 0);
		break;
	case 1:
		r = recip_cert(SKD_TP_ALICE, SKD_RI_KTRI, SKD_RI_OPT_OAEP);
		break;
	case 2:
		r = recip_cert(SKD_TP_BOB, SKD_RI_KARI, 0);
		break;
	case 3:
		r = recip_cert(SKD_TP_CAROL, SKD_RI_KARI, 0);
		break;
	default:
		r = recip_kek(kek, sizeof(kek), kek_id_a, sizeof(kek_id_a));
		break;
	}
	der = build_ok(&len, key, sizeof(key), &r, 1);
	der[len - 1] ^= 0x01;
	if (r.type == SKD_RI_KEKRI) {
		open_kek_fails(der, len, kek, sizeof(kek), kek_id_a,
		    sizeof(kek_id_a));
	} else {
		id = _i == 2 ? skd_test_pki_id(SKD_TP_BOB) : _i == 3 ?
		    skd_test_pki_id(SKD_TP_CAROL) :
		    skd_test_pki_id(SKD_TP_ALICE);
		open_cert_fails(der, len, id->cert, id->key);
	}
	/* Restored, it opens: the failure was the tampering alone. */
	der[len - 1] ^= 0x01;
	if (id == NULL) {
		open_kek_ok(der, len, kek, sizeof(kek), kek_id_a,
		    sizeof(kek_id_a), key, sizeof(key));
	} else {
		open_cert_ok(der, len, _i == 2 ? SKD_TP_BOB : _i == 3 ?
		    SKD_TP_CAROL : SKD_TP_ALICE, key, sizeof(key));
	}
	OPENSSL_free(der);
}
END_TEST

/* every_parser_refuses checks that open and list both refuse der. */
static void
every_parser_refuses(const unsigned char *der, size_t len, const char *what)
{
	const struct skd_test_ident *alice = skd_test_pki_id(SKD_TP_ALICE);
	struct skd_ri_entry *list = NULL;
	unsigned char *got = NULL, *env = NULL;
	size_t n = 0, got_len = 0, env_len = 0;
	unsigned char key[16] = { 0 };

	ck_assert_msg(skd_ri_open_cert(&got, &got_len, der, len, alice->cert,
	    alice->key) == 0, "open accepted %s", what);
	ck_assert_msg(skd_ri_list_recipients(&list, &n, der, len) == 0,
	    "list accepted %s", what);
	ck_assert_msg(skd_ri_envelope_with_key(&env, &env_len, der, len, key,
	    sizeof(key), key, sizeof(key)) == 0, "envelope accepted %s", what);
	ck_assert_ptr_null(list);
	ck_assert_ptr_null(env);
	ERR_clear_error();
}

START_TEST(test_malformed)
{
	struct skd_ri_recipient r[2];
	unsigned char key[16], *der, *bad;
	size_t len, blen, hdr, body, l1, second;

	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	r[0] = recip_cert(SKD_TP_ALICE, SKD_RI_KTRI, 0);
	r[1] = recip_cert(SKD_TP_DAVE, SKD_RI_KTRI, 0);
	der = build_ok(&len, key, sizeof(key), r, 2);
	open_cert_ok(der, len, SKD_TP_ALICE, key, sizeof(key));
	ck_assert_uint_eq(der[0], 0x31);
	/* Two ktri of RSA-2048: over 256 bytes, so a long-form length. */
	ck_assert_uint_eq(der[1], 0x82);
	hdr = 4;
	body = ((size_t)der[2] << 8) | der[3];
	ck_assert_uint_eq(hdr + body, len);
	bad = OPENSSL_malloc(len + 16);

	/* Trailing bytes. */
	memcpy(bad, der, len);
	bad[len] = 0;
	every_parser_refuses(bad, len + 1, "trailing bytes");

	/* Indefinite length (BER): 31 80 <body> 00 00. */
	bad[0] = 0x31;
	bad[1] = 0x80;
	memcpy(bad + 2, der + hdr, body);
	bad[2 + body] = 0;
	bad[3 + body] = 0;
	blen = body + 4;
	every_parser_refuses(bad, blen, "indefinite length");

	/* Non-minimal length: 31 83 00 HH LL. */
	bad[0] = 0x31;
	bad[1] = 0x83;
	bad[2] = 0;
	memcpy(bad + 3, der + 2, len - 2);
	every_parser_refuses(bad, len + 1, "non-minimal length");

	/* Wrong outer tag: SEQUENCE instead of SET. */
	memcpy(bad, der, len);
	bad[0] = 0x30;
	every_parser_refuses(bad, len, "SEQUENCE tag");

	/* Wrong tag on the first RecipientInfo ([5] is no alternative). */
	memcpy(bad, der, len);
	ck_assert_uint_eq(bad[hdr], 0x30);
	bad[hdr] = 0xa5;
	every_parser_refuses(bad, len, "unknown RecipientInfo tag");

	/* ktri version 2 with issuerAndSerialNumber (RFC 5652 6.2.1 says 0).
	 * The last element is changed so that the SET stays sorted. */
	memcpy(bad, der, len);
	ck_assert_uint_eq(bad[hdr + 1], 0x82);
	l1 = 4 + (((size_t)bad[hdr + 2] << 8) | bad[hdr + 3]);
	second = hdr + l1;
	ck_assert_uint_eq(bad[second], 0x30);
	ck_assert_uint_eq(bad[second + 1], 0x82);
	ck_assert_mem_eq(bad + second + 4, "\x02\x01\x00", 3);
	bad[second + 6] = 0x02;
	every_parser_refuses(bad, len, "ktri version 2 with issuerAndSerial");

	/* Truncated. */
	every_parser_refuses(der, len - 1, "truncated");

	/* Empty SET: RecipientInfos is SIZE (1..MAX). */
	bad[0] = 0x31;
	bad[1] = 0x00;
	every_parser_refuses(bad, 2, "empty SET");
	every_parser_refuses(bad, 0, "nothing");
	OPENSSL_free(bad);
	OPENSSL_free(der);
}
END_TEST

/* A DER SET OF is sorted; swapping two elements is BER, not DER. */
START_TEST(test_unsorted_set)
{
	struct skd_ri_recipient r[2];
	unsigned char key[16], *der, *bad;
	size_t len, first, l1;

	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	r[0] = recip_cert(SKD_TP_ALICE, SKD_RI_KTRI, 0);
	r[1] = recip_cert(SKD_TP_BOB, SKD_RI_KARI, 0);
	der = build_ok(&len, key, sizeof(key), r, 2);
	ck_assert_uint_eq(der[1], 0x82);
	/* The first element: tag, 82 HH LL, body. */
	first = 4;
	ck_assert_uint_eq(der[first + 1], 0x82);
	l1 = 4 + (((size_t)der[first + 2] << 8) | der[first + 3]);
	ck_assert_uint_lt(first + l1, len);
	bad = OPENSSL_malloc(len);
	memcpy(bad, der, first);
	memcpy(bad + first, der + first + l1, len - first - l1);
	memcpy(bad + len - l1, der + first, l1);
	ck_assert_mem_ne(bad, der, len);
	every_parser_refuses(bad, len, "unsorted SET OF");
	OPENSSL_free(bad);
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_build_refusals)
{
	unsigned char key[33] = { 0 }, *der = NULL;
	struct skd_ri_recipient r;
	size_t len = 0;

	r = recip_cert(SKD_TP_ALICE, SKD_RI_KTRI, 0);
	/* Key lengths other than 16, 24, 32. */
	ck_assert_int_eq(skd_ri_build_set(&der, &len, key, 17, &r, 1), 0);
	ck_assert_int_eq(skd_ri_build_set(&der, &len, key, 33, &r, 1), 0);
	ck_assert_int_eq(skd_ri_build_set(&der, &len, key, 0, &r, 1), 0);
	/* No recipients. */
	ck_assert_int_eq(skd_ri_build_set(&der, &len, key, 16, &r, 0), 0);
	/* ktri with an EC certificate, kari with an RSA one. */
	r = recip_cert(SKD_TP_BOB, SKD_RI_KTRI, 0);
	ck_assert_int_eq(skd_ri_build_set(&der, &len, key, 16, &r, 1), 0);
	r = recip_cert(SKD_TP_ALICE, SKD_RI_KARI, 0);
	ck_assert_int_eq(skd_ri_build_set(&der, &len, key, 16, &r, 1), 0);
	/* kekri: bad KEK length, empty id; pwri is never built. */
	r = recip_kek(key, 20, kek_id_a, sizeof(kek_id_a));
	ck_assert_int_eq(skd_ri_build_set(&der, &len, key, 16, &r, 1), 0);
	r = recip_kek(key, 16, kek_id_a, 0);
	ck_assert_int_eq(skd_ri_build_set(&der, &len, key, 16, &r, 1), 0);
	r.type = SKD_RI_PWRI;
	ck_assert_int_eq(skd_ri_build_set(&der, &len, key, 16, &r, 1), 0);
	ck_assert_ptr_null(der);
	ck_assert_uint_eq(len, 0);
	ERR_clear_error();
}
END_TEST

/* A build that fails after a ktri and a kari were made frees them; their
 * issuerAndSerialNumbers borrow the certificates' issuer and serial
 * (cms_ri.c SKD_RI_IAS), which stay the certificates' (ASan and valgrind
 * see a double free), and the same certificates build and open again. */
START_TEST(test_build_refusal_frees_borrowed)
{
	unsigned char key[32], *der = NULL;
	struct skd_ri_recipient r[3];
	size_t len = 0;

	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	r[0] = recip_cert(SKD_TP_ALICE, SKD_RI_KTRI, 0);
	r[1] = recip_cert(SKD_TP_BOB, SKD_RI_KARI, 0);
	/* kari with an RSA certificate: refused third. */
	r[2] = recip_cert(SKD_TP_ALICE, SKD_RI_KARI, 0);
	ck_assert_int_eq(skd_ri_build_set(&der, &len, key, sizeof(key), r, 3),
	    0);
	ck_assert_ptr_null(der);
	ERR_clear_error();
	der = build_ok(&len, key, sizeof(key), r, 2);
	open_cert_ok(der, len, SKD_TP_ALICE, key, sizeof(key));
	open_cert_ok(der, len, SKD_TP_BOB, key, sizeof(key));
	envelope_cms_ok(der, len, key, sizeof(key), SKD_TP_ALICE);
	OPENSSL_free(der);
}
END_TEST

/* 200 kekri of one key (RFC 5275 5: rekey under each member's previous
 * KEK): members open their own entry only; list and free paths run. */
START_TEST(test_many_kekri)
{
	enum { N = 200 };
	unsigned char keks[N][16], ids[N][4], key[16], *der;
	struct skd_ri_recipient r[N];
	struct skd_ri_entry *list = NULL;
	size_t len, n, i;

	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	ck_assert_int_eq(RAND_bytes(&keks[0][0], sizeof(keks)), 1);
	for (i = 0; i < N; i++) {
		ids[i][0] = (unsigned char)(i >> 24);
		ids[i][1] = (unsigned char)(i >> 16);
		ids[i][2] = (unsigned char)(i >> 8);
		ids[i][3] = (unsigned char)i;
		r[i] = recip_kek(keks[i], 16, ids[i], 4);
	}
	der = build_ok(&len, key, sizeof(key), r, N);
	for (i = 0; i < N; i += 37) {
		open_kek_ok(der, len, keks[i], 16, ids[i], 4, key,
		    sizeof(key));
	}
	/* One member's KEK does not open another member's entry. */
	open_kek_fails(der, len, keks[1], 16, ids[2], 4);
	ck_assert_int_eq(skd_ri_list_recipients(&list, &n, der, len), 1);
	ck_assert_uint_eq(n, N);
	skd_ri_free_list(list, n);
	OPENSSL_free(der);
}
END_TEST

Suite *
skd_suite_recip(void)
{
	Suite *s = suite_create("recip");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup_pki, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ktri_v15);
	tcase_add_test(tc, test_ktri_oaep);
	tcase_add_test(tc, test_ktri_ski);
	tcase_add_test(tc, test_kari_p256);
	tcase_add_test(tc, test_kari_p384);
	tcase_add_test(tc, test_kari_shared);
	tcase_add_loop_test(tc, test_kekri, 0, 3);
	tcase_add_test(tc, test_mixed_five);
	tcase_add_test(tc, test_not_a_recipient);
	tcase_add_test(tc, test_wrong_key);
	tcase_add_loop_test(tc, test_tampered_ek, 0, 5);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_unsorted_set);
	tcase_add_test(tc, test_build_refusals);
	tcase_add_test(tc, test_build_refusal_frees_borrowed);
	tcase_add_test(tc, test_many_kekri);
	suite_add_tcase(s, tc);
	return s;
}
