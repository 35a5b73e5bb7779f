#!/bin/sh
# Guest side of ./tests/demo (not an NNN-*.sh script: /init runs it only
# when the demo copies it in under a number).  Two hosts of the example
# configuration etc/kinkd.conf as network namespaces: alpha (192.0.2.1,
# 2001:db8::1) and beta (192.0.2.2, 2001:db8::2), a throwaway MIT realm
# EXAMPLE.ORG whose KDC runs in alpha's namespace on a third address
# (192.0.2.88: the example's host-to-host policies cover every packet
# between alpha and beta, so the KDC must not be one of them), kinkd on
# each host from /etc/kinkd.conf (beta's file is the same with the hosts
# swapped, as the example says).  A ping from alpha to beta meets only the
# policies kinkd installed: ACQUIRE -> KINK CREATE -> SAs -> ping replies
# through ESP.  Prints the evidence and "DEMO-RESULT ok" or
# "DEMO-RESULT failed: why" last.
. /tests/guest.sh
REALM=EXAMPLE.ORG REALM_NO_TRAP=1
. /tests/realm.sh

A=192.0.2.1 B=192.0.2.2 A6=2001:db8::1 B6=2001:db8::2 KDC=192.0.2.88
W=/tmp/demo
rm -rf $W && mkdir -p $W /var/tmp

