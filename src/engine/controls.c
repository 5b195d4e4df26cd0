/*
 * controls.c: the procedures of RFC 5275 section 4, one function per
 * control, each following the numbered steps of its section.  Steps 2.a
 * and 2.b (signingTime, signatures) were done in process.c.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>

#include "engine/process_local.h"

/* ---- results ---- */

static int
ok(struct eng_ctl *c)
{
	c->done = 1;
	c->status = SKD_CMC_SUCCESS;
	c->cmc_fail = c->skd_fail = -1;
	return 1;
}

static int
fail(struct eng_ctl *c, enum skd_failinfo v, const char *text)
{
	c->done = 1;
	c->status = SKD_CMC_FAILED;
	c->cmc_fail = -1;
	c->skd_fail = v;
	if (text != NULL)
		snprintf(c->text, sizeof(c->text), "%s", text);
	return 1;
}

static int
fail_cmc(struct eng_ctl *c, enum skd_cmc_status st, int cmc,
    const char *text)
{
	c->done = 1;
	c->status = st;
	c->cmc_fail = cmc;
	c->skd_fail = -1;
	if (text != NULL)
		snprintf(c->text, sizeof(c->text), "%s", text);
	return 1;
}

/* ---- who is asking ---- */

/* The GLO among the unit's signer and approvers (3.2.5), or NULL. */
static X509 *
glo_of(struct eng_unit *u, struct eng_gl *g)
{
	size_t i;

	if (eng_find_owner_by_cert(g, u->signer) >= 0)
		return u->signer;
	for (i = 0; i < u->n_outer; i++) {
		if (eng_find_owner_by_cert(g, u->outer[i]) >= 0)
			return u->outer[i];
	}
	return NULL;
}

/* Whether the signer cert is a member of g (one read per name of the
 * certificate when the request has not read it yet): the codes of RFC
 * 5275 3.2.3 are hidden from GL members only.  -1 on error. */
static int
member_of(struct eng *e, struct eng_gl *g, X509 *cert)
{
	long idx;

	if (cert == NULL)
		return 0;
	if (!eng_member_by_cert(e, g, cert, &idx))
		return -1;
	return idx >= 0;
}

/* Loads the GL gn for c; sets *out NULL and fails c with invalidGLName
 * when it is unknown or deleted (4.2 2.c.2.c).  Returns 0 on error. */
static int
need_gl(struct eng *e, struct eng_unit *u, struct eng_ctl *c,
    const GENERAL_NAME *gn, struct eng_gl **out)
{
	struct eng_gl *g;

	*out = NULL;
	if (gn == NULL || !eng_gl_get(e, &g, gn))
		return gn == NULL ? fail(c, SKD_FAIL_INVALID_GL_NAME, NULL) : 0;
	if (!g->exists || g->deleted)
		return fail(c, SKD_FAIL_INVALID_GL_NAME, NULL);
	if (!eng_gl_load_owners(e, g))
		return 0;
	/* 3.2.6: the GL's certificate expired (or was never issued): issue
	 * a new one when we can, else answer with the GLA's own. */
	if ((g->cert == NULL || X509_cmp_time(X509_get0_notAfter(g->cert),
	    &e->now) < 0) && e->cfg->issuer_cert != NULL &&
	    e->cfg->issuer_key != NULL) {
		if (!eng_issue_gl_cert(e, g))
			return 0;
		g->changed = 1;
	}
	if (u->gl == NULL)
		u->gl = g;
	c->by_glo = glo_of(u, g) != NULL;
	/* A GLO is answered in full whatever else it is. */
	c->by_member = 0;
	if (!c->by_glo && (c->by_member = member_of(e, g, u->signer)) < 0)
		return 0;
	*out = g;
	return 1;
}

static char *
gname_text(const GENERAL_NAME *gn)
{
	char *t = skd_gname_to_text(gn), *s;

	if (t == NULL)
		return NULL;
	s = strdup(t);
	OPENSSL_free(t);
	return s;
}

/* ---- outcome helpers ---- */

static int
op_person(struct eng *e, struct eng_gl *g, enum skd_engine_op_type t,
    const struct eng_person *p)
{
	SKD_ENG_OP *op;
	SKD_ENG_MEMBER *m;

	if ((op = eng_op_add(e->out, t, g->name)) == NULL)
		return 0;
	if (t == SKD_OP_MEMBER_REMOVE || t == SKD_OP_OWNER_REMOVE)
		return eng_set_utf8(&op->name, p->name);
	if ((op->member = m = SKD_ENG_MEMBER_new()) == NULL ||
	    !ASN1_STRING_set(m->name, p->name, -1))
		return 0;
	if (p->address != NULL && !eng_set_utf8(&m->address, p->address))
		return 0;
	if (p->cert != NULL && !eng_set_octets(&m->cert, p->cert,
	    p->cert_len))
		return 0;
	if (p->dn != NULL && !eng_set_utf8(&m->dn, p->dn))
		return 0;
	if (t == SKD_OP_MEMBER_ADD &&
	    (m->since = eng_gtime(e->now)) == NULL)
		return 0;
	return 1;
}

/* DER of the pKC of a Certificates, or NULL (OPENSSL_free). */
static unsigned char *
pkc_der(const SKD_CERTIFICATES *certs, size_t *out_len)
{
	unsigned char *der = NULL;
	int n;

	if (certs == NULL || certs->pKC == NULL ||
	    (n = i2d_X509(certs->pKC, &der)) <= 0)
		return NULL;
	*out_len = (size_t)n;
	return der;
}

/*
 * The directory identity of a person (for the ACLs: skdRecipientDN on its
 * glKey entries, skdOwnerDN): by its name, else by an rfc822Name of its
 * certificate.  Returns 1 (*out_dn set or left NULL when none is found)
 * or 0 on error.
 */
static int
resolve_dn(struct eng *e, char **out_dn, const char *name, X509 *cert)
{
	GENERAL_NAMES *gns = NULL;
	int i, rc;

	*out_dn = NULL;
	if (e->env->resolve_dn == NULL)
		return 1;
	if ((rc = e->env->resolve_dn(e->st->ctx, out_dn, name)) != 0)
		return rc > 0;
	if (cert == NULL || (gns = skd_gname_from_cert(cert)) == NULL)
		return 1;
	for (i = 0, rc = 0; rc == 0 && i < sk_GENERAL_NAME_num(gns); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, i);
		char *t;

		if (gn->type != GEN_EMAIL || (t = gname_text(gn)) == NULL)
			continue;
		/* The name itself was looked for already. */
		if (strcasecmp(t, name) != 0)
			rc = e->env->resolve_dn(e->st->ctx, out_dn, t);
		free(t);
	}
	GENERAL_NAMES_free(gns);
	return rc >= 0;
}

/* Adds a member or owner to the working copy and the outcome. */
static int
add_person(struct eng *e, struct eng_gl *g, int owner, const GENERAL_NAME *n,
    const GENERAL_NAME *addr, const SKD_CERTIFICATES *certs,
    struct eng_person **out)
{
	char *name = NULL, *address = NULL;
	unsigned char *cert = NULL;
	size_t cert_len = 0;
	struct eng_person **v = owner ? &g->owners : &g->members;
	size_t *cnt = owner ? &g->n_owners : &g->n_members;
	int rc = 0;

