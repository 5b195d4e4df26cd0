/*
 * control.c: the one table of control attributes (RFC 5275 section 3, RFC
 * 5272 section 6, the server-keygen draft section 6) and the tables of
 * status and failure names.
 */
#include <stddef.h>

#include <openssl/asn1t.h>

#include "asn1/skd_asn1.h"

#define GLO	SKD_FROM_GLO
#define MEM	SKD_FROM_MEMBER
#define GLA	SKD_FROM_GLA
#define REQ	SKD_IN_PKI_DATA
#define RSP	SKD_IN_PKI_RESPONSE

/*
 * Senders follow RFC 5275 section 3's conformance tables and the text of
 * sections 3.2.x; glManageCert may come from a member, a GLO or the GLA
 * (4.10), and RFC 5275 carries it in PKIData or PKIResponse.
 */
static const struct skd_control controls[] = {
	{ SKD_OID_GL_USE_KEK, "glUseKEK", ASN1_ITEM_ref(SKD_GL_USE_KEK),
	    GLO, REQ },
	{ SKD_OID_GL_DELETE, "glDelete", ASN1_ITEM_ref(GENERAL_NAME),
	    GLO, REQ },
	{ SKD_OID_GL_ADD_MEMBER, "glAddMember",
	    ASN1_ITEM_ref(SKD_GL_ADD_MEMBER), GLO | MEM, REQ },
	{ SKD_OID_GL_DELETE_MEMBER, "glDeleteMember",
	    ASN1_ITEM_ref(SKD_GL_DELETE_MEMBER), GLO | MEM, REQ },
	{ SKD_OID_GL_REKEY, "glRekey", ASN1_ITEM_ref(SKD_GL_REKEY),
	    GLO, REQ },
	{ SKD_OID_GL_ADD_OWNER, "glAddOwner",
	    ASN1_ITEM_ref(SKD_GL_OWNER_ADMINISTRATION), GLO, REQ },
	{ SKD_OID_GL_REMOVE_OWNER, "glRemoveOwner",
	    ASN1_ITEM_ref(SKD_GL_OWNER_ADMINISTRATION), GLO, REQ },
	{ SKD_OID_GL_KEY_COMPROMISE, "glkCompromise",
	    ASN1_ITEM_ref(GENERAL_NAME), GLO | MEM, REQ },
	{ SKD_OID_GL_KEY_REFRESH, "glkRefresh", ASN1_ITEM_ref(SKD_GL_KREFRESH),
	    GLO | MEM, REQ },
	{ SKD_OID_GLA_QUERY_REQUEST, "glaQueryRequest",
	    ASN1_ITEM_ref(SKD_GLA_QUERY_REQUEST), GLO | MEM, REQ },
	{ SKD_OID_GLA_QUERY_RESPONSE, "glaQueryResponse",
	    ASN1_ITEM_ref(SKD_GLA_QUERY_RESPONSE), GLA, RSP },
	{ SKD_OID_GL_PROVIDE_CERT, "glProvideCert",
	    ASN1_ITEM_ref(SKD_GL_MANAGE_CERT), GLO | GLA, REQ },
	{ SKD_OID_GL_MANAGE_CERT, "glManageCert",
	    ASN1_ITEM_ref(SKD_GL_MANAGE_CERT), GLO | MEM | GLA, REQ | RSP },
	{ SKD_OID_GL_KEY, "glKey", ASN1_ITEM_ref(SKD_GL_KEY), GLA, REQ },
	{ SKD_OID_CMC_STATUS_INFO_V2, "statusInfoV2",
	    ASN1_ITEM_ref(SKD_CMC_STATUS_INFO_V2), GLO | GLA, RSP },
	{ SKD_OID_CMC_TRANSACTION_ID, "transactionId",
	    ASN1_ITEM_ref(ASN1_INTEGER), SKD_FROM_ANY, REQ | RSP },
	{ SKD_OID_CMC_SENDER_NONCE, "senderNonce",
	    ASN1_ITEM_ref(ASN1_OCTET_STRING), SKD_FROM_ANY, REQ | RSP },
	{ SKD_OID_CMC_RECIPIENT_NONCE, "recipientNonce",
	    ASN1_ITEM_ref(ASN1_OCTET_STRING), SKD_FROM_ANY, REQ | RSP },
	{ SKD_OID_CMC_IDENTIFICATION, "identification",
	    ASN1_ITEM_ref(ASN1_UTF8STRING), SKD_FROM_ANY, REQ },
	{ SKD_OID_SERVER_KEY_GEN_REQUEST, "serverKeyGenRequest",
	    ASN1_ITEM_ref(SKD_SERVER_KEY_GEN_REQUEST), GLO | MEM, REQ },
	{ SKD_OID_SERVER_KEY_GEN_RESPONSE, "serverKeyGenResponse",
	    ASN1_ITEM_ref(SKD_SERVER_KEY_GEN_RESPONSE), GLA, RSP },
	{ SKD_OID_KEY_RECOVERY_REQUEST, "keyRecoveryRequest",
	    ASN1_ITEM_ref(X509), GLO | MEM, REQ },
	{ SKD_OID_KEY_RECOVERY_RESPONSE, "keyRecoveryResponse",
	    ASN1_ITEM_ref(SKD_SERVER_KEY_GEN_RESPONSE), GLA, RSP },
	{ SKD_OID_CMC_ENCRYPTED_POP, "encryptedPOP",
	    ASN1_ITEM_ref(SKD_ENCRYPTED_POP), GLA, RSP },
	{ SKD_OID_CMC_DECRYPTED_POP, "decryptedPOP",
	    ASN1_ITEM_ref(SKD_DECRYPTED_POP), GLO | MEM, REQ },
};

