#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/bench-models.sh: the synthetic models make bench measures, made
# by this project (build/tools/mkmodel, then llmctl quantize), cached in
# $BUILD/bench-models/ and printed one path a line.
#
# usage: scripts/bench-models.sh SHAPE TYPE...
#   SHAPE  a mkmodel preset: stories15M, stories110M, TinyLlama-1.1B, ...
#          (build/tools/mkmodel --help)
#   TYPE   f32, q8_0, q4_0 or a K-quant mix: q4_k_m, q5_k_m, q6_k (a
#          shape whose rows are not whole super-blocks of 256 has no K
#          file: it is left out, with a note on stderr)
#
# The weights are pseudo-random (seed 1) at a scale that keeps the
# activations finite, the vocabulary a working SentencePiece-style one of
# the shape's size: the files load in llm and in llama.cpp alike, and a
# token costs what it costs on the real model of that shape.  A file is
# written under a temporary name and renamed when complete, so an
# interrupted run leaves no half file; the F32 file stays as the source of
# the others (TinyLlama-1.1B's is 4.4 GB).  Needs build/tools/mkmodel and
# build/llmctl (make tools user).
# Environment: BUILD (default build).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
DIR=$BUILD/bench-models

die() {
	echo "bench-models: $*" >&2
	exit 2
}

[ $# -ge 2 ] || die "usage: scripts/bench-models.sh SHAPE TYPE..."
shape=$1
shift
for t in "$@"; do
	case $t in f32|q8_0|q4_0|q4_k_m|q5_k_m|q6_k) ;;
	*) die "no type '$t' (f32, q8_0, q4_0, q4_k_m, q5_k_m or q6_k)" ;; esac
done
if [ ! -x "$BUILD/tools/mkmodel" ] || [ ! -x "$BUILD/llmctl" ]; then
	die "build $BUILD/tools/mkmodel and $BUILD/llmctl first (make tools user)"
fi
mkdir -p "$DIR"

f32=$DIR/$shape-f32.gguf
for t in "$@"; do
	out=$DIR/$shape-$t.gguf
	if [ ! -s "$out" ]; then
		if [ ! -s "$f32" ]; then
			echo "bench-models: writing $f32" >&2
			"$BUILD/tools/mkmodel" -q --shape "$shape" "$f32.tmp" ||
				die "mkmodel --shape $shape failed"
			mv "$f32.tmp" "$f32"
		fi
		if [ "$t" != f32 ]; then
			echo "bench-models: quantizing to $out" >&2
			if ! msg=$("$BUILD/llmctl" quantize "$f32" "$out.tmp" "$t" 2>&1); then
				case $msg in *"not a multiple of 256"*)
					echo "bench-models: no $t file for $shape: its rows are not whole super-blocks" >&2
					continue ;;
				esac
				echo "$msg" >&2
				die "llmctl quantize $f32 $t failed"
			fi
			mv "$out.tmp" "$out"
		fi
	fi
	echo "$out"
done
