/*
 * util.c: modification lists, DN and filter escaping (by libldap), entry
 * value getters and set comparisons for the store.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_local.h"

char *
skd_store_i_printf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	(void)vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* ---- modification lists -------------------------------------------------- */

void
skd_store_i_mods_init(struct skd_store_i_mods *m)
{
	memset(m, 0, sizeof(*m));
}

void
skd_store_i_mods_cleanup(struct skd_store_i_mods *m)
{
	size_t i, j;

	for (i = 0; i < m->n; i++) {
		if (m->v[i]->mod_bvalues != NULL) {
			for (j = 0; m->v[i]->mod_bvalues[j] != NULL; j++)
				free(m->v[i]->mod_bvalues[j]);
			free(m->v[i]->mod_bvalues);
		}
		free(m->v[i]);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* store_mods_new appends an LDAPMod with room for n values. */
static LDAPMod *
store_mods_new(struct skd_store_i_mods *m, int op, const char *attr, size_t n)
{
	LDAPMod *mod = NULL, **nv;
	size_t i;

	if (m->failed)
		return NULL;
	if (m->n + 2 > m->cap) {
		size_t cap = m->cap == 0 ? 16 : m->cap * 2;

		if ((nv = reallocarray(m->v, cap, sizeof(*nv))) == NULL)
			goto err;
		m->v = nv;
		m->cap = cap;
	}
	if ((mod = calloc(1, sizeof(*mod))) == NULL)
		goto err;
	mod->mod_op = op | LDAP_MOD_BVALUES;
	mod->mod_type = (char *)attr;
	if (n > 0 || op == LDAP_MOD_ADD) {
		if ((mod->mod_bvalues = calloc(n + 1,
		    sizeof(*mod->mod_bvalues))) == NULL)
			goto err;
		for (i = 0; i < n; i++) {
			mod->mod_bvalues[i] = calloc(1,
			    sizeof(*mod->mod_bvalues[i]));
			if (mod->mod_bvalues[i] == NULL)
				goto err;
		}
	}
	m->v[m->n++] = mod;
	m->v[m->n] = NULL;
	return mod;
 err:
	if (mod != NULL && mod->mod_bvalues != NULL) {
		for (i = 0; i < n; i++)
			free(mod->mod_bvalues[i]);
		free(mod->mod_bvalues);
	}
	free(mod);
	m->failed = 1;
	return NULL;
}

void
skd_store_i_mods_bin(struct skd_store_i_mods *m, int op, const char *attr,
    const struct skd_store_blob *vals, size_t n)
{
	LDAPMod *mod;
	size_t i;

	if ((mod = store_mods_new(m, op, attr, n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		mod->mod_bvalues[i]->bv_val = (char *)vals[i].data;
		mod->mod_bvalues[i]->bv_len = vals[i].len;
	}
}

void
skd_store_i_mods_strs(struct skd_store_i_mods *m, int op, const char *attr,
    const char *const *vals, size_t n)
{
	LDAPMod *mod;
	size_t i;

	if ((mod = store_mods_new(m, op, attr, n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		mod->mod_bvalues[i]->bv_val = (char *)vals[i];
		mod->mod_bvalues[i]->bv_len = strlen(vals[i]);
	}
}

void
skd_store_i_mods_str(struct skd_store_i_mods *m, int op, const char *attr,
    const char *val)
{
	skd_store_i_mods_strs(m, op, attr, &val, val != NULL ? 1 : 0);
}

void
skd_store_i_mods_one(struct skd_store_i_mods *m, int op, const char *attr,
    const void *data, size_t len)
{
	struct skd_store_blob b;

	b.data = (unsigned char *)data;
	b.len = len;
	skd_store_i_mods_bin(m, op, attr, &b, data != NULL ? 1 : 0);
}

LDAPMod **
skd_store_i_mods_get(struct skd_store_i_mods *m)
{
	if (m->failed || m->v == NULL)
		return NULL;
	return m->v;
}

/* ---- names ---------------------------------------------------------------- */

static void
store_ava_set(LDAPAVA *ava, const char *attr, const char *val)
{
	memset(ava, 0, sizeof(*ava));
	ava->la_attr.bv_val = (char *)attr;
	ava->la_attr.bv_len = strlen(attr);
	ava->la_value.bv_val = (char *)val;
	ava->la_value.bv_len = strlen(val);
	ava->la_flags = LDAP_AVA_STRING;
}

char *
skd_store_i_dn(const char *a1, const char *v1, const char *a2,
    const char *v2, const char *parent)
{
	LDAPAVA ava[2];
	LDAPAVA *rdn[3] = { NULL, NULL, NULL };
	char *rdn_str = NULL, *dn;

	if (v1 == NULL || v1[0] == '\0' || (a2 != NULL &&
	    (v2 == NULL || v2[0] == '\0')))
		return NULL;
	store_ava_set(&ava[0], a1, v1);
	rdn[0] = &ava[0];
	if (a2 != NULL) {
		store_ava_set(&ava[1], a2, v2);
		rdn[1] = &ava[1];
	}
	/* RFC 4514 escaping of the values (",+\"\\<>;=", leading '#' or
	 * space, trailing space) is libldap's, not ours. */
	if (ldap_rdn2str(rdn, &rdn_str, LDAP_DN_FORMAT_LDAPV3) !=
	    LDAP_SUCCESS)
		return NULL;
	dn = skd_store_i_printf("%s,%s", rdn_str, parent);
	ldap_memfree(rdn_str);
	return dn;
}

char *
skd_store_i_filter_escape(const char *v)
{
	struct berval in, out = { 0, NULL };
	char *p;

	in.bv_val = (char *)v;
	in.bv_len = strlen(v);
	/* RFC 4515 3: '*', '(', ')', '\\' and NUL become \XX. */
	if (ldap_bv2escaped_filter_value(&in, &out) != 0)
		return NULL;
	p = strdup(out.bv_val != NULL ? out.bv_val : "");
	ber_memfree(out.bv_val);
	return p;
}

/* ---- entry values ----------------------------------------------------------- */

int
skd_store_i_get_blob(LDAP *ld, LDAPMessage *e, const char *attr,
    unsigned char **out, size_t *out_len)
{
	struct berval **v;
	int ok = 0;

	*out = NULL;
	*out_len = 0;
	if ((v = ldap_get_values_len(ld, e, attr)) == NULL || v[0] == NULL) {
		ldap_value_free_len(v);
		return 1;
	}
	/* One extra NUL so that text values can be used as strings. */
	if ((*out = malloc(v[0]->bv_len + 1)) == NULL)
		goto err;
	memcpy(*out, v[0]->bv_val, v[0]->bv_len);
	(*out)[v[0]->bv_len] = '\0';
	*out_len = v[0]->bv_len;
	ok = 1;
 err:
	ldap_value_free_len(v);
	return ok;
}

int
skd_store_i_get_blobs(LDAP *ld, LDAPMessage *e, const char *attr,
    struct skd_store_blob **out, size_t *out_n)
{
	struct berval **v;
	struct skd_store_blob *b = NULL;
	size_t i, n;
	int ok = 0;

	*out = NULL;
	*out_n = 0;
	if ((v = ldap_get_values_len(ld, e, attr)) == NULL)
		return 1;
	for (n = 0; v[n] != NULL; n++)
		continue;
	if (n == 0) {
		ok = 1;
		goto err;
	}
	if ((b = calloc(n, sizeof(*b))) == NULL)
		goto err;
	for (i = 0; i < n; i++) {
		if ((b[i].data = malloc(v[i]->bv_len + 1)) == NULL) {
			skd_store_blobs_free(b, i);
			b = NULL;
			goto err;
		}
		memcpy(b[i].data, v[i]->bv_val, v[i]->bv_len);
		b[i].data[v[i]->bv_len] = '\0';
		b[i].len = v[i]->bv_len;
	}
	*out = b;
	*out_n = n;
	ok = 1;
 err:
	ldap_value_free_len(v);
	return ok;
}

size_t
skd_store_i_count_values(LDAP *ld, LDAPMessage *e, const char *attr)
{
	struct berval **v;
	size_t n = 0;

	if ((v = ldap_get_values_len(ld, e, attr)) != NULL) {
		while (v[n] != NULL)
			n++;
		ldap_value_free_len(v);
	}
	return n;
}

int
skd_store_i_get_str(LDAP *ld, LDAPMessage *e, const char *attr, char **out)
{
	size_t len;

	if (!skd_store_i_get_blob(ld, e, attr, (unsigned char **)out, &len))
		return 0;
	if (*out != NULL && memchr(*out, '\0', len) != NULL) {
		free(*out);
		*out = NULL;
		return 0;
	}
	return 1;
}

/*
 * skd_store_i_read_str reads entry dn (consumed: freed here; NULL, as
 * skd_store_i_dn returns for an empty name, is _INVALID) and the one
 * string value of attr into *out (caller frees; NULL when the entry has
 * none).  Returns 0 on error: no such entry (_NOT_FOUND), a value that is
 * no string (_INVALID), the directory's.
 */
int
skd_store_i_read_str(struct skd_store *s, char *dn, const char *attr,
    char **out)
{
	LDAPMessage *res = NULL, *e;
	char *attrs[] = { (char *)attr, NULL };
	int ok = 0;

	*out = NULL;
	if (dn == NULL)		/* an empty name (or out of memory) */
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "no DN for %s", attr);
	if (!skd_store_i_read(s, &res, &e, dn, attrs))
		goto err;
	if (!skd_store_i_get_str(s->ld, e, attr, out)) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "malformed %s of %s",
		    attr, dn);
		goto err;
	}
	ok = 1;
 err:
	ldap_msgfree(res);
	free(dn);
	return ok;
}

int
skd_store_i_get_strs(LDAP *ld, LDAPMessage *e, const char *attr, char ***out,
    size_t *out_n)
{
	struct skd_store_blob *b;
	char **v = NULL;
	size_t i, n;

	*out = NULL;
	*out_n = 0;
	if (!skd_store_i_get_blobs(ld, e, attr, &b, &n))
		return 0;
	if (n == 0)
		return 1;
	if ((v = calloc(n, sizeof(*v))) == NULL) {
		skd_store_blobs_free(b, n);
		return 0;
	}
	for (i = 0; i < n; i++) {
		v[i] = (char *)b[i].data;	/* NUL-terminated by get_blobs */
		if (memchr(v[i], '\0', b[i].len) != NULL) {
			free(v);
			skd_store_blobs_free(b, n);
			return 0;
		}
	}
	free(b);
	*out = v;
	*out_n = n;
	return 1;
}

int
skd_store_i_get_int(LDAP *ld, LDAPMessage *e, const char *attr,
    long long *out, long long dflt)
{
	char *s = NULL, *end;
	long long v;

	*out = dflt;
	if (!skd_store_i_get_str(ld, e, attr, &s))
		return 0;
	if (s == NULL)
		return 1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0') {
		free(s);
		return 0;
	}
	free(s);
	*out = v;
	return 1;
}

int
skd_store_i_get_bool(LDAP *ld, LDAPMessage *e, const char *attr, int *out,
    int dflt)
{
	char *s = NULL;
	int ok = 1;

	*out = dflt;
	if (!skd_store_i_get_str(ld, e, attr, &s))
		return 0;
	if (s == NULL)
		return 1;
	if (strcmp(s, "TRUE") == 0)
		*out = 1;
	else if (strcmp(s, "FALSE") == 0)
		*out = 0;
	else
		ok = 0;
	free(s);
	return ok;
}

int
skd_store_i_get_time(LDAP *ld, LDAPMessage *e, const char *attr, time_t *out)
{
	char *s = NULL;
	int ok;

	*out = 0;
	if (!skd_store_i_get_str(ld, e, attr, &s))
		return 0;
	if (s == NULL)
		return 1;
	ok = skd_store_time_parse(out, s);
	free(s);
	return ok;
}

int
skd_store_i_get_fields(LDAP *ld, LDAPMessage *e, void *out,
    const struct skd_store_i_field *f, size_t n)
{
	char *base = out, *id;
	long long v;
	size_t i;
	void *p;
	int ok;

	for (i = 0; i < n; i++) {
		p = base + f[i].off;
		switch (f[i].kind) {
		case SKD_STORE_I_STR:
			ok = skd_store_i_get_str(ld, e, f[i].attr, p) &&
			    (!f[i].required || *(char **)p != NULL);
			break;
		case SKD_STORE_I_STRS:
			ok = skd_store_i_get_strs(ld, e, f[i].attr, p,
			    (size_t *)(base + f[i].n_off));
			break;
		case SKD_STORE_I_BLOB:
			ok = skd_store_i_get_blob(ld, e, f[i].attr, p,
			    (size_t *)(base + f[i].n_off));
			break;
		case SKD_STORE_I_TIME:
			ok = skd_store_i_get_time(ld, e, f[i].attr, p);
			break;
		case SKD_STORE_I_BOOL:
			ok = skd_store_i_get_bool(ld, e, f[i].attr, p, 0);
			break;
		case SKD_STORE_I_INT:
			ok = skd_store_i_get_int(ld, e, f[i].attr, &v, 0) &&
			    v >= f[i].lo && v <= f[i].hi;
			if (ok)
				*(int *)p = (int)v;
			break;
		case SKD_STORE_I_ID:
			id = NULL;
			ok = skd_store_i_get_str(ld, e, f[i].attr, &id) &&
			    id != NULL && strlen(id) < SKD_STORE_ID_LEN;
			if (ok)
				memcpy(p, id, strlen(id) + 1);
			free(id);
			break;
		default:
			ok = 0;
			break;
		}
		if (!ok)
			return 0;
	}
	return 1;
}

/* ---- vectors and sets ------------------------------------------------------- */

void
skd_store_i_strs_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
skd_store_i_strs_dup(char ***out, const char *const *v, size_t n)
{
	char **d;
	size_t i;

	*out = NULL;
	if (n == 0)
		return 1;
	if ((d = calloc(n, sizeof(*d))) == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		if ((d[i] = strdup(v[i])) == NULL) {
			skd_store_i_strs_free(d, i);
			return 0;
		}
	}
	*out = d;
	return 1;
}

void
skd_store_blobs_free(struct skd_store_blob *b, size_t n)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < n; i++)
		free(b[i].data);
	free(b);
}

