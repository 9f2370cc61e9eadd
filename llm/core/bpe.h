/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Byte-level BPE (GGUF tokenizer.ggml.model = "gpt2"), as GPT-2, Llama 3
 * and Qwen2/3 tokenize: the text is split into words by the family's
 * pre-tokenizer (tokenizer.ggml.pre), each word's bytes become the
 * vocabulary's byte symbols (GPT-2's bytes_to_unicode: a printable
 * character per byte), and adjacent symbols are merged by the rank of
 * their pair in tokenizer.ggml.merges, lowest first, leftmost on a tie.
 * Token texts map back to bytes through the same table.  Special tokens
 * in the text are plain text.  Integer only.
 */
#ifndef LLM_BPE_H
#define LLM_BPE_H

#include "tokenizer.h"

/* tokenizer.ggml.pre values this engine splits text for */
enum llm_bpe_pre {
	LLM_PRE_GPT2 = 1,	/* "gpt-2" and its kin */
	LLM_PRE_LLAMA3,		/* "llama-bpe", "llama3" */
	LLM_PRE_QWEN2,		/* "qwen2" */
};

/* Add the merges, byte symbols and pre-tokenizer to a gpt2 vocabulary. */
int llm_bpe_load(struct llm_vocab *v, const struct llm_gguf *g,
		 struct llm_arena *arena, char *err, size_t errlen);

/*
 * The end of the word that starts at code point @i of @cp (@n of them),
 * as pre-tokenizer @pre splits: always past @i.
 */
u32 llm_bpe_pretok(u32 pre, const u32 *cp, u32 n, u32 i);

/* The code point byte @b is written as (GPT-2's bytes_to_unicode). */
u32 llm_bpe_byte_symbol(u32 b);

u64 llm_bpe_scratch_bytes(u32 len);
int llm_bpe_tokenize(const struct llm_vocab *v, const char *text, u32 len,
		     bool add_bos, u32 *out, u32 cap, void *scratch,
		     u64 scratch_bytes);
/* Token @tok's bytes (its text through the byte table) into @out. */
u32 llm_bpe_token_text(const struct llm_vocab *v, u32 tok, char *out,
		       u32 cap);

#endif /* LLM_BPE_H */
