// SPDX-License-Identifier: GPL-2.0
/*
 * llm_runtime_arena_plan() (llmctl info -m): the arena it asks for holds
 * what llm/loader.c puts there -- the image page aligned at the start, the
 * model's tables, one context per session -- for real and synthetic
 * models and other session counts, context caps and prompt limits.
 */
#include <stdlib.h>

#include "check.h"
#include "synth_model.h"
#include "userctl/runtime.h"

/* Load @img as the kernel does into an arena of exactly @bytes. */
static int kernel_layout(const void *img, u64 len, u64 bytes, u32 sessions,
			 u32 max_context, u32 max_prompt_bytes)
{
	struct llm_arena arena;
	struct llm_model m;
	struct llm_ctx *ctx;
	struct llm_exec ex;
	struct llm_kv kv;
	char err[256];
	void *mem, *image;
	u32 i, n_ctx;
	int ret = 0;

	mem = aligned_alloc(LLM_ARENA_PLAN_PAGE,
			    LLM_ALIGN_UP(bytes, LLM_ARENA_PLAN_PAGE));
	ctx = calloc(sessions, sizeof(*ctx));
	if (!mem || !ctx) {
		free(mem);
		free(ctx);
		return -ENOMEM;
	}
	llm_arena_init(&arena, mem, bytes);
	image = llm_arena_alloc(&arena, len, LLM_ARENA_PLAN_PAGE);
	if (!image) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(image, img, len);
	ret = llm_model_load(&m, image, len, &arena, false, err, sizeof(err));
	n_ctx = min_t(u32, m.cfg.n_ctx_train, max_context);
	for (i = 0; i < sessions && !ret; i++)
		ret = llm_ctx_init(&ctx[i], &m, n_ctx, max_prompt_bytes,
				   &arena);
	if (!ret)
		ret = llm_exec_init(&ex, &m, LLM_BATCH_DEFAULT,
				    llm_online_cpus(), n_ctx, &arena);
	if (!ret)
		ret = llm_kv_init(&kv, &m, LLM_T_F32, sessions * n_ctx, &arena);
out:
	free(ctx);
	free(mem);
	return ret;
}

static void check_plan(const char *what, const void *img, u64 len,
		       u32 sessions, u32 max_context, u32 max_prompt_bytes)
{
	struct llm_arena_plan p;
	char err[256];

	if (llm_runtime_arena_plan(&p, img, len, sessions, max_context,
				   max_prompt_bytes, err, sizeof(err))) {
		check_fail(__FILE__, __LINE__, "%s: %s", what, err);
		return;
	}
	CHECK_EQ(p.image, len);
	CHECK(p.model > LLM_ALIGN_UP(len, 64));
	CHECK_EQ(p.sessions, sessions);
	CHECK(p.n_ctx <= max_context && p.n_ctx <= p.cfg.n_ctx_train);
	CHECK_EQ(p.total, p.model + (u64)sessions * p.session + p.exec +
		 p.kv + p.margin);
	CHECK((u64)p.arena_mb << 20 >= p.total);
	CHECK((u64)p.arena_mb << 20 < p.total + (1 << 20));
	if (kernel_layout(img, len, p.total, sessions, max_context,
			  max_prompt_bytes))
		check_fail(__FILE__, __LINE__, "%s: %llu bytes do not hold %u sessions",
			   what, (unsigned long long)p.total, sessions);
	/* and the figure is not far above what it holds */
	if (!kernel_layout(img, len, p.total - p.margin - 4096 * sessions,
			   sessions, max_context, max_prompt_bytes) &&
	    sessions > 1)
		check_fail(__FILE__, __LINE__, "%s: the plan is too generous",
			   what);
}

static void real_models(void)
{
	static const char *const files[] = {
		"stories260K.gguf", "stories260K-Q8_0.gguf",
		"stories260K-Q4_0.gguf",
	};
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(files) && !check_failed(); i++) {
		const char *path = check_model(files[i]);
		void *img;

		if (!path) {
			check_fail(__FILE__, __LINE__, "models/%s is missing",
				   files[i]);
			return;
		}
		img = check_read_file(path, &len);
		CHECK(img);
		check_plan(files[i], img, len, LLM_KERNEL_SESSIONS,
			   LLM_KERNEL_MAX_CONTEXT, LLM_KERNEL_MAX_PROMPT_BYTES);
		check_plan(files[i], img, len, 1, 64, 100);
		check_plan(files[i], img, len, 3, 4096, 0);
		free(img);
	}
}

static void synthetic_models(void)
{
	static const struct synth_shape shapes[] = {
		{ 128, 2, 4, 2, 256, 4000, 300, 1, false, NULL },
		{ 96, 3, 6, 6, 160, 700, 2048, 2, true, NULL },
	};
	struct synth_model m;
	char err[256];
	size_t i, len;
	void *img;

	for (i = 0; i < ARRAY_SIZE(shapes) && !check_failed(); i++) {
		CHECK_EQ(synth_model_build(&m, &shapes[i], err, sizeof(err)),
			 0);
		CHECK_EQ(llm_gguf_writer_to_mem(m.w, &img, &len), 0);
		synth_model_free(&m);
		check_plan("synthetic", img, len, 8, 1024, 16384);
		check_plan("synthetic", img, len, 2, 100000, 5);
		free(img);
	}
}

static void bad_input(void)
{
	static const char junk[] = "not a model";
	struct llm_arena_plan p;
	char err[256];

	CHECK(llm_runtime_arena_plan(&p, junk, sizeof(junk), 8, 1024, 16384,
				     err, sizeof(err)) < 0);
	CHECK(strstr(err, "GGUF"));
	CHECK(llm_runtime_arena_plan(&p, junk, 0, 8, 1024, 16384, err,
				     sizeof(err)) < 0);
	CHECK(llm_runtime_arena_plan(&p, junk, sizeof(junk), 0, 1024, 16384,
				     err, sizeof(err)) < 0);
}

int main(void)
{
	llm_log_quiet = 1;
	RUN(real_models);
	RUN(synthetic_models);
	RUN(bad_input);
	return check_done();
}
