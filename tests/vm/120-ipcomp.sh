# ESP + IPComp (RFC 3173, RFC 2407 4.4.1) negotiated by two kinkd on this
# kernel, transport mode, xfrm and pfkey over IPv4 (IPv6 IPComp SAs are
# checked by 020-sadb's ipcomp_ping; a kinkd run here costs a minute):
#  - `kinkctl show self` names deflate among the kernel's algorithms;
#  - the SPD entries carry the optional IPComp template ("level use");
#  - a ping with only the policies negotiates ESP and IPComp SAs in both
#    kernels, the same CPIs on both sides, the ones `kinkctl show sa`
#    lists;
#  - large compressible pings (-s 1400 -p 00) cross, the inbound IPComp
#    SAs of both hosts count them (decompressed) and ESP counts them too;
#  - a default-size ping crosses uncompressed (the kernel does not
#    compress below deflate's threshold; the template is optional);
#  - `kinkctl flush sa` (KINK DELETE) removes the IPComp SAs with the ESP
#    ones in both kernels.
# Then (xfrm, v4) IPComp made unavailable: Debian builds deflate in, so
# the IPComp protocol modules (ipcomp, ipcomp6, xfrm_ipcomp) are unloaded,
# moved out of the module tree and dropped from modules.dep; the kernel
# cannot load them (`ip xfrm state add` of an IPComp SA failing is the
# independent check): `kinkd -n` warns about the IPComp suite, the start
# skips it (one line), `show self` lists no compression, and the policy's
# kernel entries are the ESP-only suite's (no IPComp template).  The
# module tree is restored at the end.
# Then (xfrm, v4) a responder without IPComp: alpha's first suite is
# ESP+IPComp, beta's policy ESP only.  alpha's SPD entries keep the
# optional IPComp template, the kernel finds no IPComp SA for it and asks
# (ACQUIRE, proto comp) again each time its larval SA expires
# (net.core.xfrm_acq_expires, lowered to 2 s in A): pinging for 8 s
# leaves exactly one pair, one CREATE in alpha's log and the debug line
# that the IPComp ACQUIRE was dropped.
# The policies cover ICMP only, so KINK and Kerberos stay in clear.
. /tests/guest.sh
. /tests/kinkd.sh

XF="transforms { esp enc aes-128-cbc auth hmac-sha1 ipcomp deflate }"

# The CPIs of the IPComp SAs of namespace $1, sorted, one line (not the
# SPI-0 placeholder an ACQUIRE leaves while the exchange runs).
comp_cpis() {
	ip -n $1 xfrm state | awk '/proto comp spi/ && $4 != "0x00000000" {
	    print $4 }' | sort | tr '\n' ' '
}
comp_count() { comp_cpis $1 | wc -w; }
comp_count_is() { [ "$(comp_count $1)" -eq $2 ]; }
both_have() {
	sa_count_is A 2 && sa_count_is B 2 && comp_count_is A 2 &&
	    comp_count_is B 2
}
# The policy of namespace $1 in direction $2 (in, out) has the IPComp
# template first (innermost) and optional ("level use").
comp_tmpl_ok() {
	ip -n $1 xfrm policy | awk -v want="$2" '
	$1 == "dir" { d = $2; n = 0; next }
	d == want && $1 == "proto" { n++; c = n == 1 && $2 == "comp"; next }
	d == want && c && $1 == "level" && $2 == "use" { ok = 1 }
	END { exit !ok }'
}

# Packets of the IPComp SAs of namespace $1 from address $2 (inbound: an
# inbound IPComp SA counts only what came compressed).
comp_in() {
	ip -n $1 -s xfrm state list src $2 proto comp | awk '
	/^[[:space:]]*lifetime current:/ { cur = 1; next }
	cur && /packets/ { n += $2; cur = 0 }
	END { print n + 0 }'
}

