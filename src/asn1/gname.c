/*
 * gname.c: GeneralName (RFC 5280 4.2.1.6) as text with a type prefix, the
 * form the directory stores ("email:", "DNS:", "URI:", "dirName:", "IP:"),
 * and name matching under RFC 5280's rules:
 *   rfc822Name  local part exact, domain case-insensitive (4.2.1.6)
 *   dNSName     case-insensitive (7.2)
 *   URI         scheme and host case-insensitive, the rest exact (7.3)
 *   dirName     X509_NAME_cmp on OpenSSL's canonical form (7.1)
 *   iPAddress   byte-exact
 * dirName text is an RFC 4514 string, most significant RDN last, parsed by
 * the small parser below and printed with X509_NAME_print_ex in RFC 2253
 * form (UTF-8 kept as is), so print(parse(x)) is stable.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "asn1/skd_asn1.h"

/* RFC 2253 printing without escaping UTF-8 octets. */
#define DN_PRINT_FLAGS	(XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)

/* Printable ASCII without space: what email/DNS/URI text may hold. */
static int
text_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	}
	return 1;
}

static int
email_ok(const char *s, size_t n)
{
	const char *at;

	if (!text_ok(s, n) || (at = memchr(s, '@', n)) == NULL)
		return 0;
	/* Exactly one '@', with a local part and a domain. */
	return at != s && at != s + n - 1 &&
	    memchr(at + 1, '@', n - (size_t)(at - s) - 1) == NULL;
}

static int
uri_scheme_len(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !isalpha((unsigned char)s[0]))
		return -1;
	for (i = 1; i < n; i++) {
		if (s[i] == ':')
			return (int)i;
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' &&
		    s[i] != '-' && s[i] != '.')
			return -1;
	}
	return -1;
}

/*
 * uri_canon returns a malloc'd copy of the URI with the scheme and the host
 * lowercased (RFC 3986 6.2.2.1), or NULL.
 */
static char *
uri_canon(const char *s, size_t n)
{
	char *c;
	size_t i, start, end;
	int sl;

	if (!text_ok(s, n) || (sl = uri_scheme_len(s, n)) < 0)
		return NULL;
	if ((c = OPENSSL_strndup(s, n)) == NULL)
		return NULL;
	for (i = 0; i < (size_t)sl; i++)
		c[i] = (char)tolower((unsigned char)c[i]);
	start = (size_t)sl + 1;
	if (n - start >= 2 && c[start] == '/' && c[start + 1] == '/') {
		start += 2;
		for (end = start; end < n && c[end] != '/' && c[end] != '?' &&
		    c[end] != '#'; end++)
			continue;
		/* userinfo@ stays as is */
		for (i = end; i > start; i--) {
			if (c[i - 1] == '@') {
				start = i;
				break;
			}
		}
		for (i = start; i < end; i++)
			c[i] = (char)tolower((unsigned char)c[i]);
	}
	return c;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* RFC 4514 descriptors are case-insensitive; OpenSSL's names are not. */
static const char *const dn_types[] = {
	"CN", "C", "O", "OU", "L", "ST", "street", "DC", "UID",
	"emailAddress", "serialNumber", "title", "SN", "GN", "initials",
	"pseudonym", "generationQualifier", "dnQualifier", "postalCode",
	"name", "description", "businessCategory", "organizationIdentifier",
};

/* Longest attribute type accepted: X509_NAME_print_ex cuts an OID's text
 * at 79 characters, so a longer one would print as another name. */
#define DN_TYPE_MAX	64

/* RFC 4514 3 / RFC 4512 1.4: descr = ALPHA *(ALPHA / DIGIT / "-") */
static int
is_descr(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !isalpha((unsigned char)s[0]))
		return 0;
	for (i = 1; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	}
	return 1;
}

/* numericoid = number 1*( DOT number ); number = DIGIT / LDIGIT 1*DIGIT */
static int
is_numericoid(const char *s, size_t n)
{
	size_t i, start = 0, dots = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && isdigit((unsigned char)s[i]))
			continue;
		if (i < n && s[i] != '.')
			return 0;
		/* end of a number: not empty, no leading zero */
		if (i == start || (s[start] == '0' && i - start > 1))
			return 0;
		if (i < n)
			dots++;
		start = i + 1;
	}
	return dots > 0;
}

