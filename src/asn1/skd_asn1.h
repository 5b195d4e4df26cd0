/*
 * skd_asn1.h: the asn1 module, OpenSSL ASN.1 templates for the types of
 * RFC 5275 Appendix A, the CMC subset (RFC 5272/6402) and CMC server-side
 * key generation (draft-turner-cmc-serverkeygeneration-00), with strict DER
 * decoding, OIDs, the control table and GeneralName text.
 *
 * The normative modules are asn1/SMIMESymmetricKeyDistribution.asn,
 * asn1/CMC-subset.asn and asn1/ServerKeyGeneration.asn; each C type below
 * names the ASN.1 type it implements.
 *
 * Every type X has the usual OpenSSL functions from DECLARE_ASN1_FUNCTIONS:
 * X_new, X_free (accepts NULL), d2i_X, i2d_X and the item ASN1_ITEM_rptr(X).
 * d2i_X is OpenSSL's lenient BER decoder: decode untrusted bytes with
 * skd_der_decode instead.
 *
 * Struct bodies are public so that the engine can read fields directly;
 * fields with an ASN.1 DEFAULT are NULL (or the BOOLEAN's default) when the
 * value is the default, so that DER never encodes a default.  Use the
 * accessors for those fields: they apply the default.
 *
 * Call skd_asn1_init() once before anything that needs the OIDs (it is
 * idempotent and thread-safe; functions below that need it call it).
 */
#ifndef SKD_ASN1_H
#define SKD_ASN1_H

#include <stddef.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/bio.h>
/* pem.h before cms.h: cms.h declares the CMS PEM functions only then */
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/crmf.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* ------------------------------------------------------------------ */
/* oids.c: object identifiers                                          */
/* ------------------------------------------------------------------ */

/*
 * Every OID the module knows.  The NIDs are assigned at run time (OpenSSL
 * does not know most of them): use skd_asn1_nid().
 */
enum skd_oid {
	/* RFC 5275 */
	SKD_OID_SKD = 0,		/* id-skd 1.2.840.113549.1.9.16.8 */
	SKD_OID_GL_USE_KEK,		/* id-skd 1 */
	SKD_OID_GL_DELETE,		/* id-skd 2 */
	SKD_OID_GL_ADD_MEMBER,		/* id-skd 3 */
	SKD_OID_GL_DELETE_MEMBER,	/* id-skd 4 */
	SKD_OID_GL_REKEY,		/* id-skd 5 */
	SKD_OID_GL_ADD_OWNER,		/* id-skd 6 */
	SKD_OID_GL_REMOVE_OWNER,	/* id-skd 7 */
	SKD_OID_GL_KEY_COMPROMISE,	/* id-skd 8 */
	SKD_OID_GL_KEY_REFRESH,		/* id-skd 9 */
	SKD_OID_SKD_10,			/* id-skd 10 (unassigned in RFC 5275) */
	SKD_OID_GLA_QUERY_REQUEST,	/* id-skd 11 */
	SKD_OID_GLA_QUERY_RESPONSE,	/* id-skd 12 */
	SKD_OID_GL_PROVIDE_CERT,	/* id-skd 13 */
	SKD_OID_GL_MANAGE_CERT,		/* id-skd 14 */
	SKD_OID_GL_KEY,			/* id-skd 15 */
	SKD_OID_CMC_GLA_RR,		/* id-cmc-glaRR 1.3.6.1.5.5.7.7.99 */
	SKD_OID_GLA_SKD_ALG_REQUEST,	/* id-cmc-glaRR 1 */
	SKD_OID_GLA_SKD_ALG_RESPONSE,	/* id-cmc-glaRR 2 */
	SKD_OID_CET_SKD_FAIL_INFO,	/* id-cet-skdFailInfo 1.3.6.1.5.5.7.15.1 */
	/* CMC, RFC 5272 / 6402 */
	SKD_OID_CMC_STATUS_INFO_V2,	/* id-cmc 25 */
	SKD_OID_CMC_TRANSACTION_ID,	/* id-cmc 5 */
	SKD_OID_CMC_SENDER_NONCE,	/* id-cmc 6 */
	SKD_OID_CMC_RECIPIENT_NONCE,	/* id-cmc 7 */
	SKD_OID_CCT_PKI_DATA,		/* id-cct 2 */
	SKD_OID_CCT_PKI_RESPONSE,	/* id-cct 3 */
	/* server-side key generation, skd's arc (asn1/ServerKeyGeneration.asn) */
	SKD_OID_SHROUD_WITH_PUBLIC_KEY,
	SKD_OID_SHROUD_WITH_SHARED_SECRET,
	SKD_OID_SERVER_KEY_GEN_REQUEST,
	SKD_OID_SERVER_KEY_GEN_RESPONSE,
	SKD_OID_ERR_KEY_GENERATION,
	SKD_OID_ERR_ARCHIVE_NOT_SUPPORTED,
	SKD_OID_ERR_BAD_CERTIFICATE,
	SKD_OID_ERR_BAD_SHARED_SECRET,
	SKD_OID_CMC_IDENTIFICATION,	/* id-cmc 2 (RFC 5272 6.2.3) */
	/* key recovery, beyond the draft (docs/keygen.md) */
	SKD_OID_KEY_RECOVERY_REQUEST,
	SKD_OID_KEY_RECOVERY_RESPONSE,
	/* proof of possession (draft 8, RFC 5272 6.7) */
	SKD_OID_CMC_ENCRYPTED_POP,	/* id-cmc 9 */
	SKD_OID_CMC_DECRYPTED_POP,	/* id-cmc 10 */
	SKD_OID_POP_CERTIFICATE,	/* skd's OtherReqMsg type: a Certificate */
	SKD_OID_COUNT
};

