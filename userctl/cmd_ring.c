// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl ring: this machine as one node of a network ring of machines that
 * split a model's layers (LLM_IOC_NODE_SET, LLM_IOC_NODE_GET): bring the
 * node up or down, show its links and counters, or wait for the links.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>

#include "llmctl.h"
#include "../uapi/llm.h"

#define RING_PORT	7000
#define RING_MTU	1500
#define RING_MTU_MIN	576
#define RING_MTU_MAX	9000
#define RING_ID		1
#define RING_TIMEOUT	30
#define RING_POLL_MS	100

void help_ring(FILE *out)
{
	fprintf(out,
		"usage: llmctl ring [status] [--json]\n"
		"       llmctl ring up --node K --nodes N --layers FIRST:LAST\n"
		"                      --prev ADDR[:PORT] --next ADDR[:PORT]\n"
		"                      (--key-file FILE | --key HEX)\n"
		"                      [--port P] [--mtu M] [--ring-id ID]\n"
		"       llmctl ring down\n"
		"       llmctl ring wait [--timeout SECONDS]\n"
		"\n"
		"Split a model's layers over a ring of machines, each of which is\n"
		"one node of the ring and runs a range of the layers.  Node 0, the\n"
		"head, takes the requests (through /dev/llm as usual) and runs the\n"
		"embedding and its layers, and sends the hidden states over UDP to\n"
		"the next node; each node runs its layers and sends them on; the\n"
		"last node computes the logits and samples, and the token goes\n"
		"back to the head.  Packets are authenticated and encrypted with\n"
		"the ring's pre-shared key.  Every node loads the same model first,\n"
		"whole (llmctl load) or only its own layers (llmctl load --layers\n"
		"FIRST:LAST); loading or unloading one takes the node down.\n"
		"Requests go to the head only.  The node belongs to the caller's\n"
		"network namespace, and a kernel has one node up at a time.  All\n"
		"of this needs CAP_NET_ADMIN or CAP_SYS_ADMIN (run as root).\n"
		"\n"
		"Commands:\n"
		"  status   (the default) show the node, its links and counters\n"
		"  up       join the ring, or change the node's configuration\n"
		"  down     leave the ring: requests that use it fail\n"
		"  wait     wait until the node and both its links are up\n"
		"\n"
		"Options of up:\n"
		"  --node K             this node's id, 0 (the head) to N-1\n"
		"  --nodes N            nodes in the ring, 2 to %d\n"
		"  --layers FIRST:LAST  the layers this node runs: FIRST up to but\n"
		"                       not including LAST, so node 0's FIRST is 0\n"
		"                       and the last node's LAST is the model's\n"
		"                       layer count (see llmctl info)\n"
		"  --prev ADDR[:PORT]   node K-1 (mod N), which sends to this one:\n"
		"                       its IPv4 address as a dotted quad (names\n"
		"                       are not looked up) and UDP port (default:\n"
		"                       --port)\n"
		"  --next ADDR[:PORT]   node K+1 (mod N), which this one sends to;\n"
		"                       in a ring of 2 both are the other node: give\n"
		"                       the same ADDR[:PORT] twice\n"
		"  --port P             this node's UDP port, 1 to 65535 (default %d)\n"
		"  --mtu M              largest IP packet the ring sends, %d to %d\n"
		"                       (default %d); the ring never relies on IP\n"
		"                       fragmentation, so M must fit the path\n"
		"  --ring-id ID         names the ring, 0 to 4294967295: packets of\n"
		"                       another ring are dropped (default %d)\n"
		"  --key-file FILE      the ring's key: a file of 32 raw bytes, or of\n"
		"                       64 hex digits and an optional newline\n"
		"  --key HEX            the key as 64 hex digits.  Other users can\n"
		"                       read it in the process list (ps): prefer\n"
		"                       --key-file\n"
		"\n"
		"Every node of a ring has the same --nodes, --ring-id and key;\n"
		"node K's --next is node K+1's address and port, and its LAST is\n"
		"node K+1's FIRST.  Make a key once and copy it to every node:\n"
		"  (umask 077; head -c 32 /dev/urandom > ring.key)\n"
		"up prints one line; the links then agree on keys with their peers,\n"
		"and llmctl ring wait says when they have.  up on a node that is\n"
		"up changes its configuration: to change the split, run up with\n"
		"the new ranges on every node (requests running on the head\n"
		"meanwhile fail).\n"
		"\n"
		"status prints whether this namespace's node is up and, if it is,\n"
		"its configuration, each of its links (to prev and to next; a\n"
		"ring of 2 has one) and its totals; drop causes without drops are\n"
		"left out.  With --json it prints one JSON object, each member on\n"
		"a line of its own and each link on one line, with these keys:\n"
		"  up              true or false; when false, the only key\n"
		"  ring_id node nodes layer_first layer_last port mtu\n"
		"                  the configuration, as up set it\n"
		"  prev, next      {\"node\", \"addr\" (a string), \"port\"}\n"
		"  links           one or two objects, each with:\n"
		"    to            \"prev\", \"next\", or \"both\" in a ring of 2\n"
		"    node addr port  the peer\n"
		"    state         \"none\" (not configured), \"handshake\" (agreeing\n"
		"                  on keys), \"up\", or \"dead\" (retries ran out;\n"
		"                  handshaking again)\n"
		"    rtt_ms        smoothed round trip time (0: none measured yet)\n"
		"    rto_ms        retransmission timeout now\n"
		"    packets_in packets_out bytes_in bytes_out\n"
		"                  UDP payloads\n"
		"    frames_in frames_out\n"
		"                  frames delivered, and sent and acknowledged\n"
		"    retransmits   fragments sent again\n"
		"    nacks_in nacks_out\n"
		"                  requests for missing fragments\n"
		"    dup_frames    frames received again\n"
		"    reasm_timeouts  frames dropped half-received\n"
		"    handshakes    key agreements completed\n"
		"    deaths        times the link was declared dead\n"
		"    drops         packets dropped, by cause: {\"not_peer\" (from\n"
		"                  no peer), \"malformed\", \"checksum\" (UDP's),\n"
		"                  \"bad_tag\" (failed authentication), \"replay\",\n"
		"                  \"oversized\", \"stale\" (another ring,\n"
		"                  configuration or handshake), \"no_buffer\" (no\n"
		"                  reassembly slot or queue room), \"fragment\"\n"
		"                  (an IP fragment)}\n"
		"  frames          frames of hidden states this node computed on\n"
		"  steps           head: steps sent round the ring and answered\n"
		"  step_errors     head: steps that failed (dead peer, timeout)\n"
		"  compute_ms      time running this node's layers\n"
		"  wait_ms         head: time waiting for the ring's answers\n"
		"  slots_used slots  reassembly buffers in use, and reserved\n"
		"  unknown_drops   packets to the port from no peer\n"
		"Times are in ms with 3 decimals.\n"
		"\n"
		"wait asks every %d ms until this namespace's node is up and its\n"
		"links are in state up, then prints one line and exits 0.\n"
		"  --timeout SECONDS    give up after SECONDS (default %d; 0.5 works)\n"
		"                       and exit 1, saying which link is not up\n"
		"\n"
		"Example: a 12-layer model on 10.0.0.1, 10.0.0.2 and 10.0.0.3:\n"
		"  10.0.0.1# llmctl ring up --node 0 --nodes 3 --layers 0:4 \\\n"
		"                --prev 10.0.0.3 --next 10.0.0.2 --key-file ring.key\n"
		"  10.0.0.2# llmctl ring up --node 1 --nodes 3 --layers 4:8 \\\n"
		"                --prev 10.0.0.1 --next 10.0.0.3 --key-file ring.key\n"
		"  10.0.0.3# llmctl ring up --node 2 --nodes 3 --layers 8:12 \\\n"
		"                --prev 10.0.0.2 --next 10.0.0.1 --key-file ring.key\n"
		"  10.0.0.1# llmctl ring wait && llmctl generate \"Once upon a time\"\n"
		"\n"
		"Exit status: 0 success; 1 failure (wait: not up in time); 2 bad\n"
		"command line; 3 module not loaded; 4 no model loaded (up);\n"
		"5 permission denied.\n",
		LLM_NODE_MAX, RING_PORT, RING_MTU_MIN, RING_MTU_MAX, RING_MTU,
		RING_ID, RING_POLL_MS, RING_TIMEOUT);
}

