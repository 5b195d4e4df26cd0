/*
 * test_fuzz_regress.c: the fuzz targets' logic (tests/fuzz/fuzz_*_body.h)
 * over every seed (tests/fuzz/corpus/<target>/) and every saved crash
 * (tests/fuzz/crashes/), each file through every target, so that what the
 * fuzzers found stays fixed and the seeds stay meaningful.  A crash whose
 * fix is pending is listed in tests/fuzz/crashes/OPEN: it must still break
 * its own target (the test fails once it is fixed, to have it unlisted).  Under valgrind
 * (make memcheck) this also checks the targets' paths for leaks.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "fuzz/fuzz_controls_body.h"
#include "fuzz/fuzz_der_structure_body.h"
#include "fuzz/fuzz_glkey_body.h"
#include "fuzz/fuzz_gname_body.h"
#include "fuzz/fuzz_layers_body.h"
#include "fuzz/fuzz_mail_body.h"
#include "fuzz/fuzz_pkidata_body.h"
#include "fuzz/fuzz_pkiresponse_body.h"
#include "fuzz/fuzz_status_body.h"
#include "fuzz/fuzz_keygen_body.h"
#include "skd_test.h"

enum regress_target {
	T_DER_STRUCTURE = 0,
	T_CONTROLS,
	T_PKIDATA,
	T_PKIRESPONSE,
	T_STATUS,
	T_GLKEY,
	T_GNAME,
	T_LAYERS,
	T_MAIL,
	T_KEYGEN,
	T_COUNT
};

static const char *const target_names[T_COUNT] = {
	"fuzz_der_structure", "fuzz_controls", "fuzz_pkidata",
	"fuzz_pkiresponse", "fuzz_status", "fuzz_glkey", "fuzz_gname",
	"fuzz_layers", "fuzz_mail", "fuzz_keygen"
};

static struct skd_fuzz_layers_ctx *layers_ctx;

static void
regress_setup(void)
{
	ck_assert_int_eq(skd_asn1_init(), 1);
	layers_ctx = skd_fuzz_layers_ctx_new();
	ck_assert_ptr_nonnull(layers_ctx);
}

static void
regress_teardown(void)
{
	skd_fuzz_layers_ctx_free(layers_ctx);
	layers_ctx = NULL;
}

static int
run_target(enum regress_target t, const uint8_t *p, size_t len)
{
	switch (t) {
	case T_DER_STRUCTURE:
		return skd_fuzz_der_structure(p, len);
	case T_CONTROLS:
		return skd_fuzz_controls(p, len);
	case T_PKIDATA:
		return skd_fuzz_pkidata(p, len);
	case T_PKIRESPONSE:
		return skd_fuzz_pkiresponse(p, len);
	case T_STATUS:
		return skd_fuzz_status(p, len);
	case T_GLKEY:
		return skd_fuzz_glkey(p, len);
	case T_GNAME:
		return skd_fuzz_gname(p, len);
	case T_LAYERS:
		return skd_fuzz_layers(layers_ctx, p, len);
	case T_MAIL:
		return skd_fuzz_mail(p, len);
	case T_KEYGEN:
		return skd_fuzz_keygen(p, len);
	default:
		return 0;
	}
}

/* What to do with each file of a directory. */
typedef void (*file_fn)(const char *path, const char *name,
    const uint8_t *p, size_t len, void *arg);

/* Calls fn on every regular file in dir (sorted; dotfiles, README and
 * OPEN skipped); returns how many. */
