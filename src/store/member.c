/*
 * member.c: GL members and owners, entries under their GL:
 * skdMemberName=<name>,skdGLName=<gl>,... and skdOwnerName=<name>,...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_local.h"

struct role_names {
	const char	*oc, *name, *addr, *dn;
};

static const struct role_names role_tab[] = {
	[SKD_STORE_MEMBER] = { OC_MEMBER, A_MEMBERNAME, A_MEMBERADDR,
	    A_MEMBERDN },
	[SKD_STORE_OWNER] = { OC_OWNER, A_OWNERNAME, A_OWNERADDR, A_OWNERDN },
};

static const struct role_names *
role_get(enum skd_store_role role)
{
	if ((unsigned)role > SKD_STORE_OWNER)
		return NULL;
	return &role_tab[role];
}

void
skd_store_member_free(struct skd_store_member *m)
{
	if (m == NULL)
		return;
	free(m->name);
	free(m->address);
	free(m->cert);
	free(m->dn);
	skd_store_i_strs_free(m->acks, m->n_acks);
	free(m);
}

static void
member_cleanup(struct skd_store_member *m)
{
	free(m->name);
	free(m->address);
	free(m->cert);
	free(m->dn);
	skd_store_i_strs_free(m->acks, m->n_acks);
	memset(m, 0, sizeof(*m));
}

void
skd_store_member_list_free(struct skd_store_member *list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		member_cleanup(&list[i]);
	free(list);
}

/* member_dn returns the DN of name under GL gl_name (malloc'd). */
static char *
member_dn(struct skd_store *s, const struct role_names *rn,
    const char *gl_name, const char *name)
{
	char *gdn, *dn;

	if (gl_name == NULL || name == NULL)
		return NULL;
	gdn = skd_store_i_dn(A_GLNAME, gl_name, NULL, NULL, s->groups_dn);
	if (gdn == NULL)
		return NULL;
	dn = skd_store_i_dn(rn->name, name, NULL, NULL, gdn);
	free(gdn);
	return dn;
}

int
skd_store_add_member(struct skd_store *s, const char *gl_name,
    enum skd_store_role role, const struct skd_store_member *m)
{
	const struct role_names *rn = role_get(role);
	struct skd_store_i_mods mods;
	LDAPMod **mv;
	char *dn = NULL, since[16];
	int rc, ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&mods);
	if (rn == NULL || m == NULL ||
	    (dn = member_dn(s, rn, gl_name, m->name)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "member name");
		goto err;
	}
	skd_store_i_mods_str(&mods, LDAP_MOD_ADD, A_OC, rn->oc);
	skd_store_i_mods_str(&mods, LDAP_MOD_ADD, rn->name, m->name);
	if (m->address != NULL)
		skd_store_i_mods_str(&mods, LDAP_MOD_ADD, rn->addr, m->address);
	if (m->cert != NULL) {
		skd_store_i_mods_one(&mods, LDAP_MOD_ADD, A_CERT, m->cert,
		    m->cert_len);
	}
	if (m->dn != NULL)
		skd_store_i_mods_str(&mods, LDAP_MOD_ADD, rn->dn, m->dn);
	if (role == SKD_STORE_MEMBER) {
		skd_store_time_str(since, m->since != 0 ? m->since :
		    time(NULL));
		skd_store_i_mods_str(&mods, LDAP_MOD_ADD, A_MEMBERSINCE, since);
	}
	if ((mv = skd_store_i_mods_get(&mods)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	/* A missing GL shows as noSuchObject (the parent): _NOT_FOUND. */
	if ((rc = skd_store_i_add(s, dn, mv)) != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, "add member", dn);
		goto err;
	}
	ok = 1;
 err:
	skd_store_i_mods_cleanup(&mods);
	free(dn);
	return ok;
}

int
skd_store_remove_member(struct skd_store *s, const char *gl_name,
    enum skd_store_role role, const char *name)
{
	const struct role_names *rn = role_get(role);
	char *dn = NULL;
	int rc, ok = 0;

	skd_store_i_ok(s);
	if (rn == NULL || (dn = member_dn(s, rn, gl_name, name)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "member name");
		goto err;
	}
	if ((rc = skd_store_i_delete(s, dn)) != LDAP_SUCCESS) {
		skd_store_i_ldap_fail(s, rc, "remove member", dn);
		goto err;
	}
	ok = 1;
 err:
	free(dn);
	return ok;
}

