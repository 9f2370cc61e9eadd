// SPDX-License-Identifier: GPL-2.0
/*
 * The pipeline stage: what a frame does on this node.
 *
 *  - DATA (hidden states of @n positions of a session from @step): run
 *    this node's layers on them in the session's context (the head's slot
 *    number names it on every node); then send the states on to the next
 *    node, or, on the last node, compute the logits, draw the token with
 *    the head's sampling parameters and generator state, and send the
 *    RESULT on to the head.  A frame for a step past what this node holds
 *    (it restarted, or the split changed) answers -ERANGE with how far it
 *    is: the head feeds it the positions it lacks and tries again.
 *  - RESULT: on the head, the answer a waiting step wants; elsewhere,
 *    passed on towards the head.
 *
 * The last node samples, so a token costs (nodes - 1) frames of hidden
 * states and one small RESULT: the least a pipeline can send.  Errors go
 * back the way the frame came (to the previous node), so the head hears of
 * a node that failed a step without waiting for its timeout.
 */
#include <linux/kernel.h>
#include <linux/sched/signal.h>
#include <linux/rwsem.h>

#include "node.h"
#include "../llm/kmodel.h"
#include "../llm/core/exec.h"
#include "../llm/core/sampler.h"

/* Send a RESULT for @session/@step through @l (tx slot of the session). */
static void send_result(struct llm_node *n, struct llm_link *l, u32 session,
			u32 step, u32 epoch, const struct llm_wire_result *res)
{
	struct llm_txf *f = &n->tx[session];

	mutex_lock(&n->tx_mutex);
	f->busy = false;
	llm_wire_result_pack(res, f->body);
	f->len = LLM_WIRE_RESULT_LEN;
	memset(&f->hdr, 0, sizeof(f->hdr));
	f->hdr.type = LLM_WIRE_RESULT;
	f->hdr.session = session;
	f->hdr.step = step;
	f->hdr.epoch = epoch;
	llm_link_send_frame(l, f);
	mutex_unlock(&n->tx_mutex);
}

/* Send @md's hidden states @x on to the next node, as DATA. */
static int send_states(struct llm_node *n, u32 session, u32 step, u32 epoch,
		       const struct llm_wire_data *md, const float *x)
{
	u64 bytes = (u64)md->n_pos * md->n_embd * sizeof(float);
	struct llm_txf *f = &n->tx[session];
	int ret;

	mutex_lock(&n->tx_mutex);
	f->busy = false;
	llm_wire_data_pack(md, f->body);
	memcpy(f->body + LLM_WIRE_DATA_META, x, bytes);
	f->len = LLM_WIRE_DATA_META + bytes;
	memset(&f->hdr, 0, sizeof(f->hdr));
	f->hdr.type = LLM_WIRE_DATA;
	f->hdr.elem = LLM_WIRE_F32;
	f->hdr.session = session;
	f->hdr.step = step;
	f->hdr.epoch = epoch;
	ret = llm_link_send_frame(n->next, f);
	mutex_unlock(&n->tx_mutex);
	return ret;
}

struct member_job {
	struct llm_node *n;
	struct llm_rslot *rs;
	struct llm_ctx *c;
	struct llm_wire_data md;
	u32 session, step, epoch;
	bool logits;
	int ret;
};

/* With the executor to ourselves: states in, layers, states out. */
static int member_run(struct llm_exec *ex, void *arg)
{
	struct member_job *j = arg;
	struct llm_node *n = j->n;
	u64 bytes = (u64)j->md.n_pos * j->md.n_embd * sizeof(float);
	struct llm_stage st = {
		.c = j->c, .pos = j->step, .n = j->md.n_pos,
		.first = n->cfg.layer_first, .last = n->cfg.layer_last,
		.logits = j->logits, .commit = true,
	};
	int ret;

	memcpy(ex->x, j->rs->body + LLM_WIRE_DATA_META, bytes);
	llm_node_rslot_free(n, j->rs);
	j->rs = NULL;
	ret = llm_exec_stage(&st, NULL, NULL);
	if (ret || n->is_last)
		return ret;
	return send_states(n, j->session, j->step, j->epoch, &j->md, ex->x);
}

/* Forget every ring conversation this member holds (a new split). */
static void forget_all(struct llm_node *n)
{
	u32 i;

	for (i = 0; i < n->n_tx; i++)
		llm_ctx_reset(&n->km->ctx[i]);
}

