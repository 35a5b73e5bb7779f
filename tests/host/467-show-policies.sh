#!/bin/bash
# `kinkctl show policies`: every configured policy with its selectors,
# direction entries and kernel priority, and per entry whether the
# kernel (here the null backend's policy store) holds it when asked.  An
# entry removed behind kinkd's back (as `ip xfrm policy delete` would)
# shows `no` while kinkd still has the policy configured.
. tests/lib/host.sh
host_init 467-show-policies
host_realm alpha beta || exit 1
write_conf alpha v4 || { fail setup "no config"; exit 1; }
me=$(addr_of v4 alpha)
them=$(addr_of v4 beta)
sed -i 's/^}$//' "$T/alpha.conf"
cat >> "$T/alpha.conf" <<EOC
	policy "web" esp transport from $me to $them port 443 proto tcp
	policy "lan" esp tunnel from 10.1.0.0/16 to 10.2.0.0/16 \\
	    local $me remote $them
}
EOC
start_kinkd alpha "$T/alpha.conf" || { fail start "alpha did not start"; exit 1; }

ctl alpha show policies > "$T/pol.out" 2> "$T/pol.err"
check_eq text/exit $? 0
# reqids are drawn at random: compared with the JSON's below
check_eq text/output "$(sed 's/ reqid [0-9]* / reqid R /' "$T/pol.out")" "peer beta policy host reqid R transport priority 960
  $me/32 port 0 -> $them/32 port 0 proto any
  out kernel: yes
  in kernel: yes
peer beta policy web reqid R transport priority 936
  $me/32 port 0 -> $them/32 port 443 proto tcp
  out kernel: yes
  in kernel: yes
peer beta policy lan reqid R tunnel priority 992
  10.1.0.0/16 port 0 -> 10.2.0.0/16 port 0 proto any
  out kernel: yes
  in kernel: yes
  fwd kernel: yes"

ctlj alpha show policies > "$T/pol.json" 2> "$T/pol-json.err"
check_eq json/exit $? 0
check_eq json/names "$(jq -c '[.policies[].name]' "$T/pol.json")" '["host","web","lan"]'
check_eq json/reqids "$(jq -r '.policies[].reqid' "$T/pol.json" | tr '\n' ' ')" \
    "$(sed -n 's/.* reqid \([0-9]*\) .*/\1/p' "$T/pol.out" | tr '\n' ' ')"
check_eq json/reqids-distinct "$(jq '[.policies[].reqid | select(. > 0)] | unique | length' "$T/pol.json")" 3
check_eq json/web "$(jq -c '.policies[1] | [.peer, .mode, .src, .dst, .proto, .priority]' "$T/pol.json")" \
    "[\"beta\",\"transport\",{\"addr\":\"$me\",\"prefix\":32,\"port\":0},{\"addr\":\"$them\",\"prefix\":32,\"port\":443},6,936]"
check_eq json/all-yes "$(jq -c '[.policies[].dirs[].kernel] | unique' "$T/pol.json")" '["yes"]'
if python3 -c 'import jsonschema' 2>/dev/null; then
	check json/schema python3 tests/lib/json_schema.py etc/kinkctl.schema.json "$T/pol.json"
else
	fail json/schema "python3-jsonschema not installed (tests/deps.sh)"
fi

# The kernel loses "web": only its entries say no, and asking again
# changes nothing (show policies is read-only).
inject alpha "kernel-spd-del beta web"
require injected wait_until "$HOST_WAIT" grep -q 'inject: kernel-spd-del beta web' "$T/alpha.log"
pol_kernel() {	# pol_kernel NAME: the kernel answers of its entries
	ctlj alpha show policies | jq -c "[.policies[] | select(.name == \"$1\") | .dirs[].kernel]"
}
check removed/web-no wait_until "$HOST_WAIT" is = '["no","no"]' pol_kernel web
check_eq removed/host-yes "$(pol_kernel host)" '["yes","yes"]'
check_eq removed/lan-yes "$(pol_kernel lan)" '["yes","yes","yes"]'
check_eq removed/still-no "$(pol_kernel web)" '["no","no"]'
ctl alpha show policies > "$T/pol2.out" 2>&1
check_eq removed/text "$(sed -n '/policy web/,/policy lan/p' "$T/pol2.out" | grep -c 'kernel: no')" 2

# A backend that cannot be asked (pfkey for now, -P) never
# says yes: every entry is unknown, in text and JSON.
inject alpha "refuse spd-get"
require refused wait_until "$HOST_WAIT" grep -q 'inject: refuse spd-get' "$T/alpha.log"
ctlj alpha show policies > "$T/unk.json" 2>&1
check_eq unknown/json "$(jq -c '[.policies[].dirs[].kernel] | unique' "$T/unk.json")" '["unknown"]'
check unknown/schema python3 tests/lib/json_schema.py etc/kinkctl.schema.json "$T/unk.json"
ctl alpha show policies > "$T/unk.out" 2>&1
check_eq unknown/text "$(grep -c 'kernel: unknown$' "$T/unk.out")" 7
check_eq unknown/no-yes "$(grep -c 'kernel: yes' "$T/unk.out")" 0
inject alpha "refuse none"
check asked-again wait_until "$HOST_WAIT" is = '["yes","yes"]' pol_kernel host

# Unknown words after the command are refused.
ctl alpha show policies extra > "$T/extra.out" 2>&1
check_eq extra/refused $? 2
