// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the GGUF reader (llm/gguf.c), built with
 * -fsanitize=fuzzer,address,undefined against the core sources.
 *
 * Each input is copied into a buffer of exactly its size (so an over-read
 * hits a redzone) and parsed.  A failure must leave a message and the
 * arena as it was.  A success must describe only bytes inside the input,
 * and then every getter is called on every key, every string array is
 * walked to its end, and every tensor's first and last byte is read.
 * Then the reader of a prefix (llm_gguf_parse_prefix()) on the input cut
 * at a length the input picks: "read more" exactly when the cut falls
 * before the end of the tensor infos, else the same tables.  And a ring
 * node's slice (llm/core/slice.h) of a range the input picks, when the
 * file names its layer count: it parses, with exactly the planned tensors
 * and their bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/core/gguf.h"
#include "llm/core/slice.h"
#include "arena/arena.h"

#define ARENA_BYTES	(32u << 20)

static unsigned char *region;
/* Bytes read from the views land here, so the reads cannot be elided. */
u8 fuzz_gguf_sink;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_gguf: %s\n", what);
	abort();
}

static void inside(const void *p, u64 n, const u8 *img, size_t len)
{
	const u8 *q = p;

	if (q < img || q > img + len || n > (u64)(img + len - q))
		die("a view points outside the image");
}

static void exercise_kv(const struct llm_gguf *g, const struct llm_gguf_kv *kv,
			const u8 *img, size_t len)
{
	static char key[LLM_GGUF_MAX_KEY_LEN + 1];
	const struct llm_gguf_kv *arr;
	struct llm_gguf_str s;
	const u8 *cur;
	bool b;
	u64 i;
	u32 v, t;

	inside(kv->key.p, kv->key.len, img, len);
	if (!kv->key.len || kv->key.len > LLM_GGUF_MAX_KEY_LEN)
		die("a key of bad length was accepted");
	memcpy(key, kv->key.p, kv->key.len);
	key[kv->key.len] = '\0';
	/* a key holding a NUL byte is found under a shorter name, or not */
	if (strlen(key) == kv->key.len && !llm_gguf_find(g, key))
		die("a parsed key is not found");
	llm_gguf_get_u32(g, key, &v);
	llm_gguf_get_bool(g, key, &b);
	llm_gguf_get_f32_bits(g, key, &v);
	if (!llm_gguf_get_str(g, key, &s))
		inside(s.p, s.len, img, len);
	for (t = 0; t <= LLM_GGUF_NTYPES; t++)
		llm_gguf_get_arr(g, key, t, &arr);
	llm_gguf_vtype_name(kv->type);

	if (kv->type != LLM_GGUF_ARRAY)
		return;
	inside(kv->arr_data, kv->arr_bytes, img, len);
	if (kv->arr_type != LLM_GGUF_STRING) {
		for (i = 0; i < kv->arr_bytes; i++)
			fuzz_gguf_sink ^= kv->arr_data[i];
		return;
	}
	cur = kv->arr_data;
	for (i = 0; i < kv->arr_n; i++) {
		llm_gguf_next_str(&cur, &s);
		inside(s.p, s.len, img, len);
		if (s.len)
			fuzz_gguf_sink ^= s.p[0] ^ s.p[s.len - 1];
	}
	if (cur != kv->arr_data + kv->arr_bytes)
		die("a string array does not end where the parser said");
}

/* FNV-1a of the input: the choices a run makes from it. */
static u64 pick(const u8 *img, size_t len)
{
	u64 h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ img[i]) * 0x100000001b3ull;
	return h;
}

static void check_prefix(const struct llm_gguf *full, const u8 *img,
			 size_t size)
{
	size_t cut = pick(img, size) % (size + 1);
	u8 *pre = malloc(cut ? cut : 1);
	struct llm_arena a;
	struct llm_gguf g;
	char err[256];
	u64 i;
	int ret;

	if (!pre)
		return;
	memcpy(pre, img, cut);
	llm_arena_init(&a, region + ARENA_BYTES / 2, ARENA_BYTES / 2);
	ret = llm_gguf_parse_prefix(&g, pre, cut, size, &a, err, sizeof(err));
	if (cut < full->tensors_end ? ret != -EAGAIN : ret != 0)
		die("a prefix parse disagrees with the whole file's");
	if (!ret && (g.n_tensors != full->n_tensors ||
		     g.n_kv != full->n_kv ||
		     g.data_offset != full->data_offset ||
		     g.tensors_end != full->tensors_end))
		die("a prefix parse found other tables");
	for (i = 0; !ret && i < g.n_tensors; i++)
		if (g.tensors[i].data ||
		    g.tensors[i].offset != full->tensors[i].offset ||
		    g.tensors[i].nbytes != full->tensors[i].nbytes)
			die("a prefix parse placed a tensor otherwise");
	free(pre);
}

