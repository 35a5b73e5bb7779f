#!/bin/bash
# What a reload removes on purpose, the peer hears of: alpha and beta
# hold SAs for two policies ("host", "extra"); alpha reloads a file
# without "extra", and beta's "extra" SAs go too (a DELETE on the wire),
# while "host" stays on both sides.  Then every setting a reload cannot
# apply (principal, keytab, backend, socket, user) changed in the file
# gets its own warning line naming it, the reload still succeeds and the
# running value stays in force (alpha still negotiates as itself).  v4 only: the address
# family plays no part.
. tests/lib/host.sh
host_init 440-reload-delete
host_realm alpha beta || exit 1

add_extra() {	# add_extra NAME FROM-PORT TO-PORT
	sed -i 's/^}$//' "$T/$1.conf"
	cat >> "$T/$1.conf" <<EOP
	policy "extra" esp transport from $(addr_of v4 "$1") $2 to \\
	    $(addr_of v4 "$(other_of "$1")") $3 proto udp \\
	    transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h
}
EOP
}

pol_count() {	# pol_count NAME POLICY
	sa_json "$1" | jq "[.[] | select(.policy == \"$2\")] | length"
}

VIA=1 write_conf alpha v4 && VIA=1 write_conf beta v4 || exit 1
add_extra alpha "port 5000" ""
add_extra beta "" "port 5000"
cp "$T/alpha.conf" "$T/alpha.orig"
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
relay_start v4

require initiate-host ctl alpha initiate beta host
require initiate-extra ctl alpha initiate beta extra
require beta-4-sas wait_until "$HOST_WAIT" sa_count_is beta 4
# beta's "host" policy (all protocols) also holds alpha's port-5000 IDs now
# that IDs narrow: the more specific "extra" must still be the one chosen.
check_eq beta-extra-chosen "$(pol_count beta extra)" 2
host_spis=$(sa_json beta | jq -r '[.[] | select(.policy == "host") | .spi] | sort | join(" ")')
d0=$(relay_stat a2b DELETE seen)

# the reload drops "extra" from alpha's file
cp "$T/alpha.orig" "$T/alpha.conf"
awk '/policy "extra"/ { skip = 1 } skip && /^}$/ { skip = 0 } !skip { print }' \
    "$T/alpha.orig" > "$T/alpha.conf"
check extra-gone-from-file test "$(grep -c extra "$T/alpha.conf")" = 0
check reload-ok ctl alpha reload
check alpha-extra-gone wait_until "$HOST_WAIT" is = 0 pol_count alpha extra
check delete-on-wire wait_until "$HOST_WAIT" \
    is -gt "$d0" relay_stat a2b DELETE seen
check beta-extra-gone wait_until "$HOST_WAIT" is = 0 pol_count beta extra
check_eq beta-host-kept \
    "$(sa_json beta | jq -r '[.[] | select(.policy == "host") | .spi] | sort | join(" ")')" \
    "$host_spis"
check_eq alpha-host-kept "$(pol_count alpha host)" 2
check reload-line-counts-delete grep -q \
    'reloaded: 2 SAs kept, 2 removed (1 DELETEs to peers)' "$T/alpha.log"

# settings a reload cannot apply: each one named, old value kept
cp "$T/alpha.conf" "$T/alpha.base"
for s in principal keytab backend socket user; do
	cp "$T/alpha.base" "$T/alpha.conf"
	case $s in
	principal) sed -i 's|^set principal .*|set principal "kink/other.test@'"$HOST_REALM"'"|' "$T/alpha.conf" ;;
	keytab) sed -i 's|^set keytab .*|set keytab "'"$T"'/other.keytab"|' "$T/alpha.conf" ;;
	backend) sed -i 's|^set backend null|set backend xfrm|' "$T/alpha.conf" ;;
	socket) echo 'set socket "/nonexistent/other.sock"' >> "$T/alpha.conf" ;;
	user) echo 'set user "otheruser"' >> "$T/alpha.conf" ;;
	esac
	before=$(log_count alpha "reload: set $s changed")
	check "$s-reload-ok" ctl alpha reload
	check_eq "$s-line" "$(log_count alpha "reload: set $s changed .*needs a restart")" \
	    $((before + 1))
done
check host-still-works ctl alpha initiate beta host