/*
 * skd_asn1_init registers every OID above with OpenSSL (OBJ_create), reusing
 * OpenSSL's own NID where it already knows the OID.  Idempotent and
 * thread-safe; returns one on success and zero on error.
 */
int skd_asn1_init(void);

/* skd_asn1_nid returns the NID of oid (initialising if needed), or NID_undef
 * on error or for an out-of-range value. */
int skd_asn1_nid(enum skd_oid oid);

/* skd_asn1_oid_text returns the dotted form of oid (static), or NULL. */
const char *skd_asn1_oid_text(enum skd_oid oid);

/* ------------------------------------------------------------------ */
/* types.c: RFC 5275 Appendix A                                        */
/* ------------------------------------------------------------------ */

/* GLAdministration ::= INTEGER (RFC 5275 3.1.1) */
enum skd_gl_admin {
	SKD_GL_UNMANAGED = 0,
	SKD_GL_MANAGED = 1,
	SKD_GL_CLOSED = 2
};

/* KEKIdentifier's OtherKeyAttribute (RFC 5652 6.2.3) */
typedef struct SKD_OTHER_KEY_ATTRIBUTE_st {
	ASN1_OBJECT	*keyAttrId;
	ASN1_TYPE	*keyAttr;		/* OPTIONAL */
} SKD_OTHER_KEY_ATTRIBUTE;

/* KEKIdentifier (RFC 5652 6.2.3) */
typedef struct SKD_KEK_IDENTIFIER_st {
	ASN1_OCTET_STRING	*keyIdentifier;
	ASN1_GENERALIZEDTIME	*date;		/* OPTIONAL */
	SKD_OTHER_KEY_ATTRIBUTE	*other;		/* OPTIONAL */
} SKD_KEK_IDENTIFIER;

/* Certificates: pKC [0] Certificate OPTIONAL, aC [1] SEQUENCE OF
 * AttributeCertificate OPTIONAL (opaque), certPath [2] CertificateSet
 * OPTIONAL (opaque CertificateChoices, kept byte-exact). */
typedef struct SKD_CERTIFICATES_st {
	X509			*pKC;
	STACK_OF(ASN1_TYPE)	*aC;
	STACK_OF(ASN1_TYPE)	*certPath;
} SKD_CERTIFICATES;

typedef struct SKD_GL_INFO_st {
	GENERAL_NAME	*glName;
	GENERAL_NAME	*glAddress;
} SKD_GL_INFO;

typedef struct SKD_GL_OWNER_INFO_st {
	GENERAL_NAME		*glOwnerName;
	GENERAL_NAME		*glOwnerAddress;
	SKD_CERTIFICATES	*certificates;	/* OPTIONAL */
} SKD_GL_OWNER_INFO;
DEFINE_STACK_OF(SKD_GL_OWNER_INFO)

/*
 * GLKeyAttributes.  The BOOLEANs hold 0 or 0xff (use the setters); the
 * INTEGERs and the algorithm are NULL when they hold their DEFAULT.
 */
typedef struct SKD_GL_KEY_ATTRIBUTES_st {
	int		rekeyControlledByGLO;		/* DEFAULT FALSE */
	int		recipientsNotMutuallyAware;	/* DEFAULT TRUE */
	ASN1_INTEGER	*duration;			/* DEFAULT 0 */
	ASN1_INTEGER	*generationCounter;		/* DEFAULT 2 */
	X509_ALGOR	*requestedAlgorithm;	/* DEFAULT id-aes128-wrap */
} SKD_GL_KEY_ATTRIBUTES;

typedef struct SKD_GL_USE_KEK_st {
	SKD_GL_INFO			*glInfo;
	STACK_OF(SKD_GL_OWNER_INFO)	*glOwnerInfo;	/* SIZE (1..MAX) */
	ASN1_INTEGER			*glAdministration; /* DEFAULT 1 */
	SKD_GL_KEY_ATTRIBUTES		*glKeyAttributes;  /* OPTIONAL */
} SKD_GL_USE_KEK;

typedef struct SKD_GL_MEMBER_st {
	GENERAL_NAME		*glMemberName;
	GENERAL_NAME		*glMemberAddress;	/* OPTIONAL */
	SKD_CERTIFICATES	*certificates;		/* OPTIONAL */
} SKD_GL_MEMBER;

typedef struct SKD_GL_ADD_MEMBER_st {
	GENERAL_NAME	*glName;
	SKD_GL_MEMBER	*glMember;
} SKD_GL_ADD_MEMBER;

/* GLManageCert has the same shape as GLAddMember (RFC 5275 3.2.10). */
typedef SKD_GL_ADD_MEMBER SKD_GL_MANAGE_CERT;

typedef struct SKD_GL_DELETE_MEMBER_st {
	GENERAL_NAME	*glName;
	GENERAL_NAME	*glMemberToDelete;
} SKD_GL_DELETE_MEMBER;

/* GLNewKeyAttributes: every field OPTIONAL; BOOLEANs are -1 when absent,
 * else 0 or 0xff. */
typedef struct SKD_GL_NEW_KEY_ATTRIBUTES_st {
	int		rekeyControlledByGLO;
	int		recipientsNotMutuallyAware;
	ASN1_INTEGER	*duration;
	ASN1_INTEGER	*generationCounter;
	X509_ALGOR	*requestedAlgorithm;
} SKD_GL_NEW_KEY_ATTRIBUTES;

/* GLRekey; glRekeyAllGLKeys is -1 when absent, else 0 or 0xff. */
typedef struct SKD_GL_REKEY_st {
	GENERAL_NAME			*glName;
	ASN1_INTEGER			*glAdministration;	/* OPTIONAL */
	SKD_GL_NEW_KEY_ATTRIBUTES	*glNewKeyAttributes;	/* OPTIONAL */
	int				 glRekeyAllGLKeys;	/* OPTIONAL */
} SKD_GL_REKEY;

