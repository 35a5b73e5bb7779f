# systemctl reload: the journal has the reload line, systemd's status
# says so (RELOADING=1 ... READY=1), the SAs stay.  A reload of a broken
# file is one warning entry in the journal, the errors on the same line,
# and the old configuration (and SAs) stays.
. /tests/common.sh

spis=$(sa_spis alpha)
if systemctl reload kinkd@alpha &&
    wait_until 20 in_journal kinkd@alpha "^SIGHUP: reloading /etc/kinkd/alpha.conf$"; then
	pass sysd-reload-journal
else
	fail sysd-reload-journal "no reload line in the journal"
fi
status_is() { [ "$(systemctl show -p StatusText --value kinkd@alpha)" = "$1" ]; }
if wait_until 20 status_is "configuration reloaded" &&
    [ "$(systemctl is-active kinkd@alpha)" = active ]; then
	pass sysd-reload-status
else
	fail sysd-reload-status "StatusText=$(systemctl show -p StatusText --value kinkd@alpha)"
fi
if [ "$(sa_spis alpha)" = "$spis" ] && sa_count_is alpha 2; then
	pass sysd-reload-sas-stay
else
	fail sysd-reload-sas-stay "SPIs $spis -> $(sa_spis alpha)"
fi

cp /etc/kinkd/alpha.conf /tmp/alpha.conf.good
printf 'set bogus 1\nlisten onn %s\n' $A4 >> /etc/kinkd/alpha.conf
bad=$(wc -l < /tmp/alpha.conf.good)
systemctl reload kinkd@alpha
want="reload of /etc/kinkd/alpha.conf failed, old configuration kept: /etc/kinkd/alpha.conf:$((bad + 1)):5: .*; /etc/kinkd/alpha.conf:$((bad + 2)):"
if wait_until 20 in_journal kinkd@alpha "^$want"; then
	pass sysd-reload-bad-one-entry
else
	fail sysd-reload-bad-one-entry "no single entry '$want'"
	journal kinkd@alpha | tail -n 5 | sed 's/^/  /'
fi
if wait_until 20 status_is "reload failed, old configuration kept" &&
    [ "$(sa_spis alpha)" = "$spis" ]; then
	pass sysd-reload-bad-kept
else
	fail sysd-reload-bad-kept "StatusText $(systemctl show -p StatusText --value kinkd@alpha), SPIs $(sa_spis alpha)"
fi
cp /tmp/alpha.conf.good /etc/kinkd/alpha.conf
systemctl reload kinkd@alpha
wait_until 20 status_is "configuration reloaded" ||
    fail sysd-reload-restored "the good file did not reload"
exit $FAILED
