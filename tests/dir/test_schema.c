/*
 * test_schema.c: schema/skd.schema and schema/skd.ldif against a real slapd.
 *
 * The slapd.conf form must pass slaptest; the cn=config form is what
 * tools/skd-stack loads (slapadd -n0), so a started stack proves it loads,
 * and its cn=subschema must publish every name of the directory contract
 * (docs/directory.md) with the syntax, matching
 * and cardinality documented there.  A failure to start the stack fails the
 * tests; nothing is skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skd_test.h"

#define ARC	"2.25.88603606528775871844496178518562820826"
#define DSTR	"1.3.6.1.4.1.1466.115.121.1.15"
#define OCTETS	"1.3.6.1.4.1.1466.115.121.1.40"
#define GTIME	"1.3.6.1.4.1.1466.115.121.1.24"
#define INT	"1.3.6.1.4.1.1466.115.121.1.27"
#define BOOL	"1.3.6.1.4.1.1466.115.121.1.7"
#define DN	"1.3.6.1.4.1.1466.115.121.1.12"

static char *stack_dir;		/* <tmp>; the stack is <tmp>/stack */
static int stack_ok;
static char stack_err[256];
static char *subschema;		/* attributeTypes and objectClasses */

struct attr_want {
	const char	*name;
	int		 n;		/* ARC.1.n */
	const char	*syntax;
	const char	*equality;
	int		 single;
};

/* Every attribute type of the contract. */
static const struct attr_want attrs[] = {
	{ "skdRequestId", 1, DSTR, "caseIgnoreMatch", 1 },
	{ "skdMessageId", 2, DSTR, "caseIgnoreMatch", 1 },
	{ "skdKeyId", 3, DSTR, "caseIgnoreMatch", 1 },
	{ "skdGLName", 4, DSTR, "caseIgnoreMatch", 1 },
	{ "skdGLAddress", 5, DSTR, "caseIgnoreMatch", 1 },
	{ "skdMemberName", 6, DSTR, "caseIgnoreMatch", 1 },
	{ "skdMemberAddress", 7, DSTR, "caseIgnoreMatch", 1 },
	{ "skdOwnerName", 8, DSTR, "caseIgnoreMatch", 1 },
	{ "skdOwnerAddress", 9, DSTR, "caseIgnoreMatch", 1 },
	{ "skdRecipientName", 10, DSTR, "caseIgnoreMatch", 0 },
	{ "skdState", 11, DSTR, "caseIgnoreMatch", 1 },
	{ "skdGLState", 12, DSTR, "caseIgnoreMatch", 1 },
	{ "skdMessageType", 13, DSTR, "caseIgnoreMatch", 1 },
	{ "skdGLAdministration", 14, INT, "integerMatch", 1 },
	{ "skdRekeyControlledByGLO", 15, BOOL, "booleanMatch", 1 },
	{ "skdRecipientsNotMutuallyAware", 16, BOOL, "booleanMatch", 1 },
	{ "skdDuration", 17, INT, "integerMatch", 1 },
	{ "skdGenerationCounter", 18, INT, "integerMatch", 1 },
	{ "skdKeyAlgorithm", 19, DSTR, "caseIgnoreMatch", 1 },
	{ "skdRevision", 20, INT, "integerMatch", 1 },
	{ "skdCertificate", 21, OCTETS, "octetStringMatch", 0 },
	{ "skdMessage", 22, OCTETS, "octetStringMatch", 0 },
	{ "skdJournal", 23, OCTETS, "octetStringMatch", 1 },
	{ "skdArchivedKEK", 24, OCTETS, "octetStringMatch", 1 },
	{ "skdClaimOwner", 25, DSTR, "caseIgnoreMatch", 1 },
	{ "skdLeaseUntil", 26, GTIME, "generalizedTimeMatch", 1 },
	{ "skdAttempts", 27, INT, "integerMatch", 1 },
	{ "skdError", 28, DSTR, "caseIgnoreMatch", 1 },
	{ "skdSubmitterDN", 29, DN, "distinguishedNameMatch", 1 },
	{ "skdMemberDN", 30, DN, "distinguishedNameMatch", 1 },
	{ "skdOwnerDN", 31, DN, "distinguishedNameMatch", 0 },
	{ "skdRecipientDN", 32, DN, "distinguishedNameMatch", 0 },
	{ "skdAckKeyId", 33, DSTR, "caseIgnoreMatch", 0 },
	{ "skdMemberSince", 34, GTIME, "generalizedTimeMatch", 1 },
	{ "skdNotBefore", 35, GTIME, "generalizedTimeMatch", 1 },
	{ "skdNotAfter", 36, GTIME, "generalizedTimeMatch", 1 },
	{ "skdShard", 37, INT, "integerMatch", 1 },
	{ "skdReplayKey", 38, DSTR, "caseIgnoreMatch", 1 },
	{ "skdExpires", 39, GTIME, "generalizedTimeMatch", 1 },
	{ "skdWorkerId", 40, DSTR, "caseIgnoreMatch", 0 },
	{ "skdHeartbeat", 41, GTIME, "generalizedTimeMatch", 1 },
	{ "skdVersion", 42, DSTR, "caseIgnoreMatch", 1 },
	{ "skdStatusText", 43, DSTR, "caseIgnoreMatch", 1 },
	/* mail transport (docs/directory.md, "Mail") */
	{ "skdMailState", 60, DSTR, "caseIgnoreMatch", 1 },
	{ "skdMailTo", 61, DSTR, "caseIgnoreMatch", 0 },
	{ "skdMailMessageId", 62, DSTR, "caseIgnoreMatch", 1 },
	{ "skdMailAttempts", 63, INT, "integerMatch", 1 },
	{ "skdMailNextTry", 64, GTIME, "generalizedTimeMatch", 1 },
	{ "skdMailError", 65, DSTR, "caseIgnoreMatch", 1 },
	{ "skdReplyTo", 66, DSTR, "caseIgnoreMatch", 1 },
	{ "skdReplyFrom", 67, DSTR, "caseIgnoreMatch", 1 },
	{ "skdMailInId", 68, DSTR, "caseIgnoreMatch", 1 },
	{ "skdGLMailPolicy", 69, DSTR, "caseIgnoreMatch", 1 },
	{ "skdMailSigner", 70, DSTR, "caseIgnoreMatch", 1 },
	{ "skdMailRecipientDN", 71, DN, "distinguishedNameMatch", 0 },
	{ "skdSecretId", 44, DSTR, "caseExactMatch", 1 },
};

