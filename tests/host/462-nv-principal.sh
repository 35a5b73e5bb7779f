#!/bin/bash
# kinkd -nv prints every effective setting, the principal included when
# it is derived: kink/ + the host's canonical name (as
# krb5_sname_to_principal takes it, through the resolver) + @ the default
# realm; the short host name only when nothing resolves it.  Run in a
# mount and UTS namespace of its own: a host name and an /etc/hosts for
# this test only.
HOST_NEEDS="$KINKD"
. tests/lib/host.sh
host_init 462-nv-principal
host_realm alpha beta || exit 1
printf 'set backend null\nset port %s\n' "$HOST_PORT" > "$T/min.conf"
printf '127.0.0.1 localhost\n127.0.1.1 kinkh.example.test kinkh\n' > "$T/hosts"
printf '127.0.0.1 localhost\n' > "$T/hosts-short"
if ! unshare -m -u true 2>/dev/null; then
	fail setup "needs unshare -m -u (root in the tier's namespace)"
	exit 1
fi
nv() {	# nv HOSTSFILE: kinkd -nv's principal line with hostname kinkh
	unshare -m -u sh -c 'hostname kinkh && mount --bind "$1" /etc/hosts &&
	    "$2" -nv -f "$3"' nv "$1" "$KINKD" "$T/min.conf" 2> "$T/nv.err" |
	    grep '^set principal '
}
check_eq fqdn "$(nv "$T/hosts")" "set principal \"kink/kinkh.example.test@$HOST_REALM\""
check_eq short-when-unresolved "$(nv "$T/hosts-short")" "set principal \"kink/kinkh@$HOST_REALM\""
# an explicit principal is printed as written
printf 'set principal "kink/other.test@%s"\n' "$HOST_REALM" >> "$T/min.conf"
check_eq explicit "$(nv "$T/hosts")" "set principal \"kink/other.test@$HOST_REALM\""
# and -n alone says that the file is fine, after the keytab's keys of the
# principal (kinkd -n checks the keytab too: 463) and nothing else on
# stdout
host_keytab "$T/other.keytab" "kink/other.test@$HOST_REALM" ||
    { fail setup "ktutil: $(tr '\n' ' ' < "$T/ktutil.out")"; exit 1; }
printf 'set keytab "%s"\nset user "root"\n' "$T/other.keytab" >> "$T/min.conf"
"$KINKD" -n -f "$T/min.conf" > "$T/n.out" 2> "$T/n.err"
check_eq n-exit $? 0
check_eq n-quiet "$(cat "$T/n.out")" ""
check_eq n-ok "$(grep -v "^keytab $T/other.keytab: kink/other.test@$HOST_REALM kvno 1 " "$T/n.err")" "configuration OK"
