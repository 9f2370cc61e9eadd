// SPDX-License-Identifier: GPL-2.0
/*
 * A neighbour on the ring: key agreement, sealing and opening packets,
 * the replay window, reliable frames, a dead peer.  Runs on the node's
 * workqueue (process context); counters and keys are under l->lock, which
 * the hook takes too (so with bottom halves off here).
 *
 * Keys.  Both ends know the ring's pre-shared key K.  HELLO and
 * HELLO_REPLY are sealed with blake2s(K, "hello") under a random 64-bit
 * nonce and carry each side's fresh random nonce and the wall clock; a
 * hello no newer than the last one accepted from that peer is a replay.
 * After the exchange each direction has its own key,
 * blake2s(K, label | Ni | Nr | ring | nodes | direction), and its packet
 * counter starts at zero: a module reload draws new nonces, so a key and
 * counter pair never repeats and old packets do not open.
 *
 * Reliability.  A frame stays in its tx slot until the peer acknowledges
 * it whole.  The receiver asks for missing fragments (NACK) when the last
 * one arrives without the rest, or when a frame stalls; the sender resends
 * what is unacknowledged after the retransmission timeout (RFC 6298 from
 * measured round trips, Karn's rule, doubling), and after ring_retries
 * timeouts in a row declares the peer dead: its frames fail, the head's
 * waiting steps end with EHOSTUNREACH, and hellos go on until it answers.
 */
#include <linux/kernel.h>
#include <linux/in.h>
#include <linux/random.h>
#include <linux/timekeeping.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <crypto/chacha20poly1305.h>
#include <crypto/blake2s.h>

#include "node.h"

#define HELLO_INTERVAL_NS	(250 * NSEC_PER_MSEC)

static u32 rto_min_us(void)
{
	return max(1u, READ_ONCE(llm_ring_rto_min_ms)) * 1000;
}

static u32 rto_max_us(void)
{
	return max(READ_ONCE(llm_ring_rto_max_ms), 2u) * 1000;
}

void llm_link_init(struct llm_link *l, struct llm_node *n,
		   const struct llm_node_peer *p)
{
	memset(l, 0, sizeof(*l));
	l->node = n;
	l->peer = *p;
	spin_lock_init(&l->lock);
	l->state = LLM_LINK_HANDSHAKE;
	l->initiator = n->cfg.node < p->node;
	llm_rtt_init(&l->rtt, min(rto_max_us(), max(rto_min_us(), 200000u)));
	llm_replay_init(&l->replay);
	llm_replay_init(&l->frames_seen);
}

void llm_link_count_drop(struct llm_link *l, u32 cause)
{
	unsigned long flags;

	spin_lock_irqsave(&l->lock, flags);
	l->st.drops[cause]++;
	spin_unlock_irqrestore(&l->lock, flags);
}

bool llm_link_up(struct llm_link *l)
{
	return READ_ONCE(l->state) == LLM_LINK_UP;
}

/* Seal @body under @key and @ctr after @h, and send it.  tx_mutex held. */
static int send_sealed(struct llm_link *l, struct llm_wire_hdr *h,
		       const u8 *body, u32 len, const u8 *key)
{
	struct llm_node *n = l->node;
	u8 *pkt = n->txbuf;
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(l->peer.port),
		.sin_addr.s_addr = (__force __be32)l->peer.addr,
	};
	struct msghdr msg = {
		.msg_name = &to,
		.msg_namelen = sizeof(to),
		.msg_flags = MSG_DONTWAIT,
	};
	struct kvec vec = { .iov_base = pkt };
	int ret;

	lockdep_assert_held(&n->tx_mutex);
	h->ring_id = n->cfg.ring_id;
	h->src = n->cfg.node;
	h->dst = l->peer.node;
	llm_wire_pack(h, pkt);
	chacha20poly1305_encrypt(pkt + LLM_WIRE_HDR, body, len, pkt,
				 LLM_WIRE_HDR, h->counter, key);
	vec.iov_len = LLM_WIRE_HDR + len + LLM_WIRE_TAG;
	ret = kernel_sendmsg(n->sock, &msg, &vec, 1, vec.iov_len);
	spin_lock_bh(&l->lock);
	if (ret >= 0) {
		l->st.packets_out++;
		l->st.bytes_out += vec.iov_len;
	}
	spin_unlock_bh(&l->lock);
	return ret < 0 ? ret : 0;
}

