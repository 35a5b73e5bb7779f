#!/bin/bash
# kinkctl log debug|info|warning changes what kinkd logs at run time, and
# log brief goes back to the level of the command line and the file.
# Each step is checked by a line the next command must (or must not)
# write: "flush: ..." is an info line, "control: uid ... show-stats" a
# debug one; both are written before kinkd answers.
. tests/lib/host.sh
host_init 465-log-level
host_realm alpha beta || exit 1
host_pair v4 || { fail start "daemons did not start"; exit 1; }

log=$T/alpha.log
n_info() { grep -c 'flush: ' "$log"; }
n_debug() { grep -c 'control: uid .*: show-stats' "$log"; }

# step LEVEL: set LEVEL, then one flush and one show stats; prints
# kinkctl's exit status and how many info and debug lines they added
# ("RC I D").
step() {
	local i d rc
	rc=$(ctl_rc alpha log "$1")
	i=$(n_info); d=$(n_debug)
	ctl alpha flush sa > /dev/null 2>&1
	ctl alpha show stats > /dev/null 2>&1
	echo "$rc $(( $(n_info) - i )) $(( $(n_debug) - d ))"
}

check_eq warning/quiet "$(step warning)" "0 0 0"
check_eq info/info-only "$(step info)" "0 1 0"
check_eq debug/both "$(step debug)" "0 1 1"
check_eq warning-again/quiet "$(step warning)" "0 0 0"
# the scenario runs kinkd with -v: brief brings debug lines back
check_eq brief/back "$(step brief)" "0 1 1"
check_eq verbose/both "$(step verbose)" "0 1 1"
check_eq bad-level/usage "$(ctl_rc alpha log loud)" 2
