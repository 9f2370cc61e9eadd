// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile GGUF files.  See gguf_hostile.h.
 *
 * Each case is the base file with one defect: a field patched in place
 * (its position found by parsing the valid base), or the base rewritten
 * with the GGUF writer in unchecked mode plus one bad key/value pair or
 * tensor, or the base cut short.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_hostile.h"
#include "llm/core/gguf.h"
#include "llm/core/model.h"
#include "arena/arena.h"
#include "quant/quant.h"
#include "userctl/gguf_writer.h"

struct gen {
	const unsigned char *base;
	size_t len;
	struct llm_gguf g;
	struct hostile_set *set;
	int err;
	bool bind;		/* making cases a model binding refuses */
};

/* Raw little-endian bytes for hand-made values. */
struct raw {
	unsigned char b[256];
	size_t n;
};

static void r8(struct raw *r, u8 v)
{
	r->b[r->n++] = v;
}

static void r32(struct raw *r, u32 v)
{
	memcpy(r->b + r->n, &v, 4);
	r->n += 4;
}

static void r64(struct raw *r, u64 v)
{
	memcpy(r->b + r->n, &v, 8);
	r->n += 8;
}

static void rbytes(struct raw *r, const char *s)
{
	size_t n = strlen(s);

	memcpy(r->b + r->n, s, n);
	r->n += n;
}

static void add(struct gen *x, const char *name, const char *expect,
		bool sample, const void *data, size_t len)
{
	struct hostile_set *s = x->set;
	struct hostile_case *c;

	if (x->err)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;

		c = realloc(s->c, cap * sizeof(*c));
		if (!c) {
			x->err = -ENOMEM;
			return;
		}
		s->c = c;
		s->cap = cap;
	}
	c = &s->c[s->n];
	memset(c, 0, sizeof(*c));
	c->data = malloc(len ? len : 1);
	if (!c->data) {
		x->err = -ENOMEM;
		return;
	}
	memcpy(c->data, data, len);
	c->len = len;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->expect, sizeof(c->expect), "%s", expect ? expect : "");
	c->sample = sample;
	c->bind = x->bind;
	s->n++;
}

/* The base with @n bytes at @off replaced. */
static void patch(struct gen *x, const char *name, const char *expect,
		  bool sample, u64 off, const void *bytes, size_t n)
{
	unsigned char *p;

	if (x->err)
		return;
	if (off > x->len || n > x->len - off) {
		fprintf(stderr, "hostile: %s: patch outside the base\n", name);
		x->err = -EINVAL;
		return;
	}
	p = malloc(x->len);
	if (!p) {
		x->err = -ENOMEM;
		return;
	}
	memcpy(p, x->base, x->len);
	memcpy(p + off, bytes, n);
	add(x, name, expect, sample, p, x->len);
	free(p);
}

static void patch32(struct gen *x, const char *name, const char *expect,
		    bool sample, u64 off, u32 v)
{
	patch(x, name, expect, sample, off, &v, 4);
}

static void patch64(struct gen *x, const char *name, const char *expect,
		    bool sample, u64 off, u64 v)
{
	patch(x, name, expect, sample, off, &v, 8);
}

static void truncated(struct gen *x, u64 at, bool sample)
{
	char name[64];

	if (at >= x->len)
		return;
	snprintf(name, sizeof(name), "trunc-%llu", (unsigned long long)at);
	add(x, name, NULL, sample, x->base, at);
}

static u64 pos(const struct gen *x, const void *p)
{
	return (u64)((const unsigned char *)p - x->base);
}

/* An unchecked writer holding the base's version and key/value pairs. */
static struct llm_gguf_writer *clone_kvs(struct gen *x)
{
	struct llm_gguf_writer *w;
	u64 i;

	if (x->err)
		return NULL;
	w = llm_gguf_writer_new(LLM_GGUF_WRITER_UNCHECKED);
	if (!w) {
		x->err = -ENOMEM;
		return NULL;
	}
	llm_gguf_writer_set_version(w, x->g.version);
	for (i = 0; i < x->g.n_kv; i++)
		if (llm_gguf_writer_copy_kv(w, &x->g.kv[i]))
			x->err = -ENOMEM;
	return w;
}

static void clone_tensors(struct gen *x, struct llm_gguf_writer *w)
{
	u64 i;

	for (i = 0; w && i < x->g.n_tensors; i++)
		if (llm_gguf_writer_copy_tensor(w, &x->g.tensors[i]))
			x->err = -ENOMEM;
}

static void finish(struct gen *x, struct llm_gguf_writer *w,
		   const char *name, const char *expect, bool sample)
{
	void *buf;
	size_t len;

	if (!w)
		return;
	if (!x->err) {
		if (llm_gguf_writer_to_mem(w, &buf, &len)) {
			fprintf(stderr, "hostile: %s: %s\n", name,
				llm_gguf_writer_error(w));
			x->err = -EINVAL;
		} else {
			add(x, name, expect, sample, buf, len);
			free(buf);
		}
	}
	llm_gguf_writer_free(w);
}

/* The base plus one raw key/value pair after its own. */
static void extra_kv(struct gen *x, const char *name, const char *expect,
		     bool sample, const void *key, u64 key_len, u32 type,
		     const struct raw *val)
{
	struct llm_gguf_writer *w = clone_kvs(x);

	if (w && llm_gguf_writer_add_raw(w, key, key_len, type, val->b,
					 val->n))
		x->err = -ENOMEM;
	clone_tensors(x, w);
	finish(x, w, name, expect, sample);
}

static void extra_kv_named(struct gen *x, const char *name,
			   const char *expect, bool sample, const char *key,
			   u32 type, const struct raw *val)
{
	extra_kv(x, name, expect, sample, key, strlen(key), type, val);
}

/* The base plus one tensor after its own. */
static void extra_tensor(struct gen *x, const char *name, const char *expect,
			 bool sample, const char *tname, size_t tname_len,
			 u32 type, u32 n_dims, const u64 *ne, u64 nbytes)
{
	struct llm_gguf_writer *w = clone_kvs(x);
	struct llm_gguf_tensor t = { 0 };

	clone_tensors(x, w);
	if (w) {
		t.name.p = tname;
		t.name.len = tname_len;
		t.type = type;
		t.n_dims = n_dims;
		/* copy_tensor takes up to 4 dims; more go through add */
		if (n_dims <= LLM_GGUF_MAX_DIMS) {
			memcpy(t.ne, ne, n_dims * sizeof(*ne));
			t.nbytes = nbytes;
			if (llm_gguf_writer_copy_tensor(w, &t))
				x->err = -ENOMEM;
		} else if (llm_gguf_writer_add_tensor(w, tname, type, n_dims,
						      ne, NULL, nbytes)) {
			x->err = -ENOMEM;
		}
	}
	finish(x, w, name, expect, sample);
}

