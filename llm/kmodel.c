// SPDX-License-Identifier: GPL-2.0
/*
 * The loaded model as a kernel object (see kmodel.h for the rules), the
 * arena it lives in, and installing and unloading it.
 *
 * One model is current at a time.  Installing or unloading holds
 * install_lock (a mutex: it sleeps while the old model's last step ends
 * and while the image is copied) and owns the arena; readers of the
 * current model (opens, sysfs, requests) take only the spinlock for as
 * long as it takes to get a reference, so they never wait for a load.
 */
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/sched.h>

#include "../netfilter/node.h"
#include "kmodel.h"
#include "session.h"
#include "params.h"

#define LLM_COPY_CHUNK	(4u << 20)

static struct {
	struct mutex install_lock;	/* one install or unload at a time */
	spinlock_t lock;		/* loaded and installing */
	struct llm_kmodel *loaded;
	bool installing;

	/* the arena, used only under install_lock */
	void *mem;
	struct llm_arena arena;
	size_t mark_empty;
	size_t max_image;
	/* its figures, published for readers without the lock */
	u64 used;
	u64 peak;
} kms;

int llm_kmodel_init(void)
{
	size_t bytes = (size_t)llm_arena_mb << 20;

	mutex_init(&kms.install_lock);
	spin_lock_init(&kms.lock);
	/*
	 * Huge pages where the allocator finds them (it falls back to small
	 * ones): weight streaming takes fewer TLB misses.  Measured natively
	 * in userspace, where the runtime asks for THP the same way: GEMV
	 * over cold weights 10 to 20% faster (docs/benchmarks.md).
	 */
	kms.mem = vmalloc_huge(bytes, GFP_KERNEL);
	if (!kms.mem) {
		pr_err("cannot reserve a %u MiB arena (vmalloc failed); try a smaller arena_mb\n",
		       llm_arena_mb);
		return -ENOMEM;
	}
	llm_arena_init(&kms.arena, kms.mem, bytes);
	kms.mark_empty = llm_arena_mark(&kms.arena);
	kms.max_image = llm_arena_avail(&kms.arena, PAGE_SIZE);
	return 0;
}

void llm_kmodel_exit(void)
{
	llm_kmodel_unload();
	vfree(kms.mem);
}

static void release(struct kref *ref)
{
	struct llm_kmodel *km = container_of(ref, struct llm_kmodel, ref);

	kfree(km->ctx);
	kfree(km);
}

struct llm_kmodel *llm_kmodel_get(int *err)
{
	struct llm_kmodel *km;

	spin_lock(&kms.lock);
	km = kms.loaded;
	if (km)
		kref_get(&km->ref);
	else
		*err = kms.installing ? -EBUSY : -ENODATA;
	spin_unlock(&kms.lock);
	return km;
}

void llm_kmodel_put(struct llm_kmodel *km)
{
	if (km)
		kref_put(&km->ref, release);
}

bool llm_kmodel_use(struct llm_kmodel *km)
{
	bool ok;

	spin_lock(&km->lock);
	ok = !km->dead;
	if (ok)
		km->users++;
	spin_unlock(&km->lock);
	return ok;
}

void llm_kmodel_unuse(struct llm_kmodel *km)
{
	spin_lock(&km->lock);
	if (!--km->users && km->dead)
		wake_up_all(&km->idle);
	spin_unlock(&km->lock);
}

static bool unused(struct llm_kmodel *km)
{
	bool idle;

	spin_lock(&km->lock);
	idle = !km->users;
	spin_unlock(&km->lock);
	return idle;
}

/*
 * Take the current model away and wait until nothing uses its memory.
 * Every step checks for a dead model between layers, so this is bounded
 * by one layer's compute.  Caller holds install_lock.
 */
static void retire_locked(bool installing)
{
	struct llm_kmodel *km;

	spin_lock(&kms.lock);
	km = kms.loaded;
	kms.loaded = NULL;
	kms.installing = installing;
	spin_unlock(&kms.lock);
	if (!km)
		return;
	spin_lock(&km->lock);
	WRITE_ONCE(km->dead, true);	/* steps look without the lock */
	spin_unlock(&km->lock);
	wait_event(km->idle, unused(km));
	llm_node_model_gone();
	llm_sessions_model_gone(km);
	pr_info("model '%s' unloaded\n", km->model.name);
	llm_kmodel_put(km);
}

