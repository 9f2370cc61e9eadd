// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl interface of /dev/llm (uapi/llm.h).
 *
 * Each command is checked whole: its type, number and direction (ENOTTY
 * otherwise) and its size bits.  Every struct carries its size, which
 * must equal the command's size bits (both are sizeof() the struct as the
 * caller was compiled), be at least the struct's first published size
 * (EINVAL) and at most a page (E2BIG, as openat2 and clone3 do); we read
 * what both sides know, insist that anything newer than us is zero, and
 * refuse unknown flags and non-zero reserved fields with EINVAL.
 */
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/capability.h>
#include <linux/sched/signal.h>

#include "device.h"
#include "session.h"
#include "request.h"
#include "kmodel.h"
#include "loader.h"
#include "ring.h"
#include "params.h"
#include "../netfilter/node.h"
#include "core/chat.h"

/* Most bytes LLM_CHAT_RENDER writes (its buffer is allocated per call). */
#define LLM_CHAT_RENDER_MAX	(4U << 20)

struct llm_ioc {
	unsigned int cmd;
	u32 minsize;		/* the struct's first published size */
	bool writes;		/* submits work or changes the session */
};

static const struct llm_ioc llm_iocs[] = {
	{ LLM_IOC_GET_INFO, LLM_INFO_SIZE_VER0, false },
	{ LLM_IOC_LOAD, LLM_LOAD_SIZE_VER0, false },
	{ LLM_IOC_UNLOAD, 0, false },
	{ LLM_IOC_SET_PARAMS, sizeof(struct llm_params), true },
	{ LLM_IOC_GET_PARAMS, sizeof(struct llm_params), false },
	{ LLM_IOC_GENERATE, sizeof(struct llm_generate), true },
	{ LLM_IOC_RESET, 0, true },
	{ LLM_IOC_GET_STATS, sizeof(struct llm_stats), false },
	{ LLM_IOC_RING_SETUP, sizeof(struct llm_ring_setup), true },
	{ LLM_IOC_RING_ENTER, sizeof(struct llm_ring_enter), true },
	{ LLM_IOC_CANCEL, 0, true },
	{ LLM_IOC_NODE_SET, sizeof(struct llm_node_config), false },
	{ LLM_IOC_NODE_GET, sizeof(struct llm_node_status), false },
	/* writes unless LLM_CHAT_RENDER: checked by llm_ioctl_chat() */
	{ LLM_IOC_CHAT, sizeof(struct llm_chat), false },
};

/*
 * Copy in the struct at @ustruct whose size the command says (@iocsize):
 * the rest of ours zero-filled, anything past ours required to be zero.
 * Returns how many bytes to copy back out (the smaller of the caller's
 * size and ours), or a negative errno.
 */
static int llm_copy_in(void *kstruct, size_t ksize, void __user *ustruct,
		       u32 iocsize)
{
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)ustruct))
		return -EFAULT;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	if (usize != iocsize)
		return -EINVAL;
	ret = copy_struct_from_user(kstruct, ksize, ustruct, usize);
	if (ret)
		return ret == -E2BIG ? -EINVAL : ret;
	return min_t(size_t, usize, ksize);
}

/* Write back @size bytes (from llm_copy_in()), the size field saying so. */
static int llm_copy_out(void __user *ustruct, void *kstruct, int size)
{
	*(u32 *)kstruct = size;
	return copy_to_user(ustruct, kstruct, size) ? -EFAULT : 0;
}

/* The family of @m's chat template. */
static u32 chat_family(const struct llm_model *m)
{
	struct llm_chat_tmpl t;

	llm_chat_init(&t, &m->gguf, &m->vocab);
	return t.family;
}

static void fill_model_info(struct llm_model_info *mi,
			    struct llm_kmodel *km)
{
	const struct llm_model *m = &km->model;

