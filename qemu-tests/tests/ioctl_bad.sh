# SPDX-License-Identifier: GPL-2.0
# timeout: 180
# Every ioctl of uapi/llm.h against bad input (issue 4, point 3): sizes
# below, at and above the struct's, non-zero tails, flags and reserved
# fields, unmapped and read-only structs and buffers, out-of-range
# parameters, a text buffer too small, bad LOAD requests and hostile
# GGUF files, unknown request numbers, and random structs.  Each gets
# its documented error, and the module is intact afterwards.

M=/models/stories260K.gguf
need $M "the project's models/ directory"

check "insmod llm.ko" llm_load || return
check "llmctl load $M" llmctl load -q $M || return
A0=$(llm_sys arena_used)

# --- the struct itself ---------------------------------------------------

# NAME MIN PRE OK: MIN is the smallest size accepted (the struct's first
# published size), PRE steps run first (a ring for ringenter, short
# generations), OK what the well-formed call prints (sizes left out).
structs() {
	echo "info 208 - ioc ok"
	echo "params 160 - ioc ok"
	echo "getparams 160 - ioc ok temp=0 topk=0 topp=900 max=256 seed=0"
	echo "generate 80 ioc,params,max=2 ioc ok len=[0-9]+ n=2 np=[0-9]+ stop=2"
	echo "stats 104 - ioc ok"
	echo "ringsetup 96 - ioc ok"
	echo "ringenter 16 ring,0,0,0 ioc ok"
	echo "load 176 - ioc ok"
}

# The well-formed call of each: LOAD's is LLM_LOAD_ABORT with no upload.
base() {
	case $1 in load) echo "op=5" ;; esac
}

structs | while read -r name min pre ok; do
	pre=$([ "$pre" = - ] || echo "$pre" | tr ',' ' ')
	b=$(base "$name")
	# shellcheck disable=SC2086
	q() {
		p $pre ioc $name $b "$@" |
			sed 's/^\(ring\|ioc\) ok[^|]*|//; s/ size=[0-9]*//'
	}
	check_match "$name: the exact size works" "^$ok\$" "$(q)"
	check_eq "$name: size 0 is EINVAL" "ioc EINVAL" "$(q size=0)"
	check_eq "$name: size 4 is EINVAL" "ioc EINVAL" "$(q size=4)"
	check_eq "$name: one byte short of its first size is EINVAL" \
		"ioc EINVAL" "$(q size=$((min - 1)))"
	check_match "$name: a newer caller's size with a zero tail works" \
		"^$ok\$" "$(q size=$((min + 300)))"
	check_match "$name: a page-sized struct with a zero tail works" \
		"^$ok\$" "$(q size=4096)"
	check_eq "$name: a non-zero byte past the struct is EINVAL" "ioc EINVAL" \
		"$(q size=4096 tail=1)"
	check_eq "$name: more than a page is E2BIG" "ioc E2BIG" \
		"$(q size=4097)"
	check_eq "$name: size 0xffffffff is E2BIG" "ioc E2BIG" \
		"$(q size=0xffffffff)"
	check_eq "$name: 1 GiB of zeros is E2BIG, unread" "ioc E2BIG" \
		"$(q size=0x40000000 arg=huge)"
	check_eq "$name: a size field other than the command's size bits is EINVAL" \
		"ioc EINVAL" "$(q iocsize=$((min + 1000)))"
	check_eq "$name: size bits below the first size are EINVAL" \
		"ioc EINVAL" "$(q size=$((min + 8)) iocsize=$((min - 1)))"
	check_eq "$name: unknown flags are EINVAL" "ioc EINVAL" "$(q flags=2)"
	check_eq "$name: flags 0x80000000 are EINVAL" "ioc EINVAL" \
		"$(q flags=0x80000000)"
	check_eq "$name: an unmapped struct is EFAULT" "ioc EFAULT" \
		"$(q arg=bad)"
	check_eq "$name: a NULL struct is EFAULT" "ioc EFAULT" "$(q arg=null)"
	check_eq "$name: a struct cut short by unmapped memory is EFAULT" \
		"ioc EFAULT" "$(q arg=edge)"
	case $name in
	params|ringenter)	# only read: a read-only struct is fine
		check_match "$name: a read-only struct works" "^$ok\$" \
			"$(q arg=ro)" ;;
	*)	check_eq "$name: a read-only struct is EFAULT (written back)" \
			"ioc EFAULT" "$(q arg=ro)" ;;
	esac