static void header_cases(struct gen *x)
{
	u64 rest = x->len - 24;

	add(x, "empty", "header", false, x->base, 0);
	patch(x, "magic-ggml", "magic", true, 0, "GGML", 4);
	patch(x, "magic-zero", "magic", false, 0, "\0\0\0\0", 4);
	patch32(x, "version-0", "version 0", false, 4, 0);
	patch32(x, "version-1", "version 1", true, 4, 1);
	patch32(x, "version-4", "version 4", false, 4, 4);
	patch32(x, "version-max", "not supported", false, 4, 0xffffffffu);
	patch32(x, "version-bigendian", "big-endian", true, 4, 0x03000000u);
	patch64(x, "n_tensors-max", "tensors", true, 8, U64_MAX);
	patch64(x, "n_tensors-over", "tensors", false, 8, rest / 33 + 1);
	patch64(x, "n_tensors-2^32", "tensors", false, 8,
		(1ull << 32) + x->g.n_tensors);
	patch64(x, "n_tensors-plus1", NULL, false, 8, x->g.n_tensors + 1);
	patch64(x, "n_kv-max", "key/value pairs", true, 16, U64_MAX);
	patch64(x, "n_kv-over", "key/value pairs", false, 16, rest / 14 + 1);
	patch64(x, "n_kv-2^63", "key/value pairs", false, 16, 1ull << 63);
	patch64(x, "n_kv-plus1", NULL, false, 16, x->g.n_kv + 1);
}

static void key_cases(struct gen *x)
{
	static char longkey[LLM_GGUF_MAX_KEY_LEN + 1];
	u64 key0 = pos(x, x->g.kv[0].key.p) - 8;
	struct llm_gguf_writer *w;
	struct raw v = { 0 };

	patch64(x, "key-len-max", "runs past the end", true, key0, U64_MAX);
	patch64(x, "key-len-2^63", "runs past the end", false, key0,
		1ull << 63);
	patch64(x, "key-len-wrap", "runs past the end", false, key0,
		U64_MAX - 7);
	patch64(x, "key-len-zero", "empty key", false, key0, 0);

	r32(&v, 7);
	extra_kv(x, "key-empty", "empty key", true, "", 0, LLM_GGUF_U32, &v);
	memset(longkey, 'k', sizeof(longkey));
	extra_kv(x, "key-too-long", "the limit is", true, longkey,
		 sizeof(longkey), LLM_GGUF_U32, &v);

	/* the first pair again, after all the others */
	w = clone_kvs(x);
	if (w && llm_gguf_writer_copy_kv(w, &x->g.kv[0]))
		x->err = -ENOMEM;
	clone_tensors(x, w);
	finish(x, w, "key-duplicate", "appears twice", true);

	w = clone_kvs(x);
	if (w && (llm_gguf_writer_add_u32(w, "general.alignment", 32) ||
		  llm_gguf_writer_add_u32(w, "general.alignment", 32)))
		x->err = -ENOMEM;
	clone_tensors(x, w);
	finish(x, w, "key-duplicate-alignment", "appears twice", false);
}

static void value_cases(struct gen *x)
{
	struct raw v;

	v = (struct raw){ 0 };
	r32(&v, 1);
	extra_kv_named(x, "kv-type-13", "unknown value type", true,
		       "hostile.type", 13, &v);
	extra_kv_named(x, "kv-type-max", "unknown value type", false,
		       "hostile.type", 0xffffffffu, &v);

	v = (struct raw){ 0 };
	r32(&v, LLM_GGUF_ARRAY);
	r64(&v, 1);
	r32(&v, LLM_GGUF_U32);
	r64(&v, 1);
	r32(&v, 5);
	extra_kv_named(x, "kv-array-nested", "array of arrays", true,
		       "hostile.nested", LLM_GGUF_ARRAY, &v);

	v = (struct raw){ 0 };
	r32(&v, 13);
	r64(&v, 1);
	r32(&v, 5);
	extra_kv_named(x, "kv-array-unknown-elem", "unknown element type",
		       false, "hostile.arr", LLM_GGUF_ARRAY, &v);

	v = (struct raw){ 0 };
	r32(&v, LLM_GGUF_U32);
	r64(&v, U64_MAX);
	r32(&v, 5);
	extra_kv_named(x, "kv-array-len-max", "claims", false,
		       "hostile.arr", LLM_GGUF_ARRAY, &v);

	/* 2^62 u32s: the byte count wraps to 0 */
	v = (struct raw){ 0 };
	r32(&v, LLM_GGUF_U32);
	r64(&v, 1ull << 62);
	r32(&v, 5);
	extra_kv_named(x, "kv-array-len-wrap", "claims", true,
		       "hostile.arr", LLM_GGUF_ARRAY, &v);

	v = (struct raw){ 0 };
	r32(&v, LLM_GGUF_F64);
	r64(&v, 1ull << 61);
	r64(&v, 0);
	extra_kv_named(x, "kv-array-f64-len-wrap", "claims", false,
		       "hostile.arr", LLM_GGUF_ARRAY, &v);

	v = (struct raw){ 0 };
	r32(&v, LLM_GGUF_STRING);
	r64(&v, U64_MAX);
	r64(&v, 0);
	extra_kv_named(x, "kv-array-str-count-max", "claims", false,
		       "hostile.strs", LLM_GGUF_ARRAY, &v);

	v = (struct raw){ 0 };
	r32(&v, LLM_GGUF_STRING);
	r64(&v, 2);
	r64(&v, 2);
	rbytes(&v, "ab");
	r64(&v, U64_MAX);
	rbytes(&v, "cd");
	extra_kv_named(x, "kv-array-str-len-max", "runs past the end", true,
		       "hostile.strs", LLM_GGUF_ARRAY, &v);

	v = (struct raw){ 0 };
	r32(&v, LLM_GGUF_STRING);
	r64(&v, 2);
	r64(&v, U64_MAX - 7);
	rbytes(&v, "ab");
	extra_kv_named(x, "kv-array-str-len-wrap", "runs past the end", false,
		       "hostile.strs", LLM_GGUF_ARRAY, &v);

	v = (struct raw){ 0 };
	r64(&v, U64_MAX);
	rbytes(&v, "abc");
	extra_kv_named(x, "kv-str-len-max", "runs past the end", true,
		       "hostile.str", LLM_GGUF_STRING, &v);

	v = (struct raw){ 0 };
	r64(&v, U64_MAX - 7);
	rbytes(&v, "abc");
	extra_kv_named(x, "kv-str-len-wrap", "runs past the end", false,
		       "hostile.str", LLM_GGUF_STRING, &v);

	v = (struct raw){ 0 };
	r64(&v, 1ull << 40);
	rbytes(&v, "abc");
	extra_kv_named(x, "kv-str-len-past", "runs past the end", false,
		       "hostile.str", LLM_GGUF_STRING, &v);

	v = (struct raw){ 0 };
	r8(&v, 2);
	extra_kv_named(x, "kv-bool-2", "bool", true, "hostile.bool",
		       LLM_GGUF_BOOL, &v);
	v = (struct raw){ 0 };
	r8(&v, 0xff);
	extra_kv_named(x, "kv-bool-ff", "bool", false, "hostile.bool",
		       LLM_GGUF_BOOL, &v);

	v = (struct raw){ 0 };
	r32(&v, LLM_GGUF_BOOL);
	r64(&v, 3);
	r8(&v, 1);
	r8(&v, 0);
	r8(&v, 2);
	extra_kv_named(x, "kv-bool-array", "bool", true, "hostile.bools",
		       LLM_GGUF_ARRAY, &v);
}

