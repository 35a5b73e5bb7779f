#!/bin/bash
# RFC 4430 conformance, read off the wire (docs/conformance.md cites these
# checks).  The relay saves every datagram of a real exchange between two
# kinkd; the checks read the octets:
#  - header (4): MjVer 1 and RESRVED 0 (octet 1 = 0x10), DOI 1, RESERVED2
#    zero, Length = the datagram's size, Cksum present (CksumLen > 0) and
#    4-aligned (4.1) on every message that has a key (6, 4 Cksum);
#  - ACKREQ (3.2, 4): never on a command or an ACK, not on an optimistic
#    REPLY, set on a non-optimistic REPLY;
#  - payload chains (4.2, 4.2.7, 6.2): commands start with KINK_AP_REQ,
#    REPLYs with KINK_AP_REP, KINK_ENCRYPT is the last outer payload (Next
#    Payload KINK_DONE) and ends where the Cksum begins, an ACK is a lone
#    KINK_AP_REQ;
#  - XID (4): the REPLY and ACK carry the command's XID, and two commands
#    of one initiator have different XIDs;
#  - EPOCH (3.7): the same non-zero value in every AP-REQ/AP-REP of one
#    daemon.
# Then behaviour the RFC names, seen through the peers:
#  - DELETE of SPIs the responder does not have is answered with
#    INVALID-SPI, and the initiator then drops its inbound SA (3.3);
#  - a REPLY with ACKREQ that the initiator refuses still gets its ACK,
#    and the responder's R_ACKWAIT ends on it (3.2);
#  - a Quick Mode version 2.0 inside KINK_ENCRYPT gets KINK_BADQMVERS in a
#    REPLY with a Cksum (12);
#  - a KE payload the responder does not do is refused with Notify
#    INVALID-PAYLOAD-TYPE and the initiator fails the CREATE (3.2, 5.5);
#  - an unsupported KINK major version and an unsupported DOI get a lone,
#    unauthenticated KINK_ERROR REPLY (4.2.8, 6.3) and create no state.
# v4 only: the octets do not depend on the family (010-080 cover v6).
. tests/lib/host.sh
host_init 300-conf-wire
host_realm alpha beta || exit 1

OPT="esp enc aes-128-cbc auth hmac-sha1"
NONOPT_A="esp enc aes-256-cbc auth hmac-sha2-256, esp enc aes-128-cbc auth hmac-sha1"

fsize() { stat -c %s "$1"; }

# chain FILE: the outer payload types in order, e.g. "1 7", and checks
# that the chain ends (KINK_DONE) exactly at Length - CksumLen after the
# 4-octet padding of the last payload; prints "bad" otherwise.
chain() {
	local f=$1 off=16 next len total ck end types=""
	total=$(be16 "$f" 2)
	ck=$(be16 "$f" 14)
	end=$(( total - ck ))
	next=$(octets "$f" 12 1)
	while [ "$next" != 0 ]; do
		[ $((off + 4)) -le "$end" ] || { echo bad; return; }
		types="$types $next"
		len=$(be16 "$f" $((off + 2)))
		[ "$len" -ge 4 ] || { echo bad; return; }
		next=$(octets "$f" "$off" 1)
		off=$(( off + ((len + 3) & ~3) ))
	done
	[ "$off" -eq "$end" ] || { echo "bad(end $off != $end)"; return; }
	echo "${types# }"
}

# hdr_ok NAME FILE TYPE ACKREQ: the header rules for an authenticated
# message of TYPE, ACKREQ 0 or 1
hdr_ok() {
	local c=$1 f=$2 t=$3 a=$4 len ck
	check "$c/saved" test -s "$f" || return
	check_eq "$c/type" "$(octets "$f" 0 1)" "$t"
	check_eq "$c/mjver1-resrved0" "$(octets "$f" 1 1)" 16
	check_eq "$c/doi1" "$(be32 "$f" 4)" 1
	len=$(be16 "$f" 2)
	ck=$(be16 "$f" 14)
	check_eq "$c/length-actual" "$len" "$(fsize "$f")"
	check "$c/cksum-present" test "$ck" -gt 0
	check_eq "$c/cksum-aligned" $(( (len - ck) % 4 )) 0
	check_eq "$c/reserved2-zero" $(( $(octets "$f" 13 1) & 127 )) 0
	check_eq "$c/ackreq" $(( $(octets "$f" 13 1) >> 7 )) "$a"
}

