#!/bin/bash
# Cross-realm (issue 15; kinkd.conf(5) "Cross-realm peers"): two MIT
# realms, KINK.TEST (alpha) and OTHER.TEST (beta), with a two-way trust
# (krbtgt/OTHER.TEST@KINK.TEST and krbtgt/KINK.TEST@OTHER.TEST, the same
# keys in both KDCs).  Each kinkd names its peer by the peer's principal
# with the peer's realm; CREATE both ways and DELETE work, the KEYMAT of
# both sides equal.  The responder accepts a ticket's client only when its
# whole name, realm included, is a configured peer's principal: refused
# are a principal of the trusted realm no peer names
# (kink/mallory.test@KINK.TEST), the peer's name in the wrong realm
# (kink/alpha.test@OTHER.TEST), and a name with a terminal escape in it,
# which beta's log shows escaped.
. tests/lib/host.sh
host_init 610-cross-realm
RB=OTHER.TEST
EVIL=$(printf 'kink/ev\033[31mil.test')
EVIL_SHOWN='kink/ev\\033\[31mil\.test'

REALM_NO_TRAP=1
. tests/lib/realm.sh
REALM_STARTED=1
trust_pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

# realm A (KINK.TEST): alpha, mallory, evil, and both trust principals
REALM=$HOST_REALM
realm_start "$T/realmA" > "$T/realm.out" 2>&1 || { fail realm-a "$(tail -n 3 "$T/realm.out")"; exit 1; }
HOST_BG="$HOST_BG $REALM_KDC_PID"	# host_cleanup stops it
PORT_A=$REALM_PORT
ok=1
for p in alpha mallory; do
	realm_addprinc "kink/$p.test" >> "$T/realm.out" 2>&1 &&
	    realm_ktadd "kink/$p.test" "$T/$p.keytab" >> "$T/realm.out" 2>&1 || ok=0
done
# (realm_addprinc's check greps the name: this one is no regex)
realm_kadmin "addprinc -randkey $EVIL@$HOST_REALM" &&
    realm_ktadd "$EVIL" "$T/evil.keytab" >> "$T/realm.out" 2>&1 || ok=0
for t in "krbtgt/$RB@$HOST_REALM" "krbtgt/$HOST_REALM@$RB"; do
	realm_kadmin "addprinc -pw $trust_pw -e aes256-cts-hmac-sha1-96:normal $t" || ok=0
done
require realm-a test "$ok" = 1

# realm B (OTHER.TEST): beta, alpha's namesake, the same trust keys
REALM_KDC_PID=
REALM=$RB
realm_start "$T/realmB" >> "$T/realm.out" 2>&1 || { fail realm-b "$(tail -n 3 "$T/realm.out")"; exit 1; }
PORT_B=$REALM_PORT
for p in beta alpha; do
	realm_addprinc "kink/$p.test" >> "$T/realm.out" 2>&1 &&
	    realm_ktadd "kink/$p.test" "$T/$p-b.keytab" >> "$T/realm.out" 2>&1 || ok=0
done
for t in "krbtgt/$RB@$HOST_REALM" "krbtgt/$HOST_REALM@$RB"; do
	realm_kadmin "addprinc -pw $trust_pw -e aes256-cts-hmac-sha1-96:normal $t" || ok=0
done
require realm-b test "$ok" = 1
mv "$T/beta-b.keytab" "$T/beta.keytab"

# One krb5.conf for both daemons, knowing both KDCs (as a site's would).
sed "s|^ $RB = {|&\n  kdc = 127.0.0.1:$PORT_B\n }\n $HOST_REALM = {\n  kdc = 127.0.0.1:$PORT_A|" \
    "$T/realmB/krb5.conf" | awk '!(/kdc = 127.0.0.1:'"$PORT_B"'/ && seen++)' > "$T/krb5.conf"
export KRB5_CONFIG=$T/krb5.conf
require krb5-conf-both-realms test "$(grep -c 'kdc = 127.0.0.1:' "$T/krb5.conf")" = 2

# alpha (KINK.TEST) and beta (OTHER.TEST), each naming the other with its realm
VIA=1 write_conf alpha v4 && VIA=1 write_conf beta v4
sed -i "s|\"kink/beta.test@$HOST_REALM\"|\"kink/beta.test@$RB\"|" "$T/alpha.conf"
sed -i "s|\"kink/beta.test@$HOST_REALM\"|\"kink/beta.test@$RB\"|" "$T/beta.conf"
require start-alpha start_kinkd alpha "$T/alpha.conf"
require start-beta start_kinkd beta "$T/beta.conf"
relay_start v4 "save=$T/create.bin a2b CREATE 1"

