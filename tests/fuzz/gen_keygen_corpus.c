/*
 * gen_keygen_corpus.c: writes the seeds of fuzz_keygen (ServerKeyGenRequest
 * values with PKCS#10 and CRMF templates, the CRMF CertReqMsgs alone, their
 * ShroudWithPublicKey parameters, a ServerKeyGenResponse and
 * two AsymmetricKeyPackages of throwaway keys) from the project's own
 * builders.  gen_corpus.sh does not know it (it removes corpus/ whole):
 * after running it, run
 *   cc -std=c11 -Isrc -Itests -D_GNU_SOURCE -o /tmp/g \
 *       tests/fuzz/gen_keygen_corpus.c build/libskd.a \
 *       $(pkg-config --libs openssl ldap uuid) -pthread
 *   mkdir -p tests/fuzz/corpus/fuzz_keygen && /tmp/g tests/fuzz/corpus/fuzz_keygen
 */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include "asn1/skd_akp.h"
#include "asn1/skd_asn1.h"
#include "cms/skd_cms.h"
#include "client/skd_keygen.h"
#include "cms/skd_authdata.h"
static void wr(const char *d, const char *n, const unsigned char *p, size_t l)
{ char path[512]; FILE *f; snprintf(path, sizeof path, "%s/%s", d, n); f = fopen(path, "wb"); fwrite(p, 1, l, f); fclose(f); }
int main(int argc, char **argv)
{
	const char *d = argv[1];
	EVP_PKEY *ec = skd_kgen_generate(SKD_KGEN_P256), *rsa = skd_kgen_generate(SKD_KGEN_RSA2048);
	unsigned char *der = NULL; size_t len = 0; int i;
	(void)argc;
	skd_asn1_init();
	skd_akp_encode_key(&der, &len, ec); wr(d, "akp-p256.der", der, len); OPENSSL_free(der);
	skd_akp_encode_key(&der, &len, rsa); wr(d, "akp-rsa2048.der", der, len); OPENSSL_free(der);
	/* A request signed by a throwaway self-signed cert: take its control value. */
	{
		X509 *x = X509_new(); struct skd_keygen_req r; unsigned char nonce[16] = {0}, ski[3] = {1,2,3};
		struct skd_cms_verified *v = NULL; SKD_PKI_DATA *pd; X509_NAME *n = X509_NAME_new();
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"seed", -1, -1, 0);
		X509_set_version(x, 2); ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
		X509_set_subject_name(x, n); X509_set_issuer_name(x, n);
		X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, NULL); X509_time_adj_ex(X509_getm_notAfter(x), 1, 0, NULL);
		X509_set_pubkey(x, ec); X509_sign(x, ec, EVP_sha256());
		/* 3, 4: CRMF templates (--template crmf), their CertReqMsg
		 * also alone (crmf-3.der, crmf-4.der). */
		for (i = 0; i < 5; i++) {
			memset(&r, 0, sizeof r);
			r.type = i == 0 || i == 3 ? SKD_KGEN_P256 : i == 1 ? SKD_KGEN_RSA3072 : i == 4 ? SKD_KGEN_RSA2048 : SKD_KGEN_P384;
			r.shroud = i == 0 || i == 3 ? SKD_KEYGEN_BARE_KEY : i == 1 || i == 4 ? SKD_KEYGEN_CERT : SKD_KEYGEN_CERT_ID;
			r.crmf = i >= 3;
			if (i == 4) {
				r.exts = sk_X509_EXTENSION_new_null();
				sk_X509_EXTENSION_push(r.exts, X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage, "emailProtection"));
			}
			r.bare_key = i == 0 || i == 3 ? rsa : NULL; r.ski = ski; r.ski_len = 3; r.shroud_cert = x; r.no_archive = i == 2;
			skd_keygen_request(&der, &len, &r, 1, nonce, x, ec, NULL, 0);
			skd_cms_verify(&v, der, len, NULL, 0);
			pd = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_DATA), v->content, v->content_len);
			{
				SKD_TAGGED_ATTRIBUTE *ta = sk_SKD_TAGGED_ATTRIBUTE_value(pd->controlSequence, 0);
				ASN1_TYPE *t = sk_ASN1_TYPE_value(ta->attrValues, 0);
				unsigned char *vd = NULL; int vl = i2d_ASN1_TYPE(t, &vd); char nm[64];
				SKD_SERVER_KEY_GEN_REQUEST *s = skd_der_decode(ASN1_ITEM_rptr(SKD_SERVER_KEY_GEN_REQUEST), vd, (size_t)vl);
				unsigned char *pp = NULL; int pl = i2d_ASN1_TYPE(s->shroudMethod->parameter, &pp);
				snprintf(nm, sizeof nm, "skgreq-%d.der", i); wr(d, nm, vd, (size_t)vl);
				snprintf(nm, sizeof nm, "shroud-%d.der", i); if (i < 3) wr(d, nm, pp, (size_t)pl);
				if (r.crmf) {
					unsigned char *cd = NULL; size_t cl = 0;
					skd_der_encode(ASN1_ITEM_rptr(SKD_CRMF_MSG), s->certificateRequest->d.crm, &cd, &cl);
					snprintf(nm, sizeof nm, "crmf-%d.der", i); wr(d, nm, cd, cl); OPENSSL_free(cd);
				}
				OPENSSL_free(vd); OPENSSL_free(pp); SKD_SERVER_KEY_GEN_REQUEST_free(s);
			}
			SKD_PKI_DATA_free(pd); skd_cms_verified_free(v); v = NULL; OPENSSL_free(der);
			sk_X509_EXTENSION_pop_free(r.exts, X509_EXTENSION_free);
		}
	}
	{
		SKD_SERVER_KEY_GEN_RESPONSE *r = SKD_SERVER_KEY_GEN_RESPONSE_new();
		ASN1_INTEGER_set(r->cmsBodyPartId, 4); ASN1_INTEGER_set(r->requestBodyPartId, 1);
		skd_der_encode(ASN1_ITEM_rptr(SKD_SERVER_KEY_GEN_RESPONSE), r, &der, &len);
		wr(d, "skgresp.der", der, len);
	}
	{
		/* An AuthenticatedData under the password "fuzz". */
		static const unsigned char body[] = { 0x30, 0x0c, 0x30, 0x00,
		    0x30, 0x00, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00 };

		skd_authdata_build(&der, &len, OBJ_nid2obj(NID_pkcs7_data),
		    body, sizeof(body), (const unsigned char *)"fuzz", 4, 10);
		wr(d, "authdata.der", der, len);
	}
	return 0;
}
