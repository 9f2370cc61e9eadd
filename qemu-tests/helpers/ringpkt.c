// SPDX-License-Identifier: GPL-2.0
/*
 * ringpkt: hostile packets for the network ring's guest tests
 * (qemu-tests/run.sh builds it statically into the guest as /bin/ringpkt).
 * It captures what a ring node sends, then sends it again unchanged (a
 * replay) or changed in one way aimed at one drop cause of the receiving
 * node's netfilter hook (netfilter/hook.c, enum llm_drop_cause in
 * uapi/llm.h), or floods the ring's port with garbage.  `ringpkt --help`
 * says it all; the wire format is docs/ring.md's (netfilter/wire.h).
 *
 * Self-contained on purpose (libc only): the offsets below are the wire
 * format's, version 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/filter.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/socket.h>

/* netfilter/wire.h, version 1 */
#define WIRE_MAGIC	0x4c4c4d52u	/* "LLMR" */
#define WIRE_HDR	56
#define WIRE_TAG	16
#define OFF_VERSION	4
#define OFF_TYPE	5
#define OFF_SRC		12
#define OFF_DST		14
#define OFF_COUNTER	16
#define OFF_FRAME	24
#define OFF_SESSION	32
#define OFF_STEP	36
#define OFF_FRAG_IDX	40
#define OFF_FRAG_CNT	42
#define OFF_FRAG_BYTES	44
#define OFF_FRAME_LEN	48
#define OFF_EPOCH	52

#define IP_MIN		20
#define UDP_HDR		8
#define PKT_MAX		65535
#define FILE_MAGIC	"RINGPKT1"

static const char *const type_names[] = {
	"?", "DATA", "RESULT", "ACK", "NACK", "HELLO", "HELLO_REPLY", "CONTROL",
};

