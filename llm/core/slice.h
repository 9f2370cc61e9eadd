/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A ring node's share of a GGUF file: what a node that runs layers
 * [first, end) of the model reads, so that its arena holds only that.
 *
 * It keeps blk.N.* for first <= N < end; token_embd when first is 0 (the
 * embedding) or when it is also the classifier and end is the last layer;
 * output_norm and output when end is the last layer; and any tensor of no
 * block (none the llama pass reads today) on every node.
 *
 * The slice is itself a GGUF file: the header with the new tensor count,
 * the key/value pairs byte for byte, the kept tensor infos with their new
 * offsets, and their data packed in the file's order at the file's
 * alignment.  Planning needs only the file's metadata (a prefix parsed by
 * llm_gguf_parse_prefix()); the caller then copies each piece's bytes,
 * from memory or from the file.  Shared core.
 */
#ifndef LLM_SLICE_H
#define LLM_SLICE_H

#include "gguf.h"

/* One tensor's bytes: @len at byte @from of the file, @to of the slice. */
struct llm_slice_piece {
	u64 from;
	u64 to;
	u64 len;
};

struct llm_slice {
	const struct llm_gguf *g;	/* the file's metadata */
	u32 first, end;			/* the layers */
	u32 n_layers;			/* the model's */
	u64 len;			/* bytes of the slice */
	u64 head_len;			/* its metadata, padded: data after */
	u64 n_pieces;
	struct llm_slice_piece *piece;	/* the kept tensors' data */
	u64 *offset;			/* per tensor of @g: new, or U64_MAX */
};

/*
 * Plan the slice of @g for layers [@first, @end) (@end 0: to the last).
 * Tables from @arena.  0, or -EINVAL (the range does not fit the model,
 * or its layer count is unknown) or -ENOMEM, with a sentence in @err.
 */
int llm_slice_plan(struct llm_slice *s, const struct llm_gguf *g, u32 first,
		   u32 end, struct llm_arena *arena, char *err, size_t errlen);

/*
 * Memory for parsing the file whose first @len bytes are @prefix
 * (llm_gguf_parse_prefix()) and planning its slice, from its header's
 * counts; 0 when @prefix is no GGUF header.
 */
u64 llm_slice_table_bytes(const void *prefix, u64 len);

/* Write the slice's first s->head_len bytes (its metadata) at @out. */
void llm_slice_write_head(const struct llm_slice *s, u8 *out);

/*
 * Copy every piece from @file (the whole file in memory) into @out, which
 * the caller zeroed (the padding between pieces is not written).
 */
void llm_slice_copy(const struct llm_slice *s, const u8 *file, u8 *out);

#endif /* LLM_SLICE_H */
