/*
 * stack.c: one private slapd per test process (see stack.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skd_test.h"
#include "support/stack.h"

#define STACK_MAX_VARS 64

struct skd_test_stack {
	char	*dir;		/* tmpdir; the stack lives in <dir>/s */
	char	*sdir;
	pid_t	 owner;		/* the process that started slapd */
	size_t	 n;
	char	*key[STACK_MAX_VARS];
	char	*val[STACK_MAX_VARS];
};

static struct skd_test_stack *stack_cur;
static int stack_failed;

static void
stack_stop(void)
{
	struct skd_test_stack *st = stack_cur;
	size_t i;

	/* Forked children inherit the atexit handler: only the starter
	 * stops slapd and removes its directory. */
	if (st == NULL || st->owner != getpid())
		return;
	(void)skd_test_run(NULL, NULL, "'%s/tools/skd-stack' stop '%s'",
	    skd_test_top(), st->sdir);
	/* SKD_TEST_KEEP_STACK=1 keeps the directory (slapd.log) for a
	 * post-mortem. */
	if (getenv("SKD_TEST_KEEP_STACK") != NULL) {
		fprintf(stderr, "stack kept in %s\n", st->dir);
		free(st->dir);
	} else
		skd_test_rmdir(st->dir);
	free(st->sdir);
	for (i = 0; i < st->n; i++) {
		free(st->key[i]);
		free(st->val[i]);
	}
	free(st);
	stack_cur = NULL;
}

static int
stack_load_env(struct skd_test_stack *st)
{
	char path[4096], line[4096], *eq, *nl;
	FILE *f;
	size_t i;

	for (i = 0; i < st->n; i++) {
		free(st->key[i]);
		free(st->val[i]);
	}
	st->n = 0;
	snprintf(path, sizeof(path), "%s/env", st->sdir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if ((eq = strchr(line, '=')) == NULL || st->n == STACK_MAX_VARS)
			continue;
		*eq = '\0';
		st->key[st->n] = strdup(line);
		st->val[st->n] = strdup(eq + 1);
		if (st->key[st->n] == NULL || st->val[st->n] == NULL) {
			fclose(f);
			return 0;
		}
		st->n++;
	}
	fclose(f);
	return st->n > 0;
}

struct skd_test_stack *
skd_test_stack_get(void)
{
	struct skd_test_stack *st;
	int rc;

	if (stack_cur != NULL)
		return stack_cur;
	if (stack_failed)
		return NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		goto err;
	if ((st->dir = skd_test_tmpdir()) == NULL)
		goto err;
	if ((st->sdir = malloc(strlen(st->dir) + 3)) == NULL)
		goto err;
	sprintf(st->sdir, "%s/s", st->dir);
	rc = skd_test_run(NULL, NULL,
	    "'%s/tools/skd-stack' start '%s' --pki '%s/build/test-pki' "
	    ">'%s/start.log' 2>&1", skd_test_top(), st->sdir, skd_test_top(),
	    st->dir);
	if (rc != 0) {
		fprintf(stderr, "skd-stack start failed (%d):\n", rc);
		(void)skd_test_run(NULL, NULL, "cat '%s/start.log' >&2",
		    st->dir);
		(void)skd_test_run(NULL, NULL,
		    "'%s/tools/skd-stack' stop '%s' >/dev/null 2>&1",
		    skd_test_top(), st->sdir);
		goto err;
	}
	if (!stack_load_env(st)) {
		fprintf(stderr, "skd-stack: no env file in %s\n", st->sdir);
		goto err;
	}
	st->owner = getpid();
	stack_cur = st;
	atexit(stack_stop);
	return st;
 err:
	stack_failed = 1;
	if (st != NULL) {
		skd_test_rmdir(st->dir);
		free(st->sdir);
		free(st);
	}
	return NULL;
}

const char *
skd_test_stack_env(const char *key)
{
	size_t i;

	if (stack_cur == NULL)
		return NULL;
	for (i = 0; i < stack_cur->n; i++) {
		if (strcmp(stack_cur->key[i], key) == 0)
			return stack_cur->val[i];
	}
	return NULL;
}

const char *
skd_test_stack_need(const char *key)
{
	const char *v;

	ck_assert_msg(skd_test_stack_get() != NULL, "no directory stack");
	v = skd_test_stack_env(key);
	ck_assert_msg(v != NULL && v[0] != '\0', "stack env lacks %s", key);
	return v;
}

const char *
skd_test_stack_dir(void)
{
	return stack_cur != NULL ? stack_cur->sdir : NULL;
}

int
skd_test_stack_restart(void)
{
	struct skd_test_stack *st = stack_cur;

	if (st == NULL)
		return 0;
	if (skd_test_run(NULL, NULL, "'%s/tools/skd-stack' stop '%s'",
	    skd_test_top(), st->sdir) != 0)
		return 0;
	if (skd_test_run(NULL, NULL, "'%s/tools/skd-stack' start '%s' "
	    ">>'%s/start.log' 2>&1", skd_test_top(), st->sdir, st->dir) != 0)
		return 0;
	/* The slapd pid changed; the rest is the same. */
	return stack_load_env(st);
}
