/*
 * libskd.c: the public facade (<skd/skd.h>) over client, cms and store.
 * Thin: every function converts its arguments, calls the module that owns
 * the work and turns a struct skd_client_error into this thread's error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "client/skd_client.h"
#include "skd/skd.h"

#define MAX_FUTURE	300L		/* clock skew allowed, seconds */
#define MAX_AGE		(400L * 86400)	/* oldest glKey signingTime */

struct skd_member_st {
	struct skd_client_ident	*ident;
	X509_STORE		*trust;
	char			*name;
};

struct skd_unlock_st {
	skd_passphrase_cb	*cb;
	void			*arg;
	const SKD_MEMBER	*member;
	int			 protect;	/* SKD_PROTECT_* */
};

/* A key as the application sees it: a view of the client's record. */
struct skd_key_st {
	const struct skd_client_key	*k;
};

struct skd_keystore_st {
	struct skd_client_keystore	*ks;
	struct skd_key_st		*views;	/* rebuilt when stale */
	size_t				 n_views;
};

struct skd_dir_st {
	struct skd_store	*s;
	char			*bind_dn;
};

/* ---- errors ---- */

static _Thread_local int err_code;
static _Thread_local char err_msg[256];

static int
fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(int code, const char *fmt, ...)
{
	va_list ap;

	err_code = code;
	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return 0;
}

static int
code_of(enum skd_client_err e)
{
	switch (e) {
	case SKD_CLIENT_OK:
		return SKD_OK;
	case SKD_CLIENT_ERR_INPUT:
		return SKD_ERR_INPUT;
	case SKD_CLIENT_ERR_KEY_MISMATCH:
		return SKD_ERR_KEY_MISMATCH;
	case SKD_CLIENT_ERR_CRYPTO:
	case SKD_CLIENT_ERR_NONCE:
		return SKD_ERR_CRYPTO;
	case SKD_CLIENT_ERR_NAME:
		return SKD_ERR_NAME;
	case SKD_CLIENT_ERR_TIME:
		return SKD_ERR_TIME;
	case SKD_CLIENT_ERR_GLA_BINDING:
		return SKD_ERR_GLA_BINDING;
	case SKD_CLIENT_ERR_KEYSTORE:
		return SKD_ERR_KEYSTORE;
	case SKD_CLIENT_ERR_NO_KEY:
		return SKD_ERR_NO_KEY;
	case SKD_CLIENT_ERR_DIRECTORY:
	case SKD_CLIENT_ERR_TIMEOUT:
		return SKD_ERR_DIRECTORY;
	default:
		return SKD_ERR_INTERNAL;
	}
}

static int
fail_client(const struct skd_client_error *e)
{
	return fail(code_of(e->code), "%s", e->msg[0] != '\0' ? e->msg :
	    skd_client_err_name(e->code));
}

int
skd_error_code(void)
{
	return err_code;
}

const char *
skd_error_message(void)
{
	return err_code == SKD_OK ? "success" : err_msg;
}

const char *
skd_error_name(int code)
{
	static const char *const names[] = {
		"ok", "input", "key mismatch", "crypto", "name", "time",
		"GLA binding", "key store", "no key", "directory", "argument",
		"internal",
	};

	if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[code];
}

void
skd_error_clear(void)
{
	err_code = SKD_OK;
	err_msg[0] = '\0';
}

void
skd_free(void *p, size_t len)
{
	OPENSSL_clear_free(p, len);
}

unsigned long
skd_version(void)
{
	return SKD_VERSION_NUMBER;
}

const char *
skd_version_text(void)
{
	return SKD_VERSION_TEXT;
}

/* ---- member ---- */

