# One cell of the Heimdal matrix (sourced by tests/heimdal/64N-*.sh after
# tests/lib/host.sh): two kinkd, alpha from build $B and beta from
# $HOST_B2 (or $B), in the MIT test realm, session keys of one enctype.
# Each cell: CREATE optimistic both ways, CREATE non-optimistic (ACK),
# STATUS, DELETE, and the KEYMAT both sides derived compared byte for byte
# (sa_pair_ok: SPIs, algorithms and keys pairwise equal, read with
# `kinkctl show sa keys` from the null backend).  The session key's
# enctype is the one asked for: the KDC's log says so for every ticket
# it issued to a daemon.

# cell_lib NAME: which libkrb5 the running daemon NAME is linked with
# (Heimdal's soname is libkrb5.so.26, MIT's libkrb5.so.3).
cell_lib() {
	local exe
	exe=$(readlink "/proc/$(cat "$T/$1.pid")/exe") || return 1
	case "$(ldd "$exe")" in
	*libkrb5.so.26*) echo heimdal ;;
	*libkrb5.so.3*) echo mit ;;
	*) echo unknown ;;
	esac
}

# cell_run ENCTYPE ALPHA-LIB BETA-LIB: the whole cell, the two daemons
# built with those libraries (mit | heimdal); check names start with the
# enctype.
cell_run() {
	local et=$1 c=$1 t0 spi p
	t0=$(date +%s)
	host_realm alpha beta || exit 1
	# The KDC picks aes256 unless the service asks otherwise (realm.sh).
	for p in alpha beta; do
		realm_kadmin setstr "kink/$p.test" session_enctypes "$et" \
		    >>"$T/realm.out" 2>&1 ||
		    { fail "$c/setstr" "session_enctypes $et on $p"; exit 1; }
	done

	# optimistic, both ways
	DEADPEER=1s VIA=1 host_pair v4 ||
	    { fail "$c/start" "daemons did not start"; exit 1; }
	relay_start v4
	check_eq "$c/alpha-built-with" "$(cell_lib alpha)" "$2"
	check_eq "$c/beta-built-with" "$(cell_lib beta)" "$3"
	require "$c/create-opt" ctl alpha initiate beta
	check "$c/create-opt-beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$c/create-opt-keymat-equal" sa_pair_ok alpha beta
	check "$c/create-opt-no-ack" test "$(relay_stat a2b ACK seen)" = 0
	require "$c/create-reverse" ctl beta initiate alpha
	check "$c/create-reverse-alpha-4-sas" wait_until "$HOST_WAIT" \
	    sa_count_is alpha 4
	check "$c/create-reverse-keymat-equal" sa_pair_ok alpha beta

	# STATUS: silence past the dead-peer interval, alpha probes, beta
	# answers, beta stays alive
	check "$c/status-sent" wait_until "$HOST_WAIT" \
	    is -ge 1 relay_stat a2b STATUS seen
	check "$c/status-answered" wait_until "$HOST_WAIT" \
	    is -ge 1 stat_get alpha status_sent
	check_eq "$c/status-peer-alive" \
	    "$(ctlj alpha show peers | jq -r '.peers[] | select(.name == "beta") | .state' 2>/dev/null)" \
	    alive

	# DELETE from alpha, then from beta
	spi=$(sa_lines alpha | awk '$2 == "out" { print $1; exit }')
	check "$c/delete" ctl alpha delete sa "$spi"
	check "$c/delete-beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$c/delete-keymat-equal" sa_pair_ok alpha beta
	spi=$(sa_lines beta | awk '$2 == "out" { print $1; exit }')
	check "$c/delete-from-beta" ctl beta delete sa "$spi"
	check "$c/delete-alpha-0-sas" wait_until "$HOST_WAIT" sa_count_is alpha 0
	check "$c/delete-beta-0-sas" wait_until "$HOST_WAIT" sa_count_is beta 0
	stop_kinkd alpha
	stop_kinkd beta
	kill "$(cat "$T/relay.pid")" 2>/dev/null
	wait_until "$HOST_WAIT" test ! -e "$T/relay.pid"

	# non-optimistic: beta accepts only alpha's second transform, sets
	# ACKREQ, alpha ACKs
	XFORMS="esp enc aes-256-cbc auth hmac-sha2-256, esp enc aes-128-cbc auth hmac-sha1" \
	    VIA=1 write_conf alpha v4
	XFORMS="esp enc aes-128-cbc auth hmac-sha1" VIA=1 write_conf beta v4
	start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
	    { fail "$c/start-nonopt" "daemons did not start"; exit 1; }
	relay_start v4
	require "$c/create-nonopt" ctl alpha initiate beta
	check "$c/create-nonopt-beta-2-sas" wait_until "$HOST_WAIT" \
	    sa_count_is beta 2
	check "$c/create-nonopt-ack" wait_until "$HOST_WAIT" \
	    is = 1 relay_stat a2b ACK seen
	check "$c/create-nonopt-keymat-equal" sa_pair_ok alpha beta
	check_eq "$c/create-nonopt-second-transform" \
	    "$(sa_lines alpha | awk '{print $6}' | sort -u | tr '\n' ' ')" "128 "

	# every ticket the KDC issued to a daemon had a session key of $et
	check "$c/session-enctype" grep -q "ses=$et.* for kink/beta.test@" \
	    "$T/realm/kdc.log"
	check "$c/session-enctype-reverse" \
	    grep -q "ses=$et.* for kink/alpha.test@" "$T/realm/kdc.log"
	check "$c/no-other-enctype" sh -c "! grep 'TGS_REQ.*ISSUE' '$T/realm/kdc.log' | grep 'for kink/' | grep -v 'ses=$et'"
	# nothing left for a DELETE at shutdown that nobody would answer
	ctl alpha flush sa > /dev/null 2>&1
	wait_until "$HOST_WAIT" sa_count_is beta 0
	stop_kinkd alpha
	stop_kinkd beta
	echo "# $HOST_NAME: $(( $(date +%s) - t0 ))s"
}

