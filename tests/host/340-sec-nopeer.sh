#!/bin/bash
# A principal of the realm that is not a configured peer gets nothing: a
# Kerberos ticket proves who the sender is, the configuration says whom
# beta deals with (RFC 4430 4.2.1 leaves the principal-to-peer binding to
# local policy; section 10 asks for care with the binding between
# principal names and SA selectors).  RFC 4430 prescribes no answer to
# such a command, and beta sends none.
# kink/gamma.test is a third principal of the realm, in no configuration.
# alpha and beta run a real exchange through the relay, which saves
# alpha's CREATE, a STATUS (alpha probes beta after 1 s of silence) and a
# DELETE (withheld from beta, so beta keeps the pair).  kinkcraft, as
# gamma (its keytab), gets a real ticket for beta from the KDC and sends
# beta each of those commands under gamma's name: a fresh AP-REQ, the
# same inner payloads encrypted under gamma's session key, a correct
# Cksum, a new XID.  For each, beta
#  - answers nothing (no datagram comes back to gamma's socket);
#  - counts it in drop_nopeer, not as a Kerberos or Cksum failure (the
#    AP-REQ verified);
#  - logs a line naming the principal and the XID;
#  - starts no transaction for that XID (no event, not in show xact);
#  - keeps its SAs with alpha exactly as they were.
# control/: the same commands sent by kinkcraft as alpha (alpha's
# keytab) are answered with a REPLY (and the DELETE takes the pair), so
# what gamma's commands lack is only a configured principal.
# v4 only (the logic has no family).
# alpha's withheld DELETE is retransmitted, not given up, meanwhile
HOST_RETRANS="2s max 2s tries 15"
. tests/lib/host.sh
host_init 340-sec-nopeer
host_realm alpha beta gamma || exit 1

GAMMA_P="kink/gamma.test@$HOST_REALM"
BETA_P="kink/beta.test@$HOST_REALM"
ALPHA_P="kink/alpha.test@$HOST_REALM"
BETA=$(hostport "$(addr_of v4 beta)" "$HOST_PORT")
FROM=$(hostport 127.0.0.5 0)

# alpha probes beta with STATUS after 1 s of silence; beta does not probe
DEADPEER=1s VIA=1 write_conf alpha v4
VIA=1 write_conf beta v4
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
relay_start v4 "save=$T/create.bin a2b CREATE 1" "save=$T/status.bin a2b STATUS 1"
require initiate-1 ctl alpha initiate beta
require initiate-2 ctl alpha initiate beta
require beta-4-sas wait_until "$HOST_WAIT" sa_count_is beta 4
require create-saved test -s "$T/create.bin"
require status-saved wait_until "$HOST_WAIT" test -s "$T/status.bin"
relay_rules "save=$T/delete.bin a2b DELETE 1" "drop a2b DELETE all"
spi=$(sa_lines alpha | awk 'NR == 1 { print $1 }')
ctl alpha delete sa "$spi" > "$T/delete.out" 2>&1 &
HOST_BG="$HOST_BG $!"
require delete-saved wait_until "$HOST_WAIT" test -s "$T/delete.bin"
beta_spis=$(spis beta)
check_eq beta-kept-pair "$(sa_count beta)" 4
monitor_start beta

# author NAME XID KEYTAB PRINC: NAME.bin sent to beta as PRINC, answers
# listed in NAME.out ("recv ..." lines)
author() {
	"$KINKCRAFT" author -t "$BETA" -b "$FROM" -f "$T/$1.bin" \
	    -k "$3" -p "$4" -S "$BETA_P" -K "$T/beta.keytab" -P "$BETA_P" \
	    -X "$2" -w 1000 -o "$T/$1-as-$5.bin" > "$T/$1-as-$5.out" 2>&1
}

xid=$((0x5ec00000))
for c in create status delete; do
	xid=$((xid + 1))
	hx=$(printf '0x%08x' "$xid")
	nop0=$(stat_get beta drop_nopeer)
	krb0=$(stat_get beta drop_krb)
	author "$c" "$xid" "$T/gamma.keytab" "$GAMMA_P" gamma
	check "$c/sent" test $? -eq 0
	check "$c/drop_nopeer" wait_until "$HOST_WAIT" \
	    is -eq $((nop0 + 1)) stat_get beta drop_nopeer
	check_eq "$c/ap-req-verified" "$(stat_get beta drop_krb)" "$krb0"
	check_eq "$c/no-answer" "$(grep -c '^recv ' "$T/$c-as-gamma.out")" 0
	check "$c/logged" grep -q \
	    "xid $hx from 127.0.0.5: principal $GAMMA_P is not a configured peer" \
	    "$T/beta.log"
	# no event but the one drop (every counted drop is an event)
	check_eq "$c/no-event" "$(grep "\"xid\":\"$hx\"" "$T/beta.mon" | grep -vc '"type":"drop"')" 0
	check "$c/one-drop-event" wait_until "$HOST_WAIT" is -eq 1 \
	    grep -c "\"type\":\"drop\",\"peer\":null,\"xid\":\"$hx\",\"text\":\"from [^ ]*: not a configured peer\"" "$T/beta.mon"
	check_eq "$c/no-xact" "$(jqctl beta "[.xact[] | select(.xid == \"$hx\")] | length" show xact)" 0
	check_eq "$c/beta-sas-kept" "$(spis beta)" "$beta_spis"
done

# the same commands from a configured principal are answered (DELETE
# last: it takes the pair away); sent from the address beta knows alpha
# by (the relay's beta side), as beta takes a peer's commands from no
# other
FROM=$(hostport "$(addr_of v4 rbeta)" 0)
xid=$((0x5ec000a0))
for c in status create delete; do
	xid=$((xid + 1))
	nop0=$(stat_get beta drop_nopeer)
	author "$c" "$xid" "$T/alpha.keytab" "$ALPHA_P" alpha
	check "control/$c/sent" test $? -eq 0
	check "control/$c/answered" grep -q \
	    "^recv REPLY .* xid=$(printf '0x%08x' "$xid") " "$T/$c-as-alpha.out"
	check_eq "control/$c/not-dropped" "$(stat_get beta drop_nopeer)" "$nop0"
done
check control/delete/pair-gone wait_until "$HOST_WAIT" sa_count_is beta 2

monitor_stop beta
relay_stop
stop_kinkd alpha
stop_kinkd beta
