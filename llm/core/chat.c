// SPDX-License-Identifier: GPL-2.0
/*
 * Chat templates by family.  See chat.h.
 *
 * The strings below are those of the families' real templates:
 *
 * Llama 3 (Meta-Llama-3-*-Instruct): BOS text first, then per message
 *   "<|start_header_id|>" role "<|end_header_id|>\n\n" content|trim
 *   "<|eot_id|>", and "<|start_header_id|>assistant<|end_header_id|>\n\n"
 *   to prompt a reply.
 * ChatML (Qwen3 and others): "<|im_start|>" role "\n" content
 *   "<|im_end|>\n", and "<|im_start|>assistant\n".  Qwen3's drops an
 *   assistant message's reasoning (up to "</think>") before the last user
 *   message, and shows it in "<think>\n...\n</think>\n\n" after it.
 * Llama 2 (Llama-2-*-chat): a first system message folds into the first
 *   user message as "<<SYS>>\n" system "\n<</SYS>>\n\n"; user messages are
 *   BOS text "[INST] " content.strip() " [/INST]", assistant ones " "
 *   content.strip() " " EOS text; roles alternate, user first; nothing
 *   prompts a reply.
 *
 * The conversation's first BOS text is left out when the vocabulary adds
 * BOS itself, as llama.cpp does (it is the same token either way).
 *
 * trim and strip() remove ASCII whitespace only, as llama.cpp's template
 * engine does (Python's would also remove Unicode spaces).
 */
#include "chat.h"

static const char *find(const char *s, u64 len, const char *needle)
{
	size_t n = strlen(needle);
	u64 i;

	for (i = 0; n && i + n <= len; i++)
		if (s[i] == needle[0] && !memcmp(s + i, needle, n))
			return s + i;
	return NULL;
}

static bool has(const char *s, u64 len, const char *needle)
{
	return find(s, len, needle) != NULL;
}

u32 llm_chat_detect(const char *s, u64 len, bool *think)
{
	*think = false;
	if (!s || !len)
		return LLM_CHAT_TEMPLATE_NONE;
	if (has(s, len, "<|start_header_id|>")) {
		/* 3.1 and later add a dated system block and tools */
		if (has(s, len, "Cutting Knowledge Date"))
			return LLM_CHAT_TEMPLATE_UNKNOWN;
		return LLM_CHAT_TEMPLATE_LLAMA3;
	}
	if (has(s, len, "<|im_start|>")) {
		/* Qwen2 and 2.5 put in a system message of their own */
		if (has(s, len, "<|im_start|>system\\nYou are") ||
		    has(s, len, "<|im_start|>system\nYou are"))
			return LLM_CHAT_TEMPLATE_UNKNOWN;
		*think = has(s, len, "</think>");
		return LLM_CHAT_TEMPLATE_CHATML;
	}
	/* Mistral's [INST] templates have no <<SYS>> and differ */
	if (has(s, len, "[INST]") && has(s, len, "<<SYS>>"))
		return LLM_CHAT_TEMPLATE_LLAMA2;
	return LLM_CHAT_TEMPLATE_UNKNOWN;
}

const char *llm_chat_family_name(u32 family)
{
	switch (family) {
	case LLM_CHAT_TEMPLATE_LLAMA3:
		return "Llama 3";
	case LLM_CHAT_TEMPLATE_CHATML:
		return "ChatML";
	case LLM_CHAT_TEMPLATE_LLAMA2:
		return "Llama 2";
	case LLM_CHAT_TEMPLATE_UNKNOWN:
		return "unknown";
	}
	return "none";
}

const char *llm_chat_why_not(u32 family)
{
	if (family == LLM_CHAT_TEMPLATE_NONE)
		return "the model has no chat template (tokenizer.chat_template): it completes text, it does not chat";
	return "the model's chat template is of no family llm renders (Llama 3, ChatML as Qwen's, Llama 2), and there is no template engine in the kernel";
}

static const char *tok_text(const struct llm_vocab *v, u32 id, u32 *len)
{
	if (id == LLM_TOKEN_NONE || id >= v->n) {
		*len = 0;
		return "";
	}
	*len = v->tok[id].len;
	return v->tok[id].text;
}

static u32 find_tok(const struct llm_vocab *v, const char *text)
{
	return llm_vocab_find(v, text, strlen(text));
}

