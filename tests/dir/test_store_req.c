/*
 * test_store_req.c: requests against a real slapd: paged listing, atomic
 * claims (two sessions; two processes on 50 requests), lease expiry and
 * take-over, the journal and its replay after a crash (DESIGN.md "Exactly
 * once").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_store_common.h"

static const unsigned char req_msg[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };

static void
add_req(struct skd_store *s, char id[SKD_STORE_ID_LEN])
{
	ck_store_ok(s, skd_store_add_request(s, id, req_msg, sizeof(req_msg),
	    skd_test_stack_env("SKD_ALICE_DN")));
	ck_assert_uint_eq(strlen(id), SKD_STORE_ID_LEN - 1);
}

static void
check_state(struct skd_store *s, const char *id, const char *state,
    const char *owner)
{
	struct skd_store_request *r = NULL;

	ck_store_ok(s, skd_store_read_request(s, &r, id));
	ck_assert_str_eq(r->state, state);
	if (owner != NULL) {
		ck_assert_ptr_nonnull(r->claim_owner);
		ck_assert_str_eq(r->claim_owner, owner);
	}
	skd_store_request_free(r);
}

START_TEST(test_request_lifecycle)
{
	struct skd_store *s = store_open_gla();
	struct skd_store_request *r = NULL;
	char id[SKD_STORE_ID_LEN], id2[SKD_STORE_ID_LEN];
	time_t now = time(NULL);
	const unsigned char journal[] = "outcome: respond, publish 2 keys";

	add_req(s, id);
	ck_store_ok(s, skd_store_read_request(s, &r, id));
	ck_assert_str_eq(r->id, id);
	ck_assert_str_eq(r->state, "pending");
	ck_assert_uint_eq(r->message_len, sizeof(req_msg));
	ck_assert_mem_eq(r->message, req_msg, sizeof(req_msg));
	ck_assert_str_eq(r->submitter_dn, skd_test_stack_env("SKD_ALICE_DN"));
	ck_assert_ptr_null(r->claim_owner);
	ck_assert_ptr_null(r->journal);
	ck_assert_int_eq(r->lease_until, 0);
	skd_store_request_free(r);
	r = NULL;

	ck_store_ok(s, skd_store_claim_request(s, id, "w1", now + 60));
	ck_store_err(s, skd_store_claim_request(s, id, "w2", now + 60),
	    SKD_STORE_ERR_CONFLICT);
	ck_store_ok(s, skd_store_read_request(s, &r, id));
	ck_assert_str_eq(r->state, "claimed");
	ck_assert_str_eq(r->claim_owner, "w1");
	ck_assert_int_eq(r->lease_until, now + 60);
	skd_store_request_free(r);
	r = NULL;

	/* Only the owner renews, journals, finishes. */
	ck_store_ok(s, skd_store_renew_lease(s, id, "w1", now + 60, now + 120));
	ck_store_err(s, skd_store_renew_lease(s, id, "w2", now + 120,
	    now + 180), SKD_STORE_ERR_CONFLICT);
	ck_store_err(s, skd_store_renew_lease(s, id, "w1", now + 60,
	    now + 180), SKD_STORE_ERR_CONFLICT);
	/* A live lease cannot be taken over. */
	ck_store_err(s, skd_store_reclaim_request(s, id, "w1", now + 120,
	    "w2", now + 180, now), SKD_STORE_ERR_CONFLICT);
	ck_store_err(s, skd_store_journal_request(s, id, "w2", journal,
	    sizeof(journal)), SKD_STORE_ERR_CONFLICT);
	ck_store_ok(s, skd_store_journal_request(s, id, "w1", journal,
	    sizeof(journal)));
	ck_store_err(s, skd_store_journal_request(s, id, "w1", journal,
	    sizeof(journal)), SKD_STORE_ERR_CONFLICT);
	ck_store_ok(s, skd_store_read_request(s, &r, id));
	ck_assert_str_eq(r->state, "journaled");
	ck_assert_uint_eq(r->journal_len, sizeof(journal));
	ck_assert_mem_eq(r->journal, journal, sizeof(journal));
	skd_store_request_free(r);
	r = NULL;
	ck_store_err(s, skd_store_finish_request(s, id, "w2", NULL),
	    SKD_STORE_ERR_CONFLICT);
	ck_store_ok(s, skd_store_finish_request(s, id, "w1", NULL));
	ck_store_ok(s, skd_store_read_request(s, &r, id));
	ck_assert_str_eq(r->state, "done");
	ck_assert_int_eq(r->lease_until, 0);
	/* The journal goes with the finish. */
	ck_assert_ptr_null(r->journal);
	ck_assert_uint_eq(r->journal_len, 0);
	ck_assert_ptr_null(r->error);
	skd_store_request_free(r);
	r = NULL;
	/* Done is final: no claim, no take-over. */
	ck_store_err(s, skd_store_claim_request(s, id, "w2", now + 60),
	    SKD_STORE_ERR_CONFLICT);
	ck_store_err(s, skd_store_reclaim_request(s, id, "w1", now + 120,
	    "w2", now + 180, now + 200), SKD_STORE_ERR_CONFLICT);

	add_req(s, id2);
	ck_store_err(s, skd_store_finish_request(s, id2, "w1", "bad"),
	    SKD_STORE_ERR_CONFLICT);
	ck_store_ok(s, skd_store_claim_request(s, id2, "w1", now + 60));
	ck_store_ok(s, skd_store_finish_request(s, id2, "w1",
	    "badMessage: not signed"));
	ck_store_ok(s, skd_store_read_request(s, &r, id2));
	ck_assert_str_eq(r->state, "failed");
	ck_assert_str_eq(r->error, "badMessage: not signed");
	skd_store_request_free(r);
	r = NULL;

	ck_store_err(s, skd_store_read_request(s, &r, "no-such-request"),
	    SKD_STORE_ERR_NOT_FOUND);
	ck_store_err(s, skd_store_claim_request(s, "no-such-request", "w1",
	    now), SKD_STORE_ERR_NOT_FOUND);
	ck_store_err(s, skd_store_add_request(s, id2, NULL, 0, NULL),
	    SKD_STORE_ERR_INVALID);
	skd_store_close(s);
}
END_TEST

