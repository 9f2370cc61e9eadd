// SPDX-License-Identifier: GPL-2.0
/*
 * The network ring's wire format (netfilter/wire.c): the header's byte
 * layout, pack/parse round trips of every type, every malformed case
 * refused with its cause, random mutations against an independent
 * reference checker, the body formats, the replay window against a
 * reference model, the RTO estimator and the fragment helpers.
 */
#include <stdlib.h>

#include "check.h"
#include "netfilter/wire.h"
#include "uapi/llm.h"

#define MALFORMED	LLM_DROP_MALFORMED
#define OVERSIZED	LLM_DROP_OVERSIZED
#define WINDOW		(LLM_REPLAY_BITS - 64)
/* room for the largest packet a header can describe, and some */
#define PKT_MAX		(LLM_WIRE_HDR + 65536 + LLM_WIRE_TAG + 64)

static u8 pkt[PKT_MAX];

static u64 rnd64(void)
{
	return (u64)rnd32() << 32 | rnd32();
}

static u16 be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static void set16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void set32(u8 *p, u32 v)
{
	set16(p, v >> 16);
	set16(p + 2, v & 0xffff);
}

/* Parse from a copy of exactly @len bytes, so an over-read hits ASan. */
static int parse_exact(const u8 *src, u32 len, struct llm_wire_hdr *h,
		       u32 *cause)
{
	u8 *copy = malloc(len ? len : 1);
	int ret;

	if (!copy)
		abort();
	memcpy(copy, src, len);
	*cause = 0xdead;
	ret = llm_wire_parse(copy, len, h, cause);
	free(copy);
	return ret;
}

/* The body length a (valid) header calls for. */
static u32 body_len(const struct llm_wire_hdr *h)
{
	if (h->type == LLM_WIRE_DATA)
		return llm_wire_frag_len(h->frame_len, h->frag_bytes,
					 h->frag_idx);
	return h->frame_len;
}

/* Header, @body random bytes, tag: the packet's length. */
static u32 build(const struct llm_wire_hdr *h, u32 body, u8 *out)
{
	u32 i;

	llm_wire_pack(h, out);
	for (i = 0; i < body + LLM_WIRE_TAG; i++)
		out[LLM_WIRE_HDR + i] = rnd32();
	return LLM_WIRE_HDR + body + LLM_WIRE_TAG;
}

/* A random DATA frame layout: frag_bytes, frag_count, frame_len, idx. */
static void data_layout(struct llm_wire_hdr *h)
{
	static const u16 fbs[] = { 64, 65, 100, 1400, 1472, 8900, 65535 };
	u32 fb, cmax, c, r = rnd32() % 4;
	u64 fl;

	fb = rnd32() % 3 ? fbs[rnd32() % ARRAY_SIZE(fbs)] :
		64 + rnd32() % (65536 - 64);
	cmax = (LLM_WIRE_MAX_FRAME + fb - 1) / fb;
	if (cmax > LLM_WIRE_MAX_FRAGS)
		cmax = LLM_WIRE_MAX_FRAGS;
	/* many single fragments, some at the limits */
	c = r == 0 ? 1 : r == 1 ? cmax : 1 + rnd32() % cmax;
	if (rnd32() % 2 && c > 8)
		c = 1 + rnd32() % 8;
	fl = (u64)(c - 1) * fb + 1 + rnd32() % fb;
	if (fl > LLM_WIRE_MAX_FRAME)
		fl = LLM_WIRE_MAX_FRAME;
	if (fl <= LLM_WIRE_DATA_META)
		fl = LLM_WIRE_DATA_META + 1 + rnd32() % (fb - LLM_WIRE_DATA_META);
	h->frag_bytes = fb;
	h->frag_count = c;
	h->frame_len = fl;
	r = rnd32() % 3;
	h->frag_idx = r == 0 ? 0 : r == 1 ? c - 1 : rnd32() % c;
}

/* A valid header of @type with every free field random. */
static void valid_hdr(struct llm_wire_hdr *h, u8 type)
{
	memset(h, 0, sizeof(*h));
	h->magic = LLM_WIRE_MAGIC;
	h->version = LLM_WIRE_VERSION;
	h->type = type;
	h->ring_id = rnd32();
	h->src = rnd32() % LLM_WIRE_MAX_NODES;
	do
		h->dst = rnd32() % LLM_WIRE_MAX_NODES;
	while (h->dst == h->src);
	h->counter = rnd64();
	h->frame = rnd64();
	h->session = rnd32();
	h->step = rnd32();
	h->epoch = rnd32();
	h->frag_count = 1;
	switch (type) {
	case LLM_WIRE_DATA:
		h->elem = LLM_WIRE_F32;
		data_layout(h);
		return;
	case LLM_WIRE_RESULT:
		h->frame_len = LLM_WIRE_RESULT_LEN;
		break;
	case LLM_WIRE_NACK:
		h->frag_count = 1 + rnd32() % LLM_WIRE_MAX_FRAGS;
		h->frame_len = llm_nack_len(h->frag_count);
		/* a NACK cuts nothing: frag_bytes must be 0 */
		h->frag_bytes = 0;
		return;
	case LLM_WIRE_HELLO:
	case LLM_WIRE_HELLO_REPLY:
		h->frame_len = LLM_WIRE_HELLO_LEN;
		break;
	default:	/* ACK, CONTROL */
		h->frame_len = 0;
	}
	h->frag_bytes = h->frame_len;
}

static int hdr_eq(const struct llm_wire_hdr *a, const struct llm_wire_hdr *b)
{
	return a->magic == b->magic && a->version == b->version &&
	       a->type == b->type && a->elem == b->elem &&
	       a->flags == b->flags && a->ring_id == b->ring_id &&
	       a->src == b->src && a->dst == b->dst &&
	       a->counter == b->counter && a->frame == b->frame &&
	       a->session == b->session && a->step == b->step &&
	       a->frag_idx == b->frag_idx && a->frag_count == b->frag_count &&
	       a->frag_bytes == b->frag_bytes && a->reserved == b->reserved &&
	       a->frame_len == b->frame_len && a->epoch == b->epoch;
}

