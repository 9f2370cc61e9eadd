// SPDX-License-Identifier: GPL-2.0
/*
 * The byte-level BPE tokenizer (llm/core/bpe.c, unicode.c): the Unicode
 * classes from the generated tables, UTF-8 decoding of bad input, each
 * pre-tokenizer's splits of texts that tell the families' regular
 * expressions apart, decode(encode(text)) == text for random text of
 * every script for every pre-tokenizer, merges applied lowest rank
 * first, special tokens only when asked, and vocabularies refused with a
 * sentence.  (Against llama.cpp's own tokenizer: tests/llama-diff.sh.)
 */
#include <stdlib.h>

#include "check.h"
#include "synth_model.h"
#include "llm/core/bpe.h"
#include "llm/core/unicode.h"
#include "arena/arena.h"

#define REGION	(8u << 20)

static unsigned char *region;

/* 1. Classes of a few code points of each kind, from the tables. */
static void classes(void)
{
	static const struct { u32 cp, cls; } want[] = {
		{ 'a', LLM_UCD_LETTER }, { 'Z', LLM_UCD_LETTER },
		{ '7', LLM_UCD_NUMBER }, { ' ', LLM_UCD_SPACE },
		{ '\t', LLM_UCD_SPACE }, { '\n', LLM_UCD_SPACE },
		{ '!', LLM_UCD_OTHER }, { '_', LLM_UCD_OTHER },
		{ 0xe9, LLM_UCD_LETTER },	/* é */
		{ 0xa0, LLM_UCD_SPACE },	/* no-break space */
		{ 0x85, LLM_UCD_SPACE },	/* next line */
		{ 0x3000, LLM_UCD_SPACE },	/* ideographic space */
		{ 0x65e5, LLM_UCD_LETTER },	/* 日 */
		{ 0xac00, LLM_UCD_LETTER },	/* 가: a range in UnicodeData */
		{ 0x0663, LLM_UCD_NUMBER },	/* ٣ */
		{ 0x2167, LLM_UCD_NUMBER },	/* Ⅷ, Nl */
		{ 0xbd, LLM_UCD_NUMBER },	/* ½, No */
		{ 0x0301, LLM_UCD_OTHER },	/* combining acute: Mn */
		{ 0x1f600, LLM_UCD_OTHER },	/* 😀 */
		{ 0x20000, LLM_UCD_LETTER },	/* CJK extension B */
		{ 0x10ffff, LLM_UCD_OTHER },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(want); i++)
		if (llm_ucd_class(want[i].cp) != want[i].cls) {
			check_fail(__FILE__, __LINE__, "U+%04X: class %u, want %u",
				   want[i].cp, llm_ucd_class(want[i].cp),
				   want[i].cls);
			return;
		}
}

/* 2. UTF-8: valid sequences, and every kind of bad one is one U+FFFD byte. */
static void utf8(void)
{
	static const struct { const char *s; u32 len, cp, n; } cases[] = {
		{ "A", 1, 'A', 1 }, { "\xc3\xa9", 2, 0xe9, 2 },
		{ "\xe6\x97\xa5", 3, 0x65e5, 3 },
		{ "\xf0\x9f\x98\x80", 4, 0x1f600, 4 },
		{ "\xc3", 1, 0xfffd, 1 },		/* cut short */
		{ "\xc0\xaf", 2, 0xfffd, 1 },		/* overlong */
		{ "\xed\xa0\x80", 3, 0xfffd, 1 },	/* surrogate */
		{ "\xf4\x90\x80\x80", 4, 0xfffd, 1 },	/* past U+10FFFF */
		{ "\x80", 1, 0xfffd, 1 },		/* continuation */
		{ "\xff", 1, 0xfffd, 1 },
	};
	u8 buf[4];
	size_t i;
	u32 cp;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		CHECK_EQ(llm_utf8_decode((const u8 *)cases[i].s, cases[i].len,
					 &cp), cases[i].n);
		CHECK_EQ(cp, cases[i].cp);
		if (cp != 0xfffd) {
			CHECK_EQ(llm_utf8_encode(cp, buf), cases[i].len);
			CHECK(!memcmp(buf, cases[i].s, cases[i].len));
		}
	}
}

/* The words @pre splits @text into, joined by '|'. */
static void split(u32 pre, const char *text, char *out, size_t cap)
{
	u32 cp[256], off[257], n = 0, i = 0, len = strlen(text), pos;
	size_t k = 0;

	while (i < len) {
		off[n] = i;
		i += llm_utf8_decode((const u8 *)text + i, len - i, &cp[n]);
		n++;
	}
	off[n] = len;
	for (pos = 0; pos < n; ) {
		u32 end = llm_bpe_pretok(pre, cp, n, pos);

		k += snprintf(out + k, cap - k, "%s%.*s", pos ? "|" : "",
			      (int)(off[end] - off[pos]), text + off[pos]);
		pos = end;
	}
}

/*
 * 3. Splits that tell the three expressions apart: contractions and
 * their case, digits in threes or ones, a space before letters, numbers
 * or punctuation, newlines, whitespace runs before words and at the end.
 */
