/*
 * cli_member.c: "skd member ...": a GL member's requests (RFC 5275 4.3,
 * 4.4, 4.7, 4.8, 4.10), fetching and acknowledging glKey messages (5,
 * 5.1), the key store, content encryption with the group KEK ("skd
 * response" is in cli_response.c).  See skd-member(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "client/skd_client.h"
#include "cli/cli.h"

#define DEFAULT_MAX_AGE	(400L * 86400)	/* glKey signingTime, seconds */
#define MAX_FUTURE	300L		/* clock skew allowed */

#define DIR_OPTS "uri base bind-dn password-file env as"
#define KS_OPTS "protect passphrase-fd no-migrate"

static const char member_usage[] =
    "usage: skd member SUBCOMMAND --gl NAME [options]\n"
    "subcommands:\n"
    "  join        glAddMember for ourselves [--name NAME] [--member-address NAME]\n"
    "  leave       glDeleteMember for ourselves [--name NAME]\n"
    "  refresh     glkRefresh [--from YYYYMMDDHHMMSSZ] [--to YYYYMMDDHHMMSSZ]\n"
    "  compromise  glkCompromise\n"
    "  update-cert glManageCert with --new-cert FILE [--name NAME]\n"
    "  fetch       fetch, verify, unwrap and store our glKeys, then acknowledge\n"
    "              them: --keystore FILE [--name NAME] [--no-ack] [--max-age SECONDS]\n"
    "              [--watch [--count N]]: follow the directory until SIGINT/SIGTERM\n"
    "              or N new keys\n"
    "  messages    the GLA messages answering us (a GLO's denial, RFC 5275\n"
    "              3.2.4.1), each checked: [--request FILE] [--message ID] [--name NAME]\n"
    "  encrypt     --keystore FILE [--in FILE] [--out FILE]: EnvelopedData (kekri)\n"
    "  decrypt     --keystore FILE [--in FILE] [--out FILE] (no --gl)\n"
    "  keys        --keystore FILE [--export KEYID]: list the stored keys (no\n"
    "              --gl); --export prints one KEK in hex (openssl cms -secretkey)\n"
    "key store: [--protect passphrase|certificate] (a new or migrated store;\n"
    "        default: certificate when --cert/--key are given) [--passphrase-fd N]\n"
    "        (else $SKD_PASSPHRASE_FILE, else a prompt on the terminal)\n"
    "        [--no-migrate] (refuse a plaintext version 1 store); --cert FILE\n"
    "        --key FILE open a store protected for the certificate\n"
    "common: --cert FILE --key FILE --CAfile FILE [--CRLfile FILE]\n"
    "        (--uri URI --base DN [--bind-dn DN --password-file FILE] | --env FILE [--as NAME])\n"
    "        [--encrypt --gla-cert FILE [--outer-sign]] [--out FILE | --ldif [--submitter-dn DN]]\n"
    "        [--json] [--timeout SECONDS]\n"
    "See skd-member(1).\n";

#define my_name skd_cli_my_name

static int
parse_time(const struct skd_cli_ctx *c, const char *opt, time_t *out)
{
	const char *v = skd_cli_ctx_opt(c, opt);

	if (v == NULL)
		return SKD_EXIT_OK;
	if (!skd_store_time_parse(out, v)) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--%s: YYYYMMDDHHMMSSZ", opt);
		return SKD_EXIT_USAGE;
	}
	return SKD_EXIT_OK;
}

