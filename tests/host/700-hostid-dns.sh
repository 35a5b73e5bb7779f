#!/bin/bash
# hostid's DNS mode against a real DNS server (dnsmasq, tests/lib/dns.sh)
# on the tier's loopback, driven by tests/tools/hostidq on a real event
# loop: PTR then forward confirmation (v4 and v6), the responder's forward
# check, a PTR naming a host that resolves elsewhere, NXDOMAIN, a dead
# server (TEMPFAIL, cached briefly, then answered), TTLs (dnsmasq
# --local-ttl) and their cap, one query for two waiters, the per-source
# rate limit, cancel, and a reload to another nameserver.
. tests/lib/host.sh
. tests/lib/dns.sh
HOSTIDQ="$HOST_TOP/$B/tests/tools/hostidq"
HOST_NEEDS="$HOSTIDQ"
host_init 700-hostid-dns

NS=127.0.0.53
DEAD=127.0.0.54		# nothing listens there
V6A=fd6b:696e:6b::a
V6B=fd6b:696e:6b::b
A=kink/alpha.test@KINK.TEST
Bp=kink/beta.test@KINK.TEST

q() { "$HOSTIDQ" -n "$NS" "$@" 2>> "$T/hostidq.log"; }
# field N of the answer line of WHAT (STATUS is 1, PRINCIPAL 2, HOW 3..)
ans() {	# ans OUTPUT WHAT -> "STATUS PRINCIPAL HOW" (the time dropped)
	printf '%s\n' "$1" | grep -F -- "$2 " | head -n 1 |
	    sed -e "s|^$2 ||" -e 's/ [0-9]*$//'
}

dns_host alpha.test 127.0.0.1 "$V6A"
dns_host beta.test 127.0.0.2 "$V6B"
# a PTR that names beta, whose own records say 127.0.0.2
dns_ptr 127.0.0.66 beta.test
# PTRs whose names are no host names: no principal is made of them
dns_ptr 127.0.0.88 'x@y.test'
dns_ptr 127.0.0.89 'kink/evil.test'
require dns-up dns_start "$T/dns" "$NS"

# --- initiator and responder, v4 and v6 --------------------------------
out=$(q lookup 127.0.0.1 lookup "$V6B" check "$A" 127.0.0.1 \
    check "$Bp" "$V6B" check "$Bp" 127.0.0.1 check "$A" "$V6B" \
    lookup 127.0.0.66 lookup 127.0.0.77 check kink/nobody.test@KINK.TEST \
    127.0.0.1 check host/gamma.test@KINK.TEST 127.0.0.1)
check_eq lookup-v4 "$(ans "$out" "lookup 127.0.0.1")" "OK $A dns ptr+a"
check_eq lookup-v6 "$(ans "$out" "lookup $V6B")" "OK $Bp dns ptr+aaaa"
check_eq check-v4 "$(ans "$out" "check $A 127.0.0.1")" "OK $A dns a"
check_eq check-v6 "$(ans "$out" "check $Bp $V6B")" "OK $Bp dns aaaa"
# a valid principal of the realm claiming another host's address
check_eq claim-other-v4 "$(ans "$out" "check $Bp 127.0.0.1")" \
    "MISMATCH $Bp dns a"
check_eq claim-other-v6 "$(ans "$out" "check $A $V6B")" \
    "MISMATCH $A dns aaaa"
# PTR says beta, beta resolves elsewhere: not confirmed
check_eq ptr-forward-mismatch "$(ans "$out" "lookup 127.0.0.66")" \
    "MISMATCH $Bp dns ptr+a"
check_eq ptr-nxdomain "$(ans "$out" "lookup 127.0.0.77")" \
    "NOTFOUND - dns ptr"
check_eq forward-nxdomain \
    "$(ans "$out" "check kink/nobody.test@KINK.TEST 127.0.0.1")" \
    "NOTFOUND kink/nobody.test@KINK.TEST dns a"
check_eq badprinc "$(ans "$out" "check host/gamma.test@KINK.TEST 127.0.0.1")" \
    "BADPRINC host/gamma.test@KINK.TEST dns"
# a principal outside the pattern is refused before any query
check_eq badprinc-no-query "$(dns_queries A gamma.test)" 0

out=$(q lookup 127.0.0.88 lookup 127.0.0.89)
check_eq ptr-not-a-host "$(ans "$out" "lookup 127.0.0.88")/$(ans "$out" "lookup 127.0.0.89")" \
    "MISMATCH - dns ptr/MISMATCH - dns ptr"