START_TEST(test_claim_race_sessions)
{
	struct skd_store *a = store_open_gla(), *b = store_open_gla();
	char id[SKD_STORE_ID_LEN];
	time_t now = time(NULL);
	int i, wa, wb;

	for (i = 0; i < 10; i++) {
		add_req(a, id);
		/* Alternate who goes first. */
		if (i % 2 == 0) {
			wa = skd_store_claim_request(a, id, "wa", now + 60);
			wb = skd_store_claim_request(b, id, "wb", now + 60);
		} else {
			wb = skd_store_claim_request(b, id, "wb", now + 60);
			wa = skd_store_claim_request(a, id, "wa", now + 60);
		}
		ck_assert_int_eq(wa + wb, 1);
		ck_assert_int_eq(skd_store_error(wa ? b : a),
		    SKD_STORE_ERR_CONFLICT);
		check_state(a, id, "claimed", wa ? "wa" : "wb");
		ck_store_ok(a, skd_store_finish_request(wa ? a : b, id,
		    wa ? "wa" : "wb", NULL));
	}
	skd_store_close(a);
	skd_store_close(b);
}
END_TEST

/* ---- two processes racing on 50 requests ---- */

#define RACE_N 50

struct race_ids {
	char	 (*v)[SKD_STORE_ID_LEN];
	size_t	 n, cap;
};

static int
race_collect(void *arg, const char *id, const char *state)
{
	struct race_ids *l = arg;

	if (strcmp(state, "pending") != 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 64 : l->cap * 2;
		void *nv = realloc(l->v, cap * SKD_STORE_ID_LEN);

		if (nv == NULL)
			return 1;
		l->v = nv;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], SKD_STORE_ID_LEN, "%s", id);
	return 0;
}

/* The child: claim whatever is pending until nothing is, writing each id
 * it won to fd.  Exit status 0 on success. */
