// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl info: what the module reports through LLM_IOC_GET_INFO, or, with
 * -m, what a model file is and how big an arena the kernel needs for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "llmctl.h"
#include "../llm/core/chat.h"
#include "modelfile.h"
#include "runtime.h"
#include "../quant/quant.h"
#include "../uapi/llm.h"

void help_info(FILE *out)
{
	fprintf(out,
		"usage: llmctl info\n"
		"       llmctl info -m MODEL.gguf [--sessions N] [--max-context N]\n"
		"                   [--max-prompt-bytes N] [--arena-mb]\n"
		"\n"
		"Print what the llm module reports: its ABI version, the arena\n"
		"(bytes reserved, in use, peak), session slots, the threads that\n"
		"compute a step (module parameter threads), the loaded model and\n"
		"the limits in force.  Exit status 3 when the module is not\n"
		"loaded.\n"
		"\n"
		"With -m, print what MODEL.gguf is and the arena the kernel needs\n"
		"to load it, without the module: the file (page aligned), the\n"
		"tables the model needs beside it, one conversation (tokens,\n"
		"logits, tokenizer scratch) per session slot of min(the model's\n"
		"training context, max_context) positions, the model's executor\n"
		"(one step's activations, for as many threads as this machine\n"
		"has CPUs: the module's default) and the KV cache for every slot's\n"
		"whole context (the module's default kv_positions), plus a margin\n"
		"of a page per table and per context buffer.  arena_mb is the\n"
		"smallest value of the module parameter that holds it all.\n"
		"The options are the module parameters the figure depends on;\n"
		"their defaults are the module's.\n"
		"\n"
		"Options:\n"
		"  -m, --model FILE       the GGUF file (measured in this process)\n"
		"      --sessions N       session slots (default %u)\n"
		"      --max-context N    context positions per session (default %u)\n"
		"      --max-prompt-bytes N\n"
		"                         longest prompt (default %u)\n"
		"      --arena-mb         print only arena_mb, for scripts:\n"
		"                         insmod llm.ko arena_mb=$(llmctl info -m F --arena-mb)\n"
		"  -h, --help             this text\n",
		LLM_KERNEL_SESSIONS, LLM_KERNEL_MAX_CONTEXT,
		LLM_KERNEL_MAX_PROMPT_BYTES);
}

static void print_mib(const char *label, unsigned long long bytes)
{
	printf("%-18s %llu bytes (%.1f MiB)\n", label, bytes,
	       bytes / 1048576.0);
}

static void print_types(u32 mask)
{
	const char *sep = "";
	u32 t;

	printf("%-18s ", "types");
	for (t = 0; t < 32; t++) {
		if (mask & (1u << t)) {
			printf("%s%s", sep, llm_type_name(t));
			sep = " ";
		}
	}
	printf("\n");
}

/* The module's compute threads: a parameter, not in struct llm_info. */
static void print_threads(void)
{
	FILE *f = fopen("/sys/module/llm/parameters/threads", "r");
	unsigned int n;

	if (!f)
		return;
	if (fscanf(f, "%u", &n) == 1)
		printf("%-18s %u\n", "threads", n);
	fclose(f);
}

