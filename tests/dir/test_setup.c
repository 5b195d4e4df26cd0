/*
 * test_setup.c: installing skd into a directory that already exists
 * (tools/skd-setup-directory, docs/directory.md "Installing into an
 * existing directory"), against a slapd set up as an enterprise's would
 * be (tests/support/corp-slapd: suffix dc=corp,dc=example in database
 * {2}, its own rules, indexes and people with certificates, no skd):
 *
 *   - its own rules hold before setup, after it and after remove (reads
 *     and writes they allow and deny);
 *   - --dry-run prints the LDIF and changes nothing; a second run is a
 *     no-op (cn=config and the tree compared byte for byte); remove
 *     --purge restores the database's rules, indexes and overlays;
 *   - skd works there end to end: a GLA worker on ou=skd,dc=corp,
 *     dc=example, a GL created and members added through the real CLI,
 *     members without a certificate in the request getting the one in
 *     their directory entry (userSMIMECertificate, userCertificate;binary),
 *     and fetching their keys;
 *   - --no-prtotal keeps the administrator's paged-search limit: skd glo
 *     show of a GL above the size limit exits 5 saying so, until a run
 *     without it adds size.prtotal.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "skd_test.h"

struct corp {
	char	*tmp;		/* the test's directory */
	char	 dir[4096];	/* the slapd's, tmp/c */
	char	 pki[4096];
	pid_t	 worker;
};

static void
corp_start(struct corp *c)
{
	char *out = NULL;
	int rc;

	memset(c, 0, sizeof(*c));
	c->tmp = skd_test_tmpdir();
	ck_assert_ptr_nonnull(c->tmp);
	snprintf(c->dir, sizeof(c->dir), "%s/c", c->tmp);
	snprintf(c->pki, sizeof(c->pki), "%s/build/test-pki", skd_test_top());
	rc = skd_test_run(&out, NULL, "'%s/tools/skd-pki' '%s' >/dev/null && "
	    "'%s/tests/support/corp-slapd' start '%s' '%s' 2>&1",
	    skd_test_top(), c->pki, skd_test_top(), c->dir, c->pki);
	ck_assert_msg(rc == 0, "corp-slapd exited %d:\n%s", rc, out);
	free(out);
}

static void
corp_stop(struct corp *c)
{
	int st = 0;

	if (c->worker > 0) {
		kill(c->worker, SIGTERM);
		(void)waitpid(c->worker, &st, 0);
		c->worker = 0;
	}
	(void)skd_test_run(NULL, NULL, "'%s/tests/support/corp-slapd' stop "
	    "'%s'", skd_test_top(), c->dir);
	if (getenv("SKD_TEST_KEEP_STACK") != NULL)
		fprintf(stderr, "corp slapd kept in %s\n", c->dir);
	else
		skd_test_rmdir(c->tmp);
	c->tmp = NULL;
}

/* Runs cmd (a shell command) with the corp's env sourced; returns its
 * exit status, *out its output (stdout and stderr) when out is given. */
static int
corp_sh(struct corp *c, char **out, const char *cmd)
{
	return skd_test_run(out, NULL, ". '%s/env' && { %s ; } 2>&1",
	    c->dir, cmd);
}

/* tools/skd-setup-directory with the corp's base over its ldapi socket
 * (SASL EXTERNAL, mapped to its rootdn as an admin's would be). */
static int
setup_run(struct corp *c, char **out, const char *args)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "echo gla-pw > '%s/gla.pw' && "
	    "chmod 600 '%s/gla.pw' && '%s/tools/skd-setup-directory' %s "
	    "-H \"$SKD_LDAPI_URI\" --base \"$SKD_BASE_DN\" "
	    "--gla-password-file '%s/gla.pw'", c->tmp, c->tmp, skd_test_top(),
	    args, c->tmp);
	return corp_sh(c, out, cmd);
}

/* The configuration and tree a run may change: all of cn=config but the
 * module list (modules stay loaded, by design) and the skd subtree. */
