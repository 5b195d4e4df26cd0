/*
 * stack.h: a private slapd for the directory tests, started once per test
 * process with tools/skd-stack.
 *
 * Call skd_test_stack_get() from an unchecked fixture (it then runs in the
 * parent and every forked test inherits the running server) and again in
 * each test, asserting the result is not NULL: when slapd cannot be started
 * every test fails, none is skipped.  The stack is stopped at exit of the
 * process that started it (not in forked children); with
 * SKD_TEST_KEEP_STACK set its directory (slapd.log, data) is kept.
 */
#ifndef SKD_TEST_STACK_H
#define SKD_TEST_STACK_H

struct skd_test_stack;

/* skd_test_stack_get returns the process's stack, starting it on first
 * use (tools/skd-stack start <tmpdir> --pki $SKD_TOP/build/test-pki);
 * NULL if it could not be started (the reason is printed, and later calls
 * return NULL at once).  Borrowed: never free it. */
struct skd_test_stack *skd_test_stack_get(void);

/* skd_test_stack_env returns the value of key (e.g. "SKD_LDAP_URI",
 * "SKD_GLA_DN") from the stack's env file, or NULL (borrowed; also NULL
 * when there is no stack). */
const char *skd_test_stack_env(const char *key);

/* skd_test_stack_need is skd_test_stack_env for a key the test cannot do
 * without: it starts the stack if need be and fails the test when the
 * value is missing or empty. */
const char *skd_test_stack_need(const char *key);

/* skd_test_stack_dir returns the stack's directory (borrowed) or NULL. */
const char *skd_test_stack_dir(void);

/* skd_test_stack_restart stops slapd and starts it again on the same port
 * with the same data; returns one on success. */
int skd_test_stack_restart(void);

#endif
