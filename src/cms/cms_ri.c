/*
 * cms_ri.c: bare RecipientInfos (RFC 5652 6.2) around a chosen key, for
 * glKey.glkWrapped (RFC 5275 3.1.13, 5).  See skd_recip.h.
 *
 * The types below mirror RFC 5652's ASN.1 module (IMPLICIT TAGS) as OpenSSL
 * templates; OpenSSL does all DER encoding and decoding, and the SET OF sort.
 */
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "asn1/skd_asn1.h"
#include "cms/skd_recip.h"

/* Largest encryptedKey accepted (RSA-8192), and KDF/ECDH secrets. */
#define RI_MAX_EK	1024
#define RI_MAX_SECRET	256

#define RI_ERR(reason, msg) ERR_raise_data(ERR_LIB_CMS, (reason), "%s", (msg))

/*
 * IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber }
 * One that is built borrows the recipient certificate's (or pub's)
 * issuer and serial (borrowed set) instead of copying them: a copy of the
 * Name is a decode with its canonical encoding, a tenth of the CPU of a
 * ktri recipient in a rekey's profile (docs/perf/history.md, round 6).  They
 * outlive the build (skd_ri_build_set borrows them), encoding only reads
 * the two, and freeing a borrowing one frees the structure alone
 * (ri_ias_cb), whoever frees it.  Decoded ones own their fields.
 */
typedef struct {
	X509_NAME	*issuer;
	ASN1_INTEGER	*serial;
	int		 borrowed;	/* not in the encoding */
} SKD_RI_IAS;

static int
ri_ias_cb(int op, ASN1_VALUE **pval, const ASN1_ITEM *it, void *exarg)
{
	SKD_RI_IAS *ias;

	(void)it;
	(void)exarg;
	if (op == ASN1_OP_FREE_PRE && (ias = (SKD_RI_IAS *)*pval) != NULL &&
	    ias->borrowed) {
		OPENSSL_free(ias);
		*pval = NULL;
		return 2;	/* freed here: the fields are the cert's */
	}
	return 1;
}

ASN1_SEQUENCE_cb(SKD_RI_IAS, ri_ias_cb) = {
	ASN1_SIMPLE(SKD_RI_IAS, issuer, X509_NAME),
	ASN1_SIMPLE(SKD_RI_IAS, serial, ASN1_INTEGER)
} static_ASN1_SEQUENCE_END_cb(SKD_RI_IAS, SKD_RI_IAS)

/* RecipientIdentifier ::= CHOICE { issuerAndSerialNumber,
 *     subjectKeyIdentifier [0] SubjectKeyIdentifier } */
#define RI_RID_IAS	0
#define RI_RID_SKI	1
typedef struct {
	int type;
	union {
		SKD_RI_IAS		*ias;
		ASN1_OCTET_STRING	*ski;
	} d;
} SKD_RI_RID;

ASN1_CHOICE(SKD_RI_RID) = {
	ASN1_SIMPLE(SKD_RI_RID, d.ias, SKD_RI_IAS),
	ASN1_IMP(SKD_RI_RID, d.ski, ASN1_OCTET_STRING, 0)
} static_ASN1_CHOICE_END(SKD_RI_RID)

/* KeyTransRecipientInfo ::= SEQUENCE { version, rid,
 *     keyEncryptionAlgorithm, encryptedKey } */
typedef struct {
	int32_t			 version;
	SKD_RI_RID		*rid;
	X509_ALGOR		*kea;
	ASN1_OCTET_STRING	*ek;
} SKD_KTRI;

ASN1_SEQUENCE(SKD_KTRI) = {
	ASN1_EMBED(SKD_KTRI, version, INT32),
	ASN1_SIMPLE(SKD_KTRI, rid, SKD_RI_RID),
	ASN1_SIMPLE(SKD_KTRI, kea, X509_ALGOR),
	ASN1_SIMPLE(SKD_KTRI, ek, ASN1_OCTET_STRING)
} static_ASN1_SEQUENCE_END(SKD_KTRI)

/* OtherKeyAttribute and KEKIdentifier (RFC 5652 6.2.3) are the asn1
 * module's SKD_OTHER_KEY_ATTRIBUTE and SKD_KEK_IDENTIFIER, which GLKey's
 * glIdentifier uses too. */

/* RecipientKeyIdentifier ::= SEQUENCE { subjectKeyIdentifier,
 *     date GeneralizedTime OPTIONAL, other OtherKeyAttribute OPTIONAL } */
typedef struct {
	ASN1_OCTET_STRING	*ski;
	ASN1_GENERALIZEDTIME	*date;
	SKD_OTHER_KEY_ATTRIBUTE	*other;
} SKD_RI_RKEYID;

ASN1_SEQUENCE(SKD_RI_RKEYID) = {
	ASN1_SIMPLE(SKD_RI_RKEYID, ski, ASN1_OCTET_STRING),
	ASN1_OPT(SKD_RI_RKEYID, date, ASN1_GENERALIZEDTIME),
	ASN1_OPT(SKD_RI_RKEYID, other, SKD_OTHER_KEY_ATTRIBUTE)
} static_ASN1_SEQUENCE_END(SKD_RI_RKEYID)

/* KeyAgreeRecipientIdentifier ::= CHOICE { issuerAndSerialNumber,
 *     rKeyId [0] IMPLICIT RecipientKeyIdentifier } */
#define RI_KARID_IAS	0
#define RI_KARID_RKEYID	1
typedef struct {
	int type;
	union {
		SKD_RI_IAS	*ias;
		SKD_RI_RKEYID	*rkeyid;
	} d;
} SKD_RI_KARID;

ASN1_CHOICE(SKD_RI_KARID) = {
	ASN1_SIMPLE(SKD_RI_KARID, d.ias, SKD_RI_IAS),
	ASN1_IMP(SKD_RI_KARID, d.rkeyid, SKD_RI_RKEYID, 0)
} static_ASN1_CHOICE_END(SKD_RI_KARID)

/* RecipientEncryptedKey ::= SEQUENCE { rid, encryptedKey } */
typedef struct {
	SKD_RI_KARID		*rid;
	ASN1_OCTET_STRING	*ek;
} SKD_RI_REK;

ASN1_SEQUENCE(SKD_RI_REK) = {
	ASN1_SIMPLE(SKD_RI_REK, rid, SKD_RI_KARID),
	ASN1_SIMPLE(SKD_RI_REK, ek, ASN1_OCTET_STRING)
} static_ASN1_SEQUENCE_END(SKD_RI_REK)

DEFINE_STACK_OF(SKD_RI_REK)

/* OriginatorPublicKey ::= SEQUENCE { algorithm, publicKey BIT STRING } */
typedef struct {
	X509_ALGOR	*alg;
	ASN1_BIT_STRING	*pub;
} SKD_RI_OPK;

