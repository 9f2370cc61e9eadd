// SPDX-License-Identifier: GPL-2.0
/*
 * The sampler on hand-made distributions: greedy, temperature, top-k and
 * top-p draw from the distribution they should (frequencies over many
 * seeded draws), seeds reproduce, and logits with NaN or inf in them still
 * give a token id in range.  Then the chunked sampler against the one it
 * replaced (a heap sort of the whole vocabulary, one pass each, kept below
 * as the reference): the same token, the same distribution to the bit and
 * the same nucleus in the same order, on logits full of ties, on
 * vocabularies that end in, on and past chunk boundaries, and on 128k.
 */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "llm/core/model.h"
#include "llm/core/sampler.h"
#include "llm/core/sampler_fpu.h"
#include "llm/core/fmath.h"

#define NV 8
#define DRAWS 40000
#define BIG_VOCAB 131072u

static struct llm_model model;
static struct llm_ctx ctx;
static float *logits;

/* A context over a vocabulary of @n (the arrays are fresh each time). */
static void use_vocab(u32 n)
{
	free(logits);
	free(ctx.probs);
	model.cfg.n_vocab = n;
	ctx.m = &model;
	logits = calloc(n, sizeof(*logits));
	ctx.logits = logits;
	ctx.probs = calloc(n, sizeof(*ctx.probs));
	if (!logits || !ctx.probs) {
		perror("calloc");
		exit(2);
	}
}

static void setup(void)
{
	use_vocab(NV);
}

/* Logits whose softmax is @p (any positive weights; they need not sum to 1). */
static u32 draw(const float *p, u32 temp_milli, u32 top_k, u32 top_p_milli,
		u64 *rng)
{
	struct llm_sampling s = { temp_milli, top_k, top_p_milli };
	u32 i;

	for (i = 0; i < NV; i++)
		logits[i] = p[i] > 0 ? logf(p[i]) : -INFINITY;
	return llm_sample(&ctx, &s, rng);
}

/* Draw DRAWS times; counts[] gets how often each id came. */
static void histogram(const float *p, u32 temp_milli, u32 top_k,
		      u32 top_p_milli, u64 seed, u32 *counts)
{
	u64 rng = seed;
	u32 i;

	memset(counts, 0, NV * sizeof(*counts));
	for (i = 0; i < DRAWS; i++) {
		u32 id = draw(p, temp_milli, top_k, top_p_milli, &rng);

		if (id < NV)
			counts[id]++;
	}
}

/* Observed frequency of each id within 0.01 of @want (sums to 1). */
static int freq_ok(const u32 *counts, const float *want)
{
	u32 i;

	for (i = 0; i < NV; i++)
		if (fabsf((float)counts[i] / DRAWS - want[i]) > 0.01f) {
			printf("    id %u: %.4f drawn, %.4f expected\n", i,
			       (float)counts[i] / DRAWS, want[i]);
			return 0;
		}
	return 1;
}

static const float dist[NV] = { 0.05f, 0.30f, 0.10f, 0.20f,
				 0.02f, 0.25f, 0.03f, 0.05f };

static void greedy_takes_argmax(void)
{
	u64 rng = 1, before = rng;

	CHECK_EQ(draw(dist, 0, 0, 0, &rng), 1);
	CHECK(rng == before);	/* greedy draws no random number */
	/* a tie goes to the lower id, as llama2.c's argmax */
	const float tie[NV] = { 1, 1, 1, 4, 1, 4, 1, 1 };

	CHECK_EQ(draw(tie, 0, 0, 0, &rng), 3);
}

static void temperature_one_follows_softmax(void)
{
	u32 counts[NV];

	histogram(dist, 1000, 0, 0, 42, counts);
	CHECK(freq_ok(counts, dist));
}

static void temperature_sharpens_and_flattens(void)
{
	float want[NV], sum = 0;
	u32 counts[NV], i;

	/* p^(1/T) renormalised: T = 0.5 squares the weights */
	for (i = 0; i < NV; i++)
		sum += want[i] = dist[i] * dist[i];
	for (i = 0; i < NV; i++)
		want[i] /= sum;
	histogram(dist, 500, 0, 0, 7, counts);
	CHECK(freq_ok(counts, want));
	/* a tiny temperature is greedy in effect */
	histogram(dist, 1, 0, 0, 7, counts);
	CHECK_EQ(counts[1], DRAWS);
	/* a huge one is nearly uniform */
	for (i = 0; i < NV; i++)
		want[i] = 1.0f / NV;
	histogram(dist, 1000000, 0, 0, 7, counts);
	CHECK(freq_ok(counts, want));
}

