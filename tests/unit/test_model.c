// SPDX-License-Identifier: GPL-2.0
/*
 * Binding GGUF files as llama models: the shared files, and what llmctl
 * convert and quantize write, load; a model plus one key or tensor the
 * engine does not honour is refused with a sentence naming it; keys that
 * change nothing, or carry their neutral value, load.
 */
#include <stdlib.h>

#include "check.h"
#include "gguf_hostile.h"
#include "llm/core/model.h"
#include "arena/arena.h"
#include "quant/quant.h"
#include "userctl/convert.h"
#include "userctl/gguf_writer.h"
#include "userctl/quantize.h"

#define REGION	(16u << 20)

static unsigned char *region;
static struct llm_arena arena;
static struct llm_model model;
static char err[512];

static int load(const void *img, size_t len)
{
	llm_arena_init(&arena, region, REGION);
	err[0] = '\0';
	return llm_model_load(&model, img, len, &arena, true, err,
			      sizeof(err));
}

/* A file of ../shared/models, malloc'd; NULL when absent. */
static void *read_model(const char *name, size_t *len)
{
	const char *path = check_model(name);

	return path ? check_read_file(path, len) : NULL;
}

static int load_file(const char *name)
{
	size_t len;
	void *img = read_model(name, &len);
	int ret;

	if (!img) {
		snprintf(err, sizeof(err), "cannot read %s", name);
		return -ENOENT;
	}
	ret = load(img, len);
	free(img);
	return ret;
}

static void shared_files_load(void)
{
	static const char *const files[] = {
		"stories260K.gguf", "stories260K-Q8_0.gguf",
		"stories260K-Q4_0.gguf",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		if (load_file(files[i])) {
			check_fail(__FILE__, __LINE__, "%s: %s", files[i], err);
			return;
		}
		CHECK_EQ(model.cfg.n_layers, 5);
		CHECK_EQ(model.cfg.n_vocab, 512);
	}
}

/* @img quantized to @type by llmctl quantize's code, then bound. */
static int quantize_and_load(const void *img, size_t len, u32 type)
{
	struct llm_gguf_writer *w = llm_gguf_writer_new(0);
	void *mem = malloc(REGION), *buf = NULL, *out = NULL;
	struct llm_arena a;
	struct llm_gguf g;
	size_t out_len;
	int ret = -ENOMEM;

	if (w && mem) {
		llm_arena_init(&a, mem, REGION);
		ret = llm_gguf_parse(&g, img, len, &a, err, sizeof(err));
	}
	if (!ret)
		ret = llm_quantize_gguf(w, &g, type, 0, &buf, NULL, err,
					sizeof(err));
	if (!ret)
		ret = llm_gguf_writer_to_mem(w, &out, &out_len);
	if (!ret)
		ret = load(out, out_len);
	free(out);
	free(buf);
	free(mem);
	llm_gguf_writer_free(w);
	return ret;
}

/* What llmctl convert writes, and llmctl quantize makes of it, loads. */
static void converted_and_quantized_load(void)
{
	size_t ck_len = 0, tok_len = 0, len;
	void *ck = read_model("stories260K.bin", &ck_len);
	void *tk = read_model("tok512.bin", &tok_len);
	struct llm_gguf_writer *w = llm_gguf_writer_new(0);
	void *img = NULL;
	int ret = -ENOENT;

	if (ck && tk && w)
		ret = llm_convert_llama2c(w, ck, ck_len, tk, tok_len, NULL,
					  err, sizeof(err));
	if (!ret)
		ret = llm_gguf_writer_to_mem(w, &img, &len);
	llm_gguf_writer_free(w);
	free(ck);
	free(tk);
	if (ret)
		check_fail(__FILE__, __LINE__, "convert: %d %s", ret, err);
	else if (load(img, len))
		check_fail(__FILE__, __LINE__, "converted: %s", err);
	else if (quantize_and_load(img, len, LLM_T_Q8_0))
		check_fail(__FILE__, __LINE__, "converted, Q8_0: %s", err);
	else if (quantize_and_load(img, len, LLM_T_Q4_0))
		check_fail(__FILE__, __LINE__, "converted, Q4_0: %s", err);
	free(img);
}

