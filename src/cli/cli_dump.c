/*
 * cli_dump.c: skd dump: print any SKD/CMC message layer by layer.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "asn1/skd_asn1.h"
#include "cms/skd_cmc.h"
#include "cms/skd_cms.h"
#include "cms/skd_layers.h"
#include "cms/skd_recip.h"
#include "cli/cli.h"

static const char dump_usage[] =
    "usage: skd dump [--CAfile FILE] [--CRLfile FILE] [--cert FILE --key FILE]\n"
    "                [--time YYYYMMDDHHMMSSZ] [FILE|-]\n"
    "Prints an SKD/CMC message (DER or PEM) layer by layer.\n";

static void
print_time(BIO *out, time_t t)
{
	struct tm tm;
	char buf[32];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		BIO_printf(out, "(unrepresentable)");
	else
		BIO_printf(out, "%s", buf);
}

static void
print_oid(BIO *out, const ASN1_OBJECT *o)
{
	char txt[128];
	int nid = OBJ_obj2nid(o);

	OBJ_obj2txt(txt, sizeof(txt), o, 1);
	if (nid != NID_undef)
		BIO_printf(out, "%s (%s)", OBJ_nid2ln(nid), txt);
	else
		BIO_printf(out, "%s", txt);
}

static void
print_signer_names(BIO *out, X509 *cert, int ind)
{
	GENERAL_NAMES *gns = skd_gname_from_cert(cert);
	int i;

	for (i = 0; i < sk_GENERAL_NAME_num(gns); i++) {
		char *t = skd_gname_to_text(sk_GENERAL_NAME_value(gns, i));

		if (t != NULL)
			BIO_printf(out, "%*sname: %s\n", ind, "", t);
		OPENSSL_free(t);
	}
	GENERAL_NAMES_free(gns);
}

static void
print_signed(BIO *out, const struct skd_layer *l, int ind)
{
	const struct skd_cms_verified *v = l->verified;

	if (v == NULL)
		return;
	BIO_printf(out, "%*seContentType: ", ind, "");
	print_oid(out, v->econtent_type);
	BIO_printf(out, "\n%*ssigner: ", ind, "");
	X509_NAME_print_ex(out, X509_get_subject_name(v->signer), 0,
	    XN_FLAG_RFC2253);
	BIO_printf(out, "\n");
	print_signer_names(out, v->signer, ind + 2);
	BIO_printf(out, "%*ssigningTime: ", ind, "");
	print_time(out, v->signing_time);
	BIO_printf(out, "\n%*ssignature: verified\n", ind, "");
	BIO_printf(out, "%*scertificate path: ", ind, "");
	switch (v->path) {
	case SKD_CMS_PATH_UNCHECKED:
		BIO_printf(out, "not checked (no --CAfile)\n");
		break;
	case SKD_CMS_PATH_OK:
		BIO_printf(out, "valid\n");
		break;
	case SKD_CMS_PATH_INVALID:
		BIO_printf(out, "INVALID: %s (depth %d)\n",
		    v->path_error_string, v->path_error_depth);
		break;
	}
	if (v->hint_type != NULL) {
		BIO_printf(out, "%*scontentHints: ", ind, "");
		print_oid(out, v->hint_type);
		if (v->hint_description != NULL)
			BIO_printf(out, " \"%s\"", v->hint_description);
		BIO_printf(out, "\n");
	}
}

/* The recipients of each glKey's glkWrapped (RFC 5275 3.1.13), which the
 * generic printer shows only as raw DER. */
static void
print_glkey_recipients(BIO *out, const SKD_PKI_DATA *pd, int ind)
{
	static const char *const kinds[] = { "ktri", "kari", "kekri", "pwri",
	    "ori" };
	const SKD_TAGGED_ATTRIBUTE *ta;
	int idx;

	for (idx = 0; (ta = skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_GL_KEY, idx)) != NULL; idx++) {
		SKD_GL_KEY *k = skd_tagged_attribute_decode1(ta, 0,
		    ASN1_ITEM_rptr(SKD_GL_KEY));
		struct skd_ri_entry *list = NULL;
		unsigned char *der = NULL;
		size_t n = 0, i;
		int len;

		if (k == NULL)
			continue;
		len = i2d_ASN1_SET_ANY(k->glkWrapped, &der);
		if (len > 0 && skd_ri_list_recipients(&list, &n, der,
		    (size_t)len)) {
			BIO_printf(out, "%*sglKey (bodyPartID %ld) wrapped for "
			    "%zu recipient(s):\n", ind, "",
			    ASN1_INTEGER_get(ta->bodyPartID), n);
			for (i = 0; i < n; i++) {
				BIO_printf(out, "%*s%s ", ind + 2, "",
				    kinds[list[i].type]);
				if (list[i].issuer != NULL) {
					X509_NAME_print_ex(out, list[i].issuer,
					    0, XN_FLAG_RFC2253);
					BIO_printf(out, " serial ");
					i2a_ASN1_INTEGER(out, list[i].serial);
				} else {
					size_t j;

					for (j = 0; j < list[i].id_len; j++)
						BIO_printf(out, "%02X",
						    list[i].id[j]);
				}
				BIO_printf(out, "\n");
			}
		}
		skd_ri_free_list(list, n);
		OPENSSL_free(der);
		SKD_GL_KEY_free(k);
	}
	ERR_clear_error();
}

