// SPDX-License-Identifier: GPL-2.0
/*
 * Getting a model's bytes into the kernel: from a file descriptor
 * (kernel_read_file_from_fd(), so LSM and IMA policy for files read by
 * the kernel apply and the file cannot be written while it is read), from
 * a user buffer in pieces (an upload, which lets llmctl show progress),
 * or through the firmware loader (model= at insmod).
 *
 * The bytes are staged in a buffer of their own; only when they are all
 * in does llm_kmodel_install() swap them in.  So the model in service
 * keeps serving while a file is read, and a slow or stuck file system, or
 * an upload its owner never finishes, holds up nothing but its own
 * caller: no lock, no request, no other load.  One upload at a time (its
 * progress is in sysfs); loads from file descriptors are not limited,
 * each needs the file's size in kernel memory while it is read.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/firmware.h>
#include <linux/kernel_read_file.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "loader.h"
#include "kmodel.h"
#include "../uapi/llm.h"

static struct {
	struct mutex lock;		/* the upload's state */
	struct file *owner;
	u8 *buf;
	u64 len;
	u64 filled;
	/* progress, for readers without the lock */
	u64 show_done;
	u64 show_total;
} upl = {
	.lock = __MUTEX_INITIALIZER(upl.lock),
};

void llm_load_progress(u64 *done, u64 *total)
{
	*done = READ_ONCE(upl.show_done);
	*total = READ_ONCE(upl.show_total);
}

static void show(u64 done, u64 total)
{
	WRITE_ONCE(upl.show_done, done);
	WRITE_ONCE(upl.show_total, total);
}

int llm_load_fd(int fd, char *err, size_t errlen)
{
	size_t max = llm_kmodel_max_image();
	void *buf = NULL;
	ssize_t n;
	int ret;

	n = kernel_read_file_from_fd(fd, 0, &buf, max, NULL,
				     READING_FIRMWARE);
	if (n < 0) {
		switch (n) {
		case -EBADF:
			snprintf(err, errlen, "bad file descriptor");
			break;
		case -EFBIG:
			snprintf(err, errlen, "the file is bigger than the arena's %zu free bytes (module parameter arena_mb)",
				 max);
			break;
		case -EINVAL:
			snprintf(err, errlen, "the descriptor is not a non-empty regular file open for reading");
			break;
		case -ETXTBSY:
			snprintf(err, errlen, "the file is open for writing");
			break;
		default:
			snprintf(err, errlen, "reading the file failed (error %zd)", n);
			break;
		}
		return n;
	}
	show(0, n);
	ret = llm_kmodel_install(buf, n, err, errlen);
	vfree(buf);
	show(ret ? 0 : n, ret ? 0 : n);
	return ret;
}

int llm_upload_begin(struct file *owner, u64 len, char *err, size_t errlen)
{
	size_t max = llm_kmodel_max_image();
	int ret = 0;

	if (!len || len > max) {
		snprintf(err, errlen, len ? "the model is %llu bytes but the arena has %zu free (module parameter arena_mb)" :
			 "the model is empty", len, max);
		return len ? -ENOMEM : -EINVAL;
	}
	/* the owner may hold the lock in a long copy: others just see busy */
	if (!mutex_trylock(&upl.lock)) {
		snprintf(err, errlen, "another upload is in progress");
		return -EBUSY;
	}
	if (upl.owner) {
		snprintf(err, errlen, upl.owner == owner ?
			 "this file has an upload in progress" :
			 "another upload is in progress");
		ret = -EBUSY;
		goto out;
	}
	upl.buf = vmalloc(len);
	if (!upl.buf) {
		snprintf(err, errlen, "cannot stage %llu bytes in kernel memory", len);
		ret = -ENOMEM;
		goto out;
	}
	upl.owner = owner;
	upl.len = len;
	upl.filled = 0;
	show(0, len);
out:
	mutex_unlock(&upl.lock);
	return ret;
}

/* Under upl.lock: forget the upload. */
static u8 *take_locked(void)
{
	u8 *buf = upl.buf;

	upl.owner = NULL;
	upl.buf = NULL;
	upl.len = 0;
	upl.filled = 0;
	return buf;
}

int llm_upload_data(struct file *owner, const void __user *data, u64 len)
{
	int ret = 0;

	mutex_lock(&upl.lock);
	if (!owner || upl.owner != owner)
		ret = -EINVAL;
	else if (len > upl.len - upl.filled)
		ret = -EFBIG;
	else if (copy_from_user(upl.buf + upl.filled, data, len))
		ret = -EFAULT;
	else
		upl.filled += len;
	if (!ret)
		show(upl.filled, upl.len);
	mutex_unlock(&upl.lock);
	return ret;
}

int llm_upload_commit(struct file *owner, char *err, size_t errlen)
{
	u64 len = 0;
	u8 *buf;
	int ret;

	mutex_lock(&upl.lock);
	if (!owner || upl.owner != owner) {
		snprintf(err, errlen, "no upload in progress on this file");
		mutex_unlock(&upl.lock);
		return -EINVAL;
	}
	if (upl.filled != upl.len) {
		snprintf(err, errlen, "the upload has %llu of %llu bytes",
			 upl.filled, upl.len);
		vfree(take_locked());
		show(0, 0);
		mutex_unlock(&upl.lock);
		return -EINVAL;
	}
	len = upl.len;
	buf = take_locked();
	mutex_unlock(&upl.lock);

	ret = llm_kmodel_install(buf, len, err, errlen);
	vfree(buf);
	if (ret)
		show(0, 0);
	return ret;
}

void llm_upload_abort(struct file *owner)
{
	u8 *buf = NULL;

	mutex_lock(&upl.lock);
	if (owner && upl.owner == owner) {
		buf = take_locked();
		show(0, 0);
	}
	mutex_unlock(&upl.lock);
	vfree(buf);
}

int llm_load_firmware(const char *name, struct device *dev)
{
	const struct firmware *fw;
	char err[LLM_ERROR_LEN];
	int ret;

	ret = firmware_request_nowarn(&fw, name, dev);
	if (ret) {
		pr_err("model=%s: cannot read /lib/firmware/%s (error %d)\n",
		       name, name, ret);
		return ret;
	}
	ret = llm_kmodel_install(fw->data, fw->size, err, sizeof(err));
	if (ret)
		pr_err("model=%s: %s\n", name, err);
	else
		show(fw->size, fw->size);
	release_firmware(fw);
	return ret;
}