static const char *const drop_names[LLM_DROP_CAUSES] = {
	[LLM_DROP_NOT_PEER] = "not_peer",
	[LLM_DROP_MALFORMED] = "malformed",
	[LLM_DROP_CHECKSUM] = "checksum",
	[LLM_DROP_BAD_TAG] = "bad_tag",
	[LLM_DROP_REPLAY] = "replay",
	[LLM_DROP_OVERSIZED] = "oversized",
	[LLM_DROP_STALE] = "stale",
	[LLM_DROP_NO_BUFFER] = "no_buffer",
	[LLM_DROP_FRAGMENT] = "fragment",
};

static const char *state_name(__u32 state)
{
	switch (state) {
	case LLM_LINK_NONE:
		return "none";
	case LLM_LINK_HANDSHAKE:
		return "handshake";
	case LLM_LINK_UP:
		return "up";
	case LLM_LINK_DEAD:
		return "dead";
	default:
		return "unknown";
	}
}

/*
 * Why an ioctl of the ring failed, as "llmctl ring OP: strerror (ENAME):
 * hint".  Returns the exit code.
 */
static int ring_explain(int fd, const char *op, int err,
			const struct llm_node_config *c)
{
	const char *name = NULL, *hint = NULL;
	struct llm_info info;
	char buf[256];

	switch (err) {
	case ENOTTY:
		/* Is it an llm device at all? */
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		if (ioctl(fd, LLM_IOC_GET_INFO, &info) < 0 && errno == ENOTTY)
			fprintf(stderr, "llmctl ring %s: %s is not the llm device (ENOTTY)\n",
				op, llmctl_dev_path);
		else
			fprintf(stderr, "llmctl ring %s: the loaded llm module has no ring support (ENOTTY)\n",
				op);
		return EXIT_FAIL;
	case EPERM:
		name = "EPERM";
		hint = "this needs CAP_NET_ADMIN or CAP_SYS_ADMIN (run as root)";
		break;
	case ENODATA:
		name = "ENODATA";
		if (c)
			hint = "no model is loaded: load the ring's model on this node first (llmctl load MODEL.gguf)";
		break;
	case EBUSY:
		name = "EBUSY";
		hint = "another network namespace's node is up: a kernel has one at a time (take it down there with llmctl ring down)";
		break;
	case EADDRINUSE:
		name = "EADDRINUSE";
		if (c) {
			snprintf(buf, sizeof(buf),
				 "UDP port %u is taken in this network namespace (choose another --port)",
				 c->port);
			hint = buf;
		}
		break;
	case ENOMEM:
		name = "ENOMEM";
		hint = "the arena cannot hold the node's buffers (load the module with a larger arena_mb, or set a smaller ring_slots)";
		break;
	case EMSGSIZE:
		name = "EMSGSIZE";
		if (c) {
			snprintf(buf, sizeof(buf),
				 "--mtu %u is too small for this model: a prompt batch would need more than 2048 packets (raise --mtu)",
				 c->mtu);
			hint = buf;
		}
		break;
	case EINVAL:
		name = "EINVAL";
		if (!c) {
			hint = "the module refused the request as invalid (llmctl and llm.ko versions differ?)";
			break;
		}
		/* Which of the module's checks against the model failed? */
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		if (ioctl(fd, LLM_IOC_GET_INFO, &info) == 0 &&
		    (info.flags & LLM_INFO_MODEL_LOADED)) {
			__u32 n = info.model.n_layers;

			if (c->layer_last > n)
				snprintf(buf, sizeof(buf),
					 "--layers %u:%u goes past the loaded model's %u layers",
					 c->layer_first, c->layer_last, n);
			else if (c->node == 0 && c->layer_first != 0)
				snprintf(buf, sizeof(buf),
					 "node 0, the head, runs the embedding, so its --layers start at 0");
			else if (c->node == c->n_nodes - 1 && c->layer_last != n)
				snprintf(buf, sizeof(buf),
					 "node %u, the last, computes the logits, so its --layers end at the model's layer count, %u",
					 c->node, n);
			else
				snprintf(buf, sizeof(buf),
					 "the module refused the configuration, though --layers %u:%u fits the loaded model's %u layers (llmctl and llm.ko versions differ?)",
					 c->layer_first, c->layer_last, n);
			hint = buf;
		} else {
			hint = "the module refused the configuration (does --layers fit the loaded model? see llmctl info)";
		}
		break;
	case ERANGE:
		name = "ERANGE";
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		if (c && ioctl(fd, LLM_IOC_GET_INFO, &info) == 0 &&
		    info.size > offsetof(struct llm_info, layer_end)) {
			snprintf(buf, sizeof(buf),
				 "this node's model holds only layers %u:%u (llmctl load --layers), not all of --layers %u:%u",
				 info.layer_first, info.layer_end,
				 c->layer_first, c->layer_last);
			hint = buf;
		}
		break;
	case ENOENT:
	case ENOTCONN:
		name = err == ENOENT ? "ENOENT" : "ENOTCONN";
		if (!strcmp(op, "down"))
			hint = "this network namespace has no node up";
		break;
	default:
		break;
	}
	fprintf(stderr, "llmctl ring %s: %s", op, strerror(err));
	if (name)
		fprintf(stderr, " (%s)", name);
	if (hint)
		fprintf(stderr, ": %s", hint);
	fputc('\n', stderr);
	if (err == EPERM)
		return EXIT_PERM;
	if (err == ENODATA)
		return EXIT_NOMODEL;
	return EXIT_FAIL;
}