const struct skd_control *
skd_control_by_nid(int nid)
{
	size_t i;

	if (nid == NID_undef)
		return NULL;
	for (i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
		if (skd_asn1_nid(controls[i].oid) == nid)
			return &controls[i];
	}
	return NULL;
}

size_t
skd_control_count(void)
{
	return sizeof(controls) / sizeof(controls[0]);
}

const struct skd_control *
skd_control_at(size_t i)
{
	if (i >= skd_control_count())
		return NULL;
	return &controls[i];
}

struct name_entry {
	long		 value;
	const char	*name;
	const char	*string;
};

static const struct name_entry failinfo_names[] = {
	{ SKD_FAIL_UNSPECIFIED, "unspecified", "unspecified failure" },
	{ SKD_FAIL_CLOSED_GL, "closedGL", "the GL is closed" },
	{ SKD_FAIL_UNSUPPORTED_DURATION, "unsupportedDuration",
	    "the requested KEK duration is not supported" },
	{ SKD_FAIL_NO_GLA_CERTIFICATE, "noGLACertificate",
	    "the GLA has no certificate for this GL" },
	{ SKD_FAIL_INVALID_CERT, "invalidCert", "the certificate is invalid" },
	{ SKD_FAIL_UNSUPPORTED_ALGORITHM, "unsupportedAlgorithm",
	    "the requested algorithm is not supported" },
	{ SKD_FAIL_NO_GLO_NAME_MATCH, "noGLONameMatch",
	    "the signer is not an owner of the GL" },
	{ SKD_FAIL_INVALID_GL_NAME, "invalidGLName",
	    "no GL of that name" },
	{ SKD_FAIL_NAME_ALREADY_IN_USE, "nameAlreadyInUse",
	    "the GL name is already in use" },
	{ SKD_FAIL_NO_SPAM, "noSpam", "the GL does not accept this request" },
	{ SKD_FAIL_ALREADY_A_MEMBER, "alreadyAMember",
	    "already a member of the GL" },
	{ SKD_FAIL_NOT_A_MEMBER, "notAMember", "not a member of the GL" },
	{ SKD_FAIL_ALREADY_AN_OWNER, "alreadyAnOwner",
	    "already an owner of the GL" },
	{ SKD_FAIL_NOT_AN_OWNER, "notAnOwner", "not an owner of the GL" },
};

