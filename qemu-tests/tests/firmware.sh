# SPDX-License-Identifier: GPL-2.0
# The model= module parameter: the model is read through the firmware
# loader at insmod, from /lib/firmware.  A missing file makes the insmod
# fail with a message saying so.

M=/models/stories260K.gguf
need $M "the project's models/ directory"
mkdir -p /lib/firmware
cp $M /lib/firmware/stories260K.gguf

check "insmod llm.ko model=stories260K.gguf" llm_load model=stories260K.gguf || return
check_eq "the model is loaded at insmod" 1 "$(llm_sys model_loaded)"
check_eq "its name is in sysfs" llama "$(llm_sys model_name)"
llmctl generate -q -n 30 -t 0 "Lily" > /tmp/k.out
llmctl generate -q -m $M -n 30 -t 0 "Lily" > /tmp/u.out
check "it generates what userspace generates" cmp -s /tmp/k.out /tmp/u.out
check "rmmod llm" llm_unload
check_eq "unloading frees the arena with the module" 0 "$(grep -c '^llm ' /proc/modules)"

dmesg_mark
check_fails "insmod with a model that is not there fails" \
	llm_load model=no-such-model.gguf
check_dmesg "and says which file" 'model=no-such-model.gguf: cannot read /lib/firmware/no-such-model.gguf'
check_fails "nothing stays loaded" llm_loaded

printf 'GGUF\003\0\0\0garbage' > /lib/firmware/bad.gguf
dmesg_mark
check_fails "insmod with a hostile model fails" llm_load model=bad.gguf
check_dmesg "and says what is wrong" 'model=bad.gguf: '
check_fails "nothing stays loaded" llm_loaded
