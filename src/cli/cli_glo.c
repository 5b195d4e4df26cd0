/*
 * cli_glo.c: "skd glo ...": the GL owner's requests (RFC 5275 4.1-4.9),
 * and the request plumbing "skd member" shares (options, identity,
 * directory, submit, wait, check): see skd-glo(1).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "client/skd_client.h"
#include "cli/cli.h"

#define DEFAULT_BASE	"ou=skd,dc=example,dc=com"

/* ---- options ---- */

static const struct {
	const char	*name;
	int		 has_arg;
} all_opts[] = {
	{ "help", no_argument }, { "cert", required_argument },
	{ "key", required_argument }, { "gla-cert", required_argument },
	{ "CAfile", required_argument }, { "CRLfile", required_argument },
	{ "uri", required_argument }, { "base", required_argument },
	{ "bind-dn", required_argument },
	{ "password-file", required_argument },
	{ "env", required_argument }, { "as", required_argument },
	{ "encrypt", no_argument }, { "outer-sign", no_argument },
	{ "out", required_argument }, { "ldif", no_argument },
	{ "submitter-dn", required_argument },
	{ "json", no_argument }, { "timeout", required_argument },
	{ "gl", required_argument }, { "address", required_argument },
	{ "owner", required_argument }, { "owner-cert", required_argument },
	{ "owner-address", required_argument },
	{ "admin", required_argument }, { "alg", required_argument },
	{ "duration", required_argument },
	{ "generations", required_argument },
	{ "mutually-aware", no_argument }, { "rekey-by-glo", no_argument },
	{ "member", required_argument },
	{ "member-cert", required_argument },
	{ "member-address", required_argument },
	{ "members-file", required_argument }, { "all-keys", no_argument },
	{ "name", required_argument }, { "new-cert", required_argument },
	{ "from", required_argument }, { "to", required_argument },
	{ "keystore", required_argument }, { "in", required_argument },
	{ "no-ack", no_argument }, { "max-age", required_argument },
	{ "request", required_argument }, { "message", required_argument },
	{ "reason", required_argument }, { "watch", no_argument },
	{ "count", required_argument }, { "from-glo", no_argument },
	{ "protect", required_argument },
	{ "passphrase-fd", required_argument },
	{ "no-migrate", no_argument }, { "export", required_argument },
	/* mail transport (cli_mail.c) */
	{ "mail-to", required_argument }, { "mail-from", required_argument },
	{ "smtp", required_argument }, { "starttls", no_argument },
	{ "sendmail", required_argument }, { "mail", required_argument },
	{ "sasl-mech", required_argument }, { "id", required_argument },
};
#define N_OPTS	(sizeof(all_opts) / sizeof(all_opts[0]))

struct skd_cli_ctx {
	const char	*cmd;
	const char	*val[N_OPTS];		/* last value (argv) */
	const char	**multi[N_OPTS];	/* every value */
	size_t		 n_multi[N_OPTS];
	int		 given[N_OPTS];
	char		**env;			/* KEY=VALUE lines */
	size_t		 n_env;
	char		**args;			/* operands */
	int		 n_args;
	/* libldap's defaults (ldap.conf, LDAPURI, LDAPBASE, LDAPTLS_CACERT) */
	char		*ld_uri;
	char		*ld_base;		/* "ou=skd," LDAPBASE */
	char		*ld_ca_file;
};

/* OpenLDAP's tools' short options and the long options they stand for
 * (ldapsearch(1)): -H URI, -b base, -D binddn, -y passwdfile, -Z[Z]
 * StartTLS, -Y mech. */
static const struct {
	int		 ch;
	const char	*name;
} short_opts[] = {
	{ 'H', "uri" }, { 'b', "base" }, { 'D', "bind-dn" },
	{ 'y', "password-file" }, { 'Z', "starttls" }, { 'Y', "sasl-mech" },
};

