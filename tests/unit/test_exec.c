// SPDX-License-Identifier: GPL-2.0
/*
 * The executor's promise (llm/core/exec.h): a token's logits and its K/V
 * are bitwise the same whatever the batch it was fed in, whatever the size
 * of an FPU section and whatever the number of threads.  Each test feeds
 * the same tokens two ways to the shipped stories260K models (F32, Q8_0,
 * Q4_0; scalar and SIMD kernels; F32 and F16 KV caches) and to synthetic
 * models of the other architectures (F32 and Q8_0; qwen3moe also in
 * llama.cpp's 8-expert Q4_K_M mix, whose inputs are quantized both ways)
 * and compares the bytes.
 */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "synth_model.h"
#include "userctl/runtime.h"
#include "userctl/quantize.h"
#include "llm/core/exec.h"

#define N_PROMPT	70	/* three batches of 32, the last partial */
#define N_DECODE	12

static const char *const models[] = {
	"stories260K.gguf", "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf",
	/* made by make_arch_models() */
	"qwen2", "qwen2-Q8_0", "qwen3", "qwen3-Q8_0", "qwen3moe",
	"qwen3moe-Q8_0", "qwen3moe-Q4_K_M", "gpt2", "gpt2-Q8_0",
};

static char arch_dir[] = "/tmp/llm-test-exec-XXXXXX";

/* A model's path: shipped, or one of make_arch_models(). */
static const char *model_path(const char *name)
{
	static char path[128];

	if (strstr(name, ".gguf"))
		return check_model(name);
	snprintf(path, sizeof(path), "%s/%s.gguf", arch_dir, name);
	return path;
}

/* One synthetic model of each other architecture, and quantized. */
static int make_arch_models(void)
{
	static const struct synth_shape shapes[] = {
		{ .arch = "qwen2", .dim = 64, .heads = 4, .kv_heads = 2 },
		{ .arch = "qwen3", .dim = 64, .heads = 4, .kv_heads = 2,
		  .head_dim = 32 },
		{ .arch = "qwen3moe", .dim = 256, .heads = 4, .kv_heads = 2,
		  .experts = 8, .experts_used = 2 },
		{ .arch = "gpt2", .dim = 64, .heads = 4, .kv_heads = 4 },
	};
	char err[256], in[128], out[128];
	size_t i;
	int ret;

	if (!mkdtemp(arch_dir))
		return -errno;
	for (i = 0; i < ARRAY_SIZE(shapes); i++) {
		struct synth_shape sh = shapes[i];
		struct synth_model m;

		sh.layers = 2;
		sh.ffn = sh.dim == 256 ? 256 : 96;
		sh.vocab = 400;
		sh.context = 128;
		sh.seed = 11;
		sh.bpe_pre = "qwen2";
		ret = synth_model_build(&m, &sh, err, sizeof(err));
		snprintf(in, sizeof(in), "%s/%s.gguf", arch_dir, sh.arch);
		if (!ret)
			ret = llm_gguf_writer_to_file(m.w, in);
		synth_model_free(&m);
		snprintf(out, sizeof(out), "%s/%s-Q8_0.gguf", arch_dir, sh.arch);
		if (!ret)
			ret = llm_quantize_file(in, out, LLM_T_Q8_0, 0, NULL, err,
						sizeof(err));
		snprintf(out, sizeof(out), "%s/%s-Q4_K_M.gguf", arch_dir,
			 sh.arch);
		if (!ret && sh.experts)
			ret = llm_quantize_file(in, out, LLM_QUANT_Q4_K_M, 0,
						NULL, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "%s: %s\n", sh.arch, err);
			return ret;
		}
	}
	return 0;
}

static void drop_arch_models(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", arch_dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", arch_dir);
}

struct run {
	struct llm_runtime rt;
	float *logits;		/* after the prompt, then after each token */
};

