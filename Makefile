# kinkd: one non-recursive GNU Makefile.  On a fresh checkout `make` runs
# autoconf and ./configure itself; config.mk carries what they found.
#
#   make [all]        kinkd and kinkctl                      (build/)
#   make SAN=1        same with ASan+UBSan                   (build-san/)
#   make KRB5=heimdal [SAN=1]  against Heimdal instead of MIT (build-heimdal/,
#                     build-heimdal-san/); KRB5=mit the other way round when
#                     ./configure --with-krb5=heimdal made Heimdal the default
#   make tests        the test programs and tools
#   make check        tests, then every test tier: "N passed, N failed"
#   make check VALGRIND=1   unit tier under valgrind (plain build)
#   make fuzz         libFuzzer harnesses, FUZZ_TIME seconds each
#   make deps         install build and test packages (Debian, as root)
#   make mutants      tests/mutants/list, each in a scratch copy of the tree
#   make install      PREFIX/DESTDIR/sysconfdir aware
#
# In a clone, ./autogen.sh generates ./configure (plain `make` also runs it
# on demand, with the default prefix); Debian's package is debian/.

ifeq ($(filter deps mutants clean distclean,$(MAKECMDGOALS)),)
-include config.mk
endif

SAN ?=
VALGRIND ?=
ifeq ($(VALGRIND),1)
SAN :=
endif
# Kerberos library: configure's choice unless KRB5=mit|heimdal says
# otherwise.  A Heimdal build gets its own directory and -DKINK_HEIMDAL,
# which only src/krb*.c look at (docs/arch/krb.md).
KRB5 ?= $(KRB5_DEFAULT)
ifeq ($(KRB5),heimdal)
KRB5_CFLAGS := $(KRB5_HEIMDAL_CFLAGS) -DKINK_HEIMDAL=1
KRB5_LIBS := $(KRB5_HEIMDAL_LIBS)
KRB5_DIR := -heimdal
else
KRB5_CFLAGS := $(KRB5_MIT_CFLAGS)
KRB5_LIBS := $(KRB5_MIT_LIBS) -lgssapi_krb5
KRB5_DIR :=
endif
ifneq ($(filter-out mit heimdal,$(KRB5)),)
$(error KRB5=$(KRB5): expected mit or heimdal)
endif
ifneq ($(KRB5_DEFAULT),)
ifeq ($(strip $(KRB5_LIBS)),-lgssapi_krb5)
$(error MIT Kerberos was not found by ./configure: apt-get install libkrb5-dev, then ./configure)
endif
ifeq ($(strip $(KRB5_LIBS)),)
$(error Heimdal was not found by ./configure: apt-get install heimdal-multidev, then ./configure)
endif
endif
B ?= build$(KRB5_DIR)$(if $(SAN),-san)
FUZZ_TIME ?= 60
FUZZ_SMOKE ?= 20

