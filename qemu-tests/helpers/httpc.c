// SPDX-License-Identifier: GPL-2.0
/*
 * httpc: the HTTP/1.1 client of the guest tests of llmctl serve (the
 * guest has no curl, and busybox's wget hides the status of an error).
 * One request to 127.0.0.1:PORT; prints the status code on a line of its
 * own, then the body (a chunked body decoded).
 *
 *   httpc [options] METHOD PORT PATH [BODY]
 *
 *   -k KEY     send "Authorization: Bearer KEY"
 *   -z BYTES   send a body of BYTES 'x' characters instead of BODY
 *   -c N       hang up after the body's Nth "data: " (server-sent event),
 *              printing what came so far
 *   -s         print the status only
 *   -b         print the body only
 *   -t S       give up after S seconds (default 120): exit 2
 *
 * Exit status 0 when a response (or its first N events) came, 1 when the
 * connection failed or closed early.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static char *in;
static size_t in_len, in_cap;
static int sock;

/* Read more from the socket into in[]; 0 at EOF. */
static ssize_t more(void)
{
	ssize_t n;

	if (in_len + 65536 > in_cap) {
		in_cap = (in_len + 65536) * 2;
		in = realloc(in, in_cap);
		if (!in)
			exit(1);
	}
	do
		n = read(sock, in + in_len, in_cap - in_len - 1);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		in_len += n;
		in[in_len] = 0;
	}
	return n;
}

static unsigned int events, close_after;
static bool print_body = true;

/* Body bytes as they come: printed, events counted. */
static void body(const char *p, size_t n)
{
	static const char pat[] = "data: ";
	static size_t match;	/* of pat, at a line start */
	static bool line_start = true;
	size_t i;

	for (i = 0; i < n; i++) {
		if (print_body)
			putchar(p[i]);
		if (line_start || match) {
			if (p[i] == pat[match]) {
				match++;
				if (match == sizeof(pat) - 1) {
					match = 0;
					events++;
				}
			} else {
				match = 0;
			}
		}
		line_start = p[i] == '\n';
		if (close_after && events >= close_after && p[i] == '\n') {
			/* the event's line is whole: hang up */
			fflush(stdout);
			close(sock);
			exit(0);
		}
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *key = NULL, *data = NULL;
	long zbytes = -1, timeout = 120;
	bool print_status = true, chunked = false;
	long long clen = -1;
	struct sockaddr_in sa;
	char *req, *hdr_end, *p;
	size_t off, hlen;
	int c, status;

	while ((c = getopt(argc, argv, "k:z:c:sbt:")) != -1) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 'z':
			zbytes = atol(optarg);
			break;
		case 'c':
			close_after = atoi(optarg);
			break;
		case 's':
			print_body = false;
			break;
		case 'b':
			print_status = false;
			break;
		case 't':
			timeout = atol(optarg);
			break;
		default:
			return 2;
		}
	}
	if (argc - optind < 3 || argc - optind > 4) {
		fprintf(stderr, "usage: httpc [-k KEY] [-z BYTES] [-c N] [-s|-b] [-t S] METHOD PORT PATH [BODY]\n");
		return 2;
	}
	alarm(timeout);
	if (argc - optind == 4)
		data = argv[optind + 3];
	if (zbytes >= 0) {
		char *z = malloc(zbytes + 1);

		memset(z, 'x', zbytes);
		z[zbytes] = 0;
		data = z;
	}
	sock = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(atoi(argv[optind + 1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "httpc: connect: %s\n", strerror(errno));
		return 1;
	}
	if (asprintf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		     "%s%s%s%s%s%zu\r\n\r\n",
		     argv[optind], argv[optind + 2],
		     key ? "Authorization: Bearer " : "", key ? key : "",
		     key ? "\r\n" : "",
		     data ? "Content-Type: application/json\r\n" : "",
		     "Content-Length: ", data ? strlen(data) : 0) < 0)
		return 1;
	if (write(sock, req, strlen(req)) < 0 ||
	    (data && write(sock, data, strlen(data)) < 0)) {
		/* a server that answers early (413) may close first: read on */
	}
	/* the head */
	while (!(hdr_end = strstr(in ? in : "", "\r\n\r\n")))
		if (more() <= 0) {
			fprintf(stderr, "httpc: no response head\n");
			return 1;
		}
	hlen = hdr_end + 4 - in;
	if (sscanf(in, "HTTP/1.%*d %d", &status) != 1) {
		fprintf(stderr, "httpc: bad status line\n");
		return 1;
	}
	*hdr_end = 0;
	for (p = strstr(in, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		if (!strncasecmp(p + 2, "transfer-encoding:", 18) &&
		    strcasestr(p + 2, "chunked"))
			chunked = true;
		if (!strncasecmp(p + 2, "content-length:", 15))
			clen = atoll(p + 17);
	}
	if (print_status)
		printf("%d\n", status);
	off = hlen;
	if (!chunked) {
		for (;;) {
			if (in_len > off) {
				body(in + off, in_len - off);
				off = in_len;
			}
			if (clen >= 0 && (long long)(off - hlen) >= clen)
				break;
			if (more() <= 0)
				break;
		}
		return clen >= 0 && (long long)(off - hlen) < clen;
	}
	for (;;) {
		unsigned long sz;
		char *eol;

		while (!(eol = strstr(in + off, "\r\n")))
			if (more() <= 0)
				return 1;
		sz = strtoul(in + off, NULL, 16);
		off = eol + 2 - in;
		if (!sz)
			break;
		while (in_len < off + sz + 2)
			if (more() <= 0) {
				body(in + off, in_len - off);
				return 1;
			}
		body(in + off, sz);
		off += sz + 2;
	}
	return 0;
}
