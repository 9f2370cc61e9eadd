// SPDX-License-Identifier: GPL-2.0
/*
 * The synthetic model generator (synth_model.c, build/tools/mkmodel):
 * its files are deterministic, load in the core at every shape it takes,
 * tokenize prompts into its words, decode text back byte for byte, and
 * generate; quantized, they load and generate too.
 */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "synth_model.h"
#include "userctl/quantize.h"
#include "userctl/runtime.h"
#include "quant/quant.h"

/* A small model of shape @s in memory; NULL on failure (test failed). */
static void *build(const struct synth_shape *s, size_t *len)
{
	struct synth_model m;
	char err[256];
	void *img = NULL;

	if (synth_model_build(&m, s, err, sizeof(err))) {
		check_fail(__FILE__, __LINE__, "build: %s", err);
		return NULL;
	}
	if (llm_gguf_writer_to_mem(m.w, &img, len))
		check_fail(__FILE__, __LINE__, "write: %s",
			   llm_gguf_writer_error(m.w));
	synth_model_free(&m);
	return img;
}

static struct synth_shape small(void)
{
	struct synth_shape s = { .seed = 1 };

	synth_preset("stories260K", &s);
	return s;
}

static void same_arguments_same_bytes(void)
{
	struct synth_shape s = small();
	size_t la, lb, lc;
	void *a = build(&s, &la), *b = build(&s, &lb), *c;

	s.seed = 2;
	c = build(&s, &lc);
	CHECK(a && b && c);
	CHECK_EQ(la, lb);
	CHECK(!memcmp(a, b, la));
	CHECK_EQ(la, lc);
	CHECK(memcmp(a, c, la) != 0);
	free(a);
	free(b);
	free(c);
}

/* Every shape synth_check() accepts loads, with the parameters it says. */
static void shapes_load(void)
{
	static const struct synth_shape shapes[] = {
		{ 64, 5, 8, 4, 172, 512, 512, 1, false, NULL },
		{ 32, 1, 1, 1, 32, SYNTH_MIN_VOCAB, 8, 7, false, NULL },
		{ 48, 2, 6, 2, 96, 300, 64, 3, true, "tied" },
		{ 128, 3, 4, 1, 256, 2000, 256, 9, false, NULL },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(shapes) && !check_failed(); i++) {
		const struct synth_shape *s = &shapes[i];
		struct llm_runtime rt;
		char err[256];
		size_t len;
		void *img;

		CHECK(!synth_check(s));
		img = build(s, &len);
		CHECK(img);
		if (llm_runtime_open_mem(&rt, img, len, 0, 256, true, err,
					 sizeof(err))) {
			check_fail(__FILE__, __LINE__, "shape %zu: %s", i, err);
			free(img);
			return;
		}
		CHECK_EQ(rt.model.cfg.n_embd, s->dim);
		CHECK_EQ(rt.model.cfg.n_layers, s->layers);
		CHECK_EQ(rt.model.cfg.n_heads, s->heads);
		CHECK_EQ(rt.model.cfg.n_kv_heads, s->kv_heads);
		CHECK_EQ(rt.model.cfg.n_ff, s->ffn);
		CHECK_EQ(rt.model.cfg.n_vocab, s->vocab);
		CHECK_EQ(rt.model.cfg.n_ctx_train, s->context);
		CHECK_EQ(rt.model.tied_output, s->tied);
		CHECK_EQ(rt.model.n_params, synth_params(s));
		llm_runtime_close(&rt);
		free(img);
	}
}

static void bad_shapes_refused(void)
{
	struct synth_shape s = small(), t;
	struct synth_model m;
	char err[256];

	t = s;
	t.heads = 7;			/* does not divide 64 */
	CHECK(synth_check(&t));
	t = s;
	t.kv_heads = 3;			/* does not divide 8 */
	CHECK(synth_check(&t));
	t = s;
	t.vocab = SYNTH_MIN_VOCAB - 1;
	CHECK(synth_check(&t));
	CHECK(synth_model_build(&m, &t, err, sizeof(err)) < 0);
	CHECK(strstr(err, "vocabulary"));
	CHECK(!synth_preset("stories1T", &t));
}

