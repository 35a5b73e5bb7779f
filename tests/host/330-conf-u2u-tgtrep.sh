#!/bin/bash
# RFC 4430 3.7.1 conformance (docs/conformance.md row 40): "The initiator
# SHOULD NOT forget the previous service ticket until the new one is
# successfully obtained in order to reduce the cost when a forged
# KINK_TGT_REP is received."  beta's principal may not be a normal service
# (-allow_svr), so alpha talks to it with a User-to-User ticket, which it
# caches.  During a second CREATE, whose REPLYs the relay withholds,
# someone else sends alpha a KINK_TGT_REP with the CREATE's XID and a TGT
# that is not beta's.  Nothing authenticated says beta's TGT changed:
# once the REPLYs flow again the CREATE must complete, still with the
# cached U2U ticket (no further GETTGT), and alpha's SAs and view of beta
# stay as they were; the next CREATE works as well.
HOST_RETRANS="1s max 2s tries 8"
. tests/lib/host.sh
host_init 330-conf-u2u-tgtrep
host_realm alpha beta || exit 1
realm_kadmin "modprinc -allow_svr kink/beta.test@$HOST_REALM" > "$T/modprinc.out" 2>&1 ||
    { fail setup "modprinc -allow_svr"; exit 1; }

gettgts() { grep -c 'GETTGT answered with our TGT' "$T/beta.log"; }

u2u_pair v4 || { fail start "daemons did not start"; exit 1; }
relay_start v4

require u2u-create ctl alpha initiate beta
require u2u-beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
check_eq one-gettgt "$(gettgts)" 1
old_spis=$(spis alpha)
epoch0=$(peer_field alpha beta epoch)

relay_rules "drop b2a REPLY all"
c0=$(relay_stat a2b CREATE seen)
initiate_bg "$T/initiate.out"
require create-on-wire wait_until "$HOST_WAIT" is -gt "$c0" relay_stat a2b CREATE seen
xid=$(awk '$3 == "a2b" && $4 == "CREATE" { x = $6 } END { sub("xid=0x", "", x); print x }' \
    "$T/relay.log")
require xid-known test -n "$xid"
# REPLY, MjVer 1, Length 28, DOI 1, the CREATE's XID, KINK_TGT_REP, no
# Cksum; 12 octets that stand for a TGT (not beta's)
"$KINKCRAFT" send -t "$(hostport "$(addr_of v4 alpha)" "$HOST_PORT")" \
    -b "$(hostport 127.0.0.5 0)" \
    -x "0310001c""00000001""$xid""05000000""0000000c""a0a1a2a3a4a5a6a7" \
    > "$T/forged.out" 2>&1
check forged-sent test $? -eq 0
check forged-seen wait_until "$HOST_WAIT" grep -q "TGT_REP" "$T/alpha.log"

relay_rules
wait "$ini"
check_eq create-completes $? 0
check_eq no-new-gettgt "$(gettgts)" 1
check u2u-ticket-kept sh -c "! grep -q \"peer's TGT changed\" '$T/alpha.log'"
check_eq peer-not-dead "$(peer_field alpha beta state)" alive
check_eq epoch-unchanged "$(peer_field alpha beta epoch)" "$epoch0"
check old-sas-kept sh -c "for s in $old_spis; do echo ' $(spis alpha) ' | grep -q \" \$s \" || exit 1; done"
check four-sas wait_until "$HOST_WAIT" sa_count_is beta 4
# and the next exchange works too (a forged TGT must not stay cached)
check next-create ctl alpha initiate beta
check next-create-pairwise sa_pair_ok alpha beta

relay_stop
stop_kinkd alpha
stop_kinkd beta
