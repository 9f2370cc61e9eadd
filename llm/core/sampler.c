// SPDX-License-Identifier: GPL-2.0
/*
 * The float passes of token sampling (an FPU object; see sampler_fpu.h).
 * Together, as sample.c runs them, they are llama2.c's sampler, so its
 * seeded outputs reproduce: divide by the temperature, softmax, draw one
 * float in [0, 1), then either walk the whole distribution or, with top-p,
 * only the smallest set of most likely tokens whose mass exceeds p.
 */
#include "sampler_fpu.h"
#include "fmath.h"

static float coin(u32 draw)
{
	return (draw >> 8) / 16777216.0f;
}

static float topp(u32 top_p_milli)
{
	return top_p_milli / 1000.0f;
}

static float pf(const struct llm_prob *p)
{
	return llm_bits_to_float(p->bits);
}

u32 llm_sampler_argmax(const float *x, u32 from, u32 to, u32 best)
{
	float maxv = x[best];	/* in a register, not reloaded each time */
	u32 i;

	for (i = from; i < to; i++) {
		if (x[i] > maxv) {
			maxv = x[i];
			best = i;
		}
	}
	return best;
}

void llm_sampler_scale(float *x, u32 from, u32 to, u32 temp_milli)
{
	float temp = temp_milli / 1000.0f;
	u32 i;

	for (i = from; i < to; i++)
		x[i] /= temp;
}

void llm_sampler_exp(float *x, u32 from, u32 to, u32 max_bits, u32 *sum_bits)
{
	float maxv = llm_bits_to_float(max_bits);
	float sum = llm_bits_to_float(*sum_bits);
	u32 i;

	for (i = from; i < to; i++) {
		x[i] = llm_expf(x[i] - maxv);
		sum += x[i];
	}
	*sum_bits = llm_float_to_bits(sum);
}

void llm_sampler_div(float *x, u32 from, u32 to, u32 sum_bits)
{
	float sum = llm_bits_to_float(sum_bits);
	u32 i;

	for (i = from; i < to; i++)
		x[i] /= sum;
}

u32 llm_sampler_walk(const float *p, u32 from, u32 to, u32 *cdf_bits,
		     u32 draw)
{
	float cdf = llm_bits_to_float(*cdf_bits), r = coin(draw);
	u32 i;

	for (i = from; i < to; i++) {
		cdf += p[i];
		if (r < cdf)
			return i;
	}
	*cdf_bits = llm_float_to_bits(cdf);
	return LLM_SAMPLE_NONE;
}

void llm_sampler_gather(const float *p, u32 from, u32 to, u32 n,
			u32 top_p_milli, struct llm_prob *cand, u32 *m)
{
	float cutoff = (1.0f - topp(top_p_milli)) / (n - 1);
	u32 i, k = *m;

	for (i = from; i < to; i++) {
		if (p[i] >= cutoff) {
			cand[k].bits = llm_float_to_bits(p[i]);
			cand[k].id = i;
			k++;
		}
	}
	*m = k;
}

u32 llm_sampler_mass(const struct llm_prob *cand, u32 from, u32 to,
		     u32 *cum_bits, u32 top_p_milli)
{
	float cum = llm_bits_to_float(*cum_bits), p = topp(top_p_milli);
	u32 i;

	for (i = from; i < to; i++) {
		cum += pf(&cand[i]);
		if (cum > p)
			break;
	}
	*cum_bits = llm_float_to_bits(cum);
	return i < to ? i : LLM_SAMPLE_NONE;
}

u32 llm_sampler_pick(const struct llm_prob *cand, u32 from, u32 to,
		     u32 *cdf_bits, u32 cum_bits, u32 draw)
{
	float cdf = llm_bits_to_float(*cdf_bits);
	float r = coin(draw) * llm_bits_to_float(cum_bits);
	u32 i;

	for (i = from; i < to; i++) {
		cdf += pf(&cand[i]);
		if (r < cdf)
			return i;
	}
	*cdf_bits = llm_float_to_bits(cdf);
	return LLM_SAMPLE_NONE;
}