int
skd_store_i_same_bytes(const unsigned char *a, size_t na,
    const unsigned char *b, size_t nb)
{
	if (na != nb)
		return 0;
	return na == 0 || memcmp(a, b, na) == 0;
}

/*
 * Set equality by matching: O(n^2), fine for the few values an entry holds
 * (a shard holds K recipients, K in the tens or hundreds).  Strings compare
 * exactly; the directory may compare them case-insensitively, which only
 * makes a replay with other case a (reported) difference.
 */
int
skd_store_i_same_strs(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i, j;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++) {
			if (strcmp(a[i], b[j]) == 0)
				break;
		}
		if (j == nb)
			return 0;
	}
	return 1;
}

int
skd_store_i_same_blobs(const struct skd_store_blob *a, size_t na,
    const struct skd_store_blob *b, size_t nb)
{
	size_t i, j;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++) {
			if (skd_store_i_same_bytes(a[i].data, a[i].len,
			    b[j].data, b[j].len))
				break;
		}
		if (j == nb)
			return 0;
	}
	return 1;
}

void *
skd_store_i_grow(struct skd_store *s, void *v, size_t n, size_t *cap,
    size_t size)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return v;
	ncap = *cap == 0 ? 16 : *cap * 2;
	if ((nv = reallocarray(v, ncap, size)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		return NULL;
	}
	*cap = ncap;
	return nv;
}