static const char usage_text[] =
"NAME\n"
"    ringpkt - capture, replay, mangle and flood network-ring packets\n"
"\n"
"SYNOPSIS\n"
"    ringpkt capture IFACE PORT COUNT FILE [TIMEOUT_S] [--type TYPE]\n"
"                    [--ready PATH]\n"
"    ringpkt replay FILE [--mutate KIND] [--index I] [--from ADDR]\n"
"    ringpkt flood ADDR PORT COUNT [--seed N]\n"
"    ringpkt show FILE\n"
"    ringpkt --help\n"
"\n"
"DESCRIPTION\n"
"    A helper for hostile-packet tests on a node of the llm network ring\n"
"    (docs/ring.md).  Run it on a ring node: capture what the node sends to\n"
"    its neighbour, then send it again, unchanged or changed so that the\n"
"    neighbour's netfilter hook must drop it for one particular cause, and\n"
"    compare the neighbour's drop counters (llmctl ring) before and after.\n"
"    Needs CAP_NET_RAW (capture, replay).  Integers may be decimal or 0x hex.\n"
"\n"
"COMMANDS\n"
"    capture IFACE PORT COUNT FILE [TIMEOUT_S]\n"
"        Open an AF_PACKET socket bound to IFACE and take the next COUNT\n"
"        IPv4 (ETH_P_IP) UDP packets, not IP fragments, whose source port is\n"
"        PORT and which this machine sends (PACKET_OUTGOING): the ring\n"
"        traffic this node sends to its neighbours.  (The socket is bound to\n"
"        ETH_P_ALL, with a socket filter for the above: a packet socket of\n"
"        one protocol sees only what comes in.)  Their IP packets (IP\n"
"        header onward) go to FILE (see FILE FORMAT), with the UDP checksum\n"
"        completed where the device was to compute it (checksum offload:\n"
"        the packet socket then sees only a partial sum), so FILE holds\n"
"        what went on the wire.  One line per packet is printed, as show\n"
"        prints it.  If fewer than COUNT arrive within TIMEOUT_S seconds\n"
"        (default 20), the ones that did are still written and ringpkt\n"
"        exits 1 with a message.\n"
"        --type TYPE   keep only ring packets of that type: data, result,\n"
"                      ack, nack, hello, hello_reply, control, or a number\n"
"                      (the byte at offset 5; magic checked too).\n"
"        --ready PATH  create PATH once the socket is bound, so a test can\n"
"                      start the traffic only then.\n"
"\n"
"    replay FILE [--mutate KIND] [--index I] [--from ADDR]\n"
"        Send the packets stored in FILE again, each as one IP packet\n"
"        through socket(AF_INET, SOCK_RAW, IPPROTO_RAW) (IP_HDRINCL): the\n"
"        stored IP header is sent as it is, so the source address and port\n"
"        are the original node's and the receiver takes it as coming from\n"
"        its configured peer.  After the change KIND, the IP header checksum\n"
"        and the UDP checksum are computed afresh (always: an unchanged\n"
"        replay is byte for byte what FILE holds when that was right).\n"
"        --index I picks stored packet I (from 0); the default is all of\n"
"        them, in order.  One line per packet sent:\n"
"            sent I KIND LEN SRC:SPORT -> DST:DPORT: WHAT CHANGED\n"
"        A packet the change cannot apply to (too short, no body) is\n"
"        skipped with a line on standard error.\n"
"        --from ADDR   the new source address (--mutate source only).\n"
"\n"
"    flood ADDR PORT COUNT [--seed N]\n"
"        Send COUNT UDP datagrams of random bytes, of random lengths from 0\n"
"        to 1500 bytes, from an ordinary UDP socket (an ephemeral source\n"
"        port) to ADDR:PORT, and print how many and how many bytes.  The\n"
"        ring drops them all: not a peer (the source port is not the\n"
"        ring's), or malformed.  --seed N makes the garbage repeatable; the\n"
"        seed used is printed.\n"
"\n"
"    show FILE\n"
"        Print the stored packets, one line each: IP and UDP headers, whether\n"
"        each checksum is right, and the ring header fields.\n"
"\n"
"MUTATIONS (replay --mutate KIND)\n"
"    Offsets are in the ring header (the UDP payload); fields big-endian.\n"
"    The drop cause is the receiving hook's (enum llm_drop_cause).\n"
"    Mind DATA and RESULT packets: a fragment of a frame the receiver\n"
"    already has whole is taken for a retransmission before its tag is\n"
"    checked (dup_frames, and an ACK back), so none, tag and body count no\n"
"    drop on one; use the small types (capture --type ack) for those.\n"
"    none      unchanged: a replay.  REPLAY once the original was seen\n"
"              (small types: the counter window after the tag; a hello:\n"
"              its wall-clock time, no newer than the last one accepted).\n"
"    tag       flip (xor 0xff) the last byte of the 16-byte AEAD tag:\n"
"              BAD_TAG.  This is also what a wrong key looks like.\n"
"    body      flip the middle byte of the sealed body: BAD_TAG.  Packets\n"
"              with an empty body (ACK, CONTROL) are skipped.\n"
"    version   byte 4 (version) set to 2: MALFORMED.\n"
"    magic     bytes 0-3 set to \"LLMX\" (0x4c4c4d58): MALFORMED.\n"
"    truncate  UDP payload cut to 40 bytes (shorter than header and tag),\n"
"              UDP length and IP total length fixed: MALFORMED.\n"
"    fragidx   frag_idx (offset 40) set to frag_count (offset 42), one past\n"
"              the last: MALFORMED.\n"
"    framelen  frame_len (offset 48) set to 0x7fffffff: OVERSIZED for DATA\n"
"              (past the largest frame), MALFORMED for the other types.\n"
"    csum      a wrong, nonzero UDP checksum: CHECKSUM.\n"
"    source    IP source address set to --from ADDR: not a peer (the node's\n"
"              unknown_drops).  The receiver's rp_filter may drop it before\n"
"              the hook: pick an ADDR it routes back through the same\n"
"              interface (e.g. an unused address of the link's subnet).\n"
"    srcport   UDP source port + 1: not a peer (unknown_drops).\n"
"    ipfrag    sent as two IP fragments: DF cleared, the UDP datagram split\n"
"              at a multiple of 8 bytes near its middle, MF and offsets\n"
"              set, one fresh random IP id for both.  The receiver's IP\n"
"              layer reassembles them; the ring's hook must drop the\n"
"              reassembled datagram: FRAGMENT.\n"
"\n"
"FILE FORMAT\n"
"    The 8 bytes \"RINGPKT1\", then per packet a 4-byte big-endian length\n"
"    (20 to 65535) and that many bytes: the IP packet, header onward.\n"
"\n"
"EXIT STATUS\n"
"    0 done; 1 a failure (fewer packets than COUNT captured, a send failed,\n"
"    nothing to send, a bad FILE), with a message on standard error;\n"
"    2 a usage error.\n"
"\n"
"EXAMPLES\n"
"    On node 0 (10.77.0.1) of a two-node ring on port 7000, eth0:\n"
"        ringpkt capture eth0 7000 4 /tmp/ack.pkt 30 --type ack &\n"
"        llmctl ... (make the ring carry a few steps); wait\n"
"        ringpkt replay /tmp/ack.pkt --index 0                 # REPLAY\n"
"        ringpkt replay /tmp/ack.pkt --index 1 --mutate tag    # BAD_TAG\n"
"        ringpkt replay /tmp/ack.pkt --mutate source --from 10.77.0.9\n"
"        ringpkt flood 10.77.0.2 7000 1000\n"
"    and read node 1's drop counters with llmctl ring.\n";

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ringpkt: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(ringpkt --help for usage)\n");
	exit(2);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ringpkt: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static unsigned long long parse_num(const char *s, unsigned long long max,
				    const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		usage_error("bad %s '%s'", what, s);
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		usage_error("bad %s '%s'", what, s);
	return v;
}

