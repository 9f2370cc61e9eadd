// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl tokenize: a text as a model file's tokenizer splits it, with the
 * core's tokenizer (the kernel's), without loading the weights.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llmctl.h"
#include "modelfile.h"
#include "../llm/core/tokenizer.h"

void help_tokenize(FILE *out)
{
	fprintf(out,
		"usage: llmctl tokenize -m MODEL.gguf [--no-bos] [--special] [--pieces] [TEXT]\n"
		"\n"
		"Print the token ids the vocabulary of MODEL.gguf gives TEXT (or\n"
		"standard input when TEXT is absent or -), on one line separated\n"
		"by spaces: the same tokens a prompt becomes in the kernel.  The\n"
		"SentencePiece (tokenizer.ggml.model llama) and byte-level BPE\n"
		"(gpt2: pre-tokenizers gpt-2, llama-bpe, qwen2) vocabularies are\n"
		"supported.  Special tokens written in TEXT (\"<|eot_id|>\") are\n"
		"plain text unless --special.  No device is needed and the\n"
		"weights are not read.\n"
		"\n"
		"Options:\n"
		"  -m, --model FILE  the GGUF model whose vocabulary to use\n"
		"  --no-bos          no BOS in front, even when the vocabulary\n"
		"                    adds one (tokenizer.ggml.add_bos_token)\n"
		"  --special         special tokens written in TEXT are those tokens\n"
		"                    (control, user-defined and unknown ones, as\n"
		"                    llama.cpp's parse_special)\n"
		"  --pieces          one token a line: its id, a tab, its bytes\n"
		"  -h, --help        this text\n"
		"\n"
		"Exit status: 0 printed; 1 the model or its vocabulary cannot be\n"
		"read, or the text is too long; 2 bad command line.\n");
}

/* All of standard input, NUL-terminated; NULL when out of memory. */
static char *read_stdin(size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *p;
	ssize_t r;

	while (buf && (r = read(0, buf + n, cap - n - 1)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return NULL;
		}
		n += r;
		if (cap - n < 2) {
			p = realloc(buf, cap * 2);
			if (!p)
				free(buf);
			buf = p;
			cap *= 2;
		}
	}
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

int cmd_tokenize(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "no-bos", no_argument, NULL, 'B' },
		{ "pieces", no_argument, NULL, 'P' },
		{ "special", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL, *text = NULL;
	bool bos = true, pieces = false, special = false;
	struct llm_mapped_file f = { 0 };
	char err[512], *in = NULL;
	struct llm_vocab v;
	struct llm_arena a;
	struct llm_gguf g;
	void *tables = NULL, *scratch = NULL;
	u32 *ids = NULL, len, i;
	size_t tables_len, n;
	int c, ret = EXIT_FAIL, got;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'B':
			bos = false;
			break;
		case 'P':
			pieces = true;
			break;
		case 'S':
			special = true;
			break;
		case 'h':
			help_tokenize(stdout);
			return EXIT_OK;
		default:
			help_tokenize(stderr);
			return EXIT_USAGE;
		}
	}
	if (!model || argc - optind > 1) {
		help_tokenize(stderr);
		return EXIT_USAGE;
	}
	if (optind < argc && strcmp(argv[optind], "-"))
		text = argv[optind];
	else
		text = in = read_stdin(&n);
	if (!text) {
		fprintf(stderr, "llmctl tokenize: cannot read the text\n");
		return EXIT_FAIL;
	}
	n = strlen(text);
	if (n > (1u << 26)) {
		fprintf(stderr, "llmctl tokenize: the text is longer than 64 MiB\n");
		goto out;
	}
	len = (u32)n;
	if (llm_map_file(&f, model, err, sizeof(err))) {
		fprintf(stderr, "llmctl tokenize: %s\n", err);
		goto out;
	}
	tables_len = (size_t)f.len + (16u << 20);
	tables = malloc(tables_len);
	scratch = malloc(llm_tokenize_scratch_bytes(len));
	ids = malloc(((size_t)len + 2) * sizeof(*ids));
	if (!tables || !scratch || !ids) {
		fprintf(stderr, "llmctl tokenize: out of memory\n");
		goto out;
	}
	llm_arena_init(&a, tables, tables_len);
	if (llm_gguf_parse(&g, f.data, f.len, &a, err, sizeof(err)) ||
	    llm_vocab_load(&v, &g, &a, err, sizeof(err))) {
		fprintf(stderr, "llmctl tokenize: %s: %s\n", model, err);
		goto out;
	}
	got = llm_tokenize_ex(&v, text, len,
			      (bos && v.add_bos ? LLM_TOKENIZE_BOS : 0) |
			      (special ? LLM_TOKENIZE_SPECIAL : 0), ids, len + 2,
			      scratch, llm_tokenize_scratch_bytes(len));
	if (got < 0) {
		fprintf(stderr, "llmctl tokenize: the text cannot be tokenized (error %d)\n",
			got);
		goto out;
	}
	for (i = 0; i < (u32)got; i++) {
		if (pieces) {
			char piece[LLM_TOKEN_MAX_BYTES];
			u32 plen = llm_token_to_text(&v, i ? ids[i - 1] :
						     LLM_TOKEN_NONE, ids[i],
						     piece, sizeof(piece));

			printf("%u\t%.*s\n", ids[i], (int)plen, piece);
		} else {
			printf("%s%u", i ? " " : "", ids[i]);
		}
	}
	if (!pieces)
		putchar('\n');
	ret = EXIT_OK;
out:
	free(in);
	free(ids);
	free(scratch);
	free(tables);
	llm_unmap_file(&f);
	return ret;
}
