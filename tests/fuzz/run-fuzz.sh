#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run one libFuzzer target for a bounded time and print one result line:
#   PASS fuzz: NAME (N runs, T s)
#   FAIL fuzz: NAME: what went wrong; reproducer: PATH
# New inputs go to WORKDIR/corpus (kept between runs), crashes to
# WORKDIR/artifacts, the whole output to WORKDIR/fuzz.log.  Exit status 1
# on FAIL.  Replay a reproducer with: BINARY PATH
#
# usage: run-fuzz.sh NAME BINARY WORKDIR SECONDS MAX_LEN SEED_DIR...

[ $# -ge 5 ] || {
	echo "usage: $0 NAME BINARY WORKDIR SECONDS MAX_LEN SEED_DIR..." >&2
	exit 2
}
name=$1 bin=$2 work=$3 secs=$4 maxlen=$5
shift 5

mkdir -p "$work/corpus" "$work/artifacts" || exit 1
log=$work/fuzz.log
t0=$(date +%s)
"$bin" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 \
	-rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work/artifacts/" "$work/corpus" "$@" > "$log" 2>&1
st=$?
t=$(($(date +%s) - t0))
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)

if [ $st -eq 0 ] && grep -q '^Done [0-9]* runs' "$log"; then
	echo "PASS fuzz: $name (${runs:-?} runs, $t s)"
	exit 0
fi
repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
what=$(grep -m 1 -E '^==[0-9]+==ERROR|runtime error:|^fuzz_[a-z_]*: |deadly signal|out-of-memory|timeout' "$log" |
	sed 's/^==[0-9]*==//')
echo "FAIL fuzz: $name: ${what:-exit status $st}; reproducer: ${repro:-none} (log: $log)"
exit 1