/* The header's bytes, field by field, against a fixed layout. */
static void layout(void)
{
	static const u8 want[LLM_WIRE_HDR] = {
		'L', 'L', 'M', 'R', 1, 1, 1, 0,
		0x01, 0x02, 0x03, 0x04,			/* ring_id */
		0x00, 0x03, 0x00, 0x0f,			/* src, dst */
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, /* counter */
		0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01, /* frame */
		0xde, 0xad, 0xbe, 0xef,			/* session */
		0x00, 0x00, 0x10, 0x00,			/* step */
		0x00, 0x02, 0x00, 0x03,			/* frag_idx, count */
		0x05, 0x78, 0x00, 0x00,			/* frag_bytes, reserved */
		0x00, 0x00, 0x0f, 0xa8,			/* frame_len */
		0x80, 0x00, 0x00, 0x07,			/* epoch */
	};
	struct llm_wire_hdr h = {
		.magic = 0, .version = 9,	/* pack writes its own */
		.type = LLM_WIRE_DATA, .elem = LLM_WIRE_F32,
		.ring_id = 0x01020304, .src = 3, .dst = 15,
		.counter = 0x1122334455667788ull,
		.frame = 0x99aabbccddeeff01ull,
		.session = 0xdeadbeef, .step = 4096,
		.frag_idx = 2, .frag_count = 3, .frag_bytes = 1400,
		.reserved = 0x5555,		/* ... and zero here */
		.frame_len = 4008, .epoch = 0x80000007,
	};
	struct llm_wire_hdr out;
	u32 cause, i;
	u8 b[LLM_WIRE_HDR];

	llm_wire_pack(&h, b);
	for (i = 0; i < LLM_WIRE_HDR; i++)
		if (b[i] != want[i]) {
			check_fail(__FILE__, __LINE__, "byte %u is %#x, not %#x",
				   i, b[i], want[i]);
			return;
		}
	/* 4008 = 2 * 1400 + 1208: the last fragment */
	CHECK_EQ(build(&h, 1208, pkt), LLM_WIRE_HDR + 1208 + LLM_WIRE_TAG);
	CHECK_EQ(parse_exact(pkt, LLM_WIRE_HDR + 1208 + LLM_WIRE_TAG, &out,
			     &cause), 0);
	CHECK_EQ(out.magic, LLM_WIRE_MAGIC);
	CHECK_EQ(out.version, 1);
	CHECK_EQ(out.reserved, 0);
	CHECK_EQ(out.counter, 0x1122334455667788ull);
	CHECK_EQ(out.frame, 0x99aabbccddeeff01ull);
	CHECK_EQ(out.epoch, 0x80000007u);
	CHECK_EQ(llm_wire_frag_bytes(1500), 1400);
	CHECK_EQ(LLM_WIRE_HELLO_LEN, 80);
}

/* pack then parse gives back every field, for every type. */
static void roundtrip(void)
{
	struct llm_wire_hdr h, out;
	u8 again[LLM_WIRE_HDR];
	u32 cause, len, i, type;

	for (type = LLM_WIRE_DATA; type < LLM_WIRE_TYPES; type++) {
		for (i = 0; i < 3000; i++) {
			valid_hdr(&h, type);
			len = build(&h, body_len(&h), pkt);
			memset(&out, 0x5a, sizeof(out));
			if (parse_exact(pkt, len, &out, &cause)) {
				check_fail(__FILE__, __LINE__,
					   "type %u: refused (cause %u), idx %u count %u bytes %u len %u",
					   type, cause, h.frag_idx, h.frag_count,
					   h.frag_bytes, h.frame_len);
				return;
			}
			CHECK(hdr_eq(&h, &out));
			llm_wire_pack(&out, again);
			CHECK(!memcmp(again, pkt, LLM_WIRE_HDR));
		}
	}
	/* the extremes of every free field */
	valid_hdr(&h, LLM_WIRE_ACK);
	h.ring_id = h.session = h.step = h.epoch = U32_MAX;
	h.counter = h.frame = U64_MAX;
	h.src = LLM_WIRE_MAX_NODES - 1;
	h.dst = 0;
	len = build(&h, 0, pkt);
	CHECK_EQ(parse_exact(pkt, len, &out, &cause), 0);
	CHECK(hdr_eq(&h, &out));
	h.ring_id = h.session = h.step = h.epoch = 0;
	h.counter = h.frame = 0;
	h.src = 0;
	h.dst = LLM_WIRE_MAX_NODES - 1;
	llm_wire_pack(&h, pkt);
	CHECK_EQ(parse_exact(pkt, len, &out, &cause), 0);
	CHECK(hdr_eq(&h, &out));
}

/*
 * An independent statement of what llm_wire_parse() accepts, read from
 * the bytes: 0, or -1 and the cause.  A DATA frame beyond the limits is
 * OVERSIZED once its header is otherwise sound up to the fragment fields.
 */
static int ref_parse(const u8 *p, u32 len, u32 *cause)
{
	u32 body, magic, frame_len, want;
	u16 src, dst, idx, count, fb, res;
	u8 ver, type, elem, flags;

	*cause = MALFORMED;
	if (len < LLM_WIRE_HDR + LLM_WIRE_TAG)
		return -1;
	body = len - LLM_WIRE_HDR - LLM_WIRE_TAG;
	magic = be32(p);
	ver = p[4];
	type = p[5];
	elem = p[6];
	flags = p[7];
	src = be16(p + 12);
	dst = be16(p + 14);
	idx = be16(p + 40);
	count = be16(p + 42);
	fb = be16(p + 44);
	res = be16(p + 46);
	frame_len = be32(p + 48);
	if (magic != 0x4c4c4d52 || ver != 1 || type < 1 || type > 7 ||
	    flags || res || src > 15 || dst > 15 || src == dst)
		return -1;
	if (type == LLM_WIRE_DATA) {
		u64 lo, hi;

		if (elem != 1 || frame_len <= LLM_WIRE_DATA_META)
			return -1;
		if (frame_len > 64u * 16384 * 4 + 64 || count > 2048) {
			*cause = OVERSIZED;
			return -1;
		}
		if (fb < 64 || !count || idx >= count)
			return -1;
		/* fragments 0 .. count - 2 full, the last 1 .. fb bytes */
		lo = (u64)(count - 1) * fb;
		hi = (u64)count * fb;
		if (frame_len <= lo || frame_len > hi)
			return -1;
		want = idx == count - 1 ? frame_len - (u32)lo : fb;
		return body == want ? 0 : -1;
	}
	if (elem)
		return -1;
	if (type == LLM_WIRE_NACK) {
		want = count / 8 + (count % 8 != 0);
		return count >= 1 && count <= 2048 && !idx && !fb &&
		       frame_len == want && body == want ? 0 : -1;
	}
	want = type == LLM_WIRE_RESULT ? LLM_WIRE_RESULT_LEN :
	       type == LLM_WIRE_HELLO || type == LLM_WIRE_HELLO_REPLY ?
	       LLM_WIRE_HELLO_LEN : 0;
	return !idx && count == 1 && fb == want && frame_len == want &&
	       body == want ? 0 : -1;
}

/* Build from @h with @body bytes, expect refusal with @want. */
static int refused(const struct llm_wire_hdr *h, s64 body, u32 want, int line)
{
	struct llm_wire_hdr out;
	u32 cause, len, rc;
	int ret;

	len = build(h, body < 0 ? 0 : body, pkt);
	if (body < 0)
		len += body;	/* shorter than the header and tag */
	ret = parse_exact(pkt, len, &out, &cause);
	if (ret != -1 || cause != want) {
		check_fail(__FILE__, line,
			   "type %u elem %u idx %u count %u bytes %u frame_len %u body %lld: ret %d cause %u, want -1 cause %u",
			   h->type, h->elem, h->frag_idx, h->frag_count,
			   h->frag_bytes, h->frame_len, (long long)body, ret,
			   cause, want);
		return 0;
	}
	/* the reference agrees */
	if (ref_parse(pkt, len, &rc) != -1 || rc != want) {
		check_fail(__FILE__, line, "the reference disagrees");
		return 0;
	}
	return 1;
}

static int accepted(const struct llm_wire_hdr *h, u32 body, int line)
{
	struct llm_wire_hdr out;
	u32 cause, len = build(h, body, pkt);

	if (parse_exact(pkt, len, &out, &cause)) {
		check_fail(__FILE__, line,
			   "type %u idx %u count %u bytes %u frame_len %u body %u: refused (cause %u)",
			   h->type, h->frag_idx, h->frag_count, h->frag_bytes,
			   h->frame_len, body, cause);
		return 0;
	}
	if (!hdr_eq(h, &out)) {
		check_fail(__FILE__, line, "fields differ after parse");
		return 0;
	}
	return 1;
}

