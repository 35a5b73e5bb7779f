#!/bin/bash
# DELETE from either side, STATUS, `flush sa`, `initiate` (v4 and v6).
#  - alpha deletes one of its SAs by SPI: the pair disappears on both
#    sides (DELETE exchange on the wire).
#  - the same initiated from beta.
#  - STATUS: with a short dead-peer interval and no traffic, alpha probes
#    beta with STATUS, beta answers, and beta stays "alive".
#  - flush sa: every SA of alpha goes; beta is told (DELETE) and drops
#    its side too, also when there are more pairs (80) than transactions
#    allowed per peer (64).
. tests/lib/host.sh
host_init 030-delete-status
host_realm alpha beta || exit 1

for fam in v4 v6; do
	DEADPEER=1s VIA=1 host_pair "$fam" ||
	    { fail "$fam/start" "daemons did not start"; continue; }
	relay_start "$fam"

	# STATUS: SAs up, then silence; after the dead-peer interval (1s)
	# alpha probes beta with STATUS and beta answers it
	require "$fam/initiate" ctl alpha initiate beta
	wait_until "$HOST_WAIT" sa_count_is beta 2
	s0=$(relay_stat a2b STATUS seen)
	check "$fam/status-sent" wait_until "$HOST_WAIT" \
	    is -gt "$s0" relay_stat a2b STATUS seen
	sx=$(awk '$3 == "a2b" && $4 == "STATUS" { x = $6 } END { print x }' "$T/relay.log")
	check "$fam/status-answered" wait_until "$HOST_WAIT" \
	    grep -q "b2a REPLY len=[0-9]* $sx " "$T/relay.log"
	check "$fam/status-counted" test "$(stat_get alpha status_sent)" -ge 1
	check_eq "$fam/status-peer-alive" \
	    "$(ctlj alpha show peers | jq -r '.peers[] | select(.name == "beta") | .state' 2>/dev/null)" \
	    alive
	check_eq "$fam/status-sas-kept" "$(sa_count alpha)" 2
	ctl alpha flush sa > /dev/null 2>&1
	wait_until "$HOST_WAIT" sa_count_is beta 0

	# delete from alpha
	check "$fam/initiate-1" ctl alpha initiate beta
	wait_until "$HOST_WAIT" sa_count_is beta 2
	spi=$(sa_lines alpha | awk '$2 == "out" { print $1; exit }')
	before=$(spis beta)
	ctl alpha delete sa "$spi" >/dev/null 2>&1
	check_eq "$fam/delete-exit" $? 0
	check "$fam/delete-alpha-gone" wait_until "$HOST_WAIT" sa_count_is alpha 0
	check "$fam/delete-beta-gone" wait_until "$HOST_WAIT" sa_count_is beta 0
	# (the relay counts a datagram just after forwarding it)
	check "$fam/delete-on-wire" wait_until "$HOST_WAIT" \
	    is -ge 1 relay_stat a2b DELETE seen
	check_eq "$fam/delete-had-sas" "$(echo "$before" | wc -w)" 2

	# delete from beta, of an SA alpha initiated
	check "$fam/initiate-2" ctl alpha initiate beta
	wait_until "$HOST_WAIT" sa_count_is beta 2
	spi=$(sa_lines beta | awk '$2 == "in" { print $1; exit }')
	ctl beta delete sa "$spi" >/dev/null 2>&1
	check_eq "$fam/delete-from-beta-exit" $? 0
	check "$fam/delete-from-beta-beta-gone" wait_until "$HOST_WAIT" sa_count_is beta 0
	check "$fam/delete-from-beta-alpha-gone" wait_until "$HOST_WAIT" sa_count_is alpha 0
	check "$fam/delete-from-beta-on-wire" wait_until "$HOST_WAIT" \
	    is -ge 1 relay_stat b2a DELETE seen

	# deleting an SPI nobody has: a daemon error, exit 1
	check_eq "$fam/delete-unknown-exit" "$(ctl_rc alpha delete sa 0x7ffffff1)" 1

	# flush sa: alpha's SAs all go, beta follows through DELETE
	check "$fam/initiate-3" ctl alpha initiate beta
	check "$fam/initiate-4" ctl beta initiate alpha
	wait_until "$HOST_WAIT" sa_count_is alpha 4
	ctl alpha flush sa >/dev/null 2>&1
	check_eq "$fam/flush-exit" $? 0
	check "$fam/flush-alpha-empty" wait_until "$HOST_WAIT" sa_count_is alpha 0
	check "$fam/flush-beta-empty" wait_until "$HOST_WAIT" sa_count_is beta 0
	# flush of one peer's SAs by name
	check "$fam/initiate-5" ctl alpha initiate beta
	wait_until "$HOST_WAIT" sa_count_is alpha 2
	check "$fam/flush-peer" ctl alpha flush sa peer beta
	check "$fam/flush-peer-empty" wait_until "$HOST_WAIT" sa_count_is alpha 0
	check_eq "$fam/flush-nopeer-exit" "$(ctl_rc alpha flush sa peer nosuch)" 1

	# flush of more SA pairs than one peer may have transactions
	# (max-xact-peer, default 64): the peer must still lose all of them
	if [ "$fam" = v4 ]; then
		n=0
		while [ $n -lt 80 ]; do
			ctl alpha -q initiate beta > /dev/null 2>&1 || break
			n=$((n + 1))
		done
		check_eq "$fam/flush-many-created" "$n" 80
		check "$fam/flush-many-beta-160" wait_until "$HOST_WAIT" sa_count_is beta 160
		check "$fam/flush-many-exit" ctl alpha -q flush sa
		check "$fam/flush-many-alpha-empty" wait_until "$HOST_WAIT" sa_count_is alpha 0
		if ! check "$fam/flush-many-beta-empty" wait_until "$HOST_WAIT" sa_count_is beta 0
		then
			echo "# beta kept $(sa_count beta) of 160 SAs;" \
			    "alpha: $(stat_get alpha xact_failed) transactions failed," \
			    "$(stat_get alpha drop_xact_cap) dropped at the cap"
		fi
	fi

	stop_kinkd alpha
	stop_kinkd beta
	kill "$(cat "$T/relay.pid")" 2>/dev/null
	wait_until "$HOST_WAIT" test ! -e "$T/relay.pid"
done
