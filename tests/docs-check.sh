#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Docs that must stay true to the code: prints one PASS/FAIL line each.
#  - docs/llmctl.md is what scripts/llmctl-doc.sh makes from llmctl now;
#  - docs/sysfs-kernel-llm documents exactly the files llm/sysfs.c makes;
#  - README.md names every module parameter llm/main.c declares.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}

if [ -x "$BUILD/llmctl" ]; then
	if scripts/llmctl-doc.sh "$BUILD/llmctl" | cmp -s - docs/llmctl.md; then
		echo "PASS docs: docs/llmctl.md matches llmctl --help"
	else
		echo "FAIL docs: docs/llmctl.md is stale: run scripts/llmctl-doc.sh > docs/llmctl.md"
	fi
else
	echo "SKIP docs: llmctl.md: $BUILD/llmctl not built"
fi

code=$(sed -n 's/^\t&\([a-z_0-9]*\)_attr\.attr,$/\1/p' llm/sysfs.c | sort)
doc=$(sed -n 's|^What:\t*/sys/kernel/llm/||p' docs/sysfs-kernel-llm | sort)
if [ -n "$code" ] && [ "$code" = "$doc" ]; then
	echo "PASS docs: docs/sysfs-kernel-llm documents the $(echo "$code" | wc -l) sysfs files"
else
	echo "FAIL docs: sysfs files and docs/sysfs-kernel-llm differ: $(diff <(echo "$code") <(echo "$doc") | grep '^[<>]' | tr '\n' ' ')"
fi

missing=
for p in $(sed -n 's/^module_param[a-z_]*(\([a-z_]*\),.*/\1/p' llm/main.c); do
	grep -q "\`$p\`" README.md || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "PASS docs: README.md names every module parameter"
else
	echo "FAIL docs: README.md does not name the module parameters:$missing"
fi
