// SPDX-License-Identifier: GPL-2.0
/*
 * The arena in its userspace build: sizes, alignment, exhaustion, nested
 * marks, accounting.
 */
#include <stdlib.h>

#include "check.h"
#include "arena/arena.h"

#define REGION 4096

static _Alignas(4096) unsigned char region[REGION];

static void zero_size(void)
{
	struct llm_arena a;
	void *p, *q;

	llm_arena_init(&a, region, REGION);
	p = llm_arena_alloc(&a, 0, 0);
	CHECK(p != NULL);
	CHECK_EQ((uintptr_t)p % LLM_ARENA_ALIGN, 0);
	CHECK_EQ(a.used, 0);
	q = llm_arena_alloc(&a, 1, 1);
	CHECK(q == p);
	CHECK_EQ(a.used, 1);
	/* an arena over no memory refuses everything */
	llm_arena_init(&a, NULL, REGION);
	CHECK(llm_arena_alloc(&a, 0, 0) == NULL);
	CHECK_EQ(a.size, 0);
}

static void huge_sizes(void)
{
	struct llm_arena a;

	llm_arena_init(&a, region, REGION);
	CHECK(llm_arena_alloc(&a, SIZE_MAX, 1) == NULL);
	CHECK(llm_arena_alloc(&a, SIZE_MAX - 63, 64) == NULL);
	CHECK(llm_arena_alloc(&a, REGION + 1, 1) == NULL);
	CHECK(llm_arena_alloc_array(&a, SIZE_MAX / 2, 3, 0) == NULL);
	CHECK(llm_arena_alloc_array(&a, (size_t)1 << 40, (size_t)1 << 40, 0) == NULL);
	CHECK_EQ(a.used, 0);
	CHECK_EQ(a.peak, 0);
	CHECK_EQ(a.failures, 5);
	CHECK(llm_arena_alloc(&a, REGION, 1) == region);
	CHECK_EQ(a.used, REGION);
}

static void every_alignment(void)
{
	struct llm_arena a;
	size_t align;

	for (align = 1; align <= LLM_ARENA_MAX_ALIGN; align <<= 1) {
		size_t off;

		for (off = 0; off < 70; off++) {
			unsigned char *p;

			llm_arena_init(&a, region + off, REGION - off);
			CHECK(llm_arena_alloc(&a, 1, 1) != NULL);
			p = llm_arena_alloc(&a, 8, align);
			if (align > REGION / 2 && !p)
				continue;	/* does not fit: fine */
			CHECK(p != NULL);
			CHECK_EQ((uintptr_t)p % align, 0);
			CHECK(p >= region + off + 1);
			CHECK(p < region + off + 1 + align);
			CHECK_EQ(a.used, (size_t)(p - (region + off)) + 8);
		}
	}
	/* not powers of two, or too large */
	llm_arena_init(&a, region, REGION);
	CHECK(llm_arena_alloc(&a, 8, 3) == NULL);
	CHECK(llm_arena_alloc(&a, 8, 48) == NULL);
	CHECK(llm_arena_alloc(&a, 8, LLM_ARENA_MAX_ALIGN * 2) == NULL);
	CHECK(llm_arena_alloc(&a, 8, (size_t)1 << 63) == NULL);
	CHECK_EQ(a.used, 0);
}

static void exhaustion(void)
{
	struct llm_arena a;
	size_t i, got = 0;
	unsigned char *p;

	llm_arena_init(&a, region, REGION);
	for (i = 0; i < 1000; i++) {
		p = llm_arena_alloc(&a, 100, 1);
		if (!p)
			break;
		memset(p, 0xab, 100);
		got++;
	}
	CHECK_EQ(got, REGION / 100);
	CHECK_EQ(a.used, got * 100);
	CHECK_EQ(a.failures, 1);
	/* a failure leaves the arena usable for what still fits */
	CHECK_EQ(llm_arena_avail(&a, 1), REGION - got * 100);
	CHECK(llm_arena_alloc(&a, REGION - got * 100, 1) != NULL);
	CHECK_EQ(a.used, REGION);
	CHECK_EQ(llm_arena_avail(&a, 64), 0);
	CHECK(llm_arena_alloc(&a, 1, 1) == NULL);
	CHECK(llm_arena_alloc(&a, 0, 1) != NULL);
}

static void marks_nest(void)
{
	struct llm_arena a;
	size_t outer, inner;
	void *p, *q;

	llm_arena_init(&a, region, REGION);
	CHECK(llm_arena_alloc(&a, 10, 1));
	outer = llm_arena_mark(&a);
	p = llm_arena_alloc(&a, 100, 64);
	CHECK(p);
	inner = llm_arena_mark(&a);
	CHECK(llm_arena_alloc(&a, 1000, 64));
	CHECK_EQ(llm_arena_rewind(&a, inner), 0);
	CHECK_EQ(a.used, inner);
	q = llm_arena_alloc(&a, 1000, 64);
	CHECK(q);
	CHECK_EQ(llm_arena_rewind(&a, outer), 0);
	CHECK_EQ(a.used, 10);
	/* the inner mark is now stale: rewinding past it is refused */
	CHECK_EQ(llm_arena_rewind(&a, inner), -EINVAL);
	CHECK_EQ(a.used, 10);
	/* memory is handed out again from the outer mark */
	CHECK(llm_arena_alloc(&a, 100, 64) == p);
	CHECK_EQ(llm_arena_rewind(&a, 0), 0);
	CHECK_EQ(a.used, 0);
}

static void accounting(void)
{
	struct llm_arena a;
	size_t m;

	llm_arena_init(&a, region, REGION);
	CHECK_EQ(a.size, REGION);
	m = llm_arena_mark(&a);
	CHECK(llm_arena_alloc(&a, 1000, 1));
	CHECK(llm_arena_alloc(&a, 500, 1));
	CHECK_EQ(a.peak, 1500);
	CHECK_EQ(llm_arena_rewind(&a, m), 0);
	CHECK_EQ(a.used, 0);
	CHECK_EQ(a.peak, 1500);
	CHECK(llm_arena_alloc(&a, 200, 1));
	CHECK_EQ(a.peak, 1500);
	CHECK(llm_arena_alloc(&a, 2000, 1));
	CHECK_EQ(a.peak, 2200);
	CHECK_EQ(llm_arena_avail(&a, 1), REGION - 2200);
}

int main(void)
{
	llm_log_quiet = 1;
	RUN(zero_size);
	RUN(huge_sizes);
	RUN(every_alignment);
	RUN(exhaustion);
	RUN(marks_nest);
	RUN(accounting);
	return check_done();
}
