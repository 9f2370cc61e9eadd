# SPDX-License-Identifier: GPL-2.0
# The in-kernel API: samples/llm_client (built by `make samples`, handed to
# the guest in /extra) completes a prompt through llm.ko's exported
# functions at load; its text must be what userspace gets for the same
# request, through both the buffer and the callback form.

M=/models/stories260K.gguf
C=/extra/llm_client.ko
need $M "the project's models/ directory"
need $C "make samples"

check "insmod llm.ko" llm_load || return
check "llmctl load $M" llmctl load -q $M || return
dmesg_mark
check "insmod llm_client.ko (it generates at load)" \
	insmod $C 'prompt="Once upon a time"' tokens=40 || return
check_dmesg "the buffer and callback runs agree" 'llm_client: the two runs agree'
check_dmesg "the buffer run stopped at its token limit" \
	'llm_client: buffer: [0-9]+ bytes, stop 2: Once upon a time'
llmctl generate -q -m $M -n 40 -t 0 "Once upon a time" | head -1 > /tmp/want
dmesg_since_mark | sed -n 's/.*llm_client: buffer: [0-9]* bytes, stop 2: //p' |
	head -1 > /tmp/got
check_eq "the client's first line equals llmctl generate -m" \
	"$(cat /tmp/want)" "$(cat /tmp/got)"
check_fails "rmmod llm is refused while its client is loaded" rmmod llm
check "rmmod llm_client" rmmod llm_client
check_eq "every session slot is free again" 0 "$(llm_sys sessions_active)"
check "rmmod llm" llm_unload
