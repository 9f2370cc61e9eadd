// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test only: a module whose load prints a kernel WARNING, so
 * qemu-tests/selftest/run.sh can check that qemu-tests/run.sh fails a test
 * on a warning even when the test script itself saw nothing wrong.
 */
#include <linux/module.h>
#include <linux/bug.h>

static int __init llm_selftest_warn_init(void)
{
	WARN_ON(1);
	return 0;
}

static void __exit llm_selftest_warn_exit(void)
{
}

module_init(llm_selftest_warn_init);
module_exit(llm_selftest_warn_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("llm harness self-test: WARN_ON(1) at load");
