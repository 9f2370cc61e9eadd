// SPDX-License-Identifier: GPL-2.0
/*
 * Requests: the intake of prompts, stepping, the output path, and the
 * ways a caller takes the output (see request.h).
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/sched/signal.h>
#include <linux/workqueue.h>

#include "../netfilter/node.h"
#include "request.h"
#include "session.h"
#include "kmodel.h"
#include "ring.h"
#include "params.h"
#include "core/chat.h"

/* The core speaks the UAPI's stop reasons and limits. */
static_assert(LLM_STOP_CANCELLED == 5 && LLM_STOP_BUFFER == 7);
static_assert(sizeof(((struct llm_request *)0)->stop) ==
	      sizeof(((struct llm_params *)0)->stop));

static struct workqueue_struct *llm_wq;

static struct {
	atomic64_t requests;
	atomic64_t errors;
	atomic64_t tokens_prompt;
	atomic64_t tokens_generated;
	atomic64_t prefill_milli;
	atomic64_t decode_milli;
	atomic_t running;
	atomic_t stepping;
	atomic_t stepping_peak;
} counters;

int llm_requests_init(void)
{
	/*
	 * Unbound: a background step is long CPU work, best placed by the
	 * scheduler; it runs only for O_NONBLOCK readers and mmap rings.
	 */
	llm_wq = alloc_workqueue("llm", WQ_UNBOUND, 0);
	return llm_wq ? 0 : -ENOMEM;
}

void llm_requests_exit(void)
{
	destroy_workqueue(llm_wq);
}

void llm_counters_read(struct llm_counters *c)
{
	c->requests = atomic64_read(&counters.requests);
	c->errors = atomic64_read(&counters.errors);
	c->tokens_prompt = atomic64_read(&counters.tokens_prompt);
	c->tokens_generated = atomic64_read(&counters.tokens_generated);
	c->prefill_milli = atomic64_read(&counters.prefill_milli);
	c->decode_milli = atomic64_read(&counters.decode_milli);
	c->running = atomic_read(&counters.running);
	c->stepping = atomic_read(&counters.stepping);
	c->stepping_peak = atomic_read(&counters.stepping_peak);
}

void llm_req_count_refused(void)
{
	atomic64_inc(&counters.requests);
	atomic64_inc(&counters.errors);
}

int llm_req_state(struct llm_session *s)
{
	/* pairs with the release in set_state(): results are in */
	return smp_load_acquire(&s->req.state);
}

static void set_state(struct llm_session *s, int state)
{
	/* pairs with the acquire in llm_req_state(): results are in */
	smp_store_release(&s->req.state, state);
}

/* --- the output path ---------------------------------------------------- */

static int on_text(void *arg, const char *text, u32 len)
{
	struct llm_session *s = arg;
	unsigned int n;

	if (llm_session_ring(s))
		return llm_ring_out_text(s, text, len);
	n = kfifo_in_spinlocked(&s->out, text, len, &s->out_lock);
	/* a step only runs with LLM_STEP_OUT_MAX bytes of room */
	WARN_ON_ONCE(n != len);
	return 0;
}

static void on_token(void *arg, u32 tok)
{
	struct llm_session *s = arg;
	struct llm_req *q = &s->req;

	if (q->n_toks < llm_max_new_tokens)
		s->toks[q->n_toks++] = tok;
	if (llm_session_ring(s))
		llm_ring_out_token(s, tok);
}

static bool cancelled(void *arg);

/*
 * Steps go through the model's batcher, alone or with other sessions';
 * or, on the head of a network ring, round the ring (netfilter/).
 */
