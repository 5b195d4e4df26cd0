/*
 * content.c: content protected with a group KEK (RFC 5275 1: the shared
 * KEK protects the content-encryption key of each message): CMS
 * EnvelopedData with one KEKRecipientInfo (RFC 5652 6.2.3), as `openssl cms
 * -encrypt -secretkey K -secretkeyid ID` makes.
 */
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>

#include "client/client_local.h"

int
skd_client_encrypt(unsigned char **out, size_t *out_len,
    const struct skd_client_keystore *ks, const char *gl, time_t now,
    const unsigned char *in, size_t in_len, struct skd_client_error *err)
{
	const struct skd_client_key *k;
	struct skd_cms_recip r;

	*out = NULL;
	if ((k = skd_client_keystore_current(ks, gl, now)) == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_NO_KEY,
		    "no key of %s is valid now (fetch one first)", gl);
	memset(&r, 0, sizeof(r));
	r.type = SKD_CMS_RECIP_KEK;
	r.kek = k->kek;
	r.kek_len = k->kek_len;
	r.kek_id = k->key_id;
	r.kek_id_len = k->key_id_len;
	if (!skd_cms_envelope(out, out_len, OBJ_nid2obj(NID_pkcs7_data), in,
	    in_len, &r, 1, NULL))
		return skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
		    "cannot encrypt");
	return 1;
}

int
skd_client_decrypt(unsigned char **out, size_t *out_len,
    const struct skd_client_keystore *ks, const unsigned char *der,
    size_t len, struct skd_client_error *err)
{
	CMS_ContentInfo *ci;
	STACK_OF(CMS_RecipientInfo) *ris;
	const struct skd_client_key *k = NULL;
	struct skd_cms_opener op;
	ASN1_OCTET_STRING *id;
	int i, ok;

	*out = NULL;
	if ((ci = skd_cms_d2i_content_info(der, len)) == NULL ||
	    OBJ_obj2nid(CMS_get0_type(ci)) != NID_pkcs7_enveloped ||
	    (ris = CMS_get0_RecipientInfos(ci)) == NULL) {
		CMS_ContentInfo_free(ci);
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "not a DER CMS EnvelopedData");
	}
	/* The kekri whose keyIdentifier names a key we hold. */
	for (i = 0; k == NULL && i < sk_CMS_RecipientInfo_num(ris); i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);

		if (CMS_RecipientInfo_type(ri) != CMS_RECIPINFO_KEK ||
		    !CMS_RecipientInfo_kekri_get0_id(ri, NULL, &id, NULL, NULL,
		    NULL))
			continue;
		k = skd_client_keystore_find(ks, ASN1_STRING_get0_data(id),
		    (size_t)ASN1_STRING_length(id));
	}
	CMS_ContentInfo_free(ci);
	if (k == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_NO_KEY,
		    "no stored key matches the message's KEK identifiers");
	memset(&op, 0, sizeof(op));
	op.kek = k->kek;
	op.kek_len = k->kek_len;
	op.kek_id = k->key_id;
	op.kek_id_len = k->key_id_len;
	ok = skd_cms_open(out, out_len, NULL, der, len, &op);
	if (!ok)
		return skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
		    "cannot decrypt with the key of %s", k->gl_name);
	ERR_clear_error();
	return 1;
}