/* Deterministic tokens spread over the vocabulary. */
static u32 token_at(const struct llm_model *m, u32 i)
{
	return i || m->vocab.bos >= m->cfg.n_vocab ?
	       (i * 37u + 5u) % m->cfg.n_vocab : m->vocab.bos;
}

/*
 * Feed the prompt in batches of @batch (0: one llm_decode per token) with
 * FPU sections of @macs (0: the default), then decode greedily, keeping
 * every set of logits.  @flags: llm_runtime_open()'s.  0 on success.
 */
static int feed(struct run *r, const char *model, u32 flags, u32 batch,
		u64 macs)
{
	struct llm_ctx *c = &r->rt.ctx;
	u32 toks[N_PROMPT], i, n_vocab, done = 0;
	char err[256];
	int ret;

	ret = llm_runtime_open(&r->rt, model_path(model), 256, 64, flags, err,
			       sizeof(err));
	if (ret) {
		check_fail(__FILE__, __LINE__, "%s: %s", model, err);
		return ret;
	}
	n_vocab = r->rt.model.cfg.n_vocab;
	r->logits = calloc((size_t)(N_DECODE + 1) * n_vocab, sizeof(float));
	if (!r->logits)
		return -ENOMEM;
	if (macs)
		c->ex->task_macs = macs;
	/* split work for every thread however small: the tests' models are */
	c->ex->split_macs = 0;
	for (i = 0; i < N_PROMPT; i++)
		toks[i] = token_at(&r->rt.model, i);
	while (done < N_PROMPT) {
		u32 n = batch ? min(batch, N_PROMPT - done) : 1;

		if (batch)
			c->ex->n_batch = batch;
		ret = llm_exec_forward(c, toks + done, n, done + n == N_PROMPT,
				       NULL, NULL);
		if (ret)
			return ret;
		done += n;
	}
	memcpy(r->logits, c->logits, n_vocab * sizeof(float));
	for (i = 1; i <= N_DECODE; i++) {
		u32 best = 0, j;

		for (j = 1; j < n_vocab; j++)
			if (c->logits[j] > c->logits[best])
				best = j;
		ret = llm_decode(c, best, true, NULL, NULL);
		if (ret)
			return ret;
		memcpy(r->logits + (size_t)i * n_vocab, c->logits,
		       n_vocab * sizeof(float));
	}
	return 0;
}

static u32 argmax(const float *x, u32 n)
{
	u32 best = 0, j;

	for (j = 1; j < n; j++)
		if (x[j] > x[best])
			best = j;
	return best;
}

static void drop(struct run *r)
{
	free(r->logits);
	llm_runtime_close(&r->rt);
}

/* Logits of every step and the whole KV cache in use, byte for byte. */
static bool same(const struct run *a, const struct run *b)
{
	const struct llm_ctx *x = &a->rt.ctx, *y = &b->rt.ctx;
	const struct llm_config *cfg = &a->rt.model.cfg;
	size_t row = cfg->kv_dim * x->kv->elem;
	u32 l, p;

	if (x->n_past != y->n_past ||
	    memcmp(a->logits, b->logits, (size_t)(N_DECODE + 1) *
		   cfg->n_vocab * sizeof(float)))
		return false;
	for (l = 0; l < cfg->n_layers; l++)
		for (p = 0; p < x->n_past; p++)
			if (memcmp(llm_kv_k(x, l, p, 0), llm_kv_k(y, l, p, 0),
				   row) ||
			    memcmp(llm_kv_v(x, l, p, 0), llm_kv_v(y, l, p, 0),
				   row))
				return false;
	return true;
}

/* The ways compare() runs each model: llm_runtime_open() flags. */
static const u32 modes[] = { 0, LLM_RT_REF, LLM_RT_KV_F16 };
static const char *const mode_names[] = { "simd", "scalar", "simd, f16 KV" };

