# SPDX-License-Identifier: GPL-2.0
# Harness self-test: the kernel crashes (sysrq c); with oops=panic and
# panic=-1 QEMU exits at once, and the test must fail.
check "about to crash the kernel" true
echo c > /proc/sysrq-trigger
check "still alive (never reached)" true