static void top_k_keeps_k_most_likely(void)
{
	/* ids 1 and 5 (0.30, 0.25) renormalised */
	const float want[NV] = { 0, 0.30f / 0.55f, 0, 0, 0, 0.25f / 0.55f };
	u32 counts[NV];

	histogram(dist, 1000, 2, 0, 9, counts);
	CHECK(freq_ok(counts, want));
	histogram(dist, 1000, 1, 0, 9, counts);
	CHECK_EQ(counts[1], DRAWS);
	/* k >= vocabulary: no cut */
	histogram(dist, 1000, NV, 0, 9, counts);
	CHECK(freq_ok(counts, dist));
}

static void top_p_keeps_the_nucleus(void)
{
	/* 0.30 + 0.25 = 0.55 <= 0.6 < 0.75 with 0.20: ids 1, 5, 3 */
	const float want[NV] = { 0, 0.30f / 0.75f, 0, 0.20f / 0.75f,
				 0, 0.25f / 0.75f };
	u32 counts[NV];

	histogram(dist, 1000, 0, 600, 11, counts);
	CHECK(freq_ok(counts, want));
	/* a tiny p keeps only the most likely token */
	histogram(dist, 1000, 0, 1, 11, counts);
	CHECK_EQ(counts[1], DRAWS);
	/* p = 1 is off */
	histogram(dist, 1000, 0, 1000, 11, counts);
	CHECK(freq_ok(counts, dist));
}

static void top_k_then_top_p(void)
{
	/* top-3 (1, 5, 3) renormalised: 0.4, 0.333, 0.267; p 0.5 keeps 1, 5 */
	const float want[NV] = { 0, 0.30f / 0.55f, 0, 0, 0, 0.25f / 0.55f };
	u32 counts[NV];

	histogram(dist, 1000, 3, 500, 13, counts);
	CHECK(freq_ok(counts, want));
}

static void seeds_reproduce(void)
{
	u64 a = 133742, b = 133742, c = 133743;
	u32 i, same_ab = 0, same_ac = 0;

	for (i = 0; i < 200; i++) {
		u32 x = draw(dist, 1000, 0, 900, &a);
		u32 y = draw(dist, 1000, 0, 900, &b);
		u32 z = draw(dist, 1000, 0, 900, &c);

		same_ab += x == y;
		same_ac += x == z;
	}
	CHECK_EQ(same_ab, 200);
	CHECK(same_ac < 200);
}

/* A model with NaN or inf weights must still give an id in range. */
static void bad_logits_stay_in_range(void)
{
	static const struct llm_sampling modes[] = {
		{ 0, 0, 0 }, { 1000, 0, 0 }, { 800, 0, 900 },
		{ 800, 3, 0 }, { 800, 3, 900 }, { 1000, 0, 1 },
	};
	u64 rng = 5;
	u32 m, i, bad;

	for (bad = 0; bad < 3; bad++) {
		for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
			for (i = 0; i < NV; i++)
				logits[i] = bad == 0 ? NAN :
					    bad == 1 ? (i == 2 ? NAN : 1.0f) :
					    (i == 4 ? INFINITY : 0.0f);
			CHECK(llm_sample(&ctx, &modes[m], &rng) < NV);
		}
	}
}

/*
 * The sampler as it was: one pass over the whole vocabulary for each step
 * and a heap sort of all of it for top-k and top-p.  ref_last is the last
 * nucleus entry of the last top-p draw, ref_cand its candidates, sorted.
 */
static u32 ref_last;
static struct llm_prob *ref_cand;

static float ref_pf(const struct llm_prob *p)
{
	return llm_bits_to_float(p->bits);
}

static bool ref_before(const struct llm_prob *a, const struct llm_prob *b)
{
	return ref_pf(a) < ref_pf(b) ||
	       (ref_pf(a) == ref_pf(b) && a->id > b->id);
}

static void ref_sift_down(struct llm_prob *p, u32 i, u32 n)
{
	for (;;) {
		u32 c = 2 * i + 1;
		struct llm_prob t;

		if (c >= n)
			return;
		if (c + 1 < n && ref_before(&p[c + 1], &p[c]))
			c++;
		if (!ref_before(&p[c], &p[i]))
			return;
		t = p[i];
		p[i] = p[c];
		p[c] = t;
		i = c;
	}
}

static void ref_sort_desc(struct llm_prob *p, u32 n)
{
	u32 i;

	if (n < 2)
		return;
	for (i = n / 2; i-- > 0;)
		ref_sift_down(p, i, n);
	for (i = n - 1; i > 0; i--) {
		struct llm_prob t = p[0];

		p[0] = p[i];
		p[i] = t;
		ref_sift_down(p, 0, i);
	}
}

