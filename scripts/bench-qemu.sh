#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The in-kernel half of make bench: in one QEMU guest, for each model in
# models/, generate with the kernel (llmctl generate) and with the userspace
# build of the same core (llmctl generate -m) from the same prompt, and
# print prefill and decode speeds side by side.  Under QEMU's emulation
# (TCG) absolute speeds mean little; the kernel/userspace ratio measured in
# the same VM is the figure to read.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
TOKENS=${TOKENS:-128}

D=$BUILD/bench-qemu
rm -rf "$D/tests"
mkdir -p "$D/tests" "$D/extra"
cat > "$D/tests/bench.sh" <<EOT
# timeout: 1800
# memory: 768M
dmesg -n 1
P="Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day"
speeds() {	# the stats line of llmctl generate -> "prefill decode"
	sed -n 's/.*prefill \([0-9.]*\) tok\/s, decode \([0-9.]*\) tok\/s.*/\1 \2/p' "\$1"
}
check "insmod llm.ko" insmod /llm.ko arena_mb=128 || return
printf '%-24s %-7s %12s %12s %12s %12s %8s\n' model kernels \\
	"kern prefill" "kern decode" "user prefill" "user decode" "k/u dec"
for m in stories260K.gguf stories260K-Q8_0.gguf stories260K-Q4_0.gguf; do
	[ -r /models/\$m ] || continue
	for ref in 0 1; do
		echo \$ref > /sys/module/llm/parameters/force_scalar
		llmctl load -q /models/\$m || { fail "load \$m"; continue; }
		llmctl generate -n $TOKENS -t 0 "\$P" > /dev/null 2> /tmp/k
		r=; [ \$ref = 1 ] && r=--ref
		llmctl generate \$r -m /models/\$m -n $TOKENS -t 0 "\$P" > /dev/null 2> /tmp/u
		set -- \$(speeds /tmp/k) \$(speeds /tmp/u)
		printf '%-24s %-7s %12s %12s %12s %12s %8s\n' \$m \\
			"\$(cat /sys/kernel/llm/model_kernels)" \$1 \$2 \$3 \$4 \\
			\$(awk -v a=\$2 -v b=\$4 'BEGIN { printf "%.2f", b ? a / b : 0 }')
	done
done
echo 0 > /sys/module/llm/parameters/force_scalar
pass "kernel benchmark ran"
rmmod llm
EOT
echo "bench: the kernel vs userspace in one QEMU guest ($TOKENS tokens per run)..." >&2
qemu-tests/run.sh --console -j 1 --tests-dir "$D/tests" --extra "$D/extra" \
	--out "$D/out" bench 2> >(awk '/^model /{ show = 1 } /^=== llm-qemu/{ show = 0 }
		/^PASS|^FAIL/ { next } show { print }') > "$D/results.txt" || {
	cat "$D/results.txt"; exit 1; }
wait
