#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/serve-openai.sh: OpenAI's node client (npm openai, fetched once
# into build/npm-openai) against llmctl serve on this machine.  No model
# answers here (the module runs in the QEMU guests, where
# qemu-tests/tests/serve.sh asks the server with its own client), so this
# checks what reaches a real OpenAI client when a request fails: the
# status, code and message of the error object, the Bearer key as the
# client sends it, a stream that fails before its first event, and 413.
# Prints PASS/FAIL lines; exit status 1 on a failure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
LLMCTL=$BUILD/llmctl
NPM=$BUILD/npm-openai
PORT=${SERVE_OPENAI_PORT:-18089}

[ -x "$LLMCTL" ] || { echo "FAIL serve-openai: $LLMCTL is not built (make user)"; exit 1; }
if [ ! -d "$NPM/node_modules/openai" ]; then
	mkdir -p "$NPM"
	# openai 4.x: the last major that runs on Debian 12's node 18/20
	if ! (cd "$NPM" && npm install --no-audit --no-fund --silent openai@4.95.0) \
		> "$NPM/npm.log" 2>&1; then
		echo "FAIL serve-openai: npm package openai cannot be installed: $(tail -3 "$NPM/npm.log" | tr '\n' ' ')"
		exit 1
	fi
fi

# --dev names a node that is not there: every generation finds no module
"$LLMCTL" --dev /nonexistent/llm serve --port "$PORT" --api-key sk-openai \
	--max-body 65536 2> "$NPM/serve.log" &
SRV=$!
trap 'kill $SRV 2> /dev/null; wait $SRV 2> /dev/null' EXIT
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$PORT/health" && break
	sleep 0.1
done
node tests/serve/openai-errors.mjs "$ROOT/$NPM/node_modules" \
	"http://127.0.0.1:$PORT/v1" sk-openai
st=$?
kill -TERM $SRV
wait $SRV
srv=$?
if [ $srv -eq 0 ]; then
	echo "PASS serve-openai: the server ends with status 0 on SIGTERM"
else
	echo "FAIL serve-openai: the server ended with status $srv: $(tail -3 "$NPM/serve.log")"
	st=1
fi
trap - EXIT
exit $st
