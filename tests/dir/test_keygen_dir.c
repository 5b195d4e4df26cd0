/*
 * test_keygen_dir.c: CMC server-side key generation end to end through
 * the worker against a real slapd: alice asks for a key (scenario 2.3,
 * an ephemeral bare key; 2.4, her own certificate), reads the answer as
 * herself, and the openssl CLI checks it: the EnvelopedData opened with
 * `openssl cms -decrypt`, the CA's SignedData verified, the
 * AsymmetricKeyPackage read with `openssl asn1parse`, the key matched to
 * the certificate (`openssl pkey -pubout` against `openssl x509
 * -pubkey`), the certificate verified with `openssl verify`.  Then the
 * hostile cases a directory adds: the request replayed under a new id,
 * bob reading alice's answer.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "asn1/skd_asn1.h"
#include "client/skd_keygen.h"
#include "cms/skd_cmc.h"
#include "cms/skd_cms.h"
#include "test_store_common.h"
#include "worker/skd_worker.h"

static const unsigned char nonce[SKD_KEYGEN_NONCE_LEN] = "keygen-dir-nonce";
static const unsigned char ski[] = { 0x5e, 0x5e, 0x01 };

/* Sleeps ms milliseconds. */
static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static const char *
env(const char *k)
{
	return skd_test_stack_need(k);
}

static void
fixture(void)
{
	(void)skd_test_stack_get();
}

static X509 *
pem_cert(const char *name)
{
	char p[4096];
	FILE *f;
	X509 *x;

	snprintf(p, sizeof(p), "%s/%s.crt", env("SKD_PKI_DIR"), name);
	ck_assert_ptr_nonnull(f = fopen(p, "r"));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	return x;
}

static EVP_PKEY *
pem_key(const char *name)
{
	char p[4096];
	FILE *f;
	EVP_PKEY *k;

	snprintf(p, sizeof(p), "%s/%s.key", env("SKD_PKI_DIR"), name);
	ck_assert_ptr_nonnull(f = fopen(p, "r"));
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(k);
	return k;
}

/* Writes the keygen worker's configuration; returns its path (free). */
static char *
keygen_config(void)
{
	const char *pki = env("SKD_PKI_DIR");
	char pw[4096], *text, *path;

	snprintf(pw, sizeof(pw), "%s/gla.pw", skd_test_tmp);
	ck_assert(skd_test_write_file(pw, env("SKD_GLA_PW"),
	    strlen(env("SKD_GLA_PW"))));
	ck_assert_int_gt(asprintf(&text,
	    "ldap_uri = %s\nbind = simple\nbind_dn = %s\n"
	    "bind_password_file = %s\nbase_dn = %s\n"
	    "gla_cert = %s/gla.crt\ngla_key = %s/gla.key\n"
	    "ca_file = %s/ca.crt\nlog_level = warning\n"
	    "issuer_cert = %s/ca.crt\nissuer_key = %s/ca.key\n"
	    "keygen_ca_cert = %s/ca.crt\nkeygen_ca_key = %s/ca.key\n"
	    "keygen_days = 30\nkeygen_recovery_cert = %s/gla.crt\n"
	    "keygen_recovery_key = %s/gla.key\n"
	    "keygen_recovery_officers = %s/bob.crt\n",
	    env("SKD_LDAP_URI"), env("SKD_GLA_DN"), pw, env("SKD_BASE_DN"),
	    pki, pki, pki, pki, pki, pki, pki, pki, pki, pki), 0);
	ck_assert_int_gt(asprintf(&path, "%s/keygen.conf", skd_test_tmp), 0);
	ck_assert(skd_test_write_file(path, text, strlen(text)));
	free(text);
	return path;
}

static struct skd_worker *
keygen_worker_extra(const char *extra)
{
	char *path = keygen_config(), err[512];
	struct skd_worker_config *c;
	struct skd_worker *w;
	FILE *f;

	if (extra != NULL) {
		ck_assert_ptr_nonnull(f = fopen(path, "a"));
		fputs(extra, f);
		fclose(f);
	}

	c = skd_worker_config_load(err, sizeof(err), path);
	ck_assert_msg(c != NULL, "config: %s", err);
	w = skd_worker_new(err, sizeof(err), c);
	ck_assert_msg(w != NULL, "worker: %s", err);
	skd_worker_config_free(c);
	free(path);
	return w;
}

static struct skd_worker *
keygen_worker(void)
{
	return keygen_worker_extra(NULL);
}

/* The EnvelopedData of the answer (cmsSequence item 1), for the CLI. */
static void
write_shroud(const unsigned char *ans, size_t len, const char *path)
{
	struct skd_cms_verified *v = NULL;
	SKD_PKI_RESPONSE *pr;
	unsigned char *der = NULL;
	int n;

	ck_assert_int_eq(skd_cms_verify(&v, ans, len, NULL, time(NULL)), 1);
	pr = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_RESPONSE), v->content,
	    v->content_len);
	ck_assert_ptr_nonnull(pr);
	ck_assert_int_eq(sk_SKD_TAGGED_CONTENT_INFO_num(pr->cmsSequence), 1);
	n = i2d_CMS_ContentInfo(sk_SKD_TAGGED_CONTENT_INFO_value(
	    pr->cmsSequence, 0)->contentInfo, &der);
	ck_assert_int_gt(n, 0);
	ck_assert(skd_test_write_file(path, der, (size_t)n));
	OPENSSL_free(der);
	SKD_PKI_RESPONSE_free(pr);
	skd_cms_verified_free(v);
}

static void
write_pem_key(const char *path, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_PKCS8PrivateKey(f, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	fclose(f);
}

static void
write_pem_cert(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_X509(f, x), 1);
	fclose(f);
}

/* Submits r as alice, runs the worker, returns the answer (malloc'd). */
static unsigned char *
round_trip(struct skd_worker *w, const struct skd_keygen_req *r,
    size_t *out_len, char id[SKD_STORE_ID_LEN], unsigned char **out_req,
    size_t *out_req_len)
{
	struct skd_store *alice = store_open_as("SKD_ALICE");
	struct skd_store_blob *msgs = NULL;
	X509 *ac = pem_cert("alice");
	EVP_PKEY *ak = pem_key("alice");
	unsigned char *der = NULL, *ans;
	size_t len = 0, n = 0;

	ck_assert_int_eq(skd_keygen_request(&der, &len, r, 42, nonce, ac, ak,
	    NULL, time(NULL)), 1);
	ck_assert_msg(skd_store_add_request(alice, id, der, len,
	    env("SKD_ALICE_DN")), "%s", skd_store_errmsg(alice));
	ck_assert(skd_worker_process_one(w, id));
	ck_assert_msg(skd_store_read_response(alice, &msgs, &n, id),
	    "response: %s", skd_store_errmsg(alice));
	ck_assert_uint_eq(n, 1);
	ans = malloc(msgs[0].len);
	memcpy(ans, msgs[0].data, msgs[0].len);
	*out_len = msgs[0].len;
	skd_store_blobs_free(msgs, n);
	if (out_req != NULL) {
		*out_req = der;
		*out_req_len = len;
	} else {
		OPENSSL_free(der);
	}
	X509_free(ac);
	EVP_PKEY_free(ak);
	skd_store_close(alice);
	return ans;
}

