// SPDX-License-Identifier: GPL-2.0
/*
 * fpubound: the longest FPU section of a generation, measured natively.
 * Built against a copy of the core compiled with LLM_FPU_TRACE, where
 * llm_fpu_begin()/llm_fpu_end() (no-ops in userspace otherwise) time each
 * section the kernel would run with preemption off.  Feeds a long prompt
 * (default 4000 tokens, in the executor's batches) and then samples
 * tokens with temperature, top-k and top-p, so every kind of section
 * runs at the largest sizes: matrix tasks, attention over the whole
 * context, the classifier and the sampler over the whole vocabulary.
 *
 *   fpubound [-p PROMPT_TOKENS] [-n TOKENS] [--ref] MODEL.gguf
 *
 * Prints the number of sections, their mean, how many took over 250 us
 * and over 1 ms, the longest and the return address of the
 * llm_fpu_begin() call that opened it (make fpu-bound turns it into a
 * function name with addr2line).  Times are the thread's CPU time, which
 * on a virtual machine also counts time the host stole: a lone outlier on
 * a loaded host is that, not work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userctl/runtime.h"

static int usage(void)
{
	fprintf(stderr, "usage: fpubound [-p PROMPT_TOKENS] [-n TOKENS] [--ref] MODEL.gguf\n");
	return 2;
}

int main(int argc, char **argv)
{
	u32 n_prompt = 4000, n_gen = 32, done = 0, *toks;
	struct llm_runtime rt;
	struct llm_request r;
	const char *path = NULL;
	bool ref = false;
	char err[256];
	u64 t0;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-p") && i + 1 < argc)
			n_prompt = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n_gen = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--ref"))
			ref = true;
		else if (argv[i][0] == '-' || path)
			return usage();
		else
			path = argv[i];
	}
	if (!path || !n_prompt)
		return usage();
	if (llm_runtime_open(&rt, path, n_prompt + n_gen + 1, 64, ref, err,
			     sizeof(err))) {
		fprintf(stderr, "fpubound: %s: %s\n", path, err);
		return 1;
	}
	toks = calloc(n_prompt, sizeof(*toks));
	if (!toks)
		return 1;
	toks[0] = rt.model.vocab.bos;
	for (i = 1; i < (int)n_prompt; i++)
		toks[i] = 3 + ((u32)i * 7919u) % (rt.model.cfg.n_vocab - 3);
	t0 = llm_now_ns();
	while (done < n_prompt) {
		u32 n = min(rt.ex.n_batch, n_prompt - done);

		if (llm_exec_forward(&rt.ctx, toks + done, n, done + n == n_prompt,
				     NULL, NULL)) {
			fprintf(stderr, "fpubound: forward failed at %u\n", done);
			return 1;
		}
		done += n;
	}
	/* an empty prompt goes on from the context: decode and sample */
	memset(&r, 0, sizeof(r));
	r.prompt = "";
	r.max_tokens = n_gen;
	r.max_prompt_tokens = 1;
	r.sampling.temp_milli = 800;
	r.sampling.top_k = 40;
	r.sampling.top_p_milli = 900;
	r.seed = 1;
	if (llm_generate(&rt.ctx, &r)) {
		fprintf(stderr, "fpubound: generation failed\n");
		return 1;
	}
	printf("model %s (vocab %u, %u layers, dim %u), kernels %s, context %u + %u tokens in %.1f s\n",
	       rt.model.name, rt.model.cfg.n_vocab, rt.model.cfg.n_layers,
	       rt.model.cfg.n_embd, llm_kernels_name(rt.model.kernels), n_prompt,
	       r.n_gen,
	       (llm_now_ns() - t0) / 1e9);
	printf("fpu sections %llu, mean %.1f us, over 250 us %llu, over 1 ms %llu, longest %.1f us, opened at %p\n",
	       (unsigned long long)llm_fpu_trace.sections,
	       llm_fpu_trace.sections ? llm_fpu_trace.total_ns / 1e3 /
	       llm_fpu_trace.sections : 0.0,
	       (unsigned long long)llm_fpu_trace.over_250us,
	       (unsigned long long)llm_fpu_trace.over_1ms,
	       llm_fpu_trace.max_ns / 1e3, llm_fpu_trace.max_site);
	free(toks);
	llm_runtime_close(&rt);
	return 0;
}