/* Big-endian fields. */
static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* ---- checksums (RFC 1071) ---- */

static uint32_t sum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t sum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static unsigned int ip_hlen(const uint8_t *ip)
{
	return (ip[0] & 0x0f) * 4u;
}

static uint16_t ip_csum(const uint8_t *ip)
{
	uint8_t h[60];
	unsigned int hl = ip_hlen(ip);

	memcpy(h, ip, hl);
	h[10] = h[11] = 0;
	return sum_fold(sum_add(0, h, hl));
}

/* The UDP checksum of the datagram at @udp (length from its header, which
 * the caller checked), as it goes on the wire (0 is sent as 0xffff). */
static uint16_t udp_csum(const uint8_t *ip, const uint8_t *udp)
{
	uint16_t ulen = get16(udp + 4);
	uint8_t pseudo[12];
	uint32_t sum;
	uint16_t c;

	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_UDP;
	put16(pseudo + 10, ulen);
	sum = sum_add(0, pseudo, sizeof(pseudo));
	sum = sum_add(sum, udp, 6);	/* ports, length: the checksum is 0 */
	sum = sum_add(sum, udp + 8, ulen - UDP_HDR);
	c = sum_fold(sum);
	return c ? c : 0xffff;
}

static void fix_sums(uint8_t *ip)
{
	uint8_t *udp = ip + ip_hlen(ip);

	put16(udp + 6, udp_csum(ip, udp));
	put16(ip + 10, ip_csum(ip));
}

/* ---- packets ---- */

struct pkt {
	uint32_t len;
	uint8_t *data;
};

struct pkts {
	struct pkt *v;
	size_t n, cap;
};

static void pkts_add(struct pkts *ps, const uint8_t *data, uint32_t len)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 16;
		ps->v = realloc(ps->v, ps->cap * sizeof(*ps->v));
		if (!ps->v)
			die("out of memory");
	}
	ps->v[ps->n].data = malloc(len);
	if (!ps->v[ps->n].data)
		die("out of memory");
	memcpy(ps->v[ps->n].data, data, len);
	ps->v[ps->n].len = len;
	ps->n++;
}

static void pkts_free(struct pkts *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		free(ps->v[i].data);
	free(ps->v);
	ps->v = NULL;
	ps->n = ps->cap = 0;
}

/*
 * Whether @ip (@len bytes) is a whole IPv4 UDP packet, not a fragment,
 * whose lengths agree: total length == @len, UDP length == the rest.
 */
static const char *udp_check(const uint8_t *ip, uint32_t len)
{
	unsigned int hl;

	if (len < IP_MIN || ip[0] >> 4 != 4)
		return "not IPv4";
	hl = ip_hlen(ip);
	if (hl < IP_MIN || len < hl + UDP_HDR)
		return "too short";
	if (get16(ip + 2) != len)
		return "IP total length disagrees";
	if (ip[9] != IPPROTO_UDP)
		return "not UDP";
	if (get16(ip + 6) & 0x3fff)
		return "an IP fragment";
	if (get16(ip + hl + 4) != len - hl)
		return "UDP length disagrees";
	return NULL;
}

static const char *addr_str(const void *p, char *buf)
{
	return inet_ntop(AF_INET, p, buf, INET_ADDRSTRLEN);
}

static const char *type_name(unsigned int t, char *buf)
{
	if (t && t < sizeof(type_names) / sizeof(type_names[0]))
		return type_names[t];
	sprintf(buf, "type%u", t);
	return buf;
}

