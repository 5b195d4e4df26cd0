/*
 * test_gname.c: GeneralName text form, matching under RFC 5280's rules,
 * and names taken from certificates.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "asn1/skd_asn1.h"
#include "skd_test.h"

/* input text, its canonical text */
static const char *const forms[][2] = {
	{ "email:alice@example.com", "email:alice@example.com" },
	{ "email:Alice.Smith@EXAMPLE.Com", "email:Alice.Smith@example.com" },
	{ "EMAIL:bob@example.com", "email:bob@example.com" },
	{ "DNS:www.example.com", "DNS:www.example.com" },
	{ "DNS:WWW.Example.COM", "DNS:www.example.com" },
	{ "URI:https://www.example.com/list-info/group-list",
	    "URI:https://www.example.com/list-info/group-list" },
	{ "URI:HTTPS://User@WWW.Example.COM:8443/Path?Q=A#F",
	    "URI:https://User@www.example.com:8443/Path?Q=A#F" },
	{ "URI:urn:oid:1.2.840.113549.1.9.16.8",
	    "URI:urn:oid:1.2.840.113549.1.9.16.8" },
	{ "URI:mailto:Gl1@Example.com", "URI:mailto:Gl1@Example.com" },
	{ "dirName:CN=alice,O=skd test,C=US", "dirName:CN=alice,O=skd test,C=US" },
	{ "dirName:CN=alice, O=skd test, C=US",
	    "dirName:CN=alice,O=skd test,C=US" },
	{ "dirName:commonName=alice,2.5.4.10=skd test",
	    "dirName:CN=alice,O=skd test" },
	{ "dirName:CN=Smith\\, John,O=a\\+b\\=c", "dirName:CN=Smith\\, John,O=a\\+b=c" },
	{ "dirName:CN=Jos\\C3\\A9,C=US", "dirName:CN=Jos\xc3\xa9,C=US" },
	{ "dirName:CN=Jos\xc3\xa9,C=US", "dirName:CN=Jos\xc3\xa9,C=US" },
	{ "dirName:CN=a+UID=b,O=x", "dirName:CN=a+UID=b,O=x" },
	{ "dirName:CN=#0c05616c696365", "dirName:CN=alice" },
	{ "IP:192.0.2.1", "IP:192.0.2.1" },
	{ "IP:2001:DB8:0:0:0:0:0:1", "IP:2001:db8::1" },
	{ "IP:::1", "IP:::1" },
};

static const char *const bad_forms[] = {
	/* found by fuzz_gname: no text form parses back to these */
	"dirName:1.2.55555555555555555555555555555555555555555555555555"
	    "55555555555555555555555555=x",		/* OID text > 64 */
	"dirName:0                                        =x", /* spaces */
	"dirName:CN=\\#",				/* lone '#' */
	"dirName:CN=#0C00",				/* empty hex value */
	"dirName:C=#16026bbb",		/* IA5String with a byte above 0x7f */
	"dirName:CN=#0C02c328",		/* UTF8String, not UTF-8 */
	"dirName:CN=#020101",		/* INTEGER: not a string */
	"dirName:0..=x",		/* not a numericoid */
	"dirName:1.02=x",		/* leading zero */
	"dirName:1.=x", "dirName:.1=x",
	"dirName:noSuchName=x",		/* descr OpenSSL does not know */
	"dirName:0.0=\\00",		/* NUL: printed as hex, refused there */
	"dirName:CN=a\\00b",		/* NUL inside a value */
	"dirName:C=#16020b0b",		/* printed as text C refuses */
	"", "foo:bar", "alice@example.com", "email:", "email:alice",
	"email:a@b@c", "email:@example.com", "email:alice@", "email:a b@c.d",
	"DNS:", "DNS:a b", "URI:", "URI:nocolon", "URI:1http://x",
	"URI:http://a b", "IP:", "IP:1.2.3", "IP:300.1.1.1", "IP:::g",
	"IP:example.com", "dirName:", "dirName:CN", "dirName:=x",
	"dirName:NoSuchAttr=y", "dirName:CN=a,,O=b", "dirName:CN=a\\",
	"dirName:CN=a\\zz", "dirName:CN=", "dirName:CN=a,", "dirName:,CN=a",
	"dirName:CN=a+", "dirName:CN=a;b", "dirName:CN=#zz",
};

