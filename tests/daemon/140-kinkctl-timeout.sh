#!/bin/bash
# kinkctl gives up on a daemon that does not answer: every command but
# monitor waits at most -t seconds (default 60) for kinkd's whole answer,
# then says so and exits 1.  The hung daemon is a real kinkd stopped with
# SIGSTOP: the kernel still accepts the connection and buffers the
# request, nothing answers.  monitor keeps its own -t.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 140-kinkctl-timeout
host_realm alpha beta || exit 1

host_pair v4 || { fail start "daemons did not start"; exit 1; }
pid=$(engine_pid alpha)	# the process that answers kinkctl
kill -STOP "$pid"
for cmd in "show stats" "show sa" "initiate beta" "reload"; do
	name=${cmd// /-}
	# timeout(1) only catches a hang: 124 would mean kinkctl never gave up
	timeout 30 "$KINKCTL" -s "$(sock_of alpha)" -t 1 $cmd \
	    > "$T/$name.out" 2> "$T/$name.err"
	check_eq "$name/exit" $? 1
	check "$name/says" grep -q "kinkd did not answer within 1 s" "$T/$name.err"
done
kill -CONT "$pid"
check alive-after daemon_ready alpha
check answers-after ctl alpha -t 5 show stats
check_eq t0-no-limit "$(ctl_rc alpha -t 0 show stats)" 0
check_eq bad-t-usage "$("$KINKCTL" -s "$(sock_of alpha)" -t x show stats >/dev/null 2>&1; echo $?)" 2

# monitor is not cut short by the global -t: the event comes after it.
"$KINKCTL" -s "$(sock_of alpha)" -t 1 monitor -n 1 -t 20 > "$T/mon.out" 2>&1 &
mon=$!
wait_until "$HOST_WAIT" grep -q subscribed "$T/mon.out"
sleep 2
ctl alpha reload >/dev/null 2>&1
wait "$mon"
check_eq monitor-own-timeout $? 0
check monitor-got-event grep -q reload "$T/mon.out"
stop_kinkd alpha
stop_kinkd beta
