#!/bin/bash
# monitor delivers every drop show stats counts: 30 malformed datagrams
# are 30 drop_parse and 30 "drop" events naming the sender and why, and a
# CREATE from a stranger's address without AP_REQ is one drop_unauth and
# one event.  Counts compared exactly, after waiting (bounded) for them.
. tests/lib/host.sh
host_init 478-drop-events
host_realm alpha beta || exit 1
host_pair v4 || { fail start "daemons did not start"; exit 1; }
monitor_start beta || fail monitor "no subscription"
BETA=$(hostport "$(addr_of v4 beta)" "$HOST_PORT")
FROM=$(hostport "$(addr_of v4 alpha)" 0)

p0=$(stat_get beta drop_parse)
# 4 octets: shorter than a KINK header
"$KINKCRAFT" send -t "$BETA" -b "$FROM" -x 00010203 -n 30 -w 100 > "$T/craft.out" 2>&1
check_eq sent $? 0
check drop-parse-30 wait_until "$HOST_WAIT" is -eq $((p0 + 30)) stat_get beta drop_parse
n_malformed() { grep '"type":"drop"' "$T/beta.mon" | grep -c 'malformed KINK message from '"$(addr_of v4 alpha)"; }
check events-30 wait_until "$HOST_WAIT" is -eq 30 n_malformed
check_eq events-exactly-30 "$(n_malformed)" 30
check_eq drop-parse-exactly-30 "$(stat_get beta drop_parse)" $((p0 + 30))

# A CREATE header without payloads (no AP_REQ): type 1, version 0x10,
# length 16, DOI 1, XID 0x0000abcd, next 0, flags 0, CksumLen 0.
u0=$(stat_get beta drop_unauth)
"$KINKCRAFT" send -t "$BETA" -b "$FROM" -x 01100010000000010000abcd00000000 -w 300 > "$T/craft2.out" 2>&1
check_eq sent-noapreq $? 0
check drop-unauth-1 wait_until "$HOST_WAIT" is -eq $((u0 + 1)) stat_get beta drop_unauth
n_noap() { grep '"type":"drop"' "$T/beta.mon" | grep -c '"xid":"0x0000abcd","text":"CREATE from .* without AP_REQ"'; }
check event-noapreq wait_until "$HOST_WAIT" is -eq 1 n_noap
