// SPDX-License-Identifier: GPL-2.0
/*
 * Hugging Face directory to GGUF.  See convert_hf.h.
 *
 * JSON through jansson (Debian's libjansson); safetensors read from the
 * mapped files: a little-endian u64 header length, a JSON header naming
 * each tensor's dtype, shape and [begin, end) offsets, then the data.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert_hf.h"
#include "convert_hf_int.h"

#define fail hf_fail
#include "../llm/core/tokenizer.h"
#include "../quant/kernels.h"

/* The pre-tokenizer expressions tokenizer.json carries, by family. */
static const char re_llama3[] =
	"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char re_qwen2[] =
	"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";


int hf_fail(struct hf *h, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->err, h->errlen, fmt, ap);
	va_end(ap);
	return ret;
}

static json_t *load_json(struct hf *h, const char *name, bool need)
{
	char path[4096];
	json_error_t je;
	json_t *j;
	size_t flags = 0;

	snprintf(path, sizeof(path), "%s/%s", h->dir, name);
	/*
	 * tokenizer_config.json holds no integer we read, and Hugging Face
	 * writes model_max_length as 1e30, beyond what jansson takes as an
	 * integer: read its numbers as reals, or the whole file is lost.
	 */
	if (!need)
		flags = JSON_DECODE_INT_AS_REAL;
	j = json_load_file(path, flags, &je);
	/* an optional file that is there but unreadable is an error too */
	if (!j && (need || access(path, F_OK) == 0)) {
		h->bad_json = true;
		fail(h, -EINVAL, "%s: %s (line %d)", path, je.text, je.line);
	}
	return j;
}

/* A non-negative integer of config.json, or @def when absent (-1: required). */
int hf_get_u32(struct hf *h, const char *key, s64 def, u32 *out)
{
	json_t *v = json_object_get(h->config, key);

	if (!v || json_is_null(v)) {
		if (def < 0)
			return fail(h, -EINVAL, "config.json has no %s", key);
		*out = (u32)def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > U32_MAX)
		return fail(h, -EINVAL, "config.json: %s is not a count", key);
	*out = (u32)json_integer_value(v);
	return 0;
}

/* ---- the tokenizer ---- */

/* The Split pre-tokenizer's regex in tokenizer.json, or NULL. */
static const char *split_regex(json_t *pt)
{
	json_t *seq = json_object_get(pt, "pretokenizers"), *p;
	size_t i;

	if (!seq)
		seq = json_pack("[O]", pt);
	else
		json_incref(seq);
	json_array_foreach(seq, i, p) {
		const char *type = json_string_value(json_object_get(p, "type"));

		if (type && !strcmp(type, "Split")) {
			const char *re = json_string_value(json_object_get(
				json_object_get(p, "pattern"), "Regex"));

			json_decref(seq);
			return re;
		}
	}
	json_decref(seq);
	return NULL;
}

static int detect_pre(struct hf *h, json_t *model)
{
	json_t *pt = json_object_get(h->tok, "pre_tokenizer");
	const char *re = split_regex(pt);
	const char *type = json_string_value(json_object_get(pt, "type"));

	if (json_is_true(json_object_get(model, "byte_fallback")))
		return fail(h, -EINVAL, "tokenizer.json is a SentencePiece-style BPE (byte_fallback); only byte-level BPE is supported");
	if (re && !strcmp(re, re_llama3))
		h->pre = "llama-bpe";
	else if (re && !strcmp(re, re_qwen2))
		h->pre = "qwen2";
	else if (!re && type && !strcmp(type, "ByteLevel") &&
		 json_is_true(json_object_get(pt, "use_regex")))
		h->pre = "gpt-2";
	else
		return fail(h, -EINVAL, "tokenizer.json's pre-tokenizer (%.80s) is not one of Llama 3's, Qwen2's or GPT-2's",
			    re ? re : type ? type : "none");
	return 0;
}

/* A token given as "text" or { "content": "text" } in tokenizer_config.json. */
static const char *token_text(json_t *v)
{
	if (json_is_object(v))
		v = json_object_get(v, "content");
	return json_string_value(v);
}

static u32 find_token(struct hf *h, const char *text)
{
	u32 i, len = text ? strlen(text) : 0;

	for (i = 0; text && i < h->vocab; i++)
		if (h->tokens[i].len == len && !memcmp(h->tokens[i].p, text, len))
			return i;
	return LLM_TOKEN_NONE;
}

