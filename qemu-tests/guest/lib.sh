# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the guest test scripts (qemu-tests/tests/*.sh).  /init loads
# this file before it sources a test script, so scripts call these directly.
#
# Every check prints exactly one result line, which the host collects:
#   PASS qemu/NAME: what
#   FAIL qemu/NAME: what: why
#   SKIP qemu/NAME: what: why
# Checks return 0 when they passed and 1 when they did not, so a script can
# stop early with `check ... || return` (a script that exits instead of
# running to its last line is reported as failed by the host).

LLM_KO=/llm.ko
LLM_SYS=/sys/kernel/llm
LLM_PARAMS=/sys/module/llm/parameters
LLM_DEV=/dev/llm
_LLM_OUT=/tmp/.check.out

_llm_result() {
	echo "$*"
	echo "$*" >> /tmp/results
}

pass() {
	_llm_result "PASS qemu/$LLM_TEST: $1"
	return 0
}

fail() {
	_llm_result "FAIL qemu/$LLM_TEST: $1: ${2:-failed}"
	return 1
}

skip() {
	_llm_result "SKIP qemu/$LLM_TEST: $1: ${2:-skipped}"
	return 0
}

# Printed by /init after the script's last line; see qemu-tests/run.sh.
test_end() {
	: > /tmp/.test-end
	echo "=== llm-qemu: test-end $LLM_TEST"
}

# Skip the whole script (e.g. a CPU feature is missing) and stop here.
skip_all() {
	skip "$LLM_TEST" "$1"
	test_end
	exit 0
}

# need FILE HINT: a file the script cannot do without (a model from the
# project's models/, a module make builds).  Missing, the test fails with
# one line that names it and HINT, and the script ends there: a missing
# file is a broken tree or build, never a reason to skip.
need() {
	[ -r "$1" ] && return 0
	fail "$LLM_TEST" "no $1 ($2)"
	test_end
	exit 0
}

# ": <the last command's output on one line>", or nothing if it was silent.
_llm_output() {
	[ -s "$_LLM_OUT" ] || return 0
	printf ': %s' "$(tr '\n\t' '  ' < "$_LLM_OUT" | cut -c1-240)"
}

# check WHAT CMD...: CMD must exit 0.
check() {
	local what="$1" st
	shift
	"$@" > "$_LLM_OUT" 2>&1
	st=$?
	[ $st -eq 0 ] && { pass "$what"; return; }
	fail "$what" "'$*' exited with status $st$(_llm_output)"
}

# check_fails WHAT CMD...: CMD must fail (a missing command does not count).
check_fails() {
	local what="$1" st
	shift
	"$@" > "$_LLM_OUT" 2>&1
	st=$?
	if [ $st -eq 127 ] || [ $st -eq 126 ]; then
		fail "$what" "'$1' could not be run (status $st)$(_llm_output)"
		return
	fi
	[ $st -ne 0 ] && { pass "$what"; return; }
	fail "$what" "'$*' succeeded but should have failed$(_llm_output)"
}

# check_status WHAT N CMD...: CMD must exit with status N.
check_status() {
	local what="$1" want="$2" st
	shift 2
	"$@" > "$_LLM_OUT" 2>&1
	st=$?
	[ $st -eq "$want" ] && { pass "$what"; return; }
	fail "$what" "'$*' exited with status $st, expected $want$(_llm_output)"
}

# check_output WHAT ERE CMD...: CMD must exit 0 and print a line matching ERE.
check_output() {
	local what="$1" re="$2" st
	shift 2
	"$@" > "$_LLM_OUT" 2>&1
	st=$?
	if [ $st -ne 0 ]; then
		fail "$what" "'$*' exited with status $st$(_llm_output)"
		return
	fi
	grep -Eq -- "$re" "$_LLM_OUT" && { pass "$what"; return; }
	fail "$what" "no line of '$*' matches /$re/$(_llm_output)"
}