static char *
snapshot(struct corp *c)
{
	char *out = NULL;

	ck_assert_int_eq(corp_sh(c, &out,
	    "ldapsearch -LLL -o ldif-wrap=no -Q -Y EXTERNAL "
	    "-H \"$SKD_LDAPI_URI\" -b cn=config "
	    "'(!(objectClass=olcModuleList))' && "
	    "ldapsearch -LLL -o ldif-wrap=no -Q -Y EXTERNAL "
	    "-H \"$SKD_LDAPI_URI\" -b \"$SKD_BASE_DN\" "
	    "'(objectClass=*)' '*' ; true"), 0);
	return out;
}

static void
assert_has(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) != NULL, "no '%s' in:\n%s", needle,
	    hay);
}

static void
assert_lacks(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) == NULL, "'%s' in:\n%s", needle,
	    hay);
}

/* The enterprise's own rules, a few reads and writes each way. */
static void
corp_rules_hold(struct corp *c)
{
	char *out = NULL;
	int rc;

	/* {3}: people read people ... */
	ck_assert_int_eq(corp_sh(c, &out, "ldapsearch -LLL -x "
	    "-H \"$SKD_LDAPI_URI\" -D \"$SKD_ALICE_DN\" -w alice-pw "
	    "-b \"$SKD_BOB_DN\" -s base cn mail userPassword"), 0);
	assert_has(out, "cn: bob");
	assert_has(out, "mail: bob@example.com");
	/* ... {1}: but not their passwords. */
	assert_lacks(out, "userPassword");
	free(out);
	/* {4}: the suffix entry too; anonymous reads nothing. */
	ck_assert_int_eq(corp_sh(c, &out, "ldapsearch -LLL -x "
	    "-H \"$SKD_LDAPI_URI\" -D \"$SKD_CAROL_DN\" -w carol-pw "
	    "-b \"$SKD_SUFFIX\" -s base o"), 0);
	assert_has(out, "o: Corp");
	free(out);
	rc = corp_sh(c, &out, "ldapsearch -LLL -x -H \"$SKD_LDAPI_URI\" "
	    "-b \"$SKD_BOB_DN\" -s base cn");
	ck_assert_msg(rc == 0 || rc == 32, "anonymous search %d:\n%s", rc,
	    out);
	assert_lacks(out, "cn: bob");
	free(out);
	/* {2}: alice writes her own telephoneNumber, not bob's. */
	ck_assert_int_eq(corp_sh(c, &out, "printf 'dn: %s\\nchangetype: "
	    "modify\\nreplace: telephoneNumber\\ntelephoneNumber: +1 555 0199"
	    "\\n' \"$SKD_ALICE_DN\" | ldapmodify -x -H \"$SKD_LDAPI_URI\" "
	    "-D \"$SKD_ALICE_DN\" -w alice-pw"), 0);
	free(out);
	ck_assert_int_eq(corp_sh(c, &out, "printf 'dn: %s\\nchangetype: "
	    "modify\\nreplace: telephoneNumber\\ntelephoneNumber: +1 555 0199"
	    "\\n' \"$SKD_BOB_DN\" | ldapmodify -x -H \"$SKD_LDAPI_URI\" "
	    "-D \"$SKD_ALICE_DN\" -w alice-pw"), 50);
	free(out);
	/* ... nor anybody's mail; {1} a person binds with its password. */
	ck_assert_int_eq(corp_sh(c, &out, "printf 'dn: %s\\nchangetype: "
	    "modify\\nreplace: mail\\nmail: x@example.com\\n' "
	    "\"$SKD_ALICE_DN\" | ldapmodify -x -H \"$SKD_LDAPI_URI\" "
	    "-D \"$SKD_ALICE_DN\" -w alice-pw"), 50);
	free(out);
	ck_assert_int_eq(corp_sh(c, &out, "ldapwhoami -x -H "
	    "\"$SKD_LDAPI_URI\" -D \"$SKD_BOB_DN\" -w bob-pw"), 0);
	free(out);
	/* {0}: the rootdn (with its manage rule) writes anywhere. */
	ck_assert_int_eq(corp_sh(c, &out, "printf 'dn: %s\\nchangetype: "
	    "modify\\nreplace: description\\ndescription: checked\\n' "
	    "\"$SKD_BOB_DN\" | ldapmodify -x -H \"$SKD_LDAPI_URI\" "
	    "-D \"$SKD_ROOT_DN\" -w \"$SKD_ROOT_PW\""), 0);
	free(out);
}

