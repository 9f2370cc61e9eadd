// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl convert llama2c (userctl/convert.c):
 *
 * - stories260K.bin + tok512.bin converted into a temporary directory
 *   against llama.cpp's conversion of them (stories260K.gguf): the same
 *   tensors in the same order with byte-identical data, the same keys with
 *   the same bytes, except llama.context_length (ours: the checkpoint's
 *   seq_len 512; llama.cpp's: its n_ctx option, 2048);
 * - the core generating from the converted file exactly the tokens of the
 *   llama2.c reference (greedy, 255 tokens, three prompts);
 * - Q/K: llama.cpp's file holds the checkpoint's wq/wk bytes unpermuted;
 * - a small synthetic model: unshared classifier, token types and pieces;
 * - malformed checkpoints and tokenizers (every truncation included):
 *   refused with a sentence, never read out of bounds (ASan).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "ref_llama2c.h"
#include "userctl/convert.h"
#include "userctl/runtime.h"

#define STEPS 255
#define TABLES (4u << 20)

static char tmpdir[] = "/tmp/llm-test-convert-XXXXXX";
static char conv_path[256];
static const char *bin_path, *tok_path, *ref_gguf_path;

struct parsed {
	void *img;
	size_t len;
	void *mem;
	struct llm_arena arena;
	struct llm_gguf g;
};

static int parse_file(struct parsed *p, const char *path)
{
	char err[256];
	int ret;

	memset(p, 0, sizeof(*p));
	p->img = check_read_file(path, &p->len);
	p->mem = malloc(TABLES);
	if (!p->img || !p->mem)
		return -ENOMEM;
	llm_arena_init(&p->arena, p->mem, TABLES);
	ret = llm_gguf_parse(&p->g, p->img, p->len, &p->arena, err,
			     sizeof(err));
	if (ret)
		printf("# %s: %s\n", path, err);
	return ret;
}

static void parsed_free(struct parsed *p)
{
	free(p->img);
	free(p->mem);
}

static u32 get_u32(const struct llm_gguf *g, const char *key)
{
	u32 v = 0xdeadbeef;

	llm_gguf_get_u32(g, key, &v);
	return v;
}

/* ------------------------------------------------------------------ */
/* Against llama.cpp's conversion of stories260K.                      */

static void convert_matches_llama_cpp(void)
{
	struct llm_convert_stats st;
	struct parsed a, b;
	const struct llm_gguf_kv *ctx;
	char err[512];
	u64 i, at;

	CHECK_EQ(llm_convert_llama2c_file(bin_path, tok_path, conv_path, &st,
					  err, sizeof(err)), 0);
	CHECK_EQ(st.n_tensors, 48);
	CHECK_EQ(st.cfg.seq_len, 512);
	CHECK(st.cfg.shared_cls);
	CHECK_EQ(parse_file(&a, conv_path), 0);
	CHECK_EQ(parse_file(&b, ref_gguf_path), 0);
	CHECK_EQ(st.bytes_out, a.len);
	CHECK_EQ(a.len, b.len);
	CHECK_EQ(a.g.version, b.g.version);
	CHECK_EQ(a.g.data_offset, b.g.data_offset);

	CHECK_EQ(a.g.n_tensors, b.g.n_tensors);
	for (i = 0; i < a.g.n_tensors; i++) {
		const struct llm_gguf_tensor *x = &a.g.tensors[i];
		const struct llm_gguf_tensor *y = &b.g.tensors[i];

		if (x->name.len != y->name.len ||
		    memcmp(x->name.p, y->name.p, x->name.len) ||
		    x->n_dims != y->n_dims || x->type != y->type ||
		    memcmp(x->ne, y->ne, sizeof(x->ne)) ||
		    x->offset != y->offset || x->nbytes != y->nbytes ||
		    memcmp(x->data, y->data, x->nbytes)) {
			check_fail(__FILE__, __LINE__,
				   "tensor %llu '%.*s' differs from llama.cpp's '%.*s'",
				   (unsigned long long)i, (int)x->name.len,
				   x->name.p, (int)y->name.len, y->name.p);
			goto out;
		}
	}

	/* keys: same names, types, order and bytes, but the context */
	CHECK_EQ(a.g.n_kv, b.g.n_kv);
	for (i = 0; i < a.g.n_kv; i++) {
		if (a.g.kv[i].key.len != b.g.kv[i].key.len ||
		    memcmp(a.g.kv[i].key.p, b.g.kv[i].key.p,
			   a.g.kv[i].key.len) ||
		    a.g.kv[i].type != b.g.kv[i].type) {
			check_fail(__FILE__, __LINE__, "key %llu differs",
				   (unsigned long long)i);
			goto out;
		}
	}
	ctx = llm_gguf_find(&a.g, "llama.context_length");
	CHECK(ctx && ctx->type == LLM_GGUF_U32);
	CHECK_EQ(get_u32(&a.g, "llama.context_length"), 512);
	CHECK_EQ(get_u32(&b.g, "llama.context_length"), 2048);
	/* everything before the data: the same bytes but those 4 */
	at = (const u8 *)ctx->val - (const u8 *)a.img;
	CHECK(!memcmp(a.img, b.img, at));
	CHECK(!memcmp((u8 *)a.img + at + 4, (u8 *)b.img + at + 4,
		      a.g.data_offset - at - 4));
	CHECK(!memcmp((u8 *)a.img + a.g.data_offset,
		      (u8 *)b.img + b.g.data_offset, a.len - a.g.data_offset));

	/* the keys the core reads, by value */
	CHECK_EQ(get_u32(&a.g, "llama.embedding_length"), 64);
	CHECK_EQ(get_u32(&a.g, "llama.block_count"), 5);
	CHECK_EQ(get_u32(&a.g, "llama.attention.head_count"), 8);
	CHECK_EQ(get_u32(&a.g, "llama.attention.head_count_kv"), 4);
	CHECK_EQ(get_u32(&a.g, "llama.feed_forward_length"), 172);
	CHECK_EQ(get_u32(&a.g, "llama.rope.dimension_count"), 8);
	CHECK_EQ(get_u32(&a.g, "tokenizer.ggml.bos_token_id"), 1);
	CHECK_EQ(get_u32(&a.g, "tokenizer.ggml.eos_token_id"), 2);
	CHECK_EQ(get_u32(&a.g, "tokenizer.ggml.unknown_token_id"), 0);
out:
	parsed_free(&a);
	parsed_free(&b);
}

/*
 * llama.cpp's converter applies no permutation to Q and K, and needs
 * none (see userctl/convert.c): its attn_q/attn_k are the checkpoint's
 * wq/wk bytes.  Checked on llama.cpp's file, independently of ours.
 */
static void llama_cpp_q_k_unpermuted(void)
{
	const u32 dim = 64, kv_dim = 32, vocab = 512, layers = 5;
	u64 wq = 28 + 4ull * (vocab * dim + layers * dim);
	u64 wk = wq + 4ull * layers * dim * dim;
	struct parsed b;
	size_t bin_len;
	u8 *bin;
	char name[64];
	u32 l;

	bin = check_read_file(bin_path, &bin_len);
	CHECK(bin);
	if (parse_file(&b, ref_gguf_path)) {
		free(bin);
		CHECK(0);
	}
	for (l = 0; l < layers && !check_failed(); l++) {
		const struct llm_gguf_tensor *q, *k;

		snprintf(name, sizeof(name), "blk.%u.attn_q.weight", l);
		q = llm_gguf_find_tensor(&b.g, name);
		snprintf(name, sizeof(name), "blk.%u.attn_k.weight", l);
		k = llm_gguf_find_tensor(&b.g, name);
		if (!q || !k || q->nbytes != 4ull * dim * dim ||
		    k->nbytes != 4ull * kv_dim * dim ||
		    memcmp(q->data, bin + wq + l * q->nbytes, q->nbytes) ||
		    memcmp(k->data, bin + wk + l * k->nbytes, k->nbytes))
			check_fail(__FILE__, __LINE__,
				   "layer %u: llama.cpp's Q/K are not the checkpoint's bytes",
				   l);
	}
	parsed_free(&b);
	free(bin);
}

/* ------------------------------------------------------------------ */
/* Generation from the converted file against the llama2.c reference.  */

struct collect {
	u32 tok[1024];
	u32 n;
};

static void on_token(void *arg, u32 t)
{
	struct collect *c = arg;

	if (c->n < ARRAY_SIZE(c->tok))
		c->tok[c->n++] = t;
}

static void converted_generates_reference(void)
{
	static const char *const prompts[] = {
		"", "Once upon a time", "Lily and Tom went to the park",
	};
	struct ref_model *ref = ref_open(bin_path, tok_path);
	static int want[1024];
	struct collect got;
	size_t p;

	CHECK(ref);
	for (p = 0; p < ARRAY_SIZE(prompts) && !check_failed(); p++) {
		const char *prompt = prompts[p];
		struct llm_runtime rt;
		struct llm_request r;
		int pt[512], np, n, i;
		char err[256];

		np = ref_encode(ref, prompt, 1, pt, 512);
		n = ref_generate(ref, prompt, np - 1 + STEPS, 0.0f, 0.9f, 1,
				 want, 1024);
		if (llm_runtime_open(&rt, conv_path, 512, strlen(prompt) + 1,
				     false, err, sizeof(err))) {
			check_fail(__FILE__, __LINE__, "%s", err);
			break;
		}
		memset(&got, 0, sizeof(got));
		memset(&r, 0, sizeof(r));
		r.prompt = prompt;
		r.prompt_len = strlen(prompt);
		r.max_tokens = STEPS;
		r.max_prompt_tokens = 1000;
		r.sampling.top_p_milli = 900;
		r.seed = 1;
		r.on_token = on_token;
		r.arg = &got;
		i = llm_generate(&rt.ctx, &r);
		llm_runtime_close(&rt);
		if (i || (int)got.n != n) {
			check_fail(__FILE__, __LINE__,
				   "prompt \"%s\": %u tokens (ret %d), reference %d",
				   prompt, got.n, i, n);
			break;
		}
		for (i = 0; i < n; i++)
			if ((int)got.tok[i] != want[i]) {
				check_fail(__FILE__, __LINE__,
					   "prompt \"%s\": token %d is %u, reference %d",
					   prompt, i, got.tok[i], want[i]);
				break;
			}
	}
	ref_close(ref);
}

/* ------------------------------------------------------------------ */
/* A small synthetic model.                                            */

enum { T_DIM = 32, T_HID = 64, T_LAYERS = 2, T_HEADS = 4, T_KV = 2,
	T_VOCAB = 9, T_SEQ = 16 };

struct buf {
	u8 *p;
	size_t len;
	size_t cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	while (b->len + n > b->cap) {
		b->cap = b->cap ? 2 * b->cap : 4096;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_i32(struct buf *b, s32 v)
{
	put(b, &v, 4);
}

static void put_floats(struct buf *b, u64 n, float base)
{
	u64 i;

	for (i = 0; i < n; i++) {
		float f = base + (float)(i % 97) / 128.0f;

		put(b, &f, 4);
	}
}

/* A checkpoint; the classifier is separate when @cls. */
static struct buf make_ckpt(bool cls)
{
	const u64 d = T_DIM, h = T_HID, L = T_LAYERS, kv = T_DIM / T_HEADS * T_KV;
	s32 hdr[7] = { T_DIM, T_HID, T_LAYERS, T_HEADS, T_KV,
		       cls ? -T_VOCAB : T_VOCAB, T_SEQ };
	struct buf b = { 0 };
	int i;

	for (i = 0; i < 7; i++)
		put_i32(&b, hdr[i]);
	put_floats(&b, T_VOCAB * d, 1);		/* embedding */
	put_floats(&b, L * d, 2);		/* rms_att */
	put_floats(&b, L * d * d, 3);		/* wq */
	put_floats(&b, L * kv * d, 4);		/* wk */
	put_floats(&b, L * kv * d, 5);		/* wv */
	put_floats(&b, L * d * d, 6);		/* wo */
	put_floats(&b, L * d, 7);		/* rms_ffn */
	put_floats(&b, L * h * d, 8);		/* w1 */
	put_floats(&b, L * d * h, 9);		/* w2 */
	put_floats(&b, L * h * d, 10);		/* w3 */
	put_floats(&b, d, 11);			/* rms_final */
	put_floats(&b, T_SEQ * (d / T_HEADS), 12);	/* RoPE tables */
	if (cls)
		put_floats(&b, T_VOCAB * d, 13);
	return b;
}

static const char *const t_pieces[T_VOCAB] = {
	"<unk>", "\n<s>\n", "\n</s>\n", "<0x0A>", " a b", "", "<0x", "x y ",
	"<0x 7",
};

static struct buf make_tok(void)
{
	struct buf b = { 0 };
	int i;

	put_i32(&b, 8);
	for (i = 0; i < T_VOCAB; i++) {
		float score = -(float)i;

		put(&b, &score, 4);
		put_i32(&b, strlen(t_pieces[i]));
		put(&b, t_pieces[i], strlen(t_pieces[i]));
	}
	return b;
}

static int convert_mem(struct buf ck, struct buf tk, void **out,
		       size_t *len, char *err, size_t errlen)
{
	struct llm_gguf_writer *w = llm_gguf_writer_new(0);
	int ret;

	ret = llm_convert_llama2c(w, ck.p, ck.len, tk.p, tk.len, NULL, err,
				  errlen);
	if (!ret)
		ret = llm_gguf_writer_to_mem(w, out, len);
	llm_gguf_writer_free(w);
	return ret;
}

/* The GGUF of make_ckpt(true) and make_tok(), parsed. */
static void check_synthetic(const struct llm_gguf *g, const struct buf *ck)
{
	/* U+2581 for each space (split strings: \x81 would eat an a) */
	static const char *const want_pieces[T_VOCAB] = {
		"<unk>", "<s>", "</s>", "<0x0A>",
		"\xe2\x96\x81" "a" "\xe2\x96\x81" "b", "", "<0x",
		"x\xe2\x96\x81y\xe2\x96\x81", "<0x\xe2\x96\x81" "7",
	};
	static const s32 want_types[T_VOCAB] = { 2, 3, 3, 6, 1, 3, 1, 1, 6 };
	u64 cls_at = ck->len - 4ull * T_VOCAB * T_DIM;
	const struct llm_gguf_tensor *t;
	const struct llm_gguf_kv *kv;
	struct llm_gguf_str s;
	const u8 *cur;
	int i;

	CHECK_EQ(g->n_tensors, 3 + 9 * T_LAYERS);
	/* the separate classifier, and the embedding, as they are */
	t = llm_gguf_find_tensor(g, "output.weight");
	CHECK(t && t->nbytes == 4ull * T_VOCAB * T_DIM);
	CHECK(!memcmp(t->data, ck->p + cls_at, t->nbytes));
	t = llm_gguf_find_tensor(g, "token_embd.weight");
	CHECK(t && !memcmp(t->data, ck->p + 28, t->nbytes));
	t = llm_gguf_find_tensor(g, "blk.1.attn_k.weight");
	CHECK(t && t->ne[0] == T_DIM && t->ne[1] == T_DIM / T_HEADS * T_KV);
	t = llm_gguf_find_tensor(g, "blk.1.ffn_down.weight");
	CHECK(t && t->ne[0] == T_HID && t->ne[1] == T_DIM);
	t = llm_gguf_find_tensor(g, "blk.0.ffn_norm.weight");
	CHECK(t && t->n_dims == 1 && t->ne[0] == T_DIM);
	CHECK_EQ(get_u32(g, "llama.context_length"), T_SEQ);
	CHECK_EQ(get_u32(g, "llama.rope.dimension_count"), T_DIM / T_HEADS);

	CHECK_EQ(llm_gguf_get_arr(g, "tokenizer.ggml.tokens",
				  LLM_GGUF_STRING, &kv), 0);
	CHECK_EQ(kv->arr_n, T_VOCAB);
	cur = kv->arr_data;
	for (i = 0; i < T_VOCAB; i++) {
		llm_gguf_next_str(&cur, &s);
		if (!llm_gguf_str_eq(s, want_pieces[i]) ||
		    s.len != strlen(want_pieces[i])) {
			check_fail(__FILE__, __LINE__, "piece %d is \"%.*s\"",
				   i, (int)s.len, s.p);
			return;
		}
	}
	CHECK_EQ(llm_gguf_get_arr(g, "tokenizer.ggml.token_type",
				  LLM_GGUF_I32, &kv), 0);
	for (i = 0; i < T_VOCAB; i++)
		CHECK_EQ((s32)llm_get_le32(kv->arr_data + 4 * i),
			 want_types[i]);
	CHECK_EQ(llm_gguf_get_arr(g, "tokenizer.ggml.scores", LLM_GGUF_F32,
				  &kv), 0);
	for (i = 0; i < T_VOCAB; i++) {
		float f;

		memcpy(&f, kv->arr_data + 4 * i, 4);
		CHECK(f == -(float)i);
	}
}

static void synthetic_model(void)
{
	struct buf ck = make_ckpt(true), tk = make_tok();
	struct llm_arena arena;
	struct llm_runtime rt;
	struct llm_gguf g;
	char err[512];
	void *img = NULL, *mem = malloc(TABLES);
	size_t len;

	if (convert_mem(ck, tk, &img, &len, err, sizeof(err))) {
		check_fail(__FILE__, __LINE__, "%s", err);
		goto out;
	}
	llm_arena_init(&arena, mem, TABLES);
	if (llm_gguf_parse(&g, img, len, &arena, err, sizeof(err))) {
		check_fail(__FILE__, __LINE__, "%s", err);
		goto out;
	}
	check_synthetic(&g, &ck);
	if (check_failed())
		goto out;
	/* and the core binds it */
	if (llm_runtime_open_mem(&rt, img, len, 16, 16, true, err,
				 sizeof(err)))
		check_fail(__FILE__, __LINE__, "the core refuses it: %s", err);
	else
		llm_runtime_close(&rt);
out:
	free(img);
	free(mem);
	free(ck.p);
	free(tk.p);
}

/* ------------------------------------------------------------------ */
/* Malformed inputs.                                                   */

static int try_convert(struct buf ck, struct buf tk, char *err, size_t len)
{
	struct llm_gguf_writer *w = llm_gguf_writer_new(0);
	int ret;

	err[0] = 0;
	ret = llm_convert_llama2c(w, ck.p, ck.len, tk.p, tk.len, NULL, err,
				  len);
	llm_gguf_writer_free(w);
	return ret;
}

/* The checkpoint with header field @field set to @v must be refused. */
static void refuse_header(int field, s32 v, const char *why)
{
	struct buf ck = make_ckpt(false), tk = make_tok();
	char err[512];

	memcpy(ck.p + 4 * field, &v, 4);
	if (try_convert(ck, tk, err, sizeof(err)) != -EINVAL ||
	    !strstr(err, why))
		check_fail(__FILE__, __LINE__,
			   "header field %d = %d: \"%s\", wanted \"%s\"", field,
			   v, err, why);
	free(ck.p);
	free(tk.p);
}

static void bad_checkpoints(void)
{
	struct buf ck = make_ckpt(false), tk = make_tok(), c2;
	char err[512];
	size_t n;
	int ret;

	refuse_header(0, 0, "dim = 0");
	refuse_header(2, -1, "n_layers = -1");
	refuse_header(5, (s32)0x80000000, "vocab_size");
	refuse_header(6, 0, "seq_len = 0");
	refuse_header(3, 5, "not a multiple");
	refuse_header(3, 32, "odd");
	refuse_header(4, 3, "does not divide");
	refuse_header(4, 8, "does not divide");
	refuse_header(5, 2, "cannot hold");
	refuse_header(5, 10, "truncated");
	refuse_header(5, 8, "after");
	refuse_header(0, 0x7ffffff8, "more weights than any file");
	refuse_header(1, 0x7fffffff, "truncated");
	refuse_header(0, 0x616b3432, "ak42");
	if (check_failed())
		goto out;
	/* every truncation, one byte more, and the classifier missing */
	for (n = 0; n < ck.len && !check_failed(); n++) {
		c2.p = n ? ck.p : NULL;
		c2.len = n;
		CHECK_EQ(try_convert(c2, tk, err, sizeof(err)), -EINVAL);
		CHECK(err[0]);
	}
	c2.p = malloc(ck.len + 1);
	memcpy(c2.p, ck.p, ck.len);
	c2.p[ck.len] = 0;
	c2.len = ck.len + 1;
	ret = try_convert(c2, tk, err, sizeof(err));
	free(c2.p);
	CHECK_EQ(ret, -EINVAL);
	memcpy(ck.p + 20, &(s32){ -T_VOCAB }, 4);
	CHECK_EQ(try_convert(ck, tk, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "classifier"));
out:
	free(ck.p);
	free(tk.p);
}

static void bad_tokenizers(void)
{
	struct buf ck = make_ckpt(false), tk = make_tok(), t2;
	char err[512];
	size_t n;
	s32 v;

	CHECK_EQ(try_convert(ck, tk, err, sizeof(err)), 0);
	for (n = 0; n < tk.len && !check_failed(); n++) {
		t2.p = n ? tk.p : NULL;
		t2.len = n;
		CHECK_EQ(try_convert(ck, t2, err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "tokenizer"));
	}
	/* a length that is negative, or past the end */
	v = -1;
	memcpy(tk.p + 8, &v, 4);
	CHECK_EQ(try_convert(ck, tk, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "claims -1 bytes"));
	v = 1 << 30;
	memcpy(tk.p + 8, &v, 4);
	CHECK_EQ(try_convert(ck, tk, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "claims"));
	free(tk.p);
	/* one token too many */
	tk = make_tok();
	put(&tk, "\0\0\0\0\1\0\0\0z", 9);
	CHECK_EQ(try_convert(ck, tk, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "after its first 9 tokens"));
	free(ck.p);
	free(tk.p);
}

static void bad_files(void)
{
	struct llm_convert_stats st;
	char err[512], out[300];

	snprintf(out, sizeof(out), "%s/nodir/x.gguf", tmpdir);
	CHECK(llm_convert_llama2c_file(bin_path, tok_path, out, &st, err,
				       sizeof(err)) < 0);
	CHECK(strstr(err, "nodir"));
	CHECK_EQ(llm_convert_llama2c_file("/nonexistent.bin", tok_path,
					  conv_path, &st, err, sizeof(err)),
		 -ENOENT);
	CHECK(strstr(err, "/nonexistent.bin"));
	/* swapped inputs: nothing written */
	snprintf(out, sizeof(out), "%s/swapped.gguf", tmpdir);
	CHECK_EQ(llm_convert_llama2c_file(tok_path, bin_path, out, &st, err,
					  sizeof(err)), -EINVAL);
	CHECK(access(out, F_OK) != 0);
	/* the output may not be an input */
	CHECK_EQ(llm_convert_llama2c_file(bin_path, tok_path, tok_path, &st,
					  err, sizeof(err)), -EINVAL);
}

int main(void)
{
	char other[300];

	llm_log_quiet = 1;
	if (!check_model("stories260K.bin") || !check_model("tok512.bin") ||
	    !check_model("stories260K.gguf")) {
		printf("FAIL test_convert: models/stories260K.{bin,gguf} or models/tok512.bin is missing\n");
		return 1;
	}
	bin_path = strdup(check_model("stories260K.bin"));
	tok_path = strdup(check_model("tok512.bin"));
	ref_gguf_path = strdup(check_model("stories260K.gguf"));
	if (!mkdtemp(tmpdir)) {
		printf("FAIL test_convert: cannot make a temporary directory\n");
		return 1;
	}
	snprintf(conv_path, sizeof(conv_path), "%s/stories260K.gguf", tmpdir);

	RUN(convert_matches_llama_cpp);
	RUN(llama_cpp_q_k_unpermuted);
	RUN(converted_generates_reference);
	RUN(synthetic_model);
	RUN(bad_checkpoints);
	RUN(bad_tokenizers);
	RUN(bad_files);

	unlink(conv_path);
	snprintf(other, sizeof(other), "%s/swapped.gguf", tmpdir);
	unlink(other);
	rmdir(tmpdir);
	free((void *)bin_path);
	free((void *)tok_path);
	free((void *)ref_gguf_path);
	return check_done();
}