static void alignment_cases(struct gen *x)
{
	struct raw v;

	v = (struct raw){ 0 };
	r32(&v, 0);
	extra_kv_named(x, "align-0", "power of two", true,
		       "general.alignment", LLM_GGUF_U32, &v);
	v = (struct raw){ 0 };
	r32(&v, 3);
	extra_kv_named(x, "align-3", "power of two", true,
		       "general.alignment", LLM_GGUF_U32, &v);
	v = (struct raw){ 0 };
	r32(&v, 96);
	extra_kv_named(x, "align-96", "power of two", false,
		       "general.alignment", LLM_GGUF_U32, &v);
	v = (struct raw){ 0 };
	r64(&v, 32);
	extra_kv_named(x, "align-u64", "must be u32", true,
		       "general.alignment", LLM_GGUF_U64, &v);
	v = (struct raw){ 0 };
	r64(&v, 2);
	rbytes(&v, "32");
	extra_kv_named(x, "align-string", "must be u32", false,
		       "general.alignment", LLM_GGUF_STRING, &v);

	/*
	 * A power of two so large that the data section would start past
	 * the end: written as 32 (the writer would lay out gigabytes),
	 * then patched.
	 */
	v = (struct raw){ 0 };
	r32(&v, 32);
	extra_kv_named(x, "align-2^31", "data section", false,
		       "general.alignment", LLM_GGUF_U32, &v);
	if (!x->err) {
		struct hostile_case *c = &x->set->c[x->set->n - 1];
		static const char key[] = "general.alignment\4\0\0\0";
		unsigned char *p = memmem(c->data, c->len, key, sizeof(key) - 1);
		u32 a = 1u << 31;

		if (p)
			memcpy(p + sizeof(key) - 1, &a, 4);
		else
			x->err = -EINVAL;
	}
}

/* Field positions of a tensor info in the base. */
struct ti_pos {
	u64 name;		/* its u64 length */
	u64 n_dims;
	u64 dims;
	u64 type;
	u64 offset;
};

static struct ti_pos ti_pos(const struct gen *x, const struct llm_gguf_tensor *t)
{
	struct ti_pos p;

	p.name = pos(x, t->name.p) - 8;
	p.n_dims = pos(x, t->name.p) + t->name.len;
	p.dims = p.n_dims + 4;
	p.type = p.dims + 8 * (u64)t->n_dims;
	p.offset = p.type + 4;
	return p;
}

static void tensor_info_cases(struct gen *x)
{
	static char longname[LLM_GGUF_MAX_KEY_LEN + 1];
	const struct llm_gguf_tensor *t0 = &x->g.tensors[0];
	struct ti_pos p = ti_pos(x, t0);
	u64 ne[5] = { 32, 1, 1, 1, 1 };
	struct llm_gguf_writer *w;

	patch64(x, "tensor-name-len-max", "runs past the end", false, p.name,
		U64_MAX);
	patch64(x, "tensor-name-len-zero", "empty name", false, p.name, 0);
	extra_tensor(x, "tensor-name-empty", "empty name", false, "", 0,
		     LLM_T_F32, 1, ne, 128);
	memset(longname, 't', sizeof(longname));
	extra_tensor(x, "tensor-name-too-long", "the limit is", false,
		     longname, sizeof(longname), LLM_T_F32, 1, ne, 128);

	/* the first tensor again, same name, own copy of the data */
	w = clone_kvs(x);
	clone_tensors(x, w);
	if (w && llm_gguf_writer_copy_tensor(w, t0))
		x->err = -ENOMEM;
	finish(x, w, "tensor-name-duplicate", "appears twice", true);

	extra_tensor(x, "tensor-ndims-0", "dimensions", true, "hostile.t", 9,
		     LLM_T_F32, 0, ne, 4);
	extra_tensor(x, "tensor-ndims-5", "dimensions", true, "hostile.t", 9,
		     LLM_T_F32, 5, ne, 128);
	patch32(x, "tensor-ndims-max", "dimensions", false, p.n_dims,
		0xffffffffu);
	patch64(x, "tensor-dim0-zero", "size 0", true, p.dims, 0);
	patch64(x, "tensor-dimlast-zero", "size 0", false,
		p.dims + 8 * (u64)(t0->n_dims - 1), 0);

	ne[0] = 1ull << 32;
	ne[1] = 1ull << 32;
	extra_tensor(x, "tensor-dims-overflow", "2^64 elements", true,
		     "hostile.t", 9, LLM_T_F32, 2, ne, 32);
	ne[0] = ne[1] = ne[2] = ne[3] = 65537;
	extra_tensor(x, "tensor-dims4-overflow", "2^64 elements", false,
		     "hostile.t", 9, LLM_T_F32, 4, ne, 32);
	ne[0] = 1ull << 62;
	extra_tensor(x, "tensor-bytes-overflow", "2^64 bytes", true,
		     "hostile.t", 9, LLM_T_F32, 1, ne, 32);
	ne[0] = 1ull << 63;
	extra_tensor(x, "tensor-dim-negative", "2^64 bytes", false,
		     "hostile.t", 9, LLM_T_F16, 1, ne, 32);
	ne[0] = 1ull << 40;
	extra_tensor(x, "tensor-huge", "outside the file", false,
		     "hostile.t", 9, LLM_T_F32, 1, ne, 32);

	patch32(x, "tensor-type-q3_k", "has type Q3_K (11), which llm does not support",
		true, p.type, 11);
	/* a K-quant runs, but only in rows of whole super-blocks */
	patch32(x, "tensor-type-q4_k-rows", "not a multiple of the Q4_K block size 256",
		true, p.type, 12);
	patch32(x, "tensor-type-q4_1", "Q4_1 (3)", false, p.type, 3);
	patch32(x, "tensor-type-bf16", "BF16 (30)", false, p.type, 30);
	patch32(x, "tensor-type-99", "(99), which llm does not support",
		false, p.type, 99);
	patch32(x, "tensor-type-max", "which llm does not support", false,
		p.type, 0xffffffffu);
	ne[0] = 48;
	ne[1] = 2;
	extra_tensor(x, "tensor-row-not-block", "not a multiple", true,
		     "hostile.t", 9, LLM_T_Q8_0, 2, ne, 2 * 34 + 32);
}