static int node_get(int fd, struct llm_node_status *st, const char *op)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	if (ioctl(fd, LLM_IOC_NODE_GET, st) < 0)
		return ring_explain(fd, op, errno, NULL);
	return 0;
}

/* @addr (network byte order) as a dotted quad. */
static void fmt_addr(char a[INET_ADDRSTRLEN], __u32 addr)
{
	struct in_addr in = { .s_addr = addr };

	if (!inet_ntop(AF_INET, &in, a, INET_ADDRSTRLEN))
		strcpy(a, "?");
}

static void fmt_peer(char *buf, size_t len, const struct llm_node_peer *p)
{
	char a[INET_ADDRSTRLEN];

	fmt_addr(a, p->addr);
	snprintf(buf, len, "%s:%u", a, p->port);
}

/* @v thousandths as "N.NNN". */
static void print_milli(unsigned long long v)
{
	printf("%llu.%03llu", v / 1000, v % 1000);
}

static int n_links(const struct llm_node_status *st)
{
	return st->config.n_nodes == 2 ? 1 : 2;
}

static const char *link_to(const struct llm_node_status *st, int i)
{
	if (n_links(st) == 1)
		return "both";
	return i ? "next" : "prev";
}

static void print_text(const struct llm_node_status *st)
{
	const struct llm_node_config *c = &st->config;
	char peer[32];
	int i, d;

	if (!st->up) {
		printf("%-18s down (no node in this network namespace)\n",
		       "status");
		return;
	}
	printf("%-18s up\n", "status");
	printf("%-18s %u\n", "ring_id", c->ring_id);
	printf("%-18s %u of %u%s\n", "node", c->node, c->n_nodes,
	       c->node == 0 ? " (the head)" :
	       c->node == c->n_nodes - 1 ? " (the last)" : "");
	printf("%-18s %u:%u\n", "layers", c->layer_first, c->layer_last);
	printf("%-18s %u\n", "port", c->port);
	printf("%-18s %u\n", "mtu", c->mtu);
	fmt_peer(peer, sizeof(peer), &c->prev);
	printf("%-18s node %u, %s\n", "prev", c->prev.node, peer);
	fmt_peer(peer, sizeof(peer), &c->next);
	printf("%-18s node %u, %s\n", "next", c->next.node, peer);

	for (i = 0; i < n_links(st); i++) {
		const struct llm_node_link *l = &st->links[i];
		bool any = false;

		fmt_peer(peer, sizeof(peer), &l->peer);
		printf("\nlink to %s: node %u, %s\n",
		       n_links(st) == 1 ? "prev and next" : i ? "next" : "prev",
		       l->peer.node, peer);
		printf("  %-16s %s\n", "state", state_name(l->state));
		printf("  %-16s ", "rtt");
		print_milli(l->rtt_us);
		printf(" ms%s\n", l->rtt_us ? "" : " (none measured yet)");
		printf("  %-16s ", "rto");
		print_milli(l->rto_us);
		printf(" ms\n");
		printf("  %-16s in %llu, out %llu\n", "packets",
		       (unsigned long long)l->packets_in,
		       (unsigned long long)l->packets_out);
		printf("  %-16s in %llu, out %llu\n", "bytes",
		       (unsigned long long)l->bytes_in,
		       (unsigned long long)l->bytes_out);
		printf("  %-16s in %llu, out %llu\n", "frames",
		       (unsigned long long)l->frames_in,
		       (unsigned long long)l->frames_out);
		printf("  %-16s %llu\n", "retransmits",
		       (unsigned long long)l->retransmits);
		printf("  %-16s in %llu, out %llu\n", "nacks",
		       (unsigned long long)l->nacks_in,
		       (unsigned long long)l->nacks_out);
		printf("  %-16s %llu\n", "dup_frames",
		       (unsigned long long)l->dup_frames);
		printf("  %-16s %llu\n", "reasm_timeouts",
		       (unsigned long long)l->reasm_timeouts);
		printf("  %-16s %llu\n", "handshakes",
		       (unsigned long long)l->handshakes);
		printf("  %-16s %llu\n", "deaths",
		       (unsigned long long)l->deaths);
		printf("  %-16s", "drops");
		for (d = 0; d < LLM_DROP_CAUSES; d++) {
			if (!l->drops[d])
				continue;
			printf("%s %s %llu", any ? "," : "", drop_names[d],
			       (unsigned long long)l->drops[d]);
			any = true;
		}
		printf("%s\n", any ? "" : " none");
	}

	printf("\ntotals\n");
	printf("  %-16s %llu\n", "frames", (unsigned long long)st->frames);
	printf("  %-16s %llu\n", "steps", (unsigned long long)st->steps);
	printf("  %-16s %llu\n", "step_errors",
	       (unsigned long long)st->step_errors);
	printf("  %-16s ", "compute");
	print_milli(st->compute_ns / 1000);
	printf(" ms\n");
	printf("  %-16s ", "wait");
	print_milli(st->wait_ns / 1000);
	printf(" ms\n");
	printf("  %-16s %u used of %u reserved\n", "slots", st->slots_used,
	       st->slots);
	printf("  %-16s %llu\n", "unknown_drops",
	       (unsigned long long)st->unknown_drops);
}

