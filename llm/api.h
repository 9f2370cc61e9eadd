/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel API of llm.ko: other kernel code asks for completions of
 * the loaded model with no userspace involved.  A session here is the same
 * kind of slot an open of /dev/llm takes, with its own conversation.
 *
 * All functions may sleep: call them from process context, never with a
 * spinlock held.  See samples/llm_client/ for a user.
 */
#ifndef LLM_API_H
#define LLM_API_H

#include <linux/types.h>

#include "../uapi/llm.h"

struct llm_session;

struct llm_session *llm_session_open(void);
void llm_session_close(struct llm_session *s);
int llm_session_set_params(struct llm_session *s,
			   const struct llm_params *params);
int llm_session_generate(struct llm_session *s, const char *prompt,
			 size_t prompt_len, char *out, size_t cap,
			 size_t *out_len, u32 *stop_reason);
int llm_session_generate_cb(struct llm_session *s, const char *prompt,
			    size_t prompt_len,
			    int (*cb)(void *arg, const char *text, size_t len),
			    void *arg, u32 *stop_reason);
int llm_session_reset(struct llm_session *s);

#endif /* LLM_API_H */
