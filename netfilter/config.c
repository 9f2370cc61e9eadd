// SPDX-License-Identifier: GPL-2.0
/*
 * The node's configuration and life: LLM_IOC_NODE_SET (up, reconfigure,
 * down), LLM_IOC_NODE_GET, and the buffers.  One node per kernel (the
 * model and its session contexts are the kernel's), configured from one
 * network namespace; every step of its life runs under the model's
 * install lock, so a model load or unload and a ring change never cross.
 *
 * Buffers, all reserved at "up" from the arena after the model and given
 * back at "down": reassembly slots (ring_slots frames of the largest size a
 * step sends: a prefill batch of n_batch positions), one tx frame per
 * session slot (kept until acknowledged), the receive queue, the head's
 * waiters, one packet each for sealing and opening.  Nothing is allocated
 * per packet or per step.
 */
#include <linux/capability.h>
#include <linux/nsproxy.h>
#include <linux/uaccess.h>
#include <linux/in.h>
#include <linux/slab.h>
#include <net/sock.h>
#include <net/ip.h>
#include <crypto/blake2s.h>

#include "node.h"
#include "../llm/kmodel.h"

static u32 next_epoch;

void llm_node_rslot_free(struct llm_node *n, struct llm_rslot *rs)
{
	spin_lock_bh(&n->rx_lock);
	if (!list_empty(&rs->ready))
		list_del_init(&rs->ready);
	rs->state = RS_FREE;
	spin_unlock_bh(&n->rx_lock);
}

static void rx_work(struct work_struct *w)
{
	struct llm_node *n = container_of(w, struct llm_node, rx_work);
	struct llm_rxd *d;

	for (;;) {
		spin_lock_bh(&n->rx_lock);
		if (n->rxq_tail == n->rxq_head) {
			spin_unlock_bh(&n->rx_lock);
			return;
		}
		/* the hook writes only past rxq_head: this one is ours */
		d = &n->rxq[n->rxq_tail % LLM_RXQ];
		spin_unlock_bh(&n->rx_lock);
		llm_link_rx(n, d);
		spin_lock_bh(&n->rx_lock);
		n->rxq_tail++;
		spin_unlock_bh(&n->rx_lock);
		cond_resched();
	}
}

#define TICK	(HZ / 100 ? HZ / 100 : 1)

static void timer_work(struct work_struct *w)
{
	struct llm_node *n = container_of(to_delayed_work(w), struct llm_node,
					  timer);

	if (READ_ONCE(n->stopping))
		return;
	llm_link_timer(n);
	queue_delayed_work(n->wq, &n->timer, TICK);
}

static size_t frame_max(const struct llm_kmodel *km)
{
	return LLM_WIRE_DATA_META +
	       (size_t)km->ex.n_batch * km->model.cfg.n_embd * sizeof(float);
}

static int reserve(struct llm_node *n)
{
	/* a tag for every fragment a peer may cut a frame into */
	u32 i, frags = LLM_WIRE_MAX_FRAGS;

	n->arena_mark = llm_kmodel_tail_mark();
	n->rs = llm_kmodel_tail_alloc(sizeof(*n->rs) * n->n_slots);
	n->tx = llm_kmodel_tail_alloc(sizeof(*n->tx) * n->n_tx);
	n->rxq = llm_kmodel_tail_alloc(sizeof(*n->rxq) * LLM_RXQ);
	n->waiters = llm_kmodel_tail_alloc(sizeof(*n->waiters) * n->n_tx);
	n->txbuf = llm_kmodel_tail_alloc(n->cfg.mtu);
	/* a peer's fragments may be as big as a datagram */
	n->rxbuf = llm_kmodel_tail_alloc(65536);
	if (!n->rs || !n->tx || !n->rxq || !n->waiters || !n->txbuf ||
	    !n->rxbuf)
		return -ENOMEM;
	for (i = 0; i < n->n_slots; i++) {
		n->rs[i].body = llm_kmodel_tail_alloc(n->rx_bytes);
		n->rs[i].tags = llm_kmodel_tail_alloc(frags * LLM_WIRE_TAG);
		INIT_LIST_HEAD(&n->rs[i].ready);
		if (!n->rs[i].body || !n->rs[i].tags)
			return -ENOMEM;
	}
	for (i = 0; i < n->n_tx; i++) {
		n->tx[i].body = llm_kmodel_tail_alloc(n->tx_bytes);
		if (!n->tx[i].body)
			return -ENOMEM;
	}
	return 0;
}

static bool same_peer(const struct llm_node_peer *a,
		      const struct llm_node_peer *b)
{
	return a->addr == b->addr && a->port == b->port;
}

