#!/bin/bash
# A learned peer's first CREATE waits for the responder's DNS check, not
# for a retransmission (issue 14): the verified command is parked while
# the forward lookup of its principal's host runs and goes on when it
# answers.  Retransmissions are 2 s apart here and the lookup takes
# milliseconds, so "no retransmission" is what tells parking from the old
# drop-and-wait.  With krb-workers 0 (verification on the loop) and 2
# (the pool).  Then the refusal: a valid principal claiming another
# host's address is refused once per command it sends (the parked one
# included), with its log line, and never answered with an error.
. tests/lib/host.sh
. tests/lib/dns.sh
host_init 740-site-park
host_realm alpha beta gamma || exit 1
NS=127.0.0.53

site_conf() {	# NAME ME WORKERS
	cat > "$T/$1.conf" <<EOF
set principal "kink/$1.test@$HOST_REALM"
set keytab "$T/$1.keytab"
set port $HOST_PORT
set backend null
set retransmit $HOST_RETRANS
set reply-cache 5s
set nameserver $NS
set krb-workers $3
listen on $2 port $HOST_PORT
peer "site" {
	addresses 127.0.0.0/24
	principal "kink/%{host}@$HOST_REALM"
	find dns
	esp transport from me to peer transforms { esp enc aes-128-cbc auth hmac-sha1 }
}
EOF
}

dns_host alpha.test 127.0.0.1
dns_host beta.test 127.0.0.2
dns_host gamma.test 127.0.0.5
require dns-up dns_start "$T/dns" "$NS"

for w in 0 2; do
	site_conf alpha 127.0.0.1 $w
	site_conf beta 127.0.0.2 $w
	require "w$w/start" start_kinkd alpha "$T/alpha.conf" &&
	    require "w$w/start-beta" start_kinkd beta "$T/beta.conf"
	q0=$(dns_queries A alpha.test)
	check_eq "w$w/initiate" "$(ctl_rc alpha initiate 127.0.0.2)" 0
	check "w$w/alpha-2-sas" wait_until "$HOST_WAIT" sa_count_is alpha 2
	check "w$w/beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "w$w/sa-pairwise-equal" sa_pair_ok alpha beta
	# beta did ask DNS (the check did not answer at once) ...
	check "w$w/beta-asked-dns" test "$(dns_queries A alpha.test)" -gt "$q0"
	check_eq "w$w/beta-parked" "$(log_count beta 'checking the principal.s address, parked meanwhile')" 1
	# ... and the first CREATE went on from there: nothing resent
	check_eq "w$w/no-retransmit" "$(stat_get alpha retransmits)" 0
	check_eq "w$w/beta-no-drop" "$(stat_get beta drop_nopeer) $(stat_get beta drop_park_full)" "0 0"
	check_eq "w$w/beta-no-error" "$(stat_get beta errors_sent)" 0
	check_eq "w$w/beta-one-xact" "$(stat_get beta xact_started)" 1
	stop_kinkd alpha
	stop_kinkd beta
done

# --- refusal: gamma's principal from 127.0.0.3 (gamma.test is .5) -------
site_conf beta 127.0.0.2 0
require refuse/start-beta start_kinkd beta "$T/beta.conf"
cat > "$T/gamma.conf" <<EOF
set principal "kink/gamma.test@$HOST_REALM"
set keytab "$T/gamma.keytab"
set port $HOST_PORT
set backend null
set retransmit $HOST_RETRANS
listen on 127.0.0.3 port $HOST_PORT
peer "beta" {
	principal "kink/beta.test@$HOST_REALM"
	address 127.0.0.2
	esp transport from 127.0.0.3 to 127.0.0.2 transforms { esp enc aes-128-cbc auth hmac-sha1 }
}
EOF
require refuse/start-gamma start_kinkd gamma "$T/gamma.conf"
check_eq refuse/initiate-fails "$(ctl_rc gamma initiate beta)" 1
why="CREATE from 127.0.0.3, principal kink/gamma.test@$HOST_REALM: refused, the principal is not bound to that address"
n=$(log_count beta "$why")
# one refusal line and one drop per command beta took (the parked first
# copy and each later retransmission, answered from the cache)
check refuse/logged test "$n" -ge 1
check_eq refuse/one-line-per-command "$(stat_get beta drop_nopeer)" "$n"
check_eq refuse/parked-once "$(log_count beta 'parked meanwhile')" 1
check_eq refuse/no-error-answer "$(stat_get beta errors_sent)" 0
check_eq refuse/nothing-learned "$(ctlj beta show peers | jq '[.peers[] | select(.learned != null)] | length')" 0
stop_kinkd gamma
stop_kinkd beta

# --- the byte cap: no room to park (test knob), so dropped as before ----
site_conf alpha 127.0.0.1 0
site_conf beta 127.0.0.2 0
require cap/start start_kinkd alpha "$T/alpha.conf" &&
    require cap/start-beta start_kinkd beta "$T/beta.conf"
inject beta "park-max 100"
check cap/knob wait_until "$HOST_WAIT" grep -q "inject: park-max 100" "$T/beta.log"
check_eq cap/initiate "$(ctl_rc alpha initiate 127.0.0.2)" 0
check "cap/beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
check_eq cap/counted "$(stat_get beta drop_park_full)" 1
check_eq cap/not-parked "$(log_count beta 'parked meanwhile')" 0
check_eq cap/said "$(log_count beta 'bytes parked already, dropped meanwhile')" 1
check cap/retransmitted test "$(stat_get alpha retransmits)" -ge 1
stop_kinkd alpha
stop_kinkd beta
