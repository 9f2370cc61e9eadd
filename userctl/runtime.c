// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace runtime around the shared core.  See runtime.h.
 */
#define _GNU_SOURCE		/* sched_getaffinity() */
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>

#include "runtime.h"

/* Room for the parsed tables and vocabulary, beside the contexts. */
#define TABLES_BYTES(len) ((u64)64 << 20)

#define HUGE_PAGE	(2u << 20)

/*
 * Ask for transparent huge pages under the whole 2 MiB pages of a big
 * buffer before it is first touched, so that streaming the weights takes
 * a TLB miss per 2 MiB rather than per 4 KiB (when THP is "madvise" or
 * "always"; LLM_NO_HUGEPAGE=1 does not ask, for comparisons).
 */
static void advise_huge(void *p, u64 n)
{
	uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)(HUGE_PAGE - 1);

	if (e > a && !getenv("LLM_NO_HUGEPAGE"))
		madvise((void *)a, e - a, MADV_HUGEPAGE);
}

static int read_file(const char *path, void **buf, u64 *len, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 strerror(errno));
		return -errno;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "cannot read %s", path);
		fclose(f);
		return -EIO;
	}
	*buf = malloc(n ? n : 1);
	if (!*buf) {
		fclose(f);
		snprintf(err, errlen, "out of memory reading %s", path);
		return -ENOMEM;
	}
	advise_huge(*buf, n);
	if (fread(*buf, 1, n, f) != (size_t)n) {
		snprintf(err, errlen, "short read on %s", path);
		free(*buf);
		*buf = NULL;
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*len = n;
	return 0;
}

/* @repack: lay the weights out for the tiles, in @image (ours to change). */
static int open_image(struct llm_runtime *rt, const void *image, u64 len,
		      u32 n_ctx, u32 max_prompt_bytes, u32 flags,
		      bool repack, char *err, size_t errlen)
{
	u64 tables = TABLES_BYTES(len), need, ex, kv;
	u32 kv_type = flags & LLM_RT_KV_F16 ? LLM_T_F16 : LLM_T_F32;
	struct llm_model probe;
	struct llm_arena tmp;
	int ret;

	memset(rt, 0, sizeof(*rt));
	/* bind once in a scratch arena to learn the context's size */
	rt->mem = malloc(tables);
	if (!rt->mem) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	llm_arena_init(&tmp, rt->mem, tables);
	ret = llm_model_load(&probe, image, len, &tmp, flags & LLM_RT_REF, err,
			     errlen);
	if (ret)
		goto fail;
	if (!n_ctx)
		n_ctx = min_t(u32, probe.cfg.n_ctx_train, 4096);
	need = llm_ctx_bytes(&probe, n_ctx, max_prompt_bytes);
	ex = llm_exec_bytes(&probe, LLM_BATCH_DEFAULT, llm_pool_size(), n_ctx);
	kv = llm_kv_bytes(&probe, kv_type, n_ctx);
	free(rt->mem);
	if (need == U64_MAX || ex == U64_MAX || kv == U64_MAX ||
	    check_add_overflow(need, ex, &need) ||
	    check_add_overflow(need, kv, &need) || need > (u64)1 << 40) {
		snprintf(err, errlen, "a context of %u positions is too large", n_ctx);
		return -E2BIG;
	}
	rt->mem = malloc(tables + need);
	if (!rt->mem) {
		snprintf(err, errlen, "out of memory for a %u-position context", n_ctx);
		return -ENOMEM;
	}
	advise_huge(rt->mem, tables + need);
	/*
	 * Fault the arena in now, as the module's vmalloc_huge() does: else
	 * a step's first touch of a KV page takes a page fault (zeroing a
	 * 2 MiB page: milliseconds) in the middle of its work.
	 */
	memset(rt->mem, 0, tables + need);
	llm_arena_init(&rt->arena, rt->mem, tables + need);
	ret = llm_model_load(&rt->model, image, len, &rt->arena,
			     flags & LLM_RT_REF,
			     err, errlen);
	if (ret)
		goto fail;
	if (repack && llm_model_repack(&rt->model, &rt->arena)) {
		snprintf(err, errlen, "out of memory to repack the weights");
		ret = -ENOMEM;
		goto fail;
	}
	ret = llm_ctx_init(&rt->ctx, &rt->model, n_ctx, max_prompt_bytes,
			   &rt->arena);
	if (!ret)
		ret = llm_exec_init(&rt->ex, &rt->model, LLM_BATCH_DEFAULT,
				    llm_pool_size(), n_ctx, &rt->arena);
	if (!ret)
		ret = llm_kv_init(&rt->kv, &rt->model, kv_type, n_ctx,
				  &rt->arena);
	if (ret) {
		snprintf(err, errlen, "cannot make a %u-position context", n_ctx);
		goto fail;
	}
	rt->ctx.ex = &rt->ex;
	rt->ctx.kv = &rt->kv;
	return 0;
fail:
	free(rt->mem);
	rt->mem = NULL;
	return ret;
}

int llm_runtime_open_mem(struct llm_runtime *rt, const void *image, u64 len,
			 u32 n_ctx, u32 max_prompt_bytes, u32 flags,
			 char *err, size_t errlen)
{
	return open_image(rt, image, len, n_ctx, max_prompt_bytes, flags,
			  false, err, errlen);
}

