// SPDX-License-Identifier: GPL-2.0
/*
 * SentencePiece-style BPE tokenizer over a GGUF vocabulary.  See
 * tokenizer.h.  Encoding follows llama.cpp's "spm" tokenizer: split the
 * normalised text into UTF-8 characters, then repeatedly merge the adjacent
 * pair whose concatenation is the highest-scoring piece in the vocabulary
 * (the leftmost on a tie), then map what is left to pieces, falling back to
 * one <0xXX> token per byte for characters the vocabulary lacks.
 */
#include "tokenizer.h"
#include "bpe.h"

/* U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's space. */
static const char spm_space[3] = { '\xe2', '\x96', '\x81' };

/* Score bits to an unsigned key with the same order as the floats. */
static u32 score_key(u32 bits)
{
	return (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
}

static u32 fnv1a(const char *s, u32 len)
{
	u32 h = 2166136261u;
	u32 i;

	for (i = 0; i < len; i++) {
		h ^= (u8)s[i];
		h *= 16777619u;
	}
	return h;
}

u32 llm_vocab_find(const struct llm_vocab *v, const char *text, u32 len)
{
	u32 i = fnv1a(text, len) & v->hash_mask;
	u32 slot;

	while ((slot = v->hash[i]) != 0) {
		const struct llm_token *t = &v->tok[slot - 1];

		if (t->len == len && !memcmp(t->text, text, len))
			return slot - 1;
		i = (i + 1) & v->hash_mask;
	}
	return LLM_TOKEN_NONE;
}

static void vocab_insert(struct llm_vocab *v, u32 id)
{
	const struct llm_token *t = &v->tok[id];
	u32 i = fnv1a(t->text, t->len) & v->hash_mask;
	u32 slot;

	while ((slot = v->hash[i]) != 0) {
		const struct llm_token *o = &v->tok[slot - 1];

		/* duplicate piece: the later id wins, as in llama.cpp */
		if (o->len == t->len && !memcmp(o->text, t->text, t->len)) {
			v->hash[i] = id + 1;
			return;
		}
		i = (i + 1) & v->hash_mask;
	}
	v->hash[i] = id + 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "<0xXX>" -> XX, or -1. */
static int byte_piece(const char *s, u32 len)
{
	int hi, lo;

	if (len != 6 || s[0] != '<' || s[1] != '0' || s[2] != 'x' ||
	    s[5] != '>')
		return -1;
	hi = hexval(s[3]);
	lo = hexval(s[4]);
	return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

/* An optional token id key: absent keeps @def; 0xffffffff means none. */
static int get_token_id(const struct llm_gguf *g, const char *key, u32 n,
			u32 def, u32 *out, char *err, size_t errlen)
{
	int ret = llm_gguf_get_u32(g, key, out);

	if (ret == -ENOENT) {
		*out = def < n ? def : LLM_TOKEN_NONE;
		return 0;
	}
	if (ret) {
		llm_snprintf(err, errlen, "%s is not a token id", key);
		return ret;
	}
	if (*out != LLM_TOKEN_NONE && *out >= n) {
		llm_snprintf(err, errlen, "%s = %u is outside the %u-token vocabulary",
			     key, *out, n);
		return -EINVAL;
	}
	return 0;
}

static int get_flag(const struct llm_gguf *g, const char *key, bool def,
		    bool *out, char *err, size_t errlen)
{
	int ret = llm_gguf_get_bool(g, key, out);

	if (ret == -ENOENT) {
		*out = def;
		return 0;
	}
	if (ret)
		llm_snprintf(err, errlen, "%s is not a boolean", key);
	return ret;
}

/*
 * The special tokens and flags; a byte-level vocabulary has no unknown
 * token, no space prefix and, unless it says so, no BOS in front.
 */
static int vocab_ids(struct llm_vocab *v, const struct llm_gguf *g,
		     char *err, size_t errlen)
{
	u32 none = LLM_TOKEN_NONE;
	int ret;

	ret = get_token_id(g, "tokenizer.ggml.bos_token_id", v->n,
			   v->bpe ? none : 1, &v->bos, err, errlen);
	if (!ret)
		ret = get_token_id(g, "tokenizer.ggml.eos_token_id", v->n,
				   v->bpe ? none : 2, &v->eos, err, errlen);
	if (!ret)
		ret = get_token_id(g, "tokenizer.ggml.eot_token_id", v->n,
				   none, &v->eot, err, errlen);
	if (!ret)
		ret = get_token_id(g, "tokenizer.ggml.unknown_token_id", v->n,
				   v->bpe ? none : 0, &v->unk, err, errlen);
	if (!ret)
		ret = get_flag(g, "tokenizer.ggml.add_bos_token", !v->bpe,
			       &v->add_bos, err, errlen);
	if (!ret)
		ret = get_flag(g, "tokenizer.ggml.add_space_prefix", !v->bpe,
			       &v->add_space_prefix, err, errlen);
	return ret;
}

/* Optional per-token array of @type with one element per token. */
static int vocab_array(const struct llm_gguf *g, const char *key, u32 type,
		       u32 n, const struct llm_gguf_kv **kv, char *err,
		       size_t errlen)
{
	int ret = llm_gguf_get_arr(g, key, type, kv);

	if (ret == -ENOENT) {
		*kv = NULL;
		return 0;
	}
	if (ret) {
		llm_snprintf(err, errlen, "%s has the wrong element type", key);
		return ret;
	}
	if ((*kv)->arr_n != n) {
		llm_snprintf(err, errlen, "%s has %llu entries for %u tokens",
			     key, (unsigned long long)(*kv)->arr_n, n);
		return -EINVAL;
	}
	return 0;
}

/* Control, user-defined and unknown tokens can be written in a text. */
static bool is_special(const struct llm_token *t)
{
	return t->len && (t->type == LLM_TOK_CONTROL ||
			  t->type == LLM_TOK_USER_DEFINED ||
			  t->type == LLM_TOK_UNKNOWN);
}

/* The special tokens, longest first (insertion sort: they are few). */
static int vocab_specials(struct llm_vocab *v, struct llm_arena *arena,
			  char *err, size_t errlen)
{
	u32 i, j, n = 0;

	for (i = 0; i < v->n; i++)
		n += is_special(&v->tok[i]);
	v->special = llm_arena_alloc_array(arena, n ? n : 1, sizeof(u32), 0);
	if (!v->special) {
		llm_snprintf(err, errlen, "arena too small for %u special tokens",
			     n);
		return -ENOMEM;
	}
	for (i = 0; i < v->n; i++) {
		const struct llm_token *t = &v->tok[i];

		if (!is_special(t))
			continue;
		for (j = v->n_special; j && v->tok[v->special[j - 1]].len <
					    t->len; j--)
			v->special[j] = v->special[j - 1];
		v->special[j] = i;
		v->n_special++;
		v->special_first[(u8)t->text[0] / 32] |=
			1u << ((u8)t->text[0] % 32);
	}
	return 0;
}

int llm_vocab_load(struct llm_vocab *v, const struct llm_gguf *g,
		   struct llm_arena *arena, char *err, size_t errlen)
{
	const struct llm_gguf_kv *tokens, *scores, *types;
	struct llm_gguf_str model;
	const u8 *cur;
	u32 i, n, hsize;
	int ret;

	memset(v, 0, sizeof(*v));
	ret = llm_gguf_get_str(g, "tokenizer.ggml.model", &model);
	if (ret) {
		llm_snprintf(err, errlen, "the file has no tokenizer (tokenizer.ggml.model)");
		return -EINVAL;
	}
	if (llm_gguf_str_eq(model, "gpt2")) {
		v->bpe = true;
	} else if (!llm_gguf_str_eq(model, "llama")) {
		llm_snprintf(err, errlen, "tokenizer model '%.*s' is not supported ('llama': SentencePiece, 'gpt2': byte-level BPE)",
			     (int)min_t(u64, model.len, 32), model.p);
		return -EINVAL;
	}
	ret = llm_gguf_get_arr(g, "tokenizer.ggml.tokens", LLM_GGUF_STRING,
			       &tokens);
	if (ret) {
		llm_snprintf(err, errlen, "tokenizer.ggml.tokens is missing or not an array of strings");
		return -EINVAL;
	}
	if (tokens->arr_n < 1 || tokens->arr_n > (1u << 24)) {
		llm_snprintf(err, errlen, "vocabulary of %llu tokens is out of range (1..16777216)",
			     (unsigned long long)tokens->arr_n);
		return -EINVAL;
	}
	n = (u32)tokens->arr_n;
	v->n = n;
	ret = vocab_array(g, "tokenizer.ggml.scores", LLM_GGUF_F32, n, &scores,
			  err, errlen);
	if (!ret)
		ret = vocab_array(g, "tokenizer.ggml.token_type", LLM_GGUF_I32,
				  n, &types, err, errlen);
	if (!ret)
		ret = vocab_ids(v, g, err, errlen);
	if (ret)
		return ret;

	for (hsize = 1; hsize < 2 * n; hsize <<= 1)
		;
	v->tok = llm_arena_alloc_array(arena, n, sizeof(*v->tok), 0);
	v->hash = llm_arena_alloc_array(arena, hsize, sizeof(u32), 0);
	if (!v->tok || !v->hash) {
		llm_snprintf(err, errlen, "arena too small for a %u-token vocabulary", n);
		return -ENOMEM;
	}
	memset(v->hash, 0, (size_t)hsize * sizeof(u32));
	v->hash_mask = hsize - 1;
	for (i = 0; i < 256; i++)
		v->byte_tok[i] = LLM_TOKEN_NONE;

	cur = tokens->arr_data;
	for (i = 0; i < n; i++) {
		struct llm_token *t = &v->tok[i];
		struct llm_gguf_str s;
		int b;

		llm_gguf_next_str(&cur, &s);
		if (s.len > LLM_TOKEN_MAX_BYTES) {
			llm_snprintf(err, errlen, "token %u is %llu bytes long; the longest supported is %u",
				     i, (unsigned long long)s.len,
				     LLM_TOKEN_MAX_BYTES);
			return -EINVAL;
		}
		t->text = s.p;
		t->len = (u32)s.len;
		t->score_key = score_key(scores ?
				llm_get_le32(scores->arr_data + 4 * (u64)i) : 0);
		t->type = types ? (u8)llm_get_le32(types->arr_data + 4 * (u64)i) :
			  LLM_TOK_NORMAL;
		b = v->bpe ? -1 : byte_piece(t->text, t->len);
		if (b >= 0 && (!types || t->type == LLM_TOK_BYTE)) {
			t->type = LLM_TOK_BYTE;
			t->byte = (u8)b;
			if (v->byte_tok[b] == LLM_TOKEN_NONE)
				v->byte_tok[b] = i;
		} else if (t->type == LLM_TOK_BYTE) {
			t->type = LLM_TOK_NORMAL;	/* malformed: a plain piece */
		}
		if (t->len > v->max_len)
			v->max_len = t->len;
		vocab_insert(v, i);
	}
	ret = vocab_specials(v, arena, err, errlen);
	if (ret)
		return ret;
	return v->bpe ? llm_bpe_load(v, g, arena, err, errlen) : 0;
}

/* Symbols and candidate merges of one encode, in caller scratch. */
struct spm_sym {
	u32 off;
	u32 len;		/* 0 once merged into its left neighbour */
	s32 prev;
	s32 next;
};

struct spm_pair {
	s32 left;
	s32 right;
	u32 key;
	u32 len;
};

struct spm_work {
	const struct llm_vocab *v;
	const char *text;
	struct spm_sym *sym;
	struct spm_pair *heap;
	u32 n_heap;
};

/* Is @a a better merge than @b: higher score, then further left. */
static bool pair_before(const struct spm_pair *a, const struct spm_pair *b)
{
	return a->key > b->key || (a->key == b->key && a->left < b->left);
}

static void heap_push(struct spm_work *w, struct spm_pair p)
{
	u32 i = w->n_heap++;

	while (i > 0) {
		u32 parent = (i - 1) / 2;

		if (!pair_before(&p, &w->heap[parent]))
			break;
		w->heap[i] = w->heap[parent];
		i = parent;
	}
	w->heap[i] = p;
}

static struct spm_pair heap_pop(struct spm_work *w)
{
	struct spm_pair top = w->heap[0];
	struct spm_pair last = w->heap[--w->n_heap];
	u32 i = 0, n = w->n_heap;

	for (;;) {
		u32 c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && pair_before(&w->heap[c + 1], &w->heap[c]))
			c++;
		if (!pair_before(&w->heap[c], &last))
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	if (n)
		w->heap[i] = last;
	return top;
}

static void try_pair(struct spm_work *w, s32 left, s32 right)
{
	struct spm_pair p;
	u32 id, len;

	if (left < 0 || right < 0)
		return;
	len = w->sym[left].len + w->sym[right].len;
	id = llm_vocab_find(w->v, w->text + w->sym[left].off, len);
	if (id == LLM_TOKEN_NONE)
		return;
	p.left = left;
	p.right = right;
	p.key = w->v->tok[id].score_key;
	p.len = len;
	heap_push(w, p);
}

/* Bytes in the UTF-8 sequence that starts with @c (1 for stray bytes). */
static u32 utf8_len(u8 c)
{
	static const u8 lens[16] = { 1, 1, 1, 1, 1, 1, 1, 1,
				     1, 1, 1, 1, 2, 2, 3, 4 };

	return lens[c >> 4];
}

/* Normalised text is at most 3 bytes per input byte plus the prefix. */
static u64 norm_cap(u32 len)
{
	return 3 * (u64)len + 3;
}

/*
 * One symbol per character of the normalised text: at most one per input
 * byte plus the prefix (a space becomes one 3-byte character).  Each merge
 * queues at most two new pairs, so the heap never holds more than three
 * per symbol.
 */
static u64 sym_cap(u32 len)
{
	return (u64)len + 1;
}

u64 llm_tokenize_scratch_bytes(u32 len)
{
	u64 spm = LLM_ALIGN_UP(norm_cap(len), 8) +
		  sym_cap(len) * sizeof(struct spm_sym) +
		  3 * sym_cap(len) * sizeof(struct spm_pair);

	return max(spm, llm_bpe_scratch_bytes(len));
}

static u32 normalise(bool prefix, const char *text, u32 len, char *out)
{
	u32 i, n = 0;

	if (prefix) {
		memcpy(out, spm_space, 3);
		n = 3;
	}
	for (i = 0; i < len; i++) {
		if (text[i] == ' ') {
			memcpy(out + n, spm_space, 3);
			n += 3;
		} else {
			out[n++] = text[i];
		}
	}
	return n;
}

static int emit(u32 *out, u32 cap, u32 *n, u32 tok)
{
	if (*n >= cap)
		return -E2BIG;
	out[(*n)++] = tok;
	return 0;
}

/* SentencePiece over @text, with U+2581 in front when @prefix. */
static int spm_tokenize(const struct llm_vocab *v, const char *text, u32 len,
			bool prefix, u32 *out, u32 cap, void *scratch)
{
	struct spm_work w;
	char *norm = scratch;
	u32 nlen, off, nsym = 0, n = 0;
	s32 i;
	int ret;

	if (!len)
		return n;

	nlen = normalise(prefix, text, len, norm);
	w.v = v;
	w.text = norm;
	w.sym = (struct spm_sym *)(norm + LLM_ALIGN_UP(norm_cap(len), 8));
	w.heap = (struct spm_pair *)(w.sym + sym_cap(len));
	w.n_heap = 0;

	for (off = 0; off < nlen; nsym++) {
		u32 l = min(utf8_len((u8)norm[off]), nlen - off), k;

		/* a sequence cut short by a non-continuation byte ends there */
		for (k = 1; k < l; k++)
			if (((u8)norm[off + k] & 0xc0) != 0x80)
				break;
		l = k;

		w.sym[nsym].off = off;
		w.sym[nsym].len = l;
		w.sym[nsym].prev = (s32)nsym - 1;
		w.sym[nsym].next = off + l < nlen ? (s32)nsym + 1 : -1;
		off += l;
	}
	for (i = 1; i < (s32)nsym; i++)
		try_pair(&w, i - 1, i);

	while (w.n_heap) {
		struct spm_pair p = heap_pop(&w);
		struct spm_sym *l = &w.sym[p.left], *r = &w.sym[p.right];

		if (!l->len || !r->len || l->len + r->len != p.len)
			continue;	/* one side changed since: stale */
		l->len += r->len;
		r->len = 0;
		l->next = r->next;
		if (r->next >= 0)
			w.sym[r->next].prev = p.left;
		try_pair(&w, l->prev, p.left);
		try_pair(&w, p.left, l->next);
	}

	for (i = 0; i >= 0; i = w.sym[i].next) {
		const char *s = norm + w.sym[i].off;
		u32 id = llm_vocab_find(v, s, w.sym[i].len), b;

		if (id != LLM_TOKEN_NONE) {
			ret = emit(out, cap, &n, id);
			if (ret)
				return ret;
			continue;
		}
		for (b = 0; b < w.sym[i].len; b++) {
			id = v->byte_tok[(u8)s[b]];
			ret = emit(out, cap, &n, id != LLM_TOKEN_NONE ? id : v->unk);
			if (ret)
				return ret;
		}
	}
	return n;
}

/* One run of plain text: SentencePiece (a space in front when @first) or BPE. */
static int fragment(const struct llm_vocab *v, const char *text, u32 len,
		    bool first, u32 *out, u32 cap, void *scratch,
		    u64 scratch_bytes)
{
	if (v->bpe)
		return llm_bpe_tokenize(v, text, len, false, out, cap, scratch,
					scratch_bytes);
	return spm_tokenize(v, text, len, first && v->add_space_prefix, out,
			    cap, scratch);
}

/* The longest special token at @s, or LLM_TOKEN_NONE. */
static u32 special_at(const struct llm_vocab *v, const char *s, u32 left)
{
	u32 i;

	if (!(v->special_first[(u8)s[0] / 32] & 1u << ((u8)s[0] % 32)))
		return LLM_TOKEN_NONE;
	for (i = 0; i < v->n_special; i++) {
		const struct llm_token *t = &v->tok[v->special[i]];

		if (t->len <= left && !memcmp(t->text, s, t->len))
			return v->special[i];
	}
	return LLM_TOKEN_NONE;
}

int llm_tokenize_ex(const struct llm_vocab *v, const char *text, u32 len,
		    unsigned int flags, u32 *out, u32 cap, void *scratch,
		    u64 scratch_bytes)
{
	bool first = true;
	u32 n = 0, start = 0, i = 0;
	int ret;

	if (scratch_bytes < llm_tokenize_scratch_bytes(len))
		return -ENOMEM;
	if ((flags & LLM_TOKENIZE_BOS) && v->bos != LLM_TOKEN_NONE) {
		ret = emit(out, cap, &n, v->bos);
		if (ret)
			return ret;
	}
	while (i < len) {
		u32 sp = flags & LLM_TOKENIZE_SPECIAL ?
			 special_at(v, text + i, len - i) : LLM_TOKEN_NONE;

		if (sp == LLM_TOKEN_NONE) {
			i++;
			continue;
		}
		/* the text before it, then the special token itself */
		if (i > start) {
			ret = fragment(v, text + start, i - start, first,
				       out + n, cap - n, scratch,
				       scratch_bytes);
			if (ret < 0)
				return ret;
			n += ret;
		}
		ret = emit(out, cap, &n, sp);
		if (ret)
			return ret;
		/* SentencePiece puts its space after a special token too */
		first = true;
		i += v->tok[sp].len;
		start = i;
	}
	if (start < len || !len) {
		ret = fragment(v, text + start, len - start, first, out + n,
			       cap - n, scratch, scratch_bytes);
		if (ret < 0)
			return ret;
		n += ret;
	}
	return n;
}

int llm_tokenize(const struct llm_vocab *v, const char *text, u32 len,
		 bool add_bos, u32 *out, u32 cap, void *scratch,
		 u64 scratch_bytes)
{
	return llm_tokenize_ex(v, text, len, add_bos ? LLM_TOKENIZE_BOS : 0,
			       out, cap, scratch, scratch_bytes);
}

u32 llm_token_to_text(const struct llm_vocab *v, u32 prev, u32 tok,
		      char *out, u32 cap)
{
	static const char unk_piece[3] = { '\xe2', '\x96', '\x85' };
	const struct llm_token *t;
	u32 i = 0, n = 0;

	if (tok >= v->n || !cap)
		return 0;
	if (v->bpe)
		return llm_bpe_token_text(v, tok, out, cap);
	t = &v->tok[tok];
	switch (t->type) {
	case LLM_TOK_CONTROL:
	case LLM_TOK_UNUSED:
		return 0;
	case LLM_TOK_BYTE:
		out[0] = (char)t->byte;
		return 1;
	case LLM_TOK_UNKNOWN:
		n = min_t(u32, cap, 3);
		memcpy(out, unk_piece, n);
		return n;
	}
	while (i < t->len && n < cap) {
		if (t->len - i >= 3 && !memcmp(t->text + i, spm_space, 3)) {
			i += 3;
			/* SentencePiece drops the space it added after BOS */
			if (n == 0 && i == 3 && prev == v->bos &&
			    v->add_space_prefix)
				continue;
			out[n++] = ' ';
		} else {
			out[n++] = t->text[i++];
		}
	}
	return n;
}
