// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel API (llm/api.h): exported wrappers over the session code.
 * The caller's own context runs the request (its CPU time is the
 * caller's); text reaches it through a buffer or a callback, called from
 * the caller's context with no llm lock but the session's held.  Only a
 * fatal signal stops a request early: these calls have no restart.
 */
#include <linux/module.h>
#include <linux/err.h>

#include "api.h"
#include "session.h"
#include "request.h"

/**
 * llm_session_open - take a session slot
 *
 * Slots kept for the in-kernel API (module parameter sessions_kernel) are
 * open to it alone, and no per-user limit applies.
 *
 * Return: the session, or ERR_PTR(-EBUSY) when every slot is taken,
 * ERR_PTR(-ENOMEM).
 */
struct llm_session *llm_session_open(void)
{
	return llm_session_create(true);
}
EXPORT_SYMBOL_GPL(llm_session_open);

/**
 * llm_session_close - give the slot back, stopping any request first
 * @s: a session from llm_session_open()
 */
void llm_session_close(struct llm_session *s)
{
	llm_session_destroy(s);
}
EXPORT_SYMBOL_GPL(llm_session_close);

/**
 * llm_session_set_params - sampling and length settings of @s
 * @s: the session
 * @params: as for LLM_IOC_SET_PARAMS; @params->size must be
 *	sizeof(struct llm_params)
 *
 * Return: 0, or -EINVAL for values out of range.
 */
int llm_session_set_params(struct llm_session *s,
			   const struct llm_params *params)
{
	int ret;

	if (params->size != sizeof(*params))
		return -EINVAL;
	ret = llm_params_check(params);
	if (ret)
		return ret;
	llm_session_params_set(s, params);
	return 0;
}
EXPORT_SYMBOL_GPL(llm_session_set_params);

static int run(struct llm_session *s, const char *prompt, size_t len,
	       struct llm_sink *sink, u32 *stop_reason)
{
	int ret;

	mutex_lock(&s->lock);
	ret = llm_req_submit(s, prompt, len, 0);
	if (!ret) {
		llm_req_run(s, sink, false);
		llm_req_finish(s);
		ret = s->req.result;
	}
	if (!ret && stop_reason)
		*stop_reason = s->req.r.stop_reason;
	mutex_unlock(&s->lock);
	return ret;
}

struct buf_sink {
	struct llm_sink sink;
	char *out;
};

static int buf_drain(struct llm_sink *sink, const char *text,
		     unsigned int len)
{
	struct buf_sink *b = container_of(sink, struct buf_sink, sink);

	memcpy(b->out + sink->done, text, len);
	return 0;
}

/**
 * llm_session_generate - complete @prompt into a buffer
 * @s: the session; its conversation continues from earlier requests
 * @prompt: UTF-8 text, not NUL-terminated
 * @prompt_len: bytes at @prompt (0 continues the conversation)
 * @out: where the completion goes (not NUL-terminated)
 * @cap: bytes at @out; generation stops when it is full
 * @out_len: bytes written to @out
 * @stop_reason: if not NULL, why generation ended (enum llm_stop_reason)
 *
 * Return: 0, -ENODATA with no model loaded, -EBUSY while a model is being
 * installed, -E2BIG or -EINVAL for a prompt that is too long or not UTF-8,
 * -ENOSPC when it does not fit the context, -ENODEV when the model was
 * unloaded while it ran (the text so far is in @out).
 */
int llm_session_generate(struct llm_session *s, const char *prompt,
			 size_t prompt_len, char *out, size_t cap,
			 size_t *out_len, u32 *stop_reason)
{
	struct buf_sink b = {
		.sink = { .drain = buf_drain, .cap = cap },
		.out = out,
	};
	int ret;

	*out_len = 0;
	if (!cap)
		return -EINVAL;
	ret = run(s, prompt, prompt_len, &b.sink, stop_reason);
	*out_len = b.sink.done;
	return ret;
}
EXPORT_SYMBOL_GPL(llm_session_generate);

struct cb_sink {
	struct llm_sink sink;
	int (*cb)(void *arg, const char *text, size_t len);
	void *arg;
};

static int cb_drain(struct llm_sink *sink, const char *text,
		    unsigned int len)
{
	struct cb_sink *c = container_of(sink, struct cb_sink, sink);

	return c->cb(c->arg, text, len) ? -ECANCELED : 0;
}

/**
 * llm_session_generate_cb - complete @prompt, text passed to @cb as it comes
 * @s: the session
 * @prompt: UTF-8 text, not NUL-terminated
 * @prompt_len: bytes at @prompt
 * @cb: called with each piece of text; return non-zero to stop
 * @arg: passed to @cb
 * @stop_reason: if not NULL, why generation ended (enum llm_stop_reason)
 *
 * Return: as llm_session_generate().
 */
int llm_session_generate_cb(struct llm_session *s, const char *prompt,
			    size_t prompt_len,
			    int (*cb)(void *arg, const char *text, size_t len),
			    void *arg, u32 *stop_reason)
{
	struct cb_sink c = {
		.sink = { .drain = cb_drain },
		.cb = cb,
		.arg = arg,
	};

	return run(s, prompt, prompt_len, &c.sink, stop_reason);
}
EXPORT_SYMBOL_GPL(llm_session_generate_cb);

/**
 * llm_session_reset - forget @s's conversation
 * @s: the session
 *
 * A request of @s running in another thread is cancelled first.
 *
 * Return: 0.
 */
int llm_session_reset(struct llm_session *s)
{
	llm_req_cancel(s, LLM_STOP_CANCELLED);
	mutex_lock(&s->lock);
	llm_session_forget(s);
	mutex_unlock(&s->lock);
	return 0;
}
EXPORT_SYMBOL_GPL(llm_session_reset);
