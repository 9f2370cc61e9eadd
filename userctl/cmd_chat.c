// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl chat: an interactive conversation with the kernel's model in one
 * session, so each turn continues from the ones before.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "llmctl.h"
#include "../uapi/llm.h"

void help_chat(FILE *out)
{
	fprintf(out,
		"usage: llmctl chat [options]\n"
		"\n"
		"Talk with the kernel's model: each line you type is sent to\n"
		"/dev/llm and the completion streams back.  All turns share one\n"
		"session, so the model sees the whole conversation until the\n"
		"context is full or you reset it.\n"
		"\n"
		"Typed commands:\n"
		"  /reset   forget the conversation\n"
		"  /quit    leave (so does end of input, Ctrl-D)\n"
		"\n"
		"Options (as for generate):\n"
		"  -n, --tokens N   tokens per reply (default 256)\n"
		"  -t, --temp T     temperature; 0 is greedy (default 0)\n"
		"  -k, --top-k K    top-k cut (default 0: off)\n"
		"  -p, --top-p P    nucleus mass (default 0.9)\n"
		"  -s, --seed S     sampler seed (default 0: random)\n"
		"  -S, --stop STR   stop a reply when STR appears\n"
		"  -q, --quiet      no statistics after each reply\n"
		"\n"
		"Ctrl-C stops the reply being generated; at the prompt it leaves.\n");
}

static void on_sigint(int sig)
{
	(void)sig;
	llmctl_interrupted = 1;
}

/* One turn: send @line, stream the reply.  -1 on a fatal error. */
static int turn(int fd, const char *line, bool quiet)
{
	size_t len = strlen(line);
	bool cancelled = false;
	struct llm_stats st;
	char buf[4096];
	ssize_t n;

	if (write(fd, line, len) < 0) {
		int err = errno;

		llmctl_explain_prompt("sending", err);
		return err == ENODATA ? -1 : 0;
	}
	for (;;) {
		/* Ctrl-C stops the reply; the conversation keeps it */
		if (llmctl_interrupted && !cancelled) {
			ioctl(fd, LLM_IOC_CANCEL);
			cancelled = true;
		}
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			fwrite(buf, 1, n, stdout);
			fflush(stdout);
		} else if (!n || errno != EINTR) {
			break;
		}
	}
	putchar('\n');
	if (n < 0)
		llmctl_explain("reply", errno);
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	if (!quiet && ioctl(fd, LLM_IOC_GET_STATS, &st) == 0)
		fprintf(stderr, "[%u prompt + %u generated tokens, context %u/%u]\n",
			st.session_prompt_tokens, st.session_generated_tokens,
			st.session_ctx_used, st.session_ctx_size);
	return 0;
}

int cmd_chat(int argc, char **argv)
{
	struct llmctl_gen o;
	struct sigaction sa;
	char *line = NULL;
	size_t cap = 0;
	bool tty = isatty(0);
	int fd, ret;

	memset(&o, 0, sizeof(o));
	ret = llmctl_parse_gen(argc, argv, &o, true);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	fd = llmctl_open_dev(O_RDWR);
	if (fd < 0)
		return -fd;
	if (llmctl_set_params(fd, &o.req)) {
		close(fd);
		return EXIT_FAIL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	if (tty)
		fprintf(stderr, "llmctl chat: /reset forgets, /quit or Ctrl-D leaves\n");
	for (;;) {
		ssize_t n;

		if (tty) {
			fputs("> ", stdout);
			fflush(stdout);
		}
		llmctl_interrupted = 0;
		n = getline(&line, &cap, stdin);
		if (n < 0 || llmctl_interrupted)
			break;
		if (!strcmp(line, "/quit\n") || !strcmp(line, "/quit"))
			break;
		if (!strcmp(line, "/reset\n")) {
			if (ioctl(fd, LLM_IOC_RESET) < 0)
				llmctl_explain("reset", errno);
			else if (tty)
				fprintf(stderr, "(conversation forgotten)\n");
			continue;
		}
		if (turn(fd, line, o.quiet) < 0) {
			ret = EXIT_NOMODEL;
			break;
		}
	}
	free(line);
	close(fd);
	return ret;
}
