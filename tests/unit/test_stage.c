// SPDX-License-Identifier: GPL-2.0
/*
 * The network ring's stages (llm_exec_stage(), llm/core/exec.h), emulated
 * in one process.  Each node has an executor, a KV pool and a context of
 * its own on the same model, as separate machines would (the weights are
 * the only thing they share, read-only); a frame of hidden states goes
 * from one node's executor to the next one's through a wire buffer.  The
 * head embeds the tokens and runs the first layers with commit false, the
 * middle nodes their layers, the last node its layers and the logits,
 * then samples with the request's sampling and RNG state and answers; on
 * the answer the head commits (llm_ctx_commit()).
 *
 * Each ring generation is checked, bitwise, against llm_generate() on a
 * single node: the tokens, the logits every token was sampled from, and
 * every node's n_past and the K/V of its layers.  Then retries (a stage
 * run twice, a frame lost part way), a node asked past its context
 * (-ERANGE, nothing moves), nodes that lost their state and catch up from
 * what they have, an F16 KV cache on every node, and nodes on different
 * numbers of threads, and nodes that each hold only their own layers.
 */
#include <stdlib.h>

#include "check.h"
#include "userctl/runtime.h"
#include "llm/core/exec.h"
#include "llm/core/kv.h"
#include "llm/core/sampler.h"
#include "llm/core/slice.h"

#define N_GEN		48	/* tokens generated */
#define N_CTX		256	/* positions of every context */
#define MAX_PROMPT	1024	/* prompt bytes */
#define BATCH		32	/* every executor's n_batch (the runtime's) */
#define MAX_NODES	3
#define MAX_EVENTS	8
#define MAX_TRIES	8	/* attempts the head makes at one step */
#define SEED		0x5eedf00dull

static const char *const models[] = {
	"stories260K.gguf", "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf",
};

static const char *const prompts[] = {
	"Once upon a time",
	"Tom had a red ball",
	/* 54 tokens: two batches of 32, five of 13 */
	"Lily and Ben went to the park with their mom. They saw a big dog "
	"and a little cat under a tree. The dog was happy, but the cat was "
	"sad because",
};

/* Greedy; temperature 0.8, top-k 40, top-p 0.9 with a fixed seed. */
static const struct llm_sampling samplings[] = {
	{ .temp_milli = 0 },
	{ .temp_milli = 800, .top_k = 40, .top_p_milli = 900 },
};
static const char *const sampling_names[] = { "greedy", "seeded" };

/* Layers per node; each sums to stories260K's five. */
struct split {
	u32 n_nodes;
	u32 layers[MAX_NODES];
};

static const struct split splits[] = {
	{ 2, { 1, 4 } }, { 2, { 3, 2 } }, { 2, { 4, 1 } },
	{ 3, { 1, 1, 3 } }, { 3, { 2, 2, 1 } }, { 3, { 3, 1, 1 } },
};

/* What a generation gave: its tokens and the logits each came from. */
struct trace {
	u32 tok[N_GEN];
	u32 n;
	float *logits;		/* N_GEN rows of n_vocab */
	u32 n_logits;
	u32 n_vocab;
};

static int trace_init(struct trace *tr, u32 n_vocab)
{
	memset(tr, 0, sizeof(*tr));
	tr->n_vocab = n_vocab;
	tr->logits = calloc((size_t)N_GEN * n_vocab, sizeof(float));
	return tr->logits ? 0 : -ENOMEM;
}

static void trace_clear(struct trace *tr)
{
	tr->n = 0;
	tr->n_logits = 0;
}

static void trace_logits(struct trace *tr, const float *logits)
{
	if (tr->n_logits < N_GEN)
		memcpy(tr->logits + (size_t)tr->n_logits++ * tr->n_vocab,
		       logits, tr->n_vocab * sizeof(float));
}

/* ---- the single node: llm_generate() ---- */

static void on_token(void *arg, u32 t)
{
	struct trace *tr = arg;

	if (tr->n < N_GEN)
		tr->tok[tr->n++] = t;
}

/* The default step, keeping the logits the sampler is about to read. */
static int ref_forward(void *arg, struct llm_ctx *c, const u32 *tokens,
		       u32 n, bool logits)
{
	int ret = llm_exec_forward(c, tokens, n, logits, NULL, NULL);

	if (!ret && logits)
		trace_logits(arg, c->logits);
	return ret;
}

static int reference(struct llm_runtime *rt, const char *prompt,
		     const struct llm_sampling *s, struct trace *tr)
{
	struct llm_request r;
	int ret;

	memset(&r, 0, sizeof(r));
	r.prompt = prompt;
	r.prompt_len = strlen(prompt);
	r.max_tokens = N_GEN;
	r.max_prompt_tokens = N_CTX;
	r.sampling = *s;
	r.seed = SEED;
	r.on_token = on_token;
	r.forward = ref_forward;
	r.arg = tr;
	trace_clear(tr);
	llm_ctx_reset(&rt->ctx);
	ret = llm_generate(&rt->ctx, &r);
	if (ret)
		return ret;
	if (r.stop_reason != LLM_STOP_MAX_TOKENS &&
	    r.stop_reason != LLM_STOP_EOS)
		return -EIO;
	return 0;
}

