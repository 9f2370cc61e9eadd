/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Chat templates: a conversation rendered as the prompt text the model was
 * trained on, from the GGUF's tokenizer.chat_template.
 *
 * There is no Jinja engine here: the template is recognised by family from
 * distinctive markers (as llama.cpp's built-in templates are), and each
 * family is rendered by hand, byte for byte what the family's real
 * template gives (Llama 3, ChatML as Qwen3 writes it, Llama 2; checked
 * against llama.cpp's /apply-template by tests/llama-diff.sh).  A file with
 * no template, or one of no known family, is refused with a sentence.
 *
 * Shared core: no allocation; text goes into the caller's buffer.
 */
#ifndef LLM_CHAT_H
#define LLM_CHAT_H

#include "platform.h"
#include "gguf.h"
#include "tokenizer.h"
#include "../../uapi/llm.h"

/* A model's template, as far as rendering needs it. */
struct llm_chat_tmpl {
	u32 family;		/* enum llm_chat_template */
	bool think;		/* ChatML as Qwen3's: reasoning in <think> */
	const char *bos;	/* BOS token's text, or "" */
	u32 bos_len;
	const char *eos;	/* EOS token's text, or "" */
	u32 eos_len;
	u32 eot;		/* the token a reply ends at, or LLM_TOKEN_NONE */
	/*
	 * The vocabulary puts BOS in front when tokenizing: a conversation's
	 * leading BOS text is left out, as llama.cpp leaves it out, so that
	 * it is not there twice.
	 */
	bool add_bos;
};

/* One message; @role is enum llm_chat_role. */
struct llm_chat_message {
	u32 role;
	const char *text;
	u32 len;
};

/* The family of template text @s (@len bytes); @think as in the tmpl. */
u32 llm_chat_detect(const char *s, u64 len, bool *think);

/*
 * The template of a loaded file: its family, and the token texts and the
 * end-of-turn token its rendering needs from @v.  0, or -EOPNOTSUPP when
 * there is none or it is of no known family (@t->family says which).
 */
int llm_chat_init(struct llm_chat_tmpl *t, const struct llm_gguf *g,
		  const struct llm_vocab *v);

/* "Llama 3", "ChatML", ...; for a refusal, why (a sentence, no period). */
const char *llm_chat_family_name(u32 family);
const char *llm_chat_why_not(u32 family);

/* llm_chat_render() flags */
#define LLM_CHAT_R_GEN		(1u << 0)	/* the assistant's header after */
/* the messages go on from earlier ones already in context: no BOS */
#define LLM_CHAT_R_CONT		(1u << 1)
/* ... which end in a generated reply, not closed yet: close it first */
#define LLM_CHAT_R_AFTER_REPLY	(1u << 2)

/*
 * Render @n messages into @out (at most @cap bytes, no NUL).  *@len gets
 * the whole text's length even when it does not fit (then -ENOSPC).
 * -EINVAL with a sentence in @err: a role unknown, or out of the order
 * the family allows; -EOPNOTSUPP: @t is of no family rendered here.
 */
int llm_chat_render(const struct llm_chat_tmpl *t,
		    const struct llm_chat_message *msgs, u32 n,
		    unsigned int flags, char *out, u32 cap, u32 *len,
		    char *err, size_t errlen);

#endif /* LLM_CHAT_H */
