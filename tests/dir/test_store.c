/*
 * test_store.c: the store's records against a real slapd (tools/skd-stack):
 * sessions, GL records and revisions, members and owners, glKey entries,
 * escaping of hostile names, responses and messages, the replay cache,
 * agent status and reconnection.  Requests and claims: test_store_req.c.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>

#include "test_store_common.h"

static const unsigned char cert1[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
static const unsigned char cert2[] = { 0x30, 0x03, 0x02, 0x01, 0x02, 0x00 };

static void
gl_fill(struct skd_store_gl *gl, char *name)
{
	memset(gl, 0, sizeof(*gl));
	gl->name = name;
	gl->address = (char *)"email:list@example.com";
	gl->administration = 2;
	gl->rekey_by_glo = 1;
	gl->not_mutually_aware = 0;
	gl->duration = 31;
	gl->generation_counter = 2;
	gl->key_alg = (char *)"2.16.840.1.101.3.4.1.45";
	gl->cert = (unsigned char *)cert1;
	gl->cert_len = sizeof(cert1);
}

/* ---- sessions ---- */

START_TEST(test_open_bind)
{
	struct skd_store *s;
	enum skd_store_err e = SKD_STORE_OK;

	ck_assert_ptr_nonnull(skd_test_stack_get());
	s = skd_store_open(&e, skd_test_stack_env("SKD_LDAP_URI"),
	    skd_test_stack_env("SKD_BASE_DN"), SKD_STORE_BIND_SIMPLE,
	    skd_test_stack_env("SKD_GLA_DN"), "wrong password");
	ck_assert_ptr_null(s);
	ck_assert_int_eq(e, SKD_STORE_ERR_ACCESS);

	/* SASL EXTERNAL over ldapi: the stack maps our uid to its rootdn. */
	s = skd_store_open(&e, skd_test_stack_env("SKD_LDAPI_URI"),
	    skd_test_stack_env("SKD_BASE_DN"), SKD_STORE_BIND_EXTERNAL, NULL,
	    NULL);
	ck_assert_msg(s != NULL, "EXTERNAL bind: %s", skd_store_err_str(e));
	ck_store_ok(s, skd_store_write_status(s, "ext", "0", time(NULL),
	    NULL));
	skd_store_close(s);

	s = store_open_gla();
	ck_assert_str_eq(skd_store_base_dn(s),
	    skd_test_stack_env("SKD_BASE_DN"));
	ck_assert_int_eq(skd_store_reconnects(s), 0);
	skd_store_close(s);
	skd_store_close(NULL);
}
END_TEST

START_TEST(test_time_format)
{
	char t[16];
	time_t v;

	skd_store_time_str(t, 0);
	ck_assert_str_eq(t, "19700101000000Z");
	skd_store_time_str(t, 1767225599);
	ck_assert_str_eq(t, "20251231235959Z");
	ck_assert(skd_store_time_parse(&v, t));
	ck_assert_int_eq(v, 1767225599);
	ck_assert(!skd_store_time_parse(&v, "20251231235959"));
	ck_assert(!skd_store_time_parse(&v, "2025123123595+Z"));
	ck_assert(!skd_store_time_parse(&v, "20251331235959Z"));
	ck_assert(!skd_store_time_parse(&v, NULL));
}
END_TEST

/* ---- GL records ---- */

START_TEST(test_gl_crud)
{
	struct skd_store *s = store_open_gla();
	struct skd_store_gl gl, *r = NULL;
	struct skd_store_member m;
	struct skd_store_glkey k;
	char *name = store_unique("URI:https://example.com/gl/");
	uint64_t rev = 0;

	ck_store_err(s, skd_store_read_gl(s, &r, name),
	    SKD_STORE_ERR_NOT_FOUND);
	gl_fill(&gl, name);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	ck_store_err(s, skd_store_create_gl(s, &gl), SKD_STORE_ERR_EXISTS);

	ck_store_ok(s, skd_store_read_gl(s, &r, name));
	ck_assert_str_eq(r->name, name);
	ck_assert_str_eq(r->address, "email:list@example.com");
	ck_assert_int_eq(r->administration, 2);
	ck_assert_int_eq(r->rekey_by_glo, 1);
	ck_assert_int_eq(r->not_mutually_aware, 0);
	ck_assert_int_eq(r->duration, 31);
	ck_assert_int_eq(r->generation_counter, 2);
	ck_assert_str_eq(r->key_alg, "2.16.840.1.101.3.4.1.45");
	ck_assert_ptr_null(r->state);
	ck_assert_uint_eq(r->revision, 1);
	ck_assert_uint_eq(r->cert_len, sizeof(cert1));
	ck_assert_mem_eq(r->cert, cert1, sizeof(cert1));

	/* Update from what was read: optional values go away when NULL. */
	r->duration = 0;
	r->not_mutually_aware = 1;
	free(r->key_alg);
	r->key_alg = NULL;
	free(r->cert);
	r->cert = NULL;
	r->cert_len = 0;
	ck_store_ok(s, skd_store_update_gl(s, &rev, r));
	ck_assert_uint_eq(rev, 2);
	/* The same stale revision again: compare-and-swap lost. */
	ck_store_err(s, skd_store_update_gl(s, NULL, r),
	    SKD_STORE_ERR_CONFLICT);
	skd_store_gl_free(r);
	r = NULL;
	ck_store_ok(s, skd_store_read_gl(s, &r, name));
	ck_assert_uint_eq(r->revision, 2);
	ck_assert_int_eq(r->duration, 0);
	ck_assert_int_eq(r->not_mutually_aware, 1);
	ck_assert_ptr_null(r->key_alg);
	ck_assert_ptr_null(r->cert);
	ck_assert_str_eq(r->state, "active");
	skd_store_gl_free(r);
	r = NULL;

	ck_store_ok(s, skd_store_mark_gl_deleted(s, name));
	ck_store_ok(s, skd_store_read_gl(s, &r, name));
	ck_assert_str_eq(r->state, "deleted");
	skd_store_gl_free(r);
	r = NULL;

	/* Purge removes the subtree: a member and a key below the GL. */
	memset(&m, 0, sizeof(m));
	m.name = (char *)"email:alice@example.com";
	ck_store_ok(s, skd_store_add_member(s, name, SKD_STORE_MEMBER, &m));
	memset(&k, 0, sizeof(k));
	k.key_id = (char *)"0a0b";
	k.gl_name = name;
	ck_store_ok(s, skd_store_put_glkey(s, &k));
	ck_store_ok(s, skd_store_purge_gl(s, name));
	ck_store_err(s, skd_store_read_gl(s, &r, name),
	    SKD_STORE_ERR_NOT_FOUND);
	ck_store_err(s, skd_store_purge_gl(s, name), SKD_STORE_ERR_NOT_FOUND);
	ck_store_err(s, skd_store_mark_gl_deleted(s, name),
	    SKD_STORE_ERR_NOT_FOUND);

	gl.address = NULL;
	ck_store_err(s, skd_store_create_gl(s, &gl), SKD_STORE_ERR_INVALID);
	free(name);
	skd_store_close(s);
}
END_TEST