static void
print_layer(BIO *out, const struct skd_layer *l)
{
	int ind = l->depth * 2;
	size_t i;

	BIO_printf(out, "%*s%s", ind, "", skd_layer_type_name(l->type));
	if (l->body_part_id >= 0)
		BIO_printf(out, " (cmsSequence bodyPartID %ld)",
		    l->body_part_id);
	BIO_printf(out, "\n");
	ind += 2;
	switch (l->type) {
	case SKD_LAYER_SIGNED:
		print_signed(out, l, ind);
		break;
	case SKD_LAYER_ENVELOPED:
		for (i = 0; i < l->nrecipients; i++)
			BIO_printf(out, "%*srecipient: %s\n", ind, "",
			    l->recipients[i]);
		if (l->opened) {
			BIO_printf(out, "%*sopened; content type ", ind, "");
			print_oid(out, l->inner_type);
			BIO_printf(out, "\n");
		}
		break;
	case SKD_LAYER_PKI_DATA:
		if (l->pki_data != NULL) {
			skd_asn1_print(out, ASN1_ITEM_rptr(SKD_PKI_DATA),
			    l->pki_data, ind);
			print_glkey_recipients(out, l->pki_data, ind);
		}
		break;
	case SKD_LAYER_PKI_RESPONSE:
		if (l->pki_response != NULL)
			skd_asn1_print(out, ASN1_ITEM_rptr(SKD_PKI_RESPONSE),
			    l->pki_response, ind);
		break;
	case SKD_LAYER_OTHER:
		break;
	}
	if (l->error[0] != '\0')
		BIO_printf(out, "%*sERROR: %s\n", ind, "", l->error);
}

/* Bare bodies a user may hold: PKIData, PKIResponse, GLKey. */
static int
dump_bare(BIO *out, const unsigned char *der, size_t len)
{
	static const struct {
		const char	*name;
		const ASN1_ITEM	*(*item)(void);
	} bare[] = {
		{ "PKIData", SKD_PKI_DATA_it },
		{ "PKIResponse", SKD_PKI_RESPONSE_it },
		{ "GLKey", SKD_GL_KEY_it },
	};
	size_t i;

	for (i = 0; i < sizeof(bare) / sizeof(bare[0]); i++) {
		const ASN1_ITEM *it = bare[i].item();
		void *v = skd_der_decode(it, der, len);

		if (v == NULL)
			continue;
		BIO_printf(out, "%s\n", bare[i].name);
		skd_asn1_print(out, it, v, 2);
		if (it == ASN1_ITEM_rptr(SKD_PKI_DATA))
			print_glkey_recipients(out, v, 2);
		ASN1_item_free(v, it);
		return 1;
	}
	return 0;
}

