# SPDX-License-Identifier: GPL-2.0
# llm.ko loads with its default parameters, publishes /dev/llm, the sysfs
# gauges and its parameters, and takes them all away again on rmmod.

dmesg_mark
check "insmod llm.ko with default parameters" llm_load || return
check "llm is listed in /proc/modules" llm_loaded
check_dmesg "the load is logged" 'llm: loaded: ABI 1, arena 64 MiB, 8 session slots$'

check "/dev/llm is a character device" test -c "$LLM_DEV"
check_eq "/dev/llm is a misc device (major 10)" a "$(stat -c %t "$LLM_DEV")"
check_eq "/dev/llm has mode 0666" 666 "$(stat -c %a "$LLM_DEV")"

for f in abi_version arena_size arena_used arena_peak sessions_max \
	 sessions_active; do
	check "/sys/kernel/llm/$f is readable" sys_read "$LLM_SYS/$f"
done
check_eq "abi_version is 1" 1 "$(llm_sys abi_version)"
check_eq "arena_size is 64 MiB" 67108864 "$(llm_sys arena_size)"
check_eq "arena_used is 0" 0 "$(llm_sys arena_used)"
check_eq "arena_peak is 0" 0 "$(llm_sys arena_peak)"
check_eq "sessions_max is 8" 8 "$(llm_sys sessions_max)"
check_eq "sessions_active is 0" 0 "$(llm_sys sessions_active)"
check_fails "/sys/kernel/llm/arena_size is read-only" \
	sh -c "echo 1 > $LLM_SYS/arena_size"

check_eq "parameter arena_mb is 64" 64 "$(llm_param arena_mb)"
check_eq "parameter sessions is 8" 8 "$(llm_param sessions)"
check_eq "parameter dev_mode is 0666" 438 "$(llm_param dev_mode)"
check_fails "parameter arena_mb is read-only" \
	sh -c "echo 1 > $LLM_PARAMS/arena_mb"

check "a second insmod is refused" sh -c "! insmod $LLM_KO"
check_eq "the second insmod left the first in place" 8 "$(llm_sys sessions_max)"

dmesg_mark
check "rmmod llm" llm_unload || return
check_fails "llm is gone from /proc/modules" llm_loaded
check_fails "/dev/llm is gone" test -e "$LLM_DEV"
check_fails "/sys/kernel/llm is gone" test -e "$LLM_SYS"
check_fails "/sys/module/llm is gone" test -e /sys/module/llm
check_dmesg "the unload is logged" 'llm: unloaded$'
