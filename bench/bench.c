// SPDX-License-Identifier: GPL-2.0
/*
 * bench: prefill and decode throughput of the shared core in userspace.
 *
 *   bench [-j THREADS] [-n TOKENS] MODEL.gguf...
 *	Each model with the scalar reference kernels and with the SIMD
 *	kernels this CPU gets: a story prompt (about 80 tokens), TOKENS
 *	(default 256) generated, and the weight-streaming rate decode
 *	implies.
 *
 *   bench -p PROMPT_TOKENS [-n TOKENS] [-j THREADS] [--ref] [--tsv] MODEL...
 *	What llama-bench -p P -n N measures: the prefill of a prompt of
 *	exactly P tokens (BOS included) from an empty context, and N decode
 *	steps from an empty context (BOS, then N tokens fed one at a time),
 *	each timed alone.  With --tsv one tab-separated line per model, for
 *	scripts (scripts/bench-llama.sh).
 *
 *   bench --prompt TEXT [-n TOKENS] [-j THREADS] [--ref] [--tsv] MODEL...
 *	One request from TEXT, as llmctl generate -m makes it, its speeds
 *	with three decimals (scripts/bench-qemu.sh's userspace side).
 *
 * -j THREADS calls llm_pool_init(THREADS) (0: one per CPU); the output
 * says how many threads the pool gave (llm_pool_size()).
 *
 * One run each: the machines are shared, so compare the ratios printed in
 * one run, not absolute figures across runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userctl/runtime.h"
#include "quant/kernels.h"
#include "quant/quant.h"

/* --kv-f16: llm_runtime_open()'s flag for an F16 KV cache, or 0 */
static u32 kv_flags;

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

/* ---- the story mode (scalar vs SIMD) ---- */

static int run(const char *path, bool ref, u32 tokens, const char *text,
	       struct result *res)
{
	struct llm_runtime rt;
	struct llm_request r;
	char err[256];
	int ret;

