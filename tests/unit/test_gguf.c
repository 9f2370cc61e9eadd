// SPDX-License-Identifier: GPL-2.0
/*
 * The GGUF reader and writer: the real model files, every getter, the
 * writer's layout (byte-identical rewrites), and a hostile corpus (see
 * gguf_hostile.c) of which every file must be refused with a message and
 * without a sanitizer report.
 */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "gguf_hostile.h"
#include "llm/core/gguf.h"
#include "llm/core/model.h"
#include "arena/arena.h"
#include "quant/quant.h"
#include "userctl/gguf_writer.h"

#define REGION	(16u << 20)

static unsigned char *region;
static struct llm_arena arena;
static char err[512];

static int parse(struct llm_gguf *g, const void *img, size_t len)
{
	llm_arena_init(&arena, region, REGION);
	err[0] = '\0';
	return llm_gguf_parse(g, img, len, &arena, err, sizeof(err));
}

/* Whatever parsed must point inside the image. */
static int sane(const struct llm_gguf *g, const unsigned char *img,
		size_t len)
{
	u64 i;

	if (g->data_offset > len || !LLM_IS_POW2(g->alignment))
		return 0;
	for (i = 0; i < g->n_tensors; i++) {
		const struct llm_gguf_tensor *t = &g->tensors[i];
		const unsigned char *d = t->data;

		if (d < img + g->data_offset || t->nbytes > len ||
		    d > img + len - t->nbytes || !t->n_elems ||
		    t->offset % g->alignment)
			return 0;
	}
	for (i = 0; i < g->n_kv; i++) {
		const struct llm_gguf_kv *kv = &g->kv[i];

		if ((const unsigned char *)kv->key.p < img ||
		    (const unsigned char *)kv->key.p + kv->key.len > img + len)
			return 0;
	}
	return 1;
}

static void *load(const char *name, size_t *len)
{
	const char *path = check_model(name);

	if (!path) {
		check_fail(__FILE__, __LINE__, "models/%s is missing", name);
		return NULL;
	}
	return check_read_file(path, len);
}

static void real_f32(void)
{
	const struct llm_gguf_tensor *t;
	const struct llm_gguf_kv *kv;
	struct llm_gguf_str s;
	struct llm_gguf g;
	size_t len;
	void *img = load("stories260K.gguf", &len);
	u32 v;

	CHECK(img);
	CHECK_EQ(parse(&g, img, len), 0);
	CHECK(sane(&g, img, len));
	CHECK_EQ(g.version, 3);
	CHECK_EQ(g.n_tensors, 48);
	CHECK_EQ(g.n_kv, 19);
	CHECK_EQ(g.alignment, 32);
	CHECK_EQ(g.data_offset, 14176);
	CHECK_EQ(llm_gguf_get_u32(&g, "llama.block_count", &v), 0);
	CHECK_EQ(v, 5);
	CHECK_EQ(llm_gguf_get_u32(&g, "llama.embedding_length", &v), 0);
	CHECK_EQ(v, 64);
	CHECK_EQ(llm_gguf_get_u32(&g, "llama.attention.head_count_kv", &v), 0);
	CHECK_EQ(v, 4);
	CHECK_EQ(llm_gguf_get_u32(&g, "llama.context_length", &v), 0);
	CHECK_EQ(v, 2048);
	CHECK_EQ(llm_gguf_get_f32_bits(&g, "llama.attention.layer_norm_rms_epsilon",
				       &v), 0);
	CHECK_EQ(v, 0x3727c5ac);
	CHECK_EQ(llm_gguf_get_str(&g, "general.architecture", &s), 0);
	CHECK(llm_gguf_str_eq(s, "llama"));
	CHECK_EQ(llm_gguf_get_arr(&g, "tokenizer.ggml.tokens", LLM_GGUF_STRING,
				  &kv), 0);
	CHECK_EQ(kv->arr_n, 512);
	CHECK_EQ(llm_gguf_get_arr(&g, "tokenizer.ggml.scores", LLM_GGUF_F32,
				  &kv), 0);
	CHECK_EQ(kv->arr_n, 512);
	CHECK_EQ(kv->arr_bytes, 512 * 4);
	CHECK_EQ(llm_gguf_get_arr(&g, "tokenizer.ggml.token_type",
				  LLM_GGUF_I32, &kv), 0);
	CHECK_EQ(kv->arr_n, 512);
	t = llm_gguf_find_tensor(&g, "token_embd.weight");
	CHECK(t);
	CHECK_EQ(t->type, LLM_T_F32);
	CHECK_EQ(t->n_dims, 2);
	CHECK_EQ(t->ne[0], 64);
	CHECK_EQ(t->ne[1], 512);
	CHECK_EQ(t->ne[2], 1);
	CHECK_EQ(t->nbytes, 64 * 512 * 4);
	CHECK(t->data == (unsigned char *)img + 14176);
	t = llm_gguf_find_tensor(&g, "blk.4.ffn_down.weight");
	CHECK(t);
	CHECK_EQ(t->ne[0], 172);
	CHECK_EQ(t->ne[1], 64);
	t = llm_gguf_find_tensor(&g, "output_norm.weight");
	CHECK(t);
	CHECK_EQ(t->n_dims, 1);
	CHECK_EQ(t->n_elems, 64);
	CHECK(!llm_gguf_find_tensor(&g, "blk.5.ffn_down.weight"));
	free(img);
}

