// SPDX-License-Identifier: GPL-2.0
/*
 * The generation loop.  See generate.h.
 */
#include "generate.h"

int llm_decode(struct llm_ctx *c, u32 token, bool logits,
	       bool (*cancelled)(void *arg), void *arg)
{
	u32 pos = c->n_past, l;

	if (pos >= c->n_ctx)
		return -ENOSPC;
	llm_fpu_begin();
	llm_forward_embed(c, token);
	llm_fpu_end();
	for (l = 0; l < c->m->cfg.n_layers; l++) {
		llm_yield();
		if (cancelled && cancelled(arg))
			return -EINTR;
		llm_fpu_begin();
		llm_forward_layer(c, l, pos);
		llm_fpu_end();
	}
	if (logits) {
		llm_yield();
		llm_fpu_begin();
		llm_forward_logits(c);
		llm_fpu_end();
	}
	c->tokens[pos] = token;
	c->n_past = pos + 1;
	return 0;
}

/*
 * Text held back because it may be the start of a stop string, and the
 * check for one.  Text reaches on_text() only once it cannot be part of a
 * stop string any more; the stop string itself is never shown.
 */
struct holdback {
	char buf[2 * LLM_STOP_STRLEN];
	u32 len;
};

static bool is_prefix_of_stop(const struct llm_request *r, const char *s,
			      u32 n)
{
	u32 i;

	for (i = 0; i < LLM_STOP_STRINGS; i++) {
		u32 sl = strnlen(r->stop[i], LLM_STOP_STRLEN);

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
		for (i = 0; i < LLM_STOP_STRINGS; i++) {
			u32 sl = strnlen(r->stop[i], LLM_STOP_STRLEN);

			if (sl && sl <= n - at && !memcmp(r->stop[i], s + at, sl))
				return (int)at;
		}
	return -1;
}

static bool has_stops(const struct llm_request *r)
{
	u32 i;

	for (i = 0; i < LLM_STOP_STRINGS; i++)
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
static int put_text(struct llm_request *r, struct holdback *hb,
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
	cap = min_t(u64, room - lead, (u64)r->max_prompt_tokens + bos);
	ret = llm_tokenize(v, r->prompt, r->prompt_len, bos,
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

static int prefill(struct llm_ctx *c, struct llm_request *r)
{
	u32 n, i;
	int ret;

	ret = prefill_tokens(c, r, &n);
	if (ret)
		return ret;
	if (!n)
		return c->n_past ? 0 : -EINVAL;
	c->pending = LLM_TOKEN_NONE;
	for (i = 0; i < n; i++) {
		u32 tok = c->tokens[c->n_past];

		ret = llm_decode(c, tok, i == n - 1, r->cancelled, r->arg);
		if (ret)
			return ret;
	}
	return 0;
}

int llm_generate(struct llm_ctx *c, struct llm_request *r)
{
	const struct llm_vocab *v = &c->m->vocab;
	struct holdback hb = { .len = 0 };
	u64 t0 = llm_now_ns(), t1, rng = r->seed ? r->seed : llm_random_u64();
	u32 prev, tok;
	int ret;

	r->n_prompt = 0;
	r->n_gen = 0;
	r->stop_reason = LLM_END_NONE;
	r->prefill_ns = 0;
	r->decode_ns = 0;

	ret = prefill(c, r);
	t1 = llm_now_ns();
	r->prefill_ns = t1 - t0;
	if (ret == -EINTR) {
		r->stop_reason = LLM_END_CANCELLED;
		return 0;
	}
	if (ret)
		return ret;

	prev = c->tokens[c->n_past - 1];
	while (r->n_gen < r->max_tokens) {
		u32 n;

		if (r->cancelled && r->cancelled(r->arg)) {
			r->stop_reason = LLM_END_CANCELLED;
			break;
		}
		if (over_time(r)) {
			r->stop_reason = LLM_END_TIMEOUT;
			break;
		}
		llm_fpu_begin();
		tok = llm_sample(c, &r->sampling, &rng);
		llm_fpu_end();
		/* a BOS mid-text starts a new document in the training data */
		if (tok == v->eos || tok == v->bos) {
			r->stop_reason = LLM_END_EOS;
			break;
		}
		r->n_gen++;
		if (r->on_token)
			r->on_token(r->arg, tok);
		n = llm_token_to_text(v, prev, tok, c->piece, v->max_len + 8);
		ret = put_text(r, &hb, c->piece, n);
		prev = tok;
		c->pending = tok;
		if (ret) {
			r->stop_reason = ret > 0 ? LLM_END_STRING :
				LLM_END_CANCELLED;
			break;
		}
		if (r->n_gen == r->max_tokens) {
			r->stop_reason = LLM_END_MAX_TOKENS;
			break;
		}
		if (c->n_past >= c->n_ctx) {
			r->stop_reason = LLM_END_CONTEXT;
			break;
		}
		ret = llm_decode(c, tok, true, r->cancelled, r->arg);
		if (ret) {
			r->stop_reason = ret == -EINTR ? LLM_END_CANCELLED :
				LLM_END_CONTEXT;
			break;
		}
		c->pending = LLM_TOKEN_NONE;
	}
	if (r->stop_reason == LLM_END_NONE)
		r->stop_reason = LLM_END_MAX_TOKENS;
	if (r->stop_reason != LLM_END_STRING && hb.len)
		flush(r, hb.buf, hb.len);
	r->decode_ns = llm_now_ns() - t1;
	return 0;
}