static ASN1_OBJECT *
dn_type(const char *type)
{
	size_t i, n = strlen(type);
	int nid;

	for (i = 0; i < sizeof(dn_types) / sizeof(dn_types[0]); i++) {
		if (strcasecmp(type, dn_types[i]) == 0)
			return OBJ_txt2obj(dn_types[i], 0);
	}
	/*
	 * Otherwise a known long or short name, or a numericoid in its
	 * canonical form, so that OBJ_txt2obj's own leniency never decides
	 * what a name means and the printed type parses back to itself.
	 */
	if (n == 0 || n > DN_TYPE_MAX)
		return NULL;
	if (is_descr(type, n)) {
		if ((nid = OBJ_sn2nid(type)) == NID_undef &&
		    (nid = OBJ_ln2nid(type)) == NID_undef)
			return NULL;
		return OBJ_dup(OBJ_nid2obj(nid));
	}
	if (is_numericoid(type, n))
		return OBJ_txt2obj(type, 1);
	return NULL;
}

/*
 * hex_value_ok: the string types a hexstring value (RFC 4514 2.4) may
 * carry, with contents valid for the type, so that the value prints as
 * text that parses back to the same name (found by fuzz_gname: an
 * IA5String holding a byte above 0x7f printed as another name).
 */
static int
hex_value_ok(const ASN1_TYPE *at)
{
	const unsigned char *p = ASN1_STRING_get0_data(at->value.asn1_string);
	int n = ASN1_STRING_length(at->value.asn1_string), i, r;
	unsigned long c;

	switch (at->type) {
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_IA5STRING:
		for (i = 0; i < n; i++) {
			if (p[i] == 0 || p[i] > 0x7f)
				return 0;
		}
		return 1;
	case V_ASN1_UTF8STRING:
		for (i = 0; i < n; i += r) {
			if ((r = UTF8_getc(p + i, n - i, &c)) <= 0 || c == 0)
				return 0;
		}
		return 1;
	default:
		return 0;
	}
}

/*
 * text_form_ok: X509_NAME_print_ex prints the value of a known attribute
 * type as text, which dn_add_ava reads back through the type's string
 * table (ASN1_STRING_set_by_NID): a hexstring value must be one that
 * table takes, or the printed name does not parse (fuzz_gname-7:
 * "C=#16020b0b", an IA5String of control characters, which countryName's
 * PrintableString refuses).  Unknown types print as hexstrings again.
 */
static int
text_form_ok(const ASN1_OBJECT *obj, const ASN1_TYPE *at)
{
	X509_NAME *probe;
	int ok;

	if (OBJ_obj2nid(obj) == NID_undef)
		return 1;
	if ((probe = X509_NAME_new()) == NULL)
		return 0;
	ok = X509_NAME_add_entry_by_OBJ(probe, obj, MBSTRING_UTF8,
	    ASN1_STRING_get0_data(at->value.asn1_string),
	    ASN1_STRING_length(at->value.asn1_string), -1, 0);
	X509_NAME_free(probe);
	ERR_clear_error();
	return ok;
}

/*
 * dn_add_ava adds "type=value" (value still escaped, s[0..n)) to name as a
 * new RDN (set 0) or joined to the last one (set -1).  RFC 4514 3.
 */
