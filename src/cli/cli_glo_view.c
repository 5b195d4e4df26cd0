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

/* Where skd glo list writes the GLs as the listing streams by. */
struct list_out {
	const struct skd_cli_ctx	*c;
	struct skd_store		*s;
	BIO				*out;
	int				 json;
	size_t				 shown;
	int				 rc;
};

/* skd_store_list_gls callback: reads one GL and writes it at once (the
 * listing is paged, RFC 2696, and may use s meanwhile); nonzero stops. */
static int
list_one(void *arg, const char *name, const char *state)
{
	struct list_out *lo = arg;
	struct skd_store_gl *g = NULL;
	json_t *o;
	char *text;

	(void)state;
	if (!skd_store_read_gl(lo->s, &g, name)) {
		/* Gone meanwhile, or listed but not readable. */
		if (skd_store_error(lo->s) == SKD_STORE_ERR_NOT_FOUND)
			return 0;
		skd_cli_err(skd_cli_ctx_cmd(lo->c), "reading %s: %s", name,
		    skd_store_errmsg(lo->s));
		lo->rc = SKD_EXIT_DIRECTORY;
		return 1;
	}
	if (lo->json) {
		if ((o = gl_head_json(g)) == NULL || (text = json_dumps(o,
		    JSON_COMPACT | JSON_ENSURE_ASCII)) == NULL) {
			json_decref(o);
			skd_store_gl_free(g);
			lo->rc = SKD_EXIT_INTERNAL;
			return 1;
		}
		json_decref(o);
		BIO_printf(lo->out, "%s%s", lo->shown > 0 ? "," : "[", text);
		free(text);
	} else {
		print_gl_head(lo->out, g);
	}
	lo->shown++;
	skd_store_gl_free(g);
	return 0;
}

/*
 * skd glo list: the GLs the directory shows us bound as ourselves, i.e.
 * those we own (docs/directory.md, access control rule 17), written as
 * the paged listing finds them.
 */
static int
glo_list(const struct skd_cli_ctx *c)
{
	struct list_out lo;
	int rc;

	memset(&lo, 0, sizeof(lo));
	lo.c = c;
	lo.json = skd_cli_ctx_flag(c, "json");
	lo.rc = SKD_EXIT_OK;
	if ((rc = skd_cli_ctx_store(c, &lo.s)) != SKD_EXIT_OK)
		return rc;
	if ((lo.out = BIO_new_fp(stdout, BIO_NOCLOSE)) == NULL) {
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	if (!skd_store_list_gls(lo.s, list_one, &lo, 0)) {
		(void)BIO_flush(lo.out);
		skd_cli_err(skd_cli_ctx_cmd(c), "listing GLs: %s",
		    skd_store_errmsg(lo.s));
		rc = SKD_EXIT_DIRECTORY;
		goto done;
	}
	if ((rc = lo.rc) != SKD_EXIT_OK)
		goto done;
	if (lo.json)
		BIO_puts(lo.out, lo.shown > 0 ? "]\n" : "[]\n");
	else if (lo.shown == 0)
		BIO_puts(lo.out, "no GLs owned by this identity\n");
 done:
	if (lo.out != NULL)
		(void)BIO_flush(lo.out);
	BIO_free(lo.out);
	skd_store_close(lo.s);
	return rc;
}

/* One outstanding key: its shards merged. */
struct show_key {
	char		*key_id;
	time_t		 not_before;
	time_t		 not_after;
	size_t		 shards;
};

struct show_keys {
	struct show_key	*v;
	size_t		 n, cap;
};

static int
show_key_cmp(const void *a, const void *b)
{
	const struct show_key *x = a, *y = b;

	if (x->not_before != y->not_before)
		return x->not_before < y->not_before ? -1 : 1;
	return strcmp(x->key_id, y->key_id);
}

/* skd_store_walk_glkeys callback: merges one entry (a shard) into its
 * key; a GL has a few keys, however many entries. */
static int
merge_key(void *arg, const struct skd_store_glkey *k)
{
	struct show_keys *ks = arg;
	struct show_key *nv;
	size_t j;

	for (j = 0; j < ks->n; j++) {
		if (strcmp(ks->v[j].key_id, k->key_id) == 0)
			break;
	}
	if (j == ks->n) {
		if (ks->n == ks->cap) {
			ks->cap = ks->cap > 0 ? 2 * ks->cap : 8;
			if ((nv = reallocarray(ks->v, ks->cap,
			    sizeof(*nv))) == NULL)
				return 0;
			ks->v = nv;
		}
		memset(&ks->v[j], 0, sizeof(ks->v[j]));
		if ((ks->v[j].key_id = strdup(k->key_id)) == NULL)
			return 0;
		ks->n++;
	}
	ks->v[j].shards++;
	if (k->not_before != 0)
		ks->v[j].not_before = k->not_before;
	if (k->not_after != 0)
		ks->v[j].not_after = k->not_after;
	return 1;
}

static void
show_keys_free(struct show_keys *ks)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		free(ks->v[i].key_id);
	free(ks->v);
}

