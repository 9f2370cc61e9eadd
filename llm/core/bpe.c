// SPDX-License-Identifier: GPL-2.0
/*
 * Byte-level BPE tokenizer.  See bpe.h.
 *
 * The pre-tokenizers are the regular expressions of each family written
 * out as code, with the semantics of a backtracking regex engine's
 * leftmost-first alternation and greedy quantifiers:
 *
 * gpt-2:  's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+
 *         |\s+(?!\S)|\s+
 * llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
 *         | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * qwen2:  the same as llama3 with \p{N} (one digit) for \p{N}{1,3}
 *
 * Every code point starts some alternative, so the words cover the text.
 */
#include "bpe.h"
#include "unicode.h"

/* ---- GPT-2's byte <-> symbol table ---- */

/* The bytes that stand for themselves: printable Latin-1 but the space. */
static bool byte_is_self(u32 b)
{
	return (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) ||
	       (b >= 0xae && b <= 0xff);
}

u32 llm_bpe_byte_symbol(u32 b)
{
	u32 i, k = 0;

	if (byte_is_self(b))
		return b;
	for (i = 0; i < b; i++)
		k += !byte_is_self(i);
	return 256 + k;
}

/* The byte code point @cp stands for, or -1 if it stands for none. */
static int symbol_byte(u32 cp)
{
	u32 b, k = 0;

	if (cp < 256)
		return byte_is_self(cp) ? (int)cp : -1;
	for (b = 0; b < 256; b++)
		if (!byte_is_self(b) && 256 + k++ == cp)
			return b;
	return -1;
}

/* ---- the merges table ---- */

static u32 pair_hash(u32 a, u32 b)
{
	u32 h = a * 0x9e3779b1u ^ (b + 0x7f4a7c15u) * 0x85ebca77u;

	return h ^ h >> 15;
}

static const struct llm_merge *merge_find(const struct llm_vocab *v, u32 a,
					  u32 b)
{
	u32 i = pair_hash(a, b) & v->merges_mask;

	for (;; i = (i + 1) & v->merges_mask) {
		const struct llm_merge *m = &v->merges[i];

		if (m->left == LLM_TOKEN_NONE)
			return NULL;
		if (m->left == a && m->right == b)
			return m;
	}
}

/* Add a merge; an earlier (lower-ranked) one of the same pair stays. */
static void merge_add(struct llm_vocab *v, u32 a, u32 b, u32 rank,
		      u32 result)
{
	u32 i = pair_hash(a, b) & v->merges_mask;

	for (;; i = (i + 1) & v->merges_mask) {
		struct llm_merge *m = &v->merges[i];

		if (m->left == a && m->right == b)
			return;
		if (m->left == LLM_TOKEN_NONE) {
			m->left = a;
			m->right = b;
			m->rank = rank;
			m->result = result;
			return;
		}
	}
}

static const struct {
	const char *name;
	u8 pre;
	bool ignore_merges;
} pres[] = {
	{ "gpt-2", LLM_PRE_GPT2, false },
	{ "gpt2", LLM_PRE_GPT2, false },
	{ "llama-bpe", LLM_PRE_LLAMA3, true },
	{ "llama3", LLM_PRE_LLAMA3, true },
	{ "llama-v3", LLM_PRE_LLAMA3, true },
	{ "qwen2", LLM_PRE_QWEN2, false },
};

static int load_pre(struct llm_vocab *v, const struct llm_gguf *g, char *err,
		    size_t errlen)
{
	struct llm_gguf_str s;
	size_t i;

	if (llm_gguf_get_str(g, "tokenizer.ggml.pre", &s)) {
		llm_snprintf(err, errlen, "the byte-level BPE vocabulary names no pre-tokenizer (tokenizer.ggml.pre)");
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(pres); i++) {
		if (llm_gguf_str_eq(s, pres[i].name)) {
			v->pre = pres[i].pre;
			v->ignore_merges = pres[i].ignore_merges;
			return 0;
		}
	}
	llm_snprintf(err, errlen, "tokenizer.ggml.pre = '%.*s' is not supported (gpt-2, llama-bpe and qwen2 are)",
		     (int)min_t(u64, s.len, 32), s.p);
	return -EINVAL;
}

int llm_bpe_load(struct llm_vocab *v, const struct llm_gguf *g,
		 struct llm_arena *arena, char *err, size_t errlen)
{
	const struct llm_gguf_kv *merges;
	const u8 *cur;
	size_t mark;
	u32 i, n, size, b;
	char *buf;
	int ret;

