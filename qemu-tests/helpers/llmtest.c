// SPDX-License-Identifier: GPL-2.0
/*
 * llmtest: small probes for the guest tests (qemu-tests/run.sh builds it
 * statically into the guest as /bin/llmtest).  Each subcommand does one
 * thing llmctl would not, and prints "ok ..." or the errno's name, so a
 * shell test can compare its output.
 *
 *   llmtest sizeof             print sizeof(struct llm_info)
 *   llmtest info SIZE [TAIL]   LLM_IOC_GET_INFO with the size field set to
 *                              SIZE (buffer at least that big, zeroed; with
 *                              TAIL, byte sizeof(info) is set to TAIL)
 *   llmtest info-flags FLAGS   GET_INFO with a nonzero flags field
 *   llmtest info-badptr        GET_INFO on an unmapped address
 *   llmtest nr NR              ioctl number NR of the llm magic
 *   llmtest magic              a GET_INFO-shaped ioctl of another magic
 *   llmtest runas UID CMD...   run CMD as UID (and GID UID), no groups
 *   llmtest drain              wait until the terminal on standard output
 *                              has sent all it holds (tcdrain)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "uapi/llm.h"

static int open_dev(void)
{
	int fd = open("/dev/llm", O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		printf("open: %s\n", strerrorname_np(errno));
		exit(1);
	}
	return fd;
}

/* Print what an ioctl returned; the test compares this line. */
static int report(long ret, const struct llm_info *info)
{
	if (ret < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 0;
	}
	if (info)
		printf("ok size=%u abi=%u sessions=%u/%u arena=%llu\n",
		       info->size, info->abi_version, info->sessions_active,
		       info->sessions_max,
		       (unsigned long long)info->arena_size);
	else
		printf("ok\n");
	return 0;
}

static int cmd_info(unsigned long size, int tail)
{
	size_t len = size > sizeof(struct llm_info) ? size :
		     sizeof(struct llm_info);
	unsigned char *buf = calloc(1, len + 64);
	struct llm_info *info = (struct llm_info *)buf;
	int fd = open_dev();

	if (!buf)
		return 1;
	info->size = size;
	if (tail >= 0)
		buf[sizeof(*info)] = tail;
	/* the command's size bits say the same size, as a program built
	 * with a struct of that size would (at most their 14 bits) */
	return report(ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, LLM_IOC_MAGIC, 0,
				     size > _IOC_SIZEMASK ? _IOC_SIZEMASK : size),
			    info), info);
}

static int cmd_info_flags(unsigned int flags)
{
	struct llm_info info = { .size = sizeof(info), .flags = flags };

	return report(ioctl(open_dev(), LLM_IOC_GET_INFO, &info), &info);
}

static int cmd_nr(unsigned int nr)
{
	struct llm_info info = { .size = sizeof(info) };

	return report(ioctl(open_dev(), _IOWR(LLM_IOC_MAGIC, nr,
					       struct llm_info), &info), NULL);
}

static int cmd_magic(void)
{
	struct llm_info info = { .size = sizeof(info) };

	return report(ioctl(open_dev(), _IOWR(LLM_IOC_MAGIC ^ 1, 0,
					       struct llm_info), &info), NULL);
}

static int cmd_runas(char **argv)
{
	uid_t uid = strtoul(argv[0], NULL, 0);

	if (setgroups(0, NULL) || setgid(uid) || setuid(uid)) {
		perror("llmtest runas");
		return 1;
	}
	execvp(argv[1], argv + 1);
	perror("llmtest runas: exec");
	return 127;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "sizeof") && argc == 2)
		return printf("%zu\n", sizeof(struct llm_info)) < 0;
	if (!strcmp(cmd, "info") && argc >= 3)
		return cmd_info(strtoul(argv[2], NULL, 0),
				argc > 3 ? atoi(argv[3]) : -1);
	if (!strcmp(cmd, "info-flags") && argc == 3)
		return cmd_info_flags(strtoul(argv[2], NULL, 0));
	if (!strcmp(cmd, "info-badptr") && argc == 2)
		return report(ioctl(open_dev(), LLM_IOC_GET_INFO, (void *)16),
			      NULL);
	if (!strcmp(cmd, "nr") && argc == 3)
		return cmd_nr(strtoul(argv[2], NULL, 0));
	if (!strcmp(cmd, "magic") && argc == 2)
		return cmd_magic();
	if (!strcmp(cmd, "runas") && argc >= 4)
		return cmd_runas(argv + 2);
	if (!strcmp(cmd, "drain") && argc == 2)
		return tcdrain(STDOUT_FILENO) ? 1 : 0;
	fprintf(stderr, "usage: see the comment at the top of llmtest.c\n");
	return 2;
}