static const struct name_entry status_names[] = {
	{ SKD_CMC_SUCCESS, "success", "request granted" },
	{ SKD_CMC_FAILED, "failed", "request failed" },
	{ SKD_CMC_PENDING, "pending", "request pending" },
	{ SKD_CMC_NO_SUPPORT, "noSupport", "request not supported" },
	{ SKD_CMC_CONFIRM_REQUIRED, "confirmRequired",
	    "confirmation required" },
	{ SKD_CMC_POP_REQUIRED, "popRequired",
	    "proof of possession required" },
	{ SKD_CMC_PARTIAL, "partial", "partially granted" },
};

static const struct name_entry cmc_failinfo_names[] = {
	{ SKD_CMC_BAD_ALG, "badAlg", "unrecognized or unsupported algorithm" },
	{ SKD_CMC_BAD_MESSAGE_CHECK, "badMessageCheck",
	    "integrity check failed" },
	{ SKD_CMC_BAD_REQUEST, "badRequest", "transaction not permitted" },
	{ SKD_CMC_BAD_TIME, "badTime", "message time not sufficiently close" },
	{ SKD_CMC_BAD_CERT_ID, "badCertId", "no certificate matches" },
	{ SKD_CMC_UNSUPPORTED_EXT, "unsupportedExt",
	    "extension not supported" },
	{ SKD_CMC_MUST_ARCHIVE_KEYS, "mustArchiveKeys",
	    "private key material must be supplied" },
	{ SKD_CMC_BAD_IDENTITY, "badIdentity", "identification failed" },
	{ SKD_CMC_POP_REQUIRED_FAIL, "popRequired",
	    "proof of possession required" },
	{ SKD_CMC_POP_FAILED, "popFailed", "proof of possession failed" },
	{ SKD_CMC_NO_KEY_REUSE, "noKeyReuse", "key reuse not allowed" },
	{ SKD_CMC_INTERNAL_CA_ERROR, "internalCAError", "internal CA error" },
	{ SKD_CMC_TRY_LATER, "tryLater", "try again later" },
	{ SKD_CMC_AUTH_DATA_FAIL, "authDataFail",
	    "authenticated data check failed" },
};

static const struct name_entry skg_error_names[] = {
	{ SKD_SKG_ARCHIVE_NOT_SUPPORTED, "archiveNotSupported",
	    "key archiving not supported" },
	{ SKD_SKG_BAD_CERTIFICATE, "badCertificate",
	    "shrouding certificate not acceptable" },
	{ SKD_SKG_BAD_SHARED_SECRET, "badSharedSecret",
	    "shared secret does not match" },
};

static const struct name_entry *
lookup(const struct name_entry *t, size_t n, long v)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i].value == v)
			return &t[i];
	}
	return NULL;
}

#define LOOKUP(t, v)	lookup((t), sizeof(t) / sizeof((t)[0]), (v))

const char *
skd_failinfo_name(long v)
{
	const struct name_entry *e = LOOKUP(failinfo_names, v);

	return e != NULL ? e->name : NULL;
}

const char *
skd_failinfo_string(long v)
{
	const struct name_entry *e = LOOKUP(failinfo_names, v);

	return e != NULL ? e->string : NULL;
}

const char *
skd_cmc_status_name(long v)
{
	const struct name_entry *e = LOOKUP(status_names, v);

	return e != NULL ? e->name : NULL;
}

const char *
skd_cmc_status_string(long v)
{
	const struct name_entry *e = LOOKUP(status_names, v);

	return e != NULL ? e->string : NULL;
}

const char *
skd_cmc_failinfo_name(long v)
{
	const struct name_entry *e = LOOKUP(cmc_failinfo_names, v);

	return e != NULL ? e->name : NULL;
}

const char *
skd_cmc_failinfo_string(long v)
{
	const struct name_entry *e = LOOKUP(cmc_failinfo_names, v);

	return e != NULL ? e->string : NULL;
}

const char *
skd_skg_error_name(long v)
{
	const struct name_entry *e = LOOKUP(skg_error_names, v);

	return e != NULL ? e->name : NULL;
}