START_TEST(test_gl_revision_race)
{
	struct skd_store *a = store_open_gla(), *b = store_open_gla();
	struct skd_store_gl gl, *ra = NULL, *rb = NULL;
	char *name = store_unique("URI:https://example.com/race/");
	int wa, wb;

	gl_fill(&gl, name);
	ck_store_ok(a, skd_store_create_gl(a, &gl));
	ck_store_ok(a, skd_store_read_gl(a, &ra, name));
	ck_store_ok(b, skd_store_read_gl(b, &rb, name));
	ra->duration = 7;
	rb->duration = 9;
	wa = skd_store_update_gl(a, NULL, ra);
	wb = skd_store_update_gl(b, NULL, rb);
	ck_assert_int_eq(wa + wb, 1);
	ck_assert_int_eq(skd_store_error(wa ? b : a), SKD_STORE_ERR_CONFLICT);
	skd_store_gl_free(ra);
	ra = NULL;
	ck_store_ok(a, skd_store_read_gl(a, &ra, name));
	ck_assert_int_eq(ra->duration, wa ? 7 : 9);
	ck_assert_uint_eq(ra->revision, 2);
	skd_store_gl_free(ra);
	skd_store_gl_free(rb);
	ck_store_ok(a, skd_store_purge_gl(a, name));
	free(name);
	skd_store_close(a);
	skd_store_close(b);
}
END_TEST

/* ---- members and owners ---- */

START_TEST(test_members)
{
	struct skd_store *s = store_open_gla();
	struct skd_store_gl gl;
	struct skd_store_member m, *r = NULL, *list = NULL;
	char *name = store_unique("URI:https://example.com/m/");
	const char *names[] = { "email:alice@example.com",
	    "email:bob@example.com", "dirName:CN=carol,O=skd test,C=US" };
	size_t i, n;
	int seen[3] = { 0, 0, 0 };

	gl_fill(&gl, name);
	memset(&m, 0, sizeof(m));
	m.name = (char *)names[0];
	ck_store_err(s, skd_store_add_member(s, name, SKD_STORE_MEMBER, &m),
	    SKD_STORE_ERR_NOT_FOUND);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	for (i = 0; i < 3; i++) {
		memset(&m, 0, sizeof(m));
		m.name = (char *)names[i];
		m.address = (char *)"email:x@example.com";
		m.cert = (unsigned char *)(i == 1 ? cert2 : cert1);
		m.cert_len = i == 1 ? sizeof(cert2) : sizeof(cert1);
		m.dn = (char *)skd_test_stack_env(i == 0 ? "SKD_ALICE_DN" :
		    i == 1 ? "SKD_BOB_DN" : "SKD_CAROL_DN");
		/* skdMemberSince as the engine decided it (bob), else now */
		m.since = i == 1 ? (time_t)1893456000 : 0;
		ck_store_ok(s, skd_store_add_member(s, name, SKD_STORE_MEMBER,
		    &m));
	}
	ck_store_err(s, skd_store_add_member(s, name, SKD_STORE_MEMBER, &m),
	    SKD_STORE_ERR_EXISTS);
	memset(&m, 0, sizeof(m));
	m.name = (char *)"email:glo1@example.com";
	m.dn = (char *)skd_test_stack_env("SKD_GLO1_DN");
	ck_store_ok(s, skd_store_add_member(s, name, SKD_STORE_OWNER, &m));

	ck_store_ok(s, skd_store_list_members(s, &list, &n, name,
	    SKD_STORE_MEMBER));
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < 3; j++) {
			if (strcmp(list[i].name, names[j]) == 0)
				seen[j]++;
		}
		ck_assert_str_eq(list[i].address, "email:x@example.com");
	}
	ck_assert(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
	skd_store_member_list_free(list, n);
	ck_store_ok(s, skd_store_list_members(s, &list, &n, name,
	    SKD_STORE_OWNER));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].name, "email:glo1@example.com");
	ck_assert_str_eq(list[0].dn, skd_test_stack_env("SKD_GLO1_DN"));
	skd_store_member_list_free(list, n);

	ck_store_ok(s, skd_store_read_member(s, &r, name, SKD_STORE_MEMBER,
	    names[1]));
	ck_assert_uint_eq(r->cert_len, sizeof(cert2));
	ck_assert_mem_eq(r->cert, cert2, sizeof(cert2));
	ck_assert_str_eq(r->dn, skd_test_stack_env("SKD_BOB_DN"));
	ck_assert_int_eq(r->since, 1893456000);
	ck_assert_uint_eq(r->n_acks, 0);
	skd_store_member_free(r);
	r = NULL;

	/* RFC 5275 5.1 2.c acknowledgements: idempotent, one value per key. */
	ck_store_ok(s, skd_store_ack_member(s, name, names[1], "00aa"));
	ck_store_ok(s, skd_store_ack_member(s, name, names[1], "00aa"));
	ck_store_ok(s, skd_store_ack_member(s, name, names[1], "00bb"));
	ck_store_err(s, skd_store_ack_member(s, name, "email:nobody@x",
	    "00aa"), SKD_STORE_ERR_NOT_FOUND);
	ck_store_ok(s, skd_store_read_member(s, &r, name, SKD_STORE_MEMBER,
	    names[1]));
	ck_assert_uint_eq(r->n_acks, 2);
	ck_assert(strcmp(r->acks[0], "00aa") == 0 ||
	    strcmp(r->acks[1], "00aa") == 0);
	skd_store_member_free(r);
	r = NULL;

	ck_store_ok(s, skd_store_remove_member(s, name, SKD_STORE_MEMBER,
	    names[1]));
	ck_store_err(s, skd_store_remove_member(s, name, SKD_STORE_MEMBER,
	    names[1]), SKD_STORE_ERR_NOT_FOUND);
	ck_store_err(s, skd_store_read_member(s, &r, name, SKD_STORE_MEMBER,
	    names[1]), SKD_STORE_ERR_NOT_FOUND);
	/* An owner is not a member. */
	ck_store_err(s, skd_store_read_member(s, &r, name, SKD_STORE_MEMBER,
	    "email:glo1@example.com"), SKD_STORE_ERR_NOT_FOUND);
	ck_store_ok(s, skd_store_list_members(s, &list, &n, name,
	    SKD_STORE_MEMBER));
	ck_assert_uint_eq(n, 2);
	skd_store_member_list_free(list, n);
	ck_store_ok(s, skd_store_purge_gl(s, name));
	free(name);
	skd_store_close(s);
}
END_TEST