static void prompt_tokens(void)
{
	static const char *const want[] = {
		"\xe2\x96\x81Once", "\xe2\x96\x81upon", "\xe2\x96\x81""a",
		"\xe2\x96\x81time",
	};
	const char *text = "Once upon a time";
	struct synth_shape s = small();
	struct llm_runtime rt;
	char err[256];
	u32 tok[16];
	size_t len;
	void *img = build(&s, &len);
	int n, i;

	CHECK(img);
	CHECK_EQ(llm_runtime_open_mem(&rt, img, len, 64, 256, true, err,
				      sizeof(err)), 0);
	n = llm_tokenize(&rt.model.vocab, text, strlen(text), true, tok, 16,
			 rt.ctx.tok_scratch, rt.ctx.tok_scratch_bytes);
	CHECK_EQ(n, 5);
	CHECK_EQ(tok[0], rt.model.vocab.bos);
	for (i = 1; i < n; i++) {
		const struct llm_token *t = &rt.model.vocab.tok[tok[i]];

		if (t->len != strlen(want[i - 1]) ||
		    memcmp(t->text, want[i - 1], t->len))
			check_fail(__FILE__, __LINE__, "token %d is '%.*s'",
				   i, (int)t->len, t->text);
	}
	llm_runtime_close(&rt);
	free(img);
}

static void text_round_trip(void)
{
	static const char *const texts[] = {
		"Once upon a time, there was a cat named Zorblax.",
		"  spaced  out  ",
		"new\nlines\n\n",
		"bytes \x01\xff\xfe and UTF-8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
		"x",
	};
	struct synth_shape s = small();
	struct llm_runtime rt;
	char err[256];
	size_t len, i;
	void *img = build(&s, &len);

	CHECK(img);
	CHECK_EQ(llm_runtime_open_mem(&rt, img, len, 64, 4096, true, err,
				      sizeof(err)), 0);
	for (i = 0; i < ARRAY_SIZE(texts) && !check_failed(); i++) {
		const struct llm_vocab *v = &rt.model.vocab;
		char out[4096];
		u32 tok[1024], prev = v->bos, n_out = 0;
		int n, j;

		n = llm_tokenize(v, texts[i], strlen(texts[i]), true, tok,
				 1024, rt.ctx.tok_scratch,
				 rt.ctx.tok_scratch_bytes);
		CHECK(n > 1);
		for (j = 1; j < n; j++) {
			n_out += llm_token_to_text(v, prev, tok[j],
						   out + n_out,
						   sizeof(out) - n_out);
			prev = tok[j];
		}
		if (n_out != strlen(texts[i]) || memcmp(out, texts[i], n_out))
			check_fail(__FILE__, __LINE__, "\"%s\" came back as \"%.*s\"",
				   texts[i], (int)n_out, out);
	}
	llm_runtime_close(&rt);
	free(img);
}

struct text {
	char buf[4096];
	u32 len;
};

static int on_text(void *arg, const char *text, u32 len)
{
	struct text *t = arg;

	if (t->len + len < sizeof(t->buf)) {
		memcpy(t->buf + t->len, text, len);
		t->len += len;
	}
	return 0;
}

/* @n tokens from @path (sampled with a fixed seed) into @out. */
static int generate(const char *path, const void *img, size_t len, u32 n,
		    struct text *out)
{
	struct llm_runtime rt;
	struct llm_request r;
	char err[256];
	int ret;

	memset(out, 0, sizeof(*out));
	ret = path ? llm_runtime_open(&rt, path, 128, 256, false, err,
				      sizeof(err)) :
		     llm_runtime_open_mem(&rt, img, len, 128, 256, false, err,
					  sizeof(err));
	if (ret)
		return ret;
	memset(&r, 0, sizeof(r));
	r.prompt = "Once upon a time";
	r.prompt_len = strlen(r.prompt);
	r.max_tokens = n;
	r.max_prompt_tokens = 100;
	r.sampling.temp_milli = 800;
	r.sampling.top_p_milli = 900;
	r.seed = 42;
	r.on_text = on_text;
	r.arg = out;
	ret = llm_generate(&rt.ctx, &r);
	if (!ret && r.n_gen != n && r.stop_reason != LLM_STOP_EOS)
		ret = -EIO;
	llm_runtime_close(&rt);
	return ret;
}

static void generates_words(void)
{
	struct synth_shape s = small();
	struct text a, b;
	size_t len;
	void *img = build(&s, &len);
	u32 i, spaces = 0;

	CHECK(img);
	CHECK_EQ(generate(NULL, img, len, 40, &a), 0);
	CHECK_EQ(generate(NULL, img, len, 40, &b), 0);
	CHECK(a.len > 0);
	CHECK_EQ(a.len, b.len);
	CHECK(!memcmp(a.buf, b.buf, a.len));
	/* word pieces, not bytes: the text has spaces */
	for (i = 0; i < a.len; i++)
		spaces += a.buf[i] == ' ';
	CHECK(spaces >= 5);
	free(img);
}