START_TEST(test_setup_dry_run_twice_remove)
{
	struct corp c;
	char *before, *s, *s1, *s2, *out = NULL;

	corp_start(&c);
	corp_rules_hold(&c);
	before = snapshot(&c);

	/* --dry-run prints what it would do and does nothing. */
	ck_assert_int_eq(setup_run(&c, &out, "--dry-run"), 0);
	assert_has(out, "# schema: loading skd");
	assert_has(out, "dn: olcDatabase={2}mdb,cn=config\nchangetype: "
	    "modify\nadd: olcAccess\nolcAccess: {0}to dn.subtree="
	    "\"ou=skd,dc=corp,dc=example\" attrs=userPassword");
	assert_has(out, "olcDbIndex: skdGLName eq\n");
	assert_has(out, "olcAddContentAcl: TRUE");
	assert_has(out, "olcOverlay: syncprov");
	assert_has(out, "olcModuleLoad: constraint");
	assert_has(out, "dn: cn=gla,ou=skd,dc=corp,dc=example\nchangetype: "
	    "add");
	/* Nothing of dc=example,dc=com, nor a replace. */
	assert_lacks(out, "dc=example,dc=com");
	assert_lacks(out, "replace: olcAccess");
	assert_lacks(out, "replace: olcDbIndex");
	/* The enterprise's own indexes are kept, not doubled. */
	assert_lacks(out, "olcDbIndex: objectClass");
	assert_lacks(out, "olcDbIndex: mail");
	free(out);
	s = snapshot(&c);
	ck_assert_str_eq(s, before);
	free(s);

	/* Apply: the rules go in before the enterprise's, which hold. */
	ck_assert_int_eq(setup_run(&c, &out, ""), 0);
	assert_has(out, "done");
	free(out);
	ck_assert_int_eq(corp_sh(&c, &out, "ldapsearch -LLL -o ldif-wrap=no "
	    "-Q -Y EXTERNAL -H \"$SKD_LDAPI_URI\" "
	    "-b 'olcDatabase={2}mdb,cn=config' -s base olcAccess olcDbIndex "
	    "olcAddContentAcl"), 0);
	assert_has(out, "olcAccess: {22}to dn.subtree=\"ou=skd,dc=corp,"
	    "dc=example\" by * none\nolcAccess: {23}to * by dn.exact=\"cn=admin,"
	    "dc=corp,dc=example\" manage by * break\n");
	assert_has(out, "olcAccess: {27}to dn.subtree=\"dc=corp,dc=example\" "
	    "by users read by * none\n");
	assert_has(out, "olcDbIndex: objectClass eq,pres\n");
	assert_has(out, "olcDbIndex: skdState eq\n");
	assert_has(out, "olcAddContentAcl: TRUE");
	free(out);
	corp_rules_hold(&c);
	/* The GLA binds and reads the people's certificates; a person does
	 * not read the skd subtree beyond what skd's rules grant. */
	ck_assert_int_eq(corp_sh(&c, &out, "ldapsearch -LLL -x "
	    "-H \"$SKD_LDAPI_URI\" -D \"$SKD_GLA_DN\" -w gla-pw "
	    "-b \"$SKD_SUFFIX\" '(mail=alice@example.com)' "
	    "userSMIMECertificate"), 0);
	assert_has(out, "userSMIMECertificate");
	free(out);
	ck_assert_int_eq(corp_sh(&c, &out, "ldapsearch -LLL -x "
	    "-H \"$SKD_LDAPI_URI\" -D \"$SKD_ALICE_DN\" -w alice-pw "
	    "-b \"$SKD_BASE_DN\" '(objectClass=*)' '*'"), 0);
	assert_lacks(out, "ou=replay");
	assert_lacks(out, "userPassword");
	assert_lacks(out, "skd-setup-directory:");
	free(out);

	/* A second run changes nothing; it says the schema is there. */
	s1 = snapshot(&c);
	ck_assert_int_eq(setup_run(&c, &out, ""), 0);
	assert_has(out, "schema: skd is already loaded");
	assert_has(out, "nothing to do");
	assert_lacks(out, "Duplicate");
	free(out);
	s2 = snapshot(&c);
	ck_assert_str_eq(s2, s1);
	free(s1);
	free(s2);
	ck_assert_int_eq(setup_run(&c, &out, "--dry-run"), 0);
	assert_has(out, "# nothing to do");
	assert_lacks(out, "changetype");
	free(out);

	/* An index an earlier version added and recorded (skdGLName
	 * eq,sub) takes the template's types (eq); the enterprise's own
	 * are not touched, and a run after changes nothing. */
	ck_assert_int_eq(corp_sh(&c, &out, "printf 'dn: olcDatabase={2}mdb,"
	    "cn=config\nchangetype: modify\ndelete: olcDbIndex\nolcDbIndex: "
	    "skdGLName eq\n-\nadd: olcDbIndex\nolcDbIndex: skdGLName eq,sub\n"
	    "-\n\ndn: %s\nchangetype: modify\ndelete: description\n"
	    "description: skd-setup-directory: olcDbIndex skdGLName eq\n-\n"
	    "add: description\ndescription: skd-setup-directory: olcDbIndex "
	    "skdGLName eq,sub\n-\n' \"$SKD_BASE_DN\" | ldapmodify -Q "
	    "-Y EXTERNAL -H \"$SKD_LDAPI_URI\""), 0);
	free(out);
	ck_assert_int_eq(setup_run(&c, &out, ""), 0);
	assert_has(out, "index: skdGLName eq,sub (added by an earlier "
	    "skd-setup-directory) becomes skdGLName eq");
	free(out);
	ck_assert_int_eq(corp_sh(&c, &out, "ldapsearch -LLL -o ldif-wrap=no "
	    "-Q -Y EXTERNAL -H \"$SKD_LDAPI_URI\" "
	    "-b 'olcDatabase={2}mdb,cn=config' -s base olcDbIndex && "
	    "ldapsearch -LLL -o ldif-wrap=no -Q -Y EXTERNAL "
	    "-H \"$SKD_LDAPI_URI\" -b \"$SKD_BASE_DN\" -s base "
	    "description"), 0);
	assert_has(out, "olcDbIndex: skdGLName eq\n");
	assert_lacks(out, "skdGLName eq,sub");
	assert_has(out, "olcDbIndex: objectClass eq,pres\n");
	assert_has(out, "description: skd-setup-directory: olcDbIndex "
	    "skdGLName eq\n");
	free(out);
	s1 = snapshot(&c);
	ck_assert_int_eq(setup_run(&c, &out, ""), 0);
	assert_has(out, "nothing to do");
	free(out);
	s2 = snapshot(&c);
	ck_assert_str_eq(s2, s1);
	free(s1);
	free(s2);

	/* remove: refuses to leave the tree to the enterprise's rules
	 * unless told; --purge restores the rules, indexes and overlays. */
	ck_assert_int_ne(setup_run(&c, &out, "remove"), 0);
	assert_has(out, "--purge");
	free(out);
	ck_assert_int_eq(setup_run(&c, &out, "remove --purge"), 0);
	free(out);
	s = snapshot(&c);
	/* The schema stays (slapd cannot unload it): compare the rest. */
	{
		char *a = strstr(before, "dn: olcDatabase={-1}frontend");
		char *b = strstr(s, "dn: olcDatabase={-1}frontend");

		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_nonnull(b);
		ck_assert_str_eq(b, a);
	}
	assert_has(s, "dn: cn={3}skd,cn=schema,cn=config");
	free(s);
	corp_rules_hold(&c);
	free(before);
	corp_stop(&c);
}
END_TEST

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A GLA worker on the corp's skd base, bound as cn=gla with the
 * password setup gave it. */