/* ---- glKey entries ---- */

static void
key_fill(struct skd_store_glkey *k, char *gl, const char *id, int shard,
    char **rcpt, size_t n, char **dns, size_t nd)
{
	static unsigned char msg[] = { 0x30, 0x02, 0x05, 0x00 };
	static unsigned char kek[] = { 0xa5, 0x5a, 0x01, 0x02, 0x03 };

	memset(k, 0, sizeof(*k));
	k->key_id = (char *)id;
	k->gl_name = gl;
	k->shard = shard;
	k->message = msg;
	k->message_len = sizeof(msg);
	k->recipients = rcpt;
	k->n_recipients = n;
	k->recipient_dns = dns;
	k->n_recipient_dns = nd;
	k->not_before = 1767225600;
	k->not_after = 1769904000;
	k->archived_kek = kek;
	k->archived_kek_len = sizeof(kek);
}

/* The read(2)-like (what "syscr") or write(2)-like ("syscw") system calls
 * this process made so far (/proc/self/io), or -1. */
static long
sysc_now(const char *what)
{
	char line[128], fmt[32];
	long v = -1;
	FILE *f = fopen("/proc/self/io", "r");

	if (f == NULL)
		return -1;
	(void)snprintf(fmt, sizeof(fmt), "%s: %%ld", what);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, fmt, &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Adds members w<from> .. w<to - 1> to GL name, each with certificate
 * cert. */
static void
add_walk_members_cert(struct skd_store *s, const char *name, size_t from,
    size_t to, const unsigned char *cert, size_t cert_len)
{
	struct skd_store_member m;
	char mn[64];
	size_t i;

	for (i = from; i < to; i++) {
		memset(&m, 0, sizeof(m));
		(void)snprintf(mn, sizeof(mn), "email:w%zu@example.com", i);
		m.name = mn;
		m.cert = (unsigned char *)cert;
		m.cert_len = cert_len;
		ck_store_ok(s, skd_store_add_member(s, name, SKD_STORE_MEMBER,
		    &m));
	}
}

static void
add_walk_members(struct skd_store *s, const char *name, size_t from,
    size_t to)
{
	add_walk_members_cert(s, name, from, to, cert1, sizeof(cert1));
}

/* Counts a page of members w<i> (i below cap) into seen[], *n and *dup
 * (those handed on before); zero for any other name. */
static int
walk_count(char *seen, size_t cap, const struct skd_store_member *v,
    size_t nv, size_t *n, size_t *dup)
{
	size_t i, w;

	for (i = 0; i < nv; i++) {
		if (sscanf(v[i].name, "email:w%zu@", &w) != 1 || w >= cap)
			return 0;
		if (seen[w]++)
			(*dup)++;
		(*n)++;
	}
	return 1;
}

/* Pages as the walk hands them on. */
struct walk_pages {
	size_t	seen, pages, largest;
};

static int
walk_pages_cb(void *arg, const struct skd_store_member *v, size_t n)
{
	struct walk_pages *wp = arg;

	(void)v;
	wp->seen += n;
	wp->pages++;
	if (n > wp->largest)
		wp->largest = n;
	return 1;
}

/* A walk of a GL's members reads through the session's read buffer
 * (session.c, store_readahead): libldap reads each message (an entry)
 * with two read calls without it (809 for these 400 members in pages of
 * 100), with it at most one an entry when the reader keeps up with
 * slapd (260 under ASan) and a few for a whole page when it does not;
 * and every member is handed on. */
START_TEST(test_walk_reads)
{
	struct skd_store *s = store_open_gla();
	struct skd_store_gl gl;
	char *name = store_unique("URI:https://example.com/w/");
	struct walk_pages wp;
	long r0, r1;

	gl_fill(&gl, name);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	add_walk_members(s, name, 0, 400);
	memset(&wp, 0, sizeof(wp));
	ck_assert_int_ge(r0 = sysc_now("syscr"), 0);
	ck_store_ok(s, skd_store_walk_members(s, name, SKD_STORE_MEMBER, 100,
	    walk_pages_cb, &wp));
	r1 = sysc_now("syscr");
	ck_assert_uint_eq(wp.seen, 400);
	ck_assert_msg(r1 - r0 < 600, "%ld reads for 400 members", r1 - r0);
	skd_store_close(s);
	free(name);
}
END_TEST

/* Walks GL name's members in pages of 100: every one of n handed on, in
 * n / 100 pages rounded up, all counted and all listed; returns the write
 * calls this process made over the walk (/proc/self/io syscw: one for a
 * plain search or a page's request, and one for each check assertion,
 * which a forked test reports to its parent), and over the listing (500
 * a page) in *out_list_w. */
static long
walk_expect(struct skd_store *s, const char *name, size_t n,
    long *out_list_w)
{
	struct walk_pages wp;
	struct skd_store_member *list = NULL;
	size_t count;
	long w0, w1;

	memset(&wp, 0, sizeof(wp));
	ck_assert_int_ge(w0 = sysc_now("syscw"), 0);
	ck_store_ok(s, skd_store_walk_members(s, name, SKD_STORE_MEMBER, 100,
	    walk_pages_cb, &wp));
	w1 = sysc_now("syscw");
	ck_assert_uint_eq(wp.seen, n);
	ck_assert_uint_eq(wp.pages, (n + 99) / 100);
	ck_assert_uint_eq(wp.largest, 100);
	ck_store_ok(s, skd_store_count_members(s, &count, name,
	    SKD_STORE_MEMBER));
	ck_assert_uint_eq(count, n);
	*out_list_w = sysc_now("syscw");
	ck_store_ok(s, skd_store_list_members(s, &list, &count, name,
	    SKD_STORE_MEMBER));
	*out_list_w = sysc_now("syscw") - *out_list_w;
	ck_assert_uint_eq(count, n);
	skd_store_member_list_free(list, count);
	return w1 - w0;
}

/* A walk whose pages write while the plain search still runs (as a
 * rekey's stream writes each page's shards): a page's callback puts three
 * glKey entries with adds in flight (skd_store_put_glkeys), and, with
 * drop set, drops the connection at the second page first. */
struct walk_writes {
	struct skd_store	*s;
	char			*gl;
	char			 seen[450];
	size_t			 n, dup, pages;
	int			 drop;
};

static int
walk_writes_cb(void *arg, const struct skd_store_member *v, size_t n)
{
	struct walk_writes *ww = arg;
	struct skd_store_glkey k[3];
	char rn[3][40], *rp[3];
	size_t i;

	if (!walk_count(ww->seen, sizeof(ww->seen), v, n, &ww->n, &ww->dup))
		return 0;
	if (ww->drop && ww->pages == 1)
		ck_assert(skd_store_drop_connection(ww->s));
	for (i = 0; i < 3; i++) {
		(void)snprintf(rn[i], sizeof(rn[i]), "email:w%zu@example.com",
		    ww->pages * 3 + i);
		rp[i] = rn[i];
		key_fill(&k[i], ww->gl, "c0ffee09", (int)(ww->pages * 3 + i) +
		    1, &rp[i], 1, NULL, 0);
	}
	ww->pages++;
	return skd_store_put_glkeys(ww->s, k, 3);
}

/* Walks GL name's members in pages of 100 with walk_writes_cb, *ww
 * fresh. */
static int
walk_writes(struct skd_store *s, char *name, int drop, struct walk_writes *ww)
{
	memset(ww, 0, sizeof(*ww));
	ww->s = s;
	ww->gl = name;
	ww->drop = drop;
	return skd_store_walk_members(s, name, SKD_STORE_MEMBER, 100,
	    walk_writes_cb, ww);
}

/* The plain search hands its entries on as they arrive, and a page's
 * writes on the same session take nothing of the search's: every member
 * handed on once, every entry put (skd_store_i_add_many waits for its own
 * adds' answers; with LDAP_RES_ANY it took the search's entries as "not
 * one of ours", and the walk waited for ever for what it had dropped: the
 * test timed out).  A connection lost while the
 * search hands on fails the walk (the new connection has no search to
 * go on with) instead of waiting or handing anyone on twice; one lost
 * before the search began is made again, and the walk is whole. */
START_TEST(test_walk_writes_between)
{
	struct skd_store *s = store_open_gla();
	struct skd_store_gl gl;
	struct skd_store_glkey *list = NULL;
	char *name = store_unique("URI:https://example.com/ww/");
	struct walk_writes ww;
	unsigned before;
	size_t n;

	gl_fill(&gl, name);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	add_walk_members(s, name, 0, 450);
	ck_store_ok(s, walk_writes(s, name, 0, &ww));
	ck_assert_uint_eq(ww.n, 450);
	ck_assert_uint_eq(ww.dup, 0);
	ck_assert_uint_eq(ww.pages, 5);
	ck_store_ok(s, skd_store_find_glkeys(s, &list, &n, name, NULL));
	ck_assert_uint_eq(n, 15);
	skd_store_glkey_list_free(list, n);
	/* Dropped at the second page: the walk fails, reconnected. */
	skd_store_set_retry(s, 5000, 10);
	ck_store_err(s, walk_writes(s, name, 1, &ww),
	    SKD_STORE_ERR_UNAVAILABLE);
	ck_assert_uint_eq(ww.dup, 0);
	ck_assert_uint_eq(ww.pages, 2);
	/* Dropped before the walk: the search is asked again on a new
	 * connection, and the walk is whole. */
	before = skd_store_reconnects(s);
	ck_assert(skd_store_drop_connection(s));
	ck_store_ok(s, walk_writes(s, name, 0, &ww));
	ck_assert_uint_gt(skd_store_reconnects(s), before);
	ck_assert_uint_eq(ww.n, 450);
	ck_assert_uint_eq(ww.dup, 0);
	ck_store_ok(s, skd_store_purge_gl(s, name));
	skd_store_close(s);
	free(name);
}
END_TEST

/* slapd killed while the plain search hands a GL's 1,000 members on
 * (store_search_plain, no write in between): entries of 4 KB, 4 MB in
 * all, read over ldapi (store_open_gla_ldapi), so that slapd, blocked on
 * the socket, cannot have sent the answer whole before the first page's
 * callback kills it.  The walk hands on what arrived,
 * each once, then fails as unavailable with the error recorded (before
 * 8e75d06 the search's LDAP_SERVER_DOWN, -1, read as "the callback
 * failed", and the walk failed with no error). */
struct walk_kill {
	char	seen[1000];
	size_t	n, dup, pages;
};

static int
walk_kill_cb(void *arg, const struct skd_store_member *v, size_t n)
{
	struct walk_kill *wk = arg;
	char path[4096];
	FILE *f;
	long pid = 0;

	if (!walk_count(wk->seen, sizeof(wk->seen), v, n, &wk->n, &wk->dup))
		return 0;
	if (wk->pages++ == 0) {
		(void)snprintf(path, sizeof(path), "%s/slapd.pid",
		    skd_test_stack_dir());
		ck_assert_ptr_nonnull(f = fopen(path, "r"));
		ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
		(void)fclose(f);
		ck_assert_int_gt(pid, 1);
		ck_assert_int_eq(kill((pid_t)pid, SIGKILL), 0);
	}
	return 1;
}

/* The GLA's session over ldapi: a Unix socket holds about 200 KB in
 * flight (net.core.wmem_default), where loopback TCP's buffers grow to
 * megabytes and could take slapd's whole answer before the kill. */
static struct skd_store *
store_open_gla_ldapi(void)
{
	return store_open_at_as("SKD_LDAPI_URI", "SKD_GLA");
}

START_TEST(test_walk_server_killed)
{
	struct skd_store *s = store_open_gla_ldapi();
	struct skd_store_gl gl;
	struct walk_kill wk;
	static unsigned char big[4096];
	char *name = store_unique("URI:https://example.com/wk/");
	enum skd_store_err err;
	int ok;

	/* A DER SEQUENCE of 4,092 octets (the store keeps it as given). */
	big[0] = 0x30;
	big[1] = 0x82;
	big[2] = 0x0f;
	big[3] = 0xfc;
	gl_fill(&gl, name);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	add_walk_members_cert(s, name, 0, 1000, big, sizeof(big));
	memset(&wk, 0, sizeof(wk));
	skd_store_set_retry(s, 5000, 10);
	ok = skd_store_walk_members(s, name, SKD_STORE_MEMBER, 100,
	    walk_kill_cb, &wk);
	err = skd_store_error(s);
	skd_store_close(s);
	/* slapd again, the same data, before anything is asserted (the
	 * tests after this one need it). */
	ck_assert(skd_test_stack_restart());
	ck_assert_int_eq(ok, 0);
	ck_assert_int_eq(err, SKD_STORE_ERR_UNAVAILABLE);
	ck_assert_uint_eq(wk.dup, 0);
	ck_assert_uint_ge(wk.n, 100);
	ck_assert_uint_lt(wk.n, 1000);
	/* The walk is whole now. */
	s = store_open_gla_ldapi();
	memset(&wk, 0, sizeof(wk));
	wk.pages = 1;	/* no kill */
	ck_store_ok(s, skd_store_walk_members(s, name, SKD_STORE_MEMBER, 100,
	    walk_kill_cb, &wk));
	ck_assert_uint_eq(wk.n, 1000);
	ck_assert_uint_eq(wk.dup, 0);
	ck_store_ok(s, skd_store_purge_gl(s, name));
	skd_store_close(s);
	free(name);
}
END_TEST

/* A GL of up to 1,000 members is walked and listed (the listing is how a
 * request reads the owners) in one plain search (member.c, MEMBER_DIRECT;
 * session.c, skd_store_i_search_children: back-mdb pages a search from
 * its index candidates, a whole directory's worth once an index key
 * passes 65,535 IDs), one of more page by page, as the write calls show:
 * 12 walking 1,000 in pages of 100, and 3 listing them, when both paged. */
START_TEST(test_walk_direct_or_paged)
{
	struct skd_store *s = store_open_gla();
	struct skd_store_gl gl;
	char *name = store_unique("URI:https://example.com/wp/");
	long w, lw;

	gl_fill(&gl, name);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	add_walk_members(s, name, 0, 1000);
	w = walk_expect(s, name, 1000, &lw);
	ck_assert_msg(w <= 4, "%ld writes for 1,000 members", w);
	ck_assert_msg(lw <= 2, "%ld writes listing 1,000 members", lw);
	/* One more: the plain search stops at 1,000, then 11 pages. */
	add_walk_members(s, name, 1000, 1001);
	w = walk_expect(s, name, 1001, &lw);
	ck_assert_msg(w >= 10, "%ld writes for 1,001 members", w);
	ck_assert_msg(lw >= 4, "%ld writes listing 1,001 members", lw);
	skd_store_close(s);
	free(name);
}
END_TEST

START_TEST(test_glkeys)
{
	struct skd_store *s = store_open_gla(), *alice, *mallory;
	struct skd_store_gl gl;
	struct skd_store_glkey k, *r = NULL, *list = NULL;
	char *name = store_unique("URI:https://example.com/k/");
	char *other = store_unique("URI:https://example.com/k2/");
	char *r0[] = { (char *)"email:alice@example.com",
	    (char *)"email:bob@example.com" };
	char *d0[] = { (char *)skd_test_stack_env("SKD_ALICE_DN"),
	    (char *)skd_test_stack_env("SKD_BOB_DN") };
	char *r1[] = { (char *)"email:carol@example.com" };
	size_t n, i;

	gl_fill(&gl, name);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	gl_fill(&gl, other);
	ck_store_ok(s, skd_store_create_gl(s, &gl));

	key_fill(&k, name, "c0ffee01", 0, r0, 2, d0, 2);
	ck_store_ok(s, skd_store_put_glkey(s, &k));
	/* Idempotent: the same entry again converges. */
	ck_store_ok(s, skd_store_put_glkey(s, &k));
	/* Same name, other content: refused. */
	k.not_after++;
	ck_store_err(s, skd_store_put_glkey(s, &k), SKD_STORE_ERR_EXISTS);
	k.not_after--;
	key_fill(&k, name, "c0ffee01", 1, r1, 1, NULL, 0);
	ck_store_ok(s, skd_store_put_glkey(s, &k));
	key_fill(&k, other, "c0ffee01", 0, r0, 2, d0, 2);
	ck_store_ok(s, skd_store_put_glkey(s, &k));

	ck_store_ok(s, skd_store_read_glkey(s, &r, name, "c0ffee01", 0));
	ck_assert_str_eq(r->key_id, "c0ffee01");
	ck_assert_str_eq(r->gl_name, name);
	ck_assert_int_eq(r->shard, 0);
	ck_assert_uint_eq(r->n_recipients, 2);
	ck_assert_uint_eq(r->n_recipient_dns, 2);
	ck_assert_int_eq(r->not_before, 1767225600);
	ck_assert_int_eq(r->not_after, 1769904000);
	ck_assert_uint_eq(r->archived_kek_len, 5);
	ck_assert_uint_eq(r->message_len, 4);
	skd_store_glkey_free(r);
	r = NULL;

	/* The member's one indexed search finds its shard of this GL. */
	ck_store_ok(s, skd_store_find_glkeys(s, &list, &n, name,
	    "email:alice@example.com"));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].shard, 0);
	ck_assert_str_eq(list[0].gl_name, name);
	skd_store_glkey_list_free(list, n);
	ck_store_ok(s, skd_store_find_glkeys(s, &list, &n, name,
	    "email:carol@example.com"));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].shard, 1);
	skd_store_glkey_list_free(list, n);
	ck_store_ok(s, skd_store_find_glkeys(s, &list, &n, name, NULL));
	ck_assert_uint_eq(n, 2);
	skd_store_glkey_list_free(list, n);
	/* The heads: ids, shards, validity and archive, nothing else. */
	ck_store_ok(s, skd_store_find_glkey_heads(s, &list, &n, name));
	ck_assert_uint_eq(n, 2);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(list[i].key_id, "c0ffee01");
		ck_assert_str_eq(list[i].gl_name, name);
		ck_assert_ptr_null(list[i].message);
		ck_assert_uint_eq(list[i].n_recipients, 0);
		ck_assert_uint_eq(list[i].archived_kek_len, 5);
		ck_assert_int_eq(list[i].not_before, 1767225600);
	}
	ck_assert_int_eq(list[0].shard + list[1].shard, 1);
	skd_store_glkey_list_free(list, n);

	/* Least disclosure (ldif/acl.ldif): alice reads her entries, not
	 * the GLA's archive; mallory reads none. */
	alice = store_open_as("SKD_ALICE");
	ck_store_ok(alice, skd_store_find_glkeys(alice, &list, &n, name,
	    "email:alice@example.com"));
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(list[0].message_len, 4);
	ck_assert_ptr_null(list[0].archived_kek);
	skd_store_glkey_list_free(list, n);
	skd_store_close(alice);
	mallory = store_open_as("SKD_MALLORY");
	ck_store_ok(mallory, skd_store_find_glkeys(mallory, &list, &n, name,
	    "email:alice@example.com"));
	ck_assert_uint_eq(n, 0);
	key_fill(&k, other, "c0ffee02", 0, r0, 2, d0, 2);
	ck_store_err(mallory, skd_store_put_glkey(mallory, &k),
	    SKD_STORE_ERR_ACCESS);
	skd_store_close(mallory);

	ck_store_ok(s, skd_store_delete_glkey(s, name, "c0ffee01", 0));
	ck_store_err(s, skd_store_delete_glkey(s, name, "c0ffee01", 0),
	    SKD_STORE_ERR_NOT_FOUND);
	ck_store_ok(s, skd_store_find_glkeys(s, &list, &n, name, NULL));
	ck_assert_uint_eq(n, 1);
	skd_store_glkey_list_free(list, n);
	ck_store_err(s, skd_store_read_glkey(s, &r, name, "c0ffee01", -1),
	    SKD_STORE_ERR_INVALID);

	ck_store_ok(s, skd_store_purge_gl(s, name));
	ck_store_ok(s, skd_store_purge_gl(s, other));
	free(name);
	free(other);
	skd_store_close(s);
}
END_TEST

