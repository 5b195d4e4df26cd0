/*
 * bench_txn.c: the state of RFC 5805 LDAP transactions on this machine's
 * slapd, the lever skd does not use (src/store/skd_store.h): what a write
 * costs inside a transaction against one on its own, and whether slapd
 * survives two connections running transactions at once.
 *
 *   skd-bench-txn [T [K]]
 *
 * The directory is a private stack (tools/skd-stack) made for this run
 * alone: the second part may take its slapd down.  Its DIR/env must be
 * in the environment (SKD_LDAP_URI, SKD_ROOT_DN, SKD_ROOT_PW,
 * SKD_PEOPLE_DN).  Entries are plain `device` objects under the people
 * container, each write a durable commit (the stack keeps olcDbNoSync
 * off).
 *
 * One connection (safe with slapd 2.5.13):
 *   plain_ms  the mean of T x K adds, one at a time;
 *   txn_ms    the mean cost of a write in T transactions of K adds each
 *             (Start Transaction, K adds carrying the Transaction
 *             Specification control, End Transaction with commit), the
 *             whole transaction timed and divided by K.
 * Two connections at once, each in a child process running T
 * transactions of K adds:
 *   both_done    transactions the two committed before the first failure;
 *   slapd_alive  1 when slapd still answers a read of the root DSE
 *                afterwards, 0 when it has gone (Debian 12's slapd
 *                2.5.13 dies of a segmentation fault, docs/performance.md).
 *
 * Prints one line of key=value pairs.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldap.h>

#define BENCH_NAME "skd-bench-txn"
#include "bench_common.h"

struct probe {
	const char	*uri, *dn, *pw, *base;
};

/* A connection bound as the stack's root, or NULL. */
static LDAP *
probe_connect(const struct probe *p)
{
	struct berval cred;
	LDAP *ld;
	int v = LDAP_VERSION3;

	if (ldap_initialize(&ld, p->uri) != LDAP_SUCCESS)
		return NULL;
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v);
	cred.bv_val = (char *)p->pw;
	cred.bv_len = strlen(p->pw);
	if (ldap_sasl_bind_s(ld, p->dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
	    NULL) != LDAP_SUCCESS) {
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

/* Adds cn=<tag>-<i>-<j> under the people container, in the transaction
 * ctrls names (NULL: on its own).  Returns 1 when slapd took it. */
static int
probe_add(LDAP *ld, const struct probe *p, LDAPControl **ctrls,
    const char *tag, int i, int j)
{
	char dn[512], cn[128];
	char *oc[] = { "device", NULL }, *cv[] = { cn, NULL };
	LDAPMod m_oc = { LDAP_MOD_ADD, "objectClass", { oc } };
	LDAPMod m_cn = { LDAP_MOD_ADD, "cn", { cv } };
	LDAPMod *mods[] = { &m_oc, &m_cn, NULL };
	int rc;

	snprintf(cn, sizeof(cn), "txn-%s-%d-%d", tag, i, j);
	snprintf(dn, sizeof(dn), "cn=%s,%s", cn, p->base);
	rc = ldap_add_ext_s(ld, dn, mods, ctrls, NULL);
	/* RFC 5805 2.2: an update inside a transaction is answered when the
	 * transaction settles; libldap reports the queued write as success
	 * or as "specify okay". */
	return rc == LDAP_SUCCESS || (ctrls != NULL &&
	    rc == LDAP_TXN_SPECIFY_OKAY);
}

/* One transaction of k adds, committed.  Returns 1 when it committed. */
static int
probe_txn(LDAP *ld, const struct probe *p, const char *tag, int i, int k)
{
	struct berval *txid = NULL;
	LDAPControl c, *ctrls[2];
	int j, ok = 0, retid = -1;

	if (ldap_txn_start_s(ld, NULL, NULL, &txid) != LDAP_SUCCESS ||
	    txid == NULL)
		return 0;
	c.ldctl_oid = LDAP_CONTROL_TXN_SPEC;
	c.ldctl_value = *txid;
	c.ldctl_iscritical = 1;
	ctrls[0] = &c;
	ctrls[1] = NULL;
	for (j = 0; j < k; j++) {
		if (!probe_add(ld, p, ctrls, tag, i, j))
			goto out;
	}
	ok = ldap_txn_end_s(ld, 1, txid, NULL, NULL, &retid) ==
	    LDAP_SUCCESS;
 out:
	ber_bvfree(txid);
	return ok;
}

/* A child's part: t transactions of k adds on a connection of its own.
 * Exits with how many committed, at most 254; 255 when it could not
 * connect. */
static void
probe_child(const struct probe *p, const char *tag, int t, int k)
{
	LDAP *ld;
	int i;

	if ((ld = probe_connect(p)) == NULL)
		_exit(255);
	for (i = 0; i < t && i < 254; i++) {
		if (!probe_txn(ld, p, tag, i, k))
			break;
	}
	ldap_unbind_ext_s(ld, NULL, NULL);
	_exit(i);
}

/* 1 when slapd answers a read of the root DSE. */
static int
probe_alive(const struct probe *p)
{
	char *attrs[] = { "supportedExtension", NULL };
	LDAPMessage *res = NULL;
	LDAP *ld;
	int ok;

	if ((ld = probe_connect(p)) == NULL)
		return 0;
	ok = ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)",
	    attrs, 0, NULL, NULL, NULL, 1, &res) == LDAP_SUCCESS;
	ldap_msgfree(res);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return ok;
}

