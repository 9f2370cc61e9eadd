// SPDX-License-Identifier: GPL-2.0
/*
 * llama2.c checkpoint + tokenizer -> GGUF.  See convert.h.
 *
 * The checkpoint (llama2.c's legacy format, export.py --version 0), all
 * little-endian:
 *
 *	int32 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
 *	      seq_len			(vocab_size < 0: unshared classifier)
 *	float token_embedding[vocab][dim]
 *	      rms_att[layers][dim]
 *	      wq[layers][dim][dim]
 *	      wk[layers][kv_dim][dim], wv[layers][kv_dim][dim]
 *	      wo[layers][dim][dim]
 *	      rms_ffn[layers][dim]
 *	      w1[layers][hidden][dim], w2[layers][dim][hidden],
 *	      w3[layers][hidden][dim]
 *	      rms_final[dim]
 *	      two RoPE tables of seq_len * head_size / 2 (not used)
 *	      wcls[vocab][dim]		(only when vocab_size < 0)
 *
 * The tokenizer: int32 max_token_length, then per token a float32 score,
 * an int32 length and that many bytes, with plain spaces where
 * SentencePiece writes U+2581.
 *
 * A row-major [rows][cols] matrix is a GGUF tensor of ne = {cols, rows}
 * with the same bytes, so every tensor is copied as it is.
 *
 * Q and K need no permutation.  llama.cpp's `llama` architecture applies
 * "normal" RoPE: it rotates the adjacent pairs (x[2i], x[2i+1]) of each
 * head by pos * base^(-2i/n_rot).  llama2.c's run.c rotates the same
 * pairs, (x[i], x[i+1]) for even i, by pos * 10000^(-i/head_size): the same
 * angle.  The permutation llama.cpp's Hugging Face converter applies to
 * Q/K undoes HF's rotate-half layout (x[i] paired with x[i + head/2]);
 * llama2.c's export.py undoes it already when it exports an HF model.  So
 * the right permutation here is the identity.  Checked against llama.cpp's
 * own conversion of stories260K (its attn_q/attn_k bytes are the
 * checkpoint's wq/wk bytes), and by the core generating llama2.c's tokens
 * from our file (tests/unit/test_convert.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "modelfile.h"
#include "../llm/core/tokenizer.h"
#include "../quant/quant.h"

#define L2C_HEADER_INTS		7
#define L2C_HEADER_BYTES	(L2C_HEADER_INTS * 4)
/* First int32 of llama2.c's newer exports (export.py --version 1, 2). */
#define L2C_EXPORT_MAGIC	0x616b3432u	/* "ak42" */

/* Token ids, names and values llama.cpp's converter writes. */
#define L2C_UNK_ID		0
#define L2C_BOS_ID		1
#define L2C_EOS_ID		2
#define L2C_NO_ID		0xffffffffu	/* separator, padding: none */
#define L2C_RMS_EPS		1e-5f
#define L2C_NAME		"llama"

/* U+2581 LOWER ONE EIGHTH BLOCK: SentencePiece's visible space. */
#define L2C_SP_SPACE		"\xe2\x96\x81"
#define L2C_SP_SPACE_LEN	3

static inline unsigned long long ull(u64 x)
{
	return x;
}

/* The tensors of a checkpoint, in file order. */
enum l2c_part {
	L2C_EMBD,
	L2C_RMS_ATT,
	L2C_WQ,
	L2C_WK,
	L2C_WV,
	L2C_WO,
	L2C_RMS_FFN,
	L2C_W1,
	L2C_W2,
	L2C_W3,
	L2C_RMS_FINAL,
	L2C_ROPE,
	L2C_CLS,
	L2C_NPARTS
};

struct l2c_layout {
	u64 off[L2C_NPARTS + 1];	/* byte offsets; off[NPARTS] = end */
	u64 layer_bytes[L2C_NPARTS];	/* one layer's slice, per part */
};

