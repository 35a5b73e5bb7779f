#!/bin/bash
# Kernel events through the null backend's upcall path: kinkd reads
# "<socket>.inject" on SIGUSR1 (lines "acquire REQID", "soft SPI") and
# hands them to sadb_null_event(), so the daemon's ACQUIRE/EXPIRE
# handling runs exactly as with a kernel.  tests/daemon/010-sadb-events
# covers the basic paths (and hard EXPIRE); this adds:
#  - ACQUIRE twice back to back, as a kernel repeats it while the
#    negotiation runs: one negotiation, one pair.
#  - soft EXPIRE of alpha's outbound SA: the new pair both sides hold
#    agrees pairwise, keys included.
. tests/lib/host.sh
host_init 100-kernel-events
host_realm alpha beta || exit 1

inject() {	# inject NAME LINE...
	local n=$1
	shift
	printf '%s\n' "$@" > "$(sock_of "$n").inject"
	kill -USR1 "$(cat "$T/$n.pid")"
	wait_until "$HOST_WAIT" test ! -e "$(sock_of "$n").inject"
}

for fam in v4 v6; do
	host_pair "$fam" || { fail "$fam/start" "daemons did not start"; continue; }
	reqid=$("$KINKD" -nv -f "$T/alpha.conf" 2>/dev/null | grep -o 'reqid [0-9]*' | head -n 1 | cut -d' ' -f2)
	check "$fam/reqid-known" test -n "$reqid"
	monitor_start alpha

	# ACQUIRE, twice back to back (a kernel repeats ACQUIRE while the
	# negotiation runs): one negotiation, one pair
	check "$fam/acquire-read" inject alpha "acquire $reqid" "acquire $reqid"
	require "$fam/acquire-alpha-2-sas" wait_until "$HOST_WAIT" sa_count_is alpha 2
	check "$fam/acquire-beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$fam/acquire-pairwise" sa_pair_ok alpha beta
	check "$fam/acquire-counted" wait_until "$HOST_WAIT" is = 2 stat_get alpha acquire
	check "$fam/acquire-idle" wait_until "$HOST_WAIT" xact_count_is alpha 0
	check_eq "$fam/acquire-dup-one-pair" "$(sa_count alpha)" 2
	check_eq "$fam/acquire-dup-one-create" "$(stat_get beta create_optimistic)" 1

	# soft EXPIRE: rekey
	old=$(spis alpha)
	out=$(sa_lines alpha | awk '$2 == "out" { print $1 }')
	check "$fam/soft-read" inject alpha "soft $out"
	check "$fam/soft-counted" wait_until "$HOST_WAIT" is = 1 stat_get alpha expire_soft
	check "$fam/soft-new-pair" wait_until "$HOST_WAIT" new_pair_at alpha "$old"
	check "$fam/soft-pairwise" wait_until "$HOST_WAIT" pair_agrees_new "$old"

	monitor_stop alpha
	stop_kinkd alpha
	stop_kinkd beta
done
