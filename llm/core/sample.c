// SPDX-License-Identifier: GPL-2.0
/*
 * Token sampling: the driver (not an FPU object).  The float work is a
 * series of passes over the vocabulary (sampler.c); this file runs each
 * pass in chunks of LLM_SAMPLE_CHUNK entries, each chunk in its own
 * llm_fpu_begin()/llm_fpu_end() bracket, and gives the CPU away between
 * any two, so that no FPU section grows with the vocabulary: the longest
 * is one chunk of llm_sampler_exp(), 0.17 ms (see LLM_SAMPLE_CHUNK).
 * Sums run on from one chunk to the next in memory, so every float is
 * what one pass over the whole vocabulary gives.
 *
 * Ranking (top-k, and the order of the top-p nucleus) needs no float
 * arithmetic: a float's bits map to a u32 with the same order.  So it runs
 * here, with preemption on, yielding every HEAP_OPS_PER_YIELD heap walks,
 * on heaps that do only the work needed (the k best; the nucleus, not
 * every candidate) instead of sorting the whole vocabulary, and it picks
 * and orders exactly what that sort did, ties going to the lower id.
 */
#include "sampler.h"
#include "sampler_fpu.h"

/* Heap operations (each a walk down or up a heap) between two yields. */
#define HEAP_OPS_PER_YIELD	2048u

#define NEG_INF_BITS		0xff800000u

