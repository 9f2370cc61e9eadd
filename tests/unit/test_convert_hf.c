// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl convert hf (userctl/convert_hf.c) on small Hugging Face
 * directories written here: the tensors land under llama.cpp's names with
 * their values (Q and K rows permuted as llama.cpp's LlamaModel.permute,
 * checked element by element against the formula; BF16 widened exactly;
 * F16 output rounded as fp32_to_fp16, norms kept F32); the vocabulary,
 * merges, token types, BOS/EOS and pre-tokenizer as llama.cpp writes them,
 * and a file the core loads; and every refusal with its sentence.  (With
 * real tokenizers against llama.cpp and Hugging Face: tests/llama-diff.sh.)
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "userctl/convert_hf.h"
#include "userctl/modelfile.h"
#include "llm/core/model.h"
#include "quant/kernels.h"

#define DIM	8
#define HEADS	2
#define KV	1
#define FFN	16
#define LAYERS	1
#define REGION	(16u << 20)

static char dir[64], out[96];
static unsigned char *region;

static const char re_llama3[] =
	"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,3}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+";

static void put(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(const char *name, const char *fmt, ...)
{
	char path[128];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

/* GPT-2's symbol of byte @b, as UTF-8 escaped for JSON (\uXXXX). */
static void symbol(u32 b, char *out_json)
{
	u32 k = 0, i, cp = b;
	bool self = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) ||
		    (b >= 0xae && b <= 0xff);

	if (!self) {
		for (i = 0; i < b; i++)
			k += !((i >= '!' && i <= '~') ||
			       (i >= 0xa1 && i <= 0xac) ||
			       (i >= 0xae && i <= 0xff));
		cp = 256 + k;
	}
	if (cp == '"' || cp == '\\')
		sprintf(out_json, "\\%c", (char)cp);
	else
		sprintf(out_json, "\\u%04x", cp);
}

/*
 * A byte-level tokenizer: the 256 byte symbols (ids 0..255), "he"
 * (256) by the one merge, and two added tokens, <|bos|> (257, special)
 * and <|x|> (258, not special).
 */
static void write_tokenizer(const char *model_extra)
{
	char vocab[256 * 24], sym[16];
	size_t n = 0;
	u32 b;

	for (b = 0; b < 256; b++) {
		symbol(b, sym);
		n += sprintf(vocab + n, "%s\"%s\": %u", b ? ", " : "", sym, b);
	}
	put("tokenizer.json",
	    "{\"model\": {\"type\": \"BPE\", %s\"vocab\": {%s, \"he\": 256},\n"
	    " \"merges\": [\"h e\"]},\n"
	    " \"added_tokens\": [{\"id\": 257, \"content\": \"<|bos|>\", \"special\": true},\n"
	    "  {\"id\": 258, \"content\": \"<|x|>\", \"special\": false}],\n"
	    " \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [\n"
	    "  {\"type\": \"Split\", \"pattern\": {\"Regex\": \"%s\"}, \"behavior\": \"Isolated\"},\n"
	    "  {\"type\": \"ByteLevel\", \"use_regex\": false}]}}\n",
	    model_extra, vocab, re_llama3);
	put("tokenizer_config.json",
	    "{\"bos_token\": \"<|bos|>\", \"eos_token\": {\"content\": \"<|x|>\"},\n"
	    " \"add_bos_token\": true, \"chat_template\": \"{{ messages }}\"}\n");
}

static void write_config(const char *extra)
{
	put("config.json",
	    "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": %d,\n"
	    " \"intermediate_size\": %d, \"num_hidden_layers\": %d,\n"
	    " \"num_attention_heads\": %d, \"num_key_value_heads\": %d,\n"
	    " \"max_position_embeddings\": 64, \"rms_norm_eps\": 1e-06,\n"
	    " \"rope_theta\": 500000.0, \"vocab_size\": 259%s}\n",
	    DIM, FFN, LAYERS, HEADS, KV, extra);
}

struct st_tensor {
	const char *name;
	u64 rows, cols;		/* rows 0: a vector */
};

static const struct st_tensor tensors[] = {
	{ "model.embed_tokens.weight", 259, DIM },
	{ "model.norm.weight", 0, DIM },
	{ "lm_head.weight", 259, DIM },
	{ "model.layers.0.input_layernorm.weight", 0, DIM },
	{ "model.layers.0.self_attn.q_proj.weight", DIM, DIM },
	{ "model.layers.0.self_attn.k_proj.weight", DIM / HEADS * KV, DIM },
	{ "model.layers.0.self_attn.v_proj.weight", DIM / HEADS * KV, DIM },
	{ "model.layers.0.self_attn.o_proj.weight", DIM, DIM },
	{ "model.layers.0.post_attention_layernorm.weight", 0, DIM },
	{ "model.layers.0.mlp.gate_proj.weight", FFN, DIM },
	{ "model.layers.0.mlp.up_proj.weight", FFN, DIM },
	{ "model.layers.0.mlp.down_proj.weight", DIM, FFN },
};

/*
 * The value element @i of tensor @t holds: exact in BF16 (7 significant
 * bits), and different in any two rows of one column of a Q or K matrix.
 */
static float value(u32 t, u64 i)
{
	return (float)(int)(t * 7 + i % 13) / 4.0f - 8.0f;
}

/* model.safetensors with @n_extra more tensors named "extra.N". */
static void write_tensors(bool bf16, u32 skip, u32 n_extra)
{
	char hdr[8192], path[128];
	size_t hl = 1;
	u64 off = 0, k, n;
	u32 t;
	FILE *f;

	hdr[0] = '{';
	for (t = 0; t < ARRAY_SIZE(tensors) + n_extra; t++) {
		const struct st_tensor *s = &tensors[t % ARRAY_SIZE(tensors)];
		char name[64];

		if (t == skip)
			continue;
		snprintf(name, sizeof(name), "%s", t < ARRAY_SIZE(tensors) ?
			 s->name : "extra.weight");
		n = (s->rows ? s->rows : 1) * s->cols * (bf16 ? 2 : 4);
		if (s->rows)
			hl += sprintf(hdr + hl, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%llu,%llu],\"data_offsets\":[%llu,%llu]}",
				      hl > 1 ? "," : "", name, bf16 ? "BF16" : "F32",
				      (unsigned long long)s->rows,
				      (unsigned long long)s->cols,
				      (unsigned long long)off,
				      (unsigned long long)(off + n));
		else
			hl += sprintf(hdr + hl, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%llu],\"data_offsets\":[%llu,%llu]}",
				      hl > 1 ? "," : "", name, bf16 ? "BF16" : "F32",
				      (unsigned long long)s->cols,
				      (unsigned long long)off,
				      (unsigned long long)(off + n));
		off += n;
	}
	hdr[hl++] = '}';
	while (hl % 8)
		hdr[hl++] = ' ';
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	f = fopen(path, "wb");
	k = hl;
	fwrite(&k, 8, 1, f);
	fwrite(hdr, 1, hl, f);
	for (t = 0; t < ARRAY_SIZE(tensors) + n_extra; t++) {
		const struct st_tensor *s = &tensors[t % ARRAY_SIZE(tensors)];

		if (t == skip)
			continue;
		n = (s->rows ? s->rows : 1) * s->cols;
		for (k = 0; k < n; k++) {
			float v = value(t % ARRAY_SIZE(tensors), k);

			if (bf16) {
				u32 b;
				u16 h;

				memcpy(&b, &v, 4);
				h = b >> 16;	/* exact: see value() */
				fwrite(&h, 2, 1, f);
			} else {
				fwrite(&v, 4, 1, f);
			}
		}
	}
	fclose(f);
}

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/llm-hf-XXXXXX");
	if (!mkdtemp(dir))
		exit(1);
	snprintf(out, sizeof(out), "%s.gguf", dir);
	write_config("");
	write_tokenizer("");
	write_tensors(false, U32_MAX, 0);
}

