# Copyright (c) 2026 The chatd authors.  See LICENSE.
# chatd -- plain make; see README.md.
#
#   make                 build every program
#   make test            build, then run the unit tests and the bats suite
#   make sanitize        the same under AddressSanitizer + UBSan (build/asan)
#   make valgrind        unit tests and scripted sessions under valgrind
#   make fuzz            libFuzzer targets, FUZZ_SECONDS (60) each
#   make install         PREFIX=/usr/local DESTDIR= (programs, man pages and
#                        contrib/chatd.service into SYSTEMDUNITDIR)
#   make run             PORT=8080 BIND=127.0.0.1 WORKERS=(online CPUs)
#   make compare         the classroom comparison (QUICK=1: under a minute)

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
# Where make install puts contrib/chatd.service (systemd also reads
# /usr/local/lib/systemd/system); empty: no unit installed.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

CC	?= cc
CSTD	 = -std=c11 -D_POSIX_C_SOURCE=200809L
WARN	 = -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
	   -Wmissing-prototypes -Wcast-qual -Wwrite-strings -Wformat=2
CFLAGS	?= -O2 -g
CPPFLAGS ?=
LDFLAGS	?=
LDLIBS	?=
LIBS	 = -pthread

# SANITIZE=address,undefined builds into its own object directory so that
# sanitized and plain objects are never mixed.
SANITIZE ?=
ifeq ($(SANITIZE),)
O	?= build
SANFLAGS =
else
O	 = build/san
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all
endif

# PORTABLE=1 builds the poll()/pipe event loop that other systems use.
ifneq ($(PORTABLE),)
PORTFLAGS = -DEV_PORTABLE
endif

# Cluster mode (chatd -C, server/bridge.c) needs libnats; without it
# chatd is built as always and refuses -C.  CLUSTER=0 leaves it out.
CLUSTER	?= $(shell pkg-config --exists libnats 2>/dev/null && echo 1 || echo 0)
ifeq ($(CLUSTER),1)
CLUSTER_CFLAGS = -DCHATD_CLUSTER $(shell pkg-config --cflags libnats)
CLUSTER_LIBS = $(shell pkg-config --libs libnats)
CLUSTER_SRC = server/cluster.c server/bridge.c server/mirror.c
endif

ALL_CFLAGS = $(CSTD) $(PORTFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -Icommon -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

COMMON	 = common/buf.c common/ev.c common/hub.c common/hub_ring.c common/log.c common/net.c \
	   common/history.c common/longopt.c common/proctitle.c \
	   common/limit.c common/proto.c common/sanitize.c common/util.c
CHATD	 = server/chatd.c server/master.c server/worker.c server/conn.c \
	   server/clients.c server/udp.c server/rrl.c server/listen.c \
	   server/scoreboard.c server/bridgeboard.c server/pidfile.c \
	   server/detach.c $(CLUSTER_SRC)
SELECT	 = server/select.c server/conn.c server/clients.c server/udp.c \
	   server/rrl.c server/listen.c
CHATC	 = client/chatc.c client/complete.c client/dial.c client/histfile.c \
	   client/link.c client/render.c client/term.c client/tty.c \
	   client/udpc.c
BENCH	 = client/chatbench.c client/benchio.c client/stats.c
# The hub's tests, one file per concern, share tests/unit/hub_helpers.c.
HUB_UNITS = tests/unit/test_hub_ring tests/unit/test_hub_wake \
	   tests/unit/test_hub_registry tests/unit/test_hub_recover \
	   tests/unit/test_hub_conc tests/unit/test_hub_stall
UNITS	 = tests/unit/test_proto tests/unit/test_sanitize tests/unit/test_buf \
	   $(HUB_UNITS) tests/unit/test_util tests/unit/test_history \
	   tests/unit/test_render tests/unit/test_hubfile tests/unit/test_rrl \
	   tests/unit/test_limit tests/unit/test_mirror

COMMON_O = $(COMMON:%.c=$(O)/%.o)
PROGS	 = $(O)/chatd $(O)/chatd-select $(O)/chatc $(O)/chatbench
# Test and benchmark tools, built with the programs, never installed.
TOOLS	 = $(O)/udpflood
UNIT_BINS = $(UNITS:%=$(O)/%)
UNIT_O	 = $(O)/tests/unit/unit.o
HUB_HELPERS_O = $(O)/tests/unit/hub_helpers.o
# The suite's fake server, in place of nc (tests/chatc.bats); not installed.
TCPCAT	 = $(O)/tests/tcpcat

all: $(PROGS) $(TOOLS) $(TCPCAT) links

# The programs are always reachable as ./chatd etc., whatever the build dir.
links: $(PROGS) $(TOOLS)
	@for p in $(PROGS) $(TOOLS); do ln -sf $$p .; done

$(O)/chatd: $(CHATD:%.c=$(O)/%.o) $(COMMON_O)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) $(CLUSTER_LIBS) $(LIBS)