# cksum_ok NAME MSG CMD: MSG's Cksum verifies under the session key of
# CMD's AP-REQ (opened with beta's keytab): a checksum, not just a length
cksum_ok() {
	check "$1/cksum-valid" "$KINKCRAFT" cksum -f "$2" -q "$3" \
	    -k "$T/beta.keytab" -p "kink/beta.test@$HOST_REALM"
}

start_pair() {	# start_pair ALPHA-XFORMS BETA-XFORMS [ALPHA-PFS]
	stop_kinkd alpha
	stop_kinkd beta
	XFORMS=$1 PFS=${3:-none} VIA=1 write_conf alpha v4
	XFORMS=$2 VIA=1 write_conf beta v4
	start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf"
}

# --- optimistic CREATE, DELETE, STATUS ---------------------------------
DEADPEER=1s start_pair "$OPT" "$OPT" || { fail start "daemons did not start"; exit 1; }
relay_start v4 "save=$T/create.bin a2b CREATE 1" "save=$T/reply.bin b2a REPLY 1" \
    "save=$T/create2.bin a2b CREATE 2"
require opt/initiate ctl alpha initiate beta
require opt/beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
hdr_ok opt/create "$T/create.bin" 1 0
hdr_ok opt/reply "$T/reply.bin" 3 0
cksum_ok opt/create "$T/create.bin" "$T/create.bin"
cksum_ok opt/reply "$T/reply.bin" "$T/create.bin"
check_eq opt/create-chain "$(chain "$T/create.bin")" "1 7"
check_eq opt/reply-chain "$(chain "$T/reply.bin")" "2 7"
check_eq opt/reply-same-xid "$(be32 "$T/reply.bin" 8)" "$(be32 "$T/create.bin" 8)"
ep_a=$(be32 "$T/create.bin" 20)
ep_b=$(be32 "$T/reply.bin" 20)
check opt/epoch-nonzero test "$ep_a" -ne 0 -a "$ep_b" -ne 0

# a second CREATE: another XID, the same EPOCH
check opt/initiate-2 ctl alpha initiate beta
check opt/second-create-saved wait_until "$HOST_WAIT" test -s "$T/create2.bin"
check opt/xid-unique test "$(be32 "$T/create2.bin" 8)" -ne "$(be32 "$T/create.bin" 8)"
check_eq opt/epoch-stable "$(be32 "$T/create2.bin" 20)" "$ep_a"
# No ACK for the optimistic exchange: alpha would have sent it on the REPLY,
# before its second CREATE, and the relay forwards a2b in order; so once
# the relay has counted that CREATE, an ACK would be counted too.
check opt/create2-counted wait_until "$HOST_WAIT" is -ge 2 relay_stat a2b CREATE seen
check opt/no-ack-on-wire test "$(relay_stat a2b ACK seen)" -eq 0

# STATUS (dead-peer probe after 1 s of silence) and its REPLY
relay_rules "save=$T/status.bin a2b STATUS 1" "save=$T/sreply.bin b2a REPLY 1"
check status/sent wait_until "$HOST_WAIT" test -s "$T/sreply.bin"
hdr_ok status/status "$T/status.bin" 6 0
hdr_ok status/reply "$T/sreply.bin" 3 0
# the REPLY answers one of alpha's STATUS (the first saved REPLY may
# answer a STATUS sent just before the rules changed)
check status/reply-xid-of-a-status grep -q -E \
    "a2b STATUS len=[0-9]+ xid=$(printf '0x%08x' "$(be32 "$T/sreply.bin" 8)") " "$T/relay.log"
check_eq status/epoch-in-ap-req "$(be32 "$T/status.bin" 20)" "$ep_a"
check_eq status/epoch-in-ap-rep "$(be32 "$T/sreply.bin" 20)" "$ep_b"