struct class_want {
	const char	*name;
	int		 n;		/* ARC.2.n */
	const char	*must;		/* as slapd prints it */
	const char	*may_has;	/* one MAY attribute that must be there */
};

/* Every object class of the contract, with its MUST list. */
static const struct class_want classes[] = {
	{ "skdAgent", 1, "MUST cn ", "skdHeartbeat" },
	{ "skdRequest", 2, "MUST ( skdRequestId $ skdMessage $ skdState )",
	    "skdSubmitterDN" },
	{ "skdResponse", 3, "MUST skdRequestId ", "skdRecipientName" },
	{ "skdGLAMessage", 4, "MUST ( skdMessageId $ skdMessage )",
	    "skdRecipientDN" },
	{ "skdGroupList", 5, "MUST ( skdGLName $ skdGLAddress $ skdRevision )",
	    "skdRecipientsNotMutuallyAware" },
	{ "skdGLMember", 6, "MUST skdMemberName ", "skdMemberDN" },
	{ "skdGLOwner", 7, "MUST skdOwnerName ", "skdOwnerDN" },
	{ "skdGLKey", 8, "MUST ( skdKeyId $ skdGLName )", "skdArchivedKEK" },
	{ "skdReplay", 9, "MUST ( skdReplayKey $ skdExpires )", NULL },
	{ "skdMailOut", 60, NULL, "skdMailNextTry" },
	{ "skdMailIn", 61, NULL, "skdMailSigner" },
	{ "skdGLMail", 62, NULL, "skdGLMailPolicy" },
	{ "skdSharedSecret", 10, "MUST ( skdSecretId $ skdMessage $ skdState )",
	    "skdAttempts" },
};