static void real_quantized(const char *file, u32 type, u32 file_type,
			   u64 embd_bytes)
{
	const struct llm_gguf_tensor *t;
	struct llm_gguf g;
	size_t len;
	void *img = load(file, &len);
	char name[64];
	u32 v, l;

	CHECK(img);
	CHECK_EQ(parse(&g, img, len), 0);
	CHECK(sane(&g, img, len));
	CHECK_EQ(g.version, 3);
	CHECK_EQ(g.n_tensors, 48);
	CHECK_EQ(g.n_kv, 21);
	CHECK_EQ(g.data_offset, 14240);
	CHECK_EQ(llm_gguf_get_u32(&g, "general.file_type", &v), 0);
	CHECK_EQ(v, file_type);
	CHECK_EQ(llm_gguf_get_u32(&g, "general.quantization_version", &v), 0);
	CHECK_EQ(v, 2);
	t = llm_gguf_find_tensor(&g, "token_embd.weight");
	CHECK(t);
	CHECK_EQ(t->type, type);
	CHECK_EQ(t->nbytes, embd_bytes);
	for (l = 0; l < 5; l++) {
		snprintf(name, sizeof(name), "blk.%u.ffn_down.weight", l);
		t = llm_gguf_find_tensor(&g, name);
		CHECK(t);
		CHECK_EQ(t->type, LLM_T_F32);
		snprintf(name, sizeof(name), "blk.%u.ffn_up.weight", l);
		t = llm_gguf_find_tensor(&g, name);
		CHECK(t);
		CHECK_EQ(t->type, type);
		snprintf(name, sizeof(name), "blk.%u.attn_norm.weight", l);
		t = llm_gguf_find_tensor(&g, name);
		CHECK(t);
		CHECK_EQ(t->type, LLM_T_F32);
	}
	free(img);
}

static void real_q8_0(void)
{
	real_quantized("stories260K-Q8_0.gguf", LLM_T_Q8_0, 7, 64 * 512 / 32 * 34);
}

static void real_q4_0(void)
{
	real_quantized("stories260K-Q4_0.gguf", LLM_T_Q4_0, 2, 64 * 512 / 32 * 18);
}

/* Rewrite a parsed file pair by pair and tensor by tensor. */
static int rewrite(const struct llm_gguf *g, void **out, size_t *out_len)
{
	struct llm_gguf_writer *w = llm_gguf_writer_new(0);
	int ret = 0;
	u64 i;

	if (!w)
		return -1;
	ret = llm_gguf_writer_set_version(w, g->version);
	for (i = 0; !ret && i < g->n_kv; i++)
		ret = llm_gguf_writer_copy_kv(w, &g->kv[i]);
	for (i = 0; !ret && i < g->n_tensors; i++)
		ret = llm_gguf_writer_copy_tensor(w, &g->tensors[i]);
	if (!ret && llm_gguf_writer_size(w) == 0)
		ret = -1;
	if (!ret)
		ret = llm_gguf_writer_to_mem(w, out, out_len);
	if (ret)
		fprintf(stderr, "rewrite: %s\n", llm_gguf_writer_error(w));
	llm_gguf_writer_free(w);
	return ret;
}

static void roundtrip_one(const char *file)
{
	struct llm_gguf g;
	size_t len, out_len;
	void *img = load(file, &len), *out = NULL;
	size_t i;

	CHECK(img);
	CHECK_EQ(parse(&g, img, len), 0);
	CHECK_EQ(rewrite(&g, &out, &out_len), 0);
	CHECK_EQ(out_len, len);
	for (i = 0; i < len; i++)
		if (((unsigned char *)out)[i] != ((unsigned char *)img)[i])
			break;
	CHECK_EQ(i, len);
	free(out);
	free(img);
}

static void roundtrip_real(void)
{
	roundtrip_one("stories260K.gguf");
	if (check_failed())
		return;
	roundtrip_one("stories260K-Q8_0.gguf");
	if (check_failed())
		return;
	roundtrip_one("stories260K-Q4_0.gguf");
}

