# SPDX-License-Identifier: GPL-2.0
# timeout: 3000
# memory: 1G
# The soak (issue 8, point 11; make soak, outside make test): WORKERS
# processes make SOAK_REQUESTS requests in all, over every interface —
# write/read, GENERATE, the mmap ring, the in-kernel API — with random
# cancels, closes mid-request, signal storms and RESETs, while root
# unloads and reloads the model every N/40 to 3N/40 requests (paced by
# requests, not the clock, so a slow debug kernel churns as often).  Then:
#  - every request that completed (not cancelled, no error) gave exactly
#    the text it gives alone;
#  - every slot is free, nothing runs, the arena is back at its
#    model-only level, and after rmmod VmallocUsed is where it was;
#  - the counters add up: requests_total and errors_total moved by what
#    the clients saw (each request counted once, by its outcome);
#  - on a kmemleak kernel, /init scans after rmmod (any leak fails).
#
#   root: insmod, load, [unload, load] * ...        workers 1..W: requests
#   llm_client.ko (in-kernel API) loaded now and then by root

M=/models/stories260K.gguf
C=/extra/llm_client.ko
need $M "the project's models/ directory"
need $C "make samples"

N=${soak_requests:-600}
W=${soak_workers:-6}
PER=$((N / W))

sync
echo 3 > /proc/sys/vm/drop_caches
V0=$(meminfo VmallocUsed)
check "insmod llm.ko sessions=16 sessions_per_user=16 sessions_kernel=2" \
	llm_load sessions=16 sessions_per_user=16 sessions_kernel=2 || return
check "llmctl load $M" llmctl load -q $M || return
A0=$(llm_sys arena_used)

prompt() {
	case $1 in
	0) echo "Once upon a time" ;;
	1) echo "Tom had a red ball" ;;
	2) echo "The little dog was sad because" ;;
	3) echo "One day, a big bird" ;;
	4) echo "Lily and Tom went to the park" ;;
	5) echo "Sam said" ;;
	6) echo "The sun" ;;
	*) echo "Mom made a cake" ;;
	esac
}

# Sampled and seeded: each prompt has its own text, the same every time.
par() {
	echo "params 800 0 950 40 $((100 + $1))"
}

k=0
while [ $k -lt 8 ]; do
	# shellcheck disable=SC2046
	llmprobe $(par $k) gen "$(prompt $k)" /tmp/ref.$k > /dev/null
	k=$((k + 1))
done
check "the 8 reference texts are there" test -s /tmp/ref.7

# One request of worker $1, number $2, kind picked at random.
one() {
	local w=$1 i=$2 k=$((RANDOM % 8)) out=/tmp/o.$1.$2 pp

	pp=$(prompt $k)
	# shellcheck disable=SC2046
	case $((RANDOM % 10)) in
	0|1) llmprobe $(par $k) w "$pp" r $out ;;
	2|3) llmprobe $(par $k) gen "$pp" $out ;;
	4) llmprobe $(par $k) ring 0 0 0 map full \
		sqe 1 0 ${#pp} 0 "$pp" enter 0 drain 1 $out ;;
	5) llmprobe $(par $k) w "$pp" sigcancel $((RANDOM % 60)) r - ;;
	6) llmprobe $(par $k) sigcancel $((RANDOM % 60)) gen "$pp" - ;;
	7) llmprobe $(par $k) storm 900 gen "$pp" $out calm ;;
	8) llmprobe $(par $k) w "$pp" r1 close ;;
	*) llmprobe $(par $k) w "$pp" r - reset w "$pp" r $out ;;
	esac > /tmp/l.$w.$i 2>&1
	echo "$k" > /tmp/k.$w.$i
	# no model for now: a client waits a little before its next try
	! grep -Eq 'ENODATA|EBUSY|-61|-16' /tmp/l.$w.$i || sleep 0.5
}

worker() {
	local i=0

	while [ $i -lt $PER ]; do
		one "$1" $i
		i=$((i + 1))
	done
	touch /tmp/done.$1
}

# Root: unload and reload, and the in-kernel API, until the workers end:
# a cycle every N/20 requests or so (so as often on a slow debug kernel).
churn() {
	local n=0 toks seen next=$((N / 20))

	while [ "$(ls /tmp/done.* 2>/dev/null | wc -l)" -lt $W ]; do
		sleep 0.2
		seen=$(ls /tmp/l.* 2>/dev/null | wc -l)
		[ "$seen" -ge $next ] || continue
		next=$((seen + N / 40 + RANDOM % (N / 20 + 1)))
		llmctl unload
		sleep "0.$((RANDOM % 3))"
		llmctl load -q $M
		n=$((n + 1))
		if [ $((n % 3)) = 0 ]; then
			toks=$((RANDOM % 20 + 5))
			echo "== kapi $toks" >> /tmp/kapi.log
			dmesg_mark
			insmod $C "prompt=\"$(prompt 0)\"" tokens=$toks 2>/dev/null &&
				rmmod llm_client
			dmesg_since_mark | grep 'llm_client:' >> /tmp/kapi.log
		fi
	done
	echo "$n" > /tmp/cycles
}