	strscpy(mi->name, m->name, sizeof(mi->name));
	strscpy(mi->arch, m->arch, sizeof(mi->arch));
	mi->n_params = m->n_params;
	mi->bytes = km->image_len;
	mi->n_vocab = m->cfg.n_vocab;
	mi->n_ctx_train = m->cfg.n_ctx_train;
	mi->n_ctx = km->n_ctx;
	mi->n_embd = m->cfg.n_embd;
	mi->n_layers = m->cfg.n_layers;
	mi->n_heads = m->cfg.n_heads;
	mi->n_kv_heads = m->cfg.n_kv_heads;
	mi->n_ff = m->cfg.n_ff;
	mi->type_mask = m->type_mask;
	/* the template and vocabulary are in the arena: a use keeps it */
	if (llm_kmodel_use(km)) {
		mi->chat_template = chat_family(m);
		llm_kmodel_unuse(km);
	}
}

static long llm_ioctl_get_info(void __user *uarg, u32 iocsize)
{
	struct llm_kmodel *km;
	struct llm_info info;
	int osize, err;

	BUILD_BUG_ON(offsetof(struct llm_info, layer_first) !=
		     LLM_INFO_SIZE_VER0);
	osize = llm_copy_in(&info, sizeof(info), uarg, iocsize);
	if (osize < 0)
		return osize;
	if (info.flags || info.reserved0)
		return -EINVAL;

	memset(&info, 0, sizeof(info));
	info.abi_version = LLM_ABI_VERSION;
	info.sessions_max = llm_sessions_max;
	info.sessions_active = llm_sessions_active();
	llm_kmodel_arena_stats(&info.arena_size, &info.arena_used,
			       &info.arena_peak);
	km = llm_kmodel_get(&err);
	if (km) {
		info.flags |= LLM_INFO_MODEL_LOADED;
		fill_model_info(&info.model, km);
		info.layer_first = km->model.layer_first;
		info.layer_end = km->model.layer_end;
		llm_kmodel_put(km);
	}
	info.limits.max_prompt_tokens = READ_ONCE(llm_max_prompt_tokens);
	info.limits.max_new_tokens = llm_max_new_tokens;
	info.limits.max_context = READ_ONCE(llm_max_context);
	info.limits.max_wall_ms = READ_ONCE(llm_max_wall_ms);
	info.limits.max_prompt_bytes = llm_max_prompt_bytes;
	return llm_copy_out(uarg, &info, osize);
}

static long llm_ioctl_load(struct file *file, void __user *uarg,
			   u32 iocsize)
{
	struct llm_session *s = file->private_data;
	char err[LLM_ERROR_LEN] = "";
	struct llm_load l;
	int ret, out, osize;

	BUILD_BUG_ON(LLM_LOAD_SIZE_VER0 !=
		     offsetof(struct llm_load, error) + 128);
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	osize = llm_copy_in(&l, sizeof(l), uarg, iocsize);
	if (osize < 0)
		return osize;
	if (l.flags || l.op < LLM_LOAD_FD || l.op > LLM_LOAD_ABORT ||
	    (l.op != LLM_LOAD_FD && (l.layer_first || l.layer_end)))
		return -EINVAL;
	/* one load call of this file at a time */
	if (mutex_lock_interruptible(&s->lock))
		return -ERESTARTSYS;
	switch (l.op) {
	case LLM_LOAD_FD:
		ret = llm_load_fd(l.fd, l.layer_first, l.layer_end, err,
				  sizeof(err));
		break;
	case LLM_LOAD_BEGIN:
		ret = llm_upload_begin(file, l.len, err, sizeof(err));
		break;
	case LLM_LOAD_DATA:
		ret = llm_upload_data(file, u64_to_user_ptr(l.data), l.len);
		break;
	case LLM_LOAD_COMMIT:
		ret = llm_upload_commit(file, err, sizeof(err));
		break;
	default:	/* LLM_LOAD_ABORT */
		llm_upload_abort(file);
		ret = 0;
		break;
	}
	mutex_unlock(&s->lock);
	if (ret && err[0])
		pr_err_ratelimited("load failed: %s\n", err);
	llm_load_progress(&l.loaded, &l.total);
	/* as much of the sentence as the caller's error[] holds */
	strscpy(l.error, err, min_t(size_t, sizeof(l.error),
				    osize - offsetof(struct llm_load, error)));
	out = llm_copy_out(uarg, &l, osize);
	return ret ? ret : out;
}