	ret = load_pre(v, g, err, errlen);
	if (ret)
		return ret;
	if (llm_gguf_get_arr(g, "tokenizer.ggml.merges", LLM_GGUF_STRING,
			     &merges) || merges->arr_n > (1u << 24)) {
		llm_snprintf(err, errlen, "tokenizer.ggml.merges is missing or not an array of strings");
		return -EINVAL;
	}
	n = (u32)merges->arr_n;
	for (size = 2; size < 2 * n; size <<= 1)
		;
	v->merges = llm_arena_alloc_array(arena, size, sizeof(*v->merges), 0);
	if (!v->merges) {
		llm_snprintf(err, errlen, "arena too small for %u merges", n);
		return -ENOMEM;
	}
	for (i = 0; i < size; i++)
		v->merges[i].left = LLM_TOKEN_NONE;
	v->merges_mask = size - 1;

	/* every byte has its symbol's token */
	for (b = 0; b < 256; b++) {
		u8 sym[4];
		u32 len = llm_utf8_encode(llm_bpe_byte_symbol(b), sym);

		v->byte_tok[b] = llm_vocab_find(v, (const char *)sym, len);
		if (v->byte_tok[b] == LLM_TOKEN_NONE) {
			llm_snprintf(err, errlen, "the byte-level vocabulary has no token for byte 0x%02x",
				     b);
			return -EINVAL;
		}
	}

	/* "A B": A and B pieces, A + B a piece too (built in @buf) */
	mark = llm_arena_mark(arena);
	buf = llm_arena_alloc(arena, 2 * LLM_TOKEN_MAX_BYTES, 0);
	if (!buf) {
		llm_snprintf(err, errlen, "arena too small for the merges");
		return -ENOMEM;
	}
	cur = merges->arr_data;
	for (i = 0; i < n; i++) {
		struct llm_gguf_str s;
		u32 sp, a, c, r;

		if (!(i & 0xffff))
			llm_yield();
		llm_gguf_next_str(&cur, &s);
		for (sp = 1; sp < s.len && s.p[sp] != ' '; sp++)
			;
		if (sp >= s.len || s.len - 1 > 2 * LLM_TOKEN_MAX_BYTES) {
			llm_snprintf(err, errlen, "merge %u of tokenizer.ggml.merges is not two pieces and a space",
				     i);
			return -EINVAL;
		}
		a = llm_vocab_find(v, s.p, sp);
		c = llm_vocab_find(v, s.p + sp + 1, (u32)(s.len - sp - 1));
		memcpy(buf, s.p, sp);
		memcpy(buf + sp, s.p + sp + 1, s.len - sp - 1);
		r = llm_vocab_find(v, buf, (u32)(s.len - 1));
		if (a == LLM_TOKEN_NONE || c == LLM_TOKEN_NONE ||
		    r == LLM_TOKEN_NONE) {
			llm_snprintf(err, errlen, "merge %u of tokenizer.ggml.merges ('%.*s') joins or makes a piece the vocabulary lacks",
				     i, (int)min_t(u64, s.len, 64), s.p);
			return -EINVAL;
		}
		merge_add(v, a, c, i, r);
	}
	llm_arena_rewind(arena, mark);
	return 0;
}

/* ---- pre-tokenizers ---- */

static bool is_nl(u32 c)
{
	return c == '\r' || c == '\n';
}

static u32 lower_ascii(u32 c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* 's 't 're 've 'm 'll 'd at @i (case-insensitive with @fold): the end. */
static u32 contraction(const u32 *cp, u32 n, u32 i, bool fold)
{
	u32 a, b;

	if (cp[i] != '\'' || i + 1 >= n)
		return 0;
	a = fold ? lower_ascii(cp[i + 1]) : cp[i + 1];
	if (a == 's' || a == 't' || a == 'm' || a == 'd')
		return i + 2;
	if (i + 2 >= n)
		return 0;
	b = fold ? lower_ascii(cp[i + 2]) : cp[i + 2];
	if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
	    (a == 'l' && b == 'l'))
		return i + 3;
	return 0;
}

/* The end of the run of class @cls from @i (at most @max long). */
static u32 run(const u32 *cp, u32 n, u32 i, u32 cls, u32 max)
{
	u32 j = i;

	while (j < n && j - i < max && llm_ucd_class(cp[j]) == cls)
		j++;
	return j;
}

/* [^\s\p{L}\p{N}]+ from @i. */
static u32 run_other(const u32 *cp, u32 n, u32 i)
{
	return run(cp, n, i, LLM_UCD_OTHER, U32_MAX);
}

/*
 * \s+(?!\S), else \s+: the whitespace run at @i, less its last character
 * when a non-space follows a run of two or more.
 */
