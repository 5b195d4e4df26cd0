/*
 * mailout.c: the worker's mail-out pass (RFC 5275 section 7).
 *
 * Every response (to any request under mail_answers = all, the default;
 * to requests that came by mail under mail-origin), every GLA message and
 * every glKey entry whose recipients have rfc822 addresses (and whose GL's
 * mail policy is not "directory") is mailed exactly once; the send state
 * lives on the entry (docs/directory.md "Mail", src/store/mail.c):
 *
 *   mark    the store writes an entry with skdMailState "new" when this
 *           worker mails (skd_store_set_mail_mark), so the pass finds what
 *           to queue with one indexed search, not a scan of the base;
 *   queue   a "new" entry gets its addresses, a stable Message-ID and
 *           state queued (or none: nothing to send), once, whichever
 *           worker gets there first;
 *   claim   a due entry's attempt counter is moved on by compare-and-swap
 *           and its next try set past the attempt, so of several workers
 *           one sends, and one that dies mid-send is retried after that
 *           time with the same Message-ID (a duplicate is recognisable);
 *   result  sent, queued again with the error and a backoff that doubles,
 *           or failed (a permanent refusal, or mail_max_attempts used up),
 *           which skd status lists;
 *   catch-up  a worker that starts (or reloads) with mail marks "new"
 *           what was written while no worker mailed (entries without
 *           the class: no mail_from then) and, under mail_answers = all,
 *           the answers a mail-origin worker "held"; oldest first (the
 *           directory's order of creation), MAILOUT_BATCH per pass, until
 *           a pass finds fewer; then the steps above send each once.
 *           mail_catch_up = no leaves them.
 *
 * What the mail carries is the entry's skdMessage value(s) as they are:
 * the worker never decides anything here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "engine/skd_engine.h"
#include "mail/skd_mail.h"
#include "worker/skd_worker.h"

#define MAILOUT_BATCH		256	/* entries per pass and kind */
#define MAILOUT_DEFAULT_RETRY	60L
#define MAILOUT_DEFAULT_ATTEMPTS 10L
#define MAILOUT_MAX_BACKOFF	86400L
#define MAILOUT_SEND_TIMEOUT	60L

struct skd_worker_mailout {
	struct skd_mail_transport t;
	char	*from;
	char	*domain;
	char	*relay;
	char	*ca_file;
	char	*user;
	char	*password;
	char	*sendmail;
	long	 retry;
	long	 max_attempts;
	int	 answers_all;	/* mail_answers = all (default) */
	int	 catch_up;	/* mail_catch_up = yes (default) */
	int	 caught_up;	/* nothing left to catch up */
	unsigned long sent, failed;
};

void
skd_worker_mailout_free(struct skd_worker_mailout *mo)
{
	if (mo == NULL)
		return;
	free(mo->from);
	free(mo->domain);
	free(mo->relay);
	free(mo->ca_file);
	free(mo->user);
	if (mo->password != NULL)
		OPENSSL_clear_free(mo->password, strlen(mo->password));
	free(mo->sendmail);
	free(mo);
}

static char *
dup_or_null(const char *s, int *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*failed = 1;
	return d;
}

/* The first line of path, for the relay's AUTH password. */
static char *
read_password(char *err, size_t err_len, const char *path)
{
	FILE *f;
	char buf[512], *p = NULL;

	if ((f = fopen(path, "r")) == NULL) {
		(void)snprintf(err, err_len, "%s: cannot open", path);
		return NULL;
	}
	if (fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\r\n")] = '\0';
		p = strdup(buf);
	}
	fclose(f);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (p == NULL)
		(void)snprintf(err, err_len, "%s: empty", path);
	return p;
}

