// SPDX-License-Identifier: GPL-2.0
/*
 * Module init and exit: check the parameters, start the compute threads,
 * reserve the arena and the sessions' I/O buffers, start the workqueue,
 * publish sysfs and /dev/llm, and load the model named by model= if any.
 * Each step undoes the ones before it on failure; exit mirrors init.
 */
#include <linux/cpumask.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/vmalloc.h>
#include <linux/mm.h>

#include "../netfilter/node.h"
#include "params.h"
#include "core/platform.h"
#include "kmodel.h"
#include "core/kv.h"
#include "session.h"
#include "request.h"
#include "oneshot.h"
#include "loader.h"
#include "device.h"
#include "sysfs.h"

#define LLM_ARENA_MB_MIN	1
#define LLM_SESSIONS_LIMIT	256

unsigned int llm_arena_mb = 64;
module_param_named(arena_mb, llm_arena_mb, uint, 0444);
MODULE_PARM_DESC(arena_mb, "MiB reserved at load for models, KV caches and scratch (default 64)");

unsigned int llm_sessions_max = 8;
module_param_named(sessions, llm_sessions_max, uint, 0444);
MODULE_PARM_DESC(sessions, "Session slots: concurrent opens of /dev/llm (default 8, 1..256)");

unsigned int llm_sessions_kernel = 1;
module_param_named(sessions_kernel, llm_sessions_kernel, uint, 0444);
MODULE_PARM_DESC(sessions_kernel, "Session slots only the in-kernel API may take (default 1, less than sessions)");

unsigned int llm_dev_mode = 0666;
module_param_named(dev_mode, llm_dev_mode, uint, 0444);
MODULE_PARM_DESC(dev_mode, "Permission bits of /dev/llm (default 0666)");

static char *llm_model_param;
module_param_named(model, llm_model_param, charp, 0444);
MODULE_PARM_DESC(model, "GGUF file under /lib/firmware to load at insmod (default none)");

unsigned int llm_max_prompt_bytes = 16384;
module_param_named(max_prompt_bytes, llm_max_prompt_bytes, uint, 0444);
MODULE_PARM_DESC(max_prompt_bytes, "Longest prompt one write or request may carry, bytes (default 16384)");

unsigned int llm_max_new_tokens = 2048;
module_param_named(max_new_tokens, llm_max_new_tokens, uint, 0444);
MODULE_PARM_DESC(max_new_tokens, "Most tokens one request may generate (default 2048)");

unsigned int llm_queue_ttl_s = 60;
module_param_named(queue_ttl_s, llm_queue_ttl_s, uint, 0444);
MODULE_PARM_DESC(queue_ttl_s, "Seconds a one-shot prompt (written, then closed unread) waits for its user's next read (default 60, 1..86400)");

/* Checked at use: writable at run time by root through sysfs. */
static int llm_param_set(const char *val, const struct kernel_param *kp,
			 bool zero_ok)
{
	unsigned int v;
	int ret = kstrtouint(val, 0, &v);

	if (ret)
		return ret;
	if (!v && !zero_ok)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

static int llm_param_set_positive(const char *val,
				  const struct kernel_param *kp)
{
	return llm_param_set(val, kp, false);
}

static int llm_param_set_any(const char *val, const struct kernel_param *kp)
{
	return llm_param_set(val, kp, true);
}

static const struct kernel_param_ops llm_positive_ops = {
	.set = llm_param_set_positive,
	.get = param_get_uint,
};

static const struct kernel_param_ops llm_any_ops = {
	.set = llm_param_set_any,
	.get = param_get_uint,
};

unsigned int llm_sessions_per_user = 4;
module_param_cb(sessions_per_user, &llm_positive_ops, &llm_sessions_per_user,
		0644);
MODULE_PARM_DESC(sessions_per_user, "Sessions one user (fsuid) may have open through /dev/llm at once (default 4)");

unsigned int llm_max_prompt_tokens = 4096;
module_param_cb(max_prompt_tokens, &llm_positive_ops, &llm_max_prompt_tokens,
		0644);
MODULE_PARM_DESC(max_prompt_tokens, "Most tokens one prompt may become (default 4096)");

unsigned int llm_max_context = 1024;
module_param_cb(max_context, &llm_positive_ops, &llm_max_context, 0644);
MODULE_PARM_DESC(max_context, "Context positions per session, capped by the model's; applies at the next model load (default 1024)");

unsigned int llm_kv_positions;
module_param_cb(kv_positions, &llm_any_ops, &llm_kv_positions, 0644);
MODULE_PARM_DESC(kv_positions, "Positions of the KV cache the sessions share, taken as contexts grow; applies at the next model load (default 0: sessions x max_context, so every session can fill its context)");

/* kv_type: "f32" or "f16", kept as the type (LLM_T_*) */
static int llm_param_set_kv_type(const char *val,
				 const struct kernel_param *kp)
{
	char name[8];
	u32 type;

	strscpy(name, val, sizeof(name));
	strim(name);
	if (llm_kv_type_parse(name, &type))
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, type);
	return 0;
}