KDC_PID= PIDS=
step() { echo; echo "=== $*"; }
# Daemons, KDC and namespaces away: the VM tier (070-demo.sh) runs other
# scripts after this one.
cleanup() {
	kill $PIDS $KDC_PID 2>/dev/null
	wait $PIDS $KDC_PID 2>/dev/null
	ip netns del A 2>/dev/null
	ip netns del B 2>/dev/null
}
die() {
	echo "DEMO-RESULT failed: $*"
	for h in alpha beta; do
		[ -f $W/$h.log ] && { echo "--- $h log"; tail -n 40 $W/$h.log; }
	done
	cleanup
	exit 1
}
wait_for() {	# SECONDS CMD...: poll every 0.1 s, wall-clock bounded
	end=$(($(date +%s) + $1))
	shift
	while [ $(date +%s) -le $end ]; do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
nsa() { ip -n $1 xfrm state | grep -c '^src'; }
has_sa() { [ "$(nsa A)" -ge 2 ] && [ "$(nsa B)" -ge 2 ]; }

step "two hosts: alpha ($A, $A6) and beta ($B, $B6) in network namespaces"
cleanup
ip netns add A && ip netns add B &&
ip link add va netns A type veth peer name vb netns B &&
ip -n A addr add $A/24 dev va && ip -n A addr add $KDC/24 dev va &&
ip -n B addr add $B/24 dev vb &&
ip -n A addr add $A6/64 dev va nodad && ip -n B addr add $B6/64 dev vb nodad &&
ip -n A link set lo up && ip -n B link set lo up &&
ip -n A link set va up && ip -n B link set vb up || die "netns setup"
# The example's IPv6 policy covers ICMPv6 too: neighbour discovery must
# not need an SA.
ma=$(ip -n A -o link show va | sed 's/.*link\/ether \([^ ]*\).*/\1/')
mb=$(ip -n B -o link show vb | sed 's/.*link\/ether \([^ ]*\).*/\1/')
ip -n A neigh replace $B6 lladdr $mb dev va nud permanent
ip -n B neigh replace $A6 lladdr $ma dev vb nud permanent

step "throwaway Kerberos realm EXAMPLE.ORG, KDC on $KDC (in alpha's namespace)"
realm_start $W/realm > $W/realm.out 2>&1 ||
    { cat $W/realm.out; die "realm setup"; }
# The keytab where this build of kinkd looks by default ("set keytab").
KT=$(kinkd -nv -f /etc/kinkd.conf 2>/dev/null | sed -n 's/^set keytab "\(.*\)"$/\1/p')
[ -n "$KT" ] || die "kinkd -nv does not show the default keytab"
mkdir -p "$(dirname "$KT")"
for h in alpha beta; do
	realm_addprinc kink/$h.example.org > /dev/null &&
	    realm_ktadd kink/$h.example.org "$KT" > /dev/null ||
	    die "principal kink/$h.example.org"
	echo "kadmin: addprinc -randkey kink/$h.example.org; ktadd -k $KT kink/$h.example.org"
done
realm_stop
# The account kinkd changes to after start-up ("set user", default _kinkd;
# systemd-sysusers creates it on a real host).  It reads the keytab and
# writes the replay cache.  The initramfs root is mode 0700 (mktemp -d).
chmod 0755 /
grep -q '^_kinkd:' /etc/passwd ||
    echo "_kinkd:x:190:190:kinkd:/nonexistent:/bin/false" >> /etc/passwd
grep -q '^_kinkd:' /etc/group || echo "_kinkd:x:190:" >> /etc/group
chgrp _kinkd "$KT" && chmod 0640 "$KT"
sed -i "s/127.0.0.1:$REALM_PORT/$KDC:$REALM_PORT/" "$KRB5_CONFIG" "$KRB5_KDC_PROFILE"
/usr/sbin/ip netns exec A krb5kdc -n -r EXAMPLE.ORG > $W/kdc.out 2>&1 &
KDC_PID=$!

step "kinkd on each host from the example configuration"
cp /etc/kinkd.conf $W/alpha.conf
# beta's file: "the same with the two hosts swapped", the port of policy
# "web" staying with beta, which serves it (etc/kinkd.conf).
sed -e '/^[[:space:]]*#/b' -e 's/alpha/@A@/g; s/beta/alpha/g; s/@A@/beta/g' \
    -e 's/192\.0\.2\.1"/@A4@/; s/192\.0\.2\.2/192.0.2.1/g; s/@A4@/192.0.2.2"/' \
    -e 's/2001:db8::1"/@A6@/; s/2001:db8::2/2001:db8::1/g; s/@A6@/2001:db8::2"/' \
    -e 's/10\.1\.0\.0/@N1@/; s/10\.2\.0\.0/10.1.0.0/; s/@N1@/10.2.0.0/' \
    -e 's/from \$me to 192\.0\.2\.1 port 443/from $me port 443 to 192.0.2.1/' \
    /etc/kinkd.conf > $W/beta.conf
echo "beta.conf differs from alpha's (etc/kinkd.conf) only in:"
diff -u $W/alpha.conf $W/beta.conf | grep '^[-+][^-+]' | sed 's/^/    /'
for h in alpha beta; do
	kinkd -n -f $W/$h.conf > $W/$h.check 2>&1 ||
	    { cat $W/$h.check; die "kinkd -n rejects $h.conf"; }
done
start() {	# NS NAME
	mkdir -p $W/$2.rc && chown _kinkd:_kinkd $W/$2.rc
	/usr/sbin/ip netns exec $1 env KRB5RCACHEDIR=$W/$2.rc \
	    KRB5CCNAME=FILE:$W/$2.ccache \
	    kinkd -d -f $W/$2.conf -s /run/kinkd-$2.sock > $W/$2.log 2>&1 &
	PIDS="$PIDS $!"
	wait_for 30 kinkctl -s /run/kinkd-$2.sock show stats > /dev/null 2>&1 ||
	    die "kinkd $2 did not start"
}
start A alpha
start B beta
wait_for 5 sh -c "/usr/sbin/ip -n A xfrm policy | grep -q 'dir out' &&
    /usr/sbin/ip -n B xfrm policy | grep -q 'dir out'" ||
    die "kinkd installed no policies"
echo "policies installed by kinkd on alpha: $(ip -n A xfrm policy | grep -c '^src'), on beta: $(ip -n B xfrm policy | grep -c '^src'); SAs: alpha $(nsa A), beta $(nsa B)"

step "ping beta from alpha: the first packet triggers ACQUIRE -> KINK CREATE"
/usr/sbin/ip netns exec A ping -c 1 -W 1 $B > /dev/null 2>&1
wait_for 40 has_sa || die "no SAs after the ACQUIRE (alpha $(nsa A), beta $(nsa B))"
before=$(esp_packets A)
/usr/sbin/ip netns exec A ping -c 3 -i 0.2 -W 2 $B > $W/ping.out 2>&1
prc=$?
cat $W/ping.out
after=$(esp_packets A)

step "ping6 beta from alpha: the example's IPv6 policy, a second CREATE"
has_sa6() { [ "$(nsa A)" -ge 4 ] && [ "$(nsa B)" -ge 4 ]; }
# busybox ping may outwait its -W when the first packet was held back.
timeout 3 /usr/sbin/ip netns exec A ping -6 -c 1 -W 1 $B6 > /dev/null 2>&1
wait_for 20 has_sa6 || die "no IPv6 SAs after the ACQUIRE (alpha $(nsa A), beta $(nsa B))"
timeout 10 /usr/sbin/ip netns exec A ping -6 -c 2 -i 0.2 -W 2 $B6 > $W/ping6.out 2>&1
p6rc=$?
cat $W/ping6.out

for h in alpha beta; do
	step "(a) kinkctl show sa on $h"
	kinkctl -s /run/kinkd-$h.sock show sa | tee $W/$h.sa
done

step "(b) ESP SAs in alpha's kernel (ip -s xfrm state; keys not shown)"
ip -n A -s xfrm state | grep -vE '^[[:space:]]*(enc|auth|aead|auth-trunc) '
echo "ESP packets counted on alpha's SAs: $before before the 3 pings, $after after"
step "(b) ESP SAs in beta's kernel"
ip -n B -s xfrm state | grep -vE '^[[:space:]]*(enc|auth|aead|auth-trunc) '
echo "ESP packets counted on beta's SAs: $(esp_packets B)"

step "(c) the KINK exchange as kinkd logged it (default level)"
for h in alpha beta; do
	echo "--- $h"
	sed 's/^/    /' $W/$h.log
done

for h in alpha beta; do
	kinkctl -s /run/kinkd-$h.sock show stats > /dev/null 2>&1 || die "kinkd $h died"
done
[ $prc = 0 ] || die "ping through the negotiated SAs failed"
[ $p6rc = 0 ] || die "ping6 through the negotiated SAs failed"
for h in alpha beta; do
	[ "$(grep -c ' esp ' $W/$h.sa)" -ge 2 ] || die "kinkctl show sa on $h lists no SA pair"
done
[ "$after" -ge $((before + 6)) ] ||
    die "ESP counters on alpha did not move by 6 ($before -> $after)"
grep -q 'CREATE ok' $W/alpha.log && grep -q 'CREATE ok' $W/beta.log ||
    die "no completed CREATE in the logs"
grep -q 'running as _kinkd' $W/alpha.log && grep -q 'running as _kinkd' $W/beta.log ||
    die "kinkd did not drop privileges to _kinkd"
cleanup
echo
echo "DEMO-RESULT ok"