/* One line about a packet (no newline). */
static void describe(FILE *f, const uint8_t *ip, uint32_t len)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], tb[16];
	const char *bad = udp_check(ip, len);
	const uint8_t *udp, *r;
	uint16_t fo;
	uint32_t plen;

	if (bad && (len < IP_MIN || ip[0] >> 4 != 4 ||
		    len < ip_hlen(ip) + UDP_HDR || ip_hlen(ip) < IP_MIN)) {
		fprintf(f, "%u bytes: %s", len, bad);
		return;
	}
	udp = ip + ip_hlen(ip);
	fo = get16(ip + 6);
	fprintf(f, "%u %s:%u -> %s:%u id=0x%04x%s%s off=%u ipsum=%s", len,
		addr_str(ip + 12, a), get16(udp), addr_str(ip + 16, b),
		get16(udp + 2), get16(ip + 4), fo & 0x4000 ? " DF" : "",
		fo & 0x2000 ? " MF" : "", (fo & 0x1fff) * 8,
		get16(ip + 10) == ip_csum(ip) ? "ok" : "bad");
	if (bad) {
		fprintf(f, " (%s)", bad);
		return;
	}
	fprintf(f, " udpsum=%s", get16(udp + 6) == udp_csum(ip, udp) ?
		"ok" : "bad");
	r = udp + UDP_HDR;
	plen = len - ip_hlen(ip) - UDP_HDR;
	if (plen < WIRE_HDR) {
		fprintf(f, " payload=%u", plen);
		return;
	}
	if (get32(r) != WIRE_MAGIC) {
		fprintf(f, " payload=%u magic=0x%08x", plen, get32(r));
		return;
	}
	fprintf(f, " | %s v%u %u->%u ctr=%llu frame=%llu sess=%u step=%u "
		"frag=%u/%u fb=%u flen=%u epoch=%u body=%d",
		type_name(r[OFF_TYPE], tb), r[OFF_VERSION], get16(r + OFF_SRC),
		get16(r + OFF_DST),
		(unsigned long long)get64(r + OFF_COUNTER),
		(unsigned long long)get64(r + OFF_FRAME),
		get32(r + OFF_SESSION), get32(r + OFF_STEP),
		get16(r + OFF_FRAG_IDX), get16(r + OFF_FRAG_CNT),
		get16(r + OFF_FRAG_BYTES), get32(r + OFF_FRAME_LEN),
		get32(r + OFF_EPOCH), (int)plen - WIRE_HDR - WIRE_TAG);
}

static void write_file(const char *path, const struct pkts *ps)
{
	FILE *f = fopen(path, "wb");
	size_t i;

	if (!f)
		die("%s: %s", path, strerror(errno));
	fwrite(FILE_MAGIC, 1, 8, f);
	for (i = 0; i < ps->n; i++) {
		uint8_t l[4];

		put32(l, ps->v[i].len);
		fwrite(l, 1, 4, f);
		fwrite(ps->v[i].data, 1, ps->v[i].len, f);
	}
	if (fflush(f) || ferror(f) || fclose(f))
		die("%s: write: %s", path, strerror(errno));
}

static void read_file(const char *path, struct pkts *ps)
{
	static uint8_t buf[PKT_MAX];
	FILE *f = fopen(path, "rb");
	uint8_t head[8], l[4];
	size_t got;

	if (!f)
		die("%s: %s", path, strerror(errno));
	if (fread(head, 1, 8, f) != 8 || memcmp(head, FILE_MAGIC, 8))
		die("%s: not a ringpkt file", path);
	while ((got = fread(l, 1, 4, f)) == 4) {
		uint32_t len = get32(l);

		if (len < IP_MIN || len > PKT_MAX)
			die("%s: packet %zu: bad length %u", path, ps->n, len);
		if (fread(buf, 1, len, f) != len)
			die("%s: packet %zu: cut short", path, ps->n);
		pkts_add(ps, buf, len);
	}
	if (got || ferror(f))
		die("%s: cut short after packet %zu", path, ps->n);
	fclose(f);
}

/* ---- capture ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int parse_type(const char *s)
{
	size_t i;

	for (i = 1; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (!strcasecmp(s, type_names[i]))
			return (int)i;
	return (int)parse_num(s, 255, "type");
}

/*
 * Outgoing IPv4 UDP packets from @port, not fragments (a SOCK_DGRAM packet
 * socket's filter sees the packet from its network header on).  Only to
 * spare the copies of the rest: the loop checks each packet again.
 */
static int attach_filter(int fd, unsigned int port)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 10),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 8),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 4, 0),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0x40000),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {
		.len = sizeof(code) / sizeof(code[0]), .filter = code,
	};

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			  sizeof(prog));
}