/* The request subcommands: builds the control into r. */
static int
member_build(const struct skd_cli_ctx *c, const char *sub,
    struct skd_client_request *r, const struct skd_client_ident *id,
    const char *gl)
{
	struct skd_client_error e = { 0 };
	struct skd_client_party me;
	time_t from = time(NULL), to = 0;
	char *name = NULL;
	X509 *newcert = NULL;
	void *v = NULL;
	enum skd_oid oid;
	int rc = SKD_EXIT_OK;

	memset(&me, 0, sizeof(me));
	if ((name = my_name(c, id->cert)) == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "cannot tell our name from "
		    "the certificate: give --name NAME");
		return SKD_EXIT_USAGE;
	}
	me.name = name;
	if (strcmp(sub, "join") == 0) {
		/* RFC 5275 4.3: a prospective member asks to join itself. */
		me.address = skd_cli_ctx_opt(c, "member-address");
		me.cert = id->cert;
		v = skd_client_new_add_member(gl, &me, &e);
		oid = SKD_OID_GL_ADD_MEMBER;
	} else if (strcmp(sub, "leave") == 0) {
		v = skd_client_new_delete_member(gl, name, &e);
		oid = SKD_OID_GL_DELETE_MEMBER;
	} else if (strcmp(sub, "refresh") == 0) {
		if ((rc = parse_time(c, "from", &from)) != SKD_EXIT_OK ||
		    (rc = parse_time(c, "to", &to)) != SKD_EXIT_OK)
			goto done;
		v = skd_client_new_refresh(gl, from, to, &e);
		oid = SKD_OID_GL_KEY_REFRESH;
	} else if (strcmp(sub, "compromise") == 0) {
		v = skd_client_new_gname(gl, &e);
		oid = SKD_OID_GL_KEY_COMPROMISE;
	} else {
		if (skd_cli_ctx_opt(c, "new-cert") == NULL) {
			skd_cli_err(skd_cli_ctx_cmd(c), "--new-cert FILE is "
			    "required");
			rc = SKD_EXIT_USAGE;
			goto done;
		}
		if ((rc = skd_cli_ctx_cert(c, "new-cert", &newcert)) !=
		    SKD_EXIT_OK)
			goto done;
		me.cert = newcert;
		v = skd_client_new_manage_cert(gl, &me, &e);
		oid = SKD_OID_GL_MANAGE_CERT;
	}
	if (v == NULL) {
		rc = skd_cli_client_fail(c, &e);
		goto done;
	}
	rc = skd_client_request_add(r, oid, v) > 0 ? SKD_EXIT_OK :
	    SKD_EXIT_INTERNAL;
	ASN1_item_free(v, ASN1_ITEM_ptr(skd_control_by_nid(
	    skd_asn1_nid(oid))->item));
 done:
	X509_free(newcert);
	OPENSSL_free(name);
	return rc;
}

/* With --json, fetch collects the keys it stored here. */
static json_t *fetch_json;

/* Prints a stored key, or with --json appends it to fetch_json. */
static json_t *
print_key(const char *what, const struct skd_client_key *k)
{
	char *hex = skd_client_hex(k->key_id, k->key_id_len);
	char nb[16], na[16];
	json_t *o = NULL;

	skd_store_time_str(nb, k->not_before);
	skd_store_time_str(na, k->not_after);
	if (fetch_json != NULL) {
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "keyId",
		    hex != NULL ? hex : "?", "gl", k->gl_name, "algorithm",
		    OBJ_nid2sn(k->alg_nid), "notBefore", nb, "notAfter", na,
		    "gla", k->gla_subject);
		json_array_append(fetch_json, o);
		json_decref(o);
		OPENSSL_free(hex);
		return o;
	}
	printf("%s%skey %s for %s (%s, %s..%s) from GLA \"%s\"\n",
	    what != NULL ? what : "", what != NULL ? " " : "",
	    hex != NULL ? hex : "?", k->gl_name, OBJ_nid2sn(k->alg_nid), nb,
	    na, k->gla_subject);
	OPENSSL_free(hex);
	return NULL;
}

/* ---- the key store: how it is unlocked (skd-member(1), KEY STORE) ---- */

/* Reads one line (up to size - 1 bytes, the newline and a CR before it
 * dropped) from fd into buf. */
