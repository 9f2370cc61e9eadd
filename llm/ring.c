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
 *
 * The worker (see ring.h) turns the output path's entries, which wait in
 * the session's fifo, into completion entries as room allows; a step's
 * entries are all posted before the next step, so the fifo never holds
 * more than one step's.
 */
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/spinlock.h>
#include <linux/sched/signal.h>
#include <linux/version.h>

#include "ring.h"
#include "session.h"
#include "request.h"
#include "params.h"

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
	struct llm_session *s;
	struct work_struct work;
	spinlock_t lock;	/* busy and kicks */
	bool busy;		/* the worker has work or may have */
	u32 kicks;
};

static void ring_work(struct work_struct *work);

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
	if (s->ring || llm_req_state(s) != LLM_REQ_NONE)
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

	r->s = s;
	spin_lock_init(&r->lock);
	INIT_WORK(&r->work, ring_work);
	/*
	 * Published once and freed only at release: llm_ring_mmap() reads it
	 * without s->lock (pairs with its acquire; r is filled in).
	 */
	smp_store_release(&s->ring, r);
	return 0;
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


/* Completion entries posted and not consumed, as the worker sees them. */
static u32 cq_pending(struct llm_ring *r)
{
	/* pairs with the caller's release of cq_head: those entries are read */
	u32 head = smp_load_acquire(&r->idx->cq_head);
	u32 n = r->cq_tail - head;

	/* a head ahead of our tail is the caller's bug: treat as full */
	return n > r->cq_entries ? r->cq_entries : n;
}

/* The same, from anyone (RING_ENTER, poll): both indices published. */
static u32 cq_ready(struct llm_ring *r)
{
	/* pairs with our release of cq_tail: those entries are written */
	u32 tail = smp_load_acquire(&r->idx->cq_tail);
	/* pairs with the caller's release of cq_head: those are read */
	u32 n = tail - smp_load_acquire(&r->idx->cq_head);

	return n > r->cq_entries ? r->cq_entries : n;
}

static bool out_pending(struct llm_session *s)
{
	bool any;

	spin_lock(&s->out_lock);
	any = !kfifo_is_empty(&s->out);
	spin_unlock(&s->out_lock);
	return any;
}

/* Queue one entry for the ring (the fifo holds whole entries). */
static void queue_cqe(struct llm_session *s, const struct llm_cqe *e)
{
	unsigned int n;

	n = kfifo_in_spinlocked(&s->out, e, sizeof(*e), &s->out_lock);
	/* a step's entries fit: the worker steps with the fifo empty */
	WARN_ON_ONCE(n != sizeof(*e));
}

int llm_ring_out_text(struct llm_session *s, const char *text, u32 len)
{
	struct llm_cqe e = {
		.user_data = s->req.user_data,
		.kind = LLM_CQE_TEXT,
	};

	while (len) {
		e.len = min_t(u32, len, LLM_CQE_TEXT_MAX);
		memcpy(e.text, text, e.len);
		queue_cqe(s, &e);
		text += e.len;
		len -= e.len;
	}
	return 0;
}

void llm_ring_out_token(struct llm_session *s, u32 tok)
{
	struct llm_cqe e = {
		.user_data = s->req.user_data,
		.kind = LLM_CQE_TOKEN,
		.token = tok,
	};

	queue_cqe(s, &e);
}

static void queue_end(struct llm_session *s, u64 user_data, int res,
		      u32 stop, u32 n_gen, u32 n_prompt)
{
	struct llm_cqe e = {
		.user_data = user_data,
		.kind = LLM_CQE_END,
		.res = res,
		.stop_reason = stop,
		.len = n_gen,
		.n_prompt = n_prompt,
	};

	queue_cqe(s, &e);
}

void llm_ring_out_end(struct llm_session *s)
{
	const struct llm_req *q = &s->req;

	queue_end(s, q->user_data, q->result, q->r.stop_reason, q->r.n_gen,
		  q->r.n_prompt);
}

/* Move queued entries into the completion ring while it has room. */
static void post(struct llm_session *s, struct llm_ring *r)
{
	bool posted = false;

	while (cq_pending(r) < r->cq_entries) {
		struct llm_cqe e;
		unsigned int n;

		n = kfifo_out_spinlocked(&s->out, &e, sizeof(e), &s->out_lock);
		if (n != sizeof(e))
			break;
		r->cqes[r->cq_tail & (r->cq_entries - 1)] = e;
		/* the entry is written before the caller sees the tail */
		smp_store_release(&r->idx->cq_tail, ++r->cq_tail);
		posted = true;
	}
	if (posted)
		wake_up_interruptible_all(&s->wait);
}

/*
 * Copy the entry at sq_head out of the shared mapping, check it, and
 * submit it; a refused one gets its END entry at once.  The entry is
 * consumed either way.
 */
