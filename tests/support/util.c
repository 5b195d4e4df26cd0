/*
 * util.c: small helpers shared by the test suites (see skd_test.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "skd_test.h"

const char *
skd_test_top(void)
{
	const char *t = getenv("SKD_TOP");

	return t != NULL ? t : ".";
}

const char *
skd_test_bin(void)
{
	static char buf[4096];
	const char *b = getenv("SKD_BIN");

	if (b != NULL)
		return b;
	snprintf(buf, sizeof(buf), "%s/build/skd", skd_test_top());
	return buf;
}

char *skd_test_tmp;

void
skd_test_tmp_setup(void)
{
	skd_test_tmp = skd_test_tmpdir();
	ck_assert_ptr_nonnull(skd_test_tmp);
}

void
skd_test_tmp_teardown(void)
{
	skd_test_rmdir(skd_test_tmp);
	skd_test_tmp = NULL;
}

char *
skd_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL)
		base = "/tmp";
	if (asprintf(&p, "%s/skd-test.XXXXXX", base) < 0)
		return NULL;
	if (mkdtemp(p) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void
skd_test_rmdir(char *dir)
{
	if (dir == NULL)
		return;
	if (strstr(dir, "skd-test.") != NULL)
		(void)skd_test_run(NULL, NULL, "rm -rf '%s'", dir);
	free(dir);
}

int
skd_test_run(char **out, size_t *out_len, const char *fmt, ...)
{
	va_list ap;
	char *cmd = NULL, *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *p;
	int st, r;

	va_start(ap, fmt);
	r = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	fflush(NULL);
	if (out == NULL) {
		st = system(cmd);
		free(cmd);
		if (st == -1 || !WIFEXITED(st))
			return -1;
		return WEXITSTATUS(st);
	}
	if ((p = popen(cmd, "r")) == NULL) {
		free(cmd);
		return -1;
	}
	free(cmd);
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (nb == NULL)
				break;
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, p);
		if (n == 0)
			break;
		len += n;
	}
	st = pclose(p);
	if (buf == NULL)
		buf = calloc(1, 1);
	if (buf != NULL)
		buf[len] = '\0';
	*out = buf;
	if (out_len != NULL)
		*out_len = len;
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

unsigned char *
skd_test_read_file(const char *path, size_t *out_len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto err;
	if ((buf = malloc((size_t)n + 1)) == NULL)
		goto err;
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto err;
	}
	buf[n] = '\0';
	if (out_len != NULL)
		*out_len = (size_t)n;
 err:
	fclose(f);
	return buf;
}

int
skd_test_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return 0;
	ok = fwrite(data, 1, len, f) == len;
	if (fclose(f) != 0)
		ok = 0;
	return ok;
}

void
skd_test_assert_no_ossl_errors(void)
{
	unsigned long e = ERR_peek_error();

	if (e != 0) {
		ERR_print_errors_fp(stderr);
		ck_abort_msg("OpenSSL error queue not empty");
	}
}

double
skd_test_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}
