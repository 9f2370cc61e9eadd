// SPDX-License-Identifier: GPL-2.0
/*
 * Synthetic llama models.  See synth_model.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth_model.h"
#include "llm/core/model.h"
#include "llm/core/bpe.h"
#include "llm/core/unicode.h"
#include "quant/quant.h"

#define SP_SPACE		"\xe2\x96\x81"	/* U+2581, SentencePiece's space */
#define SP_SPACE_LEN		3
#define PIECE_MAX		32	/* bytes, the longest piece we make */
#define N_SPECIAL		3
#define ID_UNK			0
#define ID_BOS			1
#define ID_EOS			2

static const struct {
	const char *name;
	struct synth_shape s;
} presets[] = {
	/* the shapes of karpathy's TinyStories llama2.c models */
	{ "stories260K", { .dim = 64, .layers = 5, .heads = 8, .kv_heads = 4,
			   .ffn = 172, .vocab = 512, .context = 512 } },
	{ "stories15M", { .dim = 288, .layers = 6, .heads = 6, .kv_heads = 6,
			  .ffn = 768, .vocab = 32000, .context = 256 } },
	{ "stories42M", { .dim = 512, .layers = 8, .heads = 8, .kv_heads = 8,
			  .ffn = 1376, .vocab = 32000, .context = 1024 } },
	{ "stories110M", { .dim = 768, .layers = 12, .heads = 12,
			   .kv_heads = 12, .ffn = 2048, .vocab = 32000,
			   .context = 1024 } },
	/* TinyLlama 1.1B: grouped-query attention, 8 heads per kv head */
	{ "TinyLlama-1.1B", { .dim = 2048, .layers = 22, .heads = 32,
			      .kv_heads = 4, .ffn = 5632, .vocab = 32000,
			      .context = 2048 } },
};

/* Words the vocabulary starts with: enough to tokenize a simple story. */
static const char *const words[] = {
	"the", "a", "and", "was", "to", "he", "she", "they", "it", "his",
	"her", "Once", "upon", "time", "there", "little", "girl", "boy",
	"named", "Lily", "Tom", "Ben", "Sue", "Tim", "Max", "Mia", "day",
	"play", "played", "park", "big", "red", "blue", "green", "ball",
	"happy", "sad", "friend", "friends", "mom", "dad", "saw", "wanted",
	"loved", "liked", "said", "with", "in", "on", "of", "had", "very",
	"one", "tree", "dog", "cat", "bird", "fun", "toy", "toys", "went",
	"home", "for", "not", "so", "but", "can", "you", "we", "I", "is",
	"at", "all", "run", "see", "look", "looked", "help", "good", "new",
	"sun", "sky", "water", "food", "cake", "smile", "hug", "together",
	"always", "learned", "lesson", "be", "an", "up", "out", "go", "too",
	"that", "what", "then", "do", "did", "like", "find", "found", "box",
	"car", "house", "room", "bed", "night", "morning", "garden",
	"flower", "sweet", "kind", "nice", "careful", "scared", "brave",
	"excited", "thank", "yes", "no", "them", "their", "from", "into",
	"are", "were", "have", "would", "could", "will", "this", "some",
	"when", "because", "after", "every", "sky", "ran", "came", "made",
	"asked", "felt", "time", "more", "other", "away", "back", "down",
	"him", "me", "my", "your", "our", "its", "about", "how", "where",
	"who", "why", "Mommy", "Daddy", "laughed", "jumped", "walked",
	"shouted", "cried", "wanted", "tried", "decided", "realized",
	"special", "beautiful", "small", "long", "old", "young", "hot",
	"cold", "fast", "slow", "loud", "quiet", "bright", "dark", "soft",
	"hard", "hungry", "tired", "funny", "pretty", "shiny", "yummy",
	"The", "She", "He", "They", "It", "One", "Lily's", "don't", "can't",
};

/* splitmix64: small, fast, and the same everywhere. */
static u64 rng_next(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A float in [-1, 1) from 24 random bits: exact, the same everywhere. */
static float rng_float(u64 *state)
{
	return (float)(rng_next(state) >> 40) * (1.0f / 8388608.0f) - 1.0f;
}

static u64 fnv1a64(const char *s)
{
	u64 h = 0xcbf29ce484222325ull;

	while (*s) {
		h ^= (u8)*s++;
		h *= 0x100000001b3ull;
	}
	return h;
}

bool synth_preset(const char *name, struct synth_shape *s)
{
	size_t i;

	for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		if (!strcmp(name, presets[i].name)) {
			u64 seed = s->seed;
			bool tied = s->tied, margin = s->margin;
			const char *n = s->name, *bpe = s->bpe_pre;
			const char *arch = s->arch;
			const char *tmpl = s->chat_template;

			*s = presets[i].s;
			s->seed = seed;
			s->tied = tied;
			s->margin = margin;
			s->name = n;
			s->bpe_pre = bpe;
			s->arch = arch;
			s->chat_template = tmpl;
			return true;
		}
	}
	return false;
}

