#!/bin/sh
# The responder's system calls per CREATE (a number to print, never a
# pass/fail test): two kinkd on loopback with the null backend and a
# throwaway KDC, as tests/bench/run.sh; `strace -c -f` attached to the
# responder (every thread, the KDC worker included) over a bounded run of
# CREATEs driven one at a time by bench_create, detached before the
# daemons stop.  Prints, besides strace's own table (as comments):
#
#   syscalls per_create=X top=name:X,name:X,...
#
# per_create is all calls over the run divided by the CREATEs answered;
# top lists the most frequent calls, each per CREATE too.
#
#	sh tests/bench/syscalls.sh          (B=build; needs strace:
#	                                     sh tests/deps.sh bench)
#	SYSCALLS_N=500 SYSCALLS_TOP=8 sh tests/bench/syscalls.sh
set -u
: "${B:=build}"
: "${SYSCALLS_N:=200}"
: "${SYSCALLS_TOP:=6}"
export B SYSCALLS_N SYSCALLS_TOP

if [ -z "${KINK_HOST_NETNS:-}" ]; then
	command -v strace >/dev/null ||
	    { echo "syscalls: no strace: sh tests/deps.sh bench" >&2; exit 1; }
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
host_init syscalls
host_realm alpha beta || exit 1
echo "# kinkd $(git describe --always --dirty 2>/dev/null), B=$B, $SYSCALLS_N CREATEs"
echo "# uptime:$(uptime)"
# no cap on the transactions kept for the reply cache (see compare.sh)
EXTRA="set max-xact-peer 100000" host_pair v4 || { fail start "daemons did not start"; exit 1; }
# one CREATE first: the initiator fetches its service ticket, and the
# responder has made its first-use allocations, outside the count
"$HOST_TOP/$B/tests/bench/bench_create" -s "$(sock_of alpha)" -p beta \
    -n 1 -c 1 > "$T/warm.out" 2>&1 || { cat "$T/warm.out"; exit 1; }
strace -c -f -p "$(cat "$T/beta.pid")" -o "$T/strace.out" 2> "$T/strace.err" &
st=$!
HOST_BG="$HOST_BG $st"
attached() { grep -qs attached "$T/strace.err"; }
wait_until "$HOST_WAIT" attached || { echo "# strace did not attach:"; cat "$T/strace.err"; exit 1; }
"$HOST_TOP/$B/tests/bench/bench_create" -s "$(sock_of alpha)" -p beta \
    -n "$SYSCALLS_N" -c 1 > "$T/run.out" 2>&1
sed "s/^/# /" "$T/run.out" | head -n 3
kill -INT "$st"
wait "$st"
n=$(awk "/CREATE exchanges/ { print \$2 }" "$T/run.out")
sed "s/^/# /" "$T/strace.out"
awk -v n="${n:-0}" -v top="$SYSCALLS_TOP" "
	\$1 ~ /^[0-9.]+\$/ && NF >= 5 && \$NF != \"total\" { c[\$NF] = \$4; t += \$4 }
	END {
		if (n == 0) { print \"syscalls: no CREATE answered\"; exit 1 }
		s = \"\"
		for (i = 0; i < top; i++) {
			best = \"\"
			for (k in c) if (best == \"\" || c[k] > c[best]) best = k
			if (best == \"\") break
			s = s (s == \"\" ? \"\" : \",\") best \":\" sprintf(\"%.1f\", c[best] / n)
			delete c[best]
		}
		printf \"syscalls per_create=%.1f top=%s\n\", t / n, s
	}" "$T/strace.out"
'
