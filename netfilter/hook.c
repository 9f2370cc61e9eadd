// SPDX-License-Identifier: GPL-2.0
/*
 * The netfilter hook: IPv4 LOCAL_IN, after the filter table (so after
 * defragmentation, rp_filter and the firewall), registered in every
 * network namespace by pernet operations.  A namespace with no node sees
 * every packet pass untouched; so does traffic to any port but the
 * node's.  Packets to the node's port are ours: from a configured peer and
 * well formed, they are copied (once, skb_copy_bits) into their frame's
 * reassembly buffer in the arena, or inline into a queue descriptor for
 * the small types, and stolen; anything else is dropped and counted by
 * cause.  Softirq: no sleeping, no FPU, no allocation; the worker opens
 * and acts on what was queued.
 */
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/skbuff.h>
#include <linux/rcupdate.h>
#include <net/netns/generic.h>
#include <net/ip.h>

#include "node.h"

struct llm_nf_net {
	struct llm_node __rcu *node;
};

static unsigned int llm_nf_net_id __read_mostly;

void llm_nf_set_node(struct net *net, struct llm_node *node)
{
	struct llm_nf_net *nn = net_generic(net, llm_nf_net_id);

	rcu_assign_pointer(nn->node, node);
	if (!node)
		synchronize_net();
}

static struct llm_link *find_link(struct llm_node *n, __be32 saddr,
				  __be16 sport)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct llm_link *l = &n->links[i];

		if (l->peer.addr == (__force u32)saddr &&
		    l->peer.port == ntohs(sport))
			return l;
	}
	return NULL;
}

/* A slot for fragment @h of a frame from @l: its own, or a free one. */
static struct llm_rslot *rslot_for(struct llm_node *n, struct llm_link *l,
				   const struct llm_wire_hdr *h)
	__must_hold(&n->rx_lock)
{
	struct llm_rslot *free = NULL;
	u32 i;

	for (i = 0; i < n->n_slots; i++) {
		struct llm_rslot *rs = &n->rs[i];

		if (rs->state == RS_FREE) {
			if (!free)
				free = rs;
			continue;
		}
		if (rs->link == l && rs->frame == h->frame)
			return rs;
	}
	if (!free)
		return NULL;
	free->state = RS_FILLING;
	free->link = l;
	free->frame = h->frame;
	free->hdr = *h;
	free->count = h->frag_count;
	free->n_done = 0;
	memset(free->pending, 0, sizeof(free->pending));
	memset(free->done, 0, sizeof(free->done));
	free->first_ns = ktime_get_ns();
	free->last_ns = free->first_ns;
	free->nack_ns = 0;
	return free;
}

/*
 * Queue one packet for the worker.  Returns NF_STOLEN (consumed) or
 * NF_DROP with the cause counted.
 */
static unsigned int take(struct llm_node *n, struct llm_link *l,
			 struct sk_buff *skb, u32 off, u32 len)
{
	u8 raw[LLM_WIRE_HDR];
	struct llm_wire_hdr h;
	struct llm_rslot *rs = NULL;
	struct llm_rxd *d;
	u32 cause, body;

	if (len < LLM_WIRE_HDR + LLM_WIRE_TAG ||
	    skb_copy_bits(skb, off, raw, LLM_WIRE_HDR)) {
		cause = LLM_DROP_MALFORMED;
		goto drop;
	}
	/* the header alone says the lengths; checked against len */
	if (llm_wire_parse(raw, len, &h, &cause))
		goto drop;
	if (h.ring_id != n->cfg.ring_id || h.dst != n->cfg.node ||
	    h.src != l->peer.node) {
		cause = LLM_DROP_STALE;
		goto drop;
	}
	body = len - LLM_WIRE_HDR - LLM_WIRE_TAG;

