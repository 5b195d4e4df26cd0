/*
 * cli_sub.c: what every subcommand shares: the options (long ones and
 * OpenLDAP's short ones), the env file, exit codes, the identity, trust
 * anchors and directory session they name; and the dispatcher "skd glo",
 * "skd member" and "skd request" share: look the subcommand up in a
 * table, parse its options, check the common operands.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

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
	/* mail transport (cli_mail.c); --starttls is SMTP's */
	{ "mail-to", required_argument }, { "mail-from", required_argument },
	{ "smtp", required_argument }, { "starttls", no_argument },
	{ "sendmail", required_argument }, { "mail", required_argument },
	/* the directory: -Z/-ZZ, -Y (OpenLDAP's tools), --id */
	{ "ldap-starttls", no_argument }, { "sasl-mech", required_argument },
	{ "id", required_argument },
	/* skd keygen (cli_keygen.c) */
	{ "type", required_argument }, { "subject", required_argument },
	{ "shroud", required_argument },
	{ "shroud-cert", required_argument },
	{ "shroud-key", required_argument }, { "no-archive", no_argument },
	{ "out-cert", required_argument }, { "template", required_argument },
	/* skd admin enroll-secret, skd keygen --secret-id (cli_keygen.c) */
	{ "secret-id", required_argument }, { "identity", required_argument },
	{ "expires", required_argument }, { "secret-fd", required_argument },
	/* skd admin recover (cli_recover.c), skd ra (cli_ra.c) */
	{ "target-cert", required_argument },
	{ "expect-subject", required_argument },
	{ "request-out", required_argument }, { "answer", required_argument },
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
	{ 'y', "password-file" }, { 'Z', "ldap-starttls" }, { 'Y', "sasl-mech" },
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

int
skd_cli_word_in(const char *list, const char *w)
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
		if (k != 0 && !skd_cli_word_in(allowed, all_opts[k].name) &&
		    !(skd_cli_word_in(allowed, "uri") && (strcmp(all_opts[k].name,
		    "ldap-starttls") == 0 || strcmp(all_opts[k].name,
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
	if (skd_cli_word_in(allowed, "uri")) {
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
	conf.tls = skd_cli_ctx_flag(c, "ldap-starttls") ?
	    SKD_STORE_TLS_STARTTLS :
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

/* ---- dispatch ---- */

int
skd_cli_dispatch(const char *cmd, const struct skd_cli_sub *subs,
    size_t n_subs, const char *usage, int argc, char **argv)
{
	struct skd_cli_ctx *c;
	const struct skd_cli_sub *sub = NULL;
	char name[64];
	size_t i;
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? SKD_EXIT_USAGE : SKD_EXIT_OK;
	}
	for (i = 0; i < n_subs; i++) {
		if (strcmp(argv[1], subs[i].name) == 0)
			sub = &subs[i];
	}
	if (sub == NULL) {
		skd_cli_err(cmd, "unknown subcommand '%s' (try skd %s --help)",
		    argv[1], cmd);
		return SKD_EXIT_USAGE;
	}
	snprintf(name, sizeof(name), "%s %s", cmd, sub->name);
	if ((c = skd_cli_ctx_parse(name, argc - 1, argv + 1, sub->allowed,
	    usage, &rc)) == NULL)
		return rc;
	rc = sub->run(c, sub);
	skd_cli_ctx_free(c);
	return rc;
}

int
skd_cli_ctx_no_args(const struct skd_cli_ctx *c)
{
	char **args;

	if (skd_cli_ctx_args(c, &args) != 0) {
		skd_cli_err(skd_cli_ctx_cmd(c), "unexpected argument '%s'",
		    args[0]);
		return SKD_EXIT_USAGE;
	}
	return SKD_EXIT_OK;
}

int
skd_cli_ctx_need(const struct skd_cli_ctx *c, const char *opt,
    const char *meta, const char *hint, const char **out)
{
	if ((*out = skd_cli_ctx_opt(c, opt)) == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--%s %s is required%s", opt,
		    meta, hint);
		return SKD_EXIT_USAGE;
	}
	return SKD_EXIT_OK;
}

int
skd_cli_submit(const struct skd_cli_ctx *c, const char *sub, const char *gl,
    skd_cli_build_fn build)
{
	struct skd_client_ident *id = NULL;
	struct skd_client_request *r = NULL;
	struct skd_client_error e = { 0 };
	int rc;

	if ((rc = skd_cli_ctx_ident(c, &id)) != SKD_EXIT_OK)
		goto done;
	if ((r = skd_client_request_new(&e)) == NULL) {
		rc = skd_cli_client_fail(c, &e);
		goto done;
	}
	if ((rc = build(c, sub, r, id, gl)) != SKD_EXIT_OK)
		goto done;
	rc = skd_cli_run_request(c, r, id, gl);
 done:
	skd_client_request_free(r);
	skd_client_ident_free(id);
	return rc;
}
