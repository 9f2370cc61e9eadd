// SPDX-License-Identifier: GPL-2.0
/*
 * The executor (see exec.h).  One forward step over a batch of n tokens,
 * per layer:
 *
 *   caller  RMSNorm, quantize           (per token)
 *   tasks   Q, K, V                     (one job: rows of all three)
 *   caller  RoPE                        (per token)
 *   tasks   attention                   (token x group of heads)
 *   caller  quantize
 *   tasks   output projection + residual
 *   caller  RMSNorm, quantize
 *   tasks   gate, up, SwiGLU, quantize  (one job: the same rows of both)
 *   tasks   down projection + residual
 *
 * so a layer costs five joins.  The architecture (arch.h) picks the norm,
 * biases after the matrices, per-head norms of Q and K, the RoPE or none,
 * and the FFN: SwiGLU, GELU (up, GELU, down) or a mixture of SwiGLU
 * experts (moe(): router, then per expert the tokens that chose it).  Matrix jobs are cut into tasks of at most
 * LLM_TASK_MACS multiply-adds (a range of rows for all the batch's tokens,
 * or for a part of them when the batch is large), and each task is one FPU
 * section.  Attention is cut by heads and, for long contexts, by positions
 * (struct budget).  The small per-token steps run on the caller, one FPU
 * section per token.
 */
#include "exec.h"
#include "kv.h"
#include "../../quant/quant.h"

/*
 * Work in one FPU section.  2M multiply-adds take 50 to 150 us with the
 * AVX2 kernels; the scalar reference is ten times slower, so it gets less.
 */
#define LLM_TASK_MACS		(2u << 20)
#define LLM_TASK_MACS_REF	(256u << 10)
/* ... and reads at most this much of the weights (1 MiB: ~100 us). */
#define LLM_TASK_BYTES		(1u << 20)
/*
 * Work is split into more tasks for more threads only down to this many
 * multiply-adds a task: below it, handing a task to another thread costs
 * more than it saves (a tiny model runs on the caller alone).
 */
#define LLM_SPLIT_MACS		(64u << 10)
/* Row ranges are multiples of this (SwiGLU quantizes whole Q8_0 blocks). */
#define ROW_GRAIN		32u

static u64 task_macs(const struct llm_model *m)
{
	return m->kernels == &llm_kernels_ref ? LLM_TASK_MACS_REF :
						LLM_TASK_MACS;
}

/* The quantized types' tiles take act columns (quant/kernels.h). */
static bool wants_q8(const struct llm_weight *w)
{
	return llm_act_family(w->type) != LLM_ACT_FLOAT;
}

/*
 * The activation forms a group of matrices reading the same input takes:
 * a bit (1 << llm_act_family()) for each of its quantized ones' families;
 * 0 when all read floats.  A group may mix families (llama.cpp's 8-expert
 * mixes put attn_k, attn_v in Q8_0 beside a Q4_K attn_q): the input is
 * then quantized both ways.
 */
static u32 act_of(const struct llm_weight *a, const struct llm_weight *b,
		  const struct llm_weight *c)
{
	u32 mask = 0;

	mask |= (1u << llm_act_family(a->type)) & ~1u;
	if (b)
		mask |= (1u << llm_act_family(b->type)) & ~1u;
	if (c)
		mask |= (1u << llm_act_family(c->type)) & ~1u;
	return mask;
}

/*
 * One input of a group of matrices: floats, and their quantized forms
 * (Q8_0's act columns and the K-quants'; the same buffer when only one
 * family reads it).
 */
struct acts {
	const float *f;
	void *q8, *k;
};

/*
 * Bytes of one column of @cols quantized activations, in either act
 * layout (quant/kernels.h), so that one stride serves both; 64 when @cols
 * is not whole blocks, as in float-only models, which never quantize.
 */
static u64 q8_row_bytes(u64 cols)
{
	return max(llm_act_bytes(LLM_T_Q8_0, cols),
		   llm_act_bytes(LLM_T_Q4_K, cols)) ?: 64;
}

/*
 * Token @t's row of @n floats of @a in each form @mask (act_of()) names,
 * into the form's buffer at row @t.
 */
static void quantize_act(const struct llm_model *m, u32 mask,
			 const struct acts *a, u32 t, u64 n)
{
	const float *x = a->f + (u64)t * n;
	u64 off = (u64)t * q8_row_bytes(n);

	if (mask & (1u << LLM_ACT_Q8))
		llm_fwd_quantize(m, x, (u8 *)a->q8 + off, n);
	if (mask & (1u << LLM_ACT_K))
		llm_fwd_quantize_k(m, x, (u8 *)a->k + off, n);
}

/* ---- executor memory ---- */

struct exec_layout {
	u64 f_embd, f_ff, q_embd, q_ff, att, rope, kv, logits, item;
	u64 router, route_ids, route_w, moe_out, gather;
};