#define NATTRS	(sizeof(attrs) / sizeof(attrs[0]))
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

static void
stack_setup(void)
{
	char *out = NULL;
	int r;

	stack_ok = 0;
	if ((stack_dir = skd_test_tmpdir()) == NULL) {
		snprintf(stack_err, sizeof(stack_err), "no tmpdir");
		return;
	}
	r = skd_test_run(&out, NULL,
	    "'%s/tools/skd-stack' start '%s/stack' --pki '%s/build/test-pki' "
	    "2>&1", skd_test_top(), stack_dir, skd_test_top());
	if (r != 0) {
		snprintf(stack_err, sizeof(stack_err),
		    "skd-stack start failed (%d): %.180s", r,
		    out != NULL ? out : "");
		free(out);
		return;
	}
	free(out);
	r = skd_test_run(&subschema, NULL,
	    ". '%s/stack/env' && ldapsearch -LLL -o ldif-wrap=no -x "
	    "-H \"$SKD_LDAP_URI\" -b cn=subschema -s base '(objectClass=*)' "
	    "attributeTypes objectClasses", stack_dir);
	if (r != 0 || subschema == NULL) {
		snprintf(stack_err, sizeof(stack_err),
		    "reading cn=subschema failed (%d)", r);
		return;
	}
	stack_ok = 1;
}

static void
stack_teardown(void)
{
	if (stack_dir != NULL) {
		(void)skd_test_run(NULL, NULL,
		    "'%s/tools/skd-stack' stop '%s/stack'", skd_test_top(),
		    stack_dir);
	}
	skd_test_rmdir(stack_dir);
	stack_dir = NULL;
	free(subschema);
	subschema = NULL;
}

#define REQUIRE_STACK() ck_assert_msg(stack_ok, "stack: %s", stack_err)

/*
 * schema_line returns a copy of the subschema line whose value defines
 * NAME 'name' (attribute type or object class per kind), or NULL.
 */
static char *
schema_line(const char *kind, const char *name)
{
	char pat[128];
	const char *p, *start, *end;

	snprintf(pat, sizeof(pat), "NAME '%s'", name);
	for (p = subschema; (p = strstr(p, pat)) != NULL; p++) {
		start = p;
		while (start > subschema && start[-1] != '\n') {
			start--;
		}
		if (strncmp(start, kind, strlen(kind)) != 0) {
			continue;
		}
		end = strchr(p, '\n');
		if (end == NULL) {
			end = p + strlen(p);
		}
		return strndup(start, (size_t)(end - start));
	}
	return NULL;
}

/* count of "NAME 'skd" definitions of kind in text. */
static int
count_skd(const char *text, const char *kind)
{
	const char *p;
	char *line;
	int n = 0;

	for (p = text; (p = strstr(p, "NAME 'skd")) != NULL; p++) {
		const char *s = p, *e;

		while (s > text && s[-1] != '\n') {
			s--;
		}
		e = strchr(p, '\n');
		line = strndup(s, e != NULL ? (size_t)(e - s) : strlen(s));
		ck_assert_ptr_nonnull(line);
		if (strstr(line, kind) != NULL) {
			n++;
		}
		free(line);
	}
	return n;
}

START_TEST(test_slapd_conf_form_loads)
{
	char *dir, *out = NULL;

	dir = skd_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    "printf 'include /etc/ldap/schema/core.schema\\n"
	    "include /etc/ldap/schema/cosine.schema\\n"
	    "include /etc/ldap/schema/inetorgperson.schema\\n"
	    "include %s/schema/skd.schema\\n' > '%s/slapd.conf' && "
	    "slaptest -u -f '%s/slapd.conf' 2>&1", skd_test_top(), dir, dir),
	    0);
	free(out);
	/* The check can fail: the same file twice redefines every type. */
	ck_assert_int_ne(skd_test_run(&out, NULL,
	    "echo 'include %s/schema/skd.schema' >> '%s/slapd.conf' && "
	    "slaptest -u -f '%s/slapd.conf' 2>&1", skd_test_top(), dir, dir),
	    0);
	ck_assert_ptr_nonnull(strstr(out, "skd"));
	free(out);
	skd_test_rmdir(dir);
}
END_TEST

