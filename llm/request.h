/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A request: one prompt and its completion, in a session (one at a time).
 *
 * Life: NONE -> READY (llm_req_submit: the prompt taken and checked, the
 * session bound to the current model, the parameters copied) -> RUNNING
 * (the first step: the prompt tokenized into the context) -> DONE (ended,
 * result and stop reason set) -> NONE (its output all taken).
 *
 * It advances one step at a time (one prompt token, or one generated
 * token), and only when its output has room to go: whoever waits for it
 * runs the steps in its own context (a blocking read(), GENERATE, the
 * in-kernel API), or the session's background worker does (an O_NONBLOCK
 * reader or poll(), the mmap ring).  Nobody ever waits for a reader while
 * holding anything: a request whose output is not taken simply stops
 * between steps, holding no worker and no use of the model.
 *
 * Output goes one way: each step's token ids and text pass through
 * llm_req_on_token()/on_text(), into the session's fifo (text for
 * read(), GENERATE and the in-kernel API) or, for a ring session, as
 * completion entries bound for the ring.
 */
#ifndef LLM_REQUEST_H
#define LLM_REQUEST_H

#include <linux/atomic.h>
#include <linux/types.h>

#include "core/generate.h"

struct llm_session;
struct kfifo;

enum llm_req_state {
	LLM_REQ_NONE,
	LLM_REQ_READY,
	LLM_REQ_RUNNING,
	LLM_REQ_DONE,
};

struct llm_req {
	int state;		/* enum llm_req_state; see llm_req_state() */
	struct llm_request r;	/* what the core runs, and its results */
	struct llm_gen gen;
	atomic_t cancel;	/* 0, or the stop reason asked for from outside */
	int result;		/* once DONE: 0, or -errno */
	u32 n_toks;		/* token ids in the session's toks[] */
	u64 user_data;		/* of the ring entry it came from */
	/* a ring head's step: the token the last node drew, its rng after */
	u32 net_token;
	u64 net_rng;
	u32 net_gen;		/* llm_node_generation() it began under */
};

/* How a prompt is taken (llm_req_submit()'s @how). */
#define LLM_IN_USER	(1U << 0)	/* from a user address (submit_user) */
#define LLM_IN_LINE	(1U << 1)	/* drop one trailing newline (echo) */
#define LLM_IN_RESET	(1U << 2)	/* clear the conversation first */
#define LLM_IN_STEPPING	(1U << 3)	/* the caller holds s->step_lock */

/* Bytes one step may add to the fifo: a token's text and held-back text. */
#define LLM_STEP_OUT_MAX	(LLM_TOKEN_MAX_BYTES + 8 + 2 * LLM_STOP_LEN)

int llm_requests_init(void);
void llm_requests_exit(void);

/*
 * The one intake of prompts: copy @len bytes from @src, check length
 * (E2BIG) and UTF-8 (EINVAL), bind the session to the current model
 * (ENODATA none, EBUSY one is being installed), copy its parameters, and
 * make the request READY.  EBUSY if the session has a request.  A refused
 * prompt counts as a failed request.  Caller holds s->lock, or is the
 * ring worker of a ring session.
 */
int llm_req_submit(struct llm_session *s, const void *src, size_t len,
		   unsigned int how);
int llm_req_submit_user(struct llm_session *s, const char __user *src,
			size_t len, unsigned int how);

struct llm_chat_message;

/*
 * A chat turn (LLM_IOC_CHAT): @n messages (kernel copies, checked UTF-8)
 * rendered with the session's model's chat template after what its
 * context holds, and submitted as llm_req_submit() does; the reply ends
 * at the template's end-of-turn token.  -EOPNOTSUPP when the model has
 * no template of a known family (*@family says which), -E2BIG when the
 * rendered turn is over max_prompt_bytes, -EINVAL for roles the template
 * does not take.  *@len gets the rendered bytes.  Caller holds s->lock.
 */
int llm_req_submit_chat(struct llm_session *s,
			const struct llm_chat_message *msgs, u32 n,
			unsigned int how, u32 *family, u32 *len);

/* Whether @len bytes at @str are UTF-8 (no overlong forms, surrogates). */
bool llm_utf8_valid(const char *str, size_t len);

/* Take back a READY request that will not run (the write is refused). */
void llm_req_withdraw(struct llm_session *s);

/* Output waiting in the fifo. */
bool llm_req_has_output(struct llm_session *s);

/* The state, read without a lock (acquire: the results are in). */
int llm_req_state(struct llm_session *s);

/* Ask the request to end with @reason (LLM_STOP_CANCELLED, ..._BUFFER). */
void llm_req_cancel(struct llm_session *s, u32 reason);

/*
 * Under s->step_lock: whether a step may run (a request READY or RUNNING,
 * and room for its output), and one step.  A step that ends the request
 * returns 1.
 */
bool llm_req_can_step(struct llm_session *s);
int llm_req_step(struct llm_session *s);

/*
 * End a request that will not be stepped again (RESET, close): under
 * s->step_lock.
 */
void llm_req_abandon(struct llm_session *s);

/* End it with ENODEV: its model is gone.  Under s->step_lock. */
void llm_req_model_gone(struct llm_session *s);

/* Its output all taken: back to NONE.  Caller holds s->lock. */
void llm_req_finish(struct llm_session *s);

/* Have the background worker advance it; queue any llm work item. */
void llm_req_kick(struct llm_session *s);
void llm_req_queue(struct work_struct *work);
void llm_req_work(struct work_struct *work);

/*
 * read(): text as it comes, stepping in the caller's context when there
 * is none; 0 at the end (after reporting a failed request's error once).
 * A handled signal interrupts only the wait (-ERESTARTSYS, or the bytes
 * read so far); a fatal one cancels.  Caller holds s->lock.
 */
ssize_t llm_req_read(struct llm_session *s, char __user *buf, size_t len,
		     bool nonblock);

/*
 * A caller that takes all of the output at once (GENERATE, the in-kernel
 * API): drain() gets up to @len bytes from the fifo each time there are
 * some; a negative return stops the request.  @cap, if not 0, is what
 * the caller can hold: beyond it the request ends with LLM_STOP_BUFFER.
 */
struct llm_sink {
	int (*drain)(struct llm_sink *sink, const char *text, unsigned int len);
	size_t done;		/* bytes taken so far */
	size_t cap;
	bool cut;		/* text beyond @cap was dropped */
	bool stopped;		/* drain() asked to stop */
};

/*
 * Run the request to its end in the caller's context, passing its text
 * to @sink.  Returns 0 once it has ended, or -ERESTARTSYS when
 * @interruptible and a handled signal is pending (the request stays,
 * another call goes on with it).  Caller holds s->lock.
 */
int llm_req_run(struct llm_session *s, struct llm_sink *sink,
		bool interruptible);

/* Module-wide counters (sysfs, GET_STATS). */
struct llm_counters {
	u64 requests;
	u64 errors;
	u64 tokens_prompt;
	u64 tokens_generated;
	u64 prefill_milli;	/* last request, tok/s x 1000 */
	u64 decode_milli;
	u32 running;		/* started and not ended */
	u32 stepping;		/* taking a step right now */
	u32 stepping_peak;	/* most ever at once */
};

void llm_counters_read(struct llm_counters *c);
void llm_req_count_refused(void);

#endif /* LLM_REQUEST_H */