static bool exec_sizes(const struct llm_model *m, u32 n_batch, u32 n_workers,
		       u32 n_ctx, struct exec_layout *l)
{
	const struct llm_config *c = &m->cfg;

	if (!n_batch || !n_workers || n_batch > 4096 || n_workers > 4096)
		return false;
	l->f_embd = (u64)n_batch * c->x_dim * 4;
	l->f_ff = (u64)n_batch * c->ff_dim * 4;
	l->q_embd = (u64)n_batch * q8_row_bytes(c->x_dim);
	l->q_ff = (u64)n_batch * q8_row_bytes(c->ff_dim);
	l->att = (u64)n_workers * ((u64)n_ctx + 2) * 4;
	l->rope = (u64)n_batch * max(c->n_rot, 2u) * 4;
	l->kv = (u64)n_batch * c->kv_dim * 4;
	l->logits = (u64)min_t(u32, n_batch, LLM_EXEC_LOGITS) * c->n_vocab * 4;
	l->item = (u64)n_batch * sizeof(struct llm_item);
	/* experts: router outputs, choices, each choice's output, gathering */
	l->router = (u64)n_batch * c->n_expert * 4;
	l->route_ids = (u64)n_batch * c->n_expert_used * 4;
	l->route_w = l->route_ids;
	l->moe_out = (u64)n_batch * c->n_expert_used * c->n_embd * 4;
	l->gather = c->n_expert ? l->f_embd + 2 * l->q_embd + l->route_ids : 0;
	return true;
}

u64 llm_exec_bytes(const struct llm_model *m, u32 n_batch, u32 n_workers,
		   u32 n_ctx)
{
	struct exec_layout l;

	if (!exec_sizes(m, n_batch, n_workers, n_ctx, &l))
		return U64_MAX;
	return 4 * l.f_embd + 2 * l.f_ff + 2 * l.q_embd + l.q_ff + l.att +
	       l.rope + 2 * l.kv + l.logits + l.item + l.router +
	       l.route_ids + l.route_w + l.moe_out + l.gather +
	       24 * LLM_ARENA_ALIGN;
}

int llm_exec_init(struct llm_exec *ex, const struct llm_model *m,
		  u32 n_batch, u32 n_workers, u32 n_ctx,
		  struct llm_arena *arena)
{
	size_t mark = llm_arena_mark(arena);
	struct exec_layout l;

	memset(ex, 0, sizeof(*ex));
	if (!exec_sizes(m, n_batch, n_workers, n_ctx, &l))
		return -EINVAL;
	ex->m = m;
	ex->n_batch = n_batch;
	ex->n_workers = n_workers;
	ex->n_ctx = n_ctx;
	ex->task_macs = task_macs(m);
	ex->split_macs = LLM_SPLIT_MACS;
	ex->x = llm_arena_alloc(arena, l.f_embd, 0);
	ex->xb = llm_arena_alloc(arena, l.f_embd, 0);
	ex->xb2 = llm_arena_alloc(arena, l.f_embd, 0);
	ex->q = llm_arena_alloc(arena, l.f_embd, 0);
	ex->hb = llm_arena_alloc(arena, l.f_ff, 0);
	ex->hb2 = llm_arena_alloc(arena, l.f_ff, 0);
	ex->xq = llm_arena_alloc(arena, l.q_embd, 0);
	ex->xqk = llm_arena_alloc(arena, l.q_embd, 0);
	ex->xq_ff = llm_arena_alloc(arena, l.q_ff, 0);
	ex->att = llm_arena_alloc(arena, l.att, 0);
	ex->rope_cs = llm_arena_alloc(arena, l.rope, 0);
	ex->k = llm_arena_alloc(arena, l.kv, 0);
	ex->v = llm_arena_alloc(arena, l.kv, 0);
	ex->logits = llm_arena_alloc(arena, l.logits, 0);
	ex->item = llm_arena_alloc(arena, l.item, 0);
	if (m->cfg.n_expert) {
		ex->router = llm_arena_alloc(arena, l.router, 0);
		ex->route_ids = llm_arena_alloc(arena, l.route_ids, 0);
		ex->route_w = llm_arena_alloc(arena, l.route_w, 0);
		ex->moe_out = llm_arena_alloc(arena, l.moe_out, 0);
		ex->gx = llm_arena_alloc(arena, l.f_embd, 0);
		ex->gxq = llm_arena_alloc(arena, l.q_embd, 0);
		ex->gxqk = llm_arena_alloc(arena, l.q_embd, 0);
		ex->gtok = llm_arena_alloc(arena, l.route_ids, 0);
	}
	if (!ex->x || !ex->xb || !ex->xb2 || !ex->q || !ex->hb || !ex->hb2 ||
	    !ex->xq || !ex->xqk || !ex->xq_ff || !ex->att || !ex->rope_cs || !ex->k ||
	    !ex->v || !ex->logits || !ex->item ||
	    (m->cfg.n_expert && (!ex->router || !ex->route_ids ||
				 !ex->route_w || !ex->moe_out || !ex->gx ||
				 !ex->gxq || !ex->gxqk || !ex->gtok))) {
		llm_arena_rewind(arena, mark);
		memset(ex, 0, sizeof(*ex));
		return -ENOMEM;
	}
	return 0;
}

