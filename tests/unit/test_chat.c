// SPDX-License-Identifier: GPL-2.0
/*
 * Chat templates (llm/core/chat.c): each family recognised from its real
 * template's text and rendered byte for byte as that template renders
 * (the expected strings are llama-server's /apply-template answers for
 * the same messages; tests/llama-diff.sh checks more against it), with
 * and without a system message, over several turns, continuing a
 * conversation as the kernel does, and the refusals: no template, an
 * unknown one, roles out of order, a buffer too small.
 */
#include <stdlib.h>

#include "check.h"
#include "synth_model.h"
#include "llm/core/chat.h"

#define LLAMA3_TMPL "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
#define QWEN3_TMPL "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- if '</think>' in message.content %}{%- endif %}{%- endfor %}"
#define CHATML_TMPL "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
#define LLAMA2_TMPL "{% if messages[0]['role'] == 'system' %}{% set system_message = messages[0]['content'] %}{% endif %}{% for message in loop_messages %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' %}{% endif %}{% endfor %}"

static const struct llm_chat_tmpl llama3 = {
	.family = LLM_CHAT_TEMPLATE_LLAMA3,
	.bos = "<|begin_of_text|>", .bos_len = 17,
	.eos = "<|end_of_text|>", .eos_len = 15,
};

static const struct llm_chat_tmpl qwen3 = {
	.family = LLM_CHAT_TEMPLATE_CHATML, .think = true,
	.bos = "", .eos = "<|im_end|>", .eos_len = 10,
};

static const struct llm_chat_tmpl llama2 = {
	.family = LLM_CHAT_TEMPLATE_LLAMA2,
	.bos = "<s>", .bos_len = 3, .eos = "</s>", .eos_len = 4,
	.add_bos = true,
};

#define MSG(r, s) { LLM_CHAT_##r, s, sizeof(s) - 1 }

static const struct llm_chat_message sys_user[] = {
	MSG(SYSTEM, "  You are helpful. \n"),
	MSG(USER, "\n Hello there  "),
	MSG(ASSISTANT, " Hi! x "),
	MSG(USER, "h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac"),
};

static char buf[4096];

/* Render and compare with @want; -errno from the renderer otherwise. */
static int render(const struct llm_chat_tmpl *t,
		  const struct llm_chat_message *m, u32 n, unsigned int flags,
		  const char *want)
{
	char err[256] = "";
	u32 len;
	int ret = llm_chat_render(t, m, n, flags, buf, sizeof(buf), &len,
				  err, sizeof(err));

	if (ret)
		return ret;
	if (len != strlen(want) || memcmp(buf, want, len)) {
		fprintf(stderr, "rendered '%.*s'\nwanted   '%s'\n", (int)len, buf,
			want);
		return 1;
	}
	return 0;
}

static void test_detect(void)
{
	static const struct {
		const char *s;
		u32 family;
		bool think;
	} cases[] = {
		{ LLAMA3_TMPL, LLM_CHAT_TEMPLATE_LLAMA3, false },
		{ QWEN3_TMPL, LLM_CHAT_TEMPLATE_CHATML, true },
		{ CHATML_TMPL, LLM_CHAT_TEMPLATE_CHATML, false },
		{ LLAMA2_TMPL, LLM_CHAT_TEMPLATE_LLAMA2, false },
		{ "", LLM_CHAT_TEMPLATE_NONE, false },
		/* Llama 3.1's dated system block, Qwen2.5's own system */
		{ "<|start_header_id|>system<|end_header_id|>\\n\\nCutting Knowledge Date: December 2023",
		  LLM_CHAT_TEMPLATE_UNKNOWN, false },
		{ "{{ '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud.<|im_end|>' }}",
		  LLM_CHAT_TEMPLATE_UNKNOWN, false },
		/* Mistral's [INST] without <<SYS>>, Gemma's turns */
		{ "{{ bos_token }}{{ '[INST] ' + message['content'] + ' [/INST]' }}",
		  LLM_CHAT_TEMPLATE_UNKNOWN, false },
		{ "<start_of_turn>user\n", LLM_CHAT_TEMPLATE_UNKNOWN, false },
	};
	size_t i;
	bool think;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_EQ(llm_chat_detect(cases[i].s, strlen(cases[i].s), &think),
			 cases[i].family);
		CHECK_EQ(think, cases[i].think);
	}
	CHECK_EQ(llm_chat_detect(NULL, 0, &think), LLM_CHAT_TEMPLATE_NONE);
	/* the marker must lie within the length given */
	CHECK_EQ(llm_chat_detect("<|im_start|>", 11, &think),
		 LLM_CHAT_TEMPLATE_UNKNOWN);
	CHECK(strstr(llm_chat_why_not(LLM_CHAT_TEMPLATE_NONE), "no chat template"));
	CHECK(strstr(llm_chat_why_not(LLM_CHAT_TEMPLATE_UNKNOWN), "no family"));
}

