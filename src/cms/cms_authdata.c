/*
 * cms_authdata.c: AuthenticatedData with a password RecipientInfo
 * (skd_authdata.h), on templates mirroring RFC 5652 9.1 and RFC 3211.
 */
#include <limits.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "asn1/skd_asn1.h"
#include "cms/skd_authdata.h"
#include "cms/skd_cms.h"

/* PasswordRecipientInfo (RFC 3211 2.2; RFC 5652 6.2.4) */
typedef struct SKD_PWRI_st {
	ASN1_INTEGER		*version;		/* 0 */
	X509_ALGOR		*keyDerivationAlgorithm; /* [0] OPTIONAL */
	X509_ALGOR		*keyEncryptionAlgorithm;
	ASN1_OCTET_STRING	*encryptedKey;
} SKD_PWRI;
DECLARE_ASN1_FUNCTIONS(SKD_PWRI)

ASN1_SEQUENCE(SKD_PWRI) = {
	ASN1_SIMPLE(SKD_PWRI, version, ASN1_INTEGER),
	ASN1_IMP_OPT(SKD_PWRI, keyDerivationAlgorithm, X509_ALGOR, 0),
	ASN1_SIMPLE(SKD_PWRI, keyEncryptionAlgorithm, X509_ALGOR),
	ASN1_SIMPLE(SKD_PWRI, encryptedKey, ASN1_OCTET_STRING)
} ASN1_SEQUENCE_END(SKD_PWRI)

/* RecipientInfo: only pwri [3] is accepted here. */
typedef struct SKD_AUTH_RI_st {
	int type;
	union {
		SKD_PWRI *pwri;
	} d;
} SKD_AUTH_RI;
DEFINE_STACK_OF(SKD_AUTH_RI)
DECLARE_ASN1_FUNCTIONS(SKD_AUTH_RI)

ASN1_CHOICE(SKD_AUTH_RI) = {
	ASN1_IMP(SKD_AUTH_RI, d.pwri, SKD_PWRI, 3)
} ASN1_CHOICE_END(SKD_AUTH_RI)

typedef struct SKD_ENCAP_CI_st {
	ASN1_OBJECT		*eContentType;
	ASN1_OCTET_STRING	*eContent;	/* [0] EXPLICIT OPTIONAL */
} SKD_ENCAP_CI;
DECLARE_ASN1_FUNCTIONS(SKD_ENCAP_CI)

ASN1_SEQUENCE(SKD_ENCAP_CI) = {
	ASN1_SIMPLE(SKD_ENCAP_CI, eContentType, ASN1_OBJECT),
	ASN1_EXP_OPT(SKD_ENCAP_CI, eContent, ASN1_OCTET_STRING, 0)
} ASN1_SEQUENCE_END(SKD_ENCAP_CI)

/* AuthenticatedData without originatorInfo (RFC 5652 9.1; skd neither
 * sends nor accepts it). */
typedef struct SKD_AUTH_DATA_st {
	ASN1_INTEGER			*version;
	STACK_OF(SKD_AUTH_RI)		*recipientInfos;
	X509_ALGOR			*macAlgorithm;
	X509_ALGOR			*digestAlgorithm;	/* [1] OPT */
	SKD_ENCAP_CI			*encapContentInfo;
	STACK_OF(X509_ATTRIBUTE)	*authAttrs;		/* [2] OPT */
	ASN1_OCTET_STRING		*mac;
	STACK_OF(X509_ATTRIBUTE)	*unauthAttrs;		/* [3] OPT */
} SKD_AUTH_DATA;
DECLARE_ASN1_FUNCTIONS(SKD_AUTH_DATA)

