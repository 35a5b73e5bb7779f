# A real DNS server for the tests: dnsmasq (Debian: dnsmasq-base) in the
# foreground on one address, serving only the records given here, forward
# and reverse.  Source it like tests/lib/realm.sh:
#
#	. tests/lib/dns.sh
#	dns_host alpha.test 127.0.0.1 fd6b:696e:6b::a   # A, AAAA and both PTRs
#	dns_ptr 127.0.0.66 beta.test                    # a PTR alone
#	dns_start "$dir" 127.0.0.53                     # port DNS_PORT (53)
#	dns_host gamma.test 127.0.0.3                   # later: restarts it
#	dns_queries PTR 3.0.0.127                       # queries seen so far
#	dns_stop                                        # also on EXIT (trap)
#
# DNS_TTL (seconds, default 60) is the TTL of every answer (--local-ttl).
# Names it has no record for are NXDOMAIN (--local=/#/): nothing is
# forwarded anywhere.  dns_start sets an EXIT trap calling dns_stop, except
# under tests/lib/host.sh (its host_cleanup stops the server) or with
# DNS_NO_TRAP=1 (call dns_stop yourself).

DNS_RECORDS=
DNS_PID=
DNS_DIR=
DNS_ADDR=

# 1.2.3.4 -> 4.3.2.1.in-addr.arpa; v6 through the expanded nibbles.
dns_rev() {
	case $1 in
	*:*)
		python3 -c 'import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1]).reverse_pointer)' "$1" ;;
	*)
		echo "$1" | awk -F. '{ printf "%s.%s.%s.%s.in-addr.arpa\n", $4, $3, $2, $1 }' ;;
	esac
}

dns_host() {	# dns_host NAME ADDR [ADDR6]
	DNS_RECORDS="${DNS_RECORDS}host-record=$1,$2${3:+,$3}
"
	[ -z "$DNS_PID" ] || dns_restart
}

dns_ptr() {	# dns_ptr ADDR NAME: the reverse record alone
	DNS_RECORDS="${DNS_RECORDS}ptr-record=$(dns_rev "$1"),$2
"
	[ -z "$DNS_PID" ] || dns_restart
}

dns_start() {	# dns_start DIR ADDR
	DNS_DIR=$1
	DNS_ADDR=$2
	mkdir -p "$DNS_DIR" || return 1
	if ! command -v dnsmasq >/dev/null; then
		echo "dns: dnsmasq not installed (tests/deps.sh: dnsmasq-base)" >&2
		return 1
	fi
	if [ -z "${DNS_NO_TRAP:-}" ] && ! command -v host_cleanup >/dev/null
	then
		trap 'dns_stop' EXIT
	fi
	dns_launch
}

dns_launch() {
	local i
	printf '%s' "$DNS_RECORDS" > "$DNS_DIR/dnsmasq.conf"
	# as the user we are (root in the tier's namespace): no setuid
	dnsmasq --keep-in-foreground --conf-file="$DNS_DIR/dnsmasq.conf" \
	    --no-resolv --no-hosts --local='/#/' \
	    --listen-address="$DNS_ADDR" --bind-interfaces \
	    --port="${DNS_PORT:-53}" --local-ttl="${DNS_TTL:-60}" \
	    --user="$(id -un)" --group="$(id -gn)" \
	    --pid-file="$DNS_DIR/dnsmasq.pid" \
	    --log-queries --log-facility="$DNS_DIR/dns.log" \
	    2>> "$DNS_DIR/dnsmasq.err" &
	DNS_PID=$!
	for i in $(seq 100); do
		if ss -Hlnu "sport = :${DNS_PORT:-53}" 2>/dev/null |
		    grep -qF "$DNS_ADDR:"; then
			return 0
		fi
		kill -0 "$DNS_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "dns: dnsmasq did not start: $(cat "$DNS_DIR/dnsmasq.err")" >&2
	DNS_PID=
	return 1
}

dns_stop() {
	[ -n "$DNS_PID" ] || return 0
	kill "$DNS_PID" 2>/dev/null
	wait "$DNS_PID" 2>/dev/null
	DNS_PID=
}

dns_restart() {
	dns_stop
	dns_launch
}

# dns_queries TYPE NAME: how many TYPE queries for NAME (case folded: the
# resolver may mix case) dnsmasq logged; for PTR, NAME may be the address.
dns_queries() {
	local n=$2
	[ "$1" = PTR ] && case $n in *.arpa) ;; *) n=$(dns_rev "$n") ;; esac
	grep -ci "query\[$1\] $n from" "$DNS_DIR/dns.log" 2>/dev/null || true
}
