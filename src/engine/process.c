/*
 * process.c: skd_engine_process, from a received message to an outcome.
 * RFC 5275 3.2 (protection layers, combining requests, GLA generated
 * messages, CMC controls, resubmitted member messages) and the common
 * steps 2.a / 2.b of every procedure of section 4.  The controls
 * themselves are in controls.c.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "cms/skd_authdata.h"
#include "engine/engine_local.h"
#include "engine/process_local.h"

/* ---- layers ---- */

/* Whether a layer above i was signed by the GLA itself (a forwarded
 * request coming back, RFC 5275 3.2.5). */
static int
under_gla(struct eng *e, const struct skd_layers *l, int i)
{
	for (i = l->v[i].parent; i >= 0; i = l->v[i].parent) {
		if (l->v[i].type == SKD_LAYER_SIGNED &&
		    l->v[i].verified != NULL &&
		    eng_is_gla_cert(e, l->v[i].verified->signer))
			return 1;
	}
	return 0;
}

/* ---- responses ---- */

/*
 * A failure that stops the whole message (RFC 5275 4.x 2.a, 2.b and the
 * replay check): one cMCStatusInfoExt, signed by the GLA, published under
 * the request id for the identified signer (may be NULL).
 */
static int
fail_message(struct eng *e, const char *request_id,
    const SKD_PKI_DATA *top, X509 *signer, X509 *encrypt_to, long bpid,
    int cmc_fail, const char *text)
{
	unsigned char *der = NULL;
	size_t der_len = 0;
	int ok = 0;

	if (!eng_result_add(e->out, 0, bpid, NID_undef, SKD_CMC_FAILED,
	    cmc_fail, -1, text))
		return 0;
	if (signer == NULL)
		return eng_set_utf8(&e->out->note, text);
	if (!eng_status_answer(e, NULL, SKD_CMC_FAILED, &bpid, 1, text,
	    cmc_fail, top != NULL ? top->controlSequence : NULL, encrypt_to,
	    &der, &der_len) ||
	    !eng_publish(e, SKD_OP_RESPONSE, SKD_MSG_RESPONSE, request_id, "",
	    der, der_len, signer, NULL, 0))
		goto err;
	ok = 1;
 err:
	OPENSSL_free(der);
	return ok;
}

/* The certificate a SignedData names as its signer, unverified: used only
 * to address a badMessageCheck answer (X509_up_ref'd; caller frees). */
static X509 *
claimed_signer(const unsigned char *msg, size_t len)
{
	CMS_ContentInfo *ci;
	STACK_OF(CMS_SignerInfo) *sis;
	STACK_OF(X509) *certs = NULL;
	X509 *found = NULL;
	int i;

	if ((ci = skd_cms_d2i_content_info(msg, len)) == NULL)
		goto done;
	if (OBJ_obj2nid(CMS_get0_type(ci)) != NID_pkcs7_signed ||
	    (sis = CMS_get0_SignerInfos(ci)) == NULL ||
	    sk_CMS_SignerInfo_num(sis) != 1 ||
	    (certs = CMS_get1_certs(ci)) == NULL)
		goto done;
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		if (CMS_SignerInfo_cert_cmp(sk_CMS_SignerInfo_value(sis, 0),
		    x) == 0) {
			if (X509_up_ref(x))
				found = x;
			break;
		}
	}
 done:
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(ci);
	ERR_clear_error();
	return found;
}

/* ---- the message ---- */

/* eng_begin sets up e for request_id, and the layer walk's options (the
 * GLA opens what is encrypted to it, RFC 5275 3.2.1.2); zero on error. */
static int
eng_begin(struct eng *e, struct skd_cms_opener *who,
    struct skd_layers_opts *opts, const struct skd_engine_config *cfg,
    const struct skd_engine_env *env, const struct skd_engine_state *state,
    const char *request_id)
{
	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->env = env;
	e->st = state;
	e->now = env->now;
	memset(who, 0, sizeof(*who));
	who->cert = cfg->gla_cert;
	who->key = cfg->gla_key;
	memset(opts, 0, sizeof(*opts));
	opts->trust = cfg->trust;
	opts->now = e->now;
	opts->opener = who;
	return skd_asn1_init() &&
	    (e->out = eng_outcome_new(request_id)) != NULL;
}

/* eng_end hands e's outcome to *out, with who the answers are for when a
 * signature proved it (verified; a claimed signer is not recorded): the
 * mail transport addresses answers and checks a From it could not see at
 * mail-in with it.  Zero on error (e keeps the outcome). */