	spin_lock(&n->rx_lock);
	if (n->rxq_head - n->rxq_tail >= LLM_RXQ) {
		cause = LLM_DROP_NO_BUFFER;
		goto drop_locked;
	}
	d = &n->rxq[n->rxq_head % LLM_RXQ];
	d->link = l;
	d->h = h;
	memcpy(d->raw_hdr, raw, LLM_WIRE_HDR);
	d->slot = -1;
	d->dup = false;
	d->len = 0;
	if (h.type == LLM_WIRE_DATA || h.type == LLM_WIRE_RESULT) {
		u64 off_body = (u64)h.frag_idx * h.frag_bytes;

		if (h.frame_len > n->rx_bytes) {
			cause = LLM_DROP_OVERSIZED;
			goto drop_locked;
		}
		/* a frame we have whole: only acknowledge it again */
		spin_lock(&l->lock);
		d->dup = llm_replay_seen(&l->frames_seen, h.frame);
		spin_unlock(&l->lock);
		if (d->dup) {
			/* kept whole, so the worker can open it before it acks */
			if (len <= sizeof(d->pkt) &&
			    !skb_copy_bits(skb, off, d->pkt, len))
				d->len = len;
			goto queue;
		}
		rs = rslot_for(n, l, &h);
		if (!rs) {
			cause = LLM_DROP_NO_BUFFER;
			goto drop_locked;
		}
		if (rs->state != RS_FILLING || rs->count != h.frag_count ||
		    rs->hdr.frame_len != h.frame_len ||
		    rs->hdr.frag_bytes != h.frag_bytes ||
		    rs->hdr.type != h.type) {
			/* a copy of a frame being acted on, or inconsistent */
			cause = rs->state == RS_FILLING ? LLM_DROP_MALFORMED :
				LLM_DROP_STALE;
			goto drop_locked;
		}
		if (llm_frag_test(rs->pending, h.frag_idx) ||
		    llm_frag_test(rs->done, h.frag_idx)) {
			/*
			 * A fragment we have: resent (its ACK or a NACK
			 * crossed it), or duplicated on the way.  Nothing to
			 * do (a copy of a pending one would not even open).
			 */
			spin_unlock(&n->rx_lock);
			spin_lock(&l->lock);
			l->st.dup_frames++;
			spin_unlock(&l->lock);
			consume_skb(skb);
			return NF_STOLEN;
		}
		if (skb_copy_bits(skb, off + LLM_WIRE_HDR, rs->body + off_body,
				  body) ||
		    skb_copy_bits(skb, off + LLM_WIRE_HDR + body,
				  rs->tags + h.frag_idx * LLM_WIRE_TAG,
				  LLM_WIRE_TAG)) {
			cause = LLM_DROP_MALFORMED;
			goto drop_locked;
		}
		llm_frag_set(rs->pending, h.frag_idx);
		d->slot = rs - n->rs;
	} else {
		if (len > sizeof(d->pkt) || skb_copy_bits(skb, off, d->pkt, len)) {
			cause = LLM_DROP_OVERSIZED;
			goto drop_locked;
		}
		d->len = len;
	}
queue:
	n->rxq_head++;
	spin_unlock(&n->rx_lock);
	queue_work(n->wq, &n->rx_work);
	consume_skb(skb);
	return NF_STOLEN;

drop_locked:
	spin_unlock(&n->rx_lock);
drop:
	llm_link_count_drop(l, cause);
	return NF_DROP;
}

static unsigned int llm_nf_hook(void *priv, struct sk_buff *skb,
				const struct nf_hook_state *state)
{
	struct llm_nf_net *nn = net_generic(state->net, llm_nf_net_id);
	struct llm_node *n;
	struct udphdr _uh;
	const struct udphdr *uh;
	const struct iphdr *iph = ip_hdr(skb);
	unsigned int ret = NF_ACCEPT;
	struct llm_link *l;
	u32 off, len;

	if (iph->protocol != IPPROTO_UDP)
		return NF_ACCEPT;
	rcu_read_lock();
	n = rcu_dereference(nn->node);
	if (!n)
		goto out;
	off = skb_network_offset(skb) + ip_hdrlen(skb);
	uh = skb_header_pointer(skb, off, sizeof(_uh), &_uh);
	if (!uh || ntohs(uh->dest) != n->cfg.port)
		goto out;
	l = find_link(n, iph->saddr, uh->source);
	if (!l) {
		atomic_long_inc(&n->unknown_drops);
		ret = NF_DROP;
		goto out;
	}
	/*
	 * LOCAL_IN comes after reassembly, which leaves frag_max_size set:
	 * the ring never fragments, so a reassembled datagram is not ours;
	 * nor is a GSO aggregate.
	 */
	if (ip_is_fragment(iph) || IPCB(skb)->frag_max_size ||
	    skb_is_gso(skb)) {
		llm_link_count_drop(l, LLM_DROP_FRAGMENT);
		ret = NF_DROP;
		goto out;
	}
	if (nf_ip_checksum(skb, state->hook, off, IPPROTO_UDP)) {
		llm_link_count_drop(l, LLM_DROP_CHECKSUM);
		ret = NF_DROP;
		goto out;
	}
	len = ntohs(uh->len);
	if (len < sizeof(*uh) || off + len > skb->len) {
		llm_link_count_drop(l, LLM_DROP_MALFORMED);
		ret = NF_DROP;
		goto out;
	}
	ret = take(n, l, skb, off + sizeof(*uh), len - sizeof(*uh));
out:
	rcu_read_unlock();
	return ret;
}

static const struct nf_hook_ops llm_nf_ops = {
	.hook = llm_nf_hook,
	.pf = NFPROTO_IPV4,
	.hooknum = NF_INET_LOCAL_IN,
	.priority = NF_IP_PRI_FILTER + 1,
};

static int __net_init llm_nf_net_init(struct net *net)
{
	struct llm_nf_net *nn = net_generic(net, llm_nf_net_id);

	RCU_INIT_POINTER(nn->node, NULL);
	return nf_register_net_hook(net, &llm_nf_ops);
}

static void __net_exit llm_nf_net_exit(struct net *net)
{
	/* its node's socket does not pin the namespace: the node goes now */
	llm_node_net_gone(net);
	nf_unregister_net_hook(net, &llm_nf_ops);
}

static struct pernet_operations llm_nf_net_ops = {
	.init = llm_nf_net_init,
	.exit = llm_nf_net_exit,
	.id = &llm_nf_net_id,
	.size = sizeof(struct llm_nf_net),
};

int llm_nf_init(void)
{
	return register_pernet_subsys(&llm_nf_net_ops);
}

void llm_nf_exit(void)
{
	unregister_pernet_subsys(&llm_nf_net_ops);
}
