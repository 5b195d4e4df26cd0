/*
 * gl.c: GL records, skdGLName=<name>,ou=groups,<base> (RFC 5275 3.1.1
 * GLInfo and glKeyAttributes, as stored).  Updates are compare-and-swap on
 * skdRevision.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_local.h"

static char *gl_attrs[] = {
	A_GLNAME, A_GLADDR, A_GLADMIN, A_REKEYGLO, A_NOTAWARE, A_DURATION,
	A_GENCOUNT, A_KEYALG, A_REVISION, A_GLSTATE, A_CERT, NULL
};

void
skd_store_gl_free(struct skd_store_gl *gl)
{
	if (gl == NULL)
		return;
	free(gl->name);
	free(gl->address);
	free(gl->key_alg);
	free(gl->state);
	free(gl->cert);
	free(gl);
}

static char *
gl_dn(struct skd_store *s, const char *name)
{
	return skd_store_i_dn(A_GLNAME, name, NULL, NULL, s->groups_dn);
}

/* Numbers formatted for the mods; they live as long as the mods. */
struct gl_nums {
	char	admin[24], duration[24], gencount[24], rev_old[24], rev_new[24];
};

/*
 * gl_mods adds the attributes of gl with op (LDAP_MOD_ADD for a new entry,
 * LDAP_MOD_REPLACE for an update, where absent optional values remove the
 * attribute).
 */
static void
gl_mods(struct skd_store_i_mods *m, struct gl_nums *nb,
    const struct skd_store_gl *gl, int op)
{
	int add = op == LDAP_MOD_ADD;

	snprintf(nb->admin, sizeof(nb->admin), "%d", gl->administration);
	snprintf(nb->duration, sizeof(nb->duration), "%d", gl->duration);
	snprintf(nb->gencount, sizeof(nb->gencount), "%d",
	    gl->generation_counter);
	if (add) {
		skd_store_i_mods_str(m, op, A_OC, OC_GL);
		skd_store_i_mods_str(m, op, A_GLNAME, gl->name);
	}
	skd_store_i_mods_str(m, op, A_GLADDR, gl->address);
	skd_store_i_mods_str(m, op, A_GLADMIN, nb->admin);
	skd_store_i_mods_str(m, op, A_REKEYGLO,
	    gl->rekey_by_glo ? "TRUE" : "FALSE");
	skd_store_i_mods_str(m, op, A_NOTAWARE,
	    gl->not_mutually_aware ? "TRUE" : "FALSE");
	skd_store_i_mods_str(m, op, A_DURATION, nb->duration);
	skd_store_i_mods_str(m, op, A_GENCOUNT, nb->gencount);
	if (!add || gl->key_alg != NULL)
		skd_store_i_mods_str(m, op, A_KEYALG, gl->key_alg);
	if (!add || gl->state != NULL) {
		skd_store_i_mods_str(m, op, A_GLSTATE,
		    gl->state != NULL ? gl->state : "active");
	}
	if (!add || gl->cert != NULL)
		skd_store_i_mods_one(m, op, A_CERT, gl->cert, gl->cert_len);
}

static int
gl_check(struct skd_store *s, const struct skd_store_gl *gl)
{
	if (gl == NULL || gl->name == NULL || gl->name[0] == '\0' ||
	    gl->address == NULL || gl->address[0] == '\0')
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "GL without a name or address");
	return 1;
}

