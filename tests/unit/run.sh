#!/bin/sh
# Unit tier: every tests/unit/test_* program, plus static checks.
# VALGRIND=1 runs each program under valgrind (leaks and errors fail).
set -u
: "${B:=build}"
export TEST_DATA=tests/unit/data
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rc=0
for t in "$B"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	if [ "${VALGRIND:-}" = 1 ]; then
		valgrind -q --error-exitcode=99 --leak-check=full \
		    --errors-for-leak-kinds=definite "$t" || rc=1
	else
		"$t" || rc=1
	fi
done
for s in tests/unit/check_*.sh; do
	[ -f "$s" ] || continue
	sh "$s" || rc=1
done
exit $rc
