// SPDX-License-Identifier: GPL-2.0
/*
 * Module init and exit: check the parameters, reserve the arena and the
 * session table, start the workqueue, publish sysfs and /dev/llm, and load
 * the model named by model= if any.  Each step undoes the ones before it
 * on failure; exit mirrors init.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/vmalloc.h>
#include <linux/mm.h>

#include "module.h"

#define LLM_ARENA_MB_MIN	1
#define LLM_SESSIONS_LIMIT	256

unsigned int llm_arena_mb = 64;
module_param_named(arena_mb, llm_arena_mb, uint, 0444);
MODULE_PARM_DESC(arena_mb, "MiB reserved at load for models, KV caches and scratch (default 64)");

unsigned int llm_sessions_max = 8;
module_param_named(sessions, llm_sessions_max, uint, 0444);
MODULE_PARM_DESC(sessions, "Session slots: concurrent opens of /dev/llm (default 8, 1..256)");

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
static int llm_param_set_limit(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int ret = kstrtouint(val, 0, &v);

	if (ret)
		return ret;
	if (!v && kp->arg != &llm_max_wall_ms)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

static const struct kernel_param_ops llm_limit_ops = {
	.set = llm_param_set_limit,
	.get = param_get_uint,
};

unsigned int llm_max_prompt_tokens = 4096;
module_param_cb(max_prompt_tokens, &llm_limit_ops, &llm_max_prompt_tokens,
		0644);
MODULE_PARM_DESC(max_prompt_tokens, "Most tokens one prompt may become (default 4096)");

unsigned int llm_max_context = 1024;
module_param_cb(max_context, &llm_limit_ops, &llm_max_context, 0644);
MODULE_PARM_DESC(max_context, "Context positions per session, capped by the model's; applies at the next model load (default 1024)");

unsigned int llm_max_wall_ms;
module_param_cb(max_wall_ms, &llm_limit_ops, &llm_max_wall_ms, 0644);
MODULE_PARM_DESC(max_wall_ms, "Wall time one request may take, ms (default 0: no limit)");

bool llm_force_scalar;
module_param_named(force_scalar, llm_force_scalar, bool, 0644);
MODULE_PARM_DESC(force_scalar, "Use the scalar reference kernels, not SIMD; applies at the next model load (default N)");

struct llm_module llm_mod;

static int llm_params_check(void)
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
	return 0;
}

static int __init llm_init(void)
{
	size_t bytes;
	int ret;

	ret = llm_params_check();
	if (ret)
		return ret;

	mutex_init(&llm_mod.lock);
	init_waitqueue_head(&llm_mod.idle);
	bytes = (size_t)llm_arena_mb << 20;
	llm_mod.arena_mem = vmalloc(bytes);
	if (!llm_mod.arena_mem) {
		pr_err("cannot reserve a %u MiB arena (vmalloc failed); try a smaller arena_mb\n",
		       llm_arena_mb);
		return -ENOMEM;
	}
	llm_arena_init(&llm_mod.arena, llm_mod.arena_mem, bytes);
	llm_mod.mark_empty = llm_arena_mark(&llm_mod.arena);

	ret = llm_sessions_init();
	if (ret) {
		pr_err("cannot allocate %u session slots\n", llm_sessions_max);
		goto err_arena;
	}
	llm_mod.wq = alloc_workqueue("llm", WQ_UNBOUND, 0);
	if (!llm_mod.wq) {
		ret = -ENOMEM;
		goto err_sessions;
	}
	ret = llm_sysfs_init();
	if (ret)
		goto err_wq;
	ret = llm_device_init();
	if (ret)
		goto err_sysfs;
	if (llm_model_param && llm_model_param[0]) {
		ret = llm_load_firmware(llm_model_param);
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
err_wq:
	destroy_workqueue(llm_mod.wq);
err_sessions:
	llm_sessions_exit();
err_arena:
	vfree(llm_mod.arena_mem);
	return ret;
}

static void __exit llm_exit(void)
{
	llm_device_exit();
	llm_sysfs_exit();
	destroy_workqueue(llm_mod.wq);
	llm_sessions_exit();
	vfree(llm_mod.arena_mem);
	pr_info("unloaded\n");
}

module_init(llm_init);
module_exit(llm_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The llm authors");
MODULE_DESCRIPTION("Run quantized transformer language models in the kernel");
MODULE_VERSION("0.1");
