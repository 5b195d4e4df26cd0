/*
 * cli_mail.c: the GLA's side of the mail transport (RFC 5275 section 7).
 *
 *   skd gla mail-in --config FILE [--sender ADDRESS]
 *   skd gla mail-policy --config FILE --gl NAME directory|mail|both
 *
 * mail-in is an MTA's delivery agent (OpenSMTPD mda, Postfix pipe(8),
 * Exim pipe): one RFC 5322 message on standard input becomes one pending
 * request in the directory, recording where the answer goes.  Its exit
 * code follows sysexits(3), which every MTA understands: EX_TEMPFAIL
 * when the directory cannot take the request now (the MTA keeps the mail
 * and retries), EX_DATAERR with one line on standard error for a message
 * that can never be processed (the MTA bounces it with that line),
 * EX_CONFIG for a bad configuration.  The request id is a name-based UUID
 * (RFC 4122 4.3, SHA-1) of the mail's Message-ID and the SHA-256 of the
 * CMS object, so an MTA that delivers the same mail twice adds one
 * request; the same CMS object in another mail is another request, which
 * the GLA refuses as a replay (RFC 5275 3.2.4.3).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <uuid/uuid.h>

#include "cli/cli.h"
#include "client/skd_client.h"
#include "mail/skd_mail.h"
#include "worker/skd_worker.h"

/* The namespace of mail request ids (a UUID of its own, RFC 4122 4.3). */
static const uuid_t mail_ns = {
	0x5b, 0x2c, 0x8e, 0x1f, 0x6a, 0x43, 0x4d, 0x0e,
	0x9c, 0x71, 0x2f, 0x0b, 0x83, 0xd5, 0x46, 0xa9
};

