// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl stats: the module's counters, once or every few seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "llmctl.h"
#include "../uapi/llm.h"

void help_stats(FILE *out)
{
	fprintf(out,
		"usage: llmctl stats [--watch [SECONDS]]\n"
		"\n"
		"Print the module's request and token counters and the speeds of\n"
		"the last request.  With --watch, print one line every SECONDS\n"
		"(default 2) with what changed, until interrupted.\n");
}

static int get(int fd, struct llm_stats *st, struct llm_info *info)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	if (ioctl(fd, LLM_IOC_GET_STATS, st) < 0 ||
	    ioctl(fd, LLM_IOC_GET_INFO, info) < 0) {
		llmctl_explain("stats", errno);
		return -1;
	}
	return 0;
}

static void print_once(const struct llm_stats *st, const struct llm_info *in)
{
	printf("%-24s %llu\n", "requests_total",
	       (unsigned long long)st->requests_total);
	printf("%-24s %llu\n", "errors_total",
	       (unsigned long long)st->errors_total);
	printf("%-24s %llu\n", "tokens_prompt_total",
	       (unsigned long long)st->tokens_prompt_total);
	printf("%-24s %llu\n", "tokens_generated_total",
	       (unsigned long long)st->tokens_generated_total);
	printf("%-24s %.3f\n", "prefill_tok_per_s",
	       st->prefill_tok_per_s_milli / 1000.0);
	printf("%-24s %.3f\n", "decode_tok_per_s",
	       st->decode_tok_per_s_milli / 1000.0);
	printf("%-24s %u of %u\n", "sessions", in->sessions_active,
	       in->sessions_max);
	printf("%-24s %llu of %llu bytes\n", "arena",
	       (unsigned long long)in->arena_used,
	       (unsigned long long)in->arena_size);
}

int cmd_stats(int argc, char **argv)
{
	struct llm_stats st, prev;
	struct llm_info info;
	unsigned int secs = 2;
	bool watch = false;
	int fd;

	if (argc > 1 && llmctl_is_help(argv[1])) {
		help_stats(stdout);
		return EXIT_OK;
	}
	if (argc > 1 && !strcmp(argv[1], "--watch")) {
		watch = true;
		if (argc > 2 && (llmctl_parse_u32(argv[2], &secs) || !secs)) {
			help_stats(stderr);
			return EXIT_USAGE;
		}
		if (argc > 3) {
			help_stats(stderr);
			return EXIT_USAGE;
		}
	} else if (argc > 1) {
		help_stats(stderr);
		return EXIT_USAGE;
	}
	fd = llmctl_open_dev(O_RDONLY);
	if (fd < 0)
		return -fd;
	if (get(fd, &st, &info)) {
		close(fd);
		return EXIT_FAIL;
	}
	if (!watch) {
		print_once(&st, &info);
		close(fd);
		return EXIT_OK;
	}
	printf("%8s %8s %10s %10s %12s %12s %9s\n", "requests", "errors",
	       "prompt_tok", "gen_tok", "gen_tok/s", "last_decode", "sessions");
	for (;;) {
		prev = st;
		sleep(secs);
		if (get(fd, &st, &info))
			break;
		printf("%8llu %8llu %10llu %10llu %12.1f %12.1f %5u/%u\n",
		       (unsigned long long)(st.requests_total - prev.requests_total),
		       (unsigned long long)(st.errors_total - prev.errors_total),
		       (unsigned long long)(st.tokens_prompt_total -
					    prev.tokens_prompt_total),
		       (unsigned long long)(st.tokens_generated_total -
					    prev.tokens_generated_total),
		       (double)(st.tokens_generated_total -
				prev.tokens_generated_total) / secs,
		       st.decode_tok_per_s_milli / 1000.0,
		       info.sessions_active, info.sessions_max);
		fflush(stdout);
	}
	close(fd);
	return EXIT_FAIL;
}
