// SPDX-License-Identifier: GPL-2.0
/*
 * mkhf: a synthetic Hugging Face model directory, for the tests of
 * `llmctl convert hf`: config.json as the architecture's real configs
 * have it, model.safetensors with seeded pseudo-random weights (F32 or
 * BF16) under the architecture's names and shapes (GPT-2's Conv1D
 * weights stored [in, out]), and the tokenizer.json and
 * tokenizer_config.json of a real tokenizer copied from TOKDIR, whose
 * vocabulary sets the model's.
 *
 * --margin makes weights whose greedy choices have wide margins (see
 * docs/convert.md, "Synthetic models with wide margins"): the residual
 * stream carries the current token's direction u_t, the classifier's row
 * of a fixed successor succ(t) is u_t, and the layers, small, only bend
 * the stream.  --zero-layers zeroes what the layers add to the stream
 * (the same model otherwise), to see that they do count.
 */
#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <math.h>

#include "llm/core/platform.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mkhf [--arch llama|qwen2|qwen3|gpt2|qwen3moe] [--dim N]\n"
		"            [--layers N] [--heads N] [--kv-heads N] [--head-dim N]\n"
		"            [--ffn N] [--experts N] [--experts-used N] [--ffn-exp N]\n"
		"            [--context N] [--seed N] [--bf16] [--tied]\n"
		"            [--rope-llama3] [--margin] [--zero-layers]\n"
		"            TOKDIR OUTDIR\n"
		"\n"
		"Write a Hugging Face directory OUTDIR (created) of the architecture\n"
		"(LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM,\n"
		"GPT2LMHeadModel, Qwen3MoeForCausalLM) with random weights and\n"
		"TOKDIR's tokenizer.json and tokenizer_config.json.\n"
		"Defaults: --arch llama --dim 64 --layers 2 --heads 4 --kv-heads 2\n"
		"--ffn 128 --context 256 --seed 1, F32, untied; qwen3 and qwen3moe\n"
		"--head-dim 32 (dim/heads otherwise); qwen3moe --experts 8\n"
		"--experts-used 2 --ffn-exp 32.  gpt2 has kv-heads = heads and is\n"
		"tied unless --margin.\n"
		"--margin: wide greedy margins (the classifier maps each token to a\n"
		"fixed successor, the layers only bend the stream); untied.\n"
		"--zero-layers: what the layers add to the residual stream is zero.\n");
}

enum arch { LLAMA, QWEN2, QWEN3, GPT2, QWEN3MOE };

/* What a tensor holds. */
enum kind {
	MAT,		/* a projection into a layer: variance 1/fan-in */
	OUT,		/* a layer's projection back into the stream */
	NORM,		/* 1 +- 0.1 */
	BIAS,		/* small, into a layer */
	OUT_BIAS,	/* small, into the stream */
	EMBED,		/* the token embedding */
	POS,		/* GPT-2's position embedding */
	HEAD,		/* the classifier */
};

struct tensor {
	char name[112];
	u32 nd;
	u64 shape[2];		/* safetensors order: shape[nd-1] the row */
	u8 kind;
	bool conv1d;		/* stored [in, out]: fan-in shape[0] */
};

static struct tensor *tens;
static u32 n_tens;

