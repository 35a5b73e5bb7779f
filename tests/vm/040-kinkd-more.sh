# More kinkd scenarios on this kernel (see 030-kinkd.sh for the setup):
# tunnel mode between two subnets behind A and B; rekey on soft expiry
# while a ping runs; B killed and restarted (A learns the new EPOCH and
# re-creates the SAs); a peer whose principal the KDC does not know; the
# lifetimes both kernels enforce (RFC 4430 3.2, RFC 2407 4.5).
. /tests/guest.sh
. /tests/kinkd.sh

XF="transforms { esp enc aes-128-cbc auth hmac-sha1 }"

# pair NAME BACKEND POLICY_A POLICY_B: hosts, KDC, both daemons.
pair() {
	hosts_up || { fail $1 "netns/veth setup"; return 1; }
	start_kdc
	write_conf alpha $2 $A4 beta $B4 "$3"
	EXTRA= write_conf beta $2 $B4 alpha $A4 "$4"
	start_both $1 || return 1
	wait_spd
	return 0
}

# ping_until SECONDS ADDR [ping options]: first echo answered in time.
ping_until() {
	s=$1 d=$2
	shift 2
	wait_until $s ip netns exec A ping -c 1 -W 1 "$@" $d > /dev/null 2>&1
}

tunnel() {
	t=kinkd-$1-tunnel
	pair $t $1 \
	    "policy \"net\" esp tunnel from 10.1.0.0/24 to 10.2.0.0/24 proto icmp local $A4 remote $B4 $XF lifetime 1h" \
	    "policy \"net\" esp tunnel from 10.2.0.0/24 to 10.1.0.0/24 proto icmp local $B4 remote $A4 $XF lifetime 1h" ||
	    return
	ip -n A addr add 10.1.0.1/32 dev lo &&
	ip -n B addr add 10.2.0.1/32 dev lo &&
	ip -n A route add 10.2.0.0/24 via $B4 src 10.1.0.1 &&
	ip -n B route add 10.1.0.0/24 via $A4 src 10.2.0.1 ||
	    fail $t "subnet setup"
	if ip -n A xfrm policy | grep -q "dir fwd"; then
		pass $t-spd-fwd
	else
		fail $t-spd-fwd "no fwd policy for the tunnel"
	fi
	ip netns exec A ping -c 1 -W 1 -I 10.1.0.1 10.2.0.1 > /dev/null 2>&1
	if wait_until 45 sa_count_is A 2 && wait_until 20 sa_count_is B 2 &&
	    [ "$(sa_tuples A)" = "$(sa_tuples B)" ] &&
	    [ "$(ip -n A xfrm state | grep -c 'mode tunnel')" -eq 2 ]; then
		pass $t-sas
	else
		fail $t-sas "A $(sa_count A), B $(sa_count B) tunnel SAs"
		show_logs
	fi
	before=$(esp_packets A)
	if ip netns exec A ping -c 3 -i 0.3 -W 2 -I 10.1.0.1 10.2.0.1 \
	    > /dev/null 2>&1 && [ $(esp_packets A) -ge $((before + 6)) ]; then
		pass $t-ping
	else
		fail $t-ping "subnet ping through the tunnel (ESP $before -> $(esp_packets A))"
	fi
	teardown $t
}

rekey() {
	t=kinkd-$1-rekey
	# 12 s hard: the soft expiry (kinkd: hard minus 1..6 s) rekeys.
	pair $t $1 \
	    "policy \"ping\" esp transport from $A4 to $B4 proto icmp $XF lifetime 12s" \
	    "policy \"ping\" esp transport from $B4 to $A4 proto icmp $XF lifetime 12s" ||
	    return
	if ! ping_until 45 $B4 || ! wait_until 20 sa_count_is B 2; then
		fail $t-first "no SAs"
		show_logs
		teardown $t
		return
	fi
	old=$(sa_spis A)
	# 20 s of echo requests, past the hard expiry of the first pair.
	ip netns exec A ping -c 80 -i 0.25 -W 1 $B4 > $W/ping.out 2>&1
	tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' $W/ping.out)
	rx=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' $W/ping.out)
	echo "  rekey ping: $tx sent, $rx answered; SPIs before: $old, now: $(sa_spis A)"
	if [ -n "$rx" ] && [ $((tx - rx)) -le 1 ]; then
		pass $t-no-loss
	else
		fail $t-no-loss "$(tail -n 2 $W/ping.out | tr '\n' ' ')"
		LOGLINES=60 show_logs
	fi
	gone=1
	for s in $old; do
		sa_spis A | grep -q "$s" && gone=0
	done
	if [ $gone = 1 ] && [ "$(sa_count A)" -ge 2 ]; then
		pass $t-new-spis
	else
		fail $t-new-spis "old SAs still there or no new ones: $(sa_spis A)"
	fi
	if grep -q "soft expiry" $W/alpha.log $W/beta.log; then
		pass $t-soft-expiry-logged
	else
		fail $t-soft-expiry-logged "no soft expiry in the logs"
	fi
	teardown $t
}

# hard_life NS: the distinct "hard seconds/hard bytes" of NS's ESP SAs.
hard_life() {
	ip -s -n $1 xfrm state | awk '
	/limit: soft .*\(bytes\)/ { b = $NF; sub(/\(bytes\)/, "", b) }
	/expire add:/ { h = $NF; sub(/\(sec\)/, "", h); print h "/" b }' |
	    sort -u | tr '\n' ' '
}

