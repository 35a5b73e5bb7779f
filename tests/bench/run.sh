#!/bin/sh
# CREATE benchmark (numbers only, never pass/fail): two kinkd on loopback
# with the null SA backend and a throwaway KDC, driven by bench_create
# through alpha's control socket.  Prints exchanges per second, latency
# percentiles, the responder's CPU time and RSS, for each concurrency.
#
#	sh tests/bench/run.sh            (B=build: no sanitizers, -O2)
#	BENCH_N=2000 BENCH_CONC="1 4 16" sh tests/bench/run.sh
set -u
: "${B:=build}"
: "${BENCH_N:=500}"
: "${BENCH_CONC:=1 8}"
export B BENCH_N BENCH_CONC

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
	"$HOST_TOP/$B/tests/bench/bench_create" -s "$(sock_of alpha)" \
	    -p beta -n "$BENCH_N" -c "$c" -r "$(cat "$T/beta.pid")" \
	    -i "$(cat "$T/alpha.pid")"
	stop_kinkd alpha
	stop_kinkd beta
done
exit 0
'
