#!/bin/bash
# Dead-peer detection costs a live pair one STATUS per interval, not two:
# both ends arm their timers at the same moment (the CREATE), and the end
# whose principal sorts higher (beta) waits 1/4 longer, so alpha's probe
# re-arms it first.  beta then sends no STATUS and fetches no service
# ticket for alpha (the KDC log), which matters for a site, where each
# host's second ticket per peer was only for this.  Once alpha is silent
# (stopped with SIGSTOP), beta still probes and marks it suspected.
. tests/lib/host.sh
host_init 730-dpd-one-end
host_realm alpha beta || exit 1

tgs_for() {	# service tickets the KDC issued for principal $1
	grep "ISSUE:" "$REALM_DIR/kdc.log" | grep -c "for $1@" || true
}
DEADPEER=1s EXTRA="set retransmit 300ms max 300ms tries 3" host_pair v4 || { fail start "daemons did not start"; exit 1; }
require initiate ctl alpha initiate beta
require sas wait_until "$HOST_WAIT" sa_count_is beta 2
check alpha-probes wait_until "$HOST_WAIT" is -ge 6 stat_get alpha status_sent
check_eq beta-silent "$(stat_get beta status_sent)" 0
check_eq beta-no-ticket-for-alpha "$(tgs_for "kink/alpha.test")" 0
check_eq alpha-one-ticket-for-beta "$(tgs_for "kink/beta.test")" 1
check_eq beta-alive "$(ctlj alpha show peers | jq -r '.peers[] | select(.name == "beta") | .state')" alive

# the whole of alpha: its engine is a child under privilege separation
apids="$(cat "$T/alpha.pid") $(pgrep -P "$(cat "$T/alpha.pid")" | tr '\n' ' ')"
kill -STOP $apids
check beta-probes-silent-alpha wait_until "$HOST_WAIT" is -ge 1 stat_get beta status_sent
check beta-suspects-alpha wait_until "$HOST_WAIT" is = suspected \
    sh -c "\"$KINKCTL\" -j -s \"$(sock_of beta)\" show peers | jq -r '.peers[] | select(.name == \"alpha\") | .state'"
kill -CONT $apids
