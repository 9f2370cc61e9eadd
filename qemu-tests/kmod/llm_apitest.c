// SPDX-License-Identifier: GPL-2.0
/*
 * llm_apitest: the in-kernel API (llm/api.h) given bad input, checked at
 * load.  Each check logs "llm_apitest: PASS what" or "llm_apitest: FAIL
 * what: ..."; qemu-tests/tests/kapi_bad.sh turns those into results.
 *
 *   model=0  no model is loaded: every request is -ENODATA
 *   model=1  a model is loaded, llm.ko has sessions=@slots,
 *            max_prompt_bytes=@prompt_bytes and a small max_context
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/err.h>
#include <linux/slab.h>

#include "../../llm/api.h"

static bool model;
module_param(model, bool, 0444);
MODULE_PARM_DESC(model, "A model is loaded (default N)");

static unsigned int slots = 3;
module_param(slots, uint, 0444);
MODULE_PARM_DESC(slots, "llm.ko's sessions= (default 3)");

static unsigned int prompt_bytes = 256;
module_param(prompt_bytes, uint, 0444);
MODULE_PARM_DESC(prompt_bytes, "llm.ko's max_prompt_bytes= (default 256)");

#define OUT_CAP	4096
#define MAX_SLOTS 16

static unsigned int failures;

static void result(bool ok, const char *what, long got, long want)
{
	if (ok) {
		pr_info("llm_apitest: PASS %s\n", what);
	} else {
		pr_info("llm_apitest: FAIL %s: got %ld, want %ld\n", what, got,
			want);
		failures++;
	}
}

#define EXPECT(what, got, want) do {					\
	long _g = (long)(got), _w = (long)(want);			\
	result(_g == _w, what, _g, _w);					\
} while (0)

struct counter {
	unsigned int calls;
	unsigned int stop_after;	/* 0: never stop */
};

static int count_cb(void *arg, const char *text, size_t len)
{
	struct counter *c = arg;

	c->calls++;
	return c->stop_after && c->calls >= c->stop_after;
}

static void no_model(char *out)
{
	struct counter c = {};
	struct llm_session *s;
	size_t len = 1;
	u32 why = 99;

	s = llm_session_open();
	EXPECT("open works with no model loaded", IS_ERR(s), 0);
	if (IS_ERR(s))
		return;
	EXPECT("generate with no model is -ENODATA",
	       llm_session_generate(s, "Once", 4, out, OUT_CAP, &len, &why),
	       -ENODATA);
	EXPECT("... and says it wrote nothing", len, 0);
	EXPECT("generate_cb with no model is -ENODATA",
	       llm_session_generate_cb(s, "Once", 4, count_cb, &c, NULL),
	       -ENODATA);
	EXPECT("... and never calls back", c.calls, 0);
	EXPECT("reset with no model is fine", llm_session_reset(s), 0);
	llm_session_close(s);
}

static void bad_params(struct llm_session *s)
{
	struct llm_params p = { .size = sizeof(p), .top_p_milli = 1000 };

	p.size = sizeof(p) - 1;
	EXPECT("set_params with a wrong size is -EINVAL",
	       llm_session_set_params(s, &p), -EINVAL);
	p.size = sizeof(p);
	p.flags = 1;
	EXPECT("set_params with unknown flags is -EINVAL",
	       llm_session_set_params(s, &p), -EINVAL);
	p.flags = 0;
	p.top_p_milli = 1001;
	EXPECT("set_params with top_p over 1 is -EINVAL",
	       llm_session_set_params(s, &p), -EINVAL);
	p.top_p_milli = 1000;
	p.temperature_milli = 100001;
	EXPECT("set_params with temperature over 100 is -EINVAL",
	       llm_session_set_params(s, &p), -EINVAL);
	p.temperature_milli = 0;
	p.max_tokens = 1u << 30;
	EXPECT("set_params over max_new_tokens is -EINVAL",
	       llm_session_set_params(s, &p), -EINVAL);
	p.max_tokens = 0;
	memset(p.stop[0], 'x', LLM_STOP_LEN);
	EXPECT("set_params with an unterminated stop string is -EINVAL",
	       llm_session_set_params(s, &p), -EINVAL);
	memset(p.stop[0], 0, LLM_STOP_LEN);
	p.stop[0][0] = 'x';
	p.stop[0][2] = 'y';
	EXPECT("set_params with bytes after a stop string's end is -EINVAL",
	       llm_session_set_params(s, &p), -EINVAL);
}

static void bad_prompts(struct llm_session *s, char *out)
{
	static const char * const bad_utf8[] = {
		"\xff", "a\xe2\x82", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	};
	char *big;
	size_t len = 1, i;
	u32 why;

	EXPECT("a zero-sized buffer is -EINVAL",
	       llm_session_generate(s, "Once", 4, out, 0, &len, &why), -EINVAL);
	EXPECT("... and says it wrote nothing", len, 0);
	for (i = 0; i < ARRAY_SIZE(bad_utf8); i++)
		EXPECT("a prompt that is not UTF-8 is -EINVAL",
		       llm_session_generate(s, bad_utf8[i], strlen(bad_utf8[i]),
					    out, OUT_CAP, &len, &why),
		       -EINVAL);
	big = kmalloc(prompt_bytes + 1, GFP_KERNEL);
	if (!big) {
		result(false, "kmalloc", -ENOMEM, 0);
		return;
	}
	memset(big, 'a', prompt_bytes + 1);
	EXPECT("a prompt over max_prompt_bytes is -E2BIG",
	       llm_session_generate(s, big, prompt_bytes + 1, out, OUT_CAP,
				    &len, &why),
	       -E2BIG);
	/* "a a a ...": one token per word, more than the context holds */
	for (i = 1; i < prompt_bytes; i += 2)
		big[i] = ' ';
	EXPECT("a prompt longer than the context is -ENOSPC",
	       llm_session_generate(s, big, prompt_bytes, out, OUT_CAP,
				    &len, &why),
	       -ENOSPC);
	kfree(big);
}

