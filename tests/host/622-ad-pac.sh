#!/bin/bash
# Tickets as an AD DC makes them: a PAC listing the client's groups, so
# the AP-REQ grows with group membership.  alpha is in eight groups (a
# typical server account), beta in about two thousand (kinkhub, nested in
# AD_BIG_GROUPS groups: an account whose token has outgrown UDP).  The
# link is set to a 1500-octet MTU (lo, in the tier's own namespace):
#  - alpha's CREATE no longer fits one IP packet; the kernel fragments it
#    and reassembles it at beta: the exchange completes, KEYMAT equal, and
#    the fragmentation counters show it happened.
#  - beta's CREATE would need an AP-REQ larger than a KINK message may be
#    (KINK_MAX_MSG, 16384): beta refuses to build it and says so in one
#    log line, kinkctl gets the reason, nothing is sent, both daemons stay
#    up and the SAs already established stay.
. tests/lib/host.sh
. tests/lib/host_ad.sh
host_init 622-ad-pac
mtu0=$(cat /sys/class/net/lo/mtu)
trap 'ip link set lo mtu "$mtu0" 2>/dev/null; host_cleanup' EXIT
host_ad_realm alpha beta || exit 1
fam=v4

snmp() {	# snmp FIELD: an Ip: counter of this namespace
	awk -v f="$1" '$1 == "Ip:" && !n { for (i = 2; i <= NF; i++) h[i] = $i; n = 1; next }
	    $1 == "Ip:" { for (i = 2; i <= NF; i++) if (h[i] == f) print $i }' \
	    /proc/net/snmp
}

# the baseline: alpha's CREATE with no group beyond Domain Computers
VIA=1 host_pair "$fam" || { fail start "daemons did not start"; exit 1; }
relay_start "$fam"
require base-create ctl alpha initiate beta
len0=$(awk '$3 == "a2b" && $4 == "CREATE" { sub(/len=/, "", $5); print $5; exit }' "$T/relay.log")
echo "# CREATE with alpha's PAC, no extra group: $len0 octets"
stop_kinkd alpha
stop_kinkd beta
kill "$(cat "$T/relay.pid")" 2>/dev/null
wait_until "$HOST_WAIT" test ! -e "$T/relay.pid"

require join-few ad_join_groups alpha kinkfew1 kinkfew2 kinkfew3 kinkfew4 \
    kinkfew5 kinkfew6 kinkfew7 kinkfew8
require join-hub ad_join_groups beta kinkhub
require mtu-1500 ip link set lo mtu 1500
rm -f "$T/alpha.ccache" "$T/beta.ccache"
frag0=$(snmp FragCreates)
reasm0=$(snmp ReasmOKs)
VIA=1 host_pair "$fam" || { fail start2 "daemons did not start"; exit 1; }
relay_start "$fam"
require few-create ctl alpha initiate beta
require few-beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
check few-keymat-equal sa_pair_ok alpha beta
len8=$(awk '$3 == "a2b" && $4 == "CREATE" { sub(/len=/, "", $5); print $5; exit }' "$T/relay.log")
echo "# CREATE with alpha in 8 more groups: $len8 octets"
# eight more group RIDs in the PAC's logon info, 8 octets each
check few-pac-grew test "$len8" -ge $((len0 + 64))
check few-needs-fragments test "$len8" -gt 1472
check few-fragmented test "$(snmp FragCreates)" -gt "$frag0"
check few-reassembled test "$(snmp ReasmOKs)" -gt "$reasm0"

# beta's ticket for alpha carries two thousand groups
ctl beta initiate alpha > "$T/big.out" 2>&1
check big-initiate-fails test $? -ne 0
echo "# kinkctl: $(head -c 300 "$T/big.out")"
check big-log-line grep -q "AP-REQ for kink/alpha.test@KINK.TEST is [0-9]* octets (ticket [0-9]*), more than a KINK message can carry (16384)" "$T/beta.log"
grep -m1 "AP-REQ for kink/alpha" "$T/beta.log" | sed "s/^/# /"
check_eq big-no-create-sent "$(relay_stat b2a CREATE seen)" 0
check big-alpha-alive daemon_alive alpha
check big-beta-alive daemon_alive beta
check_eq big-alpha-sas-kept "$(sa_count alpha)" 2
check_eq big-beta-sas-kept "$(sa_count beta)" 2
check big-keymat-still-equal sa_pair_ok alpha beta