static u32 spaces(const u32 *cp, u32 n, u32 i)
{
	u32 j = run(cp, n, i, LLM_UCD_SPACE, U32_MAX);

	return j == n || j - i == 1 ? j : j - 1;
}

static u32 pretok_gpt2(const u32 *cp, u32 n, u32 i)
{
	u32 j = contraction(cp, n, i, false), c;

	if (j)
		return j;
	/* ` ?X+` for X letters, numbers, others: the space goes with it */
	j = cp[i] == ' ' && i + 1 < n ? i + 1 : i;
	c = llm_ucd_class(cp[j]);
	if (c != LLM_UCD_SPACE)
		return run(cp, n, j, c, U32_MAX);
	return spaces(cp, n, i);
}

static u32 pretok_llama3(const u32 *cp, u32 n, u32 i, u32 max_digits)
{
	u32 j = contraction(cp, n, i, true), c = llm_ucd_class(cp[i]), k;

	if (j)
		return j;
	/* [^\r\n\p{L}\p{N}]?\p{L}+ */
	if (c == LLM_UCD_LETTER)
		return run(cp, n, i, LLM_UCD_LETTER, U32_MAX);
	if (c != LLM_UCD_NUMBER && !is_nl(cp[i]) && i + 1 < n &&
	    llm_ucd_class(cp[i + 1]) == LLM_UCD_LETTER)
		return run(cp, n, i + 1, LLM_UCD_LETTER, U32_MAX);
	/* \p{N}{1,3} */
	if (c == LLM_UCD_NUMBER)
		return run(cp, n, i, LLM_UCD_NUMBER, max_digits);
	/* ` ?[^\s\p{L}\p{N}]+[\r\n]*` */
	j = cp[i] == ' ' && i + 1 < n &&
	    llm_ucd_class(cp[i + 1]) == LLM_UCD_OTHER ? i + 1 : i;
	if (llm_ucd_class(cp[j]) == LLM_UCD_OTHER) {
		j = run_other(cp, n, j);
		while (j < n && is_nl(cp[j]))
			j++;
		return j;
	}
	/* \s*[\r\n]+: to the last newline of the whitespace run */
	j = run(cp, n, i, LLM_UCD_SPACE, U32_MAX);
	for (k = j; k > i; k--)
		if (is_nl(cp[k - 1]))
			return k;
	return spaces(cp, n, i);
}

u32 llm_bpe_pretok(u32 pre, const u32 *cp, u32 n, u32 i)
{
	if (pre == LLM_PRE_GPT2)
		return pretok_gpt2(cp, n, i);
	return pretok_llama3(cp, n, i, pre == LLM_PRE_QWEN2 ? 1 : 3);
}

/* ---- merging one word ---- */

struct bpe_sym {
	u32 id;
	s32 prev, next;		/* -1: none; id LLM_TOKEN_NONE once merged */
};

struct bpe_pair {
	u32 rank;
	s32 left, right;
	u32 result;
};

struct bpe_work {
	const struct llm_vocab *v;
	struct bpe_sym *sym;
	struct bpe_pair *heap;
	u32 n_heap;
};