static void synthetic_model_loads(void)
{
	size_t len;
	void *img;

	CHECK_EQ(hostile_synth_model(&img, &len), 0);
	if (load(img, len))
		check_fail(__FILE__, __LINE__, "%s", err);
	free(img);
	CHECK_EQ(model.cfg.n_embd, 32);
	CHECK_EQ(model.cfg.n_layers, 2);
	CHECK_EQ(model.cfg.head_dim, 8);
	CHECK_EQ(model.cfg.kv_dim, 16);
	CHECK_EQ(model.cfg.n_vocab, 8);
	CHECK(model.tied_output);
}

/*
 * Each case is the tiny model plus one key or tensor (gguf_hostile.c,
 * model_cases()); each must be refused with its own sentence, which names
 * the key and its value, or the tensor, and leave nothing behind.
 */
static void refuses_one_key_or_tensor_each(void)
{
	struct hostile_set set;
	size_t len, i, n = 0, bad = 0;
	char first[768] = "";
	void *img;
	int ret;

	CHECK_EQ(hostile_synth_model(&img, &len), 0);
	ret = hostile_build(img, len, &set);
	free(img);
	CHECK_EQ(ret, 0);
	for (i = 0; i < set.n; i++) {
		const struct hostile_case *c = &set.c[i];

		if (!c->bind)
			continue;
		n++;
		ret = load(c->data, c->len);
		if (ret != -EINVAL || !c->expect[0] ||
		    strcmp(err, c->expect) || arena.used ||
		    model.gguf.n_kv || model.layers) {
			if (!bad++)
				snprintf(first, sizeof(first),
					 "%s: ret %d, message \"%s\", expected \"%s\"",
					 c->name, ret, err, c->expect);
		} else if (getenv("MODEL_SHOW")) {
			printf("# %-28s %s\n", c->name, err);
		}
	}
	hostile_free(&set);
	if (bad)
		check_fail(__FILE__, __LINE__, "%zu of %zu cases; the first, %s",
			   bad, n, first);
	else
		printf("# %zu refused\n", n);
	CHECK(n >= 43);
}

/* One extra key for the tiny model. */
struct extra {
	const char *key;
	u32 type;		/* LLM_GGUF_*; ARRAY: strings */
	u64 u;
	float f;
	const char *s;
};

#define X_U32(k, v)	{ k, LLM_GGUF_U32, v, 0, NULL }
#define X_F32(k, v)	{ k, LLM_GGUF_F32, 0, v, NULL }
#define X_BOOL(k, v)	{ k, LLM_GGUF_BOOL, v, 0, NULL }
#define X_STR(k, v)	{ k, LLM_GGUF_STRING, 0, 0, v }
#define X_STRS(k)	{ k, LLM_GGUF_ARRAY, 0, 0, NULL }

/*
 * Keys that must not stop a model from loading: those llama.cpp's
 * converters write for Llama 2, TinyLlama and Mistral 7B (the engine reads
 * them, or they change nothing), neutral values of keys whose other
 * values are refused, and keys in namespaces nothing here reads.  The
 * tiny model has head size 8, 8 tokens (EOS 2) and a context of 64.
 */
