# SPDX-License-Identifier: GPL-2.0
# timeout: 300
# Chat templates in the kernel (LLM_IOC_CHAT): for a model of each family
# (Llama 3 with a byte-level BPE vocabulary, ChatML as Qwen3 writes it and
# Llama 2 with SentencePiece ones; made by mkmodel --chat-template), the
# kernel renders every conversation of tests/data/chat byte for byte as
# the userspace build does (llmctl template vs llmctl template -m; the
# userspace build against llama.cpp's: tests/llama-diff.sh); llmctl info
# names the family; a chat turn's prompt is the rendered text tokenized
# with its special tokens (no BOS twice); the next turn goes on in the
# same context after the reply's end of turn; a model with no template
# falls back to plain text with a note, one of another family is refused.

# said WHAT STATUS ERE CMD...: CMD exits STATUS and its stderr matches ERE.
said() {
	local what="$1" want="$2" re="$3" st
	shift 3
	"$@" > /dev/null 2> /tmp/said.err
	st=$?
	if [ $st -ne "$want" ]; then
		fail "$what" "exit status $st, expected $want: $(head -c 200 /tmp/said.err)"
	elif grep -Eq -- "$re" /tmp/said.err; then
		pass "$what"
	else
		fail "$what" "stderr '$(head -c 200 /tmp/said.err)' does not match /$re/"
	fi
}

check "insmod llm.ko" llm_load || return
for fam in llama3 chatml llama2; do
	M=/extra/chat-$fam.gguf
	need $M "make qemu-extra"
	check "llmctl load chat-$fam.gguf" llmctl load -q $M || return
	n=0
	bad=
	for f in /extra/chat/*.json; do
		n=$((n + 1))
		llmctl template "$f" > /tmp/k.txt 2> /tmp/k.err
		llmctl template -m $M "$f" > /tmp/u.txt 2> /tmp/u.err
		if [ ! -s /tmp/k.txt ] || ! cmp -s /tmp/k.txt /tmp/u.txt; then
			bad="$bad $(basename "$f"): kernel '$(head -c 100 /tmp/k.txt)$(cat /tmp/k.err)' userspace '$(head -c 100 /tmp/u.txt)'"
		fi
	done
	if [ -z "$bad" ] && [ $n -ge 7 ]; then
		pass "$fam: the kernel renders $n conversations as userspace does"
	else
		fail "$fam: the kernel renders as userspace does" "$bad"
	fi
	case $fam in
	llama3) name="Llama 3" ;; chatml) name=ChatML ;; *) name="Llama 2" ;;
	esac
	check_eq "$fam: llmctl info names the template" "chat_template      $name" \
		"$(llmctl info | grep '^chat_template')"
done

# A chat turn on the Llama 3 model: its prompt is the rendered text, its
# headers single tokens, with one BOS (this vocabulary adds BOS itself, so
# the text leaves <|begin_of_text|> out)
M=/extra/chat-llama3.gguf
check "llmctl load chat-llama3.gguf" llmctl load -q $M || return
echo '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]}' > /tmp/t1.json
llmctl template -m $M /tmp/t1.json > /tmp/t1.txt
want=$(llmctl tokenize --special -m $M - < /tmp/t1.txt | wc -w)
printf 'Hello there\nAnd again\n' |
	llmctl chat --system "Be brief." -n 8 -t 0 > /tmp/chat.out 2> /tmp/chat.err
check_eq "a chat turn's prompt is the rendered text's $want tokens, special tokens parsed" \
	"[$want prompt + 8 generated tokens, context $((want + 7))/512]" \
	"$(sed -n 1p /tmp/chat.err)"
# the second turn: <|eot_id|> closing the reply, then its header and text
echo '{"messages": [{"role": "user", "content": "And again"}]}' > /tmp/t2.json
{ printf '<|eot_id|>'; llmctl template -m $M /tmp/t2.json |
	sed '1s/^<|begin_of_text|>//'; } > /tmp/t2.txt
want2=$(llmctl tokenize --no-bos --special -m $M - < /tmp/t2.txt | wc -w)
# (the reply's last token, shown but not yet in context, goes in first)
check_eq "the next turn goes on after the reply, closed by <|eot_id|>" \
	"[$want2 prompt + 8 generated tokens, context $((want + 7 + 1 + want2 + 7))/512]" \
	"$(sed -n 2p /tmp/chat.err)"
check_eq "two replies" 2 "$(wc -l < /tmp/chat.out)"

# No template: plain text, with a note; another family: refused
check "llmctl load stories260K.gguf" llmctl load -q /models/stories260K.gguf
echo Once | llmctl chat -q -n 5 > /tmp/c.out 2> /tmp/c.err
check_eq "no template: chat sends plain text and says so" \
	"0 llmctl chat: the model has no chat template (tokenizer.chat_template): it completes text, it does not chat: each line is sent as plain text, as with --raw" \
	"$? $(cat /tmp/c.err)"
said "no template: --system is refused" 1 'it does not chat$' \
	sh -c 'echo Once | llmctl chat -q --system Hi'
said "no template: llmctl template says why" 1 'has no chat template' \
	llmctl template /extra/chat/1-user.json
check "llmctl load chat-unknown.gguf" llmctl load -q /extra/chat-unknown.gguf
said "a template of another family is refused" 1 \
	'^llmctl chat: the model.s chat template is of no family llm renders .*; --raw sends each line as plain text$' \
	sh -c 'echo Once | llmctl chat -q'
echo Once | llmctl chat --raw -q -n 5 > /tmp/c.out 2> /tmp/c.err
check_eq "... and --raw completes plain text" "0 1" "$? $(wc -l < /tmp/c.out)"
check "llmctl unload" llmctl unload
