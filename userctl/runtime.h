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

struct llm_runtime {
	void *image;
	u64 image_len;
	void *mem;		/* the arena's memory */
	struct llm_arena arena;
	struct llm_model model;
	struct llm_ctx ctx;
};

/*
 * Load @path and make one context of @n_ctx positions (0: the model's
 * training context, at most 4096) that takes prompts of up to
 * @max_prompt_bytes.  On error prints nothing, returns -errno and a
 * sentence in @err.
 */
int llm_runtime_open(struct llm_runtime *rt, const char *path, u32 n_ctx,
		     u32 max_prompt_bytes, bool force_ref, char *err,
		     size_t errlen);
/* The same from an image already in memory (not copied, not freed). */
int llm_runtime_open_mem(struct llm_runtime *rt, const void *image, u64 len,
			 u32 n_ctx, u32 max_prompt_bytes, bool force_ref,
			 char *err, size_t errlen);
void llm_runtime_close(struct llm_runtime *rt);

#endif /* LLMCTL_RUNTIME_H */
