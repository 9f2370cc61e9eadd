// SPDX-License-Identifier: GPL-2.0
/*
 * A ring node's share of a GGUF file (llm/core/slice.h): the metadata of
 * a file read from a prefix of any length (too short: -EAGAIN, never a
 * wrong answer), the slice of every layer range of the shipped models
 * (a valid GGUF file with exactly the tensors the range needs, their
 * bytes unchanged; the whole range gives the file back byte for byte),
 * and a model bound from a slice: it holds only its layers' weights and
 * K/V, and refuses work outside them.
 */
#include <stdlib.h>

#include "check.h"
#include "llm/core/slice.h"
#include "llm/core/model.h"
#include "llm/core/exec.h"
#include "llm/core/kv.h"

#define REGION		(32u << 20)
#define N_CTX		64

static const char *const models[] = {
	"stories260K.gguf", "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf",
};

static unsigned char *region;
static char err[256];

static void *read_model(const char *name, size_t *len)
{
	const char *path = check_model(name);

	if (!path) {
		check_fail(__FILE__, __LINE__, "models/%s is missing", name);
		return NULL;
	}
	return check_read_file(path, len);
}

/* The slice of @file for [first, end), in a malloc'd buffer. */
static u8 *make_slice(const u8 *file, size_t len, u32 first, u32 end,
		      struct llm_arena *a, struct llm_slice *s, int *ret)
{
	struct llm_gguf *g = llm_arena_alloc(a, sizeof(*g), 0);
	u8 *out;

	*ret = g ? llm_gguf_parse_prefix(g, file, len, len, a, err,
					 sizeof(err)) : -ENOMEM;
	if (!*ret)
		*ret = llm_slice_plan(s, g, first, end, a, err, sizeof(err));
	if (*ret)
		return NULL;
	out = calloc(1, s->len);
	if (!out) {
		*ret = -ENOMEM;
		return NULL;
	}
	llm_slice_write_head(s, out);
	llm_slice_copy(s, file, out);
	return out;
}

/*
 * 1. Every prefix shorter than the tensor infos' end asks for more
 * (-EAGAIN), every longer one gives the whole file's metadata, with no
 * tensor's data; a file cut short is malformed, not "read more".
 */
static void prefix_of_any_length(void)
{
	struct llm_arena a;
	struct llm_gguf full, g;
	struct llm_slice s;
	size_t len;
	u8 *file = read_model("stories260K-Q8_0.gguf", &len);
	u64 n, i;
	int ret;

	if (!file)
		return;
	llm_arena_init(&a, region, REGION);
	CHECK_EQ(llm_gguf_parse(&full, file, len, &a, err, sizeof(err)), 0);
	CHECK(full.tensors_offset > 24 && full.tensors_end > full.tensors_offset);
	CHECK(full.data_offset >= full.tensors_end);
	CHECK(llm_gguf_table_bytes(file, len) > 0);
	CHECK_EQ(llm_gguf_table_bytes(file, 23), 0);
	for (n = 0; n <= full.data_offset + 64; n++) {
		size_t mark = llm_arena_mark(&a);

		ret = llm_gguf_parse_prefix(&g, file, n, len, &a, err,
					    sizeof(err));
		if (n < full.tensors_end) {
			if (ret != -EAGAIN) {
				check_fail(__FILE__, __LINE__,
					   "prefix of %llu bytes: %d, not -EAGAIN (%s)",
					   (unsigned long long)n, ret, err);
				return;
			}
			continue;
		}
		if (ret) {
			check_fail(__FILE__, __LINE__, "prefix of %llu bytes: %d (%s)",
				   (unsigned long long)n, ret, err);
			return;
		}
		CHECK_EQ(g.n_kv, full.n_kv);
		CHECK_EQ(g.n_tensors, full.n_tensors);
		CHECK_EQ(g.data_offset, full.data_offset);
		CHECK_EQ(g.tensors_offset, full.tensors_offset);
		for (i = 0; i < g.n_tensors; i++) {
			CHECK(!g.tensors[i].data);
			CHECK_EQ(g.tensors[i].offset, full.tensors[i].offset);
			CHECK_EQ(g.tensors[i].nbytes, full.tensors[i].nbytes);
		}
		llm_arena_rewind(&a, mark);
	}
	/* the bounds hold what the parse, and the plan after it, take */
	llm_arena_init(&a, region, llm_gguf_table_bytes(file, len));
	CHECK_EQ(llm_gguf_parse_prefix(&g, file, len, len, &a, err,
				       sizeof(err)), 0);
	llm_arena_init(&a, region, llm_slice_table_bytes(file, len));
	CHECK_EQ(llm_gguf_parse_prefix(&g, file, len, len, &a, err,
				       sizeof(err)), 0);
	CHECK_EQ(llm_slice_plan(&s, &g, 1, 3, &a, err, sizeof(err)), 0);
	CHECK_EQ(llm_slice_table_bytes(file, 16), 0);
	/* a tensor past the end of a file cut short: malformed */
	llm_arena_init(&a, region, REGION);
	ret = llm_gguf_parse_prefix(&g, file, len - 1, len - 1, &a, err,
				    sizeof(err));
	CHECK_EQ(ret, -EINVAL);
	CHECK(strstr(err, "outside the file"));
	free(file);
}

