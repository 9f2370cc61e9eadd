// SPDX-License-Identifier: GPL-2.0
/*
 * Bump allocator over a caller-provided region.  See arena.h.
 */
#include "arena.h"

void llm_arena_init(struct llm_arena *a, void *mem, size_t size)
{
	a->base = mem;
	a->size = mem ? size : 0;
	a->used = 0;
	a->peak = 0;
	a->failures = 0;
}

/*
 * Offset at which an allocation of @size bytes aligned to @align would
 * start, or SIZE_MAX when it cannot fit.  Alignment is of the absolute
 * address, so it holds whatever the region's own alignment is.
 */
static size_t place(const struct llm_arena *a, size_t size, size_t align)
{
	uintptr_t cur, start;
	size_t off, end;

	if (!a->base || !LLM_IS_POW2(align) || align > LLM_ARENA_MAX_ALIGN)
		return SIZE_MAX;
	cur = (uintptr_t)a->base + a->used;
	if (check_add_overflow(cur, (uintptr_t)(align - 1), &start))
		return SIZE_MAX;
	start &= ~(uintptr_t)(align - 1);
	off = start - (uintptr_t)a->base;
	if (off > a->size)
		return SIZE_MAX;
	if (check_add_overflow(off, size, &end) || end > a->size)
		return SIZE_MAX;
	return off;
}

/**
 * llm_arena_alloc - take @size bytes aligned to @align from the arena
 * @a: the arena
 * @size: bytes wanted; 0 gives a valid aligned pointer that owns no bytes
 * @align: a power of two up to LLM_ARENA_MAX_ALIGN, or 0 for LLM_ARENA_ALIGN
 *
 * Return: the memory, or NULL (with a log line saying how much was asked
 * and how much is left) when it does not fit.  The arena is unchanged on
 * failure.
 */
void *llm_arena_alloc(struct llm_arena *a, size_t size, size_t align)
{
	size_t off;

	if (!align)
		align = LLM_ARENA_ALIGN;
	off = place(a, size, align);
	if (off == SIZE_MAX) {
		a->failures++;
		if (LLM_IS_POW2(align) && align <= LLM_ARENA_MAX_ALIGN)
			llm_warn("arena: cannot allocate %zu bytes: %zu of %zu in use, %zu left\n",
				 size, a->used, a->size, a->size - a->used);
		else
			llm_warn("arena: bad alignment %zu\n", align);
		return NULL;
	}
	a->used = off + size;
	if (a->used > a->peak)
		a->peak = a->used;
	return a->base + off;
}

/* @n elements of @elem bytes each, refusing products that overflow. */
void *llm_arena_alloc_array(struct llm_arena *a, size_t n, size_t elem,
			    size_t align)
{
	size_t bytes;

	if (check_mul_overflow(n, elem, &bytes)) {
		a->failures++;
		llm_warn("arena: array of %zu x %zu bytes overflows\n", n, elem);
		return NULL;
	}
	return llm_arena_alloc(a, bytes, align);
}

/* Largest allocation aligned to @align that would succeed now. */
size_t llm_arena_avail(const struct llm_arena *a, size_t align)
{
	size_t off;

	if (!align)
		align = LLM_ARENA_ALIGN;
	off = place(a, 0, align);
	return off == SIZE_MAX ? 0 : a->size - off;
}

/**
 * llm_arena_rewind - give back everything allocated since @mark was taken
 * @a: the arena
 * @mark: a value from llm_arena_mark()
 *
 * Marks nest: rewinding to an outer mark also releases every inner one,
 * and an inner mark is then stale.
 *
 * Return: 0, or -EINVAL for a stale mark (one beyond the current offset),
 * in which case the arena is left as it was.
 */
int llm_arena_rewind(struct llm_arena *a, size_t mark)
{
	if (mark > a->used)
		return -EINVAL;
	a->used = mark;
	return 0;
}