/* llmctl info -m FILE: the model and the arena it needs, offline. */
static int info_file(const char *path, u32 sessions, u32 max_context,
		     u32 max_prompt_bytes, bool arena_mb_only)
{
	struct llm_mapped_file f;
	struct llm_arena_plan p;
	char err[512];
	int ret;

	llm_log_quiet = 1;
	ret = llm_map_file(&f, path, err, sizeof(err));
	if (!ret) {
		ret = llm_runtime_arena_plan(&p, f.data, f.len, sessions,
					     max_context, max_prompt_bytes,
					     err, sizeof(err));
		llm_unmap_file(&f);
	}
	if (ret) {
		fprintf(stderr, "llmctl info: %s: %s\n", path, err);
		return EXIT_FAIL;
	}
	if (arena_mb_only) {
		printf("%u\n", p.arena_mb);
		return EXIT_OK;
	}
	printf("%-18s %s (%s)\n", "model", p.name, p.arch);
	printf("%-18s %llu\n", "parameters", (unsigned long long)p.n_params);
	print_mib("model_bytes", p.image);
	print_types(p.type_mask);
	printf("%-18s vocab %u, embd %u, layers %u, heads %u/%u kv, ff %u\n",
	       "shape", p.cfg.n_vocab, p.cfg.n_embd, p.cfg.n_layers,
	       p.cfg.n_heads, p.cfg.n_kv_heads, p.cfg.n_ff);
	printf("%-18s %u (trained %u)\n", "context", p.n_ctx,
	       p.cfg.n_ctx_train);
	printf("%-18s %u of %u positions, prompts up to %u bytes\n",
	       "sessions", p.sessions, p.n_ctx, p.max_prompt_bytes);
	print_mib("arena_model", p.model);
	print_mib("arena_session", p.session);
	print_mib("arena_executor", p.exec);
	print_mib("arena_kv", p.kv);
	print_mib("arena_margin", p.margin);
	print_mib("arena_needed", p.total);
	printf("%-18s %u\n", "arena_mb", p.arena_mb);
	return EXIT_OK;
}

static int info_args(int argc, char **argv)
{
	enum { OPT_SESSIONS = 256, OPT_CONTEXT, OPT_PROMPT, OPT_ARENA_MB };
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "sessions", required_argument, NULL, OPT_SESSIONS },
		{ "max-context", required_argument, NULL, OPT_CONTEXT },
		{ "max-prompt-bytes", required_argument, NULL, OPT_PROMPT },
		{ "arena-mb", no_argument, NULL, OPT_ARENA_MB },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int sessions = LLM_KERNEL_SESSIONS;
	unsigned int max_context = LLM_KERNEL_MAX_CONTEXT;
	unsigned int max_prompt = LLM_KERNEL_MAX_PROMPT_BYTES;
	const char *model = NULL, *opt = NULL;
	bool mb_only = false, numbers = false;
	int c, idx;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+m:h", longopts, &idx)) != -1) {
		if (c >= OPT_SESSIONS)
			opt = longopts[idx].name;
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case OPT_SESSIONS:
			numbers = true;
			if (llmctl_parse_u32(optarg, &sessions) || !sessions)
				goto bad_number;
			break;
		case OPT_CONTEXT:
			numbers = true;
			if (llmctl_parse_u32(optarg, &max_context) ||
			    !max_context)
				goto bad_number;
			break;
		case OPT_PROMPT:
			numbers = true;
			if (llmctl_parse_u32(optarg, &max_prompt))
				goto bad_number;
			break;
		case OPT_ARENA_MB:
			mb_only = true;
			break;
		case 'h':
			help_info(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "llmctl info: unknown option '%s'\n",
				argv[optind - 1]);
			help_info(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "llmctl info: unexpected argument '%s'\n",
			argv[optind]);
		help_info(stderr);
		return EXIT_USAGE;
	}
	if (!model && (numbers || mb_only)) {
		fprintf(stderr, "llmctl info: --sessions, --max-context, --max-prompt-bytes and --arena-mb need -m MODEL.gguf\n");
		return EXIT_USAGE;
	}
	if (model)
		return info_file(model, sessions, max_context, max_prompt,
				 mb_only);
	return -1;

bad_number:
	fprintf(stderr, "llmctl info: --%s wants a number%s, not '%s'\n",
		opt, strcmp(opt, "max-prompt-bytes") ? " of at least 1" : "",
		optarg);
	return EXIT_USAGE;
}

int cmd_info(int argc, char **argv)
{
	struct llm_info info;
	int fd, ret;

	if (argc > 1) {
		ret = info_args(argc, argv);
		if (ret >= 0)
			return ret;
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
	print_threads();
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
	printf("%-18s %s\n", "chat_template",
	       llm_chat_family_name(info.model.chat_template));
	/* a kernel before the layer range fills in less */
	if (info.size > offsetof(struct llm_info, layer_end) &&
	    (info.layer_first || info.layer_end != info.model.n_layers))
		printf("%-18s %u:%u of %u (a ring node's share)\n",
		       "layers_held", info.layer_first, info.layer_end,
		       info.model.n_layers);
	return EXIT_OK;
}
