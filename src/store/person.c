/*
 * person.c: from a GeneralName text to the directory entry of the person
 * it names, so that entries the GLA writes can name their readers in
 * skdRecipientDN (the shipped ACLs' dnattr clauses; DESIGN.md "Least
 * disclosure").  People live under the suffix, the parent of the base DN
 * (tools/skd-stack: ou=people,dc=example,dc=com).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/store_local.h"

/* person_suffix writes the parent of s's base DN to *out (malloc'd). */
static int
person_suffix(struct skd_store *s, char **out)
{
	LDAPDN dn = NULL;
	char *str = NULL;
	int ok = 0;

	*out = NULL;
	if (ldap_str2dn(s->base, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
	    dn == NULL || dn[0] == NULL || dn[1] == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "base %s has no parent", s->base);
		goto err;
	}
	if (ldap_dn2str(&dn[1], &str, LDAP_DN_FORMAT_LDAPV3) !=
	    LDAP_SUCCESS || str == NULL || (*out = strdup(str)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "suffix of %s",
		    s->base);
		goto err;
	}
	ok = 1;
 err:
	ldap_memfree(str);
	ldap_dnfree(dn);
	return ok;
}

/* person_norm normalizes dn (RFC 4514) into *out (ldap_memfree). */
static int
person_norm(char **out, const char *dn)
{
	*out = NULL;
	return ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAP, out,
	    LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && *out != NULL;
}

int
skd_store_dn_equal(const char *a, const char *b)
{
	char *na = NULL, *nb = NULL;
	int r;

	/* The values compared here name directory entries (creatorsName,
	 * skdSubmitterDN): attribute values compared without regard to
	 * case, as the naming attributes of people (uid, cn) are. */
	r = person_norm(&na, a) && person_norm(&nb, b) &&
	    strcasecmp(na, nb) == 0;
	ldap_memfree(na);
	ldap_memfree(nb);
	return r;
}

/* person_under says whether dn is suffix or lies beneath it. */
static int
person_under(const char *dn, const char *suffix)
{
	char *nd = NULL, *ns = NULL;
	size_t ld, ls;
	int r = 0;

	if (!person_norm(&nd, dn) || !person_norm(&ns, suffix))
		goto err;
	ld = strlen(nd);
	ls = strlen(ns);
	/* The values of the stack's naming attributes (dc, ou, uid, cn)
	 * match without regard to case. */
	r = ld == ls ? strcasecmp(nd, ns) == 0 :
	    ld > ls && nd[ld - ls - 1] == ',' &&
	    strcasecmp(nd + ld - ls, ns) == 0;
 err:
	ldap_memfree(nd);
	ldap_memfree(ns);
	return r;
}

/* Collects at most two DNs (one more than a unique match needs). */
static int
person_collect(struct skd_store *s, LDAPMessage *e, void *arg)
{
	struct skd_store_i_dns *d = arg;

	if (!skd_store_i_collect_dn(s, e, arg))
		return 0;
	return d->n >= 2 ? 2 : 1;
}