static int llm_param_get_kv_type(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  llm_kv_type_name(READ_ONCE(*(unsigned int *)kp->arg)));
}

static const struct kernel_param_ops llm_kv_type_ops = {
	.set = llm_param_set_kv_type,
	.get = llm_param_get_kv_type,
};

unsigned int llm_kv_type = LLM_T_F32;
module_param_cb(kv_type, &llm_kv_type_ops, &llm_kv_type, 0644);
MODULE_PARM_DESC(kv_type, "Element type of the KV cache: f32 or f16 (half the memory; keys and values rounded to half precision, as llama.cpp's default cache); applies at the next model load (default f32)");

unsigned int llm_max_wall_ms = 600000;
module_param_cb(max_wall_ms, &llm_any_ops, &llm_max_wall_ms, 0644);
MODULE_PARM_DESC(max_wall_ms, "Wall time one request may take from its first step, ms (default 600000; 0: no limit)");

bool llm_force_scalar;
module_param_named(force_scalar, llm_force_scalar, bool, 0644);
MODULE_PARM_DESC(force_scalar, "Use the scalar reference kernels, not SIMD; applies at the next model load (default N)");

unsigned int llm_threads;
module_param_named(threads, llm_threads, uint, 0444);
MODULE_PARM_DESC(threads, "Threads that compute one step, the caller included (default 0: one per online CPU at load; 1..1024; fixed at load)");

/* The network ring (netfilter/, docs/ring.md); read at each use. */
unsigned int llm_ring_timeout_ms = 10000;
module_param_cb(ring_timeout_ms, &llm_positive_ops, &llm_ring_timeout_ms, 0644);
MODULE_PARM_DESC(ring_timeout_ms, "Ring head: how long a step may wait for the ring's answer before it fails with ETIMEDOUT, ms (default 10000)");

unsigned int llm_ring_rto_min_ms = 20;
module_param_cb(ring_rto_min_ms, &llm_positive_ops, &llm_ring_rto_min_ms, 0644);
MODULE_PARM_DESC(ring_rto_min_ms, "Ring: least retransmission timeout, ms; the timeout follows measured round trips above it (default 20)");

unsigned int llm_ring_rto_max_ms = 1000;
module_param_cb(ring_rto_max_ms, &llm_positive_ops, &llm_ring_rto_max_ms, 0644);
MODULE_PARM_DESC(ring_rto_max_ms, "Ring: most retransmission timeout, ms, which back-off doubles up to (default 1000)");

unsigned int llm_ring_retries = 6;
module_param_cb(ring_retries, &llm_positive_ops, &llm_ring_retries, 0644);
MODULE_PARM_DESC(ring_retries, "Ring: timeouts in a row after which a peer is declared dead (default 6)");

unsigned int llm_ring_slots;
module_param_cb(ring_slots, &llm_any_ops, &llm_ring_slots, 0644);
MODULE_PARM_DESC(ring_slots, "Ring: frames being received at once, each a buffer of one prefill batch of hidden states in the arena; applies at the next ring up (default 0: 2 x sessions + 2)");