static const struct extra harmless[] = {
	/* general.*: about the file */
	X_STR("general.type", "model"),
	X_STR("general.basename", "tiny"),
	X_STR("general.size_label", "1.1B"),
	X_STR("general.finetune", "chat"),
	X_STR("general.license", "apache-2.0"),
	X_STRS("general.tags"),
	X_STRS("general.languages"),
	X_U32("general.base_model.count", 1),
	X_STR("general.base_model.0.name", "base"),
	X_STR("general.source.url", "https://example.org/"),
	X_U32("general.file_type", 7),
	X_U32("general.quantization_version", 2),
	X_F32("general.sampling.temp", 0.6f),
	/* <arch>.*: read, or neutral */
	X_U32("llama.vocab_size", 8),
	X_F32("llama.rope.freq_base", 10000.0f),
	X_U32("llama.attention.key_length", 8),
	X_U32("llama.attention.value_length", 8),
	X_STR("llama.tensor_data_layout", "Meta AI original pth"),
	X_STR("llama.rope.scaling.type", "none"),
	X_F32("llama.rope.scaling.factor", 1.0f),
	X_F32("llama.rope.scale_linear", 1.0f),
	X_F32("llama.rope.scaling.attn_factor", 1.0f),
	X_U32("llama.rope.scaling.original_context_length", 64),
	X_BOOL("llama.rope.scaling.finetuned", false),
	X_U32("llama.expert_count", 0),
	X_U32("llama.expert_used_count", 0),
	X_BOOL("llama.attention.causal", true),
	X_U32("llama.attention.sliding_window", 64),
	X_F32("llama.attention.clamp_kqv", 0.0f),
	X_F32("llama.attention.max_alibi_bias", 0.0f),
	X_F32("llama.logit_scale", 1.0f),
	X_F32("llama.final_logit_softcapping", 0.0f),
	X_BOOL("llama.use_parallel_residual", false),
	X_U32("llama.pooling_type", 0),
	/* tokenizer.*: read, inert for tokenizer model "llama", or neutral */
	X_STR("tokenizer.ggml.pre", "default"),
	X_STRS("tokenizer.ggml.merges"),
	X_BOOL("tokenizer.ggml.add_bos_token", true),
	X_BOOL("tokenizer.ggml.add_space_prefix", true),
	X_BOOL("tokenizer.ggml.add_eos_token", false),
	X_BOOL("tokenizer.ggml.add_sep_token", false),
	X_BOOL("tokenizer.ggml.remove_extra_whitespaces", false),
	X_U32("tokenizer.ggml.padding_token_id", 2),
	X_U32("tokenizer.ggml.seperator_token_id", 0xffffffffu),
	X_U32("tokenizer.ggml.prefix_token_id", 5),
	X_U32("tokenizer.ggml.suffix_token_id", 6),
	X_U32("tokenizer.ggml.middle_token_id", 7),
	X_U32("tokenizer.ggml.eot_token_id", 2),
	X_U32("tokenizer.ggml.eom_token_id", 0xffffffffu),
	X_STR("tokenizer.chat_template", "{{ messages }}"),
	X_STR("tokenizer.chat_template.tool_use", "{{ tools }}"),
	X_STR("tokenizer.huggingface.json", "{}"),
	/* split.* of a file that is the whole model */
	X_U32("split.count", 1),
	X_U32("split.no", 0),
	/* namespaces a llama model's reader never looks at */
	X_STR("quantize.imatrix.file", "imatrix.dat"),
	X_U32("quantize.imatrix.entries_count", 14),
	X_U32("mistral.sliding_window", 16),
};

