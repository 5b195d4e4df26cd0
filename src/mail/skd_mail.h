/*
 * skd_mail.h: the mail transport (RFC 5275 section 7: "SMTP MUST be
 * supported").  CMS messages travel as application/pkcs7-mime entities
 * (RFC 5273 section 3, RFC 8551 3.2): base64, smime-type CMC-request for
 * PKIData (requests, glKey and other GLA-originated PKIData) and
 * CMC-response for PKIResponse, name=smime.p7m.
 *
 *   parse.c   one RFC 5322 message in, the one CMS object out, hostile
 *             input bounded (size, parts, nesting, header length, 8-bit
 *             headers) before and while GMime parses it
 *   build.c   a CMS object out as a complete RFC 5322 message (GMime)
 *   signer.c  whether the From address is the outer signer's rfc822Name
 *   send.c    submission: SMTP through libcurl (STARTTLS, AUTH) or the
 *             sendmail(8) interface; the outcome is sent, temporary or
 *             permanent failure
 *
 * The module uses cms for the CMS bytes and a MIME library; it knows
 * nothing of LDAP nor of the engine's decisions ("Mail is a transport, not
 * a state store": what is sent and whether lives in the directory, written
 * by the worker and skd gla mail-in).
 *
 * Functions return 1 on success and 0 on error, writing one line into
 * err (err_len bytes) when err is not NULL.
 */
#ifndef SKD_MAIL_H
#define SKD_MAIL_H

#include <stddef.h>
#include <time.h>

/* Limits on what is parsed; 0 in a field takes the default. */
struct skd_mail_limits {
	size_t	max_size;	/* whole message, bytes */
	size_t	max_parts;	/* MIME entities, the message included */
	size_t	max_depth;	/* multipart / message nesting */
	size_t	max_header;	/* one header field, unfolded, bytes */
};

#define SKD_MAIL_DEFAULT_MAX_SIZE	(10UL * 1024 * 1024)
#define SKD_MAIL_DEFAULT_MAX_PARTS	32
#define SKD_MAIL_DEFAULT_MAX_DEPTH	4
#define SKD_MAIL_DEFAULT_MAX_HEADER	8192

/* Why a message was refused: one enum, its strings from one table. */
enum skd_mail_err {
	SKD_MAIL_OK = 0,
	SKD_MAIL_ERR_TOO_LARGE,
	SKD_MAIL_ERR_HEADER,		/* too long, 8-bit, NUL, or no body */
	SKD_MAIL_ERR_TOO_MANY_PARTS,
	SKD_MAIL_ERR_TOO_DEEP,
	SKD_MAIL_ERR_NOT_MIME,		/* GMime could not parse it */
	SKD_MAIL_ERR_NO_CMS,
	SKD_MAIL_ERR_MANY_CMS,
	SKD_MAIL_ERR_SMIME_TYPE,	/* an smime-type skd does not carry */
	SKD_MAIL_ERR_ENCODING,		/* not base64, or base64 truncated */
	SKD_MAIL_ERR_NOT_DER,		/* not one complete DER ContentInfo */
	SKD_MAIL_ERR_FROM,		/* From missing or not the signer */
	SKD_MAIL_ERR_INTERNAL
};

/* skd_mail_strerror returns a static phrase for e. */
const char *skd_mail_strerror(enum skd_mail_err e);

/* What skd_mail_parse found; every string NUL-terminated, NULL when the
 * message has none.  Freed with skd_mail_in_free. */
struct skd_mail_in {
	unsigned char	*cms;		/* the DER ContentInfo */
	size_t		 cms_len;
	char		*message_id;	/* without the angle brackets */
	char		*from;		/* addr-spec of the first From mailbox */
	char		*return_path;	/* addr-spec of Return-Path, "" for <> */
	char		*in_reply_to;	/* without the angle brackets */
	char		*smime_type;	/* as given, or NULL */
};

/*
 * skd_mail_init initialises GMime once per process (thread-safe); the
 * other functions call it.  Returns one on success.
 */
int skd_mail_init(void);

/*
 * skd_mail_parse reads one RFC 5322 message msg[0..len) and extracts the
 * one CMS object it carries: the top-level entity when it is
 * application/pkcs7-mime (or application/x-pkcs7-mime), else the one such
 * entity among the parts of a top-level multipart/mixed (an
 * application/octet-stream named *.p7m counts too).  smime-type may be
 * missing; when present it must be CMC-request, CMC-response, signed-data
 * or enveloped-data.  The body must be base64 that decodes in whole
 * quanta to one complete DER value.  lim may be NULL (defaults).  On
 * success *out is the caller's (skd_mail_in_free); on failure *out_err
 * (if not NULL) says why and err has one line.
 */
