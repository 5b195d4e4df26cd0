/*
 * fuzz_mail_body.h: the mail parser (src/mail/parse.c), the GLA's first
 * contact with a message from anyone.  The input is one RFC 5322 message;
 * when skd_mail_parse accepts it, what it found must be one DER value,
 * and a message built around that value (skd_mail_build) must parse back
 * to the same bytes.  The From check runs over whatever was accepted.
 */
#ifndef SKD_FUZZ_MAIL_BODY_H
#define SKD_FUZZ_MAIL_BODY_H

#include <stdlib.h>

#include "cms/skd_cms.h"
#include "fuzz/fuzz_common.h"
#include "mail/skd_mail.h"

static inline int
skd_fuzz_mail(const uint8_t *data, size_t size)
{
	/* Small limits: the fuzzer reaches them quickly. */
	const struct skd_mail_limits lim = { 1UL << 20, 16, 4, 2048 };
	const char *to[] = { "gla@example.com" };
	struct skd_mail_in *m = NULL, *m2 = NULL;
	struct skd_mail_out o;
	enum skd_mail_err e;
	char err[256], *out = NULL;
	size_t out_len = 0;
	int ok = 1;

	if (!skd_mail_parse(&m, &e, err, sizeof(err), data, size, &lim)) {
		/* Refused: with a reason, never "ok". */
		ok = e != SKD_MAIL_OK && err[0] != '\0';
		goto done;
	}
	if (m->cms == NULL || m->cms_len == 0 ||
	    !skd_cms_der_check(m->cms, m->cms_len)) {
		ok = 0;
		goto done;
	}
	(void)skd_mail_check_signer(err, sizeof(err), m->from, m->cms,
	    m->cms_len);
	memset(&o, 0, sizeof(o));
	o.from = "gla@example.com";
	o.to = to;
	o.n_to = 1;
	o.message_id = "fuzz@example.com";
	o.smime_type = "CMC-response";
	if (!skd_mail_build(&out, &out_len, err, sizeof(err), &o, m->cms,
	    m->cms_len) ||
	    !skd_mail_parse(&m2, &e, err, sizeof(err),
	    (const unsigned char *)out, out_len, NULL) ||
	    m2->cms_len != m->cms_len ||
	    memcmp(m2->cms, m->cms, m->cms_len) != 0)
		ok = 0;
 done:
	free(out);
	skd_mail_in_free(m2);
	skd_mail_in_free(m);
	ERR_clear_error();
	return ok;
}

#endif
