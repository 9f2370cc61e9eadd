// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl convert: another model format to GGUF (userctl/convert.c does
 * the work).
 */
#include <getopt.h>
#include <string.h>

#include "llmctl.h"
#include "convert.h"
#include "convert_hf.h"

void help_convert(FILE *out)
{
	fprintf(out,
		"usage: llmctl convert llama2c MODEL.bin TOKENIZER.bin OUT.gguf\n"
		"       llmctl convert hf [--outtype f32|f16] DIR OUT.gguf\n"
		"\n"
		"Convert a model to a GGUF file that llm (and llama.cpp) can load.\n"
		"Nothing runs in the kernel; no device is needed.\n"
		"\n"
		"hf: a Hugging Face model directory: config.json, the model in\n"
		"*.safetensors files (F32, F16 or BF16 tensors), tokenizer.json and\n"
		"tokenizer_config.json.  Architectures: LlamaForCausalLM and\n"
		"MistralForCausalLM (GGUF llama, Q and K rows in llama.cpp's order,\n"
		"the rotary halves interleaved), Qwen2ForCausalLM (qwen2, with the\n"
		"Q/K/V biases), Qwen3ForCausalLM (qwen3, with the Q/K norms and\n"
		"any head_dim), Qwen3MoeForCausalLM (qwen3moe, the experts stacked\n"
		"into one 3-D tensor per projection) and GPT2LMHeadModel (gpt2,\n"
		"the Conv1D weights transposed), each with llama.cpp's names, keys\n"
		"and shapes.  The tokenizer must be a byte-level BPE with Llama 3's,\n"
		"Qwen2's or GPT-2's pre-tokenizer (tokenizer.ggml.pre llama-bpe,\n"
		"qwen2, gpt-2), written with its merges, token types (added special\n"
		"tokens control, other added tokens user-defined, ids nothing names\n"
		"[PADn]), BOS and EOS from tokenizer_config.json (else config.json),\n"
		"whether BOS is added, and the chat template.  Matrices are F32, or\n"
		"F16 with --outtype f16; norms, biases, the MoE router and GPT-2's\n"
		"position embedding stay F32.  Anything else (another architecture,\n"
		"RoPE scaling other than Llama 3.1's, sliding-window attention, a\n"
		"quantized checkpoint, a SentencePiece tokenizer, a tensor the\n"
		"architecture does not have or of another shape) is refused with a\n"
		"sentence; docs/convert.md lists what and why.\n"
		"\n"
		"llama2c: a checkpoint written by llama2.c's export.py in its legacy\n"
		"format (--version 0, the format of the tinyllamas stories*.bin\n"
		"models) with its tokenizer.bin.\n"
		"\n"
		"Arguments of llama2c:\n"
		"  MODEL.bin      the checkpoint: 7 int32 (dim, hidden_dim, n_layers,\n"
		"                 n_heads, n_kv_heads, vocab_size, seq_len; a negative\n"
		"                 vocab_size says an unshared classifier follows),\n"
		"                 then the float32 weights\n"
		"  TOKENIZER.bin  its tokenizer: an int32 max_token_length, then per\n"
		"                 token a float32 score, an int32 length, the bytes\n"
		"  OUT.gguf       the file to write; replaced if it exists, and it\n"
		"                 must not be one of the inputs\n"
		"\n"
		"OUT.gguf is a llama-architecture GGUF v3 file laid out as llama.cpp's\n"
		"convert-llama2c-to-ggml writes it: the same keys in the same order,\n"
		"the same tensor names and order, every tensor F32 holding the\n"
		"checkpoint's weights byte for byte (output.weight is written even\n"
		"when the classifier is shared with the embedding).  The vocabulary\n"
		"gets SentencePiece's U+2581 where the pieces have spaces, token types\n"
		"(<unk> unknown, <s> and </s> control, <0xXX> byte, the rest normal)\n"
		"and the ids unk 0, bos 1, eos 2.  One difference from llama.cpp:\n"
		"llama.context_length is the checkpoint's seq_len, where llama.cpp\n"
		"writes its own n_ctx setting.\n"
		"\n"
		"Every size in both inputs is checked against the file's length: a\n"
		"file that does not match its header, or a tokenizer that does not\n"
		"have exactly the checkpoint's vocab_size tokens, is refused with a\n"
		"sentence saying why, and nothing is written.\n"
		"\n"
		"A summary line goes to stderr.  To quantize the result, see\n"
		"llmctl quantize.\n"
		"\n"
		"Options:\n"
		"  --outtype T   hf: f32 (the default) or f16 matrices\n"
		"  -q, --quiet   no summary line\n"
		"  -h, --help    this text\n"
		"\n"
		"Exit status: 0 the file was written; 1 an input cannot be read or\n"
		"is malformed, or OUT.gguf cannot be written; 2 bad command line.\n");
}

