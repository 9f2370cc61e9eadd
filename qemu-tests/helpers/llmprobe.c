// SPDX-License-Identifier: GPL-2.0
/*
 * llmprobe: runs a list of steps on one open file of /dev/llm, for the
 * guest tests (qemu-tests/run.sh builds it statically into /bin).  Each
 * step does one thing and prints one line: its name, then "ok" (maybe
 * with values) or the name of the errno it failed with, so a shell test
 * can compare the lines.
 *
 *   llmprobe [-d DEV] [-r] STEP...
 *
 * opens DEV (default /dev/llm) read-write (-r: read-only) and runs each
 * STEP on that open file in order.  If that open fails, it prints
 * "open ERRNO" and exits 1.
 *
 * Session and I/O:
 *   w TEXT            write() TEXT in one call (\n \t \\ \xHH escapes)
 *   wlong N           write() N bytes of ASCII story text
 *   wbad              write() from an unmapped address
 *   r FILE            read() until end-of-file; the text goes to FILE
 *                     ("-": nowhere); "r ok BYTES" or "r ERR BYTES"
 *   r1                one read() of up to 64 KiB: "r1 ok BYTES"
 *   rbad | rro        one read() into an unmapped / a read-only page
 *   poll MS           poll() for MS ms: "poll in out" / "poll none"
 *   fl block|nonblock clear or set O_NONBLOCK
 *   sleep MS          sleep
 *   waitfor PATH      wait (up to 60 s) until PATH exists
 *   params T K P MAX SEED   LLM_IOC_SET_PARAMS (T and P in thousandths)
 *   stopstr S         LLM_IOC_SET_PARAMS with stop string S added
 *   stats             LLM_IOC_GET_STATS of this session
 *   info              LLM_IOC_GET_INFO
 *   reset             LLM_IOC_RESET
 *   gen TEXT FILE [CAP]      LLM_IOC_GENERATE, text to FILE
 *   genr TEXT FILE [CAP]     ... with LLM_GEN_RESET
 *   sigread MS FILE   read() to end-of-file with SIGALRM after MS ms (and
 *                     every 2 ms after), no SA_RESTART: "eintr" is how
 *                     many read()s it interrupted (each one is retried)
 *   siggen MS TEXT FILE  LLM_IOC_GENERATE the same way, text to FILE
 *   storm US [restart]  from now on SIGALRM and SIGCHLD every US
 *                     microseconds (handled, no SA_RESTART unless
 *                     "restart") until "calm"; reads, GENERATE and
 *                     RING_ENTER retry on EINTR, as programs do
 *   calm              stop the storm: "calm ok signals=N eintr=N"
 *   sigcancel MS      in MS ms a SIGALRM handler calls LLM_IOC_CANCEL
 *   cancel            LLM_IOC_CANCEL
 *   late              ms since the last SIGALRM above fired: "late ok MS"
 *   mark | since      note the time | "since ok MS": ms since the mark
 *   close | open      close the file / open the device again
 *
 * Raw ioctls:
 *   ioc NAME [FIELD=VALUE...]  one ioctl with a struct built from
 *       defaults and FIELD=VALUE (names as in uapi/llm.h, shortened:
 *       see the field tables).  NAME: info load unload params getparams
 *       generate reset stats ringsetup ringenter.  Special fields:
 *       size=N (the buffer grows, zero-filled; the command's size bits
 *       say N too, as a program built with a struct of N bytes would,
 *       unless iocsize=N sets them apart), tail=B (the byte right
 *       after the struct), byte@OFF=B, arg=bad|ro|edge|null|huge (where
 *       the struct is; huge: at the start of 1 GiB of zero pages), pointers =bad|ro|null|buf, ints =@PATH (an open fd),
 *       ptext=TEXT (prompt and prompt_len).
 *   rawioc CMD        ioctl number CMD with a zeroed 4 KiB buffer
 *   fuzz NAME N SEED  N ioctls NAME with random field values: prints
 *                     how many ended with each result
 *
 * Model:
 *   loadfd PATH       LLM_LOAD_FD; failures print the kernel's sentence
 *   upload PATH       LLM_LOAD_BEGIN, DATA..., COMMIT
 *   unload            LLM_IOC_UNLOAD
 *
 * The mmap ring:
 *   ring SQ CQ PB     LLM_IOC_RING_SETUP
 *   map MODE          mmap: full (kept for the steps below), over, off,
 *                     private, exec, ro, half
 *   mpx               mprotect(PROT_EXEC) on the kept mapping
 *   sqe UD OFF LEN FLAGS TEXT  queue an entry (TEXT, unless "-", is
 *                     copied to OFF of the prompt area first)
 *   sqeresv UD        queue an entry with a non-zero resv word
 *   sqtail V | cqhead V   store a raw index
 *   enter MIN         LLM_IOC_RING_ENTER
 *   drain N PREFIX    consume until N END entries; the text of request
 *                     UD goes to PREFIX.UD; "drain ok UD:RES:STOP:N ..."
 *   sigenter MS MIN   LLM_IOC_RING_ENTER with SIGALRM after MS ms
 *   flip T K P MAX SEED T K P MAX SEED   a thread sets the two parameter
 *                     sets in turn, as fast as it can, until "unflip"
 *   unflip            stop it: "unflip ok flips=N"
 *   ringmany N TEXT PREFIX   submit N entries (user_data 1..N, each
 *                     with LLM_SQE_RESET and the prompt TEXT) as the
 *                     submission ring has room, consume as they come;
 *                     the text of entry UD goes to PREFIX.UD
 *   enterwait         a thread waits in RING_ENTER for the whole
 *                     completion ring while this one calls GET_PARAMS
 *                     and SET_PARAMS 20 times: "enterwait ok" if every
 *                     call returned while the thread still waited
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <pthread.h>

#include "uapi/llm.h"

static const char *dev_path = "/dev/llm";
static int fd = -1;
static long page;
static char *bad_page;		/* PROT_NONE */
static char *ro_page;		/* PROT_READ, zeroed */

/* The ring of this file, once set up and mapped. */
static struct llm_ring_setup rs;
static char *ring_mem;
static __u32 cq_seen;

static volatile sig_atomic_t fired;
static struct timespec fired_at, marked_at;
/* The storm: signals handled, and the system calls they interrupted. */
static volatile sig_atomic_t storm_signals;
static unsigned long eintrs;
static timer_t storm_timer;
static int storming;

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static void out(const char *step, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One result line: "STEP ok ..." or "STEP ERRNO ...". */
static void out(const char *step, int err, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s", step, err ? ename(err) : "ok");
	if (fmt && *fmt) {
		putchar(' ');
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	putchar('\n');
	fflush(stdout);
}

static void die(const char *msg)
{
	fprintf(stderr, "llmprobe: %s\n", msg);
	exit(2);
}

static unsigned long long num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "llmprobe: '%s' is not a number\n", s);
		exit(2);
	}
	return v;
}

