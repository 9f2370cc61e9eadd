# SPDX-License-Identifier: GPL-2.0
# Out-of-range parameters are refused: insmod fails, nothing is left
# behind, and the kernel log says what is wrong.

# refuse PARAM=VALUE ERE: the load fails and dmesg matches ERE.
refuse() {
	dmesg_mark
	# shellcheck disable=SC2086
	check_fails "insmod $1 is refused" llm_load $1
	check_fails "the module is not loaded after $1" llm_loaded
	check_fails "no /dev/llm after $1" test -e "$LLM_DEV"
	check_fails "no /sys/kernel/llm after $1" test -e "$LLM_SYS"
	check_dmesg "the kernel log explains $1" "$2"
}

# Half of RAM is the most the arena may take.
ram_mb=$(($(meminfo MemTotal) / 1024))
max_mb=$((ram_mb / 2))

refuse arena_mb=0 "llm: arena_mb=0 is out of range: it must be 1\\.\\.$max_mb "
refuse arena_mb=999999 'llm: arena_mb=999999 is out of range'
refuse arena_mb=$((max_mb + 1)) "llm: arena_mb=$((max_mb + 1)) is out of range"
refuse arena_mb=4294967295 'llm: arena_mb=4294967295 is out of range'
refuse arena_mb=-1 "invalid for parameter .arena_mb"
refuse arena_mb=lots "invalid for parameter .arena_mb"
refuse sessions=0 'llm: sessions=0 is out of range: it must be 1\.\.256$'
refuse sessions=257 'llm: sessions=257 is out of range'
refuse sessions=100000 'llm: sessions=100000 is out of range'
refuse sessions_kernel=8 'llm: sessions_kernel=8 leaves no session for userspace: it must be less than sessions \(8\)$'
refuse "sessions=2 sessions_kernel=5" 'llm: sessions_kernel=5 leaves no session for userspace'
refuse sessions_per_user=0 'sessions_per_user'
refuse dev_mode=01777 'llm: dev_mode=01777 is not a permission mode'
refuse dev_mode=04666 'llm: dev_mode=04666 is not a permission mode'
refuse queue_ttl_s=0 'llm: queue_ttl_s=0 is out of range: it must be 1\.\.86400$'
refuse queue_ttl_s=86401 'llm: queue_ttl_s=86401 is out of range'

# Nothing stale is left behind: a good load still works.
check "insmod with defaults after the refusals" llm_load || return
check_eq "arena_size is the default" 67108864 "$(llm_sys arena_size)"
check "rmmod llm" llm_unload