/* ---- the ring ---- */

/* The model's file, while every node holds only its share (slice.h). */
static const u8 *sliced_file;
static size_t sliced_len;

struct node {
	void *mem;
	struct llm_arena arena;
	/* with a sliced ring: its own model, from its share of the file */
	struct llm_model own;
	u8 *slice;
	struct llm_exec ex;
	struct llm_kv kv;
	struct llm_ctx c;
	u32 first, last;	/* its layers */
	u32 cancel_in;		/* say "cancelled" at this poll (0: never) */
};

/* Something that happens before the first step at or past @pos. */
enum { EV_RESET = 1, EV_CANCEL };

struct event {
	u32 pos;
	u32 node;
	u32 kind;
	u32 arg;		/* EV_CANCEL: node's cancel_in */
	bool done;
};

struct ring {
	const struct llm_model *m;
	struct node node[MAX_NODES];
	u32 n_nodes;
	u32 batch;		/* prompt (and catch-up) tokens a step carries */
	u32 d;			/* n_embd */
	float *wire;		/* a frame: batch rows of n_embd */
	/* with @twice every stage runs twice, and must give the same bits */
	bool twice;
	float *in, *out, *logits;
	u32 n_twice;		/* stages compared */
	struct event ev[MAX_EVENTS];
	u32 n_ev;
	/* what happened */
	u32 have[16];		/* n_past of the nodes that said -ERANGE */
	u32 n_have;
	u32 lost;		/* attempts a node cancelled part way */
	u32 steps;		/* steps answered */
};

static bool poll_cancel(void *arg)
{
	struct node *nd = arg;

	return nd->cancel_in && !--nd->cancel_in;
}

static void ring_close(struct ring *rg)
{
	u32 i;

	for (i = 0; i < MAX_NODES; i++) {
		free(rg->node[i].mem);
		free(rg->node[i].slice);
	}
	free(rg->wire);
	free(rg->in);
	free(rg->out);
	free(rg->logits);
	memset(rg, 0, sizeof(*rg));
}

/*
 * Node @nd's own model of layers [first, last): its slice of the file,
 * bound and repacked in its arena as the kernel does it.
 */
static int own_model(struct ring *rg, struct node *nd, u32 first, u32 last)
{
	size_t mark = llm_arena_mark(&nd->arena);
	struct llm_gguf g;
	struct llm_slice s;
	char err[256];
	int ret;

	ret = llm_gguf_parse_prefix(&g, sliced_file, sliced_len, sliced_len,
				    &nd->arena, err, sizeof(err));
	if (!ret)
		ret = llm_slice_plan(&s, &g, first, last, &nd->arena, err,
				     sizeof(err));
	if (!ret) {
		nd->slice = calloc(1, s.len);
		ret = nd->slice ? 0 : -ENOMEM;
	}
	if (ret)
		return ret;
	llm_slice_write_head(&s, nd->slice);
	llm_slice_copy(&s, sliced_file, nd->slice);
	llm_arena_rewind(&nd->arena, mark);
	ret = llm_model_load_layers(&nd->own, nd->slice, s.len, first, last,
				    &nd->arena, false, err, sizeof(err));
	if (!ret)
		ret = llm_model_repack(&nd->own, &nd->arena);
	if (ret)
		check_fail(__FILE__, __LINE__, "node [%u, %u): %d %s", first,
			   last, ret, err);
	return ret;
}

/*
 * A ring over @m split as @sp, every node with a @kv_type KV pool; with
 * sliced_file set, every node on its own model of its layers.
 */
static int ring_open(struct ring *rg, const struct llm_model *m,
		     const struct split *sp, u32 kv_type, u32 batch)
{
	u32 i, first = 0;
	int ret;

	memset(rg, 0, sizeof(*rg));
	rg->m = m;
	rg->n_nodes = sp->n_nodes;
	rg->batch = batch;
	rg->d = m->cfg.n_embd;
	rg->wire = calloc((size_t)BATCH * rg->d, sizeof(float));
	rg->in = calloc((size_t)BATCH * rg->d, sizeof(float));
	rg->out = calloc((size_t)BATCH * rg->d, sizeof(float));
	rg->logits = calloc(m->cfg.n_vocab, sizeof(float));
	if (!rg->wire || !rg->in || !rg->out || !rg->logits)
		goto nomem;
	for (i = 0; i < sp->n_nodes; i++) {
		struct node *nd = &rg->node[i];
		const struct llm_model *nm = m;
		u64 bytes = llm_exec_bytes(m, BATCH, llm_pool_size(), N_CTX) +
			    llm_kv_bytes(m, kv_type, N_CTX) +
			    llm_ctx_bytes(m, N_CTX, MAX_PROMPT) +
			    (sliced_file ? sliced_len + (4u << 20) : 0);

		nd->mem = malloc(bytes);
		if (!nd->mem)
			goto nomem;
		llm_arena_init(&nd->arena, nd->mem, bytes);
		nd->first = first;
		nd->last = first + sp->layers[i];
		first = nd->last;
		if (sliced_file) {
			ret = own_model(rg, nd, nd->first, nd->last);
			if (ret) {
				ring_close(rg);
				return ret;
			}
			nm = &nd->own;
		}
		ret = llm_exec_init(&nd->ex, nm, BATCH, llm_pool_size(), N_CTX,
				    &nd->arena);
		if (!ret)
			ret = llm_kv_init(&nd->kv, nm, kv_type, N_CTX,
					  &nd->arena);
		if (!ret)
			ret = llm_ctx_init(&nd->c, nm, N_CTX, MAX_PROMPT,
					   &nd->arena);
		if (ret) {
			ring_close(rg);
			return ret;
		}
		nd->c.ex = &nd->ex;
		nd->c.kv = &nd->kv;
	}
	if (first != m->cfg.n_layers) {
		ring_close(rg);
		return -EINVAL;
	}
	return 0;
nomem:
	ring_close(rg);
	return -ENOMEM;
}

