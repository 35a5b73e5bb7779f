#!/bin/bash
# Hostile senders on the network (v4): what an unauthenticated or
# misplaced sender can make beta do.
#  raced/     alpha's CREATE, captured by the relay and withheld from
#             beta, replayed to beta from 127.0.0.9 before alpha's own
#             gets through: valid in every respect but its source, so
#             beta answers nothing, installs nothing, counts drop_addr and
#             logs it; alpha's retransmission (from the address beta knows
#             alpha by) then makes the pair, and another withheld copy
#             (a retransmission beta never saw) from 127.0.0.9 afterwards
#             is not answered from the reply cache either.
#  badtype/   a CREATE with an AP_REP payload (4.2.2: only in a REPLY) is
#             malformed: drop_parse, a KINK_ERROR, no Kerberos work.
#  escaped/   a ticket for a service whose name holds CR and ESC (MIT's
#             error text names it): beta's log and a monitor client see
#             it escaped, no raw control octet.
#  flood/     1000 of those datagrams: beta's Kerberos warnings stay
#             within their budget (10 a second, counted per elapsed
#             second, so a slow machine only raises the bound), and the
#             rest are summarized as suppressed.
#  budget/    while one source floods unauthenticated commands, another
#             still gets its error answers (the budget is per source as
#             well as in total).  With one budget for all, the flood
#             spends each second's answers within its first tenth.
HOST_RETRANS="1s max 2s tries 40"
. tests/lib/host.sh
host_init 480-hostile-senders
host_realm alpha beta || exit 1

BETA_P="kink/beta.test@$HOST_REALM"
ALPHA_P="kink/alpha.test@$HOST_REALM"
BETA=$(hostport "$(addr_of v4 beta)" "$HOST_PORT")
RACER=$(hostport 127.0.0.9 0)
# a service principal whose name carries a carriage return and a
# terminal escape (kadmin takes them)
EVIL_N=$(printf 'kink/x\r\033[2KFAKE!.test')
realm_addprinc "$EVIL_N" >> "$T/realm.out" 2>&1
require evil-principal sh -c "kadmin.local -r '$HOST_REALM' -q listprincs 2>/dev/null | grep -q FAKE"
EVIL_P="$EVIL_N@$HOST_REALM"

VIA=1 write_conf alpha v4
VIA=1 write_conf beta v4
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
relay_start v4 "save=$T/create.bin a2b CREATE 1" \
    "save=$T/create2.bin a2b CREATE 2" "drop a2b CREATE all"
monitor_start beta
# initiate waits for the exchange, which waits for the relay
initiate_bg "$T/initiate.out"
require create-saved wait_until "$HOST_WAIT" test -s "$T/create.bin"

# --- raced ---
"$KINKCRAFT" replay -t "$BETA" -b "$RACER" -f "$T/create.bin" -w 1000 \
    > "$T/raced.out" 2>&1
check raced/drop_addr wait_until "$HOST_WAIT" is -eq 1 stat_get beta drop_addr
check_eq raced/no-answer "$(grep -c '^recv ' "$T/raced.out")" 0
check_eq raced/no-sa "$(sa_count beta)" 0
check_eq raced/no-xact "$(xact_count beta)" 0
check_eq raced/logged "$(log_count beta 'peer alpha: CREATE from 127.0.0.9, not an address of the peer, dropped')" 1
# alpha's retransmission, also withheld: an authenticator beta never saw
require resend-saved wait_until "$HOST_WAIT" test -s "$T/create2.bin"
relay_rules
wait "$ini"
check_eq raced/initiate-ok $? 0
check raced/alpha-pair wait_until "$HOST_WAIT" sa_count_is alpha 2
check raced/beta-pair wait_until "$HOST_WAIT" sa_count_is beta 2
check raced/pairwise sa_pair_ok alpha beta
"$KINKCRAFT" replay -t "$BETA" -b "$RACER" -f "$T/create2.bin" -w 1000 \
    > "$T/raced2.out" 2>&1
check raced/again-drop_addr wait_until "$HOST_WAIT" is -eq 2 stat_get beta drop_addr
check_eq raced/again-no-answer "$(grep -c '^recv ' "$T/raced2.out")" 0

