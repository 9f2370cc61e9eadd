# SPDX-License-Identifier: GPL-2.0
# Harness self-test: everything fine; run.sh must pass this one.
check "true succeeds" true
check_fails "false fails" false
check_eq "one is one" 1 1
