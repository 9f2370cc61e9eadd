#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/demo-test.sh: make demo works as the README says, with its
# output going to a file, for the default model and for a model of
# stories110M's size.  Prints one PASS/FAIL line per check; exit status 1
# on any FAIL.
#
# usage: scripts/demo-test.sh [--quick]
#   default   make demo (models/stories260K.gguf, about 15 s), then
#             make demo MODEL=<synthetic stories110M-shaped Q4_0, 76 MB>
#             TOKENS=3 (about a minute under TCG: loading 76 MB and three
#             tokens of a 134M-parameter model in an emulated guest)
#   --quick   only the first (make test runs this)
# make demo-test runs the whole thing; it is not part of make test.
# The synthetic model is made by build/tools/mkmodel and llmctl quantize,
# and kept in $BUILD/demo-test/ for the next run.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
BUILD=${BUILD:-build}
D=$BUILD/demo-test
QUICK=0
FAILED=0

case ${1:-} in
--quick) QUICK=1 ;;
'') ;;
*) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac
unset MAKEFLAGS MFLAGS MAKELEVEL

pass() { echo "PASS demo: $1"; }
fail() { echo "FAIL demo: $1${2:+: $2}"; FAILED=1; }

# check WHAT FILE ERE: a line of FILE matches ERE.
check_out() {
	if grep -Eq -- "$3" "$2"; then
		pass "$1"
	else
		fail "$1" "no line matching /$3/ in $2"
	fi
}

# run_demo NAME MAKE-ARGS...: make demo, stdout and stderr to files.
run_demo() {
	local name=$1 t0=$SECONDS st cmd
	shift
	cmd="make demo${*:+ $*}"

	echo "demo-test: $cmd > $D/$name.out 2> $D/$name.err" >&2
	make -s --no-print-directory BUILD="$BUILD" demo "$@" \
		> "$D/$name.out" 2> "$D/$name.err" < /dev/null
	st=$?
	echo "demo-test: $name: $((SECONDS - t0)) s" >&2
	if [ $st -eq 0 ]; then
		pass "$name: $cmd exits 0"
	else
		fail "$name: $cmd exits 0" "status $st (see $D/$name.err)"
		tail -20 "$D/$name.err" | sed 's/^/    /' >&2
		return 1
	fi
	# All of it is in the files when make returns, in order.
	check_out "$name: the output ends with the module's unload" "$D/$name.out" \
		'^=== rmmod llm$'
	if [ "$(tail -1 "$D/$name.err")" = "make demo: done (console log: $BUILD/demo/out/logs/demo.log)" ]; then
		pass "$name: make demo's last word is done"
	else
		fail "$name: make demo's last word is done" "it is '$(tail -1 "$D/$name.err")'"
	fi
}

# The arena make demo gave the module is what llmctl info -m asks for.
check_arena() {
	local name=$1 model=$2 mb

	mb=$("$BUILD/llmctl" info -m "$model" --arena-mb) ||
		{ fail "$name: llmctl info -m $model --arena-mb"; return; }
	check_out "$name: the arena is llmctl info -m's $mb MiB" "$D/$name.out" \
		"^=== insmod llm.ko arena_mb=$mb( |\$)"
}

mkdir -p "$D"
make -s --no-print-directory BUILD="$BUILD" user tools > /dev/null ||
	{ fail "build: make user tools"; exit 1; }

if run_demo default; then
	check_out "default: the kernel tells llama2.c's story" "$D/default.out" \
		'^Once upon a time, there was a little girl named Lily\. She loved to play outside in the park\.'
	check_out "default: the one-shot /dev/llm completion" "$D/default.out" \
		'^, there was a little girl named Lily\.'
	check_arena default models/stories260K.gguf
fi
[ $QUICK = 1 ] && exit $FAILED

# A model of stories110M's shape and size (dim 768, 12 layers, 12 heads,
# ffn 2048, vocab 32000), Q4_0, as make demo MODEL= would get it.
M=$D/stories110M-synthetic-q4_0.gguf
if [ ! -s "$M" ] || [ "$BUILD/tools/mkmodel" -nt "$M" ]; then
	"$BUILD/tools/mkmodel" -q --shape stories110M "$D/f32.gguf" &&
		"$BUILD/llmctl" quantize -q "$D/f32.gguf" "$M.tmp" q4_0 &&
		mv "$M.tmp" "$M"
	rm -f "$D/f32.gguf" "$M.tmp"
fi
bytes=$(stat -c %s "$M" 2>/dev/null || echo 0)
if [ "$bytes" -gt 70000000 ] && [ "$bytes" -lt 80000000 ]; then
	pass "stories110M: the synthetic Q4_0 model is $bytes bytes"
else
	fail "stories110M: the synthetic Q4_0 model is 70..80 MB" "$bytes bytes"
	exit 1
fi
if run_demo stories110M MODEL="$M" TOKENS=3 PROMPT="Once upon a time"; then
	check_arena stories110M "$M"
	check_out "stories110M: llmctl generate made its 3 tokens in the kernel" \
		"$D/stories110M.out" '^prompt tokens 5, generated tokens 3, '
	check_out "stories110M: the module reports the model" "$D/stories110M.out" \
		'^model_params +134105856$'
fi
exit $FAILED
