/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic llama models: a GGUF file of any shape with deterministic
 * pseudo-random F32 weights and a working SentencePiece-style vocabulary.
 * One generator for tests/tools/mkmodel (files for QEMU tests, demos and
 * benchmarks that need a model of a given size) and the unit tests.
 *
 * The vocabulary, like a llama one converted by llama.cpp:
 *
 *	0 <unk> (unknown), 1 <s> (BOS, control), 2 </s> (EOS, control),
 *	3..258 <0x00>..<0xFF> (byte fallback),
 *	then "▁" and the printable ASCII characters, then words with their
 *	leading "▁": every prefix of each word ("▁t", "▁th", "▁the"), so
 *	that the tokenizer's pairwise merges reach the whole word; a list of
 *	common English words first, then made-up ones until the vocabulary
 *	is full.  Scores fall by one per piece, in that order.
 *
 * It depends only on the vocabulary size, not on the seed, so models of
 * the same vocabulary size tokenize alike.  The weights depend on the
 * seed and on each tensor's name, so a model with one more layer has the
 * same first layers.
 */
#ifndef LLM_TEST_SYNTH_MODEL_H
#define LLM_TEST_SYNTH_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "userctl/gguf_writer.h"

/* 3 special tokens and 256 byte tokens come before any piece. */
#define SYNTH_MIN_VOCAB		259

struct synth_shape {
	u32 dim;		/* llama.embedding_length */
	u32 layers;		/* llama.block_count */
	u32 heads;		/* llama.attention.head_count */
	u32 kv_heads;		/* llama.attention.head_count_kv */
	u32 ffn;		/* llama.feed_forward_length */
	u32 vocab;
	u32 context;		/* llama.context_length */
	u64 seed;
	bool tied;		/* no output.weight: the classifier is token_embd */
	const char *name;	/* general.name; NULL: "synthetic" */
	/*
	 * A byte-level BPE vocabulary (tokenizer.ggml.model gpt2) with this
	 * tokenizer.ggml.pre ("gpt-2", "llama-bpe", "qwen2"): the 256 byte
	 * symbols, merges learnt from a small corpus by that pre-tokenizer,
	 * special tokens last.  NULL: the SentencePiece-style one.
	 */
	const char *bpe_pre;
	/*
	 * The architecture (llm/core/arch.h): NULL or "llama", "qwen2",
	 * "qwen3", "qwen3moe", "gpt2", with its keys and tensors as
	 * llama.cpp names them.  head_dim: qwen3's key_length (0: dim /
	 * heads); experts: qwen3moe's expert_count, experts_used of them per
	 * token, each ffn wide.
	 */
	const char *arch;
	/*
	 * Wide greedy margins (needs an untied classifier): each plain
	 * token's successor is fixed, its logit about 40 and the others' a
	 * few, and the layers' output projections are scaled down so they
	 * shift the logits without flipping the choice.  See make_margin().
	 */
	bool margin;
	u32 head_dim;
	u32 experts, experts_used;
	/* tokenizer.chat_template, or NULL for none */
	const char *chat_template;
};

/* The shape of a known model ("stories260K", "stories110M", ...). */
bool synth_preset(const char *name, struct synth_shape *s);
/* The presets' names, space-separated. */
const char *synth_preset_names(void);
/* NULL when @s is a shape the core loads, else why not. */
const char *synth_check(const struct synth_shape *s);
/* Parameters and F32 bytes of the weights of @s. */
u64 synth_params(const struct synth_shape *s);

struct synth_model {
	struct llm_gguf_writer *w;	/* the file, ready to write */
	float *weights;			/* the tensors' data */
	u64 n_weights;			/* ... floats of it used */
	struct llm_gguf_str *pieces;	/* the vocabulary */
	float *scores;
	s32 *types;
	char *text;
	struct llm_gguf_str *merges;	/* BPE: "A B" */
	u32 n_merges;
	u32 bos, eos;			/* BPE */
};

/*
 * Build the model of shape @s into @m->w.  0, or a negative errno with a
 * sentence in @err.  @m holds the data the writer points at until
 * synth_model_free().
 */
int synth_model_build(struct synth_model *m, const struct synth_shape *s,
		      char *err, size_t errlen);
void synth_model_free(struct synth_model *m);

#endif /* LLM_TEST_SYNTH_MODEL_H */
