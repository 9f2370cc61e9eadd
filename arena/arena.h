/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The arena: one region reserved up front, handed out by bump allocation.
 *
 * Lifetimes nest (model, then session slots, then per-step scratch), so a
 * mark/rewind pair is all the freeing there is.  Nothing here sleeps or
 * allocates; callers that share an arena serialise around it.
 */
#ifndef LLM_ARENA_H
#define LLM_ARENA_H

#include "../llm/core/platform.h"

/* Default alignment: one cache line, enough for any SIMD load we use. */
#define LLM_ARENA_ALIGN		64
/* Largest alignment a caller may ask for (a page is plenty). */
#define LLM_ARENA_MAX_ALIGN	4096

struct llm_arena {
	u8 *base;		/* start of the region (not owned) */
	size_t size;		/* bytes in the region */
	size_t used;		/* bump offset from base */
	size_t peak;		/* highest @used ever seen */
	u64 failures;		/* allocations refused for lack of room */
};

void llm_arena_init(struct llm_arena *a, void *mem, size_t size);
void *llm_arena_alloc(struct llm_arena *a, size_t size, size_t align);
void *llm_arena_alloc_array(struct llm_arena *a, size_t n, size_t elem,
			    size_t align);
size_t llm_arena_avail(const struct llm_arena *a, size_t align);

/* A mark is the bump offset at the time it was taken. */
static inline size_t llm_arena_mark(const struct llm_arena *a)
{
	return a->used;
}

int llm_arena_rewind(struct llm_arena *a, size_t mark);

#endif /* LLM_ARENA_H */