ASN1_SEQUENCE(SKD_RI_OPK) = {
	ASN1_SIMPLE(SKD_RI_OPK, alg, X509_ALGOR),
	ASN1_SIMPLE(SKD_RI_OPK, pub, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(SKD_RI_OPK)

/* OriginatorIdentifierOrKey ::= CHOICE { issuerAndSerialNumber,
 *     subjectKeyIdentifier [0], originatorKey [1] OriginatorPublicKey } */
#define RI_OIK_IAS	0
#define RI_OIK_SKI	1
#define RI_OIK_KEY	2
typedef struct {
	int type;
	union {
		SKD_RI_IAS		*ias;
		ASN1_OCTET_STRING	*ski;
		SKD_RI_OPK		*key;
	} d;
} SKD_RI_OIK;

ASN1_CHOICE(SKD_RI_OIK) = {
	ASN1_SIMPLE(SKD_RI_OIK, d.ias, SKD_RI_IAS),
	ASN1_IMP(SKD_RI_OIK, d.ski, ASN1_OCTET_STRING, 0),
	ASN1_IMP(SKD_RI_OIK, d.key, SKD_RI_OPK, 1)
} static_ASN1_CHOICE_END(SKD_RI_OIK)

/* KeyAgreeRecipientInfo ::= SEQUENCE { version (3),
 *     originator [0] EXPLICIT OriginatorIdentifierOrKey,
 *     ukm [1] EXPLICIT UserKeyingMaterial OPTIONAL,
 *     keyEncryptionAlgorithm, recipientEncryptedKeys } */
typedef struct {
	int32_t			 version;
	SKD_RI_OIK		*originator;
	ASN1_OCTET_STRING	*ukm;
	X509_ALGOR		*kea;
	STACK_OF(SKD_RI_REK)	*reks;
} SKD_KARI;

ASN1_SEQUENCE(SKD_KARI) = {
	ASN1_EMBED(SKD_KARI, version, INT32),
	ASN1_EXP(SKD_KARI, originator, SKD_RI_OIK, 0),
	ASN1_EXP_OPT(SKD_KARI, ukm, ASN1_OCTET_STRING, 1),
	ASN1_SIMPLE(SKD_KARI, kea, X509_ALGOR),
	ASN1_SEQUENCE_OF(SKD_KARI, reks, SKD_RI_REK)
} static_ASN1_SEQUENCE_END(SKD_KARI)

/* KEKRecipientInfo ::= SEQUENCE { version (4), kekid,
 *     keyEncryptionAlgorithm, encryptedKey } */
typedef struct {
	int32_t			 version;
	SKD_KEK_IDENTIFIER	*kekid;
	X509_ALGOR		*kea;
	ASN1_OCTET_STRING	*ek;
} SKD_KEKRI;

ASN1_SEQUENCE(SKD_KEKRI) = {
	ASN1_EMBED(SKD_KEKRI, version, INT32),
	ASN1_SIMPLE(SKD_KEKRI, kekid, SKD_KEK_IDENTIFIER),
	ASN1_SIMPLE(SKD_KEKRI, kea, X509_ALGOR),
	ASN1_SIMPLE(SKD_KEKRI, ek, ASN1_OCTET_STRING)
} static_ASN1_SEQUENCE_END(SKD_KEKRI)

/* PasswordRecipientInfo ::= SEQUENCE { version (0),
 *     keyDerivationAlgorithm [0] OPTIONAL, keyEncryptionAlgorithm,
 *     encryptedKey }  (RFC 3211; parsed so it can be listed, never opened) */
typedef struct {
	int32_t			 version;
	X509_ALGOR		*kda;
	X509_ALGOR		*kea;
	ASN1_OCTET_STRING	*ek;
} SKD_PWRI;

ASN1_SEQUENCE(SKD_PWRI) = {
	ASN1_EMBED(SKD_PWRI, version, INT32),
	ASN1_IMP_OPT(SKD_PWRI, kda, X509_ALGOR, 0),
	ASN1_SIMPLE(SKD_PWRI, kea, X509_ALGOR),
	ASN1_SIMPLE(SKD_PWRI, ek, ASN1_OCTET_STRING)
} static_ASN1_SEQUENCE_END(SKD_PWRI)

/* OtherRecipientInfo ::= SEQUENCE { oriType, oriValue ANY DEFINED BY } */
typedef struct {
	ASN1_OBJECT	*type;
	ASN1_TYPE	*value;
} SKD_ORI;

ASN1_SEQUENCE(SKD_ORI) = {
	ASN1_SIMPLE(SKD_ORI, type, ASN1_OBJECT),
	ASN1_SIMPLE(SKD_ORI, value, ASN1_ANY)
} static_ASN1_SEQUENCE_END(SKD_ORI)

/* RecipientInfo ::= CHOICE { ktri, kari [1], kekri [2], pwri [3],
 *     ori [4] }; the selector values equal enum skd_ri_type. */
typedef struct {
	int type;
	union {
		SKD_KTRI	*ktri;
		SKD_KARI	*kari;
		SKD_KEKRI	*kekri;
		SKD_PWRI	*pwri;
		SKD_ORI	*ori;
	} d;
} SKD_RI;

ASN1_CHOICE(SKD_RI) = {
	ASN1_SIMPLE(SKD_RI, d.ktri, SKD_KTRI),
	ASN1_IMP(SKD_RI, d.kari, SKD_KARI, 1),
	ASN1_IMP(SKD_RI, d.kekri, SKD_KEKRI, 2),
	ASN1_IMP(SKD_RI, d.pwri, SKD_PWRI, 3),
	ASN1_IMP(SKD_RI, d.ori, SKD_ORI, 4)
} static_ASN1_CHOICE_END(SKD_RI)

DEFINE_STACK_OF(SKD_RI)

/* RecipientInfos ::= SET SIZE (1..MAX) OF RecipientInfo */
ASN1_ITEM_TEMPLATE(SKD_RI_SET) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_OF, 0, RecipientInfos, SKD_RI)
static_ASN1_ITEM_TEMPLATE_END(SKD_RI_SET)

/* EncryptedContentInfo ::= SEQUENCE { contentType,
 *     contentEncryptionAlgorithm,
 *     encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL } */
typedef struct {
	ASN1_OBJECT		*type;
	X509_ALGOR		*alg;
	ASN1_OCTET_STRING	*content;
} SKD_RI_ECI;

ASN1_SEQUENCE(SKD_RI_ECI) = {
	ASN1_SIMPLE(SKD_RI_ECI, type, ASN1_OBJECT),
	ASN1_SIMPLE(SKD_RI_ECI, alg, X509_ALGOR),
	ASN1_IMP_OPT(SKD_RI_ECI, content, ASN1_OCTET_STRING, 0)
} static_ASN1_SEQUENCE_END(SKD_RI_ECI)

/* EnvelopedData ::= SEQUENCE { version, originatorInfo [0] OPTIONAL,
 *     recipientInfos, encryptedContentInfo, unprotectedAttrs [1] OPTIONAL }.
 * Only built here, never with originatorInfo or unprotectedAttrs, so the
 * template leaves both out. */
typedef struct {
	int32_t			 version;
	STACK_OF(SKD_RI)	*ris;
	SKD_RI_ECI		*eci;
} SKD_RI_ENV;

ASN1_SEQUENCE(SKD_RI_ENV) = {
	ASN1_EMBED(SKD_RI_ENV, version, INT32),
	ASN1_SET_OF(SKD_RI_ENV, ris, SKD_RI),
	ASN1_SIMPLE(SKD_RI_ENV, eci, SKD_RI_ECI)
} static_ASN1_SEQUENCE_END(SKD_RI_ENV)

/* ContentInfo ::= SEQUENCE { contentType, content [0] EXPLICIT ANY } with
 * the content fixed to EnvelopedData. */
typedef struct {
	ASN1_OBJECT	*type;
	SKD_RI_ENV	*env;
} SKD_RI_CI;

ASN1_SEQUENCE(SKD_RI_CI) = {
	ASN1_SIMPLE(SKD_RI_CI, type, ASN1_OBJECT),
	ASN1_EXP(SKD_RI_CI, env, SKD_RI_ENV, 0)
} static_ASN1_SEQUENCE_END(SKD_RI_CI)

/*
 * Small helpers.
 */

static int
ri_key_len_ok(size_t len)
{
	return len == 16 || len == 24 || len == 32;
}

static const EVP_CIPHER *
ri_wrap_cipher(size_t kek_len)
{
	switch (kek_len) {
	case 16:
		return EVP_aes_128_wrap();
	case 24:
		return EVP_aes_192_wrap();
	case 32:
		return EVP_aes_256_wrap();
	}
	return NULL;
}

/* The RFC 3565 id-aesNNN-wrap NID for a key length, NID_undef if none. */
static int
ri_wrap_nid(size_t kek_len)
{
	switch (kek_len) {
	case 16:
		return NID_id_aes128_wrap;
	case 24:
		return NID_id_aes192_wrap;
	case 32:
		return NID_id_aes256_wrap;
	}
	return NID_undef;
}

static size_t
ri_wrap_nid_len(int nid)
{
	switch (nid) {
	case NID_id_aes128_wrap:
		return 16;
	case NID_id_aes192_wrap:
		return 24;
	case NID_id_aes256_wrap:
		return 32;
	}
	return 0;
}

/*
 * ri_aes_wrap wraps (enc = 1) or unwraps (enc = 0) in under kek with the
 * RFC 3394 AES key wrap into out, which has room for in_len + 8 bytes.
 */
static int
ri_aes_wrap(unsigned char *out, size_t *out_len, const unsigned char *kek,
    size_t kek_len, const unsigned char *in, size_t in_len, int enc)
{
	const EVP_CIPHER *cipher = ri_wrap_cipher(kek_len);
	EVP_CIPHER_CTX *ctx = NULL;
	int len, fin, ok = 0;

	/* RFC 3394 2: at least two 64-bit blocks of plaintext. */
	if (cipher == NULL || in_len % 8 != 0 || in_len < (enc ? 16 : 24) ||
	    in_len > RI_MAX_EK) {
		RI_ERR(CMS_R_INVALID_KEY_LENGTH, "key wrap input length");
		goto err;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		goto err;
	}
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (!EVP_CipherInit_ex(ctx, cipher, NULL, kek, NULL, enc)) {
		goto err;
	}
	if (!EVP_CipherUpdate(ctx, out, &len, in, (int)in_len)) {
		goto err;
	}
	if (!EVP_CipherFinal_ex(ctx, out + len, &fin)) {
		goto err;
	}
	*out_len = (size_t)len + (size_t)fin;
	ok = 1;
 err:
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/* ri_algor_nid returns the NID of alg's OID. */
static int
ri_algor_nid(const X509_ALGOR *alg)
{
	const ASN1_OBJECT *obj;

	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	return OBJ_obj2nid(obj);
}

/* ri_algor_params_absent is true when alg has no parameters (or, when
 * null_ok, NULL ones). */
static int
ri_algor_params_absent(const X509_ALGOR *alg, int null_ok)
{
	int ptype;

	X509_ALGOR_get0(NULL, &ptype, NULL, alg);
	return ptype == V_ASN1_UNDEF || (null_ok && ptype == V_ASN1_NULL);
}

/* ri_algor_unpack decodes alg's SEQUENCE parameters as it; caller frees
 * the result with ASN1_item_free (or the type's own free). */
static void *
ri_algor_unpack(const X509_ALGOR *alg, const ASN1_ITEM *it)
{
	const void *pval;
	int ptype;

	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	if (ptype != V_ASN1_SEQUENCE || pval == NULL) {
		return NULL;
	}
	return ASN1_item_unpack(pval, it);
}

/* r's public key: its certificate's, or pub's (skd_recip.h). */
static EVP_PKEY *
ri_pub_key(const struct skd_ri_recipient *r)
{
	if (r->cert != NULL)
		return X509_get0_pubkey(r->cert);
	return r->pub != NULL ? r->pub->pkey : NULL;
}

static SKD_RI_IAS *
ri_ias_new(const struct skd_ri_recipient *r)
{
	SKD_RI_IAS *ias;
	const X509_NAME *issuer;
	const ASN1_INTEGER *serial;

	if (r->cert != NULL) {
		issuer = X509_get_issuer_name(r->cert);
		serial = X509_get0_serialNumber(r->cert);
	} else {
		issuer = r->pub->issuer;
		serial = r->pub->serial;
	}
	if (issuer == NULL || serial == NULL) {
		RI_ERR(ERR_R_PASSED_INVALID_ARGUMENT,
		    "recipient without issuer and serial");
		return NULL;
	}
	/* Borrowed from the certificate or pub (see SKD_RI_IAS). */
	if ((ias = OPENSSL_zalloc(sizeof(*ias))) == NULL)
		return NULL;
	ias->borrowed = 1;
	ias->issuer = (X509_NAME *)issuer;
	ias->serial = (ASN1_INTEGER *)serial;
	return ias;
}

static int
ri_ias_matches(const SKD_RI_IAS *ias, X509 *cert)
{
	return X509_NAME_cmp(ias->issuer, X509_get_issuer_name(cert)) == 0 &&
	    ASN1_INTEGER_cmp(ias->serial, X509_get0_serialNumber(cert)) == 0;
}

/* ri_recip_ski returns a copy of r's subjectKeyIdentifier (its
 * certificate's or pub's), or NULL (with a reason queued) when it has
 * none. */
static ASN1_OCTET_STRING *
ri_recip_ski(const struct skd_ri_recipient *r)
{
	const ASN1_OCTET_STRING *ski = r->cert != NULL ?
	    X509_get0_subject_key_id(r->cert) : r->pub->ski;

	if (ski == NULL) {
		RI_ERR(CMS_R_CERTIFICATE_HAS_NO_KEYID,
		    "certificate has no subjectKeyIdentifier");
		return NULL;
	}
	return ASN1_OCTET_STRING_dup(ski);
}

static int
ri_ski_matches(const ASN1_OCTET_STRING *ski, X509 *cert)
{
	const ASN1_OCTET_STRING *mine = X509_get0_subject_key_id(cert);

	return mine != NULL && ASN1_OCTET_STRING_cmp(ski, mine) == 0;
}

static int
ri_set_octets(ASN1_OCTET_STRING **os, const unsigned char *p, size_t len)
{
	if (*os == NULL && (*os = ASN1_OCTET_STRING_new()) == NULL) {
		return 0;
	}
	return ASN1_OCTET_STRING_set(*os, p, (int)len);
}

/* ri_algor_set_wrap sets alg to id-aesNNN-wrap with absent parameters
 * (RFC 3565 2.3.2). */
static int
ri_algor_set_wrap(X509_ALGOR *alg, size_t kek_len)
{
	int nid = ri_wrap_nid(kek_len);

	if (nid == NID_undef) {
		return 0;
	}
	return X509_ALGOR_set0(alg, OBJ_nid2obj(nid), V_ASN1_UNDEF, NULL);
}

/* ri_algor_set_seq sets alg to nid with the DER of val (of type it) as its
 * SEQUENCE parameters. */
static int
ri_algor_set_seq(X509_ALGOR *alg, int nid, const ASN1_VALUE *val,
    const ASN1_ITEM *it)
{
	ASN1_STRING *params = NULL;

	if (ASN1_item_pack((void *)val, it, &params) == NULL) {
		return 0;
	}
	if (!X509_ALGOR_set0(alg, OBJ_nid2obj(nid), V_ASN1_SEQUENCE, params)) {
		ASN1_STRING_free(params);
		return 0;
	}
	return 1;
}

/*
 * ktri (RFC 5652 6.2.1; RSA per RFC 3370 4.2.1 and RSAES-OAEP per RFC 3560).
 */

/* RSAES-OAEP-params for SHA-256 and MGF1-SHA-256 (RFC 3560 3). */
static int
ri_algor_set_oaep(X509_ALGOR *alg)
{
	RSA_OAEP_PARAMS *p = NULL;
	X509_ALGOR *mgfmd = NULL;
	int ok = 0;

	if ((p = RSA_OAEP_PARAMS_new()) == NULL ||
	    (p->hashFunc = X509_ALGOR_new()) == NULL ||
	    (p->maskGenFunc = X509_ALGOR_new()) == NULL ||
	    (mgfmd = X509_ALGOR_new()) == NULL) {
		goto err;
	}
	X509_ALGOR_set_md(p->hashFunc, EVP_sha256());
	X509_ALGOR_set_md(mgfmd, EVP_sha256());
	if (!ri_algor_set_seq(p->maskGenFunc, NID_mgf1, (ASN1_VALUE *)mgfmd,
	    ASN1_ITEM_rptr(X509_ALGOR))) {
		goto err;
	}
	if (!ri_algor_set_seq(alg, NID_rsaesOaep, (ASN1_VALUE *)p,
	    ASN1_ITEM_rptr(RSA_OAEP_PARAMS))) {
		goto err;
	}
	ok = 1;
 err:
	X509_ALGOR_free(mgfmd);
	RSA_OAEP_PARAMS_free(p);
	return ok;
}

/* ri_oaep_md maps a hash AlgorithmIdentifier (NULL: the SHA-1 default) to
 * a digest this module accepts for OAEP. */
static const EVP_MD *
ri_oaep_md(const X509_ALGOR *alg)
{
	if (alg == NULL) {
		return EVP_sha1();
	}
	if (!ri_algor_params_absent(alg, 1)) {
		return NULL;
	}
	switch (ri_algor_nid(alg)) {
	case NID_sha1:
		return EVP_sha1();
	case NID_sha224:
		return EVP_sha224();
	case NID_sha256:
		return EVP_sha256();
	case NID_sha384:
		return EVP_sha384();
	case NID_sha512:
		return EVP_sha512();
	}
	return NULL;
}

/* ri_ktri_padding configures ctx for the keyEncryptionAlgorithm kea. */
static int
ri_ktri_padding(EVP_PKEY_CTX *ctx, const X509_ALGOR *kea)
{
	RSA_OAEP_PARAMS *p = NULL;
	X509_ALGOR *mgfmd = NULL;
	const EVP_MD *md, *mgf;
	int ptype, ok = 0;

	switch (ri_algor_nid(kea)) {
	case NID_rsaEncryption:
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
	case NID_rsaesOaep:
		break;
	default:
		RI_ERR(CMS_R_UNSUPPORTED_KEY_ENCRYPTION_ALGORITHM,
		    "ktri keyEncryptionAlgorithm");
		return 0;
	}
	X509_ALGOR_get0(NULL, &ptype, NULL, kea);
	if (ptype == V_ASN1_SEQUENCE) {
		p = ri_algor_unpack(kea, ASN1_ITEM_rptr(RSA_OAEP_PARAMS));
		if (p == NULL) {
			RI_ERR(CMS_R_UNSUPPORTED_KEY_ENCRYPTION_ALGORITHM,
			    "RSAES-OAEP parameters");
			goto err;
		}
	} else if (ptype != V_ASN1_UNDEF) {
		RI_ERR(CMS_R_UNSUPPORTED_KEY_ENCRYPTION_ALGORITHM,
		    "RSAES-OAEP parameters");
		goto err;
	}
	/* RFC 3560 3: absent fields are SHA-1, MGF1-SHA-1, empty label. */
	if ((md = ri_oaep_md(p != NULL ? p->hashFunc : NULL)) == NULL) {
		RI_ERR(CMS_R_UNSUPPORTED_KEY_ENCRYPTION_ALGORITHM,
		    "RSAES-OAEP parameters");
		goto err;
	}
	mgf = EVP_sha1();
	if (p != NULL && p->maskGenFunc != NULL) {
		if (ri_algor_nid(p->maskGenFunc) != NID_mgf1) {
			RI_ERR(CMS_R_UNSUPPORTED_KEY_ENCRYPTION_ALGORITHM,
			    "RSAES-OAEP parameters");
			goto err;
		}
		mgfmd = ri_algor_unpack(p->maskGenFunc,
		    ASN1_ITEM_rptr(X509_ALGOR));
		if (mgfmd == NULL || (mgf = ri_oaep_md(mgfmd)) == NULL) {
			RI_ERR(CMS_R_UNSUPPORTED_KEY_ENCRYPTION_ALGORITHM,
			    "RSAES-OAEP parameters");
			goto err;
		}
	}
	if (p != NULL && p->pSourceFunc != NULL) {
		const ASN1_STRING *label;

		/* Only pSpecified with an empty label, i.e. the default. */
		X509_ALGOR_get0(NULL, &ptype, (const void **)&label,
		    p->pSourceFunc);
		if (ri_algor_nid(p->pSourceFunc) != NID_pSpecified ||
		    ptype != V_ASN1_OCTET_STRING ||
		    ASN1_STRING_length(label) != 0) {
			RI_ERR(CMS_R_UNSUPPORTED_KEY_ENCRYPTION_ALGORITHM,
			    "RSAES-OAEP parameters");
			goto err;
		}
	}
	if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, mgf) <= 0) {
		goto err;
	}
	ok = 1;
 err:
	X509_ALGOR_free(mgfmd);
	RSA_OAEP_PARAMS_free(p);
	return ok;
}

