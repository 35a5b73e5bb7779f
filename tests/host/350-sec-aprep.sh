#!/bin/bash
# RFC 4430 4.2.2 (and 4.2.1, mutual authentication): the initiator checks
# the AP-REP of a REPLY for freshness; a REPLY whose Cksum is correct
# under the session key but whose AP-REP is not this exchange's is
# dropped, counted, and installs nothing.  A valid Cksum alone proves
# only that the sender holds the session key, not that it answers this
# exchange.
# The relay withholds beta's REPLY to alpha's second CREATE and saves it
# and the CREATE.  kinkcraft, as beta (its keytab), opens the CREATE's
# AP-REQ to learn the session key and sends alpha that REPLY re-signed
# with a correct Cksum but
#  - garbage/: random octets for the AP-REP;
#  - stale/:   the AP-REP of the first exchange (same ticket, same session
#              key: it decrypts, but answers another authenticator).
# alpha counts each in drop_krb, keeps its SAs and keeps retransmitting;
# once the relay lets beta's genuine REPLY through, the CREATE completes
# and the SAs agree.  That kinkcraft's Cksum is correct is what
# 355-sec-ackreq's resigned/ checks show (alpha accepts such a REPLY).
# v4 only (the logic has no family).
# alpha waits long enough for the forged REPLYs on a loaded machine
HOST_RETRANS="2s max 2s tries 15"
. tests/lib/host.sh
host_init 350-sec-aprep
host_realm alpha beta || exit 1

BETA_P="kink/beta.test@$HOST_REALM"
ALPHA=$(hostport "$(addr_of v4 alpha)" "$HOST_PORT")
FROM=$(hostport 127.0.0.5 0)

VIA=1 host_pair v4 || { fail start "daemons did not start"; exit 1; }
relay_start v4 "save=$T/stale.bin b2a REPLY 1"
require initiate-1 ctl alpha initiate beta
require beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
require stale-saved test -s "$T/stale.bin"

relay_rules "save=$T/create.bin a2b CREATE 1" \
    "save=$T/reply.bin b2a REPLY 1" "drop b2a REPLY all"
monitor_start alpha
initiate_bg "$T/initiate.out"
require reply-saved wait_until "$HOST_WAIT" test -s "$T/reply.bin"
require create-saved test -s "$T/create.bin"
# beta answered (optimistic, no ACKREQ): its side of the new pair is in
require beta-4-sas wait_until "$HOST_WAIT" sa_count_is beta 4
# alpha's optimistic inbound SA may be in already; nothing more may come
wait_spis=$(spis alpha)
adds0=$(event_count alpha sa-add)


# craft NAME [kinkcraft reply options]: beta's withheld REPLY re-signed
craft() {
	local n=$1
	shift
	"$KINKCRAFT" reply -t "$ALPHA" -b "$FROM" -f "$T/reply.bin" \
	    -q "$T/create.bin" -k "$T/beta.keytab" -p "$BETA_P" \
	    -o "$T/$n.bin" "$@" > "$T/$n.out" 2>&1
	check "$n/sent" test $? -eq 0
}

n=0
for v in garbage stale; do
	krb0=$(stat_get alpha drop_krb)
	ck0=$(stat_get alpha drop_cksum)
	case $v in
	garbage) craft garbage -g ;;
	stale) craft stale -r "$T/stale.bin" ;;
	esac
	n=$((n + 1))
	check_eq "$v/same-xid" "$(xid_of "$T/$v.bin")" "$(xid_of "$T/reply.bin")"
	check "$v/dropped-drop_krb" wait_until "$HOST_WAIT" \
	    is -eq $((krb0 + 1)) stat_get alpha drop_krb
	check_eq "$v/not-a-cksum-drop" "$(stat_get alpha drop_cksum)" "$ck0"
	check_eq "$v/no-sa" "$(spis alpha)" "$wait_spis"
	check_eq "$v/no-sa-added" "$(event_count alpha sa-add)" "$adds0"
	check_eq "$v/not-done" "$(event_count alpha xact-done)" 0
	check "$v/still-waiting" kill -0 "$ini"
done

# beta's own REPLY through: the exchange completes on it
relay_rules
wait "$ini"
check_eq genuine/create-completes $? 0
check genuine/four-sas wait_until "$HOST_WAIT" sa_count_is alpha 4
check genuine/pairwise sa_pair_ok alpha beta
check genuine/drop_krb-unchanged test "$(stat_get alpha drop_krb)" -eq "$((krb0 + 1))"

monitor_stop alpha
relay_stop
stop_kinkd alpha
stop_kinkd beta
