#!/bin/sh
# Run unit-test programs; their PASS/FAIL lines go to stdout as they are.
# A program that crashes (sanitizer report, signal) without a FAIL line
# of its own is reported as one failure.
st=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^(PASS|FAIL|SKIP) '
	if [ $rc -ne 0 ]; then
		st=1
		if ! printf '%s\n' "$out" | grep -q '^FAIL '; then
			echo "FAIL $(basename "$t"): exited with status $rc"
			printf '%s\n' "$out" | grep -vE '^(PASS|SKIP) ' | tail -20 | sed 's/^/    /'
		fi
	fi
done
exit $st
