# Host-tier scenarios against a Samba AD DC (tests/lib/realm_ad.sh)
# instead of the MIT realm: the same daemons, principals and configs as
# tests/lib/host.sh, with the DC as KDC.  Sourced after host.sh:
#
#	. tests/lib/host.sh
#	. tests/lib/host_ad.sh
#	host_init 620-ad-aes
#	host_ad_realm alpha beta
#	ad_cells aes256-cts-hmac-sha1-96

. "$HOST_TOP/tests/lib/realm_ad.sh"

# host_ad_realm NAME...: the DC in $T/ad; NAME's keytab in $T/NAME.keytab.
host_ad_realm() {
	local n
	REALM=$HOST_REALM
	REALM_STARTED=1		# host_cleanup's realm_stop stops the DC
	if ! ad_start "$T/ad" > "$T/realm.out" 2>&1; then
		fail realm "ad_start failed: $(tail -n 5 "$T/realm.out" | tr '\n' ' ')"
		return 1
	fi
	echo "# AD DC up: $AD_TIMES"
	for n in "$@"; do
		if ! ad_keytab "$n" "$T/$n.keytab"; then
			fail realm "no keytab for $n"
			return 1
		fi
	done
}

# session_etype NAME PEER: the session key enctype of the last ticket
# NAME's kinkd got for PEER (its -v log line; kinkd keeps service tickets
# in memory, not in the credential cache).
session_etype() {
	sed -n "s/.* peer $2: ticket, session key \(.*\)$/\1/p" "$T/$1.log" |
	    tail -n 1
}

# set_prf NAME KIND: "prf KIND" in NAME's peer block.
set_prf() {
	sed -i "s/^\taddress \(.*\)$/\taddress \1\n\tprf $2/" "$T/$1.conf"
}

# ad_cells PREFIX ETYPE: the matrix cells for one session-key enctype, v4
# through the relay: CREATE optimistic and non-optimistic, the KEYMAT of
# both sides byte for byte (SPIs, algorithms, keys), the ticket's session
# key enctype, STATUS, DELETE.  PRF_A / PRF_B (optional): alpha's and
# beta's "prf" setting.
ad_cells() {
	local c=$1 et=$2 fam=v4 spi a0
	# optimistic: one transform both take
	DEADPEER=1s VIA=1 write_conf alpha "$fam" &&
	    DEADPEER=1s VIA=1 write_conf beta "$fam" || return 1
	[ -n "${PRF_A:-}" ] && set_prf alpha "$PRF_A"
	[ -n "${PRF_B:-}" ] && set_prf beta "$PRF_B"
	rm -f "$T/alpha.ccache" "$T/beta.ccache"
	if ! start_kinkd alpha "$T/alpha.conf" || ! start_kinkd beta "$T/beta.conf"; then
		fail "$c/start" "daemons did not start"
		return 1
	fi
	relay_start "$fam"
	require "$c/create-opt" ctl alpha initiate beta
	require "$c/create-opt-beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$c/create-opt-keymat-equal" sa_pair_ok alpha beta
	check_eq "$c/create-opt-no-ack" "$(relay_stat a2b ACK seen)" 0
	check_eq "$c/session-etype" "$(session_etype alpha beta)" "$et"
	# STATUS after the dead-peer interval, answered
	a0=$(relay_stat b2a REPLY seen)
	check "$c/status-sent" wait_until "$HOST_WAIT" \
	    is -ge 1 relay_stat a2b STATUS seen
	check "$c/status-answered" wait_until "$HOST_WAIT" \
	    is -gt "$a0" relay_stat b2a REPLY seen
	check_eq "$c/status-sas-kept" "$(sa_count alpha)" 2
	# DELETE from alpha: both sides drop the pair
	spi=$(sa_lines alpha | awk '$2 == "in" { print $1; exit }')
	ctl alpha delete sa "$spi" >/dev/null 2>&1
	check "$c/delete-alpha" wait_until "$HOST_WAIT" sa_count_is alpha 0
	check "$c/delete-beta" wait_until "$HOST_WAIT" sa_count_is beta 0
	check "$c/delete-on-wire" wait_until "$HOST_WAIT" \
	    is -ge 1 relay_stat a2b DELETE seen
	stop_kinkd alpha
	stop_kinkd beta
	kill "$(cat "$T/relay.pid")" 2>/dev/null
	wait_until "$HOST_WAIT" test ! -e "$T/relay.pid"

	# non-optimistic: beta takes alpha's second transform, ACKREQ, ACK
	XFORMS="esp enc aes-256-cbc auth hmac-sha2-256, esp enc aes-128-cbc auth hmac-sha1" \
	    VIA=1 write_conf alpha "$fam" &&
	    XFORMS="esp enc aes-128-cbc auth hmac-sha1" VIA=1 write_conf beta "$fam" ||
	    return 1
	[ -n "${PRF_A:-}" ] && set_prf alpha "$PRF_A"
	[ -n "${PRF_B:-}" ] && set_prf beta "$PRF_B"
	if ! start_kinkd alpha "$T/alpha.conf" || ! start_kinkd beta "$T/beta.conf"; then
		fail "$c/start-nonopt" "daemons did not start"
		return 1
	fi
	relay_start "$fam"
	require "$c/create-nonopt" ctl alpha initiate beta
	require "$c/create-nonopt-beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$c/create-nonopt-keymat-equal" sa_pair_ok alpha beta
	check_eq "$c/create-nonopt-second-transform" \
	    "$(sa_lines alpha | awk '{print $6}' | sort -u | tr '\n' ' ')" "128 "
	check "$c/create-nonopt-ack" wait_until "$HOST_WAIT" \
	    is = 1 relay_stat a2b ACK seen
	check_eq "$c/create-nonopt-session-etype" "$(session_etype alpha beta)" "$et"
	stop_kinkd alpha
	stop_kinkd beta
	kill "$(cat "$T/relay.pid")" 2>/dev/null
	wait_until "$HOST_WAIT" test ! -e "$T/relay.pid"
}