# check_eq WHAT EXPECTED ACTUAL
check_eq() {
	[ "$2" = "$3" ] && { pass "$1"; return; }
	fail "$1" "expected '$2', got '$3'"
}

# check_match WHAT ERE TEXT: TEXT must match ERE.
check_match() {
	printf '%s\n' "$3" | grep -Eq -- "$2" && { pass "$1"; return; }
	fail "$1" "'$3' does not match /$2/"
}

# check_range WHAT MIN MAX VALUE: MIN <= VALUE <= MAX, integers.
check_range() {
	case "$4" in
	''|*[!0-9]*) fail "$1" "'$4' is not a number"; return ;;
	esac
	[ "$4" -ge "$2" ] && [ "$4" -le "$3" ] && { pass "$1"; return; }
	fail "$1" "$4 is not within $2..$3"
}

# sys_read PATH: the value of a sysfs (or proc) file; status 1 if unreadable.
sys_read() {
	[ -r "$1" ] || return 1
	cat "$1"
}

# llm_sys NAME / llm_param NAME: /sys/kernel/llm/NAME, the module parameter.
llm_sys() {
	sys_read "$LLM_SYS/$1"
}

llm_param() {
	sys_read "$LLM_PARAMS/$1"
}

# llm_load_mark: note a load of llm.ko in the kernel log.  The host
# reports the splats logged before the first one apart from the others
# (qemu-tests/run.sh): they cannot be llm.ko's doing.
llm_load_mark() {
	echo "llm-qemu: insmod llm.ko" > /dev/kmsg
}

# llm_load [PARAM=VALUE...] / llm_unload / llm_loaded
llm_load() {
	llm_load_mark
	insmod "$LLM_KO" "$@" || return
	# under kmemleak: where this load sits, to read leak traces by
	[ -w /sys/kernel/debug/kmemleak ] &&
		echo "=== llm-qemu: llm .text $(cat /sys/module/llm/sections/.text)" \
			> /dev/console
	return 0
}

llm_unload() {
	rmmod llm
}

llm_loaded() {
	grep -q '^llm ' /proc/modules
}

# meminfo KEY: a /proc/meminfo value in kB.
meminfo() {
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

# free_kb: free memory in kB, counting the pages freed onto the per-CPU
# lists (/proc/zoneinfo's "count:"), which MemFree leaves out: since 6.7
# those lists tune themselves up to tens of MiB, so MemFree alone swings
# by that much from one moment to the next.  (4 KiB pages: x86_64.)
free_kb() {
	local pcp

	pcp=$(awk '$1 == "count:" { n += $2 } END { print n + 0 }' /proc/zoneinfo)
	echo $(($(meminfo MemFree) + pcp * 4))
}

# dmesg_mark: note the current end of the kernel log; dmesg_since_mark
# prints what the kernel logged after the last mark.
dmesg_mark() {
	_LLM_MARK=$((${_LLM_MARK:-0} + 1))
	echo "llm-test: mark $_LLM_MARK" > /dev/kmsg
}

dmesg_since_mark() {
	[ -n "${_LLM_MARK:-}" ] || { dmesg; return; }
	dmesg | awk -v m="llm-test: mark ${_LLM_MARK:-0}\$" \
		'found { print } $0 ~ m { found = 1 }'
}

# check_dmesg WHAT ERE: the kernel logged a matching line since the mark.
check_dmesg() {
	dmesg_since_mark > "$_LLM_OUT"
	grep -Eq -- "$2" "$_LLM_OUT" && { pass "$1"; return; }
	fail "$1" "the kernel logged no line matching /$2/ since the mark$(_llm_output)"
}

# p STEP...: the result lines of one llmprobe run, joined by '|', for a
# check_eq against what each step should give.
p() {
	llmprobe "$@" 2>&1 | tr '\n' '|' | sed 's/|$//'
}

# wait_until TENTHS CMD...: run CMD every 0.1 s until it succeeds, at most
# TENTHS times; status 1 when it never did (a check after it says what).
wait_until() {
	local n=$1

	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# now_ms: milliseconds since boot.
now_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}
