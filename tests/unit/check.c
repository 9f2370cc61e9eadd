// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

static int failed_now, n_fail;
static const char *prog = "test";
static const char *cur = "?";

void check_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (failed_now)
		return;
	failed_now = 1;
	printf("FAIL %s: %s: %s:%d: ", prog, cur, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int check_failed(void)
{
	return failed_now;
}

void check_run(const char *name, void (*fn)(void))
{
	extern const char *__progname;

	prog = __progname;
	cur = name;
	failed_now = 0;
	fn();
	if (failed_now)
		n_fail++;
	else
		printf("PASS %s: %s\n", prog, name);
	fflush(stdout);
}

int check_done(void)
{
	return n_fail ? 1 : 0;
}

const char *check_model(const char *name)
{
	static char path[4096];
	const char *dir = getenv("LLM_MODELS");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "models",
		 name);
	return access(path, R_OK) == 0 ? path : NULL;
}

void *check_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	buf = malloc(n ? n : 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		*len = n;
	return buf;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

void check_seed(uint64_t seed)
{
	rng_state = seed;
}

uint32_t rnd32(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

float rndf(void)
{
	return (float)((int32_t)rnd32() / 2147483648.0);
}

uint32_t f2bits(float f)
{
	uint32_t b;

	memcpy(&b, &f, sizeof(b));
	return b;
}

float bits2f(uint32_t b)
{
	float f;

	memcpy(&f, &b, sizeof(f));
	return f;
}
