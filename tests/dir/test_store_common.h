/*
 * test_store_common.h: helpers shared by tests/dir/test_store*.c (static
 * inline so that test support code does not depend on the store module).
 */
#ifndef SKD_TEST_STORE_COMMON_H
#define SKD_TEST_STORE_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skd_test.h"
#include "store/skd_store.h"
#include "support/stack.h"

/* The unchecked fixture: start slapd once, in the parent. */
static inline void
store_fixture(void)
{
	(void)skd_test_stack_get();
}

/* Opens a session to the stack's URI in env key uri_key (e.g.
 * "SKD_LDAPI_URI") bound as the identity whose env keys are <who>_DN /
 * <who>_PW (e.g. "SKD_GLA"); fails the test if it cannot. */
static inline struct skd_store *
store_open_at_as(const char *uri_key, const char *who)
{
	char kdn[64], kpw[64];
	enum skd_store_err e = SKD_STORE_OK;
	struct skd_store *s;

	ck_assert_msg(skd_test_stack_get() != NULL,
	    "no directory stack (is slapd installed? see tools/setup)");
	snprintf(kdn, sizeof(kdn), "%s_DN", who);
	snprintf(kpw, sizeof(kpw), "%s_PW", who);
	ck_assert_ptr_nonnull(skd_test_stack_env(kdn));
	ck_assert_ptr_nonnull(skd_test_stack_env(uri_key));
	s = skd_store_open(&e, skd_test_stack_env(uri_key),
	    skd_test_stack_env("SKD_BASE_DN"), SKD_STORE_BIND_SIMPLE,
	    skd_test_stack_env(kdn), skd_test_stack_env(kpw));
	ck_assert_msg(s != NULL, "open as %s: %s", who, skd_store_err_str(e));
	return s;
}

/* store_open_at_as over the stack's ldap:// URI. */
static inline struct skd_store *
store_open_as(const char *who)
{
	return store_open_at_as("SKD_LDAP_URI", who);
}

static inline struct skd_store *
store_open_gla(void)
{
	return store_open_as("SKD_GLA");
}

/* A name no other test uses: prefix + fresh UUID (malloc'd). */
static inline char *
store_unique(const char *prefix)
{
	char id[SKD_STORE_ID_LEN], *p;

	skd_store_new_id(id);
	p = malloc(strlen(prefix) + sizeof(id));
	ck_assert_ptr_nonnull(p);
	strcpy(p, prefix);
	strcat(p, id);
	return p;
}

#define ck_store_ok(s, call) \
	ck_assert_msg((call), "%s: %s", #call, skd_store_errmsg(s))
#define ck_store_err(s, call, kind) do {				\
	ck_assert_msg(!(call), "%s succeeded", #call);			\
	ck_assert_msg(skd_store_error(s) == (kind),			\
	    "%s: expected %s, got %s (%s)", #call,			\
	    skd_store_err_str(kind), skd_store_err_str(skd_store_error(s)), \
	    skd_store_errmsg(s));					\
} while (0)

#endif