/* Does a node running [first, end) of @n need tensor @name? */
static bool needed(const char *name, u32 first, u32 end, u32 n, bool tied)
{
	unsigned int blk;

	if (sscanf(name, "blk.%u.", &blk) == 1)
		return blk >= first && blk < end;
	if (!strcmp(name, "token_embd.weight"))
		return !first || (end == n && tied);
	return end == n;	/* output_norm, output */
}

/*
 * 2. Every range of every model: the slice parses, holds the tensors the
 * range needs and no other, each with the file's bytes; the whole range
 * is the file itself.
 */
static void slices_hold_their_layers(void)
{
	struct llm_arena a;
	struct llm_slice s;
	struct llm_gguf full, sg;
	u32 mi, first, end, n;
	u64 i;
	int ret;

	for (mi = 0; mi < ARRAY_SIZE(models); mi++) {
		size_t len;
		u8 *file = read_model(models[mi], &len);
		bool tied;

		if (!file)
			return;
		llm_arena_init(&a, region, REGION);
		CHECK_EQ(llm_gguf_parse(&full, file, len, &a, err,
					sizeof(err)), 0);
		CHECK_EQ(llm_gguf_get_u32(&full, "llama.block_count", &n), 0);
		tied = !llm_gguf_find_tensor(&full, "output.weight");
		for (first = 0; first < n; first++)
			for (end = first + 1; end <= n; end++) {
				size_t mark = llm_arena_mark(&a);
				u8 *sl = make_slice(file, len, first, end, &a,
						    &s, &ret);
				u64 kept = 0;
				char name[96];

				if (!sl) {
					check_fail(__FILE__, __LINE__, "%s %u:%u: %d %s",
						   models[mi], first, end, ret, err);
					free(file);
					return;
				}
				CHECK_EQ(llm_gguf_parse(&sg, sl, s.len, &a, err,
							sizeof(err)), 0);
				CHECK_EQ(sg.n_kv, full.n_kv);
				for (i = 0; i < full.n_tensors; i++) {
					const struct llm_gguf_tensor *t =
						&full.tensors[i], *u;

					snprintf(name, sizeof(name), "%.*s",
						 (int)t->name.len, t->name.p);
					u = llm_gguf_find_tensor(&sg, name);
					if (!needed(name, first, end, n, tied)) {
						CHECK(!u);
						continue;
					}
					kept++;
					CHECK(u);
					CHECK_EQ(u->type, t->type);
					CHECK_EQ(u->nbytes, t->nbytes);
					CHECK(!memcmp(u->data, t->data,
						      t->nbytes));
				}
				CHECK_EQ(sg.n_tensors, kept);
				if (!first && end == n)
					CHECK(s.len == len &&
					      !memcmp(sl, file, len));
				else
					CHECK(s.len < len);
				free(sl);
				llm_arena_rewind(&a, mark);
			}
		free(file);
	}
}