# DELETE and its REPLY
# A STATUS probe's REPLY may cross the DELETE's: keep the first three b2a
# REPLYs and take the one that carries the DELETE's XID.
relay_rules "save=$T/delete.bin a2b DELETE 1" "save=$T/dreply1.bin b2a REPLY 1" \
    "save=$T/dreply2.bin b2a REPLY 2" "save=$T/dreply3.bin b2a REPLY 3"
reply_of_delete() {
	local f
	[ -s "$T/delete.bin" ] || return 1
	for f in "$T/dreply1.bin" "$T/dreply2.bin" "$T/dreply3.bin"; do
		[ -s "$f" ] && [ "$(be32 "$f" 8)" = "$(be32 "$T/delete.bin" 8)" ] &&
		    cp "$f" "$T/dreply.bin" && return 0
	done
	return 1
}
monitor_start alpha
spi=$(sa_lines alpha | awk '$2 == "out" { print $1; exit }')
check delete/exit ctl alpha delete sa "$spi"
check delete/reply-saved wait_until "$HOST_WAIT" reply_of_delete
hdr_ok delete/delete "$T/delete.bin" 2 0
hdr_ok delete/reply "$T/dreply.bin" 3 0
check_eq delete/delete-chain "$(chain "$T/delete.bin")" "1 7"
check_eq delete/reply-chain "$(chain "$T/dreply.bin")" "2 7"
check delete/beta-pair-gone wait_until "$HOST_WAIT" sa_count_is beta 2
# 3.3: the REPLY names beta's inbound SPI of the pair (one Delete SPI):
# the one alpha deleted its outbound SA for, as alpha decrypted it
check delete/reply-lists-responder-spi wait_event alpha xact-done \
    "$(printf '.*peer deleted 1 SPIs [(]0x%08x[)]' "$spi")"
# (checked only now: time spent between the STATUS and the DELETE rules
# would let another STATUS REPLY be the first one saved)
cksum_ok status/status "$T/status.bin" "$T/status.bin"
cksum_ok status/reply "$T/sreply.bin" "$T/status.bin"
cksum_ok delete/delete "$T/delete.bin" "$T/delete.bin"
cksum_ok delete/reply "$T/dreply.bin" "$T/delete.bin"
monitor_stop alpha

# --- DELETE of SPIs the responder does not have (3.3) -------------------
# beta's DELETEs never reach alpha: beta drops its pair, alpha keeps it;
# alpha's DELETE of that pair then names SPIs beta no longer has.
monitor_start alpha
monitor_start beta
relay_rules "drop b2a DELETE all"
check invspi/beta-flush ctl beta flush sa
check invspi/beta-empty wait_until "$HOST_WAIT" sa_count_is beta 0
check_eq invspi/alpha-kept "$(sa_count alpha)" 2
relay_rules
check invspi/alpha-flush ctl alpha flush sa
check invspi/beta-says-unknown wait_event beta xact-done '.*SPIs unknown'
check invspi/beta-unknown-nonzero sh -c "! grep '\"type\":\"xact-done\"' '$T/beta.mon' | grep -q ' 0 SPIs unknown'"
check invspi/alpha-sees-invalid-spi wait_event alpha xact-done '.*INVALID-SPI'
check invspi/alpha-inbound-gone wait_until "$HOST_WAIT" sa_count_is alpha 0
monitor_stop alpha
monitor_stop beta
relay_stop

# --- non-optimistic CREATE: ACKREQ and the ACK ------------------------
start_pair "$NONOPT_A" "$OPT" || { fail nonopt/start "daemons did not start"; exit 1; }
relay_start v4 "save=$T/ncreate.bin a2b CREATE 1" "save=$T/nreply.bin b2a REPLY 1" \
    "save=$T/nack.bin a2b ACK 1"
require nonopt/initiate ctl alpha initiate beta
require nonopt/beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
check nonopt/ack-saved wait_until "$HOST_WAIT" test -s "$T/nack.bin"
hdr_ok nonopt/create "$T/ncreate.bin" 1 0
hdr_ok nonopt/reply "$T/nreply.bin" 3 1
hdr_ok nonopt/ack "$T/nack.bin" 5 0
cksum_ok nonopt/create "$T/ncreate.bin" "$T/ncreate.bin"
cksum_ok nonopt/reply "$T/nreply.bin" "$T/ncreate.bin"
cksum_ok nonopt/ack "$T/nack.bin" "$T/nack.bin"
check_eq nonopt/ack-lone-ap-req "$(chain "$T/nack.bin")" "1"
check_eq nonopt/ack-same-xid "$(be32 "$T/nack.bin" 8)" "$(be32 "$T/ncreate.bin" 8)"
check nonopt/pairwise sa_pair_ok alpha beta
relay_stop

