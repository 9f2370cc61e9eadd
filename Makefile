# SPDX-License-Identifier: GPL-2.0
#
# Top-level build.  `make` builds llm.ko (through kbuild, see Kbuild) and
# the userspace side: the shared core as build/libllm.a and llmctl.
#
#   make            module + llmctl
#   make test       every test (unit, fuzz, QEMU); ends "N passed, N failed"
#   make demo       boot a VM, load a model, print what the kernel generates
#   make bench      throughput figures
#   make setup      install the Debian packages the project needs
#
# KDIR selects the kernel headers; by default the newest Debian
# linux-headers-*-amd64 installed (never the running kernel's).

KDIR ?= $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)
BUILD := build
CC ?= gcc

# The shared core, as userspace compiles it.
CORE_SRCS := \
	arena/arena.c \
	llm/gguf.c \
	llm/tokenizer.c \
	llm/model.c \
	llm/forward.c \
	llm/sampler.c \
	llm/generate.c \
	llm/platform_user.c \
	quant/types.c \
	quant/ref.c \
	quant/avx2.c

USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-Wno-sign-compare -Wshadow -ffp-contract=off -fno-math-errno \
	-I. $(EXTRA_CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/rel/%.o)
CORE_SAN_OBJS := $(CORE_SRCS:%.c=$(BUILD)/san/%.o)

# The AVX2 kernels; they run only where llm_cpu_has_avx2() says so.
ifneq ($(filter x86_64-%,$(shell $(CC) -dumpmachine)),)
$(BUILD)/rel/quant/avx2.o $(BUILD)/san/quant/avx2.o: \
	USER_CFLAGS += -mavx2 -mfma -mf16c
endif

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,\
	$(wildcard tests/unit/test_*.c))

.PHONY: all module user test unit-test qemu-test demo bench setup clean \
	checkpatch

all: module user

setup:
	@scripts/setup.sh

module:
	@test -n "$(KDIR)" || { echo "no kernel headers: run 'make setup' (or set KDIR)"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

user: $(BUILD)/libllm.a $(BUILD)/llmctl $(BUILD)/llmctl.static

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -MMD -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -MMD -c $< -o $@

$(BUILD)/libllm.a: $(CORE_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/libllm-san.a: $(CORE_SAN_OBJS)
	$(AR) rcs $@ $^

LLMCTL_SRCS := $(wildcard userctl/*.c)
LLMCTL_OBJS := $(LLMCTL_SRCS:%.c=$(BUILD)/rel/%.o)

$(BUILD)/llmctl: $(LLMCTL_OBJS) $(BUILD)/libllm.a
	$(CC) $(USER_CFLAGS) -o $@ $^ -lm -lpthread

$(BUILD)/llmctl.static: $(LLMCTL_OBJS) $(BUILD)/libllm.a
	$(CC) $(USER_CFLAGS) -static -o $@ $^ -lm -lpthread

# What unit tests link besides the core: the check frame, an independent
# llama2.c-style reference, and the userspace pieces of llmctl they test.
TEST_SUPPORT := tests/unit/check.c tests/unit/ref_llama2c.c \
	userctl/runtime.c $(wildcard userctl/gguf_writer.c)
TEST_SUPPORT_OBJS := $(TEST_SUPPORT:%.c=$(BUILD)/san/%.o)

$(BUILD)/libtest-san.a: $(TEST_SUPPORT_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libtest-san.a $(BUILD)/libllm-san.a
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -o $@ $^ -lm -lpthread

$(BUILD)/bench: bench/bench.c userctl/runtime.c $(BUILD)/libllm.a
	$(CC) $(USER_CFLAGS) -o $@ $^ -lm -lpthread

BENCH_MODELS := $(wildcard ../shared/models/stories260K.gguf \
	../shared/models/stories260K-Q8_0.gguf \
	../shared/models/stories260K-Q4_0.gguf)

bench: $(BUILD)/bench
	@$(BUILD)/bench $(BENCH_MODELS)

unit-test: $(UNIT_TESTS)
	@tests/run-unit.sh $(UNIT_TESTS)

qemu-test: module $(BUILD)/llmctl.static
	@qemu-tests/run.sh

test:
	@scripts/setup.sh
	@tests/run-all.sh

checkpatch:
	@scripts/checkpatch.sh

clean:
	rm -rf $(BUILD)
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