/* Compare feeding (batch_a, macs_a) with (batch_b, macs_b) everywhere. */
static void compare(u32 batch_a, u64 macs_a, u32 batch_b, u64 macs_b)
{
	size_t i, mi;

	for (i = 0; i < ARRAY_SIZE(models); i++)
		for (mi = 0; mi < ARRAY_SIZE(modes); mi++) {
			struct run a, b;

			memset(&a, 0, sizeof(a));
			memset(&b, 0, sizeof(b));
			CHECK_EQ(feed(&a, models[i], modes[mi], batch_a,
				      macs_a), 0);
			CHECK_EQ(feed(&b, models[i], modes[mi], batch_b,
				      macs_b), 0);
			if (!same(&a, &b))
				check_fail(__FILE__, __LINE__,
					   "%s (%s): batch %u/%llu vs %u/%llu differ",
					   models[i], mode_names[mi],
					   batch_a, (unsigned long long)macs_a,
					   batch_b, (unsigned long long)macs_b);
			drop(&a);
			drop(&b);
			if (check_failed())
				return;
		}
}

/* Prefill in batches of 32 equals prefill one token at a time. */
static void batched_prefill_equals_token_by_token(void)
{
	compare(32, 0, 0, 0);
}

/* Any batch size gives the same bytes: 1, 3 and 7 against 32. */
static void batch_size_does_not_matter(void)
{
	compare(32, 0, 1, 0);
	compare(32, 0, 3, 0);
	compare(7, 0, 32, 0);
}

/*
 * Tiny FPU sections split matrix jobs by tokens and attention by
 * positions; the results must not move.
 */
static void section_size_does_not_matter(void)
{
	compare(32, 0, 32, 64);
	compare(32, 0, 5, 700);
}

/* 1, 2 and 3 threads give the same bytes. */
static void thread_count_does_not_matter(void)
{
	u32 n;

	for (n = 2; n <= 3; n++) {
		struct run a, b;

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		CHECK_EQ(llm_pool_init(1), 0);
		CHECK_EQ(feed(&a, models[2], false, 32, 0), 0);
		llm_pool_exit();
		CHECK_EQ(llm_pool_init(n), 0);
		CHECK_EQ(feed(&b, models[2], false, 32, 0), 0);
		CHECK(same(&a, &b));
		drop(&a);
		drop(&b);
		llm_pool_exit();
	}
}

#define N_SESS	4
#define N_STEPS	10

/* llm_exec_run() with one token for each of @n contexts. */
static int step(struct llm_exec *ex, struct llm_ctx **cs, const u32 *toks,
		u32 n)
{
	struct llm_feed f[N_SESS + 1];
	u32 i;

	for (i = 0; i < n; i++) {
		f[i].c = cs[i];
		f[i].tokens = &toks[i];
		f[i].n = 1;
		f[i].logits = true;
	}
	return llm_exec_run(ex, f, n, NULL, NULL);
}

static u32 greedy(const struct llm_ctx *c)
{
	u32 best = 0, j;

	for (j = 1; j < c->m->cfg.n_vocab; j++)
		if (c->logits[j] > c->logits[best])
			best = j;
	return best;
}

/*
 * Decode across sessions: four conversations with different prompts
 * decode together, one llm_exec_run() per token for all of them (and
 * once with one of them twice in a step), and each gets bitwise the
 * logits it gets decoding alone.
 */
