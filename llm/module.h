/* SPDX-License-Identifier: GPL-2.0 */
/*
 * State of the loaded module, shared by its kernel-only files (main.c,
 * device.c, sysfs.c).  The shared core never includes this.
 */
#ifndef LLM_MODULE_H
#define LLM_MODULE_H

#include <linux/mutex.h>
#include <linux/miscdevice.h>
#include <linux/kobject.h>

#include "../arena/arena.h"

/* Module parameters, validated once in llm_params_check(). */
extern unsigned int llm_arena_mb;
extern unsigned int llm_sessions_max;
extern unsigned int llm_dev_mode;

struct llm_module {
	/* Serialises model load/unload and every arena allocation. */
	struct mutex lock;
	void *arena_mem;
	struct llm_arena arena;
	unsigned int sessions_active;
	struct miscdevice misc;
	struct kobject *kobj;
};

extern struct llm_module llm_mod;

int llm_device_init(void);
void llm_device_exit(void);
int llm_sysfs_init(void);
void llm_sysfs_exit(void);

#endif /* LLM_MODULE_H */