static void offset_cases(struct gen *x)
{
	u64 align = x->g.alignment, room = x->len - x->g.data_offset;
	const struct llm_gguf_tensor *big = &x->g.tensors[0], *other;
	const struct llm_gguf_tensor *last;
	u64 i, off;

	for (i = 1; i < x->g.n_tensors; i++)
		if (x->g.tensors[i].nbytes > big->nbytes)
			big = &x->g.tensors[i];
	other = big == &x->g.tensors[0] ? &x->g.tensors[1] : &x->g.tensors[0];
	last = big;
	for (i = 0; i < x->g.n_tensors; i++)
		if (x->g.tensors[i].offset > last->offset)
			last = &x->g.tensors[i];

	off = ti_pos(x, other).offset;
	patch64(x, "tensor-offset-misaligned", "not a multiple of the alignment",
		true, off, other->offset + (align > 1 ? align / 2 : 1));
	patch64(x, "tensor-offset-max", "outside the file", true, off,
		U64_MAX & ~(align - 1));
	patch64(x, "tensor-offset-past", "outside the file", false, off,
		(room + align) & ~(align - 1));
	patch64(x, "tensor-overlap-same", "overlap", false, off, big->offset);
	if (big->nbytes > align &&
	    big->offset + align + other->nbytes <= room)
		patch64(x, "tensor-overlap-partial", "overlap", true, off,
			big->offset + align);
	/* the last tensor moved so that it ends just past the file */
	patch64(x, "tensor-end-past", "outside the file", true,
		ti_pos(x, last).offset,
		(room - last->nbytes + align) & ~(align - 1));
}

static void truncation_cases(struct gen *x)
{
	u64 i, d, at, stride, end_meta = x->g.data_offset;
	const u64 fixed[] = { 0, 1, 3, 4, 5, 7, 8, 12, 15, 16, 20, 23, 24 };
	struct ti_pos p;

	for (i = 0; i < ARRAY_SIZE(fixed); i++)
		truncated(x, fixed[i], fixed[i] == 12);
	for (i = 0; i < x->g.n_kv; i++) {
		const struct llm_gguf_kv *kv = &x->g.kv[i];
		u64 k = pos(x, kv->key.p) - 8, v = pos(x, kv->val);

		truncated(x, k, false);
		truncated(x, k + 4, false);
		truncated(x, k + 8, false);
		truncated(x, v - 4, false);
		truncated(x, v - 1, false);
		truncated(x, v, i == x->g.n_kv / 2);
		truncated(x, v + 1, false);
		if (kv->type == LLM_GGUF_ARRAY) {
			truncated(x, v + 4, false);
			truncated(x, v + 12, false);
			truncated(x, pos(x, kv->arr_data) + kv->arr_bytes - 1,
				  false);
		}
	}
	for (i = 0; i < x->g.n_tensors; i++) {
		p = ti_pos(x, &x->g.tensors[i]);
		truncated(x, p.name, false);
		truncated(x, p.name + 8, false);
		truncated(x, p.n_dims, false);
		for (d = 0; d <= x->g.tensors[i].n_dims; d++)
			truncated(x, p.dims + 8 * d, false);
		truncated(x, p.type + 2, i == x->g.n_tensors / 2);
		truncated(x, p.offset, false);
		truncated(x, p.offset + 7, false);
	}
	truncated(x, end_meta - 1, false);
	truncated(x, end_meta, false);
	/* inside the data of the first, a middle and the last tensor */
	for (i = 0; i < x->g.n_tensors; i += x->g.n_tensors / 2 ?
	     x->g.n_tensors / 2 : 1) {
		const struct llm_gguf_tensor *t = &x->g.tensors[i];

		at = x->g.data_offset + t->offset;
		truncated(x, at + 1, false);
		truncated(x, at + t->nbytes / 2, i == 0);
		truncated(x, at + t->nbytes - 1, false);
	}
	/* a stride through the header, key/value pairs and tensor infos */
	stride = end_meta / 1500 > 7 ? end_meta / 1500 : 7;
	for (at = 2; at < end_meta; at += stride)
		truncated(x, at, false);
}

/* ---- cases a model binding refuses (the base loads as a model) ---- */

static void raw_str(struct raw *r, const char *s)
{
	*r = (struct raw){ 0 };
	r64(r, strlen(s));
	rbytes(r, s);
}

static void raw_u32(struct raw *r, u32 v)
{
	*r = (struct raw){ 0 };
	r32(r, v);
}

static void raw_f32(struct raw *r, float f)
{
	u32 v;

	memcpy(&v, &f, 4);
	raw_u32(r, v);
}

static void raw_bool(struct raw *r, bool b)
{
	*r = (struct raw){ 0 };
	r8(r, b);
}

/* The base plus @key = @v, which binding it as a model must refuse. */
static void model_kv(struct gen *x, const char *name, bool sample,
		     const char *key, u32 type, const struct raw *v,
		     const char *expect)
{
	char full[64];

	if (llm_gguf_find(&x->g, key))
		return;		/* the base has it: a duplicate, not this case */
	snprintf(full, sizeof(full), "model-%s", name);
	extra_kv_named(x, full, expect, sample, key, type, v);
}

