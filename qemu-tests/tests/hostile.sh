# SPDX-License-Identifier: GPL-2.0
# timeout: 300
# Hostile GGUF files in the kernel: each file of the corpus `make
# hostile-corpus` writes (one defect away from a loadable model) must be
# refused by LLM_IOC_LOAD with a sentence naming the defect, leave nothing
# loaded and the arena empty, and never upset the kernel.  Both load paths:
# the upload in pieces and the kernel reading the file descriptor.

D=/extra/hostile
need $D/expected.txt "make hostile-corpus"

check "insmod llm.ko" llm_load || return

n=0
bad=0
while IFS="$(printf '\t')" read -r name phrase; do
	n=$((n + 1))
	for how in upload fd; do
		flag=
		[ $how = fd ] && flag=--fd
		llmctl load -q $flag "$D/$name" > /tmp/h.out 2>&1
		st=$?
		if [ $st -ne 1 ]; then
			fail "$name ($how) is refused" "llmctl load exited $st: $(head -c 200 /tmp/h.out)"
			bad=$((bad + 1))
		elif [ "$phrase" = - ] &&
		     ! grep -q 'refused the model: .' /tmp/h.out; then
			fail "$name ($how) is refused with a reason" \
				"no reason in: $(head -c 300 /tmp/h.out)"
			bad=$((bad + 1))
		elif [ "$phrase" != - ] && ! grep -qF -- "$phrase" /tmp/h.out; then
			fail "$name ($how) is refused with the right reason" \
				"expected '$phrase' in: $(head -c 300 /tmp/h.out)"
			bad=$((bad + 1))
		elif [ "$(llm_sys model_loaded)" != 0 ] ||
		     [ "$(llm_sys arena_used)" != 0 ]; then
			fail "$name ($how) leaves nothing behind" \
				"model_loaded $(llm_sys model_loaded), arena_used $(llm_sys arena_used)"
			bad=$((bad + 1))
		fi
	done
done < $D/expected.txt
check_eq "all $n hostile files refused cleanly, by upload and by fd" 0 "$bad"

check "a good model still loads afterwards" llmctl load -q /models/stories260K-Q4_0.gguf
check_output "and generates" 'Once upon a time' llmctl generate -q -n 8 -t 0 "Once upon a time"
check "rmmod llm" llm_unload