static void remove_dir(void)
{
	static const char *const files[] = {
		"config.json", "tokenizer.json", "tokenizer_config.json",
		"model.safetensors",
	};
	char path[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	unlink(out);
}

static const struct llm_gguf_tensor *tensor(const struct llm_gguf *g,
					    const char *name)
{
	return llm_gguf_find_tensor(g, name);
}

static float f32_at(const struct llm_gguf_tensor *t, u64 i)
{
	float f;

	if (t->type == LLM_T_F16)
		return llm_fp16_to_fp32(((const u16 *)t->data)[i]);
	memcpy(&f, (const u8 *)t->data + 4 * i, 4);
	return f;
}

/*
 * Convert, then check the tensors: names, shapes, values (Q and K rows
 * permuted: row 2j + s of a head is Hugging Face's row s * hd/2 + j).
 */
static void check_file(bool f16, const char *what)
{
	struct llm_mapped_file f;
	struct llm_arena a;
	struct llm_gguf g;
	struct llm_model m;
	char err[512];
	u64 r, c, hd = DIM / HEADS;

	err[0] = '\0';
	if (llm_convert_hf(dir, out, f16, NULL, err, sizeof(err))) {
		check_fail(__FILE__, __LINE__, "%s: %s", what, err);
		return;
	}
	CHECK_EQ(llm_map_file(&f, out, err, sizeof(err)), 0);
	llm_arena_init(&a, region, REGION);
	CHECK_EQ(llm_gguf_parse(&g, f.data, f.len, &a, err, sizeof(err)), 0);
	{
		const struct llm_gguf_tensor *q = tensor(&g, "blk.0.attn_q.weight");
		const struct llm_gguf_tensor *k = tensor(&g, "blk.0.attn_k.weight");
		const struct llm_gguf_tensor *e = tensor(&g, "token_embd.weight");
		const struct llm_gguf_tensor *n = tensor(&g, "blk.0.attn_norm.weight");
		const struct llm_gguf_tensor *o = tensor(&g, "output.weight");
		const struct llm_gguf_tensor *d = tensor(&g, "blk.0.ffn_down.weight");

		CHECK(q && k && e && n && o && d);
		CHECK_EQ(g.n_tensors, 12);
		CHECK_EQ(n->type, LLM_T_F32);
		CHECK_EQ(q->type, f16 ? LLM_T_F16 : LLM_T_F32);
		CHECK(d->ne[0] == FFN && d->ne[1] == DIM);
		for (r = 0; r < DIM; r++)
			for (c = 0; c < DIM; c++) {
				u64 src = r / hd * hd + (r % 2) * (hd / 2) + r % hd / 2;
				float want = value(4, src * DIM + c);

				if (f16)
					want = llm_fp16_to_fp32(llm_fp32_to_fp16(want));
				if (f32_at(q, r * DIM + c) != want) {
					check_fail(__FILE__, __LINE__, "%s: attn_q[%llu][%llu] = %g, want %g (row %llu)",
						   what, (unsigned long long)r,
						   (unsigned long long)c,
						   f32_at(q, r * DIM + c), want,
						   (unsigned long long)src);
					return;
				}
			}
		for (r = 0; r < hd * KV; r++)
			for (c = 0; c < DIM; c++) {
				u64 src = r / hd * hd + (r % 2) * (hd / 2) + r % hd / 2;
				float want = value(5, src * DIM + c);

				if (f16)
					want = llm_fp16_to_fp32(llm_fp32_to_fp16(want));
				CHECK(f32_at(k, r * DIM + c) == want);
			}
		for (c = 0; c < 259 * DIM; c++) {
			float want = value(0, c);

			if (f16)
				want = llm_fp16_to_fp32(llm_fp32_to_fp16(want));
			CHECK(f32_at(e, c) == want);
		}
		for (c = 0; c < DIM; c++)
			CHECK(f32_at(n, c) == value(3, c));
	}
	/* the vocabulary and the keys */
	{
		const struct llm_gguf_kv *tt;
		struct llm_gguf_str s;
		u32 v;

		CHECK_EQ(llm_gguf_get_str(&g, "tokenizer.ggml.pre", &s), 0);
		CHECK(llm_gguf_str_eq(s, "llama-bpe"));
		CHECK_EQ(llm_gguf_get_str(&g, "tokenizer.ggml.model", &s), 0);
		CHECK(llm_gguf_str_eq(s, "gpt2"));
		CHECK_EQ(llm_gguf_get_u32(&g, "tokenizer.ggml.bos_token_id", &v), 0);
		CHECK_EQ(v, 257);
		CHECK_EQ(llm_gguf_get_u32(&g, "tokenizer.ggml.eos_token_id", &v), 0);
		CHECK_EQ(v, 258);
		CHECK_EQ(llm_gguf_get_u32(&g, "llama.attention.head_count_kv", &v), 0);
		CHECK_EQ(v, KV);
		CHECK_EQ(llm_gguf_get_arr(&g, "tokenizer.ggml.token_type",
					  LLM_GGUF_I32, &tt), 0);
		CHECK_EQ(tt->arr_n, 259);
		CHECK_EQ(llm_get_le32(tt->arr_data + 4 * 256), LLM_TOK_NORMAL);
		CHECK_EQ(llm_get_le32(tt->arr_data + 4 * 257), LLM_TOK_CONTROL);
		CHECK_EQ(llm_get_le32(tt->arr_data + 4 * 258), LLM_TOK_USER_DEFINED);
		CHECK_EQ(llm_gguf_get_str(&g, "tokenizer.chat_template", &s), 0);
	}
	/* the core binds it, tokenizer and all */
	llm_arena_init(&a, region, REGION);
	if (llm_model_load(&m, f.data, f.len, &a, true, err, sizeof(err)))
		check_fail(__FILE__, __LINE__, "%s: load: %s", what, err);
	else
		CHECK(m.vocab.bpe && m.vocab.add_bos && m.vocab.bos == 257);
	llm_unmap_file(&f);
}

/* 1. F32 and BF16 in, F32 and F16 out. */
static void converts(void)
{
	make_dir();
	check_file(false, "f32");
	check_file(true, "f16 out");
	write_tensors(true, U32_MAX, 0);
	check_file(false, "bf16 in");
	remove_dir();
}

/*
 * 3. Llama 3.1's rope_scaling becomes rope_freqs.weight: one divisor per
 * rotated pair, 1 for short wavelengths, the factor for long ones, the
 * smooth blend between (computed here from Meta's description), and the
 * core binds it.
 */
static void rope_llama3(void)
{
	static const int old_ctx[] = { 32, 8 };
	struct llm_mapped_file f;
	const struct llm_gguf_tensor *t;
	struct llm_arena a;
	struct llm_gguf g;
	struct llm_model m;
	char err[512], cfg[512];
	u32 i, k, hd = DIM / HEADS;
	bool one = false, full = false, mid = false;

	make_dir();
	for (k = 0; k < ARRAY_SIZE(old_ctx); k++) {
		double oc = old_ctx[k];

		/* theta 500000 (write_config): pair 1's wavelength is 2 pi 707 */
		snprintf(cfg, sizeof(cfg), ", \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": %d}",
			 old_ctx[k] * 500);
		write_config(cfg);
		unlink(out);
		CHECK_EQ(llm_convert_hf(dir, out, false, NULL, err, sizeof(err)),
			 0);
		CHECK_EQ(llm_map_file(&f, out, err, sizeof(err)), 0);
		llm_arena_init(&a, region, REGION);
		CHECK_EQ(llm_gguf_parse(&g, f.data, f.len, &a, err,
					sizeof(err)), 0);
		t = llm_gguf_find_tensor(&g, "rope_freqs.weight");
		CHECK(t && t->type == LLM_T_F32 && t->ne[0] == hd / 2);
		oc *= 500;
		for (i = 0; i < hd / 2; i++) {
			double freq = 1.0 / pow(500000.0, 2.0 * i / hd);
			double wl = 2 * M_PI / freq, want;
			double got = ((const float *)t->data)[i];

			if (wl < oc / 4.0) {
				want = 1;
				one = true;
			} else if (wl > oc / 1.0) {
				want = 8;
				full = true;
			} else {
				double sm = (oc / wl - 1) / (4 - 1);

				want = 1 / ((1 - sm) / 8 + sm);
				mid = true;
			}
			CHECK(fabs(got - want) < 1e-5 * want);
		}
		llm_arena_init(&a, region, REGION);
		CHECK_EQ(llm_model_load(&m, f.data, f.len, &a, true, err,
					sizeof(err)), 0);
		CHECK(m.rope_factors);
		llm_unmap_file(&f);
	}
	CHECK(one && full && mid);	/* every branch taken */
	remove_dir();
}