static int cmd_capture(int argc, char **argv)
{
	static uint8_t buf[PKT_MAX + 1];
	const char *pos[5], *ready = NULL;
	int npos = 0, want_type = -1, fd, one = 1, rcvbuf = 8 << 20, i;
	unsigned int ifindex, port;
	unsigned long count, timeout_s = 20;
	struct sockaddr_ll sll;
	struct pkts ps = { 0 };
	long long deadline;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--type") && i + 1 < argc)
			want_type = parse_type(argv[++i]);
		else if (!strcmp(argv[i], "--ready") && i + 1 < argc)
			ready = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			usage_error("capture: unknown option %s", argv[i]);
		else if (npos < 5)
			pos[npos++] = argv[i];
		else
			usage_error("capture: too many arguments");
	}
	if (npos < 4)
		usage_error("usage: ringpkt capture IFACE PORT COUNT FILE "
			    "[TIMEOUT_S] [--type TYPE] [--ready PATH]");
	ifindex = if_nametoindex(pos[0]);
	if (!ifindex)
		die("capture: no interface %s", pos[0]);
	port = parse_num(pos[1], 65535, "port");
	count = parse_num(pos[2], 1000000, "count");
	if (npos > 4)
		timeout_s = parse_num(pos[4], 86400, "timeout");

	/* protocol 0 until bound: no packet of another interface queued */
	fd = socket(AF_PACKET, SOCK_DGRAM, 0);
	if (fd < 0)
		die("capture: AF_PACKET socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (attach_filter(fd, port))
		die("capture: SO_ATTACH_FILTER: %s", strerror(errno));
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)))
		die("capture: PACKET_AUXDATA: %s", strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		die("capture: bind to %s: %s", pos[0], strerror(errno));
	if (ready) {
		int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			       0644);

		if (rfd < 0)
			die("capture: %s: %s", ready, strerror(errno));
		close(rfd);
	}

	deadline = now_ms() + timeout_s * 1000LL;
	while (ps.n < count) {
		union {
			struct cmsghdr align;
			char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		} ctl;
		struct sockaddr_ll from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.b, .msg_controllen = sizeof(ctl.b),
		};
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		struct cmsghdr *c;
		bool csum_partial = false;
		ssize_t n;
		uint8_t *udp;
		uint32_t len;
		int pr;

		if (left <= 0)
			break;
		pr = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (pr < 0 && errno != EINTR)
			die("capture: poll: %s", strerror(errno));
		if (pr <= 0)
			continue;
		n = recvmsg(fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("capture: recvmsg: %s", strerror(errno));
		}
		if (from.sll_pkttype != PACKET_OUTGOING ||
		    from.sll_protocol != htons(ETH_P_IP) || n < IP_MIN ||
		    (size_t)n > sizeof(buf) - 1 || buf[0] >> 4 != 4)
			continue;
		len = get16(buf + 2);
		/* a frame's padding past the IP packet is not the packet's */
		if ((ssize_t)len > n)
			continue;
		if (udp_check(buf, len))
			continue;
		udp = buf + ip_hlen(buf);
		if (get16(udp) != port)
			continue;
		if (want_type >= 0 &&
		    (len < ip_hlen(buf) + UDP_HDR + WIRE_HDR ||
		     get32(udp + UDP_HDR) != WIRE_MAGIC ||
		     udp[UDP_HDR + OFF_TYPE] != want_type))
			continue;
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			struct tpacket_auxdata aux;

			if (c->cmsg_level != SOL_PACKET ||
			    c->cmsg_type != PACKET_AUXDATA)
				continue;
			memcpy(&aux, CMSG_DATA(c), sizeof(aux));
			csum_partial = aux.tp_status & TP_STATUS_CSUMNOTREADY;
		}
		/* the device was to finish it: what it would have sent */
		if (csum_partial && get16(udp + 6))
			put16(udp + 6, udp_csum(buf, udp));
		printf("captured %zu ", ps.n);
		describe(stdout, buf, len);
		printf("%s\n", csum_partial ? " (udpsum completed)" : "");
		pkts_add(&ps, buf, len);
	}
	close(fd);
	write_file(pos[3], &ps);
	if (ps.n < count) {
		fprintf(stderr, "ringpkt: capture: %zu of %lu packets from port %u "
			"sent on %s within %lu s\n", ps.n, count, port, pos[0],
			timeout_s);
		pkts_free(&ps);
		return 1;
	}
	pkts_free(&ps);
	return 0;
}

