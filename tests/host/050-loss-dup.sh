#!/bin/bash
# Loss and duplication through udprelay: drop the first CREATE, the first
# REPLY, the first ACK; duplicate each.  Every transaction completes once
# (one "xact-done" on each side, initiate exits 0) and nothing is
# installed twice (each side ends with exactly the two SAs of one
# negotiation, the responder reports two "sa-add" events, not four, and
# the initiator's events name two SPIs).
# The ACK cases use a non-optimistic setup (beta accepts only alpha's
# second transform), so that an ACK exists.  v4 for every case, v6 for
# the drop cases.  Last, total loss: the initiator gives up after the
# configured number of sends and leaves nothing behind.
# Short timers here (the tier's default resends only after 2 s): each
# case waits for at least one resend, and total loss for a whole cycle,
# 0.2+0.4+0.8+1+1 = 3.4 s, long enough that a slow, loaded machine still
# completes an exchange within it.  Extra resends on such a machine are
# harmless: the checks count completions, SAs and distinct SPIs, and the
# relay's counts only as "at least".
HOST_RETRANS="200ms max 1s tries 5"
. tests/lib/host.sh
host_init 050-loss-dup
host_realm alpha beta || exit 1

OPT="esp enc aes-128-cbc auth hmac-sha1"
NONOPT_A="esp enc aes-256-cbc auth hmac-sha2-256, esp enc aes-128-cbc auth hmac-sha1"

setup() {	# setup FAMILY opt|nonopt
	stop_kinkd alpha
	stop_kinkd beta
	if [ "$2" = opt ]; then
		XFORMS=$OPT VIA=1 write_conf alpha "$1"
	else
		XFORMS=$NONOPT_A VIA=1 write_conf alpha "$1"
	fi
	XFORMS=$OPT VIA=1 write_conf beta "$1"
	start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf"
}

# run_case NAME RULE EXPECT [STAT]: EXPECT is "DIR TYPE MIN" - the relay
# must have seen at least MIN datagrams of that kind (proof the impairment
# bit and was recovered from) before the final counts are taken.  STAT is
# "NAME COUNTER": that counter of that daemon must have gone up (e.g. the
# responder answered a retransmitted CREATE from its reply cache).
run_case() {
	local c=$1 rule=$2 edir etype emin sname scounter s0=0
	read -r edir etype emin <<< "$3"
	read -r sname scounter <<< "${4:-}"
	[ -n "$sname" ] && s0=$(stat_get "$sname" "$scounter")
	relay_stop
	relay_start "$fam" "$rule"
	monitor_start alpha
	monitor_start beta
	ctl alpha initiate beta > "$T/initiate.out" 2>&1
	check_eq "$c/initiate-exit" $? 0
	require "$c/alpha-2-sas" wait_until "$HOST_WAIT" sa_count_is alpha 2
	check "$c/beta-2-sas" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$c/recovered-$edir-$etype" wait_until "$HOST_WAIT" \
	    is -ge "$emin" relay_stat "$edir" "$etype" seen
	check "$c/impairment-applied" grep -q -E ' (drop|dup=1)$' "$T/relay.log"
	if [ -n "$sname" ]; then
		check "$c/$sname-$scounter" wait_until "$HOST_WAIT" is -gt "$s0" stat_get "$sname" "$scounter"
	fi
	# settle: both transactions are gone (reply cache aside, the
	# initiator has nothing left)
	check "$c/alpha-xact-gone" wait_until "$HOST_WAIT" xact_count_is alpha 0
	check_eq "$c/alpha-still-2" "$(sa_count alpha)" 2
	check_eq "$c/beta-still-2" "$(sa_count beta)" 2
	check "$c/pairwise-equal" sa_pair_ok alpha beta
	# the monitors (separate kinkctl processes) may write an event a
	# moment after the state it reports is visible: wait for the counts,
	# which must then be exact
	check "$c/alpha-xact-done-once" wait_until "$HOST_WAIT" \
	    is = 1 event_count alpha 'xact-done'
	# the responder too: a duplicated ACK is not a second completion
	check "$c/beta-xact-done-once" wait_until "$HOST_WAIT" \
	    is = 1 event_count beta 'xact-done'
	check "$c/beta-sa-add-events" wait_until "$HOST_WAIT" \
	    is = 2 event_count beta 'sa-add'
	# the initiator of a non-optimistic CREATE installs its inbound SA
	# before sending and replaces its keys on the REPLY: distinct SPIs
	check "$c/alpha-sa-add-spis" wait_until "$HOST_WAIT" \
	    is = 2 sa_add_spis alpha
	check_eq "$c/no-xact-fail" "$(event_count alpha 'xact-fail')$(event_count beta 'xact-fail')" 00
	monitor_stop alpha
	monitor_stop beta
	ctl alpha flush sa >/dev/null 2>&1
	wait_until "$HOST_WAIT" sa_count_is alpha 0
	wait_until "$HOST_WAIT" sa_count_is beta 0
}

for fam in v4 v6; do
	setup "$fam" opt || { fail "$fam/start" "daemons did not start"; continue; }
	run_case "$fam/drop-create" "drop a2b CREATE 1" "a2b CREATE 2" "alpha retransmits"
	run_case "$fam/drop-reply" "drop b2a REPLY 1" "a2b CREATE 2" \
	    "beta dup_replied_from_cache"
	if [ "$fam" = v4 ]; then
		run_case "$fam/dup-create" "dup a2b CREATE 1" "b2a REPLY 2"
		run_case "$fam/dup-reply" "dup b2a REPLY 1" "b2a REPLY 1"
	fi
	setup "$fam" nonopt || { fail "$fam/start-nonopt" "daemons did not start"; continue; }
	run_case "$fam/drop-ack" "drop a2b ACK 1" "a2b ACK 2" "beta retransmits"
	if [ "$fam" = v4 ]; then
		run_case "$fam/dup-ack" "dup a2b ACK 1" "a2b ACK 1"
		run_case "$fam/nonopt-drop-reply" "drop b2a REPLY 1" "b2a REPLY 2"
	fi
	# total loss: the retransmission gives up after "tries" sends (5 in
	# host.sh's config), initiate says so (exit 1), nothing is left
	# behind (not even the inbound SA installed before the CREATE left)
	if [ "$fam" = v4 ]; then
		relay_stop
		relay_start "$fam" "drop a2b CREATE all"
		g0=$(stat_get alpha giveups)
		ctl alpha initiate beta > "$T/giveup.out" 2> "$T/giveup.err"
		check_eq "$fam/giveup-exit" $? 1
		check "$fam/giveup-says-why" test -s "$T/giveup.err"
		check_eq "$fam/giveup-five-sends" "$(relay_stat a2b CREATE seen)" 5
		check "$fam/giveup-counted" wait_until "$HOST_WAIT" is -gt "$g0" stat_get alpha giveups
		check "$fam/giveup-no-sa-alpha" wait_until "$HOST_WAIT" sa_count_is alpha 0
		check_eq "$fam/giveup-no-sa-beta" "$(sa_count beta)" 0
		check "$fam/giveup-no-xact" wait_until "$HOST_WAIT" xact_count_is alpha 0
		# and the path works again once the loss stops
		relay_rules
		check "$fam/after-giveup-create" ctl alpha initiate beta
		check "$fam/after-giveup-pairwise" sa_pair_ok alpha beta
	fi
	relay_stop
	stop_kinkd alpha
	stop_kinkd beta
done