static void test_llama3(void)
{
	struct llm_chat_tmpl t = llama3;

	CHECK_EQ(render(&t, sys_user, 4, LLM_CHAT_R_GEN,
			"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
			"<|start_header_id|>user<|end_header_id|>\n\nHello there<|eot_id|>"
			"<|start_header_id|>assistant<|end_header_id|>\n\nHi! x<|eot_id|>"
			"<|start_header_id|>user<|end_header_id|>\n\nh\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac<|eot_id|>"
			"<|start_header_id|>assistant<|end_header_id|>\n\n"), 0);
	/* no system; a vocabulary that adds BOS itself: no BOS text */
	t.add_bos = true;
	CHECK_EQ(render(&t, sys_user + 1, 1, LLM_CHAT_R_GEN,
			"<|start_header_id|>user<|end_header_id|>\n\nHello there<|eot_id|>"
			"<|start_header_id|>assistant<|end_header_id|>\n\n"), 0);
	/* a turn after a reply, as the kernel adds it to a conversation */
	CHECK_EQ(render(&llama3, sys_user + 3, 1,
			LLM_CHAT_R_GEN | LLM_CHAT_R_AFTER_REPLY,
			"<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nh\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac<|eot_id|>"
			"<|start_header_id|>assistant<|end_header_id|>\n\n"), 0);
	/* a trailing non-breaking space stays: ASCII whitespace only */
	{
		static const struct llm_chat_message m[] = {
			MSG(USER, "\t Hi \xc2\xa0"),
		};

		CHECK_EQ(render(&llama3, m, 1, 0,
				"<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi \xc2\xa0<|eot_id|>"), 0);
	}
}

static void test_chatml(void)
{
	static const struct llm_chat_message think[] = {
		MSG(USER, "2+2?"),
		MSG(ASSISTANT, "<think>\nadding\n</think>\n\n4"),
		MSG(USER, "3+3?"),
		MSG(ASSISTANT, "<think>\n\nsix\n</think>\n\n\n6"),
	};
	struct llm_chat_tmpl plain = qwen3;

	CHECK_EQ(render(&qwen3, sys_user, 4, LLM_CHAT_R_GEN,
			"<|im_start|>system\n  You are helpful. \n<|im_end|>\n"
			"<|im_start|>user\n\n Hello there  <|im_end|>\n"
			"<|im_start|>assistant\n Hi! x <|im_end|>\n"
			"<|im_start|>user\nh\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac<|im_end|>\n"
			"<|im_start|>assistant\n"), 0);
	/* Qwen3: reasoning dropped before the last user message */
	CHECK_EQ(render(&qwen3, think, 3, LLM_CHAT_R_GEN,
			"<|im_start|>user\n2+2?<|im_end|>\n"
			"<|im_start|>assistant\n4<|im_end|>\n"
			"<|im_start|>user\n3+3?<|im_end|>\n"
			"<|im_start|>assistant\n"), 0);
	/* ... and shown after it */
	CHECK_EQ(render(&qwen3, think, 4, 0,
			"<|im_start|>user\n2+2?<|im_end|>\n"
			"<|im_start|>assistant\n4<|im_end|>\n"
			"<|im_start|>user\n3+3?<|im_end|>\n"
			"<|im_start|>assistant\n<think>\nsix\n</think>\n\n6<|im_end|>\n"), 0);
	/* plain ChatML keeps an assistant message as it is */
	plain.think = false;
	CHECK_EQ(render(&plain, think, 2, 0,
			"<|im_start|>user\n2+2?<|im_end|>\n"
			"<|im_start|>assistant\n<think>\nadding\n</think>\n\n4<|im_end|>\n"), 0);
	CHECK_EQ(render(&qwen3, sys_user + 1, 1,
			LLM_CHAT_R_GEN | LLM_CHAT_R_AFTER_REPLY,
			"<|im_end|>\n<|im_start|>user\n\n Hello there  <|im_end|>\n"
			"<|im_start|>assistant\n"), 0);
}

static void test_llama2(void)
{
	static const struct llm_chat_message bad[] = {
		MSG(USER, "a"), MSG(USER, "b"),
	};
	static const struct llm_chat_message sys_late[] = {
		MSG(USER, "a"), MSG(ASSISTANT, "b"), MSG(SYSTEM, "c"),
	};
	struct llm_chat_tmpl t = llama2;
	char err[256];
	u32 len;

	CHECK_EQ(render(&llama2, sys_user, 4, LLM_CHAT_R_GEN,
			"[INST] <<SYS>>\n  You are helpful. \n\n<</SYS>>\n\n\n Hello there [/INST]"
			" Hi! x </s><s>[INST] h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac [/INST]"), 0);
	t.add_bos = false;
	CHECK_EQ(render(&t, sys_user + 1, 1, LLM_CHAT_R_GEN,
			"<s>[INST] Hello there [/INST]"), 0);
	CHECK_EQ(render(&llama2, sys_user + 3, 1, LLM_CHAT_R_AFTER_REPLY,
			" </s><s>[INST] h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac [/INST]"), 0);
	CHECK_EQ(llm_chat_render(&llama2, bad, 2, 0, buf, sizeof(buf), &len,
				 err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "in turn"));
	CHECK_EQ(llm_chat_render(&llama2, sys_late, 3, 0, buf, sizeof(buf),
				 &len, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "message 3 is the system's"));
	/* a system message cannot join a conversation already going */
	CHECK_EQ(llm_chat_render(&llama2, sys_user, 2, LLM_CHAT_R_CONT, buf,
				 sizeof(buf), &len, err, sizeof(err)), -EINVAL);
}

