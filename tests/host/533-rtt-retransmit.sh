#!/bin/bash
# Retransmission from the round trip (RFC 4430 section 9): alpha's path
# to beta holds every datagram 400 ms (udprelay delay), while alpha's
# configured first interval is 100 ms.  The first exchanges resend (the
# interval backs off and stays backed off for the next exchange, since a
# resent exchange gives no sample: Karn's rule).  Once alpha has timed an
# exchange sent once, `show peers` has the estimate, the first wait is
# longer than the path's delay, and the next exchanges are answered
# without a single resend (counted exactly by the daemon and the relay).
# Without the estimate every exchange over this path resends.
# Last, the path loses every CREATE: the command that starts from the
# measured interval still gives up after one configured cycle (T-retrans,
# 0.1+0.2+0.4+0.8+1.6+2+2+2 = 9.1 s), so with fewer sends than `tries`,
# the last wait cut to end the cycle; counted exactly at the relay.
HOST_RETRANS="100ms max 2s tries 8"
. tests/lib/host.sh
host_init 533-rtt-retransmit
host_realm alpha beta || exit 1

VIA=1 write_conf alpha v4 && VIA=1 write_conf beta v4 || exit 1
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
relay_start v4 "delay=400 a2b any all"

# one CREATE and one DELETE round trip
cycle() {
	ctl alpha initiate beta > "$T/initiate.out" 2>&1 || return 1
	wait_until "$HOST_WAIT" sa_count_is beta 2 || return 1
	ctl alpha flush sa > /dev/null 2>&1 || return 1
	wait_until "$HOST_WAIT" sa_count_is beta 0 || return 1
	wait_until "$HOST_WAIT" xact_count_is alpha 0
}

check_eq before/unmeasured "$(peer_field alpha beta rtt)" null
check_eq before/rto-is-minimum "$(peer_field alpha beta rto_ms)" 100

# learn: a few exchanges, bounded, until one was sent once
learned=0
for i in 1 2 3 4 5 6; do
	cycle || { fail "learn/cycle-$i" "exchange $i did not complete"; break; }
	if [ "$(peer_field alpha beta rtt.samples)" -ge 1 ] 2>/dev/null; then
		learned=1
		break
	fi
done
require learn/measured test "$learned" = 1
check learn/resent-while-learning is -gt 0 stat_get alpha retransmits
srtt=$(peer_field alpha beta rtt.srtt_ms)
rto=$(peer_field alpha beta rto_ms)
check learn/srtt-covers-delay is -ge 400 echo "$srtt"
check learn/rto-above-delay is -gt 400 echo "$rto"
check learn/rto-within-max is -le 2000 echo "$rto"
check learn/text ctl alpha show peers
ctl alpha show peers > "$T/peers.txt" 2>&1
check learn/text-line grep -q "^  round trip $srtt ms (rttvar [0-9]* ms, [0-9]* samples), first retransmit after $rto ms$" "$T/peers.txt"

# now: no needless resend, exactly
r0=$(stat_get alpha retransmits)
c0=$(relay_stat a2b CREATE seen)
d0=$(relay_stat a2b DELETE seen)
for i in 1 2 3; do
	cycle || fail "steady/cycle-$i" "exchange $i did not complete"
done
check_eq steady/no-retransmits "$(stat_get alpha retransmits)" "$r0"
check_eq steady/creates-sent-once "$(relay_stat a2b CREATE seen)" "$((c0 + 3))"
check_eq steady/deletes-sent-once "$(relay_stat a2b DELETE seen)" "$((d0 + 3))"
check steady/more-samples is -ge 4 peer_field alpha beta rtt.samples
check_eq steady/no-giveups "$(stat_get alpha giveups)" 0


# sends_in_cycle RTO: the sends of one command that starts from RTO
# (doubling, capped at 2000) until tries (8) or the 9100 ms cycle is used
sends_in_cycle() {
	local iv=$1 waited=0 sends=0
	while :; do
		sends=$((sends + 1))
		[ "$sends" -ge 8 ] && break
		[ "$iv" -gt $((9100 - waited)) ] && iv=$((9100 - waited))
		waited=$((waited + iv))
		[ "$waited" -ge 9100 ] && break
		iv=$((iv * 2 > 2000 ? 2000 : iv * 2))
	done
	echo "$sends"
}
rto=$(peer_field alpha beta rto_ms)
want=$(sends_in_cycle "$rto")
check giveup/fewer-than-tries is -lt 8 echo "$want"
relay_rules "drop a2b CREATE all"
c0=$(relay_stat a2b CREATE seen)
g0=$(stat_get alpha giveups)
ctl alpha initiate beta > "$T/giveup.out" 2> "$T/giveup.err"
check_eq giveup/exit $? 1
check giveup/counted wait_until "$HOST_WAIT" is -gt "$g0" stat_get alpha giveups
check_eq giveup/sends-within-cycle "$(relay_stat a2b CREATE seen)" "$((c0 + want))"
check giveup/says-why grep -q "no answer after $want sends" "$T/giveup.err"
