# SPDX-License-Identifier: GPL-2.0
#
# Top-level build.  `make` builds llm.ko (through kbuild, see Kbuild) and
# the userspace side: the shared core as build/libllm.a and llmctl.
#
#   make            module + llmctl
#   make test       every test (unit, fuzz, QEMU); ends "N passed, N failed"
#   make demo       boot a VM, load a model, print what the kernel generates
#   make demo-test  make demo with the default and a stories110M-sized model
#   make bench      throughput: llm vs llama.cpp, kernel vs userspace
#   make mmbench    the matrix kernels alone (MMBENCH_ARGS="-t q4_0 ...")
#   make fpu-bound  the longest FPU section, measured natively
#   make setup      install the Debian packages the project needs
#   make debug-kernel, make debug-test
#                   the QEMU suite on the debug kernels: KASAN and KCSAN
#                   flavours, each with lockdep and kmemleak
#                   (DEBUG_FLAVOUR=kasan or kcsan for one)
#   make other-kernel-test
#                   the QEMU suite on Debian 12's 6.12 kernel
#
# KDIR selects the kernel headers; by default the newest Debian
# linux-headers-*-amd64 installed (never the running kernel's).

KDIR ?= $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)
BUILD := build
# The small model files the demo and the tests use ship in the tree
# (models/README.md says where each came from).
MODELS := models
CC ?= gcc

# The Unicode classes of the BPE pre-tokenizers, from Debian's
# unicode-data (make setup installs it), generated, not typed in; defined
# before any rule names it.
UNICODE_H := llm/core/unicode_tables.h

# The shared core, as userspace compiles it.
CORE_SRCS := \
	arena/arena.c \
	llm/core/gguf.c \
	llm/core/tokenizer.c \
	llm/core/bpe.c \
	llm/core/unicode.c \
	llm/core/arch.c \
	llm/core/model.c \
	llm/core/exec.c \
	llm/core/kv.c \
	llm/core/slice.c \
	llm/core/forward.c \
	llm/core/sample.c \
	llm/core/sampler.c \
	llm/core/generate.c \
	llm/core/chat.c \
	llm/core/platform_user.c \
	quant/types.c \
	quant/repack.c \
	quant/ref.c \
	quant/kquants.c \
	quant/avx2.c \
	quant/avx512vnni.c
# the network ring's wire format (netfilter/wire.h): shared core too
CORE_SRCS += netfilter/wire.c

USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-Wno-sign-compare -Wshadow -ffp-contract=off -fno-math-errno \
	-I. $(EXTRA_CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/rel/%.o)
CORE_SAN_OBJS := $(CORE_SRCS:%.c=$(BUILD)/san/%.o)

# The SIMD kernels; they run only where llm_cpu_has_avx2() and
# llm_cpu_has_avx512vnni() say so (llm_kernels_pick()).
AVX2_FLAGS := -mavx2 -mfma -mf16c
VNNI_FLAGS := $(AVX2_FLAGS) -mavx512vl -mavx512vnni
ifneq ($(filter x86_64-%,$(shell $(CC) -dumpmachine)),)
$(BUILD)/rel/quant/avx2.o $(BUILD)/san/quant/avx2.o: \
	USER_CFLAGS += $(AVX2_FLAGS)
$(BUILD)/rel/quant/avx512vnni.o $(BUILD)/san/quant/avx512vnni.o: \
	USER_CFLAGS += $(VNNI_FLAGS)
endif

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,\
	$(wildcard tests/unit/test_*.c))

.PHONY: all module module-build user tools samples qemu-extra test unit-test qemu-test demo bench bench-run mmbench setup soak \
	sampler-bench \
	debug-kernel debug-test other-kernel-test test-kmods demo-test ring-test bench-ring \
	clean checkpatch fuzz-test fuzz-gguf fuzz-tokenizer hostile-corpus \
	fpu-bound

all: module user

setup:
	@scripts/setup.sh