const char *synth_preset_names(void)
{
	return "stories260K stories15M stories42M stories110M TinyLlama-1.1B";
}

const char *synth_check(const struct synth_shape *s)
{
	static char why[160];

	if (s->dim < 2 || s->dim > (1u << 16))
		return "the width (--dim) must be 2..65536";
	if (s->layers < 1 || s->layers > LLM_MAX_LAYERS)
		return "the number of layers must be 1..512";
	if (s->arch && strcmp(s->arch, "llama") && strcmp(s->arch, "qwen2") &&
	    strcmp(s->arch, "qwen3") && strcmp(s->arch, "qwen3moe") &&
	    strcmp(s->arch, "gpt2"))
		return "the architecture must be llama, qwen2, qwen3, qwen3moe or gpt2";
	if (s->head_dim && (s->head_dim % 2 || s->head_dim > LLM_MAX_HEAD_DIM ||
			    !s->arch || strncmp(s->arch, "qwen3", 5)))
		return "a head width of its own (--head-dim) must be even, at most 512, and for qwen3 or qwen3moe";
	if (s->heads < 1 || s->heads > 1024 ||
	    (!s->head_dim && (s->dim % s->heads || (s->dim / s->heads) % 2 ||
			      s->dim / s->heads > LLM_MAX_HEAD_DIM)))
		return "the heads must divide the width into even head sizes of at most 512";
	if (s->arch && !strcmp(s->arch, "qwen3moe") &&
	    (s->experts < 2 || s->experts > LLM_MAX_EXPERTS ||
	     s->experts_used < 1 || s->experts_used > s->experts))
		return "qwen3moe needs 2..256 experts (--experts) and 1..that many used per token (--experts-used)";
	if (s->arch && !strcmp(s->arch, "gpt2") && s->kv_heads != s->heads)
		return "gpt2 has as many key/value heads as heads";
	if (s->kv_heads < 1 || s->heads % s->kv_heads)
		return "the key/value heads must divide the heads";
	if (s->ffn < 1 || s->ffn > (1u << 20))
		return "the feed-forward width must be 1..1048576";
	if (s->vocab < SYNTH_MIN_VOCAB || s->vocab > (1u << 24)) {
		snprintf(why, sizeof(why),
			 "the vocabulary must be %u..16777216 tokens (3 special and 256 byte tokens come first)",
			 SYNTH_MIN_VOCAB);
		return why;
	}
	if (s->margin && s->tied)
		return "wide margins (--margin) need a classifier of its own (not --tied)";
	if (s->context < 1 || s->context > (1u << 20))
		return "the context must be 1..1048576 positions";
	return NULL;
}

static int add_tensors(struct llm_gguf_writer *w, struct synth_model *m,
		       const struct synth_shape *s);

u64 synth_params(const struct synth_shape *s)
{
	struct synth_model count = { 0 };

	/* add_tensors() without a writer counts */
	add_tensors(NULL, &count, s);
	return count.n_weights;
}

/* ---- the vocabulary ---- */

struct vocab_builder {
	struct synth_model *m;
	u32 n, cap;
	size_t used;
	u32 *hash;		/* open addressing: id + 1, 0 empty */
	u32 mask;
};

static u32 vb_slot(const struct vocab_builder *b, const char *s, u32 len)
{
	u32 h = 2166136261u, i;

	for (i = 0; i < len; i++) {
		h ^= (u8)s[i];
		h *= 16777619u;
	}
	for (i = h & b->mask; b->hash[i]; i = (i + 1) & b->mask) {
		const struct llm_gguf_str *p = &b->m->pieces[b->hash[i] - 1];

		if (p->len == len && !memcmp(p->p, s, len))
			break;
	}
	return i;
}

/* Add piece @s unless it is there already or the vocabulary is full. */
static void vb_add(struct vocab_builder *b, const char *s, u32 len,
		   s32 type)
{
	struct synth_model *m = b->m;
	u32 slot, id = b->n;

	if (b->n == b->cap || len > PIECE_MAX)
		return;
	slot = vb_slot(b, s, len);
	if (b->hash[slot])
		return;
	memcpy(m->text + b->used, s, len);
	m->pieces[id].p = m->text + b->used;
	m->pieces[id].len = len;
	b->used += len;
	m->types[id] = type;
	/* bytes and specials score 0, as llama.cpp converts them */
	m->scores[id] = id < SYNTH_MIN_VOCAB ? 0.0f :
			-(float)(id - SYNTH_MIN_VOCAB);
	b->hash[slot] = id + 1;
	b->n++;
}

/* "▁" + @word and each of its shorter prefixes, shortest first. */
static void vb_add_word(struct vocab_builder *b, const char *word)
{
	char piece[PIECE_MAX];
	u32 len = strlen(word), k;

	if (len > PIECE_MAX - SP_SPACE_LEN)
		len = PIECE_MAX - SP_SPACE_LEN;
	memcpy(piece, SP_SPACE, SP_SPACE_LEN);
	memcpy(piece + SP_SPACE_LEN, word, len);
	for (k = 1; k <= len; k++)
		vb_add(b, piece, SP_SPACE_LEN + k, LLM_TOK_NORMAL);
}

/* A made-up word of one to three syllables, sometimes capitalised. */
static void made_up_word(u64 *rng, char *out)
{
	static const char cons[] = "bcdfghjklmnprstvwyz";
	static const char vow[] = "aeiou";
	u32 syl = 1 + rng_next(rng) % 3, i, n = 0;

	for (i = 0; i < syl; i++) {
		out[n++] = cons[rng_next(rng) % (sizeof(cons) - 1)];
		out[n++] = vow[rng_next(rng) % (sizeof(vow) - 1)];
		if (rng_next(rng) % 4 == 0)
			out[n++] = cons[rng_next(rng) % (sizeof(cons) - 1)];
	}
	out[n] = '\0';
	if (rng_next(rng) % 8 == 0)
		out[0] = out[0] - 'a' + 'A';
}

static int build_vocab(struct synth_model *m, u32 n_vocab)
{
	static const char *const special[N_SPECIAL] = { "<unk>", "<s>", "</s>" };
	static const s32 special_type[N_SPECIAL] = {
		LLM_TOK_UNKNOWN, LLM_TOK_CONTROL, LLM_TOK_CONTROL
	};
	struct vocab_builder b = { .m = m, .cap = n_vocab };
	u64 rng = 0x5eedc0de;	/* the vocabulary does not follow --seed */
	u32 hsize, i;
	char s[PIECE_MAX];
	size_t w;

	for (hsize = 1; hsize < 2 * n_vocab; hsize <<= 1)
		;
	m->pieces = calloc(n_vocab, sizeof(*m->pieces));
	m->scores = calloc(n_vocab, sizeof(*m->scores));
	m->types = calloc(n_vocab, sizeof(*m->types));
	m->text = malloc((size_t)n_vocab * PIECE_MAX);
	b.hash = calloc(hsize, sizeof(*b.hash));
	b.mask = hsize - 1;
	if (!m->pieces || !m->scores || !m->types || !m->text || !b.hash) {
		free(b.hash);
		return -ENOMEM;
	}

	for (i = 0; i < N_SPECIAL; i++)
		vb_add(&b, special[i], strlen(special[i]), special_type[i]);
	for (i = 0; i < 256; i++) {
		snprintf(s, sizeof(s), "<0x%02X>", i);
		vb_add(&b, s, 6, LLM_TOK_BYTE);
	}
	vb_add(&b, SP_SPACE, SP_SPACE_LEN, LLM_TOK_NORMAL);
	for (i = 0x21; i < 0x7f; i++) {
		s[0] = (char)i;
		vb_add(&b, s, 1, LLM_TOK_NORMAL);
	}
	for (w = 0; w < sizeof(words) / sizeof(words[0]); w++)
		vb_add_word(&b, words[w]);
	while (b.n < n_vocab) {
		made_up_word(&rng, s);
		vb_add_word(&b, s);
	}
	free(b.hash);
	return 0;
}

/* ---- a byte-level BPE vocabulary ---- */

/*
 * What the merges are learnt from: the words above in sentences, with
 * numbers, punctuation, accents, CJK and emoji, so that the merges join
 * multi-byte characters too.
 */
static const char *const bpe_extra[] = {
	"2024", "123", "42", "3.14", "1,000", "café", "naïve", "über",
	"déjà vu", "日本語", "中文字", "こんにちは", "😀", "🙂🙂", "\n\n",
	"  ", "(x)", "[1]", "foo_bar", "x = y + 1;", "it's", "I'M", "we'll",
};

struct bpe_tok {
	char text[PIECE_MAX * 2];
	u32 len;
};

struct bpe_word {
	u32 *ids;
	u32 n;
	u32 count;
};

/* GPT-2's symbol of byte @b (bytes_to_unicode), as UTF-8. */
static u32 bpe_symbol(u32 b, char *out)
{
	return llm_utf8_encode(llm_bpe_byte_symbol(b), (u8 *)out);
}

