# SPDX-License-Identifier: BSD-2-Clause
# netglobe: build, test, benchmark, fuzz and install.
# Everything the build writes goes under $(BUILD). `make help` lists the targets.

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
FUZZ_SECONDS ?= 30
# The test captures and databases live in this checkout (tests/data, found from this Makefile's own
# place); NG_TESTDATA=DIR uses another copy. Unit tests also get the in-tree folder compiled in.
NG_ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
NG_TESTDATA_DIR := $(NG_ROOT)/tests/data
NG_TESTDATA ?= $(NG_TESTDATA_DIR)
export NG_TESTDATA

WARN    := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
CSTD    := -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
# daemon/ is grouped by stage; every group's headers are reachable by name.
DAEMON_DIRS := daemon daemon/base daemon/capture daemon/flow daemon/enrich daemon/detect daemon/output daemon/http daemon/platform
INCS    := $(addprefix -I,$(DAEMON_DIRS)) -Igeoip -Iwhitelist -I$(BUILD)/gen
CFLAGS  ?=
CFLAGS  += $(CSTD) $(OPT) $(WARN) $(INCS) -MMD -MP -DNG_DATADIR='"$(PREFIX)/share/netglobe"'
LDLIBS  := -lpcap -lmaxminddb -lmicrohttpd -lcjson -lsqlite3 -lcap -lqrencode -lpsl -lbpf -lelf -lz -lnettle -lm -lpthread
# The kernel half of process attribution: clang compiles it for BPF (CO-RE, against this machine's BTF),
# bpftool embeds it in a skeleton header; libbpf relocates it for the running kernel at load time.
BPF_CLANG ?= clang
BPFTOOL   ?= bpftool
BPF_STRIP ?= llvm-strip
BPF_ARCH  := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/riscv64/riscv/' -e 's/s390x/s390/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