/* Several shards put with adds in flight (skd_store_put_glkeys): each
 * lands once with its own content, the same again converges, one with
 * other content is refused, and a connection lost mid-way is made again
 * and the rest added. */
START_TEST(test_glkeys_many)
{
	struct skd_store *s = store_open_gla();
	struct skd_store_gl gl;
	struct skd_store_glkey k[12], *r = NULL, *list = NULL;
	char *name = store_unique("URI:https://example.com/km/");
	char rn[12][40], *rp[12];
	unsigned before;
	size_t n, i;

	gl_fill(&gl, name);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	for (i = 0; i < 12; i++) {
		(void)snprintf(rn[i], sizeof(rn[i]), "email:m%zu@example.com",
		    i);
		rp[i] = rn[i];
		key_fill(&k[i], name, "c0ffee07", (int)i + 1, &rp[i], 1,
		    NULL, 0);
	}
	ck_store_ok(s, skd_store_put_glkeys(s, k, 6));
	ck_store_ok(s, skd_store_find_glkeys(s, &list, &n, name, NULL));
	ck_assert_uint_eq(n, 6);
	skd_store_glkey_list_free(list, n);
	for (i = 0; i < 6; i++) {
		ck_store_ok(s, skd_store_read_glkey(s, &r, name, "c0ffee07",
		    (int)i + 1));
		ck_assert_uint_eq(r->n_recipients, 1);
		ck_assert_str_eq(r->recipients[0], rn[i]);
		skd_store_glkey_free(r);
		r = NULL;
	}
	/* The same again (a replayed journal): success, nothing added. */
	ck_store_ok(s, skd_store_put_glkeys(s, k, 6));
	/* One of them with other content: refused. */
	k[3].not_after++;
	ck_store_err(s, skd_store_put_glkeys(s, k, 6), SKD_STORE_ERR_EXISTS);
	k[3].not_after--;
	/* The connection lost before the next six: made again, all land. */
	skd_store_set_retry(s, 5000, 10);
	before = skd_store_reconnects(s);
	ck_assert(skd_store_drop_connection(s));
	ck_store_ok(s, skd_store_put_glkeys(s, &k[6], 6));
	ck_assert_uint_gt(skd_store_reconnects(s), before);
	ck_store_ok(s, skd_store_find_glkeys(s, &list, &n, name, NULL));
	ck_assert_uint_eq(n, 12);
	skd_store_glkey_list_free(list, n);
	ck_store_ok(s, skd_store_find_glkeys(s, &list, &n, name, rn[11]));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].shard, 12);
	skd_store_glkey_list_free(list, n);
	ck_store_ok(s, skd_store_purge_gl(s, name));
	free(name);
	skd_store_close(s);
}
END_TEST

