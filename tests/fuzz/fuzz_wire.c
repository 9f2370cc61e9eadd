// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the network ring's packet parser (netfilter/wire.c),
 * built with -fsanitize=fuzzer,address,undefined.
 *
 * Each input is one UDP payload, copied into a buffer of exactly its size
 * (so an over-read hits a redzone) and handed to llm_wire_parse().  A
 * refusal must name MALFORMED or OVERSIZED, OVERSIZED only for a DATA
 * frame past the limits.  An accepted packet must satisfy every invariant
 * the receive path relies on (below); its header re-packs to the same
 * bytes, and its body goes through the parser of its type.
 *
 * FUZZ_WIRE_SEEDS=DIR: write a seed corpus (valid packets of every type)
 * to DIR and exit.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "netfilter/wire.h"
#include "uapi/llm.h"

/* Bytes read from bodies land here, so the reads cannot be elided. */
u8 fuzz_wire_sink;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_wire: %s\n", what);
	abort();
}

static u16 be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static void check_data(const struct llm_wire_hdr *h, const u8 *body, u32 n)
{
	struct llm_wire_data d;
	u8 again[LLM_WIRE_DATA_META];

	if (h->elem != LLM_WIRE_F32)
		die("DATA accepted without F32 elements");
	if (!h->frag_count || h->frag_count > LLM_WIRE_MAX_FRAGS)
		die("DATA accepted with a bad frag_count");
	if (h->frag_idx >= h->frag_count)
		die("DATA accepted with frag_idx >= frag_count");
	if (h->frame_len <= LLM_WIRE_DATA_META ||
	    h->frame_len > LLM_WIRE_MAX_FRAME)
		die("DATA accepted with frame_len out of bounds");
	if (!h->frag_bytes ||
	    llm_wire_frags(h->frame_len, h->frag_bytes) != h->frag_count)
		die("DATA accepted with frag_count not matching its frame");
	if (n != llm_wire_frag_len(h->frame_len, h->frag_bytes, h->frag_idx))
		die("DATA accepted with a body not its fragment's length");
	if (!n || n > h->frag_bytes)
		die("DATA accepted with an empty or overlong fragment");
	/* the fragment lands inside the reassembly buffer */
	if ((u64)h->frag_idx * h->frag_bytes + n > h->frame_len)
		die("DATA fragment reaches past its frame");
	if (h->frag_idx + 1 < h->frag_count && n != h->frag_bytes)
		die("DATA fragment short before the last");
	if (h->frag_idx)
		return;
	/* the meta comes whole in the first fragment */
	if (n < LLM_WIRE_DATA_META)
		die("DATA first fragment shorter than the meta");
	if (llm_wire_data_parse(body, h->frame_len, &d))
		return;
	if (!d.n_pos || !d.n_embd || d.flags & ~LLM_WIRE_LOGITS ||
	    (u64)d.n_pos * d.n_embd * 4 + LLM_WIRE_DATA_META != h->frame_len)
		die("DATA meta accepted that disagrees with frame_len");
	llm_wire_data_pack(&d, again);
	if (memcmp(again, body, LLM_WIRE_DATA_META))
		die("DATA meta does not re-pack to its bytes");
}

static void check_nack(const struct llm_wire_hdr *h, const u8 *body, u32 n)
{
	static u64 map[LLM_FRAG_WORDS];
	u32 i;

	if (!h->frag_count || h->frag_count > LLM_WIRE_MAX_FRAGS ||
	    h->frag_idx || h->frag_bytes || n != llm_nack_len(h->frag_count) ||
	    n != h->frame_len)
		die("NACK accepted with bad fields");
	memset(map, 0, sizeof(map));
	for (i = 0; i < h->frag_count; i++)
		if (body[i / 8] >> (i % 8) & 1)
			llm_frag_set(map, i);
	for (i = 0; i < h->frag_count; i++)
		if (llm_frag_test(map, i) != (body[i / 8] >> (i % 8) & 1))
			die("fragment bitmap disagrees with the NACK");
}

