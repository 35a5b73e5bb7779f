#!/bin/bash
# One rekey per pair (RFC 4430 3.6).  A kernel gives each SA of a pair a
# soft lifetime of its own, so the inbound and the outbound SA of one
# pair soft-expire separately: the first expiry rekeys the pair, the
# second finds it already dying and starts nothing.  Both soft EXPIREs
# arrive back to back (one inject file), as they may from a kernel; each
# side ends with one new pair, the peer answered one rekeying CREATE.
. tests/lib/host.sh
host_init 420-rekey-once
host_realm alpha beta || exit 1

host_pair v4 || { fail start "daemons did not start"; exit 1; }
require create ctl alpha initiate beta
require sas-2 wait_until "$HOST_WAIT" sa_count_is beta 2
check_eq one-create "$(stat_get beta create_optimistic)" 1
old=$(spis alpha)
in=$(sa_lines alpha | awk '$2 == "in" { print $1 }')
out=$(sa_lines alpha | awk '$2 == "out" { print $1 }')
printf 'soft %s\nsoft %s\n' "$out" "$in" > "$(sock_of alpha).inject"
kill -USR1 "$(cat "$T/alpha.pid")"
check both-counted wait_until "$HOST_WAIT" is = 2 stat_get alpha expire_soft
check new-pair wait_until "$HOST_WAIT" new_pair_at alpha "$old"
check new-pairwise wait_until "$HOST_WAIT" pair_agrees_new "$old"
check alpha-idle wait_until "$HOST_WAIT" xact_count_is alpha 0
# the old pair goes after delete-grace (1 s): one pair left each side
check alpha-one-pair wait_until "$HOST_WAIT" sa_count_is alpha 2
check beta-one-pair wait_until "$HOST_WAIT" sa_count_is beta 2
check_eq one-rekey "$(stats_sum beta '^create_(optimistic|nonoptimistic)$')" 2
check_eq one-rekey-logged "$(grep -c 'soft expiry of spi' "$T/alpha.log")" 1
check pairwise sa_pair_ok alpha beta
stop_kinkd alpha
stop_kinkd beta