/* A packet under the link's keys; -ENOTCONN before they are agreed. */
static int send_keyed(struct llm_link *l, struct llm_wire_hdr *h,
		      const u8 *body, u32 len)
{
	u8 key[32];

	spin_lock_bh(&l->lock);
	if (l->state != LLM_LINK_UP) {
		spin_unlock_bh(&l->lock);
		return -ENOTCONN;
	}
	h->counter = l->tx_counter++;
	memcpy(key, l->key_tx, sizeof(key));
	spin_unlock_bh(&l->lock);
	return send_sealed(l, h, body, len, key);
}

static void send_hello(struct llm_link *l, u8 type, const u8 *echo)
{
	struct llm_node *n = l->node;
	struct llm_wire_hdr h = {
		.type = type, .frag_count = 1,
		.frag_bytes = LLM_WIRE_HELLO_LEN,
		.frame_len = LLM_WIRE_HELLO_LEN, .epoch = n->epoch,
	};
	struct llm_wire_hello hb = {
		.time_ns = ktime_get_real_ns(),
		.n_nodes = n->cfg.n_nodes, .mtu = n->cfg.mtu,
	};
	u8 body[LLM_WIRE_HELLO_LEN];

	spin_lock_bh(&l->lock);
	memcpy(hb.nonce, l->my_nonce, LLM_WIRE_NONCE);
	if (echo)
		memcpy(hb.echo, echo, LLM_WIRE_NONCE);
	l->hello_ns = ktime_get_ns();
	spin_unlock_bh(&l->lock);
	h.counter = get_random_u64();
	llm_wire_hello_pack(&hb, body);
	mutex_lock(&n->tx_mutex);
	send_sealed(l, &h, body, sizeof(body), n->hello_key);
	mutex_unlock(&n->tx_mutex);
}

/* The key of one direction, from both nonces. */
static void derive(const struct llm_node *n, const u8 *ni, const u8 *nr,
		   u32 i_node, u32 r_node, u8 dir, u8 *out)
{
	struct blake2s_state st;
	u8 tail[4 * 3 + 1];

	memcpy(tail, &n->cfg.ring_id, 4);
	memcpy(tail + 4, &i_node, 4);
	memcpy(tail + 8, &r_node, 4);
	tail[12] = dir;
	blake2s_init_key(&st, 32, n->cfg.key, LLM_NODE_KEY_LEN);
	blake2s_update(&st, "llm-ring v1 keys", 16);
	blake2s_update(&st, ni, LLM_WIRE_NONCE);
	blake2s_update(&st, nr, LLM_WIRE_NONCE);
	blake2s_update(&st, tail, sizeof(tail));
	blake2s_final(&st, out);
}

/* Keys agreed: traffic under them from counter zero.  l->lock held. */
static void keys_up(struct llm_link *l, const u8 *ni, const u8 *nr,
		    bool initiator)
{
	struct llm_node *n = l->node;
	u32 me = n->cfg.node, them = l->peer.node;
	u32 i_node = initiator ? me : them, r_node = initiator ? them : me;

	derive(n, ni, nr, i_node, r_node, initiator ? 1 : 2, l->key_tx);
	derive(n, ni, nr, i_node, r_node, initiator ? 2 : 1, l->key_rx);
	l->tx_counter = 0;
	llm_replay_init(&l->replay);
	llm_replay_init(&l->frames_seen);
	l->fails = 0;
	l->state = LLM_LINK_UP;
	l->st.handshakes++;
}

/* Resend everything in flight on @l now (new keys, or a NACK storm). */
static void due_now(struct llm_link *l)
{
	struct llm_node *n = l->node;
	u64 now = ktime_get_ns();
	u32 i;

	mutex_lock(&n->tx_mutex);
	for (i = 0; i < n->n_tx; i++)
		if (n->tx[i].busy && n->tx[i].link == l)
			n->tx[i].due_ns = now;
	mutex_unlock(&n->tx_mutex);
	mod_delayed_work(n->wq, &n->timer, 0);
}

