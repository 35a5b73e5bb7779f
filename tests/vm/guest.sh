# Sourced by the guest scripts: two hosts A and B as network namespaces
# joined by a veth pair, v4 and v6 (nodad: usable at once).
# busybox sh runs its own applets before PATH: use iproute2's ip.
ip() { /usr/sbin/ip "$@"; }

A4=10.0.0.1 B4=10.0.0.2 A6=fd00::1 B6=fd00::2

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; FAILED=1; }
FAILED=0

hosts_up() {
	hosts_down
	ip netns add A && ip netns add B || return 1
	ip link add va netns A type veth peer name vb netns B || return 1
	ip -n A addr add $A4/24 dev va && ip -n B addr add $B4/24 dev vb &&
	ip -n A addr add $A6/64 dev va nodad && ip -n B addr add $B6/64 dev vb nodad &&
	ip -n A link set lo up && ip -n B link set lo up &&
	ip -n A link set va up && ip -n B link set vb up
}

hosts_down() {
	ip netns del A 2>/dev/null
	ip netns del B 2>/dev/null
	return 0
}

# Sum of the packet counters of every SA in namespace $1 (ip -s xfrm state).
esp_packets() {
	ip -n "$1" -s xfrm state | awk '
	/^[[:space:]]*lifetime current:/ { cur = 1; next }
	cur && /packets/ { n += $2; cur = 0 }
	END { print n + 0 }'
}

# Permanent neighbour entries on the veth: with ICMPv6 under an IPsec
# policy, neighbour discovery between A and B must not need it.
static_neigh() {
	ma=$(ip -n A -o link show va | sed 's/.*link\/ether \([^ ]*\).*/\1/')
	mb=$(ip -n B -o link show vb | sed 's/.*link\/ether \([^ ]*\).*/\1/')
	ip -n A neigh replace $B6 lladdr $mb dev va nud permanent &&
	    ip -n B neigh replace $A6 lladdr $ma dev vb nud permanent
}
