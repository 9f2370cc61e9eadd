// SPDX-License-Identifier: GPL-2.0
/*
 * The sampler on hand-made distributions: greedy, temperature, top-k and
 * top-p draw from the distribution they should (frequencies over many
 * seeded draws), seeds reproduce, and logits with NaN or inf in them still
 * give a token id in range.
 */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "llm/core/model.h"
#include "llm/core/sampler.h"

#define NV 8
#define DRAWS 40000

static struct llm_model model;
static struct llm_ctx ctx;
static float logits[NV];
static struct llm_prob probs[NV];

static void setup(void)
{
	model.cfg.n_vocab = NV;
	ctx.m = &model;
	ctx.logits = logits;
	ctx.probs = probs;
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
	return check_done();
}