static u32 ref_argmax(const float *x, u32 n)
{
	u32 i, best = 0;

	for (i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

static u32 ref_sample_all(const float *p, u32 n, float coin)
{
	float cdf = 0.0f;
	u32 i;

	for (i = 0; i < n; i++) {
		cdf += p[i];
		if (coin < cdf)
			return i;
	}
	return n - 1;
}

static u32 ref_top_p(const float *p, u32 n, float topp, struct llm_prob *cand,
		     float coin)
{
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
	if (!m)
		return ref_sample_all(p, n, coin);
	ref_sort_desc(cand, m);
	last = m - 1;
	for (i = 0; i < m; i++) {
		cum += ref_pf(&cand[i]);
		if (cum > topp) {
			last = i;
			break;
		}
	}
	ref_last = last;
	r = coin * cum;
	for (i = 0; i <= last; i++) {
		cdf += ref_pf(&cand[i]);
		if (r < cdf)
			return cand[i].id;
	}
	return cand[last].id;
}

static u32 ref_rng_u32(u64 *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (u32)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

static u32 ref_sample(float *x, u32 n, const struct llm_sampling *s,
		      u64 *rng)
{
	float temp, maxv, sum = 0.0f, coin;
	u32 i;

	ref_last = U32_MAX;
	if (!s->temp_milli)
		return ref_argmax(x, n);
	temp = s->temp_milli / 1000.0f;
	for (i = 0; i < n; i++)
		x[i] /= temp;
	if (s->top_k && s->top_k < n) {
		for (i = 0; i < n; i++) {
			ref_cand[i].bits = llm_float_to_bits(x[i]);
			ref_cand[i].id = i;
		}
		ref_sort_desc(ref_cand, n);
		for (i = s->top_k; i < n; i++)
			x[ref_cand[i].id] = -INFINITY;
	}
	maxv = x[ref_argmax(x, n)];
	for (i = 0; i < n; i++) {
		x[i] = llm_expf(x[i] - maxv);
		sum += x[i];
	}
	for (i = 0; i < n; i++)
		x[i] /= sum;
	coin = (ref_rng_u32(rng) >> 8) / 16777216.0f;
	if (!s->top_p_milli || s->top_p_milli >= 1000 || n < 2)
		return ref_sample_all(x, n, coin);
	return ref_top_p(x, n, s->top_p_milli / 1000.0f, ref_cand, coin);
}

static u64 lcg = 88172645463325252ull;

static u32 rnd(void)
{
	lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
	return (u32)(lcg >> 33);
}

/*
 * Logits full of ties: each is one of a few values (both zeros among
 * them), a -inf, or now and then a value of its own.
 */
static void tied_logits(float *x, u32 n, u32 distinct)
{
	u32 i;

	for (i = 0; i < n; i++) {
		u32 r = rnd() % 100;

		if (r < 3)
			x[i] = -INFINITY;
		else if (r < 8)
			x[i] = r & 1 ? -0.0f : 0.0f;
		else if (r < 12)
			x[i] = (float)(rnd() % 100000) / 7919.0f - 6.0f;
		else
			x[i] = (float)(rnd() % distinct) * 0.75f - 3.0f;
	}
}

static float *want_logits;

/*
 * llm_sample() and the reference on the same logits and seed: the same
 * token, generator state, distribution left in the logits (bit for bit:
 * the top-k set and every sum are the same) and top-p nucleus, in order.
 */
static int same_as_reference(u32 n, const struct llm_sampling *s, u64 seed)
{
	u64 rng = seed, ref_rng = seed;
	u32 tok, want;

	memcpy(want_logits, logits, n * sizeof(*logits));
	want = ref_sample(want_logits, n, s, &ref_rng);
	tok = llm_sample(&ctx, s, &rng);
	if (tok != want || rng != ref_rng ||
	    memcmp(logits, want_logits, n * sizeof(*logits)) ||
	    (ref_last != U32_MAX &&
	     memcmp(ctx.probs, ref_cand, (ref_last + 1) * sizeof(*ref_cand)))) {
		printf("    n %u temp %u top-k %u top-p %u seed %llu: token %u, reference %u\n",
		       n, s->temp_milli, s->top_k, s->top_p_milli,
		       (unsigned long long)seed, tok, want);
		return 0;
	}
	return 1;
}

static void use_vocab_ref(u32 n)
{
	use_vocab(n);
	free(want_logits);
	free(ref_cand);
	want_logits = calloc(n, sizeof(*want_logits));
	ref_cand = calloc(n, sizeof(*ref_cand));
	if (!want_logits || !ref_cand) {
		perror("calloc");
		exit(2);
	}
}

/* Sizes around the chunk boundaries. */
static const u32 sizes[] = {
	1, 2, 3, 8, 100, 1000, LLM_SAMPLE_CHUNK - 1, LLM_SAMPLE_CHUNK,
	LLM_SAMPLE_CHUNK + 1, 2 * LLM_SAMPLE_CHUNK + 7,
};

static void greedy_matches_reference(void)
{
	static const struct llm_sampling greedy = { 0, 0, 0 };
	u32 z, t;

	for (z = 0; z < ARRAY_SIZE(sizes); z++) {
		u32 n = sizes[z];

		use_vocab_ref(n);
		for (t = 0; t < 20; t++) {
			tied_logits(logits, n, 2 + t);
			/* the maximum just past a chunk boundary, twice */
			if (t & 1 && n > LLM_SAMPLE_CHUNK + 1)
				logits[LLM_SAMPLE_CHUNK] =
					logits[n - 1] = 100.0f;
			CHECK(same_as_reference(n, &greedy, t));
		}
	}
}

/* top-k with k in {1, 2, 40, n - 1, n, > n}, with and without top-p. */
static void top_k_matches_full_sort(void)
{
	static const u32 temps[3] = { 1000, 600, 1700 };
	static const u32 top_ps[] = { 0, 500, 900, 999, 1000 };
	u32 z, a, b, t = 0;

	for (z = 0; z < ARRAY_SIZE(sizes); z++) {
		u32 n = sizes[z];
		const u32 ks[] = { 1, 2, 40, n - 1, n, n + 1, 3 * n };

		use_vocab_ref(n);
		for (a = 0; a < ARRAY_SIZE(ks); a++) {
			for (b = 0; b < ARRAY_SIZE(top_ps); b++) {
				struct llm_sampling s = { temps[t % 3], ks[a],
							  top_ps[b] };

				t++;
				tied_logits(logits, n, 3 + t % 9);
				CHECK(same_as_reference(n, &s, t));
			}
		}
	}
}

/* top-p alone, over many draws: the nucleus and each pick within it. */
static void top_p_matches_full_sort(void)
{
	static const u32 top_ps[] = { 1, 100, 500, 800, 900, 950, 990, 999 };
	u32 z, b, d;

	for (z = 0; z < ARRAY_SIZE(sizes); z++) {
		u32 n = sizes[z];

		use_vocab_ref(n);
		for (b = 0; b < ARRAY_SIZE(top_ps); b++) {
			for (d = 0; d < (n > 1000 ? 3 : 40); d++) {
				struct llm_sampling s = { 1000, 0, top_ps[b] };

				tied_logits(logits, n, 2 + d % 5);
				CHECK(same_as_reference(n, &s, 1 + d + 100 * b));
			}
		}
	}
}

/*
 * A 131072-token vocabulary: ties, a flat distribution (every token a
 * candidate, a nucleus of 90% of them: many pops and several chunks of
 * picking) and one sharp peak.
 */
static void big_vocabulary(void)
{
	static const struct llm_sampling modes[] = {
		{ 0, 0, 0 }, { 1000, 0, 0 }, { 800, 40, 0 }, { 800, 40, 900 },
		{ 1000, 0, 900 }, { 1000, 0, 990 }, { 700, BIG_VOCAB - 1, 950 },
		{ 1000, 65536, 0 },
	};
	u32 m, shape, i;

	use_vocab_ref(BIG_VOCAB);
	for (shape = 0; shape < 3; shape++) {
		for (m = 0; m < ARRAY_SIZE(modes); m++) {
			if (shape == 0)
				tied_logits(logits, BIG_VOCAB, 50);
			for (i = 0; shape && i < BIG_VOCAB; i++)
				logits[i] = shape == 2 && i == 99999 ? 30.0f : 1.0f;
			CHECK(same_as_reference(BIG_VOCAB, &modes[m], 7 + m));
		}
	}
	/* the flat one really had a nucleus over several chunks */
	for (i = 0; i < BIG_VOCAB; i++)
		logits[i] = 1.0f;
	CHECK(same_as_reference(BIG_VOCAB, &modes[4], 1));
	CHECK(ref_last > 2 * LLM_SAMPLE_CHUNK);
}

int main(void)
{
	llm_log_quiet = 1;
	setup();
	RUN(greedy_takes_argmax);
	RUN(temperature_one_follows_softmax);
	RUN(temperature_sharpens_and_flattens);
	RUN(top_k_keeps_k_most_likely);
	RUN(top_p_keeps_the_nucleus);
	RUN(top_k_then_top_p);
	RUN(seeds_reproduce);
	RUN(bad_logits_stay_in_range);
	RUN(greedy_matches_reference);
	RUN(top_k_matches_full_sort);
	RUN(top_p_matches_full_sort);
	RUN(big_vocabulary);
	return check_done();
}