/* The corpus split into words by @pre, each a run of byte symbols. */
static int bpe_words(u32 pre, struct bpe_word **out, u32 *n_out)
{
	char text[16384];
	u32 cp[16384], off[16385], n = 0, i = 0, len = 0, pos, nw = 0;
	struct bpe_word *w;
	size_t k;

	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		len += snprintf(text + len, sizeof(text) - len, "%s%s",
				k % 9 ? " " : ". ", words[k]);
	for (k = 0; k < sizeof(bpe_extra) / sizeof(bpe_extra[0]); k++)
		len += snprintf(text + len, sizeof(text) - len, " %s",
				bpe_extra[k]);
	while (i < len) {
		off[n] = i;
		i += llm_utf8_decode((const u8 *)text + i, len - i, &cp[n]);
		n++;
	}
	off[n] = len;
	w = calloc(n, sizeof(*w));
	if (!w)
		return -ENOMEM;
	for (pos = 0; pos < n; ) {
		u32 end = llm_bpe_pretok(pre, cp, n, pos), b;

		w[nw].n = off[end] - off[pos];
		w[nw].ids = malloc(w[nw].n * sizeof(u32));
		w[nw].count = 1;
		if (!w[nw].ids)
			return -ENOMEM;
		for (b = 0; b < w[nw].n; b++)
			w[nw].ids[b] = (u8)text[off[pos] + b];
		nw++;
		pos = end;
	}
	*out = w;
	*n_out = nw;
	return 0;
}

/*
 * Byte symbols (ids 0..255, byte order), then merges learnt from the
 * corpus, most frequent pair first (the lowest ids on a tie), until the
 * vocabulary is full but for its special tokens, which come last.
 */
static int build_vocab_bpe(struct synth_model *m, const struct synth_shape *s)
{
	u32 pre = !strcmp(s->bpe_pre, "gpt-2") ? LLM_PRE_GPT2 :
		  !strcmp(s->bpe_pre, "qwen2") ? LLM_PRE_QWEN2 : LLM_PRE_LLAMA3;
	static const char *const sp_llama3[] = {
		"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>",
	};
	static const char *const sp_other[] = { "<|endoftext|>" };
	const char *const *sp = pre == LLM_PRE_LLAMA3 ? sp_llama3 : sp_other;
	u32 n_sp = pre == LLM_PRE_LLAMA3 ? 3 : 1, n_tok = 0, nw, i, j, k;
	u32 n_vocab = s->vocab, cap = n_vocab - n_sp;
	struct bpe_tok *t = calloc(n_vocab, sizeof(*t));
	struct bpe_word *w = NULL;

	m->pieces = calloc(n_vocab, sizeof(*m->pieces));
	m->scores = calloc(n_vocab, sizeof(*m->scores));
	m->types = calloc(n_vocab, sizeof(*m->types));
	m->merges = calloc(n_vocab, sizeof(*m->merges));
	m->text = malloc((size_t)n_vocab * PIECE_MAX * 4);
	if (!t || !m->pieces || !m->scores || !m->types || !m->merges ||
	    !m->text || bpe_words(pre, &w, &nw))
		goto nomem;
	for (i = 0; i < 256; i++)
		t[n_tok++].len = bpe_symbol(i, t[i].text);
	while (n_tok < cap) {
		u32 best_a = 0, best_b = 0, best = 0;

		/* the most frequent adjacent pair, counting every word */
		for (i = 0; i < nw; i++)
			for (j = 0; j + 1 < w[i].n; j++) {
				u32 a = w[i].ids[j], b = w[i].ids[j + 1], c = 0;

				if (t[a].len + t[b].len > sizeof(t[0].text))
					continue;
				for (k = 0; k < nw; k++) {
					u32 x;

					for (x = 0; x + 1 < w[k].n; x++)
						c += w[k].ids[x] == a &&
						     w[k].ids[x + 1] == b;
				}
				if (c > best || (c == best && c &&
						 (a < best_a || (a == best_a && b < best_b)))) {
					best = c;
					best_a = a;
					best_b = b;
				}
			}
		if (!best)
			break;
		memcpy(t[n_tok].text, t[best_a].text, t[best_a].len);
		memcpy(t[n_tok].text + t[best_a].len, t[best_b].text,
		       t[best_b].len);
		t[n_tok].len = t[best_a].len + t[best_b].len;
		m->merges[m->n_merges].p = m->text + (size_t)n_vocab * PIECE_MAX * 2 +
					   (size_t)m->n_merges * PIECE_MAX * 2;
		m->merges[m->n_merges].len =
			snprintf((char *)m->merges[m->n_merges].p, PIECE_MAX * 2,
				 "%.*s %.*s", (int)t[best_a].len, t[best_a].text,
				 (int)t[best_b].len, t[best_b].text);
		m->n_merges++;
		for (i = 0; i < nw; i++)
			for (j = 0; j + 1 < w[i].n; j++)
				if (w[i].ids[j] == best_a &&
				    w[i].ids[j + 1] == best_b) {
					w[i].ids[j] = n_tok;
					memmove(w[i].ids + j + 1, w[i].ids + j + 2,
						(w[i].n - j - 2) * sizeof(u32));
					w[i].n--;
				}
		n_tok++;
	}
	/* a vocabulary larger than the corpus has merges for: filler tokens */
	while (n_tok < cap) {
		t[n_tok].len = snprintf(t[n_tok].text, sizeof(t[0].text),
					"<|reserved_%u|>", n_tok);
		m->types[n_tok++] = LLM_TOK_USER_DEFINED;
	}
	for (i = 0; i < n_sp; i++) {
		t[n_tok].len = strlen(sp[i]);
		memcpy(t[n_tok].text, sp[i], t[n_tok].len);
		m->types[n_tok++] = LLM_TOK_CONTROL;
	}
	for (i = 0; i < n_vocab; i++) {
		memcpy(m->text + (size_t)i * PIECE_MAX * 2, t[i].text, t[i].len);
		m->pieces[i].p = m->text + (size_t)i * PIECE_MAX * 2;
		m->pieces[i].len = t[i].len;
		if (!m->types[i])
			m->types[i] = LLM_TOK_NORMAL;
	}
	m->bos = pre == LLM_PRE_LLAMA3 ? cap : U32_MAX;
	m->eos = pre == LLM_PRE_LLAMA3 ? cap + 1 : cap;
	for (i = 0; i < nw; i++)
		free(w[i].ids);
	free(w);
	free(t);
	return 0;
nomem:
	if (w)
		for (i = 0; i < nw; i++)
			free(w[i].ids);
	free(w);
	free(t);
	return -ENOMEM;
}

/* ---- the weights ---- */

/*
 * @rows x @cols uniform values with the variance of @gain^2/@cols (gain 1
 * keeps activations the same size through the layers), or 1 +- 0.1 for a
 * norm vector (@norm).  Seeded by the model's seed and the tensor's name.
 */
static void fill(float *p, const char *name, u64 seed, u64 rows, u64 cols,
		 bool norm, float gain)
{
	u64 rng = seed ^ fnv1a64(name), i, n = rows * cols;
	float amp = norm ? 0.1f : gain * sqrtf(3.0f / (float)cols);

	for (i = 0; i < n; i++)
		p[i] = (norm ? 1.0f : 0.0f) + amp * rng_float(&rng);
}

/*
 * The classifier's logits are made large (gain CLS_GAIN), so that sampling
 * picks among a few likely tokens rather than from a flat distribution,
 * and its rows of the special and byte tokens small, so that a model with
 * random weights mostly picks pieces: its text is words, not a stream of
 * stray bytes.  (The embedding's scale does not matter: RMSNorm comes
 * first.)
 */
#define CLS_GAIN	3.0f

/* --margin: the layers' share of the residual stream (see make_margin()) */
#define MARGIN_LAYER_GAIN	0.03f
/* ... and the successor's logit for a hidden state that is its token's */
#define MARGIN_LOGIT		40.0f

/*
 * Wide greedy margins.  The classifier's row for token t's successor
 * succ(t) (a fixed permutation of the plain tokens: no special or byte
 * token; a byte token's is a plain one too) is t's embedding scaled so that a hidden state that is t's
 * embedding, RMS-normed, scores MARGIN_LOGIT; the other rows are other
 * tokens' embeddings, nearly orthogonal in the width, so they score a
 * few; rows of the tokens outside the permutation are zero.  The layers'
 * output projections (and GPT-2's learned positions) are
 * MARGIN_LAYER_GAIN of their usual scale: they
 * bend the residual stream, and so every log-probability, but leave the
 * successor on top by far.  Quantization error moves logits by tenths,
 * the margins are tens.
 */
static void make_margin(struct synth_model *m, const struct synth_shape *s,
			float *out)
{
	const float *e = m->weights;	/* token_embd comes first */
	u32 lo = s->bpe_pre ? 256 : SYNTH_MIN_VOCAB;
	u32 hi = s->bpe_pre ? (m->bos < m->eos ? m->bos : m->eos) : s->vocab;
	u32 n = hi - lo, a = 7, t, i;

	while (n % a == 0)
		a += 2;
	memset(out, 0, (size_t)s->vocab * s->dim * sizeof(float));
	/*
	 * byte tokens (a prompt's unknown words) lead somewhere too: their
	 * directions are added to plain tokens' rows
	 */
	for (t = 0; t < hi; t++) {
		const float *et = e + (size_t)t * s->dim;
		u32 succ = t < lo ? lo + t % n : lo + ((u64)a * (t - lo) + 1) % n;
		float *row = out + (size_t)succ * s->dim;
		double sq = 0;

		for (i = 0; i < s->dim; i++)
			sq += (double)et[i] * et[i];
		/* x = sqrt(dim) e_t / |e_t| after the norm: row . x = LOGIT */
		for (i = 0; i < s->dim; i++)
			row[i] += (float)(MARGIN_LOGIT * et[i] /
					  sqrt(sq * s->dim));
	}
}

