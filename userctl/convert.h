/* SPDX-License-Identifier: GPL-2.0 */
/*
 * llama2.c checkpoint and tokenizer to a llama-architecture GGUF, written
 * the way llama.cpp's examples/convert-llama2c-to-ggml writes it: the same
 * keys in the same order, the same tensor names, order and F32 data.  Used
 * by `llmctl convert llama2c` and by the tests.
 *
 * The one deliberate difference: llama.context_length is the checkpoint's
 * seq_len (llama.cpp writes its own n_ctx setting there, not the model's).
 */
#ifndef LLMCTL_CONVERT_H
#define LLMCTL_CONVERT_H

#include <stdbool.h>
#include <stddef.h>

#include "gguf_writer.h"

/* What a llama2.c checkpoint's header says, once checked. */
struct llm_l2c_config {
	u32 dim;
	u32 hidden_dim;
	u32 n_layers;
	u32 n_heads;
	u32 n_kv_heads;
	u32 n_vocab;
	u32 seq_len;
	bool shared_cls;	/* no classifier in the file: output = embedding */
};

struct llm_convert_stats {
	struct llm_l2c_config cfg;
	u32 n_tensors;
	u64 bytes_in;		/* checkpoint plus tokenizer */
	u64 bytes_out;		/* the GGUF file */
};

/*
 * Add to @w (a new, empty, checked writer) the keys and tensors of the GGUF
 * for the checkpoint image @ckpt (@ckpt_len bytes) and the tokenizer image
 * @tok (@tok_len bytes).  The tensors point into @ckpt, which must stay
 * valid until @w is written.  @st may be NULL.
 *
 * Return: 0, -EINVAL when an input is malformed or does not match the
 * other, -ENOMEM; on error a sentence in @err.
 */
int llm_convert_llama2c(struct llm_gguf_writer *w, const void *ckpt,
			u64 ckpt_len, const void *tok, u64 tok_len,
			struct llm_convert_stats *st, char *err, size_t errlen);

/*
 * The same from files, written to @out_path (which must not be one of the
 * inputs).  Return as above, or a negative errno from the file system.
 */
int llm_convert_llama2c_file(const char *ckpt_path, const char *tok_path,
			     const char *out_path,
			     struct llm_convert_stats *st, char *err,
			     size_t errlen);

#endif /* LLMCTL_CONVERT_H */
