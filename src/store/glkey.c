/*
 * glkey.c: glKey entries, skdKeyId=<hex>+skdShard=<n>,skdGLName=<gl>,...
 * (RFC 5275 4.5 / 5: one signed glKey message per entry, or one shard of a
 * large mutually aware list).  Puts are idempotent so that replaying a
 * journal converges.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "store/store_local.h"

static char *glkey_attrs[] = {
	A_KEYID, A_GLNAME, A_SHARD, A_MESSAGE, A_RCPTNAME, A_RCPTDN,
	A_NOTBEFORE, A_NOTAFTER, A_ARCHKEK, A_MAILRCPTDN, NULL
};

/* Without the messages and recipient lists (skd_store_find_glkey_heads). */
static char *glkey_head_attrs[] = {
	A_KEYID, A_GLNAME, A_SHARD, A_NOTBEFORE, A_NOTAFTER, A_ARCHKEK, NULL
};

static void
glkey_cleanup(void *elem)
{
	struct skd_store_glkey *k = elem;

	free(k->key_id);
	free(k->gl_name);
	free(k->message);
	skd_store_i_strs_free(k->recipients, k->n_recipients);
	skd_store_i_strs_free(k->recipient_dns, k->n_recipient_dns);
	skd_store_i_strs_free(k->mail_dns, k->n_mail_dns);
	/* Wrapped, but still the GLA's key archive: wipe it. */
	OPENSSL_clear_free(k->archived_kek, k->archived_kek_len);
	memset(k, 0, sizeof(*k));
}

void
skd_store_glkey_free(struct skd_store_glkey *k)
{
	if (k == NULL)
		return;
	glkey_cleanup(k);
	free(k);
}

void
skd_store_glkey_list_free(struct skd_store_glkey *list, size_t n)
{
	skd_store_i_list_free(list, n, sizeof(*list), glkey_cleanup);
}

static char *
glkey_dn(struct skd_store *s, const char *gl_name, const char *key_id,
    int shard)
{
	char *gdn, *dn, sh[24];

	if (gl_name == NULL || key_id == NULL || shard < 0)
		return NULL;
	if ((gdn = skd_store_i_dn(A_GLNAME, gl_name, NULL, NULL,
	    s->groups_dn)) == NULL)
		return NULL;
	(void)snprintf(sh, sizeof(sh), "%d", shard);
	/* A compound RDN (DESIGN.md): one entry per shard of a key. */
	dn = skd_store_i_dn(A_KEYID, key_id, A_SHARD, sh, gdn);
	free(gdn);
	return dn;
}

#define T struct skd_store_glkey
static const struct skd_store_i_field glkey_fields[] = {
	SKD_STORE_I_F_REQ(T, key_id, A_KEYID),
	SKD_STORE_I_F_REQ(T, gl_name, A_GLNAME),
	SKD_STORE_I_F_INT(T, shard, 0, INT_MAX, A_SHARD),
	SKD_STORE_I_F_N(T, BLOB, message, message_len, A_MESSAGE),
	SKD_STORE_I_F_N(T, STRS, recipients, n_recipients, A_RCPTNAME),
	SKD_STORE_I_F_N(T, STRS, recipient_dns, n_recipient_dns, A_RCPTDN),
	SKD_STORE_I_F_N(T, STRS, mail_dns, n_mail_dns, A_MAILRCPTDN),
	SKD_STORE_I_F(T, TIME, not_before, A_NOTBEFORE),
	SKD_STORE_I_F(T, TIME, not_after, A_NOTAFTER),
	SKD_STORE_I_F_N(T, BLOB, archived_kek, archived_kek_len, A_ARCHKEK),
};
#undef T

/* glkey_parse fills the skd_store_glkey at out (zeroed) from entry e. */
static int
glkey_parse(struct skd_store *s, void *out, LDAPMessage *e,
    const void *ctx)
{
	(void)ctx;
	if (!skd_store_i_get_fields(s->ld, e, out, glkey_fields,
	    SKD_STORE_I_NITEMS(glkey_fields)))
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "malformed glKey entry");
	return 1;
}

