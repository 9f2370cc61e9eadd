#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print docs/llmctl.md: the manual of llmctl, made from llmctl's own --help
# texts so that the two cannot drift apart (tests/docs-check.sh compares).
#   scripts/llmctl-doc.sh [LLMCTL] > docs/llmctl.md
set -eu
LLMCTL=${1:-build/llmctl}

cat <<'EOT'
# llmctl(1)

`llmctl` is the command-line tool of the llm kernel module: it loads models
into the kernel, asks it for completions (through `read()`/`write()`, the
`LLM_IOC_GENERATE` ioctl or the mmap ring), shows its state, and works on
GGUF files offline with the same code the module runs.

This page is generated from `llmctl --help` and `llmctl COMMAND --help`
(`scripts/llmctl-doc.sh > docs/llmctl.md`); the tool's own help is the
same text.

## Exit status

| status | meaning |
| --- | --- |
| 0 | success |
| 1 | the operation failed (the message says why) |
| 2 | bad command line |
| 3 | `/dev/llm` is missing: the module is not loaded |
| 4 | no model is loaded in the kernel |
| 5 | permission denied (loading and unloading need CAP_SYS_ADMIN; `llmctl ring`, CAP_NET_ADMIN or CAP_SYS_ADMIN) |
| 130 | interrupted by Ctrl-C (generation was stopped cleanly) |

Errors from the module are turned into sentences, e.g. `llmctl: setting
parameters: the module refused the request as invalid`.

## Synopsis

```
EOT
"$LLMCTL" --help
echo '```'
for cmd in $("$LLMCTL" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } /^$/ { on = 0 }'); do
	printf '\n## llmctl %s\n\n```\n' "$cmd"
	"$LLMCTL" "$cmd" --help
	echo '```'
done
