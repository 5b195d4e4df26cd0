/*
 * layer.c: reading the protection layers of a received message
 * (skd_layers, RFC 5275 3.2.1): which SignedData signs a layer, which body
 * holds it, its bodyPartID, whether it came encrypted, its DER, whether
 * its signature was seen before, whether a PKIData's bodyPartIDs are
 * unique.  Below the message, unit and control files, which all ask it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "engine/engine_local.h"

/* The index of the nearest SignedData ancestor of layer i, or -1. */
int
eng_layer_signed_parent(const struct skd_layers *l, int i)
{
	for (i = l->v[i].parent; i >= 0; i = l->v[i].parent) {
		if (l->v[i].type == SKD_LAYER_SIGNED)
			return i;
	}
	return -1;
}

/* The index of the nearest PKIData/PKIResponse ancestor of i, or -1. */
int
eng_layer_body_parent(const struct skd_layers *l, int i)
{
	for (i = l->v[i].parent; i >= 0; i = l->v[i].parent) {
		if (l->v[i].type == SKD_LAYER_PKI_DATA ||
		    l->v[i].type == SKD_LAYER_PKI_RESPONSE)
			return i;
	}
	return -1;
}

/* RFC 5275 3.2.4.1: bodyList is 0 for the outermost PKIData, else the
 * bodyPartId of the cmsSequence item that holds layer i. */
long
eng_layer_item_bpid(const struct skd_layers *l, int i)
{
	for (; i >= 0; i = l->v[i].parent) {
		if (l->v[i].body_part_id >= 0)
			return l->v[i].body_part_id;
	}
	return 0;
}

/* Whether an opened EnvelopedData sits between layer i and its enclosing
 * body (the protection of i's own request: RFC 5275 3.2.1.2). */
int
eng_layer_encrypted(const struct skd_layers *l, int i)
{
	for (i = l->v[i].parent; i >= 0; i = l->v[i].parent) {
		if (l->v[i].type == SKD_LAYER_PKI_DATA ||
		    l->v[i].type == SKD_LAYER_PKI_RESPONSE)
			return 0;
		if (l->v[i].type == SKD_LAYER_ENVELOPED && l->v[i].opened)
			return 1;
	}
	return 0;
}

/*
 * layer_der returns the DER ContentInfo of layer i (malloc'd with
 * OPENSSL_malloc, length in *out_len): the message itself, the eContent
 * of the SignedData around it, the opened content of the EnvelopedData
 * around it, or its cmsSequence item re-encoded.
 */
unsigned char *
eng_layer_der(struct eng *e, const struct skd_layers *l, int i,
    const unsigned char *msg, size_t len, size_t *out_len)
{
	const struct skd_layer *p;
	unsigned char *der = NULL, *pd = NULL, *content = NULL;
	ASN1_OBJECT *type = NULL;
	size_t pl = 0, cl = 0;
	int k;

	if (l->v[i].parent < 0) {
		*out_len = len;
		return OPENSSL_memdup(msg, len);
	}
	p = &l->v[l->v[i].parent];
	if (p->type == SKD_LAYER_SIGNED) {
		/* The layer as a ContentInfo, whether it came bare (RFC 5652
		 * 5.2) or whole. */
		if (!skd_cms_nested_content_info(&der, out_len, NULL,
		    p->verified->econtent_type, p->verified->content,
		    p->verified->content_len, 0))
			return NULL;
		return der;
	}
	if (p->type == SKD_LAYER_ENVELOPED) {
		struct skd_cms_opener who;

		memset(&who, 0, sizeof(who));
		who.cert = e->cfg->gla_cert;
		who.key = e->cfg->gla_key;
		if ((pd = eng_layer_der(e, l, l->v[i].parent, msg, len, &pl)) ==
		    NULL)
			return NULL;
		if (!skd_cms_open(&content, &cl, &type, pd, pl, &who)) {
			OPENSSL_free(pd);
			return NULL;
		}
		OPENSSL_free(pd);
		if (!skd_cms_nested_content_info(&der, out_len, NULL, type,
		    content, cl, SKD_CMS_NEST_IN_ENVELOPED))
			der = NULL;
		ASN1_OBJECT_free(type);
		OPENSSL_clear_free(content, cl);
		return der;
	}
	if (p->type == SKD_LAYER_PKI_DATA && p->pki_data != NULL) {
		for (k = 0; k < sk_SKD_TAGGED_CONTENT_INFO_num(
		    p->pki_data->cmsSequence); k++) {
			SKD_TAGGED_CONTENT_INFO *t = sk_SKD_TAGGED_CONTENT_INFO_value(
			    p->pki_data->cmsSequence, k);
			int n;

			if (ASN1_INTEGER_get(t->bodyPartID) !=
			    l->v[i].body_part_id)
				continue;
			if ((n = i2d_CMS_ContentInfo(t->contentInfo, &der)) <= 0)
				return NULL;
			*out_len = (size_t)n;
			return der;
		}
	}
	return NULL;
}

