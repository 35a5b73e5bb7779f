#!/bin/bash
# CREATE, optimistic (RFC 4430 section 3.2): alpha initiates to beta with
# one transform both accept; after the two-message exchange both daemons
# hold the same two SAs (SPIs, algorithms, keys pairwise equal), seen
# through `kinkctl -j show sa`.  v4 and v6.  A relay with no rules sits in
# the path only to count the messages: optimistic means CREATE + REPLY,
# no ACK.
. tests/lib/host.sh
host_init 010-create
host_realm alpha beta || exit 1

for fam in v4 v6; do
	VIA=1 host_pair "$fam" || { fail "$fam/start" "daemons did not start"; continue; }
	relay_start "$fam"
	monitor_start beta

	ctl alpha initiate beta > "$T/initiate.out" 2>&1
	check_eq "$fam/initiate-exit" $? 0
	require "$fam/alpha-2-sas" wait_until "$HOST_WAIT" sa_count_is alpha 2
	check "$fam/beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$fam/sa-pairwise-equal" sa_pair_ok alpha beta
	check "$fam/beta-sa-add-event" wait_event beta 'sa-add'
	# optimistic: one CREATE, one REPLY, no ACK on the wire (exact: the
	# default retransmit interval is far longer than an exchange).  The
	# relay writes its counts just after forwarding, so alpha may be done
	# before the REPLY is counted: wait for the count, then it must be 1
	check "$fam/wire-create" wait_until "$HOST_WAIT" \
	    is = 1 relay_stat a2b CREATE seen
	check "$fam/wire-reply" wait_until "$HOST_WAIT" \
	    is = 1 relay_stat b2a REPLY seen
	# both directions: one SA in, one out on each side
	check_eq "$fam/alpha-dirs" "$(sa_lines alpha | awk '{print $2}' | sort | tr '\n' ' ')" "in out "
	# the initiator's transaction is gone once it completed
	check "$fam/alpha-no-xact" wait_until "$HOST_WAIT" xact_count_is alpha 0

	# and the other way round: beta initiates, two more SAs each
	ctl beta initiate alpha > "$T/initiate2.out" 2>&1
	check_eq "$fam/reverse-initiate-exit" $? 0
	check "$fam/reverse-alpha-4-sas" wait_until "$HOST_WAIT" sa_count_is alpha 4
	check "$fam/reverse-beta-4-sas" wait_until "$HOST_WAIT" sa_count_is beta 4
	check "$fam/reverse-pairwise-equal" sa_pair_ok alpha beta
	# no ACK from alpha for the first exchange: read only now, long
	# after any ACK would have been sent (an initiator answers kinkctl
	# before it sends its ACK)
	check_eq "$fam/wire-no-ack" "$(relay_stat a2b ACK seen)" 0

	monitor_stop beta
	stop_kinkd alpha
	stop_kinkd beta
	kill "$(cat "$T/relay.pid")" 2>/dev/null
	wait_until "$HOST_WAIT" test ! -e "$T/relay.pid"
done
