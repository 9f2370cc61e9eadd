// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl serve: an OpenAI-compatible HTTP server in front of the kernel's
 * model.  It holds no model: every request gets its own /dev/llm session
 * (its own open file), so concurrent clients are isolated by the kernel,
 * and closing that file (a client gone) stops its generation at once.
 * HTTP is libmicrohttpd's, one thread per connection; JSON is jansson's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>

#include "llmctl.h"
#include "../uapi/llm.h"
#include "../llm/core/chat.h"

void help_serve(FILE *out)
{
	fprintf(out,
		"usage: llmctl serve [--host ADDR] [--port N] [--api-key KEY]\n"
		"                    [--max-sessions N] [--max-body BYTES] [--timeout S]\n"
		"\n"
		"Serve the kernel's loaded model over HTTP with OpenAI's API.  The\n"
		"server holds no model: each request opens its own /dev/llm session,\n"
		"so it needs only access to /dev/llm (no root), clients never see\n"
		"each other's context, and a client that goes away mid-reply has its\n"
		"session closed, which stops the generation at once.\n"
		"\n"
		"Endpoints:\n"
		"  POST /v1/completions        {\"prompt\": TEXT, ...}\n"
		"  POST /v1/chat/completions   {\"messages\": [{\"role\", \"content\"}...], ...}\n"
		"                              rendered with the model's chat template\n"
		"                              by the kernel (LLM_IOC_CHAT)\n"
		"  GET  /v1/models             the loaded model\n"
		"  GET  /health                200 when a model is loaded, else 503\n"
		"  GET  /metrics               Prometheus text: /sys/kernel/llm's\n"
		"                              numbers and the server's own counters\n"
		"\n"
		"Request fields: max_tokens (default 256, at most the module's\n"
		"max_new_tokens), temperature (0..100, default 1; 0 is greedy),\n"
		"top_p (0..1, default 1), top_k (an extension, default 0: off), seed\n"
		"(0 or absent: a fresh random one), stop (a string or up to 4, each\n"
		"1..31 bytes; the reply ends before it), stream (server-sent events,\n"
		"one per piece of text, then data: [DONE]).  Every reply has usage\n"
		"(prompt_tokens, completion_tokens, total_tokens); a stream has it in\n"
		"its last event.  Errors are JSON as OpenAI's:\n"
		"{\"error\": {\"message\", \"type\", \"param\", \"code\"}} with status 400 (bad\n"
		"JSON, a field of the wrong type or range), 401 (no or wrong API\n"
		"key), 404, 405, 413 (body over --max-body), 429 (--max-sessions\n"
		"requests running, or the module's session slots all taken), 503 (no\n"
		"model loaded, or the llm module not loaded).\n"
		"\n"
		"Options:\n"
		"  --host ADDR         IPv4 address to listen on (default 127.0.0.1:\n"
		"                      this machine only; 0.0.0.0 for every interface)\n"
		"  --port N            TCP port (default 8080)\n"
		"  --api-key KEY       require \"Authorization: Bearer KEY\" on /v1/ and\n"
		"                      /metrics (also read from $LLM_API_KEY)\n"
		"  --max-sessions N    requests generating at once (default 4); more\n"
		"                      get 429\n"
		"  --max-body BYTES    largest request body (default 1048576); more\n"
		"                      gets 413\n"
		"  --timeout S         close a connection idle for S seconds (default 60)\n"
		"  -h, --help          this text\n"
		"\n"
		"It runs until SIGINT or SIGTERM.  Exit status 0 then, 1 when it\n"
		"cannot listen, 2 on a bad command line.\n");
}

struct serve_opts {
	struct in_addr host;
	unsigned int port;
	const char *api_key;
	unsigned int max_sessions;
	unsigned int max_body;
	unsigned int timeout;
};

static struct serve_opts opts;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int active;			/* requests generating */
static unsigned long long n_requests, n_errors, n_cancelled;
static unsigned long long n_id;
static volatile sig_atomic_t stopping;

/* ---- replies ---------------------------------------------------------- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned int status,
				 const char *type, const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Send @j (taking its reference) as the JSON body of a @status reply. */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned int status,
				 json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	enum MHD_Result ret;

	json_decref(j);
	if (!s)
		return MHD_NO;
	ret = send_text(c, status, "application/json", s, strlen(s));
	free(s);
	return ret;
}

/* OpenAI's error object: {"error": {"message", "type", "param", "code"}}. */
static json_t *error_json(const char *type, const char *param,
			  const char *code, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return json_pack("{s:{s:s,s:s,s:s?,s:s?}}", "error", "message", msg,
			 "type", type, "param", param, "code", code);
}

static enum MHD_Result send_error(struct MHD_Connection *c,
				  unsigned int status, const char *param,
				  const char *code, const char *fmt, ...)
{
	const char *type;
	va_list ap;
	json_t *j;

	switch (status) {
	case 401:
		type = "authentication_error";
		break;
	case 404:
		type = "not_found_error";
		break;
	case 429:
		type = "rate_limit_error";
		break;
	case 503:
		type = "service_unavailable";
		break;
	default:
		type = status >= 500 ? "server_error" : "invalid_request_error";
		break;
	}
	pthread_mutex_lock(&stats_lock);
	n_errors++;
	pthread_mutex_unlock(&stats_lock);
	va_start(ap, fmt);
	j = error_json(type, param, code, fmt, ap);
	va_end(ap);
	return send_json(c, status, j);
}

/* ---- the device --------------------------------------------------------- */