	if ((name = gname_text(n)) == NULL ||
	    (addr != NULL && (address = gname_text(addr)) == NULL))
		goto err;
	cert = pkc_der(certs, &cert_len);
	if (!eng_person_add(v, cnt, name, address, cert, cert_len))
		goto err;
	/* The certificate decoded with the request (or read from the
	 * person's entry), not decoded again from cert when the KEK is
	 * wrapped for it (eng_person_x509: OpenSSL 3.0 pays 160 to 200 us a
	 * decode). */
	if (certs != NULL && certs->pKC != NULL && cert != NULL &&
	    X509_up_ref(certs->pKC))
		(*v)[*cnt - 1].x509 = certs->pKC;
	if (!resolve_dn(e, &(*v)[*cnt - 1].dn, name,
	    certs != NULL ? certs->pKC : NULL))
		goto err;
	if (!op_person(e, g, owner ? SKD_OP_OWNER_ADD : SKD_OP_MEMBER_ADD,
	    &(*v)[*cnt - 1]))
		goto err;
	if (out != NULL)
		*out = &(*v)[*cnt - 1];
	rc = 1;
 err:
	free(name);
	free(address);
	OPENSSL_free(cert);
	return rc;
}

/*
 * Sends the unit's request to the GL's owners for review (RFC 5275 3.2.3
 * "GLA Forwarded Requests"): SignedData(PKIData(cmsSequence {the
 * request's SignedData})) with the GLA's own transactionId and
 * senderNonce, signed with the GL's certificate, encrypted to each GLO
 * whose certificate is known when the request was encrypted
 * (4.3.1 2.d.2.b.2.c.1).
 */