/* One stage twice from the same input: the same bits out both times. */
static int stage_twice(struct ring *rg, struct node *nd,
		       const struct llm_stage *s)
{
	size_t rows = (size_t)s->n * rg->d * sizeof(float);
	size_t nv = rg->m->cfg.n_vocab * sizeof(float);
	u32 past;
	int ret;

	memcpy(rg->in, nd->ex.x, rows);
	ret = llm_exec_stage(s, poll_cancel, nd);
	if (ret)
		return ret;
	past = nd->c.n_past;
	memcpy(rg->out, nd->ex.x, rows);
	if (s->logits)
		memcpy(rg->logits, nd->c.logits, nv);
	/* garbage where the result goes, so that a stale one shows */
	memset(nd->ex.x, 0x7f, (size_t)BATCH * rg->d * sizeof(float));
	memset(nd->c.logits, 0x7f, nv);
	memcpy(nd->ex.x, rg->in, rows);
	ret = llm_exec_stage(s, poll_cancel, nd);
	if (ret)
		return ret;
	if (memcmp(rg->out, nd->ex.x, rows) ||
	    (s->logits && memcmp(rg->logits, nd->c.logits, nv)) ||
	    nd->c.n_past != past) {
		check_fail(__FILE__, __LINE__,
			   "stage [%u, %u) at %u+%u run twice differs",
			   s->first, s->last, s->pos, s->n);
		return -EIO;
	}
	rg->n_twice++;
	return 0;
}

/*
 * Positions [pos, pos + n) through nodes [0, upto): the head from
 * @tokens, with commit false; the others from the frame, committing; the
 * last node's logits with @logits.  0, or the first error (*at: whose).
 * A node that fails must not have moved.
 */
static int ring_step(struct ring *rg, u32 pos, const u32 *tokens, u32 n,
		     bool logits, u32 upto, u32 *at)
{
	size_t rows = (size_t)n * rg->d * sizeof(float);
	u32 i, past;
	int ret;

	for (i = 0; i < upto; i++) {
		struct node *nd = &rg->node[i];
		struct llm_stage s = {
			.c = &nd->c, .pos = pos, .n = n,
			.tokens = i ? NULL : tokens,
			.first = nd->first, .last = nd->last,
			.logits = logits && i == rg->n_nodes - 1,
			.commit = i > 0,
		};

		if (i)
			memcpy(nd->ex.x, rg->wire, rows);
		past = nd->c.n_past;
		ret = rg->twice ? stage_twice(rg, nd, &s) :
				  llm_exec_stage(&s, poll_cancel, nd);
		if (ret) {
			if (ret != -EIO && nd->c.n_past != past) {
				check_fail(__FILE__, __LINE__,
					   "node %u moved from %u to %u on error %d",
					   i, past, nd->c.n_past, ret);
				return -EIO;
			}
			*at = i;
			return ret;
		}
		if (nd->c.n_past != (i ? pos + n : past)) {
			check_fail(__FILE__, __LINE__,
				   "node %u at %u after a stage at %u+%u%s",
				   i, nd->c.n_past, pos, n,
				   i ? "" : " without commit");
			return -EIO;
		}
		memcpy(rg->wire, nd->ex.x, rows);
	}
	return 0;
}

/* Node @to has positions [0, have): send it [have, pos) from the head's. */
static int catch_up(struct ring *rg, u32 to, u32 have, u32 pos)
{
	const u32 *toks = rg->node[0].c.tokens;
	u32 p, n, at;
	int ret;

	for (p = have; p < pos; p += n) {
		n = min(rg->batch, pos - p);
		ret = ring_step(rg, p, toks + p, n, false, to + 1, &at);
		if (ret)
			return ret;
	}
	return 0;
}