static size_t
for_each_file(const char *dir, file_fn fn, void *arg)
{
	struct dirent **ents = NULL;
	char path[4096];
	unsigned char *p;
	size_t len, count = 0;
	int n, i;

	n = scandir(dir, &ents, NULL, alphasort);
	ck_assert_msg(n >= 0, "cannot read %s", dir);
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] == '.' ||
		    strcmp(ents[i]->d_name, "README") == 0 ||
		    strcmp(ents[i]->d_name, "OPEN") == 0) {
			free(ents[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		p = skd_test_read_file(path, &len);
		ck_assert_msg(p != NULL, "cannot read %s", path);
		fn(path, ents[i]->d_name, p, len, arg);
		free(p);
		free(ents[i]);
		count++;
	}
	free(ents);
	return count;
}

/* Whether crash file name is listed in tests/fuzz/crashes/OPEN. */
static int
crash_is_open(const char *name)
{
	char path[4096], line[256];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/tests/fuzz/crashes/OPEN",
	    skd_test_top());
	if ((f = fopen(path, "r")) == NULL) {
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, name) == 0) {
			found = 1;
		}
	}
	fclose(f);
	return found;
}

/* Whether crash file name ("<target>-<n>") belongs to target t. */
static int
crash_is_for(const char *name, enum regress_target t)
{
	size_t n = strlen(target_names[t]);

	return strncmp(name, target_names[t], n) == 0 && name[n] == '-';
}

static void
check_one(const char *path, const char *name, const uint8_t *p, size_t len,
    void *arg)
{
	enum regress_target t = *(enum regress_target *)arg;

	ck_assert_msg(run_target(t, p, len) == 1, "%s: invariant broken on %s",
	    target_names[t], path);
	ck_assert_msg(ERR_peek_error() == 0, "%s left errors on %s",
	    target_names[t], path);
	(void)name;
}

static void
check_crash(const char *path, const char *name, const uint8_t *p,
    size_t len, void *arg)
{
	enum regress_target t = *(enum regress_target *)arg;

	if (crash_is_for(name, t) && crash_is_open(name)) {
		ck_assert_msg(run_target(t, p, len) == 0, "%s: %s passes now: "
		    "remove it from tests/fuzz/crashes/OPEN", target_names[t],
		    path);
		ERR_clear_error();
		return;
	}
	check_one(path, name, p, len, arg);
}

/* Every seed of every corpus and every saved crash through target _i. */
START_TEST(test_all_files_all_targets)
{
	enum regress_target t = (enum regress_target)_i;
	char dir[4096];
	size_t k, own = 0, n;

	for (k = 0; k < T_COUNT; k++) {
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s",
		    skd_test_top(), target_names[k]);
		n = for_each_file(dir, check_one, &t);
		ck_assert_msg(n > 0, "empty corpus %s", dir);
		if (k == (size_t)t) {
			own = n;
		}
	}
	ck_assert_uint_gt(own, 0);
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/crashes", skd_test_top());
	(void)for_each_file(dir, check_crash, &t);
}
END_TEST

/* The seeds reach the code behind the parsers: each decodes as its
 * target's type, so the fuzzers start from valid messages. */
static void
seed_decodes(const char *path, const char *name, const uint8_t *p,
    size_t len, void *arg)
{
	enum regress_target t = *(enum regress_target *)arg;
	const ASN1_ITEM *it = NULL;
	const struct skd_control *c;
	void *v;
	GENERAL_NAME *g;
	char *s;

	switch (t) {
	case T_DER_STRUCTURE:
		ck_assert_msg(skd_der_check_structure(p, len) == 1, "%s", path);
		return;
	case T_CONTROLS:
		ck_assert_uint_gt(len, 1);
		c = skd_control_at(p[0] % skd_control_count());
		ck_assert_ptr_nonnull(c);
		/* the file is named <body>-<control name> */
		s = strrchr(name, '-');
		ck_assert_ptr_nonnull(s);
		ck_assert_str_eq(s + 1, c->name);
		it = ASN1_ITEM_ptr(c->item);
		p++;
		len--;
		break;
	case T_PKIDATA:
		it = ASN1_ITEM_rptr(SKD_PKI_DATA);
		break;
	case T_PKIRESPONSE:
		it = ASN1_ITEM_rptr(SKD_PKI_RESPONSE);
		break;
	case T_STATUS:
		it = ASN1_ITEM_rptr(SKD_CMC_STATUS_INFO_V2);
		break;
	case T_GLKEY:
		if (strncmp(name, "ri-", 3) == 0) {
			struct skd_ri_entry *list = NULL;
			size_t n = 0;

			ck_assert_int_eq(skd_ri_list_recipients(&list, &n, p,
			    len), 1);
			/* ktri, ktri (SKI), kari, kekri */
			ck_assert_uint_eq(n, 4);
			skd_ri_free_list(list, n);
			return;
		}
		it = ASN1_ITEM_rptr(SKD_GL_KEY);
		break;
	case T_GNAME:
		s = OPENSSL_strndup((const char *)p, len);
		ck_assert_ptr_nonnull(s);
		g = skd_gname_from_text(s);
		ck_assert_msg(g != NULL, "%s does not parse", path);
		GENERAL_NAME_free(g);
		OPENSSL_free(s);
		return;
	default:
		ck_abort();
	}
	v = skd_der_decode(it, p, len);
	ck_assert_msg(v != NULL, "%s does not decode", path);
	ASN1_item_free(v, it);
}