/* ---- escaping ---- */

START_TEST(test_escaping)
{
	struct skd_store *s = store_open_gla();
	struct skd_store_gl gl, *r = NULL;
	struct skd_store_member m, *rm = NULL;
	struct skd_store_glkey k, *list = NULL;
	char *tag = store_unique("");
	char hostile[256], plain[256], mname[256];
	char *rc_hostile[1], *rc_plain[1];
	const char *probes[] = { "*", "email:*", "email:a*)(skdRecipientName=*",
	    "x)(|(objectClass=*", "\\2a", "email:a\\", NULL };
	size_t n, i;

	/* Every character RFC 4514 and RFC 4515 treat specially. */
	snprintf(hostile, sizeof(hostile),
	    "# URI:x,+\"\\<>;=*()/%s \\", tag);
	snprintf(plain, sizeof(plain), "URI:x%s", tag);
	snprintf(mname, sizeof(mname), " email:m,+=\"<>;\\*()@%s ", tag);
	gl_fill(&gl, hostile);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	gl_fill(&gl, plain);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	ck_store_ok(s, skd_store_read_gl(s, &r, hostile));
	ck_assert_str_eq(r->name, hostile);
	skd_store_gl_free(r);
	r = NULL;
	ck_store_ok(s, skd_store_read_gl(s, &r, plain));
	ck_assert_str_eq(r->name, plain);
	skd_store_gl_free(r);
	r = NULL;

	memset(&m, 0, sizeof(m));
	m.name = mname;
	ck_store_ok(s, skd_store_add_member(s, hostile, SKD_STORE_MEMBER, &m));
	ck_store_ok(s, skd_store_read_member(s, &rm, hostile, SKD_STORE_MEMBER,
	    mname));
	ck_assert_str_eq(rm->name, mname);
	skd_store_member_free(rm);

	rc_hostile[0] = mname;
	key_fill(&k, hostile, "ab+cd,ef", 3, rc_hostile, 1, NULL, 0);
	ck_store_ok(s, skd_store_put_glkey(s, &k));
	rc_plain[0] = (char *)"email:alice@example.com";
	key_fill(&k, plain, "abcd", 0, rc_plain, 1, NULL, 0);
	ck_store_ok(s, skd_store_put_glkey(s, &k));

	ck_store_ok(s, skd_store_find_glkeys(s, &list, &n, hostile, mname));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].key_id, "ab+cd,ef");
	ck_assert_str_eq(list[0].gl_name, hostile);
	ck_assert_str_eq(list[0].recipients[0], mname);
	skd_store_glkey_list_free(list, n);
	/* Filter metacharacters in values match literally, nothing more. */
	for (i = 0; probes[i] != NULL; i++) {
		ck_store_ok(s, skd_store_find_glkeys(s, &list, &n, plain,
		    probes[i]));
		ck_assert_msg(n == 0, "probe %s matched %zu", probes[i], n);
		ck_store_ok(s, skd_store_find_glkeys(s, &list, &n, probes[i],
		    "email:alice@example.com"));
		ck_assert_msg(n == 0, "GL probe %s matched %zu", probes[i], n);
	}
	ck_store_ok(s, skd_store_find_glkeys(s, &list, &n, plain,
	    "email:alice@example.com"));
	ck_assert_uint_eq(n, 1);
	skd_store_glkey_list_free(list, n);

	ck_store_ok(s, skd_store_purge_gl(s, hostile));
	ck_store_ok(s, skd_store_read_gl(s, &r, plain));
	skd_store_gl_free(r);
	ck_store_ok(s, skd_store_purge_gl(s, plain));
	ck_store_err(s, skd_store_read_gl(s, &r, ""), SKD_STORE_ERR_INVALID);
	free(tag);
	skd_store_close(s);
}
END_TEST

