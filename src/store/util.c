/*
 * util.c: modification lists, DN and filter escaping (by libldap), entry
 * value getters and set comparisons for the store.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/*
 * An entry's values are read in one pass over its attributes
 * (ldap_get_attribute_ber): libldap's ldap_get_values_len scans the entry
 * from its start for every attribute asked, so a table of k rows cost k
 * scans of the entry, on every member of a rekey's walk.  The values
 * point into the message (not copied); v_* copy what they keep.
 * Attribute descriptions compare as ldap_get_values_len compares them
 * (case-insensitive, options included).
 */
typedef int (*entry_attr_fn)(void *arg, const struct berval *name,
    const struct berval *v, size_t nv);

static size_t
bv_count(const struct berval *v)
{
	size_t n = 0;

	while (v != NULL && v[n].bv_val != NULL)
		n++;
	return n;
}

/* Calls fn for each attribute of e in order until it returns 0 (stop, as
 * found: 1 returned) or -1 (failure: 0 returned). */
static int
entry_attrs(LDAP *ld, LDAPMessage *e, entry_attr_fn fn, void *arg)
{
	BerElement *ber = NULL;
	struct berval dn, name, *v = NULL;
	int rc, r = 1;

	/* On failure libldap frees the BerElement it made. */
	if (ldap_get_dn_ber(ld, e, &ber, &dn) != LDAP_SUCCESS)
		return 0;
	for (rc = ldap_get_attribute_ber(ld, e, ber, &name, &v);
	    rc == LDAP_SUCCESS && name.bv_val != NULL;
	    rc = ldap_get_attribute_ber(ld, e, ber, &name, &v)) {
		r = fn(arg, &name, v, bv_count(v));
		ber_memfree(v);
		v = NULL;
		if (r <= 0)
			break;
	}
	ber_memfree(v);
	ber_free(ber, 0);
	return r >= 0 && (r == 0 || rc == LDAP_SUCCESS);
}

static int
attr_is(const struct berval *name, const char *attr)
{
	size_t n = strlen(attr);

	return name->bv_len == n && strncasecmp(name->bv_val, attr, n) == 0;
}

/* One attribute's values, for the single-attribute getters. */
struct attr_find {
	const char	*attr;
	int		(*take)(struct attr_find *, const struct berval *,
			    size_t);
	void		*out, *out2;
	long long	 dflt;
	int		 ok;
};

static int
attr_find_fn(void *arg, const struct berval *name, const struct berval *v,
    size_t nv)
{
	struct attr_find *a = arg;

	if (!attr_is(name, a->attr))
		return 1;
	a->ok = a->take(a, v, nv);
	return 0;
}

/* Runs a->take on attr's values, or on none when e has no attr. */
static int
attr_find(LDAP *ld, LDAPMessage *e, struct attr_find *a)
{
	a->ok = -1;
	if (!entry_attrs(ld, e, attr_find_fn, a))
		return 0;
	return a->ok == -1 ? a->take(a, NULL, 0) : a->ok;
}

static int
v_blob(const struct berval *v, size_t nv, unsigned char **out,
    size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (nv == 0)
		return 1;
	/* One extra NUL so that text values can be used as strings. */
	if ((*out = malloc(v[0].bv_len + 1)) == NULL)
		return 0;
	memcpy(*out, v[0].bv_val, v[0].bv_len);
	(*out)[v[0].bv_len] = '\0';
	*out_len = v[0].bv_len;
	return 1;
}

static int
v_blobs(const struct berval *v, size_t nv, struct skd_store_blob **out,
    size_t *out_n)
{
	struct skd_store_blob *b;
	size_t i;

	*out = NULL;
	*out_n = 0;
	if (nv == 0)
		return 1;
	if ((b = calloc(nv, sizeof(*b))) == NULL)
		return 0;
	for (i = 0; i < nv; i++) {
		if ((b[i].data = malloc(v[i].bv_len + 1)) == NULL) {
			skd_store_blobs_free(b, i);
			return 0;
		}
		memcpy(b[i].data, v[i].bv_val, v[i].bv_len);
		b[i].data[v[i].bv_len] = '\0';
		b[i].len = v[i].bv_len;
	}
	*out = b;
	*out_n = nv;
	return 1;
}