WARN := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
OPT ?= -O2 -g
ALL_CPPFLAGS := -D_GNU_SOURCE -I. -Iinclude -Isrc -Itests/lib $(KRB5_CFLAGS) \
	$(EVENT_CFLAGS) $(BSD_CFLAGS) $(CRYPTO_CFLAGS) $(SYSTEMD_CFLAGS) $(SECCOMP_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS := -std=gnu11 $(OPT) $(WARN) $(if $(SAN),$(SANFLAGS)) $(CFLAGS)
ALL_LDFLAGS := $(if $(SAN),$(SANFLAGS)) $(LDFLAGS)
LIBS := $(KRB5_LIBS) $(EVENT_LIBS) $(BSD_LIBS) $(CRYPTO_LIBS) \
	$(SYSTEMD_LIBS) $(SECCOMP_LIBS) -lpthread

PROG_SRCS := $(wildcard src/kinkd.c src/kinkctl.c)
LIB_SRCS := $(filter-out $(PROG_SRCS),$(wildcard src/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
PROGS := $(PROG_SRCS:src/%.c=$(B)/%)
TESTLIB_OBJS := $(B)/tests/lib/test.o
TEST_SRCS := $(wildcard tests/unit/test_*.c tests/krb/test_*.c \
	tests/host/test_*.c tests/vm/test_*.c)
TESTS := $(TEST_SRCS:%.c=$(B)/%)
TOOL_SRCS := $(wildcard tests/tools/*.c tests/bench/*.c)
TOOLS := $(TOOL_SRCS:%.c=$(B)/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS := $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/%)

# The daemon with its test hooks (tests/lib/kinkd_test.c): what the
# daemon, host, vm and bench tiers run.  The installed kinkd has none.
TEST_DAEMON := $(B)/tests/kinkd-test

all: programs
programs: $(PROGS)
tests: $(PROGS) $(TEST_DAEMON) $(TESTS) $(TOOLS)

# Grouped: one ./configure run makes both, even under make -j.  A re-run
# keeps the arguments of the first (--with-krb5=heimdal, --sysconfdir):
# config.status --recheck runs configure again with them.
config.mk config.h &: configure config.mk.in
	@if [ -x config.status ]; then \
	  echo "./config.status --recheck (configure with its first arguments)"; \
	  ./config.status --recheck >/dev/null && ./config.status -q; \
	else ./configure -q; fi
configure config.h.in &: configure.ac
	@command -v autoconf >/dev/null || { \
	  echo "autoconf not found: run 'make deps' (or apt-get install autoconf)"; exit 1; }
	autoheader && autoconf

$(B)/%.o: %.c config.h $(wildcard src/*.h include/*.h tests/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libkink.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/kinkd $(B)/kinkctl: $(B)/%: $(B)/src/%.o $(B)/libkink.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(TESTS) $(TOOLS): $(B)/%: $(B)/%.o $(TESTLIB_OBJS) $(B)/libkink.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(TEST_DAEMON): $(B)/tests/lib/kinkd_test.o $(B)/libkink.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# libFuzzer needs clang; the library is rebuilt with clang in build-fuzz/.
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all
build-fuzz/%.o: %.c config.h $(wildcard src/*.h include/*.h tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 $(ALL_CPPFLAGS) $(FUZZ_FLAGS) -c -o $@ $<
# Through an archive, like the main build: a harness pulls in only the
# objects it needs, so one module's unresolved symbol cannot break the others.
build-fuzz/libkink.a: $(LIB_SRCS:%.c=build-fuzz/%.o)
	rm -f $@ && ar rcs $@ $^
build-fuzz/fuzz_%: build-fuzz/tests/fuzz/fuzz_%.o build-fuzz/libkink.a
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

fuzzers: $(FUZZERS)
fuzz: $(FUZZERS)
	FUZZ_TIME=$(FUZZ_TIME) sh tests/fuzz/run.sh

check: tests
	@B=$(B) VALGRIND=$(VALGRIND) FUZZ_SMOKE=$(FUZZ_SMOKE) \
	  MAKE="$(MAKE)" sh tests/lib/harness.sh $(TIERS)

deps:
	sh tests/deps.sh

# Each mutant of a security check, applied to a scratch copy of the tracked
# files, must make its named tests fail (docs/arch/mutants.md).
mutants:
	sh tests/mutants/run.sh

# make install [PREFIX=/usr] [sysconfdir=/etc] [DESTDIR=...] [unitdir=...]
#   [sysusersdir=...]
# installs what $(B) holds.  The pages and the unit name /usr/sbin and
# /etc/kinkd.*; they are rewritten to sbindir and to the paths kinkd was
# configured with (config.h), which is what the installed binary uses.  An
# existing kinkd.conf is never overwritten; the example is always installed
# as kinkd.conf.example.
ifdef PREFIX
prefix = $(PREFIX)
endif
prefix ?= /usr/local
exec_prefix ?= $(prefix)
sbindir ?= $(exec_prefix)/sbin
datarootdir ?= $(prefix)/share
mandir ?= $(datarootdir)/man
sysconfdir ?= $(prefix)/etc
unitdir ?= $(prefix)/lib/systemd/system
sysusersdir ?= $(prefix)/lib/sysusers.d
bashcompdir ?= $(datarootdir)/bash-completion/completions
# kinkctl -j's schema, for scripts that check what they parse
schemadir ?= $(datarootdir)/kinkd
MAN5 := man/kinkd.conf.5
MAN8 := man/kinkd.8 man/kinkctl.8
CONFIG_PATH = sed -n 's/^\#define $(1) "\(.*\)"$$/\1/p' config.h

install: $(B)/kinkd $(B)/kinkctl config.h
	install -d $(DESTDIR)$(sbindir) $(DESTDIR)$(mandir)/man5 \
	  $(DESTDIR)$(mandir)/man8 $(DESTDIR)$(sysconfdir) $(DESTDIR)$(unitdir) \
	  $(DESTDIR)$(sysusersdir) $(DESTDIR)$(bashcompdir) $(DESTDIR)$(schemadir)
	install -m 644 etc/kinkctl.bash-completion $(DESTDIR)$(bashcompdir)/kinkctl
	install -m 644 etc/kinkctl.schema.json $(DESTDIR)$(schemadir)/kinkctl.schema.json
	install -m 755 $(B)/kinkd $(B)/kinkctl $(DESTDIR)$(sbindir)/
	@conf=$$($(call CONFIG_PATH,KINKD_CONF)); \
	keytab=$$($(call CONFIG_PATH,KINKD_KEYTAB)); \
	fix="s|/etc/kinkd\.conf|$$conf|g; s|/etc/kinkd\.keytab|$$keytab|g; s|/usr/share/kinkd/|$(schemadir)/|g"; \
	for m in $(MAN5) $(MAN8); do \
	  d=$(DESTDIR)$(mandir)/man$${m##*.}/$${m#man/}; \
	  echo "install $$m -> $$d"; \
	  sed "$$fix" $$m > $$d && chmod 644 $$d || exit 1; \
	done; \
	echo "install etc/kinkd.service -> $(DESTDIR)$(unitdir)/kinkd.service"; \
	sed -e "s|/usr/sbin/|$(sbindir)/|g" -e "s|/etc/kinkd\.conf|$(sysconfdir)/kinkd.conf|g" \
	  -e "s|/etc/kinkd\.keytab|$$keytab|g" etc/kinkd.service \
	  > $(DESTDIR)$(unitdir)/kinkd.service || exit 1; \
	chmod 644 $(DESTDIR)$(unitdir)/kinkd.service; \
	user=$$($(call CONFIG_PATH,KINKD_USER)); \
	echo "install etc/kinkd.sysusers -> $(DESTDIR)$(sysusersdir)/kinkd.conf"; \
	sed "s/_kinkd/$$user/g" etc/kinkd.sysusers \
	  > $(DESTDIR)$(sysusersdir)/kinkd.conf || exit 1; \
	chmod 644 $(DESTDIR)$(sysusersdir)/kinkd.conf; \
	if [ -z "$(DESTDIR)" ] && ! getent passwd "$$user" >/dev/null; then \
	  echo "note: no user $$user yet: systemd-sysusers creates it" \
	    "(kinkd runs as root without it)"; \
	fi; \
	if [ "$$conf" != "$(sysconfdir)/kinkd.conf" ]; then \
	  echo "note: kinkd was configured to read $$conf by default; the unit" \
	    "passes -f $(sysconfdir)/kinkd.conf (./configure --sysconfdir to change)"; \
	fi
	install -m 644 etc/kinkd.conf $(DESTDIR)$(sysconfdir)/kinkd.conf.example
	@if [ -e $(DESTDIR)$(sysconfdir)/kinkd.conf ]; then \
	  echo "keeping the existing $(DESTDIR)$(sysconfdir)/kinkd.conf" \
	    "(the new example is kinkd.conf.example)"; \
	else \
	  echo "install -m 644 etc/kinkd.conf $(DESTDIR)$(sysconfdir)/kinkd.conf"; \
	  install -m 644 etc/kinkd.conf $(DESTDIR)$(sysconfdir)/kinkd.conf; \
	fi

# Leaves kinkd.conf alone: it is the administrator's.
uninstall:
	rm -f $(DESTDIR)$(sbindir)/kinkd $(DESTDIR)$(sbindir)/kinkctl \
	  $(MAN5:man/%=$(DESTDIR)$(mandir)/man5/%) \
	  $(MAN8:man/%=$(DESTDIR)$(mandir)/man8/%) \
	  $(DESTDIR)$(unitdir)/kinkd.service \
	  $(DESTDIR)$(sysusersdir)/kinkd.conf \
	  $(DESTDIR)$(bashcompdir)/kinkctl \
	  $(DESTDIR)$(schemadir)/kinkctl.schema.json \
	  $(DESTDIR)$(sysconfdir)/kinkd.conf.example
	-rmdir $(DESTDIR)$(schemadir) 2>/dev/null

clean:
	rm -rf build build-san build-heimdal build-heimdal-san build-fuzz
distclean: clean
	rm -rf config.mk config.h config.log config.status configure autom4te.cache

.PHONY: all programs tests check fuzz fuzzers deps mutants install uninstall clean distclean
.SECONDARY:
