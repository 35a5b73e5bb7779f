#!/bin/sh
# Fuzz tier: builds every libFuzzer harness (make fuzzers) and runs each
# build-fuzz/fuzz_<name> for FUZZ_TIME seconds if set, else FUZZ_SMOKE
# (default 30), on a temporary copy of tests/fuzz/corpus/<name>/ with
# tests/fuzz/<name>.dict when present.  Prints one line per harness:
#   PASS fuzz_<name> (N execs, N exec/s)
#   FAIL fuzz_<name>: crash ... (reproducer kept in build-fuzz/crashes/)
# and exits non-zero if any harness failed.  New inputs found during the run
# stay in the temporary copy: the checked-in corpus only changes by hand.
set -u
top=$(pwd)
secs=${FUZZ_TIME:-${FUZZ_SMOKE:-30}}
make=${MAKE:-make}
work=$(mktemp -d /tmp/kinkd-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

if ! $make fuzzers > "$work/build.log" 2>&1; then
	echo "FAIL fuzz-build: '$make fuzzers' failed; last lines:"
	tail -n 30 "$work/build.log" | sed 's/^/    /'
	exit 1
fi

rc=0
found=0
for src in "$top"/tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	found=1
	prog=$(basename "$src" .c)
	name=${prog#fuzz_}
	bin="$top/build-fuzz/$prog"
	if [ ! -x "$bin" ]; then
		echo "FAIL $prog: $bin was not built"
		rc=1
		continue
	fi
	corpus="$work/$name/corpus"
	mkdir -p "$corpus" "$work/$name/artifacts"
	if [ -d "$top/tests/fuzz/corpus/$name" ]; then
		cp -R "$top/tests/fuzz/corpus/$name/." "$corpus/"
	fi
	set --
	if [ -f "$top/tests/fuzz/$name.dict" ]; then
		set -- "-dict=$top/tests/fuzz/$name.dict"
	fi
	log="$work/$name/log"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    "$bin" "$@" -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix="$work/$name/artifacts/" "$corpus" \
	    > "$log" 2>&1
	st=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	if [ "$st" -eq 0 ]; then
		echo "PASS $prog (${execs:-?} execs, ${eps:-?} exec/s)"
		continue
	fi
	rc=1
	keep="$top/build-fuzz/crashes/$name"
	mkdir -p "$keep"
	cp "$work/$name/artifacts/"* "$keep/" 2>/dev/null
	why=$(grep -m 1 -E 'ERROR: (libFuzzer|AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer)|runtime error|deadly signal' "$log")
	arts=$(ls "$work/$name/artifacts" 2>/dev/null | tr '\n' ' ')
	echo "FAIL $prog: crash (exit $st): ${why:-see log}; reproducer(s): ${arts:-none} in build-fuzz/crashes/$name/"
	grep -E '^SUMMARY:|^    #[0-9]' "$log" | head -n 20 | sed 's/^/    /'
done
if [ "$found" -eq 0 ]; then
	echo "FAIL fuzz: no tests/fuzz/fuzz_*.c harness"
	rc=1
fi
exit $rc
