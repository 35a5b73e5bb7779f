#!/bin/bash
# RFC 4430 5.6: "When KINK_U2UDENIED is received, the initiator MAY retry
# with the non-User-to-User mode (if it has not yet been tried)."
#  - beta starts without a service key at the KDC (-allow_svr): alpha
#    learns it needs User-to-User and caches beta's TGT and ticket;
#  - beta then gets a service key (+allow_svr) and restarts denying
#    User-to-User: alpha's cached U2U ticket is refused, its fresh GETTGT
#    gets KINK_U2UDENIED, and alpha retries with an ordinary ticket
#    (logged), which succeeds and clears beta's User-to-User state: the
#    next CREATE asks no GETTGT;
#  - the KDC requires User-to-User again and beta still denies it: a
#    fresh alpha got KDC_ERR_MUST_USE_USER2USER for the ordinary ticket
#    in this exchange, so the denial is logged and not retried, and the
#    exchange fails.
HOST_RETRANS="200ms max 400ms tries 4"
. tests/lib/host.sh
host_init 561-u2u-denied
host_realm alpha beta || exit 1
modprinc() {
	realm_kadmin "modprinc $1 kink/beta.test@$HOST_REALM" >> "$T/modprinc.out" 2>&1
}
gettgts() { grep -c 'GETTGT' "$T/beta.log"; }

modprinc -allow_svr || { fail setup "modprinc -allow_svr"; exit 1; }
write_conf alpha v4 && write_conf beta v4 && allow_u2u "$T/alpha.conf" beta &&
    cp "$T/beta.conf" "$T/beta-deny.conf" && allow_u2u "$T/beta.conf" alpha ||
    { fail setup "configs"; exit 1; }
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
require u2u/create ctl alpha initiate beta
check u2u/gettgt-answered grep -q 'GETTGT answered with our TGT' "$T/beta.log"

modprinc +allow_svr || { fail setup "modprinc +allow_svr"; exit 1; }
restart_kinkd beta "$T/beta-deny.conf" || { fail restart "beta did not start"; exit 1; }
check fallback/create ctl alpha initiate beta
check fallback/denied grep -q 'GETTGT denied' "$T/beta.log"
check fallback/logged grep -q 'the peer denies User-to-User (KINK_U2UDENIED): retrying with an ordinary ticket' "$T/alpha.log"
check fallback/cleared grep -q 'the peer is no longer User-to-User' "$T/alpha.log"
check fallback/pairwise sa_pair_ok alpha beta
g=$(gettgts)
check fallback/next-create ctl alpha initiate beta
check_eq fallback/next-no-gettgt "$(gettgts)" "$g"

modprinc -allow_svr || { fail setup "modprinc -allow_svr (2)"; exit 1; }
stop_kinkd alpha
restart_kinkd beta "$T/beta-deny.conf" || { fail restart-2 "beta did not start"; exit 1; }
start_kinkd alpha "$T/alpha.conf" || { fail restart-2 "alpha did not start"; exit 1; }
check_eq kdc-requires/create-fails "$(ctl_rc alpha initiate beta)" 1
check kdc-requires/denied grep -q 'GETTGT denied' "$T/beta.log"
check kdc-requires/no-retry grep -q 'the peer denies User-to-User (KINK_U2UDENIED) and the KDC refused an ordinary ticket: no retry' "$T/alpha.log"
check_eq kdc-requires/beta-no-sa "$(sa_count beta)" 0
stop_kinkd alpha
stop_kinkd beta