/* 2.3 through the worker, checked with the openssl CLI. */
START_TEST(test_bare_key_cli)
{
	const char *pki = env("SKD_PKI_DIR"), *d = skd_test_tmp;
	struct skd_worker *w = keygen_worker();
	struct skd_keygen_req r;
	struct skd_keygen_result res;
	struct skd_shroud_opener who;
	struct skd_store *bob = store_open_as("SKD_BOB");
	struct skd_store_blob *msgs = NULL;
	EVP_PKEY *eph = skd_kgen_generate(_i == 0 ? SKD_KGEN_P256 :
	    SKD_KGEN_RSA2048);
	X509_STORE *trust = X509_STORE_new();
	char id[SKD_STORE_ID_LEN], id2[SKD_STORE_ID_LEN], p[4096], *a = NULL,
	    *b = NULL, *out = NULL;
	unsigned char *ans, *req = NULL;
	size_t len, req_len = 0, n = 0, olen = 0;

	memset(&r, 0, sizeof(r));
	r.type = _i == 0 ? SKD_KGEN_P256 : SKD_KGEN_RSA2048;
	r.shroud = SKD_KEYGEN_BARE_KEY;
	r.bare_key = eph;
	r.ski = ski;
	r.ski_len = sizeof(ski);
	ans = round_trip(w, &r, &len, id, &req, &req_len);
	snprintf(p, sizeof(p), "%s/ca.crt", pki);
	ck_assert_int_eq(X509_STORE_load_file(trust, p), 1);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	ck_assert_msg(skd_keygen_open_response(&res, ans, len, nonce, &who,
	    trust, time(NULL)), "%s", res.text);
	ck_assert_int_eq(res.status, 0);
	/* The openssl CLI, independently. */
	snprintf(p, sizeof(p), "%s/resp.der", d);
	ck_assert(skd_test_write_file(p, ans, len));
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -verify "
	    "-inform DER -in %s/resp.der -CAfile %s/ca.crt -purpose any "
	    "-binary -out %s/pkiresp.der 2>/dev/null", d, pki, d), 0);
	snprintf(p, sizeof(p), "%s/shroud.der", d);
	write_shroud(ans, len, p);
	snprintf(p, sizeof(p), "%s/eph.pem", d);
	write_pem_key(p, eph);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -decrypt "
	    "-inform DER -in %s/shroud.der -inkey %s/eph.pem -binary "
	    "-out %s/sd.der", d, d, d), 0);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -verify "
	    "-inform DER -in %s/sd.der -CAfile %s/ca.crt -purpose any "
	    "-binary -out %s/akp.der 2>/dev/null", d, pki, d), 0);
	ck_assert_int_eq(skd_test_run(&out, &olen, "openssl asn1parse "
	    "-inform DER -in %s/akp.der", d), 0);
	/* SEQUENCE OF one OneAsymmetricKey v2 with [1] publicKey. */
	ck_assert_ptr_nonnull(strstr(out, "INTEGER           :01"));
	ck_assert_ptr_nonnull(strstr(out, _i == 0 ? "id-ecPublicKey" :
	    "rsaEncryption"));
	ck_assert_ptr_nonnull(strstr(out, "cont [ 1 ]"));
	free(out);
	snprintf(p, sizeof(p), "%s/key.pem", d);
	write_pem_key(p, res.key);
	snprintf(p, sizeof(p), "%s/cert.pem", d);
	write_pem_cert(p, res.cert);
	ck_assert_int_eq(skd_test_run(&a, &olen, "openssl pkey -in %s/key.pem "
	    "-pubout", d), 0);
	ck_assert_int_eq(skd_test_run(&b, &olen, "openssl x509 -in "
	    "%s/cert.pem -pubkey -noout", d), 0);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl verify -CAfile "
	    "%s/ca.crt %s/cert.pem >/dev/null", pki, d), 0);
	/* The certificate is published on alice's entry (step 3). */
	{
		unsigned char *cd = NULL, *b64;
		int cl = i2d_X509(res.cert, &cd);

		b64 = malloc(4 * ((size_t)cl + 2) / 3 + 4);
		EVP_EncodeBlock(b64, cd, cl);
		ck_assert_int_eq(skd_test_run(&out, &olen, "ldapsearch -LLL -x "
		    "-o ldif-wrap=no -H '%s' -D '%s' -w '%s' -b '%s' -s base "
		    "'userCertificate;binary'", env("SKD_LDAP_URI"),
		    env("SKD_BOB_DN"), env("SKD_BOB_PW"), env("SKD_ALICE_DN")), 0);
		ck_assert_msg(strstr(out, (char *)b64) != NULL,
		    "issued certificate not on alice's entry: %s", out);
		free(out);
		free(b64);
		OPENSSL_free(cd);
	}
	/* bob cannot read alice's answer. */
	ck_assert(!skd_store_read_response(bob, &msgs, &n, id));
	/* The same message again under a new request id: a replay, no
	 * second key. */
	{
		struct skd_store *alice = store_open_as("SKD_ALICE");
		struct skd_keygen_result again;

		ck_assert(skd_store_add_request(alice, id2, req, req_len,
		    env("SKD_ALICE_DN")));
		ck_assert(skd_worker_process_one(w, id2));
		ck_assert(skd_store_read_response(alice, &msgs, &n, id2));
		ck_assert_int_eq(skd_keygen_open_response(&again, msgs[0].data,
		    msgs[0].len, nonce, &who, trust, time(NULL)), 1);
		ck_assert_int_eq(again.status, SKD_CMC_FAILED);
		ck_assert_ptr_null(again.key);
		skd_keygen_result_clear(&again);
		skd_store_blobs_free(msgs, n);
		skd_store_close(alice);
	}
	free(a);
	free(b);
	free(ans);
	OPENSSL_free(req);
	skd_keygen_result_clear(&res);
	X509_STORE_free(trust);
	EVP_PKEY_free(eph);
	skd_store_close(bob);
	skd_worker_free(w);
}
END_TEST

/* 2.4.1: alice's own certificate protects the key; openssl cms -decrypt
 * with her key and certificate opens it. */
START_TEST(test_cert_shroud_cli)
{
	const char *pki = env("SKD_PKI_DIR"), *d = skd_test_tmp;
	struct skd_worker *w = keygen_worker();
	struct skd_keygen_req r;
	X509 *ac = pem_cert("alice");
	char id[SKD_STORE_ID_LEN], p[4096];
	unsigned char *ans;
	size_t len;

	memset(&r, 0, sizeof(r));
	r.type = SKD_KGEN_P384;
	r.shroud = SKD_KEYGEN_CERT;
	r.shroud_cert = ac;
	ans = round_trip(w, &r, &len, id, NULL, NULL);
	snprintf(p, sizeof(p), "%s/shroud.der", d);
	write_shroud(ans, len, p);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -decrypt "
	    "-inform DER -in %s/shroud.der -recip %s/alice.crt "
	    "-inkey %s/alice.key -binary -out %s/sd.der", d, pki, pki, d), 0);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -verify "
	    "-inform DER -in %s/sd.der -CAfile %s/ca.crt -purpose any "
	    "-binary -out %s/akp.der 2>/dev/null", d, pki, d), 0);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl asn1parse "
	    "-inform DER -in %s/akp.der | grep -q secp384r1", d), 0);
	free(ans);
	X509_free(ac);
	skd_worker_free(w);
}
END_TEST

/* skd keygen (the CLI) against the daemon (skd gla run), then the
 * written key and certificate with the openssl CLI; the key encrypted
 * under a passphrase.  Loop 0, 1: PKCS#10 templates; 2: a CRMF template
 * (--template crmf, RFC 4211) asking for P-384. */
START_TEST(test_cli_keygen)
{
	static const char *const type[] = { "p256", "rsa2048", "p384" };
	const char *pki = env("SKD_PKI_DIR"), *d = skd_test_tmp;
	char *conf = keygen_config(), *out = NULL, *a = NULL, *b = NULL;
	size_t olen = 0;
	int rc;

	rc = skd_test_run(&out, &olen, "'%s' gla run --config '%s' "
	    ">'%s/gla.log' 2>&1 & w=$!; "
	    "echo 'pass phrase' | '%s' keygen --env '%s/env' --as alice "
	    "--cert '%s/alice.crt' --key '%s/alice.key' --CAfile '%s/ca.crt' "
	    "--type %s --out '%s/k.pem' --out-cert '%s/c.pem' %s"
	    "--passphrase-fd 0 --timeout 30 2>&1; rc=$?; kill $w; wait $w; "
	    "exit $rc", skd_test_bin(), conf, d, skd_test_bin(),
	    skd_test_stack_dir(), pki, pki, pki, type[_i], d, d,
	    _i == 2 ? "--template crmf " : "");
	ck_assert_msg(rc == 0, "skd keygen: %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "issued"));
	free(out);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "grep -q 'BEGIN ENCRYPTED "
	    "PRIVATE KEY' '%s/k.pem' && test \"$(stat -c %%a '%s/k.pem')\" = "
	    "600", d, d), 0);
	ck_assert_int_eq(skd_test_run(&a, &olen, "openssl pkey -in '%s/k.pem' "
	    "-passin 'pass:pass phrase' -pubout", d), 0);
	ck_assert_int_eq(skd_test_run(&b, &olen, "openssl x509 -in "
	    "'%s/c.pem' -pubkey -noout", d), 0);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl verify -CAfile "
	    "'%s/ca.crt' '%s/c.pem' >/dev/null", pki, d), 0);
	/* The type asked for (CRMF: the template's publicKey algorithm). */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl x509 -in "
	    "'%s/c.pem' -noout -text | grep -q '%s'", d, _i == 0 ?
	    "prime256v1" : _i == 1 ? "(2048 bit)" : "secp384r1"), 0);
	/* rsa3072 cannot ride in CRMF (its empty key has no size), an
	 * unknown template: usage errors, nothing sent. */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' keygen --env '%s/env' "
	    "--as alice --cert '%s/alice.crt' --key '%s/alice.key' "
	    "--CAfile '%s/ca.crt' --type %s --template %s --out x "
	    "--out-cert y 2>/dev/null", skd_test_bin(), skd_test_stack_dir(),
	    pki, pki, pki, _i == 2 ? "rsa3072" : "p256",
	    _i == 2 ? "crmf" : "pkcs7"), 2);
	/* A key type not offered: refused before anything is sent. */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "'%s' keygen --env '%s/env' "
	    "--as alice --cert '%s/alice.crt' --key '%s/alice.key' "
	    "--CAfile '%s/ca.crt' --type dsa --out x --out-cert y 2>/dev/null",
	    skd_test_bin(), skd_test_stack_dir(), pki, pki, pki), 2);
	free(a);
	free(b);
	free(conf);
}
END_TEST