static int
forward(struct eng *e, struct eng_unit *u, struct eng_gl *g)
{
	struct skd_cmc_body *b = NULL;
	unsigned char *req = NULL, *der = NULL, nonce[ENG_NONCE_LEN], t[8];
	size_t req_len = 0, der_len = 0, i;
	ASN1_INTEGER *tid = NULL;
	BIGNUM *bn = NULL;
	char id[SKD_STORE_ID_LEN];
	int rc = 0;

	if (u->forwarded)
		return 1;
	u->forwarded = 1;
	if ((req = eng_layer_der(e, u->layers, u->signed_layer, u->msg,
	    u->msg_len, &req_len)) == NULL)
		goto err;
	if (!eng_rand(e, nonce, sizeof(nonce)) || !eng_rand(e, t, sizeof(t)))
		goto err;
	t[0] &= 0x7f;
	if ((bn = BN_bin2bn(t, sizeof(t), NULL)) == NULL ||
	    (tid = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		goto err;
	for (i = 0; i < g->n_owners; i++) {
		const struct eng_person *o = &g->owners[i];
		const char *to[1];

		to[0] = o->name;
		if ((b = skd_cmc_body_new(0)) == NULL ||
		    skd_cmc_body_add_transaction_id(b, tid) == 0 ||
		    skd_cmc_body_add_sender_nonce(b, nonce, sizeof(nonce)) == 0 ||
		    skd_cmc_body_add_cms(b, req, req_len) == 0)
			goto err;
		if (!eng_sign_body(e, g, 0, b, u->encrypted ? eng_person_x509(o) : NULL,
		    &der, &der_len) || !eng_new_id(e, id) ||
		    !eng_publish(e, SKD_OP_MESSAGE, SKD_MSG_FORWARD, id, g->name,
		    der, der_len, NULL, to, 1))
			goto err;
		OPENSSL_free(der);
		der = NULL;
		skd_cmc_body_free(b);
		b = NULL;
	}
	rc = 1;
 err:
	OPENSSL_free(req);
	OPENSSL_free(der);
	skd_cmc_body_free(b);
	ASN1_INTEGER_free(tid);
	BN_free(bn);
	return rc;
}

static int
forwarded(struct eng *e, struct eng_unit *u, struct eng_gl *g,
    struct eng_ctl *c)
{
	if (!forward(e, u, g))
		return 0;
	c->done = 1;
	c->no_status = 1;
	c->status = SKD_CMC_PENDING;
	c->cmc_fail = c->skd_fail = -1;
	snprintf(c->text, sizeof(c->text), "forwarded to the GLO for review");
	return 1;
}

/* A GLA message to the GL's owners: a signed PKIData holding one
 * cMCStatusInfoExt success (4.5.2). */
int
eng_notify_owners(struct eng *e, struct eng_gl *g, int kind, const char *text)
{
	struct skd_cmc_body *b = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0, i;
	const char **to = NULL;
	char id[SKD_STORE_ID_LEN];
	long zero = 0;
	int rc = 0;

	if (g->n_owners == 0)
		return 1;
	if ((to = calloc(g->n_owners, sizeof(*to))) == NULL)
		return 0;
	for (i = 0; i < g->n_owners; i++)
		to[i] = g->owners[i].name;
	if ((b = skd_cmc_body_new(0)) == NULL ||
	    skd_cmc_body_add_status(b, SKD_CMC_SUCCESS, &zero, 1, text, -1,
	    -1) == 0 ||
	    !eng_add_echo(e, b, NULL) ||
	    !eng_sign_body(e, g, 0, b, NULL, &der, &der_len) ||
	    !eng_new_id(e, id) ||
	    !eng_publish(e, SKD_OP_MESSAGE, kind, id, g->name, der, der_len,
	    NULL, to, g->n_owners))
		goto err;
	rc = 1;
 err:
	free(to);
	OPENSSL_free(der);
	skd_cmc_body_free(b);
	return rc;
}

/* Checks the key attributes a GLO asks for (4.1 2.d.2.b/c, 4.5.1). */
static int
check_attrs(struct eng *e, struct eng_ctl *c, int alg, long dur, long gen)
{
	long maxd = e->cfg->max_duration_days > 0 ?
	    e->cfg->max_duration_days : SKD_ENGINE_DEFAULT_MAX_DAYS;
	long maxg = e->cfg->max_generation_counter > 0 ?
	    e->cfg->max_generation_counter : SKD_ENGINE_DEFAULT_MAX_GEN;

	if (!eng_supported_alg(e, alg))
		return fail(c, SKD_FAIL_UNSUPPORTED_ALGORITHM, NULL), 0;
	if (dur < 0 || dur > maxd)
		return fail(c, SKD_FAIL_UNSUPPORTED_DURATION, NULL), 0;
	if (gen < 1 || gen > maxg)
		return fail(c, SKD_FAIL_UNSPECIFIED,
		    "generationCounter not supported"), 0;
	return 1;
}

/* ---- 4.1 glUseKEK ---- */

static int
ctl_use_kek(struct eng *e, struct eng_unit *u, struct eng_ctl *c)
{
	SKD_GL_USE_KEK *uk = c->val;
	const SKD_GL_KEY_ATTRIBUTES *a = uk->glKeyAttributes;
	struct eng_gl *g;
	long admin;
	int i, named = 0;

	c->by_glo = 1;	/* the prospective GLO */
	/* 2.c: no way to get a certificate for the GL. */
	if (e->cfg->issuer_cert == NULL || e->cfg->issuer_key == NULL)
		return fail(c, SKD_FAIL_NO_GLA_CERTIFICATE, NULL);
	/* 2.d: a name of the signer's certificate is a glOwnerName. */
	for (i = 0; i < sk_SKD_GL_OWNER_INFO_num(uk->glOwnerInfo); i++) {
		if (skd_gname_match_cert(sk_SKD_GL_OWNER_INFO_value(
		    uk->glOwnerInfo, i)->glOwnerName, u->signer))
			named = 1;
	}
	if (!named)
		return fail(c, SKD_FAIL_NO_GLO_NAME_MATCH, NULL);
	if (!eng_gl_get(e, &g, uk->glInfo->glName))
		return 0;
	/* 2.d.2.a */
	if (g->exists)
		return fail(c, SKD_FAIL_NAME_ALREADY_IN_USE, NULL);
	/* 2.d.2.b, 2.d.2.c */
	if (!check_attrs(e, c, skd_glkeyattrs_get_alg_nid(a),
	    skd_glkeyattrs_get_duration(a),
	    skd_glkeyattrs_get_generation_counter(a)))
		return 1;
	admin = skd_glusekek_get_admin(uk);
	if (admin < SKD_GL_UNMANAGED || admin > SKD_GL_CLOSED)
		return fail_cmc(c, SKD_CMC_FAILED, SKD_CMC_BAD_REQUEST,
		    "glAdministration out of range");
	/* 2.d.2.e: store the GL, its owners and key attributes. */
	g->exists = 1;
	g->created = 1;
	g->born = 1;
	g->loaded_owners = g->all_members = g->loaded_keys = 1;
	g->admin = (int)admin;
	g->rekey_by_glo = skd_glkeyattrs_get_rekey_by_glo(a);
	g->not_aware = skd_glkeyattrs_get_not_mutually_aware(a);
	g->duration = skd_glkeyattrs_get_duration(a);
	g->gen = skd_glkeyattrs_get_generation_counter(a);
	g->alg_nid = skd_glkeyattrs_get_alg_nid(a);
	if ((g->address = gname_text(uk->glInfo->glAddress)) == NULL ||
	    !eng_issue_gl_cert(e, g) || !eng_gl_flush(e, g))
		return 0;
	for (i = 0; i < sk_SKD_GL_OWNER_INFO_num(uk->glOwnerInfo); i++) {
		const SKD_GL_OWNER_INFO *oi =
		    sk_SKD_GL_OWNER_INFO_value(uk->glOwnerInfo, i);

		if (eng_find_person(g->owners, g->n_owners,
		    oi->glOwnerName) >= 0)
			continue;
		if (!add_person(e, g, 1, oi->glOwnerName, oi->glOwnerAddress,
		    oi->certificates, NULL))
			return 0;
	}
	u->gl = g;
	/* 3.1.1: generationCounter keys go out at once. */
	if (!eng_keys_new(e, g, g->gen))
		return 0;
	return ok(c);
}

/* ---- 4.2 glDelete ---- */

static int
ctl_delete(struct eng *e, struct eng_unit *u, struct eng_ctl *c)
{
	struct eng_gl *g;

	if (!need_gl(e, u, c, c->val, &g))
		return 0;
	if (g == NULL)
		return 1;
	if (!c->by_glo)
		return fail(c, SKD_FAIL_NO_GLO_NAME_MATCH, NULL);
	g->deleted = 1;
	if (eng_op_add(e->out, SKD_OP_GL_DELETE, g->name) == NULL)
		return 0;
	return ok(c);
}

/* ---- 4.3 glAddMember ---- */

/*
 * The administration mode's gate for a request not signed by a registered
 * GLO to add or delete a member (4.3.1 2.d.2.b, 4.4.1 2.c.2.b; self: the
 * signer is the member concerned).  Returns one when the request may go
 * on; else zero with *out_rc what the control handler returns (a failure
 * or the forward to a GLO).
 */
static int
member_gate(struct eng *e, struct eng_unit *u, struct eng_ctl *c,
    struct eng_gl *g, int self, int *out_rc)
{
	switch (g->admin) {
	case SKD_GL_CLOSED:
		/* 2.d.2.b.1.a: members cannot join or leave by themselves. */
		*out_rc = self ? fail(c, SKD_FAIL_CLOSED_GL, NULL) :
		    fail(c, SKD_FAIL_NO_GLO_NAME_MATCH, NULL);
		return 0;
	case SKD_GL_MANAGED:
		/* 2.d.2.b.2.a noSpam; 2.d.2.b.2.c forwarded to a GLO. */
		*out_rc = self ? forwarded(e, u, g, c) :
		    fail(c, SKD_FAIL_NO_SPAM, NULL);
		return 0;
	default:
		/* 2.d.2.b.3.a; 4.4.2: a member may join or leave an
		 * unmanaged GL by itself. */
		if (!self) {
			*out_rc = fail(c, SKD_FAIL_NO_SPAM, NULL);
			return 0;
		}
		return 1;
	}
}

/*
 * A member's encryption certificate from its directory entry, for a
 * glAddMember that carries none (env->person_certs): the first candidate
 * that names the member (skd_gname_match_cert: a dirName is matched to
 * the subject, an rfc822Name to an rfc822Name subjectAltName or the
 * subject's emailAddress) and validates for encryption.  Returns 1 with
 * *out set (the caller frees it), 0 with *out_why when there is none, -1
 * on error.
 */
static int
dir_member_cert(struct eng *e, const GENERAL_NAME *name,
    SKD_CERTIFICATES **out, const char **out_why)
{
	STACK_OF(X509) *sk = NULL;
	X509 *x;
	char *text = NULL;
	const char *why;
	int i, rc = -1;

	*out = NULL;
	*out_why = "no encryption certificate given";
	if (e->env->person_certs == NULL)
		return 0;
	if ((text = gname_text(name)) == NULL)
		goto err;
	if ((rc = e->env->person_certs(e->st->ctx, &sk, text)) <= 0)
		goto err;
	rc = 0;
	*out_why = "no encryption certificate given, and none in the "
	    "member's directory entry names it and validates";
	for (i = 0; i < sk_X509_num(sk); i++) {
		x = sk_X509_value(sk, i);
		if (!skd_gname_match_cert(name, x) ||
		    !eng_check_cert(e, x, NULL, &why))
			continue;
		rc = -1;
		if ((*out = SKD_CERTIFICATES_new()) == NULL || !X509_up_ref(x))
			goto err;
		(*out)->pKC = x;
		rc = 1;
		break;
	}
 err:
	if (rc < 0) {
		SKD_CERTIFICATES_free(*out);
		*out = NULL;
	}
	ERR_clear_error();
	sk_X509_pop_free(sk, X509_free);
	free(text);
	return rc;
}

static int
ctl_add_member(struct eng *e, struct eng_unit *u, struct eng_ctl *c)
{
	SKD_GL_ADD_MEMBER *am = c->val;
	const SKD_GL_MEMBER *m = am->glMember;
	const SKD_CERTIFICATES *certs = m->certificates;
	SKD_CERTIFICATES *dir_certs = NULL;
	struct eng_person *p;
	struct eng_gl *g;
	const char *why;
	long idx;
	int self, rc;

	if (!need_gl(e, u, c, am->glName, &g))
		return 0;
	if (g == NULL)
		return 1;
	/* 4.3.1 2.d.2.a */
	if (!eng_member_find(e, g, m->glMemberName, &idx))
		return 0;
	if (idx >= 0)
		return fail(c, SKD_FAIL_ALREADY_A_MEMBER, NULL);
	self = skd_gname_match_cert(m->glMemberName, u->signer);
	if (!c->by_glo && !member_gate(e, u, c, g, self, &rc))
		return rc;
	/* 2.d.2.b.*.b: the member's encryption certificate; when the
	 * request carries none, the one in the person's directory entry. */
	if (certs == NULL || certs->pKC == NULL) {
		if ((rc = dir_member_cert(e, m->glMemberName, &dir_certs,
		    &why)) <= 0)
			return rc < 0 ? 0 : fail(c, SKD_FAIL_INVALID_CERT, why);
		certs = dir_certs;
	} else if (!eng_check_cert(e, certs->pKC, NULL, &why))
		return fail(c, SKD_FAIL_INVALID_CERT, why);
	rc = add_person(e, g, 0, m->glMemberName, m->glMemberAddress, certs,
	    &p) &&
	    /* 5: the new member gets the outstanding keys. */
	    eng_keys_for_member(e, g, p);
	SKD_CERTIFICATES_free(dir_certs);
	return rc ? ok(c) : 0;
}

/* ---- 4.4 glDeleteMember ---- */

static int
ctl_delete_member(struct eng *e, struct eng_unit *u, struct eng_ctl *c)
{
	SKD_GL_DELETE_MEMBER *dm = c->val;
	struct eng_gl *g;
	long idx;
	int self, rc;

	if (!need_gl(e, u, c, dm->glName, &g))
		return 0;
	if (g == NULL)
		return 1;
	if (!eng_member_find(e, g, dm->glMemberToDelete, &idx))
		return 0;
	if (idx < 0)
		return fail(c, SKD_FAIL_NOT_A_MEMBER, NULL);
	self = skd_gname_match_cert(dm->glMemberToDelete, u->signer);
	if (!c->by_glo && !member_gate(e, u, c, g, self, &rc))
		return rc;
	if (!op_person(e, g, SKD_OP_MEMBER_REMOVE, &g->members[idx]) ||
	    !eng_member_remove(g, (size_t)idx))
		return 0;
	/* Section 8: managed and closed GLs are rekeyed so that the
	 * removed member cannot read what follows. */
	if (g->admin != SKD_GL_UNMANAGED)
		g->need_rekey = 1;
	return ok(c);
}

/* ---- 4.5.1 glRekey ---- */

static int
ctl_rekey(struct eng *e, struct eng_unit *u, struct eng_ctl *c)
{
	SKD_GL_REKEY *rk = c->val;
	const SKD_GL_NEW_KEY_ATTRIBUTES *na = rk->glNewKeyAttributes;
	struct eng_gl *g;
	int alg;
	long dur, gen, admin = -1, count;

	if (!need_gl(e, u, c, rk->glName, &g))
		return 0;
	if (g == NULL)
		return 1;
	if (!c->by_glo)
		return fail(c, SKD_FAIL_NO_GLO_NAME_MATCH, NULL);
	alg = g->alg_nid;
	dur = g->duration;
	gen = g->gen;
	if (na != NULL) {
		if (na->requestedAlgorithm != NULL)
			alg = OBJ_obj2nid(na->requestedAlgorithm->algorithm);
		if (na->duration != NULL)
			dur = ASN1_INTEGER_get(na->duration);
		if (na->generationCounter != NULL)
			gen = ASN1_INTEGER_get(na->generationCounter);
	}
	/* Section 5 names a glRekey with generationCounter 0: one key. */
	if (!check_attrs(e, c, alg, dur, gen == 0 ? 1 : gen))
		return 1;
	if (rk->glAdministration != NULL) {
		admin = ASN1_INTEGER_get(rk->glAdministration);
		if (admin < SKD_GL_UNMANAGED || admin > SKD_GL_CLOSED)
			return fail_cmc(c, SKD_CMC_FAILED,
			    SKD_CMC_BAD_REQUEST,
			    "glAdministration out of range");
		g->admin = (int)admin;
	}
	if (na != NULL) {
		if (skd_asn1_opt_bool_get(na->rekeyControlledByGLO) >= 0)
			g->rekey_by_glo =
			    skd_asn1_opt_bool_get(na->rekeyControlledByGLO);
		if (skd_asn1_opt_bool_get(na->recipientsNotMutuallyAware) >= 0)
			g->not_aware = skd_asn1_opt_bool_get(
			    na->recipientsNotMutuallyAware);
	}
	g->alg_nid = alg;
	g->duration = dur;
	if (gen > 0)
		g->gen = gen;
	g->changed = 1;
	/*
	 * 3.1.5: glRekeyAllGLKeys TRUE: every outstanding KEK is replaced;
	 * else generationCounter keys when the GLO gives one (3.1.13), and
	 * the current key alone otherwise or for 0 (section 5).
	 */
	if (skd_asn1_opt_bool_get(rk->glRekeyAllGLKeys) == 1) {
		size_t i;

		if (!eng_gl_load_keys(e, g))
			return 0;
		for (count = 0, i = 0; i < g->n_keys; i++)
			count += g->keys[i].not_after >= e->now;
	} else if (na != NULL && na->generationCounter != NULL) {
		count = gen;
	} else {
		count = 1;
	}
	if (count < 1)
		count = 1;
	/*
	 * Section 5: a glRekey with generationCounter above 0 MAY use kekri
	 * under the previous KEK (cfg->kekri_rollover); a rekey that follows
	 * a member's removal in this request (need_rekey) MUST use ktri/kari,
	 * and so must a glRekey with generationCounter 0.
	 */
	if (na != NULL && na->generationCounter != NULL && gen > 0 &&
	    !g->need_rekey) {
		if (!eng_keys_rollover(e, g, count))
			return 0;
	} else if (!eng_keys_new(e, g, count)) {
		return 0;
	}
	g->need_rekey = 0;
	return ok(c);
}

/* ---- 4.6 glAddOwner, glRemoveOwner ---- */

static int
ctl_owner(struct eng *e, struct eng_unit *u, struct eng_ctl *c, int add)
{
	SKD_GL_OWNER_ADMINISTRATION *oa = c->val;
	struct eng_gl *g;
	long idx;

	if (!need_gl(e, u, c, oa->glName, &g))
		return 0;
	if (g == NULL)
		return 1;
	if (!c->by_glo)
		return fail(c, SKD_FAIL_NO_GLO_NAME_MATCH, NULL);
	idx = eng_find_person(g->owners, g->n_owners,
	    oa->glOwnerInfo->glOwnerName);
	if (add) {
		if (idx >= 0)
			return fail(c, SKD_FAIL_ALREADY_AN_OWNER, NULL);
		if (!add_person(e, g, 1, oa->glOwnerInfo->glOwnerName,
		    oa->glOwnerInfo->glOwnerAddress,
		    oa->glOwnerInfo->certificates, NULL))
			return 0;
		return ok(c);
	}
	if (idx < 0)
		return fail(c, SKD_FAIL_NOT_AN_OWNER, NULL);
	if (g->n_owners == 1)
		return fail(c, SKD_FAIL_UNSPECIFIED,
		    "cannot remove the last owner");
	if (!op_person(e, g, SKD_OP_OWNER_REMOVE, &g->owners[idx]))
		return 0;
	eng_person_remove(g->owners, &g->n_owners, (size_t)idx);
	return ok(c);
}

/* ---- 4.7 glkCompromise ---- */

static int
ctl_compromise(struct eng *e, struct eng_unit *u, struct eng_ctl *c)
{
	struct eng_gl *g;
	long who;

	if (!need_gl(e, u, c, c->val, &g))
		return 0;
	if (g == NULL)
		return 1;
	if (c->by_glo) {
		/* 4.7.2: the GLO says so: rekey at once. */
		if (!eng_keys_new(e, g, g->gen > 0 ? g->gen : 1))
			return 0;
		g->need_rekey = 0;
		return ok(c);
	}
	if (!eng_member_by_cert(e, g, u->signer, &who))
		return 0;
	if (who < 0)
		return fail(c, SKD_FAIL_NOT_A_MEMBER, NULL);
	/* 4.7.1: a member's report goes to a GLO. */
	return forwarded(e, u, g, c);
}

/* ---- 4.8 glkRefresh ---- */

static int
ctl_refresh(struct eng *e, struct eng_unit *u, struct eng_ctl *c)
{
	SKD_GL_KREFRESH *rf = c->val;
	struct skd_store_glkey *keys = NULL;
	struct eng_gl *g;
	size_t nk = 0, i, j;
	long who = -1;
	int d, rc = 0, sent = 0;
	char buf[64];

	if (!need_gl(e, u, c, rf->glName, &g))
		return 0;
	if (g == NULL)
		return 1;
	if (!eng_member_by_cert(e, g, u->signer, &who))
		return 0;
	if (who < 0)
		return fail(c, SKD_FAIL_NOT_A_MEMBER, NULL);
	/* One indexed search: the shards naming the member. */
	if (!e->st->keys_for(e->st->ctx, &keys, &nk, g->name,
	    g->members[who].name))
		return 0;
	/* The glKey messages already made for this member whose validity
	 * meets one of the date ranges: only keys from its membership. */
	for (i = 0; i < nk; i++) {
		int named = 0, hit = 0;

		for (j = 0; j < keys[i].n_recipients; j++) {
			if (strcmp(keys[i].recipients[j],
			    g->members[who].name) == 0)
				named = 1;
		}
		for (d = 0; named && d < sk_SKD_DATE_num(rf->dates); d++) {
			const SKD_DATE *dt = sk_SKD_DATE_value(rf->dates, d);
			time_t s = 0, en = (time_t)-1;
			struct tm tm;

			if (ASN1_TIME_to_tm(dt->start, &tm))
				s = timegm(&tm);
			if (dt->end != NULL && ASN1_TIME_to_tm(dt->end, &tm))
				en = timegm(&tm);
			if (keys[i].not_after >= s &&
			    (dt->end == NULL || keys[i].not_before <= en))
				hit = 1;
		}
		if (hit) {
			if (!eng_push_octets(e->extra, keys[i].message,
			    keys[i].message_len))
				goto err;
			sent++;
		}
	}
	snprintf(buf, sizeof(buf), "%d glKey message(s) resent", sent);
	rc = ok(c);
	snprintf(c->text, sizeof(c->text), "%s", buf);
 err:
	skd_store_glkey_list_free(keys, nk);
	return rc;
}

/* ---- 4.9 glaQueryRequest ---- */

static int
ctl_query(struct eng *e, struct eng_unit *u, struct eng_ctl *c)
{
	SKD_GLA_QUERY_REQUEST *q = c->val;
	STACK_OF(X509_ALGOR) *caps = NULL;
	X509_ALGOR *a = NULL;
	ASN1_STRING *seq = NULL;
	unsigned char *der = NULL;
	static const int all[] = {
		NID_id_aes128_wrap, NID_id_aes192_wrap, NID_id_aes256_wrap
	};
	size_t i;
	int n, rc = 0;

	(void)u;
	c->by_glo = 1;	/* nothing to hide */
	if (OBJ_obj2nid(q->type) != skd_asn1_nid(SKD_OID_GLA_SKD_ALG_REQUEST))
		return fail_cmc(c, SKD_CMC_NO_SUPPORT, -1,
		    "glaQueryRequest type not supported");
	/* SMIMECapabilities: the key wrap algorithms we support. */
	if ((caps = sk_X509_ALGOR_new_null()) == NULL)
		goto err;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!eng_supported_alg(e, all[i]))
			continue;
		if ((a = X509_ALGOR_new()) == NULL ||
		    !X509_ALGOR_set0(a, OBJ_nid2obj(all[i]), V_ASN1_UNDEF,
		    NULL) || !sk_X509_ALGOR_push(caps, a))
			goto err;
		a = NULL;
	}
	if ((n = i2d_X509_ALGORS(caps, &der)) <= 0 ||
	    (seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE)) == NULL ||
	    !ASN1_STRING_set(seq, der, n))
		goto err;
	if ((c->query_resp = SKD_GLA_QUERY_RESPONSE_new()) == NULL)
		goto err;
	ASN1_OBJECT_free(c->query_resp->type);
	c->query_resp->type = OBJ_nid2obj(
	    skd_asn1_nid(SKD_OID_GLA_SKD_ALG_RESPONSE));
	if (c->query_resp->value == NULL &&
	    (c->query_resp->value = ASN1_TYPE_new()) == NULL)
		goto err;
	ASN1_TYPE_set(c->query_resp->value, V_ASN1_SEQUENCE, seq);
	seq = NULL;
	rc = ok(c);
 err:
	X509_ALGOR_free(a);
	sk_X509_ALGOR_pop_free(caps, X509_ALGOR_free);
	ASN1_STRING_free(seq);
	OPENSSL_free(der);
	return rc;
}