#define REFUSED(h, body, want) do {					\
	if (!refused(h, body, want, __LINE__))				\
		return;							\
} while (0)

#define ACCEPTED(h, body) do {						\
	if (!accepted(h, body, __LINE__))				\
		return;							\
} while (0)

/* A DATA header of @frame_len in fragments of @fb, fragment @idx. */
static void data_hdr(struct llm_wire_hdr *h, u32 frame_len, u32 fb, u32 idx)
{
	valid_hdr(h, LLM_WIRE_DATA);
	h->frame_len = frame_len;
	h->frag_bytes = fb;
	h->frag_count = llm_wire_frags(frame_len, fb);
	h->frag_idx = idx;
}

/* Patch the packed bytes at @off of a valid packet, expect MALFORMED. */
static int patched(const struct llm_wire_hdr *h, u32 off, u32 size, u32 v,
		   int line)
{
	struct llm_wire_hdr out;
	u32 cause, len = build(h, body_len(h), pkt);
	int ret;

	if (size == 1)
		pkt[off] = v;
	else if (size == 2)
		set16(pkt + off, v);
	else
		set32(pkt + off, v);
	ret = parse_exact(pkt, len, &out, &cause);
	if (ret != -1 || cause != MALFORMED) {
		check_fail(__FILE__, line,
			   "type %u, bytes %u..%u = %#x: ret %d cause %u",
			   h->type, off, off + size - 1, v, ret, cause);
		return 0;
	}
	return 1;
}

#define PATCHED(h, off, size, v) do {					\
	if (!patched(h, off, size, v, __LINE__))			\
		return;							\
} while (0)

/* Every header check, on every type. */
static void malformed_header(void)
{
	struct llm_wire_hdr h;
	u32 type, i;

	for (type = LLM_WIRE_DATA; type < LLM_WIRE_TYPES; type++) {
		valid_hdr(&h, type);
		/* short: nothing, a byte short of header + tag */
		REFUSED(&h, -(s64)(LLM_WIRE_HDR + LLM_WIRE_TAG), MALFORMED);
		REFUSED(&h, -1, MALFORMED);
		REFUSED(&h, -(s64)LLM_WIRE_TAG, MALFORMED);
		/* magic: each byte wrong */
		for (i = 0; i < 4; i++)
			PATCHED(&h, i, 1, pkt[i] ^ 0x20);
		PATCHED(&h, 0, 4, 0x524d4c4c);	/* little-endian magic */
		PATCHED(&h, 4, 1, 0);
		PATCHED(&h, 4, 1, 2);
		PATCHED(&h, 4, 1, 0xff);
		PATCHED(&h, 5, 1, 0);
		PATCHED(&h, 5, 1, LLM_WIRE_TYPES);
		PATCHED(&h, 5, 1, 0xff);
		for (i = 0; i < 8; i++)
			PATCHED(&h, 7, 1, 1u << i);	/* flags */
		PATCHED(&h, 46, 2, 1);			/* reserved */
		PATCHED(&h, 46, 2, 0x8000);
		/* src == dst, either out of range */
		PATCHED(&h, 14, 2, h.src);
		PATCHED(&h, 12, 2, LLM_WIRE_MAX_NODES);
		PATCHED(&h, 14, 2, LLM_WIRE_MAX_NODES);
		PATCHED(&h, 12, 2, 0xffff);
		PATCHED(&h, 14, 2, 0x100 | h.dst);
		/* elem: F32 only on DATA, and nothing else there */
		if (type == LLM_WIRE_DATA) {
			PATCHED(&h, 6, 1, LLM_WIRE_NONE);
			PATCHED(&h, 6, 1, 2);
		} else {
			PATCHED(&h, 6, 1, LLM_WIRE_F32);
			PATCHED(&h, 6, 1, 0x80);
		}
		/* the body a byte short, a byte long, and no body */
		REFUSED(&h, (s64)body_len(&h) + 1, MALFORMED);
		if (body_len(&h)) {
			REFUSED(&h, (s64)body_len(&h) - 1, MALFORMED);
			REFUSED(&h, 0, MALFORMED);
		}
	}
}

/* The fragment fields of the small types. */
static void malformed_small(void)
{
	static const u8 types[] = { LLM_WIRE_RESULT, LLM_WIRE_ACK,
		LLM_WIRE_HELLO, LLM_WIRE_HELLO_REPLY, LLM_WIRE_CONTROL };
	struct llm_wire_hdr h;
	u32 i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		valid_hdr(&h, types[i]);
		ACCEPTED(&h, h.frame_len);
		h.frag_idx = 1;
		REFUSED(&h, h.frame_len, MALFORMED);
		h.frag_idx = 0;
		h.frag_count = 0;
		REFUSED(&h, h.frame_len, MALFORMED);
		h.frag_count = 2;
		REFUSED(&h, h.frame_len, MALFORMED);
		h.frag_count = 1;
		h.frag_bytes++;
		REFUSED(&h, h.frame_len, MALFORMED);
		h.frag_bytes = 0xffff;
		REFUSED(&h, h.frame_len, MALFORMED);
		h.frag_bytes = h.frame_len;
		/* a frame_len other than the type's, body to match */
		h.frame_len++;
		h.frag_bytes = h.frame_len;
		REFUSED(&h, h.frame_len, MALFORMED);
		if (h.frame_len > 1) {
			h.frame_len -= 2;
			h.frag_bytes = h.frame_len;
			REFUSED(&h, h.frame_len, MALFORMED);
		}
		/* a big frame_len for a small type is MALFORMED, not OVERSIZED */
		h.frame_len = LLM_WIRE_MAX_FRAME + 1;
		h.frag_bytes = 0xffff;
		REFUSED(&h, 0, MALFORMED);
	}

	valid_hdr(&h, LLM_WIRE_NACK);
	h.frag_bytes = 1;
	REFUSED(&h, h.frame_len, MALFORMED);
	h.frag_bytes = 0;
	for (i = 1; i <= 17; i++) {
		h.frag_count = i;
		h.frame_len = llm_nack_len(i);
		ACCEPTED(&h, h.frame_len);
		REFUSED(&h, h.frame_len + 1, MALFORMED);
		REFUSED(&h, h.frame_len - 1, MALFORMED);
		/* frame_len off from the count, body to match */
		h.frame_len++;
		REFUSED(&h, h.frame_len, MALFORMED);
		h.frame_len -= 2;
		REFUSED(&h, h.frame_len, MALFORMED);
	}
	h.frag_count = LLM_WIRE_MAX_FRAGS;
	h.frame_len = LLM_WIRE_MAX_FRAGS / 8;
	ACCEPTED(&h, h.frame_len);
	h.frag_idx = 1;
	REFUSED(&h, h.frame_len, MALFORMED);
	h.frag_idx = 0;
	h.frag_count = LLM_WIRE_MAX_FRAGS + 1;
	h.frame_len = llm_nack_len(h.frag_count);
	REFUSED(&h, h.frame_len, MALFORMED);
	h.frag_count = 0xffff;
	h.frame_len = llm_nack_len(h.frag_count);
	REFUSED(&h, h.frame_len, MALFORMED);
	h.frag_count = 0;
	h.frame_len = 0;
	REFUSED(&h, 0, MALFORMED);
}

