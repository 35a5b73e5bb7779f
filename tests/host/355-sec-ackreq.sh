#!/bin/bash
# RFC 4430 3.2: "The initiator MUST always generate an ACK if the ACKREQ
# bit is set in the KINK header", also when the exchange is optimistic
# (the initiator itself needs no ACK then, the responder does: its
# outbound SA waits for it).
#  - pfs/: alpha and beta both want the same single transform with PFS
#    (modp2048).  Beta's REPLY is optimistic (alpha's first proposal won)
#    but carries a KE payload, so beta sets ACKREQ; alpha completes
#    "optimistic with PFS", the ACK is on the wire, beta's R_ACKWAIT ends
#    on it and its outbound SA goes in.
#  - resigned/: without PFS beta sends its optimistic REPLY without
#    ACKREQ.  The relay withholds it; kinkcraft, as beta (its keytab),
#    sends alpha the same REPLY with ACKREQ set and a new, correct Cksum
#    (the AP-REP is beta's own).  alpha accepts it (the exchange completes
#    optimistic, the SAs agree with beta's) and ACKs it.
# v4 only (the logic has no family).
HOST_RETRANS="2s max 2s tries 15"
. tests/lib/host.sh
host_init 355-sec-ackreq
host_realm alpha beta || exit 1

BETA_P="kink/beta.test@$HOST_REALM"
ALPHA=$(hostport "$(addr_of v4 alpha)" "$HOST_PORT")
FROM=$(hostport 127.0.0.5 0)
ackreq_of() { echo $(( $(od -An -v -tu1 -j 13 -N 1 "$1") >> 7 )); }

# --- pfs/: a real optimistic REPLY with ACKREQ ------------------------
PFS=modp2048 VIA=1 host_pair v4 || { fail start "daemons did not start"; exit 1; }
relay_start v4 "save=$T/pfs-reply.bin b2a REPLY 1"
monitor_start alpha
require pfs/initiate ctl alpha initiate beta
require pfs/reply-saved wait_until "$HOST_WAIT" test -s "$T/pfs-reply.bin"
check_eq pfs/reply-ackreq "$(ackreq_of "$T/pfs-reply.bin")" 1
check pfs/optimistic wait_event alpha xact-done '.*optimistic with PFS'
check pfs/not-nonoptimistic test "$(grep -c 'non-optimistic' "$T/alpha.mon")" -eq 0
# (more than one only if beta resent its REPLY before the ACK arrived)
check pfs/ack-on-wire wait_until "$HOST_WAIT" is -ge 1 relay_stat a2b ACK seen
check pfs/ack-counted test "$(stat_get alpha ack_sent)" -ge 1
check pfs/beta-ack-received wait_until "$HOST_WAIT" is -ge 1 stat_get beta ack_received
check pfs/beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
check pfs/pairwise sa_pair_ok alpha beta
monitor_stop alpha
relay_stop
stop_kinkd alpha
stop_kinkd beta

# --- resigned/: ACKREQ added to an optimistic REPLY without PFS -------
VIA=1 host_pair v4 || { fail start "daemons did not start"; exit 1; }
relay_start v4 "save=$T/create.bin a2b CREATE 1" \
    "save=$T/reply.bin b2a REPLY 1" "drop b2a REPLY all"
monitor_start alpha
initiate_bg "$T/initiate.out"
require resigned/reply-saved wait_until "$HOST_WAIT" test -s "$T/reply.bin"
require resigned/create-saved test -s "$T/create.bin"
check_eq resigned/beta-sent-no-ackreq "$(ackreq_of "$T/reply.bin")" 0
require resigned/beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
check_eq resigned/no-ack-yet "$(relay_stat a2b ACK seen)" 0
"$KINKCRAFT" reply -t "$ALPHA" -b "$FROM" -f "$T/reply.bin" \
    -q "$T/create.bin" -k "$T/beta.keytab" -p "$BETA_P" -a \
    -o "$T/resigned.bin" > "$T/resigned.out" 2>&1
check resigned/sent test $? -eq 0
check_eq resigned/ackreq-set "$(ackreq_of "$T/resigned.bin")" 1
check_eq resigned/same-xid "$(xid_of "$T/resigned.bin")" "$(xid_of "$T/reply.bin")"
wait "$ini"
check_eq resigned/create-completes $? 0
check resigned/optimistic wait_event alpha xact-done '.*, optimistic, '
check resigned/ack-on-wire wait_until "$HOST_WAIT" is -eq 1 relay_stat a2b ACK seen
check_eq resigned/ack-counted "$(stat_get alpha ack_sent)" 1
check resigned/ack-xid grep -q -E "a2b ACK len=[0-9]+ xid=0x$(xid_of "$T/reply.bin") " "$T/relay.log"
check resigned/pairwise sa_pair_ok alpha beta

monitor_stop alpha
relay_stop
stop_kinkd alpha
stop_kinkd beta
