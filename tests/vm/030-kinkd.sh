# Two kinkd (hosts A and B) with a real MIT KDC, on this kernel: ping from
# A to B with only the SPD entries kinkd installed triggers ACQUIRE ->
# CREATE -> SAs in both kernels (same SPIs and keys pairwise), the ping
# gets through and the ESP counters move; `kinkctl flush sa` on A empties
# (and logs the SAs it removed, counted as SAs, not pairs)
# both kernels and the next ping negotiates again; on SIGTERM (on-shutdown
# flush) a daemon removes its SAs and policies.  pfkey and xfrm, v4 and
# v6.  The policies cover ICMP only, so KINK and Kerberos traffic between
# the hosts stays in clear.
. /tests/guest.sh
. /tests/kinkd.sh

# run NAME BACKEND FAMILY
run() {
	t=kinkd-$1
	hosts_up || { fail $t "netns/veth setup"; return; }
	if [ $3 = 6 ]; then
		a=$A6 b=$B6 proto=ipv6-icmp
		static_neigh
	else
		a=$A4 b=$B4 proto=icmp
	fi
	start_kdc
	pol="policy \"ping\" esp transport from $a to $b proto $proto transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	write_conf alpha $2 $a beta $b "$pol"
	pol="policy \"ping\" esp transport from $b to $a proto $proto transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	write_conf beta $2 $b alpha $a "$pol"
	start_both $t || return
	pass $t-start
	if wait_spd; then
		pass $t-spd-installed
	else
		fail $t-spd-installed "no outbound policy in the kernel"
	fi
	[ "$(sa_count A)" -eq 0 ] && [ "$(sa_count B)" -eq 0 ] ||
	    fail $t-no-sa-before "SAs before any traffic"
	# The first echo request triggers the ACQUIRE and is lost.
	ip netns exec A ping -c 1 -W 1 $b > /dev/null 2>&1
	if wait_until 45 sa_count_is A 2 && wait_until 20 sa_count_is B 2; then
		pass $t-acquire-create
	else
		fail $t-acquire-create "SAs A $(sa_count A), B $(sa_count B)"
		show_logs
	fi
	if [ "$(sa_tuples A)" = "$(sa_tuples B)" ] && [ "$(sa_count A)" -eq 2 ]; then
		pass $t-sa-pairwise
	else
		fail $t-sa-pairwise "A and B differ"
		sa_tuples A; sa_tuples B
	fi
	before=$(esp_packets A)
	if ip netns exec A ping -c 3 -i 0.3 -W 2 $b > /dev/null 2>&1; then
		pass $t-ping
	else
		fail $t-ping "ping through the negotiated SAs failed"
	fi
	after=$(esp_packets A)
	echo "  esp packets on A: $before -> $after"
	if [ $after -ge $((before + 6)) ]; then
		pass $t-esp-counters
	else
		fail $t-esp-counters "A $before -> $after"
	fi
	# kinkctl flush sa: both kernels emptied (KINK DELETE), then again.
	if kinkctl -s $W/alpha.sock flush sa > $W/flush.out 2>&1 &&
	    wait_until 30 sa_count_is A 0 && wait_until 30 sa_count_is B 0; then
		pass $t-flush-both
	else
		fail $t-flush-both "after flush: A $(sa_count A), B $(sa_count B)"
		cat $W/flush.out
	fi
	# the count is of SAs (the pair: 2), not of pairs, in the kernel too
	if grep -q "flush: 2 SAs removed$" $W/alpha.log; then
		pass $t-flush-count
	else
		fail $t-flush-count "$(grep 'flush:' $W/alpha.log)"
	fi
	ip netns exec A ping -c 1 -W 1 $b > /dev/null 2>&1
	if wait_until 45 sa_count_is A 2 && wait_until 20 sa_count_is B 2 &&
	    ip netns exec A ping -c 2 -i 0.3 -W 2 $b > /dev/null 2>&1; then
		pass $t-renegotiate
	else
		fail $t-renegotiate "A $(sa_count A), B $(sa_count B)"
		show_logs
	fi
	# SIGTERM with on-shutdown flush: B's kernel keeps nothing of B's.
	stop_kinkd beta
	if [ "$(sa_count B)" -eq 0 ] && ! ip -n B xfrm policy | grep -q dir; then
		pass $t-shutdown-flush
	else
		fail $t-shutdown-flush "B kept $(sa_count B) SAs or its policies"
		show_logs
	fi
	teardown $t
}

if ! setup_realm; then
	fail kinkd-realm "realm setup failed"
	exit 1
fi
run pfkey-v4 pfkey 4
run pfkey-v6 pfkey 6
run xfrm-v4 xfrm 4
run xfrm-v6 xfrm 6
exit $FAILED
