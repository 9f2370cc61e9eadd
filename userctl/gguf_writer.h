/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GGUF writer for userspace tools and tests (llmctl convert / quantize,
 * synthetic and hostile test files).  A file is built in memory, then
 * written to a path or a buffer, laid out as llama.cpp's gguf writer lays
 * it out:
 *
 *	header (version 3 unless set), key/value pairs in the order they
 *	were added, tensor infos in the order they were added, zero padding
 *	to the alignment, then each tensor's data padded with zeros to the
 *	alignment; tensor offsets count from the start of the data section.
 *
 * The alignment is general.alignment when that key is a u32 power of two
 * (as llama.cpp reads it), else 32.
 *
 * Functions return 0 or a negative errno; llm_gguf_writer_error() then
 * says why in a sentence.  Tensor data is not copied: it must stay valid
 * until the file is written.
 *
 * A writer made with LLM_GGUF_WRITER_UNCHECKED writes whatever it is given
 * (duplicate or empty keys, bad alignments, unsupported types, any number
 * of dimensions, sizes that do not match the shape) so tests can build
 * hostile files; llm_gguf_writer_add_raw() is only allowed there.
 */
#ifndef LLM_GGUF_WRITER_H
#define LLM_GGUF_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include "../llm/core/gguf.h"

#define LLM_GGUF_WRITER_UNCHECKED	(1u << 0)
/* Most dimensions an unchecked writer will write for one tensor. */
#define LLM_GGUF_WRITER_MAX_DIMS	16

struct llm_gguf_writer;

struct llm_gguf_writer *llm_gguf_writer_new(unsigned int flags);
void llm_gguf_writer_free(struct llm_gguf_writer *w);
const char *llm_gguf_writer_error(const struct llm_gguf_writer *w);

/* 2 or 3 (default 3); an unchecked writer takes any number. */
int llm_gguf_writer_set_version(struct llm_gguf_writer *w, u32 version);
/* Sets general.alignment (u32): replaced in place, else added last. */
int llm_gguf_writer_set_alignment(struct llm_gguf_writer *w, u32 align);

int llm_gguf_writer_add_u8(struct llm_gguf_writer *w, const char *key, u8 v);
int llm_gguf_writer_add_i8(struct llm_gguf_writer *w, const char *key, s8 v);
int llm_gguf_writer_add_u16(struct llm_gguf_writer *w, const char *key,
			    u16 v);
int llm_gguf_writer_add_i16(struct llm_gguf_writer *w, const char *key,
			    s16 v);
int llm_gguf_writer_add_u32(struct llm_gguf_writer *w, const char *key,
			    u32 v);
int llm_gguf_writer_add_i32(struct llm_gguf_writer *w, const char *key,
			    s32 v);
int llm_gguf_writer_add_u64(struct llm_gguf_writer *w, const char *key,
			    u64 v);
int llm_gguf_writer_add_i64(struct llm_gguf_writer *w, const char *key,
			    s64 v);
int llm_gguf_writer_add_f32(struct llm_gguf_writer *w, const char *key,
			    float v);
int llm_gguf_writer_add_f64(struct llm_gguf_writer *w, const char *key,
			    double v);
int llm_gguf_writer_add_bool(struct llm_gguf_writer *w, const char *key,
			     bool v);
int llm_gguf_writer_add_str(struct llm_gguf_writer *w, const char *key,
			    const char *s);
/* A string of @len bytes that may hold any byte, NUL included. */
int llm_gguf_writer_add_strn(struct llm_gguf_writer *w, const char *key,
			     const void *s, u64 len);
/*
 * An array of @n elements of a fixed-size @elem_type (not STRING or
 * ARRAY), given as they sit in this (little-endian) machine's memory:
 * u8/s8/bool, u16/s16, u32/s32/float, u64/s64/double.
 */
int llm_gguf_writer_add_arr(struct llm_gguf_writer *w, const char *key,
			    u32 elem_type, const void *elems, u64 n);
int llm_gguf_writer_add_arr_str(struct llm_gguf_writer *w, const char *key,
				const char *const *strs, u64 n);
int llm_gguf_writer_add_arr_strn(struct llm_gguf_writer *w, const char *key,
				 const struct llm_gguf_str *strs, u64 n);
/* A pair from a parsed file, value bytes copied as they are. */
int llm_gguf_writer_copy_kv(struct llm_gguf_writer *w,
			    const struct llm_gguf_kv *kv);
/*
 * Unchecked writers only: key @key of @key_len bytes, then the u32 @type,
 * then @val_len bytes of @val as the value, whatever they hold.
 */
int llm_gguf_writer_add_raw(struct llm_gguf_writer *w, const void *key,
			    u64 key_len, u32 type, const void *val,
			    u64 val_len);

/*
 * A tensor of @type with @n_dims dimensions @ne (ne[0] is the row
 * length) and @nbytes of data at @data (NULL: zeros).  A checked writer
 * wants a supported type, 1..4 dimensions of at least 1, and @nbytes
 * equal to the shape's size; like ggml it writes no trailing dimensions
 * of 1 (but at least one).
 */
int llm_gguf_writer_add_tensor(struct llm_gguf_writer *w, const char *name,
			       u32 type, u32 n_dims, const u64 *ne,
			       const void *data, u64 nbytes);
/* A tensor from a parsed file: name, shape (n_dims as in the file), data. */
int llm_gguf_writer_copy_tensor(struct llm_gguf_writer *w,
				const struct llm_gguf_tensor *t);

/* Bytes the file will have. */
u64 llm_gguf_writer_size(const struct llm_gguf_writer *w);
/* The whole file into a malloc'd buffer the caller frees. */
int llm_gguf_writer_to_mem(struct llm_gguf_writer *w, void **buf,
			   size_t *len);
int llm_gguf_writer_to_file(struct llm_gguf_writer *w, const char *path);

#endif /* LLM_GGUF_WRITER_H */