int
skd_store_create_gl(struct skd_store *s, const struct skd_store_gl *gl)
{
	struct skd_store_i_mods m;
	struct gl_nums nb;
	LDAPMod **mods;
	char *dn = NULL;
	int rc, ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (!gl_check(s, gl))
		goto err;
	if ((dn = gl_dn(s, gl->name)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
		goto err;
	}
	gl_mods(&m, &nb, gl, LDAP_MOD_ADD);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_REVISION, "1");
	if ((mods = skd_store_i_mods_get(&m)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	if ((rc = skd_store_i_add(s, dn, mods)) != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, "create GL", dn);
		goto err;
	}
	ok = 1;
 err:
	skd_store_i_mods_cleanup(&m);
	free(dn);
	return ok;
}

int
skd_store_update_gl(struct skd_store *s, uint64_t *out_revision,
    const struct skd_store_gl *gl)
{
	struct skd_store_i_mods m;
	struct gl_nums nb;
	LDAPMod **mods;
	char *dn = NULL;
	int rc, ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (!gl_check(s, gl))
		goto err;
	if (gl->revision == 0 || gl->revision >= INT64_MAX) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL revision");
		goto err;
	}
	if ((dn = gl_dn(s, gl->name)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
		goto err;
	}
	snprintf(nb.rev_old, sizeof(nb.rev_old), "%" PRIu64, gl->revision);
	snprintf(nb.rev_new, sizeof(nb.rev_new), "%" PRIu64,
	    gl->revision + 1);
	/* Compare-and-swap: the delete of the old value fails with
	 * noSuchAttribute if another writer moved the revision on, and the
	 * whole modify is then refused (RFC 4511 4.6: atomic). */
	skd_store_i_mods_str(&m, LDAP_MOD_DELETE, A_REVISION, nb.rev_old);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_REVISION, nb.rev_new);
	gl_mods(&m, &nb, gl, LDAP_MOD_REPLACE);
	if ((mods = skd_store_i_mods_get(&m)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	if ((rc = skd_store_i_modify(s, dn, mods, NULL)) != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, "update GL", dn);
		goto err;
	}
	if (out_revision != NULL)
		*out_revision = gl->revision + 1;
	ok = 1;
 err:
	skd_store_i_mods_cleanup(&m);
	free(dn);
	return ok;
}

int
skd_store_read_gl(struct skd_store *s, struct skd_store_gl **out_gl,
    const char *name)
{
	struct skd_store_gl *gl = NULL;
	LDAPMessage *res = NULL, *e;
	long long v;
	char *dn = NULL;
	int ok = 0;

	*out_gl = NULL;
	skd_store_i_ok(s);
	if (name == NULL || (dn = gl_dn(s, name)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
		goto err;
	}
	if (!skd_store_i_read(s, &res, &e, dn, gl_attrs))
		goto err;
	if ((gl = calloc(1, sizeof(*gl))) == NULL)
		goto oom;
	if (!skd_store_i_get_str(s->ld, e, A_GLNAME, &gl->name) ||
	    !skd_store_i_get_str(s->ld, e, A_GLADDR, &gl->address) ||
	    !skd_store_i_get_str(s->ld, e, A_KEYALG, &gl->key_alg) ||
	    !skd_store_i_get_str(s->ld, e, A_GLSTATE, &gl->state) ||
	    !skd_store_i_get_blob(s->ld, e, A_CERT, &gl->cert,
	    &gl->cert_len) ||
	    !skd_store_i_get_bool(s->ld, e, A_REKEYGLO, &gl->rekey_by_glo, 0) ||
	    !skd_store_i_get_bool(s->ld, e, A_NOTAWARE,
	    &gl->not_mutually_aware, 0))
		goto bad;
	if (!skd_store_i_get_int(s->ld, e, A_GLADMIN, &v, 0) ||
	    v < INT32_MIN || v > INT32_MAX)
		goto bad;
	gl->administration = (int)v;
	if (!skd_store_i_get_int(s->ld, e, A_DURATION, &v, 0) ||
	    v < INT32_MIN || v > INT32_MAX)
		goto bad;
	gl->duration = (int)v;
	if (!skd_store_i_get_int(s->ld, e, A_GENCOUNT, &v, 0) ||
	    v < INT32_MIN || v > INT32_MAX)
		goto bad;
	gl->generation_counter = (int)v;
	if (!skd_store_i_get_int(s->ld, e, A_REVISION, &v, 0) || v <= 0)
		goto bad;
	gl->revision = (uint64_t)v;
	if (gl->name == NULL || gl->address == NULL)
		goto bad;
	*out_gl = gl;
	gl = NULL;
	ok = 1;
	goto err;
 bad:
	skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "malformed GL entry %s",
	    dn);
	goto err;
 oom:
	skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
 err:
	skd_store_gl_free(gl);
	ldap_msgfree(res);
	free(dn);
	return ok;
}

int
skd_store_mark_gl_deleted(struct skd_store *s, const char *name)
{
	struct skd_store_i_mods m;
	LDAPMod **mods;
	char *dn = NULL;
	int rc, ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (name == NULL || (dn = gl_dn(s, name)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
		goto err;
	}
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_GLSTATE, "deleted");
	if ((mods = skd_store_i_mods_get(&m)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	if ((rc = skd_store_i_modify(s, dn, mods, NULL)) != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, "mark GL deleted", dn);
		goto err;
	}
	ok = 1;
 err:
	skd_store_i_mods_cleanup(&m);
	free(dn);
	return ok;
}

/* Deeper entries first: a child's DN is longer than its parent's. */
static int
gl_cmp_depth(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

int
skd_store_purge_gl(struct skd_store *s, const char *name)
{
	struct skd_store_i_dns d = { NULL, 0, 0 };
	char *dn = NULL, *no_attrs[] = { LDAP_NO_ATTRS, NULL };
	size_t i;
	int rc, ok = 0;

	skd_store_i_ok(s);
	if (name == NULL || (dn = gl_dn(s, name)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
		goto err;
	}
	/* slapd's back-mdb has no tree delete: delete leaves first. */
	if (!skd_store_i_search_each(s, dn, LDAP_SCOPE_SUBTREE,
	    "(objectClass=*)", no_attrs, 500, skd_store_i_collect_dn, &d))
		goto err;
	qsort(d.v, d.n, sizeof(*d.v), gl_cmp_depth);
	for (i = 0; i < d.n; i++) {
		rc = skd_store_i_delete(s, d.v[i]);
		/* Another purger may be deleting the same entries. */
		if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
			skd_store_i_ldap_fail(s, rc, "purge GL", d.v[i]);
			goto err;
		}
	}
	ok = 1;
 err:
	skd_store_i_strs_free(d.v, d.n);
	free(dn);
	return ok;
}

struct gl_list_arg {
	skd_store_gl_cb	 cb;
	void		*arg;
};

static int
gl_list_entry(struct skd_store *s, LDAPMessage *e, void *arg)
{
	struct gl_list_arg *la = arg;
	char *name = NULL, *state = NULL;
	int r;

	if (!skd_store_i_get_str(s->ld, e, A_GLNAME, &name) ||
	    !skd_store_i_get_str(s->ld, e, A_GLSTATE, &state) ||
	    name == NULL) {
		free(name);
		free(state);
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "malformed GL entry");
	}
	/* No skdGLState is an active list (skd_store_gl.state NULL). */
	r = la->cb(la->arg, name, state != NULL ? state : "active");
	free(name);
	free(state);
	return r != 0 ? 2 : 1;
}

int
skd_store_list_gls(struct skd_store *s, skd_store_gl_cb cb, void *arg,
    int page_size)
{
	struct gl_list_arg la = { cb, arg };
	char *attrs[] = { A_GLNAME, A_GLSTATE, NULL };

	skd_store_i_ok(s);
	if (cb == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "no callback");
	return skd_store_i_search_each(s, s->groups_dn, LDAP_SCOPE_ONELEVEL,
	    "(objectClass=" OC_GL ")", attrs, page_size, gl_list_entry, &la);
}
