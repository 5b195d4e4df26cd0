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

/* At most this many members (or owners) of a GL are read in one plain
 * search, handed on as they arrive (its entries held by libldap at most
 * while the caller writes between pages: about 1.6 MB with their
 * certificates); a GL with more is read page by page
 * (skd_store_i_search_children says why).  So for the walk, the count and
 * the list alike: the list is how a request reads the GL's owners. */
#define MEMBER_DIRECT	1000

static const struct role_names *
role_get(enum skd_store_role role)
{
	if ((unsigned)role > SKD_STORE_OWNER)
		return NULL;
	return &role_tab[role];
}

static void
member_cleanup(void *elem)
{
	struct skd_store_member *m = elem;

	free(m->name);
	free(m->address);
	free(m->cert);
	free(m->dn);
	skd_store_i_strs_free(m->acks, m->n_acks);
	memset(m, 0, sizeof(*m));
}

void
skd_store_member_free(struct skd_store_member *m)
{
	if (m == NULL)
		return;
	member_cleanup(m);
	free(m);
}

void
skd_store_member_list_free(struct skd_store_member *list, size_t n)
{
	skd_store_i_list_free(list, n, sizeof(*list), member_cleanup);
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
	char *dn = NULL, since[16];
	int ok = 0;

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
	/* A missing GL shows as noSuchObject (the parent): _NOT_FOUND. */
	if (!skd_store_i_write(s, 1, dn, &mods, "add member"))
		goto err;
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

	skd_store_i_ok(s);
	return skd_store_i_delete_dn(s, rn != NULL ?
	    member_dn(s, rn, gl_name, name) : NULL, "member name",
	    "remove member");
}

/* member_parse fills the skd_store_member at out (zeroed by the caller)
 * from entry e, with the attribute names of role rn (ctx). */
