// SPDX-License-Identifier: GPL-2.0
/*
 * GGUF writer (userspace).  See gguf_writer.h.
 *
 * Each key/value pair is kept as the exact bytes it will have in the file
 * (key, type, value), so copying a pair from a parsed file is a byte copy
 * and a parsed file rewritten pair by pair and tensor by tensor comes out
 * byte-identical.  Tensors keep a pointer to their data; offsets and
 * padding are worked out when the file is written.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf_writer.h"
#include "../quant/quant.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the GGUF writer copies values as they sit in memory: little-endian only"
#endif

#define GW_HEADER_BYTES	24

struct gw_buf {
	u8 *p;
	size_t len;
	size_t cap;
	bool oom;
};

struct gw_kv {
	u8 *rec;		/* key string, type, value: as in the file */
	size_t len;
	u64 key_len;		/* the key is rec + 8 */
	u32 type;
	size_t val_off;		/* the value starts at rec + val_off */
};

struct gw_tensor {
	char *name;
	u64 name_len;
	u32 n_dims;
	u64 ne[LLM_GGUF_WRITER_MAX_DIMS];
	u32 type;
	const void *data;	/* NULL: zeros */
	u64 nbytes;
};

struct llm_gguf_writer {
	unsigned int flags;
	u32 version;
	struct gw_kv *kv;
	size_t n_kv;
	size_t cap_kv;
	struct gw_tensor *t;
	size_t n_t;
	size_t cap_t;
	char err[512];
};

static int gw_fail(struct llm_gguf_writer *w, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int gw_fail(struct llm_gguf_writer *w, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	return ret;
}

static bool gw_checked(const struct llm_gguf_writer *w)
{
	return !(w->flags & LLM_GGUF_WRITER_UNCHECKED);
}

static void gw_put(struct gw_buf *b, const void *p, size_t n)
{
	if (b->oom || !n)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 64;
		u8 *q;

		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2) {
				b->oom = true;
				return;
			}
			cap *= 2;
		}
		q = realloc(b->p, cap);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void gw_put_u32(struct gw_buf *b, u32 v)
{
	gw_put(b, &v, 4);
}

static void gw_put_u64(struct gw_buf *b, u64 v)
{
	gw_put(b, &v, 8);
}

static void gw_put_str(struct gw_buf *b, const void *s, u64 len)
{
	gw_put_u64(b, len);
	if (len > SIZE_MAX)
		b->oom = true;
	else
		gw_put(b, s, len);
}

struct llm_gguf_writer *llm_gguf_writer_new(unsigned int flags)
{
	struct llm_gguf_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->flags = flags;
	w->version = 3;
	return w;
}

void llm_gguf_writer_free(struct llm_gguf_writer *w)
{
	size_t i;

	if (!w)
		return;
	for (i = 0; i < w->n_kv; i++)
		free(w->kv[i].rec);
	for (i = 0; i < w->n_t; i++)
		free(w->t[i].name);
	free(w->kv);
	free(w->t);
	free(w);
}

const char *llm_gguf_writer_error(const struct llm_gguf_writer *w)
{
	return w->err[0] ? w->err : "no error";
}

int llm_gguf_writer_set_version(struct llm_gguf_writer *w, u32 version)
{
	if (gw_checked(w) && version != 2 && version != 3)
		return gw_fail(w, -EINVAL,
			       "GGUF version %u cannot be written (only 2 and 3)",
			       version);
	w->version = version;
	return 0;
}

static struct gw_kv *gw_find_kv(struct llm_gguf_writer *w, const void *key,
				u64 key_len)
{
	size_t i;

	for (i = 0; i < w->n_kv; i++)
		if (w->kv[i].key_len == key_len &&
		    !memcmp(w->kv[i].rec + 8, key, key_len))
			return &w->kv[i];
	return NULL;
}

static bool gw_is_alignment(const void *key, u64 key_len)
{
	static const char name[] = "general.alignment";

	return key_len == sizeof(name) - 1 && !memcmp(key, name, key_len);
}

