/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Model files as the offline tools (convert, quantize) read them: mapped
 * read-only, whole, so that tensor data can be handed to the GGUF writer
 * without a copy.
 */
#ifndef LLMCTL_MODELFILE_H
#define LLMCTL_MODELFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "../llm/core/platform.h"

struct llm_mapped_file {
	void *data;		/* NULL for an empty file */
	u64 len;
};

/*
 * Map @path read-only.  On error returns a negative errno and writes a
 * sentence naming the file into @err.
 */
int llm_map_file(struct llm_mapped_file *m, const char *path, char *err,
		 size_t errlen);
void llm_unmap_file(struct llm_mapped_file *m);

/* True when @a and @b both exist and are the same file. */
bool llm_same_file(const char *a, const char *b);

#endif /* LLMCTL_MODELFILE_H */
