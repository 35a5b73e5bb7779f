#!/bin/bash
# RFC 4430 3.7: ICMP unreachable for a peer's KINK port is a hint to
# check the peer early, never a verdict.  alpha and beta hold SAs,
# dead-peer detection is an hour away; beta's kinkd is killed (no DELETE),
# so alpha's next CREATE meets ICMP port unreachable on loopback.  alpha
# (IP_RECVERR / IPV6_RECVERR) starts a STATUS probe at once: the log says
# so, one probe for several ICMP errors (rate limit), and only the probe's
# silence makes beta "suspected"; the SAs stay.  beta back: alive again.
HOST_RETRANS="300ms max 600ms tries 4"
DEADPEER=1h
. tests/lib/host.sh
host_init 562-icmp-hint
host_realm alpha beta || exit 1

for fam in v4 v6; do
	host_pair "$fam" || { fail "$fam/start" "daemons did not start"; continue; }
	require "$fam/create" ctl alpha initiate beta
	check_eq "$fam/alive" "$(peer_field alpha beta state)" alive
	kill -KILL "$(cat "$T/beta.pid")"
	wait "$(cat "$T/beta.pid")" 2>/dev/null
	rm -f "$T/beta.pid"
	check_eq "$fam/create-fails" "$(ctl_rc alpha initiate beta)" 1
	check "$fam/hint-logged" wait_until "$HOST_WAIT" grep -q \
	    "peer beta: ICMP port unreachable from $(addr_of "$fam" beta) port $HOST_PORT: probing with STATUS" \
	    "$T/alpha.log"
	check "$fam/suspected" wait_until "$HOST_WAIT" sh -c \
	    "[ \"\$('$KINKCTL' -s '$(sock_of alpha)' -j show peers | jq -r '.peers[0].state')\" = suspected ]"
	check_eq "$fam/one-probe" "$(stat_get alpha icmp_probes)" 1
	check "$fam/icmp-counted" is -gt 1 stat_get alpha icmp_received
	check_eq "$fam/sas-kept" "$(sa_count alpha)" 2
	start_kinkd beta "$T/beta.conf" || { fail "$fam/restart" "beta did not start"; continue; }
	check "$fam/create-again" ctl alpha initiate beta
	check_eq "$fam/alive-again" "$(peer_field alpha beta state)" alive
	stop_kinkd alpha
	stop_kinkd beta
done
