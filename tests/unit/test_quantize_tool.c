// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl quantize (userctl/quantize.c):
 *
 * - stories260K.gguf quantized to Q8_0 and Q4_0 into a temporary
 *   directory against llama.cpp's quantizations of it: the same keys
 *   (general.quantization_version and general.file_type added last), the
 *   same type per tensor and byte-identical data; in fact the whole file;
 * - our conversion of stories260K.bin quantized: the same tensors as the
 *   quantization of llama.cpp's conversion;
 * - a synthetic file: what is quantized (2-D and 3-D F32/F16 with rows of
 *   a multiple of 32) and what is kept (1-D, other rows, trailing 1s,
 *   the target type), F16 through F32, requantization only when allowed,
 *   keys copied in order with file_type replaced, the alignment kept;
 * - bad inputs: refused with a sentence and nothing written.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "quant/kernels.h"
#include "userctl/convert.h"
#include "userctl/quantize.h"

#define TABLES (4u << 20)

static char tmpdir[] = "/tmp/llm-test-quantize-XXXXXX";
static const char *f32_path, *q8_path, *q4_path, *bin_path, *tok_path;

struct parsed {
	void *img;
	size_t len;
	void *mem;
	struct llm_arena arena;
	struct llm_gguf g;
};

static int parse_mem(struct parsed *p, void *img, size_t len)
{
	char err[256];
	int ret;

	p->img = img;
	p->len = len;
	p->mem = malloc(TABLES);
	if (!p->img || !p->mem)
		return -ENOMEM;
	llm_arena_init(&p->arena, p->mem, TABLES);
	ret = llm_gguf_parse(&p->g, p->img, p->len, &p->arena, err,
			     sizeof(err));
	if (ret)
		printf("# %s\n", err);
	return ret;
}

static int parse_file(struct parsed *p, const char *path)
{
	size_t len = 0;
	void *img = check_read_file(path, &len);

	memset(p, 0, sizeof(*p));
	return parse_mem(p, img, len);
}

static void parsed_free(struct parsed *p)
{
	free(p->img);
	free(p->mem);
	memset(p, 0, sizeof(*p));
}

static u32 get_u32(const struct llm_gguf *g, const char *key)
{
	u32 v = 0xdeadbeef;

	llm_gguf_get_u32(g, key, &v);
	return v;
}

static bool same_str(struct llm_gguf_str a, struct llm_gguf_str b)
{
	return a.len == b.len && !memcmp(a.p, b.p, a.len);
}

/* Every tensor: same name, shape, type and data; returns the first odd. */
static s64 tensors_differ(const struct llm_gguf *a, const struct llm_gguf *b)
{
	u64 i;

	if (a->n_tensors != b->n_tensors)
		return a->n_tensors;
	for (i = 0; i < a->n_tensors; i++) {
		const struct llm_gguf_tensor *x = &a->tensors[i];
		const struct llm_gguf_tensor *y = &b->tensors[i];

		if (!same_str(x->name, y->name) || x->n_dims != y->n_dims ||
		    memcmp(x->ne, y->ne, sizeof(x->ne)) ||
		    x->type != y->type || x->nbytes != y->nbytes ||
		    memcmp(x->data, y->data, x->nbytes))
			return i;
	}
	return -1;
}

