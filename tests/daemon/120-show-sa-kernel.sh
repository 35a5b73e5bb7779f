#!/bin/bash
# `kinkctl show sa` reads back what the backend holds, merged with what
# kinkd remembers: an SA the kernel has (in kinkd's reqid range) but
# kinkd has no record of is listed as "kernel-only" (peer and policy from
# its reqid when a policy has it, no keys); an SA kinkd remembers that the
# kernel lost is listed as "missing".  The null backend is changed behind
# kinkd's back through the inject lines "kernel-add SPI REQID SRC DST" and
# "kernel-del SPI".
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 120-show-sa-kernel
host_realm alpha beta || exit 1

sa_field() {	# sa_field NAME SPI FIELD: one field of one SA ('' if absent)
	jqctl "$1" ".sa[] | select(.spi == \"$2\") | .$3" show sa
}
sa_state_is() { [ "$(sa_field "$1" "$2" state)" = "$3" ]; }

host_pair v4 || { fail start "daemons did not start"; exit 1; }
reqid=$("$KINKD" -nv -f "$T/alpha.conf" | awk '/reqid/ {
    for (i = 1; i < NF; i++) if ($i == "reqid") { print $(i + 1); exit } }')
check reqid-known test -n "$reqid"
ctl alpha initiate beta >/dev/null 2>&1
require create wait_until "$HOST_WAIT" sa_count_is alpha 2
check_eq all-mature "$(jqctl alpha '[.sa[].state] | unique | join(" ")' show sa)" mature

# An SA of alpha's policy that kinkd did not make.
inject alpha "kernel-add 0x1234 $reqid 127.0.0.1 127.0.0.2"
check stray-listed wait_until "$HOST_WAIT" sa_count_is alpha 3
check_eq stray-state "$(sa_field alpha 0x00001234 state)" kernel-only
check_eq stray-peer "$(sa_field alpha 0x00001234 peer)" beta
check_eq stray-policy "$(sa_field alpha 0x00001234 policy)" host
check_eq stray-dir "$(sa_field alpha 0x00001234 dir)" out
check_eq stray-peer-filter "$(jqctl alpha '.sa | length' show sa peer beta)" 3
# One no policy has: no peer, so a peer filter leaves it out.
inject alpha "kernel-add 0x5678 999 127.0.0.2 127.0.0.1"
check orphan-listed wait_until "$HOST_WAIT" sa_count_is alpha 4
check_eq orphan-state "$(sa_field alpha 0x00005678 state)" kernel-only
check_eq orphan-no-peer "$(sa_field alpha 0x00005678 peer)" ""
check_eq orphan-filtered "$(jqctl alpha '.sa | length' show sa peer beta)" 3
ctl alpha show sa > "$T/sa.txt" 2>&1
check text-kernel-only grep -q '^- .*0x00005678.*kernel-only' "$T/sa.txt"
# kinkd's records are unchanged and the peer's view is untouched
check_eq beta-unaffected "$(sa_count beta)" 2

# The kernel loses one of kinkd's SAs.
out=$(jqctl alpha '.sa[] | select(.dir == "out" and .state == "mature") | .spi' show sa)
check out-known test -n "$out"
inject alpha "kernel-del $out"
check lost-missing wait_until "$HOST_WAIT" sa_state_is alpha "$out" missing
ctl alpha show sa > "$T/sa2.txt" 2>&1
check text-missing grep -q "$out.*missing" "$T/sa2.txt"
in=$(jqctl alpha '.sa[] | select(.dir == "in") | .spi' show sa)
check_eq other-still-mature "$(sa_field alpha "$in" state)" mature
stop_kinkd alpha
stop_kinkd beta