/* ---- 4.10 glProvideCert (from a GLO), glManageCert (from a member) ---- */

static int
ctl_provide_cert(struct eng *e, struct eng_unit *u, struct eng_ctl *c)
{
	SKD_GL_MANAGE_CERT *pc = c->val;
	struct eng_gl *g;
	long idx;

	if (!need_gl(e, u, c, pc->glName, &g))
		return 0;
	if (g == NULL)
		return 1;
	if (!c->by_glo)
		return fail(c, SKD_FAIL_NO_GLO_NAME_MATCH, NULL);
	if (!eng_member_find(e, g, pc->glMember->glMemberName, &idx))
		return 0;
	if (idx < 0)
		return fail(c, SKD_FAIL_NOT_A_MEMBER, NULL);
	if (!eng_provide_cert(e, g, &g->members[idx]))
		return 0;
	return ok(c);
}

static int
ctl_manage_cert(struct eng *e, struct eng_unit *u, struct eng_ctl *c)
{
	SKD_GL_MANAGE_CERT *mc = c->val;
	struct eng_person *p;
	struct eng_gl *g;
	const char *why;
	unsigned char *der = NULL;
	size_t der_len = 0;
	long idx;
	int rc;

	if (!need_gl(e, u, c, mc->glName, &g))
		return 0;
	if (g == NULL)
		return 1;
	if (!eng_member_find(e, g, mc->glMember->glMemberName, &idx))
		return 0;
	if (idx < 0)
		return fail(c, SKD_FAIL_NOT_A_MEMBER, NULL);
	p = &g->members[idx];
	if (!c->by_glo && !skd_gname_match_cert(p->gn, u->signer))
		return fail(c, SKD_FAIL_NO_SPAM, NULL);
	/* 4.10.2 2.c: a certificate that does not verify: ask again. */
	if (mc->glMember->certificates == NULL ||
	    mc->glMember->certificates->pKC == NULL ||
	    !eng_check_cert(e, mc->glMember->certificates->pKC, NULL, &why)) {
		if (!eng_provide_cert(e, g, p))
			return 0;
		return fail(c, SKD_FAIL_INVALID_CERT,
		    mc->glMember->certificates == NULL ||
		    mc->glMember->certificates->pKC == NULL ?
		    "no certificate given" : why);
	}
	/* Replace the member's certificate for the next glKey. */
	if ((der = pkc_der(mc->glMember->certificates, &der_len)) == NULL)
		return 0;
	free(p->cert);
	X509_free(p->x509);
	p->cert = malloc(der_len);
	p->x509 = X509_dup(mc->glMember->certificates->pKC);
	p->cert_bad = 0;
	rc = p->cert != NULL && p->x509 != NULL;
	if (rc) {
		memcpy(p->cert, der, der_len);
		p->cert_len = der_len;
		rc = op_person(e, g, SKD_OP_MEMBER_REMOVE, p) &&
		    op_person(e, g, SKD_OP_MEMBER_ADD, p);
	}
	OPENSSL_free(der);
	if (!rc)
		return 0;
	/* 4.10.2 2.c.2: "The GLA also forwards the glUpdateCert message to
	 * the GLO" (a copy for its information; the member is answered). */
	if (!c->by_glo && !forward(e, u, g))
		return 0;
	return ok(c);
}

