#!/bin/bash
# Unauthenticated errors change no lasting peer state (RFC 4430 3.5).
#  forged-69: a KRB_ERROR KRB_AP_ERR_USER_TO_USER_REQUIRED (69) with no
#    Cksum, aimed at alpha's pending CREATE, may move that one exchange
#    to User-to-User (3.1, policy allows it), but does not mark beta
#    User-to-User: once beta restarts with a new TGT, alpha's next
#    exchange uses a normal service ticket, not a cached U2U ticket that
#    beta can no longer read (which would cost a TGT_REP and a restart).
#  forged-41: in a genuine User-to-User exchange (beta -allow_svr), a
#    KRB_ERROR without Cksum keeps alpha's cached TGT and U2U ticket: the
#    exchange started over fails (its GETTGT is dropped), and the next
#    exchange reuses the cache with no GETTGT.
#  forged-tgtrep: that started-over exchange asks beta for its TGT; a
#    forged KINK_TGT_REP answering the GETTGT carries a TGT the KDC issues
#    no ticket under, so the exchange fails and the cache stays (RFC 4430
#    3.7.1, row 40): the next exchange reuses the cached ticket.
# The forged errors carry the XID the relay saw; v4 only.
HOST_RETRANS="300ms max 600ms tries 4"
. tests/lib/host.sh
host_init 424-unauth-u2u
host_realm alpha beta || exit 1

gettgts() { grep -c "GETTGT answered" "$T/beta.log"; }
hexof() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
der() {	# der TAG HEX: one DER TLV (content under 128 octets)
	printf '%s%02x%s' "$1" $((${#2} / 2)) "$2"
}
# krb_error_reply XID CODE: a KINK REPLY carrying only a KRB_ERROR with
# error-code CODE (< 128) from beta's principal, no Cksum
krb_error_reply() {
	local body e plen pad
	body=$(der a0 020105)$(der a1 02011e)
	body=$body$(der a4 "$(der 18 "$(hexof 20260101000000Z)")")
	body=$body$(der a5 020100)$(der a6 "$(printf '0201%02x' "$2")")
	body=$body$(der a9 "$(der 1b "$(hexof "$HOST_REALM")")")
	body=$body$(der aa "$(der 30 "$(der a0 020102)$(der a1 "$(der 30 \
	    "$(der 1b "$(hexof kink)")$(der 1b "$(hexof beta.test)")")")")")
	e=$(der 7e "$(der 30 "$body")")
	plen=$((4 + ${#e} / 2))
	pad=$(( (4 - plen % 4) % 4 ))
	printf '0310%04x00000001%s03000000%s%s%s' $((16 + plen + pad)) "$1" \
	    "0000$(printf '%04x' $plen)" "$e" "$(printf '%0*d' $((2 * pad)) 0)"
}
ALPHA=$(hostport "$(addr_of v4 alpha)" "$HOST_PORT")
FROM=$(hostport 127.0.0.5 0)
forge() {	# forge NAME XID CODE
	"$KINKCRAFT" send -t "$ALPHA" -b "$FROM" \
	    -x "$(krb_error_reply "$2" "$3")" > "$T/$1.out" 2>&1
	check "$1/sent" test $? -eq 0
}

u2u_pair v4 || { fail start "daemons did not start"; exit 1; }
relay_start v4
require create ctl alpha initiate beta
check_eq normal-ticket "$(gettgts)" 0

# forged-69
relay_rules "save=$T/c69.bin a2b CREATE 1" "drop a2b CREATE all"
initiate_bg "$T/i69.out"
require forged-69/create-saved wait_until "$HOST_WAIT" test -s "$T/c69.bin"
forge forged-69 "$(xid_of "$T/c69.bin")" 69
check forged-69/seen wait_until "$HOST_WAIT" grep -q "error REPLY: KRB_ERROR 69 KRB_AP_ERR_USER_TO_USER_REQUIRED (unauthenticated)" "$T/alpha.log"
check forged-69/this-exchange-u2u wait_until "$HOST_WAIT" is = 1 gettgts
relay_rules
wait "$ini"
check_eq forged-69/exchange-completes $? 0
restart_kinkd beta "$T/beta.conf" || { fail restart "beta"; exit 1; }
check forged-69/next-create ctl alpha initiate beta
check_eq forged-69/no-u2u-ticket-used "$(grep -c "ticket does not decrypt" "$T/beta.log")" 0
check_eq forged-69/no-gettgt "$(gettgts)" 0
check_eq forged-69/one-restart "$(grep -c 'started over' "$T/alpha.log")" 1

# forged-41: genuine User-to-User from here on
realm_kadmin "modprinc -allow_svr kink/beta.test@$HOST_REALM" ||
    { fail setup "modprinc -allow_svr"; exit 1; }
stop_kinkd alpha
restart_kinkd beta "$T/beta.conf" && start_kinkd alpha "$T/alpha.conf" ||
    { fail restart-2 "daemons did not start"; exit 1; }
require forged-41/u2u-create ctl alpha initiate beta
require forged-41/one-gettgt wait_until "$HOST_WAIT" is = 1 gettgts
relay_rules "save=$T/c41.bin a2b CREATE 1" "drop a2b any all"
initiate_bg "$T/i41.out"
require forged-41/create-saved wait_until "$HOST_WAIT" test -s "$T/c41.bin"
forge forged-41 "$(xid_of "$T/c41.bin")" 41
check forged-41/seen wait_until "$HOST_WAIT" grep -q "error REPLY: KRB_ERROR 41 KRB_AP_ERR_MODIFIED (unauthenticated)" "$T/alpha.log"
wait "$ini"
check forged-41/restarted-exchange-fails test $? -ne 0
relay_rules
check forged-41/next-create ctl alpha initiate beta
check_eq forged-41/cache-kept "$(gettgts)" 1
check forged-41/sas wait_until "$HOST_WAIT" sa_count_is beta 4

# forged-tgtrep
relay_rules "save=$T/ct.bin a2b CREATE 1" "save=$T/gt.bin a2b GETTGT 1" \
    "drop a2b any all"
initiate_bg "$T/it.out"
require forged-tgtrep/create-saved wait_until "$HOST_WAIT" test -s "$T/ct.bin"
forge forged-tgtrep "$(xid_of "$T/ct.bin")" 41
require forged-tgtrep/gettgt-saved wait_until "$HOST_WAIT" test -s "$T/gt.bin"
# REPLY, Length 28, the GETTGT's XID, KINK_TGT_REP: 8 octets, not a TGT
"$KINKCRAFT" send -t "$ALPHA" -b "$FROM" -x \
    "0310001c00000001$(xid_of "$T/gt.bin")050000000000000ca0a1a2a3a4a5a6a7" \
    > "$T/tgtrep.out" 2>&1
check forged-tgtrep/tgtrep-sent test $? -eq 0
wait "$ini"
check forged-tgtrep/exchange-fails test $? -ne 0
check forged-tgtrep/no-ticket grep -q "no ticket for kink/beta.test" "$T/it.out"
relay_rules
check forged-tgtrep/next-create ctl alpha initiate beta
check_eq forged-tgtrep/cache-kept "$(gettgts)" 1
check forged-tgtrep/sas wait_until "$HOST_WAIT" sa_count_is beta 6
relay_stop
stop_kinkd alpha
stop_kinkd beta