/* C escapes: \n \t \r \\ \0 \xHH.  Returns the length. */
static size_t unescape(const char *s, char *dst)
{
	size_t n = 0;

	while (*s) {
		if (*s != '\\' || !s[1]) {
			dst[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'n': dst[n++] = '\n'; s++; break;
		case 't': dst[n++] = '\t'; s++; break;
		case 'r': dst[n++] = '\r'; s++; break;
		case '0': dst[n++] = 0; s++; break;
		case 'x': {
			char hex[3] = { s[1], s[1] ? s[2] : 0, 0 };

			dst[n++] = (char)strtoul(hex, NULL, 16);
			s += 1 + strlen(hex);
			break;
		}
		default: dst[n++] = *s++; break;
		}
	}
	return n;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void on_alarm(int sig)
{
	(void)sig;
	if (!fired)
		clock_gettime(CLOCK_MONOTONIC, &fired_at);
	fired = 1;
}

/*
 * SIGALRM to @handler in @ms ms (no SA_RESTART), then every @every_us us
 * unless 0; fired_at is set by the handler at the first.
 */
static void alarm_after(void (*handler)(int), unsigned long ms,
			long every_us)
{
	struct sigaction sa;
	struct itimerval it = {
		.it_value = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 },
		.it_interval = { .tv_sec = 0, .tv_usec = every_us },
	};

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigaction(SIGALRM, &sa, NULL);
	fired = 0;
	setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * SIGALRM in @ms ms, then again every 2 ms until disarm(): a signal that
 * lands while we are between two read()s interrupts nothing, so the next
 * one must find us blocked.  Lateness is measured from the first.
 */
static void arm(unsigned long ms)
{
	alarm_after(on_alarm, ms, 2000);
}

static void disarm(void)
{
	struct itimerval it = { 0 };

	setitimer(ITIMER_REAL, &it, NULL);
}

static void on_storm(int sig)
{
	(void)sig;
	storm_signals++;
}

static void step_storm(unsigned long us, int restart)
{
	struct sigaction sa;
	struct sigevent ev;
	struct itimerval it = {
		.it_value = { .tv_usec = us },
		.it_interval = { .tv_usec = us },
	};
	struct itimerspec its = {
		.it_value = { .tv_nsec = us * 1000 + 500000 },
		.it_interval = { .tv_nsec = us * 1000 },
	};

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_storm;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGCHLD;
	if (timer_create(CLOCK_MONOTONIC, &ev, &storm_timer))
		die("timer_create failed");
	storm_signals = 0;
	eintrs = 0;
	storming = 1;
	setitimer(ITIMER_REAL, &it, NULL);
	timer_settime(storm_timer, 0, &its, NULL);
	out("storm", 0, NULL);
}

static void step_calm(void)
{
	disarm();
	if (storming)
		timer_delete(storm_timer);
	storming = 0;
	signal(SIGCHLD, SIG_DFL);
	out("calm", 0, "signals=%d eintr=%lu", (int)storm_signals, eintrs);
}

static void on_cancel_alarm(int sig)
{
	(void)sig;
	ioctl(fd, LLM_IOC_CANCEL);
	if (!fired)
		clock_gettime(CLOCK_MONOTONIC, &fired_at);
	fired = 1;
}

static void step_sigcancel(unsigned long ms)
{
	alarm_after(on_cancel_alarm, ms, 0);
	out("sigcancel", 0, NULL);
}

static int open_mode = O_RDWR;

static void open_dev(int flags)
{
	fd = open(dev_path, open_mode | O_CLOEXEC | flags);
	if (fd < 0)
		out("open", errno, NULL);
}

/* --- session and I/O -------------------------------------------------- */

static FILE *open_out(const char *path)
{
	FILE *f;

	if (!strcmp(path, "-"))
		return NULL;
	f = fopen(path, "w");
	if (!f)
		die("cannot write the output file");
	return f;
}

/* read() to end-of-file; returns 0 or the errno, *total the bytes. */
static int read_all(const char *path, size_t *total)
{
	static char buf[65536];
	FILE *f = open_out(path);
	ssize_t n;
	int err = 0;

	*total = 0;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR) {
			/* a handled signal: the read goes on, as programs do */
			eintrs++;
			continue;
		}
		if (n < 0) {
			err = errno;
			break;
		}
		if (!n)
			break;
		if (f)
			fwrite(buf, 1, n, f);
		*total += n;
	}
	if (f)
		fclose(f);
	return err;
}

static void step_w(const char *text)
{
	char *buf = malloc(strlen(text) + 1);
	size_t len = unescape(text, buf);
	ssize_t n = write(fd, buf, len);

	if (n < 0)
		out("w", errno, NULL);
	else
		out("w", 0, "%zd", n);
	free(buf);
}

static void step_wlong(size_t len)
{
	static const char story[] = "Once upon a time there was a little girl who liked to play. ";
	char *buf = malloc(len + 1);
	ssize_t n;
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = story[i % (sizeof(story) - 1)];
	n = write(fd, buf, len);
	if (n < 0)
		out("wlong", errno, NULL);
	else
		out("wlong", 0, "%zd", n);
	free(buf);
}

static void step_r1(const char *name, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	if (n < 0)
		out(name, errno, NULL);
	else
		out(name, 0, "%zd", n);
}

static void step_poll(int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
	int n = poll(&p, 1, ms);

	if (n < 0)
		out("poll", errno, NULL);
	else if (!n)
		out("poll", 0, "none");
	else
		out("poll", 0, "%s%s%s", p.revents & POLLIN ? "in" : "",
		    (p.revents & (POLLIN | POLLOUT)) == (POLLIN | POLLOUT) ?
		    " " : "", p.revents & POLLOUT ? "out" : "");
}

static struct llm_params cur_params = {
	.size = sizeof(struct llm_params),
	.top_p_milli = 900,
	.max_tokens = 256,
};

static void step_params(char **a)
{
	struct llm_params p = cur_params;

	p.temperature_milli = num(a[0]);
	p.top_k = num(a[1]);
	p.top_p_milli = num(a[2]);
	p.max_tokens = num(a[3]);
	p.seed = num(a[4]);
	if (ioctl(fd, LLM_IOC_SET_PARAMS, &p) < 0) {
		out("params", errno, NULL);
		return;
	}
	cur_params = p;
	out("params", 0, NULL);
}

static void step_stopstr(const char *s)
{
	struct llm_params p = cur_params;
	int i;

	for (i = 0; i < LLM_STOP_MAX && p.stop[i][0]; i++)
		;
	if (i == LLM_STOP_MAX)
		die("too many stop strings");
	strncpy(p.stop[i], s, LLM_STOP_LEN - 1);
	if (ioctl(fd, LLM_IOC_SET_PARAMS, &p) < 0) {
		out("stopstr", errno, NULL);
		return;
	}
	cur_params = p;
	out("stopstr", 0, NULL);
}