static void take_sqe(struct llm_session *s, struct llm_ring *r)
{
	const struct llm_sqe *q = &r->sqes[r->sq_head & (r->sq_entries - 1)];
	u32 off = READ_ONCE(q->prompt_off), len = READ_ONCE(q->prompt_len);
	u64 user_data = READ_ONCE(q->user_data);
	u32 flags = READ_ONCE(q->flags);
	int ret = 0;

	if ((flags & ~LLM_SQE_RESET) || READ_ONCE(q->resv[0]) ||
	    READ_ONCE(q->resv[1]) || READ_ONCE(q->resv[2]) ||
	    off > r->prompts_size || len > r->prompts_size - off) {
		llm_req_count_refused();
		ret = -EINVAL;
	}
	if (!ret)
		ret = llm_req_submit(s, r->prompts + off, len, LLM_IN_STEPPING |
				     ((flags & LLM_SQE_RESET) ? LLM_IN_RESET : 0));
	/* we are done reading the entry and its prompt */
	smp_store_release(&r->idx->sq_head, ++r->sq_head);
	if (ret)
		queue_end(s, user_data, ret, 0, 0, 0);
	else
		s->req.user_data = user_data;
}

/*
 * One move of the worker: post, step, or take the next entry.  False when
 * there is nothing more it can do until the caller acts.
 */
static bool advance(struct llm_session *s, struct llm_ring *r)
{
	int state;
	u32 tail;

	if (READ_ONCE(s->closing))
		return false;
	post(s, r);
	if (out_pending(s))
		return false;		/* the caller must make room */
	state = llm_req_state(s);
	if (state == LLM_REQ_READY || state == LLM_REQ_RUNNING) {
		llm_req_step(s);
		return true;
	}
	if (state == LLM_REQ_DONE)
		llm_req_finish(s);	/* its END entry is posted */
	/* pairs with the caller's release of sq_tail: entries are in */
	tail = smp_load_acquire(&r->idx->sq_tail);
	if (tail == r->sq_head)
		return false;
	/* a tail more than the ring ahead is garbage: skip to it */
	if (tail - r->sq_head > r->sq_entries) {
		r->sq_head = tail;
		/* we are done reading those entries */
		smp_store_release(&r->idx->sq_head, tail);
		return true;
	}
	take_sqe(s, r);
	return true;
}

static void ring_work(struct work_struct *work)
{
	struct llm_ring *r = container_of(work, struct llm_ring, work);
	struct llm_session *s = r->s;
	bool more;
	u32 seen;

	spin_lock(&r->lock);
	seen = r->kicks;
	spin_unlock(&r->lock);
	do {
		mutex_lock(&s->step_lock);
		more = advance(s, r);
		mutex_unlock(&s->step_lock);
	} while (more);
	/* idle, unless kicked meanwhile: then we run again */
	spin_lock(&r->lock);
	if (r->kicks == seen)
		r->busy = false;
	spin_unlock(&r->lock);
	wake_up_interruptible_all(&s->wait);
}

static void kick(struct llm_ring *r)
{
	spin_lock(&r->lock);
	r->kicks++;
	r->busy = true;
	spin_unlock(&r->lock);
	llm_req_queue(&r->work);
}

static bool busy(struct llm_ring *r)
{
	bool b;

	spin_lock(&r->lock);
	b = r->busy;
	spin_unlock(&r->lock);
	return b;
}

void llm_ring_kick(struct llm_session *s)
{
	kick(s->ring);
}

bool llm_ring_poll(struct llm_session *s)
{
	/* pairs with the release in llm_ring_setup() */
	struct llm_ring *r = smp_load_acquire(&s->ring);
	u32 ready = cq_ready(r);
	/* pairs with the caller's release of sq_tail */
	u32 sq_tail = smp_load_acquire(&r->idx->sq_tail);
	/* pairs with our release of sq_head */
	bool submitted = sq_tail != smp_load_acquire(&r->idx->sq_head);

	/* the caller may have made room, or submitted without RING_ENTER */
	if (!busy(r) && (submitted ||
			 (ready < r->cq_entries && out_pending(s))))
		kick(r);
	return ready;
}

static bool enter_done(struct llm_ring *r, u32 min_complete)
{
	return cq_ready(r) >= min_complete || !busy(r);
}

int llm_ring_enter(struct llm_session *s, const struct llm_ring_enter *re)
{
	/* pairs with the release in llm_ring_setup() */
	struct llm_ring *r = smp_load_acquire(&s->ring);

	if (re->flags || re->reserved)
		return -EINVAL;
	if (!r)
		return -ENXIO;
	if (re->min_complete > r->cq_entries)
		return -EINVAL;
	/* new entries, or room the caller made: the worker looks */
	kick(r);
	if (!re->min_complete)
		return 0;
	/* a signal interrupts the wait only; the requests go on */
	if (wait_event_interruptible(s->wait, enter_done(r, re->min_complete)))
		return -ERESTARTSYS;
	return 0;
}

void llm_ring_stop(struct llm_session *s)
{
	if (s->ring)
		cancel_work_sync(&s->ring->work);
}

void llm_ring_free(struct llm_session *s)
{
	if (!s->ring)
		return;
	vfree(s->ring->mem);
	kfree(s->ring);
	s->ring = NULL;
}