static int
member_parse(struct skd_store *s, void *out, LDAPMessage *e, const void *ctx)
{
	const struct role_names *rn = ctx;
#define T struct skd_store_member
	const struct skd_store_i_field f[] = {
		SKD_STORE_I_F_REQ(T, name, rn->name),
		SKD_STORE_I_F(T, STR, address, rn->addr),
		SKD_STORE_I_F_N(T, BLOB, cert, cert_len, A_CERT),
		SKD_STORE_I_F(T, STR, dn, rn->dn),
		SKD_STORE_I_F_N(T, STRS, acks, n_acks, A_ACK),
		SKD_STORE_I_F(T, TIME, since, A_MEMBERSINCE),
	};
#undef T

	if (!skd_store_i_get_fields(s->ld, e, out, f, SKD_STORE_I_NITEMS(f)))
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
	if (!member_parse(s, m, e, rn))
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

int
skd_store_list_members(struct skd_store *s,
    struct skd_store_member **out_list, size_t *out_n, const char *gl_name,
    enum skd_store_role role)
{
	const struct role_names *rn = role_get(role);
	struct skd_store_i_list l = { .size = sizeof(struct skd_store_member),
	    .parse = member_parse, .cleanup = member_cleanup, .ctx = rn };
	char *gdn = NULL, filter[64];
	int ok = 0;

	*out_list = NULL;
	*out_n = 0;
	skd_store_i_ok(s);
	if (rn == NULL || gl_name == NULL ||
	    (gdn = skd_store_i_dn(A_GLNAME, gl_name, NULL, NULL,
	    s->groups_dn)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
		goto err;
	}
	(void)snprintf(filter, sizeof(filter), "(objectClass=%s)", rn->oc);
	if (!skd_store_i_search_list(s, &l, gdn, LDAP_SCOPE_ONELEVEL, filter,
	    member_attrs, MEMBER_DIRECT, 500))
		goto err;
	*out_list = l.v;
	*out_n = l.n;
	ok = 1;
 err:
	free(gdn);
	return ok;
}

int
skd_store_ack_member(struct skd_store *s, const char *gl_name,
    const char *name, const char *key_id)
{
	const struct role_names *rn = role_get(SKD_STORE_MEMBER);
	char *dn = NULL;
	int ok;

	skd_store_i_ok(s);
	if (key_id == NULL || key_id[0] == '\0' ||
	    (dn = member_dn(s, rn, gl_name, name)) == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "member or key id");
	/* RFC 5275 5.1 2.c: acknowledging again changes nothing. */
	ok = skd_store_i_add_value(s, dn, A_ACK, key_id, "acknowledge");
	free(dn);
	return ok;
}

/* A page of members being gathered for skd_store_walk_members. */
struct walk {
	const struct role_names	*rn;
	struct skd_store_member	*v;
	size_t			 n, page;
	skd_store_page_cb	 cb;
	void			*arg;
};

static int
walk_flush(struct walk *w)
{
	int rc = 1;

	if (w->n > 0)
		rc = w->cb(w->arg, w->v, w->n);
	while (w->n > 0)
		member_cleanup(&w->v[--w->n]);
	return rc;
}

static int
walk_entry(struct skd_store *s, LDAPMessage *e, void *arg)
{
	struct walk *w = arg;

	memset(&w->v[w->n], 0, sizeof(w->v[w->n]));
	if (!member_parse(s, &w->v[w->n], e, w->rn)) {
		member_cleanup(&w->v[w->n]);
		return 0;
	}
	w->n++;
	if (w->n < w->page)
		return 1;
	if (!walk_flush(w))
		return skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
		    "member page refused");
	return 1;
}

int
skd_store_walk_members(struct skd_store *s, const char *gl_name,
    enum skd_store_role role, size_t page_size, skd_store_page_cb cb,
    void *arg)
{
	struct walk w;
	char *gdn = NULL, filter[64];
	int ok = 0;

	memset(&w, 0, sizeof(w));
	skd_store_i_ok(s);
	w.rn = role_get(role);
	w.page = page_size > 0 ? page_size : 200;
	w.cb = cb;
	w.arg = arg;
	if (w.rn == NULL || gl_name == NULL ||
	    (gdn = skd_store_i_dn(A_GLNAME, gl_name, NULL, NULL,
	    s->groups_dn)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
		goto err;
	}
	if ((w.v = calloc(w.page, sizeof(*w.v))) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	(void)snprintf(filter, sizeof(filter), "(objectClass=%s)", w.rn->oc);
	if (!skd_store_i_search_children(s, gdn, filter, member_attrs,
	    MEMBER_DIRECT, (int)w.page, walk_entry, &w))
		goto err;
	if (!walk_flush(&w)) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
		    "member page refused");
		goto err;
	}
	ok = 1;
 err:
	while (w.n > 0)
		member_cleanup(&w.v[--w.n]);
	free(w.v);
	free(gdn);
	return ok;
}

static int
count_entry(struct skd_store *s, LDAPMessage *e, void *arg)
{
	(void)s;
	(void)e;
	(*(size_t *)arg)++;
	return 1;
}

int
skd_store_count_members(struct skd_store *s, size_t *out_n,
    const char *gl_name, enum skd_store_role role)
{
	static char *no_attrs[] = { LDAP_NO_ATTRS, NULL };
	const struct role_names *rn = role_get(role);
	char *gdn = NULL, filter[64];
	int ok;

	*out_n = 0;
	skd_store_i_ok(s);
	if (rn == NULL || gl_name == NULL ||
	    (gdn = skd_store_i_dn(A_GLNAME, gl_name, NULL, NULL,
	    s->groups_dn)) == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
	(void)snprintf(filter, sizeof(filter), "(objectClass=%s)", rn->oc);
	ok = skd_store_i_search_children(s, gdn, filter, no_attrs,
	    MEMBER_DIRECT, 1000, count_entry, out_n);
	free(gdn);
	return ok;
}
