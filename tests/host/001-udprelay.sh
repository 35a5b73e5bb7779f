#!/bin/bash
# The relay itself, before any daemon relies on it: plain datagrams from
# kinkcraft through udprelay, v4 and v6.  Checks that each action does
# exactly what the rule says and that the statistics file counts it.
. tests/lib/host.sh
HOST_NEEDS="$UDPRELAY $KINKCRAFT"
host_init 001-udprelay

# One datagram per KINK type: 16-octet header, Type, MjVer 1, Length 16,
# DOI 1, XID.
msg() {	# msg TYPE XID
	printf '%02x100010000000010000%04x00000000' "$1" "$2"
}

# receiver NAME ADDR COUNT MS: kinkcraft recv in the background; returns
# once it is bound.  It exits as soon as it has COUNT datagrams: MS only
# bounds a broken case, so it is generous (each send is a process start,
# slow on a loaded machine).
RECV_MS=20000
receiver() {
	"$KINKCRAFT" recv -b "$2" -n "$3" -w "$4" ${5:+-o "$5"} \
	    > "$T/$1.out" 2>&1 &
	echo $! > "$T/$1.rpid"
	wait_until "$HOST_WAIT" grep -q '^listening' "$T/$1.out"
}


received() {	# received NAME: datagrams NAME got, in order, as "TYPE xid"
	# called inside $(...): not our child there, so poll for its exit
	wait_until $((RECV_MS / 1000 + HOST_WAIT)) proc_gone "$(cat "$T/$1.rpid")"
	grep '^recv' "$T/$1.out" | awk '{ print $2, $4 }'
}

relay_counts() {	# relay_counts DIR TYPE FIELD...: "N/N/..."
	local d=$1 t=$2 f out=
	shift 2
	for f in "$@"; do
		out="$out${out:+/}$(relay_stat "$d" "$t" "$f")"
	done
	echo "$out"
}

run_family() {
	local fam=$1 A B RA RB
	A=$(hostport "$(addr_of "$fam" alpha)" "$HOST_PORT")
	B=$(hostport "$(addr_of "$fam" beta)" "$HOST_PORT")
	RA=$(hostport "$(addr_of "$fam" ralpha)" "$HOST_PORT")
	RB=$(hostport "$(addr_of "$fam" rbeta)" "$HOST_PORT")

	relay_start "$fam" "drop a2b CREATE 1" "dup b2a REPLY all" \
	    "save=$T/cap.$fam a2b CREATE 2" "corrupt a2b STATUS 1" \
	    "delay=2000 a2b ACK 1"
	check "$fam/relay-up" test -s "$T/relay.pid"

	# drop: first CREATE gone, second through (and saved as it was)
	receiver b "$B" 2 $RECV_MS
	"$KINKCRAFT" send -b "$A" -t "$RA" -x "$(msg 1 1)"
	"$KINKCRAFT" send -b "$A" -t "$RA" -x "$(msg 1 2)"
	"$KINKCRAFT" send -b "$A" -t "$RA" -x "$(msg 1 3)"
	check_eq "$fam/drop-first-create" "$(received b | tr '\n' ' ')" \
	    "CREATE xid=0x00000002 CREATE xid=0x00000003 "
	# the relay rewrites its statistics just after forwarding: the
	# receiver can have the last datagram before it is counted
	check "$fam/drop-counted" wait_until "$HOST_WAIT" \
	    is = 3/1/2 relay_counts a2b CREATE seen drop fwd
	check_eq "$fam/save" "$(od -An -tx1 "$T/cap.$fam" | tr -d ' \n')" \
	    "$(msg 1 2)"

	# dup: every REPLY from B reaches A twice
	receiver a "$A" 4 $RECV_MS
	"$KINKCRAFT" send -b "$B" -t "$RB" -x "$(msg 3 7)"
	"$KINKCRAFT" send -b "$B" -t "$RB" -x "$(msg 3 8)"
	check_eq "$fam/dup-reply" "$(received a | tr '\n' ' ')" \
	    "REPLY xid=0x00000007 REPLY xid=0x00000007 REPLY xid=0x00000008 REPLY xid=0x00000008 "
	check "$fam/dup-counted" wait_until "$HOST_WAIT" \
	    is = 2 relay_stat b2a REPLY dup

	# corrupt: the last octet flipped, rest intact
	receiver b "$B" 1 $RECV_MS "$T/corrupt.$fam"
	"$KINKCRAFT" send -b "$A" -t "$RA" -x "$(msg 6 9)"
	received b >/dev/null
	want=$(msg 6 9 | sed 's/00$/ff/')
	check_eq "$fam/corrupt-last-octet" \
	    "$(od -An -tx1 "$T/corrupt.$fam" | tr -d ' \n')" "$want"

	# delay: the ACK is held, the STATUS sent after it overtakes it (the
	# hold is long enough for the second kinkcraft to start under load)
	receiver b "$B" 2 $RECV_MS
	"$KINKCRAFT" send -b "$A" -t "$RA" -x "$(msg 5 10)"
	"$KINKCRAFT" send -b "$A" -t "$RA" -x "$(msg 6 11)"
	check_eq "$fam/delay-reorders" "$(received b | tr '\n' ' ')" \
	    "STATUS xid=0x0000000b ACK xid=0x0000000a "

	# a stranger on alpha's side is neither forwarded nor mistaken for A
	S=$(hostport "$(addr_of "$fam" alpha)" $((HOST_PORT + 1)))
	"$KINKCRAFT" send -b "$S" -t "$RA" -x "$(msg 1 12)"
	check "$fam/stray-counted" wait_until "$HOST_WAIT" \
	    grep -q '^stray 1$' "$T/relay.stats"

	# SIGHUP: new rules, match counters from zero
	relay_rules "drop a2b DELETE 2"
	check "$fam/reload-logged" grep -q '^rules 1$' "$T/relay.log"
	receiver b "$B" 2 $RECV_MS
	for x in 20 21 22; do
		"$KINKCRAFT" send -b "$A" -t "$RA" -x "$(msg 2 $x)"
	done
	check_eq "$fam/reload-applies" "$(received b | tr '\n' ' ')" \
	    "DELETE xid=0x00000014 DELETE xid=0x00000016 "
	# the old "drop first CREATE" rule is gone
	receiver b "$B" 1 $RECV_MS
	"$KINKCRAFT" send -b "$A" -t "$RA" -x "$(msg 1 30)"
	check_eq "$fam/reload-replaces" "$(received b)" "CREATE xid=0x0000001e"

	kill "$(cat "$T/relay.pid")"
	check "$fam/relay-exits" wait_until "$HOST_WAIT" test ! -e "$T/relay.pid"
}

run_family v4
run_family v6

# Bad rules are refused with a usage error (exit 2), not half-applied.
"$UDPRELAY" -a 127.0.0.1:1 -A 127.0.0.1:2 -b 127.0.0.1:3 -B 127.0.0.1:4 \
    -r "explode a2b CREATE 1" 2>/dev/null
check_eq bad-rule-exit $? 2
