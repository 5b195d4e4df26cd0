/*
 * oids.c: the object identifiers of RFC 5275, the CMC subset and the
 * server-side key generation draft, registered with OpenSSL once.
 */
#include <openssl/crypto.h>
#include <openssl/objects.h>

#include "asn1/skd_asn1.h"

#define SKD_ARC		"1.2.840.113549.1.9.16.8"
#define CMC_ARC		"1.3.6.1.5.5.7.7"
#define LOCAL_ARC	"2.25.88603606528775871844496178518562820826.3"

struct oid_def {
	const char	*oid;
	const char	*sn;
	const char	*ln;
};

/* Indexed by enum skd_oid. */
static const struct oid_def oid_defs[SKD_OID_COUNT] = {
	[SKD_OID_SKD] = { SKD_ARC, "id-skd",
	    "S/MIME Symmetric Key Distribution" },
	[SKD_OID_GL_USE_KEK] = { SKD_ARC ".1", "id-skd-glUseKEK",
	    "GL Use KEK" },
	[SKD_OID_GL_DELETE] = { SKD_ARC ".2", "id-skd-glDelete",
	    "GL Delete" },
	[SKD_OID_GL_ADD_MEMBER] = { SKD_ARC ".3", "id-skd-glAddMember",
	    "GL Add Member" },
	[SKD_OID_GL_DELETE_MEMBER] = { SKD_ARC ".4", "id-skd-glDeleteMember",
	    "GL Delete Member" },
	[SKD_OID_GL_REKEY] = { SKD_ARC ".5", "id-skd-glRekey", "GL Rekey" },
	[SKD_OID_GL_ADD_OWNER] = { SKD_ARC ".6", "id-skd-glAddOwner",
	    "GL Add Owner" },
	[SKD_OID_GL_REMOVE_OWNER] = { SKD_ARC ".7", "id-skd-glRemoveOwner",
	    "GL Remove Owner" },
	[SKD_OID_GL_KEY_COMPROMISE] = { SKD_ARC ".8",
	    "id-skd-glKeyCompromise", "GL Key Compromise" },
	[SKD_OID_GL_KEY_REFRESH] = { SKD_ARC ".9", "id-skd-glKeyRefresh",
	    "GL Key Refresh" },
	[SKD_OID_SKD_10] = { SKD_ARC ".10", "id-skd-10",
	    "SKD arc 10 (unassigned)" },
	[SKD_OID_GLA_QUERY_REQUEST] = { SKD_ARC ".11",
	    "id-skd-glaQueryRequest", "GLA Query Request" },
	[SKD_OID_GLA_QUERY_RESPONSE] = { SKD_ARC ".12",
	    "id-skd-glaQueryResponse", "GLA Query Response" },
	[SKD_OID_GL_PROVIDE_CERT] = { SKD_ARC ".13", "id-skd-glProvideCert",
	    "GL Provide Cert" },
	[SKD_OID_GL_MANAGE_CERT] = { SKD_ARC ".14", "id-skd-glManageCert",
	    "GL Manage Cert" },
	[SKD_OID_GL_KEY] = { SKD_ARC ".15", "id-skd-glKey", "GL Key" },
	[SKD_OID_CMC_GLA_RR] = { CMC_ARC ".99", "id-cmc-glaRR",
	    "CMC GLA Request/Response" },
	[SKD_OID_GLA_SKD_ALG_REQUEST] = { CMC_ARC ".99.1",
	    "id-cmc-gla-skdAlgRequest", "GLA SKD Algorithm Request" },
	[SKD_OID_GLA_SKD_ALG_RESPONSE] = { CMC_ARC ".99.2",
	    "id-cmc-gla-skdAlgResponse", "GLA SKD Algorithm Response" },
	[SKD_OID_CET_SKD_FAIL_INFO] = { "1.3.6.1.5.5.7.15.1",
	    "id-cet-skdFailInfo", "SKD Failure Information" },
	[SKD_OID_CMC_STATUS_INFO_V2] = { CMC_ARC ".25", "id-cmc-statusInfoV2",
	    "CMC Status Info V2" },
	[SKD_OID_CMC_TRANSACTION_ID] = { CMC_ARC ".5", "id-cmc-transactionId",
	    "CMC Transaction Id" },
	[SKD_OID_CMC_SENDER_NONCE] = { CMC_ARC ".6", "id-cmc-senderNonce",
	    "CMC Sender Nonce" },
	[SKD_OID_CMC_RECIPIENT_NONCE] = { CMC_ARC ".7",
	    "id-cmc-recipientNonce", "CMC Recipient Nonce" },
	[SKD_OID_CMC_IDENTIFICATION] = { CMC_ARC ".2",
	    "id-cmc-identification", "CMC Identification" },
	[SKD_OID_CCT_PKI_DATA] = { "1.3.6.1.5.5.7.12.2", "id-cct-PKIData",
	    "CMC PKIData" },
	[SKD_OID_CCT_PKI_RESPONSE] = { "1.3.6.1.5.5.7.12.3",
	    "id-cct-PKIResponse", "CMC PKIResponse" },
	[SKD_OID_SHROUD_WITH_PUBLIC_KEY] = { LOCAL_ARC ".1",
	    "id-cmc-shroudWithPublicKey", "CMC Shroud With Public Key" },
	[SKD_OID_SHROUD_WITH_SHARED_SECRET] = { LOCAL_ARC ".2",
	    "id-cmc-shroudWithSharedSecret", "CMC Shroud With Shared Secret" },
	[SKD_OID_SERVER_KEY_GEN_REQUEST] = { LOCAL_ARC ".3",
	    "id-cmc-serverKeyGenRequest", "CMC Server Key Gen Request" },
	[SKD_OID_SERVER_KEY_GEN_RESPONSE] = { LOCAL_ARC ".4",
	    "id-cmc-serverKeyGenResponse", "CMC Server Key Gen Response" },
	[SKD_OID_ERR_KEY_GENERATION] = { LOCAL_ARC ".5",
	    "id-cmc-err-keyGeneration", "CMC Key Generation Error" },
	[SKD_OID_ERR_ARCHIVE_NOT_SUPPORTED] = { LOCAL_ARC ".6",
	    "id-cmc-err-archiveNotSupported", "CMC Archive Not Supported" },
	[SKD_OID_ERR_BAD_CERTIFICATE] = { LOCAL_ARC ".7",
	    "id-cmc-err-badCertificate", "CMC Bad Certificate" },
	[SKD_OID_ERR_BAD_SHARED_SECRET] = { LOCAL_ARC ".8",
	    "id-cmc-err-badSharedSecret", "CMC Bad Shared Secret" },
	[SKD_OID_KEY_RECOVERY_REQUEST] = { LOCAL_ARC ".9",
	    "id-skd-keyRecoveryRequest", "skd Key Recovery Request" },
	[SKD_OID_KEY_RECOVERY_RESPONSE] = { LOCAL_ARC ".10",
	    "id-skd-keyRecoveryResponse", "skd Key Recovery Response" },
	[SKD_OID_CMC_ENCRYPTED_POP] = { CMC_ARC ".9", "id-cmc-encryptedPOP",
	    "id-cmc-encryptedPOP" },
	[SKD_OID_CMC_DECRYPTED_POP] = { CMC_ARC ".10", "id-cmc-decryptedPOP",
	    "id-cmc-decryptedPOP" },
	[SKD_OID_POP_CERTIFICATE] = { LOCAL_ARC ".11",
	    "id-skd-popCertificate", "skd POP Certificate" },
};

