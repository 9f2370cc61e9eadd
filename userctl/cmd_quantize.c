// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl quantize: a GGUF model with its weight matrices quantized to
 * Q8_0 or Q4_0 (userctl/quantize.c does the work).
 */
#include <getopt.h>
#include <strings.h>

#include "llmctl.h"
#include "quantize.h"
#include "../quant/quant.h"

void help_quantize(FILE *out)
{
	fprintf(out,
		"usage: llmctl quantize [--allow-requantize] IN.gguf OUT.gguf q8_0|q4_0\n"
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
		"             fp16 scale, 18 bytes (4.5 bits a weight).\n"
		"             Upper case works too.\n"
		"\n"
		"Quantized: every tensor of two or more dimensions (trailing 1s not\n"
		"counted) whose rows have a multiple of 32 elements, from F32, or\n"
		"from F16 through F32.  Copied as they are: 1-D tensors (the norms),\n"
		"tensors whose rows have another length (stories260K's ffn_down has\n"
		"rows of 172), and tensors already of TYPE.  A tensor of the other\n"
		"quantized type is refused, unless --allow-requantize.\n"
		"\n"
		"OUT.gguf is a GGUF v3 file with every key of IN.gguf in its order,\n"
		"then general.quantization_version = 2 and general.file_type = 7\n"
		"(q8_0) or 2 (q4_0), the values llama.cpp writes (replacing those\n"
		"keys if IN.gguf has them), and the tensors in IN.gguf's order and\n"
		"shapes.  A summary goes to stderr: tensors quantized and kept,\n"
		"bytes in and out.  Nothing is written when IN.gguf is refused.\n"
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
		fprintf(stderr, "usage: llmctl quantize [--allow-requantize] IN.gguf OUT.gguf q8_0|q4_0\n");
		return EXIT_USAGE;
	}
	if (!strcasecmp(argv[2], "q8_0")) {
		type = LLM_T_Q8_0;
	} else if (!strcasecmp(argv[2], "q4_0")) {
		type = LLM_T_Q4_0;
	} else {
		fprintf(stderr, "llmctl quantize: unknown type '%s' (q8_0 or q4_0)\n",
			argv[2]);
		return EXIT_USAGE;
	}
	if (llm_quantize_file(argv[0], argv[1], type, flags, &st, err,
			      sizeof(err))) {
		fprintf(stderr, "llmctl quantize: %s\n", err);
		return EXIT_FAIL;
	}
	if (!quiet)
		fprintf(stderr,
			"llmctl quantize: %s: %u tensors quantized to %s, %u requantized, %u kept as they were; %llu bytes in, %llu bytes out\n",
			argv[1], st.n_quantized, llm_type_name(type),
			st.n_requantized, st.n_kept,
			(unsigned long long)st.bytes_in,
			(unsigned long long)st.bytes_out);
	return EXIT_OK;
}
