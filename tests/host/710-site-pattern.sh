#!/bin/bash
# Range peers with the pattern mode (issue 14): one kinkd.conf for every
# host, only `set principal` and `listen` differ.  Both ways, v4 and v6:
# `kinkctl initiate ADDRESS` finds the peer's principal from the address,
# the responder accepts the CREATE only after the client's principal is
# confirmed for the source address; both sides show a learned peer.  Then:
# a valid principal of the realm claiming another host's address is
# refused with a log line saying why; a listed peer keeps precedence over
# the range; the cap; idle expiry; a reload that changes the range; the
# shipped example starts under privilege separation (-P).
. tests/lib/host.sh
host_init 710-site-pattern

# host names from the address: h-127-0-0-1.test, h-fd6b-696e-6b--a.test
H1=h-127-0-0-1 H2=h-127-0-0-2 H5=h-127-0-0-5 H9=h-127-0-0-9
H6A=h-fd6b-696e-6b--a H6B=h-fd6b-696e-6b--b
host_realm $H1 $H2 $H5 $H9 $H6A $H6B || exit 1
cp "$T/$H1.keytab" "$T/alpha.keytab"

# site_conf NAME ME PRINC [EXTRA]: the same file for every host
site_conf() {
	cat > "$T/$1.conf" <<EOF
set principal "kink/$3.test@$HOST_REALM"
set keytab "$T/$3.keytab"
set port $HOST_PORT
set backend null
set retransmit $HOST_RETRANS
set reply-cache 5s
set delete-grace 1s
listen on $2 port $HOST_PORT
${4:-}
peer "site" {
	addresses ${RANGES:-127.0.0.0/24 fd6b:696e:6b::/64}
	principal "kink/%{host}@$HOST_REALM"
	find pattern "h-%{addr}.test"
	esp transport from me to peer transforms { esp enc aes-128-cbc auth hmac-sha1 }
}
${LISTED:-}
EOF
}

peer_json() {	# peer_json NAME PEERNAME -> the peer's JSON object
	ctlj "$1" show peers 2>/dev/null |
	    jq -c --arg n "$2" '.peers[] | select(.name == $n)' 2>/dev/null
}
learned_count() {
	ctlj "$1" show peers 2>/dev/null |
	    jq '[.peers[] | select(.learned != null)] | length' 2>/dev/null
}
learned_is() { [ "$(learned_count "$1")" = "$2" ]; }

for fam in v4 v6; do
	if [ $fam = v4 ]; then a=127.0.0.1 b=127.0.0.2 ha=$H1 hb=$H2
	else a=fd6b:696e:6b::a b=fd6b:696e:6b::b ha=$H6A hb=$H6B; fi
	site_conf alpha $a $ha
	site_conf beta $b $hb
	require "$fam/start" start_kinkd alpha "$T/alpha.conf" &&
	    require "$fam/start-beta" start_kinkd beta "$T/beta.conf"
	check_eq "$fam/no-peer-before" "$(learned_count alpha)" 0
	ctl alpha initiate $b > "$T/init.out" 2>&1
	check_eq "$fam/initiate-address" $? 0
	check "$fam/alpha-2-sas" wait_until "$HOST_WAIT" sa_count_is alpha 2
	check "$fam/beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$fam/sa-pairwise-equal" sa_pair_ok alpha beta
	j=$(peer_json alpha "site/$b")
	check_eq "$fam/alpha-learned-principal" "$(jq -r .principal <<<"$j")" \
	    "kink/$hb.test@$HOST_REALM"
	check_eq "$fam/alpha-learned-how" "$(jq -r .learned.how <<<"$j")" pattern
	check_eq "$fam/alpha-learned-range" "$(jq -r .learned.range <<<"$j")" site
	check_eq "$fam/alpha-learned-addr" "$(jq -r '.addresses[0]' <<<"$j")" "$b"
	j=$(peer_json beta "site/$a")
	check_eq "$fam/beta-learned-principal" "$(jq -r .principal <<<"$j")" \
	    "kink/$ha.test@$HOST_REALM"
	check "$fam/text-learned" grep -q "learned from range peer site, confirmed by pattern" \
	    <(ctl alpha show peers)
	# the other way: the learned peer is reused, no second one
	ctl beta initiate $a > "$T/init2.out" 2>&1
	check_eq "$fam/reverse-initiate" $? 0
	check "$fam/reverse-4-sas" wait_until "$HOST_WAIT" sa_count_is alpha 4
	check_eq "$fam/one-learned-each" "$(learned_count alpha) $(learned_count beta)" "1 1"
	# an address in no range: a clear error, nothing made
	check_eq "$fam/out-of-range" "$(ctl_rc alpha initiate 192.0.2.77)" 1
	stop_kinkd alpha
	stop_kinkd beta
done

# --- a realm principal claiming another host's address ------------------
# gamma at 127.0.0.5 holds kink/h-127-0-0-9 (a valid principal of the realm,
# whose host is 127.0.0.9) and lists beta as an ordinary peer.
site_conf beta 127.0.0.2 $H2 "set max-learned-peers 2"
require claim/start start_kinkd beta "$T/beta.conf"
cat > "$T/gamma.conf" <<EOF
set principal "kink/$H9.test@$HOST_REALM"
set keytab "$T/$H9.keytab"
set port $HOST_PORT
set backend null
set retransmit 1s max 1s tries 2
listen on 127.0.0.5 port $HOST_PORT
peer "beta" {
	principal "kink/$H2.test@$HOST_REALM"
	address 127.0.0.2
	esp transport from 127.0.0.5 to 127.0.0.2 transforms { esp enc aes-128-cbc auth hmac-sha1 }
}
EOF
require claim/start-gamma start_kinkd gamma "$T/gamma.conf"
check_eq claim/initiate-fails "$(ctl_rc gamma initiate beta)" 1
check claim/refusal-logged wait_until "$HOST_WAIT" grep -q \
    "CREATE from 127.0.0.5, principal kink/$H9.test@$HOST_REALM: refused, the principal is not bound to that address" \
    "$T/beta.log"