/* Checks a checked writer makes on a new pair. */
static int gw_check_kv(struct llm_gguf_writer *w, const void *key,
		       u64 key_len, u32 type, const void *val, u64 val_len)
{
	u32 a;

	if (!gw_checked(w))
		return 0;
	if (!key_len)
		return gw_fail(w, -EINVAL, "a key must not be empty");
	if (key_len > LLM_GGUF_MAX_KEY_LEN)
		return gw_fail(w, -EINVAL,
			       "a key of %llu bytes is longer than the %u allowed",
			       (unsigned long long)key_len,
			       LLM_GGUF_MAX_KEY_LEN);
	if (gw_find_kv(w, key, key_len))
		return gw_fail(w, -EEXIST, "key '%.*s' is already set",
			       (int)min(key_len, 200), (const char *)key);
	if (type >= LLM_GGUF_NTYPES)
		return gw_fail(w, -EINVAL, "key '%.*s': unknown value type %u",
			       (int)min(key_len, 200), (const char *)key,
			       type);
	if (gw_is_alignment(key, key_len)) {
		if (type != LLM_GGUF_U32 || val_len != 4)
			return gw_fail(w, -EINVAL,
				       "general.alignment must be a u32");
		memcpy(&a, val, 4);
		if (!LLM_IS_POW2(a))
			return gw_fail(w, -EINVAL,
				       "general.alignment %u is not a power of two",
				       a);
	}
	return 0;
}

static int gw_add_kv(struct llm_gguf_writer *w, const void *key,
		     u64 key_len, u32 type, const void *val, u64 val_len)
{
	struct gw_buf b = { 0 };
	struct gw_kv *kv;
	int ret;

	ret = gw_check_kv(w, key, key_len, type, val, val_len);
	if (ret)
		return ret;
	if (w->n_kv == w->cap_kv) {
		size_t cap = w->cap_kv ? 2 * w->cap_kv : 32;

		kv = realloc(w->kv, cap * sizeof(*kv));
		if (!kv)
			return gw_fail(w, -ENOMEM, "out of memory");
		w->kv = kv;
		w->cap_kv = cap;
	}
	gw_put_str(&b, key, key_len);
	gw_put_u32(&b, type);
	if (val_len > SIZE_MAX)
		b.oom = true;
	else
		gw_put(&b, val, val_len);
	if (b.oom) {
		free(b.p);
		return gw_fail(w, -ENOMEM, "out of memory");
	}
	kv = &w->kv[w->n_kv++];
	kv->rec = b.p;
	kv->len = b.len;
	kv->key_len = key_len;
	kv->type = type;
	kv->val_off = 8 + key_len + 4;
	return 0;
}

static int gw_add_key(struct llm_gguf_writer *w, const char *key, u32 type,
		      const void *val, u64 val_len)
{
	return gw_add_kv(w, key, strlen(key), type, val, val_len);
}

int llm_gguf_writer_set_alignment(struct llm_gguf_writer *w, u32 align)
{
	static const char key[] = "general.alignment";
	struct gw_kv *kv = gw_find_kv(w, key, sizeof(key) - 1);

	if (gw_checked(w) && !LLM_IS_POW2(align))
		return gw_fail(w, -EINVAL,
			       "alignment %u is not a power of two", align);
	if (kv && kv->type == LLM_GGUF_U32 && kv->len == kv->val_off + 4) {
		memcpy(kv->rec + kv->val_off, &align, 4);
		return 0;
	}
	if (kv && gw_checked(w))
		return gw_fail(w, -EINVAL,
			       "general.alignment is already set with another type");
	return gw_add_key(w, key, LLM_GGUF_U32, &align, 4);
}

int llm_gguf_writer_add_u8(struct llm_gguf_writer *w, const char *key, u8 v)
{
	return gw_add_key(w, key, LLM_GGUF_U8, &v, 1);
}

int llm_gguf_writer_add_i8(struct llm_gguf_writer *w, const char *key, s8 v)
{
	return gw_add_key(w, key, LLM_GGUF_I8, &v, 1);
}

int llm_gguf_writer_add_u16(struct llm_gguf_writer *w, const char *key,
			    u16 v)
{
	return gw_add_key(w, key, LLM_GGUF_U16, &v, 2);
}