int
main(int argc, char **argv)
{
	struct probe p;
	LDAP *ld;
	pid_t kid[2];
	double t0, plain_s, txn_s;
	int t = argc > 1 ? atoi(argv[1]) : 50, k = argc > 2 ? atoi(argv[2]) : 4;
	int i, j, st, done = 0;

	if (t < 1 || t > 254 || k < 1 || k > 100) {
		fprintf(stderr, "usage: " BENCH_NAME " [T (1 to 254) "
		    "[K (1 to 100)]]\n");
		return 2;
	}
	p.uri = bench_need_env("SKD_LDAP_URI");
	p.dn = bench_need_env("SKD_ROOT_DN");
	p.pw = bench_need_env("SKD_ROOT_PW");
	p.base = bench_need_env("SKD_PEOPLE_DN");
	if ((ld = probe_connect(&p)) == NULL) {
		fprintf(stderr, BENCH_NAME ": cannot bind to %s\n", p.uri);
		return 1;
	}

	/* One connection: plain adds, then as many in transactions. */
	t0 = bench_now_s();
	for (i = 0; i < t; i++) {
		for (j = 0; j < k; j++) {
			if (!probe_add(ld, &p, NULL, "plain", i, j)) {
				fprintf(stderr, BENCH_NAME ": plain add "
				    "refused\n");
				return 1;
			}
		}
	}
	plain_s = (bench_now_s() - t0) / (double)(t * k);
	t0 = bench_now_s();
	for (i = 0; i < t; i++) {
		if (!probe_txn(ld, &p, "one", i, k)) {
			fprintf(stderr, BENCH_NAME ": a transaction on one "
			    "connection failed\n");
			return 1;
		}
	}
	txn_s = (bench_now_s() - t0) / (double)(t * k);
	ldap_unbind_ext_s(ld, NULL, NULL);

	/* Two connections at once. */
	for (i = 0; i < 2; i++) {
		if ((kid[i] = fork()) == -1) {
			perror(BENCH_NAME ": fork");
			return 1;
		}
		if (kid[i] == 0)
			probe_child(&p, i == 0 ? "a" : "b", t, k);
	}
	for (i = 0; i < 2; i++) {
		if (waitpid(kid[i], &st, 0) == kid[i] && WIFEXITED(st) &&
		    WEXITSTATUS(st) != 255)
			done += WEXITSTATUS(st);
	}
	printf("txn k=%d t=%d plain_ms=%.3f txn_ms=%.3f both_done=%d "
	    "both_asked=%d slapd_alive=%d\n", k, t, plain_s * 1e3,
	    txn_s * 1e3, done, 2 * t, probe_alive(&p));
	return 0;
}
