# SPDX-License-Identifier: GPL-2.0
# Harness self-test: the guest never gets here (see selftest/run.sh,
# which boots it with rdinit=/bin/false); run.sh must boot it twice, then fail.
check "true succeeds" true