/* The status, code and sentence for an errno from /dev/llm. */
struct dev_error {
	unsigned int status;
	const char *code;
	const char *msg;
};

static struct dev_error explain(int err)
{
	switch (err) {
	case ENOENT:
	case ENXIO:
		return (struct dev_error){ 503, "module_not_loaded",
			"the llm kernel module is not loaded (/dev/llm is missing)" };
	case EACCES:
	case EPERM:
		return (struct dev_error){ 503, "permission_denied",
			"the server may not open /dev/llm" };
	case EBUSY:
		return (struct dev_error){ 429, "sessions_exhausted",
			"all of /dev/llm's session slots are in use, or a model is being installed; try again later" };
	case EDQUOT:
		return (struct dev_error){ 429, "sessions_exhausted",
			"the server's user has as many /dev/llm sessions as one user may (module parameter sessions_per_user)" };
	case ENODATA:
		return (struct dev_error){ 503, "model_not_loaded",
			"no model is loaded in the kernel (llmctl load MODEL.gguf)" };
	case ENODEV:
		return (struct dev_error){ 503, "model_unloaded",
			"the model was unloaded while the request ran" };
	case E2BIG:
		return (struct dev_error){ 400, "context_length_exceeded",
			"the prompt is over the module's limits (max_prompt_bytes, max_prompt_tokens)" };
	case ENOSPC:
		return (struct dev_error){ 400, "context_length_exceeded",
			"the prompt does not fit in the model's context" };
	case EINVAL:
		return (struct dev_error){ 400, "invalid_request",
			"the kernel refused the request as invalid" };
	case EOPNOTSUPP:
		return (struct dev_error){ 400, "no_chat_template",
			"the model has no chat template the kernel renders" };
	default:
		return (struct dev_error){ 500, "device_error", strerror(err) };
	}
}

