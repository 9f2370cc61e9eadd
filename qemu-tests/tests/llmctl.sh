# SPDX-License-Identifier: GPL-2.0
# llmctl info, help and usage errors against the loaded module, its
# exit status 3 when the module is not loaded, and the arena llmctl info -m
# asks for a model.

info() {
	llmctl info > /tmp/info.out 2>&1
	echo $?
}

check "insmod llm.ko" llm_load || return
check_eq "llmctl info exits 0" 0 "$(info)"
check_output "llmctl info: abi_version" '^abi_version +1$' cat /tmp/info.out
check_output "llmctl info: arena_size" \
	'^arena_size +67108864 bytes \(64\.0 MiB\)$' cat /tmp/info.out
check_output "llmctl info: arena_used" '^arena_used +0 bytes \(0\.0 MiB\)$' \
	cat /tmp/info.out
check_output "llmctl info: arena_peak" '^arena_peak +0 bytes' cat /tmp/info.out
check_output "llmctl info: its own session of 8" '^sessions +1 of 8$' \
	cat /tmp/info.out
check_output "llmctl info: no model" '^model +none$' cat /tmp/info.out
check_eq "llmctl released its session" 0 "$(llm_sys sessions_active)"

check_output "llmctl --help exits 0 with usage" '^usage: llmctl' llmctl --help
check_output "llmctl -h exits 0 with usage" '^usage: llmctl' llmctl -h
check_output "llmctl --help lists info" '^  info ' llmctl --help
check_output "llmctl info --help exits 0" '^usage: llmctl info' \
	llmctl info --help
check_output "llmctl help info exits 0" '^usage: llmctl info' llmctl help info
check_status "llmctl without a command is a usage error (2)" 2 llmctl
check_status "an unknown command is a usage error (2)" 2 llmctl frobnicate
check_status "an unknown option is a usage error (2)" 2 llmctl --frob info
check_status "llmctl info with an argument is a usage error (2)" 2 \
	llmctl info extra
check_status "generate --mmap with -m is a usage error (2), not a run here" \
	2 llmctl generate --mmap -m /models/stories260K.gguf -n 1 x
check_status "llmctl --dev on a missing node: module loaded, node missing (3)" \
	3 llmctl --dev /tmp/nonexistent info
check_output "... and says the node is missing" 'missing although the llm module is loaded' \
	sh -c 'llmctl --dev /tmp/nonexistent info; true'
check_eq "a non-root user may read info (dev_mode 0666)" 0 \
	"$(llmtest runas 1000 llmctl info > /dev/null 2>&1; echo $?)"

check "rmmod llm" llm_unload || return
check_eq "llmctl info without the module exits 3" 3 "$(info)"
check_output "... and says the module is not loaded" \
	'the llm kernel module is not loaded' cat /tmp/info.out
check_output "llmctl --help works without the module" '^usage: llmctl' \
	llmctl --help

# llmctl info -m: the arena it asks for holds the model and every session
# in the kernel (with the module's defaults, and with others), and is not
# far above what the kernel uses.
for m in stories260K.gguf stories260K-Q4_0.gguf; do
	M=/models/$m
	need $M "the project's models/ directory"
	for sc in default "3 128"; do
		opts= kparams= what=$m
		if [ "$sc" != default ]; then
			opts="--sessions ${sc% *} --max-context ${sc#* }"
			kparams=" sessions=${sc% *} max_context=${sc#* }"
			what="$m $opts"
		fi
		mb=$(llmctl info -m $M $opts --arena-mb)
		check_match "$what: llmctl info -m --arena-mb prints a number" \
			'^[1-9][0-9]*$' "$mb" || continue
		want=$(llmctl info -m $M $opts |
			sed -n 's/^arena_needed *\([0-9]*\) bytes.*/\1/p')
		check "$what: insmod llm.ko arena_mb=$mb$kparams" \
			llm_load arena_mb=$mb $kparams || continue
		check "$what: the model loads in arena_mb=$mb" \
			llmctl load -q $M
		check_range "$what: arena_used is within the $want bytes llmctl info -m asked for, less 1 MiB" \
			$((want - 1048576)) $want "$(llm_sys arena_used)"
		check "rmmod llm" llm_unload
	done
done
