// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl generate without -m: the kernel's model answers through /dev/llm.
 * Text streams through write() + read(); --ids uses LLM_IOC_GENERATE,
 * which also returns the token ids.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "llmctl.h"
#include "../llm/core/generate.h"
#include "../uapi/llm.h"

int llmctl_set_params(int fd, const struct llm_request *r)
{
	struct llm_params p;
	int i;

	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	p.temperature_milli = r->sampling.temp_milli;
	p.top_k = r->sampling.top_k;
	p.top_p_milli = r->sampling.top_p_milli;
	p.max_tokens = r->max_tokens;
	p.seed = r->seed;
	for (i = 0; i < LLM_STOP_MAX; i++)
		memcpy(p.stop[i], r->stop[i], LLM_STOP_LEN);
	if (ioctl(fd, LLM_IOC_SET_PARAMS, &p) < 0) {
		struct llm_info info;
		int err = errno;

		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		if (err == EINVAL && ioctl(fd, LLM_IOC_GET_INFO, &info) == 0 &&
		    p.max_tokens > info.limits.max_new_tokens)
			fprintf(stderr, "llmctl: %u tokens is more than the module's limit of %u (module parameter max_new_tokens)\n",
				p.max_tokens, info.limits.max_new_tokens);
		else
			llmctl_explain("setting parameters", err);
		return -1;
	}
	return 0;
}

volatile sig_atomic_t llmctl_interrupted;

/* A prompt write()'s error as a sentence: EINVAL there is bad UTF-8. */
void llmctl_explain_prompt(const char *what, int err)
{
	if (err == EINVAL)
		fprintf(stderr, "llmctl: %s: the prompt is not valid UTF-8\n",
			what);
	else
		llmctl_explain(what, err);
}

static int by_ioctl(int fd, const char *prompt, bool quiet)
{
	struct llm_generate g;
	u32 cap = 1u << 20, i;
	__u32 *toks = calloc(cap, sizeof(*toks));
	char *text = malloc(cap);
	int ret = EXIT_OK;

	if (!toks || !text) {
		fprintf(stderr, "llmctl generate: out of memory\n");
		free(toks);
		free(text);
		return EXIT_FAIL;
	}
	memset(&g, 0, sizeof(g));
	g.size = sizeof(g);
	g.prompt = (__u64)(uintptr_t)prompt;
	g.prompt_len = strlen(prompt);
	g.text = (__u64)(uintptr_t)text;
	g.text_cap = cap;
	g.tokens = (__u64)(uintptr_t)toks;
	g.tokens_cap = cap;
	/*
	 * Ctrl-C interrupts the wait (EINTR): cancel, then the same call
	 * again collects the request, cut short, with its statistics.
	 */
	while ((ret = ioctl(fd, LLM_IOC_GENERATE, &g)) < 0 && errno == EINTR)
		if (llmctl_interrupted)
			ioctl(fd, LLM_IOC_CANCEL);
	if (ret < 0) {
		llmctl_explain("generate", errno);
		ret = errno == ENODATA ? EXIT_NOMODEL : EXIT_FAIL;
	} else {
		ret = EXIT_OK;
		for (i = 0; i < g.n_tokens && i < cap; i++)
			printf("%u\n", toks[i]);
		if (!quiet)
			llmctl_print_stats(g.n_prompt_tokens, g.n_tokens,
					   g.prefill_ns, g.decode_ns,
					   g.stop_reason);
		if (g.stop_reason == LLM_STOP_CANCELLED)
			ret = EXIT_INTR;
	}
	free(toks);
	free(text);
	return ret;
}

static int by_stream(int fd, const char *prompt, bool quiet)
{
	size_t plen = strlen(prompt);
	char *msg = malloc(plen + 2), buf[4096];
	struct llm_stats st;
	ssize_t n;

	if (!msg)
		return EXIT_FAIL;
	/* the device drops one trailing newline, so the prompt stays exact */
	memcpy(msg, prompt, plen);
	msg[plen] = '\n';
	n = write(fd, msg, plen + 1);
	free(msg);
	if (n < 0) {
		int err = errno;

		llmctl_explain_prompt("submitting the prompt", err);
		return err == ENODATA ? EXIT_NOMODEL : EXIT_FAIL;
	}
	fputs(prompt, stdout);
	fflush(stdout);
	/* Ctrl-C between two reads: the caller's close() stops it */
	while (!llmctl_interrupted && (n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, n, stdout);
		fflush(stdout);
	}
	putchar('\n');
	fflush(stdout);
	if (llmctl_interrupted)
		return EXIT_INTR;
	if (n < 0) {
		llmctl_explain("generate", errno);
		return EXIT_FAIL;
	}
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	if (!quiet && ioctl(fd, LLM_IOC_GET_STATS, &st) == 0)
		llmctl_print_stats(st.session_prompt_tokens,
				   st.session_generated_tokens,
				   st.session_prefill_ns, st.session_decode_ns,
				   st.session_stop_reason);
	return EXIT_OK;
}