/* The first email subjectAltName of cert, else its first name (text). */
static char *
default_name(X509 *cert)
{
	GENERAL_NAMES *gns;
	char *t = NULL;
	int i, n;

	if ((gns = skd_gname_from_cert(cert)) == NULL)
		return NULL;
	n = sk_GENERAL_NAME_num(gns);
	for (i = 0; i < n; i++) {
		if (sk_GENERAL_NAME_value(gns, i)->type == GEN_EMAIL)
			break;
	}
	if (n > 0)
		t = skd_gname_to_text(sk_GENERAL_NAME_value(gns, i < n ? i :
		    0));
	GENERAL_NAMES_free(gns);
	return t;
}

SKD_MEMBER *
skd_member_load(const char *cert_file, const char *key_file,
    const char *ca_file, const char *crl_file)
{
	struct skd_client_error e = { 0 };
	SKD_MEMBER *m;

	if (cert_file == NULL || key_file == NULL || ca_file == NULL) {
		fail(SKD_ERR_ARGUMENT, "certificate, key and CA files are "
		    "required");
		return NULL;
	}
	if ((m = OPENSSL_zalloc(sizeof(*m))) == NULL) {
		fail(SKD_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	if ((m->ident = skd_client_ident_load(cert_file, key_file, &e)) ==
	    NULL) {
		fail_client(&e);
		goto err;
	}
	if ((m->trust = skd_cms_store_new(ca_file, crl_file)) == NULL) {
		fail(SKD_ERR_INPUT, "cannot load trust anchors from %s%s%s",
		    ca_file, crl_file != NULL ? " or CRLs from " : "",
		    crl_file != NULL ? crl_file : "");
		goto err;
	}
	if ((m->name = default_name(m->ident->cert)) == NULL) {
		fail(SKD_ERR_INPUT, "%s: the certificate names nobody "
		    "(set a name with skd_member_set1_name)", cert_file);
		goto err;
	}
	return m;
 err:
	skd_member_free(m);
	return NULL;
}

void
skd_member_free(SKD_MEMBER *m)
{
	if (m == NULL)
		return;
	skd_client_ident_free(m->ident);
	X509_STORE_free(m->trust);
	OPENSSL_free(m->name);
	OPENSSL_free(m);
}

int
skd_member_set1_name(SKD_MEMBER *m, const char *name)
{
	GENERAL_NAME *g;
	char *t;

	if (m == NULL || name == NULL)
		return fail(SKD_ERR_ARGUMENT, "no member or name");
	if ((g = skd_gname_from_text(name)) == NULL)
		return fail(SKD_ERR_INPUT, "%s: not a name (e.g. email:a@b)",
		    name);
	GENERAL_NAME_free(g);
	if ((t = OPENSSL_strdup(name)) == NULL)
		return fail(SKD_ERR_INTERNAL, "out of memory");
	OPENSSL_free(m->name);
	m->name = t;
	return 1;
}

const char *
skd_member_get0_name(const SKD_MEMBER *m)
{
	return m != NULL ? m->name : NULL;
}

/* ---- key store ---- */

SKD_UNLOCK *
skd_unlock_new(void)
{
	SKD_UNLOCK *u = OPENSSL_zalloc(sizeof(*u));

	if (u == NULL)
		fail(SKD_ERR_INTERNAL, "out of memory");
	return u;
}

void
skd_unlock_free(SKD_UNLOCK *u)
{
	OPENSSL_free(u);
}

int
skd_unlock_set_passphrase_cb(SKD_UNLOCK *u, skd_passphrase_cb *cb,
    void *arg)
{
	if (u == NULL)
		return fail(SKD_ERR_ARGUMENT, "no unlock options");
	u->cb = cb;
	u->arg = arg;
	return 1;
}

int
skd_unlock_set0_member(SKD_UNLOCK *u, const SKD_MEMBER *m)
{
	if (u == NULL)
		return fail(SKD_ERR_ARGUMENT, "no unlock options");
	u->member = m;
	return 1;
}

int
skd_unlock_set_protection(SKD_UNLOCK *u, int how)
{
	if (u == NULL || how < SKD_PROTECT_AUTO ||
	    how > SKD_PROTECT_CERTIFICATE)
		return fail(SKD_ERR_ARGUMENT, "no unlock options, or an "
		    "unknown protection");
	u->protect = how;
	return 1;
}

/* The client's passphrase source over the application's callback. */
static int
passphrase_adapter(char *buf, size_t size, size_t *out_len, int confirm,
    const char **why, void *arg)
{
	const SKD_UNLOCK *u = arg;

	if (!u->cb(buf, size, out_len, confirm, u->arg)) {
		*why = "the application gave no passphrase";
		return 0;
	}
	if (*out_len >= size)
		*out_len = strlen(buf);
	return 1;
}

SKD_KEYSTORE *
skd_keystore_open(const char *path, unsigned int flags,
    const SKD_UNLOCK *unlock)
{
	struct skd_client_error e = { 0 };
	struct skd_client_ks_auth a;
	SKD_KEYSTORE *ks;

	if (path == NULL) {
		fail(SKD_ERR_ARGUMENT, "no key store path");
		return NULL;
	}
	memset(&a, 0, sizeof(a));
	if (unlock != NULL) {
		if (unlock->cb != NULL) {
			a.passphrase = passphrase_adapter;
			a.arg = (void *)unlock;
		}
		if (unlock->member != NULL)
			a.ident = unlock->member->ident;
		a.protect = unlock->protect == SKD_PROTECT_PASSPHRASE ?
		    SKD_CLIENT_KS_PASSPHRASE : unlock->protect ==
		    SKD_PROTECT_CERTIFICATE ? SKD_CLIENT_KS_CERT :
		    SKD_CLIENT_KS_AUTO;
	}
	a.no_migrate = (flags & SKD_KEYSTORE_NO_MIGRATE) != 0;
	if ((ks = OPENSSL_zalloc(sizeof(*ks))) == NULL) {
		fail(SKD_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	if ((ks->ks = skd_client_keystore_open(path,
	    (flags & SKD_KEYSTORE_CREATE) != 0 ? SKD_CLIENT_KS_CREATE : 0, &a,
	    &e)) == NULL) {
		fail_client(&e);
		OPENSSL_free(ks);
		return NULL;
	}
	return ks;
}

void
skd_keystore_free(SKD_KEYSTORE *ks)
{
	if (ks == NULL)
		return;
	skd_client_keystore_free(ks->ks);
	OPENSSL_free(ks->views);
	OPENSSL_free(ks);
}

size_t
skd_keystore_get_count(const SKD_KEYSTORE *ks)
{
	return ks != NULL ? skd_client_keystore_count(ks->ks) : 0;
}

/* Brings ks->views in line with the store (keys are only ever added, and
 * the client's records may move when the store grows). */
static int
views_sync(SKD_KEYSTORE *ks)
{
	size_t n = skd_client_keystore_count(ks->ks), i;
	struct skd_key_st *v;

	if (n != ks->n_views) {
		if ((v = OPENSSL_realloc(ks->views, (n > 0 ? n : 1) *
		    sizeof(*v))) == NULL)
			return fail(SKD_ERR_INTERNAL, "out of memory");
		ks->views = v;
		ks->n_views = n;
	}
	for (i = 0; i < n; i++)
		ks->views[i].k = skd_client_keystore_at(ks->ks, i);
	return 1;
}

const SKD_KEY *
skd_keystore_get0_key(const SKD_KEYSTORE *cks, size_t i)
{
	SKD_KEYSTORE *ks = (SKD_KEYSTORE *)cks;	/* the views are a cache */

	if (ks == NULL || !views_sync(ks) || i >= ks->n_views)
		return NULL;
	return &ks->views[i];
}

const SKD_KEY *
skd_keystore_get0_current(const SKD_KEYSTORE *cks, const char *gl)
{
	SKD_KEYSTORE *ks = (SKD_KEYSTORE *)cks;
	const struct skd_client_key *k;
	size_t i;

	if (ks == NULL || gl == NULL) {
		fail(SKD_ERR_ARGUMENT, "no key store or GL");
		return NULL;
	}
	if ((k = skd_client_keystore_current(ks->ks, gl, time(NULL))) ==
	    NULL) {
		fail(SKD_ERR_NO_KEY, "no key of %s valid now", gl);
		return NULL;
	}
	if (!views_sync(ks))
		return NULL;
	for (i = 0; i < ks->n_views; i++) {
		if (ks->views[i].k == k)
			return &ks->views[i];
	}
	fail(SKD_ERR_INTERNAL, "key store views out of step");
	return NULL;
}

void
skd_names_free(char **names, size_t n)
{
	size_t i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		OPENSSL_free(names[i]);
	OPENSSL_free(names);
}

/* Appends a copy of name to *v unless it is there already. */
static int
names_add(char ***v, size_t *n, const char *name)
{
	char **nv;
	size_t i;

	for (i = 0; i < *n; i++) {
		if (strcmp((*v)[i], name) == 0)
			return 1;
	}
	if ((nv = OPENSSL_realloc(*v, (*n + 1) * sizeof(*nv))) == NULL)
		return 0;
	*v = nv;
	if ((nv[*n] = OPENSSL_strdup(name)) == NULL)
		return 0;
	(*n)++;
	return 1;
}

int
skd_keystore_get1_gls(const SKD_KEYSTORE *ks, char ***out_names,
    size_t *out_n)
{
	char **v = NULL;
	size_t n = 0, i;

	if (ks == NULL || out_names == NULL || out_n == NULL)
		return fail(SKD_ERR_ARGUMENT, "no key store or output");
	for (i = 0; i < skd_client_keystore_count(ks->ks); i++) {
		if (!names_add(&v, &n, skd_client_keystore_at(ks->ks,
		    i)->gl_name)) {
			skd_names_free(v, n);
			return fail(SKD_ERR_INTERNAL, "out of memory");
		}
	}
	*out_names = v;
	*out_n = n;
	return 1;
}

const char *
skd_key_get0_gl(const SKD_KEY *k)
{
	return k != NULL ? k->k->gl_name : NULL;
}

const char *
skd_key_get0_gla(const SKD_KEY *k)
{
	return k != NULL ? k->k->gla_subject : NULL;
}

const unsigned char *
skd_key_get0_id(const SKD_KEY *k, size_t *out_len)
{
	if (k == NULL)
		return NULL;
	if (out_len != NULL)
		*out_len = k->k->key_id_len;
	return k->k->key_id;
}

const char *
skd_key_get0_algorithm(const SKD_KEY *k)
{
	return k != NULL ? OBJ_nid2sn(k->k->alg_nid) : NULL;
}

time_t
skd_key_get_not_before(const SKD_KEY *k)
{
	return k != NULL ? k->k->not_before : 0;
}

time_t
skd_key_get_not_after(const SKD_KEY *k)
{
	return k != NULL ? k->k->not_after : 0;
}

/* ---- directory ---- */

SKD_DIR *
skd_dir_open(const char *uri, const char *base_dn, const char *bind_dn,
    const char *password, unsigned int flags, const char *tls_ca_file)
{
	struct skd_store_conf conf;
	enum skd_store_err se = SKD_STORE_OK;
	char why[256] = "";
	SKD_DIR *d;

	if (uri == NULL || base_dn == NULL) {
		fail(SKD_ERR_ARGUMENT, "a directory URI and base DN are "
		    "required");
		return NULL;
	}
	if ((flags & SKD_DIR_SASL_EXTERNAL) == 0 && bind_dn == NULL) {
		fail(SKD_ERR_ARGUMENT, "%s: a bind DN is needed (or "
		    "SKD_DIR_SASL_EXTERNAL)", uri);
		return NULL;
	}
	if ((d = OPENSSL_zalloc(sizeof(*d))) == NULL) {
		fail(SKD_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	memset(&conf, 0, sizeof(conf));
	conf.uri = uri;
	conf.base_dn = base_dn;
	conf.bind = (flags & SKD_DIR_SASL_EXTERNAL) != 0 ?
	    SKD_STORE_BIND_EXTERNAL : SKD_STORE_BIND_SIMPLE;
	conf.bind_dn = bind_dn;
	conf.password = password;
	conf.tls = (flags & SKD_DIR_STARTTLS) != 0 ? SKD_STORE_TLS_STARTTLS :
	    strncmp(uri, "ldaps:", 6) == 0 ? SKD_STORE_TLS_LDAPS :
	    SKD_STORE_TLS_NONE;
	conf.tls_ca_file = tls_ca_file;
	/* An unreachable server is reported at once; the application
	 * decides whether to try again. */
	conf.fail_fast = 1;
	if ((d->s = skd_store_open_conf(&se, why, sizeof(why), &conf)) ==
	    NULL) {
		fail(SKD_ERR_DIRECTORY, "directory %s: %s", uri, why[0] !=
		    '\0' ? why : skd_store_err_str(se));
		goto err;
	}
	if (bind_dn != NULL && (d->bind_dn = OPENSSL_strdup(bind_dn)) ==
	    NULL) {
		fail(SKD_ERR_INTERNAL, "out of memory");
		goto err;
	}
	return d;
 err:
	skd_dir_close(d);
	return NULL;
}

void
skd_dir_close(SKD_DIR *d)
{
	if (d == NULL)
		return;
	skd_store_close(d->s);
	OPENSSL_free(d->bind_dn);
	OPENSSL_free(d);
}

struct gl_list {
	char	**v;
	size_t	  n;
	int	  oom;
};

static int
collect_gl(void *arg, const char *name, const char *state)
{
	struct gl_list *l = arg;

	if (state != NULL && strcmp(state, "deleted") == 0)
		return 0;
	if (!names_add(&l->v, &l->n, name)) {
		l->oom = 1;
		return 1;
	}
	return 0;
}

int
skd_dir_get1_gls(SKD_DIR *d, char ***out_names, size_t *out_n)
{
	struct gl_list l = { NULL, 0, 0 };

	if (d == NULL || out_names == NULL || out_n == NULL)
		return fail(SKD_ERR_ARGUMENT, "no directory or output");
	if (!skd_store_list_gls(d->s, collect_gl, &l, 0) || l.oom) {
		skd_names_free(l.v, l.n);
		return l.oom ? fail(SKD_ERR_INTERNAL, "out of memory") :
		    fail(SKD_ERR_DIRECTORY, "listing GLs: %s",
		    skd_store_errmsg(d->s));
	}
	*out_names = l.v;
	*out_n = l.n;
	return 1;
}

static int
glkey_older(const void *a, const void *b)
{
	const struct skd_store_glkey *x = a, *y = b;

	return x->not_before < y->not_before ? -1 :
	    x->not_before > y->not_before;
}

/* RFC 5275 5.1: fetch, verify, unwrap, store, acknowledge. */
int
skd_fetch(SKD_KEYSTORE *ks, SKD_DIR *d, const SKD_MEMBER *m, const char *gl,
    unsigned int flags, size_t *out_added)
{
	struct skd_client_error e = { 0 }, first = { 0 };
	struct skd_client_glkey_opts o;
	struct skd_client_key *keys = NULL;
	struct skd_store_glkey *list = NULL;
	unsigned char *ack = NULL;
	size_t n = 0, nk = 0, i, j, added_n = 0, ack_len = 0;
	char rid[SKD_STORE_ID_LEN];
	const char *first_entry = NULL;
	int ok = 0, added;

	if (out_added != NULL)
		*out_added = 0;
	if (ks == NULL || d == NULL || m == NULL || gl == NULL)
		return fail(SKD_ERR_ARGUMENT, "key store, directory, member "
		    "and GL are required");
	if (!skd_client_fetch_glkeys(d->s, &list, &n, gl, m->name, &e))
		return fail_client(&e);
	if (n == 0) {
		fail(SKD_ERR_NO_KEY, "no glKey entries for %s in %s",
		    m->name, gl);
		goto done;
	}
	/* Oldest first: a key sent by kekri under the previous key (RFC
	 * 5275 5) opens once that key is in the store. */
	qsort(list, n, sizeof(*list), glkey_older);
	memset(&o, 0, sizeof(o));
	o.trust = m->trust;
	o.now = time(NULL);
	o.max_future = MAX_FUTURE;
	o.max_age = MAX_AGE;
	o.gl_name = gl;
	o.ident = m->ident;
	o.keystore = ks->ks;
	for (i = 0; i < n; i++) {
		if (!skd_client_glkey_open(&keys, &nk, list[i].message,
		    list[i].message_len, &o, &e)) {
			if (first.code == SKD_CLIENT_OK) {
				first = e;
				first_entry = list[i].key_id;
			}
			continue;
		}
		for (j = 0; j < nk; j++) {
			if (!skd_client_keystore_add(ks->ks, &keys[j], &added,
			    &e)) {
				if (first.code == SKD_CLIENT_OK)
					first = e;
				continue;
			}
			if (!added)
				continue;
			added_n++;
			/* RFC 5275 5.1 2.c: acknowledge what we stored. */
			if ((flags & SKD_FETCH_NO_ACK) != 0)
				continue;
			if (!skd_client_ack_build(&ack, &ack_len, &keys[j],
			    m->ident, time(NULL), &e) ||
			    !skd_client_submit(d->s, rid, ack, ack_len,
			    d->bind_dn, &e)) {
				if (first.code == SKD_CLIENT_OK)
					first = e;
			}
			OPENSSL_free(ack);
			ack = NULL;
		}
		skd_client_keys_free(keys, nk);
		keys = NULL;
		nk = 0;
	}
	if (added_n > 0 && !skd_client_keystore_save(ks->ks, &e)) {
		fail_client(&e);
		goto done;
	}
	if (out_added != NULL)
		*out_added = added_n;
	if (first.code != SKD_CLIENT_OK) {
		if (first_entry != NULL)
			fail(code_of(first.code), "entry %s: %s", first_entry,
			    first.msg);
		else
			fail_client(&first);
		goto done;
	}
	ok = 1;
 done:
	skd_client_keys_free(keys, nk);
	skd_store_glkey_list_free(list, n);
	return ok;
}

/* ---- content ---- */

int
skd_encrypt(unsigned char **out, size_t *out_len, const SKD_KEYSTORE *ks,
    const char *gl, const unsigned char *in, size_t in_len)
{
	struct skd_client_error e = { 0 };

	if (out == NULL || out_len == NULL || ks == NULL || gl == NULL ||
	    (in == NULL && in_len > 0))
		return fail(SKD_ERR_ARGUMENT, "missing argument");
	if (!skd_client_encrypt(out, out_len, ks->ks, gl, time(NULL), in,
	    in_len, &e))
		return fail_client(&e);
	return 1;
}

int
skd_decrypt(unsigned char **out, size_t *out_len, const SKD_KEYSTORE *ks,
    const unsigned char *in, size_t in_len)
{
	struct skd_client_error e = { 0 };

	if (out == NULL || out_len == NULL || ks == NULL || in == NULL)
		return fail(SKD_ERR_ARGUMENT, "missing argument");
	if (!skd_client_decrypt(out, out_len, ks->ks, in, in_len, &e))
		return fail_client(&e);
	return 1;
}
