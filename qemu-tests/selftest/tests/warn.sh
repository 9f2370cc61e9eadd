# SPDX-License-Identifier: GPL-2.0
# Harness self-test: the script passes, but the kernel prints a WARNING
# (the module from qemu-tests/selftest/warn/), so the test must fail.  The
# mark llm_load writes stands in for llm.ko's first load: the WARNING
# comes after it and counts as the test's.
llm_load_mark
check "insmod the WARN_ON module" insmod /extra/llm_selftest_warn.ko
