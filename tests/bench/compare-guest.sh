# Guest side of tests/bench/compare.sh where=vm (run by the VM tier's
# /init from an initramfs that tests/bench/compare-vm.sh builds; never a
# VM-tier scenario): hosts A and B as namespaces over a veth, the VM
# tier's realm, then interleaved rounds of kinkd (xfrm backend) and
# charon (kernel-netlink), both installing real SAs, host-to-host
# transport for ICMP (KINK, Kerberos and IKE stay in clear).  Prints the
# "compare where=vm" lines, the responder's user/system CPU split, and a
# profile of the kinkd responder (perf, software clock, call graphs),
# taken in a run of its own so the measured rounds carry no sampling.
. /tests/guest.sh
. /tests/kinkd.sh
. /tests/swan.sh
: "${VM_N:=200}" "${VM_ROUNDS:=3}" "${VM_CONC:=1 8}"
R=$W/res

# the kinkd pair without -v: the rounds measure the exchange, not logging
start_quiet() {	# start_quiet NS NAME
	mkdir -p $W/$2.rc
	/usr/sbin/ip netns exec $1 env KRB5_CONFIG=$W/krb5-$1.conf \
	    KRB5CCNAME=FILE:$W/$2.ccache KRB5RCACHEDIR=$W/$2.rc \
	    kinkd-test -d -f $W/$2.conf -s $W/$2.sock >> $W/$2.log 2>&1 &
	eval PID_$2=$!
	i=0
	while [ $i -lt 600 ]; do	# a bound (60 s), not a delay
		kinkctl -s $W/$2.sock show stats > /dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

kinkd_pair() {
	pol="policy \"bench\" esp transport from $A4 to $B4 proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	EXTRA="set max-xact-peer 100000" write_conf alpha xfrm $A4 beta $B4 "$pol"
	pol="policy \"bench\" esp transport from $B4 to $A4 proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	EXTRA="set max-xact-peer 100000" write_conf beta xfrm $B4 alpha $A4 "$pol"
	: > $W/alpha.log
	: > $W/beta.log
	start_quiet A alpha && start_quiet B beta
}

# user and system CPU ticks of a process: "utime stime"
ticks() { awk '{ sub(/.*\) /, ""); print $12, $13 }' /proc/$1/stat; }

kinkd_round() {	# kinkd_round CONC [perf]
	kinkd_pair || { fail compare-kinkd-start "kinkd did not come up"; show_logs; return 1; }
	PROF_PID=$PID_beta
	t0=$(ticks $PID_beta)
	n0=$(cpu_ns $PID_beta)
	if [ "${2:-}" = perf ]; then
		# system-wide: a per-task software clock under TCG takes
		# too few samples; the report keeps the responder's (--pid)
		HOME=$W perf record -q -a -e cpu-clock -F 997 -g \
		    -o $W/perf.data > $W/perf.out 2>&1 &
		pp=$!
		sleep 2	# perf has attached; not a pass criterion
	fi
	bench_create -s $W/alpha.sock -p beta -n $VM_N -c $1 -r $PID_beta \
	    > $W/round.out 2>&1
	t1=$(ticks $PID_beta)
	n1=$(cpu_ns $PID_beta)
	if [ "${2:-}" = perf ]; then
		kill -INT $pp
		wait $pp
	fi
	stop_kinkd alpha
	stop_kinkd beta
	sed "s/^/# kinkd c=$1: /" $W/round.out | head -n 4
	[ "${2:-}" = perf ] && return 0
	echo "$t0 $t1" | awk -v c=$1 '{ printf "# kinkd c=%s: responder user %d sys %d ticks\n", c, $3 - $1, $4 - $2 }'
	bench_parse $W/round.out "$n0" "$n1" >> $R/kinkd.$1
}

swan_round() {	# swan_round CONC
	swan_conn_i $W $A4 $B4 5100 $1 $(( (VM_N + $1 - 1) / $1 + 1 )) \
	    transport "$A4/32[1]" "$B4/32[1]"
	ok=1
	swan_start beta $W /usr/sbin/ip netns exec B || ok=0
	b=$SWAN_PID
	swan_start alpha $W /usr/sbin/ip netns exec A || ok=0
	a=$SWAN_PID
	if [ $ok = 1 ] && swan_warm $W $1; then
		t0=$(ticks $b)
		n0=$(cpu_ns $b)
		bench_vici -s $W/alpha.vici -n $VM_N -c $1 -r $b > $W/round.out 2>&1
		t1=$(ticks $b)
		n1=$(cpu_ns $b)
		sed "s/^/# charon c=$1: /" $W/round.out | head -n 4
		echo "$t0 $t1" | awk -v c=$1 '{ printf "# charon c=%s: responder user %d sys %d ticks\n", c, $3 - $1, $4 - $2 }'
		bench_parse $W/round.out "$n0" "$n1" >> $R/swan.$1
	else
		fail compare-swan-start "charon did not come up"
	fi
	swan_stop $a
	swan_stop $b
}

hosts_up || { fail compare-setup "netns/veth setup"; exit 1; }
setup_realm || { fail compare-setup "realm"; exit 1; }
start_kdc
mkdir -p $R
SWAN_LOAD="random nonce openssl kdf pem pkcs1 x509 kernel-netlink socket-default vici"
swan_conf alpha 5000 $W "$SWAN_LOAD"
swan_conf beta 5100 $W "$SWAN_LOAD"
# ICMP by number: the guest has no /etc/protocols
swan_conn_r $W $B4 $A4 transport "$B4/32[1]" "$A4/32[1]"
echo "# guest: $(nproc) CPUs, N=$VM_N, $VM_ROUNDS rounds, uptime:$(uptime)"
for r in $(seq $VM_ROUNDS); do
	for c in $VM_CONC; do
		kinkd_round $c
		swan_round $c
	done
done
for c in $VM_CONC; do
	compare_line vm $c $R
done

# where kinkd's time goes: one more run (8 in flight) under perf
if command -v perf > /dev/null; then
	kinkd_round 8 perf
	# shares of the responder's own samples
	P="-i $W/perf.data --stdio -q -g none --pid $PROF_PID --percentage relative"
	if [ -s $W/perf.data ]; then
		echo "# samples by process (the responder is pid $PROF_PID):"
		HOME=$W perf report -i $W/perf.data --stdio -q -g none \
		    --sort pid 2>&1 | grep -v '^$' | head -n 8 |
		    sed 's/^/profile pid /'
		echo "# profile of the kinkd responder, self time by object:"
		HOME=$W perf report $P --no-children --sort dso 2>$W/perf.err |
		    grep -v '^$' |
		    head -n 12 | sed 's/^/profile dso /'
		echo "# self time by symbol:"
		HOME=$W perf report $P --no-children --sort dso,sym \
		    2>/dev/null | grep -v '^$' |
		    head -n 30 | sed 's/^/profile sym /'
		echo "# time with callees, by symbol (where the time goes):"
		HOME=$W perf report $P --children --sort sym 2>>$W/perf.err |
		    grep -v '^$' |
		    head -n 45 | sed 's/^/profile incl /'
		sed 's/^/# perf: /' $W/perf.err | head -n 5
	else
		echo "# perf recorded nothing:"
		sed 's/^/#   /' $W/perf.out | head -n 5
	fi
fi
stop_kdc
hosts_down
exit 0