ASN1_SEQUENCE(SKD_AUTH_DATA) = {
	ASN1_SIMPLE(SKD_AUTH_DATA, version, ASN1_INTEGER),
	ASN1_SET_OF(SKD_AUTH_DATA, recipientInfos, SKD_AUTH_RI),
	ASN1_SIMPLE(SKD_AUTH_DATA, macAlgorithm, X509_ALGOR),
	ASN1_IMP_OPT(SKD_AUTH_DATA, digestAlgorithm, X509_ALGOR, 1),
	ASN1_SIMPLE(SKD_AUTH_DATA, encapContentInfo, SKD_ENCAP_CI),
	ASN1_IMP_SET_OF_OPT(SKD_AUTH_DATA, authAttrs, X509_ATTRIBUTE, 2),
	ASN1_SIMPLE(SKD_AUTH_DATA, mac, ASN1_OCTET_STRING),
	ASN1_IMP_SET_OF_OPT(SKD_AUTH_DATA, unauthAttrs, X509_ATTRIBUTE, 3)
} ASN1_SEQUENCE_END(SKD_AUTH_DATA)

typedef struct SKD_AUTH_CI_st {
	ASN1_OBJECT	*contentType;
	SKD_AUTH_DATA	*content;		/* [0] EXPLICIT */
} SKD_AUTH_CI;
DECLARE_ASN1_FUNCTIONS(SKD_AUTH_CI)

/* authAttrs as the MAC covers them: SET OF Attribute, universal tag
 * (RFC 5652 9.2). */
typedef STACK_OF(X509_ATTRIBUTE) SKD_AUTH_ATTRS;
DECLARE_ASN1_ITEM(SKD_AUTH_ATTRS)
ASN1_ITEM_TEMPLATE(SKD_AUTH_ATTRS) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_OF, 0, AuthAttributes,
	    X509_ATTRIBUTE)
ASN1_ITEM_TEMPLATE_END(SKD_AUTH_ATTRS)

ASN1_SEQUENCE(SKD_AUTH_CI) = {
	ASN1_SIMPLE(SKD_AUTH_CI, contentType, ASN1_OBJECT),
	ASN1_EXP(SKD_AUTH_CI, content, SKD_AUTH_DATA, 0)
} ASN1_SEQUENCE_END(SKD_AUTH_CI)

IMPLEMENT_ASN1_FUNCTIONS(SKD_PWRI)
IMPLEMENT_ASN1_FUNCTIONS(SKD_AUTH_RI)
IMPLEMENT_ASN1_FUNCTIONS(SKD_ENCAP_CI)
IMPLEMENT_ASN1_FUNCTIONS(SKD_AUTH_DATA)
IMPLEMENT_ASN1_FUNCTIONS(SKD_AUTH_CI)

#define MAC_KEY_LEN	32
#define SALT_LEN	16
#define DEFAULT_ITER	20000
#define MAX_ITER	200000	/* bounds the work an unauthenticated message costs */

/* ---- RFC 3211 2.3: the PWRI-KEK key wrap ---- */

static const EVP_CIPHER *
aes_cbc(size_t kek_len)
{
	return kek_len == 16 ? EVP_aes_128_cbc() : kek_len == 24 ?
	    EVP_aes_192_cbc() : kek_len == 32 ? EVP_aes_256_cbc() : NULL;
}

static const EVP_CIPHER *
aes_ecb(size_t kek_len)
{
	return kek_len == 16 ? EVP_aes_128_ecb() : kek_len == 24 ?
	    EVP_aes_192_ecb() : kek_len == 32 ? EVP_aes_256_ecb() : NULL;
}

/* out = cipher(in) with no padding; one when all len bytes came out. */
static int
crypt_raw(unsigned char *out, const unsigned char *in, size_t len,
    const EVP_CIPHER *c, const unsigned char *key, const unsigned char *iv,
    int enc)
{
	EVP_CIPHER_CTX *ctx;
	int n = 0, ok;

	if (len > INT_MAX || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return 0;
	ok = EVP_CipherInit_ex(ctx, c, NULL, key, iv, enc) &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) &&
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) && n == (int)len;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

