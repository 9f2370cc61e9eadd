/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shared core run in userspace: a GGUF file read into memory, bound as
 * a model in an arena, with one context.  Used by llmctl generate -m, the
 * benchmarks and the tests.
 */
#ifndef LLMCTL_RUNTIME_H
#define LLMCTL_RUNTIME_H

#include "../llm/core/model.h"
#include "../llm/core/generate.h"
#include "../llm/core/exec.h"
#include "../llm/core/kv.h"

struct llm_runtime {
	void *image;
	u64 image_len;
	void *mem;		/* the arena's memory */
	struct llm_arena arena;
	struct llm_model model;
	struct llm_ctx ctx;
	struct llm_exec ex;	/* ctx's executor: batches of the default size */
	struct llm_kv kv;	/* ctx's KV pages: its whole context */
};

/* llm_runtime_open()'s @flags */
#define LLM_RT_REF	1u	/* the scalar reference kernels (true works) */
#define LLM_RT_KV_F16	2u	/* an F16 KV cache, not F32 */

/*
 * Load @path and make one context of @n_ctx positions (0: the model's
 * training context, at most 4096) that takes prompts of up to
 * @max_prompt_bytes.  On error prints nothing, returns -errno and a
 * sentence in @err.
 */
int llm_runtime_open(struct llm_runtime *rt, const char *path, u32 n_ctx,
		     u32 max_prompt_bytes, u32 flags, char *err,
		     size_t errlen);
/*
 * The same from an image already in memory (not copied, not freed, not
 * changed: llm_runtime_open() also repacks the weights of its own copy).
 */
int llm_runtime_open_mem(struct llm_runtime *rt, const void *image, u64 len,
			 u32 n_ctx, u32 max_prompt_bytes, u32 flags,
			 char *err, size_t errlen);
void llm_runtime_close(struct llm_runtime *rt);

/*
 * Threads for llm_pool_init() when the user names none: one per physical
 * core this process may run on (SMT siblings count once), as llama.cpp
 * does; the CPUs it may run on when the topology cannot be read.
 */
u32 llm_runtime_default_threads(void);

/*
 * The kernel module's defaults for what an arena holds (llm/main.c:
 * sessions, max_context, max_prompt_bytes).
 */
#define LLM_KERNEL_SESSIONS		8
#define LLM_KERNEL_MAX_CONTEXT		1024
#define LLM_KERNEL_MAX_PROMPT_BYTES	16384

/* Arena pages beyond the measured sizes: one per table and per buffer. */
#define LLM_ARENA_PLAN_PAGE		4096u
#define LLM_ARENA_PLAN_TABLES		16u
#define LLM_ARENA_PLAN_CTX_BUFFERS	16u

/*
 * What the kernel's arena must hold to load a model, laid out as
 * llm/loader.c lays it out: the GGUF image at the start (page aligned),
 * the tables llm_model_load() allocates after it, then @sessions contexts
 * of llm_ctx_bytes(model, n_ctx, max_prompt_bytes) bytes each, where n_ctx
 * is the model's training context capped at max_context, then the model's
 * executor (llm_exec_bytes() for the module's default thread count, this
 * machine's online CPUs), then the KV pool (llm_kv_bytes() for sessions *
 * n_ctx positions, the module's default kv_positions).  The image and
 * the tables are measured by binding the model in an arena of the same
 * layout; a margin of a page per table and per context buffer is added.
 */
struct llm_arena_plan {
	struct llm_config cfg;
	char name[64];
	char arch[16];
	u64 n_params;
	u32 type_mask;		/* 1 << type for each tensor type */
	u32 sessions;
	u32 n_ctx;		/* positions per session */
	u32 max_prompt_bytes;
	u64 image;		/* the file */
	u64 model;		/* arena bytes of the image and its tables */
	u64 session;		/* arena bytes of one session's context */
	u32 threads;		/* the module's default: online CPUs */
	u64 exec;		/* the model's executor for that many threads */
	u32 kv_positions;	/* KV pool: sessions * n_ctx */
	u64 kv;			/* its bytes */
	u64 margin;
	u64 total;		/* model + sessions * session + exec + kv + margin */
	u32 arena_mb;		/* total in MiB, rounded up: arena_mb= */
};

/*
 * Fill @p for the GGUF @image of @len bytes.  0, or a negative errno with
 * a sentence in @err (the model does not bind, the sizes overflow).
 */
int llm_runtime_arena_plan(struct llm_arena_plan *p, const void *image,
			   u64 len, u32 sessions, u32 max_context,
			   u32 max_prompt_bytes, char *err, size_t errlen);

#endif /* LLMCTL_RUNTIME_H */
