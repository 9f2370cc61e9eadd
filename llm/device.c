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

#include "device.h"
#include "session.h"
#include "request.h"
#include "oneshot.h"
#include "ring.h"
#include "loader.h"
#include "params.h"

static struct miscdevice llm_misc;

static int llm_open(struct inode *inode, struct file *file)
{
	struct llm_session *s = llm_session_create(false);

	if (IS_ERR(s))
		return PTR_ERR(s);
	file->private_data = s;
	return nonseekable_open(inode, file);
}

static int llm_release(struct inode *inode, struct file *file)
{
	struct llm_session *s = file->private_data;

	llm_upload_abort(file);
	/* `echo PROMPT > /dev/llm`: a prompt never read waits for `cat` */
	if (llm_req_state(s) == LLM_REQ_READY && !s->ever_read)
		llm_oneshot_queue(s);
	llm_session_destroy(s);
	return 0;
}

/* A fresh file that reads before it writes takes its user's one-shot. */
static int take_oneshot(struct llm_session *s)
{
	struct llm_oneshot *q;
	const char *text;
	u32 len;
	int ret;

	if (s->ever_wrote || llm_req_state(s) != LLM_REQ_NONE)
		return 0;
	q = llm_oneshot_take(s, &text, &len);
	if (!q)
		return 0;
	ret = llm_req_submit(s, text, len, 0);
	if (ret)
		llm_oneshot_put_back(q);	/* not lost: a later read */
	else
		llm_oneshot_free(q);
	return ret;
}

static ssize_t llm_read(struct file *file, char __user *buf, size_t len,
			loff_t *ppos)
{
	struct llm_session *s = file->private_data;
	ssize_t ret;

	if (!len)
		return 0;
	if (mutex_lock_interruptible(&s->lock))
		return -ERESTARTSYS;
	if (s->ring) {
		ret = -EBUSY;
		goto out;
	}
	if (!s->ever_read) {
		s->ever_read = true;
		llm_oneshot_unreserve(s);
	}
	ret = take_oneshot(s);
	if (!ret)
		ret = llm_req_read(s, buf, len, file->f_flags & O_NONBLOCK);
out:
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
		return -ERESTARTSYS;
	if (s->ring) {
		ret = -EBUSY;
		goto out;
	}
	ret = llm_req_submit_user(s, buf, len, LLM_IN_LINE);
	/* it may become a one-shot: make sure it would have a place */
	if (!ret && !s->ever_read) {
		ret = llm_oneshot_reserve(s, s->req.r.prompt_len);
		if (ret)
			llm_req_withdraw(s);
	}
	if (!ret)
		s->ever_wrote = true;
out:
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
	/* pairs with the release in llm_ring_setup() */
	if (smp_load_acquire(&s->ring))
		return llm_ring_poll(s) ? EPOLLIN | EPOLLRDNORM : 0;
	state = llm_req_state(s);
	if (llm_req_has_output(s) || state == LLM_REQ_NONE ||
	    state == LLM_REQ_DONE)
		mask |= EPOLLIN | EPOLLRDNORM;
	else
		llm_req_kick(s);	/* a poller gets its text made */
	if (state == LLM_REQ_NONE ||
	    (state == LLM_REQ_DONE && !llm_req_has_output(s)))
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
	llm_misc.minor = MISC_DYNAMIC_MINOR;
	llm_misc.name = "llm";
	llm_misc.fops = &llm_fops;
	llm_misc.mode = llm_dev_mode;
	return misc_register(&llm_misc);
}

void llm_device_exit(void)
{
	misc_deregister(&llm_misc);
}

struct device *llm_device(void)
{
	return llm_misc.this_device;
}