/*
 * An F32 model of stories260K's shape with ffn 192 (so every matrix
 * quantizes), seed @seed, classifier tied or not, written to a new file
 * named from the mkstemp() template @path.  0 or -1.
 */
static int write_f32(char *path, u32 seed, bool tied)
{
	struct synth_shape s = { .seed = seed };
	struct synth_model m;
	char err[256];
	int fd, ret;

	synth_preset("stories260K", &s);
	s.ffn = 192;
	s.tied = tied;
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	if (synth_model_build(&m, &s, err, sizeof(err)))
		return -1;
	ret = llm_gguf_writer_to_file(m.w, path);
	synth_model_free(&m);
	return ret ? -1 : 0;
}

/* Through llmctl quantize's code to Q8_0 and Q4_0, then generate. */
static void quantized_generates(void)
{
	static const u32 types[] = { LLM_T_Q8_0, LLM_T_Q4_0 };
	char f32[] = "/tmp/llm-synth-XXXXXX", q[64];
	char err[256];
	struct text t;
	size_t i;

	CHECK_EQ(write_f32(f32, 5, false), 0);
	for (i = 0; i < ARRAY_SIZE(types) && !check_failed(); i++) {
		struct llm_quantize_stats st;

		snprintf(q, sizeof(q), "%s.q", f32);
		if (llm_quantize_file(f32, q, types[i], 0, &st, err,
				      sizeof(err))) {
			check_fail(__FILE__, __LINE__, "quantize: %s", err);
			break;
		}
		/* 5 x 7 matrices, the embedding and the classifier */
		CHECK_EQ(st.n_quantized, 5 * 7 + 2);
		CHECK_EQ(generate(q, NULL, 0, 20, &t), 0);
		CHECK(t.len > 0);
		unlink(q);
	}
	unlink(f32);
}

/*
 * A tied classifier is repacked with the layers (llm_runtime_open() from
 * the file) and the embedding then reads its rows through that layout:
 * every logit is bitwise what the same file gives left as it lies
 * (llm_runtime_open_mem()), for Q8_0 and Q4_0.
 */
static void tied_repacked_equals_rows(void)
{
	static const u32 types[] = { LLM_T_Q8_0, LLM_T_Q4_0 };
	char f32[] = "/tmp/llm-synth-XXXXXX", q[64];
	char err[256];
	size_t i;

	CHECK_EQ(write_f32(f32, 8, true), 0);
	for (i = 0; i < ARRAY_SIZE(types) && !check_failed(); i++) {
		struct llm_runtime a, b;
		struct llm_quantize_stats st;
		size_t len, nv;
		void *img;
		u32 t, tok = 1;

		snprintf(q, sizeof(q), "%s.q", f32);
		CHECK_EQ(llm_quantize_file(f32, q, types[i], 0, &st, err,
					   sizeof(err)), 0);
		img = check_read_file(q, &len);
		CHECK(img);
		CHECK_EQ(llm_runtime_open(&a, q, 64, 64, 0, err, sizeof(err)),
			 0);
		CHECK_EQ(llm_runtime_open_mem(&b, img, len, 64, 64, 0, err,
					      sizeof(err)), 0);
		CHECK(a.model.tied_output);
		CHECK_EQ(a.model.output.layout, LLM_MM_X8);
		CHECK_EQ(a.model.tok_embd.layout, LLM_MM_X8);
		CHECK_EQ(b.model.tok_embd.layout, LLM_MM_ROWS);
		nv = a.model.cfg.n_vocab;
		for (t = 0; t < 24 && !check_failed(); t++) {
			CHECK_EQ(llm_decode(&a.ctx, tok, true, NULL, NULL), 0);
			CHECK_EQ(llm_decode(&b.ctx, tok, true, NULL, NULL), 0);
			CHECK(!memcmp(a.ctx.logits, b.ctx.logits,
				      nv * sizeof(float)));
			tok = (tok * 37 + 11) % (u32)nv;
		}
		llm_runtime_close(&a);
		llm_runtime_close(&b);
		free(img);
		unlink(q);
	}
	unlink(f32);
}

int main(void)
{
	llm_log_quiet = 1;
	RUN(same_arguments_same_bytes);
	RUN(shapes_load);
	RUN(bad_shapes_refused);
	RUN(prompt_tokens);
	RUN(text_round_trip);
	RUN(generates_words);
	RUN(quantized_generates);
	RUN(tied_repacked_equals_rows);
	return check_done();
}
