/* SPDX-License-Identifier: GPL-2.0 */
/* /sys/kernel/llm/ (sysfs.c). */
#ifndef LLM_SYSFS_H
#define LLM_SYSFS_H

int llm_sysfs_init(void);
void llm_sysfs_exit(void);

#endif /* LLM_SYSFS_H */