static int
read_secret_line(int fd, char *buf, size_t size, size_t *out_len)
{
	size_t n = 0;
	ssize_t r;
	char ch;

	while (n < size - 1) {
		if ((r = read(fd, &ch, 1)) < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n')
			break;
		buf[n++] = ch;
	}
	if (n == size - 1)
		return 0;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*out_len = n;
	return 1;
}

/* Prompts on the terminal with echo off. */
static int
tty_read(int fd, const char *prompt, char *buf, size_t size,
    size_t *out_len)
{
	struct termios t, quiet;
	int ok, restore;

	restore = tcgetattr(fd, &t) == 0;
	if (restore) {
		quiet = t;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		(void)tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		/* the prompt is a courtesy */
	}
	ok = read_secret_line(fd, buf, size, out_len);
	if (restore)
		(void)tcsetattr(fd, TCSAFLUSH, &t);
	if (write(fd, "\n", 1) < 0) {
		/* as above */
	}
	return ok;
}

struct pass_src {
	const struct skd_cli_ctx	*c;
	const char			*path;	/* the key store, for prompts */
};

/*
 * The passphrase, never from the command line: --passphrase-fd N, else
 * the file named by $SKD_PASSPHRASE_FILE (mode 0600 or stricter), else a
 * prompt on /dev/tty (twice for a new store).
 */
static int
cli_passphrase(char *buf, size_t size, size_t *out_len, int confirm,
    const char **why, void *arg)
{
	const struct pass_src *src = arg;
	const char *v = skd_cli_ctx_opt(src->c, "passphrase-fd"), *file;
	char prompt[512], *again = NULL, *end;
	struct stat sb;
	size_t alen = 0;
	long fdn;
	int fd, ok = 0;

	if (v != NULL) {
		fdn = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || fdn < 0 || fdn > 65535) {
			*why = "--passphrase-fd: not a file descriptor";
			return 0;
		}
		if (!read_secret_line((int)fdn, buf, size, out_len)) {
			*why = "--passphrase-fd: overlong passphrase";
			return 0;
		}
		return 1;
	}
	if ((file = getenv("SKD_PASSPHRASE_FILE")) != NULL && *file != '\0') {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
			*why = "cannot open $SKD_PASSPHRASE_FILE";
			return 0;
		}
		if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
		    (sb.st_mode & 077) != 0) {
			*why = "$SKD_PASSPHRASE_FILE must be a regular file "
			    "with no group or other permissions (chmod 600)";
			close(fd);
			return 0;
		}
		ok = read_secret_line(fd, buf, size, out_len);
		close(fd);
		if (!ok)
			*why = "$SKD_PASSPHRASE_FILE: overlong passphrase";
		return ok;
	}
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		*why = "no terminal to ask on: give --passphrase-fd N or set "
		    "SKD_PASSPHRASE_FILE";
		return 0;
	}
	snprintf(prompt, sizeof(prompt), "%s passphrase for key store %s: ",
	    confirm ? "New" : "The", src->path);
	if (!tty_read(fd, prompt, buf, size, out_len)) {
		*why = "overlong passphrase";
		goto done;
	}
	if (confirm) {
		if ((again = OPENSSL_secure_zalloc(size)) == NULL) {
			*why = "out of memory";
			goto done;
		}
		if (!tty_read(fd, "Again: ", again, size, &alen) ||
		    alen != *out_len || CRYPTO_memcmp(again, buf, alen) != 0) {
			*why = "the two passphrases differ";
			goto done;
		}
	}
	ok = 1;
 done:
	if (!ok)
		OPENSSL_cleanse(buf, size);
	OPENSSL_secure_clear_free(again, size);
	close(fd);
	return ok;
}

/*
 * Opens the key store of --keystore as the options say; id (may be NULL)
 * unlocks a store protected for the certificate.  Tells the user when a
 * plaintext store was migrated.  Returns an exit code.
 */
static int
keystore_open(const struct skd_cli_ctx *c, unsigned flags,
    const struct skd_client_ident *id, struct skd_client_keystore **out)
{
	struct skd_client_error e = { 0 };
	struct skd_client_ks_auth a;
	struct pass_src src;
	const char *path, *protect = skd_cli_ctx_opt(c, "protect");
	int rc;

	*out = NULL;
	if ((rc = skd_cli_ctx_need(c, "keystore", "FILE", "", &path)) !=
	    SKD_EXIT_OK)
		return rc;
	memset(&a, 0, sizeof(a));
	src.c = c;
	src.path = path;
	a.passphrase = cli_passphrase;
	a.arg = &src;
	a.ident = id;
	a.no_migrate = skd_cli_ctx_flag(c, "no-migrate");
	if (protect == NULL)
		a.protect = SKD_CLIENT_KS_AUTO;
	else if (strcmp(protect, "passphrase") == 0)
		a.protect = SKD_CLIENT_KS_PASSPHRASE;
	else if (strcmp(protect, "certificate") == 0 && id != NULL)
		a.protect = SKD_CLIENT_KS_CERT;
	else {
		skd_cli_err(skd_cli_ctx_cmd(c), "--protect passphrase, or "
		    "--protect certificate with --cert FILE --key FILE");
		return SKD_EXIT_USAGE;
	}
	if ((*out = skd_client_keystore_open(path, flags, &a, &e)) == NULL)
		return skd_cli_client_fail(c, &e);
	if (skd_client_keystore_migrated(*out))
		fprintf(stderr, "skd: %s: key store %s held its keys in the "
		    "clear (version 1); it is now version 2, protected by %s. "
		    "Copies of the old file (backups, synced folders) still "
		    "hold the keys in the clear.\n", skd_cli_ctx_cmd(c), path,
		    skd_client_keystore_protection(*out) == SKD_CLIENT_KS_CERT ?
		    "the member's certificate" : "a passphrase");
	return SKD_EXIT_OK;
}

/* --cert and --key, when given: they unlock a certificate-protected
 * store for the commands that do not need them otherwise. */
