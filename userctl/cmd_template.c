// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl template: a conversation rendered with a model's chat template,
 * by the core's renderer (llm/core/chat.c) here (-m FILE), or by the
 * kernel's (LLM_IOC_CHAT with LLM_CHAT_RENDER) for its loaded model.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "llmctl.h"
#include "modelfile.h"
#include "../llm/core/chat.h"

void help_template(FILE *out)
{
	fprintf(out,
		"usage: llmctl template [-m MODEL.gguf] [FILE.json | -]\n"
		"\n"
		"Print the prompt text a conversation becomes with a model's chat\n"
		"template (tokenizer.chat_template), exactly, with no newline\n"
		"added: what llama.cpp's llama-server returns from POST\n"
		"/apply-template for the same messages.  The conversation is that\n"
		"request's body, read from FILE.json or standard input:\n"
		"\n"
		"  {\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},\n"
		"                {\"role\": \"user\", \"content\": \"Hello\"}]}\n"
		"\n"
		"Roles are system, user and assistant.  When the last message is\n"
		"the user's, the assistant's header follows, prompting a reply.\n"
		"Templates are recognised by family: Llama 3, ChatML (Qwen's),\n"
		"Llama 2; a model with none (GPT-2, base models) or with another\n"
		"one is refused.\n"
		"\n"
		"Options:\n"
		"  -m, --model FILE  render here with FILE's template (no kernel\n"
		"                    needed); without it the kernel renders with\n"
		"                    the loaded model's\n"
		"  -h, --help        this text\n");
}

struct conv {
	json_t *root;
	struct llm_chat_message *msgs;
	u32 n;
};

static int role_of(const char *s)
{
	if (!strcmp(s, "system"))
		return LLM_CHAT_SYSTEM;
	if (!strcmp(s, "user"))
		return LLM_CHAT_USER;
	if (!strcmp(s, "assistant"))
		return LLM_CHAT_ASSISTANT;
	return 0;
}

/* The messages of {"messages": [...]} from @path ("-": standard input). */
static int read_conv(const char *path, struct conv *c)
{
	json_error_t je;
	json_t *arr, *m;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->root = strcmp(path, "-") ? json_load_file(path, 0, &je) :
		  json_loadf(stdin, 0, &je);
	if (!c->root) {
		fprintf(stderr, "llmctl template: %s: %s (line %d)\n",
			path, je.text, je.line);
		return -1;
	}
	arr = json_object_get(c->root, "messages");
	if (!json_is_array(arr)) {
		fprintf(stderr, "llmctl template: %s: no \"messages\" array\n",
			path);
		return -1;
	}
	c->msgs = calloc(json_array_size(arr) + 1, sizeof(*c->msgs));
	if (!c->msgs) {
		fprintf(stderr, "llmctl template: out of memory\n");
		return -1;
	}
	json_array_foreach(arr, i, m) {
		json_t *role = json_object_get(m, "role");
		json_t *text = json_object_get(m, "content");
		int r = json_is_string(role) ? role_of(json_string_value(role)) : 0;

		if (!r || !json_is_string(text)) {
			fprintf(stderr, "llmctl template: %s: message %zu needs a role (system, user or assistant) and a string content\n",
				path, i + 1);
			return -1;
		}
		c->msgs[c->n].role = r;
		c->msgs[c->n].text = json_string_value(text);
		c->msgs[c->n].len = json_string_length(text);
		if (strlen(c->msgs[c->n].text) != c->msgs[c->n].len) {
			fprintf(stderr, "llmctl template: %s: message %zu has a NUL in its content\n",
				path, i + 1);
			return -1;
		}
		c->n++;
	}
	return 0;
}