int
skd_pwri_kek_wrap(unsigned char *out, size_t *out_len,
    const unsigned char *kek, size_t kek_len, const unsigned char iv[16],
    const unsigned char *key, size_t key_len)
{
	const EVP_CIPHER *c = aes_cbc(kek_len);
	unsigned char *tmp;
	size_t olen = (key_len + 4 + 15) / 16 * 16;
	int ok;

	if (olen < 32)
		olen = 32;
	if (c == NULL || key_len < 3 || key_len > 255 || *out_len < olen ||
	    (tmp = OPENSSL_malloc(2 * olen)) == NULL)
		return 0;
	tmp[0] = (unsigned char)key_len;
	tmp[1] = (unsigned char)~key[0];
	tmp[2] = (unsigned char)~key[1];
	tmp[3] = (unsigned char)~key[2];
	memcpy(tmp + 4, key, key_len);
	/* Two CBC passes, the second's IV the first's last block. */
	ok = (olen == key_len + 4 ||
	    RAND_bytes(tmp + 4 + key_len, (int)(olen - 4 - key_len)) == 1) &&
	    crypt_raw(tmp + olen, tmp, olen, c, kek, iv, 1) &&
	    crypt_raw(out, tmp + olen, olen, c, kek, tmp + 2 * olen - 16, 1);
	OPENSSL_clear_free(tmp, 2 * olen);
	if (ok)
		*out_len = olen;
	return ok;
}

int
skd_pwri_kek_unwrap(unsigned char *out, size_t *out_len,
    const unsigned char *kek, size_t kek_len, const unsigned char iv[16],
    const unsigned char *in, size_t in_len)
{
	const EVP_CIPHER *cbc = aes_cbc(kek_len), *ecb = aes_ecb(kek_len);
	unsigned char *d = NULL, *b = NULL, *p = NULL;
	size_t i, j, n = in_len / 16;
	int ok = 0;

	if (cbc == NULL || in_len < 32 || in_len % 16 != 0 ||
	    (d = OPENSSL_malloc(in_len)) == NULL ||
	    (b = OPENSSL_malloc(in_len)) == NULL ||
	    (p = OPENSSL_malloc(in_len)) == NULL)
		goto err;
	/* Undo the second pass: B_i = D(C_i) ^ C_(i-1), its IV being B_n. */
	if (!crypt_raw(d, in, in_len, ecb, kek, NULL, 0))
		goto err;
	for (j = 0; j < 16; j++)
		b[(n - 1) * 16 + j] = d[(n - 1) * 16 + j] ^ in[(n - 2) * 16 + j];
	for (i = 0; i + 1 < n; i++) {
		for (j = 0; j < 16; j++)
			b[i * 16 + j] = d[i * 16 + j] ^ (i == 0 ?
			    b[(n - 1) * 16 + j] : in[(i - 1) * 16 + j]);
	}
	/* The first pass with the given IV. */
	if (!crypt_raw(p, b, in_len, cbc, kek, iv, 0))
		goto err;
	/* Check bytes (2.3.2); a wrong password fails here or at the MAC. */
	if (((p[1] ^ p[4]) & (p[2] ^ p[5]) & (p[3] ^ p[6])) != 0xff ||
	    p[0] < 3 || (size_t)p[0] + 4 > in_len || *out_len < p[0])
		goto err;
	memcpy(out, p + 4, p[0]);
	*out_len = p[0];
	ok = 1;
 err:
	if (d != NULL)
		OPENSSL_clear_free(d, in_len);
	if (b != NULL)
		OPENSSL_clear_free(b, in_len);
	if (p != NULL)
		OPENSSL_clear_free(p, in_len);
	return ok;
}

/* ---- algorithms ---- */

static const EVP_MD *
hmac_md(const X509_ALGOR *a)
{
	switch (OBJ_obj2nid(a->algorithm)) {
	case NID_hmacWithSHA256:
		return EVP_sha256();
	case NID_hmacWithSHA384:
		return EVP_sha384();
	case NID_hmacWithSHA512:
		return EVP_sha512();
	}
	return NULL;
}

/* hmacWithSHA* parameters: absent or NULL (RFC 4231 3.1). */
static int
hmac_params_ok(const X509_ALGOR *a)
{
	return a->parameter == NULL || a->parameter->type == V_ASN1_NULL;
}

