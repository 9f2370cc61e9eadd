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
 *
 * For the ring guests' barriers (guest/lib.sh), over UDP/IPv4; a message
 * matches EXPECTED when it equals it or starts with it and a space:
 *
 *   llmtest udp-send ADDR PORT MESSAGE
 *                              send MESSAGE to ADDR:PORT, one datagram
 *   llmtest udp-wait PORT TIMEOUT_S [EXPECTED]
 *                              wait on PORT for a datagram (one that
 *                              matches EXPECTED; others are dropped) and
 *                              print it; exit 1 after TIMEOUT_S seconds
 *                              (may have a fraction) without one
 *   llmtest udp-ask ADDR PORT MESSAGE TIMEOUT_S EXPECTED
 *                              from PORT, send MESSAGE to ADDR:PORT every
 *                              0.25 s until a datagram that matches
 *                              EXPECTED comes to PORT; print it, exit 1
 *                              after TIMEOUT_S without one
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

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

/* A UDP socket, bound to PORT on every address unless PORT is 0. */
static int udp_socket(unsigned int port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || (port && bind(fd, (struct sockaddr *)&sa, sizeof(sa)))) {
		fprintf(stderr, "llmtest: udp port %u: %s\n", port,
			strerrorname_np(errno));
		exit(2);
	}
	return fd;
}

static struct sockaddr_in udp_addr(const char *addr, const char *port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(strtoul(port, NULL, 0)),
	};

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "llmtest: not an IPv4 address: %s\n", addr);
		exit(2);
	}
	return sa;
}

static int udp_send(int fd, const struct sockaddr_in *sa, const char *msg)
{
	if (sendto(fd, msg, strlen(msg), 0, (const struct sockaddr *)sa,
		   sizeof(*sa)) < 0) {
		fprintf(stderr, "llmtest: udp send: %s\n", strerrorname_np(errno));
		return 1;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int udp_matches(const char *msg, const char *expected)
{
	size_t n = expected ? strlen(expected) : 0;

	return !expected || (!strncmp(msg, expected, n) &&
			     (msg[n] == '\0' || msg[n] == ' '));
}

/*
 * Wait on FD until DEADLINE for a datagram that matches EXPECTED and print
 * it (status 0); with TO, send MSG there first and again every 0.25 s.
 * Status 1 at the deadline.
 */
static int udp_wait(int fd, double deadline, const char *expected,
		    const struct sockaddr_in *to, const char *msg)
{
	char buf[1501];
	double next = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double now = now_s(), until = deadline;
		ssize_t len;

		if (now >= deadline)
			return 1;
		if (to && now >= next) {
			udp_send(fd, to, msg);
			next = now + 0.25;
		}
		if (to && next < until)
			until = next;
		if (poll(&pfd, 1, (int)((until - now) * 1000) + 1) <= 0)
			continue;
		len = recv(fd, buf, sizeof(buf) - 1, 0);
		if (len < 0)
			continue;
		buf[len] = '\0';
		if (!udp_matches(buf, expected))
			continue;
		printf("%s\n", buf);
		return 0;
	}
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
	if (!strcmp(cmd, "udp-send") && argc == 5) {
		struct sockaddr_in to = udp_addr(argv[2], argv[3]);

		return udp_send(udp_socket(0), &to, argv[4]);
	}
	if (!strcmp(cmd, "udp-wait") && (argc == 4 || argc == 5))
		return udp_wait(udp_socket(strtoul(argv[2], NULL, 0)),
				now_s() + strtod(argv[3], NULL),
				argc == 5 ? argv[4] : NULL, NULL, NULL);
	if (!strcmp(cmd, "udp-ask") && argc == 7) {
		struct sockaddr_in to = udp_addr(argv[2], argv[3]);

		return udp_wait(udp_socket(strtoul(argv[3], NULL, 0)),
				now_s() + strtod(argv[5], NULL), argv[6], &to,
				argv[4]);
	}
	fprintf(stderr, "usage: see the comment at the top of llmtest.c\n");
	return 2;
}