# Every module but main.c goes into one archive, so unit tests and fuzzers link the same code.
# daemon/platform holds one file per system (linux.c, windows.c); the build picks its own.
PLATFORM_OTHER := daemon/platform/windows.c daemon/platform/proc_windows.c
ALL_SRCS := $(filter-out daemon/main.c,$(wildcard $(addsuffix /*.c,$(DAEMON_DIRS)) geoip/*.c whitelist/*.c))
LIB_SRCS := $(filter-out $(PLATFORM_OTHER),$(ALL_SRCS))
GEN_SRCS := $(BUILD)/gen/webassets.c
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) $(BUILD)/obj/gen/webassets.o
LIB      := $(BUILD)/libnetglobe.a
BIN      := $(BUILD)/netglobe

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/*_fuzzer.c)

.PHONY: all deps run test unit integration bench asan fuzz clean install uninstall help web windows windows-deps windows-test

all: $(BIN) $(TOOL_BINS)

help:
	@echo "make            build $(BIN)"
	@echo "make run        install what is missing, build, start capturing (ARGS='...' adds flags)"
	@echo "make test       install what is missing, build, run every test"
	@echo "make bench      benchmarks against tcpdump and other peers, printed as ratios"
	@echo "make asan       ASan+UBSan build and the test suite on it"
	@echo "make fuzz       libFuzzer on every parser for FUZZ_SECONDS each"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)"
	@echo "make windows    cross-build $(WIN)/netglobe.exe (mingw-w64; libraries from Debian's sources)"
	@echo "make windows-test  the Windows build's tests under Wine"

# deps installs missing Debian and npm packages and the default GeoIP data; quick when all is there.
deps:
	@sh .ci/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/gen/vmlinux.h:
	@mkdir -p $(dir $@)
	@test -r $(VMLINUX_BTF) || { echo "no $(VMLINUX_BTF): the BPF program is compiled against the kernel's BTF (VMLINUX_BTF=FILE)" >&2; exit 1; }
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/procattr.bpf.o: daemon/platform/bpf/procattr.bpf.c daemon/platform/bpf/procattr.h $(BUILD)/gen/vmlinux.h
	$(BPF_CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -I$(BUILD)/gen -Idaemon/platform/bpf -Wall -Werror -c -o $@ $<
	$(BPF_STRIP) -g $@

$(BUILD)/gen/procattr.skel.h: $(BUILD)/gen/procattr.bpf.o
	$(BPFTOOL) gen skeleton $< name procattr > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/daemon/platform/procbpf.o: $(BUILD)/gen/procattr.skel.h

# The web page is compiled into the binary: a fixed table of files, so no path can escape it.
# web/build.sh assembles the page (sources plus pinned npm files) into $(BUILD)/web.
WEB_SRCS := $(shell find web -path web/node_modules -prune -o -type f -print 2>/dev/null | LC_ALL=C sort)
$(BUILD)/web.stamp: $(WEB_SRCS)
	@mkdir -p $(BUILD)
	sh web/build.sh $(BUILD)/web
	@touch $@

$(BUILD)/gen/webassets.c: daemon/http/embed.sh $(BUILD)/web.stamp
	@mkdir -p $(dir $@)
	sh daemon/http/embed.sh $(BUILD)/web $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/obj/daemon/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -DNG_TESTDATA_DIR='"$(NG_TESTDATA_DIR)"' -o $@ $< $(LIB) $(LDFLAGS) -lcmocka $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

# Capture on the default interface and serve http://localhost:8080 (ARGS='-i eth0' etc. add flags).
run: deps all
	$(BIN) $(ARGS)

unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(UNIT_BINS)

integration: all
	@sh tests/run-integration.sh $(BUILD)

test: deps all unit integration windows-test

bench: deps all
	@sh tests/bench/run.sh $(BUILD)

# ASan+UBSan: a separate build tree, then the same tests on it.
asan: export NG_SANITIZED := 1
asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" all unit integration

# libFuzzer: one harness per parser, clang, seeded from tests/fuzz/corpus and the test captures.
FUZZ_BUILD := build/fuzz
fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" $(FUZZ_BUILD)/libnetglobe.a
	@set -e; for src in $(FUZZ_SRCS); do \
		name=$$(basename $$src .c); \
		echo "fuzz: building $$name"; \
		clang $(CSTD) -O1 -g $(WARN) -Wno-missing-prototypes $(INCS) -fsanitize=fuzzer,address,undefined \
			-o $(FUZZ_BUILD)/$$name $$src $(FUZZ_BUILD)/libnetglobe.a $(LDLIBS); \
	done
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_SRCS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/netglobe
	@if [ -f docs/netglobe.8 ]; then install -m 0644 docs/netglobe.8 $(DESTDIR)$(PREFIX)/share/man/man8/netglobe.8; fi
	@if [ -f docs/netglobe.service ]; then install -d $(DESTDIR)/etc/systemd/system; \
		sed 's#@PREFIX@#$(PREFIX)#g' docs/netglobe.service > $(DESTDIR)/etc/systemd/system/netglobe.service; fi
	@if [ -f geoip/data/asn.ngasn ]; then install -d $(DESTDIR)$(PREFIX)/share/netglobe/geoip; \
		install -m 0644 $(sort $(wildcard geoip/data/*.mmdb geoip/data/asn.ngasn geoip/data/*LICENSE* geoip/data/ASN-*)) \
		$(DESTDIR)$(PREFIX)/share/netglobe/geoip/; fi
	install -d $(DESTDIR)$(PREFIX)/share/netglobe
	install -m 0644 whitelist/lists/common-updates.allow $(DESTDIR)$(PREFIX)/share/netglobe/
	@if [ -f docs/netglobe.conf.example ]; then install -d $(DESTDIR)$(PREFIX)/share/doc/netglobe; \
		install -m 0644 docs/netglobe.conf.example $(DESTDIR)$(PREFIX)/share/doc/netglobe/netglobe.conf.example; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/netglobe $(DESTDIR)$(PREFIX)/share/man/man8/netglobe.8 \
		$(DESTDIR)/etc/systemd/system/netglobe.service $(DESTDIR)$(PREFIX)/share/doc/netglobe/netglobe.conf.example

clean:
	rm -rf build

# Windows: cross-compiled with mingw-w64 against libraries built from Debian's source packages
# (daemon/platform/windows-deps.sh, cached in $(WIN)/deps). The LGPL libraries are DLLs beside the .exe;
# wpcap.dll (Npcap) is loaded at run time. Only Debian's mingw and Wine packages are added, by windows-deps.
WIN       := $(BUILD)/windows
WIN_CC    := x86_64-w64-mingw32-gcc
WIN_DEPS  := $(WIN)/deps/prefix
# What only Linux has: sock_diag/procfs/BPF attribution and capability-based privilege dropping.
WIN_SKIP  := daemon/platform/linux.c daemon/platform/privs.c daemon/platform/proc_linux.c daemon/platform/procbpf.c
WIN_SRCS  := $(filter-out $(WIN_SKIP),$(ALL_SRCS)) daemon/main.c
WIN_OBJS  := $(patsubst %.c,$(WIN)/obj/%.o,$(WIN_SRCS)) $(WIN)/obj/gen/webassets.o
WIN_CFLAGS := $(CSTD) -O2 -g $(WARN) -Wno-format $(INCS) -I$(WIN_DEPS)/include -D_WIN32_WINNT=0x0600 -D__USE_MINGW_ANSI_STDIO=1 \
	-DPSL_STATIC -MMD -MP
# binmode.o: files and standard streams are binary, as on Linux (no CRLF translation).
WIN_LDLIBS := $(shell $(WIN_CC) -print-file-name=binmode.o 2>/dev/null) -L$(WIN_DEPS)/lib -lmaxminddb -lmicrohttpd -lcjson \
	-lsqlite3 -lqrencode -lpsl -lnettle -lws2_32 -liphlpapi -lbcrypt -ladvapi32 -lshell32 -lole32 -luuid -lm -Wl,-Bstatic -lwinpthread -Wl,-Bdynamic
WIN_DLLS  := libmicrohttpd-12.dll libqrencode.dll libnettle-8.dll

windows-deps:
	@sh .ci/deps.sh windows
	@sh daemon/platform/windows-deps.sh $(WIN)/deps

$(WIN)/deps.stamp: daemon/platform/windows-deps.sh
	@$(MAKE) --no-print-directory windows-deps
	@touch $@

$(WIN)/obj/%.o: %.c $(WIN)/deps.stamp
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -c -o $@ $<

$(WIN)/obj/gen/%.o: $(BUILD)/gen/%.c $(WIN)/deps.stamp
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(WIN)/netglobe.exe: $(WIN_OBJS)
	$(WIN_CC) -o $@ $(WIN_OBJS) $(WIN_LDLIBS)
	@for d in $(WIN_DLLS); do cp $(WIN_DEPS)/bin/$$d $(WIN)/; done
	@cp /usr/share/publicsuffix/public_suffix_list.dafsa $(WIN)/
	@cp whitelist/lists/common-updates.allow $(WIN)/

windows: $(WIN)/netglobe.exe

windows-test: windows
	@sh tests/windows/run.sh $(BUILD)

-include $(shell find $(BUILD) -path $(BUILD)/windows/deps -prune -o -name '*.d' -type f -print 2>/dev/null)