static const EVP_MD *
digest_md(const X509_ALGOR *a)
{
	if (a == NULL || (a->parameter != NULL &&
	    a->parameter->type != V_ASN1_NULL))
		return NULL;
	switch (OBJ_obj2nid(a->algorithm)) {
	case NID_sha256:
		return EVP_sha256();
	case NID_sha384:
		return EVP_sha384();
	case NID_sha512:
		return EVP_sha512();
	}
	return NULL;
}

/*
 * RFC 5652 9.2: authAttrs MUST be present when the content is not
 * id-data; the MAC is then over their DER, and they carry contentType
 * (binding eContentType) and messageDigest (binding the content).  Builds
 * them for type/content when *attrs is NULL, else checks them; writes
 * their DER to *out (OPENSSL_free).  One on success.
 */
static int
auth_attrs(STACK_OF(X509_ATTRIBUTE) **attrs, unsigned char **out,
    size_t *out_len, const EVP_MD *md, const ASN1_OBJECT *type,
    const unsigned char *content, size_t content_len)
{
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	ASN1_TYPE *t;
	ASN1_OCTET_STRING *os;
	int i, ok = 0;

	*out = NULL;
	if (!EVP_Digest(content, content_len, dg, &dl, md, NULL))
		return 0;
	if (*attrs == NULL) {
		if (X509at_add1_attr_by_NID(attrs, NID_pkcs9_contentType,
		    V_ASN1_OBJECT, (const unsigned char *)type, -1) == NULL ||
		    X509at_add1_attr_by_NID(attrs, NID_pkcs9_messageDigest,
		    V_ASN1_OCTET_STRING, dg, (int)dl) == NULL)
			return 0;
	} else {
		if (sk_X509_ATTRIBUTE_num(*attrs) != 2)
			return 0;
		for (i = 0; i < 2; i++) {
			X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(*attrs, i);

			if (X509_ATTRIBUTE_count(a) != 1)
				return 0;
			t = X509_ATTRIBUTE_get0_type(a, 0);
			switch (OBJ_obj2nid(X509_ATTRIBUTE_get0_object(a))) {
			case NID_pkcs9_contentType:
				if (t->type != V_ASN1_OBJECT ||
				    OBJ_cmp(t->value.object, type) != 0)
					return 0;
				break;
			case NID_pkcs9_messageDigest:
				os = t->value.octet_string;
				if (t->type != V_ASN1_OCTET_STRING ||
				    os->length != (int)dl ||
				    CRYPTO_memcmp(os->data, dg, dl) != 0)
					return 0;
				break;
			default:
				return 0;
			}
		}
		if (OBJ_obj2nid(X509_ATTRIBUTE_get0_object(
		    sk_X509_ATTRIBUTE_value(*attrs, 0))) ==
		    OBJ_obj2nid(X509_ATTRIBUTE_get0_object(
		    sk_X509_ATTRIBUTE_value(*attrs, 1))))
			return 0;
	}
	ok = skd_der_encode(ASN1_ITEM_rptr(SKD_AUTH_ATTRS), *attrs, out,
	    out_len);
	return ok;
}

/* The KEK from PBKDF2 (RFC 8018 A.2) as the pwri names it. */
static int
derive_kek(unsigned char *kek, size_t kek_len, const X509_ALGOR *kdf,
    const unsigned char *pw, size_t pw_len)
{
	PBKDF2PARAM *pp = NULL;
	const EVP_MD *md = EVP_sha1();
	long iter;
	int ok = 0;

	if (kdf == NULL || OBJ_obj2nid(kdf->algorithm) != NID_id_pbkdf2 ||
	    (pp = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
	    kdf->parameter)) == NULL ||
	    pp->salt->type != V_ASN1_OCTET_STRING)
		goto err;
	iter = ASN1_INTEGER_get(pp->iter);
	if (iter < 1 || iter > MAX_ITER ||
	    (pp->keylength != NULL &&
	    ASN1_INTEGER_get(pp->keylength) != (long)kek_len))
		goto err;
	if (pp->prf != NULL) {
		switch (OBJ_obj2nid(pp->prf->algorithm)) {
		case NID_hmacWithSHA1:
			md = EVP_sha1();
			break;
		case NID_hmacWithSHA256:
			md = EVP_sha256();
			break;
		case NID_hmacWithSHA384:
			md = EVP_sha384();
			break;
		case NID_hmacWithSHA512:
			md = EVP_sha512();
			break;
		default:
			goto err;
		}
	}
	ok = PKCS5_PBKDF2_HMAC((const char *)pw, (int)pw_len,
	    pp->salt->value.octet_string->data,
	    pp->salt->value.octet_string->length, (int)iter, md,
	    (int)kek_len, kek) == 1;
 err:
	PBKDF2PARAM_free(pp);
	return ok;
}

