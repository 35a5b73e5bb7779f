#!/bin/bash
# Range peers found through DNS (a real dnsmasq, tests/lib/dns.sh) and
# through a mapping file (issue 14).  DNS, v4 and v6, both ways: the
# initiator's PTR + forward confirmation, the responder's forward check
# of the verified principal (the first CREATE parked meanwhile, host
# 740).  DNS down: a clear refusal on
# both sides, nothing created, the SAs already made unaffected.  File
# mode: the same exchange with "ADDRESS PRINCIPAL" lines and no DNS.
. tests/lib/host.sh
. tests/lib/dns.sh
host_init 711-site-dns
host_realm alpha beta gamma || exit 1
NS=127.0.0.53
V6A=fd6b:696e:6b::a V6B=fd6b:696e:6b::b

# site_conf NAME ME FIND: the same file for every host
site_conf() {
	cat > "$T/$1.conf" <<EOF
set principal "kink/$1.test@$HOST_REALM"
set keytab "$T/$1.keytab"
set port $HOST_PORT
set backend null
set retransmit $HOST_RETRANS
set reply-cache 5s
set nameserver $NS
listen on $2 port $HOST_PORT
peer "site" {
	addresses 127.0.0.0/24 fd6b:696e:6b::/64
	principal "kink/%{host}@$HOST_REALM"
	find $3
	esp transport from me to peer transforms { esp enc aes-128-cbc auth hmac-sha1 }
}
EOF
}
peer_json() {
	ctlj "$1" show peers 2>/dev/null |
	    jq -c --arg n "$2" '.peers[] | select(.name == $n)' 2>/dev/null
}
learned_count() {
	ctlj "$1" show peers 2>/dev/null |
	    jq '[.peers[] | select(.learned != null)] | length' 2>/dev/null
}

dns_host alpha.test 127.0.0.1 $V6A
dns_host beta.test 127.0.0.2 $V6B
dns_host gamma.test 127.0.0.5
require dns-up dns_start "$T/dns" "$NS"

for fam in v6 v4; do
	if [ $fam = v4 ]; then a=127.0.0.1 b=127.0.0.2; else a=$V6A b=$V6B; fi
	site_conf alpha $a dns
	site_conf beta $b dns
	require "$fam/start" start_kinkd alpha "$T/alpha.conf" &&
	    require "$fam/start-beta" start_kinkd beta "$T/beta.conf"
	ctl alpha initiate $b > "$T/init.out" 2>&1
	check_eq "$fam/initiate-address" $? 0
	check "$fam/alpha-2-sas" wait_until "$HOST_WAIT" sa_count_is alpha 2
	check "$fam/beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$fam/sa-pairwise-equal" sa_pair_ok alpha beta
	j=$(peer_json alpha "site/$b")
	check_eq "$fam/alpha-learned" "$(jq -r '.principal + " " + .learned.how' <<<"$j")" \
	    "kink/beta.test@$HOST_REALM dns ptr+$([ $fam = v4 ] && echo a || echo aaaa)"
	j=$(peer_json beta "site/$a")
	check_eq "$fam/beta-learned-principal" "$(jq -r .principal <<<"$j")" \
	    "kink/alpha.test@$HOST_REALM"
	check "$fam/beta-forward-asked" test "$(dns_queries $([ $fam = v4 ] && echo A || echo AAAA) alpha.test)" -ge 1
	ctl beta initiate $a > "$T/init2.out" 2>&1
	check_eq "$fam/reverse-initiate" $? 0
	check "$fam/reverse-4-sas" wait_until "$HOST_WAIT" sa_count_is alpha 4
	# v4 last: its pair stays for the DNS-down part
	if [ $fam = v6 ]; then
		stop_kinkd alpha
		stop_kinkd beta
	fi
done

# --- DNS down: clear refusals, nothing created, existing SAs stay ---------
# (alpha and beta still hold their v4 pair from above)
dns_stop
site_conf gamma 127.0.0.5 dns
require down/start-gamma start_kinkd gamma "$T/gamma.conf"
check_eq down/gamma-initiate-fails "$(ctl_rc gamma initiate 127.0.0.2)" 1
check down/gamma-says-why grep -q "127.0.0.2: host not found (temporary failure" "$T/gamma.log"
# gamma's CREATE cannot even start without DNS: make beta the one to ask,
# from a listed-peer configuration on gamma's side
cat >> "$T/gamma.conf" <<EOF
peer "beta" {
	principal "kink/beta.test@$HOST_REALM"
	address 127.0.0.2
	esp transport from 127.0.0.5 to 127.0.0.2 transforms { esp enc aes-128-cbc auth hmac-sha1 }
}
EOF
stop_kinkd gamma
require down/restart-gamma start_kinkd gamma "$T/gamma.conf"
check_eq down/responder-refuses "$(ctl_rc gamma initiate beta)" 1
check down/responder-says-why grep -q \
    "CREATE from 127.0.0.5, principal kink/gamma.test@$HOST_REALM: refused, its address cannot be confirmed now (temporary failure" \
    "$T/beta.log"
check_eq down/nothing-created "$(peer_json beta site/127.0.0.5)$(peer_json gamma site/127.0.0.2)" ""
check_eq down/existing-sas "$(sa_count alpha) $(sa_count beta)" "4 4"
check_eq down/existing-peers "$(learned_count alpha) $(learned_count beta)" "1 1"
stop_kinkd gamma
stop_kinkd alpha
stop_kinkd beta

# --- mapping file, no DNS at all ----------------------------------------
printf '127.0.0.1 kink/alpha.test@%s\n127.0.0.2 kink/beta.test@%s\n' \
    "$HOST_REALM" "$HOST_REALM" > "$T/hosts"
site_conf alpha 127.0.0.1 "file \"$T/hosts\""
site_conf beta 127.0.0.2 "file \"$T/hosts\""
require file/start start_kinkd alpha "$T/alpha.conf" &&
    require file/start-beta start_kinkd beta "$T/beta.conf"
check_eq file/initiate "$(ctl_rc alpha initiate 127.0.0.2)" 0
check file/beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
check_eq file/how "$(peer_json alpha site/127.0.0.2 | jq -r .learned.how)" "file:2"
check_eq file/beta-how "$(peer_json beta site/127.0.0.1 | jq -r .learned.how)" "file:1"
stop_kinkd alpha
stop_kinkd beta