/* ---- responses, messages ---- */

START_TEST(test_responses_messages)
{
	struct skd_store *s = store_open_gla();
	struct skd_store_blob msgs[2], *out = NULL;
	struct skd_store_message m, *list = NULL;
	unsigned char m1[] = { 0x30, 0x00 }, m2[] = { 0x30, 0x01, 0x00 };
	char rid[SKD_STORE_ID_LEN];
	char *who = store_unique("email:rcpt-");
	const char *names[] = { who };
	const char *dns[] = { skd_test_stack_env("SKD_ALICE_DN") };
	char *mr[1], *md[1];
	size_t n;

	skd_store_new_id(rid);
	msgs[0].data = m1;
	msgs[0].len = sizeof(m1);
	msgs[1].data = m2;
	msgs[1].len = sizeof(m2);
	ck_store_err(s, skd_store_read_response(s, &out, &n, rid),
	    SKD_STORE_ERR_NOT_FOUND);
	ck_store_ok(s, skd_store_publish_response(s, rid, msgs, 2, names, 1,
	    dns, 1));
	ck_store_ok(s, skd_store_publish_response(s, rid, msgs, 2, names, 1,
	    dns, 1));
	ck_store_err(s, skd_store_publish_response(s, rid, msgs, 1, names, 1,
	    dns, 1), SKD_STORE_ERR_EXISTS);
	ck_store_ok(s, skd_store_read_response(s, &out, &n, rid));
	ck_assert_uint_eq(n, 2);
	ck_assert((out[0].len == 2 && out[1].len == 3) ||
	    (out[0].len == 3 && out[1].len == 2));
	skd_store_blobs_free(out, n);

	memset(&m, 0, sizeof(m));
	skd_store_new_id(m.id);
	m.type = (char *)"glProvideCert";
	m.gl_name = (char *)"URI:https://example.com/gl";
	m.message = m2;
	m.message_len = sizeof(m2);
	mr[0] = who;
	md[0] = (char *)dns[0];
	m.recipients = mr;
	m.n_recipients = 1;
	m.recipient_dns = md;
	m.n_recipient_dns = 1;
	ck_store_ok(s, skd_store_publish_message(s, &m));
	ck_store_ok(s, skd_store_publish_message(s, &m));
	m.type = (char *)"other";
	ck_store_err(s, skd_store_publish_message(s, &m), SKD_STORE_ERR_EXISTS);
	ck_store_ok(s, skd_store_find_messages(s, &list, &n, who));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].id, m.id);
	ck_assert_str_eq(list[0].type, "glProvideCert");
	ck_assert_uint_eq(list[0].message_len, sizeof(m2));
	ck_assert_str_eq(list[0].recipients[0], who);
	skd_store_message_list_free(list, n);
	ck_store_ok(s, skd_store_find_messages(s, &list, &n, "email:*"));
	ck_assert_uint_eq(n, 0);
	ck_store_ok(s, skd_store_delete_message(s, m.id));
	ck_store_ok(s, skd_store_find_messages(s, &list, &n, who));
	ck_assert_uint_eq(n, 0);
	ck_store_err(s, skd_store_delete_message(s, m.id),
	    SKD_STORE_ERR_NOT_FOUND);
	free(who);
	skd_store_close(s);
}
END_TEST

