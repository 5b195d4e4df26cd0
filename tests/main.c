/*
 * The one test runner: every suite, one summary line at the end.
 *
 * SKD_TEST_SCOPE=unit|dir|interop restricts the run to one scope, and
 * SKD_TEST_SUITES="a b" to the suites of those file names (test_a.c ...);
 * make memcheck runs each unit suite under valgrind this way.  check's own
 * CK_RUN_SUITE and CK_RUN_CASE select further.
 *
 * SKD_TEST_JOBS=N (make check: one more than the cores) runs the test
 * cases (TCase) N at a time, each in a process forked from this one,
 * longest first: by the times of the last run, kept in $SKD_TEST_TIMES,
 * else by their timeouts.  Most of the directory tests wait on slapd, the
 * worker or the disk, so the cores have room for more than one.  A
 * case's output is printed whole when it ends, after a line naming it,
 * and the last line is the summary of the whole run in check's format.
 * With N=1, CK_FORK=no (make memcheck: valgrind sees one process),
 * CK_RUN_SUITE or CK_RUN_CASE, check runs everything in this process.
 *
 * The directories the suites start (tools/skd-stack) commit without fsync
 * (SKD_STACK_NOSYNC=1, olcDbNoSync) unless the environment says
 * otherwise: the suites check what the GLA writes and in what order,
 * through slapd; the worker they kill loses nothing slapd acknowledged
 * either way, and the one test that kills slapd itself
 * (store:records:test_walk_server_killed, SIGKILL) loses nothing
 * either: a killed process's writes are in the kernel's page cache,
 * which only a crash of the machine loses.  The benchmarks run durable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "skd_test.h"

/* One test case, as the suites' constructors made it. */
struct tcase_info {
	char *suite;		/* the Suite's name (suite_create) */
	char *name;		/* the TCase's name */
	TCase *tc;
	double timeout;		/* seconds, per test */
	double cost;		/* expected seconds: last run's, else timeout */
	double took;		/* seconds, this run; < 0: not run */
	pid_t pid;
	int fd;			/* read end of the child's result pipe */
	FILE *out;		/* the child's stdout and stderr */
	struct timespec start;
};

static struct tcase_info *cases;
static size_t ncases, cases_cap;
/* The run's order; a global, so that LeakSanitizer at a case's exit
 * (which runs the fixtures' atexit handlers) finds it reachable. */
static struct tcase_info **order;
static char *last_suite;

Suite *
skd_test_suite_create(const char *name)
{
	free(last_suite);
	last_suite = strdup(name);
	return (suite_create)(name);
}

TCase *
skd_tcase_create(const char *name)
{
	TCase *tc = (tcase_create)(name);
	const char *dt = getenv("CK_DEFAULT_TIMEOUT");
	struct tcase_info *ci;

	if (ncases == cases_cap) {
		size_t cap = cases_cap ? 2 * cases_cap : 64;
		void *p = realloc(cases, cap * sizeof(*cases));

		if (p == NULL)
			abort();
		cases = p;
		cases_cap = cap;
	}
	ci = &cases[ncases++];
	memset(ci, 0, sizeof(*ci));
	ci->name = strdup(name);
	ci->tc = tc;
	ci->timeout = dt != NULL ? atof(dt) : 4.0;	/* check's default */
	ci->took = -1;
	ci->fd = -1;
	if (ci->name == NULL)
		abort();
	return tc;
}

void
skd_tcase_set_timeout(TCase *tc, double timeout)
{
	size_t i;

	(tcase_set_timeout)(tc, timeout);
	for (i = 0; i < ncases; i++)
		if (cases[i].tc == tc)
			cases[i].timeout = timeout;
}

/* Is name one of the space-separated words of list (NULL: all)? */
static int
selected(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (list == NULL)
		return 1;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/* The last run's times: lines "seconds<TAB>suite<TAB>case". */
static void
times_load(const char *path)
{
	char line[512], *suite, *name, *end;
	FILE *f;
	size_t i;

	for (i = 0; i < ncases; i++)
		cases[i].cost = cases[i].timeout;
	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		double t = strtod(line, &end);

		if (*end != '\t')
			continue;
		suite = end + 1;
		if ((name = strchr(suite, '\t')) == NULL)
			continue;
		*name++ = '\0';
		name[strcspn(name, "\n")] = '\0';
		for (i = 0; i < ncases; i++)
			if (strcmp(cases[i].suite, suite) == 0 &&
			    strcmp(cases[i].name, name) == 0)
				cases[i].cost = t;
	}
	fclose(f);
}