static void rx_hello(struct llm_link *l, struct llm_rxd *d)
{
	struct llm_node *n = l->node;
	u32 body = d->len - LLM_WIRE_HDR - LLM_WIRE_TAG;
	u8 plain[LLM_WIRE_HELLO_LEN], nonce[LLM_WIRE_NONCE];
	struct llm_wire_hello hb;
	bool reply = false, up = false;

	if (body != LLM_WIRE_HELLO_LEN ||
	    !chacha20poly1305_decrypt(plain, d->pkt + LLM_WIRE_HDR,
				      body + LLM_WIRE_TAG, d->pkt,
				      LLM_WIRE_HDR, d->h.counter,
				      n->hello_key)) {
		llm_link_count_drop(l, LLM_DROP_BAD_TAG);
		return;
	}
	llm_wire_hello_parse(plain, &hb);
	spin_lock_bh(&l->lock);
	if (hb.time_ns <= l->their_time) {
		l->st.drops[LLM_DROP_REPLAY]++;
		goto out;
	}
	if (d->h.type == LLM_WIRE_HELLO) {
		/* both started: the lower node id's exchange wins */
		if (l->state == LLM_LINK_HANDSHAKE && l->initiator &&
		    l->hello_ns) {
			l->st.drops[LLM_DROP_STALE]++;
			goto out;
		}
		l->their_time = hb.time_ns;
		get_random_bytes(l->my_nonce, LLM_WIRE_NONCE);
		keys_up(l, hb.nonce, l->my_nonce, false);
		memcpy(nonce, hb.nonce, LLM_WIRE_NONCE);
		reply = up = true;
	} else {
		if (l->state == LLM_LINK_UP ||
		    memcmp(hb.echo, l->my_nonce, LLM_WIRE_NONCE)) {
			l->st.drops[LLM_DROP_STALE]++;
			goto out;
		}
		l->their_time = hb.time_ns;
		keys_up(l, l->my_nonce, hb.nonce, true);
		up = true;
	}
out:
	spin_unlock_bh(&l->lock);
	if (reply)
		send_hello(l, LLM_WIRE_HELLO_REPLY, nonce);
	if (up) {
		wake_up_all(&n->wait);
		due_now(l);
	}
}

/* Start (or restart) the exchange as initiator. */
static void hello(struct llm_link *l)
{
	spin_lock_bh(&l->lock);
	get_random_bytes(l->my_nonce, LLM_WIRE_NONCE);
	spin_unlock_bh(&l->lock);
	send_hello(l, LLM_WIRE_HELLO, NULL);
}

static void send_small(struct llm_link *l, u8 type, const struct llm_wire_hdr *about,
		       const u8 *body, u32 len)
{
	struct llm_node *n = l->node;
	struct llm_wire_hdr h = {
		.type = type, .frame = about->frame,
		.session = about->session, .step = about->step,
		.frag_count = type == LLM_WIRE_NACK ? about->frag_count : 1,
		.frag_bytes = type == LLM_WIRE_NACK ? 0 : len,
		.frame_len = len, .epoch = about->epoch,
	};

	mutex_lock(&n->tx_mutex);
	send_keyed(l, &h, body, len);
	mutex_unlock(&n->tx_mutex);
}

/* Ask for the fragments of @rs not yet here. */
static void nack(struct llm_link *l, struct llm_rslot *rs)
{
	u8 map[LLM_WIRE_MAX_FRAGS / 8];
	u32 i;

	memset(map, 0, sizeof(map));
	for (i = 0; i < rs->count; i++)
		if (!llm_frag_test(rs->done, i))
			map[i / 8] |= 1 << (i % 8);
	rs->nack_ns = ktime_get_ns();
	send_small(l, LLM_WIRE_NACK, &rs->hdr, map, llm_nack_len(rs->count));
	spin_lock_bh(&l->lock);
	l->st.nacks_out++;
	spin_unlock_bh(&l->lock);
}

