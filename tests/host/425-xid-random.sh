#!/bin/bash
# XIDs are unpredictable (RFC 4430 3.5 spirit): REPLYs are matched to
# transactions by XID, so a sequential XID lets an off-path sender aim an
# unauthenticated error at the next exchange.  Of alpha's XIDs over a
# series of exchanges (CREATE, DELETE), none is 0 and none
# follows the one before it by a small step, which a counter would.
. tests/lib/host.sh
host_init 425-xid-random
host_realm alpha beta || exit 1

host_pair v4 || { fail start "daemons did not start"; exit 1; }
for i in 1 2 3 4; do
	check "create-$i" ctl alpha initiate beta
done
spi=$(jqctl alpha '[.sa[] | select(.dir == "out")][0].spi' show sa)
check delete ctl alpha delete sa "$spi"
check alpha-idle wait_until "$HOST_WAIT" xact_count_is alpha 0
grep -o 'xid 0x[0-9a-f]* peer beta: initiated' "$T/alpha.log" |
    awk '{ print $2 }' > "$T/xids"
check_eq five-xids "$(sort -u "$T/xids" | wc -l)" 5
check_eq no-zero "$(grep -c '^0x00000000$' "$T/xids")" 0
steps=0
prev=
while read -r v; do
	if [ -n "$prev" ]; then
		d=$(( v - prev ))
		[ "${d#-}" -lt 65536 ] && steps=$((steps + 1))
	fi
	prev=$v
done < "$T/xids"
check_eq no-small-steps "$steps" 0
stop_kinkd alpha
stop_kinkd beta
