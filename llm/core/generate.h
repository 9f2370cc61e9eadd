/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The generation loop: prompt text in, tokens and text out through
 * callbacks, on one context.  Non-FPU: it brackets each piece of float work
 * (one layer, the classifier, the sampler) with llm_fpu_begin()/end(), gives
 * the CPU away between pieces, and asks @cancelled between them, so a long
 * generation neither hogs a CPU nor ignores a signal.
 */
#ifndef LLM_GENERATE_H
#define LLM_GENERATE_H

#include "platform.h"
#include "model.h"
#include "sampler.h"

#define LLM_STOP_STRINGS	4
#define LLM_STOP_STRLEN		32

struct llm_request {
	/* in */
	const char *prompt;
	u32 prompt_len;
	u32 max_tokens;		/* tokens to generate */
	u32 max_prompt_tokens;	/* refuse longer prompts with -E2BIG */
	struct llm_sampling sampling;
	u64 seed;		/* 0: a fresh random seed */
	u64 deadline_ns;	/* llm_now_ns() limit, 0: none */
	char stop[LLM_STOP_STRINGS][LLM_STOP_STRLEN];	/* "" unused */
	/* Text as it becomes final; non-zero return stops generation. */
	int (*on_text)(void *arg, const char *text, u32 len);
	/* Each generated token id (optional). */
	void (*on_token)(void *arg, u32 token);
	/* Polled between pieces of work (optional). */
	bool (*cancelled)(void *arg);
	void *arg;
	/* out */
	u32 n_prompt;		/* tokens the prompt became */
	u32 n_gen;		/* tokens generated */
	u32 stop_reason;	/* enum llm_stop */
	u64 prefill_ns;
	u64 decode_ns;
};

/*
 * Run @r on @c, continuing the conversation already in @c.  Returns 0 when
 * the request ran (r->stop_reason says why it ended, output so far kept),
 * or a negative errno: -E2BIG prompt over max_prompt_tokens or
 * c->max_prompt_bytes, -ENOSPC the prompt does not fit in the context,
 * -EINVAL nothing to generate from.
 */
int llm_generate(struct llm_ctx *c, struct llm_request *r);

/*
 * Feed one token at position c->n_past through layers [0, n_layers), and
 * the classifier when @logits.  -EINTR if cancelled part way (the context
 * is then unchanged).
 */
int llm_decode(struct llm_ctx *c, u32 token, bool logits,
	       bool (*cancelled)(void *arg), void *arg);

#endif /* LLM_GENERATE_H */