/* GLOwnerAdministration (glAddOwner, glRemoveOwner) */
typedef struct SKD_GL_OWNER_ADMINISTRATION_st {
	GENERAL_NAME		*glName;
	SKD_GL_OWNER_INFO	*glOwnerInfo;
} SKD_GL_OWNER_ADMINISTRATION;

/* Date */
typedef struct SKD_DATE_st {
	ASN1_GENERALIZEDTIME	*start;
	ASN1_GENERALIZEDTIME	*end;		/* OPTIONAL */
} SKD_DATE;
DEFINE_STACK_OF(SKD_DATE)

/* GLKRefresh */
typedef struct SKD_GL_KREFRESH_st {
	GENERAL_NAME		*glName;
	STACK_OF(SKD_DATE)	*dates;		/* SIZE (1..MAX) */
} SKD_GL_KREFRESH;

/* GLAQueryRequest / GLAQueryResponse: the value is kept as ANY; for
 * id-cmc-gla-skdAlgRequest it is NULL (SKDAlgRequest), for
 * id-cmc-gla-skdAlgResponse an SMIMECapabilities SEQUENCE. */
typedef struct SKD_GLA_QUERY_st {
	ASN1_OBJECT	*type;
	ASN1_TYPE	*value;
} SKD_GLA_QUERY_REQUEST;
typedef SKD_GLA_QUERY_REQUEST SKD_GLA_QUERY_RESPONSE;

/* GLKey: glkWrapped is RecipientInfos, kept opaque and byte-exact (the cms
 * module parses it). */
typedef struct SKD_GL_KEY_st {
	GENERAL_NAME		*glName;
	SKD_KEK_IDENTIFIER	*glIdentifier;
	STACK_OF(ASN1_TYPE)	*glkWrapped;
	X509_ALGOR		*glkAlgorithm;
	ASN1_GENERALIZEDTIME	*glkNotBefore;
	ASN1_GENERALIZEDTIME	*glkNotAfter;
} SKD_GL_KEY;

DECLARE_ASN1_FUNCTIONS(SKD_OTHER_KEY_ATTRIBUTE)
DECLARE_ASN1_FUNCTIONS(SKD_KEK_IDENTIFIER)
DECLARE_ASN1_FUNCTIONS(SKD_CERTIFICATES)
DECLARE_ASN1_FUNCTIONS(SKD_GL_INFO)
DECLARE_ASN1_FUNCTIONS(SKD_GL_OWNER_INFO)
DECLARE_ASN1_FUNCTIONS(SKD_GL_KEY_ATTRIBUTES)
DECLARE_ASN1_FUNCTIONS(SKD_GL_USE_KEK)
DECLARE_ASN1_FUNCTIONS(SKD_GL_MEMBER)
DECLARE_ASN1_FUNCTIONS(SKD_GL_ADD_MEMBER)
DECLARE_ASN1_FUNCTIONS(SKD_GL_MANAGE_CERT)
DECLARE_ASN1_FUNCTIONS(SKD_GL_DELETE_MEMBER)
DECLARE_ASN1_FUNCTIONS(SKD_GL_NEW_KEY_ATTRIBUTES)
DECLARE_ASN1_FUNCTIONS(SKD_GL_REKEY)
DECLARE_ASN1_FUNCTIONS(SKD_GL_OWNER_ADMINISTRATION)
DECLARE_ASN1_FUNCTIONS(SKD_DATE)
DECLARE_ASN1_FUNCTIONS(SKD_GL_KREFRESH)
DECLARE_ASN1_FUNCTIONS(SKD_GLA_QUERY_REQUEST)
DECLARE_ASN1_FUNCTIONS(SKD_GLA_QUERY_RESPONSE)
DECLARE_ASN1_FUNCTIONS(SKD_GL_KEY)
/*
 * DeleteGL and GLKCompromise are GeneralName (ASN1_ITEM_rptr(GENERAL_NAME));
 * SKDAlgRequest is ASN1_NULL; SKDFailInfo and GLAdministration are
 * ASN1_INTEGER.
 */

/*
 * GLKeyAttributes accessors (RFC 5275 3.1.1).  The getters accept NULL (an
 * absent glKeyAttributes) and return the DEFAULT.  The setters store the
 * DEFAULT as absent, so DER never encodes it; they return one on success
 * and zero on error (attrs unchanged on error).
 */
int skd_glkeyattrs_get_rekey_by_glo(const SKD_GL_KEY_ATTRIBUTES *a);
int skd_glkeyattrs_get_not_mutually_aware(const SKD_GL_KEY_ATTRIBUTES *a);
long skd_glkeyattrs_get_duration(const SKD_GL_KEY_ATTRIBUTES *a);
long skd_glkeyattrs_get_generation_counter(const SKD_GL_KEY_ATTRIBUTES *a);
/* NID of requestedAlgorithm's OID (NID_id_aes128_wrap by default). */
int skd_glkeyattrs_get_alg_nid(const SKD_GL_KEY_ATTRIBUTES *a);
/* requestedAlgorithm (borrowed), or NULL for the default id-aes128-wrap. */
const X509_ALGOR *skd_glkeyattrs_get0_alg(const SKD_GL_KEY_ATTRIBUTES *a);
void skd_glkeyattrs_set_rekey_by_glo(SKD_GL_KEY_ATTRIBUTES *a, int on);
void skd_glkeyattrs_set_not_mutually_aware(SKD_GL_KEY_ATTRIBUTES *a, int on);
int skd_glkeyattrs_set_duration(SKD_GL_KEY_ATTRIBUTES *a, long days);
int skd_glkeyattrs_set_generation_counter(SKD_GL_KEY_ATTRIBUTES *a, long n);
/* Sets requestedAlgorithm to nid with absent parameters (id-aes128-wrap
 * stores NULL). */