static SKD_RI *
ri_build_ktri(const unsigned char *key, size_t key_len,
    const struct skd_ri_recipient *r)
{
	SKD_RI *ri = NULL;
	SKD_KTRI *kt;
	EVP_PKEY *pub;
	EVP_PKEY_CTX *ctx = NULL, *use;
	unsigned char *ek = NULL;
	size_t ek_len = 0;

	if ((pub = ri_pub_key(r)) == NULL ||
	    !EVP_PKEY_is_a(pub, "RSA")) {
		RI_ERR(CMS_R_UNSUPPORTED_RECIPIENT_TYPE,
		    "ktri needs an rsaEncryption certificate");
		goto err;
	}
	if ((ri = (SKD_RI *)ASN1_item_new(ASN1_ITEM_rptr(SKD_RI))) == NULL ||
	    (kt = (SKD_KTRI *)ASN1_item_new(ASN1_ITEM_rptr(SKD_KTRI))) ==
	    NULL) {
		goto err;
	}
	ri->type = SKD_RI_KTRI;
	ri->d.ktri = kt;

	/* RFC 5652 6.2.1: version 0 for issuerAndSerialNumber, 2 for SKI. */
	if (r->flags & SKD_RI_OPT_SKI) {
		kt->version = 2;
		kt->rid->type = RI_RID_SKI;
		if ((kt->rid->d.ski = ri_recip_ski(r)) == NULL) {
			goto err;
		}
	} else {
		kt->version = 0;
		kt->rid->type = RI_RID_IAS;
		if ((kt->rid->d.ias = ri_ias_new(r)) == NULL) {
			goto err;
		}
	}
	/* RFC 3370 4.2.1: rsaEncryption with NULL parameters; RFC 3560 3. */
	if (r->flags & SKD_RI_OPT_OAEP) {
		if (!ri_algor_set_oaep(kt->kea)) {
			goto err;
		}
	} else if (!X509_ALGOR_set0(kt->kea, OBJ_nid2obj(NID_rsaEncryption),
	    V_ASN1_NULL, NULL)) {
		goto err;
	}

	/* The caller's context made ready for rsaEncryption (skd_recip.h),
	 * or one made here for kea. */
	if (r->cert == NULL && r->pub->ktri_ctx != NULL &&
	    !(r->flags & SKD_RI_OPT_OAEP)) {
		use = r->pub->ktri_ctx;
	} else if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL)) ==
	    NULL || EVP_PKEY_encrypt_init(ctx) <= 0 ||
	    !ri_ktri_padding(ctx, kt->kea)) {
		goto err;
	} else {
		use = ctx;
	}
	if (EVP_PKEY_encrypt(use, NULL, &ek_len, key, key_len) <= 0 ||
	    ek_len > RI_MAX_EK || (ek = OPENSSL_malloc(ek_len)) == NULL ||
	    EVP_PKEY_encrypt(use, ek, &ek_len, key, key_len) <= 0) {
		goto err;
	}
	ASN1_STRING_set0(kt->ek, ek, (int)ek_len);
	ek = NULL;
	EVP_PKEY_CTX_free(ctx);
	return ri;
 err:
	OPENSSL_free(ek);
	EVP_PKEY_CTX_free(ctx);
	ASN1_item_free((ASN1_VALUE *)ri, ASN1_ITEM_rptr(SKD_RI));
	return NULL;
}