static void publish_arena_locked(void)
{
	WRITE_ONCE(kms.used, kms.arena.used - kms.mark_empty);
	WRITE_ONCE(kms.peak, kms.arena.peak - kms.mark_empty);
}

void llm_kmodel_lock(void)
{
	mutex_lock(&kms.install_lock);
}

void llm_kmodel_unlock(void)
{
	mutex_unlock(&kms.install_lock);
}

struct llm_kmodel *llm_kmodel_current_locked(void)
{
	struct llm_kmodel *km;

	lockdep_assert_held(&kms.install_lock);
	spin_lock(&kms.lock);
	km = kms.loaded;
	if (km)
		kref_get(&km->ref);
	spin_unlock(&kms.lock);
	return km;
}

void *llm_kmodel_tail_alloc(size_t bytes)
{
	void *p;

	lockdep_assert_held(&kms.install_lock);
	p = llm_arena_alloc(&kms.arena, bytes, 64);
	if (p)
		memset(p, 0, bytes);
	publish_arena_locked();
	return p;
}

size_t llm_kmodel_tail_mark(void)
{
	lockdep_assert_held(&kms.install_lock);
	return llm_arena_mark(&kms.arena);
}

void llm_kmodel_tail_rewind(size_t mark)
{
	lockdep_assert_held(&kms.install_lock);
	llm_arena_rewind(&kms.arena, mark);
	publish_arena_locked();
}

unsigned int llm_kmodel_slots(void)
{
	return llm_sessions_max;
}

void llm_kmodel_unload(void)
{
	mutex_lock(&kms.install_lock);
	retire_locked(false);
	llm_arena_rewind(&kms.arena, kms.mark_empty);
	publish_arena_locked();
	mutex_unlock(&kms.install_lock);
}

size_t llm_kmodel_max_image(void)
{
	return kms.max_image;
}

void llm_kmodel_arena_stats(u64 *size, u64 *used, u64 *peak)
{
	*size = kms.arena.size;
	*used = READ_ONCE(kms.used);
	*peak = READ_ONCE(kms.peak);
}

/* A big image is copied in pieces, giving the CPU away between them. */
static void copy_image(u8 *dst, const u8 *src, u64 len)
{
	while (len) {
		size_t n = min_t(u64, len, LLM_COPY_CHUNK);

		memcpy(dst, src, n);
		dst += n;
		src += n;
		len -= n;
		cond_resched();
	}
}

/*
 * The model's executor after the contexts (batches of the default size on
 * every pool thread, shared by all sessions through the batcher), then the
 * KV pool the sessions take pages from.
 */
static int bind_executor(struct llm_kmodel *km, char *err, size_t errlen)
{
	const struct llm_model *m = &km->model;
	u32 nb = LLM_BATCH_DEFAULT, i, kv, kv_type = READ_ONCE(llm_kv_type);
	struct llm_feed *feeds;
	int ret;

	ret = llm_exec_init(&km->ex, m, nb, llm_pool_size(), km->n_ctx,
			    &kms.arena);
	feeds = llm_arena_alloc_array(&kms.arena, nb, sizeof(*feeds), 0);
	if (ret || !feeds) {
		snprintf(err, errlen, "the arena cannot hold the executor (%llu bytes, %zu free after the sessions); raise arena_mb",
			 llm_exec_bytes(m, nb, llm_pool_size(), km->n_ctx),
			 llm_arena_avail(&kms.arena, 0));
		return ret ? ret : -ENOMEM;
	}
	llm_batcher_init(&km->batcher, &km->ex, feeds);

	kv = READ_ONCE(llm_kv_positions);
	if (!kv)
		kv = min_t(u64, (u64)llm_sessions_max * km->n_ctx, U32_MAX);
	ret = llm_kv_init(&km->kv, m, kv_type, kv, &kms.arena);
	if (ret) {
		snprintf(err, errlen, "the arena cannot hold a %s KV cache of %u positions (%llu bytes, %zu free after the sessions); raise arena_mb or lower kv_positions",
			 llm_kv_type_name(kv_type), kv,
			 llm_kv_bytes(m, kv_type, kv),
			 llm_arena_avail(&kms.arena, 0));
		return ret;
	}
	for (i = 0; i < llm_sessions_max; i++) {
		km->ctx[i].ex = &km->ex;
		km->ctx[i].kv = &km->kv;
	}
	return 0;
}