/* Enrolls secret id for the person of dn_var (secret NULL: generated,
 * returned malloc'd). */
static char *
enroll_for(const char *id, const char *secret, const char *dn_var)
{
	char *out = NULL;
	size_t olen = 0;
	int rc;

	rc = skd_test_run(&out, &olen, "%s%s%s'%s' admin enroll-secret "
	    "--env '%s/env' --as gla --gla-cert '%s/gla.crt' --secret-id '%s' "
	    "--identity 'dirName:%s' --expires 2%s 2>/dev/null",
	    secret != NULL ? "echo '" : "", secret != NULL ? secret : "",
	    secret != NULL ? "' | " : "", skd_test_bin(), skd_test_stack_dir(),
	    env("SKD_PKI_DIR"), id, env(dn_var),
	    secret != NULL ? " --secret-fd 0" : "");
	ck_assert_msg(rc == 0, "enroll-secret: %d", rc);
	if (secret != NULL) {
		free(out);
		return NULL;
	}
	ck_assert_uint_gt(olen, 8);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static char *
enroll(const char *id, const char *secret)
{
	return enroll_for(id, secret, "SKD_CAROL_DN");
}

/* 2.1 with the CLI: carol, who has no certificate, gets a key with an
 * enrolled secret; the secret is single use; the certificate lands on
 * her entry.  Then the same in-process, the shroud opened with
 * `openssl cms -decrypt -pwri_password`. */
START_TEST(test_secret_cli)
{
	const char *pki = env("SKD_PKI_DIR"), *d = skd_test_tmp;
	char *conf = keygen_config(), *out = NULL, *secret, id[64], id2[64];
	char sid[SKD_STORE_ID_LEN], rid[SKD_STORE_ID_LEN], p[4096];
	struct skd_store *carol = store_open_as("SKD_CAROL");
	struct skd_store_blob *msgs = NULL;
	struct skd_worker *w;
	struct skd_keygen_req r;
	unsigned char *der = NULL;
	size_t olen = 0, len = 0, n = 0;
	int rc;

	skd_store_new_id(sid);
	snprintf(id, sizeof(id), "carol-%s", sid);
	secret = enroll(id, NULL);
	rc = skd_test_run(&out, &olen, "'%s' gla run --config '%s' "
	    ">'%s/gla.log' 2>&1 & w=$!; for i in 1 2; do "
	    "echo '%s' | '%s' keygen --env '%s/env' --as carol "
	    "--CAfile '%s/ca.crt' --type p256 --secret-id '%s' --secret-fd 0 "
	    "--shroud secret --out \"%s/k$i.pem\" --out-cert \"%s/c$i.pem\" "
	    "--timeout 30 2>&1; echo \"rc$i=$?\"; done; kill $w; wait $w",
	    skd_test_bin(), conf, d, secret, skd_test_bin(),
	    skd_test_stack_dir(), pki, id, d, d);
	(void)rc;
	/* The first works, the second (the same secret again) is refused. */
	ck_assert_msg(strstr(out, "rc1=0") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "rc2=1") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "badSharedSecret") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(skd_test_run(&out, &olen, "openssl x509 -in "
	    "'%s/c1.pem' -noout -subject -nameopt RFC2253", d), 0);
	ck_assert_msg(strcasestr(out, env("SKD_CAROL_DN")) != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl verify -CAfile "
	    "'%s/ca.crt' '%s/c1.pem' >/dev/null", pki, d), 0);
	ck_assert_int_eq(skd_test_run(&out, &olen, "ldapsearch -LLL -x -H '%s' "
	    "-D '%s' -w '%s' -b '%s' -s base 'userCertificate;binary' | "
	    "grep -c '^userCertificate;binary::'", env("SKD_LDAP_URI"),
	    env("SKD_CAROL_DN"), env("SKD_CAROL_PW"), env("SKD_CAROL_DN")), 0);
	free(out);

	/* In-process, a secret we know, the shroud for the openssl CLI. */
	snprintf(id2, sizeof(id2), "carol-pw-%s", sid);
	enroll(id2, "known secret 2.1");
	memset(&r, 0, sizeof(r));
	r.type = SKD_KGEN_RSA2048;
	r.shroud = SKD_KEYGEN_SHARED_SECRET;
	r.secret_id = id2;
	r.secret = (const unsigned char *)"known secret 2.1";
	r.secret_len = strlen("known secret 2.1");
	ck_assert_int_eq(skd_keygen_request(&der, &len, &r, 5, nonce, NULL,
	    NULL, NULL, time(NULL)), 1);
	ck_assert(skd_store_add_request(carol, rid, der, len,
	    env("SKD_CAROL_DN")));
	w = keygen_worker();
	ck_assert(skd_worker_process_one(w, rid));
	ck_assert_msg(skd_store_read_response(carol, &msgs, &n, rid), "%s",
	    skd_store_errmsg(carol));
	snprintf(p, sizeof(p), "%s/shroud.der", d);
	write_shroud(msgs[0].data, msgs[0].len, p);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -decrypt "
	    "-inform DER -in %s/shroud.der -pwri_password 'known secret 2.1' "
	    "-binary -out %s/sd.der", d, d), 0);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl cms -verify "
	    "-inform DER -in %s/sd.der -CAfile %s/ca.crt -purpose any "
	    "-binary -out %s/akp.der 2>/dev/null", d, pki, d), 0);
	ck_assert_int_eq(skd_test_run(NULL, NULL, "openssl asn1parse "
	    "-inform DER -in %s/akp.der | grep -q rsaEncryption", d), 0);
	/* A wrong password opens nothing. */
	ck_assert_int_ne(skd_test_run(NULL, NULL, "openssl cms -decrypt "
	    "-inform DER -in %s/shroud.der -pwri_password 'known secret 2.2' "
	    "-binary -out %s/x.der 2>/dev/null", d, d), 0);
	skd_store_blobs_free(msgs, n);
	skd_worker_free(w);
	OPENSSL_free(der);
	skd_store_close(carol);
	free(secret);
	free(conf);
}
END_TEST

/* Erin has no key pair: she gets one with an enrolled secret (2.1), its
 * certificate lands on her entry, glo1 adds her to a closed GL by name
 * only (no --member-cert: the GLA finds the certificate in the
 * directory), and she fetches and opens her glKey with the generated
 * key. */
