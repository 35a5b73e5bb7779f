#!/bin/bash
# RFC 4430 3.2: a responder that cannot do KE answers INVALID-PAYLOAD-TYPE
# naming KE; the initiator "MAY retry without a KE payload (as another
# transaction) if its policy allows that" (`pfs G optional`).
#  - alpha `pfs modp2048 optional`, beta without PFS: the first CREATE is
#    refused, alpha logs it and a second transaction without KE makes
#    the pair;
#  - alpha `pfs modp2048` (required): refused, no retry, no SA;
#  - beta `pfs modp2048 optional` as responder holds a CREATE without KE
#    and one with KE (then PFS is used).
. tests/lib/host.sh
host_init 560-pfs-optional
host_realm alpha beta || exit 1

pair() {	# pair ALPHA-PFS BETA-PFS
	PFS=$1 write_conf alpha v4 && PFS=$2 write_conf beta v4 &&
	    start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf"
}
stop_both() { stop_kinkd alpha; stop_kinkd beta; }

pair "modp2048 optional" none || { fail start "daemons did not start"; exit 1; }
check retry/conf-dump sh -c "'$KINKD' -nv -f '$T/alpha.conf' 2>/dev/null |
    grep -q 'pfs modp2048 optional'"
check retry/create ctl alpha initiate beta
check retry/beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
check retry/alpha-logged grep -q 'the peer refused KE (INVALID-PAYLOAD-TYPE): policy host has pfs optional, retrying without PFS' "$T/alpha.log"
check retry/started-over grep -q 'peer refused KE, started over' "$T/alpha.log"
check retry/pairwise sa_pair_ok alpha beta
check_eq retry/no-pfs "$(grep -c 'with PFS' "$T/alpha.log")" 0
stop_both

pair modp2048 none || { fail start-2 "daemons did not start"; exit 1; }
check_eq required/create-fails "$(ctl_rc alpha initiate beta)" 1
check required/alpha-logged grep -q 'policy host requires PFS, no retry' "$T/alpha.log"
check_eq required/no-retry "$(grep -c 'retrying without PFS' "$T/alpha.log")" 0
check_eq required/beta-no-sa "$(sa_count beta)" 0
stop_both

pair none "modp2048 optional" || { fail start-3 "daemons did not start"; exit 1; }
check resp/no-ke-held ctl alpha initiate beta
check resp/pairwise sa_pair_ok alpha beta
check_eq resp/no-pfs "$(grep -c 'with PFS' "$T/beta.log")" 0
stop_both

pair modp2048 "modp2048 optional" || { fail start-4 "daemons did not start"; exit 1; }
check resp/ke-held ctl alpha initiate beta
check resp/ke-pfs grep -q 'with PFS' "$T/beta.log"
check resp/ke-pairwise sa_pair_ok alpha beta
stop_both
