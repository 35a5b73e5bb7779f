# strongSwan side of tests/bench/compare.sh, sourced by the native run
# and by the VM guest (tests/bench/compare-guest.sh); POSIX sh.
#
# swan_conf NAME PORT DIR LOAD: DIR/NAME.strongswan.conf, a charon of its
#	own: ports PORT and PORT+1 (never 500/4500), its vici socket in DIR,
#	a log file, only the plugins in LOAD, no routing table of its own.
# swan_conn_i DIR ME PEER PEERPORT NIKE NCHILD MODE LTS RTS: the
#	initiator's swanctl.conf: IKE configs ike0..ike(NIKE-1), each with
#	CHILD configs c<i>_0..c<i>_NCHILD, every one with its own mark, as
#	charon's initiator refuses a CHILD_SA equal to an installed one.
# swan_conn_r DIR ME PEER MODE LTS RTS: the responder's: one config.
# swan_start NAME DIR [PREFIX...]: charon in its own mount namespace (its
#	pid file lives in /run), run through PREFIX (e.g. "ip netns exec A");
#	sets SWAN_PID; returns when swanctl has loaded the configuration.
# swan_warm DIR NIKE: one IKE_SA per IKE config, with its first CHILD_SA,
#	before the measured run (the runs measure CREATE_CHILD_SA only).
#
# PSK authentication; IKE AES-CBC-128/HMAC-SHA-256/ECP-256 once per IKE_SA;
# every CHILD_SA AES-CBC-128/HMAC-SHA1-96 without PFS, as kinkd's default
# transform in the bench.

SWAN_CHARON=${SWAN_CHARON:-/usr/lib/ipsec/charon}
SWAN_PSK=0sa2luay1iZW5jaC1vbmx5LWtleQ==

swan_conf() {
	cat > "$3/$1.strongswan.conf" <<EOC
charon {
	port = $2
	port_nat_t = $(($2 + 1))
	install_virtual_ip = no
	# each vici "initiate" holds a thread until its exchange ends: the
	# default 16 leave too few to run eight exchanges at once
	threads = 32
	routing_table = 0
	load_modular = no
	load = $4
	plugins {
		vici { socket = unix://$3/$1.vici }
	}
	filelog { f { path = $3/swan-$1.log
		default = ${SWAN_LOG:-0} } }
	syslog { daemon { default = -1 } }
}
swanctl {
	socket = unix://$3/$1.vici
	load = random openssl pem pkcs1 x509
}
EOC
}

swan_secret() {
	printf 'secrets { ike-1 { id-1 = alpha\n\tid-2 = beta\n\tsecret = %s } }\n' \
	    "$SWAN_PSK"
}

swan_conn_i() {
	d=$1 me=$2 peer=$3 pport=$4 nike=$5 nchild=$6 mode=$7 lts=$8 rts=$9
	{
		echo "connections {"
		i=0
		while [ $i -lt "$nike" ]; do
			printf '\tike%d {\n\t\tlocal_addrs = %s\n\t\tremote_addrs = %s\n' \
			    $i "$me" "$peer"
			printf '\t\tremote_port = %s\n\t\tproposals = aes128-sha256-ecp256\n' \
			    "$pport"
			printf '\t\tunique = never\n'
			printf '\t\tlocal { auth = psk\n\t\t\tid = alpha }\n'
			printf '\t\tremote { auth = psk\n\t\t\tid = beta }\n\t\tchildren {\n'
			k=0
			while [ $k -le "$nchild" ]; do
				printf '\t\t\tc%d_%d { local_ts = %s\n\t\t\t\tremote_ts = %s\n' \
				    $i $k "$lts" "$rts"
				printf '\t\t\t\tesp_proposals = aes128-sha1\n'
				printf '\t\t\t\tmode = %s\n\t\t\t\tmark_in = %d\n\t\t\t\tmark_out = %d }\n' \
				    "$mode" $((i * 100000 + k + 1)) $((i * 100000 + k + 1))
				k=$((k + 1))
			done
			printf '\t\t}\n\t}\n'
			i=$((i + 1))
		done
		echo "}"
		swan_secret
	} > "$d/alpha.swanctl.conf"
}

swan_conn_r() {
	d=$1 me=$2 peer=$3 mode=$4 lts=$5 rts=$6
	cat > "$d/beta.swanctl.conf" <<EOC
connections {
	resp {
		local_addrs = $me
		remote_addrs = $peer
		proposals = aes128-sha256-ecp256
		# eight IKE_SAs of one peer side by side: none replaces another
		unique = never
		local { auth = psk
			id = beta }
		remote { auth = psk
			id = alpha }
		children { c { local_ts = $lts
			remote_ts = $rts
			esp_proposals = aes128-sha1
			mode = $mode } }
	}
}
EOC
	swan_secret >> "$d/beta.swanctl.conf"
}

swan_start() {
	n=$1 d=$2
	shift 2
	rm -f "$d/$n.vici"
	: > "$d/swan-$n.log"
	# exec keeps one pid from "$@" through unshare to charon; the pid
	# file is in /var/run, a directory of its own in the VM guest
	STRONGSWAN_CONF=$d/$n.strongswan.conf "$@" unshare -m sh -c \
	    'mount -t tmpfs none /run && { [ -L /var/run ] ||
	    mount -t tmpfs none /var/run; } && exec "$0"' "$SWAN_CHARON" \
	    > "$d/swan-$n.out" 2>&1 &
	SWAN_PID=$!
	i=0
	while [ $i -lt 600 ] && [ ! -S "$d/$n.vici" ]; do	# a bound (60 s)
		kill -0 $SWAN_PID 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	STRONGSWAN_CONF=$d/$n.strongswan.conf swanctl --load-all \
	    --file "$d/$n.swanctl.conf" > "$d/swan-$n.load" 2>&1 ||
	    { echo "# charon $n did not load its configuration:"
	      tail -n 5 "$d/swan-$n.out" "$d/swan-$n.load" "$d/swan-$n.log" |
	      sed 's/^/#   /'
	      return 1; }
}