START_TEST(test_join_by_name)
{
	const char *pki = env("SKD_PKI_DIR"), *d = skd_test_tmp;
	const char *dir = skd_test_stack_dir(), *bin = skd_test_bin();
	char *conf = keygen_config(), *out = NULL, id[64], gl[128];
	char sid[SKD_STORE_ID_LEN];
	size_t olen = 0;
	int rc;

	skd_store_new_id(sid);
	snprintf(id, sizeof(id), "erin-%s", sid);
	snprintf(gl, sizeof(gl), "URI:https://lists.example.com/kg-%s", sid);
	enroll_for(id, "erin one-time secret", "SKD_ERIN_DN");
	rc = skd_test_run(&out, &olen,
	    "'%s' gla run --config '%s' >'%s/gla.log' 2>&1 & w=$!; "
	    "echo \"erin one-time secret\" | '%s' keygen --env '%s/env' "
	    "--as erin --CAfile '%s/ca.crt' --type p256 --secret-id '%s' "
	    "--secret-fd 0 --shroud secret --out '%s/erin.key' "
	    "--out-cert '%s/erin.crt' --timeout 30 >/dev/null 2>&1 && "
	    "'%s' glo create --env '%s/env' --as glo1 --cert '%s/glo1.crt' "
	    "--key '%s/glo1.key' --CAfile '%s/ca.crt' --gl '%s' "
	    "--owner email:glo1@example.com --admin closed --timeout 30 "
	    ">/dev/null 2>&1 && "
	    "'%s' glo add-member --env '%s/env' --as glo1 --cert '%s/glo1.crt' "
	    "--key '%s/glo1.key' --CAfile '%s/ca.crt' --gl '%s' "
	    "--member 'dirName:%s' --timeout 30 2>&1 && "
	    "'%s' member fetch --env '%s/env' --as erin --cert '%s/erin.crt' "
	    "--key '%s/erin.key' --CAfile '%s/ca.crt' --gl '%s' "
	    "--keystore '%s/erin.keys' 2>&1; rc=$?; [ $rc = 0 ] || tail -20 '%s/gla.log'; kill $w; wait $w; exit $rc",
	    bin, conf, d,
	    bin, dir, pki, id, d, d,
	    bin, dir, pki, pki, pki, gl,
	    bin, dir, pki, pki, pki, gl, env("SKD_ERIN_DN"),
	    bin, dir, d, d, pki, gl, d, d);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	free(out);
	/* The key store holds the GL's key, opened with erin's new key. */
	ck_assert_int_eq(skd_test_run(&out, &olen, "echo hello | '%s' member "
	    "encrypt --keystore '%s/erin.keys' --cert '%s/erin.crt' --key "
	    "'%s/erin.key' --gl '%s' > '%s/m.pem'", bin, d, d, d, gl, d), 0);
	free(out);
	free(conf);
}
END_TEST

/* keyArchive messages in the directory, counted as the GLA. */
static long
count_archives(void)
{
	char *out = NULL;
	size_t olen = 0;
	long n;

	ck_assert_int_eq(skd_test_run(&out, &olen, "ldapsearch -LLL -x -H '%s' "
	    "-D '%s' -w '%s' -b 'ou=messages,%s' '(skdMessageType=keyArchive)' "
	    "1.1 | grep -c '^dn:'", env("SKD_LDAP_URI"), env("SKD_GLA_DN"),
	    env("SKD_GLA_PW"), env("SKD_BASE_DN")) >= 0, 1);
	n = strtol(out != NULL ? out : "0", NULL, 10);
	free(out);
	return n;
}

static pid_t
spawn_gla(const char *conf, const char *log)
{
	pid_t pid;
	int fd;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(skd_test_bin(), "skd", "gla", "run", "--config", conf,
		    (char *)NULL);
		_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	return pid;
}

/*
 * Runs workers from conf, each killed with SIGKILL after a random
 * instant, until the n requests ids are done or max_kills were made, then
 * one worker to the end.  Returns the number of kills; fails the test
 * when a request is left undone.
 */
static size_t
kill_until_done(const char *conf, const char *log,
    char (*ids)[SKD_STORE_ID_LEN], size_t n, size_t max_kills, long max_ms)
{
	struct skd_store *gla = store_open_gla();
	struct skd_store_request *rq = NULL;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	size_t i, left, kills = 0, t;
	pid_t pid;
	int st;

	for (;;) {
		pid = spawn_gla(conf, log);
		nap_ms((long)(rand_r(&seed) % (unsigned)max_ms));
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
		kills++;
		for (i = 0, left = 0; i < n; i++) {
			ck_assert(skd_store_read_request(gla, &rq, ids[i]));
			left += strcmp(rq->state, "done") != 0;
			skd_store_request_free(rq);
			rq = NULL;
		}
		if (left == 0 || kills >= max_kills)
			break;
	}
	pid = spawn_gla(conf, log);
	for (t = 0; t < 1200; t++) {
		for (i = 0, left = 0; i < n; i++) {
			ck_assert(skd_store_read_request(gla, &rq, ids[i]));
			left += strcmp(rq->state, "done") != 0;
			skd_store_request_free(rq);
			rq = NULL;
		}
		if (left == 0)
			break;
		nap_ms(100);
	}
	(void)kill(pid, SIGTERM);
	(void)waitpid(pid, &st, 0);
	skd_store_close(gla);
	ck_assert_msg(left == 0, "%zu requests not done after %zu kills",
	    left, kills);
	return kills;
}

/* A keygen configuration for killed workers: short leases, no limits
 * on attempts or pending requests; extra appended.  Returns its path. */
static char *
kill_config(const char *extra)
{
	char *conf = keygen_config();
	FILE *f;

	ck_assert_ptr_nonnull(f = fopen(conf, "a"));
	fputs("lease_seconds = 2\nmax_attempts = 1000\n"
	    "max_pending_per_submitter = 100000\npoll_interval_ms = 50\n", f);
	if (extra != NULL)
		fputs(extra, f);
	fclose(f);
	return conf;
}

#define KILL_N	24

/* Workers killed with SIGKILL at random instants while they generate
 * keys: every request answered once, every answer's key its
 * certificate's, exactly one archive per request (the journal holds the
 * key only enveloped; a replayed journal writes the same archive). */
START_TEST(test_kill9_keygen)
{
	struct skd_store *alice = store_open_as("SKD_ALICE");
	struct skd_store_blob *msgs = NULL;
	struct skd_keygen_req r;
	struct skd_keygen_result res;
	struct skd_shroud_opener who;
	X509 *ac = pem_cert("alice");
	EVP_PKEY *ak = pem_key("alice"), *eph = skd_kgen_generate(SKD_KGEN_P256);
	X509_STORE *trust = X509_STORE_new();
	unsigned char nonces[KILL_N][SKD_KEYGEN_NONCE_LEN], *der;
	char ids[KILL_N][SKD_STORE_ID_LEN], *conf, log[4096], p[4096];
	size_t i, len, n, kills;
	long before, after;

	conf = kill_config(NULL);
	snprintf(log, sizeof(log), "%s/kill.log", skd_test_tmp);
	snprintf(p, sizeof(p), "%s/ca.crt", env("SKD_PKI_DIR"));
	ck_assert_int_eq(X509_STORE_load_file(trust, p), 1);
	before = count_archives();
	memset(&r, 0, sizeof(r));
	r.type = SKD_KGEN_P256;
	r.shroud = SKD_KEYGEN_BARE_KEY;
	r.bare_key = eph;
	r.ski = ski;
	r.ski_len = sizeof(ski);
	for (i = 0; i < KILL_N; i++) {
		ck_assert_int_eq(RAND_bytes(nonces[i], SKD_KEYGEN_NONCE_LEN), 1);
		der = NULL;
		ck_assert_int_eq(skd_keygen_request(&der, &len, &r, (long)i + 1,
		    nonces[i], ac, ak, NULL, time(NULL)), 1);
		ck_assert(skd_store_add_request(alice, ids[i], der, len,
		    env("SKD_ALICE_DN")));
		OPENSSL_free(der);
	}
	kills = kill_until_done(conf, log, ids, KILL_N, 40, 330);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	for (i = 0; i < KILL_N; i++) {
		ck_assert(skd_store_read_response(alice, &msgs, &n, ids[i]));
		ck_assert_uint_eq(n, 1);
		ck_assert_msg(skd_keygen_open_response(&res, msgs[0].data,
		    msgs[0].len, nonces[i], &who, trust, time(NULL)), "%s",
		    res.text);
		ck_assert_int_eq(res.status, 0);
		ck_assert_int_eq(X509_check_private_key(res.cert, res.key), 1);
		skd_keygen_result_clear(&res);
		skd_store_blobs_free(msgs, n);
	}
	after = count_archives();
	fprintf(stderr, "keygen kill -9: %d requests, %zu kills, %ld archives\n",
	    KILL_N, kills, after - before);
	ck_assert_int_eq(after - before, KILL_N);
	X509_STORE_free(trust);
	X509_free(ac);
	EVP_PKEY_free(ak);
	EVP_PKEY_free(eph);
	skd_store_close(alice);
	free(conf);
}
END_TEST

