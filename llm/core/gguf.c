// SPDX-License-Identifier: GPL-2.0
/*
 * GGUF v2/v3 reader over an image in memory.  See gguf.h for the API.
 *
 * The file, little-endian throughout:
 *
 *	magic u32 "GGUF", version u32, n_tensors u64, n_kv u64
 *	n_kv times:	 key (string), value type u32, value
 *	n_tensors times: name (string), n_dims u32, ne u64[n_dims], type u32,
 *			 offset u64 (from the start of the data section)
 *	zero padding up to general.alignment (default 32)
 *	the data section
 *
 * A string is a u64 length and that many bytes.  A value is a scalar, a
 * string, or an array: element type u32, count u64, the elements.
 *
 * Nothing in the image is trusted.  Every read compares against the bytes
 * that remain (never pos + n, which could wrap), every count is bounded by
 * the bytes left before a table is allocated for it, and every size is
 * computed with overflow checks.  No float arithmetic happens here: float
 * values are only carried as bits.
 */
#include "platform.h"
#include "gguf.h"
#include "../../arena/arena.h"
#include "../../quant/quant.h"

#define GGUF_HEADER_BYTES	24
/* Smallest encodings: a 1-byte key with a u8 value; a 1-byte name, 1 dim. */
#define GGUF_KV_MIN_BYTES	(8 + 1 + 4 + 1)
#define GGUF_TI_MIN_BYTES	(8 + 1 + 4 + 8 + 4 + 8)
/* Longest part of a key or tensor name that a message shows. */
#define GGUF_SHOW_MAX		48
#define GGUF_SHOW_BYTES		(GGUF_SHOW_MAX + 4)
/* Give the CPU away this often in loops whose length the file chooses. */
#define GGUF_YIELD_MASK		0xffff

/* printf's %llu wants unsigned long long, which u64 is not in userspace */
static inline unsigned long long ull(u64 x)
{
	return x;
}

struct gguf_rd {
	const u8 *img;
	u64 len;
	u64 pos;
	u64 file_len;		/* len, or more when img is a prefix */
	bool prefix;		/* img is the file's start: no tensor data */
	bool more;		/* ran out of the prefix: read more */
	char *err;
	size_t errlen;
	char where[GGUF_SHOW_BYTES + 32];	/* what is being read */
	char name[GGUF_SHOW_BYTES];		/* current key or tensor name */
};

static const char *const gguf_vtype_names[LLM_GGUF_NTYPES] = {
	[LLM_GGUF_U8] = "u8",		[LLM_GGUF_I8] = "i8",
	[LLM_GGUF_U16] = "u16",		[LLM_GGUF_I16] = "i16",
	[LLM_GGUF_U32] = "u32",		[LLM_GGUF_I32] = "i32",
	[LLM_GGUF_F32] = "f32",		[LLM_GGUF_BOOL] = "bool",
	[LLM_GGUF_STRING] = "string",	[LLM_GGUF_ARRAY] = "array",
	[LLM_GGUF_U64] = "u64",		[LLM_GGUF_I64] = "i64",
	[LLM_GGUF_F64] = "f64",
};

/* Bytes of one value of a fixed-size type; 0 for strings and arrays. */
static const u8 gguf_vtype_size[LLM_GGUF_NTYPES] = {
	[LLM_GGUF_U8] = 1,	[LLM_GGUF_I8] = 1,
	[LLM_GGUF_U16] = 2,	[LLM_GGUF_I16] = 2,
	[LLM_GGUF_U32] = 4,	[LLM_GGUF_I32] = 4,
	[LLM_GGUF_F32] = 4,	[LLM_GGUF_BOOL] = 1,
	[LLM_GGUF_U64] = 8,	[LLM_GGUF_I64] = 8,
	[LLM_GGUF_F64] = 8,
};

/**
 * llm_gguf_vtype_name - name of a GGUF metadata value type
 * @type: an enum llm_gguf_vtype value, or anything read from a file
 *
 * Return: "u32", "string", ...; "unknown" for numbers GGUF does not define.
 */
const char *llm_gguf_vtype_name(u32 type)
{
	return type < LLM_GGUF_NTYPES ? gguf_vtype_names[type] : "unknown";
}

