/*
 * parse.c: one RFC 5322 message in, the one CMS object it carries out.
 *
 * Hostile mail is bounded twice.  Before GMime sees the bytes: the size,
 * the top-level header section (no 8-bit byte, no NUL, no field longer
 * than max_header), and a cheap upper bound on entities and nesting (every
 * multipart child starts at a line beginning "--", every nested message
 * needs a Content-Type line), so that GMime's recursive parser never meets
 * ten thousand parts or levels.  After GMime parsed it: the exact part
 * count and nesting depth and every header of every entity.  The CMS body
 * is decoded here, strictly (base64 in whole quanta, RFC 4648 section 3.3
 * allows rejecting anything else), and must be one complete DER value:
 * GMime's own decoder accepts a truncated body silently.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <openssl/err.h>

#include "cms/skd_cms.h"
#include "mail/skd_mail.h"

static const struct {
	enum skd_mail_err	 e;
	const char		*s;
} mail_errs[] = {
	{ SKD_MAIL_OK, "ok" },
	{ SKD_MAIL_ERR_TOO_LARGE, "message too large" },
	{ SKD_MAIL_ERR_HEADER, "malformed header" },
	{ SKD_MAIL_ERR_TOO_MANY_PARTS, "too many MIME parts" },
	{ SKD_MAIL_ERR_TOO_DEEP, "MIME nesting too deep" },
	{ SKD_MAIL_ERR_NOT_MIME, "not a MIME message" },
	{ SKD_MAIL_ERR_NO_CMS, "no application/pkcs7-mime part" },
	{ SKD_MAIL_ERR_MANY_CMS, "more than one application/pkcs7-mime part" },
	{ SKD_MAIL_ERR_SMIME_TYPE, "unsupported smime-type" },
	{ SKD_MAIL_ERR_ENCODING, "bad transfer encoding" },
	{ SKD_MAIL_ERR_NOT_DER, "not a DER CMS object" },
	{ SKD_MAIL_ERR_FROM, "From does not name the signer" },
	{ SKD_MAIL_ERR_INTERNAL, "internal error" },
};

const char *
skd_mail_strerror(enum skd_mail_err e)
{
	size_t i;

	for (i = 0; i < sizeof(mail_errs) / sizeof(mail_errs[0]); i++) {
		if (mail_errs[i].e == e)
			return mail_errs[i].s;
	}
	return "unknown error";
}

static pthread_once_t mail_once = PTHREAD_ONCE_INIT;

static void
mail_init_once(void)
{
	g_mime_init();
}

int
skd_mail_init(void)
{
	return pthread_once(&mail_once, mail_init_once) == 0;
}

void
skd_mail_in_free(struct skd_mail_in *m)
{
	if (m == NULL)
		return;
	free(m->cms);
	free(m->message_id);
	free(m->from);
	free(m->return_path);
	free(m->in_reply_to);
	free(m->smime_type);
	free(m);
}

/* The parse in progress: limits, counts and the verdict. */
struct mparse {
	struct skd_mail_limits	 lim;
	size_t			 parts;
	enum skd_mail_err	 e;
	char			*err;
	size_t			 err_len;
};

