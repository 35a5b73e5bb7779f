#!/bin/bash
# Restart of one daemon: beta restarts (new EPOCH, no SAs, and with
# `on-shutdown keep` no DELETE on its way out); when alpha
# next sees a verified message from beta it notices the changed EPOCH
# ("peer-epoch" event) and removes every SA it had made with beta; a
# fresh CREATE then gives one new, agreeing pair.  Three triggers: beta
# initiating after its restart, alpha initiating towards beta (the
# REPLY's AP-REP carries the new EPOCH), and alpha's dead-peer STATUS
# after beta was killed outright.  v4 and v6.
. tests/lib/host.sh
host_init 060-restart
host_realm alpha beta || exit 1

for fam in v4 v6; do
	host_pair "$fam" || { fail "$fam/start" "daemons did not start"; continue; }
	# beta goes without telling alpha (no shutdown DELETE), as a crash
	# or a power cut would: alpha learns of it from the new EPOCH only
	sed -i 's/^set on-shutdown flush/set on-shutdown keep/' "$T/beta.conf"
	require "$fam/beta-keep" ctl beta reload

	# 1. beta restarts, then initiates
	require "$fam/initiate" ctl alpha initiate beta
	wait_until "$HOST_WAIT" sa_count_is beta 2
	stale=$(spis alpha)
	epoch0=$(jqctl alpha '(if type == "array" then . else (.peers // []) end)[] | select(.name == "beta") | .epoch' show peers)
	restart_kinkd beta "$T/beta.conf" || { fail "$fam/restart" "beta did not come back"; continue; }
	check_eq "$fam/beta-fresh" "$(sa_count beta)" 0
	check_eq "$fam/alpha-still-stale" "$(spis alpha)" "$stale"
	monitor_start alpha
	ctl beta initiate alpha > "$T/initiate.out" 2>&1
	check_eq "$fam/fresh-create-exit" $? 0
	check "$fam/peer-epoch-event" wait_event alpha 'peer-epoch'
	check "$fam/stale-sa-del-events" wait_until "$HOST_WAIT" \
	    is -ge 2 event_count alpha sa-del
	check "$fam/alpha-2-sas" wait_until "$HOST_WAIT" sa_count_is alpha 2
	check "$fam/beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
	now=$(spis alpha)
	for s in $stale; do
		case " $now " in
		*" $s "*) fail "$fam/stale-removed" "stale SPI $s still at alpha"; break ;;
		esac
	done
	[ -n "$now" ] && pass "$fam/stale-removed-checked"
	check "$fam/fresh-pairwise-equal" sa_pair_ok alpha beta
	epoch1=$(jqctl alpha '(if type == "array" then . else (.peers // []) end)[] | select(.name == "beta") | .epoch' show peers)
	check "$fam/epoch-changed" test -n "$epoch1" -a "$epoch1" != "$epoch0"
	monitor_stop alpha

	# 2. beta restarts again; this time alpha initiates
	stale=$(spis alpha)
	restart_kinkd beta "$T/beta.conf" || { fail "$fam/restart-2" "beta did not come back"; continue; }
	monitor_start alpha
	check "$fam/initiate-after-restart" ctl alpha initiate beta
	check "$fam/peer-epoch-event-2" wait_event alpha 'peer-epoch'
	check "$fam/alpha-2-sas-again" wait_until "$HOST_WAIT" sa_count_is alpha 2
	now=$(spis alpha)
	gone=1
	for s in $stale; do
		case " $now " in *" $s "*) gone=0 ;; esac
	done
	check_eq "$fam/stale-removed-2" "$gone" 1
	check "$fam/pairwise-equal-2" sa_pair_ok alpha beta
	monitor_stop alpha
	stop_kinkd alpha
	stop_kinkd beta

	# 3. beta dies without a word (SIGKILL: no DELETE, no flush); with a
	# short dead-peer interval alpha probes it, finds it silent
	# ("suspected"), and once beta is back the STATUS answer carries
	# the new EPOCH: alpha drops the stale SAs with no CREATE at all
	DEADPEER=1s host_pair "$fam" || { fail "$fam/start-3" "daemons did not start"; continue; }
	check "$fam/dpd-initiate" ctl alpha initiate beta
	wait_until "$HOST_WAIT" sa_count_is beta 2
	monitor_start alpha
	kill -KILL "$(cat "$T/beta.pid")"
	wait "$(cat "$T/beta.pid")" 2>/dev/null
	check "$fam/dpd-suspected" wait_event alpha peer-state suspected
	check_eq "$fam/dpd-sas-kept-while-unsure" "$(sa_count alpha)" 2
	start_kinkd beta "$T/beta.conf" || { fail "$fam/restart-3" "beta did not come back"; continue; }
	check "$fam/dpd-epoch-noticed" wait_event alpha peer-epoch
	check "$fam/dpd-stale-removed" wait_until "$HOST_WAIT" sa_count_is alpha 0
	check "$fam/dpd-alive-again" wait_event alpha peer-state alive
	check "$fam/dpd-fresh-create" ctl alpha initiate beta
	check "$fam/dpd-fresh-pairwise" sa_pair_ok alpha beta
	monitor_stop alpha
	stop_kinkd alpha
	stop_kinkd beta
done