/* ri_open_ktri decrypts kt's encryptedKey with pkey into a new buffer. */
static int
ri_open_ktri(unsigned char **out_key, size_t *out_len, const SKD_KTRI *kt,
    EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	size_t buf_len = 0, len;
	int ok = 0;

	if (!EVP_PKEY_is_a(pkey, "RSA")) {
		RI_ERR(CMS_R_UNSUPPORTED_RECIPIENT_TYPE,
		    "ktri needs an RSA key");
		goto err;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_decrypt_init(ctx) <= 0 || !ri_ktri_padding(ctx, kt->kea)) {
		goto err;
	}
	if (EVP_PKEY_decrypt(ctx, NULL, &buf_len, kt->ek->data,
	    (size_t)kt->ek->length) <= 0 || buf_len > RI_MAX_EK ||
	    (buf = OPENSSL_malloc(buf_len)) == NULL) {
		goto err;
	}
	len = buf_len;
	if (EVP_PKEY_decrypt(ctx, buf, &len, kt->ek->data,
	    (size_t)kt->ek->length) <= 0) {
		RI_ERR(CMS_R_DECRYPT_ERROR, "ktri");
		goto err;
	}
	if (!ri_key_len_ok(len)) {
		RI_ERR(CMS_R_INVALID_KEY_LENGTH, "ktri key length");
		goto err;
	}
	/* Hand over exactly the key, not the rest of the RSA-sized buffer. */
	if ((*out_key = OPENSSL_memdup(buf, len)) == NULL) {
		goto err;
	}
	*out_len = len;
	ok = 1;
 err:
	OPENSSL_clear_free(buf, buf_len);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/*
 * kari (RFC 5652 6.2.2, RFC 5753 3.1): ephemeral-static ECDH, one
 * KeyAgreeRecipientInfo per recipient.
 */

/* The dhSinglePass-stdDH-shaNNNkdf-scheme this module uses per curve. */
static const struct ri_kdf {
	int		 curve_nid;
	int		 kdf_nid;
	const char	*md;
} ri_kdfs[] = {
	{ NID_X9_62_prime256v1, NID_dhSinglePass_stdDH_sha256kdf_scheme,
	    "SHA256" },
	{ NID_secp384r1, NID_dhSinglePass_stdDH_sha384kdf_scheme, "SHA384" },
	{ NID_secp521r1, NID_dhSinglePass_stdDH_sha512kdf_scheme, "SHA512" },
};

/* Every stdDH scheme accepted on input (RFC 5753 7.1.4), by digest. */
static const struct ri_kdf ri_kdfs_in[] = {
	{ NID_undef, NID_dhSinglePass_stdDH_sha1kdf_scheme, "SHA1" },
	{ NID_undef, NID_dhSinglePass_stdDH_sha224kdf_scheme, "SHA224" },
	{ NID_undef, NID_dhSinglePass_stdDH_sha256kdf_scheme, "SHA256" },
	{ NID_undef, NID_dhSinglePass_stdDH_sha384kdf_scheme, "SHA384" },
	{ NID_undef, NID_dhSinglePass_stdDH_sha512kdf_scheme, "SHA512" },
};

/* ri_ec_curve_nid returns the named curve of an EC key, or NID_undef. */
static int
ri_ec_curve_nid(const EVP_PKEY *pkey, char *name, size_t name_len)
{
	if (!EVP_PKEY_is_a(pkey, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	    name, name_len, NULL)) {
		return NID_undef;
	}
	return OBJ_txt2nid(name);
}

/*
 * ri_kari_kek derives the key-encryption key for a kari: Z = ECDH(priv,
 * peer), then the ANSI X9.63 KDF with md over ECC-CMS-SharedInfo (RFC 5753
 * 7.2) built from wrap, ukm and the wrap key length, into kek.
 */
static int
ri_kari_kek(unsigned char *kek, size_t kek_len, EVP_PKEY *priv,
    EVP_PKEY *peer, const char *md, X509_ALGOR *wrap,
    ASN1_OCTET_STRING *ukm)
{
	EVP_PKEY_CTX *dctx = NULL;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	unsigned char z[RI_MAX_SECRET];
	unsigned char *info = NULL;
	size_t z_len = sizeof(z);
	int info_len, ok = 0;
	OSSL_PARAM params[4];

	if ((dctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL)) == NULL ||
	    EVP_PKEY_derive_init(dctx) <= 0 ||
	    EVP_PKEY_derive_set_peer(dctx, peer) <= 0 ||
	    EVP_PKEY_derive(dctx, z, &z_len) <= 0) {
		goto err;
	}
	if ((info_len = CMS_SharedInfo_encode(&info, wrap, ukm,
	    (int)kek_len)) <= 0) {
		goto err;
	}
	if ((kdf = EVP_KDF_fetch(NULL, "X963KDF", NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL) {
		goto err;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)md, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z,
	    z_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    info, (size_t)info_len);
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, kek, kek_len, params) <= 0) {
		goto err;
	}
	ok = 1;
 err:
	OPENSSL_cleanse(z, sizeof(z));
	OPENSSL_free(info);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	EVP_PKEY_CTX_free(dctx);
	return ok;
}

/*
 * A kari being built (RFC 5652 6.2.2, RFC 5753 3.1.1): one ephemeral key,
 * and recipientEncryptedKeys with one encrypted key for each recipient on
 * its curve.  What is the same for every recipient (the ephemeral key and
 * its ECDH context, the KDF, ECC-CMS-SharedInfo, which names the wrap,
 * ukm and key length, not the recipient: RFC 5753 7.2) is made once.
 */
struct ri_kari_build {
	SKD_RI			*ri;
	int			 curve;
	const struct ri_kdf	*kdf;
	EVP_PKEY		*eph;
	EVP_PKEY_CTX		*dctx;
	EVP_KDF_CTX		*kctx;
	unsigned char		*info;
	int			 info_len;
};

static void
ri_kari_end(struct ri_kari_build *b)
{
	EVP_PKEY_CTX_free(b->dctx);
	EVP_PKEY_free(b->eph);
	EVP_KDF_CTX_free(b->kctx);
	OPENSSL_free(b->info);
	memset(b, 0, sizeof(*b));
}

/* The curve of r's certificate (and its scheme), NID_undef if none this
 * module builds for. */
