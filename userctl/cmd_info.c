// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl info: what the module reports through LLM_IOC_GET_INFO.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "llmctl.h"
#include "../uapi/llm.h"

void help_info(FILE *out)
{
	fprintf(out,
		"usage: llmctl info\n"
		"\n"
		"Print what the llm module reports: its ABI version, the arena\n"
		"(bytes reserved, in use, peak), session slots, the loaded model\n"
		"and the limits in force.  Exit status 3 when the module is not\n"
		"loaded.\n");
}

static void print_mib(const char *label, unsigned long long bytes)
{
	printf("%-18s %llu bytes (%.1f MiB)\n", label, bytes,
	       bytes / 1048576.0);
}

int cmd_info(int argc, char **argv)
{
	struct llm_info info;
	int fd;

	if (argc > 1) {
		if (llmctl_is_help(argv[1])) {
			help_info(stdout);
			return EXIT_OK;
		}
		fprintf(stderr, "llmctl info: unexpected argument '%s'\n",
			argv[1]);
		help_info(stderr);
		return EXIT_USAGE;
	}
	fd = llmctl_open_dev(O_RDONLY);
	if (fd < 0)
		return -fd;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (ioctl(fd, LLM_IOC_GET_INFO, &info) < 0) {
		llmctl_explain("info", errno);
		close(fd);
		return EXIT_FAIL;
	}
	close(fd);

	printf("%-18s %u\n", "abi_version", info.abi_version);
	print_mib("arena_size", info.arena_size);
	print_mib("arena_used", info.arena_used);
	print_mib("arena_peak", info.arena_peak);
	printf("%-18s %u of %u\n", "sessions", info.sessions_active,
	       info.sessions_max);
	if (!(info.flags & LLM_INFO_MODEL_LOADED)) {
		printf("%-18s none\n", "model");
		return EXIT_OK;
	}
	printf("%-18s %s (%s)\n", "model", info.model.name, info.model.arch);
	printf("%-18s %llu\n", "parameters",
	       (unsigned long long)info.model.n_params);
	print_mib("model_bytes", info.model.bytes);
	printf("%-18s vocab %u, embd %u, layers %u, heads %u/%u kv, ff %u\n",
	       "shape", info.model.n_vocab, info.model.n_embd,
	       info.model.n_layers, info.model.n_heads,
	       info.model.n_kv_heads, info.model.n_ff);
	printf("%-18s %u (trained %u)\n", "context", info.model.n_ctx,
	       info.model.n_ctx_train);
	return EXIT_OK;
}
