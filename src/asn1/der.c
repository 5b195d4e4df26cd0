/*
 * der.c: strict DER for untrusted input (X.690 section 10 and 11).
 *
 * OpenSSL's template decoder accepts BER (indefinite lengths, non-minimal
 * lengths, encoded DEFAULTs, unsorted SET OFs).  skd refuses all of these on
 * input so that a signed message has exactly one encoding: first a TLV walk
 * with ASN1_get_object checks the structural rules, then the template
 * decoder runs, then the value is re-encoded and compared byte for byte.
 */
#include <limits.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>

#include "asn1/skd_asn1.h"

static const char *const der_errs[] = {
	[SKD_DER_OK] = "ok",
	[SKD_DER_EMPTY] = "empty input",
	[SKD_DER_TRUNCATED] = "truncated",
	[SKD_DER_TRAILING] = "trailing bytes",
	[SKD_DER_INDEFINITE] = "indefinite length",
	[SKD_DER_LENGTH] = "non-minimal length",
	[SKD_DER_TAG_FORM] = "non-minimal tag",
	[SKD_DER_DEPTH] = "nesting too deep",
	[SKD_DER_COUNT] = "too many elements",
	[SKD_DER_CONSTRUCTED] = "constructed encoding of a primitive type",
	[SKD_DER_PRIMITIVE] = "primitive encoding of SEQUENCE or SET",
	[SKD_DER_EOC] = "end-of-contents octets",
	[SKD_DER_BOOLEAN] = "BOOLEAN not 00 or FF",
	[SKD_DER_INTEGER] = "INTEGER not minimally encoded",
	[SKD_DER_TIME] = "time not in DER form",
	[SKD_DER_WRONG_TAG] = "wrong tag",
	[SKD_DER_BAD_VALUE] = "does not decode as the expected type",
	[SKD_DER_DEFAULT] = "DEFAULT value encoded (re-encoding shorter)",
	[SKD_DER_NOT_CANONICAL] = "not DER (re-encoding differs)",
	[SKD_DER_INTERNAL] = "internal error",
};

const char *
skd_der_strerror(enum skd_der_err e)
{
	if ((int)e < 0 || (size_t)e >= sizeof(der_errs) / sizeof(der_errs[0]))
		return "unknown error";
	return der_errs[e];
}

static int
all_digits(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return 1;
}

/* X.690 11.7: GeneralizedTime YYYYMMDDHHMMSS[.f+]Z, no trailing 0 in f. */
static int
gentime_ok(const unsigned char *s, size_t n)
{
	if (n < 15 || s[n - 1] != 'Z' || !all_digits(s, 14))
		return 0;
	if (n == 15)
		return 1;
	if (s[14] != '.' || n < 17 || !all_digits(s + 15, n - 16))
		return 0;
	return s[n - 2] != '0';
}

/* X.690 11.8: UTCTime YYMMDDHHMMSSZ. */
static int
utctime_ok(const unsigned char *s, size_t n)
{
	return n == 13 && s[12] == 'Z' && all_digits(s, 12);
}

/* Content checks for universal primitive types. */
static enum skd_der_err
check_primitive(int tag, const unsigned char *c, long n)
{
	switch (tag) {
	case V_ASN1_BOOLEAN:
		if (n != 1 || (c[0] != 0x00 && c[0] != 0xff))
			return SKD_DER_BOOLEAN;
		break;
	case V_ASN1_INTEGER:
	case V_ASN1_ENUMERATED:
		if (n < 1)
			return SKD_DER_INTEGER;
		if (n > 1 && ((c[0] == 0x00 && !(c[1] & 0x80)) ||
		    (c[0] == 0xff && (c[1] & 0x80))))
			return SKD_DER_INTEGER;
		break;
	case V_ASN1_GENERALIZEDTIME:
		if (!gentime_ok(c, (size_t)n))
			return SKD_DER_TIME;
		break;
	case V_ASN1_UTCTIME:
		if (!utctime_ok(c, (size_t)n))
			return SKD_DER_TIME;
		break;
	default:
		break;
	}
	return SKD_DER_OK;
}