START_TEST(test_text_round_trip)
{
	const char *in = forms[_i][0], *want = forms[_i][1];
	GENERAL_NAME *g, *g2, *back;
	unsigned char *der = NULL;
	size_t len;
	char *t, *t2;

	g = skd_gname_from_text(in);
	ck_assert_msg(g != NULL, "parse %s", in);
	t = skd_gname_to_text(g);
	ck_assert_msg(t != NULL, "print %s", in);
	if (want != NULL)
		ck_assert_str_eq(t, want);
	/* print(parse(text)) is a fixed point */
	g2 = skd_gname_from_text(t);
	ck_assert_msg(g2 != NULL, "re-parse %s", t);
	t2 = skd_gname_to_text(g2);
	ck_assert_str_eq(t, t2);
	ck_assert(skd_gname_match(g, g2));
	/* and the name survives DER */
	ck_assert(skd_der_encode(ASN1_ITEM_rptr(GENERAL_NAME), g, &der, &len));
	back = skd_der_decode(ASN1_ITEM_rptr(GENERAL_NAME), der, len);
	ck_assert(back != NULL);
	ck_assert(skd_gname_match(g, back));
	ck_assert_int_eq(GENERAL_NAME_cmp(g, back), 0);
	OPENSSL_free(der);
	OPENSSL_free(t);
	OPENSSL_free(t2);
	GENERAL_NAME_free(back);
	GENERAL_NAME_free(g);
	GENERAL_NAME_free(g2);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_bad_text)
{
	GENERAL_NAME *g = skd_gname_from_text(bad_forms[_i]);

	ck_assert_msg(g == NULL, "accepted \"%s\"", bad_forms[_i]);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_bad_text_null)
{
	ck_assert(skd_gname_from_text(NULL) == NULL);
	ck_assert(skd_gname_to_text(NULL) == NULL);
	ck_assert(!skd_gname_match(NULL, NULL));
}
END_TEST

START_TEST(test_dirname_der_order)
{
	GENERAL_NAME *g = skd_gname_from_text("dirName:CN=alice,O=skd test,C=US");
	const X509_NAME *n;
	const X509_NAME_ENTRY *e;

	/* RFC 4514 text lists the most significant RDN last */
	ck_assert(g != NULL && g->type == GEN_DIRNAME);
	n = g->d.directoryName;
	ck_assert_int_eq(X509_NAME_entry_count(n), 3);
	e = X509_NAME_get_entry(n, 0);
	ck_assert_int_eq(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)),
	    NID_countryName);
	e = X509_NAME_get_entry(n, 2);
	ck_assert_int_eq(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)),
	    NID_commonName);
	GENERAL_NAME_free(g);
}
END_TEST

/* a, b, whether they match */
struct pair {
	const char	*a;
	const char	*b;
	int		 match;
};

