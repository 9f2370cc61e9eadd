/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KV cache as a pool of pages shared by a model's conversations.  A
 * page holds the keys and values of LLM_KV_PAGE consecutive positions of
 * one conversation for every layer; a conversation takes pages as its
 * context grows and gives them all back when it starts afresh, so memory
 * follows the context in use rather than every slot's maximum.  Non-FPU.
 *
 * Page layout: K of layer 0 positions 0..P-1, K of layer 1, ..., then V
 * the same way (a ring node's pages hold its own layers only); a row is kv_dim elements of the pool's type: F32, or F16
 * (half the memory and the attention's reads; keys and values rounded to
 * half precision, as llama.cpp's default cache keeps them).
 */
#ifndef LLM_KV_H
#define LLM_KV_H

#include "model.h"

#define LLM_KV_PAGE	16	/* positions per page */

struct llm_kv {
	u8 *mem;
	u64 page_bytes;
	u32 type;		/* LLM_T_F32 or LLM_T_F16 */
	u32 elem;		/* bytes per element: 4 or 2 */
	u32 n_pages;
	u32 n_free;
	u32 *free;		/* stack of free page numbers */
	u32 layer0;		/* the first layer it holds */
	u32 n_layers;		/* how many (the model's, or a node's) */
	u32 kv_dim;
	struct llm_spinlock lock;	/* n_free, free */
};

/*
 * Arena bytes of a pool of @type (LLM_T_F32 or LLM_T_F16) with room for
 * @positions (U64_MAX: overflow or another type).
 */
u64 llm_kv_bytes(const struct llm_model *m, u32 type, u32 positions);
int llm_kv_init(struct llm_kv *kv, const struct llm_model *m, u32 type,
		u32 positions, struct llm_arena *arena);
/* "f32", "f16": the type's name (NULL for others); and back (-EINVAL). */
const char *llm_kv_type_name(u32 type);
int llm_kv_type_parse(const char *name, u32 *type);
/* Positions the pool has room for now. */
u32 llm_kv_free_positions(struct llm_kv *kv);

/*
 * Map pages so that positions [0, upto) of @c have room.  0, or -ENOSPC
 * when the pool is out of pages (those mapped so far stay mapped).
 */
int llm_kv_reserve(struct llm_ctx *c, u32 upto);
/* Give back every page of @c. */
void llm_kv_release(struct llm_ctx *c);

/*
 * The key row of @layer at @pos (mapped), and its value row, from element
 * @off of the row on.
 */
static inline u8 *llm_kv_k(const struct llm_ctx *c, u32 layer, u32 pos,
			   u32 off)
{
	const struct llm_kv *kv = c->kv;
	u8 *page = kv->mem + c->pages[pos / LLM_KV_PAGE] * kv->page_bytes;

	return page + (((u64)(layer - kv->layer0) * LLM_KV_PAGE + pos % LLM_KV_PAGE) *
		       kv->kv_dim + off) * kv->elem;
}

static inline u8 *llm_kv_v(const struct llm_ctx *c, u32 layer, u32 pos,
			   u32 off)
{
	const struct llm_kv *kv = c->kv;

	return llm_kv_k(c, layer, pos, off) +
	       (u64)kv->n_layers * LLM_KV_PAGE * kv->kv_dim * kv->elem;
}

#endif /* LLM_KV_H */
