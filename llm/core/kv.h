/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KV cache as a pool of pages shared by a model's conversations.  A
 * page holds the keys and values of LLM_KV_PAGE consecutive positions of
 * one conversation for every layer; a conversation takes pages as its
 * context grows and gives them all back when it starts afresh, so memory
 * follows the context in use rather than every slot's maximum.  Non-FPU.
 *
 * Page layout: K of layer 0 positions 0..P-1, K of layer 1, ..., then V
 * the same way; a row is kv_dim floats.
 */
#ifndef LLM_KV_H
#define LLM_KV_H

#include "model.h"

#define LLM_KV_PAGE	16	/* positions per page */

struct llm_kv {
	u8 *mem;
	u64 page_bytes;
	u32 n_pages;
	u32 n_free;
	u32 *free;		/* stack of free page numbers */
	u32 n_layers;
	u32 kv_dim;
	struct llm_spinlock lock;	/* n_free, free */
};

/* Arena bytes of a pool for @positions positions (U64_MAX: overflow). */
u64 llm_kv_bytes(const struct llm_model *m, u32 positions);
int llm_kv_init(struct llm_kv *kv, const struct llm_model *m, u32 positions,
		struct llm_arena *arena);
/* Positions the pool has room for now. */
u32 llm_kv_free_positions(struct llm_kv *kv);

/*
 * Map pages so that positions [0, upto) of @c have room.  0, or -ENOSPC
 * when the pool is out of pages (those mapped so far stay mapped).
 */
int llm_kv_reserve(struct llm_ctx *c, u32 upto);
/* Give back every page of @c. */
void llm_kv_release(struct llm_ctx *c);

/* The key row of @layer at @pos (mapped), and its value row. */
static inline float *llm_kv_k(const struct llm_ctx *c, u32 layer, u32 pos)
{
	const struct llm_kv *kv = c->kv;
	u8 *page = kv->mem + c->pages[pos / LLM_KV_PAGE] * kv->page_bytes;

	return (float *)page + ((u64)layer * LLM_KV_PAGE + pos % LLM_KV_PAGE) *
	       kv->kv_dim;
}

static inline float *llm_kv_v(const struct llm_ctx *c, u32 layer, u32 pos)
{
	const struct llm_kv *kv = c->kv;

	return llm_kv_k(c, layer, pos) +
	       (u64)kv->n_layers * LLM_KV_PAGE * kv->kv_dim;
}

#endif /* LLM_KV_H */
