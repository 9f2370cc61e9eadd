/* SPDX-License-Identifier: GPL-2.0 */
/*
 * llmctl: command-line tool for the llm kernel module (and offline model
 * tools built on the same core as the module).
 */
#ifndef LLMCTL_H
#define LLMCTL_H

#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <sys/types.h>

/* Exit codes (documented in docs/llmctl.md). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* the operation failed */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_NODEV = 3,		/* /dev/llm missing: module not loaded */
	EXIT_NOMODEL = 4,	/* no model loaded in the kernel */
	EXIT_PERM = 5,		/* not allowed */
	EXIT_INTR = 130,	/* stopped by Ctrl-C */
};

struct llmctl_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
	void (*help)(FILE *out);
};

extern const char *llmctl_dev_path;

/* Open the device; on failure print a sentence and return -exit code. */
int llmctl_open_dev(int flags);
/* Turn an errno from the module into a sentence for @what. */
void llmctl_explain(const char *what, int err);
/* True when argv[i] asks for help. */
bool llmctl_is_help(const char *arg);

/* Numbers on the command line: "0.9" -> 900; plain unsigned integers. */
int llmctl_parse_milli(const char *s, unsigned int max, unsigned int *out);
int llmctl_parse_u32(const char *s, unsigned int *out);
/* A decimal number from @min to @max, nothing else; 0 or -1. */
int llmctl_parse_dec(const char *s, unsigned int min, unsigned int max,
		     unsigned int *out);
/* "FIRST:LAST", two decimal numbers (--layers); 0 or -1. */
int llmctl_parse_layers(const char *arg, unsigned int *first,
			unsigned int *last);
void llmctl_print_stats(unsigned int n_prompt, unsigned int n_gen,
			unsigned long long prefill_ns,
			unsigned long long decode_ns, unsigned int reason);

#include "../llm/core/generate.h"

/* What generate and chat were asked to do. */
struct llmctl_gen {
	const char *model;
	const char *prompt;
	struct llm_request req;
	unsigned int n_ctx;
	unsigned int threads;	/* -j; 0: not given */
	bool ids;
	bool ref;
	bool kv_set;		/* --kv-type given */
	u32 kv_type;		/* LLM_T_F32 (0, the default) or LLM_T_F16 */
	bool quiet;
	bool ring;
	const char *system;	/* chat --system */
	bool raw;		/* chat --raw */
	int n_stop;
	unsigned int logprobs;	/* --logprobs K: 0 off */
	u32 lp_id[20];		/* the last step's K most likely tokens */
	double lp[20];		/* ... and their log-probabilities */
};

int llmctl_parse_gen(int argc, char **argv, struct llmctl_gen *o, bool chat);
/* Put the sampling settings of @r on the session open at @fd. */
int llmctl_set_params(int fd, const struct llm_request *r);
/* llmctl_explain() for a write() of a prompt (EINVAL: not UTF-8). */
void llmctl_explain_prompt(const char *what, int err);

/* Set by the SIGINT handlers of generate and chat. */
extern volatile sig_atomic_t llmctl_interrupted;

int llmctl_generate_kernel(const struct llm_request *r, const char *prompt,
			   bool ids, bool quiet, bool ring);

int cmd_info(int argc, char **argv);
void help_info(FILE *out);
int cmd_generate(int argc, char **argv);
int cmd_load(int argc, char **argv);
void help_load(FILE *out);
int cmd_unload(int argc, char **argv);
void help_unload(FILE *out);
void help_generate(FILE *out);
int cmd_convert(int argc, char **argv);
void help_convert(FILE *out);
int cmd_quantize(int argc, char **argv);
void help_quantize(FILE *out);
int cmd_chat(int argc, char **argv);
void help_chat(FILE *out);
int cmd_stats(int argc, char **argv);
void help_stats(FILE *out);
int cmd_ring(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
void help_tokenize(FILE *out);
int cmd_template(int argc, char **argv);
void help_template(FILE *out);
void help_ring(FILE *out);
int cmd_serve(int argc, char **argv);
void help_serve(FILE *out);

#endif /* LLMCTL_H */
