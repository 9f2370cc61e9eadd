// SPDX-License-Identifier: GPL-2.0
/*
 * Module init and exit: check the parameters, reserve the arena, publish
 * sysfs and /dev/llm.  Each step undoes the ones before it on failure.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/vmalloc.h>
#include <linux/mm.h>

#include "module.h"
#include "../uapi/llm.h"

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
	bytes = (size_t)llm_arena_mb << 20;
	llm_mod.arena_mem = vmalloc(bytes);
	if (!llm_mod.arena_mem) {
		pr_err("cannot reserve a %u MiB arena (vmalloc failed); try a smaller arena_mb\n",
		       llm_arena_mb);
		return -ENOMEM;
	}
	llm_arena_init(&llm_mod.arena, llm_mod.arena_mem, bytes);

	ret = llm_sysfs_init();
	if (ret)
		goto err_arena;
	ret = llm_device_init();
	if (ret)
		goto err_sysfs;

	pr_info("loaded: ABI %u, arena %u MiB, %u session slots\n",
		LLM_ABI_VERSION, llm_arena_mb, llm_sessions_max);
	return 0;

err_sysfs:
	llm_sysfs_exit();
err_arena:
	vfree(llm_mod.arena_mem);
	return ret;
}

static void __exit llm_exit(void)
{
	llm_device_exit();
	llm_sysfs_exit();
	vfree(llm_mod.arena_mem);
	pr_info("unloaded\n");
}

module_init(llm_init);
module_exit(llm_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The llm authors");
MODULE_DESCRIPTION("Run quantized transformer language models in the kernel");
MODULE_VERSION("0.1");