/* Where skd glo show writes the people it streams. */
struct show_out {
	BIO	*out;
	int	 json;
	int	 members;	/* members (with acknowledgements) or owners */
	size_t	 n;		/* written so far */
};

/* An owner (members 0) or member as JSON: name, address, and for members
 * the key ids it acknowledged. */
static json_t *
person_json(const struct skd_store_member *m, int members)
{
	json_t *o, *acks;
	size_t j;

	o = json_pack("{s:o,s:o}", "name", jstr(m->name), "address",
	    jstr(m->address));
	if (o != NULL && members && (acks = json_array()) != NULL) {
		for (j = 0; j < m->n_acks; j++)
			json_array_append_new(acks, json_string(m->acks[j]));
		json_object_set_new(o, "acknowledged", acks);
	}
	return o;
}

/* skd_store_walk_members callback: one page of people written as it
 * comes, so that memory stays bounded by the page (RFC 2696 paging in
 * the store). */
static int
show_page(void *arg, const struct skd_store_member *v, size_t n)
{
	struct show_out *so = arg;
	json_t *o;
	char *text;
	size_t i, j;

	for (i = 0; i < n; i++, so->n++) {
		if (so->json) {
			if ((o = person_json(&v[i], so->members)) == NULL ||
			    (text = json_dumps(o, JSON_COMPACT |
			    JSON_ENSURE_ASCII)) == NULL) {
				json_decref(o);
				return 0;
			}
			json_decref(o);
			BIO_printf(so->out, "%s%s", so->n > 0 ? "," : "",
			    text);
			free(text);
			continue;
		}
		BIO_printf(so->out, "  %s", v[i].name);
		if (v[i].address != NULL)
			BIO_printf(so->out, "  address %s", v[i].address);
		if (so->members) {
			BIO_puts(so->out, "  acknowledged:");
			if (v[i].n_acks == 0)
				BIO_puts(so->out, " none");
			for (j = 0; j < v[i].n_acks; j++)
				BIO_printf(so->out, "%s %s", j > 0 ? "," : "",
				    v[i].acks[j]);
		}
		BIO_puts(so->out, "\n");
	}
	return 1;
}

/* Streams the owners or members of gl: "what (N):" and a line each, or
 * the JSON array's elements.  N is counted just before (a paged search
 * without attributes); the list is what the walk then finds. */
static int
show_people(struct skd_store *s, struct show_out *so, const char *gl,
    enum skd_store_role role)
{
	size_t n = 0;

	so->members = role == SKD_STORE_MEMBER;
	so->n = 0;
	if (so->json) {
		BIO_printf(so->out, ",\"%s\":[", so->members ? "members" :
		    "owners");
	} else {
		if (!skd_store_count_members(s, &n, gl, role))
			return 0;
		BIO_printf(so->out, "%s (%zu):\n", so->members ? "members" :
		    "owners", n);
	}
	if (!skd_store_walk_members(s, gl, role, 500, show_page, so))
		return 0;
	if (so->json)
		BIO_puts(so->out, "]");
	return 1;
}

/* The GL's attributes: text lines, or the JSON object's first members
 * (left open: the people and keys follow). */