/* Open a fragment in its slot; a whole frame goes to stage.c. */
static void rx_fragment(struct llm_link *l, struct llm_rxd *d)
{
	struct llm_node *n = l->node;
	struct llm_rslot *rs = &n->rs[d->slot];
	u32 idx = d->h.frag_idx, len;
	u8 *at = rs->body + (u64)idx * d->h.frag_bytes;
	u8 key[32];
	bool ok, whole = false, ask = false;

	len = llm_wire_frag_len(d->h.frame_len, d->h.frag_bytes, idx);
	memcpy(n->rxbuf, at, len);
	memcpy(n->rxbuf + len, rs->tags + idx * LLM_WIRE_TAG, LLM_WIRE_TAG);
	spin_lock_bh(&l->lock);
	memcpy(key, l->key_rx, sizeof(key));
	ok = l->state == LLM_LINK_UP;
	spin_unlock_bh(&l->lock);
	ok = ok && chacha20poly1305_decrypt(at, n->rxbuf, len + LLM_WIRE_TAG,
					    d->raw_hdr, LLM_WIRE_HDR,
					    d->h.counter, key);
	spin_lock_bh(&l->lock);
	if (!ok)
		l->st.drops[LLM_DROP_BAD_TAG]++;
	else if (!llm_replay_accept(&l->replay, d->h.counter)) {
		l->st.drops[LLM_DROP_REPLAY]++;
		ok = false;
	}
	spin_unlock_bh(&l->lock);

	spin_lock_bh(&n->rx_lock);
	llm_frag_clear(rs->pending, idx);
	if (ok && !llm_frag_test(rs->done, idx)) {
		llm_frag_set(rs->done, idx);
		rs->n_done++;
		rs->last_ns = ktime_get_ns();
		if (rs->n_done == rs->count) {
			rs->state = RS_READY;
			whole = true;
		} else if (idx == rs->count - 1) {
			ask = true;
		}
	}
	if (!ok && !rs->n_done && !bitmap_weight((unsigned long *)rs->pending,
						 LLM_WIRE_MAX_FRAGS))
		rs->state = RS_FREE;	/* only forgeries ever came */
	spin_unlock_bh(&n->rx_lock);

	if (ask)
		nack(l, rs);
	if (!whole)
		return;
	spin_lock_bh(&l->lock);
	llm_replay_accept(&l->frames_seen, rs->frame);
	l->st.frames_in++;
	spin_unlock_bh(&l->lock);
	send_small(l, LLM_WIRE_ACK, &rs->hdr, NULL, 0);
	if (rs->hdr.type == LLM_WIRE_RESULT) {
		llm_stage_result(n, rs);
		return;
	}
	spin_lock_bh(&n->rx_lock);
	list_add_tail(&rs->ready, &n->ready);
	spin_unlock_bh(&n->rx_lock);
	queue_work(system_unbound_wq, &n->compute_work);
}

/*
 * Open a packet kept whole in its descriptor (ACK, NACK, CONTROL, or a
 * copy of a fragment we have) into @plain.
 */
static bool open_small(struct llm_link *l, struct llm_rxd *d, u8 *plain)
{
	u32 body = d->len - LLM_WIRE_HDR - LLM_WIRE_TAG;
	u8 key[32];
	bool ok;

	spin_lock_bh(&l->lock);
	memcpy(key, l->key_rx, sizeof(key));
	ok = l->state == LLM_LINK_UP;
	spin_unlock_bh(&l->lock);
	ok = ok && chacha20poly1305_decrypt(plain, d->pkt + LLM_WIRE_HDR,
					    body + LLM_WIRE_TAG, d->pkt,
					    LLM_WIRE_HDR, d->h.counter, key);
	spin_lock_bh(&l->lock);
	if (!ok)
		l->st.drops[LLM_DROP_BAD_TAG]++;
	else if (!llm_replay_accept(&l->replay, d->h.counter)) {
		l->st.drops[LLM_DROP_REPLAY]++;
		ok = false;
	}
	spin_unlock_bh(&l->lock);
	return ok;
}

static struct llm_txf *tx_frame(struct llm_node *n, struct llm_link *l,
				u64 frame)
{
	u32 i;

	for (i = 0; i < n->n_tx; i++)
		if (n->tx[i].busy && n->tx[i].link == l &&
		    n->tx[i].hdr.frame == frame)
			return &n->tx[i];
	return NULL;
}

