// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/llm/: one value per file.  Documented in
 * docs/sysfs-kernel-llm (kernel ABI style).
 */
#include <linux/kobject.h>
#include <linux/sysfs.h>

#include "module.h"
#include "../uapi/llm.h"

#define LLM_SHOW(_name, _fmt, _expr)					\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	ssize_t n;							\
									\
	mutex_lock(&llm_mod.lock);					\
	n = sysfs_emit(buf, _fmt "\n", _expr);				\
	mutex_unlock(&llm_mod.lock);					\
	return n;							\
}									\
static struct kobj_attribute _name##_attr = __ATTR_RO(_name)

LLM_SHOW(abi_version, "%u", LLM_ABI_VERSION);
LLM_SHOW(arena_size, "%zu", llm_mod.arena.size);
LLM_SHOW(arena_used, "%zu", llm_mod.arena.used);
LLM_SHOW(arena_peak, "%zu", llm_mod.arena.peak);
LLM_SHOW(sessions_max, "%u", llm_sessions_max);
LLM_SHOW(sessions_active, "%u", llm_mod.sessions_active);

static struct attribute *llm_attrs[] = {
	&abi_version_attr.attr,
	&arena_size_attr.attr,
	&arena_used_attr.attr,
	&arena_peak_attr.attr,
	&sessions_max_attr.attr,
	&sessions_active_attr.attr,
	NULL,
};

static const struct attribute_group llm_group = {
	.attrs = llm_attrs,
};

int llm_sysfs_init(void)
{
	int ret;

	llm_mod.kobj = kobject_create_and_add("llm", kernel_kobj);
	if (!llm_mod.kobj)
		return -ENOMEM;
	ret = sysfs_create_group(llm_mod.kobj, &llm_group);
	if (ret) {
		kobject_put(llm_mod.kobj);
		llm_mod.kobj = NULL;
	}
	return ret;
}

void llm_sysfs_exit(void)
{
	if (!llm_mod.kobj)
		return;
	sysfs_remove_group(llm_mod.kobj, &llm_group);
	kobject_put(llm_mod.kobj);
	llm_mod.kobj = NULL;
}