/* Key recovery with the CLI against the daemon: alice gets a key
 * (skd keygen); bob, the configured officer, recovers it (skd admin
 * recover): the same private key, the certificate's; carol, who is not
 * an officer, is refused (badIdentity) and gets nothing; the GLA's log
 * says who asked and when, for both. */
START_TEST(test_recover_cli)
{
	const char *pki = env("SKD_PKI_DIR"), *d = skd_test_tmp;
	char *conf = keygen_config(), *out = NULL, *a = NULL, *b = NULL;
	size_t olen = 0;
	int rc;

	/* The audit lines are notices. */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "sed -i "
	    "'s/^log_level = .*/log_level = notice/' '%s'", conf), 0);
	rc = skd_test_run(&out, &olen, "'%s' gla run --config '%s' "
	    ">'%s/gla.log' 2>&1 & w=$!; "
	    "'%s' keygen --env '%s/env' --as alice "
	    "--cert '%s/alice.crt' --key '%s/alice.key' --CAfile '%s/ca.crt' "
	    "--type rsa2048 --out '%s/k.pem' --out-cert '%s/c.pem' "
	    "--timeout 30 2>&1 && "
	    "'%s' admin recover --env '%s/env' --as bob "
	    "--cert '%s/bob.crt' --key '%s/bob.key' --CAfile '%s/ca.crt' "
	    "--target-cert '%s/c.pem' --out '%s/r.pem' --timeout 30 2>&1; "
	    "rc=$?; "
	    "'%s' admin recover --env '%s/env' --as carol "
	    "--cert '%s/carol.crt' --key '%s/carol.key' --CAfile '%s/ca.crt' "
	    "--target-cert '%s/c.pem' --out '%s/r2.pem' --timeout 30 2>&1; "
	    "echo \"carol=$?\"; kill $w; wait $w; exit $rc",
	    skd_test_bin(), conf, d,
	    skd_test_bin(), skd_test_stack_dir(), pki, pki, pki, d, d,
	    skd_test_bin(), skd_test_stack_dir(), pki, pki, pki, d, d,
	    skd_test_bin(), skd_test_stack_dir(), pki, pki, pki, d, d);
	ck_assert_msg(rc == 0, "skd admin recover: %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "recovered the key of"));
	/* Carol: a CMC failure (exit 1), badIdentity, no key written. */
	ck_assert_msg(strstr(out, "carol=1") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "badIdentity") != NULL, "%s", out);
	ck_assert_int_ne(skd_test_run(NULL, NULL, "test -e '%s/r2.pem'", d),
	    0);
	free(out);
	/* The recovered key is the one alice got, and the certificate's. */
	ck_assert_int_eq(skd_test_run(NULL, NULL, "test \"$(stat -c %%a "
	    "'%s/r.pem')\" = 600", d), 0);
	ck_assert_int_eq(skd_test_run(&a, &olen, "openssl pkey -in '%s/r.pem' "
	    "-pubout", d), 0);
	ck_assert_int_eq(skd_test_run(&b, &olen, "openssl x509 -in "
	    "'%s/c.pem' -pubkey -noout", d), 0);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	ck_assert_int_eq(skd_test_run(&a, &olen, "openssl pkey -in '%s/r.pem' "
	    "-text -noout", d), 0);
	ck_assert_int_eq(skd_test_run(&b, &olen, "openssl pkey -in '%s/k.pem' "
	    "-text -noout", d), 0);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	/* The audit log: who (bob; carol refused), when (a timestamp),
	 * which certificate. */
	ck_assert_int_eq(skd_test_run(&out, &olen, "grep 'audit:' "
	    "'%s/gla.log'", d), 0);
	ck_assert_msg(strstr(out, "audit: key recovered: officer ") != NULL &&
	    strstr(out, "CN=bob") != NULL && strstr(out, " at 20") != NULL &&
	    strstr(out, ", certificate ") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "audit: key recovery refused (the signer "
	    "is not a configured recovery officer): officer ") != NULL &&
	    strstr(out, "CN=carol") != NULL, "%s", out);
	free(out);
	free(conf);
}
END_TEST

#define KILL_R	12

/* Workers killed with SIGKILL at random instants while they answer
 * recovery requests: every request answered exactly once (one response
 * each), every answer the same key, alice's certificate's. */
START_TEST(test_kill9_recover)
{
	struct skd_worker *w = keygen_worker();
	struct skd_store *bob = store_open_as("SKD_BOB");
	struct skd_store_blob *msgs = NULL;
	struct skd_keygen_req r;
	struct skd_keygen_result res;
	struct skd_shroud_opener who;
	X509 *bc = pem_cert("bob"), *cert;
	EVP_PKEY *bk = pem_key("bob"), *eph = skd_kgen_generate(SKD_KGEN_P256);
	EVP_PKEY *key;
	X509_STORE *trust = X509_STORE_new();
	unsigned char nonces[KILL_R][SKD_KEYGEN_NONCE_LEN], *der, *ans;
	char ids[KILL_R][SKD_STORE_ID_LEN], id[SKD_STORE_ID_LEN], *conf;
	char log[4096], p[4096];
	size_t i, len, n, kills;

	snprintf(p, sizeof(p), "%s/ca.crt", env("SKD_PKI_DIR"));
	ck_assert_int_eq(X509_STORE_load_file(trust, p), 1);
	/* Alice's key, archived. */
	memset(&r, 0, sizeof(r));
	r.type = SKD_KGEN_P256;
	r.shroud = SKD_KEYGEN_BARE_KEY;
	r.bare_key = eph;
	r.ski = ski;
	r.ski_len = sizeof(ski);
	ans = round_trip(w, &r, &len, id, NULL, NULL);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	ck_assert_int_eq(skd_keygen_open_response(&res, ans, len, nonce, &who,
	    trust, time(NULL)), 1);
	ck_assert_int_eq(res.status, 0);
	key = res.key;
	cert = res.cert;
	res.key = NULL;
	res.cert = NULL;
	skd_keygen_result_clear(&res);
	free(ans);
	skd_worker_free(w);

	conf = kill_config(NULL);
	snprintf(log, sizeof(log), "%s/kill.log", skd_test_tmp);
	for (i = 0; i < KILL_R; i++) {
		ck_assert_int_eq(RAND_bytes(nonces[i], SKD_KEYGEN_NONCE_LEN), 1);
		der = NULL;
		ck_assert_int_eq(skd_keygen_recovery_request(&der, &len, cert,
		    (long)i + 1, nonces[i], bc, bk, NULL, time(NULL)), 1);
		ck_assert(skd_store_add_request(bob, ids[i], der, len,
		    env("SKD_BOB_DN")));
		OPENSSL_free(der);
	}
	kills = kill_until_done(conf, log, ids, KILL_R, 30, 60);
	memset(&who, 0, sizeof(who));
	who.key = bk;
	who.cert = bc;
	for (i = 0; i < KILL_R; i++) {
		ck_assert(skd_store_read_response(bob, &msgs, &n, ids[i]));
		ck_assert_uint_eq(n, 1);
		ck_assert_msg(skd_keygen_open_recovery(&res, msgs[0].data,
		    msgs[0].len, nonces[i], &who, trust, time(NULL)), "%s",
		    res.text);
		ck_assert_int_eq(res.status, 0);
		ck_assert_int_eq(EVP_PKEY_eq(res.key, key), 1);
		ck_assert_int_eq(X509_cmp(res.cert, cert), 0);
		skd_keygen_result_clear(&res);
		skd_store_blobs_free(msgs, n);
	}
	fprintf(stderr, "recover kill -9: %d requests, %zu kills\n", KILL_R,
	    kills);
	X509_STORE_free(trust);
	X509_free(bc);
	X509_free(cert);
	EVP_PKEY_free(bk);
	EVP_PKEY_free(key);
	EVP_PKEY_free(eph);
	skd_store_close(bob);
	free(conf);
}
END_TEST

