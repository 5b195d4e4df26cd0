/*
 * build.c: a CMS object out as a complete RFC 5322 message, built with
 * GMime: application/pkcs7-mime with the RFC 5273 section 3 smime-type,
 * name=smime.p7m, base64, CRLF line ends (what SMTP carries).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mail/skd_mail.h"

static int
build_err(char *err, size_t err_len, const char *what)
{
	if (err != NULL && err_len > 0)
		(void)snprintf(err, err_len, "building the mail: %s", what);
	return 0;
}

/* Refuses header text that would break out of its field. */
static int
header_safe(const char *s)
{
	const unsigned char *c;

	if (s == NULL)
		return 1;
	for (c = (const unsigned char *)s; *c != '\0'; c++) {
		if (*c < ' ' || *c >= 0x7f)
			return 0;
	}
	return 1;
}

int
skd_mail_build(char **out, size_t *out_len, char *err, size_t err_len,
    const struct skd_mail_out *o, const unsigned char *der, size_t len)
{
	GMimeMessage *m = NULL;
	GMimePart *part = NULL;
	GMimeStream *st = NULL;
	GMimeDataWrapper *dw = NULL;
	GMimeFormatOptions *fo = NULL;
	GDateTime *dt = NULL;
	char *text = NULL, *mid = NULL;
	size_t i;
	int ok = 0;

	*out = NULL;
	*out_len = 0;
	if (o->from == NULL || o->n_to == 0 || o->message_id == NULL ||
	    o->smime_type == NULL)
		return build_err(err, err_len, "From, To, Message-ID and "
		    "smime-type are required");
	if (!header_safe(o->from) || !header_safe(o->subject) ||
	    !header_safe(o->message_id) || !header_safe(o->in_reply_to) ||
	    !header_safe(o->smime_type))
		return build_err(err, err_len, "control or 8-bit character "
		    "in a header");
	for (i = 0; i < o->n_to; i++) {
		if (!header_safe(o->to[i]))
			return build_err(err, err_len, "control or 8-bit "
			    "character in a recipient");
	}
	if (!skd_mail_init())
		return build_err(err, err_len, "cannot initialise GMime");
	m = g_mime_message_new(TRUE);
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, NULL, o->from);
	for (i = 0; i < o->n_to; i++)
		g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, NULL,
		    o->to[i]);
	g_mime_message_set_subject(m, o->subject != NULL ? o->subject :
	    "skd CMC message", NULL);
	g_mime_message_set_message_id(m, o->message_id);
	if (o->in_reply_to != NULL) {
		if ((mid = malloc(strlen(o->in_reply_to) + 3)) == NULL)
			goto oom;
		(void)sprintf(mid, "<%s>", o->in_reply_to);
		g_mime_object_set_header(GMIME_OBJECT(m), "In-Reply-To", mid,
		    NULL);
		g_mime_object_set_header(GMIME_OBJECT(m), "References", mid,
		    NULL);
	}
	if ((dt = g_date_time_new_from_unix_utc((gint64)o->date)) == NULL)
		goto oom;
	g_mime_message_set_date(m, dt);

	part = g_mime_part_new_with_type("application", "pkcs7-mime");
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part),
	    "smime-type", o->smime_type);
	/* Content-Disposition filename and Content-Type name. */
	g_mime_part_set_filename(part, "smime.p7m");
	st = g_mime_stream_mem_new_with_buffer((const char *)der, len);
	dw = g_mime_data_wrapper_new_with_stream(st,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, dw);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	g_mime_message_set_mime_part(m, GMIME_OBJECT(part));

	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo,
	    GMIME_NEWLINE_FORMAT_DOS);
	if ((text = g_mime_object_to_string(GMIME_OBJECT(m), fo)) == NULL)
		goto oom;
	if ((*out = strdup(text)) == NULL)
		goto oom;
	*out_len = strlen(text);
	ok = 1;
	goto done;
 oom:
	build_err(err, err_len, "out of memory");
 done:
	g_free(text);
	if (fo != NULL)
		g_mime_format_options_free(fo);
	if (dt != NULL)
		g_date_time_unref(dt);
	if (dw != NULL)
		g_object_unref(dw);
	if (st != NULL)
		g_object_unref(st);
	if (part != NULL)
		g_object_unref(part);
	if (m != NULL)
		g_object_unref(m);
	free(mid);
	return ok;
}
