/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loaded model as a kernel object, and the arena it lives in.
 *
 * Two counts guard it.  The reference count (kref) keeps the struct: the
 * module holds one while the model is current, each session holds one
 * for the model its conversation is on.  The use count keeps the arena
 * memory (image, tables, contexts): a request holds it only for the length
 * of one step.  Unloading (or loading another model) marks the model dead,
 * which every step notices between layers, waits for the use count to
 * drop to zero, and only then gives the arena back; a session or request
 * that meets a dead model ends with ENODEV, never touching its memory.
 * Nobody waits on anything unbounded while holding a use, so an unload
 * always completes within about one layer's compute.
 */
#ifndef LLM_KMODEL_H
#define LLM_KMODEL_H

#include <linux/kref.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "core/model.h"
#include "core/kv.h"
#include "batcher.h"

struct llm_kmodel {
	struct kref ref;
	struct llm_model model;		/* views into the image */
	u64 image_len;
	u32 n_ctx;			/* positions of each session's context */
	struct llm_ctx *ctx;		/* one per session slot */
	struct llm_exec ex;		/* runs every session's steps */
	struct llm_kv kv;		/* the sessions' KV pages */
	struct llm_batcher batcher;	/* ... several at once (batcher.c) */

	spinlock_t lock;		/* dead and users */
	bool dead;			/* unloading: no new uses */
	unsigned int users;		/* steps using the arena memory now */
	wait_queue_head_t idle;		/* woken when users drops to 0 */
};

int llm_kmodel_init(void);
void llm_kmodel_exit(void);

/*
 * The current model with a reference, or NULL with *err = -ENODATA (none
 * loaded) or -EBUSY (one is being installed).
 */
struct llm_kmodel *llm_kmodel_get(int *err);
void llm_kmodel_put(struct llm_kmodel *km);

/* Give a closed session slot's KV pages back to @km's pool. */
void llm_kmodel_release_ctx(struct llm_kmodel *km, unsigned int slot);

/* Begin/end a bounded use of @km's memory; false once it is dying. */
bool llm_kmodel_use(struct llm_kmodel *km);
void llm_kmodel_unuse(struct llm_kmodel *km);

static inline bool llm_kmodel_dead(struct llm_kmodel *km)
{
	return READ_ONCE(km->dead);
}

/*
 * Make the GGUF image at @image (@len bytes, outside the arena) the model:
 * the current one is unloaded first, then the image is copied into the
 * arena and bound, and a context reserved for every session slot.  With
 * @end non-zero only layers [@first, @end) are bound (the image may be
 * their slice, core/slice.h).  On failure no model is loaded and @err
 * says why.
 */
int llm_kmodel_install(const void *image, u64 len, u32 first, u32 end,
		       char *err, size_t errlen);

/* Unload the current model, if any (its requests end with ENODEV). */
void llm_kmodel_unload(void);

/* The largest image the arena can take. */
size_t llm_kmodel_max_image(void);

/*
 * The network ring node's buffers come from the arena after the model
 * (netfilter/config.c): all under the install lock, which also orders
 * ring configuration against loads.  A load or unload takes the node
 * down first (llm_node_model_gone()).
 */
void llm_kmodel_lock(void);
void llm_kmodel_unlock(void);
/* The current model with a reference (install lock held), or NULL. */
struct llm_kmodel *llm_kmodel_current_locked(void);
void *llm_kmodel_tail_alloc(size_t bytes);
size_t llm_kmodel_tail_mark(void);
void llm_kmodel_tail_rewind(size_t mark);
/* Sessions every model has contexts for. */
unsigned int llm_kmodel_slots(void);

/* Arena figures for sysfs and GET_INFO. */
void llm_kmodel_arena_stats(u64 *size, u64 *used, u64 *peak);

#endif /* LLM_KMODEL_H */