static void
race_worker(int fd, const char *owner)
{
	struct skd_store *s;
	struct race_ids l = { NULL, 0, 0 };
	enum skd_store_err e;
	size_t i;
	int rounds;

	s = skd_store_open(&e, skd_test_stack_env("SKD_LDAP_URI"),
	    skd_test_stack_env("SKD_BASE_DN"), SKD_STORE_BIND_SIMPLE,
	    skd_test_stack_env("SKD_GLA_DN"), skd_test_stack_env("SKD_GLA_PW"));
	if (s == NULL)
		_exit(2);
	for (rounds = 0; rounds < 100; rounds++) {
		l.n = 0;
		if (!skd_store_list_pending(s, race_collect, &l, time(NULL),
		    16))
			_exit(3);
		if (l.n == 0)
			break;
		for (i = 0; i < l.n; i++) {
			if (skd_store_claim_request(s, l.v[i], owner,
			    time(NULL) + 600)) {
				if (write(fd, l.v[i], SKD_STORE_ID_LEN) !=
				    SKD_STORE_ID_LEN)
					_exit(4);
			} else if (skd_store_error(s) !=
			    SKD_STORE_ERR_CONFLICT) {
				_exit(5);
			}
		}
	}
	free(l.v);
	skd_store_close(s);
	_exit(0);
}