# no nameserver given: /etc/resolv.conf's (a private one, bind-mounted)
echo "nameserver $NS" > "$T/resolv.conf"
out=$(unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && exec "$2" lookup 127.0.0.1' \
    - "$T/resolv.conf" "$HOSTIDQ" 2>> "$T/hostidq.log")
check_eq resolv-conf "$(ans "$out" "lookup 127.0.0.1")" "OK $A dns ptr+a"

# --- cache: an answer is reused for its TTL, and only for it ----------
# alpha's PTR: asked once above; the same process asks again within the
# TTL (60 s) and never asks the server
before=$(dns_queries PTR 127.0.0.1)
out=$(q lookup 127.0.0.1 lookup 127.0.0.1)
check_eq ttl-cached "$(($(dns_queries PTR 127.0.0.1) - before))" 1
# two checks in flight for one name: one query
before=$(dns_queries A beta.test)
out=$(q both "$Bp" "$Bp" 127.0.0.2)
check_eq one-query-two-waiters "$(printf '%s\n' "$out" | grep -c "^both $Bp 127.0.0.2 OK ")/$(($(dns_queries A beta.test) - before))" "2/1"
# the server's TTL (2 s) ends the answer: asked again after it
DNS_TTL=2
dns_restart
before=$(dns_queries PTR 127.0.0.2)
out=$(q lookup 127.0.0.2 lookup 127.0.0.2 sleep 2500 lookup 127.0.0.2)
check_eq ttl-expires "$(printf '%s\n' "$out" | grep -c "^lookup 127.0.0.2 OK ")/$(($(dns_queries PTR 127.0.0.2) - before))" "3/2"
# max_ttl_ms caps a long TTL (60 s, capped to 1 s)
DNS_TTL=60
dns_restart
before=$(dns_queries PTR 127.0.0.2)
out=$(q -T 1000 lookup 127.0.0.2 sleep 1500 lookup 127.0.0.2)
check_eq ttl-capped "$(($(dns_queries PTR 127.0.0.2) - before))" 2

# --- the server down: TEMPFAIL, cached briefly, then answered ----------
dns_stop
"$HOSTIDQ" -n "$NS" -F 4500 lookup 127.0.0.1 sleep 3000 lookup 127.0.0.1 \
    sleep 3000 lookup 127.0.0.1 > "$T/down.out" 2>> "$T/hostidq.log" &
qpid=$!
HOST_BG="$HOST_BG $qpid"
wait_until "$HOST_WAIT" grep -q '^lookup' "$T/down.out"
# back up at once: the next lookup (3 s on) still gets the cached failure
dns_restart
before=$(dns_queries PTR 127.0.0.1)
wait "$qpid"
out=$(cat "$T/down.out")
echo "# down: $(head -n 1 "$T/down.out" | awk '{ print $NF }') ms to TEMPFAIL"
check_eq down-tempfail "$(printf '%s\n' "$out" | sed -n 1p | cut -d' ' -f3-6)" \
    "TEMPFAIL - dns ptr"
check_eq down-cached "$(printf '%s\n' "$out" | sed -n 2p | cut -d' ' -f3-6)" \
    "TEMPFAIL - dns ptr"
check_eq down-recovered "$(printf '%s\n' "$out" | sed -n 3p | cut -d' ' -f3-6)" \
    "OK $A dns ptr+a"
check_eq down-cached-no-query "$(($(dns_queries PTR 127.0.0.1) - before))" 1
# a reload to a live server: answered
out=$("$HOSTIDQ" -n "$DEAD" ns "$NS" lookup 127.0.0.1 2>> "$T/hostidq.log")
check_eq reload-nameserver "$(ans "$out" "lookup 127.0.0.1")" \
    "OK $A dns ptr+a"

# --- per-source rate limit: 2 a second, the third not asked ------------
out=$(q -R 2 check kink/a1.test@KINK.TEST 127.0.0.9 \
    check kink/a2.test@KINK.TEST 127.0.0.9 \
    check kink/a3.test@KINK.TEST 127.0.0.9 \
    check kink/a3.test@KINK.TEST 127.0.0.10)
check_eq ratelim-third \
    "$(ans "$out" "check kink/a3.test@KINK.TEST 127.0.0.9" | cut -d' ' -f1)" \
    LIMITED
check_eq ratelim-other-source \
    "$(ans "$out" "check kink/a3.test@KINK.TEST 127.0.0.10" | cut -d' ' -f1)" \
    NOTFOUND
check_eq ratelim-asked "$(dns_queries A a1.test)/$(dns_queries A a3.test)" "1/1"

# --- cancel: the callback never comes ---------------------------------
out=$(q cancel 127.0.0.2)
check_eq cancel "$out" "cancel 127.0.0.2 SILENT"

check no-sanitizer-report sh -c "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$T/hostidq.log'"