static void roundtrip_synth(void)
{
	char path[] = "/tmp/test_gguf_XXXXXX";
	struct llm_gguf_writer *w;
	struct llm_gguf g;
	size_t len, out_len, file_len;
	void *img, *out, *file;
	int fd;
	u64 i;

	CHECK_EQ(hostile_synth_base(&img, &len), 0);
	CHECK_EQ(parse(&g, img, len), 0);
	CHECK(sane(&g, img, len));
	CHECK_EQ(rewrite(&g, &out, &out_len), 0);
	CHECK_EQ(out_len, len);
	CHECK(!memcmp(out, img, len));
	free(out);

	/* and through a file */
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	w = llm_gguf_writer_new(0);
	CHECK(w);
	for (i = 0; i < g.n_kv; i++)
		CHECK_EQ(llm_gguf_writer_copy_kv(w, &g.kv[i]), 0);
	for (i = 0; i < g.n_tensors; i++)
		CHECK_EQ(llm_gguf_writer_copy_tensor(w, &g.tensors[i]), 0);
	CHECK_EQ(llm_gguf_writer_size(w), len);
	CHECK_EQ(llm_gguf_writer_to_file(w, path), 0);
	llm_gguf_writer_free(w);
	file = check_read_file(path, &file_len);
	unlink(path);
	CHECK(file);
	CHECK_EQ(file_len, len);
	CHECK(!memcmp(file, img, len));
	free(file);
	free(img);
}