/* A printable, bounded copy of a key or tensor name, for messages. */
static void gguf_show(char *buf, const char *p, u64 len)
{
	size_t n = 0;

	while (n < len && n < GGUF_SHOW_MAX) {
		u8 c = p[n];

		buf[n++] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	if (n < len) {
		buf[n++] = '.';
		buf[n++] = '.';
		buf[n++] = '.';
	}
	buf[n] = '\0';
}

static u64 gguf_at(const struct gguf_rd *r, const void *p)
{
	return (u64)((const u8 *)p - r->img);
}

static bool gguf_need(struct gguf_rd *r, u64 n)
{
	if (n <= r->len - r->pos)
		return true;
	r->more = true;
	llm_snprintf(r->err, r->errlen,
		     "file ends at byte %llu in %s: %llu bytes needed at byte %llu",
		     ull(r->len), r->where, ull(n), ull(r->pos));
	return false;
}

static int gguf_u32(struct gguf_rd *r, u32 *v)
{
	if (!gguf_need(r, 4))
		return -EINVAL;
	*v = llm_get_le32(r->img + r->pos);
	r->pos += 4;
	return 0;
}

static int gguf_u64(struct gguf_rd *r, u64 *v)
{
	if (!gguf_need(r, 8))
		return -EINVAL;
	*v = llm_get_le64(r->img + r->pos);
	r->pos += 8;
	return 0;
}

static int gguf_str(struct gguf_rd *r, struct llm_gguf_str *s)
{
	u64 at = r->pos, n;

	if (gguf_u64(r, &n))
		return -EINVAL;
	if (n > r->len - r->pos) {
		r->more = true;
		llm_snprintf(r->err, r->errlen,
			     "string of %llu bytes at byte %llu in %s runs past the end of the file (%llu bytes)",
			     ull(n), ull(at), r->where, ull(r->len));
		return -EINVAL;
	}
	s->p = (const char *)r->img + r->pos;
	s->len = n;
	r->pos += n;
	return 0;
}

/*
 * A key or a tensor name: non-empty and at most LLM_GGUF_MAX_KEY_LEN
 * bytes.  @item is "key/value pair" or "tensor", @noun "key" or "name".
 */
static int gguf_name(struct gguf_rd *r, struct llm_gguf_str *s,
		     const char *item, const char *noun, u64 idx)
{
	u64 at = r->pos;

	if (gguf_str(r, s))
		return -EINVAL;
	if (!s->len) {
		llm_snprintf(r->err, r->errlen,
			     "%s %llu has an empty %s at byte %llu",
			     item, ull(idx), noun, ull(at));
		return -EINVAL;
	}
	if (s->len > LLM_GGUF_MAX_KEY_LEN) {
		llm_snprintf(r->err, r->errlen,
			     "%s %llu has a %s of %llu bytes at byte %llu; the limit is %u",
			     item, ull(idx), noun, ull(s->len), ull(at),
			     LLM_GGUF_MAX_KEY_LEN);
		return -EINVAL;
	}
	gguf_show(r->name, s->p, s->len);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sorting table indices, to find duplicates and overlaps in n log n.  */

static void gguf_sift(u32 *idx, u32 root, u32 n,
		      int (*cmp)(const void *tab, u32 a, u32 b),
		      const void *tab)
{
	for (;;) {
		u32 child = 2 * root + 1, t;

		if (child >= n)
			return;
		if (child + 1 < n && cmp(tab, idx[child], idx[child + 1]) < 0)
			child++;
		if (cmp(tab, idx[root], idx[child]) >= 0)
			return;
		t = idx[root];
		idx[root] = idx[child];
		idx[child] = t;
		root = child;
	}
}

/* Heapsort: no recursion, no extra memory, n log n at worst. */
static void gguf_sort(u32 *idx, u32 n,
		      int (*cmp)(const void *tab, u32 a, u32 b),
		      const void *tab)
{
	u32 i, t;

	for (i = 0; i < n; i++)
		idx[i] = i;
	for (i = n / 2; i-- > 0;)
		gguf_sift(idx, i, n, cmp, tab);
	for (i = n; i-- > 1;) {
		t = idx[0];
		idx[0] = idx[i];
		idx[i] = t;
		gguf_sift(idx, 0, i, cmp, tab);
		if (!(i & GGUF_YIELD_MASK))
			llm_yield();
	}
}

static int gguf_str_cmp(const struct llm_gguf_str *a,
			const struct llm_gguf_str *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->p, b->p, a->len);
}

static int gguf_cmp_key(const void *tab, u32 a, u32 b)
{
	const struct llm_gguf_kv *kv = tab;

	return gguf_str_cmp(&kv[a].key, &kv[b].key);
}

static int gguf_cmp_name(const void *tab, u32 a, u32 b)
{
	const struct llm_gguf_tensor *t = tab;

	return gguf_str_cmp(&t[a].name, &t[b].name);
}

static int gguf_cmp_offset(const void *tab, u32 a, u32 b)
{
	const struct llm_gguf_tensor *t = tab;

	if (t[a].offset != t[b].offset)
		return t[a].offset < t[b].offset ? -1 : 1;
	return a < b ? -1 : a > b;
}

static u32 *gguf_index(struct gguf_rd *r, struct llm_arena *arena, u64 n,
		       const char *what)
{
	u32 *idx = llm_arena_alloc_array(arena, n, sizeof(u32), sizeof(u32));

	if (!idx)
		llm_snprintf(r->err, r->errlen,
			     "not enough arena memory to check %llu %s (%zu bytes left)",
			     ull(n), what, llm_arena_avail(arena, sizeof(u32)));
	return idx;
}

/* ------------------------------------------------------------------ */
/* Header and key/value pairs.                                         */

static int gguf_parse_header(struct gguf_rd *r, struct llm_gguf *g)
{
	u32 magic;
	u64 rest;

	llm_snprintf(r->where, sizeof(r->where), "the header");
	if (gguf_u32(r, &magic))
		return -EINVAL;
	if (magic != LLM_GGUF_MAGIC) {
		llm_snprintf(r->err, r->errlen,
			     "not a GGUF file: the magic at byte 0 is 0x%08x, not 0x%08x (\"GGUF\")",
			     magic, LLM_GGUF_MAGIC);
		return -EINVAL;
	}
	if (!gguf_need(r, GGUF_HEADER_BYTES - 4))
		return -EINVAL;
	gguf_u32(r, &g->version);
	gguf_u64(r, &g->n_tensors);
	gguf_u64(r, &g->n_kv);
	if (g->version != 2 && g->version != 3) {
		if (g->version && !(g->version & 0xffff))
			llm_snprintf(r->err, r->errlen,
				     "GGUF version 0x%08x at byte 4 looks big-endian; only little-endian files are supported",
				     g->version);
		else
			llm_snprintf(r->err, r->errlen,
				     "GGUF version %u at byte 4 is not supported (only versions 2 and 3 are)",
				     g->version);
		return -EINVAL;
	}
	rest = r->len - r->pos;
	if (g->n_kv > rest / GGUF_KV_MIN_BYTES ||
	    g->n_kv > LLM_GGUF_MAX_ITEMS) {
		r->more = true;
		llm_snprintf(r->err, r->errlen,
			     "the header claims %llu key/value pairs, more than the %llu bytes after it can hold",
			     ull(g->n_kv), ull(rest));
		return -EINVAL;
	}
	if (g->n_tensors > rest / GGUF_TI_MIN_BYTES ||
	    g->n_tensors > LLM_GGUF_MAX_ITEMS) {
		r->more = true;
		llm_snprintf(r->err, r->errlen,
			     "the header claims %llu tensors, more than the %llu bytes after it can hold",
			     ull(g->n_tensors), ull(rest));
		return -EINVAL;
	}
	return 0;
}

static int gguf_bad_bool(struct gguf_rd *r, const u8 *p)
{
	llm_snprintf(r->err, r->errlen,
		     "key '%s' has bool value %u at byte %llu; a bool must be 0 or 1",
		     r->name, *p, ull(gguf_at(r, p)));
	return -EINVAL;
}

static int gguf_parse_array(struct gguf_rd *r, struct llm_gguf_kv *kv)
{
	struct llm_gguf_str s;
	u64 at = r->pos, start, rest, i;
	u32 size;

	kv->val = r->img + r->pos;
	if (gguf_u32(r, &kv->arr_type) || gguf_u64(r, &kv->arr_n))
		return -EINVAL;
	if (kv->arr_type == LLM_GGUF_ARRAY) {
		llm_snprintf(r->err, r->errlen,
			     "key '%s' is an array of arrays at byte %llu, which is not supported",
			     r->name, ull(at));
		return -EINVAL;
	}
	if (kv->arr_type >= LLM_GGUF_NTYPES) {
		llm_snprintf(r->err, r->errlen,
			     "key '%s' is an array of unknown element type %u at byte %llu",
			     r->name, kv->arr_type, ull(at));
		return -EINVAL;
	}
	/* a string takes at least its 8-byte length */
	size = kv->arr_type == LLM_GGUF_STRING ? 8 :
	       gguf_vtype_size[kv->arr_type];
	rest = r->len - r->pos;
	if (kv->arr_n > rest / size) {
		r->more = true;
		llm_snprintf(r->err, r->errlen,
			     "key '%s' claims %llu %s elements at byte %llu, but only %llu bytes remain",
			     r->name, ull(kv->arr_n),
			     gguf_vtype_names[kv->arr_type], ull(at), ull(rest));
		return -EINVAL;
	}
	start = r->pos;
	kv->arr_data = r->img + start;
	if (kv->arr_type == LLM_GGUF_STRING) {
		for (i = 0; i < kv->arr_n; i++) {
			if (gguf_str(r, &s))
				return -EINVAL;
			if (!(i & GGUF_YIELD_MASK))
				llm_yield();
		}
	} else {
		if (kv->arr_type == LLM_GGUF_BOOL)
			for (i = 0; i < kv->arr_n; i++)
				if (kv->arr_data[i] > 1)
					return gguf_bad_bool(r,
							     kv->arr_data + i);
		r->pos += kv->arr_n * size;
	}
	kv->arr_bytes = r->pos - start;
	return 0;
}

static int gguf_parse_value(struct gguf_rd *r, struct llm_gguf_kv *kv,
			    u64 type_at)
{
	struct llm_gguf_str s;
	u32 size;

	if (kv->type == LLM_GGUF_ARRAY)
		return gguf_parse_array(r, kv);
	kv->val = r->img + r->pos;
	if (kv->type == LLM_GGUF_STRING)
		return gguf_str(r, &s);
	if (kv->type >= LLM_GGUF_NTYPES) {
		llm_snprintf(r->err, r->errlen,
			     "key '%s' has unknown value type %u at byte %llu",
			     r->name, kv->type, ull(type_at));
		return -EINVAL;
	}
	size = gguf_vtype_size[kv->type];
	if (!gguf_need(r, size))
		return -EINVAL;
	if (kv->type == LLM_GGUF_BOOL && *kv->val > 1)
		return gguf_bad_bool(r, kv->val);
	r->pos += size;
	return 0;
}

static int gguf_check_keys(struct gguf_rd *r, struct llm_gguf *g,
			   struct llm_arena *arena)
{
	size_t mark = llm_arena_mark(arena);
	u32 *idx, i, n = (u32)g->n_kv;
	int ret = 0;

	if (n < 2)
		return 0;
	idx = gguf_index(r, arena, n, "keys");
	if (!idx)
		return -ENOMEM;
	gguf_sort(idx, n, gguf_cmp_key, g->kv);
	for (i = 1; i < n; i++) {
		const struct llm_gguf_kv *a = &g->kv[idx[i - 1]];
		const struct llm_gguf_kv *b = &g->kv[idx[i]];

		if (gguf_str_cmp(&a->key, &b->key))
			continue;
		if (a > b) {
			const struct llm_gguf_kv *t = a;

			a = b;
			b = t;
		}
		gguf_show(r->name, a->key.p, a->key.len);
		llm_snprintf(r->err, r->errlen,
			     "key '%s' appears twice, at bytes %llu and %llu",
			     r->name, ull(gguf_at(r, a->key.p) - 8),
			     ull(gguf_at(r, b->key.p) - 8));
		ret = -EINVAL;
		break;
	}
	llm_arena_rewind(arena, mark);
	return ret;
}

static int gguf_parse_kvs(struct gguf_rd *r, struct llm_gguf *g,
			  struct llm_arena *arena)
{
	u64 i, type_at;
	int ret;

	if (!g->n_kv)
		return 0;
	/* n_kv was bounded by the bytes after the header and MAX_ITEMS */
	g->kv = llm_arena_alloc_array(arena, (size_t)g->n_kv, sizeof(*g->kv),
				      0);
	if (!g->kv) {
		llm_snprintf(r->err, r->errlen,
			     "not enough arena memory for %llu key/value pairs (%zu bytes left)",
			     ull(g->n_kv), llm_arena_avail(arena, 0));
		return -ENOMEM;
	}
	memset(g->kv, 0, (size_t)g->n_kv * sizeof(*g->kv));
	for (i = 0; i < g->n_kv; i++) {
		struct llm_gguf_kv *kv = &g->kv[i];

		llm_snprintf(r->where, sizeof(r->where),
			     "key/value pair %llu", ull(i));
		ret = gguf_name(r, &kv->key, "key/value pair", "key", i);
		if (ret)
			return ret;
		llm_snprintf(r->where, sizeof(r->where), "key '%s'", r->name);
		type_at = r->pos;
		ret = gguf_u32(r, &kv->type);
		if (!ret)
			ret = gguf_parse_value(r, kv, type_at);
		if (ret)
			return ret;
	}
	return gguf_check_keys(r, g, arena);
}

static int gguf_parse_alignment(struct gguf_rd *r, struct llm_gguf *g)
{
	const struct llm_gguf_kv *kv = llm_gguf_find(g, "general.alignment");
	u32 a;

	g->alignment = LLM_GGUF_DEFAULT_ALIGN;
	if (!kv)
		return 0;
	if (kv->type != LLM_GGUF_U32) {
		llm_snprintf(r->err, r->errlen,
			     "general.alignment at byte %llu has type %s; it must be u32",
			     ull(gguf_at(r, kv->key.p) - 8),
			     llm_gguf_vtype_name(kv->type));
		return -EINVAL;
	}
	a = llm_get_le32(kv->val);
	if (!LLM_IS_POW2(a)) {
		llm_snprintf(r->err, r->errlen,
			     "general.alignment is %u at byte %llu; it must be a power of two",
			     a, ull(gguf_at(r, kv->val)));
		return -EINVAL;
	}
	g->alignment = a;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Tensor infos and the data section.                                  */

/* Element count, type, row length and byte size of a tensor. */
static int gguf_check_shape(struct gguf_rd *r, struct llm_gguf_tensor *t,
			    u64 dims_at)
{
	const char *tname;
	u64 n = 1, row;
	u32 d;
	int ret;

	for (d = 0; d < t->n_dims; d++) {
		if (check_mul_overflow(n, t->ne[d], &n)) {
			llm_snprintf(r->err, r->errlen,
				     "tensor '%s' has shape %llu x %llu x %llu x %llu at byte %llu, more than 2^64 elements",
				     r->name, ull(t->ne[0]), ull(t->ne[1]),
				     ull(t->ne[2]), ull(t->ne[3]),
				     ull(dims_at));
			return -EINVAL;
		}
	}
	t->n_elems = n;
	if (!llm_type_supported(t->type)) {
		tname = llm_type_name(t->type);
		llm_snprintf(r->err, r->errlen,
			     "tensor '%s' has type %s (%u), which llm does not support",
			     r->name, tname ? tname : "unknown", t->type);
		return -EINVAL;
	}
	ret = llm_type_row_bytes(t->type, t->ne[0], &row);
	if (ret == -EINVAL) {
		llm_snprintf(r->err, r->errlen,
			     "tensor '%s' has rows of %llu elements at byte %llu, not a multiple of the %s block size %u",
			     r->name, ull(t->ne[0]), ull(dims_at),
			     llm_type_name(t->type),
			     llm_type_block_elems(t->type));
		return -EINVAL;
	}
	/* ne[0] >= 1 divides n; rows of ne[0] elements */
	if (ret || check_mul_overflow(row, n / t->ne[0], &t->nbytes)) {
		llm_snprintf(r->err, r->errlen,
			     "tensor '%s' of %llu %s elements (shape at byte %llu) takes more than 2^64 bytes",
			     r->name, ull(n), llm_type_name(t->type),
			     ull(dims_at));
		return -EINVAL;
	}
	return 0;
}

static int gguf_parse_tensor(struct gguf_rd *r, u64 i,
			     struct llm_gguf_tensor *t)
{
	u64 at, dims_at;
	u32 d;
	int ret;

	llm_snprintf(r->where, sizeof(r->where), "tensor info %llu", ull(i));
	ret = gguf_name(r, &t->name, "tensor", "name", i);
	if (ret)
		return ret;
	llm_snprintf(r->where, sizeof(r->where), "tensor '%s'", r->name);
	at = r->pos;
	if (gguf_u32(r, &t->n_dims))
		return -EINVAL;
	if (t->n_dims < 1 || t->n_dims > LLM_GGUF_MAX_DIMS) {
		llm_snprintf(r->err, r->errlen,
			     "tensor '%s' has %u dimensions at byte %llu; GGUF allows 1 to %u",
			     r->name, t->n_dims, ull(at), LLM_GGUF_MAX_DIMS);
		return -EINVAL;
	}
	dims_at = r->pos;
	for (d = 0; d < LLM_GGUF_MAX_DIMS; d++)
		t->ne[d] = 1;
	for (d = 0; d < t->n_dims; d++) {
		at = r->pos;
		if (gguf_u64(r, &t->ne[d]))
			return -EINVAL;
		if (!t->ne[d]) {
			llm_snprintf(r->err, r->errlen,
				     "tensor '%s' has dimension %u of size 0 at byte %llu",
				     r->name, d, ull(at));
			return -EINVAL;
		}
	}
	if (gguf_u32(r, &t->type) || gguf_u64(r, &t->offset))
		return -EINVAL;
	return gguf_check_shape(r, t, dims_at);
}

static int gguf_check_names(struct gguf_rd *r, struct llm_gguf *g,
			    const u32 *idx)
{
	u32 i, n = (u32)g->n_tensors;

	for (i = 1; i < n; i++) {
		const struct llm_gguf_tensor *a = &g->tensors[idx[i - 1]];
		const struct llm_gguf_tensor *b = &g->tensors[idx[i]];

		if (gguf_str_cmp(&a->name, &b->name))
			continue;
		if (a > b) {
			const struct llm_gguf_tensor *t = a;

			a = b;
			b = t;
		}
		gguf_show(r->name, a->name.p, a->name.len);
		llm_snprintf(r->err, r->errlen,
			     "tensor name '%s' appears twice, at bytes %llu and %llu",
			     r->name, ull(gguf_at(r, a->name.p) - 8),
			     ull(gguf_at(r, b->name.p) - 8));
		return -EINVAL;
	}
	return 0;
}

static int gguf_check_overlap(struct gguf_rd *r, struct llm_gguf *g,
			      const u32 *idx)
{
	char other[GGUF_SHOW_BYTES];
	u32 i, n = (u32)g->n_tensors;

	for (i = 1; i < n; i++) {
		const struct llm_gguf_tensor *a = &g->tensors[idx[i - 1]];
		const struct llm_gguf_tensor *b = &g->tensors[idx[i]];

		/* both lie inside the image, so this cannot wrap */
		if (a->offset + a->nbytes <= b->offset)
			continue;
		gguf_show(r->name, a->name.p, a->name.len);
		gguf_show(other, b->name.p, b->name.len);
		llm_snprintf(r->err, r->errlen,
			     "tensors '%s' (%llu bytes at data offset %llu) and '%s' (at data offset %llu) overlap",
			     r->name, ull(a->nbytes), ull(a->offset), other,
			     ull(b->offset));
		return -EINVAL;
	}
	return 0;
}

/* Place each tensor in the data section and check it lies in the image. */
static int gguf_place_tensors(struct gguf_rd *r, struct llm_gguf *g)
{
	u64 data_off, room, end, i;

	if (check_add_overflow(r->pos, (u64)g->alignment - 1, &data_off))
		data_off = U64_MAX;
	data_off &= ~((u64)g->alignment - 1);
	g->tensors_end = r->pos;
	if (data_off > r->file_len) {
		if (!g->n_tensors) {
			/* nothing to place: tolerate a file cut after its
			 * tensor infos, as llama.cpp does
			 */
			g->data_offset = r->file_len;
			return 0;
		}
		llm_snprintf(r->err, r->errlen,
			     "the data section would start at byte %llu (aligned to %u), past the end of the file (%llu bytes)",
			     ull(data_off), g->alignment, ull(r->file_len));
		return -EINVAL;
	}
	g->data_offset = data_off;
	room = r->file_len - data_off;
	for (i = 0; i < g->n_tensors; i++) {
		struct llm_gguf_tensor *t = &g->tensors[i];

		gguf_show(r->name, t->name.p, t->name.len);
		if (t->offset & ((u64)g->alignment - 1)) {
			llm_snprintf(r->err, r->errlen,
				     "tensor '%s' has data offset %llu, not a multiple of the alignment %u",
				     r->name, ull(t->offset), g->alignment);
			return -EINVAL;
		}
		if (check_add_overflow(t->offset, t->nbytes, &end) ||
		    end > room) {
			llm_snprintf(r->err, r->errlen,
				     "tensor '%s' (%llu bytes at data offset %llu) lies outside the file: its data section at byte %llu holds %llu bytes",
				     r->name, ull(t->nbytes), ull(t->offset),
				     ull(data_off), ull(room));
			return -EINVAL;
		}
		/* a prefix holds no data: only where it is */
		t->data = r->prefix ? NULL : r->img + data_off + t->offset;
	}
	return 0;
}

static int gguf_parse_tensors(struct gguf_rd *r, struct llm_gguf *g,
			      struct llm_arena *arena)
{
	u64 i, rest = r->len - r->pos;
	size_t mark;
	u32 *idx;
	int ret;

	if (g->n_tensors > rest / GGUF_TI_MIN_BYTES) {
		r->more = true;
		llm_snprintf(r->err, r->errlen,
			     "the header claims %llu tensors, more than the %llu bytes after the key/value pairs (at byte %llu) can hold",
			     ull(g->n_tensors), ull(rest), ull(r->pos));
		return -EINVAL;
	}
	if (g->n_tensors) {
		g->tensors = llm_arena_alloc_array(arena,
						   (size_t)g->n_tensors,
						   sizeof(*g->tensors), 0);
		if (!g->tensors) {
			llm_snprintf(r->err, r->errlen,
				     "not enough arena memory for %llu tensor infos (%zu bytes left)",
				     ull(g->n_tensors),
				     llm_arena_avail(arena, 0));
			return -ENOMEM;
		}
		memset(g->tensors, 0,
		       (size_t)g->n_tensors * sizeof(*g->tensors));
	}
	for (i = 0; i < g->n_tensors; i++) {
		ret = gguf_parse_tensor(r, i, &g->tensors[i]);
		if (ret)
			return ret;
	}
	ret = gguf_place_tensors(r, g);
	if (ret || g->n_tensors < 2)
		return ret;

	mark = llm_arena_mark(arena);
	idx = gguf_index(r, arena, g->n_tensors, "tensors");
	if (!idx)
		return -ENOMEM;
	gguf_sort(idx, (u32)g->n_tensors, gguf_cmp_name, g->tensors);
	ret = gguf_check_names(r, g, idx);
	if (!ret) {
		gguf_sort(idx, (u32)g->n_tensors, gguf_cmp_offset, g->tensors);
		ret = gguf_check_overlap(r, g, idx);
	}
	llm_arena_rewind(arena, mark);
	return ret;
}

static int gguf_parse(struct llm_gguf *g, const void *image, u64 len,
		      u64 file_len, bool prefix, struct llm_arena *arena,
		      char *err, size_t errlen)
{
	struct gguf_rd r = {
		.img = image,
		.len = len,
		.file_len = file_len,
		.prefix = prefix,
		.err = err,
		.errlen = err ? errlen : 0,
	};
	size_t mark = llm_arena_mark(arena);
	struct llm_gguf out;
	int ret;

	memset(g, 0, sizeof(*g));
	memset(&out, 0, sizeof(out));
	if (r.errlen)
		err[0] = '\0';
	if (!image) {
		llm_snprintf(r.err, r.errlen, "no GGUF image given");
		return -EINVAL;
	}
	out.image = image;
	out.len = len;
	ret = gguf_parse_header(&r, &out);
	if (!ret)
		ret = gguf_parse_kvs(&r, &out, arena);
	out.tensors_offset = r.pos;
	if (!ret)
		ret = gguf_parse_alignment(&r, &out);
	if (!ret)
		ret = gguf_parse_tensors(&r, &out, arena);
	if (ret) {
		llm_arena_rewind(arena, mark);
		if (r.errlen && !err[0])
			llm_snprintf(err, r.errlen, "malformed GGUF file");
		/* the prefix ended before the tensor infos did */
		if (r.more && len < file_len && ret == -EINVAL)
			return -EAGAIN;
		return ret;
	}
	*g = out;
	return 0;
}

/**
 * llm_gguf_parse - check a GGUF image and index its metadata and tensors
 * @g: filled on success, zeroed on failure
 * @image: the whole file; must stay valid while @g is used
 * @len: bytes at @image
 * @arena: where the key/value and tensor tables go
 * @err: receives one sentence on failure (may be NULL)
 * @errlen: size of @err
 *
 * Nothing is logged.  Long loops yield the CPU now and then, so call from
 * a context that may sleep.
 *
 * Return: 0, -EINVAL for a malformed or unsupported image, -ENOMEM when
 * the arena is too small.  On failure the arena is rewound to where it was.
 */
int llm_gguf_parse(struct llm_gguf *g, const void *image, u64 len,
		   struct llm_arena *arena, char *err, size_t errlen)
{
	return gguf_parse(g, image, len, len, false, arena, err, errlen);
}

/**
 * llm_gguf_parse_prefix - index a file from its first bytes
 * @g: filled on success (every tensor's data NULL), zeroed on failure
 * @prefix: the file's first @len bytes
 * @len: bytes at @prefix
 * @file_len: bytes in the whole file
 * @arena: where the tables go
 * @err: receives one sentence on failure (may be NULL)
 * @errlen: size of @err
 *
 * The same checks as llm_gguf_parse(), with the tensors placed against
 * @file_len: for reading only some tensors of a file (slice.h).
 *
 * Return: 0; -EAGAIN when the metadata goes on past @len (read more and
 * try again); otherwise as llm_gguf_parse().
 */
int llm_gguf_parse_prefix(struct llm_gguf *g, const void *prefix, u64 len,
			  u64 file_len, struct llm_arena *arena, char *err,
			  size_t errlen)
{
	if (len > file_len)
		len = file_len;
	return gguf_parse(g, prefix, len, file_len, true, arena, err, errlen);
}

/**
 * llm_gguf_table_bytes - arena bytes parsing a file takes at most
 * @prefix: at least its first 24 bytes
 * @len: bytes at @prefix
 *
 * Return: the bound from the header's counts, or 0 when @prefix is not a
 * GGUF header (the parse then says why).
 */
u64 llm_gguf_table_bytes(const void *prefix, u64 len)
{
	const u8 *p = prefix;
	u64 n_tensors, n_kv, per;

	if (len < GGUF_HEADER_BYTES || llm_get_le32(p) != LLM_GGUF_MAGIC)
		return 0;
	n_tensors = llm_get_le64(p + 8);
	n_kv = llm_get_le64(p + 16);
	if (n_tensors > LLM_GGUF_MAX_ITEMS || n_kv > LLM_GGUF_MAX_ITEMS)
		return 0;
	/* the tables, a sort index each, and every allocation's padding */
	per = sizeof(struct llm_gguf_tensor) + sizeof(u32) + 64;
	return n_tensors * per +
	       n_kv * (sizeof(struct llm_gguf_kv) + sizeof(u32) + 64) + 4096;
}

/* ------------------------------------------------------------------ */
/* Lookups and getters.                                                */

/**
 * llm_gguf_str_eq - compare a string view with a C string
 * @s: the view (not NUL-terminated)
 * @cstr: NUL-terminated
 *
 * Return: true when both hold the same bytes.
 */
bool llm_gguf_str_eq(struct llm_gguf_str s, const char *cstr)
{
	size_t n = strlen(cstr);

	return s.len == n && !memcmp(s.p, cstr, n);
}

/**
 * llm_gguf_find - look up a metadata key
 * @g: a parsed file
 * @key: the key
 *
 * Return: the key/value pair, or NULL when the file does not have @key.
 */
const struct llm_gguf_kv *llm_gguf_find(const struct llm_gguf *g,
					const char *key)
{
	u64 i;

	for (i = 0; i < g->n_kv; i++)
		if (llm_gguf_str_eq(g->kv[i].key, key))
			return &g->kv[i];
	return NULL;
}

/**
 * llm_gguf_find_tensor - look up a tensor by name
 * @g: a parsed file
 * @name: the tensor's name
 *
 * Return: the tensor, or NULL when the file does not have it.
 */
const struct llm_gguf_tensor *llm_gguf_find_tensor(const struct llm_gguf *g,
						   const char *name)
{
	u64 i;

	for (i = 0; i < g->n_tensors; i++)
		if (llm_gguf_str_eq(g->tensors[i].name, name))
			return &g->tensors[i];
	return NULL;
}

/**
 * llm_gguf_block - the block a tensor belongs to, by GGUF's naming
 * @name: a tensor's name
 * @blk: out: N of "blk.N.<rest>" (canonical decimal)
 * @rest: out: what follows "blk.N."
 *
 * Return: true for a block's tensor, false for any other name.
 */
bool llm_gguf_block(struct llm_gguf_str name, u32 *blk,
		    struct llm_gguf_str *rest)
{
	u64 i, n = 0;

	if (name.len < 4 || memcmp(name.p, "blk.", 4))
		return false;
	for (i = 4; i < name.len && name.p[i] >= '0' && name.p[i] <= '9';
	     i++) {
		n = n * 10 + (name.p[i] - '0');
		if (n > U32_MAX)
			return false;
	}
	if (i == 4 || i == name.len || name.p[i] != '.' ||
	    (name.p[4] == '0' && i > 5))
		return false;
	*blk = (u32)n;
	rest->p = name.p + i + 1;
	rest->len = name.len - i - 1;
	return true;
}

/**
 * llm_gguf_kv_int - the value of an integer-typed pair
 * @kv: a pair of a parsed file
 * @v: the value; a negative one as its two's complement
 * @neg: whether it is negative
 *
 * Return: 0, or -EINVAL when @kv does not hold an integer.
 */
int llm_gguf_kv_int(const struct llm_gguf_kv *kv, u64 *v, bool *neg)
{
	const u8 *p = kv->val;
	s64 s;

	switch (kv->type) {
	case LLM_GGUF_U8:
		*v = p[0];
		*neg = false;
		return 0;
	case LLM_GGUF_U16:
		*v = (u64)p[0] | (u64)p[1] << 8;
		*neg = false;
		return 0;
	case LLM_GGUF_U32:
		*v = llm_get_le32(p);
		*neg = false;
		return 0;
	case LLM_GGUF_U64:
		*v = llm_get_le64(p);
		*neg = false;
		return 0;
	case LLM_GGUF_I8:
		s = (s8)p[0];
		break;
	case LLM_GGUF_I16:
		s = (s16)((u16)p[0] | (u16)p[1] << 8);
		break;
	case LLM_GGUF_I32:
		s = (s32)llm_get_le32(p);
		break;
	case LLM_GGUF_I64:
		s = (s64)llm_get_le64(p);
		break;
	default:
		return -EINVAL;
	}
	*neg = s < 0;
	*v = (u64)s;
	return 0;
}

/* A non-negative integer key: 0, -ENOENT, -EINVAL (negative or not one). */
static int get_u64(const struct llm_gguf *g, const char *key, u64 *out)
{
	const struct llm_gguf_kv *kv = llm_gguf_find(g, key);
	bool neg;
	u64 v;

	if (!kv)
		return -ENOENT;
	if (llm_gguf_kv_int(kv, &v, &neg) || neg)
		return -EINVAL;
	*out = v;
	return 0;
}

/**
 * llm_gguf_get_u32 - read an integer key whose value fits in a u32
 * @g: a parsed file
 * @key: the key
 * @out: the value
 *
 * Return: 0, -ENOENT when absent, -EINVAL for a non-integer type or a
 * value outside 0..U32_MAX.
 */
int llm_gguf_get_u32(const struct llm_gguf *g, const char *key, u32 *out)
{
	u64 v;
	int ret = get_u64(g, key, &v);

	if (ret)
		return ret;
	if (v > U32_MAX)
		return -EINVAL;
	*out = (u32)v;
	return 0;
}

/**
 * llm_gguf_get_bool - read a bool key
 * @g: a parsed file
 * @key: the key
 * @out: the value
 *
 * Return: 0, -ENOENT when absent, -EINVAL when it is not a bool.
 */
int llm_gguf_get_bool(const struct llm_gguf *g, const char *key, bool *out)
{
	const struct llm_gguf_kv *kv = llm_gguf_find(g, key);

	if (!kv)
		return -ENOENT;
	if (kv->type != LLM_GGUF_BOOL)
		return -EINVAL;
	*out = kv->val[0] != 0;
	return 0;
}

/**
 * llm_gguf_get_f32_bits - read an f32 key as its IEEE bits
 * @g: a parsed file
 * @key: the key
 * @out: the bits
 *
 * Return: 0, -ENOENT when absent, -EINVAL when it is not an f32.
 */
int llm_gguf_get_f32_bits(const struct llm_gguf *g, const char *key,
			  u32 *out)
{
	const struct llm_gguf_kv *kv = llm_gguf_find(g, key);

	if (!kv)
		return -ENOENT;
	if (kv->type != LLM_GGUF_F32)
		return -EINVAL;
	*out = llm_get_le32(kv->val);
	return 0;
}

/**
 * llm_gguf_get_str - read a string key
 * @g: a parsed file
 * @key: the key
 * @out: a view of the string in the image (not NUL-terminated)
 *
 * Return: 0, -ENOENT when absent, -EINVAL when it is not a string.
 */
int llm_gguf_get_str(const struct llm_gguf *g, const char *key,
		     struct llm_gguf_str *out)
{
	const struct llm_gguf_kv *kv = llm_gguf_find(g, key);

	if (!kv)
		return -ENOENT;
	if (kv->type != LLM_GGUF_STRING)
		return -EINVAL;
	out->len = llm_get_le64(kv->val);
	out->p = (const char *)kv->val + 8;
	return 0;
}

/**
 * llm_gguf_get_arr - find an array key with a given element type
 * @g: a parsed file
 * @key: the key
 * @elem_type: the element type wanted (enum llm_gguf_vtype)
 * @out: the pair; its arr_n elements start at arr_data
 *
 * Return: 0, -ENOENT when absent, -EINVAL when it is not an array of
 * @elem_type.
 */
int llm_gguf_get_arr(const struct llm_gguf *g, const char *key,
		     u32 elem_type, const struct llm_gguf_kv **out)
{
	const struct llm_gguf_kv *kv = llm_gguf_find(g, key);

	if (!kv)
		return -ENOENT;
	if (kv->type != LLM_GGUF_ARRAY || kv->arr_type != elem_type)
		return -EINVAL;
	*out = kv;
	return 0;
}

/**
 * llm_gguf_next_str - step through the strings of a string array
 * @cursor: starts at kv->arr_data; moved past the string returned
 * @s: the next string
 *
 * The array was checked when the file was parsed; the caller calls this
 * at most kv->arr_n times.
 */
void llm_gguf_next_str(const u8 **cursor, struct llm_gguf_str *s)
{
	const u8 *p = *cursor;

	s->len = llm_get_le64(p);
	s->p = (const char *)p + 8;
	*cursor = p + 8 + s->len;
}

/**
 * llm_gguf_kv_str - the value of a string-typed pair
 * @kv: a pair of a parsed file
 * @out: a view of the string in the image (not NUL-terminated)
 *
 * Return: 0, or -EINVAL when @kv does not hold a string.
 */
int llm_gguf_kv_str(const struct llm_gguf_kv *kv, struct llm_gguf_str *out)
{
	if (kv->type != LLM_GGUF_STRING)
		return -EINVAL;
	out->len = llm_get_le64(kv->val);
	out->p = (const char *)kv->val + 8;
	return 0;
}

/**
 * llm_gguf_show - a printable copy of a string view, for messages
 * @buf: where to write
 * @cap: size of @buf, at least 4
 * @s: the view
 *
 * Bytes outside printable ASCII become '?'; a view that does not fit is
 * cut and ends in "...".
 */
void llm_gguf_show(char *buf, size_t cap, struct llm_gguf_str s)
{
	size_t n = 0, room = s.len < cap ? s.len : cap - 4;

	while (n < room) {
		u8 c = s.p[n];

		buf[n++] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	if (n < s.len) {
		buf[n++] = '.';
		buf[n++] = '.';
		buf[n++] = '.';
	}
	buf[n] = '\0';
}

/* Significant decimal digits a float value is shown with. */
#define GGUF_FLOAT_DIGITS	7
#define GGUF_FLOAT_LIMIT	10000000ull	/* 10^GGUF_FLOAT_DIGITS */

/*
 * Show @m * 2^@e2 in decimal with integer arithmetic only (this is a
 * non-FPU object), to GGUF_FLOAT_DIGITS significant digits: "1", "0.5",
 * "10000", "0.00001", "1.5e-7", "1.234568e7".
 */
static void gguf_show_float(char *buf, size_t cap, bool neg, u64 m, int e2)
{
	const char *sign = neg ? "-" : "";
	char dig[24];
	int d = 0, n, x;

	if (!m) {
		llm_snprintf(buf, cap, "%s0", sign);
		return;
	}
	/* rewrite m * 2^e2 as m * 10^d, keeping m below 2^63 */
	while (e2 > 0) {
		if (m < (1ull << 62)) {
			m <<= 1;
			e2--;
		} else {
			m = (m + 5) / 10;
			d++;
		}
	}
	while (e2 < 0) {
		if (m < (1ull << 59)) {
			m *= 10;
			d--;
		} else {
			m = (m + 1) >> 1;
			e2++;
		}
	}
	while (m >= 10 * GGUF_FLOAT_LIMIT) {
		m /= 10;
		d++;
	}
	if (m >= GGUF_FLOAT_LIMIT) {
		m = (m + 5) / 10;
		d++;
		if (m >= GGUF_FLOAT_LIMIT) {
			m /= 10;
			d++;
		}
	}
	while (m % 10 == 0) {
		m /= 10;
		d++;
	}
	n = llm_snprintf(dig, sizeof(dig), "%llu", (unsigned long long)m);
	x = d + n - 1;		/* power of ten of the leading digit */
	if (d >= 0 && x < GGUF_FLOAT_DIGITS)
		llm_snprintf(buf, cap, "%s%s%.*s", sign, dig, d, "000000");
	else if (d < 0 && x >= 0)
		llm_snprintf(buf, cap, "%s%.*s.%s", sign, n + d, dig, dig + n + d);
	else if (x < 0 && x >= -5)
		llm_snprintf(buf, cap, "%s0.%.*s%s", sign, -x - 1, "0000", dig);
	else
		llm_snprintf(buf, cap, "%s%c%s%se%d", sign, dig[0],
			     n > 1 ? "." : "", dig + 1, x);
}

/* Show an IEEE value of @mbits mantissa bits and @ebits exponent bits. */
static void gguf_show_ieee(char *buf, size_t cap, u64 bits, int mbits,
			   int ebits)
{
	u64 frac = bits & ((1ull << mbits) - 1);
	u32 emax = (1u << ebits) - 1, e = (u32)(bits >> mbits) & emax;
	bool neg = (bits >> (mbits + ebits)) & 1;
	int bias = (int)(emax >> 1) + mbits;

	if (e == emax)
		llm_snprintf(buf, cap, "%s", frac ? "nan" : neg ? "-inf" : "inf");
	else if (!e)
		gguf_show_float(buf, cap, neg, frac, 1 - bias);
	else
		gguf_show_float(buf, cap, neg, frac | 1ull << mbits,
				(int)e - bias);
}

/**
 * llm_gguf_show_value - a pair's value, for messages
 * @kv: a pair of a parsed file
 * @buf: where to write
 * @cap: size of @buf, at least 4
 *
 * Strings as they are (made printable, cut when long), integers and
 * floats in decimal ("linear", "-3", "0.5", "1e-6"), bools as true and
 * false, arrays as "an array of 32 u32".
 */
void llm_gguf_show_value(const struct llm_gguf_kv *kv, char *buf, size_t cap)
{
	struct llm_gguf_str s;
	bool neg;
	u64 v;

	if (!llm_gguf_kv_int(kv, &v, &neg)) {
		if (neg)
			llm_snprintf(buf, cap, "%lld", (long long)(s64)v);
		else
			llm_snprintf(buf, cap, "%llu", ull(v));
		return;
	}
	switch (kv->type) {
	case LLM_GGUF_STRING:
		llm_gguf_kv_str(kv, &s);
		llm_gguf_show(buf, cap, s);
		break;
	case LLM_GGUF_BOOL:
		llm_snprintf(buf, cap, "%s", kv->val[0] ? "true" : "false");
		break;
	case LLM_GGUF_F32:
		gguf_show_ieee(buf, cap, llm_get_le32(kv->val), 23, 8);
		break;
	case LLM_GGUF_F64:
		gguf_show_ieee(buf, cap, llm_get_le64(kv->val), 52, 11);
		break;
	default:
		llm_snprintf(buf, cap, "an array of %llu %s", ull(kv->arr_n),
			     llm_gguf_vtype_name(kv->arr_type));
		break;
	}
}
