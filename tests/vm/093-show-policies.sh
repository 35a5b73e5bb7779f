# kinkctl show policies against a real kernel, with each backend: every
# entry of the policy is `kernel: yes` once kinkd installed it; after `ip
# xfrm policy delete` of the outbound entry that one says `no` and the
# inbound one still `yes` (asked again, nothing rewritten).  xfrm asks by
# selector (GETPOLICY), pfkey reads an SADB_X_SPDDUMP.  v4, alpha alone.
. /tests/guest.sh
. /tests/kinkd.sh

# run NAME BACKEND
run() {
	t=showpol-$1
	hosts_up || { fail $t "netns/veth setup"; return; }
	a=$A4 b=$B4
	start_kdc
	pol="policy \"ping\" esp transport from $a to $b proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	EXTRA="set reconcile 0" write_conf alpha $2 $a beta $b "$pol"
	: > $W/alpha.log
	if ! start_kinkd A alpha || ! wait_until 20 sh -c \
	    "/usr/sbin/ip -n A xfrm policy | grep -q 'dir in'"; then
		fail $t-start "kinkd did not come up"
		show_logs
		teardown $t
		return
	fi
	kinkctl -s $W/alpha.sock show policies > $W/pol.txt 2>&1
	kinkctl -s $W/alpha.sock -j show policies > $W/pol.json 2>&1
	if grep -q "^  $a/32 port 0 -> $b/32 port 0 proto icmp$" $W/pol.txt &&
	    grep -q '^  out kernel: yes$' $W/pol.txt &&
	    grep -q '^  in kernel: yes$' $W/pol.txt &&
	    grep -q '"dirs":\[{"dir":"out","kernel":"yes"},{"dir":"in","kernel":"yes"}\]' $W/pol.json; then
		pass $t-yes
	else
		fail $t-yes "$(cat $W/pol.txt $W/pol.json)"
	fi
	ip -n A xfrm policy delete src $a/32 dst $b/32 proto 1 dir out
	kinkctl -s $W/alpha.sock show policies > $W/pol2.txt 2>&1
	if grep -q '^  out kernel: no$' $W/pol2.txt &&
	    grep -q '^  in kernel: yes$' $W/pol2.txt &&
	    ! ip -n A xfrm policy | grep -q 'dir out'; then
		pass $t-deleted-no
	else
		fail $t-deleted-no "$(cat $W/pol2.txt; ip -n A xfrm policy)"
	fi
	teardown $t
}

if ! setup_realm; then
	fail showpol-realm "realm setup failed"
	exit 1
fi
run pfkey pfkey
run xfrm xfrm
exit $FAILED
