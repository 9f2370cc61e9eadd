/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A very small unit-test frame.  Each test prints one result line,
 *   PASS <program>: <test>          or
 *   FAIL <program>: <test>: <file>:<line>: <what>
 * which tests/run-all.sh counts.  A failed CHECK ends the test.
 */
#ifndef LLM_TEST_CHECK_H
#define LLM_TEST_CHECK_H

#include <stdio.h>
#include <stdint.h>
#include <string.h>

void check_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int check_failed(void);
void check_run(const char *name, void (*fn)(void));
int check_done(void);
/*
 * Path of a model file the project ships in models/ (relative to the top
 * directory, where make runs the tests; $LLM_MODELS overrides), NULL if it
 * is absent: the caller fails, since the files are part of the tree.
 */
const char *check_model(const char *name);
/* Whole file into a malloc'd buffer; NULL on error. */
void *check_read_file(const char *path, size_t *len);

/*
 * A small deterministic generator for test data (xorshift64*), seeded by
 * check_seed() so that each program draws its own fixed sequence.
 */
void check_seed(uint64_t seed);
uint32_t rnd32(void);
/* uniform in [-1, 1) */
float rndf(void);
/* A float's bits and back. */
uint32_t f2bits(float f);
float bits2f(uint32_t b);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		check_fail(__FILE__, __LINE__, "%s", #cond);		\
		return;							\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		check_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", \
			   #a, #b, _a, _b);				\
		return;							\
	}								\
} while (0)

#define RUN(fn) check_run(#fn, fn)

#endif /* LLM_TEST_CHECK_H */