int
eng_dispatch(struct eng *e, struct eng_unit *u, struct eng_ctl *c)
{
	switch (c->oid) {
	case SKD_OID_GL_USE_KEK:
		return ctl_use_kek(e, u, c);
	case SKD_OID_GL_DELETE:
		return ctl_delete(e, u, c);
	case SKD_OID_GL_ADD_MEMBER:
		return ctl_add_member(e, u, c);
	case SKD_OID_GL_DELETE_MEMBER:
		return ctl_delete_member(e, u, c);
	case SKD_OID_GL_REKEY:
		return ctl_rekey(e, u, c);
	case SKD_OID_GL_ADD_OWNER:
		return ctl_owner(e, u, c, 1);
	case SKD_OID_GL_REMOVE_OWNER:
		return ctl_owner(e, u, c, 0);
	case SKD_OID_GL_KEY_COMPROMISE:
		return ctl_compromise(e, u, c);
	case SKD_OID_GL_KEY_REFRESH:
		return ctl_refresh(e, u, c);
	case SKD_OID_GLA_QUERY_REQUEST:
		return ctl_query(e, u, c);
	case SKD_OID_GL_PROVIDE_CERT:
		return ctl_provide_cert(e, u, c);
	case SKD_OID_GL_MANAGE_CERT:
		return ctl_manage_cert(e, u, c);
	default:
		return fail_cmc(c, SKD_CMC_FAILED, SKD_CMC_BAD_REQUEST,
		    "control not accepted by the GLA");
	}
}