/* Whether x is on alice's entry (userCertificate;binary), read as bob. */
static int
on_alice_entry(X509 *x)
{
	unsigned char *cd = NULL, *b64;
	char *out = NULL;
	size_t olen = 0;
	int cl = i2d_X509(x, &cd), found;

	b64 = malloc(4 * ((size_t)cl + 2) / 3 + 4);
	EVP_EncodeBlock(b64, cd, cl);
	ck_assert_int_eq(skd_test_run(&out, &olen, "ldapsearch -LLL -x "
	    "-o ldif-wrap=no -H '%s' -D '%s' -w '%s' -b '%s' -s base "
	    "'userCertificate;binary'", env("SKD_LDAP_URI"),
	    env("SKD_BOB_DN"), env("SKD_BOB_PW"), env("SKD_ALICE_DN")), 0);
	found = out != NULL && strstr(out, (char *)b64) != NULL;
	free(out);
	free(b64);
	OPENSSL_free(cd);
	return found;
}

/* Draft 8 through the worker: with keygen_pop = required the first
 * answer is popRequired and the certificate is not on alice's entry;
 * the Decrypted POP round publishes it.  Then skd keygen against the
 * daemon does both rounds by itself. */
START_TEST(test_pop_dir)
{
	const char *pki = env("SKD_PKI_DIR"), *d = skd_test_tmp;
	struct skd_worker *w = keygen_worker_extra("keygen_pop = required\n");
	struct skd_store *alice = store_open_as("SKD_ALICE");
	struct skd_store_blob *msgs = NULL;
	struct skd_keygen_req r;
	struct skd_keygen_result res, pr;
	struct skd_shroud_opener who;
	X509 *ac = pem_cert("alice"), *x = NULL;
	EVP_PKEY *ak = pem_key("alice"), *eph = skd_kgen_generate(SKD_KGEN_P256);
	X509_STORE *trust = X509_STORE_new();
	unsigned char *ans, *der = NULL, pn[SKD_KEYGEN_NONCE_LEN];
	char id[SKD_STORE_ID_LEN], p[4096], *conf, *out = NULL;
	size_t len = 0, n = 0, olen = 0;
	FILE *f;
	int rc;

	snprintf(p, sizeof(p), "%s/ca.crt", pki);
	ck_assert_int_eq(X509_STORE_load_file(trust, p), 1);
	memset(&r, 0, sizeof(r));
	r.type = SKD_KGEN_RSA2048;
	r.shroud = SKD_KEYGEN_BARE_KEY;
	r.bare_key = eph;
	r.ski = ski;
	r.ski_len = sizeof(ski);
	ans = round_trip(w, &r, &len, id, NULL, NULL);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	ck_assert_msg(skd_keygen_open_response(&res, ans, len, nonce, &who,
	    trust, time(NULL)), "%s", res.text);
	free(ans);
	ck_assert_int_eq(res.status, SKD_CMC_POP_REQUIRED);
	ck_assert_ptr_nonnull(res.pop);
	ck_assert(!on_alice_entry(res.cert));
	/* The POP round. */
	ck_assert_int_eq(RAND_bytes(pn, sizeof(pn)), 1);
	ck_assert_int_eq(skd_keygen_pop_request(&der, &len, &res, 43, pn, ac,
	    ak, NULL, time(NULL)), 1);
	ck_assert(skd_store_add_request(alice, id, der, len,
	    env("SKD_ALICE_DN")));
	OPENSSL_free(der);
	ck_assert(skd_worker_process_one(w, id));
	ck_assert(skd_store_read_response(alice, &msgs, &n, id));
	ck_assert_msg(skd_keygen_open_pop(&pr, msgs[0].data, msgs[0].len, pn,
	    trust, time(NULL)), "%s", pr.text);
	ck_assert_msg(pr.status == 0, "%s", pr.text);
	skd_keygen_result_clear(&pr);
	skd_store_blobs_free(msgs, n);
	ck_assert(on_alice_entry(res.cert));
	skd_keygen_result_clear(&res);
	skd_worker_free(w);
	/* skd keygen against the daemon: both rounds. */
	conf = keygen_config();
	ck_assert_ptr_nonnull(f = fopen(conf, "a"));
	fputs("keygen_pop = required\n", f);
	fclose(f);
	rc = skd_test_run(&out, &olen, "'%s' gla run --config '%s' "
	    ">'%s/gla.log' 2>&1 & w=$!; "
	    "'%s' keygen --env '%s/env' --as alice "
	    "--cert '%s/alice.crt' --key '%s/alice.key' --CAfile '%s/ca.crt' "
	    "--type p256 --out '%s/k.pem' --out-cert '%s/c.pem' "
	    "--timeout 30 2>&1; rc=$?; kill $w; wait $w; exit $rc",
	    skd_test_bin(), conf, d, skd_test_bin(), skd_test_stack_dir(),
	    pki, pki, pki, d, d);
	ck_assert_msg(rc == 0, "skd keygen: %d: %s", rc, out);
	ck_assert_msg(strstr(out, "proof of possession") != NULL &&
	    strstr(out, "issued") != NULL, "%s", out);
	free(out);
	snprintf(p, sizeof(p), "%s/c.pem", d);
	ck_assert_ptr_nonnull(f = fopen(p, "r"));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	ck_assert(on_alice_entry(x));
	X509_free(x);
	/* The same with an enrolled secret (2.1): the POP round goes as an
	 * AuthenticatedData under the (spent) secret. */
	{
		char sid[SKD_STORE_ID_LEN], sname[64], *secret;

		skd_store_new_id(sid);
		snprintf(sname, sizeof(sname), "alice-%s", sid);
		secret = enroll_for(sname, NULL, "SKD_ALICE_DN");
		rc = skd_test_run(&out, &olen, "'%s' gla run --config '%s' "
		    ">'%s/gla.log' 2>&1 & w=$!; echo '%s' | '%s' keygen "
		    "--env '%s/env' --as alice --CAfile '%s/ca.crt' --type p256 "
		    "--secret-id '%s' --secret-fd 0 --shroud secret "
		    "--out '%s/k2.pem' --out-cert '%s/c2.pem' --timeout 30 2>&1; "
		    "rc=$?; kill $w; wait $w; exit $rc", skd_test_bin(), conf, d,
		    secret, skd_test_bin(), skd_test_stack_dir(), pki, sname, d,
		    d);
		ck_assert_msg(rc == 0, "skd keygen --secret-id: %d: %s", rc,
		    out);
		ck_assert_msg(strstr(out, "proof of possession") != NULL, "%s",
		    out);
		free(out);
		free(secret);
		snprintf(p, sizeof(p), "%s/c2.pem", d);
		ck_assert_ptr_nonnull(f = fopen(p, "r"));
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
		ck_assert_ptr_nonnull(x);
		ck_assert(on_alice_entry(x));
		X509_free(x);
	}
	free(conf);
	X509_STORE_free(trust);
	X509_free(ac);
	EVP_PKEY_free(ak);
	EVP_PKEY_free(eph);
	skd_store_close(alice);
}
END_TEST

#define KILL_P	8

/* Values of userCertificate;binary on alice's entry. */
static long
count_alice_certs(void)
{
	char *out = NULL;
	size_t olen = 0;
	long n;

	ck_assert_int_eq(skd_test_run(&out, &olen, "ldapsearch -LLL -x -H '%s' "
	    "-D '%s' -w '%s' -b '%s' -s base 'userCertificate;binary' | "
	    "grep -c '^userCertificate;binary::'", env("SKD_LDAP_URI"),
	    env("SKD_BOB_DN"), env("SKD_BOB_PW"), env("SKD_ALICE_DN")) >= 0, 1);
	n = strtol(out != NULL ? out : "0", NULL, 10);
	free(out);
	return n;
}

/* Both rounds of draft 8 with workers killed with SIGKILL at random:
 * every first round answered popRequired with nothing published, every
 * POP round answered success, each certificate published once. */