# --- badtype ---
# CREATE, Length 40, DOI 1, XID 0x00badd7e, first payload AP_REQ (1);
# AP_REQ (next AP_REP, 12 octets: EPOCH 0, 4 octets), AP_REP (next
# DONE, the same)
p0=$(stat_get beta drop_parse)
k0=$(stat_get beta drop_krb)
"$KINKCRAFT" send -t "$BETA" -b "$(hostport 127.0.0.5 0)" -w 1000 \
    -x 0110002800000001""00badd7e01000000""0200000c00000000deadbeef""0000000c00000000deadbeef \
    > "$T/badtype.out" 2>&1
check badtype/drop_parse wait_until "$HOST_WAIT" is -eq $((p0 + 1)) stat_get beta drop_parse
check_eq badtype/no-krb "$(stat_get beta drop_krb)" "$k0"
check badtype/answered grep -q '^recv REPLY .*xid=0x00badd7e' "$T/badtype.out"
check badtype/logged grep -q 'payload not allowed in the message type' "$T/beta.log"

# --- escaped ---
"$KINKCRAFT" author -t "$BETA" -b "$(hostport 127.0.0.5 0)" \
    -f "$T/create.bin" -k "$T/alpha.keytab" -p "$ALPHA_P" -S "$EVIL_P" \
    -K "$T/beta.keytab" -P "$BETA_P" -w 1000 -o "$T/evil.bin" \
    > "$T/evil.out" 2>&1
check escaped/sent test -s "$T/evil.bin"
check escaped/log wait_until "$HOST_WAIT" grep -q -F 'kink/x\r\033[2KFAKE!' "$T/beta.log"
check escaped/monitor wait_until "$HOST_WAIT" grep -q -F 'kink/x\\r\\033[2KFAKE!' "$T/beta.mon"
check_eq escaped/log-no-cr "$(tr -cd '\r\033' < "$T/beta.log" | wc -c)" 0
check_eq escaped/monitor-no-cr "$(tr -cd '\r\033' < "$T/beta.mon" | wc -c)" 0

# --- flood ---
krbl() { log_count beta 'krb: AP-REQ'; }
l0=$(krbl)
t0=$(date +%s)
"$KINKCRAFT" replay -t "$BETA" -b "$(hostport 127.0.0.5 0)" \
    -f "$T/evil.bin" -n 1000 > "$T/flood.out" 2>&1
t1=$(date +%s)
# one more after a second opens the next window: the summary
summary() {
	"$KINKCRAFT" replay -t "$BETA" -b "$(hostport 127.0.0.5 0)" \
	    -f "$T/evil.bin" > /dev/null 2>&1
	grep -q 'log lines about Kerberos input suppressed' "$T/beta.log"
}
check flood/summary wait_until "$HOST_WAIT" summary
t2=$(date +%s)
lines=$(( $(krbl) - l0 ))
check flood/some-logged test "$lines" -ge 1
check flood/within-budget test "$lines" -le $(( 10 * (t2 - t0 + 2) ))
check flood/fewer-than-sent test "$lines" -lt 1000
check flood/beta-alive daemon_ready beta

# --- budget ---
# a STATUS header alone (no AP_REQ): answered PROTOERR, unauthenticated
STATUS_HDR=0610001000000001""00c0ff3300000000
# A few hundred a second: far more than the 20 answers a second beta
# gives in total, but not so many that beta's socket overflows and drops
# the other source's datagrams.
( while :; do
	"$KINKCRAFT" send -t "$BETA" -b "$(hostport 127.0.0.5 0)" -n 30 \
	    -x "$STATUS_HDR" > /dev/null 2>&1
	sleep 0.1
done ) &
FLOOD=$!
HOST_BG="$HOST_BG $FLOOD"
u0=$(stat_get beta drop_unauth)
check budget/flooding wait_until "$HOST_WAIT" is -gt $((u0 + 100)) stat_get beta drop_unauth
got=0
for i in 1 2 3; do
	"$KINKCRAFT" send -t "$BETA" -b "$(hostport 127.0.0.6 0)" -w 3000 \
	    -x "$STATUS_HDR" > "$T/other$i.out" 2>&1
	got=$((got + $(grep -c '^recv REPLY' "$T/other$i.out")))
done
kill "$FLOOD" 2>/dev/null
wait "$FLOOD" 2>/dev/null
check_eq budget/other-source-answered "$got" 3
check budget/beta-alive daemon_ready beta
check budget/pair-kept sa_count_is beta 2

monitor_stop beta
relay_stop
stop_kinkd alpha
stop_kinkd beta