set -- $(llm_sys requests_total) $(llm_sys errors_total)
r0=$1 e0=$2
t0=$(now_ms)
w=1
while [ $w -le $W ]; do
	worker $w &
	w=$((w + 1))
done
churn &
wait
t1=$(now_ms)
llm_loaded || check "the module is loaded" false
check "the model is loaded at the end" llmctl load -q $M

# --- what the clients saw -------------------------------------------------

# Requests and errors in one probe log, by the rules of each interface: a
# write that failed is a refused request; a read after a write that
# succeeded ends that request; GENERATE is one; each END entry is one.
# A request closed after its first read ended unseen: if its model went
# meanwhile it failed (ENODEV), so it may be an error (the third figure).
count() {
	awk '
	$1 == "w" { if ($2 == "ok") pending = 1; else { req++; err++ } }
	($1 == "r" || $1 == "r1") && pending { req++; if ($2 != "ok") err++; pending = 0 }
	$1 == "gen" { req++; if ($2 != "ok") err++ }
	$1 == "drain" { for (i = 3; i <= NF; i++) { split($i, f, ":"); req++; if (f[2] != 0) err++ } }
	$1 == "close" { unsure++ }
	END { print req + 0, err + 0, unsure + 0 }' "$@"
}

reqs=0 errs=0 unsure=0 compared=0 wrong=0 cancelled=0
for log in /tmp/l.*; do
	set -- $(count "$log")
	reqs=$((reqs + $1)) errs=$((errs + $2)) unsure=$((unsure + $3))
	id=${log#/tmp/l.}
	out=/tmp/o.$id
	[ -f "$out" ] || [ -f "$out.1" ] || continue
	[ -f "$out.1" ] && out=$out.1
	k=$(cat /tmp/k.$id)
	# completed: ended normally (EOS, token limit, context), no error
	if grep -Eq '^(r ok|gen ok .* stop=[124])|^drain ok 1:0:[124]:' "$log" &&
	   ! grep -Eq 'stop=5|:5:|ENODEV|ENODATA|EBUSY' "$log"; then
		compared=$((compared + 1))
		if ! cmp -s "$out" /tmp/ref.$k; then
			wrong=$((wrong + 1))
			echo "$LLM_TEST: $id (prompt $k) differs: $(head -c 80 "$out")" >&2
		fi
	else
		cancelled=$((cancelled + 1))
	fi
done
kreq=$(grep -c 'llm_client: \(buffer\|callback\|generate failed\|generate_cb failed\)' /tmp/kapi.log)
kerr=$(grep -c 'llm_client: generate\(_cb\)\? failed' /tmp/kapi.log)
kok=$(grep -c 'llm_client: the two runs agree' /tmp/kapi.log)
kbad=$(grep -c 'llm_client: the two runs differ' /tmp/kapi.log)
echo "$LLM_TEST: $((t1 - t0)) ms, $W workers, $reqs requests ($errs failed, $unsure closed unseen), $compared compared, $cancelled cut short, $(cat /tmp/cycles) unload/load cycles, in-kernel API $kreq requests ($kerr failed, $kok agreeing pairs)"

echo "$LLM_TEST: errors seen: $(cat /tmp/l.* | grep -Eo '^(w|r|r1|gen) E[A-Z0-9]+|drain ok 1:-[0-9]+' | sort | uniq -c | tr '\n' ' ')"
check_range "the clients made their requests" $((N / 2)) 100000 $reqs
check_range "many of them completed and were compared" $((N / 10)) 100000 $compared
check_eq "every completed request gave exactly its text alone" 0 $wrong
check_eq "the in-kernel API's two runs never differed" 0 $kbad
check_range "the model went and came back many times" 5 100000 "$(cat /tmp/cycles)"
check_eq "requests_total moved by what the clients saw" \
	$((r0 + reqs + kreq)) "$(llm_sys requests_total)"
check_range "errors_total too (up to $unsure closed unseen)" \
	$((e0 + errs + kerr)) $((e0 + errs + kerr + unsure)) "$(llm_sys errors_total)"

# --- afterwards -------------------------------------------------------------

check_eq "every session slot is free" 0 "$(llm_sys sessions_active)"
check_eq "nothing is running" 0 "$(llm_sys requests_running)"
check_eq "the arena is at its model-only level" "$A0" "$(llm_sys arena_used)"
check "rmmod llm" llm_unload
sync
echo 3 > /proc/sys/vm/drop_caches
# kworker stacks come and go: 1 MiB of slack, against a 64 MiB arena
check_range "VmallocUsed is back where it was before insmod (${V0} kB)" \
	0 $((V0 + 1024)) "$(meminfo VmallocUsed)"