/* ---- build ---- */

int
skd_authdata_is(const unsigned char *der, size_t len)
{
	static const unsigned char oid[] = { 0x06, 0x0b, 0x2a, 0x86, 0x48,
	    0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x02 };
	size_t hdr;

	/* SEQUENCE, definite length, then the OID. */
	if (len < 2 || der[0] != 0x30)
		return 0;
	hdr = (der[1] & 0x80) ? 2 + (size_t)(der[1] & 0x7f) : 2;
	return len >= hdr + sizeof(oid) &&
	    memcmp(der + hdr, oid, sizeof(oid)) == 0;
}

int
skd_authdata_build(unsigned char **out, size_t *out_len,
    const ASN1_OBJECT *content_type, const unsigned char *content,
    size_t content_len, const unsigned char *password, size_t password_len,
    int pbkdf2_iter)
{
	SKD_AUTH_CI *ci = NULL;
	SKD_AUTH_DATA *ad;
	SKD_AUTH_RI *ri = NULL;
	SKD_PWRI *pw;
	X509_ALGOR *kalg = NULL;
	ASN1_OCTET_STRING *ivos = NULL;
	unsigned char mkey[MAC_KEY_LEN], salt[SALT_LEN], iv[16], kek[32];
	unsigned char wrapped[64], mac[EVP_MAX_MD_SIZE], *aa = NULL;
	size_t wlen = sizeof(wrapped), aa_len = 0;
	unsigned int mlen = 0;
	int ok = 0;

	*out = NULL;
	*out_len = 0;
	if (content_len > INT_MAX || password == NULL || password_len == 0 ||
	    password_len > INT_MAX)
		return 0;
	if (pbkdf2_iter <= 0)
		pbkdf2_iter = DEFAULT_ITER;
	if (RAND_priv_bytes(mkey, sizeof(mkey)) != 1 ||
	    RAND_bytes(salt, sizeof(salt)) != 1 ||
	    RAND_bytes(iv, sizeof(iv)) != 1 ||
	    PKCS5_PBKDF2_HMAC((const char *)password, (int)password_len, salt,
	    sizeof(salt), pbkdf2_iter, EVP_sha256(), sizeof(kek), kek) != 1 ||
	    !skd_pwri_kek_wrap(wrapped, &wlen, kek, sizeof(kek), iv, mkey,
	    sizeof(mkey)))
		goto err;
	/* _new makes the [0] content (not OPTIONAL) too. */
	if ((ci = SKD_AUTH_CI_new()) == NULL || (ad = ci->content) == NULL ||
	    (ri = SKD_AUTH_RI_new()) == NULL ||
	    (ri->d.pwri = pw = SKD_PWRI_new()) == NULL)
		goto err;
	ri->type = 0;
	ASN1_OBJECT_free(ci->contentType);
	ci->contentType = OBJ_txt2obj(SKD_AUTHDATA_OID, 1);
	/* RFC 3211 2.2: keyDerivationAlgorithm PBKDF2; keyEncryption
	 * id-alg-PWRI-KEK with the block cipher and its IV. */
	if (ci->contentType == NULL ||
	    (pw->keyDerivationAlgorithm = PKCS5_pbkdf2_set(pbkdf2_iter, salt,
	    sizeof(salt), NID_hmacWithSHA256, sizeof(kek))) == NULL ||
	    (kalg = X509_ALGOR_new()) == NULL ||
	    (ivos = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(ivos, iv, sizeof(iv)) ||
	    !X509_ALGOR_set0(kalg, OBJ_nid2obj(NID_aes_256_cbc),
	    V_ASN1_OCTET_STRING, ivos))
		goto err;
	ivos = NULL;
	if (!X509_ALGOR_set0(pw->keyEncryptionAlgorithm,
	    OBJ_nid2obj(NID_id_alg_PWRI_KEK), V_ASN1_SEQUENCE, NULL) ||
	    ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(X509_ALGOR), kalg,
	    &pw->keyEncryptionAlgorithm->parameter) == NULL ||
	    !ASN1_OCTET_STRING_set(pw->encryptedKey, wrapped, (int)wlen) ||
	    !sk_SKD_AUTH_RI_push(ad->recipientInfos, ri))
		goto err;
	ri = NULL;
	/* 9.2: authAttrs (contentType, messageDigest), the MAC over them. */
	if ((ad->digestAlgorithm = X509_ALGOR_new()) == NULL ||
	    !X509_ALGOR_set0(ad->digestAlgorithm, OBJ_nid2obj(NID_sha256),
	    V_ASN1_UNDEF, NULL) ||
	    !auth_attrs(&ad->authAttrs, &aa, &aa_len, EVP_sha256(),
	    content_type, content, content_len) ||
	    HMAC(EVP_sha256(), mkey, sizeof(mkey), aa, aa_len, mac, &mlen) ==
	    NULL)
		goto err;
	if (!X509_ALGOR_set0(ad->macAlgorithm, OBJ_nid2obj(NID_hmacWithSHA256),
	    V_ASN1_NULL, NULL) ||
	    (ad->encapContentInfo->eContent = ASN1_OCTET_STRING_new()) ==
	    NULL ||
	    !ASN1_OCTET_STRING_set(ad->encapContentInfo->eContent, content,
	    (int)content_len) ||
	    !ASN1_OCTET_STRING_set(ad->mac, mac, (int)mlen))
		goto err;
	ASN1_OBJECT_free(ad->encapContentInfo->eContentType);
	if ((ad->encapContentInfo->eContentType = OBJ_dup(content_type)) ==
	    NULL)
		goto err;
	ok = skd_der_encode(ASN1_ITEM_rptr(SKD_AUTH_CI), ci, out, out_len);
 err:
	OPENSSL_cleanse(mkey, sizeof(mkey));
	OPENSSL_cleanse(kek, sizeof(kek));
	OPENSSL_free(aa);
	ASN1_OCTET_STRING_free(ivos);
	X509_ALGOR_free(kalg);
	SKD_AUTH_RI_free(ri);
	SKD_AUTH_CI_free(ci);
	return ok;
}

