#!/bin/bash
# Lifetimes both ends install (RFC 4430 3.2, RFC 2407 4.5, RFC 4430 3.6):
#  - shorter: alpha offers 3600 s / 100000 KB, beta allows 1800 s /
#    5000 KB; the initiator MUST use the shorter lifetime, its optimistic
#    inbound SA (installed before the CREATE left, same keys) included;
#  - absent: a policy with a byte lifetime only sends no seconds
#    lifetime, which means 28800 s, never "no expiry", on both sides;
#  - soft margin: with "retransmit 10s max 60s tries 5" a retransmission
#    cycle lasts 190 s, and the soft lifetime comes between T-retrans
#    (190 s) and T-rekey (4 x 190 s) before the hard one.
HOST_RETRANS="10s max 60s tries 5"
. tests/lib/host.sh
host_init 423-lifetimes
host_realm alpha beta || exit 1

life() {	# life NAME DIR FIELD
	jqctl "$1" ".sa[] | select(.dir == \"$2\") | .$3" show sa
}

write_conf alpha v4
write_conf beta v4
sed -i 's/lifetime 1h/lifetime 3600s 100000 kbytes/' "$T/alpha.conf"
sed -i 's/lifetime 1h/lifetime 1800s 5000 kbytes/' "$T/beta.conf"
require shorter-confs grep -q "lifetime 1800s 5000 kbytes" "$T/beta.conf"
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
require shorter/create ctl alpha initiate beta
require shorter/sas wait_until "$HOST_WAIT" sa_count_is beta 2
check alpha-idle wait_until "$HOST_WAIT" xact_count_is alpha 0
for n in alpha beta; do
	for d in in out; do
		check_eq "shorter/$n-$d-secs" "$(life $n $d life_hard_secs)" 1800
		check_eq "shorter/$n-$d-bytes" "$(life $n $d life_hard_bytes)" $((5000 * 1024))
	done
done
for n in alpha beta; do
	s=$(life $n in life_soft_secs)
	check "soft-margin/$n-in" test "$s" -le $((1800 - 190)) -a "$s" -ge $((1800 - 4 * 190))
done
stop_kinkd alpha
stop_kinkd beta

write_conf alpha v4
write_conf beta v4
sed -i 's/lifetime 1h/lifetime 100000 kbytes/' "$T/alpha.conf" "$T/beta.conf"
require absent-confs grep -q "lifetime 100000 kbytes" "$T/beta.conf"
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start-2 "daemons did not start"; exit 1; }
require absent/create ctl alpha initiate beta
require absent/sas wait_until "$HOST_WAIT" sa_count_is beta 2
for n in alpha beta; do
	for d in in out; do
		check_eq "absent/$n-$d-secs" "$(life $n $d life_hard_secs)" 28800
	done
done
stop_kinkd alpha
stop_kinkd beta
