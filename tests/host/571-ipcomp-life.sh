#!/bin/bash
# The IPComp SAs live and die with their ESP pair (null backend, v4):
#  - rekey (soft expiry of the ESP SA): the new pair brings new CPIs,
#    crossed as before, and the old IPComp SAs go with the old pair;
#  - hard expiry of the ESP SA: the DELETE takes the IPComp SAs along on
#    both sides;
#  - kinkctl delete sa of the ESP SA: the same;
#  - reconcile: an IPComp SA the kernel lost is reported like an ESP one
#    and renegotiated; one of kinkd's reqid that no record owns is removed;
#  - a reload that takes ipcomp out of the policy deletes the pair on both
#    sides, and the next CREATE is ESP alone.
. tests/lib/host.sh
host_init 571-ipcomp-life
host_realm alpha beta || exit 1

ZIP="esp enc aes-128-cbc auth hmac-sha1 ipcomp deflate"

field() {	# field NAME PROTO DIR KEY
	jqctl "$1" ".sa[] | select(.proto == \"$2\" and .dir == \"$3\" and .state == \"mature\") | .$4" show sa
}
ipcomp_count() {	# ipcomp_count NAME
	jqctl "$1" '[.sa[] | select(.proto == "ipcomp")] | length' show sa
}
mature_is() {	# mature_is NAME N
	[ "$(jqctl "$1" '[.sa[] | select(.state == "mature")] | length' show sa)" = "$2" ]
}
crossed() {	# the IPComp and ESP SPIs agree across alpha and beta
	[ -n "$(field alpha ipcomp out spi)" ] &&
	[ "$(field alpha ipcomp out spi)" = "$(field beta ipcomp in spi)" ] &&
	[ "$(field beta ipcomp out spi)" = "$(field alpha ipcomp in spi)" ] &&
	[ "$(field alpha esp out spi)" = "$(field beta esp in spi)" ]
}
settled() {	# settled N: N SAs on each side, all mature
	sa_count_is alpha "$1" && sa_count_is beta "$1" && mature_is alpha "$1" &&
	    mature_is beta "$1"
}
stat_of() {	# stat_of FILE NAME: the value kinkctl -j printed
	jq -r ".stats.$2 // .$2 // empty" "$1" 2>/dev/null
}

XFORMS=$ZIP EXTRA="set reconcile 0" host_pair v4 ||
    { fail start "daemons did not start"; exit 1; }
reqid=$("$KINKD" -nv -f "$T/alpha.conf" | awk '/reqid/ {
    for (i = 1; i < NF; i++) if ($i == "reqid") { print $(i + 1); exit } }')
require create ctl alpha initiate beta
require four-sas wait_until "$HOST_WAIT" settled 4
check crossed crossed

# 1. rekey: soft expiry of alpha's outbound ESP SA
old_cpi=$(field alpha ipcomp in spi)
old=$(spis alpha)
inject alpha "soft $(field alpha esp out spi)"
check rekey/new-pair wait_until "$HOST_WAIT" new_pair_at alpha "$old"
check rekey/old-gone wait_until "$HOST_WAIT" settled 4
check rekey/crossed crossed
check rekey/new-cpi test "$(field alpha ipcomp in spi)" != "$old_cpi"
for s in $old; do
	check_eq "rekey/old-$s-gone-alpha" "$(jqctl alpha "[.sa[] | select(.spi == \"$s\")] | length" show sa)" 0
done

# 2. hard expiry of alpha's inbound ESP SA: the whole bundle goes
inject alpha "hard $(field alpha esp in spi)"
check hard/alpha-empty wait_until "$HOST_WAIT" sa_count_is alpha 0
check hard/beta-empty wait_until "$HOST_WAIT" sa_count_is beta 0

# 3. kinkctl delete sa of the ESP SA
require create-2 ctl alpha initiate beta
require four-sas-2 wait_until "$HOST_WAIT" settled 4
esp_in=$(field alpha esp in spi)
cpi_in=$(field alpha ipcomp in spi)
check delete/cmd ctl alpha delete sa "$esp_in"
# The DELETE names the CPI too, and beta takes the pair from either.
check delete/names-cpi wait_until "$HOST_WAIT" grep -q \
    "initiated DELETE ok: in $esp_in $cpi_in; peer deleted 2 SPIs" "$T/alpha.log"
check delete/alpha-empty wait_until "$HOST_WAIT" sa_count_is alpha 0
check delete/beta-empty wait_until "$HOST_WAIT" sa_count_is beta 0

# 4. reconcile: alpha's kernel loses its outbound IPComp SA
require create-3 ctl alpha initiate beta
require four-sas-3 wait_until "$HOST_WAIT" settled 4
lost=$(field alpha ipcomp out spi)
old=$(spis alpha)
inject alpha "kernel-del $lost"
check lost/missing wait_until "$HOST_WAIT" is = missing jqctl alpha \
    ".sa[] | select(.spi == \"$lost\" and .proto == \"ipcomp\") | .state" show sa
ctlj alpha reconcile > "$T/rc1.json" 2> "$T/rc1.err"
check_eq lost/reported "$(stat_of "$T/rc1.json" reconcile_lost)" 1
check_eq lost/one-line "$(log_count alpha "reconcile: peer beta policy host: SA out ipcomp spi $lost lost by the kernel; renegotiating")" 1
check lost/renegotiated wait_until "$HOST_WAIT" new_pair_at alpha "$old"
check lost/settled wait_until "$HOST_WAIT" settled 4
check lost/crossed crossed

# an IPComp SA of alpha's reqid that no record owns
inject alpha "kernel-add 0x4321 $reqid 127.0.0.1 127.0.0.2 ipcomp"
check orphan/listed wait_until "$HOST_WAIT" is = kernel-only jqctl alpha \
    '.sa[] | select(.spi == "0x00004321") | .state' show sa
ctlj alpha reconcile > "$T/rc2.json" 2> "$T/rc2.err"
check_eq orphan/reported "$(stat_of "$T/rc2.json" reconcile_orphans)" 1
check_eq orphan/one-line "$(log_count alpha "reconcile: SA ipcomp spi 0x00004321 (reqid $reqid) is kinkd.s but has no owner; removed")" 1
check orphan/removed wait_until "$HOST_WAIT" sa_count_is alpha 4

# 5. alpha reloads without ipcomp: the pair goes on both sides
sed -i 's/ ipcomp deflate//' "$T/alpha.conf"
require reload/edited test "$(grep -c "ipcomp deflate" "$T/alpha.conf")" = 0
check reload/ok ctl alpha reload
check reload/alpha-empty wait_until "$HOST_WAIT" sa_count_is alpha 0
check reload/beta-empty wait_until "$HOST_WAIT" sa_count_is beta 0
# beta still offers both kinds? no: beta's policy wants IPComp only, so
# alpha's ESP-only CREATE is refused, and beta says why.
ctl alpha initiate beta > /dev/null 2>&1
check_eq reload/esp-only-refused $? 1
check reload/beta-why wait_until "$HOST_WAIT" grep -q \
    'no proposal offers IPComp and every policy for this peer wants "ipcomp"' \
    "$T/beta.log"
check_eq reload/no-ipcomp "$(ipcomp_count alpha)" 0
