#!/bin/bash
# Without "listen", kinkd binds 0.0.0.0 and :: on its port; answers leave
# from the address the command arrived on (pktinfo), and its own commands
# from the policy's address.  Both directions, v4 and v6.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 030-listen
host_realm alpha beta || exit 1

for fam in v4 v6; do
	write_conf alpha "$fam"
	write_conf beta "$fam"
	sed -i '/^listen on/d' "$T/alpha.conf"
	start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
	    { fail "$fam/start" "daemons did not start"; continue; }
	check "$fam/wildcard-bound" grep -q "listening on :: port" "$T/alpha.log"
	check "$fam/beta-initiates" ctl beta initiate alpha
	check "$fam/beta-pairwise" sa_pair_ok alpha beta
	check "$fam/alpha-initiates" ctl alpha initiate beta
	check "$fam/alpha-pairwise" sa_pair_ok alpha beta
	check_eq "$fam/four" "$(sa_count alpha)" 4
	stop_kinkd alpha
	stop_kinkd beta
done