static void damp_rows(float *p, u32 dim)
{
	u64 i;

	for (i = 0; i < (u64)SYNTH_MIN_VOCAB * dim; i++)
		p[i] *= 0.1f;
}

/*
 * A tensor of @rows x @cols (x @n3 experts): a matrix of gain @gain, or
 * (rows 1) a norm's weights around 1, or (@gain 0) a bias around 0.
 * Without a writer, only the count advances: synth_params().
 */
static int add_tensor3(struct llm_gguf_writer *w, struct synth_model *m,
		       u64 seed, const char *name, u64 cols, u64 rows, u64 n3,
		       float gain)
{
	u64 ne[3] = { cols, rows, n3 }, n = rows * cols * n3;
	bool bias = rows == 1 && gain == 0.0f;
	float *p = m->weights + m->n_weights;
	u64 i;

	m->n_weights += n;
	if (!w)
		return 0;
	fill(p, name, seed, rows * n3, cols, rows == 1, gain);
	if (bias)
		for (i = 0; i < n; i++)
			p[i] -= 1.0f;
	return llm_gguf_writer_add_tensor(w, name, LLM_T_F32,
					  n3 > 1 ? 3 : rows == 1 ? 1 : 2, ne,
					  p, n * sizeof(float));
}

static int add_matrix(struct llm_gguf_writer *w, struct synth_model *m,
		      u64 seed, const char *name, u64 cols, u64 rows,
		      float gain)
{
	return add_tensor3(w, m, seed, name, cols, rows, 1, gain);
}

/* The tokenizer keys of a byte-level BPE vocabulary, as llama.cpp's
 * converter writes them. */
static int add_bpe_keys(struct llm_gguf_writer *w, const struct synth_model *m,
			const struct synth_shape *s)
{
	bool llama3 = strcmp(s->bpe_pre, "llama-bpe") == 0;
	int ret;

	ret = llm_gguf_writer_add_str(w, "tokenizer.ggml.model", "gpt2");
	if (!ret)
		ret = llm_gguf_writer_add_str(w, "tokenizer.ggml.pre",
					      s->bpe_pre);
	if (!ret)
		ret = llm_gguf_writer_add_arr_strn(w, "tokenizer.ggml.tokens",
						   m->pieces, s->vocab);
	if (!ret)
		ret = llm_gguf_writer_add_arr(w, "tokenizer.ggml.token_type",
					      LLM_GGUF_I32, m->types,
					      s->vocab);
	if (!ret)
		ret = llm_gguf_writer_add_arr_strn(w, "tokenizer.ggml.merges",
						   m->merges, m->n_merges);
	if (!ret && m->bos != U32_MAX)
		ret = llm_gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id",
					      m->bos);
	if (!ret)
		ret = llm_gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id",
					      m->eos);
	if (!ret)
		ret = llm_gguf_writer_add_bool(w, "tokenizer.ggml.add_bos_token",
					       llama3);
	return ret;
}

static const char *arch_of(const struct synth_shape *s)
{
	return s->arch ? s->arch : "llama";
}

static bool is_arch(const struct synth_shape *s, const char *name)
{
	return !strcmp(arch_of(s), name);
}

static u32 head_dim(const struct synth_shape *s)
{
	return s->head_dim ? s->head_dim : s->dim / s->heads;
}

static int add_arch_u32(struct llm_gguf_writer *w, const struct synth_shape *s,
			const char *key, u32 val)
{
	char name[96];

	snprintf(name, sizeof(name), "%s.%s", arch_of(s), key);
	return llm_gguf_writer_add_u32(w, name, val);
}

static int add_arch_f32(struct llm_gguf_writer *w, const struct synth_shape *s,
			const char *key, float val)
{
	char name[96];

	snprintf(name, sizeof(name), "%s.%s", arch_of(s), key);
	return llm_gguf_writer_add_f32(w, name, val);
}

