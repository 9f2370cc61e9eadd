// SPDX-License-Identifier: GPL-2.0
/*
 * The generation loop.  See generate.h.
 */
#include "generate.h"
#include "exec.h"

int llm_decode(struct llm_ctx *c, u32 token, bool logits,
	       bool (*cancelled)(void *arg), void *arg)
{
	return llm_exec_forward(c, &token, 1, logits, cancelled, arg);
}

/* One forward step of @r's tokens, wherever its owner runs steps. */
static int feed(struct llm_ctx *c, struct llm_request *r, const u32 *tokens,
		u32 n, bool logits)
{
	if (r->forward)
		return r->forward(r->arg, c, tokens, n, logits);
	return llm_exec_forward(c, tokens, n, logits, r->cancelled, r->arg);
}

/*
 * The check for stop strings.  Text reaches on_text() only once it cannot
 * be part of a stop string any more; the stop string itself is never shown.
 */
static bool is_prefix_of_stop(const struct llm_request *r, const char *s,
			      u32 n)
{
	u32 i;

	for (i = 0; i < LLM_STOP_MAX; i++) {
		u32 sl = strnlen(r->stop[i], LLM_STOP_LEN);

		if (sl && n <= sl && !memcmp(r->stop[i], s, n))
			return true;
	}
	return false;
}

/* Index of the first stop string in @s, or -1. */
static int find_stop(const struct llm_request *r, const char *s, u32 n)
{
	u32 i, at;

	for (at = 0; at < n; at++)
		for (i = 0; i < LLM_STOP_MAX; i++) {
			u32 sl = strnlen(r->stop[i], LLM_STOP_LEN);

			if (sl && sl <= n - at && !memcmp(r->stop[i], s + at, sl))
				return (int)at;
		}
	return -1;
}

static bool has_stops(const struct llm_request *r)
{
	u32 i;

	for (i = 0; i < LLM_STOP_MAX; i++)
		if (r->stop[i][0])
			return true;
	return false;
}

static int flush(struct llm_request *r, const char *s, u32 n)
{
	if (!n)
		return 0;
	return r->on_text ? r->on_text(r->arg, s, n) : 0;
}

/*
 * Pass @n bytes of new text through the hold-back buffer.  Returns 1 when a
 * stop string appeared, <0 when on_text() asked to stop, 0 otherwise.
 */
static int put_text(struct llm_request *r, struct llm_holdback *hb,
		    const char *s, u32 n)
{
	u32 keep;
	int at, ret;

	if (!has_stops(r))
		return flush(r, s, n) ? -ECANCELED : 0;
	while (n) {
		u32 take = min_t(u32, n, sizeof(hb->buf) - hb->len);

		memcpy(hb->buf + hb->len, s, take);
		hb->len += take;
		s += take;
		n -= take;
		at = find_stop(r, hb->buf, hb->len);
		if (at >= 0) {
			ret = flush(r, hb->buf, at);
			hb->len = 0;
			return ret ? -ECANCELED : 1;
		}
		/* keep the shortest tail that could still begin a stop */
		for (keep = 0; keep < hb->len; keep++)
			if (is_prefix_of_stop(r, hb->buf + keep,
					      hb->len - keep))
				break;
		if (flush(r, hb->buf, keep))
			return -ECANCELED;
		memmove(hb->buf, hb->buf + keep, hb->len - keep);
		hb->len -= keep;
	}
	return 0;
}

static bool over_time(const struct llm_request *r)
{
	return r->deadline_ns && llm_now_ns() > r->deadline_ns;
}

/* Tokenize the prompt after whatever is already in context. */
static int prefill_tokens(struct llm_ctx *c, struct llm_request *r, u32 *n)
{
	const struct llm_vocab *v = &c->m->vocab;
	u32 room = c->n_ctx - c->n_past, cap, lead = 0;
	bool bos = c->n_past == 0 && v->add_bos;
	int ret;

	if (r->prompt_len > c->max_prompt_bytes)
		return -E2BIG;
	/* a token shown last time but never fed goes in first */
	if (c->pending != LLM_TOKEN_NONE) {
		if (!room)
			return -ENOSPC;
		c->tokens[c->n_past] = c->pending;
		lead = 1;
	}
	/* a chat prompt that starts with BOS's text has its BOS already */
	if (bos && r->special && v->bos != LLM_TOKEN_NONE &&
	    r->prompt_len >= v->tok[v->bos].len && v->tok[v->bos].len &&
	    !memcmp(r->prompt, v->tok[v->bos].text, v->tok[v->bos].len))
		bos = false;
	cap = min_t(u64, room - lead, (u64)r->max_prompt_tokens + bos);
	ret = llm_tokenize_ex(v, r->prompt, r->prompt_len,
			      (bos ? LLM_TOKENIZE_BOS : 0) |
			      (r->special ? LLM_TOKENIZE_SPECIAL : 0),
			      c->tokens + c->n_past + lead, cap, c->tok_scratch,
			      c->tok_scratch_bytes);
	if (ret == -E2BIG)
		return cap == room - lead ? -ENOSPC : -E2BIG;
	if (ret < 0)
		return ret;
	r->n_prompt = ret;
	*n = lead + ret;
	return 0;
}