/* ---- replay ---- */

enum kind {
	K_NONE, K_TAG, K_BODY, K_VERSION, K_MAGIC, K_TRUNCATE, K_FRAGIDX,
	K_FRAMELEN, K_CSUM, K_SOURCE, K_SRCPORT, K_IPFRAG, K_KINDS,
};

static const char *const kind_names[K_KINDS] = {
	"none", "tag", "body", "version", "magic", "truncate", "fragidx",
	"framelen", "csum", "source", "srcport", "ipfrag",
};

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t random_seed(void)
{
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), 0) != sizeof(s))
		s = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	return s ? s : 1;
}

static void send_ip(int fd, const uint8_t *ip, uint32_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	char a[INET_ADDRSTRLEN];
	ssize_t n;

	memcpy(&to.sin_addr, ip + 16, 4);
	n = sendto(fd, ip, len, 0, (struct sockaddr *)&to, sizeof(to));
	if (n != (ssize_t)len)
		die("replay: sendto %s (%u bytes): %s", addr_str(ip + 16, a),
		    len, n < 0 ? strerror(errno) : "short");
}

/*
 * Apply @k to the packet in @ip (@len bytes, checked by udp_check) and fix
 * its checksums; the new length in *@len.  NULL and what changed in @what,
 * or why it cannot apply.  K_IPFRAG is done by the caller.
 */
static const char *mutate(enum kind k, uint8_t *ip, uint32_t *len,
			  const struct in_addr *from, char *what, size_t wl)
{
	unsigned int hl = ip_hlen(ip);
	uint8_t *udp = ip + hl, *r = udp + UDP_HDR;
	uint32_t plen = *len - hl - UDP_HDR, at;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	uint16_t good, bad;

	switch (k) {
	case K_NONE:
		snprintf(what, wl, "unchanged");
		break;
	case K_TAG:
		if (plen < WIRE_TAG)
			return "shorter than a tag";
		at = plen - 1;
		snprintf(what, wl, "tag byte (payload %u) 0x%02x -> 0x%02x", at,
			 r[at], r[at] ^ 0xff);
		r[at] ^= 0xff;
		break;
	case K_BODY:
		if (plen <= WIRE_HDR + WIRE_TAG)
			return "no body";
		at = WIRE_HDR + (plen - WIRE_HDR - WIRE_TAG) / 2;
		snprintf(what, wl, "body byte (payload %u) 0x%02x -> 0x%02x", at,
			 r[at], r[at] ^ 0xff);
		r[at] ^= 0xff;
		break;
	case K_VERSION:
		if (plen <= OFF_VERSION)
			return "no version byte";
		snprintf(what, wl, "version %u -> 2", r[OFF_VERSION]);
		r[OFF_VERSION] = 2;
		break;
	case K_MAGIC:
		if (plen < 4)
			return "no magic";
		snprintf(what, wl, "magic 0x%08x -> 0x4c4c4d58", get32(r));
		put32(r, 0x4c4c4d58);
		break;
	case K_TRUNCATE:
		if (plen <= 40)
			return "payload not longer than 40 bytes";
		snprintf(what, wl, "payload %u -> 40 bytes", plen);
		*len = hl + UDP_HDR + 40;
		put16(ip + 2, *len);
		put16(udp + 4, UDP_HDR + 40);
		break;
	case K_FRAGIDX:
		if (plen < OFF_FRAG_CNT + 2)
			return "no fragment fields";
		at = get16(r + OFF_FRAG_CNT);
		if (!at)
			at = 1;
		snprintf(what, wl, "frag_idx %u -> %u (frag_count %u)",
			 get16(r + OFF_FRAG_IDX), at, get16(r + OFF_FRAG_CNT));
		put16(r + OFF_FRAG_IDX, at);
		break;
	case K_FRAMELEN:
		if (plen < OFF_FRAME_LEN + 4)
			return "no frame_len";
		snprintf(what, wl, "frame_len %u -> 0x7fffffff",
			 get32(r + OFF_FRAME_LEN));
		put32(r + OFF_FRAME_LEN, 0x7fffffff);
		break;
	case K_CSUM:
		fix_sums(ip);
		good = get16(udp + 6);
		/* nonzero (0: none) and not the same sum (0xffff == 0) */
		bad = good ^ 0x0101;
		if (bad == 0 || bad == 0xffff)
			bad = 0x1234;
		put16(udp + 6, bad);
		snprintf(what, wl, "udp checksum 0x%04x -> 0x%04x", good, bad);
		return NULL;
	case K_SOURCE:
		snprintf(what, wl, "source %s -> %s", addr_str(ip + 12, a),
			 addr_str(from, b));
		memcpy(ip + 12, from, 4);
		break;
	case K_SRCPORT:
		snprintf(what, wl, "source port %u -> %u", get16(udp),
			 (uint16_t)(get16(udp) + 1));
		put16(udp, get16(udp) + 1);
		break;
	default:
		return "unknown kind";
	}
	fix_sums(ip);
	return NULL;
}

