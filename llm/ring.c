// SPDX-License-Identifier: GPL-2.0
/*
 * The mmap ring of a session (layout and protocol in uapi/llm.h): prompts
 * come in through a submission ring, tokens and text go out through a
 * completion ring, with no copy per token.
 *
 * The mapping is shared with a process we do not trust: every value read
 * from it is read once and checked (offsets, lengths, indices), prompts are
 * copied out before use, and the kernel keeps its own copy of the indices
 * it produces.
 */
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/spinlock.h>
#include <linux/sched/signal.h>
#include <linux/version.h>

#include "module.h"

#define LLM_RING_SQ_DEFAULT	16
#define LLM_RING_SQ_MAX		256
#define LLM_RING_CQ_DEFAULT	1024
#define LLM_RING_CQ_MAX		16384

/* The indices, each on its own cache line at the start of the mapping. */
struct llm_ring_indices {
	u32 sq_head ____cacheline_aligned;
	u32 sq_tail ____cacheline_aligned;
	u32 cq_head ____cacheline_aligned;
	u32 cq_tail ____cacheline_aligned;
	u32 sq_mask ____cacheline_aligned;
	u32 sq_entries;
	u32 cq_mask;
	u32 cq_entries;
};

struct llm_ring {
	void *mem;
	size_t size;
	struct llm_ring_offsets off;
	struct llm_ring_indices *idx;
	struct llm_sqe *sqes;
	char *prompts;
	struct llm_cqe *cqes;
	u32 sq_entries, cq_entries, prompts_size;
	u32 sq_head;		/* our copies of the indices we produce */
	u32 cq_tail;
	spinlock_t lock;	/* running vs a new submission */
	bool running;
	u64 user_data;		/* of the request in flight */
};

static void llm_ring_work(struct work_struct *work);

int llm_ring_setup(struct llm_session *s, struct llm_ring_setup *rs)
{
	struct llm_ring *r;
	size_t sqes, prompts, cqes, size;
	u32 sq = rs->sq_entries ? rs->sq_entries : LLM_RING_SQ_DEFAULT;
	u32 cq = rs->cq_entries ? rs->cq_entries : LLM_RING_CQ_DEFAULT;
	u32 pb = rs->prompts_size ? rs->prompts_size : llm_max_prompt_bytes;

	if (rs->flags || rs->reserved || sq > LLM_RING_SQ_MAX ||
	    cq > LLM_RING_CQ_MAX || pb > 4 * llm_max_prompt_bytes)
		return -EINVAL;
	if (s->ring || !llm_session_free(s))
		return -EBUSY;
	sq = roundup_pow_of_two(sq);
	cq = roundup_pow_of_two(cq);

	sqes = PAGE_ALIGN(sizeof(struct llm_ring_indices));
	prompts = sqes + ALIGN(sq * sizeof(struct llm_sqe), 64);
	cqes = ALIGN(prompts + pb, 64);
	size = PAGE_ALIGN(cqes + (size_t)cq * sizeof(struct llm_cqe));

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->mem = vmalloc_user(size);	/* zeroed, mappable */
	if (!r->mem) {
		kfree(r);
		return -ENOMEM;
	}
	r->size = size;
	r->idx = r->mem;
	r->sqes = r->mem + sqes;
	r->prompts = r->mem + prompts;
	r->cqes = r->mem + cqes;
	r->sq_entries = sq;
	r->cq_entries = cq;
	r->prompts_size = pb;
	spin_lock_init(&r->lock);
	r->idx->sq_mask = sq - 1;
	r->idx->sq_entries = sq;
	r->idx->cq_mask = cq - 1;
	r->idx->cq_entries = cq;

	memset(&rs->off, 0, sizeof(rs->off));
	rs->off.sq_head = offsetof(struct llm_ring_indices, sq_head);
	rs->off.sq_tail = offsetof(struct llm_ring_indices, sq_tail);
	rs->off.sq_mask = offsetof(struct llm_ring_indices, sq_mask);
	rs->off.sq_entries = offsetof(struct llm_ring_indices, sq_entries);
	rs->off.cq_head = offsetof(struct llm_ring_indices, cq_head);
	rs->off.cq_tail = offsetof(struct llm_ring_indices, cq_tail);
	rs->off.cq_mask = offsetof(struct llm_ring_indices, cq_mask);
	rs->off.cq_entries = offsetof(struct llm_ring_indices, cq_entries);
	rs->off.sqes = sqes;
	rs->off.prompts = prompts;
	rs->off.prompts_size = pb;
	rs->off.cqes = cqes;
	rs->sq_entries = sq;
	rs->cq_entries = cq;
	rs->prompts_size = pb;
	rs->mmap_size = size;
	r->off = rs->off;

	/*
	 * The last request's worker has said DONE but may not have returned
	 * yet: re-initialising a work item that is still running corrupts
	 * the workqueue's view of it.
	 */
	flush_work(&s->work);
	INIT_WORK(&s->work, llm_ring_work);
	/*
	 * Published once and freed only at release: llm_ring_mmap() reads it
	 * without s->lock (pairs with its acquire; r is filled in).
	 */
	smp_store_release(&s->ring, r);
	return 0;
}

