#!/bin/bash
# A CREATE naming an SPI already in use is refused with INVALID-SPI
# (RFC 4430 3.2).  The CREATE's SPI is the initiator's inbound one, so
# "in use" means an outbound SA the responder holds towards that peer, or
# will hold: a pair answered with ACKREQ installs its outbound SAs only
# when the ACK comes.  kinkcraft, as alpha (alpha's keytab), sends beta
# alpha's own CREATE again under a fresh AP-REQ and a new XID (a valid
# command in every respect), once while beta holds that pair and once
# while beta still waits for its ACK (PFS: ACKREQ; the relay drops the
# ACK).  Both times beta answers a Notify INVALID-SPI and installs
# nothing.  v4 only.
HOST_RETRANS="1s max 1s tries 30"
. tests/lib/host.sh
host_init 426-spi-inuse
host_realm alpha beta || exit 1

BETA_P="kink/beta.test@$HOST_REALM"
ALPHA_P="kink/alpha.test@$HOST_REALM"
BETA=$(hostport "$(addr_of v4 beta)" "$HOST_PORT")
# From the address beta knows alpha by (the relay's beta side): beta takes
# a peer's commands only from its configured addresses.
FROM=$(hostport "$(addr_of v4 rbeta)" 0)
author() {	# author NAME XID: NAME.bin to beta as alpha
	"$KINKCRAFT" author -t "$BETA" -b "$FROM" -f "$T/$1.bin" \
	    -k "$T/alpha.keytab" -p "$ALPHA_P" -S "$BETA_P" \
	    -K "$T/beta.keytab" -P "$BETA_P" -X "$2" -w 2000 \
	    -o "$T/$1-again.bin" > "$T/$1-again.out" 2>&1
}

PFS=modp2048 VIA=1 write_conf alpha v4
PFS=modp2048 VIA=1 write_conf beta v4
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
relay_start v4 "save=$T/held.bin a2b CREATE 1"
require held/create ctl alpha initiate beta
require held/beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
require held/saved test -s "$T/held.bin"
n0=$(grep -c "refused: .*notify 11" "$T/beta.log")
author held $((0x5b100001))
check held/answered grep -q "^recv REPLY .* xid=0x5b100001 " "$T/held-again.out"
check held/invalid-spi wait_until "$HOST_WAIT" is = $((n0 + 1)) grep -c "refused: .*notify 11" "$T/beta.log"
check_eq held/no-new-sa "$(sa_count beta)" 2

# beta answers with ACKREQ and waits for the ACK, which never comes
relay_rules "save=$T/pending.bin a2b CREATE 1" "drop a2b ACK all"
require pending/create ctl alpha initiate beta
require pending/saved wait_until "$HOST_WAIT" test -s "$T/pending.bin"
require pending/beta-ackwait wait_until "$HOST_WAIT" is -ge 1 relay_stat a2b ACK drop
in_b=$(sa_count beta)
author pending $((0x5b100002))
check pending/answered grep -q "^recv REPLY .* xid=0x5b100002 " "$T/pending-again.out"
check pending/invalid-spi wait_until "$HOST_WAIT" is = $((n0 + 2)) grep -c "refused: .*notify 11" "$T/beta.log"
check_eq pending/no-new-sa "$(sa_count beta)" "$in_b"
relay_stop
stop_kinkd alpha
stop_kinkd beta
