#!/bin/bash
# An AH+ESP proposal that loses to ESP alone: the initiator installed the
# optimistic inbound SAs of its first proposal (AH and ESP) before the
# CREATE left (RFC 4430 3.2); the REPLY chose ESP only, so the AH inbound
# SA is nobody's and goes.  alpha offers the bundle first, then ESP; beta
# accepts ESP only.
. tests/lib/host.sh
host_init 422-orphan-ah
host_realm alpha beta || exit 1

esp="esp enc aes-128-cbc auth hmac-sha1"
XFORMS="$esp ah auth hmac-sha1, $esp" write_conf alpha v4
write_conf beta v4
require bundle-offered grep -q "ah auth hmac-sha1" "$T/alpha.conf"
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
monitor_start alpha
require create ctl alpha initiate beta
require beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
check alpha-idle wait_until "$HOST_WAIT" xact_count_is alpha 0
check ah-was-installed event_seen alpha sa-add "in ah "
check ah-removed event_seen alpha sa-del "in ah "
check_eq alpha-2-sas "$(sa_count alpha)" 2
check_eq alpha-no-ah "$(jqctl alpha '[.sa[] | select(.proto == "ah")] | length' show sa)" 0
check pairwise sa_pair_ok alpha beta
monitor_stop alpha
stop_kinkd alpha
stop_kinkd beta