static void pretokenizers(void)
{
	static const struct { u32 pre; const char *text, *want; } cases[] = {
		{ LLM_PRE_GPT2, "it's I'M", "it|'s| I|'|M" },
		{ LLM_PRE_LLAMA3, "it's I'M", "it|'s| I|'M" },
		{ LLM_PRE_QWEN2, "it's I'M", "it|'s| I|'M" },
		{ LLM_PRE_GPT2, "12345 x", "12345| x" },
		{ LLM_PRE_LLAMA3, "12345 x", "123|45| x" },
		{ LLM_PRE_QWEN2, "123 x", "1|2|3| x" },
		{ LLM_PRE_GPT2, "a 1", "a| 1" },
		{ LLM_PRE_LLAMA3, "a 1", "a| |1" },
		{ LLM_PRE_GPT2, "  hi  ", " | hi|  " },
		{ LLM_PRE_LLAMA3, "  hi  ", " | hi|  " },
		{ LLM_PRE_GPT2, "a\n\nb", "a|\n|\n|b" },
		{ LLM_PRE_LLAMA3, "a\n\nb", "a|\n\n|b" },
		{ LLM_PRE_LLAMA3, "x \n y", "x| \n| y" },
		{ LLM_PRE_LLAMA3, "(word) .,!\n\nz", "(word|)| .,!\n\n|z" },
		{ LLM_PRE_GPT2, "(word) .,!", "(|word|)| .,!" },
		{ LLM_PRE_LLAMA3, "\tx", "\tx" },
		{ LLM_PRE_GPT2, "\tx", "\t|x" },
		{ LLM_PRE_LLAMA3, "café 日本", "café| 日本" },
		{ LLM_PRE_LLAMA3, "😀😀 ok", "😀😀| ok" },
	};
	char got[512];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		split(cases[i].pre, cases[i].text, got, sizeof(got));
		if (strcmp(got, cases[i].want)) {
			check_fail(__FILE__, __LINE__, "pre %u '%s': '%s', want '%s'",
				   cases[i].pre, cases[i].text, got,
				   cases[i].want);
			return;
		}
	}
}

struct tok {
	void *img;
	struct llm_arena a;
	struct llm_gguf g;
	struct llm_vocab v;
	void *scratch;
};

static int tok_open(struct tok *t, const char *pre, char *err, size_t errlen)
{
	struct synth_shape s = {
		.dim = 32, .layers = 1, .heads = 2, .kv_heads = 2, .ffn = 32,
		.vocab = 600, .context = 64, .seed = 1, .bpe_pre = pre,
	};
	struct synth_model m;
	size_t len;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = synth_model_build(&m, &s, err, errlen);
	if (ret)
		return ret;
	ret = llm_gguf_writer_to_mem(m.w, &t->img, &len);
	synth_model_free(&m);
	if (ret)
		return ret;
	llm_arena_init(&t->a, region, REGION);
	ret = llm_gguf_parse(&t->g, t->img, len, &t->a, err, errlen);
	if (!ret)
		ret = llm_vocab_load(&t->v, &t->g, &t->a, err, errlen);
	t->scratch = malloc(llm_tokenize_scratch_bytes(4096));
	return ret ? ret : t->scratch ? 0 : -ENOMEM;
}

static void tok_close(struct tok *t)
{
	free(t->img);
	free(t->scratch);
}

/* A random string of characters of many scripts and kinds. */
static u32 random_text(char *out, u32 cap)
{
	static const u32 pool[] = {
		' ', ' ', ' ', '\n', '\t', '\'', 'a', 'e', 's', 'T', 'M', '0',
		'7', '.', ',', '!', '(', 0xe9, 0xfc, 0x3b1, 0x436, 0x65e5,
		0x672c, 0x3053, 0xac00, 0x1f600, 0x1f44d, 0x200d, 0x301,
		0xa0, 0x3000, 0x663, 0xbd,
	};
	u32 n = 0, k = rnd32() % 40;

	while (k-- && n + 4 < cap)
		n += llm_utf8_encode(pool[rnd32() % ARRAY_SIZE(pool)],
				     (u8 *)out + n);
	out[n] = '\0';
	return n;
}

/*
 * 4. For every pre-tokenizer: the bytes of the tokens of any text are
 * the text (and without BOS; the ids are real tokens), over random text.
 */
static void round_trip(void)
{
	static const char *const pres[] = { "gpt-2", "llama-bpe", "qwen2" };
	char text[256], back[1024], err[256];
	u32 ids[512];
	size_t p;
	int r;

	for (p = 0; p < ARRAY_SIZE(pres); p++) {
		struct tok t;

		if (tok_open(&t, pres[p], err, sizeof(err))) {
			check_fail(__FILE__, __LINE__, "%s: %s", pres[p], err);
			tok_close(&t);
			return;
		}
		CHECK(t.v.bpe);
		for (r = 0; r < 2000; r++) {
			u32 len = random_text(text, sizeof(text)), blen = 0, i;
			int n = llm_tokenize(&t.v, text, len, false, ids,
					     ARRAY_SIZE(ids), t.scratch,
					     llm_tokenize_scratch_bytes(4096));

			CHECK(n >= 0 && (u32)n <= len);
			for (i = 0; i < (u32)n; i++) {
				CHECK(ids[i] < t.v.n);
				blen += llm_token_to_text(&t.v, LLM_TOKEN_NONE,
							  ids[i], back + blen,
							  sizeof(back) - blen);
			}
			if (blen != len || memcmp(back, text, len)) {
				check_fail(__FILE__, __LINE__, "%s: '%s' came back as '%.*s'",
					   pres[p], text, (int)blen, back);
				tok_close(&t);
				return;
			}
		}
		tok_close(&t);
	}
}