int
skd_store_i_collect_dn(struct skd_store *s, LDAPMessage *e, void *arg)
{
	struct skd_store_i_dns *d = arg;
	char *dn, **nv;

	if ((nv = skd_store_i_grow(s, d->v, d->n, &d->cap,
	    sizeof(*nv))) == NULL)
		return 0;
	d->v = nv;
	if ((dn = ldap_get_dn(s->ld, e)) == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "entry DN");
	d->v[d->n] = strdup(dn);
	ldap_memfree(dn);
	if (d->v[d->n] == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
		    "out of memory");
	d->n++;
	return 1;
}

/* store_list_entry is the search_each callback of skd_store_i_search_list. */
static int
store_list_entry(struct skd_store *s, LDAPMessage *e, void *arg)
{
	struct skd_store_i_list *l = arg;
	void *nv, *slot;

	if ((nv = skd_store_i_grow(s, l->v, l->n, &l->cap, l->size)) == NULL)
		return 0;
	l->v = nv;
	slot = (char *)l->v + l->n * l->size;
	memset(slot, 0, l->size);
	if (!l->parse(s, slot, e, l->ctx)) {
		l->cleanup(slot);
		return 0;
	}
	l->n++;
	return 1;
}

void
skd_store_i_list_free(void *v, size_t n, size_t size,
    void (*cleanup)(void *elem))
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		cleanup((char *)v + i * size);
	free(v);
}

