// SPDX-License-Identifier: GPL-2.0
/*
 * mkhostile: write hostile GGUF files (tests/unit/gguf_hostile.c) into a
 * directory, for the QEMU test to load in the kernel and for the fuzzer's
 * seed corpus.
 *
 *   mkhostile [--all] [--valid] [--base FILE] DIR
 *
 * By default a sample (one or two files of each kind of defect) is
 * written; --all writes every case.  Each file is NNN-<case>.gguf, and
 * DIR/expected.txt has one line per file: its name, a tab, and a phrase
 * the loader's error message must contain ("-" for any message).
 * --valid also writes the base itself as valid-base.gguf (not listed in
 * expected.txt).  The base is FILE, or a small synthetic GGUF file; a base
 * that loads as a model (a real one) also gets the cases a model binding
 * refuses: keys and tensors the engine does not honour.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/unit/check.h"
#include "tests/unit/gguf_hostile.h"

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f) {
		fprintf(stderr, "mkhostile: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fwrite(data, 1, len, f) == len;
	ok &= fclose(f) == 0;
	if (!ok)
		fprintf(stderr, "mkhostile: cannot write %s\n", path);
	return ok ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: mkhostile [--all] [--valid] [--base FILE] DIR\n");
}

int main(int argc, char **argv)
{
	const char *base_path = NULL, *dir = NULL;
	bool all = false, valid = false;
	struct hostile_set set;
	char path[4096];
	size_t len, i, n = 0;
	FILE *idx;
	void *base;
	int a, ret;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--all")) {
			all = true;
		} else if (!strcmp(argv[a], "--valid")) {
			valid = true;
		} else if (!strcmp(argv[a], "--base") && a + 1 < argc) {
			base_path = argv[++a];
		} else if (argv[a][0] != '-' && !dir) {
			dir = argv[a];
		} else {
			usage();
			return 2;
		}
	}
	if (!dir) {
		usage();
		return 2;
	}
	if (base_path) {
		base = check_read_file(base_path, &len);
		if (!base) {
			fprintf(stderr, "mkhostile: cannot read %s\n", base_path);
			return 1;
		}
	} else if (hostile_synth_base(&base, &len)) {
		return 1;
	}
	ret = hostile_build(base, len, &set);
	if (ret)
		return 1;
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "mkhostile: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/expected.txt", dir);
	idx = fopen(path, "w");
	if (!idx) {
		fprintf(stderr, "mkhostile: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (i = 0; i < set.n; i++) {
		const struct hostile_case *c = &set.c[i];
		char name[128];

		if (!all && !c->sample)
			continue;
		snprintf(name, sizeof(name), "%03zu-%s.gguf", n++, c->name);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (write_file(path, c->data, c->len))
			return 1;
		fprintf(idx, "%s\t%s\n", name, c->expect[0] ? c->expect : "-");
	}
	if (fclose(idx))
		return 1;
	if (valid) {
		snprintf(path, sizeof(path), "%s/valid-base.gguf", dir);
		if (write_file(path, base, len))
			return 1;
	}
	printf("mkhostile: %zu hostile GGUF files in %s\n", n, dir);
	hostile_free(&set);
	free(base);
	return 0;
}