/* The base plus an F32 tensor @tname of @n elements. */
static void model_tensor(struct gen *x, const char *name, bool sample,
			 const char *tname, u64 n, const char *expect)
{
	const u64 ne[1] = { n };
	char full[64];

	snprintf(full, sizeof(full), "model-%s", name);
	extra_tensor(x, full, expect, sample, tname, strlen(tname), LLM_T_F32,
		     1, ne, n * 4);
}

static void model_key_cases(struct gen *x, const struct llm_model *m)
{
	const struct llm_config *c = &m->cfg;
	u32 eot = (m->vocab.eos + 1) % m->vocab.n;
	char e[160];
	struct raw v;

	raw_str(&v, "linear");
	model_kv(x, "rope-scaling-linear", true, "llama.rope.scaling.type",
		 LLM_GGUF_STRING, &v,
		 "llama.rope.scaling.type = linear: RoPE scaling is not supported");
	raw_str(&v, "yarn");
	model_kv(x, "rope-scaling-yarn", false, "llama.rope.scaling.type",
		 LLM_GGUF_STRING, &v,
		 "llama.rope.scaling.type = yarn: RoPE scaling is not supported");
	raw_u32(&v, 1);
	model_kv(x, "rope-scaling-type-u32", false, "llama.rope.scaling.type",
		 LLM_GGUF_U32, &v,
		 "llama.rope.scaling.type = 1: RoPE scaling is not supported");
	raw_f32(&v, 4.0f);
	model_kv(x, "rope-scaling-factor", false, "llama.rope.scaling.factor",
		 LLM_GGUF_F32, &v,
		 "llama.rope.scaling.factor = 4: RoPE scaling is not supported");
	raw_f32(&v, 2.0f);
	model_kv(x, "rope-scale-linear", false, "llama.rope.scale_linear",
		 LLM_GGUF_F32, &v,
		 "llama.rope.scale_linear = 2: RoPE scaling is not supported");
	raw_f32(&v, 0.5f);
	model_kv(x, "rope-attn-factor", false, "llama.rope.scaling.attn_factor",
		 LLM_GGUF_F32, &v,
		 "llama.rope.scaling.attn_factor = 0.5: scaling attention by a RoPE factor is not supported");
	raw_f32(&v, 0.1f);
	model_kv(x, "rope-yarn-log-mul", false,
		 "llama.rope.scaling.yarn_log_multiplier", LLM_GGUF_F32, &v,
		 "llama.rope.scaling.yarn_log_multiplier = 0.1: RoPE scaling is not supported");

	raw_u32(&v, 8);
	model_kv(x, "expert-count", true, "llama.expert_count", LLM_GGUF_U32,
		 &v, "llama.expert_count = 8: mixture-of-experts llama models are not supported (qwen3moe is)");
	raw_u32(&v, 2);
	model_kv(x, "expert-used-count", false, "llama.expert_used_count",
		 LLM_GGUF_U32, &v,
		 "llama.expert_used_count = 2: mixture-of-experts llama models are not supported (qwen3moe is)");
	raw_u32(&v, 1);
	model_kv(x, "expert-shared-count", false, "llama.expert_shared_count",
		 LLM_GGUF_U32, &v,
		 "llama.expert_shared_count = 1: shared or grouped experts are not supported");

	raw_u32(&v, 2 * c->head_dim);
	/* wider heads are read, and the matrices must then be wider */
	snprintf(e, sizeof(e), "tensor blk.0.attn_q.weight has shape [%u, %u], expected [%u, %u]",
		 c->n_embd, c->n_embd, c->n_embd, 2 * c->n_embd);
	model_kv(x, "key-length", false, "llama.attention.key_length",
		 LLM_GGUF_U32, &v, e);
	raw_u32(&v, c->head_dim / 2);
	snprintf(e, sizeof(e), "llama.attention.value_length = %u: value heads of another width than key heads (%u) are not supported",
		 c->head_dim / 2, c->head_dim);
	model_kv(x, "value-length", false, "llama.attention.value_length",
		 LLM_GGUF_U32, &v, e);
	raw_u32(&v, m->vocab.n + 1);
	snprintf(e, sizeof(e), "llama.vocab_size = %u: it must be the number of tokens in tokenizer.ggml.tokens (%u)",
		 m->vocab.n + 1, m->vocab.n);
	model_kv(x, "vocab-size", false, "llama.vocab_size", LLM_GGUF_U32, &v,
		 e);

	raw_f32(&v, 1e-5f);
	model_kv(x, "layer-norm-epsilon", true,
		 "llama.attention.layer_norm_epsilon", LLM_GGUF_F32, &v,
		 "llama.attention.layer_norm_epsilon = 0.00001: LayerNorm is not supported (llama normalises with RMSNorm)");
	raw_u32(&v, c->n_ctx_train / 2);
	snprintf(e, sizeof(e), "llama.attention.sliding_window = %u: sliding-window attention is not supported and the window is shorter than the context (%u)",
		 c->n_ctx_train / 2, c->n_ctx_train);
	model_kv(x, "sliding-window", true, "llama.attention.sliding_window",
		 LLM_GGUF_U32, &v, e);
	raw_bool(&v, false);
	model_kv(x, "non-causal", false, "llama.attention.causal",
		 LLM_GGUF_BOOL, &v,
		 "llama.attention.causal = false: non-causal attention is not supported");
	raw_f32(&v, 8.0f);
	model_kv(x, "clamp-kqv", false, "llama.attention.clamp_kqv",
		 LLM_GGUF_F32, &v,
		 "llama.attention.clamp_kqv = 8: clamping Q, K and V is not supported");
	raw_f32(&v, 8.0f);
	model_kv(x, "alibi", false, "llama.attention.max_alibi_bias",
		 LLM_GGUF_F32, &v,
		 "llama.attention.max_alibi_bias = 8: ALiBi is not supported");
	raw_f32(&v, 0.5f);
	model_kv(x, "logit-scale", false, "llama.logit_scale", LLM_GGUF_F32,
		 &v, "llama.logit_scale = 0.5: scaling the logits is not supported");
	raw_f32(&v, 30.0f);
	model_kv(x, "final-softcapping", false, "llama.final_logit_softcapping",
		 LLM_GGUF_F32, &v,
		 "llama.final_logit_softcapping = 30: soft-capping logits is not supported");
	raw_bool(&v, true);
	model_kv(x, "parallel-residual", false, "llama.use_parallel_residual",
		 LLM_GGUF_BOOL, &v,
		 "llama.use_parallel_residual = true: parallel residual blocks are not supported");
	raw_u32(&v, 1);
	model_kv(x, "pooling", false, "llama.pooling_type", LLM_GGUF_U32, &v,
		 "llama.pooling_type = 1: pooled embeddings are not supported");
	raw_f32(&v, 12.0f);
	model_kv(x, "unknown-embedding-scale", true, "llama.embedding_scale",
		 LLM_GGUF_F32, &v,
		 "llama.embedding_scale = 12: unknown key, refused rather than ignored");
	raw_f32(&v, 0.125f);
	model_kv(x, "unknown-attention-scale", false, "llama.attention.scale",
		 LLM_GGUF_F32, &v,
		 "llama.attention.scale = 0.125: unknown key, refused rather than ignored");

	raw_bool(&v, true);
	model_kv(x, "add-eos", true, "tokenizer.ggml.add_eos_token",
		 LLM_GGUF_BOOL, &v,
		 "tokenizer.ggml.add_eos_token = true: appending EOS to the prompt is not supported");
	raw_bool(&v, true);
	model_kv(x, "add-sep", false, "tokenizer.ggml.add_sep_token",
		 LLM_GGUF_BOOL, &v,
		 "tokenizer.ggml.add_sep_token = true: appending a separator to the prompt is not supported");
	raw_u32(&v, eot);
	snprintf(e, sizeof(e), "tokenizer.ggml.eom_token_id = %u: stopping at a token other than EOS or EOT is not supported (EOS is %u)",
		 eot, m->vocab.eos);
	model_kv(x, "eom", false, "tokenizer.ggml.eom_token_id", LLM_GGUF_U32,
		 &v, e);
	raw_bool(&v, true);
	model_kv(x, "remove-whitespace", false,
		 "tokenizer.ggml.remove_extra_whitespaces", LLM_GGUF_BOOL, &v,
		 "tokenizer.ggml.remove_extra_whitespaces = true: collapsing whitespace is not supported");
	raw_bool(&v, true);
	model_kv(x, "lowercase", false, "tokenizer.ggml.normalizer.lowercase",
		 LLM_GGUF_BOOL, &v,
		 "tokenizer.ggml.normalizer.lowercase = true: normalising text is not supported");
	v = (struct raw){ 0 };
	r32(&v, LLM_GGUF_U8);
	r64(&v, 4);
	r32(&v, 0x01020304);
	model_kv(x, "charsmap", false, "tokenizer.ggml.precompiled_charsmap",
		 LLM_GGUF_ARRAY, &v,
		 "tokenizer.ggml.precompiled_charsmap = an array of 4 u8: normalising text is not supported");
	v = (struct raw){ 0 };
	r32(&v, LLM_GGUF_I32);
	r64(&v, 2);
	r32(&v, 5);
	r32(&v, 6);
	model_kv(x, "unknown-tokenizer-key", false,
		 "tokenizer.ggml.suppress_tokens", LLM_GGUF_ARRAY, &v,
		 "tokenizer.ggml.suppress_tokens = an array of 2 i32: unknown key, refused rather than ignored");

	raw_str(&v, "adapter");
	model_kv(x, "general-type-adapter", true, "general.type",
		 LLM_GGUF_STRING, &v, "general.type = adapter: only model files load");
	raw_str(&v, "lora");
	model_kv(x, "adapter-type", false, "adapter.type", LLM_GGUF_STRING, &v,
		 "adapter.type = lora: adapter files are not supported");
	v = (struct raw){ 0 };
	r8(&v, 3);
	r8(&v, 0);
	model_kv(x, "split-count", false, "split.count", LLM_GGUF_U16, &v,
		 "split.count = 3: split files are not supported; merge the parts into one file");
}

