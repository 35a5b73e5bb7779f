# A broken file fails the start: "systemctl start" fails and the journal
# has the file:line:col error, at priority err.
. /tests/common.sh

ip netns add gamma
cat > /etc/kinkd/gamma.conf <<EOC
set principal "kink/gamma.test@$REALM"
set socket "$(sock gamma)"
listen onn $A4
EOC
if systemctl start kinkd@gamma 2> /tmp/start.err; then
	fail sysd-badconf-start-fails "systemctl start succeeded"
else
	pass sysd-badconf-start-fails
	sed 's/^/  /' /tmp/start.err
fi
systemctl stop kinkd@gamma	# no restart loop
want='^/etc/kinkd/gamma.conf:3:8: '
if wait_until 20 in_journal kinkd@gamma "$want"; then
	pass sysd-badconf-journal
	journal kinkd@gamma | grep "$want" | head -n 1 | sed 's/^/  /'
else
	fail sysd-badconf-journal "no $want in the journal:"
	journal kinkd@gamma | tail -n 10 | sed 's/^/  /'
fi
if journal kinkd@gamma -p err | grep -q "$want"; then
	pass sysd-badconf-priority
else
	fail sysd-badconf-priority "the error is not at priority err"
fi
exit $FAILED
