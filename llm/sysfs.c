// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/llm/: one value per file.  Documented in
 * docs/sysfs-kernel-llm (the kernel's Documentation/ABI style).
 */
#include <linux/kobject.h>
#include <linux/sysfs.h>

#include "module.h"
#include "../quant/quant.h"

#define LLM_ATTR(_name)							\
static struct kobj_attribute _name##_attr = __ATTR_RO(_name)

/* A value read under llm_mod.lock. */
#define LLM_SHOW(_name, _fmt, _expr)					\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	ssize_t n;							\
									\
	mutex_lock(&llm_mod.lock);					\
	n = sysfs_emit(buf, _fmt "\n", _expr);				\
	mutex_unlock(&llm_mod.lock);					\
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

#define MODEL(_field, _none) (llm_mod.model_loaded ? (_field) : (_none))

LLM_SHOW(abi_version, "%u", LLM_ABI_VERSION);
LLM_SHOW(arena_size, "%zu", llm_mod.arena.size);
LLM_SHOW(arena_used, "%zu", llm_mod.arena.used);
LLM_SHOW(arena_peak, "%zu", llm_mod.arena.peak);
LLM_SHOW(sessions_max, "%u", llm_sessions_max);
LLM_SHOW(sessions_active, "%u", llm_mod.sessions_active);
LLM_SHOW(requests_running, "%u", llm_mod.running);
LLM_SHOW(model_loaded, "%d", llm_mod.model_loaded);
LLM_SHOW(model_name, "%s", MODEL(llm_mod.model.name, ""));
LLM_SHOW(model_arch, "%s", MODEL(llm_mod.model.arch, ""));
LLM_SHOW(model_params, "%llu", MODEL(llm_mod.model.n_params, 0));
LLM_SHOW(model_bytes, "%llu", MODEL(llm_mod.image_len, 0));
LLM_SHOW(model_layers, "%u", MODEL(llm_mod.model.cfg.n_layers, 0));
LLM_SHOW(model_vocab, "%u", MODEL(llm_mod.model.cfg.n_vocab, 0));
LLM_SHOW(model_context_train, "%u", MODEL(llm_mod.model.cfg.n_ctx_train, 0));
LLM_SHOW(model_context, "%u", MODEL(llm_mod.n_ctx, 0));
LLM_SHOW(model_kernels, "%s",
	 MODEL(llm_kernels_name(llm_mod.model.kernels), ""));
LLM_SHOW(load_bytes_done, "%llu", llm_mod.image_filled);
LLM_SHOW(load_bytes_total, "%llu", llm_mod.image_len);
LLM_SHOW_U64(requests_total, atomic64_read(&llm_mod.requests_total));
LLM_SHOW_U64(errors_total, atomic64_read(&llm_mod.errors_total));
LLM_SHOW_U64(tokens_prompt_total,
	     atomic64_read(&llm_mod.tokens_prompt_total));
LLM_SHOW_U64(tokens_generated_total,
	     atomic64_read(&llm_mod.tokens_generated_total));
LLM_SHOW_MILLI(prefill_tok_per_s, atomic64_read(&llm_mod.prefill_milli));
LLM_SHOW_MILLI(decode_tok_per_s, atomic64_read(&llm_mod.decode_milli));
LLM_SHOW_U64(max_prompt_bytes, llm_max_prompt_bytes);
LLM_SHOW_U64(max_prompt_tokens, READ_ONCE(llm_max_prompt_tokens));
LLM_SHOW_U64(max_new_tokens, llm_max_new_tokens);
LLM_SHOW_U64(max_context, READ_ONCE(llm_max_context));
LLM_SHOW_U64(max_wall_ms, READ_ONCE(llm_max_wall_ms));

/* Tensor types present, by name: "F32 Q8_0". */
static ssize_t model_types_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	ssize_t n = 0;
	u32 t, mask;

	mutex_lock(&llm_mod.lock);
	mask = MODEL(llm_mod.model.type_mask, 0);
	mutex_unlock(&llm_mod.lock);
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
	&model_loaded_attr.attr,
	&model_name_attr.attr,
	&model_arch_attr.attr,
	&model_params_attr.attr,
	&model_bytes_attr.attr,
	&model_layers_attr.attr,
	&model_vocab_attr.attr,
	&model_context_train_attr.attr,
	&model_context_attr.attr,
	&model_types_attr.attr,
	&model_kernels_attr.attr,
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

	llm_mod.kobj = kobject_create_and_add("llm", kernel_kobj);
	if (!llm_mod.kobj)
		return -ENOMEM;
	ret = sysfs_create_group(llm_mod.kobj, &llm_group);
	if (ret) {
		kobject_put(llm_mod.kobj);
		llm_mod.kobj = NULL;
	}
	return ret;
}

void llm_sysfs_exit(void)
{
	if (!llm_mod.kobj)
		return;
	sysfs_remove_group(llm_mod.kobj, &llm_group);
	kobject_put(llm_mod.kobj);
	llm_mod.kobj = NULL;
}