static int
dn_add_ava(X509_NAME *name, const char *s, size_t n, int set)
{
	ASN1_OBJECT *obj = NULL;
	ASN1_TYPE *at = NULL;
	unsigned char *val = NULL;
	const unsigned char *p;
	char *type = NULL;
	const char *eq;
	size_t i, vlen = 0;
	int ok = 0, h1, h2;

	/* Tolerate spaces after a separator ("CN=a, O=b"). */
	while (n > 0 && *s == ' ') {
		s++;
		n--;
	}
	if ((eq = memchr(s, '=', n)) == NULL || eq == s)
		goto err;
	if ((type = OPENSSL_strndup(s, (size_t)(eq - s))) == NULL)
		goto err;
	/* Descriptor or numericoid (RFC 4514 3); OBJ_txt2obj takes both. */
	if ((obj = dn_type(type)) == NULL)
		goto err;
	n -= (size_t)(eq + 1 - s);
	s = eq + 1;
	if ((val = OPENSSL_malloc(n + 1)) == NULL)
		goto err;
	if (n > 0 && s[0] == '#') {
		/* hexstring: the BER encoding of the value (RFC 4514 2.4) */
		if (n < 3 || (n - 1) % 2 != 0)
			goto err;
		for (i = 1; i < n; i += 2) {
			if ((h1 = hexval(s[i])) < 0 || (h2 = hexval(s[i + 1])) < 0)
				goto err;
			val[vlen++] = (unsigned char)(h1 << 4 | h2);
		}
		p = val;
		if ((at = d2i_ASN1_TYPE(NULL, &p, (long)vlen)) == NULL ||
		    p != val + vlen || at->type == V_ASN1_BOOLEAN ||
		    at->type == V_ASN1_OBJECT || at->type == V_ASN1_NULL)
			goto err;
		/* An empty value has no text form the parser takes back. */
		if (ASN1_STRING_length(at->value.asn1_string) == 0 ||
		    !hex_value_ok(at) || !text_form_ok(obj, at))
			goto err;
		if (!X509_NAME_add_entry_by_OBJ(name, obj, at->type,
		    ASN1_STRING_get0_data(at->value.asn1_string),
		    ASN1_STRING_length(at->value.asn1_string), -1, set))
			goto err;
		ok = 1;
		goto err;
	}
	for (i = 0; i < n; i++) {
		if (s[i] != '\\') {
			/* RFC 4514 3: these must be escaped. */
			if (s[i] == '"' || s[i] == '+' || s[i] == ',' ||
			    s[i] == ';' || s[i] == '<' || s[i] == '>' ||
			    s[i] == '\0')
				goto err;
			val[vlen++] = (unsigned char)s[i];
			continue;
		}
		if (++i >= n)
			goto err;
		if (i + 1 < n && (h1 = hexval(s[i])) >= 0 &&
		    (h2 = hexval(s[i + 1])) >= 0) {
			val[vlen++] = (unsigned char)(h1 << 4 | h2);
			i++;
		} else if (strchr(" \"#+,;<=>\\", s[i]) != NULL) {
			val[vlen++] = (unsigned char)s[i];
		} else {
			goto err;
		}
	}
	/*
	 * Empty values, and a value that is a lone '#' (OpenSSL prints it
	 * unescaped, which RFC 4514 2.4 reads as a hexstring), have no text
	 * form that parses back to them: refused.
	 */
	if (vlen == 0 || (vlen == 1 && val[0] == '#'))
		goto err;
	/*
	 * A NUL written as "\00": the hexstring form refuses it (see
	 * hex_value_ok), and a numericoid type prints its value as a
	 * hexstring, so the printed name would not parse back (fuzz_gname-6).
	 */
	if (memchr(val, '\0', vlen) != NULL)
		goto err;
	if (!X509_NAME_add_entry_by_OBJ(name, obj, MBSTRING_UTF8, val,
	    (int)vlen, -1, set))
		goto err;
	ok = 1;

 err:
	ASN1_TYPE_free(at);
	OPENSSL_free(val);
	OPENSSL_free(type);
	ASN1_OBJECT_free(obj);
	return ok;
}

/* Length of s up to the first unescaped c (or n). */
static size_t
span_unescaped(const char *s, size_t n, const char *stops)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\') {
			i++;
			continue;
		}
		if (strchr(stops, s[i]) != NULL)
			return i;
	}
	return n;
}

/*
 * dn_parse parses an RFC 4514 string.  The text lists RDNs most specific
 * first, so they are added to the X509_NAME (DER order) from the end.
 */
