/*
 * person_cert.c: a certificate the GLA issued (CMC server-side key
 * generation, src/engine/keygen.c) published on the person's own entry,
 * so that a GLO can add the person by name and the GLA finds it there.
 */
#include <string.h>
#include <strings.h>

#include "store/store_local.h"

int
skd_store_publish_person_cert(struct skd_store *s, const char *dn,
    const char *attr, const unsigned char *der, size_t len)
{
	struct skd_store_i_mods m;
	struct skd_store_blob v;
	LDAPMod **mv;
	int rc, ok = 0;

	skd_store_i_ok(s);
	/* Only the two attributes deployments use for this (RFC 4523
	 * userCertificate, RFC 2798 userSMIMECertificate). */
	if (dn == NULL || attr == NULL || der == NULL || len == 0 ||
	    (strcasecmp(attr, "userCertificate;binary") != 0 &&
	    strcasecmp(attr, "userSMIMECertificate") != 0))
		return skd_store_i_fail(s, SKD_STORE_ERR_INVALID,
		    "certificate attribute or value");
	skd_store_i_mods_init(&m);
	v.data = (unsigned char *)der;
	v.len = len;
	skd_store_i_mods_bin(&m, LDAP_MOD_ADD, attr, &v, 1);
	if ((mv = skd_store_i_mods_get(&m)) == NULL) {
		skd_store_i_fail(s, SKD_STORE_ERR_OTHER, "out of memory");
		goto err;
	}
	/* Idempotent: the value already there (a replayed journal). */
	rc = skd_store_i_modify(s, dn, mv, NULL);
	if (rc != LDAP_SUCCESS && rc != LDAP_TYPE_OR_VALUE_EXISTS) {
		skd_store_i_ldap_fail(s, rc, "publish certificate", dn);
		goto err;
	}
	ok = 1;
 err:
	skd_store_i_mods_cleanup(&m);
	return ok;
}
