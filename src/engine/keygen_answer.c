/*
 * keygen_answer.c: what the answers of CMC server-side key generation
 * share (keygen.c, pop.c, recover.c, ra.c): signing as the keygen CA
 * (draft section 2: "Signed by the CA"), the key package and the control
 * pointing at it (6.2), echo-sign-publish, the shape of a request's body
 * (3.1), and the certificate published on the requester's entry.  Below
 * those files, above answer.c (docs/architecture.md).
 */
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "engine/process_local.h"
#include "kgen/skd_kgen.h"

/* Signs the answer as the keygen CA (section 2: "Signed by the CA"),
 * its certificates the issued one (may be NULL) and the chain (6.2). */
int
eng_keygen_sign_answer(struct eng *e, struct skd_cmc_body *b, X509 *issued,
    X509 *encrypt_to, unsigned char **out, size_t *out_len)
{
	const struct skd_kgen_ca *ca = e->cfg->keygen;
	struct skd_cmc_protect p;
	STACK_OF(X509) *chain = NULL;
	unsigned char *body = NULL;
	size_t body_len = 0;
	int i, ok = 0;

	/* Not offered: the GLA answers as for any request. */
	if (ca == NULL)
		return eng_sign_body(e, NULL, 1, b, encrypt_to, out, out_len);
	memset(&p, 0, sizeof(p));
	if ((chain = sk_X509_new_null()) == NULL ||
	    (issued != NULL && !sk_X509_push(chain, issued)))
		goto err;
	for (i = 0; ca->chain != NULL && i < sk_X509_num(ca->chain); i++) {
		if (!sk_X509_push(chain, sk_X509_value(ca->chain, i)))
			goto err;
	}
	p.signer = ca->cert;
	p.key = ca->key;
	p.chain = chain;
	p.signing_time = e->now;
	p.encrypt_to = encrypt_to;
	p.encrypt_flags = e->cfg->oaep ? SKD_CMS_RECIP_OAEP : 0;
	p.outer_sign = encrypt_to != NULL && e->cfg->outer_sign;
	if (!skd_cmc_body_encode(b, &body, &body_len) ||
	    !skd_cmc_protect(out, out_len, 1, body, body_len, &p))
		goto err;
	ok = 1;
 err:
	OPENSSL_free(body);
	sk_X509_free(chain);
	return ok;
}

/* process_local.h */
int
eng_keygen_publish(struct eng *e, X509 *who_cert, const char *who_identity,
    X509 *issued)
{
	STACK_OF(ASN1_UTF8STRING) *names = NULL;
	SKD_ENG_OP *op;
	unsigned char *der = NULL;
	char *name = NULL, *dn = NULL;
	int i, n, rc = 0, ok = 0;

	if (e->cfg->keygen_publish_attr == NULL || e->env->resolve_dn == NULL)
		return 1;
	if ((names = sk_ASN1_UTF8STRING_new_null()) == NULL ||
	    (who_cert != NULL ? !eng_cert_names(names, who_cert) :
	    !eng_push_utf8(names, who_identity)))
		goto err;
	for (i = 0; rc == 0 && i < sk_ASN1_UTF8STRING_num(names); i++) {
		OPENSSL_free(name);
		if ((name = eng_str(sk_ASN1_UTF8STRING_value(names, i))) ==
		    NULL)
			goto err;
		if ((rc = e->env->resolve_dn(e->st->ctx, &dn, name)) < 0)
			goto err;
	}
	if (rc == 0) {
		ok = 1;		/* nobody to publish on: noted, not failed */
		goto err;
	}
	if ((n = i2d_X509(issued, &der)) <= 0 ||
	    (op = eng_op_add(e->out, SKD_OP_CERT_PUBLISH, "")) == NULL ||
	    !eng_set_utf8(&op->name, e->cfg->keygen_publish_attr) ||
	    (op->member = SKD_ENG_MEMBER_new()) == NULL ||
	    !eng_set_utf8(&op->member->name, name) ||
	    !eng_set_utf8(&op->member->dn, dn) ||
	    !eng_set_octets(&op->member->cert, der, (size_t)n))
		goto err;
	ok = 1;
 err:
	free(dn);
	OPENSSL_free(name);
	OPENSSL_free(der);
	sk_ASN1_UTF8STRING_pop_free(names, ASN1_UTF8STRING_free);
	return ok;
}

