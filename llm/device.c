// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/llm: the misc device, its file operations and ioctl dispatch.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/uaccess.h>
#include <linux/slab.h>

#include "module.h"
#include "../uapi/llm.h"

/*
 * Size-prefixed structs (see uapi/llm.h): read the caller's size, copy what
 * both sides know, insist that anything newer than us is zero.
 */
static int llm_copy_in(void *kstruct, size_t ksize, void __user *ustruct,
		       u32 *usize)
{
	int ret;

	if (get_user(*usize, (u32 __user *)ustruct))
		return -EFAULT;
	if (*usize < ksize)
		return -EINVAL;
	ret = copy_struct_from_user(kstruct, ksize, ustruct, *usize);
	if (ret)
		return ret == -E2BIG ? -EINVAL : ret;
	*(u32 *)kstruct = ksize;
	return 0;
}

static int llm_copy_out(void __user *ustruct, const void *kstruct,
			size_t ksize)
{
	return copy_to_user(ustruct, kstruct, ksize) ? -EFAULT : 0;
}

static long llm_ioctl_get_info(void __user *uarg)
{
	struct llm_info info;
	u32 usize;
	int ret;

	ret = llm_copy_in(&info, sizeof(info), uarg, &usize);
	if (ret)
		return ret;
	if (info.flags || info.reserved0)
		return -EINVAL;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.abi_version = LLM_ABI_VERSION;
	mutex_lock(&llm_mod.lock);
	info.sessions_max = llm_sessions_max;
	info.sessions_active = llm_mod.sessions_active;
	info.arena_size = llm_mod.arena.size;
	info.arena_used = llm_mod.arena.used;
	info.arena_peak = llm_mod.arena.peak;
	mutex_unlock(&llm_mod.lock);
	return llm_copy_out(uarg, &info, sizeof(info));
}

static long llm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	if (_IOC_TYPE(cmd) != LLM_IOC_MAGIC)
		return -ENOTTY;
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(LLM_IOC_GET_INFO):
		return llm_ioctl_get_info(uarg);
	default:
		return -ENOTTY;
	}
}

static int llm_open(struct inode *inode, struct file *file)
{
	int ret = 0;

	mutex_lock(&llm_mod.lock);
	if (llm_mod.sessions_active >= llm_sessions_max) {
		pr_info_ratelimited("open refused: all %u session slots are in use (module parameter sessions)\n",
				    llm_sessions_max);
		ret = -EBUSY;
	} else {
		llm_mod.sessions_active++;
	}
	mutex_unlock(&llm_mod.lock);
	return ret;
}

static int llm_release(struct inode *inode, struct file *file)
{
	mutex_lock(&llm_mod.lock);
	llm_mod.sessions_active--;
	mutex_unlock(&llm_mod.lock);
	return 0;
}

static const struct file_operations llm_fops = {
	.owner = THIS_MODULE,
	.open = llm_open,
	.release = llm_release,
	.unlocked_ioctl = llm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

int llm_device_init(void)
{
	llm_mod.misc.minor = MISC_DYNAMIC_MINOR;
	llm_mod.misc.name = "llm";
	llm_mod.misc.fops = &llm_fops;
	llm_mod.misc.mode = llm_dev_mode;
	return misc_register(&llm_mod.misc);
}

void llm_device_exit(void)
{
	misc_deregister(&llm_mod.misc);
}