static void check_accepted(const struct llm_wire_hdr *h, const u8 *pkt,
			   u32 len)
{
	const u8 *body = pkt + LLM_WIRE_HDR;
	u32 n = len - LLM_WIRE_HDR - LLM_WIRE_TAG;
	u8 again[LLM_WIRE_HDR];

	if (len < LLM_WIRE_HDR + LLM_WIRE_TAG)
		die("a packet shorter than header and tag accepted");
	if (h->magic != LLM_WIRE_MAGIC || h->version != LLM_WIRE_VERSION ||
	    !h->type || h->type >= LLM_WIRE_TYPES || h->flags ||
	    h->reserved)
		die("accepted with a bad magic, version, type, flags or reserved");
	if (h->src >= LLM_WIRE_MAX_NODES || h->dst >= LLM_WIRE_MAX_NODES ||
	    h->src == h->dst)
		die("accepted with bad node ids");
	if (h->type != LLM_WIRE_DATA && h->elem != LLM_WIRE_NONE)
		die("elem set on a non-DATA packet");
	llm_wire_pack(h, again);
	if (memcmp(again, pkt, LLM_WIRE_HDR))
		die("the parsed header does not re-pack to the same bytes");

	switch (h->type) {
	case LLM_WIRE_DATA:
		check_data(h, body, n);
		return;
	case LLM_WIRE_NACK:
		check_nack(h, body, n);
		return;
	}
	/* the small types: one fragment holding the whole frame */
	if (h->frag_idx || h->frag_count != 1 || n != h->frame_len ||
	    h->frag_bytes != h->frame_len)
		die("small frame accepted with bad fragment fields");
	switch (h->type) {
	case LLM_WIRE_RESULT: {
		struct llm_wire_result r;
		u8 b[LLM_WIRE_RESULT_LEN];

		if (n != LLM_WIRE_RESULT_LEN)
			die("RESULT of the wrong length accepted");
		llm_wire_result_parse(body, &r);
		llm_wire_result_pack(&r, b);
		if (memcmp(b, body, n))
			die("RESULT does not re-pack to its bytes");
		return;
	}
	case LLM_WIRE_HELLO:
	case LLM_WIRE_HELLO_REPLY: {
		struct llm_wire_hello hh;
		u8 b[LLM_WIRE_HELLO_LEN];

		if (n != LLM_WIRE_HELLO_LEN)
			die("HELLO of the wrong length accepted");
		llm_wire_hello_parse(body, &hh);
		llm_wire_hello_pack(&hh, b);
		if (memcmp(b, body, n))
			die("HELLO does not re-pack to its bytes");
		return;
	}
	default:	/* ACK, CONTROL */
		if (n)
			die("ACK or CONTROL with a body accepted");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct llm_wire_hdr h;
	u8 *pkt;
	u32 cause, len;
	int ret;

	if (size > U32_MAX)
		return 0;
	len = size;
	pkt = malloc(size ? size : 1);
	if (!pkt)
		return 0;
	memcpy(pkt, data, size);
	ret = llm_wire_parse(pkt, len, &h, &cause);
	if (ret == 0) {
		check_accepted(&h, pkt, len);
	} else if (ret != -1) {
		die("llm_wire_parse returned neither 0 nor -1");
	} else if (cause == LLM_DROP_OVERSIZED) {
		if (len < LLM_WIRE_HDR || pkt[5] != LLM_WIRE_DATA ||
		    (be32(pkt + 48) <= LLM_WIRE_MAX_FRAME &&
		     be16(pkt + 42) <= LLM_WIRE_MAX_FRAGS))
			die("OVERSIZED for a packet within the limits");
	} else if (cause != LLM_DROP_MALFORMED) {
		die("refused with a cause other than MALFORMED or OVERSIZED");
	}
	free(pkt);
	return 0;
}

/* The seed corpus: one or more valid packets of every type. */
static const char *seed_dir;
static unsigned int n_seeds;

static void seed(const struct llm_wire_hdr *h, const u8 *body, u32 n)
{
	static u8 buf[LLM_WIRE_HDR + 65536 + LLM_WIRE_TAG];
	struct llm_wire_hdr out;
	char path[4096];
	FILE *f;
	u32 len = LLM_WIRE_HDR + n + LLM_WIRE_TAG, cause;

	llm_wire_pack(h, buf);
	if (body)
		memcpy(buf + LLM_WIRE_HDR, body, n);
	else
		memset(buf + LLM_WIRE_HDR, 0x5a, n);
	memset(buf + LLM_WIRE_HDR + n, 0xc3, LLM_WIRE_TAG);
	if (llm_wire_parse(buf, len, &out, &cause)) {
		fprintf(stderr, "fuzz_wire: seed %u (type %u) is refused\n",
			n_seeds, h->type);
		exit(1);
	}
	check_accepted(&out, buf, len);
	snprintf(path, sizeof(path), "%s/seed-%02u", seed_dir, n_seeds++);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void base(struct llm_wire_hdr *h, u8 type)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->ring_id = 0x1234;
	h->src = 1;
	h->dst = 2;
	h->counter = 77;
	h->frame = 5;
	h->session = 3;
	h->step = 9;
	h->epoch = 1;
	h->frag_count = 1;
}

static void data_seeds(u32 n_pos, u32 n_embd, u32 fb)
{
	static u8 frame[LLM_WIRE_DATA_META + 4 * 1024];
	struct llm_wire_data d = { 0 };
	struct llm_wire_hdr h;
	u32 i, fl = n_pos * n_embd * 4 + LLM_WIRE_DATA_META;

	if (fl > sizeof(frame))
		exit(2);
	d.n_pos = n_pos;
	d.n_embd = n_embd;
	d.flags = LLM_WIRE_LOGITS;
	d.temp_milli = 800;
	d.top_k = 40;
	d.top_p_milli = 950;
	d.rng = 0x0123456789abcdefull;
	d.n_layers = 5;
	d.n_vocab = 512;
	llm_wire_data_pack(&d, frame);
	for (i = LLM_WIRE_DATA_META; i < fl; i++)
		frame[i] = i * 7;
	base(&h, LLM_WIRE_DATA);
	h.elem = LLM_WIRE_F32;
	h.frame_len = fl;
	h.frag_bytes = fb;
	h.frag_count = llm_wire_frags(fl, fb);
	for (i = 0; i < h.frag_count; i++) {
		h.frag_idx = i;
		seed(&h, frame + i * fb, llm_wire_frag_len(fl, fb, i));
	}
}

static void write_seeds(void)
{
	struct llm_wire_hdr h;
	struct llm_wire_result r = { -34, 7, 0xfeedull, 12, 1 };
	struct llm_wire_hello hello = { 0 };
	u8 b[LLM_WIRE_HELLO_LEN + LLM_WIRE_RESULT_LEN];
	u32 c, fb;

	if (mkdir(seed_dir, 0755) && errno != EEXIST) {
		perror(seed_dir);
		exit(1);
	}
	data_seeds(1, 16, 1400);	/* one fragment */
	data_seeds(2, 24, 64);		/* several, the last short */
	data_seeds(1, 64, 128);		/* several, all full but the last */
	/* the largest frame, its last fragment (small) */
	base(&h, LLM_WIRE_DATA);
	h.elem = LLM_WIRE_F32;
	h.frame_len = LLM_WIRE_MAX_FRAME;
	h.frag_bytes = fb = 65535;
	h.frag_count = llm_wire_frags(LLM_WIRE_MAX_FRAME, fb);
	h.frag_idx = h.frag_count - 1;
	seed(&h, NULL, llm_wire_frag_len(h.frame_len, fb, h.frag_idx));
	/* the most fragments */
	h.frame_len = LLM_WIRE_MAX_FRAGS * 64;
	h.frag_bytes = 64;
	h.frag_count = LLM_WIRE_MAX_FRAGS;
	h.frag_idx = LLM_WIRE_MAX_FRAGS - 1;
	seed(&h, NULL, 64);

	base(&h, LLM_WIRE_RESULT);
	h.frame_len = h.frag_bytes = LLM_WIRE_RESULT_LEN;
	llm_wire_result_pack(&r, b);
	seed(&h, b, LLM_WIRE_RESULT_LEN);

	base(&h, LLM_WIRE_ACK);
	seed(&h, NULL, 0);
	base(&h, LLM_WIRE_CONTROL);
	seed(&h, NULL, 0);

	for (c = 1; c <= LLM_WIRE_MAX_FRAGS; c = c * 3 + 2) {
		base(&h, LLM_WIRE_NACK);
		h.frag_count = c;
		h.frame_len = llm_nack_len(c);
		h.frag_bytes = 0;	/* a NACK cuts nothing */
		seed(&h, NULL, h.frame_len);
	}

	hello.time_ns = 1700000000000000000ull;
	memset(hello.nonce, 0x11, LLM_WIRE_NONCE);
	hello.n_nodes = 3;
	hello.mtu = 1500;
	llm_wire_hello_pack(&hello, b);
	base(&h, LLM_WIRE_HELLO);
	h.frame_len = h.frag_bytes = LLM_WIRE_HELLO_LEN;
	seed(&h, b, LLM_WIRE_HELLO_LEN);
	memset(hello.echo, 0x22, LLM_WIRE_NONCE);
	llm_wire_hello_pack(&hello, b);
	h.type = LLM_WIRE_HELLO_REPLY;
	seed(&h, b, LLM_WIRE_HELLO_LEN);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	seed_dir = getenv("FUZZ_WIRE_SEEDS");
	if (!seed_dir)
		return 0;
	write_seeds();
	printf("fuzz_wire: %u seeds in %s\n", n_seeds, seed_dir);
	exit(0);
}
