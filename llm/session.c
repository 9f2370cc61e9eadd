// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions: their slots, fair shares of them, parameters and statistics
 * (see session.h).
 *
 * Slots: sessions_max in all; sessions_kernel of them only the in-kernel
 * API may take, and one user (by fsuid at open) may hold at most
 * sessions_per_user of the rest, so no user can lock others out.
 */
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/idr.h>
#include <linux/cred.h>

#include "session.h"
#include "request.h"
#include "kmodel.h"
#include "ring.h"
#include "oneshot.h"
#include "params.h"

/* Bytes of output buffered between a request's steps and its reader. */
#define LLM_FIFO_BYTES		16384

static_assert(LLM_FIFO_BYTES >= 4 * LLM_STEP_OUT_MAX);

static struct {
	struct mutex lock;		/* list and counts */
	struct list_head list;
	unsigned int active;
	unsigned int user_active;	/* of them, opened from userspace */
	struct ida slots;
	void *io_mem;			/* every slot's I/O buffers */
	size_t io_per;
} sess;

int llm_sessions_init(void)
{
	size_t per = LLM_FIFO_BYTES + (size_t)llm_max_prompt_bytes + 1 +
		     (size_t)llm_max_new_tokens * sizeof(u32);

	mutex_init(&sess.lock);
	INIT_LIST_HEAD(&sess.list);
	ida_init(&sess.slots);
	sess.io_per = ALIGN(per, 64);
	sess.io_mem = vzalloc(array_size(sess.io_per, llm_sessions_max));
	if (!sess.io_mem) {
		pr_err("cannot allocate I/O buffers for %u session slots\n",
		       llm_sessions_max);
		return -ENOMEM;
	}
	return 0;
}

void llm_sessions_exit(void)
{
	ida_destroy(&sess.slots);
	vfree(sess.io_mem);
}

unsigned int llm_sessions_active(void)
{
	unsigned int n;

	mutex_lock(&sess.lock);
	n = sess.active;
	mutex_unlock(&sess.lock);
	return n;
}

static void default_params(struct llm_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	p->temperature_milli = 0;
	p->top_p_milli = 900;
	p->max_tokens = min(256u, llm_max_new_tokens);
}

static unsigned int sessions_of(kuid_t uid)
{
	struct llm_session *s;
	unsigned int n = 0;

	list_for_each_entry(s, &sess.list, node)
		if (!s->in_kernel && uid_eq(s->uid, uid))
			n++;
	return n;
}

/* May a new session go in?  Counts it if so.  Under sess.lock. */
static int admit_locked(struct llm_session *s)
{
	unsigned int per_user = READ_ONCE(llm_sessions_per_user);
	unsigned int for_users = llm_sessions_max - llm_sessions_kernel;

	if (sess.active >= llm_sessions_max) {
		pr_info_ratelimited("open refused: all %u session slots are in use (module parameter sessions)\n",
				    llm_sessions_max);
		return -EBUSY;
	}
	if (!s->in_kernel && sess.user_active >= for_users) {
		pr_info_ratelimited("open refused: the %u session slots open to userspace are in use (%u kept for the in-kernel API: sessions_kernel)\n",
				    for_users, llm_sessions_kernel);
		return -EBUSY;
	}
	if (!s->in_kernel && sessions_of(s->uid) >= per_user) {
		pr_info_ratelimited("open refused: uid %u has %u sessions open (module parameter sessions_per_user)\n",
				    from_kuid_munged(&init_user_ns, s->uid),
				    per_user);
		return -EDQUOT;
	}
	sess.active++;
	if (!s->in_kernel)
		sess.user_active++;
	list_add_tail(&s->node, &sess.list);
	return 0;
}

static void leave(struct llm_session *s)
{
	mutex_lock(&sess.lock);
	list_del(&s->node);
	sess.active--;
	if (!s->in_kernel)
		sess.user_active--;
	mutex_unlock(&sess.lock);
}

static void attach_buffers(struct llm_session *s)
{
	u8 *p = (u8 *)sess.io_mem + s->slot * sess.io_per;

	kfifo_init(&s->out, p, LLM_FIFO_BYTES);
	s->prompt = p + LLM_FIFO_BYTES;
	s->toks = (u32 *)ALIGN((uintptr_t)(s->prompt + llm_max_prompt_bytes +
					   1), 4);
}

