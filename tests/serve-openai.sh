#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/serve-openai.sh: OpenAI's node client (npm openai, fetched once
# into build/npm-openai) against llmctl serve.  First on this machine,
# where no module answers (--dev names a missing node): what reaches a
# real OpenAI client when a request fails (the status, code and message
# of the error object, the Bearer key as the client sends it, a stream
# that fails before its first event, 413).  Then against the server in a
# QEMU guest with the kernel's model, forwarded to a port here by QEMU's
# user network: completions plain and streamed, usage, stop, seeds,
# concurrent clients, an aborted stream (tests/serve/openai-guest.mjs;
# the guest's half is qemu-tests/serve-host/openai.sh).
# Prints PASS/FAIL lines; exit status 1 on a failure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
LLMCTL=$BUILD/llmctl
NPM=$BUILD/npm-openai
PORT=${SERVE_OPENAI_PORT:-$((20000 + RANDOM % 20000))}
GUEST=1
# --no-guest: the host half only (make test --skip qemu)
[ "${1:-}" = --no-guest ] && GUEST=0

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
[ $GUEST -eq 1 ] || exit $st

# Then the kernel's model: a QEMU guest (qemu-tests/serve-host/openai.sh)
# runs llmctl serve, its port 8080 forwarded by QEMU's user network to
# HPORT here (restrict=on: the guest reaches nothing else), and 9999 to
# DPORT, where this side says it is done.
HPORT=$((20000 + RANDOM % 20000))
DPORT=$((HPORT + 1))
GLOG=$BUILD/qemu-serve-host/run.out
mkdir -p "$BUILD/qemu-serve-host"
LLM_QEMU_KMODS="virtio_pci virtio_net" \
LLM_QEMU_ARGS="-netdev user,id=u0,restrict=on,hostfwd=tcp:127.0.0.1:$HPORT-:8080,hostfwd=tcp:127.0.0.1:$DPORT-:9999 -device virtio-net-pci,netdev=u0" \
	qemu-tests/run.sh --tests-dir qemu-tests/serve-host \
	--out "$BUILD/qemu-serve-host" openai > "$GLOG" 2>&1 &
RUN=$!
trap 'kill $RUN 2> /dev/null' EXIT
up=0
for _ in $(seq 1500); do
	kill -0 $RUN 2> /dev/null || break
	if curl -s -o /dev/null -m 2 "http://127.0.0.1:$HPORT/health"; then
		up=1
		break
	fi
	sleep 0.2
done
if [ $up -eq 1 ]; then
	node tests/serve/openai-guest.mjs "$ROOT/$NPM/node_modules" \
		"http://127.0.0.1:$HPORT/v1" sk-guest || st=1
	for _ in $(seq 50); do
		{ echo done > "/dev/tcp/127.0.0.1/$DPORT"; } 2> /dev/null && break
		sleep 0.2
	done
else
	echo "FAIL serve-openai: guest: its server never answered on 127.0.0.1:$HPORT (log: $GLOG)"
	st=1
fi
wait $RUN || st=1
trap - EXIT
grep -E '^(PASS|FAIL|SKIP) ' "$GLOG" | sed 's|^\([A-Z]*\) qemu/|\1 serve-openai: guest: |'
exit $st