/* Send @ip as two fragments of one fresh IP id; what was sent in @what. */
static void send_fragments(int fd, uint8_t *ip, uint32_t len, char *what,
			   size_t wl)
{
	static uint8_t f1[PKT_MAX], f2[PKT_MAX];
	unsigned int hl = ip_hlen(ip);
	uint32_t dlen = len - hl, split = dlen / 2 / 8 * 8;
	uint16_t id;

	if (split < 8)
		split = 8;
	do
		id = (uint16_t)rng_next();
	while (!id);
	fix_sums(ip);	/* the UDP checksum covers the whole datagram */
	memcpy(f1, ip, hl + split);
	put16(f1 + 2, hl + split);
	put16(f1 + 4, id);
	put16(f1 + 6, 0x2000);			/* MF, offset 0 */
	put16(f1 + 10, ip_csum(f1));
	memcpy(f2, ip, hl);
	memcpy(f2 + hl, ip + hl + split, dlen - split);
	put16(f2 + 2, len - split);
	put16(f2 + 4, id);
	put16(f2 + 6, split / 8);		/* no MF */
	put16(f2 + 10, ip_csum(f2));
	send_ip(fd, f1, hl + split);
	send_ip(fd, f2, len - split);
	snprintf(what, wl, "2 fragments id=0x%04x: %u bytes at 0 (MF), %u at %u",
		 id, split, dlen - split, split);
}

static int cmd_replay(int argc, char **argv)
{
	static uint8_t buf[PKT_MAX];
	const char *file = NULL;
	enum kind k = K_NONE;
	long long index = -1;
	bool have_from = false;
	struct in_addr from;
	struct pkts ps = { 0 };
	size_t i, sent = 0;
	int fd, a;

	for (a = 0; a < argc; a++) {
		if (!strcmp(argv[a], "--mutate") && a + 1 < argc) {
			const char *s = argv[++a];

			for (k = 0; k < K_KINDS && strcmp(s, kind_names[k]); k++)
				;
			if (k == K_KINDS)
				usage_error("replay: unknown mutation '%s'", s);
		} else if (!strcmp(argv[a], "--index") && a + 1 < argc) {
			index = parse_num(argv[++a], 0xffffffffu, "index");
		} else if (!strcmp(argv[a], "--from") && a + 1 < argc) {
			if (inet_pton(AF_INET, argv[++a], &from) != 1)
				usage_error("replay: bad address '%s'", argv[a]);
			have_from = true;
		} else if (argv[a][0] == '-' && argv[a][1] == '-') {
			usage_error("replay: unknown option or no value: %s",
				    argv[a]);
		} else if (!file) {
			file = argv[a];
		} else {
			usage_error("replay: too many arguments");
		}
	}
	if (!file)
		usage_error("usage: ringpkt replay FILE [--mutate KIND] "
			    "[--index I] [--from ADDR]");
	if (k == K_SOURCE && !have_from)
		usage_error("replay: --mutate source needs --from ADDR");
	if (k != K_SOURCE && have_from)
		usage_error("replay: --from goes with --mutate source only");
	read_file(file, &ps);
	if (index >= 0 && (size_t)index >= ps.n)
		die("replay: %s holds %zu packets, no index %lld", file, ps.n,
		    index);
	rng_state = random_seed();

	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0)
		die("replay: raw socket: %s", strerror(errno));
	for (i = 0; i < ps.n; i++) {
		char what[160], sa[INET_ADDRSTRLEN], da[INET_ADDRSTRLEN];
		uint32_t len = ps.v[i].len, olen = len;
		const char *why;
		uint8_t *udp;

		if (index >= 0 && (size_t)index != i)
			continue;
		memcpy(buf, ps.v[i].data, len);
		why = udp_check(buf, len);
		if (why) {
			fprintf(stderr, "ringpkt: replay: skip %zu: %s\n", i, why);
			continue;
		}
		if (k == K_IPFRAG) {
			if (len - ip_hlen(buf) < 16) {
				fprintf(stderr, "ringpkt: replay: skip %zu: "
					"too short to cut in two\n", i);
				continue;
			}
			send_fragments(fd, buf, len, what, sizeof(what));
		} else {
			why = mutate(k, buf, &len, &from, what, sizeof(what));
			if (why) {
				fprintf(stderr, "ringpkt: replay: skip %zu: %s\n",
					i, why);
				continue;
			}
			send_ip(fd, buf, len);
		}
		udp = buf + ip_hlen(buf);
		printf("sent %zu %s %u %s:%u -> %s:%u: %s\n", i, kind_names[k],
		       k == K_IPFRAG ? olen : len, addr_str(buf + 12, sa),
		       get16(udp), addr_str(buf + 16, da), get16(udp + 2), what);
		sent++;
	}
	close(fd);
	pkts_free(&ps);
	if (!sent)
		die("replay: nothing sent");
	return 0;
}

