// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl load / unload: put a GGUF model into the kernel's arena, or take
 * it out.  Both need CAP_SYS_ADMIN.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "llmctl.h"
#include "../uapi/llm.h"

#define CHUNK (4u << 20)

void help_load(FILE *out)
{
	fprintf(out,
		"usage: llmctl load [--fd] [--quiet] [--layers FIRST:LAST] MODEL.gguf\n"
		"\n"
		"Copy MODEL.gguf into the kernel's arena and make it the model\n"
		"that /dev/llm serves, replacing the one loaded (if any).  The\n"
		"file is uploaded in pieces with a progress bar; with --fd the\n"
		"kernel reads it itself from a file descriptor.  The module checks\n"
		"the whole file and says what is wrong with it if it refuses it.\n"
		"Needs CAP_SYS_ADMIN; requests of the model loaded before end\n"
		"with ENODEV.\n"
		"\n"
		"Options:\n"
		"  --fd        let the kernel read the file (no progress bar)\n"
		"  --layers FIRST:LAST\n"
		"              hold only layers FIRST up to but not including\n"
		"              LAST: a network ring node's share (llmctl ring up\n"
		"              --layers).  The kernel reads only the metadata\n"
		"              and the tensors those layers need (the embedding\n"
		"              if FIRST is 0, the output norm and classifier if\n"
		"              LAST is the layer count), so MODEL.gguf may be\n"
		"              bigger than the arena; the K/V cache holds those\n"
		"              layers only.  Such a model serves requests only as\n"
		"              the ring's head (ENETDOWN otherwise).  Implies --fd\n"
		"  -q, --quiet no progress bar\n");
}

void help_unload(FILE *out)
{
	fprintf(out,
		"usage: llmctl unload\n"
		"\n"
		"Drop the loaded model and give its arena memory back.  Needs\n"
		"CAP_SYS_ADMIN; fails while requests are running.\n");
}

static int load_ioctl(int fd, struct llm_load *l, const char *what)
{
	if (ioctl(fd, LLM_IOC_LOAD, l) == 0)
		return 0;
	if (l->error[0])
		fprintf(stderr, "llmctl load: %s: %s\n", what, l->error);
	else
		llmctl_explain(what, errno);
	return errno == EPERM ? EXIT_PERM : EXIT_FAIL;
}

static void progress(unsigned long long done, unsigned long long total)
{
	int width = 40, fill = total ? (int)(done * width / total) : width;

	fprintf(stderr, "\r[%.*s%*s] %3d%% %llu/%llu MiB", fill,
		"########################################", width - fill, "",
		total ? (int)(done * 100 / total) : 100, done >> 20,
		total >> 20);
	if (done == total)
		fputc('\n', stderr);
}

static int upload(int dev, int file, unsigned long long size, bool quiet)
{
	struct llm_load l;
	char *buf = malloc(CHUNK);
	unsigned long long done = 0;
	int ret;

	if (!buf)
		return EXIT_FAIL;
	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	l.op = LLM_LOAD_BEGIN;
	l.len = size;
	ret = load_ioctl(dev, &l, "starting the upload");
	while (!ret && done < size) {
		ssize_t n = read(file, buf, CHUNK);

		if (n <= 0) {
			fprintf(stderr, "llmctl load: reading the file failed\n");
			ret = EXIT_FAIL;
			break;
		}
		l.op = LLM_LOAD_DATA;
		l.data = (__u64)(uintptr_t)buf;
		l.len = n;
		ret = load_ioctl(dev, &l, "uploading");
		done += n;
		if (!quiet && !ret)
			progress(done, size);
	}
	free(buf);
	if (ret) {
		l.op = LLM_LOAD_ABORT;
		ioctl(dev, LLM_IOC_LOAD, &l);
		return ret;
	}
	l.op = LLM_LOAD_COMMIT;
	return load_ioctl(dev, &l, "the module refused the model");
}

int cmd_load(int argc, char **argv)
{
	bool by_fd = false, quiet = false;
	unsigned int first = 0, end = 0;
	const char *path = NULL;
	struct llm_load l;
	struct stat st;
	int i, dev, file, ret;

	for (i = 1; i < argc; i++) {
		if (llmctl_is_help(argv[i])) {
			help_load(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--fd")) {
			by_fd = true;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			quiet = true;
		} else if (!strcmp(argv[i], "--layers")) {
			if (i + 1 == argc ||
			    llmctl_parse_layers(argv[i + 1], &first, &end) ||
			    first >= end) {
				fprintf(stderr, "llmctl load: --layers wants FIRST:LAST with FIRST < LAST, e.g. 0:4\n");
				return EXIT_USAGE;
			}
			by_fd = true;
			i++;
		} else if (argv[i][0] == '-' || path) {
			help_load(stderr);
			return EXIT_USAGE;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		help_load(stderr);
		return EXIT_USAGE;
	}
	file = open(path, O_RDONLY | O_CLOEXEC);
	if (file < 0 || fstat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "llmctl load: cannot read %s: %s\n", path,
			file < 0 ? strerror(errno) : "not a regular file");
		return EXIT_FAIL;
	}
	dev = llmctl_open_dev(O_RDWR);
	if (dev < 0) {
		close(file);
		return -dev;
	}
	if (by_fd) {
		memset(&l, 0, sizeof(l));
		l.size = sizeof(l);
		l.op = LLM_LOAD_FD;
		l.fd = file;
		l.layer_first = first;
		l.layer_end = end;
		ret = load_ioctl(dev, &l, "the module refused the model");
	} else {
		ret = upload(dev, file, st.st_size, quiet || !isatty(2));
	}
	if (!ret && !quiet && end)
		printf("loaded layers %u:%u of %s (%llu of its %llu bytes)\n",
		       first, end, path, (unsigned long long)l.total,
		       (unsigned long long)st.st_size);
	else if (!ret && !quiet)
		printf("loaded %s (%llu bytes)\n", path,
		       (unsigned long long)st.st_size);
	close(file);
	close(dev);
	return ret;
}

int cmd_unload(int argc, char **argv)
{
	int dev;

	if (argc > 1) {
		if (llmctl_is_help(argv[1])) {
			help_unload(stdout);
			return EXIT_OK;
		}
		help_unload(stderr);
		return EXIT_USAGE;
	}
	dev = llmctl_open_dev(O_RDWR);
	if (dev < 0)
		return -dev;
	if (ioctl(dev, LLM_IOC_UNLOAD) < 0) {
		llmctl_explain("unload", errno);
		close(dev);
		return errno == EPERM ? EXIT_PERM : EXIT_FAIL;
	}
	close(dev);
	return EXIT_OK;
}