# run NAME BACKEND FAMILY
run() {
	t=ipcomp-$1
	t0=$(date +%s)
	hosts_up || { fail $t "netns/veth setup"; return; }
	if [ $3 = 6 ]; then
		a=$A6 b=$B6 proto=ipv6-icmp
		static_neigh
	else
		a=$A4 b=$B4 proto=icmp
	fi
	start_kdc
	write_conf alpha $2 $a beta $b \
	    "policy \"zip\" esp transport from $a to $b proto $proto $XF lifetime 1h"
	write_conf beta $2 $b alpha $a \
	    "policy \"zip\" esp transport from $b to $a proto $proto $XF lifetime 1h"
	start_both $t || return
	kinkctl -s $W/alpha.sock show self > $W/self.out 2>&1
	if grep -q '^kernel_comp *deflate$' $W/self.out &&
	    ! grep -q 'skipped' $W/alpha.log; then
		pass $t-show-self
	else
		fail $t-show-self "$(cat $W/self.out; grep skipped $W/alpha.log)"
	fi
	if wait_spd && comp_tmpl_ok A in && comp_tmpl_ok A out &&
	    comp_tmpl_ok B in && comp_tmpl_ok B out; then
		pass $t-spd-optional-template
	else
		fail $t-spd-optional-template "$(ip -n A xfrm policy)"
	fi
	# The first echo request triggers the ACQUIRE and is lost.
	ip netns exec A ping -c 1 -W 1 $b > /dev/null 2>&1
	if wait_until 45 both_have; then
		pass $t-acquire-create
	else
		fail $t-acquire-create "ESP A $(sa_count A) B $(sa_count B), IPComp A $(comp_count A) B $(comp_count B)"
		show_logs
		teardown $t
		return
	fi
	cpis=$(comp_cpis A)
	if [ "$cpis" = "$(comp_cpis B)" ] &&
	    [ "$(sa_tuples A)" = "$(sa_tuples B)" ]; then
		pass $t-cpi-pairwise
	else
		fail $t-cpi-pairwise "A $cpis, B $(comp_cpis B)"
	fi
	kinkctl -s $W/alpha.sock show sa > $W/sa.out 2>&1
	miss=
	for c in $cpis; do
		grep -Eq " ipcomp +$c " $W/sa.out || miss="$miss $c"
	done
	if [ -z "$miss" ]; then
		pass $t-cpis-shown
	else
		fail $t-cpis-shown "not in show sa:$miss: $(cat $W/sa.out)"
	fi
	esp0=$(esp_packets A)
	ina0=$(comp_in A $b)
	inb0=$(comp_in B $a)
	if ip netns exec A ping -c 3 -i 0.3 -W 2 -s 1400 -p 00 $b > /dev/null 2>&1; then
		pass $t-ping-large
	else
		fail $t-ping-large "large pings lost"
		show_logs
	fi
	ina=$(comp_in A $b)
	inb=$(comp_in B $a)
	esp=$(esp_packets A)
	echo "  IPComp in: A $ina0 -> $ina, B $inb0 -> $inb; all SAs of A $esp0 -> $esp"
	if [ $ina -ge $((ina0 + 3)) ] && [ $inb -ge $((inb0 + 3)) ]; then
		pass $t-comp-counters
	else
		fail $t-comp-counters "inbound IPComp: A $ina0 -> $ina, B $inb0 -> $inb"
	fi
	if [ $esp -ge $((esp0 + 6)) ]; then
		pass $t-esp-counters
	else
		fail $t-esp-counters "A $esp0 -> $esp"
	fi
	if ip netns exec A ping -c 2 -i 0.3 -W 2 $b > /dev/null 2>&1 &&
	    [ "$(comp_in A $b)" -eq $ina ]; then
		pass $t-ping-small-uncompressed
	else
		fail $t-ping-small-uncompressed "small ping lost or compressed ($ina -> $(comp_in A $b))"
	fi
	if kinkctl -s $W/alpha.sock flush sa > $W/flush.out 2>&1 &&
	    wait_until 30 comp_count_is A 0 && wait_until 30 comp_count_is B 0 &&
	    sa_count_is A 0 && sa_count_is B 0; then
		pass $t-delete-removes-ipcomp
	else
		fail $t-delete-removes-ipcomp "IPComp A $(comp_count A) B $(comp_count B), ESP A $(sa_count A) B $(sa_count B)"
		cat $W/flush.out
	fi
	teardown $t
	echo "  $t: $(($(date +%s) - t0)) s"
}

