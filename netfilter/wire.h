/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ring's wire format, version 1 (docs/ring.md).  Shared core: the
 * kernel's receive path and the userspace fuzzer parse packets with the
 * same code.  Nothing here keeps state but what its caller hands it; no
 * crypto (the kernel seals and opens packets, see netfilter/peer.c).
 *
 * A packet is one UDP payload:
 *
 *	header (LLM_WIRE_HDR bytes, big-endian, authenticated in clear)
 *	body   (sealed: ChaCha20-Poly1305 ciphertext)
 *	tag    (LLM_WIRE_TAG bytes)
 *
 * A frame (the hidden states of a step, or a result) is cut into
 * fragments of frag_bytes each (the last may be shorter), sized so a
 * packet never exceeds the MTU: the ring never relies on IP fragmentation.
 */
#ifndef LLM_WIRE_H
#define LLM_WIRE_H

#include "../llm/core/platform.h"

#define LLM_WIRE_MAGIC		0x4c4c4d52u	/* "LLMR" */
#define LLM_WIRE_VERSION	1
#define LLM_WIRE_HDR		56
#define LLM_WIRE_TAG		16
/* IPv4 + UDP headers in front of every packet */
#define LLM_WIRE_IP_UDP		28
#define LLM_WIRE_MAX_FRAGS	2048
/* the largest frame: a batch of 64 positions of a 16384-wide model */
#define LLM_WIRE_MAX_FRAME	(64u * 16384 * 4 + 64)
#define LLM_WIRE_MAX_NODES	16

enum llm_wire_type {
	LLM_WIRE_DATA = 1,	/* hidden states of a step, to the next node */
	LLM_WIRE_RESULT,	/* a step's outcome (the token), to the head */
	LLM_WIRE_ACK,		/* a frame received whole */
	LLM_WIRE_NACK,		/* fragments missing: a bitmap of them */
	LLM_WIRE_HELLO,		/* key agreement: the initiator's nonce */
	LLM_WIRE_HELLO_REPLY,	/* ... the responder's, and the first echoed */
	LLM_WIRE_CONTROL,	/* forget the ring's sessions (resize, down) */
	LLM_WIRE_TYPES,
};

/* Element types of hidden states (header elem). */
enum llm_wire_elem {
	LLM_WIRE_NONE = 0,	/* not hidden states */
	LLM_WIRE_F32 = 1,	/* the only one v1 sends: exactness */
};

/* A packet's header, unpacked. */
struct llm_wire_hdr {
	u32 magic;
	u8 version;
	u8 type;		/* enum llm_wire_type */
	u8 elem;		/* enum llm_wire_elem */
	u8 flags;		/* zero in v1 */
	u32 ring_id;
	u16 src, dst;		/* node ids */
	u64 counter;		/* per-direction packet counter: the nonce */
	u64 frame;		/* the sender's frame number on this link */
	u32 session;		/* the head's session slot */
	u32 step;		/* first position the frame is about */
	u16 frag_idx, frag_count, frag_bytes;
	u16 reserved;		/* zero */
	u32 frame_len;		/* bytes of the whole frame body */
	u32 epoch;		/* the head's ring configuration number */
};

void llm_wire_pack(const struct llm_wire_hdr *h, u8 *out);

/*
 * Check a packet of @len bytes as far as it can be without state: the
 * header's fields, and that the body's length is exactly what the
 * fragment fields say.  Reads only the first LLM_WIRE_HDR bytes of @pkt
 * (the receive path checks a packet before copying its body).  0 and *h filled, or -1 with *cause set to an
 * enum llm_drop_cause (uapi/llm.h): MALFORMED or OVERSIZED.
 */
int llm_wire_parse(const u8 *pkt, u32 len, struct llm_wire_hdr *h,
		   u32 *cause);

/* Body bytes of fragment @idx of a frame of @frame_len in @frag_bytes. */
static inline u32 llm_wire_frag_len(u32 frame_len, u32 frag_bytes, u32 idx)
{
	u64 off = (u64)idx * frag_bytes;

	if (off >= frame_len)
		return 0;
	return frame_len - off < frag_bytes ? frame_len - off : frag_bytes;
}

/* Body bytes of one fragment under @mtu (IP packet bytes). */
static inline u32 llm_wire_frag_bytes(u32 mtu)
{
	return mtu - LLM_WIRE_IP_UDP - LLM_WIRE_HDR - LLM_WIRE_TAG;
}

static inline u32 llm_wire_frags(u32 frame_len, u32 frag_bytes)
{
	return frame_len ? (frame_len + frag_bytes - 1) / frag_bytes : 1;
}