static int
eng_end(struct eng *e, X509 *verified, SKD_ENG_OUTCOME **out)
{
	if (verified != NULL && ((e->out->signer =
	    sk_ASN1_UTF8STRING_new_null()) == NULL ||
	    !eng_cert_names(e->out->signer, verified)))
		return 0;
	*out = e->out;
	e->out = NULL;
	return 1;
}

static int
check_layers(struct eng *e, const struct skd_layers *l, int *out_bad,
    long *out_bpid, int *out_fail, const char **out_why)
{
	const struct skd_engine_config *c = e->cfg;
	long past = c->time_past > 0 ? c->time_past : SKD_ENGINE_DEFAULT_WINDOW;
	long fut = c->time_future > 0 ? c->time_future :
	    SKD_ENGINE_DEFAULT_WINDOW;
	size_t i;

	*out_bad = 0;
	for (i = 0; i < l->n; i++) {
		const struct skd_cms_verified *v = l->v[i].verified;

		if (l->v[i].type != SKD_LAYER_SIGNED || v == NULL)
			continue;
		/* A request the GLA forwarded and a GLO sent back (3.2.5):
		 * checked when it first arrived. */
		if (eng_is_gla_cert(e, v->signer) || under_gla(e, l, (int)i))
			continue;
		/* 4.x 2.a: signingTime in the window; future-dated messages
		 * too (section 8). */
		if (v->signing_time < e->now - past ||
		    v->signing_time > e->now + fut) {
			*out_bad = 1;
			*out_fail = SKD_CMC_BAD_TIME;
			*out_why = v->signing_time > e->now ?
			    "signingTime is in the future" :
			    "signingTime is too old";
			*out_bpid = eng_layer_item_bpid(l, (int)i);
			return 1;
		}
		/* 4.x 2.b: the signer's path (expired, revoked, untrusted)
		 * is part of the signature check (3.2.6). */
		if (v->path != SKD_CMS_PATH_OK) {
			*out_bad = 1;
			*out_fail = SKD_CMC_BAD_MESSAGE_CHECK;
			*out_why = v->path == SKD_CMS_PATH_UNCHECKED ?
			    "signer certificate not checked" :
			    v->path_error_string;
			*out_bpid = eng_layer_item_bpid(l, (int)i);
			return 1;
		}
	}
	return 1;
}

static void
eng_cleanup(struct eng *e)
{
	size_t i;

	for (i = 0; i < e->n_gls; i++)
		eng_gl_free(e->gls[i]);
	free(e->gls);
	sk_ASN1_OCTET_STRING_pop_free(e->extra, ASN1_OCTET_STRING_free);
}

