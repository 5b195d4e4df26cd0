/*
 * test_mail.c: the mail module (src/mail): build and parse round trip,
 * the variants mail clients write, and the hostile cases, each refused with
 * its reason; the From-versus-signer check; the sendmail(8) interface's
 * exit codes.  SMTP submission is tested against a real OpenSMTPD in
 * tests/dir/test_mail_e2e.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "cms/skd_cms.h"
#include "mail/skd_mail.h"
#include "skd_test.h"
#include "support/pki.h"

/* A small signed CMS object: SignedData(id-data "hello") by who. */
static unsigned char *
signed_blob(size_t *out_len, enum skd_test_who who)
{
	const struct skd_test_ident *id = skd_test_pki_id(who);
	ASN1_OBJECT *data = OBJ_nid2obj(NID_pkcs7_data);
	unsigned char *der = NULL;

	ck_assert_int_eq(skd_cms_sign(&der, out_len, data,
	    (const unsigned char *)"hello", 5, id->cert, id->key, NULL,
	    time(NULL), 0), 1);
	return der;
}

static char *
build(const unsigned char *der, size_t len, const char *from, size_t *out_len)
{
	const char *to[] = { "gla@example.com" };
	struct skd_mail_out o;
	char *msg = NULL, err[200];

	memset(&o, 0, sizeof(o));
	o.from = from;
	o.to = to;
	o.n_to = 1;
	o.message_id = "req-1@example.com";
	o.smime_type = "CMC-request";
	o.date = 1700000000;
	ck_assert_msg(skd_mail_build(&msg, out_len, err, sizeof(err), &o, der,
	    len) == 1, "%s", err);
	return msg;
}

/* Parses text; returns the error kind (SKD_MAIL_OK on success). */
static enum skd_mail_err
parse_text(struct skd_mail_in **out, const char *text, size_t len)
{
	enum skd_mail_err e = SKD_MAIL_ERR_INTERNAL;
	struct skd_mail_in *m = NULL;
	char err[256];
	int ok;

	err[0] = '\0';
	ok = skd_mail_parse(&m, &e, err, sizeof(err),
	    (const unsigned char *)text, len, NULL);
	ck_assert_int_eq(ok, e == SKD_MAIL_OK);
	if (!ok)
		ck_assert_msg(err[0] != '\0', "no reason for %s",
		    skd_mail_strerror(e));
	if (out != NULL)
		*out = m;
	else
		skd_mail_in_free(m);
	return e;
}