/* Called with the session idle (its worker flushed). */
void llm_ring_free(struct llm_session *s)
{
	if (!s->ring)
		return;
	vfree(s->ring->mem);
	kfree(s->ring);
	s->ring = NULL;
}

/*
 * Called with mmap_lock held and without s->lock: the session lock is held
 * around copies from and to userspace, which take mmap_lock when they
 * fault, so taking it here would invert that order (lockdep: circular
 * dependency &mm->mmap_lock -> &s->lock).
 */
int llm_ring_mmap(struct llm_session *s, struct vm_area_struct *vma)
{
	/* pairs with the release in llm_ring_setup() */
	struct llm_ring *r = smp_load_acquire(&s->ring);
	unsigned long len = vma->vm_end - vma->vm_start;

	if (!r)
		return -ENXIO;
	if (vma->vm_pgoff || len > r->size)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED) || (vma->vm_flags & VM_EXEC))
		return -EINVAL;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_clear(vma, VM_MAYEXEC);
#else
	vma->vm_flags &= ~VM_MAYEXEC;
#endif
	return remap_vmalloc_range(vma, r->mem, 0);
}

/* Completion entries the caller has not consumed yet. */
static u32 cq_pending(struct llm_ring *r)
{
	/* pairs with the caller's release of cq_head: those entries are read */
	u32 head = smp_load_acquire(&r->idx->cq_head);
	u32 n = r->cq_tail - head;

	/* a head ahead of our tail is the caller's bug: treat as full */
	return n > r->cq_entries ? r->cq_entries : n;
}

bool llm_ring_readable(struct llm_session *s)
{
	return s->ring && cq_pending(s->ring);
}

/* Post one completion entry, waiting for room; <0 when cancelled. */
static int post(struct llm_session *s, const struct llm_cqe *e)
{
	struct llm_ring *r = s->ring;

	for (;;) {
		if (cq_pending(r) < r->cq_entries) {
			r->cqes[r->cq_tail & (r->cq_entries - 1)] = *e;
			/* the entry is written before the caller sees the tail */
			smp_store_release(&r->idx->cq_tail, ++r->cq_tail);
			wake_up_interruptible_all(&s->wait);
			return 0;
		}
		if (llm_session_cancelled(s))
			return -ECANCELED;
		/* the caller frees entries without telling us: look again */
		wait_event_interruptible_timeout(s->wait,
			cq_pending(r) < r->cq_entries ||
			atomic_read(&s->cancel), HZ / 50);
	}
}

static int ring_text(void *arg, const char *text, u32 len)
{
	struct llm_session *s = arg;
	struct llm_cqe e = {
		.user_data = s->ring->user_data,
		.kind = LLM_CQE_TEXT,
	};

	while (len) {
		e.len = min_t(u32, len, LLM_CQE_TEXT_MAX);
		memcpy(e.text, text, e.len);
		if (post(s, &e))
			return -1;
		text += e.len;
		len -= e.len;
	}
	return 0;
}

static void ring_token(void *arg, u32 tok)
{
	struct llm_session *s = arg;
	struct llm_cqe e = {
		.user_data = s->ring->user_data,
		.kind = LLM_CQE_TOKEN,
		.token = tok,
	};

	llm_session_token(s, tok);
	post(s, &e);
}

