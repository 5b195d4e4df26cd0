/*
 * units.c: one PKIData at a time (RFC 5275 3.2.2: each cmsSequence item is
 * one GL's requests), its controls checked and ordered, and its
 * PKIResponse built (3.2.3: one status per request; 3.2.4).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "engine/process_local.h"

/* RFC 5275 3.2.2: combinations that MUST NOT be generated. */
static const enum skd_oid invalid_pairs[][2] = {
	{ SKD_OID_GL_USE_KEK, SKD_OID_GL_DELETE_MEMBER },
	{ SKD_OID_GL_USE_KEK, SKD_OID_GL_REKEY },
	{ SKD_OID_GL_USE_KEK, SKD_OID_GL_DELETE },
	{ SKD_OID_GL_DELETE, SKD_OID_GL_ADD_MEMBER },
	{ SKD_OID_GL_DELETE, SKD_OID_GL_DELETE_MEMBER },
	{ SKD_OID_GL_DELETE, SKD_OID_GL_REKEY },
	{ SKD_OID_GL_DELETE, SKD_OID_GL_ADD_OWNER },
	{ SKD_OID_GL_DELETE, SKD_OID_GL_REMOVE_OWNER },
};

/* Requests one PKIData may carry; a longer one is refused whole.  Each
 * request answers with at most two controls (a status and a query
 * response), so 500 keeps a response within SKD_CMC_MAX_CONTROLS. */
#define ENG_MAX_REQUESTS	500

/* RFC 5275 3.2.2 priority: glUseKEK and glRekey before glAddMember,
 * glDeleteMember before glRekey. */
static int
priority(enum skd_oid oid)
{
	switch (oid) {
	case SKD_OID_GL_USE_KEK:
		return 0;
	case SKD_OID_GL_DELETE_MEMBER:
		return 1;
	case SKD_OID_GL_REKEY:
		return 2;
	case SKD_OID_GL_ADD_MEMBER:
		return 3;
	default:
		return 4;
	}
}

/* SKDFailInfo values not returned to GL members (3.2.3); a signer who is
 * neither a GLO nor a member gets them (4.3.1 2.d.2.b.1.a: noGLONameMatch
 * to a stranger adding someone to a closed GL). */
static long
mask_for_member(long v)
{
	switch (v) {
	case SKD_FAIL_UNSUPPORTED_DURATION:
	case SKD_FAIL_UNSUPPORTED_ALGORITHM:
	case SKD_FAIL_NO_GLO_NAME_MATCH:
	case SKD_FAIL_NAME_ALREADY_IN_USE:
	case SKD_FAIL_ALREADY_AN_OWNER:
	case SKD_FAIL_NOT_AN_OWNER:
		return SKD_FAIL_UNSPECIFIED;
	}
	return v;
}

static enum skd_oid
oid_of_nid(int nid)
{
	int o;

	for (o = 0; o < SKD_OID_COUNT; o++) {
		if (skd_asn1_nid((enum skd_oid)o) == nid)
			return (enum skd_oid)o;
	}
	return SKD_OID_COUNT;
}

static void
ctl_bad(struct eng_ctl *c, const char *text)
{
	c->done = 1;
	c->status = SKD_CMC_FAILED;
	c->cmc_fail = SKD_CMC_BAD_REQUEST;
	c->skd_fail = -1;
	snprintf(c->text, sizeof(c->text), "%s", text);
}

static void
ctls_free(struct eng_ctl *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i].val != NULL && v[i].def != NULL)
			ASN1_item_free(v[i].val, ASN1_ITEM_ptr(v[i].def->item));
		SKD_GLA_QUERY_RESPONSE_free(v[i].query_resp);
	}
	free(v);
}

static int
ctl_cmp(const void *a, const void *b)
{
	const struct eng_ctl *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x->bpid < y->bpid ? -1 : x->bpid > y->bpid;
}

static int
bpid_cmp(const void *a, const void *b)
{
	const struct eng_ctl *x = a, *y = b;

	return x->bpid < y->bpid ? -1 : x->bpid > y->bpid;
}