static int
mail_in_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One line on stderr: the MTA quotes it in the bounce or its log. */
static int
mail_in_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "skd gla mail-in: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* Reads stdin, at most max bytes; *out_over when there was more. */
static unsigned char *
read_stdin(size_t max, size_t *out_len, int *out_over)
{
	unsigned char *buf = NULL, *nb, sink[65536];
	size_t len = 0, cap = 0;
	ssize_t n;

	*out_over = 0;
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				/* Drain, so that the MTA sees us take it. */
				while (read(0, sink, sizeof(sink)) > 0)
					;
				*out_over = 1;
				break;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if ((nb = realloc(buf, cap + 1)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		if ((n = read(0, buf + len, cap - len)) < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out_len = len;
	return buf != NULL ? buf : calloc(1, 1);
}

/* id = UUIDv5(mail_ns, Message-ID "\n" hex(SHA-256(cms))). */
static void
mail_request_id(char out[SKD_STORE_ID_LEN], const struct skd_mail_in *m)
{
	unsigned char md[32];
	unsigned int md_len = 0;
	char name[600];
	uuid_t u;
	size_t i, n;

	(void)EVP_Digest(m->cms, m->cms_len, md, &md_len, EVP_sha256(), NULL);
	n = (size_t)snprintf(name, sizeof(name), "%s\n",
	    m->message_id != NULL ? m->message_id : "");
	for (i = 0; i < 32 && n + 3 <= sizeof(name); i++, n += 2)
		(void)snprintf(name + n, 3, "%02x", md[i]);
	uuid_generate_sha1(u, mail_ns, name, strlen(name));
	uuid_unparse_lower(u, out);
}

static void
mail_in_usage(FILE *f)
{
	fprintf(f, "usage: skd gla mail-in --config FILE [--sender ADDRESS]\n"
	    "       skd gla mail-policy --config FILE --gl NAME "
	    "directory|mail|both\n");
}

int
skd_cli_gla_mail_in(int argc, char **argv)
{
	struct skd_worker_config *c = NULL;
	struct skd_store *s = NULL;
	struct skd_mail_in *m = NULL;
	struct skd_mail_limits lim;
	struct skd_store_mail_origin o;
	enum skd_mail_err me;
	enum skd_store_err se;
	const char *sender = NULL, *config = NULL;
	unsigned char *raw = NULL;
	char err[512], id[SKD_STORE_ID_LEN], *env_sender = NULL;
	size_t len = 0;
	int i, over, existed = 0, rc = EX_SOFTWARE;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--sender") == 0 && i + 1 < argc)
			sender = argv[++i];
		else {
			mail_in_usage(stderr);
			return EX_USAGE;
		}
	}
	if (config == NULL) {
		mail_in_usage(stderr);
		return EX_USAGE;
	}
	if ((c = skd_worker_config_load(err, sizeof(err), config)) == NULL)
		return mail_in_fail(EX_CONFIG, "%s", err);
	memset(&lim, 0, sizeof(lim));
	lim.max_size = c->mail_max_size > 0 ? (size_t)c->mail_max_size :
	    SKD_MAIL_DEFAULT_MAX_SIZE;
	if ((raw = read_stdin(lim.max_size, &len, &over)) == NULL) {
		rc = mail_in_fail(EX_TEMPFAIL, "cannot read the message");
		goto done;
	}
	if (over) {
		rc = mail_in_fail(EX_DATAERR, "message refused: over the "
		    "limit of %zu bytes (mail_max_size)", lim.max_size);
		goto done;
	}
	if (!skd_mail_parse(&m, &me, err, sizeof(err), raw, len, &lim)) {
		rc = mail_in_fail(me == SKD_MAIL_ERR_INTERNAL ? EX_TEMPFAIL :
		    EX_DATAERR, "message refused: %s", err);
		goto done;
	}
	/* RFC 8551 3.1.4: the From address must be the signer's, where the
	 * signer is visible (an EnvelopedData to the GLA hides it until the
	 * worker opens it). */
	if (skd_mail_check_signer(err, sizeof(err), m->from, m->cms,
	    m->cms_len) == 0) {
		rc = mail_in_fail(EX_DATAERR, "message refused: %s", err);
		goto done;
	}
	/* The envelope sender: the MTA's argument, else Return-Path. */
	if (sender != NULL && *sender != '\0' &&
	    (env_sender = skd_mail_addr_spec(sender)) == NULL) {
		rc = mail_in_fail(EX_DATAERR, "message refused: the envelope "
		    "sender is not one address");
		goto done;
	}
	if (env_sender == NULL && m->return_path != NULL &&
	    *m->return_path != '\0' &&
	    (env_sender = strdup(m->return_path)) == NULL) {
		rc = mail_in_fail(EX_TEMPFAIL, "out of memory");
		goto done;
	}
	if (m->from == NULL && env_sender == NULL) {
		rc = mail_in_fail(EX_DATAERR, "message refused: no From and no "
		    "envelope sender: the answer could go nowhere");
		goto done;
	}
	mail_request_id(id, m);
	/* The directory as the worker reaches it (GLA identity: requests by
	 * mail are the GLA's own writes, ldif/acl.ldif rule 1). */
	if ((s = skd_worker_store_open(err, sizeof(err), c)) == NULL) {
		rc = mail_in_fail(EX_TEMPFAIL, "%s", err);
		goto done;
	}
	skd_store_set_retry(s, 5000, 50);
	memset(&o, 0, sizeof(o));
	o.message = m->cms;
	o.message_len = m->cms_len;
	o.reply_to = env_sender;
	o.reply_from = m->from;
	o.mail_id = m->message_id;
	if (!skd_store_add_mail_request(s, &existed, id, &o)) {
		se = skd_store_error(s);
		rc = mail_in_fail(se == SKD_STORE_ERR_EXISTS ||
		    se == SKD_STORE_ERR_INVALID ? EX_DATAERR : EX_TEMPFAIL,
		    "%s", skd_store_errmsg(s));
		goto done;
	}
	fprintf(stderr, "skd gla mail-in: request %s %s (from %s)\n", id,
	    existed ? "was there already" : "added",
	    m->from != NULL ? m->from : env_sender);
	rc = EX_OK;
 done:
	skd_store_close(s);
	skd_mail_in_free(m);
	free(env_sender);
	free(raw);
	skd_worker_config_free(c);
	return rc;
}

int
skd_cli_gla_mail_policy(int argc, char **argv)
{
	struct skd_worker_config *c = NULL;
	struct skd_store *s = NULL;
	const char *config = NULL, *gl = NULL, *policy = NULL;
	char err[512];
	int i, rc = SKD_EXIT_INTERNAL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--gl") == 0 && i + 1 < argc)
			gl = argv[++i];
		else if (argv[i][0] != '-' && policy == NULL)
			policy = argv[i];
		else {
			mail_in_usage(stderr);
			return SKD_EXIT_USAGE;
		}
	}
	if (config == NULL || gl == NULL || policy == NULL ||
	    (strcmp(policy, "directory") != 0 && strcmp(policy, "mail") != 0 &&
	    strcmp(policy, "both") != 0)) {
		mail_in_usage(stderr);
		return SKD_EXIT_USAGE;
	}
	if ((c = skd_worker_config_load(err, sizeof(err), config)) == NULL) {
		skd_cli_err("gla", "%s", err);
		return SKD_EXIT_INPUT;
	}
	if ((s = skd_worker_store_open(err, sizeof(err), c)) == NULL) {
		skd_cli_err("gla", "%s", err);
		rc = SKD_EXIT_DIRECTORY;
		goto done;
	}
	if (!skd_store_set_mail_policy(s, gl, policy)) {
		skd_cli_err("gla", "mail-policy: %s", skd_store_errmsg(s));
		rc = SKD_EXIT_DIRECTORY;
		goto done;
	}
	printf("%s: glKeys by %s, from the next key the GLA sends\n", gl,
	    policy);
	rc = SKD_EXIT_OK;
 done:
	skd_store_close(s);
	skd_worker_config_free(c);
	return rc;
}

/* ---- the client side: skd glo / skd member by mail ---------------------- */

/* The transport the options name: --smtp URL [--starttls] [--CAfile], else
 * the sendmail(8) interface (--sendmail PATH). */
static void
client_transport(const struct skd_cli_ctx *c, struct skd_mail_transport *t)
{
	memset(t, 0, sizeof(*t));
	if (skd_cli_ctx_opt(c, "smtp") != NULL) {
		t->via = SKD_MAIL_VIA_SMTP;
		t->url = skd_cli_ctx_opt(c, "smtp");
		t->starttls = skd_cli_ctx_flag(c, "starttls");
	} else {
		t->via = SKD_MAIL_VIA_SENDMAIL;
		t->sendmail = skd_cli_ctx_opt(c, "sendmail");
	}
	t->timeout = 60;
}

/* Our address: --mail-from, else the email name of --cert. */
static char *
client_from(const struct skd_cli_ctx *c, X509 *cert)
{
	char *name, *a = NULL;

	if (skd_cli_ctx_opt(c, "mail-from") != NULL)
		return skd_mail_addr_spec(skd_cli_ctx_opt(c, "mail-from"));
	if (cert == NULL || (name = skd_cli_my_name(c, cert)) == NULL)
		return NULL;
	if (strncasecmp(name, "email:", 6) == 0)
		a = skd_mail_addr_spec(name + 6);
	OPENSSL_free(name);
	return a;
}

int
skd_cli_mail_submit(const struct skd_cli_ctx *c, X509 *cert,
    const unsigned char *der, size_t len, const char *smime_type)
{
	struct skd_mail_transport t;
	struct skd_mail_out o;
	const char *to_opt = skd_cli_ctx_opt(c, "mail-to");
	char *from = NULL, *to = NULL, *msg = NULL, mid[200], err[512];
	char uuid[SKD_STORE_ID_LEN];
	const char *rcpt[1];
	size_t mlen = 0;
	int rc = SKD_EXIT_USAGE;

	if ((to = skd_mail_addr_spec(to_opt)) == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--mail-to: one address");
		goto done;
	}
	if ((from = client_from(c, cert)) == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "give --mail-from ADDRESS "
		    "(the certificate has no email name)");
		goto done;
	}
	skd_store_new_id(uuid);
	(void)snprintf(mid, sizeof(mid), "%s@%s", uuid, strrchr(from, '@') +
	    1);
	rcpt[0] = to;
	memset(&o, 0, sizeof(o));
	o.from = from;
	o.to = rcpt;
	o.n_to = 1;
	o.subject = "skd CMC message";
	o.message_id = mid;
	o.smime_type = smime_type;
	o.date = time(NULL);
	if (!skd_mail_build(&msg, &mlen, err, sizeof(err), &o, der, len)) {
		skd_cli_err(skd_cli_ctx_cmd(c), "%s", err);
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	client_transport(c, &t);
	if (skd_mail_send(err, sizeof(err), &t, from, rcpt, 1, msg, mlen) !=
	    SKD_MAIL_SENT) {
		skd_cli_err(skd_cli_ctx_cmd(c), "mail: %s", err);
		rc = SKD_EXIT_FAIL;
		goto done;
	}
	printf("mailed to %s (Message-ID <%s>)\n", to, mid);
	rc = SKD_EXIT_OK;
 done:
	free(msg);
	free(from);
	free(to);
	return rc;
}

/* The parsed mail in path, or NULL after one line on stderr. */
static struct skd_mail_in *
read_mail(const char *cmd, const char *path)
{
	struct skd_mail_in *m = NULL;
	enum skd_mail_err me;
	unsigned char *raw;
	char err[512];
	size_t len = 0;

	if ((raw = skd_cli_read_input(path, SKD_CLI_MAX_INPUT, &len)) == NULL)
		return NULL;
	if (!skd_mail_parse(&m, &me, err, sizeof(err), raw, len, NULL))
		skd_cli_err(cmd, "%s: %s", path, err);
	free(raw);
	return m;
}

unsigned char *
skd_cli_mail_read_cms(const char *cmd, const char *path, size_t *out_len)
{
	struct skd_mail_in *m;
	unsigned char *der = NULL;

	if ((m = read_mail(cmd, path)) == NULL)
		return NULL;
	if ((der = OPENSSL_memdup(m->cms, m->cms_len)) != NULL)
		*out_len = m->cms_len;
	skd_mail_in_free(m);
	return der;
}

/* ---- skd member fetch --mail FILE|MAILDIR ------------------------------- */

#define MAIL_MAX_FUTURE		300L
#define MAIL_DEFAULT_MAX_AGE	(400L * 86400)

struct paths {
	char	**v;
	size_t	  n;
};

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the regular files of dir (not recursing). */
static int
paths_add_dir(struct paths *p, const char *dir)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	char *f, **nv;

	if ((d = opendir(dir)) == NULL)
		return 1;	/* a maildir without new/ is fine */
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (asprintf(&f, "%s/%s", dir, e->d_name) < 0) {
			closedir(d);
			return 0;
		}
		if (stat(f, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (nv = realloc(p->v, (p->n + 1) * sizeof(*nv))) == NULL) {
			free(f);
			continue;
		}
		p->v = nv;
		p->v[p->n++] = f;
	}
	closedir(d);
	return 1;
}

