#!/bin/bash
# KDC matrix, MIT kinkd x Heimdal KDC (issue 15): the cells of
# tests/lib/kdc_matrix.sh against Heimdal's kdc (tests/lib/realm_heimdal.sh,
# Debian's heimdal-kdc 7.8) for the enctypes it issues,
# aes256-cts-hmac-sha1-96 and aes128-cts-hmac-sha1-96 (Heimdal 7.8 has no
# RFC 8009 enctypes).  The aes128 cell's principals have only aes128 keys,
# as on a site that never made aes256 ones.
. tests/lib/host.sh
. tests/lib/kdc_matrix.sh
host_init 601-matrix-heimdal

# hrealm_setup SUFFIX [-e ENCTYPES]: a Heimdal realm in $T/realm-SUFFIX with
# kink/alpha.test and kink/beta.test and their keytabs in $T.
hrealm_setup() {
	local n d=$T/realm-$1
	shift
	hrealm_stop
	if ! hrealm_start "$d" > "$T/realm.out" 2>&1; then
		fail realm "Heimdal realm_start failed: $(tail -n 3 "$T/realm.out")"
		return 1
	fi
	# host_cleanup kills it (and its workers go with it)
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

REALM_NO_TRAP=1
REALM=$HOST_REALM
. tests/lib/realm_heimdal.sh

hrealm_setup both || exit 1
matrix_cell heimdal-aes256-cts-hmac-sha1-96 aes256-cts-hmac-sha1-96
hrealm_setup aes128 -e aes128-cts-hmac-sha1-96 || exit 1
matrix_cell heimdal-aes128-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
