#!/bin/bash
# User-to-User tickets are cached per peer (RFC 4430 3.1, 3.7.1): beta's
# principal may not be a normal service (-allow_svr), so the first
# exchange goes KDC_ERR_MUST_USE_USER2USER -> GETTGT -> U2U ticket; later
# exchanges (CREATE, DELETE, STATUS alike) reuse that ticket with no
# GETTGT and no KDC round trip.  When beta restarts it has a new TGT and
# cannot decrypt the cached ticket: it answers with a TGT_REP (3.7.1), and
# alpha makes a new U2U ticket under that TGT and starts the exchange over
# (new XID), once; nothing is concluded about beta from it.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 150-u2u-cache
host_realm alpha beta || exit 1
realm_kadmin "modprinc -allow_svr kink/beta.test@$HOST_REALM" ||
    { fail setup "modprinc -allow_svr"; exit 1; }

gettgts() { grep -c "GETTGT answered" "$T/beta.log"; }

write_conf alpha v4
write_conf beta v4
allow_u2u "$T/alpha.conf" beta
allow_u2u "$T/beta.conf" alpha
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }

check create-1 ctl alpha initiate beta
check_eq gettgt-first "$(gettgts)" 1
check create-2 ctl alpha initiate beta
check create-3 ctl alpha initiate beta
check_eq gettgt-cached "$(gettgts)" 1
check sas-6 wait_until "$HOST_WAIT" sa_count_is beta 6
check pairwise sa_pair_ok alpha beta
spi=$(jqctl alpha '[.sa[] | select(.dir == "out")][0].spi' show sa)
check delete-cached ctl alpha delete sa "$spi"
check delete-done wait_until "$HOST_WAIT" sa_count_is beta 4
check_eq gettgt-still-1 "$(gettgts)" 1
check_eq no-restart-yet "$(grep -c 'started over' "$T/alpha.log")" 0

# beta restarts: new TGT, the cached U2U ticket is useless to it.  beta
# answers with its new TGT (3.7.1), alpha makes a new U2U ticket under it
# and starts over: no GETTGT needed.
restart_kinkd beta "$T/beta.conf" || { fail restart "beta"; exit 1; }
check after-restart-create ctl alpha initiate beta
check beta-sent-tgt grep -q "ticket does not decrypt, answered with our TGT" "$T/beta.log"
check tgt-changed-restarted grep -q "peer's TGT changed, started over with a new ticket and XID" "$T/alpha.log"
check_eq no-gettgt-needed "$(gettgts)" 0
check after-restart-sas wait_until "$HOST_WAIT" sa_count_is beta 2
check after-restart-pairwise sa_pair_ok alpha beta
# and the new ticket is cached in turn
check after-restart-create-2 ctl alpha initiate beta
check_eq gettgt-cached-again "$(gettgts)" 0
check_eq restarted-once "$(grep -c 'started over' "$T/alpha.log")" 1
stop_kinkd alpha
stop_kinkd beta