/* glkey_read reads one glKey entry with the attributes attrs. */
static int
glkey_read(struct skd_store *s, struct skd_store_glkey **out_k,
    const char *gl_name, const char *key_id, int shard, char **attrs)
{
	struct skd_store_glkey *k = NULL;
	LDAPMessage *res = NULL, *e;
	char *dn = NULL;
	int ok = 0;

	*out_k = NULL;
	skd_store_i_ok(s);
	if ((dn = glkey_dn(s, gl_name, key_id, shard)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "glKey name");
		goto err;
	}
	if (!skd_store_i_read(s, &res, &e, dn, attrs))
		goto err;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	if (!glkey_parse(s, k, e, NULL))
		goto err;
	*out_k = k;
	k = NULL;
	ok = 1;
 err:
	skd_store_glkey_free(k);
	ldap_msgfree(res);
	free(dn);
	return ok;
}

int
skd_store_read_glkey(struct skd_store *s, struct skd_store_glkey **out_k,
    const char *gl_name, const char *key_id, int shard)
{
	return glkey_read(s, out_k, gl_name, key_id, shard, glkey_attrs);
}

/* glkey_same tells whether the stored key a holds what put was given. */
static int
glkey_same(const struct skd_store_glkey *a, const struct skd_store_glkey *b)
{
	return strcasecmp(a->key_id, b->key_id) == 0 &&
	    strcasecmp(a->gl_name, b->gl_name) == 0 &&
	    a->shard == b->shard &&
	    skd_store_i_same_bytes(a->message, a->message_len, b->message,
	    b->message_len) &&
	    skd_store_i_same_strs(a->recipients, a->n_recipients,
	    b->recipients, b->n_recipients) &&
	    skd_store_i_same_strs(a->recipient_dns, a->n_recipient_dns,
	    b->recipient_dns, b->n_recipient_dns) &&
	    skd_store_i_same_strs(a->mail_dns, a->n_mail_dns, b->mail_dns,
	    b->n_mail_dns) &&
	    a->not_before == b->not_before && a->not_after == b->not_after &&
	    skd_store_i_same_bytes(a->archived_kek, a->archived_kek_len,
	    b->archived_kek, b->archived_kek_len);
}

/* The texts of an add's numbers, which its values point into. */
struct glkey_texts {
	char	sh[24], nb[16], na[16];
};

/* The add of k: its DN in *out_dn (caller frees) and its values in m,
 * pointing into k and t. */
static int
glkey_mods(struct skd_store *s, const struct skd_store_glkey *k,
    struct skd_store_i_mods *m, struct glkey_texts *t, char **out_dn)
{
	*out_dn = NULL;
	if (k == NULL || k->key_id == NULL || k->key_id[0] == '\0' ||
	    (*out_dn = glkey_dn(s, k->gl_name, k->key_id, k->shard)) ==
	    NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "glKey name");
	(void)snprintf(t->sh, sizeof(t->sh), "%d", k->shard);
	skd_store_i_mods_class(s, m, OC_GLKEY, 1);
	skd_store_i_mods_str(m, LDAP_MOD_ADD, A_KEYID, k->key_id);
	skd_store_i_mods_str(m, LDAP_MOD_ADD, A_SHARD, t->sh);
	skd_store_i_mods_str(m, LDAP_MOD_ADD, A_GLNAME, k->gl_name);
	if (k->message != NULL) {
		skd_store_i_mods_one(m, LDAP_MOD_ADD, A_MESSAGE, k->message,
		    k->message_len);
	}
	if (k->n_recipients > 0) {
		skd_store_i_mods_strs(m, LDAP_MOD_ADD, A_RCPTNAME,
		    (const char *const *)k->recipients, k->n_recipients);
	}
	if (k->n_recipient_dns > 0) {
		skd_store_i_mods_strs(m, LDAP_MOD_ADD, A_RCPTDN,
		    (const char *const *)k->recipient_dns, k->n_recipient_dns);
	}
	if (k->n_mail_dns > 0) {
		skd_store_i_mods_strs(m, LDAP_MOD_ADD, A_MAILRCPTDN,
		    (const char *const *)k->mail_dns, k->n_mail_dns);
	}
	if (k->not_before != 0) {
		skd_store_time_str(t->nb, k->not_before);
		skd_store_i_mods_str(m, LDAP_MOD_ADD, A_NOTBEFORE, t->nb);
	}
	if (k->not_after != 0) {
		skd_store_time_str(t->na, k->not_after);
		skd_store_i_mods_str(m, LDAP_MOD_ADD, A_NOTAFTER, t->na);
	}
	if (k->archived_kek != NULL) {
		skd_store_i_mods_one(m, LDAP_MOD_ADD, A_ARCHKEK,
		    k->archived_kek, k->archived_kek_len);
	}
	return 1;
}