int
skd_worker_mailout_setup(struct skd_worker_mailout **out, char *err,
    size_t err_len, const struct skd_worker_config *cfg)
{
	struct skd_worker_mailout *mo;
	const char *at;
	char *addr;
	int failed = 0;

	*out = NULL;
	if (cfg->mail_from == NULL)
		return 1;	/* no mail out */
	if ((addr = skd_mail_addr_spec(cfg->mail_from)) == NULL ||
	    (at = strrchr(addr, '@')) == NULL) {
		free(addr);
		(void)snprintf(err, err_len, "%s: mail_from is not one "
		    "address", cfg->path != NULL ? cfg->path : "config");
		return 0;
	}
	if ((mo = calloc(1, sizeof(*mo))) == NULL) {
		free(addr);
		(void)snprintf(err, err_len, "out of memory");
		return 0;
	}
	mo->from = addr;
	mo->domain = dup_or_null(at + 1, &failed);
	mo->relay = dup_or_null(cfg->mail_relay, &failed);
	mo->ca_file = dup_or_null(cfg->mail_ca_file, &failed);
	mo->user = dup_or_null(cfg->mail_user, &failed);
	mo->sendmail = dup_or_null(cfg->mail_sendmail, &failed);
	if (failed) {
		(void)snprintf(err, err_len, "out of memory");
		goto err;
	}
	if (cfg->mail_password_file != NULL &&
	    (mo->password = read_password(err, err_len,
	    cfg->mail_password_file)) == NULL)
		goto err;
	/* Every answer by default: RFC 5275 7 makes SMTP a transport every
	 * GLA supports, and a GLO or member who signs with an address has
	 * said where it is reached; the directory keeps the answer too. */
	if (cfg->mail_answers == NULL || strcmp(cfg->mail_answers, "all") == 0)
		mo->answers_all = 1;
	else if (strcmp(cfg->mail_answers, "mail-origin") != 0) {
		(void)snprintf(err, err_len, "%s: mail_answers is all or "
		    "mail-origin", cfg->path != NULL ? cfg->path : "config");
		goto err;
	}
	/* Catching up by default: a GL's members and a mail request's
	 * signer expect what the GLA owes them by mail whenever mail was
	 * switched on (skd-gla(8) "MAIL"). */
	if (cfg->mail_catch_up == NULL ||
	    strcmp(cfg->mail_catch_up, "yes") == 0)
		mo->catch_up = 1;
	else if (strcmp(cfg->mail_catch_up, "no") != 0) {
		(void)snprintf(err, err_len, "%s: mail_catch_up is yes or no",
		    cfg->path != NULL ? cfg->path : "config");
		goto err;
	}
	mo->retry = cfg->mail_retry_seconds > 0 ? cfg->mail_retry_seconds :
	    MAILOUT_DEFAULT_RETRY;
	mo->max_attempts = cfg->mail_max_attempts > 0 ?
	    cfg->mail_max_attempts : MAILOUT_DEFAULT_ATTEMPTS;
	mo->t.via = mo->relay != NULL ? SKD_MAIL_VIA_SMTP :
	    SKD_MAIL_VIA_SENDMAIL;
	mo->t.url = mo->relay;
	mo->t.starttls = cfg->mail_starttls;
	mo->t.ca_file = mo->ca_file;
	mo->t.user = mo->user;
	mo->t.password = mo->password;
	mo->t.sendmail = mo->sendmail;
	mo->t.timeout = cfg->mail_timeout > 0 ? cfg->mail_timeout :
	    MAILOUT_SEND_TIMEOUT;
	*out = mo;
	return 1;
 err:
	skd_worker_mailout_free(mo);
	return 0;
}

/* ---- the signer of a request ------------------------------------------ */

/* Does names (the verified signer's GeneralName texts) hold addr? */
static int
signer_has(const STACK_OF(ASN1_UTF8STRING) *names, const char *addr,
    char **out_first)
{
	const ASN1_UTF8STRING *n;
	char text[300], *a;
	int i, found = 0;

	for (i = 0; i < sk_ASN1_UTF8STRING_num(names) && !found; i++) {
		n = sk_ASN1_UTF8STRING_value(names, i);
		if (n->length <= 0 || (size_t)n->length >= sizeof(text))
			continue;
		memcpy(text, n->data, (size_t)n->length);
		text[n->length] = '\0';
		if ((a = skd_mail_name_address(text)) == NULL)
			continue;
		if (addr != NULL && strcasecmp(a, addr) == 0)
			found = 1;
		if (out_first != NULL && *out_first == NULL)
			*out_first = a;
		else
			free(a);
	}
	return found;
}