/* 2. What is refused, and the sentence that says so. */
static void refusals(void)
{
	static const struct {
		const char *config, *model, *why;
		u32 skip, extra;
	} cases[] = {
		{ ", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}", "",
		  "rope_scaling of type linear is not supported", U32_MAX, 0 },
		{ ", \"attention_bias\": true", "", "biases", U32_MAX, 0 },
		{ ", \"head_dim\": 16", "", "head_dim 16", U32_MAX, 0 },
		{ "", "\"byte_fallback\": true, ", "SentencePiece-style",
		  U32_MAX, 0 },
		{ "", "", "tensor model.layers.0.self_attn.k_proj.weight is missing",
		  5, 0 },
		{ "", "", "tensor extra.weight is not one a llama model has",
		  U32_MAX, 1 },
	};
	char err[512];
	size_t i;

	make_dir();
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		write_config(cases[i].config);
		write_tokenizer(cases[i].model);
		write_tensors(false, cases[i].skip, cases[i].extra);
		unlink(out);
		err[0] = '\0';
		CHECK(llm_convert_hf(dir, out, false, NULL, err,
				     sizeof(err)) < 0);
		if (!strstr(err, cases[i].why)) {
			check_fail(__FILE__, __LINE__, "case %zu: '%s', want '%s'",
				   i, err, cases[i].why);
			break;
		}
		CHECK(access(out, F_OK) != 0);	/* nothing written */
	}
	put("config.json", "{\"architectures\": [\"PhiForCausalLM\"]}");
	CHECK(llm_convert_hf(dir, out, false, NULL, err, sizeof(err)) < 0);
	CHECK(strstr(err, "architecture PhiForCausalLM is not supported"));
	remove_dir();
}

int main(void)
{
	region = malloc(REGION);
	if (!region)
		return 1;
	RUN(converts);
	RUN(refusals);
	RUN(rope_llama3);
	free(region);
	return check_done();
}