done

for name in info generate stats ringsetup ringenter; do
	pre=
	[ $name = ringenter ] && pre="ring 0 0 0"
	# shellcheck disable=SC2086
	check_eq "$name: a non-zero reserved field is EINVAL" "ioc EINVAL" \
		"$(p $pre ioc $name reserved=1 | sed 's/^ring ok[^|]*|//')"
done
check_eq "generate: unknown flag bits are EINVAL" \
	"ioc EINVAL|ioc EINVAL|ioc EINVAL" \
	"$(p ioc generate flags=2 ioc generate flags=3 ioc generate flags=0x100)"

# llm_load grew (error[] went from 128 to 256 bytes): a caller built
# against the first version still works and gets its error cut to fit.
check_eq "load: the first published size (LLM_LOAD_SIZE_VER0) works" \
	"ioc ok size=176" "$(p ioc load op=5 size=176)"
check_eq "load: one byte less is EINVAL" "ioc EINVAL" \
	"$(p ioc load op=5 size=175)"
check_eq "load: an old caller gets the error sentence, cut to its 128 bytes" \
	"ioc EINVAL the descriptor is not a non-empty regular file open for reading" \
	"$(p ioc load size=176 op=1 fd=@/)"

# --- unknown requests ------------------------------------------------------

for cmd in 0xb80b 0xb83f 0xc004b8ff 0x0000b8ff 0 0x5401 0x8004b901; do
	check_eq "ioctl $cmd is ENOTTY" "rawioc ENOTTY" "$(p rawioc $cmd)"
done
# The whole number selects the request, direction and size bits too.
check_eq "RESET with direction and size bits is ENOTTY" "rawioc ENOTTY" \
	"$(p rawioc 0xc040b806)"
check_eq "GET_INFO with the write-only direction is ENOTTY" "rawioc ENOTTY" \
	"$(p rawioc 0x40d0b800)"
check_eq "RESET as it is works" "rawioc ok" "$(p rawioc 0xb806)"

# --- GENERATE's buffers ------------------------------------------------------

S="ioc params max=4"
g() {
	# shellcheck disable=SC2086
	p $S ioc generate "$@" | sed 's/^ioc ok size=160|//'
}
check_eq "generate: an unmapped prompt is EFAULT" "ioc EFAULT" "$(g prompt=bad)"
check_eq "generate: a NULL prompt is EFAULT" "ioc EFAULT" "$(g prompt=null)"
check_match "generate: a read-only prompt is fine" '^ioc ok len=[0-9]+ n=4 np=5 stop=2$' \
	"$(g prompt=ro)"
check_match "generate: prompt_len 0 continues from the context (empty: from BOS)" \
	'^ioc ok len=[0-9]+ n=4 np=1 stop=2$' "$(g prompt=null prompt_len=0)"
check_eq "generate: an unmapped text buffer is EFAULT" "ioc EFAULT" "$(g text=bad)"
check_eq "generate: a read-only text buffer is EFAULT" "ioc EFAULT" "$(g text=ro)"
check_eq "generate: a NULL text buffer with a capacity is EFAULT" "ioc EFAULT" \
	"$(g text=null)"
check_match "generate: text_cap 0 returns no text (text_len says how much there was)" \
	'^ioc ok len=[1-9][0-9]* n=4 np=5 stop=2$' "$(g text=null text_cap=0)"
check_eq "generate: an unmapped token buffer is EFAULT" "ioc EFAULT" \
	"$(g tokens=bad)"