int
eng_unit_end(struct eng *e, struct eng_unit *u)
{
	size_t i;

	(void)u;
	for (i = 0; i < e->n_gls; i++) {
		struct eng_gl *g = e->gls[i];

		if (g->need_rekey && !g->deleted) {
			/* Section 8: after a removal from a managed or
			 * closed GL. */
			if (!eng_keys_new(e, g, g->gen > 0 ? g->gen : 1))
				return 0;
			g->need_rekey = 0;
		}
		if (!eng_gl_flush(e, g))
			return 0;
	}
	return 1;
}

/* skd's own acknowledgements before they echoed the transactionId: the
 * statusString "glKey received: <key id hex>".  Still accepted. */
#define ACK_PREFIX	"glKey received: "

/* The key id (hex, malloc'd) named by a glKey transactionId
 * (eng_glkey_tid), or NULL when tid is not one. */
static char *
glkey_tid_key(const ASN1_INTEGER *tid)
{
	unsigned char buf[1 + ENG_KEY_ID_LEN * 4];
	BIGNUM *bn;
	char *hex = NULL;
	int n, i;

	if ((bn = ASN1_INTEGER_to_BN(tid, NULL)) == NULL ||
	    BN_is_negative(bn) || (n = BN_num_bytes(bn)) < 2 ||
	    (size_t)n > sizeof(buf) || BN_bn2bin(bn, buf) != n ||
	    buf[0] != 0x01 || (hex = malloc((size_t)(n - 1) * 2 + 1)) == NULL) {
		BN_free(bn);
		return NULL;
	}
	for (i = 1; i < n; i++)
		snprintf(hex + 2 * (i - 1), 3, "%02x", buf[i]);
	BN_free(bn);
	return hex;
}

/*
 * The key a cMCStatusInfoExt success acknowledges (RFC 5275 5.1 2.c), as
 * hex (malloc'd), or NULL when si is no acknowledgement: by structure, the
 * glKey message's transactionId echoed in the PKIResponse (3.2.4.2) and a
 * bodyList naming its glKey control; else skd's older statusString.
 */
static char *
ack_key(const SKD_PKI_RESPONSE *pr, const SKD_CMC_STATUS_INFO_V2 *si)
{
	const SKD_TAGGED_ATTRIBUTE *ta;
	const SKD_BODY_PART_REFERENCE *ref;
	ASN1_INTEGER *tid = NULL;
	char *text = NULL, *hex = NULL;

	if (ASN1_INTEGER_get(si->cMCStatus) != SKD_CMC_SUCCESS)
		return NULL;
	if ((ta = skd_cmc_find_control(pr->controlSequence,
	    SKD_OID_CMC_TRANSACTION_ID, 0)) != NULL &&
	    skd_cmc_find_control(pr->controlSequence,
	    SKD_OID_CMC_TRANSACTION_ID, 1) == NULL &&
	    sk_ASN1_TYPE_num(ta->attrValues) == 1 &&
	    (tid = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(ASN1_INTEGER))) != NULL &&
	    sk_SKD_BODY_PART_REFERENCE_num(si->bodyList) == 1 &&
	    (ref = sk_SKD_BODY_PART_REFERENCE_value(si->bodyList, 0))->type ==
	    SKD_BODY_PART_REF_ID &&
	    ASN1_INTEGER_get(ref->d.bodyPartID) == ENG_GLKEY_BPID)
		hex = glkey_tid_key(tid);
	ASN1_INTEGER_free(tid);
	ERR_clear_error();
	if (hex != NULL)
		return hex;
	if (si->statusString != NULL &&
	    (text = eng_str(si->statusString)) != NULL &&
	    strncmp(text, ACK_PREFIX, strlen(ACK_PREFIX)) == 0)
		hex = strdup(text + strlen(ACK_PREFIX));
	OPENSSL_free(text);
	return hex;
}

/* One acknowledgement: the cMCStatusInfoExt success a member returns for
 * a glKey (5.1 2.c), naming the key id (hex). */
static int
one_ack(struct eng *e, X509 *signer, long bpid, const char *key_hex)
{
	struct eng_gl *g;
	GENERAL_NAME *gn = NULL;
	SKD_ENG_OP *op;
	char *gl = NULL;
	long i;
	int rc, ok = 0;

	if (e->env->find_key_gl == NULL)
		return eng_result_add(e->out, 0, bpid, NID_undef,
		    SKD_CMC_NO_SUPPORT, -1, -1,
		    "acknowledgement not recorded: no key lookup");
	if ((rc = e->env->find_key_gl(e->st->ctx, &gl, key_hex)) < 0)
		return 0;
	if (rc == 0)
		return eng_result_add(e->out, 0, bpid, NID_undef,
		    SKD_CMC_FAILED, SKD_CMC_BAD_REQUEST, -1, "unknown key");
	if ((gn = skd_gname_from_text(gl)) == NULL ||
	    !eng_gl_get(e, &g, gn) || !eng_member_by_cert(e, g, signer, &i))
		goto err;
	if (i >= 0) {
		if ((op = eng_op_add(e->out, SKD_OP_ACK, g->name)) == NULL ||
		    !eng_set_utf8(&op->name, g->members[i].name) ||
		    !eng_set_utf8(&op->keyId, key_hex))
			goto err;
		ok = eng_result_add(e->out, 0, bpid, NID_undef,
		    SKD_CMC_SUCCESS, -1, -1, "acknowledged");
		goto err;
	}
	ok = eng_result_add(e->out, 0, bpid, NID_undef, SKD_CMC_FAILED, -1,
	    SKD_FAIL_NOT_A_MEMBER, NULL);
 err:
	free(gl);
	GENERAL_NAME_free(gn);
	return ok;
}

