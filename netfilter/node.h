/* SPDX-License-Identifier: GPL-2.0 */
/*
 * This machine as a node of a ring that splits a model's layers across
 * machines (docs/ring.md).  One node per kernel, configured in one network
 * namespace (LLM_IOC_NODE_SET).
 *
 *  - hook.c: the netfilter hook, per namespace: takes our packets in
 *    softirq, copies each into its reassembly buffer once, queues the rest
 *    to the node's worker;
 *  - link.c: a neighbour: keys (nonce exchange), sealing and opening,
 *    the replay window, frames sent reliably (ACK, NACK, retransmission
 *    on a timeout from measured round trips), a dead peer;
 *  - stage.c: what a frame does here: run this node's layers and send the
 *    states on, or sample and send the token to the head; and the head's
 *    side of a step (llm_node_forward());
 *  - config.c: up, down, status; the node's buffers (from the arena).
 *
 * Contexts: softirq (hook) only parses, looks up, copies and queues, under
 * rx_lock (a BH spinlock).  Everything else runs in process context on
 * the node's workqueue: opening packets, acknowledging, timers, computing,
 * sending through the kernel UDP socket.
 */
#ifndef LLM_NODE_H
#define LLM_NODE_H

#include <linux/types.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/wait.h>
#include <linux/net.h>
#include <linux/refcount.h>
#include <net/net_namespace.h>

#include "wire.h"
#include "../uapi/llm.h"

struct llm_kmodel;
struct llm_ctx;
struct llm_node;

/* A frame this node sends and keeps until it is acknowledged. */
struct llm_txf {
	bool busy;		/* sent, not yet acknowledged */
	struct llm_link *link;
	struct llm_wire_hdr hdr;	/* the first fragment's; counter unset */
	u8 *body;		/* tx_bytes, in the arena */
	u32 len;
	u64 sent_ns;		/* first send: the RTT sample, if not resent */
	u64 due_ns;		/* resend all unacknowledged after this */
	u32 tries;
	bool resent;
};

/* A frame being received, in its buffer from the arena. */
struct llm_rslot {
	u32 state;		/* RS_FREE, RS_FILLING, RS_READY, RS_BUSY */
	struct llm_link *link;
	u64 frame;
	struct llm_wire_hdr hdr;	/* first fragment's: session, step ... */
	u32 count, n_done;
	u64 pending[LLM_FRAG_WORDS];	/* copied, not yet opened */
	u64 done[LLM_FRAG_WORDS];	/* opened: plaintext in body */
	u64 first_ns, last_ns, nack_ns;
	u8 *body;		/* rx_bytes */
	u8 *tags;		/* LLM_WIRE_MAX_FRAGS * LLM_WIRE_TAG */
	struct list_head ready;	/* in node->ready once whole */
};

enum { RS_FREE, RS_FILLING, RS_READY, RS_BUSY };

/* A neighbour.  In a ring of two, prev and next are one link. */
struct llm_link {
	struct llm_node *node;
	struct llm_node_peer peer;
	spinlock_t lock;	/* BH: keys, replay, counters, state */
	u32 state;		/* enum llm_link_state */
	bool initiator;		/* the lower node id starts the exchange */
	u8 key_tx[32], key_rx[32];
	u64 tx_counter;
	struct llm_replay replay;
	u8 my_nonce[LLM_WIRE_NONCE];
	u64 hello_ns;		/* when we last sent a hello */
	u64 their_time;		/* newest hello time accepted from them */
	struct llm_rtt rtt;
	u64 next_frame;		/* our frame numbers on this link */
	struct llm_replay frames_seen;	/* theirs we have whole */
	u32 fails;		/* consecutive retransmission timeouts */
	/* counters; peer, state and rtt are filled in when read */
	struct llm_node_link st;
};

/* The head's step waiting for the ring's answer, one per session slot. */
struct llm_waiter {
	bool active;
	u32 step, tag;
	bool done;
	struct llm_wire_result res;
};

struct llm_node {
	struct net *net;
	struct llm_node_config cfg;	/* key included */
	u32 epoch;			/* bumped at every (re)configuration */
	u32 seen_epoch;			/* members: the head's, last seen */
	struct llm_kmodel *km;		/* a reference */
	struct socket *sock;
	struct llm_link links[2];
	struct llm_link *prev, *next;
	u8 hello_key[32];
	bool is_last;
	bool stopping;