static void
worker_start(struct corp *c)
{
	char conf[4096], log[4096], *text;
	const char *p = c->pki;
	pid_t parent = getpid();
	FILE *f;
	char *uri = NULL;

	ck_assert_int_eq(corp_sh(c, &uri, "printf %s \"$SKD_LDAPI_URI\""), 0);
	ck_assert_int_gt(asprintf(&text,
	    "ldap_uri = %s\nbind = simple\n"
	    "bind_dn = cn=gla,ou=skd,dc=corp,dc=example\n"
	    "bind_password_file = %s/gla.pw\n"
	    "base_dn = ou=skd,dc=corp,dc=example\n"
	    "gla_cert = %s/gla.crt\ngla_key = %s/gla.key\n"
	    "issuer_cert = %s/ca.crt\nissuer_key = %s/ca.key\n"
	    "ca_file = %s/ca.crt\ncrl_file = %s/crl.pem\n"
	    "poll_interval_ms = 100\nlog_level = notice\n",
	    uri, c->tmp, p, p, p, p, p, p), 0);
	free(uri);
	snprintf(conf, sizeof(conf), "%s/gla.conf", c->tmp);
	ck_assert(skd_test_write_file(conf, text, strlen(text)));
	free(text);
	snprintf(log, sizeof(log), "%s/gla.log", c->tmp);
	c->worker = fork();
	ck_assert_int_ge(c->worker, 0);
	if (c->worker == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		if ((f = freopen(log, "a", stderr)) == NULL)
			_exit(126);
		execl(skd_test_bin(), "skd", "gla", "run", "--config", conf,
		    (char *)NULL);
		_exit(127);
	}
	nap_ms(200);
}

