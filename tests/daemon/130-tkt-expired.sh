#!/bin/bash
# A protected KRB_AP_ERR_TKT_EXPIRED (RFC 4430 3.4, notes c.7): the
# initiator gets a new ticket and starts the exchange over with a new XID,
# once.  beta's clock runs 115 s ahead (libfaketime) with a clock skew
# allowance of 2 s, and kink/beta.test tickets live 120 s: alpha adopts
# beta's clock for authenticators after the first protected SKEW, and its
# ticket, still 60 s (kinkd's reuse margin) from its end as alpha sees it,
# is already past its end plus skew in beta's eyes 8 s after it was issued.
# The switch comes 12 s after t0, not 8: t0 is read before the first
# CREATE, the ticket may be issued a second or more later on a loaded
# machine, and MIT compares whole seconds (now > end + skew), so at t0 + 8
# beta could still see the ticket as valid (it did once in CI).  That
# leaves a 46 s window, so a loaded machine does not miss it.
# Then the ticket reuse margin is measured on the peer's clock.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 130-tkt-expired
FAKETIME_LIB=
for l in /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 \
    /usr/lib/*/faketime/libfaketimeMT.so.1; do
	[ -f "$l" ] && { FAKETIME_LIB=$l; break; }
done
if [ -z "$FAKETIME_LIB" ]; then
	fail setup "libfaketime not installed (faketime, tests/deps.sh)"
	exit 1
fi
REALM_CLOCKSKEW=2
host_realm alpha beta || exit 1
kadmin.local -r "$HOST_REALM" -q "modprinc -maxlife \"120 seconds\" kink/beta.test@$HOST_REALM" \
    > "$T/modprinc.out" 2>&1
check maxlife-set grep -q modified "$T/modprinc.out"

write_conf alpha v4
write_conf beta v4
start_kinkd alpha "$T/alpha.conf" || { fail start "alpha did not start"; exit 1; }
# beta's clock is right at first, then jumps ahead (re-read on each call).
echo "+0" > "$T/beta.faketime"
# ASan must not insist on coming first: libfaketime is preloaded.
ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
HOST_WRAPPER="env LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$T/beta.faketime FAKETIME_NO_CACHE=1" \
    start_kinkd beta "$T/beta.conf" || { fail start "beta did not start"; exit 1; }

t0=$(date +%s)
check first-create ctl alpha initiate beta
check_eq no-renewal-yet "$(grep -c 'ticket expired at the peer' "$T/alpha.log")" 0

# The ticket (120 s) is past its end plus skew (2 s) in beta's eyes once
# beta is 115 s ahead and 8 s have passed since its issue (12 s since t0,
# see the top), while alpha reuses it until 60 s before its end (t0 + 60).
past() { [ "$(date +%s)" -ge "$1" ]; }
wait_until 25 past $((t0 + 12))
echo "+115s" > "$T/beta.faketime"
check in-window test "$(date +%s)" -lt $((t0 + 58))
check second-create ctl alpha initiate beta
check renewed grep -q "ticket expired at the peer, started over with a new ticket and XID" "$T/alpha.log"
old=$(sed -n 's/.*xid \(0x[0-9a-f]*\) peer beta: ticket expired at the peer.*/\1/p' "$T/alpha.log" | head -n 1)
new=$(grep "initiated CREATE ok" "$T/alpha.log" | tail -n 1 | sed -n 's/.*xid \(0x[0-9a-f]*\) peer beta.*/\1/p')
check old-xid-known test -n "$old"
check new-xid-known test -n "$new"
check new-xid test "$old" != "$new"
check_eq renewed-once "$(grep -c 'started over with a new ticket' "$T/alpha.log")" 1
check sas-4 wait_until "$HOST_WAIT" sa_count_is alpha 4
check pairwise sa_pair_ok alpha beta

# alpha now knows beta's clock (+115 s, from the renewed exchange's SKEW):
# the new ticket (120 s) is within kinkd's 60 s reuse margin of its end on
# beta's clock at once, so the next exchange takes a fresh one instead of
# failing to build its AP-REQ once beta's clock passes the ticket's end.
t1=$(date +%s)
wait_until 20 past $((t1 + 10))
check third-create ctl alpha initiate beta
check_eq no-local-expiry "$(grep -c 'cannot build' "$T/alpha.log")" 0
check sas-6 wait_until "$HOST_WAIT" sa_count_is alpha 6
stop_kinkd alpha
stop_kinkd beta
