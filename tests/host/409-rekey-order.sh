#!/bin/bash
# A rekey's old pair goes only after the new one is complete on both
# sides (RFC 4430 3.2, 3.6).  Non-optimistic rekeys (beta sets ACKREQ):
#  - acked/: nothing lost.  alpha DELETEs the old pair only after its
#    aging (one retransmission cycle without a duplicate REPLY): beta had
#    the ACK, and so its new outbound SA, before the DELETE came.
#  - ack-lost/: the relay drops every ACK of the rekey.  Before, alpha's
#    DELETE of the old pair left with the first ACK, so beta had no
#    outbound SA at all.  Now beta gives up on the new pair and DELETEs it,
#    alpha's aging restarts with every duplicate REPLY, sees the new pair
#    gone and keeps the old one: both sides hold exactly the old pair.
HOST_RETRANS="500ms max 1s tries 3"
. tests/lib/host.sh
host_init 409-rekey-order
host_realm alpha beta || exit 1

# before_in_mon NAME RE1 RE2: the first event matching RE1 precedes the
# first matching RE2 in NAME's monitor stream.
before_in_mon() {
	local a b
	a=$(grep -n -E "$2" "$T/$1.mon" | head -n 1 | cut -d: -f1)
	b=$(grep -n -E "$3" "$T/$1.mon" | head -n 1 | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}

XFORMS="esp enc aes-256-cbc auth hmac-sha2-256, esp enc aes-128-cbc auth hmac-sha1" \
    VIA=1 write_conf alpha v4
XFORMS="esp enc aes-128-cbc auth hmac-sha1" VIA=1 write_conf beta v4
if ! start_kinkd alpha "$T/alpha.conf" || ! start_kinkd beta "$T/beta.conf" ||
    ! monitor_start alpha || ! monitor_start beta; then
	fail start "daemons did not start"
	exit 1
fi
relay_start v4

# --- acked/ ----------------------------------------------------------------
require acked/initiate ctl alpha initiate beta
require acked/pair wait_until "$HOST_WAIT" sa_count_is beta 2
old=$(spis alpha)
out=$(sa_lines alpha | awk '$2 == "out" { print $1 }')
inject alpha "soft $out"
check acked/new-pair wait_until "$HOST_WAIT" pair_agrees_new "$old"
check acked/beta-old-deleted wait_event beta xact-done 'responder DELETE'
check acked/ack-before-delete before_in_mon beta \
    '"xact-done".*responder CREATE.*ACK received.*' '"xact-done".*responder DELETE'
check acked/ack-before-sa-del before_in_mon beta \
    '"xact-done".*responder CREATE.*ACK received' '"sa-del"'
check acked/alpha-2-sas wait_until "$HOST_WAIT" sa_count_is alpha 2
check acked/beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
check acked/new-agree pair_agrees_new "$old"

# --- ack-lost/ -----------------------------------------------------------
relay_rules "drop a2b ACK all"
old=$(spis alpha)
out=$(sa_lines alpha | awk '$2 == "out" { print $1 }')
inject alpha "soft $out"
check ack-lost/acks-dropped wait_until "$HOST_WAIT" is -ge 1 relay_stat a2b ACK drop
check ack-lost/beta-gives-up wait_event beta xact-fail 'responder CREATE: no ACK'
check ack-lost/alpha-keeps-old wait_until "$HOST_WAIT" is = 1 log_count alpha 'the old pair stays'
check ack-lost/alpha-old-only wait_until "$HOST_WAIT" is = "$old" spis alpha
check ack-lost/beta-old-only wait_until "$HOST_WAIT" is = "$old" spis beta
check ack-lost/old-agree sa_pair_ok alpha beta