	ret = llm_runtime_open(&rt, path, 1024, strlen(text) + 1,
			       (ref ? LLM_RT_REF : 0) | kv_flags, err,
			       sizeof(err));
	if (ret) {
		fprintf(stderr, "bench: %s: %s\n", path, err);
		return ret;
	}
	memset(&r, 0, sizeof(r));
	r.prompt = text;
	r.prompt_len = strlen(text);
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

static long file_bytes(const char *path)
{
	FILE *fp = fopen(path, "rb");
	long bytes = 0;

	if (fp) {
		fseek(fp, 0, SEEK_END);
		bytes = ftell(fp);
		fclose(fp);
	}
	return bytes;
}

static const char *base_name(const char *path)
{
	const char *name = strrchr(path, '/');

	return name ? name + 1 : path;
}

static int story_mode(char **models, int n, u32 tokens)
{
	int i;

	printf("%-28s %-10s %8s %12s %12s %10s\n", "model", "kernels",
	       "weights", "prefill t/s", "decode t/s", "vs scalar");
	for (i = 0; i < n; i++) {
		struct result s, f;
		long bytes = file_bytes(models[i]);
		const char *name = base_name(models[i]);

		if (run(models[i], true, tokens, prompt_text, &s) ||
		    run(models[i], false, tokens, prompt_text, &f))
			return 1;
		printf("%-28s %-10s %6.2fMB %12.1f %12.1f %9s\n", name,
		       s.kernels, bytes / 1e6, s.prefill, s.decode, "1.00x");
		printf("%-28s %-10s %6.2fMB %12.1f %12.1f %8.2fx\n", name,
		       f.kernels, bytes / 1e6, f.prefill, f.decode,
		       s.decode ? f.decode / s.decode : 0);
		printf("%-28s %-10s weights streamed at decode: %.2f GB/s\n", "",
		       f.kernels, f.decode * bytes / 1e9);
	}
	printf("(a %zu-byte prompt, %u tokens generated, %u thread%s; one run each)\n",
	       strlen(prompt_text), tokens, llm_pool_size(),
	       llm_pool_size() == 1 ? "" : "s");
	return 0;
}

/*
 * One request per model from @text, as llmctl generate -m makes it (and
 * with its figures: prefill is prompt tokens over the prompt's steps,
 * decode generated tokens over the generation's steps), with three
 * decimals where llmctl prints one: the userspace side of
 * scripts/bench-qemu.sh, where a token takes seconds.
 */
static int text_mode(char **models, int n, bool ref, u32 tokens,
		     const char *text, bool tsv)
{
	int i;

	if (tsv)
		printf("# model\tkernels\tthreads\tn_prompt\tn_gen\tprefill_tok_s\tdecode_tok_s\n");
	for (i = 0; i < n; i++) {
		struct result f;

		if (run(models[i], ref, tokens, text, &f))
			return 1;
		printf(tsv ? "%s\t%s\t%u\t%u\t%u\t%.3f\t%.3f\n" :
		       "%s: %s kernels, %u thread(s): prompt tokens %u, generated tokens %u, prefill %.3f tok/s, decode %.3f tok/s\n",
		       base_name(models[i]), f.kernels, llm_pool_size(),
		       f.n_prompt, f.n_gen, f.prefill, f.decode);
	}
	return 0;
}

/* ---- the llama-bench mode ---- */

/*
 * Bytes of weights one decode step reads: every matrix and norm of the
 * layers, the final norm and the classifier once, and one row of the
 * embedding (all of it when it is also the classifier).
 */
static u64 weight_bytes(const struct llm_weight *w)
{
	return w->rows * w->row_bytes;
}

static u64 bytes_per_token(const struct llm_model *m)
{
	u64 b = weight_bytes(&m->output_norm) + weight_bytes(&m->output);
	u32 l;

	if (!m->tied_output)
		b += m->tok_embd.row_bytes;
	for (l = 0; l < m->cfg.n_layers; l++) {
		const struct llm_layer *y = &m->layers[l];

		b += weight_bytes(&y->attn_norm) + weight_bytes(&y->wq) +
		     weight_bytes(&y->wk) + weight_bytes(&y->wv) +
		     weight_bytes(&y->wo) + weight_bytes(&y->ffn_norm) +
		     weight_bytes(&y->gate) + weight_bytes(&y->up) +
		     weight_bytes(&y->down);
	}
	return b;
}

/* Tokens @len bytes of @text become, BOS included when the model adds it. */
static int count_tokens(const struct llm_vocab *v, const char *text, u32 len,
			u32 *out, u32 cap, void *scratch, u64 scratch_bytes)
{
	return llm_tokenize(v, text, len, v->add_bos, out, cap, scratch,
			    scratch_bytes);
}

/*
 * A prefix of the story, repeated, that the model's tokenizer makes into
 * exactly @want tokens (BOS included), or as close as it comes.  The
 * prompt goes through the tokenizer and llm_generate() like any request's,
 * so a batched prefill behind that API is measured as it lands.  Returns
 * the text (malloc'd) and its token count in @got, or NULL.
 */
static char *make_prompt(const struct llm_vocab *v, u32 want, u32 *got)
{
	size_t story = strlen(prompt_text), len = 0, reps;
	u32 *toks = NULL, lo, hi, best = 0, best_n = 0, cap = 0;
	void *scratch = NULL;
	char *text = NULL;
	u64 sb = 0;
	int n = 0;

	/* enough copies of the story for @want tokens */
	for (reps = 1; reps <= 1u << 16; reps *= 2) {
		size_t i;

		free(text);
		free(toks);
		free(scratch);
		len = reps * (story + 1) - 1;
		cap = (u32)len + 2;
		text = malloc(len + 1);
		toks = calloc(cap, sizeof(*toks));
		sb = llm_tokenize_scratch_bytes((u32)len);
		scratch = malloc(sb);
		if (!text || !toks || !scratch)
			goto fail;
		for (i = 0; i < reps; i++) {
			memcpy(text + i * (story + 1), prompt_text, story);
			text[i * (story + 1) + story] = ' ';
		}
		text[len] = '\0';
		n = count_tokens(v, text, (u32)len, toks, cap, scratch, sb);
		if (n < 0)
			goto fail;
		if ((u32)n >= want)
			break;
	}
	/* the shortest prefix of at least @want tokens */
	lo = 0;
	hi = (u32)len;
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		n = count_tokens(v, text, mid, toks, cap, scratch, sb);
		if (n < 0)
			goto fail;
		if ((u32)n >= want)
			hi = mid;
		else
			lo = mid + 1;
	}
	/* a merge may skip @want: look a little either side for it */
	best = lo;
	best_n = 0;
	for (hi = lo > 8 ? lo - 8 : 0; hi <= lo + 8 && hi <= len; hi++) {
		n = count_tokens(v, text, hi, toks, cap, scratch, sb);
		if (n < 0)
			goto fail;
		if ((u32)n == want || (best_n != want &&
		    abs((int)n - (int)want) < abs((int)best_n - (int)want))) {
			best = hi;
			best_n = n;
			if ((u32)n == want)
				break;
		}
	}
	text[best] = '\0';
	*got = best_n;
	free(toks);
	free(scratch);
	return text;
fail:
	free(text);
	free(toks);
	free(scratch);
	return NULL;
}