# lives_are NAME WANT: once a ping made the SAs, hard_life of both sides
# is WANT (NAME-A, NAME-B); no SAs fail NAME.
lives_are() {
	if ping_until 45 $B4 && wait_until 20 sa_count_is B 2; then
		for ns in A B; do
			l=$(hard_life $ns)
			if [ "$l" = "$2" ]; then
				pass $1-$ns
			else
				fail $1-$ns "hard lifetimes: $l"
			fi
		done
	else
		fail $1 "no SAs"
		show_logs
	fi
}

# Shorter lifetimes bind both ends, the initiator's early inbound SA too;
# a policy with kilobytes only proposes no seconds, which is 28800 s, not
# an SA that never expires.
lifetimes() {
	t=kinkd-$1-lifetimes
	pair $t $1 \
	    "policy \"ping\" esp transport from $A4 to $B4 proto icmp $XF lifetime 3600s 100000 kbytes" \
	    "policy \"ping\" esp transport from $B4 to $A4 proto icmp $XF lifetime 1800s 5000 kbytes" ||
	    return
	lives_are $t-shorter "1800/5120000 "
	teardown $t
	pair $t $1 \
	    "policy \"ping\" esp transport from $A4 to $B4 proto icmp $XF lifetime 100000 kbytes" \
	    "policy \"ping\" esp transport from $B4 to $A4 proto icmp $XF lifetime 100000 kbytes" ||
	    return
	lives_are $t-absent "28800/102400000 "
	teardown $t
}

restart() {
	t=kinkd-$1-restart
	EXTRA="set dead-peer 2s" pair $t $1 \
	    "policy \"ping\" esp transport from $A4 to $B4 proto icmp $XF lifetime 1h" \
	    "policy \"ping\" esp transport from $B4 to $A4 proto icmp $XF lifetime 1h" ||
	    return
	if ! ping_until 45 $B4 || ! wait_until 20 sa_count_is B 2; then
		fail $t-first "no SAs"
		show_logs
		teardown $t
		return
	fi
	old=$(sa_spis A)
	# A crash: B's SAs and policies stay in B's kernel.
	stop_kinkd beta KILL
	if ! start_kinkd B beta; then
		fail $t-restart "beta did not come back"
		teardown $t
		return
	fi
	# The restarted daemon clears what its previous run left.
	stale=0
	for s in $old; do
		wait_until 20 sh -c "! /usr/sbin/ip -n B xfrm state | grep -q 'spi $s'" ||
		    stale=1
	done
	if [ $stale = 0 ]; then
		pass $t-stale-cleaned
	else
		fail $t-stale-cleaned "B still holds SAs of its previous run"
	fi
	if ping_until 60 $B4; then
		pass $t-traffic-resumes
	else
		fail $t-traffic-resumes "no answer from B within 60 s"
		LOGLINES=60 show_logs
	fi
	new=$(sa_spis A)
	if [ "$new" != "$old" ] && [ "$(sa_tuples A)" = "$(sa_tuples B)" ]; then
		pass $t-new-sas
	else
		fail $t-new-sas "A: $new (before $old)"
	fi
	if grep -q "restarted (EPOCH" $W/alpha.log; then
		pass $t-epoch-detected
	else
		fail $t-epoch-detected "alpha did not log the new EPOCH"
	fi
	teardown $t
}

unknown_principal() {
	t=kinkd-$1-unknown-peer
	PEERS="peer \"gamma\" {
	principal \"kink/gamma.test@$REALM\"
	address 10.0.0.3
	policy \"ping\" esp transport from $A4 to 10.0.0.3 proto icmp $XF lifetime 1h
}" pair $t $1 \
	    "policy \"ping\" esp transport from $A4 to $B4 proto icmp $XF lifetime 1h" \
	    "policy \"ping\" esp transport from $B4 to $A4 proto icmp $XF lifetime 1h" ||
	    return
	ip -n B addr add 10.0.0.3/24 dev vb
	ip netns exec A ping -c 1 -W 1 10.0.0.3 > /dev/null 2>&1
	if wait_until 30 grep -qiE "gamma.*(not found|unknown)|(not found|unknown).*gamma" \
	    $W/alpha.log; then
		pass $t-logged
		grep -iE "gamma.*(not found|unknown)|(not found|unknown).*gamma" \
		    $W/alpha.log | head -n 2 | sed 's/^/  log: /'
	else
		fail $t-logged "no log line naming gamma's unknown principal"
		show_logs
	fi
	# Keyed SAs only: the kernel's own larval ACQUIRE state may linger.
	if ! sa_tuples A | grep -q 10.0.0.3; then
		pass $t-no-sa
	else
		fail $t-no-sa "an SA toward the unknown peer"
		ip -n A xfrm state
	fi
	if kinkd_alive alpha; then
		pass $t-alive
	else
		fail $t-alive "alpha died"
	fi
	if ping_until 45 $B4 && [ "$(sa_count A)" -eq 2 ]; then
		pass $t-other-peer-ok
	else
		fail $t-other-peer-ok "traffic to beta affected"
		show_logs
	fi
	teardown $t
}

if ! setup_realm; then
	fail kinkd-more-realm "realm setup failed"
	exit 1
fi
tunnel xfrm
tunnel pfkey
rekey xfrm
rekey pfkey
lifetimes xfrm
lifetimes pfkey
restart xfrm
restart pfkey
unknown_principal pfkey
unknown_principal xfrm
exit $FAILED