static void model_tensor_cases(struct gen *x, const struct llm_model *m)
{
	const struct llm_config *c = &m->cfg;
	char t[64], e[160];

	/* rope_freqs.weight (Llama 3.1's scaling) loads, if it is n_rot / 2 */
	snprintf(e, sizeof(e),
		 "tensor rope_freqs.weight has shape [%u, 1], expected [%u, 1]",
		 c->n_rot / 2 + 1, c->n_rot / 2);
	model_tensor(x, "rope-freqs-length", true, "rope_freqs.weight",
		     c->n_rot / 2 + 1, e);
	model_tensor(x, "rope-factors-long", false, "rope_factors_long.weight",
		     c->n_rot / 2,
		     "tensor rope_factors_long.weight: RoPE frequency factors other than rope_freqs.weight are not supported");
	model_tensor(x, "attn-q-bias", true, "blk.0.attn_q.bias", c->n_embd,
		     "tensor blk.0.attn_q.bias: llama has no such bias");
	model_tensor(x, "attn-q-norm", false, "blk.0.attn_q_norm.weight",
		     c->head_dim,
		     "tensor blk.0.attn_q_norm.weight: llama does not normalise queries and keys");
	model_tensor(x, "ffn-gate-inp", false, "blk.0.ffn_gate_inp.weight",
		     c->n_embd,
		     "tensor blk.0.ffn_gate_inp.weight: llama has no experts");
	model_tensor(x, "ffn-up-exps", false, "blk.1.ffn_up_exps.weight",
		     c->n_embd,
		     "tensor blk.1.ffn_up_exps.weight: llama has no experts");
	model_tensor(x, "attn-qkv", false, "blk.0.attn_qkv.weight", c->n_embd,
		     "tensor blk.0.attn_qkv.weight: llama has no fused Q/K/V matrix");
	snprintf(t, sizeof(t), "blk.%u.attn_q.weight", c->n_layers);
	snprintf(e, sizeof(e), "tensor %s: the model has %u blocks (llama.block_count)",
		 t, c->n_layers);
	model_tensor(x, "block-past-count", true, t, c->n_embd, e);
	model_tensor(x, "block-leading-zero", false, "blk.00.attn_q.weight",
		     c->n_embd,
		     "tensor blk.00.attn_q.weight: the llama forward pass does not use it");
	model_tensor(x, "position-embd", false, "position_embd.weight",
		     c->n_embd,
		     "tensor position_embd.weight: llama has no learned positions");
}

/* The cases a model binding refuses, when @base binds as a model. */
static void model_cases(struct gen *x)
{
	size_t region_len = 64 * 1024 + x->len * 8;
	void *region = malloc(region_len);
	struct llm_arena arena;
	struct llm_model m;
	char err[256];

	if (!region) {
		x->err = -ENOMEM;
		return;
	}
	llm_arena_init(&arena, region, region_len);
	if (!llm_model_load(&m, x->base, x->len, &arena, true, err,
			    sizeof(err))) {
		x->bind = true;
		model_key_cases(x, &m);
		model_tensor_cases(x, &m);
		x->bind = false;
	}
	free(region);
}

