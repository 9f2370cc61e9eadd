/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SentencePiece-style BPE over a GGUF vocabulary (tokenizer.ggml.model =
 * "llama"): pieces with scores, byte fallback through <0xXX> tokens, and
 * the leading-space convention (a space is U+2581 "▁" inside pieces, and
 * each text gets one in front).
 *
 * Integer only: scores are compared through an order-preserving integer
 * key made from their IEEE bits, so this builds as a non-FPU object.
 */
#ifndef LLM_TOKENIZER_H
#define LLM_TOKENIZER_H

#include "platform.h"
#include "gguf.h"
#include "../../arena/arena.h"

/* tokenizer.ggml.token_type values */
enum llm_token_type {
	LLM_TOK_UNDEFINED = 0,
	LLM_TOK_NORMAL = 1,
	LLM_TOK_UNKNOWN = 2,
	LLM_TOK_CONTROL = 3,
	LLM_TOK_USER_DEFINED = 4,
	LLM_TOK_UNUSED = 5,
	LLM_TOK_BYTE = 6,
};

#define LLM_TOKEN_NONE	U32_MAX
/*
 * The longest piece a vocabulary may have (real ones stay under 256
 * bytes): one generated token's text must fit the buffers it passes
 * through on its way out.
 */
#define LLM_TOKEN_MAX_BYTES	1024

struct llm_token {
	const char *text;	/* view into the GGUF image */
	u32 len;
	u32 score_key;		/* order-preserving key of the float score */
	u8 type;		/* enum llm_token_type */
	u8 byte;		/* for LLM_TOK_BYTE: the byte it stands for */
};

/* A merge of byte-level BPE (bpe.h): pair (left, right) -> result. */
struct llm_merge {
	u32 left, right;	/* token ids; left = LLM_TOKEN_NONE: empty */
	u32 rank;
	u32 result;
};

struct llm_vocab {
	u32 n;
	bool bpe;		/* byte-level BPE (bpe.h), not SentencePiece */
	u8 pre;			/* BPE: enum llm_bpe_pre */
	bool ignore_merges;	/* BPE: a word in the vocabulary is one token */
	struct llm_merge *merges;	/* BPE: open addressing */
	u32 merges_mask;
	struct llm_token *tok;
	u32 *hash;		/* open addressing: token id + 1, 0 = empty */
	u32 hash_mask;
	/* token of each byte (BPE: of its symbol), LLM_TOKEN_NONE if none */
	u32 byte_tok[256];
	u32 bos, eos, unk;
	u32 eot;		/* end of turn: generation stops there too */
	bool add_bos;
	bool add_space_prefix;
	u32 max_len;		/* longest piece, bytes */
	/* tokens a text may name when asked (LLM_TOKENIZE_SPECIAL) */
	u32 *special;		/* control, user-defined, unknown: longest first */
	u32 n_special;
	u32 special_first[8];	/* bitmap of their first bytes */
};

/* Build the vocabulary from the tokenizer.ggml.* keys of @g. */
int llm_vocab_load(struct llm_vocab *v, const struct llm_gguf *g,
		   struct llm_arena *arena, char *err, size_t errlen);

/* Token whose piece is exactly @text, or LLM_TOKEN_NONE. */
u32 llm_vocab_find(const struct llm_vocab *v, const char *text, u32 len);

/* Scratch bytes llm_tokenize() needs for a text of @len bytes. */
u64 llm_tokenize_scratch_bytes(u32 len);

/*
 * Encode @len bytes of @text into at most @cap tokens at @out, with BOS in
 * front when @add_bos.  Returns the number of tokens, -E2BIG when they do
 * not fit in @cap, -ENOMEM when @scratch is smaller than
 * llm_tokenize_scratch_bytes(@len).
 */
int llm_tokenize(const struct llm_vocab *v, const char *text, u32 len,
		 bool add_bos, u32 *out, u32 cap, void *scratch,
		 u64 scratch_bytes);

/* llm_tokenize_ex() flags */
#define LLM_TOKENIZE_BOS	(1u << 0)	/* BOS in front */
/*
 * Special tokens written in the text (control, user-defined and unknown
 * tokens' texts: "<|eot_id|>", "<s>") are those tokens, as llama.cpp's
 * parse_special; without it they are plain text.
 */
#define LLM_TOKENIZE_SPECIAL	(1u << 1)

int llm_tokenize_ex(const struct llm_vocab *v, const char *text, u32 len,
		    unsigned int flags, u32 *out, u32 cap, void *scratch,
		    u64 scratch_bytes);

/*
 * Text of token @tok following token @prev (a leading space is dropped
 * right after BOS, as SentencePiece does).  Writes at most @cap bytes to
 * @out (no NUL) and returns how many; control tokens give none.
 */
u32 llm_token_to_text(const struct llm_vocab *v, u32 prev, u32 tok,
		      char *out, u32 cap);

#endif /* LLM_TOKENIZER_H */