# make module also checks that no FPU object brackets or yields itself
# (scripts/fpu-check.sh); what only needs llm.ko built depends on
# module-build, so that the check's line comes once in make test.
module: module-build
	@scripts/fpu-check.sh

module-build: $(UNICODE_H)
	@test -n "$(KDIR)" || { echo "no kernel headers: run 'make setup' (or set KDIR)"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

user: $(BUILD)/libllm.a $(BUILD)/llmctl $(BUILD)/llmctl.static

$(UNICODE_H): scripts/gen-unicode.sh
	scripts/gen-unicode.sh > $@.tmp && mv $@.tmp $@

$(BUILD)/rel/%.o: %.c | $(UNICODE_H)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -MMD -c $< -o $@

$(BUILD)/san/%.o: %.c | $(UNICODE_H)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -MMD -c $< -o $@

$(BUILD)/libllm.a: $(CORE_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/libllm-san.a: $(CORE_SAN_OBJS)
	$(AR) rcs $@ $^

LLMCTL_SRCS := $(filter-out userctl/cmd_serve.c,$(wildcard userctl/*.c))
LLMCTL_OBJS := $(LLMCTL_SRCS:%.c=$(BUILD)/rel/%.o)

# llmctl convert hf reads JSON with Debian's jansson, llmctl serve speaks
# HTTP with Debian's libmicrohttpd (make setup).  libmicrohttpd is built
# with GnuTLS, whose p11-kit Debian ships no static library of, so
# llmctl.static (the QEMU guests' llmctl) has serve/none.c instead of
# cmd_serve.c: serve is in the dynamically linked llmctl only.
$(BUILD)/llmctl: $(LLMCTL_OBJS) $(BUILD)/rel/userctl/cmd_serve.o $(BUILD)/libllm.a
	$(CC) $(USER_CFLAGS) -o $@ $^ -lmicrohttpd -ljansson -lm -lpthread

$(BUILD)/llmctl.static: $(LLMCTL_OBJS) $(BUILD)/rel/userctl/serve/none.o $(BUILD)/libllm.a
	$(CC) $(USER_CFLAGS) -static -o $@ $^ -ljansson -lm -lpthread

# What unit tests link besides the core: the check frame, an independent
# llama2.c-style reference, the userspace pieces of llmctl they test, and
# the hostile GGUF generator (shared with mkhostile).
TEST_SUPPORT := tests/unit/check.c tests/unit/ref_llama2c.c \
	userctl/runtime.c $(wildcard userctl/gguf_writer.c) \
	tests/unit/gguf_hostile.c tests/unit/synth_model.c \
	userctl/modelfile.c userctl/convert.c userctl/quantize.c \
	userctl/convert_hf.c userctl/convert_hf_arch.c
TEST_SUPPORT_OBJS := $(TEST_SUPPORT:%.c=$(BUILD)/san/%.o)

$(BUILD)/libtest-san.a: $(TEST_SUPPORT_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libtest-san.a $(BUILD)/libllm-san.a
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -o $@ $^ -ljansson -lm -lpthread

$(BUILD)/bench: bench/bench.c userctl/runtime.c $(BUILD)/libllm.a
	$(CC) $(USER_CFLAGS) -o $@ $^ -lm -lpthread

# How long the sampler's FPU sections are on a 131072-token vocabulary
# (bench/sampler.c; not part of make bench or make test).
$(BUILD)/sampler-bench: bench/sampler.c $(BUILD)/libllm.a
	$(CC) $(USER_CFLAGS) -o $@ $^ -lm -lpthread

sampler-bench: $(BUILD)/sampler-bench
	@$(BUILD)/sampler-bench

# The matrix kernels alone (bench/mmbench.c); not part of make test.
$(BUILD)/mmbench: bench/mmbench.c $(BUILD)/libllm.a
	$(CC) $(USER_CFLAGS) -o $@ $^ -lm -lpthread

mmbench: $(BUILD)/mmbench
	@$(BUILD)/mmbench $(MMBENCH_ARGS)

# for the QEMU guests (scripts/bench-qemu.sh), which have no C library
$(BUILD)/bench.static: bench/bench.c userctl/runtime.c $(BUILD)/libllm.a
	$(CC) $(USER_CFLAGS) -static -o $@ $^ -lm -lpthread

$(BUILD)/membw: bench/membw.c
	$(CC) $(USER_CFLAGS) -o $@ $^ -lpthread

# make bench: two tables (docs/benchmarks.md).  First llm against
# llama.cpp (Debian's, fetched by scripts/fetch-llama.sh) in userspace on
# synthetic models of real shapes, per type and thread count, with the
# decode speed the memory bandwidth allows (scripts/bench-llama.sh); then
# the kernel against userspace in a QEMU guest per shape
# (scripts/bench-qemu.sh).  Subsets: make bench BENCH_SHAPES="stories15M"
# BENCH_TYPES="q4_0 q8_0" BENCH_THREADS="1 2".  scripts/setup.sh first,
# then a make of its own, so KDIR is what setup installed.
BENCH_SHAPES ?= stories15M stories110M TinyLlama-1.1B
BENCH_TYPES ?= f32 q8_0 q4_0 q4_k_m
BENCH_THREADS ?= 1 2
BENCH_QEMU_SHAPES ?= stories260K $(BENCH_SHAPES)

bench:
	@scripts/setup.sh
	@$(MAKE) -s --no-print-directory bench-run

bench-run: $(BUILD)/bench $(BUILD)/bench.static $(BUILD)/membw \
		$(BUILD)/tools/mkmodel module $(BUILD)/llmctl $(BUILD)/llmctl.static
	@echo "== llm vs llama.cpp, userspace on this machine"
	@BUILD=$(BUILD) BENCH_SHAPES="$(BENCH_SHAPES)" \
		BENCH_TYPES="$(BENCH_TYPES)" BENCH_THREADS="$(BENCH_THREADS)" \
		scripts/bench-llama.sh
	@echo
	@echo "== kernel vs userspace in one QEMU guest per model"
	@BUILD=$(BUILD) BENCH_QEMU_SHAPES="$(BENCH_QEMU_SHAPES)" \
		BENCH_TYPES="$(BENCH_TYPES)" scripts/bench-qemu.sh
	@echo
	@BUILD=$(BUILD) scripts/bench-ring.sh

# The network ring's figures alone (also the last part of make bench).
bench-ring: module $(BUILD)/llmctl.static $(BUILD)/tools/mkmodel
	@BUILD=$(BUILD) scripts/bench-ring.sh

unit-test: $(UNIT_TESTS)
	@tests/run-unit.sh $(UNIT_TESTS)

# mkhostile writes hostile GGUF files (tests/unit/gguf_hostile.c).
# hostile-corpus: a sample of every kind, for the QEMU test, each one
# defect away from a loadable model (HOSTILE_BASE; synthetic without it).
MKHOSTILE_SRCS := tests/tools/mkhostile.c tests/unit/gguf_hostile.c \
	tests/unit/check.c userctl/gguf_writer.c
HOSTILE_BASE ?= $(MODELS)/stories260K-Q4_0.gguf

$(BUILD)/tools/mkhostile: $(MKHOSTILE_SRCS:%.c=$(BUILD)/rel/%.o) \
		$(BUILD)/libllm.a
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ $^ -lm -lpthread

# fpu-bound: the longest FPU section, measured natively on a model with a
# 128k vocabulary and a 4096-token context (bench/fpubound.c), against a
# copy of the core built with LLM_FPU_TRACE (sections timed), no -pie so
# that addr2line can name where the longest one began.
FPUB_MODEL := $(BUILD)/fpubound/v128k-c4096
FPUB_OBJS := $(CORE_SRCS:%.c=$(BUILD)/trace/%.o) \
	$(BUILD)/trace/userctl/runtime.o

$(BUILD)/trace/%.o: %.c | $(UNICODE_H)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -DLLM_FPU_TRACE -fno-pie -MMD -c $< -o $@

ifneq ($(filter x86_64-%,$(shell $(CC) -dumpmachine)),)
$(BUILD)/trace/quant/avx2.o: USER_CFLAGS += $(AVX2_FLAGS)
$(BUILD)/trace/quant/avx512vnni.o: USER_CFLAGS += $(VNNI_FLAGS)
endif

$(BUILD)/fpubound/fpubound: bench/fpubound.c $(FPUB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -DLLM_FPU_TRACE -no-pie -fno-pie -o $@ $^ \
		-lm -lpthread

$(FPUB_MODEL)-f32.gguf: $(BUILD)/tools/mkmodel
	@mkdir -p $(dir $@)
	$(BUILD)/tools/mkmodel -q --dim 512 --layers 4 --heads 8 --ffn 1536 \
		--vocab 128000 --context 4096 --name v128k-c4096 $@

$(FPUB_MODEL)-q4_0.gguf: $(FPUB_MODEL)-f32.gguf $(BUILD)/llmctl
	$(BUILD)/llmctl quantize $< $@ q4_0 > /dev/null

fpu-bound: $(BUILD)/fpubound/fpubound $(FPUB_MODEL)-f32.gguf \
		$(FPUB_MODEL)-q4_0.gguf
	@for m in $(FPUB_MODEL)-q4_0.gguf $(FPUB_MODEL)-f32.gguf; do \
		for k in "" --ref; do \
			out=$$($(BUILD)/fpubound/fpubound $$k $$m) || exit 1; \
			echo "$$out"; \
			at=$$(echo "$$out" | sed -n 's/.*opened at \(0x[0-9a-f]*\)/\1/p'); \
			[ -n "$$at" ] && echo "  the longest began in: $$(addr2line -f -s -e $(BUILD)/fpubound/fpubound $$at | paste -sd' ')"; \
		done; \
	done

# mkmodel writes synthetic llama models of any shape (tests/unit/synth_model.c):
# see build/tools/mkmodel --help.
MKMODEL_SRCS := tests/tools/mkmodel.c tests/unit/synth_model.c \
	userctl/gguf_writer.c

$(BUILD)/tools/mkmodel: $(MKMODEL_SRCS:%.c=$(BUILD)/rel/%.o) $(BUILD)/libllm.a
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ $^ -lm -lpthread

# ggufcmp: do two GGUF files hold the same keys and tensors (any order)?
$(BUILD)/tools/ggufcmp: $(BUILD)/rel/tests/tools/ggufcmp.o \
		$(BUILD)/rel/userctl/modelfile.o $(BUILD)/libllm.a
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ $^ -lm -lpthread

# mkhf: synthetic Hugging Face llama directories (llmctl convert hf tests)
$(BUILD)/tools/mkhf: $(BUILD)/rel/tests/tools/mkhf.o
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ $^ -ljansson -lm

tools: $(BUILD)/tools/mkhostile $(BUILD)/tools/mkmodel $(BUILD)/tools/ggufcmp \
	$(BUILD)/tools/mkhf

hostile-corpus: $(BUILD)/tools/mkhostile
	@rm -rf $(BUILD)/qemu-extra/hostile
	@mkdir -p $(BUILD)/qemu-extra
	@$(BUILD)/tools/mkhostile $(if $(HOSTILE_BASE),--base $(HOSTILE_BASE)) \
		$(BUILD)/qemu-extra/hostile

# libFuzzer targets, built by clang straight from the core sources they
# need.  fuzz-test runs each for FUZZ_SECONDS from a seed corpus (every
# hostile file, the synthetic model, the real models) and prints one
# PASS/FAIL line; SKIP when $(FUZZ_CC) cannot build libFuzzer targets.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TOK_SECONDS ?= 30
FUZZ_MAX_LEN ?= 65536
FUZZ_CFLAGS := -std=gnu11 -O1 -g -I. -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_GGUF_SRCS := arena/arena.c llm/core/platform_user.c llm/core/gguf.c \
	llm/core/slice.c quant/types.c quant/ref.c quant/kquants.c quant/avx2.c quant/avx512vnni.c
ifneq ($(filter x86_64-%,$(shell $(FUZZ_CC) -dumpmachine 2>/dev/null)),)
$(BUILD)/fuzz/obj/quant/avx2.o: FUZZ_CFLAGS += $(AVX2_FLAGS)
$(BUILD)/fuzz/obj/quant/avx512vnni.o: FUZZ_CFLAGS += $(VNNI_FLAGS)
endif

$(BUILD)/fuzz/obj/%.o: %.c | $(UNICODE_H)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/fuzz_gguf: tests/fuzz/fuzz_gguf.c \
		$(FUZZ_GGUF_SRCS:%.c=$(BUILD)/fuzz/obj/%.o)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lm -lpthread

FUZZ_TOKENIZER_SRCS := arena/arena.c llm/core/platform_user.c llm/core/gguf.c \
	llm/core/tokenizer.c llm/core/bpe.c llm/core/unicode.c quant/types.c quant/ref.c quant/kquants.c quant/avx2.c \
	quant/avx512vnni.c

$(BUILD)/fuzz/fuzz_tokenizer: tests/fuzz/fuzz_tokenizer.c \
		$(FUZZ_TOKENIZER_SRCS:%.c=$(BUILD)/fuzz/obj/%.o)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lm -lpthread

# The network ring's packet parser (netfilter/wire.c), seeded with valid
# packets of every type that the target itself writes (FUZZ_WIRE_SEEDS).
FUZZ_WIRE_MAX_LEN ?= 9100
.PHONY: fuzz-wire
$(BUILD)/fuzz/obj/netfilter/wire.o $(BUILD)/fuzz/fuzz_wire: \
	netfilter/wire.h uapi/llm.h llm/core/platform.h

$(BUILD)/fuzz/fuzz_wire: tests/fuzz/fuzz_wire.c \
		$(BUILD)/fuzz/obj/netfilter/wire.o
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $(filter %.c %.o,$^)

fuzz-test:
	@if echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' | \
	    $(FUZZ_CC) -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then \
		$(MAKE) --no-print-directory BUILD=$(BUILD) fuzz-gguf; \
		$(MAKE) --no-print-directory BUILD=$(BUILD) fuzz-tokenizer; \
		$(MAKE) --no-print-directory BUILD=$(BUILD) fuzz-wire; \
	else \
		echo "SKIP fuzz: gguf: $(FUZZ_CC) cannot build libFuzzer targets"; \
		echo "SKIP fuzz: wire: $(FUZZ_CC) cannot build libFuzzer targets"; \
	fi

fuzz-wire: $(BUILD)/fuzz/fuzz_wire
	@rm -rf $(BUILD)/fuzz/seeds-wire
	@FUZZ_WIRE_SEEDS=$(BUILD)/fuzz/seeds-wire $(BUILD)/fuzz/fuzz_wire \
		> /dev/null || { echo "FAIL fuzz: wire: the seeds"; exit 1; }
	@tests/fuzz/run-fuzz.sh wire $(BUILD)/fuzz/fuzz_wire $(BUILD)/fuzz/wire \
		$(FUZZ_SECONDS) $(FUZZ_WIRE_MAX_LEN) $(BUILD)/fuzz/seeds-wire

# The tokenizer over the real vocabulary, seeded with a few texts.
FUZZ_BPE := $(foreach p,gpt-2 llama-bpe qwen2,$(BUILD)/fuzz/bpe-$(p).gguf)
$(FUZZ_BPE): $(BUILD)/tools/mkmodel
	@mkdir -p $(dir $@)
	$(BUILD)/tools/mkmodel -q --dim 32 --layers 1 --heads 2 --ffn 32 \
		--vocab 600 --context 64 \
		--bpe $(patsubst bpe-%.gguf,%,$(notdir $@)) $@

fuzz-tokenizer: $(BUILD)/fuzz/fuzz_tokenizer $(FUZZ_BPE)
	@if [ ! -r $(MODELS)/stories260K.gguf ]; then \
		echo "FAIL fuzz: tokenizer: $(MODELS)/stories260K.gguf is missing"; \
		exit 1; \
	else \
		rm -rf $(BUILD)/fuzz/seeds-tok; mkdir -p $(BUILD)/fuzz/seeds-tok; \
		printf 'Once upon a time, there was a little girl.' > $(BUILD)/fuzz/seeds-tok/a; \
		printf '  caf\303\251 \342\202\254 \360\237\230\200\n\t x' > $(BUILD)/fuzz/seeds-tok/b; \
		tests/fuzz/run-fuzz.sh tokenizer $(BUILD)/fuzz/fuzz_tokenizer \
			$(BUILD)/fuzz/tokenizer $(FUZZ_TOK_SECONDS) 4096 \
			$(BUILD)/fuzz/seeds-tok; \
	fi

fuzz-gguf: $(BUILD)/fuzz/fuzz_gguf $(BUILD)/tools/mkhostile
	@rm -rf $(BUILD)/fuzz/seeds-gguf
	@$(BUILD)/tools/mkhostile --all --valid $(BUILD)/fuzz/seeds-gguf > /dev/null
	@cp $(MODELS)/*.gguf $(BUILD)/fuzz/seeds-gguf/
	@tests/fuzz/run-fuzz.sh gguf $(BUILD)/fuzz/fuzz_gguf $(BUILD)/fuzz/gguf \
		$(FUZZ_SECONDS) $(FUZZ_MAX_LEN) $(BUILD)/fuzz/seeds-gguf

# The sample client of the in-kernel API, built against llm.ko's symbols
# and handed to the QEMU guest in /extra.
# Always relinked: kbuild does not notice when llm.ko's symbol versions
# (which hash the types behind them) change.
samples: module-build
	$(MAKE) -s -C $(KDIR) M=$(CURDIR)/samples/llm_client clean
	$(MAKE) -C $(KDIR) M=$(CURDIR)/samples/llm_client \
		KBUILD_EXTRA_SYMBOLS=$(CURDIR)/Module.symvers modules
	@mkdir -p $(BUILD)/qemu-extra
	cp samples/llm_client/llm_client.ko $(BUILD)/qemu-extra/

# Test modules that use llm.ko's exported API (qemu-tests/kmod/).
test-kmods: module-build
	$(MAKE) -s -C $(KDIR) M=$(CURDIR)/qemu-tests/kmod clean
	$(MAKE) -C $(KDIR) M=$(CURDIR)/qemu-tests/kmod \
		KBUILD_EXTRA_SYMBOLS=$(CURDIR)/Module.symvers modules
	@mkdir -p $(BUILD)/qemu-extra
	cp qemu-tests/kmod/*.ko $(BUILD)/qemu-extra/

# A model with big layers (a token takes a good fraction of a second in a
# TCG guest): for the tests of how soon a request stops (qemu-tests/tests/
# stops.sh), where the 260K model's sub-millisecond tokens prove nothing.
BIG_LAYERS := $(BUILD)/qemu-extra/big-layers-q8.gguf
$(BIG_LAYERS): $(BUILD)/tools/mkmodel $(BUILD)/llmctl
	@mkdir -p $(dir $@)
	$(BUILD)/tools/mkmodel -q --dim 512 --layers 4 --heads 8 --ffn 1536 \
		--vocab 512 --context 1024 --seed 3 $(BUILD)/big-layers.gguf
	$(BUILD)/llmctl quantize $(BUILD)/big-layers.gguf $@ q8_0 > /dev/null
	@rm -f $(BUILD)/big-layers.gguf

# A synthetic model whose rows are whole K-quant super-blocks (256), in
# llama.cpp's three K mixes: for the kernel's K-quant tiles
# (qemu-tests/tests/kquants.sh).
KQ_MODELS := $(foreach t,q4_k_m q5_k_m q6_k,$(BUILD)/qemu-extra/kq-$(t).gguf)
$(KQ_MODELS): $(BUILD)/tools/mkmodel $(BUILD)/llmctl
	@mkdir -p $(dir $@)
	$(BUILD)/tools/mkmodel -q --dim 256 --layers 4 --heads 4 --kv-heads 2 \
		--ffn 512 --vocab 512 --context 256 --seed 5 $@.f32
	$(BUILD)/llmctl quantize $@.f32 $@ $(patsubst kq-%.gguf,%,$(notdir $@)) > /dev/null
	@rm -f $@.f32

# Small models with a byte-level BPE vocabulary of each pre-tokenizer:
# for the kernel's BPE tokenizer (qemu-tests/tests/bpe.sh).
BPE_MODELS := $(foreach p,gpt-2 llama-bpe qwen2,$(BUILD)/qemu-extra/bpe-$(p).gguf)
$(BPE_MODELS): $(BUILD)/tools/mkmodel
	@mkdir -p $(dir $@)
	$(BUILD)/tools/mkmodel -q --dim 64 --layers 2 --heads 4 --ffn 128 \
		--vocab 600 --context 256 \
		--bpe $(patsubst bpe-%.gguf,%,$(notdir $@)) $@

# Small models with a chat template of each family, and the conversations
# of tests/data/chat: for the kernel's chat path (qemu-tests/tests/chat_template.sh).
CHAT_MODELS := $(foreach f,llama3 chatml llama2 unknown,$(BUILD)/qemu-extra/chat-$(f).gguf)
$(BUILD)/qemu-extra/chat-%.gguf: tests/data/chat-templates/%.tmpl $(BUILD)/tools/mkmodel
	@mkdir -p $(dir $@)
	$(BUILD)/tools/mkmodel -q --dim 64 --layers 2 --heads 4 --ffn 128 \
		--vocab 600 --context 512 --chat-template $< \
		$(if $(filter llama3,$*),--bpe llama-bpe) $@
	@mkdir -p $(BUILD)/qemu-extra/chat
	cp tests/data/chat/*.json $(BUILD)/qemu-extra/chat/

# Each architecture but llama in F32 and llmctl's Q8_0, Q4_0 and Q4_K_M:
# for the kernel's forward pass of each (qemu-tests/tests/archs.sh).
ARCH_NAMES := qwen2 qwen3 qwen3moe gpt2
ARCH_TYPES := f32 q8_0 q4_0 q4_k_m
ARCH_MODELS := $(foreach a,$(ARCH_NAMES),$(foreach t,$(ARCH_TYPES),$(BUILD)/qemu-extra/arch-$(a)-$(t).gguf))
arch_opts = $(if $(filter qwen3,$(1)),--kv-heads 2 --head-dim 128,$(if $(filter qwen3moe,$(1)),--kv-heads 2 --experts 8 --experts-used 2,$(if $(filter gpt2,$(1)),--kv-heads 4,--kv-heads 2)))
$(BUILD)/qemu-extra/arch-%-f32.gguf: $(BUILD)/tools/mkmodel
	@mkdir -p $(dir $@)
	$(BUILD)/tools/mkmodel -q --arch $* --dim 256 --layers 2 --heads 4 \
		$(call arch_opts,$*) --ffn 512 --vocab 512 --context 256 \
		--seed 3 --bpe qwen2 $@
$(filter-out %-f32.gguf,$(ARCH_MODELS)): $(BUILD)/qemu-extra/arch-%.gguf: $(BUILD)/llmctl
	@$(MAKE) -s $(BUILD)/qemu-extra/arch-$(firstword $(subst -, ,$*))-f32.gguf
	$(BUILD)/llmctl quantize -q $(BUILD)/qemu-extra/arch-$(firstword $(subst -, ,$*))-f32.gguf \
		$@ $(lastword $(subst -, ,$*))

# llmctl serve in the guest (qemu-tests/tests/serve.sh): the dynamically
# linked llmctl (llmctl.static has no HTTP server) with the shared
# libraries it needs and their loader, run as
# /extra/serve/ld-linux-x86-64.so.2 --library-path /extra/serve /extra/serve/llmctl.
SERVE_BUNDLE := $(BUILD)/qemu-extra/serve/llmctl
$(SERVE_BUNDLE): $(BUILD)/llmctl
	@rm -rf $(dir $@) && mkdir -p $(dir $@)
	cp $< $@
	ldd $< | awk '$$2 == "=>" && $$3 ~ /^\// { print $$3 } $$1 ~ /^\/.*ld-linux/ { print $$1 }' | \
		xargs -r cp -L -t $(dir $@)

# Everything the guest tests take from $(BUILD)/qemu-extra.
qemu-extra: samples test-kmods hostile-corpus $(BIG_LAYERS) $(KQ_MODELS) \
	$(BPE_MODELS) $(CHAT_MODELS) $(ARCH_MODELS) $(SERVE_BUNDLE)

qemu-test: module $(BUILD)/llmctl.static qemu-extra
	@qemu-tests/run.sh

# Not in make test: the tests of several guests joined in a ring
# (qemu-tests/ring/*.sh, 2 or 3 guests each, one test at a time).
ring-test: module $(BUILD)/llmctl.static qemu-extra
	@qemu-tests/ring.sh

test:
	@scripts/setup.sh
	@tests/run-all.sh

checkpatch:
	@scripts/checkpatch.sh

# Not in make test: the bounded stress run (scripts/soak.sh).
SOAK_REQUESTS ?= 600
SOAK_WORKERS ?= 6
soak: module $(BUILD)/llmctl.static qemu-extra
	@BUILD=$(BUILD) scripts/soak.sh $(SOAK_REQUESTS) $(SOAK_WORKERS)

# Not in make test: the QEMU suite on other kernels.  Each debug kernel
# flavour takes 15 to 60 min to build (scripts/debug-kernel.sh);
# other-kernel-test fetches Debian 12's newest 6.12 packages
# (scripts/other-kernel.sh).
DEBUG_FLAVOUR ?= all
debug-kernel:
	@scripts/debug-kernel.sh --flavour $(DEBUG_FLAVOUR) build

debug-test:
	@scripts/debug-kernel.sh --flavour $(DEBUG_FLAVOUR) test

other-kernel-test:
	@scripts/other-kernel.sh

demo:
	@BUILD=$(BUILD) MODEL="$(MODEL)" PROMPT="$(PROMPT)" TOKENS="$(TOKENS)" \
		TEMP="$(TEMP)" SEED="$(SEED)" scripts/demo.sh

# make demo to files, with the default model and with a synthetic model of
# stories110M's size (76 MB at Q4_0).  About 70 s under TCG, so not part of
# make test, which runs only the first half (scripts/demo-test.sh --quick).
demo-test:
	@BUILD=$(BUILD) scripts/demo-test.sh

clean:
	rm -rf $(BUILD) $(UNICODE_H)
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null

# (not those of the tree copies scripts/kernel-test.sh makes in build/,
# nor what the unpacked packages and the benchmarks' models hold)
-include $(shell find $(BUILD) \( -path $(BUILD)/debug -o \
	-path $(BUILD)/kernels -o -path $(BUILD)/llama.cpp -o \
	-path $(BUILD)/bench-models \) -prune -o -name '*.d' -type f -print \
	2>/dev/null)
