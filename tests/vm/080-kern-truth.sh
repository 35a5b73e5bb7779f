# What kinkd reports is what the kernel enforces, pfkey and xfrm (v4):
# - one instance: a second kinkd in A (-d, the same control socket; or
#   another socket and port) exits non-zero with its reason on stderr, and
#   every kernel policy and SA of the first is still there afterwards;
# - priorities: beside a policy for all TCP between A and B, a policy for
#   TCP port 443 gets the SYN to port 443: the ACQUIRE names the "web"
#   policy and the SAs negotiated carry the reqid of its kernel template.
. /tests/guest.sh
. /tests/kinkd.sh

# reqid of the template of A's outbound policy for TCP port 443 (web) or
# for all TCP (tcp), as the kernel shows it (the guest has no
# /etc/protocols: ip prints "proto 6")
pol_reqid() {
	ip -n A xfrm policy | awk -v want=$1 '
	/^src / { p = ($0 ~ /proto (tcp|6)( |$)/) ? (($0 ~ /dport 443/) ? "web" : "tcp") : "" }
	/dir out/ { out = 1; next }
	/^src / { out = 0 }
	/reqid/ && out && p == want {
		for (i = 1; i < NF; i++) if ($i == "reqid") print $(i + 1)
		out = 0 }' | head -1
}
sa_reqids() {
	ip -n A xfrm state | awk '/reqid/ { for (i = 1; i < NF; i++)
	    if ($i == "reqid") print $(i + 1) }' | sort -u | tr '\n' ' '
}
policies() { ip -n $1 xfrm policy | grep -cE 'dir (in|out|fwd) '; }
pols_are() { [ "$(policies $1)" -eq $2 ]; }

# second NAME ARGS...: another kinkd in A; its exit status in $W/NAME.rc,
# its output in $W/NAME.err; one still running after the bound is stopped
# (SIGTERM, as an admin would) so that the checks see what it did.
second() {
	sn=$1
	shift
	rm -f $W/$sn.rc $W/$sn.pid
	( /usr/sbin/ip netns exec A env KRB5_CONFIG=$W/krb5-A.conf \
	    KRB5CCNAME=FILE:$W/$sn.ccache KRB5RCACHEDIR=$W/alpha.rc \
	    kinkd-test "$@" > $W/$sn.err 2>&1 &
	  echo $! > $W/$sn.pid
	  wait $!
	  echo $? > $W/$sn.rc ) &
	spid=$!
	# (wait_until uses $n: this function keeps its own names)
	if ! wait_until 30 test -s $W/$sn.rc; then
		echo "  second kinkd $sn was still running: SIGTERM"
		kill $(cat $W/$sn.pid)
		wait_until 30 test -s $W/$sn.rc
	fi
	wait $spid 2>/dev/null
}

run() {
	t=truth-$1
	hosts_up || { fail $t "netns/veth setup"; return; }
	a=$A4 b=$B4
	start_kdc
	pol="policy \"tcp\" esp transport from $a to $b proto tcp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h
	policy \"web\" esp transport from $a to $b port 443 proto tcp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h
	policy \"ping\" esp transport from $a to $b proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	write_conf alpha $2 $a beta $b "$pol"
	pol="policy \"tcp\" esp transport from $b to $a proto tcp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h
	policy \"web\" esp transport from $b port 443 to $a proto tcp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h
	policy \"ping\" esp transport from $b to $a proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	write_conf beta $2 $b alpha $a "$pol"
	: > $W/alpha.log
	: > $W/beta.log
	if ! start_kinkd A alpha || ! start_kinkd B beta || ! wait_spd; then
		fail $t-start "kinkd did not come up"
		show_logs
		teardown $t
		return
	fi
	# All six entries in (wait_spd sees the first one).
	wait_until 30 pols_are A 6 || fail $t-policies "A has $(policies A) of 6"
	# Item 2: the SYN to port 443 is the web policy's.
	web=$(pol_reqid web)
	tcp=$(pol_reqid tcp)
	echo "  reqids: web $web, tcp $tcp"
	ip netns exec A nc -w 1 $b 443 < /dev/null > /dev/null 2>&1
	if wait_until 45 sa_count_is A 2 && wait_until 20 sa_count_is B 2; then
		pass $t-syn443-create
	else
		fail $t-syn443-create "SAs A $(sa_count A), B $(sa_count B)"
		show_logs
	fi
	if grep -q 'peer beta policy web: ACQUIRE, starting CREATE' $W/alpha.log &&
	    ! grep -q 'policy tcp: ACQUIRE' $W/alpha.log; then
		pass $t-syn443-acquire-web
	else
		fail $t-syn443-acquire-web "$(grep ACQUIRE $W/alpha.log | head -3)"
	fi
	if [ -n "$web" ] && [ "$web" != "$tcp" ] &&
	    [ "$(sa_reqids)" = "$web " ]; then
		pass $t-syn443-sa-reqid
	else
		fail $t-syn443-sa-reqid "SA reqids '$(sa_reqids)', web $web, tcp $tcp"
	fi
	# Item 1: a second kinkd in A changes nothing.
	np=$(policies A)
	ns=$(sa_count A)
	second same -d -v -f $W/alpha.conf -s $W/alpha.sock
	if [ -s $W/same.rc ] && [ "$(cat $W/same.rc)" -ne 0 ] &&
	    grep -q "another kinkd is running with control socket $W/alpha.sock" $W/same.err; then
		pass $t-second-same-socket-refused
	else
		fail $t-second-same-socket-refused "rc $(cat $W/same.rc 2>/dev/null): $(head -3 $W/same.err)"
	fi
	sed "s/$PORT/$((PORT + 1))/g" $W/alpha.conf > $W/alpha2.conf
	second other -d -v -f $W/alpha2.conf -s $W/other.sock
	if [ -s $W/other.rc ] && [ "$(cat $W/other.rc)" -ne 0 ] &&
	    grep -q "another kinkd is running with the kernel's SAs and policies in this network namespace" $W/other.err; then
		pass $t-second-other-socket-refused
	else
		fail $t-second-other-socket-refused "rc $(cat $W/other.rc 2>/dev/null): $(head -3 $W/other.err)"
	fi
	if [ "$(policies A)" -eq "$np" ] && [ "$np" -eq 6 ] &&
	    [ "$(sa_count A)" -eq "$ns" ] && [ -S $W/alpha.sock ] &&
	    kinkctl -s $W/alpha.sock show stats > /dev/null 2>&1; then
		pass $t-first-kept-all
	else
		fail $t-first-kept-all "policies $np -> $(policies A), SAs $ns -> $(sa_count A)"
		show_logs
	fi
	# And the first still protects: ping negotiates and crosses.
	ip netns exec A ping -c 1 -W 1 $b > /dev/null 2>&1
	if wait_until 45 sa_count_is A 4 &&
	    ip netns exec A ping -c 2 -i 0.3 -W 2 $b > /dev/null 2>&1; then
		pass $t-first-still-negotiates
	else
		fail $t-first-still-negotiates "SAs A $(sa_count A)"
		show_logs
	fi
	teardown $t
}

if ! setup_realm; then
	fail truth-realm "realm setup failed"
	exit 1
fi
run pfkey pfkey
run xfrm xfrm
exit $FAILED