check_eq "generate: a read-only token buffer is EFAULT" "ioc EFAULT" \
	"$(g tokens=ro)"
check_match "generate: tokens_cap 0 returns no ids" \
	'^ioc ok len=[0-9]+ n=4 np=5 stop=2$' "$(g tokens=null tokens_cap=0)"
check_eq "generate: prompt_len over max_prompt_bytes is E2BIG" "ioc E2BIG" \
	"$(g prompt_len=16385)"
check_eq "generate: prompt_len 0xffffffff is E2BIG" "ioc E2BIG" \
	"$(g prompt_len=0xffffffff)"
check_eq "generate: invalid UTF-8 is EINVAL" "ioc EINVAL" \
	"$(g 'ptext=ab\xc0\xafc')"
for cap in 1 7 64; do
	check_eq "generate: text_cap $cap < the text: LLM_STOP_BUFFER, text_len $cap" \
		"ioc ok size=160|ioc ok len=$cap stop=7" \
		"$(p ioc params max=60 ioc generate text_cap=$cap |
		   sed 's/ n=[0-9]* np=[0-9]*//')"
done
# The worker may finish before GENERATE sees the buffer overflow: the
# text was still cut, so the reason must still be LLM_STOP_BUFFER.
steps=
i=0
while [ $i -lt 30 ]; do
	steps="$steps ioc generate flags=1 text_cap=1"
	i=$((i + 1))
done
# shellcheck disable=SC2086
check_eq "generate: text_cap 1, 2 tokens, 30 times: always LLM_STOP_BUFFER" \
	"30 ioc ok len=1 n=2 np=5 stop=7" \
	"$(llmprobe ioc params max=2 $steps | sed 1d | sort | uniq -c |
	   sed 's/^ *//')"
check_eq "no request is left running" 0 "$(llm_sys requests_running)"

# --- SET_PARAMS / GET_PARAMS ---------------------------------------------------

sp() {
	p ioc params "$@" | sed 's/size=160//; s/ $//'
}
check_eq "params: temperature 100.000 is the most" "ioc ok" "$(sp temp=100000)"
check_eq "params: temperature 100.001 is EINVAL" "ioc EINVAL" "$(sp temp=100001)"
check_eq "params: top_p 1.000 is the most" "ioc ok" "$(sp topp=1000)"
check_eq "params: top_p 1.001 is EINVAL" "ioc EINVAL" "$(sp topp=1001)"
check_eq "params: max_tokens = max_new_tokens (2048) is fine" "ioc ok" "$(sp max=2048)"
check_eq "params: max_tokens over max_new_tokens is EINVAL" "ioc EINVAL" "$(sp max=2049)"
check_eq "params: max_tokens 0xffffffff is EINVAL" "ioc EINVAL" "$(sp max=0xffffffff)"
check_eq "params: a 31-byte stop string is fine" "ioc ok" \
	"$(sp stop3=0123456789012345678901234567890)"
check_eq "params: a 32-byte stop string (no NUL) is EINVAL" "ioc EINVAL" \
	"$(sp stop3=01234567890123456789012345678901)"
check_eq "params: bytes after a stop string's NUL are EINVAL" "ioc EINVAL" \
	"$(sp stop0=abc 'byte@40=1')"
check_eq "params: bytes in an unused stop string are EINVAL" "ioc EINVAL" \
	"$(sp 'byte@100=1')"
check_eq "GET_PARAMS returns what SET_PARAMS set" \
	"ioc ok size=160|ioc ok temp=700 topk=5 topp=800 max=33 seed=9" \
	"$(p ioc params temp=700 topk=5 topp=800 max=33 seed=9 ioc getparams)"
check_eq "a refused SET_PARAMS changes nothing" \
	"ioc ok size=160|ioc EINVAL|ioc ok temp=700 topk=0 topp=900 max=8 seed=0" \
	"$(p ioc params temp=700 ioc params temp=700 max=5000 ioc getparams)"
