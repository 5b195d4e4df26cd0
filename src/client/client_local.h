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

/* Parses GeneralName text, setting err on failure. */
GENERAL_NAME *skd_client_gname(const char *text, const char *what,
    struct skd_client_error *err);

#endif