static void step_stats(void)
{
	struct llm_stats st = { .size = sizeof(st) };

	if (ioctl(fd, LLM_IOC_GET_STATS, &st) < 0) {
		out("stats", errno, NULL);
		return;
	}
	out("stats", 0, "req=%llu used=%u size=%u prompt=%u gen=%u stop=%u",
	    (unsigned long long)st.session_requests, st.session_ctx_used,
	    st.session_ctx_size, st.session_prompt_tokens,
	    st.session_generated_tokens, st.session_stop_reason);
}

static void step_info(void)
{
	struct llm_info in = { .size = sizeof(in) };

	if (ioctl(fd, LLM_IOC_GET_INFO, &in) < 0) {
		out("info", errno, NULL);
		return;
	}
	out("info", 0, "loaded=%u sessions=%u/%u used=%llu ctx=%u",
	    in.flags & LLM_INFO_MODEL_LOADED, in.sessions_active,
	    in.sessions_max, (unsigned long long)in.arena_used,
	    in.model.n_ctx);
}

static int do_gen(const char *text, const char *path, unsigned long cap,
		  __u32 flags, struct llm_generate *g)
{
	static __u32 toks[65536];
	char *prompt = malloc(strlen(text) + 1);
	char *buf = malloc(cap + 1);
	FILE *f;
	int ret;

	memset(g, 0, sizeof(*g));
	g->size = sizeof(*g);
	g->flags = flags;
	g->prompt_len = unescape(text, prompt);
	g->prompt = (uintptr_t)prompt;
	g->text = (uintptr_t)buf;
	g->text_cap = cap;
	g->tokens = (uintptr_t)toks;
	g->tokens_cap = sizeof(toks) / sizeof(toks[0]);
	/* interrupted: the same call again goes on with the same request */
	while ((ret = ioctl(fd, LLM_IOC_GENERATE, g) < 0 ? errno : 0) == EINTR)
		eintrs++;
	if (!ret && (f = open_out(path))) {
		fwrite(buf, 1, g->text_len, f);
		fclose(f);
	}
	free(prompt);
	free(buf);
	return ret;
}

static void step_gen(const char *name, char **a, int has_cap, __u32 flags)
{
	struct llm_generate g;
	int err = do_gen(a[0], a[1], has_cap ? num(a[2]) : 65536, flags, &g);

	if (err)
		out(name, err, NULL);
	else
		out(name, 0, "len=%u n=%u np=%u stop=%u", g.text_len,
		    g.n_tokens, g.n_prompt_tokens, g.stop_reason);
}

static void step_sigread(unsigned long ms, const char *path)
{
	size_t total;
	int err;

	eintrs = 0;
	arm(ms);
	err = read_all(path, &total);
	disarm();
	out("sigread", err, "bytes=%zu eintr=%lu%s", total, eintrs,
	    fired ? "" : " before-signal");
}

static void step_siggen(unsigned long ms, const char *text, const char *path)
{
	struct llm_generate g;
	int err;

	eintrs = 0;
	arm(ms);
	err = do_gen(text, path, 1 << 20, 0, &g);
	disarm();
	if (err)
		out("siggen", err, "eintr=%lu", eintrs);
	else
		out("siggen", 0, "stop=%u n=%u eintr=%lu%s", g.stop_reason,
		    g.n_tokens, eintrs, fired ? "" : " before-signal");
}

/* --- raw ioctls ---------------------------------------------------------- */

enum ftype { F_U32, F_U64, F_PTR, F_STR };

struct field {
	const char *name;
	size_t off;
	enum ftype type;
};

struct ioc {
	const char *name;
	unsigned long cmd;
	size_t size;		/* 0: no argument */
	const struct field *fields;
};

#define U32(s, f, n) { n, offsetof(struct s, f), F_U32 }
#define U64(s, f, n) { n, offsetof(struct s, f), F_U64 }
#define PTR(s, f, n) { n, offsetof(struct s, f), F_PTR }

static const struct field info_fields[] = {
	U32(llm_info, size, "size"), U32(llm_info, abi_version, "abi"),
	U32(llm_info, flags, "flags"), U32(llm_info, reserved0, "reserved"),
	{ NULL, 0, 0 },
};

static const struct field load_fields[] = {
	U32(llm_load, size, "size"), U32(llm_load, op, "op"),
	U32(llm_load, fd, "fd"), U32(llm_load, flags, "flags"),
	PTR(llm_load, data, "data"), U64(llm_load, len, "len"),
	{ NULL, 0, 0 },
};

static const struct field params_fields[] = {
	U32(llm_params, size, "size"), U32(llm_params, flags, "flags"),
	U32(llm_params, temperature_milli, "temp"),
	U32(llm_params, top_k, "topk"), U32(llm_params, top_p_milli, "topp"),
	U32(llm_params, max_tokens, "max"), U64(llm_params, seed, "seed"),
	{ "stop0", offsetof(struct llm_params, stop[0]), F_STR },
	{ "stop3", offsetof(struct llm_params, stop[3]), F_STR },
	{ NULL, 0, 0 },
};

static const struct field gen_fields[] = {
	U32(llm_generate, size, "size"), U32(llm_generate, flags, "flags"),
	PTR(llm_generate, prompt, "prompt"),
	U32(llm_generate, prompt_len, "prompt_len"),
	U32(llm_generate, text_cap, "text_cap"),
	PTR(llm_generate, text, "text"), PTR(llm_generate, tokens, "tokens"),
	U32(llm_generate, tokens_cap, "tokens_cap"),
	U32(llm_generate, reserved, "reserved"),
	{ NULL, 0, 0 },
};

static const struct field stats_fields[] = {
	U32(llm_stats, size, "size"), U32(llm_stats, flags, "flags"),
	U32(llm_stats, reserved, "reserved"),
	{ NULL, 0, 0 },
};

static const struct field rsetup_fields[] = {
	U32(llm_ring_setup, size, "size"), U32(llm_ring_setup, flags, "flags"),
	U32(llm_ring_setup, sq_entries, "sq"),
	U32(llm_ring_setup, cq_entries, "cq"),
	U32(llm_ring_setup, prompts_size, "pb"),
	U32(llm_ring_setup, reserved, "reserved"),
	{ NULL, 0, 0 },
};

static const struct field renter_fields[] = {
	U32(llm_ring_enter, size, "size"), U32(llm_ring_enter, flags, "flags"),
	U32(llm_ring_enter, min_complete, "min"),
	U32(llm_ring_enter, reserved, "reserved"),
	{ NULL, 0, 0 },
};

static const struct field no_fields[] = { { NULL, 0, 0 } };

