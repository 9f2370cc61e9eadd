// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/llm/: one value per file.  Documented in
 * docs/sysfs-kernel-llm (the kernel's Documentation/ABI style).
 */
#include <linux/kobject.h>
#include <linux/sysfs.h>

#include "sysfs.h"
#include "kmodel.h"
#include "session.h"
#include "request.h"
#include "loader.h"
#include "params.h"
#include "../quant/quant.h"

static struct kobject *llm_kobj;

#define LLM_ATTR(_name)							\
static struct kobj_attribute _name##_attr = __ATTR_RO(_name)

/* A value of the model, or @_none with no model loaded. */
#define LLM_SHOW_MODEL(_name, _fmt, _expr, _none)			\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	struct llm_kmodel *km;						\
	ssize_t n;							\
	int err;							\
									\
	km = llm_kmodel_get(&err);					\
	if (!km)							\
		return sysfs_emit(buf, _fmt "\n", _none);		\
	n = sysfs_emit(buf, _fmt "\n", _expr);				\
	llm_kmodel_put(km);						\
	return n;							\
}									\
LLM_ATTR(_name)

/* A counter or limit, read without the lock. */
#define LLM_SHOW_U64(_name, _expr)					\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)(_expr));	\
}									\
LLM_ATTR(_name)

/* Thousandths as a decimal: 12345 -> "12.345". */
#define LLM_SHOW_MILLI(_name, _expr)					\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	u64 v = (_expr);						\
									\
	return sysfs_emit(buf, "%llu.%03llu\n", v / 1000, v % 1000);	\
}									\
LLM_ATTR(_name)

static u64 arena(int which)
{
	u64 v[3];

	llm_kmodel_arena_stats(&v[0], &v[1], &v[2]);
	return v[which];
}

static u64 counter(size_t offset)
{
	struct llm_counters c;

	llm_counters_read(&c);
	if (offset == offsetof(struct llm_counters, running))
		return c.running;
	if (offset == offsetof(struct llm_counters, stepping_peak))
		return c.stepping_peak;
	return *(u64 *)((char *)&c + offset);
}

#define COUNTER(_f) counter(offsetof(struct llm_counters, _f))

static u64 load_progress(bool total)
{
	u64 done, all;

	llm_load_progress(&done, &all);
	return total ? all : done;
}

LLM_SHOW_U64(abi_version, LLM_ABI_VERSION);
LLM_SHOW_U64(arena_size, arena(0));
LLM_SHOW_U64(arena_used, arena(1));
LLM_SHOW_U64(arena_peak, arena(2));
LLM_SHOW_U64(sessions_max, llm_sessions_max);
LLM_SHOW_U64(sessions_active, llm_sessions_active());
LLM_SHOW_U64(requests_running, COUNTER(running));
LLM_SHOW_U64(requests_computing_peak, COUNTER(stepping_peak));
LLM_SHOW_MODEL(model_loaded, "%d", 1, 0);
LLM_SHOW_MODEL(model_name, "%s", km->model.name, "");
LLM_SHOW_MODEL(model_arch, "%s", km->model.arch, "");
LLM_SHOW_MODEL(model_params, "%llu", km->model.n_params, 0ULL);
LLM_SHOW_MODEL(model_bytes, "%llu", km->image_len, 0ULL);
LLM_SHOW_MODEL(model_layers, "%u", km->model.cfg.n_layers, 0);
/* the layers the arena holds, FIRST:LAST: all, or a ring node's share */
static ssize_t model_layers_held_show(struct kobject *kobj,
				      struct kobj_attribute *attr, char *buf)
{
	struct llm_kmodel *km;
	ssize_t n;
	int err;

	km = llm_kmodel_get(&err);
	if (!km)
		return sysfs_emit(buf, "\n");
	n = sysfs_emit(buf, "%u:%u\n", km->model.layer_first,
		       km->model.layer_end);
	llm_kmodel_put(km);
	return n;
}
LLM_ATTR(model_layers_held);
LLM_SHOW_MODEL(model_vocab, "%u", km->model.cfg.n_vocab, 0);
LLM_SHOW_MODEL(model_context_train, "%u", km->model.cfg.n_ctx_train, 0);
LLM_SHOW_MODEL(model_context, "%u", km->n_ctx, 0);
LLM_SHOW_MODEL(model_kernels, "%s", llm_kernels_name(km->model.kernels), "");
LLM_SHOW_MODEL(model_kv_positions, "%u", km->kv.n_pages * LLM_KV_PAGE, 0);
LLM_SHOW_MODEL(model_kv_free, "%u", llm_kv_free_positions(&km->kv), 0);
LLM_SHOW_MODEL(model_kv_type, "%s", llm_kv_type_name(km->kv.type), "");
LLM_SHOW_MODEL(model_steps, "%llu", READ_ONCE(km->batcher.steps), 0ULL);
LLM_SHOW_MODEL(model_steps_batched, "%llu", READ_ONCE(km->batcher.batched),
	       0ULL);