struct l2c_vocab {
	struct llm_gguf_str *pieces;
	float *scores;
	s32 *types;
	char *text;			/* the pieces, spaces escaped */
};

static int l2c_header(struct llm_l2c_config *c, const u8 *p, u64 len,
		      char *err, size_t errlen)
{
	static const char *const names[L2C_HEADER_INTS] = {
		"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads",
		"vocab_size", "seq_len",
	};
	s32 h[L2C_HEADER_INTS];
	int i;

	if (len < L2C_HEADER_BYTES) {
		snprintf(err, errlen,
			 "the checkpoint has %llu bytes, fewer than its %d-byte header",
			 ull(len), L2C_HEADER_BYTES);
		return -EINVAL;
	}
	if (llm_get_le32(p) == L2C_EXPORT_MAGIC) {
		snprintf(err, errlen,
			 "the checkpoint is a llama2.c export of version %u (magic \"ak42\"); only the legacy format (export.py --version 0) can be converted",
			 llm_get_le32(p + 4));
		return -EINVAL;
	}
	for (i = 0; i < L2C_HEADER_INTS; i++) {
		h[i] = (s32)llm_get_le32(p + 4 * i);
		if (i == 5 && h[i] < 0 && h[i] != INT32_MIN)
			continue;	/* negative vocab_size: see below */
		if (h[i] <= 0) {
			snprintf(err, errlen,
				 "the checkpoint's header has %s = %d; it must be positive: not a llama2.c checkpoint?",
				 names[i], h[i]);
			return -EINVAL;
		}
	}
	c->dim = h[0];
	c->hidden_dim = h[1];
	c->n_layers = h[2];
	c->n_heads = h[3];
	c->n_kv_heads = h[4];
	c->shared_cls = h[5] > 0;
	c->n_vocab = h[5] > 0 ? h[5] : -h[5];
	c->seq_len = h[6];
	if (c->dim % c->n_heads) {
		snprintf(err, errlen,
			 "the checkpoint's dim %u is not a multiple of its n_heads %u",
			 c->dim, c->n_heads);
		return -EINVAL;
	}
	if ((c->dim / c->n_heads) % 2) {
		snprintf(err, errlen,
			 "the checkpoint's head size %u is odd; RoPE rotates pairs",
			 c->dim / c->n_heads);
		return -EINVAL;
	}
	if (c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads) {
		snprintf(err, errlen,
			 "the checkpoint's n_kv_heads %u does not divide its n_heads %u",
			 c->n_kv_heads, c->n_heads);
		return -EINVAL;
	}
	if (c->n_vocab <= L2C_EOS_ID) {
		snprintf(err, errlen,
			 "the checkpoint's vocabulary of %u tokens cannot hold <unk>, <s> and </s>",
			 c->n_vocab);
		return -EINVAL;
	}
	return 0;
}

/* *@out = a * b * c floats in bytes; false on overflow. */
static bool l2c_bytes(u64 a, u64 b, u64 c, u64 *out)
{
	return !check_mul_overflow(a, b, out) &&
	       !check_mul_overflow(*out, c, out) &&
	       !check_mul_overflow(*out, (u64)sizeof(float), out);
}

