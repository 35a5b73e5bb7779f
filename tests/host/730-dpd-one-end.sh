#!/bin/bash
# Dead-peer detection costs a live pair one STATUS per interval, not two:
# both ends arm their timers at the same moment (the CREATE), and the end
# that never initiated to the other (it holds no ticket for it) waits 1/4
# longer, so the initiator's probe re-arms it first.  That end then sends
# no STATUS and fetches no service ticket for the initiator (the KDC log),
# which matters for a site: a responder's ticket per peer was only for
# this.  beta initiates here (its principal sorts after alpha's, so an
# order by principal would not do).  Once beta is silent (stopped with
# SIGSTOP), alpha still probes and marks it suspected.
. tests/lib/host.sh
host_init 730-dpd-one-end
host_realm alpha beta || exit 1

tgs_for() {	# service tickets the KDC issued for principal $1
	grep "ISSUE:" "$REALM_DIR/kdc.log" | grep -c "for $1@" || true
}
peer_state() {	# peer_state NAME PEER
	ctlj "$1" show peers | jq -r --arg p "$2" '.peers[] | select(.name == $p) | .state'
}
DEADPEER=1s EXTRA="set retransmit 300ms max 300ms tries 3" host_pair v4 ||
    { fail start "daemons did not start"; exit 1; }
require initiate ctl beta initiate alpha
require sas wait_until "$HOST_WAIT" sa_count_is alpha 2
check beta-probes wait_until "$HOST_WAIT" is -ge 6 stat_get beta status_sent
check_eq alpha-silent "$(stat_get alpha status_sent)" 0
check_eq alpha-no-ticket-for-beta "$(tgs_for "kink/beta.test")" 0
check_eq beta-one-ticket-for-alpha "$(tgs_for "kink/alpha.test")" 1
check_eq alpha-alive "$(peer_state beta alpha)" alive

# the whole of beta: its engine is a child under privilege separation
bpids="$(cat "$T/beta.pid") $(pgrep -P "$(cat "$T/beta.pid")" | tr '\n' ' ')"
kill -STOP $bpids
check alpha-probes-silent-beta wait_until "$HOST_WAIT" is -ge 1 stat_get alpha status_sent
check alpha-suspects-beta wait_until "$HOST_WAIT" is = suspected peer_state alpha beta
kill -CONT $bpids
