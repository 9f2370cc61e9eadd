# Node 1 of 3 crashes its kernel: it fails, and the others are stopped soon
# after (they would wait for it at the next barrier).
# nodes: 3
# timeout: 200
check "barrier" barrier one || return
[ "$NODE" -eq 1 ] && echo c > /proc/sysrq-trigger
check "barrier after the crash" barrier two
