// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl quantize: a GGUF model with its weight matrices quantized to
 * Q8_0 or Q4_0, or to one of llama.cpp's K-quant mixes (userctl/quantize.c
 * does the work).
 */
#include <getopt.h>
#include <strings.h>

#include "llmctl.h"
#include "quantize.h"
#include "../quant/quant.h"

void help_quantize(FILE *out)
{
	fprintf(out,
		"usage: llmctl quantize [--allow-requantize] IN.gguf OUT.gguf TYPE\n"
		"\n"
		"Write a copy of the GGUF model IN.gguf with its weight matrices\n"
		"quantized to TYPE, laid out as llama.cpp's quantizer lays them out:\n"
		"ggml's block formats, filled by quantizers that give the same bytes\n"
		"as ggml's reference ones.  Nothing runs in the kernel; no device is\n"
		"needed.\n"
		"\n"
		"Arguments:\n"
		"  IN.gguf    a GGUF v2 or v3 model with F32, F16, Q8_0 or Q4_0\n"
		"             tensors (from llmctl convert, or llama.cpp)\n"
		"  OUT.gguf   the file to write; replaced if it exists, and it must\n"
		"             not be IN.gguf\n"
		"  TYPE       q8_0: blocks of 32 weights as 8-bit integers and an\n"
		"             fp16 scale, 34 bytes (8.5 bits a weight);\n"
		"             q4_0: blocks of 32 weights as 4-bit integers and an\n"
		"             fp16 scale, 18 bytes (4.5 bits a weight);\n"
		"             q4_k_m, q5_k_m, q6_k: llama.cpp's K-quant mixes, in\n"
		"             super-blocks of 256 weights: Q4_K (4.5 bits a\n"
		"             weight), Q5_K (5.5) or Q6_K (6.5625) everywhere but\n"
		"             the classifier (and a tied embedding), which is Q6_K,\n"
		"             and, in q4_k_m and q5_k_m, the attn_v and ffn_down\n"
		"             of the first and last eighths of the layers and of\n"
		"             every third one between, which are Q6_K too.\n"
		"             Upper case works too.\n"
		"\n"
		"Quantized with q8_0 and q4_0: every tensor of two or more\n"
		"dimensions (trailing 1s not counted) whose rows have a multiple of\n"
		"32 elements; copied as they are: 1-D tensors (the norms), tensors\n"
		"whose rows have another length (stories260K's ffn_down has rows of\n"
		"172).  With the K mixes: every 2-D tensor named ...weight but the\n"
		"norms, as llama.cpp's quantizer decides; rows must be a multiple of\n"
		"256 elements (the classifier's may fall back to Q8_0, as in\n"
		"llama.cpp; a model whose other rows are not is refused, as\n"
		"llama.cpp would use Q5_0 or Q5_1 there, which this engine does not\n"
		"run).  From F32, or from F16 through F32; tensors already of their\n"
		"type are copied.  A tensor of another quantized type is refused,\n"
		"unless --allow-requantize.\n"
		"\n"
		"OUT.gguf is a GGUF v3 file with every key of IN.gguf in its order,\n"
		"then general.quantization_version = 2 and general.file_type = 7\n"
		"(q8_0), 2 (q4_0), 15 (q4_k_m), 17 (q5_k_m) or 18 (q6_k), the\n"
		"values llama.cpp writes (replacing those keys if IN.gguf has them),\n"
		"and the tensors in IN.gguf's order and shapes, with the bytes\n"
		"llama.cpp's llama-quantize writes.  A summary goes to stderr:\n"
		"tensors quantized and kept, bytes in and out.  Nothing is written\n"
		"when IN.gguf is refused.\n"
		"\n"
		"Options:\n"
		"  --allow-requantize  dequantize tensors of the other quantized type\n"
		"                      and quantize them to TYPE (precision is lost\n"
		"                      twice: better start from the F32 or F16 file)\n"
		"  -q, --quiet         no summary line\n"
		"  -h, --help          this text\n"
		"\n"
		"Exit status: 0 the file was written; 1 IN.gguf cannot be read, is\n"
		"malformed or has a tensor that may not be requantized, or OUT.gguf\n"
		"cannot be written; 2 bad command line.\n");
}

static const struct {
	const char *name, *label;
	u32 target;
} targets[] = {
	{ "q8_0", "Q8_0", LLM_T_Q8_0 },
	{ "q4_0", "Q4_0", LLM_T_Q4_0 },
	{ "q4_k_m", "the Q4_K_M mix", LLM_QUANT_Q4_K_M },
	{ "q5_k_m", "the Q5_K_M mix", LLM_QUANT_Q5_K_M },
	{ "q6_k", "the Q6_K mix", LLM_QUANT_Q6_K },
};

int cmd_quantize(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "allow-requantize", no_argument, NULL, 'R' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct llm_quantize_stats st;
	unsigned int flags = 0;
	bool quiet = false;
	char err[768];
	u32 type;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'R':
			flags |= LLM_QUANTIZE_REQUANTIZE;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			help_quantize(stdout);
			return EXIT_OK;
		default:
			help_quantize(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 3) {
		fprintf(stderr, "usage: llmctl quantize [--allow-requantize] IN.gguf OUT.gguf q8_0|q4_0|q4_k_m|q5_k_m|q6_k\n");
		return EXIT_USAGE;
	}
	for (c = 0; c < (int)ARRAY_SIZE(targets); c++)
		if (!strcasecmp(argv[2], targets[c].name))
			break;
	if (c == (int)ARRAY_SIZE(targets)) {
		fprintf(stderr, "llmctl quantize: unknown type '%s' (q8_0, q4_0, q4_k_m, q5_k_m or q6_k)\n",
			argv[2]);
		return EXIT_USAGE;
	}
	type = targets[c].target;
	if (llm_quantize_file(argv[0], argv[1], type, flags, &st, err,
			      sizeof(err))) {
		fprintf(stderr, "llmctl quantize: %s\n", err);
		return EXIT_FAIL;
	}
	if (!quiet)
		fprintf(stderr,
			"llmctl quantize: %s: %u tensors quantized to %s, %u requantized, %u kept as they were; %llu bytes in, %llu bytes out\n",
			argv[1], st.n_quantized, targets[c].label,
			st.n_requantized, st.n_kept,
			(unsigned long long)st.bytes_in,
			(unsigned long long)st.bytes_out);
	return EXIT_OK;
}
