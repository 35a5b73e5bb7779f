#!/bin/sh
# CREATE benchmark (numbers only, never pass/fail): two kinkd on loopback
# with the null SA backend and a throwaway KDC, driven by bench_create
# through alpha's control socket.  Prints exchanges per second, latency
# percentiles, the responder's CPU time and RSS, for each concurrency.
#
#	sh tests/bench/run.sh            (B=build: no sanitizers, -O2)
#	BENCH_N=2000 BENCH_CONC="1 4 16" sh tests/bench/run.sh
#	BENCH_STRACE=1 sh tests/bench/run.sh   (also the responder's syscalls
#	                                         per CREATE, strace -c -f)
#	BENCH_PERF=1 BENCH_CONC=8 sh tests/bench/run.sh   (also a profile of
#	    the responder over the run: perf record -g attached to it, top
#	    objects and symbols by self time; BENCH_PERF_OPTS for record,
#	    BENCH_PERF_TOP lines, BENCH_PERF_KEEP=DIR keeps perf.CONC.data)
set -u
: "${B:=build}"
: "${BENCH_N:=500}"
: "${BENCH_CONC:=1 8}"
: "${BENCH_STRACE:=}"
: "${BENCH_PERF:=}"
export B BENCH_N BENCH_CONC BENCH_STRACE BENCH_STRACE_OPTS BENCH_STRACE_KEEP
export BENCH_PERF BENCH_PERF_OPTS BENCH_PERF_TOP BENCH_PERF_KEEP

if [ -z "${KINK_HOST_NETNS:-}" ]; then
	${MAKE:-make} -s B="$B" "$B/tests/kinkd-test" "$B/kinkctl" \
	    "$B/tests/tools/udprelay" "$B/tests/tools/kinkcraft" \
	    "$B/tests/bench/bench_create" || exit 1
	if [ "$(id -u)" = 0 ]; then
		set -- unshare -n
	else
		set -- unshare -r -n
	fi
	KINK_HOST_NETNS=1 exec "$@" sh "$0"
fi
ip link set lo up || exit 1

exec bash -c '
. tests/lib/host.sh
HOST_VERBOSE= 
host_init bench
host_realm alpha beta || exit 1
echo "# kinkd $(git describe --always --dirty 2>/dev/null), B=$B, $(nproc) CPUs"
# fresh daemons for each run: the responder starts with no SAs, so the
# RSS growth is the run'"'"'s own and runs do not slow each other down
for c in $BENCH_CONC; do
	host_pair v4 || { fail start "daemons did not start"; exit 1; }
	if [ -n "$BENCH_STRACE" ]; then
		strace ${BENCH_STRACE_OPTS:--c} -f -p "$(cat "$T/beta.pid")" \
		    -o "$T/strace.$c" &
		spid=$!
		sleep 1		# attached (a few syscalls more only inflate)
	fi
	if [ -n "$BENCH_PERF" ]; then
		# sampling costs the responder CPU: its figures from this run
		# are not the benchmark'"'"'s, only where the time goes
		perf record ${BENCH_PERF_OPTS:--g} -p "$(cat "$T/beta.pid")" \
		    -o "$T/perf.$c.data" > "$T/perf.$c.log" 2>&1 &
		ppid=$!
		sleep 1
	fi
	"$HOST_TOP/$B/tests/bench/bench_create" -s "$(sock_of alpha)" \
	    -p beta -n "$BENCH_N" -c "$c" -r "$(cat "$T/beta.pid")" \
	    -i "$(cat "$T/alpha.pid")"
	if [ -n "$BENCH_STRACE" ]; then
		kill -INT $spid
		wait $spid
		awk -v n="$BENCH_N" -v c="$c" '"'"'$NF == "total" {
		    printf "syscalls per_create=%.1f conc=%s total=%d\n",
		    $4 / n, c, $4 }'"'"' "$T/strace.$c"
		sed -n "3,14p" "$T/strace.$c"
		[ -z "${BENCH_STRACE_KEEP:-}" ] || cp "$T/strace.$c" "$BENCH_STRACE_KEEP"
	fi
	if [ -n "$BENCH_PERF" ]; then
		kill -INT $ppid
		wait $ppid
		echo "# profile conc=$c: responder, self time by object"
		perf report -i "$T/perf.$c.data" --no-children -g none \
		    --sort dso --stdio 2>/dev/null | grep -v "^#" | grep . |
		    head -n "${BENCH_PERF_TOP:-12}" | sed "s/^/# profile dso /"
		echo "# profile conc=$c: responder, self time by symbol"
		perf report -i "$T/perf.$c.data" --no-children -g none \
		    --sort dso,sym --stdio 2>/dev/null | grep -v "^#" |
		    grep . | head -n "${BENCH_PERF_TOP:-30}" |
		    sed "s/^/# profile sym /"
		[ -z "${BENCH_PERF_KEEP:-}" ] ||
		    cp "$T/perf.$c.data" "$BENCH_PERF_KEEP/perf.$c.data"
	fi
	stop_kinkd alpha
	stop_kinkd beta
done
exit 0
'