static void test_refusals(void)
{
	static const struct llm_chat_message odd[] = {
		{ 7, "x", 1 },
	};
	struct llm_chat_tmpl none = { .family = LLM_CHAT_TEMPLATE_NONE };
	struct llm_chat_tmpl unk = { .family = LLM_CHAT_TEMPLATE_UNKNOWN };
	char err[256], small[40];
	u32 len, full;

	CHECK_EQ(llm_chat_render(&none, sys_user, 2, 0, buf, sizeof(buf), &len,
				 err, sizeof(err)), -EOPNOTSUPP);
	CHECK(strstr(err, "no chat template"));
	CHECK_EQ(llm_chat_render(&unk, sys_user, 2, 0, buf, sizeof(buf), &len,
				 err, sizeof(err)), -EOPNOTSUPP);
	CHECK_EQ(llm_chat_render(&llama3, odd, 1, 0, buf, sizeof(buf), &len,
				 err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "no role"));
	/* too small: the length it needs, and no byte past the buffer */
	CHECK_EQ(llm_chat_render(&llama3, sys_user, 4, LLM_CHAT_R_GEN, buf,
				 sizeof(buf), &full, err, sizeof(err)), 0);
	memset(small, 'Z', sizeof(small));
	CHECK_EQ(llm_chat_render(&llama3, sys_user, 4, LLM_CHAT_R_GEN, small,
				 sizeof(small) - 8, &len, err, sizeof(err)),
		 -ENOSPC);
	CHECK_EQ(len, full);
	CHECK(!memcmp(small, buf, sizeof(small) - 8));
	CHECK_EQ(small[sizeof(small) - 8], 'Z');
	CHECK_EQ(llm_chat_render(&llama3, sys_user, 4, LLM_CHAT_R_GEN, NULL, 0,
				 &len, err, sizeof(err)), -ENOSPC);
	CHECK_EQ(len, full);
}

/* A file's template and vocabulary: the family, BOS/EOS texts, EOT. */
static void test_init(void)
{
	static char region[8 << 20];
	const char *tmpls[] = { NULL, LLAMA2_TMPL, CHATML_TMPL, "{{ x }}" };
	const u32 want[] = { LLM_CHAT_TEMPLATE_NONE, LLM_CHAT_TEMPLATE_LLAMA2,
			     LLM_CHAT_TEMPLATE_CHATML,
			     LLM_CHAT_TEMPLATE_UNKNOWN };
	size_t i;

	for (i = 0; i < 4; i++) {
		struct synth_shape s;
		struct synth_model m;
		struct llm_chat_tmpl t;
		struct llm_vocab v;
		struct llm_arena a;
		struct llm_gguf g;
		char err[256];
		void *img;
		u64 len;
		int ret;

		memset(&s, 0, sizeof(s));
		CHECK(synth_preset("stories260K", &s));
		s.chat_template = tmpls[i];
		CHECK_EQ(synth_model_build(&m, &s, err, sizeof(err)), 0);
		CHECK_EQ(llm_gguf_writer_to_mem(m.w, &img, &len), 0);
		llm_arena_init(&a, region, sizeof(region));
		CHECK_EQ(llm_gguf_parse(&g, img, len, &a, err, sizeof(err)), 0);
		CHECK_EQ(llm_vocab_load(&v, &g, &a, err, sizeof(err)), 0);
		ret = llm_chat_init(&t, &g, &v);
		CHECK_EQ(t.family, want[i]);
		CHECK_EQ(ret, want[i] == LLM_CHAT_TEMPLATE_LLAMA2 ||
			      want[i] == LLM_CHAT_TEMPLATE_CHATML ?
			      0 : -EOPNOTSUPP);
		CHECK(t.bos_len == 3 && !memcmp(t.bos, "<s>", 3));
		CHECK(t.eos_len == 4 && !memcmp(t.eos, "</s>", 4));
		CHECK(t.add_bos);
		/* no <|im_end|> in this vocabulary: EOS ends a reply */
		CHECK_EQ(t.eot, v.eos);
		free(img);
		synth_model_free(&m);
	}
}

int main(void)
{
	RUN(test_detect);
	RUN(test_llama3);
	RUN(test_chatml);
	RUN(test_llama2);
	RUN(test_refusals);
	RUN(test_init);
	return check_done();
}