int skd_glkeyattrs_set_alg_nid(SKD_GL_KEY_ATTRIBUTES *a, int nid);
/* Copies alg (caller keeps it); the default algorithm stores NULL. */
int skd_glkeyattrs_set1_alg(SKD_GL_KEY_ATTRIBUTES *a, const X509_ALGOR *alg);

/* GLUseKEK.glAdministration with its DEFAULT managed(1); returns -1 if the
 * INTEGER cannot be represented. */
long skd_glusekek_get_admin(const SKD_GL_USE_KEK *u);
/* Stores managed(1) as absent; one on success, zero on error. */
int skd_glusekek_set_admin(SKD_GL_USE_KEK *u, long admin);

/* BOOLEAN OPTIONAL fields (GLNewKeyAttributes, GLRekey): value -1 absent,
 * 0 false, 1 true; the setter stores 0xff for TRUE as DER requires. */
int skd_asn1_opt_bool_get(int field);
void skd_asn1_opt_bool_set(int *field, int value);

/* ------------------------------------------------------------------ */
/* cmc.c: CMC subset (RFC 5272, RFC 6402)                              */
/* ------------------------------------------------------------------ */

typedef struct SKD_TAGGED_ATTRIBUTE_st {
	ASN1_INTEGER		*bodyPartID;
	ASN1_OBJECT		*attrType;
	STACK_OF(ASN1_TYPE)	*attrValues;
} SKD_TAGGED_ATTRIBUTE;
DEFINE_STACK_OF(SKD_TAGGED_ATTRIBUTE)

typedef struct SKD_TAGGED_CERT_REQUEST_st {
	ASN1_INTEGER	*bodyPartID;
	X509_REQ	*certificationRequest;
} SKD_TAGGED_CERT_REQUEST;

typedef struct SKD_OTHER_REQUEST_st {
	ASN1_INTEGER	*bodyPartID;
	ASN1_OBJECT	*requestMessageType;
	ASN1_TYPE	*requestMessageValue;
} SKD_OTHER_REQUEST;

/* crmf.c: CertReqMsg (RFC 4211 3, 4, 5), read where OpenSSL 3.0's
 * OSSL_CRMF_MSG has no getter (the template's publicKey). */
typedef struct SKD_CRMF_ATAV_st {
	ASN1_OBJECT	*type;
	ASN1_TYPE	*value;
} SKD_CRMF_ATAV;
DEFINE_STACK_OF(SKD_CRMF_ATAV)

typedef struct SKD_CRMF_VALIDITY_st {
	ASN1_TIME	*notBefore;	/* [0] OPTIONAL */
	ASN1_TIME	*notAfter;	/* [1] OPTIONAL */
} SKD_CRMF_VALIDITY;

typedef struct SKD_CRMF_TEMPLATE_st {
	ASN1_INTEGER			*version;	/* [0] */
	ASN1_INTEGER			*serialNumber;	/* [1] */
	X509_ALGOR			*signingAlg;	/* [2] */
	X509_NAME			*issuer;	/* [3] */
	SKD_CRMF_VALIDITY		*validity;	/* [4] */
	X509_NAME			*subject;	/* [5] */
	X509_PUBKEY			*publicKey;	/* [6] */
	ASN1_BIT_STRING			*issuerUID;	/* [7] */
	ASN1_BIT_STRING			*subjectUID;	/* [8] */
	STACK_OF(X509_EXTENSION)	*extensions;	/* [9] */
} SKD_CRMF_TEMPLATE;

typedef struct SKD_CRMF_CERT_REQUEST_st {
	ASN1_INTEGER		*certReqId;
	SKD_CRMF_TEMPLATE	*certTemplate;
	STACK_OF(SKD_CRMF_ATAV)	*controls;	/* OPTIONAL */
} SKD_CRMF_CERT_REQUEST;

#define SKD_CRMF_POPO_RA_VERIFIED	0
#define SKD_CRMF_POPO_SIGNATURE		1
#define SKD_CRMF_POPO_KEY_ENCIPHERMENT	2
#define SKD_CRMF_POPO_KEY_AGREEMENT	3
typedef struct SKD_CRMF_POPO_st {
	int type;
	union {
		ASN1_NULL		*raVerified;
		STACK_OF(ASN1_TYPE)	*signature;	/* opaque */
		ASN1_TYPE		*keyEncipherment;	/* opaque */
		ASN1_TYPE		*keyAgreement;	/* opaque */
	} d;
} SKD_CRMF_POPO;

typedef struct SKD_CRMF_MSG_st {
	SKD_CRMF_CERT_REQUEST	*certReq;
	SKD_CRMF_POPO		*popo;		/* OPTIONAL */
	STACK_OF(SKD_CRMF_ATAV)	*regInfo;	/* OPTIONAL */
} SKD_CRMF_MSG;

DECLARE_ASN1_FUNCTIONS(SKD_CRMF_ATAV)
DECLARE_ASN1_FUNCTIONS(SKD_CRMF_VALIDITY)
DECLARE_ASN1_FUNCTIONS(SKD_CRMF_TEMPLATE)
DECLARE_ASN1_FUNCTIONS(SKD_CRMF_CERT_REQUEST)
DECLARE_ASN1_FUNCTIONS(SKD_CRMF_POPO)
DECLARE_ASN1_FUNCTIONS(SKD_CRMF_MSG)

/*
 * skd_crmf_from_ossl re-reads a CertReqMsg built with OpenSSL's OSSL_CRMF_*
 * API as skd's type (strict DER); returns a new object the caller frees
 * with SKD_CRMF_MSG_free, or NULL on error.
 */