/* A PKIResponse as the outermost body: member acknowledgements; nothing
 * else is expected from GLOs or members, and nothing is answered. */
int
eng_process_response(struct eng *e, const struct skd_layers *l)
{
	const SKD_PKI_RESPONSE *pr = NULL;
	X509 *signer = NULL;
	size_t i;
	int k, sl, acks = 0;

	for (i = 0; i < l->n; i++) {
		if (l->v[i].type == SKD_LAYER_PKI_RESPONSE) {
			pr = l->v[i].pki_response;
			sl = eng_layer_signed_parent(l, (int)i);
			if (sl >= 0 && l->v[sl].verified != NULL)
				signer = l->v[sl].verified->signer;
			break;
		}
	}
	if (pr == NULL || signer == NULL)
		return eng_set_utf8(&e->out->note, "unsigned PKIResponse");
	for (k = 0; k < sk_SKD_TAGGED_ATTRIBUTE_num(pr->controlSequence); k++) {
		const SKD_TAGGED_ATTRIBUTE *ta =
		    sk_SKD_TAGGED_ATTRIBUTE_value(pr->controlSequence, k);
		SKD_CMC_STATUS_INFO_V2 *si;
		char *key = NULL;
		int rc = 1;

		if (OBJ_obj2nid(ta->attrType) !=
		    skd_asn1_nid(SKD_OID_CMC_STATUS_INFO_V2) ||
		    sk_ASN1_TYPE_num(ta->attrValues) != 1)
			continue;
		si = skd_tagged_attribute_decode1(ta, 0,
		    ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2));
		ERR_clear_error();
		if (si == NULL)
			continue;
		if ((key = ack_key(pr, si)) != NULL) {
			rc = one_ack(e, signer,
			    ASN1_INTEGER_get(ta->bodyPartID), key);
			acks++;
		}
		free(key);
		SKD_CMC_STATUS_INFO_V2_free(si);
		if (!rc)
			return 0;
	}
	if (acks == 0)
		return eng_set_utf8(&e->out->note,
		    "PKIResponse without acknowledgement; nothing to do");
	return 1;
}

/* ---- a GLO's denial of a forwarded request (RFC 5275 3.2.4.1) ---- */

/* The one GL the member controls of pd name (those the GLA forwards:
 * 4.3.1, 4.3.2, 4.7.1, 4.8, 4.10.2), duplicated, or NULL. */
static GENERAL_NAME *
denied_gl(const SKD_PKI_DATA *pd)
{
	const STACK_OF(SKD_TAGGED_ATTRIBUTE) *seq = pd->controlSequence;
	GENERAL_NAME *gl = NULL;
	int k;

	for (k = 0; k < sk_SKD_TAGGED_ATTRIBUTE_num(seq); k++) {
		const SKD_TAGGED_ATTRIBUTE *ta =
		    sk_SKD_TAGGED_ATTRIBUTE_value(seq, k);
		const struct skd_control *def;
		const GENERAL_NAME *gn = NULL;
		int nid = OBJ_obj2nid(ta->attrType);
		void *v;

		if (nid == skd_asn1_nid(SKD_OID_CMC_TRANSACTION_ID) ||
		    nid == skd_asn1_nid(SKD_OID_CMC_SENDER_NONCE) ||
		    nid == skd_asn1_nid(SKD_OID_CMC_RECIPIENT_NONCE))
			continue;
		if ((def = skd_control_by_nid(nid)) == NULL ||
		    (v = skd_tagged_attribute_decode1(ta, 0,
		    ASN1_ITEM_ptr(def->item))) == NULL)
			goto err;
		if (nid == skd_asn1_nid(SKD_OID_GL_ADD_MEMBER))
			gn = ((SKD_GL_ADD_MEMBER *)v)->glName;
		else if (nid == skd_asn1_nid(SKD_OID_GL_MANAGE_CERT))
			gn = ((SKD_GL_MANAGE_CERT *)v)->glName;
		else if (nid == skd_asn1_nid(SKD_OID_GL_DELETE_MEMBER))
			gn = ((SKD_GL_DELETE_MEMBER *)v)->glName;
		else if (nid == skd_asn1_nid(SKD_OID_GL_KEY_REFRESH))
			gn = ((SKD_GL_KREFRESH *)v)->glName;
		else if (nid == skd_asn1_nid(SKD_OID_GL_KEY_COMPROMISE))
			gn = v;
		if (gn == NULL || (gl != NULL && GENERAL_NAME_cmp(gl,
		    (GENERAL_NAME *)gn) != 0) || (gl == NULL &&
		    (gl = GENERAL_NAME_dup(gn)) == NULL)) {
			ASN1_item_free(v, ASN1_ITEM_ptr(def->item));
			goto err;
		}
		ASN1_item_free(v, ASN1_ITEM_ptr(def->item));
	}
	return gl;
 err:
	ERR_clear_error();
	GENERAL_NAME_free(gl);
	return NULL;
}

/* Whether every cMCStatusInfoExt of pr says failed (at least one). */
static int
all_failed(const SKD_PKI_RESPONSE *pr)
{
	int k, n = 0;

	for (k = 0; k < sk_SKD_TAGGED_ATTRIBUTE_num(pr->controlSequence); k++) {
		const SKD_TAGGED_ATTRIBUTE *ta =
		    sk_SKD_TAGGED_ATTRIBUTE_value(pr->controlSequence, k);
		SKD_CMC_STATUS_INFO_V2 *si;
		long st;

		if (OBJ_obj2nid(ta->attrType) !=
		    skd_asn1_nid(SKD_OID_CMC_STATUS_INFO_V2))
			continue;
		if (sk_ASN1_TYPE_num(ta->attrValues) != 1 ||
		    (si = skd_tagged_attribute_decode1(ta, 0,
		    ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2))) == NULL) {
			ERR_clear_error();
			return 0;
		}
		st = ASN1_INTEGER_get(si->cMCStatus);
		SKD_CMC_STATUS_INFO_V2_free(si);
		if (st != SKD_CMC_FAILED)
			return 0;
		n++;
	}
	return n > 0;
}

/* Whether the recipientNonce and transactionId of the denial echo the
 * senderNonce and transactionId of the member's request (3.2.4.2). */
static int
echoes(const STACK_OF(SKD_TAGGED_ATTRIBUTE) *req,
    const STACK_OF(SKD_TAGGED_ATTRIBUTE) *den)
{
	const SKD_TAGGED_ATTRIBUTE *ta;
	unsigned char *a = NULL, *b = NULL;
	size_t al = 0, bl = 0;
	ASN1_INTEGER *ta_req = NULL, *ta_den = NULL;
	int ok = 0;

	if (skd_cmc_get_nonce(req, SKD_OID_CMC_SENDER_NONCE, &a, &al) != 1 ||
	    skd_cmc_get_nonce(den, SKD_OID_CMC_RECIPIENT_NONCE, &b, &bl) != 1 ||
	    al != bl || CRYPTO_memcmp(a, b, al) != 0)
		goto err;
	if ((ta = skd_cmc_find_control(req, SKD_OID_CMC_TRANSACTION_ID, 0)) !=
	    NULL && (ta_req = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(ASN1_INTEGER))) == NULL)
		goto err;
	if ((ta = skd_cmc_find_control(den, SKD_OID_CMC_TRANSACTION_ID, 0)) !=
	    NULL && (ta_den = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(ASN1_INTEGER))) == NULL)
		goto err;
	if ((ta_req == NULL) != (ta_den == NULL) || (ta_req != NULL &&
	    ASN1_INTEGER_cmp(ta_req, ta_den) != 0))
		goto err;
	ok = 1;
 err:
	ERR_clear_error();
	OPENSSL_free(a);
	OPENSSL_free(b);
	ASN1_INTEGER_free(ta_req);
	ASN1_INTEGER_free(ta_den);
	return ok;
}