/* The skd command line as who (glo1, alice, ...), bound as its corp
 * entry. */
static int
skd_as(struct corp *c, char **out, const char *who, const char *args)
{
	char up[32];
	size_t i;

	for (i = 0; who[i] != '\0' && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)who[i]);
	up[i] = '\0';
	return skd_test_run(out, NULL, "'%s' %s --env '%s/env' --as %s "
	    "--cert '%s/%s.crt' --key '%s/%s.key' --CAfile '%s/ca.crt' 2>&1",
	    skd_test_bin(), args, c->dir, up, c->pki, who, c->pki, who,
	    c->pki);
}

START_TEST(test_setup_e2e_member_cert_from_directory)
{
	struct corp c;
	char *out = NULL, args[2048], gl[128];
	int rc;

	corp_start(&c);
	ck_assert_int_eq(setup_run(&c, &out, ""), 0);
	free(out);
	worker_start(&c);
	snprintf(gl, sizeof(gl), "URI:https://corp.example/setup-%ld",
	    (long)getpid());

	snprintf(args, sizeof(args), "glo create --gl %s --owner "
	    "email:glo1@example.com --admin managed --timeout 20", gl);
	rc = skd_as(&c, &out, "glo1", args);
	ck_assert_msg(rc == 0, "create exited %d:\n%s", rc, out);
	assert_has(out, "status: success");
	free(out);
	/* No certificate in the requests: alice's comes from
	 * userSMIMECertificate, bob's from userCertificate;binary. */
	snprintf(args, sizeof(args), "glo add-member --gl %s --member "
	    "email:alice@example.com --timeout 20", gl);
	rc = skd_as(&c, &out, "glo1", args);
	ck_assert_msg(rc == 0, "add alice exited %d:\n%s", rc, out);
	assert_has(out, "status: success");
	free(out);
	snprintf(args, sizeof(args), "glo add-member --gl %s --member "
	    "email:bob@example.com --timeout 20", gl);
	rc = skd_as(&c, &out, "glo1", args);
	ck_assert_msg(rc == 0, "add bob exited %d:\n%s", rc, out);
	assert_has(out, "status: success");
	free(out);
	/* carol has no certificate in the directory: invalidCert. */
	snprintf(args, sizeof(args), "glo add-member --gl %s --member "
	    "email:carol@example.com --timeout 20", gl);
	rc = skd_as(&c, &out, "glo1", args);
	ck_assert_msg(rc != 0, "add carol succeeded:\n%s", out);
	assert_has(out, "directory entry");
	free(out);

	/* alice and bob fetch their keys bound as themselves. */
	snprintf(args, sizeof(args), "member fetch --gl %s --keystore "
	    "'%s/alice.keys' --timeout 20", gl, c.tmp);
	rc = skd_as(&c, &out, "alice", args);
	ck_assert_msg(rc == 0, "alice fetch exited %d:\n%s", rc, out);
	assert_has(out, "stored key ");
	free(out);
	snprintf(args, sizeof(args), "member fetch --gl %s --keystore "
	    "'%s/bob.keys' --timeout 20", gl, c.tmp);
	rc = skd_as(&c, &out, "bob", args);
	ck_assert_msg(rc == 0, "bob fetch exited %d:\n%s", rc, out);
	assert_has(out, "stored key ");
	free(out);
	/* carol reads none of the list's keys. */
	ck_assert_int_eq(corp_sh(&c, &out, "ldapsearch -LLL -x "
	    "-H \"$SKD_LDAPI_URI\" -D \"$SKD_CAROL_DN\" -w carol-pw "
	    "-b \"ou=groups,$SKD_BASE_DN\" '(objectClass=skdGLKey)' 1.1 ;"
	    " true"), 0);
	assert_lacks(out, "dn:");
	free(out);
	corp_stop(&c);
}
END_TEST