int
skd_store_i_search_list(struct skd_store *s, struct skd_store_i_list *l,
    const char *base, int scope, const char *filter, char **attrs,
    int page_size)
{
	if (skd_store_i_search_each(s, base, scope, filter, attrs, page_size,
	    store_list_entry, l))
		return 1;
	skd_store_i_list_free(l->v, l->n, l->size, l->cleanup);
	l->v = NULL;
	l->n = l->cap = 0;
	return 0;
}

/* store_pair_entry is the search_each callback of skd_store_i_search_pairs. */
static int
store_pair_entry(struct skd_store *s, LDAPMessage *e, void *arg)
{
	const struct skd_store_i_pairs *p = arg;
	char *v1 = NULL, *v2 = NULL;
	int r;

	if (!skd_store_i_get_str(s->ld, e, p->a1, &v1) ||
	    !skd_store_i_get_str(s->ld, e, p->a2, &v2) ||
	    v1 == NULL || (v2 == NULL && p->dflt2 == NULL)) {
		free(v1);
		free(v2);
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "%s",
		    p->bad);
	}
	r = p->cb(p->arg, v1, v2 != NULL ? v2 : p->dflt2);
	free(v1);
	free(v2);
	return r != 0 ? 2 : 1;
}

int
skd_store_i_search_pairs(struct skd_store *s,
    const struct skd_store_i_pairs *p, const char *base, const char *filter,
    int page_size)
{
	char *attrs[] = { (char *)p->a1, (char *)p->a2, NULL };

	return skd_store_i_search_each(s, base, LDAP_SCOPE_ONELEVEL, filter,
	    attrs, page_size, store_pair_entry, (void *)p);
}

