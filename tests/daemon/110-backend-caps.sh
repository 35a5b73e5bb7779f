#!/bin/bash
# Backend capability (sadb_supports): suites the SA backend cannot install
# (Linux PF_KEY: AES-GCM) are dropped from the policies at start and
# reload, with one warning per policy, so they are neither proposed as
# initiator nor chosen as responder; a policy left with no suite fails
# start-up and reload.  The null backend refuses GCM like PF_KEY when
# started with KINKD_NULL_REFUSE=gcm or after the inject line
# "refuse gcm" (then the next reload filters).
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 110-backend-caps
host_realm alpha beta || exit 1

# the ESP transform ids of NAME's SAs, sorted, one line
enc_ids() { jqctl "$1" '[.sa[].enc_id] | sort | unique | join(" ")' show sa; }
GCM_CBC="esp enc aes-256-gcm-16, esp enc aes-128-cbc auth hmac-sha1"
GCM_ONLY="esp enc aes-256-gcm-16"
CBC=12
GCM=20

# Baseline: nobody refuses, the first suite (GCM) wins both ways.
XFORMS=$GCM_CBC host_pair v4 || { fail start "daemons did not start"; exit 1; }
ctl alpha initiate beta >/dev/null 2>&1
check base-create wait_until "$HOST_WAIT" sa_count_is beta 2
check_eq base-gcm-chosen "$(enc_ids beta)" "$GCM"
stop_kinkd alpha
stop_kinkd beta

# alpha refuses GCM from the start: warned once for its policy, and GCM
# is neither proposed (alpha initiates) nor chosen (beta initiates).
XFORMS=$GCM_CBC write_conf alpha v4
XFORMS=$GCM_CBC write_conf beta v4
KINKD_NULL_REFUSE=gcm start_kinkd alpha "$T/alpha.conf" ||
    fail start-refuse "alpha did not start"
start_kinkd beta "$T/beta.conf" || fail start-beta "beta did not start"
check_eq start-warning-once \
    "$(grep -c 'policy host: suite aes-256-gcm-16 skipped: backend null cannot install AES-GCM' "$T/alpha.log")" 1
check_eq beta-no-warning "$(grep -c 'skipped' "$T/beta.log")" 0
ctl alpha initiate beta >/dev/null 2>&1
check init-create wait_until "$HOST_WAIT" sa_count_is beta 2
check_eq init-cbc-on-responder "$(enc_ids beta)" "$CBC"
check_eq init-cbc-on-initiator "$(enc_ids alpha)" "$CBC"
ctl alpha flush sa >/dev/null 2>&1
check flushed wait_until "$HOST_WAIT" sa_count_is beta 0
ctl beta initiate alpha >/dev/null 2>&1
check resp-create wait_until "$HOST_WAIT" sa_count_is alpha 2
check_eq resp-cbc-chosen "$(enc_ids alpha)" "$CBC"
check_eq resp-cbc-peer "$(enc_ids beta)" "$CBC"
stop_kinkd alpha

# A policy with nothing installable: start-up fails and says why.
XFORMS=$GCM_ONLY write_conf alpha v4
KINKD_NULL_REFUSE=gcm "$KINKD" -d -f "$T/alpha.conf" -s "$T/alpha2.sock" \
    > "$T/alpha-fail.log" 2>&1 &
pid=$!
check start-nosuite-exits wait_until "$HOST_WAIT" proc_gone "$pid"
wait "$pid"
check_eq start-nosuite-status $? 1
check start-nosuite-says grep -q 'policy host: no suite the null backend can install' "$T/alpha-fail.log"

# Reload: alpha accepts GCM at start, then is told to refuse it.
XFORMS=$GCM_ONLY write_conf alpha v4
start_kinkd alpha "$T/alpha.conf" || fail start-plain "alpha did not start"
check_eq plain-no-warning "$(grep -c 'skipped' "$T/alpha.log")" 0
inject alpha "refuse gcm"
check refuse-injected wait_until "$HOST_WAIT" grep -q 'inject: refuse gcm' "$T/alpha.log"
ctl alpha reload > "$T/reload1.out" 2>&1
check_eq reload-nosuite-fails $? 1
check reload-nosuite-says grep -q 'policy host: no suite the null backend can install' "$T/reload1.out"
check_eq reload-failed-counted "$(stat_get alpha reload_failed)" 1
# the old (GCM) policy is still in force: beta's GCM CREATE is accepted
ctl beta initiate alpha >/dev/null 2>&1
check old-kept-create wait_until "$HOST_WAIT" sa_count_is alpha 2
check_eq old-kept-gcm "$(enc_ids alpha)" "$GCM"
XFORMS=$GCM_CBC write_conf alpha v4
ctl alpha reload > "$T/reload2.out" 2>&1
check_eq reload-ok $? 0
check reload-warns grep -q 'policy host: suite aes-256-gcm-16 skipped' "$T/alpha.log"
# the changed policy's GCM SAs went; a new CREATE lands on CBC
check reload-dropped-gcm wait_until "$HOST_WAIT" sa_count_is alpha 0
ctl beta flush sa >/dev/null 2>&1
check beta-flushed wait_until "$HOST_WAIT" sa_count_is beta 0
ctl beta initiate alpha >/dev/null 2>&1
check reload-create wait_until "$HOST_WAIT" sa_count_is alpha 2
check_eq reload-cbc-chosen "$(enc_ids alpha)" "$CBC"
stop_kinkd alpha
stop_kinkd beta