START_TEST(test_seeds_decode)
{
	enum regress_target t = (enum regress_target)_i;
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", skd_test_top(),
	    target_names[t]);
	ck_assert_uint_gt(for_each_file(dir, seed_decodes, &t), 0);
	ERR_clear_error();
}
END_TEST

/*
 * The layer seeds built by gen_corpus.c walk cleanly with the fixed trust
 * store and opener of fuzz_pki.h: every signature verifies, every path
 * validates, every EnvelopedData opens and a PKIData or PKIResponse is
 * reached (RFC 5275 3.2.1.1, 3.2.1.2, 3.2.2).  Without this the layers
 * target would fuzz little beyond the outer signature check.
 */
static void
layers_seed_walks(const char *path, const char *name, const uint8_t *p,
    size_t len, void *arg)
{
	struct skd_layers *l = NULL;
	const struct skd_layers_opts *o = &layers_ctx->opts;
	size_t i, bodies = 0;

	(void)arg;
	if (strncmp(name, "ext-", 4) == 0) {
		return;		/* third-party vector: signer not in our PKI */
	}
	if (strncmp(name, "kek-", 4) == 0) {
		o = &layers_ctx->kek_opts;
	}
	ck_assert_msg(skd_layers_walk(&l, p, len, o) == 1,
	    "%s: %s", path, l != NULL && l->n > 0 ? l->v[l->n - 1].error :
	    "no layers");
	for (i = 0; i < l->n; i++) {
		if (l->v[i].type == SKD_LAYER_SIGNED) {
			ck_assert_ptr_nonnull(l->v[i].verified);
			ck_assert_int_eq(l->v[i].verified->path,
			    SKD_CMS_PATH_OK);
		}
		if (l->v[i].type == SKD_LAYER_ENVELOPED) {
			ck_assert_int_eq(l->v[i].opened, 1);
		}
		if (l->v[i].type == SKD_LAYER_PKI_DATA ||
		    l->v[i].type == SKD_LAYER_PKI_RESPONSE) {
			bodies++;
		}
	}
	ck_assert_msg(bodies > 0, "%s: no body reached", path);
	skd_layers_free(l);
	ERR_clear_error();
}

START_TEST(test_layers_seeds_open)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/fuzz_layers",
	    skd_test_top());
	ck_assert_uint_gt(for_each_file(dir, layers_seed_walks, NULL), 10);
}
END_TEST

Suite *
skd_suite_fuzz_regress(void)
{
	Suite *s = suite_create("fuzz_regress");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, regress_setup, regress_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_all_files_all_targets, 0, T_COUNT);
	tcase_add_loop_test(tc, test_seeds_decode, 0, T_LAYERS);
	tcase_add_test(tc, test_layers_seeds_open);
	suite_add_tcase(s, tc);
	return s;
}