static int forward(void *arg, struct llm_ctx *c, const u32 *tokens, u32 n,
		   bool logits)
{
	struct llm_session *s = arg;
	struct llm_req *q = &s->req;

	/* the layers were split otherwise when the request began */
	if (q->net_gen != llm_node_generation())
		return -ENETRESET;
	if (llm_node_role()) {
		const struct llm_sampling *sp = &q->r.sampling;
		u32 sampling[3] = { sp->temp_milli, sp->top_k, sp->top_p_milli };

		q->net_rng = q->gen.rng;
		return llm_node_forward(s->slot, s->km, c, tokens, n, logits,
					sampling, &q->net_rng, &q->net_token,
					cancelled, s);
	}
	if (!llm_model_whole(&s->km->model))
		return -ENETDOWN;	/* the ring went down */
	return llm_batcher_forward(&s->km->batcher, c, tokens, n, logits,
				   cancelled, s);
}

/* The token a ring step brought back (forward() ran the ring). */
static u32 sample(void *arg, struct llm_ctx *c, const struct llm_sampling *sp,
		  u64 *rng)
{
	struct llm_session *s = arg;

	if (!llm_node_role())
		return llm_sample(c, sp, rng);
	*rng = s->req.net_rng;
	return s->req.net_token;
}

static bool cancelled(void *arg)
{
	struct llm_session *s = arg;

	/*
	 * Asked to stop, the model going away, or the caller stepping in
	 * its own context being killed.
	 */
	return atomic_read(&s->req.cancel) || llm_kmodel_dead(s->km) ||
	       fatal_signal_pending(current);
}

/* --- intake ------------------------------------------------------------- */

