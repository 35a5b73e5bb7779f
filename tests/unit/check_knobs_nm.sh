#!/bin/sh
# The production kinkd carries no test knob: the inject file, the forced
# refusals, the forced ACKREQ and QM version, and the null backend's
# environment switch live in the test build (tests/lib/kinkd_test.c ->
# $B/tests/kinkd-test) only.  Fails if a symbol naming one, or the
# environment variable's name, is in $B/kinkd; and checks the test build
# has them, so a pattern that matches nothing cannot pass.
: "${B:=build}"
name=check_knobs_nm
pat='inject|refuse_repl|reply_ackreq|send_qmvers|knob_'
for f in "$B/kinkd" "$B/tests/kinkd-test"; do
	if [ ! -x "$f" ]; then
		echo "FAIL $name: $f not built"
		exit 1
	fi
done
if ! prod=$(nm "$B/kinkd" 2>&1) || ! test=$(nm "$B/tests/kinkd-test" 2>&1)
then
	echo "FAIL $name: nm failed"
	exit 1
fi
bad=$(printf '%s\n' "$prod" | awk '{ print $NF }' | grep -Ei "$pat" |
    tr '\n' ' ')
if [ -n "$bad" ]; then
	echo "FAIL $name: $B/kinkd has test symbols: $bad"
	exit 1
fi
if grep -q -a 'KINKD_NULL_REFUSE' "$B/kinkd"; then
	echo "FAIL $name: $B/kinkd reads KINKD_NULL_REFUSE"
	exit 1
fi
if ! printf '%s\n' "$test" | awk '{ print $NF }' | grep -Eq "$pat" ||
    ! grep -q -a 'KINKD_NULL_REFUSE' "$B/tests/kinkd-test"; then
	echo "FAIL $name: $B/tests/kinkd-test lacks the knobs: check the pattern"
	exit 1
fi
echo "PASS $name"
