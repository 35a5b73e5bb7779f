# Privilege separation (kinkd -P, docs/arch/privsep.md) on a real kernel,
# with each backend: the pid started is the broker, root with
# CAP_NET_ADMIN (bit 12) only; its child, the engine, runs as _kinkd with
# no capability, NoNewPrivs and seccomp (Seccomp: 2).  A ping triggers
# ACQUIRE -> CREATE through the broker and crosses encrypted.  An SPD
# entry outside the configuration (test knob) is refused by the broker
# with a log line and never reaches the kernel; a system call outside the
# engine's allowlist kills the engine (SIGSYS), the broker logs it and
# exits 1, and the SAs stay in the kernel as after any crash.
. /tests/guest.sh
. /tests/kinkd.sh

KUID=190 KGID=190
chmod 0755 /
grep -q '^_kinkd:' /etc/passwd ||
    echo "_kinkd:x:$KUID:$KGID:kinkd:/nonexistent:/bin/false" >> /etc/passwd
grep -q '^_kinkd:' /etc/group || echo "_kinkd:x:$KGID:" >> /etc/group

field() { awk -v f="$2:" '$1 == f { print $2 }' /proc/$1/status; }
# The engine: the broker's child.
engine_of() {
	for s in /proc/[0-9]*/status; do
		if [ "$(awk '$1 == "PPid:" { print $2 }' $s 2>/dev/null)" = "$1" ]; then
			basename ${s%/status}
			return
		fi
	done
}

# run BACKEND
run() {
	t=privsep-$1
	hosts_up || { fail $t "netns/veth setup"; return; }
	start_kdc
	pol="policy \"ping\" esp transport from $A4 to $B4 proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	EXTRA='set user "_kinkd"' write_conf alpha $1 $A4 beta $B4 "$pol"
	pol="policy \"ping\" esp transport from $B4 to $A4 proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	EXTRA='set user "_kinkd"' write_conf beta $1 $B4 alpha $A4 "$pol"
	chmod 0711 $W
	for h in alpha beta; do
		chgrp _kinkd $W/$h.keytab $W/$h.conf && chmod 0640 $W/$h.keytab $W/$h.conf
		mkdir -p $W/$h.rc && chown _kinkd:_kinkd $W/$h.rc && chmod 0700 $W/$h.rc
	done
	KINKD_ARGS=-P start_both $t || return
	bk=$PID_alpha
	eng=$(engine_of $bk)
	echo "  broker $bk: Uid $(field $bk Uid) CapEff $(field $bk CapEff) CapBnd $(field $bk CapBnd)"
	echo "  engine $eng: Uid $(field $eng Uid) CapEff $(field $eng CapEff) CapPrm $(field $eng CapPrm) CapBnd $(field $eng CapBnd) Seccomp $(field $eng Seccomp) NoNewPrivs $(field $eng NoNewPrivs)"
	if [ -n "$eng" ] && [ "$(field $eng CapEff)" = 0000000000000000 ] &&
	    [ "$(field $eng CapPrm)" = 0000000000000000 ] &&
	    [ "$(field $eng CapBnd)" = 0000000000000000 ] &&
	    [ "$(field $eng Seccomp)" = 2 ] && [ "$(field $eng NoNewPrivs)" = 1 ] &&
	    [ "$(field $eng Uid)" = $KUID ]; then
		pass $t-engine-sandboxed
	else
		fail $t-engine-sandboxed "want Uid $KUID, caps 0, Seccomp 2, NoNewPrivs 1"
	fi
	if [ "$(field $bk CapEff)" = 0000000000001000 ] &&
	    [ "$(field $bk CapPrm)" = 0000000000001000 ]; then
		pass $t-broker-net-admin-only
	else
		fail $t-broker-net-admin-only "broker CapEff $(field $bk CapEff)"
	fi
	if wait_spd; then
		pass $t-spd-installed
	else
		fail $t-spd-installed "no outbound policy in the kernel"
	fi
	ip netns exec A ping -c 1 -W 1 $B4 > /dev/null 2>&1
	if wait_until 45 sa_count_is A 2 && wait_until 20 sa_count_is B 2 &&
	    [ "$(sa_tuples A)" = "$(sa_tuples B)" ]; then
		pass $t-sa-installed
	else
		fail $t-sa-installed "SAs A $(sa_count A), B $(sa_count B)"
		show_logs
	fi
	before=$(esp_packets A)
	if ip netns exec A ping -c 3 -i 0.3 -W 2 $B4 > /dev/null 2>&1 &&
	    [ $(esp_packets A) -ge $((before + 6)) ]; then
		pass $t-ping-esp
	else
		fail $t-ping-esp "ping or ESP counters ($before -> $(esp_packets A))"
	fi
	echo privsep-spd > $W/alpha.sock.inject
	kill -USR1 $bk
	if wait_until 20 grep -q "privsep: broker refused SPD_ADD from the engine: SPD entry reqid 1073741808 is not a configured policy" $W/alpha.log &&
	    ! ip -n A xfrm policy | grep -q 203.0.113; then
		pass $t-foreign-spd-refused
	else
		fail $t-foreign-spd-refused "no refusal line, or the policy reached the kernel"
		show_logs
	fi
	echo privsep-syscall > $W/alpha.sock.inject
	kill -USR1 $bk
	if wait_until 20 sh -c "! kill -0 $eng 2>/dev/null && ! kill -0 $bk 2>/dev/null"; then
		wait $bk
		st=$?
		PID_alpha=
		if [ $st = 1 ] && grep -q "privsep: the engine (pid $eng) was killed by its seccomp filter" $W/alpha.log; then
			pass $t-seccomp-kill
		else
			fail $t-seccomp-kill "broker status $st, or no log line"
			show_logs
		fi
	else
		fail $t-seccomp-kill "engine or broker still running"
		show_logs
	fi
	# As after a crash: the SAs are still in the kernel.
	if [ "$(sa_count A)" = 2 ]; then
		pass $t-sas-stay
	else
		fail $t-sas-stay "A has $(sa_count A) SAs"
	fi
	teardown $t
}

if ! setup_realm; then
	fail privsep-realm "realm setup failed"
	exit 1
fi
run xfrm
run pfkey
exit $FAILED