static void json_peer(const char *key, const struct llm_node_peer *p)
{
	char a[INET_ADDRSTRLEN];

	fmt_addr(a, p->addr);
	printf("  \"%s\": {\"node\": %u, \"addr\": \"%s\", \"port\": %u},\n",
	       key, p->node, a, p->port);
}

static void print_json(const struct llm_node_status *st)
{
	const struct llm_node_config *c = &st->config;
	char a[INET_ADDRSTRLEN];
	int i, d;

	if (!st->up) {
		printf("{\n  \"up\": false\n}\n");
		return;
	}
	printf("{\n  \"up\": true,\n");
	printf("  \"ring_id\": %u,\n", c->ring_id);
	printf("  \"node\": %u,\n", c->node);
	printf("  \"nodes\": %u,\n", c->n_nodes);
	printf("  \"layer_first\": %u,\n", c->layer_first);
	printf("  \"layer_last\": %u,\n", c->layer_last);
	printf("  \"port\": %u,\n", c->port);
	printf("  \"mtu\": %u,\n", c->mtu);
	json_peer("prev", &c->prev);
	json_peer("next", &c->next);
	printf("  \"links\": [\n");
	for (i = 0; i < n_links(st); i++) {
		const struct llm_node_link *l = &st->links[i];

		fmt_addr(a, l->peer.addr);
		printf("    {\"to\": \"%s\", \"node\": %u, \"addr\": \"%s\", \"port\": %u, \"state\": \"%s\", ",
		       link_to(st, i), l->peer.node, a, l->peer.port,
		       state_name(l->state));
		printf("\"rtt_ms\": ");
		print_milli(l->rtt_us);
		printf(", \"rto_ms\": ");
		print_milli(l->rto_us);
		printf(", \"packets_in\": %llu, \"packets_out\": %llu, \"bytes_in\": %llu, \"bytes_out\": %llu",
		       (unsigned long long)l->packets_in,
		       (unsigned long long)l->packets_out,
		       (unsigned long long)l->bytes_in,
		       (unsigned long long)l->bytes_out);
		printf(", \"frames_in\": %llu, \"frames_out\": %llu, \"retransmits\": %llu, \"nacks_in\": %llu, \"nacks_out\": %llu",
		       (unsigned long long)l->frames_in,
		       (unsigned long long)l->frames_out,
		       (unsigned long long)l->retransmits,
		       (unsigned long long)l->nacks_in,
		       (unsigned long long)l->nacks_out);
		printf(", \"dup_frames\": %llu, \"reasm_timeouts\": %llu, \"handshakes\": %llu, \"deaths\": %llu",
		       (unsigned long long)l->dup_frames,
		       (unsigned long long)l->reasm_timeouts,
		       (unsigned long long)l->handshakes,
		       (unsigned long long)l->deaths);
		printf(", \"drops\": {");
		for (d = 0; d < LLM_DROP_CAUSES; d++)
			printf("%s\"%s\": %llu", d ? ", " : "", drop_names[d],
			       (unsigned long long)l->drops[d]);
		printf("}}%s\n", i + 1 < n_links(st) ? "," : "");
	}
	printf("  ],\n");
	printf("  \"frames\": %llu,\n", (unsigned long long)st->frames);
	printf("  \"steps\": %llu,\n", (unsigned long long)st->steps);
	printf("  \"step_errors\": %llu,\n",
	       (unsigned long long)st->step_errors);
	printf("  \"compute_ms\": ");
	print_milli(st->compute_ns / 1000);
	printf(",\n  \"wait_ms\": ");
	print_milli(st->wait_ns / 1000);
	printf(",\n");
	printf("  \"slots_used\": %u,\n", st->slots_used);
	printf("  \"slots\": %u,\n", st->slots);
	printf("  \"unknown_drops\": %llu\n}\n",
	       (unsigned long long)st->unknown_drops);
}