int
eng_keygen_add_package(struct skd_cmc_body *b, enum skd_oid oid,
    const unsigned char *pkg, size_t pkg_len, long req_bpid, X509 *cert)
{
	SKD_SERVER_KEY_GEN_RESPONSE *resp = NULL;
	PKCS7_ISSUER_AND_SERIAL *ias;
	long cms_bpid;
	int ok = 0;

	/* 6.2: point at the key package, the request and the certificate. */
	if ((cms_bpid = skd_cmc_body_add_cms(b, pkg, pkg_len)) == 0 ||
	    (resp = SKD_SERVER_KEY_GEN_RESPONSE_new()) == NULL ||
	    !ASN1_INTEGER_set(resp->cmsBodyPartId, cms_bpid) ||
	    !ASN1_INTEGER_set(resp->requestBodyPartId, req_bpid) ||
	    (ias = PKCS7_ISSUER_AND_SERIAL_new()) == NULL)
		goto err;
	resp->issuerAndSerialNumber = ias;
	if (!X509_NAME_set(&ias->issuer, X509_get_issuer_name(cert)))
		goto err;
	ASN1_INTEGER_free(ias->serial);
	if ((ias->serial = ASN1_INTEGER_dup(X509_get0_serialNumber(cert))) ==
	    NULL || skd_cmc_body_add_control(b, oid, resp) == 0)
		goto err;
	ok = 1;
 err:
	SKD_SERVER_KEY_GEN_RESPONSE_free(resp);
	return ok;
}

int
eng_keygen_respond(struct eng *e, const char *request_id,
    struct skd_cmc_body *b, const SKD_PKI_DATA *pd, X509 *issued,
    X509 *encrypt_to, X509 *to_cert, const char *to_name)
{
	unsigned char *der = NULL;
	size_t der_len = 0;
	int ok;

	ok = eng_add_echo(e, b, pd->controlSequence) &&
	    eng_keygen_sign_answer(e, b, issued, encrypt_to, &der, &der_len) &&
	    eng_publish(e, SKD_OP_RESPONSE, SKD_MSG_RESPONSE, request_id, "",
	    der, der_len, to_cert, to_cert == NULL && to_name != NULL ?
	    &to_name : NULL, to_cert == NULL && to_name != NULL ? 1 : 0);
	OPENSSL_free(der);
	return ok;
}

int
eng_keygen_body_only(const SKD_PKI_DATA *pd, const enum skd_oid *allowed,
    size_t n_allowed, int n_req, int n_cms)
{
	size_t j;
	int i, nid;

	for (i = 0; i < sk_SKD_TAGGED_ATTRIBUTE_num(pd->controlSequence); i++) {
		nid = OBJ_obj2nid(sk_SKD_TAGGED_ATTRIBUTE_value(
		    pd->controlSequence, i)->attrType);
		for (j = 0; j < n_allowed; j++) {
			if (nid == skd_asn1_nid(allowed[j]))
				break;
		}
		if (j == n_allowed)
			return 0;
	}
	/* Each allowed control at most once. */
	for (j = 0; j < n_allowed; j++) {
		if (skd_cmc_find_control(pd->controlSequence, allowed[j], 1) !=
		    NULL)
			return 0;
	}
	return sk_SKD_TAGGED_REQUEST_num(pd->reqSequence) == n_req &&
	    sk_SKD_TAGGED_CONTENT_INFO_num(pd->cmsSequence) == n_cms &&
	    sk_SKD_OTHER_MSG_num(pd->otherMsgSequence) == 0;
}