static int check(const struct llm_node_config *c, const struct llm_kmodel *km)
{
	u32 nn = c->n_nodes;

	if (nn < 2 || nn > LLM_NODE_MAX || c->node >= nn || c->flags ||
	    !c->port || c->port > 65535 || c->mtu < 576 || c->mtu > 9000)
		return -EINVAL;
	if (c->prev.node != (c->node + nn - 1) % nn ||
	    c->next.node != (c->node + 1) % nn ||
	    !c->prev.port || !c->next.port || !c->prev.addr || !c->next.addr)
		return -EINVAL;
	/* in a ring of two both neighbours are the one other node */
	if ((nn == 2) != same_peer(&c->prev, &c->next))
		return -EINVAL;
	if (c->layer_first >= c->layer_last ||
	    c->layer_last > km->model.cfg.n_layers ||
	    (c->node == 0 && c->layer_first) ||
	    (c->node == nn - 1 && c->layer_last != km->model.cfg.n_layers))
		return -EINVAL;
	/* the model may hold only this node's share (load --layers) */
	if (c->layer_first < km->model.layer_first ||
	    c->layer_last > km->model.layer_end)
		return -ERANGE;
	if (llm_wire_frags(frame_max(km), llm_wire_frag_bytes(c->mtu)) >
	    LLM_WIRE_MAX_FRAGS || frame_max(km) > LLM_WIRE_MAX_FRAME)
		return -EMSGSIZE;
	return 0;
}

static void down_locked(struct llm_node *n)
{
	u32 i;

	WRITE_ONCE(n->stopping, true);
	wake_up_all(&n->wait);
	llm_nf_set_node(n->net, NULL);		/* no packet reaches it now */
	cancel_delayed_work_sync(&n->timer);
	flush_work(&n->rx_work);
	cancel_work_sync(&n->compute_work);
	llm_node_publish(NULL);			/* waits for the head's steps */
	destroy_workqueue(n->wq);
	sock_release(n->sock);
	/* a member's contexts held ring conversations: give their pages back */
	if (n->cfg.node)
		for (i = 0; i < n->n_tx; i++)
			llm_kmodel_release_ctx(n->km, i);
	llm_kmodel_tail_rewind(n->arena_mark);
	pr_info("ring: node %u down\n", n->cfg.node);
	llm_kmodel_put(n->km);
	kfree_sensitive(n);
}

static int up_locked(struct net *net, const struct llm_node_config *cfg)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct llm_kmodel *km;
	struct llm_node *n;
	int ret;

	km = llm_kmodel_current_locked();
	if (!km)
		return -ENODATA;
	ret = check(cfg, km);
	if (ret) {
		llm_kmodel_put(km);
		return ret;
	}
	n = kzalloc(sizeof(*n), GFP_KERNEL);
	if (!n) {
		llm_kmodel_put(km);
		return -ENOMEM;
	}
	/* not pinned: its pernet exit takes the node down (hook.c) */
	n->net = net;
	n->km = km;
	n->cfg = *cfg;
	if (!next_epoch)
		next_epoch = get_random_u32();
	n->epoch = ++next_epoch ?: ++next_epoch;
	n->seen_epoch = 0;
	n->is_last = cfg->node == cfg->n_nodes - 1;
	n->n_tx = llm_kmodel_slots();
	n->n_slots = READ_ONCE(llm_ring_slots) ?: 2 * n->n_tx + 2;
	n->rx_bytes = frame_max(km);
	n->tx_bytes = n->rx_bytes;
	spin_lock_init(&n->rx_lock);
	INIT_LIST_HEAD(&n->ready);
	mutex_init(&n->tx_mutex);
	init_waitqueue_head(&n->wait);
	INIT_WORK(&n->rx_work, rx_work);
	INIT_WORK(&n->compute_work, llm_stage_compute_work);
	INIT_DELAYED_WORK(&n->timer, timer_work);
	blake2s(n->hello_key, "llm-ring v1 hello", cfg->key, 32, 17,
		LLM_NODE_KEY_LEN);
	llm_link_init(&n->links[0], n, &cfg->prev);
	n->prev = &n->links[0];
	if (cfg->n_nodes == 2) {
		n->next = n->prev;
	} else {
		llm_link_init(&n->links[1], n, &cfg->next);
		n->next = &n->links[1];
	}

	ret = reserve(n);
	if (ret) {
		pr_err("ring: the arena cannot hold the node's buffers (%u slots and %u frames of %u bytes); raise arena_mb or lower ring_slots\n",
		       n->n_slots, n->n_tx, n->rx_bytes);
		goto fail_arena;
	}
	n->wq = alloc_ordered_workqueue("llm-ring", WQ_MEM_RECLAIM);
	if (!n->wq) {
		ret = -ENOMEM;
		goto fail_arena;
	}
	ret = sock_create_kern(net, PF_INET, SOCK_DGRAM, IPPROTO_UDP,
			       &n->sock);
	if (ret)
		goto fail_wq;
	/* never let IP fragment what we send: fragments sized to the MTU */
	ip_sock_set_mtu_discover(n->sock->sk, IP_PMTUDISC_DO);
	sin.sin_port = htons(cfg->port);
	ret = kernel_bind(n->sock, (struct sockaddr *)&sin, sizeof(sin));
	if (ret)
		goto fail_sock;

	llm_node_publish(n);
	llm_nf_set_node(net, n);
	queue_delayed_work(n->wq, &n->timer, 0);
	pr_info("ring: node %u of %u up: layers %u..%u, port %u, next %pI4:%u\n",
		cfg->node, cfg->n_nodes, cfg->layer_first, cfg->layer_last - 1,
		cfg->port, &cfg->next.addr, cfg->next.port);
	return 0;

