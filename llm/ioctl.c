// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl interface of /dev/llm (uapi/llm.h).  Every struct carries its
 * size: we read what both sides know, insist that anything newer than us is
 * zero, and refuse unknown flags and non-zero reserved fields with EINVAL.
 */
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/capability.h>

#include "module.h"

/*
 * Copy in a struct that starts with its size: at least @minsize bytes (the
 * struct's first published size), the rest of ours zero-filled, anything
 * past ours required to be zero.  Returns how many bytes to copy back out
 * (the smaller of the caller's size and ours), or a negative errno.
 */
static int llm_copy_in(void *kstruct, size_t ksize, size_t minsize,
		       void __user *ustruct)
{
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)ustruct))
		return -EFAULT;
	if (usize < minsize)
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

static void fill_model_info(struct llm_model_info *mi)
{
	const struct llm_model *m = &llm_mod.model;

	strscpy(mi->name, m->name, sizeof(mi->name));
	strscpy(mi->arch, m->arch, sizeof(mi->arch));
	mi->n_params = m->n_params;
	mi->bytes = llm_mod.image_len;
	mi->n_vocab = m->cfg.n_vocab;
	mi->n_ctx_train = m->cfg.n_ctx_train;
	mi->n_ctx = llm_mod.n_ctx;
	mi->n_embd = m->cfg.n_embd;
	mi->n_layers = m->cfg.n_layers;
	mi->n_heads = m->cfg.n_heads;
	mi->n_kv_heads = m->cfg.n_kv_heads;
	mi->n_ff = m->cfg.n_ff;
	mi->type_mask = m->type_mask;
}

static long llm_ioctl_get_info(void __user *uarg)
{
	struct llm_info info;
	int osize;

	osize = llm_copy_in(&info, sizeof(info), sizeof(info), uarg);
	if (osize < 0)
		return osize;
	if (info.flags || info.reserved0)
		return -EINVAL;

	memset(&info, 0, sizeof(info));
	info.abi_version = LLM_ABI_VERSION;
	mutex_lock(&llm_mod.lock);
	info.sessions_max = llm_sessions_max;
	info.sessions_active = llm_mod.sessions_active;
	info.arena_size = llm_mod.arena.size;
	info.arena_used = llm_mod.arena.used;
	info.arena_peak = llm_mod.arena.peak;
	if (llm_mod.model_loaded) {
		info.flags |= LLM_INFO_MODEL_LOADED;
		fill_model_info(&info.model);
	}
	mutex_unlock(&llm_mod.lock);
	info.limits.max_prompt_tokens = READ_ONCE(llm_max_prompt_tokens);
	info.limits.max_new_tokens = llm_max_new_tokens;
	info.limits.max_context = READ_ONCE(llm_max_context);
	info.limits.max_wall_ms = READ_ONCE(llm_max_wall_ms);
	info.limits.max_prompt_bytes = llm_max_prompt_bytes;
	return llm_copy_out(uarg, &info, osize);
}

static long llm_ioctl_load(struct file *file, void __user *uarg)
{
	struct llm_session *s = file->private_data;
	struct llm_load l;
	char err[LLM_ERROR_LEN] = "";
	int ret, out, osize;

	BUILD_BUG_ON(LLM_LOAD_SIZE_VER0 !=
		     offsetof(struct llm_load, error) + 128);
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	osize = llm_copy_in(&l, sizeof(l), LLM_LOAD_SIZE_VER0, uarg);
	if (osize < 0)
		return osize;
	if (l.flags || l.op < LLM_LOAD_FD || l.op > LLM_LOAD_ABORT)
		return -EINVAL;
	/*
	 * One load call of this file at a time: DATA copies into the image
	 * without llm_mod.lock, so a COMMIT or ABORT from another thread
	 * must not run beside it (loader.c relies on this).
	 */
	if (mutex_lock_interruptible(&s->lock))
		return -EINTR;
	switch (l.op) {
	case LLM_LOAD_FD:
		ret = llm_load_fd(l.fd, err, sizeof(err));
		break;
	case LLM_LOAD_BEGIN:
		ret = llm_load_begin(file, l.len, err, sizeof(err));
		break;
	case LLM_LOAD_DATA:
		ret = llm_load_data(file, u64_to_user_ptr(l.data), l.len);
		break;
	case LLM_LOAD_COMMIT:
		ret = llm_load_commit(file, err, sizeof(err));
		break;
	default:	/* LLM_LOAD_ABORT */
		llm_load_abort(file);
		ret = 0;
		break;
	}
	mutex_unlock(&s->lock);
	if (ret && err[0])
		pr_err_ratelimited("load failed: %s\n", err);
	l.loaded = READ_ONCE(llm_mod.image_filled);
	l.total = READ_ONCE(llm_mod.image_len);
	/* as much of the sentence as the caller's error[] holds */
	strscpy(l.error, err, osize - offsetof(struct llm_load, error));
	out = llm_copy_out(uarg, &l, osize);
	return ret ? ret : out;
}

