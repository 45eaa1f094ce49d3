# SPDX-License-Identifier: GPL-2.0-only
#
# One non-recursive build: vmlinux.h -> BPF objects -> skeletons -> core
# library -> retisc binary and plugin .so files -> tests.
#
# Conventions (so adding a file needs no Makefile edit):
#   core/<part>/*.c                     -> build/libretisc-core.a (core/main.c: the binary)
#   bpf/*.bpf.c                         -> build/bpf/<x>.bpf.o + <x>.skel.h
#   plugins/<p>/*.bpf.c                 -> build/plugins/<p>/<x>.bpf.o + .skel.h
#   plugins/<p>/*.c                     -> build/plugins/<p>.so (+ lib<p>.a for tests)
#   processors/<p>/*.c                  -> build/plugins/<p>.so (+ lib<p>.a)
#   sinks/<p>/*.c                       -> build/plugins/<p>.so (+ lib<p>.a)
#   tests/unit/test_<x>.c               -> build/tests/test_<x> (core lib + all
#                                          plugin/processor archives + cmocka)
#   tests/plugins/<x>.c                 -> build/tests/plugins/<x>.so (ABI tests)

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
BUILD ?= build
V ?= 0
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
PREFIX ?= /usr/local
PLUGINDIR ?= $(PREFIX)/lib/retisc/plugins
# Installation layout (`make install`, DESTDIR for staging).
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
PROFILEDIR ?= $(DATADIR)/retisc/profiles
MANDIR ?= $(DATADIR)/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
SANITIZE ?=

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# core/ by concern: host (plugin loading, API table, trust), collect (probes,
# loading, bus), events (decode, render, files, JSON), filters, profiles, lib.
CORE_PARTS := $(filter-out core/include,$(patsubst %/,%,$(wildcard core/*/)))
WARN := -Wall -Wextra -Werror -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -fPIC $(SANITIZE) \
	-Icore/include -Icore $(addprefix -I,$(CORE_PARTS)) -Ibpf/include -I$(BUILD) -I$(BUILD)/gen \
	-DRETISC_PLUGINDIR='"$(PLUGINDIR)"' -DRETISC_PROFILEDIR='"$(PROFILEDIR)"'
LDLIBS := -lbpf -lelf -lz -ldl -lpthread -lyaml -lpcap
TEST_LDLIBS := $(LDLIBS) -lcmocka -ljansson -lnftables -lnftnl -lmnl

# <bpf/usdt.bpf.h> includes <linux/errno.h>, whose <asm/errno.h> lives in the
# multiarch directory; searched last, it only supplies those macros.
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	-Wall -Werror -Wno-unused-function -I$(BUILD) -Ibpf/include \
	-idirafter /usr/include/$(shell $(CC) -print-multiarch)

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean deps test unit-test live-test bench vm-test fleet-vm-test verifier-test format install uninstall \
	fuzz fuzz-build soak

# --- sources ---------------------------------------------------------------
CORE_SRCS := $(wildcard $(addsuffix /*.c,$(CORE_PARTS)))
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o)
CORE_BPF_SRCS := $(wildcard bpf/*.bpf.c)
CORE_SKELS := $(CORE_BPF_SRCS:%.bpf.c=$(BUILD)/%.skel.h)
BPF_HDRS := $(wildcard bpf/include/retisc/*.h) $(wildcard bpf/*.h)
PUB_HDRS := $(wildcard core/include/retisc/*.h) $(wildcard $(addsuffix /*.h,$(CORE_PARTS)))

PLUGIN_DIRS := $(wildcard plugins/*) $(wildcard processors/*) $(wildcard sinks/*)
PLUGIN_NAMES := $(notdir $(PLUGIN_DIRS))
PLUGIN_SOS := $(PLUGIN_NAMES:%=$(BUILD)/plugins/%.so)
PLUGIN_LIBS := $(PLUGIN_NAMES:%=$(BUILD)/plugins/lib%.a)
ALL_PLUGIN_BPF := $(wildcard plugins/*/*.bpf.c)
ALL_PLUGIN_SKELS := $(ALL_PLUGIN_BPF:%.bpf.c=$(BUILD)/%.skel.h)

# Shipped profiles, also copied next to the binary so that a build-tree
# retisc finds them (<dir of the binary>/profiles, last in the search path).
PROFILE_SRCS := $(wildcard profiles/*.yaml)
BUILD_PROFILES := $(PROFILE_SRCS:%=$(BUILD)/%)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_PLUGIN_SRCS := $(wildcard tests/plugins/*.c)
TEST_PLUGINS := $(TEST_PLUGIN_SRCS:tests/plugins/%.c=$(BUILD)/tests/plugins/%.so)
TOOLS := $(patsubst tools/%.c,$(BUILD)/tools/%,$(wildcard tools/*.c))

all: $(BUILD)/retisc $(PLUGIN_SOS) $(TOOLS) $(BUILD_PROFILES)

# --- BPF -------------------------------------------------------------------
$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(BUILD)/%.bpf.o: %.bpf.c $(BUILD)/vmlinux.h $(BPF_HDRS) $(wildcard $(dir $<)*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -I$(dir $<) -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o
	$(Q)rm -f $@.tmp.o

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$(notdir $*)) > $@

# --- core ------------------------------------------------------------------
$(BUILD)/core/%.o: core/%.c $(PUB_HDRS) $(BPF_HDRS) $(CORE_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libretisc-core.a: $(CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# `retisc sh-complete --shell bash` prints contrib/retisc.bash: compiled in
# as a string so that the binary needs no installed file for it.
$(BUILD)/completion.c: contrib/retisc.bash
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q){ echo '/* Generated from contrib/retisc.bash (Makefile). */'; \
	  echo 'extern const char retisc_bash_completion[];'; \
	  echo 'const char retisc_bash_completion[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

$(BUILD)/completion.o: $(BUILD)/completion.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/retisc: $(BUILD)/core/main.o $(BUILD)/completion.o $(BUILD)/libretisc-core.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# --- plugins and processors --------------------------------------------------
define plugin_rules
$(1)_SRCS := $$(filter-out %.bpf.c,$$(wildcard $(2)/*.c))
$(1)_OBJS := $$($(1)_SRCS:%.c=$(BUILD)/%.o)
$(1)_SKELS := $$(patsubst %.bpf.c,$(BUILD)/%.skel.h,$$(wildcard $(2)/*.bpf.c))

$$($(1)_OBJS): $(BUILD)/$(2)/%.o: $(2)/%.c $$($(1)_SKELS) $$($(1)_GEN) $(PUB_HDRS) $(BPF_HDRS) \
		$$(wildcard $(2)/*.h)
	$$(call msg,CC,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(ALL_CFLAGS) $$($(1)_CFLAGS) -I$(2) -I$(BUILD)/$(2) -fvisibility=hidden -c $$< -o $$@

$(BUILD)/plugins/$(1).so: $$($(1)_OBJS) $$($(1)_LINK_OBJS)
	$$(call msg,LINK,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(ALL_CFLAGS) -shared -fvisibility=hidden -o $$@ $$^ -lbpf $$($(1)_LDLIBS)

$(BUILD)/plugins/lib$(1).a: $$($(1)_OBJS)
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
# The JSON Schema of an event (core/events/event_schema.json, data), compiled into
# the processors that use it as a string: `retisc schema` prints it, `retisc
# pcap` stores it in its pcapng custom block.
SCHEMA_H := $(BUILD)/gen/event_schema.h
$(SCHEMA_H): core/events/event_schema.json
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q){ echo '/* Generated from core/events/event_schema.json (Makefile). */'; \
	  echo 'static const char retisc_event_schema[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

# Plugin-specific needs: <name>_CFLAGS, <name>_LDLIBS, <name>_GEN (headers
# generated before its objects compile), <name>_LINK_OBJS (another plugin's
# objects linked into its .so only: its lib<name>.a leaves them out, so that
# the test binaries, which link every archive, see each symbol once).
schema_GEN := $(SCHEMA_H)
pcap_GEN := $(SCHEMA_H)
python_CFLAGS := $(shell pkg-config --cflags python3-embed)
python_LDLIBS := $(shell pkg-config --libs python3-embed)
python_GEN := $(BUILD)/processors/python/python_lib.h
nft_LDLIBS := -lnftables -lnftnl -lmnl -lpcap
# explain and report sort events files with sort's engine, unchanged.
explain_CFLAGS := -Iprocessors/sort
explain_LINK_OBJS := $(BUILD)/processors/sort/sort_engine.o
# The NATS sink needs the NATS C client; without it the plugin still builds
# and says at run time what to install (sinks/nats/nats.c).
ifeq ($(shell pkg-config --exists libnats && echo y),y)
nats_CFLAGS := -DRETISC_HAVE_LIBNATS $(shell pkg-config --cflags libnats)
nats_LDLIBS := $(shell pkg-config --libs libnats) -lpthread
TEST_LDLIBS += $(nats_LDLIBS)
endif
ovs_LDLIBS := -lelf -lpthread

$(foreach d,$(PLUGIN_DIRS),$(eval $(call plugin_rules,$(notdir $(d)),$(d))))

# The python processor's Python classes, compiled in as a string.
$(BUILD)/processors/python/python_lib.h: processors/python/retis.py
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q){ echo '/* Generated from processors/python/retis.py (Makefile). */'; \
	  echo 'static const char retisc_python_lib[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

# --- tools -------------------------------------------------------------------
$(BUILD)/tools/retisc-bench: $(BUILD)/tests/bench/empty.skel.h $(BUILD)/tests/bench/fused.skel.h
$(BUILD)/tools/%: tools/%.c $(BUILD)/libretisc-core.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -I. -o $@ $< $(BUILD)/libretisc-core.a $(LDLIBS)

# --- tests -------------------------------------------------------------------
$(BUILD)/tests/plugins/%.so: tests/plugins/%.c $(PUB_HDRS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -fvisibility=hidden -o $@ $<

# Test binaries find tests/fixtures from the repository root, or else at
# this absolute path (tests/unit/testutil.h).
TEST_CFLAGS := -Itests/unit -DRETISC_TEST_FIXTURE_DIR='"$(abspath tests/fixtures)"'

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libretisc-core.a $(PLUGIN_LIBS) \
		$(ALL_PLUGIN_SKELS) $(SCHEMA_H) $(wildcard tests/unit/*.h)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) $(addprefix -I,$(PLUGIN_DIRS)) \
		$(addprefix -I$(BUILD)/,$(PLUGIN_DIRS)) -o $@ $< \
		-Wl,--start-group $(BUILD)/libretisc-core.a $(PLUGIN_LIBS) -Wl,--end-group \
		$(TEST_LDLIBS)

# The BPF side of the ovs queue id, run by the verifier tests.
$(BUILD)/tests/test_verifier: $(BUILD)/tests/unit/ovs_hash_test.skel.h

# Parser and dissector tests again under AddressSanitizer + UBSan: they read
# untrusted bytes and must never read past them.
ASAN_TESTS := packet json reader decode profile sort_scan ovs_enrich
ASAN_BINS := $(ASAN_TESTS:%=$(BUILD)/tests/asan/test_%)
ASAN_LIB_SRCS := $(CORE_SRCS) $(shell grep -L RETISC_PLUGIN_DEFINE \
	$(filter-out %.bpf.c,$(wildcard plugins/*/*.c processors/*/*.c)) /dev/null | grep -v /dev/null)
$(BUILD)/tests/asan/test_%: tests/unit/test_%.c $(ASAN_LIB_SRCS) $(CORE_SKELS) $(ALL_PLUGIN_SKELS)
	$(call msg,ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=all $(TEST_CFLAGS) $(addprefix -I,$(PLUGIN_DIRS)) \
		$(addprefix -I$(BUILD)/,$(PLUGIN_DIRS)) -o $@ $< $(ASAN_LIB_SRCS) $(TEST_LDLIBS)

# Fuzz targets (tests/fuzz/README.md): clang's libFuzzer with ASan+UBSan over
# the same library sources as the ASan tests; `make fuzz` runs each for
# FUZZ_SECONDS from the seeds in tests/fuzz/corpus/.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 30
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(ASAN_LIB_SRCS) $(CORE_SKELS) \
		$(ALL_PLUGIN_SKELS) $(SCHEMA_H)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(filter-out -O2,$(ALL_CFLAGS)) -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -fno-omit-frame-pointer -Wno-unused-command-line-argument \
		$(addprefix -I,$(PLUGIN_DIRS)) $(addprefix -I$(BUILD)/,$(PLUGIN_DIRS)) -Itests/fuzz \
		-o $@ $< $(ASAN_LIB_SRCS) $(TEST_LDLIBS)

fuzz-build: all $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS)

unit-test: all $(UNIT_BINS) $(TEST_PLUGINS) $(ASAN_BINS)
	$(Q)tests/run-unit.sh $(BUILD)

live-test: all
	$(Q)tests/run-live.sh $(BUILD)

# The Debian packages of the build and the tests (the one list, also run by
# README's set-up command and CI).
deps:
	$(Q)tools/install-deps.sh

# README's test command: unit tests (cmocka), verifier loads, live tests and
# the VM lane, all run whatever one of them gives, then one summary
# (tests/run-all.sh; a VM lane that cannot run here is reported skipped).
test: all $(UNIT_BINS) $(TEST_PLUGINS) $(ASAN_BINS) $(FUZZ_BINS)
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run-all.sh $(BUILD)

bench: all
	$(Q)tests/bench/run.sh $(BUILD)

# Ten minutes of mixed traffic under collect: memory, map occupancy, files
# (tests/soak/run.sh; SOAK_SECONDS). Not part of `make test`.
soak: all
	$(Q)tests/soak/run.sh $(BUILD)

# Kprobe tracking mode live, in Debian's kernel under QEMU (README "VM lane");
# part of make test, or alone.
vm-test: all
	$(Q)tests/vm/run.sh $(BUILD)

# Three kernels, one NATS server: this machine and two VM lane guests (doc/fleet.md §6).
fleet-vm-test: all
	$(Q)tests/vm/fleet.sh $(BUILD)

# --- installation --------------------------------------------------------------
# The plugin SDK: userspace headers, and the BPF hook SDK installed next to
# them so that `#include <retisc/hook.bpf.h>` reads the same in and out of
# the tree.
SDK_HDRS := $(wildcard core/include/retisc/*.h)
BPF_SDK_HDRS := $(addprefix bpf/include/retisc/,hook.bpf.h maps.bpf.h skb.bpf.h ctx.h event.h)
INSTALL ?= install
RETISC_VERSION := $(shell sed -n 's/^\#define RETISC_VERSION "\(.*\)"/\1/p' core/events/version.h)

$(BUILD)/profiles/%.yaml: profiles/%.yaml
	$(call msg,CP,$@)
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@

# The pkg-config file and the man page name the configured directories; the
# former relative to ${prefix} where it can, so that pkg-config's
# --define-prefix can relocate it.
pc_rel = $(if $(filter %.pc,$(2)),$(patsubst $(PREFIX)/%,$${prefix}/%,$(1)),$(1))
$(BUILD)/retisc.pc: retisc.pc.in Makefile
$(BUILD)/retisc.8: doc/retisc.8.in Makefile
$(BUILD)/retisc.pc $(BUILD)/retisc.8:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g;s|@INCLUDEDIR@|$(call pc_rel,$(INCLUDEDIR),$@)|g' \
		-e 's|@PLUGINDIR@|$(call pc_rel,$(PLUGINDIR),$@)|g' \
		-e 's|@PROFILEDIR@|$(call pc_rel,$(PROFILEDIR),$@)|g' \
		-e 's|@VERSION@|$(RETISC_VERSION)|g' \
		$< > $@

install: all $(BUILD)/retisc.pc $(BUILD)/retisc.8
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(PLUGINDIR) \
		$(DESTDIR)$(PROFILEDIR) $(DESTDIR)$(INCLUDEDIR)/retisc \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 0755 $(BUILD)/retisc $(DESTDIR)$(BINDIR)/retisc
	$(INSTALL) -m 0755 $(PLUGIN_SOS) $(DESTDIR)$(PLUGINDIR)/
	$(INSTALL) -m 0644 $(PROFILE_SRCS) $(DESTDIR)$(PROFILEDIR)/
	$(INSTALL) -m 0644 $(SDK_HDRS) $(BPF_SDK_HDRS) $(DESTDIR)$(INCLUDEDIR)/retisc/
	$(INSTALL) -m 0644 $(BUILD)/retisc.pc $(DESTDIR)$(PKGCONFIGDIR)/retisc.pc
	$(INSTALL) -m 0644 $(BUILD)/retisc.8 $(DESTDIR)$(MANDIR)/man8/retisc.8
	$(INSTALL) -m 0644 contrib/retisc.bash $(DESTDIR)$(BASHCOMPDIR)/retisc

# Removes what install put there (the current build's file lists) and the
# directories retisc owns when they are left empty.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/retisc $(DESTDIR)$(PKGCONFIGDIR)/retisc.pc \
		$(DESTDIR)$(MANDIR)/man8/retisc.8 $(DESTDIR)$(BASHCOMPDIR)/retisc \
		$(addprefix $(DESTDIR)$(PLUGINDIR)/,$(notdir $(PLUGIN_SOS))) \
		$(addprefix $(DESTDIR)$(PROFILEDIR)/,$(notdir $(PROFILE_SRCS))) \
		$(addprefix $(DESTDIR)$(INCLUDEDIR)/retisc/,$(notdir $(SDK_HDRS) $(BPF_SDK_HDRS)))
	-rmdir $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(LIBDIR)/retisc $(DESTDIR)$(PROFILEDIR) \
		$(DESTDIR)$(DATADIR)/retisc $(DESTDIR)$(INCLUDEDIR)/retisc 2>/dev/null || true

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
