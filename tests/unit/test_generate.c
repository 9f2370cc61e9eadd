// SPDX-License-Identifier: GPL-2.0
/*
 * The resumable generation API (llm_gen_begin/step/end), which the kernel
 * drives one step at a time from whoever waits for a request: stepped in
 * any interleaving with other requests it gives exactly what
 * llm_generate() gives in one call; a conversation goes on across
 * requests; ending it from outside keeps the text so far, passes held-back
 * text on (but a stop string's), and leaves the context usable.
 */
#include <stdlib.h>

#include "check.h"
#include "userctl/runtime.h"

struct out {
	char text[16384];
	u32 len;
	u32 tok[2048];
	u32 n;
};

static int on_text(void *arg, const char *s, u32 n)
{
	struct out *o = arg;

	if (o->len + n < sizeof(o->text)) {
		memcpy(o->text + o->len, s, n);
		o->len += n;
	}
	return 0;
}

static void on_token(void *arg, u32 t)
{
	struct out *o = arg;

	if (o->n < 2048)
		o->tok[o->n++] = t;
}

static void request(struct llm_request *r, const char *prompt, u32 temp,
		    u64 seed, u32 max, struct out *o)
{
	memset(r, 0, sizeof(*r));
	memset(o, 0, sizeof(*o));
	r->prompt = prompt;
	r->prompt_len = strlen(prompt);
	r->max_tokens = max;
	r->max_prompt_tokens = 1000;
	r->sampling.temp_milli = temp;
	r->sampling.top_p_milli = 950;
	r->seed = seed;
	r->on_text = on_text;
	r->on_token = on_token;
	r->arg = o;
}

static int open_rt(struct llm_runtime *rt)
{
	const char *path = check_model("stories260K.gguf");
	char err[256];

	return path ? llm_runtime_open(rt, path, 512, 256, false, err,
				       sizeof(err)) : -ENOENT;
}

static bool same(const struct out *a, const struct out *b)
{
	return a->len == b->len && !memcmp(a->text, b->text, a->len) &&
	       a->n == b->n && !memcmp(a->tok, b->tok, a->n * sizeof(u32));
}

/* Three requests on three contexts, stepped in turn, one step each. */
static void interleaved_equals_alone(void)
{
	static const char *const prompts[] = {
		"Once upon a time", "Tom had a red ball", "",
	};
	static struct out alone[3], mixed[3];
	struct llm_runtime rt[3];
	struct llm_request r[3];
	struct llm_gen g[3];
	int i, live = 3;

	for (i = 0; i < 3; i++)
		CHECK_EQ(open_rt(&rt[i]), 0);
	for (i = 0; i < 3; i++) {
		request(&r[i], prompts[i], 800, 100 + i, 200, &alone[i]);
		CHECK_EQ(llm_generate(&rt[i].ctx, &r[i]), 0);
		llm_ctx_reset(&rt[i].ctx);
	}
	for (i = 0; i < 3; i++) {
		request(&r[i], prompts[i], 800, 100 + i, 200, &mixed[i]);
		CHECK_EQ(llm_gen_begin(&g[i], &rt[i].ctx, &r[i]), 0);
	}
	while (live)
		for (i = 0, live = 0; i < 3; i++)
			live += !llm_gen_step(&g[i]);
	for (i = 0; i < 3; i++) {
		CHECK(same(&alone[i], &mixed[i]));
		CHECK(alone[i].n > 10);
		llm_runtime_close(&rt[i]);
	}
}

/* A second request goes on from the first: no BOS, the last token fed. */
static void conversation_goes_on(void)
{
	struct llm_runtime rt;
	struct llm_request r;
	struct out o;
	u32 used;

	CHECK_EQ(open_rt(&rt), 0);
	request(&r, "Once upon a time", 0, 0, 20, &o);
	CHECK_EQ(llm_generate(&rt.ctx, &r), 0);
	CHECK_EQ(r.stop_reason, LLM_STOP_MAX_TOKENS);
	CHECK_EQ(r.n_prompt, 5);
	used = rt.ctx.n_past;
	request(&r, "Once upon a time", 0, 0, 20, &o);
	CHECK_EQ(llm_generate(&rt.ctx, &r), 0);
	CHECK_EQ(r.n_prompt, 4);	/* no BOS mid-conversation */
	/* the pending last token, the 4 prompt tokens, 19 fed back */
	CHECK_EQ(rt.ctx.n_past, used + 1 + 4 + 19);
	llm_runtime_close(&rt);
}