/* ---- read ---- */

/* Strict decode and the shape skd accepts. */
static SKD_AUTH_CI *
decode(const unsigned char *der, size_t len)
{
	SKD_AUTH_CI *ci;
	SKD_AUTH_DATA *ad;
	ASN1_OBJECT *want;
	int same;

	if ((ci = skd_der_decode(ASN1_ITEM_rptr(SKD_AUTH_CI), der, len)) ==
	    NULL)
		return NULL;
	ad = ci->content;
	want = OBJ_txt2obj(SKD_AUTHDATA_OID, 1);
	same = want != NULL && OBJ_cmp(ci->contentType, want) == 0;
	ASN1_OBJECT_free(want);
	if (!same ||
	    ASN1_INTEGER_get(ad->version) != 0 ||
	    sk_SKD_AUTH_RI_num(ad->recipientInfos) != 1 ||
	    ad->authAttrs == NULL || digest_md(ad->digestAlgorithm) == NULL ||
	    ad->unauthAttrs != NULL ||
	    ad->encapContentInfo->eContent == NULL ||
	    hmac_md(ad->macAlgorithm) == NULL ||
	    !hmac_params_ok(ad->macAlgorithm)) {
		SKD_AUTH_CI_free(ci);
		return NULL;
	}
	return ci;
}