/* A string has no NUL inside. */
static int
v_str(const struct berval *v, size_t nv, char **out)
{
	*out = NULL;
	if (nv == 0)
		return 1;
	if (memchr(v[0].bv_val, '\0', v[0].bv_len) != NULL ||
	    (*out = malloc(v[0].bv_len + 1)) == NULL)
		return 0;
	memcpy(*out, v[0].bv_val, v[0].bv_len);
	(*out)[v[0].bv_len] = '\0';
	return 1;
}

static int
v_strs(const struct berval *v, size_t nv, char ***out, size_t *out_n)
{
	struct skd_store_blob *b;
	char **s;
	size_t i, n;

	*out = NULL;
	*out_n = 0;
	if (!v_blobs(v, nv, &b, &n))
		return 0;
	if (n == 0)
		return 1;
	if ((s = calloc(n, sizeof(*s))) == NULL) {
		skd_store_blobs_free(b, n);
		return 0;
	}
	for (i = 0; i < n; i++) {
		s[i] = (char *)b[i].data;	/* NUL-terminated by v_blobs */
		if (memchr(s[i], '\0', b[i].len) != NULL) {
			free(s);
			skd_store_blobs_free(b, n);
			return 0;
		}
	}
	free(b);
	*out = s;
	*out_n = n;
	return 1;
}

static int
v_int(const struct berval *v, size_t nv, long long *out, long long dflt)
{
	char *s = NULL, *end;
	long long n;

	*out = dflt;
	if (!v_str(v, nv, &s))
		return 0;
	if (s == NULL)
		return 1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0') {
		free(s);
		return 0;
	}
	free(s);
	*out = n;
	return 1;
}