/* What the add of k at dn answered, rc: alreadyExists is success when the
 * entry there holds the same (a replayed journal writes it again). */
static int
glkey_added(struct skd_store *s, const struct skd_store_glkey *k,
    const char *dn, int rc)
{
	struct skd_store_glkey *old = NULL;
	int ok = 0;

	if (rc == LDAP_SUCCESS)
		return 1;
	if (rc != LDAP_ALREADY_EXISTS)
		return skd_store_i_ldap_fail(s, rc, "put glKey", dn);
	if (!skd_store_read_glkey(s, &old, k->gl_name, k->key_id, k->shard))
		return 0;
	if (!glkey_same(old, k))
		skd_store_i_fail(s, SKD_STORE_ERR_EXISTS,
		    "glKey %s exists with other content", dn);
	else
		ok = 1;
	skd_store_glkey_free(old);
	return ok;
}

int
skd_store_put_glkey(struct skd_store *s, const struct skd_store_glkey *k)
{
	return skd_store_put_glkeys(s, k, 1);
}

/* The values of one add of skd_store_put_glkeys (they point into t). */
struct glkey_add {
	struct skd_store_i_mods	 m;
	struct glkey_texts	 t;
};

int
skd_store_put_glkeys(struct skd_store *s, const struct skd_store_glkey *k,
    size_t n)
{
	struct glkey_add *a;
	LDAPMod ***mv = NULL;
	char **dn = NULL;
	int *rc = NULL, ok = 0;
	size_t i;

	skd_store_i_ok(s);
	if (n == 0)
		return 1;
	/* Zeroed: every add's values are empty (skd_store_i_mods_init). */
	if ((a = calloc(n, sizeof(*a))) == NULL ||
	    (mv = calloc(n, sizeof(*mv))) == NULL ||
	    (dn = calloc(n, sizeof(*dn))) == NULL ||
	    (rc = calloc(n, sizeof(*rc))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		if (!glkey_mods(s, &k[i], &a[i].m, &a[i].t, &dn[i]))
			goto err;
		if ((mv[i] = skd_store_i_mods_get(&a[i].m)) == NULL)
			goto oom;
	}
	if (!skd_store_i_add_many(s, n, dn, mv, rc, STORE_ADD_WINDOW))
		goto oom;
	for (i = 0; i < n; i++) {
		if (!glkey_added(s, &k[i], dn[i], rc[i]))
			goto err;
	}
	ok = 1;
	goto err;
 oom:
	skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
 err:
	for (i = 0; a != NULL && dn != NULL && i < n; i++) {
		skd_store_i_mods_cleanup(&a[i].m);
		free(dn[i]);
	}
	free(a);
	free(mv);
	free(dn);
	free(rc);
	return ok;
}

static int
find_glkeys(struct skd_store *s, struct skd_store_glkey **out_list,
    size_t *out_n, const char *gl_name, const char *recipient, char **attrs)
{
	struct skd_store_i_list l = { .size = sizeof(struct skd_store_glkey),
	    .parse = glkey_parse, .cleanup = glkey_cleanup };
	char *eg = NULL, *er = NULL, *filter = NULL;
	int ok = 0;

	*out_list = NULL;
	*out_n = 0;
	skd_store_i_ok(s);
	if (gl_name == NULL || gl_name[0] == '\0') {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
		goto err;
	}
	if ((eg = skd_store_i_filter_escape(gl_name)) == NULL ||
	    (recipient != NULL &&
	    (er = skd_store_i_filter_escape(recipient)) == NULL))
		goto oom;
	/* The one indexed search of DESIGN.md, from ou=groups: a member may
	 * not be allowed to see the GL entry itself, only its own keys. */
	if (er != NULL) {
		filter = skd_store_i_printf("(&(objectClass=" OC_GLKEY ")("
		    A_GLNAME "=%s)(" A_RCPTNAME "=%s))", eg, er);
	} else {
		filter = skd_store_i_printf("(&(objectClass=" OC_GLKEY ")("
		    A_GLNAME "=%s))", eg);
	}
	if (filter == NULL)
		goto oom;
	if (!skd_store_i_search_list(s, &l, s->groups_dn, LDAP_SCOPE_SUBTREE,
	    filter, attrs, 0, 200))
		goto err;
	*out_list = l.v;
	*out_n = l.n;
	ok = 1;
	goto err;
 oom:
	skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
 err:
	free(filter);
	free(er);
	free(eg);
	return ok;
}

int
skd_store_find_glkeys(struct skd_store *s, struct skd_store_glkey **out_list,
    size_t *out_n, const char *gl_name, const char *recipient)
{
	return find_glkeys(s, out_list, out_n, gl_name, recipient,
	    glkey_attrs);
}

int
skd_store_find_glkey_heads(struct skd_store *s,
    struct skd_store_glkey **out_list, size_t *out_n, const char *gl_name)
{
	return find_glkeys(s, out_list, out_n, gl_name, NULL,
	    glkey_head_attrs);
}

int
skd_store_delete_glkey(struct skd_store *s, const char *gl_name,
    const char *key_id, int shard)
{
	skd_store_i_ok(s);
	return skd_store_i_delete_dn(s, glkey_dn(s, gl_name, key_id, shard),
	    "glKey name", "delete glKey");
}

struct key_gl_arg {
	char	*gl;
};

static int
key_gl_entry(struct skd_store *s, LDAPMessage *e, void *arg)
{
	struct key_gl_arg *ka = arg;
	char *gl = NULL;

	if (!skd_store_i_get_str(s->ld, e, A_GLNAME, &gl) || gl == NULL) {
		free(gl);
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "malformed glKey entry");
	}
	if (ka->gl == NULL) {
		ka->gl = gl;
		return 1;
	}
	/* Shards of one key share the GL; key ids are random (RFC 5275
	 * 3.1.7: the GLA draws them), so two GLs mean a forged entry. */
	if (strcmp(ka->gl, gl) != 0) {
		free(gl);
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "key id found in more than one GL");
	}
	free(gl);
	return 1;
}

