#!/bin/bash
# IPComp bundled with ESP (RFC 2407 4.4.1, RFC 3173) between two daemons
# on the null backend:
#  - both policies say "ipcomp deflate": alpha (v4) and then beta (v6)
#    initiate; each side holds ESP and IPComp in and out, its outbound CPI
#    the other's inbound one, shown by `kinkctl show sa` as ipcomp/deflate;
#  - beta's policy has no ipcomp and alpha offers only ESP+IPComp: beta
#    answers NO-PROPOSAL-CHOSEN and logs why; nothing is installed;
#  - alpha also offers ESP alone (a second proposal number): beta takes
#    that one, ESP only on both sides.
. tests/lib/host.sh
host_init 570-ipcomp
host_realm alpha beta || exit 1

ZIP="esp enc aes-128-cbc auth hmac-sha1 ipcomp deflate"
PLAIN="esp enc aes-128-cbc auth hmac-sha1"

# field NAME PROTO DIR KEY: one field of an SA from `show sa -j`.
field() {
	jqctl "$1" ".sa[] | select(.proto == \"$2\" and .dir == \"$3\") | .$4" show sa
}

# bundle TAG INITIATOR RESPONDER FAMILY
bundle() {
	local tag=$1 i=$2 r=$3 fam=$4 n d other
	XFORMS=$ZIP write_conf alpha "$fam" && XFORMS=$ZIP write_conf beta "$fam" ||
	    exit 1
	start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
	    { fail "$tag/start" "daemons did not start"; exit 1; }
	check "$tag/create" ctl "$i" initiate "$r"
	check "$tag/four-sas" wait_until "$HOST_WAIT" sa_count_is "$r" 4
	check "$tag/four-sas-$i" wait_until "$HOST_WAIT" sa_count_is "$i" 4
	for n in alpha beta; do
		other=$(other_of "$n")
		for d in in out; do
			check_eq "$tag/$n-$d-enc" "$(field "$n" ipcomp "$d" enc)" deflate
			check_eq "$tag/$n-$d-auth" "$(field "$n" ipcomp "$d" auth)" none
			check_eq "$tag/$n-$d-state" "$(field "$n" ipcomp "$d" state)" \
			    mature
		done
		# Our outbound CPI is the peer's inbound one, and a CPI is 16 bits.
		check_eq "$tag/$n-out-cpi" "$(field "$n" ipcomp out spi)" \
		    "$(field "$other" ipcomp in spi)"
		check_eq "$tag/$n-cpi-16bit" "$(field "$n" ipcomp in spi |
		    grep -c '^0x0000[0-9a-f]\{4\}$')" 1
		check_eq "$tag/$n-esp-out-spi" "$(field "$n" esp out spi)" \
		    "$(field "$other" esp in spi)"
		check_eq "$tag/$n-same-life" "$(field "$n" ipcomp out life_hard_secs)" \
		    "$(field "$n" esp out life_hard_secs)"
	done
	ctlj "$i" show sa > "$T/$tag.json" 2>&1
	check "$tag/schema" python3 tests/lib/json_schema.py \
	    etc/kinkctl.schema.json "$T/$tag.json"
	ctl "$i" show sa > "$T/$tag.show" 2>&1
	check "$tag/text" grep -Eq '^[a-z]+ +(in|out) +ipcomp +0x0000[0-9a-f]{4} .* deflate +none +mature' \
	    "$T/$tag.show"
	stop_kinkd alpha
	stop_kinkd beta
}

bundle v4 alpha beta v4
bundle v6 beta alpha v6

# Beta without ipcomp; alpha offers ESP+IPComp only.
XFORMS=$ZIP write_conf alpha v4 && XFORMS=$PLAIN write_conf beta v4 || exit 1
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail refuse/start "daemons did not start"; exit 1; }
ctl alpha initiate beta > "$T/refuse.out" 2> "$T/refuse.err"
check_eq refuse/initiate-fails $? 1
check refuse/alpha-told grep -q 'NO-PROPOSAL-CHOSEN' "$T/refuse.err"
check refuse/beta-why wait_until "$HOST_WAIT" grep -q \
    'refused: NO_PROPOSAL (notify 14 NO-PROPOSAL-CHOSEN): every proposal asks for IPComp and no policy for this peer has "ipcomp"' \
    "$T/beta.log"
check_eq refuse/no-sas-alpha "$(sa_count alpha)" 0
check_eq refuse/no-sas-beta "$(sa_count beta)" 0
stop_kinkd alpha
stop_kinkd beta

# The same beta; alpha also offers ESP alone.
XFORMS="$ZIP, $PLAIN" write_conf alpha v4 && XFORMS=$PLAIN write_conf beta v4 ||
    exit 1
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail fallback/start "daemons did not start"; exit 1; }
check fallback/create ctl alpha initiate beta
check fallback/sas wait_until "$HOST_WAIT" sa_count_is beta 2
check fallback/sas-alpha wait_until "$HOST_WAIT" sa_count_is alpha 2
check_eq fallback/no-ipcomp "$(jqctl alpha '[.sa[] | select(.proto == "ipcomp")] | length' show sa)" 0
check_eq fallback/esp-pair "$(field alpha esp out spi)" "$(field beta esp in spi)"
# The early inbound IPComp SA of alpha's first proposal is gone.
check fallback/early-ipcomp-gone grep -q \
    'SA in ipcomp spi 0x0000[0-9a-f]* removed: not in the proposal the peer chose' \
    "$T/alpha.log"
