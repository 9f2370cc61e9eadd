// SPDX-License-Identifier: GPL-2.0
/*
 * Loading and unloading the model: the GGUF image is copied into the arena
 * (from a file descriptor, a user buffer in pieces, or the firmware
 * loader), parsed and bound in place, and every session gets its context
 * (KV cache and activations) right after it.  Unloading rewinds the arena.
 *
 * A load first takes the arena for itself under llm_mod.lock (refusing
 * while requests run), fills the image without the lock so that sysfs and
 * opens stay responsive, and binds under the lock again.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/firmware.h>
#include <linux/uaccess.h>
#include <linux/sched/signal.h>

#include "module.h"

#define LLM_READ_CHUNK	(1u << 20)

static void unload_locked(void)
{
	llm_arena_rewind(&llm_mod.arena, llm_mod.mark_empty);
	memset(&llm_mod.model, 0, sizeof(llm_mod.model));
	llm_mod.model_loaded = false;
	llm_mod.image = NULL;
	llm_mod.image_len = 0;
	llm_mod.image_filled = 0;
	llm_mod.model_gen++;
}

int llm_unload(void)
{
	int ret = 0;

	mutex_lock(&llm_mod.lock);
	if (llm_mod.running || llm_mod.loading) {
		ret = -EBUSY;
	} else if (llm_mod.model_loaded) {
		unload_locked();
		pr_info("model unloaded\n");
	}
	mutex_unlock(&llm_mod.lock);
	return ret;
}

/*
 * Take the arena for an image of @len bytes; the old model goes, but only
 * once the new one is known to fit an empty arena.
 */
static int begin_locked(struct file *owner, u64 len, char *err,
			size_t errlen)
{
	struct llm_arena empty = llm_mod.arena;
	size_t avail;

	if (llm_mod.running || llm_mod.loading) {
		snprintf(err, errlen, "the device is busy (%s)",
			 llm_mod.loading ? "another load is in progress" :
			 "requests are running");
		return -EBUSY;
	}
	llm_arena_rewind(&empty, llm_mod.mark_empty);
	avail = llm_arena_avail(&empty, PAGE_SIZE);
	if (!len || len > avail) {
		snprintf(err, errlen, len ? "the model is %llu bytes but the arena has %zu free (module parameter arena_mb)" :
			 "the model is empty", len, avail);
		return len ? -ENOMEM : -EINVAL;
	}
	if (llm_mod.model_loaded) {
		unload_locked();
		pr_info("model unloaded to make room for a new one\n");
	}
	llm_mod.image = llm_arena_alloc(&llm_mod.arena, len, PAGE_SIZE);
	llm_mod.image_len = len;
	llm_mod.image_filled = 0;
	llm_mod.loading = true;
	llm_mod.upload_owner = owner;
	return 0;
}

/* Reserve every session's context after the model. */
static int bind_contexts_locked(char *err, size_t errlen)
{
	const struct llm_model *m = &llm_mod.model;
	unsigned int i;
	u32 n_ctx = min(m->cfg.n_ctx_train, llm_max_context);
	u64 per = llm_ctx_bytes(m, n_ctx, llm_max_prompt_bytes);

	for (i = 0; i < llm_sessions_max; i++) {
		int ret = llm_ctx_init(&llm_mod.sessions[i].ctx, m, n_ctx,
				       llm_max_prompt_bytes, &llm_mod.arena);

		if (ret) {
			snprintf(err, errlen, "the arena cannot hold %u sessions of %u positions (%llu bytes each, %zu free after the model); raise arena_mb or lower sessions or max_context",
				 llm_sessions_max, n_ctx, per,
				 llm_arena_avail(&llm_mod.arena, 0));
			return ret;
		}
	}
	llm_mod.n_ctx = n_ctx;
	return 0;
}

static int commit_locked(char *err, size_t errlen)
{
	int ret;

	ret = llm_model_load(&llm_mod.model, llm_mod.image, llm_mod.image_len,
			     &llm_mod.arena, llm_force_scalar, err, errlen);
	if (!ret)
		ret = bind_contexts_locked(err, errlen);
	llm_mod.loading = false;
	llm_mod.upload_owner = NULL;
	if (ret) {
		unload_locked();
		return ret;
	}
	llm_mod.model_loaded = true;
	llm_mod.model_gen++;
	pr_info("model '%s' loaded: %u layers, %u embd, %u vocab, %llu params, %llu bytes; %u sessions x %u positions; arena %zu of %zu bytes used\n",
		llm_mod.model.name, llm_mod.model.cfg.n_layers,
		llm_mod.model.cfg.n_embd, llm_mod.model.cfg.n_vocab,
		llm_mod.model.n_params, llm_mod.image_len, llm_sessions_max,
		llm_mod.n_ctx, llm_mod.arena.used, llm_mod.arena.size);
	return 0;
}

