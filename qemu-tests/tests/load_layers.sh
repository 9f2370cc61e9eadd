# SPDX-License-Identifier: GPL-2.0
# timeout: 180
# llmctl load --layers (issue 10, point 5: each ring node needs only its
# own layers in its arena).  The kernel reads only the file's metadata
# and the tensors of the layers asked for: the arena holds less (those
# layers' weights and K/V), the model says which layers it holds (sysfs,
# llmctl info), serves no request without the ring (ENETDOWN), and a ring
# node configuration outside its layers is refused (ERANGE) while one
# inside them comes up.  A model bigger than the whole arena loads as a
# share.  Bad ranges are refused with a sentence, leaving the model as it
# was; the whole range is the whole model, and a whole load serves as
# before.

M=/models/stories260K.gguf
need $M "the project's models/ directory"
KEY=4c4c4d2072696e672074657374206b6579206f6e6c792121212121212121212a

check "insmod llm.ko" llm_load || return
check "llmctl load $M" llmctl load -q $M || return
set -- $(vals arena_used model_bytes model_params)
whole_used=$1 whole_bytes=$2 whole_params=$3
llmctl generate -q --ids -n 24 -t 0 "Once upon a time" > /tmp/whole.out
check_range "the whole model generates" 20 200 "$(wc -w < /tmp/whole.out)"

for r in 0:2 1:3 3:5; do
	check "llmctl load --layers $r" llmctl load -q --layers $r $M || return
	check_eq "model_layers_held is $r" "$r" "$(llm_sys model_layers_held)"
	set -- $(vals arena_used model_bytes model_params load_bytes_done \
		load_bytes_total)
	check_range "layers $r: the arena holds less than the whole model's $whole_used bytes" \
		1 $((whole_used - 1)) "$1"
	check_range "... its image is a share of the file's $whole_bytes bytes" \
		1 $((whole_bytes - 1)) "$2"
	check_range "... and so are its parameters" 1 $((whole_params - 1)) "$3"
	check_eq "the load read the share's bytes" "$2 $2" "$4 $5"
	check_fails "a request on a share without the ring fails" \
		llmctl generate -q -n 4 "Once"
	check_match "... saying why (ENETDOWN)" "Network is down.*--layers" \
		"$(llmctl generate -q -n 4 Once 2>&1)"
done
check_match "llmctl info names the layers held" "^layers_held +3:5 of 5 " \
	"$(llmctl info)"

# ring configurations against the layers held (3:5: the last of a ring)
RING="--nodes 3 --prev 10.0.0.1 --next 10.0.0.3 --key $KEY --port 7999"
check "llmctl load --layers 1:3" llmctl load -q --layers 1:3 $M || return
check_fails "ring up outside the layers held is refused" \
	llmctl ring up --node 1 --layers 1:4 $RING
check_match "... with ERANGE and the range held" \
	"ERANGE.*holds only layers 1:3" \
	"$(llmctl ring up --node 1 --layers 1:4 $RING 2>&1)"
check "ring up with the layers held" llmctl ring up --node 1 --layers 1:3 $RING
check "ring down" llmctl ring down

# bad ranges: a sentence, and the model loaded stays
check_fails "--layers 3:9 is refused" llmctl load -q --layers 3:9 $M
check_match "... by the kernel, with a sentence" \
	"layers 3:9 do not fit the model's 5 layers" \
	"$(llmctl load -q --layers 3:9 $M 2>&1)"
check_eq "... and the model loaded stays" "1:3" "$(llm_sys model_layers_held)"
for bad in 2:2 3:1 x 1: :3 1:3:5; do
	llmctl load -q --layers "$bad" $M > /dev/null 2>&1
	check_eq "--layers $bad is a usage error" 2 "$?"
done

# the whole range is the whole model
check "llmctl load --layers 0:5" llmctl load -q --layers 0:5 $M || return
check_eq "... holds 0:5 in as many bytes as a whole load" \
	"0:5 $whole_used $whole_bytes" \
	"$(llm_sys model_layers_held) $(vals arena_used model_bytes)"
check_eq "... and generates the same tokens" "$(cat /tmp/whole.out)" \
	"$(llmctl generate -q --ids -n 24 -t 0 'Once upon a time')"

# a model bigger than the whole arena loads as a share
check "rmmod" llm_unload || return
check "insmod llm.ko arena_mb=1 sessions=2 max_context=64 max_prompt_bytes=256" \
	llm_load arena_mb=1 sessions=2 max_context=64 max_prompt_bytes=256 || return
check_fails "the whole model does not fit a 1 MiB arena" llmctl load -q $M
check "... but layers 1:3 of it do" llmctl load -q --layers 1:3 $M
check_eq "model_layers_held is 1:3" "1:3" "$(llm_sys model_layers_held)"
check "llmctl unload" llmctl unload
check_eq "the arena is empty again" 0 "$(llm_sys arena_used)"
