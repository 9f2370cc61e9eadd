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
	    " \"add_bos_token\": true, \"chat_template\": \"{{ messages }}\",\n"
	    " \"model_max_length\": 1000000000000000019884624838656}\n");
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

/* ---- the other architectures, on tensor lists built per test ---- */

struct hft {
	char name[80];
	u64 rows, cols;		/* rows 0: a vector of cols */
	u32 vt;			/* its values: value() or val2() of this */
};

static struct hft list[64];
static u32 n_list;

static void hft(u64 rows, u64 cols, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void hft(u64 rows, u64 cols, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(list[n_list].name, sizeof(list[n_list].name), fmt, ap);
	va_end(ap);
	list[n_list].rows = rows;
	list[n_list].cols = cols;
	list[n_list].vt = n_list;
	n_list++;
}

/* Element @i of list tensor @t: exact in F32, different everywhere. */
static float val2(u32 t, u64 i)
{
	return (float)(t * 4096 + i) / 256.0f;
}

static u32 idx(const char *name)
{
	u32 i;

	for (i = 0; i < n_list && strcmp(list[i].name, name); i++)
		;
	if (i == n_list)
		check_fail(__FILE__, __LINE__, "no source tensor %s", name);
	return i;
}

/* model.safetensors of list[], F32 or (@bf16) BF16, values by @val */
static void write_list(bool bf16, float (*val)(u32 t, u64 i))
{
	char hdr[16384], path[128];
	size_t hl = 1;
	u64 off = 0, k, n;
	u32 t;
	FILE *f;

	hdr[0] = '{';
	for (t = 0; t < n_list; t++) {
		const struct hft *s = &list[t];
		char shape[48];

		n = (s->rows ? s->rows : 1) * s->cols * (bf16 ? 2 : 4);
		if (s->rows)
			snprintf(shape, sizeof(shape), "%llu,%llu",
				 (unsigned long long)s->rows,
				 (unsigned long long)s->cols);
		else
			snprintf(shape, sizeof(shape), "%llu",
				 (unsigned long long)s->cols);
		hl += snprintf(hdr + hl, sizeof(hdr) - hl,
			       "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%s],\"data_offsets\":[%llu,%llu]}",
			       t ? "," : "", s->name, bf16 ? "BF16" : "F32", shape,
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
	for (t = 0; t < n_list; t++) {
		n = (list[t].rows ? list[t].rows : 1) * list[t].cols;
		for (k = 0; k < n; k++) {
			float v = val(list[t].vt, k);

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

/*
 * model.safetensors of the llama tensors[] but number @skip, and
 * @n_extra more named "extra.weight", with value()s.
 */
static void write_tensors(bool bf16, u32 skip, u32 n_extra)
{
	u32 t;

	n_list = 0;
	for (t = 0; t < ARRAY_SIZE(tensors) + n_extra; t++) {
		const struct st_tensor *s = &tensors[t % ARRAY_SIZE(tensors)];

		if (t == skip)
			continue;
		hft(s->rows, s->cols, "%s", t < ARRAY_SIZE(tensors) ?
		    s->name : "extra.weight");
		list[n_list - 1].vt = t % ARRAY_SIZE(tensors);
	}
	write_list(bf16, value);
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

/* How GGUF element o (row-major over ne) finds its source. */
enum how { SAME, TRANSPOSED, STACKED };

/*
 * GGUF tensor @gn must be of @type (F16 where @f16 and @half), shape
 * ne[0..2] (0: absent), each element the source's by the formula: SAME
 * o -> (hf, o); TRANSPOSED (r, c) -> (hf, c * rows + r); STACKED
 * (e, r, c) -> (hf with e for "%u", r * ne[0] + c).
 */
static void expect(const struct llm_gguf *g, const char *gn, bool f16,
		   bool half, u64 ne0, u64 ne1, u64 ne2, enum how how,
		   const char *hf)
{
	const struct llm_gguf_tensor *t = llm_gguf_find_tensor(g, gn);
	u64 rows = ne1 ? ne1 : 1, n = ne0 * rows * (ne2 ? ne2 : 1), o;
	u32 src = how == STACKED ? 0 : idx(hf);
	char name[96];

	if (!t) {
		check_fail(__FILE__, __LINE__, "%s is missing", gn);
		return;
	}
	if (t->type != (f16 && half ? LLM_T_F16 : LLM_T_F32) ||
	    t->ne[0] != ne0 || t->ne[1] != (ne1 ? ne1 : 1) ||
	    t->ne[2] != (ne2 ? ne2 : 1) ||
	    t->n_dims != (ne2 ? 3u : ne1 ? 2u : 1u)) {
		check_fail(__FILE__, __LINE__, "%s: type %u, [%llu, %llu, %llu] in %u dimensions",
			   gn, t->type, (unsigned long long)t->ne[0],
			   (unsigned long long)t->ne[1],
			   (unsigned long long)t->ne[2], t->n_dims);
		return;
	}
	for (o = 0; o < n; o++) {
		u64 r = o / ne0 % rows, c = o % ne0, i = o;
		float want;

		if (how == TRANSPOSED)
			i = c * rows + r;
		if (how == STACKED) {
			snprintf(name, sizeof(name), hf, (u32)(o / (ne0 * rows)));
			src = idx(name);
			i = o % (ne0 * rows);
		}
		want = val2(src, i);
		if (t->type == LLM_T_F16)
			want = llm_fp16_to_fp32(llm_fp32_to_fp16(want));
		if (f32_at(t, o) != want) {
			check_fail(__FILE__, __LINE__, "%s[%llu] = %g, want %g (%s[%llu])",
				   gn, (unsigned long long)o, f32_at(t, o), want,
				   list[src].name, (unsigned long long)i);
			return;
		}
	}
}

static void expect_u32(const struct llm_gguf *g, const char *key, u32 want)
{
	u32 v = U32_MAX;

	if (llm_gguf_get_u32(g, key, &v) || v != want)
		check_fail(__FILE__, __LINE__, "%s = %u, want %u", key, v, want);
}

/* Convert (F32 or F16 out) and parse; false (reported) on failure. */
static bool convert(bool f16, struct llm_mapped_file *f, struct llm_gguf *g,
		    struct llm_arena *a)
{
	char err[512] = "";

	unlink(out);
	if (llm_convert_hf(dir, out, f16, NULL, err, sizeof(err))) {
		check_fail(__FILE__, __LINE__, "convert: %s", err);
		return false;
	}
	if (llm_map_file(f, out, err, sizeof(err))) {
		check_fail(__FILE__, __LINE__, "map: %s", err);
		return false;
	}
	llm_arena_init(a, region, REGION);
	if (llm_gguf_parse(g, f->data, f->len, a, err, sizeof(err))) {
		check_fail(__FILE__, __LINE__, "parse: %s", err);
		llm_unmap_file(f);
		return false;
	}
	return true;
}

static void expect_arch(const struct llm_gguf *g, const char *arch)
{
	struct llm_gguf_str s;

	CHECK_EQ(llm_gguf_get_str(g, "general.architecture", &s), 0);
	if (!llm_gguf_str_eq(s, arch))
		check_fail(__FILE__, __LINE__, "architecture %.*s, want %s",
			   (int)s.len, s.p, arch);
}

#define QH	8	/* qwen3's head_dim, not DIM / HEADS */
#define EXP	3
#define FFX	4

/* Qwen2/Qwen3/Qwen3-MoE sources; @arch 2, 3 or 4 (MoE) */
static void qwen_list(int arch)
{
	u32 hd = arch == 2 ? DIM / HEADS : QH, e;

	n_list = 0;
	hft(259, DIM, "model.embed_tokens.weight");
	hft(0, DIM, "model.norm.weight");
	if (arch != 2)
		hft(259, DIM, "lm_head.weight");
	hft(0, DIM, "model.layers.0.input_layernorm.weight");
	hft(HEADS * hd, DIM, "model.layers.0.self_attn.q_proj.weight");
	hft(KV * hd, DIM, "model.layers.0.self_attn.k_proj.weight");
	hft(KV * hd, DIM, "model.layers.0.self_attn.v_proj.weight");
	hft(DIM, HEADS * hd, "model.layers.0.self_attn.o_proj.weight");
	if (arch == 2) {
		hft(0, HEADS * hd, "model.layers.0.self_attn.q_proj.bias");
		hft(0, KV * hd, "model.layers.0.self_attn.k_proj.bias");
		hft(0, KV * hd, "model.layers.0.self_attn.v_proj.bias");
	} else {
		hft(0, hd, "model.layers.0.self_attn.q_norm.weight");
		hft(0, hd, "model.layers.0.self_attn.k_norm.weight");
	}
	hft(0, DIM, "model.layers.0.post_attention_layernorm.weight");
	if (arch != 4) {
		hft(FFN, DIM, "model.layers.0.mlp.gate_proj.weight");
		hft(FFN, DIM, "model.layers.0.mlp.up_proj.weight");
		hft(DIM, FFN, "model.layers.0.mlp.down_proj.weight");
		return;
	}
	hft(EXP, DIM, "model.layers.0.mlp.gate.weight");
	for (e = 0; e < EXP; e++) {
		hft(FFX, DIM, "model.layers.0.mlp.experts.%u.gate_proj.weight", e);
		hft(FFX, DIM, "model.layers.0.mlp.experts.%u.up_proj.weight", e);
		hft(DIM, FFX, "model.layers.0.mlp.experts.%u.down_proj.weight", e);
	}
}

static void qwen_config(int arch, const char *extra)
{
	put("config.json",
	    "{\"architectures\": [\"%s\"], \"hidden_size\": %d,\n"
	    " \"intermediate_size\": %d, \"num_hidden_layers\": %d,\n"
	    " \"num_attention_heads\": %d, \"num_key_value_heads\": %d,\n"
	    " \"max_position_embeddings\": 64, \"rms_norm_eps\": 1e-06,\n"
	    " \"rope_theta\": 1000000.0, \"vocab_size\": 259,\n"
	    " \"sliding_window\": 4096, \"use_sliding_window\": false,\n"
	    " \"tie_word_embeddings\": %s%s%s}\n",
	    arch == 2 ? "Qwen2ForCausalLM" : arch == 3 ? "Qwen3ForCausalLM" :
	    "Qwen3MoeForCausalLM", DIM, FFN, LAYERS, HEADS, KV,
	    arch == 2 ? "true" : "false",
	    arch == 2 ? "" : ", \"head_dim\": 8, \"attention_bias\": false",
	    arch == 4 ? ", \"num_experts\": 3, \"num_experts_per_tok\": 2, \"moe_intermediate_size\": 4, \"norm_topk_prob\": true, \"decoder_sparse_step\": 1, \"mlp_only_layers\": []" :
	    extra);
}

/*
 * 4. Qwen2 (tied, biases), Qwen3 (head_dim 8 with hidden 8 over 2
 * heads, q/k norms) and Qwen3-MoE (experts stacked): every tensor by
 * formula, no permutation of Q and K (NEOX rotation), the keys, and what
 * stays F32 under --outtype f16.
 */
static void qwen(void)
{
	int arch, k16;

	make_dir();
	for (arch = 2; arch <= 4; arch++)
		for (k16 = 0; k16 < 2; k16++) {
			bool f16 = k16;
			u32 hd = arch == 2 ? DIM / HEADS : QH;
			char pre[16];
			struct llm_mapped_file f;
			struct llm_arena a;
			struct llm_gguf g;

			qwen_list(arch);
			qwen_config(arch, "");
			write_list(false, val2);
			if (!convert(f16, &f, &g, &a))
				continue;
			snprintf(pre, sizeof(pre), "%s", arch == 2 ? "qwen2" :
				 arch == 3 ? "qwen3" : "qwen3moe");
			expect_arch(&g, pre);
			expect(&g, "token_embd.weight", f16, true, DIM, 259, 0,
			       SAME, "model.embed_tokens.weight");
			expect(&g, "output_norm.weight", f16, false, DIM, 0, 0,
			       SAME, "model.norm.weight");
			if (arch == 2)
				CHECK(!llm_gguf_find_tensor(&g, "output.weight"));
			else
				expect(&g, "output.weight", f16, true, DIM, 259, 0,
				       SAME, "lm_head.weight");
			expect(&g, "blk.0.attn_norm.weight", f16, false, DIM, 0,
			       0, SAME, "model.layers.0.input_layernorm.weight");
			expect(&g, "blk.0.attn_q.weight", f16, true, DIM,
			       HEADS * hd, 0, SAME,
			       "model.layers.0.self_attn.q_proj.weight");
			expect(&g, "blk.0.attn_k.weight", f16, true, DIM, KV * hd,
			       0, SAME, "model.layers.0.self_attn.k_proj.weight");
			expect(&g, "blk.0.attn_v.weight", f16, true, DIM, KV * hd,
			       0, SAME, "model.layers.0.self_attn.v_proj.weight");
			expect(&g, "blk.0.attn_output.weight", f16, true,
			       HEADS * hd, DIM, 0, SAME,
			       "model.layers.0.self_attn.o_proj.weight");
			expect(&g, "blk.0.ffn_norm.weight", f16, false, DIM, 0, 0,
			       SAME, "model.layers.0.post_attention_layernorm.weight");
			if (arch == 2) {
				expect(&g, "blk.0.attn_q.bias", f16, false,
				       HEADS * hd, 0, 0, SAME,
				       "model.layers.0.self_attn.q_proj.bias");
				expect(&g, "blk.0.attn_k.bias", f16, false, KV * hd,
				       0, 0, SAME,
				       "model.layers.0.self_attn.k_proj.bias");
				expect(&g, "blk.0.attn_v.bias", f16, false, KV * hd,
				       0, 0, SAME,
				       "model.layers.0.self_attn.v_proj.bias");
				CHECK_EQ(g.n_tensors, 14);
			} else {
				expect(&g, "blk.0.attn_q_norm.weight", f16, false,
				       QH, 0, 0, SAME,
				       "model.layers.0.self_attn.q_norm.weight");
				expect(&g, "blk.0.attn_k_norm.weight", f16, false,
				       QH, 0, 0, SAME,
				       "model.layers.0.self_attn.k_norm.weight");
				expect_u32(&g, arch == 3 ? "qwen3.attention.key_length" :
					   "qwen3moe.attention.key_length", QH);
				expect_u32(&g, arch == 3 ? "qwen3.attention.value_length" :
					   "qwen3moe.attention.value_length", QH);
			}
			if (arch != 4) {
				expect(&g, "blk.0.ffn_gate.weight", f16, true, DIM,
				       FFN, 0, SAME,
				       "model.layers.0.mlp.gate_proj.weight");
				expect(&g, "blk.0.ffn_up.weight", f16, true, DIM,
				       FFN, 0, SAME,
				       "model.layers.0.mlp.up_proj.weight");
				expect(&g, "blk.0.ffn_down.weight", f16, true, FFN,
				       DIM, 0, SAME,
				       "model.layers.0.mlp.down_proj.weight");
			} else {
				/* the router stays F32, as llama.cpp keeps it */
				expect(&g, "blk.0.ffn_gate_inp.weight", f16, false,
				       DIM, EXP, 0, SAME,
				       "model.layers.0.mlp.gate.weight");
				expect(&g, "blk.0.ffn_gate_exps.weight", f16, true,
				       DIM, FFX, EXP, STACKED,
				       "model.layers.0.mlp.experts.%u.gate_proj.weight");
				expect(&g, "blk.0.ffn_up_exps.weight", f16, true,
				       DIM, FFX, EXP, STACKED,
				       "model.layers.0.mlp.experts.%u.up_proj.weight");
				expect(&g, "blk.0.ffn_down_exps.weight", f16, true,
				       FFX, DIM, EXP, STACKED,
				       "model.layers.0.mlp.experts.%u.down_proj.weight");
				expect_u32(&g, "qwen3moe.expert_count", EXP);
				expect_u32(&g, "qwen3moe.expert_used_count", 2);
				expect_u32(&g, "qwen3moe.expert_feed_forward_length",
					   FFX);
				CHECK_EQ(g.n_tensors, 15);
			}
			if (arch == 3)
				CHECK_EQ(g.n_tensors, 14);
			{
				char key[64];
				static const char *const keys[] = {
					"block_count", "context_length",
					"embedding_length", "feed_forward_length",
					"attention.head_count",
					"attention.head_count_kv",
				};
				const u32 want[] = { LAYERS, 64, DIM, FFN, HEADS, KV };
				size_t k;

				for (k = 0; k < ARRAY_SIZE(keys); k++) {
					snprintf(key, sizeof(key), "%s.%s", pre,
						 keys[k]);
					expect_u32(&g, key, want[k]);
				}
				snprintf(key, sizeof(key), "%s.rope.freq_base", pre);
				CHECK(llm_gguf_find(&g, key));
				snprintf(key, sizeof(key),
					 "%s.attention.layer_norm_rms_epsilon", pre);
				CHECK(llm_gguf_find(&g, key));
				CHECK(arch != 2 || !llm_gguf_find(&g, "qwen2.attention.key_length"));
				expect_u32(&g, "general.file_type", f16);
			}
			llm_unmap_file(&f);
		}
	remove_dir();
}

static void gpt2_list(const char *pre, bool buffers)
{
	n_list = 0;
	hft(259, DIM, "%swte.weight", pre);
	hft(64, DIM, "%swpe.weight", pre);
	hft(0, DIM, "%sh.0.ln_1.weight", pre);
	hft(0, DIM, "%sh.0.ln_1.bias", pre);
	hft(DIM, 3 * DIM, "%sh.0.attn.c_attn.weight", pre);	/* [in, out] */
	hft(0, 3 * DIM, "%sh.0.attn.c_attn.bias", pre);
	hft(DIM, DIM, "%sh.0.attn.c_proj.weight", pre);
	hft(0, DIM, "%sh.0.attn.c_proj.bias", pre);
	hft(0, DIM, "%sh.0.ln_2.weight", pre);
	hft(0, DIM, "%sh.0.ln_2.bias", pre);
	hft(DIM, 4 * DIM, "%sh.0.mlp.c_fc.weight", pre);
	hft(0, 4 * DIM, "%sh.0.mlp.c_fc.bias", pre);
	hft(4 * DIM, DIM, "%sh.0.mlp.c_proj.weight", pre);
	hft(0, DIM, "%sh.0.mlp.c_proj.bias", pre);
	hft(0, DIM, "%sln_f.weight", pre);
	hft(0, DIM, "%sln_f.bias", pre);
	if (buffers) {	/* older checkpoints' causal mask, not weights */
		hft(64, 64, "%sh.0.attn.bias", pre);
		hft(0, 1, "%sh.0.attn.masked_bias", pre);
	}
}

static void gpt2_config(const char *extra)
{
	put("config.json",
	    "{\"architectures\": [\"GPT2LMHeadModel\"], \"n_embd\": %d,\n"
	    " \"n_head\": %d, \"n_layer\": %d, \"n_positions\": 64,\n"
	    " \"n_ctx\": 64, \"n_inner\": null, \"layer_norm_epsilon\": 1e-05,\n"
	    " \"activation_function\": \"gelu_new\", \"vocab_size\": 259,\n"
	    " \"bos_token_id\": 257, \"eos_token_id\": 258%s}\n",
	    DIM, HEADS, LAYERS, extra);
}

/*
 * 5. GPT-2, saved with and without "transformer." in front of the names
 * (the second with the causal-mask buffers older checkpoints carry):
 * Conv1D weights transposed, c_attn's Q, K and V rows in that order in
 * attn_qkv, biases and the position embedding F32, the classifier tied,
 * the keys.
 */
static void gpt2(void)
{
	static const char *const pres[] = { "transformer.", "" };
	char n[96];
	size_t p;
	int k16;

	make_dir();
	for (p = 0; p < ARRAY_SIZE(pres); p++)
		for (k16 = 0; k16 < 2; k16++) {
			bool f16 = k16;
			const char *pre = pres[p];
			struct llm_mapped_file f;
			struct llm_arena a;
			struct llm_gguf g;

			gpt2_list(pre, p == 1);
			gpt2_config("");
			write_list(false, val2);
			if (!convert(f16, &f, &g, &a))
				continue;
			expect_arch(&g, "gpt2");
#define HF(x) (snprintf(n, sizeof(n), "%s%s", pre, x), n)
			expect(&g, "token_embd.weight", f16, true, DIM, 259, 0,
			       SAME, HF("wte.weight"));
			expect(&g, "position_embd.weight", f16, false, DIM, 64, 0,
			       SAME, HF("wpe.weight"));
			expect(&g, "output_norm.weight", f16, false, DIM, 0, 0,
			       SAME, HF("ln_f.weight"));
			expect(&g, "output_norm.bias", f16, false, DIM, 0, 0,
			       SAME, HF("ln_f.bias"));
			expect(&g, "blk.0.attn_norm.weight", f16, false, DIM, 0, 0,
			       SAME, HF("h.0.ln_1.weight"));
			expect(&g, "blk.0.attn_norm.bias", f16, false, DIM, 0, 0,
			       SAME, HF("h.0.ln_1.bias"));
			/* row r of attn_qkv is column r of c_attn: Q, K, V */
			expect(&g, "blk.0.attn_qkv.weight", f16, true, DIM,
			       3 * DIM, 0, TRANSPOSED, HF("h.0.attn.c_attn.weight"));
			expect(&g, "blk.0.attn_qkv.bias", f16, false, 3 * DIM, 0,
			       0, SAME, HF("h.0.attn.c_attn.bias"));
			expect(&g, "blk.0.attn_output.weight", f16, true, DIM, DIM,
			       0, TRANSPOSED, HF("h.0.attn.c_proj.weight"));
			expect(&g, "blk.0.attn_output.bias", f16, false, DIM, 0,
			       0, SAME, HF("h.0.attn.c_proj.bias"));
			expect(&g, "blk.0.ffn_norm.weight", f16, false, DIM, 0, 0,
			       SAME, HF("h.0.ln_2.weight"));
			expect(&g, "blk.0.ffn_norm.bias", f16, false, DIM, 0, 0,
			       SAME, HF("h.0.ln_2.bias"));
			expect(&g, "blk.0.ffn_up.weight", f16, true, DIM, 4 * DIM,
			       0, TRANSPOSED, HF("h.0.mlp.c_fc.weight"));
			expect(&g, "blk.0.ffn_up.bias", f16, false, 4 * DIM, 0, 0,
			       SAME, HF("h.0.mlp.c_fc.bias"));
			expect(&g, "blk.0.ffn_down.weight", f16, true, 4 * DIM,
			       DIM, 0, TRANSPOSED, HF("h.0.mlp.c_proj.weight"));
			expect(&g, "blk.0.ffn_down.bias", f16, false, DIM, 0, 0,
			       SAME, HF("h.0.mlp.c_proj.bias"));
#undef HF
			CHECK_EQ(g.n_tensors, 16);	/* no output.weight: tied */
			expect_u32(&g, "gpt2.block_count", LAYERS);
			expect_u32(&g, "gpt2.context_length", 64);
			expect_u32(&g, "gpt2.embedding_length", DIM);
			expect_u32(&g, "gpt2.feed_forward_length", 4 * DIM);
			expect_u32(&g, "gpt2.attention.head_count", HEADS);
			CHECK(llm_gguf_find(&g, "gpt2.attention.layer_norm_epsilon"));
			CHECK(!llm_gguf_find(&g, "gpt2.attention.head_count_kv"));
			/* tokenizer_config's BOS and EOS win over config.json's */
			expect_u32(&g, "tokenizer.ggml.bos_token_id", 257);
			llm_unmap_file(&f);
		}
	remove_dir();
}

/* 6. What the new architectures refuse, and the sentence. */
static void arch_refusals(void)
{
	char err[512];
	int i;

	make_dir();
	for (i = 0; i < 11; i++) {
		const char *why = "";

		switch (i) {
		case 0:
			qwen_list(2);
			qwen_config(2, ", \"use_sliding_window\": true");
			why = "sliding-window attention (use_sliding_window)";
			break;
		case 1:
			qwen_list(2);
			qwen_config(2, ", \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0}");
			why = "rope_scaling of type yarn is not supported for this architecture";
			break;
		case 2:
			qwen_list(3);
			qwen_config(3, ", \"attention_bias\": true");
			why = "biases (attention_bias, mlp_bias) are not supported for qwen3";
			break;
		case 3:
			qwen_list(4);
			qwen_config(4, "");
			put("config.json", "{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"hidden_size\": 8, \"intermediate_size\": 16, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"head_dim\": 8, \"num_experts\": 3, \"num_experts_per_tok\": 2, \"moe_intermediate_size\": 4}");
			why = "norm_topk_prob false";
			break;
		case 4:
			qwen_list(4);
			put("config.json", "{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"hidden_size\": 8, \"intermediate_size\": 16, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"head_dim\": 8, \"num_experts\": 3, \"num_experts_per_tok\": 2, \"moe_intermediate_size\": 4, \"norm_topk_prob\": true, \"mlp_only_layers\": [0]}");
			why = "dense layers among the experts'";
			break;
		case 5:
			qwen_list(4);
			qwen_config(4, "");
			n_list--;	/* expert 2's down_proj */
			why = "tensor model.layers.0.mlp.experts.2.down_proj.weight is missing";
			break;
		case 6:
			gpt2_list("transformer.", false);
			gpt2_config(", \"activation_function\": \"relu\"");
			why = "activation_function relu is not supported";
			break;
		case 7:
			/* c_attn as a Linear would store it, not Conv1D's [in, out] */
			gpt2_list("transformer.", false);
			list[4].rows = 3 * DIM;
			list[4].cols = DIM;
			gpt2_config("");
			why = "tensor transformer.h.0.attn.c_attn.weight is [24, 8]; the configuration makes it [8, 24]";
			break;
		case 8:
			gpt2_list("transformer.", false);
			gpt2_config(", \"quantization_config\": {\"quant_method\": \"gptq\"}");
			why = "quantized checkpoints (quantization_config)";
			break;
		case 9:
			gpt2_list("transformer.", false);
			gpt2_config(", \"scale_attn_by_inverse_layer_idx\": true");
			why = "GPT-2 attention other than scaled";
			break;
		case 10:
			qwen_list(3);
			qwen_config(3, "");
			hft(DIM, DIM, "model.layers.0.mlp.experts.0.gate_proj.weight");
			why = "tensor model.layers.0.mlp.experts.0.gate_proj.weight is not one a qwen3 model has";
			break;
		}
		/* duplicate JSON keys: jansson keeps the last one */
		write_list(false, val2);
		unlink(out);
		err[0] = '\0';
		CHECK(llm_convert_hf(dir, out, false, NULL, err, sizeof(err)) < 0);
		if (!strstr(err, why))
			check_fail(__FILE__, __LINE__, "case %d: '%s', want '%s'",
				   i, err, why);
		CHECK(access(out, F_OK) != 0);
	}
	/* Mistral's sliding window under the context */
	write_config(", \"sliding_window\": 16");
	write_tensors(false, U32_MAX, 0);
	CHECK(llm_convert_hf(dir, out, false, NULL, err, sizeof(err)) < 0);
	CHECK(strstr(err, "sliding-window attention (sliding_window 16, under the context of 64)"));
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
	RUN(qwen);
	RUN(gpt2);
	RUN(arch_refusals);
	free(region);
	return check_done();
}