esp_pair_up() { sa_count_is A 2 && sa_count_is B 2; }

run_peer_without() {
	t=ipcomp-peer-without
	t0=$(date +%s)
	hosts_up || { fail $t "netns/veth setup"; return; }
	ip netns exec A sh -c 'echo 2 > /proc/sys/net/core/xfrm_acq_expires'
	start_kdc
	esp="esp enc aes-128-cbc auth hmac-sha1"
	write_conf alpha xfrm $A4 beta $B4 \
	    "policy \"zip\" esp transport from $A4 to $B4 proto icmp transforms { $esp ipcomp deflate, $esp } lifetime 1h"
	write_conf beta xfrm $B4 alpha $A4 \
	    "policy \"zip\" esp transport from $B4 to $A4 proto icmp transforms { $esp } lifetime 1h"
	start_both $t || return
	if wait_spd && comp_tmpl_ok A out; then
		pass $t-template
	else
		fail $t-template "$(ip -n A xfrm policy)"
	fi
	ip netns exec A ping -c 1 -W 1 $B4 > /dev/null 2>&1
	if wait_until 45 esp_pair_up &&
	    ip netns exec A ping -c 2 -i 0.3 -W 2 $B4 > /dev/null 2>&1 &&
	    comp_count_is A 0 && comp_count_is B 0; then
		pass $t-esp-only-pair
	else
		fail $t-esp-only-pair "ESP A $(sa_count A) B $(sa_count B), IPComp A $(comp_count A) B $(comp_count B)"
		show_logs
		teardown $t
		return
	fi
	# Four larval lifetimes of traffic: each one an IPComp ACQUIRE.
	ip netns exec A ping -c 16 -i 0.5 -W 2 $B4 > /dev/null 2>&1
	# The larval IPComp SA (pings keep one) is the template's, not a
	# stray for reconciliation to remove.
	ip netns exec A ping -c 8 -i 0.2 -W 2 $B4 > /dev/null 2>&1 &
	ping_pid=$!
	sleep 0.5
	larval=$(ip -n A xfrm state | grep -c 'proto comp spi 0x00000000')
	kinkctl -s $W/alpha.sock reconcile > $W/rc.out 2>&1
	rc=$?
	wait $ping_pid
	if [ $rc -eq 0 ] && [ "$larval" -ge 1 ] &&
	    ! grep -q 'removing larval SA' $W/alpha.log; then
		pass $t-larval-kept
	else
		fail $t-larval-kept "exit $rc, larval $larval: $(cat $W/rc.out; grep 'removing larval' $W/alpha.log)"
	fi
	kinkctl -s $W/alpha.sock show sa > $W/sa.out 2>&1
	creates=$(grep -c 'ACQUIRE, starting CREATE' $W/alpha.log)
	if sa_count_is A 2 && sa_count_is B 2 && [ "$creates" -eq 1 ] &&
	    [ "$(grep -c ' esp ' $W/sa.out)" -eq 2 ] &&
	    grep -q 'peer beta chose no IPComp; policy zip: ACQUIRE for IPComp ignored' $W/alpha.log; then
		pass $t-one-pair
	else
		fail $t-one-pair "ESP A $(sa_count A) B $(sa_count B), $creates CREATEs by ACQUIRE: $(cat $W/sa.out)"
		grep -E 'ACQUIRE|IPComp' $W/alpha.log | tail -n 12
	fi
	teardown $t
	echo "  $t: $(($(date +%s) - t0)) s"
}

