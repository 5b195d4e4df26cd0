# skd: one build for the library, the programs and the tests.
#
#   make               build build/skd and build/libskd.a
#   make check         build and run every test (unit, directory, interop)
#   make check SAN=1   the same under ASan+UBSan (objects in build-san/)
#   make memcheck      the unit tests under valgrind memcheck
#   make demo          private slapd + GLA, a scenario end to end
#   make bench         benchmarks beside their floors
#   make fuzz          every libFuzzer target for FUZZ_SECONDS each
#   make install       PREFIX=/usr/local DESTDIR= (LIBDIR, MANDIR)
#   make deb           Debian packages skd, libskd0, libskd-dev (../)
#   make clean
#
# WERROR=1 (set by .ci/run) turns warnings into errors.

PREFIX   ?= /usr/local
DESTDIR  ?=
LIBDIR   ?= $(PREFIX)/lib
INCDIR   ?= $(PREFIX)/include
MANDIR   ?= $(PREFIX)/share/man
CC       ?= cc
PKG_CONFIG ?= pkg-config

PKGS      = openssl ldap uuid libcurl jansson
# GMime (and glib under it) only where MIME is parsed and built: src/mail.
MAIL_PKGS = gmime-3.0
TEST_PKGS = check

WARN   = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
         -Wformat=2 -Wno-format-nonliteral
ifeq ($(WERROR),1)
WARN  += -Werror
endif

# The worker's scale test (tests/dir/test_worker.c, issue 14) rekeys a GL
# of SCALE_N members: 20,000 as the issue asks, 5,000 under the
# sanitizers (about four times slower) so that CI's two runs fit.
ifeq ($(SAN),1)
SCALE_N  ?= 5000
BUILD    ?= build-san
SANFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
OPT       = -O1
else
SCALE_N  ?= 20000
BUILD    ?= build
SANFLAGS  =
OPT       = -O2
endif

CPPFLAGS += -Isrc -Itests -I$(BUILD) -D_GNU_SOURCE \
            -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED \
            $(shell $(PKG_CONFIG) --cflags $(PKGS))
CFLAGS   ?= -g $(OPT)
CFLAGS   += -std=c11 -pthread $(WARN) $(SANFLAGS)
LDFLAGS  += $(SANFLAGS)
MAIL_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(MAIL_PKGS))
LIBS      = $(shell $(PKG_CONFIG) --libs $(PKGS) $(MAIL_PKGS)) -pthread
SO_LIBS   = $(shell $(PKG_CONFIG) --libs openssl ldap uuid) -pthread
TEST_LIBS = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS)) $(LIBS)