SKD_CRMF_MSG *skd_crmf_from_ossl(const OSSL_CRMF_MSG *m);
/*
 * skd_crmf_set_template_key sets the template's publicKey to alg (its
 * parameters NULL, absent or an OBJECT IDENTIFIER) with a zero-length
 * BIT STRING: the key type a client asks the CA to generate
 * (draft-turner-cmc-serverkeygeneration-00 6.1); alg is copied.  Returns
 * one on success and zero on error (m unchanged).
 */
int skd_crmf_set_template_key(SKD_CRMF_MSG *m, const X509_ALGOR *alg);

#define SKD_TAGGED_REQUEST_TCR	0
#define SKD_TAGGED_REQUEST_CRM	1
#define SKD_TAGGED_REQUEST_ORM	2
typedef struct SKD_TAGGED_REQUEST_st {
	int type;
	union {
		SKD_TAGGED_CERT_REQUEST	*tcr;
		SKD_CRMF_MSG		*crm;
		SKD_OTHER_REQUEST	*orm;
	} d;
} SKD_TAGGED_REQUEST;
DEFINE_STACK_OF(SKD_TAGGED_REQUEST)

typedef struct SKD_TAGGED_CONTENT_INFO_st {
	ASN1_INTEGER	*bodyPartID;
	CMS_ContentInfo	*contentInfo;
} SKD_TAGGED_CONTENT_INFO;
DEFINE_STACK_OF(SKD_TAGGED_CONTENT_INFO)

typedef struct SKD_OTHER_MSG_st {
	ASN1_INTEGER	*bodyPartID;
	ASN1_OBJECT	*otherMsgType;
	ASN1_TYPE	*otherMsgValue;
} SKD_OTHER_MSG;
DEFINE_STACK_OF(SKD_OTHER_MSG)

typedef struct SKD_PKI_DATA_st {
	STACK_OF(SKD_TAGGED_ATTRIBUTE)		*controlSequence;
	STACK_OF(SKD_TAGGED_REQUEST)		*reqSequence;
	STACK_OF(SKD_TAGGED_CONTENT_INFO)	*cmsSequence;
	STACK_OF(SKD_OTHER_MSG)			*otherMsgSequence;
} SKD_PKI_DATA;

typedef struct SKD_PKI_RESPONSE_st {
	STACK_OF(SKD_TAGGED_ATTRIBUTE)		*controlSequence;
	STACK_OF(SKD_TAGGED_CONTENT_INFO)	*cmsSequence;
	STACK_OF(SKD_OTHER_MSG)			*otherMsgSequence;
} SKD_PKI_RESPONSE;

/* BodyPartPath ::= SEQUENCE SIZE (1..MAX) OF BodyPartID */
typedef STACK_OF(ASN1_INTEGER) SKD_BODY_PART_PATH;

#define SKD_BODY_PART_REF_ID	0
#define SKD_BODY_PART_REF_PATH	1
typedef struct SKD_BODY_PART_REFERENCE_st {
	int type;
	union {
		ASN1_INTEGER		*bodyPartID;
		SKD_BODY_PART_PATH	*bodyPartPath;
	} d;
} SKD_BODY_PART_REFERENCE;
DEFINE_STACK_OF(SKD_BODY_PART_REFERENCE)

typedef struct SKD_PEND_INFO_st {
	ASN1_OCTET_STRING	*pendToken;
	ASN1_GENERALIZEDTIME	*pendTime;
} SKD_PEND_INFO;

typedef struct SKD_EXTENDED_FAIL_INFO_st {
	ASN1_OBJECT	*failInfoOID;
	ASN1_TYPE	*failInfoValue;
} SKD_EXTENDED_FAIL_INFO;

#define SKD_OTHER_STATUS_FAIL_INFO	0
#define SKD_OTHER_STATUS_PEND_INFO	1
#define SKD_OTHER_STATUS_EXT_FAIL_INFO	2
typedef struct SKD_OTHER_STATUS_INFO_st {
	int type;
	union {
		ASN1_INTEGER		*failInfo;
		SKD_PEND_INFO		*pendInfo;
		SKD_EXTENDED_FAIL_INFO	*extendedFailInfo;
	} d;
} SKD_OTHER_STATUS_INFO;

typedef struct SKD_CMC_STATUS_INFO_V2_st {
	ASN1_INTEGER				*cMCStatus;
	STACK_OF(SKD_BODY_PART_REFERENCE)	*bodyList;	/* 1..MAX */
	ASN1_UTF8STRING				*statusString;	/* OPTIONAL */
	SKD_OTHER_STATUS_INFO			*otherStatusInfo; /* OPTIONAL */
} SKD_CMC_STATUS_INFO_V2;

/* RFC 5272 6.7: Encrypted and Decrypted POP controls. */
typedef struct SKD_ENCRYPTED_POP_st {
	SKD_TAGGED_REQUEST	*request;
	CMS_ContentInfo		*cms;
	X509_ALGOR		*thePOPAlgID;
	X509_ALGOR		*witnessAlgID;
	ASN1_OCTET_STRING	*witness;
} SKD_ENCRYPTED_POP;

typedef struct SKD_DECRYPTED_POP_st {
	ASN1_INTEGER		*bodyPartID;
	X509_ALGOR		*thePOPAlgID;
	ASN1_OCTET_STRING	*thePOP;
} SKD_DECRYPTED_POP;