int llm_chat_init(struct llm_chat_tmpl *t, const struct llm_gguf *g,
		  const struct llm_vocab *v)
{
	struct llm_gguf_str s = { NULL, 0 };
	u32 eot = LLM_TOKEN_NONE;

	memset(t, 0, sizeof(*t));
	if (llm_gguf_get_str(g, "tokenizer.chat_template", &s))
		s.len = 0;
	t->family = llm_chat_detect(s.p, s.len, &t->think);
	t->bos = tok_text(v, v->bos, &t->bos_len);
	t->eos = tok_text(v, v->eos, &t->eos_len);
	t->add_bos = v->add_bos && v->bos != LLM_TOKEN_NONE;
	if (t->family == LLM_CHAT_TEMPLATE_LLAMA3)
		eot = find_tok(v, "<|eot_id|>");
	else if (t->family == LLM_CHAT_TEMPLATE_CHATML)
		eot = find_tok(v, "<|im_end|>");
	t->eot = eot != LLM_TOKEN_NONE ? eot : v->eos;
	if (t->family == LLM_CHAT_TEMPLATE_NONE ||
	    t->family == LLM_CHAT_TEMPLATE_UNKNOWN)
		return -EOPNOTSUPP;
	return 0;
}

/* ---- output ---- */

struct out {
	char *p;
	u32 cap;
	u64 len;	/* what the whole text needs */
};

static void put(struct out *o, const char *s, u64 n)
{
	if (o->len < o->cap)
		memcpy(o->p + o->len, s, min_t(u64, n, o->cap - o->len));
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	       c == '\v' || c == '\f';
}

/* Jinja's trim, strip(), and strip('\n'), lstrip('\n'), rstrip('\n'). */
static void strip(const char **s, u32 *n, bool only_nl, bool left, bool right)
{
	while (left && *n && (only_nl ? **s == '\n' : is_ws(**s))) {
		(*s)++;
		(*n)--;
	}
	while (right && *n && (only_nl ? (*s)[*n - 1] == '\n' :
				is_ws((*s)[*n - 1])))
		(*n)--;
}

static const char *role_name(u32 role)
{
	switch (role) {
	case LLM_CHAT_SYSTEM:
		return "system";
	case LLM_CHAT_USER:
		return "user";
	case LLM_CHAT_ASSISTANT:
		return "assistant";
	}
	return NULL;
}

/* ---- Llama 3 ---- */

