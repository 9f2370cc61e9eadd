/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GGUF -> GGUF with the weight matrices quantized, with the reference
 * quantizers (the same bytes as ggml's).  Used by `llmctl quantize` and by
 * the tests.
 *
 * Targets: a type, Q8_0 or Q4_0, for every matrix: a tensor of two or
 * more dimensions (trailing 1s not counted) whose rows are a multiple of
 * 32 elements.  Or one of llama.cpp's K-quant mixes, Q4_K_M, Q5_K_M and
 * Q6_K, with its tensor types chosen as llama.cpp's quantizer chooses them
 * (quantize.c: q_type()): every 2-D "...weight" but the norms, in the
 * base type, the classifier in Q6_K, attn_v and ffn_down of some layers
 * in Q6_K.  F32 and F16 tensors are quantized (F16 through F32); a tensor
 * already of its type is copied; one of another quantized type is refused
 * unless LLM_QUANTIZE_REQUANTIZE is given, which dequantizes and quantizes
 * it again (with a loss).  Every other tensor is copied as it is.
 *
 * Every key/value pair is copied in order, except general.file_type and
 * general.quantization_version, which are set last (2, then llama.cpp's
 * file type: 7 for Q8_0, 2 for Q4_0, 15, 17 and 18 for the mixes), as
 * llama.cpp's quantizer does.
 */
#ifndef LLMCTL_QUANTIZE_H
#define LLMCTL_QUANTIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "gguf_writer.h"

/* Quantize tensors that are already quantized to another type. */
#define LLM_QUANTIZE_REQUANTIZE		(1u << 0)

/* The K-quant mixes: 0x100 + llama.cpp's LLAMA_FTYPE_MOSTLY_* number. */
#define LLM_QUANT_Q4_K_M		0x10f
#define LLM_QUANT_Q5_K_M		0x111
#define LLM_QUANT_Q6_K			0x112

/* llama.cpp's general.quantization_version (GGML_QNT_VERSION). */
#define LLM_QUANTIZATION_VERSION	2

struct llm_quantize_stats {
	u32 n_quantized;	/* written in the target type from F32/F16 */
	u32 n_requantized;	/* from the other quantized type */
	u32 n_kept;		/* copied as they were */
	u64 bytes_in;		/* the input file */
	u64 bytes_out;		/* the output file */
};

/* llama.cpp's general.file_type for target @target; 0 if none. */
u32 llm_quantize_file_type(u32 target);

/*
 * Add to @w (a new, empty, checked writer) the keys and tensors of @in
 * with its weights quantized to @target (LLM_T_Q8_0, LLM_T_Q4_0 or an
 * LLM_QUANT_* mix).  The
 * quantized data goes into one buffer returned in *@buf, which the caller
 * frees after @w is written; kept tensors point into @in's image.  @st may
 * be NULL (bytes_in, bytes_out: the image and @w's size).
 *
 * Return: 0, -EINVAL for a type that is not a target, a tensor that may
 * not be requantized or one a mix would store in a type the engine does
 * not run (llama.cpp's Q5_0 and Q5_1 fallbacks), -ENOMEM; on error a
 * sentence in @err.
 */
int llm_quantize_gguf(struct llm_gguf_writer *w, const struct llm_gguf *in,
		      u32 target, unsigned int flags, void **buf,
		      struct llm_quantize_stats *st, char *err, size_t errlen);

/*
 * The same from file @in_path to file @out_path (which must not be the
 * input).  Return as above, or a negative errno from parsing @in_path or
 * from the file system.
 */
int llm_quantize_file(const char *in_path, const char *out_path, u32 type,
		      unsigned int flags, struct llm_quantize_stats *st,
		      char *err, size_t errlen);

#endif /* LLMCTL_QUANTIZE_H */