/* member_parse fills *m (zeroed by the caller) from entry e. */
static int
member_parse(struct skd_store *s, struct skd_store_member *m,
    const struct role_names *rn, LDAPMessage *e)
{
	if (!skd_store_i_get_str(s->ld, e, rn->name, &m->name) ||
	    !skd_store_i_get_str(s->ld, e, rn->addr, &m->address) ||
	    !skd_store_i_get_blob(s->ld, e, A_CERT, &m->cert, &m->cert_len) ||
	    !skd_store_i_get_str(s->ld, e, rn->dn, &m->dn) ||
	    !skd_store_i_get_strs(s->ld, e, A_ACK, &m->acks, &m->n_acks) ||
	    !skd_store_i_get_time(s->ld, e, A_MEMBERSINCE, &m->since) ||
	    m->name == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "malformed member entry");
	return 1;
}

static char *member_attrs[] = {
	A_MEMBERNAME, A_MEMBERADDR, A_MEMBERDN, A_OWNERNAME, A_OWNERADDR,
	A_OWNERDN, A_CERT, A_ACK, A_MEMBERSINCE, NULL
};

int
skd_store_read_member(struct skd_store *s, struct skd_store_member **out_m,
    const char *gl_name, enum skd_store_role role, const char *name)
{
	const struct role_names *rn = role_get(role);
	struct skd_store_member *m = NULL;
	LDAPMessage *res = NULL, *e;
	char *dn = NULL;
	int ok = 0;

	*out_m = NULL;
	skd_store_i_ok(s);
	if (rn == NULL || (dn = member_dn(s, rn, gl_name, name)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "member name");
		goto err;
	}
	if (!skd_store_i_read(s, &res, &e, dn, member_attrs))
		goto err;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	if (!member_parse(s, m, rn, e))
		goto err;
	*out_m = m;
	m = NULL;
	ok = 1;
 err:
	skd_store_member_free(m);
	ldap_msgfree(res);
	free(dn);
	return ok;
}

struct member_list {
	const struct role_names	*rn;
	struct skd_store_member	*v;
	size_t			 n, cap;
};

static int
member_list_cb(struct skd_store *s, LDAPMessage *e, void *arg)
{
	struct member_list *l = arg;
	struct skd_store_member *nv;

	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 16 : l->cap * 2;

		if ((nv = reallocarray(l->v, cap, sizeof(*nv))) == NULL)
			return skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
			    "out of memory");
		l->v = nv;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	if (!member_parse(s, &l->v[l->n], l->rn, e)) {
		member_cleanup(&l->v[l->n]);
		return 0;
	}
	l->n++;
	return 1;
}

int
skd_store_list_members(struct skd_store *s,
    struct skd_store_member **out_list, size_t *out_n, const char *gl_name,
    enum skd_store_role role)
{
	struct member_list l = { NULL, NULL, 0, 0 };
	char *gdn = NULL, filter[64];
	int ok = 0;

	*out_list = NULL;
	*out_n = 0;
	skd_store_i_ok(s);
	if ((l.rn = role_get(role)) == NULL || gl_name == NULL ||
	    (gdn = skd_store_i_dn(A_GLNAME, gl_name, NULL, NULL,
	    s->groups_dn)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
		goto err;
	}
	(void)snprintf(filter, sizeof(filter), "(objectClass=%s)", l.rn->oc);
	if (!skd_store_i_search_each(s, gdn, LDAP_SCOPE_ONELEVEL, filter,
	    member_attrs, 500, member_list_cb, &l))
		goto err;
	*out_list = l.v;
	*out_n = l.n;
	l.v = NULL;
	l.n = 0;
	ok = 1;
 err:
	skd_store_member_list_free(l.v, l.n);
	free(gdn);
	return ok;
}

int
skd_store_ack_member(struct skd_store *s, const char *gl_name,
    const char *name, const char *key_id)
{
	const struct role_names *rn = role_get(SKD_STORE_MEMBER);
	struct skd_store_i_mods m;
	LDAPMod **mv;
	char *dn = NULL;
	int rc, ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if (key_id == NULL || key_id[0] == '\0' ||
	    (dn = member_dn(s, rn, gl_name, name)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "member or key id");
		goto err;
	}
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_ACK, key_id);
	if ((mv = skd_store_i_mods_get(&m)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	rc = skd_store_i_modify(s, dn, mv, NULL);
	/* RFC 5275 5.1 2.c: acknowledging again changes nothing. */
	if (rc != LDAP_SUCCESS && rc != LDAP_TYPE_OR_VALUE_EXISTS) {
		skd_store_i_ldap_fail(s, rc, "acknowledge", dn);
		goto err;
	}
	ok = 1;
 err:
	skd_store_i_mods_cleanup(&m);
	free(dn);
	return ok;
}