static X509_NAME *
dn_parse(const char *s, size_t n)
{
	X509_NAME *name = NULL;
	size_t end, rdn_start, rdn_len, off, l, ava_start, ava_end;
	int set;

	if (n == 0 || (name = X509_NAME_new()) == NULL)
		goto err;
	end = n;
	for (;;) {
		/* Find the start of the last RDN in s[0..end). */
		rdn_start = 0;
		off = 0;
		while (off < end) {
			l = span_unescaped(s + off, end - off, ",");
			if (off + l == end)
				break;
			off += l + 1;
			rdn_start = off;
		}
		rdn_len = end - rdn_start;
		if (rdn_len == 0)
			goto err;
		/*
		 * Each AVA of a multi-valued RDN is joined with '+'.  They are
		 * added last first too: X509_NAME_print_ex with XN_FLAG_DN_REV
		 * reverses every entry, inside an RDN as well, so this keeps
		 * print(parse(x)) a fixed point.
		 */
		set = 0;
		ava_end = rdn_start + rdn_len;
		for (;;) {
			ava_start = rdn_start;
			off = rdn_start;
			while (off < ava_end) {
				l = span_unescaped(s + off, ava_end - off, "+");
				if (off + l == ava_end)
					break;
				off += l + 1;
				ava_start = off;
			}
			if (ava_end == ava_start ||
			    !dn_add_ava(name, s + ava_start, ava_end - ava_start, set))
				goto err;
			set = -1;
			if (ava_start == rdn_start)
				break;
			ava_end = ava_start - 1;
		}
		if (rdn_start == 0)
			break;
		end = rdn_start - 1;
		if (end == 0)
			goto err;
	}
	return name;

 err:
	X509_NAME_free(name);
	return NULL;
}

static char *
dn_print(const X509_NAME *name)
{
	BIO *b = NULL;
	char *out = NULL, *data;
	long n;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		goto err;
	if (X509_NAME_print_ex(b, name, 0, DN_PRINT_FLAGS) < 0)
		goto err;
	if ((n = BIO_get_mem_data(b, &data)) < 0)
		goto err;
	if (n == 0 || memchr(data, '\0', (size_t)n) != NULL)
		goto err;
	out = OPENSSL_strndup(data, (size_t)n);

 err:
	BIO_free(b);
	return out;
}

static GENERAL_NAME *
gname_ia5(int type, const char *s, size_t n)
{
	GENERAL_NAME *gn = NULL;
	ASN1_IA5STRING *ia5 = NULL;

	if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
	    !ASN1_STRING_set(ia5, s, (int)n))
		goto err;
	if ((gn = GENERAL_NAME_new()) == NULL)
		goto err;
	GENERAL_NAME_set0_value(gn, type, ia5);
	return gn;

 err:
	ASN1_IA5STRING_free(ia5);
	return NULL;
}

GENERAL_NAME *
skd_gname_from_text(const char *text)
{
	GENERAL_NAME *gn = NULL;
	ASN1_OCTET_STRING *ip = NULL;
	X509_NAME *dn = NULL;
	const char *v;
	size_t n;

	if (text == NULL)
		return NULL;
	if (strncasecmp(text, "email:", 6) == 0) {
		v = text + 6;
		if (!email_ok(v, strlen(v)))
			return NULL;
		return gname_ia5(GEN_EMAIL, v, strlen(v));
	}
	if (strncasecmp(text, "DNS:", 4) == 0) {
		v = text + 4;
		if (!text_ok(v, strlen(v)))
			return NULL;
		return gname_ia5(GEN_DNS, v, strlen(v));
	}
	if (strncasecmp(text, "URI:", 4) == 0) {
		v = text + 4;
		n = strlen(v);
		if (!text_ok(v, n) || uri_scheme_len(v, n) < 0)
			return NULL;
		return gname_ia5(GEN_URI, v, n);
	}
	if (strncasecmp(text, "IP:", 3) == 0) {
		ERR_set_mark();
		ip = a2i_IPADDRESS(text + 3);
		ERR_pop_to_mark();
		if (ip == NULL)
			return NULL;
		if ((gn = GENERAL_NAME_new()) == NULL) {
			ASN1_OCTET_STRING_free(ip);
			return NULL;
		}
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
		return gn;
	}
	if (strncasecmp(text, "dirName:", 8) == 0) {
		v = text + 8;
		ERR_set_mark();
		dn = dn_parse(v, strlen(v));
		ERR_pop_to_mark();
		if (dn == NULL)
			return NULL;
		if ((gn = GENERAL_NAME_new()) == NULL) {
			X509_NAME_free(dn);
			return NULL;
		}
		GENERAL_NAME_set0_value(gn, GEN_DIRNAME, dn);
		return gn;
	}
	return NULL;
}

