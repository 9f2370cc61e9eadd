/* SPDX-License-Identifier: GPL-2.0 */
/*
 * State of the loaded module, shared by its kernel-only files (main.c,
 * loader.c, session.c, device.c, ioctl.c, sysfs.c).  The shared core never
 * includes this.
 */
#ifndef LLM_MODULE_H
#define LLM_MODULE_H

#include <linux/mutex.h>
#include <linux/miscdevice.h>
#include <linux/kobject.h>
#include <linux/kfifo.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/uidgid.h>
#include <linux/atomic.h>

#include "../arena/arena.h"
#include "../uapi/llm.h"
#include "core/model.h"
#include "core/generate.h"

/* Module parameters (main.c), validated once at load. */
extern unsigned int llm_arena_mb;
extern unsigned int llm_sessions_max;
extern unsigned int llm_dev_mode;
extern unsigned int llm_max_prompt_bytes;
extern unsigned int llm_max_new_tokens;
extern unsigned int llm_queue_ttl_s;
extern unsigned int llm_max_prompt_tokens;
extern unsigned int llm_max_context;
extern unsigned int llm_max_wall_ms;
extern bool llm_force_scalar;

/* Bytes of completion text buffered between generator and reader. */
#define LLM_FIFO_BYTES		16384

enum llm_session_state {
	LLM_SESSION_IDLE,	/* no request */
	LLM_SESSION_RUNNING,	/* the worker is generating */
	LLM_SESSION_DONE,	/* finished; output may remain unread */
};

/*
 * Where a request's text goes when the caller waits for all of it
 * (LLM_IOC_GENERATE, the in-kernel API) rather than read()ing it.
 */
struct llm_sink {
	/* Take @len bytes from the session fifo; <0 to stop generation. */
	int (*drain)(struct llm_sink *sink, struct kfifo *fifo,
		     unsigned int len);
	void *arg;
	size_t done;		/* bytes taken so far */
	size_t cap;		/* bytes the sink can take (0: unlimited) */
};

/*
 * One session: a slot of the fixed table, taken by each open of /dev/llm
 * or by llm_session_open().  Its conversation lives in ctx (in the arena,
 * valid while the model of generation model_gen is loaded).
 */
struct llm_ring;

struct llm_session {
	unsigned int id;
	bool in_use;
	bool in_kernel;		/* opened through the in-kernel API */
	kuid_t uid;
	struct mutex lock;	/* one caller at a time on this session */

	struct llm_params params;
	struct llm_ctx ctx;	/* bound at every model load */

	/* I/O buffers, reserved once at module load */
	char *prompt;		/* llm_max_prompt_bytes */
	u32 prompt_len;
	u32 *toks;		/* llm_max_new_tokens ids of this request */
	u32 n_toks;
	struct kfifo out;

	/* the request in flight */
	int state;		/* enum llm_session_state */
	atomic_t cancel;
	bool timed_out;
	bool buffer_full;
	bool wrote_unread;	/* write() submitted, nothing read since */
	bool ever_wrote;	/* this open file has written a prompt */
	struct work_struct work;
	wait_queue_head_t wait;	/* reader and worker wait here */
	struct llm_request req;
	int result;		/* 0 or -errno of the finished request */

	struct llm_ring *ring;	/* mmap ring, once set up */

	/* statistics of this session */
	u64 requests;
	u32 last_prompt_tokens;
	u32 last_generated_tokens;
	u32 last_stop_reason;
	u64 last_prefill_ns;
	u64 last_decode_ns;
};

struct llm_module {
	/* Serialises model state, session claiming and arena allocation. */
	struct mutex lock;
	void *arena_mem;
	struct llm_arena arena;
	struct miscdevice misc;
	struct kobject *kobj;
	struct workqueue_struct *wq;

	/* sessions */
	struct llm_session *sessions;
	void *io_mem;		/* every session's I/O buffers */
	unsigned int sessions_active;

	/* the model */
	bool model_loaded;
	bool loading;		/* an upload or read is filling the arena */
	struct file *upload_owner;
	u8 *image;		/* the GGUF image, in the arena */
	u64 image_len;
	u64 image_filled;	/* bytes received so far */
	size_t mark_empty;	/* arena offset with no model */
	struct llm_model model;
	u32 n_ctx;		/* context positions of each session */
	u64 model_gen;		/* bumped on every load and unload */
	unsigned int running;	/* requests in flight */
	wait_queue_head_t idle;	/* woken when running drops to 0 */

	/* statistics */
	atomic64_t requests_total;
	atomic64_t errors_total;
	atomic64_t tokens_prompt_total;
	atomic64_t tokens_generated_total;
	atomic64_t prefill_milli;	/* last request, tok/s x 1000 */
	atomic64_t decode_milli;
};

extern struct llm_module llm_mod;

/* loader.c: model load/unload (callers hold no lock) */
int llm_load_fd(int fd, char *err, size_t errlen);
int llm_load_begin(struct file *owner, u64 len, char *err, size_t errlen);
int llm_load_data(struct file *owner, const void __user *data, u64 len);
int llm_load_commit(struct file *owner, char *err, size_t errlen);
void llm_load_abort(struct file *owner);
int llm_load_firmware(const char *name);
int llm_unload(void);

/* session.c */
int llm_sessions_init(void);
void llm_sessions_exit(void);
struct llm_session *llm_session_claim(bool in_kernel);
void llm_session_release(struct llm_session *s);
int llm_session_check_params(const struct llm_params *p);
int llm_session_submit(struct llm_session *s);
int llm_request_start(struct llm_session *s,
		      int (*on_text)(void *arg, const char *text, u32 len),
		      void (*on_token)(void *arg, u32 token));
void llm_request_end(struct llm_session *s, int ret);
void llm_request_refused(void);
bool llm_session_cancelled(void *arg);
void llm_session_token(void *arg, u32 tok);
ssize_t llm_session_read(struct llm_session *s, char __user *buf,
			 size_t len, bool nonblock);
int llm_session_wait(struct llm_session *s, struct llm_sink *sink);
void llm_session_cancel_sync(struct llm_session *s);
int llm_session_clear(struct llm_session *s);
bool llm_utf8_valid(const char *s, size_t len);
int llm_session_take_prompt(struct llm_session *s, const char __user *buf,
			    size_t len, bool strip_newline);
int llm_session_begin(struct llm_session *s);
bool llm_session_free(struct llm_session *s);
void llm_queue_prompt(struct llm_session *s);
bool llm_take_queued_prompt(struct llm_session *s);
void llm_queue_flush(void);

/* ring.c: the mmap ring */
int llm_ring_setup(struct llm_session *s, struct llm_ring_setup *rs);
int llm_ring_enter(struct llm_session *s, const struct llm_ring_enter *re);
int llm_ring_mmap(struct llm_session *s, struct vm_area_struct *vma);
bool llm_ring_readable(struct llm_session *s);
void llm_ring_free(struct llm_session *s);

/* device.c and ioctl.c */
int llm_device_init(void);
void llm_device_exit(void);
long llm_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* sysfs.c */
int llm_sysfs_init(void);
void llm_sysfs_exit(void);

#endif /* LLM_MODULE_H */