static const struct ioc iocs[] = {
	{ "info", LLM_IOC_GET_INFO, sizeof(struct llm_info), info_fields },
	{ "load", LLM_IOC_LOAD, sizeof(struct llm_load), load_fields },
	{ "unload", LLM_IOC_UNLOAD, 0, no_fields },
	{ "params", LLM_IOC_SET_PARAMS, sizeof(struct llm_params),
	  params_fields },
	{ "getparams", LLM_IOC_GET_PARAMS, sizeof(struct llm_params),
	  params_fields },
	{ "generate", LLM_IOC_GENERATE, sizeof(struct llm_generate),
	  gen_fields },
	{ "reset", LLM_IOC_RESET, 0, no_fields },
	{ "stats", LLM_IOC_GET_STATS, sizeof(struct llm_stats), stats_fields },
	{ "ringsetup", LLM_IOC_RING_SETUP, sizeof(struct llm_ring_setup),
	  rsetup_fields },
	{ "ringenter", LLM_IOC_RING_ENTER, sizeof(struct llm_ring_enter),
	  renter_fields },
};

static const struct ioc *find_ioc(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(iocs) / sizeof(iocs[0]); i++)
		if (!strcmp(iocs[i].name, name))
			return &iocs[i];
	fprintf(stderr, "llmprobe: no ioctl '%s'\n", name);
	exit(2);
}

static char prompt_buf[4096] = "Once upon a time";
static char text_buf[65536];
static __u32 tok_buf[4096];

/* Sensible defaults, so that one field at a time can be made wrong. */
static void ioc_defaults(const struct ioc *io, void *s)
{
	memset(s, 0, io->size);
	*(__u32 *)s = io->size;
	if (io->cmd == LLM_IOC_SET_PARAMS) {
		struct llm_params *p = s;

		p->top_p_milli = 900;
		p->max_tokens = 8;
	} else if (io->cmd == LLM_IOC_GENERATE) {
		struct llm_generate *g = s;

		g->prompt = (uintptr_t)prompt_buf;
		g->prompt_len = strlen(prompt_buf);
		g->text = (uintptr_t)text_buf;
		g->text_cap = sizeof(text_buf);
		g->tokens = (uintptr_t)tok_buf;
		g->tokens_cap = sizeof(tok_buf) / sizeof(tok_buf[0]);
	}
}