/* The requests of pd: every control but the CMC ones of 3.2.4. */
static int
collect(struct eng_ctl **out, size_t *out_n, const SKD_PKI_DATA *pd)
{
	const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq = pd->controlSequence;
	struct eng_ctl *v;
	size_t n = 0, i, j, p;
	int k;

	*out = NULL;
	*out_n = 0;
	if ((v = calloc((size_t)sk_SKD_TAGGED_ATTRIBUTE_num(seq) + 1,
	    sizeof(*v))) == NULL)
		return 0;
	for (k = 0; k < sk_SKD_TAGGED_ATTRIBUTE_num(seq); k++) {
		const SKD_TAGGED_ATTRIBUTE *ta =
		    sk_SKD_TAGGED_ATTRIBUTE_value(seq, k);
		struct eng_ctl *c = &v[n];
		int nid = OBJ_obj2nid(ta->attrType);

		if (nid != NID_undef &&
		    (nid == skd_asn1_nid(SKD_OID_CMC_TRANSACTION_ID) ||
		    nid == skd_asn1_nid(SKD_OID_CMC_SENDER_NONCE) ||
		    nid == skd_asn1_nid(SKD_OID_CMC_RECIPIENT_NONCE)))
			continue;
		n++;
		c->nid = nid;
		c->bpid = ASN1_INTEGER_get(ta->bodyPartID);
		c->oid = oid_of_nid(nid);
		c->prio = priority(c->oid);
		c->cmc_fail = c->skd_fail = -1;
		c->def = skd_control_by_nid(nid);
		if (c->def == NULL) {
			ctl_bad(c, "unknown control");
			continue;
		}
		if (!(c->def->carried & SKD_IN_PKI_DATA) ||
		    !(c->def->senders & (SKD_FROM_GLO | SKD_FROM_MEMBER)) ||
		    c->oid == SKD_OID_SERVER_KEY_GEN_REQUEST) {
			c->def = NULL;
			ctl_bad(c, "control not accepted by the GLA");
			continue;
		}
		if (sk_ASN1_TYPE_num(ta->attrValues) != 1) {
			c->def = NULL;
			ctl_bad(c, "control must have exactly one value");
			continue;
		}
		c->val = skd_tagged_attribute_decode1(ta, 0,
		    ASN1_ITEM_ptr(c->def->item));
		ERR_clear_error();
		if (c->val == NULL) {
			c->def = NULL;
			ctl_bad(c, "malformed control value");
			continue;
		}
	}
	/* 3.2.2: invalid combinations refuse the whole controlSequence. */
	for (p = 0; p < sizeof(invalid_pairs) / sizeof(invalid_pairs[0]);
	    p++) {
		int a = 0, b = 0;

		for (i = 0; i < n; i++) {
			a |= v[i].oid == invalid_pairs[p][0];
			b |= v[i].oid == invalid_pairs[p][1];
		}
		if (a && b) {
			for (j = 0; j < n; j++) {
				if (!v[j].done)
					ctl_bad(&v[j], "invalid combination "
					    "of requests (RFC 5275 3.2.2)");
			}
		}
	}
	*out = v;
	*out_n = n;
	return 1;
}

static int
unit_init(struct eng *e, struct eng_unit *u, const struct skd_layers *l,
    int li)
{
	int s;

	(void)e;
	u->layer = li;
	u->pd = l->v[li].pki_data;
	u->unit_id = eng_layer_item_bpid(l, li);
	u->layers = l;
	if ((u->signed_layer = eng_layer_signed_parent(l, li)) < 0 ||
	    l->v[u->signed_layer].verified == NULL)
		return 0;
	u->signer = l->v[u->signed_layer].verified->signer;
	u->encrypted = eng_layer_encrypted(l, li);
	/* Who else signed around it: a GLO approving a member's request
	 * (RFC 5275 3.2.5); the GLA's own forwarding layer does not count. */
	for (s = eng_layer_signed_parent(l, u->signed_layer); s >= 0;
	    s = eng_layer_signed_parent(l, s)) {
		X509 *x;

		if (l->v[s].verified == NULL)
			continue;
		x = l->v[s].verified->signer;
		if (eng_is_gla_cert(e, x) || u->n_outer == SKD_LAYERS_MAX_DEPTH)
			continue;
		u->outer[u->n_outer++] = x;
	}
	return 1;
}

static int
add_result(struct eng *e, const struct eng_unit *u, const struct eng_ctl *c)
{
	return eng_result_add(e->out, u->unit_id, c->bpid, c->nid, c->status,
	    c->cmc_fail, c->skd_fail, c->text[0] != '\0' ? c->text : NULL);
}

/*
 * process_unit processes the PKIData at layer li and those nested in its
 * cmsSequence; it pushes onto items the signed PKIResponse(s) to put in
 * the enclosing response.
 */
/*
 * A PKIData with more requests than ENG_MAX_REQUESTS is refused whole,
 * with one cMCStatusInfoExt (failed, badRequest) whose bodyList names
 * every request (RFC 5275 3.2.4.1: one status may cover several
 * bodyPartIDs); nothing is done, so the work per message stays bounded.
 */
