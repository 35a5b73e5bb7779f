#!/bin/bash
# Bounded state: a daemon never holds more transactions for one peer than
# "max-xact-peer" allows, refuses the excess with an error (not a hang),
# counts it (drop_xact_cap), and recovers once the backlog clears.  The
# backlog is real: the relay swallows every CREATE, so alpha's exchanges
# sit in retransmission until they give up.
# The backlog must outlast the start of all 12 requests, also on a loaded
# machine where each kinkctl takes a while to start: every exchange gives
# up only after 1+2+2+2+2 = 9 s (5 sends, as the answers below say).
HOST_RETRANS="1s max 2s tries 5"
. tests/lib/host.sh
host_init 110-limits
host_realm alpha beta || exit 1

EXTRA="set max-xact-peer 8" VIA=1 write_conf alpha v4
VIA=1 write_conf beta v4
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
relay_start v4 "drop a2b CREATE all"

pids=
for i in $(seq 1 12); do
	ctl alpha initiate beta > "$T/init.$i.out" 2> "$T/init.$i.err" &
	pids="$pids $!"
done
# sample the table while the backlog is there: until the 4 refusals have
# been answered (all 12 requests have reached alpha by then) and a few
# samples after, bounded by the first give-up
refusals() { cat "$T"/init.*.err 2>/dev/null | grep -c 'not started'; }
peak=0
after=0
end=$(( $(date +%s) + HOST_WAIT ))
while [ "$after" -lt 5 ] && [ "$(date +%s)" -lt "$end" ]; do
	n=$(xact_count alpha)
	[ "$n" -gt "$peak" ] && peak=$n
	[ "$(refusals)" -ge 4 ] && after=$((after + 1))
	grep -q 'no answer' "$T"/init.*.err 2>/dev/null && break
	sleep 0.05
done
refused=0
for p in $pids; do
	wait "$p"
	case $? in
	0) ;;
	*) refused=$((refused + 1)) ;;
	esac
done
check "peak-at-most-8" test "$peak" -le 8
check "peak-reached-8" test "$peak" -eq 8
check_eq all-12-failed "$refused" 12
check "cap-counted" test "$(stat_get alpha drop_xact_cap)" -ge 4
check "giveups-counted" test "$(stat_get alpha giveups)" -ge 8
# the answers tell the two fates apart: 8 gave up, 4 never started
check_eq gaveup-answers "$(cat "$T"/init.*.err | grep -c 'no answer after 5 sends')" 8
check_eq refused-answers "$(cat "$T"/init.*.err | grep -c 'not started')" 4
check "backlog-cleared" wait_until "$HOST_WAIT" xact_count_is alpha 0
check_eq "no-sa-left" "$(sa_count alpha)" 0

# recovered: with the relay passing again, a CREATE works
relay_rules
check recovered ctl alpha initiate beta
check recovered-pairwise sa_pair_ok alpha beta