int llm_runtime_open(struct llm_runtime *rt, const char *path, u32 n_ctx,
		     u32 max_prompt_bytes, u32 flags, char *err,
		     size_t errlen)
{
	void *image = NULL;
	u64 len = 0;
	int ret;

	ret = read_file(path, &image, &len, err, errlen);
	if (ret)
		return ret;
	/* our own copy of the file: repack it for the tiles */
	ret = open_image(rt, image, len, n_ctx, max_prompt_bytes, flags,
			 true, err, errlen);
	if (ret) {
		free(image);
		return ret;
	}
	rt->image = image;
	rt->image_len = len;
	return 0;
}

void llm_runtime_close(struct llm_runtime *rt)
{
	free(rt->mem);
	free(rt->image);
	memset(rt, 0, sizeof(*rt));
}

int llm_runtime_arena_plan(struct llm_arena_plan *p, const void *image,
			   u64 len, u32 sessions, u32 max_context,
			   u32 max_prompt_bytes, char *err, size_t errlen)
{
	const u64 page = LLM_ARENA_PLAN_PAGE;
	u64 cap, ctxs;
	struct llm_arena arena;
	struct llm_model m;
	void *mem, *img;
	int ret;

	memset(p, 0, sizeof(*p));
	if (!len || !sessions || !max_context) {
		snprintf(err, errlen, "%s", !len ? "the model file is empty" :
			 "sessions and max_context must be at least 1");
		return -EINVAL;
	}
	if (len > ((u64)1 << 40)) {
		snprintf(err, errlen, "a model of %llu bytes is too large",
			 (unsigned long long)len);
		return -E2BIG;
	}
	/* the kernel's arena is vmalloc()ed: page aligned, image first */
	cap = LLM_ALIGN_UP(len, page) + TABLES_BYTES(len);
	mem = aligned_alloc(page, cap);
	if (!mem) {
		snprintf(err, errlen, "out of memory for a %llu-byte model",
			 (unsigned long long)len);
		return -ENOMEM;
	}
	llm_arena_init(&arena, mem, cap);
	img = llm_arena_alloc(&arena, len, page);
	memcpy(img, image, len);
	ret = llm_model_load(&m, img, len, &arena, false, err, errlen);
	if (ret) {
		free(mem);
		return ret;
	}
	p->cfg = m.cfg;
	memcpy(p->name, m.name, sizeof(p->name));
	memcpy(p->arch, m.arch, sizeof(p->arch));
	p->n_params = m.n_params;
	p->type_mask = m.type_mask;
	p->sessions = sessions;
	p->n_ctx = min_t(u32, m.cfg.n_ctx_train, max_context);
	p->max_prompt_bytes = max_prompt_bytes;
	p->image = len;
	p->model = arena.used;
	p->session = llm_ctx_bytes(&m, p->n_ctx, max_prompt_bytes);
	p->threads = llm_online_cpus();
	p->exec = llm_exec_bytes(&m, LLM_BATCH_DEFAULT, p->threads, p->n_ctx);
	p->kv_positions = (u32)min_t(u64, (u64)sessions * p->n_ctx, U32_MAX);
	p->kv = llm_kv_bytes(&m, LLM_T_F32, p->kv_positions);
	free(mem);
	p->margin = page * (LLM_ARENA_PLAN_TABLES +
			    (u64)sessions * LLM_ARENA_PLAN_CTX_BUFFERS);
	if (p->session == U64_MAX || p->exec == U64_MAX || p->kv == U64_MAX ||
	    check_mul_overflow(p->session, (u64)sessions, &ctxs) ||
	    check_add_overflow(p->model, ctxs, &p->total) ||
	    check_add_overflow(p->total, p->exec, &p->total) ||
	    check_add_overflow(p->total, p->kv, &p->total) ||
	    check_add_overflow(p->total, p->margin, &p->total) ||
	    p->total > ((u64)U32_MAX << 20)) {
		snprintf(err, errlen, "%u sessions of %u positions do not fit in any arena",
			 sessions, p->n_ctx);
		return -E2BIG;
	}
	p->arena_mb = (u32)((p->total + (1 << 20) - 1) >> 20);
	return 0;
}

/* Mark in @set the CPUs of a list such as "0-3,8,10-11"; false if bad. */
static bool parse_cpu_list(const char *s, cpu_set_t *set)
{
	unsigned long a, b;
	char *end;

	while (*s && *s != '\n') {
		a = strtoul(s, &end, 10);
		if (end == s)
			return false;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s || b < a)
				return false;
		}
		for (; a <= b && a < CPU_SETSIZE; a++)
			CPU_SET(a, set);
		s = *end == ',' ? end + 1 : end;
	}
	return true;
}

u32 llm_runtime_default_threads(void)
{
	cpu_set_t mine, counted, siblings;
	char path[96], line[1024];
	u32 cores = 0;
	FILE *f;
	int cpu;

	if (sched_getaffinity(0, sizeof(mine), &mine))
		return 1;
	CPU_ZERO(&counted);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &mine) || CPU_ISSET(cpu, &counted))
			continue;
		cores++;
		CPU_ZERO(&siblings);
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list",
			 cpu);
		f = fopen(path, "r");
		if (!f || !fgets(line, sizeof(line), f) ||
		    !parse_cpu_list(line, &siblings))
			CPU_ZERO(&siblings);
		if (f)
			fclose(f);
		CPU_SET(cpu, &siblings);
		CPU_OR(&counted, &counted, &siblings);
	}
	return cores ? min_t(u32, cores, LLM_THREADS_MAX) : 1;
}
