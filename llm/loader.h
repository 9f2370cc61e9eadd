/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading a model (loader.c): the bytes are staged outside the arena and
 * then installed (kmodel.h).  On failure the functions that take @err put
 * a sentence there.
 */
#ifndef LLM_LOADER_H
#define LLM_LOADER_H

#include <linux/types.h>

struct file;
struct device;

/*
 * The model in file descriptor @fd; with @end non-zero only its layers
 * [@first, @end) (a ring node's share: core/slice.h), read piece by piece.
 */
int llm_load_fd(int fd, u32 first, u32 end, char *err, size_t errlen);
int llm_upload_begin(struct file *owner, u64 len, char *err, size_t errlen);
int llm_upload_data(struct file *owner, const void __user *data, u64 len);
int llm_upload_commit(struct file *owner, char *err, size_t errlen);
/* Drop @owner's upload, if it has one (LLM_LOAD_ABORT, close). */
void llm_upload_abort(struct file *owner);
int llm_load_firmware(const char *name, struct device *dev);

/* Bytes received of the upload or load in progress, or of the last one. */
void llm_load_progress(u64 *done, u64 *total);

#endif /* LLM_LOADER_H */
