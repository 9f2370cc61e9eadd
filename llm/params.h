/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module parameters (defined and checked in main.c).  Those marked
 * "run time" may be changed by root through /sys/module/llm/parameters and
 * are read with READ_ONCE() where they are used; the others are fixed at
 * insmod.
 */
#ifndef LLM_PARAMS_H
#define LLM_PARAMS_H

#include <linux/types.h>

extern unsigned int llm_arena_mb;
extern unsigned int llm_sessions_max;
extern unsigned int llm_sessions_kernel;
extern unsigned int llm_sessions_per_user;	/* run time */
extern unsigned int llm_dev_mode;
extern unsigned int llm_max_prompt_bytes;
extern unsigned int llm_max_new_tokens;
extern unsigned int llm_queue_ttl_s;
extern unsigned int llm_max_prompt_tokens;	/* run time */
extern unsigned int llm_max_context;		/* run time, next load */
extern unsigned int llm_kv_positions;		/* run time, next load */
extern unsigned int llm_kv_type;		/* run time, next load */
extern unsigned int llm_max_wall_ms;		/* run time */
extern bool llm_force_scalar;			/* run time, next load */
extern unsigned int llm_threads;		/* 0 at insmod: set to the CPUs */

#endif /* LLM_PARAMS_H */
