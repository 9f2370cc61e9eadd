# SPDX-License-Identifier: GPL-2.0
# Harness self-test: a WARNING before llm.ko is first loaded (no llm_load
# in this script) fails the test as well, under its own name.
check "insmod the WARN_ON module" insmod /extra/llm_selftest_warn.ko