int
skd_worker_mail_check(struct skd_store *s,
    const struct skd_worker_mailout *mo, const char *owner,
    const struct skd_store_request *r, const SKD_ENG_OUTCOME *o, char *why,
    size_t why_len)
{
	const STACK_OF(ASN1_UTF8STRING) *names = skd_engine_outcome_signer(o);
	char *first = NULL;
	int matches, rc = 1;

	if (names == NULL)
		return 1;	/* nothing verified: nothing is changed */
	matches = signer_has(names, r->mail_from, mo != NULL ? &first : NULL);
	/* RFC 8551 3.1.4 for what skd gla mail-in could not see: the From
	 * of a mail whose outer layer is encrypted is compared with the
	 * signer the engine verified; a mismatch applies nothing. */
	if (r->mail_from != NULL && !matches &&
	    !skd_mail_outer_signed(r->message, r->message_len)) {
		(void)snprintf(why, why_len, "From <%.100s> is not an email "
		    "address of the request's signer; nothing applied",
		    r->mail_from);
		rc = 0;
		goto out;
	}
	if (mo == NULL || first == NULL)
		goto out;
	/* Where the answers go: the From when it is the signer's, else the
	 * signer's first rfc822Name. */
	if (r->mail_signer != NULL && strcasecmp(r->mail_signer, matches ?
	    r->mail_from : first) == 0)
		goto out;
	if (!skd_store_set_mail_signer(s, r->id, owner, matches ?
	    r->mail_from : first))
		rc = -1;
 out:
	free(first);
	return rc;
}

/* ---- listing ------------------------------------------------------------ */

struct refs {
	char	*v[MAILOUT_BATCH];
	size_t	 n;
	int	 failed;
};

static int
refs_cb(void *arg, const char *ref)
{
	struct refs *r = arg;

	if ((r->v[r->n] = strdup(ref)) == NULL) {
		r->failed = 1;
		return 1;
	}
	return ++r->n == MAILOUT_BATCH;
}

static void
refs_clear(struct refs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i]);
	r->n = 0;
}

/* ---- queueing ----------------------------------------------------------- */

struct addrs {
	char	**v;
	size_t	  n;
};