int
skd_authdata_peek(unsigned char **out, size_t *out_len,
    ASN1_OBJECT **out_type, const unsigned char *der, size_t len)
{
	SKD_AUTH_CI *ci;
	const ASN1_OCTET_STRING *c;
	int ok = 0;

	*out = NULL;
	*out_len = 0;
	if (out_type != NULL)
		*out_type = NULL;
	if ((ci = decode(der, len)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	c = ci->content->encapContentInfo->eContent;
	if ((*out = OPENSSL_memdup(c->length > 0 ? c->data :
	    (const unsigned char *)"", c->length > 0 ? (size_t)c->length :
	    1)) == NULL ||
	    (out_type != NULL && (*out_type = OBJ_dup(
	    ci->content->encapContentInfo->eContentType)) == NULL)) {
		OPENSSL_free(*out);
		*out = NULL;
		goto err;
	}
	*out_len = (size_t)c->length;
	ok = 1;
 err:
	SKD_AUTH_CI_free(ci);
	return ok;
}

int
skd_authdata_verify(const unsigned char *der, size_t len,
    const unsigned char *password, size_t password_len)
{
	SKD_AUTH_CI *ci;
	SKD_AUTH_DATA *ad;
	SKD_PWRI *pw;
	X509_ALGOR *kalg = NULL;
	const EVP_MD *md;
	const ASN1_OCTET_STRING *c;
	unsigned char kek[32], mkey[255], mac[EVP_MAX_MD_SIZE], *aa = NULL;
	size_t kek_len, mlen = sizeof(mkey), aa_len = 0;
	unsigned int maclen = 0;
	int rc = -1;

	if ((ci = decode(der, len)) == NULL) {
		ERR_clear_error();
		return -1;
	}
	ad = ci->content;
	pw = sk_SKD_AUTH_RI_value(ad->recipientInfos, 0)->d.pwri;
	md = hmac_md(ad->macAlgorithm);
	if (ASN1_INTEGER_get(pw->version) != 0 ||
	    OBJ_obj2nid(pw->keyEncryptionAlgorithm->algorithm) !=
	    NID_id_alg_PWRI_KEK ||
	    (kalg = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR),
	    pw->keyEncryptionAlgorithm->parameter)) == NULL ||
	    kalg->parameter == NULL ||
	    kalg->parameter->type != V_ASN1_OCTET_STRING ||
	    kalg->parameter->value.octet_string->length != 16)
		goto err;
	switch (OBJ_obj2nid(kalg->algorithm)) {
	case NID_aes_128_cbc:
		kek_len = 16;
		break;
	case NID_aes_192_cbc:
		kek_len = 24;
		break;
	case NID_aes_256_cbc:
		kek_len = 32;
		break;
	default:
		goto err;
	}
	c = ad->encapContentInfo->eContent;
	/* The attributes bind the content and its type (9.2). */
	if (!auth_attrs(&ad->authAttrs, &aa, &aa_len,
	    digest_md(ad->digestAlgorithm),
	    ad->encapContentInfo->eContentType, c->data, (size_t)c->length))
		goto err;
	if (!derive_kek(kek, kek_len, pw->keyDerivationAlgorithm, password,
	    password_len))
		goto err;
	rc = 0;
	if (!skd_pwri_kek_unwrap(mkey, &mlen, kek, kek_len,
	    kalg->parameter->value.octet_string->data,
	    ASN1_STRING_get0_data(pw->encryptedKey),
	    (size_t)ASN1_STRING_length(pw->encryptedKey)) ||
	    HMAC(md, mkey, (int)mlen, aa, aa_len, mac, &maclen) == NULL)
		goto err;
	/* Constant time (RFC 5652 9.3 leaves it to us). */
	if ((int)maclen == ad->mac->length &&
	    CRYPTO_memcmp(mac, ad->mac->data, maclen) == 0)
		rc = 1;
 err:
	OPENSSL_cleanse(kek, sizeof(kek));
	OPENSSL_cleanse(mkey, sizeof(mkey));
	OPENSSL_free(aa);
	X509_ALGOR_free(kalg);
	SKD_AUTH_CI_free(ci);
	ERR_clear_error();
	return rc;
}