/* ---- FPU sections of bounded work ---- */

struct budget {
	u64 cap, left;
	bool on;
};

/* Open a section for @cost more work, closing the last one if it is full. */
static void spend(struct budget *b, u64 cost)
{
	if (b->on && cost <= b->left) {
		b->left -= cost;
		return;
	}
	if (b->on) {
		llm_fpu_end();
		llm_yield();
	}
	llm_fpu_begin();
	b->on = true;
	b->left = b->cap - min(cost, b->cap);
}

static void close_section(struct budget *b)
{
	if (b->on)
		llm_fpu_end();
	b->on = false;
}

/* ---- matrix jobs ---- */

enum post_op {
	POST_NONE,
	POST_ADD,	/* add the tile into the residual stream */
	POST_SWIGLU,	/* y = silu(y) * y2 */
	POST_GELU,	/* y = gelu(y) */
};

struct mm_part {
	const struct llm_weight *w, *w2;
	const struct llm_weight *bias;	/* added to y first, or NULL */
	struct llm_mm mm, mm2;
	u32 post;		/* enum post_op */
	float *add_to;		/* POST_ADD: x, n_embd per token */
	u64 rows_per_task;
	u32 tok_per_task;
	u32 n_rtasks, n_ttasks, first;
};

struct mm_job {
	const struct llm_model *m;
	u64 cap;			/* multiply-adds per task */
	u64 split;			/* ... and at least, to use threads */
	struct mm_part part[3];
	u32 n_parts, n_tasks;
};

/* Row and token ranges so that a task does at most the budget's work. */
static void plan_part(struct mm_job *j, struct mm_part *p, u32 n_tok,
		      u32 workers)
{
	u64 per = p->w->cols * (p->w2 ? 2 : 1), cap = j->cap;
	u64 rows = p->w->rows, r, want;
	u32 tok = n_tok;

	r = min(cap / (per * tok),
		LLM_TASK_BYTES / (p->w->row_bytes * (p->w2 ? 2 : 1)));
	if (r < ROW_GRAIN) {
		r = ROW_GRAIN;
		tok = clamp_t(u64, cap / (per * ROW_GRAIN), 1, n_tok);
	}
	r = r / ROW_GRAIN * ROW_GRAIN;
	/*
	 * two tasks per thread at least, for balance, when rows allow and
	 * a task keeps j->split multiply-adds
	 */
	want = LLM_ALIGN_UP((rows + 2 * workers - 1) / (2 * workers),
			    (u64)ROW_GRAIN);
	want = max(want, LLM_ALIGN_UP(j->split / (per * tok) + 1,
				      (u64)ROW_GRAIN));
	if (workers > 1 && r > want)
		r = want;
	p->rows_per_task = r;
	p->tok_per_task = tok;
	p->n_rtasks = (rows + r - 1) / r;
	p->n_ttasks = (n_tok + tok - 1) / tok;
	p->first = j->n_tasks;
	j->n_tasks += p->n_rtasks * p->n_ttasks;
}

/* A tile's view of @mm for tokens [t0, t1). */
static struct llm_mm sub_mm(const struct llm_mm *mm, u32 t0, u32 t1)
{
	struct llm_mm s = *mm;

	s.x = (const u8 *)mm->x + t0 * mm->x_stride;
	s.y = mm->y + t0 * mm->y_stride;
	s.n_tok = t1 - t0;
	return s;
}

static void mm_task(void *arg, u32 task, u32 worker)
{
	struct mm_job *j = arg;
	const struct llm_model *m = j->m;
	const struct mm_part *p = j->part;
	struct llm_mm a, b;
	u64 r0, r1;
	u32 t0, t1, i, t;

	while (task >= p->first + p->n_rtasks * p->n_ttasks)
		p++;
	i = task - p->first;
	r0 = (i % p->n_rtasks) * p->rows_per_task;
	r1 = min(r0 + p->rows_per_task, p->w->rows);
	t0 = (i / p->n_rtasks) * p->tok_per_task;
	t1 = min(t0 + p->tok_per_task, p->mm.n_tok);
	a = sub_mm(&p->mm, t0, t1);

	llm_fpu_begin();
	llm_fwd_mm(m, p->w->type, &a, r0, r1);
	if (p->w2) {
		b = sub_mm(&p->mm2, t0, t1);
		llm_fwd_mm(m, p->w2->type, &b, r0, r1);
	}
	for (t = t0; t < t1; t++) {
		float *y = p->mm.y + t * p->mm.y_stride;

		if (p->bias)
			llm_fwd_add_bias(y, p->bias, r0, r1);
		if (p->post == POST_GELU)
			llm_fwd_gelu(y, r0, r1);
		if (p->post == POST_ADD)
			llm_fwd_add(p->add_to + t * p->mm.y_stride + r0,
				    y + r0, r1 - r0);
		if (p->post == POST_SWIGLU)
			llm_fwd_swiglu(m, y, p->mm2.y + t * p->mm2.y_stride,
				       r0, r1);
	}
	llm_fpu_end();
}

