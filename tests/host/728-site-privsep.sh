#!/bin/bash
# Range peers under privilege separation (issues 13 + 14): both daemons run
# with -P, so every SA and SPD entry goes through the broker, which checks
# it against its own reading of the range peer (docs/arch/privsep.md).
# Both ways, v4 and v6: the range's SPD entries are installed at start,
# `kinkctl initiate ADDRESS` makes a learned peer and a CREATE installs a
# pair on both sides, with no refusal; then an SA under the range policy's
# reqid towards an address outside the range is refused by the broker with
# its reason, and nothing established is lost.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 728-site-privsep

H1=h-127-0-0-1 H2=h-127-0-0-2 H6A=h-fd6b-696e-6b--a H6B=h-fd6b-696e-6b--b
host_realm $H1 $H2 $H6A $H6B || exit 1

# site_conf NAME ME PRINC: the same file for every host but these
site_conf() {
	cat > "$T/$1.conf" <<EOF2
set principal "kink/$3.test@$HOST_REALM"
set keytab "$T/$3.keytab"
set port $HOST_PORT
set backend null
set retransmit $HOST_RETRANS
listen on $2 port $HOST_PORT
peer "site" {
	addresses 127.0.0.0/24 fd6b:696e:6b::/64
	principal "kink/%{host}@$HOST_REALM"
	find pattern "h-%{addr}.test"
	esp transport from me to peer transforms { esp enc aes-128-cbc auth hmac-sha1 }
}
EOF2
}

learned_count() {
	ctlj "$1" show peers 2>/dev/null |
	    jq '[.peers[] | select(.learned != null)] | length' 2>/dev/null
}
engine_of() { pgrep -P "$(cat "$T/$1.pid")" | head -n 1; }
refusals() { cat "$T/alpha.log" "$T/beta.log" | grep -c "broker refused"; }

for fam in v4 v6; do
	if [ $fam = v4 ]; then a=127.0.0.1 b=127.0.0.2 ha=$H1 hb=$H2
	else a=fd6b:696e:6b::a b=fd6b:696e:6b::b ha=$H6A hb=$H6B; fi
	site_conf alpha $a $ha
	site_conf beta $b $hb
	require "$fam/start" start_kinkd alpha "$T/alpha.conf" -P &&
	    require "$fam/start-beta" start_kinkd beta "$T/beta.conf" -P
	check "$fam/engine-is-a-child" test -n "$(engine_of alpha)"
	check "$fam/sandboxed" grep -q "privsep: engine sandboxed" "$T/alpha.log"
	check_eq "$fam/initiate" "$(ctl_rc alpha initiate $b)" 0
	check "$fam/alpha-2-sas" wait_until "$HOST_WAIT" sa_count_is alpha 2
	check "$fam/beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$fam/sa-pairwise-equal" sa_pair_ok alpha beta
	check_eq "$fam/reverse-initiate" "$(ctl_rc beta initiate $a)" 0
	check "$fam/reverse-4-sas" wait_until "$HOST_WAIT" sa_count_is alpha 4
	check "$fam/reverse-beta-4-sas" wait_until "$HOST_WAIT" sa_count_is beta 4
	check_eq "$fam/one-learned-each" \
	    "$(learned_count alpha) $(learned_count beta)" "1 1"
	# the SPD entries of the range and every SA went through: no refusal
	check_eq "$fam/nothing-refused" "$(refusals)" 0
	# under the range policy's reqid, towards 203.0.113.2 (no range's)
	inject alpha privsep-sa
	check "$fam/outside-refused" wait_until "$HOST_WAIT" grep -q \
	    "privsep: broker refused ADD from the engine: SA spi 0x7e570001 reqid [0-9]*: remote address outside the range peer's addresses" \
	    "$T/alpha.log"
	check "$fam/engine-told" wait_until "$HOST_WAIT" grep -q \
	    "sadb add foreign SA: Operation not permitted" "$T/alpha.log"
	check_eq "$fam/still-4-sas" "$(sa_count alpha)" 4
	check "$fam/engine-alive" kill -0 "$(engine_of alpha)"
	stop_kinkd alpha
	stop_kinkd beta
done