int
skd_engine_process(SKD_ENG_OUTCOME **out,
    const struct skd_engine_config *cfg, const struct skd_engine_env *env,
    const struct skd_engine_state *state, const char *request_id,
    const unsigned char *msg, size_t len)
{
	struct eng e;
	struct skd_layers *l = NULL;
	struct skd_layers_opts opts;
	struct skd_cms_opener who;
	X509 *signer = NULL, *claimed = NULL, *verified = NULL;
	const SKD_PKI_DATA *toppd = NULL;
	const char *why = NULL;
	long bpid = 0;
	int walk_ok, top = -1, sl, bad = 0, fail = 0, fresh = 0, ok = 0;
	int keygen;
	size_t i;

	*out = NULL;
	if (!eng_begin(&e, &who, &opts, cfg, env, state, request_id))
		return 0;
	/* Draft 2.1 / 2.2: a shared-secret request is an AuthenticatedData,
	 * which the layer walk does not open (keygen.c). */
	if (skd_authdata_is(msg, len)) {
		if (!eng_keygen_authdata(&e, request_id, msg, len))
			goto err;
		goto done;
	}
	walk_ok = skd_layers_walk(&l, msg, len, &opts);
	ERR_clear_error();
	if (l == NULL)
		goto err;
	for (i = 0; i < l->n; i++) {
		if (l->v[i].type == SKD_LAYER_PKI_DATA) {
			top = (int)i;
			toppd = l->v[i].pki_data;
			break;
		}
	}
	if (!walk_ok) {
		/* 4.x 2.b: answer whoever we can identify: the innermost
		 * verified signer before the failure, else the claimed
		 * signer of the outermost SignedData. */
		int f = -1, cmc = SKD_CMC_BAD_MESSAGE_CHECK;

		for (i = 0; i < l->n; i++) {
			if (l->v[i].error[0] != '\0') {
				f = (int)i;
				break;
			}
			if (l->v[i].verified != NULL)
				signer = verified = l->v[i].verified->signer;
		}
		if (f >= 0 && (l->v[f].type == SKD_LAYER_PKI_DATA ||
		    l->v[f].type == SKD_LAYER_PKI_RESPONSE))
			cmc = SKD_CMC_BAD_REQUEST;
		if (signer == NULL)
			signer = claimed = claimed_signer(msg, len);
		if (!fail_message(&e, request_id, toppd, signer, NULL,
		    f >= 0 ? eng_layer_item_bpid(l, f) : 0, cmc,
		    f >= 0 ? l->v[f].error : "malformed message"))
			goto err;
		goto done;
	}
	if (top < 0) {
		/*
		 * A PKIResponse: a member's acknowledgement (5.1 2.c).  One
		 * that does not verify is noted, never answered (3.2.4.1:
		 * no badMessageCheck loops).
		 */
		if (!check_layers(&e, l, &bad, &bpid, &fail, &why))
			goto err;
		if (bad) {
			if (!eng_result_add(e.out, 0, bpid, NID_undef,
			    SKD_CMC_FAILED, fail, -1, why) ||
			    !eng_set_utf8(&e.out->note, why))
				goto err;
			goto done;
		}
		/* The innermost signer (the member acknowledging). */
		for (i = 0; i < l->n; i++) {
			if (l->v[i].verified != NULL)
				verified = l->v[i].verified->signer;
		}
		if (!eng_process_response(&e, l))
			goto err;
		goto done;
	}
	if ((sl = eng_layer_signed_parent(l, top)) < 0 || l->v[sl].verified == NULL) {
		/* 3.2.1.1: a PKIData must be signed. */
		if (!fail_message(&e, request_id, toppd, NULL, NULL, 0,
		    SKD_CMC_BAD_MESSAGE_CHECK, "PKIData is not signed"))
			goto err;
		goto done;
	}
	signer = verified = l->v[sl].verified->signer;
	if (!check_layers(&e, l, &bad, &bpid, &fail, &why))
		goto err;
	if (!bad && eng_is_gla_cert(&e, signer)) {
		/* The GLA's own message (a forwarded request) sent back as
		 * it is: only a GLO's wrapping makes it a request (3.2.5). */
		bad = 1;
		bpid = 0;
		fail = SKD_CMC_BAD_REQUEST;
		why = "message signed by the GLA itself";
	}
	/* RFC 5272 3.2: bodyPartIDs are unique within a PKIData (the
	 * outermost and every one nested in its cmsSequence), or a status
	 * could not say which body part it answers.  The keygen route
	 * checks its own, the request's id among them. */
	keygen = eng_keygen_wanted(l, top);
	for (i = 0; !bad && !keygen && i < l->n; i++) {
		int u;

		if (l->v[i].type != SKD_LAYER_PKI_DATA)
			continue;
		if ((u = eng_body_part_ids_unique(l->v[i].pki_data, -1)) < 0)
			goto err;
		if (u == 0) {
			bad = 1;
			bpid = 0;
			fail = SKD_CMC_BAD_REQUEST;
			why = "bodyPartIDs not unique in a PKIData "
			    "(RFC 5272 3.2)";
		}
	}
	if (bad) {
		if (!fail_message(&e, request_id, toppd, signer,
		    eng_layer_encrypted(l, top) ? signer : NULL, bpid, fail, why))
			goto err;
		goto done;
	}
	if (keygen ? !eng_keygen_route(&e, l, top, request_id) :
	    !eng_process_units(&e, l, top, request_id, msg, len))
		goto err;
	/*
	 * Replay protection (3.2.4.3), last, so that an engine error (the
	 * caller retries) does not leave the message recorded as seen.
	 */
	if (!eng_replay_check(&e, l->v[sl].verified, &fresh))
		goto err;
	if (!fresh) {
		SKD_ENG_OUTCOME_free(e.out);
		if ((e.out = eng_outcome_new(request_id)) == NULL ||
		    !fail_message(&e, request_id, toppd, signer,
		    eng_layer_encrypted(l, top) ? signer : NULL, 0,
		    SKD_CMC_BAD_REQUEST, "replayed message"))
			goto err;
		goto done;
	}
 done:
	if (!eng_end(&e, verified, out))
		goto err;
	ok = 1;
 err:
	X509_free(claimed);
	skd_layers_free(l);
	SKD_ENG_OUTCOME_free(e.out);
	eng_cleanup(&e);
	ERR_clear_error();
	return ok;
}