struct pp_tg {
	double pp, tg;		/* tokens/s; 0 when not measured */
	u32 n_prompt, n_decode;	/* tokens each figure is over */
	u32 stop;		/* how the decode request ended */
};

/* One request on an empty context; its llm_request in @r. */
static int request(struct llm_runtime *rt, const char *text, u32 max_tokens,
		   struct llm_request *r)
{
	memset(r, 0, sizeof(*r));
	r->prompt = text;
	r->prompt_len = (u32)strlen(text);
	r->max_tokens = max_tokens;
	r->max_prompt_tokens = rt->ctx.n_ctx;
	r->seed = 1;		/* greedy (temperature 0) all the same */
	llm_ctx_reset(&rt->ctx);
	return llm_generate(&rt->ctx, r);
}

static int llama_mode_one(const char *path, bool ref, u32 n_prompt,
			  u32 n_gen, bool tsv)
{
	struct llm_runtime rt;
	struct llm_request r;
	struct pp_tg res = { 0 };
	char *prompt = NULL, *first = NULL, err[256];
	u32 got = 0, got1 = 0, n_ctx, wtype;
	int ret;

	/*
	 * The prompt text is made with the model's tokenizer once the model
	 * is open: room for 64 bytes a token.
	 */
	n_ctx = (n_prompt > n_gen + 1 ? n_prompt : n_gen + 1) + 1;
	ret = llm_runtime_open(&rt, path, n_ctx, 64 * n_ctx + 1024,
			       (ref ? LLM_RT_REF : 0) | kv_flags, err,
			       sizeof(err));
	if (ret) {
		fprintf(stderr, "bench: %s: %s\n", path, err);
		return 1;
	}
	if (n_prompt)
		prompt = make_prompt(&rt.model.vocab, n_prompt, &got);
	first = make_prompt(&rt.model.vocab, 1, &got1);
	if ((n_prompt && !prompt) || !first || strlen(prompt ? prompt : "") >
	    rt.ctx.max_prompt_bytes) {
		fprintf(stderr, "bench: %s: cannot make a %u-token prompt\n",
			path, n_prompt);
		ret = 1;
		goto out;
	}
	if (n_prompt && got != n_prompt)
		fprintf(stderr, "bench: %s: the closest prompt is %u tokens, not %u\n",
			base_name(path), got, n_prompt);

	/* warm-up, as llama-bench's: a few tokens through every weight */
	ret = request(&rt, first, 3, &r);
	if (ret)
		goto fail;
	if (n_prompt) {
		/* prefill: the whole prompt, then one token sampled */
		ret = request(&rt, prompt, 1, &r);
		if (ret)
			goto fail;
		res.n_prompt = r.n_prompt;
		res.pp = r.prefill_ns ? r.n_prompt / (r.prefill_ns / 1e9) : 0;
	}
	if (n_gen) {
		/*
		 * decode: one prompt token (BOS), then n_gen steps, each a
		 * token sampled and fed.  The request samples one more than
		 * it feeds (the last is shown, not fed), so ask for n_gen + 1
		 * to time n_gen forward passes.
		 */
		ret = request(&rt, first, n_gen + 1, &r);
		if (ret)
			goto fail;
		res.stop = r.stop_reason;
		res.n_decode = r.n_gen ? r.n_gen - 1 : 0;
		res.tg = r.decode_ns ? res.n_decode / (r.decode_ns / 1e9) : 0;
		if (res.n_decode < n_gen)
			fprintf(stderr, "bench: %s: decode stopped after %u of %u tokens (stop reason %u)\n",
				base_name(path), res.n_decode, n_gen, res.stop);
	}
	wtype = rt.model.layers[0].wq.type;
	if (tsv)
		printf("%s\t%s\t%s\t%u\t%u\t%u\t%llu\t%.3f\t%.3f\n",
		       base_name(path), llm_type_name(wtype),
		       rt.model.kernels->name, llm_pool_size(), res.n_prompt,
		       res.n_decode,
		       (unsigned long long)bytes_per_token(&rt.model), res.pp,
		       res.tg);
	else
		printf("%-28s %-5s %-10s %7u %9.1f %11.1f %11.1f\n",
		       base_name(path), llm_type_name(wtype),
		       rt.model.kernels->name, llm_pool_size(),
		       bytes_per_token(&rt.model) / 1e6, res.pp, res.tg);
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "bench: %s: generation failed: %d\n", path, ret);
	ret = 1;
