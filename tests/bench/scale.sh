#!/bin/sh
# Scale benchmark (numbers only, never pass/fail): one pair of kinkd with
# the null SA backend grows to 100,000 SA pairs; at 0, 10,000 and
# 100,000 existing pairs it measures CREATE (bench_create through alpha's
# control socket: responder CPU per exchange, latency, rate), beta's RSS
# per pair held, and one full `kinkctl show sa` on beta: its wall time
# and the longest time beta's loop was busy between two events meanwhile
# (the test build's loop probe, a 1 ms timer: the loop thread's CPU time
# between two of its ticks is the work done between two events; the wall
# gap, which on a shared machine counts time given to others, is printed
# on a comment line).  One line per point:
#
# scale pairs=N create_cpu_us=X create_p50_ms=X create_p99_ms=X rate_per_s=X rss_per_pair_b=X show_sa_ms=X loop_max_busy_ms=X
#
# and, at the end, beta's shutdown with every pair held (the DELETE walk
# that tells alpha, then the time until beta has exited):
#
# shutdown pairs=N tell_ms=X exit_ms=X
#
#	sh tests/bench/scale.sh              (B=build: no sanitizers, -O2)
#	SCALE_POINTS="0 10000" SCALE_N=500 SCALE_CONC=8 sh tests/bench/scale.sh
#	SCALE_KRB_WORKERS=N   `set krb-workers` of both (default: auto)
#
# Pairs between the points are made with the test build's `fill-sas`
# knob on both daemons (SA records and backend entries as a CREATE makes
# them, without 100,000 Kerberos exchanges); SCALE_GROW=create makes
# them with real CREATEs instead (hours on a loaded machine).
set -u
: "${B:=build}"
: "${SCALE_POINTS:=0 10000 100000}"
: "${SCALE_N:=2000}"		# CREATEs measured at each point
: "${SCALE_CONC:=4}"
: "${SCALE_GROW:=fill}"
export B SCALE_POINTS SCALE_N SCALE_CONC SCALE_GROW
export SCALE_KRB_WORKERS="${SCALE_KRB_WORKERS:-auto}"

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

exec bash ${SCALE_TRACE:+-x} -c '
. tests/lib/host.sh
HOST_VERBOSE=
host_init scale
host_realm alpha beta || exit 1
echo "# kinkd $(git describe --always --dirty 2>/dev/null), B=$B, $(nproc) CPUs, krb-workers $SCALE_KRB_WORKERS, load $(cut -d" " -f1-3 /proc/loadavg)"
export KINKD_LOOP_PROBE=1
# A responder keeps each answered CREATE for the reply cache time: the
# default per-peer bound (64) would cap the rate, not kinkd.
for n in alpha beta; do
	write_conf $n v4 || exit 1
	printf "set max-xact-peer 100000\nset max-xact 100000\nset krb-workers %s\n" \
	    "$SCALE_KRB_WORKERS" >> "$T/$n.conf"
done
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
bpid=$(cat "$T/beta.pid")
rss_kib() { awk "/^VmRSS:/ { print \$2 }" "/proc/$1/status"; }
rss0=$(rss_kib "$bpid")
have=0		# pairs beta holds

# wait_lines NAME TEXT N: until the log of NAME has N lines with TEXT; counted
# in polls, not by the clock, which may be stepped while a fill runs
wait_lines() {
	local i=0
	while [ "$(log_count "$1" "$2")" -lt "$3" ]; do
		i=$((i + 1))
		[ $i -gt 12000 ] && return 1
		sleep 0.1
	done
}

# fill NAME PEER K: K more pairs on NAME, 10,000 per inject
fill() {
	local left=$3 k n
	while [ "$left" -gt 0 ]; do
		k=$(( left > 10000 ? 10000 : left ))
		n=$(log_count "$1" "inject: fill-sas $2 $k")
		inject "$1" "fill-sas $2 $k"
		wait_lines "$1" "inject: fill-sas $2 $k" $((n + 1)) ||
		    { echo "# fill on $1 did not finish"; return 1; }
		left=$((left - k))
	done
}