/* config.json's @key, when it is a token id */
static u32 config_id(struct hf *h, const char *key)
{
	json_t *v = json_object_get(h->config, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 &&
	       json_integer_value(v) < h->vocab ?
	       (u32)json_integer_value(v) : LLM_TOKEN_NONE;
}

/* Does the post-processor put BOS in front of a single text? */
static bool post_adds(json_t *tok, u32 bos_id)
{
	json_t *pp = json_object_get(tok, "post_processor"), *single, *e, *seq;
	size_t i, j;

	seq = json_object_get(pp, "processors");
	if (!seq)
		seq = json_pack("[O]", pp);
	else
		json_incref(seq);
	json_array_foreach(seq, j, pp) {
		single = json_object_get(pp, "single");
		json_array_foreach(single, i, e) {
			json_t *sp = json_object_get(e, "SpecialToken");

			if (sp && i == 0) {
				json_t *ids = json_object_get(json_object_get(
					json_object_get(pp, "special_tokens"),
					json_string_value(json_object_get(sp, "id"))),
					"ids");

				if (json_integer_value(json_array_get(ids, 0)) ==
				    (json_int_t)bos_id) {
					json_decref(seq);
					return true;
				}
			}
		}
	}
	json_decref(seq);
	return false;
}

static int read_tokenizer(struct hf *h)
{
	json_t *model = json_object_get(h->tok, "model"), *vocab, *merges;
	json_t *added = json_object_get(h->tok, "added_tokens"), *v;
	const char *type = json_string_value(json_object_get(model, "type"));
	const char *key;
	u32 max_id = 0, i;
	size_t k;
	int ret;

	if (!type || strcmp(type, "BPE"))
		return fail(h, -EINVAL, "tokenizer.json's model is %s; only BPE is supported",
			    type ? type : "missing");
	ret = detect_pre(h, model);
	if (ret)
		return ret;
	vocab = json_object_get(model, "vocab");
	merges = json_object_get(model, "merges");
	if (!json_is_object(vocab) || !json_is_array(merges))
		return fail(h, -EINVAL, "tokenizer.json has no vocab or merges");
	json_object_foreach(vocab, key, v)
		max_id = max_t(u32, max_id, json_integer_value(v));
	json_array_foreach(added, k, v)
		max_id = max_t(u32, max_id,
			       json_integer_value(json_object_get(v, "id")));
	/* the classifier's rows: config's vocab_size, or every id */
	h->vocab = max(h->vocab, max_id + 1);
	if (h->vocab > (1u << 24))
		return fail(h, -EINVAL, "a vocabulary of %u tokens is too large",
			    h->vocab);
	h->tokens = calloc(h->vocab, sizeof(*h->tokens));
	h->types = calloc(h->vocab, sizeof(*h->types));
	h->merges = calloc(json_array_size(merges) + 1, sizeof(char *));
	if (!h->tokens || !h->types || !h->merges)
		return fail(h, -ENOMEM, "out of memory for the vocabulary");
	json_object_foreach(vocab, key, v) {
		i = (u32)json_integer_value(v);
		h->tokens[i].p = key;
		h->tokens[i].len = strlen(key);
		h->types[i] = LLM_TOK_NORMAL;
	}
	/* added tokens: special ones are control tokens, others user text */
	json_array_foreach(added, k, v) {
		i = (u32)json_integer_value(json_object_get(v, "id"));
		h->tokens[i].p = json_string_value(json_object_get(v, "content"));
		h->tokens[i].len = h->tokens[i].p ? strlen(h->tokens[i].p) : 0;
		h->types[i] = json_is_true(json_object_get(v, "special")) ?
			      LLM_TOK_CONTROL : LLM_TOK_USER_DEFINED;
	}
	/* ids nothing names: padding, as llama.cpp fills them */
	h->pads = malloc((size_t)h->vocab * 16);
	if (!h->pads)
		return fail(h, -ENOMEM, "out of memory");
	for (i = 0; i < h->vocab; i++) {
		char *pad = h->pads + (size_t)i * 16;

		if (h->tokens[i].p)
			continue;
		h->tokens[i].len = snprintf(pad, 16, "[PAD%u]", i);
		h->tokens[i].p = pad;
		h->types[i] = LLM_TOK_USER_DEFINED;
	}
	json_array_foreach(merges, k, v) {
		char *m = NULL;

		if (json_is_string(v))
			m = strdup(json_string_value(v));
		else if (json_array_size(v) == 2 &&
			 asprintf(&m, "%s %s",
				  json_string_value(json_array_get(v, 0)),
				  json_string_value(json_array_get(v, 1))) < 0)
			m = NULL;
		if (!m)
			return fail(h, -EINVAL, "tokenizer.json: merge %zu is neither \"a b\" nor [a, b]",
				    k);
		h->merges[h->n_merges++] = m;
	}
	/* BOS and EOS from tokenizer_config.json */
	h->bos = find_token(h, token_text(json_object_get(h->tok_cfg,
							  "bos_token")));
	h->eos = find_token(h, token_text(json_object_get(h->tok_cfg,
							  "eos_token")));
	/* else config.json's ids, as llama.cpp's SpecialVocab falls back */
	if (h->bos == LLM_TOKEN_NONE)
		h->bos = config_id(h, "bos_token_id");
	if (h->eos == LLM_TOKEN_NONE)
		h->eos = config_id(h, "eos_token_id");
	v = json_object_get(h->tok_cfg, "add_bos_token");
	h->add_bos = v ? json_is_true(v) :
		     h->bos != LLM_TOKEN_NONE && post_adds(h->tok, h->bos);
	return 0;
}

/* ---- safetensors ---- */

static int read_safetensors(struct hf *h, const char *name)
{
	struct llm_mapped_file *f = &h->files[h->n_files];
	char path[4096];
	json_error_t je;
	json_t *hdr, *v;
	const char *key;
	u64 hlen;
	int ret;

	if (h->n_files == HF_MAX_FILES)
		return fail(h, -E2BIG, "more than %d safetensors files", HF_MAX_FILES);
	snprintf(path, sizeof(path), "%s/%s", h->dir, name);
	ret = llm_map_file(f, path, h->err, h->errlen);
	if (ret)
		return ret;
	h->n_files++;
	if (f->len < 8 || (hlen = llm_get_le64(f->data)) > f->len - 8)
		return fail(h, -EINVAL, "%s: not a safetensors file", path);
	hdr = json_loadb((const char *)f->data + 8, hlen, 0, &je);
	if (!json_is_object(hdr))
		return fail(h, -EINVAL, "%s: header: %s", path, je.text);
	h->headers[h->n_files - 1] = hdr;
	json_object_foreach(hdr, key, v) {
		struct hf_tensor *t;
		json_t *shape = json_object_get(v, "shape");
		json_t *offs = json_object_get(v, "data_offsets");
		const char *dt = json_string_value(json_object_get(v, "dtype"));
		u64 b, e, n = 1, esize;
		size_t d, nd = json_array_size(shape);

		if (!strcmp(key, "__metadata__"))
			continue;
		t = realloc(h->t, (h->n_t + 1) * sizeof(*t));
		if (!t)
			return fail(h, -ENOMEM, "out of memory");
		h->t = t;
		t = &h->t[h->n_t++];
		memset(t, 0, sizeof(*t));
		t->name = key;
		if (!dt || nd < 1 || nd > 4)
			return fail(h, -EINVAL, "%s: tensor %s: no dtype, or %zu dimensions",
				    path, key, nd);
		if (!strcmp(dt, "F32"))
			t->dtype = LLM_T_F32, esize = 4;
		else if (!strcmp(dt, "F16"))
			t->dtype = LLM_T_F16, esize = 2;
		else if (!strcmp(dt, "BF16"))
			t->dtype = HF_BF16, esize = 2;
		else
			return fail(h, -EINVAL, "%s: tensor %s is %s; F32, F16 and BF16 are supported",
				    path, key, dt);
		t->n_dims = nd;
		for (d = 0; d < nd; d++) {
			/* safetensors lists the slowest dimension first */
			t->ne[d] = json_integer_value(json_array_get(shape,
								     nd - 1 - d));
			n *= t->ne[d];
		}
		for (; d < 4; d++)
			t->ne[d] = 1;
		t->n = n;
		b = json_integer_value(json_array_get(offs, 0));
		e = json_integer_value(json_array_get(offs, 1));
		if (e < b || e > f->len - 8 - hlen || e - b != n * esize)
			return fail(h, -EINVAL, "%s: tensor %s's data does not match its shape",
				    path, key);
		t->data = (const u8 *)f->data + 8 + hlen + b;
	}
	return 0;
}

static int read_tensors(struct hf *h)
{
	DIR *d = opendir(h->dir);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return fail(h, -errno, "%s: %s", h->dir, strerror(errno));
	while (!ret && (e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n > 12 && !strcmp(e->d_name + n - 12, ".safetensors"))
			ret = read_safetensors(h, e->d_name);
	}
	closedir(d);
	if (!ret && !h->n_t)
		ret = fail(h, -EINVAL, "%s has no .safetensors file", h->dir);
	return ret;
}

struct hf_tensor *hf_find(struct hf *h, const char *name)
{
	u32 i;

	for (i = 0; i < h->n_t; i++)
		if (!strcmp(h->t[i].name, name))
			return &h->t[i];
	return NULL;
}

/* Element @i of @t as a float. */
float hf_elem(const struct hf_tensor *t, u64 i)
{
	u16 v;
	u32 b;
	float f;

	if (t->dtype == LLM_T_F32) {
		memcpy(&f, t->data + 4 * i, 4);
		return f;
	}
	memcpy(&v, t->data + 2 * i, 2);
	if (t->dtype == LLM_T_F16)
		return llm_fp16_to_fp32(v);
	b = (u32)v << 16;
	memcpy(&f, &b, 4);
	return f;
}

void *hf_buf(struct hf *h, size_t n)
{
	void *buf = malloc(n ? n : 1), **bufs;

	bufs = realloc(h->bufs, (h->n_bufs + 1) * sizeof(*bufs));
	if (!buf || !bufs) {
		free(buf);
		fail(h, -ENOMEM, "out of memory");
		return NULL;
	}
	h->bufs = bufs;
	h->bufs[h->n_bufs++] = buf;
	return buf;
}

/* ---- the file ---- */

static int add_keys(struct hf *h, struct llm_gguf_writer *w, bool f16)
{
	const char *name = strrchr(h->dir, '/');
	json_t *tmpl = json_object_get(h->tok_cfg, "chat_template");
	int ret;

	name = name && name[1] ? name + 1 : h->dir;
	ret = llm_gguf_writer_add_str(w, "general.architecture",
				      hf_arch_name(h));
	if (!ret)
		ret = llm_gguf_writer_add_str(w, "general.name", name);
	if (!ret)
		ret = hf_add_arch_keys(h, w, f16);
	if (!ret)
		ret = llm_gguf_writer_add_str(w, "tokenizer.ggml.model", "gpt2");
	if (!ret)
		ret = llm_gguf_writer_add_str(w, "tokenizer.ggml.pre", h->pre);
	if (!ret)
		ret = llm_gguf_writer_add_arr_strn(w, "tokenizer.ggml.tokens",
						   h->tokens, h->vocab);
	if (!ret)
		ret = llm_gguf_writer_add_arr(w, "tokenizer.ggml.token_type",
					      LLM_GGUF_I32, h->types, h->vocab);
	if (!ret)
		ret = llm_gguf_writer_add_arr_str(w, "tokenizer.ggml.merges",
						  (const char *const *)h->merges,
						  h->n_merges);
	if (!ret && h->bos != LLM_TOKEN_NONE)
		ret = llm_gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id",
					      h->bos);
	if (!ret && h->eos != LLM_TOKEN_NONE)
		ret = llm_gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id",
					      h->eos);
	if (!ret)
		ret = llm_gguf_writer_add_bool(w, "tokenizer.ggml.add_bos_token",
					       h->add_bos);
	if (!ret && json_is_string(tmpl))
		ret = llm_gguf_writer_add_str(w, "tokenizer.chat_template",
					      json_string_value(tmpl));
	return ret ? fail(h, ret, "%s", llm_gguf_writer_error(w)) : 0;
}