static X509 *
load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (f == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static EVP_PKEY *
load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (f == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static int
parse_time(const char *s, time_t *out)
{
	ASN1_TIME *t = ASN1_TIME_new();
	struct tm tm;
	int ok = 0;

	if (t != NULL && ASN1_TIME_set_string_X509(t, s) &&
	    ASN1_TIME_to_tm(t, &tm)) {
		*out = timegm(&tm);
		ok = 1;
	}
	ASN1_TIME_free(t);
	return ok;
}

int
skd_cli_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "CAfile", required_argument, NULL, 'C' },
		{ "CRLfile", required_argument, NULL, 'R' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cafile = NULL, *crlfile = NULL, *certfile = NULL;
	const char *keyfile = NULL, *path;
	struct skd_cms_opener opener;
	struct skd_layers_opts lo;
	struct skd_layers *layers = NULL;
	unsigned char *der = NULL;
	size_t len = 0, i;
	enum skd_der_err de = SKD_DER_OK;
	BIO *out = NULL;
	int c, rc = SKD_EXIT_INTERNAL, walked;

	memset(&opener, 0, sizeof(opener));
	memset(&lo, 0, sizeof(lo));
	lo.now = time(NULL);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			cafile = optarg;
			break;
		case 'R':
			crlfile = optarg;
			break;
		case 'c':
			certfile = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 't':
			if (!parse_time(optarg, &lo.now)) {
				skd_cli_err("dump", "bad --time '%s' "
				    "(want YYYYMMDDHHMMSSZ)", optarg);
				return SKD_EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(dump_usage, stdout);
			return SKD_EXIT_OK;
		default:
			fputs(dump_usage, stderr);
			return SKD_EXIT_USAGE;
		}
	}
	if (argc - optind > 1 || (certfile == NULL) != (keyfile == NULL) ||
	    (crlfile != NULL && cafile == NULL)) {
		fputs(dump_usage, stderr);
		return SKD_EXIT_USAGE;
	}
	path = optind < argc ? argv[optind] : "-";
	if (!skd_asn1_init()) {
		skd_cli_err("dump", "cannot register the SKD OIDs");
		return SKD_EXIT_INTERNAL;
	}
	if (cafile != NULL &&
	    (lo.trust = skd_cms_store_new(cafile, crlfile)) == NULL) {
		skd_cli_err("dump", "cannot load trust anchors from %s%s%s",
		    cafile, crlfile != NULL ? " / CRLs from " : "",
		    crlfile != NULL ? crlfile : "");
		return SKD_EXIT_INPUT;
	}
	if (certfile != NULL) {
		if ((opener.cert = load_cert(certfile)) == NULL) {
			skd_cli_err("dump", "cannot read a certificate from %s",
			    certfile);
			rc = SKD_EXIT_INPUT;
			goto err;
		}
		if ((opener.key = load_key(keyfile)) == NULL) {
			skd_cli_err("dump", "cannot read a private key from %s",
			    keyfile);
			rc = SKD_EXIT_INPUT;
			goto err;
		}
		if (X509_check_private_key(opener.cert, opener.key) != 1) {
			skd_cli_err("dump", "%s is not the key of %s",
			    keyfile, certfile);
			rc = SKD_EXIT_INPUT;
			goto err;
		}
		lo.opener = &opener;
	}
	if ((der = skd_cli_read_message("dump", path, &len)) ==
	    NULL) {
		rc = SKD_EXIT_INPUT;
		goto err;
	}
	/* Strict DER on input, before any decoder sees it. */
	if (!skd_der_check_structure_ex(der, len, &de)) {
		skd_cli_err("dump", "%s: not DER: %s",
		    strcmp(path, "-") == 0 ? "standard input" : path,
		    skd_der_strerror(de));
		rc = SKD_EXIT_INPUT;
		goto err;
	}
	if ((out = BIO_new_fp(stdout, BIO_NOCLOSE)) == NULL)
		goto err;

	walked = skd_layers_walk(&layers, der, len, &lo);
	if (layers == NULL)
		goto err;
	if (layers->n == 1 && layers->v[0].type == SKD_LAYER_OTHER &&
	    dump_bare(out, der, len)) {
		rc = SKD_EXIT_OK;
		goto err;
	}
	if (layers->n == 1 && layers->v[0].type == SKD_LAYER_OTHER) {
		skd_cli_err("dump", "%s: not an SKD/CMC message: %s",
		    strcmp(path, "-") == 0 ? "standard input" : path,
		    layers->v[0].error);
		rc = SKD_EXIT_INPUT;
		goto err;
	}
	rc = SKD_EXIT_OK;
	for (i = 0; i < layers->n; i++) {
		const struct skd_layer *l = &layers->v[i];

		print_layer(out, l);
		if (l->verified != NULL &&
		    l->verified->path == SKD_CMS_PATH_INVALID)
			rc = SKD_EXIT_CRYPTO;
	}
	if (!walked)
		rc = SKD_EXIT_CRYPTO;
	ERR_clear_error();
 err:
	if (rc == SKD_EXIT_INTERNAL)
		skd_cli_err("dump", "internal error");
	BIO_free(out);
	skd_layers_free(layers);
	OPENSSL_free(der);
	X509_STORE_free(lo.trust);
	X509_free(opener.cert);
	EVP_PKEY_free(opener.key);
	return rc;
}
