# The README's demo inside the VM tier, so CI runs it: tests/vm/demo-guest.sh
# (what ./tests/demo boots) with etc/kinkd.conf at /etc/kinkd.conf
# (run.sh's VM_EXTRA).  Its last line is the verdict.
. /tests/guest.sh

if [ ! -f /etc/kinkd.conf ]; then
	fail demo "no /etc/kinkd.conf in the guest (run.sh VM_EXTRA)"
	exit 1
fi
sh /tests/demo-guest.sh > /tmp/demo.out 2>&1
rc=$?
last=$(tail -n 1 /tmp/demo.out)
if [ $rc = 0 ] && [ "$last" = "DEMO-RESULT ok" ]; then
	pass demo
else
	sed 's/^/  /' /tmp/demo.out | tail -n 60
	fail demo "${last:-no output} (exit $rc)"
fi
exit $FAILED