out:
	free(prompt);
	free(first);
	llm_runtime_close(&rt);
	return ret;
}

static int llama_mode(char **models, int n, bool ref, u32 n_prompt,
		      u32 n_gen, bool tsv)
{
	int i, ret = 0;

	if (tsv)
		printf("# model\ttype\tkernels\tthreads\tn_prompt\tn_decode\tweight_bytes_per_token\tprefill_tok_s\tdecode_tok_s\n");
	else
		printf("%-28s %-5s %-10s %7s %9s %11s %11s\n", "model", "type",
		       "kernels", "threads", "MB/token", "pp t/s", "tg t/s");
	for (i = 0; i < n; i++)
		ret |= llama_mode_one(models[i], ref, n_prompt, n_gen, tsv);
	if (!tsv)
		printf("(pp: a %u-token prompt; tg: %u tokens decoded from an empty context; one run each)\n",
		       n_prompt, n_gen);
	return ret;
}

/*
 * Continuous batching: @n conversations on one model decode together, one
 * llm_exec_run() per step carrying a token of each, as the kernel's
 * batcher runs them; tokens/s summed over the conversations.  Each starts
 * from a different 8-token prompt and decodes @steps greedy tokens.
 */
static double sessions_rate(struct llm_runtime *rt, u32 n, u32 steps)
{
	/* whole KV pages per conversation */
	u32 n_ctx = LLM_ALIGN_UP(8 + steps + 1, LLM_KV_PAGE), i, s, t;
	struct llm_feed *f = calloc(n, sizeof(*f));
	struct llm_ctx *c = calloc(n, sizeof(*c));
	u32 *tok = calloc(n, sizeof(*tok));
	const struct llm_model *m = &rt->model;
	struct llm_arena arena;
	struct llm_exec ex;
	struct llm_kv kv;
	double rate = -1;
	size_t bytes;
	void *mem;
	u64 t0;

	bytes = n * llm_ctx_bytes(m, n_ctx, 64) +
		llm_exec_bytes(m, max_t(u32, n, 8), llm_pool_size(), n_ctx) +
		llm_kv_bytes(m, LLM_T_F32, n * n_ctx);
	mem = malloc(bytes);
	if (!f || !c || !tok || !mem)
		goto out;
	llm_arena_init(&arena, mem, bytes);
	if (llm_exec_init(&ex, m, max_t(u32, n, 8), llm_pool_size(), n_ctx,
			  &arena) ||
	    llm_kv_init(&kv, m, LLM_T_F32, n * n_ctx, &arena))
		goto out;
	for (i = 0; i < n; i++) {
		u32 prompt[8];

		if (llm_ctx_init(&c[i], m, n_ctx, 64, &arena))
			goto out;
		c[i].ex = &ex;
		c[i].kv = &kv;
		prompt[0] = m->vocab.bos;
		for (t = 1; t < 8; t++)
			prompt[t] = 300 + (i * 131 + t * 17) % (m->cfg.n_vocab - 300);
		if (llm_exec_forward(&c[i], prompt, 8, true, NULL, NULL))
			goto out;
	}
	t0 = llm_now_ns();
	for (s = 0; s < steps; s++) {
		for (i = 0; i < n; i++) {
			u32 best = 0, j;

			for (j = 1; j < m->cfg.n_vocab; j++)
				if (c[i].logits[j] > c[i].logits[best])
					best = j;
			tok[i] = best;
			f[i] = (struct llm_feed){ .c = &c[i], .tokens = &tok[i],
						  .n = 1, .logits = true };
		}
		if (llm_exec_run(&ex, f, n, NULL, NULL))
			goto out;
	}
	rate = (double)n * steps / ((llm_now_ns() - t0) / 1e9);
out:
	free(mem);
	free(tok);
	free(c);
	free(f);
	return rate;
}