bool llm_utf8_valid(const char *str, size_t len)
{
	const u8 *s = (const u8 *)str;
	size_t i = 0;

	while (i < len) {
		u8 c = s[i];
		u32 cp, n, k, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* overlong forms, surrogates and beyond U+10FFFF */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* From a user address (@usrc, with LLM_IN_USER) or kernel memory. */
static int take_prompt(struct llm_session *s, const void *ksrc,
		       const char __user *usrc, size_t len, unsigned int how)
{
	bool line = how & LLM_IN_LINE;

	if (len > (size_t)llm_max_prompt_bytes + line)
		return -E2BIG;
	if (how & LLM_IN_USER) {
		if (copy_from_user(s->prompt, usrc, len))
			return -EFAULT;
	} else {
		memcpy(s->prompt, ksrc, len);
	}
	if (line && len && s->prompt[len - 1] == '\n')
		len--;
	if (len > llm_max_prompt_bytes)
		return -E2BIG;
	if (!llm_utf8_valid(s->prompt, len))
		return -EINVAL;
	return len;
}

/* Bind the session to the current model; a new one means a fresh context. */
static int bind_model(struct llm_session *s)
{
	struct llm_kmodel *km;
	int err;

	km = llm_kmodel_get(&err);
	if (!km)
		return err;
	if (km == s->km) {
		llm_kmodel_put(km);
		return 0;
	}
	llm_kmodel_put(s->km);
	s->km = km;
	s->ctx_stale = true;
	return 0;
}

static void fill_request(struct llm_session *s, u32 prompt_len)
{
	struct llm_request *r = &s->req.r;
	struct llm_params p;

	llm_session_params_get(s, &p);
	memset(r, 0, sizeof(*r));
	r->prompt = s->prompt;
	r->prompt_len = prompt_len;
	r->max_tokens = min(p.max_tokens, llm_max_new_tokens);
	r->max_prompt_tokens = READ_ONCE(llm_max_prompt_tokens);
	r->sampling.temp_milli = p.temperature_milli;
	r->sampling.top_k = p.top_k;
	r->sampling.top_p_milli = p.top_p_milli;
	r->seed = p.seed;
	memcpy(r->stop, p.stop, sizeof(r->stop));
	r->on_text = on_text;
	r->on_token = on_token;
	r->cancelled = cancelled;
	r->forward = forward;
	r->sample = sample;
	r->arg = s;
}

static size_t out_len(struct llm_session *s);

/* A request filled in: its output empty, READY to run.  Under step_lock. */
static void ready(struct llm_session *s)
{
	struct llm_req *q = &s->req;

	atomic_set(&q->cancel, 0);
	q->result = 0;
	q->n_toks = 0;
	spin_lock(&s->out_lock);
	kfifo_reset(&s->out);
	spin_unlock(&s->out_lock);
	set_state(s, LLM_REQ_READY);
}

static int submit(struct llm_session *s, const void *ksrc,
		  const char __user *usrc, size_t len, unsigned int how)
{
	int state = llm_req_state(s);
	int ret;

	/* ended and all its text read, but not the end of file: fine */
	if (state == LLM_REQ_DONE && !out_len(s))
		llm_req_finish(s);
	else if (state != LLM_REQ_NONE)
		return -EBUSY;
	ret = take_prompt(s, ksrc, usrc, len, how);
	if (ret < 0)
		goto refused;
	if (!(how & LLM_IN_STEPPING))
		mutex_lock(&s->step_lock);
	len = ret;
	ret = bind_model(s);
	if (ret) {
		if (!(how & LLM_IN_STEPPING))
			mutex_unlock(&s->step_lock);
		goto refused;
	}
	if (how & LLM_IN_RESET)
		s->ctx_stale = true;
	fill_request(s, len);
	s->chat_reply = false;
	ready(s);
	if (!(how & LLM_IN_STEPPING))
		mutex_unlock(&s->step_lock);
	return 0;

refused:
	llm_req_count_refused();
	return ret;
}

/*
 * A chat turn's place in the conversation: from the start when the
 * context will be empty, else after it, closing the reply it ends in.
 */
static unsigned int chat_flags(struct llm_session *s)
{
	const struct llm_ctx *c = &s->km->ctx[s->slot];

	if (s->ctx_stale || s->net_gen != llm_node_generation() ||
	    (!c->n_past && c->pending == LLM_TOKEN_NONE))
		return LLM_CHAT_R_GEN;
	return LLM_CHAT_R_GEN | LLM_CHAT_R_CONT |
	       (s->chat_reply ? LLM_CHAT_R_AFTER_REPLY : 0);
}

int llm_req_submit_chat(struct llm_session *s,
			const struct llm_chat_message *msgs, u32 n,
			unsigned int how, u32 *family, u32 *len)
{
	struct llm_chat_tmpl t;
	int state = llm_req_state(s);
	char err[160];
	int ret;

	*family = LLM_CHAT_TEMPLATE_NONE;
	*len = 0;
	if (state == LLM_REQ_DONE && !out_len(s))
		llm_req_finish(s);
	else if (state != LLM_REQ_NONE)
		return -EBUSY;
	mutex_lock(&s->step_lock);
	ret = bind_model(s);
	if (ret)
		goto unlock;
	if (how & LLM_IN_RESET)
		s->ctx_stale = true;
	if (!llm_kmodel_use(s->km)) {
		ret = -ENODEV;
		goto unlock;
	}
	ret = llm_chat_init(&t, &s->km->model.gguf, &s->km->model.vocab);
	*family = t.family;
	if (!ret)
		ret = llm_chat_render(&t, msgs, n, chat_flags(s), s->prompt,
				      llm_max_prompt_bytes, len, err,
				      sizeof(err));
	llm_kmodel_unuse(s->km);
	if (ret == -ENOSPC)
		ret = -E2BIG;
	if (ret)
		goto unlock;
	fill_request(s, *len);
	s->req.r.special = true;
	if (t.eot != LLM_TOKEN_NONE)
		s->req.r.end_turn = t.eot + 1;
	s->chat_reply = true;
	ready(s);
	mutex_unlock(&s->step_lock);
	return 0;

unlock:
	mutex_unlock(&s->step_lock);
	llm_req_count_refused();
	return ret;
}

int llm_req_submit(struct llm_session *s, const void *src, size_t len,
		   unsigned int how)
{
	return submit(s, src, NULL, len, how);
}

int llm_req_submit_user(struct llm_session *s, const char __user *src,
			size_t len, unsigned int how)
{
	return submit(s, NULL, src, len, how | LLM_IN_USER);
}

void llm_req_withdraw(struct llm_session *s)
{
	mutex_lock(&s->step_lock);
	if (llm_req_state(s) == LLM_REQ_READY) {
		set_state(s, LLM_REQ_NONE);
		llm_req_count_refused();
	}
	mutex_unlock(&s->step_lock);
}

void llm_req_cancel(struct llm_session *s, u32 reason)
{
	atomic_cmpxchg(&s->req.cancel, 0, reason);
	wake_up_interruptible_all(&s->wait);
}

/* --- stepping ----------------------------------------------------------- */

static void account(struct llm_session *s)
{
	struct llm_request *r = &s->req.r;

	atomic64_inc(&counters.requests);
	if (s->req.result) {
		atomic64_inc(&counters.errors);
		return;
	}
	atomic64_add(r->n_prompt, &counters.tokens_prompt);
	atomic64_add(r->n_gen, &counters.tokens_generated);
	if (r->prefill_ns)
		atomic64_set(&counters.prefill_milli,
			     div64_u64((u64)r->n_prompt * 1000000000000ull,
				       r->prefill_ns));
	if (r->decode_ns)
		atomic64_set(&counters.decode_milli,
			     div64_u64((u64)r->n_gen * 1000000000000ull,
				       r->decode_ns));
	spin_lock(&s->info_lock);
	s->stats.prompt_tokens = r->n_prompt;
	s->stats.generated_tokens = r->n_gen;
	s->stats.stop_reason = r->stop_reason;
	s->stats.prefill_ns = r->prefill_ns;
	s->stats.decode_ns = r->decode_ns;
	spin_unlock(&s->info_lock);
}

static void end(struct llm_session *s, int result, bool was_running)
{
	struct llm_req *q = &s->req;
	u32 asked = atomic_read(&q->cancel);

	/* the model went away under it: that, not "cancelled", is the news */
	if (!result && llm_kmodel_dead(s->km) &&
	    q->r.stop_reason == LLM_STOP_CANCELLED)
		result = -ENODEV;
	if (!result && asked && q->r.stop_reason == LLM_STOP_CANCELLED)
		q->r.stop_reason = asked;
	q->result = result;
	if (was_running)
		atomic_dec(&counters.running);
	account(s);
	if (llm_session_ring(s))
		llm_ring_out_end(s);
	set_state(s, LLM_REQ_DONE);
	wake_up_interruptible_all(&s->wait);
}

static size_t out_len(struct llm_session *s)
{
	size_t n;

	spin_lock(&s->out_lock);
	n = kfifo_len(&s->out);
	spin_unlock(&s->out_lock);
	return n;
}

bool llm_req_has_output(struct llm_session *s)
{
	return out_len(s);
}

bool llm_req_can_step(struct llm_session *s)
{
	int state = llm_req_state(s);

	if (state != LLM_REQ_READY && state != LLM_REQ_RUNNING)
		return false;
	/* a ring posts a step's entries before it takes another step */
	if (llm_session_ring(s))
		return !out_len(s);
	return kfifo_size(&s->out) - out_len(s) >= LLM_STEP_OUT_MAX;
}

static void publish_ctx(struct llm_session *s, const struct llm_ctx *c)
{
	spin_lock(&s->info_lock);
	s->stats.ctx_model = s->km;
	s->stats.ctx_used = c->n_past;
	spin_unlock(&s->info_lock);
}

static void count_stepping(void)
{
	int now = atomic_inc_return(&counters.stepping);
	int peak = atomic_read(&counters.stepping_peak);

	while (now > peak) {
		int was = atomic_cmpxchg(&counters.stepping_peak, peak, now);

		if (was == peak)
			break;
		peak = was;
	}
}

/* The first step: a fresh context if need be, the prompt into tokens. */
static int begin(struct llm_session *s, struct llm_ctx *c)
{
	struct llm_req *q = &s->req;
	unsigned int wall = READ_ONCE(llm_max_wall_ms);
	int ret;

	/* a ring member's contexts are the ring's: requests go to the head */
	if (llm_node_role() == 2)
		return -EBUSY;
	/* a node's share of the layers (load --layers) serves only the ring */
	if (!llm_model_whole(&s->km->model) && llm_node_role() != 1)
		return -ENETDOWN;
	q->net_gen = llm_node_generation();
	if (s->ctx_stale || s->net_gen != q->net_gen) {
		llm_ctx_reset(c);
		s->ctx_stale = false;
		s->net_gen = q->net_gen;
	}
	q->r.deadline_ns = wall ? ktime_get_ns() + (u64)wall * NSEC_PER_MSEC :
			   0;
	spin_lock(&s->info_lock);
	s->stats.requests++;
	spin_unlock(&s->info_lock);
	ret = llm_gen_begin(&q->gen, c, &q->r);
	if (ret)
		return ret;
	atomic_inc(&counters.running);
	set_state(s, LLM_REQ_RUNNING);
	return 0;
}

int llm_req_step(struct llm_session *s)
{
	struct llm_req *q = &s->req;
	struct llm_kmodel *km = s->km;
	bool running = llm_req_state(s) == LLM_REQ_RUNNING;
	struct llm_ctx *c;
	int done;

	lockdep_assert_held(&s->step_lock);
	if (!llm_kmodel_use(km)) {
		if (running)
			llm_gen_end(&q->gen, LLM_STOP_CANCELLED);
		end(s, -ENODEV, running);
		return 1;
	}
	count_stepping();
	c = &km->ctx[s->slot];
	if (running) {
		done = llm_gen_step(&q->gen);
	} else {
		done = begin(s, c);
		if (done) {
			publish_ctx(s, c);
			atomic_dec(&counters.stepping);
			llm_kmodel_unuse(km);
			end(s, done, false);
			return 1;
		}
	}
	publish_ctx(s, c);
	atomic_dec(&counters.stepping);
	llm_kmodel_unuse(km);
	if (done)
		end(s, q->r.stop_reason == LLM_STOP_ERROR ? q->r.error : 0,
		    true);
	return done;
}

void llm_req_model_gone(struct llm_session *s)
{
	int state = llm_req_state(s);

	lockdep_assert_held(&s->step_lock);
	/* nobody may read held-back text of a request that failed */
	s->req.gen.hb.len = 0;
	if (state == LLM_REQ_RUNNING) {
		llm_gen_end(&s->req.gen, LLM_STOP_CANCELLED);
		end(s, -ENODEV, true);
	} else if (state == LLM_REQ_READY) {
		s->req.r.stop_reason = LLM_STOP_CANCELLED;
		end(s, -ENODEV, false);
	}
}

void llm_req_abandon(struct llm_session *s)
{
	int state = llm_req_state(s);

	lockdep_assert_held(&s->step_lock);
	llm_req_cancel(s, LLM_STOP_CANCELLED);
	if (state == LLM_REQ_RUNNING) {
		/* nobody will read it: do not pass held-back text on */
		s->req.gen.hb.len = 0;
		llm_gen_end(&s->req.gen, LLM_STOP_CANCELLED);
		end(s, 0, true);
	} else if (state == LLM_REQ_READY) {
		/* never started: no request to count, nothing to read */
		set_state(s, LLM_REQ_NONE);
	}
}

void llm_req_finish(struct llm_session *s)
{
	set_state(s, LLM_REQ_NONE);
}

/* --- the background worker ---------------------------------------------- */

void llm_req_queue(struct work_struct *work)
{
	queue_work(llm_wq, work);
}

void llm_req_kick(struct llm_session *s)
{
	llm_req_queue(&s->work);
}

void llm_req_work(struct work_struct *work)
{
	struct llm_session *s = container_of(work, struct llm_session, work);

	for (;;) {
		bool stepped = false;

		mutex_lock(&s->step_lock);
		if (!READ_ONCE(s->closing) && llm_req_can_step(s)) {
			llm_req_step(s);
			stepped = true;
		}
		mutex_unlock(&s->step_lock);
		if (!stepped)
			break;
		wake_up_interruptible_all(&s->wait);
	}
}

/*
 * One step in the caller's context, if one may run.  Waiting for the
 * lock is waiting for at most one step of the background worker.
 */
static void step_here(struct llm_session *s)
{
	mutex_lock(&s->step_lock);
	if (llm_req_can_step(s))
		llm_req_step(s);
	mutex_unlock(&s->step_lock);
}

/* --- taking the output -------------------------------------------------- */

#define LLM_BOUNCE	256

/*
 * Copy up to @len bytes of the fifo to @buf without taking them, then
 * take them: a fault loses nothing, and the step filling the fifo never
 * waits on a user page (it holds a use of the model).
 */
static ssize_t fifo_to_user(struct llm_session *s, char __user *buf,
			    size_t len)
{
	char bounce[LLM_BOUNCE];
	size_t done = 0;

	while (done < len) {
		unsigned int n;

		spin_lock(&s->out_lock);
		n = kfifo_out_peek(&s->out, bounce,
				   min_t(size_t, len - done, sizeof(bounce)));
		spin_unlock(&s->out_lock);
		if (!n)
			break;
		if (copy_to_user(buf + done, bounce, n))
			return done ? done : -EFAULT;
		/* now take them (the only reader is us, under s->lock) */
		spin_lock(&s->out_lock);
		n = kfifo_out(&s->out, bounce, n);
		spin_unlock(&s->out_lock);
		done += n;
	}
	return done;
}

ssize_t llm_req_read(struct llm_session *s, char __user *buf, size_t len,
		     bool nonblock)
{
	for (;;) {
		int state = llm_req_state(s);
		ssize_t n;

		n = fifo_to_user(s, buf, len);
		if (n) {
			if (nonblock)
				llm_req_kick(s);	/* there is room now */
			return n;
		}
		if (state == LLM_REQ_NONE)
			return 0;
		if (state == LLM_REQ_DONE) {
			/* text before DONE is in: the acquire above */
			if (out_len(s))
				continue;
			llm_req_finish(s);
			return s->req.result;
		}
		if (nonblock) {
			llm_req_kick(s);
			return -EAGAIN;
		}
		if (fatal_signal_pending(current)) {
			llm_req_cancel(s, LLM_STOP_CANCELLED);
			return -EINTR;
		}
		if (signal_pending(current))
			return -ERESTARTSYS;
		step_here(s);
	}
}

static void drain(struct llm_session *s, struct llm_sink *sink)
{
	char bounce[LLM_BOUNCE];

	for (;;) {
		unsigned int n, take;

		spin_lock(&s->out_lock);
		n = kfifo_out(&s->out, bounce, sizeof(bounce));
		spin_unlock(&s->out_lock);
		if (!n)
			return;
		if (sink->stopped || sink->cut)
			continue;
		take = n;
		if (sink->cap && sink->done + n > sink->cap) {
			take = sink->cap - sink->done;
			sink->cut = true;
			llm_req_cancel(s, LLM_STOP_BUFFER);
		}
		if (take && sink->drain(sink, bounce, take) < 0) {
			sink->stopped = true;
			llm_req_cancel(s, LLM_STOP_CANCELLED);
			continue;
		}
		sink->done += take;
	}
}

int llm_req_run(struct llm_session *s, struct llm_sink *sink,
		bool interruptible)
{
	for (;;) {
		int state = llm_req_state(s);

		drain(s, sink);
		if (state == LLM_REQ_DONE || state == LLM_REQ_NONE) {
			drain(s, sink);
			/* the last step may have ended it before we cut */
			if (sink->cut && !s->req.result)
				s->req.r.stop_reason = LLM_STOP_BUFFER;
			return 0;
		}
		if (fatal_signal_pending(current))
			llm_req_cancel(s, LLM_STOP_CANCELLED);
		else if (interruptible && signal_pending(current))
			return -ERESTARTSYS;
		step_here(s);
	}
}
