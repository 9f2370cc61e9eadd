/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The float passes of sampling (sampler.c, an FPU object), which
 * llm_sample() (sample.c, not an FPU object) drives.  Each works on one
 * range [from, to) of at most LLM_SAMPLE_CHUNK entries, runs inside the
 * caller's llm_fpu_begin()/llm_fpu_end() bracket and never opens, closes
 * or leaves one.  Float state carried from one call to the next (a running
 * sum, a maximum) travels as raw bits, so that the sums are the same
 * sequential float additions, in the same order, as one pass over the
 * whole vocabulary.
 *
 * @draw is the random u32 of the draw; the coin in [0, 1) is its top 24
 * bits as llama2.c's random_f32() makes it.
 */
#ifndef LLM_SAMPLER_FPU_H
#define LLM_SAMPLER_FPU_H

#include "platform.h"
#include "model.h"

/*
 * Entries one FPU section of the sampler covers: the bound on every FPU
 * section of llm_sample(), whatever the vocabulary.  The costliest pass
 * per entry is the exponential (llm_sampler_exp, 11 ns an entry): 16384
 * of them take 0.17 ms on an AMD EPYC core (make sampler-bench), the other
 * passes 9 to 18 us.  That is under a forward-pass section (up to 4 Mi
 * multiply-adds), and a 32k to 152k vocabulary is 2 to 10 sections a
 * pass, so the brackets cost nothing measurable.
 */
#define LLM_SAMPLE_CHUNK	16384u

/* Not found in this range: go on with the next. */
#define LLM_SAMPLE_NONE		U32_MAX

/* The first index of the largest of x[best] and x[from, to). */
u32 llm_sampler_argmax(const float *x, u32 from, u32 to, u32 best);
/* x[i] /= temperature (@temp_milli / 1000). */
void llm_sampler_scale(float *x, u32 from, u32 to, u32 temp_milli);
/* x[i] = e^(x[i] - max); *@sum_bits += x[i] in order. */
void llm_sampler_exp(float *x, u32 from, u32 to, u32 max_bits, u32 *sum_bits);
/* x[i] /= sum. */
void llm_sampler_div(float *x, u32 from, u32 to, u32 sum_bits);
/* The first i with coin < (*@cdf_bits += p[i]), or LLM_SAMPLE_NONE. */
u32 llm_sampler_walk(const float *p, u32 from, u32 to, u32 *cdf_bits,
		     u32 draw);
/*
 * Top-p, n >= 2: append each token of p[from, to) at or above the cutoff
 * (1 - p) / (n - 1), below which no token can be in the nucleus, to
 * cand[*@m], in id order.
 */
void llm_sampler_gather(const float *p, u32 from, u32 to, u32 n,
			u32 top_p_milli, struct llm_prob *cand, u32 *m);
/* The first i with (*@cum_bits += cand[i]) > p, or LLM_SAMPLE_NONE. */
u32 llm_sampler_mass(const struct llm_prob *cand, u32 from, u32 to,
		     u32 *cum_bits, u32 top_p_milli);
/*
 * The draw within the nucleus of mass @cum_bits: the first i with
 * coin * cum < (*@cdf_bits += cand[i]), or LLM_SAMPLE_NONE.
 */
u32 llm_sampler_pick(const struct llm_prob *cand, u32 from, u32 to,
		     u32 *cdf_bits, u32 cum_bits, u32 draw);

#endif /* LLM_SAMPLER_FPU_H */
