// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl generate: complete a prompt, either in this process with the
 * shared core (-m MODEL.gguf) or in the kernel through /dev/llm.
 */
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llmctl.h"
#include "runtime.h"

void help_generate(FILE *out)
{
	fprintf(out,
		"usage: llmctl generate [-m MODEL.gguf] [options] [PROMPT]\n"
		"\n"
		"Print PROMPT followed by the model's completion of it on stdout,\n"
		"and a statistics line on stderr.  With -m the model runs in this\n"
		"process (the same code as the kernel module); without it the\n"
		"kernel's loaded model answers through /dev/llm.  An empty or\n"
		"absent PROMPT starts from the beginning of a text.\n"
		"\n"
		"With -m the work of each step is split over -j threads, by\n"
		"default one per physical core this process may run on (CPUs that\n"
		"are hyper-threads of one core count once), as llama.cpp does.\n"
		"The kernel computes with the number of threads its module\n"
		"parameter threads says (one per online CPU unless insmod set it;\n"
		"see /sys/module/llm/parameters/threads or llmctl info).  The\n"
		"text does not depend on the number of threads.\n"
		"\n"
		"Options:\n"
		"  -m, --model FILE     run FILE here instead of asking the kernel\n"
		"  -n, --tokens N       tokens to generate (default 256)\n"
		"  -t, --temp T         temperature; 0 is greedy (default 0)\n"
		"  -k, --top-k K        sample only from the K most likely (default 0: off)\n"
		"  -p, --top-p P        nucleus sampling mass, 0..1 (default 0.9; 1: off)\n"
		"  -s, --seed S         sampler seed (default 0: a fresh random one)\n"
		"  -S, --stop STR       stop when STR appears (up to 4 times)\n"
		"  -c, --ctx N          context positions with -m (default: the model's, at most 4096)\n"
		"  -j, --threads N      threads computing with -m, 1..%u (default: one per\n"
		"                       physical core)\n"
		"      --ids            print generated token ids instead of text\n"
		"      --logprobs K     with -m: for each generated token a line of\n"
		"                       its id, a tab, then the K (1..20) most likely\n"
		"                       tokens of that step as id:log-probability\n"
		"                       (natural log, from the raw logits: what\n"
		"                       llama-server's n_probs reports)\n"
		"      --mmap           use the kernel's mmap ring, not read()\n"
		"      --ref            use the scalar reference kernels (-m only)\n"
		"      --kv-type TYPE   the KV cache's elements with -m: f32 (default) or\n"
		"                       f16 (half the memory; the kernel's is its module\n"
		"                       parameter kv_type)\n"
		"  -q, --quiet          no statistics line\n"
		"  -h, --help           this text\n"
		"\n"
		"Ctrl-C stops generation cleanly (exit status 130).\n",
		LLM_THREADS_MAX);
}


static void on_sigint(int sig)
{
	(void)sig;
	llmctl_interrupted = 1;
}

static bool gen_cancelled(void *arg)
{
	(void)arg;
	return llmctl_interrupted;
}

static int gen_text(void *arg, const char *text, u32 len)
{
	struct llmctl_gen *o = arg;

	if (!o->ids) {
		fwrite(text, 1, len, stdout);
		fflush(stdout);
	}
	return 0;
}

static void gen_token(void *arg, u32 tok)
{
	struct llmctl_gen *o = arg;
	unsigned int i;

	if (!o->ids)
		return;
	printf("%u", tok);
	for (i = 0; i < o->logprobs; i++)
		printf("%c%u:%.6f", i ? ' ' : '\t', o->lp_id[i], o->lp[i]);
	putchar('\n');
}

/*
 * A step as usual, then (--logprobs) the K most likely tokens of its
 * logits and their log-probabilities, log-softmax in double.
 */
static int lp_forward(void *arg, struct llm_ctx *c, const u32 *tokens, u32 n,
		      bool logits)
{
	struct llmctl_gen *o = arg;
	u32 nv = c->m->cfg.n_vocab, i, k, j;
	double mx = -1e300, sum = 0;
	int ret = llm_exec_forward(c, tokens, n, logits, gen_cancelled, o);

	if (ret || !logits)
		return ret;
	for (i = 0; i < nv; i++)
		mx = c->logits[i] > mx ? c->logits[i] : mx;
	for (i = 0; i < nv; i++)
		sum += exp(c->logits[i] - mx);
	for (k = 0; k < o->logprobs; k++)
		o->lp[k] = -1e300;
	for (i = 0; i < nv; i++) {
		double lp = c->logits[i] - mx - log(sum);

		for (k = 0; k < o->logprobs && lp <= o->lp[k]; k++)
			;
		if (k == o->logprobs)
			continue;
		for (j = o->logprobs - 1; j > k; j--) {
			o->lp[j] = o->lp[j - 1];
			o->lp_id[j] = o->lp_id[j - 1];
		}
		o->lp[k] = lp;
		o->lp_id[k] = i;
	}
	return 0;
}

