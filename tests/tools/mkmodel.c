// SPDX-License-Identifier: GPL-2.0
/*
 * mkmodel: write a synthetic llama GGUF model of any shape
 * (tests/unit/synth_model.c).  Run with --help for the usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/synth_model.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mkmodel [OPTIONS] OUT.gguf\n"
		"\n"
		"Write a llama-architecture GGUF model of any shape, with\n"
		"pseudo-random F32 weights and a working SentencePiece-style\n"
		"vocabulary, for tests, demos and benchmarks that need a model\n"
		"of a given size.  The same arguments always give the same\n"
		"bytes.  Its text is random words: it is a load, not a story.\n"
		"\n"
		"The vocabulary: <unk> <s> (BOS) </s> (EOS), the 256 byte tokens\n"
		"<0x00>..<0xFF>, the printable ASCII characters and U+2581, then\n"
		"words with a leading U+2581 and each of their prefixes, scored\n"
		"so that prompts tokenize into words and text decodes back.\n"
		"\n"
		"Shape (default: --shape stories260K):\n"
		"  --shape NAME     start from a known shape: stories260K (dim 64,\n"
		"                   5 layers, 8 heads, 4 kv, ffn 172, vocab 512,\n"
		"                   context 512), stories15M, stories42M,\n"
		"                   stories110M (dim 768, 12 layers, 12 heads,\n"
		"                   ffn 2048, vocab 32000, context 1024),\n"
		"                   TinyLlama-1.1B (dim 2048, 22 layers,\n"
		"                   32 heads, 4 kv, ffn 5632, vocab 32000,\n"
		"                   context 2048)\n"
		"  --dim N          embedding width\n"
		"  --layers N       transformer blocks\n"
		"  --heads N        attention heads (--dim divisible, even head size)\n"
		"  --kv-heads N     key/value heads (divides --heads; default\n"
		"                   --heads when --heads is given)\n"
		"  --ffn N          feed-forward width (a multiple of 32 for\n"
		"                   llmctl quantize to quantize the down matrix)\n"
		"  --vocab N        tokens, at least 259\n"
		"  --context N      training context (llama.context_length)\n"
		"  --bpe PRE        a byte-level BPE vocabulary (tokenizer.ggml.model\n"
		"                   gpt2) split by pre-tokenizer PRE: gpt-2,\n"
		"                   llama-bpe or qwen2; merges learnt from a small\n"
		"                   built-in corpus, special tokens last\n"
		"  --tied           no output.weight: the classifier is the\n"
		"                   embedding (llama.cpp writes both by default)\n"
		"  --arch NAME      llama (default), qwen2 (Q/K/V biases), qwen3\n"
		"                   (Q/K norms), qwen3moe (experts: --ffn is an\n"
		"                   expert's width) or gpt2 (LayerNorm, biases,\n"
		"                   fused Q/K/V, learned positions, GELU)\n"
		"  --margin         wide greedy margins: each token has a fixed\n"
		"                   successor ~40 logits ahead of the rest, the\n"
		"                   layers scaled to bend, not flip, the choice\n"
		"                   (for comparisons that must not part at ties)\n"
		"  --head-dim N     qwen3/qwen3moe: heads of their own width\n"
		"  --experts N      qwen3moe: experts per layer\n"
		"  --experts-used K qwen3moe: experts each token runs\n"
		"  --chat-template FILE  tokenizer.chat_template: FILE's text\n"
		"\n"
		"Other options:\n"
		"  --seed N         weights' seed (default 1)\n"
		"  --name NAME      general.name (default \"synthetic\")\n"
		"  -q, --quiet      print nothing on success\n"
		"  -h, --help       this text\n"
		"\n"
		"Examples:\n"
		"  mkmodel --shape stories110M m.gguf   # 134M params, 536 MB\n"
		"  llmctl quantize m.gguf m-q4.gguf q4_0  # 76 MB\n"
		"  mkmodel --dim 1024 --layers 2 --heads 16 --ffn 4096 \\\n"
		"          --vocab 1000 big-layers.gguf\n");
}

static int parse_u32(const char *opt, const char *s, u32 *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || errno || v > 0xffffffffull || s[0] == '-') {
		fprintf(stderr, "mkmodel: %s wants a number, not '%s'\n", opt,
			s);
		return -1;
	}
	*out = (u32)v;
	return 0;
}

/* A whole text file, NUL-terminated; NULL if unreadable or it has NULs. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, cap = 0, got;
	char *buf = NULL, *more;

	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			cap = cap * 2 + 4096;
			more = realloc(buf, cap + 1);
			if (!more) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = more;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = 0;
	if (strlen(buf) != n) {
		free(buf);
		return NULL;
	}
	return buf;
}

int main(int argc, char **argv)
{
	struct synth_shape s = { .seed = 1 };
	struct synth_model m;
	const char *out = NULL, *shape = "stories260K";
	bool quiet = false, kv_given = false, heads_given = false;
	struct {
		const char *opt;
		u32 *val;
		u32 v;
		bool set;
	} nums[] = {
		{ .opt = "--dim", .val = &s.dim },
		{ .opt = "--layers", .val = &s.layers },
		{ .opt = "--heads", .val = &s.heads },
		{ .opt = "--kv-heads", .val = &s.kv_heads },
		{ .opt = "--ffn", .val = &s.ffn },
		{ .opt = "--vocab", .val = &s.vocab },
		{ .opt = "--context", .val = &s.context },
		{ .opt = "--head-dim", .val = &s.head_dim },
		{ .opt = "--experts", .val = &s.experts },
		{ .opt = "--experts-used", .val = &s.experts_used },
	};
	char err[256];
	u32 seed;
	size_t k;
	int a, ret;

	for (a = 1; a < argc; a++) {
		const char *arg = argv[a];

		for (k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
			if (!strcmp(arg, nums[k].opt))
				break;
		if (k < sizeof(nums) / sizeof(nums[0]) && a + 1 < argc) {
			if (parse_u32(arg, argv[++a], &nums[k].v))
				return 2;
			nums[k].set = true;
		} else if (!strcmp(arg, "--shape") && a + 1 < argc) {
			shape = argv[++a];
		} else if (!strcmp(arg, "--seed") && a + 1 < argc) {
			if (parse_u32(arg, argv[++a], &seed))
				return 2;
			s.seed = seed;
		} else if (!strcmp(arg, "--name") && a + 1 < argc) {
			s.name = argv[++a];
		} else if (!strcmp(arg, "--margin")) {
			s.margin = true;
		} else if (!strcmp(arg, "--arch") && a + 1 < argc) {
			s.arch = argv[++a];
		} else if (!strcmp(arg, "--chat-template") && a + 1 < argc) {
			s.chat_template = read_text(argv[++a]);
			if (!s.chat_template) {
				fprintf(stderr, "mkmodel: cannot read a template from %s\n",
					argv[a]);
				return 2;
			}
		} else if (!strcmp(arg, "--tied")) {
			s.tied = true;
		} else if (!strcmp(arg, "--bpe")) {
			if (a + 1 >= argc || (strcmp(argv[a + 1], "gpt-2") &&
					      strcmp(argv[a + 1], "llama-bpe") &&
					      strcmp(argv[a + 1], "qwen2"))) {
				fprintf(stderr, "mkmodel: --bpe takes gpt-2, llama-bpe or qwen2\n");
				return 2;
			}
			s.bpe_pre = argv[++a];
		} else if (!strcmp(arg, "-q") || !strcmp(arg, "--quiet")) {
			quiet = true;
		} else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			usage(stdout);
			return 0;
		} else if (arg[0] != '-' && !out) {
			out = arg;
		} else {
			fprintf(stderr, "mkmodel: unexpected argument '%s'\n",
				arg);
			usage(stderr);
			return 2;
		}
	}
	if (!out) {
		usage(stderr);
		return 2;
	}
	if (!synth_preset(shape, &s)) {
		fprintf(stderr, "mkmodel: no shape '%s' (known: %s)\n", shape,
			synth_preset_names());
		return 2;
	}
	for (k = 0; k < sizeof(nums) / sizeof(nums[0]); k++) {
		if (!nums[k].set)
			continue;
		*nums[k].val = nums[k].v;
		heads_given |= nums[k].val == &s.heads;
		kv_given |= nums[k].val == &s.kv_heads;
	}
	if (heads_given && !kv_given)
		s.kv_heads = s.heads;

	ret = synth_model_build(&m, &s, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "mkmodel: %s\n", err);
		return ret == -EINVAL ? 2 : 1;
	}
	ret = llm_gguf_writer_to_file(m.w, out);
	if (ret) {
		fprintf(stderr, "mkmodel: %s\n", llm_gguf_writer_error(m.w));
		synth_model_free(&m);
		return 1;
	}
	if (!quiet)
		printf("mkmodel: %s: %llu parameters (dim %u, %u layers, %u/%u heads, ffn %u, vocab %u, context %u, seed %llu), %llu bytes\n",
		       out, (unsigned long long)synth_params(&s), s.dim,
		       s.layers, s.heads, s.kv_heads, s.ffn, s.vocab,
		       s.context, (unsigned long long)s.seed,
		       (unsigned long long)llm_gguf_writer_size(m.w));
	synth_model_free(&m);
	return 0;
}
