#!/bin/bash
# Reload through kinkctl: a broken file is refused (exit 1, the
# file:line:col errors on stderr), the old configuration stays in force
# and the SAs stay; a good file is taken (exit 0), its new policy
# negotiates, and the SAs of the kept policy survive; the SAs of a policy
# the reload changed go.  SIGHUP reloads too.  v4 only: reload does not
# depend on the address family.
. tests/lib/host.sh
host_init 040-reload
host_realm alpha beta || exit 1

host_sa_count() {
	sa_json alpha | jq '[.[] | select(.policy == "host")] | length'
}

host_pair v4 || { fail start "daemons did not start"; exit 1; }
require initiate ctl alpha initiate beta
wait_until "$HOST_WAIT" sa_count_is beta 2
old=$(spis alpha)
check_eq two-sas "$(echo "$old" | wc -w)" 2

# broken: the same file with a typo in "set port" and a bad value at the end
cp "$T/alpha.conf" "$T/alpha.good"
pl=$(grep -n '^set port' "$T/alpha.conf" | cut -d: -f1)
sed -i "${pl}s/^set port/set prot/" "$T/alpha.conf"
echo 'set retransmit fast' >> "$T/alpha.conf"
ctl alpha reload > "$T/broken.out" 2> "$T/broken.err"
check_eq broken-exit $? 1
check broken-message-typo grep -q -E "alpha\.conf:$pl:5: .*\"prot\"" "$T/broken.err"
lines=$(wc -l < "$T/alpha.conf")
check broken-message-all-errors grep -q -E "alpha\.conf:$lines:16: bad duration" "$T/broken.err"
check_eq broken-sas-kept "$(spis alpha)" "$old"
# the old config is still in force: the daemon still negotiates with it
check broken-old-config-works ctl alpha initiate beta
check broken-then-4-sas wait_until "$HOST_WAIT" sa_count_is alpha 4
check broken-reload-event-or-stats daemon_alive alpha

# good: the old file plus a second policy for UDP port 5000
cp "$T/alpha.good" "$T/alpha.conf"
sed -i 's/^}$//' "$T/alpha.conf"
cat >> "$T/alpha.conf" <<EOP
	policy "extra" esp transport from 127.0.0.1 port 5000 to 127.0.0.2 \\
	    proto udp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h
}
EOP
kept=$(spis alpha)
ctl alpha reload > "$T/reload.out" 2> "$T/reload.err"
check_eq good-exit $? 0
check_eq good-sas-kept "$(spis alpha)" "$kept"
# beta needs the mirror policy to accept it
cp "$T/beta.conf" "$T/beta.good"
sed -i 's/^}$//' "$T/beta.conf"
cat >> "$T/beta.conf" <<EOP
	policy "extra" esp transport from 127.0.0.2 to 127.0.0.1 port 5000 \\
	    proto udp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h
}
EOP
# beta reloads through SIGHUP; its "reload" event says how it went
monitor_start beta
kill -HUP "$(cat "$T/beta.pid")"
check sighup-reload-event wait_event beta reload ok
check new-policy-initiate ctl alpha initiate beta extra
check new-policy-6-sas wait_until "$HOST_WAIT" sa_count_is alpha 6
check new-policy-sa-named test "$(sa_json alpha | jq '[.[] | select(.policy == "extra")] | length')" = 2
check unknown-policy-exit test "$(ctl_rc alpha initiate beta nosuch)" = 1
# reload of a file that does not exist: error, nothing changes
check_eq missing-file-exit "$(ctl_rc alpha reload "$T/nonexistent.conf")" 1
check_eq missing-file-sas-kept "$(sa_count alpha)" 6

# a reload that changes a policy ("host": lifetime 1h -> 30m) removes the
# SAs made under the old one and keeps the others ("extra"); the new SAs
# have the new, shorter lifetime on both directions (a longer one would be
# lowered to beta's 1h, RFC 4430 3.2, and prove nothing)
host_before=$(sa_json alpha | jq '[.[] | select(.policy == "host")] | length')
extra_before=$(sa_json alpha | jq -r '[.[] | select(.policy == "extra") | .spi] | sort | join(" ")')
check changed-policy-had-sas test "$host_before" -ge 2
awk 'BEGIN { inhost = 0 }
    /policy "host"/ { inhost = 1 }
    inhost && /lifetime 1h/ { sub("lifetime 1h", "lifetime 30m"); inhost = 0 }
    { print }' "$T/alpha.conf" > "$T/alpha.new" && mv "$T/alpha.new" "$T/alpha.conf"
check changed-policy-edited grep -q 'lifetime 30m' "$T/alpha.conf"
check changed-policy-reload ctl alpha reload
check changed-policy-sas-removed wait_until "$HOST_WAIT" is = 0 host_sa_count
check_eq changed-policy-others-kept \
    "$(sa_json alpha | jq -r '[.[] | select(.policy == "extra") | .spi] | sort | join(" ")')" \
    "$extra_before"
check changed-policy-renegotiates ctl alpha initiate beta host
check changed-policy-new-lifetime test "$(sa_json alpha | jq '[.[] | select(.policy == "host") | .life_hard_secs] | max')" = 1800