/* The fragment fields of DATA, and its limits. */
static void malformed_data(void)
{
	struct llm_wire_hdr h;
	u32 fb, fl, c, i;

	/* 3 fragments of 1400: 1400, 1400, 1208 */
	data_hdr(&h, 4008, 1400, 0);
	CHECK_EQ(h.frag_count, 3);
	ACCEPTED(&h, 1400);
	h.frag_idx = 2;
	ACCEPTED(&h, 1208);
	REFUSED(&h, 1400, MALFORMED);	/* last fragment at full size */
	REFUSED(&h, 1207, MALFORMED);
	REFUSED(&h, 1209, MALFORMED);
	h.frag_idx = 1;
	REFUSED(&h, 1208, MALFORMED);	/* middle fragment short */
	REFUSED(&h, 1401, MALFORMED);
	/* frag_idx at and past frag_count */
	h.frag_idx = 3;
	REFUSED(&h, 0, MALFORMED);
	REFUSED(&h, 1400, MALFORMED);
	h.frag_idx = 0xffff;
	REFUSED(&h, 1400, MALFORMED);
	/* frag_count inconsistent with frame_len / frag_bytes */
	h.frag_idx = 0;
	h.frag_count = 2;
	REFUSED(&h, 1400, MALFORMED);
	h.frag_count = 4;
	REFUSED(&h, 1400, MALFORMED);
	h.frag_count = 0;
	REFUSED(&h, 1400, MALFORMED);
	/* frame_len one past what 3 fragments hold, one short of 3 */
	data_hdr(&h, 4200, 1400, 2);
	ACCEPTED(&h, 1400);
	h.frame_len = 4201;
	REFUSED(&h, 1401, MALFORMED);
	REFUSED(&h, 1400, MALFORMED);
	h.frame_len = 2800;
	REFUSED(&h, 0, MALFORMED);
	/* frag_bytes below 64, with a count to match */
	data_hdr(&h, 630, 63, 0);
	REFUSED(&h, 63, MALFORMED);
	data_hdr(&h, 640, 64, 9);
	ACCEPTED(&h, 64);
	data_hdr(&h, 41, 64, 0);
	h.frag_bytes = 0;	/* no division by it */
	REFUSED(&h, 41, MALFORMED);
	/* a frame no bigger than its meta */
	data_hdr(&h, LLM_WIRE_DATA_META, 1400, 0);
	REFUSED(&h, LLM_WIRE_DATA_META, MALFORMED);
	data_hdr(&h, 0, 1400, 0);
	REFUSED(&h, 0, MALFORMED);
	data_hdr(&h, LLM_WIRE_DATA_META + 1, 1400, 0);
	ACCEPTED(&h, LLM_WIRE_DATA_META + 1);

	/* frame_len at and past LLM_WIRE_MAX_FRAME, fields consistent */
	fb = 65535;
	c = llm_wire_frags(LLM_WIRE_MAX_FRAME, fb);
	data_hdr(&h, LLM_WIRE_MAX_FRAME, fb, c - 1);
	ACCEPTED(&h, LLM_WIRE_MAX_FRAME - (c - 1) * fb);
	h.frag_idx = 0;
	ACCEPTED(&h, fb);
	for (fl = LLM_WIRE_MAX_FRAME + 1; fl < LLM_WIRE_MAX_FRAME + 3; fl++) {
		data_hdr(&h, fl, fb, 0);
		REFUSED(&h, fb, OVERSIZED);
	}
	data_hdr(&h, U32_MAX, fb, 0);
	h.frag_count = 1;
	REFUSED(&h, fb, OVERSIZED);
	/* frag_count at and past LLM_WIRE_MAX_FRAGS */
	data_hdr(&h, LLM_WIRE_MAX_FRAGS * 64, 64, LLM_WIRE_MAX_FRAGS - 1);
	CHECK_EQ(h.frag_count, LLM_WIRE_MAX_FRAGS);
	ACCEPTED(&h, 64);
	data_hdr(&h, LLM_WIRE_MAX_FRAGS * 64 + 1, 64, 0);
	CHECK_EQ(h.frag_count, LLM_WIRE_MAX_FRAGS + 1);
	REFUSED(&h, 64, OVERSIZED);
	h.frag_idx = LLM_WIRE_MAX_FRAGS;
	REFUSED(&h, 1, OVERSIZED);
	h.frag_count = 0xffff;
	REFUSED(&h, 64, OVERSIZED);

	/* every fragment of a few frames, and each one a byte off */
	for (i = 0; i < 200; i++) {
		u32 k, len;

		valid_hdr(&h, LLM_WIRE_DATA);
		if (h.frag_count > 40)
			continue;
		for (k = 0; k < h.frag_count; k++) {
			h.frag_idx = k;
			len = llm_wire_frag_len(h.frame_len, h.frag_bytes, k);
			CHECK(len > 0 && len <= h.frag_bytes);
			ACCEPTED(&h, len);
			REFUSED(&h, len + 1, MALFORMED);
			REFUSED(&h, len - 1, MALFORMED);
		}
	}
}

/*
 * Valid packets with one to three random defects: llm_wire_parse() and
 * ref_parse() agree on every one, and what is accepted re-packs to the
 * same header bytes.
 */
static void mutations(void)
{
	static const u32 u16s[] = { 0, 1, 2, 15, 16, 63, 64, 65, 1400, 2047,
		2048, 2049, 0x7fff, 0x8000, 0xffff };
	static const u32 u32s[] = { 0, 1, LLM_WIRE_RESULT_LEN,
		LLM_WIRE_RESULT_LEN + 1, LLM_WIRE_DATA_META,
		LLM_WIRE_DATA_META + 1, LLM_WIRE_HELLO_LEN, 256, 4008,
		LLM_WIRE_MAX_FRAME - 1, LLM_WIRE_MAX_FRAME,
		LLM_WIRE_MAX_FRAME + 1, 0x80000000u, U32_MAX };
	static const u32 u16_offs[] = { 12, 14, 40, 42, 44, 46 };
	struct llm_wire_hdr h, out;
	u8 again[LLM_WIRE_HDR];
	u32 n, len, m, k, cause, rcause, n_ok = 0, n_over = 0;
	int ret, rret;

	for (n = 0; n < 400000; n++) {
		valid_hdr(&h, 1 + rnd32() % (LLM_WIRE_TYPES - 1));
		len = build(&h, body_len(&h), pkt);
		m = 1 + rnd32() % 3;
		while (m--) {
			switch (rnd32() % 8) {
			case 0:		/* a bit of the header */
				k = rnd32() % (LLM_WIRE_HDR * 8);
				pkt[k / 8] ^= 1u << (k % 8);
				break;
			case 1:		/* a byte of the first 8 */
				pkt[rnd32() % 8] = rnd32() % 10;
				break;
			case 2:
				set16(pkt + u16_offs[rnd32() % ARRAY_SIZE(u16_offs)],
				      u16s[rnd32() % ARRAY_SIZE(u16s)]);
				break;
			case 3:		/* frame_len */
				set32(pkt + 48, u32s[rnd32() % ARRAY_SIZE(u32s)]);
				break;
			case 4:		/* frame_len a little off */
				set32(pkt + 48, be32(pkt + 48) + rnd32() % 5 - 2);
				break;
			case 5:		/* the length a little off */
				k = rnd32() % 5;
				len = len + 2 >= k ? len + 2 - k : 0;
				if (len > PKT_MAX)
					len = PKT_MAX;
				break;
			case 6:		/* the length anywhere */
				len = rnd32() % PKT_MAX;
				break;
			default:	/* the count consistent again */
				if (be16(pkt + 44))
					set16(pkt + 42, llm_wire_frags(
					      be32(pkt + 48) % (1u << 26),
					      be16(pkt + 44)));
			}
		}
		ret = parse_exact(pkt, len, &out, &cause);
		rret = ref_parse(pkt, len, &rcause);
		if (ret != rret || (ret && cause != rcause)) {
			check_fail(__FILE__, __LINE__,
				   "mutation %u: parse %d cause %u, reference %d cause %u (type %u idx %u count %u bytes %u frame_len %u len %u)",
				   n, ret, cause, rret, rcause, pkt[5],
				   be16(pkt + 40), be16(pkt + 42),
				   be16(pkt + 44), be32(pkt + 48), len);
			return;
		}
		if (ret) {
			n_over += cause == OVERSIZED;
			continue;
		}
		n_ok++;
		llm_wire_pack(&out, again);
		CHECK(!memcmp(again, pkt, LLM_WIRE_HDR));
		CHECK_EQ(out.elem, out.type == LLM_WIRE_DATA ? LLM_WIRE_F32 :
			 LLM_WIRE_NONE);
	}
	printf("# mutations: %u accepted, %u oversized\n", n_ok, n_over);
	CHECK(n_ok > 1000);
	CHECK(n_over > 100);
}