static int
fail(struct mparse *p, enum skd_mail_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct mparse *p, enum skd_mail_err e, const char *fmt, ...)
{
	va_list ap;

	p->e = e;
	if (p->err != NULL && p->err_len > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(p->err, p->err_len, fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* ---- before GMime ------------------------------------------------------- */

/* Is line (at p, up to end) blank: CRLF or LF? */
static int
blank_line(const unsigned char *p, const unsigned char *end)
{
	return (p < end && *p == '\n') ||
	    (p + 1 < end && p[0] == '\r' && p[1] == '\n');
}

static const unsigned char *
line_end(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q = memchr(p, '\n', (size_t)(end - p));

	return q != NULL ? q + 1 : end;
}

/*
 * The top-level header section: RFC 5322 2.2 header fields are US-ASCII
 * (an 8-bit byte is refused rather than guessed at), no NUL anywhere, and
 * no field (with its folded lines) longer than max_header.
 */
static int
prescan_header(struct mparse *p, const unsigned char *msg, size_t len)
{
	const unsigned char *q = msg, *end = msg + len, *le, *c;
	size_t field = 0, total = 0;

	while (q < end && !blank_line(q, end)) {
		le = line_end(q, end);
		for (c = q; c < le; c++) {
			if (*c >= 0x80)
				return fail(p, SKD_MAIL_ERR_HEADER, "8-bit "
				    "byte in the header (RFC 5322 2.2 wants "
				    "US-ASCII)");
			if (*c == '\0')
				return fail(p, SKD_MAIL_ERR_HEADER, "NUL byte "
				    "in the header");
		}
		if (*q == ' ' || *q == '\t')
			field += (size_t)(le - q);
		else
			field = (size_t)(le - q);
		total += (size_t)(le - q);
		if (field > p->lim.max_header)
			return fail(p, SKD_MAIL_ERR_HEADER, "a header field "
			    "is longer than %zu bytes", p->lim.max_header);
		if (total > p->lim.max_header * 16)
			return fail(p, SKD_MAIL_ERR_HEADER, "the header "
			    "section is longer than %zu bytes",
			    p->lim.max_header * 16);
		q = le;
	}
	return 1;
}

/*
 * An upper bound on entities: every multipart child starts after a line
 * beginning "--", every nested message/rfc822 has a Content-Type line.
 * Base64 never starts a line with "--".  Generous (twice the part limit)
 * so that only the exact count after parsing decides borderline cases.
 */
static int
prescan_parts(struct mparse *p, const unsigned char *msg, size_t len)
{
	const unsigned char *q = msg, *end = msg + len;
	size_t dashes = 0, ctypes = 0, bound = p->lim.max_parts * 2 + 2;

	while (q < end) {
		if (end - q >= 2 && q[0] == '-' && q[1] == '-')
			dashes++;
		else if (end - q >= 13 && strncasecmp((const char *)q,
		    "content-type:", 13) == 0)
			ctypes++;
		if (dashes > bound || ctypes > bound)
			return fail(p, SKD_MAIL_ERR_TOO_MANY_PARTS, "more "
			    "than %zu MIME parts", p->lim.max_parts);
		q = line_end(q, end);
	}
	return 1;
}

/* ---- after GMime -------------------------------------------------------- */

static int
check_headers(struct mparse *p, GMimeObject *o)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	GMimeHeader *h;
	const char *v;
	int i, n;

	n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;
	if ((size_t)n > p->lim.max_header)
		return fail(p, SKD_MAIL_ERR_HEADER, "%d header fields", n);
	for (i = 0; i < n; i++) {
		h = g_mime_header_list_get_header_at(hl, i);
		v = h != NULL ? g_mime_header_get_raw_value(h) : NULL;
		if (v != NULL && strlen(v) > p->lim.max_header)
			return fail(p, SKD_MAIL_ERR_HEADER, "a header field "
			    "is longer than %zu bytes", p->lim.max_header);
	}
	return 1;
}

/* Counts entities and depth over the whole tree, checking every header. */
static int
walk(struct mparse *p, GMimeObject *o, size_t depth)
{
	GMimeMessage *inner;
	int i, n;

	if (o == NULL)
		return 1;
	if (++p->parts > p->lim.max_parts)
		return fail(p, SKD_MAIL_ERR_TOO_MANY_PARTS, "more than %zu "
		    "MIME parts", p->lim.max_parts);
	if (depth > p->lim.max_depth)
		return fail(p, SKD_MAIL_ERR_TOO_DEEP, "MIME nesting deeper "
		    "than %zu", p->lim.max_depth);
	if (!check_headers(p, o))
		return 0;
	if (GMIME_IS_MULTIPART(o)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
		for (i = 0; i < n; i++) {
			if (!walk(p, g_mime_multipart_get_part(
			    GMIME_MULTIPART(o), i), depth + 1))
				return 0;
		}
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		if (inner != NULL && !walk(p, g_mime_message_get_mime_part(
		    inner), depth + 1))
			return 0;
	}
	return 1;
}

/* Is o an S/MIME CMS entity as mail clients write them? */
static int
is_cms(GMimeObject *o)
{
	GMimeContentType *ct;
	const char *fn;
	size_t n;

	if (o == NULL || !GMIME_IS_PART(o))
		return 0;
	ct = g_mime_object_get_content_type(o);
	if (g_mime_content_type_is_type(ct, "application", "pkcs7-mime") ||
	    g_mime_content_type_is_type(ct, "application", "x-pkcs7-mime"))
		return 1;
	/* Some clients label the attachment by its name only. */
	if (g_mime_content_type_is_type(ct, "application", "octet-stream") &&
	    (fn = g_mime_part_get_filename(GMIME_PART(o))) != NULL &&
	    (n = strlen(fn)) > 4 && strcasecmp(fn + n - 4, ".p7m") == 0)
		return 1;
	return 0;
}

/* RFC 4648 base64, whitespace between characters only, in whole quanta,
 * padding only at the end.  Returns the decoded length or -1. */
static long
b64_strict(unsigned char *out, const unsigned char *in, size_t len,
    size_t *out_chars)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned long acc = 0;
	size_t i, chars = 0, o = 0, pad = 0;
	const char *c;

	for (i = 0; i < len; i++) {
		if (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' ||
		    in[i] == '\n')
			continue;
		if (in[i] == '=') {
			if (++pad > 2)
				return -1;
			chars++;
			acc <<= 6;
		} else {
			if (pad > 0 || in[i] == '\0' ||
			    (c = strchr(alpha, in[i])) == NULL)
				return -1;
			acc = (acc << 6) | (unsigned long)(c - alpha);
			chars++;
		}
		if (chars % 4 == 0) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	*out_chars = chars;
	if (chars % 4 != 0 || (pad > 0 && chars % 4 != 0))
		return -1;
	return (long)(o - pad);
}

static int
take_body(struct mparse *p, struct skd_mail_in *m, GMimePart *part)
{
	GMimeDataWrapper *dw;
	GMimeStream *src, *mem = NULL;
	GByteArray *raw;
	const char *st;
	size_t chars = 0;
	long n;
	int ok = 0;

	st = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
	    "smime-type");
	if (st != NULL) {
		/* RFC 5273 3: CMC-request / CMC-response; what a mail client
		 * writes around our messages passes too. */
		if (strcasecmp(st, "CMC-request") != 0 &&
		    strcasecmp(st, "CMC-response") != 0 &&
		    strcasecmp(st, "signed-data") != 0 &&
		    strcasecmp(st, "enveloped-data") != 0)
			return fail(p, SKD_MAIL_ERR_SMIME_TYPE, "smime-type "
			    "\"%.40s\" is not CMC-request, CMC-response, "
			    "signed-data or enveloped-data", st);
		if ((m->smime_type = strdup(st)) == NULL)
			return fail(p, SKD_MAIL_ERR_INTERNAL, "out of memory");
	}
	if (g_mime_part_get_content_encoding(part) !=
	    GMIME_CONTENT_ENCODING_BASE64)
		return fail(p, SKD_MAIL_ERR_ENCODING, "the CMS part is not "
		    "base64 (Content-Transfer-Encoding)");
	if ((dw = g_mime_part_get_content(part)) == NULL ||
	    (src = g_mime_data_wrapper_get_stream(dw)) == NULL)
		return fail(p, SKD_MAIL_ERR_NO_CMS, "the CMS part is empty");
	if ((mem = g_mime_stream_mem_new()) == NULL)
		return fail(p, SKD_MAIL_ERR_INTERNAL, "out of memory");
	(void)g_mime_stream_reset(src);
	if (g_mime_stream_write_to_stream(src, mem) < 0) {
		fail(p, SKD_MAIL_ERR_INTERNAL, "cannot read the CMS part");
		goto done;
	}
	raw = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	if ((m->cms = malloc(raw->len / 4 * 3 + 3)) == NULL) {
		fail(p, SKD_MAIL_ERR_INTERNAL, "out of memory");
		goto done;
	}
	if ((n = b64_strict(m->cms, raw->data, raw->len, &chars)) < 0) {
		fail(p, SKD_MAIL_ERR_ENCODING, "the CMS part is not valid "
		    "base64 in whole 4-character groups (truncated?)");
		goto done;
	}
	if (n == 0) {
		fail(p, SKD_MAIL_ERR_NO_CMS, "the CMS part is empty");
		goto done;
	}
	m->cms_len = (size_t)n;
	if (!skd_cms_der_check(m->cms, m->cms_len)) {
		ERR_clear_error();
		fail(p, SKD_MAIL_ERR_NOT_DER, "the CMS part is not one complete "
		    "DER value (%zu bytes; truncated?)", m->cms_len);
		goto done;
	}
	ok = 1;
 done:
	if (mem != NULL)
		g_object_unref(mem);
	return ok;
}

char *
skd_mail_addr_spec(const char *text)
{
	InternetAddressList *l = NULL;
	InternetAddress *a;
	const char *addr;
	const unsigned char *c;
	char *r = NULL;

	if (text == NULL || !skd_mail_init())
		return NULL;
	if ((l = internet_address_list_parse(NULL, text)) == NULL)
		return NULL;
	if (internet_address_list_length(l) != 1 ||
	    (a = internet_address_list_get_address(l, 0)) == NULL ||
	    !INTERNET_ADDRESS_IS_MAILBOX(a) ||
	    (addr = internet_address_mailbox_get_addr(
	    INTERNET_ADDRESS_MAILBOX(a))) == NULL)
		goto done;
	/* A plain addr-spec: it goes into RCPT TO and sendmail's argv. */
	if (*addr == '-' || strlen(addr) > 254 || strchr(addr, '@') == NULL)
		goto done;
	for (c = (const unsigned char *)addr; *c != '\0'; c++) {
		if (*c <= ' ' || *c >= 0x7f || *c == '<' || *c == '>' ||
		    *c == ',' || *c == ';' || *c == '"' || *c == '\\')
			goto done;
	}
	r = strdup(addr);
 done:
	g_object_unref(l);
	return r;
}

/* Strips one pair of angle brackets and surrounding space. */
static char *
msgid_dup(const char *v)
{
	size_t n;

	if (v == NULL)
		return NULL;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v == '<')
		v++;
	n = strcspn(v, "> \t\r\n");
	if (n == 0 || n > 250)
		return NULL;
	return strndup(v, n);
}