# IPComp gone from this kernel until restore_ipcomp; 0 when the kernel
# then refuses an IPComp SA.
MODDIR=/lib/modules/$(uname -r)
ipcomp_loaded() { grep -qE '^(xfrm_)?ipcomp6? ' /proc/modules; }
hide_ipcomp() {
	mkdir -p $W/hidden
	cp $MODDIR/modules.dep $W/hidden/modules.dep
	for f in $(find $MODDIR -name '*ipcomp*.ko*'); do
		mv $f $W/hidden/ && echo $f >> $W/hidden/list
	done
	sed -i '/ipcomp/d' $MODDIR/modules.dep
	# The IPComp states of the runs above go (and free the modules) late.
	wait_until 15 sh -c 'for m in ipcomp6 ipcomp xfrm_ipcomp; do
	    rmmod $m 2>/dev/null; done; ! grep -qE "^(xfrm_)?ipcomp6? " /proc/modules'
	! ipcomp_loaded && ! ip -n A xfrm state add src $A4 dst $B4 \
	    proto comp spi 0x1000 comp deflate 2>/dev/null
}

restore_ipcomp() {
	[ -f $W/hidden/list ] || return 0
	while read -r f; do
		mv $W/hidden/$(basename $f) $f
	done < $W/hidden/list
	cp $W/hidden/modules.dep $MODDIR/modules.dep
	rm -rf $W/hidden
}

wait_spd_a() {
	wait_until 20 sh -c "/usr/sbin/ip -n A xfrm policy | grep -q 'dir out'"
}

run_missing() {
	t=ipcomp-missing
	t0=$(date +%s)
	hosts_up || { fail $t "netns/veth setup"; return; }
	if ! hide_ipcomp; then
		fail $t-precondition "the kernel still installs an IPComp SA"
		grep ipcomp /proc/modules
		restore_ipcomp
		hosts_down
		return
	fi
	start_kdc
	xf="transforms { esp enc aes-128-cbc auth hmac-sha1 ipcomp deflate, esp enc aes-128-cbc auth hmac-sha1 }"
	write_conf alpha xfrm $A4 beta $B4 \
	    "policy \"zip\" esp transport from $A4 to $B4 proto icmp $xf lifetime 1h"
	write_conf beta xfrm $B4 alpha $A4 \
	    "policy \"zip\" esp transport from $B4 to $A4 proto icmp $xf lifetime 1h"
	/usr/sbin/ip netns exec A env KRB5_CONFIG=$W/krb5-A.conf \
	    kinkd-test -n -f $W/alpha.conf > $W/n.out 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q 'kinkd: warning: peer beta policy zip suite 1: the kernel has no IPComp deflate (/proc/crypto, kernel modules): kinkd would skip it' $W/n.out &&
	    ! grep -q 'suite 2' $W/n.out; then
		pass $t-n-warns
	else
		fail $t-n-warns "exit $rc: $(cat $W/n.out)"
	fi
	: > $W/alpha.log
	if ! start_kinkd A alpha; then
		fail $t-start "kinkd did not come up"
		show_logs
		teardown $t
		restore_ipcomp
		return
	fi
	if grep -q 'peer beta policy zip: suite .* skipped: the kernel has no IPComp deflate' $W/alpha.log &&
	    grep -q 'kernel algorithms (AF_ALG): .*; compression none' $W/alpha.log; then
		pass $t-start-skips
	else
		fail $t-start-skips "$(grep -E 'skipped|kernel algorithms' $W/alpha.log)"
	fi
	kinkctl -s $W/alpha.sock show self > $W/self.out 2>&1
	if grep -q '^kernel_comp *$' $W/self.out; then
		pass $t-show-self
	else
		fail $t-show-self "$(grep kernel_ $W/self.out)"
	fi
	# What is left is the ESP-only suite: no IPComp template.
	if wait_spd_a && ! ip -n A xfrm policy | grep -q 'proto comp'; then
		pass $t-no-template
	else
		fail $t-no-template "$(ip -n A xfrm policy)"
	fi
	teardown $t
	restore_ipcomp
	echo "  $t: $(($(date +%s) - t0)) s"
}

if ! setup_realm; then
	fail ipcomp-realm "realm setup failed"
	exit 1
fi
run xfrm-v4 xfrm 4
run pfkey-v4 pfkey 4
run_peer_without
run_missing
exit $FAILED