/* The body of a DATA frame: what the next stages need, then the states. */
#define LLM_WIRE_DATA_META	44
#define LLM_WIRE_LOGITS		(1u << 0)	/* the last node samples */

struct llm_wire_data {
	u32 n_pos;		/* positions carried, from hdr.step */
	u32 n_embd;		/* floats per position */
	u32 flags;		/* LLM_WIRE_LOGITS */
	u32 temp_milli, top_k, top_p_milli;
	u64 rng;		/* the sampler's state before this token */
	u32 n_layers;		/* the model's, as a check */
	u32 n_vocab;		/* ditto */
	u32 tag;		/* the head's step tag, echoed in the RESULT */
};

void llm_wire_data_pack(const struct llm_wire_data *d, u8 *out);
/* 0, or -1 when the meta does not match @frame_len (malformed). */
int llm_wire_data_parse(const u8 *in, u32 frame_len, struct llm_wire_data *d);

/* The body of a RESULT frame. */
#define LLM_WIRE_RESULT_LEN	28
#define LLM_WIRE_NO_TOKEN	0xffffffffu	/* a prompt batch, no logits */

struct llm_wire_result {
	s32 status;		/* 0, or -errno: why the step failed */
	u32 token;		/* sampled token, or LLM_WIRE_NO_TOKEN */
	u64 rng;		/* the sampler's state after it */
	u32 have;		/* on -ERANGE: positions the failing node holds */
	u32 node;		/* the node that set status */
	u32 tag;		/* the DATA frame's: which attempt it answers */
};

void llm_wire_result_pack(const struct llm_wire_result *r, u8 *out);
void llm_wire_result_parse(const u8 *in, struct llm_wire_result *r);

/* The body of HELLO and HELLO_REPLY. */
#define LLM_WIRE_NONCE		32
#define LLM_WIRE_HELLO_LEN	(8 + 2 * LLM_WIRE_NONCE + 8)

struct llm_wire_hello {
	u64 time_ns;		/* wall clock: a replayed hello is older */
	u8 nonce[LLM_WIRE_NONCE];	/* the sender's */
	u8 echo[LLM_WIRE_NONCE];	/* the initiator's (reply), or zero */
	u32 n_nodes;
	u32 mtu;
};

void llm_wire_hello_pack(const struct llm_wire_hello *h, u8 *out);
void llm_wire_hello_parse(const u8 *in, struct llm_wire_hello *h);

/*
 * Replay window over 64-bit packet counters (RFC 6479, as WireGuard's):
 * accepts each counter at most once, and nothing older than the window.
 * Call only after the packet's tag verified.
 */
#define LLM_REPLAY_BITS		1024
#define LLM_REPLAY_WORDS	(LLM_REPLAY_BITS / 64)

struct llm_replay {
	u64 top;		/* highest counter accepted + 1 (0: none) */
	u64 bits[LLM_REPLAY_WORDS];
};

void llm_replay_init(struct llm_replay *w);
/* true (and recorded) when @ctr was never seen and is in the window */
bool llm_replay_accept(struct llm_replay *w, u64 ctr);
/* true when @ctr was accepted before and is still in the window */
bool llm_replay_seen(const struct llm_replay *w, u64 ctr);

/*
 * Round-trip estimate and retransmission timeout (RFC 6298), in
 * microseconds, clamped to [min_us, max_us].
 */
struct llm_rtt {
	u32 srtt_us, rttvar_us, rto_us;
};

void llm_rtt_init(struct llm_rtt *r, u32 initial_us);
void llm_rtt_sample(struct llm_rtt *r, u32 sample_us, u32 min_us, u32 max_us);
/* After a timeout: double the RTO, up to @max_us (Karn's back-off). */
void llm_rtt_backoff(struct llm_rtt *r, u32 max_us);

/* Bitmaps of fragments (LLM_WIRE_MAX_FRAGS bits). */
#define LLM_FRAG_WORDS		(LLM_WIRE_MAX_FRAGS / 64)

static inline bool llm_frag_test(const u64 *map, u32 i)
{
	return map[i / 64] >> (i % 64) & 1;
}

static inline void llm_frag_set(u64 *map, u32 i)
{
	map[i / 64] |= 1ull << (i % 64);
}

static inline void llm_frag_clear(u64 *map, u32 i)
{
	map[i / 64] &= ~(1ull << (i % 64));
}

/* Bytes of a NACK body for @count fragments: one bit each, 1 = missing. */
static inline u32 llm_nack_len(u32 count)
{
	return (count + 7) / 8;
}

#endif /* LLM_WIRE_H */