/* The activations @w reads: floats, or their quantized form. */
static void set_x(struct llm_mm *mm, const struct llm_weight *w,
		  const struct acts *a)
{
	u32 family = llm_act_family(w->type);

	mm->w = w->data;
	mm->rows = w->rows;
	mm->row_bytes = w->row_bytes;
	mm->cols = w->cols;
	mm->layout = w->layout;
	if (family) {
		mm->x = family == LLM_ACT_K ? a->k : a->q8;
		mm->x_stride = q8_row_bytes(w->cols);
	} else {
		mm->x = a->f;
		mm->x_stride = w->cols * sizeof(float);
	}
}

static struct mm_part *add_part(struct mm_job *j, const struct llm_weight *w,
				const struct acts *a, float *y,
				u64 y_stride, u32 n_tok)
{
	struct mm_part *p = &j->part[j->n_parts++];

	memset(p, 0, sizeof(*p));
	p->w = w;
	set_x(&p->mm, w, a);
	p->mm.y = y;
	p->mm.y_stride = y_stride;
	p->mm.n_tok = n_tok;
	return p;
}

static void run_job(struct mm_job *j, u32 n_tok, u32 workers)
{
	u32 i;

	j->n_tasks = 0;
	for (i = 0; i < j->n_parts; i++)
		plan_part(j, &j->part[i], n_tok, workers);
	llm_parallel_for(j->n_tasks, workers, mm_task, j);
}

/* ---- attention ---- */

/*
 * Attention's budget per section: a quarter of the matrix tiles', since
 * its madds stream a key or value row each (no reuse) and its exps cost
 * more than madds: 512 Ki with the SIMD kernels, 64 Ki with the scalar
 * ones (measured with scalar attention: 256 Ki took up to 1.7 ms).
 */
static u64 attn_cap(const struct llm_exec *ex)
{
	return max_t(u64, ex->task_macs / 4, 1);
}

/* End of the range of at most @step positions from @p within its page. */
static u32 chunk_end(u32 p, u32 step)
{
	u32 page_end = (p / LLM_KV_PAGE + 1) * LLM_KV_PAGE;

	return min(p + step, page_end);
}

struct attn_job {
	struct llm_exec *ex;
	u32 layer, heads_per_task, n_groups;
};

static void attn_task(void *arg, u32 task, u32 worker)
{
	const struct attn_job *j = arg;
	struct llm_exec *ex = j->ex;
	const struct llm_model *m = ex->m;
	const struct llm_config *cfg = &m->cfg;
	u32 hd = cfg->head_dim, group = cfg->n_heads / cfg->n_kv_heads;
	u32 t = task / j->n_groups, h0 = (task % j->n_groups) *
		j->heads_per_task;
	u32 h1 = min(h0 + j->heads_per_task, cfg->n_heads);
	const struct llm_item *it = &ex->item[t];
	const struct llm_ctx *c = it->c;
	u32 n_pos = it->pos + 1, step, h, p, e;
	float *att = ex->att + (u64)worker * (ex->n_ctx + 2);
	float *st = att + ex->n_ctx;
	struct budget b = { .cap = attn_cap(ex) };

	/* positions per section (a score or a value row is hd madds) */
	step = clamp_t(u64, b.cap / hd, 1, LLM_KV_PAGE);
	for (h = h0; h < h1; h++) {
		const float *q = ex->q + (u64)t * cfg->q_dim + h * hd;
		float *out = ex->xb + (u64)t * cfg->q_dim + h * hd;
		u32 kvo = (h / group) * hd;

		/* ranges never cross a page: rows are contiguous in one */
		for (p = 0; p < n_pos; p = e) {
			e = min(chunk_end(p, step), n_pos);
			spend(&b, (u64)(e - p) * hd);
			llm_fwd_attn_scores(m, q, c->kv->type,
					    llm_kv_k(c, j->layer, p, kvo),
					    att, st, p, e);
		}
		/* an exp: some 64 madds in the reference (fmath.h), less in SIMD */
		for (p = 0; p < n_pos; p = e) {
			e = min_t(u64, p + b.cap / 64 + 1, n_pos);
			spend(&b, (u64)(e - p) * 64);
			llm_fwd_attn_exp(m, att, st, p, e);
		}
		for (p = 0; p < n_pos; p = e) {
			e = min(chunk_end(p, step), n_pos);
			spend(&b, (u64)(e - p) * hd);
			llm_fwd_attn_values(m, att, st, c->kv->type,
					    llm_kv_v(c, j->layer, p, kvo),
					    out, p, e);
		}
	}
	close_section(&b);
}