static int
ri_kari_curve(const struct skd_ri_recipient *r, const struct ri_kdf **kdf,
    char *grp, size_t grp_len)
{
	EVP_PKEY *peer;
	size_t i;
	int curve;

	*kdf = NULL;
	if ((peer = ri_pub_key(r)) == NULL ||
	    (curve = ri_ec_curve_nid(peer, grp, grp_len)) == NID_undef) {
		return NID_undef;
	}
	for (i = 0; i < sizeof(ri_kdfs) / sizeof(ri_kdfs[0]); i++) {
		if (ri_kdfs[i].curve_nid == curve) {
			*kdf = &ri_kdfs[i];
			return curve;
		}
	}
	return NID_undef;
}

/* Starts b: a kari for recipients on r's curve, with r's ukm. */
static int
ri_kari_begin(struct ri_kari_build *b, size_t key_len,
    const struct skd_ri_recipient *r)
{
	SKD_KARI *ka;
	SKD_RI_OPK *opk;
	X509_ALGOR *wrap = NULL;
	EVP_KDF *kdf = NULL;
	unsigned char *pt = NULL;
	size_t pt_len;
	char grp[64];
	int ok = 0;

	memset(b, 0, sizeof(*b));
	if ((b->curve = ri_kari_curve(r, &b->kdf, grp, sizeof(grp))) ==
	    NID_undef) {
		RI_ERR(CMS_R_UNSUPPORTED_RECIPIENT_TYPE,
		    "kari needs an EC P-256/384/521 certificate");
		goto err;
	}
	if (r->ukm_len > SKD_RI_MAX_ID || (r->ukm_len > 0 && r->ukm == NULL)) {
		RI_ERR(ERR_R_PASSED_INVALID_ARGUMENT, "kari ukm");
		goto err;
	}
	if ((b->ri = (SKD_RI *)ASN1_item_new(ASN1_ITEM_rptr(SKD_RI))) ==
	    NULL || (ka = (SKD_KARI *)ASN1_item_new(
	    ASN1_ITEM_rptr(SKD_KARI))) == NULL) {
		goto err;
	}
	b->ri->type = SKD_RI_KARI;
	b->ri->d.kari = ka;
	ka->version = 3;	/* RFC 5652 6.2.2 */
	if (r->ukm_len > 0 && !ri_set_octets(&ka->ukm, r->ukm, r->ukm_len)) {
		goto err;
	}

	/* The wrap matches the distributed key's strength, as OpenSSL does. */
	if ((wrap = X509_ALGOR_new()) == NULL ||
	    !ri_algor_set_wrap(wrap, key_len) ||
	    !ri_algor_set_seq(ka->kea, b->kdf->kdf_nid, (ASN1_VALUE *)wrap,
	    ASN1_ITEM_rptr(X509_ALGOR))) {
		goto err;
	}

	/* RFC 5753 3.1.1: originatorKey, id-ecPublicKey, ECPoint. */
	if ((b->eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", grp)) == NULL) {
		goto err;
	}
	if ((pt_len = EVP_PKEY_get1_encoded_public_key(b->eph, &pt)) == 0) {
		goto err;
	}
	ka->originator->type = RI_OIK_KEY;
	if ((opk = (SKD_RI_OPK *)ASN1_item_new(ASN1_ITEM_rptr(SKD_RI_OPK))) ==
	    NULL) {
		goto err;
	}
	ka->originator->d.key = opk;
	if (!X509_ALGOR_set0(opk->alg, OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
	    V_ASN1_UNDEF, NULL)) {
		goto err;
	}
	ASN1_STRING_set0(opk->pub, pt, (int)pt_len);
	pt = NULL;
	/* No unused bits: stop the encoder trimming trailing zero bits. */
	opk->pub->flags &= ~0x07L;
	opk->pub->flags |= ASN1_STRING_FLAG_BITS_LEFT;

	if ((b->dctx = EVP_PKEY_CTX_new_from_pkey(NULL, b->eph, NULL)) ==
	    NULL || EVP_PKEY_derive_init(b->dctx) <= 0 ||
	    (b->info_len = CMS_SharedInfo_encode(&b->info, wrap, ka->ukm,
	    (int)key_len)) <= 0 ||
	    (kdf = EVP_KDF_fetch(NULL, "X963KDF", NULL)) == NULL ||
	    (b->kctx = EVP_KDF_CTX_new(kdf)) == NULL) {
		goto err;
	}
	ok = 1;
 err:
	OPENSSL_free(pt);
	X509_ALGOR_free(wrap);
	EVP_KDF_free(kdf);
	if (!ok) {
		ASN1_item_free((ASN1_VALUE *)b->ri, ASN1_ITEM_rptr(SKD_RI));
		ri_kari_end(b);
	}
	return ok;
}

/*
 * The recipient's public key checked before ECDH with it: SP 800-56A
 * 5.6.2.3.4 partial validation (not the point at infinity, coordinates
 * in range, on the curve).  The full check that EVP_PKEY_derive_set_peer
 * makes adds n * Q = O, a scalar multiplication as costly as the ECDH
 * itself, which proves nothing more on the curves kari is built for here
 * (P-256/384/521, cofactor 1: every point on the curve but infinity has
 * order n).
 */
static int
ri_kari_peer_ok(EVP_PKEY *peer)
{
	EVP_PKEY_CTX *ctx;
	int ok;

	if (peer == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL)) == NULL) {
		return 0;
	}
	ok = EVP_PKEY_public_check_quick(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		RI_ERR(CMS_R_UNSUPPORTED_RECIPIENT_TYPE,
		    "kari recipient public key is not on its curve");
	}
	return ok;
}

/* Adds r (on b's curve) to b: Z = ECDH(ephemeral, r's key), the X9.63
 * KDF over the SharedInfo (RFC 5753 7.2), key wrapped under it. */
static int
ri_kari_add(struct ri_kari_build *b, const unsigned char *key,
    size_t key_len, const struct skd_ri_recipient *r)
{
	SKD_RI_REK *rek = NULL;
	unsigned char z[RI_MAX_SECRET], kek[32], ek[32 + 8];
	size_t z_len = sizeof(z), ek_len = 0;
	OSSL_PARAM params[4];
	int ok = 0;

	/* A key checked once (skd_ri_pub.checked) is not checked again. */
	if ((r->cert != NULL || !r->pub->checked) &&
	    !ri_kari_peer_ok(ri_pub_key(r))) {
		goto err;
	}
	if (EVP_PKEY_derive_set_peer_ex(b->dctx, ri_pub_key(r),
	    0) <= 0 || EVP_PKEY_derive(b->dctx, z, &z_len) <= 0) {
		goto err;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)b->kdf->md, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z,
	    z_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    b->info, (size_t)b->info_len);
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(b->kctx, kek, key_len, params) <= 0 ||
	    !ri_aes_wrap(ek, &ek_len, kek, key_len, key, key_len, 1)) {
		goto err;
	}
	if ((rek = (SKD_RI_REK *)ASN1_item_new(ASN1_ITEM_rptr(SKD_RI_REK))) ==
	    NULL || !ri_set_octets(&rek->ek, ek, ek_len)) {
		goto err;
	}
	if (r->flags & SKD_RI_OPT_SKI) {
		rek->rid->type = RI_KARID_RKEYID;
		if ((rek->rid->d.rkeyid = (SKD_RI_RKEYID *)ASN1_item_new(
		    ASN1_ITEM_rptr(SKD_RI_RKEYID))) == NULL) {
			goto err;
		}
		ASN1_OCTET_STRING_free(rek->rid->d.rkeyid->ski);
		if ((rek->rid->d.rkeyid->ski = ri_recip_ski(r)) == NULL) {
			goto err;
		}
	} else {
		rek->rid->type = RI_KARID_IAS;
		if ((rek->rid->d.ias = ri_ias_new(r)) == NULL) {
			goto err;
		}
	}
	if (!sk_SKD_RI_REK_push(b->ri->d.kari->reks, rek)) {
		goto err;
	}
	rek = NULL;
	ok = 1;
 err:
	OPENSSL_cleanse(z, sizeof(z));
	OPENSSL_cleanse(kek, sizeof(kek));
	ASN1_item_free((ASN1_VALUE *)rek, ASN1_ITEM_rptr(SKD_RI_REK));
	return ok;
}

/* ri_kari_peer makes the originator's ephemeral public key, on the curve of
 * the recipient's key priv. */
static EVP_PKEY *
ri_kari_peer(const SKD_RI_OIK *oik, EVP_PKEY *priv)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *peer = NULL;
	const SKD_RI_OPK *opk;
	const ASN1_OBJECT *obj;
	const void *pval;
	OSSL_PARAM params[3];
	char grp[64];
	int ptype, curve;

	/* RFC 5753 3.1.1: the originator MUST be originatorKey. */
	if (oik->type != RI_OIK_KEY) {
		RI_ERR(CMS_R_UNSUPPORTED_RECIPIENT_TYPE,
		    "kari originator");
		goto err;
	}
	opk = oik->d.key;
	if ((curve = ri_ec_curve_nid(priv, grp, sizeof(grp))) == NID_undef) {
		RI_ERR(CMS_R_UNSUPPORTED_RECIPIENT_TYPE,
		    "kari originator");
		goto err;
	}
	X509_ALGOR_get0(&obj, &ptype, &pval, opk->alg);
	if (OBJ_obj2nid(obj) != NID_X9_62_id_ecPublicKey) {
		RI_ERR(CMS_R_UNSUPPORTED_RECIPIENT_TYPE,
		    "kari originator");
		goto err;
	}
	/* Parameters absent, NULL, or the recipient's own named curve. */
	if (ptype == V_ASN1_OBJECT) {
		if (OBJ_obj2nid(pval) != curve) {
			RI_ERR(CMS_R_UNSUPPORTED_RECIPIENT_TYPE,
			    "kari originator");
			goto err;
		}
	} else if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL) {
		RI_ERR(CMS_R_UNSUPPORTED_RECIPIENT_TYPE,
		    "kari originator");
		goto err;
	}
	if ((opk->pub->flags & 0x07) != 0 || opk->pub->length <= 0) {
		RI_ERR(CMS_R_UNSUPPORTED_RECIPIENT_TYPE,
		    "kari originator");
		goto err;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, grp, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    opk->pub->data, (size_t)opk->pub->length);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &peer, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		goto err;
	}
	EVP_PKEY_CTX_free(ctx);
	return peer;
 err:
	EVP_PKEY_CTX_free(ctx);
	return NULL;
}

