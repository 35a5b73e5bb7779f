#!/bin/bash
# RFC 4430 conformance: what an initiator must not conclude from
# unauthenticated answers (docs/conformance.md cites these checks).
# alpha's clock towards beta is set 1000 s fast (the 'offset' inject), so
# beta answers alpha's CREATE with a protected KRB_AP_ERR_SKEW.  The relay
# saves that answer and withholds every REPLY, so alpha keeps
# retransmitting the CREATE; meanwhile alpha receives, with the CREATE's
# XID and no Cksum:
#  - the SKEW error stripped of its Cksum: alpha MUST NOT adjust its clock
#    from an unprotected error (3.5);
#  - a KINK_TGT_REP: alpha MUST NOT think beta dead (3.7.1);
#  - a lone KINK_ERROR (KINK_INTERR): alpha does not give up on it (4.2.8,
#    unauthenticated errors handled with care);
#  - the stripped error as TKT_EXPIRED: alpha does not start over (3.4),
#    and as USER_TO_USER_REQUIRED: no U2U without the policy's allow (3.1).
# alpha's older SAs with beta, its view of beta's EPOCH and its peer
# state stay as they were; once the relay lets REPLYs through, the
# protected SKEW moves the offset (3.5 SHOULD) and the CREATE completes.
# v4 only (the logic has no family).
HOST_RETRANS="1s max 2s tries 8"
. tests/lib/host.sh
host_init 310-conf-unauth
host_realm alpha beta || exit 1

VIA=1 host_pair v4 || { fail start "daemons did not start"; exit 1; }
relay_start v4
require initiate ctl alpha initiate beta
require beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
old_spis=$(spis alpha)
epoch0=$(peer_field alpha beta epoch)
state0=$(peer_field alpha beta state)
check_eq state-alive "$state0" alive

inject alpha "offset beta 1000"
require offset-set wait_until "$HOST_WAIT" is = 1000 peer_field alpha beta clock_offset
relay_rules "save=$T/skew.bin b2a REPLY 1" "drop b2a REPLY all"
monitor_start alpha
ctl alpha initiate beta > "$T/initiate.out" 2>&1 &
ini=$!
HOST_BG="$HOST_BG $ini"
require skew-error-saved wait_until "$HOST_WAIT" test -s "$T/skew.bin"
xid=$(xid_of "$T/skew.bin")
check skew-error-protected test "$(be16 "$T/skew.bin" 14)" -gt 0
check skew-error-lone-krb-error test "$(octets "$T/skew.bin" 12 1)" = 3

# the same error without its Cksum: Length shortened, CksumLen 0
hex=$(od -An -v -tx1 "$T/skew.bin" | tr -d ' \n')
n=$(( $(be16 "$T/skew.bin" 2) - $(be16 "$T/skew.bin" 14) ))
body=${hex:0:$((2 * n))}
unprot="${body:0:4}$(printf '%04x' "$n")${body:8:20}0000${body:32}"
ALPHA=$(hostport "$(addr_of v4 alpha)" "$HOST_PORT")
FROM=$(hostport 127.0.0.5 0)
send_alpha() {	# send_alpha NAME HEX
	"$KINKCRAFT" send -t "$ALPHA" -b "$FROM" -x "$2" > "$T/$1.out" 2>&1
	check "$1/sent" test $? -eq 0
}
send_alpha unprotected-skew "$unprot"
# REPLY, MjVer 1, Length 28, DOI 1, XID, KINK_TGT_REP, no Cksum; the
# payload: 12 octets that stand for a TGT
send_alpha tgt-rep "0310001c""00000001""$xid""05000000""0000000c""a0a1a2a3a4a5a6a7"
# REPLY, Length 24, KINK_ERROR KINK_INTERR (5)
send_alpha kink-error "03100018""00000001""$xid""08000000""00000008""00000005"
# the unprotected SKEW again as TKT_EXPIRED (32: only a protected one has
# the initiator start over, 3.4) and as USER_TO_USER_REQUIRED (69: alpha's
# policy for beta has no u2u allow).  The KRB-ERROR's error-code is the
# one octet after a6 03 02 01; the lengths stay.
expired=${unprot/a603020125/a603020120}
u2ureq=${unprot/a603020125/a603020145}
check unprotected-expired/patched test "$expired" != "$unprot"
send_alpha unprotected-expired "$expired"
send_alpha unprotected-u2u-required "$u2ureq"
# each was taken as an answer to the transaction (an error REPLY) ...
check unauth-seen wait_until "$HOST_WAIT" grep -q "error REPLY: TGT_REP" "$T/alpha.log"
check unauth-kink-error-seen wait_until "$HOST_WAIT" grep -q "error REPLY: KINK_ERROR" "$T/alpha.log"
check unauth-krb-error-seen grep -q "error REPLY: KRB_ERROR 37 KRB_AP_ERR_SKEW (unauthenticated)" "$T/alpha.log"
check unauth-expired-seen wait_until "$HOST_WAIT" grep -q "error REPLY: KRB_ERROR 32 KRB_AP_ERR_TKT_EXPIRED (unauthenticated)" "$T/alpha.log"
check unauth-u2u-required-seen wait_until "$HOST_WAIT" grep -q "error REPLY: KRB_ERROR 69 KRB_AP_ERR_USER_TO_USER_REQUIRED (unauthenticated)" "$T/alpha.log"
# ... and moved nothing
check_eq unprotected-skew/offset-unchanged "$(peer_field alpha beta clock_offset)" 1000
check_eq tgt-rep/peer-not-dead "$(peer_field alpha beta state)" "$state0"
check_eq tgt-rep/epoch-unchanged "$(peer_field alpha beta epoch)" "$epoch0"
check_eq tgt-rep/no-peer-events "$(event_count alpha peer-state)$(event_count alpha peer-epoch)" 00
check tgt-rep/old-sas-kept sh -c "for s in $old_spis; do echo ' $(spis alpha) ' | grep -q \" \$s \" || exit 1; done"
check kink-error/not-given-up test "$(event_count alpha xact-fail)" -eq 0
check_eq unprotected-expired/no-restart "$(grep -c 'ticket expired at the peer' "$T/alpha.log")" 0
check_eq unprotected-u2u-required/no-u2u "$(grep -c 'requires User-to-User' "$T/alpha.log")" 0
check kink-error/still-retransmitting kill -0 "$ini"

# REPLYs through again: the protected SKEW is adopted, the CREATE ends
relay_rules
wait "$ini"
check_eq create-completes $? 0
off=$(peer_field alpha beta clock_offset)
check protected-skew-adopted test "${off#-}" -le 2
check pairwise sa_pair_ok alpha beta
check four-sas wait_until "$HOST_WAIT" sa_count_is beta 4

monitor_stop alpha
relay_stop
stop_kinkd alpha
stop_kinkd beta