static int sessions_mode(char **models, int n, u32 max_sessions, u32 steps)
{
	int i;

	printf("%-28s %8s %14s %10s\n", "model", "sessions",
	       "decode tok/s", "vs one");
	for (i = 0; i < n; i++) {
		struct llm_runtime rt;
		double one = 0;
		char err[256];
		u32 k;

		if (llm_runtime_open(&rt, models[i], 64, 64, false, err,
				     sizeof(err))) {
			fprintf(stderr, "bench: %s: %s\n", models[i], err);
			return 1;
		}
		for (k = 1; k <= max_sessions; k *= 2) {
			double r = sessions_rate(&rt, k, steps);

			if (r < 0) {
				fprintf(stderr, "bench: %s: %u sessions failed\n",
					models[i], k);
				llm_runtime_close(&rt);
				return 1;
			}
			if (k == 1)
				one = r;
			printf("%-28s %8u %14.1f %9.2fx\n", base_name(models[i]),
			       k, r, r / one);
		}
		llm_runtime_close(&rt);
	}
	printf("(continuous batching: each step one token of every session, %u steps, %u thread(s))\n",
	       steps, llm_pool_size());
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench [-j THREADS] [-n TOKENS] MODEL.gguf...\n"
		"       bench -p PROMPT_TOKENS [-n TOKENS] [-j THREADS] [--ref] [--kv-f16] [--tsv] MODEL.gguf...\n"
		"       bench --prompt TEXT [-n TOKENS] [-j THREADS] [--ref] [--kv-f16] [--tsv] MODEL.gguf...\n"
		"       bench -s SESSIONS [-n TOKENS] [-j THREADS] MODEL.gguf...\n"
		"\n"
		"Without -p: each model with the scalar and the SIMD kernels, a\n"
		"story prompt and TOKENS (256) generated.\n"
		"With -p: as llama-bench -p P -n N: a P-token prompt's prefill\n"
		"and N decode steps (default 128), each from an empty context,\n"
		"with the SIMD kernels (--ref: the scalar ones); --tsv for scripts.\n"
		"With --prompt: one request from TEXT, TOKENS (256) generated, as\n"
		"llmctl generate -m makes it, its speeds with three decimals.\n"
		"With -s: 1, 2, 4 ... SESSIONS conversations decoding TOKENS (64)\n"
		"each, together, one token of each per step (continuous batching),\n"
		"their summed tokens/s and its ratio to one conversation's.\n"
		"-j THREADS: llm_pool_init(THREADS), 0 for one per CPU (default 1).\n"
		"--kv-f16: an F16 KV cache (llmctl generate --kv-type f16).\n");
}

static int parse_u32(const char *opt, const char *s, u32 *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 1000000 || s[0] == '-') {
		fprintf(stderr, "bench: %s wants a number, not '%s'\n", opt, s);
		return -1;
	}
	*out = (u32)v;
	return 0;
}

int main(int argc, char **argv)
{
	u32 tokens = U32_MAX, n_prompt = 0, threads = 1, sessions = 0;
	bool llama = false, ref = false, tsv = false;
	const char *text = NULL;
	int i, ret;

	llm_log_quiet = 1;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-n") && i + 1 < argc) {
			if (parse_u32(a, argv[++i], &tokens))
				return 2;
		} else if (!strcmp(a, "-p") && i + 1 < argc) {
			if (parse_u32(a, argv[++i], &n_prompt))
				return 2;
			llama = true;
		} else if (!strcmp(a, "-j") && i + 1 < argc) {
			if (parse_u32(a, argv[++i], &threads))
				return 2;
		} else if (!strcmp(a, "-s") && i + 1 < argc) {
			if (parse_u32(a, argv[++i], &sessions) || !sessions)
				return 2;
		} else if (!strcmp(a, "--prompt") && i + 1 < argc) {
			text = argv[++i];
		} else if (!strcmp(a, "--ref")) {
			ref = true;
		} else if (!strcmp(a, "--kv-f16")) {
			kv_flags = LLM_RT_KV_F16;
		} else if (!strcmp(a, "--tsv")) {
			tsv = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc || ((ref || tsv) && !llama && !text) ||
	    (llama && text)) {
		usage(stderr);
		return 2;
	}
	ret = llm_pool_init(threads);
	if (ret) {
		fprintf(stderr, "bench: cannot start %u threads: %d\n", threads,
			ret);
		return 1;
	}
	if (sessions)
		ret = sessions_mode(argv + i, argc - i, sessions,
				    tokens != U32_MAX ? tokens : 64);
	else if (text)
		ret = text_mode(argv + i, argc - i, ref,
				tokens != U32_MAX ? tokens : 256, text, tsv);
	else if (llama)
		ret = llama_mode(argv + i, argc - i, ref, n_prompt,
				 tokens != U32_MAX ? tokens : 128, tsv);
	else
		ret = story_mode(argv + i, argc - i,
				 tokens != U32_MAX ? tokens : 256);
	llm_pool_exit();
	return ret;
}