static long llm_ioctl_set_params(struct llm_session *s, void __user *uarg,
				 u32 iocsize)
{
	struct llm_params p;
	int ret;

	ret = llm_copy_in(&p, sizeof(p), uarg, iocsize);
	if (ret < 0)
		return ret;
	ret = llm_params_check(&p);
	if (ret)
		return ret;
	/* requests copy them when they start: never a torn mix */
	llm_session_params_set(s, &p);
	return 0;
}

static long llm_ioctl_get_params(struct llm_session *s, void __user *uarg,
				 u32 iocsize)
{
	struct llm_params p;
	int osize;

	osize = llm_copy_in(&p, sizeof(p), uarg, iocsize);
	if (osize < 0)
		return osize;
	if (p.flags)
		return -EINVAL;
	llm_session_params_get(s, &p);
	return llm_copy_out(uarg, &p, osize);
}

/* GENERATE's text goes straight to the caller's buffer as it comes. */
struct user_sink {
	struct llm_sink sink;
	char __user *text;
	bool fault;
};

static int user_drain(struct llm_sink *sink, const char *text,
		      unsigned int len)
{
	struct user_sink *us = container_of(sink, struct user_sink, sink);

	if (!sink->cap)		/* no text wanted: only the token ids */
		return 0;
	if (copy_to_user(us->text + sink->done, text, len)) {
		us->fault = true;
		return -EFAULT;
	}
	return 0;
}

/*
 * The same call again after a signal interrupted its wait: same struct,
 * same arguments.  Then it goes on with the same request.
 */
static bool same_call(const struct llm_generate_resume *gr,
		      void __user *uarg, const struct llm_generate *g)
{
	const struct llm_generate *a = &gr->args;

	return gr->active && gr->uarg == uarg && a->flags == g->flags &&
	       a->prompt == g->prompt && a->prompt_len == g->prompt_len &&
	       a->text == g->text && a->text_cap == g->text_cap &&
	       a->tokens == g->tokens && a->tokens_cap == g->tokens_cap;
}

static int generate_begin(struct llm_session *s, void __user *uarg,
			  const struct llm_generate *g)
{
	struct llm_generate_resume *gr = &s->gen;
	unsigned int how = 0;
	int ret;

	if (gr->active) {
		/* its caller gave up on it: it goes, with its output */
		llm_session_drop_request(s);
		gr->active = false;
	}
	if (g->flags & LLM_GEN_RESET)
		how |= LLM_IN_RESET;
	ret = llm_req_submit_user(s, u64_to_user_ptr(g->prompt),
				  g->prompt_len, how);
	if (ret)
		return ret;
	gr->active = true;
	gr->uarg = uarg;
	gr->args = *g;
	gr->text_done = 0;
	gr->fault = false;
	return 0;
}

static long llm_ioctl_generate(struct llm_session *s, void __user *uarg,
			       u32 iocsize)
{
	struct llm_generate_resume *gr = &s->gen;
	struct user_sink us = { .sink.drain = user_drain };
	struct llm_generate g;
	u32 n;
	int ret, osize;

	osize = llm_copy_in(&g, sizeof(g), uarg, iocsize);
	if (osize < 0)
		return osize;
	if ((g.flags & ~LLM_GEN_RESET) || g.reserved)
		return -EINVAL;
	if (mutex_lock_interruptible(&s->lock))
		return -ERESTARTSYS;
	if (s->ring) {
		ret = -EBUSY;
		goto out;
	}
	if (!same_call(gr, uarg, &g)) {
		ret = generate_begin(s, uarg, &g);
		if (ret)
			goto out;
	}

	us.text = u64_to_user_ptr(g.text);
	us.sink.cap = g.text_cap;
	us.sink.done = gr->text_done;
	us.fault = gr->fault;
	ret = llm_req_run(s, &us.sink, true);
	gr->text_done = us.sink.done;
	gr->fault = us.fault;
	if (ret)		/* -ERESTARTSYS: the same call goes on with it */
		goto out;
	gr->active = false;
	llm_req_finish(s);
	ret = s->req.result;
	if (!ret && us.fault)
		ret = -EFAULT;
	if (ret)
		goto out;
	g.text_len = us.sink.done;
	g.n_tokens = s->req.n_toks;
	g.n_prompt_tokens = s->req.r.n_prompt;
	g.stop_reason = s->req.r.stop_reason;
	g.prefill_ns = s->req.r.prefill_ns;
	g.decode_ns = s->req.r.decode_ns;
	n = min(s->req.n_toks, g.tokens_cap);
	if (n && copy_to_user(u64_to_user_ptr(g.tokens), s->toks,
			      (size_t)n * sizeof(u32)))
		ret = -EFAULT;
	if (!ret)
		ret = llm_copy_out(uarg, &g, osize);
out:
	mutex_unlock(&s->lock);
	return ret;
}

