// SPDX-License-Identifier: GPL-2.0
/*
 * sampler-bench: how long the sampler's FPU sections are, natively, on a
 * 131072-token vocabulary.  Each FPU section of llm_sample() is one call
 * of one pass of sampler.c on one chunk (sample.c brackets nothing else),
 * so this times every pass on every chunk the way sample.c cuts them, on
 * inputs that make each pass do all its work (no early exit, no
 * exponential cut short by underflow), and prints the least, median and
 * 99th percentile time per pass (the largest would only say how often
 * this shared machine took the CPU away: in the kernel, preemption is off
 * inside a section).  Then whole llm_sample() calls, for scale.
 *
 *   sampler-bench [REPEATS]
 *
 * One run: the machines are shared, read the figures as orders of
 * magnitude.  Nothing here is a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/core/sampler.h"
#include "llm/core/sampler_fpu.h"
#include "llm/core/fmath.h"

#define N 131072u
#define N_CHUNKS (N / LLM_SAMPLE_CHUNK)

static float x[N], saved[N];
static struct llm_prob cand[N];
static u64 lcg = 42;

static u32 rnd(void)
{
	lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
	return (u32)(lcg >> 33);
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x1 = *(const u64 *)a, x2 = *(const u64 *)b;

	return x1 < x2 ? -1 : x1 > x2;
}

static u64 *times;
static u32 n_times;

/* Least, median and 99th percentile of the times taken, in @unit ns. */
static void report(const char *what, double unit)
{
	qsort(times, n_times, sizeof(*times), cmp_u64);
	printf("  %-22s %8.2f %8.2f %8.2f\n", what, times[0] / unit,
	       times[n_times / 2] / unit, times[n_times * 99 / 100] / unit);
	n_times = 0;
}

/* Logits as a model gives them: spread over [-10, 10], few underflows. */
static void fill(void)
{
	u32 i;

	for (i = 0; i < N; i++)
		saved[i] = (float)(rnd() % 20001) / 1000.0f - 10.0f;
}

/* A flat distribution: no running sum reaches p or the coin early. */
static void flat(void)
{
	u32 i;

	for (i = 0; i < N; i++) {
		x[i] = 1.0f / N;
		cand[i].bits = llm_float_to_bits(x[i]);
		cand[i].id = i;
	}
}

#define TIME(call) do {							\
	u64 t0 = llm_now_ns();						\
	call;								\
	times[n_times++] = llm_now_ns() - t0;				\
} while (0)

