// SPDX-License-Identifier: GPL-2.0
/*
 * GGUF quantizer.  See quantize.h.
 *
 * Two passes over the tensors: the first decides what happens to each one
 * and adds up the bytes the quantized data will take, so that one buffer
 * holds all of it; the second quantizes row by row (each row copied to an
 * aligned float buffer first: the image promises no alignment) and adds
 * the tensors to the writer in their input order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quantize.h"
#include "modelfile.h"
#include "../arena/arena.h"
#include "../quant/kernels.h"

/* llama.cpp's enum llama_ftype values for the files we write. */
#define LLM_FTYPE_MOSTLY_Q4_0	2
#define LLM_FTYPE_MOSTLY_Q8_0	7

/* Rows are quantized in blocks of 32 for both plain target types. */
#define Q_BLOCK			32

enum q_action {
	Q_KEEP,			/* copied as it is */
	Q_QUANTIZE,		/* F32/F16 -> the target type */
	Q_REQUANTIZE,		/* the other quantized type -> the target */
};

static bool q_is_mix(u32 target)
{
	return target == LLM_QUANT_Q4_K_M || target == LLM_QUANT_Q5_K_M ||
	       target == LLM_QUANT_Q6_K;
}

u32 llm_quantize_file_type(u32 target)
{
	switch (target) {
	case LLM_T_Q8_0:
		return LLM_FTYPE_MOSTLY_Q8_0;
	case LLM_T_Q4_0:
		return LLM_FTYPE_MOSTLY_Q4_0;
	default:
		return q_is_mix(target) ? target & 0xff : 0;
	}
}

/* Dimensions as ggml_n_dims() counts them: trailing 1s left out. */
static u32 q_n_dims(const struct llm_gguf_tensor *t)
{
	u32 n = t->n_dims;

	while (n > 1 && t->ne[n - 1] == 1)
		n--;
	return n;
}

static bool q_contains(struct llm_gguf_str s, const char *needle)
{
	size_t n = strlen(needle);
	u64 i;

	for (i = 0; i + n <= s.len; i++)
		if (!memcmp(s.p + i, needle, n))
			return true;
	return false;
}

/*
 * How llama.cpp's quantizer mixes types (llama_tensor_get_type() for
 * Q4_K_M, Q5_K_M and Q6_K): the base type everywhere, but the classifier
 * (and the embedding table when it is also the classifier) Q6_K, and in
 * Q4_K_M and Q5_K_M the attn_v (or fused attn_qkv) and ffn_down of the
 * layers use_more_bits() picks Q6_K.  Models of exactly 8 experts get
 * attn_k and attn_v in Q8_0 and, in Q4_K_M, attn_output in Q5_K.
 * Counters follow the tensors' order, as llama.cpp's do.
 */
struct q_mix {
	u32 target;
	u32 base;
	bool tied;
	u32 n_expert;
	u32 n_attn_v, i_attn_v;
	u32 n_ffn_down, i_ffn_down;
};

/* Tensors llama.cpp never quantizes: norms, routers, learned positions. */
static bool q_never(struct llm_gguf_str n)
{
	return q_contains(n, "_norm.weight") ||
	       q_contains(n, "ffn_gate_inp.weight") ||
	       llm_gguf_str_eq(n, "position_embd.weight");
}

static bool q_is_attn_v(struct llm_gguf_str n)
{
	return q_contains(n, "attn_v.weight") ||
	       q_contains(n, "attn_qkv.weight");
}

static bool q_is_ffn_down(struct llm_gguf_str n)
{
	return q_contains(n, "ffn_down") && n.len >= 6 &&
	       !memcmp(n.p + n.len - 6, "weight", 6);
}