static int
optional_ident(const struct skd_cli_ctx *c, struct skd_client_ident **out)
{
	*out = NULL;
	if (skd_cli_ctx_opt(c, "cert") == NULL &&
	    skd_cli_ctx_opt(c, "key") == NULL)
		return SKD_EXIT_OK;
	return skd_cli_ctx_ident(c, out);
}

static volatile sig_atomic_t fetch_stop;

static void
on_stop(int sig)
{
	(void)sig;
	fetch_stop = 1;
}

/* One pass of RFC 5275 5.1: fetch, verify, unwrap, store, acknowledge.
 * *out_fresh is how many keys were new; returns an exit code.  quiet: no
 * complaint when there is no entry yet (watch mode). */
static int
glkey_older(const void *a, const void *b)
{
	const struct skd_store_glkey *x = a, *y = b;

	return x->not_before < y->not_before ? -1 :
	    x->not_before > y->not_before;
}

static int
fetch_pass(const struct skd_cli_ctx *c, struct skd_store *s,
    struct skd_client_keystore *ks, const struct skd_client_ident *id,
    X509_STORE *trust, const char *gl, const char *me, long max_age,
    int quiet, size_t *out_fresh)
{
	struct skd_client_error e = { 0 };
	struct skd_client_glkey_opts o;
	struct skd_client_key *keys = NULL, *fresh = NULL;
	struct skd_store_glkey *list = NULL;
	size_t n = 0, nk = 0, nfresh = 0, i, j, by_mail = 0;
	unsigned char *ack = NULL;
	size_t ack_len = 0;
	char rid[SKD_STORE_ID_LEN];
	int rc, added, worst = SKD_EXIT_OK;

	*out_fresh = 0;
	if (!skd_client_fetch_glkeys(s, &list, &n, gl, me, &e))
		return skd_cli_client_fail(c, &e);
	/* An entry whose message we may not read is one the GL's mail
	 * policy ("mail") sends us by mail only (skdMailRecipientDN,
	 * docs/directory.md): say so instead of failing on it. */
	for (i = 0; i < n; i++) {
		if (list[i].message_len == 0)
			by_mail++;
	}
	if (by_mail > 0 && by_mail == n) {
		skd_cli_err(skd_cli_ctx_cmd(c), "the GLA sends the keys of %s "
		    "to %s by mail only (the GL's mail policy; %zu glKey "
		    "entr%s in the directory): read them with skd member fetch "
		    "--mail FILE|MAILDIR", gl, me, n, n == 1 ? "y" : "ies");
		skd_store_glkey_list_free(list, n);
		return SKD_EXIT_FAIL;
	}
	if (n == 0) {
		if (quiet)
			return SKD_EXIT_OK;
		/* A GL whose mail policy is "mail" sends a member with an
		 * address its keys by mail alone: the directory shows none
		 * (docs/operations.md, "Mail policy"). */
		skd_cli_err(skd_cli_ctx_cmd(c), "no glKey entries for %s in "
		    "%s that you can read; if the GL's mail policy is \"mail\" "
		    "your keys come by mail only: skd member fetch --mail "
		    "FILE|MAILDIR", me, gl);
		return SKD_EXIT_FAIL;
	}
	/* Oldest first: a key the GLA sent by kekri under the previous key
	 * (RFC 5275 5) opens once that key is in the key store. */
	qsort(list, n, sizeof(*list), glkey_older);
	memset(&o, 0, sizeof(o));
	o.trust = trust;
	o.now = time(NULL);
	o.max_future = MAX_FUTURE;
	o.max_age = max_age;
	o.gl_name = gl;
	o.ident = id;
	o.keystore = ks;
	for (i = 0; i < n; i++) {
		if (list[i].message_len == 0)
			continue;	/* by mail (above) */
		if (!skd_client_glkey_open(&keys, &nk, list[i].message,
		    list[i].message_len, &o, &e)) {
			skd_cli_err(skd_cli_ctx_cmd(c), "entry %s: %s",
			    list[i].key_id, e.msg);
			if (worst == SKD_EXIT_OK)
				worst = skd_cli_exit_of(&e);
			continue;
		}
		for (j = 0; j < nk; j++) {
			if (!skd_client_keystore_add(ks, &keys[j], &added,
			    &e)) {
				skd_cli_err(skd_cli_ctx_cmd(c), "%s", e.msg);
				if (worst == SKD_EXIT_OK)
					worst = skd_cli_exit_of(&e);
				continue;
			}
			if (added) {
				struct skd_client_key *nv = OPENSSL_realloc(fresh,
				    (nfresh + 1) * sizeof(*nv));

				if (nv == NULL) {
					rc = SKD_EXIT_INTERNAL;
					goto done;
				}
				fresh = nv;
				fresh[nfresh] = keys[j];
				memset(&keys[j], 0, sizeof(keys[j]));
				nfresh++;
			}
		}
		skd_client_keys_free(keys, nk);
		keys = NULL;
		nk = 0;
	}
	if (nfresh > 0 && !skd_client_keystore_save(ks, &e)) {
		rc = skd_cli_client_fail(c, &e);
		goto done;
	}
	/* RFC 5275 5.1 2.c: acknowledge what we stored. */
	for (i = 0; i < nfresh; i++) {
		json_t *jk = print_key("stored", &fresh[i]);

		if (skd_cli_ctx_flag(c, "no-ack"))
			continue;
		if (!skd_client_ack_build(&ack, &ack_len, &fresh[i], id,
		    time(NULL), &e) || !skd_client_submit(s, rid, ack,
		    ack_len, skd_cli_ctx_bind_dn(c), &e)) {
			skd_cli_err(skd_cli_ctx_cmd(c), "acknowledgement: %s",
			    e.msg);
			if (worst == SKD_EXIT_OK)
				worst = skd_cli_exit_of(&e);
		} else if (jk != NULL) {
			json_object_set_new(jk, "acknowledged",
			    json_string(rid));
		} else {
			printf("acknowledged (request %s)\n", rid);
		}
		OPENSSL_free(ack);
		ack = NULL;
	}
	fflush(stdout);
	*out_fresh = nfresh;
	rc = worst;
 done:
	skd_client_keys_free(keys, nk);
	skd_client_keys_free(fresh, nfresh);
	skd_store_glkey_list_free(list, n);
	return rc;
}