static void attention(struct llm_exec *ex, u32 layer, u32 n, u32 workers)
{
	const struct llm_config *cfg = &ex->m->cfg;
	struct attn_job j = { .ex = ex, .layer = layer };
	u32 longest = 0, t, per;
	u64 cost;

	for (t = 0; t < n; t++)
		longest = max(longest, ex->item[t].pos + 1);
	/* size groups of heads by the longest context in the step */
	cost = (u64)longest * (2 * cfg->head_dim + 64);
	j.heads_per_task = clamp_t(u64, attn_cap(ex) / cost, 1,
				   cfg->n_heads);
	/* one token: groups for every thread, if each keeps split_macs */
	per = (cfg->n_heads + workers - 1) / workers;
	if (workers > 1 && n == 1 && cost * per >= ex->split_macs)
		j.heads_per_task = min(j.heads_per_task, per);
	j.n_groups = (cfg->n_heads + j.heads_per_task - 1) / j.heads_per_task;
	llm_parallel_for(n * j.n_groups, workers, attn_task, &j);
}

/* ---- the step ---- */

static u32 step_workers(const struct llm_exec *ex)
{
	return min(ex->n_workers, llm_pool_size());
}

/* xb and its quantized forms, as one input (struct acts). */
static struct acts xb_acts(const struct llm_exec *ex)
{
	return (struct acts){ .f = ex->xb, .q8 = ex->xq, .k = ex->xqk };
}

/*
 * Each token's hidden state normed into xb (by @w, @b: the architecture's
 * norm; or, @w NULL, xb as it is), and xb's forms @mask (act_of()), @width
 * wide.
 */
static void norm_tokens(struct llm_exec *ex, u32 n,
			const struct llm_weight *w, const struct llm_weight *b,
			u32 mask, u32 width)
{
	const struct llm_model *m = ex->m;
	struct acts a = xb_acts(ex);
	u32 d = m->cfg.n_embd, t;

	for (t = 0; t < n; t++) {
		llm_fpu_begin();
		if (w)
			llm_fwd_norm(m, ex->xb + (u64)t * width,
				     ex->x + (u64)t * d, w, b, d);
		quantize_act(m, mask, &a, t, width);
		llm_fpu_end();
	}
}

/*
 * Per-head norms of this step's queries and keys and their RoPE, as the
 * architecture has them, then K and V into each cache.
 */
static void rope_and_store(struct llm_exec *ex, u32 l, u32 n)
{
	const struct llm_model *m = ex->m;
	const struct llm_config *cfg = &m->cfg;
	const struct llm_layer *L = &m->layers[l];
	u32 t;

	for (t = 0; t < n; t++) {
		const struct llm_item *it = &ex->item[t];
		const struct llm_kv *kv = it->c->kv;
		const float *cs = ex->rope_cs + (u64)t * cfg->n_rot;
		float *q = ex->q + (u64)t * cfg->q_dim;
		float *k = ex->k + (u64)t * cfg->kv_dim;

		llm_fpu_begin();
		if (L->q_norm.data) {
			llm_fwd_head_norm(m, q, cfg->n_heads, &L->q_norm);
			llm_fwd_head_norm(m, k, cfg->n_kv_heads, &L->k_norm);
		}
		if (cfg->n_rot) {
			llm_fwd_rope(m, q, cfg->n_heads, cs);
			llm_fwd_rope(m, k, cfg->n_kv_heads, cs);
		}
		llm_fwd_kv_store(kv->type, llm_kv_k(it->c, l, it->pos, 0), k,
				 cfg->kv_dim);
		llm_fwd_kv_store(kv->type, llm_kv_v(it->c, l, it->pos, 0),
				 ex->v + (u64)t * cfg->kv_dim, cfg->kv_dim);
		llm_fpu_end();
	}
}

/* hb and its quantized form (one reader: one buffer), @width wide. */
static struct acts hb_acts(const struct llm_exec *ex)
{
	return (struct acts){ .f = ex->hb, .q8 = ex->xq_ff, .k = ex->xq_ff };
}

/* hb's @n rows of @width floats in the form @down reads. */
static void quantize_hb(struct llm_exec *ex, const struct llm_weight *down,
			u32 n, u32 width)
{
	struct acts a = hb_acts(ex);
	u32 t;

	if (!wants_q8(down))
		return;
	for (t = 0; t < n; t++) {
		llm_fpu_begin();
		quantize_act(ex->m, act_of(down, NULL, NULL), &a, t, width);
		llm_fpu_end();
	}
}

/*
 * hb = silu(@gate x) * (@up x) for the @n tokens of input @in, @width
 * wide; then hb's form for @down.
 */
