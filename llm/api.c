// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel API (llm/api.h): exported wrappers over the session code.
 * The caller waits in its own context while the session's worker
 * generates; text reaches it through a buffer or a callback, called from
 * the caller's context with no llm lock but the session's held.
 */
#include <linux/module.h>
#include <linux/err.h>

#include "api.h"
#include "module.h"

/**
 * llm_session_open - take a session slot
 *
 * Return: the session, or ERR_PTR(-EBUSY) when every slot is taken.
 */
struct llm_session *llm_session_open(void)
{
	struct llm_session *s = llm_session_claim(true);

	return s ? s : ERR_PTR(-EBUSY);
}
EXPORT_SYMBOL_GPL(llm_session_open);

/**
 * llm_session_close - give the slot back, stopping any request first
 * @s: a session from llm_session_open()
 */
void llm_session_close(struct llm_session *s)
{
	llm_session_release(s);
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
	ret = llm_session_check_params(params);
	if (ret)
		return ret;
	mutex_lock(&s->lock);
	s->params = *params;
	mutex_unlock(&s->lock);
	return 0;
}
EXPORT_SYMBOL_GPL(llm_session_set_params);

static int take_kernel_prompt(struct llm_session *s, const char *prompt,
			      size_t len)
{
	if (len > llm_max_prompt_bytes)
		return -E2BIG;
	if (!llm_utf8_valid(prompt, len))
		return -EINVAL;
	memcpy(s->prompt, prompt, len);
	s->prompt_len = len;
	return 0;
}

static int run(struct llm_session *s, const char *prompt, size_t len,
	       struct llm_sink *sink, u32 *stop_reason)
{
	int ret;

	mutex_lock(&s->lock);
	ret = llm_session_begin(s);
	if (!ret) {
		ret = take_kernel_prompt(s, prompt, len);
		if (ret)
			llm_request_refused();
	}
	if (!ret)
		ret = llm_session_submit(s);
	if (!ret)
		ret = llm_session_wait(s, sink);
	if (!ret && stop_reason)
		*stop_reason = s->req.stop_reason;
	mutex_unlock(&s->lock);
	return ret;
}

struct buf_sink {
	struct llm_sink sink;
	char *out;
};

static int buf_drain(struct llm_sink *sink, struct kfifo *fifo,
		     unsigned int len)
{
	struct buf_sink *b = container_of(sink, struct buf_sink, sink);

	return kfifo_out(fifo, b->out + sink->done, len) == len ? 0 : -EIO;
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
 * Return: 0, -ENODATA with no model loaded, -EBUSY while another request
 * of @s runs or a model is loading, -E2BIG or -EINVAL for a prompt that is
 * too long or not UTF-8, -ENOSPC when it does not fit the context.
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

static int cb_drain(struct llm_sink *sink, struct kfifo *fifo,
		    unsigned int len)
{
	struct cb_sink *c = container_of(sink, struct cb_sink, sink);
	char chunk[128];

	while (len) {
		unsigned int n = kfifo_out(fifo, chunk,
					   min_t(unsigned int, len, sizeof(chunk)));

		len -= n;
		if (c->cb(c->arg, chunk, n))
			return -ECANCELED;
	}
	return 0;
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
 * Return: 0, or -EBUSY while a request of @s runs.
 */
int llm_session_reset(struct llm_session *s)
{
	int ret;

	mutex_lock(&s->lock);
	ret = llm_session_clear(s);
	mutex_unlock(&s->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(llm_session_reset);