static u32 rng_u32(u64 *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (u32)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

static u32 chunk_end(u32 from, u32 n)
{
	return n - from > LLM_SAMPLE_CHUNK ? from + LLM_SAMPLE_CHUNK : n;
}

/* Each FPU section starts here: the CPU is given away between any two. */
static void section_begin(void)
{
	llm_yield();
	llm_fpu_begin();
}

/* The bits of x[i] (the driver reads and writes floats only as bits). */
static u32 get_bits(const float *x, u32 i)
{
	u32 b;

	memcpy(&b, &x[i], sizeof(b));
	return b;
}

static void set_bits(float *x, u32 i, u32 b)
{
	memcpy(&x[i], &b, sizeof(b));
}

/*
 * A u32 whose unsigned order is the order of the float with these bits:
 * -0 equals +0, negative NaNs sort below -inf and positive ones above
 * +inf (float compares put NaN nowhere; such logits are garbage anyway).
 */
static u32 order_key(u32 bits)
{
	if (bits == 0x80000000u)
		bits = 0;
	return bits & 0x80000000u ? ~bits : bits | 0x80000000u;
}

/*
 * @a ranks below @b: a smaller key, or an equal one with a higher id (the
 * old sort's order, prob_before(), so ties go to the lower id).
 */
static inline bool ranks_below(const struct llm_prob *a,
			       const struct llm_prob *b)
{
	return a->bits < b->bits || (a->bits == b->bits && a->id > b->id);
}

static u32 argmax(const float *x, u32 n)
{
	u32 i, best = 0;

	for (i = 0; i < n; i += LLM_SAMPLE_CHUNK) {
		section_begin();
		best = llm_sampler_argmax(x, i, chunk_end(i, n), best);
		llm_fpu_end();
	}
	return best;
}

/*
 * Top-k: a heap of the k best so far, h[0, k), with the worst at its root
 * and order keys, not float bits, in .bits.  An entry that beats the root
 * replaces it: at most n walks down log2(k) levels.
 */
static void worst_down(struct llm_prob *h, u32 k, struct llm_prob e)
{
	u32 i = 0;

	for (;;) {
		u32 c = 2 * i + 1;

		if (c >= k)
			break;
		if (c + 1 < k && ranks_below(&h[c + 1], &h[c]))
			c++;
		if (!ranks_below(&h[c], &e))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = e;
}

static void worst_up(struct llm_prob *h, u32 i, struct llm_prob e)
{
	while (i) {
		u32 parent = (i - 1) / 2;

		if (!ranks_below(&e, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = e;
}

/* Keep the @k < n largest logits; the rest become -inf. */
static void top_k(float *x, u32 n, u32 k, struct llm_prob *h)
{
	struct llm_prob e, kth;
	u32 i, size = 0, ops = 0;

	for (i = 0; i < n; i++) {
		e.bits = order_key(get_bits(x, i));
		e.id = i;
		if (size < k) {
			worst_up(h, size++, e);
			ops++;
		} else if (ranks_below(&h[0], &e)) {
			worst_down(h, k, e);
			ops++;
		}
		if (ops >= HEAP_OPS_PER_YIELD ||
		    (i + 1) % LLM_SAMPLE_CHUNK == 0) {
			llm_yield();
			ops = 0;
		}
	}
	kth = h[0];
	for (i = 0; i < n; i++) {
		e.bits = order_key(get_bits(x, i));
		e.id = i;
		if (ranks_below(&e, &kth))
			set_bits(x, i, NEG_INF_BITS);
		if ((i + 1) % LLM_SAMPLE_CHUNK == 0)
			llm_yield();
	}
}

static void softmax(float *x, u32 n)
{
	u32 max_bits = get_bits(x, argmax(x, n)), sum_bits = 0, i;

	for (i = 0; i < n; i += LLM_SAMPLE_CHUNK) {
		section_begin();
		llm_sampler_exp(x, i, chunk_end(i, n), max_bits, &sum_bits);
		llm_fpu_end();
	}
	for (i = 0; i < n; i += LLM_SAMPLE_CHUNK) {
		section_begin();
		llm_sampler_div(x, i, chunk_end(i, n), sum_bits);
		llm_fpu_end();
	}
}

static u32 sample_all(const float *p, u32 n, u32 draw)
{
	u32 i, cdf_bits = 0, found = LLM_SAMPLE_NONE;

	for (i = 0; i < n && found == LLM_SAMPLE_NONE; i += LLM_SAMPLE_CHUNK) {
		section_begin();
		found = llm_sampler_walk(p, i, chunk_end(i, n), &cdf_bits, draw);
		llm_fpu_end();
	}
	return found != LLM_SAMPLE_NONE ? found : n - 1;	/* rounding */
}

/*
 * Top-p: the candidates, cand[0, m), as a heap with the best at its root,
 * stored backwards: heap slot j is top[-j], top = &cand[m - 1].  A pop
 * puts the root in the heap's last slot, the first entry after those
 * popped before, so the pops leave cand[0, popped) sorted best first: a
 * heap sort that stops once the nucleus is known.  Candidates are
 * probabilities at or above a positive cutoff, so their float bits order
 * as their values do and serve as keys.
 */
static void best_down(struct llm_prob *top, u32 j, u32 size,
		      struct llm_prob e)
{
	for (;;) {
		u32 c = 2 * j + 1;

		if (c >= size)
			break;
		if (c + 1 < size && ranks_below(top - c, top - (c + 1)))
			c++;
		if (!ranks_below(&e, top - c))
			break;
		*(top - j) = *(top - c);
		j = c;
	}
	*(top - j) = e;
}

static u32 sample_top_p(const float *p, u32 n, u32 top_p_milli,
			struct llm_prob *cand, u32 draw)
{
	u32 i, m = 0, popped = 0, batch = 64, last = LLM_SAMPLE_NONE;
	u32 cum_bits = 0, cdf_bits = 0, ops = 0;
	struct llm_prob *top;

	for (i = 0; i < n; i += LLM_SAMPLE_CHUNK) {
		section_begin();
		llm_sampler_gather(p, i, chunk_end(i, n), n, top_p_milli,
				   cand, &m);
		llm_fpu_end();
	}
	/*
	 * No candidate: NaN probabilities (a model with NaN or inf weights)
	 * compare false with everything.
	 */
	if (!m)
		return sample_all(p, n, draw);
	top = &cand[m - 1];
	for (i = m / 2; i-- > 0;) {
		best_down(top, i, m, *(top - i));
		if (++ops == HEAP_OPS_PER_YIELD) {
			llm_yield();
			ops = 0;
		}
	}
	/* Pop in growing batches until their mass first exceeds p. */
	while (last == LLM_SAMPLE_NONE && popped < m) {
		u32 from = popped, to = popped + min(batch, m - popped);

		for (; popped < to; popped++) {
			struct llm_prob e = cand[popped];	/* the last slot */

			cand[popped] = *top;
			best_down(top, 0, m - popped - 1, e);
		}
		section_begin();
		last = llm_sampler_mass(cand, from, to, &cum_bits, top_p_milli);
		llm_fpu_end();
		batch = min(2 * batch, HEAP_OPS_PER_YIELD);
	}
	if (last == LLM_SAMPLE_NONE)
		last = m - 1;
	for (i = 0; i <= last; i += LLM_SAMPLE_CHUNK) {
		u32 found;

		section_begin();
		found = llm_sampler_pick(cand, i, chunk_end(i, last + 1),
					 &cdf_bits, cum_bits, draw);
		llm_fpu_end();
		if (found != LLM_SAMPLE_NONE)
			return cand[found].id;
	}
	return cand[last].id;
}

u32 llm_sample(struct llm_ctx *c, const struct llm_sampling *s, u64 *rng)
{
	u32 n = c->m->cfg.n_vocab, i, draw;
	float *x = c->logits;

	if (!s->temp_milli)
		return argmax(x, n);
	for (i = 0; i < n; i += LLM_SAMPLE_CHUNK) {
		section_begin();
		llm_sampler_scale(x, i, chunk_end(i, n), s->temp_milli);
		llm_fpu_end();
	}
	if (s->top_k && s->top_k < n)
		top_k(x, n, s->top_k, c->probs);
	softmax(x, n);
	draw = rng_u32(rng);
	if (!s->top_p_milli || s->top_p_milli >= 1000 || n < 2)
		return sample_all(x, n, draw);
	return sample_top_p(x, n, s->top_p_milli, c->probs, draw);
}