static void member_frame(struct llm_node *n, struct llm_rslot *rs)
{
	struct llm_kmodel *km = n->km;
	const struct llm_config *cfg = &km->model.cfg;
	struct member_job j = { .n = n, .rs = rs };
	struct llm_wire_result res = { .node = n->cfg.node };
	struct llm_link *from = rs->link;
	u64 t0 = ktime_get_ns();
	u32 epoch = rs->hdr.epoch;

	j.session = rs->hdr.session;
	j.step = rs->hdr.step;
	j.epoch = epoch;
	if (llm_wire_data_parse(rs->body, rs->hdr.frame_len, &j.md) ||
	    j.md.n_embd != cfg->n_embd || j.md.n_layers != cfg->n_layers ||
	    j.md.n_vocab != cfg->n_vocab || j.session >= n->n_tx ||
	    j.md.n_pos > km->ex.n_batch) {
		llm_link_count_drop(from, LLM_DROP_MALFORMED);
		llm_node_rslot_free(n, rs);
		res.status = -EPROTO;
		if (j.session < n->n_tx)
			send_result(n, n->prev, j.session, j.step, epoch, &res);
		return;
	}
	j.c = &km->ctx[j.session];
	j.logits = n->is_last && (j.md.flags & LLM_WIRE_LOGITS);
	if (!llm_kmodel_use(km)) {
		llm_node_rslot_free(n, rs);
		res.status = -ENODEV;
		send_result(n, n->prev, j.session, j.step, epoch, &res);
		return;
	}
	if (epoch != n->seen_epoch) {
		forget_all(n);
		n->seen_epoch = epoch;
	}
	j.ret = llm_batcher_exclusive(&km->batcher, member_run, &j);
	if (j.rs)
		llm_node_rslot_free(n, j.rs);
	atomic64_add(ktime_get_ns() - t0, &n->compute_ns);
	atomic64_inc(&n->frames);
	res.tag = j.md.tag;
	if (j.ret) {
		res.status = j.ret;
		res.have = j.c->n_past;
		llm_kmodel_unuse(km);
		send_result(n, n->prev, j.session, j.step, epoch, &res);
		return;
	}
	if (!n->is_last) {
		llm_kmodel_unuse(km);
		return;
	}
	res.token = LLM_WIRE_NO_TOKEN;
	res.rng = j.md.rng;
	res.tag = j.md.tag;
	if (j.logits) {
		struct llm_sampling sp = {
			.temp_milli = j.md.temp_milli, .top_k = j.md.top_k,
			.top_p_milli = j.md.top_p_milli,
		};

		res.token = llm_sample(j.c, &sp, &res.rng);
	}
	llm_kmodel_unuse(km);
	send_result(n, n->next, j.session, j.step, epoch, &res);
}

void llm_stage_compute_work(struct work_struct *w)
{
	struct llm_node *n = container_of(w, struct llm_node, compute_work);
	struct llm_rslot *rs;

	while (!READ_ONCE(n->stopping)) {
		spin_lock_bh(&n->rx_lock);
		rs = list_first_entry_or_null(&n->ready, struct llm_rslot,
					      ready);
		if (rs) {
			list_del_init(&rs->ready);
			rs->state = RS_BUSY;
		}
		spin_unlock_bh(&n->rx_lock);
		if (!rs)
			return;
		member_frame(n, rs);
		cond_resched();
	}
}

void llm_stage_result(struct llm_node *n, struct llm_rslot *rs)
{
	struct llm_wire_result res;
	struct llm_waiter *w;
	u32 session = rs->hdr.session, step = rs->hdr.step;
	u32 rs_epoch = rs->hdr.epoch;
	struct llm_link *from = rs->link;
	bool stale;

	llm_wire_result_parse(rs->body, &res);
	llm_node_rslot_free(n, rs);
	if (session >= n->n_tx) {
		llm_link_count_drop(from, LLM_DROP_MALFORMED);
		return;
	}
	if (n->cfg.node != 0) {
		/* on towards the head, away from where it came */
		send_result(n, from == n->next ? n->prev : n->next, session,
			    step, rs_epoch, &res);
		return;
	}
	w = &n->waiters[session];
	spin_lock_bh(&n->rx_lock);
	stale = !(w->active && !w->done && w->step == step &&
		  w->tag == res.tag);
	if (!stale) {
		w->res = res;
		w->done = true;
	}
	spin_unlock_bh(&n->rx_lock);
	if (stale)
		llm_link_count_drop(from, LLM_DROP_STALE);
	/* its answer is here: the DATA frame needs no more resending */
	mutex_lock(&n->tx_mutex);
	if (n->tx[session].busy && n->tx[session].hdr.step == step &&
	    n->tx[session].hdr.type == LLM_WIRE_DATA)
		n->tx[session].busy = false;
	mutex_unlock(&n->tx_mutex);
	wake_up_all(&n->wait);
}

