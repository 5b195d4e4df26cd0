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
	A_GENCOUNT, A_KEYALG, A_REVISION, A_GLSTATE, A_CERT, A_MAILPOLICY, NULL
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
	free(gl->mail_policy);
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
	char *dn = NULL;
	int ok = 0;

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
	if (!skd_store_i_write(s, 1, dn, &m, "create GL"))
		goto err;
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
	char *dn = NULL;
	int ok = 0;

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
	if (!skd_store_i_write(s, 0, dn, &m, "update GL"))
		goto err;
	if (out_revision != NULL)
		*out_revision = gl->revision + 1;
	ok = 1;
 err:
	skd_store_i_mods_cleanup(&m);
	free(dn);
	return ok;
}

#define T struct skd_store_gl
static const struct skd_store_i_field gl_fields[] = {
	SKD_STORE_I_F_REQ(T, name, A_GLNAME),
	SKD_STORE_I_F_REQ(T, address, A_GLADDR),
	SKD_STORE_I_F(T, STR, key_alg, A_KEYALG),
	SKD_STORE_I_F(T, STR, state, A_GLSTATE),
	SKD_STORE_I_F(T, STR, mail_policy, A_MAILPOLICY),
	SKD_STORE_I_F_N(T, BLOB, cert, cert_len, A_CERT),
	SKD_STORE_I_F(T, BOOL, rekey_by_glo, A_REKEYGLO),
	SKD_STORE_I_F(T, BOOL, not_mutually_aware, A_NOTAWARE),
	SKD_STORE_I_F_INT(T, administration, INT32_MIN, INT32_MAX, A_GLADMIN),
	SKD_STORE_I_F_INT(T, duration, INT32_MIN, INT32_MAX, A_DURATION),
	SKD_STORE_I_F_INT(T, generation_counter, INT32_MIN, INT32_MAX,
	    A_GENCOUNT),
};
#undef T

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
	if (!skd_store_i_get_fields(s->ld, e, gl, gl_fields,
	    SKD_STORE_I_NITEMS(gl_fields)))
		goto bad;
	/* The revision is 64-bit, unlike the table's ints. */
	if (!skd_store_i_get_int(s->ld, e, A_REVISION, &v, 0) || v <= 0)
		goto bad;
	gl->revision = (uint64_t)v;
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
	char *dn = NULL;
	int ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (name == NULL || (dn = gl_dn(s, name)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
		goto err;
	}
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, A_GLSTATE, "deleted");
	if (!skd_store_i_write(s, 0, dn, &m, "mark GL deleted"))
		goto err;
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

int
skd_store_list_gls(struct skd_store *s, skd_store_gl_cb cb, void *arg,
    int page_size)
{
	/* No skdGLState is an active list (skd_store_gl.state NULL). */
	struct skd_store_i_pairs p = { A_GLNAME, A_GLSTATE, "active",
	    "malformed GL entry", cb, arg };

	skd_store_i_ok(s);
	if (cb == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "no callback");
	return skd_store_i_search_pairs(s, &p, s->groups_dn,
	    "(objectClass=" OC_GL ")", page_size);
}
