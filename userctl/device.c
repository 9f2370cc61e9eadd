// SPDX-License-Identifier: GPL-2.0
/*
 * Opening /dev/llm and turning the module's errors into sentences.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "llmctl.h"

const char *llmctl_dev_path = "/dev/llm";

int llmctl_open_dev(int flags)
{
	struct stat st;
	int fd;

	fd = open(llmctl_dev_path, flags | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	switch (errno) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		if (stat("/sys/module/llm", &st) == 0)
			fprintf(stderr, "llmctl: %s is missing although the llm module is loaded (is devtmpfs mounted?)\n",
				llmctl_dev_path);
		else
			fprintf(stderr, "llmctl: %s not found: the llm kernel module is not loaded (try: insmod llm.ko)\n",
				llmctl_dev_path);
		return -EXIT_NODEV;
	case EACCES:
	case EPERM:
		fprintf(stderr, "llmctl: permission denied opening %s (its mode is set by the module parameter dev_mode)\n",
			llmctl_dev_path);
		return -EXIT_PERM;
	case EBUSY:
		fprintf(stderr, "llmctl: all session slots of %s are in use; try again later or load the module with more sessions=\n",
			llmctl_dev_path);
		return -EXIT_FAIL;
	case EDQUOT:
		fprintf(stderr, "llmctl: you have as many sessions of %s open as one user may (module parameter sessions_per_user)\n",
			llmctl_dev_path);
		return -EXIT_FAIL;
	default:
		fprintf(stderr, "llmctl: cannot open %s: %s\n",
			llmctl_dev_path, strerror(errno));
		return -EXIT_FAIL;
	}
}

void llmctl_explain(const char *what, int err)
{
	const char *why;

	switch (err) {
	case EPERM:
		why = "this needs CAP_SYS_ADMIN (run as root)";
		break;
	case ENODATA:
		why = "no model is loaded (llmctl load MODEL.gguf)";
		break;
	case EBUSY:
		why = "the device is busy (a model is being installed, or this session's last reply is unread)";
		break;
	case ENODEV:
		why = "the model was unloaded while the request ran";
		break;
	case EAGAIN:
		why = "the one-shot queue of /dev/llm is full; try again later";
		break;
	case ENOMEM:
		why = "the arena is too small (reload the module with a larger arena_mb)";
		break;
	case ENOTTY:
		why = "the module does not know this request (llmctl and llm.ko versions differ?)";
		break;
	case EINVAL:
		why = "the module refused the request as invalid";
		break;
	case EINTR:
		why = "interrupted";
		break;
	case ETIMEDOUT:
		why = "Connection timed out: the network ring did not answer within ring_timeout_ms (llmctl ring shows its links)";
		break;
	case EHOSTUNREACH:
		why = "No route to host: a node of the network ring is not answering (llmctl ring shows which)";
		break;
	case ENETDOWN:
		why = "Network is down: this node left the network ring during the request, or holds only some of the model's layers (llmctl load --layers) and its ring is not up";
		break;
	case ENETRESET:
		why = "Connection reset by network: the network ring was reconfigured during the request; send it again";
		break;
	case E2BIG:
		why = "the input is larger than the module's limits allow";
		break;
	case ENOSPC:
		why = "the session's context is full (start a new session, or /reset in chat)";
		break;
	default:
		why = strerror(err);
		break;
	}
	fprintf(stderr, "llmctl: %s: %s\n", what, why);
}

bool llmctl_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help") ||
	       !strcmp(arg, "help");
}

/* A decimal number from @min to @max, nothing else. */
int llmctl_parse_dec(const char *s, unsigned int min, unsigned int max,
		     unsigned int *out)
{
	unsigned long long v = 0;
	const char *p;

	if (!*s)
		return -1;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

/* "FIRST:LAST", two decimal numbers. */
int llmctl_parse_layers(const char *arg, unsigned int *first,
			unsigned int *last)
{
	const char *colon = strchr(arg, ':');
	unsigned int f, l;
	char buf[16];

	if (!colon || (size_t)(colon - arg) >= sizeof(buf))
		return -1;
	memcpy(buf, arg, colon - arg);
	buf[colon - arg] = 0;
	if (llmctl_parse_dec(buf, 0, 0xffffffffu, &f) ||
	    llmctl_parse_dec(colon + 1, 0, 0xffffffffu, &l))
		return -1;
	*first = f;
	*last = l;
	return 0;
}
