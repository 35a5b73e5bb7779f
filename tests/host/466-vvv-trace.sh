#!/bin/bash
# kinkd -vvv logs one line per KINK message in and out: type, XID, flags,
# length and the payload chain with lengths, the ISAKMP payloads inside
# each KINK_ISAKMP and the KINK_ENCRYPT plaintext's chain in braces.  Not
# at -vv or less.  No key ever: none of the SAs' keys (kinkctl show sa
# keys: the KEYMAT the null backend holds), in any case, appears in the
# -vvv log.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 466-vvv-trace
host_realm alpha beta || exit 1
write_conf alpha v4 && write_conf beta v4
HOST_VERBOSE=-vvv start_kinkd alpha "$T/alpha.conf" &&
    HOST_VERBOSE=-vv start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
check initiate ctl alpha initiate beta
check pairwise wait_until "$HOST_WAIT" sa_pair_ok alpha beta
xid=$(sed -n 's/.*xid \(0x[0-9a-f]*\) peer beta: initiated CREATE ok.*/\1/p' "$T/alpha.log" | head -n 1)
check xid-known test -n "$xid"
out="xid $xid peer beta: out CREATE flags 0x00, length [0-9]*, cksum [0-9]*: KINK_AP_REQ [0-9]*, KINK_ENCRYPT [0-9]* {KINK_ISAKMP [0-9]* QM 1.0 (SA [0-9]*, NONCE [0-9]*)}$"
check out-create grep -q "$out" "$T/alpha.log"
rep="xid $xid peer beta: in REPLY flags 0x[0-9a-f]*\( (ACKREQ)\)*, length [0-9]*, cksum [0-9]*: KINK_AP_REP [0-9]*, KINK_ENCRYPT [0-9]* {KINK_ISAKMP [0-9]* QM 1.0 (SA [0-9]*[^)]*)}$"
check in-reply grep -q "$rep" "$T/alpha.log"
# beta at -vv: the exchange is logged, the per-message lines are not
check_eq not-at-vv "$(grep -c ': \(in\|out\) [A-Z]* flags 0x' "$T/beta.log")" 0
check beta-logged grep -q "xid $xid peer alpha: " "$T/beta.log"

ctlj alpha show sa keys > "$T/keys.json" 2>&1
jq -r '.sa[] | .enckey, .authkey | select(. != null and . != "")' \
    "$T/keys.json" > "$T/keys"
check_eq four-keys "$(wc -l < "$T/keys")" 4
leak=
while read -r k; do
	grep -qi "$k" "$T/alpha.log" && leak="$leak $k"
done < "$T/keys"
check_eq no-key-in-log "$leak" ""