static int add_keys(struct llm_gguf_writer *w, const struct synth_model *m,
		    const struct synth_shape *s)
{
	const struct {
		const char *key;
		u32 val;
	} u32s[] = {
		{ "context_length", s->context },
		{ "embedding_length", s->dim },
		{ "feed_forward_length", s->ffn },
		{ "attention.head_count", s->heads },
		{ "attention.head_count_kv", s->kv_heads },
		{ "block_count", s->layers },
	};
	bool gpt2 = is_arch(s, "gpt2"), moe = is_arch(s, "qwen3moe");
	size_t i;
	int ret;

	ret = llm_gguf_writer_add_str(w, "general.architecture", arch_of(s));
	if (!ret)
		ret = llm_gguf_writer_add_str(w, "general.name",
					      s->name ? s->name : "synthetic");
	if (!ret)
		ret = llm_gguf_writer_add_u32(w, "general.file_type", 0);
	for (i = 0; i < sizeof(u32s) / sizeof(u32s[0]) && !ret; i++)
		if (!gpt2 || strcmp(u32s[i].key, "attention.head_count_kv"))
			ret = add_arch_u32(w, s, u32s[i].key, u32s[i].val);
	if (!ret && is_arch(s, "llama"))
		ret = add_arch_u32(w, s, "rope.dimension_count", head_dim(s));
	if (!ret && s->head_dim)
		ret = add_arch_u32(w, s, "attention.key_length", s->head_dim);
	if (!ret && s->head_dim)
		ret = add_arch_u32(w, s, "attention.value_length", s->head_dim);
	if (!ret && moe)
		ret = add_arch_u32(w, s, "expert_count", s->experts);
	if (!ret && moe)
		ret = add_arch_u32(w, s, "expert_used_count", s->experts_used);
	if (!ret && moe)
		ret = add_arch_u32(w, s, "expert_feed_forward_length", s->ffn);
	if (!ret && !gpt2)
		ret = add_arch_f32(w, s, "rope.freq_base",
				   is_arch(s, "llama") ? 10000.0f : 1000000.0f);
	if (!ret)
		ret = add_arch_f32(w, s, gpt2 ? "attention.layer_norm_epsilon" :
				   "attention.layer_norm_rms_epsilon", 1e-5f);
	if (!ret && s->chat_template)
		ret = llm_gguf_writer_add_str(w, "tokenizer.chat_template",
					      s->chat_template);
	if (!ret && s->bpe_pre)
		return add_bpe_keys(w, m, s);
	if (!ret)
		ret = llm_gguf_writer_add_u32(w, "tokenizer.ggml.unknown_token_id",
					      ID_UNK);
	if (!ret)
		ret = llm_gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id",
					      ID_BOS);
	if (!ret)
		ret = llm_gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id",
					      ID_EOS);
	if (!ret)
		ret = llm_gguf_writer_add_str(w, "tokenizer.ggml.model",
					      "llama");
	if (!ret)
		ret = llm_gguf_writer_add_arr_strn(w, "tokenizer.ggml.tokens",
						   m->pieces, s->vocab);
	if (!ret)
		ret = llm_gguf_writer_add_arr(w, "tokenizer.ggml.scores",
					      LLM_GGUF_F32, m->scores,
					      s->vocab);
	if (!ret)
		ret = llm_gguf_writer_add_arr(w, "tokenizer.ggml.token_type",
					      LLM_GGUF_I32, m->types,
					      s->vocab);
	return ret;
}

/* One block's tensors, as its architecture names them. */
static int add_block(struct llm_gguf_writer *w, struct synth_model *m,
		     const struct synth_shape *s, u32 l)
{
	u64 d = s->dim, q = (u64)head_dim(s) * s->heads;
	u64 kv = (u64)head_dim(s) * s->kv_heads;
	bool gpt2 = is_arch(s, "gpt2"), moe = is_arch(s, "qwen3moe");
	bool qk_norm = is_arch(s, "qwen3") || moe;
	const struct {
		const char *name;
		u64 cols, rows, n3;
		float gain;
		bool on;
	} t[] = {
		{ "attn_q.weight", d, q, 1, 1.0f, !gpt2 },
		{ "attn_k.weight", d, kv, 1, 1.0f, !gpt2 },
		{ "attn_v.weight", d, kv, 1, 1.0f, !gpt2 },
		{ "attn_q.bias", q, 1, 1, 0.0f, is_arch(s, "qwen2") },
		{ "attn_k.bias", kv, 1, 1, 0.0f, is_arch(s, "qwen2") },
		{ "attn_v.bias", kv, 1, 1, 0.0f, is_arch(s, "qwen2") },
		{ "attn_qkv.weight", d, q + 2 * kv, 1, 1.0f, gpt2 },
		{ "attn_qkv.bias", q + 2 * kv, 1, 1, 0.0f, gpt2 },
		{ "attn_q_norm.weight", head_dim(s), 1, 1, 1.0f, qk_norm },
		{ "attn_k_norm.weight", head_dim(s), 1, 1, 1.0f, qk_norm },
		{ "attn_output.weight", q, d, 1, 1.0f, true },
		{ "attn_output.bias", d, 1, 1, 0.0f, gpt2 },
		{ "attn_norm.weight", d, 1, 1, 1.0f, true },
		{ "attn_norm.bias", d, 1, 1, 0.0f, gpt2 },
		{ "ffn_gate.weight", d, s->ffn, 1, 1.0f, !gpt2 && !moe },
		{ "ffn_down.weight", s->ffn, d, 1, 1.0f, !moe },
		{ "ffn_down.bias", d, 1, 1, 0.0f, gpt2 },
		{ "ffn_up.weight", d, s->ffn, 1, 1.0f, !moe },
		{ "ffn_up.bias", s->ffn, 1, 1, 0.0f, gpt2 },
		{ "ffn_gate_inp.weight", d, s->experts, 1, 1.0f, moe },
		{ "ffn_gate_exps.weight", d, s->ffn, s->experts, 1.0f, moe },
		{ "ffn_down_exps.weight", s->ffn, d, s->experts, 1.0f, moe },
		{ "ffn_up_exps.weight", d, s->ffn, s->experts, 1.0f, moe },
		{ "ffn_norm.weight", d, 1, 1, 1.0f, true },
		{ "ffn_norm.bias", d, 1, 1, 0.0f, gpt2 },
	};
	char name[64];
	size_t k;
	int ret = 0;

	for (k = 0; k < sizeof(t) / sizeof(t[0]) && !ret; k++) {
		float gain = t[k].gain;

		if (!t[k].on)
			continue;
		/* --margin: the projections into the residual stream */
		if (s->margin && t[k].rows > 1 &&
		    (strstr(t[k].name, "attn_output") ||
		     strstr(t[k].name, "ffn_down")))
			gain *= MARGIN_LAYER_GAIN;
		snprintf(name, sizeof(name), "blk.%u.%s", l, t[k].name);
		ret = add_tensor3(w, m, s->seed, name, t[k].cols, t[k].rows,
				  t[k].n3, gain);
	}
	return ret;
}