/* "0.9" -> 900: a decimal fraction to thousandths, no sign. */
int llmctl_parse_milli(const char *s, unsigned int max, unsigned int *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0 || v * 1000 > max)
		return -1;
	*out = (u32)(v * 1000 + 0.5);
	return 0;
}

int llmctl_parse_u32(const char *s, unsigned int *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > 0xffffffffull || s[0] == '-')
		return -1;
	*out = (u32)v;
	return 0;
}

/*
 * Options of generate (and, with @chat, of chat: no model file, token ids,
 * ring or prompt argument there).  Returns 0, -1 after --help, or an exit
 * code for a bad command line.
 */
int llmctl_parse_gen(int argc, char **argv, struct llmctl_gen *o, bool chat)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "tokens", required_argument, NULL, 'n' },
		{ "temp", required_argument, NULL, 't' },
		{ "top-k", required_argument, NULL, 'k' },
		{ "top-p", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "stop", required_argument, NULL, 'S' },
		{ "ctx", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 'j' },
		{ "ids", no_argument, NULL, 'I' },
		{ "logprobs", required_argument, NULL, 'L' },
		{ "mmap", no_argument, NULL, 'G' },
		{ "ref", no_argument, NULL, 'R' },
		{ "kv-type", required_argument, NULL, 'V' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "system", required_argument, NULL, 'Y' },
		{ "raw", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long seed;
	char *end;
	int c;

	o->req.max_tokens = 256;
	o->req.sampling.top_p_milli = 900;
	o->req.max_prompt_tokens = 0xffffffffu;
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:n:t:k:p:s:S:c:j:qh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'm':
			o->model = optarg;
			break;
		case 'n':
			if (llmctl_parse_u32(optarg, &o->req.max_tokens))
				goto bad;
			break;
		case 't':
			if (llmctl_parse_milli(optarg, 100000,
					       &o->req.sampling.temp_milli))
				goto bad;
			break;
		case 'k':
			if (llmctl_parse_u32(optarg, &o->req.sampling.top_k))
				goto bad;
			break;
		case 'p':
			if (llmctl_parse_milli(optarg, 1000,
					       &o->req.sampling.top_p_milli))
				goto bad;
			break;
		case 's':
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end)
				goto bad;
			o->req.seed = seed;
			break;
		case 'S':
			if (o->n_stop >= LLM_STOP_MAX ||
			    !optarg[0] || strlen(optarg) >= LLM_STOP_LEN) {
				fprintf(stderr, "llmctl generate: at most %d stop strings of 1..%d bytes\n",
					LLM_STOP_MAX, LLM_STOP_LEN - 1);
				return EXIT_USAGE;
			}
			strcpy(o->req.stop[o->n_stop++], optarg);
			break;
		case 'c':
			if (llmctl_parse_u32(optarg, &o->n_ctx) || !o->n_ctx)
				goto bad;
			break;
		case 'j':
			if (llmctl_parse_u32(optarg, &o->threads) ||
			    !o->threads || o->threads > LLM_THREADS_MAX)
				goto bad;
			break;
		case 'I':
			o->ids = true;
			break;
		case 'L':
			if (llmctl_parse_u32(optarg, &o->logprobs) ||
			    !o->logprobs || o->logprobs > 20)
				goto bad;
			o->ids = true;
			break;
		case 'G':
			o->ring = true;
			break;
		case 'R':
			o->ref = true;
			break;
		case 'V':
			if (llm_kv_type_parse(optarg, &o->kv_type))
				goto bad_kv;
			o->kv_set = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'Y':
			o->system = optarg;
			break;
		case 'W':
			o->raw = true;
			break;
		case 'h':
			(chat ? help_chat : help_generate)(stdout);
			return -1;
		default:
			(chat ? help_chat : help_generate)(stderr);
			return EXIT_USAGE;
		}
		if (chat && strchr("mIGRcjVL", c)) {
			fprintf(stderr, "llmctl chat: -%c is an option of generate only\n",
				c);
			return EXIT_USAGE;
		}
		if (!chat && strchr("YW", c)) {
			fprintf(stderr, "llmctl generate: --system and --raw are options of chat\n");
			return EXIT_USAGE;
		}
	}
	if (chat) {
		if (o->raw && o->system) {
			fprintf(stderr, "llmctl chat: --system needs the chat template, which --raw leaves out\n");
			return EXIT_USAGE;
		}
		if (optind < argc) {
			fprintf(stderr, "llmctl chat: prompts are typed, not given as arguments\n");
			return EXIT_USAGE;
		}
		return 0;
	}
	if (optind + 1 < argc) {
		fprintf(stderr, "llmctl generate: give the prompt as one argument (quote it)\n");
		return EXIT_USAGE;
	}
	o->prompt = optind < argc ? argv[optind] : "";
	if (o->threads && !o->model) {
		fprintf(stderr, "llmctl generate: -j sets the threads of -m; the kernel's are its module parameter threads\n");
		return EXIT_USAGE;
	}
	if (o->logprobs && !o->model) {
		fprintf(stderr, "llmctl generate: --logprobs needs -m\n");
		return EXIT_USAGE;
	}
	if (o->kv_set && !o->model) {
		fprintf(stderr, "llmctl generate: --kv-type sets the KV cache of -m; the kernel's is its module parameter kv_type\n");
		return EXIT_USAGE;
	}
	return 0;
