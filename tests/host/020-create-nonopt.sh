#!/bin/bash
# CREATE, non-optimistic (RFC 4430 section 3.2): alpha's first choice is a
# transform beta does not accept, so beta picks alpha's second one, sets
# ACKREQ and the exchange ends with an ACK.  Both sides then hold the same
# SAs with the second transform.  Then the same with PFS (KE payloads):
# the CREATE carries a KE payload (it is longer by the public value than
# the same CREATE without PFS), the exchange completes and the SAs agree.
# v4 and v6.  The counts of CREATEs and ACKs on the wire are exact: the
# default retransmit interval (host.sh) is far longer than an exchange.
. tests/lib/host.sh
host_init 020-create-nonopt
host_realm alpha beta || exit 1

live_xacts() {	# live_xacts NAME: transactions not merely aging
	jqctl "$1" '[.xact[] | select(.state != "I_AGING")] | length' show xact
}

run_case() {	# run_case NAME FAMILY PFS
	local c=$1 fam=$2
	PFS=$3 XFORMS="esp enc aes-256-cbc auth hmac-sha2-256, esp enc aes-128-cbc auth hmac-sha1" \
	    VIA=1 write_conf alpha "$fam"
	PFS=$3 XFORMS="esp enc aes-128-cbc auth hmac-sha1" \
	    VIA=1 write_conf beta "$fam"
	if ! start_kinkd alpha "$T/alpha.conf" || ! start_kinkd beta "$T/beta.conf"; then
		fail "$c/start" "daemons did not start"
		stop_kinkd alpha; stop_kinkd beta
		return
	fi
	relay_start "$fam"

	ctl alpha initiate beta > "$T/initiate.out" 2>&1
	check_eq "$c/initiate-exit" $? 0
	require "$c/alpha-2-sas" wait_until "$HOST_WAIT" sa_count_is alpha 2
	check "$c/beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$c/sa-pairwise-equal" sa_pair_ok alpha beta
	# the second transform (aes-128-cbc, hmac-sha1) was chosen: every SA
	# has a 128-bit key, never 256
	check_eq "$c/second-transform" \
	    "$(sa_lines alpha | awk '{print $6}' | sort -u | tr '\n' ' ')" "128 "
	# the ACK path: exactly one ACK went from alpha to beta
	check "$c/ack-sent" wait_until "$HOST_WAIT" is = 1 relay_stat a2b ACK seen
	check_eq "$c/one-create" "$(relay_stat a2b CREATE seen)" 1
	# the exchange is over at alpha: what is left is at most the
	# initiator's aging entry (kept one retransmit cycle to answer a
	# duplicate REPLY with a new ACK; 050-loss-dup watches it expire)
	check "$c/no-live-xact" wait_until "$HOST_WAIT" is = 0 live_xacts alpha
	# PFS puts a KE payload (256 octets of MODP 2048, 64 of ECP 256) in
	# the CREATE: it must be about that much longer than without PFS (the
	# AP-REQ's DER varies by a few octets between runs)
	awk '$3 == "a2b" && $4 == "CREATE" { sub("len=", "", $5); print $5; exit }' \
	    "$T/relay.log" > "$T/create-len.$c"
	if [ "$3" != none ]; then
		local base=$T/create-len.$2 grow=48
		[ "$3" = modp2048 ] && grow=200
		check "$c/ke-in-create" test "$(cat "$T/create-len.$c")" -ge \
		    $(( $(cat "$base") + grow ))
	fi

	stop_kinkd alpha
	stop_kinkd beta
	kill "$(cat "$T/relay.pid")" 2>/dev/null
	wait_until "$HOST_WAIT" test ! -e "$T/relay.pid"
}

run_case v4 v4 none
run_case v6 v6 none
run_case v4-pfs v4 modp2048
run_case v6-pfs-ecp v6 ecp256