int hostile_build(const void *base, size_t len, struct hostile_set *set)
{
	size_t region_len = 64 * 1024 + len * 8;
	void *region = malloc(region_len);
	struct llm_arena arena;
	struct gen x = { .base = base, .len = len, .set = set };
	char err[256];
	int ret;

	memset(set, 0, sizeof(*set));
	if (!region)
		return -ENOMEM;
	llm_arena_init(&arena, region, region_len);
	ret = llm_gguf_parse(&x.g, base, len, &arena, err, sizeof(err));
	if (ret || x.g.n_tensors < 2 || !x.g.n_kv) {
		fprintf(stderr, "hostile: the base must be a valid GGUF with keys and two tensors%s%s\n",
			ret ? ": " : "", ret ? err : "");
		free(region);
		return -EINVAL;
	}
	header_cases(&x);
	key_cases(&x);
	value_cases(&x);
	alignment_cases(&x);
	tensor_info_cases(&x);
	offset_cases(&x);
	truncation_cases(&x);
	model_cases(&x);
	free(region);
	if (x.err)
		hostile_free(set);
	return x.err;
}

void hostile_free(struct hostile_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		free(set->c[i].data);
	free(set->c);
	memset(set, 0, sizeof(*set));
}

/* Deterministic filler for tensor data. */
static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + seed * 13 + 1);
}

int hostile_synth_base(void **img, size_t *len)
{
	static const u8 a_u8[] = { 1, 2, 250 };
	static const s8 a_i8[] = { -1, 2, -128 };
	static const u16 a_u16[] = { 1, 65535 };
	static const s16 a_i16[] = { -2, 300 };
	static const u32 a_u32[] = { 0, 1, 4000000000u };
	static const s32 a_i32[] = { -7, 7 };
	static const float a_f32[] = { 0.5f, -1.0f, 3.25f };
	static const u8 a_bool[] = { 1, 0, 1 };
	static const u64 a_u64[] = { 1ull << 40 };
	static const s64 a_i64[] = { -(1ll << 40), 5 };
	static const double a_f64[] = { 0.125, -2.5 };
	static const struct llm_gguf_str strs[] = {
		{ "<unk>", 5 }, { "", 0 }, { "a\0b", 3 }, { "h\xc3\xa9llo", 6 },
	};
	static unsigned char data[4][512];
	const u64 ne_tok[] = { 8, 3 }, ne_norm[] = { 32 };
	const u64 ne_q4[] = { 64, 2 }, ne_q8[] = { 32, 3 }, ne_v[] = { 5 };
	struct llm_gguf_writer *w = llm_gguf_writer_new(0);
	int ret = 0;

	if (!w)
		return -ENOMEM;
	fill(data[0], sizeof(data[0]), 0);
	fill(data[1], sizeof(data[1]), 1);
	fill(data[2], sizeof(data[2]), 2);
	fill(data[3], sizeof(data[3]), 3);
	ret |= llm_gguf_writer_add_str(w, "general.architecture", "llama");
	ret |= llm_gguf_writer_add_str(w, "general.name", "synthetic");
	ret |= llm_gguf_writer_add_u8(w, "test.u8", 200);
	ret |= llm_gguf_writer_add_i8(w, "test.i8", -5);
	ret |= llm_gguf_writer_add_u16(w, "test.u16", 60000);
	ret |= llm_gguf_writer_add_i16(w, "test.i16", -300);
	ret |= llm_gguf_writer_add_u32(w, "test.u32", 4000000000u);
	ret |= llm_gguf_writer_add_i32(w, "test.i32", -1);
	ret |= llm_gguf_writer_add_i32(w, "test.i32_pos", 7);
	ret |= llm_gguf_writer_add_u64(w, "test.u64", 1ull << 40);
	ret |= llm_gguf_writer_add_i64(w, "test.i64", -(1ll << 40));
	ret |= llm_gguf_writer_add_i64(w, "test.i64_pos", 5);
	ret |= llm_gguf_writer_add_f32(w, "test.f32", 1.5f);
	ret |= llm_gguf_writer_add_f64(w, "test.f64", 2.25);
	ret |= llm_gguf_writer_add_bool(w, "test.bool_t", true);
	ret |= llm_gguf_writer_add_bool(w, "test.bool_f", false);
	ret |= llm_gguf_writer_add_str(w, "test.str", "hello");
	ret |= llm_gguf_writer_add_strn(w, "test.str_nul", "a\0b", 3);
	ret |= llm_gguf_writer_add_str(w, "test.str_empty", "");
	ret |= llm_gguf_writer_add_arr(w, "test.arr_u8", LLM_GGUF_U8, a_u8, 3);
	ret |= llm_gguf_writer_add_arr(w, "test.arr_i8", LLM_GGUF_I8, a_i8, 3);
	ret |= llm_gguf_writer_add_arr(w, "test.arr_u16", LLM_GGUF_U16, a_u16,
				       2);
	ret |= llm_gguf_writer_add_arr(w, "test.arr_i16", LLM_GGUF_I16, a_i16,
				       2);
	ret |= llm_gguf_writer_add_arr(w, "test.arr_u32", LLM_GGUF_U32, a_u32,
				       3);
	ret |= llm_gguf_writer_add_arr(w, "test.arr_i32", LLM_GGUF_I32, a_i32,
				       2);
	ret |= llm_gguf_writer_add_arr(w, "test.arr_f32", LLM_GGUF_F32, a_f32,
				       3);
	ret |= llm_gguf_writer_add_arr(w, "test.arr_bool", LLM_GGUF_BOOL,
				       a_bool, 3);
	ret |= llm_gguf_writer_add_arr(w, "test.arr_u64", LLM_GGUF_U64, a_u64,
				       1);
	ret |= llm_gguf_writer_add_arr(w, "test.arr_i64", LLM_GGUF_I64, a_i64,
				       2);
	ret |= llm_gguf_writer_add_arr(w, "test.arr_f64", LLM_GGUF_F64, a_f64,
				       2);
	ret |= llm_gguf_writer_add_arr(w, "test.arr_empty", LLM_GGUF_U32,
				       a_u32, 0);
	ret |= llm_gguf_writer_add_arr_strn(w, "test.arr_str", strs, 4);
	ret |= llm_gguf_writer_add_tensor(w, "tok.f32", LLM_T_F32, 2, ne_tok,
					  data[0], 8 * 3 * 4);
	ret |= llm_gguf_writer_add_tensor(w, "norm.f16", LLM_T_F16, 1,
					  ne_norm, data[1], 32 * 2);
	ret |= llm_gguf_writer_add_tensor(w, "w.q4_0", LLM_T_Q4_0, 2, ne_q4,
					  data[2], 2 * 2 * 18);
	ret |= llm_gguf_writer_add_tensor(w, "w.q8_0", LLM_T_Q8_0, 2, ne_q8,
					  data[3], 3 * 34);
	ret |= llm_gguf_writer_add_tensor(w, "v.f32", LLM_T_F32, 1, ne_v,
					  data[0] + 256, 5 * 4);
	if (ret) {
		fprintf(stderr, "hostile: synthetic base: %s\n",
			llm_gguf_writer_error(w));
		llm_gguf_writer_free(w);
		return -EINVAL;
	}
	ret = llm_gguf_writer_to_mem(w, img, len);
	llm_gguf_writer_free(w);
	return ret;
}

