# SPDX-License-Identifier: GPL-2.0
# timeout: 400
# The compute threads (issue 9): llm.ko's threads parameter (default one
# per online CPU, threads - 1 llm_pool/N kthreads, gone at rmmod, shown by
# llmctl info, the same text whatever the count; so for llmctl generate -m
# -j), and the pool itself through llm_pooltest, which builds
# llm/core/pool_kernel.c into a module of its own and checks it at load
# with 1, 2 and 4 threads on this guest's CPUs (2 by default: 4 is more
# threads than CPUs).  Then a CPU goes offline and back while a thread
# calls llm_parallel_for() without pause (no call may hang), and suspend's
# freezer stage (through /sys/power/pm_test) must freeze llm.ko's helpers.

M=/models/stories260K.gguf
T=/extra/llm_pooltest.ko
need $M "the project's models/ directory"
need $T "make test-kmods"

cpus=$(grep -c '^processor' /proc/cpuinfo)

# The llm_pool/N kthreads of llm.ko and of llm_pooltest.
helpers() {
	cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^llm_pool/'
}

check "insmod llm.ko (threads by default)" llm_load || return
check_eq "parameter threads is the online CPUs ($cpus)" "$cpus" \
	"$(llm_param threads)"
check_eq "$((cpus - 1)) helper kthreads" $((cpus - 1)) "$(helpers)"
check "rmmod llm" llm_unload || return
check_eq "no helper kthread is left" 0 "$(helpers)"

for n in 1 2 4; do
	check "insmod llm.ko threads=$n" llm_load threads=$n || return
	check_eq "parameter threads is $n" $n "$(llm_param threads)"
	check_eq "threads=$n: $((n - 1)) helper kthreads" $((n - 1)) "$(helpers)"
	check_output "threads=$n: llmctl info says so" "^threads +$n\$" llmctl info
	check "threads=$n: llmctl load $M" llmctl load -q $M || return
	llmctl generate -q --ids -n 100 -t 0 "Once upon a time" > /tmp/gen.$n
	check_range "threads=$n: 100 tokens generated" 100 100 \
		"$(wc -l < /tmp/gen.$n)"
	check "rmmod llm" llm_unload || return
	check_eq "threads=$n: no helper kthread is left" 0 "$(helpers)"
done
check "threads=2 gives the tokens threads=1 gives" cmp /tmp/gen.1 /tmp/gen.2
check "threads=4 gives the tokens threads=1 gives" cmp /tmp/gen.1 /tmp/gen.4
for n in 1 2 4; do
	llmctl generate -q -m $M -j $n --ids -n 100 -t 0 "Once upon a time" \
		> /tmp/user.$n
done
check "llmctl generate -m: -j 2 gives the tokens -j 1 gives" \
	cmp /tmp/user.1 /tmp/user.2
check "llmctl generate -m: -j 4 gives the tokens -j 1 gives" \
	cmp /tmp/user.1 /tmp/user.4
check "... and the kernel's" cmp /tmp/user.1 /tmp/gen.1

dmesg_mark
check_fails "insmod threads=1025 is refused" llm_load threads=1025
check_dmesg "... and the kernel log says why" \
	'llm: threads=1025 is out of range: it must be 1\.\.1024, or 0 for one per online CPU$'
check "insmod threads=0 (one per online CPU)" llm_load threads=0 || return
check_eq "parameter threads is $cpus" "$cpus" "$(llm_param threads)"
check "rmmod llm" llm_unload || return

# run_pooltest PARAM...: load llm_pooltest, report its lines.
run_pooltest() {
	local n

	dmesg_mark
	check "insmod llm_pooltest.ko $*" insmod $T "$@" || return
	dmesg_since_mark | sed -nE 's/.*llm_pooltest: (PASS|FAIL) //p' > /tmp/pool
	n=$(wc -l < /tmp/pool)
	check_range "llm_pooltest $* ran its checks" 5 100 "$n"
	while IFS= read -r line; do
		case $line in
		*": at "*) fail "$* ${line%%: at *}" "${line#*: }" ;;
		*) pass "$*: $line" ;;
		esac
	done < /tmp/pool
	check_dmesg "llm_pooltest $* to the end" 'llm_pooltest: done, 0 failed'
	dmesg_since_mark | sed -n 's/.*llm_pooltest: cost/llm_pooltest: cost/p'
}

for n in 1 2 4; do
	run_pooltest threads=$n || return
	check "rmmod llm_pooltest" rmmod llm_pooltest
done

# A CPU goes offline and comes back while a thread calls without pause.
check "insmod llm.ko threads=4" llm_load threads=4 || return
run_pooltest threads=4 background=1 || return
check_eq "6 helper kthreads (llm.ko's and llm_pooltest's)" 6 "$(helpers)"
if [ -w /sys/devices/system/cpu/cpu1/online ]; then
	check "CPU 1 goes offline" \
		sh -c 'echo 0 > /sys/devices/system/cpu/cpu1/online'
	sleep 1
	check "CPU 1 comes back" \
		sh -c 'echo 1 > /sys/devices/system/cpu/cpu1/online'
	sleep 1
else
	skip "CPU 1 offline and back" "CPU 1 cannot be taken offline"
fi
dmesg_mark
check "rmmod llm_pooltest (background)" rmmod llm_pooltest
check_dmesg "the background calls all ran every task once" \
	'llm_pooltest: PASS background calls all ran every task once'
longest=$(dmesg_since_mark |
	sed -n 's/.*llm_pooltest: background: [0-9]* calls, the longest \([0-9]*\) us$/\1/p')
dmesg_since_mark | grep 'llm_pooltest: background'
check_range "no call took a second or more" 0 999999 "$longest"

# Suspend's freezer stage freezes llm.ko's helpers.  With the pool idle:
# entering the freezer flips a static key, and a helper that runs through
# that key's patched site in a tight loop (the pool busy) can meet a stale
# translation of it under QEMU's TCG (the int3 of the patch, forever).
if [ -w /sys/power/pm_test ] && grep -qw freeze /sys/power/state; then
	[ -w /sys/module/suspend/parameters/pm_test_delay ] &&
		echo 1 > /sys/module/suspend/parameters/pm_test_delay
	echo freezer > /sys/power/pm_test
	dmesg_mark
	check "suspend to idle, freezer stage only" \
		sh -c 'echo freeze > /sys/power/state'
	echo none > /sys/power/pm_test
	check_dmesg "every freezable task froze" \
		'Freezing remaining freezable tasks completed'
else
	skip "suspend to idle, freezer stage only" "no /sys/power/pm_test"
fi
check_eq "the 3 helper kthreads are back" 3 "$(helpers)"
check "rmmod llm" llm_unload
check_eq "no helper kthread is left" 0 "$(helpers)"