int
skd_store_find_key_gl(struct skd_store *s, char **out_gl_name,
    const char *key_hex)
{
	struct key_gl_arg ka = { NULL };
	char *ek = NULL, *filter = NULL, *attrs[] = { A_GLNAME, NULL };
	int ok = 0;

	*out_gl_name = NULL;
	skd_store_i_ok(s);
	if (key_hex == NULL || key_hex[0] == '\0') {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "key id");
		goto err;
	}
	if ((ek = skd_store_i_filter_escape(key_hex)) == NULL ||
	    (filter = skd_store_i_printf("(&(objectClass=" OC_GLKEY ")("
	    A_KEYID "=%s))", ek)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	if (!skd_store_i_search_each(s, s->groups_dn, LDAP_SCOPE_SUBTREE,
	    filter, attrs, 200, key_gl_entry, &ka))
		goto err;
	if (ka.gl == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_NOT_FOUND, "no key %s",
		    key_hex);
		goto err;
	}
	*out_gl_name = ka.gl;
	ka.gl = NULL;
	ok = 1;
 err:
	free(ka.gl);
	free(filter);
	free(ek);
	return ok;
}

/* The key heads of skd_store_find_current_glkeys: no archive either. */
static char *glkey_id_attrs[] = {
	A_KEYID, A_GLNAME, A_SHARD, A_NOTBEFORE, A_NOTAFTER, NULL
};