static void getters(void)
{
	const struct llm_gguf_kv *kv;
	struct llm_gguf_str s;
	struct llm_gguf g;
	const u8 *cur;
	size_t len;
	void *img;
	bool b;
	u32 v;

	CHECK_EQ(hostile_synth_base(&img, &len), 0);
	CHECK_EQ(parse(&g, img, len), 0);
	CHECK_EQ(g.n_kv, 32);
	CHECK_EQ(g.n_tensors, 5);

	/* u32: any integer type whose value fits */
	CHECK_EQ(llm_gguf_get_u32(&g, "test.u8", &v), 0);
	CHECK_EQ(v, 200);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.u16", &v), 0);
	CHECK_EQ(v, 60000);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.u32", &v), 0);
	CHECK_EQ(v, 4000000000u);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.i32_pos", &v), 0);
	CHECK_EQ(v, 7);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.i64_pos", &v), 0);
	CHECK_EQ(v, 5);
	v = 12345;
	CHECK_EQ(llm_gguf_get_u32(&g, "test.i8", &v), -EINVAL);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.i16", &v), -EINVAL);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.i32", &v), -EINVAL);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.i64", &v), -EINVAL);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.u64", &v), -EINVAL);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.f32", &v), -EINVAL);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.bool_t", &v), -EINVAL);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.str", &v), -EINVAL);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.arr_u32", &v), -EINVAL);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.missing", &v), -ENOENT);
	CHECK_EQ(llm_gguf_get_u32(&g, "", &v), -ENOENT);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.u3", &v), -ENOENT);
	CHECK_EQ(v, 12345);	/* untouched on failure */

	/* a u64 beyond 32 bits, a negative and a float are not u32s */
	CHECK_EQ(llm_gguf_get_u32(&g, "test.u64", &v), -EINVAL);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.i64", &v), -EINVAL);
	CHECK_EQ(llm_gguf_get_u32(&g, "test.f64", &v), -EINVAL);

	/* bool */
	CHECK_EQ(llm_gguf_get_bool(&g, "test.bool_t", &b), 0);
	CHECK(b);
	CHECK_EQ(llm_gguf_get_bool(&g, "test.bool_f", &b), 0);
	CHECK(!b);
	CHECK_EQ(llm_gguf_get_bool(&g, "test.u8", &b), -EINVAL);
	CHECK_EQ(llm_gguf_get_bool(&g, "test.arr_bool", &b), -EINVAL);
	CHECK_EQ(llm_gguf_get_bool(&g, "nope", &b), -ENOENT);

	/* f32 bits */
	CHECK_EQ(llm_gguf_get_f32_bits(&g, "test.f32", &v), 0);
	CHECK_EQ(v, 0x3fc00000);
	CHECK_EQ(llm_gguf_get_f32_bits(&g, "test.f64", &v), -EINVAL);
	CHECK_EQ(llm_gguf_get_f32_bits(&g, "test.u32", &v), -EINVAL);
	CHECK_EQ(llm_gguf_get_f32_bits(&g, "nope", &v), -ENOENT);

	/* strings: any bytes, NUL included */
	CHECK_EQ(llm_gguf_get_str(&g, "test.str", &s), 0);
	CHECK(llm_gguf_str_eq(s, "hello"));
	CHECK(!llm_gguf_str_eq(s, "hell"));
	CHECK(!llm_gguf_str_eq(s, "hello!"));
	CHECK_EQ(llm_gguf_get_str(&g, "test.str_nul", &s), 0);
	CHECK_EQ(s.len, 3);
	CHECK(!memcmp(s.p, "a\0b", 3));
	CHECK_EQ(llm_gguf_get_str(&g, "test.str_empty", &s), 0);
	CHECK_EQ(s.len, 0);
	CHECK(llm_gguf_str_eq(s, ""));
	CHECK_EQ(llm_gguf_get_str(&g, "test.arr_str", &s), -EINVAL);
	CHECK_EQ(llm_gguf_get_str(&g, "test.u8", &s), -EINVAL);
	CHECK_EQ(llm_gguf_get_str(&g, "nope", &s), -ENOENT);

	/* arrays */
	CHECK_EQ(llm_gguf_get_arr(&g, "test.arr_u32", LLM_GGUF_U32, &kv), 0);
	CHECK_EQ(kv->arr_n, 3);
	CHECK_EQ(kv->arr_bytes, 12);
	CHECK_EQ(llm_get_le32(kv->arr_data + 8), 4000000000u);
	CHECK_EQ(llm_gguf_get_arr(&g, "test.arr_u32", LLM_GGUF_I32, &kv),
		 -EINVAL);
	CHECK_EQ(llm_gguf_get_arr(&g, "test.u32", LLM_GGUF_U32, &kv), -EINVAL);
	CHECK_EQ(llm_gguf_get_arr(&g, "nope", LLM_GGUF_U32, &kv), -ENOENT);
	CHECK_EQ(llm_gguf_get_arr(&g, "test.arr_empty", LLM_GGUF_U32, &kv), 0);
	CHECK_EQ(kv->arr_n, 0);
	CHECK_EQ(kv->arr_bytes, 0);
	CHECK_EQ(llm_gguf_get_arr(&g, "test.arr_f64", LLM_GGUF_F64, &kv), 0);
	CHECK_EQ(kv->arr_bytes, 16);
	CHECK_EQ(llm_gguf_get_arr(&g, "test.arr_bool", LLM_GGUF_BOOL, &kv), 0);
	CHECK_EQ(kv->arr_data[0], 1);
	CHECK_EQ(kv->arr_data[1], 0);
	CHECK_EQ(llm_gguf_get_arr(&g, "test.arr_i16", LLM_GGUF_I16, &kv), 0);
	CHECK_EQ((s16)(kv->arr_data[0] | kv->arr_data[1] << 8), -2);

	/* walking a string array */
	CHECK_EQ(llm_gguf_get_arr(&g, "test.arr_str", LLM_GGUF_STRING, &kv), 0);
	CHECK_EQ(kv->arr_n, 4);
	cur = kv->arr_data;
	llm_gguf_next_str(&cur, &s);
	CHECK(llm_gguf_str_eq(s, "<unk>"));
	llm_gguf_next_str(&cur, &s);
	CHECK_EQ(s.len, 0);
	llm_gguf_next_str(&cur, &s);
	CHECK_EQ(s.len, 3);
	CHECK(!memcmp(s.p, "a\0b", 3));
	llm_gguf_next_str(&cur, &s);
	CHECK(llm_gguf_str_eq(s, "h\xc3\xa9llo"));
	CHECK(cur == kv->arr_data + kv->arr_bytes);

	/* lookups, value pointers, type names */
	kv = llm_gguf_find(&g, "test.i16");
	CHECK(kv);
	CHECK_EQ(kv->type, LLM_GGUF_I16);
	CHECK(!llm_gguf_find(&g, "test.i1"));
	CHECK(!llm_gguf_find(&g, "test.i16x"));
	CHECK(!strcmp(llm_gguf_vtype_name(LLM_GGUF_STRING), "string"));
	CHECK(!strcmp(llm_gguf_vtype_name(LLM_GGUF_F64), "f64"));
	CHECK(!strcmp(llm_gguf_vtype_name(13), "unknown"));
	CHECK(llm_gguf_find_tensor(&g, "w.q4_0"));
	CHECK_EQ(llm_gguf_find_tensor(&g, "w.q4_0")->nbytes, 72);
	CHECK_EQ(llm_gguf_find_tensor(&g, "v.f32")->nbytes, 20);
	CHECK(!llm_gguf_find_tensor(&g, "w.q4"));
	CHECK(!llm_gguf_find_tensor(&g, ""));
	free(img);
}