# --- a refused REPLY with ACKREQ still gets its ACK (3.2) ---------------
# "The initiator MUST always generate an ACK if the ACKREQ bit is set ...
# even if it believes that the responder was in error."  Two kinkd never
# produce an authenticated REPLY the other refuses, so alpha is told to
# refuse the next one as doi_init_reply would (inject refuse-reply); the
# REPLY is non-optimistic, so it has ACKREQ.  The ACK is on the wire and
# beta's R_ACKWAIT ends on it: one REPLY, no resends until give-up.
beta_ackwait() {
	jqctl beta '[.xact[] | select(.state == "R_ACKWAIT")] | length' show xact
}
start_pair "$NONOPT_A" "$OPT" || { fail refused/start "daemons did not start"; exit 1; }
relay_start v4 "save=$T/rcreate.bin a2b CREATE 1" "save=$T/rreply.bin b2a REPLY 1" \
    "save=$T/rack.bin a2b ACK 1"
monitor_start alpha
inject alpha refuse-reply
require refused/inject-read wait_until "$HOST_WAIT" test ! -e "$(sock_of alpha).inject"
ctl alpha initiate beta >/dev/null 2>&1
check refused/alpha-fails-acked wait_event alpha xact-fail '.*refuse-reply.*ACK sent'
check refused/ack-saved wait_until "$HOST_WAIT" test -s "$T/rack.bin"
hdr_ok refused/reply "$T/rreply.bin" 3 1
hdr_ok refused/ack "$T/rack.bin" 5 0
check_eq refused/ack-lone-ap-req "$(chain "$T/rack.bin")" "1"
check_eq refused/ack-same-xid "$(be32 "$T/rack.bin" 8)" "$(be32 "$T/rcreate.bin" 8)"
check refused/beta-ack-received wait_until "$HOST_WAIT" is -ge 1 stat_get beta ack_received
check refused/beta-ackwait-ended wait_until "$HOST_WAIT" is = 0 beta_ackwait
# HOST_RETRANS gives up after 3 sends; before the fix beta sent all 3
check refused/no-giveup is -lt 3 relay_stat b2a REPLY seen
check refused/beta-no-giveup-log sh -c "! grep -q 'no ACK after' '$T/beta.log'"
check refused/alpha-pair-removed wait_until "$HOST_WAIT" sa_count_is alpha 0
monitor_stop alpha
relay_stop

# --- ACKREQ on a DELETE REPLY gets its ACK too (3.2 "MUST always") -----
# Section 4 allows ACKREQ on CREATE REPLYs only and kinkd sets it nowhere
# else; beta is told to set it on its next DELETE REPLY (reply-ackreq).
start_pair "$OPT" "$OPT" || { fail delack/start "daemons did not start"; exit 1; }
relay_start v4 "save=$T/ddelete.bin a2b DELETE 1" "save=$T/ddreply.bin b2a REPLY 2" \
    "save=$T/dack.bin a2b ACK 1"
require delack/initiate ctl alpha initiate beta
require delack/beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
inject beta reply-ackreq
require delack/inject-read wait_until "$HOST_WAIT" test ! -e "$(sock_of beta).inject"
spi=$(sa_lines alpha | awk '$2 == "out" { print $1; exit }')
check delack/delete ctl alpha delete sa "$spi"
check delack/ack-saved wait_until "$HOST_WAIT" test -s "$T/dack.bin"
hdr_ok delack/reply "$T/ddreply.bin" 3 1
hdr_ok delack/ack "$T/dack.bin" 5 0
check_eq delack/ack-lone-ap-req "$(chain "$T/dack.bin")" "1"
check_eq delack/ack-same-xid "$(be32 "$T/dack.bin" 8)" "$(be32 "$T/ddelete.bin" 8)"
relay_stop