int llm_gguf_writer_add_i16(struct llm_gguf_writer *w, const char *key,
			    s16 v)
{
	return gw_add_key(w, key, LLM_GGUF_I16, &v, 2);
}

int llm_gguf_writer_add_u32(struct llm_gguf_writer *w, const char *key,
			    u32 v)
{
	return gw_add_key(w, key, LLM_GGUF_U32, &v, 4);
}

int llm_gguf_writer_add_i32(struct llm_gguf_writer *w, const char *key,
			    s32 v)
{
	return gw_add_key(w, key, LLM_GGUF_I32, &v, 4);
}

int llm_gguf_writer_add_u64(struct llm_gguf_writer *w, const char *key,
			    u64 v)
{
	return gw_add_key(w, key, LLM_GGUF_U64, &v, 8);
}

int llm_gguf_writer_add_i64(struct llm_gguf_writer *w, const char *key,
			    s64 v)
{
	return gw_add_key(w, key, LLM_GGUF_I64, &v, 8);
}

int llm_gguf_writer_add_f32(struct llm_gguf_writer *w, const char *key,
			    float v)
{
	return gw_add_key(w, key, LLM_GGUF_F32, &v, 4);
}

int llm_gguf_writer_add_f64(struct llm_gguf_writer *w, const char *key,
			    double v)
{
	return gw_add_key(w, key, LLM_GGUF_F64, &v, 8);
}

int llm_gguf_writer_add_bool(struct llm_gguf_writer *w, const char *key,
			     bool v)
{
	u8 b = v ? 1 : 0;

	return gw_add_key(w, key, LLM_GGUF_BOOL, &b, 1);
}

int llm_gguf_writer_add_strn(struct llm_gguf_writer *w, const char *key,
			     const void *s, u64 len)
{
	struct gw_buf b = { 0 };
	int ret;

	gw_put_str(&b, s, len);
	if (b.oom) {
		free(b.p);
		return gw_fail(w, -ENOMEM, "out of memory");
	}
	ret = gw_add_key(w, key, LLM_GGUF_STRING, b.p, b.len);
	free(b.p);
	return ret;
}

int llm_gguf_writer_add_str(struct llm_gguf_writer *w, const char *key,
			    const char *s)
{
	return llm_gguf_writer_add_strn(w, key, s, strlen(s));
}

static u32 gw_vtype_size(u32 type)
{
	switch (type) {
	case LLM_GGUF_U8:
	case LLM_GGUF_I8:
	case LLM_GGUF_BOOL:
		return 1;
	case LLM_GGUF_U16:
	case LLM_GGUF_I16:
		return 2;
	case LLM_GGUF_U32:
	case LLM_GGUF_I32:
	case LLM_GGUF_F32:
		return 4;
	case LLM_GGUF_U64:
	case LLM_GGUF_I64:
	case LLM_GGUF_F64:
		return 8;
	default:
		return 0;
	}
}

/* Element type, count and element bytes of an array value. */
static int gw_add_array(struct llm_gguf_writer *w, const char *key,
			u32 elem_type, u64 n, struct gw_buf *elems)
{
	struct gw_buf b = { 0 };
	int ret;

	gw_put_u32(&b, elem_type);
	gw_put_u64(&b, n);
	gw_put(&b, elems->p, elems->len);
	if (b.oom || elems->oom) {
		free(b.p);
		return gw_fail(w, -ENOMEM, "out of memory");
	}
	ret = gw_add_key(w, key, LLM_GGUF_ARRAY, b.p, b.len);
	free(b.p);
	return ret;
}

int llm_gguf_writer_add_arr(struct llm_gguf_writer *w, const char *key,
			    u32 elem_type, const void *elems, u64 n)
{
	u32 size = gw_vtype_size(elem_type);
	struct gw_buf e = { 0 };
	u64 i;
	int ret;

	if (!size)
		return gw_fail(w, -EINVAL,
			       "key '%s': arrays of %s need another function",
			       key, llm_gguf_vtype_name(elem_type));
	if (n > SIZE_MAX / size)
		return gw_fail(w, -ENOMEM, "key '%s': array too large", key);
	if (gw_checked(w) && elem_type == LLM_GGUF_BOOL)
		for (i = 0; i < n; i++)
			if (((const u8 *)elems)[i] > 1)
				return gw_fail(w, -EINVAL,
					       "key '%s': element %llu is not a bool",
					       key, (unsigned long long)i);
	e.p = (u8 *)elems;		/* read only: gw_add_array copies it */
	e.len = n * size;
	ret = gw_add_array(w, key, elem_type, n, &e);
	return ret;
}