int llm_gen_begin(struct llm_gen *g, struct llm_ctx *c, struct llm_request *r)
{
	u32 n;
	int ret;

	memset(g, 0, sizeof(*g));
	g->c = c;
	g->r = r;
	g->phase = LLM_GEN_DONE;
	r->n_prompt = 0;
	r->n_gen = 0;
	r->stop_reason = LLM_STOP_NONE;
	r->error = 0;
	r->prefill_ns = 0;
	r->decode_ns = 0;

	ret = prefill_tokens(c, r, &n);
	if (ret)
		return ret;
	if (!n && !c->n_past)
		return -EINVAL;
	c->pending = LLM_TOKEN_NONE;
	g->prefill_left = n;
	g->rng = r->seed ? r->seed : llm_random_u64();
	g->phase = LLM_GEN_PREFILL;
	return 0;
}

void llm_gen_end(struct llm_gen *g, u32 reason)
{
	struct llm_request *r = g->r;

	if (g->phase == LLM_GEN_DONE)
		return;
	g->phase = LLM_GEN_DONE;
	r->stop_reason = reason;
	if (reason != LLM_STOP_STRING && g->hb.len)
		flush(r, g->hb.buf, g->hb.len);
	g->hb.len = 0;
}

/* Why a step stopped part way: the deadline, or a cancel. */
static u32 interrupted(const struct llm_request *r)
{
	return over_time(r) ? LLM_STOP_TIMEOUT : LLM_STOP_CANCELLED;
}

/*
 * Why forward() failed: the context is full, the request was stopped, or
 * (the ring) the step itself failed.
 */
static void failed(struct llm_gen *g, int ret)
{
	struct llm_request *r = g->r;

	if (ret == -ENOSPC) {
		llm_gen_end(g, LLM_STOP_CONTEXT);
	} else if (ret == -EINTR) {
		llm_gen_end(g, interrupted(r));
	} else {
		r->error = ret;
		llm_gen_end(g, LLM_STOP_ERROR);
	}
}

/* One batch of prompt tokens; the logits only after the last. */
static int prefill_step(struct llm_gen *g)
{
	struct llm_ctx *c = g->c;
	struct llm_request *r = g->r;
	u32 n = min(g->prefill_left, c->ex->n_batch);

	if (n) {
		int ret = feed(c, r, c->tokens + c->n_past, n,
			       n == g->prefill_left);

		if (ret) {
			/* -ENOSPC: the KV pool is out of pages */
			failed(g, ret);
			return 1;
		}
		g->prefill_left -= n;
	}
	if (!g->prefill_left) {
		/* an empty prompt goes on from the last token in context */
		g->prev = c->tokens[c->n_past - 1];
		g->phase = LLM_GEN_DECODE;
	}
	return 0;
}

/* Sample one token, show it, and feed it back unless that was the last. */
static int decode_step(struct llm_gen *g)
{
	struct llm_ctx *c = g->c;
	struct llm_request *r = g->r;
	const struct llm_vocab *v = &c->m->vocab;
	u32 tok, n;
	int ret;

	if (r->n_gen >= r->max_tokens) {
		llm_gen_end(g, LLM_STOP_MAX_TOKENS);
		return 1;
	}
	tok = r->sample ? r->sample(r->arg, c, &r->sampling, &g->rng) :
		llm_sample(c, &r->sampling, &g->rng);
	/* a BOS mid-text starts a new document in the training data */
	if (tok == v->eos || tok == v->bos || tok == v->eot ||
	    (r->end_turn && tok == r->end_turn - 1)) {
		llm_gen_end(g, LLM_STOP_EOS);
		return 1;
	}
	r->n_gen++;
	if (r->on_token)
		r->on_token(r->arg, tok);
	n = llm_token_to_text(v, g->prev, tok, c->piece, v->max_len + 8);
	ret = put_text(r, &g->hb, c->piece, n);
	g->prev = tok;
	c->pending = tok;
	if (ret) {
		llm_gen_end(g, ret > 0 ? LLM_STOP_STRING : LLM_STOP_CANCELLED);
		return 1;
	}
	if (r->n_gen == r->max_tokens) {
		llm_gen_end(g, LLM_STOP_MAX_TOKENS);
		return 1;
	}
	if (c->n_past >= c->n_ctx) {
		llm_gen_end(g, LLM_STOP_CONTEXT);
		return 1;
	}
	ret = feed(c, r, &tok, 1, true);
	if (ret) {
		failed(g, ret);
		return 1;
	}
	c->pending = LLM_TOKEN_NONE;
	return 0;
}

int llm_gen_step(struct llm_gen *g)
{
	struct llm_request *r = g->r;
	u64 t0 = llm_now_ns();
	bool prefill = g->phase == LLM_GEN_PREFILL;
	int ret;

	if (g->phase == LLM_GEN_DONE)
		return 1;
	if (over_time(r)) {
		llm_gen_end(g, LLM_STOP_TIMEOUT);
		return 1;
	}
	if (r->cancelled && r->cancelled(r->arg)) {
		llm_gen_end(g, LLM_STOP_CANCELLED);
		return 1;
	}
	ret = prefill ? prefill_step(g) : decode_step(g);
	if (prefill)
		r->prefill_ns += llm_now_ns() - t0;
	else
		r->decode_ns += llm_now_ns() - t0;
	return ret;
}

int llm_generate(struct llm_ctx *c, struct llm_request *r)
{
	struct llm_gen g;
	int ret;

	ret = llm_gen_begin(&g, c, r);
	if (ret)
		return ret;
	while (!llm_gen_step(&g))
		;
	return 0;
}