int skd_mail_parse(struct skd_mail_in **out, enum skd_mail_err *out_err,
    char *err, size_t err_len, const unsigned char *msg, size_t len,
    const struct skd_mail_limits *lim);

void skd_mail_in_free(struct skd_mail_in *m);

/*
 * skd_mail_addr_spec reduces a header value or an address as typed
 * ("Name <a@b>", "<a@b>", "a@b") to the addr-spec "a@b" in a new string
 * (caller frees with free); NULL when it is not one plain mailbox.
 */
char *skd_mail_addr_spec(const char *text);

/*
 * skd_mail_check_signer compares from (an addr-spec) with the rfc822Name
 * subject alternative names of the signer of the outermost SignedData of
 * der, whose signature must verify (no path validation: the worker does
 * that).  Returns 1 when one matches (case-insensitively), 0 when none
 * does or the signature fails (err says which), and -1 when the outer
 * layer is not a SignedData (an EnvelopedData to the GLA: the signer is
 * not visible here).
 */
int skd_mail_check_signer(char *err, size_t err_len, const char *from,
    const unsigned char *der, size_t len);

/*
 * skd_mail_outer_signed returns 1 when der is a ContentInfo whose outer
 * layer is a SignedData (whose signer skd gla mail-in compares From
 * with), 0 otherwise (an EnvelopedData: the worker compares From with
 * the signer the engine verified).  Nothing is verified.
 */
int skd_mail_outer_signed(const unsigned char *der, size_t len);

/*
 * skd_mail_name_address returns the addr-spec of a GeneralName text
 * "email:a@b" in a new string (caller frees with free), NULL for any
 * other name.
 */
char *skd_mail_name_address(const char *name);

/*
 * skd_mail_cert_address returns the addr-spec of the first rfc822Name
 * subjectAltName of the certificate der (DER, trailing bytes refused) in
 * a new string (caller frees with free), NULL when it has none that is
 * one plain mailbox.  Nothing is verified: the caller passes a
 * certificate the GLA verified when it stored it.
 */
char *skd_mail_cert_address(const unsigned char *der, size_t len);

/* What skd_mail_build writes around the CMS object; strings borrowed. */
struct skd_mail_out {
	const char	*from;		/* addr-spec, required */
	const char	*const *to;	/* addr-specs, n_to of them, >= 1 */
	size_t		 n_to;
	const char	*subject;	/* NULL: "skd CMC message" */
	const char	*message_id;	/* without brackets; required */
	const char	*in_reply_to;	/* without brackets, or NULL */
	const char	*smime_type;	/* "CMC-request" or "CMC-response" */
	time_t		 date;
};

/*
 * skd_mail_build writes into *out (caller frees with free) a complete RFC
 * 5322 message with CRLF line ends whose one entity is der (borrowed) as
 * application/pkcs7-mime; smime-type=<o->smime_type>; name=smime.p7m,
 * Content-Disposition attachment; filename=smime.p7m, base64.
 */
int skd_mail_build(char **out, size_t *out_len, char *err, size_t err_len,
    const struct skd_mail_out *o, const unsigned char *der, size_t len);

/* ---- send.c ------------------------------------------------------------- */

enum skd_mail_via {
	SKD_MAIL_VIA_SMTP = 1,		/* SMTP submission to a relay */
	SKD_MAIL_VIA_SENDMAIL		/* the sendmail(8) interface */
};

/* How to submit; strings borrowed. */
struct skd_mail_transport {
	enum skd_mail_via via;
	const char	*url;		/* smtp://host:port or smtps://... */
	int		 starttls;	/* require STARTTLS on smtp:// */
	const char	*ca_file;	/* PEM trust for the relay; NULL: system */
	const char	*user;		/* AUTH, or NULL */
	const char	*password;
	const char	*sendmail;	/* path; NULL: /usr/sbin/sendmail */
	long		 timeout;	/* seconds; 0: 60 */
};

enum skd_mail_sent {
	SKD_MAIL_SENT = 0,
	SKD_MAIL_TEMPFAIL,		/* try again later */
	SKD_MAIL_PERMFAIL		/* refused for good (5xx, EX_DATAERR) */
};

/*
 * skd_mail_send submits msg (a complete message with CRLF line ends) with
 * envelope sender env_from to the n_rcpt addresses rcpt.  Returns how it
 * went; err has one line unless it was sent.
 */
enum skd_mail_sent skd_mail_send(char *err, size_t err_len,
    const struct skd_mail_transport *t, const char *env_from,
    const char *const *rcpt, size_t n_rcpt, const char *msg, size_t len);

#endif