static void add(u8 kind, u64 a, u64 b, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(u8 kind, u64 a, u64 b, const char *fmt, ...)
{
	struct tensor *t;
	va_list ap;

	tens = realloc(tens, (n_tens + 1) * sizeof(*tens));
	if (!tens)
		exit(1);
	t = &tens[n_tens++];
	memset(t, 0, sizeof(*t));
	va_start(ap, fmt);
	vsnprintf(t->name, sizeof(t->name), fmt, ap);
	va_end(ap);
	t->kind = kind;
	t->nd = b ? 2 : 1;
	t->shape[0] = a;
	t->shape[1] = b;
}

static u64 rng_next(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* uniform in [-1, 1) */
static float uni(u64 *s)
{
	return (float)(rng_next(s) >> 40) / (float)(1u << 24) * 2 - 1;
}

static u64 name_seed(u32 seed, const char *name)
{
	u64 h = 0xcbf29ce484222325ull ^ seed;

	while (*name)
		h = (h ^ (u8)*name++) * 0x100000001b3ull;
	return h;
}

static int copy(const char *from, const char *dir, const char *name)
{
	char path[4096], buf[65536];
	FILE *in, *out;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", from, name);
	in = fopen(path, "rb");
	if (!in)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = fopen(path, "wb");
	if (!out) {
		fclose(in);
		return -errno;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	return fclose(out) ? -errno : 0;
}

/* The tokenizer: its size (every id it names, plus one), the id of
 * <|endoftext|> (or -1), and which ids are plain words (an optional
 * GPT-2 space symbol, then two or more ASCII letters), for --margin. */
static u32 vocab;
static s64 endoftext = -1;
static bool *word;

static int read_tokenizer(const char *tokdir)
{
	char path[4096];
	json_error_t je;
	json_t *t, *v;
	const char *k;
	size_t i;

	snprintf(path, sizeof(path), "%s/tokenizer.json", tokdir);
	t = json_load_file(path, 0, &je);
	if (!t)
		return -1;
	json_object_foreach(json_object_get(json_object_get(t, "model"),
					    "vocab"), k, v)
		vocab = max_t(u32, vocab, json_integer_value(v) + 1);
	json_array_foreach(json_object_get(t, "added_tokens"), i, v)
		vocab = max_t(u32, vocab,
			      json_integer_value(json_object_get(v, "id")) + 1);
	word = calloc(vocab, 1);
	if (!word)
		return -1;
	json_object_foreach(json_object_get(json_object_get(t, "model"),
					    "vocab"), k, v) {
		const char *p = k;

		if (!strncmp(p, "\xc4\xa0", 2))
			p += 2;
		for (i = 0; p[i] && ((p[i] | 32) >= 'a' && (p[i] | 32) <= 'z'); i++)
			;
		word[json_integer_value(v)] = !p[i] && i >= 2;
	}
	json_array_foreach(json_object_get(t, "added_tokens"), i, v) {
		u32 id = json_integer_value(json_object_get(v, "id"));

		word[id] = false;
		if (!strcmp(json_string_value(json_object_get(v, "content")) ?: "",
			    "<|endoftext|>"))
			endoftext = id;
	}
	json_decref(t);
	return vocab ? 0 : -1;
}

struct cfg {
	enum arch arch;
	u32 dim, layers, heads, kv, hd, ffn, ctx, experts, used, ffn_exp, seed;
	bool bf16, tied, rope3, margin, zero;
};

static void write_config(const struct cfg *c, FILE *f)
{
	static const char *const cls[] = {
		"LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM",
		"GPT2LMHeadModel", "Qwen3MoeForCausalLM",
	};
	static const char *const type[] = {
		"llama", "qwen2", "qwen3", "gpt2", "qwen3_moe",
	};
	const char *dtype = c->bf16 ? "bfloat16" : "float32";
	char ids[96] = "", inner[16] = "null";

	if (endoftext >= 0)
		snprintf(ids, sizeof(ids), "  \"bos_token_id\": %lld,\n  \"eos_token_id\": %lld,\n",
			 (long long)endoftext, (long long)endoftext);
	fprintf(f, "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\",\n%s",
		cls[c->arch], type[c->arch], ids);
	if (c->arch == GPT2) {
		if (c->ffn != 4 * c->dim)
			snprintf(inner, sizeof(inner), "%u", c->ffn);
		/* as openai-community/gpt2's config.json has them */
		fprintf(f, "  \"activation_function\": \"gelu_new\",\n"
			"  \"attn_pdrop\": 0.1,\n  \"embd_pdrop\": 0.1,\n"
			"  \"initializer_range\": 0.02,\n"
			"  \"layer_norm_epsilon\": 1e-05,\n  \"n_ctx\": %u,\n"
			"  \"n_embd\": %u,\n  \"n_head\": %u,\n  \"n_inner\": %s,\n"
			"  \"n_layer\": %u,\n  \"n_positions\": %u,\n"
			"  \"resid_pdrop\": 0.1,\n  \"summary_activation\": null,\n"
			"  \"summary_first_dropout\": 0.1,\n"
			"  \"summary_proj_to_labels\": true,\n"
			"  \"summary_type\": \"cls_index\",\n"
			"  \"summary_use_proj\": true,\n"
			"  \"tie_word_embeddings\": %s,\n"
			"  \"torch_dtype\": \"%s\",\n  \"vocab_size\": %u\n}\n",
			c->ctx, c->dim, c->heads, inner, c->layers, c->ctx, c->tied ? "true" : "false",
			dtype, vocab);
		return;
	}
	fprintf(f, "  \"hidden_act\": \"silu\",\n  \"hidden_size\": %u,\n"
		"  \"initializer_range\": 0.02,\n  \"intermediate_size\": %u,\n"
		"  \"max_position_embeddings\": %u,\n"
		"  \"num_attention_heads\": %u,\n  \"num_hidden_layers\": %u,\n"
		"  \"num_key_value_heads\": %u,\n  \"rms_norm_eps\": %s,\n"
		"  \"rope_theta\": %s,\n  \"rope_scaling\": %s,\n"
		"  \"attention_dropout\": 0.0,\n",
		c->dim, c->ffn, c->ctx, c->heads, c->layers, c->kv,
		c->arch == LLAMA ? "1e-05" : "1e-06",
		c->arch == LLAMA ? "10000.0" : "1000000.0",
		/* a short original context, so that the scaling shows early */
		c->rope3 ? "{\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 64}" :
			   "null");
	if (c->arch == LLAMA)
		fprintf(f, "  \"attention_bias\": false,\n  \"mlp_bias\": false,\n"
			"  \"pretraining_tp\": 1,\n");
	else
		fprintf(f, "  \"max_window_layers\": %u,\n"
			"  \"sliding_window\": null,\n"
			"  \"use_sliding_window\": false,\n", c->layers);
	if (c->arch == QWEN3 || c->arch == QWEN3MOE)
		fprintf(f, "  \"attention_bias\": false,\n  \"head_dim\": %u,\n",
			c->hd);
	if (c->arch == QWEN3MOE)
		fprintf(f, "  \"decoder_sparse_step\": 1,\n"
			"  \"mlp_only_layers\": [],\n"
			"  \"moe_intermediate_size\": %u,\n"
			"  \"norm_topk_prob\": true,\n  \"num_experts\": %u,\n"
			"  \"num_experts_per_tok\": %u,\n"
			"  \"output_router_logits\": false,\n"
			"  \"router_aux_loss_coef\": 0.001,\n",
			c->ffn_exp, c->experts, c->used);
	fprintf(f, "  \"tie_word_embeddings\": %s,\n  \"torch_dtype\": \"%s\",\n"
		"  \"use_cache\": true,\n  \"vocab_size\": %u\n}\n",
		c->tied ? "true" : "false", dtype, vocab);
}

static void llama_family(const struct cfg *c)
{
	u64 q = (u64)c->heads * c->hd, kv = (u64)c->kv * c->hd;
	u32 l, e;

	add(EMBED, vocab, c->dim, "model.embed_tokens.weight");
	add(NORM, c->dim, 0, "model.norm.weight");
	if (!c->tied)
		add(HEAD, vocab, c->dim, "lm_head.weight");
	for (l = 0; l < c->layers; l++) {
		add(NORM, c->dim, 0, "model.layers.%u.input_layernorm.weight", l);
		add(MAT, q, c->dim, "model.layers.%u.self_attn.q_proj.weight", l);
		add(MAT, kv, c->dim, "model.layers.%u.self_attn.k_proj.weight", l);
		add(MAT, kv, c->dim, "model.layers.%u.self_attn.v_proj.weight", l);
		if (c->arch == QWEN2) {
			add(BIAS, q, 0, "model.layers.%u.self_attn.q_proj.bias", l);
			add(BIAS, kv, 0, "model.layers.%u.self_attn.k_proj.bias", l);
			add(BIAS, kv, 0, "model.layers.%u.self_attn.v_proj.bias", l);
		}
		if (c->arch == QWEN3 || c->arch == QWEN3MOE) {
			add(NORM, c->hd, 0, "model.layers.%u.self_attn.q_norm.weight", l);
			add(NORM, c->hd, 0, "model.layers.%u.self_attn.k_norm.weight", l);
		}
		add(OUT, c->dim, q, "model.layers.%u.self_attn.o_proj.weight", l);
		add(NORM, c->dim, 0,
		    "model.layers.%u.post_attention_layernorm.weight", l);
		if (c->arch != QWEN3MOE) {
			add(MAT, c->ffn, c->dim, "model.layers.%u.mlp.gate_proj.weight", l);
			add(MAT, c->ffn, c->dim, "model.layers.%u.mlp.up_proj.weight", l);
			add(OUT, c->dim, c->ffn, "model.layers.%u.mlp.down_proj.weight", l);
			continue;
		}
		add(MAT, c->experts, c->dim, "model.layers.%u.mlp.gate.weight", l);
		for (e = 0; e < c->experts; e++) {
			add(MAT, c->ffn_exp, c->dim,
			    "model.layers.%u.mlp.experts.%u.gate_proj.weight", l, e);
			add(MAT, c->ffn_exp, c->dim,
			    "model.layers.%u.mlp.experts.%u.up_proj.weight", l, e);
			add(OUT, c->dim, c->ffn_exp,
			    "model.layers.%u.mlp.experts.%u.down_proj.weight", l, e);
		}
	}
}

/* GPT-2 as transformers saves GPT2LMHeadModel: Conv1D weights [in, out] */
static void gpt2(const struct cfg *c)
{
	u32 l, n;

	add(EMBED, vocab, c->dim, "transformer.wte.weight");
	add(POS, c->ctx, c->dim, "transformer.wpe.weight");
	for (l = 0; l < c->layers; l++) {
		add(NORM, c->dim, 0, "transformer.h.%u.ln_1.weight", l);
		add(BIAS, c->dim, 0, "transformer.h.%u.ln_1.bias", l);
		n = n_tens;
		add(MAT, c->dim, 3 * c->dim, "transformer.h.%u.attn.c_attn.weight", l);
		add(BIAS, 3 * c->dim, 0, "transformer.h.%u.attn.c_attn.bias", l);
		add(OUT, c->dim, c->dim, "transformer.h.%u.attn.c_proj.weight", l);
		add(OUT_BIAS, c->dim, 0, "transformer.h.%u.attn.c_proj.bias", l);
		add(NORM, c->dim, 0, "transformer.h.%u.ln_2.weight", l);
		add(BIAS, c->dim, 0, "transformer.h.%u.ln_2.bias", l);
		add(MAT, c->dim, c->ffn, "transformer.h.%u.mlp.c_fc.weight", l);
		add(BIAS, c->ffn, 0, "transformer.h.%u.mlp.c_fc.bias", l);
		add(OUT, c->ffn, c->dim, "transformer.h.%u.mlp.c_proj.weight", l);
		add(OUT_BIAS, c->dim, 0, "transformer.h.%u.mlp.c_proj.bias", l);
		for (; n < n_tens; n++)
			tens[n].conv1d = tens[n].nd == 2;
	}
	add(NORM, c->dim, 0, "transformer.ln_f.weight");
	add(BIAS, c->dim, 0, "transformer.ln_f.bias");
	if (!c->tied)
		add(HEAD, vocab, c->dim, "lm_head.weight");
}

/*
 * --margin: u_t, a pseudo-random unit direction per token; the word
 * tokens in one pseudo-random cycle, succ(t) the next; pred[s] the token
 * whose successor s is (-1: none, the row stays zero).
 */
#define LOGIT_SCALE	40.0f	/* top logit ~ this; the rest ~ this * cos */
#define LAYER_GAIN	0.15f	/* what a layer adds, against the stream's 1 */

static float *dirs;
static s64 *pred;

static int margin_setup(const struct cfg *c)
{
	u64 rng = name_seed(c->seed, "succ"), i, n = 0;
	u32 *cyc;

	dirs = malloc((size_t)vocab * c->dim * sizeof(float));
	pred = malloc((size_t)vocab * sizeof(*pred));
	cyc = malloc((size_t)vocab * sizeof(*cyc));
	if (!dirs || !pred || !cyc)
		return -1;
	for (i = 0; i < vocab; i++) {
		u64 s = name_seed(c->seed, "dir") + i * 0x51ed27ull;
		float *u = dirs + i * c->dim, len = 0;
		u32 d;

		for (d = 0; d < c->dim; d++) {
			/* roughly Gaussian: the sum of four uniforms */
			u[d] = uni(&s) + uni(&s) + uni(&s) + uni(&s);
			len += u[d] * u[d];
		}
		for (d = 0; d < c->dim; d++)
			u[d] /= sqrtf(len);
		pred[i] = -1;
		if (word[i])
			cyc[n++] = i;
	}
	for (i = n; i > 1; i--) {	/* Fisher-Yates */
		u64 j = rng_next(&rng) % i;
		u32 tmp = cyc[i - 1];

		cyc[i - 1] = cyc[j];
		cyc[j] = tmp;
	}
	for (i = 0; i < n; i++)
		pred[cyc[(i + 1) % n]] = cyc[i];
	free(cyc);
	return n > 64 ? 0 : -1;
}

/* Element @j of tensor @t (element order as stored). */
static float value(const struct cfg *c, const struct tensor *t, u64 j, u64 *rng)
{
	u64 row = t->nd == 2 ? j / t->shape[1] : 0, col = j % t->shape[t->nd - 1];
	u64 fan_in = t->nd == 1 ? 1 : t->conv1d ? t->shape[0] : t->shape[1];
	float r = uni(rng), gain = c->margin ? LAYER_GAIN : 1.0f;

	switch (t->kind) {
	case NORM:
		return 1.0f + 0.1f * r;
	case BIAS:
		return (c->margin ? 0.02f : 0.1f) * r;
	case OUT_BIAS:
		return c->zero ? 0 : (c->margin ? 0.02f : 0.1f) * r;
	case OUT:
		return c->zero ? 0 : gain * 1.7320508f / sqrtf(fan_in) * r;
	case POS:
		return (c->margin ? 0.05f : 1.7320508f / sqrtf(fan_in)) * r;
	case EMBED:
		if (c->margin)	/* u_t, at a mean square of 1 */
			return dirs[row * c->dim + col] * sqrtf(c->dim);
		return 1.7320508f / sqrtf(fan_in) * r;
	case HEAD:
		if (c->margin)	/* row succ(t) is u_t */
			return pred[row] < 0 ? 0 :
			       dirs[pred[row] * c->dim + col] * LOGIT_SCALE /
			       sqrtf(c->dim);
		return 1.7320508f / sqrtf(fan_in) * r;
	default:
		return 1.7320508f / sqrtf(fan_in) * r;
	}
}

int main(int argc, char **argv)
{
	struct cfg c = { .dim = 64, .layers = 2, .heads = 4, .kv = 2,
			 .ffn = 128, .ctx = 256, .experts = 8, .used = 2,
			 .ffn_exp = 32, .seed = 1 };
	const char *tokdir = NULL, *dir = NULL, *arch = "llama";
	char path[4096], *hdr;
	u32 i, hd = 0, kv_set = 0;
	size_t hl = 0, cap;
	u64 off = 0, rng, k;
	FILE *f;
	int a;

	for (a = 1; a < argc; a++) {
		u32 *num = !strcmp(argv[a], "--dim") ? &c.dim :
			   !strcmp(argv[a], "--layers") ? &c.layers :
			   !strcmp(argv[a], "--heads") ? &c.heads :
			   !strcmp(argv[a], "--kv-heads") ? &kv_set :
			   !strcmp(argv[a], "--head-dim") ? &hd :
			   !strcmp(argv[a], "--ffn") ? &c.ffn :
			   !strcmp(argv[a], "--experts") ? &c.experts :
			   !strcmp(argv[a], "--experts-used") ? &c.used :
			   !strcmp(argv[a], "--ffn-exp") ? &c.ffn_exp :
			   !strcmp(argv[a], "--context") ? &c.ctx :
			   !strcmp(argv[a], "--seed") ? &c.seed : NULL;

		if (num && a + 1 < argc)
			*num = strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--arch") && a + 1 < argc)
			arch = argv[++a];
		else if (!strcmp(argv[a], "--bf16"))
			c.bf16 = true;
		else if (!strcmp(argv[a], "--tied"))
			c.tied = true;
		else if (!strcmp(argv[a], "--rope-llama3"))
			c.rope3 = true;
		else if (!strcmp(argv[a], "--margin"))
			c.margin = true;
		else if (!strcmp(argv[a], "--zero-layers"))
			c.zero = true;
		else if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help"))
			return usage(stdout), 0;
		else if (argv[a][0] != '-' && !tokdir)
			tokdir = argv[a];
		else if (argv[a][0] != '-' && !dir)
			dir = argv[a];
		else
			return usage(stderr), 2;
	}
	c.arch = !strcmp(arch, "llama") ? LLAMA : !strcmp(arch, "qwen2") ? QWEN2 :
		 !strcmp(arch, "qwen3") ? QWEN3 : !strcmp(arch, "gpt2") ? GPT2 :
		 !strcmp(arch, "qwen3moe") ? QWEN3MOE : (enum arch)-1;
	if (c.arch == (enum arch)-1) {
		fprintf(stderr, "mkhf: unknown --arch %s\n", arch);
		return 2;
	}
	c.kv = kv_set ? kv_set : c.arch == GPT2 ? c.heads : c.kv;
	c.hd = hd ? hd : (c.arch == QWEN3 || c.arch == QWEN3MOE) ? 32 :
	       c.heads ? c.dim / c.heads : 0;
	if (c.arch == GPT2)
		c.tied = !c.margin;	/* GPT-2 ties; --margin needs its own rows */
	if (!tokdir || !dir || !c.heads || !c.kv || c.heads % c.kv || !c.hd ||
	    (!hd && c.dim % c.heads) || (c.arch == GPT2 && c.kv != c.heads) ||
	    (c.arch == QWEN3MOE && (!c.used || c.used > c.experts)) ||
	    (c.margin && c.tied) || (c.rope3 && c.arch != LLAMA))
		return usage(stderr), 2;
	if (read_tokenizer(tokdir)) {
		fprintf(stderr, "mkhf: cannot read %s/tokenizer.json\n", tokdir);
		return 1;
	}
	if (c.margin && margin_setup(&c)) {
		fprintf(stderr, "mkhf: --margin: too few word tokens in %s\n", tokdir);
		return 1;
	}
	mkdir(dir, 0755);
	if (copy(tokdir, dir, "tokenizer.json") ||
	    copy(tokdir, dir, "tokenizer_config.json")) {
		fprintf(stderr, "mkhf: cannot copy the tokenizer into %s\n", dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	if (!f)
		return 1;
	write_config(&c, f);
	fclose(f);

	if (c.arch == GPT2)
		gpt2(&c);
	else
		llama_family(&c);
	cap = 64 + (size_t)n_tens * 200;
	hdr = malloc(cap);
	if (!hdr)
		return 1;
	hl = snprintf(hdr, cap, "{");
	for (i = 0; i < n_tens; i++) {
		struct tensor *t = &tens[i];
		u64 bytes = t->shape[0] * (t->nd == 2 ? t->shape[1] : 1) *
			    (c.bf16 ? 2 : 4);
		char shape[48];

		if (t->nd == 2)
			snprintf(shape, sizeof(shape), "%llu,%llu",
				 (unsigned long long)t->shape[0],
				 (unsigned long long)t->shape[1]);
		else
			snprintf(shape, sizeof(shape), "%llu",
				 (unsigned long long)t->shape[0]);
		hl += snprintf(hdr + hl, cap - hl,
			       "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%s],\"data_offsets\":[%llu,%llu]}",
			       i ? "," : "", t->name, c.bf16 ? "BF16" : "F32",
			       shape, (unsigned long long)off,
			       (unsigned long long)(off + bytes));
		off += bytes;
	}
	hl += snprintf(hdr + hl, cap - hl, "}");
	while (hl % 8)
		hdr[hl++] = ' ';
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	f = fopen(path, "wb");
	if (!f)
		return 1;
	k = hl;
	fwrite(&k, 8, 1, f);
	fwrite(hdr, 1, hl, f);
	/* one sequence through every tensor, or (--margin) one per tensor,
	 * so that --zero-layers leaves the rest as they were */
	rng = c.seed;
	for (i = 0; i < n_tens; i++) {
		const struct tensor *t = &tens[i];
		u64 m = t->shape[0] * (t->nd == 2 ? t->shape[1] : 1), j;

		if (c.margin)
			rng = name_seed(c.seed, t->name);
		for (j = 0; j < m; j++) {
			float v = value(&c, t, j, &rng);
			u32 b;

			if (c.bf16) {
				u16 h;

				memcpy(&b, &v, 4);
				h = (b + 0x7fff + ((b >> 16) & 1)) >> 16;
				fwrite(&h, 2, 1, f);
			} else {
				fwrite(&v, 4, 1, f);
			}
		}
	}
	free(hdr);
	free(tens);
	free(word);
	free(dirs);
	free(pred);
	return fclose(f) ? 1 : 0;
}