static int
show_head(BIO *out, const struct skd_store_gl *g, int json)
{
	json_t *jdoc;
	char *text;
	size_t n;

	if (!json) {
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
		return 1;
	}
	if ((jdoc = gl_head_json(g)) == NULL)
		return 0;
	json_object_set_new(jdoc, "rekeyControlledBy",
	    json_string(g->rekey_by_glo ? "GLO" : "GLA"));
	json_object_set_new(jdoc, "recipientsMutuallyAware",
	    json_boolean(!g->not_mutually_aware));
	json_object_set_new(jdoc, "duration", json_integer(g->duration));
	json_object_set_new(jdoc, "generationCounter",
	    json_integer(g->generation_counter));
	json_object_set_new(jdoc, "algorithm",
	    json_string(alg_str(g->key_alg)));
	text = json_dumps(jdoc, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(jdoc);
	/* jansson writes the object; its closing brace comes last, after
	 * the streamed arrays. */
	if (text == NULL || (n = strlen(text)) < 2 || text[n - 1] != '}') {
		free(text);
		return 0;
	}
	text[n - 1] = '\0';
	BIO_puts(out, text);
	free(text);
	return 1;
}

/* The outstanding keys, oldest first, with their validity. */
static int
show_keys(BIO *out, struct show_keys *ks, int json)
{
	char nb[16], na[16], *text;
	const char *st;
	time_t now = time(NULL);
	json_t *o;
	size_t i;

	if (ks->n > 1)
		qsort(ks->v, ks->n, sizeof(*ks->v), show_key_cmp);
	if (json)
		BIO_puts(out, ",\"keys\":[");
	else
		BIO_printf(out, "keys (%zu):\n", ks->n);
	for (i = 0; i < ks->n; i++) {
		const struct show_key *k = &ks->v[i];

		nb[0] = na[0] = '\0';
		if (k->not_before != 0)
			skd_store_time_str(nb, k->not_before);
		if (k->not_after != 0)
			skd_store_time_str(na, k->not_after);
		st = k->not_before != 0 && now < k->not_before ? "future" :
		    k->not_after != 0 && now >= k->not_after ? "expired" :
		    "valid";
		if (!json) {
			BIO_printf(out, "  %s  notBefore %s  notAfter %s  "
			    "shards %zu  %s\n", k->key_id, nb[0] != '\0' ? nb :
			    "-", na[0] != '\0' ? na : "-", k->shards, st);
			continue;
		}
		if ((o = json_pack("{s:s,s:s,s:s,s:I,s:s}", "keyId",
		    k->key_id, "notBefore", nb, "notAfter", na, "shards",
		    (json_int_t)k->shards, "status", st)) == NULL ||
		    (text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII)) ==
		    NULL) {
			json_decref(o);
			return 0;
		}
		json_decref(o);
		BIO_printf(out, "%s%s", i > 0 ? "," : "", text);
		free(text);
	}
	if (json)
		BIO_puts(out, "]}\n");
	return 1;
}

/*
 * skd glo show --gl NAME: the GL entry, its owners and members (with the
 * key ids each acknowledged, RFC 5275 5.1 2.c) and its outstanding keys'
 * validity, as far as the directory lets us (an owner reads those, never
 * the wrapped keys: docs/directory.md rule 15).  Owners and members are
 * streamed page by page (RFC 2696), text or JSON alike, so that a GL of
 * 100,000 members is shown in bounded memory; the keys are merged per key
 * id while their entries stream by.
 */
static int
glo_show(const struct skd_cli_ctx *c, const char *gl)
{
	struct skd_store *s = NULL;
	struct skd_store_gl *g = NULL;
	struct show_keys ks = { NULL, 0, 0 };
	struct show_out so;
	char *name = NULL;
	int rc;

	memset(&so, 0, sizeof(so));
	so.json = skd_cli_ctx_flag(c, "json");
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
	/* The keys first (a few, however many entries), so that nothing
	 * is printed when the directory refuses us. */
	if (!skd_store_walk_glkeys(s, name, merge_key, &ks)) {
		skd_cli_err(skd_cli_ctx_cmd(c), "reading %s: %s", name,
		    skd_store_errmsg(s));
		rc = SKD_EXIT_DIRECTORY;
		goto done;
	}
	if ((so.out = BIO_new_fp(stdout, BIO_NOCLOSE)) == NULL) {
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	if (!show_head(so.out, g, so.json)) {
		rc = SKD_EXIT_INTERNAL;
		goto done;
	}
	if (!show_people(s, &so, name, SKD_STORE_OWNER) ||
	    !show_people(s, &so, name, SKD_STORE_MEMBER)) {
		(void)BIO_flush(so.out);
		skd_cli_err(skd_cli_ctx_cmd(c), "reading %s: %s (the listing "
		    "above is incomplete)", name, skd_store_errmsg(s));
		rc = SKD_EXIT_DIRECTORY;
		goto done;
	}
	rc = show_keys(so.out, &ks, so.json) ? SKD_EXIT_OK :
	    SKD_EXIT_INTERNAL;
 done:
	if (so.out != NULL)
		(void)BIO_flush(so.out);
	BIO_free(so.out);
	show_keys_free(&ks);
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

