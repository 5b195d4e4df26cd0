/*
 * asn1_local.h: what the files of src/asn1 share and nobody else uses.
 */
#ifndef SKD_ASN1_LOCAL_H
#define SKD_ASN1_LOCAL_H

#include "asn1/skd_asn1.h"

/* print.c: prints ta's values decoded per the control table (used by the
 * TaggedAttribute print callback); returns one on success. */
int skd_asn1_print_control_values(BIO *out, const SKD_TAGGED_ATTRIBUTE *ta,
    int indent);

/* print.c: the print context skd uses (names in RFC 2253 form); static,
 * never freed by the caller; NULL on allocation failure. */
const ASN1_PCTX *skd_asn1_pctx(void);

#endif