static void abort_locked(void)
{
	llm_mod.loading = false;
	llm_mod.upload_owner = NULL;
	unload_locked();
}

int llm_load_fd(int fd, char *err, size_t errlen)
{
	/* fget(), not fdget(): struct fd changed shape in 6.12 */
	struct file *f = fget(fd);
	loff_t pos = 0;
	u64 len;
	int ret;

	if (!f) {
		snprintf(err, errlen, "bad file descriptor");
		return -EBADF;
	}
	if (!(f->f_mode & FMODE_READ) ||
	    !S_ISREG(file_inode(f)->i_mode)) {
		snprintf(err, errlen, "the descriptor is not a regular file open for reading");
		fput(f);
		return -EINVAL;
	}
	len = i_size_read(file_inode(f));
	mutex_lock(&llm_mod.lock);
	ret = begin_locked(NULL, len, err, errlen);
	mutex_unlock(&llm_mod.lock);
	if (ret)
		goto out;

	while (pos < len) {
		size_t want = min_t(u64, LLM_READ_CHUNK, len - pos);
		ssize_t n = kernel_read(f, llm_mod.image + pos, want, &pos);

		if (n <= 0) {
			snprintf(err, errlen, "reading the model failed at byte %lld", pos);
			ret = n ? (int)n : -EIO;
			break;
		}
		WRITE_ONCE(llm_mod.image_filled, pos);
		if (fatal_signal_pending(current)) {
			snprintf(err, errlen, "interrupted");
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	mutex_lock(&llm_mod.lock);
	if (ret)
		abort_locked();
	else
		ret = commit_locked(err, errlen);
	mutex_unlock(&llm_mod.lock);
out:
	fput(f);
	return ret;
}

int llm_load_begin(struct file *owner, u64 len, char *err, size_t errlen)
{
	int ret;

	mutex_lock(&llm_mod.lock);
	ret = begin_locked(owner, len, err, errlen);
	mutex_unlock(&llm_mod.lock);
	return ret;
}

/* The owner's calls are serialised by its session lock. */
int llm_load_data(struct file *owner, const void __user *data, u64 len)
{
	u64 at = llm_mod.image_filled;

	if (READ_ONCE(llm_mod.upload_owner) != owner || !owner)
		return -EINVAL;
	if (len > llm_mod.image_len - at)
		return -EFBIG;
	if (copy_from_user(llm_mod.image + at, data, len))
		return -EFAULT;
	WRITE_ONCE(llm_mod.image_filled, at + len);
	return 0;
}

int llm_load_commit(struct file *owner, char *err, size_t errlen)
{
	int ret;

	mutex_lock(&llm_mod.lock);
	if (llm_mod.upload_owner != owner || !owner) {
		snprintf(err, errlen, "no upload in progress on this file");
		ret = -EINVAL;
	} else if (llm_mod.image_filled != llm_mod.image_len) {
		snprintf(err, errlen, "the upload has %llu of %llu bytes",
			 llm_mod.image_filled, llm_mod.image_len);
		abort_locked();
		ret = -EINVAL;
	} else {
		ret = commit_locked(err, errlen);
	}
	mutex_unlock(&llm_mod.lock);
	return ret;
}

void llm_load_abort(struct file *owner)
{
	mutex_lock(&llm_mod.lock);
	if (owner && llm_mod.upload_owner == owner)
		abort_locked();
	mutex_unlock(&llm_mod.lock);
}

int llm_load_firmware(const char *name)
{
	const struct firmware *fw;
	char err[LLM_ERROR_LEN];
	int ret;

	ret = firmware_request_nowarn(&fw, name, llm_mod.misc.this_device);
	if (ret) {
		pr_err("model=%s: cannot read /lib/firmware/%s (error %d)\n",
		       name, name, ret);
		return ret;
	}
	mutex_lock(&llm_mod.lock);
	ret = begin_locked(NULL, fw->size, err, sizeof(err));
	if (!ret) {
		memcpy(llm_mod.image, fw->data, fw->size);
		llm_mod.image_filled = fw->size;
		ret = commit_locked(err, sizeof(err));
	}
	mutex_unlock(&llm_mod.lock);
	release_firmware(fw);
	if (ret)
		pr_err("model=%s: %s\n", name, err);
	return ret;
}