START_TEST(test_kill9_pop)
{
	struct skd_store *alice = store_open_as("SKD_ALICE");
	struct skd_store_blob *msgs = NULL;
	struct skd_keygen_req r;
	struct skd_keygen_result res[KILL_P], pr;
	struct skd_shroud_opener who;
	X509 *ac = pem_cert("alice");
	EVP_PKEY *ak = pem_key("alice"), *eph = skd_kgen_generate(SKD_KGEN_P256);
	X509_STORE *trust = X509_STORE_new();
	unsigned char nonces[KILL_P][SKD_KEYGEN_NONCE_LEN], *der;
	char ids[KILL_P][SKD_STORE_ID_LEN], *conf, log[4096], p[4096];
	size_t i, len, n, k1, k2;
	long before;

	conf = kill_config("keygen_pop = required\n");
	snprintf(log, sizeof(log), "%s/kill.log", skd_test_tmp);
	snprintf(p, sizeof(p), "%s/ca.crt", env("SKD_PKI_DIR"));
	ck_assert_int_eq(X509_STORE_load_file(trust, p), 1);
	before = count_alice_certs();
	memset(&r, 0, sizeof(r));
	r.type = SKD_KGEN_P256;
	r.shroud = SKD_KEYGEN_BARE_KEY;
	r.bare_key = eph;
	r.ski = ski;
	r.ski_len = sizeof(ski);
	r.no_archive = 1;
	for (i = 0; i < KILL_P; i++) {
		ck_assert_int_eq(RAND_bytes(nonces[i], SKD_KEYGEN_NONCE_LEN), 1);
		der = NULL;
		ck_assert_int_eq(skd_keygen_request(&der, &len, &r, (long)i + 1,
		    nonces[i], ac, ak, NULL, time(NULL)), 1);
		ck_assert(skd_store_add_request(alice, ids[i], der, len,
		    env("SKD_ALICE_DN")));
		OPENSSL_free(der);
	}
	k1 = kill_until_done(conf, log, ids, KILL_P, 30, 100);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	for (i = 0; i < KILL_P; i++) {
		ck_assert(skd_store_read_response(alice, &msgs, &n, ids[i]));
		ck_assert_uint_eq(n, 1);
		ck_assert_msg(skd_keygen_open_response(&res[i], msgs[0].data,
		    msgs[0].len, nonces[i], &who, trust, time(NULL)), "%s",
		    res[i].text);
		ck_assert_int_eq(res[i].status, SKD_CMC_POP_REQUIRED);
		skd_store_blobs_free(msgs, n);
	}
	ck_assert_int_eq(count_alice_certs(), before);
	for (i = 0; i < KILL_P; i++) {
		ck_assert_int_eq(RAND_bytes(nonces[i], SKD_KEYGEN_NONCE_LEN), 1);
		der = NULL;
		ck_assert_int_eq(skd_keygen_pop_request(&der, &len, &res[i],
		    (long)i + 1, nonces[i], ac, ak, NULL, time(NULL)), 1);
		ck_assert(skd_store_add_request(alice, ids[i], der, len,
		    env("SKD_ALICE_DN")));
		OPENSSL_free(der);
	}
	k2 = kill_until_done(conf, log, ids, KILL_P, 30, 60);
	for (i = 0; i < KILL_P; i++) {
		ck_assert(skd_store_read_response(alice, &msgs, &n, ids[i]));
		ck_assert_uint_eq(n, 1);
		ck_assert_msg(skd_keygen_open_pop(&pr, msgs[0].data,
		    msgs[0].len, nonces[i], trust, time(NULL)), "%s", pr.text);
		ck_assert_msg(pr.status == 0, "%s", pr.text);
		skd_keygen_result_clear(&pr);
		skd_store_blobs_free(msgs, n);
		ck_assert(on_alice_entry(res[i].cert));
		skd_keygen_result_clear(&res[i]);
	}
	ck_assert_int_eq(count_alice_certs(), before + KILL_P);
	fprintf(stderr, "pop kill -9: %d requests, %zu + %zu kills\n", KILL_P,
	    k1, k2);
	X509_STORE_free(trust);
	X509_free(ac);
	EVP_PKEY_free(ak);
	EVP_PKEY_free(eph);
	skd_store_close(alice);
	free(conf);
}
END_TEST

/* Draft 2.5.2 with the CLI against the daemon: alice's request (made
 * with the library, a file), carol (a configured RA) checks and
 * forwards it with skd ra forward and hands alice the answer, which she
 * opens; dave, not an RA, is refused (badIdentity); a request from
 * someone else than --expect-subject is not forwarded. */
START_TEST(test_ra_cli)
{
	const char *pki = env("SKD_PKI_DIR"), *d = skd_test_tmp;
	struct skd_keygen_req r;
	struct skd_keygen_result res;
	struct skd_shroud_opener who;
	X509 *ac = pem_cert("alice");
	EVP_PKEY *ak = pem_key("alice"), *eph = skd_kgen_generate(SKD_KGEN_P256);
	X509_STORE *trust = X509_STORE_new();
	BIO *bio = BIO_new(BIO_s_mem());
	unsigned char *der = NULL, *ans, *rq0;
	char p[4096], req0[4096], *conf, *out = NULL, *subj = NULL, *a = NULL;
	size_t len = 0, olen = 0, rq0_len = 0;
	long blen;
	X509 *x;
	FILE *f;
	int i, rc;

	snprintf(req0, sizeof(req0), "%s/req0.der", d);

	snprintf(p, sizeof(p), "%s/ca.crt", pki);
	ck_assert_int_eq(X509_STORE_load_file(trust, p), 1);
	ck_assert_int_ge(X509_NAME_print_ex(bio, X509_get_subject_name(ac), 0,
	    XN_FLAG_RFC2253), 0);
	blen = BIO_get_mem_data(bio, &subj);
	subj = strndup(subj, (size_t)blen);
	memset(&r, 0, sizeof(r));
	r.type = SKD_KGEN_RSA2048;
	r.shroud = SKD_KEYGEN_BARE_KEY;
	r.bare_key = eph;
	r.ski = ski;
	r.ski_len = sizeof(ski);
	/* alice's own request, with skd keygen (2.4: her certificate
	 * protects the key, no ephemeral key to keep). */
	ck_assert_int_eq(skd_test_run(&out, &olen, "'%s' keygen --cert "
	    "'%s/alice.crt' --key '%s/alice.key' --CAfile '%s/ca.crt' --type "
	    "p256 --shroud cert --request-out '%s/req0.der' --out x "
	    "--out-cert y 2>&1", skd_test_bin(), pki, pki, pki, d), 0);
	free(out);
	out = NULL;
	for (i = 1; i < 3; i++) {
		ck_assert_int_eq(skd_keygen_request(&der, &len, &r, 50 + i,
		    nonce, ac, ak, NULL, time(NULL)), 1);
		snprintf(p, sizeof(p), "%s/req%d.der", d, i);
		ck_assert(skd_test_write_file(p, der, len));
		OPENSSL_free(der);
		der = NULL;
	}
	conf = keygen_config();
	ck_assert_ptr_nonnull(f = fopen(conf, "a"));
	fprintf(f, "keygen_ras = %s/carol.crt\n", pki);
	fclose(f);
	rc = skd_test_run(&out, &olen, "'%s' gla run --config '%s' "
	    ">'%s/gla.log' 2>&1 & w=$!; "
	    "'%s' ra forward --env '%s/env' --as carol --cert '%s/carol.crt' "
	    "--key '%s/carol.key' --CAfile '%s/ca.crt' --in '%s/req0.der' "
	    "--out '%s/ans0.der' --expect-subject '%s' --timeout 30 2>&1; "
	    "rc=$?; "
	    "'%s' ra forward --env '%s/env' --as dave --cert '%s/dave.crt' "
	    "--key '%s/dave.key' --CAfile '%s/ca.crt' --in '%s/req1.der' "
	    "--out '%s/ans1.der' --timeout 30 2>&1; echo \"dave=$?\"; "
	    "'%s' ra forward --env '%s/env' --as carol --cert '%s/carol.crt' "
	    "--key '%s/carol.key' --CAfile '%s/ca.crt' --in '%s/req2.der' "
	    "--out '%s/ans2.der' --expect-subject 'CN=somebody else' "
	    "--timeout 30 2>&1; echo \"other=$?\"; kill $w; wait $w; exit $rc",
	    skd_test_bin(), conf, d,
	    skd_test_bin(), skd_test_stack_dir(), pki, pki, pki, d, d, subj,
	    skd_test_bin(), skd_test_stack_dir(), pki, pki, pki, d, d,
	    skd_test_bin(), skd_test_stack_dir(), pki, pki, pki, d, d);
	ck_assert_msg(rc == 0, "skd ra forward: %d: %s", rc, out);
	ck_assert_msg(strstr(out, "forwarded the request of") != NULL, "%s",
	    out);
	ck_assert_msg(strstr(out, "dave=1") != NULL &&
	    strstr(out, "badIdentity") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "other=1") != NULL &&
	    strstr(out, "not forwarded") != NULL, "%s", out);
	free(out);
	ck_assert_int_ne(skd_test_run(NULL, NULL, "test -e '%s/ans1.der' || "
	    "test -e '%s/ans2.der'", d, d), 0);
	/* Alice opens the answer carol handed her with skd keygen. */
	ck_assert_int_eq(skd_test_run(&out, &olen, "'%s' keygen --cert "
	    "'%s/alice.crt' --key '%s/alice.key' --CAfile '%s/ca.crt' --type "
	    "p256 --shroud cert --answer '%s/ans0.der' --request "
	    "'%s/req0.der' --out '%s/k0.pem' --out-cert '%s/c0.pem' 2>&1",
	    skd_test_bin(), pki, pki, pki, d, d, d, d), 0);
	ck_assert_msg(strstr(out, "issued") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(skd_test_run(&out, &olen, "openssl pkey -in "
	    "'%s/k0.pem' -pubout", d), 0);
	ck_assert_int_eq(skd_test_run(&a, &olen, "openssl x509 -in "
	    "'%s/c0.pem' -pubkey -noout", d), 0);
	ck_assert_str_eq(out, a);
	free(out);
	free(a);
	snprintf(p, sizeof(p), "%s/c0.pem", d);
	ck_assert_ptr_nonnull(f = fopen(p, "r"));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	ck_assert(on_alice_entry(x));
	X509_free(x);
	/* The same answer opened with the library as alice. */
	snprintf(p, sizeof(p), "%s/ans0.der", d);
	ck_assert_ptr_nonnull(ans = skd_test_read_file(p, &len));
	ck_assert_ptr_nonnull(rq0 = skd_test_read_file(req0, &rq0_len));
	memset(&who, 0, sizeof(who));
	who.key = ak;
	who.cert = ac;
	{
		struct skd_cms_verified *v = NULL;
		SKD_PKI_DATA *pd;
		unsigned char *n0 = NULL;
		size_t n0_len = 0;

		ck_assert_int_eq(skd_cms_verify(&v, rq0, rq0_len, NULL,
		    time(NULL)), 1);
		pd = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_DATA), v->content,
		    v->content_len);
		ck_assert_ptr_nonnull(pd);
		ck_assert_int_eq(skd_cmc_get_nonce(pd->controlSequence,
		    SKD_OID_CMC_SENDER_NONCE, &n0, &n0_len), 1);
		ck_assert_msg(skd_keygen_open_response(&res, ans, len, n0, &who,
		    trust, time(NULL)), "%s", res.text);
		OPENSSL_free(n0);
		SKD_PKI_DATA_free(pd);
		skd_cms_verified_free(v);
	}
	ck_assert_int_eq(res.status, 0);
	ck_assert_int_eq(X509_check_private_key(res.cert, res.key), 1);
	skd_keygen_result_clear(&res);
	free(rq0);
	free(ans);
	free(subj);
	free(conf);
	BIO_free(bio);
	X509_STORE_free(trust);
	X509_free(ac);
	EVP_PKEY_free(ak);
	EVP_PKEY_free(eph);
}
END_TEST