static int
opt_index(const char *name)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++) {
		if (strcmp(all_opts[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

static int
word_in(const char *list, const char *w)
{
	size_t n = strlen(w);
	const char *p = list;

	while ((p = strstr(p, w)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' ||
		    p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

void
skd_cli_ctx_free(struct skd_cli_ctx *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < N_OPTS; i++)
		free(c->multi[i]);
	for (i = 0; i < c->n_env; i++) {
		OPENSSL_cleanse(c->env[i], strlen(c->env[i]));
		free(c->env[i]);
	}
	free(c->env);
	free(c->ld_uri);
	free(c->ld_base);
	free(c->ld_ca_file);
	free(c);
}

/* Reads an env file of KEY=VALUE lines (tools/skd-stack writes one). */
static int
load_env(struct skd_cli_ctx *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096], *v, **nv;
	size_t n;

	if (f == NULL) {
		skd_cli_err(c->cmd, "%s: %s", path, strerror(errno));
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (line[0] == '#' || (v = strchr(line, '=')) == NULL)
			continue;
		/* strip one pair of quotes around the value */
		n = strlen(v + 1);
		if (n >= 2 && (v[1] == '"' || v[1] == '\'') && v[n] == v[1]) {
			memmove(v + 1, v + 2, n - 2);
			v[n - 1] = '\0';
		}
		if ((nv = realloc(c->env, (c->n_env + 1) * sizeof(*nv))) ==
		    NULL || (nv[c->n_env] = strdup(line)) == NULL) {
			if (nv != NULL)
				c->env = nv;
			fclose(f);
			OPENSSL_cleanse(line, sizeof(line));
			return 0;
		}
		c->env = nv;
		c->n_env++;
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	return 1;
}

/* The env file's value of key, or NULL. */
static const char *
env_get(const struct skd_cli_ctx *c, const char *key)
{
	size_t i, n = strlen(key);

	for (i = c->n_env; i-- > 0;) {
		if (strncmp(c->env[i], key, n) == 0 && c->env[i][n] == '=')
			return c->env[i] + n + 1;
	}
	return NULL;
}

struct skd_cli_ctx *
skd_cli_ctx_parse(const char *cmd, int argc, char **argv,
    const char *allowed, const char *usage, int *out_exit)
{
	struct option lo[N_OPTS + 1];
	struct skd_cli_ctx *c;
	const char **nv;
	size_t i;
	int ch, k;

	*out_exit = SKD_EXIT_INTERNAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->cmd = cmd;
	for (i = 0; i < N_OPTS; i++) {
		lo[i].name = all_opts[i].name;
		lo[i].has_arg = all_opts[i].has_arg;
		lo[i].flag = NULL;
		lo[i].val = 256 + (int)i;
	}
	memset(&lo[N_OPTS], 0, sizeof(lo[N_OPTS]));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+hH:b:D:y:ZY:", lo, NULL)) !=
	    -1) {
		if (ch == 'h')
			ch = 256;	/* --help */
		for (i = 0; i < sizeof(short_opts) / sizeof(short_opts[0]);
		    i++) {
			if (ch == short_opts[i].ch)
				ch = 256 + opt_index(short_opts[i].name);
		}
		if (ch < 256 || ch >= 256 + (int)N_OPTS) {
			skd_cli_err(cmd, "unknown or incomplete option '%s' "
			    "(try --help)", argv[optind - 1]);
			*out_exit = SKD_EXIT_USAGE;
			goto err;
		}
		k = ch - 256;
		/* StartTLS and SASL go wherever a directory does. */
		if (k != 0 && !word_in(allowed, all_opts[k].name) &&
		    !(word_in(allowed, "uri") && (strcmp(all_opts[k].name,
		    "starttls") == 0 || strcmp(all_opts[k].name,
		    "sasl-mech") == 0))) {
			skd_cli_err(cmd, "option --%s does not apply here "
			    "(try --help)", all_opts[k].name);
			*out_exit = SKD_EXIT_USAGE;
			goto err;
		}
		c->given[k]++;		/* -ZZ: twice */
		c->val[k] = optarg;
		if (strcmp(all_opts[k].name, "json") == 0)
			skd_cli_json = 1;
		if (optarg != NULL) {
			if ((nv = realloc(c->multi[k], (c->n_multi[k] + 1) *
			    sizeof(*nv))) == NULL)
				goto err;
			nv[c->n_multi[k]++] = optarg;
			c->multi[k] = nv;
		}
	}
	if (c->given[0]) {
		fputs(usage, stdout);
		*out_exit = SKD_EXIT_OK;
		goto err;
	}
	c->args = argv + optind;
	c->n_args = argc - optind;
	if (c->val[opt_index("env")] != NULL &&
	    !load_env(c, c->val[opt_index("env")])) {
		*out_exit = SKD_EXIT_INPUT;
		goto err;
	}
	if (word_in(allowed, "uri")) {
		char *b = NULL;

		skd_store_ldap_defaults(&c->ld_uri, &b, &c->ld_ca_file);
		if (b != NULL && asprintf(&c->ld_base, "ou=skd,%s", b) < 0)
			c->ld_base = NULL;
		free(b);
	}
	return c;
 err:
	skd_cli_ctx_free(c);
	return NULL;
}

const char *
skd_cli_ctx_opt(const struct skd_cli_ctx *c, const char *name)
{
	int k = opt_index(name);

	return k < 0 ? NULL : c->val[k];
}

int
skd_cli_ctx_flag(const struct skd_cli_ctx *c, const char *name)
{
	int k = opt_index(name);

	return k >= 0 && c->given[k];
}

size_t
skd_cli_ctx_multi(const struct skd_cli_ctx *c, const char *name,
    const char *const **out)
{
	int k = opt_index(name);

	*out = k < 0 ? NULL : c->multi[k];
	return k < 0 ? 0 : c->n_multi[k];
}

int
skd_cli_ctx_args(const struct skd_cli_ctx *c, char ***out)
{
	*out = c->args;
	return c->n_args;
}

const char *
skd_cli_ctx_cmd(const struct skd_cli_ctx *c)
{
	return c->cmd;
}

/* ---- errors and exit codes ---- */

int
skd_cli_exit_of(const struct skd_client_error *e)
{
	switch (e->code) {
	case SKD_CLIENT_OK:
		return SKD_EXIT_OK;
	case SKD_CLIENT_ERR_INPUT:
	case SKD_CLIENT_ERR_KEY_MISMATCH:
	case SKD_CLIENT_ERR_KEYSTORE:
		return SKD_EXIT_INPUT;
	case SKD_CLIENT_ERR_CRYPTO:
	case SKD_CLIENT_ERR_NAME:
	case SKD_CLIENT_ERR_NONCE:
	case SKD_CLIENT_ERR_TIME:
	case SKD_CLIENT_ERR_GLA_BINDING:
		return SKD_EXIT_CRYPTO;
	case SKD_CLIENT_ERR_NO_KEY:
	case SKD_CLIENT_ERR_REFUSED:
		return SKD_EXIT_FAIL;
	case SKD_CLIENT_ERR_DIRECTORY:
	case SKD_CLIENT_ERR_TIMEOUT:
		return SKD_EXIT_DIRECTORY;
	default:
		return SKD_EXIT_INTERNAL;
	}
}

int
skd_cli_client_fail(const struct skd_cli_ctx *c,
    const struct skd_client_error *e)
{
	skd_cli_err(c->cmd, "%s", e->msg[0] != '\0' ? e->msg :
	    skd_client_err_name(e->code));
	return skd_cli_exit_of(e);
}

/* ---- identity, trust, directory ---- */

int
skd_cli_ctx_ident(const struct skd_cli_ctx *c, struct skd_client_ident **out)
{
	struct skd_client_error e = { 0 };

	if (skd_cli_ctx_opt(c, "cert") == NULL ||
	    skd_cli_ctx_opt(c, "key") == NULL) {
		skd_cli_err(c->cmd, "--cert FILE and --key FILE are required");
		return SKD_EXIT_USAGE;
	}
	if ((*out = skd_client_ident_load(skd_cli_ctx_opt(c, "cert"),
	    skd_cli_ctx_opt(c, "key"), &e)) == NULL)
		return skd_cli_client_fail(c, &e);
	return SKD_EXIT_OK;
}

int
skd_cli_ctx_trust(const struct skd_cli_ctx *c, X509_STORE **out)
{
	const char *ca = skd_cli_ctx_opt(c, "CAfile"), *pki;
	char buf[4096];

	if (ca == NULL && (pki = env_get(c, "SKD_PKI_DIR")) != NULL) {
		snprintf(buf, sizeof(buf), "%s/ca.crt", pki);
		ca = buf;
	}
	if (ca == NULL) {
		skd_cli_err(c->cmd, "--CAfile FILE (trust anchors for the "
		    "GLA's signatures) is required");
		return SKD_EXIT_USAGE;
	}
	if ((*out = skd_cms_store_new(ca, skd_cli_ctx_opt(c, "CRLfile"))) ==
	    NULL) {
		skd_cli_err(c->cmd, "cannot load trust anchors from %s%s%s",
		    ca, skd_cli_ctx_opt(c, "CRLfile") != NULL ?
		    " or CRLs from " : "", skd_cli_ctx_opt(c, "CRLfile") !=
		    NULL ? skd_cli_ctx_opt(c, "CRLfile") : "");
		return SKD_EXIT_INPUT;
	}
	return SKD_EXIT_OK;
}

/* The first line of path ("-": standard input), as ldapsearch -y reads
 * it; NULL (after one line on stderr) when it cannot be read. */
static char *
read_password(const struct skd_cli_ctx *c, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char buf[1024], *p;

	if (f == NULL) {
		skd_cli_err(c->cmd, "password file %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	if (f != stdin)
		fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		skd_cli_err(c->cmd, "password file %s is empty",
		    strcmp(path, "-") == 0 ? "(standard input)" : path);
		return NULL;
	}
	p = strdup(buf);
	OPENSSL_cleanse(buf, sizeof(buf));
	return p;
}

/* SKD_<AS>_<what> from the env file, NAME upper-cased. */
static const char *
env_as(const struct skd_cli_ctx *c, const char *what)
{
	const char *as = skd_cli_ctx_opt(c, "as");
	char key[128];
	size_t i, n;

	if (as == NULL)
		return NULL;
	n = (size_t)snprintf(key, sizeof(key), "SKD_%s_%s", as, what);
	for (i = 0; i < n && i < sizeof(key); i++)
		key[i] = (char)toupper((unsigned char)key[i]);
	return env_get(c, key);
}

const char *
skd_cli_ctx_base(const struct skd_cli_ctx *c)
{
	const char *b = skd_cli_ctx_opt(c, "base");

	if (b == NULL)
		b = env_get(c, "SKD_BASE_DN");
	if (b == NULL)
		b = c->ld_base;
	return b != NULL ? b : DEFAULT_BASE;
}

const char *
skd_cli_ctx_bind_dn(const struct skd_cli_ctx *c)
{
	const char *dn;

	if ((dn = skd_cli_ctx_opt(c, "bind-dn")) == NULL &&
	    (dn = env_as(c, "DN")) == NULL)
		dn = env_get(c, "SKD_BIND_DN");
	return dn;
}

int
skd_cli_ctx_store(const struct skd_cli_ctx *c, struct skd_store **out)
{
	struct skd_store_conf conf;
	const char *uri = skd_cli_ctx_opt(c, "uri"), *dn, *pw = NULL;
	const char *mech = skd_cli_ctx_opt(c, "sasl-mech");
	char *pwbuf = NULL, why[512] = "";
	enum skd_store_err se = SKD_STORE_OK;
	int external;

	*out = NULL;
	if (uri == NULL)
		uri = env_get(c, "SKD_LDAP_URI");
	if (uri == NULL)
		uri = c->ld_uri;	/* ldap.conf URI, LDAPURI */
	if (uri == NULL) {
		skd_cli_err(c->cmd, "no directory: give -H URI (--uri), "
		    "--env FILE or URI in ldap.conf (or --out/--ldif to write "
		    "the request instead)");
		return SKD_EXIT_USAGE;
	}
	if (mech != NULL && strcasecmp(mech, "EXTERNAL") != 0) {
		skd_cli_err(c->cmd, "-Y %s: only SASL EXTERNAL is supported "
		    "(or a simple bind with -D DN -y FILE)", mech);
		return SKD_EXIT_USAGE;
	}
	dn = skd_cli_ctx_bind_dn(c);
	external = mech != NULL || (dn == NULL && strncmp(uri, "ldapi:", 6) ==
	    0);
	if (!external && dn == NULL) {
		skd_cli_err(c->cmd, "%s: a bind DN is needed (-D DN -y FILE, "
		    "or --env FILE --as NAME); only -Y EXTERNAL and ldapi:// "
		    "bind without one", uri);
		return SKD_EXIT_USAGE;
	}
	if (!external) {
		if (skd_cli_ctx_opt(c, "password-file") != NULL) {
			if ((pwbuf = read_password(c, skd_cli_ctx_opt(c,
			    "password-file"))) == NULL)
				return SKD_EXIT_INPUT;
			pw = pwbuf;
		} else if ((pw = env_as(c, "PW")) == NULL) {
			pw = env_get(c, "SKD_BIND_PW");
		}
		if (pw == NULL || pw[0] == '\0') {
			/* An empty password is an unauthenticated bind
			 * (RFC 4513 5.1.2), which says nothing useful. */
			skd_cli_err(c->cmd, "%s: no password for %s: give -y "
			    "FILE (--password-file FILE, - for standard "
			    "input) or --env FILE --as NAME", uri, dn);
			return SKD_EXIT_USAGE;
		}
	}
	memset(&conf, 0, sizeof(conf));
	conf.uri = uri;
	conf.base_dn = skd_cli_ctx_base(c);
	conf.bind = external ? SKD_STORE_BIND_EXTERNAL : SKD_STORE_BIND_SIMPLE;
	conf.bind_dn = external ? NULL : dn;
	conf.password = external ? NULL : pw;
	/* -Z and -ZZ alike require StartTLS: skd never falls back to a
	 * connection in the clear. */
	conf.tls = skd_cli_ctx_flag(c, "starttls") ? SKD_STORE_TLS_STARTTLS :
	    strncasecmp(uri, "ldaps:", 6) == 0 ? SKD_STORE_TLS_LDAPS :
	    SKD_STORE_TLS_NONE;
	conf.tls_ca_file = c->ld_ca_file;	/* TLS_CACERT, LDAPTLS_CACERT */
	conf.fail_fast = 1;
	*out = skd_store_open_conf(&se, why, sizeof(why), &conf);
	if (pwbuf != NULL) {
		OPENSSL_cleanse(pwbuf, strlen(pwbuf));
		free(pwbuf);
	}
	if (*out == NULL) {
		skd_cli_err(c->cmd, "directory: %s", why[0] != '\0' ? why :
		    skd_store_err_str(se));
		return SKD_EXIT_DIRECTORY;
	}
	return SKD_EXIT_OK;
}

/* ---- writing a request instead of submitting it ---- */

int
skd_cli_write_file(const struct skd_cli_ctx *c, const char *path,
    const unsigned char *p, size_t len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
	int ok;

	if (f == NULL) {
		skd_cli_err(c->cmd, "%s: %s", path, strerror(errno));
		return SKD_EXIT_INPUT;
	}
	ok = fwrite(p, 1, len, f) == len;
	if (f != stdout)
		ok = fclose(f) == 0 && ok;
	else
		ok = fflush(f) == 0 && ok;
	if (!ok) {
		skd_cli_err(c->cmd, "%s: write failed", path);
		return SKD_EXIT_INPUT;
	}
	return SKD_EXIT_OK;
}

/*
 * An LDIF add of the request for ldapadd (docs/man/skd-glo.1), exactly
 * the entry docs/directory.md "Submitting without skd" describes: the
 * shipped ACLs let a submitter add a request only with these attributes
 * and skdSubmitterDN equal to the DN it binds as, which is therefore
 * required (--submitter-dn, else the bind DN).
 */
static int
print_ldif(const struct skd_cli_ctx *c, const unsigned char *der, size_t len)
{
	char id[SKD_STORE_ID_LEN];
	const char *who;
	unsigned char *b64;
	size_t n, i, w;
	int bl;

	if ((who = skd_cli_ctx_opt(c, "submitter-dn")) == NULL &&
	    (who = skd_cli_ctx_bind_dn(c)) == NULL) {
		skd_cli_err(c->cmd, "--ldif needs the DN ldapadd will bind as "
		    "(skdSubmitterDN): give --submitter-dn DN, --bind-dn DN "
		    "or --env FILE --as NAME");
		return SKD_EXIT_USAGE;
	}
	if ((b64 = malloc(4 * ((len + 2) / 3) + 1)) == NULL)
		return SKD_EXIT_INTERNAL;
	bl = EVP_EncodeBlock(b64, der, (int)len);
	skd_store_new_id(id);
	printf("dn: skdRequestId=%s,ou=requests,%s\n", id,
	    skd_cli_ctx_base(c));
	printf("objectClass: skdRequest\nskdRequestId: %s\n", id);
	/* RFC 2849: lines folded at 76 columns, continuations start with
	 * one space. */
	fputs("skdMessage:: ", stdout);
	n = (size_t)bl;
	for (i = 0, w = 76 - 13; i < n; i += w, w = 75) {
		if (i > 0)
			fputs("\n ", stdout);
		fwrite(b64 + i, 1, n - i < w ? n - i : w, stdout);
	}
	printf("\nskdSubmitterDN: %s\nskdState: pending\n\n", who);
	free(b64);
	return SKD_EXIT_OK;
}

/* ---- the request flow ---- */

/* Which of several requests one command makes is being written (--out
 * FILE.k); 0: the only one. */
static int out_index;

/* What to tell the user when Ctrl-C ends the wait for an answer: the
 * request stays in the directory, pending, until the GLA takes it. */
static char interrupted_msg[512];
static size_t interrupted_len;

static void
on_interrupt(int sig)
{
	ssize_t r = write(STDERR_FILENO, interrupted_msg, interrupted_len);

	(void)r;
	_exit(128 + sig);
}

int
skd_cli_run_request(const struct skd_cli_ctx *c,
    struct skd_client_request *r, const struct skd_client_ident *id,
    const char *gl)
{
	return skd_cli_run_request_ex(c, r, id, gl, NULL);
}

/* Checks and prints the answers nested in a response to a resubmission
 * (RFC 5275 3.2.5): each signed by the GL's certificate, echoing the
 * member's nonce and transactionId.  *all_ok is cleared on a failure. */
static int
check_nested(const struct skd_cli_ctx *c, BIO *out,
    const unsigned char *der, size_t len, const struct skd_client_expect *x,
    json_t *jarr, int *all_ok)
{
	struct skd_client_error e = { 0 };
	struct skd_client_response *resp = NULL;
	struct skd_store_blob *items = NULL;
	size_t n = 0, i;
	int rc = SKD_EXIT_OK;

	if (!skd_client_response_items(&items, &n, der, len, x->ident, &e))
		return skd_cli_client_fail(c, &e);
	if (n == 0) {
		skd_cli_err(c->cmd, "the response holds no answer to the "
		    "resubmitted request");
		rc = SKD_EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		if (!skd_client_response_check(&resp, items[i].data,
		    items[i].len, x, &e)) {
			rc = skd_cli_client_fail(c, &e);
			break;
		}
		if (jarr != NULL)
			json_array_append_new(jarr,
			    skd_cli_json_response(resp));
		else
			skd_client_response_print(out, resp, 0);
		*all_ok = *all_ok && skd_client_response_ok(resp);
		skd_client_response_free(resp);
		resp = NULL;
	}
	skd_client_items_free(items, n);
	return rc;
}

int
skd_cli_run_request_ex(const struct skd_cli_ctx *c,
    struct skd_client_request *r, const struct skd_client_ident *id,
    const char *gl, const struct skd_client_expect *nested)
{
	struct skd_client_error e = { 0 };
	struct skd_client_expect x;
	struct skd_client_response *resp = NULL;
	struct skd_store *s = NULL;
	struct skd_store_blob *msgs = NULL;
	X509_STORE *trust = NULL;
	X509 *gla = NULL;
	unsigned char *der = NULL;
	size_t len = 0, n = 0, i;
	char rid[SKD_STORE_ID_LEN];
	const char *t;
	long timeout = 30;
	int rc, json = skd_cli_ctx_flag(c, "json"), all_ok = 1, ok;
	int handlers = 0, not_believed = 0;
	struct sigaction sa, old_int, old_term;
	json_t *jdoc = NULL, *jarr = NULL;
	BIO *out = NULL;

	if (skd_cli_ctx_flag(c, "outer-sign") &&
	    !skd_cli_ctx_flag(c, "encrypt")) {
		skd_cli_err(c->cmd, "--outer-sign needs --encrypt");
		return SKD_EXIT_USAGE;
	}
	if ((t = skd_cli_ctx_opt(c, "timeout")) != NULL) {
		char *end;

		timeout = strtol(t, &end, 10);
		if (*end != '\0' || timeout < 0 || timeout > 86400) {
			skd_cli_err(c->cmd, "--timeout: seconds, 0..86400");
			return SKD_EXIT_USAGE;
		}
	}
	if (skd_cli_ctx_flag(c, "encrypt")) {
		if (skd_cli_ctx_opt(c, "gla-cert") == NULL) {
			skd_cli_err(c->cmd, "--encrypt needs --gla-cert FILE");
			return SKD_EXIT_USAGE;
		}
		if ((gla = skd_client_cert_load(skd_cli_ctx_opt(c,
		    "gla-cert"), &e)) == NULL)
			return skd_cli_client_fail(c, &e);
	}
	if (!skd_client_request_protect(&der, &len, r, id, gla,
	    skd_cli_ctx_flag(c, "outer-sign"), time(NULL), &e)) {
		rc = skd_cli_client_fail(c, &e);
		goto done;
	}
	if (skd_cli_ctx_opt(c, "out") != NULL) {
		char outp[4096];

		/* One of several requests (--members-file): FILE.k */
		if (out_index > 0)
			snprintf(outp, sizeof(outp), "%s.%d",
			    skd_cli_ctx_opt(c, "out"), out_index);
		else
			snprintf(outp, sizeof(outp), "%s",
			    skd_cli_ctx_opt(c, "out"));
		rc = skd_cli_write_file(c, outp, der, len);
		goto done;
	}
	if (skd_cli_ctx_flag(c, "ldif")) {
		rc = print_ldif(c, der, len);
		goto done;
	}
	if (skd_cli_ctx_opt(c, "mail-to") != NULL) {
		/* RFC 5275 7: by mail; the answer comes by mail too. */
		rc = skd_cli_mail_submit(c, id->cert, der, len, "CMC-request");
		goto done;
	}
	/* Everything that can fail locally fails before anything is
	 * written to the directory. */
	if ((rc = skd_cli_ctx_trust(c, &trust)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK)
		goto done;
	if (!skd_client_submit(s, rid, der, len, skd_cli_ctx_bind_dn(c),
	    &e)) {
		rc = skd_cli_client_fail(c, &e);
		goto done;
	}
	fprintf(stderr, "skd: %s: submitted request %s\n", c->cmd, rid);
	interrupted_len = (size_t)snprintf(interrupted_msg,
	    sizeof(interrupted_msg), "\nskd: %s: interrupted: request %s "
	    "stays in the directory; read its answer with skd response --id "
	    "%s, or withdraw it while pending with skd request cancel --id "
	    "%s\n", c->cmd, rid, rid, rid);
	if (interrupted_len >= sizeof(interrupted_msg))
		interrupted_len = sizeof(interrupted_msg) - 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	handlers = sigaction(SIGINT, &sa, &old_int) == 0 &&
	    sigaction(SIGTERM, &sa, &old_term) == 0;
	ok = skd_client_wait_response(s, &msgs, &n, rid, timeout * 1000, &e);
	if (handlers) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	if (!ok) {
		rc = skd_cli_client_fail(c, &e);
		goto done;
	}
	memset(&x, 0, sizeof(x));
	x.trust = trust;
	x.now = time(NULL);
	/* A resubmission's own answer is a container signed with the GLA's
	 * general certificate (no GL applies to it); the GL's answers are
	 * inside (check_nested). */
	x.gl_name = nested != NULL ? NULL : gl;
	x.nonce = skd_client_request_nonce(r, &x.nonce_len);
	x.tid = skd_client_request_tid(r);
	x.ident = id;
	/* A GL name the GLA does not know is answered invalidGLName under
	 * its general certificate: show that, saying why it is not the
	 * GL's answer, rather than only "not believed". */
	x.keep_unbound = 1;
	out = BIO_new_fp(stdout, BIO_NOCLOSE);
	if (json) {
		jdoc = json_pack("{s:s,s:[]}", "request", rid, "responses");
		jarr = json_object_get(jdoc, "responses");
	}
	rc = SKD_EXIT_OK;
	for (i = 0; i < n; i++) {
		/* glKey messages the GLA sent along (e.g. glkRefresh, RFC
		 * 5275 4.8) are fetched with skd member fetch. */
		if (skd_client_message_is_request(msgs[i].data, msgs[i].len,
		    id)) {
			if (!json)
				BIO_puts(out, "(with a glKey message: skd "
				    "member fetch stores it)\n");
			continue;
		}
		if (!skd_client_response_check(&resp, msgs[i].data,
		    msgs[i].len, &x, &e)) {
			rc = skd_cli_client_fail(c, &e);
			break;
		}
		if (nested == NULL || resp->n_statuses > 0) {
			if (jarr != NULL)
				json_array_append_new(jarr,
				    skd_cli_json_response(resp));
			else
				skd_client_response_print(out, resp, 0);
			all_ok = all_ok && skd_client_response_ok(resp);
		}
		/* Shown with why, but not believed: exit 4. */
		if (resp->not_believed != NULL)
			not_believed = 1;
		skd_client_response_free(resp);
		resp = NULL;
		if (nested != NULL && (rc = check_nested(c, out, msgs[i].data,
		    msgs[i].len, nested, jarr, &all_ok)) != SKD_EXIT_OK)
			break;
	}
	if (jdoc != NULL && rc == SKD_EXIT_OK) {
		json_object_set_new(jdoc, "ok", json_boolean(all_ok));
		skd_cli_json_put(jdoc);
		jdoc = NULL;
	}
	if (rc == SKD_EXIT_OK && !all_ok)
		rc = not_believed ? SKD_EXIT_CRYPTO : SKD_EXIT_FAIL;
 done:
	json_decref(jdoc);
	BIO_free(out);
	skd_store_blobs_free(msgs, n);
	skd_store_close(s);
	X509_STORE_free(trust);
	X509_free(gla);
	OPENSSL_free(der);
	return rc;
}

/* ---- GLO subcommands ---- */

#define KEYATTR_OPTS "admin alg duration generations mutually-aware " \
	"rekey-by-glo"

static const char glo_usage[] =
    "usage: skd glo SUBCOMMAND --gl NAME [options]\n"
    "subcommands:\n"
    "  create        glUseKEK: --owner NAME... [--address NAME]\n"
    "                [--admin unmanaged|managed|closed] [--alg aes128|aes192|aes256]\n"
    "                [--duration DAYS] [--generations N] [--mutually-aware]\n"
    "                [--rekey-by-glo]\n"
    "  delete        glDelete\n"
    "  add-member    glAddMember: --member NAME [--member-cert FILE]\n"
    "                [--member-address NAME] | --members-file FILE\n"
    "  remove-member glDeleteMember: --member NAME\n"
    "  provide-cert  glProvideCert: ask member --member NAME for a new\n"
    "                certificate, through the GLA (RFC 5275 4.10.1)\n"
    "  add-owner     glAddOwner: --owner NAME [--owner-cert FILE] [--owner-address NAME]\n"
    "  remove-owner  glRemoveOwner: --owner NAME [--owner-address NAME]\n"
    "  rekey         glRekey [--all-keys] [key attribute options as for create]\n"
    "  compromise    glkCompromise\n"
    "  query-algs    glaQueryRequest (no --gl)\n"
    "  list          the GLs we own, as the directory shows them to us [--json]\n"
    "  show          --gl NAME: attributes, owners, members with acknowledged\n"
    "                key ids, outstanding keys with validity [--json]\n"
    "  pending       list the member requests the GLA forwarded to us for\n"
    "                review (managed lists, RFC 5275 3.2.3) [--gl NAME] [--name NAME]\n"
    "  approve       --message ID: resubmit that request signed by us (3.2.5)\n"
    "  deny          --message ID --reason TEXT: the signed denial (cMCStatus\n"
    "                failed, 3.2.4.1), sent through the GLA to the member;\n"
    "                [--out FILE]: written to FILE instead, to deliver yourself\n"
    "common: --cert FILE --key FILE --CAfile FILE [--CRLfile FILE]\n"
    "        (--uri URI --base DN [--bind-dn DN --password-file FILE] | --env FILE [--as NAME])\n"
    "        [--encrypt --gla-cert FILE [--outer-sign]] [--out FILE | --ldif [--submitter-dn DN]]\n"
    "        [--json] [--timeout SECONDS]\n"
    "See skd-glo(1).\n";

/* Parses the key attribute options into p; returns an exit code. */
static int
parse_keyattrs(const struct skd_cli_ctx *c, struct skd_client_gl_params *p)
{
	const char *v;
	char *end;

	p->admin = -1;
	p->alg_nid = 0;
	p->duration = p->generations = -1;
	p->rekey_by_glo = skd_cli_ctx_flag(c, "rekey-by-glo") ? 1 : -1;
	p->not_mutually_aware = skd_cli_ctx_flag(c, "mutually-aware") ? 0 :
	    -1;
	if ((v = skd_cli_ctx_opt(c, "admin")) != NULL) {
		if (strcmp(v, "unmanaged") == 0)
			p->admin = SKD_GL_UNMANAGED;
		else if (strcmp(v, "managed") == 0)
			p->admin = SKD_GL_MANAGED;
		else if (strcmp(v, "closed") == 0)
			p->admin = SKD_GL_CLOSED;
		else
			goto bad;
	}
	if ((v = skd_cli_ctx_opt(c, "alg")) != NULL) {
		if (strcmp(v, "aes128") == 0)
			p->alg_nid = NID_id_aes128_wrap;
		else if (strcmp(v, "aes192") == 0)
			p->alg_nid = NID_id_aes192_wrap;
		else if (strcmp(v, "aes256") == 0)
			p->alg_nid = NID_id_aes256_wrap;
		else
			goto bad;
	}
	if ((v = skd_cli_ctx_opt(c, "duration")) != NULL) {
		p->duration = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || p->duration < 0 ||
		    p->duration > 36500)
			goto bad;
	}
	if ((v = skd_cli_ctx_opt(c, "generations")) != NULL) {
		p->generations = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || p->generations < 2 ||
		    p->generations > 1000)
			goto bad;
	}
	return SKD_EXIT_OK;
 bad:
	skd_cli_err(c->cmd, "bad key attribute option (--admin "
	    "unmanaged|managed|closed, --alg aes128|aes192|aes256, "
	    "--duration DAYS >= 0, --generations N >= 2)");
	return SKD_EXIT_USAGE;
}

/* Loads an optional certificate option; returns an exit code. */
int
skd_cli_ctx_cert(const struct skd_cli_ctx *c, const char *opt, X509 **out)
{
	struct skd_client_error e = { 0 };
	const char *p = skd_cli_ctx_opt(c, opt);

	*out = NULL;
	if (p == NULL)
		return SKD_EXIT_OK;
	if ((*out = skd_client_cert_load(p, &e)) == NULL)
		return skd_cli_client_fail(c, &e);
	return SKD_EXIT_OK;
}

/* The members a --members-file names (lines "NAME [CERTFILE]", # and
 * blank lines skipped). */
static int
count_members(FILE *f)
{
	char line[4096], *name, *save = NULL;
	int total = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if ((name = strtok_r(line, " \t", &save)) != NULL &&
		    name[0] != '#')
			total++;
	}
	rewind(f);
	return total;
}

/* glAddMember into r for the next lines of f, at most max members;
 * *lineno and *done advance.  An exit code. */
static int
add_members_chunk(const struct skd_cli_ctx *c, struct skd_client_request *r,
    const char *gl, FILE *f, const char *path, int *lineno, int max,
    int *done, int total)
{
	struct skd_client_error e = { 0 };
	struct skd_client_party m;
	SKD_GL_ADD_MEMBER *am;
	char line[4096], *name, *cert, *save = NULL;
	X509 *x;
	int n = 0, tty = isatty(STDERR_FILENO);

	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		(*lineno)++;
		line[strcspn(line, "\r\n")] = '\0';
		if ((name = strtok_r(line, " \t", &save)) == NULL ||
		    name[0] == '#')
			continue;
		cert = strtok_r(NULL, " \t", &save);
		x = NULL;
		if (cert != NULL && (x = skd_client_cert_load(cert, &e)) ==
		    NULL)
			break;
		memset(&m, 0, sizeof(m));
		m.name = name;
		m.cert = x;
		am = skd_client_new_add_member(gl, &m, &e);
		X509_free(x);
		if (am == NULL)
			break;
		if (skd_client_request_add(r, SKD_OID_GL_ADD_MEMBER, am) == 0) {
			SKD_GL_ADD_MEMBER_free(am);
			e.code = SKD_CLIENT_ERR_INTERNAL;
			snprintf(e.msg, sizeof(e.msg), "cannot add a control");
			break;
		}
		SKD_GL_ADD_MEMBER_free(am);
		n++;
		(*done)++;
		e.code = SKD_CLIENT_OK;
		/* On a TTY, "n/N added" is updated in place. */
		if (tty) {
			fprintf(stderr, "\r%d/%d added", *done, total);
			fflush(stderr);
		}
	}
	if (tty && n > 0)
		fputc('\n', stderr);
	if (e.code != SKD_CLIENT_OK) {
		skd_cli_err(c->cmd, "%s line %d: %s", path, *lineno, e.msg);
		return skd_cli_exit_of(&e);
	}
	return SKD_EXIT_OK;
}

/*
 * skd glo add-member --members-file FILE: one glAddMember per member, in
 * requests of at most SKD_CLIENT_MAX_CONTROLS members each (the GLA
 * refuses a PKIData with more, RFC 5275 3.2.2 leaves the bound to it:
 * skd-gla(8), LIMITS), submitted one after the other, each answer checked
 * and printed.  With --out FILE and more than one request they are
 * written to FILE.1, FILE.2, ...  Exit: the worst of the requests.
 */
static int
glo_add_members_file(const struct skd_cli_ctx *c, const char *gl)
{
	struct skd_client_ident *id = NULL;
	struct skd_client_request *r = NULL;
	struct skd_client_error e = { 0 };
	const char *path = skd_cli_ctx_opt(c, "members-file");
	FILE *f;
	int rc, worst = SKD_EXIT_OK, total, done = 0, lineno = 0, k = 0;
	int n_req;

	if (skd_cli_ctx_opt(c, "member") != NULL) {
		skd_cli_err(c->cmd, "--member or --members-file, not both");
		return SKD_EXIT_USAGE;
	}
	if ((f = fopen(path, "r")) == NULL) {
		skd_cli_err(c->cmd, "%s: %s", path, strerror(errno));
		return SKD_EXIT_INPUT;
	}
	if ((total = count_members(f)) == 0) {
		skd_cli_err(c->cmd, "%s: no members", path);
		fclose(f);
		return SKD_EXIT_INPUT;
	}
	n_req = (total + SKD_CLIENT_MAX_CONTROLS - 1) /
	    SKD_CLIENT_MAX_CONTROLS;
	if ((rc = skd_cli_ctx_ident(c, &id)) != SKD_EXIT_OK)
		goto done;
	while (done < total) {
		if ((r = skd_client_request_new(&e)) == NULL) {
			rc = skd_cli_client_fail(c, &e);
			goto done;
		}
		if ((rc = add_members_chunk(c, r, gl, f, path, &lineno,
		    SKD_CLIENT_MAX_CONTROLS, &done, total)) != SKD_EXIT_OK)
			goto done;
		k++;
		if (n_req > 1)
			fprintf(stderr, "skd: %s: request %d of %d: members "
			    "%d to %d\n", c->cmd, k, n_req, done -
			    (done - 1) % SKD_CLIENT_MAX_CONTROLS, done);
		out_index = n_req > 1 ? k : 0;
		rc = skd_cli_run_request(c, r, id, gl);
		out_index = 0;
		skd_client_request_free(r);
		r = NULL;
		/* The GLA answered (maybe failed): go on with the rest; the
		 * directory or our own input failing ends it. */
		if (rc != SKD_EXIT_OK && rc != SKD_EXIT_FAIL) {
			worst = rc;
			goto done;
		}
		if (worst == SKD_EXIT_OK)
			worst = rc;
	}
	rc = worst;
 done:
	fclose(f);
	skd_client_request_free(r);
	skd_client_ident_free(id);
	return rc;
}

#define REVIEW_OPTS "cert key CAfile CRLfile uri base bind-dn " \
	"password-file env as json timeout gl name message"

/* A GLO's name: --name, else the certificate's first email SAN, else its
 * subject (dirName).  Caller frees with OPENSSL_free. */
char *
skd_cli_my_name(const struct skd_cli_ctx *c, X509 *cert)
{
	GENERAL_NAMES *gns;
	char *t = NULL;
	int i;

	if (skd_cli_ctx_opt(c, "name") != NULL)
		return OPENSSL_strdup(skd_cli_ctx_opt(c, "name"));
	if ((gns = skd_gname_from_cert(cert)) == NULL)
		return NULL;
	for (i = 0; i < sk_GENERAL_NAME_num(gns); i++) {
		if (sk_GENERAL_NAME_value(gns, i)->type == GEN_EMAIL)
			break;
	}
	if (i == sk_GENERAL_NAME_num(gns))
		i = 0;
	if (sk_GENERAL_NAME_num(gns) > 0)
		t = skd_gname_to_text(sk_GENERAL_NAME_value(gns, i));
	GENERAL_NAMES_free(gns);
	return t;
}

static void
print_forward(BIO *out, const char *mid, const struct skd_client_forward *f,
    int json)
{
	char fa[16], st[16];
	size_t i;

	skd_store_time_str(fa, f->forwarded_at);
	skd_store_time_str(st, f->signing_time);
	if (json) {
		BIO_printf(out, "{\"message\":\"%s\",\"gl\":", mid);
		skd_client_json_str(out, f->gl_name);
		BIO_puts(out, ",\"signer\":");
		skd_client_json_str(out, f->signer);
		BIO_printf(out, ",\"signingTime\":\"%s\",\"gla\":", st);
		skd_client_json_str(out, f->gla_subject);
		BIO_printf(out, ",\"forwardedAt\":\"%s\",\"controls\":[", fa);
		for (i = 0; i < f->n_controls; i++) {
			if (i > 0)
				BIO_puts(out, ",");
			skd_client_json_str(out, f->controls[i]);
		}
		BIO_puts(out, "]}");
		return;
	}
	BIO_printf(out, "message %s: %s asks", mid, f->gl_name);
	for (i = 0; i < f->n_controls; i++)
		BIO_printf(out, "%s %s", i > 0 ? "," : "", f->controls[i]);
	BIO_printf(out, "; signed by \"%s\" at %s; forwarded by GLA \"%s\" "
	    "at %s\n", f->signer, st, f->gla_subject, fa);
}

/*
 * skd glo pending / approve / deny: the forwarded requests addressed to
 * us (GLA messages of type "forward" naming our name, readable by our DN:
 * docs/directory.md), each verified before it is shown or acted on.
 */
static int
glo_review(const struct skd_cli_ctx *c, const char *sub)
{
	struct skd_client_error e = { 0 };
	struct skd_client_ident *id = NULL;
	struct skd_client_forward *f = NULL;
	struct skd_client_request *r = NULL;
	struct skd_client_expect nx;
	struct skd_store *s = NULL;
	struct skd_store_message *list = NULL;
	X509_STORE *trust = NULL;
	const char *gl = skd_cli_ctx_opt(c, "gl"), *mid;
	const char *reason = skd_cli_ctx_opt(c, "reason");
	unsigned char *der = NULL;
	size_t n = 0, i, der_len = 0, shown = 0;
	char *me = NULL;
	int rc, json = skd_cli_ctx_flag(c, "json"), found = 0;
	BIO *out = NULL;

	mid = skd_cli_ctx_opt(c, "message");
	if (strcmp(sub, "pending") != 0 && mid == NULL) {
		skd_cli_err(c->cmd, "--message ID is required (see skd glo "
		    "pending)");
		return SKD_EXIT_USAGE;
	}
	if (strcmp(sub, "deny") == 0 && reason == NULL) {
		skd_cli_err(c->cmd, "--reason TEXT is required");
		return SKD_EXIT_USAGE;
	}
	if ((rc = skd_cli_ctx_ident(c, &id)) != SKD_EXIT_OK)
		return rc;
	if ((me = skd_cli_my_name(c, id->cert)) == NULL) {
		skd_cli_err(c->cmd, "cannot tell our name from the "
		    "certificate: give --name NAME");
		rc = SKD_EXIT_USAGE;
		goto done;
	}
	if ((rc = skd_cli_ctx_trust(c, &trust)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK)
		goto done;
	if (!skd_store_find_messages(s, &list, &n, me)) {
		skd_cli_err(c->cmd, "reading the GLA's messages: %s",
		    skd_store_errmsg(s));
		rc = SKD_EXIT_DIRECTORY;
		goto done;
	}
	out = BIO_new_fp(stdout, BIO_NOCLOSE);
	if (json && strcmp(sub, "pending") == 0)
		BIO_puts(out, "[");
	for (i = 0; i < n; i++) {
		if (list[i].type == NULL || strcmp(list[i].type, "forward") != 0)
			continue;
		if (mid != NULL && strcmp(list[i].id, mid) != 0)
			continue;
		found = 1;
		skd_client_forward_free(f);
		f = NULL;
		if (!skd_client_forward_open(&f, list[i].message,
		    list[i].message_len, trust, time(NULL), id, &e)) {
			skd_cli_err(c->cmd, "message %s: %s", list[i].id, e.msg);
			rc = skd_cli_exit_of(&e);
			if (mid != NULL)
				goto done;
			continue;
		}
		if (gl != NULL) {
			GENERAL_NAME *a = skd_gname_from_text(gl);
			GENERAL_NAME *b = skd_gname_from_text(f->gl_name);
			int same = a != NULL && b != NULL &&
			    GENERAL_NAME_cmp(a, b) == 0;

			GENERAL_NAME_free(a);
			GENERAL_NAME_free(b);
			if (!same)
				continue;
		}
		if (strcmp(sub, "pending") == 0) {
			if (json && shown > 0)
				BIO_puts(out, ",");
			print_forward(out, list[i].id, f, json);
			shown++;
			continue;
		}
		if (strcmp(sub, "deny") == 0 &&
		    skd_cli_ctx_opt(c, "out") == NULL) {
			/* RFC 5275 3.2.4.1: through the GLA, which checks
			 * the forward is its own and publishes the denial
			 * for the member. */
			if (!skd_client_denial_request(&r, f, reason, id,
			    time(NULL), &e)) {
				rc = skd_cli_client_fail(c, &e);
				goto done;
			}
			BIO_flush(out);
			rc = skd_cli_run_request_ex(c, r, id, f->gl_name,
			    NULL);
			if (rc == SKD_EXIT_OK)
				fprintf(stderr, "skd: %s: denial of message %s "
				    "sent to the member through the GLA\n",
				    c->cmd, list[i].id);
			goto done;
		}
		if (strcmp(sub, "deny") == 0) {
			if (!skd_client_denial_build(&der, &der_len, f, reason,
			    id, time(NULL), &e)) {
				rc = skd_cli_client_fail(c, &e);
				goto done;
			}
			rc = skd_cli_write_file(c, skd_cli_ctx_opt(c, "out"),
			    der, der_len);
			if (rc == SKD_EXIT_OK)
				fprintf(stderr, "skd: %s: denial of message %s "
				    "written to %s; deliver it to the member "
				    "(skd-glo(1))\n", c->cmd, list[i].id,
				    skd_cli_ctx_opt(c, "out"));
			goto done;
		}
		/* RFC 5275 3.2.5: approve by resubmitting the forwarded
		 * message inside a PKIData we sign. */
		if (f->was_encrypted && !skd_cli_ctx_flag(c, "encrypt"))
			fprintf(stderr, "skd: %s: the member's request came "
			    "encrypted; consider --encrypt --gla-cert FILE "
			    "(RFC 5275 3.2.1.2)\n", c->cmd);
		if ((r = skd_client_request_new(&e)) == NULL ||
		    skd_client_request_add_cms(r, f->resubmit,
		    f->resubmit_len) == 0) {
			rc = e.code != SKD_CLIENT_OK ?
			    skd_cli_client_fail(c, &e) : SKD_EXIT_INTERNAL;
			goto done;
		}
		BIO_flush(out);
		memset(&nx, 0, sizeof(nx));
		nx.trust = trust;
		nx.now = time(NULL);
		nx.gl_name = f->gl_name;
		nx.nonce = f->nonce;
		nx.nonce_len = f->nonce_len;
		nx.tid = f->tid;
		nx.ident = id;
		rc = skd_cli_run_request_ex(c, r, id, f->gl_name, &nx);
		goto done;
	}
	if (json && strcmp(sub, "pending") == 0)
		BIO_puts(out, "]\n");
	if (mid != NULL && rc == SKD_EXIT_OK) {
		skd_cli_err(c->cmd, "no forwarded request %s addressed to %s",
		    mid, me);
		rc = found ? SKD_EXIT_FAIL : SKD_EXIT_INPUT;
	} else if (!json && shown == 0 && rc == SKD_EXIT_OK) {
		BIO_puts(out, "no forwarded requests\n");
	}
 done:
	BIO_free(out);
	OPENSSL_free(der);
	skd_client_request_free(r);
	skd_client_forward_free(f);
	skd_store_message_list_free(list, n);
	skd_store_close(s);
	X509_STORE_free(trust);
	OPENSSL_free(me);
	skd_client_ident_free(id);
	return rc;
}

/* ---- skd glo list / show: what the directory shows us (read-only) ---- */

#define VIEW_OPTS "cert key CAfile CRLfile uri base bind-dn " \
	"password-file env as json gl"

struct gl_names {
	char	**v;
	size_t	  n;
};

static int
collect_gl(void *arg, const char *name, const char *state)
{
	struct gl_names *l = arg;
	char **nv;

	(void)state;
	if ((nv = reallocarray(l->v, l->n + 1, sizeof(*nv))) == NULL)
		return 1;
	l->v = nv;
	if ((l->v[l->n] = strdup(name)) == NULL)
		return 1;
	l->n++;
	return 0;
}

static const char *
admin_str(int a)
{
	switch (a) {
	case SKD_GL_UNMANAGED:
		return "unmanaged";
	case SKD_GL_MANAGED:
		return "managed";
	case SKD_GL_CLOSED:
		return "closed";
	}
	return "unknown";
}

/* The short name of an algorithm OID text ("id-aes256-wrap"), else the
 * text itself; "none" for NULL. */
static const char *
alg_str(const char *oid)
{
	ASN1_OBJECT *o;
	int nid;

	if (oid == NULL)
		return "none";
	if ((o = OBJ_txt2obj(oid, 1)) == NULL)
		return oid;
	nid = OBJ_obj2nid(o);
	ASN1_OBJECT_free(o);
	return nid != NID_undef ? OBJ_nid2sn(nid) : oid;
}

/* A name as the store spells it (canonical GeneralName text), caller
 * frees with OPENSSL_free; NULL when name does not parse. */
static char *
canon_name(const char *name)
{
	GENERAL_NAME *gn;
	char *t;

	if ((gn = skd_gname_from_text(name)) == NULL)
		return NULL;
	t = skd_gname_to_text(gn);
	GENERAL_NAME_free(gn);
	return t;
}

static void
json_opt(BIO *out, const char *key, const char *v, int comma)
{
	BIO_printf(out, "%s\"%s\":", comma ? "," : "", key);
	if (v == NULL)
		BIO_puts(out, "null");
	else
		skd_client_json_str(out, v);
}

static void
print_gl_head(BIO *out, const struct skd_store_gl *g, int json)
{
	const char *st = g->state != NULL ? g->state : "active";

	if (json) {
		json_opt(out, "gl", g->name, 0);
		json_opt(out, "address", g->address, 1);
		BIO_printf(out, ",\"administration\":\"%s\",\"state\":",
		    admin_str(g->administration));
		skd_client_json_str(out, st);
		return;
	}
	BIO_printf(out, "%s\taddress %s\tadministration %s\tstate %s\n",
	    g->name, g->address != NULL ? g->address : "-",
	    admin_str(g->administration), st);
}

/*
 * skd glo list: the GLs the directory shows us bound as ourselves, i.e.
 * those we own (docs/directory.md, access control rule 12).
 */
static int
glo_list(const struct skd_cli_ctx *c)
{
	struct gl_names l = { NULL, 0 };
	struct skd_store *s = NULL;
	struct skd_store_gl *g = NULL;
	size_t i, shown = 0;
	int rc, json = skd_cli_ctx_flag(c, "json");
	BIO *out = NULL;

	if ((rc = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK)
		return rc;
	if (!skd_store_list_gls(s, collect_gl, &l, 0)) {
		skd_cli_err(c->cmd, "listing GLs: %s", skd_store_errmsg(s));
		rc = SKD_EXIT_DIRECTORY;
		goto done;
	}
	if ((out = BIO_new_fp(stdout, BIO_NOCLOSE)) == NULL) {
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	if (json)
		BIO_puts(out, "[");
	for (i = 0; i < l.n; i++) {
		if (!skd_store_read_gl(s, &g, l.v[i])) {
			/* Gone meanwhile, or listed but not readable. */
			if (skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND)
				continue;
			skd_cli_err(c->cmd, "reading %s: %s", l.v[i],
			    skd_store_errmsg(s));
			rc = SKD_EXIT_DIRECTORY;
			goto done;
		}
		if (json) {
			BIO_puts(out, shown > 0 ? ",{" : "{");
			print_gl_head(out, g, 1);
			BIO_puts(out, "}");
		} else {
			print_gl_head(out, g, 0);
		}
		shown++;
		skd_store_gl_free(g);
		g = NULL;
	}
	if (json)
		BIO_puts(out, "]\n");
	else if (shown == 0)
		BIO_puts(out, "no GLs owned by this identity\n");
	rc = SKD_EXIT_OK;
 done:
	BIO_free(out);
	skd_store_gl_free(g);
	for (i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	skd_store_close(s);
	return rc;
}

/* One outstanding key: its shards merged. */
struct show_key {
	const char	*key_id;	/* borrowed from the glkey list */
	time_t		 not_before;
	time_t		 not_after;
	size_t		 shards;
};

static int
show_key_cmp(const void *a, const void *b)
{
	const struct show_key *x = a, *y = b;

	if (x->not_before != y->not_before)
		return x->not_before < y->not_before ? -1 : 1;
	return strcmp(x->key_id, y->key_id);
}

static void
print_people(BIO *out, const char *what, const struct skd_store_member *v,
    size_t n, int members, int json)
{
	size_t i, j;

	if (json) {
		BIO_printf(out, ",\"%s\":[", what);
		for (i = 0; i < n; i++) {
			BIO_puts(out, i > 0 ? ",{" : "{");
			json_opt(out, "name", v[i].name, 0);
			json_opt(out, "address", v[i].address, 1);
			if (members) {
				BIO_puts(out, ",\"acknowledged\":[");
				for (j = 0; j < v[i].n_acks; j++) {
					if (j > 0)
						BIO_puts(out, ",");
					skd_client_json_str(out, v[i].acks[j]);
				}
				BIO_puts(out, "]");
			}
			BIO_puts(out, "}");
		}
		BIO_puts(out, "]");
		return;
	}
	BIO_printf(out, "%s (%zu):\n", what, n);
	for (i = 0; i < n; i++) {
		BIO_printf(out, "  %s", v[i].name);
		if (v[i].address != NULL)
			BIO_printf(out, "  address %s", v[i].address);
		if (members) {
			BIO_puts(out, "  acknowledged:");
			if (v[i].n_acks == 0)
				BIO_puts(out, " none");
			for (j = 0; j < v[i].n_acks; j++)
				BIO_printf(out, "%s %s", j > 0 ? "," : "",
				    v[i].acks[j]);
		}
		BIO_puts(out, "\n");
	}
}

/*
 * skd glo show --gl NAME: the GL entry, its owners and members (with the
 * key ids each acknowledged, RFC 5275 5.1 2.c) and its outstanding keys'
 * validity, as far as the directory lets us (an owner reads those, never
 * the wrapped keys: docs/directory.md rule 10).
 */
static int
glo_show(const struct skd_cli_ctx *c, const char *gl)
{
	struct skd_store *s = NULL;
	struct skd_store_gl *g = NULL;
	struct skd_store_member *owners = NULL, *members = NULL;
	struct skd_store_glkey *keys = NULL;
	struct show_key *sk = NULL;
	size_t n_owners = 0, n_members = 0, n_keys = 0, n_sk = 0, i, j;
	char *name = NULL, nb[16], na[16];
	const char *st;
	time_t now = time(NULL);
	int rc, json = skd_cli_ctx_flag(c, "json");
	BIO *out = NULL;

	if ((name = canon_name(gl)) == NULL) {
		skd_cli_err(c->cmd, "--gl %s: not a GeneralName (e.g. "
		    "URI:https://lists.example.com/staff)", gl);
		return SKD_EXIT_USAGE;
	}
	if ((rc = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK)
		goto done;
	if (!skd_store_read_gl(s, &g, name)) {
		if (skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND) {
			skd_cli_err(c->cmd, "%s: no such GL owned by this "
			    "identity", name);
			rc = SKD_EXIT_INPUT;
		} else {
			skd_cli_err(c->cmd, "reading %s: %s", name,
			    skd_store_errmsg(s));
			rc = SKD_EXIT_DIRECTORY;
		}
		goto done;
	}
	if (!skd_store_list_members(s, &owners, &n_owners, name,
	    SKD_STORE_OWNER) || !skd_store_list_members(s, &members,
	    &n_members, name, SKD_STORE_MEMBER) ||
	    !skd_store_find_glkeys(s, &keys, &n_keys, name, NULL)) {
		skd_cli_err(c->cmd, "reading %s: %s", name,
		    skd_store_errmsg(s));
		rc = SKD_EXIT_DIRECTORY;
		goto done;
	}
	if (n_keys > 0 && (sk = calloc(n_keys, sizeof(*sk))) == NULL) {
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	for (i = 0; i < n_keys; i++) {
		for (j = 0; j < n_sk; j++) {
			if (strcmp(sk[j].key_id, keys[i].key_id) == 0)
				break;
		}
		if (j == n_sk)
			sk[n_sk++].key_id = keys[i].key_id;
		sk[j].shards++;
		if (keys[i].not_before != 0)
			sk[j].not_before = keys[i].not_before;
		if (keys[i].not_after != 0)
			sk[j].not_after = keys[i].not_after;
	}
	if (n_sk > 1)
		qsort(sk, n_sk, sizeof(*sk), show_key_cmp);
	if ((out = BIO_new_fp(stdout, BIO_NOCLOSE)) == NULL) {
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	if (json) {
		BIO_puts(out, "{");
		print_gl_head(out, g, 1);
		BIO_printf(out, ",\"rekeyControlledBy\":\"%s\","
		    "\"recipientsMutuallyAware\":%s,\"duration\":%d,"
		    "\"generationCounter\":%d,\"algorithm\":",
		    g->rekey_by_glo ? "GLO" : "GLA",
		    g->not_mutually_aware ? "false" : "true", g->duration,
		    g->generation_counter);
		skd_client_json_str(out, alg_str(g->key_alg));
	} else {
		BIO_printf(out, "GL:                  %s\n", g->name);
		BIO_printf(out, "address:             %s\n", g->address != NULL ?
		    g->address : "-");
		BIO_printf(out, "administration:      %s\n",
		    admin_str(g->administration));
		BIO_printf(out, "state:               %s\n", g->state != NULL ?
		    g->state : "active");
		BIO_printf(out, "rekey controlled by: %s\n", g->rekey_by_glo ?
		    "GLO" : "GLA");
		BIO_printf(out, "recipients:          %s\n",
		    g->not_mutually_aware ? "not mutually aware" :
		    "mutually aware");
		BIO_printf(out, "duration:            %d days\n", g->duration);
		BIO_printf(out, "generationCounter:   %d\n",
		    g->generation_counter);
		BIO_printf(out, "algorithm:           %s\n",
		    alg_str(g->key_alg));
	}
	print_people(out, "owners", owners, n_owners, 0, json);
	print_people(out, "members", members, n_members, 1, json);
	if (json)
		BIO_puts(out, ",\"keys\":[");
	else
		BIO_printf(out, "keys (%zu):\n", n_sk);
	for (i = 0; i < n_sk; i++) {
		nb[0] = na[0] = '\0';
		if (sk[i].not_before != 0)
			skd_store_time_str(nb, sk[i].not_before);
		if (sk[i].not_after != 0)
			skd_store_time_str(na, sk[i].not_after);
		st = sk[i].not_before != 0 && now < sk[i].not_before ?
		    "future" : sk[i].not_after != 0 &&
		    now >= sk[i].not_after ? "expired" : "valid";
		if (json) {
			BIO_printf(out, "%s{\"keyId\":\"%s\",\"notBefore\":"
			    "\"%s\",\"notAfter\":\"%s\",\"shards\":%zu,"
			    "\"status\":\"%s\"}", i > 0 ? "," : "",
			    sk[i].key_id, nb, na, sk[i].shards, st);
		} else {
			BIO_printf(out, "  %s  notBefore %s  notAfter %s  "
			    "shards %zu  %s\n", sk[i].key_id,
			    nb[0] != '\0' ? nb : "-", na[0] != '\0' ? na : "-",
			    sk[i].shards, st);
		}
	}
	if (json)
		BIO_puts(out, "]}\n");
	rc = SKD_EXIT_OK;
 done:
	BIO_free(out);
	free(sk);
	skd_store_glkey_list_free(keys, n_keys);
	skd_store_member_list_free(members, n_members);
	skd_store_member_list_free(owners, n_owners);
	skd_store_gl_free(g);
	skd_store_close(s);
	OPENSSL_free(name);
	return rc;
}

/* Builds the sub's controls into r; returns an exit code. */
static int
glo_build(const struct skd_cli_ctx *c, const char *sub,
    struct skd_client_request *r, const struct skd_client_ident *id,
    const char *gl)
{
	struct skd_client_error e = { 0 };
	struct skd_client_gl_params p;
	struct skd_client_party party, *owners = NULL;
	const char *const *names;
	size_t n, i;
	X509 *cert = NULL;
	void *v = NULL;
	enum skd_oid oid;
	int rc;

	memset(&party, 0, sizeof(party));
	if (strcmp(sub, "create") == 0) {
		if ((rc = parse_keyattrs(c, &p)) != SKD_EXIT_OK)
			return rc;
		p.name = gl;
		p.address = skd_cli_ctx_opt(c, "address");
		if ((n = skd_cli_ctx_multi(c, "owner", &names)) == 0) {
			skd_cli_err(c->cmd, "--owner NAME is required "
			    "(RFC 5275 3.1.1: at least one GL owner)");
			return SKD_EXIT_USAGE;
		}
		if ((rc = skd_cli_ctx_cert(c, "owner-cert", &cert)) !=
		    SKD_EXIT_OK)
			return rc;
		if ((owners = calloc(n, sizeof(*owners))) == NULL) {
			X509_free(cert);
			return SKD_EXIT_INTERNAL;
		}
		for (i = 0; i < n; i++)
			owners[i].name = names[i];
		/* The first owner's certificate: --owner-cert, else ours. */
		owners[0].cert = cert != NULL ? cert : id->cert;
		owners[0].address = skd_cli_ctx_opt(c, "owner-address");
		v = skd_client_new_use_kek(&p, owners, n, &e);
		free(owners);
		oid = SKD_OID_GL_USE_KEK;
	} else if (strcmp(sub, "delete") == 0) {
		v = skd_client_new_gname(gl, &e);
		oid = SKD_OID_GL_DELETE;
	} else if (strcmp(sub, "compromise") == 0) {
		v = skd_client_new_gname(gl, &e);
		oid = SKD_OID_GL_KEY_COMPROMISE;
	} else if (strcmp(sub, "add-member") == 0) {
		if ((party.name = skd_cli_ctx_opt(c, "member")) == NULL) {
			skd_cli_err(c->cmd, "--member NAME or --members-file "
			    "FILE is required");
			return SKD_EXIT_USAGE;
		}
		if ((rc = skd_cli_ctx_cert(c, "member-cert", &cert)) !=
		    SKD_EXIT_OK)
			return rc;
		party.cert = cert;
		party.address = skd_cli_ctx_opt(c, "member-address");
		v = skd_client_new_add_member(gl, &party, &e);
		oid = SKD_OID_GL_ADD_MEMBER;
	} else if (strcmp(sub, "remove-member") == 0) {
		if ((rc = skd_cli_ctx_need(c, "member", "NAME", "",
		    &party.name)) != SKD_EXIT_OK)
			return rc;
		v = skd_client_new_delete_member(gl, party.name, &e);
		oid = SKD_OID_GL_DELETE_MEMBER;
	} else if (strcmp(sub, "provide-cert") == 0) {
		/* RFC 5275 4.10.1: glProvideCert (a GLManageCert without a
		 * certificate) to the GLA, which asks the member. */
		if ((rc = skd_cli_ctx_need(c, "member", "NAME", "",
		    &party.name)) != SKD_EXIT_OK)
			return rc;
		v = skd_client_new_add_member(gl, &party, &e);
		oid = SKD_OID_GL_PROVIDE_CERT;
	} else if (strcmp(sub, "add-owner") == 0 ||
	    strcmp(sub, "remove-owner") == 0) {
		if ((rc = skd_cli_ctx_need(c, "owner", "NAME", "",
		    &party.name)) != SKD_EXIT_OK)
			return rc;
		if ((rc = skd_cli_ctx_cert(c, "owner-cert", &cert)) !=
		    SKD_EXIT_OK)
			return rc;
		party.cert = cert;
		party.address = skd_cli_ctx_opt(c, "owner-address");
		v = skd_client_new_owner_admin(gl, &party, &e);
		oid = sub[0] == 'a' ? SKD_OID_GL_ADD_OWNER :
		    SKD_OID_GL_REMOVE_OWNER;
	} else if (strcmp(sub, "rekey") == 0) {
		if ((rc = parse_keyattrs(c, &p)) != SKD_EXIT_OK)
			return rc;
		v = skd_client_new_rekey(gl, &p, skd_cli_ctx_flag(c,
		    "all-keys") ? 1 : -1, &e);
		oid = SKD_OID_GL_REKEY;
	} else {
		v = skd_client_new_alg_query(&e);
		oid = SKD_OID_GLA_QUERY_REQUEST;
	}
	X509_free(cert);
	if (v == NULL)
		return skd_cli_client_fail(c, &e);
	rc = skd_client_request_add(r, oid, v) > 0 ? SKD_EXIT_OK :
	    SKD_EXIT_INTERNAL;
	ASN1_item_free(v, ASN1_ITEM_ptr(skd_control_by_nid(
	    skd_asn1_nid(oid))->item));
	return rc;
}

/* pending, approve, deny: the requests forwarded to us (3.2.3-3.2.5). */
static int
glo_run_review(const struct skd_cli_ctx *c, const struct skd_cli_sub *sub)
{
	int rc;

	if ((rc = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK)
		return rc;
	return glo_review(c, sub->name);
}

static int
glo_run_list(const struct skd_cli_ctx *c, const struct skd_cli_sub *sub)
{
	int rc;

	(void)sub;
	if ((rc = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK)
		return rc;
	return glo_list(c);
}

static int
glo_run_show(const struct skd_cli_ctx *c, const struct skd_cli_sub *sub)
{
	const char *gl;
	int rc;

	(void)sub;
	if ((rc = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_need(c, "gl", "NAME", "", &gl)) != SKD_EXIT_OK)
		return rc;
	return glo_show(c, gl);
}

/* The requests to the GLA (4.1-4.9): --gl where sub takes it. */
static int
glo_run_request(const struct skd_cli_ctx *c, const struct skd_cli_sub *sub)
{
	const char *gl = NULL;
	int rc;

	if (word_in(sub->allowed, "gl") && (rc = skd_cli_ctx_need(c, "gl",
	    "NAME", " (e.g. URI:https://lists.example.com/staff)", &gl)) !=
	    SKD_EXIT_OK)
		return rc;
	if ((rc = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK)
		return rc;
	if (strcmp(sub->name, "add-member") == 0 &&
	    skd_cli_ctx_opt(c, "members-file") != NULL)
		return glo_add_members_file(c, gl);
	return skd_cli_submit(c, sub->name, gl, glo_build);
}

static const struct skd_cli_sub glo_subs[] = {
	{ "create", SKD_CLI_REQ_OPTS " gl address owner owner-cert "
	    "owner-address " KEYATTR_OPTS, glo_run_request },
	{ "delete", SKD_CLI_REQ_OPTS " gl", glo_run_request },
	{ "add-member", SKD_CLI_REQ_OPTS " gl member member-cert "
	    "member-address members-file", glo_run_request },
	{ "remove-member", SKD_CLI_REQ_OPTS " gl member", glo_run_request },
	{ "provide-cert", SKD_CLI_REQ_OPTS " gl member", glo_run_request },
	{ "add-owner", SKD_CLI_REQ_OPTS " gl owner owner-cert owner-address",
	    glo_run_request },
	{ "remove-owner", SKD_CLI_REQ_OPTS " gl owner owner-cert "
	    "owner-address", glo_run_request },
	{ "rekey", SKD_CLI_REQ_OPTS " gl all-keys " KEYATTR_OPTS,
	    glo_run_request },
	{ "compromise", SKD_CLI_REQ_OPTS " gl", glo_run_request },
	{ "query-algs", SKD_CLI_REQ_OPTS, glo_run_request },
	{ "pending", REVIEW_OPTS, glo_run_review },
	{ "list", VIEW_OPTS, glo_run_list },
	{ "show", VIEW_OPTS, glo_run_show },
	{ "approve", SKD_CLI_REQ_OPTS " gl name message", glo_run_review },
	{ "deny", REVIEW_OPTS " reason out encrypt gla-cert outer-sign",
	    glo_run_review },
};

int
skd_cli_glo(int argc, char **argv)
{
	return skd_cli_dispatch("glo", glo_subs,
	    sizeof(glo_subs) / sizeof(glo_subs[0]), glo_usage, argc, argv);
}