swan_stop() {	# swan_stop PID
	kill "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

swan_warm() {
	i=0
	while [ $i -lt "$2" ]; do
		STRONGSWAN_CONF=$1/alpha.strongswan.conf swanctl --initiate \
		    --ike ike$i --child c${i}_0 > "$1/swan-warm.out" 2>&1 ||
		    { echo "# charon: IKE_SA ike$i did not come up:"
		      tail -n 5 "$1/swan-warm.out" | sed 's/^/#   /'
		      return 1; }
		i=$((i + 1))
	done
}

# cpu_ns PID: CPU time of every live thread of a process in ns, from
# /proc/PID/task/*/schedstat; empty when the kernel has none.  A cross-
# check of the drivers' figure (the process CPU clock, which also counts
# threads that exited during the round)
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null |
	    awk '{ s += $1 } END { if (NR) printf "%.0f\n", s }'
}

# bench_parse FILE [NS0 NS1]: "rate cpu_us sched_us" from bench_create's
# or bench_vici's output: the CPU per exchange as the driver read it from
# the responder's process CPU clock (ns; clock ticks only when the clock
# cannot be read), then the same from the two cpu_ns readings around the
# run ("-" without them)
bench_parse() {
	awk -v n0="${2:-}" -v n1="${3:-}" '
	    /exchanges, concurrency/ { n = $2 }
	    /exchanges\/s/ { r = $2 }
	    /responder CPU/ { gsub(/\(/, "", $5); c = $5 * 1000 }
	    END { s = "-"
		if (n0 != "" && n1 != "" && n > 0)
			s = sprintf("%.1f", (n1 - n0) / 1000 / n)
		if (r == "" || c == "") exit 1; printf "%s %.1f %s\n", r, c, s }' "$1"
}

# median of the numbers on stdin
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan";
	    else if (NR % 2) print v[(NR + 1) / 2];
	    else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# compare_line WHERE CONC RESDIR: the medians of the rounds, one line,
# after a comment with every round's figures (their spread)
compare_line() {
	for f in kinkd swan; do
		awk -v f=$f -v w="$1" -v n="$2" '
		    { r = r sep $1; c = c sep $2; s = s sep $3; sep = "," }
		    END { printf "# rounds %s where=%s inflight=%s rate=%s " \
			"cpu_us=%s schedstat_cpu_us=%s\n", f, w, n, r, c, s }' \
		    "$3/$f.$2"
	done
	kc=$(cut -d' ' -f2 "$3/kinkd.$2" | median)
	sc=$(cut -d' ' -f2 "$3/swan.$2" | median)
	kr=$(cut -d' ' -f1 "$3/kinkd.$2" | median)
	sr=$(cut -d' ' -f1 "$3/swan.$2" | median)
	awk -v w="$1" -v n="$2" -v kc="$kc" -v sc="$sc" -v kr="$kr" -v sr="$sr" \
	    'BEGIN { printf "compare where=%s inflight=%s kinkd_cpu_us=%.1f " \
	    "swan_cpu_us=%.1f cpu_ratio=%.2f kinkd_rate=%.1f swan_rate=%.1f " \
	    "rate_ratio=%.2f\n", w, n, kc, sc, (kc > 0 ? sc / kc : 0), kr, sr,
	    (sr > 0 ? kr / sr : 0) }'
}