struct walk {
	size_t		 count;
	enum skd_der_err err;
};

static long der_contents(struct walk *w, const unsigned char *p, long len,
    int depth);

/*
 * der_element checks one TLV at p (at most len bytes); returns the bytes it
 * takes, or 0 with w->err set.
 */
static long
der_element(struct walk *w, const unsigned char *p, long len, int depth)
{
	const unsigned char *q = p;
	long taglen, clen, hl, want;
	int r, tag, cls, i;

	if (depth > SKD_DER_MAX_DEPTH) {
		w->err = SKD_DER_DEPTH;
		return 0;
	}
	if (++w->count > SKD_DER_MAX_ELEMENTS) {
		w->err = SKD_DER_COUNT;
		return 0;
	}
	/* The tag octets: high-tag-number form only for tags >= 31, with no
	 * leading 0x80 octet (X.690 8.1.2.4.2 c). */
	taglen = 1;
	if ((p[0] & 0x1f) == 0x1f) {
		if (len < 2) {
			w->err = SKD_DER_TRUNCATED;
			return 0;
		}
		if (p[1] == 0x80) {
			w->err = SKD_DER_TAG_FORM;
			return 0;
		}
		while (taglen < len && (p[taglen] & 0x80))
			taglen++;
		taglen++;
	}
	if (taglen >= len) {
		w->err = SKD_DER_TRUNCATED;
		return 0;
	}
	if (p[taglen] == 0x80) {
		w->err = SKD_DER_INDEFINITE;	/* X.690 10.1 */
		return 0;
	}
	r = ASN1_get_object(&q, &clen, &tag, &cls, len);
	if (r & 0x80) {
		w->err = SKD_DER_TRUNCATED;
		return 0;
	}
	if (taglen > 1 && tag < 31) {
		w->err = SKD_DER_TAG_FORM;
		return 0;
	}
	/* X.690 10.1: the definite form with the fewest length octets. */
	hl = (long)(q - p);
	want = 1;
	if (clen >= 0x80) {
		for (i = 0; (clen >> (8 * i)) != 0 && i < (int)sizeof(long); i++)
			continue;
		want = 1 + i;
	}
	if (hl - taglen != want) {
		w->err = SKD_DER_LENGTH;
		return 0;
	}
	if (cls == V_ASN1_UNIVERSAL) {
		if (tag == V_ASN1_EOC) {
			w->err = SKD_DER_EOC;
			return 0;
		}
		if ((r & V_ASN1_CONSTRUCTED) && tag != V_ASN1_SEQUENCE &&
		    tag != V_ASN1_SET && tag != V_ASN1_EXTERNAL &&
		    tag != 11 && tag != 29) {
			/* X.690 10.2: strings are primitive in DER. */
			w->err = SKD_DER_CONSTRUCTED;
			return 0;
		}
		if (!(r & V_ASN1_CONSTRUCTED) &&
		    (tag == V_ASN1_SEQUENCE || tag == V_ASN1_SET)) {
			w->err = SKD_DER_PRIMITIVE;
			return 0;
		}
		if (!(r & V_ASN1_CONSTRUCTED) &&
		    (w->err = check_primitive(tag, q, clen)) != SKD_DER_OK)
			return 0;
	}
	if ((r & V_ASN1_CONSTRUCTED) &&
	    der_contents(w, q, clen, depth + 1) != clen)
		return 0;
	return hl + clen;
}

/* der_contents checks every TLV in p[0..len); returns len or -1. */
static long
der_contents(struct walk *w, const unsigned char *p, long len, int depth)
{
	long off = 0, n;

	while (off < len) {
		if ((n = der_element(w, p + off, len - off, depth)) <= 0)
			return -1;
		off += n;
	}
	return len;
}

int
skd_der_check_structure_ex(const unsigned char *der, size_t len,
    enum skd_der_err *out_err)
{
	struct walk w = { 0, SKD_DER_OK };
	long n;