# chatd's objects know whether they are built with cluster mode: a
# change of CLUSTER rebuilds them.
CHATD_FLAGS_STAMP = $(O)/server/.cluster-$(CLUSTER)
$(CHATD_FLAGS_STAMP):
	@mkdir -p $(@D)
	@rm -f $(O)/server/.cluster-*
	@touch $@
$(CHATD:%.c=$(O)/%.o): $(CHATD_FLAGS_STAMP)
$(CHATD:%.c=$(O)/%.o): ALL_CFLAGS += $(CLUSTER_CFLAGS)

$(O)/chatd-select: $(SELECT:%.c=$(O)/%.o) $(COMMON_O)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) $(LIBS)

$(O)/chatc: $(CHATC:%.c=$(O)/%.o) $(COMMON_O)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) $(LIBS)

$(O)/chatbench: $(BENCH:%.c=$(O)/%.o) $(COMMON_O)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) $(LIBS) -lm

$(TCPCAT): $(O)/tests/tcpcat.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/unit/test_rrl: $(O)/server/rrl.o
$(O)/tests/unit/test_mirror: $(O)/server/mirror.o

$(O)/udpflood: $(O)/bench/udpflood.o $(COMMON_O)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) $(LIBS)

$(O)/tests/unit/%: $(O)/tests/unit/%.o $(UNIT_O) $(COMMON_O)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) $(LIBS)

# chatc's line reader and renderer are pure enough to test alone.
$(O)/tests/unit/test_render: $(O)/tests/unit/test_render.o \
    $(O)/client/render.o $(O)/client/tty.o $(UNIT_O) $(COMMON_O)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) $(LIBS)