/* Text of a fresh, greedy 40-token completion of "Once" into @out. */
static int reference(struct llm_session *s, char *out, size_t *len)
{
	u32 why;

	llm_session_reset(s);
	memset(out, 0, OUT_CAP);
	return llm_session_generate(s, "Once", 4, out, OUT_CAP - 1, len, &why);
}

static void endings(struct llm_session *s, char *out, char *ref)
{
	struct llm_params p = { .size = sizeof(p), .max_tokens = 40 };
	struct counter c = { .stop_after = 1 };
	size_t len, ref_len;
	u32 why = 0;

	EXPECT("good params are taken", llm_session_set_params(s, &p), 0);
	EXPECT("a greedy completion works", reference(s, ref, &ref_len), 0);
	EXPECT("... and is the same the second time",
	       reference(s, out, &len) == 0 && len == ref_len &&
	       !memcmp(out, ref, len), 1);

	llm_session_reset(s);
	EXPECT("an 8-byte buffer takes 8 bytes",
	       llm_session_generate(s, "Once", 4, out, 8, &len, &why), 0);
	EXPECT("... exactly", len, 8);
	EXPECT("... the first 8 of the completion", memcmp(out, ref, 8), 0);
	EXPECT("... and the stop reason says the buffer was full", why,
	       LLM_STOP_BUFFER);

	llm_session_reset(s);
	EXPECT("a callback that returns non-zero stops generation",
	       llm_session_generate_cb(s, "Once", 4, count_cb, &c, &why), 0);
	EXPECT("... after that call", c.calls, 1);
	EXPECT("... as cancelled", why, LLM_STOP_CANCELLED);
	EXPECT("the session works after a stop, with the same text",
	       reference(s, out, &len) == 0 && len == ref_len &&
	       !memcmp(out, ref, len), 1);

	/* ask for more than the context holds: it stops there */
	p.max_tokens = 1000;
	llm_session_set_params(s, &p);
	llm_session_reset(s);
	EXPECT("generating past the context ends without an error",
	       llm_session_generate(s, "Once", 4, out, OUT_CAP, &len, &why),
	       0);
	EXPECT("... with the stop reason context", why, LLM_STOP_CONTEXT);
	EXPECT("then the next prompt does not fit: -ENOSPC",
	       llm_session_generate(s, "The", 3, out, OUT_CAP, &len, &why),
	       -ENOSPC);
	p.max_tokens = 40;
	llm_session_set_params(s, &p);
	EXPECT("after a reset the session works again, with the same text",
	       reference(s, out, &len) == 0 && len == ref_len &&
	       !memcmp(out, ref, len), 1);
}

static void slot_limit(void)
{
	struct llm_session *s[MAX_SLOTS + 1];
	unsigned int i, n = min_t(unsigned int, slots, MAX_SLOTS);
	bool all = true;

	for (i = 0; i < n; i++) {
		s[i] = llm_session_open();
		if (IS_ERR(s[i])) {
			all = false;
			break;
		}
	}
	EXPECT("every free slot can be opened", all, true);
	if (!all) {
		n = i;
		goto close;
	}
	s[n] = llm_session_open();
	EXPECT("one more open is -EBUSY", IS_ERR(s[n]) ? PTR_ERR(s[n]) : 0,
	       -EBUSY);
	if (!IS_ERR(s[n]))
		n++;
	else {
		llm_session_close(s[0]);
		s[0] = llm_session_open();
		EXPECT("a closed slot can be taken again", IS_ERR(s[0]), 0);
		if (IS_ERR(s[0]))
			s[0] = NULL;
	}
close:
	for (i = 0; i < n; i++)
		if (s[i])
			llm_session_close(s[i]);
}

static int __init llm_apitest_init(void)
{
	char *out = kzalloc(OUT_CAP, GFP_KERNEL);
	char *ref = kzalloc(OUT_CAP, GFP_KERNEL);
	struct llm_session *s;

	if (!out || !ref) {
		kfree(out);
		kfree(ref);
		return -ENOMEM;
	}
	if (!model) {
		no_model(out);
		goto out;
	}
	s = llm_session_open();
	EXPECT("open works", IS_ERR(s), 0);
	if (!IS_ERR(s)) {
		bad_params(s);
		bad_prompts(s, out);
		endings(s, out, ref);
		llm_session_close(s);
	}
	slot_limit();
out:
	pr_info("llm_apitest: done, %u failed\n", failures);
	kfree(out);
	kfree(ref);
	return 0;
}

static void __exit llm_apitest_exit(void)
{
}

module_init(llm_apitest_init);
module_exit(llm_apitest_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Bad-input tests of llm.ko's in-kernel API");
MODULE_AUTHOR("The llm authors");
