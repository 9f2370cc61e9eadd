# Node 1 never ends its script: node 0 gives up at the end barrier (60 s),
# and node 1 is stopped RING_GRACE seconds after node 0 ended.
# nodes: 2
# timeout: 240
check "barrier" barrier one || return
[ "$NODE" -eq 1 ] && sleep 1000
check "true succeeds" true
