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
 * each needs the file's size in kernel memory while it is read.  A ring
 * node's share (a layer range) is read piece by piece: the metadata, then
 * only the tensors of those layers (core/slice.h), so it needs only the
 * share's size, and the file may be bigger than the arena.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/firmware.h>
#include <linux/kernel_read_file.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "loader.h"
#include "kmodel.h"
#include "core/slice.h"
#include "../uapi/llm.h"

/* A share of the file is read in pieces of this size... */
#define LLM_READ_CHUNK	(4u << 20)
/* ...after its metadata, from a first read of this size, growing to most */
#define LLM_META_FIRST	(1u << 20)
#define LLM_META_MAX	(256u << 20)

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

static void read_failed(ssize_t n, size_t max, char *err, size_t errlen)
{
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
	case -EIO:
		snprintf(err, errlen, "the file changed size while it was read");
		break;
	case -EINTR:
		snprintf(err, errlen, "interrupted by a fatal signal");
		break;
	default:
		snprintf(err, errlen, "reading the file failed (error %zd)", n);
		break;
	}
}

/*
 * @len bytes at byte @off of the file into @dst, in pieces: a fatal
 * signal stops a long read between them.
 */
static int read_at(int fd, u64 off, u8 *dst, u64 len, u64 *done, u64 total)
{
	while (len) {
		size_t n = min_t(u64, len, LLM_READ_CHUNK), fsize;
		void *buf = dst;
		ssize_t got;

		if (fatal_signal_pending(current))
			return -EINTR;
		got = kernel_read_file_from_fd(fd, off, &buf, n, &fsize,
					       READING_FIRMWARE);
		if (got < 0)
			return got;
		if (got != n)
			return -EIO;
		off += n;
		dst += n;
		len -= n;
		*done += n;
		show(*done, total);
	}
	return 0;
}

/*
 * The file's metadata, from a prefix that grows until it holds all of it
 * (at most LLM_META_MAX bytes): into *@prefix and the tables at *@tables,
 * both vmalloc'd, the caller frees them.
 */
static int read_meta(int fd, struct llm_gguf *g, u8 **prefix, void **tables,
		     struct llm_arena *a, u64 *file_len, char *err,
		     size_t errlen)
{
	size_t len = LLM_META_FIRST, fsize;
	ssize_t n;
	u64 tb;
	int ret;

	for (;;) {
		*prefix = vmalloc(len);
		if (!*prefix)
			goto nomem;
		n = kernel_read_file_from_fd(fd, 0, (void **)prefix, len,
					     &fsize, READING_FIRMWARE);
		if (n < 0) {
			read_failed(n, llm_kmodel_max_image(), err, errlen);
			return n;
		}
		*file_len = fsize;
		tb = llm_slice_table_bytes(*prefix, n);
		*tables = vmalloc(tb ? tb : PAGE_SIZE);
		if (!*tables)
			goto nomem;
		llm_arena_init(a, *tables, tb ? tb : PAGE_SIZE);
		ret = llm_gguf_parse_prefix(g, *prefix, n, fsize, a, err,
					    errlen);
		if (ret != -EAGAIN)
			return ret;
		vfree(*prefix);
		vfree(*tables);
		*prefix = NULL;
		*tables = NULL;
		if (len >= LLM_META_MAX) {
			snprintf(err, errlen, "the file's metadata runs past its first %u MiB",
				 LLM_META_MAX >> 20);
			return -EFBIG;
		}
		len *= 4;
	}
nomem:
	snprintf(err, errlen, "cannot read the file's metadata into kernel memory");
	return -ENOMEM;
}

/* Only what layers [first, end) need: the file's slice (core/slice.h). */
static int load_fd_layers(int fd, u32 first, u32 end, char *err,
			  size_t errlen)
{
	struct llm_arena a;
	struct llm_gguf g;
	struct llm_slice s;
	u8 *prefix = NULL, *image = NULL;
	void *tables = NULL;
	u64 i, done = 0, file_len;
	int ret;

	ret = read_meta(fd, &g, &prefix, &tables, &a, &file_len, err, errlen);
	if (!ret)
		ret = llm_slice_plan(&s, &g, first, end, &a, err, errlen);
	if (ret)
		goto out;
	if (s.len > llm_kmodel_max_image()) {
		snprintf(err, errlen, "layers %u:%u take %llu bytes of the %llu-byte file, but the arena has %zu free (module parameter arena_mb)",
			 s.first, s.end, s.len, file_len,
			 llm_kmodel_max_image());
		ret = -ENOMEM;
		goto out;
	}
	image = vzalloc(s.len);
	if (!image) {
		snprintf(err, errlen, "cannot stage %llu bytes in kernel memory",
			 s.len);
		ret = -ENOMEM;
		goto out;
	}
	llm_slice_write_head(&s, image);
	show(0, s.len);
	done = s.head_len;
	for (i = 0; i < s.n_pieces && !ret; i++)
		ret = read_at(fd, s.piece[i].from, image + s.piece[i].to,
			      s.piece[i].len, &done, s.len);
	if (ret) {
		read_failed(ret, llm_kmodel_max_image(), err, errlen);
		goto out;
	}
	vfree(prefix);
	vfree(tables);
	prefix = NULL;
	tables = NULL;
	ret = llm_kmodel_install(image, s.len, s.first, s.end, err, errlen);
out:
	vfree(image);
	vfree(prefix);
	vfree(tables);
	show(ret ? 0 : done, ret ? 0 : done);
	return ret;
}

int llm_load_fd(int fd, u32 first, u32 end, char *err, size_t errlen)
{
	size_t max = llm_kmodel_max_image();
	void *buf = NULL;
	ssize_t n;
	int ret;

	if (end)
		return load_fd_layers(fd, first, end, err, errlen);
	n = kernel_read_file_from_fd(fd, 0, &buf, max, NULL,
				     READING_FIRMWARE);
	if (n < 0) {
		read_failed(n, max, err, errlen);
		return n;
	}
	show(0, n);
	ret = llm_kmodel_install(buf, n, 0, 0, err, errlen);
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

	ret = llm_kmodel_install(buf, len, 0, 0, err, errlen);
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
	ret = llm_kmodel_install(fw->data, fw->size, 0, 0, err,
				 sizeof(err));
	if (ret)
		pr_err("model=%s: %s\n", name, err);
	else
		show(fw->size, fw->size);
	release_firmware(fw);
	return ret;
}
