# SPDX-License-Identifier: GPL-2.0
# LLM_IOC_GET_INFO and ioctl dispatch follow the rules in uapi/llm.h:
# size-prefixed structs, zero tails past what the kernel knows, zero flags,
# ENOTTY for requests the module does not know.

check "insmod llm.ko" llm_load || return
sz=$(llmtest sizeof)
check_range "sizeof(struct llm_info) is sane" 48 4096 "$sz"
check_output "GET_INFO with the exact size" \
	"^ok size=$sz abi=1 sessions=1/8 arena=67108864\$" llmtest info "$sz"
check_output "GET_INFO from a newer program (larger size, zero tail)" \
	"^ok size=$sz abi=1 " llmtest info $((sz + 64))
check_output "GET_INFO with a page-sized struct and a zero tail" \
	"^ok size=$sz abi=1 " llmtest info 4096
check_output "GET_INFO with more than a page is E2BIG" '^E2BIG$' \
	llmtest info 65536
check_output "a nonzero byte past the known struct is EINVAL" '^EINVAL$' \
	llmtest info $((sz + 64)) 1
check_output "a size of 0 is EINVAL" '^EINVAL$' llmtest info 0
# struct llm_info grew (the layers held): its first published size is 208
check_output "GET_INFO from a program of before the layer range (208 bytes)" \
	"^ok size=208 abi=1 " llmtest info 208
check_output "a size below the first published struct is EINVAL" '^EINVAL$' \
	llmtest info 207
check_output "nonzero flags are EINVAL" '^EINVAL$' llmtest info-flags 1
check_output "an unmapped argument is EFAULT" '^EFAULT$' llmtest info-badptr
check_output "an unknown request number is ENOTTY" '^ENOTTY$' llmtest nr 0x3f
check_output "another ioctl magic is ENOTTY" '^ENOTTY$' llmtest magic
check_eq "every probe gave its session back" 0 "$(llm_sys sessions_active)"
check "rmmod llm" llm_unload
