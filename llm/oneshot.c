// SPDX-License-Identifier: GPL-2.0
/*
 * The one-shot queue (see oneshot.h).
 *
 * A writer and the reader that should get its answer are matched by user
 * and login session, and within those by family: `echo P > /dev/llm` runs
 * in the shell (builtin) or in its child, `cat /dev/llm` in its child, or
 * in the shell itself when it is a subshell's last command.  The closest
 * relation wins: the same process, then the reader's parent being the
 * writer, then the two being children of one shell; else the oldest.
 * Processes are compared as struct pid references, never as numbers that
 * can be reused.
 */
#include <linux/slab.h>
#include <linux/list.h>
#include <linux/jiffies.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "oneshot.h"
#include "session.h"
#include "params.h"

struct llm_oneshot {
	struct list_head node;
	kuid_t uid;
	struct pid *sid;		/* login session of the writer */
	struct pid *writer;		/* its thread group */
	struct pid *parent;		/* and its parent's */
	unsigned long expires;		/* once queued */
	u32 len;
	char text[];
};

static DEFINE_SPINLOCK(queue_lock);
static LIST_HEAD(queued);		/* oldest first */
static LIST_HEAD(reserved);
static unsigned int n_queued, n_reserved;

/* Who the current process is: its session, itself, its parent. */
static void whoami(struct pid **sid, struct pid **self, struct pid **parent)
{
	rcu_read_lock();
	*sid = get_pid(task_session(current));
	*self = get_pid(task_tgid(current));
	*parent = get_pid(task_tgid(rcu_dereference(current->real_parent)));
	rcu_read_unlock();
}

static void free_entry(struct llm_oneshot *q)
{
	put_pid(q->sid);
	put_pid(q->writer);
	put_pid(q->parent);
	kfree(q);
}

/* Under queue_lock: drop expired prompts onto @dead. */
static void expire_locked(struct list_head *dead)
{
	struct llm_oneshot *q, *tmp;

	list_for_each_entry_safe(q, tmp, &queued, node) {
		if (time_after(jiffies, q->expires)) {
			list_move(&q->node, dead);
			n_queued--;
		}
	}
}

static void free_list(struct list_head *dead)
{
	struct llm_oneshot *q, *tmp;

	list_for_each_entry_safe(q, tmp, dead, node) {
		list_del(&q->node);
		free_entry(q);
	}
}

static unsigned int count_user(struct list_head *list, kuid_t uid,
			       struct llm_oneshot **oldest)
{
	struct llm_oneshot *q;
	unsigned int n = 0;

	list_for_each_entry(q, list, node) {
		if (uid_eq(q->uid, uid)) {
			if (oldest && !*oldest)
				*oldest = q;
			n++;
		}
	}
	return n;
}

int llm_oneshot_reserve(struct llm_session *s, u32 len)
{
	struct llm_oneshot *q, *oldest = NULL;
	unsigned int mine;
	LIST_HEAD(dead);
	int ret = 0;

	q = kmalloc(struct_size(q, text, len), GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	q->uid = s->uid;
	q->len = len;
	memcpy(q->text, s->prompt, len);
	whoami(&q->sid, &q->writer, &q->parent);

	spin_lock(&queue_lock);
	expire_locked(&dead);
	mine = count_user(&queued, q->uid, &oldest) +
	       count_user(&reserved, q->uid, NULL);
	if (mine >= LLM_ONESHOT_PER_USER && oldest) {
		/* the user's own oldest prompt makes room */
		list_move(&oldest->node, &dead);
		n_queued--;
		mine--;
	}
	if (mine >= LLM_ONESHOT_PER_USER ||
	    n_queued + n_reserved >= LLM_ONESHOT_MAX) {
		ret = -EAGAIN;
	} else {
		list_add_tail(&q->node, &reserved);
		n_reserved++;
		s->reserved = q;
	}
	spin_unlock(&queue_lock);
	free_list(&dead);
	if (ret) {
		pr_info_ratelimited("write refused: the one-shot queue is full (%u places, %u per user)\n",
				    LLM_ONESHOT_MAX, LLM_ONESHOT_PER_USER);
		free_entry(q);
	}
	return ret;
}

void llm_oneshot_unreserve(struct llm_session *s)
{
	struct llm_oneshot *q = s->reserved;

	if (!q)
		return;
	s->reserved = NULL;
	spin_lock(&queue_lock);
	list_del(&q->node);
	n_reserved--;
	spin_unlock(&queue_lock);
	free_entry(q);
}

void llm_oneshot_queue(struct llm_session *s)
{
	struct llm_oneshot *q = s->reserved;

	if (!q)
		return;
	s->reserved = NULL;
	spin_lock(&queue_lock);
	n_reserved--;
	n_queued++;
	q->expires = jiffies + (unsigned long)llm_queue_ttl_s * HZ;
	list_move_tail(&q->node, &queued);
	spin_unlock(&queue_lock);
}

struct llm_oneshot *llm_oneshot_take(struct llm_session *s, const char **text,
				     u32 *len)
{
	struct llm_oneshot *q, *found = NULL;
	struct pid *sid, *self, *parent;
	int best = 0;
	LIST_HEAD(dead);

	whoami(&sid, &self, &parent);
	spin_lock(&queue_lock);
	expire_locked(&dead);
	list_for_each_entry(q, &queued, node) {
		int rank;

		if (!uid_eq(q->uid, s->uid) || q->sid != sid)
			continue;
		rank = self == q->writer ? 4 : parent == q->writer ? 3 :
		       parent == q->parent ? 2 : 1;
		if (rank > best) {	/* the oldest of the closest */
			best = rank;
			found = q;
		}
	}
	if (found) {
		list_del(&found->node);
		n_queued--;
	}
	spin_unlock(&queue_lock);
	free_list(&dead);
	put_pid(sid);
	put_pid(self);
	put_pid(parent);
	if (!found)
		return NULL;
	*text = found->text;
	*len = found->len;
	return found;
}

void llm_oneshot_put_back(struct llm_oneshot *q)
{
	spin_lock(&queue_lock);
	list_add(&q->node, &queued);
	n_queued++;
	spin_unlock(&queue_lock);
}

void llm_oneshot_free(struct llm_oneshot *q)
{
	free_entry(q);
}

void llm_oneshot_exit(void)
{
	LIST_HEAD(dead);

	spin_lock(&queue_lock);
	list_splice_init(&queued, &dead);
	n_queued = 0;
	spin_unlock(&queue_lock);
	free_list(&dead);
}
