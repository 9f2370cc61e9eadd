// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the tokenizers (llm/core/tokenizer.c, bpe.c) over
 * the real stories260K vocabulary and byte-level BPE vocabularies of each
 * pre-tokenizer (made by mkmodel --bpe into build/fuzz, see the
 * Makefile): any bytes must tokenize into valid ids inside a scratch area
 * of exactly llm_tokenize_scratch_bytes() (so an overrun hits a redzone),
 * with and without special tokens parsed.  Valid UTF-8 must come back
 * unchanged from SentencePiece -- unless it holds U+2581 itself, which is
 * SentencePiece's space inside pieces and so comes back as a space (as in
 * llama.cpp) -- and any bytes at all from byte-level BPE.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/core/gguf.h"
#include "llm/core/tokenizer.h"
#include "arena/arena.h"

/* the project ships it; make runs the fuzzer from the top directory */
#define MODEL "models/stories260K.gguf"

/* in $BUILD/fuzz (the Makefile passes BUILD; build by default) */
static const char *const bpe_models[] = {
	"bpe-gpt-2.gguf", "bpe-llama-bpe.gguf", "bpe-qwen2.gguf",
};

static struct llm_vocab vocab, bpe[3];

static void die(const char *what)
{
	fprintf(stderr, "fuzz_tokenizer: %s\n", what);
	abort();
}

static void load(const char *path, struct llm_vocab *v)
{
	static struct llm_arena arena;
	static struct llm_gguf files[4];
	static int n_files;
	struct llm_gguf *g = &files[n_files++];
	char err[256];
	size_t len;
	void *img;
	FILE *f = fopen(path, "rb");

	if (!f) {
		fprintf(stderr, "fuzz_tokenizer: cannot open %s\n", path);
		abort();
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	img = malloc(len);
	if (!img || fread(img, 1, len, f) != len)
		die("cannot read a model");
	fclose(f);
	if (!arena.base)
		llm_arena_init(&arena, malloc(64 << 20), 64 << 20);
	if (llm_gguf_parse(g, img, len, &arena, err, sizeof(err)) ||
	    llm_vocab_load(v, g, &arena, err, sizeof(err)))
		die(err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	load(MODEL, &vocab);
	for (i = 0; i < 3; i++) {
		char path[512];

		snprintf(path, sizeof(path), "%s/fuzz/%s",
			 getenv("BUILD") ? getenv("BUILD") : "build",
			 bpe_models[i]);
		load(path, &bpe[i]);
	}
	return 0;
}

/* Strict UTF-8: no overlongs, surrogates or code points past U+10FFFF. */
static int utf8_ok(const u8 *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		u32 cp, k, len, min;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			len = 2, cp = s[i] & 0x1f, min = 0x80;
		else if ((s[i] & 0xf0) == 0xe0)
			len = 3, cp = s[i] & 0x0f, min = 0x800;
		else if ((s[i] & 0xf8) == 0xf0)
			len = 4, cp = s[i] & 0x07, min = 0x10000;
		else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u64 sb = llm_tokenize_scratch_bytes(size);
	u32 cap = size + 2, *tok = malloc(cap * sizeof(u32));
	void *scratch = malloc(sb ? sb : 1);
	char *text = malloc(size + 1), *back;
	u32 prev, len = 0;
	int n, i;

	memcpy(text, data, size);
	n = llm_tokenize(&vocab, text, size, true, tok, cap, scratch, sb);
	if (n < 1)
		die("tokenize failed with room for every byte");
	for (i = 0; i < n; i++)
		if (tok[i] >= vocab.n)
			die("a token id outside the vocabulary");
	/* decoding never writes more than the piece bytes: bound it */
	back = malloc((size_t)n * (vocab.max_len + 8) + 1);
	prev = tok[0];
	for (i = 1; i < n; i++) {
		len += llm_token_to_text(&vocab, prev, tok[i], back + len,
					 vocab.max_len + 8);
		prev = tok[i];
	}
	if (utf8_ok(data, size) && !memmem(data, size, "\xe2\x96\x81", 3) &&
	    (len != size || memcmp(back, data, size)))
		die("valid UTF-8 did not come back unchanged");
	free(back);

	/* byte-level BPE: any bytes come back; special tokens when asked */
	for (i = 0; i < 3; i++) {
		struct llm_vocab *v = &bpe[i];
		int k, m;

		m = llm_tokenize_ex(v, text, size, LLM_TOKENIZE_SPECIAL, tok,
				    cap, scratch, sb);
		if (m < 0)
			die("BPE with special tokens failed");
		for (k = 0; k < m; k++)
			if (tok[k] >= v->n)
				die("a BPE token id outside the vocabulary");
		m = llm_tokenize(v, text, size, false, tok, cap, scratch, sb);
		if (m < 0 || (u32)m > size)
			die("BPE failed, or made more tokens than bytes");
		back = malloc((size_t)size + 1);
		for (k = 0, len = 0; k < m; k++) {
			if (tok[k] >= v->n)
				die("a BPE token id outside the vocabulary");
			len += llm_token_to_text(v, LLM_TOKEN_NONE, tok[k],
						 back + len, size - len);
		}
		if (len != size || memcmp(back, data, size))
			die("BPE did not give the bytes back");
		free(back);
	}
	free(text);
	free(scratch);
	free(tok);
	return 0;
}
