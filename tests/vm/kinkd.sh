# Sourced by the kinkd scenarios (tests/vm/0[3-9]0-kinkd*.sh) after
# guest.sh: one MIT realm shared by all of them (KDC in namespace A,
# reachable from B over the veth), kinkd start/stop in a namespace, and
# readers of the kernel's SA table.
. /tests/realm.sh

W=/tmp/kinkd-vm
PORT=9100
KDC_PID=

# The realm is made once per boot; each scenario restarts the KDC in its
# fresh namespace A.
setup_realm() {
	mkdir -p $W
	if [ ! -f $W/realm.ok ]; then
		REALM_NO_TRAP=1 realm_start $W/realm || return 1
		for h in alpha beta; do
			realm_addprinc kink/$h.test &&
			    realm_ktadd kink/$h.test $W/$h.keytab || return 1
		done
		realm_stop
		# Listen on every address (realm.sh binds 127.0.0.1 only).
		sed -i '/kdc_listen\|kdc_tcp_listen/d' "$KRB5_KDC_PROFILE"
		env | grep -E '^(KRB5_|REALM)' | sed 's/^/export /' > $W/realm.env
		touch $W/realm.ok
	fi
	. $W/realm.env
}

start_kdc() {
	/usr/sbin/ip netns exec A krb5kdc -n -r "$REALM" > $W/kdc.out 2>&1 &
	KDC_PID=$!
	sed "s/127.0.0.1:$REALM_PORT/$A4:$REALM_PORT/" "$KRB5_CONFIG" > $W/krb5-B.conf
	cp "$KRB5_CONFIG" $W/krb5-A.conf
}

stop_kdc() {
	[ -n "$KDC_PID" ] && kill $KDC_PID 2>/dev/null && wait $KDC_PID 2>/dev/null
	KDC_PID=
}

# write_conf NAME BACKEND ME PEER PEERADDR POLICY: $W/NAME.conf; EXTRA
# (top-level lines) and PEERS (more peer blocks) are appended.
# Retransmission: the guest is emulated (TCG) and runs ASan builds, on a
# host that may be loaded: 1 s before the first resend and a 9 s cycle
# (1+2+2+2+2) leave an exchange room to finish without giving up.  No
# check here counts datagrams, and the waits below are bounds only.
write_conf() {
	cat > $W/$1.conf <<EOC
set principal "kink/$1.test@$REALM"
set keytab "$W/$1.keytab"
set port $PORT
set backend $2
set retransmit 1s max 2s tries 5
set delete-grace 1s
set on-shutdown flush
listen on $3 port $PORT
${EXTRA:-}
peer "$4" {
	principal "kink/$4.test@$REALM"
	address $5
	$6
}
${PEERS:-}
EOC
}

# start_kinkd NS NAME: in the background, log $W/NAME.log; returns when
# its control socket answers.  The test build (kinkd-test), like the other
# tiers; the demo runs the production kinkd.  KINKD_ARGS: more options (-P).
start_kinkd() {
	mkdir -p $W/$2.rc
	# Not the ip() function: $! must be kinkd itself, not a subshell.
	/usr/sbin/ip netns exec $1 env KRB5_CONFIG=$W/krb5-$1.conf \
	    KRB5CCNAME=FILE:$W/$2.ccache KRB5RCACHEDIR=$W/$2.rc \
	    kinkd-test -d -v ${KINKD_ARGS:-} -f $W/$2.conf -s $W/$2.sock >> $W/$2.log 2>&1 &
	eval PID_$2=$!
	i=0
	while [ $i -lt 300 ]; do	# a bound (30 s), not a delay
		kinkctl -s $W/$2.sock show stats > /dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# start_both NAME: alpha in A and beta in B on fresh logs; if either does
# not come up, NAME-start fails, the logs are shown and all is torn down
# (1).
start_both() {
	: > $W/alpha.log
	: > $W/beta.log
	if ! start_kinkd A alpha || ! start_kinkd B beta; then
		fail $1-start "kinkd did not come up"
		show_logs
		teardown $1
		return 1
	fi
}

# stop_kinkd NAME [SIGNAL]
stop_kinkd() {
	eval pid=\$PID_$1
	[ -n "$pid" ] || return 0
	kill -${2:-TERM} $pid 2>/dev/null
	i=0
	# 30 s: a flush on SIGTERM must not be cut short by the KILL
	while kill -0 $pid 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	eval PID_$1=
}

kinkd_alive() {
	eval pid=\$PID_$1
	[ -n "$pid" ] && kill -0 $pid 2>/dev/null
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
sa_spis() { sa_tuples $1 | awk '{ print $3 }' | sort | tr '\n' ' '; }

# wait_until SECONDS CMD...: poll every 0.1 s.
wait_until() {
	n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

sa_count_is() { [ "$(sa_count $1)" -eq $2 ]; }

wait_spd() {
	wait_until 20 sh -c "/usr/sbin/ip -n A xfrm policy | grep -q 'dir out' &&
	    /usr/sbin/ip -n B xfrm policy | grep -q 'dir out'"
}

show_logs() {
	for f in $W/alpha.log $W/beta.log; do
		echo "  --- $f"
		tail -n ${LOGLINES:-30} $f | sed 's/^/  /'
	done
	for ns in A B; do
		echo "  --- ip -n $ns xfrm"
		ip -n $ns xfrm state | grep -E '^src|spi' | sed 's/^/  /'
		ip -n $ns xfrm policy | sed 's/^/  /'
	done
}

# A sanitizer report or a crash in a kinkd log is a FAIL of its own.
check_logs() {
	if grep -qE "AddressSanitizer|LeakSanitizer|runtime error" \
	    $W/alpha.log $W/beta.log 2>/dev/null; then
		fail $1-sanitizers "sanitizer report in a kinkd log"
		grep -E -A20 "AddressSanitizer|LeakSanitizer|runtime error" \
		    $W/alpha.log $W/beta.log | head -60
	fi
}

# Both daemons and the KDC down, namespaces gone.
teardown() {
	stop_kinkd alpha
	stop_kinkd beta
	check_logs $1
	stop_kdc
	hosts_down
}
