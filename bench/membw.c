// SPDX-License-Identifier: GPL-2.0
/*
 * membw: the machine's memory read bandwidth, the ceiling of a decode
 * step that streams every weight once.
 *
 *   membw [-j THREADS] [-s MIB] [-r REPEATS] [--tsv]
 *
 * THREADS threads (default 1) each sum their share of a buffer of MIB MiB
 * (default 512: well beyond any last-level cache), all at once; a pass
 * takes from the first thread's start to the last one's end.  The best of
 * REPEATS passes (default 10) is printed, in GB/s (10^9 bytes): on a
 * shared machine some passes lose the CPU part way, and the best is the
 * one that did not.  The sum
 * is kept so the compiler cannot drop the reads; the loop is written with
 * 32-byte vectors, and compiled for AVX2 where the CPU has it, so one
 * core's loads are not limited by the instruction width.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

typedef uint64_t v4u64 __attribute__((vector_size(32)));

struct worker {
	pthread_t tid;
	const v4u64 *p;
	size_t n;		/* vectors */
	uint64_t sum;
	double t0, t1;		/* this pass's start and end */
	unsigned int passes;
	pthread_barrier_t *start, *done;
};

#define SUM_LOOP(p, n, out) do {					\
	v4u64 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };		\
	size_t i_;							\
									\
	for (i_ = 0; i_ + 4 <= (n); i_ += 4) {				\
		a0 += (p)[i_];						\
		a1 += (p)[i_ + 1];					\
		a2 += (p)[i_ + 2];					\
		a3 += (p)[i_ + 3];					\
	}								\
	a0 += a1 + a2 + a3;						\
	(out) = a0[0] + a0[1] + a0[2] + a0[3];				\
} while (0)

#if defined(__x86_64__)
__attribute__((target("avx2")))
static uint64_t sum_avx2(const v4u64 *p, size_t n)
{
	uint64_t s;

	SUM_LOOP(p, n, s);
	return s;
}
#endif

static uint64_t sum_plain(const v4u64 *p, size_t n)
{
	uint64_t s;

	SUM_LOOP(p, n, s);
	return s;
}

static uint64_t (*sum_fn)(const v4u64 *p, size_t n) = sum_plain;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Each thread stamps its own start and end: the main thread may be
 * descheduled between the barrier and its clock reading while the others
 * run (this machine is shared), so its own stamps would miss the pass.
 */
static void *run(void *arg)
{
	struct worker *w = arg;
	unsigned int i;

	for (i = 0; i < w->passes; i++) {
		pthread_barrier_wait(w->start);
		w->t0 = now();
		w->sum += sum_fn(w->p, w->n);
		w->t1 = now();
		pthread_barrier_wait(w->done);
	}
	return NULL;
}

static int parse(const char *opt, const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || !v || v > 1u << 20) {
		fprintf(stderr, "membw: %s wants a positive number, not '%s'\n",
			opt, s);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int threads = 1, mib = 512, repeats = 10, t, r;
	pthread_barrier_t start, done;
	struct worker *w;
	bool tsv = false;
	uint64_t total = 0;
	size_t bytes, nvec, per;
	double best = 0;
	void *buf;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-j") && i + 1 < argc) {
			if (parse("-j", argv[++i], &threads))
				return 2;
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			if (parse("-s", argv[++i], &mib))
				return 2;
		} else if (!strcmp(argv[i], "-r") && i + 1 < argc) {
			if (parse("-r", argv[++i], &repeats))
				return 2;
		} else if (!strcmp(argv[i], "--tsv")) {
			tsv = true;
		} else {
			fprintf(stderr,
				"usage: membw [-j THREADS] [-s MIB] [-r REPEATS] [--tsv]\n");
			return 2;
		}
	}
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		sum_fn = sum_avx2;
#endif
	bytes = (size_t)mib << 20;
	buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("membw: mmap");
		return 1;
	}
	/* big pages where the kernel gives them: fewer TLB misses, as a
	 * model read into malloc'd memory gets */
	madvise(buf, bytes, MADV_HUGEPAGE);
	memset(buf, 1, bytes);

	nvec = bytes / sizeof(v4u64);
	per = nvec / threads / 4 * 4;
	w = calloc(threads, sizeof(*w));
	if (!w)
		return 1;
	pthread_barrier_init(&start, NULL, threads + 1);
	pthread_barrier_init(&done, NULL, threads + 1);
	for (t = 0; t < threads; t++) {
		w[t].p = (const v4u64 *)buf + t * per;
		w[t].n = per;
		w[t].passes = repeats;
		w[t].start = &start;
		w[t].done = &done;
		if (pthread_create(&w[t].tid, NULL, run, &w[t])) {
			perror("membw: pthread_create");
			return 1;
		}
	}
	for (r = 0; r < repeats; r++) {
		double t0, t1;

		pthread_barrier_wait(&start);
		pthread_barrier_wait(&done);
		/* from the first thread's start to the last one's end */
		t0 = w[0].t0;
		t1 = w[0].t1;
		for (t = 1; t < threads; t++) {
			t0 = w[t].t0 < t0 ? w[t].t0 : t0;
			t1 = w[t].t1 > t1 ? w[t].t1 : t1;
		}
		if (t1 > t0 && per * threads * sizeof(v4u64) / (t1 - t0) > best)
			best = per * threads * sizeof(v4u64) / (t1 - t0);
	}
	for (t = 0; t < threads; t++) {
		pthread_join(w[t].tid, NULL);
		total += w[t].sum;
	}
	if (tsv)
		printf("%u\t%.2f\n", threads, best / 1e9);
	else
		printf("membw: %u thread%s, %u MiB, best of %u: %.2f GB/s read (checksum %llu)\n",
		       threads, threads == 1 ? "" : "s", mib, repeats,
		       best / 1e9, (unsigned long long)(total & 0xffff));
	munmap(buf, bytes);
	free(w);
	return 0;
}
