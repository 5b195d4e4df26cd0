/*
 * asn1_local.h: what the files of src/asn1 share and nobody else uses.
 */
#ifndef SKD_ASN1_LOCAL_H
#define SKD_ASN1_LOCAL_H

#include "asn1/skd_asn1.h"

/*
 * print.c: prints ta with its values decoded per the control table (the
 * TaggedAttribute print callback).  Returns 2 when printed, 1 when ta's
 * type is not in the control table (print it generically), 0 on error.
 */
int skd_asn1_print_tagged_attribute(BIO *out, const SKD_TAGGED_ATTRIBUTE *ta,
    int indent);

/* print.c: the print context skd uses (names in RFC 2253 form); static,
 * never freed by the caller; NULL on allocation failure. */
const ASN1_PCTX *skd_asn1_pctx(void);

#endif