static long llm_ioctl_reset(struct llm_session *s)
{
	int ret = 0;

	/*
	 * A ring's worker runs its requests without the session lock: a ring
	 * session resets through LLM_SQE_RESET only.
	 */
	if (smp_load_acquire(&s->ring))
		return -EBUSY;
	/* stop a running request first, so that its caller lets go */
	llm_req_cancel(s, LLM_STOP_CANCELLED);
	if (mutex_lock_interruptible(&s->lock))
		return -ERESTARTSYS;
	if (s->ring)
		ret = -EBUSY;
	else
		llm_session_forget(s);
	mutex_unlock(&s->lock);
	return ret;
}

static long llm_ioctl_get_stats(struct llm_session *s, void __user *uarg,
				u32 iocsize)
{
	struct llm_session_stats ss;
	struct llm_counters c;
	struct llm_kmodel *km;
	struct llm_stats st;
	int osize, err;

	osize = llm_copy_in(&st, sizeof(st), uarg, iocsize);
	if (osize < 0)
		return osize;
	if (st.flags || st.reserved)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	llm_counters_read(&c);
	st.requests_total = c.requests;
	st.errors_total = c.errors;
	st.tokens_prompt_total = c.tokens_prompt;
	st.tokens_generated_total = c.tokens_generated;
	st.prefill_tok_per_s_milli = c.prefill_milli;
	st.decode_tok_per_s_milli = c.decode_milli;
	llm_session_stats_get(s, &ss);
	st.session_requests = ss.requests;
	/* the context the next request gets: the loaded model's */
	km = llm_kmodel_get(&err);
	if (km) {
		st.session_ctx_size = km->n_ctx;
		if (ss.ctx_model == km)
			st.session_ctx_used = ss.ctx_used;
		llm_kmodel_put(km);
	}
	st.session_prompt_tokens = ss.prompt_tokens;
	st.session_generated_tokens = ss.generated_tokens;
	st.session_stop_reason = ss.stop_reason;
	st.session_prefill_ns = ss.prefill_ns;
	st.session_decode_ns = ss.decode_ns;
	return llm_copy_out(uarg, &st, osize);
}

static long llm_ioctl_ring_setup(struct llm_session *s, void __user *uarg,
				 u32 iocsize)
{
	struct llm_ring_setup rs;
	int ret, osize;

	osize = llm_copy_in(&rs, sizeof(rs), uarg, iocsize);
	if (osize < 0)
		return osize;
	if (mutex_lock_interruptible(&s->lock))
		return -ERESTARTSYS;
	ret = llm_ring_setup(s, &rs);
	mutex_unlock(&s->lock);
	return ret ? ret : llm_copy_out(uarg, &rs, osize);
}

/* No session lock: one thread may wait here while others submit. */
static long llm_ioctl_ring_enter(struct llm_session *s, void __user *uarg,
				 u32 iocsize)
{
	struct llm_ring_enter re;
	int ret;

	ret = llm_copy_in(&re, sizeof(re), uarg, iocsize);
	if (ret < 0)
		return ret;
	return llm_ring_enter(s, &re);
}