static long llm_ioctl_set_params(struct llm_session *s, void __user *uarg)
{
	struct llm_params p;
	int ret;

	ret = llm_copy_in(&p, sizeof(p), sizeof(p), uarg);
	if (ret < 0)
		return ret;
	p.size = sizeof(p);
	ret = llm_session_check_params(&p);
	if (ret)
		return ret;
	if (mutex_lock_interruptible(&s->lock))
		return -EINTR;
	s->params = p;
	mutex_unlock(&s->lock);
	return 0;
}

static long llm_ioctl_get_params(struct llm_session *s, void __user *uarg)
{
	struct llm_params p;
	int osize;

	osize = llm_copy_in(&p, sizeof(p), sizeof(p), uarg);
	if (osize < 0)
		return osize;
	if (p.flags)
		return -EINVAL;
	if (mutex_lock_interruptible(&s->lock))
		return -EINTR;
	p = s->params;
	mutex_unlock(&s->lock);
	return llm_copy_out(uarg, &p, osize);
}

/* GENERATE's text goes straight to the caller's buffer as it comes. */
struct user_sink {
	struct llm_sink sink;
	char __user *text;
	bool fault;
};

static int user_drain(struct llm_sink *sink, struct kfifo *fifo,
		      unsigned int len)
{
	struct user_sink *us = container_of(sink, struct user_sink, sink);
	unsigned int copied;
	char scratch[64];

	if (!sink->cap) {	/* no text wanted: only the token ids count */
		while (len)
			len -= kfifo_out(fifo, scratch,
					 min_t(unsigned int, len, sizeof(scratch)));
		return 0;
	}
	if (kfifo_to_user(fifo, us->text + sink->done, len, &copied) ||
	    copied != len) {
		us->fault = true;
		return -EFAULT;
	}
	return 0;
}

static long llm_ioctl_generate(struct llm_session *s, void __user *uarg)
{
	struct llm_generate g;
	struct user_sink us = { .sink.drain = user_drain };
	u32 n;
	int ret, osize;

	osize = llm_copy_in(&g, sizeof(g), sizeof(g), uarg);
	if (osize < 0)
		return osize;
	if ((g.flags & ~LLM_GEN_RESET) || g.reserved)
		return -EINVAL;
	if (g.prompt_len > llm_max_prompt_bytes) {
		llm_request_refused();
		return -E2BIG;
	}
	if (mutex_lock_interruptible(&s->lock))
		return -EINTR;
	ret = llm_session_begin(s);
	if (!ret)
		ret = llm_session_take_prompt(s, u64_to_user_ptr(g.prompt),
					      g.prompt_len, false);
	if (!ret && (g.flags & LLM_GEN_RESET))
		ret = llm_session_clear(s);
	if (!ret)
		ret = llm_session_submit(s);
	if (ret)
		goto out;

	us.text = u64_to_user_ptr(g.text);
	us.sink.cap = g.text_cap;
	ret = llm_session_wait(s, &us.sink);
	if (!ret && us.fault)
		ret = -EFAULT;
	if (ret)
		goto out;
	g.text_len = us.sink.done;
	g.n_tokens = s->n_toks;
	g.n_prompt_tokens = s->req.n_prompt;
	g.stop_reason = s->req.stop_reason;
	g.prefill_ns = s->req.prefill_ns;
	g.decode_ns = s->req.decode_ns;
	n = min(s->n_toks, g.tokens_cap);
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
	int ret;

	if (mutex_lock_interruptible(&s->lock))
		return -EINTR;
	/*
	 * A ring's worker runs on the context without the session lock:
	 * a ring session resets through LLM_SQE_RESET only.
	 */
	if (s->ring)
		ret = -EBUSY;
	else
		ret = llm_session_clear(s);
	mutex_unlock(&s->lock);
	return ret;
}