/*
 * A neighbour died: a member turns each step it could not pass on into an
 * EHOSTUNREACH answer, sent back towards the head (which then fails the
 * step at once, not after ring_timeout_ms).  In a ring of two the dead
 * neighbour is the head itself: nobody to tell.
 */
void llm_stage_link_dead(struct llm_node *n, struct llm_link *l)
{
	struct llm_wire_result res = {
		.status = -EHOSTUNREACH, .token = LLM_WIRE_NO_TOKEN,
		.node = n->cfg.node,
	};
	struct llm_wire_data md;
	u32 i;

	if (!n->cfg.node || n->prev == l)
		return;
	mutex_lock(&n->tx_mutex);
	for (i = 0; i < n->n_tx; i++) {
		struct llm_txf *f = &n->tx[i];
		u32 step = f->hdr.step, epoch = f->hdr.epoch;

		if (!f->busy || f->link != l || f->hdr.type != LLM_WIRE_DATA ||
		    llm_wire_data_parse(f->body, f->len, &md))
			continue;
		res.tag = md.tag;
		llm_wire_result_pack(&res, f->body);
		f->len = LLM_WIRE_RESULT_LEN;
		memset(&f->hdr, 0, sizeof(f->hdr));
		f->hdr.type = LLM_WIRE_RESULT;
		f->hdr.session = i;
		f->hdr.step = step;
		f->hdr.epoch = epoch;
		llm_link_send_frame(n->prev, f);
	}
	mutex_unlock(&n->tx_mutex);
}

/* The head's side of a step. */
struct head_job {
	struct llm_node *n;
	struct llm_ctx *c;
	const u32 *tokens;
	u32 pos, n_pos;
	bool logits;
	const u32 *sampling;
	u64 rng;
	u32 tag;
};

static int head_run(struct llm_exec *ex, void *arg)
{
	struct head_job *j = arg;
	struct llm_node *n = j->n;
	const struct llm_config *cfg = &ex->m->cfg;
	struct llm_stage st = {
		.c = j->c, .pos = j->pos, .n = j->n_pos, .tokens = j->tokens,
		.first = 0, .last = n->cfg.layer_last,
	};
	struct llm_wire_data md = {
		.n_pos = j->n_pos, .n_embd = cfg->n_embd,
		.flags = j->logits ? LLM_WIRE_LOGITS : 0,
		.temp_milli = j->sampling[0], .top_k = j->sampling[1],
		.top_p_milli = j->sampling[2], .rng = j->rng,
		.n_layers = cfg->n_layers, .n_vocab = cfg->n_vocab,
		.tag = j->tag,
	};
	int ret;

	ret = llm_exec_stage(&st, NULL, NULL);
	if (ret)
		return ret;
	return send_states(n, j->c - n->km->ctx, j->pos, n->epoch, &md, ex->x);
}

static bool link_dead(struct llm_node *n)
{
	return READ_ONCE(n->next->state) == LLM_LINK_DEAD ||
	       READ_ONCE(n->prev->state) == LLM_LINK_DEAD;
}

