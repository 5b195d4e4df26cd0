/*
 * ldif.c: values out of LDIF text (RFC 2849) with libldap's own parser
 * (ldif.h: ldif_getline unfolds a line, ldif_parse_line2 splits and
 * base64-decodes it), e.g. the entry of a response as ldapsearch prints
 * it.  Values given by URL ("attr:< file://...") are refused: a file to
 * check must not make us read another.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lber.h>
#include <ldif.h>
#include <openssl/crypto.h>

#include "store/skd_store.h"

/* Whether type is attr, or attr with options (";binary"). */
static int
type_is(const struct berval *type, const char *attr)
{
	size_t n = strlen(attr);

	return type->bv_len >= n && strncasecmp(type->bv_val, attr, n) == 0 &&
	    (type->bv_len == n || type->bv_val[n] == ';');
}

int
skd_store_ldif_value(unsigned char **out, size_t *out_len, const char *ldif,
    size_t ldif_len, const char *attr)
{
	struct berval type, value;
	char *text, *next, *line, *colon;
	int ok = 0, freeval, match;

	*out = NULL;
	*out_len = 0;
	if ((text = malloc(ldif_len + 1)) == NULL)
		return 0;
	memcpy(text, ldif, ldif_len);
	text[ldif_len] = '\0';
	next = text;
	while (next != NULL && *next != '\0') {
		/* NULL at a blank line: the end of a record (RFC 2849);
		 * the value may be in a later one (after "version: 1"). */
		if ((line = ldif_getline(&next)) == NULL) {
			if (next == NULL || (*next != '\n' && *next != '\r'))
				break;
			next++;
			continue;
		}
		if (line[0] == '#' || line[0] == '\0' ||
		    (colon = strchr(line, ':')) == NULL || colon[1] == '<')
			continue;
		/* With freeval, type and value point into line (base64
		 * decoded in place); only a URL value (refused above) would
		 * be allocated, and is then freed. */
		freeval = 0;
		if (ldif_parse_line2(line, &type, &value, &freeval) != 0)
			continue;
		match = type_is(&type, attr) && value.bv_len > 0;
		if (match && (*out = OPENSSL_memdup(value.bv_val,
		    value.bv_len)) != NULL) {
			*out_len = value.bv_len;
			ok = 1;
		}
		if (freeval)
			ber_memfree(value.bv_val);
		if (match)
			break;
	}
	OPENSSL_clear_free(text, ldif_len + 1);
	return ok;
}