/* ia5 returns the contents of an IA5String that holds no NUL, or NULL. */
static const char *
ia5(const ASN1_STRING *s, size_t *out_len)
{
	const char *d = (const char *)ASN1_STRING_get0_data(s);
	int n = ASN1_STRING_length(s);

	if (d == NULL || n <= 0 || memchr(d, '\0', (size_t)n) != NULL)
		return NULL;
	*out_len = (size_t)n;
	return d;
}

static char *
prefixed(const char *prefix, const char *s, size_t n)
{
	size_t pl = strlen(prefix);
	char *out;

	if ((out = OPENSSL_malloc(pl + n + 1)) == NULL)
		return NULL;
	memcpy(out, prefix, pl);
	memcpy(out + pl, s, n);
	out[pl + n] = '\0';
	return out;
}

char *
skd_gname_to_text(const GENERAL_NAME *gn)
{
	char buf[INET6_ADDRSTRLEN], *canon, *out = NULL;
	const unsigned char *ipd;
	const char *s;
	size_t n, i, at;
	int ipl;

	if (gn == NULL)
		return NULL;
	switch (gn->type) {
	case GEN_EMAIL:
		if ((s = ia5(gn->d.rfc822Name, &n)) == NULL)
			return NULL;
		if ((out = prefixed("email:", s, n)) == NULL)
			return NULL;
		/* lowercase the domain: after the last '@' */
		for (at = n; at > 0 && s[at - 1] != '@'; at--)
			continue;
		for (i = at; i < n; i++)
			out[6 + i] = (char)tolower((unsigned char)out[6 + i]);
		return out;
	case GEN_DNS:
		if ((s = ia5(gn->d.dNSName, &n)) == NULL)
			return NULL;
		if ((out = prefixed("DNS:", s, n)) == NULL)
			return NULL;
		for (i = 4; i < 4 + n; i++)
			out[i] = (char)tolower((unsigned char)out[i]);
		return out;
	case GEN_URI:
		if ((s = ia5(gn->d.uniformResourceIdentifier, &n)) == NULL)
			return NULL;
		if ((canon = uri_canon(s, n)) == NULL)
			return prefixed("URI:", s, n);
		out = prefixed("URI:", canon, strlen(canon));
		OPENSSL_free(canon);
		return out;
	case GEN_DIRNAME:
		if ((canon = dn_print(gn->d.directoryName)) == NULL)
			return NULL;
		out = prefixed("dirName:", canon, strlen(canon));
		OPENSSL_free(canon);
		return out;
	case GEN_IPADD:
		ipd = ASN1_STRING_get0_data(gn->d.iPAddress);
		ipl = ASN1_STRING_length(gn->d.iPAddress);
		if ((ipl != 4 && ipl != 16) || inet_ntop(ipl == 4 ? AF_INET :
		    AF_INET6, ipd, buf, sizeof(buf)) == NULL)
			return NULL;
		return prefixed("IP:", buf, strlen(buf));
	default:
		return NULL;
	}
}

/*
 * dn_fold returns a copy of name whose values are UTF-8, ASCII-lowercased,
 * trimmed and with inner white space runs collapsed to one space: the
 * folding X509_NAME_cmp applies (RFC 5280 7.1, a subset of RFC 4518), so
 * names that compare equal fold to the same value.  The copy is passed
 * through DER once so that the AVAs of multi-valued RDNs come out in DER
 * (sorted) order.
 */