enum {
	OPT_NODE = 256, OPT_NODES, OPT_LAYERS, OPT_PREV, OPT_NEXT,
	OPT_PORT, OPT_MTU, OPT_RING_ID, OPT_KEY_FILE, OPT_KEY,
	OPT_JSON, OPT_TIMEOUT,
};

/* The options of up. */
static const struct option up_opts[] = {
	{ "node", required_argument, NULL, OPT_NODE },
	{ "nodes", required_argument, NULL, OPT_NODES },
	{ "layers", required_argument, NULL, OPT_LAYERS },
	{ "prev", required_argument, NULL, OPT_PREV },
	{ "next", required_argument, NULL, OPT_NEXT },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "ring-id", required_argument, NULL, OPT_RING_ID },
	{ "key-file", required_argument, NULL, OPT_KEY_FILE },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Is @arg "--NAME" or "--NAME=..." with NAME an option of up? */
static bool is_up_opt(const char *arg)
{
	const struct option *o;
	size_t len;

	if (strncmp(arg, "--", 2))
		return false;
	arg += 2;
	len = strcspn(arg, "=");
	for (o = up_opts; o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, arg, len) &&
		    o->val != 'h')
			return true;
	return false;
}

/*
 * The options of status (@json), down (neither) and wait (@timeout_ms):
 * 0, -1 after --help, or an exit code.
 */
