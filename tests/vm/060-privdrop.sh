# Privileges on a real kernel (docs/arch/daemon.md
# "Privileges"): kinkd started as root with "set user _kinkd" opens its
# sockets, PF_KEY/netlink and the control socket, then runs as _kinkd:
# every uid and gid in /proc/PID/status is _kinkd's, no supplementary
# groups, and the capability sets are the documented ones: under privilege
# separation (the default) the engine, which these look at, has none (the
# broker holds CAP_NET_ADMIN; vm 100 checks it); with -U (one process)
# CAP_NET_ADMIN (bit 12, 0x1000) effective and permitted with the xfrm
# backend, whose netlink checks it on every message, nothing with pfkey,
# which checks only when the socket is created.  The bounding set is the
# same as the permitted set, NoNewPrivs is set.  After the drop a ping
# still triggers ACQUIRE -> CREATE -> SAs in both kernels and crosses
# encrypted, and `kinkctl flush sa` still removes them.  An unknown user:
# kinkd says so and stays root.
. /tests/guest.sh
. /tests/kinkd.sh

KUID=190 KGID=190
# The initramfs root comes from a mktemp -d directory (mode 0700): an
# unprivileged user could not reach anything.
chmod 0755 /
grep -q '^_kinkd:' /etc/passwd ||
    echo "_kinkd:x:$KUID:$KGID:kinkd:/nonexistent:/bin/false" >> /etc/passwd
grep -q '^_kinkd:' /etc/group || echo "_kinkd:x:$KGID:" >> /etc/group

# The engine: under privilege separation (the default) the pid started is
# the broker (root, CAP_NET_ADMIN) and the engine, which parses the
# network, its child; with -U the one process.
engine_of() {
	eval pid=\$PID_$1
	c=$(cat /proc/$pid/task/$pid/children 2>/dev/null | awk '{ print $1 }')
	echo ${c:-$pid}
}
status_of() { cat /proc/$(engine_of $1)/status; }
field() { status_of $1 | awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }'; }

# run NAME BACKEND [CAPS]: CAPS the engine keeps (none unless -U)
run() {
	t=privdrop-$1
	hosts_up || { fail $t "netns/veth setup"; return; }
	start_kdc
	pol="policy \"ping\" esp transport from $A4 to $B4 proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	EXTRA='set user "_kinkd"' write_conf alpha $2 $A4 beta $B4 "$pol"
	pol="policy \"ping\" esp transport from $B4 to $A4 proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	EXTRA='set user "_kinkd"' write_conf beta $2 $B4 alpha $A4 "$pol"
	# What the user needs after the drop: read the keytab (every AP-REQ),
	# write the replay cache directory, read the configuration (reload).
	chmod 0711 $W
	for h in alpha beta; do
		chgrp _kinkd $W/$h.keytab $W/$h.conf && chmod 0640 $W/$h.keytab $W/$h.conf
		mkdir -p $W/$h.rc && chown _kinkd:_kinkd $W/$h.rc && chmod 0700 $W/$h.rc
		: > $W/$h.log
	done
	if ! start_kinkd A alpha || ! start_kinkd B beta; then
		fail $t-start "kinkd did not come up"
		show_logs
		teardown $t
		return
	fi
	caps=${3:-0000000000000000}
	for h in alpha beta; do
		echo "  $h: Uid $(field $h Uid) Gid $(field $h Gid) Groups '$(field $h Groups)'"
		echo "  $h: NoNewPrivs $(field $h NoNewPrivs)"
		echo "  $h: CapEff $(field $h CapEff) CapPrm $(field $h CapPrm) CapInh $(field $h CapInh) CapBnd $(field $h CapBnd) CapAmb $(field $h CapAmb)"
		set -- $(field $h Uid) $(field $h Gid)
		g=$(field $h Groups)
		if [ "$*" = "$KUID $KUID $KUID $KUID $KGID $KGID $KGID $KGID" ] &&
		    { [ -z "$g" ] || [ "$g" = "$KGID" ]; }; then
			pass $t-$h-ids
		else
			fail $t-$h-ids "Uid/Gid $*, Groups '$(field $h Groups)'"
		fi
		if [ "$(field $h CapEff)" = $caps ] && [ "$(field $h CapPrm)" = $caps ] &&
		    [ "$(field $h CapInh)" = 0000000000000000 ] &&
		    [ "$(field $h CapAmb)" = 0000000000000000 ]; then
			pass $t-$h-caps
		else
			fail $t-$h-caps "want CapEff=CapPrm=$caps, no inheritable/ambient"
		fi
		if [ "$(field $h CapBnd)" = $caps ] && [ "$(field $h NoNewPrivs)" = 1 ]; then
			pass $t-$h-bounding
		else
			fail $t-$h-bounding "want CapBnd=$caps and NoNewPrivs 1, have $(field $h CapBnd), $(field $h NoNewPrivs)"
		fi
	done
	if grep -q "running as _kinkd" $W/alpha.log; then
		pass $t-logged
	else
		fail $t-logged "no 'running as _kinkd' line"
		ls -ld $W $W/alpha.keytab $W/alpha.rc $W/alpha.conf
		show_logs
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
	if kinkctl -s $W/alpha.sock flush sa > $W/flush.out 2>&1 &&
	    wait_until 30 sa_count_is A 0 && wait_until 30 sa_count_is B 0; then
		pass $t-flush
	else
		fail $t-flush "after flush: A $(sa_count A), B $(sa_count B)"
		cat $W/flush.out
	fi
	if kinkd_alive alpha && kinkd_alive beta; then
		pass $t-alive
	else
		fail $t-alive "a kinkd died"
		show_logs
	fi
	teardown $t
}

# An account that does not exist: a clear line, and kinkd keeps running
# (as root) and negotiating.
run_unknown() {
	t=privdrop-unknown-user
	hosts_up || { fail $t "netns/veth setup"; return; }
	start_kdc
	pol="policy \"ping\" esp transport from $A4 to $B4 proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	EXTRA='set user "nosuchuser"' write_conf alpha xfrm $A4 beta $B4 "$pol"
	pol="policy \"ping\" esp transport from $B4 to $A4 proto icmp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h"
	write_conf beta xfrm $B4 alpha $A4 "$pol"
	start_both $t || return
	if grep -q "user nosuchuser does not exist" $W/alpha.log; then
		pass $t-logged
		grep "nosuchuser" $W/alpha.log | sed 's/^/  /'
	else
		fail $t-logged "no line naming the missing user"
		show_logs
	fi
	set -- $(field alpha Uid)
	[ "$1" = 0 ] && pass $t-stays-root || fail $t-stays-root "Uid $*"
	ip netns exec A ping -c 1 -W 1 $B4 > /dev/null 2>&1
	if wait_until 45 sa_count_is A 2; then
		pass $t-negotiates
	else
		fail $t-negotiates "SAs A $(sa_count A)"
	fi
	teardown $t
}

if ! setup_realm; then
	fail privdrop-realm "realm setup failed"
	exit 1
fi
run xfrm xfrm
run pfkey pfkey
# one process (-U): the engine keeps CAP_NET_ADMIN for xfrm only
KINKD_ARGS=-U
run xfrm-unseparated xfrm 0000000000001000
run pfkey-unseparated pfkey
KINKD_ARGS=
run_unknown
exit $FAILED