static const struct pair pairs[] = {
	{ "email:alice@example.com", "email:alice@example.com", 1 },
	{ "email:alice@example.com", "email:alice@EXAMPLE.COM", 1 },
	{ "email:alice@example.com", "email:Alice@example.com", 0 },
	{ "email:alice@example.com", "email:alice@example.org", 0 },
	{ "email:alice@example.com", "DNS:example.com", 0 },
	{ "DNS:www.example.com", "DNS:WWW.EXAMPLE.COM", 1 },
	{ "DNS:www.example.com", "DNS:www.example.co", 0 },
	{ "URI:https://www.example.com/gl", "URI:HTTPS://WWW.Example.com/gl",
	    1 },
	{ "URI:https://www.example.com/gl", "URI:https://www.example.com/GL",
	    0 },
	{ "URI:https://u@h.example/x", "URI:https://U@h.example/x", 0 },
	{ "URI:https://h.example/x", "URI:http://h.example/x", 0 },
	{ "dirName:CN=Alice,O=skd test,C=US",
	    "dirName:cn=alice,o=SKD  Test,c=us", 1 },
	{ "dirName:CN=Alice,O=skd test,C=US", "dirName:CN=Alice,O=skd test",
	    0 },
	{ "dirName:CN=Alice,O=skd test,C=US", "dirName:O=skd test,CN=Alice,C=US",
	    0 },
	{ "dirName:CN=Alice,O=skd test,C=US", "email:alice@example.com", 0 },
	{ "dirName:CN=a+UID=b,O=x", "dirName:uid=B+cn=A,o=X", 1 },
	{ "dirName:CN=a+UID=b,O=x", "dirName:CN=a,UID=b,O=x", 0 },
	{ "dirName:CN=  Jos\xc3\xa9   Smith ,C=US",
	    "dirName:CN=jos\xc3\xa9 smith,C=us", 1 },
	{ "IP:192.0.2.1", "IP:192.0.2.1", 1 },
	{ "IP:192.0.2.1", "IP:192.0.2.2", 0 },
	{ "IP:2001:db8::1", "IP:2001:DB8:0::1", 1 },
	{ "IP:::ffff:c000:201", "IP:192.0.2.1", 0 },
};

START_TEST(test_match)
{
	const struct pair *p = &pairs[_i];
	GENERAL_NAME *a = skd_gname_from_text(p->a);
	GENERAL_NAME *b = skd_gname_from_text(p->b);
	char *ta, *tb;

	ck_assert(a != NULL && b != NULL);
	ck_assert_msg(skd_gname_match(a, b) == p->match, "%s vs %s", p->a,
	    p->b);
	ck_assert(skd_gname_match(b, a) == p->match);
	/* equal names give equal text, except dirName (value case kept) */
	if (p->match && a->type != GEN_DIRNAME) {
		ta = skd_gname_to_text(a);
		tb = skd_gname_to_text(b);
		ck_assert_str_eq(ta, tb);
		OPENSSL_free(ta);
		OPENSSL_free(tb);
	}
	/* the match key agrees with the match, dirName included */
	ta = skd_gname_to_key(a);
	tb = skd_gname_to_key(b);
	ck_assert(ta != NULL && tb != NULL);
	ck_assert_msg((strcmp(ta, tb) == 0) == p->match, "keys %s, %s", ta, tb);
	OPENSSL_free(ta);
	OPENSSL_free(tb);
	GENERAL_NAME_free(a);
	GENERAL_NAME_free(b);
	skd_test_assert_no_ossl_errors();
}
END_TEST

/* alice's certificate, made here: subject with a legacy emailAddress and a
 * SAN with one name of each kind. */
static X509 *
alice_cert(void)
{
	static const char *const san[] = {
		"email:alice@example.com", "DNS:alice.example.com",
		"URI:https://alice.example.com/", "IP:192.0.2.7",
		"dirName:CN=alice-alt,O=skd test",
	};
	EVP_PKEY *k = EVP_EC_gen("P-256");
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	X509 *x = X509_new();
	X509_NAME *name;
	size_t i;

	ck_assert(k != NULL && gens != NULL && x != NULL);
	ck_assert(X509_set_version(x, X509_VERSION_3));
	ck_assert(ASN1_INTEGER_set(X509_get_serialNumber(x), 7));
	name = X509_get_subject_name(x);
	ck_assert(X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8,
	    (const unsigned char *)"US", -1, -1, 0));
	ck_assert(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)"skd test", -1, -1, 0));
	ck_assert(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"alice", -1, -1, 0));
	ck_assert(X509_NAME_add_entry_by_txt(name, "emailAddress",
	    MBSTRING_UTF8, (const unsigned char *)"legacy@Example.com", -1,
	    -1, 0));
	ck_assert(X509_set_issuer_name(x, name));
	ck_assert(X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL);
	ck_assert(X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL);
	ck_assert(X509_set_pubkey(x, k));
	for (i = 0; i < sizeof(san) / sizeof(san[0]); i++) {
		GENERAL_NAME *g = skd_gname_from_text(san[i]);

		ck_assert(g != NULL && sk_GENERAL_NAME_push(gens, g));
	}
	ck_assert(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0));
	ck_assert(X509_sign(x, k, EVP_sha256()) > 0);
	GENERAL_NAMES_free(gens);
	EVP_PKEY_free(k);
	return x;
}