static int data_eq(const struct llm_wire_data *a,
		   const struct llm_wire_data *b)
{
	return a->n_pos == b->n_pos && a->n_embd == b->n_embd &&
	       a->flags == b->flags && a->temp_milli == b->temp_milli &&
	       a->top_k == b->top_k && a->top_p_milli == b->top_p_milli &&
	       a->rng == b->rng && a->n_layers == b->n_layers &&
	       a->n_vocab == b->n_vocab && a->tag == b->tag;
}

/* The DATA meta: round trip, and refused when it disagrees. */
static void data_meta(void)
{
	struct llm_wire_data d, out;
	u8 b[LLM_WIRE_DATA_META + 1];
	u32 i, fl;

	for (i = 0; i < 20000; i++) {
		d.n_pos = 1 + rnd32() % (i % 2 ? 64 : 4096);
		d.n_embd = 1 + rnd32() % (i % 3 ? 16384 : 65536);
		d.flags = rnd32() % 2 ? LLM_WIRE_LOGITS : 0;
		d.temp_milli = rnd32();
		d.top_k = rnd32();
		d.top_p_milli = rnd32();
		d.rng = rnd64();
		d.n_layers = rnd32();
		d.n_vocab = rnd32();
		d.tag = rnd32();
		fl = d.n_pos * d.n_embd * 4 + LLM_WIRE_DATA_META;
		b[LLM_WIRE_DATA_META] = 0xa5;
		llm_wire_data_pack(&d, b);
		CHECK_EQ(b[LLM_WIRE_DATA_META], 0xa5);	/* stays in bounds */
		memset(&out, 0x5a, sizeof(out));
		CHECK_EQ(llm_wire_data_parse(b, fl, &out), 0);
		CHECK(data_eq(&d, &out));
		/* frame_len off by a byte, a float, a position */
		CHECK_EQ(llm_wire_data_parse(b, fl + 1, &out), -1);
		CHECK_EQ(llm_wire_data_parse(b, fl - 1, &out), -1);
		CHECK_EQ(llm_wire_data_parse(b, fl + 4, &out), -1);
		CHECK_EQ(llm_wire_data_parse(b, fl - 4, &out), -1);
		CHECK_EQ(llm_wire_data_parse(b, fl + d.n_embd * 4, &out), -1);
		CHECK_EQ(llm_wire_data_parse(b, fl - LLM_WIRE_DATA_META, &out),
			 -1);
		CHECK_EQ(llm_wire_data_parse(b, LLM_WIRE_MAX_FRAME, &out),
			 fl == LLM_WIRE_MAX_FRAME ? 0 : -1);
	}
	/* a byte-exact layout */
	memset(&d, 0, sizeof(d));
	d.n_pos = 2;
	d.n_embd = 0x100;
	d.flags = 1;
	d.temp_milli = 800;
	d.top_k = 40;
	d.top_p_milli = 950;
	d.rng = 0x0102030405060708ull;
	d.n_layers = 5;
	d.n_vocab = 512;
	d.tag = 0xcafef00d;
	llm_wire_data_pack(&d, b);
	CHECK_EQ(be32(b), 2);
	CHECK_EQ(be32(b + 4), 0x100);
	CHECK_EQ(be32(b + 8), 1);
	CHECK_EQ(be32(b + 12), 800);
	CHECK_EQ(be32(b + 16), 40);
	CHECK_EQ(be32(b + 20), 950);
	CHECK_EQ(be32(b + 24), 0x01020304);
	CHECK_EQ(be32(b + 28), 0x05060708);
	CHECK_EQ(be32(b + 32), 5);
	CHECK_EQ(be32(b + 36), 512);
	CHECK_EQ(be32(b + 40), 0xcafef00d);
	fl = 2 * 0x100 * 4 + LLM_WIRE_DATA_META;
	CHECK_EQ(llm_wire_data_parse(b, fl, &out), 0);
	CHECK(data_eq(&d, &out));
	/* the fields it checks */
	set32(b, 0);
	CHECK_EQ(llm_wire_data_parse(b, LLM_WIRE_DATA_META, &out), -1);
	set32(b, 2);
	set32(b + 4, 0);
	CHECK_EQ(llm_wire_data_parse(b, LLM_WIRE_DATA_META, &out), -1);
	set32(b + 4, 0x100);
	set32(b + 8, 2);
	CHECK_EQ(llm_wire_data_parse(b, fl, &out), -1);
	set32(b + 8, 0x80000001);
	CHECK_EQ(llm_wire_data_parse(b, fl, &out), -1);
	set32(b + 8, 0);
	CHECK_EQ(llm_wire_data_parse(b, fl, &out), 0);
	set32(b, 4097);
	set32(b + 4, 1);
	CHECK_EQ(llm_wire_data_parse(b, 4097 * 4 + LLM_WIRE_DATA_META, &out),
		 -1);
	set32(b, 4096);
	CHECK_EQ(llm_wire_data_parse(b, 4096 * 4 + LLM_WIRE_DATA_META, &out),
		 0);
	set32(b, 1);
	set32(b + 4, 65537);
	CHECK_EQ(llm_wire_data_parse(b, 65537 * 4 + LLM_WIRE_DATA_META, &out),
		 -1);
	set32(b + 4, 65536);
	CHECK_EQ(llm_wire_data_parse(b, 65536 * 4 + LLM_WIRE_DATA_META, &out),
		 0);
	/* the largest product, 2^30 floats' bytes, in 64 bits */
	set32(b, 4096);
	set32(b + 4, 65536);
	CHECK_EQ(llm_wire_data_parse(b, LLM_WIRE_DATA_META, &out), -1);
	CHECK_EQ(llm_wire_data_parse(b, (1u << 30) + LLM_WIRE_DATA_META, &out),
		 0);
}

