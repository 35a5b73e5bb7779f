#!/bin/bash
# A refused CREATE says why on both sides: the responder names the
# selectors the initiator proposed and its nearest configured policy, the
# initiator the policy it asked for; Notify types come with their RFC 2408
# names, not just numbers (kinkd answers IDs that fit no policy with
# PAYLOAD-MALFORMED: the error table of src/isakmp.c).
. tests/lib/host.sh
host_init 475-refusal-why
host_realm alpha beta || exit 1
write_conf alpha v4 && write_conf beta v4 || exit 1
a=$(addr_of v4 alpha)
b=$(addr_of v4 beta)
# alpha asks for UDP between the hosts; beta only has TCP to alpha's 443.
sed -i "s|policy \"host\" esp transport from $a to $b \\\\|policy \"host\" esp transport from $a to $b proto udp \\\\|" "$T/alpha.conf"
sed -i "s|policy \"host\" esp transport from $b to $a \\\\|policy \"web\" esp transport from $b to $a port 443 proto tcp \\\\|" "$T/beta.conf"
check alpha-conf-edited grep -q 'proto udp' "$T/alpha.conf"
check beta-conf-edited grep -q 'policy "web"' "$T/beta.conf"
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }

ctl alpha initiate beta > "$T/init.out" 2> "$T/init.err"
check_eq initiate/refused $? 1
check initiate/names-notify grep -q \
    'peer refused: PEER_NOTIFY (notify 16 PAYLOAD-MALFORMED), policy host' "$T/init.err"
check beta/logged wait_until "$HOST_WAIT" grep -q 'refused: ID_POLICY' "$T/beta.log"
line=$(grep 'refused: ID_POLICY' "$T/beta.log" | head -n 1)
echo "# beta: $line"
check_eq beta/why "$(echo "$line" | sed 's/.*refused: //; s/ ([0-9]* ms, .*)$//')" \
    "ID_POLICY (notify 16 PAYLOAD-MALFORMED): proposed from $a/32 to $b/32 proto 17; nearest policy web: from $a/32 port 443 to $b/32 proto 6"
check_eq no-sas "$(sa_count alpha)" 0
