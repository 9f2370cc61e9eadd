# SPDX-License-Identifier: GPL-2.0
# Custom module parameters are applied and shown in sysfs, in the
# parameters and by llmctl info.

dmesg_mark
check "insmod arena_mb=16 sessions=2 dev_mode=0600" \
	llm_load arena_mb=16 sessions=2 dev_mode=0600 || return
check_dmesg "the load is logged with the custom values" \
	'llm: loaded: ABI 1, arena 16 MiB, 2 session slots$'
check_eq "arena_size is 16 MiB" 16777216 "$(llm_sys arena_size)"
check_eq "arena_used is 0" 0 "$(llm_sys arena_used)"
check_eq "sessions_max is 2" 2 "$(llm_sys sessions_max)"
check_eq "parameter arena_mb is 16" 16 "$(llm_param arena_mb)"
check_eq "parameter sessions is 2" 2 "$(llm_param sessions)"
check_eq "parameter dev_mode is 0600" 384 "$(llm_param dev_mode)"
check_eq "/dev/llm has mode 0600" 600 "$(stat -c %a "$LLM_DEV")"
check_output "llmctl info: arena_size 16 MiB" \
	'^arena_size +16777216 bytes \(16\.0 MiB\)$' llmctl info
check_output "llmctl info: sessions of 2" '^sessions +1 of 2$' llmctl info
check_status "a non-root user is refused with exit status 5" 5 \
	llmtest runas 1000 llmctl info
check_output "... and told why" 'permission denied opening /dev/llm' \
	sh -c 'llmtest runas 1000 llmctl info; true'
check "rmmod llm" llm_unload || return

# The limits themselves are accepted.
check "insmod arena_mb=1 sessions=1 sessions_kernel=0 sessions_per_user=1 dev_mode=0 (smallest values)" \
	llm_load arena_mb=1 sessions=1 sessions_kernel=0 sessions_per_user=1 \
	dev_mode=0 || return
check_eq "arena_size is 1 MiB" 1048576 "$(llm_sys arena_size)"
# The misc core turns mode 0 into its default 0600: root only, either way.
check_eq "/dev/llm is root-only (0600)" 600 "$(stat -c %a "$LLM_DEV")"
check_status "a non-root user is refused" 5 llmtest runas 1000 llmctl info
check "rmmod llm" llm_unload || return
check "insmod sessions=256 sessions_kernel=255 dev_mode=0777 (largest values)" \
	llm_load sessions=256 sessions_kernel=255 dev_mode=0777 || return
check_eq "sessions_max is 256" 256 "$(llm_sys sessions_max)"
check_eq "the fair-share defaults" "255 4 600000" \
	"$(llm_param sessions_kernel) $(llm_param sessions_per_user) $(llm_param max_wall_ms)"
check_eq "/dev/llm has mode 0777" 777 "$(stat -c %a "$LLM_DEV")"
check "rmmod llm" llm_unload
