// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl chat: an interactive conversation with the kernel's model in one
 * session, so each turn continues from the ones before.  Each line is a
 * user message the kernel renders with the model's chat template
 * (LLM_IOC_CHAT), or plain text (--raw, or a model with no template).
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
#include "../llm/core/chat.h"

void help_chat(FILE *out)
{
	fprintf(out,
		"usage: llmctl chat [options]\n"
		"\n"
		"Talk with the kernel's model: each line you type is sent to\n"
		"/dev/llm and the reply streams back.  All turns share one\n"
		"session, so the model sees the whole conversation until the\n"
		"context is full or you reset it.\n"
		"\n"
		"Each line is a user message: the kernel renders it with the\n"
		"model's chat template (tokenizer.chat_template: Llama 3, ChatML\n"
		"as Qwen's, Llama 2), and the reply ends at the template's end of\n"
		"turn.  A model with no template (GPT-2, base models such as\n"
		"stories260K) gets each line as plain text, as with --raw, and a\n"
		"note says so; a template of another family is refused (exit\n"
		"status 1) unless --raw is given.\n"
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
		"  --system TEXT    the system message the conversation starts with\n"
		"                   (again after /reset); needs a chat template\n"
		"  --raw            send each line as plain text to be completed,\n"
		"                   with no template (how chat worked before\n"
		"                   templates)\n"
		"\n"
		"Ctrl-C stops the reply being generated; at the prompt it leaves.\n");
}

static void on_sigint(int sig)
{
	(void)sig;
	llmctl_interrupted = 1;
}

/* The family of the loaded model's chat template (0 on older kernels). */
static unsigned int template_of(int fd)
{
	struct llm_info info;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (ioctl(fd, LLM_IOC_GET_INFO, &info) < 0)
		return LLM_CHAT_TEMPLATE_NONE;
	return info.model.chat_template;
}

/* Send @line as a user message (after @system on a new conversation). */
static int send_chat(int fd, const char *line, const char *system)
{
	struct llm_chat_msg m[2];
	struct llm_chat ch;
	unsigned int n = 0;

	if (system) {
		m[n].role = LLM_CHAT_SYSTEM;
		m[n].len = strlen(system);
		m[n++].content = (unsigned long)system;
	}
	m[n].role = LLM_CHAT_USER;
	m[n].len = strlen(line);
	m[n++].content = (unsigned long)line;
	memset(&ch, 0, sizeof(ch));
	ch.size = sizeof(ch);
	ch.msgs = (unsigned long)m;
	ch.n_msgs = n;
	if (ioctl(fd, LLM_IOC_CHAT, &ch) == 0)
		return 0;
	if (errno == EOPNOTSUPP) {
		fprintf(stderr, "llmctl chat: %s\n", llm_chat_why_not(ch.template));
		errno = ENOTSUP;
	} else if (errno == E2BIG) {
		fprintf(stderr, "llmctl chat: the turn, with its template, is over max_prompt_bytes\n");
	} else {
		llmctl_explain_prompt("sending", errno);
	}
	return -1;
}

/*
 * One turn: send @line (a chat message when @chat; @system starts a new
 * conversation), stream the reply.  -1 on a fatal error.
 */
static int turn(int fd, char *line, bool quiet, bool chat,
		const char *system)
{
	size_t len = strlen(line);
	bool cancelled = false;
	struct llm_stats st;
	char buf[4096];
	ssize_t n;

	if (chat) {
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (send_chat(fd, line, system) < 0)
			return errno == ENODATA ? -1 : 0;
	} else if (write(fd, line, len) < 0) {
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
	bool tty = isatty(0), chat = false, fresh = true;
	unsigned int tmpl;
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
	tmpl = template_of(fd);
	if (!o.raw && tmpl == LLM_CHAT_TEMPLATE_UNKNOWN) {
		fprintf(stderr, "llmctl chat: %s; --raw sends each line as plain text\n",
			llm_chat_why_not(tmpl));
		close(fd);
		return EXIT_FAIL;
	}
	if (!o.raw && tmpl == LLM_CHAT_TEMPLATE_NONE) {
		if (o.system) {
			fprintf(stderr, "llmctl chat: --system: %s\n",
				llm_chat_why_not(tmpl));
			close(fd);
			return EXIT_FAIL;
		}
		fprintf(stderr, "llmctl chat: %s: each line is sent as plain text, as with --raw\n",
			llm_chat_why_not(tmpl));
	}
	chat = !o.raw && tmpl != LLM_CHAT_TEMPLATE_NONE;
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
			fresh = true;
			continue;
		}
		ret = turn(fd, line, o.quiet, chat, fresh ? o.system : NULL);
		fresh = false;
		if (ret < 0) {
			ret = EXIT_NOMODEL;
			break;
		}
	}
	free(line);
	close(fd);
	return ret;
}