static void swiglu(struct llm_exec *ex, const struct llm_weight *gate,
		   const struct llm_weight *up, const struct llm_weight *down,
		   const struct acts *in, u32 n, u32 width, u32 workers)
{
	struct mm_job j = { .m = ex->m, .cap = ex->task_macs,
			    .split = ex->split_macs };
	struct mm_part *p;

	p = add_part(&j, gate, in, ex->hb, width, n);
	p->w2 = up;
	set_x(&p->mm2, up, in);
	p->mm2.y = ex->hb2;
	p->mm2.y_stride = width;
	p->mm2.n_tok = n;
	p->post = POST_SWIGLU;
	run_job(&j, n, workers);
	quantize_hb(ex, down, n, width);
}

/*
 * The experts: the router picks n_expert_used per token; each expert runs
 * on the tokens that picked it, gathered into gx/gxq/gxqk; each choice's
 * output lands in moe_out, and each token adds them, weighted, in the
 * router's order (as llama.cpp sums them) into its residual.
 */
static void moe(struct llm_exec *ex, const struct llm_layer *L, u32 n,
		u32 workers)
{
	const struct llm_model *m = ex->m;
	const struct llm_config *c = &m->cfg;
	u32 d = c->n_embd, k = c->n_expert_used, e, t, s, g;
	u64 qb = q8_row_bytes(d);
	struct acts in = xb_acts(ex);
	struct acts gin = { .f = ex->gx, .q8 = ex->gxq, .k = ex->gxqk };
	struct acts h = hb_acts(ex);
	struct mm_job j = { .m = m, .cap = ex->task_macs,
			    .split = ex->split_macs };

	add_part(&j, &L->gate_inp, &in, ex->router, c->n_expert, n);
	run_job(&j, n, workers);
	for (t = 0; t < n; t++) {
		llm_fpu_begin();
		llm_fwd_route(m, ex->router + (u64)t * c->n_expert,
			      ex->route_ids + t * k, ex->route_w + t * k);
		llm_fpu_end();
	}
	for (e = 0; e < c->n_expert; e++) {
		/* the choices naming e: token t's slot s as t * k + s */
		for (g = 0, t = 0; t < n * k; t++) {
			u32 tok = t / k;

			if (ex->route_ids[t] != e)
				continue;
			ex->gtok[g] = t;
			memcpy(ex->gx + (u64)g * d, ex->xb + (u64)tok * d,
			       d * sizeof(float));
			memcpy((u8 *)ex->gxq + g * qb, (u8 *)ex->xq + tok * qb,
			       qb);
			memcpy((u8 *)ex->gxqk + g * qb,
			       (u8 *)ex->xqk + tok * qb, qb);
			g++;
		}
		if (!g)
			continue;
		llm_yield();
		swiglu(ex, &L->gate_exps[e], &L->up_exps[e], &L->down_exps[e],
		       &gin, g, c->n_ff_exp, workers);
		j.n_parts = 0;
		add_part(&j, &L->down_exps[e], &h, ex->xb2, d, g);
		run_job(&j, g, workers);
		for (t = 0; t < g; t++)
			memcpy(ex->moe_out + (u64)ex->gtok[t] * d,
			       ex->xb2 + (u64)t * d, d * sizeof(float));
	}
	for (t = 0; t < n; t++) {
		float *acc = ex->xb2 + (u64)t * d;

		llm_fpu_begin();
		for (s = 0; s < k; s++)
			llm_fwd_scale_add(acc, ex->moe_out + ((u64)t * k + s) * d,
					  &ex->route_w[t * k + s], !s, d);
		llm_fwd_add(ex->x + (u64)t * d, acc, d);
		llm_fpu_end();
	}
}

