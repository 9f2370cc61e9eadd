// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl: entry point and subcommand dispatch.
 */
#include <string.h>

#include "llmctl.h"

static const struct llmctl_cmd cmds[] = {
	{ "convert", "convert a llama2.c model and tokenizer to GGUF",
	  cmd_convert, help_convert },
	{ "generate", "complete a prompt (in the kernel, or here with -m)",
	  cmd_generate, help_generate },
	{ "chat", "talk with the kernel's model, turn by turn",
	  cmd_chat, help_chat },
	{ "info", "show the module's state: arena, sessions, model, limits",
	  cmd_info, help_info },
	{ "load", "load a GGUF model into the kernel (root)",
	  cmd_load, help_load },
	{ "quantize", "quantize a GGUF model to Q8_0, Q4_0 or a K-quant mix",
	  cmd_quantize, help_quantize },
	{ "tokenize", "the token ids a model's vocabulary gives a text",
	  cmd_tokenize, help_tokenize },
	{ "template", "a conversation as a model's chat template renders it",
	  cmd_template, help_template },
	{ "unload", "drop the kernel's model (root)", cmd_unload, help_unload },
	{ "stats", "request and token counters, once or --watch",
	  cmd_stats, help_stats },
	{ "ring", "join, leave or watch a network ring of machines (root)",
	  cmd_ring, help_ring },
	{ "serve", "an OpenAI-compatible HTTP server for the kernel's model",
	  cmd_serve, help_serve },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: llmctl [--dev PATH] COMMAND [ARGS...]\n"
		"       llmctl COMMAND --help\n"
		"\n"
		"Control the llm kernel module through /dev/llm, and work with\n"
		"GGUF model files.\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(out,
		"\n"
		"Options:\n"
		"  --dev PATH   device to use instead of /dev/llm\n"
		"  -h, --help   this text\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 bad usage, 3 module not\n"
		"loaded, 4 no model loaded, 5 permission denied, 130 interrupted.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	while (argc > 1 && argv[1][0] == '-') {
		if (llmctl_is_help(argv[1])) {
			usage(stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[1], "--dev") && argc > 2) {
			llmctl_dev_path = argv[2];
			argc -= 2;
			argv += 2;
			continue;
		}
		fprintf(stderr, "llmctl: unknown option '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc > 2)
			for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
				if (!strcmp(argv[2], cmds[i].name)) {
					cmds[i].help(stdout);
					return EXIT_OK;
				}
		usage(stdout);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "llmctl: unknown command '%s' (see llmctl --help)\n",
		argv[1]);
	return EXIT_USAGE;
}