static void string_arrays_real(void)
{
	const struct llm_gguf_kv *kv;
	struct llm_gguf_str s;
	struct llm_gguf g;
	const u8 *cur;
	size_t len;
	void *img = load("stories260K.gguf", &len);
	u64 i;

	CHECK(img);
	CHECK_EQ(parse(&g, img, len), 0);
	CHECK_EQ(llm_gguf_get_arr(&g, "tokenizer.ggml.tokens", LLM_GGUF_STRING,
				  &kv), 0);
	cur = kv->arr_data;
	for (i = 0; i < kv->arr_n; i++) {
		llm_gguf_next_str(&cur, &s);
		if (i == 0)
			CHECK(llm_gguf_str_eq(s, "<unk>"));
		if (i == 1)
			CHECK(llm_gguf_str_eq(s, "<s>"));
		if (i == 2)
			CHECK(llm_gguf_str_eq(s, "</s>"));
		if (i == 3)
			CHECK(llm_gguf_str_eq(s, "<0x00>"));
	}
	CHECK(cur == kv->arr_data + kv->arr_bytes);
	free(img);
}

static void build(struct llm_gguf_writer *w, void **img, size_t *len)
{
	static const u64 ne[] = { 32, 2 };
	static unsigned char data[256];

	*img = NULL;
	if (llm_gguf_writer_add_str(w, "general.name", "x") ||
	    llm_gguf_writer_add_tensor(w, "a", LLM_T_F32, 2, ne, data, 256) ||
	    llm_gguf_writer_add_tensor(w, "b", LLM_T_Q8_0, 1, ne, data, 34) ||
	    llm_gguf_writer_to_mem(w, img, len))
		fprintf(stderr, "build: %s\n", llm_gguf_writer_error(w));
	llm_gguf_writer_free(w);
}

static void versions_and_alignment(void)
{
	struct llm_gguf_writer *w;
	struct llm_gguf g;
	size_t len;
	void *img;
	u64 i;
	u32 a;

	/* version 2 */
	w = llm_gguf_writer_new(0);
	CHECK_EQ(llm_gguf_writer_set_version(w, 2), 0);
	build(w, &img, &len);
	CHECK(img);
	CHECK_EQ(parse(&g, img, len), 0);
	CHECK_EQ(g.version, 2);
	free(img);

	/* each alignment lays the data out on it */
	for (a = 1; a <= 4096; a <<= 1) {
		w = llm_gguf_writer_new(0);
		CHECK_EQ(llm_gguf_writer_set_alignment(w, a), 0);
		build(w, &img, &len);
		CHECK(img);
		CHECK_EQ(parse(&g, img, len), 0);
		CHECK(sane(&g, img, len));
		CHECK_EQ(g.alignment, a);
		CHECK_EQ(g.data_offset % a, 0);
		for (i = 0; i < g.n_tensors; i++)
			CHECK_EQ(g.tensors[i].offset % a, 0);
		CHECK_EQ(g.tensors[1].offset, (256 + a - 1) / a * a);
		CHECK_EQ(len, g.data_offset + g.tensors[1].offset +
			 (34 + a - 1) / a * a);
		free(img);
	}

	/* set twice: replaced in place */
	w = llm_gguf_writer_new(0);
	CHECK_EQ(llm_gguf_writer_set_alignment(w, 8), 0);
	CHECK_EQ(llm_gguf_writer_set_alignment(w, 64), 0);
	build(w, &img, &len);
	CHECK(img);
	CHECK_EQ(parse(&g, img, len), 0);
	CHECK_EQ(g.n_kv, 2);
	CHECK_EQ(g.alignment, 64);
	free(img);

	/* no tensors at all, and a bare header */
	w = llm_gguf_writer_new(0);
	CHECK_EQ(llm_gguf_writer_add_u32(w, "k", 1), 0);
	CHECK_EQ(llm_gguf_writer_to_mem(w, &img, &len), 0);
	llm_gguf_writer_free(w);
	CHECK_EQ(len, 64);
	CHECK_EQ(parse(&g, img, len), 0);
	CHECK_EQ(g.n_tensors, 0);
	CHECK_EQ(g.data_offset, 64);
	CHECK_EQ(parse(&g, img, 24 + 8 + 1 + 4 + 4), 0);
	CHECK_EQ(g.data_offset, 41);
	free(img);
	w = llm_gguf_writer_new(0);
	CHECK_EQ(llm_gguf_writer_to_mem(w, &img, &len), 0);
	llm_gguf_writer_free(w);
	CHECK_EQ(len, 32);
	CHECK_EQ(parse(&g, img, 24), 0);
	CHECK_EQ(g.n_kv, 0);
	free(img);
}

