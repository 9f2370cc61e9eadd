// SPDX-License-Identifier: GPL-2.0
/*
 * The ring's wire format: packing and stateless checks.  See wire.h and
 * docs/ring.md.  Every field is read through get*() from a buffer whose
 * length was checked first; nothing is trusted before it is checked.
 */
#include "wire.h"
#include "../uapi/llm.h"

static void put16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(u8 *p, u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static void put64(u8 *p, u64 v)
{
	put32(p, v >> 32);
	put32(p + 4, v);
}

static u16 get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static u32 get32(const u8 *p)
{
	return (u32)get16(p) << 16 | get16(p + 2);
}

static u64 get64(const u8 *p)
{
	return (u64)get32(p) << 32 | get32(p + 4);
}

void llm_wire_pack(const struct llm_wire_hdr *h, u8 *out)
{
	put32(out, LLM_WIRE_MAGIC);
	out[4] = LLM_WIRE_VERSION;
	out[5] = h->type;
	out[6] = h->elem;
	out[7] = h->flags;
	put32(out + 8, h->ring_id);
	put16(out + 12, h->src);
	put16(out + 14, h->dst);
	put64(out + 16, h->counter);
	put64(out + 24, h->frame);
	put32(out + 32, h->session);
	put32(out + 36, h->step);
	put16(out + 40, h->frag_idx);
	put16(out + 42, h->frag_count);
	put16(out + 44, h->frag_bytes);
	put16(out + 46, 0);
	put32(out + 48, h->frame_len);
	put32(out + 52, h->epoch);
}

static void unpack(const u8 *in, struct llm_wire_hdr *h)
{
	h->magic = get32(in);
	h->version = in[4];
	h->type = in[5];
	h->elem = in[6];
	h->flags = in[7];
	h->ring_id = get32(in + 8);
	h->src = get16(in + 12);
	h->dst = get16(in + 14);
	h->counter = get64(in + 16);
	h->frame = get64(in + 24);
	h->session = get32(in + 32);
	h->step = get32(in + 36);
	h->frag_idx = get16(in + 40);
	h->frag_count = get16(in + 42);
	h->frag_bytes = get16(in + 44);
	h->reserved = get16(in + 46);
	h->frame_len = get32(in + 48);
	h->epoch = get32(in + 52);
}

/* The body length each type must have (DATA: per fragment, below). */
static bool body_ok(const struct llm_wire_hdr *h, u32 body)
{
	switch (h->type) {
	case LLM_WIRE_RESULT:
		return h->frame_len == LLM_WIRE_RESULT_LEN;
	case LLM_WIRE_ACK:
	case LLM_WIRE_CONTROL:
		return h->frame_len == 0;
	case LLM_WIRE_NACK:
		/* frag_count: of the frame the NACK is about */
		return h->frame_len == llm_nack_len(h->frag_count);
	case LLM_WIRE_HELLO:
	case LLM_WIRE_HELLO_REPLY:
		return h->frame_len == LLM_WIRE_HELLO_LEN;
	case LLM_WIRE_DATA:
		return h->elem == LLM_WIRE_F32 &&
		       h->frame_len > LLM_WIRE_DATA_META;
	}
	return false;
}

int llm_wire_parse(const u8 *pkt, u32 len, struct llm_wire_hdr *h, u32 *cause)
{
	u32 body;

	*cause = LLM_DROP_MALFORMED;
	if (len < LLM_WIRE_HDR + LLM_WIRE_TAG)
		return -1;
	unpack(pkt, h);
	body = len - LLM_WIRE_HDR - LLM_WIRE_TAG;
	if (h->magic != LLM_WIRE_MAGIC || h->version != LLM_WIRE_VERSION ||
	    !h->type || h->type >= LLM_WIRE_TYPES || h->flags ||
	    h->reserved || h->src >= LLM_WIRE_MAX_NODES ||
	    h->dst >= LLM_WIRE_MAX_NODES || h->src == h->dst)
		return -1;
	if (h->type != LLM_WIRE_DATA && h->elem != LLM_WIRE_NONE)
		return -1;
	if (!body_ok(h, body))
		return -1;
	if (h->type == LLM_WIRE_NACK) {
		if (!h->frag_count || h->frag_count > LLM_WIRE_MAX_FRAGS ||
		    h->frag_idx || h->frag_bytes || body != h->frame_len)
			return -1;
		return 0;
	}
	if (h->type != LLM_WIRE_DATA) {
		/* one fragment carrying the whole (small) frame */
		if (h->frag_idx || h->frag_count != 1 ||
		    h->frag_bytes != h->frame_len || body != h->frame_len)
			return -1;
		return 0;
	}
	*cause = LLM_DROP_OVERSIZED;
	if (h->frame_len > LLM_WIRE_MAX_FRAME ||
	    h->frag_count > LLM_WIRE_MAX_FRAGS)
		return -1;
	*cause = LLM_DROP_MALFORMED;
	/* the fragment fields agree with each other and with the body */
	if (h->frag_bytes < 64 || !h->frag_count ||
	    h->frag_idx >= h->frag_count ||
	    llm_wire_frags(h->frame_len, h->frag_bytes) != h->frag_count ||
	    body != llm_wire_frag_len(h->frame_len, h->frag_bytes,
				      h->frag_idx))
		return -1;
	return 0;
}

void llm_wire_data_pack(const struct llm_wire_data *d, u8 *out)
{
	put32(out, d->n_pos);
	put32(out + 4, d->n_embd);
	put32(out + 8, d->flags);
	put32(out + 12, d->temp_milli);
	put32(out + 16, d->top_k);
	put32(out + 20, d->top_p_milli);
	put64(out + 24, d->rng);
	put32(out + 32, d->n_layers);
	put32(out + 36, d->n_vocab);
	put32(out + 40, d->tag);
}

int llm_wire_data_parse(const u8 *in, u32 frame_len, struct llm_wire_data *d)
{
	d->n_pos = get32(in);
	d->n_embd = get32(in + 4);
	d->flags = get32(in + 8);
	d->temp_milli = get32(in + 12);
	d->top_k = get32(in + 16);
	d->top_p_milli = get32(in + 20);
	d->rng = get64(in + 24);
	d->n_layers = get32(in + 32);
	d->n_vocab = get32(in + 36);
	d->tag = get32(in + 40);
	if (!d->n_pos || !d->n_embd || d->n_pos > 4096 ||
	    d->n_embd > 65536 || d->flags & ~LLM_WIRE_LOGITS)
		return -1;
	if ((u64)d->n_pos * d->n_embd * 4 + LLM_WIRE_DATA_META != frame_len)
		return -1;
	return 0;
}

void llm_wire_result_pack(const struct llm_wire_result *r, u8 *out)
{
	put32(out, (u32)r->status);
	put32(out + 4, r->token);
	put64(out + 8, r->rng);
	put32(out + 16, r->have);
	put32(out + 20, r->node);
	put32(out + 24, r->tag);
}

void llm_wire_result_parse(const u8 *in, struct llm_wire_result *r)
{
	r->status = (s32)get32(in);
	r->token = get32(in + 4);
	r->rng = get64(in + 8);
	r->have = get32(in + 16);
	r->node = get32(in + 20);
	r->tag = get32(in + 24);
}

void llm_wire_hello_pack(const struct llm_wire_hello *h, u8 *out)
{
	put64(out, h->time_ns);
	memcpy(out + 8, h->nonce, LLM_WIRE_NONCE);
	memcpy(out + 8 + LLM_WIRE_NONCE, h->echo, LLM_WIRE_NONCE);
	put32(out + 8 + 2 * LLM_WIRE_NONCE, h->n_nodes);
	put32(out + 12 + 2 * LLM_WIRE_NONCE, h->mtu);
}

void llm_wire_hello_parse(const u8 *in, struct llm_wire_hello *h)
{
	h->time_ns = get64(in);
	memcpy(h->nonce, in + 8, LLM_WIRE_NONCE);
	memcpy(h->echo, in + 8 + LLM_WIRE_NONCE, LLM_WIRE_NONCE);
	h->n_nodes = get32(in + 8 + 2 * LLM_WIRE_NONCE);
	h->mtu = get32(in + 12 + 2 * LLM_WIRE_NONCE);
}

void llm_replay_init(struct llm_replay *w)
{
	memset(w, 0, sizeof(*w));
}

bool llm_replay_accept(struct llm_replay *w, u64 ctr)
{
	u64 idx;

	/* never accepted: top would wrap to "none" (rekey long before) */
	if (ctr == U64_MAX)
		return false;
	/*
	 * One word of the ring is the one being filled: the rest is window.
	 * Compared as a distance below top, since ctr + window would wrap
	 * for the counters just below U64_MAX.
	 */
	if (ctr < w->top && w->top - ctr > LLM_REPLAY_BITS - 64)
		return false;
	if (ctr >= w->top) {
		/* move the window: clear the words it passes over */
		u64 cur = w->top ? (w->top - 1) / 64 : 0, nw = ctr / 64, i;

		if (!w->top || nw - cur >= LLM_REPLAY_WORDS)
			memset(w->bits, 0, sizeof(w->bits));
		else
			for (i = cur + 1; i <= nw; i++)
				w->bits[i % LLM_REPLAY_WORDS] = 0;
		w->top = ctr + 1;
	}
	idx = ctr / 64 % LLM_REPLAY_WORDS;
	if (w->bits[idx] >> (ctr % 64) & 1)
		return false;
	w->bits[idx] |= 1ull << (ctr % 64);
	return true;
}

bool llm_replay_seen(const struct llm_replay *w, u64 ctr)
{
	/* a distance below top: ctr + window would wrap near U64_MAX */
	if (ctr >= w->top || w->top - ctr > LLM_REPLAY_BITS - 64)
		return false;
	return w->bits[ctr / 64 % LLM_REPLAY_WORDS] >> (ctr % 64) & 1;
}

void llm_rtt_init(struct llm_rtt *r, u32 initial_us)
{
	r->srtt_us = 0;
	r->rttvar_us = 0;
	r->rto_us = initial_us;
}

void llm_rtt_sample(struct llm_rtt *r, u32 s, u32 min_us, u32 max_us)
{
	u64 rto;

	if (!r->srtt_us) {
		r->srtt_us = s ? s : 1;
		r->rttvar_us = s / 2;
	} else {
		u32 d = s > r->srtt_us ? s - r->srtt_us : r->srtt_us - s;

		r->rttvar_us = r->rttvar_us - r->rttvar_us / 4 + d / 4;
		r->srtt_us = r->srtt_us - r->srtt_us / 8 + s / 8;
		if (!r->srtt_us)
			r->srtt_us = 1;
	}
	rto = (u64)r->srtt_us + 4ull * r->rttvar_us;
	r->rto_us = rto < min_us ? min_us : rto > max_us ? max_us : (u32)rto;
}

void llm_rtt_backoff(struct llm_rtt *r, u32 max_us)
{
	u64 rto = 2ull * r->rto_us;

	r->rto_us = rto > max_us ? max_us : (u32)rto;
}
