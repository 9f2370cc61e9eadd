# SPDX-License-Identifier: GPL-2.0
# Harness self-test: one check fails; run.sh must report it and fail.
check "true succeeds" true
check "false succeeds (it does not)" false