static int check_module_params(void)
{
	/* Leave at least half of RAM to the rest of the system. */
	u64 ram_mb = (u64)totalram_pages() >> (20 - PAGE_SHIFT);

	if (llm_arena_mb < LLM_ARENA_MB_MIN || llm_arena_mb > ram_mb / 2) {
		pr_err("arena_mb=%u is out of range: it must be %u..%llu (half of this machine's %llu MiB of RAM)\n",
		       llm_arena_mb, LLM_ARENA_MB_MIN, ram_mb / 2, ram_mb);
		return -EINVAL;
	}
	if (llm_sessions_max < 1 || llm_sessions_max > LLM_SESSIONS_LIMIT) {
		pr_err("sessions=%u is out of range: it must be 1..%u\n",
		       llm_sessions_max, LLM_SESSIONS_LIMIT);
		return -EINVAL;
	}
	if (llm_sessions_kernel >= llm_sessions_max) {
		pr_err("sessions_kernel=%u leaves no session for userspace: it must be less than sessions (%u)\n",
		       llm_sessions_kernel, llm_sessions_max);
		return -EINVAL;
	}
	if (!llm_sessions_per_user) {
		pr_err("sessions_per_user=0 would refuse every open\n");
		return -EINVAL;
	}
	if (llm_dev_mode & ~0777U) {
		pr_err("dev_mode=%#o is not a permission mode (0..0777)\n",
		       llm_dev_mode);
		return -EINVAL;
	}
	if (llm_max_prompt_bytes < 1 || llm_max_prompt_bytes > (1u << 20)) {
		pr_err("max_prompt_bytes=%u is out of range: it must be 1..1048576\n",
		       llm_max_prompt_bytes);
		return -EINVAL;
	}
	if (llm_max_new_tokens < 1 || llm_max_new_tokens > (1u << 20)) {
		pr_err("max_new_tokens=%u is out of range: it must be 1..1048576\n",
		       llm_max_new_tokens);
		return -EINVAL;
	}
	if (llm_queue_ttl_s < 1 || llm_queue_ttl_s > 86400) {
		pr_err("queue_ttl_s=%u is out of range: it must be 1..86400\n",
		       llm_queue_ttl_s);
		return -EINVAL;
	}
	if (llm_threads > LLM_THREADS_MAX) {
		pr_err("threads=%u is out of range: it must be 1..%u, or 0 for one per online CPU\n",
		       llm_threads, LLM_THREADS_MAX);
		return -EINVAL;
	}
	/* what /sys/module/llm/parameters/threads shows */
	if (!llm_threads)
		llm_threads = min_t(unsigned int, num_online_cpus(),
				    LLM_THREADS_MAX);
	return 0;
}

static int __init llm_init(void)
{
	int ret;

	ret = check_module_params();
	if (ret)
		return ret;
	ret = llm_pool_init(llm_threads);
	if (ret) {
		pr_err("cannot start %u threads (error %d)\n", llm_threads,
		       ret);
		return ret;
	}
	ret = llm_kmodel_init();
	if (ret)
		goto err_pool;
	ret = llm_sessions_init();
	if (ret)
		goto err_kmodel;
	ret = llm_nf_init();
	if (ret)
		goto err_sessions_only;
	ret = llm_requests_init();
	if (ret)
		goto err_nf;
	ret = llm_sysfs_init();
	if (ret)
		goto err_requests;
	ret = llm_device_init();
	if (ret)
		goto err_sysfs;
	if (llm_model_param && llm_model_param[0]) {
		ret = llm_load_firmware(llm_model_param, llm_device());
		if (ret)
			goto err_device;
	}

	pr_info("loaded: ABI %u, arena %u MiB, %u session slots\n",
		LLM_ABI_VERSION, llm_arena_mb, llm_sessions_max);
	return 0;

err_device:
	llm_device_exit();
err_sysfs:
	llm_sysfs_exit();
err_requests:
	llm_requests_exit();
err_nf:
	llm_nf_exit();
err_sessions_only:
	llm_sessions_exit();
err_kmodel:
	llm_kmodel_exit();
err_pool:
	llm_pool_exit();
	return ret;
}

/*
 * No session is left: every open file holds a reference to the module,
 * and so does every module using the in-kernel API.
 */
static void __exit llm_exit(void)
{
	llm_device_exit();
	llm_nf_exit();		/* the node goes down with its namespace hooks */
	llm_sysfs_exit();
	llm_requests_exit();
	llm_oneshot_exit();
	llm_sessions_exit();
	llm_kmodel_exit();
	llm_pool_exit();
	pr_info("unloaded\n");
}

module_init(llm_init);
module_exit(llm_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The llm authors");
MODULE_DESCRIPTION("Run quantized transformer language models in the kernel");
MODULE_VERSION("0.1");
