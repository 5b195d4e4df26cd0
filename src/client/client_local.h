/*
 * client_local.h: what the files of src/client share (not exported).
 */
#ifndef SKD_CLIENT_LOCAL_H
#define SKD_CLIENT_LOCAL_H

#include "client/skd_client.h"

/*
 * skd_client_seterr records code and a message in err (may be NULL),
 * appending the OpenSSL error queue's last reason if any, then clears the
 * queue.  Always returns zero so that "return skd_client_seterr(...)"
 * reads as a failure.
 */
int skd_client_seterr(struct skd_client_error *err, enum skd_client_err code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

struct skd_cmc_body;

/*
 * skd_client_protect_response encodes b and signs it as a PKIResponse
 * (RFC 5275 3.2.1: SignedData, signingTime now) with id's key, certificate
 * and chain: the answers a member or GLO sends back (an acknowledgement,
 * 5.1 2.c; a denial, 3.2.4.1).  *out (*out_len) freed with OPENSSL_free.
 */
int skd_client_protect_response(unsigned char **out, size_t *out_len,
    struct skd_cmc_body *b, const struct skd_client_ident *id, time_t now);

/* Parses GeneralName text, setting err on failure. */
GENERAL_NAME *skd_client_gname(const char *text, const char *what,
    struct skd_client_error *err);

/* keys.c: skd_client_key_clear wipes and frees k's contents (not k);
 * skd_client_key_copy deep-copies src into dst (wiped on failure);
 * skd_client_kek_len is the KEK length of a glkAlgorithm (-1: none). */
void skd_client_key_clear(struct skd_client_key *k);
int skd_client_key_copy(struct skd_client_key *dst,
    const struct skd_client_key *src);
int skd_client_kek_len(int nid);

/* keystore.c: one when GL names a and b (GeneralName text) are the same
 * name (skd_gname_match; byte equality if either does not parse). */
int skd_client_same_gl(const char *a, const char *b);

#endif
