/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What convert_hf.c (JSON, tokenizer, safetensors, the file) and
 * convert_hf_arch.c (the architectures: configuration, tensor names and
 * shapes, keys) share.  Not a public interface: see convert_hf.h.
 */
#ifndef LLMCTL_CONVERT_HF_INT_H
#define LLMCTL_CONVERT_HF_INT_H

#include <jansson.h>

#include "gguf_writer.h"
#include "modelfile.h"

#define HF_MAX_FILES	64
#define HF_BF16		30u	/* a safetensors dtype: BF16 */

struct hf_arch;

struct hf_tensor {
	const char *name;	/* in the safetensors header (jansson owns) */
	const u8 *data;
	u32 dtype;		/* LLM_T_F32, LLM_T_F16, or HF_BF16 */
	u32 n_dims;
	u64 ne[4];		/* ggml order: ne[0] the row length */
	u64 n;
	bool used;
};

struct hf {
	const char *dir;
	char *err;
	size_t errlen;
	json_t *config, *tok, *tok_cfg;
	bool bad_json;		/* a file that is there did not parse */
	struct llm_mapped_file files[HF_MAX_FILES];
	json_t *headers[HF_MAX_FILES];
	u32 n_files;
	struct hf_tensor *t;
	u32 n_t;
	const struct hf_arch *arch;
	/* hyper-parameters */
	u32 dim, layers, heads, kv_heads, head_dim, ffn, ctx, vocab;
	u32 experts, experts_used, ffn_exp;
	bool head_dim_given;	/* config.json names head_dim */
	double eps, theta;
	bool tied;
	json_t *rope_llama3;	/* config's rope_scaling, llama3 type */
	float *rope_factors;
	/* the vocabulary */
	struct llm_gguf_str *tokens;
	s32 *types;
	char **merges;
	u32 n_merges;
	const char *pre;
	u32 bos, eos;
	bool add_bos;
	char *pads;		/* "[PADn]" texts of ids nothing names */
	/* converted data, freed after the file is written */
	void **bufs;
	u32 n_bufs;
};

int hf_fail(struct hf *h, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A non-negative integer of config.json, or @def when absent (-1: required). */
int hf_get_u32(struct hf *h, const char *key, s64 def, u32 *out);
struct hf_tensor *hf_find(struct hf *h, const char *name);
float hf_elem(const struct hf_tensor *t, u64 i);
/* @n bytes that live until the file is written, or NULL (error set). */
void *hf_buf(struct hf *h, size_t n);

/* convert_hf_arch.c */
/* config.json's architecture and hyper-parameters, or a refusal. */
int hf_read_config(struct hf *h);
/* The GGUF name of the architecture read. */
const char *hf_arch_name(const struct hf *h);
/* The architecture's keys (<arch>.*, general.file_type). */
int hf_add_arch_keys(struct hf *h, struct llm_gguf_writer *w, bool f16);
/* Every tensor, named, shaped and ordered as llama.cpp's converter does. */
int hf_add_tensors(struct hf *h, struct llm_gguf_writer *w, bool f16);

#endif /* LLMCTL_CONVERT_HF_INT_H */
