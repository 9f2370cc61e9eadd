/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Choosing the next token from the logits: greedy, or temperature, top-k
 * and top-p (nucleus) sampling with a seeded generator, so that a request
 * with the same seed gives the same text.
 */
#ifndef LLM_SAMPLER_H
#define LLM_SAMPLER_H

#include "platform.h"
#include "model.h"

struct llm_sampling {
	u32 temp_milli;		/* temperature x 1000; 0 is greedy */
	u32 top_k;		/* 0: no top-k cut */
	u32 top_p_milli;	/* nucleus mass x 1000; 0 or >= 1000: off */
};

/*
 * Next token from c->logits (which it overwrites; c->probs is scratch).
 * @rng is the generator state: xorshift64*, as llama2.c's, so seeds give
 * the same draws.  Not an FPU entry point: call it outside any
 * llm_fpu_begin()/llm_fpu_end() bracket, where it may give the CPU away
 * (sample.c; it brackets its own float work in bounded chunks).  After a
 * top-p draw, c->probs begins with the nucleus, most likely first.
 */
u32 llm_sample(struct llm_ctx *c, const struct llm_sampling *s, u64 *rng);

#endif /* LLM_SAMPLER_H */