$(HUB_UNITS:%=$(O)/%): $(O)/tests/unit/%: $(O)/tests/unit/%.o \
	    $(HUB_HELPERS_O) $(UNIT_O) $(COMMON_O)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) $(LIBS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t || exit 1; done

# chatd on the portable poll()/pipe event loop, so the fallback that a
# BSD port would use is tested here too.
PORTABLE_CHATD = $(O)/portable/chatd

$(PORTABLE_CHATD): $(CHATD) $(COMMON) $(wildcard common/*.h server/*.h)
	@$(MAKE) -s O=$(O)/portable PORTABLE=1 SANITIZE=$(SANITIZE) \
	    $(PORTABLE_CHATD)

# With cluster mode built in, the suite also checks what chatd -C says
# in a build without it (tests/cluster-cli.bats).
ifeq ($(CLUSTER),1)
NOCLUSTER_CHATD = $(O)/nocluster/chatd

$(NOCLUSTER_CHATD): $(CHATD) $(COMMON) $(wildcard common/*.h server/*.h)
	@$(MAKE) -s O=$(O)/nocluster CLUSTER=0 SANITIZE=$(SANITIZE) \
	    $(NOCLUSTER_CHATD)
endif

# The bats suite ends with its own "N passed, N failed" line (tests/run).
# tools first: a missing one is named with its package, in one line.
test: tools all $(UNIT_BINS) $(PORTABLE_CHATD) $(NOCLUSTER_CHATD) $(TCPCAT) \
    fuzz-bins
	@PORTABLE_CHATD=$(PORTABLE_CHATD) TCPCAT=$(CURDIR)/$(TCPCAT) \
	    NOCLUSTER_CHATD=$(if $(NOCLUSTER_CHATD),$(CURDIR)/$(NOCLUSTER_CHATD)) \
	    FUZZ_BINS="$(FUZZ_BINS)" FUZZ_QUICK=$(FUZZ_QUICK) \
	    sh tests/run $(UNIT_BINS)

tools:
	@CC="$(CC)" sh tests/tools

sanitize:
	$(MAKE) SANITIZE=address,undefined test

# The unit tests, then a scripted session (tests/valgrind.sh) against
# chatd -w 1 and chatd-select, each program under valgrind's leak check.
valgrind: all $(UNIT_BINS)
	@for t in $(UNIT_BINS); do \
	    valgrind -q --error-exitcode=1 --leak-check=full \
	    --trace-children=yes $$t >/dev/null || exit 1; done; \
	echo "valgrind: unit tests clean"
	@CHATC=$(O)/chatc bash tests/valgrind.sh $(O)/chatd -w 1
	@CHATC=$(O)/chatc bash tests/valgrind.sh $(O)/chatd-select

# --- fuzzing: libFuzzer targets in tests/fuzz/ ---------------------------
# Built with clang into build/fuzz when its fuzzer runtime is present.
# make fuzz runs each for FUZZ_SECONDS over its seed corpus
# (tests/fuzz/corpus/NAME, every file a regression input) and keeps a
# crasher there; make test runs each for FUZZ_QUICK seconds.
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_QUICK	?= 3
FUZZ_O		 = build/fuzz
FUZZ_FLAGS	 = -g -O1 -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_NAMES	 = framer sanitize nick util udp rrl display conn
FUZZ_BINS	 = $(FUZZ_NAMES:%=$(FUZZ_O)/fuzz_%)

$(FUZZ_O)/fuzz_framer: common/proto.c
$(FUZZ_O)/fuzz_sanitize $(FUZZ_O)/fuzz_nick $(FUZZ_O)/fuzz_display: \
    common/sanitize.c
$(FUZZ_O)/fuzz_conn: server/conn.c server/clients.c common/buf.c \
    common/history.c common/log.c common/net.c common/proto.c \
    common/sanitize.c common/util.c
$(FUZZ_O)/fuzz_util: common/util.c
$(FUZZ_O)/fuzz_udp: server/udp.c server/rrl.c common/log.c common/net.c
$(FUZZ_O)/fuzz_rrl: server/rrl.c

$(FUZZ_O)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(wildcard common/*.h server/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CSTD) $(WARN) $(FUZZ_FLAGS) -Icommon -Iserver -Itests/fuzz \
	    -o $@ $(filter %.c,$^)

# The targets, or a line saying why not (no clang, or no fuzzer runtime).
fuzz-bins:
	@if printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' | \
	    $(FUZZ_CC) -fsanitize=fuzzer -x c -o /dev/null - 2>/dev/null; \
	then $(MAKE) -s $(FUZZ_BINS); \
	else echo "fuzz: $(FUZZ_CC) has no libFuzzer runtime (apt-get install clang)"; fi

fuzz: fuzz-bins
	@sh tests/fuzz/run -t $(FUZZ_SECONDS) $(FUZZ_BINS)

lint-man:
	mandoc -Tlint -Wwarning man/*.[18]

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(O)/chatd $(O)/chatd-select $(DESTDIR)$(SBINDIR)
	install -m 755 $(O)/chatc $(O)/chatbench $(DESTDIR)$(BINDIR)
	install -m 644 man/chatd.8 man/chatd-select.8 $(DESTDIR)$(MANDIR)/man8
	install -m 644 man/chatc.1 man/chatbench.1 $(DESTDIR)$(MANDIR)/man1
	if [ -n "$(SYSTEMDUNITDIR)" ]; then \
	    install -d $(DESTDIR)$(SYSTEMDUNITDIR) && \
	    sed 's|@SBINDIR@|$(SBINDIR)|g' contrib/chatd.service.in \
	        >$(O)/chatd.service && \
	    install -m 644 $(O)/chatd.service $(DESTDIR)$(SYSTEMDUNITDIR); \
	fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/chatd $(DESTDIR)$(SBINDIR)/chatd-select
	rm -f $(DESTDIR)$(BINDIR)/chatc $(DESTDIR)$(BINDIR)/chatbench
	rm -f $(DESTDIR)$(MANDIR)/man8/chatd.8 $(DESTDIR)$(MANDIR)/man8/chatd-select.8
	rm -f $(DESTDIR)$(MANDIR)/man1/chatc.1 $(DESTDIR)$(MANDIR)/man1/chatbench.1
	if [ -n "$(SYSTEMDUNITDIR)" ]; then \
	    rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/chatd.service; fi

# The classroom comparison (bench/RESULTS.md, compare.png and .svg);
# QUICK=1 for a run of under a minute.  The plot needs gnuplot.
QUICK	?=
compare: all
	@command -v gnuplot >/dev/null 2>&1 || { echo "make compare:" \
	    "gnuplot is missing (Debian: apt-get install gnuplot-nox)" >&2; \
	    exit 1; }
	QUICK=$(QUICK) sh bench/compare

# Builds chatd and runs it in the foreground; after its ready line, one
# line says how to connect.  WORKERS defaults to the online CPUs.
PORT	?= 8080
BIND	?= 127.0.0.1
WORKERS	?= 0
run: all
	@sh contrib/run "$(BIND)" "$(PORT)" "$(WORKERS)"

clean:
	rm -rf build chatd chatc chatd-select chatbench udpflood

# Keep the unit tests' objects: make would delete them as intermediates,
# after the suite's closing line.
.SECONDARY:

.PHONY: all links unit test tools sanitize valgrind lint-man install uninstall \
	run clean compare fuzz fuzz-bins

-include $(shell find build -name '*.d' 2>/dev/null)