static size_t
race_read(int fd, char (*out)[SKD_STORE_ID_LEN], size_t max)
{
	size_t n = 0, got = 0;
	ssize_t r;
	char *p = (char *)out;

	for (;;) {
		if (got / SKD_STORE_ID_LEN >= max)
			break;
		r = read(fd, p + got, max * SKD_STORE_ID_LEN - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	n = got / SKD_STORE_ID_LEN;
	return n;
}

START_TEST(test_claim_race_fork)
{
	struct skd_store *s = store_open_gla();
	static char ids[RACE_N][SKD_STORE_ID_LEN];
	static char won[2][4 * RACE_N][SKD_STORE_ID_LEN];
	size_t nwon[2], i, j, k, hits;
	int fds[2][2], st, w;
	pid_t pid[2];
	const char *owners[2] = { "racer-a", "racer-b" };

	for (i = 0; i < RACE_N; i++)
		add_req(s, ids[i]);
	for (w = 0; w < 2; w++) {
		ck_assert_int_eq(pipe(fds[w]), 0);
		fflush(NULL);
		pid[w] = fork();
		ck_assert_int_ge(pid[w], 0);
		if (pid[w] == 0) {
			close(fds[w][0]);
			race_worker(fds[w][1], owners[w]);
		}
		close(fds[w][1]);
	}
	for (w = 0; w < 2; w++) {
		nwon[w] = race_read(fds[w][0], won[w], 4 * RACE_N);
		close(fds[w][0]);
		ck_assert_int_eq(waitpid(pid[w], &st, 0), pid[w]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "racer %d exit status %d", w, st);
	}
	/* Every one of our requests was claimed exactly once, by the worker
	 * the directory names as owner. */
	for (i = 0; i < RACE_N; i++) {
		int by = -1;

		hits = 0;
		for (w = 0; w < 2; w++) {
			for (j = 0; j < nwon[w]; j++) {
				if (strcmp(won[w][j], ids[i]) == 0) {
					hits++;
					by = w;
				}
			}
		}
		ck_assert_msg(hits == 1, "request %s claimed %zu times",
		    ids[i], hits);
		check_state(s, ids[i], "claimed", owners[by]);
	}
	/* No id reported twice by the same worker either. */
	for (w = 0; w < 2; w++) {
		for (j = 0; j < nwon[w]; j++) {
			for (k = j + 1; k < nwon[w]; k++)
				ck_assert_str_ne(won[w][j], won[w][k]);
		}
	}
	for (i = 0; i < RACE_N; i++) {
		struct skd_store_request *r = NULL;

		ck_store_ok(s, skd_store_read_request(s, &r, ids[i]));
		ck_store_ok(s, skd_store_finish_request(s, ids[i],
		    r->claim_owner, NULL));
		skd_store_request_free(r);
	}
	skd_store_close(s);
}
END_TEST

/* ---- paged listing ---- */

struct seen {
	char	(*ids)[SKD_STORE_ID_LEN];
	size_t	 n;
	int	 count[30];
	int	 calls;
	int	 stop_after;
};

static int
seen_cb(void *arg, const char *id, const char *state)
{
	struct seen *sn = arg;
	size_t i;

	sn->calls++;
	ck_assert(strcmp(state, "pending") == 0 ||
	    strcmp(state, "claimed") == 0 || strcmp(state, "journaled") == 0);
	for (i = 0; i < sn->n; i++) {
		if (strcmp(sn->ids[i], id) == 0)
			sn->count[i]++;
	}
	return sn->stop_after > 0 && sn->calls >= sn->stop_after;
}

START_TEST(test_list_pending_paged)
{
	struct skd_store *s = store_open_gla();
	static char ids[25][SKD_STORE_ID_LEN];
	struct seen sn;
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < 25; i++)
		add_req(s, ids[i]);
	/* One claimed with a live lease, one with a dead one. */
	ck_store_ok(s, skd_store_claim_request(s, ids[0], "w1", now + 600));
	ck_store_ok(s, skd_store_claim_request(s, ids[1], "w1", now - 5));
	memset(&sn, 0, sizeof(sn));
	sn.ids = ids;
	sn.n = 25;
	ck_store_ok(s, skd_store_list_pending(s, seen_cb, &sn, now, 7));
	ck_assert_int_eq(sn.count[0], 0);
	for (i = 1; i < 25; i++)
		ck_assert_msg(sn.count[i] == 1, "id %zu seen %d times", i,
		    sn.count[i]);
	/* A callback may stop the listing early. */
	memset(&sn, 0, sizeof(sn));
	sn.ids = ids;
	sn.n = 25;
	sn.stop_after = 10;
	ck_store_ok(s, skd_store_list_pending(s, seen_cb, &sn, now, 7));
	ck_assert_int_eq(sn.calls, 10);
	/* Clean up: finish them all so later listings stay short. */
	for (i = 0; i < 25; i++) {
		if (i > 1) {
			ck_store_ok(s, skd_store_claim_request(s, ids[i], "w1",
			    now + 60));
		}
		ck_store_ok(s, skd_store_finish_request(s, ids[i], "w1",
		    NULL));
	}
	skd_store_close(s);
}
END_TEST

/* ---- lease expiry ---- */

START_TEST(test_lease_expiry)
{
	struct skd_store *w1 = store_open_gla(), *w2 = store_open_gla();
	struct skd_store *w3 = store_open_gla();
	struct skd_store_request *r = NULL;
	char id[SKD_STORE_ID_LEN];
	time_t now = time(NULL);
	const unsigned char j1[] = "w1's outcome", j2[] = "w2's outcome";
	int a, b;

	add_req(w1, id);
	/* w1 claims with a lease that has already run out (it hangs). */
	ck_store_ok(w1, skd_store_claim_request(w1, id, "w1", now - 1));
	ck_store_ok(w2, skd_store_read_request(w2, &r, id));
	ck_assert_str_eq(r->state, "claimed");
	/* w2 and w3 both try to take it over from the same reading:
	 * exactly one wins. */
	a = skd_store_reclaim_request(w2, id, r->claim_owner, r->lease_until,
	    "w2", now + 60, now);
	b = skd_store_reclaim_request(w3, id, r->claim_owner, r->lease_until,
	    "w3", now + 60, now);
	ck_assert_int_eq(a, 1);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(skd_store_error(w3), SKD_STORE_ERR_CONFLICT);
	skd_store_request_free(r);
	r = NULL;
	check_state(w1, id, "claimed", "w2");
	/* The first worker wakes up: its journal write is refused. */
	ck_store_err(w1, skd_store_journal_request(w1, id, "w1", j1,
	    sizeof(j1)), SKD_STORE_ERR_CONFLICT);
	ck_store_err(w1, skd_store_finish_request(w1, id, "w1", NULL),
	    SKD_STORE_ERR_CONFLICT);
	ck_store_ok(w2, skd_store_journal_request(w2, id, "w2", j2,
	    sizeof(j2)));
	ck_store_ok(w2, skd_store_read_request(w2, &r, id));
	ck_assert_str_eq(r->state, "journaled");
	ck_assert_mem_eq(r->journal, j2, sizeof(j2));
	skd_store_request_free(r);
	ck_store_ok(w2, skd_store_finish_request(w2, id, "w2", NULL));
	skd_store_close(w1);
	skd_store_close(w2);
	skd_store_close(w3);
}
END_TEST

/* ---- journal replay ---- */

struct find_arg {
	const char	*id;
	char		 state[16];
	int		 found;
};

static int
find_cb(void *arg, const char *id, const char *state)
{
	struct find_arg *fa = arg;

	if (strcmp(id, fa->id) == 0) {
		fa->found++;
		snprintf(fa->state, sizeof(fa->state), "%s", state);
	}
	return 0;
}

/* The "apply" half of processing: publish everything the journal says,
 * idempotently. */
static void
apply_outcome(struct skd_store *s, const char *req_id, const char *gl,
    const char *msg_id, const char *rcpt)
{
	static unsigned char resp[] = { 0x30, 0x01, 0x01 };
	static unsigned char keymsg[] = { 0x30, 0x01, 0x02 };
	struct skd_store_blob b = { resp, sizeof(resp) };
	struct skd_store_message m;
	struct skd_store_glkey k;
	char *rc[1];
	const char *names[1];

	names[0] = rcpt;
	rc[0] = (char *)rcpt;
	ck_store_ok(s, skd_store_publish_response(s, req_id, &b, 1, names, 1,
	    NULL, 0));
	memset(&m, 0, sizeof(m));
	snprintf(m.id, sizeof(m.id), "%s", msg_id);
	m.type = (char *)"glKey";
	m.message = keymsg;
	m.message_len = sizeof(keymsg);
	m.recipients = rc;
	m.n_recipients = 1;
	ck_store_ok(s, skd_store_publish_message(s, &m));
	memset(&k, 0, sizeof(k));
	k.key_id = (char *)"beef";
	k.gl_name = (char *)gl;
	k.message = keymsg;
	k.message_len = sizeof(keymsg);
	k.recipients = rc;
	k.n_recipients = 1;
	ck_store_ok(s, skd_store_put_glkey(s, &k));
}

START_TEST(test_journal_replay)
{
	struct skd_store *s = store_open_gla(), *s2;
	struct skd_store_request *r = NULL;
	struct skd_store_gl gl;
	struct skd_store_blob *out = NULL;
	struct skd_store_message *ml = NULL;
	struct skd_store_glkey *kl = NULL;
	struct find_arg fa;
	char id[SKD_STORE_ID_LEN], msg_id[SKD_STORE_ID_LEN], journal[128];
	char *glname = store_unique("URI:https://example.com/j/");
	char *rcpt = store_unique("email:j-");
	time_t now = time(NULL);
	size_t n;

	memset(&gl, 0, sizeof(gl));
	gl.name = glname;
	gl.address = (char *)"email:j@example.com";
	ck_store_ok(s, skd_store_create_gl(s, &gl));
	add_req(s, id);
	/* The worker's lease is short: it will die before finishing. */
	ck_store_ok(s, skd_store_claim_request(s, id, "dead", now - 1));
	/* The outcome names everything it will write, ids included. */
	skd_store_new_id(msg_id);
	snprintf(journal, sizeof(journal), "msg=%s", msg_id);
	ck_store_ok(s, skd_store_journal_request(s, id, "dead",
	    (unsigned char *)journal, strlen(journal)));
	/* It applies part of it, then crashes (the session just goes). */
	apply_outcome(s, id, glname, msg_id, rcpt);
	skd_store_close(s);

	/* A new worker finds the orphaned journaled request... */
	s2 = store_open_gla();
	memset(&fa, 0, sizeof(fa));
	fa.id = id;
	ck_store_ok(s2, skd_store_list_pending(s2, find_cb, &fa, now, 50));
	ck_assert_int_eq(fa.found, 1);
	ck_assert_str_eq(fa.state, "journaled");
	ck_store_ok(s2, skd_store_read_request(s2, &r, id));
	ck_store_ok(s2, skd_store_reclaim_request(s2, id, r->claim_owner,
	    r->lease_until, "heir", now + 60, now));
	skd_store_request_free(r);
	r = NULL;
	/* ...reads the journal back and applies it, twice for good
	 * measure: the state converges. */
	ck_store_ok(s2, skd_store_read_request(s2, &r, id));
	ck_assert_str_eq(r->state, "journaled");
	ck_assert_uint_eq(r->journal_len, strlen(journal));
	ck_assert_mem_eq(r->journal, journal, strlen(journal));
	ck_assert_str_eq((char *)r->journal + 4, msg_id);
	skd_store_request_free(r);
	r = NULL;
	apply_outcome(s2, id, glname, msg_id, rcpt);
	apply_outcome(s2, id, glname, msg_id, rcpt);
	ck_store_ok(s2, skd_store_finish_request(s2, id, "heir", NULL));
	check_state(s2, id, "done", "heir");

	ck_store_ok(s2, skd_store_read_response(s2, &out, &n, id));
	ck_assert_uint_eq(n, 1);
	skd_store_blobs_free(out, n);
	ck_store_ok(s2, skd_store_find_messages(s2, &ml, &n, rcpt));
	ck_assert_uint_eq(n, 1);
	skd_store_message_list_free(ml, n);
	ck_store_ok(s2, skd_store_find_glkeys(s2, &kl, &n, glname, rcpt));
	ck_assert_uint_eq(n, 1);
	skd_store_glkey_list_free(kl, n);
	memset(&fa, 0, sizeof(fa));
	fa.id = id;
	ck_store_ok(s2, skd_store_list_pending(s2, find_cb, &fa, now + 3600,
	    50));
	ck_assert_int_eq(fa.found, 0);

	ck_store_ok(s2, skd_store_delete_message(s2, msg_id));
	ck_store_ok(s2, skd_store_purge_gl(s2, glname));
	free(glname);
	free(rcpt);
	skd_store_close(s2);
}
END_TEST

/* ---- change notification ---- */

struct watch_seen {
	const char	*id;
	int		 hits;
	size_t		 all;
};

static void
watch_cb(void *arg, const char *dn)
{
	struct watch_seen *ws = arg;

	ws->all++;
	if (ws->id != NULL && strstr(dn, ws->id) != NULL)
		ws->hits++;
}

/* Polls until the watched id was reported (at most about 5 s). */
static int
watch_until_hit(struct skd_store_watch *w, struct skd_store *s,
    struct watch_seen *ws)
{
	int i, before = ws->hits;

	for (i = 0; i < 10 && ws->hits == before; i++) {
		if (!skd_store_watch_poll(w, NULL, 1))
			ck_assert_int_eq(skd_store_error(s),
			    SKD_STORE_ERR_UNAVAILABLE);
	}
	return ws->hits - before;
}

START_TEST(test_watch_requests)
{
	struct skd_store *s = store_open_gla(), *other = store_open_gla();
	struct skd_store_watch *w;
	struct watch_seen ws;
	char id[SKD_STORE_ID_LEN], id2[SKD_STORE_ID_LEN];
	size_t n, all;

	memset(&ws, 0, sizeof(ws));
	w = skd_store_watch_open(s, SKD_STORE_WATCH_REQUESTS, watch_cb, &ws);
	ck_assert_msg(w != NULL, "watch: %s", skd_store_errmsg(s));
	/* Nothing new: a poll without waiting reports nothing. */
	ck_store_ok(s, skd_store_watch_poll(w, &n, 0));
	ck_assert_uint_eq(n, 0);

	/* A request submitted by someone else shows up at once. */
	add_req(other, id);
	ws.id = id;
	ck_assert_int_ge(watch_until_hit(w, s, &ws), 1);
	/* Its claim is not: a claimed request is no one else's work, and
	 * the watch sees pending requests only (a lease that runs out is
	 * found by listing).  A second request is reported, the first
	 * is not reported again. */
	all = ws.all;
	ck_store_ok(other, skd_store_claim_request(other, id, "w",
	    time(NULL) + 60));
	add_req(other, id2);
	ws.id = id2;
	ck_assert_int_ge(watch_until_hit(w, s, &ws), 1);
	ck_store_ok(s, skd_store_watch_poll(w, NULL, 1));
	ck_assert_uint_eq(ws.all - all, 1);

	/* slapd restarts: the watch reports the loss, then refreshes and
	 * reports every pending request again, the second included. */
	ck_assert(skd_test_stack_restart());
	ws.id = id2;
	ck_assert_int_ge(watch_until_hit(w, s, &ws), 1);
	ck_store_ok(other, skd_store_finish_request(other, id, "w", NULL));
	ck_store_ok(other, skd_store_claim_request(other, id2, "w",
	    time(NULL) + 60));
	ck_store_ok(other, skd_store_finish_request(other, id2, "w", NULL));
	skd_store_watch_close(w);
	skd_store_watch_close(NULL);
	skd_store_close(s);
	skd_store_close(other);
}
END_TEST

/* A burst's reports, each request's counted apart. */
#define BURST	6

struct watch_burst {
	char	 id[2 * BURST][SKD_STORE_ID_LEN];
	int	 hits[2 * BURST];
	size_t	 n;		/* ids in use */
	size_t	 other;		/* reports of no id here */
};

static void
burst_cb(void *arg, const char *dn)
{
	struct watch_burst *b = arg;
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (strstr(dn, b->id[i]) != NULL) {
			b->hits[i]++;
			return;
		}
	}
	b->other++;
}

/* Polls until every id in b was reported (at most about 5 s); returns
 * how many were. */
static size_t
burst_until_all(struct skd_store_watch *w, struct skd_store *s,
    struct watch_burst *b)
{
	size_t i, got = 0;
	int round;

	for (round = 0; round < 5; round++) {
		for (got = 0, i = 0; i < b->n; i++)
			got += b->hits[i] > 0;
		if (got == b->n)
			break;
		ck_store_ok(s, skd_store_watch_poll(w, NULL, 1));
	}
	return got;
}

/*
 * Reports that reach the watch together are each reported, once: requests
 * pending when it starts (its refresh phase, RFC 4533 3.4), then a burst
 * submitted back to back while nobody polls, read by one poll after
 * another.  OpenLDAP 2.5's ldap_sync_poll and ldap_sync_init handed a
 * chain's first message to the handler once for each message in the
 * chain, losing the others (src/store/watch.c).
 */
START_TEST(test_watch_burst)
{
	struct skd_store *s = store_open_gla(), *other = store_open_gla();
	struct skd_store_watch *w;
	struct watch_burst b;
	size_t i;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < BURST; i++)
		add_req(other, b.id[b.n++]);
	w = skd_store_watch_open(s, SKD_STORE_WATCH_REQUESTS, burst_cb, &b);
	ck_assert_msg(w != NULL, "watch: %s", skd_store_errmsg(s));
	for (i = 0; i < BURST; i++)
		ck_assert_msg(b.hits[i] == 1, "pending request %zu reported "
		    "%d times by the refresh", i, b.hits[i]);

	for (i = 0; i < BURST; i++)
		add_req(other, b.id[b.n++]);
	/* All of them on the watch's connection before it reads. */
	(void)usleep(300000);
	ck_assert_uint_eq(burst_until_all(w, s, &b), 2 * BURST);
	ck_store_ok(s, skd_store_watch_poll(w, NULL, 0));
	for (i = 0; i < 2 * BURST; i++)
		ck_assert_msg(b.hits[i] == 1, "request %zu reported %d times",
		    i, b.hits[i]);

	for (i = 0; i < b.n; i++) {
		ck_store_ok(other, skd_store_claim_request(other, b.id[i], "w",
		    time(NULL) + 60));
		ck_store_ok(other, skd_store_finish_request(other, b.id[i],
		    "w", NULL));
	}
	skd_store_watch_close(w);
	skd_store_close(s);
	skd_store_close(other);
}
END_TEST

Suite *
skd_suite_store_req(void)
{
	Suite *su = suite_create("store_req");
	TCase *tc = tcase_create("requests");

	tcase_add_unchecked_fixture(tc, store_fixture, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_request_lifecycle);
	tcase_add_test(tc, test_claim_race_sessions);
	tcase_add_test(tc, test_claim_race_fork);
	tcase_add_test(tc, test_list_pending_paged);
	tcase_add_test(tc, test_lease_expiry);
	tcase_add_test(tc, test_journal_replay);
	tcase_add_test(tc, test_watch_requests);
	tcase_add_test(tc, test_watch_burst);
	suite_add_tcase(su, tc);
	return su;
}