static void apply_events(struct ring *rg, u32 pos)
{
	u32 i;

	for (i = 0; i < rg->n_ev; i++) {
		struct event *e = &rg->ev[i];

		if (e->done || pos < e->pos)
			continue;
		e->done = true;
		if (e->kind == EV_RESET)
			llm_ctx_reset(&rg->node[e->node].c);
		else
			rg->node[e->node].cancel_in = e->arg;
	}
}

/*
 * The head sends a step round the ring until it is answered: a node that
 * lost the frame part way (-EINTR) gets it again; one that has only
 * positions [0, have) (-ERANGE) is caught up first.  Then the head
 * commits.
 */
static int ring_send(struct ring *rg, u32 pos, const u32 *tokens, u32 n,
		     bool logits)
{
	struct llm_ctx *head = &rg->node[0].c;
	u32 tries, at = 0;
	int ret = -EIO;

	apply_events(rg, pos);
	for (tries = 0; tries < MAX_TRIES; tries++) {
		ret = ring_step(rg, pos, tokens, n, logits, rg->n_nodes, &at);
		if (!ret || ret == -EIO)
			break;
		if (ret == -EINTR) {
			rg->lost++;
			continue;
		}
		if (ret != -ERANGE || !at)
			return ret;
		if (rg->n_have < ARRAY_SIZE(rg->have))
			rg->have[rg->n_have++] = rg->node[at].c.n_past;
		ret = catch_up(rg, at, rg->node[at].c.n_past, pos);
		if (ret == -EINTR)
			rg->lost++;
		else if (ret)
			return ret;
	}
	if (ret)
		return ret;
	if (head->n_past != pos) {
		check_fail(__FILE__, __LINE__,
			   "the head moved to %u before the answer", head->n_past);
		return -EIO;
	}
	rg->steps++;
	return llm_ctx_commit(head, pos, tokens, n);
}