static CRYPTO_ONCE oid_once = CRYPTO_ONCE_STATIC_INIT;
static int oid_nids[SKD_OID_COUNT];
static int oid_ok;

static void
oid_register(void)
{
	size_t i;
	int nid;

	for (i = 0; i < SKD_OID_COUNT; i++) {
		/* Reuse OpenSSL's NID where it knows the OID already (the CMC
		 * ones do), so that names print as OpenSSL prints them. */
		nid = OBJ_txt2nid(oid_defs[i].oid);
		if (nid == NID_undef) {
			/* Another library may have taken the short name for a
			 * different OID; register the OID with no names then. */
			if (OBJ_sn2nid(oid_defs[i].sn) != NID_undef ||
			    OBJ_ln2nid(oid_defs[i].ln) != NID_undef)
				nid = OBJ_create(oid_defs[i].oid, NULL, NULL);
			else
				nid = OBJ_create(oid_defs[i].oid,
				    oid_defs[i].sn, oid_defs[i].ln);
		}
		if (nid == NID_undef)
			return;
		oid_nids[i] = nid;
	}
	oid_ok = 1;
}

int
skd_asn1_init(void)
{
	if (!CRYPTO_THREAD_run_once(&oid_once, oid_register))
		return 0;
	return oid_ok;
}

int
skd_asn1_nid(enum skd_oid oid)
{
	if ((int)oid < 0 || oid >= SKD_OID_COUNT)
		return NID_undef;
	if (!skd_asn1_init())
		return NID_undef;
	return oid_nids[oid];
}

const char *
skd_asn1_oid_text(enum skd_oid oid)
{
	if ((int)oid < 0 || oid >= SKD_OID_COUNT)
		return NULL;
	return oid_defs[oid].oid;
}