/* Shape of hostile_synth_model(). */
#define SM_EMBD		32
#define SM_HEADS	4
#define SM_KV_HEADS	2
#define SM_FF		48
#define SM_LAYERS	2
#define SM_VOCAB	8
#define SM_CTX		64
#define SM_KV_DIM	(SM_EMBD / SM_HEADS * SM_KV_HEADS)

/* Small deterministic weights (exact binary fractions). */
static float *sm_weights(size_t n, unsigned int seed)
{
	float *p = malloc(n * sizeof(*p));
	size_t i;

	for (i = 0; p && i < n; i++)
		p[i] = (float)((int)((i * 37 + seed * 101) % 64) - 32) / 256.0f;
	return p;
}

int hostile_synth_model(void **img, size_t *len)
{
	static const char *const tokens[SM_VOCAB] = {
		"<unk>", "<s>", "</s>", "\xe2\x96\x81", "a", "b",
		"\xe2\x96\x81\x61", "ab",
	};
	static const float scores[SM_VOCAB] = { 0, 0, 0, -1, -2, -3, -4, -5 };
	static const s32 types[SM_VOCAB] = { 2, 3, 3, 1, 1, 1, 1, 1 };
	static const struct {
		const char *name;
		u64 cols, rows;
	} layer[] = {
		{ "attn_norm", SM_EMBD, 1 },
		{ "attn_q", SM_EMBD, SM_EMBD },
		{ "attn_k", SM_EMBD, SM_KV_DIM },
		{ "attn_v", SM_EMBD, SM_KV_DIM },
		{ "attn_output", SM_EMBD, SM_EMBD },
		{ "ffn_norm", SM_EMBD, 1 },
		{ "ffn_gate", SM_EMBD, SM_FF },
		{ "ffn_up", SM_EMBD, SM_FF },
		{ "ffn_down", SM_FF, SM_EMBD },
	};
	struct llm_gguf_writer *w = llm_gguf_writer_new(0);
	float *data[2 + SM_LAYERS * ARRAY_SIZE(layer)] = { NULL };
	size_t nd = 0, i, k;
	char name[64];
	int ret = 0;

	if (!w)
		return -ENOMEM;
	ret |= llm_gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", tokens,
					   SM_VOCAB);
	ret |= llm_gguf_writer_add_arr(w, "tokenizer.ggml.scores", LLM_GGUF_F32,
				       scores, SM_VOCAB);
	ret |= llm_gguf_writer_add_arr(w, "tokenizer.ggml.token_type",
				       LLM_GGUF_I32, types, SM_VOCAB);
	ret |= llm_gguf_writer_add_str(w, "tokenizer.ggml.model", "llama");
	ret |= llm_gguf_writer_add_str(w, "general.architecture", "llama");
	ret |= llm_gguf_writer_add_str(w, "general.name", "tiny");
	ret |= llm_gguf_writer_add_u32(w, "tokenizer.ggml.unknown_token_id", 0);
	ret |= llm_gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", 1);
	ret |= llm_gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", 2);
	ret |= llm_gguf_writer_add_u32(w, "llama.context_length", SM_CTX);
	ret |= llm_gguf_writer_add_u32(w, "llama.embedding_length", SM_EMBD);
	ret |= llm_gguf_writer_add_u32(w, "llama.feed_forward_length", SM_FF);
	ret |= llm_gguf_writer_add_u32(w, "llama.attention.head_count",
				       SM_HEADS);
	ret |= llm_gguf_writer_add_u32(w, "llama.attention.head_count_kv",
				       SM_KV_HEADS);
	ret |= llm_gguf_writer_add_u32(w, "llama.block_count", SM_LAYERS);
	ret |= llm_gguf_writer_add_u32(w, "llama.rope.dimension_count",
				       SM_EMBD / SM_HEADS);
	ret |= llm_gguf_writer_add_f32(w, "llama.attention.layer_norm_rms_epsilon",
				       1e-5f);

	data[nd] = sm_weights(SM_EMBD * SM_VOCAB, nd);
	ret |= !data[nd] || llm_gguf_writer_add_tensor(w, "token_embd.weight",
			LLM_T_F32, 2, (u64[]){ SM_EMBD, SM_VOCAB }, data[nd],
			SM_EMBD * SM_VOCAB * 4);
	nd++;
	data[nd] = sm_weights(SM_EMBD, nd);
	ret |= !data[nd] || llm_gguf_writer_add_tensor(w, "output_norm.weight",
			LLM_T_F32, 1, (u64[]){ SM_EMBD }, data[nd],
			SM_EMBD * 4);
	nd++;
	for (i = 0; i < SM_LAYERS; i++) {
		for (k = 0; k < ARRAY_SIZE(layer); k++, nd++) {
			u64 ne[2] = { layer[k].cols, layer[k].rows };
			u64 n = ne[0] * ne[1];

			snprintf(name, sizeof(name), "blk.%zu.%s.weight", i,
				 layer[k].name);
			data[nd] = sm_weights(n, nd);
			ret |= !data[nd] ||
			       llm_gguf_writer_add_tensor(w, name, LLM_T_F32,
							  ne[1] == 1 ? 1 : 2,
							  ne, data[nd], n * 4);
		}
	}
	if (ret)
		fprintf(stderr, "hostile: synthetic model: %s\n",
			llm_gguf_writer_error(w));
	else
		ret = llm_gguf_writer_to_mem(w, img, len);
	llm_gguf_writer_free(w);
	for (i = 0; i < nd; i++)
		free(data[i]);
	return ret ? -EINVAL : 0;
}