static void layer(struct llm_exec *ex, u32 l, u32 n, u32 workers)
{
	const struct llm_model *m = ex->m;
	const struct llm_config *cfg = &m->cfg;
	const struct llm_layer *L = &m->layers[l];
	u32 d = cfg->n_embd, ffn = cfg->arch->ffn;
	struct acts in = xb_acts(ex), h = hb_acts(ex);
	struct mm_job j = { .m = m, .cap = ex->task_macs,
			      .split = ex->split_macs };
	struct mm_part *p;

	/* attention block */
	norm_tokens(ex, n, &L->attn_norm, &L->attn_norm_b,
		    act_of(&L->wq, &L->wk, &L->wv), d);
	p = add_part(&j, &L->wq, &in, ex->q, cfg->q_dim, n);
	p->bias = L->bq.data ? &L->bq : NULL;
	p = add_part(&j, &L->wk, &in, ex->k, cfg->kv_dim, n);
	p->bias = L->bk.data ? &L->bk : NULL;
	p = add_part(&j, &L->wv, &in, ex->v, cfg->kv_dim, n);
	p->bias = L->bv.data ? &L->bv : NULL;
	run_job(&j, n, workers);
	rope_and_store(ex, l, n);
	attention(ex, l, n, workers);
	norm_tokens(ex, n, NULL, NULL, act_of(&L->wo, NULL, NULL), cfg->q_dim);
	j.n_parts = 0;
	p = add_part(&j, &L->wo, &in, ex->xb2, d, n);
	p->bias = L->bo.data ? &L->bo : NULL;
	p->post = POST_ADD;
	p->add_to = ex->x;
	run_job(&j, n, workers);

	/* feed-forward block */
	if (ffn == LLM_FFN_MOE) {
		norm_tokens(ex, n, &L->ffn_norm, NULL,
			    act_of(&L->gate_inp, &L->gate_exps[0],
				   &L->up_exps[0]), d);
		moe(ex, L, n, workers);
		return;
	}
	if (ffn == LLM_FFN_SWIGLU) {
		norm_tokens(ex, n, &L->ffn_norm, NULL,
			    act_of(&L->gate, &L->up, NULL), d);
		swiglu(ex, &L->gate, &L->up, &L->down, &in, n, cfg->n_ff,
		       workers);
	} else {
		/* GELU: up (+ bias), GELU, down (+ bias) */
		norm_tokens(ex, n, &L->ffn_norm, &L->ffn_norm_b,
			    act_of(&L->up, NULL, NULL), d);
		j.n_parts = 0;
		p = add_part(&j, &L->up, &in, ex->hb, cfg->n_ff, n);
		p->bias = &L->b_up;
		p->post = POST_GELU;
		run_job(&j, n, workers);
		quantize_hb(ex, &L->down, n, cfg->n_ff);
	}
	j.n_parts = 0;
	p = add_part(&j, &L->down, &h, ex->xb2, d, n);
	p->bias = L->b_down.data ? &L->b_down : NULL;
	p->post = POST_ADD;
	p->add_to = ex->x;
	run_job(&j, n, workers);
}

static void embed(struct llm_exec *ex, u32 n)
{
	const struct llm_model *m = ex->m;
	u32 d = m->cfg.n_embd, t;

	for (t = 0; t < n; t++) {
		llm_fpu_begin();
		llm_fwd_embed(m, ex->item[t].token, ex->x + (u64)t * d);
		if (m->pos_embd.data)
			llm_fwd_add_pos(m, ex->item[t].pos, ex->x + (u64)t * d,
					ex->xb + (u64)t * d);
		llm_fpu_end();
	}
}

static int layers(struct llm_exec *ex, u32 n, u32 first, u32 last,
		  bool (*cancelled)(void *arg), void *arg)
{
	const struct llm_model *m = ex->m;
	u32 workers = step_workers(ex), t, l;

	/* one RoPE table for the step, shared by every layer */
	for (t = 0; t < n && m->cfg.n_rot; t++) {
		llm_fpu_begin();
		llm_fwd_rope_table(m, ex->item[t].pos,
				   ex->rope_cs + (u64)t * m->cfg.n_rot);
		llm_fpu_end();
	}
	for (l = first; l < last; l++) {
		llm_yield();
		if (cancelled && cancelled(arg))
			return -EINTR;
		layer(ex, l, n, workers);
	}
	return 0;
}

/*
 * The classifier for every item that wants logits, up to LLM_EXEC_LOGITS
 * rows per pass (a single row goes straight to its context).
 */
static void logits(struct llm_exec *ex, u32 n)
{
	const struct llm_model *m = ex->m;
	u32 d = m->cfg.n_embd, nv = m->cfg.n_vocab, t = 0, g, i;
	u32 rows[LLM_EXEC_LOGITS];
	u32 q = act_of(&m->output, NULL, NULL);
	struct acts in = xb_acts(ex);

	while (t < n) {
		struct mm_job j = { .m = m, .cap = ex->task_macs,
				    .split = ex->split_macs };
		float *y;

		for (g = 0; t < n && g < LLM_EXEC_LOGITS; t++) {
			if (!ex->item[t].logits)
				continue;
			llm_fpu_begin();
			llm_fwd_norm(m, ex->xb + (u64)g * d, ex->x + (u64)t * d,
				     &m->output_norm, &m->output_norm_b, d);
			quantize_act(m, q, &in, g, d);
			llm_fpu_end();
			rows[g++] = t;
		}
		if (!g)
			break;
		y = g == 1 ? ex->item[rows[0]].c->logits : ex->logits;
		add_part(&j, &m->output, &in, y, nv, g);
		run_job(&j, g, step_workers(ex));
		if (g == 1)
			continue;
		for (i = 0; i < g; i++)
			memcpy(ex->item[rows[i]].c->logits,
			       ex->logits + (u64)i * nv, nv * sizeof(float));
	}
}

/* Positions a model can take: learned ones end with their table. */
static u32 max_pos(const struct llm_model *m)
{
	return m->pos_embd.data || (m->cfg.arch->flags & LLM_ARCH_POS_EMBD) ?
	       m->cfg.n_ctx_train : U32_MAX;
}

/*
 * Check the step's items: a context's tokens follow its n_past in order,
 * fit in it, and its model is the executor's.
 */