	if (der == NULL || len == 0) {
		w.err = SKD_DER_EMPTY;
		goto done;
	}
	if (len > LONG_MAX) {
		w.err = SKD_DER_COUNT;
		goto done;
	}
	/* ASN1_get_object raises errors on bad headers; they are ours to
	 * report, not the caller's. */
	ERR_set_mark();
	n = der_element(&w, der, (long)len, 1);
	ERR_pop_to_mark();
	if (n > 0 && (size_t)n != len)
		w.err = SKD_DER_TRAILING;

 done:
	if (out_err != NULL)
		*out_err = w.err;
	return w.err == SKD_DER_OK;
}

int
skd_der_check_structure(const unsigned char *der, size_t len)
{
	return skd_der_check_structure_ex(der, len, NULL);
}

/* The universal tag a value of type it starts with, or -1 if it varies. */
static int
item_tag(const ASN1_ITEM *it)
{
	switch (it->itype) {
	case ASN1_ITYPE_SEQUENCE:
	case ASN1_ITYPE_NDEF_SEQUENCE:
		return V_ASN1_SEQUENCE;
	case ASN1_ITYPE_PRIMITIVE:
	case ASN1_ITYPE_MSTRING:
		if (it->templates != NULL || it->utype < 0 ||
		    it->utype == V_ASN1_ANY || it->itype == ASN1_ITYPE_MSTRING)
			return -1;
		return (int)it->utype;
	default:
		return -1;
	}
}

void *
skd_der_decode_ex(const ASN1_ITEM *it, const unsigned char *der, size_t len,
    enum skd_der_err *out_err)
{
	enum skd_der_err e = SKD_DER_OK;
	ASN1_VALUE *val = NULL;
	unsigned char *re = NULL;
	const unsigned char *p;
	unsigned long code;
	int n, want, clean;

	clean = ERR_peek_error() == 0;
	ERR_set_mark();
	if (!skd_der_check_structure_ex(der, len, &e))
		goto err;
	p = der;
	if ((val = ASN1_item_d2i_ex(NULL, &p, (long)len, it,
	    skd_thread_libctx(), NULL)) == NULL) {
		e = SKD_DER_BAD_VALUE;
		want = item_tag(it);
		if (want >= 0 && der[0] != (unsigned char)(want |
		    (want == V_ASN1_SEQUENCE || want == V_ASN1_SET ?
		    V_ASN1_CONSTRUCTED : 0)))
			e = SKD_DER_WRONG_TAG;
		/*
		 * With a clean queue on entry every queued error is the decoder's
		 * and can be read (and consumed) oldest first: a nested wrong tag
		 * is the first of them.  Otherwise leave the caller's errors.
		 */
		if (clean) {
			while ((code = ERR_get_error()) != 0) {
				if (ERR_GET_LIB(code) == ERR_LIB_ASN1 &&
				    ERR_GET_REASON(code) == ASN1_R_WRONG_TAG)
					e = SKD_DER_WRONG_TAG;
			}
		}
		goto err;
	}
	if (p != der + len) {
		e = SKD_DER_TRAILING;
		goto err;
	}
	if ((n = ASN1_item_i2d(val, &re, it)) <= 0) {
		e = SKD_DER_BAD_VALUE;
		goto err;
	}
	if ((size_t)n != len || memcmp(re, der, len) != 0) {
		e = (size_t)n < len ? SKD_DER_DEFAULT : SKD_DER_NOT_CANONICAL;
		goto err;
	}
	OPENSSL_free(re);
	ERR_pop_to_mark();
	if (out_err != NULL)
		*out_err = SKD_DER_OK;
	return val;

 err:
	OPENSSL_free(re);
	ASN1_item_free(val, it);
	ERR_pop_to_mark();
	if (out_err != NULL)
		*out_err = e;
	return NULL;
}

void *
skd_der_decode(const ASN1_ITEM *it, const unsigned char *der, size_t len)
{
	return skd_der_decode_ex(it, der, len, NULL);
}

int
skd_der_encode(const ASN1_ITEM *it, const void *val, unsigned char **out,
    size_t *out_len)
{
	unsigned char *buf = NULL;
	int n;

	if ((n = ASN1_item_i2d((const ASN1_VALUE *)val, &buf, it)) <= 0)
		return 0;
	*out = buf;
	*out_len = (size_t)n;
	return 1;
}