void llm_kmodel_release_ctx(struct llm_kmodel *km, unsigned int slot)
{
	/* a ring member's contexts hold the ring's conversations */
	if (llm_node_role() == 2)
		return;
	if (!km || !llm_kmodel_use(km))
		return;		/* a dying model's pool goes with its arena */
	llm_ctx_reset(&km->ctx[slot]);
	llm_kmodel_unuse(km);
}

/* Reserve every session slot's context after the model. */
static int bind_contexts(struct llm_kmodel *km, char *err, size_t errlen)
{
	const struct llm_model *m = &km->model;
	u32 n_ctx = min(m->cfg.n_ctx_train, READ_ONCE(llm_max_context));
	u64 per = llm_ctx_bytes(m, n_ctx, llm_max_prompt_bytes);
	unsigned int i;

	for (i = 0; i < llm_sessions_max; i++) {
		int ret = llm_ctx_init(&km->ctx[i], m, n_ctx,
				       llm_max_prompt_bytes, &kms.arena);

		if (ret) {
			snprintf(err, errlen, "the arena cannot hold %u sessions of %u positions (%llu bytes each, %zu free after the model); raise arena_mb or lower sessions or max_context",
				 llm_sessions_max, n_ctx, per,
				 llm_arena_avail(&kms.arena, 0));
			return ret;
		}
	}
	km->n_ctx = n_ctx;
	return bind_executor(km, err, errlen);
}

static int build_locked(struct llm_kmodel *km, const void *image, u64 len,
			u32 first, u32 end, char *err, size_t errlen)
{
	u8 *dst;
	int ret;

	if (!len) {
		snprintf(err, errlen, "the model is empty");
		return -EINVAL;
	}
	if (len > kms.max_image) {
		snprintf(err, errlen, "the model is %llu bytes but the arena has %zu free (module parameter arena_mb)",
			 len, kms.max_image);
		return -ENOMEM;
	}
	dst = llm_arena_alloc(&kms.arena, len, PAGE_SIZE);
	if (!dst) {
		snprintf(err, errlen, "the arena cannot hold the %llu-byte image", len);
		return -ENOMEM;
	}
	copy_image(dst, image, len);
	km->image_len = len;
	ret = llm_model_load_layers(&km->model, dst, len, first, end,
				    &kms.arena, READ_ONCE(llm_force_scalar),
				    err, errlen);
	/* the arena's copy is ours to lay out for the tiles */
	if (!ret && llm_model_repack(&km->model, &kms.arena)) {
		snprintf(err, errlen, "the arena has no room to repack the weights");
		ret = -ENOMEM;
	}
	if (!ret)
		ret = bind_contexts(km, err, errlen);
	return ret;
}

int llm_kmodel_install(const void *image, u64 len, u32 first, u32 end,
		       char *err, size_t errlen)
{
	struct llm_kmodel *km;
	int ret;

	km = kzalloc(sizeof(*km), GFP_KERNEL);
	if (!km)
		goto nomem;
	km->ctx = kcalloc(llm_sessions_max, sizeof(*km->ctx), GFP_KERNEL);
	if (!km->ctx) {
		kfree(km);
		goto nomem;
	}
	kref_init(&km->ref);
	spin_lock_init(&km->lock);
	init_waitqueue_head(&km->idle);

	mutex_lock(&kms.install_lock);
	retire_locked(true);
	llm_arena_rewind(&kms.arena, kms.mark_empty);
	ret = build_locked(km, image, len, first, end, err, errlen);
	if (ret)
		llm_arena_rewind(&kms.arena, kms.mark_empty);
	publish_arena_locked();
	if (!ret)
		pr_info("model '%s' loaded: layers %u:%u of %u, %u embd, %u vocab, %llu params, %llu bytes; %u sessions x %u positions, KV cache %u positions; arena %llu of %zu bytes used\n",
			km->model.name, km->model.layer_first,
			km->model.layer_end, km->model.cfg.n_layers,
			km->model.cfg.n_embd,
			km->model.cfg.n_vocab, km->model.n_params, len,
			llm_sessions_max, km->n_ctx,
			km->kv.n_pages * LLM_KV_PAGE, READ_ONCE(kms.used),
			kms.arena.size);

	spin_lock(&kms.lock);
	kms.installing = false;
	if (!ret)
		kms.loaded = km;	/* the module's reference */
	spin_unlock(&kms.lock);
	mutex_unlock(&kms.install_lock);

	if (ret) {
		llm_kmodel_put(km);
		return ret;
	}
	return 0;

nomem:
	snprintf(err, errlen, "out of kernel memory");
	return -ENOMEM;
}