/* The mmap ring: one request in, tokens and text out, no copy per token. */
static int by_ring(int fd, const char *prompt, bool ids, bool quiet)
{
	struct llm_ring_setup rs;
	struct llm_ring_enter re;
	struct llm_sqe *sqe;
	const struct llm_cqe *cqes;
	__u32 *sq_tail, *cq_head, *cq_tail, head, tail;
	size_t plen = strlen(prompt);
	bool end = false;
	char *mem;
	int ret = EXIT_OK;

	memset(&rs, 0, sizeof(rs));
	rs.size = sizeof(rs);
	rs.prompts_size = plen ? plen : 1;
	if (ioctl(fd, LLM_IOC_RING_SETUP, &rs) < 0) {
		llmctl_explain("setting up the ring", errno);
		return EXIT_FAIL;
	}
	mem = mmap(NULL, rs.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (mem == MAP_FAILED) {
		llmctl_explain("mapping the ring", errno);
		return EXIT_FAIL;
	}
	sq_tail = (__u32 *)(mem + rs.off.sq_tail);
	cq_head = (__u32 *)(mem + rs.off.cq_head);
	cq_tail = (__u32 *)(mem + rs.off.cq_tail);
	cqes = (const struct llm_cqe *)(mem + rs.off.cqes);

	memcpy(mem + rs.off.prompts, prompt, plen);
	tail = __atomic_load_n(sq_tail, __ATOMIC_RELAXED);
	sqe = (struct llm_sqe *)(mem + rs.off.sqes) + (tail & (rs.sq_entries - 1));
	memset(sqe, 0, sizeof(*sqe));
	sqe->user_data = 1;
	sqe->prompt_off = 0;
	sqe->prompt_len = plen;
	__atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);

	if (!ids) {
		fputs(prompt, stdout);
		fflush(stdout);
	}
	memset(&re, 0, sizeof(re));
	re.size = sizeof(re);
	re.min_complete = 1;
	head = __atomic_load_n(cq_head, __ATOMIC_RELAXED);
	while (!end) {
		/* Ctrl-C between two waits: closing the file stops it */
		if (llmctl_interrupted) {
			ret = EXIT_INTR;
			break;
		}
		if (ioctl(fd, LLM_IOC_RING_ENTER, &re) < 0) {
			if (errno == EINTR) {
				ret = EXIT_INTR;
				break;
			}
			llmctl_explain("waiting on the ring", errno);
			ret = EXIT_FAIL;
			break;
		}
		tail = __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail && !end; head++) {
			const struct llm_cqe *e = &cqes[head & (rs.cq_entries - 1)];

			if (e->kind == LLM_CQE_TEXT && !ids) {
				fwrite(e->text, 1, e->len, stdout);
				fflush(stdout);
			} else if (e->kind == LLM_CQE_TOKEN && ids) {
				printf("%u\n", e->token);
			} else if (e->kind == LLM_CQE_END) {
				end = true;
				if (e->res) {
					llmctl_explain("generate", -e->res);
					ret = e->res == -ENODATA ? EXIT_NOMODEL :
					      EXIT_FAIL;
				} else if (!quiet) {
					fprintf(stderr, "\nprompt tokens %u, generated tokens %u (%s)\n",
						e->n_prompt, e->len,
						e->stop_reason == LLM_STOP_CANCELLED ?
						"interrupted" : "ring");
				}
			}
		}
		__atomic_store_n(cq_head, head, __ATOMIC_RELEASE);
	}
	if (!ids)
		putchar('\n');
	fflush(stdout);
	munmap(mem, rs.mmap_size);
	return ret;
}

int llmctl_generate_kernel(const struct llm_request *r, const char *prompt,
			   bool ids, bool quiet, bool ring)
{
	int fd = llmctl_open_dev(O_RDWR), ret;

	if (fd < 0)
		return -fd;
	if (llmctl_set_params(fd, r)) {
		close(fd);
		return EXIT_FAIL;
	}
	if (ring)
		ret = by_ring(fd, prompt, ids, quiet);
	else if (ids)
		ret = by_ioctl(fd, prompt, quiet);
	else
		ret = by_stream(fd, prompt, quiet);
	close(fd);
	return ret;
}