DECLARE_ASN1_FUNCTIONS(SKD_ENCRYPTED_POP)
DECLARE_ASN1_FUNCTIONS(SKD_DECRYPTED_POP)
DECLARE_ASN1_FUNCTIONS(SKD_TAGGED_ATTRIBUTE)
DECLARE_ASN1_FUNCTIONS(SKD_TAGGED_CERT_REQUEST)
DECLARE_ASN1_FUNCTIONS(SKD_OTHER_REQUEST)
DECLARE_ASN1_FUNCTIONS(SKD_TAGGED_REQUEST)
DECLARE_ASN1_FUNCTIONS(SKD_TAGGED_CONTENT_INFO)
DECLARE_ASN1_FUNCTIONS(SKD_OTHER_MSG)
DECLARE_ASN1_FUNCTIONS(SKD_PKI_DATA)
DECLARE_ASN1_FUNCTIONS(SKD_PKI_RESPONSE)
DECLARE_ASN1_FUNCTIONS(SKD_BODY_PART_PATH)
DECLARE_ASN1_FUNCTIONS(SKD_BODY_PART_REFERENCE)
DECLARE_ASN1_FUNCTIONS(SKD_PEND_INFO)
DECLARE_ASN1_FUNCTIONS(SKD_EXTENDED_FAIL_INFO)
DECLARE_ASN1_FUNCTIONS(SKD_OTHER_STATUS_INFO)
DECLARE_ASN1_FUNCTIONS(SKD_CMC_STATUS_INFO_V2)
/* TransactionId is ASN1_INTEGER; SenderNonce and RecipientNonce are
 * ASN1_OCTET_STRING; CMCStatus and CMCFailInfo are ASN1_INTEGER. */

/*
 * skd_tagged_attribute_new1 builds a TaggedAttribute with one value: val
 * (of type it) encoded in DER under the OID's NID.  val is not consumed.
 * Returns a new object (caller frees with SKD_TAGGED_ATTRIBUTE_free) or NULL.
 */
SKD_TAGGED_ATTRIBUTE *skd_tagged_attribute_new1(long body_part_id, int nid,
    const ASN1_ITEM *it, const void *val);

/*
 * skd_tagged_attribute_decode1 strictly decodes value idx of ta as type it
 * (see skd_der_decode).  Returns a new object of type it (caller frees with
 * ASN1_item_free(ret, it)) or NULL.
 */
void *skd_tagged_attribute_decode1(const SKD_TAGGED_ATTRIBUTE *ta, int idx,
    const ASN1_ITEM *it);

/* ------------------------------------------------------------------ */
/* skg.c: server-side key generation (asn1/ServerKeyGeneration.asn)    */
/* ------------------------------------------------------------------ */

/* bareKey [2] SEQUENCE { publicKey SubjectPublicKeyInfo, ski OCTET STRING } */
typedef struct SKD_SHROUD_BARE_KEY_st {
	X509_PUBKEY		*publicKey;
	ASN1_OCTET_STRING	*ski;
} SKD_SHROUD_BARE_KEY;

/* SignerIdentifier (RFC 5652 5.3) */
#define SKD_SID_ISSUER_AND_SERIAL	0
#define SKD_SID_SKI			1
typedef struct SKD_SIGNER_IDENTIFIER_st {
	int type;
	union {
		PKCS7_ISSUER_AND_SERIAL	*issuerAndSerialNumber;
		ASN1_OCTET_STRING	*subjectKeyIdentifier;
	} d;
} SKD_SIGNER_IDENTIFIER;

#define SKD_SHROUD_PK_CERTIFICATE	0
#define SKD_SHROUD_PK_CERT_IDENTIFIER	1
#define SKD_SHROUD_PK_BARE_KEY		2
typedef struct SKD_SHROUD_WITH_PUBLIC_KEY_st {
	int type;
	union {
		X509			*certificate;
		SKD_SIGNER_IDENTIFIER	*certIdentifier;
		SKD_SHROUD_BARE_KEY	*bareKey;
	} d;
} SKD_SHROUD_WITH_PUBLIC_KEY;

/* ShroudWithSharedSecret ::= UTF8String (ASN1_UTF8STRING) */
/* ShroudMethod ::= AlgorithmIdentifier (X509_ALGOR) */

/* ServerKeyGenRequest; archiveKey holds 0 or 0xff, DEFAULT TRUE. */
typedef struct SKD_SERVER_KEY_GEN_REQUEST_st {
	SKD_TAGGED_REQUEST	*certificateRequest;
	X509_ALGOR		*shroudMethod;
	STACK_OF(X509_ALGOR)	*algCapabilities;	/* OPTIONAL */
	int			 archiveKey;
} SKD_SERVER_KEY_GEN_REQUEST;

typedef struct SKD_SERVER_KEY_GEN_RESPONSE_st {
	ASN1_INTEGER		*cmsBodyPartId;
	ASN1_INTEGER		*requestBodyPartId;
	PKCS7_ISSUER_AND_SERIAL	*issuerAndSerialNumber;	/* OPTIONAL */
} SKD_SERVER_KEY_GEN_RESPONSE;

/* ErrorList ::= INTEGER (draft section 7) */
enum skd_skg_error {
	SKD_SKG_ARCHIVE_NOT_SUPPORTED = 1,
	SKD_SKG_BAD_CERTIFICATE = 2,
	SKD_SKG_BAD_SHARED_SECRET = 3
};

DECLARE_ASN1_FUNCTIONS(SKD_SHROUD_BARE_KEY)
DECLARE_ASN1_FUNCTIONS(SKD_SIGNER_IDENTIFIER)
DECLARE_ASN1_FUNCTIONS(SKD_SHROUD_WITH_PUBLIC_KEY)
DECLARE_ASN1_FUNCTIONS(SKD_SERVER_KEY_GEN_REQUEST)
DECLARE_ASN1_FUNCTIONS(SKD_SERVER_KEY_GEN_RESPONSE)

/* archiveKey with its DEFAULT TRUE; the setter stores TRUE as absent. */
int skd_skgreq_get_archive_key(const SKD_SERVER_KEY_GEN_REQUEST *r);
void skd_skgreq_set_archive_key(SKD_SERVER_KEY_GEN_REQUEST *r, int on);

/* ------------------------------------------------------------------ */
/* control.c: control table and status/failure names                   */
/* ------------------------------------------------------------------ */

