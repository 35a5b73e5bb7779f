#!/bin/sh
# Runs the test tiers and counts their PASS/FAIL lines.  Each tier is
# tests/<tier>/run.sh; it prints "PASS name" / "FAIL name: why" lines and
# exits non-zero on failure.  A tier that exits non-zero without printing a
# FAIL line (a crash, a missing tool) counts as one failure of its own.
# Environment: B (build dir), VALGRIND=1 (unit tier under valgrind).
set -u
: "${B:=build}"
TIERS=${*:-unit krb heimdal daemon host vm sysd fuzz docs pkg}
export B VALGRIND FUZZ_SMOKE
top=$(pwd)
log=$(mktemp -d /tmp/kinkd-test.XXXXXX)
pass=0 fail=0
for t in $TIERS; do
	[ -f "tests/$t/run.sh" ] || continue
	echo "== tier $t"
	start=$(date +%s)
	sh "tests/$t/run.sh" > "$log/$t.out" 2>&1
	rc=$?
	cd "$top"
	grep -E '^(PASS|FAIL) ' "$log/$t.out" | sed "s/^/  [$t] /"
	p=$(grep -c '^PASS ' "$log/$t.out")
	f=$(grep -c '^FAIL ' "$log/$t.out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "  [$t] FAIL tier-$t: exited $rc without a FAIL line; output:"
		tail -n 40 "$log/$t.out" | sed 's/^/    /'
		f=1
	elif [ "$f" -ne 0 ]; then
		echo "  [$t] --- output of failing tier (last 80 lines):"
		tail -n 80 "$log/$t.out" | sed 's/^/    /'
	fi
	echo "== tier $t: $p passed, $f failed ($(( $(date +%s) - start ))s)"
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "full logs: $log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