static X509_NAME *
dn_fold(const X509_NAME *name)
{
	X509_NAME *out = NULL, *sorted = NULL;
	const X509_NAME_ENTRY *e;
	unsigned char *u8 = NULL, *der = NULL;
	const unsigned char *p;
	int i, j, k, l, prev_set = -1, space;

	if ((out = X509_NAME_new()) == NULL)
		goto err;
	for (i = 0; i < X509_NAME_entry_count(name); i++) {
		e = X509_NAME_get_entry(name, i);
		if ((l = ASN1_STRING_to_UTF8(&u8,
		    X509_NAME_ENTRY_get_data(e))) < 0)
			goto err;
		/* fold in place */
		for (j = 0, k = 0, space = 0; j < l; j++) {
			if (u8[j] == ' ' || (u8[j] >= '\t' && u8[j] <= '\r')) {
				space = k > 0;
				continue;
			}
			if (space)
				u8[k++] = ' ';
			space = 0;
			u8[k++] = (unsigned char)tolower(u8[j]);
		}
		if (!X509_NAME_add_entry_by_OBJ(out,
		    X509_NAME_ENTRY_get_object(e), MBSTRING_UTF8, u8, k, -1,
		    X509_NAME_ENTRY_set(e) == prev_set ? -1 : 0))
			goto err;
		prev_set = X509_NAME_ENTRY_set(e);
		OPENSSL_free(u8);
		u8 = NULL;
	}
	if ((l = i2d_X509_NAME(out, &der)) <= 0)
		goto err;
	p = der;
	sorted = d2i_X509_NAME(NULL, &p, l);

 err:
	OPENSSL_free(u8);
	OPENSSL_free(der);
	X509_NAME_free(out);
	return sorted;
}

char *
skd_gname_to_key(const GENERAL_NAME *gn)
{
	X509_NAME *folded;
	char *dn, *out;

	if (gn == NULL || gn->type != GEN_DIRNAME)
		return skd_gname_to_text(gn);
	ERR_set_mark();
	folded = dn_fold(gn->d.directoryName);
	ERR_pop_to_mark();
	if (folded == NULL)
		return NULL;
	dn = dn_print(folded);
	X509_NAME_free(folded);
	if (dn == NULL)
		return NULL;
	out = prefixed("dirName:", dn, strlen(dn));
	OPENSSL_free(dn);
	return out;
}

/* RFC 5280 4.2.1.6: local part exact, domain case-insensitive. */
static int
email_match(const char *a, size_t an, const char *b, size_t bn)
{
	size_t ai, bi;

	for (ai = an; ai > 0 && a[ai - 1] != '@'; ai--)
		continue;
	for (bi = bn; bi > 0 && b[bi - 1] != '@'; bi--)
		continue;
	if (ai == 0 || bi == 0 || ai != bi || an - ai != bn - bi)
		return 0;
	return memcmp(a, b, ai) == 0 &&
	    strncasecmp(a + ai, b + bi, an - ai) == 0;
}

static int
uri_match(const char *a, size_t an, const char *b, size_t bn)
{
	char *ca, *cb;
	int r = 0;

	ca = uri_canon(a, an);
	cb = uri_canon(b, bn);
	if (ca != NULL && cb != NULL)
		r = strcmp(ca, cb) == 0;
	else if (ca == NULL && cb == NULL)
		r = an == bn && memcmp(a, b, an) == 0;
	OPENSSL_free(ca);
	OPENSSL_free(cb);
	return r;
}

