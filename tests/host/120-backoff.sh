#!/bin/bash
# Retransmission backoff as the wire sees it (kinkd.conf(5) "set
# retransmit"): one CREATE under total loss is sent `tries` times, with
# the same XID, and the gap between two sends doubles until it reaches
# `max`, then stays there.  The relay drops every CREATE and logs the
# millisecond at which each arrived.
#
# Timing on a loaded 2-core machine: a timer fires late, never early, and
# the relay may read a datagram late, so a gap can grow by the lateness
# of its own send and shrink by that of the one before.  The first
# interval is long enough (500 ms) that ratios stay between 1.5 and 2.7
# with up to ~150 ms of such skew, and the capped gaps are checked within
# [0.85, 1.35] of the cap.  Without doubling every ratio is 1; a cap not
# applied gives a gap of twice the cap.  Sends are counted after the
# initiator gave up, so their number does not depend on speed.
HOST_RETRANS="500ms max 4s tries 6"
. tests/lib/host.sh
host_init 120-backoff
host_realm alpha beta || exit 1

first=500 cap=4000 tries=6

VIA=1 write_conf alpha v4
start_kinkd alpha "$T/alpha.conf" || { fail start "alpha did not start"; exit 1; }
relay_start v4 "drop a2b CREATE all"
g0=$(stat_get alpha giveups)
ctl alpha initiate beta > "$T/initiate.out" 2> "$T/initiate.err"
check_eq initiate-fails $? 1
require gave-up wait_until "$HOST_WAIT" is -gt "$g0" stat_get alpha giveups

# "SEQ MS a2b CREATE len=L xid=X drop" -> "MS X"
awk '$3 == "a2b" && $4 == "CREATE" { print $2, $6 }' "$T/relay.log" > "$T/sends"
check_eq sends-equal-tries "$(wc -l < "$T/sends")" "$tries"
check_eq one-xid "$(awk '{ print $2 }' "$T/sends" | sort -u | wc -l)" 1
check_eq all-dropped "$(relay_stat a2b CREATE drop)" "$tries"

# One line per gap: "N GAP-MS EXPECTED-INTERVAL-MS".
awk -v first="$first" -v cap="$cap" '
	NR > 1 { print NR - 1, $1 - prev, iv; iv = 2 * iv > cap ? cap : 2 * iv }
	{ prev = $1 }
	NR == 1 { iv = first }' "$T/sends" > "$T/gaps"
echo "gaps (n ms expected): $(tr '\n' ' ' < "$T/gaps")"
check_eq gap-count "$(wc -l < "$T/gaps")" $((tries - 1))

# in_range NAME VALUE LOW HIGH (awk arithmetic, reals allowed)
in_range() {
	if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v >= lo && v <= hi) }'; then
		pass "$1"
	else
		fail "$1" "$2 not in [$3, $4]"
	fi
}
prev= prev_want=0
while read -r n gap want; do
	if [ "$n" = 1 ]; then
		in_range "gap1-first-interval" "$gap" $((first * 85 / 100)) \
		    $((first * 135 / 100))
	elif [ "$want" -lt "$cap" ] || [ "$want" = $((2 * prev_want)) ]; then
		in_range "gap$n-doubles" \
		    "$(awk -v a="$gap" -v b="$prev" 'BEGIN { printf "%.3f", a / b }')" \
		    1.5 2.7
	fi
	if [ "$want" = "$cap" ]; then
		in_range "gap$n-capped" "$gap" $((cap * 85 / 100)) \
		    $((cap * 135 / 100))
	fi
	prev=$gap prev_want=$want
done < "$T/gaps"

check no-xact-left wait_until "$HOST_WAIT" xact_count_is alpha 0
relay_stop
stop_kinkd alpha