/* One line of /sys/kernel/llm/@name into @buf, without its newline. */
static int sys_read(const char *name, char *buf, size_t cap)
{
	char path[96];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/sys/kernel/llm/%s", name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, cap, f))
		buf[0] = 0;
	fclose(f);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

static unsigned long long sys_num(const char *name)
{
	char buf[64];

	return sys_read(name, buf, sizeof(buf)) ? 0 : strtoull(buf, NULL, 10);
}

/*
 * What /health and /v1/models say, from sysfs: they take no session slot,
 * so they answer while every slot is busy.  -ENOENT: no module.
 */
static int get_info(struct llm_info *info)
{
	char buf[LLM_NAME_LEN];
	int ret;

	memset(info, 0, sizeof(*info));
	ret = sys_read("model_loaded", buf, sizeof(buf));
	if (ret)
		return ret;
	if (strtoul(buf, NULL, 10))
		info->flags |= LLM_INFO_MODEL_LOADED;
	sys_read("model_name", info->model.name, sizeof(info->model.name));
	sys_read("model_arch", info->model.arch, sizeof(info->model.arch));
	info->model.n_params = sys_num("model_params");
	info->model.n_ctx = sys_num("model_context");
	info->sessions_active = sys_num("sessions_active");
	info->sessions_max = sys_num("sessions_max");
	return 0;
}

static const char *model_id(const struct llm_info *info)
{
	return info->model.name[0] ? info->model.name :
	       info->model.arch[0] ? info->model.arch : "llm";
}

/* ---- a request ---------------------------------------------------------- */

enum endpoint { EP_COMPLETIONS, EP_CHAT };

/* One connection's request: its body, then its generation. */
struct req {
	char *body;
	size_t len;
	bool too_big;
	bool counted;		/* holds one of --max-sessions */
	enum endpoint ep;
	int fd;			/* the /dev/llm session, or -1 */
	int sock;		/* the client's socket */
	bool stream;
	char id[40];
	char model[LLM_NAME_LEN];
	long long created;
	/* streaming */
	char *out;		/* events not yet handed to MHD */
	size_t out_len, out_off;
	char hold[4];		/* an unfinished UTF-8 character */
	size_t hold_len;
	bool role_sent, finished;
	/* chat messages, alive until the turn is submitted */
	json_t *json;
};

static void req_release(struct req *r)
{
	if (r->fd >= 0)
		close(r->fd);	/* stops a generation still running */
	r->fd = -1;
	if (r->counted) {
		pthread_mutex_lock(&stats_lock);
		active--;
		pthread_mutex_unlock(&stats_lock);
		r->counted = false;
	}
}

static void req_free(struct req *r)
{
	req_release(r);
	free(r->body);
	free(r->out);
	json_decref(r->json);
	free(r);
}

/*
 * @n bytes of @s as valid UTF-8 appended to @dst (allocated, @dlen):
 * an unfinished character at the end waits in r->hold for the next
 * piece, a byte that starts no character becomes U+FFFD.
 */
static int utf8_take(struct req *r, const char *s, size_t n, char **dst,
		     size_t *dlen)
{
	size_t cap = r->hold_len + n * 3 + 1, o = 0, i = 0, k, need;
	char *in = malloc(r->hold_len + n), *d = malloc(cap);
	unsigned char c;

	if (!in || !d) {
		free(in);
		free(d);
		return -1;
	}
	memcpy(in, r->hold, r->hold_len);
	memcpy(in + r->hold_len, s, n);
	n += r->hold_len;
	r->hold_len = 0;
	while (i < n) {
		c = in[i];
		need = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 && c >= 0xc2 ? 2 :
		       (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 && c <= 0xf4 ? 4 : 0;
		for (k = 1; need && k < need && i + k < n; k++)
			if (((unsigned char)in[i + k] & 0xc0) != 0x80)
				need = 0;
		if (need && i + need > n) {
			/* unfinished: keep it for the next piece */
			r->hold_len = n - i;
			memcpy(r->hold, in + i, r->hold_len);
			break;
		}
		if (need == 3 && ((c == 0xe0 && (unsigned char)in[i + 1] < 0xa0) ||
				  (c == 0xed && (unsigned char)in[i + 1] >= 0xa0)))
			need = 0;
		if (need == 4 && ((c == 0xf0 && (unsigned char)in[i + 1] < 0x90) ||
				  (c == 0xf4 && (unsigned char)in[i + 1] >= 0x90)))
			need = 0;
		if (!need) {
			memcpy(d + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(d + o, in + i, need);
		o += need;
		i += need;
	}
	free(in);
	*dst = d;
	*dlen = o;
	return 0;
}

/*
 * The next piece of the reply into @buf: > 0 bytes, 0 at its end, -errno
 * (-ECONNRESET: the client went away).  A blocking read() generates in
 * this thread's context and returns each token's text as it is made, so
 * a stream has an event per token; the client's socket is looked at
 * before each, so a client that hangs up stops the generation within a
 * token step.  (poll() on the session would have a kernel worker
 * generate ahead, and hand over several tokens' text at once.)
 */
static ssize_t next_piece(struct req *r, char *buf, size_t cap)
{
	struct pollfd p = { .fd = r->sock, .events = POLLRDHUP };
	ssize_t n;

	for (;;) {
		if (r->sock >= 0 && poll(&p, 1, 0) > 0 &&
		    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return -ECONNRESET;
		n = read(r->fd, buf, cap);
		if (n >= 0)
			return n;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

/* Usage and finish reason of the session's last request. */
static json_t *usage_of(struct req *r, const char **finish)
{
	struct llm_stats st;

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	if (ioctl(r->fd, LLM_IOC_GET_STATS, &st) < 0)
		memset(&st, 0, sizeof(st));
	*finish = st.session_stop_reason == LLM_STOP_EOS ||
		  st.session_stop_reason == LLM_STOP_STRING ? "stop" : "length";
	return json_pack("{s:i,s:i,s:i}",
			 "prompt_tokens", (json_int_t)st.session_prompt_tokens,
			 "completion_tokens", (json_int_t)st.session_generated_tokens,
			 "total_tokens", (json_int_t)st.session_prompt_tokens +
					 st.session_generated_tokens);
}

/* ---- parsing the body --------------------------------------------------- */

struct gen_req {
	struct llm_params p;
	const char *prompt;	/* completions */
	size_t prompt_len;
	struct llm_chat_msg msgs[LLM_CHAT_MAX_MSGS];	/* chat */
	unsigned int n_msgs;
	bool stream;
};

/* A parameter error: 400 naming @param. */
struct bad {
	const char *param;
	char msg[256];
};

static int bad(struct bad *b, const char *param, const char *fmt, ...)
{
	va_list ap;

	b->param = param;
	va_start(ap, fmt);
	vsnprintf(b->msg, sizeof(b->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int get_number(json_t *o, const char *key, double min, double max,
		      bool integer, double *v, struct bad *b)
{
	json_t *x = json_object_get(o, key);

	if (!x || json_is_null(x))
		return 0;
	if (integer ? !json_is_integer(x) : !json_is_number(x))
		return bad(b, key, "'%s' must be %s", key,
			   integer ? "an integer" : "a number");
	*v = json_number_value(x);
	if (*v < min || *v > max)
		return bad(b, key, "'%s' must be from %g to %g", key, min, max);
	return 1;
}

static int parse_common(json_t *o, struct gen_req *g,
			const struct llm_info *info, struct bad *b)
{
	unsigned int lim = info->limits.max_new_tokens;
	json_t *x, *s;
	double v;
	size_t i;
	int ret;

	memset(&g->p, 0, sizeof(g->p));
	g->p.size = sizeof(g->p);
	g->p.max_tokens = lim < 256 ? lim : 256;
	g->p.temperature_milli = 1000;
	g->p.top_p_milli = 1000;
	x = json_object_get(o, "model");
	if (x && !json_is_string(x) && !json_is_null(x))
		return bad(b, "model", "'model' must be a string");
	ret = get_number(o, "max_tokens", 1, lim, true, &v, b);
	if (ret < 0) {
		snprintf(b->msg, sizeof(b->msg),
			 "'max_tokens' must be an integer from 1 to %u (the module's max_new_tokens)",
			 lim);
		return -1;
	}
	if (ret)
		g->p.max_tokens = v;
	if ((ret = get_number(o, "temperature", 0, 100, false, &v, b)) < 0)
		return -1;
	if (ret)
		g->p.temperature_milli = v * 1000 + 0.5;
	if ((ret = get_number(o, "top_p", 0, 1, false, &v, b)) < 0)
		return -1;
	if (ret)
		g->p.top_p_milli = v * 1000 + 0.5;
	if ((ret = get_number(o, "top_k", 0, 1e9, true, &v, b)) < 0)
		return -1;
	if (ret)
		g->p.top_k = v;
	x = json_object_get(o, "seed");
	if (x && !json_is_null(x)) {
		if (!json_is_integer(x) || json_integer_value(x) < 0)
			return bad(b, "seed", "'seed' must be an integer of 0 or more");
		g->p.seed = json_integer_value(x);
	}
	x = json_object_get(o, "n");
	if (x && !json_is_null(x) &&
	    (!json_is_integer(x) || json_integer_value(x) != 1))
		return bad(b, "n", "'n' must be 1: one choice per request");
	x = json_object_get(o, "stream");
	if (x && !json_is_null(x) && !json_is_boolean(x))
		return bad(b, "stream", "'stream' must be true or false");
	g->stream = x && json_is_true(x);
	x = json_object_get(o, "stop");
	if (x && json_is_string(x)) {
		s = x;
		x = json_array();
		json_array_append(x, s);
	} else if (x) {
		json_incref(x);
	}
	if (x && !json_is_null(x)) {
		if (!json_is_array(x) || json_array_size(x) > LLM_STOP_MAX) {
			json_decref(x);
			return bad(b, "stop", "'stop' must be a string or an array of up to %d strings",
				   LLM_STOP_MAX);
		}
		json_array_foreach(x, i, s) {
			size_t l = json_is_string(s) ? json_string_length(s) : 0;

			if (!json_is_string(s) || !l || l >= LLM_STOP_LEN ||
			    memchr(json_string_value(s), 0, l)) {
				json_decref(x);
				return bad(b, "stop", "each stop string must be 1 to %d bytes",
					   LLM_STOP_LEN - 1);
			}
			memcpy(g->p.stop[i], json_string_value(s), l);
		}
	}
	json_decref(x);
	return 0;
}

static int parse_prompt(json_t *o, struct gen_req *g, struct bad *b)
{
	json_t *x = json_object_get(o, "prompt");

	if (json_is_array(x) && json_array_size(x) == 1 &&
	    json_is_string(json_array_get(x, 0)))
		x = json_array_get(x, 0);
	if (!x)
		return bad(b, "prompt", "'prompt' is required");
	if (!json_is_string(x))
		return bad(b, "prompt", "'prompt' must be a string (or an array of one)");
	g->prompt = json_string_value(x);
	g->prompt_len = json_string_length(x);
	if (memchr(g->prompt, 0, g->prompt_len))
		return bad(b, "prompt", "'prompt' may not hold NUL");
	return 0;
}

static int parse_messages(json_t *o, struct gen_req *g, struct bad *b)
{
	json_t *x = json_object_get(o, "messages"), *m, *role, *content;
	const char *rs;
	size_t i;

	if (!x)
		return bad(b, "messages", "'messages' is required");
	if (!json_is_array(x) || !json_array_size(x))
		return bad(b, "messages", "'messages' must be a non-empty array");
	if (json_array_size(x) > LLM_CHAT_MAX_MSGS)
		return bad(b, "messages", "at most %d messages", LLM_CHAT_MAX_MSGS);
	json_array_foreach(x, i, m) {
		char param[40];

		snprintf(param, sizeof(param), "messages[%zu]", i);
		if (!json_is_object(m))
			return bad(b, "messages", "%s must be an object", param);
		role = json_object_get(m, "role");
		content = json_object_get(m, "content");
		rs = json_is_string(role) ? json_string_value(role) : "";
		if (!strcmp(rs, "system") || !strcmp(rs, "developer"))
			g->msgs[i].role = LLM_CHAT_SYSTEM;
		else if (!strcmp(rs, "user"))
			g->msgs[i].role = LLM_CHAT_USER;
		else if (!strcmp(rs, "assistant"))
			g->msgs[i].role = LLM_CHAT_ASSISTANT;
		else
			return bad(b, "messages", "%s.role must be system, user or assistant",
				   param);
		if (!json_is_string(content))
			return bad(b, "messages", "%s.content must be a string", param);
		if (memchr(json_string_value(content), 0,
			   json_string_length(content)))
			return bad(b, "messages", "%s.content may not hold NUL", param);
		g->msgs[i].len = json_string_length(content);
		g->msgs[i].content = (unsigned long)json_string_value(content);
	}
	g->n_msgs = json_array_size(x);
	if (g->msgs[g->n_msgs - 1].role != LLM_CHAT_USER)
		return bad(b, "messages", "the last message must be the user's");
	return 0;
}

/* ---- streaming ---------------------------------------------------------- */

static int out_add(struct req *r, const char *s, size_t n)
{
	char *p = realloc(r->out, r->out_len + n);

	if (!p)
		return -1;
	memcpy(p + r->out_len, s, n);
	r->out = p;
	r->out_len += n;
	return 0;
}

/* "data: JSON\n\n" for a chunk holding @text (NULL: the finish). */
static int out_event(struct req *r, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	int ret;

	json_decref(j);
	if (!s)
		return -1;
	ret = out_add(r, "data: ", 6) || out_add(r, s, strlen(s)) ||
	      out_add(r, "\n\n", 2);
	free(s);
	return ret ? -1 : 0;
}

static json_t *chunk(struct req *r, json_t *choice)
{
	return json_pack("{s:s,s:s,s:I,s:s,s:[o]}", "id", r->id, "object",
			 r->ep == EP_CHAT ? "chat.completion.chunk" :
			 "text_completion", "created", (json_int_t)r->created,
			 "model", r->model, "choices", choice);
}

static json_t *choice_piece(struct req *r, const char *text, size_t len,
			    const char *finish)
{
	json_t *c;

	if (r->ep == EP_CHAT) {
		json_t *delta = json_object();

		if (!r->role_sent) {
			json_object_set_new(delta, "role", json_string("assistant"));
			r->role_sent = true;
		}
		if (text)
			json_object_set_new(delta, "content",
					    json_stringn(text, len));
		c = json_pack("{s:i,s:o,s:O}", "index", 0, "delta", delta,
			      "finish_reason", json_null());
	} else {
		c = json_pack("{s:i,s:s%,s:n,s:O}", "index", 0, "text",
			      text ? text : "", text ? len : 0, "logprobs",
			      "finish_reason", json_null());
	}
	if (finish)
		json_object_set_new(c, "finish_reason", json_string(finish));
	return c;
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct req *r = cls;
	char piece[4096];
	size_t n;

	(void)pos;
	while (r->out_off == r->out_len) {
		ssize_t got;

		r->out_off = r->out_len = 0;
		if (r->finished)
			return MHD_CONTENT_READER_END_OF_STREAM;
		got = next_piece(r, piece, sizeof(piece));
		if (got > 0) {
			char *t;
			size_t tl;

			if (utf8_take(r, piece, got, &t, &tl))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			if (tl && out_event(r, chunk(r, choice_piece(r, t, tl,
								     NULL)))) {
				free(t);
				return MHD_CONTENT_READER_END_WITH_ERROR;
			}
			free(t);
		} else if (got == 0) {
			const char *finish;
			json_t *usage, *j;

			/* an unfinished character at the end: U+FFFD */
			if (r->hold_len) {
				r->hold_len = 0;
				if (out_event(r, chunk(r, choice_piece(r, "\xef\xbf\xbd",
								       3, NULL))))
					return MHD_CONTENT_READER_END_WITH_ERROR;
			}
			usage = usage_of(r, &finish);
			j = chunk(r, choice_piece(r, NULL, 0, finish));
			json_object_set_new(j, "usage", usage);
			if (out_event(r, j) || out_add(r, "data: [DONE]\n\n", 14))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			r->finished = true;
			req_release(r);
		} else if (got == -ECONNRESET) {
			pthread_mutex_lock(&stats_lock);
			n_cancelled++;
			pthread_mutex_unlock(&stats_lock);
			fprintf(stderr, "llmctl serve: %s: the client went away; its generation is stopped\n",
				r->id);
			req_release(r);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		} else {
			struct dev_error e = explain(-got);
			json_t *j;

			j = json_pack("{s:{s:s,s:s,s:n,s:s}}", "error", "message",
				      e.msg, "type", "server_error", "param",
				      "code", e.code);
			if (out_event(r, j) || out_add(r, "data: [DONE]\n\n", 14))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			pthread_mutex_lock(&stats_lock);
			n_errors++;
			pthread_mutex_unlock(&stats_lock);
			r->finished = true;
			req_release(r);
		}
	}
	n = r->out_len - r->out_off;
	if (n > max)
		n = max;
	memcpy(buf, r->out + r->out_off, n);
	r->out_off += n;
	return n;
}

static void stream_free(void *cls)
{
	req_free(cls);
}

/* ---- endpoints ---------------------------------------------------------- */

static enum MHD_Result do_generate(struct MHD_Connection *c, struct req *r)
{
	const union MHD_ConnectionInfo *ci;
	struct llm_info info;
	struct dev_error e;
	struct gen_req *g;
	struct bad b = { 0 };
	json_error_t jerr;
	json_t *o;
	int ret, fd;

	o = json_loadb(r->body ? r->body : "", r->len, JSON_REJECT_DUPLICATES,
		       &jerr);
	if (!o)
		return send_error(c, 400, NULL, "invalid_json",
				  "the body is not valid JSON: %s (line %d, column %d)",
				  jerr.text, jerr.line, jerr.column);
	r->json = o;
	if (!json_is_object(o))
		return send_error(c, 400, NULL, "invalid_json",
				  "the body must be a JSON object");
	/* a place among --max-sessions, then a session of the kernel's */
	pthread_mutex_lock(&stats_lock);
	if (active >= opts.max_sessions) {
		pthread_mutex_unlock(&stats_lock);
		return send_error(c, 429, NULL, "too_many_requests",
				  "%u requests are running, as many as --max-sessions allows; try again later",
				  active);
	}
	active++;
	r->counted = true;
	pthread_mutex_unlock(&stats_lock);
	fd = open(llmctl_dev_path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		e = explain(errno);
		return send_error(c, e.status, NULL, e.code, "%s", e.msg);
	}
	r->fd = fd;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (ioctl(fd, LLM_IOC_GET_INFO, &info) < 0) {
		e = explain(errno);
		return send_error(c, e.status, NULL, e.code, "%s", e.msg);
	}
	if (!(info.flags & LLM_INFO_MODEL_LOADED)) {
		e = explain(ENODATA);
		return send_error(c, e.status, NULL, e.code, "%s", e.msg);
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return send_error(c, 500, NULL, "out_of_memory", "out of memory");
	if (parse_common(o, g, &info, &b) ||
	    (r->ep == EP_COMPLETIONS ? parse_prompt(o, g, &b) :
	     parse_messages(o, g, &b))) {
		free(g);
		return send_error(c, 400, b.param, "invalid_value", "%s", b.msg);
	}
	if (r->ep == EP_CHAT && info.model.chat_template != LLM_CHAT_TEMPLATE_LLAMA3 &&
	    info.model.chat_template != LLM_CHAT_TEMPLATE_CHATML &&
	    info.model.chat_template != LLM_CHAT_TEMPLATE_LLAMA2) {
		free(g);
		return send_error(c, 400, "messages", "no_chat_template",
				  "%s: use /v1/completions",
				  llm_chat_why_not(info.model.chat_template));
	}
	if (ioctl(fd, LLM_IOC_SET_PARAMS, &g->p) < 0) {
		e = explain(errno);
		free(g);
		return send_error(c, e.status, NULL, e.code, "setting parameters: %s",
				  e.msg);
	}
	if (r->ep == EP_CHAT) {
		struct llm_chat ch;

		memset(&ch, 0, sizeof(ch));
		ch.size = sizeof(ch);
		ch.flags = LLM_CHAT_RESET;
		ch.msgs = (unsigned long)g->msgs;
		ch.n_msgs = g->n_msgs;
		ret = ioctl(fd, LLM_IOC_CHAT, &ch);
		if (ret < 0 && errno == EINVAL) {
			free(g);
			return send_error(c, 400, "messages", "invalid_value",
					  "the model's chat template does not take these messages (roles out of order?)");
		}
	} else {
		/* the device drops one trailing newline: add one */
		char *p = malloc(g->prompt_len + 1);

		ret = -1;
		errno = ENOMEM;
		if (p) {
			memcpy(p, g->prompt, g->prompt_len);
			p[g->prompt_len] = '\n';
			ret = write(fd, p, g->prompt_len + 1) < 0 ? -1 : 0;
			free(p);
		}
	}
	if (ret < 0) {
		e = explain(errno);
		free(g);
		return send_error(c, e.status, NULL, e.code, "%s", e.msg);
	}
	r->stream = g->stream;
	free(g);
	json_decref(r->json);
	r->json = NULL;
	pthread_mutex_lock(&stats_lock);
	snprintf(r->id, sizeof(r->id), "%s-%llu",
		 r->ep == EP_CHAT ? "chatcmpl" : "cmpl", ++n_id);
	pthread_mutex_unlock(&stats_lock);
	snprintf(r->model, sizeof(r->model), "%s", model_id(&info));
	r->created = time(NULL);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	r->sock = ci ? ci->connect_fd : -1;

	if (r->stream) {
		struct MHD_Response *resp;
		enum MHD_Result mret;
		struct req *sr = malloc(sizeof(*sr));

		/* the stream takes the request over; the connection's is reset */
		if (!sr)
			return send_error(c, 500, NULL, "out_of_memory", "out of memory");
		*sr = *r;
		sr->body = NULL;
		r->fd = -1;
		r->counted = false;
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
							 stream_reader, sr,
							 stream_free);
		if (!resp) {
			req_free(sr);
			return MHD_NO;
		}
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/event-stream");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
					"no-cache");
		mret = MHD_queue_response(c, MHD_HTTP_OK, resp);
		MHD_destroy_response(resp);
		return mret;
	}

	/* the whole reply, then one JSON object */
	{
		char piece[4096], *text = NULL, *t;
		size_t len = 0, tl;
		const char *finish;
		json_t *usage, *choice, *j;
		ssize_t got;

		while ((got = next_piece(r, piece, sizeof(piece))) > 0) {
			char *nt;

			if (utf8_take(r, piece, got, &t, &tl))
				break;
			nt = realloc(text, len + tl + 1);
			if (!nt) {
				free(t);
				break;
			}
			text = nt;
			memcpy(text + len, t, tl);
			len += tl;
			free(t);
		}
		if (got == -ECONNRESET) {
			pthread_mutex_lock(&stats_lock);
			n_cancelled++;
			pthread_mutex_unlock(&stats_lock);
			fprintf(stderr, "llmctl serve: %s: the client went away; its generation is stopped\n",
				r->id);
			free(text);
			req_release(r);
			return MHD_NO;
		}
		if (got < 0) {
			free(text);
			e = explain(-got);
			return send_error(c, e.status, NULL, e.code, "%s", e.msg);
		}
		if (r->hold_len) {
			/* an unfinished character at the end: U+FFFD */
			char *nt = realloc(text, len + 4);

			if (nt) {
				text = nt;
				memcpy(text + len, "\xef\xbf\xbd", 3);
				len += 3;
			}
			r->hold_len = 0;
		}
		usage = usage_of(r, &finish);
		req_release(r);
		if (r->ep == EP_CHAT)
			choice = json_pack("{s:i,s:{s:s,s:s%},s:s}", "index", 0,
					   "message", "role", "assistant",
					   "content", text ? text : "", len,
					   "finish_reason", finish);
		else
			choice = json_pack("{s:i,s:s%,s:n,s:s}", "index", 0,
					   "text", text ? text : "", len,
					   "logprobs", "finish_reason", finish);
		free(text);
		j = json_pack("{s:s,s:s,s:I,s:s,s:[o],s:o}", "id", r->id,
			      "object", r->ep == EP_CHAT ? "chat.completion" :
			      "text_completion", "created", (json_int_t)r->created,
			      "model", r->model, "choices", choice, "usage", usage);
		return send_json(c, 200, j);
	}
}

static enum MHD_Result do_models(struct MHD_Connection *c)
{
	struct llm_info info;
	struct dev_error e;
	json_t *data;
	int ret = get_info(&info);

	if (ret < 0) {
		e = explain(-ret);
		return send_error(c, e.status, NULL, e.code, "%s", e.msg);
	}
	data = json_array();
	if (info.flags & LLM_INFO_MODEL_LOADED)
		json_array_append_new(data, json_pack(
			"{s:s,s:s,s:i,s:s,s:s,s:I,s:i}", "id", model_id(&info),
			"object", "model", "created", 0, "owned_by", "llm",
			"architecture", info.model.arch, "parameters",
			(json_int_t)info.model.n_params, "context_length",
			(json_int_t)info.model.n_ctx));
	return send_json(c, 200, json_pack("{s:s,s:o}", "object", "list",
					   "data", data));
}

static enum MHD_Result do_health(struct MHD_Connection *c)
{
	struct llm_info info;
	struct dev_error e;
	int ret = get_info(&info);

	if (ret < 0) {
		e = explain(-ret);
		return send_error(c, e.status, NULL, e.code, "%s", e.msg);
	}
	if (!(info.flags & LLM_INFO_MODEL_LOADED)) {
		e = explain(ENODATA);
		return send_error(c, e.status, NULL, e.code, "%s", e.msg);
	}
	return send_json(c, 200, json_pack("{s:s,s:s,s:i,s:i}", "status", "ok",
					   "model", model_id(&info),
					   "sessions_active",
					   (int)info.sessions_active,
					   "sessions_max", (int)info.sessions_max));
}

/* Append to a growing text; on failure the text is dropped. */
static void appendf(char **s, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *n;
	int k;

	if (!*s)
		return;
	va_start(ap, fmt);
	k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	n = realloc(*s, *len + k + 1);
	if (!n) {
		free(*s);
		*s = NULL;
		return;
	}
	*s = n;
	va_start(ap, fmt);
	vsnprintf(*s + *len, k + 1, fmt, ap);
	va_end(ap);
	*len += k;
}

/* The sysfs counters and gauges that are numbers, as Prometheus metrics. */
static const char *const sysfs_numbers[] = {
	"arena_size", "arena_used", "arena_peak", "sessions_max",
	"sessions_active", "requests_running", "requests_computing_peak",
	"model_loaded", "model_params", "model_bytes", "model_layers",
	"model_vocab", "model_context_train", "model_context",
	"model_kv_positions", "model_kv_free", "model_steps",
	"model_steps_batched", "load_bytes_done", "load_bytes_total",
	"requests_total", "errors_total", "tokens_prompt_total",
	"tokens_generated_total", "prefill_tok_per_s", "decode_tok_per_s",
	"max_prompt_bytes", "max_prompt_tokens", "max_new_tokens",
	"max_context", "max_wall_ms",
};

static enum MHD_Result do_metrics(struct MHD_Connection *c)
{
	size_t len = 0, i;
	char *s = calloc(1, 1), path[96], val[64];
	unsigned long long req, err, can;
	unsigned int act;
	enum MHD_Result ret;

	for (i = 0; i < sizeof(sysfs_numbers) / sizeof(sysfs_numbers[0]); i++) {
		const char *name = sysfs_numbers[i];
		FILE *f;
		char *end;
		double v;

		snprintf(path, sizeof(path), "/sys/kernel/llm/%s", name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(val, sizeof(val), f)) {
			fclose(f);
			continue;
		}
		fclose(f);
		v = strtod(val, &end);
		if (end == val || (*end && *end != '\n' && *end != ' '))
			continue;
		appendf(&s, &len, "# TYPE llm_%s %s\nllm_%s %s", name,
			strstr(name, "_total") ? "counter" : "gauge", name, val);
		if (len && s && s[len - 1] != '\n')
			appendf(&s, &len, "\n");
		(void)v;
	}
	pthread_mutex_lock(&stats_lock);
	req = n_requests;
	err = n_errors;
	can = n_cancelled;
	act = active;
	pthread_mutex_unlock(&stats_lock);
	appendf(&s, &len,
		"# HELP llm_serve_requests_total HTTP requests llmctl serve received\n"
		"# TYPE llm_serve_requests_total counter\nllm_serve_requests_total %llu\n"
		"# HELP llm_serve_errors_total requests answered with an error\n"
		"# TYPE llm_serve_errors_total counter\nllm_serve_errors_total %llu\n"
		"# HELP llm_serve_cancelled_total generations stopped because the client went away\n"
		"# TYPE llm_serve_cancelled_total counter\nllm_serve_cancelled_total %llu\n"
		"# HELP llm_serve_active_requests requests generating now\n"
		"# TYPE llm_serve_active_requests gauge\nllm_serve_active_requests %u\n",
		req, err, can, act);
	if (!s)
		return MHD_NO;
	ret = send_text(c, 200, "text/plain; version=0.0.4", s, len);
	free(s);
	return ret;
}

/* ---- dispatch ----------------------------------------------------------- */

/* "Bearer KEY" compared in time that does not depend on where it differs. */
static bool authorized(struct MHD_Connection *c)
{
	const char *h, *key = opts.api_key;
	size_t hl, kl, i;
	unsigned char diff = 0;

	if (!key)
		return true;
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, "Bearer ", 7))
		return false;
	h += 7;
	hl = strlen(h);
	kl = strlen(key);
	for (i = 0; i < kl; i++)
		diff |= key[i] ^ (i < hl ? h[i] : 0);
	return !diff && hl == kl;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct req *r = *con_cls;
	bool post = !strcmp(method, "POST"), get = !strcmp(method, "GET");
	bool gen = !strcmp(url, "/v1/completions") ||
		   !strcmp(url, "/v1/chat/completions");

	(void)cls;
	(void)version;
	if (!r) {
		const char *cl;

		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->fd = -1;
		r->sock = -1;
		*con_cls = r;
		pthread_mutex_lock(&stats_lock);
		n_requests++;
		pthread_mutex_unlock(&stats_lock);
		if (strcmp(url, "/health") && !authorized(c))
			return send_error(c, 401, NULL, "invalid_api_key",
					  "a valid API key is needed: Authorization: Bearer KEY");
		if (gen && !post)
			return send_error(c, 405, NULL, "method_not_allowed",
					  "%s takes POST", url);
		if (!gen && !get && (!strcmp(url, "/health") ||
				     !strcmp(url, "/metrics") ||
				     !strcmp(url, "/v1/models")))
			return send_error(c, 405, NULL, "method_not_allowed",
					  "%s takes GET", url);
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > opts.max_body)
			return send_error(c, 413, NULL, "request_too_large",
					  "the body is over %u bytes (--max-body)",
					  opts.max_body);
		if (!gen)
			goto route;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_big && r->len + *upload_size > opts.max_body) {
			r->too_big = true;
			free(r->body);
			r->body = NULL;
		}
		if (!r->too_big) {
			char *n = realloc(r->body, r->len + *upload_size);

			if (!n)
				return MHD_NO;
			r->body = n;
			memcpy(r->body + r->len, upload, *upload_size);
			r->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->too_big)
		return send_error(c, 413, NULL, "request_too_large",
				  "the body is over %u bytes (--max-body)",
				  opts.max_body);
route:
	if (!strcmp(url, "/v1/completions")) {
		r->ep = EP_COMPLETIONS;
		return do_generate(c, r);
	}
	if (!strcmp(url, "/v1/chat/completions")) {
		r->ep = EP_CHAT;
		return do_generate(c, r);
	}
	if (!strcmp(url, "/v1/models"))
		return do_models(c);
	if (!strcmp(url, "/health"))
		return do_health(c);
	if (!strcmp(url, "/metrics"))
		return do_metrics(c);
	return send_error(c, 404, NULL, "not_found", "no endpoint %s %s",
			  method, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	if (*con_cls)
		req_free(*con_cls);
	*con_cls = NULL;
}

/* libmicrohttpd's messages, said to be its */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("llmctl serve: libmicrohttpd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'P' },
		{ "api-key", required_argument, NULL, 'K' },
		{ "max-sessions", required_argument, NULL, 'N' },
		{ "max-body", required_argument, NULL, 'B' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	struct sigaction act_sig;
	sigset_t set, old;
	int c;

	memset(&opts, 0, sizeof(opts));
	inet_pton(AF_INET, "127.0.0.1", &opts.host);
	opts.port = 8080;
	opts.max_sessions = 4;
	opts.max_body = 1 << 20;
	opts.timeout = 60;
	opts.api_key = getenv("LLM_API_KEY");
	if (opts.api_key && !*opts.api_key)
		opts.api_key = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			if (inet_pton(AF_INET, optarg, &opts.host) != 1) {
				fprintf(stderr, "llmctl serve: --host takes an IPv4 address, not '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'P':
			if (llmctl_parse_dec(optarg, 1, 65535, &opts.port))
				goto bad;
			break;
		case 'K':
			if (!*optarg) {
				fprintf(stderr, "llmctl serve: --api-key may not be empty\n");
				return EXIT_USAGE;
			}
			opts.api_key = optarg;
			break;
		case 'N':
			if (llmctl_parse_dec(optarg, 1, 1024, &opts.max_sessions))
				goto bad;
			break;
		case 'B':
			if (llmctl_parse_dec(optarg, 64, 1u << 30, &opts.max_body))
				goto bad;
			break;
		case 'T':
			if (llmctl_parse_dec(optarg, 1, 86400, &opts.timeout))
				goto bad;
			break;
		case 'h':
			help_serve(stdout);
			return EXIT_OK;
		default:
			help_serve(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "llmctl serve: unexpected argument '%s'\n",
			argv[optind]);
		return EXIT_USAGE;
	}

	/* signals go to this thread only, which waits for them */
	signal(SIGPIPE, SIG_IGN);
	memset(&act_sig, 0, sizeof(act_sig));
	act_sig.sa_handler = on_signal;
	sigaction(SIGINT, &act_sig, NULL);
	sigaction(SIGTERM, &act_sig, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(opts.port);
	sa.sin_addr = opts.host;
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
			     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
			     opts.port, NULL, NULL, handler, NULL,
			     MHD_OPTION_SOCK_ADDR, &sa,
			     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			     MHD_OPTION_CONNECTION_TIMEOUT, opts.timeout,
			     MHD_OPTION_CONNECTION_LIMIT,
			     opts.max_sessions * 4 + 16,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
			     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "llmctl serve: cannot listen on %s:%u: %s\n",
			inet_ntoa(opts.host), opts.port, strerror(errno));
		return EXIT_FAIL;
	}
	fprintf(stderr, "llmctl serve: listening on http://%s:%u/%s\n",
		inet_ntoa(opts.host), opts.port,
		opts.api_key ? " (API key required)" : "");
	if (!opts.api_key && ntohl(opts.host.s_addr) >> 24 != 127)
		fprintf(stderr, "llmctl serve: warning: anyone who can reach this address may use the model: consider --api-key\n");
	if (geteuid() == 0)
		fprintf(stderr, "llmctl serve: note: running as root is not needed; any user with access to %s may serve\n",
			llmctl_dev_path);
	while (!stopping)
		sigsuspend(&old);
	fprintf(stderr, "llmctl serve: stopping\n");
	MHD_stop_daemon(d);
	return EXIT_OK;
bad:
	fprintf(stderr, "llmctl serve: bad value '%s' for --%s\n", optarg,
		longopts[c == 'P' ? 1 : c == 'N' ? 3 : c == 'B' ? 4 : 5].name);
	return EXIT_USAGE;
}
