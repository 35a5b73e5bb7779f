#!/bin/sh
# Site benchmark (numbers only, never pass/fail; issue 14): SITE_HOSTS
# kinkd (default 200) on loopback addresses of one network namespace,
# one KDC, one DNS server (dnsmasq: every host's A and PTR record), the
# null SA backend, and the same range peer in every kinkd.conf ("find
# dns"; only `set principal` and `listen` differ).  Every host initiates
# to every host after it (`kinkctl initiate ADDRESS`, SITE_CONC at once):
# each learns its peer by PTR and forward confirmation, the responder
# confirms the initiator's principal the same way.  One line:
#
# site hosts=N pairs=N mesh_s=X kdc_tickets=N rss_per_host_kb=X
#
# pairs: SA pairs found afterwards (every host's SA count, over 4: one
# pair is two SAs on each of its two hosts); the full mesh is
# hosts*(hosts-1)/2.  mesh_s: first initiate to the last one's answer.
# kdc_tickets: tickets the KDC issued (AS and TGS, its log).
# rss_per_host_kb: mean kinkd RSS after the mesh.
#
#	sh tests/bench/site.sh               (B=build: no sanitizers, -O2)
#	SITE_HOSTS=30 SITE_CONC=8 sh tests/bench/site.sh
set -u
: "${B:=build}"
: "${SITE_HOSTS:=200}"
: "${SITE_CONC:=8}"
export B SITE_HOSTS SITE_CONC

if [ -z "${KINK_HOST_NETNS:-}" ]; then
	${MAKE:-make} -s B="$B" "$B/tests/kinkd-test" "$B/kinkctl" || exit 1
	if [ "$(id -u)" = 0 ]; then
		set -- unshare -n
	else
		set -- unshare -r -n
	fi
	KINK_HOST_NETNS=1 exec "$@" sh "$0"
fi
ip link set lo up || exit 1

exec bash ${SITE_TRACE:+-x} -c '
. tests/lib/host.sh
. tests/lib/dns.sh
HOST_VERBOSE=
HOST_NEEDS="$KINKD $KINKCTL"
host_init site
echo "# kinkd $(git describe --always --dirty 2>/dev/null), B=$B, $(nproc) CPUs, load $(cut -d" " -f1-3 /proc/loadavg)"
N=$SITE_HOSTS
addr() { echo "127.1.$(($1 / 200)).$(($1 % 200 + 1))"; }

# the realm: one kadmin session for every principal, one keytab for all
REALM_NO_TRAP=1
REALM=$HOST_REALM
. tests/lib/realm.sh
REALM_STARTED=1
realm_start "$T/realm" > "$T/realm.out" 2>&1 || { cat "$T/realm.out"; exit 1; }
for i in $(seq "$N"); do
	echo "addprinc -randkey kink/h$i.site.test@$REALM"
	echo "ktadd -k $T/site.keytab -norandkey kink/h$i.site.test@$REALM"
	dns_host "h$i.site.test" "$(addr "$i")"
done > "$T/kadmin.in"
kadmin.local -r "$REALM" < "$T/kadmin.in" > "$T/kadmin.out" 2>&1 ||
    { echo "# kadmin failed"; exit 1; }
dns_start "$T/dns" 127.0.0.53 || exit 1

for i in $(seq "$N"); do
	cat > "$T/h$i.conf" <<EOF
set principal "kink/h$i.site.test@$REALM"
set keytab "$T/site.keytab"
set port $HOST_PORT
set backend null
set nameserver 127.0.0.53
set max-learned-peers 1024
listen on $(addr "$i") port $HOST_PORT
peer "site" {
	addresses 127.1.0.0/16
	principal "kink/%{host}@$REALM"
	find dns
	esp transport from me to peer transforms { esp enc aes-128-cbc auth hmac-sha1 }
}
EOF
	start_kinkd "h$i" "$T/h$i.conf" || { echo "# h$i did not start"; exit 1; }
done
echo "# $N daemons up, load $(cut -d" " -f1-3 /proc/loadavg)"

for i in $(seq "$N"); do
	for j in $(seq $((i + 1)) "$N"); do
		echo "$T/h$i.sock $(addr "$j")"
	done
done > "$T/pairs.in"
: > "$T/failed"
t0=$(date +%s%N)
xargs -P "$SITE_CONC" -L 1 sh -c "\"$KINKCTL\" -s \"\$0\" -t 600 initiate \"\$1\" > /dev/null 2>&1 || echo \"\$0 \$1\" >> \"$T/failed\"" \
    < "$T/pairs.in"
t1=$(date +%s%N)
nfail=$(wc -l < "$T/failed")

sas=0 rss=0
for i in $(seq "$N"); do
	c=$(sa_count "h$i")
	[ "$c" -ge 0 ] && sas=$((sas + c))
	rss=$((rss + $(awk "/^VmRSS:/ { print \$2 }" "/proc/$(cat "$T/h$i.pid")/status")))
done
tickets=$(grep -c "ISSUE:" "$REALM_DIR/kdc.log")
echo "# $nfail initiates failed; full mesh $((N * (N - 1) / 2)) pairs; load after $(cut -d" " -f1-3 /proc/loadavg)"
echo "site hosts=$N pairs=$((sas / 4)) mesh_s=$(awk "BEGIN { printf \"%.1f\", ($t1 - $t0) / 1e9 }") kdc_tickets=$tickets rss_per_host_kb=$((rss / N))"
# all at once: one by one, each would send DELETEs to peers already gone
exec 2> /dev/null
for i in $(seq "$N"); do
	kill -KILL "$(cat "$T/h$i.pid")" 2>/dev/null
done
exit 0
'