int llm_gguf_writer_add_arr_strn(struct llm_gguf_writer *w, const char *key,
				 const struct llm_gguf_str *strs, u64 n)
{
	struct gw_buf e = { 0 };
	u64 i;
	int ret;

	for (i = 0; i < n; i++)
		gw_put_str(&e, strs[i].p, strs[i].len);
	ret = gw_add_array(w, key, LLM_GGUF_STRING, n, &e);
	free(e.p);
	return ret;
}

int llm_gguf_writer_add_arr_str(struct llm_gguf_writer *w, const char *key,
				const char *const *strs, u64 n)
{
	struct gw_buf e = { 0 };
	u64 i;
	int ret;

	for (i = 0; i < n; i++)
		gw_put_str(&e, strs[i], strlen(strs[i]));
	ret = gw_add_array(w, key, LLM_GGUF_STRING, n, &e);
	free(e.p);
	return ret;
}

int llm_gguf_writer_copy_kv(struct llm_gguf_writer *w,
			    const struct llm_gguf_kv *kv)
{
	u64 len;

	switch (kv->type) {
	case LLM_GGUF_STRING:
		len = 8 + llm_get_le64(kv->val);
		break;
	case LLM_GGUF_ARRAY:
		len = 4 + 8 + kv->arr_bytes;
		break;
	default:
		len = gw_vtype_size(kv->type);
		if (!len)
			return gw_fail(w, -EINVAL,
				       "cannot copy a value of unknown type %u",
				       kv->type);
	}
	return gw_add_kv(w, kv->key.p, kv->key.len, kv->type, kv->val, len);
}

int llm_gguf_writer_add_raw(struct llm_gguf_writer *w, const void *key,
			    u64 key_len, u32 type, const void *val,
			    u64 val_len)
{
	if (gw_checked(w))
		return gw_fail(w, -EPERM,
			       "raw key/value pairs need an unchecked writer");
	return gw_add_kv(w, key, key_len, type, val, val_len);
}

static int gw_check_tensor(struct llm_gguf_writer *w, const char *name,
			   size_t name_len, u32 type, u32 n_dims,
			   const u64 *ne, u64 nbytes)
{
	u64 n = 1, row, want;
	size_t i;
	u32 d;

	if (!name_len || name_len > LLM_GGUF_MAX_KEY_LEN)
		return gw_fail(w, -EINVAL,
			       "a tensor name must have 1 to %u bytes",
			       LLM_GGUF_MAX_KEY_LEN);
	for (i = 0; i < w->n_t; i++)
		if (w->t[i].name_len == name_len &&
		    !memcmp(w->t[i].name, name, name_len))
			return gw_fail(w, -EEXIST,
				       "tensor '%s' is already added", name);
	if (!llm_type_supported(type))
		return gw_fail(w, -EINVAL,
			       "tensor '%s': type %s (%u) is not supported",
			       name, llm_type_name(type), type);
	if (n_dims < 1 || n_dims > LLM_GGUF_MAX_DIMS)
		return gw_fail(w, -EINVAL,
			       "tensor '%s': %u dimensions (1 to %u allowed)",
			       name, n_dims, LLM_GGUF_MAX_DIMS);
	for (d = 0; d < n_dims; d++)
		if (!ne[d] || check_mul_overflow(n, ne[d], &n))
			return gw_fail(w, -EINVAL,
				       "tensor '%s': bad shape", name);
	if (llm_type_row_bytes(type, ne[0], &row) ||
	    check_mul_overflow(row, n / ne[0], &want))
		return gw_fail(w, -EINVAL,
			       "tensor '%s': rows of %llu elements do not fit type %s",
			       name, (unsigned long long)ne[0],
			       llm_type_name(type));
	if (nbytes != want)
		return gw_fail(w, -EINVAL,
			       "tensor '%s': %llu bytes of data given, its shape needs %llu",
			       name, (unsigned long long)nbytes,
			       (unsigned long long)want);
	return 0;
}

