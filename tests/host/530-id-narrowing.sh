#!/bin/bash
# The responder narrows ID payloads the way IKEv1 Quick Mode responders do
# (RFC 2409 5.5, RFC 2407 4.6.2):
#  - narrower: alpha asks for UDP to beta's port 53, beta's policy is the
#    two hosts, all protocols: accepted, the SAs get alpha's selectors,
#    and beta's log names both;
#  - wider: alpha asks for all UDP, beta's policy is UDP to its port 53
#    only: refused (ID_POLICY, PAYLOAD-MALFORMED on the wire), both sides'
#    selectors in beta's log;
#  - no IDs (alpha's policy is the two hosts, as racoon2 always is): beta's
#    TCP-only policy is narrower than that and refused, saying so.
. tests/lib/host.sh
host_init 530-id-narrowing
host_realm alpha beta || exit 1
a=$(addr_of v4 alpha)
b=$(addr_of v4 beta)

# pair ALPHA-TRAFFIC BETA-TRAFFIC: both daemons with those policies.
pair() {
	write_conf alpha v4 && write_conf beta v4 || return 1
	sed -i "s|policy \"host\" esp transport from $a to $b \\\\|policy \"host\" esp transport $1 \\\\|" "$T/alpha.conf"
	sed -i "s|policy \"host\" esp transport from $b to $a \\\\|policy \"host\" esp transport $2 \\\\|" "$T/beta.conf"
	grep -q "transport $1 " "$T/alpha.conf" && grep -q "transport $2 " "$T/beta.conf" &&
	    start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf"
}

require narrow/start pair "from $a to $b port 53 proto udp" "from $b to $a"
check narrow/initiate ctl alpha initiate beta
check narrow/sas wait_until "$HOST_WAIT" sa_count_is beta 2
check narrow/logged wait_until "$HOST_WAIT" grep -q 'narrowed: ' "$T/beta.log"
line=$(grep 'narrowed: ' "$T/beta.log" | head -n 1)
echo "# beta: $line"
check_eq narrow/both-sides "${line#*narrowed: }" \
    "proposed from $a/32 to $b/32 port 53 proto 17 inside policy host: from $a/32 to $b/32 proto 0"
check_eq narrow/alpha-sas "$(sa_count alpha)" 2
stop_kinkd alpha
stop_kinkd beta

require wide/start pair "from $a to $b proto udp" "from $b port 53 to $a proto udp"
ctl alpha initiate beta > "$T/wide.out" 2> "$T/wide.err"
check_eq wide/refused $? 1
check wide/alpha-why grep -q \
    'peer refused: PEER_NOTIFY (notify 16 PAYLOAD-MALFORMED), policy host' "$T/wide.err"
check wide/logged wait_until "$HOST_WAIT" grep -q 'refused: ID_POLICY' "$T/beta.log"
line=$(grep 'refused: ID_POLICY' "$T/beta.log" | head -n 1)
echo "# beta: $line"
check_eq wide/both-sides "$(echo "$line" | sed 's/.*refused: //; s/ ([0-9]* ms, .*)$//')" \
    "ID_POLICY (notify 16 PAYLOAD-MALFORMED): proposed from $a/32 to $b/32 proto 17; nearest policy host: from $a/32 to $b/32 port 53 proto 17"
check_eq wide/no-sas "$(sa_count alpha)" 0
check_eq wide/no-sas-beta "$(sa_count beta)" 0
stop_kinkd alpha
stop_kinkd beta

require noids/start pair "from $a to $b" "from $b to $a proto tcp"
ctl alpha initiate beta > "$T/noids.out" 2> "$T/noids.err"
check_eq noids/refused $? 1
check noids/logged wait_until "$HOST_WAIT" grep -q 'refused: NO_PROPOSAL' "$T/beta.log"
line=$(grep 'refused: NO_PROPOSAL' "$T/beta.log" | head -n 1)
echo "# beta: $line"
check_eq noids/both-sides "$(echo "$line" | sed 's/.*refused: //; s/ ([0-9]* ms, .*)$//')" \
    "NO_PROPOSAL (notify 14 NO-PROPOSAL-CHOSEN): proposed (no IDs) from $a/32 to $b/32 proto 0; nearest policy host: from $a/32 to $b/32 proto 6"
check_eq noids/no-sas "$(sa_count alpha)" 0