static void sessions_batched_equal_alone(void)
{
	struct llm_runtime rt;
	struct llm_ctx *solo, *multi, *cs[N_SESS + 1];
	struct llm_ctx full;
	struct llm_exec shared, alone;
	struct llm_kv kv;
	struct llm_arena arena;
	u32 nv, i, s, toks[N_SESS + 1], prompt[20];
	size_t bytes;
	char err[256];
	float *want;
	void *mem;

	CHECK_EQ(llm_runtime_open(&rt, check_model(models[2]), 64, 64, false,
				  err, sizeof(err)), 0);
	nv = rt.model.cfg.n_vocab;
	bytes = 2 * N_SESS * llm_ctx_bytes(&rt.model, 64, 64) +
		llm_exec_bytes(&rt.model, N_SESS + 1, 1, 64) +
		llm_exec_bytes(&rt.model, 32, 1, 64) +
		llm_kv_bytes(&rt.model, LLM_T_F32, 2 * N_SESS * 64);
	mem = malloc(bytes);
	solo = calloc(2 * N_SESS, sizeof(*solo));
	want = calloc((size_t)N_SESS * (N_STEPS + 1) * nv, sizeof(float));
	CHECK(mem && solo && want);
	multi = solo + N_SESS;
	llm_arena_init(&arena, mem, bytes);
	CHECK_EQ(llm_exec_init(&shared, &rt.model, N_SESS + 1, 1, 64, &arena),
		 0);
	CHECK_EQ(llm_exec_init(&alone, &rt.model, 32, 1, 64, &arena), 0);
	CHECK_EQ(llm_kv_init(&kv, &rt.model, LLM_T_F32, 2 * N_SESS * 64,
			     &arena), 0);
	for (i = 0; i < 2 * N_SESS; i++) {
		CHECK_EQ(llm_ctx_init(&solo[i], &rt.model, 64, 64, &arena), 0);
		solo[i].ex = &alone;
		solo[i].kv = &kv;
		/* prompts of different lengths and tokens */
		for (s = 0; s < 5 + 3 * (i % N_SESS); s++)
			prompt[s] = token_at(&rt.model, s * (1 + i % N_SESS));
		CHECK_EQ(llm_exec_forward(&solo[i], prompt, s, true, NULL,
					  NULL), 0);
	}
	/* alone */
	for (i = 0; i < N_SESS; i++)
		for (s = 0; s <= N_STEPS; s++) {
			memcpy(want + ((size_t)i * (N_STEPS + 1) + s) * nv,
			       solo[i].logits, nv * sizeof(float));
			CHECK_EQ(llm_decode(&solo[i], greedy(&solo[i]), true,
					    NULL, NULL), 0);
		}
	/* together */
	for (s = 0; s <= N_STEPS; s++) {
		for (i = 0; i < N_SESS; i++) {
			CHECK(!memcmp(multi[i].logits,
				      want + ((size_t)i * (N_STEPS + 1) + s) *
				      nv, nv * sizeof(float)));
			cs[i] = &multi[i];
			toks[i] = greedy(&multi[i]);
		}
		CHECK_EQ(step(&shared, cs, toks, N_SESS), 0);
	}
	for (i = 0; i < N_SESS; i++)
		CHECK_EQ(multi[i].n_past, solo[i].n_past);
	/* a context twice in one step: its tokens in order */
	cs[0] = &multi[1];
	toks[0] = greedy(&multi[1]);
	cs[1] = &multi[0];
	toks[1] = greedy(&multi[0]);
	cs[2] = &multi[1];
	toks[2] = 7;
	CHECK_EQ(llm_decode(&solo[1], toks[0], false, NULL, NULL), 0);
	CHECK_EQ(llm_decode(&solo[1], 7, true, NULL, NULL), 0);
	CHECK_EQ(step(&shared, cs, toks, 3), 0);
	CHECK(!memcmp(multi[1].logits, solo[1].logits, nv * sizeof(float)));
	CHECK_EQ(multi[1].n_past, solo[1].n_past);
	/* a step that does not fit is refused whole: nothing moves */
	full = multi[2];
	full.n_past = full.n_ctx - 1;
	cs[0] = &multi[0];
	cs[1] = &full;
	cs[2] = &full;
	CHECK_EQ(step(&shared, cs, toks, 3), -ENOSPC);
	CHECK_EQ(multi[0].n_past, solo[0].n_past + 1);
	CHECK_EQ(full.n_past, full.n_ctx - 1);
	free(want);
	free(solo);
	free(mem);
	llm_runtime_close(&rt);
}