# Library modules, bottom to top; each may use only those before it.
# skd is the public facade (<skd/skd.h>, skd(3)) over client, cms and
# store.
MODULES ?= asn1 cms kgen mail store engine client skd worker
LIB_SRCS = $(foreach m,$(MODULES),$(sort $(wildcard src/$(m)/*.c)))
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o)

# The shared library: the modules the facade needs, one set of objects
# for it and libskd.a (position independent, hidden unless exported in
# src/skd/skd.h), and the version script fixing what it exports.
SO_MAJOR   = 0
SO_VERSION = 0.1.0
SO_NAME    = libskd.so.$(SO_MAJOR)
SO_MODULES = asn1 cms kgen store client skd
SO_OBJS    = $(foreach m,$(SO_MODULES),$(patsubst %.c,$(BUILD)/%.o,\
             $(sort $(wildcard src/$(m)/*.c))))
SO_MAP     = src/skd/libskd.map
PIC_FLAGS  = -fPIC -fvisibility=hidden
$(LIB_OBJS): CFLAGS += $(PIC_FLAGS)

# Every object depends on a stamp of the flags it is built with, so that
# a change of compiler or flags (a SAN build, -fPIC for the shared
# library) rebuilds what was built before it.  Expanded here, once,
# before any target-specific addition.
FLAGS_LINE := $(CC) $(CPPFLAGS) $(CFLAGS) $(MAIL_CFLAGS) $(LDFLAGS) \
              pic: $(PIC_FLAGS)
CLI_SRCS = $(sort $(wildcard src/cli/*.c))
CLI_OBJS = $(CLI_SRCS:%.c=$(BUILD)/%.o)

# Tests: every tests/{unit,dir,interop}/test_<name>.c defines
# Suite *skd_suite_<name>(void); one runner runs them all.
# TESTS narrows the set while developing, e.g. TESTS='test_asn1*.c'.
TESTS          ?= test_*.c
TEST_SUITE_SRCS = $(sort $(wildcard tests/unit/$(TESTS) tests/dir/$(TESTS) \
                                    tests/interop/$(TESTS)))
TEST_SUPPORT    = $(sort $(wildcard tests/support/*.c))
TEST_SRCS       = $(TEST_SUITE_SRCS) $(TEST_SUPPORT) tests/main.c
TEST_OBJS       = $(TEST_SRCS:%.c=$(BUILD)/%.o)
# "SKD_SUITE(name, scope)" for each, scope being unit, dir or interop.
SUITE_LINES     = $(foreach f,$(TEST_SUITE_SRCS),"SKD_SUITE($(patsubst test_%.c,%,$(notdir $(f))), $(notdir $(patsubst %/,%,$(dir $(f)))))")

FUZZ_SRCS  = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  = $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 60

.PHONY: FORCE all check check-run memcheck demo bench fuzz fuzz-smoke install \
        clean setup deb

all: $(BUILD)/skd $(BUILD)/libskd.a $(BUILD)/libskd.so.$(SO_VERSION)

setup:
	@tools/setup

$(BUILD)/libskd.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libskd.so.$(SO_VERSION): $(SO_OBJS) $(SO_MAP)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(SO_NAME) \
	    -Wl,--version-script=$(SO_MAP) -Wl,--no-undefined \
	    -o $@ $(SO_OBJS) $(SO_LIBS)
	ln -sf libskd.so.$(SO_VERSION) $(BUILD)/$(SO_NAME)
	ln -sf $(SO_NAME) $(BUILD)/libskd.so

$(BUILD)/skd: $(CLI_OBJS) $(BUILD)/libskd.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libskd.a $(LIBS)

$(BUILD)/flags.stamp: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '$(FLAGS_LINE)' > $@.tmp
	@if ! cmp -s $@.tmp $@; then mv $@.tmp $@; else rm -f $@.tmp; fi

$(BUILD)/%.o: %.c $(BUILD)/flags.stamp
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/src/mail/%.o: src/mail/%.c $(BUILD)/flags.stamp
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(MAIL_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# The suite list is generated from the file names, so adding a suite is
# adding a file.
$(BUILD)/skd_suites.inc: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' $(SUITE_LINES) > $@.tmp
	@if ! cmp -s $@.tmp $@; then mv $@.tmp $@; else rm -f $@.tmp; fi

$(TEST_OBJS): $(BUILD)/skd_suites.inc

# The tests' server-side key generation goes through a pool of RSA keys
# that make memcheck reads (tests/support/kgen_pool.c).
$(BUILD)/skd-tests: $(TEST_OBJS) $(BUILD)/libskd.a
	$(CC) $(LDFLAGS) -Wl,--wrap=skd_kgen_generate -o $@ $(TEST_OBJS) \
	    $(BUILD)/libskd.a $(TEST_LIBS)

# make check: every suite, one summary line at the end (check's format).
# Test keys are cached between runs (tests/support/pki.c).  The test
# cases run CHECK_JOBS at a time (tests/main.c), longest first by the
# last run's times (build/test-times); CHECK_JOBS=1 runs them one by one
# in one process, as check alone does.
CHECK_JOBS ?= $(shell echo $$(( $$(nproc) + 1 )))
TEST_ENV = SKD_TOP=$(CURDIR) SKD_BIN=$(CURDIR)/$(BUILD)/skd \
           SKD_BUILD=$(BUILD) SKD_SANFLAGS='$(SANFLAGS)' \
           SKD_TEST_KEY_CACHE=$(CURDIR)/build/test-keys \
           SKD_TEST_SCALE_N=$(SCALE_N)

check: all $(BUILD)/skd-tests
	@mkdir -p build
	$(TEST_ENV) SKD_TEST_JOBS=$(CHECK_JOBS) \
	    SKD_TEST_TIMES=$(CURDIR)/build/test-times $(BUILD)/skd-tests

# The unit suites under valgrind memcheck, unforked so that leaks are
# seen, one process per suite, as many at a time as there are cores.
# The two longest under valgrind (server-side key generation, the
# engine's flows) first, so that the others fill the other cores beside
# them rather than after them.  The RSA keys the GLA generates come from
# the pool the earlier runs kept (SKD_TEST_KGEN_POOL,
# tests/support/kgen_pool.c): generated under valgrind they took ten
# minutes.
MEMCHECK_FIRST = engine_keygen engine
UNIT_SUITES = $(filter $(MEMCHECK_FIRST),$(_UNIT_ALL)) \
              $(filter-out $(MEMCHECK_FIRST),$(_UNIT_ALL))
_UNIT_ALL   = $(patsubst test_%.c,%,$(notdir $(wildcard tests/unit/$(TESTS))))
VALGRIND    = valgrind --quiet --error-exitcode=99 --leak-check=full \
              --show-leak-kinds=definite,indirect \
              --errors-for-leak-kinds=definite,indirect

memcheck: all $(BUILD)/skd-tests
	@printf '%s\n' $(UNIT_SUITES) | xargs -P "$$(nproc)" -I{} sh -c \
	    't0=$$(date +%s); \
	     out=$$($(TEST_ENV) CK_FORK=no SKD_TEST_KGEN_POOL=1 \
	        SKD_TEST_SUITES={} \
	        $(VALGRIND) $(BUILD)/skd-tests 2>&1); rc=$$?; \
	     echo "memcheck {} ($$(( $$(date +%s) - t0 )) s):" \
	        "$$(echo "$$out" | grep "Checks:")"; \
	     if [ $$rc -ne 0 ]; then echo "$$out"; exit 255; fi'

demo: all
	tools/demo

BENCH_BINS = $(patsubst tests/bench/bench_%.c,$(BUILD)/skd-bench-%,\
             $(wildcard tests/bench/bench_*.c))

$(BUILD)/skd-bench-%: tests/bench/bench_%.c $(BUILD)/libskd.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libskd.a $(LIBS)

bench: all $(BENCH_BINS)
	BUILD=$(BUILD) tools/bench

# Fuzz targets link only the decoding modules, with the body headers the
# regression suite shares (tests/fuzz/fuzz_*_body.h); mail brings GMime;
# kgen for the POP request decoder (fuzz_keygen).
FUZZ_MODULES  ?= asn1 cms kgen mail
FUZZ_LIB_SRCS  = $(foreach m,$(FUZZ_MODULES),$(sort $(wildcard src/$(m)/*.c)))
FUZZ_HDRS      = $(wildcard tests/fuzz/*.h)
FUZZ_RUNS     ?= 20000

build-fuzz/%: tests/fuzz/%.c $(FUZZ_HDRS) $(FUZZ_LIB_SRCS)
	@mkdir -p $(@D)
	clang $(CPPFLAGS) $(MAIL_CFLAGS) -g -O1 \
	    -fsanitize=fuzzer,address,undefined \
	    -o $@ $< $(FUZZ_LIB_SRCS) $(LIBS)

fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
	    n=$$(basename $$f); mkdir -p build-fuzz/corpus/$$n; \
	    echo "== $$n ($(FUZZ_SECONDS)s)"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) build-fuzz/corpus/$$n \
	        tests/fuzz/corpus/$$n || exit 1; \
	done

# A short run of every target from its seeds (CI); a fresh first corpus
# directory, since libFuzzer writes what it finds into the first one.
fuzz-smoke: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
	    n=$$(basename $$f); rm -rf build-fuzz/smoke/$$n; \
	    mkdir -p build-fuzz/smoke/$$n; \
	    echo "== $$n ($(FUZZ_RUNS) runs)"; \
	    $$f -runs=$(FUZZ_RUNS) -max_total_time=30 \
	        build-fuzz/smoke/$$n tests/fuzz/corpus/$$n \
	        > build-fuzz/smoke/$$n.log 2>&1 || \
	        { cat build-fuzz/smoke/$$n.log; exit 1; }; \
	    tail -n 1 build-fuzz/smoke/$$n.log; \
	done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/skd/schema \
	    $(DESTDIR)$(PREFIX)/share/skd/ldif $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/skd
	install -m 0755 $(BUILD)/skd $(DESTDIR)$(PREFIX)/bin/skd
	install -m 0755 tools/skd-setup-directory \
	    $(DESTDIR)$(PREFIX)/bin/skd-setup-directory
	install -m 0644 schema/* $(DESTDIR)$(PREFIX)/share/skd/schema/
	install -m 0644 ldif/*.ldif $(DESTDIR)$(PREFIX)/share/skd/ldif/
	install -m 0644 docs/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/man/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 0644 docs/man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 tools/skd-gla.service tools/skd-gla.conf.example \
	    $(DESTDIR)$(PREFIX)/share/skd/
	install -m 0644 $(BUILD)/libskd.so.$(SO_VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libskd.so.$(SO_VERSION) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(LIBDIR)/libskd.so
	install -m 0644 src/skd/skd.h $(DESTDIR)$(INCDIR)/skd/skd.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(SO_VERSION)|' \
	    src/skd/skd.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/skd.pc

# Debian packages (skd, libskd0, libskd-dev) from tools/debian, built in a
# copy of the tree; the .deb files land in $(BUILD)/deb.  Not part of
# make check: a package build takes minutes (docs/operations.md).
deb:
	tools/build-deb $(BUILD)/deb

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(TEST_OBJS:.o=.d)
