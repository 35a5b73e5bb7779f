#!/bin/bash
# Kernel priorities follow selector specificity, so a narrow policy beside
# a host-wide one is picked for its traffic and `kinkd -n` says nothing;
# a policy whose traffic another one takes entirely (same selectors, in
# another peer or under another name) can never be picked by the kernel,
# and `kinkd -n` warns about it, naming both, and still exits 0.
. tests/lib/host.sh
HOST_NEEDS="$KINKD"
host_init 470-kern-shadow

host_keytab "$T/alpha.keytab" "kink/alpha.test@$HOST_REALM" ||
    { fail setup "ktutil: $(tr '\n' ' ' < "$T/ktutil.out")"; exit 1; }
cat > "$T/narrow.conf" <<EOC
set principal "kink/alpha.test@$HOST_REALM"
set keytab "$T/alpha.keytab"
set backend null
peer "beta" {
	principal "kink/beta.test@$HOST_REALM"
	policy "host" esp transport from 192.0.2.1 to 192.0.2.2
	policy "web" esp transport from 192.0.2.1 to 192.0.2.2 port 443 \\
	    proto tcp pfs modp2048
	policy "lan" esp tunnel from 10.1.0.0/16 to 10.2.0.0/16 \\
	    local 192.0.2.1 remote 192.0.2.2
	policy "lan-host" esp tunnel from 10.1.0.0/16 to 10.2.3.4/32 \\
	    local 192.0.2.1 remote 192.0.2.2
}
EOC
"$KINKD" -n -f "$T/narrow.conf" > /dev/null 2> "$T/narrow.err"
check_eq narrow/exit $? 0
check narrow/no-warning sh -c "! grep -q 'can never match' '$T/narrow.err'"

sed 's/^}$//' "$T/narrow.conf" > "$T/dup.conf"
cat >> "$T/dup.conf" <<EOC
	policy "web-again" esp transport from 192.0.2.1 to 192.0.2.2 \\
	    port 443 proto tcp
}
peer "gamma" {
	principal "kink/gamma.test@$HOST_REALM"
	policy "lan-too" esp tunnel from 10.1.0.0/16 to 10.2.0.0/16 \\
	    local 192.0.2.1 remote 192.0.2.3
}
EOC
"$KINKD" -n -f "$T/dup.conf" > /dev/null 2> "$T/dup.err"
check_eq dup/exit $? 0
check dup/web-warned grep -q 'peer "beta" policy "web" can never match: peer "beta" policy "web-again" covers its traffic' "$T/dup.err"
check dup/lan-warned grep -q 'peer "beta" policy "lan" can never match: peer "gamma" policy "lan-too" covers its traffic' "$T/dup.err"
check_eq dup/two-warnings "$(grep -c 'can never match' "$T/dup.err")" 2
