#!/bin/bash
# On a stderr systemd connected to the journal (JOURNAL_STREAM names its
# device and inode) kinkd writes "<priority>message" lines, the syslog
# priorities the journal parses, without its own time stamp, one line per
# message (a failed reload's errors joined into the warning); configuration
# errors of kinkd -n at err.  On any other stderr, the plain format.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 170-journal
host_realm alpha beta || exit 1
write_conf alpha v4
: > "$T/alpha.log"
stream() { stat -c %d:%i "$1"; }
HOST_WRAPPER="env JOURNAL_STREAM=$(stream "$T/alpha.log")" \
    require start start_kinkd alpha "$T/alpha.conf"
check started-info grep -q '^<6>kinkd started: principal kink/alpha.test' "$T/alpha.log"
check debug-lines grep -q '^<7>' "$T/alpha.log"
check no-timestamps test -z "$(grep -v '^<[0-7]>' "$T/alpha.log")"

cp "$T/alpha.conf" "$T/alpha.good"
n=$(wc -l < "$T/alpha.conf")
printf 'set bogus 1\nlisten onn 192.0.2.1\n' >> "$T/alpha.conf"
kill -HUP "$(cat "$T/alpha.pid")"
want="^<4>reload of $T/alpha.conf failed, old configuration kept: $T/alpha.conf:$((n + 1)):5: .*; $T/alpha.conf:$((n + 2)):"
check reload-one-warning wait_until "$HOST_WAIT" grep -q "$want" "$T/alpha.log"
check one-line-per-message test -z "$(grep -v '^<[0-7]>' "$T/alpha.log")"
"$KINKD" -n -f "$T/alpha.conf" 2> "$T/n.err"
check_eq check-fails $? 1
check plain-errors grep -q "^$T/alpha.conf:$((n + 1)):5: " "$T/n.err"
JOURNAL_STREAM=$(stream "$T/n.err") "$KINKD" -n -f "$T/alpha.conf" 2>> "$T/n.err"
check errors-at-err grep -q "^<3>$T/alpha.conf:$((n + 1)):5: " "$T/n.err"
stop_kinkd alpha
cp "$T/alpha.good" "$T/alpha.conf"

# Another file's device and inode: not the journal, plain lines.
: > "$T/other"
HOST_WRAPPER="env JOURNAL_STREAM=$(stream "$T/other")" \
    require start-plain start_kinkd alpha "$T/alpha.conf"
check plain-timestamps grep -qE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} kinkd started' "$T/alpha.log"
check plain-no-priority test -z "$(grep '^<[0-7]>' "$T/alpha.log")"
stop_kinkd alpha