static int result_eq(const struct llm_wire_result *a,
		     const struct llm_wire_result *b)
{
	return a->status == b->status && a->token == b->token &&
	       a->rng == b->rng && a->have == b->have && a->node == b->node &&
	       a->tag == b->tag;
}

static int hello_eq(const struct llm_wire_hello *a,
		    const struct llm_wire_hello *b)
{
	return a->time_ns == b->time_ns &&
	       !memcmp(a->nonce, b->nonce, LLM_WIRE_NONCE) &&
	       !memcmp(a->echo, b->echo, LLM_WIRE_NONCE) &&
	       a->n_nodes == b->n_nodes && a->mtu == b->mtu;
}

static void result_hello(void)
{
	struct llm_wire_result r, ro;
	struct llm_wire_hello h, ho;
	u8 b[LLM_WIRE_HELLO_LEN + LLM_WIRE_RESULT_LEN + 1];
	u32 i, k;

	for (i = 0; i < 5000; i++) {
		r.status = i % 4 == 0 ? -(s32)(rnd32() % 4096) :
			   i % 4 == 1 ? 0 : (s32)rnd32();
		r.token = i % 3 ? rnd32() : LLM_WIRE_NO_TOKEN;
		r.rng = rnd64();
		r.have = rnd32();
		r.node = rnd32();
		r.tag = rnd32();
		b[LLM_WIRE_RESULT_LEN] = 0xa5;
		llm_wire_result_pack(&r, b);
		CHECK_EQ(b[LLM_WIRE_RESULT_LEN], 0xa5);	/* stays in bounds */
		memset(&ro, 0x5a, sizeof(ro));
		llm_wire_result_parse(b, &ro);
		CHECK(result_eq(&r, &ro));

		h.time_ns = rnd64();
		for (k = 0; k < LLM_WIRE_NONCE; k++) {
			h.nonce[k] = rnd32();
			h.echo[k] = i % 2 ? rnd32() : 0;
		}
		h.n_nodes = rnd32();
		h.mtu = rnd32();
		b[LLM_WIRE_HELLO_LEN] = 0xa5;
		llm_wire_hello_pack(&h, b);
		CHECK_EQ(b[LLM_WIRE_HELLO_LEN], 0xa5);
		memset(&ho, 0x5a, sizeof(ho));
		llm_wire_hello_parse(b, &ho);
		CHECK(hello_eq(&h, &ho));
	}
	memset(&r, 0, sizeof(r));
	r.status = -34;
	r.token = 7;
	r.rng = 0x1112131415161718ull;
	r.have = 9;
	r.node = 2;
	r.tag = 0x0badf00d;
	llm_wire_result_pack(&r, b);
	CHECK_EQ(be32(b), 0xffffffde);
	CHECK_EQ(be32(b + 4), 7);
	CHECK_EQ(be32(b + 8), 0x11121314);
	CHECK_EQ(be32(b + 12), 0x15161718);
	CHECK_EQ(be32(b + 16), 9);
	CHECK_EQ(be32(b + 20), 2);
	CHECK_EQ(be32(b + 24), 0x0badf00d);
	memset(&h, 0, sizeof(h));
	h.time_ns = 0x2122232425262728ull;
	h.nonce[0] = 0x31;
	h.nonce[31] = 0x32;
	h.echo[0] = 0x41;
	h.echo[31] = 0x42;
	h.n_nodes = 3;
	h.mtu = 1500;
	llm_wire_hello_pack(&h, b);
	CHECK_EQ(be32(b), 0x21222324);
	CHECK_EQ(b[8], 0x31);
	CHECK_EQ(b[39], 0x32);
	CHECK_EQ(b[40], 0x41);
	CHECK_EQ(b[71], 0x42);
	CHECK_EQ(be32(b + 72), 3);
	CHECK_EQ(be32(b + 76), 1500);
}

/*
 * The reference replay window: a set of every counter accepted, the
 * highest + 1, and "older than top - WINDOW" refused.  U64_MAX is never
 * accepted (top would wrap; a sender rekeys long before).
 */
#define SET_BITS	17
#define SET_SIZE	(1u << SET_BITS)

static u64 *set_key;
static u8 *set_used;

struct ref_window {
	u64 top;
	u32 n;
};

static bool set_add(u64 k)
{
	u32 i = (u32)((k * 0x9e3779b97f4a7c15ull) >> (64 - SET_BITS));

	while (set_used[i]) {
		if (set_key[i] == k)
			return false;
		i = (i + 1) % SET_SIZE;
	}
	set_used[i] = 1;
	set_key[i] = k;
	return true;
}

static bool set_has(u64 k)
{
	u32 i = (u32)((k * 0x9e3779b97f4a7c15ull) >> (64 - SET_BITS));

	while (set_used[i]) {
		if (set_key[i] == k)
			return true;
		i = (i + 1) % SET_SIZE;
	}
	return false;
}

static bool ref_accept(struct ref_window *r, u64 ctr)
{
	if (ctr == U64_MAX)
		return false;
	if (r->n && ctr < r->top && r->top - ctr > WINDOW)
		return false;
	if (set_has(ctr))
		return false;
	set_add(ctr);
	r->n++;
	if (ctr + 1 > r->top)
		r->top = ctr + 1;
	return true;
}

/* accepted before and still in the window */
static bool ref_seen(const struct ref_window *r, u64 ctr)
{
	if (ctr >= r->top || r->top - ctr > WINDOW)
		return false;
	return set_has(ctr);
}

static u64 pick(const struct ref_window *r, const u64 *hist, u32 nh)
{
	u32 c = rnd32() % 100;
	u64 top = r->top;

	if (c < 25)
		return top;
	if (c < 38)
		return top + 1 + rnd32() % 64;
	if (c < 43)	/* across word boundaries */
		return (top / 64 + 1 + rnd32() % 3) * 64 - 1 + rnd32() % 3;
	if (c < 47)	/* a jump of about the window, of a few windows */
		return top + WINDOW - 2 + rnd32() % 4 +
			(u64)(rnd32() % 3) * LLM_REPLAY_BITS;
	if (c < 50)
		return top + rnd32() % (1u << 20);
	if (c < 51)
		return top + (rnd64() >> (rnd32() % 64));
	if (c < 61 && nh)
		return hist[rnd32() % nh];	/* a duplicate */
	if (c < 72)	/* at the window's edge */
		return top - WINDOW - 2 + rnd32() % 5;
	if (c < 85)	/* inside the window, or just out */
		return top - 1 - rnd32() % (WINDOW + 80);
	if (c < 88)
		return top - (rnd64() >> (rnd32() % 64));
	if (c < 92)
		return U64_MAX - rnd32() % 3;
	if (c < 94)
		return rnd32() % 3;
	return top - 3000 + rnd32() % 6000;
}

