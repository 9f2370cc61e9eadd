/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hostile GGUF files, made from a valid one: truncations at every section
 * boundary and at a stride, huge counts and lengths, bad shapes, types,
 * offsets, alignments, duplicates, nested arrays, bad bools, bad magic and
 * versions.  One generator for test_gguf, tests/tools/mkhostile (files for
 * the QEMU test) and the fuzzer's seed corpus.
 */
#ifndef LLM_TEST_GGUF_HOSTILE_H
#define LLM_TEST_GGUF_HOSTILE_H

#include <stdbool.h>
#include <stddef.h>

struct hostile_case {
	char name[64];
	/* A phrase the parser's message must contain; NULL: any message. */
	const char *expect;
	/* One of the few (one or two per kind) written for the QEMU test. */
	bool sample;
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
 * Every hostile variant of @base, which must be a valid GGUF file with at
 * least two tensors.  0 or a negative errno (with a line on stderr).
 */
int hostile_build(const void *base, size_t len, struct hostile_set *set);
void hostile_free(struct hostile_set *set);

#endif /* LLM_TEST_GGUF_HOSTILE_H */
