# SPDX-License-Identifier: GPL-2.0
# timeout: 20
# Harness self-test: never finishes; run.sh must kill QEMU after the
# timeout above and fail the test.
check "about to hang" true
while :; do sleep 60; done