/* Same keys in the same order with the same types. */
static bool same_keys(const struct llm_gguf *a, const struct llm_gguf *b)
{
	u64 i;

	if (a->n_kv != b->n_kv)
		return false;
	for (i = 0; i < a->n_kv; i++)
		if (!same_str(a->kv[i].key, b->kv[i].key) ||
		    a->kv[i].type != b->kv[i].type)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Against llama.cpp's quantizations of stories260K.                   */

static void against_llama_cpp(u32 type, const char *want_path,
			      u32 want_ftype)
{
	struct llm_quantize_stats st;
	struct parsed a, b;
	char out[300], err[512];
	s64 bad;

	snprintf(out, sizeof(out), "%s/%s.gguf", tmpdir, llm_type_name(type));
	CHECK_EQ(llm_quantize_file(f32_path, out, type, 0, &st, err,
				   sizeof(err)), 0);
	CHECK_EQ(st.n_quantized, 32);	/* 2 + 5 x 6 */
	CHECK_EQ(st.n_kept, 16);	/* the norms and ffn_down */
	CHECK_EQ(st.n_requantized, 0);
	CHECK_EQ(parse_file(&a, out), 0);
	unlink(out);
	if (parse_file(&b, want_path)) {
		parsed_free(&a);
		CHECK(0);
	}
	bad = tensors_differ(&a.g, &b.g);
	if (bad >= 0)
		check_fail(__FILE__, __LINE__, "tensor %lld differs from llama.cpp's",
			   (long long)bad);
	else if (!same_keys(&a.g, &b.g))
		check_fail(__FILE__, __LINE__, "the keys differ from llama.cpp's");
	else if (get_u32(&a.g, "general.file_type") != want_ftype ||
		 get_u32(&a.g, "general.quantization_version") != 2)
		check_fail(__FILE__, __LINE__, "file type or quantization version");
	else if (st.bytes_out != a.len || a.len != b.len ||
		 memcmp(a.img, b.img, a.len))
		check_fail(__FILE__, __LINE__, "the files differ");
	parsed_free(&a);
	parsed_free(&b);
}

static void q8_0_matches_llama_cpp(void)
{
	against_llama_cpp(LLM_T_Q8_0, q8_path, 7);
}

static void q4_0_matches_llama_cpp(void)
{
	against_llama_cpp(LLM_T_Q4_0, q4_path, 2);
}

/* Our conversion, quantized, against llama.cpp's conversion, quantized. */
static void converted_then_quantized(void)
{
	static const u32 types[] = { LLM_T_Q8_0, LLM_T_Q4_0 };
	char conv[300], out[300], err[512];
	const char *want[] = { q8_path, q4_path };
	struct parsed a, b;
	size_t i;
	s64 bad;

	snprintf(conv, sizeof(conv), "%s/converted.gguf", tmpdir);
	CHECK_EQ(llm_convert_llama2c_file(bin_path, tok_path, conv, NULL, err,
					  sizeof(err)), 0);
	for (i = 0; i < ARRAY_SIZE(types) && !check_failed(); i++) {
		snprintf(out, sizeof(out), "%s/converted-%s.gguf", tmpdir,
			 llm_type_name(types[i]));
		if (llm_quantize_file(conv, out, types[i], 0, NULL, err,
				      sizeof(err))) {
			check_fail(__FILE__, __LINE__, "%s", err);
			break;
		}
		if (parse_file(&a, out) || parse_file(&b, want[i])) {
			check_fail(__FILE__, __LINE__, "cannot parse");
			break;
		}
		unlink(out);
		bad = tensors_differ(&a.g, &b.g);
		if (bad >= 0)
			check_fail(__FILE__, __LINE__, "%s: tensor %lld differs",
				   llm_type_name(types[i]), (long long)bad);
		else if (!same_keys(&a.g, &b.g) ||
			 get_u32(&a.g, "llama.context_length") != 512)
			check_fail(__FILE__, __LINE__, "%s: keys differ",
				   llm_type_name(types[i]));
		parsed_free(&a);
		parsed_free(&b);
	}
	unlink(conv);
}

/* ------------------------------------------------------------------ */
/* A synthetic file.                                                   */

static float val(u32 i)
{
	/* deterministic, signed, of varied magnitude, with exact zeros */
	u32 h = i * 2654435761u;

	if (i % 29 == 0)
		return 0;
	return ((float)(h >> 8) / (1u << 24) - 0.5f) * (float)(1 + i % 7);
}

struct src {
	float f32[64 * 3];
	u16 f16[32 * 2];
	float rows40[40 * 2];
	float one_d[64];
	float trail[64];
	float three_d[32 * 2 * 2];
	struct llm_block_q8_0 q8[2];
	struct llm_block_q4_0 q4[2];
};

static void fill(struct src *s)
{
	float tmp[64];
	u32 i;

	for (i = 0; i < ARRAY_SIZE(s->f32); i++)
		s->f32[i] = val(i);
	for (i = 0; i < ARRAY_SIZE(s->f16); i++)
		s->f16[i] = llm_fp32_to_fp16(val(i + 1000));
	for (i = 0; i < ARRAY_SIZE(s->rows40); i++)
		s->rows40[i] = val(i + 2000);
	for (i = 0; i < ARRAY_SIZE(s->one_d); i++)
		s->one_d[i] = val(i + 3000);
	for (i = 0; i < ARRAY_SIZE(s->trail); i++)
		s->trail[i] = val(i + 4000);
	for (i = 0; i < ARRAY_SIZE(s->three_d); i++)
		s->three_d[i] = val(i + 5000);
	for (i = 0; i < 64; i++)
		tmp[i] = val(i + 6000);
	llm_quantize_row_q8_0_ref(tmp, s->q8, 64);
	llm_quantize_row_q4_0_ref(tmp, s->q4, 64);
}

/* The synthetic input file into *@img; @q4 adds a Q4_0 tensor. */
static int make_input(const struct src *s, bool q4, void **img, size_t *len)
{
	static const char *const tags[] = { "a", "b" };
	struct llm_gguf_tensor trail = {
		.name = { "trailing_one", 12 },
		.n_dims = 2,
		.ne = { 64, 1, 1, 1 },
		.n_elems = 64,
		.type = LLM_T_F32,
		.nbytes = sizeof(s->trail),
		.data = s->trail,
	};
	struct llm_gguf_writer *w = llm_gguf_writer_new(0);
	int ret;

	ret = llm_gguf_writer_add_str(w, "general.architecture", "llama");
	ret = ret ? ret : llm_gguf_writer_add_u32(w, "general.file_type", 0);
	ret = ret ? ret : llm_gguf_writer_set_alignment(w, 64);
	ret = ret ? ret : llm_gguf_writer_add_arr_str(w, "x.tags", tags, 2);
	ret = ret ? ret : llm_gguf_writer_add_tensor(w, "f32", LLM_T_F32, 2,
			(u64[]){ 64, 3 }, s->f32, sizeof(s->f32));
	ret = ret ? ret : llm_gguf_writer_add_tensor(w, "f16", LLM_T_F16, 2,
			(u64[]){ 32, 2 }, s->f16, sizeof(s->f16));
	ret = ret ? ret : llm_gguf_writer_add_tensor(w, "rows40", LLM_T_F32,
			2, (u64[]){ 40, 2 }, s->rows40, sizeof(s->rows40));
	ret = ret ? ret : llm_gguf_writer_add_tensor(w, "one_d", LLM_T_F32,
			1, (u64[]){ 64 }, s->one_d, sizeof(s->one_d));
	ret = ret ? ret : llm_gguf_writer_copy_tensor(w, &trail);
	ret = ret ? ret : llm_gguf_writer_add_tensor(w, "three_d", LLM_T_F32,
			3, (u64[]){ 32, 2, 2 }, s->three_d,
			sizeof(s->three_d));
	ret = ret ? ret : llm_gguf_writer_add_tensor(w, "q8", LLM_T_Q8_0, 2,
			(u64[]){ 32, 2 }, s->q8, sizeof(s->q8));
	if (q4)
		ret = ret ? ret : llm_gguf_writer_add_tensor(w, "q4",
				LLM_T_Q4_0, 2, (u64[]){ 32, 2 }, s->q4,
				sizeof(s->q4));
	ret = ret ? ret : llm_gguf_writer_add_u32(w, "general.after", 5);
	ret = ret ? ret : llm_gguf_writer_to_mem(w, img, len);
	if (ret)
		printf("# %s\n", llm_gguf_writer_error(w));
	llm_gguf_writer_free(w);
	return ret;
}

/* Quantize @in to @type in memory and parse the result into @out. */
static int quantize_mem(struct parsed *in, u32 type, unsigned int flags,
			struct parsed *out, char *err, size_t errlen)
{
	struct llm_gguf_writer *w = llm_gguf_writer_new(0);
	void *buf = NULL, *img = NULL;
	size_t len;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = llm_quantize_gguf(w, &in->g, type, flags, &buf, NULL, err,
				errlen);
	if (!ret)
		ret = llm_gguf_writer_to_mem(w, &img, &len);
	llm_gguf_writer_free(w);
	free(buf);
	return ret ? ret : parse_mem(out, img, len);
}

/* Tensor @name of @g has @type and the data at @want. */
static bool tensor_is(const struct llm_gguf *g, const char *name, u32 type,
		      const void *want, u64 nbytes)
{
	const struct llm_gguf_tensor *t = llm_gguf_find_tensor(g, name);

	return t && t->type == type && t->nbytes == nbytes &&
	       !memcmp(t->data, want, nbytes);
}

/* What the tool must give, from the reference quantizers. */
struct want {
	struct llm_block_q8_0 q8_f32[6], q8_f16[2], q8_3d[4], q8_q4[2];
	struct llm_block_q4_0 q4_q8[2];
};

static void expect(const struct src *s, struct want *w)
{
	float f[64];
	int i;

	llm_quantize_row_q8_0_ref(s->f32, w->q8_f32, 64 * 3);
	for (i = 0; i < 64; i++)
		f[i] = llm_fp16_to_fp32(s->f16[i]);
	llm_quantize_row_q8_0_ref(f, w->q8_f16, 64);
	llm_quantize_row_q8_0_ref(s->three_d, w->q8_3d, 128);
	llm_dequantize_row_ref(LLM_T_Q4_0, s->q4, f, 64);
	llm_quantize_row_q8_0_ref(f, w->q8_q4, 64);
	llm_dequantize_row_ref(LLM_T_Q8_0, s->q8, f, 64);
	llm_quantize_row_q4_0_ref(f, w->q4_q8, 64);
}

/* The file without a Q4_0 tensor, quantized to Q8_0. */
static void check_q8_0(const struct llm_gguf *g, const struct src *s,
		       const struct want *w)
{
	static const char *const keys[] = {
		"general.architecture", "general.alignment", "x.tags",
		"general.after", "general.quantization_version",
		"general.file_type",
	};
	size_t i;

	CHECK_EQ(g->n_kv, ARRAY_SIZE(keys));
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		CHECK(llm_gguf_str_eq(g->kv[i].key, keys[i]));
	CHECK_EQ(get_u32(g, "general.file_type"), 7);
	CHECK_EQ(get_u32(g, "general.quantization_version"), 2);
	CHECK_EQ(get_u32(g, "general.after"), 5);
	CHECK_EQ(g->alignment, 64);
	CHECK(tensor_is(g, "f32", LLM_T_Q8_0, w->q8_f32, sizeof(w->q8_f32)));
	CHECK(tensor_is(g, "f16", LLM_T_Q8_0, w->q8_f16, sizeof(w->q8_f16)));
	CHECK(tensor_is(g, "three_d", LLM_T_Q8_0, w->q8_3d,
			sizeof(w->q8_3d)));
	CHECK_EQ(llm_gguf_find_tensor(g, "three_d")->n_dims, 3);
	CHECK(tensor_is(g, "rows40", LLM_T_F32, s->rows40,
			sizeof(s->rows40)));
	CHECK(tensor_is(g, "one_d", LLM_T_F32, s->one_d, sizeof(s->one_d)));
	CHECK(tensor_is(g, "trailing_one", LLM_T_F32, s->trail,
			sizeof(s->trail)));
	CHECK(tensor_is(g, "q8", LLM_T_Q8_0, s->q8, sizeof(s->q8)));
}

/* Requantization, Q8_0 -> Q4_0 and Q4_0 -> Q8_0, only when allowed. */
static void check_requantize(struct parsed *in8, struct parsed *in4,
			     const struct src *s, const struct want *w)
{
	struct parsed out;
	char err[512];
	bool ok;
	int ret;

	ret = quantize_mem(in8, LLM_T_Q4_0, 0, &out, err, sizeof(err));
	parsed_free(&out);
	CHECK_EQ(ret, -EINVAL);
	CHECK(strstr(err, "'q8'") && strstr(err, "--allow-requantize"));
	ret = quantize_mem(in4, LLM_T_Q8_0, 0, &out, err, sizeof(err));
	parsed_free(&out);
	CHECK_EQ(ret, -EINVAL);
	CHECK(strstr(err, "'q4'"));

	CHECK_EQ(quantize_mem(in8, LLM_T_Q4_0, LLM_QUANTIZE_REQUANTIZE, &out,
			      err, sizeof(err)), 0);
	ok = get_u32(&out.g, "general.file_type") == 2 &&
	     tensor_is(&out.g, "q8", LLM_T_Q4_0, w->q4_q8, sizeof(w->q4_q8));
	parsed_free(&out);
	CHECK(ok);

	CHECK_EQ(quantize_mem(in4, LLM_T_Q8_0, LLM_QUANTIZE_REQUANTIZE, &out,
			      err, sizeof(err)), 0);
	ok = tensor_is(&out.g, "q4", LLM_T_Q8_0, w->q8_q4, sizeof(w->q8_q4)) &&
	     tensor_is(&out.g, "q8", LLM_T_Q8_0, s->q8, sizeof(s->q8));
	parsed_free(&out);
	CHECK(ok);

	/* only Q8_0 and Q4_0 are targets */
	ret = quantize_mem(in8, LLM_T_F16, 0, &out, err, sizeof(err));
	parsed_free(&out);
	CHECK_EQ(ret, -EINVAL);
}

static void synthetic(void)
{
	struct src *s = calloc(1, sizeof(*s));
	struct want *w = calloc(1, sizeof(*w));
	struct parsed in8 = { 0 }, in4 = { 0 }, out = { 0 };
	char err[512];
	void *img;
	size_t len;

	fill(s);
	expect(s, w);
	if (make_input(s, false, &img, &len) || parse_mem(&in8, img, len) ||
	    make_input(s, true, &img, &len) || parse_mem(&in4, img, len)) {
		check_fail(__FILE__, __LINE__, "cannot make the input files");
		goto out;
	}
	if (quantize_mem(&in8, LLM_T_Q8_0, 0, &out, err, sizeof(err))) {
		check_fail(__FILE__, __LINE__, "%s", err);
		goto out;
	}
	check_q8_0(&out.g, s, w);
	if (!check_failed())
		check_requantize(&in8, &in4, s, w);
out:
	parsed_free(&out);
	parsed_free(&in8);
	parsed_free(&in4);
	free(s);
	free(w);
}

/* ------------------------------------------------------------------ */
/* Bad inputs.                                                         */

static void bad_inputs(void)
{
	char empty[300], cut[300], out[300], err[512];
	size_t len, n;
	FILE *f;
	u8 *img;

	snprintf(empty, sizeof(empty), "%s/empty.gguf", tmpdir);
	snprintf(cut, sizeof(cut), "%s/cut.gguf", tmpdir);
	snprintf(out, sizeof(out), "%s/out.gguf", tmpdir);
	f = fopen(empty, "wb");
	CHECK(f);
	fclose(f);
	CHECK_EQ(llm_quantize_file(empty, out, LLM_T_Q8_0, 0, NULL, err,
				   sizeof(err)), -EINVAL);
	CHECK(strstr(err, "empty"));
	CHECK(access(out, F_OK) != 0);
	CHECK_EQ(llm_quantize_file("/nonexistent.gguf", out, LLM_T_Q8_0, 0,
				   NULL, err, sizeof(err)), -ENOENT);
	CHECK_EQ(llm_quantize_file(f32_path, f32_path, LLM_T_Q8_0, 0, NULL,
				   err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "input"));
	CHECK_EQ(llm_quantize_file(bin_path, out, LLM_T_Q8_0, 0, NULL, err,
				   sizeof(err)), -EINVAL);
	CHECK(strstr(err, "GGUF"));
	CHECK(access(out, F_OK) != 0);

	/* truncations of a real file, metadata and data */
	img = check_read_file(f32_path, &len);
	CHECK(img);
	for (n = 1; n < len && !check_failed(); n = n * 3 / 2 + 1) {
		f = fopen(cut, "wb");
		if (!f || fwrite(img, 1, n, f) != n) {
			check_fail(__FILE__, __LINE__, "cannot write %s", cut);
			if (f)
				fclose(f);
			break;
		}
		fclose(f);
		if (llm_quantize_file(cut, out, LLM_T_Q4_0, 0, NULL, err,
				      sizeof(err)) >= 0 || !err[0] ||
		    !access(out, F_OK))
			check_fail(__FILE__, __LINE__,
				   "a file cut at %zu bytes: \"%s\"", n, err);
	}
	free(img);
	unlink(cut);
	unlink(empty);
	unlink(out);
}

int main(void)
{
	llm_log_quiet = 1;
	if (!check_model("stories260K.gguf") ||
	    !check_model("stories260K-Q8_0.gguf") ||
	    !check_model("stories260K-Q4_0.gguf") ||
	    !check_model("stories260K.bin") || !check_model("tok512.bin")) {
		printf("FAIL test_quantize_tool: some of the stories260K files are missing from models/\n");
		return 1;
	}
	f32_path = strdup(check_model("stories260K.gguf"));
	q8_path = strdup(check_model("stories260K-Q8_0.gguf"));
	q4_path = strdup(check_model("stories260K-Q4_0.gguf"));
	bin_path = strdup(check_model("stories260K.bin"));
	tok_path = strdup(check_model("tok512.bin"));
	if (!mkdtemp(tmpdir)) {
		printf("FAIL test_quantize_tool: cannot make a temporary directory\n");
		return 1;
	}

	RUN(q8_0_matches_llama_cpp);
	RUN(q4_0_matches_llama_cpp);
	RUN(converted_then_quantized);
	RUN(synthetic);
	RUN(bad_inputs);

	rmdir(tmpdir);
	free((void *)f32_path);
	free((void *)q8_path);
	free((void *)q4_path);
	free((void *)bin_path);
	free((void *)tok_path);
	return check_done();
}