# probe NAME: the longest gap of the loop probe since the last call, in us
probe() {
	local n
	n=$(log_count "$1" "inject: loop-probe")
	inject "$1" loop-probe
	wait_lines "$1" "inject: loop-probe" $((n + 1)) || return 1
	grep -o "loop-probe max_gap_us=[0-9]* max_cpu_us=[0-9]*" "$T/$1.log" |
	    tail -n 1 | tr "=" " " | awk "{ print \$3, \$5 }"
}

for pts in $SCALE_POINTS; do
	if [ "$pts" -gt "$have" ]; then
		if [ "$SCALE_GROW" = create ]; then
			"$HOST_TOP/$B/tests/bench/bench_create" -s "$(sock_of alpha)" \
			    -p beta -n $((pts - have)) -c 16 > /dev/null
		else
			fill beta alpha $((pts - have)) && fill alpha beta $((pts - have)) || exit 1
		fi
		have=$pts
	fi
	rss=$(rss_kib "$bpid")
	rpp=0
	[ "$have" -gt 0 ] && rpp=$(( (rss - rss0) * 1024 / have ))
	out=$("$HOST_TOP/$B/tests/bench/bench_create" -s "$(sock_of alpha)" \
	    -p beta -n "$SCALE_N" -c "$SCALE_CONC" -r "$bpid" -i "$(cat "$T/alpha.pid")")
	echo "$out" | sed "s/^/# /"
	have=$((have + SCALE_N))
	cpu_us=$(echo "$out" | awk "/responder CPU/ { gsub(/[(]/, \"\"); print \$5 * 1000 }")
	p50=$(echo "$out" | awk "/latency ms/ { print \$4 }")
	p99=$(echo "$out" | awk "/latency ms/ { print \$8 }")
	rate=$(echo "$out" | awk "/exchanges\\/s/ { print \$2 }")
	probe beta > /dev/null
	t0=$(date +%s%N)
	ctlj beta -t 600 show sa > "$T/list.json" 2>&1
	t1=$(date +%s%N)
	nsa=$(jq ".sa | length" "$T/list.json")
	gap=$(probe beta)
	wall=$(echo "$gap" | awk "{ printf \"%.1f\", \$1 / 1000 }")
	busy=$(echo "$gap" | awk "{ printf \"%.1f\", \$2 / 1000 }")
	echo "# show sa listed ${nsa:-?} SAs; beta RSS $rss KiB (at start $rss0 KiB); longest wall gap between two probe ticks ${wall} ms (the machine is shared: time not given to kinkd counts there, not in loop_max_busy_ms, the loop thread CPU between two ticks)"
	echo "scale pairs=$pts create_cpu_us=$cpu_us create_p50_ms=$p50 create_p99_ms=$p99 rate_per_s=$rate rss_per_pair_b=$rpp show_sa_ms=$(( (t1 - t0) / 1000000 )) loop_max_busy_ms=$busy"
done
# Shutdown with everything held: beta tells alpha (one DELETE per 32
# pairs) and removes every SA; tell_ms is that walk (beta logs it),
# exit_ms the time from SIGTERM until beta is gone (the DELETEs answered).
t0=$(date +%s%N)
kill -TERM "$bpid"
wait "$bpid" 2>/dev/null	# a child of this shell: wait, not kill -0
t1=$(date +%s%N)
rm -f "$T/beta.pid"
tell=$(grep -o "DELETEs to peers in [0-9]* ms" "$T/beta.log" | tail -n 1 | awk "{ print \$5 }")
echo "shutdown pairs=$have tell_ms=${tell:-?} exit_ms=$(( (t1 - t0) / 1000000 ))"
echo "# load after: $(cut -d" " -f1-3 /proc/loadavg)"
stop_kinkd alpha
exit 0
'
