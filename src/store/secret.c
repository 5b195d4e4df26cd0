/*
 * secret.c: shared secrets for CMC server-side key generation
 * (skdSecretId=<id>,ou=secrets,<base>, objectClass skdSharedSecret):
 * the secret wrapped for the GLA (skdMessage, an EnvelopedData), the
 * identity it belongs to (skdRecipientName), its expiry (skdNotAfter),
 * whether it was used (skdState unused/used) and the failures counted
 * against it (skdAttempts).  Only the GLA reads or writes ou=secrets
 * (ldif/acl.ldif).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_local.h"

#define OC_SECRET	"skdSharedSecret"
#define A_SECRETID	"skdSecretId"

static char *
secret_dn(struct skd_store *s, const char *id)
{
	char *parent, *dn;

	if (id == NULL || id[0] == '\0' || strlen(id) > 256 ||
	    (parent = skd_store_i_printf("ou=secrets,%s",
	    skd_store_base_dn(s))) == NULL)
		return NULL;
	dn = skd_store_i_dn(A_SECRETID, id, NULL, NULL, parent);
	free(parent);
	return dn;
}

void
skd_store_secret_free(struct skd_store_secret *x)
{
	if (x == NULL)
		return;
	free(x->id);
	free(x->identity);
	free(x->wrapped);
	free(x);
}

int
skd_store_put_secret(struct skd_store *s, const struct skd_store_secret *x)
{
	struct skd_store_i_mods m;
	struct skd_store_blob b;
	char *dn = NULL, t[16], n[24];
	int ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if ((dn = secret_dn(s, x->id)) == NULL || x->wrapped == NULL ||
	    x->identity == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "secret");
		goto err;
	}
	b.data = x->wrapped;
	b.len = x->wrapped_len;
	snprintf(n, sizeof(n), "%ld", x->failures);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_OC, OC_SECRET);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_SECRETID, x->id);
	skd_store_i_mods_bin(&m, LDAP_MOD_ADD, A_MESSAGE, &b, 1);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_STATE, x->used ? "used" :
	    "unused");
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_RCPTNAME, x->identity);
	skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_ATTEMPTS, n);
	if (x->not_after > 0) {
		skd_store_time_str(t, x->not_after);
		skd_store_i_mods_str(&m, LDAP_MOD_ADD, A_NOTAFTER, t);
	}
	ok = skd_store_i_write(s, 1, dn, &m, "add secret");
 err:
	skd_store_i_mods_cleanup(&m);
	free(dn);
	return ok;
}

int
skd_store_read_secret(struct skd_store *s, struct skd_store_secret **out,
    const char *id)
{
	static char *attrs[] = { A_SECRETID, A_MESSAGE, A_STATE, A_RCPTNAME,
	    A_NOTAFTER, A_ATTEMPTS, NULL };
	struct skd_store_secret *x = NULL;
	LDAPMessage *res = NULL, *e;
	char *dn = NULL, *state = NULL;
	long long failures = 0;
	int ok = 0;

	*out = NULL;
	skd_store_i_ok(s);
	if ((dn = secret_dn(s, id)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "secret id");
		goto err;
	}
	if (!skd_store_i_read(s, &res, &e, dn, attrs))
		goto err;
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    !skd_store_i_get_str(s->ld, e, A_SECRETID, &x->id) ||
	    !skd_store_i_get_blob(s->ld, e, A_MESSAGE, &x->wrapped,
	    &x->wrapped_len) ||
	    !skd_store_i_get_str(s->ld, e, A_STATE, &state) ||
	    !skd_store_i_get_str(s->ld, e, A_RCPTNAME, &x->identity) ||
	    !skd_store_i_get_time(s->ld, e, A_NOTAFTER, &x->not_after) ||
	    !skd_store_i_get_int(s->ld, e, A_ATTEMPTS, &failures, 0) ||
	    x->id == NULL || x->wrapped == NULL || state == NULL ||
	    x->identity == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "malformed secret entry %s", dn);
		goto err;
	}
	x->used = strcmp(state, "unused") != 0;
	x->failures = (long)failures;
	*out = x;
	x = NULL;
	ok = 1;
 err:
	skd_store_secret_free(x);
	free(state);
	ldap_msgfree(res);
	free(dn);
	return ok;
}

/* Replaces one attribute of the secret entry (idempotent). */
static int
secret_set(struct skd_store *s, const char *id, const char *attr,
    const char *value, const char *what)
{
	struct skd_store_i_mods m;
	char *dn = NULL;
	int ok = 0;

	skd_store_i_ok(s);
	skd_store_i_mods_init(&m);
	if ((dn = secret_dn(s, id)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_INVALID, "secret id");
		goto err;
	}
	skd_store_i_mods_str(&m, LDAP_MOD_REPLACE, attr, value);
	ok = skd_store_i_write(s, 0, dn, &m, what);
 err:
	skd_store_i_mods_cleanup(&m);
	free(dn);
	return ok;
}

int
skd_store_use_secret(struct skd_store *s, const char *id)
{
	return secret_set(s, id, A_STATE, "used", "use secret");
}

int
skd_store_set_secret_failures(struct skd_store *s, const char *id, long n)
{
	char v[24];

	snprintf(v, sizeof(v), "%ld", n);
	return secret_set(s, id, A_ATTEMPTS, v, "count secret failure");
}