/* Send fragments of @f: all, or those set in @map.  tx_mutex held. */
static int send_frags(struct llm_txf *f, const u8 *map)
{
	struct llm_wire_hdr h = f->hdr;
	u32 i;
	int ret = 0;

	for (i = 0; i < h.frag_count && !ret; i++) {
		if (map && !(map[i / 8] >> (i % 8) & 1))
			continue;
		h.frag_idx = i;
		ret = send_keyed(f->link, &h,
				 f->body + (u64)i * h.frag_bytes,
				 llm_wire_frag_len(h.frame_len, h.frag_bytes, i));
	}
	return ret;
}

static void rx_ack(struct llm_link *l, struct llm_rxd *d, const u8 *plain)
{
	struct llm_node *n = l->node;
	struct llm_txf *f;
	u64 now = ktime_get_ns();

	mutex_lock(&n->tx_mutex);
	f = tx_frame(n, l, d->h.frame);
	if (f && d->h.type == LLM_WIRE_ACK) {
		spin_lock_bh(&l->lock);
		if (!f->resent)
			llm_rtt_sample(&l->rtt, div_u64(now - f->sent_ns, 1000),
				       rto_min_us(), rto_max_us());
		l->fails = 0;
		l->st.frames_out++;
		spin_unlock_bh(&l->lock);
		f->busy = false;
		wake_up_all(&n->wait);
	} else if (f && d->h.frag_count == f->hdr.frag_count) {
		u32 sent = 0, i;

		for (i = 0; i < f->hdr.frag_count; i++)
			sent += plain[i / 8] >> (i % 8) & 1;
		send_frags(f, plain);
		spin_lock_bh(&l->lock);
		l->st.nacks_in++;
		l->st.retransmits += sent;
		spin_unlock_bh(&l->lock);
		f->resent = true;
	}
	mutex_unlock(&n->tx_mutex);
}

void llm_link_rx(struct llm_node *n, struct llm_rxd *d)
{
	struct llm_link *l = d->link;
	u8 *plain = n->rxbuf;	/* the worker's alone */

	spin_lock_bh(&l->lock);
	l->st.packets_in++;
	l->st.bytes_in += d->h.frame_len + LLM_WIRE_HDR + LLM_WIRE_TAG;
	spin_unlock_bh(&l->lock);

	switch (d->h.type) {
	case LLM_WIRE_HELLO:
	case LLM_WIRE_HELLO_REPLY:
		rx_hello(l, d);
		return;
	case LLM_WIRE_DATA:
	case LLM_WIRE_RESULT:
		if (d->dup) {
			/*
			 * Whole already: its ACK was lost.  Ack again once the
			 * copy opens (a packet too big to keep inline, under
			 * a jumbo MTU, is acked unopened: an ACK tells an
			 * attacker nothing it did not send).
			 */
			if (d->len && !open_small(l, d, n->rxbuf))
				return;
			spin_lock_bh(&l->lock);
			l->st.dup_frames++;
			spin_unlock_bh(&l->lock);
			send_small(l, LLM_WIRE_ACK, &d->h, NULL, 0);
			return;
		}
		rx_fragment(l, d);
		return;
	case LLM_WIRE_ACK:
	case LLM_WIRE_NACK:
		if (open_small(l, d, plain))
			rx_ack(l, d, plain);
		return;
	case LLM_WIRE_CONTROL:
		/* reserved in v1: authenticated, counted, no action */
		open_small(l, d, plain);
		return;
	}
}

int llm_link_send_frame(struct llm_link *l, struct llm_txf *f)
{
	struct llm_node *n = l->node;
	u32 fb = llm_wire_frag_bytes(n->cfg.mtu);
	int ret;

	lockdep_assert_held(&n->tx_mutex);
	if (READ_ONCE(l->state) == LLM_LINK_DEAD)
		return -EHOSTUNREACH;
	spin_lock_bh(&l->lock);
	f->hdr.frame = l->next_frame++;
	f->due_ns = ktime_get_ns() + (u64)l->rtt.rto_us * 1000;
	spin_unlock_bh(&l->lock);
	f->link = l;
	f->hdr.frag_bytes = min(fb, f->len);
	f->hdr.frag_count = llm_wire_frags(f->len, f->hdr.frag_bytes);
	f->hdr.frame_len = f->len;
	f->sent_ns = ktime_get_ns();
	f->tries = 0;
	f->resent = false;
	f->busy = true;
	ret = send_frags(f, NULL);
	/* not yet keyed, or the socket full: the timer sends it */
	return ret == -ENOTCONN || ret == -EAGAIN || ret == -ENOBUFS ? 0 : ret;
}

