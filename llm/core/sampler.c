// SPDX-License-Identifier: GPL-2.0
/*
 * Token sampling (an FPU object).  With top-k off, the steps and the random
 * draws are those of llama2.c's sampler, so its seeded outputs reproduce:
 * divide by the temperature, softmax, draw one float in [0, 1), then either
 * walk the whole distribution or, with top-p, only the smallest set of most
 * likely tokens whose mass exceeds p.
 */
#include "sampler.h"
#include "fmath.h"

static u32 rng_u32(u64 *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (u32)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

static float rng_f32(u64 *state)
{
	return (rng_u32(state) >> 8) / 16777216.0f;
}

static float pf(const struct llm_prob *p)
{
	return llm_bits_to_float(p->bits);
}

/* Sort by value, largest first (heap sort: no recursion, no allocation). */
static bool prob_before(const struct llm_prob *a, const struct llm_prob *b)
{
	return pf(a) < pf(b) || (pf(a) == pf(b) && a->id > b->id);
}

static void sift_down(struct llm_prob *p, u32 i, u32 n)
{
	for (;;) {
		u32 c = 2 * i + 1;
		struct llm_prob t;

		if (c >= n)
			return;
		/* min-heap on "before" puts the smallest at the root */
		if (c + 1 < n && prob_before(&p[c + 1], &p[c]))
			c++;
		if (!prob_before(&p[c], &p[i]))
			return;
		t = p[i];
		p[i] = p[c];
		p[c] = t;
		i = c;
	}
}

static void sort_desc(struct llm_prob *p, u32 n)
{
	u32 i;

	if (n < 2)
		return;
	for (i = n / 2; i-- > 0;)
		sift_down(p, i, n);
	for (i = n - 1; i > 0; i--) {
		struct llm_prob t = p[0];

		p[0] = p[i];
		p[i] = t;
		sift_down(p, 0, i);
	}
}

static u32 argmax(const float *x, u32 n)
{
	u32 i, best = 0;

	for (i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

static void softmax(float *x, u32 n)
{
	float maxv = x[argmax(x, n)], sum = 0.0f;
	u32 i;

	for (i = 0; i < n; i++) {
		x[i] = llm_expf(x[i] - maxv);
		sum += x[i];
	}
	for (i = 0; i < n; i++)
		x[i] /= sum;
}

/* Keep the @k largest logits; the rest become -inf. */
static void top_k(float *logits, u32 n, u32 k, struct llm_prob *scratch)
{
	u32 i;

	for (i = 0; i < n; i++) {
		scratch[i].bits = llm_float_to_bits(logits[i]);
		scratch[i].id = i;
	}
	sort_desc(scratch, n);
	for (i = k; i < n; i++)
		logits[scratch[i].id] = llm_bits_to_float(0xff800000u);
}

static u32 sample_all(const float *p, u32 n, float coin)
{
	float cdf = 0.0f;
	u32 i;

	for (i = 0; i < n; i++) {
		cdf += p[i];
		if (coin < cdf)
			return i;
	}
	return n - 1;	/* rounding */
}

static u32 sample_top_p(const float *p, u32 n, float topp,
			struct llm_prob *cand, float coin)
{
	/* tokens below this cannot be in the nucleus: skip sorting them */
	float cutoff = (1.0f - topp) / (n - 1);
	float cum = 0.0f, r, cdf = 0.0f;
	u32 i, m = 0, last;

	for (i = 0; i < n; i++) {
		if (p[i] >= cutoff) {
			cand[m].bits = llm_float_to_bits(p[i]);
			cand[m].id = i;
			m++;
		}
	}
	/*
	 * No candidate: NaN probabilities (a model with NaN or inf weights)
	 * compare false with everything.  last = m - 1 would then index far
	 * past cand[].
	 */
	if (!m)
		return sample_all(p, n, coin);
	sort_desc(cand, m);
	last = m - 1;
	for (i = 0; i < m; i++) {
		cum += pf(&cand[i]);
		if (cum > topp) {
			last = i;
			break;
		}
	}
	r = coin * cum;
	for (i = 0; i <= last; i++) {
		cdf += pf(&cand[i]);
		if (r < cdf)
			return cand[i].id;
	}
	return cand[last].id;
}

u32 llm_sample(struct llm_ctx *c, const struct llm_sampling *s, u64 *rng)
{
	u32 n = c->m->cfg.n_vocab, i;
	float *logits = c->logits;
	float temp, topp, coin;

	if (!s->temp_milli)
		return argmax(logits, n);
	temp = s->temp_milli / 1000.0f;
	for (i = 0; i < n; i++)
		logits[i] /= temp;
	if (s->top_k && s->top_k < n)
		top_k(logits, n, s->top_k, c->probs);
	softmax(logits, n);
	coin = rng_f32(rng);
	if (!s->top_p_milli || s->top_p_milli >= 1000 || n < 2)
		return sample_all(logits, n, coin);
	topp = s->top_p_milli / 1000.0f;
	return sample_top_p(logits, n, topp, c->probs, coin);
}
