/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hostile GGUF files, made from a valid one: truncations at every section
 * boundary and at a stride, huge counts and lengths, bad shapes, types,
 * offsets, alignments, duplicates, nested arrays, bad bools, bad magic and
 * versions; and, from a base that is a model, keys and tensors a model
 * binding must refuse (RoPE scaling, experts, biases, unknown keys, ...).
 * One generator for test_gguf, test_model, tests/tools/mkhostile (files for
 * the QEMU test) and the fuzzer's seed corpus.
 */
#ifndef LLM_TEST_GGUF_HOSTILE_H
#define LLM_TEST_GGUF_HOSTILE_H

#include <stdbool.h>
#include <stddef.h>

struct hostile_case {
	char name[64];
	/* A phrase the loader's message must contain; "": any message. */
	char expect[160];
	/* One of the few (one or two per kind) written for the QEMU test. */
	bool sample;
	/*
	 * The file parses as GGUF; binding it as a model (llm_model_load)
	 * must refuse it.  Otherwise the parser itself refuses it.
	 */
	bool bind;
	unsigned char *data;	/* malloc'd, exactly @len bytes */
	size_t len;
};

struct hostile_set {
	struct hostile_case *c;
	size_t n;
	size_t cap;
};

/*
 * A small valid GGUF (v3) with a key of every value type, arrays of every
 * element type (string arrays with empty strings and a NUL byte), and
 * tensors of F32, F16, Q4_0 and Q8_0.  *@img is malloc'd.
 */
int hostile_synth_base(void **img, size_t *len);

/*
 * A tiny valid llama model (2 blocks, 32 wide, 8 tokens, F32), keyed as
 * llama.cpp's converter keys one.  *@img is malloc'd.
 */
int hostile_synth_model(void **img, size_t *len);

/*
 * Every hostile variant of @base, which must be a valid GGUF file with at
 * least two tensors.  When @base also loads as a model, the set has the
 * cases a model binding refuses too (bind set): one key or tensor the
 * engine does not honour added to it.  0 or a negative errno (with a line
 * on stderr).
 */
int hostile_build(const void *base, size_t len, struct hostile_set *set);
void hostile_free(struct hostile_set *set);

#endif /* LLM_TEST_GGUF_HOSTILE_H */
