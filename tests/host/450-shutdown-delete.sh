#!/bin/bash
# kinkd stopped with `set on-shutdown flush` tells its peers: alpha stops,
# a DELETE goes on the wire and beta's SAs with alpha are gone too.  With
# `on-shutdown keep` nothing is sent and beta keeps its SAs.  A peer that
# never answers does not hold the shutdown: with a retransmission cycle of
# minutes, alpha still exits within its bound (a few seconds; the test
# allows 20 s) and says how many DELETEs went unanswered.  v4 only.
. tests/lib/host.sh
host_init 450-shutdown-delete
host_realm alpha beta || exit 1

stop_term() {	# stop_term NAME: SIGTERM, the pid in $stopped_pid
	stopped_pid=$(cat "$T/$1.pid")
	rm -f "$T/$1.pid"
	kill -TERM "$stopped_pid"
}

# 1. flush: the peer hears of it
VIA=1 host_pair v4 || { fail start "daemons did not start"; exit 1; }
relay_start v4
require initiate ctl alpha initiate beta
require beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
d0=$(relay_stat a2b DELETE seen)
stop_term alpha
check alpha-exited wait_until "$HOST_WAIT" proc_gone "$stopped_pid"
check_eq delete-on-wire "$(relay_stat a2b DELETE seen)" $((d0 + 1))
check beta-sas-gone wait_until "$HOST_WAIT" sa_count_is beta 0
check alpha-delete-answered grep -q 'shutdown: every DELETE answered' "$T/alpha.log"

# 2. keep: nothing sent, beta keeps its SAs
sed -i 's/^set on-shutdown flush/set on-shutdown keep/' "$T/alpha.conf"
require keep-start start_kinkd alpha "$T/alpha.conf"
require keep-initiate ctl alpha initiate beta
require keep-beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
d1=$(relay_stat a2b DELETE seen)
stop_term alpha
check keep-alpha-exited wait_until "$HOST_WAIT" proc_gone "$stopped_pid"
check_eq keep-no-delete "$(relay_stat a2b DELETE seen)" "$d1"
check_eq keep-beta-sas-kept "$(sa_count beta)" 2
ctl beta flush sa >/dev/null 2>&1
wait_until "$HOST_WAIT" sa_count_is beta 0

# 3. a peer that does not answer: the shutdown is bounded anyway
sed -i 's/^set on-shutdown keep/set on-shutdown flush/' "$T/alpha.conf"
sed -i 's/^set retransmit .*/set retransmit 2s max 30s tries 10/' "$T/alpha.conf"
require slow-start start_kinkd alpha "$T/alpha.conf"
require slow-initiate ctl alpha initiate beta
require slow-beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
relay_rules "drop a2b DELETE all"
stop_term alpha
check slow-alpha-exits-bounded wait_until 20 proc_gone "$stopped_pid"
check slow-unanswered-line grep -q 'shutdown: 1 DELETE unanswered' "$T/alpha.log"
check slow-delete-sent wait_until "$HOST_WAIT" is -ge 1 relay_stat a2b DELETE drop