static void hf_free(struct hf *h)
{
	u32 i;

	for (i = 0; i < h->n_bufs; i++)
		free(h->bufs[i]);
	free(h->bufs);
	for (i = 0; h->merges && i < h->n_merges; i++)
		free(h->merges[i]);
	free(h->merges);
	free(h->pads);
	free(h->rope_factors);
	free(h->tokens);
	free(h->types);
	free(h->t);
	for (i = 0; i < h->n_files; i++) {
		json_decref(h->headers[i]);
		llm_unmap_file(&h->files[i]);
	}
	json_decref(h->config);
	json_decref(h->tok);
	json_decref(h->tok_cfg);
}

int llm_convert_hf(const char *dir, const char *out_path, bool f16,
		   struct llm_convert_hf_stats *st, char *err, size_t errlen)
{
	struct hf h = { .dir = dir, .err = err, .errlen = errlen };
	struct llm_gguf_writer *w = llm_gguf_writer_new(0);
	int ret = -EINVAL;

	if (!w)
		return fail(&h, -ENOMEM, "out of memory");
	h.config = load_json(&h, "config.json", true);
	if (h.config)
		h.tok = load_json(&h, "tokenizer.json", true);
	if (h.tok)
		h.tok_cfg = load_json(&h, "tokenizer_config.json", false);
	if (h.tok && !h.bad_json)
		ret = hf_read_config(&h);
	if (!ret)
		ret = read_tokenizer(&h);
	if (!ret)
		ret = read_tensors(&h);
	if (!ret)
		ret = add_keys(&h, w, f16);
	if (!ret)
		ret = hf_add_tensors(&h, w, f16);
	if (!ret) {
		ret = llm_gguf_writer_to_file(w, out_path);
		if (ret)
			fail(&h, ret, "%s", llm_gguf_writer_error(w));
	}
	if (!ret && st) {
		st->arch = hf_arch_name(&h);
		st->pre = h.pre;
		st->n_vocab = h.vocab;
		st->n_merges = h.n_merges;
		st->n_tensors = h.n_bufs;
		st->bytes_out = llm_gguf_writer_size(w);
	}
	llm_gguf_writer_free(w);
	hf_free(&h);
	return ret;
}