/* Keeps this run's times, and the last run's for cases not run now. */
static void
times_save(const char *path)
{
	char tmp[4096];
	FILE *f;
	size_t i;

	if (path == NULL ||
	    snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp) || (f = fopen(tmp, "w")) == NULL)
		return;
	for (i = 0; i < ncases; i++)
		fprintf(f, "%.1f\t%s\t%s\n",
		    cases[i].took >= 0 ? cases[i].took : cases[i].cost,
		    cases[i].suite, cases[i].name);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		unlink(tmp);
}

/* In the child: a log file name of check's, made one per case. */
static void
log_per_case(const char *var, size_t i)
{
	const char *v = getenv(var);
	char buf[4096];

	if (v != NULL && snprintf(buf, sizeof(buf), "%s.%zu", v, i) <
	    (int)sizeof(buf))
		setenv(var, buf, 1);
}

/* Forks the process that runs case i; the child never returns. */
static int
case_start(SRunner *sr, size_t i)
{
	struct tcase_info *ci = &cases[i];
	int p[2];

	if ((ci->out = tmpfile()) == NULL || pipe2(p, O_CLOEXEC) != 0)
		return 0;
	fflush(stdout);
	fflush(stderr);
	clock_gettime(CLOCK_MONOTONIC, &ci->start);
	if ((ci->pid = fork()) < 0)
		return 0;
	if (ci->pid == 0) {
		int j, n, failed = 0, errors = 0;
		TestResult **r;

		close(p[0]);
		if (dup2(fileno(ci->out), STDOUT_FILENO) < 0 ||
		    dup2(fileno(ci->out), STDERR_FILENO) < 0)
			_exit(127);
		log_per_case("CK_XML_LOG_FILE_NAME", i);
		log_per_case("CK_LOG_FILE_NAME", i);
		log_per_case("CK_TAP_LOG_FILE_NAME", i);
		srunner_run_tagged(sr, ci->suite, ci->name, NULL, NULL,
		    CK_SILENT);
		n = srunner_ntests_run(sr);
		r = srunner_results(sr);
		for (j = 0; j < n; j++) {
			if (tr_rtype(r[j]) == CK_FAILURE)
				failed++;
			else if (tr_rtype(r[j]) == CK_ERROR)
				errors++;
		}
		free(r);
		if (failed + errors > 0)
			srunner_print(sr, CK_NORMAL);
		dprintf(p[1], "%d %d %d\n", n, failed, errors);
		/* exit, not _exit: the fixtures' atexit handlers stop the
		 * slapd and MTA they started (tests/support/stack.c). */
		srunner_free(sr);
		exit(0);
	}
	/*
	 * Processes the case leaves behind (a slapd it started) may still
	 * hold the write end: read what is there when the child has ended,
	 * never wait for the end of the pipe.
	 */
	close(p[1]);
	ci->fd = p[0];
	return fcntl(p[0], F_SETFL, O_NONBLOCK) == 0;
}

/* Prints case i's output and adds its results to the run's. */
static void
case_end(size_t i, int status, int *checks, int *failed, int *errors)
{
	struct tcase_info *ci = &cases[i];
	char buf[8192], res[64];
	ssize_t got;
	size_t len = 0, n;
	int c = 0, f = 0, e = 0, died;

	ci->took = skd_test_since(&ci->start);
	while (len < sizeof(res) - 1 && memchr(res, '\n', len) == NULL &&
	    ((got = read(ci->fd, res + len, sizeof(res) - 1 - len)) > 0 ||
	    (got < 0 && errno == EINTR)))
		if (got > 0)
			len += (size_t)got;
	res[len] = '\0';
	close(ci->fd);
	died = sscanf(res, "%d %d %d", &c, &f, &e) != 3 ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	if (died) {
		/* The case's process ended without results: one error. */
		c++;
		e++;
	}
	printf("-- %s:%s: %d checks, %d failures, %d errors (%.1f s)\n",
	    ci->suite, ci->name, c, f, e, ci->took);
	rewind(ci->out);
	while ((n = fread(buf, 1, sizeof(buf), ci->out)) > 0)
		fwrite(buf, 1, n, stdout);
	if (died)
		printf("%s:%s: the process ended without results (wait "
		    "status %d)\n", ci->suite, ci->name, status);
	fclose(ci->out);
	ci->out = NULL;
	fflush(stdout);
	*checks += c;
	*failed += f;
	*errors += e;
}