/* Here, with @model's template. */
static int render_here(const char *model, const struct conv *c)
{
	struct llm_mapped_file f = { 0 };
	struct llm_chat_tmpl t;
	struct llm_vocab v;
	struct llm_arena a;
	struct llm_gguf g;
	void *tables = NULL;
	char err[512], *out = NULL;
	size_t tables_len;
	u32 len = 0;
	int ret = EXIT_FAIL, r;
	unsigned int flags = 0;

	if (c->n && c->msgs[c->n - 1].role == LLM_CHAT_USER)
		flags |= LLM_CHAT_R_GEN;
	if (llm_map_file(&f, model, err, sizeof(err))) {
		fprintf(stderr, "llmctl template: %s\n", err);
		return EXIT_FAIL;
	}
	tables_len = (size_t)f.len + (16u << 20);
	tables = malloc(tables_len);
	if (!tables) {
		fprintf(stderr, "llmctl template: out of memory\n");
		goto out;
	}
	llm_arena_init(&a, tables, tables_len);
	if (llm_gguf_parse(&g, f.data, f.len, &a, err, sizeof(err)) ||
	    llm_vocab_load(&v, &g, &a, err, sizeof(err))) {
		fprintf(stderr, "llmctl template: %s: %s\n", model, err);
		goto out;
	}
	if (llm_chat_init(&t, &g, &v)) {
		fprintf(stderr, "llmctl template: %s: %s\n", model,
			llm_chat_why_not(t.family));
		goto out;
	}
	r = llm_chat_render(&t, c->msgs, c->n, flags, NULL, 0, &len, err,
			    sizeof(err));
	if (r == -ENOSPC) {
		out = malloc(len ? len : 1);
		if (!out) {
			fprintf(stderr, "llmctl template: out of memory\n");
			goto out;
		}
		r = llm_chat_render(&t, c->msgs, c->n, flags, out, len, &len,
				    err, sizeof(err));
	}
	if (r) {
		fprintf(stderr, "llmctl template: %s\n", err);
		goto out;
	}
	fwrite(out, 1, len, stdout);
	ret = EXIT_OK;
out:
	free(out);
	free(tables);
	llm_unmap_file(&f);
	return ret;
}

/* In the kernel, with the loaded model's template. */
static int render_kernel(const struct conv *c)
{
	struct llm_chat_msg *um = calloc(c->n + 1, sizeof(*um));
	struct llm_chat ch;
	char *out = NULL;
	int fd, ret = EXIT_FAIL;
	u32 i;

	if (!um) {
		fprintf(stderr, "llmctl template: out of memory\n");
		return EXIT_FAIL;
	}
	for (i = 0; i < c->n; i++) {
		um[i].role = c->msgs[i].role;
		um[i].len = c->msgs[i].len;
		um[i].content = (unsigned long)c->msgs[i].text;
	}
	fd = llmctl_open_dev(O_RDONLY);
	if (fd < 0) {
		free(um);
		return -fd;
	}
	memset(&ch, 0, sizeof(ch));
	ch.size = sizeof(ch);
	ch.flags = LLM_CHAT_RENDER;
	ch.msgs = (unsigned long)um;
	ch.n_msgs = c->n;
	for (;;) {
		if (ioctl(fd, LLM_IOC_CHAT, &ch) == 0)
			break;
		if (errno == ENOSPC && ch.text_len > ch.text_cap) {
			free(out);
			out = malloc(ch.text_len);
			if (!out) {
				fprintf(stderr, "llmctl template: out of memory\n");
				goto out;
			}
			ch.text = (unsigned long)out;
			ch.text_cap = ch.text_len;
			continue;
		}
		if (errno == EOPNOTSUPP)
			fprintf(stderr, "llmctl template: %s\n",
				llm_chat_why_not(ch.template));
		else
			llmctl_explain("template", errno);
		ret = errno == ENODATA ? EXIT_NOMODEL : EXIT_FAIL;
		goto out;
	}
	fwrite(out, 1, ch.text_len, stdout);
	ret = EXIT_OK;
out:
	free(out);
	free(um);
	close(fd);
	return ret;
}

int cmd_template(int argc, char **argv)
{
	const char *model = NULL, *path = "-";
	struct conv c;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (llmctl_is_help(argv[i])) {
			help_template(stdout);
			return EXIT_OK;
		} else if ((!strcmp(argv[i], "-m") ||
			    !strcmp(argv[i], "--model")) && i + 1 < argc) {
			model = argv[++i];
		} else if (argv[i][0] != '-' || !strcmp(argv[i], "-")) {
			if (strcmp(path, "-")) {
				help_template(stderr);
				return EXIT_USAGE;
			}
			path = argv[i];
		} else {
			help_template(stderr);
			return EXIT_USAGE;
		}
	}
	if (read_conv(path, &c))
		ret = EXIT_FAIL;
	else
		ret = model ? render_here(model, &c) : render_kernel(&c);
	free(c.msgs);
	json_decref(c.root);
	return ret;
}
