# Two kinkd (hosts A and B) with a real MIT KDC, on this kernel: ping from
# A to B with only the SPD entries kinkd installed triggers ACQUIRE ->
# CREATE -> SAs in both kernels (same SPIs and keys pairwise), the ping
# gets through and the ESP counters move; `kinkctl flush sa` on A empties
# both kernels and the next ping negotiates again; on SIGTERM (on-shutdown
# flush) a daemon removes its SAs and policies.  For pfkey v4, xfrm v4,
# xfrm v6.  The policies cover ICMP only so that KINK and Kerberos
# traffic between the hosts stays in clear.
. /tests/guest.sh
. /tests/realm.sh

W=/tmp/kinkd-vm
PORT=9100
rm -rf $W && mkdir -p $W

# One realm for all runs; the KDC runs in A, B reaches it over the veth.
setup_realm() {
	REALM_NO_TRAP=1 realm_start $W/realm || return 1
	for h in alpha beta; do
		realm_addprinc kink/$h.test && realm_ktadd kink/$h.test $W/$h.keytab ||
		    return 1
	done
	realm_stop
	# Listen on every address (realm.sh binds 127.0.0.1 only).
	sed -i '/kdc_listen\|kdc_tcp_listen/d' "$KRB5_KDC_PROFILE"
}

start_kdc() {
	/usr/sbin/ip netns exec A krb5kdc -n -r "$REALM" > $W/kdc.out 2>&1 &
	KDC_PID=$!
	sed "s/127.0.0.1:$REALM_PORT/$1:$REALM_PORT/" "$KRB5_CONFIG" > $W/krb5-B.conf
	cp "$KRB5_CONFIG" $W/krb5-A.conf
}

# conf NAME BACKEND ME THEM PROTO
write_conf() {
	cat > $W/$1.conf <<EOC
set principal "kink/$1.test@$REALM"
set keytab "$W/$1.keytab"
set port $PORT
set backend $2
set retransmit 200ms max 1s tries 5
set on-shutdown flush
listen on $3 port $PORT
peer "$6" {
	principal "kink/$6.test@$REALM"
	address $4
	policy "ping" esp transport from $3 to $4 proto $5 \\
	    transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h
}
EOC
}

# start NS NAME
start_kinkd() {
	mkdir -p $W/$2.rc
	# Not the ip() function: $! must be kinkd itself, not a subshell.
	/usr/sbin/ip netns exec $1 env KRB5_CONFIG=$W/krb5-$1.conf \
	    KRB5CCNAME=FILE:$W/$2.ccache KRB5RCACHEDIR=$W/$2.rc \
	    kinkd -d -v -f $W/$2.conf -s $W/$2.sock >> $W/$2.log 2>&1 &
	eval PID_$2=$!
	i=0
	while [ $i -lt 100 ]; do
		kinkctl -s $W/$2.sock show stats > /dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

stop_kinkd() {
	eval pid=\$PID_$1
	[ -n "$pid" ] || return 0
	kill -TERM $pid 2>/dev/null
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	eval PID_$1=
}

# SAs of namespace $1 as "src dst spi authkey enckey" lines, sorted.
sa_tuples() {
	ip -n $1 xfrm state | awk '
	/^src / { s = $2; d = $4 }
	/proto esp spi/ { spi = $4 }
	/auth-trunc/ { a = $3 }
	/^[ \t]*enc / { print s, d, spi, a, $3 }' | sort
}

sa_count() { sa_tuples $1 | wc -l; }

wait_sa_count() {	# NS N SECONDS
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		[ "$(sa_count $1)" -eq $2 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

show_logs() {
	for f in $W/alpha.log $W/beta.log; do
		echo "  --- $f"
		tail -n 30 $f | sed 's/^/  /'
	done
	for ns in A B; do
		echo "  --- ip -n $ns xfrm"
		ip -n $ns xfrm state | sed 's/^/  /'
		ip -n $ns xfrm policy | sed 's/^/  /'
	done
}

# run NAME BACKEND FAMILY
run() {
	t=kinkd-$1
	hosts_up || { fail $t "netns/veth setup"; return; }
	if [ $3 = 6 ]; then
		a=$A6 b=$B6 proto=ipv6-icmp
		# Static neighbours: ICMPv6 is under the policy, ND must not be.
		ma=$(ip -n A -o link show va | sed 's/.*link\/ether \([^ ]*\).*/\1/')
		mb=$(ip -n B -o link show vb | sed 's/.*link\/ether \([^ ]*\).*/\1/')
		ip -n A neigh replace $B6 lladdr $mb dev va nud permanent
		ip -n B neigh replace $A6 lladdr $ma dev vb nud permanent
	else
		a=$A4 b=$B4 proto=icmp
	fi
	start_kdc $A4
	write_conf alpha $2 $a $b $proto beta
	write_conf beta $2 $b $a $proto alpha
	: > $W/alpha.log
	: > $W/beta.log
	if ! start_kinkd A alpha || ! start_kinkd B beta; then
		fail $t-start "kinkd did not come up"
		show_logs
		stop_kinkd alpha; stop_kinkd beta
		kill $KDC_PID; wait $KDC_PID
		hosts_down
		return
	fi
	pass $t-start
	i=0	# kinkd installs its policies right after it answers
	while [ $i -lt 50 ] && ! { ip -n A xfrm policy | grep -q "dir out" &&
	    ip -n B xfrm policy | grep -q "dir out"; }; do
		sleep 0.1
		i=$((i + 1))
	done
	if ip -n A xfrm policy | grep -q "dir out" &&
	    ip -n B xfrm policy | grep -q "dir out"; then
		pass $t-spd-installed
	else
		fail $t-spd-installed "no outbound policy in the kernel"
	fi
	[ "$(sa_count A)" -eq 0 ] && [ "$(sa_count B)" -eq 0 ] ||
	    fail $t-no-sa-before "SAs before any traffic"
	# The first echo requests trigger the ACQUIRE and are lost.
	ip netns exec A ping -c 1 -W 1 $b > /dev/null 2>&1
	if wait_sa_count A 2 15 && wait_sa_count B 2 5; then
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
	    wait_sa_count A 0 10 && wait_sa_count B 0 10; then
		pass $t-flush-both
	else
		fail $t-flush-both "after flush: A $(sa_count A), B $(sa_count B)"
		cat $W/flush.out
	fi
	ip netns exec A ping -c 1 -W 1 $b > /dev/null 2>&1
	if wait_sa_count A 2 15 && wait_sa_count B 2 5 &&
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
	grep -E "ERROR|AddressSanitizer|runtime error" $W/alpha.log $W/beta.log &&
	    fail $t-sanitizers "sanitizer report in a kinkd log"
	stop_kinkd alpha
	kill $KDC_PID 2>/dev/null
	wait $KDC_PID 2>/dev/null
	hosts_down
}

if ! setup_realm; then
	fail kinkd-realm "realm setup failed"
	exit 1
fi
pass kinkd-realm
run pfkey-v4 pfkey 4
run xfrm-v4 xfrm 4
run xfrm-v6 xfrm 6
exit $FAILED