START_TEST(test_forms_agree)
{
	char *out = NULL;
	unsigned char *conf, *ldif;

	/* skd.ldif is exactly what the generator makes of skd.schema. */
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    "cd '%s' && tools/skd-schema-ldif schema/skd.schema | "
	    "diff -u schema/skd.ldif - 2>&1", skd_test_top()), 0);
	free(out);
	/* And both define every contract name, once. */
	{
		char path[4096];

		snprintf(path, sizeof(path), "%s/schema/skd.schema",
		    skd_test_top());
		conf = skd_test_read_file(path, NULL);
		snprintf(path, sizeof(path), "%s/schema/skd.ldif",
		    skd_test_top());
		ldif = skd_test_read_file(path, NULL);
	}
	ck_assert_ptr_nonnull(conf);
	ck_assert_ptr_nonnull(ldif);
	ck_assert_int_eq(count_skd((char *)conf, "attributetype"), NATTRS);
	ck_assert_int_eq(count_skd((char *)conf, "objectclass"), NCLASSES);
	ck_assert_int_eq(count_skd((char *)ldif, "olcAttributeTypes"), NATTRS);
	ck_assert_int_eq(count_skd((char *)ldif, "olcObjectClasses"),
	    NCLASSES);
	free(conf);
	free(ldif);
}
END_TEST

START_TEST(test_cn_config_form_publishes_contract)
{
	char oid[128], want[160];
	char *line;
	size_t i;

	REQUIRE_STACK();
	ck_assert_int_eq(count_skd(subschema, "attributeTypes"), NATTRS);
	ck_assert_int_eq(count_skd(subschema, "objectClasses"), NCLASSES);
	for (i = 0; i < NATTRS; i++) {
		line = schema_line("attributeTypes:", attrs[i].name);
		ck_assert_msg(line != NULL, "%s missing", attrs[i].name);
		snprintf(oid, sizeof(oid), "( " ARC ".1.%d ", attrs[i].n);
		ck_assert_msg(strstr(line, oid) != NULL, "%s: OID: %s",
		    attrs[i].name, line);
		snprintf(want, sizeof(want), "SYNTAX %s", attrs[i].syntax);
		ck_assert_msg(strstr(line, want) != NULL, "%s: syntax: %s",
		    attrs[i].name, line);
		snprintf(want, sizeof(want), "EQUALITY %s ", attrs[i].equality);
		ck_assert_msg(strstr(line, want) != NULL, "%s: equality: %s",
		    attrs[i].name, line);
		ck_assert_msg((strstr(line, "SINGLE-VALUE") != NULL) ==
		    (attrs[i].single != 0), "%s: cardinality: %s",
		    attrs[i].name, line);
		/* Names are searched by substring; dates and integers are
		 * ordered (lease expiry, replay purge, revisions). */
		if (strstr(attrs[i].name, "Name") != NULL ||
		    strstr(attrs[i].name, "Address") != NULL) {
			ck_assert_msg(strstr(line,
			    "SUBSTR caseIgnoreSubstringsMatch") != NULL,
			    "%s: no substrings", attrs[i].name);
		}
		if (strcmp(attrs[i].syntax, GTIME) == 0) {
			ck_assert_ptr_nonnull(strstr(line,
			    "ORDERING generalizedTimeOrderingMatch"));
		}
		if (strcmp(attrs[i].syntax, INT) == 0) {
			ck_assert_ptr_nonnull(strstr(line,
			    "ORDERING integerOrderingMatch"));
		}
		free(line);
	}
	for (i = 0; i < NCLASSES; i++) {
		line = schema_line("objectClasses:", classes[i].name);
		ck_assert_msg(line != NULL, "%s missing", classes[i].name);
		snprintf(oid, sizeof(oid), "( " ARC ".2.%d ", classes[i].n);
		ck_assert_msg(strstr(line, oid) != NULL, "%s: OID: %s",
		    classes[i].name, line);
		/* The mail classes are auxiliary: added beside the entry
		 * they describe, with no MUST. */
		ck_assert_msg(strstr(line, classes[i].must != NULL ?
		    "STRUCTURAL" : "AUXILIARY") != NULL, "%s: %s",
		    classes[i].name, line);
		ck_assert_msg(classes[i].must != NULL ?
		    strstr(line, classes[i].must) != NULL :
		    strstr(line, "MUST") == NULL,
		    "%s: MUST: %s", classes[i].name, line);
		if (classes[i].may_has != NULL) {
			ck_assert_msg(strstr(line, classes[i].may_has) != NULL,
			    "%s: MAY: %s", classes[i].name, line);
		}
		free(line);
	}
}
END_TEST

