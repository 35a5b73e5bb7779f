# systemctl stop does what "set on-shutdown" says: alpha (keep) leaves
# its SAs in the kernel; beta (flush) removes its SAs and policies before
# it exits.  Both stop cleanly (inactive, not failed).
. /tests/common.sh

spis=$(sa_spis alpha)
if [ -n "$spis" ] && systemctl stop kinkd@alpha && sa_count_is alpha 2 &&
    [ "$(sa_spis alpha)" = "$spis" ]; then
	pass sysd-stop-keep
else
	fail sysd-stop-keep "alpha's SAs '$spis' -> '$(sa_spis alpha)'"
fi
if journal kinkd@alpha | grep -q '^shutting down (SAs: kept)' &&
    [ "$(systemctl is-active kinkd@alpha)" = inactive ]; then
	pass sysd-stop-keep-journal
else
	fail sysd-stop-keep-journal "$(systemctl is-active kinkd@alpha); journal:"
	journal kinkd@alpha | tail -n 5 | sed 's/^/  /'
fi

if sa_count_is beta 2 && systemctl stop kinkd@beta && sa_count_is beta 0 &&
    ! ip -n beta xfrm policy | grep -q 'dir '; then
	pass sysd-stop-flush
else
	fail sysd-stop-flush "beta has $(sa_count beta) SAs or its policies"
	ip -n beta xfrm policy | sed 's/^/  /'
fi
if journal kinkd@beta | grep -q '^shutting down (SAs: flushed)' &&
    [ "$(systemctl is-active kinkd@beta)" = inactive ]; then
	pass sysd-stop-flush-journal
else
	fail sysd-stop-flush-journal "$(systemctl is-active kinkd@beta); journal:"
	journal kinkd@beta | tail -n 5 | sed 's/^/  /'
fi
exit $FAILED