/* Every frame in flight on @l fails (the peer is dead, or we go down). */
void llm_link_fail_frames(struct llm_link *l)
{
	struct llm_node *n = l->node;
	u32 i;

	mutex_lock(&n->tx_mutex);
	for (i = 0; i < n->n_tx; i++)
		if (n->tx[i].busy && n->tx[i].link == l)
			n->tx[i].busy = false;
	mutex_unlock(&n->tx_mutex);
}

static void declare_dead(struct llm_link *l)
{
	struct llm_node *n = l->node;

	spin_lock_bh(&l->lock);
	l->state = LLM_LINK_DEAD;
	l->st.deaths++;
	l->hello_ns = 0;
	spin_unlock_bh(&l->lock);
	pr_warn_ratelimited("ring: node %u (%pI4:%u) is not answering: declared dead\n",
			    l->peer.node, &l->peer.addr, l->peer.port);
	llm_stage_link_dead(n, l);	/* tells the head, on a member */
	llm_link_fail_frames(l);
	wake_up_all(&n->wait);
}

/* Retransmissions, reassembly timeouts, NACKs of stalled frames, hellos. */
void llm_link_timer(struct llm_node *n)
{
	u64 now = ktime_get_ns();
	u32 i, retries = max(1u, READ_ONCE(llm_ring_retries));
	struct llm_link *gone[2] = { NULL, NULL };
	int g = 0;

	for (i = 0; i < 2; i++) {
		struct llm_link *l = &n->links[i];
		u32 st = READ_ONCE(l->state);

		if (i == 1 && n->next == n->prev)
			break;
		/*
		 * Say hello until the peer answers: both ends do (a node
		 * that restarts is heard at once), and when both start,
		 * the lower node id's exchange wins (rx_hello()).
		 */
		if (st != LLM_LINK_UP &&
		    now - READ_ONCE(l->hello_ns) > HELLO_INTERVAL_NS)
			hello(l);
	}

	mutex_lock(&n->tx_mutex);
	for (i = 0; i < n->n_tx; i++) {
		struct llm_txf *f = &n->tx[i];
		struct llm_link *l = f->link;

		if (!f->busy || now < f->due_ns)
			continue;
		if (!llm_link_up(l)) {
			f->due_ns = now + (u64)rto_min_us() * 1000;
			continue;
		}
		spin_lock_bh(&l->lock);
		llm_rtt_backoff(&l->rtt, rto_max_us());
		f->due_ns = now + (u64)l->rtt.rto_us * 1000;
		if (++f->tries > retries && g < 2 && gone[0] != l)
			gone[g++] = l;
		l->st.retransmits += f->hdr.frag_count;
		spin_unlock_bh(&l->lock);
		f->resent = true;
		send_frags(f, NULL);
	}
	mutex_unlock(&n->tx_mutex);
	for (i = 0; i < g; i++)
		declare_dead(gone[i]);

	for (i = 0; i < n->n_slots; i++) {
		struct llm_rslot *rs = &n->rs[i];
		struct llm_link *l;
		u64 rto;
		bool ask = false, drop = false;

		spin_lock_bh(&n->rx_lock);
		l = rs->link;
		if (rs->state == RS_FILLING) {
			rto = (u64)READ_ONCE(l->rtt.rto_us) * 1000;
			if (now - rs->last_ns > rto * (retries + 1) &&
			    !bitmap_weight((unsigned long *)rs->pending,
					   LLM_WIRE_MAX_FRAGS)) {
				rs->state = RS_FREE;
				drop = true;
			} else if (rs->n_done && now - rs->last_ns > rto / 2 &&
				   now - rs->nack_ns > rto) {
				ask = true;
			}
		}
		spin_unlock_bh(&n->rx_lock);
		if (drop) {
			spin_lock_bh(&l->lock);
			l->st.reasm_timeouts++;
			spin_unlock_bh(&l->lock);
		}
		if (ask)
			nack(l, rs);
	}
}
