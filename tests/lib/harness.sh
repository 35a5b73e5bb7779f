#!/bin/sh
# Runs the test tiers and counts their PASS/FAIL lines.  Each tier is
# tests/<tier>/run.sh; it prints "PASS name" / "FAIL name: why" lines and
# exits non-zero on failure.  A tier that exits non-zero without printing a
# FAIL line (a crash, a missing tool) counts as one failure of its own.
#
# Without arguments every tier runs, in three lanes at once: the tiers of
# real daemons on the host, which mostly wait on timers; the VM tier and the
# fuzzers; the package build, the systemd guest and the Heimdal build.  The
# whole suite is mostly waiting (its CPU time is about a third of its wall time when run
# serially on two cores), so lanes cut the wall time to the longest lane.
# The lanes share nothing (each host scenario has its own network namespace,
# the guests their own disks, the package build its own copy of the tree);
# pkg goes before sysd so the kernel both guests boot is fetched once, by
# the vm tier, while pkg builds.
# Tiers named as arguments run one after another, in that order.
# Environment: B (build dir), VALGRIND=1 (unit tier under valgrind),
# HARNESS_SERIAL=1 (the default list, one tier after another).
set -u
: "${B:=build}"
LANES="unit krb daemon host docs|vm fuzz|pkg sysd heimdal"
export B VALGRIND FUZZ_SMOKE
top=$(pwd)
log=$(mktemp -d "${TMPDIR:-/tmp}/kinkd-test.XXXXXX")
pass=0 fail=0

# One tier: its output, exit code and seconds into $log.
run_tier() {
	[ -f "tests/$1/run.sh" ] || { echo 0 > "$log/$1.sec"; : > "$log/$1.out"
	    echo absent > "$log/$1.rc"; return; }
	_s=$(date +%s)
	sh "tests/$1/run.sh" > "$log/$1.out" 2>&1
	_rc=$?
	cd "$top" || exit 1
	echo $(( $(date +%s) - _s )) > "$log/$1.sec"
	echo "$_rc" > "$log/$1.rc"
}

lane() {
	for _t in "$@"; do run_tier "$_t"; done
}

# Prints a finished tier's lines and adds them to the totals.
report() {
	_t=$1
	rc=$(cat "$log/$_t.rc")
	[ "$rc" = absent ] && return
	echo "== tier $_t"
	grep -E '^(PASS|FAIL) ' "$log/$_t.out" | sed "s/^/  [$_t] /"
	p=$(grep -c '^PASS ' "$log/$_t.out")
	f=$(grep -c '^FAIL ' "$log/$_t.out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "  [$_t] FAIL tier-$_t: exited $rc without a FAIL line; output:"
		tail -n 40 "$log/$_t.out" | sed 's/^/    /'
		f=1
	elif [ "$f" -ne 0 ]; then
		echo "  [$_t] --- output of failing tier (last 80 lines):"
		tail -n 80 "$log/$_t.out" | sed 's/^/    /'
	fi
	echo "== tier $_t: $p passed, $f failed ($(cat "$log/$_t.sec")s)"
	pass=$((pass + p))
	fail=$((fail + f))
}

if [ $# -gt 0 ] || [ "${HARNESS_SERIAL:-}" = 1 ]; then
	for t in ${*:-$(echo "$LANES" | tr '|' ' ')}; do
		run_tier "$t"
		report "$t"
	done
else
	start=$(date +%s)
	rest=$LANES
	while [ -n "$rest" ]; do
		l=${rest%%|*}
		case $rest in *"|"*) rest=${rest#*|} ;; *) rest= ;; esac
		lane $l &
	done
	# Report each tier as it ends, whichever lane it is in.
	left=$(echo "$LANES" | tr '|' ' ')
	while [ -n "$left" ]; do
		rest=
		for t in $left; do
			if [ -f "$log/$t.rc" ]; then
				report "$t"
			else
				rest="$rest $t"
			fi
		done
		left=$rest
		[ -n "$left" ] && sleep 2
	done
	wait
	echo "== all tiers in $(( $(date +%s) - start ))s ($(echo "$LANES" | tr -cd "|" | wc -c | awk '{print $1 + 1}') lanes)"
fi
echo "full logs: $log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
