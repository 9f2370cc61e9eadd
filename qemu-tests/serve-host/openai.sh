# SPDX-License-Identifier: GPL-2.0
# timeout: 420
# The guest half of tests/serve-openai.sh (not a test of run.sh's own
# suite: it needs the NIC and host forwarding that script gives the
# guest): llm.ko with stories260K and llmctl serve on 10.0.2.15:8080,
# which QEMU's user network forwards from the host, where OpenAI's node
# client asks it.  The guest waits until the host connects to port 9999
# (also forwarded), then checks the server freed every session.

S=/extra/serve
need $S/llmctl "make qemu-extra"
check "the NIC's driver" kmod_load virtio_pci virtio_net || return
ip link set lo up
ifc=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
check "the NIC is $ifc: 10.0.2.15/24" sh -c \
	"ip addr add 10.0.2.15/24 dev $ifc && ip link set $ifc up" || return
check "insmod llm.ko" llm_load || return
check "llmctl load stories260K.gguf" llmctl load -q /models/stories260K.gguf || return
llmtest runas 1000 $S/ld-linux-x86-64.so.2 --library-path $S $S/llmctl serve \
	--host 0.0.0.0 --port 8080 --api-key sk-guest > /tmp/serve.log 2>&1 &
SRV=$!
echo "=== serve-host: ready"
# the host says it is done by connecting to 9999 (at most 300 s)
timeout 300 nc -l -p 9999 > /tmp/done 2>&1
check_eq "the host's client said it is done" done "$(head -n 1 /tmp/done)"
check_eq "the server holds no session afterwards" 0 "$(llm_sys sessions_active)"
kill -TERM $SRV
check_status "the server ends with status 0" 0 wait $SRV
