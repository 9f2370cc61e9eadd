// SPDX-License-Identifier: GPL-2.0
/*
 * Read-only whole-file mappings for the offline tools.  See modelfile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "modelfile.h"

int llm_map_file(struct llm_mapped_file *m, const char *path, char *err,
		 size_t errlen)
{
	struct stat st;
	int fd, ret;

	m->data = NULL;
	m->len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path,
			 strerror(errno));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "cannot stat %s: %s", path,
			 strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s is not a regular file", path);
		goto out;
	}
	ret = 0;
	if (!st.st_size)
		goto out;
	if ((unsigned long long)st.st_size > SIZE_MAX) {
		ret = -EFBIG;
		snprintf(err, errlen, "%s is too large to map", path);
		goto out;
	}
	m->data = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m->data == MAP_FAILED) {
		ret = -errno;
		m->data = NULL;
		snprintf(err, errlen, "cannot map %s: %s", path,
			 strerror(errno));
		goto out;
	}
	m->len = st.st_size;
out:
	close(fd);
	return ret;
}

void llm_unmap_file(struct llm_mapped_file *m)
{
	if (m->data)
		munmap(m->data, m->len);
	m->data = NULL;
	m->len = 0;
}

bool llm_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) || stat(b, &sb))
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