static int replay_seq(u64 start, u32 ops, u32 *n_acc)
{
	struct llm_replay w;
	struct ref_window r = { 0, 0 };
	static u64 hist[32768];
	u32 nh = 0, i;

	memset(set_used, 0, SET_SIZE);
	llm_replay_init(&w);
	for (i = 0; i < ops; i++) {
		u64 ctr = i == 0 ? start : pick(&r, hist, nh), probe;
		bool want = ref_accept(&r, ctr), got = llm_replay_accept(&w, ctr);
		int k;

		if (got != want) {
			check_fail(__FILE__, __LINE__,
				   "start %#llx op %u: counter %#llx (top %#llx, %lld below it): accepted %d, want %d",
				   (unsigned long long)start, i,
				   (unsigned long long)ctr,
				   (unsigned long long)r.top,
				   (long long)(r.top - ctr), got, want);
			return 0;
		}
		/* seen: this counter, and probes near top and the edge */
		for (k = 0; k < 3; k++) {
			probe = k == 0 ? ctr : k == 1 ? pick(&r, hist, nh) :
				r.top - WINDOW - 1 + rnd32() % 3;
			if (llm_replay_seen(&w, probe) != ref_seen(&r, probe)) {
				check_fail(__FILE__, __LINE__,
					   "start %#llx op %u: seen(%#llx) %d, want %d (top %#llx)",
					   (unsigned long long)start, i,
					   (unsigned long long)probe,
					   llm_replay_seen(&w, probe),
					   ref_seen(&r, probe),
					   (unsigned long long)r.top);
				return 0;
			}
		}
		if (want) {
			*n_acc += 1;
			if (nh < ARRAY_SIZE(hist))
				hist[nh++] = ctr;
			else
				hist[rnd32() % nh] = ctr;
		}
		/* the state matches: top, and nothing accepted twice */
		if (w.top != r.top) {
			check_fail(__FILE__, __LINE__, "top %#llx, want %#llx",
				   (unsigned long long)w.top,
				   (unsigned long long)r.top);
			return 0;
		}
	}
	return 1;
}

static void replay_model(void)
{
	static const u64 starts[] = { 0, 1, 63, 64, 959, 960, 961, 1023,
		1024, 1 << 20, 1ull << 32, 1ull << 63, U64_MAX - 100000,
		U64_MAX - 3000, U64_MAX - 1025, U64_MAX - 961, U64_MAX - 64,
		U64_MAX - 2, U64_MAX - 1 };
	u32 s, n_acc = 0;

	set_key = malloc(SET_SIZE * sizeof(*set_key));
	set_used = malloc(SET_SIZE);
	CHECK(set_key && set_used);
	for (s = 0; s < 600; s++) {
		u64 start = s < ARRAY_SIZE(starts) ? starts[s] :
			s % 3 ? rnd64() : U64_MAX - rnd32() % 5000;

		if (!replay_seq(start, 1000 + rnd32() % 9000, &n_acc))
			break;
	}
	free(set_key);
	free(set_used);
	if (check_failed())
		return;
	printf("# replay: %u counters accepted\n", n_acc);
}

/* A few sequences spelled out. */
static void replay_cases(void)
{
	struct llm_replay w;
	u64 i;

	llm_replay_init(&w);
	CHECK(llm_replay_accept(&w, 0));
	CHECK(!llm_replay_accept(&w, 0));
	CHECK(llm_replay_accept(&w, 2000));
	/* top 2001: 2001 - 960 = 1041 is the oldest in the window */
	CHECK(!llm_replay_accept(&w, 1040));
	CHECK(llm_replay_accept(&w, 1041));
	CHECK(!llm_replay_accept(&w, 1041));
	CHECK(llm_replay_accept(&w, 1999));
	CHECK(!llm_replay_accept(&w, 2000));
	CHECK(!llm_replay_accept(&w, 0));
	/* in order, out of order, each once */
	for (i = 2001; i < 5000; i++)
		CHECK(llm_replay_accept(&w, i));
	for (i = 4999; i >= 4040; i--)
		CHECK(!llm_replay_accept(&w, i));
	CHECK(!llm_replay_accept(&w, 4039));
	for (i = 5001; i < 6000; i += 2)
		CHECK(llm_replay_accept(&w, i));
	/* top 6000: 5040 is the oldest in the window */
	CHECK(!llm_replay_accept(&w, 5038));
	for (i = 5040; i < 6000; i += 2)
		CHECK(llm_replay_accept(&w, i));
	for (i = 5040; i < 6000; i++)
		CHECK(!llm_replay_accept(&w, i));
	/* a jump of more than the ring clears it */
	CHECK(llm_replay_accept(&w, 1000000));
	for (i = 1000001 - WINDOW; i < 1000000; i++)
		CHECK(llm_replay_accept(&w, i));
	CHECK(!llm_replay_accept(&w, 1000000 - WINDOW));

	/* at the top of the counter space */
	llm_replay_init(&w);
	CHECK(!llm_replay_accept(&w, U64_MAX));
	CHECK(llm_replay_accept(&w, U64_MAX - 100));
	CHECK(llm_replay_accept(&w, U64_MAX - 99));
	CHECK(llm_replay_accept(&w, U64_MAX - 200));
	CHECK(!llm_replay_accept(&w, U64_MAX - 100));
	CHECK(llm_replay_accept(&w, U64_MAX - 1));
	CHECK(!llm_replay_accept(&w, U64_MAX - 1));
	CHECK(!llm_replay_accept(&w, U64_MAX));
	CHECK(llm_replay_accept(&w, U64_MAX - WINDOW));
	CHECK(!llm_replay_accept(&w, U64_MAX - WINDOW - 1));
	CHECK(!llm_replay_accept(&w, 5));
	CHECK(!llm_replay_accept(&w, 1000));
	/* from low counters straight to the top */
	llm_replay_init(&w);
	CHECK(llm_replay_accept(&w, 5000));
	CHECK(llm_replay_accept(&w, U64_MAX - 10));
	CHECK(llm_replay_accept(&w, U64_MAX - 11));
	CHECK(!llm_replay_accept(&w, 5000));
	CHECK(!llm_replay_accept(&w, 5001));
	CHECK(llm_replay_seen(&w, U64_MAX - 10));
	CHECK(llm_replay_seen(&w, U64_MAX - 11));
	CHECK(!llm_replay_seen(&w, U64_MAX - 12));
	CHECK(!llm_replay_seen(&w, U64_MAX - 9));
	CHECK(!llm_replay_seen(&w, U64_MAX));
	CHECK(!llm_replay_seen(&w, 5000));	/* out of the window now */
	llm_replay_init(&w);
	CHECK(!llm_replay_seen(&w, 0));
	CHECK(llm_replay_accept(&w, 0));
	CHECK(llm_replay_seen(&w, 0));
	CHECK(!llm_replay_seen(&w, 1));
	CHECK(llm_replay_accept(&w, 959));
	CHECK(llm_replay_seen(&w, 0));		/* top 960: 0 the oldest */
	CHECK(llm_replay_accept(&w, 960));
	CHECK(!llm_replay_seen(&w, 0));
	CHECK(!llm_replay_accept(&w, 0));
}