/* Who a shard went to: skd_store_each_glkey_shard. */
static char *glkey_rcpt_attrs[] = {
	A_KEYID, A_GLNAME, A_SHARD, A_RCPTNAME, A_NOTBEFORE, A_NOTAFTER, NULL
};

int
skd_store_find_current_glkeys(struct skd_store *s,
    struct skd_store_glkey **out_list, size_t *out_n, const char *gl_name,
    time_t now)
{
	struct skd_store_i_list l = { .size = sizeof(struct skd_store_glkey),
	    .parse = glkey_parse, .cleanup = glkey_cleanup };
	char *eg = NULL, *filter = NULL, t[16];
	int ok = 0;

	*out_list = NULL;
	*out_n = 0;
	skd_store_i_ok(s);
	if (gl_name == NULL || gl_name[0] == '\0')
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
	skd_store_time_str(t, now);
	/* Shard 0 is every key's first entry (the engine numbers a new
	 * key's shards from 0): one entry per key, found through the
	 * equality indexes on skdGLName and skdShard. */
	if ((eg = skd_store_i_filter_escape(gl_name)) == NULL ||
	    (filter = skd_store_i_printf("(&(objectClass=" OC_GLKEY ")("
	    A_GLNAME "=%s)(" A_SHARD "=0)(" A_NOTAFTER ">=%s))", eg,
	    t)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	/* With their archives: a GL has one or two current keys, and a
	 * request that uses one (a glAddMember sends it) then needs no
	 * second read. */
	if (!skd_store_i_search_list(s, &l, s->groups_dn, LDAP_SCOPE_SUBTREE,
	    filter, glkey_head_attrs, 0, 200))
		goto err;
	*out_list = l.v;
	*out_n = l.n;
	ok = 1;
 err:
	free(filter);
	free(eg);
	return ok;
}

int
skd_store_read_glkey_head(struct skd_store *s, struct skd_store_glkey **out_k,
    const char *gl_name, const char *key_id, int shard)
{
	return glkey_read(s, out_k, gl_name, key_id, shard, glkey_head_attrs);
}

int
skd_store_glkey_exists(struct skd_store *s, const char *gl_name,
    const char *key_id, int shard)
{
	LDAPMessage *res = NULL, *e;
	char *dn = NULL, *attrs[] = { (char *)LDAP_NO_ATTRS, NULL };
	int rc;

	skd_store_i_ok(s);
	if ((dn = glkey_dn(s, gl_name, key_id, shard)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "glKey name");
		return -1;
	}
	if (skd_store_i_read(s, &res, &e, dn, attrs))
		rc = 1;
	else
		rc = skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND ? 0 : -1;
	if (rc == 0)
		skd_store_i_ok(s);
	ldap_msgfree(res);
	free(dn);
	return rc;
}

struct each_shard {
	skd_store_glkey_cb	 cb;
	void			*arg;
};

static int
each_shard_entry(struct skd_store *s, LDAPMessage *e, void *arg)
{
	struct each_shard *es = arg;
	struct skd_store_glkey k;
	int rc;

	memset(&k, 0, sizeof(k));
	if (!glkey_parse(s, &k, e, NULL)) {
		glkey_cleanup(&k);
		return 0;
	}
	rc = es->cb(es->arg, &k);
	glkey_cleanup(&k);
	if (!rc)
		return skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
		    "glKey shard refused");
	return 1;
}

int
skd_store_each_glkey_shard(struct skd_store *s, const char *gl_name,
    const char *key_id, skd_store_glkey_cb cb, void *arg)
{
	struct each_shard es = { cb, arg };
	char *eg = NULL, *ek = NULL, *filter = NULL, *gdn = NULL;
	int ok = 0;

	skd_store_i_ok(s);
	if (gl_name == NULL || key_id == NULL || key_id[0] == '\0' ||
	    (gdn = skd_store_i_dn(A_GLNAME, gl_name, NULL, NULL,
	    s->groups_dn)) == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "GL name or key id");
	if ((eg = skd_store_i_filter_escape(gl_name)) == NULL ||
	    (ek = skd_store_i_filter_escape(key_id)) == NULL ||
	    (filter = skd_store_i_printf("(&(objectClass=" OC_GLKEY ")("
	    A_KEYID "=%s))", ek)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	if (!skd_store_i_search_each(s, gdn, LDAP_SCOPE_ONELEVEL, filter,
	    glkey_rcpt_attrs, 500, each_shard_entry, &es))
		goto err;
	ok = 1;
 err:
	free(gdn);
	free(filter);
	free(ek);
	free(eg);
	return ok;
}

int
skd_store_walk_glkeys(struct skd_store *s, const char *gl_name,
    skd_store_glkey_cb cb, void *arg)
{
	struct each_shard es = { cb, arg };
	char *eg = NULL, *filter = NULL;
	int ok = 0;

	skd_store_i_ok(s);
	if (gl_name == NULL || gl_name[0] == '\0')
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "GL name");
	if ((eg = skd_store_i_filter_escape(gl_name)) == NULL ||
	    (filter = skd_store_i_printf("(&(objectClass=" OC_GLKEY ")("
	    A_GLNAME "=%s))", eg)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	/* From ou=groups, as find_glkeys: the reader need not see the GL
	 * entry itself. */
	ok = skd_store_i_search_each(s, s->groups_dn, LDAP_SCOPE_SUBTREE,
	    filter, glkey_id_attrs, 500, each_shard_entry, &es);
 err:
	free(filter);
	free(eg);
	return ok;
}

struct due_arg {
	skd_store_due_cb	 cb;
	void			*arg;
};

static int
due_entry(struct skd_store *s, LDAPMessage *e, void *arg)
{
	struct due_arg *da = arg;
	struct skd_store_glkey k;
	int rc;

	memset(&k, 0, sizeof(k));
	if (!glkey_parse(s, &k, e, NULL)) {
		glkey_cleanup(&k);
		return 0;
	}
	rc = da->cb(da->arg, k.gl_name, k.key_id, k.not_before, k.not_after);
	glkey_cleanup(&k);
	return rc ? 2 : 1;
}

int
skd_store_find_due_glkeys(struct skd_store *s, time_t from, time_t until,
    skd_store_due_cb cb, void *arg)
{
	struct due_arg da = { cb, arg };
	char *filter = NULL, a[16], b[16];
	int ok;

	skd_store_i_ok(s);
	skd_store_time_str(a, from);
	skd_store_time_str(b, until);
	if ((filter = skd_store_i_printf("(&(objectClass=" OC_GLKEY ")("
	    A_SHARD "=0)(" A_NOTAFTER ">=%s)(" A_NOTAFTER "<=%s))", a,
	    b)) == NULL)
		return skd_store_i_fail(s, SKD_STORE_ERR_OTHER,
		    "out of memory");
	ok = skd_store_i_search_each(s, s->groups_dn, LDAP_SCOPE_SUBTREE,
	    filter, glkey_id_attrs, 500, due_entry, &da);
	free(filter);
	return ok;
}