struct llm_session *llm_session_create(bool in_kernel)
{
	struct llm_session *s;
	int ret;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->in_kernel = in_kernel;
	s->uid = current_fsuid();
	mutex_lock(&sess.lock);
	ret = admit_locked(s);
	mutex_unlock(&sess.lock);
	if (ret) {
		kfree(s);
		return ERR_PTR(ret);
	}
	/* there is a free slot: admit_locked() counted */
	ret = ida_alloc_max(&sess.slots, llm_sessions_max - 1, GFP_KERNEL);
	if (ret < 0) {
		leave(s);
		kfree(s);
		return ERR_PTR(ret);
	}
	s->slot = ret;
	mutex_init(&s->lock);
	mutex_init(&s->step_lock);
	spin_lock_init(&s->info_lock);
	spin_lock_init(&s->out_lock);
	init_waitqueue_head(&s->wait);
	INIT_WORK(&s->work, llm_req_work);
	default_params(&s->params);
	attach_buffers(s);
	return s;
}

void llm_sessions_model_gone(struct llm_kmodel *km)
{
	struct llm_session *s;

	mutex_lock(&sess.lock);
	list_for_each_entry(s, &sess.list, node) {
		mutex_lock(&s->step_lock);
		if (s->km == km)
			llm_req_model_gone(s);
		mutex_unlock(&s->step_lock);
		if (s->km == km && llm_session_ring(s))
			llm_ring_kick(s);	/* its END entry goes out */
	}
	mutex_unlock(&sess.lock);
}

void llm_session_destroy(struct llm_session *s)
{
	WRITE_ONCE(s->closing, true);
	llm_req_cancel(s, LLM_STOP_CANCELLED);
	cancel_work_sync(&s->work);
	llm_ring_stop(s);
	mutex_lock(&s->step_lock);
	llm_req_abandon(s);
	mutex_unlock(&s->step_lock);
	llm_kmodel_release_ctx(s->km, s->slot);
	llm_ring_free(s);
	llm_oneshot_unreserve(s);
	llm_kmodel_put(s->km);
	leave(s);
	ida_free(&sess.slots, s->slot);
	kfree(s);
}

int llm_params_check(const struct llm_params *p)
{
	unsigned int i;

	if (p->flags || p->temperature_milli > 100000 ||
	    p->top_p_milli > 1000 || p->max_tokens > llm_max_new_tokens)
		return -EINVAL;
	for (i = 0; i < LLM_STOP_MAX; i++) {
		size_t n = strnlen(p->stop[i], LLM_STOP_LEN);

		/* NUL-terminated, NUL-padded: no stray bytes after the end */
		if (n == LLM_STOP_LEN || memchr_inv(p->stop[i] + n, 0,
						    LLM_STOP_LEN - n))
			return -EINVAL;
	}
	return 0;
}

void llm_session_params_set(struct llm_session *s,
			    const struct llm_params *p)
{
	spin_lock(&s->info_lock);
	s->params = *p;
	s->params.size = sizeof(*p);
	spin_unlock(&s->info_lock);
}

void llm_session_params_get(struct llm_session *s, struct llm_params *p)
{
	spin_lock(&s->info_lock);
	*p = s->params;
	spin_unlock(&s->info_lock);
}

void llm_session_stats_get(struct llm_session *s,
			   struct llm_session_stats *st)
{
	spin_lock(&s->info_lock);
	*st = s->stats;
	spin_unlock(&s->info_lock);
}

static void drop_request(struct llm_session *s, bool forget)
{
	mutex_lock(&s->step_lock);
	llm_req_abandon(s);
	spin_lock(&s->out_lock);
	kfifo_reset(&s->out);
	spin_unlock(&s->out_lock);
	llm_req_finish(s);
	if (forget)
		s->ctx_stale = true;
	mutex_unlock(&s->step_lock);
	s->gen.active = false;
}

void llm_session_drop_request(struct llm_session *s)
{
	drop_request(s, false);
}

void llm_session_forget(struct llm_session *s)
{
	drop_request(s, true);
	spin_lock(&s->info_lock);
	s->stats.ctx_used = 0;
	spin_unlock(&s->info_lock);
}