/* The tensors, in the order llama.cpp's converters write them. */
static int add_tensors(struct llm_gguf_writer *w, struct synth_model *m,
		       const struct synth_shape *s)
{
	bool gpt2 = is_arch(s, "gpt2");
	u32 l;
	int ret;

	ret = add_matrix(w, m, s->seed, "token_embd.weight", s->dim,
			 s->vocab, CLS_GAIN);
	/* (--margin: every token's direction counts, make_margin()) */
	if (w && !s->margin)
		damp_rows(m->weights, s->dim);
	if (!ret && gpt2)
		ret = add_matrix(w, m, s->seed, "position_embd.weight",
				 s->dim, s->context,
				 s->margin ? MARGIN_LAYER_GAIN : 1.0f);
	if (!ret)
		ret = add_matrix(w, m, s->seed, "output_norm.weight",
				 s->dim, 1, 1.0f);
	if (!ret && gpt2)
		ret = add_matrix(w, m, s->seed, "output_norm.bias", s->dim,
				 1, 0.0f);
	if (!ret && !s->tied) {
		float *out = m->weights + m->n_weights;

		ret = add_matrix(w, m, s->seed, "output.weight", s->dim,
				 s->vocab, CLS_GAIN);
		if (w && s->margin)
			make_margin(m, s, out);
		else if (w)
			damp_rows(out, s->dim);
	}
	for (l = 0; l < s->layers && !ret; l++)
		ret = add_block(w, m, s, l);
	return ret;
}

int synth_model_build(struct synth_model *m, const struct synth_shape *s,
		      char *err, size_t errlen)
{
	const char *why = synth_check(s);
	u64 n = synth_params(s);
	int ret;

	memset(m, 0, sizeof(*m));
	if (why) {
		snprintf(err, errlen, "%s", why);
		return -EINVAL;
	}
	if (n > SIZE_MAX / sizeof(float)) {
		snprintf(err, errlen, "%llu parameters do not fit in memory",
			 (unsigned long long)n);
		return -E2BIG;
	}
	m->w = llm_gguf_writer_new(0);
	m->weights = malloc(n * sizeof(float));
	if (!m->w || !m->weights ||
	    (s->bpe_pre ? build_vocab_bpe(m, s) : build_vocab(m, s->vocab))) {
		snprintf(err, errlen, "out of memory for %llu parameters",
			 (unsigned long long)n);
		synth_model_free(m);
		return -ENOMEM;
	}
	ret = add_keys(m->w, m, s);
	if (!ret)
		ret = add_tensors(m->w, m, s);
	if (ret) {
		snprintf(err, errlen, "%s", llm_gguf_writer_error(m->w));
		synth_model_free(m);
	}
	return ret;
}

void synth_model_free(struct synth_model *m)
{
	llm_gguf_writer_free(m->w);
	free(m->weights);
	free(m->pieces);
	free(m->scores);
	free(m->types);
	free(m->text);
	free(m->merges);
	memset(m, 0, sizeof(*m));
}
