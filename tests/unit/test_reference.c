// SPDX-License-Identifier: GPL-2.0
/*
 * The core against the llama2.c reference algorithm on the real
 * stories260K model: tokenization, greedy and seeded sampling for 255
 * tokens, for several prompts, from llama.cpp's GGUF of the model.
 */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "ref_llama2c.h"
#include "userctl/convert.h"
#include "userctl/runtime.h"

#define STEPS 255

static struct ref_model *ref;
static const char *gguf_path;

static const char *const prompts[] = {
	"",
	"Once upon a time",
	"Lily and Tom went to the park",
	"The little dog was sad because",
	"One day, a big bird",
	"Sam said, \"I want to play!\"",
};

struct collect {
	u32 tok[1024];
	u32 n;
	char text[8192];
	u32 len;
};

static int on_text(void *arg, const char *s, u32 n)
{
	struct collect *c = arg;

	if (c->len + n < sizeof(c->text)) {
		memcpy(c->text + c->len, s, n);
		c->len += n;
		c->text[c->len] = 0;
	}
	return 0;
}

static void on_token(void *arg, u32 t)
{
	struct collect *c = arg;

	if (c->n < 1024)
		c->tok[c->n++] = t;
}

/* Generate with the core; returns 0 or a negative errno. */
static int core_generate(const char *path, bool force_ref, const char *prompt,
			 u32 temp_milli, u32 top_p_milli, u64 seed,
			 struct collect *out)
{
	struct llm_runtime rt;
	struct llm_request r;
	char err[256];
	int ret;

	memset(out, 0, sizeof(*out));
	ret = llm_runtime_open(&rt, path, 512, strlen(prompt) + 1, force_ref,
			       err, sizeof(err));
	if (ret)
		return ret;
	memset(&r, 0, sizeof(r));
	r.prompt = prompt;
	r.prompt_len = strlen(prompt);
	r.max_tokens = STEPS;
	r.max_prompt_tokens = 1000;
	r.sampling.temp_milli = temp_milli;
	r.sampling.top_p_milli = top_p_milli;
	r.seed = seed;
	r.on_text = on_text;
	r.on_token = on_token;
	r.arg = out;
	ret = llm_generate(&rt.ctx, &r);
	llm_runtime_close(&rt);
	return ret;
}

static void compare(const char *prompt, bool force_ref, float temp,
		    float topp, u64 seed)
{
	static int want[1024];
	struct collect got;
	int n, i, np, steps;
	int pt[512];

	np = ref_encode(ref, prompt, 1, pt, 512);
	steps = np - 1 + STEPS;
	n = ref_generate(ref, prompt, steps, temp, topp, seed, want, 1024);
	CHECK_EQ(core_generate(gguf_path, force_ref, prompt,
			       (u32)(temp * 1000 + 0.5f),
			       (u32)(topp * 1000 + 0.5f), seed, &got), 0);
	if ((int)got.n != n) {
		check_fail(__FILE__, __LINE__, "prompt \"%s\": %u tokens, reference %d",
			   prompt, got.n, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if ((int)got.tok[i] != want[i]) {
			check_fail(__FILE__, __LINE__, "prompt \"%s\": token %d is %u, reference %d",
				   prompt, i, got.tok[i], want[i]);
			return;
		}
	}
}

static void greedy_matches_reference(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(prompts) && !check_failed(); i++)
		compare(prompts[i], true, 0.0f, 0.9f, 1);
}

static void greedy_matches_reference_fast_kernels(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(prompts) && !check_failed(); i++)
		compare(prompts[i], false, 0.0f, 0.9f, 1);
}