/* Who originates a control (RFC 5275 section 3 conformance tables). */
#define SKD_FROM_GLO	0x01
#define SKD_FROM_MEMBER	0x02
#define SKD_FROM_GLA	0x04
#define SKD_FROM_ANY	(SKD_FROM_GLO | SKD_FROM_MEMBER | SKD_FROM_GLA)

/* Where a control is carried. */
#define SKD_IN_PKI_DATA		0x01
#define SKD_IN_PKI_RESPONSE	0x02

struct skd_control {
	enum skd_oid	 oid;
	const char	*name;		/* "glUseKEK" */
	ASN1_ITEM_EXP	*item;		/* type of the attribute value */
	unsigned	 senders;	/* SKD_FROM_* */
	unsigned	 carried;	/* SKD_IN_* */
};

/* skd_control_by_nid returns the table entry for a control/attribute NID
 * (static, never freed), or NULL if the NID is not a known control. */
const struct skd_control *skd_control_by_nid(int nid);

/* skd_control_count and skd_control_at walk the table (static entries). */
size_t skd_control_count(void);
const struct skd_control *skd_control_at(size_t i);

/* SKDFailInfo (RFC 5275 Appendix A) */
enum skd_failinfo {
	SKD_FAIL_UNSPECIFIED = 0,
	SKD_FAIL_CLOSED_GL = 1,
	SKD_FAIL_UNSUPPORTED_DURATION = 2,
	SKD_FAIL_NO_GLA_CERTIFICATE = 3,
	SKD_FAIL_INVALID_CERT = 4,
	SKD_FAIL_UNSUPPORTED_ALGORITHM = 5,
	SKD_FAIL_NO_GLO_NAME_MATCH = 6,
	SKD_FAIL_INVALID_GL_NAME = 7,
	SKD_FAIL_NAME_ALREADY_IN_USE = 8,
	SKD_FAIL_NO_SPAM = 9,
	/* 10 is obsolete */
	SKD_FAIL_ALREADY_A_MEMBER = 11,
	SKD_FAIL_NOT_A_MEMBER = 12,
	SKD_FAIL_ALREADY_AN_OWNER = 13,
	SKD_FAIL_NOT_AN_OWNER = 14
};

/* CMCStatus (RFC 5272 6.1.1) */
enum skd_cmc_status {
	SKD_CMC_SUCCESS = 0,
	SKD_CMC_FAILED = 2,
	SKD_CMC_PENDING = 3,
	SKD_CMC_NO_SUPPORT = 4,
	SKD_CMC_CONFIRM_REQUIRED = 5,
	SKD_CMC_POP_REQUIRED = 6,
	SKD_CMC_PARTIAL = 7
};

/* CMCFailInfo (RFC 5272 6.1.4) */
enum skd_cmc_failinfo {
	SKD_CMC_BAD_ALG = 0,
	SKD_CMC_BAD_MESSAGE_CHECK = 1,
	SKD_CMC_BAD_REQUEST = 2,
	SKD_CMC_BAD_TIME = 3,
	SKD_CMC_BAD_CERT_ID = 4,
	SKD_CMC_UNSUPPORTED_EXT = 5,
	SKD_CMC_MUST_ARCHIVE_KEYS = 6,
	SKD_CMC_BAD_IDENTITY = 7,
	SKD_CMC_POP_REQUIRED_FAIL = 8,
	SKD_CMC_POP_FAILED = 9,
	SKD_CMC_NO_KEY_REUSE = 10,
	SKD_CMC_INTERNAL_CA_ERROR = 11,
	SKD_CMC_TRY_LATER = 12,
	SKD_CMC_AUTH_DATA_FAIL = 13
};

/*
 * The *_name functions return the ASN.1 identifier ("closedGL"), the
 * *_string functions a short English explanation; both static, NULL for a
 * value the table does not know.
 */
const char *skd_failinfo_name(long v);
const char *skd_failinfo_string(long v);
const char *skd_cmc_status_name(long v);
const char *skd_cmc_status_string(long v);
const char *skd_cmc_failinfo_name(long v);
const char *skd_cmc_failinfo_string(long v);
const char *skd_skg_error_name(long v);

/* ------------------------------------------------------------------ */
/* libctx.c: a library context of its own for a decoding thread        */
/* ------------------------------------------------------------------ */

/*
 * OpenSSL 3.0 serialises threads that decode public keys in one library
 * context (every certificate decoded builds a decoder context under the
 * context's locks).  A thread that decodes in bulk (the rekey's threads,
 * the worker's loops) calls skd_thread_libctx_enter first and
 * skd_thread_libctx_leave when done: it then holds a context of a
 * process-wide pool, with the default context's providers, alone.
 * skd_thread_libctx returns the calling thread's context, NULL (the
 * default) outside enter/leave or when none could be made.  Pooled
 * contexts are never freed, so what was decoded in one may outlive the
 * thread.  skd_der_decode, skd_d2i_x509 and skd's CMS decoding and path
 * validation use the calling thread's context.
 */
OSSL_LIB_CTX *skd_thread_libctx(void);
void skd_thread_libctx_enter(void);
void skd_thread_libctx_leave(void);

/* d2i_X509 (OpenSSL's, lenient) in the calling thread's context. */
X509 *skd_d2i_x509(const unsigned char **pp, long len);

/* ------------------------------------------------------------------ */
/* der.c: strict DER                                                   */
/* ------------------------------------------------------------------ */