int
skd_gname_match(const GENERAL_NAME *a, const GENERAL_NAME *b)
{
	const char *as, *bs;
	size_t an, bn;
	int r;

	if (a == NULL || b == NULL || a->type != b->type)
		return 0;
	switch (a->type) {
	case GEN_EMAIL:
		if ((as = ia5(a->d.rfc822Name, &an)) == NULL ||
		    (bs = ia5(b->d.rfc822Name, &bn)) == NULL)
			return 0;
		return email_match(as, an, bs, bn);
	case GEN_DNS:
		if ((as = ia5(a->d.dNSName, &an)) == NULL ||
		    (bs = ia5(b->d.dNSName, &bn)) == NULL)
			return 0;
		return an == bn && strncasecmp(as, bs, an) == 0;
	case GEN_URI:
		if ((as = ia5(a->d.uniformResourceIdentifier, &an)) == NULL ||
		    (bs = ia5(b->d.uniformResourceIdentifier, &bn)) == NULL)
			return 0;
		return uri_match(as, an, bs, bn);
	case GEN_DIRNAME:
		ERR_set_mark();
		r = X509_NAME_cmp(a->d.directoryName, b->d.directoryName) == 0;
		ERR_pop_to_mark();
		return r;
	case GEN_IPADD:
		return ASN1_OCTET_STRING_cmp(a->d.iPAddress,
		    b->d.iPAddress) == 0;
	default:
		return GENERAL_NAME_cmp((GENERAL_NAME *)a,
		    (GENERAL_NAME *)b) == 0;
	}
}

int
skd_gname_match_cert(const GENERAL_NAME *gn, X509 *cert)
{
	GENERAL_NAMES *names = NULL;
	const X509_NAME *subj;
	const X509_NAME_ENTRY *ne;
	const ASN1_STRING *v;
	const char *s, *e;
	size_t sn, en;
	int i, found = 0;

	if (gn == NULL || cert == NULL)
		return 0;
	subj = X509_get_subject_name(cert);
	if (gn->type == GEN_DIRNAME) {
		ERR_set_mark();
		found = X509_NAME_entry_count(subj) > 0 &&
		    X509_NAME_cmp(gn->d.directoryName, subj) == 0;
		ERR_pop_to_mark();
		if (found)
			return 1;
	}
	if (gn->type == GEN_EMAIL && (e = ia5(gn->d.rfc822Name, &en)) != NULL) {
		/* RFC 5280 4.1.2.6: legacy emailAddress in the subject */
		i = -1;
		while ((i = X509_NAME_get_index_by_NID(subj,
		    NID_pkcs9_emailAddress, i)) >= 0) {
			ne = X509_NAME_get_entry(subj, i);
			v = X509_NAME_ENTRY_get_data(ne);
			if ((s = ia5(v, &sn)) != NULL &&
			    email_match(s, sn, e, en))
				return 1;
		}
	}
	ERR_set_mark();
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	ERR_pop_to_mark();
	for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		if (skd_gname_match(gn, sk_GENERAL_NAME_value(names, i))) {
			found = 1;
			break;
		}
	}
	GENERAL_NAMES_free(names);
	return found;
}

GENERAL_NAMES *
skd_gname_from_cert(X509 *cert)
{
	GENERAL_NAMES *out = NULL, *san = NULL;
	GENERAL_NAME *gn = NULL;
	X509_NAME *dn = NULL;
	const X509_NAME *subj;
	int i;

	if (cert == NULL || (out = sk_GENERAL_NAME_new_null()) == NULL)
		goto err;
	subj = X509_get_subject_name(cert);
	if (X509_NAME_entry_count(subj) > 0) {
		if ((dn = X509_NAME_dup(subj)) == NULL)
			goto err;
		if ((gn = GENERAL_NAME_new()) == NULL)
			goto err;
		GENERAL_NAME_set0_value(gn, GEN_DIRNAME, dn);
		dn = NULL;
		if (!sk_GENERAL_NAME_push(out, gn))
			goto err;
		gn = NULL;
	}
	ERR_set_mark();
	san = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	ERR_pop_to_mark();
	for (i = 0; i < sk_GENERAL_NAME_num(san); i++) {
		const GENERAL_NAME *s = sk_GENERAL_NAME_value(san, i);

		if (s->type != GEN_EMAIL && s->type != GEN_DIRNAME &&
		    s->type != GEN_URI && s->type != GEN_DNS &&
		    s->type != GEN_IPADD)
			continue;
		if ((gn = GENERAL_NAME_dup(s)) == NULL)
			goto err;
		if (!sk_GENERAL_NAME_push(out, gn))
			goto err;
		gn = NULL;
	}
	GENERAL_NAMES_free(san);
	return out;

 err:
	X509_NAME_free(dn);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(san);
	GENERAL_NAMES_free(out);
	return NULL;
}