/* Lower rank first, then further left. */
static bool pair_before(const struct bpe_pair *a, const struct bpe_pair *b)
{
	return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void heap_push(struct bpe_work *w, struct bpe_pair p)
{
	u32 i = w->n_heap++;

	while (i && pair_before(&p, &w->heap[(i - 1) / 2])) {
		w->heap[i] = w->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	w->heap[i] = p;
}

static struct bpe_pair heap_pop(struct bpe_work *w)
{
	struct bpe_pair top = w->heap[0], last = w->heap[--w->n_heap];
	u32 i = 0, c;

	while ((c = 2 * i + 1) < w->n_heap) {
		if (c + 1 < w->n_heap && pair_before(&w->heap[c + 1], &w->heap[c]))
			c++;
		if (!pair_before(&w->heap[c], &last))
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	w->heap[i] = last;
	return top;
}

static void try_pair(struct bpe_work *w, s32 left, s32 right)
{
	const struct llm_merge *m;

	if (left < 0 || right < 0)
		return;
	m = merge_find(w->v, w->sym[left].id, w->sym[right].id);
	if (m)
		heap_push(w, (struct bpe_pair){ m->rank, left, right,
						 m->result });
}

static int emit(u32 *out, u32 cap, u32 *n, u32 tok)
{
	if (*n >= cap)
		return -E2BIG;
	out[(*n)++] = tok;
	return 0;
}

/* The bytes @b[0..m) of one word as tokens. */
static int bpe_word(struct bpe_work *w, const u8 *b, u32 m, u8 *mapped,
		    u32 *out, u32 cap, u32 *n_out)
{
	const struct llm_vocab *v = w->v;
	s32 i;

	if (v->ignore_merges) {
		u32 len = 0, j, tok;

		for (j = 0; j < m; j++)
			len += llm_utf8_encode(llm_bpe_byte_symbol(b[j]), mapped + len);
		tok = llm_vocab_find(v, (const char *)mapped, len);
		if (tok != LLM_TOKEN_NONE)
			return emit(out, cap, n_out, tok);
	}
	for (i = 0; i < (s32)m; i++) {
		w->sym[i].id = v->byte_tok[b[i]];
		w->sym[i].prev = i - 1;
		w->sym[i].next = i + 1 < (s32)m ? i + 1 : -1;
	}
	w->n_heap = 0;
	for (i = 0; i + 1 < (s32)m; i++)
		try_pair(w, i, i + 1);
	while (w->n_heap) {
		struct bpe_pair p = heap_pop(w);
		struct bpe_sym *l = &w->sym[p.left], *r = &w->sym[p.right];
		const struct llm_merge *mg;

		/* stale: a side merged away, or no longer this pair */
		if (l->id == LLM_TOKEN_NONE || r->id == LLM_TOKEN_NONE ||
		    l->next != p.right)
			continue;
		mg = merge_find(v, l->id, r->id);
		if (!mg || mg->rank != p.rank)
			continue;
		l->id = p.result;
		l->next = r->next;
		if (r->next >= 0)
			w->sym[r->next].prev = p.left;
		r->id = LLM_TOKEN_NONE;
		try_pair(w, l->prev, p.left);
		try_pair(w, p.left, l->next);
	}
	for (i = 0; i >= 0; i = w->sym[i].next) {
		int ret = emit(out, cap, n_out, w->sym[i].id);

		if (ret)
			return ret;
	}
	return 0;
}

/* ---- encode, decode ---- */

/* Scratch: code points and their offsets, symbols, pairs, a mapped word. */
u64 llm_bpe_scratch_bytes(u32 len)
{
	u64 n = (u64)len + 1;

	return n * (2 * sizeof(u32) + sizeof(struct bpe_sym) +
		    sizeof(struct bpe_pair) + 2) + 64;
}

int llm_bpe_tokenize(const struct llm_vocab *v, const char *text, u32 len,
		     bool add_bos, u32 *out, u32 cap, void *scratch,
		     u64 scratch_bytes)
{
	const u8 *t = (const u8 *)text;
	u64 n1 = (u64)len + 1;
	u32 *cp = scratch, *off = cp + n1, n = 0, pos, i = 0, n_out = 0;
	struct bpe_work w = { .v = v };
	u8 *mapped;
	int ret;

	if (scratch_bytes < llm_bpe_scratch_bytes(len))
		return -ENOMEM;
	w.sym = (struct bpe_sym *)(off + n1);
	w.heap = (struct bpe_pair *)(w.sym + n1);
	mapped = (u8 *)(w.heap + n1);
	if (add_bos && v->bos != LLM_TOKEN_NONE) {
		ret = emit(out, cap, &n_out, v->bos);
		if (ret)
			return ret;
	}
	while (i < len) {
		off[n] = i;
		i += llm_utf8_decode(t + i, len - i, &cp[n]);
		n++;
	}
	off[n] = len;
	for (pos = 0; pos < n; ) {
		u32 end = llm_bpe_pretok(v->pre, cp, n, pos);

		if (!(pos & 0xfff))
			llm_yield();
		ret = bpe_word(&w, t + off[pos], off[end] - off[pos], mapped,
			       out, cap, &n_out);
		if (ret)
			return ret;
		pos = end;
	}
	return (int)n_out;
}

u32 llm_bpe_token_text(const struct llm_vocab *v, u32 tok, char *out,
		       u32 cap)
{
	const struct llm_token *t = &v->tok[tok];
	const u8 *s = (const u8 *)t->text;
	u32 i = 0, n = 0;

	if (t->type == LLM_TOK_CONTROL || t->type == LLM_TOK_UNUSED)
		return 0;
	/* added tokens are text as they are */
	if (t->type == LLM_TOK_USER_DEFINED) {
		n = min(t->len, cap);
		memcpy(out, t->text, n);
		return n;
	}
	while (i < t->len && n < cap) {
		u32 c;
		int b;

		i += llm_utf8_decode(s + i, t->len - i, &c);
		b = symbol_byte(c);
		if (b >= 0)
			out[n++] = (char)b;
	}
	return n;
}
