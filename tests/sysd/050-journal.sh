# kinkd's stderr is a journal stream: each message is one entry at its
# own priority (the "<N>" prefix parsed, not shown), without kinkd's own
# time stamp.  "-p warning" shows exactly the warnings: the failed reload
# of 040, not the info lines.
. /tests/common.sh

journal kinkd@alpha > /tmp/all.txt
journal kinkd@alpha -p warning > /tmp/warn.txt
journal kinkd@alpha -p info > /tmp/info.txt
if [ "$(wc -l < /tmp/warn.txt)" -eq 1 ] &&
    grep -q '^reload of /etc/kinkd/alpha.conf failed' /tmp/warn.txt; then
	pass sysd-journal-warnings
else
	fail sysd-journal-warnings "-p warning shows:"
	sed 's/^/  /' /tmp/warn.txt
fi
if grep -q '^kinkd started: principal kink/alpha.test' /tmp/info.txt &&
    grep -q '^SIGHUP: reloading' /tmp/info.txt &&
    ! grep -q '^kinkd started' /tmp/warn.txt; then
	pass sysd-journal-info
else
	fail sysd-journal-info "-p info lacks the start/reload lines, or -p warning has them"
fi
if grep -qE '^<[0-7]>|^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]' /tmp/all.txt; then
	fail sysd-journal-plain "a priority prefix or kinkd's time stamp in a message:"
	grep -E '^<[0-7]>|^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]' /tmp/all.txt | head -n 3
else
	pass sysd-journal-plain
fi
exit $FAILED
