#!/bin/bash
# Kernel EXPIREs name an SA by (destination, protocol, SPI): an SPI is
# unique per destination only (RFC 4301 4.1), so another SA with the
# same SPI towards another address (a kernel may hold it for another
# daemon or another peer) is not ours.  Its soft expiry starts no rekey,
# its hard expiry deletes nothing; the same events for our SA do.
. tests/lib/host.sh
host_init 421-expire-match
host_realm alpha beta || exit 1

host_pair v4 || { fail start "daemons did not start"; exit 1; }
require create ctl alpha initiate beta
require sas-2 wait_until "$HOST_WAIT" sa_count_is beta 2
old=$(spis alpha)
out=$(sa_lines alpha | awk '$2 == "out" { print $1 }')
other=192.0.2.77	# not beta: the same SPI, another SA

inject alpha "soft $out $other"
check soft-other-counted wait_until "$HOST_WAIT" is = 1 stat_get alpha expire_soft
check soft-other-idle wait_until "$HOST_WAIT" xact_count_is alpha 0
check_eq soft-other-no-rekey "$(stats_sum beta '^create_(optimistic|nonoptimistic)$')" 1
check_eq soft-other-sas-kept "$(spis alpha)" "$old"
check_eq soft-other-still-mature "$(jqctl alpha "[.sa[] | select(.state != \"mature\")] | length" show sa)" 0

inject alpha "hard $out $other"
check hard-other-counted wait_until "$HOST_WAIT" is = 1 stat_get alpha expire_hard
check hard-other-idle wait_until "$HOST_WAIT" xact_count_is alpha 0
check_eq hard-other-sas-kept "$(spis alpha)" "$old"
check_eq hard-other-beta-kept "$(sa_count beta)" 2

# our SA: the rekey happens (the knob and the path work)
inject alpha "soft $out"
check soft-ours-counted wait_until "$HOST_WAIT" is = 2 stat_get alpha expire_soft
check soft-ours-rekeyed wait_until "$HOST_WAIT" new_pair_at alpha "$old"
stop_kinkd alpha
stop_kinkd beta