/* LLM_CHAT_RENDER: the whole conversation, as the model's template has it. */
static int chat_render(struct llm_chat *ch,
		       const struct llm_chat_message *msgs)
{
	struct llm_chat_tmpl t;
	struct llm_kmodel *km;
	unsigned int flags = 0;
	char err[160], *buf = NULL;
	u32 cap = min_t(u32, ch->text_cap, LLM_CHAT_RENDER_MAX);
	int ret;

	km = llm_kmodel_get(&ret);
	if (!km)
		return ret;
	if (cap) {
		buf = kvmalloc(cap, GFP_KERNEL);
		if (!buf) {
			ret = -ENOMEM;
			goto out;
		}
	}
	if (!llm_kmodel_use(km)) {
		ret = -ENODEV;
		goto out;
	}
	if (ch->n_msgs && msgs[ch->n_msgs - 1].role == LLM_CHAT_USER)
		flags |= LLM_CHAT_R_GEN;
	ret = llm_chat_init(&t, &km->model.gguf, &km->model.vocab);
	ch->template = t.family;
	if (!ret)
		ret = llm_chat_render(&t, msgs, ch->n_msgs, flags, buf, cap,
				      &ch->text_len, err, sizeof(err));
	llm_kmodel_unuse(km);
	if (!ret && ch->text_len &&
	    copy_to_user(u64_to_user_ptr(ch->text), buf, ch->text_len))
		ret = -EFAULT;
out:
	kvfree(buf);
	llm_kmodel_put(km);
	return ret;
}

/*
 * LLM_IOC_CHAT: the messages copied in (their texts into one buffer),
 * then rendered, or rendered and submitted as the session's next turn.
 */