static int
by_cost(const void *a, const void *b)
{
	const struct tcase_info *x = *(struct tcase_info *const *)a;
	const struct tcase_info *y = *(struct tcase_info *const *)b;

	return (x->cost < y->cost) - (x->cost > y->cost);
}

static int
run_parallel(SRunner *sr, int jobs)
{
	const char *times = getenv("SKD_TEST_TIMES");
	size_t i, j, next = 0;
	int running = 0, checks = 0, failed = 0, errors = 0, pct;

	for (i = 0; i < ncases; i++)
		for (j = 0; j < i; j++)
			if (strcmp(cases[i].suite, cases[j].suite) == 0 &&
			    strcmp(cases[i].name, cases[j].name) == 0) {
				fprintf(stderr, "suite %s has two test cases "
				    "named \"%s\"\n", cases[i].suite,
				    cases[i].name);
				return EXIT_FAILURE;
			}
	times_load(times);
	if ((order = calloc(ncases, sizeof(*order))) == NULL)
		return EXIT_FAILURE;
	for (i = 0; i < ncases; i++)
		order[i] = &cases[i];
	qsort(order, ncases, sizeof(*order), by_cost);
	printf("Running %zu test cases, %d at a time\n", ncases, jobs);
	while (next < ncases || running > 0) {
		int status;
		pid_t pid;

		while (running < jobs && next < ncases) {
			if (!case_start(sr, (size_t)(order[next] - cases))) {
				perror("test runner");
				free(order);
				return EXIT_FAILURE;
			}
			next++;
			running++;
		}
		if ((pid = waitpid(-1, &status, 0)) < 0) {
			if (errno == EINTR)
				continue;
			perror("test runner: waitpid");
			free(order);
			return EXIT_FAILURE;
		}
		for (i = 0; i < ncases; i++)
			if (cases[i].pid == pid && cases[i].out != NULL)
				break;
		if (i == ncases)
			continue;	/* not one of ours */
		running--;
		case_end(i, status, &checks, &failed, &errors);
	}
	free(order);
	times_save(times);
	/* check's summary line, in check's format (check_print.c). */
	pct = failed == 0 && errors == 0 ? 100 : checks == 0 ? 0 :
	    (int)((float)(checks - (failed + errors)) / (float)checks * 100);
	printf("%d%%: Checks: %d, Failures: %d, Errors: %d\n", pct, checks,
	    failed, errors);
	return failed + errors == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int
main(void)
{
	const char *scope = getenv("SKD_TEST_SCOPE");
	const char *suites = getenv("SKD_TEST_SUITES");
	const char *jobs_env = getenv("SKD_TEST_JOBS");
	const char *fork_env = getenv("CK_FORK");
	int jobs = jobs_env != NULL ? atoi(jobs_env) : 1;
	SRunner *sr = NULL;
	int failed;

	if (setenv("SKD_STACK_NOSYNC", "1", 0) != 0)
		return EXIT_FAILURE;

#define SKD_SUITE(name, sc)                                              \
	if ((scope == NULL || strcmp(scope, #sc) == 0) &&                \
	    selected(suites, #name)) {                                   \
		size_t first_ = ncases;                                  \
		Suite *s_ = skd_suite_##name();                          \
		for (; first_ < ncases; first_++)                        \
			if (last_suite == NULL || (cases[first_].suite = \
			    strdup(last_suite)) == NULL)                 \
				abort();                                 \
		if (sr == NULL)                                          \
			sr = srunner_create(s_);                         \
		else                                                     \
			srunner_add_suite(sr, s_);                       \
	}
#include "skd_suites.inc"
#undef SKD_SUITE

	if (sr == NULL)
		return EXIT_FAILURE;
	if (jobs > 1 && (fork_env == NULL || strcmp(fork_env, "no") != 0) &&
	    getenv("CK_RUN_SUITE") == NULL && getenv("CK_RUN_CASE") == NULL) {
		failed = run_parallel(sr, jobs);
		srunner_free(sr);
		return failed;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