static void render_llama3(const struct llm_chat_tmpl *t,
			  const struct llm_chat_message *msgs, u32 n,
			  unsigned int flags, struct out *o)
{
	u32 i;

	if (flags & LLM_CHAT_R_AFTER_REPLY)
		puts_(o, "<|eot_id|>");
	for (i = 0; i < n; i++) {
		const char *s = msgs[i].text;
		u32 len = msgs[i].len;

		if (!i && !(flags & LLM_CHAT_R_CONT) && !t->add_bos)
			put(o, t->bos, t->bos_len);
		puts_(o, "<|start_header_id|>");
		puts_(o, role_name(msgs[i].role));
		puts_(o, "<|end_header_id|>\n\n");
		strip(&s, &len, false, true, true);
		put(o, s, len);
		puts_(o, "<|eot_id|>");
	}
	if (flags & LLM_CHAT_R_GEN)
		puts_(o, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

/* ---- ChatML ---- */

/*
 * Qwen3's split of an assistant message at "</think>": the answer after
 * the last one, the reasoning between the last "<think>" and the first
 * "</think>".
 */
static void split_think(const struct llm_chat_message *m, const char **ans,
			u32 *ans_len, const char **why, u32 *why_len)
{
	const char *s = m->text, *end = s + m->len, *at, *first, *last = NULL;

	*ans = s;
	*ans_len = m->len;
	*why = "";
	*why_len = 0;
	first = find(s, m->len, "</think>");
	if (!first)
		return;
	for (at = first; at; at = find(at + 1, end - at - 1, "</think>"))
		last = at;
	*ans = last + 8;
	*ans_len = end - *ans;
	strip(ans, ans_len, true, true, false);
	/* reasoning: before the first </think>, after its last <think> */
	*why = s;
	*why_len = first - s;
	strip(why, why_len, true, false, true);
	while ((at = find(*why, *why_len, "<think>"))) {
		*why_len -= at + 7 - *why;
		*why = at + 7;
	}
	strip(why, why_len, true, true, false);
}

static bool is_tool_result(const struct llm_chat_message *m)
{
	static const char open[] = "<tool_response>", close[] = "</tool_response>";

	return m->len >= sizeof(open) - 1 &&
	       !memcmp(m->text, open, sizeof(open) - 1) &&
	       m->len >= sizeof(close) - 1 &&
	       !memcmp(m->text + m->len - (sizeof(close) - 1), close,
		       sizeof(close) - 1);
}

static void render_chatml(const struct llm_chat_tmpl *t,
			  const struct llm_chat_message *msgs, u32 n,
			  unsigned int flags, struct out *o)
{
	u32 i, last_user = n ? n - 1 : 0;

	if (flags & LLM_CHAT_R_AFTER_REPLY)
		puts_(o, "<|im_end|>\n");
	/* the last user message that is not a tool's response (Qwen3) */
	for (i = n; i-- > 0;)
		if (msgs[i].role == LLM_CHAT_USER && !is_tool_result(&msgs[i])) {
			last_user = i;
			break;
		}
	for (i = 0; i < n; i++) {
		const struct llm_chat_message *m = &msgs[i];
		const char *ans, *why;
		u32 ans_len, why_len;

		puts_(o, "<|im_start|>");
		puts_(o, role_name(m->role));
		puts_(o, "\n");
		if (m->role != LLM_CHAT_ASSISTANT || !t->think) {
			put(o, m->text, m->len);
		} else {
			split_think(m, &ans, &ans_len, &why, &why_len);
			if (i > last_user && (i == n - 1 || why_len)) {
				strip(&why, &why_len, true, true, true);
				puts_(o, "<think>\n");
				put(o, why, why_len);
				puts_(o, "\n</think>\n\n");
				strip(&ans, &ans_len, true, true, false);
			}
			put(o, ans, ans_len);
		}
		puts_(o, "<|im_end|>\n");
	}
	if (flags & LLM_CHAT_R_GEN)
		puts_(o, "<|im_start|>assistant\n");
}

/* ---- Llama 2 ---- */

static int render_llama2(const struct llm_chat_tmpl *t,
			 const struct llm_chat_message *msgs, u32 n,
			 unsigned int flags, struct out *o, char *err,
			 size_t errlen)
{
	const struct llm_chat_message *sys = NULL;
	u32 i = 0, k;

	if (flags & LLM_CHAT_R_AFTER_REPLY) {
		puts_(o, " ");
		put(o, t->eos, t->eos_len);
	}
	if (n && msgs[0].role == LLM_CHAT_SYSTEM && !(flags & LLM_CHAT_R_CONT))
		sys = &msgs[i++];
	for (k = 0; i < n; i++, k++) {
		const struct llm_chat_message *m = &msgs[i];
		u32 want = k % 2 ? LLM_CHAT_ASSISTANT : LLM_CHAT_USER;
		const char *s = m->text;
		u32 len = m->len;

		if (m->role != want) {
			llm_snprintf(err, errlen, "Llama 2's template takes a system message only first, then user and assistant messages in turn, user first: message %u is the %s's",
				     i + 1, role_name(m->role));
			return -EINVAL;
		}
		if (want == LLM_CHAT_ASSISTANT) {
			strip(&s, &len, false, true, true);
			puts_(o, " ");
			put(o, s, len);
			puts_(o, " ");
			put(o, t->eos, t->eos_len);
			continue;
		}
		if (k || (flags & LLM_CHAT_R_CONT) || !t->add_bos)
			put(o, t->bos, t->bos_len);
		puts_(o, "[INST] ");
		if (k == 0 && sys) {
			/* strip() of "<<SYS>>\n" system "\n<</SYS>>\n\n" user */
			const char *ss = sys->text;
			u32 sl = sys->len;

			puts_(o, "<<SYS>>\n");
			put(o, ss, sl);
			puts_(o, "\n<</SYS>>");
			strip(&s, &len, false, false, true);
			if (len)
				puts_(o, "\n\n");
		} else {
			strip(&s, &len, false, true, true);
		}
		put(o, s, len);
		puts_(o, " [/INST]");
	}
	return 0;
}

int llm_chat_render(const struct llm_chat_tmpl *t,
		    const struct llm_chat_message *msgs, u32 n,
		    unsigned int flags, char *out, u32 cap, u32 *len,
		    char *err, size_t errlen)
{
	struct out o = { out, cap, 0 };
	int ret = 0;
	u32 i;

	*len = 0;
	if (flags & LLM_CHAT_R_AFTER_REPLY)
		flags |= LLM_CHAT_R_CONT;
	for (i = 0; i < n; i++)
		if (!role_name(msgs[i].role)) {
			llm_snprintf(err, errlen, "message %u has no role llm knows (%u; 1 system, 2 user, 3 assistant)",
				     i + 1, msgs[i].role);
			return -EINVAL;
		}
	switch (t->family) {
	case LLM_CHAT_TEMPLATE_LLAMA3:
		render_llama3(t, msgs, n, flags, &o);
		break;
	case LLM_CHAT_TEMPLATE_CHATML:
		render_chatml(t, msgs, n, flags, &o);
		break;
	case LLM_CHAT_TEMPLATE_LLAMA2:
		ret = render_llama2(t, msgs, n, flags, &o, err, errlen);
		break;
	default:
		llm_snprintf(err, errlen, "%s", llm_chat_why_not(t->family));
		return -EOPNOTSUPP;
	}
	if (ret)
		return ret;
	if (o.len > U32_MAX) {
		*len = U32_MAX;
		return -ENOSPC;
	}
	*len = o.len;
	if (o.len > cap) {
		llm_snprintf(err, errlen, "the conversation renders as %llu bytes, over the %u there is room for",
			     (unsigned long long)o.len, cap);
		return -ENOSPC;
	}
	return 0;
}