static long llm_ioctl_chat(struct file *file, struct llm_session *s,
			   void __user *uarg, u32 iocsize)
{
	struct llm_chat_message *msgs = NULL;
	struct llm_chat_msg *um = NULL;
	struct llm_chat ch;
	bool render;
	char *text = NULL;
	u64 total = 0;
	u32 i;
	int ret, osize;

	osize = llm_copy_in(&ch, sizeof(ch), uarg, iocsize);
	if (osize < 0)
		return osize;
	if ((ch.flags & ~(LLM_CHAT_RESET | LLM_CHAT_RENDER)) || ch.reserved)
		return -EINVAL;
	render = ch.flags & LLM_CHAT_RENDER;
	if (!render && !(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (ch.n_msgs > LLM_CHAT_MAX_MSGS)
		return -E2BIG;
	if (!render && !ch.n_msgs)
		return -EINVAL;
	ch.text_len = 0;
	ch.n_prompt_bytes = 0;
	um = kvmalloc_array(ch.n_msgs + 1, sizeof(*um), GFP_KERNEL);
	msgs = kvmalloc_array(ch.n_msgs + 1, sizeof(*msgs), GFP_KERNEL);
	if (!um || !msgs) {
		ret = -ENOMEM;
		goto out;
	}
	ret = -EFAULT;
	if (copy_from_user(um, u64_to_user_ptr(ch.msgs),
			   (size_t)ch.n_msgs * sizeof(*um)))
		goto out;
	for (i = 0; i < ch.n_msgs; i++)
		total += um[i].len;
	ret = -E2BIG;
	if (total > llm_max_prompt_bytes)
		goto out;
	ret = -ENOMEM;
	text = kvmalloc(total + 1, GFP_KERNEL);
	if (!text)
		goto out;
	for (total = 0, i = 0; i < ch.n_msgs; i++) {
		ret = -EFAULT;
		if (copy_from_user(text + total, u64_to_user_ptr(um[i].content),
				   um[i].len))
			goto out;
		ret = -EINVAL;
		if (!llm_utf8_valid(text + total, um[i].len))
			goto out;
		msgs[i].role = um[i].role;
		msgs[i].text = text + total;
		msgs[i].len = um[i].len;
		total += um[i].len;
	}
	if (render) {
		ret = chat_render(&ch, msgs);
		/* ENOSPC: text_len says how much it needs */
		if (!ret || ret == -ENOSPC || ret == -EOPNOTSUPP) {
			int out = llm_copy_out(uarg, &ch, osize);

			ret = out ? out : ret;
		}
		goto out;
	}
	ret = -EINVAL;
	if (msgs[ch.n_msgs - 1].role != LLM_CHAT_USER)
		goto out;
	ret = -ERESTARTSYS;
	if (mutex_lock_interruptible(&s->lock))
		goto out;
	if (s->ring)
		ret = -EBUSY;
	else
		ret = llm_req_submit_chat(s, msgs, ch.n_msgs,
					  (ch.flags & LLM_CHAT_RESET) ?
					  LLM_IN_RESET : 0, &ch.template,
					  &ch.n_prompt_bytes);
	mutex_unlock(&s->lock);
	if (!ret || ret == -EOPNOTSUPP) {
		int out = llm_copy_out(uarg, &ch, osize);

		ret = out ? out : ret;
	}
out:
	kvfree(text);
	kvfree(msgs);
	kvfree(um);
	return ret;
}

/* The table entry for @cmd, if its number, direction and size fit one. */
static const struct llm_ioc *find_ioc(unsigned int cmd, long *err)
{
	unsigned int i, size = _IOC_SIZE(cmd);

	*err = -ENOTTY;
	if (_IOC_TYPE(cmd) != LLM_IOC_MAGIC)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(llm_iocs); i++) {
		const struct llm_ioc *io = &llm_iocs[i];

		if (_IOC_NR(io->cmd) != _IOC_NR(cmd) ||
		    _IOC_DIR(io->cmd) != _IOC_DIR(cmd))
			continue;
		if (!io->minsize)
			return size ? NULL : io;
		if (size > PAGE_SIZE)
			*err = -E2BIG;
		else if (size < io->minsize)
			*err = -EINVAL;
		else
			return io;
		return NULL;
	}
	return NULL;
}

/* The network ring (netfilter/config.c): CAP_NET_ADMIN in the namespace. */
static long llm_ioctl_node_set(void __user *uarg, u32 iocsize)
{
	struct llm_node_config cfg;
	int ret;

	if (!llm_node_capable())
		return -EPERM;
	ret = llm_copy_in(&cfg, sizeof(cfg), uarg, iocsize);
	if (ret < 0)
		return ret;
	ret = llm_node_set(&cfg);
	memzero_explicit(&cfg, sizeof(cfg));
	return ret;
}

static long llm_ioctl_node_get(void __user *uarg, u32 iocsize)
{
	struct llm_node_status *st;
	int ret;

	if (!llm_node_capable())
		return -EPERM;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	ret = llm_copy_in(st, sizeof(*st), uarg, iocsize);
	if (ret >= 0) {
		int size = ret;

		memset(st, 0, sizeof(*st));
		llm_node_get(st);
		ret = llm_copy_out(uarg, st, size);
	}
	kfree(st);
	return ret;
}

long llm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct llm_session *s = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct llm_ioc *io;
	u32 size = _IOC_SIZE(cmd);
	long err;

	io = find_ioc(cmd, &err);
	if (!io)
		return err;
	/*
	 * Submitting work or changing the session is writing to it: as for
	 * write(), a file not open for writing may not (so a read-only mode
	 * for others in dev_mode means they may look, not generate).
	 */
	if (io->writes && !(file->f_mode & FMODE_WRITE))
		return -EBADF;
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(LLM_IOC_GET_INFO):
		return llm_ioctl_get_info(uarg, size);
	case _IOC_NR(LLM_IOC_LOAD):
		return llm_ioctl_load(file, uarg, size);
	case _IOC_NR(LLM_IOC_UNLOAD):
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		llm_kmodel_unload();
		return 0;
	case _IOC_NR(LLM_IOC_SET_PARAMS):
		return llm_ioctl_set_params(s, uarg, size);
	case _IOC_NR(LLM_IOC_GET_PARAMS):
		return llm_ioctl_get_params(s, uarg, size);
	case _IOC_NR(LLM_IOC_GENERATE):
		return llm_ioctl_generate(s, uarg, size);
	case _IOC_NR(LLM_IOC_RESET):
		return llm_ioctl_reset(s);
	case _IOC_NR(LLM_IOC_GET_STATS):
		return llm_ioctl_get_stats(s, uarg, size);
	case _IOC_NR(LLM_IOC_RING_SETUP):
		return llm_ioctl_ring_setup(s, uarg, size);
	case _IOC_NR(LLM_IOC_RING_ENTER):
		return llm_ioctl_ring_enter(s, uarg, size);
	case _IOC_NR(LLM_IOC_NODE_SET):
		return llm_ioctl_node_set(uarg, size);
	case _IOC_NR(LLM_IOC_NODE_GET):
		return llm_ioctl_node_get(uarg, size);
	case _IOC_NR(LLM_IOC_CHAT):
		return llm_ioctl_chat(file, s, uarg, size);
	default:	/* LLM_IOC_CANCEL: no lock, its next step notices */
		llm_req_cancel(s, LLM_STOP_CANCELLED);
		return 0;
	}
}
