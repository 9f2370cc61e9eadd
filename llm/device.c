// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/llm: the misc device and its file operations.  Each open file is a
 * session: write() submits a prompt, read() streams the completion (then
 * end-of-file), poll() says which of the two would not block.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/poll.h>
#include <linux/uaccess.h>

#include "module.h"

static int llm_open(struct inode *inode, struct file *file)
{
	struct llm_session *s = llm_session_claim(false);

	if (!s)
		return -EBUSY;
	file->private_data = s;
	return nonseekable_open(inode, file);
}

static int llm_release(struct inode *inode, struct file *file)
{
	struct llm_session *s = file->private_data;

	llm_load_abort(file);
	if (s->wrote_unread) {
		/* `echo PROMPT > /dev/llm`: the next `cat` gets the answer */
		llm_session_cancel_sync(s);
		llm_queue_prompt(s);
	}
	llm_session_release(s);
	return 0;
}

static ssize_t llm_read(struct file *file, char __user *buf, size_t len,
			loff_t *ppos)
{
	struct llm_session *s = file->private_data;
	ssize_t ret;

	if (!len)
		return 0;
	if (mutex_lock_interruptible(&s->lock))
		return -EINTR;
	ret = llm_session_read(s, buf, len, file->f_flags & O_NONBLOCK);
	mutex_unlock(&s->lock);
	return ret;
}

static ssize_t llm_write(struct file *file, const char __user *buf,
			 size_t len, loff_t *ppos)
{
	struct llm_session *s = file->private_data;
	int ret;

	if (!len)
		return 0;
	if (mutex_lock_interruptible(&s->lock))
		return -EINTR;
	ret = llm_session_begin(s);
	if (!ret)
		ret = llm_session_take_prompt(s, buf, len, true);
	if (!ret)
		ret = llm_session_submit(s);
	if (!ret) {
		s->ever_wrote = true;
		s->wrote_unread = true;
	}
	mutex_unlock(&s->lock);
	return ret ? ret : (ssize_t)len;
}

/* No s->lock here: mmap_lock is held (see llm_ring_mmap()). */
static int llm_mmap(struct file *file, struct vm_area_struct *vma)
{
	return llm_ring_mmap(file->private_data, vma);
}

static __poll_t llm_poll(struct file *file, struct poll_table_struct *wait)
{
	struct llm_session *s = file->private_data;
	__poll_t mask = 0;
	int state;

	poll_wait(file, &s->wait, wait);
	if (s->ring)
		return llm_ring_readable(s) ? EPOLLIN | EPOLLRDNORM : 0;
	/* read() does not block unless a request is running with no text */
	/* pairs with the worker's release of DONE */
	state = smp_load_acquire(&s->state);
	if (!kfifo_is_empty(&s->out) || state != LLM_SESSION_RUNNING)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (llm_session_free(s))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static const struct file_operations llm_fops = {
	.owner = THIS_MODULE,
	.open = llm_open,
	.release = llm_release,
	.read = llm_read,
	.write = llm_write,
	.poll = llm_poll,
	.mmap = llm_mmap,
	.unlocked_ioctl = llm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	/*
	 * No .llseek: nonseekable_open() makes lseek() ESPIPE (no_llseek,
	 * which was NULL anyway, is gone from 6.12).
	 */
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
