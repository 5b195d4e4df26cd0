/*
 * skd_test.h: what every test file shares.
 *
 * Each tests/{unit,dir,interop}/test_<name>.c defines
 *   Suite *skd_suite_<name>(void);
 * and the Makefile lists them in skd_suites.inc, so adding a suite is
 * adding a file.  Support code lives in tests/support/.
 */
#ifndef SKD_TEST_H
#define SKD_TEST_H

#include <check.h>
#include <stddef.h>
#include <time.h>

#define SKD_SUITE(name, scope) Suite *skd_suite_##name(void);
#include "skd_suites.inc"
#undef SKD_SUITE

/*
 * The runner (tests/main.c) runs test cases in parallel, one TCase to a
 * process; it learns each suite's name, cases and timeouts by these
 * wrappers, which every test file gets in place of check's own.
 */
Suite *skd_test_suite_create(const char *name);
TCase *skd_tcase_create(const char *name);
void skd_tcase_set_timeout(TCase *tc, double timeout);
#define suite_create(name) skd_test_suite_create(name)
#define tcase_create(name) skd_tcase_create(name)
#define tcase_set_timeout(tc, timeout) skd_tcase_set_timeout(tc, timeout)

/* Top of the source tree ($SKD_TOP, else "."); never NULL. */
const char *skd_test_top(void);

/* Path to the built skd program ($SKD_BIN, else build/skd); never NULL. */
const char *skd_test_bin(void);

/*
 * skd_test_tmpdir makes a fresh private directory under $TMPDIR and returns
 * its path (caller frees with skd_test_rmdir, which also removes it).
 */
char *skd_test_tmpdir(void);
void skd_test_rmdir(char *dir);

/* A checked fixture: skd_test_tmp is a fresh skd_test_tmpdir for each test
 * (tcase_add_checked_fixture(tc, skd_test_tmp_setup, skd_test_tmp_teardown)). */
extern char *skd_test_tmp;
void skd_test_tmp_setup(void);
void skd_test_tmp_teardown(void);

/*
 * skd_test_run runs a shell command line; returns its exit status (0..255),
 * or -1 if it could not be run.  When out is not NULL the command's stdout is
 * captured into *out (NUL-terminated, caller frees) and *out_len.
 */
int skd_test_run(char **out, size_t *out_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* skd_test_read_file reads a whole file; returns a malloc'd buffer or NULL. */
unsigned char *skd_test_read_file(const char *path, size_t *out_len);

/* skd_test_write_file writes len bytes; returns one on success. */
int skd_test_write_file(const char *path, const void *data, size_t len);

/* Asserts the OpenSSL error queue is empty, printing it if not. */
void skd_test_assert_no_ossl_errors(void);

/* Seconds since t0 (CLOCK_MONOTONIC). */
double skd_test_since(const struct timespec *t0);

#endif
