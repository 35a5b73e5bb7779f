#!/bin/bash
# Reconciliation with the null backend, whose "kernel" the test changes
# behind kinkd's back (inject "kernel-del SPI", "kernel-add SPI REQID SRC
# DST").  An SA the kernel lost: `kinkctl reconcile` reports it, logs one
# line, and the pair is renegotiated (new SPIs on both sides, the old pair
# gone at the peer too).  An SA in kinkd's reqid range that nobody owns:
# removed, one line.  With `set reconcile 1s` the same repair happens
# without kinkctl.  kinkctl reconcile is root-only like every change.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 230-reconcile
host_realm alpha beta || exit 1

sa_field() {	# sa_field NAME SPI FIELD
	jqctl "$1" ".sa[] | select(.spi == \"$2\") | .$3" show sa
}
mature_spis() {	# sorted SPIs of NAME's mature SAs
	jqctl "$1" '[.sa[] | select(.state == "mature") | .spi] | sort | join(" ")' show sa
}
no_common() {	# no_common "A B" "C D": no word in both
	local w
	for w in $1; do
		case " $2 " in *" $w "*) return 1 ;; esac
	done
	return 0
}
renewed() {	# renewed NAME OLD-SPIS: two mature SAs, none of the old
	local now
	now=$(mature_spis "$1")
	[ "$(echo "$now" | wc -w)" = 2 ] && no_common "$now" "$2"
}
stat_of() {	# stat_of FILE NAME: the value kinkctl -j printed
	jq -r ".stats.$2 // .$2 // empty" "$1" 2>/dev/null
}

EXTRA="set reconcile 0" host_pair v4 || { fail start "daemons did not start"; exit 1; }
reqid=$("$KINKD" -nv -f "$T/alpha.conf" | awk '/reqid/ {
    for (i = 1; i < NF; i++) if ($i == "reqid") { print $(i + 1); exit } }')
check reqid-known test -n "$reqid"
require create ctl alpha initiate beta
require beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
old_a=$(mature_spis alpha)
old_b=$(mature_spis beta)

# 1. the kernel loses alpha's outbound SA
out=$(jqctl alpha '.sa[] | select(.dir == "out") | .spi' show sa)
inject alpha "kernel-del $out"
check lost-missing wait_until "$HOST_WAIT" is = missing sa_field alpha "$out" state
ctlj alpha reconcile > "$T/rc1.json" 2> "$T/rc1.err"
check_eq lost-reconcile-exit $? 0
check_eq lost-reported "$(stat_of "$T/rc1.json" reconcile_lost)" 1
check_eq lost-no-orphan "$(stat_of "$T/rc1.json" reconcile_orphans)" 0
check_eq lost-one-line "$(log_count alpha "reconcile: peer beta policy host: SA out esp spi $out lost by the kernel; renegotiating")" 1
check lost-renegotiated-alpha wait_until "$HOST_WAIT" renewed alpha "$old_a"
check lost-renegotiated-beta wait_until "$HOST_WAIT" renewed beta "$old_b"
check lost-old-pair-gone-at-beta wait_until "$HOST_WAIT" sa_count_is beta 2
check lost-pairwise sa_pair_ok alpha beta

# 2. an SA of alpha's reqid that no record owns
inject alpha "kernel-add 0x1234 $reqid 127.0.0.1 127.0.0.2"
check orphan-listed wait_until "$HOST_WAIT" is = kernel-only sa_field alpha 0x00001234 state
ctl alpha reconcile > "$T/rc2.txt" 2>&1
check_eq orphan-reconcile-exit $? 0
check orphan-reported grep -q 'reconcile_orphans *1' "$T/rc2.txt"
check_eq orphan-one-line "$(log_count alpha 'reconcile: SA esp spi 0x00001234 (reqid '"$reqid"') is kinkd.s but has no owner; removed')" 1
check orphan-removed wait_until "$HOST_WAIT" sa_count_is alpha 2
check_eq orphan-beta-untouched "$(sa_count beta)" 2

# 3. root only
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chmod 0666 "$(sock_of alpha)"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$KINKCTL" -s "$(sock_of alpha)" reconcile > "$T/rc3.out" 2>&1
	check_eq nonroot-refused $? 1
fi

# 4. periodic: `set reconcile 1s`, no kinkctl
sed -i 's/^set reconcile 0$/set reconcile 1s/' "$T/alpha.conf"
require periodic-reload ctl alpha reload
old_a=$(mature_spis alpha)
old_b=$(mature_spis beta)
out=$(jqctl alpha '.sa[] | select(.dir == "out") | .spi' show sa)
inject alpha "kernel-del $out"
check periodic-renegotiated-alpha wait_until "$HOST_WAIT" renewed alpha "$old_a"
check periodic-renegotiated-beta wait_until "$HOST_WAIT" renewed beta "$old_b"
check_eq periodic-one-line "$(log_count alpha "SA out esp spi $out lost by the kernel")" 1
