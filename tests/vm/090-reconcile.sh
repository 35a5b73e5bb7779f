# Reconciliation on a real kernel: the SAs and the SPD entries kinkd
# installed are removed behind its back with ip xfrm.  `ip xfrm state
# flush` on A: `kinkctl reconcile` reports the two SAs lost, the pair is
# renegotiated (new SAs in both kernels, B's old ones gone by DELETE) and
# the ping goes through ESP again.  `ip xfrm policy flush` on A: the next
# reconcile writes the SPD entries again and the ping is ESP again.  With
# `set reconcile 2s` a state flush is repaired without kinkctl.  pfkey and
# xfrm, v4.  Each SPD entry the kernel lost is one log line naming its
# direction and selectors, and only those: none after the state flush.
. /tests/guest.sh
. /tests/kinkd.sh

esp_moves() {	# esp_moves NS: a ping from A to B raises NS's ESP counter
	before=$(esp_packets $1)
	ip netns exec A ping -c 2 -i 0.3 -W 2 $b > /dev/null 2>&1 &&
	    [ "$(esp_packets $1)" -ge $((before + 2)) ]
}

spis_changed() { [ "$(sa_spis $1)" != "$2" ]; }

# spd_lines DIR FROM TO: alpha's log lines for one re-installed SPD entry
spd_lines() {
	grep -c "reconcile: peer beta policy ping: SPD $1 $2/32 -> $3/32 proto 1 was not in the kernel; re-installed" $W/alpha.log
}
spd_any() { grep -c 'was not in the kernel; re-installed' $W/alpha.log; }
spd_both() { [ "$(spd_lines out $a $b)" -ge 1 ] && [ "$(spd_lines in $b $a)" -ge 1 ]; }

# run NAME BACKEND
run() {
	t=reconcile-$1
	hosts_up || { fail $t "netns/veth setup"; return; }
	a=$A4 b=$B4
	start_kdc
	pol="policy \"ping\" esp transport from $a to $b proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	EXTRA="set reconcile 0" write_conf alpha $2 $a beta $b "$pol"
	pol="policy \"ping\" esp transport from $b to $a proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	write_conf beta $2 $b alpha $a "$pol"
	: > $W/alpha.log
	: > $W/beta.log
	if ! start_kinkd A alpha || ! start_kinkd B beta || ! wait_spd; then
		fail $t-start "kinkd did not come up"
		show_logs
		teardown $t
		return
	fi
	ip netns exec A ping -c 1 -W 1 $b > /dev/null 2>&1
	if ! wait_until 45 sa_count_is A 2 || ! wait_until 20 sa_count_is B 2; then
		fail $t-create "SAs A $(sa_count A), B $(sa_count B)"
		show_logs
		teardown $t
		return
	fi
	oldb=$(sa_spis B)

	# 1. state flush on A, repaired on request
	ip -n A xfrm state flush
	kinkctl -s $W/alpha.sock reconcile > $W/rc1.out 2>&1
	if grep -q 'reconcile_lost *2' $W/rc1.out; then
		pass $t-state-lost-reported
	else
		fail $t-state-lost-reported "$(cat $W/rc1.out)"
	fi
	if wait_until 45 sa_count_is A 2 &&
	    wait_until 30 sa_count_is B 2 &&
	    wait_until 30 spis_changed B "$oldb" &&
	    [ "$(sa_tuples A)" = "$(sa_tuples B)" ]; then
		pass $t-state-renegotiated
	else
		fail $t-state-renegotiated "A $(sa_count A), B $(sa_count B)"
		show_logs
	fi
	if wait_until 20 esp_moves A; then
		pass $t-state-ping-esp
	else
		fail $t-state-ping-esp "no ESP from A after the repair"
	fi
	# the SPD was intact: no entry is reported re-installed
	if [ "$(spd_any)" -eq 0 ]; then
		pass $t-state-no-spd-line
	else
		fail $t-state-no-spd-line "$(grep 're-installed' $W/alpha.log)"
	fi

	# 2. policy flush on A, repaired on request
	ip -n A xfrm policy flush
	kinkctl -s $W/alpha.sock reconcile > $W/rc2.out 2>&1
	if wait_until 20 sh -c "/usr/sbin/ip -n A xfrm policy | grep -q 'dir out'"; then
		pass $t-policy-reinstalled
	else
		fail $t-policy-reinstalled "no outbound policy on A"
		cat $W/rc2.out
	fi
	if wait_until 20 spd_both && [ "$(spd_lines out $a $b)" -eq 1 ] &&
	    [ "$(spd_lines in $b $a)" -eq 1 ] && [ "$(spd_any)" -eq 2 ]; then
		pass $t-policy-one-line-per-entry
	else
		fail $t-policy-one-line-per-entry "$(grep 'reconcile' $W/alpha.log)"
	fi
	if wait_until 20 esp_moves A; then
		pass $t-policy-ping-esp
	else
		fail $t-policy-ping-esp "no ESP from A after the repair"
		show_logs
	fi

	# 3. periodic: no kinkctl
	sed -i 's/^set reconcile 0$/set reconcile 2s/' $W/alpha.conf
	kinkctl -s $W/alpha.sock reload > /dev/null 2>&1
	olda=$(sa_spis A)
	ip -n A xfrm state flush
	if wait_until 60 sa_count_is A 2 && wait_until 30 spis_changed A "$olda" &&
	    wait_until 20 esp_moves A; then
		pass $t-periodic-repaired
	else
		fail $t-periodic-repaired "A $(sa_count A) SAs"
		show_logs
	fi
	teardown $t
}

if ! setup_realm; then
	fail reconcile-realm "realm setup failed"
	exit 1
fi
run pfkey pfkey
run xfrm xfrm
exit $FAILED
