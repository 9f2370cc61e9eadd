/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GGUF v2/v3 reader over a file image held in memory (the arena in the
 * kernel, a malloc'd or mmap'd buffer in userspace).  Nothing is copied:
 * keys, strings and tensor data are views into the image.
 *
 * Every count, length, offset, dimension and product is checked before it
 * is used, so a hostile or truncated image gives an error (a negative errno
 * and a sentence naming what is wrong), never an out-of-bounds read.
 */
#ifndef LLM_GGUF_H
#define LLM_GGUF_H

#include "platform.h"
#include "../../arena/arena.h"

#define LLM_GGUF_MAGIC		0x46554747u	/* "GGUF" little-endian */
#define LLM_GGUF_MAX_DIMS	4
#define LLM_GGUF_DEFAULT_ALIGN	32
/* Longest key or tensor name accepted, in bytes. */
#define LLM_GGUF_MAX_KEY_LEN	65536
/* Most key/value pairs, and most tensors, one file may have. */
#define LLM_GGUF_MAX_ITEMS	(1u << 24)

/* Metadata value types, numbered as the GGUF spec numbers them. */
enum llm_gguf_vtype {
	LLM_GGUF_U8 = 0,
	LLM_GGUF_I8 = 1,
	LLM_GGUF_U16 = 2,
	LLM_GGUF_I16 = 3,
	LLM_GGUF_U32 = 4,
	LLM_GGUF_I32 = 5,
	LLM_GGUF_F32 = 6,
	LLM_GGUF_BOOL = 7,
	LLM_GGUF_STRING = 8,
	LLM_GGUF_ARRAY = 9,
	LLM_GGUF_U64 = 10,
	LLM_GGUF_I64 = 11,
	LLM_GGUF_F64 = 12,
	LLM_GGUF_NTYPES
};

/* A length-counted string inside the image; not NUL-terminated. */
struct llm_gguf_str {
	const char *p;
	u64 len;
};

struct llm_gguf_kv {
	struct llm_gguf_str key;
	u32 type;		/* enum llm_gguf_vtype */
	/*
	 * Where the value starts in the image: the scalar, the string's u64
	 * length, or (for arrays) the element type that heads the array.
	 */
	const u8 *val;
	/* For arrays: element type, count and where the elements start. */
	u32 arr_type;
	u64 arr_n;
	const u8 *arr_data;
	u64 arr_bytes;		/* bytes the elements take in the image */
};

struct llm_gguf_tensor {
	struct llm_gguf_str name;
	u32 n_dims;
	u64 ne[LLM_GGUF_MAX_DIMS];	/* ne[0] is the row length; unused = 1 */
	u64 n_elems;
	u32 type;			/* enum llm_type */
	u64 offset;			/* from the start of the data section */
	u64 nbytes;
	const void *data;
};

struct llm_gguf {
	const u8 *image;
	u64 len;
	u32 version;
	u32 alignment;		/* general.alignment, or 32 */
	u64 n_kv;
	u64 n_tensors;
	u64 tensors_offset;	/* of the tensor infos (after the pairs) */
	u64 tensors_end;	/* and of their end */
	u64 data_offset;	/* of the tensor data section in the image */
	struct llm_gguf_kv *kv;		/* n_kv entries, in the arena */
	struct llm_gguf_tensor *tensors; /* n_tensors entries, in the arena */
};

/*
 * Parse @len bytes at @image.  Tables go into @arena (rewound on failure).
 * On error returns a negative errno and writes a sentence into @err.
 * Logs nothing; may yield the CPU on large images (process context).
 */
int llm_gguf_parse(struct llm_gguf *g, const void *image, u64 len,
		   struct llm_arena *arena, char *err, size_t errlen);

/*
 * The same over the first @len bytes of a file of @file_len bytes: every
 * tensor's data is NULL, its offset checked against @file_len.  -EAGAIN
 * when the metadata goes on past @len (read more and call again).
 */
int llm_gguf_parse_prefix(struct llm_gguf *g, const void *prefix, u64 len,
			  u64 file_len, struct llm_arena *arena, char *err,
			  size_t errlen);
/* Arena bytes parsing the file @prefix starts takes, or 0: not GGUF. */
u64 llm_gguf_table_bytes(const void *prefix, u64 len);

const struct llm_gguf_kv *llm_gguf_find(const struct llm_gguf *g,
					const char *key);
const struct llm_gguf_tensor *llm_gguf_find_tensor(const struct llm_gguf *g,
						   const char *name);

/*
 * Typed getters: 0 on success, -ENOENT when the key is absent, -EINVAL when
 * it has the wrong type or its value does not fit.  Integer getters accept
 * any integer type whose value fits.  Float values come as raw IEEE bits so
 * that non-FPU code can carry them (F32 only).
 */
int llm_gguf_get_u32(const struct llm_gguf *g, const char *key, u32 *out);
int llm_gguf_get_bool(const struct llm_gguf *g, const char *key, bool *out);
int llm_gguf_get_f32_bits(const struct llm_gguf *g, const char *key,
			  u32 *out);
int llm_gguf_get_str(const struct llm_gguf *g, const char *key,
		     struct llm_gguf_str *out);
/* An array whose elements have type @elem_type. */
int llm_gguf_get_arr(const struct llm_gguf *g, const char *key,
		     u32 elem_type, const struct llm_gguf_kv **out);

/*
 * Walk the strings of a string array (validated at parse time):
 * *@cursor starts at kv->arr_data; each call yields the next string.
 */
void llm_gguf_next_str(const u8 **cursor, struct llm_gguf_str *s);

/*
 * A pair's value by its own type: an integer of any integer type (a
 * negative one as two's complement, *@neg set), or a string.  0, or
 * -EINVAL for another type.
 */
int llm_gguf_kv_int(const struct llm_gguf_kv *kv, u64 *v, bool *neg);
int llm_gguf_kv_str(const struct llm_gguf_kv *kv, struct llm_gguf_str *out);

/*
 * For messages, into @buf of @cap (at least 4) bytes: a printable copy of
 * a view, cut with "..." when it does not fit; a pair's value in words
 * ("linear", "-3", "0.5", "1e-6", "true", "an array of 32 u32").  Integer
 * arithmetic only.
 */
void llm_gguf_show(char *buf, size_t cap, struct llm_gguf_str s);
void llm_gguf_show_value(const struct llm_gguf_kv *kv, char *buf, size_t cap);

/* "u32", "string", ... for a metadata value type; "unknown" otherwise. */
const char *llm_gguf_vtype_name(u32 type);

/* N and the rest of a tensor named "blk.N.<rest>"; false otherwise. */
bool llm_gguf_block(struct llm_gguf_str name, u32 *blk,
		    struct llm_gguf_str *rest);

/* Compare a view with a NUL-terminated string. */
bool llm_gguf_str_eq(struct llm_gguf_str s, const char *cstr);

/* Little-endian loads from an unaligned image. */
static inline u32 llm_get_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 |
	       (u32)p[3] << 24;
}

static inline u64 llm_get_le64(const u8 *p)
{
	return (u64)llm_get_le32(p) | (u64)llm_get_le32(p + 4) << 32;
}

#endif /* LLM_GGUF_H */