static void writer_checks(void)
{
	struct llm_gguf_writer *w = llm_gguf_writer_new(0);
	static const u64 ne[] = { 32, 2 }, ne0[] = { 0 }, ne48[] = { 48 };
	static const u8 bad_bools[] = { 0, 2 };
	u64 ne5[5] = { 32, 1, 1, 1, 1 };
	static unsigned char data[256];

	CHECK(w);
	CHECK_EQ(llm_gguf_writer_add_u32(w, "a", 1), 0);
	CHECK_EQ(llm_gguf_writer_add_u32(w, "a", 2), -EEXIST);
	CHECK(strstr(llm_gguf_writer_error(w), "'a'"));
	CHECK_EQ(llm_gguf_writer_add_u32(w, "", 2), -EINVAL);
	CHECK_EQ(llm_gguf_writer_add_u64(w, "general.alignment", 32), -EINVAL);
	CHECK_EQ(llm_gguf_writer_add_u32(w, "general.alignment", 24), -EINVAL);
	CHECK_EQ(llm_gguf_writer_set_alignment(w, 0), -EINVAL);
	CHECK_EQ(llm_gguf_writer_set_version(w, 1), -EINVAL);
	CHECK_EQ(llm_gguf_writer_add_arr(w, "s", LLM_GGUF_STRING, data, 1),
		 -EINVAL);
	CHECK_EQ(llm_gguf_writer_add_arr(w, "b", LLM_GGUF_BOOL, bad_bools, 2),
		 -EINVAL);
	CHECK_EQ(llm_gguf_writer_add_raw(w, "r", 1, LLM_GGUF_U8, data, 1),
		 -EPERM);
	CHECK_EQ(llm_gguf_writer_add_tensor(w, "t", 12, 2, ne, data, 256),
		 -EINVAL);
	CHECK(strstr(llm_gguf_writer_error(w), "Q4_K"));
	CHECK_EQ(llm_gguf_writer_add_tensor(w, "t", LLM_T_F32, 2, ne, data,
					    255), -EINVAL);
	CHECK_EQ(llm_gguf_writer_add_tensor(w, "t", LLM_T_F32, 1, ne0, data,
					    0), -EINVAL);
	CHECK_EQ(llm_gguf_writer_add_tensor(w, "t", LLM_T_F32, 5, ne5, data,
					    128), -EINVAL);
	CHECK_EQ(llm_gguf_writer_add_tensor(w, "t", LLM_T_Q4_0, 1, ne48, data,
					    36), -EINVAL);
	CHECK_EQ(llm_gguf_writer_add_tensor(w, "", LLM_T_F32, 2, ne, data,
					    256), -EINVAL);
	CHECK_EQ(llm_gguf_writer_add_tensor(w, "t", LLM_T_F32, 2, ne, data,
					    256), 0);
	CHECK_EQ(llm_gguf_writer_add_tensor(w, "t", LLM_T_F32, 2, ne, data,
					    256), -EEXIST);
	/* trailing dimensions of 1 are not written, as ggml does */
	CHECK_EQ(llm_gguf_writer_add_tensor(w, "u", LLM_T_F32, 4, ne5, NULL,
					    128), 0);
	/* 24 + 17 + 41 + 33 bytes of metadata, padded to 128 */
	CHECK_EQ(llm_gguf_writer_size(w), 128 + 256 + 128);
	llm_gguf_writer_free(w);
}

static void small_arena(void)
{
	struct llm_gguf g;
	size_t len, size;
	void *img;
	int ret = -1;

	CHECK_EQ(hostile_synth_base(&img, &len), 0);
	/* every arena too small fails cleanly and is left as it was */
	for (size = 0; size < 8192; size += 64) {
		llm_arena_init(&arena, region, size);
		ret = llm_gguf_parse(&g, img, len, &arena, err, sizeof(err));
		if (!ret)
			break;
		CHECK_EQ(ret, -ENOMEM);
		CHECK(strstr(err, "arena"));
		CHECK_EQ(arena.used, 0);
		CHECK_EQ(g.n_kv, 0);
		CHECK(g.kv == NULL);
	}
	CHECK_EQ(ret, 0);
	CHECK(size > 0);
	/* the temporary sort index is given back */
	CHECK(arena.used <= size);
	free(img);
}

static void error_buffers(void)
{
	static const unsigned char bad[24] = "GGUF\1\0\0\0";
	struct llm_gguf g;
	char small[8];

	llm_arena_init(&arena, region, REGION);
	CHECK_EQ(llm_gguf_parse(&g, bad, sizeof(bad), &arena, NULL, 100),
		 -EINVAL);
	CHECK_EQ(llm_gguf_parse(&g, bad, sizeof(bad), &arena, small, 0),
		 -EINVAL);
	memset(small, 'x', sizeof(small));
	CHECK_EQ(llm_gguf_parse(&g, bad, sizeof(bad), &arena, small,
				sizeof(small)), -EINVAL);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	CHECK_EQ(llm_gguf_parse(&g, NULL, 0, &arena, err, sizeof(err)),
		 -EINVAL);
	CHECK(err[0]);
	CHECK_EQ(parse(&g, bad, sizeof(bad)), -EINVAL);
	CHECK(strstr(err, "version 1"));
}

