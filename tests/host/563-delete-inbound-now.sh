#!/bin/bash
# RFC 4430 3.3: the DELETE initiator "MAY delete the inbound SA as well in
# step 1" when it wants to cease all activity at once.  kinkd does that
# when it stops with `on-shutdown flush`: its inbound SA is removed before
# the DELETE leaves, not after the REPLY (other DELETEs stay pessimistic:
# host 030, 300).  beta is killed first, so no REPLY ever comes: alpha's
# inbound SA is gone all the same, and the DELETE went unanswered.
HOST_RETRANS="200ms max 400ms tries 3"
. tests/lib/host.sh
host_init 563-delete-inbound-now
host_realm alpha beta || exit 1

host_pair v4 || { fail start "daemons did not start"; exit 1; }
require create ctl alpha initiate beta
in_spi=$(jqctl alpha '.sa[] | select(.dir == "in") | .spi' show sa)
require in-spi test -n "$in_spi"
kill -KILL "$(cat "$T/beta.pid")"
wait "$(cat "$T/beta.pid")" 2>/dev/null
rm -f "$T/beta.pid"
stop_kinkd alpha
check unanswered grep -q 'initiated DELETE failed: no answer after 3 sends' "$T/alpha.log"
check inbound-removed grep -q "peer beta: SA in esp spi $in_spi removed: shutdown" "$T/alpha.log"
# step 1: the inbound SA went before the DELETE was sent
check_eq inbound-before-delete "$(awk -v s="SA in esp spi $in_spi removed" '
	index($0, s) && !r { r = NR }
	/I_TICKET -> I_DELETE/ && !d { d = NR }
	END { print (r && d && r < d) ? "yes" : "no" }' "$T/alpha.log")" yes