static int gw_add_tensor(struct llm_gguf_writer *w, const char *name,
			 size_t name_len, u32 type, u32 n_dims,
			 const u64 *ne, const void *data, u64 nbytes)
{
	struct gw_tensor *t;

	if (n_dims > LLM_GGUF_WRITER_MAX_DIMS)
		return gw_fail(w, -EINVAL, "tensor '%s': %u dimensions",
			       name, n_dims);
	if (w->n_t == w->cap_t) {
		size_t cap = w->cap_t ? 2 * w->cap_t : 64;

		t = realloc(w->t, cap * sizeof(*t));
		if (!t)
			return gw_fail(w, -ENOMEM, "out of memory");
		w->t = t;
		w->cap_t = cap;
	}
	t = &w->t[w->n_t];
	memset(t, 0, sizeof(*t));
	t->name = malloc(name_len ? name_len : 1);
	if (!t->name)
		return gw_fail(w, -ENOMEM, "out of memory");
	memcpy(t->name, name, name_len);
	t->name_len = name_len;
	t->n_dims = n_dims;
	if (n_dims)
		memcpy(t->ne, ne, n_dims * sizeof(*ne));
	t->type = type;
	t->data = data;
	t->nbytes = nbytes;
	w->n_t++;
	return 0;
}

int llm_gguf_writer_add_tensor(struct llm_gguf_writer *w, const char *name,
			       u32 type, u32 n_dims, const u64 *ne,
			       const void *data, u64 nbytes)
{
	size_t len = strlen(name);
	int ret;

	if (gw_checked(w)) {
		ret = gw_check_tensor(w, name, len, type, n_dims, ne, nbytes);
		if (ret)
			return ret;
		/* as ggml_n_dims(): no trailing 1s, at least one dimension */
		while (n_dims > 1 && ne[n_dims - 1] == 1)
			n_dims--;
	}
	return gw_add_tensor(w, name, len, type, n_dims, ne, data, nbytes);
}

int llm_gguf_writer_copy_tensor(struct llm_gguf_writer *w,
				const struct llm_gguf_tensor *t)
{
	int ret;

	if (gw_checked(w)) {
		ret = gw_check_tensor(w, t->name.p, t->name.len, t->type,
				      t->n_dims, t->ne, t->nbytes);
		if (ret)
			return ret;
	}
	return gw_add_tensor(w, t->name.p, t->name.len, t->type, t->n_dims,
			     t->ne, t->data, t->nbytes);
}

/* ------------------------------------------------------------------ */
/* Layout and output.                                                  */

/* general.alignment when it is a u32 power of two, as llama.cpp reads it. */
static u64 gw_alignment(struct llm_gguf_writer *w)
{
	static const char key[] = "general.alignment";
	struct gw_kv *kv = gw_find_kv(w, key, sizeof(key) - 1);
	u32 a;

	if (!kv || kv->type != LLM_GGUF_U32 || kv->len != kv->val_off + 4)
		return LLM_GGUF_DEFAULT_ALIGN;
	memcpy(&a, kv->rec + kv->val_off, 4);
	return LLM_IS_POW2(a) ? a : LLM_GGUF_DEFAULT_ALIGN;
}

static u64 gw_pad(u64 x, u64 align)
{
	return (align - x % align) % align;
}

/* Offset of the data section and size of the file; 0 on overflow. */
static u64 gw_layout(struct llm_gguf_writer *w, u64 *data_off)
{
	u64 align = gw_alignment(w), pos = GW_HEADER_BYTES, size;
	size_t i;

	for (i = 0; i < w->n_kv; i++)
		pos += w->kv[i].len;
	for (i = 0; i < w->n_t; i++)
		pos += 8 + w->t[i].name_len + 4 + 8 * (u64)w->t[i].n_dims +
		       4 + 8;
	pos += gw_pad(pos, align);
	*data_off = pos;
	for (i = 0; i < w->n_t; i++) {
		size = w->t[i].nbytes;
		if (check_add_overflow(size, gw_pad(size, align), &size) ||
		    check_add_overflow(pos, size, &pos))
			return 0;
	}
	return pos;
}

