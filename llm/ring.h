/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mmap ring of a session (layout and protocol in uapi/llm.h): prompts
 * in through a submission ring, tokens and text out through a completion
 * ring, with no system call or copy per token.
 *
 * Its requests are stepped by the ring's worker, which posts each step's
 * entries before it takes another step and stops, holding nothing, when
 * the completion ring has no room: RING_ENTER (or poll()) after consuming
 * entries starts it again.  RING_ENTER waits without the session lock, so
 * one thread may wait while another submits or sets parameters.
 */
#ifndef LLM_RING_H
#define LLM_RING_H

#include <linux/types.h>

#include "../uapi/llm.h"

struct llm_session;
struct vm_area_struct;

int llm_ring_setup(struct llm_session *s, struct llm_ring_setup *rs);
int llm_ring_enter(struct llm_session *s, const struct llm_ring_enter *re);
int llm_ring_mmap(struct llm_session *s, struct vm_area_struct *vma);
/* poll(): entries to consume; also starts the worker if it waits for room. */
bool llm_ring_poll(struct llm_session *s);
/* Have the worker post what waits, if the ring has room. */
void llm_ring_kick(struct llm_session *s);
/* Stop the worker for good (the session is closing); then free. */
void llm_ring_stop(struct llm_session *s);
void llm_ring_free(struct llm_session *s);

/* The output path's ring sink (request.c), under s->step_lock. */
int llm_ring_out_text(struct llm_session *s, const char *text, u32 len);
void llm_ring_out_token(struct llm_session *s, u32 tok);
void llm_ring_out_end(struct llm_session *s);

#endif /* LLM_RING_H */
