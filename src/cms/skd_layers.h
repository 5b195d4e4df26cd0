/*
 * skd_layers.h: walking the protection layers of an SKD/CMC message
 * (RFC 5275 3.2.1 and 3.2.2) down to every PKIData and PKIResponse.
 *
 *   SignedData(PKIData)                                  3.2.1.1
 *   EnvelopedData(SignedData(PKIData))                   3.2.1.2
 *   SignedData(EnvelopedData(SignedData(PKIData)))       3.2.1.2
 *   ... PKIData.cmsSequence { SignedData(PKIData), ... } 3.2.2
 *
 * Each layer's content is the layer inside it, bare (RFC 5652 5.2) or as a
 * complete DER ContentInfo, of the type the layer announces (see
 * skd_cms.h, skd_cms_nested_content_info).  The walk is depth-first; every
 * layer, including one that failed, is reported in order with its result.
 */
#ifndef SKD_LAYERS_H
#define SKD_LAYERS_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "asn1/skd_asn1.h"
#include "cms/skd_cms.h"

/* Nesting deeper than this is refused (a sane bound; RFC 5275 needs 6). */
#define SKD_LAYERS_MAX_DEPTH	12

enum skd_layer_type {
	SKD_LAYER_SIGNED = 1,		/* SignedData */
	SKD_LAYER_ENVELOPED,		/* EnvelopedData */
	SKD_LAYER_PKI_DATA,		/* PKIData (a request) */
	SKD_LAYER_PKI_RESPONSE,		/* PKIResponse */
	SKD_LAYER_OTHER			/* anything else; see error */
};

struct skd_layer {
	enum skd_layer_type	 type;
	int			 depth;		/* 0 is the outermost */
	int			 parent;	/* index of the enclosing layer, -1 */
	long			 body_part_id;	/* of the cmsSequence item this
						   layer starts, else -1 */
	/* SKD_LAYER_SIGNED: the verified signature (NULL if it failed). */
	struct skd_cms_verified	*verified;
	/* SKD_LAYER_ENVELOPED: one line per recipient; whether we opened it
	 * and the content type inside. */
	char			**recipients;
	size_t			 nrecipients;
	int			 opened;
	ASN1_OBJECT		*inner_type;
	/* SKD_LAYER_PKI_DATA / _PKI_RESPONSE: the strictly decoded body. */
	SKD_PKI_DATA		*pki_data;
	SKD_PKI_RESPONSE	*pki_response;
	/* Why this layer failed, or "" when it did not. */
	char			 error[200];
};

struct skd_layers {
	struct skd_layer	*v;
	size_t			 n;
};

/* How to walk: all borrowed, all optional. */
struct skd_layers_opts {
	X509_STORE		*trust;		/* NULL: signatures only */
	time_t			 now;		/* for path validation */
	const struct skd_cms_opener *opener;	/* to open EnvelopedData */
};

/*
 * skd_layers_walk walks der (a DER ContentInfo) and writes every layer to
 * *out (caller frees with skd_layers_free).  Returns one when every layer
 * was processed without error (paths that did not validate are not errors
 * here: see verified->path), zero when a layer failed (its error says why;
 * *out still holds the layers so far) or, with *out NULL, when memory ran
 * out.
 */
int skd_layers_walk(struct skd_layers **out, const unsigned char *der,
    size_t len, const struct skd_layers_opts *opts);

/* skd_layers_free frees l and everything it holds; NULL is fine. */
void skd_layers_free(struct skd_layers *l);

/* skd_layer_type_name returns "SignedData", "PKIData", ... (static). */
const char *skd_layer_type_name(enum skd_layer_type t);

#endif