static int
take_envelope(struct mparse *p, struct skd_mail_in *m, GMimeMessage *msg)
{
	InternetAddressList *from;
	InternetAddress *a;
	const char *v;

	if ((v = g_mime_message_get_message_id(msg)) != NULL &&
	    (m->message_id = msgid_dup(v)) == NULL)
		return fail(p, SKD_MAIL_ERR_HEADER, "malformed Message-ID");
	if ((from = g_mime_message_get_from(msg)) != NULL &&
	    internet_address_list_length(from) >= 1 &&
	    (a = internet_address_list_get_address(from, 0)) != NULL &&
	    INTERNET_ADDRESS_IS_MAILBOX(a) &&
	    (v = internet_address_mailbox_get_addr(
	    INTERNET_ADDRESS_MAILBOX(a))) != NULL && *v != '\0') {
		if ((m->from = skd_mail_addr_spec(v)) == NULL)
			return fail(p, SKD_MAIL_ERR_HEADER, "malformed From "
			    "address");
	}
	if ((v = g_mime_object_get_header(GMIME_OBJECT(msg),
	    "Return-Path")) != NULL) {
		if (strstr(v, "<>") != NULL)
			m->return_path = strdup("");
		else
			m->return_path = skd_mail_addr_spec(v);
		if (m->return_path == NULL)
			return fail(p, SKD_MAIL_ERR_HEADER, "malformed "
			    "Return-Path");
	}
	if ((v = g_mime_object_get_header(GMIME_OBJECT(msg),
	    "In-Reply-To")) != NULL)
		m->in_reply_to = msgid_dup(v);
	return 1;
}

