#!/bin/bash
# Clock skew (RFC 4430 3.5): alpha's clock towards beta is 1000 s fast, so
# beta rejects the AP-REQ with KRB_AP_ERR_SKEW; the error carries a valid
# Cksum (beta knows the session key), so alpha adopts the offset, resends
# with a fresh authenticator and the CREATE completes.  (The rule that an
# unprotected error moves nothing is tested in tests/krb.)
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 060-clock-skew
host_realm alpha beta || exit 1

offset_of() {	# offset_of NAME PEER: clock_offset from show peers
	jqctl "$1" ".peers[] | select(.name == \"$2\") | .clock_offset" show peers
}

for fam in v4 v6; do
	host_pair "$fam" || { fail "$fam/start" "daemons did not start"; continue; }
	inject alpha "offset beta 1000"
	check "$fam/offset-set" wait_until "$HOST_WAIT" is = 1000 offset_of alpha beta
	check "$fam/initiate" ctl alpha initiate beta
	check "$fam/pairwise" sa_pair_ok alpha beta
	check "$fam/skew-seen-by-beta" test "$(stat_get beta drop_krb)" -ge 1
	check "$fam/adjusted" grep -q "clock offset adjusted" "$T/alpha.log"
	off=$(offset_of alpha beta)
	check "$fam/offset-corrected" test "${off#-}" -le 2
	stop_kinkd alpha
	stop_kinkd beta
done