static int short_args(int argc, char **argv, const char *op, bool *json,
		      unsigned int *timeout_ms)
{
	static const struct option status_opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option wait_opts[] = {
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option down_opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct option *longopts =
		json ? status_opts : timeout_ms ? wait_opts : down_opts;
	const char *arg;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			help_ring(stdout);
			return -1;
		case OPT_JSON:
			*json = true;
			break;
		case OPT_TIMEOUT:
			if (optarg[strspn(optarg, "0123456789.")] ||
			    llmctl_parse_milli(optarg, 86400000, timeout_ms)) {
				fprintf(stderr, "llmctl ring wait: --timeout wants seconds, from 0 to 86400, not '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case ':':
			fprintf(stderr, "llmctl ring %s: %s needs a value\n",
				op, argv[optind - 1]);
			return EXIT_USAGE;
		default:
			arg = argv[optind - 1];
			if (optopt && !strncmp(arg, "--", 2)) {
				/* a known option, given a value it does not take */
				fprintf(stderr, "llmctl ring %s: %.*s takes no value\n",
					op, (int)strcspn(arg, "="), arg);
				return EXIT_USAGE;
			}
			fprintf(stderr, "llmctl ring %s: unknown option '%s'%s\n",
				op, arg, is_up_opt(arg) ?
				" (it is an option of up: llmctl ring up ...)" :
				"");
			help_ring(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "llmctl ring %s: unexpected argument '%s'\n",
			op, argv[optind]);
		help_ring(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

static int ring_status(int argc, char **argv)
{
	struct llm_node_status st;
	bool json = false;
	int fd, ret;

	ret = short_args(argc, argv, "status", &json, NULL);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	fd = llmctl_open_dev(O_RDONLY);
	if (fd < 0)
		return -fd;
	ret = node_get(fd, &st, "status");
	close(fd);
	if (ret)
		return ret;
	if (json)
		print_json(&st);
	else
		print_text(&st);
	return EXIT_OK;
}

static int ring_down(int argc, char **argv)
{
	struct llm_node_config c;
	int fd, ret;

	ret = short_args(argc, argv, "down", NULL, NULL);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	fd = llmctl_open_dev(O_RDWR);
	if (fd < 0)
		return -fd;
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.op = LLM_NODE_DOWN;
	ret = EXIT_OK;
	if (ioctl(fd, LLM_IOC_NODE_SET, &c) < 0)
		ret = ring_explain(fd, "down", errno, NULL);
	close(fd);
	return ret;
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static bool ring_ready(const struct llm_node_status *st)
{
	int i;

	if (!st->up)
		return false;
	for (i = 0; i < n_links(st); i++)
		if (st->links[i].state != LLM_LINK_UP)
			return false;
	return true;
}

/* What a link in @state that is not up is doing, for wait. */
static const char *link_why(__u32 state)
{
	switch (state) {
	case LLM_LINK_NONE:
		return "is not configured";
	case LLM_LINK_HANDSHAKE:
		return "is still handshaking (is the peer up, with the same key and ring id, and is its UDP port reachable?)";
	case LLM_LINK_DEAD:
		return "is dead: its retries ran out, and it is handshaking again";
	default:
		return "is in an unknown state";
	}
}

/* Say which link is not up, after @ms of waiting. */
static void not_ready(const struct llm_node_status *st, unsigned int ms)
{
	char secs[32], peer[32];
	int i;

	snprintf(secs, sizeof(secs), "%u.%03u", ms / 1000, ms % 1000);
	/* "30.000" reads better as "30", "0.500" as "0.5" */
	while (secs[strlen(secs) - 1] == '0')
		secs[strlen(secs) - 1] = 0;
	if (secs[strlen(secs) - 1] == '.')
		secs[strlen(secs) - 1] = 0;
	if (!st->up) {
		fprintf(stderr, "llmctl ring wait: after %s s this network namespace's node is not up (llmctl ring up)\n",
			secs);
		return;
	}
	for (i = 0; i < n_links(st); i++) {
		const struct llm_node_link *l = &st->links[i];

		if (l->state == LLM_LINK_UP)
			continue;
		fmt_peer(peer, sizeof(peer), &l->peer);
		fprintf(stderr, "llmctl ring wait: after %s s the link to %s (node %u, %s) %s\n",
			secs, n_links(st) == 1 ? "prev and next" :
			i ? "next" : "prev", l->peer.node, peer,
			link_why(l->state));
	}
}

static int ring_wait(int argc, char **argv)
{
	unsigned int timeout_ms = RING_TIMEOUT * 1000;
	struct timespec tick = { 0, RING_POLL_MS * 1000000L };
	struct llm_node_status st;
	unsigned long long start;
	int fd, ret;

	ret = short_args(argc, argv, "wait", NULL, &timeout_ms);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	fd = llmctl_open_dev(O_RDONLY);
	if (fd < 0)
		return -fd;
	start = now_ms();
	for (;;) {
		ret = node_get(fd, &st, "wait");
		if (ret)
			break;
		if (ring_ready(&st)) {
			if (n_links(&st) == 1)
				printf("node %u of %u is up, and its link to node %u is up\n",
				       st.config.node, st.config.n_nodes,
				       st.config.prev.node);
			else
				printf("node %u of %u is up, and its links to nodes %u and %u are up\n",
				       st.config.node, st.config.n_nodes,
				       st.config.prev.node,
				       st.config.next.node);
			break;
		}
		if (now_ms() - start >= timeout_ms) {
			not_ready(&st, timeout_ms);
			ret = EXIT_FAIL;
			break;
		}
		nanosleep(&tick, NULL);
	}
	close(fd);
	return ret;
}

/* --prev/--next ADDR[:PORT]; a port of 0 means --port's. */
static int parse_peer(const char *opt, const char *arg,
		      struct llm_node_peer *p)
{
	char addr[INET_ADDRSTRLEN];
	const char *colon = strchr(arg, ':');
	size_t len = colon ? (size_t)(colon - arg) : strlen(arg);
	unsigned int port = 0;
	struct in_addr in;
	__u32 h;

	if (len >= sizeof(addr))
		goto bad_addr;
	memcpy(addr, arg, len);
	addr[len] = 0;
	if (inet_pton(AF_INET, addr, &in) != 1)
		goto bad_addr;
	h = ntohl(in.s_addr);
	if (h == 0 || h == 0xffffffffu || (h >> 28) == 0xe) {
		fprintf(stderr, "llmctl ring up: --%s %s is not the address of one machine\n",
			opt, addr);
		return -1;
	}
	if (colon && llmctl_parse_dec(colon + 1, 1, 65535, &port)) {
		fprintf(stderr, "llmctl ring up: the port in --%s %s must be a number from 1 to 65535\n",
			opt, arg);
		return -1;
	}
	p->addr = in.s_addr;
	p->port = port;
	return 0;

bad_addr:
	fprintf(stderr, "llmctl ring up: --%s '%s' is not an IPv4 address (a dotted quad such as 10.0.0.2, optionally with :PORT; names are not looked up)\n",
		opt, arg);
	return -1;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* 64 hex digits to 32 bytes; -1 if @s is anything else. */
static int parse_hex_key(const char *s, size_t len, __u8 *key)
{
	size_t i;

	if (len != 2 * LLM_NODE_KEY_LEN)
		return -1;
	for (i = 0; i < LLM_NODE_KEY_LEN; i++) {
		int hi = hexval((unsigned char)s[2 * i]);
		int lo = hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		key[i] = hi << 4 | lo;
	}
	return 0;
}

static int read_key_file(const char *path, __u8 *key)
{
	char buf[2 * LLM_NODE_KEY_LEN + 2];
	size_t len = 0;
	ssize_t n;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "llmctl ring up: cannot read the key file %s: %s\n",
			path, strerror(errno));
		return -1;
	}
	/* One byte more than the longest key file, to see a longer one. */
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "llmctl ring up: cannot read the key file %s: %s\n",
				path, strerror(errno));
			goto out;
		}
		if (!n)
			break;
		len += n;
	}
	if (len == LLM_NODE_KEY_LEN) {
		memcpy(key, buf, LLM_NODE_KEY_LEN);
		ret = 0;
	} else if ((len == 2 * LLM_NODE_KEY_LEN ||
		    (len == 2 * LLM_NODE_KEY_LEN + 1 && buf[len - 1] == '\n')) &&
		   !parse_hex_key(buf, 2 * LLM_NODE_KEY_LEN, key)) {
		ret = 0;
	} else if (len == 2 * LLM_NODE_KEY_LEN ||
		   len == 2 * LLM_NODE_KEY_LEN + 1) {
		fprintf(stderr, "llmctl ring up: the key file %s is not 64 hex digits (and an optional newline)\n",
			path);
	} else {
		fprintf(stderr, "llmctl ring up: the key file %s holds %s%zu bytes, but a key is 32 raw bytes or 64 hex digits and an optional newline\n",
			path, len == sizeof(buf) ? "more than " : "",
			len == sizeof(buf) ? len - 1 : len);
	}
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return ret;
}

static int ring_up(int argc, char **argv)
{
	const char *key_file = NULL, *key_hex = NULL, *layers = NULL;
	bool have_node = false, have_nodes = false;
	bool have_prev = false, have_next = false;
	struct llm_node_config c;
	char prev[32], next[32];
	unsigned int v;
	int ch, fd, ret;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.op = LLM_NODE_UP;
	c.ring_id = RING_ID;
	c.port = RING_PORT;
	c.mtu = RING_MTU;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:h", up_opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			help_ring(stdout);
			return EXIT_OK;
		case OPT_NODE:
			if (llmctl_parse_dec(optarg, 0, LLM_NODE_MAX - 1, &c.node)) {
				fprintf(stderr, "llmctl ring up: --node wants a node id from 0 to %d, not '%s'\n",
					LLM_NODE_MAX - 1, optarg);
				return EXIT_USAGE;
			}
			have_node = true;
			break;
		case OPT_NODES:
			if (llmctl_parse_dec(optarg, 2, LLM_NODE_MAX, &c.n_nodes)) {
				fprintf(stderr, "llmctl ring up: --nodes wants a number of nodes from 2 to %d, not '%s'\n",
					LLM_NODE_MAX, optarg);
				return EXIT_USAGE;
			}
			have_nodes = true;
			break;
		case OPT_LAYERS:
			if (llmctl_parse_layers(optarg, &c.layer_first,
					 &c.layer_last)) {
				fprintf(stderr, "llmctl ring up: --layers wants FIRST:LAST, two layer numbers such as 0:16, not '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			layers = optarg;
			break;
		case OPT_PREV:
			if (parse_peer("prev", optarg, &c.prev))
				return EXIT_USAGE;
			have_prev = true;
			break;
		case OPT_NEXT:
			if (parse_peer("next", optarg, &c.next))
				return EXIT_USAGE;
			have_next = true;
			break;
		case OPT_PORT:
			if (llmctl_parse_dec(optarg, 1, 65535, &c.port)) {
				fprintf(stderr, "llmctl ring up: --port wants a UDP port from 1 to 65535, not '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_MTU:
			if (llmctl_parse_dec(optarg, RING_MTU_MIN, RING_MTU_MAX, &c.mtu)) {
				fprintf(stderr, "llmctl ring up: --mtu wants a packet size from %d to %d bytes, not '%s'\n",
					RING_MTU_MIN, RING_MTU_MAX, optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_RING_ID:
			if (llmctl_parse_u32(optarg, &v)) {
				fprintf(stderr, "llmctl ring up: --ring-id wants a number from 0 to 4294967295, not '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			c.ring_id = v;
			break;
		case OPT_KEY_FILE:
			key_file = optarg;
			break;
		case OPT_KEY:
			key_hex = optarg;
			break;
		case ':':
			fprintf(stderr, "llmctl ring up: %s needs a value\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "llmctl ring up: unknown option '%s'\n",
				argv[optind - 1]);
			help_ring(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "llmctl ring up: unexpected argument '%s'\n",
			argv[optind]);
		help_ring(stderr);
		return EXIT_USAGE;
	}

	/* What is missing, then what does not fit together. */
	if (!have_node || !have_nodes || !layers || !have_prev ||
	    !have_next) {
		fprintf(stderr, "llmctl ring up: %s is missing (see llmctl ring --help)\n",
			!have_node ? "--node K, this node's id," :
			!have_nodes ? "--nodes N, the number of nodes in the ring," :
			!layers ? "--layers FIRST:LAST, the layers this node runs," :
			!have_prev ? "--prev ADDR[:PORT], the node that sends to this one," :
			"--next ADDR[:PORT], the node this one sends to,");
		return EXIT_USAGE;
	}
	if (!key_file && !key_hex) {
		fprintf(stderr, "llmctl ring up: the ring's key is missing: give --key-file FILE (or --key HEX)\n");
		return EXIT_USAGE;
	}
	if (key_file && key_hex) {
		fprintf(stderr, "llmctl ring up: give the key once, with --key-file or --key, not both\n");
		return EXIT_USAGE;
	}
	if (c.node >= c.n_nodes) {
		fprintf(stderr, "llmctl ring up: --node %u is not a node of a ring of %u (node ids go from 0 to %u)\n",
			c.node, c.n_nodes, c.n_nodes - 1);
		return EXIT_USAGE;
	}
	if (c.layer_first >= c.layer_last) {
		fprintf(stderr, "llmctl ring up: --layers %s: FIRST must be below LAST (LAST is one past the node's last layer)\n",
			layers);
		return EXIT_USAGE;
	}
	c.prev.node = (c.node + c.n_nodes - 1) % c.n_nodes;
	c.next.node = (c.node + 1) % c.n_nodes;
	if (!c.prev.port)
		c.prev.port = c.port;
	if (!c.next.port)
		c.next.port = c.port;
	fmt_peer(prev, sizeof(prev), &c.prev);
	fmt_peer(next, sizeof(next), &c.next);
	if (c.n_nodes == 2 && strcmp(prev, next)) {
		fprintf(stderr, "llmctl ring up: in a ring of 2, --prev and --next are the same node (%u), but --prev is %s and --next is %s\n",
			c.prev.node, prev, next);
		return EXIT_USAGE;
	}
	if (c.n_nodes > 2 && !strcmp(prev, next)) {
		fprintf(stderr, "llmctl ring up: --prev and --next are different nodes (%u and %u) but both are %s\n",
			c.prev.node, c.next.node, prev);
		return EXIT_USAGE;
	}

	if (key_file) {
		if (read_key_file(key_file, c.key))
			return EXIT_FAIL;
	} else {
		ret = parse_hex_key(key_hex, strlen(key_hex), c.key);
		/* Off the process list from now on (it was there until now). */
		explicit_bzero((char *)key_hex, strlen(key_hex));
		if (ret) {
			fprintf(stderr, "llmctl ring up: --key wants exactly 64 hex digits (a 32-byte key)\n");
			return EXIT_USAGE;
		}
	}
	for (i = 0; i < LLM_NODE_KEY_LEN && !c.key[i]; i++)
		;
	if (i == LLM_NODE_KEY_LEN) {
		fprintf(stderr, "llmctl ring up: the key is all zeros: make a random one (llmctl ring --help says how)\n");
		return key_file ? EXIT_FAIL : EXIT_USAGE;
	}

	fd = llmctl_open_dev(O_RDWR);
	if (fd < 0) {
		explicit_bzero(c.key, sizeof(c.key));
		return -fd;
	}
	ret = EXIT_OK;
	if (ioctl(fd, LLM_IOC_NODE_SET, &c) < 0)
		ret = ring_explain(fd, "up", errno, &c);
	explicit_bzero(c.key, sizeof(c.key));
	close(fd);
	if (!ret)
		printf("node %u of %u is up on ring %u: layers %u:%u, UDP port %u, prev node %u at %s, next node %u at %s\n",
		       c.node, c.n_nodes, c.ring_id, c.layer_first,
		       c.layer_last, c.port, c.prev.node, prev, c.next.node,
		       next);
	return ret;
}

int cmd_ring(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "status";

	if (argc > 1 && llmctl_is_help(argv[1])) {
		help_ring(stdout);
		return EXIT_OK;
	}
	/* "llmctl ring" and "llmctl ring --json" are status. */
	if (argc < 2 || argv[1][0] == '-')
		return ring_status(argc, argv);
	if (!strcmp(op, "status"))
		return ring_status(argc - 1, argv + 1);
	if (!strcmp(op, "up"))
		return ring_up(argc - 1, argv + 1);
	if (!strcmp(op, "down"))
		return ring_down(argc - 1, argv + 1);
	if (!strcmp(op, "wait"))
		return ring_wait(argc - 1, argv + 1);
	fprintf(stderr, "llmctl ring: unknown command '%s' (status, up, down or wait; see llmctl ring --help)\n",
		op);
	return EXIT_USAGE;
}
