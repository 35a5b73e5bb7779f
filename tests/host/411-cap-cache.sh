#!/bin/bash
# Answered exchanges are never dropped to make room (RFC 4430 3.2, 9):
#  - cap/: beta allows 2 transactions for alpha and keeps REPLYs 20 s.
#    Two CREATEs fill its table with cached REPLYs (R_CACHE); a third is
#    refused (drop_xact_cap, alpha's initiate fails after its
#    retransmissions) instead of evicting a cached REPLY (before:
#    xact_evicted 1 and a third pair installed).
#  - short/: `set reply-cache 1s` with a 6 s retransmission cycle is
#    raised to the cycle with a warning; the relay drops beta's first
#    REPLY, alpha's retransmitted CREATE (2 s later) is answered from the
#    cache, not run a second time (before: the entry had expired, the
#    CREATE ran again).
. tests/lib/host.sh
host_init 411-cap-cache
host_realm alpha beta || exit 1

# --- cap/ -----------------------------------------------------------------
HOST_RETRANS="500ms max 1s tries 3" VIA=1 write_conf alpha v4
HOST_RETRANS="500ms max 1s tries 3" REPLYCACHE=20s \
    EXTRA="set max-xact-peer 2" VIA=1 write_conf beta v4
if ! start_kinkd alpha "$T/alpha.conf" || ! start_kinkd beta "$T/beta.conf"; then
	fail cap/start "daemons did not start"
	exit 1
fi
relay_start v4
require cap/first ctl alpha initiate beta
require cap/second ctl alpha initiate beta
check_eq cap/beta-2-cached "$(jqctl beta '[.xact[] | select(.state == "R_CACHE")] | length' show xact)" 2
ctl alpha initiate beta > "$T/cap-third.out" 2>&1
check_eq cap/third-refused $? 1
check cap/third-says-no-answer grep -q 'no answer' "$T/cap-third.out"
check cap/beta-cap-counted test "$(stat_get beta drop_xact_cap)" -ge 1
check_eq cap/beta-none-evicted "$(stat_get beta xact_evicted)" 0
check_eq cap/beta-still-2-cached "$(jqctl beta '[.xact[] | select(.state == "R_CACHE")] | length' show xact)" 2
check_eq cap/beta-4-sas "$(sa_count beta)" 4
check_eq cap/alpha-4-sas "$(sa_count alpha)" 4
stop_kinkd alpha
stop_kinkd beta
relay_stop

# --- short/ ---------------------------------------------------------------
HOST_RETRANS="2s max 2s tries 3" VIA=1 write_conf alpha v4
HOST_RETRANS="2s max 2s tries 3" REPLYCACHE=1s VIA=1 write_conf beta v4
if ! start_kinkd alpha "$T/alpha.conf" || ! start_kinkd beta "$T/beta.conf"; then
	fail short/start "daemons did not start"
	exit 1
fi
check_eq short/warned "$(log_count beta 'set reply-cache 1000 ms is shorter than one retransmission cycle (set retransmit: 6000 ms); raised to 6000 ms')" 1
relay_start v4 "drop b2a REPLY 1"
ctl alpha initiate beta > "$T/short.out" 2>&1
check_eq short/initiate-exit $? 0
check_eq short/create-resent "$(relay_stat a2b CREATE seen)" 2
check_eq short/from-cache "$(stat_get beta dup_replied_from_cache)" 1
check_eq short/one-create-run "$(stat_get beta create_optimistic)" 1
check short/alpha-2-sas wait_until "$HOST_WAIT" sa_count_is alpha 2
check short/beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
check short/agree sa_pair_ok alpha beta
