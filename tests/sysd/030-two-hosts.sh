# Two kinkd instances from one template made of the installed unit (its
# hardening kept), each in its host's namespace with its own config,
# keytab and control socket.  "systemctl start" returns only when kinkd
# is ready (Type=notify): the control socket answers at once.  A ping
# from alpha triggers ACQUIRE, the daemons negotiate, the ping gets
# through ESP.  alpha keeps its SAs on stop, beta flushes them (060).
. /tests/common.sh

sed -e 's|/etc/kinkd.conf|/etc/kinkd/%i.conf|g' \
    -e 's|^Description=.*|& (%i)|' \
    -e '/^\[Service\]/a NetworkNamespacePath=/run/netns/%i' \
    /lib/systemd/system/kinkd.service > /etc/systemd/system/kinkd@.service
systemctl daemon-reload

# write_conf NAME ME PEER PEERADDR SHUTDOWN
write_conf() {
	cat > "$(conf $1)" <<EOC
set principal "kink/$1.test@$REALM"
set keytab "/etc/kinkd/$1.keytab"
set socket "$(sock $1)"
set backend xfrm
# The guest is emulated: room for a slow exchange before giving up.
set retransmit 1s max 2s tries 5
set on-shutdown $5
listen on $2
peer "$3" {
	principal "kink/$3.test@$REALM"
	address $4
	policy "ping" esp transport from $2 to $4 proto icmp \\
	    transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h
}
EOC
}
write_conf alpha $A4 beta $B4 keep
write_conf beta $B4 alpha $A4 flush

for i in alpha beta; do
	if ! systemctl start kinkd@$i; then
		fail sysd-start-$i "systemctl start kinkd@$i failed"
		show_state
		exit 1
	fi
	# No wait: the unit is active only once kinkd said READY=1.
	if kinkctl -s "$(sock $i)" show peers > /tmp/peers.$i 2>&1; then
		pass sysd-ready-$i
	else
		fail sysd-ready-$i "kinkctl show peers right after start: $(cat /tmp/peers.$i)"
	fi
done
st=$(systemctl show -p StatusText --value kinkd@alpha)
case $st in
"principal kink/alpha.test@$REALM, 1 peers") pass sysd-status-text ;;
*) fail sysd-status-text "StatusText=$st" ;;
esac
# Privilege separation (the default): MainPID is the broker, root with
# CAP_NET_ADMIN; its child the engine, _kinkd with no capability and
# seccomp on, which sent READY (the unit's NotifyAccess=all).
if journal kinkd@alpha | grep -q "^running as _kinkd (uid [0-9]*)$" &&
    journal kinkd@alpha | grep -q "^privsep: engine sandboxed"; then
	pass sysd-privdrop
else
	fail sysd-privdrop "no 'running as _kinkd' or 'engine sandboxed' in the journal"
fi
main=$(systemctl show -p MainPID --value kinkd@alpha)
eng=$(cat /proc/$main/task/$main/children 2>/dev/null | awk '{ print $1 }')
sf() { awk -v k="$2:" '$1 == k { print $2 }' /proc/$1/status; }
if [ -n "$eng" ] && [ "$(sf $main Uid)" = 0 ] &&
    [ "$(sf $main CapEff)" = 0000000000001000 ] &&
    [ "$(sf $eng Uid)" != 0 ] && [ "$(sf $eng CapEff)" = 0000000000000000 ] &&
    [ "$(sf $eng Seccomp)" = 2 ]; then
	pass sysd-privsep
else
	fail sysd-privsep "broker $main (Uid $(sf $main Uid), CapEff $(sf $main CapEff)), engine '$eng' (Uid $(sf "$eng" Uid), CapEff $(sf "$eng" CapEff), Seccomp $(sf "$eng" Seccomp))"
fi

if negotiate; then
	pass sysd-acquire-create
else
	fail sysd-acquire-create "SAs alpha $(sa_count alpha), beta $(sa_count beta)"
	show_state
	exit 1
fi
before=$(esp_packets alpha)
if ip netns exec alpha ping -c 3 -i 0.3 -W 2 $B4 > /tmp/ping.out 2>&1; then
	pass sysd-ping
else
	fail sysd-ping "ping through the negotiated SAs failed"
fi
after=$(esp_packets alpha)
if [ "$after" -ge $((before + 6)) ]; then
	pass sysd-esp-counters
else
	fail sysd-esp-counters "alpha's SA packet counters $before -> $after"
fi

# What an admin sees (the report shows it).
echo "  ==== console session (alpha)"
echo "  # systemctl status kinkd@alpha"
systemctl status --no-pager -n 0 kinkd@alpha 2>&1 | sed 's/^/  /'
echo "  # journalctl -u kinkd@alpha"
journalctl -q --no-pager -u kinkd@alpha 2>&1 | sed 's/^/  /'
echo "  # ip netns exec alpha ping -c 3 -i 0.3 $B4"
sed 's/^/  /' /tmp/ping.out
echo "  # ip -n alpha -s xfrm state"
ip -n alpha -s xfrm state | sed 's/^/  /'
echo "  ===="
exit $FAILED