LLM_SHOW_U64(load_bytes_done, load_progress(false));
LLM_SHOW_U64(load_bytes_total, load_progress(true));
LLM_SHOW_U64(requests_total, COUNTER(requests));
LLM_SHOW_U64(errors_total, COUNTER(errors));
LLM_SHOW_U64(tokens_prompt_total, COUNTER(tokens_prompt));
LLM_SHOW_U64(tokens_generated_total, COUNTER(tokens_generated));
LLM_SHOW_MILLI(prefill_tok_per_s, COUNTER(prefill_milli));
LLM_SHOW_MILLI(decode_tok_per_s, COUNTER(decode_milli));
LLM_SHOW_U64(max_prompt_bytes, llm_max_prompt_bytes);
LLM_SHOW_U64(max_prompt_tokens, READ_ONCE(llm_max_prompt_tokens));
LLM_SHOW_U64(max_new_tokens, llm_max_new_tokens);
LLM_SHOW_U64(max_context, READ_ONCE(llm_max_context));
LLM_SHOW_U64(max_wall_ms, READ_ONCE(llm_max_wall_ms));

/* Tensor types present, by name: "F32 Q8_0". */
static ssize_t model_types_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	struct llm_kmodel *km;
	ssize_t n = 0;
	u32 t, mask = 0;
	int err;

	km = llm_kmodel_get(&err);
	if (km) {
		mask = km->model.type_mask;
		llm_kmodel_put(km);
	}
	for (t = 0; t < 32; t++)
		if (mask & (1u << t))
			n += sysfs_emit_at(buf, n, "%s%s", n ? " " : "",
					   llm_type_name(t));
	n += sysfs_emit_at(buf, n, "\n");
	return n;
}
LLM_ATTR(model_types);

static struct attribute *llm_attrs[] = {
	&abi_version_attr.attr,
	&arena_size_attr.attr,
	&arena_used_attr.attr,
	&arena_peak_attr.attr,
	&sessions_max_attr.attr,
	&sessions_active_attr.attr,
	&requests_running_attr.attr,
	&requests_computing_peak_attr.attr,
	&model_loaded_attr.attr,
	&model_name_attr.attr,
	&model_arch_attr.attr,
	&model_params_attr.attr,
	&model_bytes_attr.attr,
	&model_layers_attr.attr,
	&model_layers_held_attr.attr,
	&model_vocab_attr.attr,
	&model_context_train_attr.attr,
	&model_context_attr.attr,
	&model_types_attr.attr,
	&model_kernels_attr.attr,
	&model_kv_positions_attr.attr,
	&model_kv_free_attr.attr,
	&model_kv_type_attr.attr,
	&model_steps_attr.attr,
	&model_steps_batched_attr.attr,
	&load_bytes_done_attr.attr,
	&load_bytes_total_attr.attr,
	&requests_total_attr.attr,
	&errors_total_attr.attr,
	&tokens_prompt_total_attr.attr,
	&tokens_generated_total_attr.attr,
	&prefill_tok_per_s_attr.attr,
	&decode_tok_per_s_attr.attr,
	&max_prompt_bytes_attr.attr,
	&max_prompt_tokens_attr.attr,
	&max_new_tokens_attr.attr,
	&max_context_attr.attr,
	&max_wall_ms_attr.attr,
	NULL,
};

static const struct attribute_group llm_group = {
	.attrs = llm_attrs,
};

int llm_sysfs_init(void)
{
	int ret;

	llm_kobj = kobject_create_and_add("llm", kernel_kobj);
	if (!llm_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(llm_kobj, &llm_group);
	if (ret) {
		kobject_put(llm_kobj);
		llm_kobj = NULL;
	}
	return ret;
}

void llm_sysfs_exit(void)
{
	if (!llm_kobj)
		return;
	sysfs_remove_group(llm_kobj, &llm_group);
	kobject_put(llm_kobj);
	llm_kobj = NULL;
}