	/* buffers from the arena (config.c) */
	size_t arena_mark;
	u32 n_slots;			/* reassembly slots */
	u32 n_tx;			/* frames we may have in flight */
	u32 rx_bytes, tx_bytes;		/* body bytes each can hold */
	struct llm_rslot *rs;
	struct llm_txf *tx;		/* one per session slot */

	/* softirq -> worker */
	spinlock_t rx_lock;
	struct llm_rxd *rxq;		/* ring of LLM_RXQ descriptors */
	u32 rxq_head, rxq_tail;
	struct list_head ready;		/* whole frames, oldest first */

	struct workqueue_struct *wq;	/* ordered: rx, then timers */
	struct work_struct rx_work;
	struct work_struct compute_work;
	struct delayed_work timer;

	struct mutex tx_mutex;		/* the socket and tx slots */
	struct llm_waiter *waiters;	/* head: per session slot */
	wait_queue_head_t wait;		/* waiters, link state */
	atomic_t tags;			/* head: step tags */
	u8 *txbuf, *rxbuf;		/* one packet: sealing, opening */

	/* node totals (llm_node_status) */
	/* totals, from every session's step and the workers at once */
	atomic64_t frames, steps, step_errors, compute_ns, wait_ns;
	atomic_long_t unknown_drops;	/* the hook's, on any CPU */
};

/* A packet handed from softirq to the worker. */
#define LLM_RXQ		1024
/* the small types whole; and a DATA packet under a 1500-byte MTU */
#define LLM_RXD_INLINE	1472

struct llm_rxd {
	struct llm_link *link;
	struct llm_wire_hdr h;
	u8 raw_hdr[LLM_WIRE_HDR];
	s32 slot;		/* DATA: its reassembly slot, or -1 */
	bool dup;		/* DATA of a frame we have: acknowledge again */
	u32 len;		/* bytes in pkt (other types) */
	u8 pkt[LLM_RXD_INLINE];
};

/* Module parameters (main.c). */
extern unsigned int llm_ring_timeout_ms, llm_ring_rto_min_ms,
	llm_ring_rto_max_ms, llm_ring_retries, llm_ring_slots;

/* hook.c */
int llm_nf_init(void);
void llm_nf_exit(void);
void llm_nf_set_node(struct net *net, struct llm_node *node);

/* link.c */
void llm_link_init(struct llm_link *l, struct llm_node *n,
		   const struct llm_node_peer *p);
void llm_link_rx(struct llm_node *n, struct llm_rxd *d);
void llm_link_timer(struct llm_node *n);
int llm_link_send_frame(struct llm_link *l, struct llm_txf *f);
void llm_link_fail_frames(struct llm_link *l);
bool llm_link_up(struct llm_link *l);
void llm_link_count_drop(struct llm_link *l, u32 cause);

/* stage.c; llm_node_active is set by llm_node_publish() (config.c) */
extern struct llm_node *llm_node_active;
void llm_node_publish(struct llm_node *n);
void llm_stage_compute_work(struct work_struct *w);
void llm_stage_result(struct llm_node *n, struct llm_rslot *rs);
void llm_stage_link_dead(struct llm_node *n, struct llm_link *l);

/* config.c: LLM_IOC_NODE_SET/GET in the caller's network namespace */
bool llm_node_capable(void);
int llm_node_set(struct llm_node_config *cfg);
void llm_node_get(struct llm_node_status *st);
void llm_node_rslot_free(struct llm_node *n, struct llm_rslot *rs);

/*
 * The request path (request.c): whether this kernel is a ring's head, and
 * one step of a session through the ring.  Sleeps; -EHOSTUNREACH (a peer
 * is dead), -ETIMEDOUT (no answer within ring_timeout_ms), -EINTR
 * (cancelled), -ENETDOWN (the node went down), -EBUSY (this node is a
 * member, not the head: requests go to the head).
 */
int llm_node_role(void);	/* 0 none, 1 head, 2 member */
/*
 * Bumped whenever the node goes up or down: a conversation built under
 * another split of the layers is not whole here (request.c starts it
 * afresh; a request running across the change fails with ENETRESET).
 */
u32 llm_node_generation(void);
int llm_node_forward(unsigned int slot, struct llm_kmodel *km,
		     struct llm_ctx *c, const u32 *tokens, u32 n, bool logits,
		     const u32 *sampling, u64 *rng, u32 *token,
		     bool (*cancelled)(void *), void *arg);
/* The model is going (install_lock held): take the node down. */
void llm_node_model_gone(void);
/* @net is being dismantled: take its node down, if it has one. */
void llm_node_net_gone(struct net *net);

#endif /* LLM_NODE_H */