bad_kv:
	fprintf(stderr, "llmctl generate: bad KV type '%s' (f32 or f16)\n",
		optarg);
	return EXIT_USAGE;
bad:
	fprintf(stderr, "llmctl generate: bad value '%s' for -%c\n", optarg,
		c);
	return EXIT_USAGE;
}

static const char *const stop_names[] = {
	"none", "end of text", "token limit", "stop string",
	"context full", "interrupted", "time limit", "buffer full",
	"failed (the network ring)",
};

void llmctl_print_stats(unsigned int n_prompt, unsigned int n_gen,
			unsigned long long prefill_ns,
			unsigned long long decode_ns, unsigned int reason)
{
	double pre = prefill_ns ? n_prompt / (prefill_ns / 1e9) : 0;
	double dec = decode_ns ? n_gen / (decode_ns / 1e9) : 0;

	fprintf(stderr, "\nprompt tokens %u, generated tokens %u, prefill %.1f tok/s, decode %.1f tok/s (%s)\n",
		n_prompt, n_gen, pre, dec,
		reason < sizeof(stop_names) / sizeof(stop_names[0]) ?
		stop_names[reason] : "?");
}

static int generate_here(struct llmctl_gen *o)
{
	struct llm_runtime rt;
	char err[256];
	u32 plen = strlen(o->prompt);
	u32 threads = o->threads ? o->threads : llm_runtime_default_threads();
	int ret;

	ret = llm_pool_init(threads);
	if (ret) {
		fprintf(stderr, "llmctl generate: cannot start %u threads: %s\n",
			threads, strerror(-ret));
		return EXIT_FAIL;
	}
	ret = llm_runtime_open(&rt, o->model, o->n_ctx, plen,
			       (o->ref ? LLM_RT_REF : 0) |
			       (o->kv_type == LLM_T_F16 ? LLM_RT_KV_F16 : 0), err,
			       sizeof(err));
	if (ret) {
		fprintf(stderr, "llmctl generate: %s: %s\n", o->model, err);
		llm_pool_exit();
		return EXIT_FAIL;
	}
	o->req.prompt = o->prompt;
	o->req.prompt_len = plen;
	o->req.on_text = gen_text;
	o->req.on_token = gen_token;
	o->req.cancelled = gen_cancelled;
	o->req.arg = o;
	if (o->logprobs)
		o->req.forward = lp_forward;
	if (!o->ids) {
		fputs(o->prompt, stdout);
		fflush(stdout);
	}
	ret = llm_generate(&rt.ctx, &o->req);
	if (!o->ids)
		putchar('\n');
	fflush(stdout);
	llm_runtime_close(&rt);
	llm_pool_exit();
	if (ret) {
		llmctl_explain("generate", -ret);
		return EXIT_FAIL;
	}
	if (!o->quiet)
		llmctl_print_stats(o->req.n_prompt, o->req.n_gen,
				   o->req.prefill_ns, o->req.decode_ns,
				   o->req.stop_reason);
	return o->req.stop_reason == LLM_STOP_CANCELLED ? EXIT_INTR : EXIT_OK;
}

int cmd_generate(int argc, char **argv)
{
	struct llmctl_gen o;
	struct sigaction sa;
	int ret;

	memset(&o, 0, sizeof(o));
	ret = llmctl_parse_gen(argc, argv, &o, false);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	if (o.ring && o.model) {
		fprintf(stderr, "llmctl generate: --mmap talks to the kernel; it does not go with -m\n");
		return EXIT_USAGE;
	}
	if (o.model)
		return generate_here(&o);
	return llmctl_generate_kernel(&o.req, o.prompt, o.ids, o.quiet,
				      o.ring);
}
