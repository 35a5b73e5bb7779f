#!/bin/bash
# A range peer's kernel policies at start, on this host's kernel (XFRM
# policies work here, ESP states do not): kinkd with `set backend xfrm`
# and privilege separation (the default) installs the range's policy
# before any host of the range is known, since only that policy raises the
# ACQUIREs that find the hosts; the broker accepts it (the template's own
# entry); a flushing stop removes it.  Reconciliation (`kinkctl
# reconcile`) with a learned peer in place repairs the range's own
# entries, the ones the broker accepts: a lost one comes back, and no
# entry of the learned peer's (a /32 the kernel never had, which the broker
# refuses) is asked for; `kinkctl show policies` shows the range's entries
# and asks for none of the learned peer's.
# Needs root (XFRM).
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 260-range-spd
if [ "$(id -u)" != 0 ]; then
	fail setup "needs root (CAP_NET_ADMIN for XFRM)"
	exit 1
fi
host_realm alpha h3.site || exit 1
cat > "$T/alpha.conf" <<EOC
set principal "kink/alpha.test@$HOST_REALM"
set keytab "$T/alpha.keytab"
set port $HOST_PORT
set backend xfrm
set on-shutdown flush
set reconcile 0
set retransmit 200ms max 200ms tries 2
listen on 127.0.0.1 port $HOST_PORT
peer "site" {
	addresses 198.51.100.0/28
	principal "kink/%{host}@$HOST_REALM"
	find pattern "h%{d}.site.test"
	esp transport from me to peer transforms { esp enc aes-128-cbc auth hmac-sha1 }
}
EOC
range_entries() { ip xfrm policy | grep -c '198\.51\.100\.0/28'; }
require start start_kinkd alpha "$T/alpha.conf"
check range-spd-installed wait_until "$HOST_WAIT" is -ge 1 range_entries
check_eq broker-refused-nothing "$(log_count alpha 'broker refused')" 0
check privsep-on grep -q 'engine sandboxed' "$T/alpha.log"

# A learned peer: h3's CREATE has no one to answer, the peer stays.
ctl alpha initiate 198.51.100.3 > "$T/init.out" 2>&1
check learned wait_until "$HOST_WAIT" grep -q 'site/198.51.100.3' <(ctl alpha show peers)
# show policies: the range's own entries with their kernel state, and no
# query for the learned peer (it has no kernel entry of its own)
ctl alpha show policies > "$T/pol.txt" 2>&1
check_eq showpol-range "$(grep -A1 '^peer site policy ' "$T/pol.txt" | grep -c '0\.0\.0\.0/0 port 0 -> 198\.51\.100\.0/28 ')" 1
check_eq showpol-range-kernel "$(grep -c '^  out kernel: yes$' "$T/pol.txt")" 1
check_eq showpol-no-learned "$(grep -c '198\.51\.100\.3' "$T/pol.txt")" 0
check_eq showpol-broker-refused-nothing "$(log_count alpha 'broker refused')" 0
before=$(range_entries)
ip xfrm policy delete dir out src 0.0.0.0/0 dst 198.51.100.0/28
check_eq range-spd-lost "$(range_entries)" $((before - 1))
ctl alpha reconcile > "$T/rc.out" 2>&1
check_eq reconcile-ok $? 0
check range-spd-repaired wait_until "$HOST_WAIT" is = "$before" range_entries
check_eq reconcile-repair-logged "$(log_count alpha 'reconcile: peer site policy .*SPD out .*198.51.100.0/28 .*re-installed')" 1
check_eq reconcile-broker-refused-nothing "$(log_count alpha 'broker refused')" 0
check_eq no-learned-entry "$(ip xfrm policy | grep -c '198\.51\.100\.3/32')" 0
stop_kinkd alpha
check range-spd-removed wait_until "$HOST_WAIT" is = 0 range_entries
