# Sourced by the sysd guest scenarios: two hosts alpha and beta, each a
# network namespace (/run/netns/NAME) joined by a veth pair, each running
# its own kinkd@NAME instance; the realm's KDC runs in alpha.
A4=10.0.0.1 B4=10.0.0.2
REALM=KINK.TEST
# A kinkd's files, by instance name.
conf() { echo "/etc/kinkd/$1.conf"; }
sock() { echo "/run/kinkd-$1.sock"; }

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; FAILED=1; }
FAILED=0

# wait_until SECONDS CMD...: poll every 0.2 s; a bound, not a delay.
wait_until() {
	n=$(($1 * 5))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

# Kernel SAs of namespace $1: count, and their SPIs sorted.
sa_count() { ip -n "$1" xfrm state | grep -c '^src '; }
sa_count_is() { [ "$(sa_count "$1")" -eq "$2" ]; }
sa_spis() { ip -n "$1" xfrm state | sed -n 's/.* spi \(0x[0-9a-f]*\) .*/\1/p' | sort | tr '\n' ' '; }

# Sum of the packet counters of every SA in namespace $1.
esp_packets() {
	ip -n "$1" -s xfrm state | awk '
	/^[[:space:]]*lifetime current:/ { cur = 1; next }
	cur && /packets/ { n += $2; cur = 0 }
	END { print n + 0 }'
}

# journal UNIT [journalctl options]: the unit's messages, text only.
journal() {
	u=$1
	shift
	journalctl -q --no-pager -u "$u" -o cat "$@"
}

# in_journal UNIT PATTERN: journald may not have read the stream yet.
in_journal() { journal "$1" | grep -q -- "$2"; }

# The first echo request triggers the ACQUIRE and is lost; then both
# kernels hold a pair of SAs.
negotiate() {
	ip netns exec alpha ping -c 1 -W 1 $B4 > /dev/null 2>&1
	wait_until 60 sa_count_is alpha 2 && wait_until 30 sa_count_is beta 2
}

show_state() {
	for i in alpha beta; do
		echo "  --- systemctl status kinkd@$i"
		systemctl status --no-pager -n 30 "kinkd@$i" 2>&1 | sed 's/^/  /'
		echo "  --- ip -n $i xfrm"
		ip -n "$i" xfrm state | sed 's/^/  /'
		ip -n "$i" xfrm policy | sed 's/^/  /'
	done
}