check_match "stop strings stop generation (LLM_STOP_STRING), not shown" \
	'^stopstr ok\|gen ok len=[0-9]+ n=[0-9]+ np=5 stop=3$' \
	"$(p stopstr ' girl' gen 'Once upon a time' /tmp/stop)"
check_eq "... the text ends right before it" \
	", there was a little" "$(cat /tmp/stop)"

# --- LOAD and UNLOAD -----------------------------------------------------------

lo() {
	p ioc load "$@"
}
check_eq "load: op 0 is EINVAL" "ioc EINVAL" "$(lo op=0)"
check_eq "load: op 6 is EINVAL" "ioc EINVAL" "$(lo op=6)"
check_eq "load: a bad fd is EBADF, said in error" "ioc EBADF bad file descriptor" \
	"$(lo op=1 fd=-1)"
check_eq "load: an fd not open is EBADF" "ioc EBADF bad file descriptor" \
	"$(lo op=1 fd=1000)"
check_eq "load: a directory fd is EINVAL, said in error" \
	"ioc EINVAL the descriptor is not a non-empty regular file open for reading" \
	"$(lo op=1 fd=@/)"
check_eq "load: a character device fd is EINVAL" \
	"ioc EINVAL the descriptor is not a non-empty regular file open for reading" \
	"$(lo op=1 fd=@/dev/null)"
: > /tmp/empty.gguf
check_eq "load: an empty file is EINVAL" \
	"ioc EINVAL the descriptor is not a non-empty regular file open for reading" \
	"$(lo op=1 fd=@/tmp/empty.gguf)"
check_eq "load: DATA without BEGIN is EINVAL" "ioc EINVAL" "$(lo op=3 len=8)"
check_eq "load: COMMIT without BEGIN is EINVAL" \
	"ioc EINVAL no upload in progress on this file" "$(lo op=4)"
check_eq "load: BEGIN of 0 bytes is EINVAL" "ioc EINVAL the model is empty" \
	"$(lo op=2 len=0)"
check_match "load: BEGIN larger than the arena is ENOMEM, said in error" \
	'^ioc ENOMEM the model is 4294967296 bytes but the arena has [0-9]+ free \(module parameter arena_mb\)$' \
	"$(lo op=2 len=0x100000000)"
check_eq "load: non-zero flags are EINVAL" "ioc EINVAL" "$(lo op=1 fd=@$M flags=1)"
check_eq "... none of those dropped the model" 1 "$(llm_sys model_loaded)"
check_eq "... or touched the arena" "$A0" "$(llm_sys arena_used)"
check_eq "load: DATA past BEGIN's length is EFBIG; closing drops the upload" \
	"ioc ok size=312|ioc EFBIG" \
	"$(p ioc load op=2 len=16 ioc load op=3 data=buf len=17)"
check_eq "load: DATA from unmapped memory is EFAULT" \
	"ioc ok size=312|ioc EFAULT|ioc ok size=312" \
	"$(p ioc load op=2 len=16 ioc load op=3 data=bad len=16 ioc load op=5)"
check_eq "... an upload begun and dropped leaves the model as it was" \
	"1 $A0" "$(llm_sys model_loaded) $(llm_sys arena_used)"
check_eq "a second upload while one is in progress is EBUSY" \
	"ioc ok size=312|ioc EBUSY this file has an upload in progress" \
	"$(p ioc load op=2 len=16 ioc load op=2 len=16)"
llmprobe ioc load op=2 len=16 waitfor /tmp/up2 > /tmp/up1 &
wait_until 50 grep -q 'ioc ok' /tmp/up1
check_eq "... and from another file too" \
	"ioc EBUSY another upload is in progress" "$(p ioc load op=2 len=16)"
touch /tmp/up2
wait
check_eq "a good LOAD_FD works again" "loadfd ok 1185376" "$(p loadfd $M)"
# kernel_read_file_from_fd(): a file open for writing is not read.
cp $M /tmp/w.gguf
exec 7>> /tmp/w.gguf
check_eq "LOAD_FD of a file open for writing is ETXTBSY, said in error" \
	"loadfd ETXTBSY the file is open for writing" "$(p loadfd /tmp/w.gguf)"
