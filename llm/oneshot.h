/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shell one-shot: `echo PROMPT > /dev/llm; cat /dev/llm`.
 *
 * The first write of a file that has not read reserves a place in a small
 * queue, with a copy of the prompt (EAGAIN when the queue has no room:
 * nothing is dropped later).  Nothing is generated until the prompt is
 * read: if the file is closed first, its place becomes a queued prompt;
 * if it reads, the place is given back.  The next open of the same user,
 * in the same login session (setsid), that reads before writing takes the
 * queued prompt, preferring the one written by its own shell (its parent
 * or its parent's child), else the oldest.  A prompt whose request cannot
 * start (no model loaded) stays queued.  Queued prompts expire after
 * queue_ttl_s.
 */
#ifndef LLM_ONESHOT_H
#define LLM_ONESHOT_H

struct llm_session;
struct llm_oneshot;

/* Places in the queue, queued and reserved together. */
#define LLM_ONESHOT_PER_USER	4
#define LLM_ONESHOT_MAX		64

/*
 * Reserve a place for the prompt in s->prompt (@len bytes): 0, -EAGAIN
 * when there is no room, -ENOMEM.  The user's own oldest queued prompt
 * makes room when the user has LLM_ONESHOT_PER_USER.
 */
int llm_oneshot_reserve(struct llm_session *s, u32 len);
/* Give the reservation back (the file read, or is closing otherwise). */
void llm_oneshot_unreserve(struct llm_session *s);
/* The file closes with its prompt unread: queue it. */
void llm_oneshot_queue(struct llm_session *s);

/*
 * The queued prompt for this reader, taken off the queue (its text and
 * length in *text and *len), or NULL.  Then either drop it
 * (llm_oneshot_free()) or, if its request could not start, put it back.
 */
struct llm_oneshot *llm_oneshot_take(struct llm_session *s, const char **text,
				     u32 *len);
void llm_oneshot_put_back(struct llm_oneshot *q);
void llm_oneshot_free(struct llm_oneshot *q);

void llm_oneshot_exit(void);

#endif /* LLM_ONESHOT_H */