enum skd_der_err {
	SKD_DER_OK = 0,
	SKD_DER_EMPTY,		/* "empty input" */
	SKD_DER_TRUNCATED,	/* "truncated" */
	SKD_DER_TRAILING,	/* "trailing bytes" */
	SKD_DER_INDEFINITE,	/* "indefinite length" */
	SKD_DER_LENGTH,		/* "non-minimal length" */
	SKD_DER_TAG_FORM,	/* "non-minimal tag" */
	SKD_DER_DEPTH,		/* "nesting too deep" */
	SKD_DER_COUNT,		/* "too many elements" */
	SKD_DER_CONSTRUCTED,	/* "constructed form not allowed" */
	SKD_DER_PRIMITIVE,	/* "SEQUENCE/SET must be constructed" */
	SKD_DER_EOC,		/* "end-of-contents outside indefinite" */
	SKD_DER_BOOLEAN,	/* "BOOLEAN not 00 or FF" */
	SKD_DER_INTEGER,	/* "INTEGER not minimal" */
	SKD_DER_TIME,		/* "time not in DER form" */
	SKD_DER_WRONG_TAG,	/* "wrong tag" */
	SKD_DER_BAD_VALUE,	/* "does not decode as the expected type" */
	SKD_DER_DEFAULT,	/* "DEFAULT value encoded" */
	SKD_DER_NOT_CANONICAL,	/* "not DER (re-encoding differs)" */
	SKD_DER_INTERNAL	/* "internal error" */
};

/* Maximum nesting depth and element count accepted by the TLV walk. */
#define SKD_DER_MAX_DEPTH	32
#define SKD_DER_MAX_ELEMENTS	1000000

/* skd_der_strerror returns a short static description of e. */
const char *skd_der_strerror(enum skd_der_err e);

/*
 * skd_der_check_structure walks der as exactly one DER TLV (recursing into
 * constructed elements; primitive contents such as OCTET STRING are not
 * looked into) and checks DER's structural rules: definite minimal lengths,
 * minimal tags, no trailing bytes, bounded depth and element count,
 * primitive strings, canonical BOOLEAN/INTEGER/time contents where the tag
 * is universal.  Returns one if they hold and zero otherwise, setting
 * *out_err (may be NULL) to the reason.
 */
int skd_der_check_structure(const unsigned char *der, size_t len);
int skd_der_check_structure_ex(const unsigned char *der, size_t len,
    enum skd_der_err *out_err);

/*
 * skd_der_decode decodes der as one value of type it, accepting only DER:
 * the structure check above, then OpenSSL's template decoder, then a
 * re-encoding that must equal der byte for byte (this refuses encoded
 * DEFAULTs, unsorted SET OFs and other non-canonical forms).  Returns a new
 * object (caller frees with ASN1_item_free(ret, it)) or NULL, setting
 * *out_err (may be NULL) to the reason; the OpenSSL error queue is left as
 * it was on entry.
 */
void *skd_der_decode(const ASN1_ITEM *it, const unsigned char *der,
    size_t len);
void *skd_der_decode_ex(const ASN1_ITEM *it, const unsigned char *der,
    size_t len, enum skd_der_err *out_err);

/*
 * skd_der_encode encodes val (type it) in DER into a new buffer *out (caller
 * frees with OPENSSL_free) of *out_len bytes.  Returns one on success and
 * zero on error.
 */
int skd_der_encode(const ASN1_ITEM *it, const void *val, unsigned char **out,
    size_t *out_len);

/* ------------------------------------------------------------------ */
/* gname.c: GeneralName text and matching                              */
/* ------------------------------------------------------------------ */

/*
 * skd_gname_from_text parses "email:a@b", "DNS:host", "URI:scheme:...",
 * "dirName:CN=x,O=y" (RFC 4514 string, most significant RDN last) or
 * "IP:192.0.2.1" / "IP:2001:db8::1".  Returns a new GENERAL_NAME (caller
 * frees with GENERAL_NAME_free) or NULL if the text is not one of these.
 */
GENERAL_NAME *skd_gname_from_text(const char *text);

/*
 * skd_gname_to_text returns the canonical text form of gn: the prefixes
 * above, domain and URI scheme/host lowercased, dirName as an RFC 4514
 * string, IPv6 in RFC 5952 form; equal names (skd_gname_match) give equal
 * text for every form but dirName, whose text keeps the value's case.
 * Returns a malloc'd string (caller frees with OPENSSL_free) or NULL.
 */
char *skd_gname_to_text(const GENERAL_NAME *gn);

/*
 * skd_gname_to_key returns a text key such that two names give the same key
 * exactly when skd_gname_match says they match: skd_gname_to_text's form,
 * with a dirName's values folded as X509_NAME_cmp folds them (UTF-8,
 * lowercased, white space collapsed) and multi-valued RDNs in DER order.
 * For directory equality and indexing; show users skd_gname_to_text.
 * Returns a malloc'd string (caller frees with OPENSSL_free) or NULL.
 */
char *skd_gname_to_key(const GENERAL_NAME *gn);

/* skd_gname_match returns one if a and b name the same entity under RFC
 * 5280's comparison rules (see gname.c), else zero. */
int skd_gname_match(const GENERAL_NAME *a, const GENERAL_NAME *b);

/* skd_gname_match_cert returns one if gn matches cert's subject (dirName),
 * a subjectAltName entry, or (for email) a subject emailAddress. */
int skd_gname_match_cert(const GENERAL_NAME *gn, X509 *cert);

/* skd_gname_from_cert returns cert's names: the subject as a dirName
 * (unless empty) then every SAN rfc822Name, dirName, URI, DNS and IP entry.
 * Caller frees with GENERAL_NAMES_free; NULL on error. */
GENERAL_NAMES *skd_gname_from_cert(X509 *cert);

/* ------------------------------------------------------------------ */
/* print.c                                                             */
/* ------------------------------------------------------------------ */

/*
 * skd_asn1_print prints val (type it) to out with field names, OIDs by
 * name, GeneralNames in text form, control values decoded per the control
 * table and SKDFailInfo / CMCStatus / CMCFailInfo by name.  Returns one on
 * success and zero on error.
 */
int skd_asn1_print(BIO *out, const ASN1_ITEM *it, const void *val,
    int indent);

#endif