/* FILE, or every mail of a maildir (new/ and cur/) or plain directory,
 * oldest first (maildir names start with the delivery time). */
static int
paths_collect(struct paths *p, const char *path)
{
	struct stat st;
	char *sub;
	size_t first;

	if (stat(path, &st) != 0)
		return 0;
	if (!S_ISDIR(st.st_mode)) {
		if ((p->v = malloc(sizeof(*p->v))) == NULL ||
		    (p->v[0] = strdup(path)) == NULL)
			return 0;
		p->n = 1;
		return 1;
	}
	first = p->n;
	if (asprintf(&sub, "%s/new", path) < 0)
		return 0;
	if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
		(void)paths_add_dir(p, sub);
		free(sub);
		if (asprintf(&sub, "%s/cur", path) < 0)
			return 0;
		(void)paths_add_dir(p, sub);
	} else {
		(void)paths_add_dir(p, path);
	}
	free(sub);
	/* By file name within the maildir: delivery order. */
	qsort(p->v + first, p->n - first, sizeof(*p->v), path_cmp);
	return 1;
}

/*
 * The maildir convention for a message read: a file in new/ moves to cur/
 * under its name with the info ":2,S" (seen).  Messages in cur/ and in
 * plain directories stay; a rename that fails is only noted (the message
 * is read again next time, which finds its keys stored).
 */