u64 llm_gguf_writer_size(const struct llm_gguf_writer *w)
{
	u64 off;

	return gw_layout((struct llm_gguf_writer *)w, &off);
}

struct gw_sink {
	u8 *buf;		/* to memory, or */
	FILE *f;		/* to a file */
	u64 pos;
	int err;
};

static void gw_emit(struct gw_sink *s, const void *p, u64 n)
{
	if (s->err || !n)
		return;
	if (s->buf)
		memcpy(s->buf + s->pos, p, n);
	else if (fwrite(p, 1, n, s->f) != n)
		s->err = errno ? -errno : -EIO;
	s->pos += n;
}

static void gw_emit_u32(struct gw_sink *s, u32 v)
{
	gw_emit(s, &v, 4);
}

static void gw_emit_u64(struct gw_sink *s, u64 v)
{
	gw_emit(s, &v, 8);
}

static void gw_emit_zeros(struct gw_sink *s, u64 n)
{
	static const u8 zeros[4096];

	while (n) {
		u64 k = n < sizeof(zeros) ? n : sizeof(zeros);

		gw_emit(s, zeros, k);
		n -= k;
	}
}

static int gw_write(struct llm_gguf_writer *w, struct gw_sink *s)
{
	u64 align = gw_alignment(w), off = 0;
	size_t i;

	gw_emit_u32(s, LLM_GGUF_MAGIC);
	gw_emit_u32(s, w->version);
	gw_emit_u64(s, w->n_t);
	gw_emit_u64(s, w->n_kv);
	for (i = 0; i < w->n_kv; i++)
		gw_emit(s, w->kv[i].rec, w->kv[i].len);
	for (i = 0; i < w->n_t; i++) {
		const struct gw_tensor *t = &w->t[i];
		u32 d;

		gw_emit_u64(s, t->name_len);
		gw_emit(s, t->name, t->name_len);
		gw_emit_u32(s, t->n_dims);
		for (d = 0; d < t->n_dims; d++)
			gw_emit_u64(s, t->ne[d]);
		gw_emit_u32(s, t->type);
		gw_emit_u64(s, off);
		off += t->nbytes + gw_pad(t->nbytes, align);
	}
	gw_emit_zeros(s, gw_pad(s->pos, align));
	for (i = 0; i < w->n_t; i++) {
		const struct gw_tensor *t = &w->t[i];

		if (t->data)
			gw_emit(s, t->data, t->nbytes);
		else
			gw_emit_zeros(s, t->nbytes);
		gw_emit_zeros(s, gw_pad(t->nbytes, align));
	}
	return s->err;
}

int llm_gguf_writer_to_mem(struct llm_gguf_writer *w, void **buf,
			   size_t *len)
{
	struct gw_sink s = { 0 };
	u64 off, size = gw_layout(w, &off);

	if (!size || size > SIZE_MAX)
		return gw_fail(w, -EOVERFLOW, "the file would be too large");
	s.buf = malloc(size);
	if (!s.buf)
		return gw_fail(w, -ENOMEM, "out of memory for %llu bytes",
			       (unsigned long long)size);
	gw_write(w, &s);
	*buf = s.buf;
	*len = size;
	return 0;
}

int llm_gguf_writer_to_file(struct llm_gguf_writer *w, const char *path)
{
	struct gw_sink s = { 0 };
	u64 off;
	int ret;

	if (!gw_layout(w, &off))
		return gw_fail(w, -EOVERFLOW, "the file would be too large");
	s.f = fopen(path, "wb");
	if (!s.f)
		return gw_fail(w, -errno, "cannot create %s: %s", path,
			       strerror(errno));
	errno = 0;
	ret = gw_write(w, &s);
	if (fclose(s.f) && !ret)
		ret = errno ? -errno : -EIO;
	if (ret) {
		unlink(path);
		return gw_fail(w, ret, "cannot write %s: %s", path,
			       strerror(-ret));
	}
	return 0;
}
