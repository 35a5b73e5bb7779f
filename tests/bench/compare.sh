#!/bin/sh
# kinkd against strongSwan (numbers only, never pass/fail): the same work,
# SA pairs created one after another and with N in flight, in interleaved
# rounds (kinkd, charon, kinkd, charon...), the responder's CPU per pair
# (the process CPU clock over the round, ns) and the rate; one line per
# setting with the medians of the rounds:
#
#   compare where=native|vm inflight=N kinkd_cpu_us=X swan_cpu_us=X
#       cpu_ratio=X kinkd_rate=X swan_rate=X rate_ratio=X
#
# (cpu_ratio = swan/kinkd CPU per pair, rate_ratio = kinkd/swan rate).
# native: one network namespace on this host; kinkd with the null backend
# and a throwaway KDC, charon with kernel-libipsec (a TUN device, no kernel
# ESP) and PSK.  vm: one qemu boot of the VM tier's kernel, both with real
# XFRM installs, and a sampled profile of kinkd (tests/bench/compare-guest.sh).
# kinkd's exchange is a KINK CREATE (Kerberos AP-REQ, two messages);
# charon's a CREATE_CHILD_SA on an IKE_SA set up before the round.
#
#	sh tests/deps.sh bench              (once, as root: charon, swanctl)
#	sh tests/bench/compare.sh           (as root; B=build, -O2)
#	BENCH_N=1000 BENCH_ROUNDS=5 BENCH_CONC="1 8" COMPARE_WHERE="native vm"
#	BENCH_KRB_WORKERS=N   kinkd's `set krb-workers` (default: auto)
set -u
: "${B:=build}"
: "${BENCH_N:=1000}"
: "${BENCH_ROUNDS:=5}"
: "${BENCH_CONC:=1 8}"
: "${COMPARE_WHERE:=native vm}"
export B BENCH_N BENCH_ROUNDS BENCH_CONC
export BENCH_KRB_WORKERS="${BENCH_KRB_WORKERS:-auto}"

if [ -z "${KINK_HOST_NETNS:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "compare: run as root (charon makes a TUN device)" >&2
		exit 1
	fi
	if [ ! -x /usr/lib/ipsec/charon ] || ! command -v swanctl >/dev/null; then
		echo "compare: no charon/swanctl: sh tests/deps.sh bench" >&2
		exit 1
	fi
	${MAKE:-make} -s B="$B" "$B/tests/kinkd-test" "$B/kinkctl" \
	    "$B/tests/tools/udprelay" "$B/tests/tools/kinkcraft" \
	    "$B/tests/bench/bench_create" "$B/tests/bench/bench_vici" || exit 1
	echo "# compare: kinkd $(git describe --always --dirty 2>/dev/null)," \
	    "$(/usr/lib/ipsec/charon --version 2>/dev/null | head -n 1)," \
	    "B=$B, $(nproc) CPUs, N=$BENCH_N, $BENCH_ROUNDS rounds," \
	    "krb-workers $BENCH_KRB_WORKERS"
	echo "# uptime:$(uptime)"
	rc=0
	for w in $COMPARE_WHERE; do
		case $w in
		native) KINK_HOST_NETNS=1 unshare -n sh "$0" || rc=1 ;;
		vm) sh tests/bench/compare-vm.sh || rc=1 ;;
		*) echo "compare: unknown where=$w" >&2; rc=1 ;;
		esac
	done
	echo "# uptime:$(uptime)"
	exit $rc
fi
ip link set lo up || exit 1
# charon's kernel-libipsec routes each CHILD_SA's selectors through its
# TUN device from a local address inside them: one such address per side
ip addr add 10.1.0.1/32 dev lo && ip addr add 10.2.0.1/32 dev lo || exit 1

exec bash -c '
. tests/lib/host.sh
. tests/bench/swan.sh
HOST_VERBOSE=
host_init compare
host_realm alpha beta || exit 1
R=$T/res
mkdir -p "$R"
SWAN_LOAD="random nonce openssl kdf pem pkcs1 x509 kernel-libipsec kernel-netlink socket-default vici"
swan_conf alpha 5000 "$T" "$SWAN_LOAD"
swan_conf beta 5100 "$T" "$SWAN_LOAD"
swan_conn_r "$T" 127.0.0.2 127.0.0.1 tunnel 10.2.0.1/32 10.1.0.1/32

kinkd_round() {	# kinkd_round CONC: fresh daemons, as tests/bench/run.sh
	# The default cap of 64 transactions per peer counts the finished
	# ones kept for the reply cache (6 s here): at more than about ten
	# CREATEs a second the responder would drop commands.  charon has no
	# such cap, so neither has kinkd here.
	EXTRA="set max-xact-peer 100000
set krb-workers $BENCH_KRB_WORKERS" host_pair v4 ||
	    { echo "# kinkd did not start"; return 1; }
	local pid n0 n1
	pid=$(cat "$T/beta.pid")
	n0=$(cpu_ns "$pid")
	"$HOST_TOP/$B/tests/bench/bench_create" -s "$(sock_of alpha)" \
	    -p beta -n "$BENCH_N" -c "$1" -r "$pid" > "$T/round.out" 2>&1
	n1=$(cpu_ns "$pid")
	stop_kinkd alpha
	stop_kinkd beta
	sed "s/^/# kinkd c=$1: /" "$T/round.out" | head -n 4
	bench_parse "$T/round.out" "$n0" "$n1" >> "$R/kinkd.$1"
}

swan_round() {	# swan_round CONC: fresh charons, IKE_SAs up, then the round
	local a b n0 n1 ok=1
	swan_conn_i "$T" 127.0.0.1 127.0.0.2 5100 "$1" \
	    $(( (BENCH_N + $1 - 1) / $1 + 1 )) tunnel 10.1.0.1/32 10.2.0.1/32
	swan_start beta "$T" || ok=0
	b=$SWAN_PID
	swan_start alpha "$T" || ok=0
	a=$SWAN_PID
	HOST_BG="$HOST_BG $a $b"
	if [ $ok = 1 ] && swan_warm "$T" "$1"; then
		n0=$(cpu_ns "$b")
		"$HOST_TOP/$B/tests/bench/bench_vici" -s "$T/alpha.vici" \
		    -n "$BENCH_N" -c "$1" -r "$b" > "$T/round.out" 2>&1
		n1=$(cpu_ns "$b")
		sed "s/^/# charon c=$1: /" "$T/round.out" | head -n 4
		bench_parse "$T/round.out" "$n0" "$n1" >> "$R/swan.$1"
	fi
	swan_stop "$a"
	swan_stop "$b"
}

for r in $(seq "$BENCH_ROUNDS"); do
	for c in $BENCH_CONC; do
		kinkd_round "$c"
		swan_round "$c"
	done
done
for c in $BENCH_CONC; do
	compare_line native "$c" "$R"
done
exit 0
'