/*
 * --no-prtotal keeps the administrator's paged-search limit: no olcLimits
 * value is added, and a GL larger than the hard size limit is not listed
 * whole: skd glo show stops with exit status 5 and says the size limit
 * ended the listing.  A run without it adds size.prtotal, and the same
 * GL is listed whole.
 */
START_TEST(test_setup_no_prtotal)
{
	struct corp c;
	char *out = NULL, args[2048], gl[128];
	const char *const who[] = { "alice", "bob" };
	size_t i;
	int rc;

	corp_start(&c);
	ck_assert_int_eq(setup_run(&c, &out, "--dry-run --no-prtotal"), 0);
	assert_has(out, "# olcLimits: left as they are (--no-prtotal)");
	assert_lacks(out, "prtotal=unlimited");
	free(out);
	ck_assert_int_eq(setup_run(&c, &out, "--no-prtotal"), 0);
	assert_has(out, "done");
	free(out);
	ck_assert_int_eq(corp_sh(&c, &out, "ldapsearch -LLL -o ldif-wrap=no "
	    "-Q -Y EXTERNAL -H \"$SKD_LDAPI_URI\" "
	    "-b 'olcDatabase={2}mdb,cn=config' -s base olcLimits"), 0);
	assert_lacks(out, "prtotal");
	free(out);

	worker_start(&c);
	snprintf(gl, sizeof(gl), "URI:https://corp.example/limit-%ld",
	    (long)getpid());
	snprintf(args, sizeof(args), "glo create --gl %s --owner "
	    "email:glo1@example.com --admin unmanaged --timeout 20", gl);
	rc = skd_as(&c, &out, "glo1", args);
	ck_assert_msg(rc == 0, "create exited %d:\n%s", rc, out);
	free(out);
	for (i = 0; i < 2; i++) {
		snprintf(args, sizeof(args), "glo add-member --gl %s "
		    "--member email:%s@example.com --timeout 20", gl, who[i]);
		rc = skd_as(&c, &out, "glo1", args);
		ck_assert_msg(rc == 0, "add %s exited %d:\n%s", who[i], rc,
		    out);
		free(out);
	}
	/* The administrator's hard size limit, below the GL's size. */
	ck_assert_int_eq(corp_sh(&c, &out, "printf 'dn: olcDatabase={2}mdb,"
	    "cn=config\nchangetype: modify\nreplace: olcSizeLimit\n"
	    "olcSizeLimit: 1\n' | ldapmodify -Q -Y EXTERNAL "
	    "-H \"$SKD_LDAPI_URI\""), 0);
	free(out);
	snprintf(args, sizeof(args), "glo show --gl %s", gl);
	rc = skd_as(&c, &out, "glo1", args);
	ck_assert_msg(rc == 5, "show exited %d:\n%s", rc, out);
	assert_has(out, "the directory's size limit ended this paged "
	    "listing");
	assert_has(out, "size.prtotal");
	free(out);

	/* Without --no-prtotal the limit is lifted for paged searches. */
	ck_assert_int_eq(setup_run(&c, &out, ""), 0);
	assert_has(out, "olcLimits: users size.prtotal=unlimited");
	free(out);
	rc = skd_as(&c, &out, "glo1", args);
	ck_assert_msg(rc == 0, "show exited %d:\n%s", rc, out);
	assert_has(out, "email:alice@example.com");
	assert_has(out, "email:bob@example.com");
	free(out);
	corp_stop(&c);
}
END_TEST

Suite *
skd_suite_setup(void)
{
	Suite *s = suite_create("setup");
	TCase *tc = tcase_create("setup");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_setup_dry_run_twice_remove);
	tcase_add_test(tc, test_setup_e2e_member_cert_from_directory);
	tcase_add_test(tc, test_setup_no_prtotal);
	suite_add_tcase(s, tc);
	return s;
}
