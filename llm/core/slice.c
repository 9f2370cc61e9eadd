// SPDX-License-Identifier: GPL-2.0
/*
 * A ring node's share of a GGUF file.  See slice.h.
 */
#include "platform.h"
#include "slice.h"

#define SLICE_KEY_LEN	96

static inline unsigned long long ull(u64 x)
{
	return x;
}

/* The model's layer count: <general.architecture>.block_count. */
static int layer_count(const struct llm_gguf *g, u32 *n, char *err,
		       size_t errlen)
{
	struct llm_gguf_str arch;
	char key[SLICE_KEY_LEN];

	if (llm_gguf_get_str(g, "general.architecture", &arch) ||
	    arch.len > SLICE_KEY_LEN - sizeof(".block_count")) {
		llm_snprintf(err, errlen, "the file names no architecture (general.architecture), so its layers are unknown");
		return -EINVAL;
	}
	llm_snprintf(key, sizeof(key), "%.*s.block_count", (int)arch.len,
		     arch.p);
	if (llm_gguf_get_u32(g, key, n) || !*n) {
		llm_snprintf(err, errlen, "the file has no %s, so its layers are unknown",
			     key);
		return -EINVAL;
	}
	return 0;
}

static bool keep(const struct llm_slice *s, struct llm_gguf_str name,
		 bool has_output)
{
	struct llm_gguf_str rest;
	u32 blk;

	if (llm_gguf_block(name, &blk, &rest))
		return blk >= s->first && blk < s->end;
	if (llm_gguf_str_eq(name, "token_embd.weight"))
		return !s->first || (s->end == s->n_layers && !has_output);
	/* learned positions are added to the tokens, on the head */
	if (llm_gguf_str_eq(name, "position_embd.weight"))
		return !s->first;
	if (llm_gguf_str_eq(name, "output_norm.weight") ||
	    llm_gguf_str_eq(name, "output_norm.bias") ||
	    llm_gguf_str_eq(name, "output.weight"))
		return s->end == s->n_layers;
	return true;
}

/* Bytes a tensor info takes: name, n_dims, the dims, type, offset. */
static u64 info_bytes(const struct llm_gguf_tensor *t)
{
	return 8 + t->name.len + 4 + 8ull * t->n_dims + 4 + 8;
}

static u64 align_up(u64 x, u32 a)
{
	return (x + a - 1) & ~((u64)a - 1);
}

int llm_slice_plan(struct llm_slice *s, const struct llm_gguf *g, u32 first,
		   u32 end, struct llm_arena *arena, char *err, size_t errlen)
{
	size_t mark = llm_arena_mark(arena);
	bool has_output = llm_gguf_find_tensor(g, "output.weight");
	u64 i, head, data = 0;
	int ret;

	memset(s, 0, sizeof(*s));
	s->g = g;
	ret = layer_count(g, &s->n_layers, err, errlen);
	if (ret)
		return ret;
	if (!end)
		end = s->n_layers;
	if (first >= end || end > s->n_layers) {
		llm_snprintf(err, errlen, "layers %u:%u do not fit the model's %u layers (they must be A:B with A < B <= %u)",
			     first, end, s->n_layers, s->n_layers);
		return -EINVAL;
	}
	s->first = first;
	s->end = end;
	s->offset = llm_arena_alloc_array(arena, (size_t)g->n_tensors + 1,
					  sizeof(u64), 0);
	s->piece = llm_arena_alloc_array(arena, (size_t)g->n_tensors + 1,
					 sizeof(*s->piece), 0);
	if (!s->offset || !s->piece) {
		llm_arena_rewind(arena, mark);
		llm_snprintf(err, errlen, "no memory to plan a slice of %llu tensors",
			     ull(g->n_tensors));
		return -ENOMEM;
	}
	/* the header and pairs as they are, then the kept infos */
	head = g->tensors_offset;
	for (i = 0; i < g->n_tensors; i++) {
		const struct llm_gguf_tensor *t = &g->tensors[i];

		s->offset[i] = U64_MAX;
		if (!keep(s, t->name, has_output))
			continue;
		data = align_up(data, g->alignment);
		s->offset[i] = data;
		s->piece[s->n_pieces].from = g->data_offset + t->offset;
		s->piece[s->n_pieces].to = data;
		s->piece[s->n_pieces].len = t->nbytes;
		s->n_pieces++;
		data += t->nbytes;
		head += info_bytes(t);
	}
	s->head_len = align_up(head, g->alignment);
	for (i = 0; i < s->n_pieces; i++)
		s->piece[i].to += s->head_len;
	s->len = s->n_pieces ?
		 s->piece[s->n_pieces - 1].to + s->piece[s->n_pieces - 1].len :
		 s->head_len;
	return 0;
}

u64 llm_slice_table_bytes(const void *prefix, u64 len)
{
	u64 parse = llm_gguf_table_bytes(prefix, len);

	/* the plan: an offset and a piece per tensor, and their padding */
	if (!parse)
		return 0;
	return parse + (llm_get_le64((const u8 *)prefix + 8) + 1) *
		       (sizeof(u64) + sizeof(struct llm_slice_piece)) + 256;
}

static u8 *put_le32(u8 *p, u32 v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
	return p + 4;
}

static u8 *put_le64(u8 *p, u64 v)
{
	put_le32(p, (u32)v);
	return put_le32(p + 4, (u32)(v >> 32));
}

void llm_slice_write_head(const struct llm_slice *s, u8 *out)
{
	const struct llm_gguf *g = s->g;
	u8 *p = out + g->tensors_offset;
	u64 i;

	memcpy(out, g->image, g->tensors_offset);
	put_le64(out + 8, s->n_pieces);		/* the tensor count */
	for (i = 0; i < g->n_tensors; i++) {
		const struct llm_gguf_tensor *t = &g->tensors[i];
		u32 d;

		if (s->offset[i] == U64_MAX)
			continue;
		p = put_le64(p, t->name.len);
		memcpy(p, t->name.p, t->name.len);
		p += t->name.len;
		p = put_le32(p, t->n_dims);
		for (d = 0; d < t->n_dims; d++)
			p = put_le64(p, t->ne[d]);
		p = put_le32(p, t->type);
		p = put_le64(p, s->offset[i]);
	}
	memset(p, 0, out + s->head_len - p);
}

void llm_slice_copy(const struct llm_slice *s, const u8 *file, u8 *out)
{
	u64 i;

	for (i = 0; i < s->n_pieces; i++) {
		memcpy(out + s->piece[i].to, file + s->piece[i].from,
		       s->piece[i].len);
		llm_yield();
	}
}
