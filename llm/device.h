/* SPDX-License-Identifier: GPL-2.0 */
/* /dev/llm (device.c) and its ioctls (ioctl.c). */
#ifndef LLM_DEVICE_H
#define LLM_DEVICE_H

struct file;
struct device;

int llm_device_init(void);
void llm_device_exit(void);
/* The misc device, for the firmware loader. */
struct device *llm_device(void);
long llm_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

#endif /* LLM_DEVICE_H */