/* ---- replay cache, status ---- */

START_TEST(test_replay_cache)
{
	struct skd_store *a = store_open_gla(), *b = store_open_gla();
	char *k1 = store_unique("live"), *k2 = store_unique("old");
	time_t now = time(NULL);
	size_t n = 0;

	ck_store_ok(a, skd_store_add_replay(a, k1, now + 3600));
	/* A second worker seeing the same message: a replay. */
	ck_store_err(b, skd_store_add_replay(b, k1, now + 3600),
	    SKD_STORE_ERR_EXISTS);
	ck_store_ok(a, skd_store_add_replay(a, k2, now - 10));
	ck_store_ok(b, skd_store_purge_replay(b, &n, now));
	ck_assert_uint_ge(n, 1);
	ck_store_ok(a, skd_store_add_replay(a, k2, now + 3600));
	ck_store_err(a, skd_store_add_replay(a, k1, now + 3600),
	    SKD_STORE_ERR_EXISTS);
	ck_store_ok(b, skd_store_purge_replay(b, &n, now + 7200));
	ck_assert_uint_ge(n, 2);
	ck_store_ok(a, skd_store_add_replay(a, k1, now + 3600));
	free(k1);
	free(k2);
	skd_store_close(a);
	skd_store_close(b);
}
END_TEST

