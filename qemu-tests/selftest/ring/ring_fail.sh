# Node 1 fails a check, node 0 passes: the ring test fails, on node 1's line.
# nodes: 2
check "barrier" barrier one || return
if [ "$NODE" -eq 1 ]; then
	check "false succeeds (it does not)" false
else
	check "true succeeds" true
fi
