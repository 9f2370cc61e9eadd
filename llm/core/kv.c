// SPDX-License-Identifier: GPL-2.0
/*
 * The paged KV cache (see kv.h).
 */
#include "kv.h"

static u32 elem_bytes(u32 type)
{
	switch (type) {
	case LLM_T_F32:
		return 4;
	case LLM_T_F16:
		return 2;
	}
	return 0;
}

const char *llm_kv_type_name(u32 type)
{
	switch (type) {
	case LLM_T_F32:
		return "f32";
	case LLM_T_F16:
		return "f16";
	}
	return NULL;
}

int llm_kv_type_parse(const char *name, u32 *type)
{
	static const u32 types[] = { LLM_T_F32, LLM_T_F16 };
	u32 i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		if (!strcmp(name, llm_kv_type_name(types[i]))) {
			*type = types[i];
			return 0;
		}
	}
	return -EINVAL;
}

/* a ring node keeps the K/V of its own layers only */
static u64 page_bytes(const struct llm_model *m, u32 type)
{
	return (u64)2 * (m->layer_end - m->layer_first) * LLM_KV_PAGE *
	       m->cfg.kv_dim * elem_bytes(type);
}

static u32 pages_for(u32 positions)
{
	return (u32)(((u64)positions + LLM_KV_PAGE - 1) / LLM_KV_PAGE);
}

u64 llm_kv_bytes(const struct llm_model *m, u32 type, u32 positions)
{
	u64 n = pages_for(positions), data;

	if (!elem_bytes(type) || check_mul_overflow(n, page_bytes(m, type), &data) ||
	    check_add_overflow(data, n * 4 + 2 * LLM_ARENA_ALIGN, &data))
		return U64_MAX;
	return data;
}

int llm_kv_init(struct llm_kv *kv, const struct llm_model *m, u32 type,
		u32 positions, struct llm_arena *arena)
{
	size_t mark = llm_arena_mark(arena);
	u64 bytes = llm_kv_bytes(m, type, positions);
	u32 i;

	memset(kv, 0, sizeof(*kv));
	if (!positions || bytes == U64_MAX || bytes > SIZE_MAX)
		return -EINVAL;
	kv->page_bytes = page_bytes(m, type);
	kv->type = type;
	kv->elem = elem_bytes(type);
	kv->n_pages = pages_for(positions);
	kv->layer0 = m->layer_first;
	kv->n_layers = m->layer_end - m->layer_first;
	kv->kv_dim = m->cfg.kv_dim;
	kv->mem = llm_arena_alloc(arena, kv->n_pages * kv->page_bytes, 0);
	kv->free = llm_arena_alloc_array(arena, kv->n_pages, sizeof(u32), 0);
	if (!kv->mem || !kv->free) {
		llm_arena_rewind(arena, mark);
		memset(kv, 0, sizeof(*kv));
		return -ENOMEM;
	}
	/* hand out low pages first: page 0 on top of the stack */
	for (i = 0; i < kv->n_pages; i++)
		kv->free[i] = kv->n_pages - 1 - i;
	kv->n_free = kv->n_pages;
	llm_spin_init(&kv->lock);
	return 0;
}

u32 llm_kv_free_positions(struct llm_kv *kv)
{
	return READ_ONCE(kv->n_free) * LLM_KV_PAGE;
}

int llm_kv_reserve(struct llm_ctx *c, u32 upto)
{
	struct llm_kv *kv = c->kv;
	u32 want = pages_for(upto);
	int ret = 0;

	if (upto > c->n_ctx)
		return -ENOSPC;
	if (want <= c->n_pages)
		return 0;
	llm_spin_lock(&kv->lock);
	while (c->n_pages < want) {
		if (!kv->n_free) {
			ret = -ENOSPC;
			break;
		}
		c->pages[c->n_pages++] = kv->free[--kv->n_free];
	}
	llm_spin_unlock(&kv->lock);
	return ret;
}

void llm_kv_release(struct llm_ctx *c)
{
	struct llm_kv *kv = c->kv;

	if (!kv || !c->n_pages)
		return;
	llm_spin_lock(&kv->lock);
	while (c->n_pages)
		kv->free[kv->n_free++] = c->pages[--c->n_pages];
	llm_spin_unlock(&kv->lock);
}
