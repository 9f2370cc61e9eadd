// SPDX-License-Identifier: GPL-2.0
/*
 * ggufcmp A.gguf B.gguf: do two GGUF files hold the same model?  The same
 * key/value pairs (each key's type and value bytes; general.file_type and
 * general.quantization_version included) and the same tensors by name,
 * each of the same type, shape and data bytes.  The order of keys and of
 * tensors, the alignment padding and the GGUF version may differ (llama.cpp
 * writes its tensors in its loader's order).
 *
 * Prints one line per difference (at most 20), then a summary; exit status
 * 0 same, 1 different, 2 a file could not be read or parsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/core/gguf.h"
#include "quant/quant.h"
#include "userctl/modelfile.h"

#define TABLES	(64u << 20)
#define SHOW	20

static int shown;

static void differ(const char *fmt, const char *what, const char *detail)
{
	if (shown++ < SHOW)
		printf(fmt, what, detail);
}

static int open_gguf(const char *path, struct llm_mapped_file *f,
		     struct llm_gguf *g, void *tables)
{
	struct llm_arena a;
	char err[512];

	if (llm_map_file(f, path, err, sizeof(err))) {
		fprintf(stderr, "ggufcmp: %s\n", err);
		return -1;
	}
	llm_arena_init(&a, tables, TABLES);
	if (llm_gguf_parse(g, f->data, f->len, &a, err, sizeof(err))) {
		fprintf(stderr, "ggufcmp: %s: %s\n", path, err);
		return -1;
	}
	return 0;
}

static void name_of(struct llm_gguf_str s, char *buf, size_t cap)
{
	snprintf(buf, cap, "%.*s", (int)(s.len < cap ? s.len : cap - 1), s.p);
}

/* The bytes a pair's value takes in the image (scalar, string or array). */
static u64 value_bytes(const struct llm_gguf_kv *kv)
{
	static const u8 size[] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };

	if (kv->type == LLM_GGUF_STRING)
		return 8 + llm_get_le64(kv->val);
	if (kv->type == LLM_GGUF_ARRAY)
		return 12 + kv->arr_bytes;
	return size[kv->type];
}

static u64 compare_keys(const struct llm_gguf *a, const struct llm_gguf *b)
{
	char name[256];
	u64 i, bad = 0;

	for (i = 0; i < a->n_kv; i++) {
		const struct llm_gguf_kv *x = &a->kv[i], *y;

		name_of(x->key, name, sizeof(name));
		y = llm_gguf_find(b, name);
		if (!y) {
			differ("key %s: only in the first file%s\n", name, "");
			bad++;
		} else if (x->type != y->type ||
			   value_bytes(x) != value_bytes(y) ||
			   memcmp(x->val, y->val, value_bytes(x))) {
			differ("key %s: %s\n", name, "values differ");
			bad++;
		}
	}
	for (i = 0; i < b->n_kv; i++) {
		name_of(b->kv[i].key, name, sizeof(name));
		if (!llm_gguf_find(a, name)) {
			differ("key %s: only in the second file%s\n", name, "");
			bad++;
		}
	}
	return bad;
}

static u64 compare_tensors(const struct llm_gguf *a, const struct llm_gguf *b)
{
	char name[256], why[128];
	u64 i, bad = 0;
	u32 d;

	for (i = 0; i < a->n_tensors; i++) {
		const struct llm_gguf_tensor *x = &a->tensors[i], *y;

		name_of(x->name, name, sizeof(name));
		y = llm_gguf_find_tensor(b, name);
		if (!y) {
			differ("tensor %s: only in the first file%s\n", name, "");
			bad++;
			continue;
		}
		why[0] = '\0';
		if (x->type != y->type)
			snprintf(why, sizeof(why), "type %s vs %s",
				 llm_type_name(x->type), llm_type_name(y->type));
		for (d = 0; !why[0] && d < LLM_GGUF_MAX_DIMS; d++)
			if (x->ne[d] != y->ne[d])
				snprintf(why, sizeof(why), "shapes differ");
		if (!why[0] && memcmp(x->data, y->data, x->nbytes)) {
			u64 k = 0;

			while (((const u8 *)x->data)[k] ==
			       ((const u8 *)y->data)[k])
				k++;
			snprintf(why, sizeof(why), "%s data differ from byte %llu of %llu",
				 llm_type_name(x->type), (unsigned long long)k,
				 (unsigned long long)x->nbytes);
		}
		if (why[0]) {
			differ("tensor %s: %s\n", name, why);
			bad++;
		}
	}
	for (i = 0; i < b->n_tensors; i++) {
		name_of(b->tensors[i].name, name, sizeof(name));
		if (!llm_gguf_find_tensor(a, name)) {
			differ("tensor %s: only in the second file%s\n", name, "");
			bad++;
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	struct llm_mapped_file fa, fb;
	struct llm_gguf a, b;
	void *ta, *tb;
	u64 keys, tensors;

	if (argc != 3) {
		fprintf(stderr, "usage: ggufcmp A.gguf B.gguf\n");
		return 2;
	}
	ta = malloc(TABLES);
	tb = malloc(TABLES);
	if (!ta || !tb || open_gguf(argv[1], &fa, &a, ta) ||
	    open_gguf(argv[2], &fb, &b, tb))
		return 2;
	keys = compare_keys(&a, &b);
	tensors = compare_tensors(&a, &b);
	printf("%llu of %llu keys and %llu of %llu tensors differ\n",
	       (unsigned long long)keys, (unsigned long long)a.n_kv,
	       (unsigned long long)tensors, (unsigned long long)a.n_tensors);
	return keys || tensors;
}