exec 7>&-
check_eq "... and loads once it is closed" "loadfd ok 1185376" \
	"$(p loadfd /tmp/w.gguf)"
# An upload in progress holds nothing but its own file: the model serves.
llmprobe ioc load op=2 len=1185376 waitfor /tmp/up3 > /dev/null &
wait_until 50 eval '[ "$(llm_sys load_bytes_total)" = 1185376 ]'
check_match "while an upload is in progress, the model answers" \
	'^params ok\|gen ok len=[0-9]+ n=4 np=5 stop=2$' \
	"$(p params 0 0 900 4 0 gen 'Once upon a time' -)"
check_eq "... and a LOAD_FD goes ahead" "loadfd ok 1185376" "$(p loadfd $M)"
touch /tmp/up3
wait
check_eq "... and comes back to the same arena level" "$A0" "$(llm_sys arena_used)"

# Hostile files: a clean sentence, nothing loaded, the arena empty.
head -c 100000 $M > /tmp/trunc.gguf
printf 'GGUF\003\000\000\000\377\377\377\377\377\377\377\377\000\000\000\000\000\000\000\000' \
	> /tmp/count.gguf
printf 'GGML\003\000\000\000' > /tmp/magic.gguf
dd if=$M of=/tmp/zeros.gguf bs=4096 count=4 2>/dev/null
dd if=/dev/zero of=/tmp/zeros.gguf bs=1 seek=8 count=64 conv=notrunc 2>/dev/null
for f in trunc count magic zeros; do
	for how in loadfd upload; do
		out=$(p $how /tmp/$f.gguf)
		check_match "$how of a hostile GGUF ($f) is refused with a sentence" \
			"^$how E[A-Z0-9]+ (commit: )?[A-Za-z][ -~]+\$" "$out"
		check_eq "... nothing is loaded and the arena is empty" \
			"0 0" "$(llm_sys model_loaded) $(llm_sys arena_used)"
	done
done
echo "$out" | sed "s/^/$LLM_TEST: e.g. /"
check_eq "and the real model loads after them" "loadfd ok 1185376" \
	"$(p loadfd $M)"
check_eq "... to the same arena level" "$A0" "$(llm_sys arena_used)"

# --- random structs ------------------------------------------------------------

# Results must be clean errors (or success); the module must survive.
fz() {
	local name=$1

	shift
	out=$(p "$@" | sed 's/^.*|fuzz/fuzz/')
	echo "$out" | sed "s/^/$LLM_TEST: $name: /"
	check_match "300 random $name structs give clean results" \
		'^fuzz ok( (ok|EINVAL|EFAULT|E2BIG|EBUSY|ENXIO|ENODATA|EBADF|ENOMEM|EFBIG|ENOSPC)=[0-9]+)+$' \
		"$out"
}
for name in info params getparams stats ringsetup; do
	fz $name fuzz $name 300 7
done
fz generate ioc params max=2 fuzz generate 300 7
fz ringenter ring 0 0 0 map full fuzz ringenter 300 7
fz load fuzz load 300 7
check_eq "the module still answers" "info ok" \
	"$(p info | cut -d' ' -f1,2)"
check_eq "the model loads after the fuzzing" "loadfd ok 1185376" \
	"$(p loadfd $M)"
check_match "and generates" '^ioc ok len=[0-9]+ n=8 np=5 stop=2$' \
	"$(p ioc params ioc generate | sed 's/^ioc ok size=160|//')"

# --- afterwards --------------------------------------------------------------------

check_eq "every session slot is free" 0 "$(llm_sys sessions_active)"
check_eq "nothing is running" 0 "$(llm_sys requests_running)"
check_eq "the arena is at its model-only level" "$A0" "$(llm_sys arena_used)"
check "rmmod llm" llm_unload