static void
maildir_seen(const char *cmd, const char *path)
{
	const char *base = strrchr(path, '/'), *dir_end;
	char *to = NULL;
	size_t dlen;

	if (base == NULL || base - path < 4 ||
	    strncmp(base - 4, "/new", 4) != 0)
		return;
	dir_end = base - 4;
	dlen = (size_t)(dir_end - path);
	/* A name with an info part already (never in new/) keeps it. */
	if (asprintf(&to, "%.*s/cur/%s%s", (int)dlen, path, base + 1,
	    strchr(base + 1, ':') != NULL ? "" : ":2,S") < 0)
		return;
	if (rename(path, to) != 0)
		skd_cli_err(cmd, "%s: cannot move to cur/: %s", path,
		    strerror(errno));
	free(to);
}

static void
paths_free(struct paths *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

/* cli.h */
int
skd_cli_mail_each_cms(const char *cmd, const char *path,
    int (*cb)(void *, const unsigned char *, size_t), void *arg)
{
	struct paths p = { NULL, 0 };
	struct skd_mail_in *m;
	size_t i;
	int rc = 0;

	if (!paths_collect(&p, path)) {
		skd_cli_err(cmd, "%s: cannot read", path);
		paths_free(&p);
		return -1;
	}
	for (i = 0; i < p.n && rc == 0; i++) {
		/* A mail that is not one CMS object is not ours: noted,
		 * the next one is read. */
		if ((m = read_mail(cmd, p.v[i])) == NULL)
			continue;
		rc = cb(arg, m->cms, m->cms_len);
		skd_mail_in_free(m);
	}
	paths_free(&p);
	return rc;
}

/*
 * RFC 5275 5.1 over mail: every glKey mail in path is verified, unwrapped
 * and stored exactly as skd member fetch does from the directory; each
 * new key is acknowledged by mail to --mail-to (the GLA's address).  A
 * mail delivered twice (a retry the GLA's Message-ID marks) finds its keys
 * stored already and is not acknowledged again.
 */
int
skd_cli_member_fetch_mail(const struct skd_cli_ctx *c, const char *gl,
    const struct skd_client_ident *id, X509_STORE *trust,
    struct skd_client_keystore *ks, long max_age)
{
	struct skd_client_error e = { 0 };
	struct skd_client_glkey_opts o;
	struct skd_client_key *keys = NULL;
	struct paths p = { NULL, 0 };
	struct skd_mail_in *m = NULL;
	unsigned char *ack = NULL;
	size_t nk = 0, i, j, fresh = 0, ack_len = 0;
	int added, pass, progress, rc, worst = SKD_EXIT_OK;
	int no_ack = skd_cli_ctx_flag(c, "no-ack");
	char *done_v = NULL;

	if (!no_ack && skd_cli_ctx_opt(c, "mail-to") == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--mail needs --mail-to "
		    "ADDRESS (the GLA's, for the acknowledgements) or "
		    "--no-ack");
		return SKD_EXIT_USAGE;
	}
	if (!paths_collect(&p, skd_cli_ctx_opt(c, "mail"))) {
		skd_cli_err(skd_cli_ctx_cmd(c), "%s: cannot read",
		    skd_cli_ctx_opt(c, "mail"));
		paths_free(&p);
		return SKD_EXIT_INPUT;
	}
	if ((done_v = calloc(p.n + 1, 1)) == NULL) {
		paths_free(&p);
		return SKD_EXIT_INTERNAL;
	}
	memset(&o, 0, sizeof(o));
	o.trust = trust;
	o.now = time(NULL);
	o.max_future = MAIL_MAX_FUTURE;
	o.max_age = max_age > 0 ? max_age : MAIL_DEFAULT_MAX_AGE;
	o.gl_name = gl;
	o.ident = id;
	o.keystore = ks;
	/* A key sent by kekri under the previous one (RFC 5275 5) opens
	 * once that one is stored: go round while something opens. */
	for (pass = 0, progress = 1; progress && pass < 4; pass++) {
		progress = 0;
		for (i = 0; i < p.n; i++) {
			if (done_v[i])
				continue;
			if ((m = read_mail(skd_cli_ctx_cmd(c), p.v[i])) ==
			    NULL) {
				done_v[i] = 2;	/* said why; stays new */
				continue;
			}
			/* Answers to our acknowledgements and requests are
			 * CMC-response: not glKeys (RFC 5273 3). */
			if (m->smime_type != NULL && strcasecmp(m->smime_type,
			    "CMC-response") == 0) {
				done_v[i] = 1;
				skd_mail_in_free(m);
				m = NULL;
				continue;
			}
			if (!skd_client_glkey_open(&keys, &nk, m->cms,
			    m->cms_len, &o, &e)) {
				skd_mail_in_free(m);
				m = NULL;
				ERR_clear_error();
				continue;
			}
			skd_mail_in_free(m);
			m = NULL;
			done_v[i] = 1;
			progress = 1;
			for (j = 0; j < nk; j++) {
				if (!skd_client_keystore_add(ks, &keys[j],
				    &added, &e)) {
					skd_cli_err(skd_cli_ctx_cmd(c), "%s",
					    e.msg);
					worst = skd_cli_exit_of(&e);
					continue;
				}
				if (!added)
					continue;
				if (!skd_client_keystore_save(ks, &e)) {
					rc = skd_cli_client_fail(c, &e);
					goto done;
				}
				fresh++;
				printf("stored key from %s\n", p.v[i]);
				if (no_ack)
					continue;
				/* RFC 5275 5.1 2.c, by mail: the key came by
				 * mail. */
				if (!skd_client_ack_build(&ack, &ack_len,
				    &keys[j], id, time(NULL), &e)) {
					skd_cli_err(skd_cli_ctx_cmd(c),
					    "acknowledgement: %s", e.msg);
					worst = skd_cli_exit_of(&e);
					continue;
				}
				rc = skd_cli_mail_submit(c, id->cert, ack,
				    ack_len, "CMC-response");
				OPENSSL_free(ack);
				ack = NULL;
				if (rc != SKD_EXIT_OK)
					worst = rc;
			}
			skd_client_keys_free(keys, nk);
			keys = NULL;
			nk = 0;
		}
	}
	/* What was read (keys stored or known, answers passed over) is
	 * seen; what could not be opened stays new. */
	for (i = 0; i < p.n; i++) {
		if (done_v[i] == 1)
			maildir_seen(skd_cli_ctx_cmd(c), p.v[i]);
	}
	for (i = 0; i < p.n; i++) {
		if (!done_v[i]) {
			skd_cli_err(skd_cli_ctx_cmd(c), "%s: %s", p.v[i],
			    e.msg[0] != '\0' ? e.msg : "not opened");
			if (worst == SKD_EXIT_OK)
				worst = SKD_EXIT_CRYPTO;
		}
	}
	if (fresh == 0)
		printf("no new keys\n");
	rc = worst;
 done:
	skd_client_keys_free(keys, nk);
	skd_mail_in_free(m);
	OPENSSL_free(ack);
	free(done_v);
	paths_free(&p);
	return rc;
}
