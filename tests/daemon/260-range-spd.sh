#!/bin/bash
# A range peer's kernel policies at start, on this host's kernel (XFRM
# policies work here, ESP states do not): kinkd with `set backend xfrm`
# and privilege separation (the default) installs the range's policy
# before any host of the range is known, since only that policy raises the
# ACQUIREs that find the hosts; the broker accepts it (the template's own
# entry); a flushing stop removes it.  Needs root (XFRM).
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 260-range-spd
if [ "$(id -u)" != 0 ]; then
	fail setup "needs root (CAP_NET_ADMIN for XFRM)"
	exit 1
fi
host_realm alpha || exit 1
cat > "$T/alpha.conf" <<EOC
set principal "kink/alpha.test@$HOST_REALM"
set keytab "$T/alpha.keytab"
set port $HOST_PORT
set backend xfrm
set on-shutdown flush
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
stop_kinkd alpha
check range-spd-removed wait_until "$HOST_WAIT" is = 0 range_entries