# --- QM version 2.0 inside KINK_ENCRYPT (12): KINK_BADQMVERS, with Cksum
# alpha's next CREATE carries Quick Mode version 2.0 in its (encrypted)
# KINK_ISAKMP (inject send-qmvers); beta decrypts it and answers a
# KINK_ERROR BADQMVERS REPLY under the session key, which alpha trusts.
start_pair "$OPT" "$OPT" || { fail encqm/start "daemons did not start"; exit 1; }
relay_start v4 "save=$T/qcreate.bin a2b CREATE 1" "save=$T/qreply.bin b2a REPLY 1"
inject alpha "send-qmvers 0x20"
require encqm/inject-read wait_until "$HOST_WAIT" test ! -e "$(sock_of alpha).inject"
ctl alpha initiate beta >/dev/null 2>&1 &
check encqm/reply-saved wait_until "$HOST_WAIT" test -s "$T/qreply.bin"
check_eq encqm/create-encrypted "$(chain "$T/qcreate.bin")" "1 7"
check_eq encqm/reply-xid "$(be32 "$T/qreply.bin" 8)" "$(be32 "$T/qcreate.bin" 8)"
check encqm/reply-cksum test "$(be16 "$T/qreply.bin" 14)" -gt 0
check_eq encqm/lone-kink-error "$(chain "$T/qreply.bin")" 8
check_eq encqm/error-code "$(be32 "$T/qreply.bin" 20)" 6
check encqm/alpha-trusts-it wait_until "$HOST_WAIT" grep -q \
    'error REPLY: KINK_ERROR KINK_BADQMVERS$' "$T/alpha.log"
check encqm/beta-logs-it grep -q 'inside KINK_ENCRYPT: .*answered KINK_ERROR KINK_BADQMVERS' "$T/beta.log"
check encqm/beta-no-sa test "$(sa_count beta)" -eq 0
relay_stop

# --- KE the responder does not do (3.2): INVALID-PAYLOAD-TYPE ----------
start_pair "$OPT" "$OPT" modp2048 || { fail ke/start "daemons did not start"; exit 1; }
relay_start v4
ctl alpha initiate beta > "$T/ke.out" 2> "$T/ke.err"
check_eq ke/initiate-fails $? 1
check ke/names-invalid-payload-type grep -q -i 'INVALID-PAYLOAD-TYPE\|notify 1)' "$T/ke.err"
check_eq ke/no-sa-alpha "$(sa_count alpha)" 0
check_eq ke/no-sa-beta "$(sa_count beta)" 0
relay_stop

# --- answers to unauthenticated input: lone KINK_ERROR, no state -------
# A private relay between kinkcraft and beta saves beta's answers (the
# answer still reaches kinkcraft, whose socket sent the datagram): so the
# error code can be read, not only the length.
CRAFT_AT=$(hostport 127.0.0.5 "$HOST_PORT")	# kinkcraft's socket
XR_A=$(hostport 127.0.0.6 "$HOST_PORT")		# relay side kinkcraft sends to
XR_B=$(hostport 127.0.0.7 "$HOST_PORT")		# relay side beta answers to
BETA=$(hostport "$(addr_of v4 beta)" "$HOST_PORT")
: > "$T/xrelay.rules"
"$UDPRELAY" -a "$XR_A" -A "$CRAFT_AT" -b "$XR_B" -B "$BETA" \
    -R "$T/xrelay.rules" -l "$T/xrelay.log" -S "$T/xrelay.stats" \
    -p "$T/xrelay.pid" 2>>"$T/xrelay.log" &
HOST_BG="$HOST_BG $!"
wait_until "$HOST_WAIT" test -s "$T/xrelay.pid"