/* Values as messages show them: decimal without float arithmetic. */
static void show_values(void)
{
	static const struct {
		float f;
		const char *want;
	} f32s[] = {
		{ 1.0f, "1" }, { 0.5f, "0.5" }, { -2.5f, "-2.5" },
		{ 0.0f, "0" }, { -0.0f, "-0" }, { 1e-5f, "0.00001" },
		{ 0.1f, "0.1" }, { 0.000123f, "0.000123" }, { 1e-6f, "1e-6" },
		{ 1.5e-7f, "1.5e-7" }, { 10000.0f, "10000" },
		{ 3.14159265f, "3.141593" }, { 12345678.0f, "1.234568e7" },
		{ 1234567.0f, "1234567" }, { 1e11f, "1e11" },
		{ 3.4028235e38f, "3.402823e38" }, { 1e-45f, "1.401298e-45" },
		{ __builtin_inff(), "inf" }, { -__builtin_inff(), "-inf" },
		{ __builtin_nanf(""), "nan" },
	};
	static const struct {
		const char *key, *want;
	} others[] = {
		{ "test.u8", "200" }, { "test.i8", "-5" },
		{ "test.u32", "4000000000" }, { "test.i64", "-1099511627776" },
		{ "test.u64", "1099511627776" }, { "test.f64", "2.25" },
		{ "test.bool_t", "true" }, { "test.bool_f", "false" },
		{ "test.str", "hello" }, { "test.str_nul", "a?b" },
		{ "test.str_empty", "" }, { "test.arr_u8", "an array of 3 u8" },
		{ "test.arr_empty", "an array of 0 u32" },
		{ "test.arr_str", "an array of 4 string" },
	};
	struct llm_gguf_writer *w = llm_gguf_writer_new(0);
	char key[32], buf[48], tiny[8];
	struct llm_gguf g;
	size_t len, i;
	void *img;

	for (i = 0; i < ARRAY_SIZE(f32s); i++) {
		snprintf(key, sizeof(key), "f%zu", i);
		CHECK_EQ(llm_gguf_writer_add_f32(w, key, f32s[i].f), 0);
	}
	CHECK_EQ(llm_gguf_writer_add_f64(w, "d0", 1e300), 0);
	CHECK_EQ(llm_gguf_writer_add_f64(w, "d1", 0.1), 0);
	CHECK_EQ(llm_gguf_writer_add_str(w, "long", "0123456789abcdef"), 0);
	CHECK_EQ(llm_gguf_writer_to_mem(w, &img, &len), 0);
	llm_gguf_writer_free(w);
	CHECK_EQ(parse(&g, img, len), 0);
	for (i = 0; i < ARRAY_SIZE(f32s); i++) {
		llm_gguf_show_value(&g.kv[i], buf, sizeof(buf));
		if (strcmp(buf, f32s[i].want)) {
			check_fail(__FILE__, __LINE__, "%g shows as %s, not %s",
				   f32s[i].f, buf, f32s[i].want);
			break;
		}
	}
	if (check_failed()) {
		free(img);
		return;
	}
	llm_gguf_show_value(&g.kv[i], buf, sizeof(buf));
	CHECK(!strcmp(buf, "1e300"));
	llm_gguf_show_value(&g.kv[i + 1], buf, sizeof(buf));
	CHECK(!strcmp(buf, "0.1"));
	/* cut to the buffer, with "..." */
	llm_gguf_show_value(&g.kv[i + 2], tiny, sizeof(tiny));
	CHECK(!strcmp(tiny, "0123..."));
	llm_gguf_show(tiny, sizeof(tiny), g.kv[i + 2].key);
	CHECK(!strcmp(tiny, "long"));
	free(img);

	CHECK_EQ(hostile_synth_base(&img, &len), 0);
	CHECK_EQ(parse(&g, img, len), 0);
	for (i = 0; i < ARRAY_SIZE(others); i++) {
		llm_gguf_show_value(llm_gguf_find(&g, others[i].key), buf,
				    sizeof(buf));
		if (strcmp(buf, others[i].want)) {
			check_fail(__FILE__, __LINE__, "%s shows as %s, not %s",
				   others[i].key, buf, others[i].want);
			break;
		}
	}
	free(img);
}

