#!/bin/bash
# One kinkd per control socket and per address and port: a second one,
# started with -d (as the systemd unit does) or without, with the same
# socket or only the same address and port, exits non-zero with a line on
# stderr before it touches anything; the first keeps its socket, answers
# kinkctl, keeps its SAs and still negotiates.  A file in the socket's
# place is never removed unless it is a dead socket.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 220-one-instance
host_realm alpha beta || exit 1

host_pair v4 || { fail start "daemons did not start"; exit 1; }
check create ctl beta initiate alpha
require sas wait_until "$HOST_WAIT" sa_count_is alpha 2

# second NAME [kinkd options]: another alpha in the background; its exit
# status in $T/NAME.rc once it ends, its output in $T/NAME.err.  A second
# daemon that keeps running fails the exit checks and is stopped after
# the bound.
second() {
	local name=$1 pid
	shift
	rm -f "$T/$name.rc"
	( KRB5CCNAME="FILE:$T/$name.ccache" KRB5RCACHEDIR="$T/alpha.rc" \
	    "$KINKD" "$@" > "$T/$name.err" 2>&1; echo $? > "$T/$name.rc" ) &
	pid=$!
	if ! wait_until "$HOST_WAIT" test -s "$T/$name.rc"; then
		pkill -P "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		echo 0 > "$T/$name.rc.kept"
	fi
	wait "$pid" 2>/dev/null
}
first_ok() {	# first_ok LABEL: alpha is intact
	check "$1/socket-kept" test -S "$(sock_of alpha)"
	check "$1/first-answers" ctl alpha show stats
	check_eq "$1/first-sas" "$(sa_count alpha)" 2
	check "$1/first-alive" daemon_alive alpha
}

# Same socket, -d.
second same-d -d -f "$T/alpha.conf" -s "$(sock_of alpha)"
check same-d/exited test -s "$T/same-d.rc"
check same-d/nonzero test "$(cat "$T/same-d.rc" 2>/dev/null)" -ne 0
check same-d/message grep -q "another kinkd is running with control socket $(sock_of alpha)" "$T/same-d.err"
first_ok same-d

# Same socket, detaching: refused before the fork, on stderr.
second same-detach -f "$T/alpha.conf" -s "$(sock_of alpha)"
check same-detach/exited test -s "$T/same-detach.rc"
check same-detach/nonzero test "$(cat "$T/same-detach.rc" 2>/dev/null)" -ne 0
check same-detach/message grep -q "another kinkd is running with control socket" "$T/same-detach.err"
first_ok same-detach

# Another socket, the same address and port.
second port-d -d -f "$T/alpha.conf" -s "$T/other.sock"
check port-d/exited test -s "$T/port-d.rc"
check port-d/nonzero test "$(cat "$T/port-d.rc" 2>/dev/null)" -ne 0
check port-d/message grep -q "127.0.0.1 port $HOST_PORT is already bound by another process" "$T/port-d.err"
check port-d/other-socket-gone test ! -e "$T/other.sock"
first_ok port-d

# The first still negotiates: all of the peer's traffic reaches it.
check renew-create ctl beta initiate alpha
check renew-four wait_until "$HOST_WAIT" sa_count_is alpha 4
check renew-pairwise sa_pair_ok alpha beta

# A regular file where the socket goes is not ours to delete.
echo keep > "$T/file.sock"
second file -d -f "$T/alpha.conf" -s "$T/file.sock"
check file/nonzero test "$(cat "$T/file.rc" 2>/dev/null)" -ne 0
check_eq file/kept "$(cat "$T/file.sock")" keep