START_TEST(test_schema_entry_in_cn_config)
{
	char *out = NULL;

	REQUIRE_STACK();
	/* Loaded as its own cn=config schema entry, with the indexes of
	 * ldif/indexes.ldif and the overlays on the main database. */
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    ". '%s/stack/env' && ldapsearch -LLL -o ldif-wrap=no -Q "
	    "-Y EXTERNAL -H \"$SKD_LDAPI_URI\" -b cn=config "
	    "'(|(cn=*skd)(objectClass=olcMdbConfig)"
	    "(objectClass=olcOverlayConfig))' "
	    "dn olcDbIndex olcOverlay 2>&1", stack_dir), 0);
	ck_assert_ptr_nonnull(strstr(out, "dn: cn={3}skd,cn=schema,cn=config"));
	ck_assert_ptr_nonnull(strstr(out,
	    "olcDbIndex: skdGLName,skdMemberName,skdOwnerName eq\n"));
	ck_assert_ptr_nonnull(strstr(out, "olcDbIndex: skdRecipientName eq\n"));
	ck_assert_ptr_nonnull(strstr(out, "olcDbIndex: entryCSN,entryUUID eq"));
	ck_assert_ptr_nonnull(strstr(out, "olcOverlay: {0}syncprov"));
	ck_assert_ptr_nonnull(strstr(out, "olcOverlay: {1}unique"));
	free(out);
}
END_TEST

START_TEST(test_binary_values)
{
	char *out = NULL;
	size_t out_len = 0;
	unsigned char bin[] = { 0x30, 0x03, 0x02, 0x01, 0x00, 0xff, 0x0a };

	REQUIRE_STACK();
	/* slapd 2.5 refuses the ;binary option on Octet String attributes
	 * (docs/directory.md): clients write plain skdMessage. */
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    ". '%s/stack/env' && ldapadd -Q -Y EXTERNAL "
	    "-H \"$SKD_LDAPI_URI\" 2>&1 <<'EOF'\n"
	    "dn: skdMessageId=m1,ou=messages,ou=skd,dc=example,dc=com\n"
	    "objectClass: skdGLAMessage\nskdMessageId: m1\n"
	    "skdMessage;binary:: MAMCAQA=\nEOF\n", stack_dir), 17);
	ck_assert_ptr_nonnull(strstr(out, "binary"));
	free(out);
	/* Arbitrary bytes (NUL, 0xff, newline) go in and come back the
	 * same. */
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    ". '%s/stack/env' && ldapadd -Q -Y EXTERNAL "
	    "-H \"$SKD_LDAPI_URI\" 2>&1 <<'EOF'\n"
	    "dn: skdMessageId=m2,ou=messages,ou=skd,dc=example,dc=com\n"
	    "objectClass: skdGLAMessage\nskdMessageId: m2\n"
	    "skdMessage:: MAMCAQD/Cg==\nEOF\n", stack_dir), 0);
	free(out);
	ck_assert_int_eq(skd_test_run(&out, &out_len,
	    ". '%s/stack/env' && ldapsearch -LLL -Q -Y EXTERNAL "
	    "-H \"$SKD_LDAPI_URI\" -b "
	    "skdMessageId=m2,ou=messages,ou=skd,dc=example,dc=com -s base "
	    "-t -T '%s' skdMessage >/dev/null && cat '%s'/ldapsearch-skdMessage-*",
	    stack_dir, stack_dir, stack_dir), 0);
	ck_assert_uint_eq(out_len, sizeof(bin));
	ck_assert_int_eq(memcmp(out, bin, sizeof(bin)), 0);
	free(out);
	/* The exact-value filter works on the binary value too. */
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    ". '%s/stack/env' && ldapsearch -LLL -Q -Y EXTERNAL "
	    "-H \"$SKD_LDAPI_URI\" -b ou=messages,ou=skd,dc=example,dc=com "
	    "'(skdMessage=\\30\\03\\02\\01\\00\\ff\\0a)' 1.1", stack_dir), 0);
	ck_assert_ptr_nonnull(strstr(out, "skdMessageId=m2"));
	free(out);
}
END_TEST