static int
v_bool(const struct berval *v, size_t nv, int *out, int dflt)
{
	char *s = NULL;
	int ok = 1;

	*out = dflt;
	if (!v_str(v, nv, &s))
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

static int
v_time(const struct berval *v, size_t nv, time_t *out)
{
	char *s = NULL;
	int ok;

	*out = 0;
	if (!v_str(v, nv, &s))
		return 0;
	if (s == NULL)
		return 1;
	ok = skd_store_time_parse(out, s);
	free(s);
	return ok;
}

static int
take_blob(struct attr_find *a, const struct berval *v, size_t nv)
{
	return v_blob(v, nv, a->out, a->out2);
}

static int
take_blobs(struct attr_find *a, const struct berval *v, size_t nv)
{
	return v_blobs(v, nv, a->out, a->out2);
}

static int
take_str(struct attr_find *a, const struct berval *v, size_t nv)
{
	return v_str(v, nv, a->out);
}

static int
take_strs(struct attr_find *a, const struct berval *v, size_t nv)
{
	return v_strs(v, nv, a->out, a->out2);
}

static int
take_int(struct attr_find *a, const struct berval *v, size_t nv)
{
	return v_int(v, nv, a->out, a->dflt);
}

static int
take_time(struct attr_find *a, const struct berval *v, size_t nv)
{
	return v_time(v, nv, a->out);
}

static int
take_count(struct attr_find *a, const struct berval *v, size_t nv)
{
	(void)v;
	*(size_t *)a->out = nv;
	return 1;
}

int
skd_store_i_get_blob(LDAP *ld, LDAPMessage *e, const char *attr,
    unsigned char **out, size_t *out_len)
{
	struct attr_find a = { attr, take_blob, out, out_len, 0, 0 };

	*out = NULL;
	*out_len = 0;
	return attr_find(ld, e, &a);
}

int
skd_store_i_get_blobs(LDAP *ld, LDAPMessage *e, const char *attr,
    struct skd_store_blob **out, size_t *out_n)
{
	struct attr_find a = { attr, take_blobs, out, out_n, 0, 0 };

	*out = NULL;
	*out_n = 0;
	return attr_find(ld, e, &a);
}

size_t
skd_store_i_count_values(LDAP *ld, LDAPMessage *e, const char *attr)
{
	size_t n = 0;
	struct attr_find a = { attr, take_count, &n, NULL, 0, 0 };

	return attr_find(ld, e, &a) ? n : 0;
}

int
skd_store_i_get_str(LDAP *ld, LDAPMessage *e, const char *attr, char **out)
{
	struct attr_find a = { attr, take_str, out, NULL, 0, 0 };

	*out = NULL;
	return attr_find(ld, e, &a);
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
	struct attr_find a = { attr, take_strs, out, out_n, 0, 0 };

	*out = NULL;
	*out_n = 0;
	return attr_find(ld, e, &a);
}

int
skd_store_i_get_int(LDAP *ld, LDAPMessage *e, const char *attr,
    long long *out, long long dflt)
{
	struct attr_find a = { attr, take_int, out, NULL, dflt, 0 };

	*out = dflt;
	return attr_find(ld, e, &a);
}

int
skd_store_i_get_time(LDAP *ld, LDAPMessage *e, const char *attr, time_t *out)
{
	struct attr_find a = { attr, take_time, out, NULL, 0, 0 };

	*out = 0;
	return attr_find(ld, e, &a);
}

/* One row of a table from its attribute's values (none: absent). */
static int
field_take(const struct skd_store_i_field *f, char *base,
    const struct berval *v, size_t nv)
{
	void *p = base + f->off;
	char *id = NULL;
	long long n;
	int ok;

	switch (f->kind) {
	case SKD_STORE_I_STR:
		return v_str(v, nv, p) && (!f->required || *(char **)p != NULL);
	case SKD_STORE_I_STRS:
		return v_strs(v, nv, p, (size_t *)(base + f->n_off));
	case SKD_STORE_I_BLOB:
		return v_blob(v, nv, p, (size_t *)(base + f->n_off));
	case SKD_STORE_I_TIME:
		return v_time(v, nv, p);
	case SKD_STORE_I_BOOL:
		return v_bool(v, nv, p, 0);
	case SKD_STORE_I_INT:
		ok = v_int(v, nv, &n, 0) && n >= f->lo && n <= f->hi;
		if (ok)
			*(int *)p = (int)n;
		return ok;
	case SKD_STORE_I_ID:
		ok = v_str(v, nv, &id) && id != NULL &&
		    strlen(id) < SKD_STORE_ID_LEN;
		if (ok)
			memcpy(p, id, strlen(id) + 1);
		free(id);
		return ok;
	}
	return 0;
}

/* A table's rows found so far (a table has at most 64). */
struct fields_pass {
	const struct skd_store_i_field	*f;
	size_t				 n;
	char				*base;
	uint64_t			 seen;
};

static int
fields_fn(void *arg, const struct berval *name, const struct berval *v,
    size_t nv)
{
	struct fields_pass *fp = arg;
	size_t i;

	for (i = 0; i < fp->n; i++) {
		if ((fp->seen & ((uint64_t)1 << i)) != 0 ||
		    !attr_is(name, fp->f[i].attr))
			continue;
		fp->seen |= (uint64_t)1 << i;
		if (!field_take(&fp->f[i], fp->base, v, nv))
			return -1;
	}
	return 1;
}

int
skd_store_i_get_fields(LDAP *ld, LDAPMessage *e, void *out,
    const struct skd_store_i_field *f, size_t n)
{
	struct fields_pass fp = { f, n, out, 0 };
	size_t i;

	if (n > 64 || !entry_attrs(ld, e, fields_fn, &fp))
		return 0;
	for (i = 0; i < n; i++)
		if ((fp.seen & ((uint64_t)1 << i)) == 0 &&
		    !field_take(&f[i], fp.base, NULL, 0))
			return 0;
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
    int direct_max, int page_size)
{
	if (direct_max > 0 && scope == LDAP_SCOPE_ONELEVEL ?
	    skd_store_i_search_children(s, base, filter, attrs, direct_max,
	    page_size, store_list_entry, l) :
	    skd_store_i_search_each(s, base, scope, filter, attrs, page_size,
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