int
skd_store_i_write(struct skd_store *s, int add, const char *dn,
    struct skd_store_i_mods *m, const char *what)
{
	LDAPMod **mv;
	int rc;

	if ((mv = skd_store_i_mods_get(m)) == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
		    "out of memory");
	rc = add ? skd_store_i_add(s, dn, mv) :
	    skd_store_i_modify(s, dn, mv, NULL);
	if (rc != LDAP_SUCCESS)
		return skd_store_i_ldap_fail(s, rc, what, dn);
	return 1;
}

int
skd_store_i_add_value(struct skd_store *s, const char *dn, const char *attr,
    const char *value, const char *what)
{
	struct skd_store_i_mods m;
	LDAPMod **mv;
	int rc, ok = 0;

	skd_store_i_mods_init(&m);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, attr, value);
	if ((mv = skd_store_i_mods_get(&m)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	rc = skd_store_i_modify(s, dn, mv, NULL);
	if (rc != LDAP_SUCCESS && rc != LDAP_TYPE_OR_VALUE_EXISTS) {
		skd_store_i_ldap_fail(s, rc, what, dn);
		goto err;
	}
	ok = 1;
 err:
	skd_store_i_mods_cleanup(&m);
	return ok;
}

int
skd_store_i_delete_dn(struct skd_store *s, char *dn, const char *bad,
    const char *what)
{
	int rc, ok = 0;

	if (dn == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "%s", bad);
		goto err;
	}
	if ((rc = skd_store_i_delete(s, dn)) != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, what, dn);
		goto err;
	}
	ok = 1;
 err:
	free(dn);
	return ok;
}
