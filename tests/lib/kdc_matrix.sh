# One cell of the KDC x session-key enctype matrix (host tier, issue 15):
# two kinkd against whatever realm the scenario started (tests/lib/realm.sh
# or realm_heimdal.sh, with kink/alpha.test and kink/beta.test keytabs in
# $T), their session keys forced to one enctype.  Sourced after
# tests/lib/host.sh:
#
#	matrix_cell NAME ENCTYPE [prf]
#
# The enctype is forced from the client side, as a site would: the cell's
# own krb5.conf (a copy of the realm's) asks the KDC for ENCTYPE only in
# its AS and TGS requests (default_tkt/tgs_enctypes), and both daemons run
# with it.  A
# probe with the same krb5.conf and keytab (kinit -k, kvno, klist -e)
# proves the KDC issues that session key for the pair; MIT's KDC also logs
# it ("ses=N") for every ticket, kinkd's included.
#
# What each cell checks (v4, through the relay, which counts messages):
#   - CREATE optimistic (beta -> alpha: one transform both accept) and
#     non-optimistic (alpha -> beta: alpha's first transform is one beta
#     refuses, so beta picks the second and asks for an ACK);
#   - the KEYMAT-derived keys of both sides equal byte for byte
#     (sa_pair_ok: `kinkctl show sa keys`, SPI by SPI);
#   - STATUS (dead-peer 1 s: alpha probes, beta answers, beta stays alive);
#   - DELETE of one pair by SPI from alpha, and of the other from beta
#     (delete-grace 0: the inbound SAs go at once, nothing to wait for).

# matrix_krb5_conf OUT ENCTYPE: the realm's krb5.conf with ENCTYPE as the
# only enctype of the TGT's and every service ticket's session key (MIT's
# client refuses a TGT whose session key is not among its TGS enctypes).
matrix_krb5_conf() {
	awk -v et="$2" '
	    /^[ \t]*default_t(gs|kt)_enctypes[ \t]*=/ { next }
	    { print }
	    /^\[libdefaults\]/ {
		print " default_tkt_enctypes = " et
		print " default_tgs_enctypes = " et
	    }' "$REALM_DIR/krb5.conf" > "$1"
}

# matrix_probe_skey CONF: the session-key enctype the KDC issues to
# kink/alpha.test for kink/beta.test under CONF (klist -e's name).
matrix_probe_skey() {
	local cc="FILE:$T/probe.ccache"
	KRB5_CONFIG=$1 KRB5CCNAME=$cc kinit -k -t "$T/alpha.keytab" \
	    "kink/alpha.test@$HOST_REALM" > "$T/probe.out" 2>&1 &&
	    KRB5_CONFIG=$1 KRB5CCNAME=$cc kvno "kink/beta.test@$HOST_REALM" \
	    >> "$T/probe.out" 2>&1 &&
	    KRB5_CONFIG=$1 KRB5CCNAME=$cc klist -e 2>>"$T/probe.out" |
	    awk '/kink\/beta.test@/ { want = 1; next }
		want && /Etype \(skey, tkt\)/ {
		    sub(/.*Etype \(skey, tkt\): /, ""); sub(/,.*/, ""); sub(/^DEPRECATED:/, "")
		    print; exit }'
	KRB5_CONFIG=$1 KRB5CCNAME=$cc kdestroy >/dev/null 2>&1
}

# matrix_mit_ses_ok FROM ETNUM: every ticket MIT's KDC issued for
# kink/{alpha,beta}.test since line FROM of its log has session-key
# enctype ETNUM, and there is at least one for each direction.
matrix_mit_ses_ok() {
	tail -n "+$1" "$REALM_DIR/kdc.log" | awk -v n="$2" '
	    /TGS_REQ.*ISSUE.*for kink\/(alpha|beta)\.test@/ {
		# "ses=aes256-cts-hmac-sha1-96(18)" (1.20) or "ses=18"
		if (match($0, /ses=[^,}]*/) == 0) bad++
		else {
			v = substr($0, RSTART + 4, RLENGTH - 4)
			if (v ~ /\(/) { sub(/.*\(/, "", v); sub(/\).*/, "", v) }
			if (v != n) bad++
		}
		if ($0 ~ /kink\/alpha\.test@[^ ]* for kink\/beta/) ab++
		if ($0 ~ /kink\/beta\.test@[^ ]* for kink\/alpha/) ba++
	    }
	    END { exit !(bad == 0 && ab > 0 && ba > 0) }'
}

