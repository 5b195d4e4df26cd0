/*
 * process_local.h: what process.c, units.c and controls.c share.
 */
#ifndef SKD_ENGINE_PROCESS_LOCAL_H
#define SKD_ENGINE_PROCESS_LOCAL_H

#include "engine/engine_local.h"

/* One PKIData being processed (one GL's requests, RFC 5275 3.2.2). */
struct eng_unit {
	int			 layer;		/* its PKIData layer */
	const SKD_PKI_DATA	*pd;
	long			 unit_id;	/* 0, or its cmsSequence bpid */
	int			 signed_layer;
	X509			*signer;	/* of its SignedData */
	X509			*outer[SKD_LAYERS_MAX_DEPTH]; /* approvers */
	size_t			 n_outer;
	int			 encrypted;
	struct eng_gl		*gl;		/* signs the response */
	int			 forwarded;
	const struct skd_layers	*layers;
	const unsigned char	*msg;
	size_t			 msg_len;
};

/* One control of a unit and its result. */
struct eng_ctl {
	long			 bpid;
	int			 nid;
	enum skd_oid		 oid;
	const struct skd_control *def;
	void			*val;
	int			 prio;
	int			 done;
	int			 no_status;	/* forwarded: nothing to say */
	int			 by_glo;	/* requester is a GLO */
	int			 by_member;	/* requester is a member of
						   the control's GL (3.2.3) */
	long			 status;
	long			 cmc_fail;
	long			 skd_fail;
	char			 text[160];
	/* Extra control for the response (glaQueryResponse). */
	SKD_GLA_QUERY_RESPONSE	*query_resp;
};

int eng_process_units(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id, const unsigned char *msg, size_t len);
int eng_process_response(struct eng *e, const struct skd_layers *l);
/*
 * controls.c: a GLO's denial of a forwarded request sent through the GLA
 * (RFC 5275 3.2.4.1): PKIData { cmsSequence { the GLA's forward, the
 * GLO's SignedData(PKIResponse) } } signed by the GLO.  eng_is_denial
 * tells whether the PKIData at top is one; eng_process_denial checks it,
 * publishes the denial unchanged to the member and answers the GLO.
 */
int eng_is_denial(const struct skd_layers *l, int top);
int eng_process_denial(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id, const unsigned char *msg, size_t len);
/* keygen_route.c: a PKIData of CMC server-side key generation (the
 * draft's serverKeyGenRequest, its POP round, an RA's forwarding, or
 * skd's key recovery) is answered there instead of eng_process_units. */
int eng_keygen_wanted(const struct skd_layers *l, int top);
int eng_keygen_route(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id);
/* keygen.c: a PKIData carrying serverKeyGenRequest, signed. */
int eng_keygen_process(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id);
/* keygen_answer.c: signs a keygen answer as the keygen CA (draft 2: "Signed by
 * the CA"), its certificates issued (may be NULL) and the CA's chain;
 * encrypt_to may be NULL.  *out: OPENSSL_free. */
int eng_keygen_sign_answer(struct eng *e, struct skd_cmc_body *b,
    X509 *issued, X509 *encrypt_to, unsigned char **out, size_t *out_len);
/* keygen_answer.c: the key package pkg as a cmsSequence item of b and the
 * control oid (serverKeyGenResponse or keyRecoveryResponse: the
 * ServerKeyGenResponse type) pointing at it, at req_bpid and at cert
 * (draft 6.2). */
int eng_keygen_add_package(struct skd_cmc_body *b, enum skd_oid oid,
    const unsigned char *pkg, size_t pkg_len, long req_bpid, X509 *cert);
/* keygen_answer.c: b with pd's nonces echoed, signed as the keygen CA (issued
 * among its certificates, encrypt_to may be NULL), published as the
 * response to request_id for to_cert's names, or to_name when to_cert
 * is NULL (both NULL: nobody named). */
int eng_keygen_respond(struct eng *e, const char *request_id,
    struct skd_cmc_body *b, const SKD_PKI_DATA *pd, X509 *issued,
    X509 *encrypt_to, X509 *to_cert, const char *to_name);
/* keygen_answer.c: whether pd holds only the controls of allowed (each at most
 * once), n_req requests, n_cms cmsSequence items and no other message
 * (draft 3.1, 3.2's shapes). */
int eng_keygen_body_only(const SKD_PKI_DATA *pd, const enum skd_oid *allowed,
    size_t n_allowed, int n_req, int n_cms);
/* keygen_answer.c: a certPublish op for an issued certificate on the entry of
 * the requester (who_cert's names, or who_identity's). */
int eng_keygen_publish(struct eng *e, X509 *who_cert,
    const char *who_identity, X509 *issued);
/* pop.c: the proof of possession round (draft 8, RFC 5272 6.7): a
 * PKIData with a Decrypted POP control or skd's popCertificate request. */
int eng_pop_wanted(const SKD_PKI_DATA *pd);
int eng_pop_process(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id);
/* The POP round of pd from the requester named who: signer (a
 * SignedData) or identity (an AuthenticatedData's shared secret; signer
 * NULL); encrypt_to may be NULL. */
int eng_pop_answer(struct eng *e, const char *request_id,
    const SKD_PKI_DATA *pd, const X509_NAME *who, X509 *signer,
    const char *identity, X509 *encrypt_to);
/* keygen.c: the serverKeyGenRequest of the PKIData layer inner, signed
 * by its requester, answered as usual but the signed answer handed back
 * in *out (OPENSSL_free) instead of published (ra.c). */
int eng_keygen_inner(struct eng *e, const struct skd_layers *l, int inner,
    const char *request_id, unsigned char **out, size_t *out_len);
/* ra.c: draft 2.5.2, a client's request forwarded by an RA under its
 * own SignedData (RFC 5272 3.2.3).  eng_ra_inner: the layer of the
 * client's PKIData when the PKIData at top is such a wrapper, else -1. */
int eng_ra_inner(const struct skd_layers *l, int top);
int eng_ra_process(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id);
/* recover.c: a PKIData carrying keyRecoveryRequest (docs/keygen.md). */
int eng_recover_process(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id);
/* An AuthenticatedData (shared secret, draft 2.1 / 2.2), answered whole. */
int eng_keygen_authdata(struct eng *e, const char *request_id,
    const unsigned char *msg, size_t len);
int eng_dispatch(struct eng *e, struct eng_unit *u, struct eng_ctl *c);
int eng_unit_end(struct eng *e, struct eng_unit *u);
int eng_notify_owners(struct eng *e, struct eng_gl *g, int kind,
    const char *text);

#endif