int
skd_store_resolve_person(struct skd_store *s, char **out_dn,
    const char *name_text)
{
	struct skd_store_i_dns d = { NULL, 0, 0 };
	LDAPMessage *res = NULL, *e;
	char *suffix = NULL, *ev = NULL, *filter = NULL, *dn = NULL;
	char *no_attrs[] = { LDAP_NO_ATTRS, NULL };
	const char *v;
	int ok = 0;

	*out_dn = NULL;
	skd_store_i_ok(s);
	if (name_text == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "no name");
		goto err;
	}
	if (!person_suffix(s, &suffix))
		goto err;
	if (strncasecmp(name_text, "email:", 6) == 0) {
		v = name_text + 6;
		if (v[0] == '\0') {
			skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
			    "empty address");
			goto err;
		}
		if ((ev = skd_store_i_filter_escape(v)) == NULL ||
		    (filter = skd_store_i_printf("(&(objectClass="
		    "inetOrgPerson)(mail=%s))", ev)) == NULL) {
			skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
			    "out of memory");
			goto err;
		}
		if (!skd_store_i_search_each(s, suffix, LDAP_SCOPE_SUBTREE,
		    filter, no_attrs, 2, person_collect, &d))
			goto err;
	} else if (strncasecmp(name_text, "dirName:", 8) == 0) {
		v = name_text + 8;
		if (!person_norm(&dn, v)) {
			ldap_memfree(dn);
			dn = NULL;
			skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
			    "malformed DN %s", v);
			goto err;
		}
		ldap_memfree(dn);
		dn = NULL;
		if (!person_under(v, suffix)) {
			skd_store_i_fail(s, SKD_STORE_ERR_NOT_FOUND,
			    "%s is not under %s", v, suffix);
			goto err;
		}
		if (!skd_store_i_read(s, &res, &e, v, no_attrs))
			goto err;
		if (!skd_store_i_collect_dn(s, e, &d))
			goto err;
	} else {
		skd_store_i_fail(s, SKD_STORE_ERR_NOT_FOUND,
		    "no directory entry for %s", name_text);
		goto err;
	}
	if (d.n == 0) {
		skd_store_i_fail(s, SKD_STORE_ERR_NOT_FOUND,
		    "no directory entry for %s", name_text);
		goto err;
	}
	if (d.n > 1) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "%s names more than one directory entry", name_text);
		goto err;
	}
	*out_dn = d.v[0];
	d.v[0] = NULL;
	ok = 1;
 err:
	skd_store_i_strs_free(d.v, d.n);
	ldap_msgfree(res);
	free(filter);
	free(ev);
	free(suffix);
	return ok;
}

/* person_attr_is says whether the attribute description d (as the server
 * returned it, options and all) is of type t. */
static int
person_attr_is(const char *d, const char *t)
{
	size_t n = strlen(t);

	return strncasecmp(d, t, n) == 0 && (d[n] == '\0' || d[n] == ';');
}

int
skd_store_person_certs(struct skd_store *s, struct skd_store_blob **out,
    size_t *out_n, const char *name_text)
{
	/* RFC 2798 userSMIMECertificate is the one meant for S/MIME; then
	 * RFC 4523 userCertificate (transferred with ;binary). */
	static const char *const order[] = {
		"userSMIMECertificate", "userCertificate"
	};
	char *attrs[] = { "userSMIMECertificate", "userCertificate;binary",
	    NULL };
	struct skd_store_blob *all = NULL, *v = NULL, *grown;
	LDAPMessage *res = NULL, *e;
	BerElement *ber = NULL;
	size_t n = 0, nv = 0, i, k;
	char *dn = NULL, *a;
	int ok = 0;

	*out = NULL;
	*out_n = 0;
	if (!skd_store_resolve_person(s, &dn, name_text))
		goto err;
	if (!skd_store_i_read(s, &res, &e, dn, attrs))
		goto err;
	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (a = ldap_first_attribute(s->ld, e, &ber); a != NULL;
		    a = ldap_next_attribute(s->ld, e, ber)) {
			int got = !person_attr_is(a, order[k]) ||
			    skd_store_i_get_blobs(s->ld, e, a, &v, &nv);

			ldap_memfree(a);
			if (!got)
				goto oom;
			if (nv == 0)
				continue;
			if ((grown = realloc(all, (n + nv) *
			    sizeof(*all))) == NULL)
				goto oom;
			all = grown;
			for (i = 0; i < nv; i++)
				all[n++] = v[i];
			free(v);
			v = NULL;
			nv = 0;
		}
		ber_free(ber, 0);
		ber = NULL;
	}
	*out = all;
	*out_n = n;
	all = NULL;
	n = 0;
	ok = 1;
	goto err;
 oom:
	skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
 err:
	ber_free(ber, 0);
	skd_store_blobs_free(v, nv);
	skd_store_blobs_free(all, n);
	ldap_msgfree(res);
	free(dn);
	return ok;
}