/* 3. Ranges that do not fit the model: refused with a sentence. */
static void bad_ranges_refused(void)
{
	static const u32 bad[][2] = { { 3, 3 }, { 4, 2 }, { 0, 6 }, { 5, 0 } };
	struct llm_arena a;
	struct llm_slice s;
	struct llm_gguf g;
	struct llm_model m;
	size_t len;
	u8 *file = read_model("stories260K.gguf", &len);
	u32 i;

	if (!file)
		return;
	llm_arena_init(&a, region, REGION);
	CHECK_EQ(llm_gguf_parse(&g, file, len, &a, err, sizeof(err)), 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		CHECK_EQ(llm_slice_plan(&s, &g, bad[i][0], bad[i][1], &a, err,
					sizeof(err)), -EINVAL);
		CHECK(strstr(err, "5 layers"));
		err[0] = '\0';
		CHECK_EQ(llm_model_load_layers(&m, file, len, bad[i][0],
					       bad[i][1], &a, true, err,
					       sizeof(err)), -EINVAL);
		CHECK(strstr(err, "5 layers"));
	}
	free(file);
}

/*
 * 4. A middle node's model (layers 1:3 of 5) from its slice: no
 * embedding or classifier, only its layers bound, K/V pages of two
 * layers; a whole forward step, a stage outside 1:3, tokens in or logits
 * out are refused, and its own stage runs.
 */
static void middle_node_holds_only_its_layers(void)
{
	struct llm_arena a;
	struct llm_slice s;
	struct llm_model whole, *m;
	struct llm_exec ex;
	struct llm_kv kv, kv_whole;
	struct llm_ctx c;
	struct llm_stage st;
	size_t len, mark;
	u8 *file = read_model("stories260K-Q4_0.gguf", &len), *sl;
	u32 tok[2] = { 1, 2 }, l;
	int ret;

	if (!file)
		return;
	llm_arena_init(&a, region, REGION);
	m = llm_arena_alloc(&a, sizeof(*m), 0);
	CHECK_EQ(llm_model_load(&whole, file, len, &a, true, err,
				sizeof(err)), 0);
	CHECK_EQ(llm_kv_init(&kv_whole, &whole, LLM_T_F32, N_CTX, &a), 0);
	mark = llm_arena_mark(&a);
	sl = make_slice(file, len, 1, 3, &a, &s, &ret);
	CHECK(sl);
	llm_arena_rewind(&a, mark);
	CHECK_EQ(llm_model_load_layers(m, sl, s.len, 1, 3, &a, true, err,
				       sizeof(err)), 0);
	CHECK(!llm_model_whole(m));
	CHECK_EQ(m->layer_first, 1);
	CHECK_EQ(m->layer_end, 3);
	CHECK(!m->tok_embd.data && !m->output.data && !m->output_norm.data);
	for (l = 0; l < m->cfg.n_layers; l++)
		CHECK(!m->layers[l].wq.data == (l < 1 || l >= 3));
	CHECK(m->n_params < whole.n_params);
	CHECK_EQ(llm_model_repack(m, &a), 0);
	CHECK_EQ(llm_exec_init(&ex, m, 8, 1, N_CTX, &a), 0);
	CHECK_EQ(llm_kv_init(&kv, m, LLM_T_F32, N_CTX, &a), 0);
	CHECK_EQ(kv.page_bytes * 5, kv_whole.page_bytes * 2);
	CHECK_EQ(llm_ctx_init(&c, m, N_CTX, 256, &a), 0);
	c.ex = &ex;
	c.kv = &kv;
	CHECK_EQ(llm_exec_forward(&c, tok, 2, true, NULL, NULL), -EINVAL);
	memset(&st, 0, sizeof(st));
	st.c = &c;
	st.n = 2;
	st.first = 0;
	st.last = 3;
	CHECK_EQ(llm_exec_stage(&st, NULL, NULL), -EINVAL);
	st.first = 1;
	st.last = 4;
	CHECK_EQ(llm_exec_stage(&st, NULL, NULL), -EINVAL);
	st.last = 3;
	st.tokens = tok;
	CHECK_EQ(llm_exec_stage(&st, NULL, NULL), -EINVAL);
	st.tokens = NULL;
	st.logits = true;
	CHECK_EQ(llm_exec_stage(&st, NULL, NULL), -EINVAL);
	st.logits = false;
	st.commit = true;
	CHECK_EQ(c.n_past, 0);
	CHECK_EQ(llm_exec_stage(&st, NULL, NULL), 0);
	CHECK_EQ(c.n_past, 2);
	free(sl);
	free(file);
}

int main(void)
{
	region = malloc(REGION);
	if (!region)
		return 1;
	RUN(prefix_of_any_length);
	RUN(slices_hold_their_layers);
	RUN(bad_ranges_refused);
	RUN(middle_node_holds_only_its_layers);
	free(region);
	return check_done();
}