static int
refuse_all(struct eng *e, struct eng_unit *u, struct eng_ctl *ctl,
    size_t nctl, STACK_OF(ASN1_OCTET_STRING) *items)
{
	unsigned char *der = NULL;
	size_t der_len = 0, i;
	long *bpids = NULL;
	char text[96];
	int ok = 0;

	snprintf(text, sizeof(text), "too many requests in one PKIData "
	    "(%zu; at most %d)", nctl, ENG_MAX_REQUESTS);
	if ((bpids = calloc(nctl, sizeof(*bpids))) == NULL)
		goto err;
	for (i = 0; i < nctl; i++) {
		ctl_bad(&ctl[i], text);
		bpids[i] = ctl[i].bpid;
		if (!add_result(e, u, &ctl[i]))
			goto err;
	}
	if (!eng_status_answer(e, u->gl, SKD_CMC_FAILED, bpids, nctl, text,
	    SKD_CMC_BAD_REQUEST, u->pd->controlSequence,
	    u->encrypted ? u->signer : NULL, &der, &der_len) ||
	    !eng_push_octets(items, der, der_len))
		goto err;
	ok = 1;
 err:
	OPENSSL_free(der);
	free(bpids);
	return ok;
}

static int
process_unit(struct eng *e, const struct skd_layers *l, int li,
    const unsigned char *msg, size_t len, STACK_OF(ASN1_OCTET_STRING) *items,
    size_t *out_nctl)
{
	struct eng_unit u;
	struct eng_ctl *ctl = NULL;
	struct skd_cmc_body *b = NULL;
	STACK_OF(ASN1_OCTET_STRING) *mine = NULL;
	unsigned char *der = NULL;
	size_t nctl = 0, i, statuses = 0, child_nctl, der_len = 0;
	int ok = 0, k;

	memset(&u, 0, sizeof(u));
	u.msg = msg;
	u.msg_len = len;
	if (!unit_init(e, &u, l, li))
		return 1;	/* cannot happen after the walk succeeded */
	if (!collect(&ctl, &nctl, u.pd))
		goto err;
	*out_nctl = nctl;
	if (nctl > ENG_MAX_REQUESTS) {
		ok = refuse_all(e, &u, ctl, nctl, items);
		goto err;
	}
	qsort(ctl, nctl, sizeof(*ctl), ctl_cmp);
	for (i = 0; i < nctl; i++) {
		if (!ctl[i].done && !eng_dispatch(e, &u, &ctl[i]))
			goto err;
	}
	if (!eng_unit_end(e, &u))
		goto err;
	/* The cmsSequence items: responses of the nested PKIData. */
	if ((mine = sk_ASN1_OCTET_STRING_new_null()) == NULL)
		goto err;
	for (k = 0; k < (int)l->n; k++) {
		if (l->v[k].type == SKD_LAYER_PKI_DATA &&
		    eng_layer_body_parent(l, k) == li) {
			if (!process_unit(e, l, k, msg, len, mine,
			    &child_nctl))
				goto err;
		}
	}
	if (nctl == 0) {
		/* A container (or the GLA's own forwarding layer): its
		 * children's responses go one level up. */
		while (sk_ASN1_OCTET_STRING_num(mine) > 0) {
			if (!sk_ASN1_OCTET_STRING_push(items,
			    sk_ASN1_OCTET_STRING_shift(mine)))
				goto err;
		}
		ok = 1;
		goto err;
	}
	qsort(ctl, nctl, sizeof(*ctl), bpid_cmp);
	if ((b = skd_cmc_body_new(1)) == NULL)
		goto err;
	for (i = 0; i < nctl; i++) {
		struct eng_ctl *c = &ctl[i];

		if (!c->done)
			continue;
		if (!c->by_glo && c->by_member && c->skd_fail >= 0)
			c->skd_fail = mask_for_member(c->skd_fail);
		if (!add_result(e, &u, c))
			goto err;
		if (c->no_status)
			continue;
		if (skd_cmc_body_add_status(b, (enum skd_cmc_status)c->status,
		    &c->bpid, 1, c->text[0] != '\0' ? c->text : NULL,
		    (int)c->cmc_fail, (int)c->skd_fail) == 0)
			goto err;
		statuses++;
		if (c->query_resp != NULL && skd_cmc_body_add_control(b,
		    SKD_OID_GLA_QUERY_RESPONSE, c->query_resp) == 0)
			goto err;
	}
	for (k = 0; k < sk_ASN1_OCTET_STRING_num(mine); k++) {
		ASN1_OCTET_STRING *os = sk_ASN1_OCTET_STRING_value(mine, k);

		if (skd_cmc_body_add_cms(b, os->data, (size_t)os->length) == 0)
			goto err;
	}
	if (statuses == 0 && sk_ASN1_OCTET_STRING_num(mine) == 0) {
		/* Everything was forwarded: no answer yet (3.2.4.1: no
		 * "pending" for redirected requests). */
		ok = 1;
		goto err;
	}
	if (!eng_add_echo(e, b, u.pd->controlSequence))
		goto err;
	/* 4.x 2.*.a: encrypted back when the request was encrypted. */
	if (!eng_sign_body(e, u.gl, 1, b, u.encrypted ? u.signer : NULL, &der,
	    &der_len))
		goto err;
	if (!eng_push_octets(items, der, der_len))
		goto err;
	ok = 1;
 err:
	OPENSSL_free(der);
	skd_cmc_body_free(b);
	sk_ASN1_OCTET_STRING_pop_free(mine, ASN1_OCTET_STRING_free);
	ctls_free(ctl, nctl);
	return ok;
}