static void rtt(void)
{
	struct llm_rtt r;
	u32 i, k, lo, hi, prev, s;

	/* RFC 6298 2.2 and 2.3, on numbers that divide evenly */
	llm_rtt_init(&r, 1000000);
	CHECK_EQ(r.rto_us, 1000000);
	llm_rtt_sample(&r, 8000, 1, U32_MAX);
	CHECK_EQ(r.srtt_us, 8000);
	CHECK_EQ(r.rttvar_us, 4000);
	CHECK_EQ(r.rto_us, 8000 + 4 * 4000);
	llm_rtt_sample(&r, 16000, 1, U32_MAX);
	CHECK_EQ(r.rttvar_us, 3000 + 2000);
	CHECK_EQ(r.srtt_us, 7000 + 2000);
	CHECK_EQ(r.rto_us, 9000 + 4 * 5000);
	/* clamped */
	llm_rtt_sample(&r, 16000, 50000, 60000);
	CHECK_EQ(r.rto_us, 50000);
	llm_rtt_sample(&r, 1000000, 1000, 60000);
	CHECK_EQ(r.rto_us, 60000);

	/* back-off: doubles up to the maximum, stays there */
	llm_rtt_init(&r, 1000);
	llm_rtt_backoff(&r, 1000000);
	CHECK_EQ(r.rto_us, 2000);
	for (i = 0; i < 40; i++) {
		prev = r.rto_us;
		llm_rtt_backoff(&r, 1000000);
		CHECK_EQ(r.rto_us, prev * 2 > 1000000 ? 1000000 : prev * 2);
	}
	CHECK_EQ(r.rto_us, 1000000);
	llm_rtt_init(&r, 3000000000u);
	llm_rtt_backoff(&r, U32_MAX);
	CHECK_EQ(r.rto_us, U32_MAX);	/* no wrap */

	/* random samples and back-offs: always within [min, max] */
	for (k = 0; k < 2000; k++) {
		lo = 1 + rnd32() % 100000;
		hi = lo + rnd32() % (k % 2 ? 1000000 : U32_MAX - lo);
		llm_rtt_init(&r, lo + rnd32() % (hi - lo + 1));
		for (i = 0; i < 200; i++) {
			u32 c = rnd32() % 10;

			if (c < 2) {
				prev = r.rto_us;
				llm_rtt_backoff(&r, hi);
				CHECK_EQ(r.rto_us, (u64)prev * 2 > hi ? hi :
					 prev * 2);
			} else {
				s = c < 4 ? rnd32() : c < 5 ? 0 :
				    c < 6 ? U32_MAX : rnd32() % 200000;
				llm_rtt_sample(&r, s, lo, hi);
				CHECK(r.srtt_us > 0);
			}
			CHECK(r.rto_us >= lo && r.rto_us <= hi);
		}
	}

	/* wild swings: the variance grows, never wraps to small */
	llm_rtt_init(&r, 1000);
	for (i = 0; i < 100; i++) {
		llm_rtt_sample(&r, i % 2 ? U32_MAX : 0, 1, U32_MAX);
		if (i > 0)
			CHECK(r.rttvar_us > U32_MAX / 8);
		CHECK(r.srtt_us > 0);
	}
	CHECK_EQ(r.rto_us, U32_MAX);
	llm_rtt_init(&r, 1000);
	for (i = 0; i < 100; i++)
		llm_rtt_sample(&r, U32_MAX, 1, U32_MAX);
	CHECK(r.srtt_us >= U32_MAX - 8);
	CHECK_EQ(r.rto_us, U32_MAX);

	/* constant samples: the RTO comes down to the sample */
	for (k = 0; k < 200; k++) {
		u32 first = k % 2 ? rnd32() % 10000000 : 0;

		s = k < 10 ? k : 1 + rnd32() % 10000000;
		llm_rtt_init(&r, 1000000);
		if (first)
			llm_rtt_sample(&r, first, 1, U32_MAX);
		for (i = 0; i < 400; i++)
			llm_rtt_sample(&r, s, 1, U32_MAX);
		/* within what integer steps of 1/8 and 1/4 leave */
		CHECK(r.srtt_us + 8 > s && r.srtt_us < s + 8);
		CHECK(r.rttvar_us <= 8);
		CHECK(r.rto_us + 8 > s && r.rto_us <= s + 8 + 4 * 8);
		/* and stays there */
		prev = r.rto_us;
		llm_rtt_sample(&r, s, 1, U32_MAX);
		CHECK_EQ(r.rto_us, prev);
		/* clamped from below on tiny samples */
		llm_rtt_sample(&r, s, s + 100, s + 200);
		CHECK(r.rto_us >= s + 100 && r.rto_us <= s + 200);
	}
}

/* frag_len / frags, frag_bytes, the bitmaps, nack_len. */
static void fragments(void)
{
	static u64 map[LLM_FRAG_WORDS];
	static u8 ref[LLM_WIRE_MAX_FRAGS];
	u32 i, k, fl, fb, n;
	u64 sum;

	for (i = 0; i < 20000; i++) {
		fb = 64 + rnd32() % (i % 2 ? 9000 : 65536 - 64);
		fl = rnd32() % (i % 3 ? 100000 : LLM_WIRE_MAX_FRAME + 1);
		n = llm_wire_frags(fl, fb);
		CHECK(n >= 1);
		sum = 0;
		for (k = 0; k < n; k++) {
			u32 l = llm_wire_frag_len(fl, fb, k);

			CHECK(l <= fb);
			CHECK(k + 1 == n || l == fb);
			CHECK(!fl || l > 0);
			sum += l;
		}
		CHECK_EQ(sum, fl);
		CHECK_EQ(llm_wire_frag_len(fl, fb, n), 0);
		CHECK_EQ(llm_wire_frag_len(fl, fb, 0xffff), 0);
	}
	CHECK_EQ(llm_wire_frags(0, 1400), 1);
	CHECK_EQ(llm_wire_frags(1400, 1400), 1);
	CHECK_EQ(llm_wire_frags(1401, 1400), 2);
	/* the offset in 64 bits: 131072 * 65535 would wrap 32 */
	CHECK_EQ(llm_wire_frag_len(U32_MAX, 65535, 65536), 65535);
	CHECK_EQ(llm_wire_frag_len(U32_MAX, 65535, 65537), 0);
	CHECK_EQ(llm_wire_frag_len(U32_MAX, 65535, 131072), 0);
	CHECK_EQ(llm_wire_frag_bytes(576), 576 - 28 - 56 - 16);
	CHECK_EQ(llm_wire_frag_bytes(9000), 8900);
	CHECK_EQ(llm_nack_len(1), 1);
	CHECK_EQ(llm_nack_len(8), 1);
	CHECK_EQ(llm_nack_len(9), 2);
	CHECK_EQ(llm_nack_len(LLM_WIRE_MAX_FRAGS), LLM_WIRE_MAX_FRAGS / 8);

	memset(map, 0, sizeof(map));
	memset(ref, 0, sizeof(ref));
	for (i = 0; i < 200000; i++) {
		k = i < LLM_WIRE_MAX_FRAGS ? i : rnd32() % LLM_WIRE_MAX_FRAGS;
		if (i < LLM_WIRE_MAX_FRAGS || rnd32() % 2) {
			llm_frag_set(map, k);
			ref[k] = 1;
		} else {
			llm_frag_clear(map, k);
			ref[k] = 0;
		}
		CHECK_EQ(llm_frag_test(map, k), ref[k]);
		n = rnd32() % LLM_WIRE_MAX_FRAGS;
		CHECK_EQ(llm_frag_test(map, n), ref[n]);
	}
	for (k = 0; k < LLM_WIRE_MAX_FRAGS; k++)
		CHECK_EQ(llm_frag_test(map, k), ref[k]);
}

int main(void)
{
	check_seed(0x6a09e667f3bcc908ull);
	RUN(layout);
	RUN(roundtrip);
	RUN(malformed_header);
	RUN(malformed_small);
	RUN(malformed_data);
	RUN(mutations);
	RUN(data_meta);
	RUN(result_hello);
	RUN(replay_cases);
	RUN(replay_model);
	RUN(rtt);
	RUN(fragments);
	return check_done();
}
