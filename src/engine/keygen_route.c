/*
 * keygen_route.c: which path of CMC server-side key generation a signed
 * PKIData takes (process.c asks): a serverKeyGenRequest (keygen.c, draft
 * 6.1), the proof of possession round (pop.c, draft 8), key recovery
 * (recover.c) or a request an RA forwarded (ra.c, draft 2.5.2).  Above
 * them all (docs/architecture.md).
 */
#include "engine/process_local.h"

int
eng_keygen_wanted(const struct skd_layers *l, int top)
{
	return l->v[top].pki_data != NULL &&
	    (skd_cmc_find_control(l->v[top].pki_data->controlSequence,
	    SKD_OID_SERVER_KEY_GEN_REQUEST, 0) != NULL ||
	    skd_cmc_find_control(l->v[top].pki_data->controlSequence,
	    SKD_OID_KEY_RECOVERY_REQUEST, 0) != NULL ||
	    eng_pop_wanted(l->v[top].pki_data) || eng_ra_inner(l, top) >= 0);
}

int
eng_keygen_route(struct eng *e, const struct skd_layers *l, int top,
    const char *request_id)
{
	const SKD_PKI_DATA *pd = l->v[top].pki_data;

	if (skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_KEY_RECOVERY_REQUEST, 0) != NULL)
		return eng_recover_process(e, l, top, request_id);
	if (eng_pop_wanted(pd))
		return eng_pop_process(e, l, top, request_id);
	if (eng_ra_inner(l, top) >= 0)
		return eng_ra_process(e, l, top, request_id);
	return eng_keygen_process(e, l, top, request_id);
}