/* Parse a copy of exactly @len bytes, so any over-read hits a redzone. */
static int parse_exact(struct llm_gguf *g, const void *data, size_t len,
		       void **copy)
{
	*copy = malloc(len ? len : 1);
	if (!*copy)
		return -ENOMEM;
	memcpy(*copy, data, len);
	return parse(g, *copy, len);
}

/*
 * A case the model binding must refuse: it parses, and llm_model_load()
 * then fails, leaving the model zeroed.  -EPROTO when it does not parse.
 */
static int load_exact(const void *data, size_t len, void **copy)
{
	static struct llm_model m;
	struct llm_gguf g;
	int ret = parse_exact(&g, data, len, copy);

	if (ret)
		return -EPROTO;
	llm_arena_init(&arena, region, REGION);
	ret = llm_model_load(&m, *copy, len, &arena, true, err, sizeof(err));
	if (m.gguf.n_kv || m.layers || m.vocab.tok)
		return -EFAULT;
	return ret;
}

static void run_hostile(const void *base, size_t len, const char *what)
{
	struct hostile_set set;
	size_t i, n_sample = 0, n_bind = 0;

	CHECK_EQ(hostile_build(base, len, &set), 0);
	CHECK(set.n > 100);
	for (i = 0; i < set.n; i++) {
		const struct hostile_case *c = &set.c[i];
		struct llm_gguf g = { 0 };
		void *copy;
		int ret = c->bind ? load_exact(c->data, c->len, &copy) :
			  parse_exact(&g, c->data, c->len, &copy);

		if (ret >= 0 || ret == -EPROTO || ret == -EFAULT || !err[0] ||
		    (c->expect[0] && !strstr(err, c->expect)) ||
		    arena.used != 0 || g.n_kv || g.kv || g.tensors) {
			check_fail(__FILE__, __LINE__,
				   "%s: case %s: ret %d, message \"%s\", expected \"%s\"",
				   what, c->name, ret, err,
				   c->expect[0] ? c->expect : "(any)");
			free(copy);
			break;
		}
		n_bind += c->bind;
		if (getenv("GGUF_SHOW"))
			printf("# %-28s %s\n", c->name, err);
		n_sample += c->sample;
		free(copy);
	}
	if (!check_failed())
		printf("# %s: %zu hostile files refused, %zu of them as models (%zu in the QEMU sample)\n",
		       what, set.n, n_bind, n_sample);
	hostile_free(&set);
}

static void hostile_synthetic(void)
{
	size_t len;
	void *img;

	CHECK_EQ(hostile_synth_base(&img, &len), 0);
	run_hostile(img, len, "synthetic");
	free(img);
}

static void hostile_real(void)
{
	size_t len;
	void *img = load("stories260K-Q4_0.gguf", &len);

	CHECK(img);
	run_hostile(img, len, "stories260K-Q4_0");
	free(img);
}

/*
 * Every byte of the synthetic file's metadata set to a few values: the
 * parse may succeed or fail, but never reads outside the image, and what
 * it accepts is consistent.
 */
static void byte_mutations(void)
{
	static const u8 vals[] = { 0x00, 0x01, 0x02, 0x07, 0x0d, 0x20, 0x7f,
				   0x80, 0xfe, 0xff };
	struct llm_gguf g;
	size_t len, at, v, meta, n_ok = 0, n_bad = 0;
	unsigned char *img, *copy;
	int ret;

	CHECK_EQ(hostile_synth_base((void **)&img, &len), 0);
	CHECK_EQ(parse(&g, img, len), 0);
	meta = g.data_offset;
	copy = malloc(len);
	CHECK(copy);
	for (at = 0; at < meta; at++) {
		for (v = 0; v < sizeof(vals); v++) {
			memcpy(copy, img, len);
			copy[at] = vals[v];
			ret = parse(&g, copy, len);
			if (ret) {
				CHECK(err[0]);
				CHECK_EQ(arena.used, 0);
				n_bad++;
			} else {
				CHECK(sane(&g, copy, len));
				n_ok++;
			}
		}
	}
	printf("# byte mutations: %zu accepted, %zu refused\n", n_ok, n_bad);
	free(copy);
	free(img);
}

int main(void)
{
	llm_log_quiet = 1;
	region = aligned_alloc(4096, REGION);
	if (!region)
		return 1;
	RUN(real_f32);
	RUN(real_q8_0);
	RUN(real_q4_0);
	RUN(roundtrip_real);
	RUN(roundtrip_synth);
	RUN(getters);
	RUN(string_arrays_real);
	RUN(versions_and_alignment);
	RUN(writer_checks);
	RUN(small_arena);
	RUN(error_buffers);
	RUN(show_values);
	RUN(hostile_synthetic);
	RUN(hostile_real);
	RUN(byte_mutations);
	free(region);
	return check_done();
}