START_TEST(test_mail_round_trip)
{
	struct skd_mail_in *m = NULL;
	unsigned char *der;
	size_t len, mlen;
	char *msg;

	der = signed_blob(&len, SKD_TP_ALICE);
	msg = build(der, len, "alice@example.com", &mlen);
	ck_assert_ptr_nonnull(strstr(msg, "application/pkcs7-mime"));
	ck_assert_ptr_nonnull(strstr(msg, "smime-type=CMC-request"));
	ck_assert_ptr_nonnull(strstr(msg, "smime.p7m"));
	ck_assert_ptr_nonnull(strstr(msg, "Content-Transfer-Encoding: base64"));
	ck_assert_ptr_nonnull(strstr(msg, "\r\n"));
	ck_assert_int_eq(parse_text(&m, msg, mlen), SKD_MAIL_OK);
	ck_assert_uint_eq(m->cms_len, len);
	ck_assert_mem_eq(m->cms, der, len);
	ck_assert_str_eq(m->message_id, "req-1@example.com");
	ck_assert_str_eq(m->from, "alice@example.com");
	ck_assert_str_eq(m->smime_type, "CMC-request");
	ck_assert_int_eq(skd_mail_check_signer(NULL, 0, m->from, m->cms,
	    m->cms_len), 1);
	skd_mail_in_free(m);
	free(msg);
	OPENSSL_free(der);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* Base64 of der, 76 characters a line, CRLF. */
static char *
b64(const unsigned char *der, size_t len, size_t cut)
{
	size_t n = 4 * ((len + 2) / 3) + 1, i, o = 0;
	char *flat = malloc(n), *out = malloc(n * 2 + 4);

	EVP_EncodeBlock((unsigned char *)flat, der, (int)len);
	n = strlen(flat);
	if (cut > 0 && cut < n)
		n -= cut;
	for (i = 0; i < n; i++) {
		out[o++] = flat[i];
		if (i % 76 == 75) {
			out[o++] = '\r';
			out[o++] = '\n';
		}
	}
	out[o++] = '\r';
	out[o++] = '\n';
	out[o] = '\0';
	free(flat);
	return out;
}

/* A message written by hand around body (headers end with a blank line). */
static char *
wrap(const char *headers, const char *body)
{
	size_t n = strlen(headers) + strlen(body) + 256;
	char *m = malloc(n);

	(void)snprintf(m, n, "From: alice@example.com\r\n"
	    "To: gla@example.com\r\nMessage-ID: <x@y>\r\n"
	    "Return-Path: <alice-bounces@example.com>\r\n"
	    "MIME-Version: 1.0\r\n%s\r\n%s", headers, body);
	return m;
}

START_TEST(test_mail_variants)
{
	struct skd_mail_in *m = NULL;
	unsigned char *der;
	size_t len;
	char *body, *msg, *mp;
	size_t n;

	der = signed_blob(&len, SKD_TP_ALICE);
	body = b64(der, len, 0);
	/* x-pkcs7-mime without smime-type, at the top. */
	msg = wrap("Content-Type: application/x-pkcs7-mime; name=smime.p7m\r\n"
	    "Content-Transfer-Encoding: base64\r\n", body);
	ck_assert_int_eq(parse_text(&m, msg, strlen(msg)), SKD_MAIL_OK);
	ck_assert_ptr_null(m->smime_type);
	ck_assert_str_eq(m->return_path, "alice-bounces@example.com");
	ck_assert_mem_eq(m->cms, der, len);
	skd_mail_in_free(m);
	free(msg);
	/* The one attachment of a multipart/mixed, beside a text part. */
	n = strlen(body) + 1024;
	mp = malloc(n);
	(void)snprintf(mp, n, "--BB\r\nContent-Type: text/plain\r\n\r\n"
	    "Please process the attached request.\r\n--BB\r\n"
	    "Content-Type: application/pkcs7-mime; smime-type=CMC-request; "
	    "name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=smime.p7m\r\n\r\n%s"
	    "--BB--\r\n", body);
	msg = wrap("Content-Type: multipart/mixed; boundary=BB\r\n", mp);
	ck_assert_int_eq(parse_text(&m, msg, strlen(msg)), SKD_MAIL_OK);
	ck_assert_mem_eq(m->cms, der, len);
	skd_mail_in_free(m);
	free(msg);
	free(mp);
	/* application/octet-stream named *.p7m. */
	msg = wrap("Content-Type: application/octet-stream; name=req.p7m\r\n"
	    "Content-Disposition: attachment; filename=req.p7m\r\n"
	    "Content-Transfer-Encoding: base64\r\n", body);
	ck_assert_int_eq(parse_text(NULL, msg, strlen(msg)), SKD_MAIL_OK);
	free(msg);
	free(body);
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_mail_refusals)
{
	unsigned char *der;
	size_t len, n;
	char *body, *cut, *msg, *mp;

	der = signed_blob(&len, SKD_TP_ALICE);
	body = b64(der, len, 0);
	/* No CMS part. */
	msg = wrap("Content-Type: text/plain\r\n", "hello\r\n");
	ck_assert_int_eq(parse_text(NULL, msg, strlen(msg)),
	    SKD_MAIL_ERR_NO_CMS);
	free(msg);
	/* Two CMS parts. */
	n = 2 * strlen(body) + 1024;
	mp = malloc(n);
	(void)snprintf(mp, n, "--BB\r\nContent-Type: application/pkcs7-mime\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s--BB\r\n"
	    "Content-Type: application/pkcs7-mime\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s--BB--\r\n", body,
	    body);
	msg = wrap("Content-Type: multipart/mixed; boundary=BB\r\n", mp);
	ck_assert_int_eq(parse_text(NULL, msg, strlen(msg)),
	    SKD_MAIL_ERR_MANY_CMS);
	free(msg);
	free(mp);
	/* Truncated base64: a partial quantum, then a whole one short. */
	cut = b64(der, len, 3);
	msg = wrap("Content-Type: application/pkcs7-mime\r\n"
	    "Content-Transfer-Encoding: base64\r\n", cut);
	ck_assert_int_eq(parse_text(NULL, msg, strlen(msg)),
	    SKD_MAIL_ERR_ENCODING);
	free(msg);
	free(cut);
	cut = b64(der, len, 8);
	msg = wrap("Content-Type: application/pkcs7-mime\r\n"
	    "Content-Transfer-Encoding: base64\r\n", cut);
	ck_assert_int_eq(parse_text(NULL, msg, strlen(msg)),
	    SKD_MAIL_ERR_NOT_DER);
	free(msg);
	free(cut);
	/* Not base64 at all. */
	msg = wrap("Content-Type: application/pkcs7-mime\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n", "abc\r\n");
	ck_assert_int_eq(parse_text(NULL, msg, strlen(msg)),
	    SKD_MAIL_ERR_ENCODING);
	free(msg);
	/* An smime-type skd does not carry. */
	msg = wrap("Content-Type: application/pkcs7-mime; smime-type=certs-only"
	    "\r\nContent-Transfer-Encoding: base64\r\n", body);
	ck_assert_int_eq(parse_text(NULL, msg, strlen(msg)),
	    SKD_MAIL_ERR_SMIME_TYPE);
	free(msg);
	/* An 8-bit header. */
	msg = wrap("Subject: caf\xc3\xa9\r\nContent-Type: application/pkcs7-mime"
	    "\r\nContent-Transfer-Encoding: base64\r\n", body);
	ck_assert_int_eq(parse_text(NULL, msg, strlen(msg)),
	    SKD_MAIL_ERR_HEADER);
	free(msg);
	free(body);
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_mail_limits)
{
	struct skd_mail_limits lim = { 1000, 0, 0, 0 };
	enum skd_mail_err e;
	struct skd_mail_in *m = NULL;
	size_t i, n, o;
	char *msg, *hdr, err[200];

	/* Size. */
	msg = wrap("Content-Type: text/plain\r\n", "");
	ck_assert_int_eq(skd_mail_parse(&m, &e, err, sizeof(err),
	    (const unsigned char *)msg, 2000, &lim), 0);
	ck_assert_int_eq(e, SKD_MAIL_ERR_TOO_LARGE);
	free(msg);
	/* 10,000 parts. */
	n = 10000 * 40 + 100;
	hdr = malloc(n);
	for (i = 0, o = 0; i < 10000; i++)
		o += (size_t)snprintf(hdr + o, n - o, "--BB\r\n\r\npart\r\n");
	(void)snprintf(hdr + o, n - o, "--BB--\r\n");
	msg = wrap("Content-Type: multipart/mixed; boundary=BB\r\n", hdr);
	ck_assert_int_eq(parse_text(NULL, msg, strlen(msg)),
	    SKD_MAIL_ERR_TOO_MANY_PARTS);
	free(msg);
	free(hdr);
	/* Deep nesting, few parts per level. */
	n = 64 * 80 + 100;
	hdr = malloc(n);
	for (i = 0, o = 0; i < 8; i++)
		o += (size_t)snprintf(hdr + o, n - o, "--B%zu\r\nContent-Type: "
		    "multipart/mixed; boundary=B%zu\r\n\r\n", i, i + 1);
	msg = wrap("Content-Type: multipart/mixed; boundary=B0\r\n", hdr);
	ck_assert_int_eq(parse_text(NULL, msg, strlen(msg)),
	    SKD_MAIL_ERR_TOO_DEEP);
	free(msg);
	free(hdr);
	/* A header field too long (folded). */
	n = 20000;
	hdr = malloc(n);
	o = (size_t)snprintf(hdr, n, "X-Long: a");
	for (i = 0; i < 200; i++)
		o += (size_t)snprintf(hdr + o, n - o, "\r\n bbbbbbbbbbbbbbbbbbbb"
		    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	(void)snprintf(hdr + o, n - o, "\r\nContent-Type: text/plain\r\n");
	msg = wrap(hdr, "x\r\n");
	ck_assert_int_eq(parse_text(NULL, msg, strlen(msg)),
	    SKD_MAIL_ERR_HEADER);
	free(msg);
	free(hdr);
	/* Garbage. */
	ck_assert_int_ne(parse_text(NULL, "\x01\x02garbage", 9), SKD_MAIL_OK);
	ck_assert_int_ne(parse_text(NULL, "", 0), SKD_MAIL_OK);
}
END_TEST

START_TEST(test_mail_signer)
{
	unsigned char *der;
	size_t len;
	char err[200];

	der = signed_blob(&len, SKD_TP_ALICE);
	ck_assert_int_eq(skd_mail_check_signer(err, sizeof(err),
	    "ALICE@example.com", der, len), 1);
	ck_assert_int_eq(skd_mail_check_signer(err, sizeof(err),
	    "mallory@example.com", der, len), 0);
	ck_assert_ptr_nonnull(strstr(err, "mallory@example.com"));
	ck_assert_int_eq(skd_mail_check_signer(err, sizeof(err), NULL, der,
	    len), 0);
	/* A broken signature proves nothing. */
	der[len - 5] ^= 1;
	ck_assert_int_eq(skd_mail_check_signer(err, sizeof(err),
	    "alice@example.com", der, len), 0);
	OPENSSL_free(der);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_mail_addr_spec)
{
	char *a;

	a = skd_mail_addr_spec("Alice <alice@example.com>");
	ck_assert_str_eq(a, "alice@example.com");
	free(a);
	a = skd_mail_addr_spec("<bob@example.com>");
	ck_assert_str_eq(a, "bob@example.com");
	free(a);
	ck_assert_ptr_null(skd_mail_addr_spec("a@b, c@d"));
	ck_assert_ptr_null(skd_mail_addr_spec("-oQ/tmp@x"));
	ck_assert_ptr_null(skd_mail_addr_spec("no-at-sign"));
	ck_assert_ptr_null(skd_mail_addr_spec(""));
}
END_TEST

/* The sendmail(8) interface: a script standing in for sendmail records
 * its argv and stdin and exits as told. */
START_TEST(test_mail_sendmail_exit)
{
	struct skd_mail_transport t;
	const char *rcpt[] = { "bob@example.com", "carol@example.com" };
	char path[512], out[512], err[256], *args = NULL;
	unsigned char *got;
	size_t len;
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/sendmail", skd_test_tmp);
	(void)snprintf(out, sizeof(out), "%s/out", skd_test_tmp);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\necho \"$@\" > '%s.args'\ncat > '%s'\n"
	    "case \"$3\" in temp@*) echo 'queue full' >&2; exit 75;; "
	    "perm@*) echo 'no such user' >&2; exit 67;; esac\nexit 0\n", out,
	    out);
	fclose(f);
	chmod(path, 0755);
	memset(&t, 0, sizeof(t));
	t.via = SKD_MAIL_VIA_SENDMAIL;
	t.sendmail = path;
	ck_assert_int_eq(skd_mail_send(err, sizeof(err), &t,
	    "gla@example.com", rcpt, 2, "Subject: x\r\n\r\nbody\r\n", 21),
	    SKD_MAIL_SENT);
	got = skd_test_read_file(out, &len);
	ck_assert_uint_eq(len, 21);
	free(got);
	(void)snprintf(out + strlen(out), sizeof(out) - strlen(out), ".args");
	args = (char *)skd_test_read_file(out, &len);
	ck_assert_ptr_nonnull(strstr(args, "-i -f gla@example.com -- "
	    "bob@example.com carol@example.com"));
	free(args);
	ck_assert_int_eq(skd_mail_send(err, sizeof(err), &t,
	    "temp@example.com", rcpt, 1, "x\r\n", 3), SKD_MAIL_TEMPFAIL);
	ck_assert_ptr_nonnull(strstr(err, "queue full"));
	ck_assert_int_eq(skd_mail_send(err, sizeof(err), &t,
	    "perm@example.com", rcpt, 1, "x\r\n", 3), SKD_MAIL_PERMFAIL);
	ck_assert_ptr_nonnull(strstr(err, "no such user"));
	t.sendmail = "/nonexistent/sendmail";
	ck_assert_int_eq(skd_mail_send(err, sizeof(err), &t,
	    "gla@example.com", rcpt, 1, "x\r\n", 3), SKD_MAIL_TEMPFAIL);
	/* Nobody listening: a temporary failure. */
	t.via = SKD_MAIL_VIA_SMTP;
	t.url = "smtp://127.0.0.1:1";
	t.timeout = 5;
	ck_assert_int_eq(skd_mail_send(err, sizeof(err), &t,
	    "gla@example.com", rcpt, 1, "x\r\n", 3), SKD_MAIL_TEMPFAIL);
	ck_assert_ptr_nonnull(strstr(err, "smtp://127.0.0.1:1"));
}
END_TEST

Suite *
skd_suite_mail(void)
{
	Suite *s = suite_create("mail");
	TCase *tc = tcase_create("mail");

	tcase_add_unchecked_fixture(tc, (void (*)(void))skd_test_pki_get,
	    NULL);
	tcase_add_checked_fixture(tc, skd_test_tmp_setup,
	    skd_test_tmp_teardown);
	tcase_add_test(tc, test_mail_round_trip);
	tcase_add_test(tc, test_mail_variants);
	tcase_add_test(tc, test_mail_refusals);
	tcase_add_test(tc, test_mail_limits);
	tcase_add_test(tc, test_mail_signer);
	tcase_add_test(tc, test_mail_addr_spec);
	tcase_add_test(tc, test_mail_sendmail_exit);
	suite_add_tcase(s, tc);
	return s;
}