/*
 * The KV pool: contexts take pages as they grow; a context the pool has
 * no page for is refused without moving, and pages come back on reset.
 * Through generation, running out ends the request at its context.
 */
static void kv_pool(void)
{
	struct llm_runtime rt;
	struct llm_ctx a, b;
	struct llm_arena arena;
	struct llm_request r;
	struct llm_kv kv;
	u32 toks[32], i;
	size_t bytes;
	char err[256];
	void *mem;

	CHECK_EQ(llm_runtime_open(&rt, check_model(models[0]), 64, 64, false,
				  err, sizeof(err)), 0);
	bytes = 2 * llm_ctx_bytes(&rt.model, 64, 64) +
		llm_kv_bytes(&rt.model, LLM_T_F32, 3 * LLM_KV_PAGE);
	mem = malloc(bytes);
	CHECK(mem);
	llm_arena_init(&arena, mem, bytes);
	CHECK_EQ(llm_kv_init(&kv, &rt.model, LLM_T_F32, 3 * LLM_KV_PAGE,
			     &arena), 0);
	CHECK_EQ(llm_ctx_init(&a, &rt.model, 64, 64, &arena), 0);
	CHECK_EQ(llm_ctx_init(&b, &rt.model, 64, 64, &arena), 0);
	a.ex = b.ex = &rt.ex;
	a.kv = b.kv = &kv;
	for (i = 0; i < 32; i++)
		toks[i] = token_at(&rt.model, i);
	CHECK_EQ(llm_kv_free_positions(&kv), 48);
	CHECK_EQ(llm_exec_forward(&a, toks, 32, true, NULL, NULL), 0);
	CHECK_EQ(a.n_pages, 2);
	CHECK_EQ(llm_kv_free_positions(&kv), 16);
	CHECK_EQ(llm_exec_forward(&b, toks, 20, true, NULL, NULL), -ENOSPC);
	CHECK_EQ(b.n_past, 0);
	CHECK_EQ(llm_exec_forward(&b, toks, 16, true, NULL, NULL), 0);
	CHECK_EQ(llm_kv_free_positions(&kv), 0);
	llm_ctx_reset(&a);
	CHECK_EQ(llm_kv_free_positions(&kv), 32);
	CHECK_EQ(llm_exec_forward(&b, toks, 4, true, NULL, NULL), 0);
	CHECK_EQ(b.n_past, 20);
	/* generation that outgrows the pool stops at its context */
	memset(&r, 0, sizeof(r));
	r.prompt = "Once upon a time";
	r.prompt_len = strlen(r.prompt);
	r.max_tokens = 60;
	r.max_prompt_tokens = 60;
	r.seed = 1;
	llm_ctx_reset(&b);
	CHECK_EQ(llm_generate(&a, &r), 0);
	CHECK_EQ(r.stop_reason, LLM_STOP_CONTEXT);
	CHECK_EQ(a.n_past, 48);
	free(mem);
	llm_runtime_close(&rt);
}

/* Past the context, and batches over the executor's size, are refused. */
static void limits(void)
{
	struct llm_runtime rt;
	u32 toks[64] = { 1 };
	char err[256];

	CHECK_EQ(llm_runtime_open(&rt, check_model(models[0]), 40, 64, false,
				  err, sizeof(err)), 0);
	CHECK_EQ(llm_exec_forward(&rt.ctx, toks, 0, true, NULL, NULL),
		 -EINVAL);
	CHECK_EQ(llm_exec_forward(&rt.ctx, toks, rt.ctx.ex->n_batch + 1, true,
				  NULL, NULL), -EINVAL);
	CHECK_EQ(llm_exec_forward(&rt.ctx, toks, 32, true, NULL, NULL), 0);
	CHECK_EQ(llm_exec_forward(&rt.ctx, toks, 9, true, NULL, NULL),
		 -ENOSPC);
	CHECK_EQ(rt.ctx.n_past, 32);
	CHECK_EQ(llm_exec_forward(&rt.ctx, toks, 8, true, NULL, NULL), 0);
	CHECK_EQ(llm_decode(&rt.ctx, 1, true, NULL, NULL), -ENOSPC);
	llm_runtime_close(&rt);
}

