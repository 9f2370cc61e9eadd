/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A session: one conversation, taken by each open of /dev/llm or by
 * llm_session_open().  It owns a slot (an index into the I/O buffers
 * reserved at module load and into each model's contexts), holds a
 * reference to the model its conversation is on, and runs at most one
 * request at a time (request.h).
 *
 * Locks, outermost first:
 *  - lock: one caller at a time (read, write, GENERATE, RESET, the
 *    in-kernel API, ring setup, loads);
 *  - step_lock: whoever advances the request (that caller, or the
 *    session's background worker);
 *  - info_lock (spinlock): the parameters and the statistics, which
 *    anyone may read or set without waiting for a step.
 */
#ifndef LLM_SESSION_H
#define LLM_SESSION_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/kfifo.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/uidgid.h>

#include "../uapi/llm.h"
#include "request.h"

struct llm_kmodel;
struct llm_ring;
struct llm_oneshot;

/* What GET_STATS tells about a session (under info_lock). */
struct llm_session_stats {
	u64 requests;
	const void *ctx_model;		/* the model ctx_used is about */
	u32 ctx_used;
	u32 prompt_tokens;
	u32 generated_tokens;
	u32 stop_reason;
	u64 prefill_ns;
	u64 decode_ns;
};

/* A GENERATE whose wait a signal interrupted: its call may come again. */
struct llm_generate_resume {
	bool active;
	void __user *uarg;
	struct llm_generate args;	/* as the caller passed them */
	u32 text_done;			/* bytes already in its text buffer */
	bool fault;
};

struct llm_session {
	struct list_head node;		/* in the list of open sessions */
	unsigned int slot;
	bool in_kernel;
	kuid_t uid;

	struct mutex lock;
	struct mutex step_lock;
	spinlock_t info_lock;
	struct llm_params params;	/* under info_lock */
	struct llm_session_stats stats;	/* under info_lock */

	/* the model the conversation is on (a reference), and its context */
	struct llm_kmodel *km;
	bool ctx_stale;			/* reset the context before next use */
	/* the context ends in a chat reply not closed yet (LLM_IOC_CHAT) */
	bool chat_reply;
	u32 net_gen;			/* the ring split its context is of */

	/* the slot's I/O buffers, reserved at module load */
	char *prompt;			/* max_prompt_bytes */
	struct kfifo out;		/* text out, or ring entries not posted */
	spinlock_t out_lock;		/* its producer against its reader */
	u32 *toks;			/* this request's token ids */

	struct llm_req req;		/* under step_lock */
	wait_queue_head_t wait;		/* output, room, a request's end */
	struct work_struct work;	/* steps the request in the background */
	struct llm_ring *ring;		/* set once, freed at close */
	bool closing;

	/* the shell one-shot (oneshot.c), under lock */
	bool ever_read;
	bool ever_wrote;
	struct llm_oneshot *reserved;	/* its place in the queue */

	struct llm_generate_resume gen;	/* under lock */
};

/*
 * The session's ring, if it has one: set once (with a release) while its
 * request is idle, so readers outside s->lock take it with an acquire.
 */
static inline struct llm_ring *llm_session_ring(struct llm_session *s)
{
	/* pairs with the release in llm_ring_setup() */
	return smp_load_acquire(&s->ring);
}

int llm_sessions_init(void);
void llm_sessions_exit(void);

/*
 * Take a slot for a new session of the current user.  ERR_PTR(-EBUSY)
 * when every slot open to the caller is taken, -EDQUOT when the user has
 * sessions_per_user already.
 */
struct llm_session *llm_session_create(bool in_kernel);
/* Cancel what runs, wait for the worker, give the slot back. */
void llm_session_destroy(struct llm_session *s);

unsigned int llm_sessions_active(void);

/*
 * @km is dead and unused: end the requests still on it (ENODEV), so that
 * none is left running and their callers hear at once.  Called by the
 * installer, under its lock.
 */
void llm_sessions_model_gone(struct llm_kmodel *km);

/* Parameters: checked, then set or read whole under info_lock. */
int llm_params_check(const struct llm_params *p);
void llm_session_params_set(struct llm_session *s,
			    const struct llm_params *p);
void llm_session_params_get(struct llm_session *s, struct llm_params *p);
void llm_session_stats_get(struct llm_session *s,
			   struct llm_session_stats *st);

/*
 * Cancel and drop the request, if any, with its unread output; and
 * forget the conversation too.  Caller holds s->lock.
 */
void llm_session_drop_request(struct llm_session *s);
void llm_session_forget(struct llm_session *s);

#endif /* LLM_SESSION_H */