static int l2c_layout(struct l2c_layout *l, const struct llm_l2c_config *c,
		      u64 len, char *err, size_t errlen)
{
	u64 hs = c->dim / c->n_heads, kv_dim = hs * c->n_kv_heads;
	u64 per_layer[L2C_NPARTS] = {
		[L2C_RMS_ATT] = c->dim,
		[L2C_WQ] = (u64)c->dim * c->dim,
		[L2C_WK] = kv_dim * c->dim,
		[L2C_WV] = kv_dim * c->dim,
		[L2C_WO] = (u64)c->dim * c->dim,
		[L2C_RMS_FFN] = c->dim,
		[L2C_W1] = (u64)c->hidden_dim * c->dim,
		[L2C_W2] = (u64)c->dim * c->hidden_dim,
		[L2C_W3] = (u64)c->hidden_dim * c->dim,
	};
	u64 size;
	int i;

	l->off[0] = L2C_HEADER_BYTES;
	for (i = 0; i < L2C_NPARTS; i++) {
		bool ok;

		l->layer_bytes[i] = per_layer[i] * sizeof(float);
		switch (i) {
		case L2C_EMBD:
			ok = l2c_bytes(c->n_vocab, c->dim, 1, &size);
			break;
		case L2C_RMS_FINAL:
			ok = l2c_bytes(c->dim, 1, 1, &size);
			break;
		case L2C_ROPE:	/* two tables of seq_len * hs / 2 */
			ok = l2c_bytes(c->seq_len, hs, 1, &size);
			break;
		case L2C_CLS:
			ok = l2c_bytes(c->shared_cls ? 0 : c->n_vocab,
				       c->dim, 1, &size);
			break;
		default:	/* products of two u32 fit a u64 */
			ok = l2c_bytes(c->n_layers, per_layer[i], 1, &size);
			break;
		}
		if (!ok || check_add_overflow(l->off[i], size, &l->off[i + 1]))
			goto too_big;
	}
	if (l->off[L2C_NPARTS] > len) {
		snprintf(err, errlen,
			 "the checkpoint is truncated: its header (dim %u, hidden_dim %u, %u layers, %u heads, %u kv heads, vocab %u%s, seq_len %u) needs %llu bytes, the file has %llu",
			 c->dim, c->hidden_dim, c->n_layers, c->n_heads,
			 c->n_kv_heads, c->n_vocab,
			 c->shared_cls ? "" : " + classifier", c->seq_len,
			 ull(l->off[L2C_NPARTS]), ull(len));
		return -EINVAL;
	}
	if (l->off[L2C_NPARTS] < len) {
		snprintf(err, errlen,
			 "the checkpoint has %llu bytes after the %llu its header calls for: not a legacy-format llama2.c checkpoint, or a damaged one",
			 ull(len - l->off[L2C_NPARTS]),
			 ull(l->off[L2C_NPARTS]));
		return -EINVAL;
	}
	return 0;
too_big:
	snprintf(err, errlen,
		 "the checkpoint's header asks for more weights than any file can hold (dim %u, hidden_dim %u, %u layers, vocab %u, seq_len %u)",
		 c->dim, c->hidden_dim, c->n_layers, c->n_vocab, c->seq_len);
	return -EINVAL;
}

/*
 * Whether llama.cpp's converter calls a piece a byte token: it tests
 * sscanf(piece, "<0x%02hhX>", &b) == 1, that is "<0x" and then a hex
 * number of at most two characters (blanks before it skipped, a sign
 * allowed).  What follows the number is not checked.
 */