# cell_hrealm SUFFIX [-e ENCTYPES]: a Heimdal KDC (tests/lib/realm_heimdal.sh)
# in $T/realm-SUFFIX with kink/alpha.test and kink/beta.test and their
# keytabs in $T, for tests/lib/kdc_matrix.sh's matrix_cell (as host 601).
cell_hrealm() {
	local n d=$T/realm-$1
	shift
	hrealm_stop
	if ! hrealm_start "$d" > "$T/realm.out" 2>&1; then
		fail realm "Heimdal realm_start failed: $(tail -n 3 "$T/realm.out")"
		return 1
	fi
	HOST_BG="$HOST_BG $HREALM_KDC_PID"
	for n in alpha beta; do
		rm -f "$T/$n.keytab"
		if ! hrealm_addprinc "kink/$n.test" "$@" >>"$T/realm.out" 2>&1 ||
		    ! hrealm_ktadd "kink/$n.test" "$T/$n.keytab" >>"$T/realm.out" 2>&1
		then
			fail realm "principal kink/$n.test: $(tail -n 3 "$T/realm.out")"
			return 1
		fi
	done
}

# cell_hkdc: the Heimdal KDC cells, aes256 then aes128 session keys (the
# aes128 realm's principals have only aes128 keys), each
# tests/lib/kdc_matrix.sh's matrix_cell.
cell_hkdc() {
	REALM_NO_TRAP=1
	REALM=$HOST_REALM
	. tests/lib/realm_heimdal.sh
	cell_hrealm both || exit 1
	matrix_cell hkdc-aes256-cts-hmac-sha1-96 aes256-cts-hmac-sha1-96
	cell_hrealm aes128 -e aes128-cts-hmac-sha1-96 || exit 1
	matrix_cell hkdc-aes128-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
}