/* The tiny model with the @n keys at @x added. */
static int with_keys(const struct extra *x, size_t n, void **out,
		     size_t *out_len)
{
	static const char *const strs[] = { "en", "fr" };
	struct llm_gguf_writer *w = NULL;
	struct llm_arena a;
	struct llm_gguf g;
	size_t len, i;
	void *img, *mem = malloc(REGION);
	int ret = -ENOMEM;

	if (!mem || hostile_synth_model(&img, &len))
		goto out;
	llm_arena_init(&a, mem, REGION);
	ret = llm_gguf_parse(&g, img, len, &a, err, sizeof(err));
	w = llm_gguf_writer_new(0);
	for (i = 0; !ret && i < g.n_kv; i++)
		ret = llm_gguf_writer_copy_kv(w, &g.kv[i]);
	for (i = 0; !ret && i < n; i++) {
		switch (x[i].type) {
		case LLM_GGUF_U32:
			ret = llm_gguf_writer_add_u32(w, x[i].key, x[i].u);
			break;
		case LLM_GGUF_F32:
			ret = llm_gguf_writer_add_f32(w, x[i].key, x[i].f);
			break;
		case LLM_GGUF_BOOL:
			ret = llm_gguf_writer_add_bool(w, x[i].key, x[i].u);
			break;
		case LLM_GGUF_STRING:
			ret = llm_gguf_writer_add_str(w, x[i].key, x[i].s);
			break;
		default:
			ret = llm_gguf_writer_add_arr_str(w, x[i].key, strs, 2);
			break;
		}
	}
	for (i = 0; !ret && i < g.n_tensors; i++)
		ret = llm_gguf_writer_copy_tensor(w, &g.tensors[i]);
	if (!ret)
		ret = llm_gguf_writer_to_mem(w, out, out_len);
	if (ret)
		snprintf(err, sizeof(err), "%s", llm_gguf_writer_error(w));
	llm_gguf_writer_free(w);
	free(img);
out:
	free(mem);
	return ret;
}

static void loads_with_harmless_keys(void)
{
	size_t len, i;
	void *img;

	for (i = 0; i < ARRAY_SIZE(harmless); i++) {
		CHECK_EQ(with_keys(&harmless[i], 1, &img, &len), 0);
		if (load(img, len))
			check_fail(__FILE__, __LINE__, "with %s: %s",
				   harmless[i].key, err);
		free(img);
		if (check_failed())
			return;
	}
	/* and all at once, as a converted and quantized file has them */
	CHECK_EQ(with_keys(harmless, ARRAY_SIZE(harmless), &img, &len), 0);
	if (load(img, len))
		check_fail(__FILE__, __LINE__, "with all: %s", err);
	free(img);
}

/* 0 and "at least the context" both mean no window narrower than it. */
static void neutral_edges(void)
{
	static const struct extra ok[] = {
		X_U32("llama.attention.sliding_window", 0),
		X_U32("llama.attention.sliding_window", 4096),
		X_F32("llama.rope.scaling.factor", 0.0f),
		X_F32("llama.rope.scale_linear", 0.0f),
		X_U32("tokenizer.ggml.eot_token_id", 0xffffffffu),
	};
	static const struct extra bad[] = {
		X_U32("llama.attention.sliding_window", 63),
		X_F32("llama.rope.scaling.factor", 1.0001f),
		X_F32("llama.logit_scale", -1.0f),
		X_U32("tokenizer.ggml.eom_token_id", 1),
		X_STR("general.type", "mmproj"),
		X_U32("llama.attention.key_length", 0),
	};
	size_t len, i;
	void *img;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		CHECK_EQ(with_keys(&ok[i], 1, &img, &len), 0);
		if (load(img, len))
			check_fail(__FILE__, __LINE__, "with %s: %s",
				   ok[i].key, err);
		free(img);
		if (check_failed())
			return;
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ(with_keys(&bad[i], 1, &img, &len), 0);
		if (!load(img, len) || strncmp(err, bad[i].key,
					       strlen(bad[i].key)))
			check_fail(__FILE__, __LINE__, "with %s: \"%s\"",
				   bad[i].key, err);
		free(img);
		if (check_failed())
			return;
	}
}

int main(void)
{
	llm_log_quiet = 1;
	region = aligned_alloc(4096, REGION);
	if (!region)
		return 1;
	RUN(shared_files_load);
	RUN(converted_and_quantized_load);
	RUN(synthetic_model_loads);
	RUN(refuses_one_key_or_tensor_each);
	RUN(loads_with_harmless_keys);
	RUN(neutral_edges);
	free(region);
	return check_done();
}