START_TEST(test_schema_enforced)
{
	char *out = NULL;

	REQUIRE_STACK();
	/* A request without its MUST skdState, a second value of a
	 * SINGLE-VALUE attribute, a malformed GeneralizedTime: refused. */
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    ". '%s/stack/env' && ldapadd -Q -Y EXTERNAL "
	    "-H \"$SKD_LDAPI_URI\" 2>&1 <<'EOF'\n"
	    "dn: skdRequestId=r1,ou=requests,ou=skd,dc=example,dc=com\n"
	    "objectClass: skdRequest\nskdRequestId: r1\nskdMessage:: AA==\n"
	    "EOF\n", stack_dir), 65);
	free(out);
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    ". '%s/stack/env' && ldapadd -Q -Y EXTERNAL "
	    "-H \"$SKD_LDAPI_URI\" 2>&1 <<'EOF'\n"
	    "dn: skdRequestId=r2,ou=requests,ou=skd,dc=example,dc=com\n"
	    "objectClass: skdRequest\nskdRequestId: r2\nskdMessage:: AA==\n"
	    "skdState: pending\nskdState: claimed\nEOF\n", stack_dir), 19);
	free(out);
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    ". '%s/stack/env' && ldapadd -Q -Y EXTERNAL "
	    "-H \"$SKD_LDAPI_URI\" 2>&1 <<'EOF'\n"
	    "dn: skdReplayKey=ab,ou=replay,ou=skd,dc=example,dc=com\n"
	    "objectClass: skdReplay\nskdReplayKey: ab\n"
	    "skdExpires: tomorrow\nEOF\n", stack_dir), 21);
	free(out);
	/* Ordering on GeneralizedTime works (replay purge, lease expiry). */
	ck_assert_int_eq(skd_test_run(&out, NULL,
	    ". '%s/stack/env' && ldapadd -Q -Y EXTERNAL "
	    "-H \"$SKD_LDAPI_URI\" >/dev/null 2>&1 <<'EOF'\n"
	    "dn: skdReplayKey=cd,ou=replay,ou=skd,dc=example,dc=com\n"
	    "objectClass: skdReplay\nskdReplayKey: cd\n"
	    "skdExpires: 20200101000000Z\n\n"
	    "dn: skdReplayKey=ef,ou=replay,ou=skd,dc=example,dc=com\n"
	    "objectClass: skdReplay\nskdReplayKey: ef\n"
	    "skdExpires: 20990101000000Z\nEOF\n"
	    "ldapsearch -LLL -Q -Y EXTERNAL -H \"$SKD_LDAPI_URI\" "
	    "-b ou=replay,ou=skd,dc=example,dc=com "
	    "'(skdExpires<=20260101000000Z)' skdReplayKey", stack_dir), 0);
	ck_assert_ptr_nonnull(strstr(out, "skdReplayKey: cd"));
	ck_assert_ptr_null(strstr(out, "skdReplayKey: ef"));
	free(out);
}
END_TEST

Suite *
skd_suite_schema(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("schema");

	tcase_add_unchecked_fixture(tc, stack_setup, stack_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_slapd_conf_form_loads);
	tcase_add_test(tc, test_forms_agree);
	tcase_add_test(tc, test_cn_config_form_publishes_contract);
	tcase_add_test(tc, test_schema_entry_in_cn_config);
	tcase_add_test(tc, test_binary_values);
	tcase_add_test(tc, test_schema_enforced);
	suite_add_tcase(s, tc);
	return s;
}
