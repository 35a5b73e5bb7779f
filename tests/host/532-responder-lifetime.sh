#!/bin/bash
# RESPONDER-LIFETIME (RFC 2407 4.5.4): alpha offers 3600 s, beta allows
# 1800 s, so beta lowers the lifetime in its REPLY (RFC 4430 3.2).
#  - beta's peer block says "responder-lifetime send": the REPLY also
#    carries the Notify (beta logs it, alpha logs the status Notify) and
#    both ends install 1800 s;
#  - the default (omit, for racoon2, which aborts on any Notify): no
#    Notify, still 1800 s both ways.
. tests/lib/host.sh
host_init 532-responder-lifetime
host_realm alpha beta || exit 1

life() {	# life NAME DIR
	jqctl "$1" ".sa[] | select(.dir == \"$2\") | .life_hard_secs" show sa
}

write_conf alpha v4 && write_conf beta v4 || exit 1
sed -i 's/lifetime 1h/lifetime 1800s/' "$T/beta.conf"
sed -i "/^\taddress /a\\	responder-lifetime send" "$T/beta.conf"
require send/conf grep -q '^	responder-lifetime send$' "$T/beta.conf"
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
check send/create ctl alpha initiate beta
check send/sas wait_until "$HOST_WAIT" sa_count_is beta 2
check send/beta-sent grep -q 'REPLY carries RESPONDER-LIFETIME: 1800 s' "$T/beta.log"
check send/alpha-saw grep -q 'REPLY carries status Notify 24576 RESPONDER-LIFETIME$' "$T/alpha.log"
for n in alpha beta; do
	for d in in out; do
		check_eq "send/$n-$d-secs" "$(life $n $d)" 1800
	done
done
stop_kinkd alpha
stop_kinkd beta

write_conf alpha v4 && write_conf beta v4 || exit 1
sed -i 's/lifetime 1h/lifetime 1800s/' "$T/beta.conf"
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start-2 "daemons did not start"; exit 1; }
check omit/create ctl alpha initiate beta
check omit/sas wait_until "$HOST_WAIT" sa_count_is beta 2
check_eq omit/beta-sent-none "$(grep -c 'RESPONDER-LIFETIME' "$T/beta.log")" 0
check_eq omit/alpha-saw-none "$(grep -c 'status Notify' "$T/alpha.log")" 0
for n in alpha beta; do
	for d in in out; do
		check_eq "omit/$n-$d-secs" "$(life $n $d)" 1800
	done
done