/* Copy the request at sq_head out of the shared mapping and check it. */
static int take_sqe(struct llm_session *s, u32 *flags)
{
	struct llm_ring *r = s->ring;
	const struct llm_sqe *q = &r->sqes[r->sq_head & (r->sq_entries - 1)];
	u32 off = READ_ONCE(q->prompt_off), len = READ_ONCE(q->prompt_len);

	r->user_data = READ_ONCE(q->user_data);
	*flags = READ_ONCE(q->flags);
	if ((*flags & ~LLM_SQE_RESET) || READ_ONCE(q->resv[0]) ||
	    READ_ONCE(q->resv[1]) || READ_ONCE(q->resv[2]))
		return -EINVAL;
	if (off > r->prompts_size || len > r->prompts_size - off)
		return -EINVAL;
	if (len > llm_max_prompt_bytes)
		return -E2BIG;
	memcpy(s->prompt, r->prompts + off, len);
	if (!llm_utf8_valid(s->prompt, len))
		return -EINVAL;
	s->prompt_len = len;
	return 0;
}

static void run_one(struct llm_session *s)
{
	struct llm_ring *r = s->ring;
	struct llm_cqe end = { .kind = LLM_CQE_END };
	u32 flags = 0;
	int ret;

	ret = take_sqe(s, &flags);
	if (ret)
		llm_request_refused();
	if (!ret && (flags & LLM_SQE_RESET))
		ret = llm_session_clear(s);
	if (!ret)
		ret = llm_request_start(s, ring_text, ring_token);
	if (!ret) {
		ret = llm_generate(&s->ctx, &s->req);
		llm_request_end(s, ret);
		end.stop_reason = s->req.stop_reason;
		end.len = s->req.n_gen;
		end.n_prompt = s->req.n_prompt;
	}
	end.user_data = r->user_data;
	end.res = ret;
	/*
	 * The request is consumed whether or not its END entry fits; the
	 * release says we are done reading its entry and prompt.
	 */
	smp_store_release(&r->idx->sq_head, ++r->sq_head);
	post(s, &end);
}

static void llm_ring_work(struct work_struct *work)
{
	struct llm_session *s = container_of(work, struct llm_session, work);
	struct llm_ring *r = s->ring;

	for (;;) {
		u32 tail;

		spin_lock(&r->lock);
		/* pairs with the caller's release of sq_tail: entries are in */
		tail = smp_load_acquire(&r->idx->sq_tail);
		if (tail == r->sq_head || atomic_read(&s->cancel)) {
			r->running = false;
			spin_unlock(&r->lock);
			break;
		}
		spin_unlock(&r->lock);
		/* a tail more than the ring ahead is garbage: skip to it */
		if (tail - r->sq_head > r->sq_entries) {
			r->sq_head = tail;
			/* we are done reading those entries */
			smp_store_release(&r->idx->sq_head, tail);
			continue;
		}
		run_one(s);
	}
	wake_up_interruptible_all(&s->wait);
}

static bool ring_done(struct llm_session *s, u32 min_complete)
{
	struct llm_ring *r = s->ring;

	return cq_pending(r) >= min_complete || !READ_ONCE(r->running);
}

int llm_ring_enter(struct llm_session *s, const struct llm_ring_enter *re)
{
	struct llm_ring *r = s->ring;
	bool start = false;

	if (re->flags || re->reserved)
		return -EINVAL;
	if (!r)
		return -ENXIO;
	if (re->min_complete > r->cq_entries)
		return -EINVAL;
	spin_lock(&r->lock);
	/* pairs with the caller's release of sq_tail */
	if (!r->running && smp_load_acquire(&r->idx->sq_tail) != r->sq_head) {
		r->running = true;
		start = true;
	}
	spin_unlock(&r->lock);
	if (start) {
		atomic_set(&s->cancel, 0);
		queue_work(llm_mod.wq, &s->work);
	}
	wake_up_interruptible_all(&s->wait);	/* room may have appeared */
	if (!re->min_complete)
		return 0;
	if (wait_event_interruptible(s->wait, ring_done(s, re->min_complete))) {
		llm_session_cancel_sync(s);
		return -EINTR;
	}
	return 0;
}
