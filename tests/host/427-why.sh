#!/bin/bash
# Why an SA is not in force, and each peer's last error.  `show sa` gives
# an SA the kernel no longer holds the reason "not in the kernel's SA
# table"; after a reconcile, "kernel lost it (reconcile HH:MM:SS)".  With
# beta gone, the renegotiation alpha starts gets no answer, and `show
# peers` shows that failure as alpha's last error with beta (text and
# JSON); before it, there is none.  The null backend's kernel is changed
# behind kinkd's back with the test build's "kernel-del SPI".
. tests/lib/host.sh
host_init 427-why
host_realm alpha beta || exit 1

sa_reason() {	# sa_reason SPI: alpha's reason for that SA
	jqctl alpha ".sa[] | select(.spi == \"$1\") | .reason" show sa
}
lost_reason() {	# "kernel lost it (reconcile HH:MM:SS)"
	case "$(sa_reason "$1")" in
	"kernel lost it (reconcile "[0-2][0-9]:[0-5][0-9]:[0-6][0-9]")") return 0 ;;
	esac
	return 1
}
# The CREATE gives up, and so may the STATUS probe the ICMP port
# unreachable from beta's closed port starts (RFC 4430 3.7 hint): whichever
# ends last is the peer's last error.
gave_up() {
	case "$(peer_field alpha beta last_error.text)" in
	"initiator CREATE: no answer after "*) return 0 ;;
	"initiator STATUS: no answer after "*) return 0 ;;
	esac
	return 1
}

EXTRA="set reconcile 0" host_pair v4 || { fail start "daemons did not start"; exit 1; }
require create ctl alpha initiate beta
require sas-2 wait_until "$HOST_WAIT" sa_count_is beta 2
check_eq no-error-yet "$(peer_field alpha beta last_error)" null
check_eq mature-no-reason "$(jqctl alpha '[.sa[] | select(.reason != null)] | length' show sa)" 0

out=$(jqctl alpha '.sa[] | select(.dir == "out") | .spi' show sa)
inject alpha "kernel-del $out"
check missing-reason wait_until "$HOST_WAIT" is = "not in the kernel's SA table" sa_reason "$out"
ctl alpha show sa > "$T/sa1.txt" 2>&1
check missing-reason-text grep -q "^beta .*$out .* missing .*not in the kernel's SA table\$" "$T/sa1.txt"

# SIGKILL: a stopping beta would DELETE the pair at alpha
kill -KILL "$(cat "$T/beta.pid")"
stop_kinkd beta
ctl alpha reconcile > "$T/rc.txt" 2>&1
check_eq reconcile-exit $? 0
check lost-reason wait_until "$HOST_WAIT" lost_reason "$out"
ctl alpha show sa > "$T/sa2.txt" 2>&1
check lost-reason-text grep -q "$out .*kernel lost it (reconcile [0-9:]*)\$" "$T/sa2.txt"

check peer-last-error wait_until "$HOST_WAIT" gave_up
check peer-last-error-time test "$(peer_field alpha beta last_error.time)" -gt 0
ctl alpha show peers > "$T/peers.txt" 2>&1
check peer-last-error-text grep -q -E "^  last error .* ago: initiator (CREATE|STATUS): no answer after " "$T/peers.txt"
stop_kinkd alpha