matrix_cell() {
	local c=$1 et=$2 prf=${3:-} conf skey from etnum spi sx cx
	local t0=$(date +%s%N)
	conf=$T/krb5-$c.conf
	matrix_krb5_conf "$conf" "$et"
	from=$(( $(wc -l < "$REALM_DIR/kdc.log" 2>/dev/null || echo 0) + 1 ))

	skey=$(matrix_probe_skey "$conf")
	if ! check_eq "$c/kdc-issues-$et" "$skey" "$et"; then
		sed 's/^/#   /' "$T/probe.out"
		return 1
	fi

	DELGRACE=0s DEADPEER=1s XFORMS="esp enc aes-256-cbc auth hmac-sha2-256, esp enc aes-128-cbc auth hmac-sha1" \
	    VIA=1 write_conf alpha v4
	DELGRACE=0s DEADPEER=1s XFORMS="esp enc aes-128-cbc auth hmac-sha1" \
	    VIA=1 write_conf beta v4
	if [ -n "$prf" ]; then
		sed -i "s|^\tprincipal \"kink/[a-z]*.test@$HOST_REALM\"|&\n\tprf $prf|" \
		    "$T/alpha.conf" "$T/beta.conf"
	fi
	if ! KRB5_CONFIG=$conf start_kinkd alpha "$T/alpha.conf" ||
	    ! KRB5_CONFIG=$conf start_kinkd beta "$T/beta.conf"; then
		fail "$c/start" "daemons did not start"
		stop_kinkd alpha; stop_kinkd beta
		return 1
	fi
	relay_start v4

	# optimistic: beta's one transform is alpha's second; no ACK
	check "$c/create-opt" ctl beta -q initiate alpha
	check "$c/create-opt-sas" wait_until "$HOST_WAIT" sa_count_is alpha 2
	check "$c/create-opt-keymat-equal" sa_pair_ok alpha beta
	# (by XID: with dead-peer 1 s, STATUS replies may come and go too)
	cx=$(awk '$3 == "b2a" && $4 == "CREATE" { print $6; exit }' "$T/relay.log")
	check "$c/create-opt-reply" wait_until "$HOST_WAIT" \
	    grep -q "a2b REPLY len=[0-9]* $cx " "$T/relay.log"
	# non-optimistic: beta refuses alpha's first transform, ACKREQ
	check "$c/create-nonopt" ctl alpha -q initiate beta
	check "$c/create-nonopt-sas" wait_until "$HOST_WAIT" sa_count_is beta 4
	check "$c/create-nonopt-ack" wait_until "$HOST_WAIT" \
	    is = 1 relay_stat a2b ACK seen
	check "$c/keymat-equal" sa_pair_ok alpha beta
	check_eq "$c/no-opt-ack" "$(relay_stat b2a ACK seen)" 0

	# STATUS: quiet for the dead-peer interval, alpha asks, beta answers
	check "$c/status-sent" wait_until "$HOST_WAIT" \
	    is -ge 1 relay_stat a2b STATUS seen
	sx=$(awk '$3 == "a2b" && $4 == "STATUS" { print $6; exit }' "$T/relay.log")
	check "$c/status-answered" wait_until "$HOST_WAIT" \
	    grep -q "b2a REPLY len=[0-9]* $sx " "$T/relay.log"
	check_eq "$c/status-alive" "$(peer_field alpha beta state)" alive

	# DELETE from each side
	spi=$(sa_lines alpha | awk '$2 == "out" { print $1; exit }')
	check "$c/delete-alpha" ctl alpha -q delete sa "$spi"
	check "$c/delete-alpha-gone" wait_until "$HOST_WAIT" sa_count_is beta 2
	spi=$(sa_lines beta | awk '$2 == "out" { print $1; exit }')
	check "$c/delete-beta" ctl beta -q delete sa "$spi"
	check "$c/delete-beta-alpha-empty" wait_until "$HOST_WAIT" sa_count_is alpha 0
	check "$c/delete-beta-beta-empty" wait_until "$HOST_WAIT" sa_count_is beta 0
	check "$c/delete-on-wire" test "$(relay_stat a2b DELETE seen)" -ge 1 -a \
	    "$(relay_stat b2a DELETE seen)" -ge 1

	# what the KDC issued to the daemons themselves (MIT logs it)
	if grep -q 'ses=' "$REALM_DIR/kdc.log" 2>/dev/null; then
		etnum=$(matrix_etnum "$et")
		check "$c/kdc-log-ses-$etnum" matrix_mit_ses_ok "$from" "$etnum"
	fi

	stop_kinkd alpha
	stop_kinkd beta
	relay_stop
	echo "# cell $c: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

matrix_etnum() {
	case $1 in
	des3-cbc-sha1) echo 16 ;;
	aes128-cts-hmac-sha1-96) echo 17 ;;
	aes256-cts-hmac-sha1-96) echo 18 ;;
	aes128-cts-hmac-sha256-128) echo 19 ;;
	aes256-cts-hmac-sha384-192) echo 20 ;;
	arcfour-hmac) echo 23 ;;
	*) echo "?" ;;
	esac
}