/*
 * 5. Merges: a frequent word of the corpus is one token; special tokens
 * are text unless asked, then one token; BOS only where the vocabulary
 * adds it.
 */
static void merges_and_specials(void)
{
	const char *eot = "<|eot_id|>";
	u32 ids[64], want;
	char err[256];
	struct tok t;
	int n;

	if (tok_open(&t, "llama-bpe", err, sizeof(err))) {
		check_fail(__FILE__, __LINE__, "%s", err);
		tok_close(&t);
		return;
	}
	n = llm_tokenize(&t.v, " the", 4, false, ids, 64, t.scratch,
			 llm_tokenize_scratch_bytes(4096));
	CHECK_EQ(n, 1);
	CHECK_EQ(ids[0], llm_vocab_find(&t.v, "\xc4\xa0the", 5));	/* Ġthe */
	want = llm_vocab_find(&t.v, eot, strlen(eot));
	CHECK(want != LLM_TOKEN_NONE);
	n = llm_tokenize_ex(&t.v, eot, strlen(eot), 0, ids, 64, t.scratch,
			    llm_tokenize_scratch_bytes(4096));
	CHECK(n > 1);
	n = llm_tokenize_ex(&t.v, eot, strlen(eot),
			    LLM_TOKENIZE_SPECIAL | LLM_TOKENIZE_BOS, ids, 64,
			    t.scratch, llm_tokenize_scratch_bytes(4096));
	CHECK_EQ(n, 2);
	CHECK_EQ(ids[0], t.v.bos);
	CHECK_EQ(ids[1], want);
	/* a control token has no text */
	CHECK_EQ(llm_token_to_text(&t.v, 0, want, err, sizeof(err)), 0);
	tok_close(&t);

	if (tok_open(&t, "qwen2", err, sizeof(err))) {
		check_fail(__FILE__, __LINE__, "%s", err);
		tok_close(&t);
		return;
	}
	CHECK(!t.v.add_bos && t.v.bos == LLM_TOKEN_NONE);
	tok_close(&t);
}

/* 6. Vocabularies refused with a sentence. */
static void refused(void)
{
	static const struct { const char *key, *val, *why; } bad[] = {
		{ "tokenizer.ggml.pre", "deepseek-llm", "is not supported" },
		{ "tokenizer.ggml.model", "bert", "is not supported" },
	};
	struct synth_shape s = {
		.dim = 32, .layers = 1, .heads = 2, .kv_heads = 2, .ffn = 32,
		.vocab = 600, .context = 64, .seed = 1, .bpe_pre = "gpt-2",
	};
	char err[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct llm_gguf_writer *w = llm_gguf_writer_new(0);
		struct synth_model m;
		struct llm_arena a;
		struct llm_gguf g;
		struct llm_vocab v;
		size_t len;
		void *img;
		u64 k;

		CHECK_EQ(synth_model_build(&m, &s, err, sizeof(err)), 0);
		CHECK_EQ(llm_gguf_writer_to_mem(m.w, &img, &len), 0);
		llm_arena_init(&a, region, REGION);
		CHECK_EQ(llm_gguf_parse(&g, img, len, &a, err, sizeof(err)), 0);
		/* the same file with one string key's value replaced */
		for (k = 0; k < g.n_kv; k++) {
			if (llm_gguf_str_eq(g.kv[k].key, bad[i].key))
				llm_gguf_writer_add_str(w, bad[i].key, bad[i].val);
			else
				llm_gguf_writer_copy_kv(w, &g.kv[k]);
		}
		free(img);
		CHECK_EQ(llm_gguf_writer_to_mem(w, &img, &len), 0);
		llm_gguf_writer_free(w);
		synth_model_free(&m);
		llm_arena_init(&a, region, REGION);
		CHECK_EQ(llm_gguf_parse(&g, img, len, &a, err, sizeof(err)), 0);
		err[0] = '\0';
		CHECK_EQ(llm_vocab_load(&v, &g, &a, err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, bad[i].val) && strstr(err, bad[i].why));
		free(img);
	}
}

int main(void)
{
	region = malloc(REGION);
	if (!region)
		return 1;
	check_seed(0xb9e);
	RUN(classes);
	RUN(utf8);
	RUN(pretokenizers);
	RUN(round_trip);
	RUN(merges_and_specials);
	RUN(refused);
	free(region);
	return check_done();
}