/* llm_generate()'s loop, the ring doing the steps. */
static int ring_generate(struct ring *rg, const char *prompt,
			 const struct llm_sampling *smp, struct trace *tr)
{
	struct llm_ctx *head = &rg->node[0].c;
	struct llm_ctx *tail = &rg->node[rg->n_nodes - 1].c;
	const struct llm_vocab *v = &rg->m->vocab;
	u32 toks[N_CTX], n_prompt, done, nb, tok, i;
	u64 rng = SEED;
	int ret;

	trace_clear(tr);
	for (i = 0; i < rg->n_nodes; i++) {
		llm_ctx_reset(&rg->node[i].c);
		rg->node[i].cancel_in = 0;
	}
	for (i = 0; i < rg->n_ev; i++)
		rg->ev[i].done = false;
	rg->n_have = rg->lost = rg->steps = rg->n_twice = 0;
	ret = llm_tokenize(v, prompt, strlen(prompt), v->add_bos, toks, N_CTX,
			   head->tok_scratch, head->tok_scratch_bytes);
	if (ret < 0)
		return ret;
	n_prompt = ret;
	for (done = 0; done < n_prompt; done += nb) {
		nb = min(rg->batch, n_prompt - done);
		ret = ring_send(rg, done, toks + done, nb,
				done + nb == n_prompt);
		if (ret)
			return ret;
	}
	for (;;) {
		/* the RNG state goes round with the step and comes back */
		u64 state = rng;

		trace_logits(tr, tail->logits);
		tok = llm_sample(tail, smp, &state);
		rng = state;
		if (tok == v->eos || tok == v->bos)
			break;
		tr->tok[tr->n++] = tok;
		if (tr->n == N_GEN)
			break;
		ret = ring_send(rg, head->n_past, &tok, 1, true);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Why the ring's generation @a is not the single node's @b (NULL: it
 * is): tokens, logits at every sample, and each node's position, tokens
 * (the head's) and K/V of its layers, bitwise.
 */
static const char *differs(const struct ring *rg, const struct llm_ctx *one,
			   const struct trace *a, const struct trace *b,
			   char *why, size_t len)
{
	const struct llm_config *cfg = &rg->m->cfg;
	u32 i, l, p;

	if (a->n != b->n || memcmp(a->tok, b->tok, a->n * sizeof(u32))) {
		for (i = 0; i < a->n && i < b->n && a->tok[i] == b->tok[i]; i++)
			;
		snprintf(why, len, "tokens differ from token %u (%u and %u made)",
			 i, a->n, b->n);
		return why;
	}
	if (a->n_logits != b->n_logits) {
		snprintf(why, len, "%u and %u sets of logits", a->n_logits,
			 b->n_logits);
		return why;
	}
	for (i = 0; i < a->n_logits; i++)
		if (memcmp(a->logits + (size_t)i * a->n_vocab,
			   b->logits + (size_t)i * b->n_vocab,
			   a->n_vocab * sizeof(float))) {
			snprintf(why, len, "logits differ at sample %u", i);
			return why;
		}
	if (memcmp(rg->node[0].c.tokens, one->tokens,
		   one->n_past * sizeof(u32))) {
		snprintf(why, len, "the head's tokens differ");
		return why;
	}
	for (i = 0; i < rg->n_nodes; i++) {
		const struct node *nd = &rg->node[i];
		size_t row = (size_t)cfg->kv_dim * nd->kv.elem;

		if (nd->c.n_past != one->n_past) {
			snprintf(why, len, "node %u at %u, the single node at %u",
				 i, nd->c.n_past, one->n_past);
			return why;
		}
		if (nd->kv.type != one->kv->type) {
			snprintf(why, len, "node %u: another KV type", i);
			return why;
		}
		for (l = nd->first; l < nd->last; l++)
			for (p = 0; p < one->n_past; p++)
				if (memcmp(llm_kv_k(&nd->c, l, p, 0),
					   llm_kv_k(one, l, p, 0), row) ||
				    memcmp(llm_kv_v(&nd->c, l, p, 0),
					   llm_kv_v(one, l, p, 0), row)) {
					snprintf(why, len,
						 "node %u: K/V of layer %u position %u differ",
						 i, l, p);
					return why;
				}
	}
	return NULL;
}

static const char *split_name(const struct split *sp)
{
	static char s[32];
	u32 i, n = 0;

	for (i = 0; i < sp->n_nodes; i++)
		n += snprintf(s + n, sizeof(s) - n, "%s%u", i ? "+" : "",
			      sp->layers[i]);
	return s;
}

static int open_model(struct llm_runtime *rt, const char *name, u32 flags)
{
	const char *path = check_model(name);
	char err[256];
	int ret;

	if (!path) {
		check_fail(__FILE__, __LINE__, "models/%s is missing", name);
		return -ENOENT;
	}
	ret = llm_runtime_open(rt, path, N_CTX, MAX_PROMPT, flags, err,
			       sizeof(err));
	if (ret)
		check_fail(__FILE__, __LINE__, "%s: %s", name, err);
	return ret;
}

/*
 * For one model: every split in @sp, every sampling and every prompt, the
 * ring's generation against the single node's.  @flags: the runtime's
 * (LLM_RT_KV_F16: every node's pool F16 too).  Rings of two nodes feed
 * prompts in batches of 32 as the single node does, of three in batches
 * of 13.  @setup may arm the ring (twice, events) and @after check what
 * happened on it.
 */
static void compare_model(const char *name, u32 flags,
			  const struct split *sp, u32 n_splits,
			  u32 n_prompts,
			  void (*setup)(struct ring *rg),
			  bool (*after)(const struct ring *rg, u32 prompt))
{
	u32 kv_type = flags & LLM_RT_KV_F16 ? LLM_T_F16 : LLM_T_F32;
	struct trace want, got;
	struct llm_runtime rt;
	struct ring rg;
	const char *why;
	char buf[160];
	u32 si, smi, pi;
	int ret;

	if (open_model(&rt, name, flags))
		return;
	if (trace_init(&want, rt.model.cfg.n_vocab) ||
	    trace_init(&got, rt.model.cfg.n_vocab)) {
		check_fail(__FILE__, __LINE__, "out of memory");
		goto out;
	}
	for (smi = 0; smi < ARRAY_SIZE(samplings); smi++)
		for (pi = 0; pi < n_prompts; pi++) {
			ret = reference(&rt, prompts[pi], &samplings[smi],
					&want);
			if (ret || want.n < 8) {
				check_fail(__FILE__, __LINE__,
					   "%s: single node: %d, %u tokens",
					   name, ret, want.n);
				goto out;
			}
			for (si = 0; si < n_splits; si++) {
				ret = ring_open(&rg, &rt.model, &sp[si],
						kv_type, sp[si].n_nodes == 2 ?
						32 : 13);
				if (ret) {
					check_fail(__FILE__, __LINE__,
						   "ring_open: %d", ret);
					goto out;
				}
				if (setup)
					setup(&rg);
				ret = ring_generate(&rg, prompts[pi],
						    &samplings[smi], &got);
				why = ret ? NULL : differs(&rg, &rt.ctx, &got,
							   &want, buf,
							   sizeof(buf));
				if (!ret && !why && after &&
				    !after(&rg, pi))
					why = "the faults did not happen as planned";
				if (ret || why)
					check_fail(__FILE__, __LINE__,
						   "%s, %s KV, split %s, %s, prompt %u: %s%s%d",
						   name, llm_kv_type_name(kv_type),
						   split_name(&sp[si]),
						   sampling_names[smi], pi,
						   why ? why : "",
						   why ? ", " : "ring failed: ",
						   ret);
				ring_close(&rg);
				if (check_failed())
					goto out;
			}
		}
out:
	free(want.logits);
	free(got.logits);
	llm_runtime_close(&rt);
}

/* ---- the tests ---- */

/*
 * 1. F32, Q8_0 and Q4_0; two and three nodes, even and uneven splits;
 * greedy and seeded sampling; three prompts: the single node's tokens,
 * logits and K/V.
 */
static void ring_equals_single_node(void)
{
	u32 i;

	for (i = 0; i < ARRAY_SIZE(models) && !check_failed(); i++)
		compare_model(models[i], 0, splits, ARRAY_SIZE(splits),
			      ARRAY_SIZE(prompts), NULL, NULL);
}

/* 3. An F16 KV cache on every node, against a single node's F16 cache. */
static void f16_kv_ring_equals_single_node(void)
{
	static const struct split sp[] = {
		{ 2, { 3, 2 } }, { 3, { 1, 1, 3 } },
	};
	u32 i;

	for (i = 0; i < ARRAY_SIZE(models) && !check_failed(); i++)
		compare_model(models[i], LLM_RT_KV_F16, sp, ARRAY_SIZE(sp),
			      ARRAY_SIZE(prompts), NULL, NULL);
}

static void arm_twice(struct ring *rg)
{
	rg->twice = true;
}

static bool ran_twice(const struct ring *rg, u32 prompt)
{
	return rg->n_twice == rg->steps * rg->n_nodes && !rg->lost &&
	       !rg->n_have;
}

/*
 * 2a. Every stage of every step (prompt batches and tokens, every node)
 * run twice at the same position, from the same frame: the same hidden
 * states and logits, bitwise, and the generation is still the single
 * node's.
 */
static void stage_twice_same_bits(void)
{
	static const struct split sp[] = {
		{ 2, { 4, 1 } }, { 3, { 2, 2, 1 } },
	};
	u32 i;

	for (i = 0; i < ARRAY_SIZE(models) && !check_failed(); i++)
		compare_model(models[i], 0, sp, ARRAY_SIZE(sp),
			      ARRAY_SIZE(prompts), arm_twice, ran_twice);
}

/* Bytes of a node's state that a refused stage must leave alone. */
struct snapshot {
	u32 n_past, n_pages, pages[N_CTX / LLM_KV_PAGE + 1];
	u8 *kv;			/* its layers' K/V rows, positions in use */
	float *x, *logits;
	u32 *tokens;
};

static int snap(struct snapshot *s, const struct ring *rg, u32 i)
{
	const struct node *nd = &rg->node[i];
	const struct llm_config *cfg = &rg->m->cfg;
	size_t row = (size_t)cfg->kv_dim * nd->kv.elem, o = 0;
	u32 l, p;

	memset(s, 0, sizeof(*s));
	s->n_past = nd->c.n_past;
	s->n_pages = nd->c.n_pages;
	memcpy(s->pages, nd->c.pages, nd->c.n_pages * sizeof(u32));
	s->kv = malloc(2 * (size_t)(nd->last - nd->first) * N_CTX * row + 1);
	s->x = malloc((size_t)BATCH * cfg->n_embd * sizeof(float));
	s->logits = malloc(cfg->n_vocab * sizeof(float));
	s->tokens = malloc(N_CTX * sizeof(u32));
	if (!s->kv || !s->x || !s->logits || !s->tokens)
		return -ENOMEM;
	for (l = nd->first; l < nd->last; l++)
		for (p = 0; p < nd->c.n_past; p++) {
			memcpy(s->kv + o, llm_kv_k(&nd->c, l, p, 0), row);
			memcpy(s->kv + o + row, llm_kv_v(&nd->c, l, p, 0), row);
			o += 2 * row;
		}
	memcpy(s->x, nd->ex.x, (size_t)BATCH * cfg->n_embd * sizeof(float));
	memcpy(s->logits, nd->c.logits, cfg->n_vocab * sizeof(float));
	memcpy(s->tokens, nd->c.tokens, N_CTX * sizeof(u32));
	return 0;
}

static void snap_free(struct snapshot *s)
{
	free(s->kv);
	free(s->x);
	free(s->logits);
	free(s->tokens);
}

static bool unchanged(const struct snapshot *s, const struct ring *rg, u32 i)
{
	struct snapshot now;
	bool same;

	if (snap(&now, rg, i)) {
		snap_free(&now);
		return false;
	}
	same = now.n_past == s->n_past && now.n_pages == s->n_pages &&
	       !memcmp(now.pages, s->pages, s->n_pages * sizeof(u32)) &&
	       !memcmp(now.kv, s->kv, 2 * (size_t)(rg->node[i].last -
						   rg->node[i].first) *
		       s->n_past * rg->m->cfg.kv_dim * rg->node[i].kv.elem) &&
	       !memcmp(now.x, s->x, (size_t)BATCH * rg->d * sizeof(float)) &&
	       !memcmp(now.logits, s->logits,
		       rg->m->cfg.n_vocab * sizeof(float)) &&
	       !memcmp(now.tokens, s->tokens, N_CTX * sizeof(u32));
	snap_free(&now);
	return same;
}

/*
 * 2b. A stage asked for a position past a node's n_past is refused with
 * -ERANGE and nothing of the node moves (position, pages, K/V, frame,
 * logits, tokens): on the head, a middle node and the last; the head's
 * commit past its position likewise.  A stage cancelled part way
 * (-EINTR) leaves the position.  Then the head catches the node up
 * (positions [have, pos) again) and the step gives the single node's
 * logits.
 */
static void past_n_past_is_refused(void)
{
	static const struct split sp = { 3, { 2, 2, 1 } };
	struct trace want, got;
	struct llm_runtime rt;
	struct snapshot s;
	struct ring rg;
	u32 i, pos, at, tok, toks[40];

	memset(&s, 0, sizeof(s));
	memset(&rg, 0, sizeof(rg));
	memset(&want, 0, sizeof(want));
	memset(&got, 0, sizeof(got));
	if (open_model(&rt, models[2], 0))
		return;
	CHECK_EQ(trace_init(&want, rt.model.cfg.n_vocab), 0);
	CHECK_EQ(trace_init(&got, rt.model.cfg.n_vocab), 0);
	CHECK_EQ(reference(&rt, prompts[2], &samplings[1], &want), 0);
	CHECK(want.n == N_GEN);
	CHECK_EQ(ring_open(&rg, &rt.model, &sp, LLM_T_F32, 13), 0);
	CHECK_EQ(ring_generate(&rg, prompts[2], &samplings[1], &got), 0);
	CHECK(!differs(&rg, &rt.ctx, &got, &want, (char[160]){ 0 }, 160));
	pos = rg.node[0].c.n_past;
	tok = want.tok[N_GEN - 1];
	for (i = 0; i < ARRAY_SIZE(toks); i++)
		toks[i] = tok;
	for (i = 0; i < rg.n_nodes; i++) {
		struct node *nd = &rg.node[i];
		struct llm_stage st = {
			.c = &nd->c, .n = 1, .tokens = i ? NULL : toks,
			.first = nd->first, .last = nd->last,
			.logits = i == rg.n_nodes - 1, .commit = true,
		};

		CHECK_EQ(snap(&s, &rg, i), 0);
		st.pos = pos + 1;
		CHECK_EQ(llm_exec_stage(&st, NULL, NULL), -ERANGE);
		st.pos = pos + 20;
		st.n = 3;
		CHECK_EQ(llm_exec_stage(&st, NULL, NULL), -ERANGE);
		CHECK(unchanged(&s, &rg, i));
		if (!i) {
			CHECK_EQ(llm_ctx_commit(&nd->c, pos + 1, toks, 1),
				 -ERANGE);
			/* no stage ran up to pos + 36: no page for it */
			CHECK_EQ(llm_ctx_commit(&nd->c, pos, toks, 36),
				 -ENOSPC);
			CHECK_EQ(llm_ctx_commit(&nd->c, pos, toks,
						N_CTX - pos + 1), -ENOSPC);
			CHECK(unchanged(&s, &rg, i));
		}
		snap_free(&s);
		memset(&s, 0, sizeof(s));
	}

	/*
	 * Node 1 lost its state: the step for the last token (not fed on
	 * the single node) is refused there, the head catches it up, and
	 * the step's logits are the single node's after that token.
	 */
	CHECK_EQ(llm_decode(&rt.ctx, tok, true, NULL, NULL), 0);
	llm_ctx_reset(&rg.node[1].c);
	CHECK_EQ(ring_step(&rg, pos, &tok, 1, true, rg.n_nodes, &at), -ERANGE);
	CHECK_EQ(at, 1);
	CHECK_EQ(rg.node[1].c.n_past, 0);
	CHECK_EQ(rg.node[0].c.n_past, pos);
	/* a catch-up cut part way (before the second layer of its second
	 * batch) leaves node 1 where its first batch took it */
	rg.node[1].cancel_in = 2 + 2;
	CHECK_EQ(catch_up(&rg, 1, 0, pos), -EINTR);
	CHECK_EQ(rg.node[1].c.n_past, 13);
	CHECK_EQ(ring_step(&rg, pos, &tok, 1, true, rg.n_nodes, &at), -ERANGE);
	CHECK_EQ(at, 1);
	CHECK_EQ(catch_up(&rg, 1, rg.node[1].c.n_past, pos), 0);
	CHECK_EQ(rg.node[1].c.n_past, pos);
	/* the last node, cancelled before its layer: unchanged */
	rg.node[2].cancel_in = 1;
	CHECK_EQ(ring_step(&rg, pos, &tok, 1, true, rg.n_nodes, &at), -EINTR);
	CHECK_EQ(at, 2);
	CHECK_EQ(rg.node[2].c.n_past, pos);
	CHECK_EQ(ring_step(&rg, pos, &tok, 1, true, rg.n_nodes, &at), 0);
	CHECK_EQ(llm_ctx_commit(&rg.node[0].c, pos, &tok, 1), 0);
	CHECK(!memcmp(rg.node[2].c.logits, rt.ctx.logits,
		      rt.model.cfg.n_vocab * sizeof(float)));
	for (i = 0; i < rg.n_nodes; i++)
		CHECK_EQ(rg.node[i].c.n_past, rt.ctx.n_past);
	got.n_logits = want.n_logits = 0;
	CHECK(!differs(&rg, &rt.ctx, &got, &want, (char[160]){ 0 }, 160));
	/* and the same sample from it */
	{
		u64 a = SEED ^ 7, b = SEED ^ 7;

		CHECK_EQ(llm_sample(&rg.node[2].c, &samplings[1], &a),
			 llm_sample(&rt.ctx, &samplings[1], &b));
		CHECK_EQ(a, b);
	}
	snap_free(&s);
	ring_close(&rg);
	free(want.logits);
	free(got.logits);
	llm_runtime_close(&rt);
}

/*
 * 2c. Nodes that lose their state mid-conversation (a context reset) and
 * frames lost part way: the head re-sends [have, pos) to the node that
 * lags and the step again; the generation is still the single node's.
 * Three nodes (2+2+1 layers, batches of 13), before the first step at
 * or past a position (with the long prompt, prompt batches; several at
 * once): node 1 reset (20); node 1 reset and its catch-up cut in its
 * second batch (28); the last node reset (36); the last node cancelled
 * (42); node 1 cancelled (48).  Two nodes (3+2): the last reset (30, 45).
 * Every generation gets past position 48 (a prompt of 5 tokens and 48
 * tokens generated).
 */
static void arm_faults3(struct ring *rg)
{
	static const struct event ev[] = {
		{ 20, 1, EV_RESET, 0, false },
		{ 28, 1, EV_RESET, 0, false },
		/* its second catch-up batch: before that stage's 2nd layer */
		{ 28, 1, EV_CANCEL, 2 + 2, false },
		{ 36, 2, EV_RESET, 0, false },
		{ 42, 2, EV_CANCEL, 1, false },
		{ 48, 1, EV_CANCEL, 1, false },
	};

	memcpy(rg->ev, ev, sizeof(ev));
	rg->n_ev = ARRAY_SIZE(ev);
}

static bool faults3_happened(const struct ring *rg, u32 prompt)
{
	static const u32 have[] = { 0, 0, 13, 0 };

	return rg->n_have == ARRAY_SIZE(have) &&
	       !memcmp(rg->have, have, sizeof(have)) && rg->lost == 3;
}

static void arm_faults2(struct ring *rg)
{
	static const struct event ev[] = {
		{ 30, 1, EV_RESET, 0, false },
		{ 45, 1, EV_RESET, 0, false },
	};

	memcpy(rg->ev, ev, sizeof(ev));
	rg->n_ev = ARRAY_SIZE(ev);
}

static bool faults2_happened(const struct ring *rg, u32 prompt)
{
	return rg->n_have == 2 && !rg->have[0] && !rg->have[1] && !rg->lost;
}

static void lagging_node_catches_up(void)
{
	static const struct split sp3 = { 3, { 2, 2, 1 } };
	static const struct split sp2 = { 2, { 3, 2 } };
	u32 i;

	for (i = 0; i < ARRAY_SIZE(models) && !check_failed(); i++) {
		compare_model(models[i], 0, &sp3, 1, ARRAY_SIZE(prompts),
			      arm_faults3, faults3_happened);
		if (!check_failed())
			compare_model(models[i], 0, &sp2, 1,
				      ARRAY_SIZE(prompts), arm_faults2,
				      faults2_happened);
	}
}

/* Node i on i + 1 threads, work split however small. */
static void arm_threads(struct ring *rg)
{
	u32 i;

	for (i = 0; i < rg->n_nodes; i++) {
		rg->node[i].ex.n_workers = min(i + 1, rg->node[i].ex.n_workers);
		rg->node[i].ex.split_macs = 0;
	}
}

/*
 * Machines of different sizes: with a pool of three threads, nodes on
 * one, two and three (the single node on three), as in 1.
 */
static void threads_per_node_do_not_matter(void)
{
	static const struct split sp[] = {
		{ 2, { 3, 2 } }, { 3, { 1, 1, 3 } },
	};

	CHECK_EQ(llm_pool_init(3), 0);
	compare_model(models[2], 0, sp, ARRAY_SIZE(sp), ARRAY_SIZE(prompts),
		      arm_threads, NULL);
	llm_pool_exit();
}

/*
 * 6. Every node holding only its own layers (its slice of the file, bound
 * with llm_model_load_layers(), as llmctl load --layers does): the same
 * bits as one node with the whole model, every split, F32, Q8_0, Q4_0.
 */
static void sliced_nodes_equal_single_node(void)
{
	u32 i;

	for (i = 0; i < ARRAY_SIZE(models) && !check_failed(); i++) {
		const char *path = check_model(models[i]);
		void *file = path ? check_read_file(path, &sliced_len) : NULL;

		CHECK(file);
		sliced_file = file;
		compare_model(models[i], 0, splits, ARRAY_SIZE(splits), 2,
			      NULL, NULL);
		sliced_file = NULL;
		free(file);
	}
}

int main(void)
{
	llm_log_quiet = 1;
	RUN(ring_equals_single_node);
	RUN(stage_twice_same_bits);
	RUN(past_n_past_is_refused);
	RUN(lagging_node_catches_up);
	RUN(f16_kv_ring_equals_single_node);
	RUN(threads_per_node_do_not_matter);
	RUN(sliced_nodes_equal_single_node);
	return check_done();
}
