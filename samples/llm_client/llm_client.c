// SPDX-License-Identifier: GPL-2.0
/*
 * llm_client: a sample user of llm.ko's in-kernel API.  At load it asks the
 * loaded model to complete the prompt= parameter twice, once into a buffer
 * and once through the per-token callback, and logs both; the second
 * continues the same conversation unless reset= is set.
 *
 *   insmod llm_client.ko prompt="Once upon a time" tokens=32
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/err.h>
#include <linux/slab.h>

#include "../../llm/api.h"

static char *prompt = "Once upon a time";
module_param(prompt, charp, 0444);
MODULE_PARM_DESC(prompt, "Prompt to complete");

static unsigned int tokens = 32;
module_param(tokens, uint, 0444);
MODULE_PARM_DESC(tokens, "Tokens to generate");

struct collect {
	char *buf;
	size_t len, cap;
	unsigned int calls;
};

static int collect_cb(void *arg, const char *text, size_t len)
{
	struct collect *c = arg;

	c->calls++;
	len = min(len, c->cap - 1 - c->len);
	memcpy(c->buf + c->len, text, len);
	c->len += len;
	return 0;
}

static int __init llm_client_init(void)
{
	struct llm_params p = { .size = sizeof(p) };
	struct collect c = { .cap = 4096 };
	struct llm_session *s;
	size_t len;
	u32 why;
	char *out;
	int ret;

	out = kzalloc(4096, GFP_KERNEL);
	c.buf = kzalloc(4096, GFP_KERNEL);
	if (!out || !c.buf) {
		ret = -ENOMEM;
		goto free;
	}
	s = llm_session_open();
	if (IS_ERR(s)) {
		ret = PTR_ERR(s);
		goto free;
	}
	p.max_tokens = tokens;
	p.top_p_milli = 1000;
	ret = llm_session_set_params(s, &p);
	if (!ret)
		ret = llm_session_generate(s, prompt, strlen(prompt), out,
					   4095, &len, &why);
	if (ret) {
		pr_err("llm_client: generate failed: %d\n", ret);
		goto close;
	}
	pr_info("llm_client: buffer: %zu bytes, stop %u: %s%s\n", len, why,
		prompt, out);

	/* a fresh conversation, so the callback run gives the same text */
	ret = llm_session_reset(s);
	if (!ret)
		ret = llm_session_generate_cb(s, prompt, strlen(prompt),
					      collect_cb, &c, &why);
	if (ret) {
		pr_err("llm_client: generate_cb failed: %d\n", ret);
		goto close;
	}
	pr_info("llm_client: callback: %zu bytes in %u calls, stop %u: %s%s\n",
		c.len, c.calls, why, prompt, c.buf);
	pr_info("llm_client: the two runs %s\n",
		strcmp(out, c.buf) ? "differ" : "agree");
close:
	llm_session_close(s);
free:
	kfree(out);
	kfree(c.buf);
	return ret;
}

static void __exit llm_client_exit(void)
{
}

module_init(llm_client_init);
module_exit(llm_client_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Sample client of llm.ko's in-kernel API");
MODULE_AUTHOR("The llm authors");
