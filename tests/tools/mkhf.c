// SPDX-License-Identifier: GPL-2.0
/*
 * mkhf: a synthetic Hugging Face llama model directory, for the tests of
 * `llmctl convert hf`: config.json, model.safetensors with seeded
 * pseudo-random weights (F32 or BF16), and the tokenizer.json and
 * tokenizer_config.json of a real tokenizer copied from TOKDIR, whose
 * vocabulary sets the model's.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <math.h>

#include "llm/core/platform.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mkhf [--dim N] [--layers N] [--heads N] [--kv-heads N]\n"
		"            [--ffn N] [--context N] [--seed N] [--bf16] [--tied]\n"
		"            [--rope-llama3]\n"
		"            TOKDIR OUTDIR\n"
		"\n"
		"Write a LlamaForCausalLM directory OUTDIR (created) with random\n"
		"weights and TOKDIR's tokenizer.json and tokenizer_config.json.\n"
		"Defaults: --dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 128\n"
		"--context 256 --seed 1, F32, untied.\n");
}

static u64 rng_next(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct tensor {
	char name[96];
	u64 rows, cols;		/* rows 0: a vector of cols */
};

static int copy(const char *from, const char *dir, const char *name)
{
	char path[4096], buf[65536];
	FILE *in, *out;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", from, name);
	in = fopen(path, "rb");
	if (!in)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = fopen(path, "wb");
	if (!out) {
		fclose(in);
		return -errno;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	return fclose(out) ? -errno : 0;
}

/* Every id the tokenizer names, plus one. */
static u32 vocab_size(const char *tokdir)
{
	char path[4096];
	json_error_t je;
	json_t *t, *v;
	const char *k;
	u32 n = 0;
	size_t i;

	snprintf(path, sizeof(path), "%s/tokenizer.json", tokdir);
	t = json_load_file(path, 0, &je);
	if (!t)
		return 0;
	json_object_foreach(json_object_get(json_object_get(t, "model"),
					    "vocab"), k, v)
		n = max_t(u32, n, json_integer_value(v) + 1);
	json_array_foreach(json_object_get(t, "added_tokens"), i, v)
		n = max_t(u32, n,
			  json_integer_value(json_object_get(v, "id")) + 1);
	json_decref(t);
	return n;
}

int main(int argc, char **argv)
{
	u32 dim = 64, layers = 2, heads = 4, kv = 2, ffn = 128, ctx = 256;
	u32 vocab, seed = 1, i, l, n = 0;
	bool bf16 = false, tied = false, rope3 = false;
	const char *tokdir = NULL, *dir = NULL;
	struct tensor *t;
	char path[4096], hdr[1 << 16];
	u64 off = 0, rng, k;
	size_t hl = 0;
	FILE *f;
	int a;

	for (a = 1; a < argc; a++) {
		u32 *num = !strcmp(argv[a], "--dim") ? &dim :
			   !strcmp(argv[a], "--layers") ? &layers :
			   !strcmp(argv[a], "--heads") ? &heads :
			   !strcmp(argv[a], "--kv-heads") ? &kv :
			   !strcmp(argv[a], "--ffn") ? &ffn :
			   !strcmp(argv[a], "--context") ? &ctx :
			   !strcmp(argv[a], "--seed") ? &seed : NULL;

		if (num && a + 1 < argc)
			*num = strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--bf16"))
			bf16 = true;
		else if (!strcmp(argv[a], "--tied"))
			tied = true;
		else if (!strcmp(argv[a], "--rope-llama3"))
			rope3 = true;
		else if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help"))
			return usage(stdout), 0;
		else if (argv[a][0] != '-' && !tokdir)
			tokdir = argv[a];
		else if (argv[a][0] != '-' && !dir)
			dir = argv[a];
		else
			return usage(stderr), 2;
	}
	if (!tokdir || !dir || !heads || dim % heads || !kv || heads % kv)
		return usage(stderr), 2;
	vocab = vocab_size(tokdir);
	if (!vocab) {
		fprintf(stderr, "mkhf: cannot read %s/tokenizer.json\n", tokdir);
		return 1;
	}
	mkdir(dir, 0755);
	if (copy(tokdir, dir, "tokenizer.json") ||
	    copy(tokdir, dir, "tokenizer_config.json")) {
		fprintf(stderr, "mkhf: cannot copy the tokenizer into %s\n", dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n"
		"  \"model_type\": \"llama\",\n  \"hidden_size\": %u,\n"
		"  \"intermediate_size\": %u,\n  \"num_hidden_layers\": %u,\n"
		"  \"num_attention_heads\": %u,\n  \"num_key_value_heads\": %u,\n"
		"  \"max_position_embeddings\": %u,\n  \"rms_norm_eps\": 1e-05,\n"
		"  \"rope_theta\": 10000.0,\n  \"rope_scaling\": %s,\n"
		"  \"vocab_size\": %u,\n  \"tie_word_embeddings\": %s,\n"
		"  \"torch_dtype\": \"%s\"\n}\n", dim, ffn, layers, heads, kv,
		ctx,
		/* a short original context, so that the scaling shows early */
		rope3 ? "{\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 64}" :
			"null",
		vocab, tied ? "true" : "false", bf16 ? "bfloat16" : "float32");
	fclose(f);

	/* the tensors, in safetensors' (sorted) order of no importance */
	t = calloc(3 + 9 * layers, sizeof(*t));
	if (!t)
		return 1;
	snprintf(t[n].name, 96, "model.embed_tokens.weight");
	t[n].rows = vocab, t[n++].cols = dim;
	snprintf(t[n].name, 96, "model.norm.weight");
	t[n++].cols = dim;
	if (!tied) {
		snprintf(t[n].name, 96, "lm_head.weight");
		t[n].rows = vocab, t[n++].cols = dim;
	}
	for (l = 0; l < layers; l++) {
		static const char *const names[] = {
			"input_layernorm", "self_attn.q_proj", "self_attn.k_proj",
			"self_attn.v_proj", "self_attn.o_proj",
			"post_attention_layernorm", "mlp.gate_proj",
			"mlp.up_proj", "mlp.down_proj",
		};
		u64 kvd = (u64)dim / heads * kv;
		u64 rows[] = { 0, dim, kvd, kvd, dim, 0, ffn, ffn, dim };
		u64 cols[] = { dim, dim, dim, dim, dim, dim, dim, dim, ffn };

		for (i = 0; i < 9; i++) {
			snprintf(t[n].name, 96, "model.layers.%u.%s.weight", l,
				 names[i]);
			t[n].rows = rows[i];
			t[n++].cols = cols[i];
		}
	}
	hl = snprintf(hdr, sizeof(hdr), "{");
	for (i = 0; i < n; i++) {
		u64 bytes = (t[i].rows ? t[i].rows : 1) * t[i].cols *
			    (bf16 ? 2 : 4);

		if (t[i].rows)
			hl += snprintf(hdr + hl, sizeof(hdr) - hl,
				       "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%llu,%llu],\"data_offsets\":[%llu,%llu]}",
				       i ? "," : "", t[i].name, bf16 ? "BF16" : "F32",
				       (unsigned long long)t[i].rows,
				       (unsigned long long)t[i].cols,
				       (unsigned long long)off,
				       (unsigned long long)(off + bytes));
		else
			hl += snprintf(hdr + hl, sizeof(hdr) - hl,
				       "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%llu],\"data_offsets\":[%llu,%llu]}",
				       i ? "," : "", t[i].name, bf16 ? "BF16" : "F32",
				       (unsigned long long)t[i].cols,
				       (unsigned long long)off,
				       (unsigned long long)(off + bytes));
		off += bytes;
	}
	hl += snprintf(hdr + hl, sizeof(hdr) - hl, "}");
	while (hl % 8)
		hdr[hl++] = ' ';
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	f = fopen(path, "wb");
	if (!f)
		return 1;
	k = hl;
	fwrite(&k, 8, 1, f);
	fwrite(hdr, 1, hl, f);
	rng = seed;
	for (i = 0; i < n; i++) {
		u64 m = (t[i].rows ? t[i].rows : 1) * t[i].cols, j;
		/* uniform with variance 1/cols; norms 1 +- 0.1 */
		float scale = t[i].rows ? 1.7320508f / sqrtf(t[i].cols) : 0.1f;

		for (j = 0; j < m; j++) {
			float v = ((float)(rng_next(&rng) >> 40) /
				   (float)(1u << 24) * 2 - 1) * scale;
			u32 b;

			if (!t[i].rows)
				v += 1.0f;
			if (bf16) {
				u16 h;

				memcpy(&b, &v, 4);
				h = (b + 0x7fff + ((b >> 16) & 1)) >> 16;
				fwrite(&h, 2, 1, f);
			} else {
				fwrite(&v, 4, 1, f);
			}
		}
	}
	free(t);
	return fclose(f) ? 1 : 0;
}