check create-a-to-b ctl alpha -q initiate beta
check create-a-to-b-sas wait_until "$HOST_WAIT" sa_count_is beta 2
check create-b-to-a ctl beta -q initiate alpha
check create-b-to-a-sas wait_until "$HOST_WAIT" sa_count_is alpha 4
check keymat-equal sa_pair_ok alpha beta
check beta-saw-foreign-client grep -q "AP-REQ from kink/alpha.test@$HOST_REALM verified" "$T/beta.log"
check alpha-saw-foreign-client grep -q "AP-REQ from kink/beta.test@$RB verified" "$T/alpha.log"
# the cross-realm path: alpha's KDC issued the referral TGT, beta's the ticket
check kdc-a-issued-cross-tgt grep -q "for krbtgt/$RB@$HOST_REALM" "$T/realmA/kdc.log"
check kdc-b-issued-ticket grep -q "kink/alpha.test@$HOST_REALM for kink/beta.test@$RB" "$T/realmB/kdc.log"
check flush ctl alpha -q flush sa
check flush-beta-empty wait_until "$HOST_WAIT" sa_count_is beta 0
stop_kinkd alpha

# refused_as NAME PRINCIPAL KEYTAB: a kinkd at alpha's address under
# PRINCIPAL initiates to beta; beta must drop it as not a configured peer
# (no SA on either side) and log why.  The initiator gives up quickly.
refused_as() {
	local c=$1 before
	sed -e "s|^set principal .*|set principal \"$2\"|" \
	    -e "s|^set keytab .*|set keytab \"$3\"|" \
	    -e "s|^set retransmit .*|set retransmit 300ms max 300ms tries 2|" \
	    "$T/alpha.conf" > "$T/$c.conf"
	if ! start_kinkd alpha "$T/$c.conf"; then
		fail "$c/start" "kinkd as $2 did not start"
		return
	fi
	before=$(stat_get beta drop_nopeer)
	check_eq "$c/initiate-fails" "$(ctl_rc alpha initiate beta)" 1
	check "$c/beta-dropped" test "$(stat_get beta drop_nopeer)" -gt "$before"
	check_eq "$c/no-sa-beta" "$(sa_count beta)" 0
	check_eq "$c/no-sa-alpha" "$(sa_count alpha)" 0
	stop_kinkd alpha
}

refused_as mallory "kink/mallory.test@$HOST_REALM" "$T/mallory.keytab"
check mallory/log-says-why grep -q \
    "principal kink/mallory.test@$HOST_REALM is not a configured peer" "$T/beta.log"
refused_as wrong-realm "kink/alpha.test@$RB" "$T/alpha-b.keytab"
check wrong-realm/log-says-why grep -q \
    "principal kink/alpha.test@$RB is not a configured peer" "$T/beta.log"
# A name with a terminal escape: kinkd.conf cannot even hold it, so
# kinkcraft sends alpha's saved CREATE to beta under that principal (a
# real cross-realm ticket, a fresh AP-REQ, valid in every respect but the
# sender's name).
BETA_P="kink/beta.test@$RB"
nop0=$(stat_get beta drop_nopeer)
"$KINKCRAFT" author -t "$(hostport "$(addr_of v4 beta)" "$HOST_PORT")" \
    -b "$(hostport 127.0.0.5 0)" -f "$T/create.bin" -k "$T/evil.keytab" \
    -p "$EVIL@$HOST_REALM" -S "$BETA_P" -K "$T/beta.keytab" -P "$BETA_P" \
    -w 1000 > "$T/evil.out" 2>&1
check_eq escaped/sent $? 0
check escaped/beta-dropped wait_until "$HOST_WAIT" \
    is -gt "$nop0" stat_get beta drop_nopeer
check_eq escaped/no-answer "$(grep -c '^recv ' "$T/evil.out")" 0
check escaped/log-escaped grep -q \
    "principal $EVIL_SHOWN@$HOST_REALM is not a configured peer" "$T/beta.log"
check escaped/no-raw-escape-in-log test "$(grep -c "$(printf '\033')" "$T/beta.log")" = 0
check_eq escaped/no-sa-beta "$(sa_count beta)" 0
