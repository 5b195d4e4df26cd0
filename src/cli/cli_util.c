/*
 * cli_util.c: input and error helpers shared by the subcommands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "client/skd_client.h"
#include "cli/cli.h"

void
skd_cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	unsigned long e;
	char buf[256], msg[1024];
	size_t n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((e = ERR_peek_last_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, " (%s)", buf);
	}
	fprintf(stderr, "skd: %s: %s\n", cmd, msg);
	if (skd_cli_json)
		skd_cli_json_error(cmd, msg);
	ERR_clear_error();
}

/* Reads the whole stream; returns a malloc'd buffer or NULL. */
static unsigned char *
read_all(FILE *f, size_t max_len, size_t *out_len)
{
	unsigned char *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;

	for (;;) {
		if (len == cap) {
			if (cap >= max_len + 1) {
				errno = EFBIG;
				goto err;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if (cap > max_len + 1)
				cap = max_len + 1;
			if ((nb = realloc(buf, cap)) == NULL)
				goto err;
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	if (ferror(f))
		goto err;
	if (len > max_len) {
		errno = EFBIG;
		goto err;
	}
	*out_len = len;
	return buf;
 err:
	free(buf);
	return NULL;
}

/* If buf holds PEM, replaces it by the DER of its first block. */
static int
pem_to_der(unsigned char **buf, size_t *len)
{
	BIO *b = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL, *der;
	long dlen = 0;
	int ok = 0;

	if (*len < 11 || memcmp(*buf, "-----BEGIN ", 11) != 0)
		return 1;	/* not PEM: taken as DER */
	if ((b = BIO_new_mem_buf(*buf, (int)*len)) == NULL)
		goto err;
	if (!PEM_read_bio(b, &name, &header, &data, &dlen) || dlen <= 0)
		goto err;
	if ((der = malloc((size_t)dlen)) == NULL)
		goto err;
	memcpy(der, data, (size_t)dlen);
	free(*buf);
	*buf = der;
	*len = (size_t)dlen;
	ok = 1;
 err:
	BIO_free(b);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	return ok;
}

unsigned char *
skd_cli_read_input(const char *path, size_t max_len, size_t *out_len)
{
	FILE *f;
	unsigned char *buf;
	size_t len = 0;
	const char *shown = path;

	if (path == NULL || strcmp(path, "-") == 0) {
		f = stdin;
		shown = "standard input";
	} else if ((f = fopen(path, "rb")) == NULL) {
		skd_cli_err(path, "%s", strerror(errno));
		return NULL;
	}
	buf = read_all(f, max_len, &len);
	if (f != stdin)
		fclose(f);
	if (buf == NULL) {
		skd_cli_err(shown, "%s", errno == EFBIG ?
		    "input too large" : strerror(errno));
		return NULL;
	}
	if (len == 0) {
		skd_cli_err(shown, "empty input");
		free(buf);
		return NULL;
	}
	if (!pem_to_der(&buf, &len)) {
		ERR_clear_error();
		skd_cli_err(shown, "malformed PEM");
		free(buf);
		return NULL;
	}
	*out_len = len;
	return buf;
}

unsigned char *
skd_cli_read_message(const char *cmd, const char *path, size_t *out_len)
{
	unsigned char *raw, *der = NULL, *copy;
	size_t len = 0;

	if ((raw = skd_cli_read_input(path, SKD_CLI_MAX_INPUT, &len)) == NULL)
		return NULL;
	if (len > 3 && (memcmp(raw, "dn:", 3) == 0 || memcmp(raw, "# ", 2) ==
	    0 || (len > 8 && memcmp(raw, "version:", 8) == 0))) {
		/* libldap's LDIF parser, through the store module. */
		if (!skd_client_ldif_binary(&der, out_len, (const char *)raw,
		    len, "skdMessage")) {
			skd_cli_err(cmd, "%s: no skdMessage value in the LDIF",
			    path != NULL ? path : "input");
			free(raw);
			return NULL;
		}
		free(raw);
		return der;
	}
	/* One allocator for the caller: OpenSSL's (as the mail reader's). */
	copy = OPENSSL_memdup(raw, len);
	free(raw);
	if (copy != NULL)
		*out_len = len;
	return copy;
}