/* One step round the ring: 0 and @res, or -errno. */
static int head_step(struct llm_node *n, struct head_job *j,
		     struct llm_wire_result *res,
		     bool (*cancelled)(void *), void *arg)
{
	u32 slot = j->c - n->km->ctx;
	struct llm_waiter *w = &n->waiters[slot];
	u64 t0 = ktime_get_ns(), t1, limit;
	int ret;

	if (link_dead(n))
		return -EHOSTUNREACH;
	spin_lock_bh(&n->rx_lock);
	j->tag = atomic_inc_return(&n->tags);
	w->active = true;
	w->done = false;
	w->step = j->pos;
	w->tag = j->tag;
	spin_unlock_bh(&n->rx_lock);
	ret = llm_batcher_exclusive(&n->km->batcher, head_run, j);
	t1 = ktime_get_ns();
	atomic64_add(t1 - t0, &n->compute_ns);
	limit = t1 + (u64)max(1u, READ_ONCE(llm_ring_timeout_ms)) *
		NSEC_PER_MSEC;
	while (!ret) {
		if (READ_ONCE(w->done))
			break;
		if (READ_ONCE(n->stopping))
			ret = -ENETDOWN;
		else if (link_dead(n))
			ret = -EHOSTUNREACH;
		else if (cancelled && cancelled(arg))
			ret = -EINTR;
		else if (ktime_get_ns() > limit)
			ret = -ETIMEDOUT;
		else
			wait_event_timeout(n->wait, READ_ONCE(w->done) ||
					   READ_ONCE(n->stopping) ||
					   link_dead(n), HZ / 20);
	}
	spin_lock_bh(&n->rx_lock);
	w->active = false;
	*res = w->res;
	spin_unlock_bh(&n->rx_lock);
	atomic64_add(ktime_get_ns() - t1, &n->wait_ns);
	if (ret) {
		/* nothing more to resend for a step nobody waits for */
		mutex_lock(&n->tx_mutex);
		n->tx[slot].busy = false;
		mutex_unlock(&n->tx_mutex);
		return ret;
	}
	return res->status;
}

static DECLARE_RWSEM(node_rwsem);

/* Set by config.c under node_rwsem written. */
struct llm_node *llm_node_active;

static atomic_t node_gen = ATOMIC_INIT(0);

void llm_node_publish(struct llm_node *n)
{
	down_write(&node_rwsem);
	WRITE_ONCE(llm_node_active, n);
	atomic_inc(&node_gen);
	up_write(&node_rwsem);
}

u32 llm_node_generation(void)
{
	return atomic_read(&node_gen);
}

int llm_node_role(void)
{
	struct llm_node *n = READ_ONCE(llm_node_active);

	if (!n)
		return 0;
	return n->cfg.node == 0 ? 1 : 2;
}

int llm_node_forward(unsigned int slot, struct llm_kmodel *km,
		     struct llm_ctx *c, const u32 *tokens, u32 n_tok,
		     bool logits, const u32 *sampling, u64 *rng, u32 *token,
		     bool (*cancelled)(void *), void *arg)
{
	struct llm_wire_result res;
	struct head_job j = {
		.c = c, .tokens = tokens, .pos = c->n_past, .n_pos = n_tok,
		.logits = logits, .sampling = sampling, .rng = *rng,
	};
	struct llm_node *n;
	int ret, round;

	down_read(&node_rwsem);
	n = llm_node_active;
	ret = -ENETDOWN;
	if (!n || READ_ONCE(n->stopping) || n->km != km)
		goto out;
	ret = -EBUSY;
	if (n->cfg.node != 0)
		goto out;
	j.n = n;
	for (round = 0; round < 3; round++) {
		u32 from, left = 64;

		ret = head_step(n, &j, &res, cancelled, arg);
		if (ret != -ERANGE)
			break;
		/* a node lacks positions [have, pos): feed them again */
		from = min(res.have, j.pos);
		while (from < j.pos && left--) {
			struct head_job k = j;

			k.pos = from;
			k.tokens = c->tokens + from;
			k.n_pos = min(j.pos - from, km->ex.n_batch);
			k.logits = false;
			ret = head_step(n, &k, &res, cancelled, arg);
			if (ret == -ERANGE && res.have < from)
				from = res.have;
			else if (ret)
				goto fail;
			else
				from += k.n_pos;
		}
		ret = -ERANGE;
	}
fail:
	if (ret) {
		atomic64_inc(&n->step_errors);
		goto out;
	}
	atomic64_inc(&n->steps);
	ret = llm_ctx_commit(c, j.pos, tokens, n_tok);
	if (!ret && logits) {
		*token = res.token;
		*rng = res.rng;
		ret = res.token < c->m->cfg.n_vocab ? 0 : -EPROTO;
	}
out:
	up_read(&node_rwsem);
	return ret;
}