/* skd_engine_rekey: RFC 5275 4.5.2. */
int
skd_engine_rekey(SKD_ENG_OUTCOME **out,
    const struct skd_engine_config *cfg, const struct skd_engine_env *env,
    const struct skd_engine_state *state, const char *gl_name)
{
	struct eng e;
	struct eng_gl *g = NULL;
	GENERAL_NAME *gn = NULL;
	int ok = 0;

	*out = NULL;
	memset(&e, 0, sizeof(e));
	e.cfg = cfg;
	e.env = env;
	e.st = state;
	e.now = env->now;
	if (!skd_asn1_init() || (e.out = eng_outcome_new("")) == NULL ||
	    (gn = skd_gname_from_text(gl_name)) == NULL)
		goto err;
	if (!eng_gl_get(&e, &g, gn) || !g->exists || g->deleted ||
	    !eng_gl_load_owners(&e, g))
		goto err;
	/* The GLA controls this rekey: kekri may be used (RFC 5275 5). */
	if (!eng_keys_rollover(&e, g, g->gen > 0 ? g->gen : 1) ||
	    !eng_notify_owners(&e, g, SKD_MSG_REKEY_NOTICE,
	    "GLA-initiated rekey (RFC 5275 4.5.2)"))
		goto err;
	if (!eng_result_add(e.out, 0, 0, NID_undef, SKD_CMC_SUCCESS, -1, -1,
	    "rekeyed"))
		goto err;
	*out = e.out;
	e.out = NULL;
	ok = 1;
 err:
	GENERAL_NAME_free(gn);
	SKD_ENG_OUTCOME_free(e.out);
	eng_cleanup(&e);
	ERR_clear_error();
	return ok;
}

/* ---- giving up ---- */

/* The GL the first control of pd naming one names (decoded, not checked:
 * only to choose the certificate the failure is signed with), duplicated,
 * or NULL. */
static GENERAL_NAME *
first_gl(const SKD_PKI_DATA *pd)
{
	const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq = pd->controlSequence;
	GENERAL_NAME *gl = NULL;
	int k;

	for (k = 0; gl == NULL && k < sk_SKD_TAGGED_ATTRIBUTE_num(seq); k++) {
		const SKD_TAGGED_ATTRIBUTE *ta =
		    sk_SKD_TAGGED_ATTRIBUTE_value(seq, k);
		const struct skd_control *def;
		const GENERAL_NAME *gn = NULL;
		enum skd_oid oid;
		void *v;
		int nid = OBJ_obj2nid(ta->attrType);

		if ((def = skd_control_by_nid(nid)) == NULL ||
		    (v = skd_tagged_attribute_decode1(ta, 0,
		    ASN1_ITEM_ptr(def->item))) == NULL)
			continue;
		oid = def->oid;
		if (oid == SKD_OID_GL_USE_KEK)
			gn = ((SKD_GL_USE_KEK *)v)->glInfo->glName;
		else if (oid == SKD_OID_GL_DELETE ||
		    oid == SKD_OID_GL_KEY_COMPROMISE)
			gn = v;
		else if (oid == SKD_OID_GL_ADD_MEMBER)
			gn = ((SKD_GL_ADD_MEMBER *)v)->glName;
		else if (oid == SKD_OID_GL_DELETE_MEMBER)
			gn = ((SKD_GL_DELETE_MEMBER *)v)->glName;
		else if (oid == SKD_OID_GL_REKEY)
			gn = ((SKD_GL_REKEY *)v)->glName;
		else if (oid == SKD_OID_GL_ADD_OWNER ||
		    oid == SKD_OID_GL_REMOVE_OWNER)
			gn = ((SKD_GL_OWNER_ADMINISTRATION *)v)->glName;
		else if (oid == SKD_OID_GL_KEY_REFRESH)
			gn = ((SKD_GL_KREFRESH *)v)->glName;
		else if (oid == SKD_OID_GL_PROVIDE_CERT ||
		    oid == SKD_OID_GL_MANAGE_CERT)
			gn = ((SKD_GL_MANAGE_CERT *)v)->glName;
		if (gn != NULL)
			gl = GENERAL_NAME_dup(gn);
		ASN1_item_free(v, ASN1_ITEM_ptr(def->item));
	}
	ERR_clear_error();
	return gl;
}