/* ri_open_kari unwraps the key in rek of ka with the private key pkey. */
static int
ri_open_kari(unsigned char **out_key, size_t *out_len, const SKD_KARI *ka,
    const SKD_RI_REK *rek, EVP_PKEY *pkey)
{
	EVP_PKEY *peer = NULL;
	X509_ALGOR *wrap = NULL;
	const struct ri_kdf *kdf = NULL;
	unsigned char kek[32], buf[RI_MAX_EK + 8];
	size_t kek_len, len = 0, i;
	int ok = 0, nid = ri_algor_nid(ka->kea);

	for (i = 0; i < sizeof(ri_kdfs_in) / sizeof(ri_kdfs_in[0]); i++) {
		if (ri_kdfs_in[i].kdf_nid == nid) {
			kdf = &ri_kdfs_in[i];
		}
	}
	if (kdf == NULL) {
		RI_ERR(CMS_R_UNSUPPORTED_KEY_ENCRYPTION_ALGORITHM,
		    "kari keyEncryptionAlgorithm");
		goto err;
	}
	/* RFC 5753 7.1.5: the parameters are the KeyWrapAlgorithm. */
	wrap = ri_algor_unpack(ka->kea, ASN1_ITEM_rptr(X509_ALGOR));
	if (wrap == NULL || (kek_len = ri_wrap_nid_len(ri_algor_nid(wrap))) ==
	    0 || !ri_algor_params_absent(wrap, 0)) {
		RI_ERR(CMS_R_UNSUPPORTED_KEY_ENCRYPTION_ALGORITHM,
		    "kari keyEncryptionAlgorithm");
		goto err;
	}
	if ((peer = ri_kari_peer(ka->originator, pkey)) == NULL) {
		goto err;
	}
	if (!ri_kari_kek(kek, kek_len, pkey, peer, kdf->md, wrap, ka->ukm)) {
		goto err;
	}
	if (!ri_aes_wrap(buf, &len, kek, kek_len, rek->ek->data,
	    (size_t)rek->ek->length, 0)) {
		RI_ERR(CMS_R_DECRYPT_ERROR, "kari unwrap");
		goto err;
	}
	if (!ri_key_len_ok(len)) {
		RI_ERR(CMS_R_INVALID_KEY_LENGTH, "kari key length");
		goto err;
	}
	if ((*out_key = OPENSSL_memdup(buf, len)) == NULL) {
		goto err;
	}
	*out_len = len;
	ok = 1;
 err:
	OPENSSL_cleanse(kek, sizeof(kek));
	OPENSSL_cleanse(buf, sizeof(buf));
	X509_ALGOR_free(wrap);
	EVP_PKEY_free(peer);
	return ok;
}

static int
ri_kari_rid_matches(const SKD_RI_KARID *rid, X509 *cert)
{
	if (rid->type == RI_KARID_IAS) {
		return ri_ias_matches(rid->d.ias, cert);
	}
	return ri_ski_matches(rid->d.rkeyid->ski, cert);
}

/*
 * kekri (RFC 5652 6.2.3, AES key wrap per RFC 3565).
 */

static SKD_RI *
ri_build_kekri(const unsigned char *key, size_t key_len,
    const struct skd_ri_recipient *r)
{
	SKD_RI *ri = NULL;
	SKD_KEKRI *kk;
	unsigned char ek[32 + 8];
	size_t ek_len;

	if (!ri_key_len_ok(r->kek_len) || r->kek == NULL ||
	    r->kek_id == NULL || r->kek_id_len == 0 ||
	    r->kek_id_len > SKD_RI_MAX_ID) {
		RI_ERR(CMS_R_INVALID_KEY_LENGTH, "kekri KEK or key id");
		goto err;
	}
	if ((ri = (SKD_RI *)ASN1_item_new(ASN1_ITEM_rptr(SKD_RI))) == NULL ||
	    (kk = (SKD_KEKRI *)ASN1_item_new(ASN1_ITEM_rptr(SKD_KEKRI))) ==
	    NULL) {
		goto err;
	}
	ri->type = SKD_RI_KEKRI;
	ri->d.kekri = kk;
	kk->version = 4;	/* RFC 5652 6.2.3 */
	if (!ri_set_octets(&kk->kekid->keyIdentifier, r->kek_id, r->kek_id_len) ||
	    !ri_algor_set_wrap(kk->kea, r->kek_len) ||
	    !ri_aes_wrap(ek, &ek_len, r->kek, r->kek_len, key, key_len, 1) ||
	    !ri_set_octets(&kk->ek, ek, ek_len)) {
		goto err;
	}
	return ri;
 err:
	ASN1_item_free((ASN1_VALUE *)ri, ASN1_ITEM_rptr(SKD_RI));
	return NULL;
}

static int
ri_open_kekri(unsigned char **out_key, size_t *out_len,
    const SKD_KEKRI *kk, const unsigned char *kek, size_t kek_len)
{
	unsigned char buf[RI_MAX_EK + 8];
	size_t len = 0;
	int ok = 0;

	if (ri_wrap_nid_len(ri_algor_nid(kk->kea)) != kek_len ||
	    !ri_algor_params_absent(kk->kea, 0)) {
		RI_ERR(CMS_R_UNSUPPORTED_KEY_ENCRYPTION_ALGORITHM,
		    "kekri keyEncryptionAlgorithm");
		goto err;
	}
	if (!ri_aes_wrap(buf, &len, kek, kek_len, kk->ek->data,
	    (size_t)kk->ek->length, 0)) {
		RI_ERR(CMS_R_DECRYPT_ERROR, "kekri unwrap");
		goto err;
	}
	if (!ri_key_len_ok(len)) {
		RI_ERR(CMS_R_INVALID_KEY_LENGTH, "kekri key length");
		goto err;
	}
	if ((*out_key = OPENSSL_memdup(buf, len)) == NULL) {
		goto err;
	}
	*out_len = len;
	ok = 1;
 err:
	OPENSSL_cleanse(buf, sizeof(buf));
	return ok;
}

/*
 * Parsing.
 */

/* ri_check checks the version and bounds of one parsed RecipientInfo. */
static int
ri_check(const SKD_RI *ri)
{
	const STACK_OF(SKD_RI_REK) *reks;
	int i;

	switch (ri->type) {
	case SKD_RI_KTRI:
		/* RFC 5652 6.2.1: version follows the rid choice. */
		if (ri->d.ktri->version !=
		    (ri->d.ktri->rid->type == RI_RID_SKI ? 2 : 0) ||
		    ri->d.ktri->ek->length > RI_MAX_EK) {
			return 0;
		}
		return 1;
	case SKD_RI_KARI:
		reks = ri->d.kari->reks;
		if (ri->d.kari->version != 3 || sk_SKD_RI_REK_num(reks) < 1) {
			return 0;
		}
		for (i = 0; i < sk_SKD_RI_REK_num(reks); i++) {
			if (sk_SKD_RI_REK_value(reks, i)->ek->length >
			    RI_MAX_EK) {
				return 0;
			}
		}
		return 1;
	case SKD_RI_KEKRI:
		return ri->d.kekri->version == 4 &&
		    ri->d.kekri->ek->length <= RI_MAX_EK;
	case SKD_RI_PWRI:
		return ri->d.pwri->version == 0;
	case SKD_RI_ORI:
		return 1;
	}
	return 0;
}

/*
 * ri_parse_set decodes der as a DER RecipientInfos: no trailing bytes, the
 * re-encoding identical (so no BER, unsorted SET OF or non-minimal
 * lengths), 1..SKD_RI_MAX_RECIPIENTS elements.  Caller frees the stack with
 * ri_free_set.
 */
static STACK_OF(SKD_RI) *
ri_parse_set(const unsigned char *der, size_t der_len)
{
	STACK_OF(SKD_RI) *set = NULL;
	const unsigned char *p = der;
	unsigned char *re = NULL;
	int re_len, n, i;

	if (der == NULL || der_len == 0 || der_len > SKD_RI_MAX_DER) {
		RI_ERR(CMS_R_ERROR_SETTING_RECIPIENTINFO,
		    "RecipientInfos empty or too large");
		goto err;
	}
	set = (STACK_OF(SKD_RI) *)ASN1_item_d2i(NULL, &p, (long)der_len,
	    ASN1_ITEM_rptr(SKD_RI_SET));
	if (set == NULL || p != der + der_len) {
		RI_ERR(CMS_R_ERROR_SETTING_RECIPIENTINFO,
		    "RecipientInfos undecodable or trailing bytes");
		goto err;
	}
	n = sk_SKD_RI_num(set);
	if (n < 1 || n > SKD_RI_MAX_RECIPIENTS) {
		RI_ERR(CMS_R_ERROR_SETTING_RECIPIENTINFO,
		    "RecipientInfos count out of bounds");
		goto err;
	}
	if ((re_len = ASN1_item_i2d((ASN1_VALUE *)set, &re,
	    ASN1_ITEM_rptr(SKD_RI_SET))) <= 0) {
		goto err;
	}
	if ((size_t)re_len != der_len || memcmp(re, der, der_len) != 0) {
		RI_ERR(CMS_R_ERROR_SETTING_RECIPIENTINFO,
		    "RecipientInfos not DER");
		goto err;
	}
	for (i = 0; i < n; i++) {
		if (!ri_check(sk_SKD_RI_value(set, i))) {
			RI_ERR(CMS_R_ERROR_SETTING_RECIPIENTINFO,
			    "RecipientInfo version or size");
			goto err;
		}
	}
	OPENSSL_free(re);
	return set;
 err:
	OPENSSL_free(re);
	ASN1_item_free((ASN1_VALUE *)set, ASN1_ITEM_rptr(SKD_RI_SET));
	return NULL;
}

