/*
 * cli_glo_view.c: "skd glo list|show": what the directory shows a GLO of
 * its lists (read-only; the ACLs decide what is visible).  See
 * skd-glo(1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ---- skd glo list / show: what the directory shows us (read-only) ---- */

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

/* A string or null. */
static json_t *
jstr(const char *v)
{
	return v != NULL ? json_string(v) : json_null();
}

/* The GL's head as JSON: gl, address, administration, state. */
static json_t *
gl_head_json(const struct skd_store_gl *g)
{
	return json_pack("{s:o,s:o,s:s,s:s}", "gl", jstr(g->name), "address",
	    jstr(g->address), "administration", admin_str(g->administration),
	    "state", g->state != NULL ? g->state : "active");
}

static void
print_gl_head(BIO *out, const struct skd_store_gl *g)
{
	BIO_printf(out, "%s\taddress %s\tadministration %s\tstate %s\n",
	    g->name, g->address != NULL ? g->address : "-",
	    admin_str(g->administration), g->state != NULL ? g->state :
	    "active");
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
	json_t *jarr = NULL;
	BIO *out = NULL;

	if ((rc = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK)
		return rc;
	if (!skd_store_list_gls(s, collect_gl, &l, 0)) {
		skd_cli_err(skd_cli_ctx_cmd(c), "listing GLs: %s", skd_store_errmsg(s));
		rc = SKD_EXIT_DIRECTORY;
		goto done;
	}
	if ((out = BIO_new_fp(stdout, BIO_NOCLOSE)) == NULL) {
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	if (json && (jarr = json_array()) == NULL) {
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	for (i = 0; i < l.n; i++) {
		if (!skd_store_read_gl(s, &g, l.v[i])) {
			/* Gone meanwhile, or listed but not readable. */
			if (skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND)
				continue;
			skd_cli_err(skd_cli_ctx_cmd(c), "reading %s: %s", l.v[i],
			    skd_store_errmsg(s));
			rc = SKD_EXIT_DIRECTORY;
			goto done;
		}
		if (json)
			json_array_append_new(jarr, gl_head_json(g));
		else
			print_gl_head(out, g);
		shown++;
		skd_store_gl_free(g);
		g = NULL;
	}
	if (json) {
		skd_cli_json_put(jarr);
		jarr = NULL;
	} else if (shown == 0)
		BIO_puts(out, "no GLs owned by this identity\n");
	rc = SKD_EXIT_OK;
 done:
	json_decref(jarr);
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

/* Owners (members 0) or members as JSON: name, address, and for
 * members the key ids each acknowledged. */
static json_t *
people_json(const struct skd_store_member *v, size_t n, int members)
{
	json_t *a = json_array(), *o, *acks;
	size_t i, j;

	for (i = 0; a != NULL && i < n; i++) {
		o = json_pack("{s:o,s:o}", "name", jstr(v[i].name), "address",
		    jstr(v[i].address));
		if (o != NULL && members && (acks = json_array()) != NULL) {
			for (j = 0; j < v[i].n_acks; j++)
				json_array_append_new(acks,
				    json_string(v[i].acks[j]));
			json_object_set_new(o, "acknowledged", acks);
		}
		json_array_append_new(a, o);
	}
	return a;
}

static void
print_people(BIO *out, const char *what, const struct skd_store_member *v,
    size_t n, int members)
{
	size_t i, j;

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
	json_t *jdoc = NULL, *jkeys = NULL;
	BIO *out = NULL;

	if ((name = canon_name(gl)) == NULL) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--gl %s: not a GeneralName (e.g. "
		    "URI:https://lists.example.com/staff)", gl);
		return SKD_EXIT_USAGE;
	}
	if ((rc = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK)
		goto done;
	if (!skd_store_read_gl(s, &g, name)) {
		if (skd_store_error(s) == SKD_STORE_ERR_NOT_FOUND) {
			skd_cli_err(skd_cli_ctx_cmd(c), "%s: no such GL owned by this "
			    "identity", name);
			rc = SKD_EXIT_INPUT;
		} else {
			skd_cli_err(skd_cli_ctx_cmd(c), "reading %s: %s", name,
			    skd_store_errmsg(s));
			rc = SKD_EXIT_DIRECTORY;
		}
		goto done;
	}
	if (!skd_store_list_members(s, &owners, &n_owners, name,
	    SKD_STORE_OWNER) || !skd_store_list_members(s, &members,
	    &n_members, name, SKD_STORE_MEMBER) ||
	    !skd_store_find_glkeys(s, &keys, &n_keys, name, NULL)) {
		skd_cli_err(skd_cli_ctx_cmd(c), "reading %s: %s", name,
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
		if ((jdoc = gl_head_json(g)) == NULL ||
		    (jkeys = json_array()) == NULL) {
			rc = SKD_EXIT_INTERNAL;
			goto done;
		}
		json_object_set_new(jdoc, "rekeyControlledBy",
		    json_string(g->rekey_by_glo ? "GLO" : "GLA"));
		json_object_set_new(jdoc, "recipientsMutuallyAware",
		    json_boolean(!g->not_mutually_aware));
		json_object_set_new(jdoc, "duration", json_integer(g->duration));
		json_object_set_new(jdoc, "generationCounter",
		    json_integer(g->generation_counter));
		json_object_set_new(jdoc, "algorithm",
		    json_string(alg_str(g->key_alg)));
		json_object_set_new(jdoc, "owners", people_json(owners,
		    n_owners, 0));
		json_object_set_new(jdoc, "members", people_json(members,
		    n_members, 1));
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
		print_people(out, "owners", owners, n_owners, 0);
		print_people(out, "members", members, n_members, 1);
		BIO_printf(out, "keys (%zu):\n", n_sk);
	}
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
			json_array_append_new(jkeys, json_pack("{s:s,s:s,s:s,"
			    "s:I,s:s}", "keyId", sk[i].key_id, "notBefore", nb,
			    "notAfter", na, "shards", (json_int_t)sk[i].shards,
			    "status", st));
		} else {
			BIO_printf(out, "  %s  notBefore %s  notAfter %s  "
			    "shards %zu  %s\n", sk[i].key_id,
			    nb[0] != '\0' ? nb : "-", na[0] != '\0' ? na : "-",
			    sk[i].shards, st);
		}
	}
	if (json) {
		json_object_set_new(jdoc, "keys", jkeys);
		jkeys = NULL;
		skd_cli_json_put(jdoc);
		jdoc = NULL;
	}
	rc = SKD_EXIT_OK;
 done:
	json_decref(jkeys);
	json_decref(jdoc);
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

int
skd_cli_glo_run_list(const struct skd_cli_ctx *c, const struct skd_cli_sub *sub)
{
	int rc;

	(void)sub;
	if ((rc = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK)
		return rc;
	return glo_list(c);
}

int
skd_cli_glo_run_show(const struct skd_cli_ctx *c, const struct skd_cli_sub *sub)
{
	const char *gl;
	int rc;

	(void)sub;
	if ((rc = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_need(c, "gl", "NAME", "", &gl)) != SKD_EXIT_OK)
		return rc;
	return glo_show(c, gl);
}