/*
 * skd member fetch [--watch [--count N]]: one pass, or (--watch) a pass
 * every WATCH_INTERVAL seconds until SIGINT/SIGTERM or N new keys.  glKey
 * entries live under ou=groups, which skd_store_watch_* does not cover,
 * so watch mode polls that one indexed search (bounded interval).
 */
#define WATCH_INTERVAL_MS 500L

static int
member_fetch(const struct skd_cli_ctx *c, const char *gl)
{
	struct skd_client_ident *id = NULL;
	struct skd_client_keystore *ks = NULL;
	struct skd_store *s = NULL;
	struct sigaction sa, old_int, old_term;
	X509_STORE *trust = NULL;
	size_t fresh = 0, total = 0;
	char *me = NULL, *end;
	const char *ks_path, *v;
	long max_age = DEFAULT_MAX_AGE, count = 0;
	int rc, watch = skd_cli_ctx_flag(c, "watch"), handlers = 0;

	if ((rc = skd_cli_ctx_need(c, "keystore", "FILE", "", &ks_path)) !=
	    SKD_EXIT_OK)
		return rc;
	if ((v = skd_cli_ctx_opt(c, "max-age")) != NULL) {
		max_age = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || max_age < 0) {
			skd_cli_err(skd_cli_ctx_cmd(c), "--max-age: seconds");
			return SKD_EXIT_USAGE;
		}
	}
	if ((v = skd_cli_ctx_opt(c, "count")) != NULL) {
		count = strtol(v, &end, 10);
		if (!watch || *v == '\0' || *end != '\0' || count < 1) {
			skd_cli_err(skd_cli_ctx_cmd(c), "--count N (N >= 1) "
			    "goes with --watch");
			return SKD_EXIT_USAGE;
		}
	}
	if ((rc = skd_cli_ctx_ident(c, &id)) != SKD_EXIT_OK)
		return rc;
	if ((me = my_name(c, id->cert)) == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "give --name NAME");
		rc = SKD_EXIT_USAGE;
		goto done;
	}
	if ((rc = skd_cli_ctx_trust(c, &trust)) != SKD_EXIT_OK)
		goto done;
	if ((rc = keystore_open(c, SKD_CLIENT_KS_CREATE, id, &ks)) !=
	    SKD_EXIT_OK)
		goto done;
	if (skd_cli_ctx_opt(c, "mail") != NULL) {
		/* The keys came by mail (cli_mail.c). */
		rc = skd_cli_member_fetch_mail(c, gl, id, trust, ks, max_age);
		goto done;
	}
	if ((rc = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK)
		goto done;
	if (skd_cli_json && (fetch_json = json_array()) == NULL) {
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	if (!watch) {
		rc = fetch_pass(c, s, ks, id, trust, gl, me, max_age, 0,
		    &fresh);
		if (rc == SKD_EXIT_OK && fresh == 0 && fetch_json == NULL)
			printf("no new keys\n");
		goto done;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	fetch_stop = 0;
	if (sigaction(SIGINT, &sa, &old_int) != 0 ||
	    sigaction(SIGTERM, &sa, &old_term) != 0) {
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	handlers = 1;
	fprintf(stderr, "skd: %s: watching %s for new keys for %s\n",
	    skd_cli_ctx_cmd(c), gl, me);
	while (!fetch_stop) {
		struct timespec ts = { WATCH_INTERVAL_MS / 1000,
		    (WATCH_INTERVAL_MS % 1000) * 1000000L };

		rc = fetch_pass(c, s, ks, id, trust, gl, me, max_age, 1,
		    &fresh);
		/* A key we cannot open is reported and skipped; only the
		 * directory or the key store failing ends the watch. */
		if (rc == SKD_EXIT_DIRECTORY || rc == SKD_EXIT_INPUT ||
		    rc == SKD_EXIT_INTERNAL)
			goto done;
		total += fresh;
		if (count > 0 && total >= (size_t)count)
			break;
		nanosleep(&ts, NULL);
	}
	if (fetch_json == NULL)
		printf("%zu new key(s)\n", total);
	rc = SKD_EXIT_OK;
 done:
	if (fetch_json != NULL) {
		if (rc == SKD_EXIT_OK)
			skd_cli_json_put(json_pack("{s:s,s:s,s:O}", "gl", gl,
			    "member", me, "stored", fetch_json));
		json_decref(fetch_json);
		fetch_json = NULL;
	}
	if (handlers) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	skd_store_close(s);
	skd_client_keystore_free(ks);
	X509_STORE_free(trust);
	OPENSSL_free(me);
	skd_client_ident_free(id);
	return rc;
}

static int
member_crypt(const struct skd_cli_ctx *c, int encrypt, const char *gl)
{
	struct skd_client_error e = { 0 };
	struct skd_client_ident *id = NULL;
	struct skd_client_keystore *ks = NULL;
	unsigned char *in = NULL, *out = NULL;
	size_t in_len = 0, out_len = 0;
	const char *dst = skd_cli_ctx_opt(c, "out");
	int rc;

	if ((rc = optional_ident(c, &id)) != SKD_EXIT_OK ||
	    (rc = keystore_open(c, 0, id, &ks)) != SKD_EXIT_OK)
		goto done;
	if ((in = skd_cli_read_input(skd_cli_ctx_opt(c, "in"),
	    SKD_CLI_MAX_INPUT, &in_len)) == NULL) {
		rc = SKD_EXIT_INPUT;
		goto done;
	}
	if (encrypt ? !skd_client_encrypt(&out, &out_len, ks, gl, time(NULL),
	    in, in_len, &e) : !skd_client_decrypt(&out, &out_len, ks, in,
	    in_len, &e)) {
		rc = skd_cli_client_fail(c, &e);
		goto done;
	}
	rc = skd_cli_write_file(c, dst != NULL ? dst : "-", out, out_len);
 done:
	if (out != NULL)
		OPENSSL_clear_free(out, out_len);
	free(in);
	skd_client_keystore_free(ks);
	skd_client_ident_free(id);
	return rc;
}

/*
 * skd member keys: the stored keys, one line each (no KEK); --export
 * KEYID prints that key's KEK in hex, for `openssl cms -secretkey`.
 */
static int
member_keys(const struct skd_cli_ctx *c)
{
	struct skd_client_ident *id = NULL;
	struct skd_client_keystore *ks = NULL;
	const struct skd_client_key *k;
	const char *want = skd_cli_ctx_opt(c, "export");
	unsigned char *kid = NULL;
	char *hex = NULL;
	long kid_len = 0;
	size_t i;
	int rc;

	if (want != NULL && ((kid = OPENSSL_hexstr2buf(want, &kid_len)) ==
	    NULL || kid_len <= 0)) {
		ERR_clear_error();
		skd_cli_err(skd_cli_ctx_cmd(c), "--export KEYID: the key "
		    "identifier in hex");
		return SKD_EXIT_USAGE;
	}
	if ((rc = optional_ident(c, &id)) != SKD_EXIT_OK ||
	    (rc = keystore_open(c, 0, id, &ks)) != SKD_EXIT_OK)
		goto done;
	if (want != NULL) {
		if ((k = skd_client_keystore_find(ks, kid, (size_t)kid_len)) ==
		    NULL) {
			skd_cli_err(skd_cli_ctx_cmd(c), "no key %s in the "
			    "store", want);
			rc = SKD_EXIT_FAIL;
			goto done;
		}
		if ((hex = skd_client_hex(k->kek, k->kek_len)) == NULL) {
			rc = SKD_EXIT_INTERNAL;
			goto done;
		}
		printf("%s\n", hex);
		fflush(stdout);
		OPENSSL_clear_free(hex, strlen(hex));
		goto done;
	}
	for (i = 0; i < skd_client_keystore_count(ks); i++)
		print_key(NULL, skd_client_keystore_at(ks, i));
	printf("%zu key(s), protected by %s\n", skd_client_keystore_count(ks),
	    skd_client_keystore_protection(ks) == SKD_CLIENT_KS_CERT ?
	    "the member's certificate" : "a passphrase");
 done:
	OPENSSL_free(kid);
	skd_client_keystore_free(ks);
	skd_client_ident_free(id);
	return rc;
}

/*
 * Zeroes *x, then fills its GL name, nonce and transactionId from the
 * request named by --request, if any, opened with id (may be NULL).  The
 * values go to *out_hold (caller frees with skd_client_hold_free, also on
 * failure).  Returns an exit code.
 */
int
skd_cli_expect_request(const struct skd_cli_ctx *c, const struct skd_client_ident *id,
    struct skd_client_expect *x, struct skd_client_hold **out_hold)
{
	struct skd_client_error e = { 0 };
	const char *path = skd_cli_ctx_opt(c, "request");
	unsigned char *req;
	size_t req_len = 0;
	int rc = SKD_EXIT_OK;

	memset(x, 0, sizeof(*x));
	if (path == NULL)
		return SKD_EXIT_OK;
	if ((req = skd_cli_read_input(path, SKD_CLI_MAX_INPUT, &req_len)) ==
	    NULL)
		return SKD_EXIT_INPUT;
	if (!skd_client_request_expect(x, out_hold, req, req_len, id, &e))
		rc = skd_cli_client_fail(c, &e);
	free(req);
	return rc;
}

/*
 * skd member messages: the GLA messages of type "response" addressed to
 * us for gl: a GLO's denial of our request, which the GLA checked and
 * passed on (RFC 5275 3.2.4.1).  Each is checked as skd response
 * --from-glo does: every signature, the signer's path against --CAfile,
 * and with --request FILE our senderNonce and transactionId echoed
 * (3.2.4.2).  Exit 0 when every message checks and says success, 1 when
 * one says failed, else the check's error.
 */
static int
member_messages(const struct skd_cli_ctx *c, const char *gl)
{
	struct skd_client_error e = { 0 };
	struct skd_client_ident *id = NULL;
	struct skd_client_expect x;
	struct skd_client_hold *hold = NULL;
	struct skd_client_response *resp = NULL;
	struct skd_store *s = NULL;
	struct skd_store_message *list = NULL;
	X509_STORE *trust = NULL;
	GENERAL_NAME *want = NULL, *have;
	const char *mid = skd_cli_ctx_opt(c, "message");
	size_t n = 0, i, shown = 0;
	char *me = NULL;
	int rc, json = skd_cli_ctx_flag(c, "json"), worst = SKD_EXIT_OK, same;
	json_t *jarr = NULL;
	BIO *out = NULL;

	if ((want = skd_gname_from_text(gl)) == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--gl: not a name (e.g. email:gl@...)");
		return SKD_EXIT_USAGE;
	}
	if ((rc = skd_cli_ctx_ident(c, &id)) != SKD_EXIT_OK)
		goto done;
	if ((me = my_name(c, id->cert)) == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "cannot tell our name from the "
		    "certificate: give --name NAME");
		rc = SKD_EXIT_USAGE;
		goto done;
	}
	if ((rc = skd_cli_expect_request(c, id, &x, &hold)) != SKD_EXIT_OK)
		goto done;
	/* Signed by a GLO, whose certificate does not name the GL. */
	x.gl_name = NULL;
	x.ident = id;
	if ((rc = skd_cli_ctx_trust(c, &trust)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK)
		goto done;
	x.trust = trust;
	if (!skd_store_find_messages(s, &list, &n, me)) {
		skd_cli_err(skd_cli_ctx_cmd(c), "reading the GLA's messages: %s",
		    skd_store_errmsg(s));
		rc = SKD_EXIT_DIRECTORY;
		goto done;
	}
	out = BIO_new_fp(stdout, BIO_NOCLOSE);
	if (json && (jarr = json_array()) == NULL) {
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (list[i].type == NULL || strcmp(list[i].type, "response") !=
		    0 || list[i].gl_name == NULL)
			continue;
		if (mid != NULL && strcmp(list[i].id, mid) != 0)
			continue;
		have = skd_gname_from_text(list[i].gl_name);
		same = have != NULL && GENERAL_NAME_cmp(want, have) == 0;
		GENERAL_NAME_free(have);
		if (!same)
			continue;
		skd_client_response_free(resp);
		resp = NULL;
		memset(&e, 0, sizeof(e));
		x.now = time(NULL);
		if (!skd_client_response_check(&resp, list[i].message,
		    list[i].message_len, &x, &e)) {
			BIO_flush(out);
			skd_cli_err(skd_cli_ctx_cmd(c), "message %s: %s", list[i].id,
			    e.msg);
			if (worst == SKD_EXIT_OK || worst == SKD_EXIT_FAIL)
				worst = skd_cli_exit_of(&e);
			continue;
		}
		if (json) {
			json_array_append_new(jarr, json_pack("{s:s,s:o}",
			    "message", list[i].id, "response",
			    skd_cli_json_response(resp)));
		} else {
			BIO_printf(out, "message %s: signed by GLO \"",
			    list[i].id);
			X509_NAME_print_ex(out, X509_get_subject_name(
			    resp->gla_cert), 0, XN_FLAG_RFC2253);
			BIO_puts(out, "\"\n");
			skd_client_response_print(out, resp, 0);
		}
		shown++;
		if (!skd_client_response_ok(resp) && worst == SKD_EXIT_OK)
			worst = SKD_EXIT_FAIL;
	}
	if (json && (worst == SKD_EXIT_OK || worst == SKD_EXIT_FAIL)) {
		skd_cli_json_put(json_pack("{s:o}", "messages", jarr));
		jarr = NULL;
	} else if (!json && shown == 0 && worst == SKD_EXIT_OK)
		BIO_puts(out, "no messages\n");
	rc = worst;
	if (mid != NULL && shown == 0 && rc == SKD_EXIT_OK) {
		skd_cli_err(skd_cli_ctx_cmd(c), "no message %s for %s", mid, me);
		rc = SKD_EXIT_INPUT;
	}
 done:
	json_decref(jarr);
	BIO_free(out);
	skd_client_response_free(resp);
	skd_store_message_list_free(list, n);
	skd_store_close(s);
	X509_STORE_free(trust);
	skd_client_hold_free(hold);
	OPENSSL_free(me);
	GENERAL_NAME_free(want);
	skd_client_ident_free(id);
	return rc;
}

/* Every member subcommand takes no operands, and --gl but for decrypt. */
static int
member_run(const struct skd_cli_ctx *c, const struct skd_cli_sub *sub)
{
	const char *gl = NULL;
	int rc;

	if ((rc = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK)
		return rc;
	if (strcmp(sub->name, "keys") == 0)
		return member_keys(c);
	if (strcmp(sub->name, "decrypt") != 0 &&
	    (rc = skd_cli_ctx_need(c, "gl", "NAME", "", &gl)) != SKD_EXIT_OK)
		return rc;
	if (strcmp(sub->name, "fetch") == 0)
		return member_fetch(c, gl);
	if (strcmp(sub->name, "messages") == 0)
		return member_messages(c, gl);
	if (strcmp(sub->name, "encrypt") == 0 ||
	    strcmp(sub->name, "decrypt") == 0)
		return member_crypt(c, sub->name[0] == 'e', gl);
	return skd_cli_submit(c, sub->name, gl, member_build);
}

static const struct skd_cli_sub member_subs[] = {
	{ "join", SKD_CLI_REQ_OPTS " gl name member-address", member_run },
	{ "leave", SKD_CLI_REQ_OPTS " gl name", member_run },
	{ "refresh", SKD_CLI_REQ_OPTS " gl from to", member_run },
	{ "compromise", SKD_CLI_REQ_OPTS " gl", member_run },
	{ "update-cert", SKD_CLI_REQ_OPTS " gl name new-cert", member_run },
	{ "fetch", "cert key CAfile CRLfile gl name keystore no-ack max-age "
	    "timeout watch count json mail mail-to mail-from smtp starttls "
	    "sendmail " KS_OPTS " " DIR_OPTS, member_run },
	{ "messages", "cert key CAfile CRLfile gl name request message json "
	    DIR_OPTS, member_run },
	{ "encrypt", "gl keystore in out cert key " KS_OPTS, member_run },
	{ "decrypt", "keystore in out cert key " KS_OPTS, member_run },
	{ "keys", "keystore cert key export " KS_OPTS, member_run },
};

int
skd_cli_member(int argc, char **argv)
{
	return skd_cli_dispatch("member", member_subs,
	    sizeof(member_subs) / sizeof(member_subs[0]), member_usage, argc,
	    argv);
}
