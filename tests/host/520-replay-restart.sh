#!/bin/bash
# A CREATE captured on the wire and replayed after the responder
# restarted (v4): beta accepted it once, was killed outright (no clean
# shutdown: its replay cache survives only as the pages of its mmap'd
# file), came back, and must refuse the same AP-REQ as a replay
# (KRB_AP_ERR_REPEAT), log it, count it and make no SA; a new CREATE
# from alpha still works.  Then the same after a clean stop.
. tests/lib/host.sh
host_init 520-replay-restart
host_realm alpha beta || exit 1

VIA=1 host_pair v4 || { fail start "daemons did not start"; exit 1; }
relay_start v4 "save=$T/c1.bin a2b CREATE 1"
require initiate ctl alpha initiate beta
check beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
require captured test -s "$T/c1.bin"
BETA=$(hostport "$(addr_of v4 beta)" "$HOST_PORT")
LIKE_ALPHA=$(hostport "$(addr_of v4 rbeta)" 0)

# replay CASE: the capture again, to a beta that has just come back
replay() {
	local c=$1
	check_eq "$c/beta-fresh" "$(sa_count beta)" 0
	"$KINKCRAFT" replay -t "$BETA" -b "$LIKE_ALPHA" -f "$T/c1.bin" \
	    -w 1000 > "$T/$c.out" 2>&1
	check_eq "$c/kinkcraft-ran" $? 0
	check "$c/drop-krb" wait_until "$HOST_WAIT" is -eq 1 \
	    stat_get beta drop_krb
	check "$c/logged" wait_until "$HOST_WAIT" is -ge 1 \
	    log_count beta 'AP-REQ: Request is a replay'
	check "$c/beta-alive" daemon_ready beta
	check_eq "$c/no-sa" "$(sa_count beta)" 0
	check_eq "$c/no-xact" "$(xact_count beta)" 0
}

kill -KILL "$(cat "$T/beta.pid")"
wait "$(cat "$T/beta.pid")" 2>/dev/null
start_kinkd beta "$T/beta.conf" || { fail restart "beta did not come back"; exit 1; }
check trusted-state sh -c "! grep -q 'replay cache.*refused for one' '$T/beta.log'"
replay killed

restart_kinkd beta "$T/beta.conf" || { fail restart-2 "beta did not come back"; exit 1; }
replay stopped

# the replay cost nothing to the real peer
require initiate-after ctl alpha initiate beta
check beta-new-sas wait_until "$HOST_WAIT" sa_count_is beta 2
stop_kinkd alpha
stop_kinkd beta