/* Ended from outside part way: the text so far, and a usable context. */
static void ended_from_outside(void)
{
	static struct out full, cut;
	struct llm_runtime rt;
	struct llm_request r;
	struct llm_gen g;
	int i;

	CHECK_EQ(open_rt(&rt), 0);
	request(&r, "Once upon a time", 0, 0, 50, &full);
	CHECK_EQ(llm_generate(&rt.ctx, &r), 0);
	llm_ctx_reset(&rt.ctx);

	request(&r, "Once upon a time", 0, 0, 50, &cut);
	CHECK_EQ(llm_gen_begin(&g, &rt.ctx, &r), 0);
	for (i = 0; i < 15; i++)
		CHECK_EQ(llm_gen_step(&g), 0);
	llm_gen_end(&g, LLM_STOP_CANCELLED);
	CHECK_EQ(r.stop_reason, LLM_STOP_CANCELLED);
	CHECK_EQ(llm_gen_step(&g), 1);	/* ended stays ended */
	CHECK(cut.n > 0 && cut.n < full.n);
	CHECK(!memcmp(cut.text, full.text, cut.len));
	CHECK(!memcmp(cut.tok, full.tok, cut.n * sizeof(u32)));

	/* the conversation goes on from where it was cut */
	request(&r, " and", 0, 0, 5, &cut);
	CHECK_EQ(llm_generate(&rt.ctx, &r), 0);
	CHECK_EQ(r.n_gen, 5);
	llm_runtime_close(&rt);
}

/* Held-back text reaches on_text() at an outside end, unlike a stop's. */
static void holdback_at_end(void)
{
	static struct out a;
	struct llm_runtime rt;
	struct llm_request r;
	struct llm_gen g;

	CHECK_EQ(open_rt(&rt), 0);
	request(&r, "Once upon a time", 0, 0, 50, &a);
	/* ", there was" is what comes: ", the" stays held back meanwhile */
	strcpy(r.stop[0], ", thereX");
	CHECK_EQ(llm_gen_begin(&g, &rt.ctx, &r), 0);
	while (!a.n)
		CHECK_EQ(llm_gen_step(&g), 0);
	CHECK_EQ(a.len, 0);		/* "," may start the stop string */
	llm_gen_end(&g, LLM_STOP_CANCELLED);
	CHECK_EQ(a.len, 1);
	CHECK_EQ(a.text[0], ',');
	llm_runtime_close(&rt);
}

/*
 * A reply ends at the vocabulary's end-of-turn token (tokenizer.ggml.
 * eot_token_id) and at a chat turn's (end_turn), as at EOS: the tokens
 * before it are the greedy run's, the token itself is not shown.
 */
static void stops_at_end_of_turn(void)
{
	struct llm_runtime rt;
	struct llm_request r;
	struct out full, cut;
	u32 at, eot;

	CHECK_EQ(open_rt(&rt), 0);
	request(&r, "Once upon a time", 0, 1, 40, &full);
	CHECK_EQ(llm_generate(&rt.ctx, &r), 0);
	CHECK_EQ(full.n, 40);
	/* the first token of the run that none before it equals */
	for (at = 6; at < full.n; at++) {
		u32 j;

		for (j = 0; j < at && full.tok[j] != full.tok[at]; j++)
			;
		if (j == at)
			break;
	}
	CHECK(at < full.n);

	llm_ctx_reset(&rt.ctx);
	request(&r, "Once upon a time", 0, 1, 40, &cut);
	r.end_turn = full.tok[at] + 1;
	CHECK_EQ(llm_generate(&rt.ctx, &r), 0);
	CHECK_EQ(r.stop_reason, LLM_STOP_EOS);
	CHECK_EQ(cut.n, at);
	CHECK(!memcmp(cut.tok, full.tok, at * sizeof(u32)));

	llm_ctx_reset(&rt.ctx);
	eot = rt.model.vocab.eot;
	rt.model.vocab.eot = full.tok[at];
	request(&r, "Once upon a time", 0, 1, 40, &cut);
	CHECK_EQ(llm_generate(&rt.ctx, &r), 0);
	CHECK_EQ(r.stop_reason, LLM_STOP_EOS);
	CHECK_EQ(cut.n, at);
	rt.model.vocab.eot = eot;
	llm_runtime_close(&rt);
}

int main(void)
{
	llm_log_quiet = 1;
	RUN(interleaved_equals_alone);
	RUN(conversation_goes_on);
	RUN(ended_from_outside);
	RUN(holdback_at_end);
	RUN(stops_at_end_of_turn);
	return check_done();
}
