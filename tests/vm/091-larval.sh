# A previous run's larval SAs (SPI 0: the kernel's placeholder while an
# ACQUIRE waits for its SAs) are removed when kinkd starts.  alpha runs
# in A alone (no kinkd answers in B), a ping makes the kernel ACQUIRE and
# hold a larval SA for the selector; `kinkctl show sa` marks it "larval"
# (never a kernel-only SA of the peer).  alpha is SIGKILLed, the larval SA
# stays; alpha restarted removes it at once and the next ping ACQUIREs
# again.  The kernel keeps larval SAs net.core.xfrm_acq_expires seconds
# (30 by default); it is raised to 600 so that only kinkd can have removed
# it within the bounds below.  pfkey and xfrm, v4.
. /tests/guest.sh
. /tests/kinkd.sh

larval_in_a() { ip -n A xfrm state | grep -q 'spi 0x00000000'; }
no_larval_in_a() { ! larval_in_a; }
acquired() { grep -q 'ACQUIRE, starting CREATE' $W/alpha.log; }

# run NAME BACKEND
run() {
	t=larval-$1
	hosts_up || { fail $t "netns/veth setup"; return; }
	ip netns exec A sh -c 'echo 600 > /proc/sys/net/core/xfrm_acq_expires'
	a=$A4 b=$B4
	start_kdc
	pol="policy \"ping\" esp transport from $a to $b proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	EXTRA="set reconcile 0" write_conf alpha $2 $a beta $b "$pol"
	: > $W/alpha.log
	if ! start_kinkd A alpha || ! wait_until 20 sh -c \
	    "/usr/sbin/ip -n A xfrm policy | grep -q 'dir out'"; then
		fail $t-start "kinkd did not come up"
		show_logs
		teardown $t
		return
	fi
	ip netns exec A ping -c 1 -W 1 $b > /dev/null 2>&1
	if wait_until 20 larval_in_a && wait_until 20 acquired; then
		pass $t-acquire-larval
	else
		fail $t-acquire-larval "no larval SA in A after the ping"
		show_logs
	fi
	kinkctl -s $W/alpha.sock show sa > $W/sa.txt 2>&1
	kinkctl -s $W/alpha.sock -j show sa > $W/sa.json 2>&1
	if grep -q 'larval (acquire pending)' $W/sa.txt &&
	    ! grep -q 'kernel-only' $W/sa.txt &&
	    grep -q '"state":"larval","enc":"none"' $W/sa.json &&
	    grep -q '"reason":"larval (acquire pending)"' $W/sa.json; then
		pass $t-show-sa-larval
	else
		fail $t-show-sa-larval "$(cat $W/sa.txt $W/sa.json)"
	fi
	stop_kinkd alpha KILL
	if larval_in_a; then
		pass $t-kill-leaves-larval
	else
		fail $t-kill-leaves-larval "the kernel dropped the larval SA"
	fi
	: > $W/alpha.log
	if ! start_kinkd A alpha; then
		fail $t-restart "kinkd did not come up again"
		show_logs
		teardown $t
		return
	fi
	if wait_until 10 no_larval_in_a &&
	    grep -q 'removing larval SA (acquire pending) esp' $W/alpha.log; then
		pass $t-restart-removes-larval
	else
		fail $t-restart-removes-larval "larval SA still in A"
		show_logs
	fi
	ip netns exec A ping -c 1 -W 1 $b > /dev/null 2>&1
	if wait_until 10 acquired; then
		pass $t-fresh-acquire
	else
		fail $t-fresh-acquire "no ACQUIRE after the restart"
		show_logs
	fi
	teardown $t
}

if ! setup_realm; then
	fail larval-realm "realm setup failed"
	exit 1
fi
run pfkey pfkey
run xfrm xfrm
exit $FAILED