/* engine_local.h: RFC 5275 3.2.4.3 replay protection. */
int
eng_replay_check(struct eng *e, const struct skd_cms_verified *v,
    int *out_fresh)
{
	unsigned char md[32];
	char key[65];
	unsigned int mdlen = 0;
	long past = e->cfg->time_past > 0 ? e->cfg->time_past :
	    SKD_ENGINE_DEFAULT_WINDOW;
	int i, rc;

	if (!EVP_Digest(v->signature, v->signature_len, md, &mdlen,
	    EVP_sha256(), NULL))
		return 0;
	for (i = 0; i < 32; i++)
		snprintf(key + 2 * i, 3, "%02x", md[i]);
	/* Kept until the message would be refused as too old anyway. */
	rc = e->st->seen(e->st->ctx, key, v->signing_time + past + 1);
	if (rc < 0)
		return 0;
	*out_fresh = rc == 1;
	return 1;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Appends the bodyPartID v to ids; 0 when it is no BodyPartID. */
static int
bpid_push(uint64_t *ids, size_t *n, const ASN1_INTEGER *v)
{
	if (v == NULL || !ASN1_INTEGER_get_uint64(&ids[*n], v) ||
	    ids[*n] > 4294967295ULL) {
		ERR_clear_error();
		return 0;
	}
	(*n)++;
	return 1;
}

int
eng_body_part_ids_unique(const SKD_PKI_DATA *pd, long extra)
{
	const STACK_OF(SKD_TAGGED_ATTRIBUTE) *cs = pd->controlSequence;
	const STACK_OF(SKD_TAGGED_CONTENT_INFO) *ms = pd->cmsSequence;
	const STACK_OF(SKD_OTHER_MSG) *os = pd->otherMsgSequence;
	size_t n = 0, i;
	uint64_t *ids;
	int k, rc = 1;

	if ((ids = calloc((size_t)sk_SKD_TAGGED_ATTRIBUTE_num(cs) +
	    (size_t)sk_SKD_TAGGED_CONTENT_INFO_num(ms) +
	    (size_t)sk_SKD_OTHER_MSG_num(os) + 1, sizeof(*ids))) == NULL)
		return -1;
	for (k = 0; rc && k < sk_SKD_TAGGED_ATTRIBUTE_num(cs); k++)
		rc = bpid_push(ids, &n,
		    sk_SKD_TAGGED_ATTRIBUTE_value(cs, k)->bodyPartID);
	for (k = 0; rc && k < sk_SKD_TAGGED_CONTENT_INFO_num(ms); k++)
		rc = bpid_push(ids, &n,
		    sk_SKD_TAGGED_CONTENT_INFO_value(ms, k)->bodyPartID);
	for (k = 0; rc && k < sk_SKD_OTHER_MSG_num(os); k++)
		rc = bpid_push(ids, &n, sk_SKD_OTHER_MSG_value(os, k)->bodyPartID);
	if (rc && extra >= 0)
		ids[n++] = (uint64_t)extra;
	if (rc && n > 1) {
		qsort(ids, n, sizeof(*ids), u64_cmp);
		for (i = 1; i < n; i++) {
			if (ids[i] == ids[i - 1])
				rc = 0;
		}
	}
	free(ids);
	return rc;
}
