#!/bin/bash
# AP-REQ verification on worker threads (set krb-workers 2, v4, through
# the relay).  beta says how many workers it runs (log, kinkd -nv,
# kinkctl show self, text and JSON); CREATEs one at a time are verified
# on the loop (no worker hand-off with nothing to overlap); 12 CREATEs
# queued in beta's socket at once (its engine stopped meanwhile) are all
# verified on the workers and all complete; a CREATE sent three extra
# times by the network makes one transaction and is refused as a replay
# for every copy; the captured CREATE replayed
# later is refused too; a key rotation reaches the workers (a ticket
# under the new kvno verifies on them); a reload asking for another
# number says it needs a restart and keeps the running one.
. tests/lib/host.sh
host_init 540-krb-workers
host_realm alpha beta || exit 1

EXTRA="set krb-workers 2" VIA=1 host_pair v4 ||
    { fail start "daemons did not start"; exit 1; }
check logged is -eq 1 log_count beta 'krb: 2 AP-REQ verification workers'
check_eq nv "$("$KINKD" -nv -f "$T/beta.conf" 2>/dev/null |
    grep '^set krb-workers')" "set krb-workers 2"
ctl beta show self > "$T/self.out" 2>&1
check self-text grep -q -x 'krb_workers *2' "$T/self.out"
check_eq self-json "$(jqctl beta '.self.krb_workers | type' show self)/$(
    jqctl beta .self.krb_workers show self)" number/2

# one CREATE at a time: nothing to overlap, no worker involved
relay_start v4
require lone-create-1 ctl alpha initiate beta
check lone-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
require lone-create-2 ctl alpha initiate beta
check lone-4-sas wait_until "$HOST_WAIT" sa_count_is beta 4
check_eq lone-on-loop "$(stat_get beta krb_worker_verified)" 0

# the next CREATE three more times on the wire: one is accepted, the
# others are replays, wherever each copy is verified
relay_rules "save=$T/c1.bin a2b CREATE 1" "dup=3 a2b CREATE 1"
st0=$(stat_get beta xact_started)
require dup-create ctl alpha initiate beta
check beta-6-sas wait_until "$HOST_WAIT" sa_count_is beta 6
check dup-refused wait_until "$HOST_WAIT" is -eq 3 stat_get beta drop_krb
check_eq dup-one-xact "$(stat_get beta xact_started)" $((st0 + 1))
check dup-logged wait_until "$HOST_WAIT" is -eq 3 \
    log_count beta 'AP-REQ: Request is a replay'

# burst TAG N: N CREATEs in flight at once, all in beta's socket before
# it reads any (its engine stopped until the relay has passed them on):
# its first receive batch holds several commands, so they go to the
# workers, and the rest follow while those are still there.
burst() {
	local f0 bpid p i bad=0 pids=
	f0=$(relay_stat a2b CREATE fwd)
	bpid=$(engine_pid beta)
	kill -STOP "$bpid"
	for i in $(seq "$2"); do
		ctl alpha initiate beta > "$T/ini.$1.$i" 2>&1 &
		pids="$pids $!"
	done
	HOST_BG="$HOST_BG $pids"
	check "$1/queued" wait_until "$HOST_WAIT" is -ge $((f0 + $2)) \
	    relay_stat a2b CREATE fwd
	kill -CONT "$bpid"
	for p in $pids; do
		wait "$p" || bad=$((bad + 1))
	done
	check_eq "$1/all-ok" "$bad" 0
}

w0=$(stat_get beta krb_worker_verified)
burst inflight 12
check inflight-sas wait_until "$HOST_WAIT" sa_count_is beta 30
check_eq inflight-alpha "$(sa_count alpha)" 30
check_eq no-busy-drop "$(stat_get beta drop_krb_busy)" 0
check on-workers is -ge $((w0 + 12)) stat_get beta krb_worker_verified

# the captured CREATE, replayed
BETA=$(hostport "$(addr_of v4 beta)" "$HOST_PORT")
LIKE_ALPHA=$(hostport "$(addr_of v4 rbeta)" 0)
"$KINKCRAFT" replay -t "$BETA" -b "$LIKE_ALPHA" -f "$T/c1.bin" \
    -w 1000 > "$T/replay.out" 2>&1
check_eq replay/kinkcraft-ran $? 0
check replay/refused wait_until "$HOST_WAIT" is -eq 4 stat_get beta drop_krb
check_eq replay/no-sa "$(sa_count beta)" 30

# rotation: tickets under the new kvno, verified by the workers
require rotate realm_kadmin "ktadd -k $T/beta.keytab kink/beta.test@$HOST_REALM"
check reread wait_until "$HOST_WAIT" is -ge 1 \
    log_count beta "keytab .*beta.keytab re-read"
restart_kinkd alpha "$T/alpha.conf" || { fail restart-alpha "alpha did not come back"; exit 1; }
w0=$(stat_get beta krb_worker_verified)
burst create-new-key 3
check rotate/on-workers is -ge $((w0 + 3)) stat_get beta krb_worker_verified
check_eq rotate/no-krb-drop "$(stat_get beta drop_krb)" 4
check rotate/new-sas wait_until "$HOST_WAIT" sa_count_is alpha 6

# another number on reload: refused, the workers stay
sed -i 's/^set krb-workers 2$/set krb-workers 3/' "$T/beta.conf"
require reload ctl beta reload
check reload/says-restart is -eq 1 \
    log_count beta 'set krb-workers changed (2 -> 3); it needs a restart'
check_eq reload/kept "$(jqctl beta .self.krb_workers show self)" 2
# out of range
sed -i 's/^set krb-workers 3$/set krb-workers 65/' "$T/beta.conf"
"$KINKD" -n -f "$T/beta.conf" > "$T/n.out" 2>&1
check_eq range/rejected $? 1
check range/why grep -q 'krb-workers' "$T/n.out"
# auto (the default): one per online CPU, at most 8, none on one CPU
sed -i 's/^set krb-workers 65$/set krb-workers auto/' "$T/beta.conf"
n=$(nproc)
[ "$n" -gt 8 ] && n=8
[ "$n" -le 1 ] && n=0
check_eq auto/nv "$("$KINKD" -nv -f "$T/beta.conf" 2>/dev/null |
    grep '^set krb-workers')" "set krb-workers $n"
stop_kinkd alpha
stop_kinkd beta