static bool l2c_is_byte_piece(const u8 *p, u64 n)
{
	u64 i = 3;

	if (n < 4 || memcmp(p, "<0x", 3))
		return false;
	while (i < n && (p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r')))
		i++;
	if (i < n && (p[i] == '+' || p[i] == '-'))
		i++;
	if (i >= n)
		return false;
	return (p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
	       (p[i] >= 'A' && p[i] <= 'F');
}

/*
 * Token type and piece as llama.cpp's converter writes them: ids 0, 1, 2
 * become <unk>, <s>, </s> (llama2.c's pieces for them are "<unk>",
 * "\n<s>\n", "\n</s>\n"); an empty piece is a control token.
 */
static s32 l2c_token(u32 id, const u8 **p, u64 *n)
{
	static const char *const special[] = { "<unk>", "<s>", "</s>" };

	if (id <= L2C_EOS_ID) {
		*p = (const u8 *)special[id];
		*n = strlen(special[id]);
		return id == L2C_UNK_ID ? LLM_TOK_UNKNOWN : LLM_TOK_CONTROL;
	}
	if (!*n)
		return LLM_TOK_CONTROL;
	if (l2c_is_byte_piece(*p, *n))
		return LLM_TOK_BYTE;
	return LLM_TOK_NORMAL;
}

static void l2c_free_vocab(struct l2c_vocab *v)
{
	free(v->pieces);
	free(v->scores);
	free(v->types);
	free(v->text);
	memset(v, 0, sizeof(*v));
}

static int l2c_vocab(struct l2c_vocab *v, const u8 *tok, u64 len, u32 n,
		     char *err, size_t errlen)
{
	u64 pos = 4, cap, used = 0, plen, j;
	const u8 *piece;
	u32 i;

	memset(v, 0, sizeof(*v));
	if (len < 4) {
		snprintf(err, errlen,
			 "the tokenizer has %llu bytes, fewer than its 4-byte header",
			 ull(len));
		return -EINVAL;
	}
	/* a piece grows at most 3-fold; the special names are <= 5 bytes */
	if (check_mul_overflow(len, (u64)L2C_SP_SPACE_LEN, &cap) ||
	    check_add_overflow(cap, (u64)16, &cap) || cap > SIZE_MAX)
		goto oom;
	v->pieces = calloc(n, sizeof(*v->pieces));
	v->scores = calloc(n, sizeof(*v->scores));
	v->types = calloc(n, sizeof(*v->types));
	v->text = malloc(cap);
	if (!v->pieces || !v->scores || !v->types || !v->text)
		goto oom;
	for (i = 0; i < n; i++) {
		if (len - pos < 8) {
			snprintf(err, errlen,
				 "the tokenizer ends at token %u (byte %llu), but the checkpoint has %u tokens: is it this model's tokenizer?",
				 i, ull(pos), n);
			goto bad;
		}
		memcpy(&v->scores[i], tok + pos, 4);
		plen = llm_get_le32(tok + pos + 4);
		pos += 8;
		if (plen > (u64)S32_MAX || plen > len - pos) {
			snprintf(err, errlen,
				 "the tokenizer's token %u claims %lld bytes at byte %llu, but the file has %llu",
				 i, (long long)(s32)plen, ull(pos), ull(len));
			goto bad;
		}
		piece = tok + pos;
		pos += plen;
		v->types[i] = l2c_token(i, &piece, &plen);
		v->pieces[i].p = v->text + used;
		for (j = 0; j < plen; j++) {
			if (piece[j] == ' ') {
				memcpy(v->text + used, L2C_SP_SPACE,
				       L2C_SP_SPACE_LEN);
				used += L2C_SP_SPACE_LEN;
			} else {
				v->text[used++] = piece[j];
			}
		}
		v->pieces[i].len = v->text + used - v->pieces[i].p;
	}
	if (pos != len) {
		snprintf(err, errlen,
			 "the tokenizer has %llu bytes after its first %u tokens, the checkpoint's vocabulary: is it this model's tokenizer?",
			 ull(len - pos), n);
		goto bad;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory for a %u-token vocabulary", n);
	l2c_free_vocab(v);
	return -ENOMEM;
bad:
	l2c_free_vocab(v);
	return -EINVAL;
}

/* The keys, in the order llama.cpp's converter sets them. */
static int l2c_keys(struct llm_gguf_writer *w, const struct llm_l2c_config *c,
		    const struct l2c_vocab *v)
{
	const struct {
		const char *key;
		u32 val;
	} u32s[] = {
		{ "tokenizer.ggml.unknown_token_id", L2C_UNK_ID },
		{ "tokenizer.ggml.bos_token_id", L2C_BOS_ID },
		{ "tokenizer.ggml.eos_token_id", L2C_EOS_ID },
		/* sic: llama.cpp spells it "seperator" */
		{ "tokenizer.ggml.seperator_token_id", L2C_NO_ID },
		{ "tokenizer.ggml.padding_token_id", L2C_NO_ID },
		/* llama.cpp writes its own n_ctx option; the model's is this */
		{ "llama.context_length", c->seq_len },
		{ "llama.embedding_length", c->dim },
		{ "llama.feed_forward_length", c->hidden_dim },
		{ "llama.attention.head_count", c->n_heads },
		{ "llama.attention.head_count_kv", c->n_kv_heads },
		{ "llama.block_count", c->n_layers },
		/*
		 * llama2.c rotates whole heads.  llama.cpp writes min(64,
		 * head size): the same for every head size up to 64.
		 */
		{ "llama.rope.dimension_count", c->dim / c->n_heads },
	};
	size_t i;
	int ret;

	ret = llm_gguf_writer_add_arr_strn(w, "tokenizer.ggml.tokens",
					   v->pieces, c->n_vocab);
	if (!ret)
		ret = llm_gguf_writer_add_arr(w, "tokenizer.ggml.scores",
					      LLM_GGUF_F32, v->scores,
					      c->n_vocab);
	if (!ret)
		ret = llm_gguf_writer_add_arr(w, "tokenizer.ggml.token_type",
					      LLM_GGUF_I32, v->types,
					      c->n_vocab);
	if (!ret)
		ret = llm_gguf_writer_add_str(w, "tokenizer.ggml.model",
					      L2C_NAME);
	if (!ret)
		ret = llm_gguf_writer_add_str(w, "general.architecture",
					      "llama");
	if (!ret)
		ret = llm_gguf_writer_add_str(w, "general.name", L2C_NAME);
	for (i = 0; i < ARRAY_SIZE(u32s) && !ret; i++)
		ret = llm_gguf_writer_add_u32(w, u32s[i].key, u32s[i].val);
	if (!ret)
		ret = llm_gguf_writer_add_f32(w,
					      "llama.attention.layer_norm_rms_epsilon",
					      L2C_RMS_EPS);
	return ret;
}

static int l2c_tensor(struct llm_gguf_writer *w, const char *name,
		      u64 ne0, u64 ne1, const u8 *data)
{
	u64 ne[2] = { ne0, ne1 };

	return llm_gguf_writer_add_tensor(w, name, LLM_T_F32, 2, ne, data,
					  ne0 * ne1 * sizeof(float));
}

/* The tensors, in the order llama.cpp's converter adds them. */
static int l2c_tensors(struct llm_gguf_writer *w,
		       const struct llm_l2c_config *c,
		       const struct l2c_layout *l, const u8 *ckpt)
{
	static const struct {
		const char *name;
		enum l2c_part part;
	} blk[] = {
		{ "attn_q", L2C_WQ },
		{ "attn_k", L2C_WK },
		{ "attn_v", L2C_WV },
		{ "attn_output", L2C_WO },
		{ "attn_norm", L2C_RMS_ATT },
		{ "ffn_gate", L2C_W1 },
		{ "ffn_down", L2C_W2 },
		{ "ffn_up", L2C_W3 },
		{ "ffn_norm", L2C_RMS_FFN },
	};
	u64 kv_dim = (u64)c->dim / c->n_heads * c->n_kv_heads;
	u64 cols[L2C_NPARTS] = {
		[L2C_RMS_ATT] = c->dim, [L2C_RMS_FFN] = c->dim,
		[L2C_WQ] = c->dim, [L2C_WK] = c->dim, [L2C_WV] = c->dim,
		[L2C_WO] = c->dim, [L2C_W1] = c->dim, [L2C_W3] = c->dim,
		[L2C_W2] = c->hidden_dim,
	};
	u64 rows[L2C_NPARTS] = {
		[L2C_RMS_ATT] = 1, [L2C_RMS_FFN] = 1,
		[L2C_WQ] = c->dim, [L2C_WK] = kv_dim, [L2C_WV] = kv_dim,
		[L2C_WO] = c->dim, [L2C_W1] = c->hidden_dim,
		[L2C_W3] = c->hidden_dim, [L2C_W2] = c->dim,
	};
	const u8 *cls = ckpt + l->off[c->shared_cls ? L2C_EMBD : L2C_CLS];
	char name[64];
	u32 i;
	size_t j;
	int ret;

	ret = l2c_tensor(w, "token_embd.weight", c->dim, c->n_vocab,
			 ckpt + l->off[L2C_EMBD]);
	if (!ret)
		ret = l2c_tensor(w, "output_norm.weight", c->dim, 1,
				 ckpt + l->off[L2C_RMS_FINAL]);
	/* written even when shared, as llama.cpp does */
	if (!ret)
		ret = l2c_tensor(w, "output.weight", c->dim, c->n_vocab, cls);
	for (i = 0; i < c->n_layers && !ret; i++) {
		for (j = 0; j < ARRAY_SIZE(blk) && !ret; j++) {
			enum l2c_part p = blk[j].part;

			snprintf(name, sizeof(name), "blk.%u.%s.weight", i,
				 blk[j].name);
			ret = l2c_tensor(w, name, cols[p], rows[p],
					 ckpt + l->off[p] +
					 i * l->layer_bytes[p]);
		}
	}
	return ret;
}

int llm_convert_llama2c(struct llm_gguf_writer *w, const void *ckpt,
			u64 ckpt_len, const void *tok, u64 tok_len,
			struct llm_convert_stats *st, char *err, size_t errlen)
{
	struct llm_l2c_config c;
	struct l2c_layout l;
	struct l2c_vocab v;
	int ret;

	ret = l2c_header(&c, ckpt, ckpt_len, err, errlen);
	if (!ret)
		ret = l2c_layout(&l, &c, ckpt_len, err, errlen);
	if (ret)
		return ret;
	ret = l2c_vocab(&v, tok, tok_len, c.n_vocab, err, errlen);
	if (ret)
		return ret;
	ret = l2c_keys(w, &c, &v);
	if (!ret)
		ret = l2c_tensors(w, &c, &l, ckpt);
	l2c_free_vocab(&v);
	if (ret) {
		snprintf(err, errlen, "%s", llm_gguf_writer_error(w));
		return ret;
	}
	if (st) {
		st->cfg = c;
		st->n_tensors = 3 + 9 * c.n_layers;
		st->bytes_in = ckpt_len + tok_len;
		st->bytes_out = llm_gguf_writer_size(w);
	}
	return 0;
}

int llm_convert_llama2c_file(const char *ckpt_path, const char *tok_path,
			     const char *out_path,
			     struct llm_convert_stats *st, char *err,
			     size_t errlen)
{
	struct llm_mapped_file ckpt, tok = { 0 };
	struct llm_gguf_writer *w = NULL;
	char why[512];
	int ret;

	if (llm_same_file(out_path, ckpt_path) ||
	    llm_same_file(out_path, tok_path)) {
		snprintf(err, errlen, "%s is one of the input files", out_path);
		return -EINVAL;
	}
	ret = llm_map_file(&ckpt, ckpt_path, err, errlen);
	if (ret)
		return ret;
	ret = llm_map_file(&tok, tok_path, err, errlen);
	if (ret)
		goto out;
	w = llm_gguf_writer_new(0);
	if (!w) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	ret = llm_convert_llama2c(w, ckpt.data, ckpt.len, tok.data, tok.len,
				  st, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s + %s: %s", ckpt_path, tok_path, why);
		goto out;
	}
	ret = llm_gguf_writer_to_file(w, out_path);
	if (ret)
		snprintf(err, errlen, "%s", llm_gguf_writer_error(w));
out:
	llm_gguf_writer_free(w);
	llm_unmap_file(&tok);
	llm_unmap_file(&ckpt);
	return ret;
}