int
skd_engine_give_up(SKD_ENG_OUTCOME **out,
    const struct skd_engine_config *cfg, const struct skd_engine_env *env,
    const struct skd_engine_state *state, const char *request_id,
    const unsigned char *msg, size_t len, const char *why)
{
	struct eng e;
	struct eng_gl *g = NULL;
	struct skd_layers *l = NULL;
	struct skd_layers_opts opts;
	struct skd_cms_opener who;
	const SKD_PKI_DATA *toppd = NULL;
	const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq;
	GENERAL_NAME *gn = NULL;
	X509 *signer = NULL, *claimed = NULL, *verified = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0, i;
	long *bpids = NULL, zero = 0;
	size_t n_bpids = 0;
	int top = -1, sl, k, ok = 0;

	*out = NULL;
	if (!eng_begin(&e, &who, &opts, cfg, env, state, request_id))
		return 0;
	/* Whoever we can identify is answered, as for a malformed message
	 * (4.x 2.b): the verified signer of the PKIData, else the innermost
	 * verified one, else the claimed signer of the outermost
	 * SignedData. */
	if (!skd_authdata_is(msg, len)) {
		(void)skd_layers_walk(&l, msg, len, &opts);
		ERR_clear_error();
	}
	for (i = 0; l != NULL && i < l->n; i++) {
		if (l->v[i].verified != NULL)
			verified = l->v[i].verified->signer;
		if (l->v[i].type == SKD_LAYER_PKI_DATA && top < 0) {
			top = (int)i;
			toppd = l->v[i].pki_data;
		}
	}
	if (top >= 0 && (sl = eng_layer_signed_parent(l, top)) >= 0 &&
	    l->v[sl].verified != NULL)
		verified = l->v[sl].verified->signer;
	signer = verified;
	if (signer == NULL)
		signer = claimed = claimed_signer(msg, len);
	if (!eng_result_add(e.out, 0, 0, NID_undef, SKD_CMC_FAILED,
	    SKD_CMC_INTERNAL_CA_ERROR, -1, why))
		goto err;
	if (signer == NULL) {
		/* Nobody to answer: skdState failed and skdError (readable
		 * by the submitter, docs/directory.md rule 11) say why. */
		if (!eng_set_utf8(&e.out->note, why))
			goto err;
		goto done;
	}
	/* The status covers every request of the PKIData (RFC 5275
	 * 3.2.4.1: one cMCStatusInfoExt may name several bodyPartIDs). */
	if (toppd != NULL) {
		seq = toppd->controlSequence;
		if ((bpids = calloc((size_t)sk_SKD_TAGGED_ATTRIBUTE_num(seq) + 1,
		    sizeof(*bpids))) == NULL)
			goto err;
		for (k = 0; k < sk_SKD_TAGGED_ATTRIBUTE_num(seq); k++) {
			const SKD_TAGGED_ATTRIBUTE *ta =
			    sk_SKD_TAGGED_ATTRIBUTE_value(seq, k);
			int nid = OBJ_obj2nid(ta->attrType);

			if (nid == skd_asn1_nid(SKD_OID_CMC_TRANSACTION_ID) ||
			    nid == skd_asn1_nid(SKD_OID_CMC_SENDER_NONCE) ||
			    nid == skd_asn1_nid(SKD_OID_CMC_RECIPIENT_NONCE))
				continue;
			bpids[n_bpids++] = ASN1_INTEGER_get(ta->bodyPartID);
		}
		/* Signed with the GL's certificate when the request names
		 * a GL that has a valid one (3.2.6), so that the submitter
		 * believes it; else with the GLA's own. */
		if ((gn = first_gl(toppd)) != NULL && eng_gl_get(&e, &g, gn) &&
		    (!g->exists || g->deleted || g->cert == NULL ||
		    X509_cmp_time(X509_get0_notAfter(g->cert), &e.now) < 0))
			g = NULL;
		ERR_clear_error();
	}
	/* RFC 5272 6.1.4 CMCFailInfo internalCAError: the GLA could not
	 * process the request, whatever the request was; echoes as for
	 * any answer (RFC 5275 3.2.4.2), encrypted back when it came
	 * encrypted (4.x 2.*.a). */
	if (!eng_status_answer(&e, g, SKD_CMC_FAILED, n_bpids > 0 ? bpids :
	    &zero, n_bpids > 0 ? n_bpids : 1, why, SKD_CMC_INTERNAL_CA_ERROR,
	    toppd != NULL ? toppd->controlSequence : NULL,
	    top >= 0 && verified != NULL && eng_layer_encrypted(l, top) ?
	    verified : NULL, &der, &der_len) ||
	    !eng_publish(&e, SKD_OP_RESPONSE, SKD_MSG_RESPONSE, request_id, "",
	    der, der_len, signer, NULL, 0))
		goto err;
 done:
	if (!eng_end(&e, verified, out))
		goto err;
	ok = 1;
 err:
	OPENSSL_free(der);
	free(bpids);
	GENERAL_NAME_free(gn);
	X509_free(claimed);
	skd_layers_free(l);
	SKD_ENG_OUTCOME_free(e.out);
	eng_cleanup(&e);
	ERR_clear_error();
	return ok;
}
