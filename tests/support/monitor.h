/*
 * monitor.h: counters of a private stack's slapd (tools/skd-stack) from
 * its monitor backend (cn=Monitor), read as the stack's root.  The stack
 * has no monitor database of its own: skd_monitor_open adds one to
 * cn=config when there is none (slapd's monitor backend is built in, and
 * the stack's root manages cn=config).  Header-only, so that the
 * benchmarks (tests/bench, linked with libskd alone) and the suites
 * (tests/dir) read the same counters the same way.
 */
#ifndef SKD_TEST_MONITOR_H
#define SKD_TEST_MONITOR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>

/* The sum of attr (an integer) over the entries that filter finds under
 * base with scope; -1 when it cannot be read or one of them lacks it. */
static inline long
skd_monitor_sum(LDAP *ld, const char *base, int scope, const char *filter,
    const char *attr)
{
	char *attrs[] = { (char *)attr, NULL };
	LDAPMessage *res = NULL, *e;
	struct berval **v;
	long sum = -1;

	if (ldap_search_ext_s(ld, base, scope, filter, attrs, 0, NULL, NULL,
	    NULL, 0, &res) != LDAP_SUCCESS)
		goto out;
	sum = 0;
	for (e = ldap_first_entry(ld, res); e != NULL;
	    e = ldap_next_entry(ld, e)) {
		if ((v = ldap_get_values_len(ld, e, attr)) == NULL ||
		    v[0] == NULL) {
			ldap_value_free_len(v);
			sum = -1;
			goto out;
		}
		sum += strtol(v[0]->bv_val, NULL, 10);
		ldap_value_free_len(v);
	}
 out:
	ldap_msgfree(res);
	return sum;
}

/* The integer attr of the monitor entry dn; -1 when it cannot be read. */
static inline long
skd_monitor_read(LDAP *ld, const char *dn, const char *attr)
{
	return skd_monitor_sum(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)",
	    attr);
}

/* A session bound as root_dn on uri whose slapd has a monitor database
 * (added if it had none); NULL on failure.  ldap_unbind_ext_s frees it. */
static inline LDAP *
skd_monitor_open(const char *uri, const char *root_dn, const char *root_pw)
{
	char *oc[] = { (char *)"olcDatabaseConfig", NULL };
	char *db[] = { (char *)"monitor", NULL };
	char acl[1024], *acls[] = { acl, NULL };
	LDAPMod m_oc = { LDAP_MOD_ADD, (char *)"objectClass", { oc } };
	LDAPMod m_db = { LDAP_MOD_ADD, (char *)"olcDatabase", { db } };
	LDAPMod m_acl = { LDAP_MOD_ADD, (char *)"olcAccess", { acls } };
	LDAPMod *mods[] = { &m_oc, &m_db, &m_acl, NULL };
	LDAPMessage *res = NULL;
	LDAP *ld = NULL;
	struct berval cred;
	int proto = LDAP_VERSION3, rc;

	if (uri == NULL || root_dn == NULL || root_pw == NULL ||
	    ldap_initialize(&ld, uri) != LDAP_SUCCESS)
		return NULL;
	(void)ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &proto);
	cred.bv_val = (char *)root_pw;
	cred.bv_len = strlen(root_pw);
	if (ldap_sasl_bind_s(ld, root_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
	    NULL) != LDAP_SUCCESS)
		goto err;
	rc = ldap_search_ext_s(ld, "cn=Monitor", LDAP_SCOPE_BASE,
	    "(objectClass=*)", NULL, 1, NULL, NULL, NULL, 0, &res);
	ldap_msgfree(res);
	if (rc == LDAP_SUCCESS)
		return ld;
	if (rc != LDAP_NO_SUCH_OBJECT)
		goto err;
	snprintf(acl, sizeof(acl), "to * by dn.exact=\"%s\" read by * none",
	    root_dn);
	if (ldap_add_ext_s(ld, "olcDatabase=monitor,cn=config", mods, NULL,
	    NULL) == LDAP_SUCCESS)
		return ld;
 err:
	ldap_unbind_ext_s(ld, NULL, NULL);
	return NULL;
}

#endif
