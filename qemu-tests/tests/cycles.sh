# SPDX-License-Identifier: GPL-2.0
# Repeated load/unload cycles work every time and leak nothing: the
# vmalloc'd arena (64 MiB) must come back each time.

CYCLES=5

# cycle N: load, use, unload; prints nothing, fails with a reason.
cycle() {
	llm_load || { echo "insmod failed"; return 1; }
	[ "$(llm_sys arena_size)" = 67108864 ] || { echo "arena_size wrong"; return 1; }
	exec 3< "$LLM_DEV" || { echo "open failed"; return 1; }
	llmctl info > /dev/null || { echo "llmctl info failed"; return 1; }
	exec 3<&-
	[ "$(llm_sys sessions_active)" = 0 ] || { echo "session leaked"; return 1; }
	llm_unload || { echo "rmmod failed"; return 1; }
	! llm_loaded || { echo "still loaded after rmmod"; return 1; }
	return 0
}

# One cycle first, so that one-time allocations are out of the way.
check "a first load/unload cycle" cycle || return
sync
echo 3 > /proc/sys/vm/drop_caches
vm0=$(meminfo VmallocUsed)
free0=$(free_kb)

i=1
ok=1
while [ $i -le $CYCLES ]; do
	why=$(cycle) || { fail "load/unload cycle $i" "$why"; ok=0; break; }
	i=$((i + 1))
done
[ $ok -eq 1 ] && pass "$CYCLES load/unload cycles"

sync
echo 3 > /proc/sys/vm/drop_caches
vm1=$(meminfo VmallocUsed)
free1=$(free_kb)
check_range "VmallocUsed back to where it was (${vm0} kB -> ${vm1} kB)" \
	0 $((vm0 + 1024)) "$vm1"
check_range "free memory back to where it was (${free0} kB -> ${free1} kB)" \
	$((free0 - 8192)) $((free0 + 1048576)) "$free1"
