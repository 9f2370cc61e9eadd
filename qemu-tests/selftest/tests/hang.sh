# SPDX-License-Identifier: GPL-2.0
# timeout: 45
# Harness self-test: never finishes; run.sh must kill QEMU after the
# timeout above and fail the test.  The timeout counts from QEMU's start,
# boot included: 45 s leaves room for a boot on a loaded machine (20 s did
# not: the guest was stopped before /init and the test failed otherwise).
check "about to hang" true
while :; do sleep 60; done