static bool q_more_bits(u32 i, u32 n)
{
	return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static void q_mix_init(struct q_mix *mx, const struct llm_gguf *in,
		       u32 target)
{
	struct llm_gguf_str arch;
	u64 i;

	memset(mx, 0, sizeof(*mx));
	mx->target = target;
	mx->base = target == LLM_QUANT_Q4_K_M ? LLM_T_Q4_K :
		   target == LLM_QUANT_Q5_K_M ? LLM_T_Q5_K :
		   target == LLM_QUANT_Q6_K ? LLM_T_Q6_K : target;
	mx->tied = !llm_gguf_find_tensor(in, "output.weight");
	if (!llm_gguf_get_str(in, "general.architecture", &arch) &&
	    arch.len < 32) {
		char key[64];

		snprintf(key, sizeof(key), "%.*s.expert_count", (int)arch.len,
			 arch.p);
		if (llm_gguf_get_u32(in, key, &mx->n_expert))
			mx->n_expert = 0;
	}
	for (i = 0; i < in->n_tensors; i++) {
		mx->n_attn_v += q_is_attn_v(in->tensors[i].name);
		mx->n_ffn_down += q_is_ffn_down(in->tensors[i].name);
	}
}

/*
 * The type tensor @t is written in, or 0 (LLM_T_F32) with a sentence in
 * @err when a mix would need a type the engine does not run.
 */
static int q_type(struct q_mix *mx, const struct llm_gguf_tensor *t,
		  u32 *type, char *err, size_t errlen)
{
	struct llm_gguf_str n = t->name;
	u32 ty = mx->base;

	*type = t->type;
	if (q_never(n))
		return 0;
	if (!q_is_mix(mx->target)) {
		if (q_n_dims(t) >= 2 && t->ne[0] && !(t->ne[0] % Q_BLOCK))
			*type = mx->target;
		return 0;
	}
	/* llama.cpp quantizes 2-D "...weight" tensors but the above */
	if (q_n_dims(t) < 2 || n.len < 6 ||
	    memcmp(n.p + n.len - 6, "weight", 6))
		return 0;
	if (llm_gguf_str_eq(n, "output.weight") ||
	    (mx->tied && llm_gguf_str_eq(n, "token_embd.weight"))) {
		ty = t->ne[0] % LLM_QK_K ? LLM_T_Q8_0 : LLM_T_Q6_K;
	} else if (q_is_attn_v(n)) {
		if (mx->target != LLM_QUANT_Q6_K &&
		    q_more_bits(mx->i_attn_v, mx->n_attn_v))
			ty = LLM_T_Q6_K;
		if (mx->n_expert == 8)
			ty = LLM_T_Q8_0;
		mx->i_attn_v++;
	} else if (q_contains(n, "attn_k.weight") && mx->n_expert == 8) {
		ty = LLM_T_Q8_0;
	} else if (q_contains(n, "attn_output.weight") && mx->n_expert == 8) {
		if (mx->target == LLM_QUANT_Q4_K_M)
			ty = LLM_T_Q5_K;
	} else if (q_is_ffn_down(n)) {
		if (mx->target != LLM_QUANT_Q6_K &&
		    q_more_bits(mx->i_ffn_down, mx->n_ffn_down))
			ty = LLM_T_Q6_K;
		mx->i_ffn_down++;
	}
	if (llm_type_is_k(ty) && t->ne[0] % LLM_QK_K) {
		if (ty != LLM_T_Q6_K) {
			snprintf(err, errlen,
				 "tensor '%.*s' has rows of %llu elements, not a multiple of 256: llama.cpp would store it as %s, a type this engine does not run",
				 (int)min(n.len, (u64)128), n.p,
				 (unsigned long long)t->ne[0],
				 ty == LLM_T_Q4_K ? "Q5_0" : "Q5_1");
			return -EINVAL;
		}
		ty = LLM_T_Q8_0;
	}
	*type = ty;
	return 0;
}

static enum q_action q_decide(const struct llm_gguf_tensor *t, u32 type)
{
	if (t->type == type)
		return Q_KEEP;
	if (t->type == LLM_T_F32 || t->type == LLM_T_F16)
		return Q_QUANTIZE;
	return Q_REQUANTIZE;
}

static bool q_is_set_last(const struct llm_gguf_kv *kv)
{
	return llm_gguf_str_eq(kv->key, "general.file_type") ||
	       llm_gguf_str_eq(kv->key, "general.quantization_version");
}

static int q_keys(struct llm_gguf_writer *w, const struct llm_gguf *in,
		  u32 type)
{
	u64 i;
	int ret = 0;

	for (i = 0; i < in->n_kv && !ret; i++)
		if (!q_is_set_last(&in->kv[i]))
			ret = llm_gguf_writer_copy_kv(w, &in->kv[i]);
	if (!ret)
		ret = llm_gguf_writer_add_u32(w, "general.quantization_version",
					      LLM_QUANTIZATION_VERSION);
	if (!ret)
		ret = llm_gguf_writer_add_u32(w, "general.file_type",
					      llm_quantize_file_type(type));
	return ret;
}

/* One row of @n floats in @type. */
static void q_row(u32 type, const float *row, void *out, u64 n)
{
	switch (type) {
	case LLM_T_Q8_0:
		llm_quantize_row_q8_0_ref(row, out, n);
		break;
	case LLM_T_Q4_0:
		llm_quantize_row_q4_0_ref(row, out, n);
		break;
	case LLM_T_Q4_K:
		llm_quantize_row_q4_k_ref(row, out, n);
		break;
	case LLM_T_Q5_K:
		llm_quantize_row_q5_k_ref(row, out, n);
		break;
	default:
		llm_quantize_row_q6_k_ref(row, out, n);
		break;
	}
}

/* Quantize @t's rows into @out; @row and @raw hold one row each. */
static void q_tensor(const struct llm_gguf_tensor *t, u32 type, u8 *out,
		     float *row, void *raw)
{
	u64 n = t->ne[0], rows = t->n_elems / n, row_in, row_out, r;
	const u8 *in = t->data;

	/* both fit: the parser and the first pass computed them */
	llm_type_row_bytes(t->type, n, &row_in);
	llm_type_row_bytes(type, n, &row_out);
	for (r = 0; r < rows; r++, in += row_in, out += row_out) {
		if (t->type == LLM_T_F32) {
			memcpy(row, in, row_in);
		} else {
			memcpy(raw, in, row_in);
			llm_dequantize_row_ref(t->type, raw, row, n);
		}
		q_row(type, row, out, n);
	}
}

int llm_quantize_gguf(struct llm_gguf_writer *w, const struct llm_gguf *in,
		      u32 target, unsigned int flags, void **buf,
		      struct llm_quantize_stats *st, char *err, size_t errlen)
{
	struct llm_quantize_stats s = { .bytes_in = in->len };
	u64 total = 0, max_row = 0, size, i;
	u32 *types = NULL;
	struct q_mix mx;
	float *row = NULL;
	void *raw = NULL;
	u8 *data = NULL;
	int ret;

	*buf = NULL;
	if (!llm_quantize_file_type(target)) {
		snprintf(err, errlen, "cannot quantize to %s: only Q8_0, Q4_0 and the mixes Q4_K_M, Q5_K_M and Q6_K",
			 llm_type_name(target));
		return -EINVAL;
	}
	q_mix_init(&mx, in, target);
	types = malloc((in->n_tensors ? in->n_tensors : 1) * sizeof(*types));
	if (!types)
		goto oom;
	for (i = 0; i < in->n_tensors; i++) {
		const struct llm_gguf_tensor *t = &in->tensors[i];
		enum q_action a;

		ret = q_type(&mx, t, &types[i], err, errlen);
		if (ret) {
			free(types);
			return ret;
		}
		a = q_decide(t, types[i]);
		if (a == Q_REQUANTIZE && !(flags & LLM_QUANTIZE_REQUANTIZE)) {
			snprintf(err, errlen,
				 "tensor '%.*s' is already %s; quantizing it again to %s loses precision (allow it with --allow-requantize)",
				 (int)min(t->name.len, (u64)128), t->name.p,
				 llm_type_name(t->type), llm_type_name(types[i]));
			free(types);
			return -EINVAL;
		}
		if (a == Q_KEEP)
			continue;
		if (llm_type_row_bytes(types[i], t->ne[0], &size) ||
		    check_mul_overflow(size, t->n_elems / t->ne[0], &size) ||
		    check_add_overflow(total, size, &total) ||
		    total > SIZE_MAX)
			goto oom;
		max_row = max(max_row, t->ne[0]);
	}
	if (max_row > SIZE_MAX / sizeof(float))
		goto oom;
	data = malloc(total ? total : 1);
	row = malloc(max_row ? max_row * sizeof(float) : 1);
	raw = malloc(max_row ? max_row * sizeof(float) : 1);
	if (!data || !row || !raw)
		goto oom;

	ret = q_keys(w, in, target);
	for (i = 0, total = 0; i < in->n_tensors && !ret; i++) {
		struct llm_gguf_tensor t = in->tensors[i];
		enum q_action a = q_decide(&t, types[i]);

		if (a == Q_KEEP) {
			s.n_kept++;
			ret = llm_gguf_writer_copy_tensor(w, &t);
			continue;
		}
		q_tensor(&t, types[i], data + total, row, raw);
		if (a == Q_QUANTIZE)
			s.n_quantized++;
		else
			s.n_requantized++;
		llm_type_row_bytes(types[i], t.ne[0], &size);
		t.type = types[i];
		t.nbytes = size * (t.n_elems / t.ne[0]);
		t.data = data + total;
		total += t.nbytes;
		ret = llm_gguf_writer_copy_tensor(w, &t);
	}
	free(types);
	free(row);
	free(raw);
	if (ret) {
		free(data);
		snprintf(err, errlen, "%s", llm_gguf_writer_error(w));
		return ret;
	}
	*buf = data;
	s.bytes_out = llm_gguf_writer_size(w);
	if (st)
		*st = s;
	return 0;
oom:
	free(types);
	free(data);
	free(row);
	free(raw);
	snprintf(err, errlen, "out of memory for the quantized tensors");
	return -ENOMEM;
}

/*
 * Arena bytes for parsing @img: its tables, sized from the header's counts
 * bounded by what the file could hold (the parser reports bad counts).
 */
static size_t q_tables_bytes(const u8 *img, u64 len)
{
	u64 n_t, n_kv, rest;

	if (len < 24)
		return 4096;
	rest = len - 24;
	n_t = min(llm_get_le64(img + 8), rest / 33);
	n_kv = min(llm_get_le64(img + 16), rest / 14);
	n_t = min_t(u64, n_t, LLM_GGUF_MAX_ITEMS);
	n_kv = min_t(u64, n_kv, LLM_GGUF_MAX_ITEMS);
	return n_t * (sizeof(struct llm_gguf_tensor) + 8) +
	       n_kv * (sizeof(struct llm_gguf_kv) + 8) + 4096;
}

int llm_quantize_file(const char *in_path, const char *out_path, u32 type,
		      unsigned int flags, struct llm_quantize_stats *st,
		      char *err, size_t errlen)
{
	struct llm_gguf_writer *w = NULL;
	struct llm_mapped_file f;
	struct llm_arena arena;
	struct llm_gguf g;
	void *tables = NULL, *buf = NULL;
	size_t tables_len;
	char why[512];
	int ret;

	if (llm_same_file(in_path, out_path)) {
		snprintf(err, errlen, "%s is the input file", out_path);
		return -EINVAL;
	}
	ret = llm_map_file(&f, in_path, err, errlen);
	if (ret)
		return ret;
	if (!f.len) {
		snprintf(err, errlen, "%s is empty", in_path);
		ret = -EINVAL;
		goto out;
	}
	tables_len = q_tables_bytes(f.data, f.len);
	tables = malloc(tables_len);
	w = llm_gguf_writer_new(0);
	if (!tables || !w) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	llm_arena_init(&arena, tables, tables_len);
	ret = llm_gguf_parse(&g, f.data, f.len, &arena, why, sizeof(why));
	if (!ret)
		ret = llm_quantize_gguf(w, &g, type, flags, &buf, st, why,
					sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s: %s", in_path, why);
		goto out;
	}
	ret = llm_gguf_writer_to_file(w, out_path);
	if (ret)
		snprintf(err, errlen, "%s", llm_gguf_writer_error(w));
out:
	llm_gguf_writer_free(w);
	free(buf);
	free(tables);
	llm_unmap_file(&f);
	return ret;
}
