// SPDX-License-Identifier: GPL-2.0
/*
 * llmctl serve in llmctl.static: not there.  libmicrohttpd links GnuTLS,
 * which cannot be linked statically on Debian (no static p11-kit), so
 * the HTTP server is in the dynamically linked llmctl only.
 */
#include "../llmctl.h"

void help_serve(FILE *out)
{
	fprintf(out,
		"usage: llmctl serve [options]\n"
		"\n"
		"This llmctl is linked statically and has no HTTP server: llmctl\n"
		"serve is in the dynamically linked llmctl (it needs libmicrohttpd).\n");
}

int cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "llmctl serve: this llmctl is linked statically without the HTTP server; use the dynamically linked llmctl (build/llmctl)\n");
	return EXIT_FAIL;
}
