#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/llama-diff.sh: llm against llama.cpp itself (Debian unstable's
# binary packages, fetched once into $BUILD/llama.cpp by
# scripts/fetch-llama.sh and run through their own loader).
#
# The quantizers: for synthetic models whose rows are whole K-quant
# super-blocks (made by build/tools/mkmodel: 8 layers, so that llama.cpp's
# use_more_bits() picks a mix of layers; with and without a tied
# classifier), `llama-quantize F32 OUT MIX` and `llmctl quantize F32 OUT
# mix` for Q4_K_M, Q5_K_M, Q6_K and Q8_0 must give the same tensors: each
# of the same type, with the same bytes (build/tools/ggufcmp; the order of
# tensors may differ, llama.cpp writes them in its loader's order).
#
# One PASS/FAIL line per check, as tests/run-all.sh counts them.  When the
# Debian archive cannot be reached the fetch fails with apt's words and
# this counts as a failure, not a skip.
# Environment: BUILD (default build).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
BUILD=${BUILD:-build}
DIR=$BUILD/llama-diff
LLAMA=scripts/fetch-llama.sh
fails=0

pass() { echo "PASS llama: $1"; }
fail() { echo "FAIL llama: $1: $2"; fails=$((fails + 1)); }

if ! $LLAMA > "$DIR.fetch.log" 2>&1; then
	fail "llama.cpp from Debian's unstable suite" \
		"cannot be fetched: $(tail -3 "$DIR.fetch.log" | tr '\n' ' ')"
	exit 1
fi
for t in tools/mkmodel tools/ggufcmp llmctl; do
	[ -x "$BUILD/$t" ] || make -s BUILD="$BUILD" "$BUILD/$t" >&2 || exit 2
done
mkdir -p "$DIR"
echo "llama-diff: llama.cpp $(sed -n 's/^llama\.cpp-tools_\(.*\)_[a-z0-9]*\.deb$/\1/p' \
	"$BUILD/llama.cpp/packages.txt" | sed 's/%3a/:/')" >&2

for shape in untied tied; do
	f32=$DIR/k-$shape.gguf
	"$BUILD/tools/mkmodel" -q --dim 256 --layers 8 --heads 4 --kv-heads 2 \
		--ffn 768 --vocab 512 --context 256 --seed 7 \
		$([ $shape = tied ] && echo --tied) "$f32" || exit 2
	for mix in Q4_K_M Q5_K_M Q6_K Q8_0; do
		lower=$(echo $mix | tr A-Z a-z)
		theirs=$DIR/llama-$shape-$mix.gguf
		ours=$DIR/llm-$shape-$mix.gguf
		what="llmctl quantize $lower = llama-quantize $mix ($shape classifier)"
		if ! $LLAMA --run llama-quantize "$f32" "$theirs" $mix \
				> "$theirs.log" 2>&1; then
			fail "$what" "llama-quantize failed: $(tail -2 "$theirs.log" | tr '\n' ' ')"
			continue
		fi
		if ! "$BUILD/llmctl" quantize -q "$f32" "$ours" $lower \
				2> "$ours.log"; then
			fail "$what" "$(cat "$ours.log")"
			continue
		fi
		if "$BUILD/tools/ggufcmp" "$theirs" "$ours" > "$ours.cmp"; then
			pass "$what: $(tail -1 "$ours.cmp")"
		else
			fail "$what" "$(head -5 "$ours.cmp" | tr '\n' ';')"
		fi
	done
done
[ $fails -eq 0 ]