static const struct {
	const char	*name;
	int		 match;
} cert_names[] = {
	{ "dirName:CN=alice,O=skd test,C=US,emailAddress=legacy@Example.com",
	    0 },	/* order: emailAddress is the last RDN in DER */
	{ "dirName:emailAddress=legacy@Example.com,CN=ALICE,O=skd test,C=US",
	    1 },
	{ "dirName:CN=alice-alt,O=skd test", 1 },	/* SAN dirName */
	{ "dirName:CN=alice,O=skd test,C=US", 0 },	/* not the whole DN */
	{ "email:alice@EXAMPLE.com", 1 },
	{ "email:ALICE@example.com", 0 },
	{ "email:legacy@example.COM", 1 },	/* subject emailAddress */
	{ "email:Legacy@example.com", 0 },
	{ "DNS:ALICE.example.com", 1 },
	{ "DNS:bob.example.com", 0 },
	{ "URI:HTTPS://Alice.Example.com/", 1 },
	{ "URI:https://alice.example.com/other", 0 },
	{ "IP:192.0.2.7", 1 },
	{ "IP:192.0.2.8", 0 },
};

START_TEST(test_match_cert)
{
	X509 *x = alice_cert();
	GENERAL_NAME *g = skd_gname_from_text(cert_names[_i].name);

	ck_assert_msg(g != NULL, "parse %s", cert_names[_i].name);
	ck_assert_msg(skd_gname_match_cert(g, x) == cert_names[_i].match,
	    "%s", cert_names[_i].name);
	GENERAL_NAME_free(g);
	X509_free(x);
	skd_test_assert_no_ossl_errors();
}
END_TEST

START_TEST(test_from_cert)
{
	static const char *const want[] = {
		"dirName:emailAddress=legacy@Example.com,CN=alice,O=skd test,C=US",
		"email:alice@example.com", "DNS:alice.example.com",
		"URI:https://alice.example.com/", "IP:192.0.2.7",
		"dirName:CN=alice-alt,O=skd test",
	};
	X509 *x = alice_cert();
	GENERAL_NAMES *names = skd_gname_from_cert(x);
	char *t;
	int i;

	ck_assert(names != NULL);
	ck_assert_int_eq(sk_GENERAL_NAME_num(names), 6);
	for (i = 0; i < 6; i++) {
		t = skd_gname_to_text(sk_GENERAL_NAME_value(names, i));
		ck_assert_str_eq(t, want[i]);
		ck_assert(skd_gname_match_cert(sk_GENERAL_NAME_value(names, i),
		    x));
		OPENSSL_free(t);
	}
	GENERAL_NAMES_free(names);
	ck_assert(skd_gname_from_cert(NULL) == NULL);
	X509_free(x);
	skd_test_assert_no_ossl_errors();
}
END_TEST

Suite *
skd_suite_gname(void)
{
	Suite *s = suite_create("gname");
	TCase *tc;

	tc = tcase_create("text");
	tcase_add_loop_test(tc, test_text_round_trip, 0,
	    (int)(sizeof(forms) / sizeof(forms[0])));
	tcase_add_loop_test(tc, test_bad_text, 0,
	    (int)(sizeof(bad_forms) / sizeof(bad_forms[0])));
	tcase_add_test(tc, test_bad_text_null);
	tcase_add_test(tc, test_dirname_der_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_loop_test(tc, test_match, 0,
	    (int)(sizeof(pairs) / sizeof(pairs[0])));
	tcase_add_loop_test(tc, test_match_cert, 0,
	    (int)(sizeof(cert_names) / sizeof(cert_names[0])));
	tcase_add_test(tc, test_from_cert);
	suite_add_tcase(s, tc);
	return s;
}