static void
addrs_free(struct addrs *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

/* Appends addr (consumed) unless it is there already. */
static int
addrs_add(struct addrs *a, char *addr)
{
	char **nv;
	size_t i;

	if (addr == NULL)
		return 1;
	for (i = 0; i < a->n; i++) {
		if (strcasecmp(a->v[i], addr) == 0) {
			free(addr);
			return 1;
		}
	}
	if ((nv = realloc(a->v, (a->n + 1) * sizeof(*nv))) == NULL) {
		free(addr);
		return 0;
	}
	a->v = nv;
	a->v[a->n++] = addr;
	return 1;
}

/*
 * Where item goes.  A response: to the address of the request's signer
 * as the worker verified it (skdMailSigner), else the request's From
 * (checked against the signer by skd gla mail-in or the worker), else
 * its envelope sender; under mail_answers = mail-origin only when the
 * request came by mail.  A message or glKey: to its recipients' rfc822
 * addresses, the name itself when it is one, else the member's or
 * owner's address (glMemberAddress, glOwnerAddress), else the first
 * rfc822Name of the member's or owner's certificate; none when the GL's
 * mail policy is "directory".  *out_held: none under mail_answers =
 * mail-origin, for a response to a request that came by the directory.
 */
static int
item_addresses(struct skd_store *s, const struct skd_worker_mailout *mo,
    struct addrs *a, int *out_held, const struct skd_store_mailitem *it)
{
	struct skd_store_member *m = NULL;
	char *policy = NULL, *addr;
	size_t i;
	int ok = 1, by_mail;

	*out_held = 0;
	if (it->kind == SKD_STORE_MAIL_RESPONSE) {
		by_mail = it->reply_to != NULL || it->reply_from != NULL ||
		    it->mail_in_id != NULL;
		if (!by_mail && !mo->answers_all) {
			/* Held, not none: a worker under mail_answers = all
			 * catches it up. */
			*out_held = 1;
			return 1;
		}
		if (it->mail_signer != NULL)
			return addrs_add(a, skd_mail_addr_spec(it->mail_signer));
		if (it->reply_from != NULL)
			return addrs_add(a, skd_mail_addr_spec(it->reply_from));
		return addrs_add(a, skd_mail_addr_spec(it->reply_to));
	}
	if (it->gl_name != NULL) {
		if (!skd_store_read_mail_policy(s, &policy, it->gl_name) &&
		    skd_store_error(s) != SKD_STORE_ERR_NOT_FOUND)
			return 0;
		if (policy != NULL && strcasecmp(policy, "directory") == 0) {
			free(policy);
			return 1;
		}
		free(policy);
	}
	for (i = 0; i < it->n_recipients && ok; i++) {
		if ((addr = skd_mail_name_address(it->recipients[i])) != NULL) {
			ok = addrs_add(a, addr);
			continue;
		}
		if (it->gl_name == NULL)
			continue;
		if (skd_store_read_member(s, &m, it->gl_name, SKD_STORE_MEMBER,
		    it->recipients[i]) || skd_store_read_member(s, &m,
		    it->gl_name, SKD_STORE_OWNER, it->recipients[i])) {
			/* RFC 5275 7 / issue 16: glMemberAddress or
			 * glOwnerAddress, else the rfc822Name of the
			 * certificate the GLA verified when it added the
			 * member. */
			addr = skd_mail_name_address(m->address);
			if (addr == NULL)
				addr = skd_mail_cert_address(m->cert,
				    m->cert_len);
			ok = addrs_add(a, addr);
			skd_store_member_free(m);
			m = NULL;
		}
	}
	return ok;
}

/* A Message-ID that names the entry and nothing else: the same on every
 * attempt and every worker. */
static void
item_message_id(char *out, size_t len, const struct skd_worker_mailout *mo,
    const struct skd_store_mailitem *it)
{
	static const char *kinds[] = { "resp", "msg", "glkey" };
	unsigned char md[32];
	unsigned int md_len = 0;
	char hex[33];
	size_t i;

	(void)EVP_Digest(it->ref, strlen(it->ref), md, &md_len, EVP_sha256(),
	    NULL);
	for (i = 0; i < 16; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", md[i]);
	(void)snprintf(out, len, "skd.%s.%s@%s", kinds[it->kind % 3], hex,
	    mo->domain);
}

static void
queue_one(struct skd_store *s, const struct skd_worker_mailout *mo,
    const char *ref, time_t now)
{
	struct skd_store_mailitem *it = NULL;
	struct addrs a = { NULL, 0 };
	char mid[200];
	int held;

	if (!skd_store_mail_read(s, &it, ref))
		goto out;
	if (it->state == NULL || strcmp(it->state, "new") != 0)
		goto out;
	if (!item_addresses(s, mo, &a, &held, it)) {
		skd_worker_logf(SKD_WLOG_WARNING, NULL, "mail: addresses of "
		    "%s: %s", ref, skd_store_errmsg(s));
		goto out;
	}
	if (held) {
		if (!skd_store_mail_move(s, ref, "new", "held") &&
		    skd_store_error(s) != SKD_STORE_ERR_CONFLICT)
			skd_worker_logf(SKD_WLOG_WARNING, NULL, "mail: hold "
			    "%s: %s", ref, skd_store_errmsg(s));
		goto out;
	}
	item_message_id(mid, sizeof(mid), mo, it);
	if (!skd_store_mail_queue(s, ref, (const char *const *)a.v, a.n, mid,
	    now)) {
		if (skd_store_error(s) != SKD_STORE_ERR_CONFLICT)
			skd_worker_logf(SKD_WLOG_WARNING, NULL, "mail: queue "
			    "%s: %s", ref, skd_store_errmsg(s));
		goto out;
	}
	if (a.n > 0)
		skd_worker_logf(SKD_WLOG_INFO, NULL, "mail: queued <%s> to %s%s",
		    mid, a.v[0], a.n > 1 ? " and others" : "");
 out:
	addrs_free(&a);
	skd_store_mailitem_free(it);
}

/* ---- sending ------------------------------------------------------------ */

static const char *
item_subject(const struct skd_store_mailitem *it)
{
	switch (it->kind) {
	case SKD_STORE_MAIL_RESPONSE:
		return "skd: CMC response";
	case SKD_STORE_MAIL_GLKEY:
		return "skd: glKey";
	default:
		return "skd: message from the GLA";
	}
}

/* Sends every skdMessage value of it; the worst outcome counts. */
static enum skd_mail_sent
send_item(char *err, size_t err_len, const struct skd_worker_mailout *mo,
    const struct skd_store_mailitem *it)
{
	struct skd_mail_out o;
	enum skd_mail_sent r, worst = SKD_MAIL_SENT;
	char mid[260], *msg = NULL;
	size_t i, len = 0;

	if (it->n_messages == 0) {
		(void)snprintf(err, err_len, "the entry has no message");
		return SKD_MAIL_PERMFAIL;
	}
	for (i = 0; i < it->n_messages; i++) {
		/* One mail per value, the first under the entry's id. */
		if (i == 0)
			(void)snprintf(mid, sizeof(mid), "%s", it->message_id);
		else
			(void)snprintf(mid, sizeof(mid), "%zu.%s", i,
			    it->message_id);
		memset(&o, 0, sizeof(o));
		o.from = mo->from;
		o.to = (const char *const *)it->to;
		o.n_to = it->n_to;
		o.subject = item_subject(it);
		o.message_id = mid;
		o.in_reply_to = it->kind == SKD_STORE_MAIL_RESPONSE ?
		    it->mail_in_id : NULL;
		/* RFC 5273 3: PKIResponse is CMC-response; glKey and the
		 * GLA's other PKIData are CMC-request. */
		o.smime_type = it->kind == SKD_STORE_MAIL_RESPONSE ?
		    "CMC-response" : "CMC-request";
		o.date = time(NULL);
		if (!skd_mail_build(&msg, &len, err, err_len, &o,
		    it->messages[i].data, it->messages[i].len))
			return SKD_MAIL_PERMFAIL;
		r = skd_mail_send(err, err_len, &mo->t, mo->from,
		    (const char *const *)it->to, it->n_to, msg, len);
		free(msg);
		msg = NULL;
		if (r != SKD_MAIL_SENT)
			return r;
	}
	return worst;
}

static long
backoff(const struct skd_worker_mailout *mo, int attempts)
{
	long b = mo->retry;

	while (attempts-- > 0 && b < MAILOUT_MAX_BACKOFF)
		b *= 2;
	return b < MAILOUT_MAX_BACKOFF ? b : MAILOUT_MAX_BACKOFF;
}

static void
send_one(struct skd_store *s, struct skd_worker_mailout *mo, const char *ref,
    time_t now)
{
	struct skd_store_mailitem *it = NULL;
	enum skd_mail_sent r;
	char err[512], why[600];
	long wait;

	if (!skd_store_mail_read(s, &it, ref))
		goto out;
	if (it->state == NULL || strcmp(it->state, "queued") != 0 ||
	    it->next_try > now)
		goto out;
	if (it->attempts >= mo->max_attempts) {
		(void)snprintf(why, sizeof(why), "gave up after %d attempts: "
		    "%s", it->attempts, it->error != NULL ? it->error : "");
		if (skd_store_mail_result(s, ref, "failed", why, 0)) {
			mo->failed++;
			skd_worker_logf(SKD_WLOG_WARNING, NULL, "mail <%s>: %s",
			    it->message_id, why);
		}
		goto out;
	}
	/* The attempt is ours once the counter moved; until the send's own
	 * timeout has passed nobody else tries it. */
	wait = backoff(mo, it->attempts);
	if (wait < mo->t.timeout)
		wait = mo->t.timeout;
	if (!skd_store_mail_claim(s, ref, it->attempts, now + wait))
		goto out;
	r = send_item(err, sizeof(err), mo, it);
	if (r == SKD_MAIL_SENT) {
		if (skd_store_mail_result(s, ref, "sent", NULL, 0)) {
			mo->sent++;
			skd_worker_logf(SKD_WLOG_INFO, NULL, "mail <%s> sent to "
			    "%s%s", it->message_id, it->to[0], it->n_to > 1 ?
			    " and others" : "");
		} else {
			skd_worker_logf(SKD_WLOG_WARNING, NULL, "mail <%s> sent, "
			    "but not recorded (%s): it goes again after the "
			    "backoff, with the same Message-ID",
			    it->message_id, skd_store_errmsg(s));
		}
	} else if (r == SKD_MAIL_PERMFAIL) {
		(void)skd_store_mail_result(s, ref, "failed", err, 0);
		mo->failed++;
		skd_worker_logf(SKD_WLOG_WARNING, NULL, "mail <%s> refused for "
		    "good: %s", it->message_id, err);
	} else {
		/* Try again after the backoff set by the claim. */
		(void)skd_store_mail_result(s, ref, "queued", err, 0);
		skd_worker_logf(SKD_WLOG_NOTICE, NULL, "mail <%s>: %s; again "
		    "in %ld s", it->message_id, err, wait);
	}
 out:
	skd_store_mailitem_free(it);
}

/* ---- catching up ------------------------------------------------------- */

/* Lists one batch of which and marks each entry "new" (unhold: moves it
 * from "held" to "new" instead); returns how many were listed, or -1
 * when the listing failed. */
static long
catch_up_step(struct skd_store *s, struct refs *r,
    enum skd_store_mail_which which, time_t now, int unhold)
{
	size_t i, n;

	refs_clear(r);
	if (!skd_store_mail_list(s, which, now, refs_cb, r, MAILOUT_BATCH) &&
	    r->n == 0) {
		skd_worker_logf(SKD_WLOG_WARNING, NULL, "mail: catch-up "
		    "listing: %s", skd_store_errmsg(s));
		return -1;
	}
	for (i = 0; i < r->n && !skd_worker_stopping(); i++) {
		if ((unhold ? skd_store_mail_move(s, r->v[i], "held", "new") :
		    skd_store_mail_mark(s, r->v[i])) ||
		    skd_store_error(s) == SKD_STORE_ERR_CONFLICT)
			continue;
		skd_worker_logf(SKD_WLOG_WARNING, NULL, "mail: catch-up of "
		    "%s: %s", r->v[i], skd_store_errmsg(s));
	}
	n = r->n;
	refs_clear(r);
	return (long)n;
}

/*
 * One batch of the catch-up: entries written while no worker mailed get
 * the mark they would have had, and (mail_answers = all) answers held by
 * a mail-origin worker are let go; the queueing that follows decides for
 * each, as for any entry, whether and where it goes.  Done once a pass
 * finds less than a batch of either.
 */
static void
catch_up(struct skd_store *s, struct skd_worker_mailout *mo, struct refs *r,
    time_t now)
{
	long unmarked, held = 0;

	unmarked = catch_up_step(s, r, SKD_STORE_MAIL_UNMARKED, now, 0);
	if (mo->answers_all)
		held = catch_up_step(s, r, SKD_STORE_MAIL_HELD, now, 1);
	if (unmarked < 0 || held < 0)
		return;
	if (unmarked > 0 || held > 0)
		skd_worker_logf(SKD_WLOG_INFO, NULL, "mail: catching up %ld "
		    "entries written without mail, %ld held answers", unmarked,
		    held);
	if (unmarked < MAILOUT_BATCH && held < MAILOUT_BATCH)
		mo->caught_up = 1;
}

int
skd_worker_mailout_run(struct skd_store *s, struct skd_worker_mailout *mo,
    size_t *out_sent)
{
	struct refs *r = NULL;
	unsigned long before;
	time_t now = time(NULL);
	size_t i;
	int ok = 0;

	if (out_sent != NULL)
		*out_sent = 0;
	if (mo == NULL)
		return 1;
	before = mo->sent;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return 0;
	if (mo->catch_up && !mo->caught_up)
		catch_up(s, mo, r, now);
	if (!skd_store_mail_list(s, SKD_STORE_MAIL_UNQUEUED, now, refs_cb, r,
	    MAILOUT_BATCH) && r->n == 0) {
		skd_worker_logf(SKD_WLOG_WARNING, NULL, "mail: listing: %s",
		    skd_store_errmsg(s));
		goto err;
	}
	for (i = 0; i < r->n && !skd_worker_stopping(); i++)
		queue_one(s, mo, r->v[i], now);
	refs_clear(r);
	if (!skd_store_mail_list(s, SKD_STORE_MAIL_DUE, now, refs_cb, r,
	    MAILOUT_BATCH) && r->n == 0) {
		skd_worker_logf(SKD_WLOG_WARNING, NULL, "mail: listing: %s",
		    skd_store_errmsg(s));
		goto err;
	}
	for (i = 0; i < r->n && !skd_worker_stopping(); i++)
		send_one(s, mo, r->v[i], time(NULL));
	ok = 1;
 err:
	refs_clear(r);
	free(r);
	if (out_sent != NULL)
		*out_sent = (size_t)(mo->sent - before);
	return ok;
}

/* ---- skd status --------------------------------------------------------- */

void
skd_worker_mail_status_clear(struct skd_worker_mail_status *st)
{
	size_t i;

	for (i = 0; i < st->n_undelivered; i++) {
		free(st->undelivered[i].message_id);
		free(st->undelivered[i].to);
		free(st->undelivered[i].error);
	}
	free(st->undelivered);
	memset(st, 0, sizeof(*st));
}

/* How many entries are in state which (at most a batch; *more: a full
 * batch, there may be more); r keeps their refs. */
static int
status_count(struct skd_store *s, struct refs *r,
    enum skd_store_mail_which which, size_t *n, int *more)
{
	refs_clear(r);
	if (!skd_store_mail_list(s, which, 0, refs_cb, r, MAILOUT_BATCH))
		return 0;
	*n = r->n;
	*more = r->n == MAILOUT_BATCH;
	return 1;
}

int
skd_worker_mail_status_get(struct skd_worker_mail_status *out,
    struct skd_store *s)
{
	struct refs *r;
	struct skd_store_mailitem *it = NULL;
	struct skd_worker_mail_failed *u;
	size_t i;
	int ok = 0, failed = 0;

	memset(out, 0, sizeof(*out));
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return 0;
	if (!status_count(s, r, SKD_STORE_MAIL_QUEUED, &out->queued,
	    &out->queued_more) ||
	    !status_count(s, r, SKD_STORE_MAIL_HELD, &out->held,
	    &out->held_more) ||
	    !status_count(s, r, SKD_STORE_MAIL_FAILED, &out->failed,
	    &out->failed_more))
		goto err;
	if (r->n > 0 && (out->undelivered = calloc(r->n,
	    sizeof(*out->undelivered))) == NULL)
		goto err;
	for (i = 0; i < r->n; i++) {
		if (!skd_store_mail_read(s, &it, r->v[i]))
			continue;	/* gone meanwhile */
		u = &out->undelivered[out->n_undelivered++];
		u->message_id = dup_or_null(it->message_id, &failed);
		u->to = dup_or_null(it->n_to > 0 ? it->to[0] : NULL,
		    &failed);
		u->error = dup_or_null(it->error, &failed);
		skd_store_mailitem_free(it);
		it = NULL;
		if (failed)
			goto err;
	}
	ok = 1;
 err:
	refs_clear(r);
	free(r);
	return ok;
}

int
skd_worker_mail_status_print(FILE *out, struct skd_store *s)
{
	struct skd_worker_mail_status st;
	const struct skd_worker_mail_failed *u;
	size_t i;
	int ok = 0;

	if (!skd_worker_mail_status_get(&st, s))
		goto err;
	fprintf(out, "mail queued: %zu%s\n", st.queued, st.queued_more ?
	    "+" : "");
	if (st.held > 0)
		fprintf(out, "mail held (mail_answers = mail-origin): %zu%s\n",
		    st.held, st.held_more ? "+" : "");
	fprintf(out, "mail failed: %zu%s\n", st.failed, st.failed_more ?
	    "+" : "");
	for (i = 0; i < st.n_undelivered; i++) {
		u = &st.undelivered[i];
		fprintf(out, "  undelivered <%s> to %s: %s\n",
		    u->message_id != NULL ? u->message_id : "-",
		    u->to != NULL ? u->to : "-",
		    u->error != NULL ? u->error : "-");
	}
	ok = 1;
 err:
	skd_worker_mail_status_clear(&st);
	return ok;
}
