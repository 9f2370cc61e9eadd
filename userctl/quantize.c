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

/* Rows are quantized in blocks of 32 for both target types. */
#define Q_BLOCK			32

enum q_action {
	Q_KEEP,			/* copied as it is */
	Q_QUANTIZE,		/* F32/F16 -> the target type */
	Q_REQUANTIZE,		/* the other quantized type -> the target */
};

u32 llm_quantize_file_type(u32 type)
{
	switch (type) {
	case LLM_T_Q8_0:
		return LLM_FTYPE_MOSTLY_Q8_0;
	case LLM_T_Q4_0:
		return LLM_FTYPE_MOSTLY_Q4_0;
	default:
		return 0;
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

static enum q_action q_decide(const struct llm_gguf_tensor *t, u32 type)
{
	if (q_n_dims(t) < 2 || !t->ne[0] || t->ne[0] % Q_BLOCK ||
	    t->type == type)
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
		if (type == LLM_T_Q8_0)
			llm_quantize_row_q8_0_ref(row, (void *)out, n);
		else
			llm_quantize_row_q4_0_ref(row, (void *)out, n);
	}
}

int llm_quantize_gguf(struct llm_gguf_writer *w, const struct llm_gguf *in,
		      u32 type, unsigned int flags, void **buf,
		      struct llm_quantize_stats *st, char *err, size_t errlen)
{
	struct llm_quantize_stats s = { .bytes_in = in->len };
	u64 total = 0, max_row = 0, size, i;
	float *row = NULL;
	void *raw = NULL;
	u8 *data = NULL;
	int ret;

	*buf = NULL;
	if (!llm_quantize_file_type(type)) {
		snprintf(err, errlen, "cannot quantize to %s: only Q8_0 and Q4_0",
			 llm_type_name(type) ? llm_type_name(type) : "?");
		return -EINVAL;
	}
	for (i = 0; i < in->n_tensors; i++) {
		const struct llm_gguf_tensor *t = &in->tensors[i];
		enum q_action a = q_decide(t, type);

		if (a == Q_REQUANTIZE && !(flags & LLM_QUANTIZE_REQUANTIZE)) {
			snprintf(err, errlen,
				 "tensor '%.*s' is already %s; quantizing it again to %s loses precision (allow it with --allow-requantize)",
				 (int)min(t->name.len, (u64)128), t->name.p,
				 llm_type_name(t->type), llm_type_name(type));
			return -EINVAL;
		}
		if (a == Q_KEEP)
			continue;
		if (llm_type_row_bytes(type, t->ne[0], &size) ||
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

	ret = q_keys(w, in, type);
	for (i = 0, total = 0; i < in->n_tensors && !ret; i++) {
		struct llm_gguf_tensor t = in->tensors[i];
		enum q_action a = q_decide(&t, type);

		if (a == Q_KEEP) {
			s.n_kept++;
			ret = llm_gguf_writer_copy_tensor(w, &t);
			continue;
		}
		q_tensor(&t, type, data + total, row, raw);
		if (a == Q_QUANTIZE)
			s.n_quantized++;
		else
			s.n_requantized++;
		llm_type_row_bytes(type, t.ne[0], &size);
		t.type = type;
		t.nbytes = size * (t.n_elems / t.ne[0]);
		t.data = data + total;
		total += t.nbytes;
		ret = llm_gguf_writer_copy_tensor(w, &t);
	}
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
