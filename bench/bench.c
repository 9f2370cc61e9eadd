// SPDX-License-Identifier: GPL-2.0
/*
 * bench: prefill and decode throughput of the shared core in userspace,
 * per model file and per kernel set (scalar reference vs the SIMD kernels
 * this CPU gets), with the weight-streaming rate each speed implies.
 *
 *   bench [-n TOKENS] [-p PROMPT_TOKENS] MODEL.gguf...
 *
 * One run each: the machines are shared, so compare the ratios printed in
 * one run, not absolute figures across runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userctl/runtime.h"
#include "quant/kernels.h"

static const char prompt_text[] =
	"Once upon a time, there was a little girl named Lily. She loved to "
	"play outside in the park with her friends. One day, she saw a big "
	"red ball under a tree. She wanted to play with it, but her mom said "
	"it was time to go home for dinner. Lily was sad, but she knew her "
	"mom was right. The next day, she went back to the park and";

struct result {
	double prefill, decode;
	u32 n_prompt, n_gen;
	const char *kernels;
};

static int run(const char *path, bool ref, u32 tokens, struct result *res)
{
	struct llm_runtime rt;
	struct llm_request r;
	char err[256];
	int ret;

	ret = llm_runtime_open(&rt, path, 1024, sizeof(prompt_text), ref, err,
			       sizeof(err));
	if (ret) {
		fprintf(stderr, "bench: %s: %s\n", path, err);
		return ret;
	}
	memset(&r, 0, sizeof(r));
	r.prompt = prompt_text;
	r.prompt_len = strlen(prompt_text);
	r.max_tokens = tokens;
	r.max_prompt_tokens = 1000;
	r.seed = 1;
	ret = llm_generate(&rt.ctx, &r);
	res->kernels = rt.model.kernels->name;
	res->n_prompt = r.n_prompt;
	res->n_gen = r.n_gen;
	res->prefill = r.prefill_ns ? r.n_prompt / (r.prefill_ns / 1e9) : 0;
	res->decode = r.decode_ns ? r.n_gen / (r.decode_ns / 1e9) : 0;
	llm_runtime_close(&rt);
	return ret;
}

int main(int argc, char **argv)
{
	u32 tokens = 256;
	int i = 1;

	llm_log_quiet = 1;
	if (argc > 2 && !strcmp(argv[1], "-n")) {
		tokens = atoi(argv[2]);
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: bench [-n TOKENS] MODEL.gguf...\n");
		return 2;
	}
	printf("%-28s %-7s %8s %12s %12s %10s\n", "model", "kernels",
	       "weights", "prefill t/s", "decode t/s", "vs scalar");
	for (; i < argc; i++) {
		struct result s, f;
		const char *name = strrchr(argv[i], '/');
		FILE *fp = fopen(argv[i], "rb");
		long bytes = 0;

		if (fp) {
			fseek(fp, 0, SEEK_END);
			bytes = ftell(fp);
			fclose(fp);
		}
		name = name ? name + 1 : argv[i];
		if (run(argv[i], true, tokens, &s) ||
		    run(argv[i], false, tokens, &f))
			return 1;
		printf("%-28s %-7s %6.2fMB %12.1f %12.1f %9s\n", name,
		       s.kernels, bytes / 1e6, s.prefill, s.decode, "1.00x");
		printf("%-28s %-7s %6.2fMB %12.1f %12.1f %8.2fx\n", name,
		       f.kernels, bytes / 1e6, f.prefill, f.decode,
		       s.decode ? f.decode / s.decode : 0);
		printf("%-28s %-7s weights streamed at decode: %.2f GB/s\n", "",
		       f.kernels, f.decode * bytes / 1e9);
	}
	printf("(a %zu-byte prompt, %u tokens generated; one run each)\n",
	       strlen(prompt_text), tokens);
	return 0;
}