int
eng_is_denial(const struct skd_layers *l, int top)
{
	size_t k;

	for (k = 0; k < l->n; k++) {
		if (l->v[k].type == SKD_LAYER_PKI_RESPONSE &&
		    eng_layer_body_parent(l, (int)k) == top)
			return 1;
	}
	return 0;
}

/*
 * eng_denial checks a GLO's denial sent through the GLA: sets *out_why
 * (static text) when it is refused, else publishes it to the member.
 */
static int
eng_denial(struct eng *e, const struct skd_layers *l, int top, X509 *glo,
    const unsigned char *msg, size_t len, struct eng_gl **out_g,
    long *out_bpid, const char **out_why)
{
	const SKD_PKI_DATA *pd = l->v[top].pki_data;
	const struct skd_cms_verified *fv, *mv, *dv;
	GENERAL_NAME *gn = NULL;
	struct eng_gl *g = NULL;
	unsigned char *der = NULL;
	size_t k, der_len = 0;
	char id[SKD_STORE_ID_LEN];
	int fwd = -1, den = -1, mreq = -1, n_fwd = 0, n_den = 0, n_req = 0;
	int fsl, msl, dsl, i, ok = 0;

	*out_g = NULL;
	*out_why = NULL;
	for (i = 0; i < sk_SKD_TAGGED_ATTRIBUTE_num(pd->controlSequence); i++) {
		int nid = OBJ_obj2nid(sk_SKD_TAGGED_ATTRIBUTE_value(
		    pd->controlSequence, i)->attrType);

		if (nid != skd_asn1_nid(SKD_OID_CMC_TRANSACTION_ID) &&
		    nid != skd_asn1_nid(SKD_OID_CMC_SENDER_NONCE)) {
			*out_why = "a denial carries no request of its own";
			return 1;
		}
	}
	for (k = 0; k < l->n; k++) {
		if (l->v[k].type == SKD_LAYER_PKI_DATA &&
		    eng_layer_body_parent(l, (int)k) == top) {
			fwd = (int)k;
			n_fwd++;
		} else if (l->v[k].type == SKD_LAYER_PKI_RESPONSE &&
		    eng_layer_body_parent(l, (int)k) == top) {
			den = (int)k;
			n_den++;
		}
	}
	if (n_fwd != 1 || n_den != 1 ||
	    sk_SKD_TAGGED_CONTENT_INFO_num(pd->cmsSequence) != 2) {
		*out_why = "a denial holds the GLA's forwarded request and "
		    "one signed PKIResponse";
		return 1;
	}
	for (k = 0; k < l->n; k++) {
		if (l->v[k].type == SKD_LAYER_PKI_DATA &&
		    eng_layer_body_parent(l, (int)k) == fwd) {
			mreq = (int)k;
			n_req++;
		}
	}
	*out_bpid = eng_layer_item_bpid(l, den);
	/* The forward must be the GLA's own (3.2.3), its request signed. */
	if ((fsl = eng_layer_signed_parent(l, fwd)) < 0 ||
	    (fv = l->v[fsl].verified) == NULL ||
	    !eng_is_gla_cert(e, fv->signer) || n_req != 1 ||
	    (msl = eng_layer_signed_parent(l, mreq)) < 0 ||
	    (mv = l->v[msl].verified) == NULL || msl < fsl) {
		*out_why = "the denied message is not a request the GLA "
		    "forwarded";
		return 1;
	}
	if ((gn = denied_gl(l->v[mreq].pki_data)) == NULL ||
	    !skd_gname_match_cert(gn, fv->signer)) {
		*out_why = "the forwarded request names no GL of its GLA "
		    "certificate";
		goto done;
	}
	if (!eng_gl_get(e, &g, gn))
		goto err;
	if (!g->exists || g->deleted) {
		*out_why = "the GL of the denied request does not exist";
		goto done;
	}
	if (!eng_gl_load_owners(e, g))
		goto err;
	*out_g = g;
	if (eng_find_owner_by_cert(g, glo) < 0) {
		*out_why = "the denial's signer is not a GLO of the GL";
		goto done;
	}
	if ((dsl = eng_layer_signed_parent(l, den)) < 0 ||
	    (dv = l->v[dsl].verified) == NULL ||
	    eng_layer_body_parent(l, dsl) != top ||
	    X509_cmp(dv->signer, glo) != 0) {
		*out_why = "the denial is not signed by the GLO who sends it";
		goto done;
	}
	if (!echoes(l->v[mreq].pki_data->controlSequence,
	    l->v[den].pki_response->controlSequence)) {
		*out_why = "the denial does not echo the member's "
		    "transactionId and senderNonce (RFC 5275 3.2.4.2)";
		goto done;
	}
	if (!all_failed(l->v[den].pki_response)) {
		*out_why = "the denial must hold cMCStatusInfoExt failed only";
		goto done;
	}
	/* Published as it is, for the member who signed the request. */
	if ((der = eng_layer_der(e, l, dsl, msg, len, &der_len)) == NULL ||
	    !eng_new_id(e, id) ||
	    !eng_publish(e, SKD_OP_MESSAGE, SKD_MSG_RESPONSE, id, g->name,
	    der, der_len, mv->signer, NULL, 0))
		goto err;
 done:
	ok = 1;
 err:
	OPENSSL_free(der);
	GENERAL_NAME_free(gn);
	return ok;
}

int
eng_process_denial(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id, const unsigned char *msg, size_t len)
{
	struct eng_gl *g = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	const char *why = NULL;
	X509 *glo;
	long bpid = 0;
	int sl, ok = 0;

	sl = eng_layer_signed_parent(l, top);
	glo = l->v[sl].verified->signer;
	if (!eng_denial(e, l, top, glo, msg, len, &g, &bpid, &why))
		goto err;
	if (!eng_result_add(e->out, 0, bpid, NID_undef,
	    why == NULL ? SKD_CMC_SUCCESS : SKD_CMC_FAILED,
	    why == NULL ? -1 : SKD_CMC_BAD_REQUEST, -1,
	    why == NULL ? "denial sent to the member" : why))
		goto err;
	/* The GLO's answer: signed for the GL when it is known (3.2.6). */
	if (!eng_status_answer(e, g, why == NULL ? SKD_CMC_SUCCESS :
	    SKD_CMC_FAILED, &bpid, 1, why == NULL ?
	    "denial sent to the member" : why,
	    why == NULL ? -1 : SKD_CMC_BAD_REQUEST,
	    l->v[top].pki_data->controlSequence,
	    eng_layer_encrypted(l, top) ? glo : NULL, &der, &der_len) ||
	    !eng_publish(e, SKD_OP_RESPONSE, SKD_MSG_RESPONSE, request_id, "",
	    der, der_len, glo, NULL, 0))
		goto err;
	ok = 1;
 err:
	OPENSSL_free(der);
	return ok;
}