static int convert_llama2c(const char *model, const char *tok,
			   const char *out, bool quiet)
{
	struct llm_convert_stats st;
	const struct llm_l2c_config *c = &st.cfg;
	char err[768];
	int ret;

	ret = llm_convert_llama2c_file(model, tok, out, &st, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "llmctl convert: %s\n", err);
		return EXIT_FAIL;
	}
	if (!quiet)
		fprintf(stderr,
			"llmctl convert: %s: %u F32 tensors (dim %u, %u layers, %u heads, %u kv heads, ffn %u, vocab %u, context %u, classifier %s); %llu bytes in, %llu bytes out\n",
			out, st.n_tensors, c->dim, c->n_layers, c->n_heads,
			c->n_kv_heads, c->hidden_dim, c->n_vocab, c->seq_len,
			c->shared_cls ? "shared" : "separate",
			(unsigned long long)st.bytes_in,
			(unsigned long long)st.bytes_out);
	return EXIT_OK;
}

static int convert_hf(const char *dir, const char *out, bool f16, bool quiet)
{
	struct llm_convert_hf_stats st;
	char err[768];

	if (llm_convert_hf(dir, out, f16, &st, err, sizeof(err))) {
		fprintf(stderr, "llmctl convert: %s\n", err);
		return EXIT_FAIL;
	}
	if (!quiet)
		fprintf(stderr, "llmctl convert: %s: %s, %u tensors %s, %u tokens (%s pre-tokenizer) and %u merges; %llu bytes\n",
			out, st.arch, st.n_tensors, f16 ? "F16 (norms F32)" : "F32",
			st.n_vocab, st.pre, st.n_merges,
			(unsigned long long)st.bytes_out);
	return EXIT_OK;
}

int cmd_convert(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "outtype", required_argument, NULL, 'O' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false, f16 = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'O':
			if (strcmp(optarg, "f32") && strcmp(optarg, "f16")) {
				fprintf(stderr, "llmctl convert: --outtype is f32 or f16\n");
				return EXIT_USAGE;
			}
			f16 = !strcmp(optarg, "f16");
			break;
		case 'h':
			help_convert(stdout);
			return EXIT_OK;
		default:
			help_convert(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		fprintf(stderr, "llmctl convert: which format? (see llmctl convert --help)\n");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[0], "hf")) {
		if (argc != 3) {
			fprintf(stderr, "usage: llmctl convert hf [--outtype f32|f16] DIR OUT.gguf\n");
			return EXIT_USAGE;
		}
		return convert_hf(argv[1], argv[2], f16, quiet);
	}
	if (strcmp(argv[0], "llama2c")) {
		fprintf(stderr, "llmctl convert: unknown format '%s' (known: hf, llama2c)\n",
			argv[0]);
		return EXIT_USAGE;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: llmctl convert llama2c MODEL.bin TOKENIZER.bin OUT.gguf\n");
		return EXIT_USAGE;
	}
	return convert_llama2c(argv[1], argv[2], argv[3], quiet);
}
