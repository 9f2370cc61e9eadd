# SPDX-License-Identifier: GPL-2.0
# timeout: 240
# The K-quants in the kernel: a synthetic model in llama.cpp's Q4_K_M,
# Q5_K_M and Q6_K mixes (Q4_K, Q5_K and Q6_K matrices; made by llmctl
# quantize, whose bytes are llama-quantize's: tests/llama-diff.sh) loads,
# and the kernel generates exactly the tokens the userspace build of the
# same core gives, greedy and sampled, prompt batches included.

check "insmod llm.ko" llm_load || return
for t in q4_k_m q5_k_m q6_k; do
	M=/extra/kq-$t.gguf
	need $M "make qemu-extra"
	check "llmctl load kq-$t.gguf" llmctl load -q $M || return
	case $t in
	q4_k_m) want="Q4_K Q6_K" ;;
	q5_k_m) want="Q5_K Q6_K" ;;
	q6_k) want="Q6_K" ;;
	esac
	check_eq "$t: model_types" "F32 $want" "$(llm_sys model_types)"
	kernel_same "$t greedy: kernel = userspace" "-q --ids -n 48 -t 0" "Once upon a time"
	kernel_same "$t sampled: kernel = userspace" "-q --ids -n 48 -t 0.9 -s 77" "Lily and Tom went"
	kernel_same "$t a 60-token prompt: kernel = userspace" "-q --ids -n 24 -t 0" "$(printf 'word %.0s' $(seq 60))"
done
check "llmctl unload" llmctl unload