int
eng_process_units(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id, const unsigned char *msg, size_t len)
{
	STACK_OF(ASN1_OCTET_STRING) *items = NULL;
	struct skd_cmc_body *b = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0, nctl = 0;
	X509 *signer;
	int sl, ok = 0, k;
	SKD_ENG_OP *op;

	/* A GLO's denial of a forwarded request, sent through the GLA
	 * (3.2.4.1): a PKIResponse among the cmsSequence items. */
	if (eng_is_denial(l, top))
		return eng_process_denial(e, l, top, request_id, msg, len);
	sl = eng_layer_signed_parent(l, top);
	signer = l->v[sl].verified->signer;
	if ((items = sk_ASN1_OCTET_STRING_new_null()) == NULL ||
	    (e->extra == NULL &&
	    (e->extra = sk_ASN1_OCTET_STRING_new_null()) == NULL))
		goto err;
	if (!process_unit(e, l, top, msg, len, items, &nctl))
		goto err;
	if (nctl == 0 && sk_ASN1_OCTET_STRING_num(items) == 0 &&
	    sk_SKD_ENG_OP_num(e->out->ops) == 0 &&
	    sk_SKD_ENG_RESULT_num(e->out->results) == 0) {
		/* Nothing asked at all. */
		long zero = 0;

		if (!eng_status_answer(e, NULL, SKD_CMC_FAILED, &zero, 1,
		    "no request in PKIData", SKD_CMC_BAD_REQUEST,
		    l->v[top].pki_data->controlSequence,
		    eng_layer_encrypted(l, top) ? signer : NULL, &der,
		    &der_len) ||
		    !eng_push_octets(items, der, der_len) ||
		    !eng_result_add(e->out, 0, 0, NID_undef, SKD_CMC_FAILED,
		    SKD_CMC_BAD_REQUEST, -1, "no request in PKIData"))
			goto err;
		OPENSSL_free(der);
		der = NULL;
	} else if (nctl == 0 && sk_ASN1_OCTET_STRING_num(items) > 0) {
		/* The outermost PKIData only carried cmsSequence items: wrap
		 * their responses in one PKIResponse (3.2.2 figure). */
		if ((b = skd_cmc_body_new(1)) == NULL)
			goto err;
		for (k = 0; k < sk_ASN1_OCTET_STRING_num(items); k++) {
			ASN1_OCTET_STRING *os = sk_ASN1_OCTET_STRING_value(items,
			    k);

			if (skd_cmc_body_add_cms(b, os->data,
			    (size_t)os->length) == 0)
				goto err;
		}
		if (!eng_add_echo(e, b, l->v[top].pki_data->controlSequence) ||
		    !eng_sign_body(e, NULL, 1, b, eng_layer_encrypted(l, top) ?
		    signer : NULL, &der, &der_len))
			goto err;
		sk_ASN1_OCTET_STRING_pop_free(items, ASN1_OCTET_STRING_free);
		if ((items = sk_ASN1_OCTET_STRING_new_null()) == NULL ||
		    !eng_push_octets(items, der, der_len))
			goto err;
	}
	if (sk_ASN1_OCTET_STRING_num(items) == 0) {
		ok = 1;
		goto err;
	}
	/* One response entry: the PKIResponse first, then any glKey
	 * messages a glkRefresh asked for (4.8). */
	{
		ASN1_OCTET_STRING *r = sk_ASN1_OCTET_STRING_value(items, 0);

		if (!eng_publish(e, SKD_OP_RESPONSE, SKD_MSG_RESPONSE,
		    request_id, "", r->data, (size_t)r->length, signer, NULL,
		    0))
			goto err;
	}
	op = sk_SKD_ENG_OP_value(e->out->ops, sk_SKD_ENG_OP_num(e->out->ops) -
	    1);
	for (k = 0; k < sk_ASN1_OCTET_STRING_num(e->extra); k++) {
		ASN1_OCTET_STRING *os = sk_ASN1_OCTET_STRING_value(e->extra, k);

		if (!eng_push_octets(op->publish->messages, os->data,
		    (size_t)os->length))
			goto err;
	}
	ok = 1;
 err:
	OPENSSL_free(der);
	skd_cmc_body_free(b);
	sk_ASN1_OCTET_STRING_pop_free(items, ASN1_OCTET_STRING_free);
	return ok;
}