static __u64 ptr_value(const char *v, const struct field *f)
{
	if (!strcmp(v, "bad"))
		return (uintptr_t)bad_page;
	if (!strcmp(v, "null"))
		return 0;
	if (!strcmp(v, "ro")) {
		/* a read-only copy of what the buffer would hold */
		char *p = mmap(NULL, page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (!strcmp(f->name, "prompt"))
			memcpy(p, prompt_buf, page);
		mprotect(p, page, PROT_READ);
		return (uintptr_t)p;
	}
	if (!strcmp(v, "buf"))
		return !strcmp(f->name, "prompt") ? (uintptr_t)prompt_buf :
		       !strcmp(f->name, "text") ? (uintptr_t)text_buf :
		       (uintptr_t)tok_buf;
	return num(v);
}

static __u64 int_value(const char *v)
{
	int f;

	if (v[0] != '@')
		return num(v);
	f = open(v + 1, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		die("cannot open an @PATH value");
	return (__u32)f;
}

static void set_field(unsigned char *s, const struct field *f, const char *v)
{
	__u64 x;
	__u32 y;

	switch (f->type) {
	case F_STR:
		memset(s + f->off, 0, LLM_STOP_LEN);
		unescape(v, (char *)s + f->off);	/* may fill all 32 */
		return;
	case F_PTR:
		x = ptr_value(v, f);
		memcpy(s + f->off, &x, 8);
		return;
	case F_U64:
		x = int_value(v);
		memcpy(s + f->off, &x, 8);
		return;
	case F_U32:
		y = int_value(v);
		memcpy(s + f->off, &y, 4);
		return;
	}
}

/* Where the struct goes: a buffer big enough for @size, or a trap. */
static unsigned char *place(const char *where, const unsigned char *s,
			    size_t ksize, size_t size)
{
	size_t len = (size > ksize ? size : ksize) + 64;
	unsigned char *p;

	if (!where || !strcmp(where, "buf")) {
		if (len > (64u << 20))	/* a huge size: let the kernel see */
			len = ksize + 64;
		p = calloc(1, len);
		memcpy(p, s, ksize);
		return p;
	}
	if (!strcmp(where, "bad"))
		return (unsigned char *)bad_page;
	if (!strcmp(where, "null"))
		return NULL;
	if (!strcmp(where, "ro")) {
		len = (len + page - 1) / page * page;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		memcpy(p, s, ksize);
		mprotect(p, len, PROT_READ);
		return p;
	}
	if (!strcmp(where, "huge")) {
		/* zero pages the kernel could read for a long time */
		p = mmap(NULL, 1ul << 30, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			die("cannot map 1 GiB");
		memcpy(p, s, ksize);
		return p;
	}
	if (!strcmp(where, "edge")) {
		/* only the size field is mapped: the rest runs into a hole */
		p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		mprotect(p + page, page, PROT_NONE);
		p += page - 8;
		memcpy(p, s, 8);
		return p;
	}
	die("arg= wants buf, bad, ro, edge, huge or null");
	return NULL;
}

static void step_ioc(const char *name, char **a, int n)
{
	const struct ioc *io = find_ioc(name);
	unsigned char s[4096], *p;
	const char *where = NULL;
	size_t size = io->size, len = 0;
	unsigned char *before = NULL;
	int tail = -1, i, ret, err, in_buf;
	long iocsize = -1;
	unsigned long cmd;

	ioc_defaults(io, s);
	for (i = 0; i < n; i++) {
		char *eq = strchr(a[i], '=');
		const struct field *f;

		if (!eq)
			die("ioc wants FIELD=VALUE");
		*eq++ = 0;
		if (!strcmp(a[i], "arg")) {
			where = eq;
			continue;
		}
		if (!strcmp(a[i], "tail")) {
			tail = num(eq);
			continue;
		}
		if (!strcmp(a[i], "iocsize")) {
			iocsize = num(eq);
			continue;
		}
		if (!strncmp(a[i], "byte@", 5)) {
			s[num(a[i] + 5)] = num(eq);
			continue;
		}
		if (!strcmp(a[i], "ptext")) {
			memset(prompt_buf, 0, sizeof(prompt_buf));
			((struct llm_generate *)s)->prompt_len =
				unescape(eq, prompt_buf);
			continue;
		}
		for (f = io->fields; f->name && strcmp(f->name, a[i]); f++)
			;
		if (!f->name) {
			fprintf(stderr, "llmprobe: ioctl %s has no field %s\n",
				name, a[i]);
			exit(2);
		}
		if (!strcmp(a[i], "size"))
			size = num(eq);
		set_field(s, f, eq);
	}
	/* the size bits: what the struct's size says, at most 14 bits */
	if (iocsize < 0)
		iocsize = size > _IOC_SIZEMASK ? _IOC_SIZEMASK : size;
	cmd = (io->cmd & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
	      ((unsigned long)iocsize << _IOC_SIZESHIFT);
	if (!io->size) {
		ret = ioctl(fd, cmd, where ? (unsigned long)place(where, s, 8, 8) : 0);
		out("ioc", ret < 0 ? errno : 0, NULL);
		return;
	}
	in_buf = !where || !strcmp(where, "buf") || !strcmp(where, "huge");
	p = place(where, s, io->size, size);
	if (tail >= 0 && in_buf)
		p[io->size] = tail;
	if (in_buf && size < (64u << 20)) {
		len = (size > io->size ? size : io->size) + 64;
		before = malloc(len);
		memcpy(before, p, len);
	}
	ret = ioctl(fd, cmd, p);
	err = ret < 0 ? errno : 0;
	/* the kernel writes back at most min(size, its size) bytes */
	if (before) {
		size_t k;

		for (k = size < io->size ? size : io->size; k < len; k++)
			if (p[k] != before[k]) {
				out("ioc", err, "but byte %zu past the size was written",
				    k);
				return;
			}
	}
	if (err) {
		struct llm_load *l = (struct llm_load *)p;

		if (io->cmd == LLM_IOC_LOAD && in_buf && l->error[0])
			out("ioc", err, "%s", l->error);
		else
			out("ioc", err, NULL);
		return;
	}
	if (io->cmd == LLM_IOC_GENERATE) {
		struct llm_generate *g = (struct llm_generate *)p;

		out("ioc", 0, "len=%u n=%u np=%u stop=%u", g->text_len,
		    g->n_tokens, g->n_prompt_tokens, g->stop_reason);
	} else if (io->cmd == LLM_IOC_GET_PARAMS) {
		struct llm_params *q = (struct llm_params *)p;

		out("ioc", 0, "temp=%u topk=%u topp=%u max=%u seed=%llu",
		    q->temperature_milli, q->top_k, q->top_p_milli,
		    q->max_tokens, (unsigned long long)q->seed);
	} else {
		out("ioc", 0, "size=%u", *(__u32 *)p);
	}
}

static void step_rawioc(unsigned long cmd)
{
	static unsigned char buf[4096];
	int ret;

	memset(buf, 0, sizeof(buf));
	*(__u32 *)buf = 64;
	ret = ioctl(fd, cmd, buf);
	out("rawioc", ret < 0 ? errno : 0, NULL);
}

static __u64 rnd_state;

static __u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* A value that is often near a boundary: zero, small, huge, random. */
static __u64 rnd_value(void)
{
	switch (rnd() % 6) {
	case 0: return 0;
	case 1: return rnd() % 8;
	case 2: return rnd() % 70000;
	case 3: return 0xffffffffull - rnd() % 4;
	case 4: return rnd() & 0xffffffffull;
	default: return rnd();
	}
}

static void step_fuzz(const char *name, unsigned long n, unsigned long seed)
{
	const struct ioc *io = find_ioc(name);
	unsigned char s[4096];
	const struct field *f;
	int counts[256] = { 0 };
	unsigned long i;
	char line[1024] = "";
	size_t len = 0;
	int e;

	rnd_state = seed * 2654435761u + 1;
	for (i = 0; i < n; i++) {
		ioc_defaults(io, s);
		for (f = io->fields; f->name; f++) {
			__u64 v = rnd_value();

			if (rnd() % 3 == 0)	/* keep some fields sane */
				continue;
			if (f->type == F_PTR) {
				__u64 opts[] = { (uintptr_t)bad_page, 0,
					(uintptr_t)ro_page, v,
					(uintptr_t)text_buf };
				v = opts[rnd() % 5];
			}
			if (f->type == F_STR) {
				size_t k;

				for (k = 0; k < LLM_STOP_LEN; k++)
					s[f->off + k] = rnd() % 3 ? 0 : rnd();
				continue;
			}
			memcpy(s + f->off, &v, f->type == F_U32 ? 4 : 8);
		}
		/* mostly a right size, so the checks past it are reached */
		if (rnd() % 4)
			*(__u32 *)s = io->size;
		else if (*(__u32 *)s > 4096 - 64)
			*(__u32 *)s = rnd() % 4096;
		e = ioctl(fd, io->cmd, s) < 0 ? errno : 0;
		counts[e & 255]++;
	}
	for (e = 0; e < 256; e++)
		if (counts[e])
			len += snprintf(line + len, sizeof(line) - len, "%s%s=%d",
					len ? " " : "", e ? ename(e) : "ok",
					counts[e]);
	out("fuzz", 0, "%s", line);
}

/* --- the model ----------------------------------------------------------- */

static void step_loadfd(const char *path)
{
	struct llm_load l = { .size = sizeof(l), .op = LLM_LOAD_FD };
	int f = open(path, O_RDONLY | O_CLOEXEC);

	if (f < 0) {
		out("loadfd", errno, "(opening %s here)", path);
		return;
	}
	l.fd = f;
	if (ioctl(fd, LLM_IOC_LOAD, &l) < 0)
		out("loadfd", errno, "%s", l.error);
	else
		out("loadfd", 0, "%llu", (unsigned long long)l.loaded);
	close(f);
}

static void step_upload(const char *path)
{
	struct llm_load l = { .size = sizeof(l), .op = LLM_LOAD_BEGIN };
	static char buf[1 << 20];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		out("upload", errno, "(opening %s here)", path);
		return;
	}
	fseek(f, 0, SEEK_END);
	l.len = ftell(f);
	rewind(f);
	if (ioctl(fd, LLM_IOC_LOAD, &l) < 0) {
		out("upload", errno, "begin: %s", l.error);
		fclose(f);
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		l.op = LLM_LOAD_DATA;
		l.data = (uintptr_t)buf;
		l.len = n;
		if (ioctl(fd, LLM_IOC_LOAD, &l) < 0) {
			out("upload", errno, "data: %s", l.error);
			fclose(f);
			return;
		}
	}
	fclose(f);
	l.op = LLM_LOAD_COMMIT;
	if (ioctl(fd, LLM_IOC_LOAD, &l) < 0)
		out("upload", errno, "commit: %s", l.error);
	else
		out("upload", 0, "%llu", (unsigned long long)l.loaded);
}

/* --- the ring ------------------------------------------------------------ */

static __u32 *ring_u32(__u32 off)
{
	return (__u32 *)(ring_mem + off);
}

static void step_ring(char **a)
{
	struct llm_ring_setup r = { .size = sizeof(r) };

	r.sq_entries = num(a[0]);
	r.cq_entries = num(a[1]);
	r.prompts_size = num(a[2]);
	if (ioctl(fd, LLM_IOC_RING_SETUP, &r) < 0) {
		out("ring", errno, NULL);
		return;
	}
	rs = r;
	out("ring", 0, "sq=%u cq=%u pb=%u size=%llu", r.sq_entries,
	    r.cq_entries, r.prompts_size, (unsigned long long)r.mmap_size);
}

static void step_map(const char *mode)
{
	size_t len = rs.mmap_size ? rs.mmap_size : (size_t)page;
	int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED;
	off_t off = 0;
	char *p;

	if (!strcmp(mode, "over"))
		len += page;
	else if (!strcmp(mode, "off"))
		off = page, len = page;
	else if (!strcmp(mode, "private"))
		flags = MAP_PRIVATE;
	else if (!strcmp(mode, "exec"))
		prot |= PROT_EXEC;
	else if (!strcmp(mode, "ro"))
		prot = PROT_READ;
	else if (!strcmp(mode, "half"))
		len = page;
	else if (strcmp(mode, "full"))
		die("map wants full, over, off, private, exec, ro or half");
	p = mmap(NULL, len, prot, flags, fd, off);
	if (p == MAP_FAILED) {
		out("map", errno, NULL);
		return;
	}
	if (!strcmp(mode, "full")) {
		ring_mem = p;
		cq_seen = *ring_u32(rs.off.cq_head);
	} else {
		munmap(p, len);
	}
	out("map", 0, NULL);
}

static void step_sqe(__u64 ud, __u32 off, __u32 len, __u32 flags,
		     const char *text, int resv)
{
	__u32 *tail, t;
	struct llm_sqe *q;

	if (!ring_mem)
		die("sqe before map full");
	if (text) {
		char *buf = malloc(strlen(text) + 1);
		size_t n = unescape(text, buf);

		if ((__u64)off + n <= rs.off.prompts_size)
			memcpy(ring_mem + rs.off.prompts + off, buf, n);
		free(buf);
	}
	tail = ring_u32(rs.off.sq_tail);
	t = *tail;
	q = (struct llm_sqe *)(ring_mem + rs.off.sqes) + (t & (rs.sq_entries - 1));
	memset(q, 0, sizeof(*q));
	q->user_data = ud;
	q->prompt_off = off;
	q->prompt_len = len;
	q->flags = flags;
	q->resv[1] = resv;
	__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
	out(resv ? "sqeresv" : "sqe", 0, NULL);
}

static void step_index(const char *name, __u32 off, __u32 v)
{
	if (!ring_mem)
		die("index store before map full");
	__atomic_store_n(ring_u32(off), v, __ATOMIC_RELEASE);
	out(name, 0, NULL);
}

static void step_enter(__u32 min)
{
	struct llm_ring_enter re = { .size = sizeof(re), .min_complete = min };

	out("enter", ioctl(fd, LLM_IOC_RING_ENTER, &re) < 0 ? errno : 0, NULL);
}

struct req_seen {
	__u64 ud;
	FILE *f;
	unsigned int tokens;
	int ended;
};

static void step_drain(unsigned int want, const char *prefix)
{
	struct llm_ring_enter re = { .size = sizeof(re), .min_complete = 1 };
	struct req_seen seen[64];
	const struct llm_cqe *cqes;
	struct timespec t0;
	char line[2048] = "";
	unsigned int nseen = 0, ends = 0, i;
	size_t len = 0;
	int cur = -1, bad = 0, stopped = 0;

	if (!ring_mem)
		die("drain before map full");
	cqes = (const struct llm_cqe *)(ring_mem + rs.off.cqes);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ends < want) {
		__u32 tail = __atomic_load_n(ring_u32(rs.off.cq_tail),
					     __ATOMIC_ACQUIRE);

		if (tail == cq_seen) {
			/* 60 s with nothing new (a debug kernel is slow) */
			if (stopped || ms_since(&t0) > 60000) {
				out("drain", ETIME, "%s (%u of %u ends: %s)",
				    line, ends, want, stopped ?
				    "the ring stopped" : "timed out");
				return;
			}
			if (ioctl(fd, LLM_IOC_RING_ENTER, &re) < 0) {
				if (errno == EINTR) {
					eintrs++;	/* the wait, not the ring */
					continue;
				}
				out("drain", errno, "after %u ends", ends);
				return;
			}
			/*
			 * With nothing unconsumed, ENTER returns only once
			 * no request runs: then nothing more will come.
			 */
			stopped = __atomic_load_n(ring_u32(rs.off.cq_tail),
						  __ATOMIC_ACQUIRE) == cq_seen;
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (; cq_seen != tail; cq_seen++) {
			const struct llm_cqe *e =
				&cqes[cq_seen & (rs.cq_entries - 1)];

			if (cur < 0 || seen[cur].ud != e->user_data) {
				/* a new request: never one seen before */
				for (i = 0; i < nseen; i++)
					if (seen[i].ud == e->user_data)
						bad = 1;
				if (cur >= 0 && !seen[cur].ended)
					bad = 1;
				if (nseen == 64)
					die("too many requests");
				cur = nseen++;
				seen[cur].ud = e->user_data;
				seen[cur].tokens = 0;
				seen[cur].ended = 0;
				seen[cur].f = NULL;
				if (strcmp(prefix, "-")) {
					char path[512];

					snprintf(path, sizeof(path), "%s.%llu",
						 prefix,
						 (unsigned long long)e->user_data);
					seen[cur].f = fopen(path, "w");
				}
			}
			if (e->kind == LLM_CQE_TEXT) {
				if (e->len > LLM_CQE_TEXT_MAX)
					bad = 1;
				else if (seen[cur].f)
					fwrite(e->text, 1, e->len, seen[cur].f);
			} else if (e->kind == LLM_CQE_TOKEN) {
				seen[cur].tokens++;
			} else if (e->kind == LLM_CQE_END) {
				seen[cur].ended = 1;
				if (seen[cur].f)
					fclose(seen[cur].f);
				seen[cur].f = NULL;
				len += snprintf(line + len, sizeof(line) - len,
						"%s%llu:%d:%u:%u%s", len ? " " : "",
						(unsigned long long)e->user_data,
						e->res, e->stop_reason, e->len,
						e->len == seen[cur].tokens ? "" :
						"!tokens");
				ends++;
			} else {
				bad = 1;
			}
		}
		__atomic_store_n(ring_u32(rs.off.cq_head), cq_seen,
				 __ATOMIC_RELEASE);
	}
	out("drain", 0, "%s%s", line, bad ? " (entries out of order)" : "");
}

static void step_sigenter(unsigned long ms, __u32 min)
{
	struct llm_ring_enter re = { .size = sizeof(re), .min_complete = min };
	int err;

	arm(ms);
	err = ioctl(fd, LLM_IOC_RING_ENTER, &re) < 0 ? errno : 0;
	disarm();
	out("sigenter", err, "late=%.0f", fired ? ms_since(&fired_at) : -1.0);
}

/* --- a second thread on the same file ------------------------------------ */

static struct llm_params flip_p[2];
static volatile int flipping;
static unsigned long flips;
static pthread_t flipper;

static void *flip_thread(void *arg)
{
	(void)arg;
	while (flipping) {
		if (ioctl(fd, LLM_IOC_SET_PARAMS, &flip_p[flips & 1]) == 0)
			flips++;
		usleep(50);
	}
	return NULL;
}

static void step_flip(char **a)
{
	int i;

	for (i = 0; i < 2; i++) {
		flip_p[i] = cur_params;
		flip_p[i].temperature_milli = num(a[5 * i]);
		flip_p[i].top_k = num(a[5 * i + 1]);
		flip_p[i].top_p_milli = num(a[5 * i + 2]);
		flip_p[i].max_tokens = num(a[5 * i + 3]);
		flip_p[i].seed = num(a[5 * i + 4]);
	}
	/* the first set is in before anything is submitted */
	if (ioctl(fd, LLM_IOC_SET_PARAMS, &flip_p[0]) < 0)
		die("flip: SET_PARAMS failed");
	flips = 1;
	flipping = 1;
	if (pthread_create(&flipper, NULL, flip_thread, NULL))
		die("pthread_create failed");
	out("flip", 0, NULL);
}

static void step_unflip(void)
{
	flipping = 0;
	pthread_join(flipper, NULL);
	out("unflip", 0, "flips=%lu", flips);
}

static void step_ringmany(unsigned int n, const char *text, const char *prefix)
{
	struct llm_ring_enter re = { .size = sizeof(re), .min_complete = 1 };
	const struct llm_cqe *cqes;
	char *prompt = malloc(strlen(text) + 1);
	__u32 len = unescape(text, prompt), next = 1, ends = 0, bad = 0;
	FILE **f = calloc(n + 1, sizeof(*f));

	if (!ring_mem)
		die("ringmany before map full");
	if (len > rs.prompts_size)
		die("ringmany: the prompt does not fit the prompt area");
	memcpy(ring_mem + rs.off.prompts, prompt, len);
	cqes = (const struct llm_cqe *)(ring_mem + rs.off.cqes);
	while (ends < n) {
		__u32 tail = __atomic_load_n(ring_u32(rs.off.sq_tail),
					     __ATOMIC_RELAXED);
		__u32 head = __atomic_load_n(ring_u32(rs.off.sq_head),
					     __ATOMIC_ACQUIRE);
		__u32 ct;

		while (next <= n && tail - head < rs.sq_entries) {
			struct llm_sqe *q = (struct llm_sqe *)(ring_mem +
				rs.off.sqes) + (tail & (rs.sq_entries - 1));

			memset(q, 0, sizeof(*q));
			q->user_data = next++;
			q->prompt_len = len;
			q->flags = LLM_SQE_RESET;
			__atomic_store_n(ring_u32(rs.off.sq_tail), ++tail,
					 __ATOMIC_RELEASE);
		}
		ct = __atomic_load_n(ring_u32(rs.off.cq_tail), __ATOMIC_ACQUIRE);
		for (; cq_seen != ct; cq_seen++) {
			const struct llm_cqe *e =
				&cqes[cq_seen & (rs.cq_entries - 1)];
			__u64 ud = e->user_data;

			if (ud < 1 || ud > n) {
				bad++;
				continue;
			}
			if (!f[ud]) {
				char path[512];

				snprintf(path, sizeof(path), "%s.%llu", prefix,
					 (unsigned long long)ud);
				f[ud] = fopen(path, "w");
			}
			if (e->kind == LLM_CQE_TEXT)
				fwrite(e->text, 1, e->len, f[ud]);
			else if (e->kind == LLM_CQE_END && !e->res)
				ends++;
			else if (e->kind == LLM_CQE_END)
				bad++, ends++;
		}
		__atomic_store_n(ring_u32(rs.off.cq_head), cq_seen,
				 __ATOMIC_RELEASE);
		if (ends < n && ioctl(fd, LLM_IOC_RING_ENTER, &re) < 0 &&
		    errno != EINTR) {
			out("ringmany", errno, "after %u ends", ends);
			return;
		}
	}
	for (next = 1; next <= n; next++)
		if (f[next])
			fclose(f[next]);
	free(f);
	free(prompt);
	out("ringmany", 0, "ends=%u bad=%u", ends, bad);
}

static volatile int entering;

static void *enter_thread(void *arg)
{
	struct llm_ring_enter re = {
		.size = sizeof(re), .min_complete = rs.cq_entries,
	};

	(void)arg;
	ioctl(fd, LLM_IOC_RING_ENTER, &re);
	entering = 0;
	return NULL;
}

static void step_enterwait(void)
{
	struct llm_params p;
	pthread_t t;
	int i, during = 0;

	entering = 1;
	if (pthread_create(&t, NULL, enter_thread, NULL))
		die("pthread_create failed");
	usleep(200000);
	for (i = 0; i < 20; i++) {
		p = cur_params;
		p.size = sizeof(p);
		if (ioctl(fd, LLM_IOC_GET_PARAMS, &p) == 0 &&
		    ioctl(fd, LLM_IOC_SET_PARAMS, &cur_params) == 0 && entering)
			during++;
	}
	pthread_join(t, NULL);
	out("enterwait", during == 20 ? 0 : EBUSY, "%d of 20 calls while it waited",
	    during);
}

/* --- main ---------------------------------------------------------------- */

/* Arguments each step takes (the optional ones are handled below). */
static const struct { const char *name; int args; } steps[] = {
	{ "w", 1 }, { "wlong", 1 }, { "wbad", 0 }, { "r", 1 }, { "r1", 0 },
	{ "rbad", 0 }, { "rro", 0 }, { "poll", 1 }, { "fl", 1 },
	{ "sleep", 1 }, { "waitfor", 1 }, { "params", 5 }, { "stopstr", 1 }, { "stats", 0 },
	{ "info", 0 }, { "reset", 0 }, { "gen", 2 }, { "genr", 2 },
	{ "sigread", 2 }, { "siggen", 3 }, { "close", 0 }, { "open", 0 },
	{ "storm", 1 }, { "calm", 0 }, { "sigcancel", 1 }, { "cancel", 0 },
	{ "late", 0 }, { "mark", 0 }, { "since", 0 },
	{ "ioc", 1 }, { "rawioc", 1 }, { "fuzz", 3 }, { "loadfd", 1 },
	{ "upload", 1 }, { "unload", 0 }, { "ring", 3 }, { "map", 1 },
	{ "mpx", 0 }, { "sqe", 5 }, { "sqeresv", 1 }, { "sqtail", 1 },
	{ "cqhead", 1 }, { "enter", 1 }, { "drain", 2 }, { "sigenter", 2 },
	{ "flip", 10 }, { "unflip", 0 }, { "ringmany", 3 }, { "enterwait", 0 },
};

static int step_args(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (!strcmp(steps[i].name, name))
			return steps[i].args;
	fprintf(stderr, "llmprobe: unknown step '%s' (see llmprobe.c)\n", name);
	exit(2);
}

/* Words after a step that are not themselves steps: optional arguments. */
static int extra_args(char **argv, int i, int argc)
{
	int n = 0;

	while (i + n < argc && strchr(argv[i + n], '='))
		n++;
	return n;
}

static int is_number(const char *s)
{
	char *end;

	strtoull(s, &end, 0);
	return *s && !*end;
}

int main(int argc, char **argv)
{
	char buf[65536];
	int i = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page = sysconf(_SC_PAGESIZE);
	bad_page = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	ro_page = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	for (;;) {
		if (i + 1 < argc && !strcmp(argv[i], "-d")) {
			dev_path = argv[i + 1];
			i += 2;
		} else if (i < argc && !strcmp(argv[i], "-r")) {
			open_mode = O_RDONLY;
			i++;
		} else {
			break;
		}
	}
	open_dev(0);
	if (fd < 0)
		return 1;	/* "open ERRNO" said why */
	while (i < argc) {
		const char *s = argv[i];
		int n = step_args(s);
		char **a = argv + i + 1;

		if (i + n >= argc)
			die("a step is missing its arguments");
		i += 1 + n;
		if (!strcmp(s, "w")) {
			step_w(a[0]);
		} else if (!strcmp(s, "wlong")) {
			step_wlong(num(a[0]));
		} else if (!strcmp(s, "wbad")) {
			out("wbad", write(fd, bad_page, 16) < 0 ? errno : 0,
			    NULL);
		} else if (!strcmp(s, "r")) {
			size_t total;
			int err = read_all(a[0], &total);

			out("r", err, "%zu", total);
		} else if (!strcmp(s, "r1")) {
			step_r1("r1", buf, sizeof(buf));
		} else if (!strcmp(s, "rbad")) {
			step_r1("rbad", bad_page, 64);
		} else if (!strcmp(s, "rro")) {
			step_r1("rro", ro_page, 64);
		} else if (!strcmp(s, "poll")) {
			step_poll(atoi(a[0]));
		} else if (!strcmp(s, "fl")) {
			int fl = fcntl(fd, F_GETFL);

			fl = !strcmp(a[0], "nonblock") ? fl | O_NONBLOCK :
			     fl & ~O_NONBLOCK;
			out("fl", fcntl(fd, F_SETFL, fl) < 0 ? errno : 0, NULL);
		} else if (!strcmp(s, "sleep")) {
			usleep(num(a[0]) * 1000);
			out("sleep", 0, NULL);
		} else if (!strcmp(s, "waitfor")) {
			int k;

			for (k = 0; k < 6000 && access(a[0], F_OK); k++)
				usleep(10000);
			out("waitfor", access(a[0], F_OK) ? ETIME : 0, NULL);
		} else if (!strcmp(s, "params")) {
			step_params(a);
		} else if (!strcmp(s, "stopstr")) {
			step_stopstr(a[0]);
		} else if (!strcmp(s, "stats")) {
			step_stats();
		} else if (!strcmp(s, "info")) {
			step_info();
		} else if (!strcmp(s, "reset")) {
			out("reset", ioctl(fd, LLM_IOC_RESET) < 0 ? errno : 0,
			    NULL);
		} else if (!strcmp(s, "gen") || !strcmp(s, "genr")) {
			int cap = i < argc && is_number(argv[i]);

			step_gen(s, a, cap, s[3] ? LLM_GEN_RESET : 0);
			i += cap;
		} else if (!strcmp(s, "sigread")) {
			step_sigread(num(a[0]), a[1]);
		} else if (!strcmp(s, "siggen")) {
			step_siggen(num(a[0]), a[1], a[2]);
		} else if (!strcmp(s, "storm")) {
			int restart = i < argc && !strcmp(argv[i], "restart");

			step_storm(num(a[0]), restart);
			i += restart;
		} else if (!strcmp(s, "calm")) {
			step_calm();
		} else if (!strcmp(s, "sigcancel")) {
			step_sigcancel(num(a[0]));
		} else if (!strcmp(s, "late")) {
			out("late", fired ? 0 : ENOENT, "%.0f",
			    fired ? ms_since(&fired_at) : 0.0);
		} else if (!strcmp(s, "mark")) {
			clock_gettime(CLOCK_MONOTONIC, &marked_at);
			out("mark", 0, NULL);
		} else if (!strcmp(s, "since")) {
			out("since", 0, "%.0f", ms_since(&marked_at));
		} else if (!strcmp(s, "cancel")) {
			out("cancel", ioctl(fd, LLM_IOC_CANCEL) < 0 ? errno : 0,
			    NULL);
		} else if (!strcmp(s, "close")) {
			out("close", close(fd) < 0 ? errno : 0, NULL);
			fd = -1;
			ring_mem = NULL;
		} else if (!strcmp(s, "open")) {
			open_dev(0);
			if (fd >= 0)
				out("open", 0, NULL);
		} else if (!strcmp(s, "ioc")) {
			int n2 = extra_args(argv, i, argc);

			step_ioc(a[0], argv + i, n2);
			i += n2;
		} else if (!strcmp(s, "rawioc")) {
			step_rawioc(num(a[0]));
		} else if (!strcmp(s, "fuzz")) {
			step_fuzz(a[0], num(a[1]), num(a[2]));
		} else if (!strcmp(s, "loadfd")) {
			step_loadfd(a[0]);
		} else if (!strcmp(s, "upload")) {
			step_upload(a[0]);
		} else if (!strcmp(s, "unload")) {
			out("unload", ioctl(fd, LLM_IOC_UNLOAD) < 0 ? errno : 0,
			    NULL);
		} else if (!strcmp(s, "ring")) {
			step_ring(a);
		} else if (!strcmp(s, "map")) {
			step_map(a[0]);
		} else if (!strcmp(s, "mpx")) {
			out("mpx", ring_mem && mprotect(ring_mem, page,
				PROT_READ | PROT_EXEC) < 0 ? errno : 0, NULL);
		} else if (!strcmp(s, "sqe")) {
			step_sqe(num(a[0]), num(a[1]), num(a[2]), num(a[3]),
				 strcmp(a[4], "-") ? a[4] : NULL, 0);
		} else if (!strcmp(s, "sqeresv")) {
			step_sqe(num(a[0]), 0, 0, 0, NULL, 1);
		} else if (!strcmp(s, "sqtail")) {
			step_index("sqtail", rs.off.sq_tail, num(a[0]));
		} else if (!strcmp(s, "cqhead")) {
			step_index("cqhead", rs.off.cq_head, num(a[0]));
		} else if (!strcmp(s, "enter")) {
			step_enter(num(a[0]));
		} else if (!strcmp(s, "drain")) {
			step_drain(num(a[0]), a[1]);
		} else if (!strcmp(s, "sigenter")) {
			step_sigenter(num(a[0]), num(a[1]));
		} else if (!strcmp(s, "flip")) {
			step_flip(a);
		} else if (!strcmp(s, "unflip")) {
			step_unflip();
		} else if (!strcmp(s, "ringmany")) {
			step_ringmany(num(a[0]), a[1], a[2]);
		} else if (!strcmp(s, "enterwait")) {
			step_enterwait();
		}
	}
	return 0;
}