static void check_slice(const struct llm_gguf *full, const u8 *img,
			size_t size)
{
	u64 h = pick(img, size);
	struct llm_arena a;
	struct llm_slice s;
	struct llm_gguf g;
	char err[256];
	u32 first, end;
	u8 *out;
	u64 i, k = 0;

	llm_arena_init(&a, region + ARENA_BYTES / 2, ARENA_BYTES / 2);
	first = (u32)(h >> 8) % 8;
	end = first + 1 + (u32)(h >> 16) % 8;
	if (llm_slice_plan(&s, full, first, end, &a, err, sizeof(err))) {
		if (!err[0])
			die("a refused slice left no message");
		return;
	}
	if (s.len > (64u << 20))
		return;
	out = calloc(1, s.len ? s.len : 1);
	if (!out)
		return;
	llm_slice_write_head(&s, out);
	llm_slice_copy(&s, img, out);
	if (llm_gguf_parse(&g, out, s.len, &a, err, sizeof(err)))
		die("a slice of a good file does not parse");
	if (g.n_tensors != s.n_pieces || g.n_kv != full->n_kv)
		die("a slice has other tensors or keys than planned");
	for (i = 0; i < full->n_tensors; i++) {
		if (s.offset[i] == U64_MAX)
			continue;
		if (g.tensors[k].nbytes != full->tensors[i].nbytes ||
		    memcmp(g.tensors[k].data, full->tensors[i].data,
			   full->tensors[i].nbytes))
			die("a slice's tensor differs from the file's");
		k++;
	}
	free(out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	llm_log_quiet = 1;
	region = malloc(ARENA_BYTES);
	return region ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct llm_arena arena;
	struct llm_gguf g;
	char err[256];
	u8 *img = malloc(size ? size : 1);
	u64 i;
	int ret;

	if (!img)
		return 0;
	memcpy(img, data, size);
	llm_arena_init(&arena, region, ARENA_BYTES / 2);
	ret = llm_gguf_parse(&g, img, size, &arena, err, sizeof(err));
	if (ret) {
		if (ret > 0 || !err[0] || arena.used || g.kv || g.tensors)
			die("a failed parse left no message or left state");
		free(img);
		return 0;
	}
	if (g.data_offset > size || !LLM_IS_POW2(g.alignment))
		die("bad data offset or alignment accepted");
	for (i = 0; i < g.n_kv; i++)
		exercise_kv(&g, &g.kv[i], img, size);
	for (i = 0; i < g.n_tensors; i++) {
		const struct llm_gguf_tensor *t = &g.tensors[i];
		static char name[LLM_GGUF_MAX_KEY_LEN + 1];

		inside(t->name.p, t->name.len, img, size);
		inside(t->data, t->nbytes, img, size);
		if (!t->nbytes || (const u8 *)t->data < img + g.data_offset ||
		    t->offset % g.alignment || t->n_dims < 1 ||
		    t->n_dims > LLM_GGUF_MAX_DIMS)
			die("a bad tensor was accepted");
		fuzz_gguf_sink ^= ((const u8 *)t->data)[0];
		fuzz_gguf_sink ^= ((const u8 *)t->data)[t->nbytes - 1];
		if (t->name.len < sizeof(name)) {
			memcpy(name, t->name.p, t->name.len);
			name[t->name.len] = '\0';
			if (strlen(name) == t->name.len &&
			    !llm_gguf_find_tensor(&g, name))
				die("a parsed tensor is not found");
		}
	}
	check_prefix(&g, img, size);
	check_slice(&g, img, size);
	free(img);
	return 0;
}