static int check_items(struct llm_exec *ex, u32 n)
{
	u32 t, u;

	if (!n || n > ex->n_batch)
		return -EINVAL;
	for (t = 0; t < n; t++) {
		struct llm_item *it = &ex->item[t];
		u32 pos = it->c->n_past;

		if (it->c->m != ex->m || it->c->n_ctx > ex->n_ctx ||
		    it->token >= ex->m->cfg.n_vocab)
			return -EINVAL;
		for (u = 0; u < t; u++)
			pos += ex->item[u].c == it->c;
		if (pos >= it->c->n_ctx || pos >= max_pos(ex->m))
			return -ENOSPC;
		it->pos = pos;
	}
	/* room in the KV pool for every position (pages stay mapped) */
	for (t = 0; t < n; t++)
		if (llm_kv_reserve(ex->item[t].c, ex->item[t].pos + 1))
			return -ENOSPC;
	return 0;
}

static void commit_items(struct llm_exec *ex, u32 n)
{
	u32 t;

	for (t = 0; t < n; t++) {
		struct llm_item *it = &ex->item[t];

		it->c->tokens[it->pos] = it->token;
		it->c->n_past = it->pos + 1;
	}
}

static int run_step(struct llm_exec *ex, u32 n, bool (*cancelled)(void *),
		    void *arg)
{
	int ret;

	/* a ring node's share runs as stages only */
	if (!llm_model_whole(ex->m))
		return -EINVAL;
	ret = check_items(ex, n);
	if (ret)
		return ret;
	embed(ex, n);
	ret = layers(ex, n, 0, ex->m->cfg.n_layers, cancelled, arg);
	if (ret)
		return ret;
	llm_yield();
	logits(ex, n);
	commit_items(ex, n);
	return 0;
}

int llm_exec_run(struct llm_exec *ex, const struct llm_feed *f, u32 n_feeds,
		 bool (*cancelled)(void *arg), void *arg)
{
	u32 i, t, n = 0;

	for (i = 0; i < n_feeds; i++) {
		if (!f[i].n || f[i].n > ex->n_batch - n)
			return -EINVAL;
		for (t = 0; t < f[i].n; t++, n++) {
			ex->item[n].c = f[i].c;
			ex->item[n].token = f[i].tokens[t];
			ex->item[n].logits = f[i].logits && t == f[i].n - 1;
		}
	}
	return run_step(ex, n, cancelled, arg);
}

int llm_exec_forward(struct llm_ctx *c, const u32 *tokens, u32 n,
		     bool want_logits, bool (*cancelled)(void *arg), void *arg)
{
	struct llm_feed f = {
		.c = c, .tokens = tokens, .n = n, .logits = want_logits,
	};

	return llm_exec_run(c->ex, &f, 1, cancelled, arg);
}

int llm_exec_stage(const struct llm_stage *s, bool (*cancelled)(void *arg),
		   void *arg)
{
	struct llm_ctx *c = s->c;
	struct llm_exec *ex = c->ex;
	u32 t, n = s->n;
	int ret;

	if (!n || n > ex->n_batch || s->first > s->last ||
	    s->first < c->m->layer_first || s->last > c->m->layer_end ||
	    c->m != ex->m ||
	    c->n_ctx > ex->n_ctx)
		return -EINVAL;
	/* tokens enter at layer 0, logits leave after the last */
	if ((s->tokens && s->first) ||
	    (s->logits && s->last != c->m->cfg.n_layers))
		return -EINVAL;
	if (s->pos > c->n_past)
		return -ERANGE;
	if (s->pos + n > c->n_ctx || s->pos + n > max_pos(c->m))
		return -ENOSPC;
	for (t = 0; t < n; t++) {
		struct llm_item *it = &ex->item[t];

		it->c = c;
		it->token = s->tokens ? s->tokens[t] : 0;
		if (it->token >= c->m->cfg.n_vocab)
			return -EINVAL;
		it->pos = s->pos + t;
		it->logits = s->logits && t == n - 1;
	}
	if (llm_kv_reserve(c, s->pos + n))
		return -ENOSPC;
	if (s->tokens)
		embed(ex, n);
	ret = layers(ex, n, s->first, s->last, cancelled, arg);
	if (ret)
		return ret;
	if (s->logits) {
		llm_yield();
		logits(ex, n);
	}
	if (s->commit) {
		for (t = 0; t < n; t++)
			if (s->tokens)
				c->tokens[s->pos + t] = s->tokens[t];
		c->n_past = s->pos + n;
	}
	return 0;
}

int llm_ctx_commit(struct llm_ctx *c, u32 pos, const u32 *tokens, u32 n)
{
	u32 t;

	if (pos > c->n_past)
		return -ERANGE;
	if (n > c->n_ctx - pos ||
	    (u64)pos + n > (u64)c->n_pages * LLM_KV_PAGE)
		return -ENOSPC;
	if (tokens)
		for (t = 0; t < n; t++)
			c->tokens[pos + t] = tokens[t];
	c->n_past = pos + n;
	return 0;
}