START_TEST(test_status)
{
	struct skd_store *s = store_open_gla();
	char *out = NULL, *tag = store_unique("w-");
	int rc;

	ck_store_ok(s, skd_store_write_status(s, tag, "skd 0.1", 1767225600,
	    "processed=3 failed=0"));
	rc = skd_test_run(&out, NULL, "ldapsearch -LLL -x -H '%s' -D '%s' "
	    "-w '%s' -b '%s' -s base skdWorkerId skdHeartbeat skdVersion "
	    "skdStatusText", skd_test_stack_env("SKD_LDAP_URI"),
	    skd_test_stack_env("SKD_GLA_DN"), skd_test_stack_env("SKD_GLA_PW"),
	    skd_test_stack_env("SKD_GLA_DN"));
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(out, tag));
	ck_assert_ptr_nonnull(strstr(out, "skdHeartbeat: 20260101000000Z"));
	ck_assert_ptr_nonnull(strstr(out, "skdVersion: skd 0.1"));
	ck_assert_ptr_nonnull(strstr(out, "processed=3 failed=0"));
	free(out);
	free(tag);
	skd_store_close(s);
}
END_TEST

/* ---- reconnection ---- */

START_TEST(test_reconnect_drop)
{
	struct skd_store *s = store_open_gla();
	struct skd_store_gl gl, *r = NULL;
	char *name = store_unique("URI:https://example.com/rc/");

	gl_fill(&gl, name);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	/* Without a retry budget a dropped connection is an error... */
	skd_store_set_retry(s, 0, 10);
	ck_assert(skd_store_drop_connection(s));
	ck_store_err(s, skd_store_read_gl(s, &r, name),
	    SKD_STORE_ERR_UNAVAILABLE);
	/* ...with one, the session reconnects and re-binds by itself. */
	skd_store_set_retry(s, 5000, 10);
	ck_store_ok(s, skd_store_read_gl(s, &r, name));
	ck_assert_uint_ge(skd_store_reconnects(s), 1);
	skd_store_gl_free(r);
	r = NULL;
	ck_assert(skd_store_drop_connection(s));
	ck_store_ok(s, skd_store_mark_gl_deleted(s, name));
	ck_store_ok(s, skd_store_purge_gl(s, name));
	free(name);
	skd_store_close(s);
}
END_TEST

START_TEST(test_reconnect_restart)
{
	struct skd_store *s = store_open_gla();
	struct skd_store_gl gl, *r = NULL;
	char *name = store_unique("URI:https://example.com/rs/");
	unsigned before;

	gl_fill(&gl, name);
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	before = skd_store_reconnects(s);
	/* slapd stops (closing our connection) and comes back. */
	ck_assert(skd_test_stack_restart());
	ck_store_ok(s, skd_store_read_gl(s, &r, name));
	ck_assert_str_eq(r->name, name);
	ck_assert_uint_gt(skd_store_reconnects(s), before);
	skd_store_gl_free(r);
	ck_store_ok(s, skd_store_purge_gl(s, name));
	free(name);
	skd_store_close(s);
}
END_TEST

Suite *
skd_suite_store(void)
{
	Suite *su = suite_create("store");
	TCase *tc = tcase_create("records");

	tcase_add_unchecked_fixture(tc, store_fixture, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_open_bind);
	tcase_add_test(tc, test_time_format);
	tcase_add_test(tc, test_gl_crud);
	tcase_add_test(tc, test_gl_revision_race);
	tcase_add_test(tc, test_members);
	tcase_add_test(tc, test_walk_reads);
	tcase_add_test(tc, test_walk_direct_or_paged);
	tcase_add_test(tc, test_walk_writes_between);
	tcase_add_test(tc, test_walk_server_killed);
	tcase_add_test(tc, test_glkeys);
	tcase_add_test(tc, test_glkeys_many);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_responses_messages);
	tcase_add_test(tc, test_replay_cache);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_reconnect_drop);
	tcase_add_test(tc, test_reconnect_restart);
	suite_add_tcase(su, tc);
	return su;
}