check_eq claim/nothing-created "$(learned_count beta) $(sa_count beta)" "0 0"
stop_kinkd gamma

# --- listed peers first; the cap ----------------------------------------
# gamma again, now as h-127-0-0-5 (bound to its address): accepted
sed -i "s/$H9/$H5/g" "$T/gamma.conf"
require cap/start-gamma start_kinkd gamma "$T/gamma.conf"
check_eq cap/gamma-accepted "$(ctl_rc gamma initiate beta)" 0
site_conf alpha 127.0.0.1 $H1
require cap/start-alpha start_kinkd alpha "$T/alpha.conf"
check_eq cap/alpha-accepted "$(ctl_rc alpha initiate 127.0.0.2)" 0
check_eq cap/two-learned "$(learned_count beta)" 2
check cap/four-sas wait_until "$HOST_WAIT" sa_count_is beta 4
# a third host: refused at the cap, the others unaffected
sed -i -e "s/$H5/$H9/g" -e "s/127.0.0.5/127.0.0.9/g" "$T/gamma.conf"
cp "$T/gamma.conf" "$T/delta.conf"
require cap/start-delta start_kinkd delta "$T/delta.conf"
check_eq cap/third-refused "$(ctl_rc delta initiate beta)" 1
check cap/refusal-logged grep -q "refused, max-learned-peers (2) reached; nothing created" \
    "$T/beta.log"
check_eq cap/others-unaffected "$(learned_count beta) $(sa_count beta)" "2 4"
stop_kinkd delta
stop_kinkd gamma

# --- reload: range narrowed but still covering alpha, then moved away ---
RANGES="127.0.0.0/30" site_conf beta 127.0.0.2 $H2 "set max-learned-peers 2"
ctl beta reload > "$T/reload.out" 2>&1
check_eq reload/narrowed-ok $? 0
check reload/alpha-kept test -n "$(peer_json beta site/127.0.0.1)"
check_eq reload/gamma-gone "$(peer_json beta site/127.0.0.5)" ""
check reload/alpha-sas-kept wait_until "$HOST_WAIT" sa_count_is beta 2
# a listed peer for alpha's address takes precedence over the range
LISTED="peer \"alpha\" {
	principal \"kink/$H1.test@$HOST_REALM\"
	address 127.0.0.1
	esp transport from 127.0.0.2 to 127.0.0.1 transforms { esp enc aes-128-cbc auth hmac-sha1 }
}" site_conf beta 127.0.0.2 $H2
ctl beta reload > "$T/reload2.out" 2>&1
check_eq reload/listed-ok $? 0
check_eq reload/learned-replaced "$(learned_count beta)" 0
check_eq reload/listed-peer "$(peer_json beta alpha | jq -r .learned)" null
stop_kinkd beta

# --- idle expiry: a learned peer without SAs is forgotten ---------------
site_conf beta 127.0.0.2 $H2 "set learned-idle 2s"
require idle/start start_kinkd beta "$T/beta.conf"
monitor_start beta
check_eq idle/initiate "$(ctl_rc alpha initiate 127.0.0.2)" 0
check idle/learned wait_until "$HOST_WAIT" learned_is beta 1
# monitor events name the learned peer, then why it was forgotten
check idle/event-learned wait_event beta peer-learned "principal kink/$H1.test@$HOST_REALM \\(pattern\\)"
check_eq idle/event-learned-peer "$(grep '"type":"peer-learned"' "$T/beta.mon" | jq -r .peer)" site/127.0.0.1
check_eq idle/kept-with-sas "$(sleep 3; learned_count beta)" 1
ctl beta flush sa > "$T/flush.out" 2>&1
check idle/forgotten wait_until "$HOST_WAIT" learned_is beta 0
check idle/logged grep -q "learned peer idle for 2000 ms without SAs, forgotten" "$T/beta.log"
check idle/event-forgotten wait_event beta peer-forgotten "learned peer idle"
# --- a kernel ACQUIRE for the range policy: the host is found from the
# destination and a CREATE runs
reqid=$("$KINKD" -n -v -f "$T/beta.conf" 2>/dev/null | awk '/from me to peer/ { p = 1 } p && /reqid/ { print $NF; exit }')
check acquire/read inject beta "acquire $reqid 127.0.0.1"
check acquire/learned wait_until "$HOST_WAIT" learned_is beta 1
check acquire/beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
check acquire/alpha-2-sas wait_until "$HOST_WAIT" sa_count_is alpha 2
stop_kinkd alpha
stop_kinkd beta

# --- the shipped one-file-for-every-host example loads -------------------
{ echo "set principal \"kink/$H1.test@$HOST_REALM\""
  echo "set keytab \"$T/$H1.keytab\""
  cat "$HOST_TOP/etc/kinkd-site.conf"; } > "$T/site-example.conf"
check example-conf "$KINKD" -n -f "$T/site-example.conf"
# privilege separation takes range peers (the broker's check: host 728)
{ echo "set backend null"; echo "set port $HOST_PORT"
  cat "$T/site-example.conf"; } > "$T/site-privsep.conf"
require privsep/starts start_kinkd pex "$T/site-privsep.conf" -P
check privsep/sandboxed grep -q "privsep: engine sandboxed" "$T/pex.log"
check_eq privsep/nothing-refused "$(grep -c "broker refused" "$T/pex.log")" 0
stop_kinkd pex