int
skd_mail_parse(struct skd_mail_in **out, enum skd_mail_err *out_err,
    char *err, size_t err_len, const unsigned char *msg, size_t len,
    const struct skd_mail_limits *lim)
{
	struct mparse p;
	struct skd_mail_in *m = NULL;
	GMimeStream *st = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *gm = NULL;
	GMimeObject *top, *cms = NULL, *child;
	int i, n, found = 0, ok = 0;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.err = err;
	p.err_len = err_len;
	if (lim != NULL)
		p.lim = *lim;
	if (p.lim.max_size == 0)
		p.lim.max_size = SKD_MAIL_DEFAULT_MAX_SIZE;
	if (p.lim.max_parts == 0)
		p.lim.max_parts = SKD_MAIL_DEFAULT_MAX_PARTS;
	if (p.lim.max_depth == 0)
		p.lim.max_depth = SKD_MAIL_DEFAULT_MAX_DEPTH;
	if (p.lim.max_header == 0)
		p.lim.max_header = SKD_MAIL_DEFAULT_MAX_HEADER;
	if (len > p.lim.max_size) {
		fail(&p, SKD_MAIL_ERR_TOO_LARGE, "the message is %zu bytes, "
		    "over the limit of %zu", len, p.lim.max_size);
		goto done;
	}
	if (!prescan_header(&p, msg, len) || !prescan_parts(&p, msg, len))
		goto done;
	if (!skd_mail_init()) {
		fail(&p, SKD_MAIL_ERR_INTERNAL, "cannot initialise GMime");
		goto done;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		fail(&p, SKD_MAIL_ERR_INTERNAL, "out of memory");
		goto done;
	}
	st = g_mime_stream_mem_new_with_buffer((const char *)msg, len);
	parser = g_mime_parser_new_with_stream(st);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	if ((gm = g_mime_parser_construct_message(parser, NULL)) == NULL) {
		fail(&p, SKD_MAIL_ERR_NOT_MIME, "not an RFC 5322 message");
		goto done;
	}
	if (!check_headers(&p, GMIME_OBJECT(gm)))
		goto done;
	top = g_mime_message_get_mime_part(gm);
	if (!walk(&p, top, 0) || !take_envelope(&p, m, gm))
		goto done;
	if (is_cms(top)) {
		cms = top;
	} else if (top != NULL && GMIME_IS_MULTIPART(top) &&
	    g_mime_content_type_is_type(g_mime_object_get_content_type(top),
	    "multipart", "mixed")) {
		/* The one S/MIME attachment of a multipart/mixed. */
		n = g_mime_multipart_get_count(GMIME_MULTIPART(top));
		for (i = 0; i < n; i++) {
			child = g_mime_multipart_get_part(GMIME_MULTIPART(top),
			    i);
			if (is_cms(child)) {
				found++;
				cms = child;
			}
		}
		if (found > 1) {
			fail(&p, SKD_MAIL_ERR_MANY_CMS, "%d application/"
			    "pkcs7-mime parts; one request per message", found);
			goto done;
		}
	}
	if (cms == NULL) {
		fail(&p, SKD_MAIL_ERR_NO_CMS, "no application/pkcs7-mime "
		    "entity at the top or as the attachment of a "
		    "multipart/mixed");
		goto done;
	}
	if (!take_body(&p, m, GMIME_PART(cms)))
		goto done;
	*out = m;
	m = NULL;
	ok = 1;
 done:
	if (gm != NULL)
		g_object_unref(gm);
	if (parser != NULL)
		g_object_unref(parser);
	if (st != NULL)
		g_object_unref(st);
	skd_mail_in_free(m);
	if (out_err != NULL)
		*out_err = ok ? SKD_MAIL_OK : p.e;
	return ok;
}