#define KILL_RA	8

/* RA-forwarded requests with workers killed with SIGKILL at random:
 * every forward answered once, each holding alice's answer with a key
 * that is its certificate's, exactly one archive each. */
START_TEST(test_kill9_ra)
{
	struct skd_store *carol = store_open_as("SKD_CAROL");
	struct skd_store_blob *msgs = NULL;
	struct skd_keygen_req r;
	struct skd_keygen_result res;
	struct skd_shroud_opener who;
	X509 *ac = pem_cert("alice"), *cc = pem_cert("carol");
	EVP_PKEY *ak = pem_key("alice"), *ck = pem_key("carol");
	EVP_PKEY *eph = skd_kgen_generate(SKD_KGEN_P256);
	X509_STORE *trust = X509_STORE_new();
	unsigned char nonces[KILL_RA][SKD_KEYGEN_NONCE_LEN], *der, *req;
	unsigned char *inner;
	char ids[KILL_RA][SKD_STORE_ID_LEN], *conf, log[4096], p[4096];
	char extra[4200];
	size_t i, len, req_len, n, kills, inner_len;
	long before;

	snprintf(extra, sizeof(extra), "keygen_ras = %s/carol.crt\n",
	    env("SKD_PKI_DIR"));
	conf = kill_config(extra);
	snprintf(log, sizeof(log), "%s/kill.log", skd_test_tmp);
	snprintf(p, sizeof(p), "%s/ca.crt", env("SKD_PKI_DIR"));
	ck_assert_int_eq(X509_STORE_load_file(trust, p), 1);
	before = count_archives();
	memset(&r, 0, sizeof(r));
	r.type = SKD_KGEN_P256;
	r.shroud = SKD_KEYGEN_BARE_KEY;
	r.bare_key = eph;
	r.ski = ski;
	r.ski_len = sizeof(ski);
	for (i = 0; i < KILL_RA; i++) {
		ck_assert_int_eq(RAND_bytes(nonces[i], SKD_KEYGEN_NONCE_LEN), 1);
		req = der = NULL;
		ck_assert_int_eq(skd_keygen_request(&req, &req_len, &r,
		    (long)i + 1, nonce, ac, ak, NULL, time(NULL)), 1);
		ck_assert_int_eq(skd_keygen_ra_forward(&der, &len, req, req_len,
		    (long)i + 1, nonces[i], cc, ck, NULL, time(NULL)), 1);
		ck_assert(skd_store_add_request(carol, ids[i], der, len,
		    env("SKD_CAROL_DN")));
		OPENSSL_free(req);
		OPENSSL_free(der);
	}
	kills = kill_until_done(conf, log, ids, KILL_RA, 30, 150);
	memset(&who, 0, sizeof(who));
	who.key = eph;
	for (i = 0; i < KILL_RA; i++) {
		ck_assert(skd_store_read_response(carol, &msgs, &n, ids[i]));
		ck_assert_uint_eq(n, 1);
		ck_assert_msg(skd_keygen_ra_open(&res, &inner, &inner_len,
		    msgs[0].data, msgs[0].len, nonces[i], trust, time(NULL)),
		    "%s", res.text);
		ck_assert_int_eq(res.status, 0);
		skd_keygen_result_clear(&res);
		ck_assert_msg(skd_keygen_open_response(&res, inner, inner_len,
		    nonce, &who, trust, time(NULL)), "%s", res.text);
		ck_assert_int_eq(res.status, 0);
		ck_assert_int_eq(X509_check_private_key(res.cert, res.key), 1);
		skd_keygen_result_clear(&res);
		OPENSSL_free(inner);
		skd_store_blobs_free(msgs, n);
	}
	ck_assert_int_eq(count_archives() - before, KILL_RA);
	fprintf(stderr, "ra kill -9: %d requests, %zu kills\n", KILL_RA, kills);
	X509_STORE_free(trust);
	X509_free(ac);
	X509_free(cc);
	EVP_PKEY_free(ak);
	EVP_PKEY_free(ck);
	EVP_PKEY_free(eph);
	skd_store_close(carol);
	free(conf);
}
END_TEST

Suite *
skd_suite_keygen_dir(void)
{
	Suite *s = suite_create("keygen_dir");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, fixture, NULL);
	tcase_add_checked_fixture(tc, skd_test_tmp_setup,
	    skd_test_tmp_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_bare_key_cli, 0, 2);
	tcase_add_test(tc, test_cert_shroud_cli);
	tcase_add_loop_test(tc, test_cli_keygen, 0, 3);
	tcase_add_test(tc, test_secret_cli);
	tcase_add_test(tc, test_join_by_name);
	tcase_add_test(tc, test_kill9_keygen);
	tcase_add_test(tc, test_recover_cli);
	tcase_add_test(tc, test_kill9_recover);
	tcase_add_test(tc, test_pop_dir);
	tcase_add_test(tc, test_kill9_pop);
	tcase_add_test(tc, test_ra_cli);
	tcase_add_test(tc, test_kill9_ra);
	suite_add_tcase(s, tc);
	return s;
}