static void
ri_free_set(STACK_OF(SKD_RI) *set)
{
	ASN1_item_free((ASN1_VALUE *)set, ASN1_ITEM_rptr(SKD_RI_SET));
}

/*
 * Public API.
 */

int
skd_ri_build_set(unsigned char **out_der, size_t *out_len,
    const unsigned char *key, size_t key_len,
    const struct skd_ri_recipient *recips, size_t n)
{
	STACK_OF(SKD_RI) *set = NULL;
	SKD_RI *ri = NULL;
	/* The kari of each curve for the recipients without a ukm. */
	struct ri_kari_build kb[sizeof(ri_kdfs) / sizeof(ri_kdfs[0])], one;
	unsigned char *der = NULL;
	size_t i, g;
	int der_len, ok = 0;

	*out_der = NULL;
	*out_len = 0;
	memset(kb, 0, sizeof(kb));
	memset(&one, 0, sizeof(one));
	if (key == NULL || !ri_key_len_ok(key_len) || recips == NULL ||
	    n < 1 || n > SKD_RI_MAX_RECIPIENTS) {
		RI_ERR(CMS_R_INVALID_KEY_LENGTH, "key length or recipients");
		goto err;
	}
	if ((set = sk_SKD_RI_new_reserve(NULL, (int)n)) == NULL) {
		goto err;
	}
	for (i = 0; i < n; i++) {
		const struct skd_ri_recipient *r = &recips[i];

		switch (r->type) {
		case SKD_RI_KTRI:
			ri = ri_pub_key(r) != NULL ?
			    ri_build_ktri(key, key_len, r) : NULL;
			break;
		case SKD_RI_KARI:
			if (ri_pub_key(r) == NULL) {
				ri = NULL;
				break;
			}
			if (r->ukm_len == 0) {
				/* RFC 5652 6.2.2: one kari for every
				 * recipient on this curve. */
				const struct ri_kdf *kdf;
				char grp[64];
				int curve = ri_kari_curve(r, &kdf, grp,
				    sizeof(grp));

				for (g = 0; g < sizeof(kb) / sizeof(kb[0]) &&
				    kb[g].ri != NULL && kb[g].curve != curve;
				    g++)
					;
				if (curve != NID_undef &&
				    g < sizeof(kb) / sizeof(kb[0])) {
					if (kb[g].ri == NULL && (!ri_kari_begin(
					    &kb[g], key_len, r) ||
					    !sk_SKD_RI_push(set, kb[g].ri))) {
						ASN1_item_free(
						    (ASN1_VALUE *)kb[g].ri,
						    ASN1_ITEM_rptr(SKD_RI));
						kb[g].ri = NULL;
						goto err;
					}
					if (!ri_kari_add(&kb[g], key, key_len,
					    r))
						goto err;
					continue;
				}
			}
			/* A ukm of its own: a kari of its own. */
			ri = NULL;
			if (ri_kari_begin(&one, key_len, r)) {
				ri = one.ri;
				if (!ri_kari_add(&one, key, key_len, r)) {
					ASN1_item_free((ASN1_VALUE *)ri,
					    ASN1_ITEM_rptr(SKD_RI));
					ri = NULL;
				}
				ri_kari_end(&one);
			}
			break;
		case SKD_RI_KEKRI:
			ri = ri_build_kekri(key, key_len, r);
			break;
		default:
			ri = NULL;
			break;
		}
		if (ri == NULL) {
			RI_ERR(CMS_R_ERROR_SETTING_RECIPIENTINFO,
			    "cannot build a RecipientInfo");
			goto err;
		}
		if (!sk_SKD_RI_push(set, ri)) {
			goto err;
		}
		ri = NULL;
	}
	/* The encoder sorts the SET OF into DER order. */
	if ((der_len = ASN1_item_i2d((ASN1_VALUE *)set, &der,
	    ASN1_ITEM_rptr(SKD_RI_SET))) <= 0) {
		goto err;
	}
	*out_der = der;
	*out_len = (size_t)der_len;
	der = NULL;
	ok = 1;
 err:
	/* The kari themselves belong to the set. */
	for (g = 0; g < sizeof(kb) / sizeof(kb[0]); g++)
		ri_kari_end(&kb[g]);
	ASN1_item_free((ASN1_VALUE *)ri, ASN1_ITEM_rptr(SKD_RI));
	ri_free_set(set);
	OPENSSL_free(der);
	return ok;
}

int
skd_ri_open_cert(unsigned char **out_key, size_t *out_key_len,
    const unsigned char *der, size_t der_len, X509 *cert, EVP_PKEY *pkey)
{
	STACK_OF(SKD_RI) *set = NULL;
	const SKD_RI *ri;
	int i, j, ok = 0, found = 0;

	*out_key = NULL;
	*out_key_len = 0;
	if (cert == NULL || pkey == NULL || X509_check_private_key(cert,
	    pkey) != 1) {
		RI_ERR(CMS_R_PRIVATE_KEY_DOES_NOT_MATCH_CERTIFICATE,
		    "certificate and key");
		goto err;
	}
	if ((set = ri_parse_set(der, der_len)) == NULL) {
		goto err;
	}
	/* The first RecipientInfo naming cert decides; no trying others. */
	for (i = 0; i < sk_SKD_RI_num(set) && !found; i++) {
		ri = sk_SKD_RI_value(set, i);
		if (ri->type == SKD_RI_KTRI) {
			const SKD_RI_RID *rid = ri->d.ktri->rid;

			if (rid->type == RI_RID_IAS ?
			    ri_ias_matches(rid->d.ias, cert) :
			    ri_ski_matches(rid->d.ski, cert)) {
				found = 1;
				ok = ri_open_ktri(out_key, out_key_len,
				    ri->d.ktri, pkey);
			}
		} else if (ri->type == SKD_RI_KARI) {
			const SKD_KARI *ka = ri->d.kari;

			for (j = 0; j < sk_SKD_RI_REK_num(ka->reks); j++) {
				const SKD_RI_REK *rek =
				    sk_SKD_RI_REK_value(ka->reks, j);

				if (ri_kari_rid_matches(rek->rid, cert)) {
					found = 1;
					ok = ri_open_kari(out_key,
					    out_key_len, ka, rek, pkey);
					break;
				}
			}
		}
	}
	if (!found) {
		RI_ERR(CMS_R_NO_MATCHING_RECIPIENT,
		    "no RecipientInfo for cert");
	}
 err:
	ri_free_set(set);
	return ok;
}

int
skd_ri_open_kek(unsigned char **out_key, size_t *out_key_len,
    const unsigned char *der, size_t der_len, const unsigned char *kek,
    size_t kek_len, const unsigned char *kek_id, size_t kek_id_len)
{
	STACK_OF(SKD_RI) *set = NULL;
	const SKD_RI *ri;
	const ASN1_OCTET_STRING *id;
	int i, ok = 0, found = 0;

	*out_key = NULL;
	*out_key_len = 0;
	if (kek == NULL || !ri_key_len_ok(kek_len) || kek_id == NULL ||
	    kek_id_len == 0 || kek_id_len > SKD_RI_MAX_ID) {
		RI_ERR(CMS_R_INVALID_KEY_LENGTH, "KEK or key id");
		goto err;
	}
	if ((set = ri_parse_set(der, der_len)) == NULL) {
		goto err;
	}
	for (i = 0; i < sk_SKD_RI_num(set) && !found; i++) {
		ri = sk_SKD_RI_value(set, i);
		if (ri->type != SKD_RI_KEKRI) {
			continue;
		}
		id = ri->d.kekri->kekid->keyIdentifier;
		if ((size_t)id->length == kek_id_len &&
		    memcmp(id->data, kek_id, kek_id_len) == 0) {
			found = 1;
			ok = ri_open_kekri(out_key, out_key_len, ri->d.kekri,
			    kek, kek_len);
		}
	}
	if (!found) {
		RI_ERR(CMS_R_NO_MATCHING_RECIPIENT, "no kekri for key id");
	}
 err:
	ri_free_set(set);
	return ok;
}

void
skd_ri_free_key(unsigned char *key, size_t key_len)
{
	OPENSSL_clear_free(key, key_len);
}

/* ri_entry_set_ias copies issuer and serial into e. */
static int
ri_entry_set_ias(struct skd_ri_entry *e, const SKD_RI_IAS *ias)
{
	e->rid_type = SKD_RI_RID_ISSUER_SERIAL;
	if ((e->issuer = X509_NAME_dup(ias->issuer)) == NULL ||
	    (e->serial = ASN1_INTEGER_dup(ias->serial)) == NULL) {
		return 0;
	}
	return 1;
}