static long llm_ioctl_get_stats(struct llm_session *s, void __user *uarg)
{
	struct llm_stats st;
	int osize;

	osize = llm_copy_in(&st, sizeof(st), sizeof(st), uarg);
	if (osize < 0)
		return osize;
	if (st.flags || st.reserved)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	st.requests_total = atomic64_read(&llm_mod.requests_total);
	st.errors_total = atomic64_read(&llm_mod.errors_total);
	st.tokens_prompt_total = atomic64_read(&llm_mod.tokens_prompt_total);
	st.tokens_generated_total =
		atomic64_read(&llm_mod.tokens_generated_total);
	st.prefill_tok_per_s_milli = atomic64_read(&llm_mod.prefill_milli);
	st.decode_tok_per_s_milli = atomic64_read(&llm_mod.decode_milli);
	if (mutex_lock_interruptible(&s->lock))
		return -EINTR;
	st.session_requests = s->requests;
	st.session_ctx_used = llm_mod.model_loaded ? s->ctx.n_past : 0;
	st.session_ctx_size = llm_mod.model_loaded ? s->ctx.n_ctx : 0;
	st.session_prompt_tokens = s->last_prompt_tokens;
	st.session_generated_tokens = s->last_generated_tokens;
	st.session_stop_reason = s->last_stop_reason;
	st.session_prefill_ns = s->last_prefill_ns;
	st.session_decode_ns = s->last_decode_ns;
	mutex_unlock(&s->lock);
	return llm_copy_out(uarg, &st, osize);
}

static long llm_ioctl_ring_setup(struct llm_session *s, void __user *uarg)
{
	struct llm_ring_setup rs;
	int ret, osize;

	osize = llm_copy_in(&rs, sizeof(rs), sizeof(rs), uarg);
	if (osize < 0)
		return osize;
	if (mutex_lock_interruptible(&s->lock))
		return -EINTR;
	ret = llm_ring_setup(s, &rs);
	mutex_unlock(&s->lock);
	return ret ? ret : llm_copy_out(uarg, &rs, osize);
}

static long llm_ioctl_ring_enter(struct llm_session *s, void __user *uarg)
{
	struct llm_ring_enter re;
	int ret;

	ret = llm_copy_in(&re, sizeof(re), sizeof(re), uarg);
	if (ret < 0)
		return ret;
	if (mutex_lock_interruptible(&s->lock))
		return -EINTR;
	ret = llm_ring_enter(s, &re);
	mutex_unlock(&s->lock);
	return ret;
}

long llm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct llm_session *s = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (_IOC_TYPE(cmd) != LLM_IOC_MAGIC)
		return -ENOTTY;
	/*
	 * Submitting work or changing the session is writing to it: as for
	 * write(), a file not open for writing may not (so a read-only mode
	 * for others in dev_mode means they may look, not generate).
	 */
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(LLM_IOC_SET_PARAMS):
	case _IOC_NR(LLM_IOC_GENERATE):
	case _IOC_NR(LLM_IOC_RESET):
	case _IOC_NR(LLM_IOC_RING_SETUP):
	case _IOC_NR(LLM_IOC_RING_ENTER):
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		break;
	}
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(LLM_IOC_GET_INFO):
		return llm_ioctl_get_info(uarg);
	case _IOC_NR(LLM_IOC_LOAD):
		return llm_ioctl_load(file, uarg);
	case _IOC_NR(LLM_IOC_UNLOAD):
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		return llm_unload();
	case _IOC_NR(LLM_IOC_SET_PARAMS):
		return llm_ioctl_set_params(s, uarg);
	case _IOC_NR(LLM_IOC_GET_PARAMS):
		return llm_ioctl_get_params(s, uarg);
	case _IOC_NR(LLM_IOC_GENERATE):
		return llm_ioctl_generate(s, uarg);
	case _IOC_NR(LLM_IOC_RESET):
		return llm_ioctl_reset(s);
	case _IOC_NR(LLM_IOC_GET_STATS):
		return llm_ioctl_get_stats(s, uarg);
	case _IOC_NR(LLM_IOC_RING_SETUP):
		return llm_ioctl_ring_setup(s, uarg);
	case _IOC_NR(LLM_IOC_RING_ENTER):
		return llm_ioctl_ring_enter(s, uarg);
	default:
		return -ENOTTY;
	}
}