/*
 * An F16 KV cache holds the F32 cache's rows rounded to half: exactly so
 * in layer 0, whose keys and values do not depend on the cache; the
 * logits stay close (later layers see the rounded rows).
 */
static void f16_kv_rounds_the_f32_cache(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(models); i++) {
		const struct llm_ctx *x, *y;
		struct run a, b;
		u32 p, e, n_vocab, kv_dim;
		double worst = 0, top = 0;

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		CHECK_EQ(feed(&a, models[i], 0, 32, 0), 0);
		CHECK_EQ(feed(&b, models[i], LLM_RT_KV_F16, 32, 0), 0);
		x = &a.rt.ctx;
		y = &b.rt.ctx;
		kv_dim = a.rt.model.cfg.kv_dim;
		n_vocab = a.rt.model.cfg.n_vocab;
		CHECK_EQ(x->kv->elem, 4);
		CHECK_EQ(y->kv->elem, 2);
		CHECK_EQ(y->kv->type, LLM_T_F16);
		/*
		 * the prompt's positions: after it, each run decodes its own
		 * greedy choice, which a near-tie may make another token
		 */
		for (p = 0; p < N_PROMPT; p++) {
			const float *k = (const float *)llm_kv_k(x, 0, p, 0);
			const float *v = (const float *)llm_kv_v(x, 0, p, 0);
			const u16 *hk = (const u16 *)llm_kv_k(y, 0, p, 0);
			const u16 *hv = (const u16 *)llm_kv_v(y, 0, p, 0);

			for (e = 0; e < kv_dim; e++) {
				CHECK_EQ(hk[e], llm_fp32_bits_to_fp16(
						 f2bits(k[e])));
				CHECK_EQ(hv[e], llm_fp32_bits_to_fp16(
						 f2bits(v[e])));
			}
		}
		for (e = 0; e < (N_DECODE + 1) * n_vocab; e++) {
			double d = a.logits[e] - b.logits[e];

			/* the steps after the two runs chose apart differ */
			if (e && !(e % n_vocab) &&
			    argmax(a.logits + e - n_vocab, n_vocab) !=
			    argmax(b.logits + e - n_vocab, n_vocab))
				break;

			worst = d < 0 ? (-d > worst ? -d : worst) :
				(d > worst ? d : worst);
			d = a.logits[e] < 0 ? -a.logits[e] : a.logits[e];
			top = d > top ? d : top;
		}
		fprintf(stderr, "%s: %s: largest |f16 - f32| logit %.3g of %.3g\n",
			__func__, models[i], worst, top);
		CHECK(worst <= 0.03 * top);
		drop(&a);
		drop(&b);
	}
}

int main(void)
{
	if (make_arch_models()) {
		fprintf(stderr, "test_exec: cannot make the synthetic models\n");
		return 1;
	}
	atexit(drop_arch_models);
	check_run("batched_prefill_equals_token_by_token",
		  batched_prefill_equals_token_by_token);
	check_run("batch_size_does_not_matter", batch_size_does_not_matter);
	check_run("section_size_does_not_matter",
		  section_size_does_not_matter);
	check_run("thread_count_does_not_matter",
		  thread_count_does_not_matter);
	check_run("sessions_batched_equal_alone",
		  sessions_batched_equal_alone);
	check_run("f16_kv_rounds_the_f32_cache", f16_kv_rounds_the_f32_cache);
	check_run("kv_pool", kv_pool);
	check_run("limits", limits);
	return check_done();
}