# craft NAME HEX COUNTER CODE: HEX goes to beta; its answer must be a
# REPLY with the same XID, no Cksum, only a KINK_ERROR payload with CODE,
# COUNTER of beta must go up, and beta must keep no transaction for it.
n_craft=0
craft() {
	local c=$1 x0 s0 d0 f
	n_craft=$((n_craft + 1))
	f=$T/err$n_craft.bin
	printf 'save=%s b2a REPLY 1\n' "$f" > "$T/xrelay.rules"
	before=$(grep -c '^rules ' "$T/xrelay.log")
	kill -HUP "$(cat "$T/xrelay.pid")"
	wait_until "$HOST_WAIT" is -gt "$before" grep -c '^rules ' "$T/xrelay.log"
	x0=$(xact_count beta)
	s0=$(stat_get beta errors_sent)
	d0=$(stat_get beta "$3")
	"$KINKCRAFT" send -t "$XR_A" -b "$CRAFT_AT" -w 2000 -x "$2" \
	    > "$T/craft.out" 2>&1
	check "$c/answered" grep -q '^recv REPLY ' "$T/craft.out"
	check "$c/saved" test -s "$f" || return
	check_eq "$c/reply-xid" "$(be32 "$f" 8)" "$(printf '%d' 0x00c0ff33)"
	check_eq "$c/unauthenticated" "$(be16 "$f" 14)" 0
	check_eq "$c/lone-kink-error" "$(chain "$f")" 8
	check_eq "$c/error-code" "$(be32 "$f" 20)" "$4"
	check "$c/errors-sent" wait_until "$HOST_WAIT" is -gt "$s0" stat_get beta errors_sent
	check "$c/$3" wait_until "$HOST_WAIT" is -gt "$d0" stat_get beta "$3"
	# (-le: a cached REPLY of an earlier exchange may age out meanwhile)
	check "$c/no-new-xact" test "$(xact_count beta)" -le "$x0"
	check "$c/beta-alive" daemon_ready beta
}
# A STATUS header alone: Type 6, MjVer|RESRVED, Length 16, DOI, XID
# 0x00c0ff33, no payload, no Cksum.  KINK_ERROR codes (4.2.8): 1
# PROTOERR, 2 INVDOI, 3 INVMAJ, 6 BADQMVERS.
craft bad-majver 0620001000000001""00c0ff3300000000 drop_parse 3
craft bad-doi 0610001000000002""00c0ff3300000000 drop_parse 2
# the RESRVED nibble set is ignored (4): the header parses, and the
# message is answered as what it is, a STATUS without AP_REQ (PROTOERR),
# counted as unauthenticated, not as malformed
p0=$(stat_get beta drop_parse)
craft resrved-ignored 061f001000000001""00c0ff3300000000 drop_unauth 1
check_eq resrved-ignored/not-malformed "$(stat_get beta drop_parse)" "$p0"
# a KINK_ISAKMP payload with Quick Mode version 2.0 (12: KINK_BADQMVERS)
craft bad-qmvers 0610001800000001""00c0ff3306000000""00000008""01200000 \
    drop_parse 6
# an ACK is never answered (no error ping-pong): nothing comes back
"$KINKCRAFT" send -t "$BETA" -b "$(hostport 127.0.0.5 0)" -w 500 \
    -x 0520001000000001""00c0ff3300000000 > "$T/craft.out" 2>&1
check_eq bad-ack/not-answered "$(grep -c '^recv ' "$T/craft.out")" 0

# 4.2.8 / 10: answers to unauthenticated commands are rate-limited
# (kinkd answers at most 20 a second): 200 bad commands as fast as
# kinkcraft sends them get far fewer answers.  The bound is counted per
# elapsed second, so a slow machine only raises it.
u0=$(stat_get beta drop_unauth)
t0=$(date +%s)
"$KINKCRAFT" send -t "$BETA" -b "$(hostport 127.0.0.5 0)" -n 200 -w 1000 \
    -x 0620001000000001""00c0ff3300000000 > "$T/flood.out" 2>&1
t1=$(date +%s)
got=$(grep -c '^recv REPLY' "$T/flood.out")
check flood/some-answered test "$got" -ge 1
check flood/rate-limited test "$got" -le $(( 20 * (t1 - t0 + 2) ))
check flood/fewer-than-sent test "$got" -lt 200
check flood/refusals-counted test "$(stat_get beta drop_unauth)" -gt "$u0"
check flood/beta-alive daemon_ready beta

kill "$(cat "$T/xrelay.pid")" 2>/dev/null
stop_kinkd alpha
stop_kinkd beta