fail_sock:
	sock_release(n->sock);
fail_wq:
	destroy_workqueue(n->wq);
fail_arena:
	llm_kmodel_tail_rewind(n->arena_mark);
	llm_kmodel_put(km);
	kfree_sensitive(n);
	return ret;
}

void llm_node_model_gone(void)
{
	struct llm_node *n = READ_ONCE(llm_node_active);

	if (n)
		down_locked(n);
}

void llm_node_net_gone(struct net *net)
{
	struct llm_node *n;

	llm_kmodel_lock();
	n = READ_ONCE(llm_node_active);
	if (n && n->net == net)
		down_locked(n);
	llm_kmodel_unlock();
}

static int ring_set(struct net *net, struct llm_node_config *cfg)
{
	struct llm_node *n;
	int ret = 0;

	if (cfg->op != LLM_NODE_UP && cfg->op != LLM_NODE_DOWN)
		return -EINVAL;
	if (!cfg->mtu)
		cfg->mtu = 1500;
	llm_kmodel_lock();
	n = READ_ONCE(llm_node_active);
	if (n && n->net != net) {
		ret = -EBUSY;
		goto out;
	}
	if (cfg->op == LLM_NODE_DOWN) {
		if (!n)
			ret = -ENOTCONN;
		else
			down_locked(n);
		goto out;
	}
	if (n)
		down_locked(n);
	ret = up_locked(net, cfg);
out:
	llm_kmodel_unlock();
	return ret;
}

static void link_status(struct llm_link *l, struct llm_node_link *out)
{
	spin_lock_bh(&l->lock);
	*out = l->st;
	out->peer = l->peer;
	out->state = l->state;
	out->rtt_us = l->rtt.srtt_us;
	out->rto_us = l->rtt.rto_us;
	spin_unlock_bh(&l->lock);
}

static void ring_get(struct net *net, struct llm_node_status *st)
{
	struct llm_node *n;
	u32 i;

	llm_kmodel_lock();
	n = READ_ONCE(llm_node_active);
	if (n && n->net == net) {
		st->up = 1;
		st->config = n->cfg;
		memset(st->config.key, 0, sizeof(st->config.key));
		link_status(n->prev, &st->links[0]);
		link_status(n->next, &st->links[1]);
		st->frames = atomic64_read(&n->frames);
		st->steps = atomic64_read(&n->steps);
		st->step_errors = atomic64_read(&n->step_errors);
		st->compute_ns = atomic64_read(&n->compute_ns);
		st->wait_ns = atomic64_read(&n->wait_ns);
		st->slots = n->n_slots;
		spin_lock_bh(&n->rx_lock);
		for (i = 0; i < n->n_slots; i++)
			st->slots_used += n->rs[i].state != RS_FREE;
		spin_unlock_bh(&n->rx_lock);
		st->unknown_drops = atomic_long_read(&n->unknown_drops);
	}
	llm_kmodel_unlock();
}

bool llm_node_capable(void)
{
	struct net *net = current->nsproxy->net_ns;

	return ns_capable(net->user_ns, CAP_NET_ADMIN) ||
	       capable(CAP_SYS_ADMIN);
}

int llm_node_set(struct llm_node_config *cfg)
{
	return ring_set(current->nsproxy->net_ns, cfg);
}

void llm_node_get(struct llm_node_status *st)
{
	ring_get(current->nsproxy->net_ns, st);
}