/* The same from our own conversion of the checkpoint (llmctl convert). */
static void greedy_matches_reference_converted(void)
{
	char dir[] = "/tmp/llm-test-reference-XXXXXX", path[64], err[512];
	char *bin = strdup(check_model("stories260K.bin"));
	char *tok = strdup(check_model("tok512.bin"));
	const char *orig = gguf_path;
	size_t i;

	if (!mkdtemp(dir)) {
		check_fail(__FILE__, __LINE__, "no temporary directory");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/converted.gguf", dir);
	if (llm_convert_llama2c_file(bin, tok, path, NULL, err, sizeof(err)))
		check_fail(__FILE__, __LINE__, "%s", err);
	gguf_path = path;
	for (i = 0; i < ARRAY_SIZE(prompts) && !check_failed(); i++)
		compare(prompts[i], false, 0.0f, 0.9f, 1);
	gguf_path = orig;
	unlink(path);
	rmdir(dir);
out:
	free(bin);
	free(tok);
}

static void sampled_matches_reference(void)
{
	compare("", true, 1.0f, 0.9f, 133742);
	compare("Once upon a time", true, 1.0f, 0.9f, 42);
	compare("", true, 0.8f, 0.0f, 7);	/* top-p off: plain sampling */
}

static void published_text(void)
{
	static const char published[] =
		"Once upon a time, there was a little girl named Lily. She loved "
		"to play outside in the park. One day, she saw a big, red ball. "
		"She wanted to play with it, but it was too high.";
	struct collect got;

	CHECK_EQ(core_generate(gguf_path, false, "", 0, 900, 1, &got), 0);
	CHECK(got.len > sizeof(published));
	CHECK(!memcmp(got.text, published, sizeof(published) - 1));
}

static void same_seed_same_text(void)
{
	struct collect a, b, c;

	CHECK_EQ(core_generate(gguf_path, false, "Tom", 900, 950, 99, &a), 0);
	CHECK_EQ(core_generate(gguf_path, false, "Tom", 900, 950, 99, &b), 0);
	CHECK_EQ(core_generate(gguf_path, false, "Tom", 900, 950, 100, &c), 0);
	CHECK_EQ(a.n, b.n);
	CHECK(!memcmp(a.tok, b.tok, a.n * sizeof(u32)));
	CHECK(a.n != c.n || memcmp(a.tok, c.tok, a.n * sizeof(u32)));
}

static void tokenizer_matches_reference(void)
{
	static const char *const texts[] = {
		"Once upon a time",
		"Hello, world!",
		"  two leading spaces and  double  spaces ",
		"line one\nline two\n",
		"tabs\tand\rreturns",
		"caf\xc3\xa9 na\xc3\xafve \xe2\x82\xac 10",
		"emoji \xf0\x9f\x98\x80 and CJK \xe4\xb8\xad\xe6\x96\x87",
		"supercalifragilisticexpialidocious",
		"a",
		" ",
		"\x01\x02\x7f",
	};
	struct llm_runtime rt;
	char err[256];
	size_t i;

	CHECK_EQ(llm_runtime_open(&rt, gguf_path, 64, 4096, true, err,
				  sizeof(err)), 0);
	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		int want[1024], got_n, want_n, j;
		u32 got[1024];

		want_n = ref_encode(ref, texts[i], 1, want, 1024);
		got_n = llm_tokenize(&rt.model.vocab, texts[i], strlen(texts[i]),
				     true, got, 1024, rt.ctx.tok_scratch,
				     rt.ctx.tok_scratch_bytes);
		if (got_n != want_n) {
			check_fail(__FILE__, __LINE__, "\"%s\": %d tokens, reference %d",
				   texts[i], got_n, want_n);
			break;
		}
		for (j = 0; j < got_n; j++)
			if ((int)got[j] != want[j]) {
				check_fail(__FILE__, __LINE__, "\"%s\": token %d is %u, reference %d",
					   texts[i], j, got[j], want[j]);
				break;
			}
		if (check_failed())
			break;
	}
	llm_runtime_close(&rt);
}

static void tokenizer_round_trip(void)
{
	static const char *const texts[] = {
		"Once upon a time, there was a cat.",
		"  spaced  out  ",
		"new\nlines\n\n",
		"bytes \x01\xff\xfe and UTF-8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
		"x",
	};
	struct llm_runtime rt;
	char err[256];
	size_t i;

	CHECK_EQ(llm_runtime_open(&rt, gguf_path, 64, 4096, true, err,
				  sizeof(err)), 0);
	for (i = 0; i < ARRAY_SIZE(texts) && !check_failed(); i++) {
		const struct llm_vocab *v = &rt.model.vocab;
		char out[4096];
		u32 tok[1024], prev = v->bos, len = 0;
		int n, j;

		n = llm_tokenize(v, texts[i], strlen(texts[i]), true, tok,
				 1024, rt.ctx.tok_scratch,
				 rt.ctx.tok_scratch_bytes);
		CHECK(n > 1);
		CHECK_EQ(tok[0], v->bos);
		for (j = 1; j < n; j++) {
			len += llm_token_to_text(v, prev, tok[j], out + len,
						 sizeof(out) - len);
			prev = tok[j];
		}
		if (len != strlen(texts[i]) || memcmp(out, texts[i], len))
			check_fail(__FILE__, __LINE__, "\"%s\" came back as \"%.*s\"",
				   texts[i], (int)len, out);
	}
	llm_runtime_close(&rt);
}

int main(void)
{
	const char *bin = check_model("stories260K.bin");
	const char *tok;

	llm_log_quiet = 1;
	if (!bin) {
		printf("FAIL test_reference: models/stories260K.bin is missing\n");
		return 1;
	}
	bin = strdup(bin);
	tok = strdup(check_model("tok512.bin"));
	gguf_path = strdup(check_model("stories260K.gguf"));
	ref = ref_open(bin, tok);
	if (!ref) {
		printf("FAIL test_reference: cannot open the reference model\n");
		return 1;
	}
	RUN(tokenizer_matches_reference);
	RUN(tokenizer_round_trip);
	RUN(published_text);
	RUN(greedy_matches_reference);
	RUN(greedy_matches_reference_fast_kernels);
	RUN(greedy_matches_reference_converted);
	RUN(sampled_matches_reference);
	RUN(same_seed_same_text);
	ref_close(ref);
	free((void *)bin);
	free((void *)tok);
	free((void *)gguf_path);
	return check_done();
}