static int
ri_entry_set_id(struct skd_ri_entry *e, enum skd_ri_rid_type t,
    const ASN1_OCTET_STRING *id)
{
	e->rid_type = t;
	e->id_len = (size_t)id->length;
	/* One extra byte so that an empty id still gets a buffer. */
	if ((e->id = OPENSSL_malloc(e->id_len + 1)) == NULL) {
		return 0;
	}
	memcpy(e->id, id->data, e->id_len);
	return 1;
}

int
skd_ri_list_recipients(struct skd_ri_entry **out_list, size_t *out_n,
    const unsigned char *der, size_t der_len)
{
	STACK_OF(SKD_RI) *set = NULL;
	struct skd_ri_entry *list = NULL, *e;
	size_t n = 0, cap = 0;
	int i, j, ok = 0;

	*out_list = NULL;
	*out_n = 0;
	if ((set = ri_parse_set(der, der_len)) == NULL) {
		goto err;
	}
	for (i = 0; i < sk_SKD_RI_num(set); i++) {
		const SKD_RI *ri = sk_SKD_RI_value(set, i);

		cap += ri->type == SKD_RI_KARI ?
		    (size_t)sk_SKD_RI_REK_num(ri->d.kari->reks) : 1;
	}
	if ((list = OPENSSL_zalloc(cap * sizeof(*list))) == NULL) {
		goto err;
	}
	for (i = 0; i < sk_SKD_RI_num(set); i++) {
		const SKD_RI *ri = sk_SKD_RI_value(set, i);

		if (ri->type == SKD_RI_KARI) {
			const SKD_KARI *ka = ri->d.kari;
			X509_ALGOR *wrap;
			int wrap_nid = NID_undef;

			/* A bad wrap is listed as NID_undef, not an error. */
			ERR_set_mark();
			if ((wrap = ri_algor_unpack(ka->kea,
			    ASN1_ITEM_rptr(X509_ALGOR))) != NULL) {
				wrap_nid = ri_algor_nid(wrap);
			}
			X509_ALGOR_free(wrap);
			ERR_pop_to_mark();
			for (j = 0; j < sk_SKD_RI_REK_num(ka->reks); j++) {
				const SKD_RI_KARID *rid =
				    sk_SKD_RI_REK_value(ka->reks, j)->rid;

				e = &list[n++];
				e->type = SKD_RI_KARI;
				e->version = ka->version;
				e->key_enc_nid = ri_algor_nid(ka->kea);
				e->wrap_nid = wrap_nid;
				if (rid->type == RI_KARID_IAS ?
				    !ri_entry_set_ias(e, rid->d.ias) :
				    !ri_entry_set_id(e, SKD_RI_RID_SKI,
				    rid->d.rkeyid->ski)) {
					goto err;
				}
			}
			continue;
		}
		e = &list[n++];
		e->type = (enum skd_ri_type)ri->type;
		e->wrap_nid = NID_undef;
		e->rid_type = SKD_RI_RID_NONE;
		switch (ri->type) {
		case SKD_RI_KTRI:
			e->version = ri->d.ktri->version;
			e->key_enc_nid = ri_algor_nid(ri->d.ktri->kea);
			if (ri->d.ktri->rid->type == RI_RID_IAS ?
			    !ri_entry_set_ias(e, ri->d.ktri->rid->d.ias) :
			    !ri_entry_set_id(e, SKD_RI_RID_SKI,
			    ri->d.ktri->rid->d.ski)) {
				goto err;
			}
			break;
		case SKD_RI_KEKRI:
			e->version = ri->d.kekri->version;
			e->key_enc_nid = ri_algor_nid(ri->d.kekri->kea);
			if (!ri_entry_set_id(e, SKD_RI_RID_KEKID,
			    ri->d.kekri->kekid->keyIdentifier)) {
				goto err;
			}
			break;
		case SKD_RI_PWRI:
			e->version = ri->d.pwri->version;
			e->key_enc_nid = ri_algor_nid(ri->d.pwri->kea);
			break;
		default:
			e->version = -1;
			e->key_enc_nid = OBJ_obj2nid(ri->d.ori->type);
			break;
		}
	}
	*out_list = list;
	*out_n = n;
	list = NULL;
	ok = 1;
 err:
	skd_ri_free_list(list, n);
	ri_free_set(set);
	return ok;
}

void
skd_ri_free_list(struct skd_ri_entry *list, size_t n)
{
	size_t i;

	if (list == NULL) {
		return;
	}
	for (i = 0; i < n; i++) {
		X509_NAME_free(list[i].issuer);
		ASN1_INTEGER_free(list[i].serial);
		OPENSSL_free(list[i].id);
	}
	OPENSSL_free(list);
}

/* ri_env_version applies RFC 5652 6.1 to an EnvelopedData without
 * originatorInfo or unprotectedAttrs. */
static int
ri_env_version(const STACK_OF(SKD_RI) *set)
{
	int i, all_v0 = 1;

	for (i = 0; i < sk_SKD_RI_num(set); i++) {
		const SKD_RI *ri = sk_SKD_RI_value(set, i);

		switch (ri->type) {
		case SKD_RI_PWRI:
		case SKD_RI_ORI:
			return 3;
		case SKD_RI_KTRI:
			if (ri->d.ktri->version != 0) {
				all_v0 = 0;
			}
			break;
		default:
			all_v0 = 0;	/* kari is version 3, kekri 4 */
			break;
		}
	}
	return all_v0 ? 0 : 2;
}

static const EVP_CIPHER *
ri_cbc_cipher(size_t key_len)
{
	switch (key_len) {
	case 16:
		return EVP_aes_128_cbc();
	case 24:
		return EVP_aes_192_cbc();
	case 32:
		return EVP_aes_256_cbc();
	}
	return NULL;
}

/* ri_eci_encrypt fills eci: id-data content encrypted with AES-CBC under
 * key, IV in the algorithm parameters (RFC 3565 2.1). */
static int
ri_eci_encrypt(SKD_RI_ECI *eci, const unsigned char *key, size_t key_len,
    const unsigned char *content, size_t content_len)
{
	const EVP_CIPHER *cipher = ri_cbc_cipher(key_len);
	EVP_CIPHER_CTX *ctx = NULL;
	ASN1_OCTET_STRING *ivos = NULL;
	unsigned char iv[16], *ct = NULL;
	int len, fin, ok = 0;

	if (cipher == NULL || content_len > SKD_RI_MAX_DER) {
		goto err;
	}
	if (RAND_bytes(iv, sizeof(iv)) != 1) {
		goto err;
	}
	ASN1_OBJECT_free(eci->type);
	eci->type = OBJ_nid2obj(NID_pkcs7_data);
	if (!ri_set_octets(&ivos, iv, sizeof(iv))) {
		goto err;
	}
	if (!X509_ALGOR_set0(eci->alg, OBJ_nid2obj(EVP_CIPHER_get_nid(cipher)),
	    V_ASN1_OCTET_STRING, ivos)) {
		goto err;
	}
	ivos = NULL;
	if ((ct = OPENSSL_malloc(content_len + 16)) == NULL ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_EncryptInit_ex(ctx, cipher, NULL, key, iv) ||
	    !EVP_EncryptUpdate(ctx, ct, &len, content, (int)content_len) ||
	    !EVP_EncryptFinal_ex(ctx, ct + len, &fin)) {
		goto err;
	}
	if ((eci->content = ASN1_OCTET_STRING_new()) == NULL) {
		goto err;
	}
	ASN1_STRING_set0(eci->content, ct, len + fin);
	ct = NULL;
	ok = 1;
 err:
	OPENSSL_free(ct);
	ASN1_OCTET_STRING_free(ivos);
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

int
skd_ri_envelope_with_key(unsigned char **out_der, size_t *out_len,
    const unsigned char *ri_der, size_t ri_der_len, const unsigned char *key,
    size_t key_len, const unsigned char *content, size_t content_len)
{
	SKD_RI_CI *ci = NULL;
	unsigned char *der = NULL;
	int der_len, ok = 0;

	*out_der = NULL;
	*out_len = 0;
	if (key == NULL || !ri_key_len_ok(key_len) ||
	    (content == NULL && content_len != 0)) {
		RI_ERR(CMS_R_INVALID_KEY_LENGTH, "content-encryption key");
		goto err;
	}
	if ((ci = (SKD_RI_CI *)ASN1_item_new(ASN1_ITEM_rptr(SKD_RI_CI))) ==
	    NULL) {
		goto err;
	}
	ASN1_OBJECT_free(ci->type);
	ci->type = OBJ_nid2obj(NID_pkcs7_enveloped);
	sk_SKD_RI_free(ci->env->ris);
	if ((ci->env->ris = ri_parse_set(ri_der, ri_der_len)) == NULL) {
		goto err;
	}
	ci->env->version = ri_env_version(ci->env->ris);
	if (!ri_eci_encrypt(ci->env->eci, key, key_len,
	    content != NULL ? content : (const unsigned char *)"",
	    content_len)) {
		goto err;
	}
	if ((der_len = ASN1_item_i2d((ASN1_VALUE *)ci, &der,
	    ASN1_ITEM_rptr(SKD_RI_CI))) <= 0) {
		goto err;
	}
	*out_der = der;
	*out_len = (size_t)der_len;
	ok = 1;
 err:
	ASN1_item_free((ASN1_VALUE *)ci, ASN1_ITEM_rptr(SKD_RI_CI));
	return ok;
}