/* ---- flood ---- */

static int cmd_flood(int argc, char **argv)
{
	static uint8_t buf[1500];
	const char *pos[3];
	int npos = 0, fd, a;
	bool have_seed = false;
	uint64_t seed = 0;
	unsigned long count, i;
	unsigned long long bytes = 0;
	struct sockaddr_in to = { .sin_family = AF_INET };

	for (a = 0; a < argc; a++) {
		if (!strcmp(argv[a], "--seed") && a + 1 < argc) {
			seed = parse_num(argv[++a], ~0ull, "seed");
			have_seed = true;
		} else if (argv[a][0] == '-' && argv[a][1] == '-') {
			usage_error("flood: unknown option or no value: %s",
				    argv[a]);
		} else if (npos < 3) {
			pos[npos++] = argv[a];
		} else {
			usage_error("flood: too many arguments");
		}
	}
	if (npos != 3)
		usage_error("usage: ringpkt flood ADDR PORT COUNT [--seed N]");
	if (inet_pton(AF_INET, pos[0], &to.sin_addr) != 1)
		usage_error("flood: bad address '%s'", pos[0]);
	to.sin_port = htons(parse_num(pos[1], 65535, "port"));
	count = parse_num(pos[2], 100000000, "count");
	if (!have_seed)
		seed = random_seed();
	rng_state = seed ? seed : 1;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		die("flood: socket: %s", strerror(errno));
	for (i = 0; i < count; i++) {
		size_t len = rng_next() % (sizeof(buf) + 1), j;

		for (j = 0; j < len; j += 8) {
			uint64_t r = rng_next();

			memcpy(buf + j, &r, len - j < 8 ? len - j : 8);
		}
		for (;;) {
			ssize_t n = sendto(fd, buf, len, 0,
					   (struct sockaddr *)&to, sizeof(to));

			if (n == (ssize_t)len)
				break;
			/* the queue is full: let it drain */
			if (n < 0 && (errno == ENOBUFS || errno == EAGAIN ||
				      errno == EINTR)) {
				usleep(1000);
				continue;
			}
			/* an ICMP error from an earlier datagram: go on */
			if (n < 0 && (errno == ECONNREFUSED ||
				      errno == EHOSTUNREACH ||
				      errno == ENETUNREACH))
				continue;
			die("flood: sendto: %s", n < 0 ? strerror(errno) :
			    "short");
		}
		bytes += len;
	}
	close(fd);
	printf("flood %s:%s sent %lu datagrams %llu bytes seed %llu\n", pos[0],
	       pos[1], count, bytes, (unsigned long long)seed);
	return 0;
}

/* ---- show ---- */

static int cmd_show(int argc, char **argv)
{
	struct pkts ps = { 0 };
	size_t i;

	if (argc != 1)
		usage_error("usage: ringpkt show FILE");
	read_file(argv[0], &ps);
	for (i = 0; i < ps.n; i++) {
		printf("%zu ", i);
		describe(stdout, ps.v[i].data, ps.v[i].len);
		printf("\n");
	}
	pkts_free(&ps);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "capture"))
		return cmd_capture(argc - 2, argv + 2);
	if (!strcmp(cmd, "replay"))
		return cmd_replay(argc - 2, argv + 2);
	if (!strcmp(cmd, "flood"))
		return cmd_flood(argc - 2, argv + 2);
	if (!strcmp(cmd, "show"))
		return cmd_show(argc - 2, argv + 2);
	usage_error(argc > 1 ? "unknown command '%s'" : "no command%s", cmd);
	return 2;
}
