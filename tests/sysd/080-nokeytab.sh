# A host without its keytab yet (a fresh package install, say): the
# unit's ExecStartPre (kinkd -n -S) fails the start naming the keytab, at
# priority err in the journal, and after three starts in a minute the
# unit stays failed instead of restarting every 5 s.
. /tests/common.sh

ip netns add delta
cat > /etc/kinkd/delta.conf <<EOC
set principal "kink/delta.test@$REALM"
set keytab "/etc/kinkd/delta.keytab"
set socket "$(sock delta)"
listen on $A4
EOC
rm -f /etc/kinkd/delta.keytab
if systemctl start kinkd@delta 2> /tmp/start-nokt.err; then
	fail sysd-nokeytab-start-fails "systemctl start succeeded"
else
	pass sysd-nokeytab-start-fails
fi
want='^kinkd: keytab /etc/kinkd/delta.keytab: cannot read it: '
if wait_until 20 in_journal kinkd@delta "$want"; then
	pass sysd-nokeytab-journal
	journal kinkd@delta | grep "$want" | head -n 1 | sed 's/^/  /'
else
	fail sysd-nokeytab-journal "no $want in the journal:"
	journal kinkd@delta | tail -n 10 | sed 's/^/  /'
fi
if journal kinkd@delta -p err | grep -q "$want"; then
	pass sysd-nokeytab-priority
else
	fail sysd-nokeytab-priority "the keytab error is not at priority err"
fi
# "failed", not "activating (auto-restart)": systemd gave up restarting
# (with the start limit reached it does not schedule the fourth start)
limited() {
	[ "$(systemctl show -p ActiveState --value kinkd@delta)" = failed ]
}
if wait_until 90 limited; then
	pass sysd-nokeytab-start-limit
	echo "  NRestarts=$(systemctl show -p NRestarts --value kinkd@delta) Result=$(systemctl show -p Result --value kinkd@delta)"
else
	fail sysd-nokeytab-start-limit "$(systemctl show -p ActiveState -p SubState --value kinkd@delta | tr '\n' ' '), still retrying"
fi
n=$(journal kinkd@delta | grep -c "$want")
if [ "$n" -eq 3 ] && [ "$(systemctl show -p ActiveState --value kinkd@delta)" = failed ]; then
	pass sysd-nokeytab-three-tries
else
	fail sysd-nokeytab-three-tries "$n failed checks, $(systemctl show -p ActiveState --value kinkd@delta)"
fi
systemctl reset-failed kinkd@delta
ip netns del delta
exit $FAILED
