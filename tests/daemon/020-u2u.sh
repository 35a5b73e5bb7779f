#!/bin/bash
# User-to-User (RFC 4430 3.1): beta's principal may not be a normal
# service (-allow_svr), so the KDC answers KDC_ERR_MUST_USE_USER2USER;
# with "u2u allow" alpha sends GETTGT, gets a U2U ticket under beta's TGT
# and CREATE/DELETE work.  Without "u2u allow" on beta, GETTGT is denied
# and the exchange fails.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 020-u2u
host_realm alpha beta || exit 1
realm_kadmin "modprinc -allow_svr kink/beta.test@$HOST_REALM" ||
    { fail setup "modprinc -allow_svr"; exit 1; }

for fam in v4 v6; do
	write_conf alpha "$fam"
	write_conf beta "$fam"
	allow_u2u "$T/alpha.conf" beta
	allow_u2u "$T/beta.conf" alpha
	start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
	    { fail "$fam/start" "daemons did not start"; continue; }
	check "$fam/initiate" ctl alpha initiate beta
	check "$fam/pairwise" sa_pair_ok alpha beta
	check "$fam/gettgt-logged" grep -q "requires User-to-User" "$T/alpha.log"
	spi=$(jqctl alpha '.sa[0].spi' show sa)
	check "$fam/delete" ctl alpha delete sa "$spi"
	check "$fam/delete-beta-empty" wait_until "$HOST_WAIT" sa_count_is beta 0

	stop_kinkd beta
	sed -i '/u2u allow/d' "$T/beta.conf"
	start_kinkd beta "$T/beta.conf" || { fail "$fam/restart" "beta"; continue; }
	check_eq "$fam/denied-exit" "$(ctl_rc alpha initiate beta)" 1
	check "$fam/denied-named" grep -q "U2UDENIED" "$T/alpha.log"
	check_eq "$fam/denied-no-sa" "$(sa_count beta)" 0
	stop_kinkd alpha
	stop_kinkd beta
done