static void sections(u32 repeats)
{
	u32 r, k, from, to, best, bits, m;

	printf("FPU sections of llm_sample() on %u tokens (%u entries each), microseconds:\n",
	       N, LLM_SAMPLE_CHUNK);
	printf("  %-22s %8s %8s %8s\n", "pass", "least", "median", "99%");
	for (r = 0; r < repeats; r++) {
		memcpy(x, saved, sizeof(x));
		for (k = 0, best = 0; k < N_CHUNKS; k++) {
			from = k * LLM_SAMPLE_CHUNK;
			TIME(best = llm_sampler_argmax(x, from,
						       from + LLM_SAMPLE_CHUNK, best));
		}
	}
	report("argmax", 1e3);
	for (r = 0; r < repeats; r++) {
		memcpy(x, saved, sizeof(x));
		for (k = 0; k < N_CHUNKS; k++) {
			from = k * LLM_SAMPLE_CHUNK;
			TIME(llm_sampler_scale(x, from, from + LLM_SAMPLE_CHUNK,
					       700));
		}
	}
	report("scale", 1e3);
	for (r = 0; r < repeats; r++) {
		memcpy(x, saved, sizeof(x));
		for (k = 0, bits = 0; k < N_CHUNKS; k++) {
			from = k * LLM_SAMPLE_CHUNK;
			TIME(llm_sampler_exp(x, from, from + LLM_SAMPLE_CHUNK,
					     llm_float_to_bits(10.0f), &bits));
		}
	}
	report("exp", 1e3);
	for (r = 0; r < repeats; r++) {
		for (k = 0; k < N_CHUNKS; k++) {
			from = k * LLM_SAMPLE_CHUNK;
			TIME(llm_sampler_div(x, from, from + LLM_SAMPLE_CHUNK,
					     llm_float_to_bits(3.0f)));
		}
	}
	report("div", 1e3);
	for (r = 0; r < repeats; r++) {
		flat();
		for (k = 0, bits = 0; k < N_CHUNKS; k++) {
			from = k * LLM_SAMPLE_CHUNK;
			TIME(llm_sampler_walk(x, from, from + LLM_SAMPLE_CHUNK,
					      &bits, U32_MAX));
		}
	}
	report("walk", 1e3);
	for (r = 0; r < repeats; r++) {
		flat();
		for (k = 0, m = 0; k < N_CHUNKS; k++) {
			from = k * LLM_SAMPLE_CHUNK;
			TIME(llm_sampler_gather(x, from, from + LLM_SAMPLE_CHUNK,
						N, 999, cand, &m));
		}
	}
	report("gather", 1e3);
	for (r = 0; r < repeats; r++) {
		flat();
		for (k = 0, bits = 0; k < N_CHUNKS; k++) {
			from = k * LLM_SAMPLE_CHUNK;
			TIME(llm_sampler_mass(cand, from, from + LLM_SAMPLE_CHUNK,
					      &bits, 999));
		}
	}
	report("mass", 1e3);
	for (r = 0; r < repeats; r++) {
		flat();
		for (k = 0, bits = 0; k < N_CHUNKS; k++) {
			from = k * LLM_SAMPLE_CHUNK;
			to = from + LLM_SAMPLE_CHUNK;
			TIME(llm_sampler_pick(cand, from, to, &bits,
					      llm_float_to_bits(1.0f), U32_MAX));
		}
	}
	report("pick", 1e3);
}

static void whole(u32 repeats)
{
	static const struct {
		const char *what;
		struct llm_sampling s;
		int shape;	/* 0 spread, 1 flat, 2 ascending */
	} runs[] = {
		{ "greedy", { 0, 0, 0 }, 0 },
		{ "temperature 0.8", { 800, 0, 0 }, 0 },
		{ "top-k 40", { 800, 40, 0 }, 0 },
		{ "top-k 40, top-p 0.9", { 800, 40, 900 }, 0 },
		{ "top-p 0.9", { 800, 0, 900 }, 0 },
		{ "top-p 0.9, flat", { 1000, 0, 900 }, 1 },
		{ "top-k n-1, ascending", { 1000, N - 1, 0 }, 2 },
	};
	static struct llm_model model;
	struct llm_ctx c = { .m = &model, .logits = x, .probs = cand };
	u32 i, r, j;
	u64 rng = 1;

	model.cfg.n_vocab = N;
	printf("llm_sample() on %u tokens, milliseconds:\n", N);
	printf("  %-22s %8s %8s %8s\n", "", "least", "median", "99%");
	for (i = 0; i < ARRAY_SIZE(runs); i++) {
		for (r = 0; r < repeats; r++) {
			for (j = 0; j < N; j++)
				x[j] = runs[i].shape == 0 ? saved[j] :
				       runs[i].shape == 1 ? 1.0f : j / 4096.0f;
			TIME(llm_sample(&c, &runs[i].s, &rng));
		}
		report(runs[i].what, 1e6);
	}
}

int main(int argc, char **argv)
{
	u32 repeats = argc > 1 ? (u32)atoi(argv[1]) : 50;

	if (!repeats)
		repeats = 1;
	times = calloc((size_t)repeats * N_CHUNKS, sizeof(*times));
	if (!times)
		return 1;
	fill();
	sections(repeats);
	whole(repeats);
	free(times);
	return 0;
}
